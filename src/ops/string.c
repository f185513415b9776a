/* String ops: StringJoin, StringSplit, StringSplitV2, Substr, ReduceJoin,
 * AsString, StringToNumber and StringToHashBucketFast, with TensorFlow's
 * names, attrs, shapes and messages; the number parsing the string
 * families share; and the public helpers of tfc.h's "Strings" section.
 * Element bytes go through tfc_string_set / tfc_string_alloc, so each
 * output owns its bytes (src/core/tensor.h). */
#include "core/fingerprint.h"
#include "ops/string_internal.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STR_OP (TFC_OP_STRINGS | TFC_OP_NO_GRADIENT)

/* ---- shared helpers ---- */

static int is_space(char ch) { return ch == ' ' || (ch >= '\t' && ch <= '\r'); }

/* s[0, n) without the spaces around it, as a NUL-terminated copy in buf
 * (cap bytes); 0 when empty or too long. */
static int trimmed(const char *s, size_t n, char *buf, size_t cap) {
    while (n && is_space(*s)) s++, n--;
    while (n && is_space(s[n - 1])) n--;
    if (!n || n >= cap || memchr(s, 0, n)) return 0;
    memcpy(buf, s, n);
    buf[n] = 0;
    return 1;
}

int str_parse_int64(const char *s, size_t n, int64_t *out) {
    char buf[64];
    if (!trimmed(s, n, buf, sizeof buf)) return 0;
    const char *p = buf;
    int neg = *p == '-';
    if (neg) p++;
    if (!isdigit((unsigned char)*p)) return 0;
    uint64_t v = 0, limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    for (; *p; p++) {
        if (!isdigit((unsigned char)*p)) return 0;
        unsigned d = (unsigned)(*p - '0');
        if (v > (limit - d) / 10) return 0;
        v = v * 10 + d;
    }
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    return 1;
}

int str_parse_int32(const char *s, size_t n, int32_t *out) {
    int64_t v;
    if (!str_parse_int64(s, n, &v) || v < INT32_MIN || v > INT32_MAX) return 0;
    *out = (int32_t)v;
    return 1;
}

/* strtod's syntax less hexadecimal; the whole (trimmed) text must parse */
static int parse_real(const char *s, size_t n, double *dv, float *fv) {
    char buf[256];
    if (!trimmed(s, n, buf, sizeof buf)) return 0;
    const char *p = buf + (buf[0] == '-' || buf[0] == '+');
    if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) return 0;
    char *end;
    errno = 0;
    if (dv)
        *dv = strtod(buf, &end);
    else
        *fv = strtof(buf, &end);
    /* out-of-range values become +-inf or 0, as TensorFlow's parser does */
    return *end == 0;
}

int str_parse_double(const char *s, size_t n, double *out) { return parse_real(s, n, out, NULL); }
int str_parse_float(const char *s, size_t n, float *out) { return parse_real(s, n, NULL, out); }

int str_check_input(tfc_infer_ctx *c, int i, const char *what) {
    tfc_dtype dt = tfc_infer_input_dtype(c, i);
    if (dt != TFC_STRING)
        return tfc_infer_error(c, "%s must be a string tensor, got %s", what, tfc_dtype_name(dt));
    return 0;
}

int str_check_rank_at_most(tfc_infer_ctx *c, int i, int max_rank, const char *what) {
    tfc_shape s = tfc_infer_input_shape(c, i);
    if (s.rank > max_rank) {
        char b[96];
        return tfc_infer_error(c, "%s must have rank at most %d, got shape %s", what, max_rank,
                               tfc_shape_str(&s, b, sizeof b));
    }
    return 0;
}

const char *str_attr(const tfc_attrs *a, const char *name, const char *dflt) {
    const char *v = tfc_attrs_string(a, name);
    return v ? v : dflt;
}

int str_set_printf(tfc_tensor *t, int64_t i, const char *fmt, ...) {
    char small[128];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) return -1;
    if ((size_t)n < sizeof small) return tfc_string_set(t, i, small, (size_t)n);
    char *big = malloc((size_t)n + 1);
    if (!big) return -1;
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    int rc = tfc_string_set(t, i, big, (size_t)n);
    free(big);
    return rc;
}

static void oom(tfc_kernel_ctx *c) {
    tfc_kernel_error(c, TFC_RESOURCE_EXHAUSTED, "out of memory building strings");
}

/* ---- StringJoin(inputs: N * string) -> string; attrs N, separator ---- */

