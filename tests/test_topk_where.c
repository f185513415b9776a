/* TopKV2, InTopKV2, Where, Multinomial and PlaceholderWithDefault: kernels
 * against reference loops on random data (ties and NaNs included), TopK's
 * gradient (and its gradient) against finite differences in float64,
 * Multinomial's seeds and frequencies, PlaceholderWithDefault fed and not,
 * and misuse errors naming the node. */
#include "gradcheck.h"
#include "harness.h"

#include <stdlib.h>

static int rnd(int lo, int hi) { return lo + (int)floor(tfc_test_uniform(0, hi - lo + 1)); }

static tfc_output named(tfc_graph *g, const char *type, const char *name, const tfc_output *in,
                        int n) {
    tfc_op_desc *d = tfc_op_new(g, type, name);
    tfc_op_add_inputs(d, in, n);
    return tfc_out(tfc_op_finish(d), 0);
}

static tfc_status *run2(tfc_graph *g, const tfc_output *feeds, tfc_tensor *const *vals, int nf,
                        const tfc_output *fetches, int n, tfc_tensor **out) {
    tfc_status *st = tfc_status_new();
    tfc_session *s = tfc_session_new(g, NULL, st);
    tfc_session_run(s, feeds, vals, nf, fetches, n, out, NULL, 0, st);
    tfc_session_free(s);
    return st;
}

/* ---- TopKV2 ---- */

/* Does a rank before b in row v (larger first, NaN largest, ties by index)? */
static int ref_before(const tfc_tensor *t, int64_t base, int64_t a, int64_t b) {
    double x = tfc_test_get(t, base + a), y = tfc_test_get(t, base + b);
    if (isnan(x) || isnan(y)) return isnan(x) && (!isnan(y) || a < b);
    return x > y || (x == y && a < b);
}

/* Random rows with many ties (values from a small set, NaNs in floats),
 * every dtype, k from 0 to n, k constant or fed: values and indices equal
 * a stable sort's first k. */
static void test_topk_random(void) {
    static const tfc_dtype dts[5] = {TFC_FLOAT, TFC_DOUBLE, TFC_INT32, TFC_INT64, TFC_UINT8};
    tfc_test_seed(31);
    for (int c = 0; c < 400; c++) {
        tfc_dtype dt = dts[c % 5];
        int rank = rnd(1, 3), fed = c % 2;
        int64_t dims[3];
        for (int i = 0; i < rank; i++) dims[i] = rnd(i == rank - 1 ? 0 : 1, 6);
        if (c % 50 == 0) dims[rank - 1] = 3000; /* rows longer than one parallel chunk */
        int64_t n = dims[rank - 1];
        int k = rnd(0, (int)n);
        tfc_tensor *xv = tfc_test_random_tensor(dt, rank, dims, 0, c % 3 ? 5 : 1000);
        int64_t total = tfc_tensor_num_elements(xv);
        if (dt == TFC_FLOAT || dt == TFC_DOUBLE)
            for (int64_t i = 0; i < total; i++) {
                double v = floor(tfc_test_get(xv, i));
                if (rnd(0, 19) == 0) v = NAN;
                if (dt == TFC_FLOAT) ((float *)tfc_tensor_data(xv))[i] = (float)v;
                else ((double *)tfc_tensor_data(xv))[i] = v;
            }
        tfc_graph *g = tfc_graph_new();
        tfc_output x = tfc_placeholder(g, "x", dt, rank, dims);
        tfc_output kk = fed ? tfc_placeholder(g, "k", TFC_INT32, 0, NULL) : tfc_const_int32(g, k);
        tfc_op_desc *d = tfc_op_new(g, "TopKV2", "topk");
        tfc_op_add_input(d, x);
        tfc_op_add_input(d, kk);
        tfc_node *node = tfc_op_finish(d);
        CHECK_GRAPH_OK(g);
        tfc_shape vs = tfc_output_shape(tfc_out(node, 0));
        CHECK(vs.rank == rank && vs.dims[rank - 1] == (fed ? -1 : k));
        tfc_tensor *kv = tfc_tensor_scalar_int32(k), *out[2] = {NULL, NULL};
        tfc_output feeds[2] = {x, kk}, fetches[2] = {tfc_out(node, 0), tfc_out(node, 1)};
        tfc_tensor *vals[2] = {xv, kv};
        tfc_status *st = run2(g, feeds, vals, fed ? 2 : 1, fetches, 2, out);
        CHECK_STATUS_OK(st);
        int64_t rows = n ? total / n : 0;
        int64_t *order = malloc((size_t)(n ? n : 1) * sizeof *order);
        int bad = !out[0] || !out[1] || tfc_tensor_dtype(out[1]) != TFC_INT32 ||
                  tfc_tensor_dtype(out[0]) != dt || tfc_tensor_dim(out[0], rank - 1) != k;
        for (int64_t r = 0; !bad && r < rows; r++) {
            /* insertion sort: stable by construction */
            for (int64_t i = 0; i < n; i++) {
                int64_t j = i;
                while (j > 0 && ref_before(xv, r * n, i, order[j - 1])) {
                    order[j] = order[j - 1];
                    j--;
                }
                order[j] = i;
            }
            for (int64_t i = 0; i < k && !bad; i++) {
                double want = tfc_test_get(xv, r * n + order[i]), got = tfc_test_get(out[0], r * k + i);
                bad = tfc_test_get(out[1], r * k + i) != order[i] ||
                      !(got == want || (isnan(got) && isnan(want)));
            }
        }
        CHECK_MSG(!bad, "case %d: %s, n %lld, k %d, %s", c, tfc_dtype_name(dt), (long long)n, k,
                  fed ? "fed" : "const");
        free(order);
        tfc_tensor_free(out[0]);
        tfc_tensor_free(out[1]);
        tfc_status_free(st);
        tfc_tensor_free(kv);
        tfc_tensor_free(xv);
        tfc_graph_free(g);
    }
}

