/* Reduction ops: Sum, Mean, Max, Min, Prod (input, reduction_indices;
 * attr keep_dims), ArgMax and ArgMin (input, dimension; attr output_type),
 * plus Range and BroadcastTo, which the helpers and gradients here need.
 *
 * A reduction first coalesces the input's dims into alternating groups of
 * kept and reduced dims (size-1 dims dropped), so every layout becomes one
 * of two loops: the innermost group reduced (contiguous rows, one output per
 * row) or the innermost group kept (vertical accumulation of contiguous
 * vectors). Work is split into items whose boundaries depend only on the
 * shape, and partial results are combined in a fixed order, so results do
 * not depend on the thread count. */
#include "autodiff/grad_util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { RED_SUM, RED_MEAN, RED_MAX, RED_MIN, RED_PROD };

/* Parsed once by the shape function. */
typedef struct reduce_data {
    int keep_dims;
} reduce_data;

/* ------------------------------------------------------------------------ */
/* Shape functions                                                          */
/* ------------------------------------------------------------------------ */

static int numeric_dtype(tfc_dtype dt) {
    return dt == TFC_FLOAT || dt == TFC_DOUBLE || dt == TFC_INT32 || dt == TFC_INT64;
}

/* Marks the axes of `axes` (int32/int64, rank <= 1) in mask[rank]. Returns
 * 0, or the offending axis index + 1 when an axis is out of range. */
static int64_t mark_axes(const tfc_tensor *axes, int rank, char *mask) {
    memset(mask, 0, TFC_MAX_RANK);
    for (int64_t i = 0; i < axes->nelem; i++) {
        int64_t a = tfc_tensor_get_int(axes, i);
        if (a < -rank || a >= rank) return i + 1;
        mask[a < 0 ? a + rank : a] = 1;
    }
    return 0;
}

static int reduce_infer(tfc_infer_ctx *c) {
    tfc_dtype dt = tfc_infer_input_dtype(c, 0), it = tfc_infer_input_dtype(c, 1);
    if (!numeric_dtype(dt))
        return tfc_infer_error(c, "input must be float32, float64, int32 or int64, got %s",
                               tfc_dtype_name(dt));
    if (it != TFC_INT32 && it != TFC_INT64)
        return tfc_infer_error(c, "reduction_indices must be int32 or int64, got %s",
                               tfc_dtype_name(it));
    tfc_shape as = tfc_infer_input_shape(c, 1);
    if (as.rank > 1)
        return tfc_infer_error(c, "reduction_indices must be a scalar or vector, got rank %d",
                               as.rank);
    int keep = tfc_attrs_int(c->attrs, "keep_dims", 0) != 0;
    tfc_attrs_set_int(c->attrs, "keep_dims", TFC_ATTR_BOOL, keep);
    tfc_attrs_set_int(c->attrs, "T", TFC_ATTR_TYPE, dt);
    tfc_attrs_set_int(c->attrs, "Tidx", TFC_ATTR_TYPE, it);
    reduce_data *d = malloc(sizeof *d);
    if (!d) return tfc_infer_error(c, "out of memory");
    d->keep_dims = keep;
    c->op_data = d;

    tfc_shape xs = tfc_infer_input_shape(c, 0), out = tfc_shape_unknown();
    const tfc_tensor *axes = tfc_infer_input_const(c, 1);
    if (xs.rank >= 0 && axes) {
        char mask[TFC_MAX_RANK];
        int64_t bad = mark_axes(axes, xs.rank, mask);
        if (bad)
            return tfc_infer_error(c, "Invalid reduction dimension %lld for input with %d dimensions",
                                   (long long)tfc_tensor_get_int(axes, bad - 1), xs.rank);
        out.rank = 0;
        for (int i = 0; i < xs.rank; i++) {
            if (!mask[i]) out.dims[out.rank++] = xs.dims[i];
            else if (keep) out.dims[out.rank++] = 1;
        }
    } else if (xs.rank >= 0 && keep) {
        out = xs;
        for (int i = 0; i < xs.rank; i++)
            if (xs.dims[i] != 1) out.dims[i] = -1;
    }
    tfc_infer_set_output(c, 0, dt, out);
    return 0;
}

typedef struct arg_data {
    tfc_dtype out_type;
} arg_data;

