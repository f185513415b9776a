/* libFuzzer harness: the tf.train.Example parser (ParseExample,
 * ParseSingleExample) and the TensorProto one (ParseTensor), the two
 * protobuf wire parsers an input pipeline runs on its records' bytes.
 * Input: `[mode][bytes]`. With bit 7 of mode clear, the bytes are cut into
 * 1-4 records of equal length (bits 0-1: how many) and parsed against
 * seven features, FixedLen float [2], int64 [] and bytes [] with defaults
 * and VarLen float, int64 and bytes, plus a required FixedLen int64 []
 * when bit 2 is set; bit 3 picks ParseSingleExample of the first record
 * instead. With bit 7 set, ParseTensor reads the bytes as one TensorProto
 * of the dtype bits 0-1 pick (float, int64, string, int32). Parsed outputs
 * must have the shapes the op promises and sparse indices inside their
 * dense shape; a failure must say why. TensorProtos declaring more than
 * 2^22 elements are skipped (their shape read here): a few bytes may
 * declare a 2^30-element tensor, which ParseTensor accepts as
 * TensorFlow's does, but which would only measure memset speed under the
 * sanitizers. Run:
 * build-fuzz/fuzz/fuzz_example CORPUS_DIR (see docs/FUZZING.md). */
#include "tfc.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { NFEATURES = 7, MAX_OUTPUTS = 3 * NFEATURES + 1, NMODES = 32 };

typedef struct parser {
    tfc_graph *g;
    tfc_session *s;
    tfc_output in, out[MAX_OUTPUTS];
    int nout, nfeatures, single, records;
} parser;

static parser parsers[NMODES];

static const tfc_dtype tensor_types[4] = {TFC_FLOAT, TFC_INT64, TFC_STRING, TFC_INT32};

static void build_failed(const parser *p, tfc_status *st, int mode) {
    fprintf(stderr, "fuzz_example: cannot build mode %d: %s\n", mode,
            tfc_graph_error(p->g) ? tfc_graph_error(p->g) : tfc_status_message(st));
    abort();
}

/* The graph and session for one mode (bits 0-3 and 7), made on first use. */
static parser *parser_for(uint8_t mode) {
    int slot = mode & 128 ? 16 + (mode & 3) : mode & 15;
    parser *p = &parsers[slot];
    if (p->s) return p;
    tfc_graph *g = p->g = tfc_graph_new();
    if (mode & 128) {
        p->in = tfc_placeholder(g, "serialized", TFC_STRING, 0, NULL);
        p->out[0] = tfc_parse_tensor(g, p->in, tensor_types[mode & 3]);
        p->nout = 1;
    } else {
        p->single = (mode & 8) != 0;
        p->records = p->single ? 1 : 1 + (mode & 3);
        int64_t b = p->records, two = 2;
        p->in = p->single ? tfc_placeholder(g, "serialized", TFC_STRING, 0, NULL)
                          : tfc_placeholder(g, "serialized", TFC_STRING, 1, &b);
        static const float fdef[2] = {0.5f, 1.5f};
        tfc_parse_feature f[NFEATURES] = {
            {"f", TFC_FLOAT, 0, 1, &two, tfc_const_data(g, TFC_FLOAT, 1, &two, fdef)},
            {"i", TFC_INT64, 0, 0, NULL, tfc_const_int64(g, 7)},
            {"s", TFC_STRING, 0, 0, NULL, tfc_const_string(g, "x")},
            {"vf", TFC_FLOAT, 1, 0, NULL, {NULL, 0}},
            {"vi", TFC_INT64, 1, 0, NULL, {NULL, 0}},
            {"vs", TFC_STRING, 1, 0, NULL, {NULL, 0}},
            {"req", TFC_INT64, 0, 0, NULL, {NULL, 0}},
        };
        p->nfeatures = mode & 4 ? NFEATURES : NFEATURES - 1;
        if (p->single)
            tfc_parse_single_example(g, p->in, f, p->nfeatures, p->out);
        else
            tfc_parse_example(g, p->in, f, p->nfeatures, p->out);
        p->nout = 3 + 3 * 3 + (p->nfeatures == NFEATURES);
    }
    tfc_status *st = tfc_status_new();
    tfc_session_options o = {0};
    o.inter_op_threads = 1;
    o.intra_op_threads = 1;
    if (tfc_graph_error(g) || !(p->s = tfc_session_new(g, &o, st))) build_failed(p, st, mode);
    tfc_status_free(st);
    return p;
}

static void finding(const char *what, int mode) {
    fprintf(stderr, "fuzz_example: mode %d: %s\n", mode, what);
    abort();
}

/* Reads every byte of t (ASan checks each touch), strings included. */
static void touch(const tfc_tensor *t) {
    volatile uint8_t sum = 0;
    if (tfc_tensor_dtype(t) == TFC_STRING) {
        int64_t n = tfc_tensor_num_elements(t);
        for (int64_t i = 0; i < n; i++) {
            size_t len = 0;
            const char *s = tfc_string_tensor_get(t, i, &len);
            if (len) sum ^= (uint8_t)(s[0] ^ s[len - 1]);
        }
    } else {
        const uint8_t *p = tfc_tensor_data(t);
        size_t n = tfc_tensor_nbytes(t);
        for (size_t i = 0; i < n; i += 7) sum ^= p[i];
    }
    (void)sum;
}

/* Shapes the op promises: dense [B] + dims (no [B] for a single record);
 * sparse indices [n, rank], values [n], dense_shape [rank], each index
 * row inside dense_shape. */
