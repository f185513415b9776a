/* Core NN ops: activations and their *Grad ops, softmax and log-softmax,
 * softmax cross-entropy (dense and sparse), BiasAdd and BiasAddGrad, against
 * reference loops on random data; the narrow rows' kernels against the row
 * kernels, bit for bit; large-logit stability; misuse naming the
 * node; gradients (and second-order gradients of the *Grad ops) against
 * finite differences. */
#include "harness.h"
#include "gradcheck.h"

#include "ops/softmax_narrow.h"

#include <stdlib.h>

static const int64_t shapes[][3] = {{7, 0, 0}, {3, 4, 0}, {2, 3, 5}};
static const int ranks[] = {1, 2, 3};

static double tol_for(tfc_dtype dt) { return dt == TFC_FLOAT ? 2e-6 : 1e-13; }

static tfc_output op1(tfc_graph *g, const char *type, tfc_output a) {
    tfc_op_desc *d = tfc_op_new(g, type, NULL);
    tfc_op_add_input(d, a);
    return tfc_out(tfc_op_finish(d), 0);
}

static tfc_node *op2(tfc_graph *g, const char *type, tfc_output a, tfc_output b,
                     const char *name) {
    tfc_op_desc *d = tfc_op_new(g, type, name);
    tfc_op_add_input(d, a);
    tfc_op_add_input(d, b);
    return tfc_op_finish(d);
}

/* Reference activations and their gradient ops, in double. */
static double ref_unary(int k, double a) {
    switch (k) {
    case 0: return a > 0 ? a : 0;
    case 1: return 1 / (1 + exp(-a));
    default: return tanh(a);
    }
}

static double ref_binary(int k, double a, double b) {
    switch (k) {
    case 0: return b > 0 ? a : 0;    /* ReluGrad(gradients, features) */
    case 1: return b * a * (1 - a);  /* SigmoidGrad(y, dy) */
    default: return b * (1 - a * a); /* TanhGrad(y, dy) */
    }
}

static void test_activations(void) {
    const char *un[] = {"Relu", "Sigmoid", "Tanh"};
    const char *bin[] = {"ReluGrad", "SigmoidGrad", "TanhGrad"};
    int64_t big[] = {70001};
    for (int dd = 0; dd < 2; dd++) {
        tfc_dtype dt = dd ? TFC_DOUBLE : TFC_FLOAT;
        for (int si = 0; si < 4; si++) {
            int rank = si < 3 ? ranks[si] : 1;
            const int64_t *dims = si < 3 ? shapes[si] : big;
            tfc_graph *g = tfc_graph_new();
            tfc_output a = tfc_placeholder(g, "a", dt, rank, dims);
            tfc_output b = tfc_placeholder(g, "b", dt, rank, dims);
            tfc_output f[6];
            f[0] = tfc_relu(g, a);
            f[1] = tfc_sigmoid(g, a);
            f[2] = tfc_tanh(g, a);
            for (int k = 0; k < 3; k++) f[3 + k] = tfc_out(op2(g, bin[k], a, b, NULL), 0);
            CHECK_GRAPH_OK(g);
            tfc_tensor *av = tfc_test_random_tensor(dt, rank, dims, -4, 4);
            tfc_tensor *bv = tfc_test_random_tensor(dt, rank, dims, -2, 2);
            tfc_output feeds[] = {a, b};
            tfc_tensor *vals[] = {av, bv}, *out[6] = {0};
            tfc_status *st = tfc_status_new();
            tfc_session *s = tfc_session_new(g, NULL, st);
            tfc_session_run(s, feeds, vals, 2, f, 6, out, NULL, 0, st);
            CHECK_STATUS_OK(st);
            for (int k = 0; k < 6 && out[0]; k++) {
                CHECK(tfc_tensor_dtype(out[k]) == dt && tfc_tensor_rank(out[k]) == rank);
                tfc_shape ss = tfc_output_shape(f[k]);
                CHECK(ss.rank == rank && ss.dims[rank - 1] == dims[rank - 1]);
                double worst = 0;
                for (int64_t i = 0; i < tfc_tensor_num_elements(av); i++) {
                    double x = tfc_test_get(av, i), y = tfc_test_get(bv, i);
                    double ref = k < 3 ? ref_unary(k, x) : ref_binary(k - 3, x, y);
                    double e = fabs(tfc_test_get(out[k], i) - ref) / (1 + fabs(ref));
                    if (e > worst) worst = e;
                }
                CHECK_MSG(worst <= tol_for(dt), "%s %s shape %d: error %g", tfc_dtype_name(dt),
                          k < 3 ? un[k] : bin[k - 3], si, worst);
            }
            for (int k = 0; k < 6; k++) tfc_tensor_free(out[k]);
            tfc_tensor_free(av);
            tfc_tensor_free(bv);
            tfc_session_free(s);
            tfc_status_free(st);
            tfc_graph_free(g);
        }
    }
}

