/* Embeddings, activations, dropout, variable scopes, initializers, layers
 * and batch norm: kernels against reference loops on random data,
 * gradients against finite differences, statistics of random blocks, and
 * the sharing rules and error messages of tfc_get_variable. */
#include "gradcheck.h"
#include "harness.h"

#include <stdlib.h>

static tfc_tensor *ints(tfc_dtype dt, int rank, const int64_t *dims, const int64_t *v) {
    tfc_tensor *t = tfc_tensor_new(dt, rank, dims);
    for (int64_t i = 0; i < tfc_tensor_num_elements(t); i++) {
        if (dt == TFC_INT32)
            ((int32_t *)tfc_tensor_data(t))[i] = (int32_t)v[i];
        else
            ((int64_t *)tfc_tensor_data(t))[i] = v[i];
    }
    return t;
}

/* ---- Gather / GatherV2 ---- */

static void check_gather(tfc_dtype dt, tfc_dtype it, int prank, const int64_t *pd, int irank,
                         const int64_t *id, const int64_t *iv, int axis) {
    tfc_graph *g = tfc_graph_new();
    tfc_tensor *pt = tfc_test_random_tensor(dt, prank, pd, -1, 1);
    tfc_tensor *itn = ints(it, irank, id, iv);
    tfc_output p = tfc_placeholder(g, "p", dt, prank, pd);
    tfc_output ix = tfc_placeholder(g, "i", it, irank, id);
    tfc_output y = axis ? tfc_gather_v2(g, p, ix, axis) : tfc_gather(g, p, ix);
    CHECK_GRAPH_OK(g);
    tfc_output feeds[2] = {p, ix};
    tfc_tensor *vals[2] = {pt, itn};
    tfc_tensor *got = tfc_test_eval(g, y, feeds, vals, 2);
    int64_t outer = 1, inner = 1, n = tfc_tensor_num_elements(itn);
    for (int i = 0; i < axis; i++) outer *= pd[i];
    for (int i = axis + 1; i < prank; i++) inner *= pd[i];
    CHECK(got && tfc_tensor_rank(got) == prank - 1 + irank);
    CHECK(got && tfc_tensor_num_elements(got) == outer * n * inner);
    double worst = got ? 0 : INFINITY;
    for (int64_t o = 0; got && o < outer; o++)
        for (int64_t i = 0; i < n; i++)
            for (int64_t k = 0; k < inner; k++) {
                double want = tfc_test_get(pt, (o * pd[axis] + iv[i]) * inner + k);
                double d = fabs(tfc_test_get(got, (o * n + i) * inner + k) - want);
                if (d > worst) worst = d;
            }
    CHECK(worst == 0);
    tfc_tensor_free(got);
    tfc_tensor_free(pt);
    tfc_tensor_free(itn);
    tfc_graph_free(g);
}

static void test_gather(void) {
    int64_t pd[2] = {6, 3}, id[2] = {2, 2}, iv[4] = {5, 0, 2, 5};
    check_gather(TFC_FLOAT, TFC_INT32, 2, pd, 2, id, iv, 0);
    check_gather(TFC_DOUBLE, TFC_INT64, 2, pd, 2, id, iv, 0);
    int64_t pd3[3] = {3, 5, 2}, id1[1] = {4}, iv1[4] = {4, 1, 1, 0};
    check_gather(TFC_DOUBLE, TFC_INT32, 3, pd3, 1, id1, iv1, 1);
    int64_t iv2[4] = {1, 0, 1, 1};
    check_gather(TFC_FLOAT, TFC_INT64, 3, pd3, 1, id1, iv2, 2);
    int64_t pd1[1] = {7}, id0[1] = {3}, iv0[3] = {6, 3, 0};
    check_gather(TFC_INT32, TFC_INT32, 1, pd1, 1, id0, iv0, 0);
}

static void test_gather_errors(void) {
    tfc_graph *g = tfc_graph_new();
    int64_t pd[2] = {4, 2}, id[1] = {3}, bad[3] = {1, 4, 0};
    tfc_output p = tfc_placeholder(g, "p", TFC_FLOAT, 2, pd);
    tfc_output ix = tfc_placeholder(g, "i", TFC_INT32, 1, id);
    tfc_output fx = tfc_placeholder(g, "f", TFC_FLOAT, 1, id);
    tfc_with_name(g, "bad_indices");
    CHECK(tfc_gather(g, p, fx).node == NULL);
    CHECK_CONTAINS(tfc_graph_error(g), "bad_indices");
    CHECK_CONTAINS(tfc_graph_error(g), "int32 or int64");
    tfc_graph_clear_error(g);
    tfc_with_name(g, "lookup");
    tfc_output y = tfc_gather(g, p, ix);
    tfc_tensor *pt = tfc_test_random_tensor(TFC_FLOAT, 2, pd, -1, 1), *it = ints(TFC_INT32, 1, id, bad);
    tfc_status *st = tfc_status_new();
    tfc_session *s = tfc_session_new(g, NULL, st);
    tfc_output feeds[2] = {p, ix};
    tfc_tensor *vals[2] = {pt, it};
    CHECK(tfc_session_run1(s, feeds, vals, 2, y, st) == NULL);
    CHECK_CONTAINS(tfc_status_message(st), "lookup");
    CHECK_CONTAINS(tfc_status_message(st), "not in [0, 4)");
    tfc_session_free(s);
    tfc_status_free(st);
    tfc_tensor_free(pt);
    tfc_tensor_free(it);
    tfc_graph_free(g);
}

