/* Functions (Defun) whose inputs have no declared shapes: they build, run
 * on inputs of any shape (one body serving calls of different ranks) and
 * differentiate, reductions inside them included (their gradients then
 * compute the kept shape at run time). Values are checked against
 * reference loops, gradients against finite differences in float64 and
 * against the same function with declared shapes. */
#include "gradcheck.h"
#include "harness.h"

#include <stdlib.h>

static const char *const red_types[] = {"Sum", "Mean", "Max", "Min", "Prod"};

typedef struct red_body {
    int kind, keep;
} red_body;

static tfc_output reduce_last(tfc_graph *b, const char *type, tfc_output x, int keep) {
    tfc_op_desc *d = tfc_op_new(b, type, NULL);
    tfc_op_add_input(d, x);
    tfc_op_add_input(d, tfc_const_int32(b, -1));
    tfc_op_set_attr_bool(d, "keep_dims", keep);
    return tfc_out(tfc_op_finish(d), 0);
}

/* reduce(x * x + x, axis -1) */
static int reduce_fn(tfc_graph *b, const tfc_output *a, int n, void *u, tfc_output *outs) {
    (void)n;
    const red_body *r = u;
    tfc_output t = tfc_add(b, tfc_mul(b, a[0], a[0]), a[0]);
    outs[0] = reduce_last(b, red_types[r->kind], t, r->keep);
    return outs[0].node ? 0 : -1;
}

/* Every reduction, both keep_dims, in a function with no input shapes, one
 * with a known rank only, and one with full shapes: values equal, and the
 * gradients match finite differences and each other. */
static void test_reductions_in_unshaped_function(void) {
    int64_t dims[] = {3, 4};
    for (int k = 0; k < 5; k++)
        for (int keep = 0; keep < 2; keep++) {
            tfc_graph *g = tfc_graph_new();
            red_body r = {k, keep};
            tfc_dtype dt = TFC_DOUBLE;
            tfc_shape full = {2, {3, 4}}, rank_only = {2, {-1, -1}};
            tfc_function *fns[] = {
                tfc_function_define(g, "Unshaped", 1, &dt, NULL, 1, reduce_fn, &r),
                tfc_function_define(g, "RankOnly", 1, &dt, &rank_only, 1, reduce_fn, &r),
                tfc_function_define(g, "Shaped", 1, &dt, &full, 1, reduce_fn, &r)};
            CHECK_GRAPH_OK(g);
            tfc_output x = tfc_placeholder(g, "x", TFC_DOUBLE, 2, dims), y[3], gx[3];
            tfc_tensor *v = tfc_test_random_tensor(TFC_DOUBLE, 2, dims, 0.2, 1.5);
            for (int f = 0; f < 3; f++) {
                CHECK(tfc_function_call(g, fns[f], &x, 1, &y[f]) == 0);
                double err = tfc_test_gradcheck(g, y[f], &x, &v, 1);
                CHECK_MSG(err < TFC_GRAD_TOL, "%s keep %d function %d: %g", red_types[k], keep, f,
                          err);
                tfc_output l = tfc_reduce_sum(g, tfc_square(g, y[f]), NULL, 0, 0);
                CHECK(tfc_gradients(g, &l, 1, &x, 1, NULL, &gx[f]) == 0);
            }
            CHECK_GRAPH_OK(g);
            /* the unshaped call's output has unknown rank, as TensorFlow's */
            CHECK(tfc_output_shape(y[0]).rank == -1);
            tfc_tensor *yr[3], *gr[3];
            for (int f = 0; f < 3; f++) {
                yr[f] = tfc_test_eval(g, y[f], &x, &v, 1);
                gr[f] = tfc_test_eval(g, gx[f], &x, &v, 1);
                CHECK(yr[f] && gr[f]);
            }
            for (int f = 0; f < 2; f++)
                if (yr[f] && gr[f] && yr[2] && gr[2]) {
                    CHECK(tfc_tensor_rank(yr[f]) == (keep ? 2 : 1));
                    CHECK(tfc_test_max_diff(yr[f], yr[2]) == 0);
                    CHECK(tfc_test_max_diff(gr[f], gr[2]) < 1e-12);
                }
            for (int f = 0; f < 3; f++) {
                tfc_tensor_free(yr[f]);
                tfc_tensor_free(gr[f]);
            }
            tfc_tensor_free(v);
            tfc_graph_free(g);
        }
}

