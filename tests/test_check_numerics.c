/* CheckNumerics and add_check_numerics_ops: values pass through unchanged,
 * NaN and Inf fail the run with TensorFlow's message naming the node, the
 * gradient is checked on the way back, and a whole training graph is
 * guarded by one op. */
#include "gradcheck.h"
#include "harness.h"

#include <math.h>
#include <string.h>

static void run_expect(tfc_graph *g, tfc_output x, tfc_tensor *xv, tfc_output fetch,
                       const char *want1, const char *want2) {
    tfc_status *st = tfc_status_new();
    tfc_session *s = tfc_session_new(g, NULL, st);
    tfc_tensor *r = tfc_session_run1(s, &x, &xv, 1, fetch, st);
    if (!want1) {
        CHECK_STATUS_OK(st);
    } else {
        CHECK(r == NULL && tfc_status_code(st) == TFC_INVALID_ARGUMENT);
        CHECK_MSG(strstr(tfc_status_message(st), want1) != NULL, "%s", tfc_status_message(st));
        if (want2)
            CHECK_MSG(strstr(tfc_status_message(st), want2) != NULL, "%s",
                      tfc_status_message(st));
    }
    tfc_tensor_free(r);
    tfc_session_free(s);
    tfc_status_free(st);
}

static void test_passes_values_through(void) {
    tfc_dtype dts[] = {TFC_FLOAT, TFC_DOUBLE};
    for (int k = 0; k < 2; k++) {
        tfc_graph *g = tfc_graph_new();
        int64_t d[] = {9, 7};
        tfc_output x = tfc_placeholder(g, "x", dts[k], 2, d);
        tfc_output y = tfc_check_numerics(g, x, "x is fine");
        CHECK_GRAPH_OK(g);
        tfc_shape ys = tfc_output_shape(y);
        CHECK(ys.rank == 2 && ys.dims[0] == 9 && ys.dims[1] == 7);
        tfc_tensor *xv = tfc_test_random_tensor(dts[k], 2, d, -100, 100);
        tfc_tensor *r = tfc_test_eval(g, y, &x, &xv, 1);
        CHECK(r && tfc_test_max_diff(r, xv) == 0);
        tfc_tensor_free(r);
        tfc_tensor_free(xv);
        tfc_graph_free(g);
    }
}

static void test_nan_and_inf_fail_naming_the_node(void) {
    float cases[3][4] = {{1, NAN, 2, 3}, {1, 2, -INFINITY, 3}, {NAN, 1, INFINITY, 0}};
    const char *what[3] = {"Tensor had NaN values", "Tensor had Inf values",
                           "Tensor had Inf and NaN values"};
    for (int k = 0; k < 3; k++) {
        tfc_graph *g = tfc_graph_new();
        int64_t d[] = {4};
        tfc_output x = tfc_placeholder(g, "x", TFC_FLOAT, 1, d);
        tfc_with_name(g, "guard");
        tfc_output y = tfc_check_numerics(g, x, "after x");
        CHECK_GRAPH_OK(g);
        tfc_tensor *xv = tfc_tensor_from_data(TFC_FLOAT, 1, d, cases[k]);
        run_expect(g, x, xv, y, "after x : ", what[k]);
        run_expect(g, x, xv, y, "guard", NULL);
        tfc_tensor_free(xv);
        tfc_graph_free(g);
    }
}

/* y = 3 * check(x^2): the gradient goes through (finite differences), and a
 * gradient that becomes infinite (sqrt at 0) is caught on the way back. */