static int argminmax_infer(tfc_infer_ctx *c) {
    tfc_dtype dt = tfc_infer_input_dtype(c, 0), it = tfc_infer_input_dtype(c, 1);
    if (!numeric_dtype(dt))
        return tfc_infer_error(c, "input must be float32, float64, int32 or int64, got %s",
                               tfc_dtype_name(dt));
    if (it != TFC_INT32 && it != TFC_INT64)
        return tfc_infer_error(c, "dimension must be int32 or int64, got %s", tfc_dtype_name(it));
    tfc_shape as = tfc_infer_input_shape(c, 1);
    if (as.rank > 0) return tfc_infer_error(c, "dimension must be a scalar, got rank %d", as.rank);
    tfc_dtype ot = tfc_attrs_type(c->attrs, "output_type", TFC_INT64);
    if (ot != TFC_INT32 && ot != TFC_INT64)
        return tfc_infer_error(c, "output_type must be int32 or int64, got %s", tfc_dtype_name(ot));
    tfc_attrs_set_int(c->attrs, "output_type", TFC_ATTR_TYPE, ot);
    tfc_attrs_set_int(c->attrs, "T", TFC_ATTR_TYPE, dt);
    tfc_attrs_set_int(c->attrs, "Tidx", TFC_ATTR_TYPE, it);
    arg_data *d = malloc(sizeof *d);
    if (!d) return tfc_infer_error(c, "out of memory");
    d->out_type = ot;
    c->op_data = d;

    tfc_shape xs = tfc_infer_input_shape(c, 0), out = tfc_shape_unknown();
    const tfc_tensor *axis = tfc_infer_input_const(c, 1);
    if (xs.rank == 0) return tfc_infer_error(c, "input must have rank >= 1");
    if (xs.rank > 0 && axis) {
        int64_t a = tfc_tensor_get_int(axis, 0);
        if (a < -xs.rank || a >= xs.rank)
            return tfc_infer_error(c, "Expected dimension in the range [%d, %d), but got %lld",
                                   -xs.rank, xs.rank, (long long)a);
        if (a < 0) a += xs.rank;
        out.rank = 0;
        for (int i = 0; i < xs.rank; i++)
            if (i != a) out.dims[out.rank++] = xs.dims[i];
    } else if (xs.rank > 0) {
        out.rank = xs.rank - 1;
        for (int i = 0; i < out.rank; i++) out.dims[i] = -1;
    }
    tfc_infer_set_output(c, 0, ot, out);
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Reduction kernels                                                        */
/* ------------------------------------------------------------------------ */

/* Elements of one output in a row-reduction split item, and columns of one
 * vertical-accumulation item. */
#define RED_BLOCK 16384
#define RED_COLS 256
/* Columns accumulated together by one thread (a multiple of RED_COLS). */
#define RED_RUN 4096
/* Below this many independent rows (row mode) or column blocks (column
 * mode), large reductions are also split along the reduced dims, so every
 * thread gets work; the decision depends on the shape only. */
#define RED_MIN_ITEMS 64
#define RED_MIN_COL_ITEMS 8

typedef struct red_plan {
    int nk, nr;                    /* outer kept / outer reduced groups */
    int64_t kdim[TFC_MAX_RANK], kstride[TFC_MAX_RANK];
    int64_t rdim[TFC_MAX_RANK], rstride[TFC_MAX_RANK];
    int inner_reduced;             /* is the innermost group reduced? */
    int64_t inner;                 /* its size (contiguous) */
    int64_t nouter;                /* product of kdim */
    int64_t nseg;                  /* product of rdim */
    int64_t count;                 /* reduced elements per output */
} red_plan;

typedef struct red_job {
    red_plan p;
    const void *x;
    void *y;
    void *part;     /* partial accumulators when split, else NULL */
    int64_t nsplit; /* pieces per output (row mode) or per column block */
    int64_t blk;    /* elements (row mode) or segments (column mode) per piece */
    int64_t ncol;   /* column blocks per outer index (column mode) */
} red_job;

/* Walks the outer reduced groups in row-major order, tracking the offset. */
typedef struct odo {
    int64_t idx[TFC_MAX_RANK];
    int64_t off;
} odo;

static void odo_start(odo *o, const red_plan *p, int64_t seg) {
    o->off = 0;
    for (int i = p->nr - 1; i >= 0; i--) {
        o->idx[i] = p->rdim[i] ? seg % p->rdim[i] : 0;
        seg = p->rdim[i] ? seg / p->rdim[i] : 0;
        o->off += o->idx[i] * p->rstride[i];
    }
}

static inline void odo_next(odo *o, const red_plan *p) {
    for (int i = p->nr - 1; i >= 0; i--) {
        o->off += p->rstride[i];
        if (++o->idx[i] < p->rdim[i]) return;
        o->off -= o->idx[i] * p->rstride[i];
        o->idx[i] = 0;
    }
}

static int64_t kept_offset(const red_plan *p, int64_t o) {
    int64_t off = 0;
    for (int i = p->nk - 1; i >= 0; i--) {
        off += (o % p->kdim[i]) * p->kstride[i];
        o /= p->kdim[i];
    }
    return off;
}

/* Builds the loop plan for reducing x over the dims set in mask. */
static void make_plan(const tfc_tensor *x, const char *mask, red_plan *p) {
    int64_t gsize[TFC_MAX_RANK];
    char gred[TFC_MAX_RANK];
    int m = 0;
    memset(p, 0, sizeof *p);
    p->count = 1;
    for (int i = 0; i < x->rank; i++) {
        if (mask[i]) p->count *= x->dims[i];
        if (x->dims[i] == 1) continue;
        if (m > 0 && gred[m - 1] == mask[i]) {
            gsize[m - 1] *= x->dims[i];
        } else {
            gsize[m] = x->dims[i];
            gred[m++] = mask[i];
        }
    }
    if (m == 0) {
        gsize[0] = 1;
        gred[0] = 1;
        m = 1;
    }
    p->inner = gsize[m - 1];
    p->inner_reduced = gred[m - 1];
    int64_t stride = p->inner;
    p->nouter = p->nseg = 1;
    for (int i = m - 2; i >= 0; i--) {
        if (gred[i]) {
            p->rdim[p->nr] = gsize[i];
            p->rstride[p->nr++] = stride;
            p->nseg *= gsize[i];
        } else {
            p->kdim[p->nk] = gsize[i];
            p->kstride[p->nk++] = stride;
            p->nouter *= gsize[i];
        }
        stride *= gsize[i];
    }
    /* collected innermost first: reverse into row-major order */
    for (int i = 0; i < p->nr / 2; i++) {
        int64_t t = p->rdim[i], s = p->rstride[i];
        p->rdim[i] = p->rdim[p->nr - 1 - i];
        p->rstride[i] = p->rstride[p->nr - 1 - i];
        p->rdim[p->nr - 1 - i] = t;
        p->rstride[p->nr - 1 - i] = s;
    }
    for (int i = 0; i < p->nk / 2; i++) {
        int64_t t = p->kdim[i], s = p->kstride[i];
        p->kdim[i] = p->kdim[p->nk - 1 - i];
        p->kstride[i] = p->kstride[p->nk - 1 - i];
        p->kdim[p->nk - 1 - i] = t;
        p->kstride[p->nk - 1 - i] = s;
    }
}

/* One instantiation per (element type, reduction): T the element, A the
 * accumulator, STEP(acc, v) folds v into acc (also combines two partial
 * accumulators), FIN(acc, count) gives the output element. */
#define RED_DEFINE(NAME, T, A, INIT, STEP, FIN)                                            \
    static inline A NAME##_row(const T *restrict px, int64_t n, A acc) {                   \
        int64_t k = 0;                                                                     \
        if (n >= 16) {                                                                     \
            A a0 = INIT, a1 = INIT, a2 = INIT, a3 = INIT;                                  \
            for (; k + 4 <= n; k += 4) {                                                   \
                STEP(a0, px[k]);                                                           \
                STEP(a1, px[k + 1]);                                                       \
                STEP(a2, px[k + 2]);                                                       \
                STEP(a3, px[k + 3]);                                                       \
            }                                                                              \
            STEP(a0, a1);                                                                  \
            STEP(a2, a3);                                                                  \
            STEP(a0, a2);                                                                  \
            STEP(acc, a0);                                                                 \
        }                                                                                  \
        for (; k < n; k++) STEP(acc, px[k]);                                               \
        return acc;                                                                        \
    }                                                                                      \
    static void NAME##_rows(void *arg, int64_t b, int64_t e) {                             \
        const red_job *j = arg;                                                            \
        const red_plan *p = &j->p;                                                         \
        const T *x = j->x;                                                                 \
        int64_t len = p->nseg * p->inner;                                                  \
        for (int64_t it = b; it < e; it++) {                                               \
            int64_t o = it / j->nsplit, piece = it % j->nsplit;                            \
            int64_t s0 = piece * j->blk, s1 = s0 + j->blk < len ? s0 + j->blk : len;       \
            const T *base = x + kept_offset(p, o);                                         \
            A acc = INIT;                                                                  \
            if (s0 < s1) {                                                                 \
                int64_t i0 = s0 % p->inner, left = s1 - s0;                                \
                odo od;                                                                    \
                odo_start(&od, p, s0 / p->inner);                                          \
                while (left > 0) {                                                         \
                    int64_t n = p->inner - i0 < left ? p->inner - i0 : left;               \
                    acc = NAME##_row(base + od.off + i0, n, acc);                          \
                    left -= n;                                                             \
                    i0 = 0;                                                                \
                    odo_next(&od, p);                                                      \
                }                                                                          \
            }                                                                              \
            if (j->part) ((A *)j->part)[it] = acc;                                         \
            else ((T *)j->y)[o] = FIN(acc, p->count);                                      \
        }                                                                                  \
    }                                                                                      \
    static inline void NAME##_vstep(A *restrict acc, const T *restrict px, int64_t w) {    \
        for (int64_t k = 0; k < w; k++) STEP(acc[k], px[k]);                               \
    }                                                                                      \
    /* four rows `s` apart, folded in row order: one load/store of acc per 4 */           \
    static inline void NAME##_vstep4(A *restrict acc, const T *restrict px, int64_t s,     \
                                     int64_t w) {                                          \
        for (int64_t k = 0; k < w; k++) {                                                  \
            A a = acc[k];                                                                  \
            STEP(a, px[k]);                                                                \
            STEP(a, px[k + s]);                                                            \
            STEP(a, px[k + 2 * s]);                                                        \
            STEP(a, px[k + 3 * s]);                                                        \
            acc[k] = a;                                                                    \
        }                                                                                  \
    }                                                                                      \
    static void NAME##_cols(void *arg, int64_t b, int64_t e) {                             \
        const red_job *j = arg;                                                            \
        const red_plan *p = &j->p;                                                         \
        const T *x = j->x;                                                                 \
        A acc[RED_RUN];                                                                    \
        for (int64_t it = b; it < e;) {                                                    \
            int64_t piece = it % j->nsplit, oc = it / j->nsplit;                           \
            int64_t o = oc / j->ncol, c0 = (oc % j->ncol) * RED_COLS;                      \
            /* unsplit: neighbouring column blocks of one output row go together */       \
            int64_t next = it + 1;                                                         \
            if (j->nsplit == 1)                                                            \
                while (next < e && next / j->ncol == o && (next - it) * RED_COLS < RED_RUN) \
                    next++;                                                                \
            int64_t cend = c0 + (next - it) * RED_COLS;                                    \
            int64_t w = (cend < p->inner ? cend : p->inner) - c0;                          \
            int64_t s0 = piece * j->blk, s1 = s0 + j->blk < p->nseg ? s0 + j->blk : p->nseg; \
            const T *base = x + kept_offset(p, o) + c0;                                    \
            for (int64_t k = 0; k < w; k++) acc[k] = INIT;                                 \
            int64_t s = s0;                                                                \
            if (p->nr == 1) {                                                              \
                int64_t st = p->rstride[0];                                                \
                for (; s + 4 <= s1; s += 4) NAME##_vstep4(acc, base + s * st, st, w);      \
                for (; s < s1; s++) NAME##_vstep(acc, base + s * st, w);                   \
            } else {                                                                       \
                odo od;                                                                    \
                odo_start(&od, p, s0);                                                     \
                for (; s < s1; s++) {                                                      \
                    NAME##_vstep(acc, base + od.off, w);                                   \
                    odo_next(&od, p);                                                      \
                }                                                                          \
            }                                                                              \
            if (j->part) {                                                                 \
                A *dst = (A *)j->part + it * RED_COLS;                                     \
                for (int64_t k = 0; k < w; k++) dst[k] = acc[k];                           \
            } else {                                                                       \
                T *dst = (T *)j->y + o * p->inner + c0;                                    \
                for (int64_t k = 0; k < w; k++) dst[k] = FIN(acc[k], p->count);            \
            }                                                                              \
            it = next;                                                                     \
        }                                                                                  \
    }                                                                                      \
    /* Folds the pieces of each output in piece order. */                                  \
    static void NAME##_combine(const red_job *j) {                                         \
        const red_plan *p = &j->p;                                                         \
        const A *part = j->part;                                                           \
        T *y = j->y;                                                                       \
        if (p->inner_reduced) {                                                            \
            for (int64_t o = 0; o < p->nouter; o++) {                                      \
                A acc = INIT;                                                              \
                for (int64_t s = 0; s < j->nsplit; s++) STEP(acc, part[o * j->nsplit + s]); \
                y[o] = FIN(acc, p->count);                                                 \
            }                                                                              \
            return;                                                                        \
        }                                                                                  \
        for (int64_t oc = 0; oc < p->nouter * j->ncol; oc++) {                             \
            int64_t o = oc / j->ncol, c0 = (oc % j->ncol) * RED_COLS;                      \
            int64_t w = p->inner - c0 < RED_COLS ? p->inner - c0 : RED_COLS;               \
            for (int64_t k = 0; k < w; k++) {                                              \
                A acc = INIT;                                                              \
                for (int64_t s = 0; s < j->nsplit; s++)                                    \
                    STEP(acc, part[(oc * j->nsplit + s) * RED_COLS + k]);                  \
                y[o * p->inner + c0 + k] = FIN(acc, p->count);                             \
            }                                                                              \
        }                                                                                  \
    }

