/* Max and average pooling over NHWC windows, and their gradients
 * (MaxPoolGrad routes each output gradient to the first maximum of its
 * window; AvgPool counts only the in-bounds elements of a SAME window, as
 * TensorFlow does). Listed in tfc_ops_conv[] (conv.c). */
#include "autodiff/grad_util.h"
#include "core/vector_clones.h"
#include "ops/conv_internal.h"

#include <math.h>
#include <string.h>

typedef struct pool_geom {
    int64_t n, h, w, c, kh, kw, sh, sw, ph, pw, oh, ow;
} pool_geom;

typedef struct pool_task {
    pool_geom q;
    const void *x, *y, *dy; /* input, pooled output, output gradient */
    const void *features;   /* _MaxPoolGradReluGrad: the relu's output (else NULL) */
    void *out;
} pool_task;

/* ---- shape functions ---- */

static int pool_float(tfc_infer_ctx *c, tfc_dtype dt) {
    if (dt == TFC_FLOAT || dt == TFC_DOUBLE) return 0;
    return tfc_infer_error(c, "expected float32 or float64 tensors, got %s", tfc_dtype_name(dt));
}

static int pool_out_shape(tfc_infer_ctx *c, tfc_shape xs, tfc_shape *out) {
    const tfc_window *w = c->op_data;
    char buf[96];
    if (xs.rank >= 0 && xs.rank != 4)
        return tfc_infer_error(c, "input must be 4-dimensional, got shape %s",
                               tfc_shape_str(&xs, buf, sizeof buf));
    *out = (tfc_shape){.rank = 4, .dims = {-1, -1, -1, -1}};
    if (xs.rank < 0) return 0;
    out->dims[0] = xs.dims[0];
    out->dims[3] = xs.dims[3];
    for (int d = 0; d < 2; d++) {
        int64_t in = xs.dims[1 + d], pad;
        if (in >= 0 && tfc_window_out(in, d ? w->kw : w->kh, d ? w->sw : w->sh, 1, w->same,
                                      &out->dims[1 + d], &pad))
            return tfc_infer_error(c, "computed output size would be negative: input %s, "
                                      "VALID padding",
                                   tfc_shape_str(&xs, buf, sizeof buf));
    }
    return 0;
}

int tfc_pool_infer(tfc_infer_ctx *c) {
    tfc_dtype dt = tfc_infer_input_dtype(c, 0);
    tfc_shape out;
    if (pool_float(c, dt) || tfc_window_parse(c, 1) ||
        pool_out_shape(c, tfc_infer_input_shape(c, 0), &out))
        return -1;
    tfc_attrs_set_int(c->attrs, "T", TFC_ATTR_TYPE, dt);
    tfc_infer_set_output(c, 0, dt, out);
    return 0;
}

/* MaxPoolGrad(orig_input, orig_output, grad). */
int tfc_max_pool_grad_infer(tfc_infer_ctx *c) {
    tfc_dtype dt = tfc_infer_same_dtype(c, 0, 3, TFC_INVALID_DTYPE);
    tfc_shape out;
    if (dt == TFC_INVALID_DTYPE || pool_float(c, dt) || tfc_window_parse(c, 1) ||
        pool_out_shape(c, tfc_infer_input_shape(c, 0), &out))
        return -1;
    tfc_attrs_set_int(c->attrs, "T", TFC_ATTR_TYPE, dt);
    tfc_infer_set_output(c, 0, dt, tfc_infer_input_shape(c, 0));
    return 0;
}

/* MaxPoolGradGrad(orig_input, orig_output, grad): shaped like orig_output. */
int tfc_max_pool_grad_grad_infer(tfc_infer_ctx *c) {
    tfc_dtype dt = tfc_infer_same_dtype(c, 0, 3, TFC_INVALID_DTYPE);
    tfc_shape out;
    if (dt == TFC_INVALID_DTYPE || pool_float(c, dt) || tfc_window_parse(c, 1) ||
        pool_out_shape(c, tfc_infer_input_shape(c, 0), &out))
        return -1;
    tfc_attrs_set_int(c->attrs, "T", TFC_ATTR_TYPE, dt);
    tfc_infer_set_output(c, 0, dt, out);
    return 0;
}