/* Reference softmax / log-softmax of rows of length n, computed stably. */
static void ref_softmax(const double *x, int64_t n, double *sm, double *lsm) {
    double m = x[0], s = 0;
    for (int64_t k = 1; k < n; k++) m = fmax(m, x[k]);
    for (int64_t k = 0; k < n; k++) s += exp(x[k] - m);
    for (int64_t k = 0; k < n; k++) {
        sm[k] = exp(x[k] - m) / s;
        lsm[k] = x[k] - m - log(s);
    }
}

static void get_row(const tfc_tensor *t, int64_t r, int64_t n, double *out) {
    for (int64_t k = 0; k < n; k++) out[k] = tfc_test_get(t, r * n + k);
}

static void test_softmax(void) {
    int64_t wide[] = {3, 5000};
    for (int dd = 0; dd < 2; dd++) {
        tfc_dtype dt = dd ? TFC_DOUBLE : TFC_FLOAT;
        for (int si = 0; si < 4; si++) {
            int rank = si < 3 ? ranks[si] : 2;
            const int64_t *dims = si < 3 ? shapes[si] : wide;
            tfc_graph *g = tfc_graph_new();
            tfc_output x = tfc_placeholder(g, "x", dt, rank, dims);
            tfc_output f[2] = {tfc_softmax(g, x), tfc_log_softmax(g, x)};
            CHECK_GRAPH_OK(g);
            /* the 4th case is shifted by 1000 to check stability */
            double off = si == 3 ? 1000 : 0;
            tfc_tensor *xv = tfc_test_random_tensor(dt, rank, dims, off - 5, off + 5);
            tfc_tensor *out[2] = {0};
            tfc_status *st = tfc_status_new();
            tfc_session *s = tfc_session_new(g, NULL, st);
            tfc_session_run(s, &x, &xv, 1, f, 2, out, NULL, 0, st);
            CHECK_STATUS_OK(st);
            if (out[0] && out[1]) {
                int64_t n = dims[rank - 1], rows = tfc_tensor_num_elements(xv) / n;
                double *row = malloc((size_t)n * 3 * sizeof *row);
                double worst = 0;
                for (int64_t r = 0; r < rows; r++) {
                    get_row(xv, r, n, row);
                    ref_softmax(row, n, row + n, row + 2 * n);
                    for (int64_t k = 0; k < n; k++) {
                        double a = tfc_test_get(out[0], r * n + k), b = tfc_test_get(out[1], r * n + k);
                        CHECK(isfinite(a) && isfinite(b));
                        worst = fmax(worst, fabs(a - row[n + k]) / (1 + fabs(row[n + k])));
                        worst = fmax(worst, fabs(b - row[2 * n + k]) / (1 + fabs(row[2 * n + k])));
                    }
                }
                /* float logits near 1000 carry only ~1e-4 absolute precision */
                CHECK_MSG(worst <= tol_for(dt) * (si == 3 && !dd ? 50 : 1), "%s shape %d: %g",
                          tfc_dtype_name(dt), si, worst);
                free(row);
            }
            tfc_tensor_free(out[0]);
            tfc_tensor_free(out[1]);
            tfc_tensor_free(xv);
            tfc_session_free(s);
            tfc_status_free(st);
            tfc_graph_free(g);
        }
    }
}

/* Random probability rows (each sums to 1). */
static tfc_tensor *random_labels(tfc_dtype dt, int64_t rows, int64_t n) {
    int64_t d[] = {rows, n};
    tfc_tensor *t = tfc_test_random_tensor(TFC_DOUBLE, 2, d, 0, 1), *out = tfc_tensor_new(dt, 2, d);
    for (int64_t r = 0; r < rows; r++) {
        double s = 0;
        for (int64_t k = 0; k < n; k++) s += tfc_test_get(t, r * n + k);
        for (int64_t k = 0; k < n; k++) {
            double v = tfc_test_get(t, r * n + k) / s;
            if (dt == TFC_FLOAT) ((float *)tfc_tensor_data(out))[r * n + k] = (float)v;
            else ((double *)tfc_tensor_data(out))[r * n + k] = v;
        }
    }
    tfc_tensor_free(t);
    return out;
}

