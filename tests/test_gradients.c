/* tfc_gradients itself: accumulation over several consumers, unconnected
 * xs, stop_gradient, grad_ys, naming under "gradients/", errors, and
 * gradients of gradients. Op-by-op checks live in each op family's test. */
#include "gradcheck.h"
#include "harness.h"

#include <stdio.h>
#include <string.h>

static tfc_output scalar_placeholder(tfc_graph *g, const char *name) {
    return tfc_placeholder(g, name, TFC_DOUBLE, 0, NULL);
}

static double eval_with(tfc_graph *g, tfc_output out, tfc_output x, double xv) {
    tfc_tensor *t = tfc_tensor_scalar_double(xv);
    tfc_tensor *r = tfc_test_eval(g, out, &x, &t, 1);
    double v = r ? tfc_test_get(r, 0) : NAN;
    tfc_tensor_free(r);
    tfc_tensor_free(t);
    return v;
}

/* y = x*x + 3x uses x three times: the contributions are summed. */
static void test_several_consumers_are_summed(void) {
    tfc_graph *g = tfc_graph_new();
    tfc_output x = scalar_placeholder(g, "x");
    tfc_output y = tfc_add(g, tfc_mul(g, x, x), tfc_mul(g, tfc_const_double(g, 3), x));
    tfc_output dx;
    CHECK(tfc_gradients(g, &y, 1, &x, 1, NULL, &dx) == 0);
    CHECK_GRAPH_OK(g);
    CHECK_NEAR(eval_with(g, dx, x, 1.5), 2 * 1.5 + 3, 1e-12);
    tfc_graph_free(g);
}

static void test_unconnected_x_gets_null(void) {
    tfc_graph *g = tfc_graph_new();
    tfc_output x = scalar_placeholder(g, "x"), z = scalar_placeholder(g, "z");
    tfc_output y = tfc_square(g, x);
    tfc_output xs[] = {x, z}, d[2];
    CHECK(tfc_gradients(g, &y, 1, xs, 2, NULL, d) == 0);
    CHECK(d[0].node != NULL);
    CHECK(d[1].node == NULL);
    CHECK_GRAPH_OK(g);
    tfc_graph_free(g);
}

static void test_stop_gradient(void) {
    tfc_graph *g = tfc_graph_new();
    tfc_output x = scalar_placeholder(g, "x");
    /* y = x * stop(x): dy/dx = stop(x) only */
    tfc_output y = tfc_mul(g, x, tfc_stop_gradient(g, x));
    tfc_output dx;
    CHECK(tfc_gradients(g, &y, 1, &x, 1, NULL, &dx) == 0);
    CHECK_NEAR(eval_with(g, dx, x, 2.5), 2.5, 1e-12);
    /* fully stopped: no gradient at all */
    tfc_output y2 = tfc_square(g, tfc_stop_gradient(g, x));
    tfc_output dx2;
    CHECK(tfc_gradients(g, &y2, 1, &x, 1, NULL, &dx2) == 0);
    CHECK(dx2.node == NULL);
    tfc_graph_free(g);
}

static void test_grad_ys_seed(void) {
    tfc_graph *g = tfc_graph_new();
    tfc_output x = scalar_placeholder(g, "x");
    tfc_output y = tfc_square(g, x);
    tfc_output seed = tfc_const_double(g, 10);
    tfc_output dx;
    CHECK(tfc_gradients(g, &y, 1, &x, 1, &seed, &dx) == 0);
    CHECK_NEAR(eval_with(g, dx, x, 3), 10 * 2 * 3, 1e-12);
    tfc_graph_free(g);
}

static void test_multiple_ys(void) {
    tfc_graph *g = tfc_graph_new();
    tfc_output x = scalar_placeholder(g, "x");
    tfc_output ys[] = {tfc_square(g, x), tfc_mul(g, x, tfc_const_double(g, 4))};
    tfc_output dx;
    CHECK(tfc_gradients(g, ys, 2, &x, 1, NULL, &dx) == 0);
    CHECK_NEAR(eval_with(g, dx, x, 2), 2 * 2 + 4, 1e-12);
    tfc_graph_free(g);
}

