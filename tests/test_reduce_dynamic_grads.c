/* Reduction gradients (Sum, Mean, Max, Min, Prod) when the input's rank or
 * the reduction axes are known only at run time, and the ops they are
 * built from: FloorDiv and FloorMod (kernels against reference loops on
 * random data, broadcasting, errors, FloorMod's gradient) and DynamicStitch
 * (TensorFlow's documented example, random stitches with repeated indices
 * against a reference, shape inference, errors, gradients). Gradients are
 * checked against finite differences in float64 and against the gradients
 * of the same reduction with a known shape and constant axes. */
#include "gradcheck.h"
#include "harness.h"

#include <stdint.h>
#include <stdlib.h>

static const char *const red_types[] = {"Sum", "Mean", "Max", "Min", "Prod"};

static tfc_output reduce_with(tfc_graph *g, const char *type, tfc_output x, tfc_output axes,
                              int keep) {
    tfc_op_desc *d = tfc_op_new(g, type, NULL);
    tfc_op_add_input(d, x);
    tfc_op_add_input(d, axes);
    tfc_op_set_attr_bool(d, "keep_dims", keep);
    return tfc_out(tfc_op_finish(d), 0);
}

/* All axes of x, Range(0, Rank(x), 1), as tfc_reduce_* builds for an
 * input of unknown rank. */
static tfc_output all_axes(tfc_graph *g, tfc_output x) {
    tfc_op_desc *d = tfc_op_new(g, "Range", NULL);
    tfc_op_add_input(d, tfc_const_int32(g, 0));
    tfc_op_add_input(d, tfc_rank(g, x));
    tfc_op_add_input(d, tfc_const_int32(g, 1));
    return tfc_out(tfc_op_finish(d), 0);
}

static int graph_has_op(const tfc_graph *g, const char *type) {
    for (int i = 0; i < tfc_graph_num_nodes(g); i++)
        if (strcmp(tfc_node_type(tfc_graph_node(g, i)), type) == 0) return 1;
    return 0;
}

/* Runs `fetch` with the feeds; NULL (and a failed check) on error. */
static tfc_tensor *run(tfc_graph *g, tfc_output fetch, const tfc_output *feeds,
                       tfc_tensor *const *vals, int n) {
    tfc_tensor *r = tfc_test_eval(g, fetch, feeds, vals, n);
    CHECK(r != NULL);
    return r;
}

/* Runs `fetch` expecting a run-time error containing `sub`. */
static void run_fails(tfc_graph *g, tfc_output fetch, const tfc_output *feeds,
                      tfc_tensor *const *vals, int n, const char *sub) {
    tfc_status *st = tfc_status_new();
    tfc_session *s = tfc_session_new(g, NULL, st);
    tfc_tensor *r = tfc_session_run1(s, feeds, vals, n, fetch, st);
    CHECK(r == NULL && tfc_status_code(st) != TFC_OK);
    CHECK_CONTAINS(tfc_status_message(st), sub);
    tfc_tensor_free(r);
    tfc_session_free(s);
    tfc_status_free(st);
}

/* ------------------------------------------------------------------------ */
/* FloorDiv, FloorMod                                                       */
/* ------------------------------------------------------------------------ */

/* Floor division and modulo by their definition, in long double (exact
 * for the small integers and the floats used here). */
static double ref_floordiv(double x, double y, tfc_dtype dt) {
    if (dt == TFC_FLOAT) return floorf((float)x / (float)y);
    return floorl((long double)x / (long double)y);
}

