/* MatMul: every transpose combination and dtype against a triple loop on
 * random data (small, odd and large sizes, the large ones split over the
 * thread pool), empty products, gradients (first and second order) against
 * finite differences, and misuse that must fail naming the node. */
#include "gradcheck.h"
#include "harness.h"

#include "core/tensor.h"

#include <dirent.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

/* Builds a [rows, cols] tensor for op(X) of shape [m, k] stored transposed
 * when `t` is set. */
static void stored_dims(int64_t m, int64_t k, int t, int64_t *dims) {
    dims[0] = t ? k : m;
    dims[1] = t ? m : k;
}

/* op(X)[i, p] read from X's storage. */
static double at(const tfc_tensor *x, int t, int64_t i, int64_t p) {
    int64_t cols = x->dims[1];
    return t ? tfc_test_get(x, p * cols + i) : tfc_test_get(x, i * cols + p);
}

static tfc_tensor *random_matrix(tfc_dtype dt, const int64_t *dims) {
    int integer = dt == TFC_INT32 || dt == TFC_INT64;
    return tfc_test_random_tensor(dt, 2, dims, integer ? -6 : -1, integer ? 6 : 1);
}

static void matmul_case(tfc_dtype dt, int64_t m, int64_t k, int64_t n, int ta, int tb) {
    int64_t da[2], db[2];
    stored_dims(m, k, ta, da);
    stored_dims(k, n, tb, db);
    tfc_graph *g = tfc_graph_new();
    tfc_output in[2] = {tfc_placeholder(g, "a", dt, 2, da), tfc_placeholder(g, "b", dt, 2, db)};
    tfc_output y = tfc_matmul_ex(g, in[0], in[1], ta, tb);
    tfc_shape ys = tfc_output_shape(y);
    CHECK(ys.rank == 2 && ys.dims[0] == m && ys.dims[1] == n);
    tfc_tensor *v[2] = {random_matrix(dt, da), random_matrix(dt, db)};
    tfc_tensor *r = tfc_test_eval(g, y, in, v, 2);
    CHECK_MSG(r != NULL, "%s m=%lld k=%lld n=%lld ta=%d tb=%d", tfc_dtype_name(dt), (long long)m,
              (long long)k, (long long)n, ta, tb);
    if (r) {
        CHECK(tfc_tensor_dtype(r) == dt && tfc_tensor_dim(r, 0) == m && tfc_tensor_dim(r, 1) == n);
        double tol = dt == TFC_FLOAT ? 1e-5 : dt == TFC_DOUBLE ? 1e-12 : 0;
        int64_t bad = -1;
        double got = 0, want = 0;
        for (int64_t i = 0; i < m && bad < 0; i++)
            for (int64_t j = 0; j < n && bad < 0; j++) {
                double s = 0;
                for (int64_t p = 0; p < k; p++) s += at(v[0], ta, i, p) * at(v[1], tb, p, j);
                got = tfc_test_get(r, i * n + j);
                want = s;
                double slack = tol * (1 + fabs(s)) * (1 + sqrt((double)k));
                if (!(fabs(got - s) <= slack)) bad = i * n + j;
            }
        CHECK_MSG(bad < 0, "%s m=%lld k=%lld n=%lld ta=%d tb=%d: element %lld is %.10g, want %.10g",
                  tfc_dtype_name(dt), (long long)m, (long long)k, (long long)n, ta, tb,
                  (long long)bad, got, want);
    }
    tfc_tensor_free(r);
    tfc_tensor_free(v[0]);
    tfc_tensor_free(v[1]);
    tfc_graph_free(g);
}

static void test_matmul_against_loop(void) {
    static const int64_t sizes[][3] = {{1, 1, 1}, {2, 3, 4}, {5, 7, 3},
                                       {1, 9, 6}, {6, 9, 1}, {64, 33, 17}};
    static const tfc_dtype dts[] = {TFC_FLOAT, TFC_DOUBLE, TFC_INT32, TFC_INT64};
    for (int d = 0; d < 4; d++)
        for (int s = 0; s < (int)(sizeof sizes / sizeof *sizes); s++)
            for (int t = 0; t < 4; t++)
                matmul_case(dts[d], sizes[s][0], sizes[s][1], sizes[s][2], t & 1, t >> 1);
}

