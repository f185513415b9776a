/* MatrixInverse, MatrixDeterminant and BatchMatMul (src/ops/linalg.c):
 * kernels against Gauss-Jordan / Gaussian elimination and plain loops on
 * random batches in float32 and float64, singular and empty matrices,
 * determinants far outside float range in their parts, shape inference and
 * misuse naming the node, and gradients (first and second order) against
 * finite differences in float64. */
#include "gradcheck.h"
#include "harness.h"

#include <stdlib.h>

/* Random matrices, made well conditioned by a strong diagonal when `shift`. */
static tfc_tensor *random_matrices(tfc_dtype dt, int rank, const int64_t *dims, double shift) {
    tfc_tensor *t = tfc_test_random_tensor(dt, rank, dims, -1, 1);
    int64_t m = dims[rank - 1], batch = m > 0 ? tfc_tensor_num_elements(t) / (m * m) : 0;
    for (int64_t b = 0; m && b < batch; b++)
        for (int64_t i = 0; i < m; i++) {
            int64_t k = b * m * m + i * m + i;
            if (dt == TFC_FLOAT)
                ((float *)tfc_tensor_data(t))[k] += (float)shift;
            else
                ((double *)tfc_tensor_data(t))[k] += shift;
        }
    return t;
}

/* Gauss-Jordan with partial pivoting in long double: inv (m x m) of a;
 * returns 0 when a pivot is exactly 0. */
static int ref_inverse(const double *a, int m, double *inv) {
    long double w[16][32];
    for (int i = 0; i < m; i++)
        for (int k = 0; k < 2 * m; k++) w[i][k] = k < m ? a[i * m + k] : (k - m == i);
    for (int c = 0; c < m; c++) {
        int p = c;
        for (int r = c + 1; r < m; r++)
            if (fabsl(w[r][c]) > fabsl(w[p][c])) p = r;
        if (w[p][c] == 0) return 0;
        for (int k = 0; k < 2 * m; k++) {
            long double t = w[c][k];
            w[c][k] = w[p][k];
            w[p][k] = t;
        }
        long double d = w[c][c];
        for (int k = 0; k < 2 * m; k++) w[c][k] /= d;
        for (int r = 0; r < m; r++) {
            if (r == c || w[r][c] == 0) continue;
            long double f = w[r][c];
            for (int k = 0; k < 2 * m; k++) w[r][k] -= f * w[c][k];
        }
    }
    for (int i = 0; i < m; i++)
        for (int k = 0; k < m; k++) inv[i * m + k] = (double)w[i][m + k];
    return 1;
}

/* Gaussian elimination with partial pivoting in long double. */
static double ref_det(const double *a, int m) {
    long double w[16][16], det = 1;
    for (int i = 0; i < m; i++)
        for (int k = 0; k < m; k++) w[i][k] = a[i * m + k];
    for (int c = 0; c < m; c++) {
        int p = c;
        for (int r = c + 1; r < m; r++)
            if (fabsl(w[r][c]) > fabsl(w[p][c])) p = r;
        if (w[p][c] == 0) return 0;
        if (p != c) {
            det = -det;
            for (int k = 0; k < m; k++) {
                long double t = w[c][k];
                w[c][k] = w[p][k];
                w[p][k] = t;
            }
        }
        det *= w[c][c];
        for (int r = c + 1; r < m; r++) {
            long double f = w[r][c] / w[c][c];
            for (int k = c; k < m; k++) w[r][k] -= f * w[c][k];
        }
    }
    return (double)det;
}

static void matrix_at(const tfc_tensor *t, int64_t b, int m, int transpose, double *out) {
    for (int i = 0; i < m; i++)
        for (int k = 0; k < m; k++)
            out[transpose ? k * m + i : i * m + k] = tfc_test_get(t, b * m * m + i * m + k);
}