static void test_softmax_cross_entropy(void) {
    int64_t cases[][2] = {{1, 3}, {4, 6}, {33, 10}, {5, 1}};
    for (int dd = 0; dd < 2; dd++) {
        tfc_dtype dt = dd ? TFC_DOUBLE : TFC_FLOAT;
        for (int ci = 0; ci < 5; ci++) {
            int64_t *d = cases[ci < 4 ? ci : 1];
            double off = ci == 4 ? 1000 : 0; /* large logits */
            tfc_graph *g = tfc_graph_new();
            tfc_output x = tfc_placeholder(g, "x", dt, 2, d);
            tfc_output l = tfc_placeholder(g, "l", dt, 2, d);
            tfc_node *n = op2(g, "SoftmaxCrossEntropyWithLogits", x, l, NULL);
            tfc_output helper = tfc_softmax_cross_entropy_with_logits(g, l, x);
            CHECK_GRAPH_OK(g);
            tfc_shape s0 = tfc_output_shape(tfc_out(n, 0)), s1 = tfc_output_shape(tfc_out(n, 1));
            CHECK(s0.rank == 1 && s0.dims[0] == d[0]);
            CHECK(s1.rank == 2 && s1.dims[0] == d[0] && s1.dims[1] == d[1]);
            tfc_tensor *xv = tfc_test_random_tensor(dt, 2, d, off - 3, off + 3);
            tfc_tensor *lv = random_labels(dt, d[0], d[1]);
            tfc_output feeds[] = {x, l}, f[] = {tfc_out(n, 0), tfc_out(n, 1), helper};
            tfc_tensor *vals[] = {xv, lv}, *out[3] = {0};
            tfc_status *st = tfc_status_new();
            tfc_session *s = tfc_session_new(g, NULL, st);
            tfc_session_run(s, feeds, vals, 2, f, 3, out, NULL, 0, st);
            CHECK_STATUS_OK(st);
            if (out[0]) {
                double *row = malloc((size_t)d[1] * 3 * sizeof *row);
                double worst = 0;
                for (int64_t r = 0; r < d[0]; r++) {
                    get_row(xv, r, d[1], row);
                    ref_softmax(row, d[1], row + d[1], row + 2 * d[1]);
                    double loss = 0;
                    for (int64_t k = 0; k < d[1]; k++) {
                        double lab = tfc_test_get(lv, r * d[1] + k);
                        loss -= lab * row[2 * d[1] + k];
                        double bp = row[d[1] + k] - lab;
                        worst = fmax(worst, fabs(tfc_test_get(out[1], r * d[1] + k) - bp));
                    }
                    CHECK(isfinite(tfc_test_get(out[0], r)));
                    worst = fmax(worst, fabs(tfc_test_get(out[0], r) - loss) / (1 + loss));
                    CHECK(tfc_test_get(out[2], r) == tfc_test_get(out[0], r));
                }
                CHECK_MSG(worst <= tol_for(dt) * (off && !dd ? 50 : 1), "%s case %d: %g",
                          tfc_dtype_name(dt), ci, worst);
                free(row);
            }
            for (int k = 0; k < 3; k++) tfc_tensor_free(out[k]);
            tfc_tensor_free(xv);
            tfc_tensor_free(lv);
            tfc_session_free(s);
            tfc_status_free(st);
            tfc_graph_free(g);
        }
    }
}

