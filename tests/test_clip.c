/* Gradient clipping: values against plain loops on random data (clipped
 * and not), TensorFlow's NaN rule, sparse gradients staying sparse,
 * gradients through the clipping against finite differences, a training
 * step with clipped gradients, and misuse. */
#include "gradcheck.h"
#include "harness.h"

#include <math.h>
#include <stdlib.h>

static tfc_tensor *eval_fed(tfc_graph *g, tfc_output y, tfc_output *xs, tfc_tensor **vs, int n) {
    tfc_tensor *r = tfc_test_eval(g, y, xs, vs, n);
    CHECK(r != NULL);
    return r;
}

static void test_clip_by_value(void) {
    tfc_graph *g = tfc_graph_new();
    int64_t d[] = {7, 5};
    tfc_output x = tfc_placeholder(g, "x", TFC_FLOAT, 2, d);
    tfc_output y = tfc_clip_by_value(g, x, -0.3, 0.6);
    CHECK_GRAPH_OK(g);
    tfc_tensor *xv = tfc_test_random_tensor(TFC_FLOAT, 2, d, -1, 1);
    tfc_tensor *r = eval_fed(g, y, &x, &xv, 1);
    for (int64_t i = 0; r && i < 35; i++) {
        double v = tfc_test_get(xv, i), want = v < -0.3 ? -0.3 : v > 0.6 ? 0.6 : v;
        CHECK_NEAR(tfc_test_get(r, i), want, 1e-7);
    }
    tfc_tensor_free(r);
    tfc_tensor_free(xv);
    tfc_graph_free(g);
}

/* ||x|| above and below clip_norm, and a zero tensor. */
static void test_clip_by_norm(void) {
    double scales[] = {3.0, 0.05, 0.0};
    for (int k = 0; k < 3; k++) {
        tfc_graph *g = tfc_graph_new();
        int64_t d[] = {4, 6};
        tfc_output x = tfc_placeholder(g, "x", TFC_DOUBLE, 2, d);
        tfc_output y = tfc_clip_by_norm(g, x, 1.5);
        CHECK_GRAPH_OK(g);
        tfc_tensor *xv = tfc_test_random_tensor(TFC_DOUBLE, 2, d, -1, 1);
        double *p = tfc_tensor_data(xv), norm = 0;
        for (int i = 0; i < 24; i++) {
            p[i] *= scales[k];
            norm += p[i] * p[i];
        }
        norm = sqrt(norm);
        tfc_tensor *r = eval_fed(g, y, &x, &xv, 1);
        double f = norm > 1.5 ? 1.5 / norm : 1.0;
        for (int i = 0; r && i < 24; i++) CHECK_NEAR(tfc_test_get(r, i), p[i] * f, 1e-12);
        /* the gradient, even at zero, is finite and matches differences */
        if (k < 2) CHECK(tfc_test_gradcheck(g, y, &x, &xv, 1) < TFC_GRAD_TOL);
        tfc_output dx;
        tfc_output s = tfc_reduce_sum(g, y, NULL, 0, 0);
        CHECK(tfc_gradients(g, &s, 1, &x, 1, NULL, &dx) == 0);
        tfc_tensor *gr = eval_fed(g, dx, &x, &xv, 1);
        for (int i = 0; gr && i < 24; i++) CHECK(isfinite(tfc_test_get(gr, i)));
        tfc_tensor_free(gr);
        tfc_tensor_free(r);
        tfc_tensor_free(xv);
        tfc_graph_free(g);
    }
}

