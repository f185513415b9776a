/* 2-D convolution on NHWC tensors with HWIO filters: Conv2D and its two
 * backprops. Float32 goes through oneDNN's convolution primitives
 * (conv_dnnl.c) where they take the shape; the rest (float64, dilations,
 * TFC_CONV_IM2COL) through im2col (parallel over the batch) and GEMM (see
 * gemm.h). This file also holds the family's op table, which lists the
 * pooling ops of pool.c (MaxPool, AvgPool, their *Grad ops and
 * MaxPoolGradGrad), and the window helpers both files share. */
#include "autodiff/grad_util.h"
#include "core/buffer_pool.h"
#include "core/vector_clones.h"
#include "ops/conv_internal.h"
#include "ops/epilogue.h"
#include "ops/gemm.h"

#include <stdlib.h>
#include <string.h>

/* ---- window attrs ---- */

static int parse_list4(tfc_infer_ctx *c, const char *name, int64_t dflt, int64_t *v) {
    const int64_t *l;
    int n = tfc_attrs_int_list(c->attrs, name, &l);
    if (n == 0 && dflt > 0 && !tfc_attrs_find(c->attrs, name)) {
        for (int i = 0; i < 4; i++) v[i] = dflt;
        return 0;
    }
    if (n != 4) return tfc_infer_error(c, "attr '%s' must be a list of 4 ints, got %d", name, n);
    for (int i = 0; i < 4; i++) {
        if (l[i] < 1) return tfc_infer_error(c, "attr '%s' must be positive", name);
        v[i] = l[i];
    }
    if (v[0] != 1 || v[3] != 1)
        return tfc_infer_error(c, "attr '%s' must be 1 in the batch and depth dimensions", name);
    return 0;
}

int tfc_window_parse(tfc_infer_ctx *c, int with_ksize) {
    tfc_window *w = calloc(1, sizeof *w);
    if (!w) return tfc_infer_error(c, "out of memory");
    c->op_data = w;
    int64_t s[4], d[4], k[4] = {1, 1, 1, 1};
    if (parse_list4(c, "strides", 0, s) || parse_list4(c, "dilations", 1, d)) return -1;
    if (with_ksize && parse_list4(c, "ksize", 0, k)) return -1;
    const char *pad = tfc_attrs_string(c->attrs, "padding");
    if (!pad || (strcmp(pad, "SAME") != 0 && strcmp(pad, "VALID") != 0))
        return tfc_infer_error(c, "attr 'padding' must be \"SAME\" or \"VALID\", got %s",
                               pad ? pad : "nothing");
    const char *fmt = tfc_attrs_string(c->attrs, "data_format");
    if (fmt && strcmp(fmt, "NHWC") != 0)
        return tfc_infer_error(c, "only data_format \"NHWC\" is supported, got \"%s\"", fmt);
    w->kh = k[1];
    w->kw = k[2];
    w->sh = s[1];
    w->sw = s[2];
    w->dh = d[1];
    w->dw = d[2];
    w->same = strcmp(pad, "SAME") == 0;
    return 0;
}

int tfc_window_out(int64_t in, int64_t k, int64_t s, int64_t d, int same, int64_t *out,
                   int64_t *pad) {
    int64_t eff = (k - 1) * d + 1;
    if (same) {
        *out = (in + s - 1) / s;
        int64_t total = (*out - 1) * s + eff - in;
        *pad = total > 0 ? total / 2 : 0;
        return 0;
    }
    if (in < eff) return -1;
    *out = (in - eff) / s + 1;
    *pad = 0;
    return 0;
}

void tfc_window_copy_attrs(tfc_op_desc *d, const tfc_node *from) {
    static const char *const lists[] = {"strides", "ksize", "dilations"};
    for (int i = 0; i < 3; i++) {
        const int64_t *v;
        int n = tfc_attrs_int_list(&from->attrs, lists[i], &v);
        if (n) tfc_op_set_attr_int_list(d, lists[i], v, n);
    }
    const char *pad = tfc_attrs_string(&from->attrs, "padding");
    if (pad) tfc_op_set_attr_string(d, "padding", pad);
    const char *fmt = tfc_attrs_string(&from->attrs, "data_format");
    if (fmt) tfc_op_set_attr_string(d, "data_format", fmt);
}