static void test_floor_div_mod_kernels(void) {
    const tfc_dtype dts[] = {TFC_FLOAT, TFC_DOUBLE, TFC_INT32, TFC_INT64, TFC_UINT8};
    struct {
        int ra, rb;
        int64_t da[3], db[3];
    } shapes[] = {
        {2, 2, {5, 7}, {5, 7}},    /* same shape */
        {2, 1, {6, 4}, {4}},       /* a row broadcast */
        {3, 2, {2, 1, 3}, {4, 1}}, /* both broadcast */
        {0, 1, {0}, {9}},          /* a scalar */
        {2, 0, {3, 3}, {0}},
    };
    for (int di = 0; di < 5; di++)
        for (size_t si = 0; si < sizeof shapes / sizeof *shapes; si++) {
            tfc_dtype dt = dts[di];
            int is_u8 = dt == TFC_UINT8, is_int = dt != TFC_FLOAT && dt != TFC_DOUBLE;
            tfc_graph *g = tfc_graph_new();
            tfc_output a = tfc_placeholder(g, "a", dt, shapes[si].ra, shapes[si].da);
            tfc_output b = tfc_placeholder(g, "b", dt, shapes[si].rb, shapes[si].db);
            tfc_output q = tfc_floordiv(g, a, b), m = tfc_floormod(g, a, b);
            CHECK_GRAPH_OK(g);
            tfc_tensor *av = tfc_test_random_tensor(dt, shapes[si].ra, shapes[si].da,
                                                    is_u8 ? 0 : -100, is_u8 ? 250 : 100);
            tfc_tensor *bv = tfc_test_random_tensor(dt, shapes[si].rb, shapes[si].db,
                                                    is_u8 ? 1 : -9, is_u8 ? 20 : 9);
            /* no zero divisors; some exact multiples */
            for (int64_t i = 0; i < tfc_tensor_num_elements(bv); i++) {
                double v = tfc_test_get(bv, i);
                if (is_int && v == 0) v = 3;
                if (!is_int && fabs(v) < 0.5) v = -2.5;
                if (dt == TFC_FLOAT)
                    ((float *)tfc_tensor_data(bv))[i] = (float)v;
                else if (dt == TFC_DOUBLE)
                    ((double *)tfc_tensor_data(bv))[i] = v;
                else if (dt == TFC_INT32)
                    ((int32_t *)tfc_tensor_data(bv))[i] = (int32_t)v;
                else if (dt == TFC_INT64)
                    ((int64_t *)tfc_tensor_data(bv))[i] = (int64_t)v;
                else
                    ((uint8_t *)tfc_tensor_data(bv))[i] = (uint8_t)v;
            }
            if (dt == TFC_INT32 && tfc_tensor_num_elements(av) > 2) {
                ((int32_t *)tfc_tensor_data(av))[0] = -12; /* a negative exact multiple */
                ((int32_t *)tfc_tensor_data(av))[1] = 0;
            }
            tfc_output feeds[] = {a, b};
            tfc_tensor *vals[] = {av, bv};
            tfc_tensor *qv = run(g, q, feeds, vals, 2), *mv = run(g, m, feeds, vals, 2);
            if (qv && mv) {
                int rank = tfc_tensor_rank(qv);
                int64_t n = tfc_tensor_num_elements(qv);
                CHECK(tfc_tensor_dtype(qv) == dt && tfc_tensor_dtype(mv) == dt);
                CHECK(n == tfc_tensor_num_elements(mv));
                /* walk the output, broadcasting a and b by hand */
                int64_t od[3] = {1, 1, 1};
                for (int i = 0; i < rank; i++) od[3 - rank + i] = tfc_tensor_dim(qv, i);
                for (int64_t e = 0; e < n; e++) {
                    int64_t idx[3] = {e / (od[1] * od[2]), e / od[2] % od[1], e % od[2]};
                    int64_t ia = 0, ib = 0;
                    for (int k = 3 - shapes[si].ra; k < 3; k++)
                        ia = ia * shapes[si].da[k - 3 + shapes[si].ra] +
                             (shapes[si].da[k - 3 + shapes[si].ra] == 1 ? 0 : idx[k]);
                    for (int k = 3 - shapes[si].rb; k < 3; k++)
                        ib = ib * shapes[si].db[k - 3 + shapes[si].rb] +
                             (shapes[si].db[k - 3 + shapes[si].rb] == 1 ? 0 : idx[k]);
                    double x = tfc_test_get(av, ia), y = tfc_test_get(bv, ib);
                    double rq = ref_floordiv(x, y, dt);
                    double rm = dt == TFC_FLOAT ? (double)(float)(x - rq * y) : x - rq * y;
                    double tol = dt == TFC_FLOAT ? 1e-5 * fabs(y) : dt == TFC_DOUBLE ? 1e-12 : 0;
                    CHECK_MSG(tfc_test_get(qv, e) == rq, "%s %g // %g = %g, want %g",
                              tfc_dtype_name(dt), x, y, tfc_test_get(qv, e), rq);
                    CHECK_MSG(fabs(tfc_test_get(mv, e) - rm) <= tol,
                              "%s %g %% %g = %.9g, want %.9g", tfc_dtype_name(dt), x, y,
                              tfc_test_get(mv, e), rm);
                    /* the remainder has y's sign */
                    CHECK(tfc_test_get(mv, e) == 0 || (tfc_test_get(mv, e) < 0) == (y < 0));
                }
            }
            tfc_tensor_free(qv);
            tfc_tensor_free(mv);
            tfc_tensor_free(av);
            tfc_tensor_free(bv);
            tfc_graph_free(g);
        }
}

