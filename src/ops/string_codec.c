/* Decoding ops: DecodeRaw (bytes to numbers), DecodeCSV (records to typed
 * columns, TensorFlow's field rules and messages), EncodeBase64 and
 * DecodeBase64 (web-safe alphabet, '=' padding optional, as TensorFlow). */
#include "ops/string_internal.h"

#include "core/dtype.h"

#include <stdlib.h>
#include <string.h>

#define STR_OP (TFC_OP_STRINGS | TFC_OP_NO_GRADIENT)

/* ---- DecodeRaw(bytes) -> out_type, shape bytes.shape + [n] ---- */

static int decode_raw_infer(tfc_infer_ctx *c) {
    if (str_check_input(c, 0, "bytes")) return -1;
    tfc_dtype dt = tfc_attrs_type(c->attrs, "out_type", TFC_INVALID_DTYPE);
    if (dt != TFC_FLOAT && dt != TFC_DOUBLE && dt != TFC_INT32 && dt != TFC_UINT8 &&
        dt != TFC_INT64)
        return tfc_infer_error(c,
                               "out_type must be float32, float64, int32, uint8 or int64, got %s",
                               tfc_dtype_name(dt));
    if (!tfc_attrs_find(c->attrs, "little_endian"))
        tfc_attrs_set_int(c->attrs, "little_endian", TFC_ATTR_BOOL, 1);
    tfc_shape s = tfc_infer_input_shape(c, 0);
    if (s.rank >= TFC_MAX_RANK)
        return tfc_infer_error(c, "bytes must have rank below %d", TFC_MAX_RANK);
    if (s.rank >= 0) s.dims[s.rank++] = -1;
    tfc_infer_set_output(c, 0, dt, s);
    return 0;
}

static int host_little_endian(void) {
    const uint16_t one = 1;
    return *(const uint8_t *)&one == 1;
}

static void decode_raw_kernel(tfc_kernel_ctx *c) {
    const tfc_tensor *x = c->inputs[0];
    tfc_dtype dt = c->node->out_dtypes[0];
    size_t esz = tfc_dtype_bytes(dt);
    /* (bytes have no order: no attr lookup per run for uint8 images) */
    int swap =
        esz > 1 && (int)tfc_attrs_int(&c->node->attrs, "little_endian", 1) != host_little_endian();
    size_t len = x->nelem ? tfc_string_at(x, 0).len : 0;
    for (int64_t i = 0; i < x->nelem; i++) {
        size_t l = tfc_string_at(x, i).len;
        if (l != len) {
            tfc_kernel_error(c, TFC_INVALID_ARGUMENT,
                             "DecodeRaw requires input strings to all be the same size, but "
                             "element %lld has size %zu != %zu",
                             (long long)i, l, len);
            return;
        }
    }
    if (len % esz) {
        tfc_kernel_error(c, TFC_INVALID_ARGUMENT,
                         "Input to DecodeRaw has length %zu that is not a multiple of %zu, the "
                         "size of %s",
                         len, esz, tfc_dtype_name(dt));
        return;
    }
    int64_t dims[TFC_MAX_RANK];
    if (x->rank) memcpy(dims, x->dims, (size_t)x->rank * sizeof *dims);
    dims[x->rank] = (int64_t)(len / esz);
    tfc_tensor *out = tfc_kernel_output(c, 0, dt, x->rank + 1, dims);
    if (!out) return;
    unsigned char *dst = out->data;
    for (int64_t i = 0; i < x->nelem; i++, dst += len) {
        if (len) memcpy(dst, tfc_string_at(x, i).data, len);
        if (swap)
            for (size_t k = 0; k < len; k += esz)
                for (size_t a = 0, b = esz - 1; a < b; a++, b--) {
                    unsigned char t = dst[k + a];
                    dst[k + a] = dst[k + b];
                    dst[k + b] = t;
                }
    }
}

/* ---- DecodeCSV(records, record_defaults...) -> OUT_TYPE... ---- */

static int csv_type_ok(tfc_dtype dt) {
    return dt == TFC_FLOAT || dt == TFC_DOUBLE || dt == TFC_INT32 || dt == TFC_INT64 ||
           dt == TFC_STRING;
}