tfc_output tfc_window_shape_of(tfc_graph *g, tfc_output x) {
    tfc_shape s = tfc_output_shape(x);
    if (!tfc_shape_is_fully_defined(&s)) return tfc_shape_of(g, x);
    int32_t v[TFC_MAX_RANK];
    for (int i = 0; i < s.rank; i++) v[i] = (int32_t)s.dims[i];
    return tfc_const_ints(g, v, s.rank);
}

/* ---- geometry and the im2col / GEMM building blocks ---- */

typedef tfc_conv_geom conv_geom;

/* Fills q from the input and filter dims; 0, or -1 with a kernel error. */
static int geom_make(tfc_kernel_ctx *c, const int64_t *x, const int64_t *f, conv_geom *q) {
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
    *q = (conv_geom){.n = x[0], .h = x[1], .w = x[2], .c = x[3], .fh = f[0], .fw = f[1],
                     .o = f[3], .sh = win->sh, .sw = win->sw, .dh = win->dh, .dw = win->dw};
    if (tfc_window_out(q->h, q->fh, q->sh, q->dh, win->same, &q->oh, &q->ph) ||
        tfc_window_out(q->w, q->fw, q->sw, q->dw, win->same, &q->ow, &q->pw)) {
        tfc_kernel_error(c, TFC_INVALID_ARGUMENT,
                         "computed output size would be negative (input %s, filter %s, VALID)",
                         tfc_dims_str(4, x, a, sizeof a), tfc_dims_str(4, f, b, sizeof b));
        return -1;
    }
    return 0;
}

/* A 1x1 window with stride 1 needs no im2col: the image is the matrix. */
static int geom_direct(const conv_geom *q) {
    return q->fh == 1 && q->fw == 1 && q->sh == 1 && q->sw == 1 && q->ph == 0 && q->pw == 0;
}

/* Row (oy*ow + ox) of `col` holds the window of that output pixel, ordered
 * (ky, kx, channel) like the rows of an HWIO filter seen as [K, out_c]. */
static void im2col(const char *img, const conv_geom *q, size_t esz, char *col) {
    size_t crow = (size_t)q->c * esz;
    for (int64_t oy = 0; oy < q->oh; oy++)
        for (int64_t ox = 0; ox < q->ow; ox++) {
            char *row = col + (size_t)((oy * q->ow + ox) * q->fh * q->fw) * crow;
            for (int64_t ky = 0; ky < q->fh; ky++) {
                int64_t iy = oy * q->sh - q->ph + ky * q->dh, ix0 = ox * q->sw - q->pw;
                char *dst_row = row + (size_t)(ky * q->fw) * crow;
                if (iy < 0 || iy >= q->h) {
                    memset(dst_row, 0, (size_t)q->fw * crow);
                    continue;
                }
                /* an undilated window row inside the image is one contiguous run */
                if (q->dw == 1 && ix0 >= 0 && ix0 + q->fw <= q->w) {
                    memcpy(dst_row, img + (size_t)(iy * q->w + ix0) * crow, (size_t)q->fw * crow);
                    continue;
                }
                for (int64_t kx = 0; kx < q->fw; kx++) {
                    int64_t ix = ox * q->sw - q->pw + kx * q->dw;
                    char *dst = row + (size_t)(ky * q->fw + kx) * crow;
                    if (iy < 0 || iy >= q->h || ix < 0 || ix >= q->w)
                        memset(dst, 0, crow);
                    else
                        memcpy(dst, img + (size_t)(iy * q->w + ix) * crow, crow);
                }
            }
        }
}