static void test_inverse(void) {
    int64_t shapes[][4] = {{4, 4},    {3, 5, 5}, {2, 2, 3, 3}, {1, 1},
                           {2, 9, 9}, {3, 0, 0}, {0, 2, 2}};
    int ranks[] = {2, 3, 4, 2, 3, 3, 3};
    for (int dd = 0; dd < 2; dd++)
        for (int si = 0; si < 7; si++)
            for (int adj = 0; adj < 2; adj++) {
                tfc_dtype dt = dd ? TFC_DOUBLE : TFC_FLOAT;
                int rank = ranks[si], m = (int)shapes[si][rank - 1];
                tfc_graph *g = tfc_graph_new();
                tfc_output x = tfc_placeholder(g, "x", dt, rank, shapes[si]);
                tfc_output y = tfc_matrix_inverse(g, x, adj);
                CHECK_GRAPH_OK(g);
                CHECK(tfc_output_dtype(y) == dt);
                tfc_shape s = tfc_output_shape(y);
                CHECK(s.rank == rank && s.dims[rank - 1] == m && s.dims[rank - 2] == m);
                tfc_tensor *xv = random_matrices(dt, rank, shapes[si], 2.0);
                tfc_tensor *got = tfc_test_eval(g, y, &x, &xv, 1);
                CHECK(got && tfc_tensor_num_elements(got) == tfc_tensor_num_elements(xv));
                int64_t batch = m ? tfc_tensor_num_elements(xv) / (m * m) : 0;
                double worst = got ? 0 : INFINITY, a[81], inv[81];
                for (int64_t b = 0; got && b < batch; b++) {
                    matrix_at(xv, b, m, adj, a);
                    CHECK(ref_inverse(a, m, inv));
                    for (int k = 0; k < m * m; k++)
                        worst = fmax(worst, fabs(tfc_test_get(got, b * m * m + k) - inv[k]));
                }
                CHECK_MSG(worst < (dd ? 1e-13 : 2e-5), "%s shape %d adjoint %d: %g",
                          tfc_dtype_name(dt), si, adj, worst);
                tfc_tensor_free(got);
                tfc_tensor_free(xv);
                tfc_graph_free(g);
            }
}

static void test_determinant(void) {
    int64_t shapes[][4] = {{4, 4},      {3, 5, 5}, {2, 2, 3, 3}, {1, 1},
                           {2, 12, 12}, {3, 0, 0}, {0, 2, 2}};
    int ranks[] = {2, 3, 4, 2, 3, 3, 3};
    for (int dd = 0; dd < 2; dd++)
        for (int si = 0; si < 7; si++) {
            tfc_dtype dt = dd ? TFC_DOUBLE : TFC_FLOAT;
            int rank = ranks[si], m = (int)shapes[si][rank - 1];
            tfc_graph *g = tfc_graph_new();
            tfc_output x = tfc_placeholder(g, "x", dt, rank, shapes[si]);
            tfc_output y = tfc_matrix_determinant(g, x);
            CHECK_GRAPH_OK(g);
            tfc_shape s = tfc_output_shape(y);
            CHECK(s.rank == rank - 2 && (rank == 2 || s.dims[0] == shapes[si][0]));
            /* no strong diagonal: signs of both kinds, row swaps */
            tfc_tensor *xv = random_matrices(dt, rank, shapes[si], 0.0);
            tfc_tensor *got = tfc_test_eval(g, y, &x, &xv, 1);
            int64_t batch = 1;
            for (int i = 0; i < rank - 2; i++) batch *= shapes[si][i];
            CHECK(got && tfc_tensor_num_elements(got) == batch && tfc_tensor_rank(got) == rank - 2);
            double worst = got ? 0 : INFINITY, a[144];
            for (int64_t b = 0; got && b < batch; b++) {
                matrix_at(xv, b, m, 0, a);
                double want = ref_det(a, m), have = tfc_test_get(got, b);
                worst = fmax(worst, fabs(have - want) / fmax(fabs(want), 1e-3));
            }
            CHECK_MSG(worst < (dd ? 1e-12 : 1e-4), "%s shape %d: %g", tfc_dtype_name(dt), si,
                      worst);
            tfc_tensor_free(got);
            tfc_tensor_free(xv);
            tfc_graph_free(g);
        }
}

/* A [batch, m, m] tensor of dtype dt holding v, each matrix transposed
 * when `transpose`. */
static tfc_tensor *matrices_of(tfc_dtype dt, int64_t batch, int m, const double *v, int transpose) {
    int64_t d[3] = {batch, m, m};
    tfc_tensor *t = tfc_tensor_new(dt, 3, d);
    for (int64_t b = 0; b < batch; b++)
        for (int r = 0; r < m; r++)
            for (int k = 0; k < m; k++) {
                int64_t to = (b * m + r) * m + k, from = (b * m + (transpose ? k : r)) * m + (transpose ? r : k);
                if (dt == TFC_DOUBLE)
                    ((double *)tfc_tensor_data(t))[to] = v[from];
                else
                    ((float *)tfc_tensor_data(t))[to] = (float)v[from];
            }
    return t;
}