static void test_floor_div_mod_edges(void) {
    tfc_graph *g = tfc_graph_new();
    /* INT_MIN // -1 wraps as TensorFlow's does; % -1 is 0 */
    int32_t xv[] = {INT32_MIN, 7, -7, 7, -7}, yv[] = {-1, 2, 2, -2, -2};
    int32_t wq[] = {INT32_MIN, 3, -4, -4, 3}, wm[] = {0, 1, 1, -1, -1};
    int64_t n = 5;
    tfc_output x = tfc_const_data(g, TFC_INT32, 1, &n, xv),
               y = tfc_const_data(g, TFC_INT32, 1, &n, yv);
    tfc_tensor *q = run(g, tfc_floordiv(g, x, y), NULL, NULL, 0);
    tfc_tensor *m = run(g, tfc_floormod(g, x, y), NULL, NULL, 0);
    for (int i = 0; q && m && i < 5; i++) {
        CHECK(((int32_t *)tfc_tensor_data(q))[i] == wq[i]);
        CHECK(((int32_t *)tfc_tensor_data(m))[i] == wm[i]);
    }
    tfc_tensor_free(q);
    tfc_tensor_free(m);
    /* integer division by zero fails naming the node; float gives inf/NaN */
    tfc_output z = tfc_placeholder(g, "z", TFC_INT32, -1, NULL);
    tfc_with_name(g, "mod_by_z");
    tfc_output bad = tfc_floormod(g, x, z);
    tfc_tensor *zv = tfc_tensor_new(TFC_INT32, 0, NULL); /* zeroed */
    run_fails(g, bad, &z, &zv, 1, "division by zero");
    run_fails(g, bad, &z, &zv, 1, "mod_by_z");
    /* ... unless nothing is divided: an empty x by a scalar 0 */
    int64_t zero = 0;
    tfc_output empty = tfc_placeholder(g, "e", TFC_INT32, 1, &zero);
    tfc_tensor *ev = tfc_tensor_new(TFC_INT32, 1, &zero);
    tfc_output fe[] = {empty, z};
    tfc_tensor *fv[] = {ev, zv};
    tfc_tensor *r = run(g, tfc_floormod(g, empty, z), fe, fv, 2);
    CHECK(r && tfc_tensor_num_elements(r) == 0);
    tfc_tensor_free(r);
    tfc_tensor_free(ev);
    tfc_tensor_free(zv);
    tfc_tensor *f =
        run(g, tfc_floormod(g, tfc_const_double(g, 1), tfc_const_double(g, 0)), NULL, NULL, 0);
    CHECK(f && isnan(tfc_test_get(f, 0)));
    tfc_tensor_free(f);
    CHECK_GRAPH_OK(g);
    /* build-time errors name the node and the shapes or types */
    int64_t d3[] = {3}, d4[] = {4};
    tfc_output p3 = tfc_placeholder(g, "p3", TFC_FLOAT, 1, d3);
    tfc_output p4 = tfc_placeholder(g, "p4", TFC_FLOAT, 1, d4);
    tfc_with_name(g, "mismatch");
    CHECK(tfc_floordiv(g, p3, p4).node == NULL);
    CHECK_CONTAINS(tfc_graph_error(g), "mismatch");
    CHECK_CONTAINS(tfc_graph_error(g), "[3]");
    tfc_graph_clear_error(g);
    CHECK(tfc_floormod(g, tfc_const_float(g, 1), tfc_const_int32(g, 1)).node == NULL);
    CHECK_CONTAINS(tfc_graph_error(g), "int32");
    tfc_graph_clear_error(g);
    CHECK(tfc_floormod(g, tfc_const_bool(g, 1), tfc_const_bool(g, 1)).node == NULL);
    CHECK_CONTAINS(tfc_graph_error(g), "bool");
    tfc_graph_free(g);
}

/* d(x mod y) = (1, -floor(x / y)), summed over broadcast dims; values kept
 * away from the jumps at multiples of y. */
static void test_floor_mod_gradient(void) {
    int64_t dx[] = {2, 3}, dy[] = {3};
    for (int bc = 0; bc < 2; bc++) {
        tfc_graph *g = tfc_graph_new();
        tfc_output x = tfc_placeholder(g, "x", TFC_DOUBLE, 2, dx);
        tfc_output y = tfc_placeholder(g, "y", TFC_DOUBLE, bc ? 1 : 2, bc ? dy : dx);
        tfc_tensor *yv = tfc_test_random_tensor(TFC_DOUBLE, bc ? 1 : 2, bc ? dy : dx, 0.5, 2);
        tfc_tensor *xv = tfc_tensor_new(TFC_DOUBLE, 2, dx);
        double *yp = tfc_tensor_data(yv), *xp = tfc_tensor_data(xv);
        for (int64_t i = 0; i < tfc_tensor_num_elements(yv); i++)
            if (i % 2) yp[i] = -yp[i];
        for (int64_t i = 0; i < 6; i++) {
            double yy = yp[bc ? i % 3 : i];
            xp[i] = (floor(tfc_test_uniform(-3, 3)) + tfc_test_uniform(0.2, 0.8)) * yy;
        }
        tfc_output xs[] = {x, y};
        tfc_tensor *vals[] = {xv, yv};
        CHECK(tfc_test_gradcheck(g, tfc_floormod(g, x, y), xs, vals, 2) < TFC_GRAD_TOL);
        /* FloorDiv is piecewise constant: no gradient, and no error */
        tfc_output q = tfc_reduce_sum(g, tfc_floordiv(g, x, y), NULL, 0, 0), gq[2];
        CHECK(tfc_gradients(g, &q, 1, xs, 2, NULL, gq) == 0);
        CHECK_GRAPH_OK(g);
        tfc_tensor_free(xv);
        tfc_tensor_free(yv);
        tfc_graph_free(g);
    }
}

/* ------------------------------------------------------------------------ */
/* DynamicStitch                                                            */
/* ------------------------------------------------------------------------ */

