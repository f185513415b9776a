/* The array ops: every kernel against a reference loop written here on
 * random data of several shapes and dtypes, static shape inference (with
 * constants, -1 dims and unknown ranks), gradients against finite
 * differences, and misuse that must fail naming the node. */
#include "gradcheck.h"
#include "harness.h"

#include <stdlib.h>

static const tfc_dtype all_dtypes[] = {TFC_FLOAT, TFC_DOUBLE, TFC_INT32,
                                       TFC_INT64, TFC_UINT8,  TFC_BOOL};
#define NDT ((int)(sizeof all_dtypes / sizeof *all_dtypes))

static tfc_tensor *rnd(tfc_dtype dt, int rank, const int64_t *dims) {
    double lo = -5, hi = 5;
    if (dt == TFC_UINT8) lo = 0, hi = 250;
    if (dt == TFC_BOOL) lo = 0, hi = 1;
    return tfc_test_random_tensor(dt, rank, dims, lo, hi);
}

static void unravel(int64_t flat, int rank, const int64_t *dims, int64_t *idx) {
    for (int i = rank - 1; i >= 0; i--) {
        idx[i] = flat % dims[i];
        flat /= dims[i];
    }
}

static int64_t ravel(int rank, const int64_t *dims, const int64_t *idx) {
    int64_t f = 0;
    for (int i = 0; i < rank; i++) f = f * dims[i] + idx[i];
    return f;
}

static int has_dims(const tfc_tensor *t, int rank, const int64_t *dims) {
    if (!t || tfc_tensor_rank(t) != rank) return 0;
    for (int i = 0; i < rank; i++)
        if (tfc_tensor_dim(t, i) != dims[i]) return 0;
    return 1;
}

static int shape_is(tfc_output o, int rank, const int64_t *dims) {
    tfc_shape s = tfc_output_shape(o);
    if (s.rank != rank) return 0;
    for (int i = 0; i < rank; i++)
        if (s.dims[i] != dims[i]) return 0;
    return 1;
}

static tfc_output ph_like(tfc_graph *g, const char *name, const tfc_tensor *t) {
    int64_t d[TFC_MAX_RANK];
    for (int i = 0; i < tfc_tensor_rank(t); i++) d[i] = tfc_tensor_dim(t, i);
    return tfc_placeholder(g, name, tfc_tensor_dtype(t), tfc_tensor_rank(t), d);
}

static tfc_output ph_unknown(tfc_graph *g, const char *name, tfc_dtype dt, int rank) {
    int64_t d[TFC_MAX_RANK];
    for (int i = 0; i < rank; i++) d[i] = -1;
    return tfc_placeholder(g, name, dt, rank, d);
}

/* Runs `y` feeding x with xv; checks y's shape; returns the result. */
static tfc_tensor *run_fed(tfc_graph *g, tfc_output y, const tfc_output *xs, tfc_tensor **xv,
                           int n, int rank, const int64_t *dims) {
    CHECK_GRAPH_OK(g);
    tfc_tensor *t = tfc_test_eval(g, y, xs, xv, n);
    CHECK_MSG(has_dims(t, rank, dims), "result has the wrong shape");
    if (!has_dims(t, rank, dims)) {
        tfc_tensor_free(t);
        return NULL;
    }
    return t;
}

/* ---- Reshape ---- */

static void test_reshape(void) {
    struct {
        int rin;
        int64_t in[4];
        int rout;
        int64_t req[4], out[4];
    } cases[] = {
        {3, {2, 3, 4}, 2, {4, -1}, {4, 6}},
        {1, {6}, 2, {2, 3}, {2, 3}},
        {3, {1, 1, 5}, 1, {5}, {5}},
        {0, {0}, 1, {1}, {1}},
        {2, {3, 4}, 3, {-1, 2, 3}, {2, 2, 3}},
        {2, {0, 4}, 2, {2, 0}, {2, 0}},
    };
    for (int k = 0; k < (int)(sizeof cases / sizeof *cases); k++) {
        tfc_dtype dt = all_dtypes[k % NDT];
        tfc_graph *g = tfc_graph_new();
        tfc_tensor *xv = rnd(dt, cases[k].rin, cases[k].in);
        tfc_output x = ph_like(g, "x", xv);
        tfc_output y = tfc_reshape(g, x, cases[k].rout, cases[k].req);
        CHECK(shape_is(y, cases[k].rout, cases[k].out));
        CHECK(tfc_output_dtype(y) == dt);
        tfc_tensor *t = run_fed(g, y, &x, &xv, 1, cases[k].rout, cases[k].out);
        if (t) CHECK(tfc_test_max_diff(t, xv) == 0);
        tfc_tensor_free(t);
        tfc_tensor_free(xv);
        tfc_graph_free(g);
    }
}

static void test_reshape_partial_shapes(void) {
    tfc_graph *g = tfc_graph_new();
    int64_t d1[] = {-1, 4}, d2[] = {-1, 2}, d3[] = {2, -1}, d4[] = {-1, 2, 2};
    tfc_output x = tfc_placeholder(g, "x", TFC_FLOAT, 2, d1);
    tfc_output y = tfc_reshape(g, x, 2, d2);
    CHECK(shape_is(y, 2, d2));
    tfc_output y2 = tfc_reshape(g, x, 2, d3);
    CHECK(shape_is(y2, 2, d3));
    /* a computed shape gives the rank only */
    tfc_output y3 = tfc_reshape_to(g, x, tfc_shape_of(g, tfc_reshape(g, x, 3, d4)));
    CHECK(shape_is(y3, 3, (int64_t[]){-1, -1, -1}));
    CHECK_GRAPH_OK(g);
    int64_t xd[] = {3, 4};
    tfc_tensor *xv = rnd(TFC_FLOAT, 2, xd);
    tfc_tensor *t = run_fed(g, y3, &x, &xv, 1, 3, (int64_t[]){3, 2, 2});
    if (t) CHECK(tfc_test_max_diff(t, xv) == 0);
    tfc_tensor_free(t);
    t = run_fed(g, y2, &x, &xv, 1, 2, (int64_t[]){2, 6});
    tfc_tensor_free(t);
    tfc_tensor_free(xv);
    tfc_graph_free(g);
}

/* ---- Transpose ---- */

