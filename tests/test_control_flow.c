/* Functional control flow: tfc_cond, tfc_while_loop, functions, their
 * gradients (against finite differences), captures, nesting, errors and the
 * memory of long loops. */
#include "gradcheck.h"
#include "harness.h"

#include "ops/while_pipelined.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

/* ---- cond ---- */

static int mul_2_17(tfc_graph *b, const tfc_output *a, int n, void *u, tfc_output *outs) {
    (void)a, (void)n, (void)u;
    outs[0] = tfc_mul(b, tfc_const_int32(b, 2), tfc_const_int32(b, 17));
    return 0;
}
static int add_5_23(tfc_graph *b, const tfc_output *a, int n, void *u, tfc_output *outs) {
    (void)a, (void)n, (void)u;
    outs[0] = tfc_add(b, tfc_const_int32(b, 5), tfc_const_int32(b, 23));
    return 0;
}
/* Fails when run: integer division by zero. */
static int div_by_zero(tfc_graph *b, const tfc_output *a, int n, void *u, tfc_output *outs) {
    (void)a, (void)n, (void)u;
    outs[0] = tfc_div(b, tfc_const_int32(b, 1), tfc_const_int32(b, 0));
    return 0;
}

static void test_cond_issue_example(void) {
    tfc_graph *g = tfc_graph_new();
    tfc_output out, out2;
    tfc_cond(g, tfc_less(g, tfc_const_int32(g, 2), tfc_const_int32(g, 5)), mul_2_17, add_5_23,
             NULL, 1, &out);
    tfc_cond(g, tfc_less(g, tfc_const_int32(g, 5), tfc_const_int32(g, 2)), mul_2_17, add_5_23,
             NULL, 1, &out2);
    CHECK_GRAPH_OK(g);
    CHECK_NEAR(tfc_test_eval_scalar(g, out), 34, 0);
    CHECK_NEAR(tfc_test_eval_scalar(g, out2), 28, 0);
    tfc_graph_free(g);
}

/* Only the taken branch runs: the other would fail. */
static void test_cond_only_taken_branch_runs(void) {
    tfc_graph *g = tfc_graph_new();
    tfc_output p = tfc_placeholder(g, "p", TFC_BOOL, 0, NULL), out;
    tfc_cond(g, p, mul_2_17, div_by_zero, NULL, 1, &out);
    CHECK_GRAPH_OK(g);
    tfc_status *st = tfc_status_new();
    tfc_session *s = tfc_session_new(g, NULL, st);
    tfc_tensor *t = tfc_tensor_scalar_bool(1), *f = tfc_tensor_scalar_bool(0);
    tfc_tensor *r = tfc_session_run1(s, &p, &t, 1, out, st);
    CHECK_STATUS_OK(st);
    if (r) CHECK_NEAR(tfc_test_get(r, 0), 34, 0);
    tfc_tensor_free(r);
    r = tfc_session_run1(s, &p, &f, 1, out, st);
    CHECK(r == NULL);
    CHECK(tfc_status_code(st) != TFC_OK);
    /* names the failing node inside the branch and the If node */
    CHECK_CONTAINS(tfc_status_message(st), "cond_false");
    CHECK_CONTAINS(tfc_status_message(st), "If");
    tfc_tensor_free(t);
    tfc_tensor_free(f);
    tfc_session_free(s);
    tfc_status_free(st);
    tfc_graph_free(g);
}

typedef struct xy {
    tfc_output x, y;
} xy;

static int branch_mul(tfc_graph *b, const tfc_output *a, int n, void *u, tfc_output *outs) {
    (void)a, (void)n;
    xy *v = u;
    outs[0] = tfc_mul(b, v->x, tfc_tanh(b, v->y));
    outs[1] = tfc_reduce_sum(b, v->x, NULL, 0, 0);
    return 0;
}
static int branch_add(tfc_graph *b, const tfc_output *a, int n, void *u, tfc_output *outs) {
    (void)a, (void)n;
    xy *v = u;
    outs[0] = tfc_add(b, tfc_exp(b, v->x), v->y);
    outs[1] = tfc_reduce_max(b, v->y, NULL, 0, 0); /* another capture, only here */
    return 0;
}

/* Captured outer tensors, several shapes (broadcasting), float and double. */
static void test_cond_captures_random(void) {
    int64_t shapes[][2] = {{3, 4}, {1, 4}, {3, 1}};
    for (int dt = 0; dt < 2; dt++)
        for (int si = 0; si < 3; si++)
            for (int branch = 0; branch < 2; branch++) {
                tfc_dtype type = dt ? TFC_DOUBLE : TFC_FLOAT;
                tfc_graph *g = tfc_graph_new();
                int64_t xd[] = {3, 4};
                xy v;
                v.x = tfc_placeholder(g, "x", type, 2, xd);
                v.y = tfc_placeholder(g, "y", type, 2, shapes[si]);
                tfc_output outs[2];
                tfc_cond(g, tfc_const_bool(g, branch == 0), branch_mul, branch_add, &v, 2, outs);
                CHECK_GRAPH_OK(g);
                tfc_tensor *xt = tfc_test_random_tensor(type, 2, xd, -1, 1);
                tfc_tensor *yt = tfc_test_random_tensor(type, 2, shapes[si], -1, 1);
                tfc_output feeds[] = {v.x, v.y};
                tfc_tensor *vals[] = {xt, yt};
                tfc_tensor *r0 = tfc_test_eval(g, outs[0], feeds, vals, 2);
                tfc_tensor *r1 = tfc_test_eval(g, outs[1], feeds, vals, 2);
                CHECK(r0 && r1);
                if (r0 && r1) {
                    double err = 0, agg = branch == 0 ? 0 : -INFINITY;
                    for (int i = 0; i < 3; i++)
                        for (int j = 0; j < 4; j++) {
                            int64_t yi = (shapes[si][0] == 1 ? 0 : i) * shapes[si][1] +
                                         (shapes[si][1] == 1 ? 0 : j);
                            double x = tfc_test_get(xt, i * 4 + j), y = tfc_test_get(yt, yi);
                            double want = branch == 0 ? x * tanh(y) : exp(x) + y;
                            err = fmax(err, fabs(tfc_test_get(r0, i * 4 + j) - want));
                            if (branch == 0) agg += x;
                        }
                    if (branch == 1)
                        for (int64_t k = 0; k < tfc_tensor_num_elements(yt); k++)
                            agg = fmax(agg, tfc_test_get(yt, k));
                    CHECK(err < (dt ? 1e-12 : 1e-5));
                    CHECK_NEAR(tfc_test_get(r1, 0), agg, dt ? 1e-12 : 1e-5);
                }
                tfc_tensor_free(r0);
                tfc_tensor_free(r1);
                tfc_tensor_free(xt);
                tfc_tensor_free(yt);
                tfc_graph_free(g);
            }
}

static void test_cond_gradient(void) {
    int64_t shapes[][2] = {{2, 3}, {4, 1}, {1, 1}};
    for (int si = 0; si < 3; si++)
        for (int branch = 0; branch < 2; branch++) {
            tfc_graph *g = tfc_graph_new();
            xy v;
            v.x = tfc_placeholder(g, "x", TFC_DOUBLE, 2, shapes[si]);
            v.y = tfc_placeholder(g, "y", TFC_DOUBLE, 2, shapes[si]);
            tfc_output outs[2];
            tfc_cond(g, tfc_const_bool(g, branch == 0), branch_mul, branch_add, &v, 2, outs);
            tfc_output y = tfc_add(g, outs[0], tfc_mul(g, outs[1], outs[0]));
            CHECK_GRAPH_OK(g);
            tfc_tensor *vals[] = {tfc_test_random_tensor(TFC_DOUBLE, 2, shapes[si], -1, 1),
                                  tfc_test_random_tensor(TFC_DOUBLE, 2, shapes[si], -1, 1)};
            tfc_output xs[] = {v.x, v.y};
            CHECK(tfc_test_gradcheck(g, y, xs, vals, 2) < TFC_GRAD_TOL);
            tfc_tensor_free(vals[0]);
            tfc_tensor_free(vals[1]);
            tfc_graph_free(g);
        }
}

/* Second derivatives through cond: the gradient of the first gradient
 * (an If over the branches' gradient functions) against finite
 * differences, and d2/dx2 of x^3 and tanh(x) by hand. */