static int join_infer(tfc_infer_ctx *c) {
    if (c->ninputs < 1) return tfc_infer_error(c, "needs at least one input");
    tfc_shape out = tfc_shape_unknown();
    int all_scalar = 1;
    for (int i = 0; i < c->ninputs; i++) {
        if (str_check_input(c, i, "each input")) return -1;
        tfc_shape s = tfc_infer_input_shape(c, i);
        if (s.rank != 0) all_scalar = 0;
        if (s.rank <= 0) continue;
        if (out.rank < 0) {
            out = s;
            continue;
        }
        if (!tfc_shape_compatible(&out, &s)) {
            char a[96], b[96];
            return tfc_infer_error(c, "Input shapes do not match: %s vs. %s",
                                   tfc_shape_str(&out, a, sizeof a),
                                   tfc_shape_str(&s, b, sizeof b));
        }
        for (int d = 0; d < s.rank; d++)
            if (out.dims[d] < 0) out.dims[d] = s.dims[d];
    }
    tfc_attrs_set_int(c->attrs, "N", TFC_ATTR_INT, c->ninputs);
    if (!tfc_attrs_string(c->attrs, "separator")) tfc_attrs_set_string(c->attrs, "separator", "");
    tfc_infer_set_output(c, 0, TFC_STRING, all_scalar ? tfc_shape_scalar() : out);
    return 0;
}

static void join_kernel(tfc_kernel_ctx *c) {
    const char *sep = str_attr(&c->node->attrs, "separator", "");
    size_t seplen = strlen(sep);
    const tfc_tensor *ref = NULL;
    for (int i = 0; i < c->ninputs; i++) {
        const tfc_tensor *x = c->inputs[i];
        if (x->rank == 0) continue;
        if (!ref) {
            ref = x;
        } else if (!tfc_tensor_same_shape(ref, x)) {
            char a[96], b[96];
            tfc_kernel_error(c, TFC_INVALID_ARGUMENT, "Input shapes do not match: %s vs. %s",
                             tfc_dims_str(ref->rank, ref->dims, a, sizeof a),
                             tfc_dims_str(x->rank, x->dims, b, sizeof b));
            return;
        }
    }
    tfc_tensor *out = ref ? tfc_kernel_output(c, 0, TFC_STRING, ref->rank, ref->dims)
                          : tfc_kernel_output(c, 0, TFC_STRING, 0, NULL);
    if (!out) return;
    for (int64_t e = 0; e < out->nelem; e++) {
        size_t len = seplen * (size_t)(c->ninputs - 1);
        for (int i = 0; i < c->ninputs; i++)
            len += tfc_string_at(c->inputs[i], c->inputs[i]->rank ? e : 0).len;
        char *dst = tfc_string_alloc(out, len);
        if (len && !dst) return oom(c);
        tfc_string *v = (tfc_string *)out->data + e;
        v->data = dst;
        v->len = len;
        for (int i = 0; i < c->ninputs; i++) {
            tfc_string s = tfc_string_at(c->inputs[i], c->inputs[i]->rank ? e : 0);
            if (i && seplen) {
                memcpy(dst, sep, seplen);
                dst += seplen;
            }
            if (s.len) memcpy(dst, s.data, s.len);
            dst += s.len;
        }
    }
}

/* ---- StringSplit / StringSplitV2: a SparseTensor of tokens ---- */

static int split_infer(tfc_infer_ctx *c) {
    int v2 = !strcmp(c->op->type, "StringSplitV2");
    if (str_check_input(c, 0, "input") || str_check_input(c, 1, v2 ? "sep" : "delimiter"))
        return -1;
    tfc_shape in = tfc_infer_input_shape(c, 0), d = tfc_infer_input_shape(c, 1);
    if (in.rank >= 0 && in.rank != 1)
        return tfc_infer_error(c, "input must be a vector, got rank %d", in.rank);
    if (d.rank > 0)
        return tfc_infer_error(c, "%s must be a scalar, got rank %d", v2 ? "sep" : "delimiter",
                               d.rank);
    if (v2) {
        if (!tfc_attrs_find(c->attrs, "maxsplit"))
            tfc_attrs_set_int(c->attrs, "maxsplit", TFC_ATTR_INT, -1);
    } else if (!tfc_attrs_find(c->attrs, "skip_empty")) {
        tfc_attrs_set_int(c->attrs, "skip_empty", TFC_ATTR_BOOL, 1);
    }
    int64_t id[2] = {-1, 2};
    tfc_infer_set_output(c, 0, TFC_INT64, tfc_shape_make(2, id));
    tfc_infer_set_output(c, 1, TFC_STRING, tfc_shape_vector(-1));
    tfc_infer_set_output(c, 2, TFC_INT64, tfc_shape_vector(2));
    return 0;
}

/* The tokens found so far, as views into the input. */
typedef struct tokens {
    int64_t n, cap;
    tfc_string *v;
    int64_t *row;
} tokens;

static int tokens_add(tokens *t, int64_t row, const char *p, size_t len) {
    if (t->n == t->cap) {
        int64_t cap = t->cap ? t->cap * 2 : 64;
        tfc_string *v = realloc(t->v, (size_t)cap * sizeof *v);
        if (!v) return -1;
        t->v = v;
        int64_t *r = realloc(t->row, (size_t)cap * sizeof *r);
        if (!r) return -1;
        t->row = r;
        t->cap = cap;
    }
    t->v[t->n].data = p;
    t->v[t->n].len = len;
    t->row[t->n++] = row;
    return 0;
}

