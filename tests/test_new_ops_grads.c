/* GatherV2's gradient along any axis (constant, computed in the graph, or
 * fed at run time; params of unknown shape), Softsign and SoftsignGrad, and
 * RandomShuffle: kernels against reference loops on random data, gradients
 * against finite differences in float64, seeds, and misuse. */
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

static tfc_output gather_v2(tfc_graph *g, tfc_output p, tfc_output ix, tfc_output axis) {
    tfc_op_desc *d = tfc_op_new(g, "GatherV2", NULL);
    tfc_op_add_input(d, p);
    tfc_op_add_input(d, ix);
    tfc_op_add_input(d, axis);
    return tfc_out(tfc_op_finish(d), 0);
}

/* ---- GatherV2's gradient ---- */

/* The gradient of sum(w * gather(p, ix, axis)) for params p of shape pd:
 * w's elements scattered back into the rows they were read from. */
static void ref_gather_grad(int prank, const int64_t *pd, int axis, const int64_t *iv, int64_t n,
                            const tfc_tensor *w, double *out) {
    int64_t outer = 1, inner = 1, total = 1;
    for (int i = 0; i < prank; i++) total *= pd[i];
    for (int i = 0; i < axis; i++) outer *= pd[i];
    for (int i = axis + 1; i < prank; i++) inner *= pd[i];
    for (int64_t i = 0; i < total; i++) out[i] = 0;
    for (int64_t o = 0; o < outer; o++)
        for (int64_t i = 0; i < n; i++)
            for (int64_t k = 0; k < inner; k++)
                out[(o * pd[axis] + iv[i]) * inner + k] += tfc_test_get(w, (o * n + i) * inner + k);
}

/* Gradients against finite differences for every axis of rank-3 params,
 * the axis a Const (also negative) or computed in the graph (so only known
 * when it runs), with indices of rank 1 and 2 holding repeats. */
static void test_gather_grad_axes(void) {
    int64_t pd[3] = {3, 4, 2}, id1[1] = {5}, id2[2] = {2, 2};
    int64_t iv[5] = {1, 0, 1, 1, 0};
    for (int a = -3; a < 3; a++)
        for (int how = 0; how < 2; how++)
            for (int ir = 1; ir <= 2; ir++) {
                tfc_graph *g = tfc_graph_new();
                tfc_output p = tfc_placeholder(g, "p", TFC_DOUBLE, 3, pd);
                tfc_tensor *it = ints(TFC_INT32, ir, ir == 1 ? id1 : id2, iv);
                tfc_output axis = how ? tfc_add(g, tfc_const_int32(g, a - 1), tfc_const_int32(g, 1))
                                      : tfc_const_int32(g, a);
                tfc_output y = gather_v2(g, p, tfc_const(g, it), axis);
                tfc_tensor *v = tfc_test_random_tensor(TFC_DOUBLE, 3, pd, -1, 1);
                double err = tfc_test_gradcheck(g, y, &p, &v, 1);
                CHECK_MSG(err < TFC_GRAD_TOL, "axis %d (%s), indices rank %d: %g", a,
                          how ? "computed" : "const", ir, err);
                tfc_tensor_free(v);
                tfc_tensor_free(it);
                tfc_graph_free(g);
            }
}

/* The axis fed at run time (int32 and int64, negative too), params of
 * unknown rank, indices of unknown shape: the gradient, run, equals the
 * reference scatter, and the graph's static shape of it is as good as
 * params' own. */
