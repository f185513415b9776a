/* StridedSlice and StridedSliceGrad: the kernel and the shape function
 * against a reference that implements numpy's basic indexing directly
 * (Python's slice.indices, integer indices, ..., newaxis) over thousands
 * of random keys, turned into TensorFlow's spec as tf's __getitem__ does;
 * bounds as constants and fed at run time; gradients (and the gradient's
 * gradient) against finite differences in float64; TensorFlow's mask
 * precedence; misuse errors naming the node. */
#include "gradcheck.h"
#include "harness.h"

#include <stdlib.h>

/* ---- a numpy key and its reference result ---- */

enum { K_INT, K_SLICE, K_ELLIPSIS, K_NEWAXIS };

typedef struct key {
    int kind;
    int64_t i;                         /* K_INT */
    int has_start, has_stop, has_step; /* K_SLICE */
    int64_t start, stop, step;
} key;

/* Python's slice.indices(d): start, step and the element count. */
static int64_t py_indices(const key *k, int64_t d, int64_t *start, int64_t *step) {
    int64_t st = k->has_step ? k->step : 1;
    int64_t lower = st > 0 ? 0 : -1, upper = st > 0 ? d : d - 1;
    int64_t b, e;
    if (!k->has_start) {
        b = st > 0 ? lower : upper;
    } else {
        b = k->start < 0 ? k->start + d : k->start;
        if (b < lower) b = lower;
        if (b > upper) b = upper;
    }
    if (!k->has_stop) {
        e = st > 0 ? upper : lower;
    } else {
        e = k->stop < 0 ? k->stop + d : k->stop;
        if (e < lower) e = lower;
        if (e > upper) e = upper;
    }
    *start = b;
    *step = st;
    if (st > 0) return e > b ? (e - b - 1) / st + 1 : 0;
    return b > e ? (b - e - 1) / (-st) + 1 : 0;
}

enum { REF_OK = 0, REF_BAD_INDEX = -1, REF_TOO_MANY = -2 };

typedef struct ref_result {
    int rank;
    int64_t dims[TFC_MAX_RANK];
    double *values;
} ref_result;

/* x[key] as numpy computes it, element by element. */
static int ref_slice(const tfc_tensor *x, const key *keys, int nk, ref_result *out) {
    int rank = tfc_tensor_rank(x), real = 0, has_ellipsis = 0;
    for (int i = 0; i < nk; i++) {
        real += keys[i].kind == K_INT || keys[i].kind == K_SLICE;
        has_ellipsis |= keys[i].kind == K_ELLIPSIS;
    }
    if (real > rank) return REF_TOO_MANY;
    /* per input dim: first index and step; which output dim walks it */
    int64_t first[TFC_MAX_RANK], step[TFC_MAX_RANK];
    int walk[TFC_MAX_RANK];
    int axis = 0;
    out->rank = 0;
    key full = {K_SLICE, 0, 0, 0, 0, 0, 0, 0};
    for (int i = 0; i <= nk; i++) {
        const key *k = i < nk ? &keys[i] : NULL;
        int nfull = 0;
        if (!k && !has_ellipsis) nfull = rank - real;
        if (k && k->kind == K_ELLIPSIS) nfull = rank - real;
        for (int f = 0; f < nfull; f++, axis++) {
            int64_t d = tfc_tensor_dim(x, axis);
            out->dims[out->rank] = py_indices(&full, d, &first[axis], &step[axis]);
            walk[axis] = out->rank++;
        }
        if (!k || k->kind == K_ELLIPSIS) continue;
        if (k->kind == K_NEWAXIS) {
            out->dims[out->rank++] = 1;
            continue;
        }
        int64_t d = tfc_tensor_dim(x, axis);
        if (k->kind == K_INT) {
            int64_t ix = k->i < 0 ? k->i + d : k->i;
            if (ix < 0 || ix >= d) return REF_BAD_INDEX;
            first[axis] = ix;
            step[axis] = 0;
            walk[axis] = -1;
        } else {
            out->dims[out->rank] = py_indices(k, d, &first[axis], &step[axis]);
            walk[axis] = out->rank++;
        }
        axis++;
    }
    int64_t n = 1;
    for (int i = 0; i < out->rank; i++) n *= out->dims[i];
    out->values = malloc((size_t)(n ? n : 1) * sizeof *out->values);
    int64_t o[TFC_MAX_RANK] = {0};
    for (int64_t e = 0; e < n; e++) {
        int64_t src = 0;
        for (int a = 0; a < rank; a++) {
            int64_t ix = first[a] + (walk[a] >= 0 ? o[walk[a]] * step[a] : 0);
            src = src * tfc_tensor_dim(x, a) + ix;
        }
        out->values[e] = tfc_test_get(x, src);
        for (int a = out->rank - 1; a >= 0; a--) {
            if (++o[a] < out->dims[a]) break;
            o[a] = 0;
        }
    }
    return REF_OK;
}

