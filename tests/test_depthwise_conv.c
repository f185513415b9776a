/* DepthwiseConv2dNative and its two backprops: kernels against plain
 * reference loops on random data (float32 and float64; multipliers 1 and
 * more, strides, paddings, dilations, odd sizes), the same bits at any
 * thread count, gradients and second derivatives against finite
 * differences, and misuse errors that name the node. */
#include "gradcheck.h"
#include "harness.h"
#include "window_ref.h"

#include <stdlib.h>

typedef struct cfg {
    int64_t n, h, w, c, m, fh, fw, sh, sw, dh, dw;
    int same;
} cfg;

static const cfg CFGS[] = {
    {2, 5, 5, 3, 1, 3, 3, 1, 1, 1, 1, 1},
    {1, 7, 6, 2, 3, 3, 2, 2, 2, 1, 1, 1},
    {2, 6, 7, 3, 2, 2, 3, 2, 1, 1, 1, 0},
    {1, 8, 8, 2, 2, 3, 3, 1, 1, 2, 2, 1}, /* dilated */
    {1, 9, 7, 3, 1, 3, 2, 1, 2, 2, 3, 0}, /* dilated, VALID */
    {3, 5, 5, 4, 1, 1, 1, 1, 1, 1, 1, 0}, /* 1x1 */
    {1, 9, 7, 1, 4, 4, 4, 3, 2, 1, 1, 0}, /* one channel, window larger than stride */
    {2, 4, 4, 3, 2, 5, 5, 1, 1, 1, 1, 1}, /* window larger than the image */
    {2, 5, 6, 5, 1, 2, 2, 1, 1, 1, 1, 1}, /* odd total padding: one more after */
    {1, 6, 5, 2, 3, 2, 2, 3, 3, 1, 1, 1},
    {1, 7, 7, 37, 1, 3, 3, 2, 2, 1, 1, 1}, /* many channels: the vector loop's tail */
    {35, 3, 4, 3, 2, 2, 2, 1, 1, 1, 1, 0}, /* more images than filter-gradient blocks */
};
#define NCFG ((int)(sizeof CFGS / sizeof *CFGS))

/* Input, filter and output dims of a configuration. */
static void cfg_dims(const cfg *k, int64_t *xd, int64_t *fd, int64_t *yd) {
    int64_t oh, ow, pad;
    out_size(k->h, k->fh, k->sh, k->dh, k->same, &oh, &pad);
    out_size(k->w, k->fw, k->sw, k->dw, k->same, &ow, &pad);
    set4(xd, k->n, k->h, k->w, k->c);
    set4(fd, k->fh, k->fw, k->c, k->m);
    set4(yd, k->n, oh, ow, k->c * k->m);
}

/* y = depthwise_conv(x, f); dx and df are the backprops of dy. Written
 * from the definition: output channel k*m + q reads input channel k. */
static void ref_dw(const cfg *k, const double *x, const double *f, const double *dy, double *y,
                   double *dx, double *df) {
    int64_t oh, ow, ph, pw;
    out_size(k->h, k->fh, k->sh, k->dh, k->same, &oh, &ph);
    out_size(k->w, k->fw, k->sw, k->dw, k->same, &ow, &pw);
    memset(dx, 0, sizeof(double) * (size_t)(k->n * k->h * k->w * k->c));
    memset(df, 0, sizeof(double) * (size_t)(k->fh * k->fw * k->c * k->m));
    for (int64_t b = 0; b < k->n; b++)
        for (int64_t oy = 0; oy < oh; oy++)
            for (int64_t ox = 0; ox < ow; ox++)
                for (int64_t ch = 0; ch < k->c; ch++)
                    for (int64_t q = 0; q < k->m; q++) {
                        int64_t oc = ch * k->m + q;
                        int64_t yi = ((b * oh + oy) * ow + ox) * (k->c * k->m) + oc;
                        double acc = 0;
                        for (int64_t ky = 0; ky < k->fh; ky++)
                            for (int64_t kx = 0; kx < k->fw; kx++) {
                                int64_t iy = oy * k->sh + ky * k->dh - ph;
                                int64_t ix = ox * k->sw + kx * k->dw - pw;
                                if (iy < 0 || iy >= k->h || ix < 0 || ix >= k->w) continue;
                                int64_t xi = ((b * k->h + iy) * k->w + ix) * k->c + ch;
                                int64_t fi = ((ky * k->fw + kx) * k->c + ch) * k->m + q;
                                acc += x[xi] * f[fi];
                                dx[xi] += dy[yi] * f[fi];
                                df[fi] += dy[yi] * x[xi];
                            }
                        y[yi] = acc;
                    }
}

