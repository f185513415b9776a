/* Core neural-network ops: the activations Relu, Sigmoid, Tanh and their
 * *Grad ops, Softmax and LogSoftmax over the last dim, the softmax
 * cross-entropy losses (dense and sparse labels), BiasAdd and BiasAddGrad.
 * float32 and float64. The *Grad ops exist so first-order gradients cost one
 * fused kernel; their own gradients are built from graph ops. */
#include "autodiff/grad_util.h"
#include "core/buffer_pool.h"
#include "core/vector_clones.h"
#include "ops/fast_math.h"
#include "ops/softmax_narrow.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Elements per parallel range for element-wise kernels, and the element
 * count per range for row-wise ones. */
#define NN_GRAIN 32768

static int float_dtype(tfc_dtype dt) { return dt == TFC_FLOAT || dt == TFC_DOUBLE; }

static int need_float(tfc_infer_ctx *c, int i, const char *what) {
    tfc_dtype dt = tfc_infer_input_dtype(c, i);
    if (!float_dtype(dt))
        return tfc_infer_error(c, "%s must be float32 or float64, got %s", what,
                               tfc_dtype_name(dt));
    tfc_attrs_set_int(c->attrs, "T", TFC_ATTR_TYPE, dt);
    return 0;
}

/* The more specific of two compatible shapes. */
static tfc_shape merge_shapes(const tfc_shape *a, const tfc_shape *b) {
    if (a->rank < 0) return *b;
    tfc_shape m = *a;
    if (b->rank == a->rank)
        for (int i = 0; i < m.rank; i++)
            if (m.dims[i] < 0) m.dims[i] = b->dims[i];
    return m;
}

/* ------------------------------------------------------------------------ */
/* Activations and their gradient ops                                       */
/* ------------------------------------------------------------------------ */

static int unary_infer(tfc_infer_ctx *c) {
    if (need_float(c, 0, "input")) return -1;
    tfc_infer_set_output(c, 0, tfc_infer_input_dtype(c, 0), tfc_infer_input_shape(c, 0));
    return 0;
}

/* Two inputs of one float dtype and shape (ReluGrad, SigmoidGrad, TanhGrad). */
static int binary_same_infer(tfc_infer_ctx *c) {
    if (need_float(c, 0, "input 0")) return -1;
    tfc_dtype dt = tfc_infer_same_dtype(c, 0, 2, TFC_INVALID_DTYPE);
    if (dt == TFC_INVALID_DTYPE) return -1;
    tfc_shape a = tfc_infer_input_shape(c, 0), b = tfc_infer_input_shape(c, 1);
    if (!tfc_shape_compatible(&a, &b)) {
        char b1[128], b2[128];
        return tfc_infer_error(c, "inputs must have the same shape, got %s and %s",
                               tfc_shape_str(&a, b1, sizeof b1), tfc_shape_str(&b, b2, sizeof b2));
    }
    tfc_infer_set_output(c, 0, dt, merge_shapes(&a, &b));
    return 0;
}

typedef struct ew_job {
    const void *a, *b;
    void *y;
} ew_job;

/* One element-wise kernel per (op, type): `EXPR` reads av = a[i] and, for
 * binary ops (NB 1), bv = b[i]. Both are loaded unconditionally so the
 * compiler can turn selects into vector blends. y may be a or b (written in
 * place), so it is not restrict-qualified; GCC's run-time alias check
 * still vectorizes when y == a. */
#define EW_DEFINE(NAME, T, NB, EXPR)                                                               \
    TFC_VECTOR_CLONES static void NAME(void *arg, int64_t lo, int64_t hi) {                        \
        const ew_job *j = arg;                                                                     \
        const T *a = j->a;                                                                         \
        const T *b = j->b;                                                                         \
        T *y = j->y;                                                                               \
        for (int64_t i = lo; i < hi; i++) {                                                        \
            const T av = a[i], bv = NB ? b[i] : 0;                                                 \
            (void)bv;                                                                              \
            y[i] = (EXPR);                                                                         \
        }                                                                                          \
    }

EW_DEFINE(relu_f, float, 0, av > 0 ? av : 0.0f)
EW_DEFINE(relu_d, double, 0, av > 0 ? av : 0.0)
EW_DEFINE(sigmoid_f, float, 0, tfc_fast_sigmoidf(av))
EW_DEFINE(sigmoid_d, double, 0, 1.0 / (1.0 + exp(-av)))
EW_DEFINE(tanh_f, float, 0, tfc_fast_tanhf(av))
EW_DEFINE(tanh_d, double, 0, tanh(av))
/* ReluGrad(gradients, features) */
EW_DEFINE(relu_grad_f, float, 1, bv > 0 ? av : 0.0f)
EW_DEFINE(relu_grad_d, double, 1, bv > 0 ? av : 0.0)
/* SigmoidGrad(y, dy), TanhGrad(y, dy) */
EW_DEFINE(sigmoid_grad_f, float, 1, bv *av *(1.0f - av))
EW_DEFINE(sigmoid_grad_d, double, 1, bv *av *(1.0 - av))
EW_DEFINE(tanh_grad_f, float, 1, bv *(1.0f - av * av))
EW_DEFINE(tanh_grad_d, double, 1, bv *(1.0 - av * av))