static void test_transpose(void) {
    struct {
        int r;
        int64_t d[4];
        int32_t p[4];
    } cases[] = {
        {2, {3, 5}, {1, 0}},       {3, {2, 3, 4}, {2, 0, 1}}, {3, {2, 3, 4}, {0, 2, 1}},
        {4, {2, 3, 1, 5}, {3, 1, 0, 2}}, {1, {7}, {0}},       {3, {4, 1, 3}, {1, 2, 0}},
        /* several tiles of 128 with partial ones, each dtype's size */
        {2, {300, 201}, {1, 0}},   {2, {129, 257}, {1, 0}},   {2, {17, 1000}, {1, 0}},
        {2, {1000, 17}, {1, 0}},   {3, {2, 130, 140}, {0, 2, 1}}, {2, {256, 384}, {1, 0}},
    };
    for (int k = 0; k < (int)(sizeof cases / sizeof *cases); k++) {
        tfc_dtype dt = all_dtypes[(k + 1) % NDT];
        int r = cases[k].r;
        tfc_graph *g = tfc_graph_new();
        tfc_tensor *xv = rnd(dt, r, cases[k].d);
        tfc_output x = ph_like(g, "x", xv);
        tfc_output y = tfc_transpose(g, x, cases[k].p, r);
        int64_t od[4];
        for (int i = 0; i < r; i++) od[i] = cases[k].d[cases[k].p[i]];
        CHECK(shape_is(y, r, od));
        tfc_tensor *t = run_fed(g, y, &x, &xv, 1, r, od);
        for (int64_t f = 0; t && f < tfc_tensor_num_elements(t); f++) {
            int64_t oi[4], ii[4];
            unravel(f, r, od, oi);
            for (int i = 0; i < r; i++) ii[cases[k].p[i]] = oi[i];
            CHECK(tfc_test_get(t, f) == tfc_test_get(xv, ravel(r, cases[k].d, ii)));
        }
        tfc_tensor_free(t);
        tfc_tensor_free(xv);
        tfc_graph_free(g);
    }
    /* perm NULL reverses; a large case exercises the parallel copy */
    tfc_graph *g = tfc_graph_new();
    int64_t d[] = {64, 300, 3}, od[] = {3, 300, 64};
    tfc_tensor *xv = rnd(TFC_FLOAT, 3, d);
    tfc_output x = ph_like(g, "x", xv);
    tfc_tensor *t = run_fed(g, tfc_transpose(g, x, NULL, 0), &x, &xv, 1, 3, od);
    int bad = 0;
    for (int64_t f = 0; t && f < tfc_tensor_num_elements(t); f++) {
        int64_t oi[3], ii[3];
        unravel(f, 3, od, oi);
        for (int i = 0; i < 3; i++) ii[2 - i] = oi[i];
        bad += tfc_test_get(t, f) != tfc_test_get(xv, ravel(3, d, ii));
    }
    CHECK(bad == 0);
    tfc_tensor_free(t);
    tfc_tensor_free(xv);
    tfc_graph_free(g);
}

/* Random ranks, shapes and permutations (rank up to 5; sizes up to 300 at
 * ranks 1 and 2, so that the tiled transpose path sees several tiles of
 * 128, partial ones, and its 16 x 16 pieces with edges). */
static void test_transpose_random(void) {
    for (int k = 0; k < 12; k++) {
        int r = 1 + (int)tfc_test_uniform(0, 5);
        int64_t d[5], od[5];
        int32_t p[5];
        for (int i = 0; i < r; i++) {
            d[i] = 1 + (int64_t)tfc_test_uniform(0, r <= 2 ? 300 : 6);
            p[i] = i;
        }
        for (int i = r - 1; i > 0; i--) { /* Fisher-Yates */
            int j = (int)tfc_test_uniform(0, i + 1);
            int32_t t = p[i];
            p[i] = p[j];
            p[j] = t;
        }
        for (int i = 0; i < r; i++) od[i] = d[p[i]];
        tfc_dtype dt = all_dtypes[k % NDT];
        tfc_graph *g = tfc_graph_new();
        tfc_tensor *xv = rnd(dt, r, d);
        tfc_output x = ph_like(g, "x", xv);
        tfc_tensor *t = run_fed(g, tfc_transpose(g, x, p, r), &x, &xv, 1, r, od);
        int bad = 0;
        for (int64_t f = 0; t && f < tfc_tensor_num_elements(t); f++) {
            int64_t oi[5], ii[5];
            unravel(f, r, od, oi);
            for (int i = 0; i < r; i++) ii[p[i]] = oi[i];
            bad += tfc_test_get(t, f) != tfc_test_get(xv, ravel(r, d, ii));
        }
        CHECK_MSG(bad == 0, "case %d: %d wrong elements", k, bad);
        tfc_tensor_free(t);
        tfc_tensor_free(xv);
        tfc_graph_free(g);
    }
}

/* ---- ConcatV2 ---- */

static void test_concat(void) {
    struct {
        int r, n, axis;
        int64_t d[3][3];
    } cases[] = {
        {2, 2, 0, {{2, 3}, {4, 3}}},
        {2, 3, 1, {{2, 1}, {2, 4}, {2, 2}}},
        {3, 3, -1, {{2, 3, 1}, {2, 3, 2}, {2, 3, 3}}},
        {3, 2, 1, {{2, 0, 2}, {2, 3, 2}}},
        {1, 3, 0, {{3}, {1}, {2}}},
        {3, 1, -3, {{2, 2, 2}}},
    };
    for (int k = 0; k < (int)(sizeof cases / sizeof *cases); k++) {
        tfc_dtype dt = all_dtypes[(k + 2) % NDT];
        int r = cases[k].r, n = cases[k].n;
        int axis = cases[k].axis < 0 ? cases[k].axis + r : cases[k].axis;
        tfc_graph *g = tfc_graph_new();
        tfc_tensor *xv[3];
        tfc_output xs[3];
        int64_t od[3] = {0}, start[4] = {0};
        char name[16];
        for (int i = 0; i < n; i++) {
            xv[i] = rnd(dt, r, cases[k].d[i]);
            snprintf(name, sizeof name, "x%d", i);
            xs[i] = ph_like(g, name, xv[i]);
            start[i + 1] = start[i] + cases[k].d[i][axis];
        }
        for (int j = 0; j < r; j++) od[j] = j == axis ? start[n] : cases[k].d[0][j];
        tfc_output y = tfc_concat(g, xs, n, cases[k].axis);
        CHECK(shape_is(y, r, od));
        tfc_tensor *t = run_fed(g, y, xs, xv, n, r, od);
        for (int64_t f = 0; t && f < tfc_tensor_num_elements(t); f++) {
            int64_t oi[3];
            unravel(f, r, od, oi);
            int w = 0;
            while (oi[axis] >= start[w + 1]) w++;
            oi[axis] -= start[w];
            CHECK(tfc_test_get(t, f) == tfc_test_get(xv[w], ravel(r, cases[k].d[w], oi)));
        }
        tfc_tensor_free(t);
        for (int i = 0; i < n; i++) tfc_tensor_free(xv[i]);
        tfc_graph_free(g);
    }
}

/* ---- Slice ---- */

static void test_slice(void) {
    struct {
        int r;
        int64_t d[4], b[4], s[4], out[4];
    } cases[] = {
        {2, {4, 5}, {1, 2}, {2, -1}, {2, 3}},
        {3, {3, 4, 5}, {0, 1, 4}, {3, 2, 1}, {3, 2, 1}},
        {1, {9}, {3}, {-1}, {6}},
        {4, {2, 3, 4, 2}, {1, 0, 2, 1}, {1, -1, 2, 1}, {1, 3, 2, 1}},
        {2, {3, 3}, {3, 0}, {0, 3}, {0, 3}},
    };
    for (int k = 0; k < (int)(sizeof cases / sizeof *cases); k++) {
        tfc_dtype dt = all_dtypes[(k + 3) % NDT];
        int r = cases[k].r;
        tfc_graph *g = tfc_graph_new();
        tfc_tensor *xv = rnd(dt, r, cases[k].d);
        tfc_output x = ph_like(g, "x", xv);
        tfc_output y = tfc_slice(g, x, cases[k].b, cases[k].s, r);
        CHECK(shape_is(y, r, cases[k].out));
        tfc_tensor *t = run_fed(g, y, &x, &xv, 1, r, cases[k].out);
        for (int64_t f = 0; t && f < tfc_tensor_num_elements(t); f++) {
            int64_t oi[4];
            unravel(f, r, cases[k].out, oi);
            for (int i = 0; i < r; i++) oi[i] += cases[k].b[i];
            CHECK(tfc_test_get(t, f) == tfc_test_get(xv, ravel(r, cases[k].d, oi)));
        }
        tfc_tensor_free(t);
        /* unknown input dims: the size is known where size != -1 */
        tfc_output xu = ph_unknown(g, "xu", dt, r);
        tfc_output yu = tfc_slice(g, xu, cases[k].b, cases[k].s, r);
        tfc_shape su = tfc_output_shape(yu);
        CHECK(su.rank == r);
        for (int i = 0; i < r && su.rank == r; i++)
            CHECK(su.dims[i] == (cases[k].s[i] == -1 ? -1 : cases[k].s[i]));
        t = run_fed(g, yu, &xu, &xv, 1, r, cases[k].out);
        tfc_tensor_free(t);
        tfc_tensor_free(xv);
        tfc_graph_free(g);
    }
}

