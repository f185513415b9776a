/* TopKV2 and InTopKV2, the family tfc_ops_topk (tf.nn.top_k, tf.nn.in_top_k).
 *
 * TopKV2(input [..., n], k int32 scalar) -> values [..., k], indices int32
 * [..., k]: the k largest entries of each last-dim row, largest first;
 * equal values in order of their index (lower first), as TensorFlow's.
 * NaN ranks above every number. `sorted` = false is accepted and gives the
 * same sorted order (TensorFlow leaves that order unspecified). Each row
 * keeps a heap of its k best so far: n log k. The gradient sends each
 * value's gradient back to the position it came from (TensorFlow's
 * _TopKGrad), as an UnsortedSegmentSum over the flattened input.
 *
 * InTopKV2(predictions float [batch, classes], targets [batch], k scalar;
 * targets and k int32 or int64) -> bool [batch]: whether fewer than k
 * classes have a prediction strictly above the target's. A target out of
 * range, or a row holding a non-finite prediction, gives false (as in
 * TensorFlow). Not differentiable. */
#include "ops/array_internal.h"

#include "autodiff/grad_util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- TopKV2 ---- */

static int is_sortable(tfc_dtype dt) {
    return dt == TFC_FLOAT || dt == TFC_DOUBLE || dt == TFC_INT32 || dt == TFC_INT64 ||
           dt == TFC_UINT8;
}

static int topk_infer(tfc_infer_ctx *c) {
    tfc_dtype dt = tfc_infer_input_dtype(c, 0);
    if (!is_sortable(dt))
        return tfc_infer_error(c, "input must be a real number type, got %s", tfc_dtype_name(dt));
    if (tfc_infer_input_dtype(c, 1) != TFC_INT32)
        return tfc_infer_error(c, "k must be int32, got %s",
                               tfc_dtype_name(tfc_infer_input_dtype(c, 1)));
    tfc_shape in = tfc_infer_input_shape(c, 0), ks = tfc_infer_input_shape(c, 1);
    if (ks.rank > 0) return tfc_infer_error(c, "k must be a scalar, got rank %d", ks.rank);
    if (in.rank == 0) return tfc_infer_error(c, "input must be at least rank 1, got a scalar");
    int64_t k = -1;
    const tfc_tensor *kt = tfc_infer_input_const(c, 1);
    if (kt) {
        k = tfc_tensor_get_int(kt, 0);
        if (k < 0) return tfc_infer_error(c, "Need k >= 0, got %lld", (long long)k);
        if (in.rank > 0 && in.dims[in.rank - 1] >= 0 && in.dims[in.rank - 1] < k)
            return tfc_infer_error(c, "input must have at least k columns. Had %lld, needed %lld",
                                   (long long)in.dims[in.rank - 1], (long long)k);
    }
    tfc_attrs_set_int(c->attrs, "T", TFC_ATTR_TYPE, dt);
    tfc_attrs_set_int(c->attrs, "sorted", TFC_ATTR_BOOL, tfc_attrs_int(c->attrs, "sorted", 1));
    tfc_shape out = in;
    if (in.rank > 0) out.dims[in.rank - 1] = k;
    tfc_infer_set_output(c, 0, dt, out);
    tfc_infer_set_output(c, 1, TFC_INT32, out);
    return 0;
}

/* Per dtype: `better(a, b)`, does element a rank before element b? The
 * row's heap keeps its worst at the top, so a better element replaces it. */