typedef void (*range_fn)(void *, int64_t, int64_t);

static void ew_run(tfc_kernel_ctx *c, range_fn ff, range_fn fd) {
    const tfc_tensor *a = c->inputs[0], *b = c->ninputs > 1 ? c->inputs[1] : NULL;
    if (!float_dtype(a->dtype) || (b && (b->dtype != a->dtype || !tfc_tensor_same_shape(a, b)))) {
        char b1[128], b2[128];
        tfc_kernel_error(c, TFC_INVALID_ARGUMENT,
                         "inputs must be float tensors of one shape, got %s and %s",
                         tfc_dims_str(a->rank, a->dims, b1, sizeof b1),
                         b ? tfc_dims_str(b->rank, b->dims, b2, sizeof b2) : "none");
        return;
    }
    tfc_tensor *y = tfc_kernel_output_in_place(c, 0, a->dtype, a->rank, a->dims);
    if (!y) return;
    ew_job j = {a->data, b ? b->data : NULL, y->data};
    tfc_parallel_for(c->pool, a->nelem, NN_GRAIN, a->dtype == TFC_FLOAT ? ff : fd, &j);
}

static void relu_kernel(tfc_kernel_ctx *c) { ew_run(c, relu_f, relu_d); }
static void sigmoid_kernel(tfc_kernel_ctx *c) { ew_run(c, sigmoid_f, sigmoid_d); }
static void tanh_kernel(tfc_kernel_ctx *c) { ew_run(c, tanh_f, tanh_d); }
static void relu_grad_kernel(tfc_kernel_ctx *c) { ew_run(c, relu_grad_f, relu_grad_d); }
static void sigmoid_grad_kernel(tfc_kernel_ctx *c) { ew_run(c, sigmoid_grad_f, sigmoid_grad_d); }
static void tanh_grad_kernel(tfc_kernel_ctx *c) { ew_run(c, tanh_grad_f, tanh_grad_d); }

static tfc_output op2(tfc_graph *g, const char *type, tfc_output a, tfc_output b) {
    tfc_output in[2] = {a, b};
    return tfc_grad_op(g, type, in, 2);
}

static int relu_grad(tfc_graph *g, tfc_node *op, const tfc_output *dy, tfc_output *dx) {
    dx[0] = op2(g, "ReluGrad", dy[0], tfc_out(op, 0));
    return 0;
}

static int sigmoid_grad(tfc_graph *g, tfc_node *op, const tfc_output *dy, tfc_output *dx) {
    dx[0] = op2(g, "SigmoidGrad", tfc_out(op, 0), dy[0]);
    return 0;
}

static int tanh_grad(tfc_graph *g, tfc_node *op, const tfc_output *dy, tfc_output *dx) {
    dx[0] = op2(g, "TanhGrad", tfc_out(op, 0), dy[0]);
    return 0;
}

/* ReluGrad(g, f) = g * (f > 0): linear in g, piecewise constant in f. */
static int relu_grad_grad(tfc_graph *g, tfc_node *op, const tfc_output *dy, tfc_output *dx) {
    dx[0] = op2(g, "ReluGrad", dy[0], op->inputs[1]);
    dx[1] = tfc_grad_zeros_like(g, op->inputs[1]);
    return 0;
}

/* SigmoidGrad(y, b) = b*y*(1-y): d/dy = b*(1-2y), d/db = y*(1-y). */
static int sigmoid_grad_grad(tfc_graph *g, tfc_node *op, const tfc_output *dy, tfc_output *dx) {
    tfc_output y = op->inputs[0], b = op->inputs[1];
    tfc_dtype dt = tfc_output_dtype(y);
    tfc_output one_m_2y =
        tfc_sub(g, tfc_grad_scalar(g, dt, 1.0), tfc_mul(g, tfc_grad_scalar(g, dt, 2.0), y));
    dx[0] = tfc_mul(g, dy[0], tfc_mul(g, b, one_m_2y));
    dx[1] = op2(g, "SigmoidGrad", y, dy[0]);
    return 0;
}