/* The adjoint of im2col: adds every window row back onto the image. */
#define DEFINE_COL2IM(T)                                                                 \
    TFC_VECTOR_CLONES static void col2im_##T(const T *col, const conv_geom *q, T *img) {                   \
        for (int64_t oy = 0; oy < q->oh; oy++)                                           \
            for (int64_t ox = 0; ox < q->ow; ox++) {                                     \
                const T *row = col + (oy * q->ow + ox) * q->fh * q->fw * q->c;           \
                for (int64_t ky = 0; ky < q->fh; ky++) {                                 \
                    int64_t iy = oy * q->sh - q->ph + ky * q->dh;                        \
                    if (iy < 0 || iy >= q->h) continue;                                  \
                    for (int64_t kx = 0; kx < q->fw; kx++) {                             \
                        int64_t ix = ox * q->sw - q->pw + kx * q->dw;                    \
                        if (ix < 0 || ix >= q->w) continue;                              \
                        const T *s = row + (ky * q->fw + kx) * q->c;                     \
                        T *d = img + (iy * q->w + ix) * q->c;                            \
                        for (int64_t k = 0; k < q->c; k++) d[k] += s[k];                 \
                    }                                                                    \
                }                                                                        \
            }                                                                            \
    }
DEFINE_COL2IM(float)
DEFINE_COL2IM(double)

/* The columns of at most this many bytes are built at once: the batch is
 * cut into chunks, each im2col'd in parallel (one image per task) and then
 * multiplied by one GEMM split by rows over the threads, so OpenBLAS sees
 * large matrices and the columns stay in cache (4 MiB beat both 1 and
 * 32 MiB on the MNIST tutorial's second conv layer). */
#define COL_BUDGET ((size_t)4 << 20)

typedef struct conv_task {
    conv_geom q;
    size_t esz;
    int64_t p, k;     /* output pixels per image, window size (rows, cols of one col) */
    const char *src;  /* images read by im2col */
    char *dst;        /* images written by col2im */
    char *col;        /* the chunk's columns, image after image */
    size_t col_bytes; /* col's size, for tfc_block_free */
    int64_t first;    /* the chunk's first image */
    tfc_dtype dt;
} conv_task;

static void im2col_range(void *arg, int64_t begin, int64_t end) {
    const conv_task *t = arg;
    const conv_geom *q = &t->q;
    size_t in_sz = (size_t)(q->h * q->w * q->c) * t->esz, col_sz = (size_t)(t->p * t->k) * t->esz;
    for (int64_t i = begin; i < end; i++)
        im2col(t->src + (size_t)(t->first + i) * in_sz, q, t->esz, t->col + (size_t)i * col_sz);
}

static void col2im_range(void *arg, int64_t begin, int64_t end) {
    const conv_task *t = arg;
    const conv_geom *q = &t->q;
    size_t in_n = (size_t)(q->h * q->w * q->c), col_n = (size_t)(t->p * t->k);
    for (int64_t i = begin; i < end; i++) {
        char *img = t->dst + (size_t)(t->first + i) * in_n * t->esz;
        memset(img, 0, in_n * t->esz);
        if (t->dt == TFC_FLOAT)
            col2im_float((const float *)t->col + (size_t)i * col_n, q, (float *)img);
        else
            col2im_double((const double *)t->col + (size_t)i * col_n, q, (double *)img);
    }
}

/* Sets up t and allocates the column buffer for a chunk of images; returns
 * the chunk size, or 0 after a kernel error. A direct (1x1) geometry needs
 * no buffer: the whole batch is one chunk. */
static int64_t task_begin(tfc_kernel_ctx *c, conv_task *t) {
    const conv_geom *q = &t->q;
    t->esz = tfc_dtype_size(t->dt);
    t->p = q->oh * q->ow;
    t->k = q->fh * q->fw * q->c;
    if (geom_direct(q)) return q->n;
    size_t per = (size_t)(t->p * t->k) * t->esz;
    int64_t chunk = per ? (int64_t)(COL_BUDGET / per) : q->n;
    if (chunk < 1) chunk = 1;
    if (chunk > q->n) chunk = q->n;
    t->col_bytes = per * (size_t)chunk + 1;
    t->col = tfc_block_alloc(t->col_bytes); /* cached: no heap traffic per step */
    if (!t->col) {
        tfc_kernel_error(c, TFC_INTERNAL, "out of memory in convolution");
        return 0;
    }
    return chunk;
}

/* ---- shape functions ---- */