/* ---- Split, Pack, Unpack ---- */

static void test_split(void) {
    struct {
        int r, num, axis;
        int64_t d[3];
    } cases[] = {{2, 2, 0, {4, 3}}, {3, 3, 1, {2, 6, 2}}, {3, 4, -1, {2, 3, 8}}, {1, 1, 0, {5}},
                 {2, 3, -2, {3, 1}}};
    for (int k = 0; k < (int)(sizeof cases / sizeof *cases); k++) {
        tfc_dtype dt = all_dtypes[(k + 4) % NDT];
        int r = cases[k].r, num = cases[k].num;
        int axis = cases[k].axis < 0 ? cases[k].axis + r : cases[k].axis;
        tfc_graph *g = tfc_graph_new();
        tfc_tensor *xv = rnd(dt, r, cases[k].d);
        tfc_output x = ph_like(g, "x", xv), outs[4];
        CHECK(tfc_split(g, x, num, cases[k].axis, outs) == 0);
        int64_t od[3];
        for (int i = 0; i < r; i++) od[i] = cases[k].d[i] / (i == axis ? num : 1);
        for (int p = 0; p < num; p++) {
            CHECK(shape_is(outs[p], r, od));
            tfc_tensor *t = run_fed(g, outs[p], &x, &xv, 1, r, od);
            for (int64_t f = 0; t && f < tfc_tensor_num_elements(t); f++) {
                int64_t oi[3];
                unravel(f, r, od, oi);
                oi[axis] += p * od[axis];
                CHECK(tfc_test_get(t, f) == tfc_test_get(xv, ravel(r, cases[k].d, oi)));
            }
            tfc_tensor_free(t);
        }
        tfc_tensor_free(xv);
        tfc_graph_free(g);
    }
}

static void test_pack_unpack(void) {
    struct {
        int r, n, axis;
        int64_t d[3];
    } cases[] = {{2, 3, 0, {2, 3}}, {2, 2, 1, {4, 2}}, {2, 4, 2, {3, 2}}, {0, 3, 0, {0}},
                 {3, 2, -1, {2, 1, 3}}, {1, 3, -2, {4}}};
    for (int k = 0; k < (int)(sizeof cases / sizeof *cases); k++) {
        tfc_dtype dt = all_dtypes[(k + 5) % NDT];
        int r = cases[k].r, n = cases[k].n;
        int axis = cases[k].axis < 0 ? cases[k].axis + r + 1 : cases[k].axis;
        tfc_graph *g = tfc_graph_new();
        tfc_tensor *xv[4];
        tfc_output xs[4];
        char name[16];
        for (int i = 0; i < n; i++) {
            xv[i] = rnd(dt, r, cases[k].d);
            snprintf(name, sizeof name, "x%d", i);
            xs[i] = ph_like(g, name, xv[i]);
        }
        int64_t od[4];
        for (int i = 0, j = 0; i <= r; i++) od[i] = i == axis ? n : cases[k].d[j++];
        tfc_output y = tfc_stack(g, xs, n, cases[k].axis);
        CHECK(shape_is(y, r + 1, od));
        tfc_tensor *t = run_fed(g, y, xs, xv, n, r + 1, od);
        for (int64_t f = 0; t && f < tfc_tensor_num_elements(t); f++) {
            int64_t oi[4], ii[4];
            unravel(f, r + 1, od, oi);
            for (int i = 0, j = 0; i <= r; i++)
                if (i != axis) ii[j++] = oi[i];
            CHECK(tfc_test_get(t, f) == tfc_test_get(xv[oi[axis]], ravel(r, cases[k].d, ii)));
        }
        /* unstacking the stacked value gives the inputs back */
        tfc_output parts[4];
        CHECK(tfc_unstack(g, y, n, cases[k].axis, parts) == 0);
        for (int i = 0; i < n; i++) {
            CHECK(shape_is(parts[i], r, cases[k].d));
            tfc_tensor *u = run_fed(g, parts[i], xs, xv, n, r, cases[k].d);
            if (u) CHECK(tfc_test_max_diff(u, xv[i]) == 0);
            tfc_tensor_free(u);
        }
        tfc_tensor_free(t);
        for (int i = 0; i < n; i++) tfc_tensor_free(xv[i]);
        tfc_graph_free(g);
    }
}

/* Unpack of a random tensor along each axis, against a reference loop. */
static void test_unpack_reference(void) {
    int64_t d[] = {3, 4, 2};
    for (int axis = -3; axis < 3; axis++) {
        int a = axis < 0 ? axis + 3 : axis;
        tfc_graph *g = tfc_graph_new();
        tfc_tensor *xv = rnd(TFC_INT64, 3, d);
        tfc_output x = ph_like(g, "x", xv), outs[4];
        CHECK(tfc_unstack(g, x, (int)d[a], axis, outs) == 0);
        int64_t od[2];
        for (int i = 0, j = 0; i < 3; i++)
            if (i != a) od[j++] = d[i];
        for (int p = 0; p < d[a]; p++) {
            tfc_tensor *t = run_fed(g, outs[p], &x, &xv, 1, 2, od);
            for (int64_t f = 0; t && f < tfc_tensor_num_elements(t); f++) {
                int64_t oi[2], ii[3];
                unravel(f, 2, od, oi);
                for (int i = 0, j = 0; i < 3; i++) ii[i] = i == a ? p : oi[j++];
                CHECK(tfc_test_get(t, f) == tfc_test_get(xv, ravel(3, d, ii)));
            }
            tfc_tensor_free(t);
        }
        tfc_tensor_free(xv);
        tfc_graph_free(g);
    }
}

/* ---- Shape, Rank, Size, Fill, ZerosLike, OnesLike ---- */

static void test_shape_rank_size(void) {
    tfc_graph *g = tfc_graph_new();
    tfc_output x = ph_unknown(g, "x", TFC_DOUBLE, 3);
    tfc_output s = tfc_shape_of(g, x), r = tfc_rank(g, x), n = tfc_size(g, x);
    CHECK(shape_is(s, 1, (int64_t[]){3}) && tfc_output_dtype(s) == TFC_INT32);
    CHECK(shape_is(r, 0, NULL) && shape_is(n, 0, NULL));
    tfc_op_desc *d = tfc_op_new(g, "Shape", NULL);
    tfc_op_add_input(d, x);
    tfc_op_set_attr_type(d, "out_type", TFC_INT64);
    tfc_output s64 = tfc_out(tfc_op_finish(d), 0);
    CHECK(tfc_output_dtype(s64) == TFC_INT64);
    CHECK_GRAPH_OK(g);
    for (int k = 0; k < 3; k++) {
        int64_t dims[3] = {1 + (int64_t)tfc_test_uniform(0, 5), 1 + (int64_t)tfc_test_uniform(0, 5),
                           k};
        tfc_tensor *xv = rnd(TFC_DOUBLE, 3, dims);
        tfc_tensor *t = tfc_test_eval(g, s, &x, &xv, 1), *t64 = tfc_test_eval(g, s64, &x, &xv, 1);
        for (int i = 0; t && t64 && i < 3; i++) {
            CHECK(tfc_test_get(t, i) == dims[i]);
            CHECK(tfc_test_get(t64, i) == dims[i]);
        }
        tfc_tensor_free(t);
        tfc_tensor_free(t64);
        t = tfc_test_eval(g, r, &x, &xv, 1);
        CHECK(t && tfc_test_get(t, 0) == 3);
        tfc_tensor_free(t);
        t = tfc_test_eval(g, n, &x, &xv, 1);
        CHECK(t && tfc_test_get(t, 0) == dims[0] * dims[1] * dims[2]);
        tfc_tensor_free(t);
        tfc_tensor_free(xv);
    }
    /* unknown rank: Shape is a vector of unknown length */
    tfc_output u = tfc_placeholder(g, "u", TFC_FLOAT, -1, NULL);
    CHECK(shape_is(tfc_shape_of(g, u), 1, (int64_t[]){-1}));
    tfc_graph_free(g);
}