/* Distinct values (a shuffled grid), so small perturbations keep the order. */
static tfc_tensor *distinct(int rank, const int64_t *dims) {
    tfc_tensor *t = tfc_tensor_new(TFC_DOUBLE, rank, dims);
    int64_t n = tfc_tensor_num_elements(t);
    double *p = tfc_tensor_data(t);
    for (int64_t i = 0; i < n; i++) p[i] = 0.1 * (double)i - 1;
    for (int64_t i = n - 1; i > 0; i--) {
        int64_t j = rnd(0, (int)i);
        double tmp = p[i];
        p[i] = p[j];
        p[j] = tmp;
    }
    return t;
}

/* d sum(w * top_k(x).values) / dx: static shapes, x of unknown shape, k
 * fed; then the gradient's own gradient w.r.t. the incoming gradient. */
static void test_topk_gradient(void) {
    tfc_test_seed(32);
    int64_t dims[3] = {2, 3, 7};
    for (int how = 0; how < 3; how++) {
        tfc_graph *g = tfc_graph_new();
        tfc_output x = tfc_placeholder(g, "x", TFC_DOUBLE, how == 1 ? -1 : 3, dims);
        tfc_output y;
        if (how == 2) {
            /* k computed in the graph: the last dim of the values is unknown */
            tfc_op_desc *d = tfc_op_new(g, "TopKV2", NULL);
            tfc_op_add_input(d, x);
            tfc_op_add_input(d, tfc_add(g, tfc_const_int32(g, 3), tfc_const_int32(g, 1)));
            y = tfc_out(tfc_op_finish(d), 0);
        } else {
            y = tfc_top_k(g, x, 4, NULL);
        }
        tfc_tensor *xv = distinct(3, dims);
        double err = tfc_test_gradcheck(g, y, &x, &xv, 1);
        CHECK_MSG(err < TFC_GRAD_TOL, "how %d: %g", how, err);
        tfc_tensor_free(xv);
        tfc_graph_free(g);
    }
    /* second order: the gradient is linear in dy */
    tfc_graph *g = tfc_graph_new();
    int64_t yd[3] = {2, 3, 4};
    tfc_tensor *xv = distinct(3, dims);
    tfc_output x = tfc_const(g, xv);
    tfc_output y = tfc_top_k(g, x, 4, NULL);
    tfc_output dy = tfc_placeholder(g, "dy", TFC_DOUBLE, 3, yd), dx;
    CHECK(tfc_gradients(g, &y, 1, &x, 1, &dy, &dx) == 0);
    tfc_tensor *dyv = tfc_test_random_tensor(TFC_DOUBLE, 3, yd, -1, 1);
    double err = tfc_test_gradcheck(g, dx, &dy, &dyv, 1);
    CHECK_MSG(err < TFC_GRAD_TOL, "second order: %g", err);
    tfc_tensor_free(dyv);
    tfc_tensor_free(xv);
    tfc_graph_free(g);
}