#define STEP_ADD(a, v) ((a) += (v))
#define STEP_MUL(a, v) ((a) *= (v))
/* integer sums and products wrap as TensorFlow's do, without signed overflow */
#define STEP_UADD(a, v) ((a) += (uint64_t)(v))
#define STEP_UMUL(a, v) ((a) *= (uint64_t)(v))
#define STEP_MAX(a, v) ((a) = (v) > (a) ? (v) : (a))
#define STEP_MIN(a, v) ((a) = (v) < (a) ? (v) : (a))
#define FIN_F(a, n) ((float)(a))
#define FIN_D(a, n) ((double)(a))
#define FIN_MEAN_F(a, n) ((float)((a) / (double)(n)))
#define FIN_MEAN_D(a, n) ((a) / (double)(n))
#define FIN_I32(a, n) ((int32_t)(int64_t)(a))
#define FIN_I64(a, n) ((int64_t)(a))
#define FIN_MEAN_I32(a, n) ((n) ? (int32_t)((int64_t)(a) / (n)) : 0)
#define FIN_MEAN_I64(a, n) ((n) ? (int64_t)(a) / (n) : 0)
#define FIN_SAME(a, n) (a)

RED_DEFINE(sum_f, float, double, 0.0, STEP_ADD, FIN_F)
RED_DEFINE(sum_d, double, double, 0.0, STEP_ADD, FIN_D)
RED_DEFINE(sum_i32, int32_t, uint64_t, 0, STEP_UADD, FIN_I32)
RED_DEFINE(sum_i64, int64_t, uint64_t, 0, STEP_UADD, FIN_I64)
RED_DEFINE(mean_f, float, double, 0.0, STEP_ADD, FIN_MEAN_F)
RED_DEFINE(mean_d, double, double, 0.0, STEP_ADD, FIN_MEAN_D)
RED_DEFINE(mean_i32, int32_t, uint64_t, 0, STEP_UADD, FIN_MEAN_I32)
RED_DEFINE(mean_i64, int64_t, uint64_t, 0, STEP_UADD, FIN_MEAN_I64)
RED_DEFINE(prod_f, float, double, 1.0, STEP_MUL, FIN_F)
RED_DEFINE(prod_d, double, double, 1.0, STEP_MUL, FIN_D)
RED_DEFINE(prod_i32, int32_t, uint64_t, 1, STEP_UMUL, FIN_I32)
RED_DEFINE(prod_i64, int64_t, uint64_t, 1, STEP_UMUL, FIN_I64)
RED_DEFINE(max_f, float, float, -INFINITY, STEP_MAX, FIN_SAME)
RED_DEFINE(max_d, double, double, -INFINITY, STEP_MAX, FIN_SAME)
RED_DEFINE(max_i32, int32_t, int32_t, INT32_MIN, STEP_MAX, FIN_SAME)
RED_DEFINE(max_i64, int64_t, int64_t, INT64_MIN, STEP_MAX, FIN_SAME)
RED_DEFINE(min_f, float, float, INFINITY, STEP_MIN, FIN_SAME)
RED_DEFINE(min_d, double, double, INFINITY, STEP_MIN, FIN_SAME)
RED_DEFINE(min_i32, int32_t, int32_t, INT32_MAX, STEP_MIN, FIN_SAME)
RED_DEFINE(min_i64, int64_t, int64_t, INT64_MAX, STEP_MIN, FIN_SAME)