/* TensorFlow's spec for a key, as tf.Tensor.__getitem__ builds it. */
typedef struct spec {
    int n;
    int64_t begin[32], end[32], strides[32];
    int begin_mask, end_mask, ellipsis_mask, new_axis_mask, shrink_axis_mask;
} spec;

static void key_to_spec(const key *keys, int nk, spec *s) {
    memset(s, 0, sizeof *s);
    s->n = nk;
    for (int i = 0; i < nk; i++) {
        const key *k = &keys[i];
        s->strides[i] = 1;
        switch (k->kind) {
        case K_INT:
            s->begin[i] = k->i;
            s->end[i] = k->i + 1;
            s->shrink_axis_mask |= 1 << i;
            break;
        case K_SLICE:
            if (k->has_start) s->begin[i] = k->start;
            else s->begin_mask |= 1 << i;
            if (k->has_stop) s->end[i] = k->stop;
            else s->end_mask |= 1 << i;
            if (k->has_step) s->strides[i] = k->step;
            break;
        case K_ELLIPSIS: s->ellipsis_mask |= 1 << i; break;
        default: s->new_axis_mask |= 1 << i; break;
        }
    }
}

static int rnd(int lo, int hi) { return lo + (int)floor(tfc_test_uniform(0, hi - lo + 1)); }

/* A random key for dims: mostly valid, sometimes an index out of range or
 * more indices than dims. */
static int random_key(int rank, const int64_t *dims, key *keys) {
    int nk = rnd(0, rnd(0, 5) ? rank + 1 : rank + 2), real = 0, newaxes = 0, ellipsis = 0;
    for (int i = 0; i < nk; i++) {
        key *k = &keys[i];
        memset(k, 0, sizeof *k);
        int r = rnd(0, 99);
        int64_t d = real < rank ? dims[real] : 3;
        if (r < 12 && !ellipsis) {
            k->kind = K_ELLIPSIS;
            ellipsis = 1;
        } else if (r < 24 && newaxes < 3) {
            k->kind = K_NEWAXIS;
            newaxes++;
        } else if (r < 50) {
            k->kind = K_INT;
            k->i = rnd(0, 9) ? rnd(-(int)d, (int)d - 1) : rnd(0, 1) ? d : -d - 1;
            real++;
        } else {
            k->kind = K_SLICE;
            k->has_start = rnd(0, 3) > 0;
            k->has_stop = rnd(0, 3) > 0;
            k->has_step = rnd(0, 2) > 0;
            k->start = rnd(-(int)d - 2, (int)d + 2);
            k->stop = rnd(-(int)d - 2, (int)d + 2);
            do k->step = rnd(-3, 3); while (k->step == 0);
            real++;
        }
    }
    return nk;
}

static tfc_tensor *vec(tfc_dtype dt, const int64_t *v, int n) {
    int64_t d = n;
    tfc_tensor *t = tfc_tensor_new(dt, 1, &d);
    for (int i = 0; i < n; i++) {
        if (dt == TFC_INT32) ((int32_t *)tfc_tensor_data(t))[i] = (int32_t)v[i];
        else ((int64_t *)tfc_tensor_data(t))[i] = v[i];
    }
    return t;
}

static tfc_output slice_op(tfc_graph *g, const char *type, const tfc_output *in, int n,
                           const spec *s) {
    tfc_op_desc *d = tfc_op_new(g, type, "ss");
    tfc_op_add_inputs(d, in, n);
    tfc_op_set_attr_int(d, "begin_mask", s->begin_mask);
    tfc_op_set_attr_int(d, "end_mask", s->end_mask);
    tfc_op_set_attr_int(d, "ellipsis_mask", s->ellipsis_mask);
    tfc_op_set_attr_int(d, "new_axis_mask", s->new_axis_mask);
    tfc_op_set_attr_int(d, "shrink_axis_mask", s->shrink_axis_mask);
    return tfc_out(tfc_op_finish(d), 0);
}

static const char *ref_error_text(int r) {
    return r == REF_BAD_INDEX ? "out of bounds" : "Index out of range";
}

/* One random case: bounds as constants (the shape function must give the
 * exact shape or the error) or fed (x of unknown shape too), any dtype. */