/* TanhGrad(y, b) = b*(1-y^2): d/dy = -2*b*y, d/db = 1-y^2. */
static int tanh_grad_grad(tfc_graph *g, tfc_node *op, const tfc_output *dy, tfc_output *dx) {
    tfc_output y = op->inputs[0], b = op->inputs[1];
    tfc_dtype dt = tfc_output_dtype(y);
    dx[0] = tfc_mul(g, tfc_mul(g, dy[0], tfc_grad_scalar(g, dt, -2.0)), tfc_mul(g, b, y));
    dx[1] = op2(g, "TanhGrad", y, dy[0]);
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Softmax and LogSoftmax over the last dim                                 */
/* ------------------------------------------------------------------------ */

static int softmax_infer(tfc_infer_ctx *c) {
    if (need_float(c, 0, "logits")) return -1;
    tfc_shape s = tfc_infer_input_shape(c, 0);
    if (s.rank == 0) return tfc_infer_error(c, "logits must have rank >= 1, got a scalar");
    tfc_infer_set_output(c, 0, tfc_infer_input_dtype(c, 0), s);
    return 0;
}

/* The row helpers are inlined into each build of the row kernels (below):
 * called once a row, through the clones' dispatch, they cost more than
 * their work on rows of 10 classes. */
#define ROW_INLINE __attribute__((always_inline))

typedef struct row_job {
    const void *x;      /* logits [rows, n] */
    const void *labels; /* dense labels [rows, n] or class ids [rows] */
    void *y;            /* softmax / log-softmax [rows, n], or loss [rows] */
    void *backprop;     /* [rows, n] for the losses */
    int64_t n;
    int log;     /* log-softmax instead of softmax */
    int label64; /* sparse labels are int64 */
} row_job;

/* exp(x[k] - m) into y[k] for a row whose max is m, returning the sum of
 * the exponentials (in double, so long float rows lose no precision in
 * it). float rows use the vectorizable f_exp_row below; double rows exp. */
static double d_exp_row(const double *x, double m, double *y, int64_t n) {
    double s = 0;
    for (int64_t k = 0; k < n; k++) s += y[k] = exp(x[k] - m);
    return s;
}

/* exp for the shifted logits (v = x - m <= 0) in float, vectorized
 * (fast_math.h; glibc's expf was most of the LSTM language model's softmax
 * loss). Below -87, -inf included, e^v counts as e^-87 = 2e-38: nothing next
 * to the row max's 1. The sum takes eight fixed lanes, then the tail: the
 * same order on every thread count. */
static inline ROW_INLINE double f_exp_row(const float *x, float m, float *y, int64_t n) {
    for (int64_t k = 0; k < n; k++) y[k] = tfc_fast_expf(x[k] - m);
    double lane[8] = {0};
    int64_t k = 0;
    for (; k + 8 <= n; k += 8)
        for (int i = 0; i < 8; i++) lane[i] += (double)y[k + i];
    double s = 0;
    for (; k < n; k++) s += (double)y[k];
    for (int i = 0; i < 8; i++) s += lane[i];
    return s;
}

/* The row max for the shift. Compared as integers (a float's bits, the
 * negative ones' magnitude bits flipped, order as the floats do), so the
 * loop vectorizes. A NaN makes the row NaN either way (its exponential
 * enters the sum), as with a float compare. */
static inline ROW_INLINE float f_row_max(const float *x, int64_t n) {
    int32_t best = INT32_MIN;
    for (int64_t k = 0; k < n; k++) {
        int32_t b;
        memcpy(&b, &x[k], sizeof b);
        b ^= (int32_t)((uint32_t)(b >> 31) >> 1);
        best = b > best ? b : best;
    }
    best ^= (int32_t)((uint32_t)(best >> 31) >> 1);
    float m;
    memcpy(&m, &best, sizeof m);
    return m;
}

static double d_row_max(const double *x, int64_t n) {
    double m = x[0];
    for (int64_t k = 1; k < n; k++) m = x[k] > m ? x[k] : m;
    return m;
}

/* y[k] = y[k] * inv, the product taken in double. */
static inline ROW_INLINE void f_scale_row(float *y, double inv, int64_t n) {
    for (int64_t k = 0; k < n; k++) y[k] = (float)((double)y[k] * inv);
}

static void d_scale_row(double *y, double inv, int64_t n) {
    for (int64_t k = 0; k < n; k++) y[k] = y[k] * inv;
}

/* Row-wise kernels, shifted by the row max so no exponential overflows. */
#define SOFTMAX_DEFINE(NAME, T, EXP)                                                               \
    TFC_VECTOR_CLONES static void NAME##_softmax(void *arg, int64_t lo, int64_t hi) {              \
        const row_job *j = arg;                                                                    \
        for (int64_t r = lo; r < hi; r++) {                                                        \
            const T *x = (const T *)j->x + r * j->n;                                               \
            T *y = (T *)j->y + r * j->n;                                                           \
            T m = NAME##_row_max(x, j->n);                                                         \
            if (j->log) {                                                                          \
                double s = 0;                                                                      \
                for (int64_t k = 0; k < j->n; k++) s += (double)EXP((T)((double)x[k] - m));        \
                double ls = log(s);                                                                \
                for (int64_t k = 0; k < j->n; k++) y[k] = (T)((double)x[k] - m - ls);              \
            } else {                                                                               \
                /* y holds the exponentials, then is scaled: one exp per element */                \
                NAME##_scale_row(y, 1.0 / NAME##_exp_row(x, m, y, j->n), j->n);                    \
            }                                                                                      \
        }                                                                                          \
    }                                                                                              \
    /* loss = sum(labels * (logsumexp - shifted)), backprop = softmax - labels */                  \
    TFC_VECTOR_CLONES static void NAME##_xent(void *arg, int64_t lo, int64_t hi) {                 \
        const row_job *j = arg;                                                                    \
        for (int64_t r = lo; r < hi; r++) {                                                        \
            const T *x = (const T *)j->x + r * j->n;                                               \
            const T *l = (const T *)j->labels + r * j->n;                                          \
            T *bp = (T *)j->backprop + r * j->n;                                                   \
            T m = NAME##_row_max(x, j->n);                                                         \
            double s = NAME##_exp_row(x, m, bp, j->n);                                             \
            double ls = log(s), inv = 1.0 / s, loss = 0;                                           \
            for (int64_t k = 0; k < j->n; k++) {                                                   \
                loss += (double)l[k] * (ls - ((double)x[k] - m));                                  \
                bp[k] = (T)(bp[k] * inv - (double)l[k]);                                           \
            }                                                                                      \
            ((T *)j->y)[r] = (T)loss;                                                              \
        }                                                                                          \
    }                                                                                              \
    /* labels were range-checked before */                                                         \
    TFC_VECTOR_CLONES static void NAME##_sparse_xent(void *arg, int64_t lo, int64_t hi) {          \
        const row_job *j = arg;                                                                    \
        for (int64_t r = lo; r < hi; r++) {                                                        \
            const T *x = (const T *)j->x + r * j->n;                                               \
            T *bp = (T *)j->backprop + r * j->n;                                                   \
            int64_t lab =                                                                          \
                j->label64 ? ((const int64_t *)j->labels)[r] : ((const int32_t *)j->labels)[r];    \
            T m = NAME##_row_max(x, j->n);                                                         \
            double s = NAME##_exp_row(x, m, bp, j->n);                                             \
            NAME##_scale_row(bp, 1.0 / s, j->n);                                                   \
            bp[lab] = (T)(bp[lab] - 1.0);                                                          \
            ((T *)j->y)[r] = (T)(log(s) - ((double)x[lab] - m));                                   \
        }                                                                                          \
    }