/* StringSplit: every byte of `delim` splits; "" splits into single bytes. */
static int split_v1(tokens *t, int64_t row, tfc_string s, tfc_string delim, int skip_empty) {
    if (!delim.len) {
        for (size_t i = 0; i < s.len; i++)
            if (tokens_add(t, row, s.data + i, 1)) return -1;
        return 0;
    }
    size_t start = 0;
    for (size_t i = 0; i <= s.len; i++) {
        if (i < s.len && !memchr(delim.data, s.data[i], delim.len)) continue;
        if ((i > start || !skip_empty) && tokens_add(t, row, s.data + start, i - start)) return -1;
        start = i + 1;
    }
    return 0;
}

/* StringSplitV2: Python's str.split(sep, maxsplit); sep "" splits on runs
 * of whitespace, ignoring it at both ends. */
static int split_v2(tokens *t, int64_t row, tfc_string s, tfc_string sep, int64_t maxsplit) {
    const char *p = s.data, *end = s.data + s.len;
    if (!sep.len) {
        while (p < end) {
            while (p < end && is_space(*p)) p++;
            if (p == end) break;
            const char *q = p;
            if (maxsplit == 0) {
                q = end;
                while (q > p && is_space(q[-1])) q--;
            } else {
                while (q < end && !is_space(*q)) q++;
            }
            if (tokens_add(t, row, p, (size_t)(q - p))) return -1;
            if (maxsplit == 0) break;
            maxsplit--;
            p = q;
        }
        return 0;
    }
    for (;;) {
        const char *q = NULL;
        if (maxsplit != 0)
            for (const char *k = p; k + sep.len <= end; k++)
                if (!memcmp(k, sep.data, sep.len)) {
                    q = k;
                    break;
                }
        if (!q) return tokens_add(t, row, p, (size_t)(end - p));
        if (tokens_add(t, row, p, (size_t)(q - p))) return -1;
        p = q + sep.len;
        if (maxsplit > 0) maxsplit--;
    }
}

static void split_kernel(tfc_kernel_ctx *c) {
    const tfc_tensor *in = c->inputs[0], *d = c->inputs[1];
    int v2 = !strcmp(c->node->op->type, "StringSplitV2");
    char b[96];
    if (in->rank != 1) {
        tfc_kernel_error(c, TFC_INVALID_ARGUMENT, "input must be a vector, got shape: %s",
                         tfc_dims_str(in->rank, in->dims, b, sizeof b));
        return;
    }
    if (d->rank != 0) {
        tfc_kernel_error(c, TFC_INVALID_ARGUMENT, "%s must be a scalar, got shape: %s",
                         v2 ? "sep" : "delimiter", tfc_dims_str(d->rank, d->dims, b, sizeof b));
        return;
    }
    tfc_string delim = tfc_string_at(d, 0);
    int skip_empty = (int)tfc_attrs_int(&c->node->attrs, "skip_empty", 1);
    int64_t maxsplit = tfc_attrs_int(&c->node->attrs, "maxsplit", -1);
    tokens t = {0};
    int64_t widest = 0;
    for (int64_t i = 0; i < in->nelem; i++) {
        int64_t before = t.n;
        int rc = v2 ? split_v2(&t, i, tfc_string_at(in, i), delim, maxsplit)
                    : split_v1(&t, i, tfc_string_at(in, i), delim, skip_empty);
        if (rc) {
            oom(c);
            goto done;
        }
        if (t.n - before > widest) widest = t.n - before;
    }
    int64_t idims[2] = {t.n, 2}, two = 2;
    tfc_tensor *ix = tfc_kernel_output(c, 0, TFC_INT64, 2, idims);
    tfc_tensor *vals = tfc_kernel_output(c, 1, TFC_STRING, 1, &t.n);
    tfc_tensor *shape = tfc_kernel_output(c, 2, TFC_INT64, 1, &two);
    if (!ix || !vals || !shape) goto done;
    int64_t *ip = ix->data, col = 0;
    for (int64_t k = 0; k < t.n; k++) {
        col = k && t.row[k] == t.row[k - 1] ? col + 1 : 0;
        ip[2 * k] = t.row[k];
        ip[2 * k + 1] = col;
    }
    /* the views point into the input: one copy of their bytes */
    if (t.n) memcpy(vals->data, t.v, (size_t)t.n * sizeof *t.v);
    if (tfc_tensor_own_strings(vals)) {
        memset(vals->data, 0, vals->nbytes);
        oom(c);
    }
    ((int64_t *)shape->data)[0] = in->nelem;
    ((int64_t *)shape->data)[1] = widest;
done:
    free(t.v);
    free(t.row);
}

/* ---- Substr(input, pos, len): byte ranges, NumPy broadcasting ---- */

