/* Conv2D, its two backprops, MaxPool and AvgPool with their gradients:
 * kernels against plain reference loops on random data (float32 and
 * float64, several shapes, strides, paddings and dilations), gradients
 * against finite differences, and misuse errors that name the node. */
#include "gradcheck.h"
#include "harness.h"
#include "window_ref.h"
#include "tile_widths.h"

#include <stdlib.h>

typedef struct cfg {
    int64_t n, h, w, c, fh, fw, o, sh, sw, dh, dw;
    int same;
} cfg;

static const cfg CONV_CFGS[] = {
    {2, 5, 5, 3, 3, 3, 4, 1, 1, 1, 1, 1},
    {1, 7, 6, 2, 3, 2, 3, 2, 2, 1, 1, 1},
    {2, 6, 7, 3, 2, 3, 2, 2, 1, 1, 1, 0},
    {1, 8, 8, 2, 3, 3, 2, 1, 1, 2, 2, 1},
    {3, 5, 5, 4, 1, 1, 5, 1, 1, 1, 1, 0},
    {1, 9, 7, 1, 4, 4, 2, 3, 2, 1, 2, 0},
    {2, 4, 4, 3, 5, 5, 2, 1, 1, 1, 1, 1},
    {1, 6, 5, 2, 2, 2, 3, 3, 3, 1, 1, 1},
    {2, 5, 6, 2, 2, 2, 3, 1, 1, 1, 1, 1}, /* odd total padding: one more after */
    {1, 5, 5, 2, 4, 4, 2, 1, 1, 1, 1, 1},
    {1, 7, 7, 2, 3, 3, 2, 2, 2, 2, 1, 1},
    {3, 40, 40, 24, 5, 5, 2, 1, 1, 1, 1, 1}, /* ~4 MiB of columns per image: several chunks */
    /* float32 through oneDNN's primitives (conv_dnnl.c; backward-data from
     * 8 input channels): batches cut into 4 chunks with a shorter last one,
     * batch 1, odd sizes and channel counts, SAME with odd padding, VALID
     * with strides that leave pixels over, 1x1, the CNN's second layer */
    {7, 9, 11, 8, 3, 3, 16, 1, 1, 1, 1, 1},
    {5, 10, 9, 16, 3, 3, 8, 2, 2, 1, 1, 0},
    {1, 7, 7, 8, 5, 5, 12, 1, 1, 1, 1, 1},
    {6, 13, 11, 9, 4, 3, 7, 3, 2, 1, 1, 1},
    {4, 8, 8, 32, 1, 1, 16, 1, 1, 1, 1, 0},
    {9, 12, 12, 1, 5, 5, 32, 1, 1, 1, 1, 1},
    {2, 11, 10, 12, 3, 5, 10, 2, 3, 1, 1, 0},
    {3, 14, 14, 32, 5, 5, 64, 1, 1, 1, 1, 1},
    /* the tiles' filter gradient sums an image's rows in pieces of 256 */
    {1, 300, 3, 4, 3, 3, 5, 1, 1, 1, 1, 1},
};
#define NCONV ((int)(sizeof CONV_CFGS / sizeof *CONV_CFGS))

/* y = conv(x, f); dx and df are the backprops of dy (any may be NULL). */
static void ref_conv(const cfg *k, const double *x, const double *f, const double *dy,
                     double *y, double *dx, double *df) {
    int64_t oh, ow, ph, pw;
    out_size(k->h, k->fh, k->sh, k->dh, k->same, &oh, &ph);
    out_size(k->w, k->fw, k->sw, k->dw, k->same, &ow, &pw);
    if (dx) memset(dx, 0, sizeof(double) * (size_t)(k->n * k->h * k->w * k->c));
    if (df) memset(df, 0, sizeof(double) * (size_t)(k->fh * k->fw * k->c * k->o));
    for (int64_t b = 0; b < k->n; b++)
        for (int64_t oy = 0; oy < oh; oy++)
            for (int64_t ox = 0; ox < ow; ox++)
                for (int64_t o = 0; o < k->o; o++) {
                    int64_t yi = ((b * oh + oy) * ow + ox) * k->o + o;
                    double acc = 0;
                    for (int64_t ky = 0; ky < k->fh; ky++)
                        for (int64_t kx = 0; kx < k->fw; kx++) {
                            int64_t iy = oy * k->sh + ky * k->dh - ph;
                            int64_t ix = ox * k->sw + kx * k->dw - pw;
                            if (iy < 0 || iy >= k->h || ix < 0 || ix >= k->w) continue;
                            for (int64_t ci = 0; ci < k->c; ci++) {
                                int64_t xi = ((b * k->h + iy) * k->w + ix) * k->c + ci;
                                int64_t fi = ((ky * k->fw + kx) * k->c + ci) * k->o + o;
                                if (y) acc += x[xi] * f[fi];
                                if (dx) dx[xi] += dy[yi] * f[fi];
                                if (df) df[fi] += dy[yi] * x[xi];
                            }
                        }
                    if (y) y[yi] = acc;
                }
}

