/* Linear algebra on batches of matrices ([..., M, N]), float32 and float64:
 * MatrixInverse and MatrixDeterminant through LAPACK's LU routines (getrf,
 * getri) in OpenBLAS, and BatchMatMul, the product their gradients are
 * written with (TensorFlow's linalg_grad.py), so gradients of gradients work.
 *
 * Which matrix is factored matters: TensorFlow's MatrixInverse factors A
 * (A^H with adjoint) with Eigen's partial-pivot LU and calls the input "not
 * invertible" only when a pivot is exactly zero; MatrixDeterminant is 0 only
 * then too. LU of A and LU of A^T round differently, so a singular matrix
 * whose elimination of A is exact can leave a tiny nonzero pivot in A^T's,
 * and whether it does depends on the BLAS (x86-64's OpenBLAS found 0 where
 * arm64's did not). LAPACK is column-major and tfc row-major, so each matrix
 * is transposed into LAPACK's layout first: getrf factors the matrix
 * TensorFlow factors, so the two agree on every machine wherever that
 * elimination is exact (tests/test_linalg.c). */
#include "autodiff/grad_util.h"
#include "ops/gemm.h"

#include <limits.h>
#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

/* LAPACK's Fortran entry points, as Debian's OpenBLAS exports them
 * (32-bit integers: openblas.pc says USE_64BITINT is off). */
extern void sgetrf_(const int *m, const int *n, float *a, const int *lda, int *ipiv, int *info);
extern void dgetrf_(const int *m, const int *n, double *a, const int *lda, int *ipiv, int *info);
extern void sgetri_(const int *n, float *a, const int *lda, const int *ipiv, float *work,
                    const int *lwork, int *info);
extern void dgetri_(const int *n, double *a, const int *lda, const int *ipiv, double *work,
                    const int *lwork, int *info);

/* LAPACK indexes an M x M matrix with 32-bit integers. */
#define LINALG_MAX_DIM 46340

static int float_type(tfc_dtype dt) { return dt == TFC_FLOAT || dt == TFC_DOUBLE; }

/* ---- shape functions ---- */

/* Checks a [..., M, M] float input; returns its shape (square dims merged)
 * in *s, or -1 after recording the error. */
static int square_input(tfc_infer_ctx *c, tfc_shape *s) {
    tfc_dtype dt = tfc_infer_input_dtype(c, 0);
    if (!float_type(dt))
        return tfc_infer_error(c, "expected float32 or float64, got %s", tfc_dtype_name(dt));
    *s = tfc_infer_input_shape(c, 0);
    char buf[96];
    if (s->rank >= 0 && s->rank < 2)
        return tfc_infer_error(c, "input must have rank >= 2 (a batch of matrices), got shape %s",
                               tfc_shape_str(s, buf, sizeof buf));
    if (s->rank >= 2) {
        int64_t *m = &s->dims[s->rank - 2], *n = &s->dims[s->rank - 1];
        if (*m >= 0 && *n >= 0 && *m != *n)
            return tfc_infer_error(c, "input matrices must be square, got shape %s",
                                   tfc_shape_str(s, buf, sizeof buf));
        if (*m < 0) *m = *n;
        if (*n < 0) *n = *m;
    }
    tfc_attrs_set_int(c->attrs, "T", TFC_ATTR_TYPE, dt);
    return 0;
}

static int inverse_infer(tfc_infer_ctx *c) {
    tfc_shape s;
    if (square_input(c, &s)) return -1;
    tfc_attrs_set_int(c->attrs, "adjoint", TFC_ATTR_BOOL,
                      tfc_attrs_int(c->attrs, "adjoint", 0) != 0);
    tfc_infer_set_output(c, 0, tfc_infer_input_dtype(c, 0), s);
    return 0;
}

