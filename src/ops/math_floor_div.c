/* FloorDiv and FloorMod (x, y), with NumPy broadcasting, as TensorFlow's:
 * floor(x / y), and x - floor(x / y) * y (the remainder takes the sign of
 * y; Python's // and %). Integer division by zero is a run-time error; for
 * floats it gives inf or NaN. The reduction gradients use FloorMod to bring
 * run-time axes into [0, rank).
 *
 * These are mostly used on small shape tensors, so the kernel is one
 * generic broadcasting loop (a row of the innermost dim at a time) rather
 * than math_binary.c's coalesced, vectorized one. */
#include "autodiff/grad_util.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

enum { F_DIV, F_MOD };

typedef struct floor_data {
    int op;
} floor_data;

static int floor_infer(tfc_infer_ctx *c) {
    tfc_dtype dt = tfc_infer_same_dtype(c, 0, 2, TFC_INVALID_DTYPE);
    if (dt == TFC_INVALID_DTYPE) return -1;
    if (dt != TFC_FLOAT && dt != TFC_DOUBLE && dt != TFC_INT32 && dt != TFC_INT64 &&
        dt != TFC_UINT8)
        return tfc_infer_error(c,
                               "x and y must be float32, float64, int32, int64 or uint8, "
                               "got %s",
                               tfc_dtype_name(dt));
    tfc_shape a = tfc_infer_input_shape(c, 0), b = tfc_infer_input_shape(c, 1), out;
    if (tfc_shape_broadcast(&a, &b, &out) != 0) {
        char s1[128], s2[128];
        return tfc_infer_error(c, "Incompatible shapes: %s vs. %s",
                               tfc_shape_str(&a, s1, sizeof s1), tfc_shape_str(&b, s2, sizeof s2));
    }
    tfc_attrs_set_int(c->attrs, "T", TFC_ATTR_TYPE, dt);
    floor_data *d = malloc(sizeof *d);
    if (!d) return tfc_infer_error(c, "out of memory");
    d->op = strcmp(c->op->type, "FloorMod") == 0 ? F_MOD : F_DIV;
    c->op_data = d;
    tfc_infer_set_output(c, 0, dt, out);
    return 0;
}

/* Signed integers: truncating division corrected toward -inf; y == -1 is
 * done as a wrapping negation (MIN / -1 overflows in C). */
#define IDIV(T, U, x, y)                                                                           \
    ((y) == -1 ? (T)((U)0 - (U)(x))                                                                \
               : (T)((x) / (y) - (((x) % (y) != 0) & (((x) < 0) != ((y) < 0)))))
#define IMOD(T, U, x, y)                                                                           \
    ((y) == -1 ? (T)0                                                                              \
               : (T)((x) % (y) + ((((x) % (y)) != 0) & ((((x) % (y)) < 0) != ((y) < 0))) * (y)))
#define UDIV(T, U, x, y) ((T)((x) / (y)))
#define UMOD(T, U, x, y) ((T)((x) % (y)))
#define FDIVF(T, U, x, y) floorf((x) / (y))
#define FDIVD(T, U, x, y) floor((x) / (y))
#define FMODF(T, U, x, y) fmod_floor_f(x, y)
#define FMODD(T, U, x, y) fmod_floor_d(x, y)

static inline float fmod_floor_f(float x, float y) {
    float r = fmodf(x, y);
    return r != 0 && ((y < 0) != (r < 0)) ? r + y : r;
}

static inline double fmod_floor_d(double x, double y) {
    double r = fmod(x, y);
    return r != 0 && ((y < 0) != (r < 0)) ? r + y : r;
}

typedef struct floor_job {
    const void *a, *b;
    void *o;
    int rank;
    int64_t dims[TFC_MAX_RANK];                 /* output dims */
    int64_t sa[TFC_MAX_RANK], sb[TFC_MAX_RANK]; /* element strides, 0 on broadcast dims */
} floor_job;

/* The offsets into a and b of the first element of output row r. */
static void row_offsets(const floor_job *j, int64_t r, int64_t *oa, int64_t *ob) {
    *oa = *ob = 0;
    for (int i = j->rank - 2; i >= 0; i--) {
        int64_t k = r % j->dims[i];
        r /= j->dims[i];
        *oa += k * j->sa[i];
        *ob += k * j->sb[i];
    }
}

#define DEF_ROWS(name, T, U, E)                                                                    \
    static void name(void *arg, int64_t b, int64_t e) {                                            \
        const floor_job *j = arg;                                                                  \
        int64_t w = j->rank ? j->dims[j->rank - 1] : 1;                                            \
        int64_t ia = j->rank ? j->sa[j->rank - 1] : 0, ib = j->rank ? j->sb[j->rank - 1] : 0;      \
        for (int64_t r = b; r < e; r++) {                                                          \
            int64_t oa, ob;                                                                        \
            row_offsets(j, r, &oa, &ob);                                                           \
            const T *pa = (const T *)j->a + oa, *pb = (const T *)j->b + ob;                        \
            T *po = (T *)j->o + r * w;                                                             \
            for (int64_t k = 0; k < w; k++) po[k] = E(T, U, pa[k * ia], pb[k * ib]);               \
        }                                                                                          \
    }