static void conv_attrs(tfc_op_desc *d, const cfg *k) {
    int64_t s[4], dl[4];
    set4(s, 1, k->sh, k->sw, 1);
    set4(dl, 1, k->dh, k->dw, 1);
    tfc_op_set_attr_int_list(d, "strides", s, 4);
    tfc_op_set_attr_int_list(d, "dilations", dl, 4);
    tfc_op_set_attr_string(d, "padding", k->same ? "SAME" : "VALID");
}

static void check_conv_kernels(void) {
    tfc_dtype types[2] = {TFC_FLOAT, TFC_DOUBLE};
    for (int ti = 0; ti < 2; ti++)
        for (int ci = 0; ci < NCONV; ci++) {
            const cfg *k = &CONV_CFGS[ci];
            tfc_dtype dt = types[ti];
            /* float32 sums of more than 400 products round more; an input
             * gradient's sums run over the output channels */
            double terms = (double)(k->fh * k->fw * k->c), tol = dt == TFC_FLOAT ? 1e-5 : 1e-12;
            double terms_dx = (double)(k->fh * k->fw * k->o), tol_dx = tol;
            if (dt == TFC_FLOAT && terms > 400) tol *= terms / 400;
            if (dt == TFC_FLOAT && terms_dx > 400) tol_dx *= terms_dx / 400;
            int64_t oh, ow, pad, xd[4], fd[4], yd[4];
            out_size(k->h, k->fh, k->sh, k->dh, k->same, &oh, &pad);
            out_size(k->w, k->fw, k->sw, k->dw, k->same, &ow, &pad);
            set4(xd, k->n, k->h, k->w, k->c);
            set4(fd, k->fh, k->fw, k->c, k->o);
            set4(yd, k->n, oh, ow, k->o);
            tfc_tensor *xt = tfc_test_random_tensor(dt, 4, xd, -1, 1);
            tfc_tensor *ft = tfc_test_random_tensor(dt, 4, fd, -1, 1);
            tfc_tensor *dyt = tfc_test_random_tensor(dt, 4, yd, -1, 1);
            double *x = to_doubles(xt), *f = to_doubles(ft), *dy = to_doubles(dyt);
            int64_t ny = k->n * oh * ow * k->o, nx = k->n * k->h * k->w * k->c,
                    nf = k->fh * k->fw * k->c * k->o;
            double *y = malloc(sizeof(double) * (size_t)ny), *dx = malloc(sizeof(double) * (size_t)nx),
                   *df = malloc(sizeof(double) * (size_t)nf);
            ref_conv(k, x, f, dy, y, dx, df);

            tfc_graph *g = tfc_graph_new();
            tfc_output xp = tfc_placeholder(g, "x", dt, 4, xd);
            tfc_output fp = tfc_placeholder(g, "f", dt, 4, fd);
            tfc_output dyp = tfc_placeholder(g, "dy", dt, 4, yd);
            tfc_op_desc *d = tfc_op_new(g, "Conv2D", NULL);
            tfc_op_add_input(d, xp);
            tfc_op_add_input(d, fp);
            conv_attrs(d, k);
            tfc_output yo = tfc_out(tfc_op_finish(d), 0);
            int32_t xs32[4] = {(int32_t)xd[0], (int32_t)xd[1], (int32_t)xd[2], (int32_t)xd[3]};
            int32_t fs32[4] = {(int32_t)fd[0], (int32_t)fd[1], (int32_t)fd[2], (int32_t)fd[3]};
            d = tfc_op_new(g, "Conv2DBackpropInput", NULL);
            tfc_op_add_input(d, tfc_const_ints(g, xs32, 4));
            tfc_op_add_input(d, fp);
            tfc_op_add_input(d, dyp);
            conv_attrs(d, k);
            tfc_output dxo = tfc_out(tfc_op_finish(d), 0);
            d = tfc_op_new(g, "Conv2DBackpropFilter", NULL);
            tfc_op_add_input(d, xp);
            tfc_op_add_input(d, tfc_const_ints(g, fs32, 4));
            tfc_op_add_input(d, dyp);
            conv_attrs(d, k);
            tfc_output dfo = tfc_out(tfc_op_finish(d), 0);
            CHECK_GRAPH_OK(g);
            tfc_shape ys = tfc_output_shape(yo);
            CHECK(ys.rank == 4 && ys.dims[1] == oh && ys.dims[2] == ow && ys.dims[3] == k->o);

            tfc_output feeds[3] = {xp, fp, dyp};
            tfc_tensor *vals[3] = {xt, ft, dyt};
            tfc_tensor *got = tfc_test_eval(g, yo, feeds, vals, 3);
            CHECK_MSG(compare(got, y, ny) <= tol, "conv cfg %d %s (tiles %d wide)", ci,
                      tfc_dtype_name(dt), tfc_tile_width());
            tfc_tensor_free(got);
            got = tfc_test_eval(g, dxo, feeds, vals, 3);
            CHECK_MSG(compare(got, dx, nx) <= tol_dx, "backprop input cfg %d %s (tiles %d wide)", ci,
                      tfc_dtype_name(dt), tfc_tile_width());
            tfc_tensor_free(got);
            got = tfc_test_eval(g, dfo, feeds, vals, 3);
            CHECK_MSG(compare(got, df, nf) <= tol * 10, "backprop filter cfg %d %s (tiles %d wide)",
                      ci, tfc_dtype_name(dt), tfc_tile_width());
            tfc_tensor_free(got);
            tfc_graph_free(g);
            free(x);
            free(f);
            free(dy);
            free(y);
            free(dx);
            free(df);
            tfc_tensor_free(xt);
            tfc_tensor_free(ft);
            tfc_tensor_free(dyt);
        }
}