static void dw_attrs(tfc_op_desc *d, const cfg *k) {
    int64_t s[4], dl[4];
    set4(s, 1, k->sh, k->sw, 1);
    set4(dl, 1, k->dh, k->dw, 1);
    tfc_op_set_attr_int_list(d, "strides", s, 4);
    tfc_op_set_attr_int_list(d, "dilations", dl, 4);
    tfc_op_set_attr_string(d, "padding", k->same ? "SAME" : "VALID");
}

static tfc_output dw_op(tfc_graph *g, const char *type, tfc_output a, tfc_output b, tfc_output c,
                        int n, const cfg *k) {
    tfc_op_desc *d = tfc_op_new(g, type, NULL);
    tfc_op_add_input(d, a);
    tfc_op_add_input(d, b);
    if (n == 3) tfc_op_add_input(d, c);
    dw_attrs(d, k);
    return tfc_out(tfc_op_finish(d), 0);
}

static tfc_output sizes_const(tfc_graph *g, const int64_t *dims) {
    int32_t v[4] = {(int32_t)dims[0], (int32_t)dims[1], (int32_t)dims[2], (int32_t)dims[3]};
    return tfc_const_ints(g, v, 4);
}

/* Runs `fetch` with `threads` intra-op threads. */
static tfc_tensor *eval_threads(tfc_graph *g, tfc_output fetch, const tfc_output *feeds,
                                tfc_tensor *const *vals, int nfeeds, int threads) {
    tfc_session_options o;
    memset(&o, 0, sizeof o);
    o.intra_op_threads = threads;
    tfc_status *st = tfc_status_new();
    tfc_session *s = tfc_session_new(g, &o, st);
    tfc_tensor *out = s ? tfc_session_run1(s, feeds, vals, nfeeds, fetch, st) : NULL;
    CHECK_STATUS_OK(st);
    tfc_session_free(s);
    tfc_status_free(st);
    return out;
}

static int same_bits(const tfc_tensor *a, const tfc_tensor *b) {
    return a && b && tfc_tensor_nbytes(a) == tfc_tensor_nbytes(b) &&
           memcmp(tfc_tensor_data(a), tfc_tensor_data(b), tfc_tensor_nbytes(a)) == 0;
}