static int substr_infer(tfc_infer_ctx *c) {
    if (str_check_input(c, 0, "input")) return -1;
    tfc_dtype pt = tfc_infer_input_dtype(c, 1), lt = tfc_infer_input_dtype(c, 2);
    if ((pt != TFC_INT32 && pt != TFC_INT64) || pt != lt)
        return tfc_infer_error(c, "pos and len must both be int32 or both int64, got %s and %s",
                               tfc_dtype_name(pt), tfc_dtype_name(lt));
    const char *unit = str_attr(c->attrs, "unit", "BYTE");
    if (strcmp(unit, "BYTE"))
        return tfc_infer_error(c, "unit '%s' is not supported (only \"BYTE\")", unit);
    tfc_shape in = tfc_infer_input_shape(c, 0), ps = tfc_infer_input_shape(c, 1),
              ls = tfc_infer_input_shape(c, 2), out;
    if (ps.rank >= 0 && ls.rank >= 0 && !tfc_shape_compatible(&ps, &ls)) {
        char a[96], b[96];
        return tfc_infer_error(c, "pos and len shapes must match: %s vs. %s",
                               tfc_shape_str(&ps, a, sizeof a), tfc_shape_str(&ls, b, sizeof b));
    }
    if (tfc_shape_broadcast(&in, &ps, &out)) {
        char a[96], b[96];
        return tfc_infer_error(c, "input of shape %s and pos of shape %s do not broadcast",
                               tfc_shape_str(&in, a, sizeof a), tfc_shape_str(&ps, b, sizeof b));
    }
    tfc_attrs_set_int(c->attrs, "T", TFC_ATTR_TYPE, pt);
    if (!tfc_attrs_string(c->attrs, "unit")) tfc_attrs_set_string(c->attrs, "unit", "BYTE");
    tfc_infer_set_output(c, 0, TFC_STRING, out);
    return 0;
}

/* Strides of `t` seen from an output of rank r (0 on broadcast dims). */
static void bcast_strides(const tfc_tensor *t, int r, int64_t *st) {
    int64_t s = 1;
    for (int d = r - 1, k = t->rank - 1; d >= 0; d--, k--) {
        st[d] = k >= 0 && t->dims[k] > 1 ? s : 0;
        if (k >= 0) s *= t->dims[k];
    }
}

static void substr_kernel(tfc_kernel_ctx *c) {
    const tfc_tensor *in = c->inputs[0], *pos = c->inputs[1], *len = c->inputs[2];
    char a[96], b[96];
    if (!tfc_tensor_same_shape(pos, len)) {
        tfc_kernel_error(c, TFC_INVALID_ARGUMENT, "pos and len shapes must match: %s vs. %s",
                         tfc_dims_str(pos->rank, pos->dims, a, sizeof a),
                         tfc_dims_str(len->rank, len->dims, b, sizeof b));
        return;
    }
    tfc_shape si = tfc_shape_make(in->rank, in->dims), sp = tfc_shape_make(pos->rank, pos->dims),
              so;
    if (tfc_shape_broadcast(&si, &sp, &so)) {
        tfc_kernel_error(c, TFC_INVALID_ARGUMENT,
                         "input of shape %s and pos of shape %s do not "
                         "broadcast",
                         tfc_shape_str(&si, a, sizeof a), tfc_shape_str(&sp, b, sizeof b));
        return;
    }
    tfc_tensor *out = tfc_kernel_output(c, 0, TFC_STRING, so.rank, so.dims);
    if (!out) return;
    int r = so.rank;
    int64_t ist[TFC_MAX_RANK], pst[TFC_MAX_RANK], idx[TFC_MAX_RANK] = {0};
    bcast_strides(in, r, ist);
    bcast_strides(pos, r, pst);
    int64_t io = 0, po = 0;
    for (int64_t e = 0; e < out->nelem; e++) {
        tfc_string s = tfc_string_at(in, io);
        int64_t p = tfc_tensor_get_int(pos, po), l = tfc_tensor_get_int(len, po);
        int64_t n = (int64_t)s.len;
        if (p > n || p < -n) {
            /* TensorFlow's message, its missing space included */
            tfc_kernel_error(c, TFC_INVALID_ARGUMENT,
                             "pos %lld out of range for stringb'%.*s' at index %lld", (long long)p,
                             (int)(s.len > 200 ? 200 : s.len), s.data, (long long)e);
            return;
        }
        if (p < 0) p += n;
        if (l < 0) l = 0;
        if (l > n - p) l = n - p;
        if (tfc_string_set(out, e, s.data + p, (size_t)l)) return oom(c);
        /* next output index, and the operands' offsets with it */
        for (int d = r - 1; d >= 0; d--) {
            io += ist[d];
            po += pst[d];
            if (++idx[d] < so.dims[d]) break;
            io -= ist[d] * so.dims[d];
            po -= pst[d] * so.dims[d];
            idx[d] = 0;
        }
    }
}

/* ---- ReduceJoin(inputs, reduction_indices: int32); keep_dims, separator ---- */

/* The reduced dims of a rank-r input for the axes in v[0, n), in the
 * order given. 0, or -1 with `why` set. */