DEF_ROWS(div_f32, float, float, FDIVF)
DEF_ROWS(div_f64, double, double, FDIVD)
DEF_ROWS(div_i32, int32_t, uint32_t, IDIV)
DEF_ROWS(div_i64, int64_t, uint64_t, IDIV)
DEF_ROWS(div_u8, uint8_t, uint8_t, UDIV)
DEF_ROWS(mod_f32, float, float, FMODF)
DEF_ROWS(mod_f64, double, double, FMODD)
DEF_ROWS(mod_i32, int32_t, uint32_t, IMOD)
DEF_ROWS(mod_i64, int64_t, uint64_t, IMOD)
DEF_ROWS(mod_u8, uint8_t, uint8_t, UMOD)

static int has_zero(const tfc_tensor *t) {
    for (int64_t i = 0; i < t->nelem; i++)
        if (tfc_tensor_get_int(t, i) == 0) return 1;
    return 0;
}

static void floor_kernel(tfc_kernel_ctx *c) {
    const floor_data *d = c->node->op_data;
    const tfc_tensor *a = c->inputs[0], *b = c->inputs[1];
    floor_job j;
    j.rank = a->rank > b->rank ? a->rank : b->rank;
    int64_t stra = 1, strb = 1;
    for (int i = j.rank - 1; i >= 0; i--) {
        int ka = i - (j.rank - a->rank), kb = i - (j.rank - b->rank);
        int64_t da = ka >= 0 ? a->dims[ka] : 1, db = kb >= 0 ? b->dims[kb] : 1;
        if (da != db && da != 1 && db != 1) {
            char s1[128], s2[128];
            tfc_kernel_error(c, TFC_INVALID_ARGUMENT, "Incompatible shapes: %s vs. %s",
                             tfc_dims_str(a->rank, a->dims, s1, sizeof s1),
                             tfc_dims_str(b->rank, b->dims, s2, sizeof s2));
            return;
        }
        j.dims[i] = da == 1 ? db : da;
        j.sa[i] = da == 1 ? 0 : stra;
        j.sb[i] = db == 1 ? 0 : strb;
        stra *= da;
        strb *= db;
    }
    tfc_dtype dt = a->dtype;
    /* an empty result uses no y (FloorMod by a scalar rank 0 over no axes) */
    if (dt != TFC_FLOAT && dt != TFC_DOUBLE && tfc_dims_num_elements(j.rank, j.dims) > 0 &&
        has_zero(b)) {
        tfc_kernel_error(c, TFC_INVALID_ARGUMENT, "Integer division by zero");
        return;
    }
    tfc_tensor *y = tfc_kernel_output(c, 0, dt, j.rank, j.dims);
    if (!y || y->nelem == 0) return;
    j.a = a->data;
    j.b = b->data;
    j.o = y->data;
    void (*fn)(void *, int64_t, int64_t) = NULL;
    int mod = d->op == F_MOD;
    switch (dt) {
    case TFC_FLOAT: fn = mod ? mod_f32 : div_f32; break;
    case TFC_DOUBLE: fn = mod ? mod_f64 : div_f64; break;
    case TFC_INT32: fn = mod ? mod_i32 : div_i32; break;
    case TFC_INT64: fn = mod ? mod_i64 : div_i64; break;
    default: fn = mod ? mod_u8 : div_u8; break;
    }
    int64_t w = j.rank ? j.dims[j.rank - 1] : 1, rows = y->nelem / w;
    tfc_parallel_for(c->pool, rows, w >= 16384 ? 1 : 16384 / w, fn, &j);
}

/* TensorFlow's: d/dx = 1, d/dy = -floor(x / y), each summed back over the
 * broadcast dims. FloorDiv is piecewise constant and has none. */
static int floor_mod_grad(tfc_graph *g, tfc_node *op, const tfc_output *dy, tfc_output *dx) {
    if (!dy[0].node) return 0;
    tfc_output x = op->inputs[0], y = op->inputs[1];
    dx[0] = tfc_grad_unbroadcast(g, dy[0], x);
    tfc_output q = tfc_grad_op(g, "FloorDiv", (tfc_output[2]){x, y}, 2);
    dx[1] = tfc_grad_unbroadcast(g, tfc_mul(g, dy[0], tfc_neg(g, q)), y);
    return dx[0].node && dx[1].node ? 0 : -1;
}

const tfc_op_def tfc_ops_math_floor_div[] = {
    {"FloorDiv", 2, 2, 1, TFC_OP_NO_GRADIENT, 0, floor_infer, floor_kernel, NULL},
    {"FloorMod", 2, 2, 1, 0, 0, floor_infer, floor_kernel, floor_mod_grad},
    {NULL, 0, 0, 0, 0, 0, NULL, NULL, NULL},
};

tfc_output tfc_floordiv(tfc_graph *g, tfc_output x, tfc_output y) {
    if (!g) return (tfc_output){NULL, 0};
    return tfc_grad_op(g, "FloorDiv", (tfc_output[2]){x, y}, 2);
}

tfc_output tfc_floormod(tfc_graph *g, tfc_output x, tfc_output y) {
    if (!g) return (tfc_output){NULL, 0};
    return tfc_grad_op(g, "FloorMod", (tfc_output[2]){x, y}, 2);
}