#define TOPK_FUNCS(T, NAME, ISNAN)                                                      \
    static int NAME##_better(const T *v, int32_t a, int32_t b) {                          \
        T x = v[a], y = v[b];                                                             \
        int nx = ISNAN(x), ny = ISNAN(y);                                                 \
        if (nx || ny) return nx && (!ny || a < b);                                        \
        return x > y || (x == y && a < b);                                                \
    }                                                                                     \
    static void NAME##_sift(const T *v, int32_t *h, int64_t n, int64_t i) {               \
        for (;;) {                                                                        \
            int64_t l = 2 * i + 1, r = l + 1, w = i;                                      \
            if (l < n && NAME##_better(v, h[w], h[l])) w = l;                             \
            if (r < n && NAME##_better(v, h[w], h[r])) w = r;                             \
            if (w == i) return;                                                           \
            int32_t t = h[i];                                                             \
            h[i] = h[w];                                                                  \
            h[w] = t;                                                                     \
            i = w;                                                                        \
        }                                                                                 \
    }                                                                                     \
    /* The k best of row v[0..n) into vals/idx, best first; h holds k ints. */           \
    static void NAME##_row(const T *v, int64_t n, int64_t k, int32_t *h, T *vals,         \
                           int32_t *idx) {                                                \
        if (k == 0) return;                                                               \
        for (int64_t j = 0; j < k; j++) h[j] = (int32_t)j;                                \
        for (int64_t j = k / 2; j-- > 0;) NAME##_sift(v, h, k, j);                        \
        for (int64_t j = k; j < n; j++)                                                   \
            if (NAME##_better(v, (int32_t)j, h[0])) {                                     \
                h[0] = (int32_t)j;                                                        \
                NAME##_sift(v, h, k, 0);                                                  \
            }                                                                             \
        /* pop the worst to the back: the heap ends sorted best first */                  \
        for (int64_t m = k; m > 0; m--) {                                                 \
            idx[m - 1] = h[0];                                                            \
            vals[m - 1] = v[h[0]];                                                        \
            h[0] = h[m - 1];                                                              \
            NAME##_sift(v, h, m - 1, 0);                                                  \
        }                                                                                 \
    }

#define NO_NAN(x) 0
#define FLOAT_NAN(x) isnan(x)
TOPK_FUNCS(float, tk_f32, FLOAT_NAN)
TOPK_FUNCS(double, tk_f64, FLOAT_NAN)
TOPK_FUNCS(int32_t, tk_i32, NO_NAN)
TOPK_FUNCS(int64_t, tk_i64, NO_NAN)
TOPK_FUNCS(uint8_t, tk_u8, NO_NAN)

typedef struct topk_job {
    const tfc_tensor *x;
    tfc_tensor *vals, *idx;
    int64_t n, k;
    int failed; /* out of memory in some chunk */
} topk_job;

static void topk_rows(void *arg, int64_t first, int64_t last) {
    topk_job *j = arg;
    int32_t *h = malloc((size_t)(j->k ? j->k : 1) * sizeof *h);
    if (!h) {
        __atomic_store_n(&j->failed, 1, __ATOMIC_RELAXED);
        return;
    }
    int64_t n = j->n, k = j->k;
    int32_t *ix = (int32_t *)j->idx->data;
    for (int64_t r = first; r < last; r++) {
        switch (j->x->dtype) {
#define ROW(T, NAME)                                                                    \
    NAME##_row((const T *)j->x->data + r * n, n, k, h, (T *)j->vals->data + r * k, ix + r * k); \
    break;
        case TFC_FLOAT: ROW(float, tk_f32)
        case TFC_DOUBLE: ROW(double, tk_f64)
        case TFC_INT32: ROW(int32_t, tk_i32)
        case TFC_INT64: ROW(int64_t, tk_i64)
        default: ROW(uint8_t, tk_u8)
#undef ROW
        }
    }
    free(h);
}