/* on each tile width the CPU has, and on the libraries' paths (oneDNN's
 * primitives, im2col) that CPUs without AVX-512 take */
static void test_conv2d_forward_and_backprops(void) {
    int widths[3], nw = tile_widths_to_try(widths, 1);
    for (int i = 0; i < nw; i++) {
        CHECK(tfc_tile_use_width(widths[i]) == widths[i]);
        check_conv_kernels();
    }
    tfc_tile_use_width(-1);
}

/* Conv2D built with a batch of unknown size, so its gradient reads the
 * input shape with a Shape node. */
static tfc_output conv_node(tfc_graph *g, tfc_output x, tfc_output f, const cfg *k) {
    tfc_op_desc *d = tfc_op_new(g, "Conv2D", NULL);
    tfc_op_add_input(d, x);
    tfc_op_add_input(d, f);
    conv_attrs(d, k);
    return tfc_out(tfc_op_finish(d), 0);
}

/* Conv2D and both backprops give bit-identical float32 results at 1, 2
 * and 3 intra-op threads: every element's sum runs in one order whatever
 * the thread that runs it (the tiles), or the batch's cut into oneDNN
 * calls and the order the filter gradient sums their parts in depend only
 * on the shapes (oneDNN). The AVX2 and AVX-512 tiles agree too. */
static void test_conv_same_bits_at_any_thread_count(void) {
    const cfg k = {11, 12, 10, 16, 3, 3, 24, 1, 1, 1, 1, 1};
    int64_t oh, ow, pad, xd[4], fd[4], yd[4];
    out_size(k.h, k.fh, k.sh, k.dh, k.same, &oh, &pad);
    out_size(k.w, k.fw, k.sw, k.dw, k.same, &ow, &pad);
    set4(xd, k.n, k.h, k.w, k.c);
    set4(fd, k.fh, k.fw, k.c, k.o);
    set4(yd, k.n, oh, ow, k.o);
    tfc_graph *g = tfc_graph_new();
    tfc_output xp = tfc_placeholder(g, "x", TFC_FLOAT, 4, xd);
    tfc_output fp = tfc_placeholder(g, "f", TFC_FLOAT, 4, fd);
    tfc_output dyp = tfc_placeholder(g, "dy", TFC_FLOAT, 4, yd);
    tfc_output y = conv_node(g, xp, fp, &k);
    tfc_output dx, df;
    tfc_output grads[2];
    tfc_output xs[2] = {xp, fp};
    CHECK(tfc_gradients(g, &y, 1, xs, 2, &dyp, grads) == 0);
    dx = grads[0];
    df = grads[1];
    CHECK_GRAPH_OK(g);
    tfc_tensor *vals[3] = {tfc_test_random_tensor(TFC_FLOAT, 4, xd, -1, 1),
                           tfc_test_random_tensor(TFC_FLOAT, 4, fd, -1, 1),
                           tfc_test_random_tensor(TFC_FLOAT, 4, yd, -1, 1)};
    tfc_output feeds[3] = {xp, fp, dyp}, fetches[3] = {y, dx, df};
    tfc_tensor *first[3] = {NULL};
    int widths[3], nw = tile_widths_to_try(widths, 1);
    /* each width with 1, 2 and 3 threads; the tiles' widths against the first */
    for (int run = 0; run < 3 * nw; run++) {
        int threads = 1 + run % 3, width = widths[run / 3];
        if (run % 3 == 0 && width == 0) { /* oneDNN: its own bits, a new first */
            for (int i = 0; i < 3; i++) tfc_tensor_free(first[i]), first[i] = NULL;
        }
        CHECK(tfc_tile_use_width(width) == width);
        tfc_session_options o = {.intra_op_threads = threads, .inter_op_threads = threads};
        tfc_status *st = tfc_status_new();
        tfc_session *s = tfc_session_new(g, &o, st);
        tfc_tensor *got[3] = {NULL};
        tfc_session_run(s, feeds, vals, 3, fetches, 3, got, NULL, 0, st);
        CHECK_STATUS_OK(st);
        for (int i = 0; i < 3 && got[0]; i++) {
            if (!first[i]) {
                first[i] = got[i];
                continue;
            }
            CHECK_MSG(tfc_tensor_nbytes(got[i]) == tfc_tensor_nbytes(first[i]) &&
                          memcmp(tfc_tensor_data(got[i]), tfc_tensor_data(first[i]),
                                 tfc_tensor_nbytes(got[i])) == 0,
                      "output %d differs at %d threads (tiles %d wide)", i, threads, width);
            tfc_tensor_free(got[i]);
        }
        tfc_session_free(s);
        tfc_status_free(st);
    }
    tfc_tile_use_width(-1);
    for (int i = 0; i < 3; i++) {
        tfc_tensor_free(first[i]);
        tfc_tensor_free(vals[i]);
    }
    tfc_graph_free(g);
}