static void test_dynamic_stitch_documented_example(void) {
    tfc_graph *g = tfc_graph_new();
    int32_t i0 = 6, i1[] = {4, 1}, i2[] = {5, 2, 0, 3};
    float d0[] = {61, 62}, d1[] = {41, 42, 11, 12}, d2[] = {51, 52, 21, 22, 1, 2, 31, 32};
    int64_t s1[] = {2}, s2[] = {2, 2}, sd0[] = {2}, sd1[] = {2, 2}, sd2[] = {2, 2, 2};
    tfc_output idx[] = {tfc_const_int32(g, i0), tfc_const_data(g, TFC_INT32, 1, s1, i1),
                        tfc_const_data(g, TFC_INT32, 2, s2, i2)};
    tfc_output data[] = {tfc_const_data(g, TFC_FLOAT, 1, sd0, d0),
                         tfc_const_data(g, TFC_FLOAT, 2, sd1, d1),
                         tfc_const_data(g, TFC_FLOAT, 3, sd2, d2)};
    tfc_output y = tfc_dynamic_stitch(g, idx, data, 3);
    CHECK_GRAPH_OK(g);
    tfc_shape s = tfc_output_shape(y);
    CHECK(s.rank == 2 && s.dims[0] == 7 && s.dims[1] == 2);
    /* ParallelDynamicStitch is the same op (only the order of duplicates,
     * none here, is unspecified in TensorFlow) */
    tfc_op_desc *d = tfc_op_new(g, "ParallelDynamicStitch", NULL);
    tfc_op_add_inputs(d, idx, 3);
    tfc_op_add_inputs(d, data, 3);
    tfc_output py = tfc_out(tfc_op_finish(d), 0);
    CHECK_GRAPH_OK(g);
    for (int k = 0; k < 2; k++) {
        tfc_tensor *r = run(g, k ? py : y, NULL, NULL, 0);
        CHECK(r && tfc_tensor_dtype(r) == TFC_FLOAT && tfc_tensor_num_elements(r) == 14);
        for (int i = 0; r && i < 14; i++) CHECK(tfc_test_get(r, i) == 10 * (i / 2) + 1 + i % 2);
        tfc_tensor_free(r);
    }
    tfc_graph_free(g);
}

/* N random (indices, data) pairs with repeated indices and a gap, indices
 * fed at run time (unknown first dim) or constant (known). */
static void test_dynamic_stitch_random(void) {
    for (int fed = 0; fed < 2; fed++)
        for (int dd = 0; dd < 3; dd++) {
            const tfc_dtype dts[] = {TFC_FLOAT, TFC_INT64, TFC_BOOL};
            tfc_dtype dt = dts[dd];
            tfc_graph *g = tfc_graph_new();
            const int n = 3;
            int64_t idims[3][2] = {{4, 0}, {2, 3}, {0, 0}}; /* [4], [2,3], scalar */
            int irank[3] = {1, 2, 0};
            int64_t S[] = {2, 3};
            tfc_output idx[3], data[3], feeds[3];
            tfc_tensor *iv[3], *dv[3];
            int32_t rows = 0;
            for (int m = 0; m < n; m++) {
                iv[m] = tfc_test_random_tensor(TFC_INT32, irank[m], idims[m], 0, 9);
                int32_t *p = tfc_tensor_data(iv[m]);
                for (int64_t i = 0; i < tfc_tensor_num_elements(iv[m]); i++) {
                    if (p[i] == 5) p[i] = 6; /* row 5 stays empty: zeros */
                    if (p[i] + 1 > rows) rows = p[i] + 1;
                }
                int64_t ddims[4];
                int dr = irank[m];
                memcpy(ddims, idims[m], (size_t)dr * sizeof *ddims);
                ddims[dr] = S[0];
                ddims[dr + 1] = S[1];
                dv[m] = tfc_test_random_tensor(dt, dr + 2, ddims, -5, 5);
                data[m] = tfc_const(g, dv[m]);
                /* fed: known rank, unknown dims, so S is still known */
                int64_t unk[2] = {-1, -1};
                idx[m] =
                    fed ? tfc_placeholder(g, NULL, TFC_INT32, irank[m], unk) : tfc_const(g, iv[m]);
                feeds[m] = idx[m];
            }
            tfc_output y = tfc_dynamic_stitch(g, idx, data, n);
            CHECK_GRAPH_OK(g);
            tfc_shape s = tfc_output_shape(y);
            CHECK_MSG(
                s.rank == 3 && s.dims[0] == (fed ? -1 : rows) && s.dims[1] == 2 && s.dims[2] == 3,
                "fed %d: rank %d [%lld,...] rows %d", fed, s.rank, (long long)s.dims[0], rows);
            tfc_tensor *r = run(g, y, fed ? feeds : NULL, fed ? iv : NULL, fed ? n : 0);
            if (r) {
                CHECK(tfc_tensor_rank(r) == 3 && tfc_tensor_dim(r, 0) == rows);
                CHECK(tfc_tensor_dtype(r) == dt);
                double *ref = calloc((size_t)rows * 6, sizeof *ref);
                for (int m = 0; m < n; m++) {
                    const int32_t *p = tfc_tensor_data(iv[m]);
                    for (int64_t i = 0; i < tfc_tensor_num_elements(iv[m]); i++)
                        for (int k = 0; k < 6; k++)
                            ref[p[i] * 6 + k] = tfc_test_get(dv[m], i * 6 + k);
                }
                for (int64_t e = 0; e < rows * 6; e++) CHECK(tfc_test_get(r, e) == ref[e]);
                free(ref);
            }
            tfc_tensor_free(r);
            for (int m = 0; m < n; m++) {
                tfc_tensor_free(iv[m]);
                tfc_tensor_free(dv[m]);
            }
            tfc_graph_free(g);
        }
}