static int check_float(tfc_infer_ctx *c, tfc_dtype dt) {
    if (dt == TFC_FLOAT || dt == TFC_DOUBLE) return 0;
    return tfc_infer_error(c, "expected float32 or float64 tensors, got %s", tfc_dtype_name(dt));
}

static int check_rank4(tfc_infer_ctx *c, int i, const char *what) {
    tfc_shape s = tfc_infer_input_shape(c, i);
    if (s.rank < 0 || s.rank == 4) return 0;
    char buf[96];
    return tfc_infer_error(c, "%s must be 4-dimensional, got shape %s", what,
                           tfc_shape_str(&s, buf, sizeof buf));
}

int tfc_window_sizes_input(tfc_infer_ctx *c, int i, tfc_shape *out) {
    tfc_dtype dt = tfc_infer_input_dtype(c, i);
    tfc_shape s = tfc_infer_input_shape(c, i);
    if (dt != TFC_INT32 && dt != TFC_INT64)
        return tfc_infer_error(c, "input %d (a shape) must be int32 or int64, got %s", i,
                               tfc_dtype_name(dt));
    if (s.rank >= 0 && (s.rank != 1 || (s.dims[0] >= 0 && s.dims[0] != 4)))
        return tfc_infer_error(c, "input %d (a shape) must be a vector of 4 ints", i);
    *out = (tfc_shape){.rank = 4, .dims = {-1, -1, -1, -1}};
    const tfc_tensor *t = tfc_infer_input_const(c, i);
    if (t) {
        if (t->nelem != 4) return tfc_infer_error(c, "input %d (a shape) must have 4 ints", i);
        for (int k = 0; k < 4; k++) {
            out->dims[k] = tfc_tensor_get_int(t, k);
            if (out->dims[k] < 0) return tfc_infer_error(c, "input %d has a negative size", i);
        }
    }
    return 0;
}

/* Output dims of a convolution from partial input and filter shapes. */
static int conv_out_shape(tfc_infer_ctx *c, const tfc_shape *xs, const tfc_shape *fs,
                          tfc_shape *out) {
    const tfc_window *w = c->op_data;
    *out = (tfc_shape){.rank = 4, .dims = {-1, -1, -1, -1}};
    if (xs->rank == 4) out->dims[0] = xs->dims[0];
    if (fs->rank == 4) out->dims[3] = fs->dims[3];
    if (xs->rank == 4 && fs->rank == 4) {
        if (xs->dims[3] >= 0 && fs->dims[2] >= 0 && xs->dims[3] != fs->dims[2])
            return tfc_infer_error(c, "input depth %lld does not match the filter's in_channels %lld",
                                   (long long)xs->dims[3], (long long)fs->dims[2]);
        for (int d = 0; d < 2; d++) {
            int64_t in = xs->dims[1 + d], k = fs->dims[d], pad;
            if (in < 0 || k < 0) continue;
            if (tfc_window_out(in, k, d ? w->sw : w->sh, d ? w->dw : w->dh, w->same,
                               &out->dims[1 + d], &pad))
                return tfc_infer_error(c, "computed output size would be negative: input size "
                                          "%lld, window %lld, VALID padding",
                                       (long long)in, (long long)k);
        }
    }
    return 0;
}

static int conv2d_infer(tfc_infer_ctx *c) {
    tfc_dtype dt = tfc_infer_same_dtype(c, 0, 2, TFC_INVALID_DTYPE);
    if (dt == TFC_INVALID_DTYPE || check_float(c, dt) || tfc_window_parse(c, 0) ||
        check_rank4(c, 0, "input") || check_rank4(c, 1, "filter"))
        return -1;
    tfc_shape xs = tfc_infer_input_shape(c, 0), fs = tfc_infer_input_shape(c, 1), out;
    if (conv_out_shape(c, &xs, &fs, &out)) return -1;
    tfc_attrs_set_int(c->attrs, "T", TFC_ATTR_TYPE, dt);
    tfc_infer_set_output(c, 0, dt, out);
    return 0;
}