static void test_fill_like(void) {
    for (int k = 0; k < NDT; k++) {
        tfc_dtype dt = all_dtypes[k];
        tfc_graph *g = tfc_graph_new();
        int64_t dims[] = {2 + k % 3, 3};
        tfc_tensor *vv = rnd(dt, 0, NULL), *xv = rnd(dt, 2, dims);
        tfc_output v = ph_like(g, "v", vv), x = ph_like(g, "x", xv);
        tfc_output f = tfc_fill(g, tfc_const_ints(g, (int32_t[]){(int32_t)dims[0], 3}, 2), v);
        tfc_output z = tfc_zeros_like(g, x), o = tfc_ones_like(g, x);
        tfc_output zs = tfc_zeros(g, dt, 2, dims), os = tfc_ones(g, dt, 2, dims);
        CHECK(shape_is(f, 2, dims) && shape_is(z, 2, dims) && shape_is(zs, 2, dims));
        CHECK(tfc_output_dtype(f) == dt && tfc_output_dtype(os) == dt);
        tfc_output feeds[] = {v, x};
        tfc_tensor *vals[] = {vv, xv};
        tfc_output fetches[] = {f, z, o, zs, os};
        double want[] = {tfc_test_get(vv, 0), 0, 1, 0, 1};
        for (int j = 0; j < 5; j++) {
            tfc_tensor *t = run_fed(g, fetches[j], feeds, vals, 2, 2, dims);
            for (int64_t e = 0; t && e < tfc_tensor_num_elements(t); e++)
                CHECK(tfc_test_get(t, e) == want[j]);
            tfc_tensor_free(t);
        }
        tfc_tensor_free(vv);
        tfc_tensor_free(xv);
        tfc_graph_free(g);
    }
}

/* ---- ExpandDims, Squeeze ---- */

static void test_expand_squeeze(void) {
    tfc_graph *g = tfc_graph_new();
    int64_t d[] = {2, 1, 3};
    tfc_tensor *xv = rnd(TFC_INT32, 3, d);
    tfc_output x = ph_like(g, "x", xv);
    struct {
        int axis;
        int64_t out[4];
    } e[] = {{0, {1, 2, 1, 3}}, {3, {2, 1, 3, 1}}, {-1, {2, 1, 3, 1}}, {-4, {1, 2, 1, 3}},
             {2, {2, 1, 1, 3}}};
    for (int k = 0; k < 5; k++) {
        tfc_output y = tfc_expand_dims(g, x, e[k].axis);
        CHECK(shape_is(y, 4, e[k].out));
        tfc_tensor *t = run_fed(g, y, &x, &xv, 1, 4, e[k].out);
        if (t) CHECK(tfc_test_max_diff(t, xv) == 0);
        tfc_tensor_free(t);
    }
    int64_t all[] = {2, 3};
    tfc_output s = tfc_squeeze(g, x, NULL, 0);
    CHECK(shape_is(s, 2, all));
    tfc_tensor *t = run_fed(g, s, &x, &xv, 1, 2, all);
    if (t) CHECK(tfc_test_max_diff(t, xv) == 0);
    tfc_tensor_free(t);
    int32_t ax[] = {-2};
    s = tfc_squeeze(g, tfc_expand_dims(g, x, 0), ax, 1);
    CHECK(shape_is(s, 3, (int64_t[]){1, 2, 3}));
    /* unknown dims: squeezing all is of unknown rank; a named dim is fine */
    tfc_output xu = ph_unknown(g, "xu", TFC_INT32, 3);
    CHECK(tfc_output_shape(tfc_squeeze(g, xu, NULL, 0)).rank == -1);
    int32_t one[] = {1};
    tfc_output su = tfc_squeeze(g, xu, one, 1);
    CHECK(shape_is(su, 2, (int64_t[]){-1, -1}));
    t = run_fed(g, su, &xu, &xv, 1, 2, all);
    tfc_tensor_free(t);
    tfc_tensor_free(xv);
    tfc_graph_free(g);
}

/* ---- Tile ---- */

static void test_tile(void) {
    struct {
        int r;
        int64_t d[3];
        int32_t m[3];
    } cases[] = {{2, {2, 3}, {2, 1}}, {3, {3, 1, 2}, {1, 4, 2}}, {1, {5}, {3}},
                 {2, {2, 2}, {0, 2}}, {3, {2, 3, 4}, {2, 2, 2}}};
    for (int k = 0; k < (int)(sizeof cases / sizeof *cases); k++) {
        tfc_dtype dt = all_dtypes[k % NDT];
        int r = cases[k].r;
        tfc_graph *g = tfc_graph_new();
        tfc_tensor *xv = rnd(dt, r, cases[k].d);
        tfc_output x = ph_like(g, "x", xv);
        tfc_output y = tfc_tile(g, x, tfc_const_ints(g, cases[k].m, r));
        int64_t od[3];
        for (int i = 0; i < r; i++) od[i] = cases[k].d[i] * cases[k].m[i];
        CHECK(shape_is(y, r, od));
        tfc_tensor *t = run_fed(g, y, &x, &xv, 1, r, od);
        for (int64_t f = 0; t && f < tfc_tensor_num_elements(t); f++) {
            int64_t oi[3];
            unravel(f, r, od, oi);
            for (int i = 0; i < r; i++) oi[i] %= cases[k].d[i];
            CHECK(tfc_test_get(t, f) == tfc_test_get(xv, ravel(r, cases[k].d, oi)));
        }
        tfc_tensor_free(t);
        tfc_tensor_free(xv);
        tfc_graph_free(g);
    }
}

/* ---- Pad ---- */

static tfc_output pad(tfc_graph *g, tfc_output x, tfc_output paddings) {
    tfc_op_desc *d = tfc_op_new(g, "Pad", NULL);
    tfc_op_add_input(d, x);
    tfc_op_add_input(d, paddings);
    return tfc_out(tfc_op_finish(d), 0);
}

