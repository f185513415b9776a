/* Depthwise 2-D convolution (tf.nn.depthwise_conv2d): DepthwiseConv2dNative
 * and its two backprops, on NHWC input [n, h, w, c] and filters
 * [fh, fw, c, multiplier]. Output channel k*multiplier + q is input channel
 * k convolved with filter [., ., k, q], so one output pixel reads one input
 * pixel per window tap and nothing mixes channels: direct loops, with the
 * channels (contiguous in NHWC and in the filter) innermost, split over the
 * batch. Window attrs and the padding rule are conv.c's (conv_internal.h). */
#include "core/vector_clones.h"
#include "ops/conv_internal.h"

#include <stdlib.h>
#include <string.h>

/* The filter gradient sums over the batch: it is cut into at most this many
 * blocks, each summed into its own partial filter, and the partials are
 * added in block order. The blocks depend only on the batch size, so the
 * result does not depend on the thread count. */
#define DW_FILTER_BLOCKS 32

typedef struct dw_geom {
    int64_t n, h, w, c, m; /* input, and the depth multiplier */
    int64_t fh, fw;        /* filter window */
    int64_t oh, ow;        /* output */
    int64_t sh, sw, dh, dw, ph, pw;
} dw_geom;

typedef struct dw_task {
    dw_geom q;
    const void *x, *f, *dy; /* input, filter, output gradient (as each op has them) */
    void *out;              /* output, or the partial filters of the filter gradient */
    void *scratch;          /* expanded rows when the multiplier is above 1, else NULL */
    int64_t nblocks;
} dw_task;

/* ---- shape functions ---- */

static int dw_float(tfc_infer_ctx *c, tfc_dtype dt) {
    if (dt == TFC_FLOAT || dt == TFC_DOUBLE) return 0;
    return tfc_infer_error(c, "expected float32 or float64 tensors, got %s", tfc_dtype_name(dt));
}

static int dw_rank4(tfc_infer_ctx *c, const tfc_shape *s, const char *what) {
    if (s->rank < 0 || s->rank == 4) return 0;
    char buf[96];
    return tfc_infer_error(c, "%s must be 4-dimensional, got shape %s", what,
                           tfc_shape_str(s, buf, sizeof buf));
}

/* The input's depth against the filter's in_channels, both maybe unknown. */
static int dw_depths(tfc_infer_ctx *c, int64_t in_c, int64_t f_c) {
    if (in_c < 0 || f_c < 0 || in_c == f_c) return 0;
    return tfc_infer_error(c, "input depth %lld does not match the filter's in_channels %lld",
                           (long long)in_c, (long long)f_c);
}

/* Output dims [n, oh, ow, c*m] from partial input and filter shapes (both
 * rank 4 or unknown). */
static int dw_out_shape(tfc_infer_ctx *c, const tfc_shape *xs, const tfc_shape *fs,
                        tfc_shape *out) {
    const tfc_window *w = c->op_data;
    *out = (tfc_shape){.rank = 4, .dims = {-1, -1, -1, -1}};
    if (xs->rank == 4) out->dims[0] = xs->dims[0];
    if (fs->rank != 4) return 0;
    int64_t depth = xs->rank == 4 && xs->dims[3] >= 0 ? xs->dims[3] : fs->dims[2];
    if (depth >= 0 && fs->dims[3] >= 0) out->dims[3] = depth * fs->dims[3];
    if (xs->rank != 4) return 0;
    if (dw_depths(c, xs->dims[3], fs->dims[2])) return -1;
    for (int d = 0; d < 2; d++) {
        int64_t in = xs->dims[1 + d], k = fs->dims[d], pad;
        if (in < 0 || k < 0) continue;
        if (tfc_window_out(in, k, d ? w->sw : w->sh, d ? w->dw : w->dh, w->same, &out->dims[1 + d],
                           &pad))
            return tfc_infer_error(c,
                                   "computed output size would be negative: input size %lld, "
                                   "window %lld, VALID padding",
                                   (long long)in, (long long)k);
    }
    return 0;
}

/* out_backprop, when its shape and the forward output's are known, must
 * match it. */