static int join_axes(const int64_t *v, int n, int r, int *axes, char *why, size_t cap) {
    int seen[TFC_MAX_RANK] = {0};
    for (int i = 0; i < n; i++) {
        if (v[i] < -r || v[i] >= r) {
            snprintf(why, cap, "Invalid reduction dimension %lld for input with %d dimension(s)",
                     (long long)v[i], r);
            return -1;
        }
        int a = (int)(v[i] < 0 ? v[i] + r : v[i]);
        if (seen[a]) {
            snprintf(why, cap, "Duplicate reduction dimension %lld", (long long)v[i]);
            return -1;
        }
        seen[a] = 1;
        axes[i] = a;
    }
    return 0;
}

static int reduce_join_infer(tfc_infer_ctx *c) {
    if (str_check_input(c, 0, "inputs")) return -1;
    if (tfc_infer_input_dtype(c, 1) != TFC_INT32)
        return tfc_infer_error(c, "reduction_indices must be int32, got %s",
                               tfc_dtype_name(tfc_infer_input_dtype(c, 1)));
    if (!tfc_attrs_find(c->attrs, "keep_dims"))
        tfc_attrs_set_int(c->attrs, "keep_dims", TFC_ATTR_BOOL, 0);
    if (!tfc_attrs_string(c->attrs, "separator")) tfc_attrs_set_string(c->attrs, "separator", "");
    int keep = (int)tfc_attrs_int(c->attrs, "keep_dims", 0);
    tfc_shape in = tfc_infer_input_shape(c, 0);
    const tfc_tensor *ax = tfc_infer_input_const(c, 1);
    if (in.rank < 0 || !ax || ax->nelem > TFC_MAX_RANK) {
        tfc_shape out = tfc_shape_unknown();
        if (keep && in.rank >= 0) {
            out.rank = in.rank;
            for (int d = 0; d < in.rank; d++) out.dims[d] = -1;
        }
        tfc_infer_set_output(c, 0, TFC_STRING, out);
        return 0;
    }
    int64_t v[TFC_MAX_RANK] = {0}; /* (GCC -O2 cannot see n <= TFC_MAX_RANK) */
    int axes[TFC_MAX_RANK], n = (int)ax->nelem, red[TFC_MAX_RANK] = {0};
    for (int i = 0; i < n; i++) v[i] = tfc_tensor_get_int(ax, i);
    char why[160];
    if (join_axes(v, n, in.rank, axes, why, sizeof why)) return tfc_infer_error(c, "%s", why);
    for (int i = 0; i < n; i++) red[axes[i]] = 1;
    tfc_shape out = {.rank = 0};
    for (int d = 0; d < in.rank; d++) {
        if (red[d] && !keep) continue;
        out.dims[out.rank++] = red[d] ? 1 : in.dims[d];
    }
    tfc_infer_set_output(c, 0, TFC_STRING, out);
    return 0;
}

static void reduce_join_kernel(tfc_kernel_ctx *c) {
    const tfc_tensor *in = c->inputs[0], *ax = c->inputs[1];
    const char *sep = str_attr(&c->node->attrs, "separator", "");
    size_t seplen = strlen(sep);
    int keep = (int)tfc_attrs_int(&c->node->attrs, "keep_dims", 0), r = in->rank;
    if (ax->nelem > r) {
        tfc_kernel_error(c, TFC_INVALID_ARGUMENT,
                         "%lld reduction dimensions for an input of "
                         "rank %d",
                         (long long)ax->nelem, r);
        return;
    }
    int64_t v[TFC_MAX_RANK] = {0}; /* (GCC -O2 cannot see n <= TFC_MAX_RANK) */
    int axes[TFC_MAX_RANK], n = (int)ax->nelem, red[TFC_MAX_RANK] = {0};
    for (int i = 0; i < n; i++) v[i] = tfc_tensor_get_int(ax, i);
    char why[160];
    if (join_axes(v, n, r, axes, why, sizeof why)) {
        tfc_kernel_error(c, why[0] == 'I' ? TFC_OUT_OF_RANGE : TFC_INVALID_ARGUMENT, "%s", why);
        return;
    }
    for (int i = 0; i < n; i++) red[axes[i]] = 1;
    int64_t st[TFC_MAX_RANK], s = 1, odims[TFC_MAX_RANK];
    for (int d = r - 1; d >= 0; d--) {
        st[d] = s;
        s *= in->dims[d];
    }
    int orank = 0, keep_axes[TFC_MAX_RANK], nkeep = 0;
    int64_t count = 1;
    for (int d = 0; d < r; d++) {
        if (!red[d]) keep_axes[nkeep++] = d;
        if (red[d] && !keep) continue;
        odims[orank++] = red[d] ? 1 : in->dims[d];
    }
    for (int i = 0; i < n; i++) count *= in->dims[axes[i]];
    tfc_tensor *out = tfc_kernel_output(c, 0, TFC_STRING, orank, odims);
    if (!out) return;
    for (int64_t o = 0; o < out->nelem; o++) {
        /* the input offset of output o: its kept coordinates */
        int64_t base = 0, q = o;
        for (int k = nkeep - 1; k >= 0; k--) {
            int d = keep_axes[k];
            base += (q % in->dims[d]) * st[d];
            q /= in->dims[d];
        }
        /* the joined elements: the first listed axis varies fastest */
        size_t len = count > 1 ? seplen * (size_t)(count - 1) : 0;
        for (int pass = 0; pass < 2; pass++) {
            char *dst = NULL;
            if (pass) {
                dst = tfc_string_alloc(out, len);
                if (len && !dst) return oom(c);
                ((tfc_string *)out->data)[o] = (tfc_string){dst, len};
            }
            for (int64_t j = 0; j < count; j++) {
                int64_t off = base, jq = j;
                for (int i = 0; i < n; i++) {
                    off += (jq % in->dims[axes[i]]) * st[axes[i]];
                    jq /= in->dims[axes[i]];
                }
                tfc_string e = tfc_string_at(in, off);
                if (!pass) {
                    len += e.len;
                    continue;
                }
                if (j && seplen) {
                    memcpy(dst, sep, seplen);
                    dst += seplen;
                }
                if (e.len) memcpy(dst, e.data, e.len);
                dst += e.len;
            }
        }
    }
}

