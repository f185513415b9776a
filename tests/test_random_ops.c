/* Random ops: moments of large samples, ranges, truncation, odd sizes,
 * dynamic shapes, seeds (reproducible across sessions, new values per run)
 * and misuse. */
#include "harness.h"

#include <pthread.h>
#include <stdlib.h>

static tfc_session *new_session(tfc_graph *g, tfc_status *st) {
    tfc_session *s = tfc_session_new(g, NULL, st);
    CHECK_STATUS_OK(st);
    return s;
}

static void moments(const tfc_tensor *t, double *mean, double *var) {
    int64_t n = tfc_tensor_num_elements(t);
    double m = 0, v = 0;
    for (int64_t i = 0; i < n; i++) m += tfc_test_get(t, i);
    m /= (double)n;
    for (int64_t i = 0; i < n; i++) {
        double d = tfc_test_get(t, i) - m;
        v += d * d;
    }
    *mean = m;
    *var = v / (double)(n - 1);
}

/* N(mean, sd^2): sample moments within ~5 standard errors, and the share
 * inside one sd near 0.6827. */
static void test_normal_moments(void) {
    const tfc_dtype dts[] = {TFC_FLOAT, TFC_DOUBLE};
    for (int k = 0; k < 2; k++) {
        tfc_graph *g = tfc_graph_new();
        int64_t dims[] = {200, 250};
        double mu = k ? -1.5 : 0.0, sd = k ? 2.5 : 1.0;
        tfc_output r = tfc_random_normal(g, dts[k], 2, dims, mu, sd, 0);
        CHECK_GRAPH_OK(g);
        CHECK(tfc_output_dtype(r) == dts[k]);
        tfc_tensor *t = tfc_test_eval(g, r, NULL, NULL, 0);
        CHECK(t != NULL);
        if (t) {
            CHECK(tfc_tensor_dim(t, 0) == 200 && tfc_tensor_dim(t, 1) == 250);
            double m, v;
            moments(t, &m, &v);
            double n = 50000;
            CHECK_MSG(fabs(m - mu) < 5 * sd / sqrt(n), "mean %g", m);
            CHECK_MSG(fabs(v - sd * sd) < 5 * sd * sd * sqrt(2 / n), "var %g", v);
            int in1 = 0;
            for (int64_t i = 0; i < 50000; i++) in1 += fabs(tfc_test_get(t, i) - mu) < sd;
            CHECK_NEAR(in1 / n, 0.682689, 0.012);
        }
        tfc_tensor_free(t);
        tfc_graph_free(g);
    }
}

static void test_uniform_range_and_moments(void) {
    const tfc_dtype dts[] = {TFC_FLOAT, TFC_DOUBLE};
    for (int k = 0; k < 2; k++) {
        tfc_graph *g = tfc_graph_new();
        int64_t dims[] = {60001};
        double lo = k ? -3.0 : 2.0, hi = k ? 5.0 : 2.5;
        /* seeded: without a seed, one run in about 70 drew a float32 that
         * rounded up to hi (below) */
        tfc_output r = tfc_random_uniform(g, dts[k], 1, dims, lo, hi, 17);
        tfc_tensor *t = tfc_test_eval(g, r, NULL, NULL, 0);
        CHECK(t != NULL);
        if (t) {
            int ok = 1;
            for (int64_t i = 0; i < dims[0]; i++) {
                double x = tfc_test_get(t, i);
                /* u * (hi - lo) + lo with u < 1, as TensorFlow computes it: in
                 * float32 it may round up to hi itself */
                ok &= x >= lo && (dts[k] == TFC_FLOAT ? x <= hi : x < hi);
            }
            CHECK(ok);
            double m, v, w = hi - lo, n = (double)dims[0];
            moments(t, &m, &v);
            CHECK_MSG(fabs(m - (lo + hi) / 2) < 5 * w / sqrt(12 * n), "mean %g", m);
            CHECK_MSG(fabs(v - w * w / 12) < 5 * w * w * sqrt(1.0 / (180 * n)), "var %g", v);
            /* each tenth of the range gets about a tenth of the draws */
            int bins[10] = {0};
            for (int64_t i = 0; i < dims[0]; i++) {
                int b = (int)((tfc_test_get(t, i) - lo) / w * 10);
                bins[b < 0 ? 0 : b > 9 ? 9 : b]++;
            }
            for (int b = 0; b < 10; b++) CHECK_NEAR(bins[b] / n, 0.1, 0.01);
        }
        tfc_tensor_free(t);
        tfc_graph_free(g);
    }
}