static void topk_kernel(tfc_kernel_ctx *c) {
    const tfc_tensor *x = c->inputs[0], *kt = c->inputs[1];
    if (x->rank < 1 || kt->rank != 0) {
        tfc_kernel_error(c, TFC_INVALID_ARGUMENT, "input must be at least rank 1 and k a "
                         "scalar, got ranks %d and %d", x->rank, kt->rank);
        return;
    }
    int64_t n = x->dims[x->rank - 1], k = tfc_tensor_get_int(kt, 0);
    if (k < 0) {
        tfc_kernel_error(c, TFC_INVALID_ARGUMENT, "Need k >= 0, got %lld", (long long)k);
        return;
    }
    if (n < k) {
        tfc_kernel_error(c, TFC_INVALID_ARGUMENT,
                         "input must have at least k columns. Had %lld, needed %lld",
                         (long long)n, (long long)k);
        return;
    }
    if (n > INT32_MAX) {
        tfc_kernel_error(c, TFC_INVALID_ARGUMENT, "rows of %lld elements exceed int32 indices",
                         (long long)n);
        return;
    }
    int64_t dims[TFC_MAX_RANK];
    memcpy(dims, x->dims, (size_t)x->rank * sizeof *dims);
    dims[x->rank - 1] = k;
    tfc_tensor *vals = tfc_kernel_output(c, 0, x->dtype, x->rank, dims);
    tfc_tensor *idx = vals ? tfc_kernel_output(c, 1, TFC_INT32, x->rank, dims) : NULL;
    if (!idx || vals->nelem == 0) return;
    topk_job j = {x, vals, idx, n, k, 0};
    int64_t rows = x->nelem / n;
    tfc_parallel_for(c->pool, rows, n >= 4096 ? 1 : 4096 / n, topk_rows, &j);
    if (j.failed)
        tfc_kernel_error(c, TFC_RESOURCE_EXHAUSTED, "out of memory for a heap of %lld entries",
                         (long long)k);
}

/* The last dim of t as an int32 scalar: a constant when it is known. */
static tfc_output last_dim(tfc_graph *g, tfc_output t) {
    tfc_shape s = tfc_output_shape(t);
    if (s.rank > 0 && s.dims[s.rank - 1] >= 0 && s.dims[s.rank - 1] <= INT32_MAX)
        return tfc_const_int32(g, (int32_t)s.dims[s.rank - 1]);
    int32_t b = -1, e = 0, st = 1;
    return tfc_strided_slice(g, tfc_shape_of(g, t), tfc_const_ints(g, &b, 1),
                             tfc_const_ints(g, &e, 1), tfc_const_ints(g, &st, 1), 0, 0, 0, 0, 1);
}

/* dx[flat row * n + indices] += dvalues: position p of the flattened
 * indices lies in row p / k. */
static int topk_grad(tfc_graph *g, tfc_node *op, const tfc_output *dy, tfc_output *dx) {
    if (!dy[0].node) return 0;
    tfc_output x = op->inputs[0], idx = tfc_out(op, 1);
    int64_t flat = -1;
    tfc_output n = last_dim(g, x), k = last_dim(g, idx);
    tfc_output nidx = tfc_size(g, idx);
    tfc_output pos = tfc_grad_op(g, "Range",
                                 (tfc_output[3]){tfc_const_int32(g, 0), nidx,
                                                 tfc_const_int32(g, 1)}, 3);
    tfc_output row = tfc_floordiv(g, pos, tfc_maximum(g, k, tfc_const_int32(g, 1)));
    tfc_output ids = tfc_add(g, tfc_reshape(g, idx, 1, &flat), tfc_mul(g, row, n));
    tfc_output in[3] = {tfc_reshape(g, dy[0], 1, &flat), ids, tfc_size(g, x)};
    tfc_output sum = tfc_grad_op(g, "UnsortedSegmentSum", in, 3);
    dx[0] = tfc_reshape_to(g, sum, arr_shape_tensor(g, x, TFC_INT32));
    return dx[0].node ? 0 : -1;
}

/* ---- InTopKV2 ---- */