static void test_sparse_softmax_cross_entropy(void) {
    int64_t cases[][2] = {{1, 3}, {4, 6}, {40, 10}};
    for (int dd = 0; dd < 2; dd++)
        for (int l64 = 0; l64 < 2; l64++)
            for (int ci = 0; ci < 4; ci++) {
                tfc_dtype dt = dd ? TFC_DOUBLE : TFC_FLOAT, lt = l64 ? TFC_INT64 : TFC_INT32;
                int64_t *d = cases[ci < 3 ? ci : 1];
                double off = ci == 3 ? 1000 : 0;
                tfc_graph *g = tfc_graph_new();
                tfc_output x = tfc_placeholder(g, "x", dt, 2, d);
                tfc_output l = tfc_placeholder(g, "l", lt, 1, d);
                tfc_node *n = op2(g, "SparseSoftmaxCrossEntropyWithLogits", x, l, NULL);
                tfc_output helper = tfc_sparse_softmax_cross_entropy_with_logits(g, l, x);
                CHECK_GRAPH_OK(g);
                CHECK(tfc_output_shape(tfc_out(n, 0)).dims[0] == d[0]);
                tfc_tensor *xv = tfc_test_random_tensor(dt, 2, d, off - 3, off + 3);
                tfc_tensor *lv = tfc_test_random_tensor(lt, 1, d, 0, (double)d[1]);
                tfc_output feeds[] = {x, l}, f[] = {tfc_out(n, 0), tfc_out(n, 1), helper};
                tfc_tensor *vals[] = {xv, lv}, *out[3] = {0};
                tfc_status *st = tfc_status_new();
                tfc_session *s = tfc_session_new(g, NULL, st);
                tfc_session_run(s, feeds, vals, 2, f, 3, out, NULL, 0, st);
                CHECK_STATUS_OK(st);
                if (out[0]) {
                    double *row = malloc((size_t)d[1] * 3 * sizeof *row);
                    double worst = 0;
                    for (int64_t r = 0; r < d[0]; r++) {
                        int64_t lab = (int64_t)tfc_test_get(lv, r);
                        CHECK(lab >= 0 && lab < d[1]);
                        get_row(xv, r, d[1], row);
                        ref_softmax(row, d[1], row + d[1], row + 2 * d[1]);
                        double loss = -row[2 * d[1] + lab];
                        for (int64_t k = 0; k < d[1]; k++) {
                            double bp = row[d[1] + k] - (k == lab);
                            worst = fmax(worst, fabs(tfc_test_get(out[1], r * d[1] + k) - bp));
                        }
                        CHECK(isfinite(tfc_test_get(out[0], r)));
                        worst = fmax(worst, fabs(tfc_test_get(out[0], r) - loss) / (1 + loss));
                        CHECK(tfc_test_get(out[2], r) == tfc_test_get(out[0], r));
                    }
                    CHECK_MSG(worst <= tol_for(dt) * (off && !dd ? 50 : 1), "%s case %d: %g",
                              tfc_dtype_name(dt), ci, worst);
                    free(row);
                }
                for (int k = 0; k < 3; k++) tfc_tensor_free(out[k]);
                tfc_tensor_free(xv);
                tfc_tensor_free(lv);
                tfc_session_free(s);
                tfc_status_free(st);
                tfc_graph_free(g);
            }
}

/* op's outputs (Softmax: 1; the cross-entropies: 2) for logits xv and
 * labels lv on a session of `threads` threads */
static int run_softmax_op(const char *op, tfc_tensor *xv, tfc_tensor *lv, int threads,
                          tfc_tensor **out) {
    int n_out = strcmp(op, "Softmax") == 0 ? 1 : 2;
    tfc_graph *g = tfc_graph_new();
    int64_t d[2] = {tfc_tensor_dim(xv, 0), tfc_tensor_dim(xv, 1)};
    tfc_output x = tfc_placeholder(g, "x", TFC_FLOAT, 2, d), feeds[2] = {x, {0}};
    tfc_node *node;
    if (n_out == 1) {
        node = op1(g, op, x).node;
    } else {
        feeds[1] = tfc_placeholder(g, "l", tfc_tensor_dtype(lv), tfc_tensor_rank(lv), d);
        node = op2(g, op, x, feeds[1], NULL);
    }
    tfc_output f[] = {tfc_out(node, 0), tfc_out(node, 1)};
    tfc_tensor *vals[] = {xv, lv};
    tfc_status *st = tfc_status_new();
    tfc_session_options o = {.intra_op_threads = threads, .inter_op_threads = threads};
    tfc_session *s = tfc_session_new(g, &o, st);
    tfc_session_run(s, feeds, vals, n_out, f, n_out, out, NULL, 0, st);
    CHECK_STATUS_OK(st);
    tfc_session_free(s);
    tfc_status_free(st);
    tfc_graph_free(g);
    return n_out;
}

/* Rows of at most 16 classes take the narrow kernels (16 rows at a time):
 * the bits of the row kernels, for Softmax and both cross-entropies, every
 * class count, row counts around a block of 16, int32 and int64 labels,
 * rows with NaN, infinities, large offsets and logits far apart, on 1 and
 * 2 threads. */