static void test_gather_grad_fed_axis(void) {
    int64_t pd[3] = {2, 3, 4}, id[1] = {4}, iv[4] = {2, 0, 2, 1};
    const int axes[] = {1, -2, 2, -1, 0};
    for (int k = 0; k < 5; k++)
        for (int at = 0; at < 2; at++)
            for (int unknown = 0; unknown < 2; unknown++) {
                tfc_dtype adt = at ? TFC_INT64 : TFC_INT32;
                int axis = axes[k], na = axis < 0 ? axis + 3 : axis;
                int64_t ivk[4];
                for (int i = 0; i < 4; i++) ivk[i] = iv[i] % pd[na];
                tfc_graph *g = tfc_graph_new();
                int64_t unk1 = -1;
                tfc_output p = unknown ? tfc_placeholder(g, "p", TFC_DOUBLE, -1, NULL)
                                       : tfc_placeholder(g, "p", TFC_DOUBLE, 3, pd);
                tfc_output ix = tfc_placeholder(g, "ix", TFC_INT64, 1, unknown ? &unk1 : id);
                tfc_output ax = tfc_placeholder(g, "axis", adt, 0, NULL);
                tfc_output y = gather_v2(g, p, ix, ax);
                CHECK_GRAPH_OK(g);
                int64_t od[3] = {pd[0], pd[1], pd[2]};
                od[na] = 4;
                tfc_tensor *wt = tfc_test_random_tensor(TFC_DOUBLE, 3, od, -1, 1);
                tfc_output loss = tfc_reduce_sum(g, tfc_mul(g, y, tfc_const(g, wt)), NULL, 0, 0);
                tfc_output dp;
                CHECK(tfc_gradients(g, &loss, 1, &p, 1, NULL, &dp) == 0);
                CHECK_GRAPH_OK(g);
                if (!unknown) {
                    tfc_shape s = tfc_output_shape(dp);
                    CHECK(s.rank == 3 && s.dims[0] == 2 && s.dims[1] == 3 && s.dims[2] == 4);
                }
                tfc_tensor *pv = tfc_test_random_tensor(TFC_DOUBLE, 3, pd, -1, 1);
                tfc_tensor *iv_t = ints(TFC_INT64, 1, id, ivk);
                int64_t av = axis;
                tfc_tensor *avt = ints(adt, 0, NULL, &av);
                tfc_output feeds[3] = {p, ix, ax};
                tfc_tensor *vals[3] = {pv, iv_t, avt};
                tfc_tensor *got = tfc_test_eval(g, dp, feeds, vals, 3);
                double want[24];
                ref_gather_grad(3, pd, na, ivk, 4, wt, want);
                CHECK(got && tfc_tensor_num_elements(got) == 24 && tfc_tensor_rank(got) == 3);
                double worst = got ? 0 : INFINITY;
                for (int i = 0; got && i < 24; i++)
                    worst = fmax(worst, fabs(tfc_test_get(got, i) - want[i]));
                CHECK_MSG(worst < 1e-12, "axis %d (%s, %s params): %g", axis, tfc_dtype_name(adt),
                          unknown ? "unknown" : "known", worst);
                tfc_tensor_free(got);
                tfc_tensor_free(pv);
                tfc_tensor_free(iv_t);
                tfc_tensor_free(avt);
                tfc_tensor_free(wt);
                tfc_graph_free(g);
            }
}

/* float32 params along axis 1 through the public helper, empty indices,
 * and second order (the gradient is linear in dy: d(grad)/dy). */
static void test_gather_grad_float_and_edges(void) {
    int64_t pd[2] = {3, 5}, id[1] = {3}, iv[3] = {4, 4, 0}, id0[1] = {0};
    tfc_graph *g = tfc_graph_new();
    tfc_output p = tfc_placeholder(g, "p", TFC_FLOAT, 2, pd);
    tfc_tensor *it = ints(TFC_INT32, 1, id, iv), *it0 = ints(TFC_INT32, 1, id0, iv);
    tfc_output y = tfc_gather_v2(g, p, tfc_const(g, it), 1);
    tfc_output y0 = tfc_gather_v2(g, p, tfc_const(g, it0), 1);
    tfc_output loss =
        tfc_add(g, tfc_reduce_sum(g, y, NULL, 0, 0), tfc_reduce_sum(g, y0, NULL, 0, 0));
    tfc_output dp;
    CHECK(tfc_gradients(g, &loss, 1, &p, 1, NULL, &dp) == 0);
    tfc_tensor *pv = tfc_test_random_tensor(TFC_FLOAT, 2, pd, -1, 1);
    tfc_tensor *got = tfc_test_eval(g, dp, &p, &pv, 1);
    /* column 4 read twice, column 0 once, per row */
    const double col[5] = {1, 0, 0, 0, 2};
    CHECK(got != NULL);
    for (int i = 0; got && i < 15; i++) CHECK(tfc_test_get(got, i) == col[i % 5]);
    tfc_tensor_free(got);
    tfc_tensor_free(pv);
    tfc_graph_free(g);

    /* second order: the gradient as a function of the upstream gradient */
    g = tfc_graph_new();
    int64_t yd[2] = {3, 3};
    tfc_output pp = tfc_placeholder(g, "p", TFC_DOUBLE, 2, pd);
    tfc_output dy = tfc_placeholder(g, "dy", TFC_DOUBLE, 2, yd);
    tfc_output yy = tfc_gather_v2(g, pp, tfc_const(g, it), 1);
    tfc_output dpp;
    CHECK(tfc_gradients(g, &yy, 1, &pp, 1, &dy, &dpp) == 0);
    tfc_tensor *dyv = tfc_test_random_tensor(TFC_DOUBLE, 2, yd, -1, 1);
    double err = tfc_test_gradcheck(g, dpp, &dy, &dyv, 1);
    CHECK_MSG(err < TFC_GRAD_TOL, "second order: %g", err);
    tfc_tensor_free(dyv);
    tfc_tensor_free(it);
    tfc_tensor_free(it0);
    tfc_graph_free(g);
}