static void test_gather_gradcheck(void) {
    int64_t shapes[2][3] = {{5, 3, 0}, {4, 2, 3}};
    int ranks[2] = {2, 3};
    int64_t id[2] = {2, 3}, iv[6] = {1, 3, 1, 0, 1, 3};
    for (int c = 0; c < 2; c++) {
        tfc_graph *g = tfc_graph_new();
        tfc_output p = tfc_placeholder(g, "p", TFC_DOUBLE, ranks[c], shapes[c]);
        tfc_tensor *it = ints(TFC_INT64, 2, id, iv);
        tfc_output y = tfc_embedding_lookup(g, p, tfc_const(g, it));
        tfc_tensor *v = tfc_test_random_tensor(TFC_DOUBLE, ranks[c], shapes[c], -1, 1);
        double err = tfc_test_gradcheck(g, y, &p, &v, 1);
        CHECK_MSG(err < TFC_GRAD_TOL, "shape %d: %g", c, err);
        tfc_tensor_free(v);
        tfc_tensor_free(it);
        tfc_graph_free(g);
    }
}

/* ---- UnsortedSegmentSum ---- */

static void test_unsorted_segment_sum(void) {
    tfc_dtype types[2] = {TFC_FLOAT, TFC_DOUBLE};
    for (int ti = 0; ti < 2; ti++) {
        /* ids [5] over data [5, 3], and ids [2, 3] over data [2, 3, 2] */
        int64_t dd[2][3] = {{5, 3, 0}, {2, 3, 2}}, idd[2][2] = {{5, 0}, {2, 3}};
        int dr[2] = {2, 3}, ir[2] = {1, 2};
        int64_t idv[6] = {3, -1, 0, 3, 1, 0};
        for (int c = 0; c < 2; c++) {
            tfc_graph *g = tfc_graph_new();
            tfc_tensor *dt = tfc_test_random_tensor(types[ti], dr[c], dd[c], -1, 1);
            tfc_tensor *it = ints(TFC_INT32, ir[c], idd[c], idv);
            tfc_output d = tfc_placeholder(g, "d", types[ti], dr[c], dd[c]);
            tfc_output y = tfc_unsorted_segment_sum(g, d, tfc_const(g, it), 4);
            tfc_tensor *got = tfc_test_eval(g, y, &d, &dt, 1);
            int64_t nid = tfc_tensor_num_elements(it);
            int64_t inner = tfc_tensor_num_elements(dt) / nid;
            double want[4 * 8] = {0};
            for (int64_t i = 0; i < nid; i++)
                if (idv[i] >= 0)
                    for (int64_t k = 0; k < inner; k++)
                        want[idv[i] * inner + k] += tfc_test_get(dt, i * inner + k);
            CHECK(got && tfc_tensor_dim(got, 0) == 4 &&
                  tfc_tensor_num_elements(got) == 4 * inner);
            for (int64_t i = 0; got && i < 4 * inner; i++)
                CHECK_NEAR(tfc_test_get(got, i), want[i], 1e-6);
            tfc_tensor_free(got);
            tfc_tensor_free(dt);
            tfc_tensor_free(it);
            tfc_graph_free(g);
        }
    }
    /* gradient: gather of dy back to each row (ids all valid here) */
    tfc_graph *g = tfc_graph_new();
    int64_t dd[2] = {5, 3}, nd[1] = {5}, idv[5] = {3, 2, 0, 3, 1};
    tfc_tensor *it = ints(TFC_INT64, 1, nd, idv);
    tfc_output d = tfc_placeholder(g, "d", TFC_DOUBLE, 2, dd);
    tfc_output y = tfc_unsorted_segment_sum(g, d, tfc_const(g, it), 4);
    tfc_tensor *v = tfc_test_random_tensor(TFC_DOUBLE, 2, dd, -1, 1);
    double err = tfc_test_gradcheck(g, y, &d, &v, 1);
    CHECK_MSG(err < TFC_GRAD_TOL, "%g", err);
    tfc_tensor_free(v);
    tfc_tensor_free(it);
    tfc_graph_free(g);
}