static int cube_x(tfc_graph *b, const tfc_output *a, int n, void *u, tfc_output *outs) {
    (void)a, (void)n;
    xy *v = u;
    outs[0] = tfc_mul(b, tfc_mul(b, v->x, v->x), tfc_mul(b, v->x, v->y));
    return 0;
}
static int tanh_xy(tfc_graph *b, const tfc_output *a, int n, void *u, tfc_output *outs) {
    (void)a, (void)n;
    xy *v = u;
    outs[0] = tfc_tanh(b, tfc_mul(b, v->x, v->y));
    return 0;
}

static void test_cond_second_derivative(void) {
    int64_t d[] = {3};
    for (int branch = 0; branch < 2; branch++) {
        tfc_graph *g = tfc_graph_new();
        xy v;
        v.x = tfc_placeholder(g, "x", TFC_DOUBLE, 1, d);
        v.y = tfc_placeholder(g, "y", TFC_DOUBLE, 1, d);
        tfc_output out, dxy[2], ddx;
        tfc_output p = tfc_placeholder(g, "p", TFC_BOOL, 0, NULL);
        tfc_cond(g, p, cube_x, tanh_xy, &v, 1, &out);
        tfc_output xs[] = {v.x, v.y};
        tfc_gradients(g, &out, 1, xs, 2, NULL, dxy);
        tfc_gradients(g, &dxy[0], 1, &v.x, 1, NULL, &ddx);
        CHECK_GRAPH_OK(g);
        tfc_tensor *vals[] = {tfc_test_random_tensor(TFC_DOUBLE, 1, d, -1, 1),
                              tfc_test_random_tensor(TFC_DOUBLE, 1, d, 0.5, 1.5),
                              tfc_tensor_scalar_bool(branch == 0)};
        tfc_output feeds[] = {v.x, v.y, p};
        tfc_tensor *r = tfc_test_eval(g, ddx, feeds, vals, 3);
        CHECK(r != NULL);
        for (int k = 0; r && k < 3; k++) {
            double x = tfc_test_get(vals[0], k), y = tfc_test_get(vals[1], k), t = tanh(x * y);
            double want = branch == 0 ? 6 * x * y : -2 * y * y * t * (1 - t * t);
            CHECK_NEAR(tfc_test_get(r, k), want, 1e-12);
        }
        tfc_tensor_free(r);
        /* the gradient of each first-order gradient, w.r.t. x and y, with
         * the predicate fixed: a const-predicate copy of the graph */
        tfc_graph *h = tfc_graph_new();
        xy w;
        w.x = tfc_placeholder(h, "x", TFC_DOUBLE, 1, d);
        w.y = tfc_placeholder(h, "y", TFC_DOUBLE, 1, d);
        tfc_output hout, hd[2];
        tfc_cond(h, tfc_const_bool(h, branch == 0), cube_x, tanh_xy, &w, 1, &hout);
        tfc_output hx[] = {w.x, w.y};
        tfc_gradients(h, &hout, 1, hx, 2, NULL, hd);
        CHECK_GRAPH_OK(h);
        for (int i = 0; i < 2; i++) CHECK(tfc_test_gradcheck(h, hd[i], hx, vals, 2) < TFC_GRAD_TOL);
        tfc_graph_free(h);
        for (int i = 0; i < 3; i++) tfc_tensor_free(vals[i]);
        tfc_graph_free(g);
    }
}

/* The gradient of the untaken branch does not run either. */
static int grad_fails(tfc_graph *b, const tfc_output *a, int n, void *u, tfc_output *outs) {
    (void)a, (void)n;
    xy *v = u;
    tfc_output bad = tfc_cast(b, tfc_div(b, tfc_const_int32(b, 1), tfc_const_int32(b, 0)),
                              TFC_DOUBLE);
    outs[0] = tfc_mul(b, v->x, bad);
    return 0;
}
static int square_x(tfc_graph *b, const tfc_output *a, int n, void *u, tfc_output *outs) {
    (void)a, (void)n;
    xy *v = u;
    outs[0] = tfc_square(b, v->x);
    return 0;
}

static void test_cond_gradient_taken_branch_only(void) {
    tfc_graph *g = tfc_graph_new();
    int64_t d[] = {3};
    xy v;
    v.x = tfc_placeholder(g, "x", TFC_DOUBLE, 1, d);
    tfc_output out, dx;
    tfc_cond(g, tfc_const_bool(g, 1), square_x, grad_fails, &v, 1, &out);
    tfc_gradients(g, &out, 1, &v.x, 1, NULL, &dx);
    CHECK_GRAPH_OK(g);
    tfc_tensor *xt = tfc_test_random_tensor(TFC_DOUBLE, 1, d, -2, 2);
    tfc_tensor *r = tfc_test_eval(g, dx, &v.x, &xt, 1);
    CHECK(r != NULL);
    for (int i = 0; r && i < 3; i++) CHECK_NEAR(tfc_test_get(r, i), 2 * tfc_test_get(xt, i), 1e-12);
    tfc_tensor_free(r);
    tfc_tensor_free(xt);
    tfc_graph_free(g);
}

static int float_branch(tfc_graph *b, const tfc_output *a, int n, void *u, tfc_output *outs) {
    (void)a, (void)n, (void)u;
    outs[0] = tfc_const_float(b, 1);
    return 0;
}

static void test_cond_errors(void) {
    tfc_graph *g = tfc_graph_new();
    tfc_output out;
    tfc_output yes = tfc_const_bool(g, 1);
    tfc_with_name(g, "mycond");
    CHECK(tfc_cond(g, yes, mul_2_17, float_branch, NULL, 1, &out) != 0);
    CHECK(out.node == NULL);
    CHECK_CONTAINS(tfc_graph_error(g), "Node 'mycond' (If)");
    CHECK_CONTAINS(tfc_graph_error(g), "float");
    tfc_graph_clear_error(g);
    int64_t d[] = {2};
    tfc_cond(g, tfc_const_data(g, TFC_BOOL, 1, d, (uint8_t[]){1, 0}), mul_2_17, add_5_23, NULL, 1,
             &out);
    CHECK_CONTAINS(tfc_graph_error(g), "scalar");
    tfc_graph_clear_error(g);
    /* an input from an unrelated graph is still an error */
    tfc_graph *other = tfc_graph_new();
    tfc_output foreign = tfc_const_float(other, 1);
    tfc_add(g, foreign, tfc_const_float(g, 2));
    CHECK_CONTAINS(tfc_graph_error(g), "belongs to another graph");
    tfc_graph_free(other);
    tfc_graph_free(g);
}

/* ---- while_loop ---- */

static int i_less_10(tfc_graph *b, const tfc_output *a, int n, void *u, tfc_output *outs) {
    (void)n, (void)u;
    outs[0] = tfc_less(b, a[0], tfc_const_int32(b, 10));
    return 0;
}
static int i_plus_1(tfc_graph *b, const tfc_output *a, int n, void *u, tfc_output *outs) {
    (void)n, (void)u;
    outs[0] = tfc_add(b, a[0], tfc_const_int32(b, 1));
    return 0;
}

static void test_while_counter(void) {
    tfc_graph *g = tfc_graph_new();
    tfc_output i0 = tfc_const_int32(g, 0), out;
    tfc_while_loop(g, i_less_10, i_plus_1, NULL, &i0, 1, NULL, 10, &out);
    CHECK_GRAPH_OK(g);
    CHECK_NEAR(tfc_test_eval_scalar(g, out), 10, 0);
    tfc_graph_free(g);
}

typedef struct loop_ctx {
    tfc_output w;  /* captured */
    tfc_output n;  /* captured bound */
} loop_ctx;

static int i_less_n(tfc_graph *b, const tfc_output *a, int n, void *u, tfc_output *outs) {
    (void)n;
    loop_ctx *c = u;
    outs[0] = tfc_less(b, a[0], c->n);
    return 0;
}
/* (i, x, s) -> (i + 1, x * w + 1, s + sum(x)) */
static int multi_body(tfc_graph *b, const tfc_output *a, int n, void *u, tfc_output *outs) {
    (void)n;
    loop_ctx *c = u;
    outs[0] = tfc_add(b, a[0], tfc_const_int32(b, 1));
    outs[1] = tfc_add(b, tfc_mul(b, a[1], c->w), tfc_const_float(b, 1));
    outs[2] = tfc_add(b, a[2], tfc_cast(b, tfc_reduce_sum(b, a[1], NULL, 0, 0), TFC_DOUBLE));
    return 0;
}