SOFTMAX_DEFINE(f, float, expf)
SOFTMAX_DEFINE(d, double, exp)

static int64_t row_grain(int64_t n) { return n >= NN_GRAIN / 4 ? 1 : (NN_GRAIN / 4) / (n ? n : 1); }

/* float rows short enough for softmax_narrow.h's kernels */
static int narrow(const tfc_tensor *x, int64_t n) {
    return x->dtype == TFC_FLOAT && n <= SOFTMAX_NARROW && tfc_softmax_narrow_on();
}

static void narrow_softmax(void *arg, int64_t lo, int64_t hi) {
    const row_job *j = arg;
    tfc_softmax_narrow(j->x, j->n, j->y, lo, hi);
}

static void narrow_xent(void *arg, int64_t lo, int64_t hi) {
    const row_job *j = arg;
    tfc_xent_narrow(j->x, j->labels, j->n, j->y, j->backprop, lo, hi);
}

static void narrow_sparse_xent(void *arg, int64_t lo, int64_t hi) {
    const row_job *j = arg;
    tfc_sparse_xent_narrow(j->x, j->labels, j->label64, j->n, j->y, j->backprop, lo, hi);
}

static void softmax_run(tfc_kernel_ctx *c, int log) {
    const tfc_tensor *x = c->inputs[0];
    if (!float_dtype(x->dtype) || x->rank == 0) {
        tfc_kernel_error(c, TFC_INVALID_ARGUMENT, "logits must be a float tensor of rank >= 1");
        return;
    }
    tfc_tensor *y = tfc_kernel_output(c, 0, x->dtype, x->rank, x->dims);
    if (!y || x->nelem == 0) return;
    row_job j = {x->data, NULL, y->data, NULL, x->dims[x->rank - 1], log, 0};
    void (*rows)(void *, int64_t, int64_t) = x->dtype == TFC_FLOAT ? f_softmax : d_softmax;
    if (narrow(x, j.n) && !log) rows = narrow_softmax;
    tfc_parallel_for(c->pool, x->nelem / j.n, row_grain(j.n), rows, &j);
}

static void softmax_kernel(tfc_kernel_ctx *c) { softmax_run(c, 0); }
static void log_softmax_kernel(tfc_kernel_ctx *c) { softmax_run(c, 1); }

/* d softmax: (dy - sum(dy * y, -1)) * y */
static int softmax_grad(tfc_graph *g, tfc_node *op, const tfc_output *dy, tfc_output *dx) {
    tfc_output y = tfc_out(op, 0);
    int32_t last = -1;
    tfc_output s = tfc_reduce_sum(g, tfc_mul(g, dy[0], y), &last, 1, 1);
    dx[0] = tfc_mul(g, tfc_sub(g, dy[0], s), y);
    return 0;
}