static void run_case(int fed, int *checked_errors, int *checked_ok) {
    static const tfc_dtype dts[5] = {TFC_FLOAT, TFC_DOUBLE, TFC_INT32, TFC_UINT8, TFC_INT64};
    tfc_dtype dt = dts[rnd(0, 4)], it = rnd(0, 1) ? TFC_INT64 : TFC_INT32;
    int rank = rnd(0, 4);
    int64_t dims[TFC_MAX_RANK];
    for (int i = 0; i < rank; i++) dims[i] = rnd(0, 9) == 0 ? 0 : rnd(1, 5);
    key keys[8];
    int nk = random_key(rank, dims, keys);
    spec s;
    key_to_spec(keys, nk, &s);
    tfc_tensor *xv = tfc_test_random_tensor(dt, rank, dims, 0, 100);
    ref_result want = {0, {0}, NULL};
    int r = ref_slice(xv, keys, nk, &want);

    tfc_graph *g = tfc_graph_new();
    tfc_output x = tfc_placeholder(g, "x", dt, fed && rnd(0, 1) ? -1 : rank, dims);
    tfc_tensor *bt = vec(it, s.begin, s.n), *et = vec(it, s.end, s.n), *st = vec(it, s.strides, s.n);
    int64_t unk = -1;
    tfc_output bounds[3];
    for (int k = 0; k < 3; k++)
        bounds[k] = fed ? tfc_placeholder(g, k == 0 ? "b" : k == 1 ? "e" : "s", it, 1, &unk)
                        : tfc_const(g, k == 0 ? bt : k == 1 ? et : st);
    tfc_output in[4] = {x, bounds[0], bounds[1], bounds[2]};
    tfc_output y = slice_op(g, "StridedSlice", in, 4, &s);
    if (!fed && r != REF_OK) {
        CHECK_CONTAINS(tfc_graph_error(g), "Node 'ss' (StridedSlice)");
        CHECK_CONTAINS(tfc_graph_error(g), ref_error_text(r));
        (*checked_errors)++;
    } else {
        CHECK_GRAPH_OK(g);
        tfc_shape sh = tfc_output_shape(y);
        if (!fed && r == REF_OK) {
            int same = sh.rank == want.rank;
            for (int i = 0; same && i < sh.rank; i++) same = sh.dims[i] == want.dims[i];
            CHECK_MSG(same, "static shape of a constant spec (n=%d)", s.n);
        }
        tfc_output feeds[4] = {x, bounds[0], bounds[1], bounds[2]};
        tfc_tensor *vals[4] = {xv, bt, et, st};
        tfc_status *status = tfc_status_new();
        tfc_session *sess = tfc_session_new(g, NULL, status);
        tfc_tensor *got = tfc_session_run1(sess, feeds, vals, fed ? 4 : 1, y, status);
        if (r != REF_OK) {
            CHECK(got == NULL);
            CHECK_CONTAINS(tfc_status_message(status), ref_error_text(r));
            CHECK_CONTAINS(tfc_status_message(status), "[[node ss (StridedSlice)]]");
            (*checked_errors)++;
        } else {
            CHECK_MSG(got != NULL, "%s", tfc_status_message(status));
            int same = got && tfc_tensor_rank(got) == want.rank && tfc_tensor_dtype(got) == dt;
            for (int i = 0; same && i < want.rank; i++) same = tfc_tensor_dim(got, i) == want.dims[i];
            CHECK_MSG(same, "result shape (n=%d, masks %d %d %d %d %d)", s.n, s.begin_mask,
                      s.end_mask, s.ellipsis_mask, s.new_axis_mask, s.shrink_axis_mask);
            for (int64_t i = 0; same && i < tfc_tensor_num_elements(got); i++)
                if (tfc_test_get(got, i) != want.values[i]) {
                    CHECK_MSG(0, "element %lld: %g vs %g", (long long)i, tfc_test_get(got, i),
                              want.values[i]);
                    break;
                }
            (*checked_ok)++;
        }
        tfc_tensor_free(got);
        tfc_session_free(sess);
        tfc_status_free(status);
    }
    free(want.values);
    tfc_tensor_free(bt);
    tfc_tensor_free(et);
    tfc_tensor_free(st);
    tfc_tensor_free(xv);
    tfc_graph_free(g);
}

static void test_random_keys_constant_bounds(void) {
    tfc_test_seed(11);
    int errors = 0, ok = 0;
    for (int i = 0; i < 3000; i++) run_case(0, &errors, &ok);
    CHECK_MSG(errors > 100 && ok > 2000, "%d errors, %d results", errors, ok);
}