static void test_topk_misuse(void) {
    int64_t dims[2] = {2, 3};
    tfc_graph *g = tfc_graph_new();
    tfc_output x = tfc_placeholder(g, "x", TFC_FLOAT, 2, dims);
    tfc_output in[2] = {x, tfc_const_int32(g, 4)};
    named(g, "TopKV2", "topk", in, 2);
    CHECK_CONTAINS(tfc_graph_error(g), "Node 'topk' (TopKV2)");
    CHECK_CONTAINS(tfc_graph_error(g), "input must have at least k columns. Had 3, needed 4");
    tfc_graph_free(g);
    g = tfc_graph_new();
    tfc_output in2[2] = {tfc_const_float(g, 1), tfc_const_int32(g, 1)};
    named(g, "TopKV2", "topk", in2, 2);
    CHECK_CONTAINS(tfc_graph_error(g), "input must be at least rank 1");
    tfc_graph_free(g);
    g = tfc_graph_new();
    x = tfc_placeholder(g, "x", TFC_FLOAT, 2, dims);
    tfc_output in3[2] = {x, tfc_const_int32(g, -1)};
    named(g, "TopKV2", "topk", in3, 2);
    CHECK_CONTAINS(tfc_graph_error(g), "Need k >= 0, got -1");
    tfc_graph_free(g);
    g = tfc_graph_new();
    x = tfc_placeholder(g, "x", TFC_BOOL, 2, dims);
    tfc_output in4[2] = {x, tfc_const_int32(g, 1)};
    named(g, "TopKV2", "topk", in4, 2);
    CHECK_CONTAINS(tfc_graph_error(g), "input must be a real number type, got bool");
    tfc_graph_free(g);
    /* k fed too large: a run-time error naming the node */
    g = tfc_graph_new();
    x = tfc_placeholder(g, "x", TFC_FLOAT, 2, dims);
    tfc_output k = tfc_placeholder(g, "k", TFC_INT32, 0, NULL);
    tfc_output in5[2] = {x, k};
    tfc_output y = named(g, "TopKV2", "topk", in5, 2);
    tfc_tensor *xv = tfc_test_random_tensor(TFC_FLOAT, 2, dims, 0, 1),
               *kv = tfc_tensor_scalar_int32(5), *out = NULL;
    tfc_tensor *vals[2] = {xv, kv};
    tfc_status *st = run2(g, in5, vals, 2, &y, 1, &out);
    CHECK(out == NULL);
    CHECK_CONTAINS(tfc_status_message(st), "Had 3, needed 5 [[node topk (TopKV2)]]");
    tfc_status_free(st);
    tfc_tensor_free(xv);
    tfc_tensor_free(kv);
    tfc_graph_free(g);
}

/* ---- InTopKV2 ---- */

