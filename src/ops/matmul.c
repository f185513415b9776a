/* MatMul: C = op(A) op(B) for rank-2 A and B, op transposing when the
 * attrs transpose_a / transpose_b say so. float32 and float64 go through
 * CBLAS (OpenBLAS, which the session keeps single-threaded) split by
 * tfc_gemm over the session's pool. int32 and int64 use a plain loop that
 * wraps, split by rows. */
#include "ops/bfloat16_products.h"
#include "ops/gemm.h"
#include "ops/math_internal.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

/* Multiply-adds per row block worth handing to a thread. */
#define MATMUL_BLOCK_WORK (1 << 20)

typedef struct matmul_data {
    int ta, tb;
} matmul_data;

void tfc_math_matmul_transposes(const tfc_node *n, int *ta, int *tb) {
    const matmul_data *d = n->op_data;
    *ta = d->ta;
    *tb = d->tb;
}

static int matmul_dtype_ok(tfc_dtype dt) {
    return dt == TFC_FLOAT || dt == TFC_DOUBLE || dt == TFC_INT32 || dt == TFC_INT64;
}

int tfc_math_matmul_infer(tfc_infer_ctx *c) {
    tfc_dtype dt = tfc_infer_same_dtype(c, 0, 2, TFC_INVALID_DTYPE);
    if (dt == TFC_INVALID_DTYPE) return -1;
    if (!matmul_dtype_ok(dt))
        return tfc_infer_error(c, "dtype %s is not supported (expected float32, float64, int32 "
                                  "or int64)", tfc_dtype_name(dt));
    int ta = tfc_attrs_int(c->attrs, "transpose_a", 0) != 0;
    int tb = tfc_attrs_int(c->attrs, "transpose_b", 0) != 0;
    tfc_shape sa = tfc_infer_input_shape(c, 0), sb = tfc_infer_input_shape(c, 1);
    char b1[96], b2[96];
    for (int i = 0; i < 2; i++) {
        tfc_shape s = i ? sb : sa;
        if (s.rank >= 0 && s.rank != 2)
            return tfc_infer_error(c, "In[%d] must be a matrix (rank 2), got shape %s", i,
                                   tfc_shape_str(&s, b1, sizeof b1));
    }
    int64_t m = -1, n = -1, ka = -1, kb = -1;
    if (sa.rank == 2) {
        m = sa.dims[ta ? 1 : 0];
        ka = sa.dims[ta ? 0 : 1];
    }
    if (sb.rank == 2) {
        n = sb.dims[tb ? 0 : 1];
        kb = sb.dims[tb ? 1 : 0];
    }
    if (ka >= 0 && kb >= 0 && ka != kb)
        return tfc_infer_error(c, "Dimensions must be equal, but are %lld and %lld, with input "
                                  "shapes %s and %s (transpose_a=%d, transpose_b=%d)",
                               (long long)ka, (long long)kb, tfc_shape_str(&sa, b1, sizeof b1),
                               tfc_shape_str(&sb, b2, sizeof b2), ta, tb);
    matmul_data *d = malloc(sizeof *d);
    if (!d) return tfc_infer_error(c, "out of memory");
    d->ta = ta;
    d->tb = tb;
    c->op_data = d;
    tfc_attrs_set_int(c->attrs, "transpose_a", TFC_ATTR_BOOL, ta);
    tfc_attrs_set_int(c->attrs, "transpose_b", TFC_ATTR_BOOL, tb);
    tfc_attrs_set_int(c->attrs, "T", TFC_ATTR_TYPE, dt);
    int64_t od[2] = {m, n};
    tfc_infer_set_output(c, 0, dt, tfc_shape_make(2, od));
    return 0;
}

typedef struct matmul_job {
    tfc_dtype dt;
    int ta, tb;
    int64_t m, n, k;
    const char *a, *b;
    char *c;
    size_t esz;
} matmul_job;

/* Integer rows [r0, r1): o[i,:] = sum_p A(i,p) B(p,:), wrapping. */
#define DEF_INT_ROWS(name, T, U)                                                        \
    static void name(const matmul_job *j, int64_t r0, int64_t r1) {                     \
        const T *a = (const T *)j->a, *b = (const T *)j->b;                             \
        T *o = (T *)j->c;                                                               \
        int64_t m = j->m, n = j->n, k = j->k;                                           \
        for (int64_t i = r0; i < r1; i++) {                                             \
            U *restrict row = (U *)(o + i * n);                                         \
            for (int64_t q = 0; q < n; q++) row[q] = 0;                                 \
            for (int64_t p = 0; p < k; p++) {                                           \
                U av = (U)(j->ta ? a[p * m + i] : a[i * k + p]);                        \
                if (j->tb)                                                              \
                    for (int64_t q = 0; q < n; q++) row[q] += av * (U)b[q * k + p];     \
                else                                                                    \
                    for (int64_t q = 0; q < n; q++) row[q] += av * (U)b[p * n + q];     \
            }                                                                           \
        }                                                                               \
    }
DEF_INT_ROWS(rows_i32, int32_t, uint32_t)
DEF_INT_ROWS(rows_i64, int64_t, uint64_t)

static void matmul_rows(void *arg, int64_t r0, int64_t r1) {
    const matmul_job *j = arg;
    if (j->dt == TFC_INT32)
        rows_i32(j, r0, r1);
    else
        rows_i64(j, r0, r1);
}

void tfc_math_matmul_kernel(tfc_kernel_ctx *c) {
    const matmul_data *d = c->node->op_data;
    tfc_math_matmul_run(c, d->ta, d->tb, NULL);
}

