/* The session option bfloat16_products (src/ops/bfloat16_products.c):
 * MatMul and Conv2D's three passes equal a float64 product of the operands
 * rounded to bfloat16 within float32 accumulation error (and differ from the
 * unrounded product, so the rounding happened), including the direct loops
 * oneDNN leaves to it (dilated windows); with the option off the float32
 * results are bit-identical to a session without options; an MLP trained
 * with it converges; the vector rounding equals the scalar one. */
#include "harness.h"

#include "core/half.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static double bf(float v) {
    return tfc_bfloat16_bits_to_float(tfc_float_to_bfloat16_bits(v));
}

/* Runs `fetch` on a new session whose bfloat16_products is `on` (-1: NULL
 * options). Caller frees. */
static tfc_tensor *run_with(tfc_graph *g, int on, tfc_output fetch, const tfc_output *feeds,
                            tfc_tensor *const *values, int nfeeds) {
    tfc_status *st = tfc_status_new();
    tfc_session_options o;
    memset(&o, 0, sizeof o);
    o.intra_op_threads = 2;
    o.bfloat16_products = on > 0;
    tfc_session *s = tfc_session_new(g, on < 0 ? NULL : &o, st);
    tfc_tensor *out = s ? tfc_session_run1(s, feeds, values, nfeeds, fetch, st) : NULL;
    CHECK_STATUS_OK(st);
    tfc_session_free(s);
    tfc_status_free(st);
    return out;
}

/* got[i] against ref[i] (float64 product of rounded operands) within
 * float32 accumulation error over `k` terms of absolute sum abs[i]; and
 * somewhere farther than that from exact[i] (the unrounded product). */
static void check_products(const char *what, const tfc_tensor *got, const double *ref,
                           const double *exact, const double *abs, int64_t n, int64_t k) {
    const float *y = tfc_tensor_data(got);
    double worst = 0, apart = 0;
    for (int64_t i = 0; i < n; i++) {
        double tol = (double)(k + 2) * ldexp(1.0, -23) * abs[i] + 1e-30;
        double e = fabs(y[i] - ref[i]) / tol;
        if (e > worst) worst = e;
        double a = fabs(y[i] - exact[i]) / tol;
        if (a > apart) apart = a;
    }
    CHECK_MSG(worst <= 1.0, "%s: off the bf16 reference by %.3g tolerances", what, worst);
    CHECK_MSG(apart > 20.0, "%s: no farther than %.3g tolerances from the float product", what,
              apart);
}

static void test_matmul(void) {
    tfc_test_seed(7);
    const int64_t m = 13, n = 21, k = 70;
    for (int ta = 0; ta < 2; ta++)
        for (int tb = 0; tb < 2; tb++) {
            tfc_graph *g = tfc_graph_new();
            int64_t ad[2] = {ta ? k : m, ta ? m : k}, bd[2] = {tb ? n : k, tb ? k : n};
            tfc_output a = tfc_placeholder(g, "a", TFC_FLOAT, 2, ad);
            tfc_output b = tfc_placeholder(g, "b", TFC_FLOAT, 2, bd);
            tfc_output y = tfc_matmul_ex(g, a, b, ta, tb);
            CHECK_GRAPH_OK(g);
            tfc_tensor *v[2] = {tfc_test_random_tensor(TFC_FLOAT, 2, ad, -2, 2),
                                tfc_test_random_tensor(TFC_FLOAT, 2, bd, -2, 2)};
            tfc_output feeds[2] = {a, b};
            tfc_tensor *got = run_with(g, 1, y, feeds, v, 2);
            double *ref = calloc((size_t)(m * n), sizeof(double));
            double *exact = calloc((size_t)(m * n), sizeof(double));
            double *abs = calloc((size_t)(m * n), sizeof(double));
            const float *av = tfc_tensor_data(v[0]), *bv = tfc_tensor_data(v[1]);
            for (int64_t i = 0; i < m; i++)
                for (int64_t j = 0; j < n; j++)
                    for (int64_t p = 0; p < k; p++) {
                        float x = av[ta ? p * m + i : i * k + p], w = bv[tb ? j * k + p : p * n + j];
                        ref[i * n + j] += bf(x) * bf(w);
                        exact[i * n + j] += (double)x * w;
                        abs[i * n + j] += fabs(bf(x) * bf(w));
                    }
            CHECK(got != NULL);
            if (got) check_products(ta ? (tb ? "matmul TT" : "matmul TN") : tb ? "matmul NT"
                                                                                : "matmul NN",
                                    got, ref, exact, abs, m * n, k);
            free(ref);
            free(exact);
            free(abs);
            tfc_tensor_free(got);
            tfc_tensor_free(v[0]);
            tfc_tensor_free(v[1]);
            tfc_graph_free(g);
        }
}