static void test_while_many_vars_random(void) {
    int64_t shapes[][2] = {{2, 3}, {1, 5}, {4, 1}};
    for (int si = 0; si < 3; si++) {
        tfc_graph *g = tfc_graph_new();
        loop_ctx c;
        c.w = tfc_placeholder(g, "w", TFC_FLOAT, 2, shapes[si]);
        c.n = tfc_placeholder(g, "n", TFC_INT32, 0, NULL);
        tfc_output x = tfc_placeholder(g, "x", TFC_FLOAT, 2, shapes[si]);
        tfc_output vars[] = {tfc_const_int32(g, 0), x, tfc_const_double(g, 0.5)}, outs[3];
        tfc_while_loop(g, i_less_n, multi_body, &c, vars, 3, NULL, 1, outs);
        CHECK_GRAPH_OK(g);
        tfc_tensor *wt = tfc_test_random_tensor(TFC_FLOAT, 2, shapes[si], -1, 1);
        tfc_tensor *xt = tfc_test_random_tensor(TFC_FLOAT, 2, shapes[si], -1, 1);
        tfc_tensor *nt = tfc_tensor_scalar_int32(7);
        tfc_output feeds[] = {c.w, c.n, x};
        tfc_tensor *vals[] = {wt, nt, xt}, *res[3];
        tfc_status *st = tfc_status_new();
        tfc_session *s = tfc_session_new(g, NULL, st);
        tfc_session_run(s, feeds, vals, 3, outs, 3, res, NULL, 0, st);
        CHECK_STATUS_OK(st);
        if (res[0]) {
            int64_t ne = tfc_tensor_num_elements(xt);
            double *xv = malloc((size_t)ne * sizeof *xv), sum = 0.5;
            for (int64_t k = 0; k < ne; k++) xv[k] = tfc_test_get(xt, k);
            for (int it = 0; it < 7; it++) {
                for (int64_t k = 0; k < ne; k++) sum += (float)xv[k];
                for (int64_t k = 0; k < ne; k++) xv[k] = (float)((float)xv[k] * (float)tfc_test_get(wt, k) + 1);
            }
            CHECK_NEAR(tfc_test_get(res[0], 0), 7, 0);
            for (int64_t k = 0; k < ne; k++) CHECK_NEAR(tfc_test_get(res[1], k), xv[k], 1e-5);
            CHECK_NEAR(tfc_test_get(res[2], 0), sum, 1e-4);
            free(xv);
        }
        for (int k = 0; k < 3; k++) tfc_tensor_free(res[k]);
        tfc_tensor_free(wt);
        tfc_tensor_free(xt);
        tfc_tensor_free(nt);
        tfc_session_free(s);
        tfc_status_free(st);
        tfc_graph_free(g);
    }
}

static int len_less_5(tfc_graph *b, const tfc_output *a, int n, void *u, tfc_output *outs) {
    (void)n, (void)u;
    outs[0] = tfc_less(b, tfc_size(b, a[0]), tfc_const_int32(b, 5));
    return 0;
}
static int grow(tfc_graph *b, const tfc_output *a, int n, void *u, tfc_output *outs) {
    (void)n, (void)u;
    tfc_output v[] = {a[0], tfc_const_float(b, 2)};
    v[1] = tfc_reshape(b, v[1], 1, (int64_t[]){1});
    outs[0] = tfc_concat(b, v, 2, 0);
    return 0;
}

static void test_while_shape_invariants(void) {
    tfc_graph *g = tfc_graph_new();
    tfc_output x = tfc_placeholder(g, "x", TFC_FLOAT, 1, (int64_t[]){-1}), out;
    tfc_with_name(g, "grower");
    tfc_while_loop(g, len_less_5, grow, NULL, &x, 1, NULL, 1, &out);
    CHECK_GRAPH_OK(g);
    tfc_tensor *xt = tfc_tensor_from_data(TFC_FLOAT, 1, (int64_t[]){2}, (float[]){7, 8});
    tfc_tensor *r = tfc_test_eval(g, out, &x, &xt, 1);
    CHECK(r && tfc_tensor_dim(r, 0) == 5);
    if (r) {
        CHECK_NEAR(tfc_test_get(r, 0), 7, 0);
        CHECK_NEAR(tfc_test_get(r, 4), 2, 0);
    }
    tfc_tensor_free(r);
    /* a fixed static shape: growing is a run-time error naming loop and variable */
    tfc_output c = tfc_const_data(g, TFC_FLOAT, 1, (int64_t[]){2}, (float[]){7, 8});
    tfc_with_name(g, "fixed_loop");
    tfc_while_loop(g, len_less_5, grow, NULL, &c, 1, NULL, 1, &out);
    CHECK_CONTAINS(tfc_graph_error(g), "fixed_loop");
    CHECK_CONTAINS(tfc_graph_error(g), "loop variable 0");
    tfc_graph_clear_error(g);
    /* an invariant allowing it */
    tfc_shape inv = {1, {-1}};
    tfc_while_loop(g, len_less_5, grow, NULL, &c, 1, &inv, 1, &out);
    CHECK_GRAPH_OK(g);
    r = tfc_test_eval(g, out, NULL, NULL, 0);
    CHECK(r && tfc_tensor_dim(r, 0) == 5);
    tfc_tensor_free(r);
    tfc_tensor_free(xt);
    tfc_graph_free(g);
}

/* A value leaving its invariant where shapes are only known at run time
 * (the new shape is fed) is caught by the loop. */
static int rank_up(tfc_graph *b, const tfc_output *a, int n, void *u, tfc_output *outs) {
    (void)n;
    tfc_output twice[] = {a[0], a[0]};
    outs[0] = tfc_reshape_to(b, tfc_concat(b, twice, 2, 0), *(tfc_output *)u);
    return 0;
}
static int size_less_6(tfc_graph *b, const tfc_output *a, int n, void *u, tfc_output *outs) {
    (void)n, (void)u;
    outs[0] = tfc_less(b, tfc_size(b, a[0]), tfc_const_int32(b, 6));
    return 0;
}

static void test_while_runtime_shape_error(void) {
    tfc_graph *g = tfc_graph_new();
    tfc_output x = tfc_placeholder(g, "x", TFC_FLOAT, -1, NULL), out;
    tfc_output shape = tfc_placeholder(g, "shape", TFC_INT32, 1, (int64_t[]){-1});
    tfc_shape inv = {1, {-1}};
    tfc_with_name(g, "rank_loop");
    tfc_while_loop(g, size_less_6, rank_up, &shape, &x, 1, &inv, 1, &out);
    CHECK_GRAPH_OK(g);
    tfc_tensor *xt = tfc_test_random_tensor(TFC_FLOAT, 1, (int64_t[]){3}, -1, 1);
    tfc_tensor *st_shape = tfc_tensor_from_data(TFC_INT32, 1, (int64_t[]){2}, (int32_t[]){1, -1});
    tfc_status *st = tfc_status_new();
    tfc_session *s = tfc_session_new(g, NULL, st);
    tfc_output feeds[] = {x, shape};
    tfc_tensor *vals[] = {xt, st_shape};
    tfc_tensor *r = tfc_session_run1(s, feeds, vals, 2, out, st);
    CHECK(r == NULL);
    CHECK_CONTAINS(tfc_status_message(st), "rank_loop");
    CHECK_CONTAINS(tfc_status_message(st), "loop variable 0 ('x')");
    /* with a shape that keeps the rank it runs */
    tfc_tensor_free(vals[1]);
    vals[1] = tfc_tensor_from_data(TFC_INT32, 1, (int64_t[]){1}, (int32_t[]){-1});
    r = tfc_session_run1(s, feeds, vals, 2, out, st);
    CHECK_STATUS_OK(st);
    CHECK(r && tfc_tensor_rank(r) == 1 && tfc_tensor_dim(r, 0) == 6 &&
          tfc_test_get(r, 3) == tfc_test_get(xt, 0));
    tfc_tensor_free(r);
    tfc_tensor_free(vals[1]);
    tfc_session_free(s);
    tfc_status_free(st);
    tfc_tensor_free(xt);
    tfc_graph_free(g);
}

static int i_less_100k(tfc_graph *b, const tfc_output *a, int n, void *u, tfc_output *outs) {
    (void)n, (void)u;
    outs[0] = tfc_less(b, a[0], tfc_const_int32(b, 100000));
    return 0;
}
static int inc_and_mix(tfc_graph *b, const tfc_output *a, int n, void *u, tfc_output *outs) {
    (void)n, (void)u;
    outs[0] = tfc_add(b, a[0], tfc_const_int32(b, 1));
    outs[1] = tfc_add(b, tfc_mul(b, a[1], tfc_const_float(b, 0.5f)), tfc_const_float(b, 1));
    return 0;
}