static void test_softmax_narrow_same_bits(void) {
    const char *ops[] = {"Softmax", "SoftmaxCrossEntropyWithLogits",
                         "SparseSoftmaxCrossEntropyWithLogits"};
    /* (2000: on 2 threads, chunks that start off a block of 16) */
    const int64_t row_counts[] = {1, 15, 16, 17, 100, 2000};
    for (int op = 0; op < 3; op++)
        for (int64_t n = 1; n <= SOFTMAX_NARROW + 1; n++)
            for (int ri = 0; ri < 6; ri++)
                for (int l64 = 0; l64 < (op == 2 ? 2 : 1); l64++) {
                    int64_t d[2] = {row_counts[ri], n};
                    tfc_tensor *xv = tfc_test_random_tensor(TFC_FLOAT, 2, d, -4, 4);
                    tfc_tensor *lv =
                        op == 2 ? tfc_test_random_tensor(l64 ? TFC_INT64 : TFC_INT32, 1, d, 0,
                                                         (double)n)
                                : tfc_test_random_tensor(TFC_FLOAT, 2, d, 0, 1);
                    float *xs = tfc_tensor_data(xv);
                    if (d[0] > 5) {
                        xs[1 * n + (n - 1)] = NAN;
                        xs[2 * n] = INFINITY;
                        xs[3 * n + n / 2] = -INFINITY;
                        for (int64_t k = 0; k < n; k++)
                            xs[4 * n + k] += 1000, xs[5 * n + k] -= 1000;
                    }
                    /* exponentials over 2^100 apart: their double sum rounds,
                     * so its order shows */
                    for (int64_t r = 6; r < d[0] && r < 12; r++)
                        for (int64_t k = 0; k < n; k++) xs[r * n + k] *= 20;
                    tfc_tensor *got[2][2][2] = {{{0}}}; /* [narrow][threads - 1][output] */
                    int n_out = 0;
                    for (int narrow = 0; narrow < 2; narrow++) {
                        int was = tfc_softmax_narrow_use(narrow);
                        for (int threads = 1; threads <= 2; threads++)
                            n_out = run_softmax_op(ops[op], xv, lv, threads,
                                                   got[narrow][threads - 1]);
                        tfc_softmax_narrow_use(was);
                    }
                    for (int i = 0; i < n_out; i++)
                        for (int v = 1; v < 4; v++) { /* each against the row kernel on 1 thread */
                            tfc_tensor *want = got[0][0][i], *t = got[v / 2][v % 2][i];
                            CHECK_MSG(want && t &&
                                          memcmp(tfc_tensor_data(want), tfc_tensor_data(t),
                                                 tfc_tensor_nbytes(want)) == 0,
                                      "%s, n %lld, %lld rows, labels %s: output %d differs (%s "
                                      "kernel, %d threads)",
                                      ops[op], (long long)n, (long long)d[0],
                                      tfc_dtype_name(tfc_tensor_dtype(lv)), i,
                                      v / 2 ? "narrow" : "row", v % 2 + 1);
                        }
                    for (int v = 0; v < 8; v++) tfc_tensor_free(got[v / 4][v / 2 % 2][v % 2]);
                    tfc_tensor_free(xv);
                    tfc_tensor_free(lv);
                }
}

static void test_bias_add(void) {
    int64_t cases[][3] = {{4, 5, 0}, {2, 3, 5}, {3000, 40, 0}};
    int rk[] = {2, 3, 2};
    for (int dd = 0; dd < 2; dd++)
        for (int ci = 0; ci < 3; ci++) {
            tfc_dtype dt = dd ? TFC_DOUBLE : TFC_FLOAT;
            int64_t c = cases[ci][rk[ci] - 1];
            tfc_graph *g = tfc_graph_new();
            tfc_output x = tfc_placeholder(g, "x", dt, rk[ci], cases[ci]);
            tfc_output b = tfc_placeholder(g, "b", dt, 1, &c);
            tfc_output y = tfc_bias_add(g, x, b);
            tfc_output bg = op1(g, "BiasAddGrad", x);
            CHECK_GRAPH_OK(g);
            CHECK(strcmp(tfc_node_attr_string(y.node, "data_format"), "NHWC") == 0);
            CHECK(tfc_output_shape(bg).rank == 1 && tfc_output_shape(bg).dims[0] == c);
            tfc_tensor *xv = tfc_test_random_tensor(dt, rk[ci], cases[ci], -1, 1);
            tfc_tensor *bv = tfc_test_random_tensor(dt, 1, &c, -1, 1);
            tfc_output feeds[] = {x, b}, f[] = {y, bg};
            tfc_tensor *vals[] = {xv, bv}, *out[2] = {0};
            tfc_status *st = tfc_status_new();
            tfc_session *s = tfc_session_new(g, NULL, st);
            tfc_session_run(s, feeds, vals, 2, f, 2, out, NULL, 0, st);
            CHECK_STATUS_OK(st);
            if (out[0]) {
                int64_t n = tfc_tensor_num_elements(xv);
                double worst = 0;
                for (int64_t i = 0; i < n; i++)
                    worst = fmax(worst, fabs(tfc_test_get(out[0], i) -
                                             (tfc_test_get(xv, i) + tfc_test_get(bv, i % c))));
                for (int64_t k = 0; k < c; k++) {
                    double sum = 0;
                    for (int64_t i = k; i < n; i += c) sum += tfc_test_get(xv, i);
                    worst = fmax(worst, fabs(tfc_test_get(out[1], k) - sum) / (1 + fabs(sum)));
                }
                CHECK_MSG(worst <= tol_for(dt) * 10, "%s case %d: %g", tfc_dtype_name(dt), ci, worst);
            }
            tfc_tensor_free(out[0]);
            tfc_tensor_free(out[1]);
            tfc_tensor_free(xv);
            tfc_tensor_free(bv);
            tfc_session_free(s);
            tfc_status_free(st);
            tfc_graph_free(g);
        }
}