static void test_random_keys_fed_bounds(void) {
    tfc_test_seed(12);
    int errors = 0, ok = 0;
    for (int i = 0; i < 3000; i++) run_case(1, &errors, &ok);
    CHECK_MSG(errors > 100 && ok > 2000, "%d errors, %d results", errors, ok);
}

/* Large slices take the parallel path: x[1:-1, ::-3, 2:] of [64, 300, 9]
 * against the reference. */
static void test_large_parallel(void) {
    int64_t dims[3] = {64, 300, 9};
    tfc_tensor *xv = tfc_test_random_tensor(TFC_FLOAT, 3, dims, -1, 1);
    key keys[3] = {{K_SLICE, 0, 1, 1, 0, 1, -1, 0},
                   {K_SLICE, 0, 0, 0, 1, 0, 0, -3},
                   {K_SLICE, 0, 1, 0, 0, 2, 0, 0}};
    spec s;
    key_to_spec(keys, 3, &s);
    ref_result want = {0, {0}, NULL};
    CHECK(ref_slice(xv, keys, 3, &want) == REF_OK);
    tfc_graph *g = tfc_graph_new();
    tfc_tensor *bt = vec(TFC_INT32, s.begin, 3), *et = vec(TFC_INT32, s.end, 3),
               *st = vec(TFC_INT32, s.strides, 3);
    tfc_output x = tfc_placeholder(g, "x", TFC_FLOAT, 3, dims);
    tfc_output y = tfc_strided_slice(g, x, tfc_const(g, bt), tfc_const(g, et), tfc_const(g, st),
                                     s.begin_mask, s.end_mask, 0, 0, 0);
    tfc_tensor *got = tfc_test_eval(g, y, &x, &xv, 1);
    CHECK(got && tfc_tensor_num_elements(got) == 62 * 100 * 7);
    for (int64_t i = 0; got && i < tfc_tensor_num_elements(got); i++)
        if (tfc_test_get(got, i) != want.values[i]) {
            CHECK_MSG(0, "element %lld", (long long)i);
            break;
        }
    free(want.values);
    tfc_tensor_free(got);
    tfc_tensor_free(bt);
    tfc_tensor_free(et);
    tfc_tensor_free(st);
    tfc_tensor_free(xv);
    tfc_graph_free(g);
}

/* Fed begin/end with constant strides: dims whose bounds are both masked
 * keep a static size (ceil(d / |stride|)), shrunk ones vanish, the rest
 * are unknown; with fed strides only the rank is known. */
static void test_static_shape_of_fed_bounds(void) {
    int64_t xd[3] = {5, 6, 7}, three = 3;
    for (int fed_strides = 0; fed_strides < 2; fed_strides++) {
        tfc_graph *g = tfc_graph_new();
        tfc_output x = tfc_placeholder(g, "x", TFC_FLOAT, 3, xd);
        tfc_output b = tfc_placeholder(g, "b", TFC_INT32, 1, &three);
        tfc_output e = tfc_placeholder(g, "e", TFC_INT32, 1, &three);
        int32_t sv[3] = {2, 1, -3};
        tfc_output s = fed_strides ? tfc_placeholder(g, "s", TFC_INT32, 1, &three)
                                   : tfc_const_ints(g, sv, 3);
        tfc_output in[4] = {x, b, e, s};
        spec sp = {3, {0}, {0}, {0}, 1 | 4, 1 | 4, 0, 0, 2};
        tfc_output y = slice_op(g, "StridedSlice", in, 4, &sp);
        CHECK_GRAPH_OK(g);
        tfc_shape sh = tfc_output_shape(y);
        CHECK(sh.rank == 2);
        CHECK(sh.dims[0] == (fed_strides ? -1 : 3) && sh.dims[1] == (fed_strides ? -1 : 3));
        tfc_graph_free(g);
    }
}

/* ---- gradients ---- */

/* d sum(w * x[key]) / dx for random valid keys, bounds constant or
 * computed in the graph (known only when it runs), x of known or unknown
 * shape. */