/* Three tensors (one null) scaled together; global norm above and below. */
static void test_clip_by_global_norm(void) {
    for (int big = 0; big < 2; big++) {
        tfc_graph *g = tfc_graph_new();
        int64_t d0[] = {3, 4}, d1[] = {5}, d2[] = {2, 2, 3};
        tfc_output xs[3] = {tfc_placeholder(g, "a", TFC_DOUBLE, 2, d0),
                            tfc_placeholder(g, "b", TFC_DOUBLE, 1, d1),
                            tfc_placeholder(g, "c", TFC_DOUBLE, 3, d2)};
        tfc_output in[4] = {xs[0], {NULL, 0}, xs[1], xs[2]}, out[4], norm;
        CHECK(tfc_clip_by_global_norm(g, in, 4, 2.0, out, &norm) == 0);
        CHECK_GRAPH_OK(g);
        CHECK(out[1].node == NULL);
        tfc_tensor *vs[3] = {tfc_test_random_tensor(TFC_DOUBLE, 2, d0, -1, 1),
                             tfc_test_random_tensor(TFC_DOUBLE, 1, d1, -1, 1),
                             tfc_test_random_tensor(TFC_DOUBLE, 3, d2, -1, 1)};
        double sq = 0;
        for (int t = 0; t < 3; t++) {
            double *p = tfc_tensor_data(vs[t]);
            for (int64_t i = 0; i < tfc_tensor_num_elements(vs[t]); i++) {
                if (!big) p[i] *= 0.1;
                sq += p[i] * p[i];
            }
        }
        double gn = sqrt(sq), f = gn > 2.0 ? 2.0 / gn : 1.0;
        tfc_tensor *n = eval_fed(g, norm, xs, vs, 3);
        if (n) CHECK_NEAR(tfc_test_get(n, 0), gn, 1e-12);
        int outi[3] = {0, 2, 3};
        for (int t = 0; t < 3; t++) {
            tfc_tensor *r = eval_fed(g, out[outi[t]], xs, vs, 3);
            for (int64_t i = 0; r && i < tfc_tensor_num_elements(vs[t]); i++)
                CHECK_NEAR(tfc_test_get(r, i), tfc_test_get(vs[t], i) * f, 1e-12);
            tfc_tensor_free(r);
        }
        /* gradients through the joint scaling */
        tfc_output sum = tfc_add(g, tfc_reduce_sum(g, tfc_square(g, out[0]), NULL, 0, 0),
                                 tfc_reduce_sum(g, tfc_tanh(g, out[3]), NULL, 0, 0));
        CHECK(tfc_test_gradcheck(g, sum, xs, vs, 3) < TFC_GRAD_TOL);
        tfc_tensor_free(n);
        for (int t = 0; t < 3; t++) tfc_tensor_free(vs[t]);
        tfc_graph_free(g);
    }
}

/* An infinite norm makes every output NaN, as in TensorFlow. */
static void test_global_norm_inf_gives_nan(void) {
    tfc_graph *g = tfc_graph_new();
    int64_t d[] = {3};
    tfc_output x = tfc_placeholder(g, "x", TFC_FLOAT, 1, d), y;
    CHECK(tfc_clip_by_global_norm(g, &x, 1, 1.0, &y, NULL) == 0);
    float v[] = {1.0f, INFINITY, 2.0f};
    tfc_tensor *xv = tfc_tensor_from_data(TFC_FLOAT, 1, d, v);
    tfc_tensor *r = eval_fed(g, y, &x, &xv, 1);
    for (int i = 0; r && i < 3; i++) CHECK(isnan(tfc_test_get(r, i)));
    tfc_tensor_free(r);
    tfc_tensor_free(xv);
    tfc_graph_free(g);
}

/* An embedding's sparse gradient is measured by its rows and stays sparse;
 * a training step with clipped gradients moves only the looked-up rows. */