static int dw_check_dy(tfc_infer_ctx *c, const tfc_shape *want, const tfc_shape *dy) {
    if (dy->rank != 4) return 0;
    for (int i = 0; i < 4; i++)
        if (want->dims[i] >= 0 && dy->dims[i] >= 0 && want->dims[i] != dy->dims[i]) {
            char a[96], b[96];
            return tfc_infer_error(c, "out_backprop has shape %s, expected %s",
                                   tfc_shape_str(dy, a, sizeof a),
                                   tfc_shape_str(want, b, sizeof b));
        }
    return 0;
}

/* DepthwiseConv2dNative(input, filter). */
static int dw_infer(tfc_infer_ctx *c) {
    tfc_dtype dt = tfc_infer_same_dtype(c, 0, 2, TFC_INVALID_DTYPE);
    tfc_shape xs = tfc_infer_input_shape(c, 0), fs = tfc_infer_input_shape(c, 1), out;
    if (dt == TFC_INVALID_DTYPE || dw_float(c, dt) || tfc_window_parse(c, 0) ||
        dw_rank4(c, &xs, "input") || dw_rank4(c, &fs, "filter") || dw_out_shape(c, &xs, &fs, &out))
        return -1;
    tfc_attrs_set_int(c->attrs, "T", TFC_ATTR_TYPE, dt);
    tfc_infer_set_output(c, 0, dt, out);
    return 0;
}

/* DepthwiseConv2dNativeBackpropInput(input_sizes, filter, out_backprop). */
static int dw_bi_infer(tfc_infer_ctx *c) {
    tfc_dtype dt = tfc_infer_same_dtype(c, 1, 2, TFC_INVALID_DTYPE);
    tfc_shape fs = tfc_infer_input_shape(c, 1), dys = tfc_infer_input_shape(c, 2), xs, y;
    if (dt == TFC_INVALID_DTYPE || dw_float(c, dt) || tfc_window_parse(c, 0) ||
        dw_rank4(c, &fs, "filter") || dw_rank4(c, &dys, "out_backprop") ||
        tfc_window_sizes_input(c, 0, &xs) || dw_out_shape(c, &xs, &fs, &y) ||
        dw_check_dy(c, &y, &dys))
        return -1;
    tfc_attrs_set_int(c->attrs, "T", TFC_ATTR_TYPE, dt);
    tfc_infer_set_output(c, 0, dt, xs);
    return 0;
}

/* DepthwiseConv2dNativeBackpropFilter(input, filter_sizes, out_backprop). */
static int dw_bf_infer(tfc_infer_ctx *c) {
    tfc_dtype dt = tfc_infer_input_dtype(c, 0);
    tfc_shape xs = tfc_infer_input_shape(c, 0), dys = tfc_infer_input_shape(c, 2), fs, y;
    if (dw_float(c, dt) || tfc_window_parse(c, 0) || dw_rank4(c, &xs, "input") ||
        dw_rank4(c, &dys, "out_backprop") || tfc_window_sizes_input(c, 1, &fs))
        return -1;
    if (tfc_infer_input_dtype(c, 2) != dt)
        return tfc_infer_error(c, "out_backprop must have the input's type %s, got %s",
                               tfc_dtype_name(dt), tfc_dtype_name(tfc_infer_input_dtype(c, 2)));
    if (dw_out_shape(c, &xs, &fs, &y) || dw_check_dy(c, &y, &dys)) return -1;
    tfc_attrs_set_int(c->attrs, "T", TFC_ATTR_TYPE, dt);
    tfc_infer_set_output(c, 0, dt, fs);
    return 0;
}

/* ---- kernels ---- */

static int dw_kernel_rank4(tfc_kernel_ctx *c, const tfc_tensor *t, const char *what) {
    if (t->rank == 4) return 0;
    tfc_kernel_error(c, TFC_INVALID_ARGUMENT, "%s must be 4-dimensional, got rank %d", what,
                     t->rank);
    return -1;
}