/* Conv2D of x [2, 7, 9, 8] with f [3, 3, 8, 5], and its two gradients for
 * an incoming gradient dy (as loss = sum(conv * dy)). */
static void check_conv(const int *strides, const char *padding, const int *dil) {
    int64_t xd[4] = {2, 7, 9, 8}, fd[4] = {3, 3, 8, 5};
    tfc_graph *g = tfc_graph_new();
    tfc_output x = tfc_placeholder(g, "x", TFC_FLOAT, 4, xd);
    tfc_output f = tfc_placeholder(g, "f", TFC_FLOAT, 4, fd);
    tfc_output y = tfc_conv2d_ex(g, x, f, strides, padding, dil);
    CHECK_GRAPH_OK(g);
    tfc_tensor *v[2] = {tfc_test_random_tensor(TFC_FLOAT, 4, xd, -1, 1),
                        tfc_test_random_tensor(TFC_FLOAT, 4, fd, -1, 1)};
    tfc_output feeds[3] = {x, f, {0}};
    tfc_tensor *fy = run_with(g, 1, y, feeds, v, 2);
    CHECK(fy != NULL);
    if (!fy) goto out_early;
    int64_t oh = tfc_tensor_dim(fy, 1), ow = tfc_tensor_dim(fy, 2), O = 5, C = 8, n = 2;
    int64_t yd[4] = {n, oh, ow, O};
    tfc_output dyp = tfc_placeholder(g, "dy", TFC_FLOAT, 4, yd);
    tfc_output loss = tfc_reduce_sum(g, tfc_mul(g, y, dyp), NULL, 0, 0);
    tfc_output xs[2] = {x, f}, gr[2];
    CHECK(tfc_gradients(g, &loss, 1, xs, 2, NULL, gr) == 0);
    CHECK_GRAPH_OK(g);
    tfc_tensor *dyv = tfc_test_random_tensor(TFC_FLOAT, 4, yd, -1, 1);
    tfc_tensor *vals[3] = {v[0], v[1], dyv};
    feeds[2] = dyp;
    tfc_tensor *gx = run_with(g, 1, gr[0], feeds, vals, 3);
    tfc_tensor *gf = run_with(g, 1, gr[1], feeds, vals, 3);
    CHECK(gx && gf);
    int64_t ny = tfc_tensor_num_elements(fy), nx = tfc_tensor_num_elements(v[0]), nf = tfc_tensor_num_elements(v[1]);
    double *r[3], *e[3], *a[3];
    int64_t sizes[3] = {ny, nx, nf};
    for (int i = 0; i < 3; i++) {
        r[i] = calloc((size_t)sizes[i], sizeof(double));
        e[i] = calloc((size_t)sizes[i], sizeof(double));
        a[i] = calloc((size_t)sizes[i], sizeof(double));
    }
    const float *xv = tfc_tensor_data(v[0]), *fv = tfc_tensor_data(v[1]), *dv = tfc_tensor_data(dyv);
    int64_t sh = strides[1], sw = strides[2], dh = dil ? dil[1] : 1, dw = dil ? dil[2] : 1;
    int64_t ph = 0, pw = 0;
    if (!strcmp(padding, "SAME")) {
        int64_t th = (oh - 1) * sh + (3 - 1) * dh + 1 - xd[1], tw = (ow - 1) * sw + (3 - 1) * dw + 1 - xd[2];
        ph = th > 0 ? th / 2 : 0;
        pw = tw > 0 ? tw / 2 : 0;
    }
    for (int64_t b = 0; b < n; b++)
        for (int64_t oy = 0; oy < oh; oy++)
            for (int64_t ox = 0; ox < ow; ox++)
                for (int64_t ky = 0; ky < 3; ky++)
                    for (int64_t kx = 0; kx < 3; kx++) {
                        int64_t iy = oy * sh - ph + ky * dh, ix = ox * sw - pw + kx * dw;
                        if (iy < 0 || iy >= xd[1] || ix < 0 || ix >= xd[2]) continue;
                        for (int64_t c = 0; c < C; c++)
                            for (int64_t o = 0; o < O; o++) {
                                int64_t yi = ((b * oh + oy) * ow + ox) * O + o;
                                int64_t xi = ((b * xd[1] + iy) * xd[2] + ix) * C + c;
                                int64_t fi = ((ky * 3 + kx) * C + c) * O + o;
                                float xx = xv[xi], ff = fv[fi], dd = dv[yi];
                                r[0][yi] += bf(xx) * bf(ff);
                                e[0][yi] += (double)xx * ff;
                                a[0][yi] += fabs(bf(xx) * bf(ff));
                                r[1][xi] += bf(dd) * bf(ff);
                                e[1][xi] += (double)dd * ff;
                                a[1][xi] += fabs(bf(dd) * bf(ff));
                                r[2][fi] += bf(xx) * bf(dd);
                                e[2][fi] += (double)xx * dd;
                                a[2][fi] += fabs(bf(xx) * bf(dd));
                            }
                    }
    check_products("conv forward", fy, r[0], e[0], a[0], ny, 9 * C);
    if (gx) check_products("conv backprop input", gx, r[1], e[1], a[1], nx, 9 * O);
    if (gf) check_products("conv backprop filter", gf, r[2], e[2], a[2], nf, n * oh * ow);
    for (int i = 0; i < 3; i++) {
        free(r[i]);
        free(e[i]);
        free(a[i]);
    }
    tfc_tensor_free(gx);
    tfc_tensor_free(gf);
    tfc_tensor_free(dyv);
    tfc_tensor_free(fy);
out_early:
    tfc_tensor_free(v[0]);
    tfc_tensor_free(v[1]);
    tfc_graph_free(g);
}

