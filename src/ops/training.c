/* Training ops: the fused Apply* updates of the tf.train optimizers
 * (TensorFlow's update rules and input orders, in place on the variable and
 * its slots, float and double), their SparseApply* forms (the same rules on
 * the rows named by `indices` only, rows applied in order, so duplicates
 * apply twice as in TensorFlow) and L2Loss. Each rule is written once, per
 * element, in double; the kernel loads and stores the variable's dtype.
 * Dense Adam on float variables has its own float loop (adam_float). */
#include "autodiff/grad_util.h"
#include "core/vector_clones.h"
#include "graph/op_registry.h"
#include "ops/resource_variable.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The rules are tiny and called per element: inlining them into the loops
 * keeps the state in registers (several times faster). */
#if defined(__GNUC__)
#define RULE static inline __attribute__((always_inline)) void
#else
#define RULE static inline void
#endif

#define MAX_REFS 4
#define MAX_SCALARS 6

/* Each rule below is an element function (double *s, double g,
 * const double *h): s[0] is the variable, s[1..] its slots, g the gradient,
 * h the scalar hyper-parameters after the op's prepare step. */

/* One kernel run: the buffers of var and slots, the gradient, the scalars. */
typedef struct apply_job {
    tfc_dtype dt;
    void *s[MAX_REFS];
    const void *g;
    double h[MAX_SCALARS];
    int64_t inner; /* sparse ops: elements per row */
} apply_job;

/* A tfc_parallel_for body updating elements [b, e) with `elem` over `nr`
 * buffers of type `T`; one per rule and type, each with a single call
 * site, so the compiler inlines the rule into the loop. */
#define APPLY_LOOP(name, T, nr, elem)                                                 \
    TFC_VECTOR_CLONES static void name(const apply_job *j, int64_t b, int64_t e) {                      \
        T *const *p = (T *const *)j->s;                                               \
        const T *g = j->g;                                                            \
        double s[MAX_REFS];                                                           \
        for (int64_t i = b; i < e; i++) {                                             \
            for (int k = 0; k < (nr); k++) s[k] = p[k][i];                            \
            elem(s, g[i], j->h);                                                      \
            for (int k = 0; k < (nr); k++) p[k][i] = (T)s[k];                         \
        }                                                                             \
    }
/* The sparse form: element `i` of the variable's row `row` takes gradient
 * row `grow`; the job's `inner` is the row length. */
#define SPARSE_LOOP(name, T, nr, elem)                                                \
    static void name(const apply_job *j, int64_t row, int64_t grow) {                 \
        T *const *p = (T *const *)j->s;                                               \
        const T *g = (const T *)j->g + grow * j->inner;                               \
        double s[MAX_REFS];                                                           \
        for (int64_t i = 0, o = row * j->inner; i < j->inner; i++, o++) {             \
            for (int k = 0; k < (nr); k++) s[k] = p[k][o];                            \
            elem(s, g[i], j->h);                                                      \
            for (int k = 0; k < (nr); k++) p[k][o] = (T)s[k];                         \
        }                                                                             \
    }