static long max_rss_mb(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss / 1024;
}

/* 100,000 iterations over a 4 KB variable: each iteration's tensors are
 * freed at once (keeping them would take 400 MB), and it stays quick. */
static void test_while_100k_iterations(void) {
    tfc_graph *g = tfc_graph_new();
    int64_t d[] = {1024};
    long rss0 = max_rss_mb();
    tfc_output vars[] = {tfc_const_int32(g, 0), tfc_zeros(g, TFC_FLOAT, 1, d)}, outs[2];
    tfc_while_loop(g, i_less_100k, inc_and_mix, NULL, vars, 2, NULL, 10, outs);
    CHECK_GRAPH_OK(g);
    tfc_status *st = tfc_status_new();
    tfc_session *s = tfc_session_new(g, NULL, st);
    tfc_tensor *r[2];
    tfc_session_run(s, NULL, NULL, 0, outs, 2, r, NULL, 0, st);
    CHECK_STATUS_OK(st);
    if (r[0]) {
        CHECK_NEAR(tfc_test_get(r[0], 0), 100000, 0);
        CHECK_NEAR(tfc_test_get(r[1], 1023), 2, 1e-6);
    }
    CHECK_MSG(max_rss_mb() - rss0 < 100, "memory grew by %ld MB", max_rss_mb() - rss0);
    tfc_tensor_free(r[0]);
    tfc_tensor_free(r[1]);
    tfc_session_free(s);
    tfc_status_free(st);
    tfc_graph_free(g);
}

/* Nested loops: for i < 3: for j < 4: acc += x * (i + 1), with x captured
 * from the top graph two levels up. */
typedef struct nest_ctx {
    tfc_output x;
    tfc_output i; /* set while building the outer body */
} nest_ctx;

static int j_less_4(tfc_graph *b, const tfc_output *a, int n, void *u, tfc_output *outs) {
    (void)n, (void)u;
    outs[0] = tfc_less(b, a[0], tfc_const_int32(b, 4));
    return 0;
}
static int inner_body(tfc_graph *b, const tfc_output *a, int n, void *u, tfc_output *outs) {
    (void)n;
    nest_ctx *c = u;
    tfc_output scale = tfc_cast(b, tfc_add(b, c->i, tfc_const_int32(b, 1)), TFC_DOUBLE);
    outs[0] = tfc_add(b, a[0], tfc_const_int32(b, 1));
    outs[1] = tfc_add(b, a[1], tfc_mul(b, c->x, scale));
    return 0;
}
static int i_less_3(tfc_graph *b, const tfc_output *a, int n, void *u, tfc_output *outs) {
    (void)n, (void)u;
    outs[0] = tfc_less(b, a[0], tfc_const_int32(b, 3));
    return 0;
}
static int outer_body(tfc_graph *b, const tfc_output *a, int n, void *u, tfc_output *outs) {
    (void)n;
    nest_ctx *c = u;
    c->i = a[0];
    tfc_output vars[] = {tfc_const_int32(b, 0), a[1]}, res[2];
    if (tfc_while_loop(b, j_less_4, inner_body, c, vars, 2, NULL, 1, res)) return -1;
    outs[0] = tfc_add(b, a[0], tfc_const_int32(b, 1));
    outs[1] = res[1];
    return 0;
}

static void test_while_nested(void) {
    tfc_graph *g = tfc_graph_new();
    int64_t d[] = {2, 3};
    nest_ctx c;
    c.x = tfc_placeholder(g, "x", TFC_DOUBLE, 2, d);
    tfc_output vars[] = {tfc_const_int32(g, 0), tfc_zeros(g, TFC_DOUBLE, 2, d)}, outs[2];
    tfc_while_loop(g, i_less_3, outer_body, &c, vars, 2, NULL, 1, outs);
    CHECK_GRAPH_OK(g);
    tfc_tensor *xt = tfc_test_random_tensor(TFC_DOUBLE, 2, d, -1, 1);
    tfc_tensor *r = tfc_test_eval(g, outs[1], &c.x, &xt, 1);
    CHECK(r != NULL);
    /* sum over i of 4 * x * (i + 1) = 24 x */
    for (int k = 0; r && k < 6; k++) CHECK_NEAR(tfc_test_get(r, k), 24 * tfc_test_get(xt, k), 1e-12);
    tfc_tensor_free(r);
    /* and its gradient */
    tfc_output y = tfc_mul(g, outs[1], outs[1]);
    CHECK(tfc_test_gradcheck(g, y, &c.x, &xt, 1) < TFC_GRAD_TOL);
    tfc_tensor_free(xt);
    tfc_graph_free(g);
}

/* x^n by a loop: (i, acc) -> (i + 1, acc * x) */
static int pow_body(tfc_graph *b, const tfc_output *a, int n, void *u, tfc_output *outs) {
    (void)n;
    loop_ctx *c = u;
    outs[0] = tfc_add(b, a[0], tfc_const_int32(b, 1));
    outs[1] = tfc_mul(b, a[1], c->w);
    return 0;
}

static void test_while_gradient_power(void) {
    int64_t shapes[][2] = {{1, 1}, {2, 3}, {4, 2}};
    for (int si = 0; si < 3; si++) {
        tfc_graph *g = tfc_graph_new();
        loop_ctx c;
        c.w = tfc_placeholder(g, "x", TFC_DOUBLE, 2, shapes[si]);
        c.n = tfc_const_int32(g, 5);
        tfc_output vars[] = {tfc_const_int32(g, 0), tfc_ones_like(g, c.w)}, outs[2];
        tfc_while_loop(g, i_less_n, pow_body, &c, vars, 2, NULL, 10, outs);
        CHECK_GRAPH_OK(g);
        tfc_tensor *xt = tfc_test_random_tensor(TFC_DOUBLE, 2, shapes[si], -1.5, 1.5);
        CHECK(tfc_test_gradcheck(g, outs[1], &c.w, &xt, 1) < TFC_GRAD_TOL);
        /* analytic: d/dx x^5 = 5 x^4 */
        tfc_output dx;
        tfc_gradients(g, &outs[1], 1, &c.w, 1, NULL, &dx);
        CHECK_GRAPH_OK(g);
        tfc_tensor *r = tfc_test_eval(g, dx, &c.w, &xt, 1);
        for (int64_t k = 0; r && k < tfc_tensor_num_elements(xt); k++)
            CHECK_NEAR(tfc_test_get(r, k), 5 * pow(tfc_test_get(xt, k), 4), 1e-10);
        tfc_tensor_free(r);
        tfc_tensor_free(xt);
        tfc_graph_free(g);
    }
}

/* Gradient w.r.t. the initial loop value too: acc0 * x^3. */
static void test_while_gradient_initial_value(void) {
    tfc_graph *g = tfc_graph_new();
    int64_t d[] = {3};
    loop_ctx c;
    c.w = tfc_placeholder(g, "x", TFC_DOUBLE, 1, d);
    c.n = tfc_const_int32(g, 3);
    tfc_output a0 = tfc_placeholder(g, "a0", TFC_DOUBLE, 1, d);
    tfc_output vars[] = {tfc_const_int32(g, 0), a0}, outs[2];
    tfc_while_loop(g, i_less_n, pow_body, &c, vars, 2, NULL, 10, outs);
    CHECK_GRAPH_OK(g);
    tfc_output xs[] = {c.w, a0};
    tfc_tensor *vals[] = {tfc_test_random_tensor(TFC_DOUBLE, 1, d, -1.5, 1.5),
                          tfc_test_random_tensor(TFC_DOUBLE, 1, d, -1.5, 1.5)};
    CHECK(tfc_test_gradcheck(g, tfc_tanh(g, outs[1]), xs, vals, 2) < TFC_GRAD_TOL);
    tfc_tensor_free(vals[0]);
    tfc_tensor_free(vals[1]);
    tfc_graph_free(g);
}

/* A loop-built RNN, h = tanh(h W + x_t), against the same RNN unrolled. */
typedef struct rnn_ctx {
    tfc_output w, xs;
    int steps;
} rnn_ctx;

static int t_less_steps(tfc_graph *b, const tfc_output *a, int n, void *u, tfc_output *outs) {
    (void)n;
    rnn_ctx *c = u;
    outs[0] = tfc_less(b, a[0], tfc_const_int32(b, c->steps));
    return 0;
}
static int rnn_body(tfc_graph *b, const tfc_output *a, int n, void *u, tfc_output *outs) {
    (void)n;
    rnn_ctx *c = u;
    tfc_output xt = tfc_gather(b, c->xs, a[0]);
    outs[0] = tfc_add(b, a[0], tfc_const_int32(b, 1));
    outs[1] = tfc_tanh(b, tfc_add(b, tfc_matmul(b, a[1], c->w), xt));
    return 0;
}