static void test_in_top_k_random(void) {
    tfc_test_seed(33);
    for (int c = 0; c < 200; c++) {
        int64_t batch = rnd(0, 6), classes = rnd(1, 8), pd[2] = {batch, classes};
        tfc_dtype it = c % 2 ? TFC_INT64 : TFC_INT32;
        int k = rnd(-1, (int)classes + 1);
        tfc_tensor *pv = tfc_test_random_tensor(TFC_FLOAT, 2, pd, 0, 4);
        float *p = tfc_tensor_data(pv);
        for (int64_t i = 0; i < batch * classes; i++) {
            p[i] = floorf(p[i]); /* ties */
            if (rnd(0, 40) == 0) p[i] = rnd(0, 1) ? INFINITY : NAN;
        }
        tfc_tensor *tv = tfc_tensor_new(it, 1, &batch);
        for (int64_t b = 0; b < batch; b++) {
            int64_t t = rnd(0, 12) ? rnd(0, (int)classes - 1) : rnd(0, 1) ? classes : -1;
            if (it == TFC_INT64) ((int64_t *)tfc_tensor_data(tv))[b] = t;
            else ((int32_t *)tfc_tensor_data(tv))[b] = (int32_t)t;
        }
        tfc_graph *g = tfc_graph_new();
        tfc_output pr = tfc_placeholder(g, "p", TFC_FLOAT, 2, pd);
        tfc_output tg = tfc_placeholder(g, "t", it, 1, &batch);
        tfc_output y = tfc_in_top_k(g, pr, tg, k);
        CHECK_GRAPH_OK(g);
        tfc_output feeds[2] = {pr, tg};
        tfc_tensor *vals[2] = {pv, tv};
        tfc_tensor *got = tfc_test_eval(g, y, feeds, vals, 2);
        CHECK(got && tfc_tensor_dtype(got) == TFC_BOOL && tfc_tensor_dim(got, 0) == batch);
        for (int64_t b = 0; got && b < batch; b++) {
            int64_t t = (int64_t)tfc_test_get(tv, b), above = 0;
            int ok = t >= 0 && t < classes;
            for (int64_t j = 0; ok && j < classes; j++) {
                if (!isfinite(p[b * classes + j])) ok = 0;
                else if (p[b * classes + j] > p[b * classes + t]) above++;
            }
            int want = ok && above < k;
            CHECK_MSG(tfc_test_get(got, b) == want, "case %d row %lld", c, (long long)b);
        }
        tfc_tensor_free(got);
        tfc_tensor_free(pv);
        tfc_tensor_free(tv);
        tfc_graph_free(g);
    }
}

static void test_in_top_k_misuse(void) {
    int64_t pd[2] = {2, 3}, td[1] = {3};
    tfc_graph *g = tfc_graph_new();
    tfc_output p = tfc_placeholder(g, "p", TFC_FLOAT, 2, pd);
    tfc_output t = tfc_placeholder(g, "t", TFC_INT32, 1, td);
    tfc_output in[3] = {p, t, tfc_const_int32(g, 1)};
    named(g, "InTopKV2", "itk", in, 3);
    CHECK_CONTAINS(tfc_graph_error(g), "Node 'itk' (InTopKV2)");
    CHECK_CONTAINS(tfc_graph_error(g), "First dimension of predictions 2 must match length of "
                                       "targets 3");
    tfc_graph_free(g);
    g = tfc_graph_new();
    p = tfc_placeholder(g, "p", TFC_FLOAT, 2, pd);
    t = tfc_placeholder(g, "t", TFC_INT32, 1, pd);
    tfc_output in2[3] = {p, t, tfc_const_int64(g, 1)};
    named(g, "InTopKV2", "itk", in2, 3);
    CHECK_CONTAINS(tfc_graph_error(g), "k must have the dtype of targets (int32), got int64");
    tfc_graph_free(g);
    g = tfc_graph_new();
    p = tfc_placeholder(g, "p", TFC_DOUBLE, 2, pd);
    t = tfc_placeholder(g, "t", TFC_INT32, 1, pd);
    tfc_output in3[3] = {p, t, tfc_const_int32(g, 1)};
    named(g, "InTopKV2", "itk", in3, 3);
    CHECK_CONTAINS(tfc_graph_error(g), "predictions must be float32, got float64");
    tfc_graph_free(g);
}

/* ---- Where ---- */