static void check_parsed(const parser *p, tfc_tensor **out, int mode) {
    int lead = !p->single, k = 0;
    static const int dense_rank[3] = {1, 0, 0};
    for (int d = 0; d < 3; d++, k++) {
        const tfc_tensor *t = out[k];
        if (tfc_tensor_rank(t) != lead + dense_rank[d] ||
            (lead && tfc_tensor_dim(t, 0) != p->records) ||
            (d == 0 && tfc_tensor_dim(t, lead) != 2))
            finding("a dense output of the wrong shape", mode);
    }
    for (int v = 0; v < 3; v++, k += 3) {
        const tfc_tensor *ind = out[k], *val = out[k + 1], *shape = out[k + 2];
        int rank = lead + 1;
        if (tfc_tensor_rank(ind) != 2 || tfc_tensor_dim(ind, 1) != rank ||
            tfc_tensor_rank(val) != 1 || tfc_tensor_dim(val, 0) != tfc_tensor_dim(ind, 0) ||
            tfc_tensor_rank(shape) != 1 || tfc_tensor_dim(shape, 0) != rank)
            finding("a sparse output of the wrong shape", mode);
        const int64_t *ix = tfc_tensor_data(ind), *dims = tfc_tensor_data(shape);
        if (lead && dims[0] != p->records)
            finding("a sparse dense_shape[0] is not the batch", mode);
        for (int64_t r = 0; r < tfc_tensor_dim(ind, 0); r++)
            for (int c = 0; c < rank; c++)
                if (ix[r * rank + c] < 0 || ix[r * rank + c] >= dims[c])
                    finding("a sparse index outside its dense shape", mode);
    }
    if (p->nfeatures == NFEATURES && tfc_tensor_rank(out[k]) != lead)
        finding("the required feature has the wrong shape", mode);
}

/* One protobuf field of [*p, end): its number, wire type, and its varint
 * value or its bytes [*sub, *sub_end); 0 at the end or on bad wire data. */
static int next_field(const uint8_t **p, const uint8_t *end, uint64_t *field, int *type,
                      uint64_t *value, const uint8_t **sub, const uint8_t **sub_end) {
    uint64_t v[2] = {0, 0}; /* the key, then a varint or a length */
    for (int k = 0; k < 2; k++) {
        int shift = 0, more = 1;
        while (more) {
            if (*p >= end || shift > 63) return 0;
            more = **p & 128;
            v[k] |= (uint64_t)(*(*p)++ & 127) << shift;
            shift += 7;
        }
        if (k == 0) {
            *field = v[0] >> 3;
            *type = (int)(v[0] & 7);
            if (*type == 1 || *type == 5) {
                size_t skip = *type == 1 ? 8 : 4;
                if ((size_t)(end - *p) < skip) return 0;
                *p += skip;
                return 1;
            }
            if (*type != 0 && *type != 2) return 0;
        }
    }
    *value = v[1];
    if (*type == 2) {
        if (v[1] > (uint64_t)(end - *p)) return 0;
        *sub = *p;
        *sub_end = *p += v[1];
    }
    return 1;
}

/* The elements a TensorProto declares: the product of every dim's size in
 * every tensor_shape (protobuf merges repeated messages), saturated at
 * 2^40. Fields: TensorProto.tensor_shape 2, TensorShapeProto.dim 2,
 * Dim.size 1. */
static uint64_t declared_elements(const uint8_t *p, size_t n) {
    const uint8_t *end = p + n, *s, *s_end, *d, *d_end, *x, *x_end;
    uint64_t elements = 1, field, value;
    int type;
    while (next_field(&p, end, &field, &type, &value, &s, &s_end)) {
        if (field != 2 || type != 2) continue;
        while (next_field(&s, s_end, &field, &type, &value, &d, &d_end)) {
            if (field != 2 || type != 2) continue;
            while (next_field(&d, d_end, &field, &type, &value, &x, &x_end))
                if (field == 1 && type == 0)
                    elements = value >= (1ull << 40) || elements * value >= (1ull << 40)
                                   ? 1ull << 40
                                   : elements * value;
        }
    }
    return elements;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    if (data[0] & 128 && declared_elements(data + 1, size - 1) > (1u << 22)) return 0;
    uint8_t mode = data[0];
    parser *p = parser_for(mode);
    const char *bytes = (const char *)data + 1;
    size_t n = size - 1;
    tfc_tensor *in;
    if (mode & 128 || p->single) {
        in = tfc_tensor_scalar_string(bytes, n);
    } else {
        int64_t b = p->records;
        in = tfc_tensor_new(TFC_STRING, 1, &b);
        size_t each = n / (size_t)b;
        for (int64_t r = 0; r < b; r++) {
            size_t len = r == b - 1 ? n - each * (size_t)r : each;
            if (tfc_string_tensor_set(in, r, bytes + each * (size_t)r, len)) finding("oom", mode);
        }
    }
    tfc_status *st = tfc_status_new();
    tfc_tensor *out[MAX_OUTPUTS] = {NULL};
    tfc_session_run(p->s, &p->in, &in, 1, p->out, p->nout, out, NULL, 0, st);
    if (tfc_status_code(st) != TFC_OK) {
        if (!tfc_status_message(st) || !tfc_status_message(st)[0])
            finding("an error with an empty message", mode);
    } else {
        for (int i = 0; i < p->nout; i++) {
            if (!out[i]) finding("a missing output", mode);
            touch(out[i]);
        }
        if (mode & 128) {
            if (tfc_tensor_dtype(out[0]) != tensor_types[mode & 3])
                finding("ParseTensor gave another dtype", mode);
        } else {
            check_parsed(p, out, mode);
        }
    }
    for (int i = 0; i < p->nout; i++) tfc_tensor_free(out[i]);
    tfc_tensor_free(in);
    tfc_status_free(st);
    return 0;
}