/* AvgPoolGrad(orig_input_shape, grad). */
int tfc_avg_pool_grad_infer(tfc_infer_ctx *c) {
    tfc_dtype dt = tfc_infer_input_dtype(c, 1);
    tfc_shape out, ys;
    if (pool_float(c, dt) || tfc_window_parse(c, 1) || tfc_window_sizes_input(c, 0, &out))
        return -1;
    ys = tfc_infer_input_shape(c, 1);
    if (ys.rank >= 0 && ys.rank != 4)
        return tfc_infer_error(c, "grad must be 4-dimensional, got rank %d", ys.rank);
    tfc_attrs_set_int(c->attrs, "T", TFC_ATTR_TYPE, dt);
    tfc_infer_set_output(c, 0, dt, out);
    return 0;
}

/* ---- kernels ---- */

static int geom_of(tfc_kernel_ctx *c, const tfc_window *w, const int64_t *x, pool_geom *q) {
    *q = (pool_geom){.n = x[0], .h = x[1], .w = x[2], .c = x[3], .kh = w->kh, .kw = w->kw,
                     .sh = w->sh, .sw = w->sw};
    if (tfc_window_out(q->h, q->kh, q->sh, 1, w->same, &q->oh, &q->ph) ||
        tfc_window_out(q->w, q->kw, q->sw, 1, w->same, &q->ow, &q->pw)) {
        char buf[64];
        tfc_kernel_error(c, TFC_INVALID_ARGUMENT,
                         "computed output size would be negative: input %s, VALID padding",
                         tfc_dims_str(4, x, buf, sizeof buf));
        return -1;
    }
    return 0;
}

static int geom_make(tfc_kernel_ctx *c, const int64_t *x, pool_geom *q) {
    return geom_of(c, c->node->op_data, x, q);
}

/* Visits the in-bounds input pixels (iy, ix) of the window of output
 * (oy, ox), with `base` the offset of image n. */