static void test_dynamic_stitch_errors(void) {
    tfc_graph *g = tfc_graph_new();
    int64_t d2[] = {2}, d23[] = {2, 3}, d32[] = {3, 2}, d24[] = {2, 4};
    int32_t neg[] = {0, -1};
    tfc_output i2 = tfc_const_ints(g, (int32_t[]){0, 1}, 2);
    tfc_output x23 = tfc_placeholder(g, "x23", TFC_FLOAT, 2, d23);
    /* data not starting with the indices' shape */
    tfc_output in1[] = {i2}, dt1[] = {tfc_placeholder(g, "x32", TFC_FLOAT, 2, d32)};
    tfc_with_name(g, "bad_prefix");
    CHECK(tfc_dynamic_stitch(g, in1, dt1, 1).node == NULL);
    CHECK_CONTAINS(tfc_graph_error(g), "bad_prefix");
    CHECK_CONTAINS(tfc_graph_error(g), "does not start with indices[0].shape");
    tfc_graph_clear_error(g);
    /* slices of different shapes */
    tfc_output in2[] = {i2, i2}, dt2[] = {x23, tfc_placeholder(g, "x24", TFC_FLOAT, 2, d24)};
    CHECK(tfc_dynamic_stitch(g, in2, dt2, 2).node == NULL);
    CHECK_CONTAINS(tfc_graph_error(g), "data[1].shape[1:] = [4]");
    tfc_graph_clear_error(g);
    /* a negative constant index */
    tfc_output in3[] = {tfc_const_data(g, TFC_INT32, 1, d2, neg)}, dt3[] = {x23};
    CHECK(tfc_dynamic_stitch(g, in3, dt3, 1).node == NULL);
    CHECK_CONTAINS(tfc_graph_error(g), "negative");
    tfc_graph_clear_error(g);
    /* int64 indices, mixed data types, an odd input count */
    tfc_output in4[] = {tfc_const_int64(g, 0)}, dt4[] = {tfc_const_float(g, 1)};
    CHECK(tfc_dynamic_stitch(g, in4, dt4, 1).node == NULL);
    CHECK_CONTAINS(tfc_graph_error(g), "int64");
    tfc_graph_clear_error(g);
    tfc_output in5[] = {tfc_const_int32(g, 0), tfc_const_int32(g, 1)},
               dt5[] = {tfc_const_float(g, 1), tfc_const_double(g, 1)};
    CHECK(tfc_dynamic_stitch(g, in5, dt5, 2).node == NULL);
    CHECK_CONTAINS(tfc_graph_error(g), "float64");
    tfc_graph_clear_error(g);
    tfc_op_desc *d = tfc_op_new(g, "DynamicStitch", "odd");
    tfc_op_add_input(d, i2);
    tfc_op_add_input(d, x23);
    tfc_op_add_input(d, x23);
    CHECK(tfc_op_finish(d) == NULL);
    CHECK_CONTAINS(tfc_graph_error(g), "odd");
    tfc_graph_clear_error(g);
    CHECK(tfc_dynamic_stitch(g, NULL, NULL, 0).node == NULL);
    CHECK_CONTAINS(tfc_graph_error(g), "n >= 1");
    tfc_graph_clear_error(g);
    /* at run time: a negative fed index, data that do not fit the indices */
    tfc_output fi = tfc_placeholder(g, "fi", TFC_INT32, -1, NULL);
    tfc_output fd = tfc_placeholder(g, "fd", TFC_FLOAT, -1, NULL);
    tfc_with_name(g, "stitch_at_run");
    tfc_output y = tfc_dynamic_stitch(g, &fi, &fd, 1);
    CHECK_GRAPH_OK(g);
    tfc_tensor *iv = tfc_tensor_new(TFC_INT32, 1, d2), *dv = tfc_tensor_new(TFC_FLOAT, 2, d23);
    ((int32_t *)tfc_tensor_data(iv))[1] = -3;
    tfc_output feeds[] = {fi, fd};
    tfc_tensor *vals[] = {iv, dv};
    run_fails(g, y, feeds, vals, 2, "negative");
    run_fails(g, y, feeds, vals, 2, "stitch_at_run");
    tfc_tensor_free(dv);
    dv = tfc_tensor_new(TFC_FLOAT, 2, d32);
    vals[1] = dv;
    ((int32_t *)tfc_tensor_data(iv))[1] = 1;
    run_fails(g, y, feeds, vals, 2, "must be indices[0].shape = [2]");
    tfc_tensor_free(iv);
    tfc_tensor_free(dv);
    tfc_graph_free(g);
}

/* The gradient of each data tensor: dy's rows at its indices, zero where a
 * later index overwrote the element (finite differences see that too). */