/* d log_softmax: dy - exp(y) * sum(dy, -1) */
static int log_softmax_grad(tfc_graph *g, tfc_node *op, const tfc_output *dy, tfc_output *dx) {
    tfc_output y = tfc_out(op, 0);
    int32_t last = -1;
    tfc_output s = tfc_reduce_sum(g, dy[0], &last, 1, 1);
    dx[0] = tfc_sub(g, dy[0], tfc_mul(g, tfc_exp(g, y), s));
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Softmax cross-entropy                                                    */
/* ------------------------------------------------------------------------ */

static int xent_infer(tfc_infer_ctx *c) {
    if (need_float(c, 0, "features")) return -1;
    tfc_dtype dt = tfc_infer_same_dtype(c, 0, 2, TFC_INVALID_DTYPE);
    if (dt == TFC_INVALID_DTYPE) return -1;
    tfc_shape f = tfc_infer_input_shape(c, 0), l = tfc_infer_input_shape(c, 1);
    char b1[128], b2[128];
    if ((f.rank >= 0 && f.rank != 2) || (l.rank >= 0 && l.rank != 2))
        return tfc_infer_error(c, "features and labels must be 2-D, got %s and %s",
                               tfc_shape_str(&f, b1, sizeof b1), tfc_shape_str(&l, b2, sizeof b2));
    if (!tfc_shape_compatible(&f, &l))
        return tfc_infer_error(c,
                               "logits and labels must be same size: logits_size=%s labels_size=%s",
                               tfc_shape_str(&f, b1, sizeof b1), tfc_shape_str(&l, b2, sizeof b2));
    tfc_shape m = merge_shapes(&f, &l);
    if (m.rank < 0) {
        m.rank = 2;
        m.dims[0] = m.dims[1] = -1;
    }
    tfc_infer_set_output(c, 0, dt, tfc_shape_vector(m.dims[0]));
    tfc_infer_set_output(c, 1, dt, m);
    return 0;
}

static void xent_kernel(tfc_kernel_ctx *c) {
    const tfc_tensor *x = c->inputs[0], *l = c->inputs[1];
    if (x->rank != 2 || !float_dtype(x->dtype) || l->dtype != x->dtype ||
        !tfc_tensor_same_shape(x, l)) {
        char b1[128], b2[128];
        tfc_kernel_error(c, TFC_INVALID_ARGUMENT,
                         "logits and labels must be same size: logits_size=%s labels_size=%s",
                         tfc_dims_str(x->rank, x->dims, b1, sizeof b1),
                         tfc_dims_str(l->rank, l->dims, b2, sizeof b2));
        return;
    }
    tfc_tensor *loss = tfc_kernel_output(c, 0, x->dtype, 1, x->dims);
    tfc_tensor *bp = tfc_kernel_output(c, 1, x->dtype, 2, x->dims);
    if (!loss || !bp) return;
    if (x->dims[1] == 0) {
        memset(loss->data, 0, loss->nbytes);
        return;
    }
    row_job j = {x->data, l->data, loss->data, bp->data, x->dims[1], 0, 0};
    void (*rows)(void *, int64_t, int64_t) = x->dtype == TFC_FLOAT ? f_xent : d_xent;
    if (narrow(x, j.n)) rows = narrow_xent;
    tfc_parallel_for(c->pool, x->dims[0], row_grain(j.n), rows, &j);
}

/* The loss gradient (expanded to [batch, 1]) times the backprop output;
 * for dense labels, -log_softmax(features) times it, as TensorFlow. A
 * gradient flowing into the backprop output (softmax - labels; second-order
 * use) adds the softmax gradient of it for the features and its negation for
 * dense labels. */
static int xent_grad(tfc_graph *g, tfc_node *op, const tfc_output *dy, tfc_output *dx) {
    int dense = strcmp(op->op->type, "SoftmaxCrossEntropyWithLogits") == 0;
    tfc_output gf = {NULL, 0}, gl = {NULL, 0};
    if (dy[0].node) {
        tfc_output dl = tfc_expand_dims(g, dy[0], -1);
        gf = tfc_mul(g, dl, tfc_out(op, 1));
        if (dense) {
            tfc_output ls = tfc_grad_op(g, "LogSoftmax", &op->inputs[0], 1);
            gl = tfc_mul(g, dl, tfc_neg(g, ls));
        }
    }
    if (dy[1].node) {
        tfc_output sm = tfc_grad_op(g, "Softmax", &op->inputs[0], 1);
        int32_t last = -1;
        tfc_output s = tfc_reduce_sum(g, tfc_mul(g, dy[1], sm), &last, 1, 1);
        tfc_output t = tfc_mul(g, tfc_sub(g, dy[1], s), sm);
        gf = gf.node ? tfc_add(g, gf, t) : t;
        if (dense) gl = gl.node ? tfc_sub(g, gl, dy[1]) : tfc_neg(g, dy[1]);
    }
    dx[0] = gf;
    if (dense) dx[1] = gl;
    return 0;
}

static int sparse_xent_infer(tfc_infer_ctx *c) {
    if (need_float(c, 0, "features")) return -1;
    tfc_dtype dt = tfc_infer_input_dtype(c, 0), lt = tfc_infer_input_dtype(c, 1);
    if (lt != TFC_INT32 && lt != TFC_INT64)
        return tfc_infer_error(c, "labels must be int32 or int64, got %s", tfc_dtype_name(lt));
    tfc_attrs_set_int(c->attrs, "Tlabels", TFC_ATTR_TYPE, lt);
    tfc_shape f = tfc_infer_input_shape(c, 0), l = tfc_infer_input_shape(c, 1);
    char b1[128], b2[128];
    if ((f.rank >= 0 && f.rank != 2) || (l.rank >= 0 && l.rank != 1) ||
        (f.rank == 2 && l.rank == 1 && f.dims[0] >= 0 && l.dims[0] >= 0 && f.dims[0] != l.dims[0]))
        return tfc_infer_error(c,
                               "logits must be 2-D [batch, classes] and labels 1-D [batch], got "
                               "logits %s and labels %s",
                               tfc_shape_str(&f, b1, sizeof b1), tfc_shape_str(&l, b2, sizeof b2));
    tfc_shape m = f;
    if (m.rank < 0) {
        m.rank = 2;
        m.dims[0] = m.dims[1] = -1;
    }
    if (m.dims[0] < 0 && l.rank == 1) m.dims[0] = l.dims[0];
    tfc_infer_set_output(c, 0, dt, tfc_shape_vector(m.dims[0]));
    tfc_infer_set_output(c, 1, dt, m);
    return 0;
}

static void sparse_xent_kernel(tfc_kernel_ctx *c) {
    const tfc_tensor *x = c->inputs[0], *l = c->inputs[1];
    if (x->rank != 2 || l->rank != 1 || l->dims[0] != x->dims[0] || !float_dtype(x->dtype) ||
        (l->dtype != TFC_INT32 && l->dtype != TFC_INT64)) {
        char b1[128], b2[128];
        tfc_kernel_error(c, TFC_INVALID_ARGUMENT,
                         "logits must be 2-D [batch, classes] and labels 1-D [batch], got logits "
                         "%s and labels %s",
                         tfc_dims_str(x->rank, x->dims, b1, sizeof b1),
                         tfc_dims_str(l->rank, l->dims, b2, sizeof b2));
        return;
    }
    int64_t n = x->dims[1];
    for (int64_t r = 0; r < l->nelem; r++) {
        int64_t lab = tfc_tensor_get_int(l, r);
        if (lab < 0 || lab >= n) {
            tfc_kernel_error(c, TFC_INVALID_ARGUMENT,
                             "Received a label value of %lld which is outside the valid range of "
                             "[0, %lld).  Label values: index %lld",
                             (long long)lab, (long long)n, (long long)r);
            return;
        }
    }
    tfc_tensor *loss = tfc_kernel_output(c, 0, x->dtype, 1, x->dims);
    tfc_tensor *bp = tfc_kernel_output(c, 1, x->dtype, 2, x->dims);
    if (!loss || !bp || x->nelem == 0) return;
    row_job j = {x->data, l->data, loss->data, bp->data, n, 0, l->dtype == TFC_INT64};
    void (*rows)(void *, int64_t, int64_t) = x->dtype == TFC_FLOAT ? f_sparse_xent : d_sparse_xent;
    if (narrow(x, n)) rows = narrow_sparse_xent;
    tfc_parallel_for(c->pool, x->dims[0], row_grain(n), rows, &j);
}

/* ------------------------------------------------------------------------ */
/* BiasAdd and BiasAddGrad                                                  */
/* ------------------------------------------------------------------------ */

static int check_data_format(tfc_infer_ctx *c) {
    const char *fmt = tfc_attrs_string(c->attrs, "data_format");
    if (fmt && strcmp(fmt, "NHWC") != 0)
        return tfc_infer_error(c, "data_format '%s' is not supported (only NHWC)", fmt);
    if (!fmt) tfc_attrs_set_string(c->attrs, "data_format", "NHWC");
    return 0;
}

static int bias_add_infer(tfc_infer_ctx *c) {
    if (need_float(c, 0, "value") || check_data_format(c)) return -1;
    tfc_dtype dt = tfc_infer_same_dtype(c, 0, 2, TFC_INVALID_DTYPE);
    if (dt == TFC_INVALID_DTYPE) return -1;
    tfc_shape v = tfc_infer_input_shape(c, 0), b = tfc_infer_input_shape(c, 1);
    char b1[128], b2[128];
    if (v.rank >= 0 && v.rank < 2)
        return tfc_infer_error(c, "Shape must be at least rank 2 but is rank %d", v.rank);
    if (b.rank >= 0 && b.rank != 1)
        return tfc_infer_error(c, "bias must be 1-D, got %s", tfc_shape_str(&b, b1, sizeof b1));
    if (v.rank >= 0 && b.rank == 1 && v.dims[v.rank - 1] >= 0 && b.dims[0] >= 0 &&
        v.dims[v.rank - 1] != b.dims[0])
        return tfc_infer_error(c,
                               "Dimensions must be equal, but are %lld and %lld for value %s "
                               "and bias %s",
                               (long long)v.dims[v.rank - 1], (long long)b.dims[0],
                               tfc_shape_str(&v, b1, sizeof b1), tfc_shape_str(&b, b2, sizeof b2));
    if (v.rank >= 0 && v.dims[v.rank - 1] < 0 && b.rank == 1) v.dims[v.rank - 1] = b.dims[0];
    tfc_infer_set_output(c, 0, dt, v);
    return 0;
}

typedef struct bias_job {
    const void *x, *b;
    void *y;
    int64_t rows, n;
    void *part;    /* BiasAddGrad: double partial sums [blocks][n] */
    int64_t block; /* rows per block */
} bias_job;

/* columns per tile of BiasAddGrad's partial sums (4 KB of doubles) */
#define BIAS_TILE 512

#define BIAS_DEFINE(NAME, T, A)                                                                    \
    TFC_VECTOR_CLONES static void NAME##_add(void *arg, int64_t lo, int64_t hi) {                  \
        const bias_job *j = arg;                                                                   \
        const T *restrict b = j->b;                                                                \
        for (int64_t r = lo; r < hi; r++) {                                                        \
            const T *x = (const T *)j->x + r * j->n; /* y may be x */                              \
            T *y = (T *)j->y + r * j->n;                                                           \
            for (int64_t k = 0; k < j->n; k++) y[k] = x[k] + b[k];                                 \
        }                                                                                          \
    }                                                                                              \
    /* column sums of row blocks [lo, hi) into j->part, rows in order; by                          \
     * column tiles whose sums stay in L1 while the rows pass */                                   \
    TFC_VECTOR_CLONES static void NAME##_grad(void *arg, int64_t lo, int64_t hi) {                 \
        const bias_job *j = arg;                                                                   \
        for (int64_t blk = lo; blk < hi; blk++) {                                                  \
            int64_t r0 = blk * j->block, r1 = r0 + j->block < j->rows ? r0 + j->block : j->rows;   \
            for (int64_t k0 = 0; k0 < j->n; k0 += BIAS_TILE) {                                     \
                int64_t nk = j->n - k0 < BIAS_TILE ? j->n - k0 : BIAS_TILE;                        \
                A *restrict acc = (A *)j->part + blk * j->n + k0;                                  \
                for (int64_t k = 0; k < nk; k++) acc[k] = 0;                                       \
                for (int64_t r = r0; r < r1; r++) {                                                \
                    const T *restrict x = (const T *)j->x + r * j->n + k0;                         \
                    for (int64_t k = 0; k < nk; k++) acc[k] += x[k];                               \
                }                                                                                  \
            }                                                                                      \
        }                                                                                          \
    }                                                                                              \
    static void NAME##_grad_combine(const bias_job *j, int64_t nblocks) {                          \
        const A *part = j->part;                                                                   \
        for (int64_t k = 0; k < j->n; k++) {                                                       \
            A s = 0;                                                                               \
            for (int64_t b = 0; b < nblocks; b++) s += part[b * j->n + k];                         \
            ((T *)j->y)[k] = (T)s;                                                                 \
        }                                                                                          \
    }