/* ---- activations ---- */

typedef tfc_output (*act_fn)(tfc_graph *, tfc_output);

static tfc_output leaky(tfc_graph *g, tfc_output x) { return tfc_leaky_relu(g, x, 0.3); }

static double ref_act(int k, double x) {
    const double sa = 1.6732632423543772, ss = 1.0507009873554805;
    switch (k) {
    case 0: return x > 0 ? x : exp(x) - 1;
    case 1: return ss * (x > 0 ? x : sa * (exp(x) - 1));
    case 2: return x > 0 ? x : 0.3 * x;
    case 3: return log(1 + exp(x));
    default: return floor(x);
    }
}

static void test_activations(void) {
    act_fn fns[5] = {tfc_elu, tfc_selu, leaky, tfc_softplus, tfc_floor};
    const char *types[5] = {"Elu", "Selu", "LeakyRelu", "Softplus", "Floor"};
    int64_t shapes[2][3] = {{7, 0, 0}, {3, 4, 2}};
    int ranks[2] = {1, 3};
    tfc_dtype dts[2] = {TFC_FLOAT, TFC_DOUBLE};
    for (int k = 0; k < 5; k++)
        for (int di = 0; di < 2; di++)
            for (int si = 0; si < 2; si++) {
                tfc_graph *g = tfc_graph_new();
                tfc_output x = tfc_placeholder(g, "x", dts[di], ranks[si], shapes[si]);
                tfc_output y = fns[k](g, x);
                CHECK(y.node && strcmp(tfc_node_type(y.node), types[k]) == 0);
                tfc_tensor *xv = tfc_test_random_tensor(dts[di], ranks[si], shapes[si], -3, 3);
                tfc_tensor *got = tfc_test_eval(g, y, &x, &xv, 1);
                for (int64_t i = 0; got && i < tfc_tensor_num_elements(xv); i++)
                    CHECK_NEAR(tfc_test_get(got, i), ref_act(k, tfc_test_get(xv, i)),
                               dts[di] == TFC_FLOAT ? 1e-6 : 1e-14);
                CHECK(got != NULL);
                tfc_tensor_free(got);
                tfc_tensor_free(xv);
                if (k < 4 && dts[di] == TFC_DOUBLE) {
                    xv = tfc_test_random_tensor(TFC_DOUBLE, ranks[si], shapes[si], -3, 3);
                    double err = tfc_test_gradcheck(g, y, &x, &xv, 1);
                    CHECK_MSG(err < TFC_GRAD_TOL, "%s: %g", types[k], err);
                    tfc_tensor_free(xv);
                }
                tfc_graph_free(g);
            }
    /* softplus stays finite and exact far from 0 */
    tfc_graph *g = tfc_graph_new();
    double big[2] = {60.0, -60.0};
    int64_t two = 2;
    tfc_tensor *got = tfc_test_eval(g, tfc_softplus(g, tfc_const_data(g, TFC_DOUBLE, 1, &two, big)),
                                    NULL, NULL, 0);
    CHECK(got && tfc_test_get(got, 0) == 60.0);
    CHECK(got && fabs(tfc_test_get(got, 1) - exp(-60.0)) < 1e-40);
    tfc_tensor_free(got);
    tfc_graph_free(g);
}

/* Floor of float32 (vector lanes, then a scalar tail) is floorf, bit for
 * bit: signed zeros, halves, values past 2^23, infinities and NaN. */
static void test_floor_special_values(void) {
    static const float specials[] = {-0.0f,      0.0f,      -0.5f,       0.5f,     -1.0f,
                                     1.0f,       -1.5f,     2.5f,        1e10f,    -1e10f,
                                     8388607.5f, -8388607.5f, 16777217.0f, INFINITY, -INFINITY,
                                     NAN,        1e-30f,    -1e-30f,     -2.75f,   3.999f};
    enum { N = 45 }; /* two vectors of 16 and a tail */
    float x[N];
    for (int i = 0; i < N; i++) x[i] = specials[i % 20] * (i >= 20 && i < 40 ? -1.0f : 1.0f);
    tfc_graph *g = tfc_graph_new();
    int64_t n = N;
    tfc_tensor *got =
        tfc_test_eval(g, tfc_floor(g, tfc_const_data(g, TFC_FLOAT, 1, &n, x)), NULL, NULL, 0);
    CHECK(got != NULL);
    for (int i = 0; got && i < N; i++) {
        float want = floorf(x[i]), have = ((const float *)tfc_tensor_data(got))[i];
        CHECK_MSG(isnan(want) ? isnan(have) : memcmp(&want, &have, sizeof want) == 0,
                  "floor(%g): %g, expected %g", x[i], have, want);
    }
    tfc_tensor_free(got);
    tfc_graph_free(g);
}