static void test_conv(void) {
    tfc_test_seed(11);
    static const int one[4] = {1, 1, 1, 1}, two[4] = {1, 2, 2, 1}, dil2[4] = {1, 2, 2, 1};
    check_conv(one, "SAME", NULL);
    check_conv(two, "VALID", NULL);
    check_conv(one, "SAME", dil2); /* oneDNN declines: the direct loops */
}

/* Off (zeroed options) and no options give the same bits, and those are
 * the float32 product (close to the float64 one, which bf16 is not). */
static void test_default_off(void) {
    tfc_test_seed(3);
    int64_t ad[2] = {31, 64}, bd[2] = {64, 17};
    tfc_graph *g = tfc_graph_new();
    tfc_output a = tfc_placeholder(g, "a", TFC_FLOAT, 2, ad);
    tfc_output b = tfc_placeholder(g, "b", TFC_FLOAT, 2, bd);
    tfc_output y = tfc_matmul(g, a, b);
    tfc_tensor *v[2] = {tfc_test_random_tensor(TFC_FLOAT, 2, ad, -1, 1),
                        tfc_test_random_tensor(TFC_FLOAT, 2, bd, -1, 1)};
    tfc_output feeds[2] = {a, b};
    tfc_tensor *none = run_with(g, -1, y, feeds, v, 2), *off = run_with(g, 0, y, feeds, v, 2);
    tfc_tensor *on = run_with(g, 1, y, feeds, v, 2);
    CHECK(none && off && on);
    if (none && off && on) {
        CHECK(memcmp(tfc_tensor_data(none), tfc_tensor_data(off), tfc_tensor_nbytes(off)) == 0);
        const float *av = tfc_tensor_data(v[0]), *bv = tfc_tensor_data(v[1]), *yo = tfc_tensor_data(off), *yb = tfc_tensor_data(on);
        double worst_off = 0, worst_on = 0;
        for (int i = 0; i < 31; i++)
            for (int j = 0; j < 17; j++) {
                double s = 0, sa = 0;
                for (int p = 0; p < 64; p++) {
                    s += (double)av[i * 64 + p] * bv[p * 17 + j];
                    sa += fabs((double)av[i * 64 + p] * bv[p * 17 + j]);
                }
                double tol = 66 * ldexp(1.0, -23) * sa;
                if (fabs(yo[i * 17 + j] - s) / tol > worst_off) worst_off = fabs(yo[i * 17 + j] - s) / tol;
                if (fabs(yb[i * 17 + j] - s) / tol > worst_on) worst_on = fabs(yb[i * 17 + j] - s) / tol;
            }
        CHECK_MSG(worst_off <= 1.0, "off: %.3g tolerances from the float product", worst_off);
        CHECK_MSG(worst_on > 20.0, "on: only %.3g tolerances from the float product", worst_on);
    }
    tfc_tensor_free(none);
    tfc_tensor_free(off);
    tfc_tensor_free(on);
    tfc_tensor_free(v[0]);
    tfc_tensor_free(v[1]);
    tfc_graph_free(g);
}