/* Big enough that the product is cut into blocks: by rows (m > n), by
 * columns (n > m), and along k (k far longer than m and n: partial
 * products summed). */
static void test_matmul_large(void) {
    static const tfc_dtype dts[] = {TFC_FLOAT, TFC_DOUBLE, TFC_INT32};
    for (int d = 0; d < 3; d++)
        for (int t = 0; t < 4; t++) {
            matmul_case(dts[d], 301, 150, 203, t & 1, t >> 1);
            matmul_case(dts[d], 203, 150, 301, t & 1, t >> 1);
            matmul_case(dts[d], 37, 7001, 29, t & 1, t >> 1);
        }
}

/* k = 0 gives zeros; m = 0 or n = 0 gives an empty matrix. */
static void test_matmul_empty(void) {
    for (int t = 0; t < 4; t++) {
        matmul_case(TFC_FLOAT, 3, 0, 4, t & 1, t >> 1);
        matmul_case(TFC_DOUBLE, 0, 5, 4, t & 1, t >> 1);
        matmul_case(TFC_FLOAT, 3, 5, 0, t & 1, t >> 1);
        matmul_case(TFC_INT32, 3, 0, 2, t & 1, t >> 1);
    }
}

static void test_matmul_attrs(void) {
    tfc_graph *g = tfc_graph_new();
    int64_t da[] = {3, 2}, db[] = {4, 3};
    tfc_output a = tfc_placeholder(g, "a", TFC_FLOAT, 2, da);
    tfc_output b = tfc_placeholder(g, "b", TFC_FLOAT, 2, db);
    tfc_output y = tfc_matmul_ex(g, a, b, 1, 1);
    CHECK_GRAPH_OK(g);
    CHECK(tfc_node_attr_int(y.node, "transpose_a", -1) == 1);
    CHECK(tfc_node_attr_int(y.node, "transpose_b", -1) == 1);
    CHECK(tfc_node_attr_int(y.node, "T", -1) == TFC_FLOAT);
    tfc_shape s = tfc_output_shape(y);
    CHECK(s.rank == 2 && s.dims[0] == 2 && s.dims[1] == 4);
    /* the generic builder with no transpose attrs means no transposes */
    tfc_op_desc *d = tfc_op_new(g, "MatMul", NULL);
    tfc_op_add_input(d, b);
    tfc_op_add_input(d, a);
    tfc_node *n = tfc_op_finish(d);
    CHECK_GRAPH_OK(g);
    s = tfc_output_shape(tfc_out(n, 0));
    CHECK(s.rank == 2 && s.dims[0] == 4 && s.dims[1] == 2);
    /* unknown dims stay unknown */
    int64_t du[] = {-1, 3};
    tfc_output u = tfc_placeholder(g, "u", TFC_FLOAT, 2, du);
    s = tfc_output_shape(tfc_matmul(g, u, a));
    CHECK(s.rank == 2 && s.dims[0] == -1 && s.dims[1] == 2);
    tfc_graph_free(g);
}

static void test_matmul_gradients(void) {
    static const int64_t sizes[][3] = {{3, 4, 5}, {1, 3, 2}, {4, 1, 3}};
    for (int s = 0; s < 3; s++)
        for (int t = 0; t < 4; t++) {
            int ta = t & 1, tb = t >> 1;
            int64_t da[2], db[2];
            stored_dims(sizes[s][0], sizes[s][1], ta, da);
            stored_dims(sizes[s][1], sizes[s][2], tb, db);
            tfc_graph *g = tfc_graph_new();
            tfc_output xs[2] = {tfc_placeholder(g, "a", TFC_DOUBLE, 2, da),
                                tfc_placeholder(g, "b", TFC_DOUBLE, 2, db)};
            tfc_output y = tfc_matmul_ex(g, xs[0], xs[1], ta, tb);
            tfc_tensor *v[2] = {random_matrix(TFC_DOUBLE, da), random_matrix(TFC_DOUBLE, db)};
            double err = tfc_test_gradcheck(g, y, xs, v, 2);
            CHECK_MSG(err <= TFC_GRAD_TOL, "size %d ta=%d tb=%d: gradient error %g", s, ta, tb,
                      err);
            tfc_tensor_free(v[0]);
            tfc_tensor_free(v[1]);
            tfc_graph_free(g);
        }
}