/* The *Grad ops' own gradients (differentiating twice). */
static void test_activation_grad_gradcheck(void) {
    const char *types[4] = {"EluGrad", "SeluGrad", "LeakyReluGrad", "SoftplusGrad"};
    int64_t d[2] = {3, 5};
    for (int k = 0; k < 4; k++) {
        tfc_graph *g = tfc_graph_new();
        /* Elu/Selu outputs are above -1 (resp. -1.76) */
        tfc_tensor *vals[2] = {tfc_test_random_tensor(TFC_DOUBLE, 2, d, -2, 2),
                               tfc_test_random_tensor(TFC_DOUBLE, 2, d, -0.9, 2)};
        tfc_output gy = tfc_placeholder(g, "g", TFC_DOUBLE, 2, d);
        /* LeakyReluGrad's features only pick a slope: no gradient to check */
        tfc_output v = k == 2 ? tfc_const(g, vals[1]) : tfc_placeholder(g, "v", TFC_DOUBLE, 2, d);
        tfc_op_desc *od = tfc_op_new(g, types[k], NULL);
        tfc_op_add_input(od, gy);
        tfc_op_add_input(od, v);
        tfc_output y = tfc_out(tfc_op_finish(od), 0);
        tfc_output xs[2] = {gy, v};
        double err = tfc_test_gradcheck(g, y, xs, vals, k == 2 ? 1 : 2);
        CHECK_MSG(err < TFC_GRAD_TOL, "%s: %g", types[k], err);
        tfc_tensor_free(vals[0]);
        tfc_tensor_free(vals[1]);
        tfc_graph_free(g);
    }
}

/* ---- dropout ---- */

static void test_dropout(void) {
    tfc_graph *g = tfc_graph_new();
    int64_t xd[2] = {-1, 50}, full[2] = {40, 50};
    tfc_output x = tfc_placeholder(g, "x", TFC_FLOAT, 2, xd);
    tfc_output kp = tfc_placeholder(g, "keep_prob", TFC_FLOAT, 0, NULL);
    tfc_output y = tfc_dropout(g, x, kp, 7);
    tfc_output loss = tfc_reduce_sum(g, y, NULL, 0, 0), dx;
    CHECK(tfc_gradients(g, &loss, 1, &x, 1, NULL, &dx) == 0);
    CHECK_GRAPH_OK(g);
    tfc_tensor *xv = tfc_test_random_tensor(TFC_FLOAT, 2, full, 0.5, 1.5);
    tfc_status *st = tfc_status_new();
    tfc_session *s = tfc_session_new(g, NULL, st);
    tfc_output feeds[2] = {x, kp};
    tfc_output fetches[2] = {y, dx};
    double keeps[3] = {0.5, 0.8, 1.0};
    for (int k = 0; k < 3; k++) {
        tfc_tensor *kv = tfc_tensor_scalar_float((float)keeps[k]);
        tfc_tensor *vals[2] = {xv, kv}, *out[2] = {NULL, NULL};
        tfc_session_run(s, feeds, vals, 2, fetches, 2, out, NULL, 0, st);
        CHECK_STATUS_OK(st);
        int64_t n = 40 * 50, kept = 0, bad = 0;
        for (int64_t i = 0; out[0] && i < n; i++) {
            double xi = tfc_test_get(xv, i), yi = tfc_test_get(out[0], i);
            double gi = tfc_test_get(out[1], i);
            if (yi != 0) {
                kept++;
                bad += fabs(yi - xi / (float)keeps[k]) > 1e-5 * fabs(yi);
                bad += fabs(gi - 1 / (float)keeps[k]) > 1e-5;
            } else {
                bad += gi != 0;
            }
            if (keeps[k] == 1.0) bad += yi != xi;
        }
        CHECK_MSG(bad == 0, "keep %g: %lld bad elements", keeps[k], (long long)bad);
        /* the kept fraction is binomial: 2000 draws, 5 standard deviations */
        double p = (double)kept / (double)n, sd = sqrt(keeps[k] * (1 - keeps[k]) / (double)n);
        CHECK_MSG(fabs(p - keeps[k]) <= 5 * sd + 1e-12, "keep %g: kept %g", keeps[k], p);
        tfc_tensor_free(out[0]);
        tfc_tensor_free(out[1]);
        tfc_tensor_free(kv);
    }
    tfc_session_free(s);
    tfc_status_free(st);
    tfc_tensor_free(xv);
    /* a constant keep_prob outside (0, 1] is a build error */
    tfc_dropout(g, x, tfc_const_float(g, 1.5f), 0);
    CHECK_CONTAINS(tfc_graph_error(g), "range (0, 1]");
    tfc_graph_free(g);
}

/* ---- variable scopes and get_variable ---- */