static void test_gradients_random(void) {
    tfc_test_seed(21);
    int done = 0;
    for (int tries = 0; done < 60 && tries < 1000; tries++) {
        int rank = rnd(1, 3);
        int64_t dims[TFC_MAX_RANK];
        for (int i = 0; i < rank; i++) dims[i] = rnd(1, 5);
        key keys[8];
        int nk = random_key(rank, dims, keys);
        tfc_tensor *xv = tfc_test_random_tensor(TFC_DOUBLE, rank, dims, -1, 1);
        ref_result want = {0, {0}, NULL};
        int r = ref_slice(xv, keys, nk, &want);
        free(want.values);
        if (r != REF_OK) {
            tfc_tensor_free(xv);
            continue;
        }
        spec s;
        key_to_spec(keys, nk, &s);
        int how = done % 3; /* 0 constants, 1 computed bounds, 2 also x of unknown shape */
        tfc_graph *g = tfc_graph_new();
        tfc_output x = tfc_placeholder(g, "x", TFC_DOUBLE, how == 2 ? -1 : rank, dims);
        tfc_tensor *bt = vec(TFC_INT64, s.begin, s.n), *et = vec(TFC_INT64, s.end, s.n),
                   *st = vec(TFC_INT64, s.strides, s.n);
        tfc_output b = tfc_const(g, bt), e = tfc_const(g, et), sd = tfc_const(g, st);
        if (how) {
            tfc_output zero = tfc_sub(g, b, b);
            b = tfc_add(g, b, zero);
            e = tfc_add(g, e, zero);
            sd = tfc_add(g, sd, zero);
        }
        tfc_output in[4] = {x, b, e, sd};
        tfc_output y = slice_op(g, "StridedSlice", in, 4, &s);
        double err = tfc_test_gradcheck(g, y, &x, &xv, 1);
        CHECK_MSG(err < TFC_GRAD_TOL, "case %d (how %d): %g", done, how, err);
        tfc_tensor_free(bt);
        tfc_tensor_free(et);
        tfc_tensor_free(st);
        tfc_tensor_free(xv);
        tfc_graph_free(g);
        done++;
    }
    CHECK(done == 60);
}

/* StridedSliceGrad's own gradient w.r.t. dy (a StridedSlice), and the
 * gradient through the public helper with float32 and default strides. */
static void test_second_order_and_helper(void) {
    int64_t xd[3] = {4, 3, 5}, dyd[2] = {2, 5};
    /* x[1::2, -1] : shape [2, 5] */
    int64_t b[2] = {1, -1}, e[2] = {0, 0}, s[2] = {2, 1};
    spec sp = {2, {0}, {0}, {0}, 0, 1, 0, 0, 1 << 1};
    tfc_graph *g = tfc_graph_new();
    tfc_output dy = tfc_placeholder(g, "dy", TFC_DOUBLE, 2, dyd);
    tfc_tensor *bt = vec(TFC_INT32, b, 2), *et = vec(TFC_INT32, e, 2), *st = vec(TFC_INT32, s, 2);
    tfc_tensor *shape = vec(TFC_INT32, xd, 3);
    tfc_output in[5] = {tfc_const(g, shape), tfc_const(g, bt), tfc_const(g, et), tfc_const(g, st),
                        dy};
    tfc_output dx = slice_op(g, "StridedSliceGrad", in, 5, &sp);
    CHECK_GRAPH_OK(g);
    tfc_shape sh = tfc_output_shape(dx);
    CHECK(sh.rank == 3 && sh.dims[0] == 4 && sh.dims[1] == 3 && sh.dims[2] == 5);
    tfc_tensor *dyv = tfc_test_random_tensor(TFC_DOUBLE, 2, dyd, -1, 1);
    tfc_tensor *got = tfc_test_eval(g, dx, &dy, &dyv, 1);
    /* dy lands at rows 1 and 3, column 2 of dim 1; zeros elsewhere */
    for (int64_t i = 0; got && i < 60; i++) {
        int64_t r = i / 15, c1 = i / 5 % 3, c2 = i % 5;
        double w = (r % 2 == 1 && c1 == 2) ? tfc_test_get(dyv, (r / 2) * 5 + c2) : 0;
        CHECK(tfc_test_get(got, i) == w);
    }
    CHECK(got != NULL);
    double err = tfc_test_gradcheck(g, dx, &dy, &dyv, 1);
    CHECK_MSG(err < TFC_GRAD_TOL, "%g", err);
    tfc_tensor_free(got);
    tfc_tensor_free(dyv);
    tfc_graph_free(g);

    /* float32 through tfc_strided_slice, strides NULL: gradient of
     * sum(x[1:, ::]) is 0 in row 0 and 1 elsewhere */
    g = tfc_graph_new();
    int64_t fd[2] = {3, 2};
    tfc_output x = tfc_placeholder(g, "x", TFC_FLOAT, 2, fd);
    int32_t b1[2] = {1, 0}, e1[2] = {0, 0};
    tfc_output y = tfc_strided_slice(g, x, tfc_const_ints(g, b1, 2), tfc_const_ints(g, e1, 2),
                                     (tfc_output){NULL, 0}, 0, 3, 0, 0, 0);
    tfc_shape ys = tfc_output_shape(y);
    CHECK(ys.rank == 2 && ys.dims[0] == 2 && ys.dims[1] == 2);
    tfc_output loss = tfc_reduce_sum(g, y, NULL, 0, 0), gx;
    CHECK(tfc_gradients(g, &loss, 1, &x, 1, NULL, &gx) == 0);
    tfc_tensor *xv = tfc_test_random_tensor(TFC_FLOAT, 2, fd, -1, 1);
    got = tfc_test_eval(g, gx, &x, &xv, 1);
    CHECK(got != NULL);
    for (int i = 0; got && i < 6; i++) CHECK(tfc_test_get(got, i) == (i < 2 ? 0 : 1));
    tfc_tensor_free(got);
    tfc_tensor_free(xv);
    tfc_tensor_free(bt);
    tfc_tensor_free(et);
    tfc_tensor_free(st);
    tfc_tensor_free(shape);
    tfc_graph_free(g);
}