/* Truncated at 2 sd: variance of the standard normal truncated to [-2, 2]
 * is 1 - 4 phi(2) / (Phi(2) - Phi(-2)). */
static void test_truncated_normal(void) {
    const tfc_dtype dts[] = {TFC_FLOAT, TFC_DOUBLE};
    double phi2 = exp(-2.0) / sqrt(2 * M_PI), mass = erf(2 / sqrt(2.0));
    double tvar = 1 - 4 * phi2 / mass;
    for (int k = 0; k < 2; k++) {
        tfc_graph *g = tfc_graph_new();
        int64_t dims[] = {50000};
        double mu = k ? 3.0 : 0.0, sd = k ? 0.5 : 1.0;
        tfc_output r = tfc_truncated_normal(g, dts[k], 1, dims, mu, sd, 0);
        tfc_tensor *t = tfc_test_eval(g, r, NULL, NULL, 0);
        CHECK(t != NULL);
        if (t) {
            double worst = 0;
            for (int64_t i = 0; i < dims[0]; i++) {
                double d = fabs(tfc_test_get(t, i) - mu) / sd;
                if (d > worst) worst = d;
            }
            CHECK_MSG(worst <= 2.0 + 1e-6, "worst %g", worst);
            CHECK_MSG(worst > 1.9, "worst %g", worst);
            double m, v;
            moments(t, &m, &v);
            CHECK_MSG(fabs(m - mu) < 5 * sd * sqrt(tvar / 50000), "mean %g", m);
            CHECK_NEAR(v / (sd * sd), tvar, 0.02);
        }
        tfc_tensor_free(t);
        tfc_graph_free(g);
    }
}

/* Sizes that are not a multiple of the generator's block, and rank 0. */
static void test_odd_shapes(void) {
    int64_t shapes[][3] = {{1, 1, 1}, {3, 1, 1}, {5, 1, 1}, {2, 3, 5}};
    int ranks[] = {1, 1, 1, 3};
    const char *types[] = {"RandomStandardNormal", "RandomUniform", "TruncatedNormal"};
    for (int s = 0; s < 4; s++) {
        for (int k = 0; k < 3; k++) {
            for (int dd = 0; dd < 2; dd++) {
                tfc_graph *g = tfc_graph_new();
                tfc_dtype dt = dd ? TFC_DOUBLE : TFC_FLOAT;
                int32_t d32[3];
                for (int i = 0; i < ranks[s]; i++) d32[i] = (int32_t)shapes[s][i];
                tfc_op_desc *d = tfc_op_new(g, types[k], NULL);
                tfc_op_add_input(d, tfc_const_ints(g, d32, ranks[s]));
                tfc_op_set_attr_type(d, "dtype", dt);
                tfc_output r = tfc_out(tfc_op_finish(d), 0);
                CHECK_GRAPH_OK(g);
                tfc_shape sh = tfc_output_shape(r);
                CHECK(sh.rank == ranks[s]);
                tfc_tensor *t = tfc_test_eval(g, r, NULL, NULL, 0);
                CHECK(t && tfc_tensor_rank(t) == ranks[s]);
                if (t) {
                    int64_t n = tfc_tensor_num_elements(t);
                    CHECK(n == shapes[s][0] * shapes[s][1] * shapes[s][2]);
                    int ok = 1, distinct = 1;
                    for (int64_t i = 0; i < n; i++) {
                        double x = tfc_test_get(t, i);
                        ok &= isfinite(x);
                        if (k == 1) ok &= x >= 0 && x < 1;
                        if (k == 2) ok &= fabs(x) <= 2;
                        for (int64_t j = 0; j < i; j++) distinct &= x != tfc_test_get(t, j);
                    }
                    CHECK(ok);
                    CHECK(distinct);
                }
                tfc_tensor_free(t);
                tfc_graph_free(g);
            }
        }
    }
    /* rank 0 through the helper */
    tfc_graph *g = tfc_graph_new();
    tfc_output r = tfc_random_normal(g, TFC_DOUBLE, 0, NULL, 0, 1, 0);
    tfc_tensor *t = tfc_test_eval(g, r, NULL, NULL, 0);
    CHECK(t && tfc_tensor_rank(t) == 0 && isfinite(tfc_test_get(t, 0)));
    tfc_tensor_free(t);
    tfc_graph_free(g);
}