typedef struct red_fns {
    void (*rows)(void *, int64_t, int64_t);
    void (*cols)(void *, int64_t, int64_t);
    void (*combine)(const red_job *);
    size_t acc_size;
} red_fns;

#define RED_FNS(NAME, A) {NAME##_rows, NAME##_cols, NAME##_combine, sizeof(A)}

/* [reduction][float, double, int32, int64] */
static const red_fns red_table[5][4] = {
    {RED_FNS(sum_f, double), RED_FNS(sum_d, double), RED_FNS(sum_i32, uint64_t),
     RED_FNS(sum_i64, uint64_t)},
    {RED_FNS(mean_f, double), RED_FNS(mean_d, double), RED_FNS(mean_i32, uint64_t),
     RED_FNS(mean_i64, uint64_t)},
    {RED_FNS(max_f, float), RED_FNS(max_d, double), RED_FNS(max_i32, int32_t),
     RED_FNS(max_i64, int64_t)},
    {RED_FNS(min_f, float), RED_FNS(min_d, double), RED_FNS(min_i32, int32_t),
     RED_FNS(min_i64, int64_t)},
    {RED_FNS(prod_f, double), RED_FNS(prod_d, double), RED_FNS(prod_i32, uint64_t),
     RED_FNS(prod_i64, uint64_t)},
};

static int dtype_slot(tfc_dtype dt) {
    switch (dt) {
    case TFC_FLOAT: return 0;
    case TFC_DOUBLE: return 1;
    case TFC_INT32: return 2;
    case TFC_INT64: return 3;
    default: return -1;
    }
}

static int64_t ceil_div(int64_t a, int64_t b) { return b ? (a + b - 1) / b : 0; }

static void reduce_run(tfc_kernel_ctx *c, int kind) {
    const reduce_data *rd = c->node->op_data;
    const tfc_tensor *x = c->inputs[0], *axes = c->inputs[1];
    int slot = dtype_slot(x->dtype);
    if (slot < 0 || axes->rank > 1) {
        tfc_kernel_error(c, TFC_INVALID_ARGUMENT, "bad input dtype or reduction_indices rank");
        return;
    }
    char mask[TFC_MAX_RANK];
    int64_t bad = mark_axes(axes, x->rank, mask);
    if (bad) {
        tfc_kernel_error(c, TFC_INVALID_ARGUMENT,
                         "Invalid reduction dimension %lld for input with %d dimensions",
                         (long long)tfc_tensor_get_int(axes, bad - 1), x->rank);
        return;
    }
    int64_t odims[TFC_MAX_RANK];
    int orank = 0;
    for (int i = 0; i < x->rank; i++) {
        if (!mask[i]) odims[orank++] = x->dims[i];
        else if (rd->keep_dims) odims[orank++] = 1;
    }
    tfc_tensor *y = tfc_kernel_output(c, 0, x->dtype, orank, odims);
    if (!y || y->nelem == 0) return;

    const red_fns *f = &red_table[kind][slot];
    red_job j;
    make_plan(x, mask, &j.p);
    j.x = x->data;
    j.y = y->data;
    j.part = NULL;
    j.ncol = 1;
    int64_t items, work;
    void (*fn)(void *, int64_t, int64_t);
    if (j.p.inner_reduced) {
        int64_t len = j.p.nseg * j.p.inner;
        j.nsplit = 1;
        j.blk = len;
        if (j.p.nouter < RED_MIN_ITEMS && len > 2 * RED_BLOCK) {
            j.blk = RED_BLOCK;
            j.nsplit = ceil_div(len, RED_BLOCK);
        }
        items = j.p.nouter * j.nsplit;
        work = j.blk;
        fn = f->rows;
    } else {
        j.ncol = ceil_div(j.p.inner, RED_COLS);
        j.nsplit = 1;
        j.blk = j.p.nseg;
        int64_t per = j.p.inner < RED_COLS ? j.p.inner : RED_COLS;
        if (j.p.nouter * j.ncol < RED_MIN_COL_ITEMS && j.p.nseg * per > 2 * RED_BLOCK) {
            j.blk = ceil_div(RED_BLOCK, per);
            j.nsplit = ceil_div(j.p.nseg, j.blk);
        }
        items = j.p.nouter * j.ncol * j.nsplit;
        work = j.blk * per;
        fn = f->cols;
    }
    if (j.nsplit > 1) {
        size_t width = j.p.inner_reduced ? 1 : RED_COLS;
        j.part = malloc((size_t)items * width * f->acc_size);
        if (!j.part) {
            tfc_kernel_error(c, TFC_INTERNAL, "out of memory");
            return;
        }
    }
    int64_t grain = work >= 32768 ? 1 : 32768 / (work ? work : 1);
    tfc_parallel_for(c->pool, items, grain, fn, &j);
    if (j.part) {
        f->combine(&j);
        free(j.part);
    }
}

static void sum_kernel(tfc_kernel_ctx *c) { reduce_run(c, RED_SUM); }
static void mean_kernel(tfc_kernel_ctx *c) { reduce_run(c, RED_MEAN); }
static void max_kernel(tfc_kernel_ctx *c) { reduce_run(c, RED_MAX); }
static void min_kernel(tfc_kernel_ctx *c) { reduce_run(c, RED_MIN); }
static void prod_kernel(tfc_kernel_ctx *c) { reduce_run(c, RED_PROD); }

/* ---- ArgMax / ArgMin: input viewed as [outer, n, inner] ---- */

typedef struct arg_job {
    const void *x;
    void *y;
    int64_t n, inner, ncol;
    int is_max;
    int out64;
} arg_job;