static void test_pad(void) {
    struct {
        int r;
        int64_t d[3];
        int32_t p[6];
    } cases[] = {{2, {2, 3}, {1, 0, 2, 1}}, {1, {4}, {0, 3}}, {3, {2, 1, 3}, {1, 1, 0, 2, 3, 0}},
                 {2, {0, 2}, {1, 1, 0, 0}}};
    for (int k = 0; k < (int)(sizeof cases / sizeof *cases); k++) {
        tfc_dtype dt = all_dtypes[(k + 1) % NDT];
        int r = cases[k].r;
        tfc_graph *g = tfc_graph_new();
        tfc_tensor *xv = rnd(dt == TFC_BOOL ? TFC_UINT8 : dt, r, cases[k].d);
        tfc_output x = ph_like(g, "x", xv);
        int64_t pd[] = {r, 2};
        tfc_output y = pad(g, x, tfc_const_data(g, TFC_INT32, 2, pd, cases[k].p));
        int64_t od[3];
        for (int i = 0; i < r; i++) od[i] = cases[k].d[i] + cases[k].p[2 * i] + cases[k].p[2 * i + 1];
        CHECK(shape_is(y, r, od));
        tfc_tensor *t = run_fed(g, y, &x, &xv, 1, r, od);
        for (int64_t f = 0; t && f < tfc_tensor_num_elements(t); f++) {
            int64_t oi[3];
            int inside = 1;
            unravel(f, r, od, oi);
            for (int i = 0; i < r; i++) {
                oi[i] -= cases[k].p[2 * i];
                inside &= oi[i] >= 0 && oi[i] < cases[k].d[i];
            }
            double want = inside ? tfc_test_get(xv, ravel(r, cases[k].d, oi)) : 0;
            CHECK(tfc_test_get(t, f) == want);
        }
        tfc_tensor_free(t);
        tfc_tensor_free(xv);
        tfc_graph_free(g);
    }
}

/* ---- OneHot ---- */

static void test_one_hot(void) {
    for (int k = 0; k < 4; k++) {
        tfc_graph *g = tfc_graph_new();
        int64_t d[] = {3, 4}, depth = 5;
        tfc_dtype it = k % 2 ? TFC_INT64 : TFC_INT32;
        /* -1 and depth are out of range and give all off values */
        tfc_tensor *iv = tfc_test_random_tensor(it, 2, d, -1, (double)depth + 1);
        tfc_output idx = ph_like(g, "idx", iv), y;
        int axis = k < 2 ? -1 : k - 2;
        double on = 2.5, off = -0.5;
        if (axis == -1) {
            y = tfc_one_hot(g, idx, (int)depth, (float)on, (float)off);
        } else {
            tfc_op_desc *dd = tfc_op_new(g, "OneHot", NULL);
            tfc_op_add_input(dd, idx);
            tfc_op_add_input(dd, tfc_const_int32(g, (int32_t)depth));
            tfc_op_add_input(dd, tfc_const_double(g, on));
            tfc_op_add_input(dd, tfc_const_double(g, off));
            tfc_op_set_attr_int(dd, "axis", axis);
            y = tfc_out(tfc_op_finish(dd), 0);
        }
        int a = axis < 0 ? 2 : axis;
        int64_t od[3];
        for (int i = 0, j = 0; i < 3; i++) od[i] = i == a ? depth : d[j++];
        CHECK(shape_is(y, 3, od));
        tfc_tensor *t = run_fed(g, y, &idx, &iv, 1, 3, od);
        for (int64_t f = 0; t && f < tfc_tensor_num_elements(t); f++) {
            int64_t oi[3], ii[2];
            unravel(f, 3, od, oi);
            for (int i = 0, j = 0; i < 3; i++)
                if (i != a) ii[j++] = oi[i];
            double want = tfc_test_get(iv, ravel(2, d, ii)) == oi[a] ? on : off;
            CHECK_NEAR(tfc_test_get(t, f), want, 0);
        }
        tfc_tensor_free(t);
        tfc_tensor_free(iv);
        tfc_graph_free(g);
    }
}

/* ---- shape inference with partial shapes ---- */

static void test_partial_inference(void) {
    tfc_graph *g = tfc_graph_new();
    int64_t d[] = {-1, 3, 4};
    tfc_output x = tfc_placeholder(g, "x", TFC_FLOAT, 3, d);
    tfc_output u = tfc_placeholder(g, "u", TFC_FLOAT, -1, NULL);
    int32_t perm[] = {2, 0, 1};
    CHECK(shape_is(tfc_transpose(g, x, perm, 3), 3, (int64_t[]){4, -1, 3}));
    tfc_output cs[] = {x, x};
    CHECK(shape_is(tfc_concat(g, cs, 2, 1), 3, (int64_t[]){-1, 6, 4}));
    CHECK(shape_is(tfc_concat(g, cs, 2, 0), 3, (int64_t[]){-1, 3, 4}));
    tfc_output cu[] = {x, u};
    CHECK(shape_is(tfc_concat(g, cu, 2, 2), 3, (int64_t[]){-1, 3, -1}));
    tfc_output sp[2];
    tfc_split(g, x, 2, 0, sp);
    CHECK(shape_is(sp[0], 3, d));
    CHECK(shape_is(tfc_stack(g, cs, 2, 1), 4, (int64_t[]){-1, 2, 3, 4}));
    CHECK(tfc_output_shape(tfc_stack(g, &u, 1, 0)).rank == -1);
    CHECK(shape_is(tfc_expand_dims(g, x, 1), 4, (int64_t[]){-1, 1, 3, 4}));
    CHECK(tfc_output_shape(tfc_expand_dims(g, u, 0)).rank == -1);
    int32_t m[] = {2, 2, 1};
    CHECK(shape_is(tfc_tile(g, x, tfc_const_ints(g, m, 3)), 3, (int64_t[]){-1, 6, 4}));
    /* computed (non-constant) inputs: rank is known, dims are not */
    tfc_output dyn = tfc_identity(g, tfc_const_ints(g, m, 3));
    CHECK(shape_is(tfc_tile(g, x, dyn), 3, (int64_t[]){-1, -1, -1}));
    CHECK(shape_is(tfc_fill(g, dyn, tfc_const_float(g, 1)), 3, (int64_t[]){-1, -1, -1}));
    CHECK(shape_is(tfc_reshape_to(g, u, dyn), 3, (int64_t[]){-1, -1, -1}));
    tfc_output outs[3];
    CHECK(tfc_unstack(g, x, 3, 1, outs) == 0);
    CHECK(shape_is(outs[2], 2, (int64_t[]){-1, 4}));
    CHECK(tfc_unstack(g, u, 2, 0, outs) == 0 && tfc_output_shape(outs[1]).rank == -1);
    CHECK(shape_is(tfc_one_hot(g, tfc_placeholder(g, "i", TFC_INT32, 1, (int64_t[]){-1}), 7, 1, 0),
                   2, (int64_t[]){-1, 7}));
    int64_t b[] = {0, 1, 1}, s[] = {-1, -1, 2};
    CHECK(shape_is(tfc_slice(g, x, b, s, 3), 3, (int64_t[]){-1, 2, 2}));
    CHECK_GRAPH_OK(g);
    tfc_graph_free(g);
}

/* ---- misuse: errors name the node ---- */

static void expect_build_error(tfc_graph *g, tfc_output y, const char *name, const char *what) {
    CHECK(y.node == NULL);
    CHECK_CONTAINS(tfc_graph_error(g), name);
    CHECK_CONTAINS(tfc_graph_error(g), what);
    tfc_graph_clear_error(g);
}