/* The shape may be computed at run time (a fed int32 or int64 vector). */
static void test_dynamic_shape(void) {
    const tfc_dtype sdts[] = {TFC_INT32, TFC_INT64};
    for (int k = 0; k < 2; k++) {
        tfc_graph *g = tfc_graph_new();
        int64_t three = 3;
        tfc_output shp = tfc_placeholder(g, "shape", sdts[k], 1, &three);
        tfc_op_desc *d = tfc_op_new(g, "RandomUniform", NULL);
        tfc_op_add_input(d, shp);
        tfc_op_set_attr_type(d, "dtype", TFC_FLOAT);
        tfc_output r = tfc_out(tfc_op_finish(d), 0);
        CHECK_GRAPH_OK(g);
        tfc_shape sh = tfc_output_shape(r);
        CHECK(sh.rank == 3 && sh.dims[0] == -1);
        int32_t v32[] = {4, 1, 7};
        int64_t v64[] = {4, 1, 7};
        tfc_tensor *sv = tfc_tensor_from_data(sdts[k], 1, &three, k ? (void *)v64 : (void *)v32);
        tfc_tensor *t = tfc_test_eval(g, r, &shp, &sv, 1);
        CHECK(t && tfc_tensor_num_elements(t) == 28 && tfc_tensor_dim(t, 2) == 7);
        tfc_tensor_free(t);
        tfc_tensor_free(sv);
        tfc_graph_free(g);
    }
}

static tfc_tensor *run_once(tfc_session *s, tfc_output r, tfc_status *st) {
    tfc_tensor *t = tfc_session_run1(s, NULL, NULL, 0, r, st);
    CHECK_STATUS_OK(st);
    return t;
}

/* Builds a graph with two random ops and returns values of the second from
 * two runs of a fresh session. */
static void draw_twice(int64_t graph_seed, int64_t op_seed, tfc_tensor **a, tfc_tensor **b,
                       tfc_tensor **other) {
    tfc_graph *g = tfc_graph_new();
    if (graph_seed) tfc_graph_set_seed(g, graph_seed);
    int64_t dims[] = {17};
    tfc_output r0 = tfc_random_uniform(g, TFC_FLOAT, 1, dims, 0, 1, 0);
    tfc_output r = tfc_random_normal(g, TFC_FLOAT, 1, dims, 0, 1, op_seed);
    CHECK_GRAPH_OK(g);
    tfc_status *st = tfc_status_new();
    tfc_session *s = new_session(g, st);
    *a = run_once(s, r, st);
    *b = run_once(s, r, st);
    *other = run_once(s, r0, st);
    tfc_session_free(s);
    tfc_status_free(st);
    tfc_graph_free(g);
}

static int same(const tfc_tensor *a, const tfc_tensor *b) {
    return a && b && tfc_test_max_diff(a, b) == 0;
}