/* Conv2DBackpropInput(input_sizes, filter, out_backprop). */
static int conv2d_bi_infer(tfc_infer_ctx *c) {
    tfc_dtype dt = tfc_infer_same_dtype(c, 1, 2, TFC_INVALID_DTYPE);
    tfc_shape out;
    if (dt == TFC_INVALID_DTYPE || check_float(c, dt) || tfc_window_parse(c, 0) ||
        check_rank4(c, 1, "filter") || check_rank4(c, 2, "out_backprop") ||
        tfc_window_sizes_input(c, 0, &out))
        return -1;
    tfc_attrs_set_int(c->attrs, "T", TFC_ATTR_TYPE, dt);
    tfc_infer_set_output(c, 0, dt, out);
    return 0;
}

/* Conv2DBackpropFilter(input, filter_sizes, out_backprop). */
static int conv2d_bf_infer(tfc_infer_ctx *c) {
    tfc_dtype dt = tfc_infer_input_dtype(c, 0);
    tfc_shape out;
    if (check_float(c, dt) || tfc_window_parse(c, 0) || check_rank4(c, 0, "input") ||
        check_rank4(c, 2, "out_backprop") || tfc_window_sizes_input(c, 1, &out))
        return -1;
    if (tfc_infer_input_dtype(c, 2) != dt)
        return tfc_infer_error(c, "out_backprop must have the input's type %s, got %s",
                               tfc_dtype_name(dt), tfc_dtype_name(tfc_infer_input_dtype(c, 2)));
    tfc_attrs_set_int(c->attrs, "T", TFC_ATTR_TYPE, dt);
    tfc_infer_set_output(c, 0, dt, out);
    return 0;
}

/* ---- kernels ---- */

static int kernel_rank4(tfc_kernel_ctx *c, const tfc_tensor *t, const char *what) {
    if (t->rank == 4) return 0;
    tfc_kernel_error(c, TFC_INVALID_ARGUMENT, "%s must be 4-dimensional, got rank %d", what,
                     t->rank);
    return -1;
}

int tfc_window_kernel_sizes(tfc_kernel_ctx *c, const tfc_tensor *t, int64_t *dims) {
    if (t->rank != 1 || t->nelem != 4) {
        tfc_kernel_error(c, TFC_INVALID_ARGUMENT, "a shape input must be a vector of 4 ints");
        return -1;
    }
    for (int i = 0; i < 4; i++) {
        dims[i] = tfc_tensor_get_int(t, i);
        if (dims[i] < 0) {
            tfc_kernel_error(c, TFC_INVALID_ARGUMENT, "a shape input has a negative size");
            return -1;
        }
    }
    return 0;
}

/* out_backprop must be shaped like the forward output. */
static int check_dy(tfc_kernel_ctx *c, const conv_geom *q, const tfc_tensor *dy) {
    int64_t want[4] = {q->n, q->oh, q->ow, q->o};
    if (dy->rank == 4 && memcmp(dy->dims, want, sizeof want) == 0) return 0;
    char a[64], b[64];
    tfc_kernel_error(c, TFC_INVALID_ARGUMENT, "out_backprop has shape %s, expected %s",
                     tfc_dims_str(dy->rank, dy->dims, a, sizeof a), tfc_dims_str(4, want, b, sizeof b));
    return -1;
}

static void conv2d_kernel(tfc_kernel_ctx *c) { tfc_conv2d_run(c, NULL); }