/* ---- Softsign ---- */

static tfc_output op2(tfc_graph *g, const char *type, tfc_output a, tfc_output b) {
    tfc_op_desc *d = tfc_op_new(g, type, NULL);
    tfc_op_add_input(d, a);
    tfc_op_add_input(d, b);
    return tfc_out(tfc_op_finish(d), 0);
}

static void test_softsign(void) {
    int64_t dims[2][2] = {{3, 7}, {1, 40001}};
    for (int dd = 0; dd < 2; dd++)
        for (int si = 0; si < 2; si++) {
            tfc_dtype dt = dd ? TFC_DOUBLE : TFC_FLOAT;
            tfc_graph *g = tfc_graph_new();
            tfc_output x = tfc_placeholder(g, "x", dt, 2, dims[si]);
            tfc_output gr = tfc_placeholder(g, "g", dt, 2, dims[si]);
            tfc_output f[2] = {tfc_softsign(g, x), op2(g, "SoftsignGrad", gr, x)};
            CHECK_GRAPH_OK(g);
            CHECK(f[0].node && strcmp(tfc_node_type(f[0].node), "Softsign") == 0);
            tfc_shape s = tfc_output_shape(f[1]);
            CHECK(tfc_output_dtype(f[1]) == dt && s.rank == 2 && s.dims[1] == dims[si][1]);
            tfc_tensor *xv = tfc_test_random_tensor(dt, 2, dims[si], -30, 30);
            tfc_tensor *gv = tfc_test_random_tensor(dt, 2, dims[si], -2, 2);
            tfc_output feeds[2] = {x, gr};
            tfc_tensor *vals[2] = {xv, gv}, *out[2] = {0};
            tfc_status *st = tfc_status_new();
            tfc_session *sess = tfc_session_new(g, NULL, st);
            tfc_session_run(sess, feeds, vals, 2, f, 2, out, NULL, 0, st);
            CHECK_STATUS_OK(st);
            double worst = out[0] && out[1] ? 0 : INFINITY;
            for (int64_t i = 0; out[0] && out[1] && i < tfc_tensor_num_elements(xv); i++) {
                double a = tfc_test_get(xv, i), b = tfc_test_get(gv, i);
                double r0 = a / (1 + fabs(a)), r1 = b / ((1 + fabs(a)) * (1 + fabs(a)));
                worst = fmax(worst, fabs(tfc_test_get(out[0], i) - r0) / (1 + fabs(r0)));
                worst = fmax(worst, fabs(tfc_test_get(out[1], i) - r1) / (1 + fabs(r1)));
            }
            CHECK_MSG(worst <= (dd ? 1e-15 : 2e-7), "%s: %g", tfc_dtype_name(dt), worst);
            tfc_tensor_free(out[0]);
            tfc_tensor_free(out[1]);
            tfc_tensor_free(xv);
            tfc_tensor_free(gv);
            tfc_session_free(sess);
            tfc_status_free(st);
            tfc_graph_free(g);
        }
}