static void test_conv2d_gradcheck(void) {
    static const cfg small[] = {
        {2, 4, 4, 2, 3, 3, 2, 1, 1, 1, 1, 1},
        {1, 5, 4, 2, 2, 3, 3, 2, 2, 1, 1, 0},
        {1, 5, 5, 1, 2, 2, 2, 1, 1, 2, 2, 1},
        {2, 3, 3, 3, 1, 1, 2, 1, 1, 1, 1, 0},
        {1, 4, 5, 2, 2, 2, 2, 1, 1, 1, 1, 1},
    };
    for (int ci = 0; ci < 5; ci++) {
        const cfg *k = &small[ci];
        int64_t xd[4], fd[4], xdyn[4];
        set4(xd, k->n, k->h, k->w, k->c);
        set4(xdyn, ci % 2 ? -1 : k->n, k->h, k->w, k->c);
        set4(fd, k->fh, k->fw, k->c, k->o);
        tfc_graph *g = tfc_graph_new();
        tfc_output x = tfc_placeholder(g, "x", TFC_DOUBLE, 4, xdyn);
        tfc_output f = tfc_placeholder(g, "f", TFC_DOUBLE, 4, fd);
        tfc_output y = conv_node(g, x, f, k);
        tfc_output xs[2] = {x, f};
        tfc_tensor *v[2] = {tfc_test_random_tensor(TFC_DOUBLE, 4, xd, -1, 1),
                            tfc_test_random_tensor(TFC_DOUBLE, 4, fd, -1, 1)};
        double err = tfc_test_gradcheck(g, y, xs, v, 2);
        CHECK_MSG(err < TFC_GRAD_TOL, "cfg %d: %g", ci, err);
        tfc_tensor_free(v[0]);
        tfc_tensor_free(v[1]);
        tfc_graph_free(g);
    }
}

/* The backprops' own gradients (second derivatives of a conv net). */
static void test_conv_backprop_gradcheck(void) {
    cfg k = {2, 4, 5, 2, 3, 2, 3, 2, 1, 1, 1, 1};
    int64_t oh, ow, pad, xd[4], fd[4], yd[4];
    out_size(k.h, k.fh, k.sh, 1, 1, &oh, &pad);
    out_size(k.w, k.fw, k.sw, 1, 1, &ow, &pad);
    set4(xd, k.n, k.h, k.w, k.c);
    set4(fd, k.fh, k.fw, k.c, k.o);
    set4(yd, k.n, oh, ow, k.o);
    for (int which = 0; which < 2; which++) {
        tfc_graph *g = tfc_graph_new();
        tfc_output a = tfc_placeholder(g, "a", TFC_DOUBLE, 4, which ? xd : fd);
        tfc_output dy = tfc_placeholder(g, "dy", TFC_DOUBLE, 4, yd);
        int32_t s32[4];
        for (int i = 0; i < 4; i++) s32[i] = (int32_t)(which ? fd[i] : xd[i]);
        tfc_op_desc *d = tfc_op_new(g, which ? "Conv2DBackpropFilter" : "Conv2DBackpropInput",
                                    NULL);
        if (which) {
            tfc_op_add_input(d, a);
            tfc_op_add_input(d, tfc_const_ints(g, s32, 4));
        } else {
            tfc_op_add_input(d, tfc_const_ints(g, s32, 4));
            tfc_op_add_input(d, a);
        }
        tfc_op_add_input(d, dy);
        conv_attrs(d, &k);
        tfc_output y = tfc_out(tfc_op_finish(d), 0);
        tfc_output xs[2] = {a, dy};
        tfc_tensor *v[2] = {tfc_test_random_tensor(TFC_DOUBLE, 4, which ? xd : fd, -1, 1),
                            tfc_test_random_tensor(TFC_DOUBLE, 4, yd, -1, 1)};
        double err = tfc_test_gradcheck(g, y, xs, v, 2);
        CHECK_MSG(err < TFC_GRAD_TOL, "%s: %g", which ? "filter" : "input", err);
        tfc_tensor_free(v[0]);
        tfc_tensor_free(v[1]);
        tfc_graph_free(g);
    }
}