static void test_seeds(void) {
    /* {graph seed, op seed, reproducible across sessions} */
    const int64_t cases[][3] = {{42, 0, 1}, {42, 7, 1}, {0, 7, 1}, {0, 0, 0}};
    for (int c = 0; c < 4; c++) {
        tfc_tensor *a1, *b1, *o1, *a2, *b2, *o2;
        draw_twice(cases[c][0], cases[c][1], &a1, &b1, &o1);
        draw_twice(cases[c][0], cases[c][1], &a2, &b2, &o2);
        CHECK_MSG(!same(a1, b1), "case %d: two runs of one session agree", c);
        CHECK_MSG(same(a1, a2) == (int)cases[c][2], "case %d", c);
        CHECK_MSG(same(b1, b2) == (int)cases[c][2], "case %d", c);
        /* two ops of one graph draw different numbers */
        CHECK(!same(a1, o1));
        tfc_tensor_free(a1), tfc_tensor_free(b1), tfc_tensor_free(o1);
        tfc_tensor_free(a2), tfc_tensor_free(b2), tfc_tensor_free(o2);
    }
    /* another graph seed gives other values */
    tfc_tensor *a1, *b1, *o1, *a2, *b2, *o2;
    draw_twice(42, 0, &a1, &b1, &o1);
    draw_twice(43, 0, &a2, &b2, &o2);
    CHECK(!same(a1, a2));
    tfc_tensor_free(a1), tfc_tensor_free(b1), tfc_tensor_free(o1);
    tfc_tensor_free(a2), tfc_tensor_free(b2), tfc_tensor_free(o2);
    /* TensorFlow's seed attrs */
    tfc_graph *g = tfc_graph_new();
    tfc_output r = tfc_random_normal(g, TFC_FLOAT, 0, NULL, 0, 1, 5);
    CHECK(tfc_node_attr_int(r.node, "seed", -1) == 87654321);
    CHECK(tfc_node_attr_int(r.node, "seed2", -1) == 5);
    tfc_graph_set_seed(g, 9);
    int n = tfc_graph_num_nodes(g);
    r = tfc_random_uniform(g, TFC_FLOAT, 0, NULL, 0, 1, 0);
    CHECK(tfc_node_attr_int(r.node, "seed", -1) == 9);
    CHECK(tfc_node_attr_int(r.node, "seed2", -1) == n);
    tfc_graph_free(g);
}

static void test_misuse(void) {
    tfc_graph *g = tfc_graph_new();
    tfc_op_desc *d = tfc_op_new(g, "RandomUniform", "bad_dtype");
    tfc_op_add_input(d, tfc_const_ints(g, (int32_t[]){2}, 1));
    tfc_op_set_attr_type(d, "dtype", TFC_INT32);
    CHECK(tfc_op_finish(d) == NULL);
    CHECK_CONTAINS(tfc_graph_error(g), "bad_dtype");
    tfc_graph_clear_error(g);

    d = tfc_op_new(g, "RandomStandardNormal", "bad_shape");
    tfc_op_add_input(d, tfc_const_float(g, 2));
    tfc_op_set_attr_type(d, "dtype", TFC_FLOAT);
    CHECK(tfc_op_finish(d) == NULL);
    CHECK_CONTAINS(tfc_graph_error(g), "bad_shape");
    tfc_graph_clear_error(g);

    d = tfc_op_new(g, "TruncatedNormal", "neg_dim");
    tfc_op_add_input(d, tfc_const_ints(g, (int32_t[]){2, -1}, 2));
    tfc_op_set_attr_type(d, "dtype", TFC_FLOAT);
    CHECK(tfc_op_finish(d) == NULL);
    CHECK_CONTAINS(tfc_graph_error(g), "neg_dim");
    tfc_graph_clear_error(g);

    int64_t bad[] = {-2};
    CHECK(tfc_random_normal(g, TFC_FLOAT, 1, bad, 0, 1, 0).node == NULL);
    CHECK_CONTAINS(tfc_graph_error(g), "RandomStandardNormal");
    tfc_graph_clear_error(g);

    /* a negative dim fed at run time is a run-time error naming the node */
    int64_t one = 1;
    tfc_output shp = tfc_placeholder(g, "s", TFC_INT32, 1, &one);
    d = tfc_op_new(g, "RandomUniform", "runtime_neg");
    tfc_op_add_input(d, shp);
    tfc_op_set_attr_type(d, "dtype", TFC_DOUBLE);
    tfc_output r = tfc_out(tfc_op_finish(d), 0);
    CHECK_GRAPH_OK(g);
    tfc_status *st = tfc_status_new();
    tfc_session *s = new_session(g, st);
    tfc_tensor *neg = tfc_tensor_from_data(TFC_INT32, 1, &one, (int32_t[]){-3});
    tfc_tensor *t = tfc_session_run1(s, &shp, &neg, 1, r, st);
    CHECK(t == NULL);
    CHECK_CONTAINS(tfc_status_message(st), "runtime_neg");
    tfc_tensor_free(neg);
    tfc_session_free(s);
    tfc_status_free(st);
    tfc_graph_free(g);
}