/* Runs MatrixInverse (named "inv") on xv; NULL with the status in st when
 * it fails. */
static tfc_tensor *run_inverse(const tfc_tensor *xv, int adjoint, tfc_status *st) {
    tfc_graph *g = tfc_graph_new();
    tfc_output x = tfc_const(g, xv);
    tfc_with_name(g, "inv");
    tfc_output inv = tfc_matrix_inverse(g, x, adjoint);
    tfc_session *s = tfc_session_new(g, NULL, st);
    tfc_tensor *y = tfc_session_run1(s, NULL, NULL, 0, inv, st);
    tfc_session_free(s);
    tfc_graph_free(g);
    return y;
}

/* Singular matrices, with what TensorFlow promises about them. Its
 * MatrixInverse factors A (A^H with adjoint) with partial pivoting and
 * fails only on a pivot that is exactly 0; MatrixDeterminant is 0 only
 * then. A pivot comes out exactly 0 on every machine only when the
 * elimination is exact: integer matrices whose multipliers are 0, +-1 or
 * +-1/2, as these three are (whichever of equal candidates is the pivot).
 * Their transposes are singular too, but eliminating them divides by 3 or
 * 4 and rounds: x86-64's OpenBLAS happened to find exact zeros there,
 * arm64's found pivots of 1e-16, and TensorFlow promises nothing but a
 * determinant within rounding of 0 and, if the inverse succeeds, one as
 * large as the rounding makes it. */
static void test_singular_and_extremes(void) {
    enum { B = 4, M = 3 };
    double v[B * M * M] = {4, 6, -1, 0, 4, -1, 4, 2, 0, /* row 2 = row 0 - row 1 */
                           1, 2, 3,  2, 4, 6,  0, 1, 1, /* row 1 = 2 * row 0 */
                           0, 1, 0,  1, 0, 0,  0, 0, 1, /* one swap: -1 */
                           0, 0, 0,  1, 2, 3,  4, 5, 6}; /* a zero row */
    for (int dd = 0; dd < 2; dd++) {
        tfc_dtype dt = dd ? TFC_DOUBLE : TFC_FLOAT;
        double eps = dd ? 2.220446049250313e-16 : 1.1920929e-07;
        tfc_tensor *xv = matrices_of(dt, B, M, v, 0), *xt = matrices_of(dt, B, M, v, 1);
        for (int transposed = 0; transposed < 2; transposed++) {
            tfc_graph *g = tfc_graph_new();
            tfc_tensor *det = tfc_test_eval(g, tfc_matrix_determinant(g, tfc_const(g, transposed ? xt : xv)),
                                            NULL, NULL, 0);
            CHECK(det && tfc_test_get(det, 2) == -1 && tfc_test_get(det, 3) == 0);
            for (int b = 0; det && b < 2; b++) {
                if (!transposed) {
                    CHECK(tfc_test_get(det, b) == 0);
                    continue;
                }
                /* within rounding of 0: Hadamard's bound (the product of the
                 * rows' norms) times a few m * eps */
                double bound = 64 * M * eps;
                for (int r = 0; r < M; r++) {
                    double n2 = 0;
                    for (int k = 0; k < M; k++) n2 += v[(b * M + k) * M + r] * v[(b * M + k) * M + r];
                    bound *= sqrt(n2);
                }
                CHECK(fabs(tfc_test_get(det, b)) <= bound);
            }
            tfc_tensor_free(det);
            tfc_graph_free(g);
        }

        /* the exact eliminations fail, the first named: A, and A^T's adjoint */
        for (int adjoint = 0; adjoint < 2; adjoint++) {
            tfc_status *st = tfc_status_new();
            CHECK(run_inverse(adjoint ? xt : xv, adjoint, st) == NULL);
            CHECK(tfc_status_code(st) == TFC_INVALID_ARGUMENT);
            CHECK_CONTAINS(tfc_status_message(st), "Input is not invertible.");
            CHECK_CONTAINS(tfc_status_message(st), "node inv ");
            CHECK_CONTAINS(tfc_status_message(st), "matrix 0 of 4");
            tfc_status_free(st);
        }
        /* each transpose alone, rounded: the error, or a huge inverse */
        for (int b = 0; b < 2; b++) {
            tfc_tensor *one = matrices_of(dt, 1, M, v + b * M * M, 1);
            tfc_status *st = tfc_status_new();
            tfc_tensor *y = run_inverse(one, 0, st);
            if (!y) {
                CHECK(tfc_status_code(st) == TFC_INVALID_ARGUMENT);
                CHECK_CONTAINS(tfc_status_message(st), "Input is not invertible.");
            } else {
                double largest = 0;
                for (int i = 0; i < M * M; i++) largest = fmax(largest, fabs(tfc_test_get(y, i)));
                CHECK(largest >= 1 / (1024 * eps));
            }
            tfc_tensor_free(y);
            tfc_tensor_free(one);
            tfc_status_free(st);
        }
        tfc_tensor_free(xt);
        tfc_tensor_free(xv);
    }
    /* diag(1e200, 1e200, 1e-200, 1e-200, -3): -3, with no inf or 0 on the way */
    int64_t d2[2] = {5, 5};
    double dv[25] = {0};
    double diag[5] = {1e200, 1e200, 1e-200, 1e-200, -3};
    for (int i = 0; i < 5; i++) dv[i * 5 + i] = diag[i];
    tfc_graph *g = tfc_graph_new();
    tfc_output y = tfc_matrix_determinant(g, tfc_const_data(g, TFC_DOUBLE, 2, d2, dv));
    double got = tfc_test_eval_scalar(g, y);
    CHECK_NEAR(got, -3.0, 1e-14);
    tfc_graph_free(g);
}