static void test_dynamic_stitch_gradient(void) {
    int32_t distinct0[] = {3, 0}, distinct1[] = {1, 2, 4}, dup0[] = {2, 0}, dup1[] = {0, 2, 1};
    for (int mode = 0; mode < 3; mode++) { /* distinct consts, repeated consts, computed */
        tfc_graph *g = tfc_graph_new();
        int64_t d0[] = {2, 3}, d1[] = {3, 3}, n0 = 2, n1 = 3;
        const int32_t *a = mode == 0 ? distinct0 : dup0, *b = mode == 0 ? distinct1 : dup1;
        tfc_output idx[] = {tfc_const_data(g, TFC_INT32, 1, &n0, a),
                            tfc_const_data(g, TFC_INT32, 1, &n1, b)};
        if (mode == 2) {
            idx[0] = tfc_identity(g, idx[0]);
            idx[1] = tfc_identity(g, idx[1]);
        }
        tfc_output xs[] = {tfc_placeholder(g, "x0", TFC_DOUBLE, 2, d0),
                           tfc_placeholder(g, "x1", TFC_DOUBLE, 2, d1)};
        tfc_tensor *vals[] = {tfc_test_random_tensor(TFC_DOUBLE, 2, d0, -1, 1),
                              tfc_test_random_tensor(TFC_DOUBLE, 2, d1, -1, 1)};
        tfc_output y = tfc_dynamic_stitch(g, idx, xs, 2);
        CHECK(tfc_test_gradcheck(g, tfc_square(g, y), xs, vals, 2) < TFC_GRAD_TOL);
        if (mode) {
            /* overwritten elements: dup0[1] = 0 and dup0[0] = 2 lose to dup1 */
            tfc_output gr[2], l = tfc_reduce_sum(g, y, NULL, 0, 0);
            tfc_gradients(g, &l, 1, xs, 2, NULL, gr);
            tfc_tensor *g0 = run(g, gr[0], xs, vals, 2), *g1 = run(g, gr[1], xs, vals, 2);
            for (int k = 0; g0 && g1 && k < 6; k++) CHECK(tfc_test_get(g0, k) == 0);
            for (int k = 0; g0 && g1 && k < 9; k++) CHECK(tfc_test_get(g1, k) == 1);
            tfc_tensor_free(g0);
            tfc_tensor_free(g1);
        }
        tfc_tensor_free(vals[0]);
        tfc_tensor_free(vals[1]);
        tfc_graph_free(g);
    }
}

/* ------------------------------------------------------------------------ */
/* Reduction gradients                                                      */
/* ------------------------------------------------------------------------ */

/* The axis sets tried on a [2,3,4] input (naxes -1: all, as a Range over
 * the run-time rank when the rank is unknown). */
static const struct {
    int naxes;
    int32_t axes[3];
} axis_sets[] = {
    {1, {1}}, {1, {-1}}, {2, {0, 2}}, {2, {2, -3}}, {3, {1, 1, -2}}, {0, {0}}, {-1, {0}},
};
#define NSETS ((int)(sizeof axis_sets / sizeof *axis_sets))

/* x (unknown rank when `unknown_rank`) reduced by `type` over axis set s,
 * the axes given as `how`: 0 a Const, 1 a computed (non-Const) int32
 * tensor, 2 a computed int64 tensor. */
static tfc_output reduce_case(tfc_graph *g, const char *type, tfc_output x, int s, int keep,
                              int how) {
    tfc_output ax;
    if (axis_sets[s].naxes < 0) {
        ax = all_axes(g, x);
    } else {
        ax = tfc_const_ints(g, axis_sets[s].axes, axis_sets[s].naxes);
    }
    if (how >= 1) ax = tfc_identity(g, ax);
    if (how == 2) ax = tfc_cast(g, ax, TFC_INT64);
    return reduce_with(g, type, x, ax, keep);
}

/* Values for each reduction: Prod gets zeros (one and two in a group, so
 * every branch of its gradient runs); Max/Min get distinct values. */
static tfc_tensor *values_for(int k, int64_t *dims) {
    tfc_tensor *v =
        tfc_test_random_tensor(TFC_DOUBLE, 3, dims, k == 4 ? 0.5 : -2, k == 4 ? 1.5 : 2);
    if (k == 4) {
        double *p = tfc_tensor_data(v);
        p[0] = 0;  /* [0,0,0] */
        p[5] = 0;  /* [0,1,1] */
        p[17] = 0; /* [1,1,1]: over axis 0, group (1,1) has two zeros, (0,0) one */
    }
    return v;
}

/* Every reduction x keep_dims x axis set, the input's rank unknown (or the
 * axes computed) at build time: gradients match finite differences and the
 * gradients of the static case (known shape, constant axes). */