/* No gradient flows through a random op, and that is not an error. */
static void test_no_gradient(void) {
    tfc_graph *g = tfc_graph_new();
    tfc_output x = tfc_placeholder(g, "x", TFC_DOUBLE, 0, NULL);
    tfc_output r = tfc_random_normal(g, TFC_DOUBLE, 0, NULL, 0, 1, 1);
    tfc_output y = tfc_mul(g, x, r);
    tfc_output grads[2];
    tfc_output xs[2] = {x, r};
    CHECK(tfc_gradients(g, &y, 1, xs, 2, NULL, grads) == 0);
    CHECK_GRAPH_OK(g);
    CHECK(grads[0].node != NULL);
    tfc_graph_free(g);
}

typedef struct draw_job {
    tfc_session *s;
    tfc_output r;
    double first[40];
    int ok;
} draw_job;

static void *draw_many(void *arg) {
    draw_job *j = arg;
    tfc_status *st = tfc_status_new();
    j->ok = 1;
    for (int i = 0; i < 40; i++) {
        tfc_tensor *t = tfc_session_run1(j->s, NULL, NULL, 0, j->r, st);
        j->ok &= t != NULL;
        j->first[i] = t ? tfc_test_get(t, 0) : NAN;
        tfc_tensor_free(t);
    }
    tfc_status_free(st);
    return NULL;
}

/* Runs from two threads at once each get their own draw. */
static void test_concurrent_runs(void) {
    tfc_graph *g = tfc_graph_new();
    tfc_graph_set_seed(g, 3);
    int64_t dims[] = {5};
    tfc_output r = tfc_random_uniform(g, TFC_DOUBLE, 1, dims, 0, 1, 0);
    tfc_status *st = tfc_status_new();
    tfc_session *s = new_session(g, st);
    draw_job a = {s, r, {0}, 0}, b = {s, r, {0}, 0};
    pthread_t ta, tb;
    pthread_create(&ta, NULL, draw_many, &a);
    pthread_create(&tb, NULL, draw_many, &b);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    CHECK(a.ok && b.ok);
    int distinct = 1;
    for (int i = 0; i < 40; i++)
        for (int k = 0; k < 40; k++) {
            distinct &= a.first[i] != b.first[k];
            if (k < i) distinct &= a.first[i] != a.first[k] && b.first[i] != b.first[k];
        }
    CHECK(distinct);
    tfc_session_free(s);
    tfc_status_free(st);
    tfc_graph_free(g);
}

TFC_TEST_MAIN(T(test_normal_moments), T(test_uniform_range_and_moments), T(test_truncated_normal),
              T(test_odd_shapes), T(test_dynamic_shape), T(test_seeds), T(test_misuse),
              T(test_no_gradient), T(test_concurrent_runs))