void tfc_conv2d_run(tfc_kernel_ctx *c, const tfc_epilogue *ep) {
    const tfc_tensor *x = c->inputs[0], *f = c->inputs[1];
    conv_task t = {.dt = x->dtype, .src = x->data};
    if (kernel_rank4(c, x, "input") || kernel_rank4(c, f, "filter") ||
        geom_make(c, x->dims, f->dims, &t.q))
        return;
    int64_t od[4] = {t.q.n, t.q.oh, t.q.ow, t.q.o};
    tfc_tensor *out = tfc_kernel_output(c, 0, x->dtype, 4, od);
    if (!out || out->nelem == 0) return;
    if (t.dt == TFC_FLOAT && tfc_conv_tiles_forward(c, &t.q, x->data, f->data, out->data, ep))
        return;
    int done = t.dt == TFC_FLOAT
                   ? tfc_conv_dnnl(c, TFC_CONV_FORWARD, &t.q, x->data, f->data, NULL, out->data)
                   : 0;
    if (done > 0) tfc_epilogue_run(c->pool, ep, t.dt, out->data, t.q.n * t.q.oh * t.q.ow, t.q.o);
    if (done) return;
    int64_t chunk = task_begin(c, &t);
    if (!chunk) return;
    if (!t.col) {
        tfc_gemm_then(c->pool, t.dt, 0, 0, t.q.n * t.p, t.q.o, t.k, x->data, f->data, out->data,
                      ep);
        return;
    }
    for (t.first = 0; t.first < t.q.n; t.first += chunk) {
        int64_t nb = t.q.n - t.first < chunk ? t.q.n - t.first : chunk;
        tfc_parallel_for(c->pool, nb, 1, im2col_range, &t);
        tfc_gemm_then(c->pool, t.dt, 0, 0, nb * t.p, t.q.o, t.k, t.col, f->data,
                      (char *)out->data + (size_t)(t.first * t.p * t.q.o) * t.esz, ep);
    }
    tfc_block_free(t.col, t.col_bytes);
}

static void conv2d_bi_kernel(tfc_kernel_ctx *c) {
    const tfc_tensor *f = c->inputs[1], *dy = c->inputs[2];
    int64_t xd[4];
    conv_task t = {.dt = f->dtype};
    if (tfc_window_kernel_sizes(c, c->inputs[0], xd) || kernel_rank4(c, f, "filter") ||
        geom_make(c, xd, f->dims, &t.q) || check_dy(c, &t.q, dy))
        return;
    tfc_tensor *out = tfc_kernel_output(c, 0, f->dtype, 4, xd);
    if (!out || out->nelem == 0) return;
    if (t.q.o == 0 || t.q.oh * t.q.ow == 0) {
        memset(out->data, 0, out->nbytes);
        return;
    }
    if (t.dt == TFC_FLOAT &&
        (tfc_conv_tiles(c, TFC_CONV_BACKWARD_DATA, &t.q, NULL, f->data, dy->data, out->data) ||
         tfc_conv_dnnl(c, TFC_CONV_BACKWARD_DATA, &t.q, NULL, f->data, dy->data, out->data)))
        return;
    int64_t chunk = task_begin(c, &t);
    if (!chunk) return;
    if (!t.col) {
        tfc_gemm(c->pool, t.dt, 0, 1, t.q.n * t.p, t.k, t.q.o, dy->data, f->data, 0.0, out->data);
        return;
    }
    t.dst = out->data;
    for (t.first = 0; t.first < t.q.n; t.first += chunk) {
        int64_t nb = t.q.n - t.first < chunk ? t.q.n - t.first : chunk;
        tfc_gemm(c->pool, t.dt, 0, 1, nb * t.p, t.k, t.q.o,
             (const char *)dy->data + (size_t)(t.first * t.p * t.q.o) * t.esz, f->data, 0.0,
             t.col);
        tfc_parallel_for(c->pool, nb, 1, col2im_range, &t);
    }
    tfc_block_free(t.col, t.col_bytes);
}