static void test_misuse(void) {
    tfc_graph *g = tfc_graph_new();
    int64_t d46[] = {4, 6}, d45[] = {4, 5}, d3[] = {3}, d4[] = {4};
    tfc_output x = tfc_placeholder(g, "x", TFC_FLOAT, 2, d46);
    tfc_output l = tfc_placeholder(g, "l", TFC_FLOAT, 2, d45);
    CHECK(op2(g, "SoftmaxCrossEntropyWithLogits", x, l, "my_xent") == NULL);
    CHECK_CONTAINS(tfc_graph_error(g), "my_xent");
    tfc_graph_clear_error(g);
    tfc_output sl = tfc_placeholder(g, "sl", TFC_INT32, 1, d3);
    CHECK(op2(g, "SparseSoftmaxCrossEntropyWithLogits", x, sl, "my_sparse") == NULL);
    CHECK_CONTAINS(tfc_graph_error(g), "my_sparse");
    tfc_graph_clear_error(g);
    tfc_output fl = tfc_placeholder(g, "fl", TFC_FLOAT, 1, d4);
    CHECK(op2(g, "SparseSoftmaxCrossEntropyWithLogits", x, fl, "float_labels") == NULL);
    CHECK_CONTAINS(tfc_graph_error(g), "float_labels");
    tfc_graph_clear_error(g);
    tfc_output b5 = tfc_placeholder(g, "b5", TFC_FLOAT, 1, (int64_t[]){5});
    CHECK(op2(g, "BiasAdd", x, b5, "my_bias") == NULL);
    CHECK_CONTAINS(tfc_graph_error(g), "my_bias");
    tfc_graph_clear_error(g);
    tfc_output xi = tfc_placeholder(g, "xi", TFC_INT32, 1, d4);
    tfc_with_name(g, "int_relu");
    CHECK(tfc_relu(g, xi).node == NULL);
    CHECK_CONTAINS(tfc_graph_error(g), "int_relu");
    tfc_graph_clear_error(g);
    tfc_with_name(g, "scalar_softmax");
    CHECK(tfc_softmax(g, tfc_placeholder(g, "s", TFC_FLOAT, 0, NULL)).node == NULL);
    tfc_graph_clear_error(g);

    /* out-of-range labels are a run-time error naming the node */
    tfc_output lab = tfc_placeholder(g, "lab", TFC_INT64, 1, d4);
    tfc_node *n = op2(g, "SparseSoftmaxCrossEntropyWithLogits", x, lab, "sparse_loss");
    CHECK_GRAPH_OK(g);
    tfc_tensor *xv = tfc_test_random_tensor(TFC_FLOAT, 2, d46, -1, 1);
    int64_t bad[][4] = {{0, 1, 6, 2}, {0, -1, 3, 2}};
    tfc_status *st = tfc_status_new();
    tfc_session *s = tfc_session_new(g, NULL, st);
    for (int i = 0; i < 2; i++) {
        tfc_tensor *lv = tfc_tensor_from_data(TFC_INT64, 1, d4, bad[i]);
        tfc_output feeds[] = {x, lab};
        tfc_tensor *vals[] = {xv, lv};
        tfc_tensor *out = tfc_session_run1(s, feeds, vals, 2, tfc_out(n, 0), st);
        CHECK(out == NULL);
        CHECK(tfc_status_code(st) == TFC_INVALID_ARGUMENT);
        CHECK_CONTAINS(tfc_status_message(st), "sparse_loss");
        CHECK_CONTAINS(tfc_status_message(st), i ? "-1" : "6");
        tfc_tensor_free(out);
        tfc_tensor_free(lv);
    }
    tfc_tensor_free(xv);
    tfc_session_free(s);
    tfc_status_free(st);
    tfc_graph_free(g);
}

/* ---- gradients ---- */