#define FOR_WINDOW(q, oy, ox, iy, ix)                                                 \
    for (int64_t iy = (oy) * (q)->sh - (q)->ph, iy##_end = iy + (q)->kh; iy < iy##_end; iy++) \
        if (iy >= 0 && iy < (q)->h)                                                   \
            for (int64_t ix = (ox) * (q)->sw - (q)->pw, ix##_end = ix + (q)->kw; ix < ix##_end; ix++) \
                if (ix >= 0 && ix < (q)->w)

/* Channels handled at once when looking for a window's maxima. */
#define POOL_CHANNEL_BLOCK 64

#define DEFINE_POOL_KERNELS(T)                                                           \
    TFC_VECTOR_CLONES static void max_pool_##T(void *arg, int64_t b, int64_t e) {                          \
        const pool_task *t = arg;                                                        \
        const pool_geom *q = &t->q;                                                      \
        const T *x = t->x;                                                               \
        T *y = t->out;                                                                   \
        for (int64_t n = b; n < e; n++)                                                  \
            for (int64_t oy = 0; oy < q->oh; oy++)                                       \
                for (int64_t ox = 0; ox < q->ow; ox++) {                                 \
                    T *o = y + ((n * q->oh + oy) * q->ow + ox) * q->c;                   \
                    for (int64_t k = 0; k < q->c; k++) o[k] = (T)-INFINITY;              \
                    /* a select rather than a conditional store: it vectorizes */        \
                    FOR_WINDOW(q, oy, ox, iy, ix) {                                      \
                        const T *restrict in = x + ((n * q->h + iy) * q->w + ix) * q->c; \
                        T *restrict to = o;                                              \
                        for (int64_t k = 0; k < q->c; k++)                               \
                            to[k] = in[k] > to[k] ? in[k] : to[k];                       \
                    }                                                                    \
                }                                                                        \
    }                                                                                    \
    static void avg_pool_##T(void *arg, int64_t b, int64_t e) {                          \
        const pool_task *t = arg;                                                        \
        const pool_geom *q = &t->q;                                                      \
        const T *x = t->x;                                                               \
        T *y = t->out;                                                                   \
        for (int64_t n = b; n < e; n++)                                                  \
            for (int64_t oy = 0; oy < q->oh; oy++)                                       \
                for (int64_t ox = 0; ox < q->ow; ox++) {                                 \
                    T *o = y + ((n * q->oh + oy) * q->ow + ox) * q->c;                   \
                    int64_t count = 0;                                                   \
                    for (int64_t k = 0; k < q->c; k++) o[k] = 0;                         \
                    FOR_WINDOW(q, oy, ox, iy, ix) {                                      \
                        const T *in = x + ((n * q->h + iy) * q->w + ix) * q->c;          \
                        for (int64_t k = 0; k < q->c; k++) o[k] += in[k];                \
                        count++;                                                         \
                    }                                                                    \
                    for (int64_t k = 0; k < q->c && count; k++) o[k] /= (T)count;        \
                }                                                                        \
    }                                                                                    \
    /* The first maximum of each channel k0..k0+kn-1 in the window of output  \
     * (oy, ox) of image n: *at[k] is its input element's offset. Channels   \
     * are the inner loop, so the reads are contiguous. */                    \
    TFC_VECTOR_CLONES static int window_argmax_##T(const pool_geom *q, const T *x, int64_t n, int64_t oy, \
                                 int64_t ox, int64_t k0, int64_t kn, int64_t *at) { \
        T best[POOL_CHANNEL_BLOCK];                                                    \
        int seen = 0;                                                                  \
        FOR_WINDOW(q, oy, ox, iy, ix) {                                                \
            int64_t pix = ((n * q->h + iy) * q->w + ix) * q->c + k0;                   \
            const T *in = x + pix;                                                     \
            if (!seen) {                                                               \
                for (int64_t k = 0; k < kn; k++) {                                     \
                    best[k] = in[k];                                                   \
                    at[k] = pix + k;                                                   \
                }                                                                      \
                seen = 1;                                                              \
                continue;                                                              \
            }                                                                          \
            for (int64_t k = 0; k < kn; k++)                                           \
                if (in[k] > best[k]) {                                                 \
                    best[k] = in[k];                                                   \
                    at[k] = pix + k;                                                   \
                }                                                                      \
        }                                                                              \
        return seen;                                                                   \
    }                                                                                  \
    static void max_pool_grad_##T(void *arg, int64_t b, int64_t e) {                     \
        const pool_task *t = arg;                                                        \
        const pool_geom *q = &t->q;                                                      \
        const T *x = t->x, *dy = t->dy;                                                  \
        T *dx = t->out;                                                                  \
        int64_t img = q->h * q->w * q->c, at[POOL_CHANNEL_BLOCK];                        \
        memset(dx + b * img, 0, (size_t)((e - b) * img) * sizeof(T));                    \
        for (int64_t n = b; n < e; n++)                                                  \
            for (int64_t oy = 0; oy < q->oh; oy++)                                       \
                for (int64_t ox = 0; ox < q->ow; ox++) {                                 \
                    const T *g = dy + ((n * q->oh + oy) * q->ow + ox) * q->c;            \
                    for (int64_t k0 = 0; k0 < q->c; k0 += POOL_CHANNEL_BLOCK) {          \
                        int64_t kn = q->c - k0 < POOL_CHANNEL_BLOCK ? q->c - k0          \
                                                                    : POOL_CHANNEL_BLOCK; \
                        if (!window_argmax_##T(q, x, n, oy, ox, k0, kn, at)) continue;   \
                        for (int64_t k = 0; k < kn; k++) dx[at[k]] += g[k0 + k];         \
                    }                                                                    \
                }                                                                        \
    }                                                                                    \
    /* MaxPoolGrad when the windows tile the input (window = stride, every   \
     * input pixel in exactly one window, see pool_tiles): each input pixel   \
     * is written once, the gradient at its window's first maximum and 0     \
     * elsewhere, with no memset and no scattered adds. Same values as       \
     * max_pool_grad, except that a gradient of -0 stays -0 (its add onto    \
     * +0 gave +0; adding here would stop the loop vectorizing, as a         \
     * conditional add may trap). The maxima are found with selects on a     \
     * block of channels at once, which vectorize. */                        \
    TFC_VECTOR_CLONES static void max_pool_grad_tiled_##T(void *arg, int64_t b, int64_t e) { \
        const pool_task *t = arg;                                                        \
        const pool_geom *q = &t->q;                                                      \
        const T *x = t->x, *dy = t->dy;                                                  \
        T *dx = t->out;                                                                  \
        T best[POOL_CHANNEL_BLOCK];                                                      \
        int32_t at[POOL_CHANNEL_BLOCK];                                                  \
        for (int64_t n = b; n < e; n++)                                                  \
            for (int64_t oy = 0; oy < q->oh; oy++)                                       \
                for (int64_t ox = 0; ox < q->ow; ox++) {                                 \
                    const T *g = dy + ((n * q->oh + oy) * q->ow + ox) * q->c;            \
                    for (int64_t k0 = 0; k0 < q->c; k0 += POOL_CHANNEL_BLOCK) {          \
                        int64_t kn = q->c - k0 < POOL_CHANNEL_BLOCK ? q->c - k0          \
                                                                    : POOL_CHANNEL_BLOCK; \
                        int32_t p = 0;                                                   \
                        for (int64_t k = 0; k < kn; k++) at[k] = -1;                     \
                        FOR_WINDOW(q, oy, ox, iy, ix) {                                  \
                            const T *restrict in = x + ((n * q->h + iy) * q->w + ix) * q->c + k0; \
                            /* at < 0: the first pixel, taken whatever it holds (one \
                             * loop for all: a separate first one became memcpy calls) */ \
                            for (int64_t k = 0; k < kn; k++) {                           \
                                int gt = at[k] < 0 || in[k] > best[k];                   \
                                best[k] = gt ? in[k] : best[k];                          \
                                at[k] = gt ? p : at[k];                                  \
                            }                                                            \
                            p++;                                                         \
                        }                                                                \
                        p = 0;                                                           \
                        FOR_WINDOW(q, oy, ox, iy, ix) {                                  \
                            T *restrict d = dx + ((n * q->h + iy) * q->w + ix) * q->c + k0; \
                            const T *restrict gk = g + k0;                               \
                            for (int64_t k = 0; k < kn; k++)                             \
                                d[k] = at[k] == p ? gk[k] : (T)0;                 \
                            p++;                                                         \
                        }                                                                \
                    }                                                                    \
                }                                                                        \
    }                                                                                    \
    static void max_pool_grad_grad_##T(void *arg, int64_t b, int64_t e) {                \
        const pool_task *t = arg;                                                        \
        const pool_geom *q = &t->q;                                                      \
        const T *x = t->x, *gg = t->dy;                                                  \
        T *out = t->out;                                                                 \
        int64_t at[POOL_CHANNEL_BLOCK];                                                  \
        for (int64_t n = b; n < e; n++)                                                  \
            for (int64_t oy = 0; oy < q->oh; oy++)                                       \
                for (int64_t ox = 0; ox < q->ow; ox++) {                                 \
                    T *o = out + ((n * q->oh + oy) * q->ow + ox) * q->c;                 \
                    for (int64_t k0 = 0; k0 < q->c; k0 += POOL_CHANNEL_BLOCK) {          \
                        int64_t kn = q->c - k0 < POOL_CHANNEL_BLOCK ? q->c - k0          \
                                                                    : POOL_CHANNEL_BLOCK; \
                        int seen = window_argmax_##T(q, x, n, oy, ox, k0, kn, at);       \
                        for (int64_t k = 0; k < kn; k++) o[k0 + k] = seen ? gg[at[k]] : 0; \
                    }                                                                    \
                }                                                                        \
    }                                                                                    \
    static void avg_pool_grad_##T(void *arg, int64_t b, int64_t e) {                     \
        const pool_task *t = arg;                                                        \
        const pool_geom *q = &t->q;                                                      \
        const T *dy = t->dy;                                                             \
        T *dx = t->out;                                                                  \
        int64_t img = q->h * q->w * q->c;                                                \
        memset(dx + b * img, 0, (size_t)((e - b) * img) * sizeof(T));                    \
        for (int64_t n = b; n < e; n++)                                                  \
            for (int64_t oy = 0; oy < q->oh; oy++)                                       \
                for (int64_t ox = 0; ox < q->ow; ox++) {                                 \
                    const T *g = dy + ((n * q->oh + oy) * q->ow + ox) * q->c;            \
                    int64_t count = 0;                                                   \
                    FOR_WINDOW(q, oy, ox, iy, ix) count++;                               \
                    if (!count) continue;                                                \
                    FOR_WINDOW(q, oy, ox, iy, ix) {                                      \
                        T *d = dx + ((n * q->h + iy) * q->w + ix) * q->c;                \
                        for (int64_t k = 0; k < q->c; k++) d[k] += g[k] / (T)count;      \
                    }                                                                    \
                }                                                                        \
    }