static void test_where_random(void) {
    static const tfc_dtype dts[6] = {TFC_BOOL, TFC_FLOAT, TFC_DOUBLE, TFC_INT32, TFC_INT64,
                                     TFC_UINT8};
    tfc_test_seed(34);
    for (int c = 0; c < 300; c++) {
        tfc_dtype dt = dts[c % 6];
        int rank = rnd(0, 4);
        int64_t dims[4];
        for (int i = 0; i < rank; i++) dims[i] = rnd(0, 9) == 0 ? 0 : rnd(1, 5);
        tfc_tensor *xv = tfc_test_random_tensor(dt, rank, dims, -1, 2);
        int64_t n = tfc_tensor_num_elements(xv);
        if (dt == TFC_FLOAT || dt == TFC_DOUBLE)
            for (int64_t i = 0; i < n; i++) {
                int r = rnd(0, 5);
                double v = r == 0 ? -0.0 : r == 1 ? NAN : r == 2 ? 0.0 : tfc_test_get(xv, i);
                if (dt == TFC_FLOAT) ((float *)tfc_tensor_data(xv))[i] = (float)v;
                else ((double *)tfc_tensor_data(xv))[i] = v;
            }
        tfc_graph *g = tfc_graph_new();
        tfc_output x = tfc_placeholder(g, "x", dt, c % 4 == 0 ? -1 : rank, dims);
        tfc_output y = tfc_where(g, x);
        CHECK_GRAPH_OK(g);
        tfc_shape ys = tfc_output_shape(y);
        CHECK(ys.rank == 2 && ys.dims[0] == -1 && ys.dims[1] == (c % 4 == 0 ? -1 : rank));
        tfc_tensor *got = tfc_test_eval(g, y, &x, &xv, 1);
        CHECK(got && tfc_tensor_dtype(got) == TFC_INT64 && tfc_tensor_rank(got) == 2 &&
              tfc_tensor_dim(got, 1) == rank);
        int64_t row = 0, idx[4] = {0};
        int bad = !got;
        for (int64_t i = 0; !bad && i < n; i++) {
            double v = tfc_test_get(xv, i);
            if (v != 0 || isnan(v)) {
                bad = row >= tfc_tensor_dim(got, 0);
                for (int a = 0; !bad && a < rank; a++)
                    bad = tfc_test_get(got, row * rank + a) != idx[a];
                row++;
            }
            for (int a = rank - 1; a >= 0; a--) {
                if (++idx[a] < dims[a]) break;
                idx[a] = 0;
            }
        }
        CHECK_MSG(!bad && got && row == tfc_tensor_dim(got, 0), "case %d (%s, rank %d)", c,
                  tfc_dtype_name(dt), rank);
        tfc_tensor_free(got);
        tfc_tensor_free(xv);
        tfc_graph_free(g);
    }
    /* not a bool or number: an error naming the node */
    tfc_graph *g = tfc_graph_new();
    tfc_output x = tfc_placeholder(g, "x", TFC_RESOURCE, 0, NULL);
    named(g, "Where", "w", &x, 1);
    CHECK_CONTAINS(tfc_graph_error(g), "Node 'w' (Where)");
    tfc_graph_free(g);
}

/* ---- Multinomial ---- */

static tfc_tensor *draw(tfc_graph *g, tfc_output y, int runs) {
    tfc_status *st = tfc_status_new();
    tfc_session *s = tfc_session_new(g, NULL, st);
    tfc_tensor *t = NULL;
    for (int i = 0; i < runs; i++) {
        tfc_tensor_free(t);
        t = tfc_session_run1(s, NULL, NULL, 0, y, st);
    }
    CHECK_STATUS_OK(st);
    tfc_session_free(s);
    tfc_status_free(st);
    return t;
}

static int same(const tfc_tensor *a, const tfc_tensor *b) {
    if (!a || !b || tfc_tensor_num_elements(a) != tfc_tensor_num_elements(b)) return 0;
    for (int64_t i = 0; i < tfc_tensor_num_elements(a); i++)
        if (tfc_test_get(a, i) != tfc_test_get(b, i)) return 0;
    return 1;
}

/* Frequencies match softmax(logits) over 40000 draws per row; a -inf or
 * NaN logit is never drawn; seeds repeat across sessions, runs differ;
 * int32 output. */