BIAS_DEFINE(bias_f, float, double)
BIAS_DEFINE(bias_d, double, double)

static void bias_add_kernel(tfc_kernel_ctx *c) {
    const tfc_tensor *x = c->inputs[0], *b = c->inputs[1];
    if (x->rank < 2 || b->rank != 1 || b->dims[0] != x->dims[x->rank - 1] || b->dtype != x->dtype ||
        !float_dtype(x->dtype)) {
        char b1[128], b2[128];
        tfc_kernel_error(c, TFC_INVALID_ARGUMENT,
                         "Must provide as many biases as the last dimension of the input "
                         "tensor: %s vs. %s",
                         tfc_dims_str(b->rank, b->dims, b1, sizeof b1),
                         tfc_dims_str(x->rank, x->dims, b2, sizeof b2));
        return;
    }
    tfc_tensor *y = tfc_kernel_output_in_place(c, 0, x->dtype, x->rank, x->dims);
    if (!y || x->nelem == 0) return;
    bias_job j = {x->data, b->data, y->data, x->nelem / b->dims[0], b->dims[0], NULL, 0};
    tfc_parallel_for(c->pool, j.rows, row_grain(j.n),
                     x->dtype == TFC_FLOAT ? bias_f_add : bias_d_add, &j);
}

static int bias_add_grad_infer(tfc_infer_ctx *c) {
    if (need_float(c, 0, "out_backprop") || check_data_format(c)) return -1;
    tfc_shape v = tfc_infer_input_shape(c, 0);
    if (v.rank >= 0 && v.rank < 2)
        return tfc_infer_error(c, "Shape must be at least rank 2 but is rank %d", v.rank);
    tfc_infer_set_output(c, 0, tfc_infer_input_dtype(c, 0),
                         tfc_shape_vector(v.rank > 0 ? v.dims[v.rank - 1] : -1));
    return 0;
}