/* MaxPoolGrad for 2 x 2 windows of stride 2 that all lie inside the image
 * (even sizes, no padding: the CNNs' pooling): the tiled kernel's values,
 * with a window's four pixels and its maximum's place held in registers,
 * channels in vector lanes. A row of windows is a function of its own, so
 * that its pointers are restrict parameters (GCC did not vectorize the
 * loop with restrict locals). */
#define DEFINE_POOL_2X2_GRAD(T, NAME, RELU)                                                        \
    TFC_VECTOR_CLONES static void row_##NAME##_##T(                                                \
        const T *restrict top, const T *restrict bottom, const T *restrict g,                      \
        const T *restrict ftop, const T *restrict fbottom, T *restrict dtop, T *restrict dbottom,  \
        int64_t ow, int64_t c) {                                                                   \
        (void)ftop, (void)fbottom;                                                                 \
        for (int64_t ox = 0; ox < ow; ox++)                                                        \
            for (int64_t k = 0; k < c; k++) {                                                      \
                int64_t left = 2 * ox * c + k, right = left + c;                                   \
                /* the first maximum; its place a T, so that every select is as wide as the data */ \
                T best = top[left], p = 0;                                                         \
                p = top[right] > best ? (T)1 : p;                                                  \
                best = top[right] > best ? top[right] : best;                                      \
                p = bottom[left] > best ? (T)2 : p;                                                \
                best = bottom[left] > best ? bottom[left] : best;                                  \
                p = bottom[right] > best ? (T)3 : p;                                               \
                T gk = g[ox * c + k];                                                              \
                /* ReluGrad's mask (RELU): the gradient where the feature is above 0 (as     \
                 * selects of their own: a select on two comparisons stayed scalar) */         \
                T g0 = gk, g1 = gk, g2 = gk, g3 = gk;                                              \
                if (RELU) {                                                                        \
                    g0 = ftop[left] > (T)0 ? gk : (T)0;                                            \
                    g1 = ftop[right] > (T)0 ? gk : (T)0;                                           \
                    g2 = fbottom[left] > (T)0 ? gk : (T)0;                                         \
                    g3 = fbottom[right] > (T)0 ? gk : (T)0;                                        \
                }                                                                                  \
                dtop[left] = p == (T)0 ? g0 : (T)0;                                                \
                dtop[right] = p == (T)1 ? g1 : (T)0;                                               \
                dbottom[left] = p == (T)2 ? g2 : (T)0;                                             \
                dbottom[right] = p == (T)3 ? g3 : (T)0;                                            \
            }                                                                                      \
    }                                                                                              \
    static void max_pool_##NAME##_##T(void *arg, int64_t b, int64_t e) {                           \
        const pool_task *t = arg;                                                                  \
        const pool_geom *q = &t->q;                                                                \
        const int64_t row = q->w * q->c;                                                           \
        const T *x = t->x, *dy = t->dy, *f = t->features;                                          \
        T *dx = t->out;                                                                            \
        for (int64_t n = b; n < e; n++)                                                            \
            for (int64_t oy = 0; oy < q->oh; oy++) {                                               \
                int64_t at = (n * q->h + 2 * oy) * row;                                            \
                row_##NAME##_##T(x + at, x + at + row, dy + (n * q->oh + oy) * q->ow * q->c,       \
                                 RELU ? f + at : NULL, RELU ? f + at + row : NULL, dx + at,        \
                                 dx + at + row, q->ow, q->c);                                      \
            }                                                                                      \
    }