static void test_multinomial(void) {
    int64_t ld[2] = {3, 4};
    double lv[12] = {0, log(2), log(3), log(4),        /* 0.1 0.2 0.3 0.4 */
                     5, -INFINITY, 5, NAN,             /* 0.5 0 0.5 0 */
                     -1000, -1000, -1000, -999.30685}; /* 0.2 0.2 0.2 0.4 */
    double want[12] = {0.1, 0.2, 0.3, 0.4, 0.5, 0, 0.5, 0, 0.2, 0.2, 0.2, 0.4};
    for (int dt = 0; dt < 2; dt++) {
        tfc_graph *g = tfc_graph_new();
        tfc_tensor *lt = tfc_tensor_new(dt ? TFC_DOUBLE : TFC_FLOAT, 2, ld);
        for (int i = 0; i < 12; i++) {
            if (dt) ((double *)tfc_tensor_data(lt))[i] = lv[i];
            else ((float *)tfc_tensor_data(lt))[i] = (float)lv[i];
        }
        tfc_output y = tfc_multinomial(g, tfc_const(g, lt), 40000, 7, TFC_INT64);
        CHECK_GRAPH_OK(g);
        CHECK(y.node && strcmp(tfc_node_name(y.node), "multinomial/Multinomial") == 0);
        tfc_shape ys = tfc_output_shape(y);
        CHECK(ys.rank == 2 && ys.dims[0] == 3 && ys.dims[1] == 40000);
        tfc_tensor *a = draw(g, y, 1), *b = draw(g, y, 1), *c2 = draw(g, y, 2);
        CHECK(a && tfc_tensor_dtype(a) == TFC_INT64);
        CHECK(same(a, b));
        CHECK(!same(a, c2));
        for (int r = 0; a && r < 3; r++) {
            double count[4] = {0};
            for (int s = 0; s < 40000; s++) {
                int64_t v = (int64_t)tfc_test_get(a, r * 40000 + s);
                CHECK(v >= 0 && v < 4);
                if (v >= 0 && v < 4) count[v]++;
            }
            for (int k = 0; k < 4; k++) {
                double f = count[k] / 40000;
                CHECK_MSG(fabs(f - want[r * 4 + k]) < 0.012 && (want[r * 4 + k] > 0 || f == 0),
                          "row %d class %d: %g vs %g", r, k, f, want[r * 4 + k]);
            }
        }
        tfc_tensor_free(a);
        tfc_tensor_free(b);
        tfc_tensor_free(c2);
        tfc_tensor_free(lt);
        tfc_graph_free(g);
    }
    /* the graph seed alone, and int32 output; a different op seed differs */
    tfc_tensor *r1 = NULL, *r2 = NULL;
    int64_t d2[2] = {2, 10};
    tfc_tensor *lt = tfc_test_random_tensor(TFC_FLOAT, 2, d2, -1, 1);
    for (int k = 0; k < 3; k++) {
        tfc_graph *g = tfc_graph_new();
        tfc_graph_set_seed(g, 5);
        tfc_output y = tfc_multinomial(g, tfc_const(g, lt), 50, k == 2 ? 3 : 0, TFC_INT32);
        tfc_tensor *t = draw(g, y, 1);
        CHECK(t && tfc_tensor_dtype(t) == TFC_INT32);
        if (k == 0) r1 = t;
        else if (k == 1) {
            CHECK(same(r1, t));
            r2 = t;
        } else {
            CHECK(!same(r1, t));
            tfc_tensor_free(t);
        }
        tfc_graph_free(g);
    }
    tfc_tensor_free(lt);
    tfc_tensor_free(r1);
    tfc_tensor_free(r2);
}

static void test_multinomial_misuse(void) {
    tfc_graph *g = tfc_graph_new();
    int64_t d1[1] = {3}, d2[2] = {2, 0};
    tfc_output in[2] = {tfc_placeholder(g, "l", TFC_FLOAT, 1, d1), tfc_const_int32(g, 2)};
    named(g, "Multinomial", "mn", in, 2);
    CHECK_CONTAINS(tfc_graph_error(g), "Node 'mn' (Multinomial): logits should be a matrix");
    tfc_graph_free(g);
    g = tfc_graph_new();
    tfc_output in2[2] = {tfc_placeholder(g, "l", TFC_FLOAT, 2, d2), tfc_const_int32(g, 2)};
    named(g, "Multinomial", "mn", in2, 2);
    CHECK_CONTAINS(tfc_graph_error(g), "num_classes should be positive");
    tfc_graph_free(g);
    g = tfc_graph_new();
    int64_t d3[2] = {2, 3};
    tfc_output ns = tfc_placeholder(g, "n", TFC_INT32, 0, NULL);
    tfc_output in3[2] = {tfc_placeholder(g, "l", TFC_FLOAT, 2, d3), ns};
    tfc_op_desc *d = tfc_op_new(g, "Multinomial", "mn");
    tfc_op_add_inputs(d, in3, 2);
    tfc_op_set_attr_type(d, "output_dtype", TFC_FLOAT);
    tfc_op_finish(d);
    CHECK_CONTAINS(tfc_graph_error(g), "attr 'output_dtype' must be int32 or int64, got float");
    tfc_graph_free(g);
    g = tfc_graph_new();
    ns = tfc_placeholder(g, "n", TFC_INT32, 0, NULL);
    tfc_output in4[2] = {tfc_placeholder(g, "l", TFC_FLOAT, 2, d3), ns};
    tfc_output y = named(g, "Multinomial", "mn", in4, 2);
    tfc_tensor *lv = tfc_test_random_tensor(TFC_FLOAT, 2, d3, 0, 1), *nv = tfc_tensor_scalar_int32(-2),
               *out = NULL;
    tfc_tensor *vals[2] = {lv, nv};
    tfc_status *st = run2(g, in4, vals, 2, &y, 1, &out);
    CHECK(out == NULL);
    CHECK_CONTAINS(tfc_status_message(st),
                   "num_samples should be non-negative, got -2 [[node mn (Multinomial)]]");
    tfc_status_free(st);
    tfc_tensor_free(lv);
    tfc_tensor_free(nv);
    tfc_graph_free(g);
}