void tfc_math_matmul_run(tfc_kernel_ctx *c, int ta, int tb, const tfc_epilogue *ep) {
    const matmul_data dd = {ta, tb}, *d = &dd;
    const tfc_tensor *a = c->inputs[0], *b = c->inputs[1];
    char b1[96], b2[96];
    if (a->rank != 2 || b->rank != 2 || a->dtype != b->dtype || !matmul_dtype_ok(a->dtype)) {
        tfc_kernel_error(c, TFC_INVALID_ARGUMENT, "In[0] and In[1] must be matrices of one "
                         "supported dtype, got %s %s and %s %s", tfc_dtype_name(a->dtype),
                         tfc_dims_str(a->rank, a->dims, b1, sizeof b1), tfc_dtype_name(b->dtype),
                         tfc_dims_str(b->rank, b->dims, b2, sizeof b2));
        return;
    }
    matmul_job j = {a->dtype, d->ta, d->tb, a->dims[d->ta ? 1 : 0], b->dims[d->tb ? 0 : 1],
                    a->dims[d->ta ? 0 : 1], a->data, b->data, NULL, tfc_dtype_size(a->dtype)};
    int64_t kb = b->dims[d->tb ? 1 : 0];
    if (j.k != kb) {
        tfc_kernel_error(c, TFC_INVALID_ARGUMENT, "Matrix size-incompatible: In[0]: %s, In[1]: %s",
                         tfc_dims_str(a->rank, a->dims, b1, sizeof b1),
                         tfc_dims_str(b->rank, b->dims, b2, sizeof b2));
        return;
    }
    if (j.m > INT_MAX || j.n > INT_MAX || j.k > INT_MAX) {
        tfc_kernel_error(c, TFC_INVALID_ARGUMENT, "matrix dimensions exceed the BLAS limit");
        return;
    }
    int64_t od[2] = {j.m, j.n};
    tfc_tensor *out = tfc_kernel_output(c, 0, a->dtype, 2, od);
    if (!out || out->nelem == 0) return;
    j.c = out->data;
    if (j.k == 0) {
        memset(out->data, 0, out->nbytes);
        tfc_epilogue_run(c->pool, ep, j.dt, out->data, j.m, j.n);
        return;
    }
    if (j.dt == TFC_FLOAT && tfc_bf16_products_on(c)) { /* tfc_session_options */
        tfc_bf16_gemm(c, j.ta, j.tb, j.m, j.n, j.k, a->data, b->data, out->data);
        tfc_epilogue_run(c->pool, ep, j.dt, out->data, j.m, j.n);
        return;
    }
    if (j.dt == TFC_FLOAT || j.dt == TFC_DOUBLE) {
        tfc_gemm_then(c->pool, j.dt, j.ta, j.tb, j.m, j.n, j.k, a->data, b->data, out->data, ep);
        return;
    }
    /* integer products: one block per thread at most */
    int threads = tfc_threadpool_size(c->pool);
    int64_t grain = MATMUL_BLOCK_WORK / (j.n * j.k), per_thread = (j.m + threads - 1) / threads;
    if (grain < per_thread) grain = per_thread;
    tfc_parallel_for(c->pool, j.m, grain, matmul_rows, &j);
}

/* Whether `b` is the plain right operand of enough products of `op`'s kind
 * to be a shared weight (grad_util.h). */
static int shared_weight(const tfc_graph *g, const tfc_node *op, tfc_output b) {
    int n = 0;
    for (int i = 0; i < g->nnodes && n < TFC_SHARED_WEIGHT_MIN_PRODUCTS; i++) {
        const tfc_node *m = g->nodes[i];
        const matmul_data *d = m->op == op->op ? m->op_data : NULL;
        n += d && !d->ta && !d->tb && m->inputs[1].node == b.node && m->inputs[1].index == b.index;
    }
    return n >= TFC_SHARED_WEIGHT_MIN_PRODUCTS;
}

/* TensorFlow's formulas: with C = A B, dA = dC B^T and dB = A^T dC, and the
 * transposed variants rearranged so that no explicit transpose is built;
 * but the input gradients of a shared weight's products multiply by the
 * weight transposed (one Transpose per product, merged into one by the
 * plan's CSE): oneDNN runs dC B^T at 150 GFLOP/s and dC (B^T) at 200 at an
 * LSTM cell's 20x400x800. */
int tfc_math_matmul_grad(tfc_graph *g, tfc_node *op, const tfc_output *dy, tfc_output *dx) {
    const matmul_data *d = op->op_data;
    tfc_output a = op->inputs[0], b = op->inputs[1], gr = dy[0];
    if (!d->ta && !d->tb) {
        static const int32_t swap[] = {1, 0};
        dx[0] = shared_weight(g, op, b) ? tfc_matmul(g, gr, tfc_transpose(g, b, swap, 2))
                                        : tfc_matmul_ex(g, gr, b, 0, 1);
        dx[1] = tfc_matmul_ex(g, a, gr, 1, 0);
    } else if (!d->ta && d->tb) {
        dx[0] = tfc_matmul_ex(g, gr, b, 0, 0);
        dx[1] = tfc_matmul_ex(g, gr, a, 1, 0);
    } else if (d->ta && !d->tb) {
        dx[0] = tfc_matmul_ex(g, b, gr, 0, 1);
        dx[1] = tfc_matmul_ex(g, a, gr, 0, 0);
    } else {
        dx[0] = tfc_matmul_ex(g, b, gr, 1, 1);
        dx[1] = tfc_matmul_ex(g, gr, a, 1, 1);
    }
    return 0;
}