static int determinant_infer(tfc_infer_ctx *c) {
    tfc_shape s;
    if (square_input(c, &s)) return -1;
    if (s.rank >= 2) s.rank -= 2;
    tfc_infer_set_output(c, 0, tfc_infer_input_dtype(c, 0), s);
    return 0;
}

/* ---- kernels ---- */

/* The batch size and matrix order of a [..., M, M] input, or -1 after
 * reporting why not. */
static int64_t square_batch(tfc_kernel_ctx *c, const tfc_tensor *x, int *m) {
    char buf[96];
    if (!float_type(x->dtype) || x->rank < 2 || x->dims[x->rank - 1] != x->dims[x->rank - 2]) {
        tfc_kernel_error(c, TFC_INVALID_ARGUMENT,
                         "input must be a batch of square float32 or float64 matrices, got %s %s",
                         tfc_dtype_name(x->dtype), tfc_dims_str(x->rank, x->dims, buf, sizeof buf));
        return -1;
    }
    if (x->dims[x->rank - 1] > LINALG_MAX_DIM) {
        tfc_kernel_error(c, TFC_INVALID_ARGUMENT, "matrices of order %lld exceed LAPACK's limit %d",
                         (long long)x->dims[x->rank - 1], LINALG_MAX_DIM);
        return -1;
    }
    *m = (int)x->dims[x->rank - 1];
    return tfc_dims_num_elements(x->rank - 2, x->dims);
}

typedef struct lu_job {
    const char *in;
    char *out;
    int m, adjoint, is_float;
    atomic_llong first_singular; /* smallest singular matrix's index, else LLONG_MAX */
    atomic_int out_of_memory;
} lu_job;

static void note_singular(lu_job *j, int64_t b) {
    long long cur = atomic_load(&j->first_singular);
    while (b < cur && !atomic_compare_exchange_weak(&j->first_singular, &cur, b)) {
    }
}

/* dst = src^T for an m x m matrix of 4- or 8-byte elements: between tfc's
 * row-major layout and LAPACK's column-major one. */
static void transpose_square(void *dst, const void *src, int m, int is_float) {
    for (int r = 0; r < m; r++)
        for (int k = 0; k < m; k++) {
            size_t to = (size_t)r * m + k, from = (size_t)k * m + r;
            if (is_float)
                ((float *)dst)[to] = ((const float *)src)[from];
            else
                ((double *)dst)[to] = ((const double *)src)[from];
        }
}

static void transpose_in_place(void *a, int m, int is_float) {
    for (int r = 0; r < m; r++)
        for (int k = r + 1; k < m; k++) {
            size_t x = (size_t)r * m + k, y = (size_t)k * m + r;
            if (is_float) {
                float t = ((float *)a)[x];
                ((float *)a)[x] = ((float *)a)[y];
                ((float *)a)[y] = t;
            } else {
                double t = ((double *)a)[x];
                ((double *)a)[x] = ((double *)a)[y];
                ((double *)a)[y] = t;
            }
        }
}

/* Matrices [b0, b1) inverted in place in the output, with a pivot array
 * and a getri workspace per range. M is the matrix TensorFlow factors (A,
 * or A^T with adjoint), held column-major: A's transpose, or A's row-major
 * bytes as they are; getri leaves M^-1 column-major, transposed at the end
 * into the row-major result. */