static void test_misuse(void) {
    tfc_graph *g = tfc_graph_new();
    int64_t rect[2] = {2, 3}, vec[1] = {4}, sq[2] = {3, 3}, unk[3] = {-1, -1, -1};
    tfc_output r = tfc_placeholder(g, "rect", TFC_FLOAT, 2, rect);
    tfc_output v = tfc_placeholder(g, "vec", TFC_FLOAT, 1, vec);
    tfc_output i = tfc_placeholder(g, "ints", TFC_INT32, 2, sq);
    tfc_with_name(g, "not_square");
    CHECK(tfc_matrix_inverse(g, r, 0).node == NULL);
    CHECK_CONTAINS(tfc_graph_error(g), "not_square");
    CHECK_CONTAINS(tfc_graph_error(g), "square");
    tfc_graph_clear_error(g);
    tfc_with_name(g, "rank1");
    CHECK(tfc_matrix_determinant(g, v).node == NULL);
    CHECK_CONTAINS(tfc_graph_error(g), "rank1");
    CHECK_CONTAINS(tfc_graph_error(g), "rank >= 2");
    tfc_graph_clear_error(g);
    tfc_with_name(g, "int_det");
    CHECK(tfc_matrix_determinant(g, i).node == NULL);
    CHECK_CONTAINS(tfc_graph_error(g), "int_det");
    CHECK_CONTAINS(tfc_graph_error(g), "float32 or float64");
    tfc_graph_clear_error(g);

    /* unknown dims: one square dim known gives the other; a non-square
     * matrix fed at run time is a run-time error naming the node */
    int64_t half[3] = {2, -1, 4};
    tfc_output h = tfc_placeholder(g, "half", TFC_DOUBLE, 3, half);
    tfc_shape hs = tfc_output_shape(tfc_matrix_inverse(g, h, 1));
    CHECK(hs.rank == 3 && hs.dims[0] == 2 && hs.dims[1] == 4 && hs.dims[2] == 4);
    tfc_output u = tfc_placeholder(g, "u", TFC_DOUBLE, 3, unk);
    tfc_with_name(g, "runtime_det");
    tfc_output det = tfc_matrix_determinant(g, u);
    CHECK_GRAPH_OK(g);
    CHECK(tfc_output_shape(det).rank == 1);
    int64_t bad[3] = {1, 2, 3};
    tfc_tensor *bv = tfc_test_random_tensor(TFC_DOUBLE, 3, bad, -1, 1);
    tfc_status *st = tfc_status_new();
    tfc_session *s = tfc_session_new(g, NULL, st);
    CHECK(tfc_session_run1(s, &u, &bv, 1, det, st) == NULL);
    CHECK_CONTAINS(tfc_status_message(st), "runtime_det");
    CHECK_CONTAINS(tfc_status_message(st), "square");
    tfc_session_free(s);
    tfc_status_free(st);
    tfc_tensor_free(bv);

    /* BatchMatMul: batch dims must agree */
    int64_t a3[3] = {2, 3, 4}, b3[3] = {3, 4, 5};
    tfc_op_desc *d = tfc_op_new(g, "BatchMatMul", "bmm_bad");
    tfc_op_add_input(d, tfc_placeholder(g, "a3", TFC_FLOAT, 3, a3));
    tfc_op_add_input(d, tfc_placeholder(g, "b3", TFC_FLOAT, 3, b3));
    CHECK(tfc_op_finish(d) == NULL);
    CHECK_CONTAINS(tfc_graph_error(g), "bmm_bad");
    tfc_graph_free(g);
}