/* The first index of the extreme value wins ties, as in TensorFlow. */
#define ARG_DEFINE(NAME, T)                                                                \
    static void NAME(void *arg, int64_t b, int64_t e) {                                   \
        const arg_job *j = arg;                                                            \
        const T *x = j->x;                                                                 \
        T best[RED_COLS];                                                                  \
        int64_t idx[RED_COLS];                                                             \
        if (j->inner == 1) { /* contiguous rows */                                         \
            for (int64_t o = b; o < e; o++) {                                              \
                const T *px = x + o * j->n;                                                \
                T bv = px[0];                                                              \
                int64_t bi = 0;                                                            \
                if (j->is_max) {                                                           \
                    for (int64_t r = 1; r < j->n; r++)                                     \
                        bi = px[r] > bv ? r : bi, bv = px[r] > bv ? px[r] : bv;            \
                } else {                                                                   \
                    for (int64_t r = 1; r < j->n; r++)                                     \
                        bi = px[r] < bv ? r : bi, bv = px[r] < bv ? px[r] : bv;            \
                }                                                                          \
                if (j->out64) ((int64_t *)j->y)[o] = bi;                                   \
                else ((int32_t *)j->y)[o] = (int32_t)bi;                                   \
            }                                                                              \
            return;                                                                        \
        }                                                                                  \
        for (int64_t it = b; it < e; it++) {                                               \
            int64_t o = it / j->ncol, c0 = (it % j->ncol) * RED_COLS;                      \
            int64_t w = j->inner - c0 < RED_COLS ? j->inner - c0 : RED_COLS;               \
            const T *base = x + o * j->n * j->inner + c0;                                  \
            for (int64_t k = 0; k < w; k++) {                                              \
                best[k] = base[k];                                                         \
                idx[k] = 0;                                                                \
            }                                                                              \
            for (int64_t r = 1; r < j->n; r++) {                                           \
                const T *px = base + r * j->inner;                                         \
                if (j->is_max) {                                                           \
                    for (int64_t k = 0; k < w; k++)                                        \
                        if (px[k] > best[k]) best[k] = px[k], idx[k] = r;                  \
                } else {                                                                   \
                    for (int64_t k = 0; k < w; k++)                                        \
                        if (px[k] < best[k]) best[k] = px[k], idx[k] = r;                  \
                }                                                                          \
            }                                                                              \
            int64_t at = o * j->inner + c0;                                                \
            if (j->out64)                                                                  \
                for (int64_t k = 0; k < w; k++) ((int64_t *)j->y)[at + k] = idx[k];        \
            else                                                                           \
                for (int64_t k = 0; k < w; k++) ((int32_t *)j->y)[at + k] = (int32_t)idx[k]; \
        }                                                                                  \
    }

ARG_DEFINE(arg_f, float)
ARG_DEFINE(arg_d, double)
ARG_DEFINE(arg_i32, int32_t)
ARG_DEFINE(arg_i64, int64_t)

static void argminmax_run(tfc_kernel_ctx *c, int is_max) {
    const arg_data *ad = c->node->op_data;
    const tfc_tensor *x = c->inputs[0];
    int slot = dtype_slot(x->dtype);
    if (slot < 0 || x->rank == 0 || c->inputs[1]->nelem != 1) {
        tfc_kernel_error(c, TFC_INVALID_ARGUMENT, "bad input dtype, rank or dimension");
        return;
    }
    int64_t a = tfc_tensor_get_int(c->inputs[1], 0);
    if (a < -x->rank || a >= x->rank) {
        tfc_kernel_error(c, TFC_INVALID_ARGUMENT,
                         "Expected dimension in the range [%d, %d), but got %lld", -x->rank,
                         x->rank, (long long)a);
        return;
    }
    if (a < 0) a += x->rank;
    if (x->dims[a] == 0) {
        tfc_kernel_error(c, TFC_INVALID_ARGUMENT,
                         "Reduction axis %lld is empty in shape of rank %d", (long long)a,
                         x->rank);
        return;
    }
    arg_job j = {x->data, NULL, x->dims[a], 1, 1, is_max, ad->out_type == TFC_INT64};
    int64_t odims[TFC_MAX_RANK], outer = 1;
    int orank = 0;
    for (int i = 0; i < x->rank; i++) {
        if (i < a) outer *= x->dims[i];
        if (i > a) j.inner *= x->dims[i];
        if (i != a) odims[orank++] = x->dims[i];
    }
    tfc_tensor *y = tfc_kernel_output(c, 0, ad->out_type, orank, odims);
    if (!y || y->nelem == 0) return;
    j.y = y->data;
    j.ncol = ceil_div(j.inner, RED_COLS);
    static void (*const fns[4])(void *, int64_t, int64_t) = {arg_f, arg_d, arg_i32, arg_i64};
    int64_t work = j.n * (j.inner < RED_COLS ? j.inner : RED_COLS);
    int64_t grain = work >= 32768 ? 1 : 32768 / work;
    tfc_parallel_for(c->pool, outer * j.ncol, grain, fns[slot], &j);
}

static void argmax_kernel(tfc_kernel_ctx *c) { argminmax_run(c, 1); }
static void argmin_kernel(tfc_kernel_ctx *c) { argminmax_run(c, 0); }

/* ------------------------------------------------------------------------ */
/* Range(start, limit, delta) and BroadcastTo(input, shape)                 */
/* ------------------------------------------------------------------------ */

static int64_t range_count(double start, double limit, double delta, int is_int) {
    if (is_int) {
        int64_t s = (int64_t)start, l = (int64_t)limit, d = (int64_t)delta;
        if ((d > 0 && l <= s) || (d < 0 && l >= s)) return 0;
        return (d > 0 ? (l - s + d - 1) / d : (s - l - d - 1) / -d);
    }
    if ((delta > 0 && limit <= start) || (delta < 0 && limit >= start)) return 0;
    return (int64_t)ceil((limit - start) / delta);
}

static int range_infer(tfc_infer_ctx *c) {
    tfc_dtype dt = tfc_infer_input_dtype(c, 0);
    if (!numeric_dtype(dt))
        return tfc_infer_error(c, "start must be float32, float64, int32 or int64, got %s",
                               tfc_dtype_name(dt));
    if (tfc_infer_same_dtype(c, 0, 3, dt) == TFC_INVALID_DTYPE) return -1;
    for (int i = 0; i < 3; i++) {
        tfc_shape s = tfc_infer_input_shape(c, i);
        if (s.rank > 0) return tfc_infer_error(c, "input %d must be a scalar, got rank %d", i, s.rank);
    }
    tfc_attrs_set_int(c->attrs, "Tidx", TFC_ATTR_TYPE, dt);
    const tfc_tensor *s = tfc_infer_input_const(c, 0), *l = tfc_infer_input_const(c, 1),
                     *d = tfc_infer_input_const(c, 2);
    int64_t n = -1;
    if (s && l && d) {
        double dv = tfc_tensor_get_double(d, 0);
        if (dv == 0) return tfc_infer_error(c, "Requires delta != 0");
        n = range_count(tfc_tensor_get_double(s, 0), tfc_tensor_get_double(l, 0), dv,
                        dt == TFC_INT32 || dt == TFC_INT64);
    }
    tfc_infer_set_output(c, 0, dt, tfc_shape_vector(n));
    return 0;
}