/* ---- pooling ---- */

typedef struct pcfg {
    int64_t n, h, w, c, kh, kw, sh, sw;
    int same;
} pcfg;

static const pcfg POOL_CFGS[] = {
    {2, 6, 6, 3, 2, 2, 2, 2, 0}, {1, 7, 5, 2, 3, 3, 2, 2, 1}, {2, 5, 6, 2, 3, 2, 1, 1, 1},
    {1, 8, 7, 1, 3, 3, 3, 2, 0}, {3, 4, 4, 4, 4, 4, 1, 1, 1}, {1, 5, 5, 2, 1, 1, 2, 2, 1},
    {1, 5, 4, 70, 2, 2, 2, 2, 1}, /* channels span two blocks of the max-pool gradient */
    /* windows that tile the input (MaxPoolGrad's direct path): padded, odd sizes */
    {2, 7, 5, 33, 2, 2, 2, 2, 1}, {2, 6, 9, 5, 3, 3, 3, 3, 1},
    {1, 7, 7, 3, 2, 2, 2, 2, 0}, /* VALID leaves a row and a column out: not a tiling */
    /* 2 x 2 windows inside even sizes (the CNNs'): the gradient's own kernel */
    {2, 8, 6, 37, 2, 2, 2, 2, 1},
};
#define NPOOL ((int)(sizeof POOL_CFGS / sizeof *POOL_CFGS))

/* Max (avg = 0) or average pooling of x into y, and the gradients of dy
 * into dx. */
static void ref_pool(const pcfg *k, int avg, const double *x, const double *dy, double *y,
                     double *dx) {
    int64_t oh, ow, ph, pw;
    out_size(k->h, k->kh, k->sh, 1, k->same, &oh, &ph);
    out_size(k->w, k->kw, k->sw, 1, k->same, &ow, &pw);
    memset(dx, 0, sizeof(double) * (size_t)(k->n * k->h * k->w * k->c));
    for (int64_t b = 0; b < k->n; b++)
        for (int64_t oy = 0; oy < oh; oy++)
            for (int64_t ox = 0; ox < ow; ox++)
                for (int64_t ch = 0; ch < k->c; ch++) {
                    double best = -INFINITY, sum = 0;
                    int64_t at = -1, count = 0;
                    for (int64_t ky = 0; ky < k->kh; ky++)
                        for (int64_t kx = 0; kx < k->kw; kx++) {
                            int64_t iy = oy * k->sh + ky - ph, ix = ox * k->sw + kx - pw;
                            if (iy < 0 || iy >= k->h || ix < 0 || ix >= k->w) continue;
                            int64_t xi = ((b * k->h + iy) * k->w + ix) * k->c + ch;
                            if (x[xi] > best) {
                                best = x[xi];
                                at = xi;
                            }
                            sum += x[xi];
                            count++;
                        }
                    int64_t yi = ((b * oh + oy) * ow + ox) * k->c + ch;
                    y[yi] = avg ? sum / (double)count : best;
                    if (!avg) {
                        dx[at] += dy[yi];
                        continue;
                    }
                    for (int64_t ky = 0; ky < k->kh; ky++)
                        for (int64_t kx = 0; kx < k->kw; kx++) {
                            int64_t iy = oy * k->sh + ky - ph, ix = ox * k->sw + kx - pw;
                            if (iy < 0 || iy >= k->h || ix < 0 || ix >= k->w) continue;
                            dx[((b * k->h + iy) * k->w + ix) * k->c + ch] += dy[yi] / (double)count;
                        }
                }
}

static void pool_attrs(tfc_op_desc *d, const pcfg *k) {
    int64_t ks[4], s[4];
    set4(ks, 1, k->kh, k->kw, 1);
    set4(s, 1, k->sh, k->sw, 1);
    tfc_op_set_attr_int_list(d, "ksize", ks, 4);
    tfc_op_set_attr_int_list(d, "strides", s, 4);
    tfc_op_set_attr_string(d, "padding", k->same ? "SAME" : "VALID");
}

/* With ties (`ties`: inputs rounded to integers), max pooling's gradient
 * goes to each window's first maximum. */