static int decode_csv_infer(tfc_infer_ctx *c) {
    if (str_check_input(c, 0, "records")) return -1;
    int n = c->ninputs - 1;
    if (n < 1) return tfc_infer_error(c, "needs at least one record default");
    const char *delim = str_attr(c->attrs, "field_delim", ",");
    if (strlen(delim) != 1) return tfc_infer_error(c, "field_delim should be only 1 char");
    const int64_t *sel;
    int nsel = tfc_attrs_int_list(c->attrs, "select_cols", &sel);
    if (nsel && nsel != n)
        return tfc_infer_error(c, "select_cols has %d entries but there are %d record defaults",
                               nsel, n);
    for (int i = 0; i < nsel; i++)
        if (sel[i] < 0 || (i && sel[i] <= sel[i - 1]))
            return tfc_infer_error(c, "select_cols is not strictly increasing and non-negative");
    if (tfc_infer_set_num_outputs(c, n)) return -1;
    int64_t *types = malloc(sizeof *types * (size_t)n);
    if (!types) return tfc_infer_error(c, "out of memory");
    tfc_shape rs = tfc_infer_input_shape(c, 0);
    for (int i = 0; i < n; i++) {
        tfc_dtype dt = tfc_infer_input_dtype(c, i + 1);
        tfc_shape s = tfc_infer_input_shape(c, i + 1);
        if (!csv_type_ok(dt)) {
            free(types);
            return tfc_infer_error(c, "csv: data type %s not supported in field %d",
                                   tfc_dtype_name(dt), i);
        }
        if (s.rank > 1 || (s.rank == 1 && s.dims[0] > 1)) {
            free(types);
            return tfc_infer_error(c,
                                   "Shape of a default must be a length-0 or length-1 vector, "
                                   "or a scalar (field %d)",
                                   i);
        }
        types[i] = dt;
        tfc_infer_set_output(c, i, dt, rs);
    }
    int rc = tfc_attrs_set_int_list(c->attrs, "OUT_TYPE", types, n);
    free(types);
    if (rc) return tfc_infer_error(c, "out of memory");
    if (!tfc_attrs_string(c->attrs, "field_delim"))
        tfc_attrs_set_string(c->attrs, "field_delim", ",");
    if (!tfc_attrs_string(c->attrs, "na_value")) tfc_attrs_set_string(c->attrs, "na_value", "");
    if (!tfc_attrs_find(c->attrs, "use_quote_delim"))
        tfc_attrs_set_int(c->attrs, "use_quote_delim", TFC_ATTR_BOOL, 1);
    return 0;
}

/* One record's fields: their bytes in `buf`, starts and lengths. */
typedef struct csv_fields {
    int n, cap;
    size_t *start, *len;
    char *buf;
    size_t used;
} csv_fields;

static int field_push(csv_fields *f, size_t start, size_t len) {
    if (f->n == f->cap) {
        int cap = f->cap ? f->cap * 2 : 16;
        size_t *s = realloc(f->start, sizeof *s * (size_t)cap);
        if (!s) return -1;
        f->start = s;
        size_t *l = realloc(f->len, sizeof *l * (size_t)cap);
        if (!l) return -1;
        f->len = l;
        f->cap = cap;
    }
    f->start[f->n] = start;
    f->len[f->n++] = len;
    return 0;
}

/* TensorFlow's field rules: CR/LF between fields skipped; a quoted field
 * ends with a quote then the delimiter or the end, "" inside it is one
 * quote; an unquoted field may hold neither quotes nor CR/LF; a trailing
 * delimiter adds an empty last field. NULL, or the error. buf must hold
 * n bytes. */
static const char *csv_split(const char *in, size_t n, char delim, int quotes, csv_fields *f) {
    size_t i = 0;
    f->n = 0;
    f->used = 0;
    if (!n) return NULL;
    while (i < n) {
        if (in[i] == '\n' || in[i] == '\r') {
            i++;
            continue;
        }
        int quoted = quotes && in[i] == '"';
        if (quoted) i++;
        size_t start = f->used;
        if (!quoted) {
            for (; i < n && in[i] != delim; i++) {
                if ((quotes && in[i] == '"') || in[i] == '\n' || in[i] == '\r')
                    return "Unquoted fields cannot have quotes/CRLFs inside";
                f->buf[f->used++] = in[i];
            }
            i++;
        } else {
            while (i + 1 < n && (in[i] != '"' || in[i + 1] != delim)) {
                if (in[i] != '"') {
                    f->buf[f->used++] = in[i++];
                } else {
                    if (in[i + 1] != '"')
                        return "Quote inside a string has to be escaped by another quote";
                    f->buf[f->used++] = '"';
                    i += 2;
                }
            }
            if (!(i < n && in[i] == '"' && (i == n - 1 || in[i + 1] == delim)))
                return "Quoted field has to end with quote followed by delim or end";
            i += 2;
        }
        if (field_push(f, start, f->used - start)) return "out of memory";
    }
    if (in[n - 1] == delim && field_push(f, f->used, 0)) return "out of memory";
    return NULL;
}