static void test_get_variable_scopes(void) {
    tfc_graph *g = tfc_graph_new();
    int64_t d2[2] = {3, 4}, d3[2] = {4, 4};
    tfc_variable_scope_push(g, "fc", TFC_REUSE_INHERIT);
    tfc_output w = tfc_get_variable(g, "w", TFC_FLOAT, 2, d2, NULL);
    CHECK(w.node && strcmp(tfc_node_name(w.node), "fc/w") == 0);
    tfc_output again = tfc_get_variable(g, "w", TFC_FLOAT, 2, d2, NULL);
    CHECK(again.node == NULL);
    CHECK(tfc_graph_error_code(g) == TFC_ALREADY_EXISTS);
    CHECK_CONTAINS(tfc_graph_error(g), "Variable fc/w already exists");
    tfc_graph_clear_error(g);
    tfc_variable_scope_pop(g);

    tfc_variable_scope_push(g, "fc", TFC_REUSE_TRUE);
    tfc_output shared = tfc_get_variable(g, "w", TFC_FLOAT, 2, d2, NULL);
    CHECK(shared.node == w.node);
    tfc_output op = tfc_identity(g, shared);
    CHECK(op.node && strncmp(tfc_node_name(op.node), "fc_1/", 5) == 0);
    CHECK(tfc_get_variable(g, "v", TFC_FLOAT, 2, d2, NULL).node == NULL);
    CHECK_CONTAINS(tfc_graph_error(g), "Variable fc/v does not exist");
    tfc_graph_clear_error(g);
    CHECK(tfc_get_variable(g, "w", TFC_FLOAT, 2, d3, NULL).node == NULL);
    CHECK_CONTAINS(tfc_graph_error(g), "Trying to share variable fc/w");
    tfc_graph_clear_error(g);
    /* reuse is inherited by inner scopes */
    tfc_variable_scope_push(g, "inner", TFC_REUSE_INHERIT);
    CHECK(tfc_get_variable(g, "u", TFC_FLOAT, 1, d2, NULL).node == NULL);
    CHECK_CONTAINS(tfc_graph_error(g), "fc/inner/u does not exist");
    tfc_graph_clear_error(g);
    tfc_variable_scope_pop(g);
    tfc_variable_scope_pop(g);

    tfc_variable_scope_push(g, "auto", TFC_AUTO_REUSE);
    tfc_variable_scope_push(g, "in", TFC_REUSE_INHERIT);
    tfc_initializer zeros = tfc_zeros_initializer();
    tfc_output a1 = tfc_get_variable_ex(g, "a", TFC_DOUBLE, 1, d2, &zeros, 0);
    tfc_output a2 = tfc_get_variable_ex(g, "a", TFC_DOUBLE, 1, d2, &zeros, 0);
    CHECK(a1.node && a1.node == a2.node);
    CHECK(a1.node && strcmp(tfc_node_name(a1.node), "auto/in/a") == 0);
    tfc_variable_scope_pop(g);
    tfc_variable_scope_pop(g);
    CHECK_GRAPH_OK(g);
    CHECK(tfc_graph_collection_size(g, TFC_TRAINABLE_VARIABLES) == 1);
    CHECK(tfc_graph_collection_size(g, TFC_GLOBAL_VARIABLES) == 2);
    /* a non-variable node of that name cannot be shared */
    tfc_with_name(g, "notvar");
    tfc_const_float(g, 1);
    CHECK(tfc_get_variable(g, "notvar", TFC_FLOAT, 0, NULL, NULL).node == NULL);
    CHECK_CONTAINS(tfc_graph_error(g), "Variable notvar already exists");
    tfc_graph_free(g);
}

/* ---- initializers ---- */

static tfc_tensor *init_values(tfc_initializer init, int rank, const int64_t *dims) {
    tfc_graph *g = tfc_graph_new();
    tfc_graph_set_seed(g, 11);
    tfc_output v = tfc_get_variable(g, "v", TFC_DOUBLE, rank, dims, &init);
    tfc_tensor *t = tfc_test_eval(g, v, NULL, NULL, 0);
    tfc_graph_free(g);
    return t;
}

static void stats(const tfc_tensor *t, double *mean, double *sd, double *maxabs) {
    int64_t n = tfc_tensor_num_elements(t);
    double s = 0, s2 = 0, m = 0;
    for (int64_t i = 0; i < n; i++) {
        double v = tfc_test_get(t, i);
        s += v;
        s2 += v * v;
        if (fabs(v) > m) m = fabs(v);
    }
    *mean = s / (double)n;
    *sd = sqrt(s2 / (double)n - *mean * *mean);
    *maxabs = m;
}