static void test_while_gradient_rnn_vs_unrolled(void) {
    enum { T = 4, B = 2, H = 3 };
    tfc_graph *g = tfc_graph_new();
    rnn_ctx c;
    c.steps = T;
    c.w = tfc_placeholder(g, "w", TFC_DOUBLE, 2, (int64_t[]){H, H});
    c.xs = tfc_placeholder(g, "xs", TFC_DOUBLE, 3, (int64_t[]){T, B, H});
    tfc_output h0 = tfc_placeholder(g, "h0", TFC_DOUBLE, 2, (int64_t[]){B, H});
    tfc_output vars[] = {tfc_const_int32(g, 0), h0}, outs[2];
    tfc_while_loop(g, t_less_steps, rnn_body, &c, vars, 2, NULL, 1, outs);
    /* unrolled */
    tfc_output h = h0;
    for (int t = 0; t < T; t++)
        h = tfc_tanh(g, tfc_add(g, tfc_matmul(g, h, c.w), tfc_gather(g, c.xs, tfc_const_int32(g, t))));
    CHECK_GRAPH_OK(g);
    tfc_output xs[] = {c.w, c.xs, h0};
    tfc_tensor *vals[] = {tfc_test_random_tensor(TFC_DOUBLE, 2, (int64_t[]){H, H}, -1, 1),
                          tfc_test_random_tensor(TFC_DOUBLE, 3, (int64_t[]){T, B, H}, -1, 1),
                          tfc_test_random_tensor(TFC_DOUBLE, 2, (int64_t[]){B, H}, -1, 1)};
    tfc_output gl[3], gu[3];
    tfc_output loss_l = tfc_reduce_sum(g, tfc_square(g, outs[1]), NULL, 0, 0);
    tfc_output loss_u = tfc_reduce_sum(g, tfc_square(g, h), NULL, 0, 0);
    tfc_gradients(g, &loss_l, 1, xs, 3, NULL, gl);
    tfc_gradients(g, &loss_u, 1, xs, 3, NULL, gu);
    CHECK_GRAPH_OK(g);
    tfc_status *st = tfc_status_new();
    tfc_session *s = tfc_session_new(g, NULL, st);
    tfc_output fetch[] = {outs[1], h, gl[0], gu[0], gl[1], gu[1], gl[2], gu[2]};
    tfc_tensor *r[8];
    tfc_session_run(s, xs, vals, 3, fetch, 8, r, NULL, 0, st);
    CHECK_STATUS_OK(st);
    if (r[0])
        for (int k = 0; k < 8; k += 2) CHECK(tfc_test_max_diff(r[k], r[k + 1]) < 1e-12);
    for (int k = 0; k < 8; k++) tfc_tensor_free(r[k]);
    tfc_session_free(s);
    tfc_status_free(st);
    CHECK(tfc_test_gradcheck(g, outs[1], xs, vals, 3) < TFC_GRAD_TOL);
    for (int k = 0; k < 3; k++) tfc_tensor_free(vals[k]);
    tfc_graph_free(g);
}

/* A cond inside a loop body, differentiated: x -> 1.5 x for the first two
 * iterations, then x -> tanh(x). */
static int sq_branch(tfc_graph *b, const tfc_output *a, int n, void *u, tfc_output *outs) {
    (void)a, (void)n;
    outs[0] = tfc_mul(b, *(tfc_output *)u, tfc_const_double(b, 1.5));
    return 0;
}
static int tanh_branch(tfc_graph *b, const tfc_output *a, int n, void *u, tfc_output *outs) {
    (void)a, (void)n;
    outs[0] = tfc_tanh(b, *(tfc_output *)u);
    return 0;
}
static int cond_body(tfc_graph *b, const tfc_output *a, int n, void *u, tfc_output *outs) {
    (void)n, (void)u;
    tfc_output v = a[1];
    tfc_output pred = tfc_less(b, a[0], tfc_const_int32(b, 2));
    outs[0] = tfc_add(b, a[0], tfc_const_int32(b, 1));
    return tfc_cond(b, pred, sq_branch, tanh_branch, &v, 1, &outs[1]);
}

static void test_cond_inside_while_gradient(void) {
    int64_t d[] = {2, 2};
    tfc_graph *g = tfc_graph_new();
    tfc_output x = tfc_placeholder(g, "x", TFC_DOUBLE, 2, d);
    loop_ctx c;
    c.n = tfc_const_int32(g, 4);
    tfc_output vars[] = {tfc_const_int32(g, 0), x}, outs[2];
    tfc_while_loop(g, i_less_n, cond_body, &c, vars, 2, NULL, 1, outs);
    CHECK_GRAPH_OK(g);
    tfc_tensor *xt = tfc_test_random_tensor(TFC_DOUBLE, 2, d, -1, 1);
    tfc_tensor *r = tfc_test_eval(g, outs[1], &x, &xt, 1);
    for (int k = 0; r && k < 4; k++)
        CHECK_NEAR(tfc_test_get(r, k), tanh(tanh(2.25 * tfc_test_get(xt, k))), 1e-12);
    tfc_tensor_free(r);
    CHECK(tfc_test_gradcheck(g, outs[1], &x, &xt, 1) < TFC_GRAD_TOL);
    tfc_tensor_free(xt);
    tfc_graph_free(g);
}

/* ---- functions ---- */

/* BatchNorm as a function of h [n, d] and gamma [d]. */
static int batch_norm_fn(tfc_graph *b, const tfc_output *a, int n, void *u, tfc_output *outs) {
    (void)n, (void)u;
    int32_t ax[] = {0};
    tfc_output mean = tfc_reduce_mean(b, a[0], ax, 1, 0);
    tfc_output cen = tfc_sub(b, a[0], mean);
    tfc_output var = tfc_reduce_mean(b, tfc_square(b, cen), ax, 1, 0);
    tfc_output eps = tfc_cast(b, tfc_const_float(b, 1e-3f), tfc_output_dtype(a[0]));
    outs[0] = tfc_mul(b, a[1], tfc_mul(b, cen, tfc_rsqrt(b, tfc_add(b, var, eps))));
    return 0;
}

static void batch_norm_ref(const tfc_tensor *h, const tfc_tensor *gamma, int64_t n, int64_t d,
                           double *out) {
    for (int64_t j = 0; j < d; j++) {
        double m = 0, v = 0;
        for (int64_t i = 0; i < n; i++) m += tfc_test_get(h, i * d + j);
        m /= (double)n;
        for (int64_t i = 0; i < n; i++) v += pow(tfc_test_get(h, i * d + j) - m, 2);
        v /= (double)n;
        for (int64_t i = 0; i < n; i++)
            out[i * d + j] = tfc_test_get(gamma, j) * (tfc_test_get(h, i * d + j) - m) / sqrt(v + 1e-3);
    }
}