static void test_pool_forward_and_grad_kernels(void) {
    tfc_dtype types[2] = {TFC_FLOAT, TFC_DOUBLE};
    for (int ties = 0; ties < 2; ties++)
    for (int avg = 0; avg < 2; avg++)
        for (int ti = 0; ti < 2; ti++)
            for (int ci = 0; ci < NPOOL; ci++) {
                const pcfg *k = &POOL_CFGS[ci];
                tfc_dtype dt = types[ti];
                double tol = dt == TFC_FLOAT ? 1e-6 : 1e-13;
                int64_t oh, ow, pad, xd[4], yd[4];
                out_size(k->h, k->kh, k->sh, 1, k->same, &oh, &pad);
                out_size(k->w, k->kw, k->sw, 1, k->same, &ow, &pad);
                set4(xd, k->n, k->h, k->w, k->c);
                set4(yd, k->n, oh, ow, k->c);
                tfc_tensor *xt = tfc_test_random_tensor(dt, 4, xd, -2, 2);
                tfc_tensor *dyt = tfc_test_random_tensor(dt, 4, yd, -1, 1);
                for (int64_t i = 0; ties && i < tfc_tensor_num_elements(xt); i++)
                    if (dt == TFC_FLOAT)
                        ((float *)tfc_tensor_data(xt))[i] = roundf(((float *)tfc_tensor_data(xt))[i]);
                    else
                        ((double *)tfc_tensor_data(xt))[i] = round(((double *)tfc_tensor_data(xt))[i]);
                double *x = to_doubles(xt), *dy = to_doubles(dyt);
                int64_t ny = k->n * oh * ow * k->c, nx = k->n * k->h * k->w * k->c;
                double *y = malloc(sizeof(double) * (size_t)ny);
                double *dx = malloc(sizeof(double) * (size_t)nx);
                ref_pool(k, avg, x, dy, y, dx);

                tfc_graph *g = tfc_graph_new();
                tfc_output xp = tfc_placeholder(g, "x", dt, 4, xd);
                tfc_output dyp = tfc_placeholder(g, "dy", dt, 4, yd);
                tfc_op_desc *d = tfc_op_new(g, avg ? "AvgPool" : "MaxPool", NULL);
                tfc_op_add_input(d, xp);
                pool_attrs(d, k);
                tfc_output yo = tfc_out(tfc_op_finish(d), 0);
                d = tfc_op_new(g, avg ? "AvgPoolGrad" : "MaxPoolGrad", NULL);
                if (avg) {
                    int32_t s32[4] = {(int32_t)xd[0], (int32_t)xd[1], (int32_t)xd[2],
                                      (int32_t)xd[3]};
                    tfc_op_add_input(d, tfc_const_ints(g, s32, 4));
                } else {
                    tfc_op_add_input(d, xp);
                    tfc_op_add_input(d, yo);
                }
                tfc_op_add_input(d, dyp);
                pool_attrs(d, k);
                tfc_output dxo = tfc_out(tfc_op_finish(d), 0);
                CHECK_GRAPH_OK(g);
                tfc_shape ys = tfc_output_shape(yo);
                CHECK(ys.rank == 4 && ys.dims[1] == oh && ys.dims[2] == ow);
                tfc_output feeds[2] = {xp, dyp};
                tfc_tensor *vals[2] = {xt, dyt};
                tfc_tensor *got = tfc_test_eval(g, yo, feeds, vals, 2);
                CHECK_MSG(compare(got, y, ny) <= tol, "%s cfg %d %s ties %d", avg ? "avg" : "max", ci,
                          tfc_dtype_name(dt), ties);
                tfc_tensor_free(got);
                got = tfc_test_eval(g, dxo, feeds, vals, 2);
                CHECK_MSG(compare(got, dx, nx) <= tol, "%s grad cfg %d %s ties %d",
                          avg ? "avg" : "max", ci, tfc_dtype_name(dt), ties);
                tfc_tensor_free(got);
                tfc_graph_free(g);
                free(x);
                free(dy);
                free(y);
                free(dx);
                tfc_tensor_free(xt);
                tfc_tensor_free(dyt);
            }
}

static void test_pool_gradcheck(void) {
    for (int avg = 0; avg < 2; avg++)
        for (int ci = 0; ci < 4; ci++) {
            const pcfg *k = &POOL_CFGS[ci];
            int64_t xd[4], xdyn[4];
            set4(xd, k->n, k->h, k->w, k->c);
            set4(xdyn, avg ? -1 : k->n, k->h, k->w, k->c);
            tfc_graph *g = tfc_graph_new();
            tfc_output x = tfc_placeholder(g, "x", TFC_DOUBLE, 4, xdyn);
            int ks[4] = {1, (int)k->kh, (int)k->kw, 1}, st[4] = {1, (int)k->sh, (int)k->sw, 1};
            tfc_output y = avg ? tfc_avg_pool(g, x, ks, st, k->same ? "SAME" : "VALID")
                               : tfc_max_pool(g, x, ks, st, k->same ? "SAME" : "VALID");
            tfc_tensor *v = tfc_test_random_tensor(TFC_DOUBLE, 4, xd, -1, 1);
            double err = tfc_test_gradcheck(g, y, &x, &v, 1);
            CHECK_MSG(err < TFC_GRAD_TOL, "%s cfg %d: %g", avg ? "avg" : "max", ci, err);
            tfc_tensor_free(v);
            tfc_graph_free(g);
        }
}