static void test_softsign_gradients(void) {
    int64_t dims[3] = {2, 3, 4};
    tfc_graph *g = tfc_graph_new();
    tfc_output x = tfc_placeholder(g, "x", TFC_DOUBLE, 3, dims);
    tfc_tensor *xv = tfc_test_random_tensor(TFC_DOUBLE, 3, dims, -3, 3);
    double err = tfc_test_gradcheck(g, tfc_softsign(g, x), &x, &xv, 1);
    CHECK_MSG(err < TFC_GRAD_TOL, "Softsign: %g", err);
    tfc_graph_free(g);

    /* SoftsignGrad in both inputs (second order) */
    g = tfc_graph_new();
    x = tfc_placeholder(g, "x", TFC_DOUBLE, 3, dims);
    tfc_output gr = tfc_placeholder(g, "g", TFC_DOUBLE, 3, dims);
    tfc_tensor *gv = tfc_test_random_tensor(TFC_DOUBLE, 3, dims, -2, 2);
    tfc_output xs[2] = {gr, x};
    tfc_tensor *vals[2] = {gv, xv};
    err = tfc_test_gradcheck(g, op2(g, "SoftsignGrad", gr, x), xs, vals, 2);
    CHECK_MSG(err < TFC_GRAD_TOL, "SoftsignGrad: %g", err);
    tfc_graph_free(g);

    /* through the public helper: d/dx of dy/dx */
    g = tfc_graph_new();
    x = tfc_placeholder(g, "x", TFC_DOUBLE, 3, dims);
    tfc_output y = tfc_softsign(g, x), dx;
    CHECK(tfc_gradients(g, &y, 1, &x, 1, NULL, &dx) == 0);
    err = tfc_test_gradcheck(g, dx, &x, &xv, 1);
    CHECK_MSG(err < TFC_GRAD_TOL, "Softsign second order: %g", err);
    tfc_graph_free(g);
    tfc_tensor_free(xv);
    tfc_tensor_free(gv);
}

static void test_softsign_misuse(void) {
    tfc_graph *g = tfc_graph_new();
    tfc_output xi = tfc_placeholder(g, "xi", TFC_INT32, 0, NULL);
    tfc_with_name(g, "ints");
    CHECK(tfc_softsign(g, xi).node == NULL);
    CHECK_CONTAINS(tfc_graph_error(g), "ints");
    CHECK_CONTAINS(tfc_graph_error(g), "float32 or float64");
    tfc_graph_clear_error(g);
    int64_t a[1] = {3}, b[1] = {4};
    tfc_output xa = tfc_placeholder(g, "xa", TFC_FLOAT, 1, a);
    tfc_output xb = tfc_placeholder(g, "xb", TFC_FLOAT, 1, b);
    tfc_op_desc *d = tfc_op_new(g, "SoftsignGrad", "mismatch");
    tfc_op_add_input(d, xa);
    tfc_op_add_input(d, xb);
    CHECK(tfc_op_finish(d) == NULL);
    CHECK_CONTAINS(tfc_graph_error(g), "mismatch");
    tfc_graph_free(g);
}

/* ---- RandomShuffle ---- */

/* Row i of `out` is row perm[i] of `in`, perm a permutation; returns the
 * number of rows that moved, or -1 when out is not a row permutation. */
static int64_t check_permutation(const tfc_tensor *in, const tfc_tensor *out) {
    int64_t n = tfc_tensor_dim(in, 0), row = tfc_tensor_num_elements(in) / n, moved = 0;
    char *used = calloc((size_t)n, 1);
    for (int64_t i = 0; i < n; i++) {
        int64_t found = -1;
        for (int64_t j = 0; j < n && found < 0; j++) {
            if (used[j]) continue;
            int same = 1;
            for (int64_t k = 0; k < row && same; k++)
                same = tfc_test_get(in, j * row + k) == tfc_test_get(out, i * row + k);
            if (same) found = j;
        }
        if (found < 0) {
            free(used);
            return -1;
        }
        used[found] = 1;
        moved += found != i;
    }
    free(used);
    return moved;
}