/* ---- TensorFlow's precedence of masks, beyond what Python builds ---- */

static double eval_spec(const spec *s, const int64_t *xd, int xr, int64_t *out_dims, int *out_rank,
                        tfc_tensor **out) {
    tfc_graph *g = tfc_graph_new();
    int64_t n = 1;
    for (int i = 0; i < xr; i++) n *= xd[i];
    tfc_tensor *xv = tfc_tensor_new(TFC_INT32, xr, xd);
    for (int64_t i = 0; i < n; i++) ((int32_t *)tfc_tensor_data(xv))[i] = (int32_t)i;
    tfc_tensor *bt = vec(TFC_INT32, s->begin, s->n), *et = vec(TFC_INT32, s->end, s->n),
               *st = vec(TFC_INT32, s->strides, s->n);
    tfc_output in[4] = {tfc_const(g, xv), tfc_const(g, bt), tfc_const(g, et), tfc_const(g, st)};
    tfc_output y = slice_op(g, "StridedSlice", in, 4, s);
    *out = tfc_test_eval(g, y, NULL, NULL, 0);
    *out_rank = *out ? tfc_tensor_rank(*out) : -1;
    for (int i = 0; *out && i < *out_rank; i++) out_dims[i] = tfc_tensor_dim(*out, i);
    tfc_tensor_free(xv);
    tfc_tensor_free(bt);
    tfc_tensor_free(et);
    tfc_tensor_free(st);
    tfc_graph_free(g);
    return 0;
}

static void test_mask_precedence(void) {
    int64_t xd[2] = {3, 4}, od[TFC_MAX_RANK];
    int orank;
    tfc_tensor *got;
    /* an entry with the ellipsis and new-axis bits is an ellipsis */
    spec a = {1, {0}, {0}, {1}, 0, 0, 1, 1, 0};
    eval_spec(&a, xd, 2, od, &orank, &got);
    CHECK(got && orank == 2 && od[0] == 3 && od[1] == 4);
    tfc_tensor_free(got);
    /* new axis wins over shrink; begin_mask does not apply to a shrunk
     * entry, which reads begin (x[2] with begin_mask set is still row 2) */
    spec b = {2, {0, 2}, {0, 3}, {1, 1}, 1 << 1, 0, 0, 1, 1 | 1 << 1};
    eval_spec(&b, xd, 2, od, &orank, &got);
    CHECK(got && orank == 2 && od[0] == 1 && od[1] == 4);
    for (int i = 0; got && i < 4; i++) CHECK(tfc_test_get(got, i) == 4 * 2 + i);
    tfc_tensor_free(got);
    /* x[-1] (begin -1, end 0, shrink) is the last row */
    spec c = {1, {-1}, {0}, {1}, 0, 0, 0, 0, 1};
    eval_spec(&c, xd, 2, od, &orank, &got);
    CHECK(got && orank == 1 && od[0] == 4 && tfc_test_get(got, 0) == 8);
    tfc_tensor_free(got);
    /* an empty spec is the whole tensor; so is a lone ellipsis on a scalar */
    spec e = {0, {0}, {0}, {0}, 0, 0, 0, 0, 0};
    eval_spec(&e, xd, 2, od, &orank, &got);
    CHECK(got && orank == 2 && tfc_tensor_num_elements(got) == 12);
    tfc_tensor_free(got);
    spec f = {2, {0, 0}, {0, 0}, {1, 1}, 0, 0, 1, 1 << 1, 0};
    eval_spec(&f, NULL, 0, od, &orank, &got);
    CHECK(got && orank == 1 && od[0] == 1 && tfc_test_get(got, 0) == 0);
    tfc_tensor_free(got);
}

/* ---- misuse ---- */