/* AvgPoolGrad's gradient (used when differentiating twice). */
static void test_avg_pool_grad_gradcheck(void) {
    const pcfg *k = &POOL_CFGS[1];
    int64_t oh, ow, pad, yd[4];
    out_size(k->h, k->kh, k->sh, 1, k->same, &oh, &pad);
    out_size(k->w, k->kw, k->sw, 1, k->same, &ow, &pad);
    set4(yd, k->n, oh, ow, k->c);
    tfc_graph *g = tfc_graph_new();
    tfc_output dy = tfc_placeholder(g, "dy", TFC_DOUBLE, 4, yd);
    int32_t s32[4] = {(int32_t)k->n, (int32_t)k->h, (int32_t)k->w, (int32_t)k->c};
    tfc_op_desc *d = tfc_op_new(g, "AvgPoolGrad", NULL);
    tfc_op_add_input(d, tfc_const_ints(g, s32, 4));
    tfc_op_add_input(d, dy);
    pool_attrs(d, k);
    tfc_output y = tfc_out(tfc_op_finish(d), 0);
    tfc_tensor *v = tfc_test_random_tensor(TFC_DOUBLE, 4, yd, -1, 1);
    double err = tfc_test_gradcheck(g, y, &dy, &v, 1);
    CHECK_MSG(err < TFC_GRAD_TOL, "%g", err);
    tfc_tensor_free(v);
    tfc_graph_free(g);
}

/* MaxPoolGrad's gradient is MaxPoolGradGrad and back (second derivatives
 * through max pooling), both checked with the maxima held fixed. */
static void test_max_pool_second_order(void) {
    const pcfg *k = &POOL_CFGS[1];
    int64_t oh, ow, pad, xd[4], yd[4];
    out_size(k->h, k->kh, k->sh, 1, k->same, &oh, &pad);
    out_size(k->w, k->kw, k->sw, 1, k->same, &ow, &pad);
    set4(xd, k->n, k->h, k->w, k->c);
    set4(yd, k->n, oh, ow, k->c);
    for (int which = 0; which < 2; which++) {
        tfc_graph *g = tfc_graph_new();
        tfc_tensor *xt = tfc_test_random_tensor(TFC_DOUBLE, 4, xd, -1, 1);
        tfc_output x = tfc_const(g, xt);
        int ks[4] = {1, (int)k->kh, (int)k->kw, 1}, st[4] = {1, (int)k->sh, (int)k->sw, 1};
        tfc_output y = tfc_max_pool(g, x, ks, st, k->same ? "SAME" : "VALID");
        tfc_output gin = tfc_placeholder(g, "gin", TFC_DOUBLE, 4, which ? xd : yd);
        tfc_op_desc *d = tfc_op_new(g, which ? "MaxPoolGradGrad" : "MaxPoolGrad", NULL);
        tfc_op_add_input(d, x);
        tfc_op_add_input(d, y);
        tfc_op_add_input(d, gin);
        pool_attrs(d, k);
        tfc_output out = tfc_out(tfc_op_finish(d), 0);
        CHECK_GRAPH_OK(g);
        tfc_tensor *v = tfc_test_random_tensor(TFC_DOUBLE, 4, which ? xd : yd, -1, 1);
        if (which) {
            /* reference: each output takes gin at its window's maximum, which is
             * where MaxPoolGrad sends a one-hot gradient */
            int64_t ny = k->n * oh * ow * k->c, nx = k->n * k->h * k->w * k->c;
            double *xv = to_doubles(xt), *gv = to_doubles(v);
            double *yr = malloc(sizeof(double) * (size_t)ny), *dx = malloc(sizeof(double) * (size_t)nx);
            double *want = calloc((size_t)ny, sizeof *want), *onehot = calloc((size_t)ny, sizeof *onehot);
            for (int64_t i = 0; i < ny; i++) {
                onehot[i] = 1;
                ref_pool(k, 0, xv, onehot, yr, dx);
                for (int64_t j = 0; j < nx; j++) want[i] += dx[j] * gv[j];
                onehot[i] = 0;
            }
            tfc_tensor *got = tfc_test_eval(g, out, &gin, &v, 1);
            CHECK(compare(got, want, ny) < 1e-12);
            tfc_tensor_free(got);
            free(xv);
            free(gv);
            free(yr);
            free(dx);
            free(want);
            free(onehot);
        }
        double err = tfc_test_gradcheck(g, out, &gin, &v, 1);
        CHECK_MSG(err < TFC_GRAD_TOL, "%s: %g", which ? "MaxPoolGradGrad" : "MaxPoolGrad", err);
        tfc_tensor_free(v);
        tfc_tensor_free(xt);
        tfc_graph_free(g);
    }
}

