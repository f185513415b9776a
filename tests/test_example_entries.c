/* The map entries of tf.train.Example's Features as ParseExample reads them
 * (src/data/example_wire.c, entry_fields): the usual layout (the key, then
 * the value running to the entry's end) is read without the field loop,
 * any other through it. Random records whose entries are written in every
 * layout protobuf allows -- value first, the key or the value twice (the
 * last wins), unknown fields before, between and after them, the key or
 * the value missing, lengths as overlong varints, keys of 127, 128 and 300
 * bytes -- must parse to the values the writer put there (known here by
 * construction), and entries cut short or with a key of the wrong wire
 * type must fail naming the record. */
#include "harness.h"

#include "formats/pb.h"

#include <stdlib.h>
#include <string.h>

static uint64_t rng = 0x853c49e6748fea9bull;
static uint32_t next_u32(void) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 16);
}

static void put_tag(tfc_buf *b, int field, int wt) {
    pb_put_varint(b, (uint64_t)field << 3 | (uint64_t)wt);
}

/* a length as a varint of `extra` more bytes than it needs (protobuf
 * readers take overlong varints) */
static void put_len_varint(tfc_buf *b, size_t n, int extra) {
    if (!extra) {
        pb_put_varint(b, n);
        return;
    }
    uint8_t v[16];
    int k = 0;
    do {
        v[k++] = (uint8_t)(n & 0x7F) | 0x80;
        n >>= 7;
    } while (n);
    for (int e = 0; e < extra; e++) v[k++] = 0x80;
    v[k - 1] &= 0x7F;
    tfc_buf_append(b, v, (size_t)k);
}

static void put_len(tfc_buf *b, int field, const void *p, size_t n, int extra) {
    put_tag(b, field, 2);
    put_len_varint(b, n, extra);
    tfc_buf_append(b, p, n);
}

/* an unknown field of a random wire type */
static void put_unknown(tfc_buf *b) {
    int field = 3 + (int)(next_u32() % 20);
    switch (next_u32() % 4) {
    case 0:
        put_tag(b, field, 0);
        pb_put_varint(b, next_u32());
        break;
    case 1:
        put_tag(b, field, 1);
        for (int i = 0; i < 8; i++) tfc_buf_append(b, "x", 1);
        break;
    case 2: put_len(b, field, "junk", 4, 0); break;
    default:
        put_tag(b, field, 5);
        tfc_buf_append(b, "abcd", 4);
        break;
    }
}

/* Appends to feats the entry key -> feature in layout `how`. */
static void entry(tfc_buf *feats, const char *key, size_t keylen, const tfc_buf *feature, int how) {
    tfc_buf e = {0};
    int extra = how == 5 ? 1 + (int)(next_u32() % 3) : 0;
    switch (how) {
    case 0: /* the usual: key, value */
    case 5: /* the usual, lengths overlong */
        put_len(&e, 1, key, keylen, extra);
        put_len(&e, 2, feature->p, feature->n, extra);
        break;
    case 1: /* value first */
        put_len(&e, 2, feature->p, feature->n, 0);
        put_len(&e, 1, key, keylen, 0);
        break;
    case 2: /* a wrong key and a wrong value first: the last of each wins */
        put_len(&e, 1, "zz", 2, 0);
        put_len(&e, 2, "\x0a\x00", 2, 0);
        put_len(&e, 1, key, keylen, 0);
        put_len(&e, 2, feature->p, feature->n, 0);
        break;
    case 3: /* unknown fields around and between */
        put_unknown(&e);
        put_len(&e, 1, key, keylen, 0);
        put_unknown(&e);
        put_len(&e, 2, feature->p, feature->n, 0);
        put_unknown(&e);
        break;
    default: /* key, value, then an unknown field */
        put_len(&e, 1, key, keylen, 0);
        put_len(&e, 2, feature->p, feature->n, 0);
        put_unknown(&e);
        break;
    }
    put_len(feats, 1, e.p, e.n, 0);
    tfc_buf_free(&e);
}

enum { NREC = 40, NF = 3 };