static void expect_build_error(const spec *s, int n_end, const char *want) {
    int64_t xd[2] = {3, 4};
    tfc_graph *g = tfc_graph_new();
    tfc_output x = tfc_placeholder(g, "x", TFC_FLOAT, 2, xd);
    tfc_tensor *bt = vec(TFC_INT32, s->begin, s->n), *et = vec(TFC_INT32, s->end, n_end),
               *st = vec(TFC_INT32, s->strides, s->n);
    tfc_output in[4] = {x, tfc_const(g, bt), tfc_const(g, et), tfc_const(g, st)};
    slice_op(g, "StridedSlice", in, 4, s);
    CHECK_CONTAINS(tfc_graph_error(g), "Node 'ss' (StridedSlice)");
    CHECK_CONTAINS(tfc_graph_error(g), want);
    tfc_tensor_free(bt);
    tfc_tensor_free(et);
    tfc_tensor_free(st);
    tfc_graph_free(g);
}

static void test_misuse(void) {
    spec two_ellipses = {2, {0}, {0}, {1, 1}, 0, 0, 3, 0, 0};
    expect_build_error(&two_ellipses, 2, "Multiple ellipses in slice spec not allowed");
    spec zero_stride = {1, {0}, {2}, {0}, 0, 0, 0, 0, 0};
    expect_build_error(&zero_stride, 1, "strides[0] must be non-zero");
    spec lengths = {2, {0, 0}, {1, 1}, {1, 1}, 0, 0, 0, 0, 0};
    expect_build_error(&lengths, 1, "must have one length");
    spec too_many = {3, {0, 0, 0}, {1, 1, 1}, {1, 1, 1}, 0, 0, 0, 0, 0};
    expect_build_error(&too_many, 3, "Index out of range using input dim 2; input has only 2");
    spec shrink_neg = {1, {1}, {2}, {-1}, 0, 0, 0, 0, 1};
    expect_build_error(&shrink_neg, 1, "only stride 1 allowed on non-range indexing");
    spec bad_index = {1, {3}, {4}, {1}, 0, 0, 0, 0, 1};
    expect_build_error(&bad_index, 1, "slice index 3 of dimension 0 out of bounds.");
    spec too_deep = {9, {0}, {0}, {1, 1, 1, 1, 1, 1, 1, 1, 1}, 0, 0, 0, 0x7f, 0};
    expect_build_error(&too_deep, 9, "more than 8 dims");

    /* bad dtypes and shapes of the bounds */
    tfc_graph *g = tfc_graph_new();
    int64_t xd[1] = {4}, bd[2] = {1, 1};
    tfc_output x = tfc_placeholder(g, "x", TFC_FLOAT, 1, xd);
    tfc_output fb = tfc_placeholder(g, "fb", TFC_FLOAT, 1, xd);
    tfc_output i32 = tfc_const_ints(g, (int32_t[1]){0}, 1);
    tfc_output in[4] = {x, fb, i32, i32};
    spec none = {0};
    slice_op(g, "StridedSlice", in, 4, &none);
    CHECK_CONTAINS(tfc_graph_error(g), "begin must be int32 or int64");
    tfc_graph_free(g);
    g = tfc_graph_new();
    x = tfc_placeholder(g, "x", TFC_FLOAT, 1, xd);
    tfc_output m = tfc_placeholder(g, "m", TFC_INT32, 2, bd);
    tfc_output in2[4] = {x, m, m, m};
    slice_op(g, "StridedSlice", in2, 4, &none);
    CHECK_CONTAINS(tfc_graph_error(g), "begin must be a vector, got rank 2");
    tfc_graph_free(g);

    /* fed bounds fail at run time naming the node: an index out of range,
     * bounds of different lengths, a zero stride */
    g = tfc_graph_new();
    int64_t unk = -1;
    x = tfc_placeholder(g, "x", TFC_FLOAT, 1, xd);
    tfc_output b = tfc_placeholder(g, "b", TFC_INT32, 1, &unk);
    tfc_output e = tfc_placeholder(g, "e", TFC_INT32, 1, &unk);
    tfc_output sd = tfc_placeholder(g, "s", TFC_INT32, 1, &unk);
    tfc_output in3[4] = {x, b, e, sd};
    spec shrink = {0, {0}, {0}, {0}, 0, 0, 0, 0, 1};
    tfc_output y = slice_op(g, "StridedSlice", in3, 4, &shrink);
    CHECK_GRAPH_OK(g);
    tfc_status *st = tfc_status_new();
    tfc_session *sess = tfc_session_new(g, NULL, st);
    tfc_tensor *xv = tfc_test_random_tensor(TFC_FLOAT, 1, xd, 0, 1);
    struct {
        int64_t b[2], e[2], s[2];
        int nb, ne, ns;
        const char *want;
    } cases[3] = {{{-5}, {-4}, {1}, 1, 1, 1, "slice index -5 of dimension 0 out of bounds."},
                  {{0, 0}, {1}, {1}, 2, 1, 1, "Expected begin, end, and strides to be 1D equal"},
                  {{0}, {1}, {0}, 1, 1, 1, "strides[0] must be non-zero"}};
    for (int k = 0; k < 3; k++) {
        tfc_tensor *vals[4] = {xv, vec(TFC_INT32, cases[k].b, cases[k].nb),
                               vec(TFC_INT32, cases[k].e, cases[k].ne),
                               vec(TFC_INT32, cases[k].s, cases[k].ns)};
        tfc_tensor *got = tfc_session_run1(sess, in3, vals, 4, y, st);
        CHECK(got == NULL);
        CHECK_CONTAINS(tfc_status_message(st), cases[k].want);
        CHECK_CONTAINS(tfc_status_message(st), "[[node ss (StridedSlice)]]");
        for (int i = 1; i < 4; i++) tfc_tensor_free(vals[i]);
        tfc_tensor_free(got);
    }
    tfc_session_free(sess);
    tfc_tensor_free(xv);
    tfc_graph_free(g);

    /* StridedSliceGrad: dy of the wrong shape, at build and at run time */
    g = tfc_graph_new();
    int64_t dyd[1] = {3};
    tfc_output dy = tfc_placeholder(g, "dy", TFC_FLOAT, 1, dyd);
    int64_t shp[1] = {4}, b0[1] = {1}, e0[1] = {0}, s0[1] = {1};
    tfc_tensor *shape_t = vec(TFC_INT32, shp, 1), *b0t = vec(TFC_INT32, b0, 1),
               *e0t = vec(TFC_INT32, e0, 1), *s0t = vec(TFC_INT32, s0, 1);
    spec sp = {1, {0}, {0}, {0}, 0, 1, 0, 0, 0};
    tfc_output gin[5] = {tfc_const(g, shape_t), tfc_const(g, b0t), tfc_const(g, e0t),
                         tfc_const(g, s0t), dy};
    slice_op(g, "StridedSliceGrad", gin, 5, &sp);
    CHECK_GRAPH_OK(g); /* x[1:] of [4] is [3]: fine */
    tfc_graph_free(g);
    g = tfc_graph_new();
    dy = tfc_placeholder(g, "dy", TFC_FLOAT, 1, &unk);
    tfc_output gin2[5] = {tfc_const(g, shape_t), tfc_const(g, b0t), tfc_const(g, e0t),
                          tfc_const(g, s0t), dy};
    tfc_output dx = slice_op(g, "StridedSliceGrad", gin2, 5, &sp);
    int64_t two[1] = {2};
    tfc_tensor *dyv = tfc_test_random_tensor(TFC_FLOAT, 1, two, 0, 1);
    sess = tfc_session_new(g, NULL, st);
    tfc_tensor *got = tfc_session_run1(sess, &dy, &dyv, 1, dx, st);
    CHECK(got == NULL);
    CHECK_CONTAINS(tfc_status_message(st), "shape of dy was [2] instead of [3]");
    CHECK_CONTAINS(tfc_status_message(st), "[[node ss (StridedSliceGrad)]]");
    tfc_session_free(sess);
    tfc_graph_free(g);
    g = tfc_graph_new();
    int64_t five[1] = {5};
    dy = tfc_placeholder(g, "dy", TFC_FLOAT, 1, five);
    tfc_output gin3[5] = {tfc_const(g, shape_t), tfc_const(g, b0t), tfc_const(g, e0t),
                          tfc_const(g, s0t), dy};
    slice_op(g, "StridedSliceGrad", gin3, 5, &sp);
    CHECK_CONTAINS(tfc_graph_error(g), "dy has shape [5], but the slice of shape [4] has shape [3]");
    tfc_graph_free(g);
    tfc_tensor_free(dyv);
    tfc_tensor_free(shape_t);
    tfc_tensor_free(b0t);
    tfc_tensor_free(e0t);
    tfc_tensor_free(s0t);
    tfc_status_free(st);
}

TFC_TEST_MAIN(T(test_random_keys_constant_bounds), T(test_random_keys_fed_bounds),
              T(test_large_parallel), T(test_static_shape_of_fed_bounds), T(test_gradients_random), T(test_second_order_and_helper),
              T(test_mask_precedence), T(test_misuse))