DEFINE_POOL_2X2_GRAD(float, grad_2x2, 0)
DEFINE_POOL_2X2_GRAD(double, grad_2x2, 0)
DEFINE_POOL_2X2_GRAD(float, grad_relu_2x2, 1)
DEFINE_POOL_2X2_GRAD(double, grad_relu_2x2, 1)

DEFINE_POOL_KERNELS(float)
DEFINE_POOL_KERNELS(double)

typedef void (*range_fn)(void *, int64_t, int64_t);

/* The windows tile the input: as long as the stride, and every input pixel
 * inside one (SAME padding always covers it; VALID may leave a remainder). */
static int pool_tiles(const pool_geom *q) {
    return q->kh == q->sh && q->kw == q->sw && q->oh * q->sh - q->ph >= q->h &&
           q->ow * q->sw - q->pw >= q->w;
}

/* 2 x 2 windows of stride 2 covering the image exactly, none on padding. */
static int pool_in_2x2(const pool_geom *q) {
    return q->kh == 2 && q->kw == 2 && q->sh == 2 && q->sw == 2 && q->ph == 0 && q->pw == 0 &&
           q->h == 2 * q->oh && q->w == 2 * q->ow;
}

/* Runs fn over the batch into a new output of dims `od`. */
static void pool_run(tfc_kernel_ctx *c, pool_task *t, tfc_dtype dt, const int64_t *od,
                     range_fn ff, range_fn fd) {
    tfc_tensor *out = tfc_kernel_output(c, 0, dt, 4, od);
    if (!out) return;
    t->out = out->data;
    if (out->nelem == 0) return;
    tfc_parallel_for(c->pool, t->q.n, 1, dt == TFC_FLOAT ? ff : fd, t);
}