/* ---- misuse ---- */

static void test_conv_misuse(void) {
    tfc_graph *g = tfc_graph_new();
    int64_t xd[4] = {1, 5, 5, 3}, fd[4] = {3, 3, 2, 4}, bad3[3] = {5, 5, 3};
    int s1[4] = {1, 1, 1, 1}, s3[4] = {2, 1, 1, 1}, k2[4] = {1, 2, 2, 1};
    tfc_output x = tfc_placeholder(g, "x", TFC_FLOAT, 4, xd);
    tfc_output f = tfc_placeholder(g, "f", TFC_FLOAT, 4, fd);
    tfc_output x3 = tfc_placeholder(g, "x3", TFC_FLOAT, 3, bad3);
    tfc_output xi = tfc_placeholder(g, "xi", TFC_INT32, 4, xd);

    tfc_with_name(g, "conv_depth");
    CHECK(tfc_conv2d(g, x, f, s1, "SAME").node == NULL);
    expect_build_error(g, "conv_depth", "in_channels");
    tfc_with_name(g, "conv_rank");
    CHECK(tfc_conv2d(g, x3, f, s1, "SAME").node == NULL);
    expect_build_error(g, "conv_rank", "4-dimensional");
    tfc_with_name(g, "conv_pad");
    CHECK(tfc_conv2d(g, x, f, s1, "FULL").node == NULL);
    expect_build_error(g, "conv_pad", "padding");
    tfc_with_name(g, "conv_stride");
    CHECK(tfc_conv2d(g, x, f, s3, "SAME").node == NULL);
    expect_build_error(g, "conv_stride", "strides");
    tfc_with_name(g, "conv_nostride");
    CHECK(tfc_conv2d(g, x, f, NULL, "SAME").node == NULL);
    expect_build_error(g, "conv_nostride", "strides");
    tfc_with_name(g, "pool_int");
    CHECK(tfc_max_pool(g, xi, k2, k2, "VALID").node == NULL);
    expect_build_error(g, "pool_int", "float");
    int64_t big[4] = {9, 9, 3, 1};
    tfc_output fb = tfc_placeholder(g, "fbig", TFC_FLOAT, 4, big);
    tfc_with_name(g, "conv_neg");
    CHECK(tfc_conv2d(g, x, fb, s1, "VALID").node == NULL);
    expect_build_error(g, "conv_neg", "negative");

    /* shapes only known at run time: the kernel reports, naming the node */
    int64_t unk[4] = {-1, -1, -1, -1};
    tfc_output xu = tfc_placeholder(g, "xu", TFC_FLOAT, 4, unk);
    tfc_output fu = tfc_placeholder(g, "fu", TFC_FLOAT, 4, unk);
    tfc_with_name(g, "conv_late");
    tfc_output y = tfc_conv2d(g, xu, fu, s1, "SAME");
    CHECK_GRAPH_OK(g);
    tfc_tensor *xv = tfc_test_random_tensor(TFC_FLOAT, 4, xd, -1, 1);
    tfc_tensor *fv = tfc_test_random_tensor(TFC_FLOAT, 4, fd, -1, 1);
    tfc_status *st = tfc_status_new();
    tfc_session *s = tfc_session_new(g, NULL, st);
    tfc_output feeds[2] = {xu, fu};
    tfc_tensor *vals[2] = {xv, fv};
    tfc_tensor *out = tfc_session_run1(s, feeds, vals, 2, y, st);
    CHECK(out == NULL);
    CHECK(tfc_status_code(st) == TFC_INVALID_ARGUMENT);
    CHECK_CONTAINS(tfc_status_message(st), "conv_late");
    CHECK_CONTAINS(tfc_status_message(st), "in_channels");
    tfc_session_free(s);
    tfc_status_free(st);
    tfc_tensor_free(xv);
    tfc_tensor_free(fv);
    tfc_graph_free(g);
}

TFC_TEST_MAIN(T(test_conv2d_forward_and_backprops), T(test_conv2d_gradcheck),
              T(test_conv_backprop_gradcheck), T(test_pool_forward_and_grad_kernels),
              T(test_pool_gradcheck), T(test_avg_pool_grad_gradcheck), T(test_max_pool_second_order),
              T(test_conv_misuse), T(test_conv_same_bits_at_any_thread_count))