static void test_function_batch_norm(void) {
    int64_t shapes[][2] = {{4, 3}, {7, 2}};
    for (int si = 0; si < 2; si++)
        for (int dt = 0; dt < 2; dt++) {
            tfc_dtype type = dt ? TFC_DOUBLE : TFC_FLOAT;
            int64_t n = shapes[si][0], d = shapes[si][1];
            tfc_graph *g = tfc_graph_new();
            tfc_dtype types[] = {type, type};
            tfc_shape sh[] = {{2, {-1, d}}, {1, {d}}};
            tfc_function *bn = tfc_function_define(g, "BatchNorm", 2, types, sh, 1, batch_norm_fn, NULL);
            CHECK_GRAPH_OK(g);
            CHECK(strcmp(tfc_function_name(bn), "BatchNorm") == 0);
            CHECK(tfc_function_num_outputs(bn) == 1);
            tfc_output h1 = tfc_placeholder(g, "h1", type, 2, shapes[si]);
            tfc_output h2 = tfc_placeholder(g, "h2", type, 2, shapes[si]);
            tfc_output gamma = tfc_placeholder(g, "gamma", type, 1, &d);
            int before = tfc_graph_num_nodes(g);
            tfc_output y1, y2, in1[] = {h1, gamma}, in2[] = {h2, gamma};
            tfc_function_call(g, bn, in1, 2, &y1);
            tfc_function_call(g, bn, in2, 2, &y2);
            CHECK_GRAPH_OK(g);
            /* one node per call: the body is not copied */
            CHECK(tfc_graph_num_nodes(g) == before + 2);
            CHECK(strcmp(tfc_node_type(y1.node), "PartitionedCall") == 0);
            tfc_tensor *vals[] = {tfc_test_random_tensor(type, 2, shapes[si], -2, 2),
                                  tfc_test_random_tensor(type, 2, shapes[si], -2, 2),
                                  tfc_test_random_tensor(type, 1, &d, 0.5, 1.5)};
            tfc_output feeds[] = {h1, h2, gamma};
            double *ref = malloc((size_t)(n * d) * sizeof *ref);
            for (int call = 0; call < 2; call++) {
                tfc_tensor *r = tfc_test_eval(g, call ? y2 : y1, feeds, vals, 3);
                batch_norm_ref(vals[call], vals[2], n, d, ref);
                for (int64_t k = 0; r && k < n * d; k++)
                    CHECK_NEAR(tfc_test_get(r, k), ref[k], dt ? 1e-10 : 1e-4);
                CHECK(r != NULL);
                tfc_tensor_free(r);
            }
            free(ref);
            if (dt) {
                tfc_output y = tfc_add(g, y1, tfc_square(g, y2));
                CHECK(tfc_test_gradcheck(g, y, feeds, vals, 3) < TFC_GRAD_TOL);
            }
            for (int k = 0; k < 3; k++) tfc_tensor_free(vals[k]);
            tfc_graph_free(g);
        }
}

/* A function using an outer tensor, called at the top and inside a loop. */
static int scale_by_outer(tfc_graph *b, const tfc_output *a, int n, void *u, tfc_output *outs) {
    (void)n;
    outs[0] = tfc_mul(b, a[0], *(tfc_output *)u);
    return 0;
}
typedef struct call_ctx {
    tfc_function *fn;
    tfc_output n;
} call_ctx;
static int call_i_less_n(tfc_graph *b, const tfc_output *a, int n, void *u, tfc_output *outs) {
    (void)n;
    outs[0] = tfc_less(b, a[0], ((call_ctx *)u)->n);
    return 0;
}
static int call_body(tfc_graph *b, const tfc_output *a, int n, void *u, tfc_output *outs) {
    (void)n;
    outs[0] = tfc_add(b, a[0], tfc_const_int32(b, 1));
    return tfc_function_call(b, ((call_ctx *)u)->fn, &a[1], 1, &outs[1]);
}

static void test_function_capture_and_nested_call(void) {
    tfc_graph *g = tfc_graph_new();
    int64_t d[] = {3};
    tfc_output s = tfc_placeholder(g, "s", TFC_DOUBLE, 1, d);
    tfc_dtype dt = TFC_DOUBLE;
    tfc_shape sh = {1, {3}};
    call_ctx c;
    c.fn = tfc_function_define(g, "Scale", 1, &dt, &sh, 1, scale_by_outer, &s);
    c.n = tfc_const_int32(g, 3);
    tfc_output x = tfc_placeholder(g, "x", TFC_DOUBLE, 1, d), y, outs[2];
    tfc_function_call(g, c.fn, &x, 1, &y);
    tfc_output vars[] = {tfc_const_int32(g, 0), x};
    tfc_while_loop(g, call_i_less_n, call_body, &c, vars, 2, NULL, 1, outs);
    CHECK_GRAPH_OK(g);
    tfc_tensor *vals[] = {tfc_test_random_tensor(TFC_DOUBLE, 1, d, -1, 1),
                          tfc_test_random_tensor(TFC_DOUBLE, 1, d, -1, 1)};
    tfc_output feeds[] = {s, x};
    tfc_tensor *r1 = tfc_test_eval(g, y, feeds, vals, 2), *r2 = tfc_test_eval(g, outs[1], feeds, vals, 2);
    CHECK(r1 && r2);
    for (int k = 0; r1 && r2 && k < 3; k++) {
        double sv = tfc_test_get(vals[0], k), xv = tfc_test_get(vals[1], k);
        CHECK_NEAR(tfc_test_get(r1, k), sv * xv, 1e-12);
        CHECK_NEAR(tfc_test_get(r2, k), sv * sv * sv * xv, 1e-12);
    }
    tfc_tensor_free(r1);
    tfc_tensor_free(r2);
    CHECK(tfc_test_gradcheck(g, tfc_add(g, y, outs[1]), feeds, vals, 2) < TFC_GRAD_TOL);
    for (int k = 0; k < 2; k++) tfc_tensor_free(vals[k]);
    tfc_graph_free(g);
}

static int add_int_to_arg(tfc_graph *b, const tfc_output *a, int n, void *u, tfc_output *outs) {
    (void)n, (void)u;
    outs[0] = tfc_add(b, a[0], tfc_const_int32(b, 1));
    return 0;
}
static int refuses(tfc_graph *b, const tfc_output *a, int n, void *u, tfc_output *outs) {
    (void)b, (void)a, (void)n, (void)u, (void)outs;
    return -1;
}

static void test_function_errors(void) {
    tfc_graph *g = tfc_graph_new();
    tfc_dtype dt[] = {TFC_FLOAT, TFC_FLOAT};
    tfc_function *bn = tfc_function_define(g, "BN", 2, dt, NULL, 1, batch_norm_fn, NULL);
    CHECK(bn != NULL);
    CHECK(tfc_function_define(g, "BN", 2, dt, NULL, 1, batch_norm_fn, NULL) == NULL);
    CHECK_CONTAINS(tfc_graph_error(g), "already defined");
    tfc_graph_clear_error(g);
    tfc_output y, in[] = {tfc_const_float(g, 1)};
    CHECK(tfc_function_call(g, bn, in, 1, &y) != 0);
    CHECK_CONTAINS(tfc_graph_error(g), "takes 2 inputs");
    tfc_graph_clear_error(g);
    tfc_output in2[] = {tfc_const_double(g, 1), tfc_const_double(g, 2)};
    tfc_with_name(g, "bad_call");
    CHECK(tfc_function_call(g, bn, in2, 2, &y) != 0);
    CHECK_CONTAINS(tfc_graph_error(g), "bad_call");
    CHECK_CONTAINS(tfc_graph_error(g), "float");
    tfc_graph_clear_error(g);
    /* an error inside a body names the function and the node */
    CHECK(tfc_function_define(g, "Broken", 1, dt, NULL, 1, add_int_to_arg, NULL) == NULL);
    CHECK_CONTAINS(tfc_graph_error(g), "function 'Broken'");
    CHECK_CONTAINS(tfc_graph_error(g), "Node 'Add'");
    tfc_graph_clear_error(g);
    CHECK(tfc_function_define(g, "Refuses", 1, dt, NULL, 1, refuses, NULL) == NULL);
    CHECK_CONTAINS(tfc_graph_error(g), "function 'Refuses'");
    tfc_graph_clear_error(g);
    tfc_graph_free(g);
}

/* ---- control dependencies and group inside bodies ---- */

static int with_deps(tfc_graph *b, const tfc_output *a, int n, void *u, tfc_output *outs) {
    (void)a, (void)n;
    int fail = *(int *)u;
    tfc_output z = tfc_div(b, tfc_const_int32(b, 1), tfc_const_int32(b, fail ? 0 : 1));
    tfc_node *grp = tfc_group(b, &z.node, 1);
    tfc_control_dependencies_push(b, &grp, 1);
    outs[0] = tfc_identity(b, tfc_const_float(b, 3));
    tfc_control_dependencies_pop(b);
    return 0;
}

static void test_control_dependencies_in_branch(void) {
    for (int fail = 0; fail < 2; fail++) {
        tfc_graph *g = tfc_graph_new();
        tfc_output out;
        tfc_cond(g, tfc_const_bool(g, 1), with_deps, float_branch, &fail, 1, &out);
        CHECK_GRAPH_OK(g);
        tfc_status *st = tfc_status_new();
        tfc_session *s = tfc_session_new(g, NULL, st);
        tfc_tensor *r = tfc_session_run1(s, NULL, NULL, 0, out, st);
        if (fail) {
            /* the dependency ran (and failed) */
            CHECK(r == NULL);
            CHECK_CONTAINS(tfc_status_message(st), "Div");
        } else {
            CHECK_STATUS_OK(st);
            CHECK(r && tfc_test_get(r, 0) == 3);
        }
        tfc_tensor_free(r);
        tfc_session_free(s);
        tfc_status_free(st);
        tfc_graph_free(g);
    }
}