static void bias_add_grad_kernel(tfc_kernel_ctx *c) {
    const tfc_tensor *x = c->inputs[0];
    if (x->rank < 2 || !float_dtype(x->dtype)) {
        tfc_kernel_error(c, TFC_INVALID_ARGUMENT,
                         "out_backprop must be a float tensor of rank >= 2");
        return;
    }
    int64_t n = x->dims[x->rank - 1];
    tfc_tensor *y = tfc_kernel_output(c, 0, x->dtype, 1, &n);
    if (!y || n == 0) return;
    bias_job j = {x->data, NULL, y->data, x->nelem / n, n, NULL, 1};
    /* Row blocks of a size fixed by the shape (at most 64 of them), summed
     * into partials then combined in block order: deterministic for any
     * thread count. */
    j.block = (NN_GRAIN / 2 + n - 1) / n;
    if (j.block < (j.rows + 63) / 64) j.block = (j.rows + 63) / 64;
    /* and at least 32 rows, so combining the partials costs little next to
     * the pass over x (wide rows, as a softmax layer's 10,000 classes) */
    if (j.block < 32) j.block = 32;
    int64_t nblocks = j.rows ? (j.rows + j.block - 1) / j.block : 1;
    size_t part_bytes = (size_t)(nblocks * n) * sizeof(double);
    j.part = tfc_block_alloc(part_bytes); /* cached: no heap traffic per step */
    if (j.part) memset(j.part, 0, part_bytes);
    if (!j.part) {
        tfc_kernel_error(c, TFC_INTERNAL, "out of memory");
        return;
    }
    int f = x->dtype == TFC_FLOAT;
    tfc_parallel_for(c->pool, j.rows ? nblocks : 0, 1, f ? bias_f_grad : bias_d_grad, &j);
    if (f)
        bias_f_grad_combine(&j, nblocks);
    else
        bias_d_grad_combine(&j, nblocks);
    tfc_block_free(j.part, part_bytes);
}