static void test_misuse_build(void) {
    tfc_graph *g = tfc_graph_new();
    int64_t d6[] = {2, 3}, d4[] = {4}, dm[] = {-1, -1};
    tfc_output x = tfc_placeholder(g, "x", TFC_FLOAT, 2, d6);
    tfc_with_name(g, "bad_reshape");
    expect_build_error(g, tfc_reshape(g, x, 1, d4), "bad_reshape", "6 elements");
    tfc_with_name(g, "two_unknowns");
    expect_build_error(g, tfc_reshape(g, x, 2, dm), "two_unknowns", "one dimension");
    tfc_output y = tfc_placeholder(g, "y", TFC_FLOAT, 2, (int64_t[]){3, 3});
    tfc_output cs[] = {x, y};
    tfc_with_name(g, "bad_concat");
    expect_build_error(g, tfc_concat(g, cs, 2, 1), "bad_concat", "dimension 0");
    tfc_with_name(g, "bad_axis");
    expect_build_error(g, tfc_concat(g, cs, 2, 2), "bad_axis", "out of range");
    tfc_output z = tfc_placeholder(g, "z", TFC_INT32, 2, d6);
    tfc_output cz[] = {x, z};
    tfc_with_name(g, "mixed");
    expect_build_error(g, tfc_concat(g, cz, 2, 0), "mixed", "int32");
    int32_t p1[] = {0, 0}, p2[] = {0, 1, 2};
    tfc_with_name(g, "bad_perm");
    expect_build_error(g, tfc_transpose(g, x, p1, 2), "bad_perm", "permutation");
    tfc_with_name(g, "short_perm");
    expect_build_error(g, tfc_transpose(g, x, p2, 3), "short_perm", "rank 2");
    tfc_output outs[4];
    tfc_with_name(g, "bad_split");
    CHECK(tfc_split(g, x, 4, 1, outs) == -1);
    expect_build_error(g, outs[0], "bad_split", "evenly divide");
    int32_t ax[] = {0};
    tfc_with_name(g, "bad_squeeze");
    expect_build_error(g, tfc_squeeze(g, x, ax, 1), "bad_squeeze", "squeeze");
    tfc_with_name(g, "bad_expand");
    expect_build_error(g, tfc_expand_dims(g, x, 4), "bad_expand", "out of range");
    int64_t b[] = {1, 0}, s[] = {2, 1};
    tfc_with_name(g, "bad_slice");
    expect_build_error(g, tfc_slice(g, x, b, s, 2), "bad_slice", "exceeds");
    tfc_with_name(g, "bad_stack");
    expect_build_error(g, tfc_stack(g, cs, 2, 0), "bad_stack", "must match");
    tfc_with_name(g, "bad_unstack");
    CHECK(tfc_unstack(g, x, 3, 0, outs) == -1);
    expect_build_error(g, outs[0], "bad_unstack", "num 3");
    tfc_output m3 = tfc_const_ints(g, p2, 3);
    tfc_with_name(g, "bad_tile");
    expect_build_error(g, tfc_tile(g, x, m3), "bad_tile", "multiples");
    tfc_with_name(g, "bad_onehot");
    expect_build_error(g, tfc_one_hot(g, x, 3, 1, 0), "bad_onehot", "indices");
    int64_t huge[] = {(int64_t)1 << 40, (int64_t)1 << 40, -1};
    tfc_with_name(g, "huge_reshape");
    expect_build_error(g, tfc_reshape(g, x, 3, huge), "huge_reshape", "2^40");
    int64_t hb[] = {0, 1}, hs[] = {1, INT64_MAX};
    tfc_with_name(g, "huge_slice");
    expect_build_error(g, tfc_slice(g, x, hb, hs, 2), "huge_slice", "exceeds");
    tfc_with_name(g, "bad_shape_type");
    expect_build_error(g, tfc_reshape_to(g, x, y), "bad_shape_type", "shape must be int32");
    tfc_graph_free(g);
}

static void expect_run_error_code(tfc_graph *g, tfc_output y, const tfc_output *feeds,
                                  tfc_tensor *const *vals, int n, const char *name,
                                  tfc_code code) {
    CHECK_GRAPH_OK(g);
    tfc_status *st = tfc_status_new();
    tfc_session *s = tfc_session_new(g, NULL, st);
    tfc_tensor *t = tfc_session_run1(s, feeds, vals, n, y, st);
    CHECK(t == NULL && tfc_status_code(st) == code);
    CHECK_CONTAINS(tfc_status_message(st), name);
    tfc_tensor_free(t);
    tfc_session_free(s);
    tfc_status_free(st);
}

static void expect_run_error(tfc_graph *g, tfc_output y, const tfc_output *feeds,
                             tfc_tensor *const *vals, int n, const char *name) {
    expect_run_error_code(g, y, feeds, vals, n, name, TFC_INVALID_ARGUMENT);
}

static void test_misuse_run(void) {
    tfc_graph *g = tfc_graph_new();
    int64_t d4[] = {4};
    tfc_output x = ph_unknown(g, "x", TFC_FLOAT, 2), y = ph_unknown(g, "y", TFC_FLOAT, 2);
    tfc_with_name(g, "late_reshape");
    tfc_output r = tfc_reshape(g, x, 1, d4);
    tfc_output cs[] = {x, y};
    tfc_with_name(g, "late_concat");
    tfc_output c = tfc_concat(g, cs, 2, 1);
    tfc_with_name(g, "late_split");
    tfc_output sp[2];
    tfc_split(g, x, 2, 1, sp);
    int64_t b[] = {1, 1}, s[] = {2, 2};
    tfc_with_name(g, "late_slice");
    tfc_output sl = tfc_slice(g, x, b, s, 2);
    tfc_output perm = tfc_placeholder(g, "perm", TFC_INT32, 1, (int64_t[]){2});
    tfc_op_desc *dd = tfc_op_new(g, "Transpose", "late_perm");
    tfc_op_add_input(dd, x);
    tfc_op_add_input(dd, perm);
    tfc_output t2 = tfc_out(tfc_op_finish(dd), 0);
    int64_t xd[] = {2, 3}, yd[] = {3, 3};
    tfc_tensor *xv = rnd(TFC_FLOAT, 2, xd), *yv = rnd(TFC_FLOAT, 2, yd);
    int32_t pv[] = {1, 1};
    tfc_tensor *pt = tfc_tensor_from_data(TFC_INT32, 1, (int64_t[]){2}, pv);
    tfc_output feeds[] = {x, y, perm};
    tfc_tensor *vals[] = {xv, yv, pt};
    expect_run_error(g, r, feeds, vals, 1, "late_reshape");
    expect_run_error(g, c, feeds, vals, 2, "late_concat");
    expect_run_error(g, sp[0], feeds, vals, 1, "late_split");
    expect_run_error(g, sl, feeds, vals, 1, "late_slice");
    expect_run_error(g, t2, feeds, vals, 3, "late_perm");
    tfc_tensor_free(xv);
    tfc_tensor_free(yv);
    tfc_tensor_free(pt);
    tfc_graph_free(g);
}