static tfc_output batch_matmul(tfc_graph *g, tfc_output x, tfc_output y, int ax, int ay) {
    tfc_op_desc *d = tfc_op_new(g, "BatchMatMul", NULL);
    tfc_op_add_input(d, x);
    tfc_op_add_input(d, y);
    tfc_op_set_attr_bool(d, "adj_x", ax);
    tfc_op_set_attr_bool(d, "adj_y", ay);
    return tfc_out(tfc_op_finish(d), 0);
}

static void test_batch_matmul(void) {
    const int64_t batch = 3, m = 4, k = 5, n = 2;
    for (int dd = 0; dd < 2; dd++)
        for (int adj = 0; adj < 4; adj++) {
            tfc_dtype dt = dd ? TFC_DOUBLE : TFC_FLOAT;
            int ax = adj & 1, ay = adj >> 1;
            int64_t xd[3] = {batch, ax ? k : m, ax ? m : k},
                    yd[3] = {batch, ay ? n : k, ay ? k : n};
            tfc_graph *g = tfc_graph_new();
            tfc_output x = tfc_placeholder(g, "x", dt, 3, xd),
                       y = tfc_placeholder(g, "y", dt, 3, yd);
            tfc_output z = batch_matmul(g, x, y, ax, ay);
            CHECK_GRAPH_OK(g);
            tfc_shape zs = tfc_output_shape(z);
            CHECK(zs.rank == 3 && zs.dims[0] == batch && zs.dims[1] == m && zs.dims[2] == n);
            tfc_tensor *xv = tfc_test_random_tensor(dt, 3, xd, -1, 1);
            tfc_tensor *yv = tfc_test_random_tensor(dt, 3, yd, -1, 1);
            tfc_output feeds[2] = {x, y};
            tfc_tensor *vals[2] = {xv, yv};
            tfc_tensor *got = tfc_test_eval(g, z, feeds, vals, 2);
            double worst = got ? 0 : INFINITY;
            for (int64_t b = 0; got && b < batch; b++)
                for (int64_t i = 0; i < m; i++)
                    for (int64_t j = 0; j < n; j++) {
                        double sum = 0;
                        for (int64_t p = 0; p < k; p++)
                            sum += tfc_test_get(xv, b * m * k + (ax ? p * m + i : i * k + p)) *
                                   tfc_test_get(yv, b * k * n + (ay ? j * k + p : p * n + j));
                        worst = fmax(worst, fabs(tfc_test_get(got, (b * m + i) * n + j) - sum));
                    }
            CHECK_MSG(worst < (dd ? 1e-14 : 1e-5), "%s adj %d: %g", tfc_dtype_name(dt), adj, worst);
            tfc_tensor_free(got);
            tfc_tensor_free(xv);
            tfc_tensor_free(yv);
            tfc_graph_free(g);
        }
}

/* ---- gradients ---- */

static void check_grad(tfc_graph *g, tfc_output y, const tfc_output *xs, tfc_tensor *const *v,
                       int n, const char *what) {
    CHECK_GRAPH_OK(g);
    double err = tfc_test_gradcheck(g, y, xs, v, n);
    CHECK_MSG(err <= TFC_GRAD_TOL, "%s: error %g", what, err);
}

static void test_inverse_gradients(void) {
    int64_t shapes[][3] = {{3, 3}, {2, 4, 4}};
    int ranks[] = {2, 3};
    for (int si = 0; si < 2; si++)
        for (int adj = 0; adj < 2; adj++) {
            tfc_graph *g = tfc_graph_new();
            tfc_output x = tfc_placeholder(g, "x", TFC_DOUBLE, ranks[si], shapes[si]);
            tfc_tensor *xv = random_matrices(TFC_DOUBLE, ranks[si], shapes[si], 2.5);
            check_grad(g, tfc_matrix_inverse(g, x, adj), &x, &xv, 1,
                       adj ? "MatrixInverse adjoint" : "MatrixInverse");
            tfc_graph_free(g);

            /* second order: d/dx of sum(dL/dx * w) */
            g = tfc_graph_new();
            x = tfc_placeholder(g, "x", TFC_DOUBLE, ranks[si], shapes[si]);
            tfc_output y = tfc_matrix_inverse(g, x, adj), dx;
            CHECK(tfc_gradients(g, &y, 1, &x, 1, NULL, &dx) == 0);
            check_grad(g, dx, &x, &xv, 1, "MatrixInverse second order");
            tfc_graph_free(g);
            tfc_tensor_free(xv);
        }
}