static int in_topk_infer(tfc_infer_ctx *c) {
    if (tfc_infer_input_dtype(c, 0) != TFC_FLOAT)
        return tfc_infer_error(c, "predictions must be float32, got %s",
                               tfc_dtype_name(tfc_infer_input_dtype(c, 0)));
    if (arr_check_index_input(c, 1, "targets")) return -1;
    tfc_dtype it = tfc_infer_input_dtype(c, 1);
    if (tfc_infer_input_dtype(c, 2) != it)
        return tfc_infer_error(c, "k must have the dtype of targets (%s), got %s",
                               tfc_dtype_name(it), tfc_dtype_name(tfc_infer_input_dtype(c, 2)));
    tfc_shape ps = tfc_infer_input_shape(c, 0), ts = tfc_infer_input_shape(c, 1),
              ks = tfc_infer_input_shape(c, 2);
    if (ps.rank >= 0 && ps.rank != 2)
        return tfc_infer_error(c, "predictions must be 2-dimensional, got rank %d", ps.rank);
    if (ts.rank >= 0 && ts.rank != 1)
        return tfc_infer_error(c, "targets must be 1-dimensional, got rank %d", ts.rank);
    if (ks.rank > 0) return tfc_infer_error(c, "k must be a scalar, got rank %d", ks.rank);
    int64_t batch = ps.rank == 2 ? ps.dims[0] : -1, tb = ts.rank == 1 ? ts.dims[0] : -1;
    if (batch >= 0 && tb >= 0 && batch != tb)
        return tfc_infer_error(c, "First dimension of predictions %lld must match length of "
                               "targets %lld", (long long)batch, (long long)tb);
    tfc_attrs_set_int(c->attrs, "T", TFC_ATTR_TYPE, it);
    tfc_infer_set_output(c, 0, TFC_BOOL, tfc_shape_vector(batch >= 0 ? batch : tb));
    return 0;
}

static void in_topk_kernel(tfc_kernel_ctx *c) {
    const tfc_tensor *p = c->inputs[0], *t = c->inputs[1], *kt = c->inputs[2];
    if (p->rank != 2 || t->rank != 1 || kt->rank != 0 || p->dims[0] != t->dims[0]) {
        char b1[96], b2[96];
        tfc_kernel_error(c, TFC_INVALID_ARGUMENT,
                         "predictions must be [batch, classes], targets [batch] and k a scalar, "
                         "got %s and %s", tfc_dims_str(p->rank, p->dims, b1, sizeof b1),
                         tfc_dims_str(t->rank, t->dims, b2, sizeof b2));
        return;
    }
    int64_t batch = p->dims[0], classes = p->dims[1], k = tfc_tensor_get_int(kt, 0);
    tfc_tensor *out = tfc_kernel_output(c, 0, TFC_BOOL, 1, &batch);
    if (!out) return;
    uint8_t *o = out->data;
    for (int64_t b = 0; b < batch; b++) {
        const float *row = (const float *)p->data + b * classes;
        int64_t target = tfc_tensor_get_int(t, b), above = 0;
        int ok = target >= 0 && target < classes && isfinite(row[target]);
        for (int64_t j = 0; ok && j < classes; j++) {
            if (!isfinite(row[j])) ok = 0;
            else above += row[j] > row[target];
        }
        o[b] = ok && above < k;
    }
}

const tfc_op_def tfc_ops_topk[] = {
    {"TopKV2", 2, 2, 2, 0, 0, topk_infer, topk_kernel, topk_grad},
    {"InTopKV2", 3, 3, 1, TFC_OP_NO_GRADIENT, 0, in_topk_infer, in_topk_kernel, NULL},
    {NULL, 0, 0, 0, 0, 0, NULL, NULL, NULL},
};

tfc_output tfc_top_k(tfc_graph *g, tfc_output input, int k, tfc_output *indices) {
    tfc_op_desc *d = tfc_op_new(g, "TopKV2", NULL);
    tfc_op_add_input(d, input);
    tfc_op_add_input(d, tfc_const_int32(g, k));
    tfc_op_set_attr_bool(d, "sorted", 1);
    tfc_node *n = tfc_op_finish(d);
    if (indices) *indices = tfc_out(n, 1);
    return tfc_out(n, 0);
}

tfc_output tfc_in_top_k(tfc_graph *g, tfc_output predictions, tfc_output targets, int k) {
    tfc_op_desc *d = tfc_op_new(g, "InTopKV2", NULL);
    tfc_op_add_input(d, predictions);
    tfc_op_add_input(d, targets);
    tfc_op_add_input(d, tfc_output_dtype(targets) == TFC_INT64 ? tfc_const_int64(g, k)
                                                               : tfc_const_int32(g, k));
    return tfc_out(tfc_op_finish(d), 0);
}