/* ---- PlaceholderWithDefault ---- */

static void test_placeholder_with_default(void) {
    int64_t dd[2] = {2, 3}, sd[2] = {-1, 3}, fd[2] = {4, 3};
    tfc_graph *g = tfc_graph_new();
    tfc_tensor *dv = tfc_test_random_tensor(TFC_DOUBLE, 2, dd, -1, 1);
    tfc_output def = tfc_placeholder(g, "d", TFC_DOUBLE, 2, dd);
    tfc_output p = tfc_placeholder_with_default(g, "p", tfc_mul(g, def, def), 2, sd);
    CHECK_GRAPH_OK(g);
    CHECK(p.node && strcmp(tfc_node_type(p.node), "PlaceholderWithDefault") == 0);
    tfc_shape ps = tfc_output_shape(p);
    CHECK(ps.rank == 2 && ps.dims[0] == -1 && ps.dims[1] == 3);
    tfc_output y = tfc_reduce_sum(g, p, (int32_t[1]){1}, 1, 0);
    /* not fed: the default */
    tfc_tensor *got = tfc_test_eval(g, y, &def, &dv, 1);
    CHECK(got && tfc_tensor_dim(got, 0) == 2);
    for (int r = 0; got && r < 2; r++) {
        double s = 0;
        for (int c = 0; c < 3; c++) s += tfc_test_get(dv, r * 3 + c) * tfc_test_get(dv, r * 3 + c);
        CHECK_NEAR(tfc_test_get(got, r), s, 1e-12);
    }
    tfc_tensor_free(got);
    /* fed, with another batch size */
    tfc_tensor *fv = tfc_test_random_tensor(TFC_DOUBLE, 2, fd, -1, 1);
    got = tfc_test_eval(g, y, &p, &fv, 1);
    CHECK(got && tfc_tensor_dim(got, 0) == 4);
    for (int r = 0; got && r < 4; r++)
        CHECK_NEAR(tfc_test_get(got, r),
                   tfc_test_get(fv, r * 3) + tfc_test_get(fv, r * 3 + 1) + tfc_test_get(fv, r * 3 + 2),
                   1e-12);
    tfc_tensor_free(got);
    /* the gradient passes through to the default */
    double err = tfc_test_gradcheck(g, y, &def, &dv, 1);
    CHECK_MSG(err < TFC_GRAD_TOL, "%g", err);
    tfc_tensor_free(fv);
    tfc_graph_free(g);

    /* a default of another shape or dtype fails the build, naming the node */
    g = tfc_graph_new();
    int64_t bad[2] = {3, 3};
    tfc_placeholder_with_default(g, "p", tfc_const(g, dv), 2, bad);
    CHECK_CONTAINS(tfc_graph_error(g), "Node 'p' (PlaceholderWithDefault)");
    CHECK_CONTAINS(tfc_graph_error(g), "[2,3] is not compatible with attr 'shape' [3,3]");
    tfc_graph_free(g);
    g = tfc_graph_new();
    tfc_op_desc *d = tfc_op_new(g, "PlaceholderWithDefault", "p");
    tfc_op_add_input(d, tfc_const_float(g, 1));
    tfc_op_set_attr_type(d, "dtype", TFC_INT32);
    tfc_op_finish(d);
    CHECK_CONTAINS(tfc_graph_error(g), "Node 'p' (PlaceholderWithDefault)");
    tfc_graph_free(g);
    /* a feed of the wrong shape is refused by the run */
    g = tfc_graph_new();
    p = tfc_placeholder_with_default(g, "p", tfc_const(g, dv), 2, sd);
    int64_t wrong[2] = {2, 4};
    tfc_tensor *wv = tfc_test_random_tensor(TFC_DOUBLE, 2, wrong, 0, 1), *out = NULL;
    tfc_status *st = run2(g, &p, &wv, 1, &p, 1, &out);
    CHECK(out == NULL && tfc_status_code(st) != TFC_OK);
    CHECK_CONTAINS(tfc_status_message(st), "p");
    tfc_status_free(st);
    tfc_tensor_free(wv);
    /* a default known only at run time that breaks the shape fails the run */
    tfc_graph_free(g);
    g = tfc_graph_new();
    tfc_output u = tfc_placeholder(g, "u", TFC_DOUBLE, -1, NULL);
    p = tfc_placeholder_with_default(g, "p", u, 2, sd);
    CHECK_GRAPH_OK(g);
    tfc_tensor *uv = tfc_test_random_tensor(TFC_DOUBLE, 1, fd, 0, 1);
    st = run2(g, &u, &uv, 1, &p, 1, &out);
    CHECK(out == NULL);
    CHECK_CONTAINS(tfc_status_message(st), "the default value has shape [4], not compatible");
    CHECK_CONTAINS(tfc_status_message(st), "[[node p (PlaceholderWithDefault)]]");
    tfc_status_free(st);
    tfc_tensor_free(uv);
    tfc_tensor_free(dv);
    tfc_graph_free(g);
}