/* Fills q from the input and filter dims; 0, or -1 with a kernel error. */
static int dw_geom_make(tfc_kernel_ctx *c, const int64_t *x, const int64_t *f, dw_geom *q) {
    const tfc_window *win = c->node->op_data;
    char a[64], b[64];
    if (x[3] != f[2]) {
        tfc_kernel_error(c, TFC_INVALID_ARGUMENT,
                         "input depth %lld does not match the filter's in_channels %lld "
                         "(input %s, filter %s)",
                         (long long)x[3], (long long)f[2], tfc_dims_str(4, x, a, sizeof a),
                         tfc_dims_str(4, f, b, sizeof b));
        return -1;
    }
    *q = (dw_geom){.n = x[0],
                   .h = x[1],
                   .w = x[2],
                   .c = x[3],
                   .m = f[3],
                   .fh = f[0],
                   .fw = f[1],
                   .sh = win->sh,
                   .sw = win->sw,
                   .dh = win->dh,
                   .dw = win->dw};
    if (tfc_window_out(q->h, q->fh, q->sh, q->dh, win->same, &q->oh, &q->ph) ||
        tfc_window_out(q->w, q->fw, q->sw, q->dw, win->same, &q->ow, &q->pw)) {
        tfc_kernel_error(c, TFC_INVALID_ARGUMENT,
                         "computed output size would be negative (input %s, filter %s, VALID)",
                         tfc_dims_str(4, x, a, sizeof a), tfc_dims_str(4, f, b, sizeof b));
        return -1;
    }
    return 0;
}

/* out_backprop must be shaped like the forward output. */
static int dw_kernel_dy(tfc_kernel_ctx *c, const dw_geom *q, const tfc_tensor *dy) {
    int64_t want[4] = {q->n, q->oh, q->ow, q->c * q->m};
    if (dy->rank == 4 && memcmp(dy->dims, want, sizeof want) == 0) return 0;
    char a[64], b[64];
    tfc_kernel_error(c, TFC_INVALID_ARGUMENT, "out_backprop has shape %s, expected %s",
                     tfc_dims_str(dy->rank, dy->dims, a, sizeof a),
                     tfc_dims_str(4, want, b, sizeof b));
    return -1;
}

/* With a multiplier m > 1 an input row is first expanded to c*m values per
 * pixel (channel k repeated m times), so that every inner loop below is one
 * contiguous multiply-add over the c*m output channels, which vectorizes.
 * The input gradient is gathered per input row (into an expanded row that
 * is then summed over each channel's m outputs), so no two threads write
 * one element and every sum runs in a fixed order. `scratch` holds one
 * expanded row per image (forward, input gradient) or per batch block
 * (filter gradient); it is NULL when m is 1. */