static void test_names_under_gradients_scope(void) {
    tfc_graph *g = tfc_graph_new();
    int64_t d[] = {2, 2};
    tfc_output a = tfc_placeholder(g, "a", TFC_DOUBLE, 2, d);
    tfc_output b = tfc_placeholder(g, "b", TFC_DOUBLE, 2, d);
    tfc_name_scope_push(g, "layer1");
    tfc_output m = tfc_matmul(g, a, b);
    tfc_name_scope_pop(g);
    tfc_output xs[] = {a, b}, dx[2];
    CHECK(tfc_gradients(g, &m, 1, xs, 2, NULL, dx) == 0);
    CHECK_GRAPH_OK(g);
    CHECK_CONTAINS(tfc_node_name(dx[0].node), "gradients/layer1/MatMul_grad/");
    CHECK_CONTAINS(tfc_node_name(dx[1].node), "gradients/layer1/MatMul_grad/");
    /* a second call gets its own scope */
    tfc_output dx2[2];
    CHECK(tfc_gradients(g, &m, 1, xs, 2, NULL, dx2) == 0);
    CHECK_CONTAINS(tfc_node_name(dx2[0].node), "gradients_1/");
    tfc_graph_free(g);
}

/* d/dx sum((d/dx x^3)^2) = d/dx 9x^4 = 36x^3 */
static void test_second_order(void) {
    tfc_graph *g = tfc_graph_new();
    tfc_output x = scalar_placeholder(g, "x");
    tfc_output y = tfc_mul(g, tfc_square(g, x), x);
    tfc_output dx, ddx;
    CHECK(tfc_gradients(g, &y, 1, &x, 1, NULL, &dx) == 0);
    tfc_output sq = tfc_square(g, dx);
    CHECK(tfc_gradients(g, &sq, 1, &x, 1, NULL, &ddx) == 0);
    CHECK_GRAPH_OK(g);
    CHECK_NEAR(eval_with(g, ddx, x, 1.25), 36 * 1.25 * 1.25 * 1.25, 1e-12);
    /* and against finite differences of the first gradient */
    tfc_tensor *xv = tfc_tensor_scalar_double(0.7);
    CHECK(tfc_test_gradcheck(g, sq, &x, &xv, 1) < TFC_GRAD_TOL);
    tfc_tensor_free(xv);
    tfc_graph_free(g);
}

/* A weight shared by T >= 4 products (an RNN's): its gradient is one
 * MatMul over the concatenated steps instead of an AddN of T products, and
 * the inputs' gradients use the weight transposed once;
 * checked against finite differences, first and second order, with steps
 * of different batch sizes, and fewer steps keep the AddN. */
static tfc_output shared_weight_loss(tfc_graph *g, tfc_output w, tfc_output *xs, int steps) {
    tfc_output y = {0};
    for (int t = 0; t < steps; t++) {
        int64_t xd[] = {2 + t % 3, 4};
        char name[16];
        snprintf(name, sizeof name, "x%d", t);
        xs[t] = tfc_placeholder(g, name, TFC_DOUBLE, 2, xd);
        tfc_output h = tfc_tanh(g, tfc_matmul(g, xs[t], w));
        tfc_output s = tfc_reduce_sum(g, tfc_square(g, h), NULL, 0, 0);
        y = t ? tfc_add(g, y, s) : s;
    }
    return y;
}

static int count_type(tfc_graph *g, const char *type, int from) {
    int n = 0;
    for (int i = from; i < tfc_graph_num_nodes(g); i++)
        n += strcmp(tfc_node_type(tfc_graph_node(g, i)), type) == 0;
    return n;
}