/* the features "f" (3 floats), "i" (an int64) and a key of varying length
 * (a string), each record's values random */
typedef struct record_values {
    float f[3];
    int64_t i;
    char s[12];
    int has_s; /* absent: the default "none" */
} record_values;

static void feature_floats(tfc_buf *ft, const float *v) {
    tfc_buf l = {0};
    put_len(&l, 1, v, 12, 0);
    put_len(ft, 2, l.p, l.n, 0);
    tfc_buf_free(&l);
}

static void feature_int64(tfc_buf *ft, int64_t v) {
    tfc_buf l = {0};
    put_tag(&l, 1, 0);
    pb_put_varint(&l, (uint64_t)v);
    put_len(ft, 3, l.p, l.n, 0);
    tfc_buf_free(&l);
}

static void feature_bytes(tfc_buf *ft, const char *s) {
    tfc_buf l = {0};
    put_len(&l, 1, s, strlen(s), 0);
    put_len(ft, 1, l.p, l.n, 0);
    tfc_buf_free(&l);
}

/* Parses the records; out: f [n, 3], i [n], s [n] (or NULL, *st set) */
static int parse(tfc_buf *recs, int n, const char *skey, tfc_tensor *out[3], tfc_status *st) {
    tfc_graph *g = tfc_graph_new();
    tfc_string views[NREC];
    for (int k = 0; k < n; k++) views[k] = (tfc_string){(const char *)recs[k].p, recs[k].n};
    int64_t nn = n;
    tfc_tensor *rt = tfc_tensor_from_data(TFC_STRING, 1, &nn, views);
    tfc_output ser = tfc_placeholder(g, "ser", TFC_STRING, 1, &nn);
    static const int64_t three = 3;
    tfc_parse_feature f[NF] = {{"f", TFC_FLOAT, 0, 1, &three, {NULL, 0}},
                               {"i", TFC_INT64, 0, 0, NULL, {NULL, 0}},
                               {skey, TFC_STRING, 0, 0, NULL, tfc_const_string(g, "none")}};
    tfc_output o[NF];
    tfc_parse_example(g, ser, f, NF, o);
    CHECK_GRAPH_OK(g);
    tfc_session *s = tfc_session_new(g, NULL, st);
    for (int k = 0; k < NF; k++) out[k] = NULL;
    tfc_session_run(s, &ser, &rt, 1, o, NF, out, NULL, 0, st);
    tfc_session_free(s);
    tfc_tensor_free(rt);
    tfc_graph_free(g);
    return tfc_status_code(st) == TFC_OK ? 0 : -1;
}