static void decode_csv_kernel(tfc_kernel_ctx *c) {
    const tfc_attrs *a = &c->node->attrs;
    const tfc_tensor *rec = c->inputs[0];
    int n = c->ninputs - 1, quotes = (int)tfc_attrs_int(a, "use_quote_delim", 1);
    char delim = str_attr(a, "field_delim", ",")[0];
    const char *na = str_attr(a, "na_value", "");
    size_t nalen = strlen(na);
    const int64_t *sel;
    int nsel = tfc_attrs_int_list(a, "select_cols", &sel);
    for (int i = 0; i < n; i++)
        if (c->inputs[i + 1]->nelem > 1) {
            tfc_kernel_error(c, TFC_INVALID_ARGUMENT,
                             "There should only be 1 default per field but field %d has %lld", i,
                             (long long)c->inputs[i + 1]->nelem);
            return;
        }
    tfc_tensor **out = c->outputs;
    for (int i = 0; i < n; i++)
        if (!tfc_kernel_output(c, i, c->node->out_dtypes[i], rec->rank, rec->dims)) return;
    csv_fields f = {0};
    size_t bufcap = 0;
    for (int64_t r = 0; r < rec->nelem; r++) {
        tfc_string s = tfc_string_at(rec, r);
        if (s.len > bufcap) {
            char *b = realloc(f.buf, s.len);
            if (!b) {
                tfc_kernel_error(c, TFC_RESOURCE_EXHAUSTED, "out of memory parsing record %lld",
                                 (long long)r);
                goto done;
            }
            f.buf = b;
            bufcap = s.len;
        }
        const char *err = csv_split(s.data, s.len, delim, quotes, &f);
        if (err) {
            tfc_kernel_error(c, TFC_INVALID_ARGUMENT, "%s (record %lld)", err, (long long)r);
            goto done;
        }
        int want = nsel ? (int)sel[nsel - 1] + 1 : n;
        if (nsel ? f.n < want : f.n != n) {
            tfc_kernel_error(c, TFC_INVALID_ARGUMENT, "Expect %d fields but have %d in record %lld",
                             want, f.n, (long long)r);
            goto done;
        }
        for (int k = 0; k < n; k++) {
            int col = nsel ? (int)sel[k] : k;
            const char *v = f.buf + f.start[col];
            size_t vl = f.len[col];
            const tfc_tensor *dflt = c->inputs[k + 1];
            tfc_dtype dt = out[k]->dtype;
            if (!vl || (vl == nalen && !memcmp(v, na, vl))) {
                if (dflt->nelem != 1) {
                    tfc_kernel_error(c, TFC_INVALID_ARGUMENT,
                                     "Field %d is required but missing in record %lld!", k,
                                     (long long)r);
                    goto done;
                }
                if (dt == TFC_STRING) {
                    tfc_string d = tfc_string_at(dflt, 0);
                    if (tfc_string_set(out[k], r, d.data, d.len)) goto oom;
                } else {
                    memcpy((char *)out[k]->data + (size_t)r * tfc_dtype_bytes(dt), dflt->data,
                           tfc_dtype_bytes(dt));
                }
                continue;
            }
            int ok = 1;
            switch (dt) {
            case TFC_INT32: ok = str_parse_int32(v, vl, (int32_t *)out[k]->data + r); break;
            case TFC_INT64: ok = str_parse_int64(v, vl, (int64_t *)out[k]->data + r); break;
            case TFC_FLOAT: ok = str_parse_float(v, vl, (float *)out[k]->data + r); break;
            case TFC_DOUBLE: ok = str_parse_double(v, vl, (double *)out[k]->data + r); break;
            default:
                if (tfc_string_set(out[k], r, v, vl)) goto oom;
            }
            if (!ok) {
                tfc_kernel_error(c, TFC_INVALID_ARGUMENT,
                                 "Field %d in record %lld is not a valid "
                                 "%s: %.*s",
                                 k, (long long)r,
                                 dt == TFC_INT32   ? "int32"
                                 : dt == TFC_INT64 ? "int64"
                                 : dt == TFC_FLOAT ? "float"
                                                   : "double",
                                 (int)(vl > 100 ? 100 : vl), v);
                goto done;
            }
        }
    }
    goto done;
oom:
    tfc_kernel_error(c, TFC_RESOURCE_EXHAUSTED, "out of memory building strings");
done:
    free(f.start);
    free(f.len);
    free(f.buf);
}