static int bias_add_grad(tfc_graph *g, tfc_node *op, const tfc_output *dy, tfc_output *dx) {
    (void)op;
    dx[0] = dy[0];
    dx[1] = tfc_grad_op(g, "BiasAddGrad", dy, 1);
    return 0;
}

/* BiasAddGrad sums over all but the last dim: broadcast the gradient back. */
static int bias_add_grad_grad(tfc_graph *g, tfc_node *op, const tfc_output *dy, tfc_output *dx) {
    tfc_output x = op->inputs[0];
    tfc_shape xs = tfc_output_shape(x);
    tfc_output shape;
    if (tfc_shape_is_fully_defined(&xs)) {
        int64_t n = xs.rank;
        shape = tfc_const_data(g, TFC_INT64, 1, &n, xs.dims);
    } else {
        shape = tfc_shape_of(g, x);
    }
    dx[0] = op2(g, "BroadcastTo", dy[0], shape);
    return 0;
}

const tfc_op_def tfc_ops_nn[] = {
    {"Relu", 1, 1, 1, 0, 0, unary_infer, relu_kernel, relu_grad},
    {"Sigmoid", 1, 1, 1, 0, 0, unary_infer, sigmoid_kernel, sigmoid_grad},
    {"Tanh", 1, 1, 1, 0, 0, unary_infer, tanh_kernel, tanh_grad},
    {"ReluGrad", 2, 2, 1, 0, 0, binary_same_infer, relu_grad_kernel, relu_grad_grad},
    {"SigmoidGrad", 2, 2, 1, 0, 0, binary_same_infer, sigmoid_grad_kernel, sigmoid_grad_grad},
    {"TanhGrad", 2, 2, 1, 0, 0, binary_same_infer, tanh_grad_kernel, tanh_grad_grad},
    {"Softmax", 1, 1, 1, 0, 0, softmax_infer, softmax_kernel, softmax_grad},
    {"LogSoftmax", 1, 1, 1, 0, 0, softmax_infer, log_softmax_kernel, log_softmax_grad},
    {"SoftmaxCrossEntropyWithLogits", 2, 2, 2, 0, 0, xent_infer, xent_kernel, xent_grad},
    {"SparseSoftmaxCrossEntropyWithLogits", 2, 2, 2, 0, 0, sparse_xent_infer, sparse_xent_kernel,
     xent_grad},
    {"BiasAdd", 2, 2, 1, 0, 0, bias_add_infer, bias_add_kernel, bias_add_grad},
    {"BiasAddGrad", 1, 1, 1, 0, 0, bias_add_grad_infer, bias_add_grad_kernel, bias_add_grad_grad},
    {NULL, 0, 0, 0, 0, 0, NULL, NULL, NULL},
};

/* ------------------------------------------------------------------------ */
/* Helpers                                                                  */
/* ------------------------------------------------------------------------ */

static tfc_output nn_unary(tfc_graph *g, const char *type, tfc_output x) {
    tfc_op_desc *d = tfc_op_new(g, type, NULL);
    tfc_op_add_input(d, x);
    return tfc_out(tfc_op_finish(d), 0);
}

static tfc_output nn_binary(tfc_graph *g, const char *type, tfc_output a, tfc_output b) {
    tfc_op_desc *d = tfc_op_new(g, type, NULL);
    tfc_op_add_input(d, a);
    tfc_op_add_input(d, b);
    return tfc_out(tfc_op_finish(d), 0);
}

tfc_output tfc_relu(tfc_graph *g, tfc_output x) { return nn_unary(g, "Relu", x); }
tfc_output tfc_sigmoid(tfc_graph *g, tfc_output x) { return nn_unary(g, "Sigmoid", x); }
tfc_output tfc_tanh(tfc_graph *g, tfc_output x) { return nn_unary(g, "Tanh", x); }
tfc_output tfc_softmax(tfc_graph *g, tfc_output logits) { return nn_unary(g, "Softmax", logits); }
tfc_output tfc_log_softmax(tfc_graph *g, tfc_output logits) {
    return nn_unary(g, "LogSoftmax", logits);
}
tfc_output tfc_bias_add(tfc_graph *g, tfc_output x, tfc_output bias) {
    return nn_binary(g, "BiasAdd", x, bias);
}

tfc_output tfc_softmax_cross_entropy_with_logits(tfc_graph *g, tfc_output labels,
                                                 tfc_output logits) {
    return nn_binary(g, "SoftmaxCrossEntropyWithLogits", logits, labels);
}

tfc_output tfc_sparse_softmax_cross_entropy_with_logits(tfc_graph *g, tfc_output labels,
                                                        tfc_output logits) {
    return nn_binary(g, "SparseSoftmaxCrossEntropyWithLogits", logits, labels);
}