static void inverse_range(void *arg, int64_t b0, int64_t b1) {
    lu_job *j = arg;
    /* 64 columns of workspace: getri's blocked size (ilaenv's NB) */
    int m = j->m, info = 0, lwork = m * 64;
    size_t esz = j->is_float ? sizeof(float) : sizeof(double), mm = (size_t)m * (size_t)m;
    int *ipiv = malloc((size_t)m * sizeof *ipiv);
    void *work = malloc((size_t)lwork * esz);
    if (!ipiv || !work) {
        atomic_store(&j->out_of_memory, 1);
        b1 = b0;
    }
    for (int64_t b = b0; b < b1; b++) {
        char *o = j->out + (size_t)b * mm * esz;
        const char *a = j->in + (size_t)b * mm * esz;
        if (j->adjoint)
            memcpy(o, a, mm * esz);
        else
            transpose_square(o, a, m, j->is_float);
        /* getrf's info > 0 is an exact zero pivot: TensorFlow's test too */
        if (j->is_float)
            sgetrf_(&m, &m, (float *)o, &m, ipiv, &info);
        else
            dgetrf_(&m, &m, (double *)o, &m, ipiv, &info);
        if (info == 0) {
            if (j->is_float)
                sgetri_(&m, (float *)o, &m, ipiv, work, &lwork, &info);
            else
                dgetri_(&m, (double *)o, &m, ipiv, work, &lwork, &info);
        }
        if (info != 0)
            note_singular(j, b);
        else
            transpose_in_place(o, m, j->is_float);
    }
    free(work);
    free(ipiv);
}

/* det = prod(diag(U)) * (-1)^(row swaps), the product kept as a mantissa
 * and a binary exponent so that no partial product overflows or
 * underflows before the end. */
static void determinant_range(void *arg, int64_t b0, int64_t b1) {
    lu_job *j = arg;
    int m = j->m, info = 0;
    size_t esz = j->is_float ? sizeof(float) : sizeof(double), mm = (size_t)m * (size_t)m;
    int *ipiv = malloc((size_t)m * sizeof *ipiv);
    void *lu = malloc(mm * esz);
    if (!ipiv || !lu) {
        atomic_store(&j->out_of_memory, 1);
        b1 = b0;
    }
    for (int64_t b = b0; b < b1; b++) {
        /* A column-major, as TensorFlow factors it (not A^T: see the top) */
        transpose_square(lu, j->in + (size_t)b * mm * esz, m, j->is_float);
        if (j->is_float)
            sgetrf_(&m, &m, lu, &m, ipiv, &info);
        else
            dgetrf_(&m, &m, lu, &m, ipiv, &info);
        double mant = 1;
        int exp2 = 0; /* |exp2| < 46340 * 1100: no overflow */
        for (int i = 0; i < m && info == 0; i++) {
            double u = j->is_float ? ((const float *)lu)[(size_t)i * m + i]
                                   : ((const double *)lu)[(size_t)i * m + i];
            int e1, e2;
            mant = frexp(mant * frexp(ipiv[i] != i + 1 ? -u : u, &e1), &e2);
            exp2 += e1 + e2;
        }
        /* a zero pivot: singular, det 0 (as TensorFlow's sign 0) */
        double det = info > 0 ? 0.0 : ldexp(mant, exp2);
        if (j->is_float)
            ((float *)j->out)[b] = (float)det;
        else
            ((double *)j->out)[b] = det;
    }
    free(lu);
    free(ipiv);
}

/* Matrices per parallel range: about 2^15 multiply-adds of LU each. */
static int64_t lu_grain(int m) {
    int64_t work = (int64_t)m * m * m + 1;
    return work >= 32768 ? 1 : 32768 / work;
}

static void inverse_kernel(tfc_kernel_ctx *c) {
    const tfc_tensor *x = c->inputs[0];
    int m;
    int64_t batch = square_batch(c, x, &m);
    if (batch < 0) return;
    tfc_tensor *out = tfc_kernel_output(c, 0, x->dtype, x->rank, x->dims);
    if (!out || out->nelem == 0) return;
    lu_job j = {x->data,
                out->data,
                m,
                tfc_attrs_int(&c->node->attrs, "adjoint", 0) != 0,
                x->dtype == TFC_FLOAT,
                LLONG_MAX,
                0};
    tfc_parallel_for(c->pool, batch, lu_grain(m), inverse_range, &j);
    long long bad = atomic_load(&j.first_singular);
    if (atomic_load(&j.out_of_memory))
        tfc_kernel_error(c, TFC_RESOURCE_EXHAUSTED, "out of memory for LAPACK's workspace");
    else if (bad != LLONG_MAX && batch > 1)
        tfc_kernel_error(c, TFC_INVALID_ARGUMENT, "Input is not invertible. (matrix %lld of %lld)",
                         bad, (long long)batch);
    else if (bad != LLONG_MAX)
        tfc_kernel_error(c, TFC_INVALID_ARGUMENT, "Input is not invertible.");
}