/* A 20-32-4 MLP learning a random linear teacher's argmax, by plain
 * gradient descent, in bf16 and in float32: both end with low loss and high
 * accuracy, and close to each other. */
static void train_mlp(int on, double *loss_out, double *acc_out) {
    tfc_test_seed(5);
    const int64_t N = 256, D = 20, H = 32, K = 4;
    int64_t xd[2] = {N, D}, td[2] = {D, K}, w1d[2] = {D, H}, w2d[2] = {H, K}, hb = H, kb = K;
    tfc_tensor *xv = tfc_test_random_tensor(TFC_FLOAT, 2, xd, -1, 1);
    tfc_tensor *teacher = tfc_test_random_tensor(TFC_FLOAT, 2, td, -1, 1);
    tfc_tensor *labels = tfc_tensor_new(TFC_INT32, 1, &N);
    const float *x = tfc_tensor_data(xv), *t = tfc_tensor_data(teacher);
    for (int64_t i = 0; i < N; i++) {
        int best = 0;
        double bv = -1e30;
        for (int c = 0; c < K; c++) {
            double s = 0;
            for (int d = 0; d < D; d++) s += x[i * D + d] * t[d * K + c];
            if (s > bv) bv = s, best = c;
        }
        ((int32_t *)tfc_tensor_data(labels))[i] = best;
    }
    tfc_graph *g = tfc_graph_new();
    tfc_tensor *w1v = tfc_test_random_tensor(TFC_FLOAT, 2, w1d, -0.4, 0.4);
    tfc_tensor *w2v = tfc_test_random_tensor(TFC_FLOAT, 2, w2d, -0.4, 0.4);
    tfc_tensor *b1v = tfc_test_random_tensor(TFC_FLOAT, 1, &hb, 0, 0);
    tfc_tensor *b2v = tfc_test_random_tensor(TFC_FLOAT, 1, &kb, 0, 0);
    tfc_output w1 = tfc_variable(g, "w1", tfc_const(g, w1v)), w2 = tfc_variable(g, "w2", tfc_const(g, w2v));
    tfc_output b1 = tfc_variable(g, "b1", tfc_const(g, b1v)), b2 = tfc_variable(g, "b2", tfc_const(g, b2v));
    tfc_output xp = tfc_placeholder(g, "x", TFC_FLOAT, 2, xd);
    tfc_output lp = tfc_placeholder(g, "labels", TFC_INT32, 1, &N);
    tfc_output h = tfc_relu(g, tfc_bias_add(g, tfc_matmul(g, xp, w1), b1));
    tfc_output logits = tfc_bias_add(g, tfc_matmul(g, h, w2), b2);
    tfc_output loss = tfc_reduce_mean(
        g, tfc_sparse_softmax_cross_entropy_with_logits(g, lp, logits), NULL, 0, 0);
    tfc_output correct = tfc_reduce_mean(
        g, tfc_cast(g, tfc_equal(g, tfc_cast(g, tfc_argmax(g, logits, 1), TFC_INT32), lp),
                    TFC_FLOAT), NULL, 0, 0);
    tfc_optimizer *opt = tfc_gradient_descent_optimizer(0.5);
    tfc_node *train = tfc_optimizer_minimize(opt, g, loss, NULL, 0, (tfc_output){0});
    tfc_node *init = tfc_global_variables_initializer(g);
    CHECK_GRAPH_OK(g);
    tfc_status *st = tfc_status_new();
    tfc_session_options o;
    memset(&o, 0, sizeof o);
    o.bfloat16_products = on;
    tfc_session *s = tfc_session_new(g, &o, st);
    tfc_session_run(s, NULL, NULL, 0, NULL, 0, NULL, &init, 1, st);
    tfc_output feeds[2] = {xp, lp};
    tfc_tensor *vals[2] = {xv, labels};
    for (int step = 0; step < 300 && tfc_status_code(st) == TFC_OK; step++)
        tfc_session_run(s, feeds, vals, 2, NULL, 0, NULL, &train, 1, st);
    tfc_output fetch[2] = {loss, correct};
    tfc_tensor *res[2] = {NULL, NULL};
    tfc_session_run(s, feeds, vals, 2, fetch, 2, res, NULL, 0, st);
    CHECK_STATUS_OK(st);
    *loss_out = res[0] ? tfc_test_get(res[0], 0) : 1e9;
    *acc_out = res[1] ? tfc_test_get(res[1], 0) : 0;
    tfc_tensor_free(res[0]);
    tfc_tensor_free(res[1]);
    tfc_session_free(s);
    tfc_status_free(st);
    tfc_optimizer_free(opt);
    tfc_graph_free(g);
    tfc_tensor *own[] = {xv, teacher, labels, w1v, w2v, b1v, b2v};
    for (int i = 0; i < 7; i++) tfc_tensor_free(own[i]);
}