/* ---- AsString(input: T) -> string ---- */

typedef struct as_string_data {
    char fmt[32];
} as_string_data;

static int as_string_infer(tfc_infer_ctx *c) {
    tfc_dtype dt = tfc_infer_input_dtype(c, 0);
    int64_t precision = tfc_attrs_int(c->attrs, "precision", -1);
    int64_t width = tfc_attrs_int(c->attrs, "width", -1);
    int scientific = (int)tfc_attrs_int(c->attrs, "scientific", 0);
    int shortest = (int)tfc_attrs_int(c->attrs, "shortest", 0);
    const char *fill = str_attr(c->attrs, "fill", "");
    int real = dt == TFC_FLOAT || dt == TFC_DOUBLE;
    if (!real && dt != TFC_INT32 && dt != TFC_INT64 && dt != TFC_BOOL)
        return tfc_infer_error(c, "Type not supported: %s", tfc_dtype_name(dt));
    if (!real && (scientific || shortest))
        return tfc_infer_error(c, "scientific and shortest format not supported for datatype %s",
                               tfc_dtype_name(dt));
    if (!real && precision >= 0)
        return tfc_infer_error(c, "precision not supported for datatype %s", tfc_dtype_name(dt));
    if (strlen(fill) > 1) return tfc_infer_error(c, "Fill string must be one or fewer characters");
    /* the fill becomes a printf flag, so only the flags are safe */
    if (*fill && !strchr(" 0-+#", *fill))
        return tfc_infer_error(c,
                               "fill '%s' is not supported (one of \" \", \"0\", \"-\", \"+\", "
                               "\"#\")",
                               fill);
    if (scientific && shortest)
        return tfc_infer_error(c, "Cannot select both scientific and shortest notation");
    if (width > 1000 || precision > 1000)
        return tfc_infer_error(c, "width and precision must be at most 1000");
    as_string_data *d = calloc(1, sizeof *d);
    if (!d) return tfc_infer_error(c, "out of memory");
    int k = snprintf(d->fmt, sizeof d->fmt, "%%");
    if (width > -1) k += snprintf(d->fmt + k, sizeof d->fmt - k, "%s%d", fill, (int)width);
    if (precision > -1) k += snprintf(d->fmt + k, sizeof d->fmt - k, ".%d", (int)precision);
    snprintf(d->fmt + k, sizeof d->fmt - k, "%s",
             dt == TFC_INT64 ? "lld"
             : !real         ? "d"
             : shortest      ? "g"
             : scientific    ? "e"
                             : "f");
    c->op_data = d;
    tfc_attrs_set_int(c->attrs, "T", TFC_ATTR_TYPE, dt);
    tfc_infer_set_output(c, 0, TFC_STRING, tfc_infer_input_shape(c, 0));
    return 0;
}

/* the format is built from checked attrs only */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
static void as_string_kernel(tfc_kernel_ctx *c) {
    const tfc_tensor *x = c->inputs[0];
    const char *fmt = ((const as_string_data *)c->node->op_data)->fmt;
    tfc_tensor *out = tfc_kernel_output(c, 0, TFC_STRING, x->rank, x->dims);
    if (!out) return;
    for (int64_t i = 0; i < x->nelem; i++) {
        int rc;
        switch (x->dtype) {
        case TFC_BOOL:
            rc = ((const uint8_t *)x->data)[i] ? tfc_string_set(out, i, "true", 4)
                                               : tfc_string_set(out, i, "false", 5);
            break;
        case TFC_INT32: rc = str_set_printf(out, i, fmt, ((const int32_t *)x->data)[i]); break;
        case TFC_INT64:
            rc = str_set_printf(out, i, fmt, (long long)((const int64_t *)x->data)[i]);
            break;
        case TFC_FLOAT:
            rc = str_set_printf(out, i, fmt, (double)((const float *)x->data)[i]);
            break;
        default: rc = str_set_printf(out, i, fmt, ((const double *)x->data)[i]); break;
        }
        if (rc) return oom(c);
    }
}
#pragma GCC diagnostic pop