static void conv2d_bf_kernel(tfc_kernel_ctx *c) {
    const tfc_tensor *x = c->inputs[0], *dy = c->inputs[2];
    int64_t fd[4];
    conv_task t = {.dt = x->dtype, .src = x->data};
    if (kernel_rank4(c, x, "input") || tfc_window_kernel_sizes(c, c->inputs[1], fd) ||
        geom_make(c, x->dims, fd, &t.q) || check_dy(c, &t.q, dy))
        return;
    tfc_tensor *out = tfc_kernel_output(c, 0, x->dtype, 4, fd);
    if (!out || out->nelem == 0) return;
    if (t.q.n == 0 || t.q.oh * t.q.ow == 0) {
        memset(out->data, 0, out->nbytes);
        return;
    }
    if (t.dt == TFC_FLOAT &&
        (tfc_conv_tiles(c, TFC_CONV_BACKWARD_WEIGHTS, &t.q, x->data, NULL, dy->data, out->data) ||
         tfc_conv_dnnl(c, TFC_CONV_BACKWARD_WEIGHTS, &t.q, x->data, NULL, dy->data, out->data)))
        return;
    int64_t chunk = task_begin(c, &t);
    if (!chunk) return;
    if (!t.col) {
        tfc_gemm(c->pool, t.dt, 1, 0, t.k, t.q.o, t.q.n * t.p, x->data, dy->data, 0.0, out->data);
        return;
    }
    for (t.first = 0; t.first < t.q.n; t.first += chunk) {
        int64_t nb = t.q.n - t.first < chunk ? t.q.n - t.first : chunk;
        tfc_parallel_for(c->pool, nb, 1, im2col_range, &t);
        tfc_gemm(c->pool, t.dt, 1, 0, t.k, t.q.o, nb * t.p, t.col,
             (const char *)dy->data + (size_t)(t.first * t.p * t.q.o) * t.esz,
             t.first ? 1.0 : 0.0, out->data);
    }
    tfc_block_free(t.col, t.col_bytes);
}

/* ---- gradients (TensorFlow's: each backprop's gradient is the other two ops) ---- */

static tfc_output conv_like(tfc_graph *g, const char *type, const tfc_output *in, int n,
                            const tfc_node *attrs_from) {
    tfc_op_desc *d = tfc_op_new(g, type, NULL);
    tfc_op_add_inputs(d, in, n);
    tfc_window_copy_attrs(d, attrs_from);
    return tfc_out(tfc_op_finish(d), 0);
}

int tfc_conv_grad(tfc_graph *g, const tfc_conv_ops *ops, tfc_node *op, const tfc_output *dy,
                  tfc_output *dx) {
    if (!dy[0].node) return 0;
    tfc_output x = op->inputs[0], f = op->inputs[1];
    tfc_output bi[3] = {tfc_window_shape_of(g, x), f, dy[0]};
    tfc_output bf[3] = {x, tfc_window_shape_of(g, f), dy[0]};
    dx[0] = conv_like(g, ops->backprop_input, bi, 3, op);
    dx[1] = conv_like(g, ops->backprop_filter, bf, 3, op);
    return dx[0].node && dx[1].node ? 0 : -1;
}

int tfc_conv_backprop_input_grad(tfc_graph *g, const tfc_conv_ops *ops, tfc_node *op,
                                 const tfc_output *dy, tfc_output *dx) {
    if (!dy[0].node) return 0;
    tfc_output f = op->inputs[1], gy = op->inputs[2];
    tfc_output bf[3] = {dy[0], tfc_window_shape_of(g, f), gy};
    tfc_output fw[2] = {dy[0], f};
    dx[1] = conv_like(g, ops->backprop_filter, bf, 3, op);
    dx[2] = conv_like(g, ops->forward, fw, 2, op);
    return dx[1].node && dx[2].node ? 0 : -1;
}

int tfc_conv_backprop_filter_grad(tfc_graph *g, const tfc_conv_ops *ops, tfc_node *op,
                                  const tfc_output *dy, tfc_output *dx) {
    if (!dy[0].node) return 0;
    tfc_output x = op->inputs[0], gy = op->inputs[2];
    tfc_output bi[3] = {tfc_window_shape_of(g, x), dy[0], gy};
    tfc_output fw[2] = {x, dy[0]};
    dx[0] = conv_like(g, ops->backprop_input, bi, 3, op);
    dx[2] = conv_like(g, ops->forward, fw, 2, op);
    return dx[0].node && dx[2].node ? 0 : -1;
}

static const tfc_conv_ops CONV2D_OPS = {"Conv2D", "Conv2DBackpropInput", "Conv2DBackpropFilter"};