static int pool_rank4(tfc_kernel_ctx *c, const tfc_tensor *t, const char *what) {
    if (t->rank == 4) return 0;
    tfc_kernel_error(c, TFC_INVALID_ARGUMENT, "%s must be 4-dimensional, got rank %d", what,
                     t->rank);
    return -1;
}

static int check_out(tfc_kernel_ctx *c, const pool_geom *q, const tfc_tensor *t,
                     const char *what) {
    int64_t want[4] = {q->n, q->oh, q->ow, q->c};
    if (t->rank == 4 && memcmp(t->dims, want, sizeof want) == 0) return 0;
    char a[64], b[64];
    tfc_kernel_error(c, TFC_INVALID_ARGUMENT, "%s has shape %s, expected %s", what,
                     tfc_dims_str(t->rank, t->dims, a, sizeof a), tfc_dims_str(4, want, b, sizeof b));
    return -1;
}

static void pool_forward(tfc_kernel_ctx *c, range_fn ff, range_fn fd) {
    const tfc_tensor *x = c->inputs[0];
    pool_task t = {.x = x->data};
    if (pool_rank4(c, x, "input") || geom_make(c, x->dims, &t.q)) return;
    int64_t od[4] = {t.q.n, t.q.oh, t.q.ow, t.q.c};
    pool_run(c, &t, x->dtype, od, ff, fd);
}

void tfc_max_pool_kernel(tfc_kernel_ctx *c) { pool_forward(c, max_pool_float, max_pool_double); }
void tfc_avg_pool_kernel(tfc_kernel_ctx *c) { pool_forward(c, avg_pool_float, avg_pool_double); }

/* MaxPoolGrad(orig_input, orig_output, grad) with the pooling's window w;
 * 0 when its checks passed */