static void range_kernel(tfc_kernel_ctx *c) {
    tfc_dtype dt = c->inputs[0]->dtype;
    int is_int = dt == TFC_INT32 || dt == TFC_INT64;
    for (int i = 0; i < 3; i++)
        if (c->inputs[i]->nelem != 1) {
            tfc_kernel_error(c, TFC_INVALID_ARGUMENT, "input %d must be a scalar", i);
            return;
        }
    double start = tfc_tensor_get_double(c->inputs[0], 0);
    double limit = tfc_tensor_get_double(c->inputs[1], 0);
    double delta = tfc_tensor_get_double(c->inputs[2], 0);
    if (delta == 0) {
        tfc_kernel_error(c, TFC_INVALID_ARGUMENT, "Requires delta != 0");
        return;
    }
    int64_t n = range_count(start, limit, delta, is_int);
    tfc_tensor *y = tfc_kernel_output(c, 0, dt, 1, &n);
    if (!y) return;
    if (is_int) {
        int64_t s = tfc_tensor_get_int(c->inputs[0], 0), d = tfc_tensor_get_int(c->inputs[2], 0);
        for (int64_t i = 0; i < n; i++) {
            if (dt == TFC_INT32) ((int32_t *)y->data)[i] = (int32_t)(s + i * d);
            else ((int64_t *)y->data)[i] = s + i * d;
        }
    } else {
        for (int64_t i = 0; i < n; i++) tfc_tensor_set_double(y, i, start + (double)i * delta);
    }
}

static int broadcast_to_infer(tfc_infer_ctx *c) {
    tfc_dtype dt = tfc_infer_input_dtype(c, 0), st = tfc_infer_input_dtype(c, 1);
    if (st != TFC_INT32 && st != TFC_INT64)
        return tfc_infer_error(c, "shape must be int32 or int64, got %s", tfc_dtype_name(st));
    tfc_shape ss = tfc_infer_input_shape(c, 1), xs = tfc_infer_input_shape(c, 0);
    if (ss.rank != 1 && ss.rank != -1)
        return tfc_infer_error(c, "shape must be a vector, got rank %d", ss.rank);
    tfc_attrs_set_int(c->attrs, "T", TFC_ATTR_TYPE, dt);
    tfc_attrs_set_int(c->attrs, "Tidx", TFC_ATTR_TYPE, st);
    const tfc_tensor *sv = tfc_infer_input_const(c, 1);
    tfc_shape out = tfc_shape_unknown();
    if (sv) {
        if (sv->nelem > TFC_MAX_RANK) return tfc_infer_error(c, "shape has too many dims");
        out.rank = (int)sv->nelem;
        for (int i = 0; i < out.rank; i++) out.dims[i] = tfc_tensor_get_int(sv, i);
        tfc_shape chk;
        if (xs.rank > out.rank || tfc_shape_broadcast(&xs, &out, &chk) != 0) {
            char b1[128], b2[128];
            return tfc_infer_error(c, "cannot broadcast %s to %s", tfc_shape_str(&xs, b1, sizeof b1),
                                   tfc_shape_str(&out, b2, sizeof b2));
        }
        for (int i = 0; i < out.rank; i++)
            if (out.dims[i] >= 0 && chk.dims[i] >= 0 && chk.dims[i] != out.dims[i]) {
                char b1[128], b2[128];
                return tfc_infer_error(c, "cannot broadcast %s to %s",
                                       tfc_shape_str(&xs, b1, sizeof b1),
                                       tfc_shape_str(&out, b2, sizeof b2));
            }
    } else if (ss.rank == 1 && ss.dims[0] >= 0) {
        out.rank = (int)ss.dims[0];
        for (int i = 0; i < out.rank; i++) out.dims[i] = -1;
    }
    tfc_infer_set_output(c, 0, dt, out);
    return 0;
}

typedef struct bcast_job {
    const char *x;
    char *y;
    size_t esize;
    int rank;
    int64_t odims[TFC_MAX_RANK], xstride[TFC_MAX_RANK]; /* xstride 0 on broadcast dims */
    int64_t inner; /* innermost output dim */
} bcast_job;

static void bcast_rows(void *arg, int64_t b, int64_t e) {
    const bcast_job *j = arg;
    for (int64_t r = b; r < e; r++) {
        int64_t rem = r, xoff = 0;
        for (int i = j->rank - 2; i >= 0; i--) {
            xoff += (rem % j->odims[i]) * j->xstride[i];
            rem /= j->odims[i];
        }
        char *dst = j->y + (size_t)(r * j->inner) * j->esize;
        const char *src = j->x + (size_t)xoff * j->esize;
        if (j->xstride[j->rank - 1]) {
            memcpy(dst, src, (size_t)j->inner * j->esize);
        } else if (j->esize == 4) {
            uint32_t v;
            memcpy(&v, src, 4);
            for (int64_t k = 0; k < j->inner; k++) ((uint32_t *)dst)[k] = v;
        } else if (j->esize == 8) {
            uint64_t v;
            memcpy(&v, src, 8);
            for (int64_t k = 0; k < j->inner; k++) ((uint64_t *)dst)[k] = v;
        } else {
            for (int64_t k = 0; k < j->inner; k++) memcpy(dst + (size_t)k * j->esize, src, j->esize);
        }
    }
}

static void broadcast_to_kernel(tfc_kernel_ctx *c) {
    const tfc_tensor *x = c->inputs[0], *s = c->inputs[1];
    if (s->rank != 1 || s->nelem > TFC_MAX_RANK || s->nelem < x->rank) {
        tfc_kernel_error(c, TFC_INVALID_ARGUMENT, "shape must be a vector of at least %d dims",
                         x->rank);
        return;
    }
    bcast_job j;
    j.rank = (int)s->nelem;
    int lead = j.rank - x->rank;
    int64_t stride = 1;
    for (int i = j.rank - 1; i >= 0; i--) {
        j.odims[i] = tfc_tensor_get_int(s, i);
        int64_t xd = i >= lead ? x->dims[i - lead] : 1;
        if (j.odims[i] < 0 || (xd != j.odims[i] && xd != 1)) {
            char b1[128], b2[128];
            tfc_kernel_error(c, TFC_INVALID_ARGUMENT, "cannot broadcast %s to %s",
                             tfc_dims_str(x->rank, x->dims, b1, sizeof b1),
                             tfc_dims_str(j.rank, j.odims, b2, sizeof b2));
            return;
        }
        j.xstride[i] = xd == 1 ? 0 : stride;
        stride *= xd;
    }
    tfc_tensor *y = tfc_kernel_output(c, 0, x->dtype, j.rank, j.odims);
    if (!y || y->nelem == 0) return;
    if (j.rank == 0) {
        memcpy(y->data, x->data, x->nbytes);
        return;
    }
    j.x = x->data;
    j.y = y->data;
    j.esize = tfc_dtype_size(x->dtype);
    j.inner = j.odims[j.rank - 1];
    int64_t grain = j.inner >= 16384 ? 1 : 16384 / j.inner;
    tfc_parallel_for(c->pool, y->nelem / j.inner, grain, bcast_rows, &j);
}