static void test_gradient(void) {
    tfc_graph *g = tfc_graph_new();
    int64_t d[] = {5};
    tfc_output x = tfc_placeholder(g, "x", TFC_DOUBLE, 1, d);
    tfc_output y = tfc_mul(g, tfc_const_double(g, 3), tfc_check_numerics(g, tfc_square(g, x), "sq"));
    CHECK_GRAPH_OK(g);
    tfc_tensor *xv = tfc_test_random_tensor(TFC_DOUBLE, 1, d, -2, 2);
    CHECK(tfc_test_gradcheck(g, y, &x, &xv, 1) < TFC_GRAD_TOL);
    tfc_tensor_free(xv);
    tfc_graph_free(g);

    g = tfc_graph_new();
    x = tfc_placeholder(g, "x", TFC_DOUBLE, 1, d);
    tfc_output r = tfc_reduce_sum(g, tfc_sqrt(g, tfc_check_numerics(g, x, "input")), NULL, 0, 0);
    tfc_output dx;
    CHECK(tfc_gradients(g, &r, 1, &x, 1, NULL, &dx) == 0);
    CHECK_GRAPH_OK(g);
    double v[] = {1, 4, 0, 9, 2};
    xv = tfc_tensor_from_data(TFC_DOUBLE, 1, d, v);
    run_expect(g, x, xv, dx, "Not a number (NaN) or infinity (Inf) values detected in gradient.",
               "input : Tensor had Inf values");
    tfc_tensor_free(xv);
    tfc_graph_free(g);
}

/* A training step guarded by add_check_numerics_ops: fine inputs train, an
 * input that makes log() infinite fails naming the Log node. */
static void test_add_check_numerics_ops(void) {
    tfc_graph *g = tfc_graph_new();
    int64_t d[] = {4, 3}, wd[] = {3, 2};
    tfc_output x = tfc_placeholder(g, "x", TFC_FLOAT, 2, d);
    tfc_output w = tfc_variable(g, "w", tfc_random_uniform(g, TFC_FLOAT, 2, wd, 0.5, 1, 0));
    tfc_with_name(g, "logx");
    tfc_output lx = tfc_log(g, x);
    tfc_output loss = tfc_reduce_mean(g, tfc_square(g, tfc_matmul(g, lx, w)), NULL, 0, 0);
    tfc_optimizer *opt = tfc_gradient_descent_optimizer(0.01);
    tfc_node *train = tfc_optimizer_minimize(opt, g, loss, NULL, 0, (tfc_output){NULL, 0});
    tfc_node *init = tfc_global_variables_initializer(g);
    tfc_node *checks = tfc_add_check_numerics_ops(g);
    CHECK_GRAPH_OK(g);
    CHECK(checks != NULL);
    tfc_status *st = tfc_status_new();
    tfc_session *s = tfc_session_new(g, NULL, st);
    tfc_session_run(s, NULL, NULL, 0, NULL, 0, NULL, &init, 1, st);
    tfc_tensor *good = tfc_test_random_tensor(TFC_FLOAT, 2, d, 0.5, 2);
    tfc_node *targets[] = {train, checks};
    tfc_session_run(s, &x, &good, 1, NULL, 0, NULL, targets, 2, st);
    CHECK_STATUS_OK(st);
    ((float *)tfc_tensor_data(good))[4] = 0; /* log(0) = -inf */
    tfc_session_run(s, &x, &good, 1, NULL, 0, NULL, targets, 2, st);
    CHECK(tfc_status_code(st) == TFC_INVALID_ARGUMENT);
    CHECK_MSG(strstr(tfc_status_message(st), "logx:0 : Tensor had Inf values") != NULL, "%s",
              tfc_status_message(st));
    tfc_tensor_free(good);
    tfc_session_free(s);
    tfc_status_free(st);
    tfc_optimizer_free(opt);
    tfc_graph_free(g);
}

static void test_misuse(void) {
    tfc_graph *g = tfc_graph_new();
    tfc_output i = tfc_placeholder(g, "ids", TFC_INT32, 0, NULL);
    tfc_with_name(g, "bad_check");
    CHECK(tfc_check_numerics(g, i, "m").node == NULL);
    CHECK(tfc_graph_error(g) && strstr(tfc_graph_error(g), "bad_check") &&
          strstr(tfc_graph_error(g), "float"));
    tfc_graph_free(g);
}

TFC_TEST_MAIN(T(test_passes_values_through), T(test_nan_and_inf_fail_naming_the_node),
              T(test_gradient), T(test_add_check_numerics_ops), T(test_misuse))