/* A variable as the default: the value read is the one before a later
 * update in the same run, and a snapshot (not the variable's buffer). */
static void test_placeholder_with_default_variable(void) {
    tfc_graph *g = tfc_graph_new();
    int64_t d[1] = {2};
    tfc_output v = tfc_variable(g, "v", tfc_ones(g, TFC_FLOAT, 1, d));
    tfc_output p = tfc_placeholder_with_default(g, NULL, v, 1, d);
    CHECK(p.node && strcmp(tfc_node_name(p.node), "PlaceholderWithDefault") == 0);
    tfc_output twice = tfc_mul(g, p, tfc_const_float(g, 2));
    tfc_node *upd = tfc_assign(g, v, tfc_add(g, v, tfc_const_float(g, 10))).node;
    CHECK_GRAPH_OK(g);
    tfc_status *st = tfc_status_new();
    tfc_session *s = tfc_session_new(g, NULL, st);
    tfc_node *init = tfc_global_variables_initializer(g);
    tfc_session_run(s, NULL, NULL, 0, NULL, 0, NULL, &init, 1, st);
    tfc_tensor *out[2] = {NULL, NULL};
    tfc_output fetches[2] = {p, twice};
    tfc_session_run(s, NULL, NULL, 0, fetches, 2, out, &upd, 1, st);
    CHECK_STATUS_OK(st);
    CHECK(out[0] && tfc_test_get(out[0], 0) == 1 && out[1] && tfc_test_get(out[1], 1) == 2);
    tfc_tensor_free(out[0]);
    tfc_tensor_free(out[1]);
    tfc_tensor *after = tfc_session_run1(s, NULL, NULL, 0, p, st);
    CHECK(after && tfc_test_get(after, 0) == 11);
    tfc_tensor_free(after);
    tfc_session_free(s);
    tfc_status_free(st);
    tfc_graph_free(g);
}

TFC_TEST_MAIN(T(test_topk_random), T(test_topk_gradient), T(test_topk_misuse),
              T(test_in_top_k_random), T(test_in_top_k_misuse), T(test_where_random),
              T(test_multinomial), T(test_multinomial_misuse), T(test_placeholder_with_default),
              T(test_placeholder_with_default_variable))