/* ---- EncodeBase64 / DecodeBase64 ---- */

static const char b64_chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static int b64_infer(tfc_infer_ctx *c) {
    if (str_check_input(c, 0, "input")) return -1;
    if (!strcmp(c->op->type, "EncodeBase64") && !tfc_attrs_find(c->attrs, "pad"))
        tfc_attrs_set_int(c->attrs, "pad", TFC_ATTR_BOOL, 0);
    tfc_infer_set_output(c, 0, TFC_STRING, tfc_infer_input_shape(c, 0));
    return 0;
}

static void encode_b64_kernel(tfc_kernel_ctx *c) {
    const tfc_tensor *x = c->inputs[0];
    int pad = (int)tfc_attrs_int(&c->node->attrs, "pad", 0);
    tfc_tensor *out = tfc_kernel_output(c, 0, TFC_STRING, x->rank, x->dims);
    if (!out) return;
    for (int64_t i = 0; i < x->nelem; i++) {
        tfc_string s = tfc_string_at(x, i);
        const unsigned char *p = (const unsigned char *)s.data;
        size_t full = s.len / 3, rest = s.len % 3;
        size_t len = full * 4 + (rest ? (pad ? 4 : rest + 1) : 0);
        char *d = tfc_string_alloc(out, len);
        if (len && !d) {
            tfc_kernel_error(c, TFC_RESOURCE_EXHAUSTED, "out of memory building strings");
            return;
        }
        ((tfc_string *)out->data)[i] = (tfc_string){d, len};
        for (size_t k = 0; k < full; k++, p += 3) {
            *d++ = b64_chars[p[0] >> 2];
            *d++ = b64_chars[((p[0] & 3) << 4) | (p[1] >> 4)];
            *d++ = b64_chars[((p[1] & 15) << 2) | (p[2] >> 6)];
            *d++ = b64_chars[p[2] & 63];
        }
        if (rest) {
            *d++ = b64_chars[p[0] >> 2];
            *d++ = b64_chars[((p[0] & 3) << 4) | (rest == 2 ? p[1] >> 4 : 0)];
            if (rest == 2) *d++ = b64_chars[(p[1] & 15) << 2];
            if (pad) {
                if (rest == 1) *d++ = '=';
                *d++ = '=';
            }
        }
    }
}

static int b64_value(unsigned char ch) {
    if (ch >= 'A' && ch <= 'Z') return ch - 'A';
    if (ch >= 'a' && ch <= 'z') return ch - 'a' + 26;
    if (ch >= '0' && ch <= '9') return ch - '0' + 52;
    if (ch == '-') return 62;
    if (ch == '_') return 63;
    return -1;
}

/* Decodes s into dst (3 * ceil(len / 4) bytes of room); the byte count, or
 * -1 with *why set. */
static long b64_decode(tfc_string s, unsigned char *dst, const char **why) {
    size_t n = s.len;
    const unsigned char *p = (const unsigned char *)s.data;
    /* a last group of 4 may end in one or two '=' */
    if (n && n % 4 == 0) {
        if (p[n - 1] == '=' && p[n - 2] == '=')
            n -= 2;
        else if (p[n - 1] == '=')
            n -= 1;
    }
    if (n % 4 == 1) {
        *why = "Base64 string length cannot be 1 modulo 4.";
        return -1;
    }
    long out = 0;
    for (size_t i = 0; i < n; i += 4) {
        size_t m = n - i < 4 ? n - i : 4;
        uint32_t acc = 0;
        for (size_t k = 0; k < 4; k++) {
            int v = k < m ? b64_value(p[i + k]) : 0;
            if (v < 0) {
                *why = "Invalid character found in base64.";
                return -1;
            }
            acc = (acc << 6) | (uint32_t)v;
        }
        unsigned char b[3] = {(unsigned char)(acc >> 16), (unsigned char)(acc >> 8),
                              (unsigned char)acc};
        memcpy(dst + out, b, m - 1);
        out += (long)m - 1;
    }
    return out;
}