static void test_initializers(void) {
    int64_t mat[2] = {200, 300}, filt[4] = {3, 3, 16, 32};
    double mean, sd, mx;
    /* default: Glorot uniform within +-sqrt(6 / (fan_in + fan_out)) */
    tfc_initializer dflt = {0};
    tfc_tensor *t = init_values(dflt, 2, mat);
    double limit = sqrt(6.0 / 500.0);
    CHECK(t != NULL);
    if (t) {
        stats(t, &mean, &sd, &mx);
        CHECK(mx <= limit);
        CHECK(mx > 0.95 * limit);
        CHECK_NEAR(sd, limit / sqrt(3.0), 0.03);
        CHECK(fabs(mean) < 0.01);
    }
    tfc_tensor_free(t);
    /* Glorot normal and He: truncated at 2 raw stddevs, stddev as asked */
    double fin = 3 * 3 * 16, fout = 3 * 3 * 32;
    tfc_initializer inits[2] = {tfc_glorot_normal_initializer(3), tfc_he_normal_initializer(4)};
    double want_sd[2] = {sqrt(2.0 / (fin + fout)), sqrt(2.0 / fin)};
    for (int i = 0; i < 2; i++) {
        t = init_values(inits[i], 4, filt);
        CHECK(t != NULL);
        if (!t) continue;
        stats(t, &mean, &sd, &mx);
        CHECK_NEAR(sd, want_sd[i], 0.05);
        CHECK(mx <= 2 * want_sd[i] / 0.87962566103423978 + 1e-12);
        tfc_tensor_free(t);
    }
    /* variance scaling, uniform over fan_out */
    t = init_values(tfc_variance_scaling_initializer(3.0, TFC_FAN_OUT, 1, 5), 2, mat);
    if (t) {
        stats(t, &mean, &sd, &mx);
        CHECK(mx <= sqrt(9.0 / 300.0));
        CHECK_NEAR(sd, sqrt(3.0 / 300.0), 0.03);
    }
    tfc_tensor_free(t);
    t = init_values(tfc_random_normal_initializer(2.0, 0.5, 6), 2, mat);
    if (t) {
        stats(t, &mean, &sd, &mx);
        CHECK_NEAR(mean, 2.0, 0.01);
        CHECK_NEAR(sd, 0.5, 0.03);
    }
    tfc_tensor_free(t);
    t = init_values(tfc_truncated_normal_initializer(0.0, 0.5, 6), 2, mat);
    if (t) {
        stats(t, &mean, &sd, &mx);
        CHECK(mx <= 1.0);
        CHECK_NEAR(sd, 0.5 * 0.87962566103423978, 0.03);
    }
    tfc_tensor_free(t);
    t = init_values(tfc_random_uniform_initializer(-3.0, -1.0, 6), 2, mat);
    if (t) {
        stats(t, &mean, &sd, &mx);
        CHECK_NEAR(mean, -2.0, 0.01);
        CHECK(mx <= 3.0);
    }
    tfc_tensor_free(t);
    tfc_initializer exact[3] = {tfc_zeros_initializer(), tfc_ones_initializer(),
                                tfc_constant_initializer(-2.5)};
    double vals[3] = {0, 1, -2.5};
    for (int i = 0; i < 3; i++) {
        t = init_values(exact[i], 2, mat);
        int bad = !t;
        for (int64_t k = 0; t && k < 200 * 300; k++) bad += tfc_test_get(t, k) != vals[i];
        CHECK(bad == 0);
        tfc_tensor_free(t);
    }
}

/* ---- layers ---- */