static int conv2d_grad(tfc_graph *g, tfc_node *op, const tfc_output *dy, tfc_output *dx) {
    return tfc_conv_grad(g, &CONV2D_OPS, op, dy, dx);
}
static int conv2d_bi_grad(tfc_graph *g, tfc_node *op, const tfc_output *dy, tfc_output *dx) {
    return tfc_conv_backprop_input_grad(g, &CONV2D_OPS, op, dy, dx);
}
static int conv2d_bf_grad(tfc_graph *g, tfc_node *op, const tfc_output *dy, tfc_output *dx) {
    return tfc_conv_backprop_filter_grad(g, &CONV2D_OPS, op, dy, dx);
}

const tfc_op_def tfc_ops_conv[] = {
    {"Conv2D", 2, 2, 1, 0, 0, conv2d_infer, conv2d_kernel, conv2d_grad},
    {"Conv2DBackpropInput", 3, 3, 1, 0, 0, conv2d_bi_infer, conv2d_bi_kernel, conv2d_bi_grad},
    {"Conv2DBackpropFilter", 3, 3, 1, 0, 0, conv2d_bf_infer, conv2d_bf_kernel, conv2d_bf_grad},
    {"MaxPool", 1, 1, 1, 0, 0, tfc_pool_infer, tfc_max_pool_kernel, tfc_max_pool_grad_fn},
    {"MaxPoolGrad", 3, 3, 1, 0, 0, tfc_max_pool_grad_infer, tfc_max_pool_grad_kernel,
     tfc_max_pool_grad_grad_fn},
    {"MaxPoolGradGrad", 3, 3, 1, 0, 0, tfc_max_pool_grad_grad_infer,
     tfc_max_pool_grad_grad_kernel, tfc_max_pool_grad_grad_grad_fn},
    {"AvgPool", 1, 1, 1, 0, 0, tfc_pool_infer, tfc_avg_pool_kernel, tfc_avg_pool_grad_fn},
    {"AvgPoolGrad", 2, 2, 1, 0, 0, tfc_avg_pool_grad_infer, tfc_avg_pool_grad_kernel,
     tfc_avg_pool_grad_grad_fn},
    {NULL, 0, 0, 0, 0, 0, NULL, NULL, NULL},
};

/* ---- helpers ---- */

static void set_list4(tfc_op_desc *d, const char *name, const int *v) {
    int64_t l[4] = {v[0], v[1], v[2], v[3]};
    tfc_op_set_attr_int_list(d, name, l, 4);
}

tfc_output tfc_conv2d_ex(tfc_graph *g, tfc_output input, tfc_output filter, const int *strides,
                         const char *padding, const int *dilations) {
    tfc_op_desc *d = tfc_op_new(g, "Conv2D", NULL);
    tfc_op_add_input(d, input);
    tfc_op_add_input(d, filter);
    if (strides) set_list4(d, "strides", strides);
    if (dilations) set_list4(d, "dilations", dilations);
    if (padding) tfc_op_set_attr_string(d, "padding", padding);
    tfc_op_set_attr_string(d, "data_format", "NHWC");
    return tfc_out(tfc_op_finish(d), 0);
}

tfc_output tfc_conv2d(tfc_graph *g, tfc_output input, tfc_output filter, const int *strides,
                      const char *padding) {
    return tfc_conv2d_ex(g, input, filter, strides, padding, NULL);
}

static tfc_output pool(tfc_graph *g, const char *type, tfc_output x, const int *ksize,
                       const int *strides, const char *padding) {
    tfc_op_desc *d = tfc_op_new(g, type, NULL);
    tfc_op_add_input(d, x);
    if (ksize) set_list4(d, "ksize", ksize);
    if (strides) set_list4(d, "strides", strides);
    if (padding) tfc_op_set_attr_string(d, "padding", padding);
    tfc_op_set_attr_string(d, "data_format", "NHWC");
    return tfc_out(tfc_op_finish(d), 0);
}

tfc_output tfc_max_pool(tfc_graph *g, tfc_output x, const int *ksize, const int *strides,
                        const char *padding) {
    return pool(g, "MaxPool", x, ksize, strides, padding);
}

tfc_output tfc_avg_pool(tfc_graph *g, tfc_output x, const int *ksize, const int *strides,
                        const char *padding) {
    return pool(g, "AvgPool", x, ksize, strides, padding);
}