/* ---- StringToNumber(string_tensor) -> out_type ---- */

static int to_number_infer(tfc_infer_ctx *c) {
    if (str_check_input(c, 0, "string_tensor")) return -1;
    tfc_dtype dt = tfc_attrs_type(c->attrs, "out_type", TFC_FLOAT);
    if (dt != TFC_FLOAT && dt != TFC_DOUBLE && dt != TFC_INT32 && dt != TFC_INT64)
        return tfc_infer_error(c, "out_type must be float32, float64, int32 or int64, got %s",
                               tfc_dtype_name(dt));
    tfc_attrs_set_int(c->attrs, "out_type", TFC_ATTR_TYPE, dt);
    tfc_infer_set_output(c, 0, dt, tfc_infer_input_shape(c, 0));
    return 0;
}

static void to_number_kernel(tfc_kernel_ctx *c) {
    const tfc_tensor *x = c->inputs[0];
    tfc_dtype dt = c->node->out_dtypes[0];
    tfc_tensor *out = tfc_kernel_output(c, 0, dt, x->rank, x->dims);
    if (!out) return;
    for (int64_t i = 0; i < x->nelem; i++) {
        tfc_string s = tfc_string_at(x, i);
        int ok;
        switch (dt) {
        case TFC_FLOAT: ok = str_parse_float(s.data, s.len, (float *)out->data + i); break;
        case TFC_DOUBLE: ok = str_parse_double(s.data, s.len, (double *)out->data + i); break;
        case TFC_INT32: ok = str_parse_int32(s.data, s.len, (int32_t *)out->data + i); break;
        default: ok = str_parse_int64(s.data, s.len, (int64_t *)out->data + i); break;
        }
        if (!ok) {
            tfc_kernel_error(c, TFC_INVALID_ARGUMENT,
                             "StringToNumberOp could not correctly convert string: %.*s",
                             (int)(s.len > 200 ? 200 : s.len), s.data);
            return;
        }
    }
}

/* ---- StringToHashBucketFast(input) -> int64: Fingerprint64 % num_buckets ---- */

static int hash_bucket_infer(tfc_infer_ctx *c) {
    if (str_check_input(c, 0, "input")) return -1;
    int64_t nb = tfc_attrs_int(c->attrs, "num_buckets", 0);
    if (nb < 1)
        return tfc_infer_error(c, "num_buckets must be at least 1, got %lld", (long long)nb);
    tfc_infer_set_output(c, 0, TFC_INT64, tfc_infer_input_shape(c, 0));
    return 0;
}

static void hash_bucket_kernel(tfc_kernel_ctx *c) {
    const tfc_tensor *x = c->inputs[0];
    uint64_t nb = (uint64_t)tfc_attrs_int(&c->node->attrs, "num_buckets", 1);
    tfc_tensor *out = tfc_kernel_output(c, 0, TFC_INT64, x->rank, x->dims);
    if (!out) return;
    int64_t *o = out->data;
    for (int64_t i = 0; i < x->nelem; i++) {
        tfc_string s = tfc_string_at(x, i);
        o[i] = (int64_t)(tfc_fingerprint64(s.data, s.len) % nb);
    }
}

const tfc_op_def tfc_ops_string[] = {
    {"StringJoin", 1, -1, 1, STR_OP, 0, join_infer, join_kernel, NULL},
    {"StringSplit", 2, 2, 3, STR_OP, 0, split_infer, split_kernel, NULL},
    {"StringSplitV2", 2, 2, 3, STR_OP, 0, split_infer, split_kernel, NULL},
    {"Substr", 3, 3, 1, STR_OP, 0, substr_infer, substr_kernel, NULL},
    {"ReduceJoin", 2, 2, 1, STR_OP, 0, reduce_join_infer, reduce_join_kernel, NULL},
    {"AsString", 1, 1, 1, STR_OP, 0, as_string_infer, as_string_kernel, NULL},
    {"StringToNumber", 1, 1, 1, STR_OP, 0, to_number_infer, to_number_kernel, NULL},
    {"StringToHashBucketFast", 1, 1, 1, STR_OP, 0, hash_bucket_infer, hash_bucket_kernel, NULL},
    {NULL, 0, 0, 0, 0, 0, NULL, NULL, NULL},
};

/* ---- public helpers ---- */

static const tfc_output null_out = {NULL, 0};

tfc_output tfc_const_string(tfc_graph *g, const char *s) {
    if (!g) return null_out;
    tfc_tensor *t = s ? tfc_tensor_scalar_string(s, (size_t)-1) : NULL;
    if (!t) {
        tfc_graph_fail(g, TFC_INVALID_ARGUMENT, "tfc_const_string: NULL string");
        return null_out;
    }
    tfc_output o = tfc_const(g, t);
    tfc_tensor_free(t);
    return o;
}