static void test_layers_cnn(void) {
    tfc_graph *g = tfc_graph_new();
    tfc_graph_set_seed(g, 5);
    int64_t xd[4] = {-1, 8, 8, 2}, full[4] = {5, 8, 8, 2};
    tfc_output x = tfc_placeholder(g, "x", TFC_FLOAT, 4, xd);
    tfc_output kp = tfc_placeholder(g, "keep_prob", TFC_FLOAT, 0, NULL);
    tfc_output h = tfc_layers_conv2d(g, x, 4, 3, 3, 1, "SAME", TFC_ACT_RELU, NULL);
    h = tfc_layers_max_pool2d(g, h, 2, 2, 2, "VALID");
    h = tfc_layers_conv2d(g, h, 6, 3, 3, 1, "SAME", TFC_ACT_ELU, NULL);
    h = tfc_layers_avg_pool2d(g, h, 2, 2, 2, "SAME");
    h = tfc_layers_flatten(g, h);
    tfc_shape hs = tfc_output_shape(h);
    CHECK(hs.rank == 2 && hs.dims[1] == 2 * 2 * 6);
    h = tfc_layers_fully_connected(g, h, 16, TFC_ACT_RELU, NULL);
    h = tfc_layers_dropout(g, h, kp, 0);
    h = tfc_layers_batch_norm(g, h, tfc_const_bool(g, 1), 0.9, 1e-3, 1, 1, NULL);
    tfc_output logits = tfc_layers_linear(g, h, 3, "logits");
    tfc_output loss = tfc_reduce_mean(g, tfc_square(g, logits), NULL, 0, 0);
    CHECK_GRAPH_OK(g);
    const char *names[] = {"Conv/weights", "Conv/biases", "Conv_1/weights", "Conv_1/biases",
                           "fully_connected/weights", "fully_connected/biases",
                           "BatchNorm/beta", "BatchNorm/gamma", "logits/weights",
                           "logits/biases"};
    int nt = tfc_graph_collection_size(g, TFC_TRAINABLE_VARIABLES);
    CHECK(nt == 10);
    for (int i = 0; i < 10; i++) {
        tfc_node *n = tfc_graph_node_by_name(g, names[i]);
        CHECK_MSG(n && strcmp(tfc_node_type(n), "VariableV2") == 0, "%s", names[i]);
    }
    CHECK(tfc_graph_node_by_name(g, "BatchNorm/moving_mean") != NULL);
    CHECK(tfc_graph_collection_size(g, TFC_UPDATE_OPS) == 2);
    tfc_output vars[10], grads[10];
    for (int i = 0; i < nt && i < 10; i++)
        vars[i] = tfc_out(tfc_graph_collection_get(g, TFC_TRAINABLE_VARIABLES, i), 0);
    CHECK(tfc_gradients(g, &loss, 1, vars, nt, NULL, grads) == 0);
    for (int i = 0; i < nt; i++) CHECK_MSG(grads[i].node != NULL, "no gradient for var %d", i);
    tfc_node *init = tfc_global_variables_initializer(g);
    CHECK_GRAPH_OK(g);
    tfc_status *st = tfc_status_new();
    tfc_session *s = tfc_session_new(g, NULL, st);
    tfc_session_run(s, NULL, NULL, 0, NULL, 0, NULL, &init, 1, st);
    CHECK_STATUS_OK(st);
    tfc_tensor *xv = tfc_test_random_tensor(TFC_FLOAT, 4, full, -1, 1);
    tfc_tensor *kv = tfc_tensor_scalar_float(0.5f);
    tfc_output feeds[2] = {x, kp};
    tfc_tensor *vals[2] = {xv, kv};
    tfc_tensor *lv = tfc_session_run1(s, feeds, vals, 2, logits, st);
    CHECK_STATUS_OK(st);
    CHECK(lv && tfc_tensor_dim(lv, 0) == 5 && tfc_tensor_dim(lv, 1) == 3);
    tfc_tensor_free(lv);
    tfc_tensor *gv[10] = {NULL};
    tfc_session_run(s, feeds, vals, 2, grads, nt, gv, NULL, 0, st);
    CHECK_STATUS_OK(st);
    for (int i = 0; i < nt; i++) {
        int finite = gv[i] != NULL;
        for (int64_t k = 0; gv[i] && k < tfc_tensor_num_elements(gv[i]); k++)
            finite &= isfinite(tfc_test_get(gv[i], k));
        CHECK_MSG(finite, "gradient of var %d", i);
        tfc_tensor_free(gv[i]);
    }
    tfc_session_free(s);
    tfc_status_free(st);
    tfc_tensor_free(xv);
    tfc_tensor_free(kv);

    /* a layer built again in a reusing scope shares its weights */
    tfc_variable_scope_push(g, "logits", TFC_REUSE_TRUE);
    tfc_variable_scope_pop(g);
    tfc_variable_scope_push(g, "tower", TFC_REUSE_INHERIT);
    tfc_layers_fully_connected(g, h, 3, TFC_ACT_NONE, "head");
    tfc_variable_scope_pop(g);
    tfc_variable_scope_push(g, "tower", TFC_REUSE_TRUE);
    tfc_layers_fully_connected(g, h, 3, TFC_ACT_NONE, "head");
    tfc_variable_scope_pop(g);
    CHECK_GRAPH_OK(g);
    CHECK(tfc_graph_collection_size(g, TFC_TRAINABLE_VARIABLES) == nt + 2);
    CHECK(tfc_graph_node_by_name(g, "tower/head/weights") != NULL);
    /* bad input names the layer */
    int64_t d3[3] = {2, 3, 4};
    tfc_layers_fully_connected(g, tfc_placeholder(g, "r3", TFC_FLOAT, 3, d3), 2, TFC_ACT_NONE,
                               NULL);
    CHECK_CONTAINS(tfc_graph_error(g), "fully_connected");
    tfc_graph_free(g);
}

/* ---- batch norm and moments ---- */