static void test_mlp_converges(void) {
    double lf, af, lb, ab;
    train_mlp(0, &lf, &af);
    train_mlp(1, &lb, &ab);
    CHECK_MSG(lb < 0.35 && ab > 0.9, "bf16: loss %.4f, accuracy %.3f", lb, ab);
    CHECK_MSG(lf < 0.35 && af > 0.9, "float32: loss %.4f, accuracy %.3f", lf, af);
    CHECK_MSG(fabs(lb - lf) < 0.05 && lb != lf, "bf16 loss %.5f against float32 %.5f", lb, lf);
}

/* The vector rounding (operand copies) against the scalar conversion, on
 * ties, carries into the exponent, infinities, NaN and subnormals. */
static void test_round_vector(void) {
    const uint32_t bits[] = {0x3f808000u, 0x3f818000u, 0x3f80ffffu, 0x7f7fffffu, 0xff7fffffu,
                             0x7f800000u, 0xff800000u, 0x7fc00001u, 0x7f800001u, 0x00008000u,
                             0x00018000u, 0x80000000u, 0x00000000u, 0x3f7fffffu, 0xbf808001u};
    enum { N = sizeof bits / sizeof bits[0] };
    float in[N], out[N];
    memcpy(in, bits, sizeof in);
    tfc_round_to_bfloat16_n(in, out, N);
    for (int i = 0; i < N; i++) {
        uint32_t got, want = (uint32_t)tfc_float_to_bfloat16_bits(in[i]) << 16;
        memcpy(&got, &out[i], sizeof got);
        CHECK_MSG(got == want, "0x%08x: 0x%08x, expected 0x%08x", bits[i], got, want);
    }
}

TFC_TEST_MAIN(T(test_matmul), T(test_conv), T(test_default_off), T(test_mlp_converges),
              T(test_round_vector))