#define APPLY_RANGE(name, nr, elem)                                                   \
    APPLY_LOOP(name##_f, float, nr, elem)                                             \
    APPLY_LOOP(name##_d, double, nr, elem)                                            \
    SPARSE_LOOP(name##_sf, float, nr, elem)                                           \
    SPARSE_LOOP(name##_sd, double, nr, elem)                                          \
    static void name(void *arg, int64_t b, int64_t e) {                               \
        const apply_job *j = arg;                                                     \
        if (j->dt == TFC_FLOAT) name##_f(j, b, e);                                    \
        else name##_d(j, b, e);                                                       \
    }                                                                                 \
    static inline void name##_rows(const apply_job *j, int64_t row, int64_t grow) {   \
        if (j->dt == TFC_FLOAT) name##_sf(j, row, grow);                              \
        else name##_sd(j, row, grow);                                                 \
    }

/* Turns the scalar inputs (in input order) into what the rule reads;
 * `nesterov` is the op's use_nesterov attr. */
typedef void (*apply_prep_fn)(double *h, int nesterov);

typedef struct apply_def {
    const char *type;
    int nrefs;    /* inputs 0..nrefs-1 are the variable and its slots */
    int grad;     /* input index of the gradient */
    int nscalars; /* the other inputs, in order: scalar hyper-parameters */
    int int_scalar; /* input index of an int64 scalar (AdagradDA's global_step), or -1 */
    void (*range)(void *job, int64_t begin, int64_t end);
    apply_prep_fn prep;
    int indices; /* SparseApply*: input index of the indices, else 0 */
    void (*rows)(const apply_job *job, int64_t row, int64_t grad_row);
} apply_def;

static double sgn(double x) { return (x > 0) - (x < 0); }

/* var -= alpha * delta */
RULE gd_elem(double *s, double g, const double *h) { s[0] -= h[0] * g; }

/* accum = accum * momentum + grad; var -= lr * accum, or with Nesterov
 * var -= lr * grad + lr * momentum * accum. h: lr, momentum, nesterov. */
RULE momentum_elem(double *s, double g, const double *h) {
    s[1] = s[1] * h[1] + g;
    if (h[2] != 0) s[0] -= g * h[0] + s[1] * h[1] * h[0];
    else s[0] -= h[0] * s[1];
}
static void momentum_prep(double *h, int nesterov) {
    h[2] = nesterov;
}

/* accum += grad^2; var -= lr * grad / sqrt(accum) */
RULE adagrad_elem(double *s, double g, const double *h) {
    s[1] += g * g;
    s[0] -= h[0] * g / sqrt(s[1]);
}

/* h: lr, l1, l2, global_step */
RULE adagrad_da_elem(double *s, double g, const double *h) {
    s[1] += g;
    s[2] += g * g;
    double lr = h[0], l1 = h[1], l2 = h[2], step = h[3];
    double num = s[1];
    if (l1 > 0) num = sgn(s[1]) * fmax(fabs(s[1]) - l1 * step, 0.0);
    s[0] = -lr * num / (l2 * step * lr + sqrt(s[2]));
}

/* h: lr, rho, epsilon */
RULE adadelta_elem(double *s, double g, const double *h) {
    double lr = h[0], rho = h[1], eps = h[2];
    s[1] = s[1] * rho + g * g * (1 - rho);
    double update = sqrt(s[2] + eps) / sqrt(s[1] + eps) * g;
    s[2] = s[2] * rho + update * update * (1 - rho);
    s[0] -= update * lr;
}

/* inputs: beta1_power, beta2_power, lr, beta1, beta2, epsilon; prep puts
 * the bias-corrected step in h[0] and the Nesterov flag in h[1]. */
static void adam_prep(double *h, int nesterov) {
    double b1p = h[0], b2p = h[1], lr = h[2];
    h[0] = lr * sqrt(1 - b2p) / (1 - b1p);
    h[1] = nesterov;
}
RULE adam_elem(double *s, double g, const double *h) {
    double alpha = h[0], b1 = h[3], b2 = h[4], eps = h[5];
    s[1] += (g - s[1]) * (1 - b1);
    s[2] += (g * g - s[2]) * (1 - b2);
    if (h[1] != 0) s[0] -= (g * (1 - b1) + b1 * s[1]) * alpha / (sqrt(s[2]) + eps);
    else s[0] -= s[1] * alpha / (sqrt(s[2]) + eps);
}

/* FTRL-proximal. h: lr, l1, l2, l2_shrinkage, lr_power (V1 has no
 * shrinkage: its prep shifts lr_power into place). */
static void ftrl_prep(double *h, int nesterov) {
    (void)nesterov;
    h[4] = h[3];
    h[3] = 0;
}
static double ftrl_pow(double a, double lr_power) {
    return lr_power == -0.5 ? sqrt(a) : pow(a, -lr_power);
}
RULE ftrl_elem(double *s, double g, const double *h) {
    double lr = h[0], l1 = h[1], l2 = h[2], shrink = h[3], lr_power = h[4];
    double gs = g + 2 * shrink * s[0];
    double new_accum = s[1] + g * g;
    s[2] += gs - (ftrl_pow(new_accum, lr_power) - ftrl_pow(s[1], lr_power)) / lr * s[0];
    double x = l1 * sgn(s[2]) - s[2];
    double y = ftrl_pow(new_accum, lr_power) / lr + 2 * l2;
    s[0] = fabs(s[2]) > l1 ? x / y : 0.0;
    s[1] = new_accum;
}

/* h: lr, rho, momentum, epsilon; slots ms, mom */
RULE rmsprop_elem(double *s, double g, const double *h) {
    double lr = h[0], rho = h[1], mom = h[2], eps = h[3];
    s[1] += (g * g - s[1]) * (1 - rho);
    s[2] = s[2] * mom + lr * g / sqrt(s[1] + eps);
    s[0] -= s[2];
}

/* slots mg, ms, mom */
RULE centered_rmsprop_elem(double *s, double g, const double *h) {
    double lr = h[0], rho = h[1], mom = h[2], eps = h[3];
    s[2] += (g * g - s[2]) * (1 - rho);
    s[1] += (g - s[1]) * (1 - rho);
    double denom = s[2] - s[1] * s[1] + eps;
    s[3] = s[3] * mom + lr * g / sqrt(denom);
    s[0] -= s[3];
}

APPLY_RANGE(gd_range_any, 1, gd_elem)
APPLY_RANGE(momentum_range_any, 2, momentum_elem)
APPLY_RANGE(adagrad_range, 2, adagrad_elem)
APPLY_RANGE(adagrad_da_range, 3, adagrad_da_elem)
APPLY_RANGE(adadelta_range, 3, adadelta_elem)
APPLY_RANGE(adam_range_any, 3, adam_elem)

/* Adam on float variables in float, as TensorFlow's float kernel computes
 * it (alpha rounded to float, then m, v and the step in float): the double
 * rule's vector sqrt and division made the update compute-bound (5.8 ms
 * against 3.8 for the float loop, which runs at the speed of its memory
 * traffic, over the CNN's 3.2 M-weight dense layer on Zen 3). */
TFC_VECTOR_CLONES static void adam_float(const apply_job *j, int64_t b, int64_t e) {
    float *restrict var = j->s[0], *restrict m = j->s[1], *restrict v = j->s[2];
    const float *restrict g = j->g;
    const float alpha = (float)j->h[0], b1 = (float)j->h[3], b2 = (float)j->h[4];
    const float eps = (float)j->h[5], c1 = 1 - b1, c2 = 1 - b2;
    if (j->h[1] != 0) {
        for (int64_t i = b; i < e; i++) {
            float mi = m[i] + (g[i] - m[i]) * c1, vi = v[i] + (g[i] * g[i] - v[i]) * c2;
            var[i] -= (g[i] * c1 + b1 * mi) * alpha / (sqrtf(vi) + eps);
            m[i] = mi;
            v[i] = vi;
        }
    } else {
        for (int64_t i = b; i < e; i++) {
            float mi = m[i] + (g[i] - m[i]) * c1, vi = v[i] + (g[i] * g[i] - v[i]) * c2;
            var[i] -= mi * alpha / (sqrtf(vi) + eps);
            m[i] = mi;
            v[i] = vi;
        }
    }
}

static void adam_range(void *arg, int64_t b, int64_t e) {
    const apply_job *j = arg;
    if (j->dt == TFC_FLOAT) adam_float(j, b, e);
    else adam_range_any(arg, b, e);
}

/* Gradient descent and momentum on float variables in float, as
 * TensorFlow's float kernels compute them (var -= grad * lr; accum =
 * accum * momentum + grad, var -= lr * accum or with Nesterov grad * lr +
 * accum * momentum * lr). The double rules converted each element twice
 * and ran at about one element a cycle: the MLP's 784x256 weight took 46
 * us to update, a fourteenth of its 2-thread step. */
TFC_VECTOR_CLONES static void gd_float(const apply_job *j, int64_t b, int64_t e) {
    float *restrict var = j->s[0];
    const float *restrict g = j->g;
    const float lr = (float)j->h[0];
    for (int64_t i = b; i < e; i++) var[i] -= g[i] * lr;
}

static void gd_range(void *arg, int64_t b, int64_t e) {
    const apply_job *j = arg;
    if (j->dt == TFC_FLOAT) gd_float(j, b, e);
    else gd_range_any(arg, b, e);
}

TFC_VECTOR_CLONES static void momentum_float(const apply_job *j, int64_t b, int64_t e) {
    float *restrict var = j->s[0], *restrict accum = j->s[1];
    const float *restrict g = j->g;
    const float lr = (float)j->h[0], mu = (float)j->h[1];
    if (j->h[2] != 0) {
        for (int64_t i = b; i < e; i++) {
            float a = accum[i] * mu + g[i];
            var[i] -= g[i] * lr + a * mu * lr;
            accum[i] = a;
        }
    } else {
        for (int64_t i = b; i < e; i++) {
            float a = accum[i] * mu + g[i];
            var[i] -= lr * a;
            accum[i] = a;
        }
    }
}

static void momentum_range(void *arg, int64_t b, int64_t e) {
    const apply_job *j = arg;
    if (j->dt == TFC_FLOAT) momentum_float(j, b, e);
    else momentum_range_any(arg, b, e);
}

/* SparseApplyMomentum's row: the dense rule over the row, so that a
 * sparse update equals the dense one on the rows it touches */
static void momentum_rows(const apply_job *j, int64_t row, int64_t grow) {
    if (j->dt != TFC_FLOAT) {
        momentum_range_any_rows(j, row, grow);
        return;
    }
    apply_job r = *j;
    for (int k = 0; k < 2; k++) r.s[k] = (float *)j->s[k] + row * j->inner;
    r.g = (const float *)j->g + grow * j->inner;
    momentum_float(&r, 0, j->inner);
}

APPLY_RANGE(ftrl_range, 3, ftrl_elem)
APPLY_RANGE(rmsprop_range, 3, rmsprop_elem)
APPLY_RANGE(centered_rmsprop_range, 4, centered_rmsprop_elem)

static const apply_def apply_defs[] = {
    {"ApplyGradientDescent", 1, 2, 1, -1, gd_range, NULL, 0, NULL},
    {"ApplyMomentum", 2, 3, 2, -1, momentum_range, momentum_prep, 0, NULL},
    {"ApplyAdagrad", 2, 3, 1, -1, adagrad_range, NULL, 0, NULL},
    {"ApplyAdagradDA", 3, 3, 4, 7, adagrad_da_range, NULL, 0, NULL},
    {"ApplyAdadelta", 3, 6, 3, -1, adadelta_range, NULL, 0, NULL},
    {"ApplyAdam", 3, 9, 6, -1, adam_range, adam_prep, 0, NULL},
    {"ApplyFtrl", 3, 3, 4, -1, ftrl_range, ftrl_prep, 0, NULL},
    {"ApplyFtrlV2", 3, 3, 5, -1, ftrl_range, NULL, 0, NULL},
    {"ApplyRMSProp", 3, 7, 4, -1, rmsprop_range, NULL, 0, NULL},
    {"ApplyCenteredRMSProp", 4, 8, 4, -1, centered_rmsprop_range, NULL, 0, NULL},
    {"SparseApplyMomentum", 2, 3, 2, -1, NULL, momentum_prep, 4, momentum_rows},
    {"SparseApplyAdagrad", 2, 3, 1, -1, NULL, NULL, 4, adagrad_range_rows},
    {"SparseApplyAdagradDA", 3, 3, 4, 8, NULL, NULL, 4, adagrad_da_range_rows},
    {"SparseApplyAdadelta", 3, 6, 3, -1, NULL, NULL, 7, adadelta_range_rows},
    {"SparseApplyFtrl", 3, 3, 4, -1, NULL, ftrl_prep, 4, ftrl_range_rows},
    {"SparseApplyFtrlV2", 3, 3, 5, -1, NULL, NULL, 4, ftrl_range_rows},
    {"SparseApplyRMSProp", 3, 7, 4, -1, NULL, NULL, 8, rmsprop_range_rows},
    {"SparseApplyCenteredRMSProp", 4, 8, 4, -1, NULL, NULL, 9, centered_rmsprop_range_rows},
};

static const apply_def *apply_find(const char *type) {
    for (size_t i = 0; i < sizeof apply_defs / sizeof *apply_defs; i++)
        if (!strcmp(apply_defs[i].type, type)) return &apply_defs[i];
    return NULL;
}

/* What the kernel needs, parsed once by the shape function. */
typedef struct apply_data {
    const apply_def *a;
    int nesterov;
} apply_data;

static int apply_infer(tfc_infer_ctx *c) {
    const apply_def *a = apply_find(c->op->type);
    if (!a) return tfc_infer_error(c, "unknown apply op");
    tfc_dtype dt = tfc_infer_input_dtype(c, 0);
    if (dt != TFC_FLOAT && dt != TFC_DOUBLE)
        return tfc_infer_error(c, "var must be float32 or float64, got %s", tfc_dtype_name(dt));
    tfc_shape vs = tfc_infer_input_shape(c, 0);
    char b1[96], b2[96];
    if (a->indices) {
        tfc_dtype it = tfc_infer_input_dtype(c, a->indices);
        tfc_shape is = tfc_infer_input_shape(c, a->indices);
        if (it != TFC_INT32 && it != TFC_INT64)
            return tfc_infer_error(c, "indices must be int32 or int64, got %s",
                                   tfc_dtype_name(it));
        if (is.rank >= 0 && is.rank != 1)
            return tfc_infer_error(c, "indices must be a vector, got shape %s",
                                   tfc_shape_str(&is, b1, sizeof b1));
        tfc_attrs_set_int(c->attrs, "Tindices", TFC_ATTR_TYPE, it);
    }
    for (int i = 0; i < c->ninputs; i++) {
        if (a->indices && i == a->indices) continue;
        tfc_dtype want = i == a->int_scalar ? TFC_INT64 : dt;
        if (tfc_infer_input_dtype(c, i) != want)
            return tfc_infer_error(c, "input %d ('%s') must be %s, got %s", i,
                                   c->inputs[i].node->name, tfc_dtype_name(want),
                                   tfc_dtype_name(tfc_infer_input_dtype(c, i)));
        tfc_shape s = tfc_infer_input_shape(c, i);
        if (a->indices && i == a->grad) {
            int bad = s.rank >= 0 && vs.rank >= 0 && (s.rank != vs.rank || vs.rank < 1);
            for (int k = 1; !bad && s.rank > 0 && k < s.rank; k++)
                bad = s.dims[k] >= 0 && vs.dims[k] >= 0 && s.dims[k] != vs.dims[k];
            if (bad)
                return tfc_infer_error(c, "grad ('%s') has shape %s, var has %s: they must "
                                       "agree past the first dimension",
                                       c->inputs[i].node->name, tfc_shape_str(&s, b1, sizeof b1),
                                       tfc_shape_str(&vs, b2, sizeof b2));
        } else if (i < a->nrefs || i == a->grad) {
            if (!tfc_shape_compatible(&vs, &s))
                return tfc_infer_error(c, "input %d ('%s') has shape %s, var has %s", i,
                                       c->inputs[i].node->name, tfc_shape_str(&s, b1, sizeof b1),
                                       tfc_shape_str(&vs, b2, sizeof b2));
        } else if (s.rank > 0) {
            return tfc_infer_error(c, "input %d ('%s') must be a scalar, got shape %s", i,
                                   c->inputs[i].node->name, tfc_shape_str(&s, b1, sizeof b1));
        }
    }
    apply_data *d = malloc(sizeof *d);
    if (!d) return tfc_infer_error(c, "out of memory");
    d->a = a;
    d->nesterov = (int)tfc_attrs_int(c->attrs, "use_nesterov", 0);
    c->op_data = d;
    tfc_attrs_set_int(c->attrs, "T", TFC_ATTR_TYPE, dt);
    tfc_infer_set_output(c, 0, dt, vs);
    return 0;
}

/* The rows of a SparseApply* op, once var and slots are locked: checks the
 * grad's shape and the indices, then applies the rule row by row in order.
 * Returns 0, or -1 with the error set. */
static int sparse_apply(tfc_kernel_ctx *c, const apply_def *a, apply_job *j,
                        tfc_node_state *const *cells) {
    const tfc_tensor *var = cells[0]->value, *grad = c->inputs[a->grad],
                     *ix = c->inputs[a->indices];
    int bad = ix->rank != 1 || grad->rank != var->rank || var->rank < 1 ||
              grad->dims[0] != ix->dims[0];
    for (int k = 1; !bad && k < var->rank; k++) bad = grad->dims[k] != var->dims[k];
    if (bad) {
        tfc_kernel_error(c, TFC_INVALID_ARGUMENT,
                         "grad must be [len(indices)] + var.shape[1:] and indices a vector");
        return -1;
    }
    int64_t n = ix->nelem, limit = var->dims[0];
    j->inner = limit ? var->nelem / limit : 0;
    for (int64_t i = 0; i < n; i++) {
        int64_t k = tfc_tensor_get_int(ix, i);
        if (k < 0 || k >= limit) {
            tfc_kernel_error(c, TFC_INVALID_ARGUMENT,
                             "Index %lld at offset %lld in indices is out of range [0, %lld)",
                             (long long)k, (long long)i, (long long)limit);
            return -1;
        }
    }
    for (int64_t i = 0; i < n; i++) a->rows(j, tfc_tensor_get_int(ix, i), i);
    return 0;
}

/* The update of `a` on the var and slots in cells[0..nrefs) (names[i]
 * for messages), each locked in turn; output 0, when the op has one, is
 * the variable. Returns 0, or -1 with the error set. */
static int apply_cells(tfc_kernel_ctx *c, const apply_def *a, int nesterov, tfc_dtype dt,
                       tfc_node_state *const *cells, const char *const *names) {
    apply_job j;
    j.dt = dt;
    const tfc_tensor *grad = c->inputs[a->grad];
    int ns = 0;
    for (int i = a->nrefs; i < c->ninputs && ns < MAX_SCALARS; i++) {
        if (i == a->grad || (a->indices && i == a->indices)) continue;
        if (c->inputs[i]->nelem != 1) {
            tfc_kernel_error(c, TFC_INVALID_ARGUMENT, "input %d must be a scalar", i);
            return -1;
        }
        j.h[ns++] = tfc_tensor_get_double(c->inputs[i], 0);
    }
    if (a->prep) a->prep(j.h, nesterov);
    j.g = grad->data;
    int locked = 0;
    for (; locked < a->nrefs; locked++) {
        tfc_node_state *st = cells[locked];
        pthread_mutex_lock(&st->lock);
        const char *why = NULL;
        if (!st->value) why = "uninitialized";
        else if (st->value->dtype != j.dt ||
                 (a->indices ? !tfc_tensor_same_shape(st->value, cells[0]->value)
                             : !tfc_tensor_same_shape(st->value, grad)))
            why = "shape";
        if (why) {
            pthread_mutex_unlock(&st->lock);
            if (*why == 'u')
                tfc_kernel_error(c, TFC_FAILED_PRECONDITION,
                                 "Attempting to use uninitialized value %s", names[locked]);
            else
                tfc_kernel_error(c, TFC_INVALID_ARGUMENT, "%s must have the same shape as %s",
                                 names[locked], a->indices ? "var" : "grad");
            break;
        }
        j.s[locked] = st->value->data;
    }
    int ok = locked == a->nrefs;
    if (ok && a->indices) ok = sparse_apply(c, a, &j, cells) == 0;
    else if (ok) tfc_parallel_for(c->pool, grad->nelem, 16384, a->range, &j);
    if (ok && c->noutputs > 0) tfc_kernel_set_output(c, 0, tfc_tensor_ref(cells[0]->value));
    while (locked-- > 0) pthread_mutex_unlock(&cells[locked]->lock);
    return ok ? 0 : -1;
}

static void apply_kernel(tfc_kernel_ctx *c) {
    const apply_data *d = c->node->op_data;
    const char *names[MAX_REFS];
    for (int i = 0; i < d->a->nrefs; i++) names[i] = c->node->inputs[i].node->name;
    apply_cells(c, d->a, d->nesterov, c->node->out_dtypes[0], c->input_state, names);
}

int tfc_apply_layout(const char *type, int *nrefs, int *grad, int *indices, int *int_scalar) {
    const apply_def *a = apply_find(type);
    if (!a) return -1;
    *nrefs = a->nrefs;
    *grad = a->grad;
    *indices = a->indices;
    *int_scalar = a->int_scalar;
    return 0;
}

int tfc_apply_run(tfc_kernel_ctx *c, const char *type, int nesterov, tfc_dtype dt,
                  tfc_node_state *const *cells, const char *const *names) {
    const apply_def *a = apply_find(type);
    if (!a) {
        tfc_kernel_error(c, TFC_INTERNAL, "unknown apply op %s", type);
        return -1;
    }
    return apply_cells(c, a, nesterov, dt, cells, names);
}

/* ---- L2Loss: sum(x^2) / 2, gradient x * dy ---- */

static int l2loss_infer(tfc_infer_ctx *c) {
    tfc_dtype dt = tfc_infer_input_dtype(c, 0);
    if (dt != TFC_FLOAT && dt != TFC_DOUBLE)
        return tfc_infer_error(c, "t must be float32 or float64, got %s", tfc_dtype_name(dt));
    tfc_attrs_set_int(c->attrs, "T", TFC_ATTR_TYPE, dt);
    tfc_infer_set_output(c, 0, dt, tfc_shape_scalar());
    return 0;
}

static void l2loss_kernel(tfc_kernel_ctx *c) {
    const tfc_tensor *x = c->inputs[0];
    tfc_tensor *out = tfc_kernel_output(c, 0, x->dtype, 0, NULL);
    if (!out) return;
    double sum = 0;
    if (x->dtype == TFC_FLOAT) {
        const float *p = x->data;
        for (int64_t i = 0; i < x->nelem; i++) sum += (double)p[i] * p[i];
        *(float *)out->data = (float)(sum / 2);
    } else {
        const double *p = x->data;
        for (int64_t i = 0; i < x->nelem; i++) sum += p[i] * p[i];
        *(double *)out->data = sum / 2;
    }
}

static int l2loss_grad(tfc_graph *g, tfc_node *op, const tfc_output *dy, tfc_output *dx) {
    if (!dy[0].node) return 0;
    tfc_output in[2] = {op->inputs[0], dy[0]};
    dx[0] = tfc_grad_op(g, "Mul", in, 2);
    return dx[0].node ? 0 : -1;
}

#define APPLY_FLAGS (TFC_OP_STATEFUL | TFC_OP_NO_GRADIENT)

const tfc_op_def tfc_ops_training[] = {
    {"ApplyGradientDescent", 3, 3, 1, APPLY_FLAGS, 0x1u, apply_infer, apply_kernel, NULL},
    {"ApplyMomentum", 5, 5, 1, APPLY_FLAGS, 0x3u, apply_infer, apply_kernel, NULL},
    {"ApplyAdagrad", 4, 4, 1, APPLY_FLAGS, 0x3u, apply_infer, apply_kernel, NULL},
    {"ApplyAdagradDA", 8, 8, 1, APPLY_FLAGS, 0x7u, apply_infer, apply_kernel, NULL},
    {"ApplyAdadelta", 7, 7, 1, APPLY_FLAGS, 0x7u, apply_infer, apply_kernel, NULL},
    {"ApplyAdam", 10, 10, 1, APPLY_FLAGS, 0x7u, apply_infer, apply_kernel, NULL},
    {"ApplyFtrl", 8, 8, 1, APPLY_FLAGS, 0x7u, apply_infer, apply_kernel, NULL},
    {"ApplyFtrlV2", 9, 9, 1, APPLY_FLAGS, 0x7u, apply_infer, apply_kernel, NULL},
    {"ApplyRMSProp", 8, 8, 1, APPLY_FLAGS, 0x7u, apply_infer, apply_kernel, NULL},
    {"ApplyCenteredRMSProp", 9, 9, 1, APPLY_FLAGS, 0xfu, apply_infer, apply_kernel, NULL},
    {"SparseApplyMomentum", 6, 6, 1, APPLY_FLAGS, 0x3u, apply_infer, apply_kernel, NULL},
    {"SparseApplyAdagrad", 5, 5, 1, APPLY_FLAGS, 0x3u, apply_infer, apply_kernel, NULL},
    {"SparseApplyAdagradDA", 9, 9, 1, APPLY_FLAGS, 0x7u, apply_infer, apply_kernel, NULL},
    {"SparseApplyAdadelta", 8, 8, 1, APPLY_FLAGS, 0x7u, apply_infer, apply_kernel, NULL},
    {"SparseApplyFtrl", 9, 9, 1, APPLY_FLAGS, 0x7u, apply_infer, apply_kernel, NULL},
    {"SparseApplyFtrlV2", 10, 10, 1, APPLY_FLAGS, 0x7u, apply_infer, apply_kernel, NULL},
    {"SparseApplyRMSProp", 9, 9, 1, APPLY_FLAGS, 0x7u, apply_infer, apply_kernel, NULL},
    {"SparseApplyCenteredRMSProp", 10, 10, 1, APPLY_FLAGS, 0xfu, apply_infer, apply_kernel,
     NULL},
    {"L2Loss", 1, 1, 1, 0, 0, l2loss_infer, l2loss_kernel, l2loss_grad},
    {NULL, 0, 0, 0, 0, 0, NULL, NULL, NULL},
};