static void test_batch_norm(void) {
    tfc_graph *g = tfc_graph_new();
    int64_t xd[2] = {6, 4};
    tfc_output x = tfc_placeholder(g, "x", TFC_DOUBLE, 2, xd);
    tfc_output flag = tfc_placeholder(g, "training", TFC_BOOL, 0, NULL);
    tfc_output y = tfc_layers_batch_norm(g, x, flag, 0.9, 1e-3, 1, 0, NULL);
    tfc_node *mm = tfc_graph_node_by_name(g, "BatchNorm/moving_mean");
    tfc_node *init = tfc_global_variables_initializer(g);
    CHECK_GRAPH_OK(g);
    CHECK(tfc_graph_node_by_name(g, "BatchNorm/gamma") == NULL);
    tfc_tensor *xv = tfc_test_random_tensor(TFC_DOUBLE, 2, xd, -2, 3);
    double mean[4] = {0}, var[4] = {0};
    for (int c = 0; c < 4; c++) {
        for (int r = 0; r < 6; r++) mean[c] += tfc_test_get(xv, r * 4 + c) / 6;
        for (int r = 0; r < 6; r++) {
            double d = tfc_test_get(xv, r * 4 + c) - mean[c];
            var[c] += d * d / 6;
        }
    }
    tfc_status *st = tfc_status_new();
    tfc_session *s = tfc_session_new(g, NULL, st);
    tfc_session_run(s, NULL, NULL, 0, NULL, 0, NULL, &init, 1, st);
    tfc_output feeds[2] = {x, flag};
    for (int training = 1; training >= 0; training--) {
        tfc_tensor *fv = tfc_tensor_scalar_bool(training);
        tfc_tensor *vals[2] = {xv, fv};
        tfc_tensor *out = tfc_session_run1(s, feeds, vals, 2, y, st);
        CHECK_STATUS_OK(st);
        for (int i = 0; out && i < 24; i++) {
            int c = i % 4;
            double want = training ? (tfc_test_get(xv, i) - mean[c]) / sqrt(var[c] + 1e-3)
                                   : tfc_test_get(xv, i) / sqrt(1 + 1e-3);
            CHECK_NEAR(tfc_test_get(out, i), want, 1e-12);
        }
        tfc_tensor_free(out);
        tfc_tensor_free(fv);
    }
    /* one run of the update ops moves the moving mean 10% toward the batch mean */
    int nup = tfc_graph_collection_size(g, TFC_UPDATE_OPS);
    CHECK(nup == 2);
    tfc_node *ups[2] = {tfc_graph_collection_get(g, TFC_UPDATE_OPS, 0),
                        tfc_graph_collection_get(g, TFC_UPDATE_OPS, 1)};
    tfc_tensor *fv = tfc_tensor_scalar_bool(1);
    tfc_tensor *vals[2] = {xv, fv};
    tfc_session_run(s, feeds, vals, 2, NULL, 0, NULL, ups, 2, st);
    CHECK_STATUS_OK(st);
    tfc_tensor *mv = tfc_session_run1(s, NULL, NULL, 0, tfc_out(mm, 0), st);
    for (int c = 0; mv && c < 4; c++) CHECK_NEAR(tfc_test_get(mv, c), 0.1 * mean[c], 1e-12);
    CHECK(mv != NULL);
    tfc_tensor_free(mv);
    tfc_tensor_free(fv);
    tfc_session_free(s);
    tfc_status_free(st);
    tfc_tensor_free(xv);
    tfc_graph_free(g);
}

static void test_moments_gradcheck(void) {
    int64_t shapes[2][3] = {{5, 3, 0}, {2, 3, 4}};
    int ranks[2] = {2, 3};
    for (int c = 0; c < 2; c++) {
        for (int which = 0; which < 2; which++) {
            tfc_graph *g = tfc_graph_new();
            tfc_output x = tfc_placeholder(g, "x", TFC_DOUBLE, ranks[c], shapes[c]);
            int32_t axes[2] = {0, 1};
            tfc_output m, v;
            tfc_moments(g, x, axes, ranks[c] - 1, 0, &m, &v);
            tfc_tensor *xv = tfc_test_random_tensor(TFC_DOUBLE, ranks[c], shapes[c], -1, 1);
            double err = tfc_test_gradcheck(g, which ? v : m, &x, &xv, 1);
            CHECK_MSG(err < TFC_GRAD_TOL, "shape %d %s: %g", c, which ? "var" : "mean", err);
            tfc_tensor_free(xv);
            tfc_graph_free(g);
        }
    }
}

TFC_TEST_MAIN(T(test_gather), T(test_gather_errors), T(test_gather_gradcheck),
              T(test_unsorted_segment_sum), T(test_activations), T(test_floor_special_values),
              T(test_activation_grad_gradcheck), T(test_dropout),
              T(test_get_variable_scopes), T(test_initializers), T(test_layers_cnn),
              T(test_batch_norm), T(test_moments_gradcheck))