static void test_reduction_gradients_dynamic(void) {
    int64_t dims[] = {2, 3, 4};
    for (int k = 0; k < 5; k++)
        for (int keep = 0; keep < 2; keep++)
            for (int s = 0; s < NSETS; s++)
                for (int variant = 0; variant < 3; variant++) {
                    /* 0: unknown rank; 1: known shape, computed int32 axes;
                     * 2: unknown rank, computed int64 axes */
                    tfc_test_seed(100 + (unsigned long long)(k * 97 + keep * 31 + s * 7 + variant));
                    tfc_graph *g = tfc_graph_new();
                    tfc_output x = variant == 1 ? tfc_placeholder(g, "x", TFC_DOUBLE, 3, dims)
                                                : tfc_placeholder(g, "x", TFC_DOUBLE, -1, NULL);
                    tfc_output xk = tfc_placeholder(g, "xk", TFC_DOUBLE, 3, dims);
                    tfc_output y = reduce_case(g, red_types[k], x, s, keep, variant);
                    tfc_output yk = reduce_case(g, red_types[k], xk, s, keep, 0);
                    tfc_tensor *v = values_for(k, dims);
                    double err = tfc_test_gradcheck(g, y, &x, &v, 1);
                    CHECK_MSG(err < TFC_GRAD_TOL, "%s keep %d axes %d variant %d: %g", red_types[k],
                              keep, s, variant, err);
                    /* same gradients as the static path, for one weighting */
                    tfc_output gy, gk;
                    tfc_output l = tfc_reduce_sum(g, tfc_square(g, y), NULL, 0, 0);
                    tfc_output lk = tfc_reduce_sum(g, tfc_square(g, yk), NULL, 0, 0);
                    tfc_gradients(g, &l, 1, &x, 1, NULL, &gy);
                    tfc_gradients(g, &lk, 1, &xk, 1, NULL, &gk);
                    CHECK_GRAPH_OK(g);
                    tfc_output f[] = {x, xk};
                    tfc_tensor *fv[] = {v, v};
                    tfc_tensor *a = run(g, gy, f, fv, 2), *b = run(g, gk, f, fv, 2);
                    if (a && b) {
                        CHECK(tfc_tensor_rank(a) == 3 && tfc_test_max_diff(a, b) < 1e-12);
                    }
                    tfc_tensor_free(a);
                    tfc_tensor_free(b);
                    tfc_tensor_free(v);
                    tfc_graph_free(g);
                }
}

/* Central differences of scalar `loss` w.r.t. x (float64), with other feeds
 * fixed (gradcheck.h feeds only the xs, and these feed int32 axes). */
static double fd_error(tfc_graph *g, tfc_output loss, tfc_output grad, tfc_output *feeds,
                       tfc_tensor **vals, int n) {
    tfc_status *st = tfc_status_new();
    tfc_session *s = tfc_session_new(g, NULL, st);
    tfc_tensor *gv = tfc_session_run1(s, feeds, vals, n, grad, st);
    double worst = gv ? 0 : INFINITY;
    double *x = tfc_tensor_data(vals[0]);
    for (int64_t k = 0; gv && k < tfc_tensor_num_elements(vals[0]); k++) {
        double orig = x[k];
        x[k] = orig + 1e-6;
        tfc_tensor *lp = tfc_session_run1(s, feeds, vals, n, loss, st);
        x[k] = orig - 1e-6;
        tfc_tensor *lm = tfc_session_run1(s, feeds, vals, n, loss, st);
        x[k] = orig;
        if (!lp || !lm)
            worst = INFINITY;
        else {
            double num = (tfc_test_get(lp, 0) - tfc_test_get(lm, 0)) / 2e-6;
            double e = fabs(num - tfc_test_get(gv, k)) / fmax(1, fabs(num));
            if (e > worst) worst = e;
        }
        tfc_tensor_free(lp);
        tfc_tensor_free(lm);
    }
    if (!gv) fprintf(stderr, "[%s] %s\n", tfc_test_current, tfc_status_message(st));
    tfc_tensor_free(gv);
    tfc_session_free(s);
    tfc_status_free(st);
    return worst;
}

/* Axes fed at run time (tf.placeholder(tf.int32)), into an input of unknown
 * rank: one graph serves several axis sets and input ranks in one session. */
static void test_fed_axes(void) {
    for (int k = 0; k < 5; k++)
        for (int keep = 0; keep < 2; keep++) {
            tfc_graph *g = tfc_graph_new();
            tfc_output x = tfc_placeholder(g, "x", TFC_DOUBLE, -1, NULL);
            tfc_output ax = tfc_placeholder(g, "axes", TFC_INT32, -1, NULL);
            tfc_output y = reduce_with(g, red_types[k], x, ax, keep);
            tfc_output w = tfc_placeholder(g, "w", TFC_DOUBLE, -1, NULL);
            tfc_output loss = tfc_reduce_sum(g, tfc_mul(g, tfc_tanh(g, y), w), NULL, 0, 0), gx;
            CHECK(tfc_gradients(g, &loss, 1, &x, 1, NULL, &gx) == 0);
            CHECK_GRAPH_OK(g);
            CHECK(graph_has_op(g, "DynamicStitch") && graph_has_op(g, "FloorMod"));
            struct {
                int rank;
                int64_t dims[3];
                int naxes;
                int32_t axes[2];
            } cases[] = {{3, {2, 3, 4}, 2, {0, -1}},
                         {2, {3, 5}, 1, {-1}},
                         {1, {6}, 0, {0}},
                         {0, {0}, 0, {0}},
                         {3, {2, 1, 3}, 1, {1}}};
            for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
                tfc_tensor *xv = values_for(k, (int64_t[]){2, 3, 4});
                tfc_tensor *xc = tfc_test_random_tensor(TFC_DOUBLE, cases[c].rank, cases[c].dims,
                                                        k == 4 ? 0.5 : -2, 2);
                int64_t na = cases[c].naxes;
                tfc_tensor *av = tfc_tensor_new(TFC_INT32, 1, &na);
                if (na) memcpy(tfc_tensor_data(av), cases[c].axes, (size_t)na * sizeof(int32_t));
                tfc_tensor *use = c == 0 ? xv : xc;
                /* w: y's run-time shape */
                tfc_output f2[] = {x, ax};
                tfc_tensor *v2[] = {use, av};
                tfc_tensor *yv = run(g, y, f2, v2, 2);
                if (yv) {
                    int64_t yd[TFC_MAX_RANK];
                    for (int i = 0; i < tfc_tensor_rank(yv); i++) yd[i] = tfc_tensor_dim(yv, i);
                    tfc_tensor *wv =
                        tfc_test_random_tensor(TFC_DOUBLE, tfc_tensor_rank(yv), yd, 0.5, 1.5);
                    tfc_output f3[] = {x, ax, w};
                    tfc_tensor *v3[] = {use, av, wv};
                    double err = fd_error(g, loss, gx, f3, v3, 3);
                    CHECK_MSG(err < TFC_GRAD_TOL, "%s keep %d case %zu: %g", red_types[k], keep, c,
                              err);
                    tfc_tensor_free(wv);
                }
                tfc_tensor_free(yv);
                tfc_tensor_free(av);
                tfc_tensor_free(xv);
                tfc_tensor_free(xc);
            }
            tfc_graph_free(g);
        }
}