#define DEFINE_DW_KERNELS(T)                                                                       \
    static void dw_expand_##T(const T *src, int64_t n, int64_t m, T *dst) {                        \
        for (int64_t i = 0; i < n; i++)                                                            \
            for (int64_t r = 0; r < m; r++) dst[i * m + r] = src[i];                               \
    }                                                                                              \
    TFC_VECTOR_CLONES static void dw_forward_##T(void *arg, int64_t b, int64_t e) {                \
        const dw_task *t = arg;                                                                    \
        const dw_geom *q = &t->q;                                                                  \
        const T *x = t->x, *f = t->f;                                                              \
        int64_t c = q->c, cm = c * q->m;                                                           \
        for (int64_t n = b; n < e; n++) {                                                          \
            T *row = t->scratch ? (T *)t->scratch + n * q->w * cm : NULL;                          \
            for (int64_t oy = 0; oy < q->oh; oy++) {                                               \
                T *o = (T *)t->out + (n * q->oh + oy) * q->ow * cm;                                \
                for (int64_t j = 0; j < q->ow * cm; j++) o[j] = 0;                                 \
                for (int64_t ky = 0; ky < q->fh; ky++) {                                           \
                    int64_t iy = oy * q->sh - q->ph + ky * q->dh;                                  \
                    if (iy < 0 || iy >= q->h) continue;                                            \
                    const T *in = x + (n * q->h + iy) * q->w * c;                                  \
                    if (row) {                                                                     \
                        dw_expand_##T(in, q->w *c, q->m, row);                                     \
                        in = row;                                                                  \
                    }                                                                              \
                    const T *fk = f + ky * q->fw * cm;                                             \
                    for (int64_t ox = 0; ox < q->ow; ox++)                                         \
                        for (int64_t kx = 0; kx < q->fw; kx++) {                                   \
                            int64_t ix = ox * q->sw - q->pw + kx * q->dw;                          \
                            if (ix < 0 || ix >= q->w) continue;                                    \
                            T *oo = o + ox * cm;                                                   \
                            const T *a = in + ix * cm, *w = fk + kx * cm;                          \
                            for (int64_t j = 0; j < cm; j++) oo[j] += a[j] * w[j];                 \
                        }                                                                          \
                }                                                                                  \
            }                                                                                      \
        }                                                                                          \
    }                                                                                              \
    TFC_VECTOR_CLONES static void dw_input_grad_##T(void *arg, int64_t b, int64_t e) {             \
        const dw_task *t = arg;                                                                    \
        const dw_geom *q = &t->q;                                                                  \
        const T *f = t->f, *dy = t->dy;                                                            \
        int64_t c = q->c, m = q->m, cm = c * m;                                                    \
        for (int64_t n = b; n < e; n++) {                                                          \
            T *acc = t->scratch ? (T *)t->scratch + n * q->w * cm : NULL;                          \
            for (int64_t iy = 0; iy < q->h; iy++) {                                                \
                T *d = (T *)t->out + (n * q->h + iy) * q->w * c;                                   \
                T *a = acc ? acc : d;                                                              \
                for (int64_t j = 0; j < q->w * cm; j++) a[j] = 0;                                  \
                for (int64_t ky = 0; ky < q->fh; ky++) {                                           \
                    int64_t ty = iy + q->ph - ky * q->dh, oy = ty / q->sh;                         \
                    if (ty < 0 || ty % q->sh || oy >= q->oh) continue;                             \
                    const T *g = dy + (n * q->oh + oy) * q->ow * cm, *fk = f + ky * q->fw * cm;    \
                    for (int64_t ix = 0; ix < q->w; ix++)                                          \
                        for (int64_t kx = 0; kx < q->fw; kx++) {                                   \
                            int64_t tx = ix + q->pw - kx * q->dw, ox = tx / q->sw;                 \
                            if (tx < 0 || tx % q->sw || ox >= q->ow) continue;                     \
                            T *aa = a + ix * cm;                                                   \
                            const T *gg = g + ox * cm, *w = fk + kx * cm;                          \
                            for (int64_t j = 0; j < cm; j++) aa[j] += gg[j] * w[j];                \
                        }                                                                          \
                }                                                                                  \
                if (!acc) continue;                                                                \
                for (int64_t i = 0; i < q->w * c; i++) {                                           \
                    T s = 0;                                                                       \
                    for (int64_t r = 0; r < m; r++) s += acc[i * m + r];                           \
                    d[i] = s;                                                                      \
                }                                                                                  \
            }                                                                                      \
        }                                                                                          \
    }                                                                                              \
    TFC_VECTOR_CLONES static void dw_filter_grad_##T(void *arg, int64_t b, int64_t e) {            \
        const dw_task *t = arg;                                                                    \
        const dw_geom *q = &t->q;                                                                  \
        const T *x = t->x, *dy = t->dy;                                                            \
        int64_t c = q->c, cm = c * q->m, fsz = q->fh * q->fw * cm;                                 \
        for (int64_t blk = b; blk < e; blk++) {                                                    \
            T *p = (T *)t->out + blk * fsz;                                                        \
            T *row = t->scratch ? (T *)t->scratch + blk * q->w * cm : NULL;                        \
            for (int64_t j = 0; j < fsz; j++) p[j] = 0;                                            \
            for (int64_t n = blk * q->n / t->nblocks; n < (blk + 1) * q->n / t->nblocks; n++)      \
                for (int64_t oy = 0; oy < q->oh; oy++) {                                           \
                    const T *g = dy + (n * q->oh + oy) * q->ow * cm;                               \
                    for (int64_t ky = 0; ky < q->fh; ky++) {                                       \
                        int64_t iy = oy * q->sh - q->ph + ky * q->dh;                              \
                        if (iy < 0 || iy >= q->h) continue;                                        \
                        const T *in = x + (n * q->h + iy) * q->w * c;                              \
                        if (row) {                                                                 \
                            dw_expand_##T(in, q->w *c, q->m, row);                                 \
                            in = row;                                                              \
                        }                                                                          \
                        T *pk = p + ky * q->fw * cm;                                               \
                        for (int64_t ox = 0; ox < q->ow; ox++)                                     \
                            for (int64_t kx = 0; kx < q->fw; kx++) {                               \
                                int64_t ix = ox * q->sw - q->pw + kx * q->dw;                      \
                                if (ix < 0 || ix >= q->w) continue;                                \
                                T *pp = pk + kx * cm;                                              \
                                const T *a = in + ix * cm, *gg = g + ox * cm;                      \
                                for (int64_t j = 0; j < cm; j++) pp[j] += a[j] * gg[j];            \
                            }                                                                      \
                    }                                                                              \
                }                                                                                  \
        }                                                                                          \
    }                                                                                              \
    static void dw_sum_blocks_##T(const T *parts, int64_t nblocks, int64_t fsz, T *out) {          \
        memcpy(out, parts, (size_t)fsz * sizeof(T));                                               \
        for (int64_t blk = 1; blk < nblocks; blk++)                                                \
            for (int64_t j = 0; j < fsz; j++) out[j] += parts[blk * fsz + j];                      \
    }