/* Gradients of gradients: with L = sum((A B)^2), y = dL/dA . dL/dB depends
 * on both inputs, and its gradient goes through the MatMul gradients. */
static void test_matmul_second_order(void) {
    for (int t = 0; t < 4; t++) {
        int ta = t & 1, tb = t >> 1;
        int64_t da[2], db[2];
        stored_dims(3, 4, ta, da);
        stored_dims(4, 3, tb, db);
        tfc_graph *g = tfc_graph_new();
        tfc_output xs[2] = {tfc_placeholder(g, "a", TFC_DOUBLE, 2, da),
                            tfc_placeholder(g, "b", TFC_DOUBLE, 2, db)};
        tfc_output z = tfc_matmul_ex(g, xs[0], xs[1], ta, tb);
        tfc_output l = tfc_reduce_sum(g, tfc_square(g, z), NULL, 0, 0), g1[2];
        CHECK(tfc_gradients(g, &l, 1, xs, 2, NULL, g1) == 0);
        /* g1[0] has a's stored shape and g1[1] b's: multiply them as stored */
        tfc_output y = tfc_matmul_ex(g, g1[0], g1[1], ta, tb);
        tfc_tensor *v[2] = {random_matrix(TFC_DOUBLE, da), random_matrix(TFC_DOUBLE, db)};
        double err = tfc_test_gradcheck(g, y, xs, v, 2);
        CHECK_MSG(err <= TFC_GRAD_TOL, "ta=%d tb=%d: second-order error %g", ta, tb, err);
        tfc_tensor_free(v[0]);
        tfc_tensor_free(v[1]);
        tfc_graph_free(g);
    }
}

static void test_matmul_misuse(void) {
    tfc_graph *g = tfc_graph_new();
    int64_t d23[] = {2, 3}, d45[] = {4, 5}, d234[] = {2, 3, 4};
    tfc_output a = tfc_placeholder(g, "a", TFC_FLOAT, 2, d23);
    tfc_output b = tfc_placeholder(g, "b", TFC_FLOAT, 2, d45);
    tfc_with_name(g, "product");
    CHECK(tfc_matmul(g, a, b).node == NULL);
    const char *err = tfc_graph_error(g);
    CHECK_CONTAINS(err, "product");
    CHECK_CONTAINS(err, "[2,3]");
    CHECK_CONTAINS(err, "[4,5]");
    tfc_graph_clear_error(g);

    /* a transpose that makes the inner dims agree is fine, one that does not is not */
    tfc_output b2 = tfc_placeholder(g, "b2", TFC_FLOAT, 2, d23);
    CHECK(tfc_matmul_ex(g, a, b2, 0, 1).node != NULL);
    tfc_with_name(g, "product_t");
    CHECK(tfc_matmul_ex(g, a, b2, 1, 1).node == NULL);
    CHECK_CONTAINS(tfc_graph_error(g), "product_t");
    tfc_graph_clear_error(g);

    tfc_output r3 = tfc_placeholder(g, "r3", TFC_FLOAT, 3, d234);
    tfc_with_name(g, "rank3");
    CHECK(tfc_matmul(g, r3, b).node == NULL);
    CHECK_CONTAINS(tfc_graph_error(g), "rank3");
    CHECK_CONTAINS(tfc_graph_error(g), "[2,3,4]");
    tfc_graph_clear_error(g);

    int64_t d32[] = {3, 2};
    tfc_output dd = tfc_placeholder(g, "dd", TFC_DOUBLE, 2, d32);
    tfc_with_name(g, "mixed");
    CHECK(tfc_matmul(g, a, dd).node == NULL);
    CHECK_CONTAINS(tfc_graph_error(g), "mixed");
    CHECK_CONTAINS(tfc_graph_error(g), "float64");
    tfc_graph_clear_error(g);

    tfc_output ba = tfc_placeholder(g, "ba", TFC_BOOL, 2, d23);
    tfc_output bb = tfc_placeholder(g, "bb", TFC_BOOL, 2, d32);
    tfc_with_name(g, "bools");
    CHECK(tfc_matmul(g, ba, bb).node == NULL);
    CHECK_CONTAINS(tfc_graph_error(g), "bools");
    CHECK_CONTAINS(tfc_graph_error(g), "bool");
    tfc_graph_free(g);
}