static void determinant_kernel(tfc_kernel_ctx *c) {
    const tfc_tensor *x = c->inputs[0];
    int m;
    int64_t batch = square_batch(c, x, &m);
    if (batch < 0) return;
    tfc_tensor *out = tfc_kernel_output(c, 0, x->dtype, x->rank - 2, x->dims);
    if (!out || out->nelem == 0) return;
    if (m == 0) { /* the determinant of an empty matrix is 1 */
        for (int64_t b = 0; b < batch; b++) {
            if (x->dtype == TFC_FLOAT)
                ((float *)out->data)[b] = 1;
            else
                ((double *)out->data)[b] = 1;
        }
        return;
    }
    lu_job j = {x->data, out->data, m, 0, x->dtype == TFC_FLOAT, LLONG_MAX, 0};
    tfc_parallel_for(c->pool, batch, lu_grain(m), determinant_range, &j);
    if (atomic_load(&j.out_of_memory))
        tfc_kernel_error(c, TFC_RESOURCE_EXHAUSTED, "out of memory for LAPACK's workspace");
}

/* ---- BatchMatMul(x [..., r, c], y [..., r', c']): adj_x / adj_y transpose
 * the last two dims; the batch dims must be equal (TensorFlow's first
 * version, without broadcasting). ---- */

typedef struct bmm_dims {
    int64_t m, n, ka, kb;
} bmm_dims;

static bmm_dims bmm_sizes(int rank_x, const int64_t *dx, int rank_y, const int64_t *dy, int ax,
                          int ay) {
    bmm_dims d = {dx[rank_x - (ax ? 1 : 2)], dy[rank_y - (ay ? 2 : 1)], dx[rank_x - (ax ? 2 : 1)],
                  dy[rank_y - (ay ? 1 : 2)]};
    return d;
}

static int bmm_infer(tfc_infer_ctx *c) {
    tfc_dtype dt = tfc_infer_same_dtype(c, 0, 2, TFC_INVALID_DTYPE);
    if (dt == TFC_INVALID_DTYPE) return -1;
    if (!float_type(dt))
        return tfc_infer_error(c, "expected float32 or float64, got %s", tfc_dtype_name(dt));
    int ax = tfc_attrs_int(c->attrs, "adj_x", 0) != 0,
        ay = tfc_attrs_int(c->attrs, "adj_y", 0) != 0;
    tfc_attrs_set_int(c->attrs, "adj_x", TFC_ATTR_BOOL, ax);
    tfc_attrs_set_int(c->attrs, "adj_y", TFC_ATTR_BOOL, ay);
    tfc_attrs_set_int(c->attrs, "T", TFC_ATTR_TYPE, dt);
    tfc_shape sx = tfc_infer_input_shape(c, 0), sy = tfc_infer_input_shape(c, 1);
    char b1[96], b2[96];
    for (int i = 0; i < 2; i++) {
        tfc_shape s = i ? sy : sx;
        if (s.rank >= 0 && s.rank < 2)
            return tfc_infer_error(c, "In[%d] must have rank >= 2, got shape %s", i,
                                   tfc_shape_str(&s, b1, sizeof b1));
    }
    if (sx.rank < 0 || sy.rank < 0) {
        tfc_infer_set_output(c, 0, dt, tfc_shape_unknown());
        return 0;
    }
    bmm_dims d = bmm_sizes(sx.rank, sx.dims, sy.rank, sy.dims, ax, ay);
    int bad = sx.rank != sy.rank || (d.ka >= 0 && d.kb >= 0 && d.ka != d.kb);
    tfc_shape out = sx;
    for (int i = 0; !bad && i < sx.rank - 2; i++) {
        bad = sx.dims[i] >= 0 && sy.dims[i] >= 0 && sx.dims[i] != sy.dims[i];
        if (out.dims[i] < 0) out.dims[i] = sy.dims[i];
    }
    if (bad)
        return tfc_infer_error(c,
                               "shapes %s and %s do not multiply (adj_x=%d, adj_y=%d): the "
                               "batch dims must be equal and the inner dims agree",
                               tfc_shape_str(&sx, b1, sizeof b1), tfc_shape_str(&sy, b2, sizeof b2),
                               ax, ay);
    out.dims[out.rank - 2] = d.m;
    out.dims[out.rank - 1] = d.n;
    tfc_infer_set_output(c, 0, dt, out);
    return 0;
}