static void check_layouts(size_t skeylen) {
    char *skey = malloc(skeylen + 1);
    for (size_t k = 0; k < skeylen; k++) skey[k] = (char)('a' + k % 26);
    skey[skeylen] = 0;
    tfc_buf recs[NREC], feats0 = {0};
    record_values want[NREC];
    for (int r = 0; r < NREC; r++) {
        record_values *w = &want[r];
        for (int k = 0; k < 3; k++) w->f[k] = (float)(next_u32() % 1000) - 500;
        w->i = (int64_t)next_u32() - 2000000000LL;
        snprintf(w->s, sizeof w->s, "v%u", next_u32() % 100000);
        w->has_s = next_u32() % 4 != 0;
        tfc_buf feats = {0}, ft = {0};
        /* each entry in its own layout; an entry nobody asked for too */
        feature_floats(&ft, w->f);
        entry(&feats, "f", 1, &ft, (int)(next_u32() % 6));
        ft.n = 0;
        feature_bytes(&ft, "unrequested");
        entry(&feats, "other", 5, &ft, (int)(next_u32() % 6));
        ft.n = 0;
        feature_int64(&ft, w->i);
        entry(&feats, "i", 1, &ft, (int)(next_u32() % 6));
        if (w->has_s) {
            ft.n = 0;
            feature_bytes(&ft, w->s);
            entry(&feats, skey, skeylen, &ft, (int)(next_u32() % 6));
        }
        recs[r] = (tfc_buf){0};
        put_len(&recs[r], 1, feats.p, feats.n, 0);
        if (r == 0) tfc_buf_append(&feats0, feats.p, feats.n);
        tfc_buf_free(&feats);
        tfc_buf_free(&ft);
    }
    tfc_status *st = tfc_status_new();
    tfc_tensor *out[NF];
    CHECK(parse(recs, NREC, skey, out, st) == 0);
    CHECK_STATUS_OK(st);
    for (int r = 0; out[0] && out[1] && out[2] && r < NREC; r++) {
        const float *f = (const float *)tfc_tensor_data(out[0]) + 3 * r;
        CHECK_MSG(!memcmp(f, want[r].f, 12), "key of %zu, record %d: f %g %g %g", skeylen, r, f[0],
                  f[1], f[2]);
        CHECK_MSG(((const int64_t *)tfc_tensor_data(out[1]))[r] == want[r].i,
                  "key of %zu, record %d: i", skeylen, r);
        size_t n;
        const char *s = tfc_string_tensor_get(out[2], r, &n);
        const char *ws = want[r].has_s ? want[r].s : "none";
        CHECK_MSG(n == strlen(ws) && !memcmp(s, ws, n),
                  "key of %zu, record %d: s '%.*s', want '%s'", skeylen, r, (int)n, s, ws);
    }
    for (int k = 0; k < NF; k++) tfc_tensor_free(out[k]);
    /* cut short anywhere inside the last entry: an error naming the record
     * (or, cut at an entry's end, fewer features) -- never a crash */
    tfc_buf bad = {0};
    for (size_t cut = 1; cut < 24 && cut < feats0.n; cut++) {
        bad.n = 0;
        put_len(&bad, 1, feats0.p, feats0.n - cut, 0); /* the Features, cut */
        if (parse(&bad, 1, skey, out, st) != 0) {
            CHECK(tfc_status_code(st) == TFC_INVALID_ARGUMENT);
            CHECK_CONTAINS(tfc_status_message(st), "(record 0)");
        }
        for (int k = 0; k < NF; k++) tfc_tensor_free(out[k]);
    }
    tfc_buf_free(&bad);
    tfc_buf_free(&feats0);
    for (int r = 0; r < NREC; r++) tfc_buf_free(&recs[r]);
    tfc_status_free(st);
    free(skey);
}

static void test_entry_layouts(void) {
    static const size_t keylens[] = {1, 2, 7, 126, 127, 128, 300};
    for (size_t k = 0; k < sizeof keylens / sizeof *keylens; k++)
        for (int round = 0; round < 5; round++) check_layouts(keylens[k]);
}

/* An entry whose key field is not length-delimited, or whose value's
 * length runs past the entry: not an Example. */
static void test_malformed_entries(void) {
    tfc_status *st = tfc_status_new();
    tfc_tensor *out[NF];
    static const uint8_t entries[][8] = {
        {0x08, 0x01, 0x12, 0x00},      /* key as a varint */
        {0x0A, 0x01, 'f', 0x12, 0x05}, /* the value's length past the end */
        {0x0A, 0x05, 'f', 0x12, 0x00}, /* the key's length past the end */
        {0x0A, 0x01, 'f', 0x10, 0x00}, /* the value as a varint */
    };
    static const size_t lens[] = {4, 5, 5, 5};
    for (size_t k = 0; k < sizeof lens / sizeof *lens; k++) {
        tfc_buf feats = {0}, rec = {0};
        put_len(&feats, 1, entries[k], lens[k], 0);
        put_len(&rec, 1, feats.p, feats.n, 0);
        CHECK_MSG(parse(&rec, 1, "s", out, st) == -1, "entry %zu parsed", k);
        CHECK_CONTAINS(tfc_status_message(st), "(record 0): Could not parse example input");
        for (int j = 0; j < NF; j++) tfc_tensor_free(out[j]);
        tfc_buf_free(&feats);
        tfc_buf_free(&rec);
    }
    tfc_status_free(st);
}

TFC_TEST_MAIN(T(test_entry_layouts), T(test_malformed_entries))