static void test_shared_weight_products_fused(void) {
    for (int steps = 3; steps <= 6; steps += 3) {
        tfc_graph *g = tfc_graph_new();
        int64_t wd[] = {4, 5};
        tfc_output w = tfc_placeholder(g, "w", TFC_DOUBLE, 2, wd), xs[6];
        tfc_output y = shared_weight_loss(g, w, xs, steps);
        int before = tfc_graph_num_nodes(g);
        tfc_output dw;
        CHECK(tfc_gradients(g, &y, 1, &w, 1, NULL, &dw) == 0);
        CHECK_GRAPH_OK(g);
        /* fused: dw is a MatMul of Concats; 3 steps stay an AddN */
        int fused = strcmp(tfc_node_type(dw.node), "MatMul") == 0;
        CHECK_MSG(fused == (steps >= 4), "steps %d: dw is %s", steps, tfc_node_type(dw.node));
        CHECK(steps >= 4 ? count_type(g, "AddN", before) == 0
                         : strcmp(tfc_node_type(dw.node), "AddN") == 0);
        /* the inputs' gradients multiply by w transposed (one Transpose per
         * step, merged into one by the plan's CSE) rather than by w with
         * transpose_b, from 4 steps on */
        CHECK_MSG(count_type(g, "Transpose", before) == (steps >= 4 ? steps : 0),
                  "steps %d: %d Transposes", steps, count_type(g, "Transpose", before));
        tfc_output all[7];
        tfc_tensor *vals[7];
        all[0] = w;
        vals[0] = tfc_test_random_tensor(TFC_DOUBLE, 2, wd, -1, 1);
        for (int t = 0; t < steps; t++) {
            int64_t xd[] = {2 + t % 3, 4};
            all[t + 1] = xs[t];
            vals[t + 1] = tfc_test_random_tensor(TFC_DOUBLE, 2, xd, -1, 1);
        }
        CHECK(tfc_test_gradcheck(g, y, all, vals, steps + 1) < TFC_GRAD_TOL);
        /* second order through the fused product */
        tfc_output sq = tfc_reduce_sum(g, tfc_square(g, dw), NULL, 0, 0);
        CHECK(tfc_test_gradcheck(g, sq, all, vals, steps + 1) < TFC_GRAD_TOL);
        for (int t = 0; t <= steps; t++) tfc_tensor_free(vals[t]);
        tfc_graph_free(g);
    }
}

/* Non-differentiable ops end the walk quietly; bad arguments are errors. */
static void test_non_differentiable_ops_and_bad_args(void) {
    tfc_graph *g = tfc_graph_new();
    tfc_output x = scalar_placeholder(g, "x");
    tfc_output v = tfc_variable(g, "v", tfc_const_double(g, 1));
    tfc_output upd = tfc_assign_add(g, v, x); /* Assign ops are not differentiable */
    tfc_output y = tfc_mul(g, upd, x);
    tfc_output dx;
    CHECK(tfc_gradients(g, &y, 1, &x, 1, NULL, &dx) == 0);
    CHECK_GRAPH_OK(g);
    tfc_graph_free(g);
    /* bad arguments */
    g = tfc_graph_new();
    tfc_output none = {NULL, 0};
    tfc_output x2 = scalar_placeholder(g, "x");
    CHECK(tfc_gradients(g, &none, 1, &x2, 1, NULL, &dx) == -1);
    CHECK_CONTAINS(tfc_graph_error(g), "tfc_gradients");
    tfc_graph_free(g);
}

/* Integer paths carry no gradient. */
static void test_integer_inputs_get_none(void) {
    tfc_graph *g = tfc_graph_new();
    tfc_output x = scalar_placeholder(g, "x");
    tfc_output i = tfc_placeholder(g, "i", TFC_INT32, 0, NULL);
    tfc_output y = tfc_mul(g, x, tfc_cast(g, i, TFC_DOUBLE));
    tfc_output xs[] = {x, i}, d[2];
    CHECK(tfc_gradients(g, &y, 1, xs, 2, NULL, d) == 0);
    CHECK(d[0].node != NULL);
    CHECK(d[1].node == NULL);
    tfc_graph_free(g);
}

TFC_TEST_MAIN(T(test_several_consumers_are_summed), T(test_unconnected_x_gets_null),
              T(test_stop_gradient), T(test_grad_ys_seed), T(test_multiple_ys),
              T(test_names_under_gradients_scope), T(test_second_order),
              T(test_non_differentiable_ops_and_bad_args), T(test_integer_inputs_get_none),
              T(test_shared_weight_products_fused))