static void decode_b64_kernel(tfc_kernel_ctx *c) {
    const tfc_tensor *x = c->inputs[0];
    tfc_tensor *out = tfc_kernel_output(c, 0, TFC_STRING, x->rank, x->dims);
    if (!out) return;
    for (int64_t i = 0; i < x->nelem; i++) {
        tfc_string s = tfc_string_at(x, i);
        size_t room = (s.len + 3) / 4 * 3;
        unsigned char *d = room ? (unsigned char *)tfc_string_alloc(out, room) : NULL;
        if (room && !d) {
            tfc_kernel_error(c, TFC_RESOURCE_EXHAUSTED, "out of memory building strings");
            return;
        }
        const char *why = NULL;
        long len = b64_decode(s, d, &why);
        if (len < 0) {
            tfc_kernel_error(c, TFC_INVALID_ARGUMENT, "%s (element %lld)", why, (long long)i);
            return;
        }
        ((tfc_string *)out->data)[i] = (tfc_string){len ? (const char *)d : NULL, (size_t)len};
    }
}

const tfc_op_def tfc_ops_string_codec[] = {
    {"DecodeRaw", 1, 1, 1, STR_OP, 0, decode_raw_infer, decode_raw_kernel, NULL},
    {"DecodeCSV", 2, -1, 1, STR_OP, 0, decode_csv_infer, decode_csv_kernel, NULL},
    {"EncodeBase64", 1, 1, 1, STR_OP, 0, b64_infer, encode_b64_kernel, NULL},
    {"DecodeBase64", 1, 1, 1, STR_OP, 0, b64_infer, decode_b64_kernel, NULL},
    {NULL, 0, 0, 0, 0, 0, NULL, NULL, NULL},
};

/* ---- public helpers ---- */

tfc_output tfc_decode_raw(tfc_graph *g, tfc_output bytes, tfc_dtype out_type, int little_endian) {
    tfc_op_desc *d = tfc_op_new(g, "DecodeRaw", NULL);
    tfc_op_add_input(d, bytes);
    tfc_op_set_attr_type(d, "out_type", out_type);
    tfc_op_set_attr_bool(d, "little_endian", little_endian);
    return tfc_out(tfc_op_finish(d), 0);
}

int tfc_decode_csv(tfc_graph *g, tfc_output records, const tfc_output *record_defaults, int n,
                   const char *field_delim, int use_quote_delim, const char *na_value,
                   tfc_output *out) {
    tfc_op_desc *d = tfc_op_new(g, "DecodeCSV", NULL);
    tfc_op_add_input(d, records);
    tfc_op_add_inputs(d, record_defaults, n);
    tfc_op_set_attr_string(d, "field_delim", field_delim ? field_delim : ",");
    tfc_op_set_attr_bool(d, "use_quote_delim", use_quote_delim);
    tfc_op_set_attr_string(d, "na_value", na_value ? na_value : "");
    tfc_node *node = tfc_op_finish(d);
    for (int i = 0; i < n; i++) out[i] = tfc_out(node, i);
    return node ? 0 : -1;
}

tfc_output tfc_encode_base64(tfc_graph *g, tfc_output input, int pad) {
    tfc_op_desc *d = tfc_op_new(g, "EncodeBase64", NULL);
    tfc_op_add_input(d, input);
    tfc_op_set_attr_bool(d, "pad", pad);
    return tfc_out(tfc_op_finish(d), 0);
}

tfc_output tfc_decode_base64(tfc_graph *g, tfc_output input) {
    tfc_op_desc *d = tfc_op_new(g, "DecodeBase64", NULL);
    tfc_op_add_input(d, input);
    return tfc_out(tfc_op_finish(d), 0);
}