/* A dense layer with a softmax and a mean, every input unshaped:
 * mean(softmax(x w + b), axis 1) * max(x) */
static int layer_fn(tfc_graph *b, const tfc_output *a, int n, void *u, tfc_output *outs) {
    (void)n, (void)u;
    tfc_output h = tfc_softmax(b, tfc_bias_add(b, tfc_matmul(b, a[0], a[1]), a[2]));
    outs[0] = tfc_mul(b, tfc_reduce_mean(b, h, (int32_t[]){1}, 1, 0),
                      tfc_reduce_max(b, a[0], NULL, 0, 0));
    return 0;
}

static void layer_ref(const tfc_tensor *x, const tfc_tensor *w, const tfc_tensor *bias, int64_t n,
                      int64_t d, int64_t m, double *out) {
    double mx = -INFINITY;
    for (int64_t i = 0; i < n * d; i++) mx = fmax(mx, tfc_test_get(x, i));
    double *h = malloc((size_t)m * sizeof *h);
    for (int64_t i = 0; i < n; i++) {
        double top = -INFINITY, z = 0, mean = 0;
        for (int64_t j = 0; j < m; j++) {
            h[j] = tfc_test_get(bias, j);
            for (int64_t k = 0; k < d; k++)
                h[j] += tfc_test_get(x, i * d + k) * tfc_test_get(w, k * m + j);
            top = fmax(top, h[j]);
        }
        for (int64_t j = 0; j < m; j++) z += exp(h[j] - top);
        for (int64_t j = 0; j < m; j++) mean += exp(h[j] - top) / z;
        out[i] = mean / (double)m * mx;
    }
    free(h);
}

/* One unshaped function called with several shapes, in float64 and float32:
 * values against a reference loop, gradients against finite differences. */
static void test_layer_values_and_gradients(void) {
    const int64_t sizes[][3] = {{4, 3, 5}, {1, 6, 2}, {7, 2, 3}};
    for (int di = 0; di < 2; di++) {
        tfc_dtype dt = di ? TFC_FLOAT : TFC_DOUBLE;
        tfc_graph *g = tfc_graph_new();
        tfc_dtype dts[] = {dt, dt, dt};
        tfc_function *fn = tfc_function_define(g, "Layer", 3, dts, NULL, 1, layer_fn, NULL);
        CHECK_GRAPH_OK(g);
        for (int si = 0; si < 3; si++) {
            int64_t n = sizes[si][0], d = sizes[si][1], m = sizes[si][2];
            int64_t xd[] = {n, d}, wd[] = {d, m};
            tfc_output xs[] = {tfc_placeholder(g, NULL, dt, 2, xd),
                               tfc_placeholder(g, NULL, dt, 2, wd),
                               tfc_placeholder(g, NULL, dt, 1, &m)},
                       y;
            CHECK(tfc_function_call(g, fn, xs, 3, &y) == 0);
            tfc_tensor *vals[] = {tfc_test_random_tensor(dt, 2, xd, -1, 1),
                                  tfc_test_random_tensor(dt, 2, wd, -1, 1),
                                  tfc_test_random_tensor(dt, 1, &m, -1, 1)};
            tfc_tensor *r = tfc_test_eval(g, y, xs, vals, 3);
            CHECK(r && tfc_tensor_rank(r) == 1 && tfc_tensor_dim(r, 0) == n);
            double ref[8];
            layer_ref(vals[0], vals[1], vals[2], n, d, m, ref);
            for (int64_t i = 0; r && i < n; i++)
                CHECK_NEAR(tfc_test_get(r, i), ref[i], di ? 1e-5 : 1e-12);
            tfc_tensor_free(r);
            if (dt == TFC_DOUBLE) CHECK(tfc_test_gradcheck(g, y, xs, vals, 3) < TFC_GRAD_TOL);
            for (int k = 0; k < 3; k++) tfc_tensor_free(vals[k]);
        }
        CHECK_GRAPH_OK(g);
        tfc_graph_free(g);
    }
}

/* sum(tanh(x), -1) * prod(x) over all dims: any rank */
static int any_rank_fn(tfc_graph *b, const tfc_output *a, int n, void *u, tfc_output *outs) {
    (void)n, (void)u;
    outs[0] = tfc_mul(b, tfc_reduce_sum(b, tfc_tanh(b, a[0]), (int32_t[]){-1}, 1, 0),
                      tfc_reduce_prod(b, a[0], NULL, 0, 0));
    return 0;
}