/* ------------------------------------------------------------------------ */
/* Gradients                                                                */
/* ------------------------------------------------------------------------ */

static const tfc_tensor *const_value(tfc_output o) {
    if (!o.node || strcmp(tfc_node_type(o.node), "Const") != 0) return NULL;
    return tfc_attrs_tensor(&o.node->attrs, "value");
}

/* The keep_dims shape of a reduction of x (whose shape is `shape`, int32)
 * over `axes`, computed at run time, for a rank or axes not known when the
 * graph is built (TensorFlow's math_ops.reduced_shape): shape with the
 * reduced dims set to 1, a DynamicStitch of [range(rank), axes mod rank]
 * over [shape, ones]. Negative and repeated axes come out right. */
static tfc_output reduced_shape_dynamic(tfc_graph *g, tfc_output shape, tfc_output axes) {
    tfc_output rank = tfc_size(g, shape), one = tfc_const_int32(g, 1);
    if (tfc_output_dtype(axes) != TFC_INT32) axes = tfc_cast(g, axes, TFC_INT32);
    axes = tfc_floormod(g, tfc_add(g, axes, rank), rank);
    tfc_output all = tfc_grad_op(g, "Range", (tfc_output[3]){tfc_const_int32(g, 0), rank, one}, 3);
    tfc_output idx[2] = {all, axes}, data[2] = {shape, tfc_fill(g, tfc_shape_of(g, axes), one)};
    return tfc_dynamic_stitch(g, idx, data, 2);
}

/* Broadcasts `v`, shaped like the output of a reduction of `x` over `axes`
 * with keep_dims `keep`, back to x's shape: reshape to the keep_dims shape,
 * then BroadcastTo. With constant axes and a known rank (the usual case,
 * which the graph optimizations and benchmarks see) the reduced dims are
 * known when the graph is built and the shapes are constants where x's
 * shape is known; otherwise the shapes are computed at run time. */
static tfc_output broadcast_back(tfc_graph *g, tfc_output v, tfc_output x, tfc_output axes_out,
                                 int keep) {
    tfc_shape xs = tfc_output_shape(x);
    const tfc_tensor *axes = const_value(axes_out);
    char mask[TFC_MAX_RANK];
    if (xs.rank < 0 || !axes || mark_axes(axes, xs.rank, mask)) {
        tfc_output shape = tfc_shape_of(g, x);
        tfc_output kept =
            keep ? v : tfc_reshape_to(g, v, reduced_shape_dynamic(g, shape, axes_out));
        return tfc_grad_op(g, "BroadcastTo", (tfc_output[2]){kept, shape}, 2);
    }
    int any = 0;
    for (int i = 0; i < xs.rank; i++) any |= mask[i];
    int full = tfc_shape_is_fully_defined(&xs);
    tfc_output kept = v;
    if (!keep) {
        if (full) {
            int64_t kd[TFC_MAX_RANK];
            for (int i = 0; i < xs.rank; i++) kd[i] = mask[i] ? 1 : xs.dims[i];
            kept = tfc_reshape(g, v, xs.rank, kd);
        } else {
            /* shape(x) * keepmask + reducedmask: reduced dims become 1 */
            int32_t km[TFC_MAX_RANK], rm[TFC_MAX_RANK];
            for (int i = 0; i < xs.rank; i++) {
                km[i] = !mask[i];
                rm[i] = mask[i];
            }
            tfc_output ks = tfc_add(g, tfc_mul(g, tfc_shape_of(g, x), tfc_const_ints(g, km, xs.rank)),
                                    tfc_const_ints(g, rm, xs.rank));
            kept = tfc_reshape_to(g, v, ks);
        }
    }
    if (!any) return kept;
    tfc_output shape;
    if (full) {
        int64_t n = xs.rank;
        shape = tfc_const_data(g, TFC_INT64, 1, &n, xs.dims);
    } else {
        shape = tfc_shape_of(g, x);
    }
    tfc_output in[2] = {kept, shape};
    return tfc_grad_op(g, "BroadcastTo", in, 2);
}

static int keep_of(const tfc_node *op) { return ((const reduce_data *)op->op_data)->keep_dims; }

static int sum_grad(tfc_graph *g, tfc_node *op, const tfc_output *dy, tfc_output *dx) {
    dx[0] = broadcast_back(g, dy[0], op->inputs[0], op->inputs[1], keep_of(op));
    return dx[0].node ? 0 : -1;
}

static int mean_grad(tfc_graph *g, tfc_node *op, const tfc_output *dy, tfc_output *dx) {
    tfc_output x = op->inputs[0], y = tfc_out(op, 0);
    tfc_shape xs = tfc_output_shape(x), ys = tfc_output_shape(y);
    tfc_dtype dt = tfc_output_dtype(x);
    tfc_output count;
    if (tfc_shape_is_fully_defined(&xs) && tfc_shape_is_fully_defined(&ys)) {
        int64_t ny = tfc_shape_num_elements(&ys);
        count = tfc_grad_scalar(g, dt, ny ? (double)(tfc_shape_num_elements(&xs) / ny) : 1.0);
    } else {
        count = tfc_div(g, tfc_cast(g, tfc_size(g, x), dt), tfc_cast(g, tfc_size(g, y), dt));
    }
    tfc_output b = broadcast_back(g, dy[0], x, op->inputs[1], keep_of(op));
    if (!b.node) return -1;
    dx[0] = tfc_div(g, b, count);
    return 0;
}

/* The gradient goes to the positions equal to the extreme value, shared
 * equally among ties (TensorFlow's rule). */
static int maxmin_grad(tfc_graph *g, tfc_node *op, const tfc_output *dy, tfc_output *dx) {
    tfc_output x = op->inputs[0], axes = op->inputs[1];
    int keep = keep_of(op);
    tfc_dtype dt = tfc_output_dtype(x);
    tfc_output yb = broadcast_back(g, tfc_out(op, 0), x, axes, keep);
    if (!yb.node) return -1;
    tfc_output ind = tfc_cast(g, tfc_equal(g, yb, x), dt);
    tfc_op_desc *d = tfc_op_new(g, "Sum", NULL);
    tfc_op_add_input(d, ind);
    tfc_op_add_input(d, axes);
    tfc_op_set_attr_bool(d, "keep_dims", keep);
    tfc_output nsel = broadcast_back(g, tfc_out(tfc_op_finish(d), 0), x, axes, keep);
    tfc_output gb = broadcast_back(g, dy[0], x, axes, keep);
    if (!nsel.node || !gb.node) return -1;
    dx[0] = tfc_mul(g, tfc_div(g, ind, nsel), gb);
    return 0;
}