static void test_determinant_gradients(void) {
    int64_t shapes[][3] = {{3, 3}, {2, 4, 4}, {1, 1}};
    int ranks[] = {2, 3, 2};
    for (int si = 0; si < 3; si++) {
        tfc_graph *g = tfc_graph_new();
        tfc_output x = tfc_placeholder(g, "x", TFC_DOUBLE, ranks[si], shapes[si]);
        tfc_tensor *xv = random_matrices(TFC_DOUBLE, ranks[si], shapes[si], 1.0);
        check_grad(g, tfc_matrix_determinant(g, x), &x, &xv, 1, "MatrixDeterminant");
        tfc_graph_free(g);

        g = tfc_graph_new();
        x = tfc_placeholder(g, "x", TFC_DOUBLE, ranks[si], shapes[si]);
        tfc_output y = tfc_matrix_determinant(g, x), dx;
        CHECK(tfc_gradients(g, &y, 1, &x, 1, NULL, &dx) == 0);
        check_grad(g, dx, &x, &xv, 1, "MatrixDeterminant second order");
        tfc_graph_free(g);
        tfc_tensor_free(xv);
    }
    /* dims, then the rank too, known only at run time */
    int64_t unk[2] = {-1, -1}, d3[3] = {2, 3, 3};
    tfc_tensor *xv = random_matrices(TFC_DOUBLE, 3, d3, 1.0);
    for (int rank_known = 0; rank_known < 2; rank_known++) {
        tfc_graph *g = tfc_graph_new();
        tfc_output x = rank_known ? tfc_placeholder(g, "x", TFC_DOUBLE, 2, unk)
                                  : tfc_placeholder(g, "x", TFC_DOUBLE, -1, NULL);
        tfc_tensor *v = xv;
        if (rank_known) v = random_matrices(TFC_DOUBLE, 2, d3 + 1, 1.0);
        check_grad(g, tfc_matrix_determinant(g, x), &x, &v, 1, "MatrixDeterminant unknown shape");
        tfc_graph_free(g);
        g = tfc_graph_new();
        x = rank_known ? tfc_placeholder(g, "x", TFC_DOUBLE, 2, unk)
                       : tfc_placeholder(g, "x", TFC_DOUBLE, -1, NULL);
        check_grad(g, tfc_matrix_inverse(g, x, 0), &x, &v, 1, "MatrixInverse unknown shape");
        tfc_graph_free(g);
        if (rank_known) tfc_tensor_free(v);
    }
    tfc_tensor_free(xv);
}

static void test_batch_matmul_gradients(void) {
    for (int adj = 0; adj < 4; adj++) {
        int ax = adj & 1, ay = adj >> 1;
        int64_t xd[3] = {2, ax ? 4 : 3, ax ? 3 : 4}, yd[3] = {2, ay ? 2 : 4, ay ? 4 : 2};
        tfc_graph *g = tfc_graph_new();
        tfc_output x = tfc_placeholder(g, "x", TFC_DOUBLE, 3, xd);
        tfc_output y = tfc_placeholder(g, "y", TFC_DOUBLE, 3, yd);
        tfc_tensor *xv = tfc_test_random_tensor(TFC_DOUBLE, 3, xd, -1, 1);
        tfc_tensor *yv = tfc_test_random_tensor(TFC_DOUBLE, 3, yd, -1, 1);
        tfc_output xs[2] = {x, y};
        tfc_tensor *vals[2] = {xv, yv};
        check_grad(g, batch_matmul(g, x, y, ax, ay), xs, vals, 2, "BatchMatMul");
        tfc_graph_free(g);
        tfc_tensor_free(xv);
        tfc_tensor_free(yv);
    }
}

TFC_TEST_MAIN(T(test_inverse), T(test_determinant), T(test_singular_and_extremes), T(test_misuse),
              T(test_batch_matmul), T(test_inverse_gradients), T(test_determinant_gradients),
              T(test_batch_matmul_gradients))