DEFINE_DW_KERNELS(float)
DEFINE_DW_KERNELS(double)

typedef void (*dw_range_fn)(void *, int64_t, int64_t);

/* Runs fn over `units` (images or batch blocks) with one expanded row of
 * scratch per unit when the multiplier is above 1. 0, or -1 with a kernel
 * error. */
static int dw_run(tfc_kernel_ctx *c, dw_task *t, tfc_dtype dt, int64_t units, dw_range_fn ff,
                  dw_range_fn fd) {
    if (t->q.m > 1) {
        size_t row = (size_t)(t->q.w * t->q.c * t->q.m) * tfc_dtype_size(dt);
        if (!(t->scratch = malloc(row * (size_t)units + 1))) {
            tfc_kernel_error(c, TFC_INTERNAL, "out of memory in depthwise convolution");
            return -1;
        }
    }
    tfc_parallel_for(c->pool, units, 1, dt == TFC_FLOAT ? ff : fd, t);
    free(t->scratch);
    t->scratch = NULL;
    return 0;
}

static void dw_kernel(tfc_kernel_ctx *c) {
    const tfc_tensor *x = c->inputs[0], *f = c->inputs[1];
    dw_task t = {.x = x->data, .f = f->data};
    if (dw_kernel_rank4(c, x, "input") || dw_kernel_rank4(c, f, "filter") ||
        dw_geom_make(c, x->dims, f->dims, &t.q))
        return;
    int64_t od[4] = {t.q.n, t.q.oh, t.q.ow, t.q.c * t.q.m};
    tfc_tensor *out = tfc_kernel_output(c, 0, x->dtype, 4, od);
    if (!out || out->nelem == 0) return;
    t.out = out->data;
    dw_run(c, &t, x->dtype, t.q.n, dw_forward_float, dw_forward_double);
}

static void dw_bi_kernel(tfc_kernel_ctx *c) {
    const tfc_tensor *f = c->inputs[1], *dy = c->inputs[2];
    int64_t xd[4];
    dw_task t = {.f = f->data, .dy = dy->data};
    if (tfc_window_kernel_sizes(c, c->inputs[0], xd) || dw_kernel_rank4(c, f, "filter") ||
        dw_geom_make(c, xd, f->dims, &t.q) || dw_kernel_dy(c, &t.q, dy))
        return;
    tfc_tensor *out = tfc_kernel_output(c, 0, f->dtype, 4, xd);
    if (!out || out->nelem == 0) return;
    if (t.q.m == 0) { /* no output channels: nothing flows back */
        memset(out->data, 0, out->nbytes);
        return;
    }
    t.out = out->data;
    dw_run(c, &t, f->dtype, t.q.n, dw_input_grad_float, dw_input_grad_double);
}