/* More run-time checks of values only known when running. */
static void test_misuse_run_values(void) {
    tfc_graph *g = tfc_graph_new();
    tfc_output x = ph_unknown(g, "x", TFC_FLOAT, 2);
    tfc_output iv = tfc_placeholder(g, "iv", TFC_INT32, 1, (int64_t[]){-1});
    tfc_output sc = tfc_placeholder(g, "sc", TFC_INT32, 0, NULL);
    tfc_with_name(g, "neg_tile");
    tfc_output tile = tfc_tile(g, x, iv);
    tfc_output one = tfc_const_float(g, 1);
    tfc_with_name(g, "neg_fill");
    tfc_output fill = tfc_fill(g, iv, one);
    tfc_with_name(g, "wide_squeeze");
    int32_t ax[] = {1};
    tfc_output sq = tfc_squeeze(g, x, ax, 1);
    tfc_op_desc *d = tfc_op_new(g, "ExpandDims", "far_expand");
    tfc_op_add_input(d, x);
    tfc_op_add_input(d, sc);
    tfc_output ex = tfc_out(tfc_op_finish(d), 0);
    d = tfc_op_new(g, "Pad", "neg_pad");
    tfc_op_add_input(d, x);
    tfc_op_add_input(d, tfc_reshape(g, iv, 2, (int64_t[]){2, 2}));
    tfc_output pd = tfc_out(tfc_op_finish(d), 0);
    d = tfc_op_new(g, "OneHot", "neg_depth");
    tfc_op_add_input(d, tfc_const_ints(g, (int32_t[]){0, 1}, 2));
    tfc_op_add_input(d, sc);
    tfc_op_add_input(d, tfc_const_float(g, 1));
    tfc_op_add_input(d, tfc_const_float(g, 0));
    tfc_output oh = tfc_out(tfc_op_finish(d), 0);
    tfc_output outs[3];
    tfc_with_name(g, "short_unstack");
    tfc_unstack(g, x, 3, 0, outs);
    tfc_output y = ph_unknown(g, "y", TFC_FLOAT, 2), xy[] = {x, y};
    tfc_with_name(g, "uneven_stack");
    tfc_output st = tfc_stack(g, xy, 2, 0);
    d = tfc_op_new(g, "InvertPermutation", "not_perm");
    tfc_op_add_input(d, iv);
    tfc_output inv = tfc_out(tfc_op_finish(d), 0);
    int64_t xd[] = {2, 3}, yd[] = {3, 2};
    tfc_tensor *xv = rnd(TFC_FLOAT, 2, xd), *yv = rnd(TFC_FLOAT, 2, yd);
    tfc_tensor *ivv = tfc_tensor_from_data(TFC_INT32, 1, (int64_t[]){4}, (int32_t[]){1, -1, 0, 0});
    tfc_tensor *scv = tfc_tensor_scalar_int32(-5);
    tfc_tensor *iv2 = tfc_tensor_from_data(TFC_INT32, 1, (int64_t[]){2}, (int32_t[]){2, -1});
    tfc_output feeds[] = {x, y, iv, sc};
    tfc_tensor *vals[] = {xv, yv, iv2, scv};
    expect_run_error(g, tile, feeds, vals, 4, "neg_tile");
    expect_run_error(g, fill, feeds, vals, 4, "neg_fill");
    expect_run_error(g, sq, feeds, vals, 4, "wide_squeeze");
    expect_run_error(g, ex, feeds, vals, 4, "far_expand");
    expect_run_error(g, oh, feeds, vals, 4, "neg_depth");
    expect_run_error(g, outs[0], feeds, vals, 4, "short_unstack");
    expect_run_error(g, st, feeds, vals, 4, "uneven_stack");
    vals[2] = ivv;
    expect_run_error(g, pd, feeds, vals, 4, "neg_pad");
    expect_run_error(g, inv, feeds, vals, 4, "not_perm");
    tfc_tensor *big = tfc_tensor_from_data(TFC_INT32, 1, (int64_t[]){2},
                                           (int32_t[]){INT32_MAX, INT32_MAX});
    vals[2] = big; /* within the per-dim cap, too large to allocate */
    expect_run_error_code(g, tile, feeds, vals, 4, "neg_tile", TFC_INTERNAL);
    tfc_tensor_free(big);
    tfc_tensor_free(xv);
    tfc_tensor_free(yv);
    tfc_tensor_free(ivv);
    tfc_tensor_free(iv2);
    tfc_tensor_free(scv);
    tfc_graph_free(g);
}

/* The helper ops the gradients use: InvertPermutation and ConcatOffset. */
static void test_gradient_helper_ops(void) {
    tfc_graph *g = tfc_graph_new();
    int32_t perm[] = {3, 0, 4, 1, 2};
    tfc_op_desc *d = tfc_op_new(g, "InvertPermutation", NULL);
    tfc_op_add_input(d, tfc_const_ints(g, perm, 5));
    tfc_output inv = tfc_out(tfc_op_finish(d), 0);
    tfc_tensor *t = tfc_test_eval(g, inv, NULL, NULL, 0);
    for (int i = 0; t && i < 5; i++) CHECK(tfc_test_get(t, perm[i]) == i);
    tfc_tensor_free(t);
    int32_t s0[] = {2, 3, 4}, s1[] = {2, 5, 4}, s2[] = {2, 1, 4};
    d = tfc_op_new(g, "ConcatOffset", NULL);
    tfc_op_add_input(d, tfc_const_int32(g, -2));
    tfc_op_add_input(d, tfc_const_ints(g, s0, 3));
    tfc_op_add_input(d, tfc_const_ints(g, s1, 3));
    tfc_op_add_input(d, tfc_const_ints(g, s2, 3));
    tfc_node *co = tfc_op_finish(d);
    CHECK_GRAPH_OK(g);
    CHECK(co && tfc_node_num_outputs(co) == 3);
    int32_t want[3] = {0, 3, 8};
    for (int i = 0; co && i < 3; i++) {
        t = tfc_test_eval(g, tfc_out(co, i), NULL, NULL, 0);
        CHECK(t && tfc_test_get(t, 0) == 0 && tfc_test_get(t, 1) == want[i] &&
              tfc_test_get(t, 2) == 0);
        tfc_tensor_free(t);
    }
    tfc_graph_free(g);
}

/* ---- gradients (float64, finite differences) ---- */

static void gradcheck1(tfc_graph *g, tfc_output y, tfc_output x, tfc_tensor *xv,
                       const char *what) {
    double err = tfc_test_gradcheck(g, y, &x, &xv, 1);
    CHECK_MSG(err < TFC_GRAD_TOL, "%s: gradient error %g", what, err);
}

static tfc_tensor *rnd_d(int rank, const int64_t *dims) {
    return tfc_test_random_tensor(TFC_DOUBLE, rank, dims, -2, 2);
}

static void test_grad_reshape_expand_squeeze(void) {
    int64_t d[] = {2, 3, 4}, r[] = {4, -1}, d1[] = {2, 1, 3};
    for (int dyn = 0; dyn < 2; dyn++) {
        tfc_graph *g = tfc_graph_new();
        tfc_tensor *xv = rnd_d(3, d);
        tfc_output x = dyn ? ph_unknown(g, "x", TFC_DOUBLE, 3) : ph_like(g, "x", xv);
        gradcheck1(g, tfc_reshape(g, x, 2, r), x, xv, "reshape");
        tfc_graph_free(g);
        g = tfc_graph_new();
        x = dyn ? ph_unknown(g, "x", TFC_DOUBLE, 3) : ph_like(g, "x", xv);
        gradcheck1(g, tfc_expand_dims(g, x, -2), x, xv, "expand_dims");
        tfc_graph_free(g);
        tfc_tensor_free(xv);
        g = tfc_graph_new();
        xv = rnd_d(3, d1);
        x = dyn ? ph_unknown(g, "x", TFC_DOUBLE, 3) : ph_like(g, "x", xv);
        int32_t ax[] = {1};
        gradcheck1(g, tfc_squeeze(g, x, ax, 1), x, xv, "squeeze");
        tfc_graph_free(g);
        tfc_tensor_free(xv);
    }
}

static void test_grad_transpose(void) {
    int64_t d[] = {2, 3, 4};
    int32_t perms[][3] = {{2, 0, 1}, {1, 2, 0}, {0, 2, 1}};
    for (int k = 0; k < 3; k++) {
        tfc_graph *g = tfc_graph_new();
        tfc_tensor *xv = rnd_d(3, d);
        tfc_output x = ph_like(g, "x", xv);
        tfc_output p = tfc_const_ints(g, perms[k], 3);
        if (k == 2) p = tfc_identity(g, p); /* not a constant: InvertPermutation */
        tfc_output in[2] = {x, p};
        tfc_op_desc *dd = tfc_op_new(g, "Transpose", NULL);
        tfc_op_add_inputs(dd, in, 2);
        gradcheck1(g, tfc_out(tfc_op_finish(dd), 0), x, xv, "transpose");
        tfc_graph_free(g);
        tfc_tensor_free(xv);
    }
}