static int max_pool_grad_run(tfc_kernel_ctx *c, const tfc_window *w) {
    const tfc_tensor *x = c->inputs[0], *y = c->inputs[1], *dy = c->inputs[2];
    pool_task t = {.x = x->data, .y = y->data, .dy = dy->data};
    if (pool_rank4(c, x, "orig_input") || geom_of(c, w, x->dims, &t.q) ||
        check_out(c, &t.q, y, "orig_output") || check_out(c, &t.q, dy, "grad"))
        return -1;
    if (pool_in_2x2(&t.q))
        pool_run(c, &t, x->dtype, x->dims, max_pool_grad_2x2_float, max_pool_grad_2x2_double);
    else if (pool_tiles(&t.q))
        pool_run(c, &t, x->dtype, x->dims, max_pool_grad_tiled_float, max_pool_grad_tiled_double);
    else
        pool_run(c, &t, x->dtype, x->dims, max_pool_grad_float, max_pool_grad_double);
    return 0;
}

void tfc_max_pool_grad_kernel(tfc_kernel_ctx *c) { max_pool_grad_run(c, c->node->op_data); }

/* _MaxPoolGradReluGrad(orig_input, orig_output, grad, features):
 * ReluGrad(MaxPoolGrad(orig_input, orig_output, grad), features), the
 * plan's fusion (src/runtime/optimize.c) of a max pooling's gradient into
 * the ReluGrad that is its only reader: a CNN's relu before its pooling,
 * where the gradient of the pooling's input is written once, masked,
 * rather than written and then read, masked and written again (the Deep
 * MNIST's first layer: a pass over 5 MB). The values are the two ops'
 * bit for bit. The node is the ReluGrad; the MaxPoolGrad, which does not
 * run, is its first input's node and holds the window. */
static int fused_pool_infer(tfc_infer_ctx *c) {
    return tfc_infer_error(c, "_MaxPoolGradReluGrad is made by a plan, not built into a graph");
}

static void max_pool_grad_relu_kernel(tfc_kernel_ctx *c) {
    const tfc_node *pool = tfc_kernel_producer(c->node, 0);
    const tfc_tensor *x = c->inputs[0], *f = c->inputs[3];
    if (f->dtype != x->dtype || !tfc_tensor_same_shape(f, x)) {
        char a[64], b[64];
        tfc_kernel_error(c, TFC_INVALID_ARGUMENT,
                         "features (%s %s) must have the gradient's dtype and shape (%s %s)",
                         tfc_dtype_name(f->dtype), tfc_dims_str(f->rank, f->dims, a, sizeof a),
                         tfc_dtype_name(x->dtype), tfc_dims_str(x->rank, x->dims, b, sizeof b));
        return;
    }
    pool_task t = {.x = x->data, .y = c->inputs[1]->data, .dy = c->inputs[2]->data,
                   .features = f->data};
    if (pool_rank4(c, x, "orig_input") || geom_of(c, pool->op_data, x->dims, &t.q) ||
        check_out(c, &t.q, c->inputs[1], "orig_output") ||
        check_out(c, &t.q, c->inputs[2], "grad"))
        return;
    if (pool_in_2x2(&t.q)) {
        pool_run(c, &t, x->dtype, x->dims, max_pool_grad_relu_2x2_float,
                 max_pool_grad_relu_2x2_double);
        return;
    }
    /* other windows: the gradient, then ReluGrad's own kernel over it */
    tfc_tensor *grad = NULL;
    tfc_kernel_ctx k = *c;
    k.outputs = &grad;
    if (!max_pool_grad_run(&k, pool->op_data) && grad) {
        tfc_tensor *in[2] = {grad, c->inputs[3]};
        k = *c;
        k.ninputs = 2;
        k.inputs = in;
        k.input_overwritable = NULL;
        c->node->op->kernel(&k);
    }
    tfc_tensor_free(grad);
}

const tfc_op_def tfc_ops_pool_fused[] = {
    {"_MaxPoolGradReluGrad", 4, 4, 1, TFC_OP_NO_GRADIENT, 0, fused_pool_infer,
     max_pool_grad_relu_kernel, NULL},
    {NULL, 0, 0, 0, 0, 0, NULL, NULL, NULL},
};

/* MaxPoolGradGrad(orig_input, orig_output, grad): grad is shaped like the
 * input; each output takes grad at its window's first maximum. */