static void dw_bf_kernel(tfc_kernel_ctx *c) {
    const tfc_tensor *x = c->inputs[0], *dy = c->inputs[2];
    int64_t fd[4];
    dw_task t = {.x = x->data, .dy = dy->data};
    if (dw_kernel_rank4(c, x, "input") || tfc_window_kernel_sizes(c, c->inputs[1], fd) ||
        dw_geom_make(c, x->dims, fd, &t.q) || dw_kernel_dy(c, &t.q, dy))
        return;
    tfc_tensor *out = tfc_kernel_output(c, 0, x->dtype, 4, fd);
    if (!out || out->nelem == 0) return;
    if (t.q.n == 0) {
        memset(out->data, 0, out->nbytes);
        return;
    }
    int64_t fsz = out->nelem;
    t.nblocks = t.q.n < DW_FILTER_BLOCKS ? t.q.n : DW_FILTER_BLOCKS;
    void *parts = out->data;
    if (t.nblocks > 1 && !(parts = malloc((size_t)(t.nblocks * fsz) * tfc_dtype_size(x->dtype)))) {
        tfc_kernel_error(c, TFC_INTERNAL, "out of memory in depthwise convolution");
        return;
    }
    t.out = parts;
    if (dw_run(c, &t, x->dtype, t.nblocks, dw_filter_grad_float, dw_filter_grad_double) == 0 &&
        parts != out->data) {
        if (x->dtype == TFC_DOUBLE)
            dw_sum_blocks_double(parts, t.nblocks, fsz, out->data);
        else
            dw_sum_blocks_float(parts, t.nblocks, fsz, out->data);
    }
    if (parts != out->data) free(parts);
}

/* ---- gradients (TensorFlow's: each backprop's gradient is the other two ops) ---- */

static const tfc_conv_ops DEPTHWISE_OPS = {"DepthwiseConv2dNative",
                                           "DepthwiseConv2dNativeBackpropInput",
                                           "DepthwiseConv2dNativeBackpropFilter"};

static int dw_grad(tfc_graph *g, tfc_node *op, const tfc_output *dy, tfc_output *dx) {
    return tfc_conv_grad(g, &DEPTHWISE_OPS, op, dy, dx);
}
static int dw_bi_grad(tfc_graph *g, tfc_node *op, const tfc_output *dy, tfc_output *dx) {
    return tfc_conv_backprop_input_grad(g, &DEPTHWISE_OPS, op, dy, dx);
}
static int dw_bf_grad(tfc_graph *g, tfc_node *op, const tfc_output *dy, tfc_output *dx) {
    return tfc_conv_backprop_filter_grad(g, &DEPTHWISE_OPS, op, dy, dx);
}

const tfc_op_def tfc_ops_depthwise_conv[] = {
    {"DepthwiseConv2dNative", 2, 2, 1, 0, 0, dw_infer, dw_kernel, dw_grad},
    {"DepthwiseConv2dNativeBackpropInput", 3, 3, 1, 0, 0, dw_bi_infer, dw_bi_kernel, dw_bi_grad},
    {"DepthwiseConv2dNativeBackpropFilter", 3, 3, 1, 0, 0, dw_bf_infer, dw_bf_kernel, dw_bf_grad},
    {NULL, 0, 0, 0, 0, 0, NULL, NULL, NULL},
};

/* ---- helpers ---- */

static void dw_set_list4(tfc_op_desc *d, const char *name, const int *v) {
    int64_t l[4] = {v[0], v[1], v[2], v[3]};
    tfc_op_set_attr_int_list(d, name, l, 4);
}

tfc_output tfc_depthwise_conv2d_ex(tfc_graph *g, tfc_output input, tfc_output filter,
                                   const int *strides, const char *padding, const int *dilations) {
    tfc_op_desc *d = tfc_op_new(g, "DepthwiseConv2dNative", NULL);
    tfc_op_add_input(d, input);
    tfc_op_add_input(d, filter);
    if (strides) dw_set_list4(d, "strides", strides);
    if (dilations) dw_set_list4(d, "dilations", dilations);
    if (padding) tfc_op_set_attr_string(d, "padding", padding);
    tfc_op_set_attr_string(d, "data_format", "NHWC");
    return tfc_out(tfc_op_finish(d), 0);
}

tfc_output tfc_depthwise_conv2d(tfc_graph *g, tfc_output input, tfc_output filter,
                                const int *strides, const char *padding) {
    return tfc_depthwise_conv2d_ex(g, input, filter, strides, padding, NULL);
}