static void test_grad_concat(void) {
    int64_t d[3][3] = {{2, 1, 3}, {2, 2, 3}, {2, 3, 3}};
    int axes[] = {1, -2, 1};
    for (int k = 0; k < 3; k++) {
        tfc_graph *g = tfc_graph_new();
        tfc_tensor *xv[3];
        tfc_output xs[3];
        char name[16];
        for (int i = 0; i < 3; i++) {
            xv[i] = rnd_d(3, d[i]);
            snprintf(name, sizeof name, "x%d", i);
            xs[i] = k == 2 ? ph_unknown(g, name, TFC_DOUBLE, 3) : ph_like(g, name, xv[i]);
        }
        tfc_output y = tfc_concat(g, xs, 3, axes[k]);
        double err = tfc_test_gradcheck(g, y, xs, xv, 3);
        CHECK_MSG(err < TFC_GRAD_TOL, "concat case %d: %g", k, err);
        for (int i = 0; i < 3; i++) tfc_tensor_free(xv[i]);
        tfc_graph_free(g);
    }
}

static void test_grad_slice_pad(void) {
    int64_t d[] = {4, 3, 5}, b[] = {1, 0, 2}, s[] = {2, -1, 3};
    int32_t p[] = {1, 2, 0, 1, 3, 0};
    int64_t pd[] = {3, 2};
    for (int dyn = 0; dyn < 2; dyn++) {
        tfc_graph *g = tfc_graph_new();
        tfc_tensor *xv = rnd_d(3, d);
        tfc_output x = dyn ? ph_unknown(g, "x", TFC_DOUBLE, 3) : ph_like(g, "x", xv);
        tfc_output y = tfc_slice(g, x, b, s, 3);
        if (dyn) { /* begin from a computed tensor */
            tfc_output in[3] = {x, tfc_identity(g, tfc_const_ints(g, (int32_t[]){1, 0, 2}, 3)),
                                tfc_const_ints(g, (int32_t[]){2, -1, 3}, 3)};
            tfc_op_desc *dd = tfc_op_new(g, "Slice", NULL);
            tfc_op_add_inputs(dd, in, 3);
            y = tfc_out(tfc_op_finish(dd), 0);
        }
        gradcheck1(g, y, x, xv, dyn ? "slice (dynamic)" : "slice");
        tfc_graph_free(g);
        g = tfc_graph_new();
        x = dyn ? ph_unknown(g, "x", TFC_DOUBLE, 3) : ph_like(g, "x", xv);
        tfc_output pads = tfc_const_data(g, TFC_INT32, 2, pd, p);
        if (dyn) pads = tfc_identity(g, pads);
        gradcheck1(g, pad(g, x, pads), x, xv, dyn ? "pad (dynamic)" : "pad");
        tfc_graph_free(g);
        tfc_tensor_free(xv);
    }
}

static void test_grad_split(void) {
    int64_t d[] = {2, 6, 3};
    for (int k = 0; k < 3; k++) {
        tfc_graph *g = tfc_graph_new();
        tfc_tensor *xv = rnd_d(3, d);
        tfc_output x = k == 2 ? ph_unknown(g, "x", TFC_DOUBLE, 3) : ph_like(g, "x", xv);
        tfc_output outs[3];
        tfc_split(g, x, 3, k == 1 ? -2 : 1, outs);
        /* output 1 is unused: its gradient is zeros */
        tfc_output two[2] = {outs[2], outs[0]};
        gradcheck1(g, tfc_concat(g, two, 2, 0), x, xv, "split");
        tfc_graph_free(g);
        tfc_tensor_free(xv);
    }
}

static void test_grad_pack_unpack(void) {
    int64_t d[] = {3, 2};
    for (int axis = -3; axis < 3; axis += 2) {
        tfc_graph *g = tfc_graph_new();
        tfc_tensor *xv[3];
        tfc_output xs[3];
        char name[16];
        for (int i = 0; i < 3; i++) {
            xv[i] = rnd_d(2, d);
            snprintf(name, sizeof name, "x%d", i);
            xs[i] = ph_like(g, name, xv[i]);
        }
        double err = tfc_test_gradcheck(g, tfc_stack(g, xs, 3, axis), xs, xv, 3);
        CHECK_MSG(err < TFC_GRAD_TOL, "stack axis %d: %g", axis, err);
        tfc_graph_free(g);
        g = tfc_graph_new();
        int64_t d3[] = {3, 4, 3};
        tfc_tensor *uv = rnd_d(3, d3);
        tfc_output u = ph_like(g, "u", uv), parts[4];
        int a = axis < 0 ? axis + 3 : axis;
        tfc_unstack(g, u, (int)d3[a], axis, parts);
        tfc_output two[2] = {parts[2], parts[0]}; /* part 1 unused */
        gradcheck1(g, tfc_stack(g, two, 2, 0), u, uv, "unstack");
        tfc_graph_free(g);
        tfc_tensor_free(uv);
        for (int i = 0; i < 3; i++) tfc_tensor_free(xv[i]);
    }
}

static void test_grad_tile(void) {
    struct {
        int64_t d[3];
        int32_t m[3];
        int dyn;
    } cases[] = {{{2, 3, 1}, {2, 1, 3}, 0}, {{3, 1, 2}, {1, 4, 2}, 0}, {{2, 2, 2}, {2, 3, 1}, 1}};
    for (int k = 0; k < 3; k++) {
        tfc_graph *g = tfc_graph_new();
        tfc_tensor *xv = rnd_d(3, cases[k].d);
        tfc_output x = cases[k].dyn ? ph_unknown(g, "x", TFC_DOUBLE, 3) : ph_like(g, "x", xv);
        tfc_output m = tfc_const_ints(g, cases[k].m, 3);
        if (cases[k].dyn) m = tfc_identity(g, m);
        gradcheck1(g, tfc_tile(g, x, m), x, xv, "tile");
        tfc_graph_free(g);
        tfc_tensor_free(xv);
    }
}

static void test_grad_fill(void) {
    tfc_graph *g = tfc_graph_new();
    tfc_tensor *vv = rnd_d(0, NULL);
    tfc_output v = ph_like(g, "v", vv);
    gradcheck1(g, tfc_fill(g, tfc_const_ints(g, (int32_t[]){2, 3}, 2), v), v, vv, "fill");
    tfc_tensor_free(vv);
    tfc_graph_free(g);
}

TFC_TEST_MAIN(T(test_reshape), T(test_reshape_partial_shapes), T(test_transpose), T(test_transpose_random),
              T(test_concat), T(test_slice), T(test_split), T(test_pack_unpack),
              T(test_unpack_reference), T(test_shape_rank_size), T(test_fill_like),
              T(test_expand_squeeze), T(test_tile), T(test_pad), T(test_one_hot),
              T(test_partial_inference), T(test_misuse_build), T(test_misuse_run), T(test_misuse_run_values), T(test_gradient_helper_ops),
              T(test_grad_reshape_expand_squeeze), T(test_grad_transpose), T(test_grad_concat),
              T(test_grad_slice_pad), T(test_grad_split), T(test_grad_pack_unpack),
              T(test_grad_tile), T(test_grad_fill))