/* Ties in Max/Min share the gradient equally, as in the static path. */
static void test_max_ties(void) {
    int64_t dims[] = {2, 3};
    double vals[] = {1, 5, 5, 2, 2, 2};
    for (int k = 2; k < 4; k++) {
        tfc_graph *g = tfc_graph_new();
        tfc_output x = tfc_placeholder(g, "x", TFC_DOUBLE, -1, NULL);
        tfc_output y = reduce_with(g, red_types[k], x, tfc_const_ints(g, (int32_t[]){1}, 1), 0), gx;
        tfc_output l = tfc_reduce_sum(g, y, NULL, 0, 0);
        tfc_gradients(g, &l, 1, &x, 1, NULL, &gx);
        tfc_tensor *xv = tfc_tensor_from_data(TFC_DOUBLE, 2, dims, vals);
        tfc_tensor *r = run(g, gx, &x, &xv, 1);
        double want[2][6] = {{0, 0.5, 0.5, 1. / 3, 1. / 3, 1. / 3},
                             {1, 0, 0, 1. / 3, 1. / 3, 1. / 3}};
        for (int i = 0; r && i < 6; i++) CHECK_NEAR(tfc_test_get(r, i), want[k - 2][i], 1e-15);
        tfc_tensor_free(r);
        tfc_tensor_free(xv);
        tfc_graph_free(g);
    }
}

/* Known rank and constant axes keep the static gradient (no run-time shape
 * arithmetic); an unknown rank switches to it. Second derivatives through
 * the run-time path match finite differences. */
static void test_fast_path_kept_and_second_order(void) {
    int64_t dims[] = {3, 4};
    for (int unknown = 0; unknown < 2; unknown++) {
        tfc_graph *g = tfc_graph_new();
        tfc_output x = tfc_placeholder(g, "x", TFC_DOUBLE, unknown ? -1 : 2, dims);
        tfc_output y = tfc_reduce_mean(g, tfc_mul(g, x, tfc_square(g, x)), (int32_t[]){-1}, 1, 0);
        tfc_output l = tfc_reduce_sum(g, tfc_reduce_max(g, tfc_expand_dims(g, y, 0), NULL, 0, 1),
                                      NULL, 0, 0),
                   gx;
        CHECK(tfc_gradients(g, &l, 1, &x, 1, NULL, &gx) == 0);
        CHECK(graph_has_op(g, "DynamicStitch") == unknown);
        CHECK(graph_has_op(g, "FloorMod") == unknown);
        tfc_tensor *v = tfc_test_random_tensor(TFC_DOUBLE, 2, dims, -1, 1);
        CHECK(tfc_test_gradcheck(g, tfc_square(g, gx), &x, &v, 1) < TFC_GRAD_TOL);
        tfc_tensor_free(v);
        tfc_graph_free(g);
    }
}

/* A scalar of unknown rank reduced over all (no) axes. */
static void test_scalar_unknown_rank(void) {
    for (int k = 0; k < 5; k++) {
        tfc_graph *g = tfc_graph_new();
        tfc_output x = tfc_placeholder(g, "x", TFC_DOUBLE, -1, NULL);
        tfc_output y = reduce_case(g, red_types[k], x, NSETS - 1, k % 2, 0);
        tfc_tensor *v = tfc_tensor_new(TFC_DOUBLE, 0, NULL);
        *(double *)tfc_tensor_data(v) = 0.75;
        CHECK(tfc_test_gradcheck(g, tfc_square(g, y), &x, &v, 1) < TFC_GRAD_TOL);
        tfc_tensor_free(v);
        tfc_graph_free(g);
    }
}

TFC_TEST_MAIN(T(test_floor_div_mod_kernels), T(test_floor_div_mod_edges),
              T(test_floor_mod_gradient), T(test_dynamic_stitch_documented_example),
              T(test_dynamic_stitch_random), T(test_dynamic_stitch_errors),
              T(test_dynamic_stitch_gradient), T(test_reduction_gradients_dynamic),
              T(test_fed_axes), T(test_max_ties), T(test_fast_path_kept_and_second_order),
              T(test_scalar_unknown_rank))