static void test_sparse_gradient_clipped_and_applied(void) {
    tfc_graph *g = tfc_graph_new();
    tfc_graph_set_seed(g, 5);
    int64_t ed[] = {50, 4}, idd[] = {6};
    tfc_output emb = tfc_variable(g, "emb", tfc_random_uniform(g, TFC_FLOAT, 2, ed, -1, 1, 0));
    tfc_output ids = tfc_placeholder(g, "ids", TFC_INT32, 1, idd);
    tfc_output loss = tfc_reduce_sum(g, tfc_square(g, tfc_gather(g, emb, ids)), NULL, 0, 0);
    tfc_optimizer *opt = tfc_gradient_descent_optimizer(0.1);
    int n = 0;
    tfc_grad_and_var *gv = tfc_optimizer_compute_gradients(opt, g, loss, NULL, 0, &n);
    CHECK(gv && n == 1);
    tfc_output grad = gv[0].grad, clipped, norm;
    CHECK(tfc_clip_by_global_norm(g, &grad, 1, 0.5, &clipped, &norm) == 0);
    CHECK(tfc_gradient_sparse_parts(clipped, NULL, NULL) == 1);
    gv[0].grad = clipped;
    tfc_node *train = tfc_optimizer_apply_gradients(opt, g, gv, n, (tfc_output){NULL, 0});
    tfc_node *init = tfc_global_variables_initializer(g);
    CHECK_GRAPH_OK(g);
    tfc_status *st = tfc_status_new();
    tfc_session *s = tfc_session_new(g, NULL, st);
    tfc_session_run(s, NULL, NULL, 0, NULL, 0, NULL, &init, 1, st);
    int32_t idv[] = {3, 7, 3, 11, 40, 7};
    tfc_tensor *it = tfc_tensor_from_data(TFC_INT32, 1, idd, idv);
    tfc_tensor *before = tfc_session_run1(s, NULL, NULL, 0, emb, st);
    tfc_tensor *gn = tfc_session_run1(s, &ids, &it, 1, norm, st);
    tfc_session_run(s, &ids, &it, 1, NULL, 0, NULL, &train, 1, st);
    tfc_tensor *after = tfc_session_run1(s, NULL, NULL, 0, emb, st);
    CHECK_STATUS_OK(st);
    if (before && after && gn) {
        /* reference: per row, the summed gradient 2 * count * row, scaled
         * by 0.5 / norm of the rows' gradients (norm over the 6 gathered rows) */
        const float *b = tfc_tensor_data(before), *a = tfc_tensor_data(after);
        double sq = 0;
        for (int i = 0; i < 6; i++)
            for (int k = 0; k < 4; k++) sq += 4.0 * b[idv[i] * 4 + k] * b[idv[i] * 4 + k];
        double f = sqrt(sq) > 0.5 ? 0.5 / sqrt(sq) : 1.0;
        CHECK_NEAR(tfc_test_get(gn, 0), sqrt(sq), 1e-4);
        for (int r = 0; r < 50; r++) {
            int count = 0;
            for (int i = 0; i < 6; i++) count += idv[i] == r;
            for (int k = 0; k < 4; k++) {
                double want = b[r * 4 + k] - 0.1 * f * 2.0 * count * b[r * 4 + k];
                CHECK_NEAR(a[r * 4 + k], want, 1e-5);
            }
        }
    }
    tfc_tensor_free(before);
    tfc_tensor_free(after);
    tfc_tensor_free(gn);
    tfc_tensor_free(it);
    free(gv);
    tfc_session_free(s);
    tfc_status_free(st);
    tfc_optimizer_free(opt);
    tfc_graph_free(g);
}

static void test_clip_misuse(void) {
    tfc_graph *g = tfc_graph_new();
    tfc_output i = tfc_placeholder(g, "ints", TFC_INT32, 0, NULL);
    CHECK(tfc_clip_by_norm(g, i, 1.0).node == NULL);
    CHECK(tfc_graph_error(g) && strstr(tfc_graph_error(g), "ints") &&
          strstr(tfc_graph_error(g), "float"));
    tfc_graph_free(g);
    g = tfc_graph_new();
    tfc_output x = tfc_placeholder(g, "x", TFC_FLOAT, 0, NULL), y;
    CHECK(tfc_clip_by_global_norm(g, &x, 1, -1.0, &y, NULL) == -1);
    CHECK(tfc_graph_error(g) && strstr(tfc_graph_error(g), "clip_norm"));
    tfc_graph_free(g);
    g = tfc_graph_new();
    x = tfc_placeholder(g, "x", TFC_FLOAT, 0, NULL);
    CHECK(tfc_clip_by_value(g, x, 1.0, 0.0).node == NULL);
    CHECK(tfc_graph_error(g) && strstr(tfc_graph_error(g), "min_value"));
    tfc_graph_free(g);
    g = tfc_graph_new();
    tfc_output a = tfc_placeholder(g, "a", TFC_FLOAT, 0, NULL);
    tfc_output b = tfc_placeholder(g, "b", TFC_DOUBLE, 0, NULL);
    tfc_output ab[] = {a, b};
    CHECK(tfc_global_norm(g, ab, 2).node == NULL);
    CHECK(tfc_graph_error(g) && strstr(tfc_graph_error(g), "'b'"));
    tfc_graph_free(g);
}

TFC_TEST_MAIN(T(test_clip_by_value), T(test_clip_by_norm), T(test_clip_by_global_norm),
              T(test_global_norm_inf_gives_nan), T(test_sparse_gradient_clipped_and_applied),
              T(test_clip_misuse))