/* Calls of ranks 1, 2 and 3 at three call sites, and one call site fed
 * inputs of different ranks in successive runs of one session. */
static void test_one_body_many_ranks(void) {
    tfc_graph *g = tfc_graph_new();
    tfc_dtype dt = TFC_DOUBLE;
    tfc_function *fn = tfc_function_define(g, "AnyRank", 1, &dt, NULL, 1, any_rank_fn, NULL);
    const int64_t dims[3][3] = {{5}, {2, 3}, {2, 2, 3}};
    tfc_output any = tfc_placeholder(g, "any", TFC_DOUBLE, -1, NULL), yany;
    CHECK(tfc_function_call(g, fn, &any, 1, &yany) == 0);
    tfc_output l = tfc_reduce_sum(g, yany, NULL, 0, 0), gany;
    CHECK(tfc_gradients(g, &l, 1, &any, 1, NULL, &gany) == 0);
    tfc_status *st = tfc_status_new();
    tfc_session *s = tfc_session_new(g, NULL, st);
    for (int r = 1; r <= 3; r++) {
        tfc_output x = tfc_placeholder(g, NULL, TFC_DOUBLE, r, dims[r - 1]), y;
        CHECK(tfc_function_call(g, fn, &x, 1, &y) == 0);
        tfc_tensor *v = tfc_test_random_tensor(TFC_DOUBLE, r, dims[r - 1], 0.5, 1.2);
        CHECK(tfc_test_gradcheck(g, y, &x, &v, 1) < TFC_GRAD_TOL);
        /* the shared call site: value and gradient against a reference */
        tfc_tensor *out[2] = {NULL, NULL};
        tfc_output fetch[] = {yany, gany};
        tfc_session_run(s, &any, &v, 1, fetch, 2, out, NULL, 0, st);
        CHECK_STATUS_OK(st);
        int64_t last = dims[r - 1][r - 1], nel = tfc_tensor_num_elements(v), rows = nel / last;
        double prod = 1, tsum[6] = {0};
        for (int64_t i = 0; i < nel; i++) {
            prod *= tfc_test_get(v, i);
            tsum[i / last] += tanh(tfc_test_get(v, i));
        }
        double total = 0;
        for (int64_t i = 0; i < rows; i++) total += tsum[i];
        if (out[0] && out[1]) {
            CHECK(tfc_tensor_rank(out[0]) == r - 1 && tfc_tensor_rank(out[1]) == r);
            for (int64_t i = 0; i < rows; i++)
                CHECK_NEAR(tfc_test_get(out[0], i), tsum[i] * prod, 1e-12);
            for (int64_t i = 0; i < nel; i++) {
                double t = tanh(tfc_test_get(v, i));
                double want = (1 - t * t) * prod + total * prod / tfc_test_get(v, i);
                CHECK_NEAR(tfc_test_get(out[1], i), want, 1e-12);
            }
        }
        tfc_tensor_free(out[0]);
        tfc_tensor_free(out[1]);
        tfc_tensor_free(v);
    }
    CHECK_GRAPH_OK(g);
    tfc_session_free(s);
    tfc_status_free(st);
    tfc_graph_free(g);
}

/* Functions inside functions, a cond and a while loop, all unshaped, and
 * the reduction axes given as an argument of the function. */
typedef struct nest_ctx {
    tfc_function *inner;
} nest_ctx;

static int axes_arg_fn(tfc_graph *b, const tfc_output *a, int n, void *u, tfc_output *outs) {
    (void)n, (void)u;
    tfc_op_desc *d = tfc_op_new(b, "Min", NULL);
    tfc_op_add_input(d, tfc_tanh(b, a[0]));
    tfc_op_add_input(d, a[1]);
    outs[0] = tfc_out(tfc_op_finish(d), 0);
    return 0;
}

static int big_branch(tfc_graph *b, const tfc_output *a, int n, void *u, tfc_output *outs) {
    (void)a, (void)n;
    tfc_output x = *(tfc_output *)u;
    outs[0] = tfc_reduce_max(b, tfc_square(b, x), (int32_t[]){0}, 1, 1);
    return 0;
}

static int small_branch(tfc_graph *b, const tfc_output *a, int n, void *u, tfc_output *outs) {
    (void)a, (void)n;
    tfc_output x = *(tfc_output *)u;
    outs[0] = tfc_reduce_prod(b, x, (int32_t[]){0}, 1, 1);
    return 0;
}