static void check_grad(tfc_graph *g, tfc_output y, const tfc_output *xs, tfc_tensor *const *v,
                       int n, const char *what) {
    CHECK_GRAPH_OK(g);
    double err = tfc_test_gradcheck(g, y, xs, v, n);
    CHECK_MSG(err <= TFC_GRAD_TOL, "%s: error %g", what, err);
}

static void test_activation_gradients(void) {
    for (int si = 0; si < 3; si++) {
        for (int k = 0; k < 6; k++) {
            tfc_graph *g = tfc_graph_new();
            tfc_output a = tfc_placeholder(g, "a", TFC_DOUBLE, ranks[si], shapes[si]);
            tfc_output b = tfc_placeholder(g, "b", TFC_DOUBLE, ranks[si], shapes[si]);
            tfc_tensor *av = tfc_test_random_tensor(TFC_DOUBLE, ranks[si], shapes[si], -2, 2);
            tfc_tensor *bv = tfc_test_random_tensor(TFC_DOUBLE, ranks[si], shapes[si], -2, 2);
            tfc_output xs[] = {a, b};
            tfc_tensor *vals[] = {av, bv};
            static const char *names[] = {"Relu", "Sigmoid", "Tanh", "ReluGrad", "SigmoidGrad",
                                          "TanhGrad"};
            if (k < 3) {
                check_grad(g, op1(g, names[k], a), xs, vals, 1, names[k]);
            } else {
                /* second order: differentiate the gradient ops in both inputs */
                check_grad(g, tfc_out(op2(g, names[k], a, b, NULL), 0), xs, vals, 2, names[k]);
            }
            tfc_tensor_free(av);
            tfc_tensor_free(bv);
            tfc_graph_free(g);
        }
    }
    /* second order through the public helpers: d/dx sum(dy/dx * w) */
    const char *names[] = {"Sigmoid", "Tanh"};
    for (int k = 0; k < 2; k++) {
        tfc_graph *g = tfc_graph_new();
        tfc_output x = tfc_placeholder(g, "x", TFC_DOUBLE, 2, shapes[1]);
        tfc_output y = k ? tfc_tanh(g, x) : tfc_sigmoid(g, x);
        tfc_output dx;
        CHECK(tfc_gradients(g, &y, 1, &x, 1, NULL, &dx) == 0);
        tfc_tensor *xv = tfc_test_random_tensor(TFC_DOUBLE, 2, shapes[1], -2, 2);
        check_grad(g, dx, &x, &xv, 1, names[k]);
        tfc_tensor_free(xv);
        tfc_graph_free(g);
    }
}

static void test_softmax_gradients(void) {
    for (int si = 0; si < 3; si++)
        for (int k = 0; k < 2; k++) {
            tfc_graph *g = tfc_graph_new();
            tfc_output x = tfc_placeholder(g, "x", TFC_DOUBLE, ranks[si], shapes[si]);
            tfc_output y = k ? tfc_log_softmax(g, x) : tfc_softmax(g, x);
            tfc_tensor *xv = tfc_test_random_tensor(TFC_DOUBLE, ranks[si], shapes[si], -3, 3);
            check_grad(g, y, &x, &xv, 1, k ? "LogSoftmax" : "Softmax");
            tfc_tensor_free(xv);
            tfc_graph_free(g);
        }
}

static void test_xent_gradients(void) {
    int64_t cases[][2] = {{1, 3}, {4, 6}, {3, 1}};
    for (int ci = 0; ci < 3; ci++) {
        int64_t *d = cases[ci];
        tfc_graph *g = tfc_graph_new();
        tfc_output x = tfc_placeholder(g, "x", TFC_DOUBLE, 2, d);
        tfc_output l = tfc_placeholder(g, "l", TFC_DOUBLE, 2, d);
        tfc_output y = tfc_softmax_cross_entropy_with_logits(g, l, x);
        tfc_tensor *xv = tfc_test_random_tensor(TFC_DOUBLE, 2, d, -3, 3);
        tfc_tensor *lv = random_labels(TFC_DOUBLE, d[0], d[1]);
        tfc_output xs[] = {x, l};
        tfc_tensor *vals[] = {xv, lv};
        check_grad(g, y, xs, vals, 2, "SoftmaxCrossEntropyWithLogits");
        tfc_tensor_free(xv);
        tfc_tensor_free(lv);
        tfc_graph_free(g);

        g = tfc_graph_new();
        x = tfc_placeholder(g, "x", TFC_DOUBLE, 2, d);
        xv = tfc_test_random_tensor(TFC_DOUBLE, 2, d, -3, 3);
        lv = tfc_test_random_tensor(TFC_INT32, 1, d, 0, (double)d[1]);
        /* integer labels have no gradient: only x is checked */
        y = tfc_sparse_softmax_cross_entropy_with_logits(g, tfc_const(g, lv), x);
        check_grad(g, y, &x, &xv, 1, "SparseSoftmaxCrossEntropyWithLogits");
        tfc_tensor_free(xv);
        tfc_tensor_free(lv);
        tfc_graph_free(g);
    }
}