/* Two sessions on one graph and concurrent state: each has its sub-sessions. */
static void test_two_sessions(void) {
    tfc_graph *g = tfc_graph_new();
    tfc_output i0 = tfc_placeholder(g, "i0", TFC_INT32, 0, NULL), out;
    tfc_while_loop(g, i_less_10, i_plus_1, NULL, &i0, 1, NULL, 10, &out);
    CHECK_GRAPH_OK(g);
    tfc_status *st = tfc_status_new();
    tfc_session *s1 = tfc_session_new(g, NULL, st), *s2 = tfc_session_new(g, NULL, st);
    for (int k = 0; k < 3; k++) {
        tfc_tensor *v = tfc_tensor_scalar_int32(k * 3);
        tfc_tensor *a = tfc_session_run1(s1, &i0, &v, 1, out, st);
        tfc_tensor *b = tfc_session_run1(s2, &i0, &v, 1, out, st);
        CHECK(a && b && tfc_test_get(a, 0) == 10 && tfc_test_get(b, 0) == 10);
        tfc_tensor_free(a);
        tfc_tensor_free(b);
        tfc_tensor_free(v);
    }
    tfc_session_free(s1);
    tfc_session_free(s2);
    tfc_status_free(st);
    tfc_graph_free(g);
}

/* ---- dynamic_rnn ---- */

/* dynamic_rnn against static_rnn with the same LSTM variables: outputs
 * (zeros past each sequence's length), final state, and the gradients
 * with respect to the inputs and the kernel. */
static void test_dynamic_rnn_vs_static(void) {
    enum { B = 3, T = 4, D = 2, U = 3 };
    tfc_graph *g = tfc_graph_new();
    tfc_rnn_cell *cell = tfc_basic_lstm_cell(U, 1.0);
    tfc_output x = tfc_placeholder(g, "x", TFC_DOUBLE, 3, (int64_t[]){B, T, D});
    tfc_output seq = tfc_placeholder(g, "seq", TFC_INT32, 1, (int64_t[]){B});
    tfc_output dout, dstate[2], sout[T], sstate[2], xs[T];
    CHECK(tfc_dynamic_rnn(g, cell, x, seq, NULL, NULL, &dout, dstate) == 0);
    tfc_unstack(g, x, T, 1, xs);
    tfc_static_rnn(g, cell, xs, T, NULL, NULL, sout, sstate);
    tfc_node *kernel = tfc_graph_node_by_name(g, "rnn/basic_lstm_cell/kernel");
    CHECK(kernel != NULL);
    CHECK(tfc_graph_collection_size(g, TFC_TRAINABLE_VARIABLES) == 2);
    tfc_output dloss = tfc_reduce_sum(g, tfc_square(g, dout), NULL, 0, 0);
    tfc_output sstack = tfc_stack(g, sout, T, 1);
    tfc_output sloss = tfc_reduce_sum(g, tfc_square(g, sstack), NULL, 0, 0);
    tfc_output wrt[] = {x, tfc_out(kernel, 0)}, dg[2], sg[2];
    tfc_gradients(g, &dloss, 1, wrt, 2, NULL, dg);
    tfc_gradients(g, &sloss, 1, wrt, 2, NULL, sg);
    tfc_node *init = tfc_global_variables_initializer(g);
    CHECK_GRAPH_OK(g);
    tfc_status *st = tfc_status_new();
    tfc_session *s = tfc_session_new(g, NULL, st);
    tfc_session_run(s, NULL, NULL, 0, NULL, 0, NULL, &init, 1, st);
    CHECK_STATUS_OK(st);
    tfc_tensor *xt = tfc_test_random_tensor(TFC_DOUBLE, 3, (int64_t[]){B, T, D}, -1, 1);
    int32_t lens[][B] = {{T, T, T}, {T, 2, 0}};
    for (int li = 0; li < 2; li++) {
        tfc_tensor *lt = tfc_tensor_from_data(TFC_INT32, 1, (int64_t[]){B}, lens[li]);
        tfc_output feeds[] = {x, seq};
        tfc_tensor *vals[] = {xt, lt};
        tfc_output fetch[] = {dout, sstack, dstate[0], dstate[1], sstate[0], dg[0], sg[0], dg[1], sg[1]};
        tfc_tensor *r[9];
        tfc_session_run(s, feeds, vals, 2, fetch, 9, r, NULL, 0, st);
        CHECK_STATUS_OK(st);
        if (r[0]) {
            double err = 0;
            for (int b = 0; b < B; b++)
                for (int t = 0; t < T; t++)
                    for (int u = 0; u < U; u++) {
                        int64_t k = (b * T + t) * U + u;
                        double want = t < lens[li][b] ? tfc_test_get(r[1], k) : 0;
                        err = fmax(err, fabs(tfc_test_get(r[0], k) - want));
                    }
            CHECK(err < 1e-12);
            /* final h: the output at each example's last step (zeros if none) */
            for (int b = 0; b < B; b++)
                for (int u = 0; u < U; u++) {
                    int L = lens[li][b];
                    double want = L ? tfc_test_get(r[1], (b * T + L - 1) * U + u) : 0;
                    CHECK_NEAR(tfc_test_get(r[3], b * U + u), want, 1e-12);
                }
            if (li == 0) {
                CHECK(tfc_test_max_diff(r[2], r[4]) < 1e-12);
                CHECK(tfc_test_max_diff(r[5], r[6]) < 1e-10);
                CHECK(tfc_test_max_diff(r[7], r[8]) < 1e-10);
            } else {
                /* no gradient reaches the steps past a sequence's end */
                for (int t = 2; t < T; t++)
                    for (int k = 0; k < D; k++) CHECK(tfc_test_get(r[5], (1 * T + t) * D + k) == 0);
            }
        }
        for (int k = 0; k < 9; k++) tfc_tensor_free(r[k]);
        tfc_tensor_free(lt);
    }
    tfc_tensor_free(xt);
    tfc_session_free(s);
    tfc_status_free(st);
    tfc_rnn_cell_free(cell);
    tfc_graph_free(g);
}

/* Reading an outer variable in a body captures its value; the gradient
 * reaches the variable. Assigning it inside a body is refused. */
static int assign_in_body(tfc_graph *b, const tfc_output *a, int n, void *u, tfc_output *outs) {
    (void)n;
    outs[0] = a[0];
    outs[1] = tfc_assign(b, *(tfc_output *)u, a[1]);
    return 0;
}

static void test_variable_in_body(void) {
    tfc_graph *g = tfc_graph_new();
    int64_t d[] = {4};
    tfc_tensor *wt = tfc_test_random_tensor(TFC_DOUBLE, 1, d, -1.5, 1.5);
    loop_ctx c;
    c.w = tfc_variable(g, "w", tfc_const(g, wt));
    c.n = tfc_const_int32(g, 3);
    tfc_output vars[] = {tfc_const_int32(g, 0), tfc_ones(g, TFC_DOUBLE, 1, d)}, outs[2], dw;
    tfc_while_loop(g, i_less_n, pow_body, &c, vars, 2, NULL, 1, outs);
    tfc_gradients(g, &outs[1], 1, &c.w, 1, NULL, &dw);
    tfc_node *init = tfc_global_variables_initializer(g);
    CHECK_GRAPH_OK(g);
    tfc_status *st = tfc_status_new();
    tfc_session *s = tfc_session_new(g, NULL, st);
    tfc_session_run(s, NULL, NULL, 0, NULL, 0, NULL, &init, 1, st);
    tfc_output fetch[] = {outs[1], dw};
    tfc_tensor *r[2];
    tfc_session_run(s, NULL, NULL, 0, fetch, 2, r, NULL, 0, st);
    CHECK_STATUS_OK(st);
    for (int k = 0; r[0] && k < 4; k++) {
        double w = tfc_test_get(wt, k);
        CHECK_NEAR(tfc_test_get(r[0], k), w * w * w, 1e-12);
        CHECK_NEAR(tfc_test_get(r[1], k), 3 * w * w, 1e-12);
    }
    tfc_tensor_free(r[0]);
    tfc_tensor_free(r[1]);
    tfc_session_free(s);
    tfc_status_free(st);
    tfc_while_loop(g, i_less_n, assign_in_body, &c.w, vars, 2, NULL, 1, outs);
    CHECK_CONTAINS(tfc_graph_error(g), "must be a variable");
    tfc_tensor_free(wt);
    tfc_graph_free(g);
}