static void bmm_kernel(tfc_kernel_ctx *c) {
    const tfc_tensor *x = c->inputs[0], *y = c->inputs[1];
    int ax = tfc_attrs_int(&c->node->attrs, "adj_x", 0) != 0;
    int ay = tfc_attrs_int(&c->node->attrs, "adj_y", 0) != 0;
    char b1[96], b2[96];
    int bad = x->dtype != y->dtype || !float_type(x->dtype) || x->rank < 2 || x->rank != y->rank;
    bmm_dims d = {0, 0, 0, 0};
    if (!bad) d = bmm_sizes(x->rank, x->dims, y->rank, y->dims, ax, ay);
    for (int i = 0; !bad && i < x->rank - 2; i++) bad = x->dims[i] != y->dims[i];
    if (bad || d.ka != d.kb) {
        tfc_kernel_error(c, TFC_INVALID_ARGUMENT,
                         "In[0] %s and In[1] %s do not multiply (adj_x=%d, adj_y=%d)",
                         tfc_dims_str(x->rank, x->dims, b1, sizeof b1),
                         tfc_dims_str(y->rank, y->dims, b2, sizeof b2), ax, ay);
        return;
    }
    if (d.m > INT_MAX || d.n > INT_MAX || d.ka > INT_MAX) {
        tfc_kernel_error(c, TFC_INVALID_ARGUMENT, "matrix dimensions exceed the BLAS limit");
        return;
    }
    int64_t dims[TFC_MAX_RANK];
    memcpy(dims, x->dims, sizeof(int64_t) * (size_t)x->rank);
    dims[x->rank - 2] = d.m;
    dims[x->rank - 1] = d.n;
    tfc_tensor *out = tfc_kernel_output(c, 0, x->dtype, x->rank, dims);
    if (!out || out->nelem == 0) return;
    if (d.ka == 0) {
        memset(out->data, 0, out->nbytes);
        return;
    }
    int64_t batch = tfc_dims_num_elements(x->rank - 2, x->dims);
    size_t esz = tfc_dtype_size(x->dtype);
    const char *xs = x->data, *ys = y->data;
    char *os = out->data;
    /* one product after the other: each is split over the pool */
    for (int64_t b = 0; b < batch; b++)
        tfc_gemm(c->pool, x->dtype, ax, ay, d.m, d.n, d.ka, xs + (size_t)(b * d.m * d.ka) * esz,
                 ys + (size_t)(b * d.ka * d.n) * esz, 0.0, os + (size_t)(b * d.m * d.n) * esz);
}

/* ---- gradients ---- */

static tfc_output bmm(tfc_graph *g, tfc_output x, tfc_output y, int adj_x, int adj_y) {
    tfc_op_desc *d = tfc_op_new(g, "BatchMatMul", NULL);
    tfc_op_add_input(d, x);
    tfc_op_add_input(d, y);
    tfc_op_set_attr_bool(d, "adj_x", adj_x);
    tfc_op_set_attr_bool(d, "adj_y", adj_y);
    return tfc_out(tfc_op_finish(d), 0);
}