static void test_random_shuffle(void) {
    const tfc_dtype dts[] = {TFC_FLOAT, TFC_DOUBLE, TFC_INT32, TFC_INT64, TFC_UINT8};
    int64_t dims[3] = {50, 3, 2};
    for (int k = 0; k < 5; k++)
        for (int rank = 1; rank <= 3; rank++) {
            tfc_graph *g = tfc_graph_new();
            /* distinct rows: the row index in the first element */
            tfc_tensor *v = tfc_test_random_tensor(dts[k], rank, dims, 0, 100);
            int64_t row = tfc_tensor_num_elements(v) / 50;
            for (int64_t i = 0; i < 50; i++) {
                if (dts[k] == TFC_UINT8)
                    ((uint8_t *)tfc_tensor_data(v))[i * row] = (uint8_t)i;
                else if (dts[k] == TFC_INT32)
                    ((int32_t *)tfc_tensor_data(v))[i * row] = (int32_t)i;
                else if (dts[k] == TFC_INT64)
                    ((int64_t *)tfc_tensor_data(v))[i * row] = i;
                else if (dts[k] == TFC_FLOAT)
                    ((float *)tfc_tensor_data(v))[i * row] = (float)i;
                else
                    ((double *)tfc_tensor_data(v))[i * row] = (double)i;
            }
            tfc_output x = tfc_placeholder(g, "x", dts[k], rank, dims);
            tfc_output y = tfc_random_shuffle(g, x, 0);
            CHECK_GRAPH_OK(g);
            CHECK(tfc_output_dtype(y) == dts[k] && tfc_output_shape(y).rank == rank);
            tfc_status *st = tfc_status_new();
            tfc_session *s = tfc_session_new(g, NULL, st);
            tfc_tensor *a = tfc_session_run1(s, &x, &v, 1, y, st);
            tfc_tensor *b = tfc_session_run1(s, &x, &v, 1, y, st);
            CHECK_STATUS_OK(st);
            CHECK(a && b);
            if (a && b) {
                CHECK(tfc_tensor_rank(a) == rank && tfc_tensor_dim(a, 0) == 50);
                int64_t ma = check_permutation(v, a), mb = check_permutation(v, b);
                /* a uniform permutation of 50 keeps about one row in place */
                CHECK_MSG(ma > 40 && mb > 40, "%s rank %d: moved %lld, %lld",
                          tfc_dtype_name(dts[k]), rank, (long long)ma, (long long)mb);
                int differ = 0;
                for (int64_t i = 0; i < 50; i++)
                    differ |= tfc_test_get(a, i * row) != tfc_test_get(b, i * row);
                CHECK_MSG(differ, "two runs gave one order");
            }
            tfc_tensor_free(a);
            tfc_tensor_free(b);
            tfc_tensor_free(v);
            tfc_session_free(s);
            tfc_status_free(st);
            tfc_graph_free(g);
        }
}

/* Every one of the 6 orders of 3 rows comes up about equally often. */
static void test_random_shuffle_uniform(void) {
    tfc_graph *g = tfc_graph_new();
    tfc_graph_set_seed(g, 11);
    int64_t n = 3;
    tfc_output y =
        tfc_random_shuffle(g, tfc_const_data(g, TFC_INT32, 1, &n, (int32_t[]){0, 1, 2}), 0);
    tfc_status *st = tfc_status_new();
    tfc_session *s = tfc_session_new(g, NULL, st);
    int counts[27] = {0}, runs = 6000;
    for (int r = 0; r < runs; r++) {
        tfc_tensor *t = tfc_session_run1(s, NULL, NULL, 0, y, st);
        if (!t) break;
        counts[(int)(tfc_test_get(t, 0) * 9 + tfc_test_get(t, 1) * 3 + tfc_test_get(t, 2))]++;
        tfc_tensor_free(t);
    }
    CHECK_STATUS_OK(st);
    int orders = 0;
    for (int i = 0; i < 27; i++) {
        if (!counts[i]) continue;
        orders++;
        /* 1000 expected, sd about 29 */
        CHECK_MSG(abs(counts[i] - runs / 6) < 150, "order %d: %d", i, counts[i]);
    }
    CHECK(orders == 6);
    tfc_session_free(s);
    tfc_status_free(st);
    tfc_graph_free(g);
}

static tfc_tensor *shuffle_once(int64_t graph_seed, int64_t op_seed, int run) {
    tfc_graph *g = tfc_graph_new();
    if (graph_seed) tfc_graph_set_seed(g, graph_seed);
    int64_t n = 40;
    int32_t v[40];
    for (int i = 0; i < 40; i++) v[i] = i;
    tfc_output y = tfc_random_shuffle(g, tfc_const_data(g, TFC_INT32, 1, &n, v), op_seed);
    tfc_status *st = tfc_status_new();
    tfc_session *s = tfc_session_new(g, NULL, st);
    tfc_tensor *t = NULL;
    for (int r = 0; r <= run; r++) {
        tfc_tensor_free(t);
        t = tfc_session_run1(s, NULL, NULL, 0, y, st);
    }
    tfc_session_free(s);
    tfc_status_free(st);
    tfc_graph_free(g);
    return t;
}

static int same_tensor(const tfc_tensor *a, const tfc_tensor *b) {
    return a && b && tfc_test_max_diff(a, b) == 0;
}