/* Second order through the losses: the gradient of the loss w.r.t. the
 * logits, differentiated again (through the backprop output). */
static void test_xent_second_order(void) {
    int64_t d[] = {3, 4};
    for (int sparse = 0; sparse < 2; sparse++) {
        tfc_graph *g = tfc_graph_new();
        tfc_output x = tfc_placeholder(g, "x", TFC_DOUBLE, 2, d);
        tfc_tensor *xv = tfc_test_random_tensor(TFC_DOUBLE, 2, d, -2, 2);
        tfc_tensor *lv = sparse ? tfc_test_random_tensor(TFC_INT64, 1, d, 0, 4)
                                : random_labels(TFC_DOUBLE, 3, 4);
        tfc_output l = tfc_const(g, lv);
        tfc_output y = sparse ? tfc_sparse_softmax_cross_entropy_with_logits(g, l, x)
                              : tfc_softmax_cross_entropy_with_logits(g, l, x);
        tfc_output dx;
        CHECK(tfc_gradients(g, &y, 1, &x, 1, NULL, &dx) == 0);
        check_grad(g, dx, &x, &xv, 1, sparse ? "sparse xent 2nd order" : "xent 2nd order");
        tfc_tensor_free(xv);
        tfc_tensor_free(lv);
        tfc_graph_free(g);
    }
    /* the backprop output itself, w.r.t. logits and dense labels */
    tfc_graph *g = tfc_graph_new();
    tfc_output x = tfc_placeholder(g, "x", TFC_DOUBLE, 2, d);
    tfc_output l = tfc_placeholder(g, "l", TFC_DOUBLE, 2, d);
    tfc_node *n = op2(g, "SoftmaxCrossEntropyWithLogits", x, l, NULL);
    tfc_tensor *xv = tfc_test_random_tensor(TFC_DOUBLE, 2, d, -2, 2);
    tfc_tensor *lv = random_labels(TFC_DOUBLE, 3, 4);
    tfc_output xs[] = {x, l};
    tfc_tensor *vals[] = {xv, lv};
    check_grad(g, tfc_out(n, 1), xs, vals, 2, "xent backprop output");
    tfc_tensor_free(xv);
    tfc_tensor_free(lv);
    tfc_graph_free(g);
}

static void test_bias_gradients(void) {
    int64_t cases[][3] = {{4, 5, 0}, {2, 3, 5}};
    int rk[] = {2, 3};
    for (int ci = 0; ci < 2; ci++) {
        int64_t c = cases[ci][rk[ci] - 1];
        tfc_graph *g = tfc_graph_new();
        tfc_output x = tfc_placeholder(g, "x", TFC_DOUBLE, rk[ci], cases[ci]);
        tfc_output b = tfc_placeholder(g, "b", TFC_DOUBLE, 1, &c);
        tfc_tensor *xv = tfc_test_random_tensor(TFC_DOUBLE, rk[ci], cases[ci], -1, 1);
        tfc_tensor *bv = tfc_test_random_tensor(TFC_DOUBLE, 1, &c, -1, 1);
        tfc_output xs[] = {x, b};
        tfc_tensor *vals[] = {xv, bv};
        check_grad(g, tfc_bias_add(g, x, b), xs, vals, 2, "BiasAdd");
        tfc_graph_free(g);

        g = tfc_graph_new();
        x = tfc_placeholder(g, "x", TFC_DOUBLE, rk[ci], cases[ci]);
        check_grad(g, op1(g, "BiasAddGrad", x), &x, &xv, 1, "BiasAddGrad");
        tfc_graph_free(g);
        tfc_tensor_free(xv);
        tfc_tensor_free(bv);
    }
}

TFC_TEST_MAIN(T(test_activations), T(test_softmax), T(test_softmax_cross_entropy),
              T(test_sparse_softmax_cross_entropy),
              T(test_softmax_narrow_same_bits), T(test_bias_add), T(test_misuse),
              T(test_activation_gradients), T(test_softmax_gradients), T(test_xent_gradients), T(test_xent_second_order),
              T(test_bias_gradients))