static void test_depthwise_forward_and_backprops(void) {
    tfc_dtype types[2] = {TFC_FLOAT, TFC_DOUBLE};
    for (int ti = 0; ti < 2; ti++)
        for (int ci = 0; ci < NCFG; ci++) {
            const cfg *k = &CFGS[ci];
            tfc_dtype dt = types[ti];
            double tol = dt == TFC_FLOAT ? 1e-5 : 1e-12;
            int64_t xd[4], fd[4], yd[4];
            cfg_dims(k, xd, fd, yd);
            tfc_tensor *xt = tfc_test_random_tensor(dt, 4, xd, -1, 1);
            tfc_tensor *ft = tfc_test_random_tensor(dt, 4, fd, -1, 1);
            tfc_tensor *dyt = tfc_test_random_tensor(dt, 4, yd, -1, 1);
            double *x = to_doubles(xt), *f = to_doubles(ft), *dy = to_doubles(dyt);
            int64_t ny = yd[0] * yd[1] * yd[2] * yd[3], nx = k->n * k->h * k->w * k->c,
                    nf = k->fh * k->fw * k->c * k->m;
            double *y = malloc(sizeof(double) * (size_t)ny);
            double *dx = malloc(sizeof(double) * (size_t)nx);
            double *df = malloc(sizeof(double) * (size_t)nf);
            ref_dw(k, x, f, dy, y, dx, df);

            tfc_graph *g = tfc_graph_new();
            tfc_output xp = tfc_placeholder(g, "x", dt, 4, xd);
            tfc_output fp = tfc_placeholder(g, "f", dt, 4, fd);
            tfc_output dyp = tfc_placeholder(g, "dy", dt, 4, yd);
            tfc_output yo = dw_op(g, "DepthwiseConv2dNative", xp, fp, fp, 2, k);
            tfc_output dxo =
                dw_op(g, "DepthwiseConv2dNativeBackpropInput", sizes_const(g, xd), fp, dyp, 3, k);
            tfc_output dfo =
                dw_op(g, "DepthwiseConv2dNativeBackpropFilter", xp, sizes_const(g, fd), dyp, 3, k);
            CHECK_GRAPH_OK(g);
            tfc_shape ys = tfc_output_shape(yo), dxs = tfc_output_shape(dxo),
                      dfs = tfc_output_shape(dfo);
            CHECK(ys.rank == 4 && memcmp(ys.dims, yd, sizeof yd) == 0);
            CHECK(dxs.rank == 4 && memcmp(dxs.dims, xd, sizeof xd) == 0);
            CHECK(dfs.rank == 4 && memcmp(dfs.dims, fd, sizeof fd) == 0);

            tfc_output feeds[3] = {xp, fp, dyp};
            tfc_tensor *vals[3] = {xt, ft, dyt};
            tfc_output outs[3] = {yo, dxo, dfo};
            const double *want[3] = {y, dx, df};
            int64_t sizes[3] = {ny, nx, nf};
            static const char *what[3] = {"forward", "backprop input", "backprop filter"};
            for (int o = 0; o < 3; o++) {
                tfc_tensor *one = eval_threads(g, outs[o], feeds, vals, 3, 1);
                tfc_tensor *four = eval_threads(g, outs[o], feeds, vals, 3, 4);
                CHECK_MSG(compare(one, want[o], sizes[o]) <= tol * (o == 2 ? 10 : 1),
                          "%s cfg %d %s", what[o], ci, tfc_dtype_name(dt));
                CHECK_MSG(same_bits(one, four), "%s cfg %d %s: 1 and 4 threads differ", what[o], ci,
                          tfc_dtype_name(dt));
                tfc_tensor_free(one);
                tfc_tensor_free(four);
            }
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

/* Gradients w.r.t. input and filter, through the public helpers; odd
 * configurations have a batch of unknown size, so the gradient reads the
 * input's shape with a Shape node. */
static void test_depthwise_gradcheck(void) {
    static const cfg small[] = {
        {2, 4, 4, 2, 1, 3, 3, 1, 1, 1, 1, 1}, {1, 5, 4, 2, 3, 2, 3, 2, 2, 1, 1, 0},
        {1, 6, 5, 2, 2, 2, 2, 1, 1, 2, 2, 1}, {2, 3, 3, 3, 2, 1, 1, 1, 1, 1, 1, 0},
        {1, 5, 6, 3, 2, 3, 2, 2, 1, 1, 1, 1},
    };
    for (int ci = 0; ci < (int)(sizeof small / sizeof *small); ci++) {
        const cfg *k = &small[ci];
        int64_t xd[4], fd[4], yd[4], xdyn[4];
        cfg_dims(k, xd, fd, yd);
        set4(xdyn, ci % 2 ? -1 : k->n, k->h, k->w, k->c);
        tfc_graph *g = tfc_graph_new();
        tfc_output x = tfc_placeholder(g, "x", TFC_DOUBLE, 4, xdyn);
        tfc_output f = tfc_placeholder(g, "f", TFC_DOUBLE, 4, fd);
        int st[4] = {1, (int)k->sh, (int)k->sw, 1}, dl[4] = {1, (int)k->dh, (int)k->dw, 1};
        const char *pad = k->same ? "SAME" : "VALID";
        tfc_output y = k->dh > 1 ? tfc_depthwise_conv2d_ex(g, x, f, st, pad, dl)
                                 : tfc_depthwise_conv2d(g, x, f, st, pad);
        CHECK_GRAPH_OK(g);
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

/* The backprops' own gradients (second derivatives of a depthwise net). */
static void test_depthwise_backprop_gradcheck(void) {
    static const cfg ks[] = {
        {2, 4, 5, 2, 3, 3, 2, 2, 1, 1, 1, 1},
        {1, 6, 6, 3, 1, 2, 2, 1, 1, 2, 1, 0},
    };
    for (int ci = 0; ci < 2; ci++)
        for (int which = 0; which < 2; which++) {
            const cfg *k = &ks[ci];
            int64_t xd[4], fd[4], yd[4];
            cfg_dims(k, xd, fd, yd);
            tfc_graph *g = tfc_graph_new();
            tfc_output a = tfc_placeholder(g, "a", TFC_DOUBLE, 4, which ? xd : fd);
            tfc_output dy = tfc_placeholder(g, "dy", TFC_DOUBLE, 4, yd);
            tfc_output y = which ? dw_op(g, "DepthwiseConv2dNativeBackpropFilter", a,
                                         sizes_const(g, fd), dy, 3, k)
                                 : dw_op(g, "DepthwiseConv2dNativeBackpropInput",
                                         sizes_const(g, xd), a, dy, 3, k);
            CHECK_GRAPH_OK(g);
            tfc_output xs[2] = {a, dy};
            tfc_tensor *v[2] = {tfc_test_random_tensor(TFC_DOUBLE, 4, which ? xd : fd, -1, 1),
                                tfc_test_random_tensor(TFC_DOUBLE, 4, yd, -1, 1)};
            double err = tfc_test_gradcheck(g, y, xs, v, 2);
            CHECK_MSG(err < TFC_GRAD_TOL, "cfg %d %s: %g", ci, which ? "filter" : "input", err);
            tfc_tensor_free(v[0]);
            tfc_tensor_free(v[1]);
            tfc_graph_free(g);
        }
}

/* Partial shapes flow through: unknown spatial dims stay unknown, the
 * output depth is known from the filter alone. */
static void test_depthwise_partial_shapes(void) {
    tfc_graph *g = tfc_graph_new();
    int64_t xd[4] = {-1, -1, 7, 3}, fd[4] = {3, 3, 3, 2};
    int s2[4] = {1, 2, 2, 1};
    tfc_output x = tfc_placeholder(g, "x", TFC_FLOAT, 4, xd);
    tfc_output f = tfc_placeholder(g, "f", TFC_FLOAT, 4, fd);
    tfc_output y = tfc_depthwise_conv2d(g, x, f, s2, "SAME");
    tfc_output xu = tfc_placeholder(g, "xu", TFC_FLOAT, -1, NULL);
    tfc_output yu = tfc_depthwise_conv2d(g, xu, f, s2, "VALID");
    CHECK_GRAPH_OK(g);
    tfc_shape s = tfc_output_shape(y);
    CHECK(s.rank == 4 && s.dims[0] == -1 && s.dims[1] == -1 && s.dims[2] == 4 && s.dims[3] == 6);
    s = tfc_output_shape(yu);
    CHECK(s.rank == 4 && s.dims[0] == -1 && s.dims[1] == -1 && s.dims[3] == 6);
    tfc_graph_free(g);
}

/* ---- misuse ---- */

static void test_depthwise_misuse(void) {
    tfc_graph *g = tfc_graph_new();
    int64_t xd[4] = {1, 5, 5, 3}, fd[4] = {3, 3, 2, 2}, fok[4] = {3, 3, 3, 2}, bad3[3] = {5, 5, 3};
    int s1[4] = {1, 1, 1, 1}, s3[4] = {2, 1, 1, 1};
    tfc_output x = tfc_placeholder(g, "x", TFC_FLOAT, 4, xd);
    tfc_output f = tfc_placeholder(g, "f", TFC_FLOAT, 4, fd);
    tfc_output fo = tfc_placeholder(g, "fok", TFC_FLOAT, 4, fok);
    tfc_output x3 = tfc_placeholder(g, "x3", TFC_FLOAT, 3, bad3);
    tfc_output xi = tfc_placeholder(g, "xi", TFC_INT32, 4, xd);
    tfc_output xdbl = tfc_placeholder(g, "xdbl", TFC_DOUBLE, 4, xd);

    tfc_with_name(g, "dw_depth");
    CHECK(tfc_depthwise_conv2d(g, x, f, s1, "SAME").node == NULL);
    expect_build_error(g, "dw_depth", "in_channels");
    tfc_with_name(g, "dw_rank");
    CHECK(tfc_depthwise_conv2d(g, x3, fo, s1, "SAME").node == NULL);
    expect_build_error(g, "dw_rank", "4-dimensional");
    tfc_with_name(g, "dw_frank");
    CHECK(tfc_depthwise_conv2d(g, x, x3, s1, "SAME").node == NULL);
    expect_build_error(g, "dw_frank", "filter must be 4-dimensional");
    tfc_with_name(g, "dw_pad");
    CHECK(tfc_depthwise_conv2d(g, x, fo, s1, "FULL").node == NULL);
    expect_build_error(g, "dw_pad", "padding");
    tfc_with_name(g, "dw_stride");
    CHECK(tfc_depthwise_conv2d(g, x, fo, s3, "SAME").node == NULL);
    expect_build_error(g, "dw_stride", "strides");
    tfc_with_name(g, "dw_nostride");
    CHECK(tfc_depthwise_conv2d(g, x, fo, NULL, "SAME").node == NULL);
    expect_build_error(g, "dw_nostride", "strides");
    tfc_with_name(g, "dw_int");
    CHECK(tfc_depthwise_conv2d(g, xi, fo, s1, "SAME").node == NULL);
    expect_build_error(g, "dw_int", "float");
    tfc_with_name(g, "dw_mixed");
    CHECK(tfc_depthwise_conv2d(g, xdbl, fo, s1, "SAME").node == NULL);
    expect_build_error(g, "dw_mixed", "dw_mixed");
    int64_t big[4] = {9, 9, 3, 1};
    tfc_output fb = tfc_placeholder(g, "fbig", TFC_FLOAT, 4, big);
    tfc_with_name(g, "dw_neg");
    CHECK(tfc_depthwise_conv2d(g, x, fb, s1, "VALID").node == NULL);
    expect_build_error(g, "dw_neg", "negative");

    tfc_op_desc *d = tfc_op_new(g, "DepthwiseConv2dNative", "dw_nchw");
    tfc_op_add_input(d, x);
    tfc_op_add_input(d, fo);
    int64_t s64[4] = {1, 1, 1, 1};
    tfc_op_set_attr_int_list(d, "strides", s64, 4);
    tfc_op_set_attr_string(d, "padding", "SAME");
    tfc_op_set_attr_string(d, "data_format", "NCHW");
    CHECK(tfc_op_finish(d) == NULL);
    expect_build_error(g, "dw_nchw", "NHWC");

    /* backprops: the out_backprop's shape must be the forward output's */
    cfg k = {1, 5, 5, 3, 2, 3, 3, 1, 1, 1, 1, 1};
    int64_t wrong[4] = {1, 5, 5, 5};
    tfc_output dyw = tfc_placeholder(g, "dyw", TFC_FLOAT, 4, wrong);
    tfc_output xsz = sizes_const(g, xd), fsz = sizes_const(g, fok);
    tfc_with_name(g, "dw_bi_dy");
    CHECK(dw_op(g, "DepthwiseConv2dNativeBackpropInput", xsz, fo, dyw, 3, &k).node == NULL);
    expect_build_error(g, "dw_bi_dy", "out_backprop");
    tfc_with_name(g, "dw_bf_dy");
    CHECK(dw_op(g, "DepthwiseConv2dNativeBackpropFilter", x, fsz, dyw, 3, &k).node == NULL);
    expect_build_error(g, "dw_bf_dy", "out_backprop");
    tfc_with_name(g, "dw_bi_sizes");
    CHECK(dw_op(g, "DepthwiseConv2dNativeBackpropInput", fo, fo, dyw, 3, &k).node == NULL);
    expect_build_error(g, "dw_bi_sizes", "a shape");
    int64_t yd[4] = {1, 5, 5, 6};
    tfc_output dyd = tfc_placeholder(g, "dyd", TFC_DOUBLE, 4, yd);
    tfc_with_name(g, "dw_bf_type");
    CHECK(dw_op(g, "DepthwiseConv2dNativeBackpropFilter", x, fsz, dyd, 3, &k).node == NULL);
    expect_build_error(g, "dw_bf_type", "out_backprop must have the input's type");

    /* shapes only known at run time: the kernel reports, naming the node */
    int64_t unk[4] = {-1, -1, -1, -1};
    tfc_output xu = tfc_placeholder(g, "xu", TFC_FLOAT, 4, unk);
    tfc_output fu = tfc_placeholder(g, "fu", TFC_FLOAT, 4, unk);
    tfc_with_name(g, "dw_late");
    tfc_output y = tfc_depthwise_conv2d(g, xu, fu, s1, "SAME");
    tfc_output dyu = tfc_placeholder(g, "dyu", TFC_FLOAT, 4, unk);
    tfc_with_name(g, "dw_late_bi");
    tfc_output bi = dw_op(g, "DepthwiseConv2dNativeBackpropInput", xsz, fu, dyu, 3, &k);
    CHECK_GRAPH_OK(g);
    tfc_tensor *xv = tfc_test_random_tensor(TFC_FLOAT, 4, xd, -1, 1);
    tfc_tensor *fv = tfc_test_random_tensor(TFC_FLOAT, 4, fd, -1, 1);
    tfc_tensor *fov = tfc_test_random_tensor(TFC_FLOAT, 4, fok, -1, 1);
    tfc_tensor *dyv = tfc_test_random_tensor(TFC_FLOAT, 4, wrong, -1, 1);
    tfc_status *st = tfc_status_new();
    tfc_session *s = tfc_session_new(g, NULL, st);
    tfc_output feeds[2] = {xu, fu};
    tfc_tensor *vals[2] = {xv, fv};
    tfc_tensor *out = tfc_session_run1(s, feeds, vals, 2, y, st);
    CHECK(out == NULL);
    CHECK(tfc_status_code(st) == TFC_INVALID_ARGUMENT);
    CHECK_CONTAINS(tfc_status_message(st), "dw_late");
    CHECK_CONTAINS(tfc_status_message(st), "in_channels");
    tfc_output feeds2[2] = {fu, dyu};
    tfc_tensor *vals2[2] = {fov, dyv};
    out = tfc_session_run1(s, feeds2, vals2, 2, bi, st);
    CHECK(out == NULL);
    CHECK(tfc_status_code(st) == TFC_INVALID_ARGUMENT);
    CHECK_CONTAINS(tfc_status_message(st), "dw_late_bi");
    CHECK_CONTAINS(tfc_status_message(st), "out_backprop has shape [1,5,5,5]");
    tfc_session_free(s);
    tfc_status_free(st);
    tfc_tensor_free(xv);
    tfc_tensor_free(fv);
    tfc_tensor_free(fov);
    tfc_tensor_free(dyv);
    tfc_graph_free(g);
}

TFC_TEST_MAIN(T(test_depthwise_forward_and_backprops), T(test_depthwise_gradcheck),
              T(test_depthwise_backprop_gradcheck), T(test_depthwise_partial_shapes),
              T(test_depthwise_misuse))