/* A reduction of `x` like `op`'s (same axes and keep_dims), another type. */
static tfc_output reduce_like(tfc_graph *g, tfc_node *op, const char *type, tfc_output x) {
    tfc_op_desc *d = tfc_op_new(g, type, NULL);
    tfc_op_add_input(d, x);
    tfc_op_add_input(d, op->inputs[1]);
    tfc_op_set_attr_bool(d, "keep_dims", keep_of(op));
    return tfc_out(tfc_op_finish(d), 0);
}

/* d prod / d x_i is the product of the other elements of x_i's group. With
 * z zeros in the group and p the product of its nonzero elements: z == 0
 * gives p / x_i; z == 1 gives p at the zero and 0 elsewhere; z >= 2 gives 0.
 * (TensorFlow gets the same values with exclusive cumulative products.) */
static int prod_grad(tfc_graph *g, tfc_node *op, const tfc_output *dy, tfc_output *dx) {
    tfc_output x = op->inputs[0], axes = op->inputs[1];
    int keep = keep_of(op);
    tfc_dtype dt = tfc_output_dtype(x);
    tfc_output zero = tfc_zeros_like(g, x), one = tfc_ones_like(g, x);
    tfc_output is0 = tfc_equal(g, x, zero);
    tfc_output xs = tfc_select(g, is0, one, x);
    tfc_output p = broadcast_back(g, reduce_like(g, op, "Prod", xs), x, axes, keep);
    tfc_output z = broadcast_back(g, reduce_like(g, op, "Sum", tfc_cast(g, is0, dt)), x, axes, keep);
    tfc_output gb = broadcast_back(g, dy[0], x, axes, keep);
    if (!p.node || !z.node || !gb.node) return -1;
    tfc_output at_zero = tfc_select(g, tfc_equal(g, z, one), p, zero);
    tfc_output elsewhere = tfc_select(g, tfc_equal(g, z, zero), tfc_div(g, p, xs), zero);
    dx[0] = tfc_mul(g, tfc_select(g, is0, at_zero, elsewhere), gb);
    return 0;
}

static int broadcast_to_grad(tfc_graph *g, tfc_node *op, const tfc_output *dy, tfc_output *dx) {
    dx[0] = tfc_grad_unbroadcast(g, dy[0], op->inputs[0]);
    return dx[0].node ? 0 : -1;
}

const tfc_op_def tfc_ops_reduce[] = {
    {"Sum", 2, 2, 1, 0, 0, reduce_infer, sum_kernel, sum_grad},
    {"Mean", 2, 2, 1, 0, 0, reduce_infer, mean_kernel, mean_grad},
    {"Max", 2, 2, 1, 0, 0, reduce_infer, max_kernel, maxmin_grad},
    {"Min", 2, 2, 1, 0, 0, reduce_infer, min_kernel, maxmin_grad},
    {"Prod", 2, 2, 1, 0, 0, reduce_infer, prod_kernel, prod_grad},
    {"ArgMax", 2, 2, 1, TFC_OP_NO_GRADIENT, 0, argminmax_infer, argmax_kernel, NULL},
    {"ArgMin", 2, 2, 1, TFC_OP_NO_GRADIENT, 0, argminmax_infer, argmin_kernel, NULL},
    {"Range", 3, 3, 1, TFC_OP_NO_GRADIENT, 0, range_infer, range_kernel, NULL},
    {"BroadcastTo", 2, 2, 1, 0, 0, broadcast_to_infer, broadcast_to_kernel, broadcast_to_grad},
    {NULL, 0, 0, 0, 0, 0, NULL, NULL, NULL},
};

/* ------------------------------------------------------------------------ */
/* Helpers                                                                  */
/* ------------------------------------------------------------------------ */

static tfc_output reduce_helper(tfc_graph *g, const char *type, tfc_output x,
                                const int32_t *axes, int naxes, int keep_dims) {
    if (!g) return (tfc_output){NULL, 0};
    if (naxes < 0 || (naxes > 0 && !axes)) {
        tfc_graph_fail(g, TFC_INVALID_ARGUMENT, "%s: bad axes (NULL with naxes %d)", type, naxes);
        return (tfc_output){NULL, 0};
    }
    /* the node first, so a name from tfc_with_name goes to it, not to the axes */
    tfc_op_desc *d = tfc_op_new(g, type, NULL);
    tfc_output ax;
    if (!axes && naxes == 0) {
        tfc_shape xs = tfc_output_shape(x);
        if (xs.rank >= 0 || !x.node) {
            int32_t all[TFC_MAX_RANK];
            int r = xs.rank > 0 ? xs.rank : 0;
            for (int i = 0; i < r; i++) all[i] = i;
            ax = tfc_const_ints(g, all, r);
        } else {
            ax = tfc_grad_op(g, "Range",
                             (tfc_output[3]){tfc_const_int32(g, 0), tfc_rank(g, x),
                                             tfc_const_int32(g, 1)},
                             3);
        }
    } else {
        ax = tfc_const_ints(g, axes, naxes);
    }
    tfc_op_add_input(d, x);
    tfc_op_add_input(d, ax);
    tfc_op_set_attr_bool(d, "keep_dims", keep_dims != 0);
    return tfc_out(tfc_op_finish(d), 0);
}

tfc_output tfc_reduce_sum(tfc_graph *g, tfc_output x, const int32_t *axes, int naxes,
                          int keep_dims) {
    return reduce_helper(g, "Sum", x, axes, naxes, keep_dims);
}

tfc_output tfc_reduce_mean(tfc_graph *g, tfc_output x, const int32_t *axes, int naxes,
                           int keep_dims) {
    return reduce_helper(g, "Mean", x, axes, naxes, keep_dims);
}

tfc_output tfc_reduce_max(tfc_graph *g, tfc_output x, const int32_t *axes, int naxes,
                          int keep_dims) {
    return reduce_helper(g, "Max", x, axes, naxes, keep_dims);
}

tfc_output tfc_reduce_min(tfc_graph *g, tfc_output x, const int32_t *axes, int naxes,
                          int keep_dims) {
    return reduce_helper(g, "Min", x, axes, naxes, keep_dims);
}

tfc_output tfc_reduce_prod(tfc_graph *g, tfc_output x, const int32_t *axes, int naxes,
                           int keep_dims) {
    return reduce_helper(g, "Prod", x, axes, naxes, keep_dims);
}

static tfc_output arg_helper(tfc_graph *g, const char *type, tfc_output x, int axis) {
    if (!g) return (tfc_output){NULL, 0};
    tfc_op_desc *d = tfc_op_new(g, type, NULL);
    tfc_output ax = tfc_const_int32(g, axis);
    tfc_op_add_input(d, x);
    tfc_op_add_input(d, ax);
    return tfc_out(tfc_op_finish(d), 0);
}

tfc_output tfc_argmax(tfc_graph *g, tfc_output x, int axis) { return arg_helper(g, "ArgMax", x, axis); }
tfc_output tfc_argmin(tfc_graph *g, tfc_output x, int axis) { return arg_helper(g, "ArgMin", x, axis); }