/* dynamic_rnn trains: gradient descent on its LSTM variables lowers a
 * regression loss (float32, no sequence lengths). */
static void test_dynamic_rnn_trains(void) {
    enum { B = 4, T = 5, D = 3, U = 4 };
    tfc_graph *g = tfc_graph_new();
    tfc_graph_set_seed(g, 7);
    tfc_rnn_cell *cell = tfc_basic_lstm_cell(U, 1.0);
    tfc_tensor *xt = tfc_test_random_tensor(TFC_FLOAT, 3, (int64_t[]){B, T, D}, -1, 1);
    /* a reachable target: 0.4 plus a little noise */
    tfc_tensor *yt = tfc_test_random_tensor(TFC_FLOAT, 3, (int64_t[]){B, T, U}, 0.35, 0.45);
    tfc_output out, none = {NULL, 0};
    tfc_dynamic_rnn(g, cell, tfc_const(g, xt), none, NULL, "enc", &out, NULL);
    tfc_output loss = tfc_reduce_mean(g, tfc_squared_difference(g, out, tfc_const(g, yt)), NULL, 0, 0);
    tfc_optimizer *opt = tfc_gradient_descent_optimizer(1.0);
    tfc_node *train = tfc_optimizer_minimize(opt, g, loss, NULL, 0, none);
    tfc_node *init = tfc_global_variables_initializer(g);
    CHECK_GRAPH_OK(g);
    CHECK(tfc_graph_node_by_name(g, "enc/basic_lstm_cell/kernel") != NULL);
    tfc_status *st = tfc_status_new();
    tfc_session *s = tfc_session_new(g, NULL, st);
    tfc_session_run(s, NULL, NULL, 0, NULL, 0, NULL, &init, 1, st);
    tfc_tensor *l0 = tfc_session_run1(s, NULL, NULL, 0, loss, st);
    for (int step = 0; step < 100 && tfc_status_code(st) == TFC_OK; step++)
        tfc_session_run(s, NULL, NULL, 0, NULL, 0, NULL, &train, 1, st);
    tfc_tensor *l1 = tfc_session_run1(s, NULL, NULL, 0, loss, st);
    CHECK_STATUS_OK(st);
    CHECK(l0 && l1);
    if (l0 && l1) CHECK_MSG(tfc_test_get(l1, 0) < 0.5 * tfc_test_get(l0, 0), "loss %g -> %g",
                            tfc_test_get(l0, 0), tfc_test_get(l1, 0));
    tfc_tensor_free(l0);
    tfc_tensor_free(l1);
    tfc_tensor_free(xt);
    tfc_tensor_free(yt);
    tfc_session_free(s);
    tfc_status_free(st);
    tfc_optimizer_free(opt);
    tfc_rnn_cell_free(cell);
    tfc_graph_free(g);
}

/* parallel_iterations: each iteration multiplies captured matrices (work
 * that does not depend on the previous iteration), long enough that the
 * loop switches to overlapping iterations after timing its first ones; the
 * results are bit-identical to the same loop with parallel_iterations 1.
 * A variable that leaves its shape invariant in an overlapped iteration is
 * an error naming the loop, the variable and the iteration. */
typedef struct heavy_ctx {
    tfc_output w;
    int grow; /* make variable 2 change shape at iteration 7 */
} heavy_ctx;

static int i_less_12(tfc_graph *b, const tfc_output *a, int n, void *u, tfc_output *outs) {
    (void)n, (void)u;
    outs[0] = tfc_less(b, a[0], tfc_const_int32(b, 12));
    return 0;
}

static int heavy_body(tfc_graph *b, const tfc_output *a, int n, void *u, tfc_output *outs) {
    (void)n;
    heavy_ctx *h = u;
    tfc_output scale = tfc_cast(b, tfc_add(b, a[0], tfc_const_int32(b, 1)), TFC_FLOAT);
    tfc_output p = tfc_matmul(b, tfc_mul(b, h->w, scale), h->w);
    outs[0] = tfc_add(b, a[0], tfc_const_int32(b, 1));
    outs[1] = tfc_add(b, a[1], tfc_reduce_sum(b, p, NULL, 0, 0));
    if (h->grow) {
        /* length max(i - 3, 3): 3 until iteration 7 */
        tfc_output len = tfc_maximum(b, tfc_sub(b, a[0], tfc_const_int32(b, 3)),
                                     tfc_const_int32(b, 3));
        int64_t one = 1;
        outs[2] = tfc_fill(b, tfc_reshape(b, len, 1, &one), tfc_const_float(b, 1));
    } else {
        outs[2] = tfc_add(b, a[2], tfc_const_float(b, 1));
    }
    return 0;
}

static void test_while_parallel_iterations(void) {
    for (int grow = 0; grow < 2; grow++) {
        tfc_graph *g = tfc_graph_new();
        int64_t wd[] = {384, 384}; /* a body run well over 100 us, even on fast cores */
        tfc_tensor *wv = tfc_test_random_tensor(TFC_FLOAT, 2, wd, -0.1, 0.1);
        heavy_ctx h = {tfc_const(g, wv), grow};
        tfc_tensor_free(wv);
        tfc_shape inv[3] = {tfc_shape_scalar(), tfc_shape_scalar(), tfc_shape_vector(3)};
        tfc_output vars[3] = {tfc_const_int32(g, 0), tfc_const_float(g, 0),
                              tfc_fill(g, tfc_const_ints(g, (int32_t[]){3}, 1),
                                       tfc_const_float(g, 0))},
                   fast[3], slow[3];
        CHECK(tfc_while_loop(g, i_less_12, heavy_body, &h, vars, 3, inv, 10, fast) == 0);
        CHECK(tfc_while_loop(g, i_less_12, heavy_body, &h, vars, 3, inv, 1, slow) == 0);
        CHECK_GRAPH_OK(g);
        tfc_session_options o = {.intra_op_threads = 2, .inter_op_threads = 2};
        tfc_status *st = tfc_status_new();
        tfc_session *s = tfc_session_new(g, &o, st);
        int before = atomic_load(&tfc_while_pipelined_count);
        tfc_tensor *r[3] = {NULL, NULL, NULL};
        tfc_session_run(s, NULL, NULL, 0, fast, 3, r, NULL, 0, st);
        CHECK(atomic_load(&tfc_while_pipelined_count) == before + 1);
        if (!grow) {
            CHECK_STATUS_OK(st);
            tfc_tensor *q[3] = {NULL, NULL, NULL};
            tfc_session_run(s, NULL, NULL, 0, slow, 3, q, NULL, 0, st);
            CHECK_STATUS_OK(st);
            CHECK(atomic_load(&tfc_while_pipelined_count) == before + 1);
            for (int i = 0; i < 3; i++) {
                CHECK(r[i] && q[i] && tfc_test_max_diff(r[i], q[i]) == 0);
                tfc_tensor_free(q[i]);
            }
            if (r[0]) CHECK_NEAR(tfc_test_get(r[0], 0), 12, 0);
            if (r[2]) CHECK_NEAR(tfc_test_get(r[2], 2), 12, 0);
        } else {
            CHECK(tfc_status_code(st) == TFC_INVALID_ARGUMENT);
            CHECK_MSG(strstr(tfc_status_message(st), "loop variable 2") &&
                          strstr(tfc_status_message(st), "iteration 7") &&
                          strstr(tfc_status_message(st), "[4]"),
                      "%s", tfc_status_message(st));
        }
        for (int i = 0; i < 3; i++) tfc_tensor_free(r[i]);
        tfc_session_free(s);
        tfc_status_free(st);
        tfc_graph_free(g);
    }
}

TFC_TEST_MAIN(T(test_cond_issue_example), T(test_cond_only_taken_branch_runs),
              T(test_cond_captures_random), T(test_cond_gradient),
              T(test_cond_gradient_taken_branch_only), T(test_cond_second_derivative),
              T(test_cond_errors), T(test_while_counter), T(test_while_many_vars_random),
              T(test_while_shape_invariants), T(test_while_runtime_shape_error),
              T(test_while_100k_iterations), T(test_while_parallel_iterations),
              T(test_while_nested), T(test_while_gradient_power),
              T(test_while_gradient_initial_value), T(test_while_gradient_rnn_vs_unrolled),
              T(test_cond_inside_while_gradient), T(test_function_batch_norm),
              T(test_function_capture_and_nested_call), T(test_function_errors),
              T(test_control_dependencies_in_branch), T(test_two_sessions),
              T(test_dynamic_rnn_vs_static), T(test_variable_in_body), T(test_dynamic_rnn_trains))