void tfc_max_pool_grad_grad_kernel(tfc_kernel_ctx *c) {
    const tfc_tensor *x = c->inputs[0], *y = c->inputs[1], *gg = c->inputs[2];
    pool_task t = {.x = x->data, .y = y->data, .dy = gg->data};
    if (pool_rank4(c, x, "orig_input") || geom_make(c, x->dims, &t.q) ||
        check_out(c, &t.q, y, "orig_output"))
        return;
    if (!tfc_tensor_same_shape(x, gg)) {
        tfc_kernel_error(c, TFC_INVALID_ARGUMENT, "grad must have orig_input's shape");
        return;
    }
    pool_run(c, &t, x->dtype, y->dims, max_pool_grad_grad_float, max_pool_grad_grad_double);
}

void tfc_avg_pool_grad_kernel(tfc_kernel_ctx *c) {
    const tfc_tensor *dy = c->inputs[1];
    int64_t xd[4];
    pool_task t = {.dy = dy->data};
    if (tfc_window_kernel_sizes(c, c->inputs[0], xd) || geom_make(c, xd, &t.q) ||
        check_out(c, &t.q, dy, "grad"))
        return;
    pool_run(c, &t, dy->dtype, xd, avg_pool_grad_float, avg_pool_grad_double);
}

/* ---- gradients ---- */

static tfc_output pool_like(tfc_graph *g, const char *type, const tfc_output *in, int n,
                            const tfc_node *attrs_from) {
    tfc_op_desc *d = tfc_op_new(g, type, NULL);
    tfc_op_add_inputs(d, in, n);
    tfc_window_copy_attrs(d, attrs_from);
    return tfc_out(tfc_op_finish(d), 0);
}

int tfc_max_pool_grad_fn(tfc_graph *g, tfc_node *op, const tfc_output *dy, tfc_output *dx) {
    if (!dy[0].node) return 0;
    tfc_output in[3] = {op->inputs[0], tfc_out(op, 0), dy[0]};
    dx[0] = pool_like(g, "MaxPoolGrad", in, 3, op);
    return dx[0].node ? 0 : -1;
}

/* MaxPoolGrad and MaxPoolGradGrad are linear in their last input and each
 * other's adjoint for fixed maxima; the routing inputs get no gradient (it
 * is zero almost everywhere), as in TensorFlow. */
static int max_pool_second(tfc_graph *g, tfc_node *op, const tfc_output *dy, tfc_output *dx,
                           const char *type) {
    if (!dy[0].node) return 0;
    tfc_output in[3] = {op->inputs[0], op->inputs[1], dy[0]};
    dx[2] = pool_like(g, type, in, 3, op);
    return dx[2].node ? 0 : -1;
}

int tfc_max_pool_grad_grad_fn(tfc_graph *g, tfc_node *op, const tfc_output *dy, tfc_output *dx) {
    return max_pool_second(g, op, dy, dx, "MaxPoolGradGrad");
}

int tfc_max_pool_grad_grad_grad_fn(tfc_graph *g, tfc_node *op, const tfc_output *dy,
                                   tfc_output *dx) {
    return max_pool_second(g, op, dy, dx, "MaxPoolGrad");
}

int tfc_avg_pool_grad_fn(tfc_graph *g, tfc_node *op, const tfc_output *dy, tfc_output *dx) {
    if (!dy[0].node) return 0;
    tfc_output in[2] = {tfc_window_shape_of(g, op->inputs[0]), dy[0]};
    dx[0] = pool_like(g, "AvgPoolGrad", in, 2, op);
    return dx[0].node ? 0 : -1;
}

/* AvgPoolGrad is linear in its gradient input and is AvgPool's adjoint, so
 * its own gradient is AvgPool again. */
int tfc_avg_pool_grad_grad_fn(tfc_graph *g, tfc_node *op, const tfc_output *dy, tfc_output *dx) {
    if (!dy[0].node) return 0;
    dx[1] = pool_like(g, "AvgPool", &dy[0], 1, op);
    return dx[1].node ? 0 : -1;
}