/* With unknown dims the mismatch is found by the kernel, naming the node. */
static void test_matmul_runtime_mismatch(void) {
    tfc_graph *g = tfc_graph_new();
    int64_t unk[] = {-1, -1};
    tfc_output in[2] = {tfc_placeholder(g, "a", TFC_FLOAT, 2, unk),
                        tfc_placeholder(g, "b", TFC_FLOAT, 2, unk)};
    tfc_with_name(g, "late_product");
    tfc_output y = tfc_matmul(g, in[0], in[1]);
    CHECK_GRAPH_OK(g);
    int64_t d23[] = {2, 3}, d45[] = {4, 5};
    tfc_tensor *v[2] = {random_matrix(TFC_FLOAT, d23), random_matrix(TFC_FLOAT, d45)};
    tfc_status *st = tfc_status_new();
    tfc_session *s = tfc_session_new(g, NULL, st);
    tfc_tensor *r = tfc_session_run1(s, in, v, 2, y, st);
    CHECK(r == NULL);
    CHECK(tfc_status_code(st) == TFC_INVALID_ARGUMENT);
    CHECK_CONTAINS(tfc_status_message(st), "late_product");
    CHECK_CONTAINS(tfc_status_message(st), "[2,3]");
    CHECK_CONTAINS(tfc_status_message(st), "[4,5]");
    tfc_tensor_free(r);
    tfc_session_free(s);
    tfc_status_free(st);
    tfc_tensor_free(v[0]);
    tfc_tensor_free(v[1]);
    tfc_graph_free(g);
}

static int process_threads(void) {
    DIR *d = opendir("/proc/self/task");
    int n = 0;
    if (!d) return -1;
    for (struct dirent *e; (e = readdir(d));) n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

/* oneDNN, which tfc's float products call, runs on OpenMP: tfc holds it to
 * one thread per call (no OpenMP thread is started, whatever the caller
 * asked of OpenMP), and a run's caller gets its own setting back. */
static void test_matmul_keeps_openmp_threads(void) {
    omp_set_num_threads(3);
    tfc_graph *g = tfc_graph_new();
    int64_t d[] = {64, 64};
    tfc_output a = tfc_placeholder(g, "a", TFC_FLOAT, 2, d);
    tfc_output y = tfc_matmul(g, a, a);
    tfc_status *st = tfc_status_new();
    /* one thread: the product runs on this thread */
    tfc_session_options o = {.intra_op_threads = 1, .inter_op_threads = 1};
    tfc_session *s = tfc_session_new(g, &o, st);
    tfc_tensor *av = random_matrix(TFC_FLOAT, d), *out = NULL;
    int before = process_threads();
    tfc_session_run(s, &a, &av, 1, &y, 1, &out, NULL, 0, st);
    CHECK_STATUS_OK(st);
    CHECK_MSG(process_threads() == before, "%d threads after a 1-thread run, %d before",
              process_threads(), before);
    CHECK_MSG(omp_get_max_threads() == 3, "OpenMP threads %d after a run, 3 before",
              omp_get_max_threads());
    tfc_tensor_free(out);
    tfc_tensor_free(av);
    tfc_session_free(s);
    tfc_status_free(st);
    tfc_graph_free(g);
}

TFC_TEST_MAIN(T(test_matmul_against_loop), T(test_matmul_keeps_openmp_threads),
              T(test_matmul_large), T(test_matmul_empty), T(test_matmul_attrs),
              T(test_matmul_gradients), T(test_matmul_second_order), T(test_matmul_misuse),
              T(test_matmul_runtime_mismatch))