tfc_output tfc_const_strings(tfc_graph *g, int rank, const int64_t *dims, const char *const *strs,
                             const size_t *lens) {
    if (!g) return null_out;
    tfc_tensor *t = tfc_tensor_from_strings(rank, dims, strs, lens);
    if (!t) {
        tfc_graph_fail(g, TFC_INVALID_ARGUMENT, "tfc_const_strings: bad shape or NULL string");
        return null_out;
    }
    tfc_output o = tfc_const(g, t);
    tfc_tensor_free(t);
    return o;
}

tfc_output tfc_string_join(tfc_graph *g, const tfc_output *inputs, int n, const char *separator) {
    tfc_op_desc *d = tfc_op_new(g, "StringJoin", NULL);
    tfc_op_add_inputs(d, inputs, n);
    tfc_op_set_attr_string(d, "separator", separator ? separator : "");
    return tfc_out(tfc_op_finish(d), 0);
}

static void sparse_out(tfc_node *n, tfc_output out[3]) {
    for (int i = 0; i < 3; i++) out[i] = n ? tfc_out(n, i) : null_out;
}

void tfc_string_split(tfc_graph *g, tfc_output source, tfc_output delimiter, int skip_empty,
                      tfc_output out[3]) {
    tfc_op_desc *d = tfc_op_new(g, "StringSplit", NULL);
    tfc_op_add_input(d, source);
    tfc_op_add_input(d, delimiter);
    tfc_op_set_attr_bool(d, "skip_empty", skip_empty);
    sparse_out(tfc_op_finish(d), out);
}

void tfc_string_split_v2(tfc_graph *g, tfc_output source, tfc_output sep, int64_t maxsplit,
                         tfc_output out[3]) {
    tfc_op_desc *d = tfc_op_new(g, "StringSplitV2", NULL);
    tfc_op_add_input(d, source);
    tfc_op_add_input(d, sep);
    tfc_op_set_attr_int(d, "maxsplit", maxsplit);
    sparse_out(tfc_op_finish(d), out);
}

tfc_output tfc_substr(tfc_graph *g, tfc_output input, tfc_output pos, tfc_output len) {
    tfc_op_desc *d = tfc_op_new(g, "Substr", NULL);
    tfc_op_add_input(d, input);
    tfc_op_add_input(d, pos);
    tfc_op_add_input(d, len);
    return tfc_out(tfc_op_finish(d), 0);
}

tfc_output tfc_reduce_join(tfc_graph *g, tfc_output input, const int32_t *axes, int naxes,
                           int keep_dims, const char *separator) {
    tfc_op_desc *d = tfc_op_new(g, "ReduceJoin", NULL);
    tfc_op_add_input(d, input);
    int32_t all[TFC_MAX_RANK];
    if (!axes) {
        /* as tf.reduce_join with axis None: every dim, outermost first */
        tfc_shape s = tfc_output_shape(input);
        naxes = s.rank < 0 ? 0 : s.rank;
        for (int i = 0; i < naxes; i++) all[i] = i;
        axes = all;
        if (g && input.node && s.rank < 0) {
            tfc_graph_fail(g, TFC_INVALID_ARGUMENT,
                           "tfc_reduce_join: axes NULL needs an input of known rank");
            tfc_op_finish(d);
            return null_out;
        }
    }
    tfc_op_add_input(d, tfc_const_ints(g, axes, naxes));
    tfc_op_set_attr_bool(d, "keep_dims", keep_dims);
    tfc_op_set_attr_string(d, "separator", separator ? separator : "");
    return tfc_out(tfc_op_finish(d), 0);
}

tfc_output tfc_as_string(tfc_graph *g, tfc_output input, int precision, int scientific,
                         int shortest, int width, const char *fill) {
    tfc_op_desc *d = tfc_op_new(g, "AsString", NULL);
    tfc_op_add_input(d, input);
    tfc_op_set_attr_int(d, "precision", precision);
    tfc_op_set_attr_bool(d, "scientific", scientific);
    tfc_op_set_attr_bool(d, "shortest", shortest);
    tfc_op_set_attr_int(d, "width", width);
    tfc_op_set_attr_string(d, "fill", fill ? fill : "");
    return tfc_out(tfc_op_finish(d), 0);
}

tfc_output tfc_string_to_number(tfc_graph *g, tfc_output input, tfc_dtype out_type) {
    tfc_op_desc *d = tfc_op_new(g, "StringToNumber", NULL);
    tfc_op_add_input(d, input);
    tfc_op_set_attr_type(d, "out_type", out_type);
    return tfc_out(tfc_op_finish(d), 0);
}

tfc_output tfc_string_to_hash_bucket_fast(tfc_graph *g, tfc_output input, int64_t num_buckets) {
    tfc_op_desc *d = tfc_op_new(g, "StringToHashBucketFast", NULL);
    tfc_op_add_input(d, input);
    tfc_op_set_attr_int(d, "num_buckets", num_buckets);
    return tfc_out(tfc_op_finish(d), 0);
}