static tfc_output matrix_inverse(tfc_graph *g, tfc_output x, int adjoint) {
    tfc_op_desc *d = tfc_op_new(g, "MatrixInverse", NULL);
    tfc_op_add_input(d, x);
    tfc_op_set_attr_bool(d, "adjoint", adjoint);
    return tfc_out(tfc_op_finish(d), 0);
}

/* TensorFlow's _BatchMatMul gradient: each operand's gradient is a product
 * of dz with the other operand, transposed as the attrs require. */
static int bmm_grad(tfc_graph *g, tfc_node *op, const tfc_output *dy, tfc_output *dx) {
    if (!dy[0].node) return 0;
    int ax = tfc_attrs_int(&op->attrs, "adj_x", 0) != 0;
    int ay = tfc_attrs_int(&op->attrs, "adj_y", 0) != 0;
    tfc_output x = op->inputs[0], y = op->inputs[1], gz = dy[0];
    if (!ax) {
        dx[0] = ay ? bmm(g, gz, y, 0, 0) : bmm(g, gz, y, 0, 1);
        dx[1] = ay ? bmm(g, gz, x, 1, 0) : bmm(g, x, gz, 1, 0);
    } else {
        dx[0] = ay ? bmm(g, y, gz, 1, 1) : bmm(g, y, gz, 0, 1);
        dx[1] = ay ? bmm(g, gz, x, 1, 1) : bmm(g, x, gz, 0, 0);
    }
    return dx[0].node && dx[1].node ? 0 : -1;
}

/* Y = A^-1 gives dA = -Y^T dY Y^T; with adjoint, Y = (A^T)^-1 and
 * dA = -Y dY^T Y. */
static int inverse_grad(tfc_graph *g, tfc_node *op, const tfc_output *dy, tfc_output *dx) {
    if (!dy[0].node) return 0;
    int adj = tfc_attrs_int(&op->attrs, "adjoint", 0) != 0;
    tfc_output y = tfc_out(op, 0);
    dx[0] = tfc_neg(g, bmm(g, y, bmm(g, dy[0], y, adj, !adj), !adj, 0));
    return dx[0].node ? 0 : -1;
}

/* d det(A) / dA = det(A) A^-T (Jacobi's formula), scaled by dY per matrix.
 * A singular A fails here as in TensorFlow, whose rule this is. */
static int determinant_grad(tfc_graph *g, tfc_node *op, const tfc_output *dy, tfc_output *dx) {
    if (!dy[0].node) return 0;
    tfc_output scale = tfc_mul(g, dy[0], tfc_out(op, 0));
    scale = tfc_expand_dims(g, tfc_expand_dims(g, scale, -1), -1);
    dx[0] = tfc_mul(g, scale, matrix_inverse(g, op->inputs[0], 1));
    return dx[0].node ? 0 : -1;
}

const tfc_op_def tfc_ops_linalg[] = {
    {"MatrixInverse", 1, 1, 1, 0, 0, inverse_infer, inverse_kernel, inverse_grad},
    {"MatrixDeterminant", 1, 1, 1, 0, 0, determinant_infer, determinant_kernel, determinant_grad},
    {"BatchMatMul", 2, 2, 1, 0, 0, bmm_infer, bmm_kernel, bmm_grad},
    {NULL, 0, 0, 0, 0, 0, NULL, NULL, NULL},
};

/* ---- helpers ---- */

tfc_output tfc_matrix_inverse(tfc_graph *g, tfc_output x, int adjoint) {
    return matrix_inverse(g, x, adjoint != 0);
}

tfc_output tfc_matrix_determinant(tfc_graph *g, tfc_output x) {
    tfc_op_desc *d = tfc_op_new(g, "MatrixDeterminant", NULL);
    tfc_op_add_input(d, x);
    return tfc_out(tfc_op_finish(d), 0);
}