static int loop_cond(tfc_graph *b, const tfc_output *a, int n, void *u, tfc_output *outs) {
    (void)n, (void)u;
    outs[0] = tfc_less(b, a[0], tfc_const_int32(b, 3));
    return 0;
}

static int loop_body(tfc_graph *b, const tfc_output *a, int n, void *u, tfc_output *outs) {
    (void)n, (void)u;
    outs[0] = tfc_add(b, a[0], tfc_const_int32(b, 1));
    outs[1] = tfc_mul(b, a[1], tfc_reduce_mean(b, tfc_tanh(b, a[1]), (int32_t[]){-1}, 1, 1));
    return 0;
}

static int outer_fn(tfc_graph *b, const tfc_output *a, int n, void *u, tfc_output *outs) {
    (void)n;
    nest_ctx *c = u;
    tfc_output x = a[0], inner, br, lv[2], lo[2];
    tfc_output in[] = {x, tfc_const_ints(b, (int32_t[]){-1}, 1)};
    tfc_function_call(b, c->inner, in, 2, &inner);
    tfc_output pred = tfc_greater(b, tfc_reduce_sum(b, x, NULL, 0, 0), tfc_const_double(b, 0));
    tfc_cond(b, pred, big_branch, small_branch, &x, 1, &br);
    lv[0] = tfc_const_int32(b, 0);
    lv[1] = x;
    tfc_while_loop(b, loop_cond, loop_body, NULL, lv, 2, NULL, 1, lo);
    outs[0] = tfc_add(
        b, tfc_add(b, tfc_reduce_sum(b, inner, NULL, 0, 0), tfc_reduce_sum(b, br, NULL, 0, 0)),
        tfc_reduce_mean(b, lo[1], NULL, 0, 0));
    return inner.node && br.node && lo[1].node ? 0 : -1;
}

static void test_nested_and_control_flow(void) {
    for (int sign = 0; sign < 2; sign++) {
        tfc_graph *g = tfc_graph_new();
        tfc_dtype dts[] = {TFC_DOUBLE, TFC_INT32};
        nest_ctx c;
        c.inner = tfc_function_define(g, "MinOfSin", 2, dts, NULL, 1, axes_arg_fn, NULL);
        tfc_function *outer = tfc_function_define(g, "Outer", 1, dts, NULL, 1, outer_fn, &c);
        CHECK_GRAPH_OK(g);
        int64_t dims[] = {3, 4};
        tfc_output x = tfc_placeholder(g, "x", TFC_DOUBLE, -1, NULL), y;
        CHECK(tfc_function_call(g, outer, &x, 1, &y) == 0);
        tfc_tensor *v =
            tfc_test_random_tensor(TFC_DOUBLE, 2, dims, sign ? 0.2 : -1.5, sign ? 1.5 : -0.2);
        CHECK(tfc_test_gradcheck(g, y, &x, &v, 1) < TFC_GRAD_TOL);
        tfc_tensor_free(v);
        tfc_graph_free(g);
    }
}

/* Second derivatives: the gradient of the function's gradient function. */
static void test_second_order(void) {
    for (int k = 0; k < 5; k++) {
        tfc_graph *g = tfc_graph_new();
        red_body r = {k, k % 2};
        tfc_dtype dt = TFC_DOUBLE;
        tfc_function *fn = tfc_function_define(g, "F", 1, &dt, NULL, 1, reduce_fn, &r);
        int64_t dims[] = {2, 3};
        tfc_output x = tfc_placeholder(g, "x", TFC_DOUBLE, -1, NULL), y, gx;
        CHECK(tfc_function_call(g, fn, &x, 1, &y) == 0);
        tfc_output l = tfc_reduce_sum(g, tfc_mul(g, y, y), NULL, 0, 0);
        CHECK(tfc_gradients(g, &l, 1, &x, 1, NULL, &gx) == 0);
        tfc_tensor *v = tfc_test_random_tensor(TFC_DOUBLE, 2, dims, 0.3, 1.5);
        CHECK_MSG(tfc_test_gradcheck(g, tfc_square(g, gx), &x, &v, 1) < TFC_GRAD_TOL, "%s",
                  red_types[k]);
        tfc_tensor_free(v);
        tfc_graph_free(g);
    }
}

TFC_TEST_MAIN(T(test_reductions_in_unshaped_function), T(test_layer_values_and_gradients),
              T(test_one_body_many_ranks), T(test_nested_and_control_flow), T(test_second_order))