static void test_random_shuffle_seeds(void) {
    /* {graph seed, op seed, reproducible across sessions} */
    const int64_t cases[][3] = {{42, 0, 1}, {42, 7, 1}, {0, 7, 1}, {0, 0, 0}};
    for (int c = 0; c < 4; c++) {
        tfc_tensor *a0 = shuffle_once(cases[c][0], cases[c][1], 0);
        tfc_tensor *b0 = shuffle_once(cases[c][0], cases[c][1], 0);
        tfc_tensor *a1 = shuffle_once(cases[c][0], cases[c][1], 1);
        CHECK_MSG(same_tensor(a0, b0) == (int)cases[c][2], "case %d", c);
        CHECK_MSG(!same_tensor(a0, a1), "case %d: the second run repeats the first", c);
        tfc_tensor_free(a0);
        tfc_tensor_free(b0);
        tfc_tensor_free(a1);
    }
    tfc_tensor *a = shuffle_once(42, 0, 0), *b = shuffle_once(43, 0, 0);
    CHECK(!same_tensor(a, b));
    tfc_tensor_free(a);
    tfc_tensor_free(b);
    /* TensorFlow's seed attrs */
    tfc_graph *g = tfc_graph_new();
    tfc_output x = tfc_placeholder(g, "x", TFC_FLOAT, 1, (int64_t[]){4});
    tfc_output r = tfc_random_shuffle(g, x, 5);
    CHECK(strcmp(tfc_node_type(r.node), "RandomShuffle") == 0);
    CHECK(tfc_node_attr_int(r.node, "seed", -1) == 87654321);
    CHECK(tfc_node_attr_int(r.node, "seed2", -1) == 5);
    tfc_graph_free(g);
}

/* A scalar, one row and zero rows come out unchanged; shapes fed at run
 * time work; no gradient is defined (as in TensorFlow). */
static void test_random_shuffle_edges(void) {
    tfc_graph *g = tfc_graph_new();
    tfc_output s0 = tfc_random_shuffle(g, tfc_const_float(g, 2.5f), 1);
    int64_t one[2] = {1, 4}, zero[2] = {0, 3};
    tfc_tensor *ov = tfc_test_random_tensor(TFC_DOUBLE, 2, one, -1, 1);
    tfc_tensor *zv = tfc_test_random_tensor(TFC_DOUBLE, 2, zero, -1, 1);
    tfc_output s1 = tfc_random_shuffle(g, tfc_const(g, ov), 1);
    tfc_output s2 = tfc_random_shuffle(g, tfc_const(g, zv), 1);
    tfc_output u = tfc_placeholder(g, "u", TFC_DOUBLE, -1, NULL);
    tfc_output s3 = tfc_random_shuffle(g, u, 1);
    CHECK_GRAPH_OK(g);
    CHECK(tfc_output_shape(s0).rank == 0 && tfc_output_shape(s3).rank == -1);
    tfc_tensor *t0 = tfc_test_eval(g, s0, NULL, NULL, 0);
    tfc_tensor *t1 = tfc_test_eval(g, s1, NULL, NULL, 0);
    tfc_tensor *t2 = tfc_test_eval(g, s2, NULL, NULL, 0);
    CHECK(t0 && tfc_tensor_rank(t0) == 0 && tfc_test_get(t0, 0) == 2.5);
    CHECK(t1 && tfc_test_max_diff(t1, ov) == 0);
    CHECK(t2 && tfc_tensor_rank(t2) == 2 && tfc_tensor_dim(t2, 0) == 0 &&
          tfc_tensor_dim(t2, 1) == 3);
    int64_t d3[3] = {6, 2, 2};
    tfc_tensor *uv = tfc_test_random_tensor(TFC_DOUBLE, 3, d3, -1, 1);
    tfc_tensor *t3 = tfc_test_eval(g, s3, &u, &uv, 1);
    CHECK(t3 && tfc_tensor_rank(t3) == 3 && check_permutation(uv, t3) >= 0);
    tfc_output dx;
    CHECK(tfc_gradients(g, &s3, 1, &u, 1, NULL, &dx) != 0);
    CHECK_CONTAINS(tfc_graph_error(g), "RandomShuffle");
    tfc_tensor_free(t0), tfc_tensor_free(t1), tfc_tensor_free(t2), tfc_tensor_free(t3);
    tfc_tensor_free(ov), tfc_tensor_free(zv), tfc_tensor_free(uv);
    tfc_graph_free(g);
}

TFC_TEST_MAIN(T(test_gather_grad_axes), T(test_gather_grad_fed_axis),
              T(test_gather_grad_float_and_edges), T(test_softsign), T(test_softsign_gradients),
              T(test_softsign_misuse), T(test_random_shuffle), T(test_random_shuffle_uniform),
              T(test_random_shuffle_seeds), T(test_random_shuffle_edges))
