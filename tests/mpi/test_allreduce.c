/* ranks: 2 3 4 */
/* The collective ops: allreduce (sum, average; one tensor, grouped, fused
 * in small windows), the ordered allreduce, broadcast and
 * broadcast_global_variables, checked against references every rank
 * computes from every rank's data; the gradient of allreduce against
 * finite differences of the loss summed over ranks; a mismatch of
 * collective order is an error naming the ranks; the distributed
 * optimizer keeps the replicas equal. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mpi_harness.h"
#include "tfc.h"

/* The value rank r puts at element i of tensor t: small integers, so that
 * float sums are exact whatever the order. */
static double value(int r, int t, int64_t i) { return (double)((r * 7 + t * 3 + i * 5) % 11) - 5.0; }

static tfc_tensor *rank_tensor(tfc_dtype dt, int r, int t, int rank, const int64_t *dims) {
    tfc_tensor *x = tfc_tensor_new(dt, rank, dims);
    int64_t n = tfc_tensor_num_elements(x);
    for (int64_t i = 0; i < n; i++) {
        double v = value(r, t, i);
        void *p = tfc_tensor_data(x);
        if (dt == TFC_FLOAT) ((float *)p)[i] = (float)v;
        else if (dt == TFC_DOUBLE) ((double *)p)[i] = v;
        else if (dt == TFC_INT32) ((int32_t *)p)[i] = (int32_t)v;
        else ((int64_t *)p)[i] = (int64_t)v;
    }
    return x;
}

static double elem(const tfc_tensor *t, int64_t i) {
    const void *p = tfc_tensor_data(t);
    switch (tfc_tensor_dtype(t)) {
    case TFC_FLOAT: return ((const float *)p)[i];
    case TFC_DOUBLE: return ((const double *)p)[i];
    case TFC_INT32: return ((const int32_t *)p)[i];
    default: return (double)((const int64_t *)p)[i];
    }
}

/* Runs `n` fetches with `st`; returns 0 when the run succeeded. */
static int run(tfc_session *s, const tfc_output *f, int n, tfc_tensor **out, tfc_status *st) {
    tfc_session_run(s, NULL, NULL, 0, f, n, out, NULL, 0, st);
    return tfc_status_code(st) == TFC_OK ? 0 : -1;
}

static void check_reduced(const tfc_tensor *got, int t, tfc_reduce_op op) {
    int size = tfc_test_size();
    int64_t n = tfc_tensor_num_elements(got);
    for (int64_t i = 0; i < n; i++) {
        double want = 0;
        for (int r = 0; r < size; r++) want += value(r, t, i);
        if (op == TFC_REDUCE_AVERAGE) want /= size;
        CHECK_NEAR(elem(got, i), want, 1e-6);
    }
}

static void test_allreduce_sum_and_average(void) {
    const tfc_dtype types[] = {TFC_FLOAT, TFC_DOUBLE, TFC_INT32, TFC_INT64};
    int64_t dims[] = {3, 5};
    for (int k = 0; k < 4; k++) {
        tfc_graph *g = tfc_graph_new();
        tfc_tensor *x = rank_tensor(types[k], tfc_test_rank(), k, 2, dims);
        tfc_output c = tfc_const(g, x);
        tfc_output sum = tfc_allreduce(g, c, TFC_REDUCE_SUM);
        int avg_ok = types[k] == TFC_FLOAT || types[k] == TFC_DOUBLE;
        tfc_output avg = avg_ok ? tfc_allreduce(g, c, TFC_REDUCE_AVERAGE) : sum;
        CHECK_GRAPH_OK(g);
        tfc_status *st = tfc_status_new();
        tfc_session *s = tfc_session_new(g, NULL, st);
        tfc_tensor *out = NULL;
        CHECK(run(s, &sum, 1, &out, st) == 0);
        CHECK_STATUS_OK(st);
        if (out) check_reduced(out, k, TFC_REDUCE_SUM);
        tfc_tensor_free(out);
        out = NULL;
        if (avg_ok) {
            CHECK(run(s, &avg, 1, &out, st) == 0);
            if (out) check_reduced(out, k, TFC_REDUCE_AVERAGE);
            tfc_tensor_free(out);
        }
        tfc_session_free(s);
        tfc_status_free(st);
        tfc_tensor_free(x);
        tfc_graph_free(g);
    }
}

/* Three tensors (one empty, one scalar) in one collective, with fused
 * windows of 12 bytes that cut through the tensors. */
static void test_grouped_allreduce_small_windows(void) {
    int64_t d0[] = {4, 3}, d1[] = {0}, d2[] = {7};
    tfc_graph *g = tfc_graph_new();
    tfc_tensor *xs[4] = {rank_tensor(TFC_FLOAT, tfc_test_rank(), 0, 2, d0),
                         rank_tensor(TFC_FLOAT, tfc_test_rank(), 1, 1, d1),
                         rank_tensor(TFC_FLOAT, tfc_test_rank(), 2, 0, NULL),
                         rank_tensor(TFC_FLOAT, tfc_test_rank(), 3, 1, d2)};
    tfc_output in[4], out[4];
    for (int i = 0; i < 4; i++) in[i] = tfc_const(g, xs[i]);
    CHECK(tfc_grouped_allreduce(g, in, 4, TFC_REDUCE_AVERAGE, out) == 0);
    CHECK_GRAPH_OK(g);
    tfc_status *st = tfc_status_new();
    tfc_session *s = tfc_session_new(g, NULL, st);
    for (int pass = 0; pass < 2; pass++) {
        tfc_allreduce_set_fusion_threshold(pass ? 12 : 0);
        tfc_tensor *got[4] = {NULL};
        CHECK(run(s, out, 4, got, st) == 0);
        CHECK_STATUS_OK(st);
        for (int i = 0; i < 4; i++) {
            if (!got[i]) continue;
            CHECK(tfc_tensor_num_elements(got[i]) == tfc_tensor_num_elements(xs[i]));
            check_reduced(got[i], i, TFC_REDUCE_AVERAGE);
            tfc_tensor_free(got[i]);
        }
    }
    tfc_allreduce_set_fusion_threshold(0);
    tfc_session_free(s);
    tfc_status_free(st);
    for (int i = 0; i < 4; i++) tfc_tensor_free(xs[i]);
    tfc_graph_free(g);
}

/* The ordered allreduce is exactly the left-to-right float sum over the
 * global shards (values with many significant bits, so that the order
 * shows), whatever the window. */
static void test_ordered_allreduce_bits(void) {
    enum { K = 2, N = 2, LEN = 37 };
    int size = tfc_test_size(), me = tfc_test_rank(), S = size * K;
    int64_t dims[] = {LEN};
    /* shard s's tensor t: values from a fixed generator */
    float *all = malloc(sizeof(float) * (size_t)S * N * LEN);
    tfc_test_seed(99);
    for (int i = 0; i < S * N * LEN; i++) all[i] = (float)tfc_test_uniform(-1, 1);
    tfc_graph *g = tfc_graph_new();
    tfc_output in[K * N], out[N];
    tfc_tensor *owned[K * N];
    for (int j = 0; j < K; j++)
        for (int t = 0; t < N; t++) {
            int s = me * K + j;
            owned[j * N + t] =
                tfc_tensor_from_data(TFC_FLOAT, 1, dims, all + ((size_t)s * N + t) * LEN);
            in[j * N + t] = tfc_const(g, owned[j * N + t]);
        }
    CHECK(tfc_ordered_allreduce(g, in, N, K, TFC_REDUCE_AVERAGE, out) == 0);
    CHECK_GRAPH_OK(g);
    tfc_status *st = tfc_status_new();
    tfc_session *s = tfc_session_new(g, NULL, st);
    for (int pass = 0; pass < 3; pass++) {
        tfc_allreduce_set_fusion_threshold(pass == 0 ? 0 : pass == 1 ? 4 : 52);
        tfc_tensor *got[N] = {NULL};
        CHECK(run(s, out, N, got, st) == 0);
        CHECK_STATUS_OK(st);
        for (int t = 0; t < N; t++) {
            if (!got[t]) continue;
            float want[LEN];
            for (int e = 0; e < LEN; e++) {
                float acc = all[(size_t)t * LEN + e];
                for (int sh = 1; sh < S; sh++) acc = acc + all[((size_t)sh * N + t) * LEN + e];
                want[e] = acc / (float)S;
            }
            CHECK(memcmp(tfc_tensor_data(got[t]), want, sizeof want) == 0);
            tfc_tensor_free(got[t]);
        }
    }
    tfc_allreduce_set_fusion_threshold(0);
    tfc_session_free(s);
    tfc_status_free(st);
    for (int i = 0; i < K * N; i++) tfc_tensor_free(owned[i]);
    tfc_graph_free(g);
    free(all);
}

static void test_broadcast_and_global_variables(void) {
    int me = tfc_test_rank(), root = tfc_test_size() - 1;
    tfc_graph *g = tfc_graph_new();
    int64_t dims[] = {2, 3};
    tfc_tensor *x = rank_tensor(TFC_DOUBLE, me, 0, 2, dims);
    tfc_output b = tfc_broadcast(g, tfc_const(g, x), root);
    /* variables of three dtypes, each rank's own values */
    tfc_output v1 = tfc_variable(g, "v1", tfc_const(g, x));
    tfc_output v2 = tfc_variable_ex(g, "v2", tfc_const_int64(g, 100 + me), 0);
    tfc_output v3 = tfc_variable(g, "v3", tfc_fill(g, tfc_const_ints(g, (int32_t[]){4}, 1),
                                                   tfc_const_float(g, (float)me)));
    tfc_output v4 = tfc_resource_variable(g, "v4", tfc_const_double(g, 0.5 + me), 1);
    tfc_output v4_value = tfc_read_variable_op(g, v4, TFC_DOUBLE);
    tfc_node *init = tfc_global_variables_initializer(g);
    tfc_node *bcast = tfc_broadcast_global_variables(g, root);
    CHECK_GRAPH_OK(g);
    tfc_status *st = tfc_status_new();
    tfc_session *s = tfc_session_new(g, NULL, st);
    tfc_tensor *got = NULL;
    CHECK(run(s, &b, 1, &got, st) == 0);
    if (got)
        for (int i = 0; i < 6; i++) CHECK(elem(got, i) == value(root, 0, i));
    tfc_tensor_free(got);
    tfc_session_run(s, NULL, NULL, 0, NULL, 0, NULL, &init, 1, st);
    tfc_session_run(s, NULL, NULL, 0, NULL, 0, NULL, &bcast, 1, st);
    CHECK_STATUS_OK(st);
    tfc_output vs[] = {v1, v2, v3, v4_value};
    tfc_tensor *vals[4] = {NULL};
    CHECK(run(s, vs, 4, vals, st) == 0);
    if (vals[0] && vals[1] && vals[2] && vals[3]) {
        for (int i = 0; i < 6; i++) CHECK(elem(vals[0], i) == value(root, 0, i));
        CHECK(elem(vals[1], 0) == 100 + root);
        for (int i = 0; i < 4; i++) CHECK(elem(vals[2], i) == root);
        CHECK(elem(vals[3], 0) == 0.5 + root);
    }
    for (int i = 0; i < 4; i++) tfc_tensor_free(vals[i]);
    tfc_session_free(s);
    tfc_status_free(st);
    tfc_tensor_free(x);
    tfc_graph_free(g);
}

/* L = sum over ranks r of sum(w_r * allreduce(x_r)^2), x_r and w_r each
 * rank's own: dL/dx_q from tfc_gradients on rank q against central
 * differences of L (each rank's part summed with MPI), in float64. */
static void check_allreduce_gradient(tfc_reduce_op op, int use_broadcast) {
    enum { LEN = 3 };
    int me = tfc_test_rank(), size = tfc_test_size();
    int64_t dims[] = {LEN};
    tfc_graph *g = tfc_graph_new();
    tfc_output x = tfc_placeholder(g, "x", TFC_DOUBLE, 1, dims);
    tfc_tensor *w = rank_tensor(TFC_DOUBLE, me, 1, 1, dims);
    tfc_output y = use_broadcast ? tfc_broadcast(g, x, 1) : tfc_allreduce(g, x, op);
    tfc_output loss = tfc_reduce_sum(g, tfc_mul(g, tfc_const(g, w), tfc_square(g, y)), NULL, 0, 0);
    tfc_output dx;
    CHECK(tfc_gradients(g, &loss, 1, &x, 1, NULL, &dx) == 0);
    CHECK_GRAPH_OK(g);
    tfc_status *st = tfc_status_new();
    tfc_session *s = tfc_session_new(g, NULL, st);
    double xv[LEN];
    for (int i = 0; i < LEN; i++) xv[i] = 0.3 * (me + 1) + 0.7 * i;
    tfc_tensor *xt = tfc_tensor_from_data(TFC_DOUBLE, 1, dims, xv);
    tfc_tensor *an = tfc_session_run1(s, &x, &xt, 1, dx, st);
    CHECK_STATUS_OK(st);
    const double h = 1e-6;
    for (int q = 0; q < size; q++)
        for (int i = 0; i < LEN; i++) {
            double total[2];
            for (int sgn = 0; sgn < 2; sgn++) {
                double *p = tfc_tensor_data(xt);
                memcpy(p, xv, sizeof xv);
                if (me == q) p[i] += sgn ? -h : h;
                tfc_tensor *l = tfc_session_run1(s, &x, &xt, 1, loss, st);
                double mine = l ? *(double *)tfc_tensor_data(l) : 0;
                tfc_tensor_free(l);
                MPI_Allreduce(&mine, &total[sgn], 1, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
            }
            double numeric = (total[0] - total[1]) / (2 * h);
            if (me == q && an) CHECK_NEAR(((double *)tfc_tensor_data(an))[i], numeric, 1e-6);
        }
    tfc_tensor_free(an);
    tfc_tensor_free(xt);
    tfc_tensor_free(w);
    tfc_session_free(s);
    tfc_status_free(st);
    tfc_graph_free(g);
}

static void test_allreduce_gradient(void) {
    check_allreduce_gradient(TFC_REDUCE_SUM, 0);
    check_allreduce_gradient(TFC_REDUCE_AVERAGE, 0);
    check_allreduce_gradient(TFC_REDUCE_SUM, 1); /* broadcast's */
}

/* Rank 0 runs collective a then b, the others b then a: each run fails on
 * every rank, promptly, naming what each rank ran; the ranks stay in step,
 * so the next collectives work. */
static void test_order_mismatch_is_an_error(void) {
    int me = tfc_test_rank();
    tfc_graph *g = tfc_graph_new();
    tfc_output c = tfc_const_float(g, 1.0f);
    tfc_with_name(g, "collective_a");
    tfc_output a = tfc_allreduce(g, c, TFC_REDUCE_SUM);
    tfc_with_name(g, "collective_b");
    tfc_output b = tfc_allreduce(g, c, TFC_REDUCE_SUM);
    CHECK_GRAPH_OK(g);
    tfc_status *st = tfc_status_new();
    tfc_session *s = tfc_session_new(g, NULL, st);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    tfc_output first = me == 0 ? a : b;
    tfc_tensor *got = NULL;
    CHECK(run(s, &first, 1, &got, st) == -1);
    CHECK(tfc_status_code(st) == TFC_FAILED_PRECONDITION);
    CHECK_CONTAINS(tfc_status_message(st), "collective mismatch");
    CHECK_CONTAINS(tfc_status_message(st), "rank 0 runs #");
    CHECK_CONTAINS(tfc_status_message(st), "'collective_a'");
    CHECK_CONTAINS(tfc_status_message(st), "rank 1 runs #");
    CHECK_CONTAINS(tfc_status_message(st), "'collective_b'");
    clock_gettime(CLOCK_MONOTONIC, &t1);
    CHECK((t1.tv_sec - t0.tv_sec) < 10);
    /* a tensor of another size under the same name is a mismatch too */
    tfc_graph *g2 = tfc_graph_new();
    int64_t dims[] = {me == 0 ? 2 : 3};
    tfc_tensor *z = tfc_tensor_new(TFC_FLOAT, 1, dims);
    memset(tfc_tensor_data(z), 0, sizeof(float) * (size_t)dims[0]);
    tfc_output r2 = tfc_allreduce(g2, tfc_const(g2, z), TFC_REDUCE_SUM);
    tfc_session *s2 = tfc_session_new(g2, NULL, st);
    tfc_status_set(st, TFC_OK, "%s", "");
    CHECK(run(s2, &r2, 1, &got, st) == -1);
    CHECK_CONTAINS(tfc_status_message(st), "2 float32");
    CHECK_CONTAINS(tfc_status_message(st), "3 float32");
    /* in step again */
    tfc_status_set(st, TFC_OK, "%s", "");
    CHECK(run(s, &a, 1, &got, st) == 0);
    CHECK_STATUS_OK(st);
    if (got) CHECK(elem(got, 0) == tfc_test_size());
    tfc_tensor_free(got);
    tfc_session_free(s2);
    tfc_graph_free(g2);
    tfc_tensor_free(z);
    tfc_session_free(s);
    tfc_status_free(st);
    tfc_graph_free(g);
}

static void test_bad_input_is_a_graph_error(void) {
    tfc_graph *g = tfc_graph_new();
    tfc_output i = tfc_const_int32(g, 3);
    tfc_allreduce(g, i, TFC_REDUCE_AVERAGE);
    CHECK_CONTAINS(tfc_graph_error(g), "averaging int32 tensors is not supported");
    tfc_graph_clear_error(g);
    tfc_allreduce(g, i, (tfc_reduce_op)7);
    CHECK_CONTAINS(tfc_graph_error(g), "reduce op 7");
    tfc_graph_clear_error(g);
    tfc_broadcast(g, tfc_const_string(g, "x"), 0);
    CHECK_CONTAINS(tfc_graph_error(g), "does not take string tensors");
    tfc_graph_clear_error(g);
    tfc_output none = {NULL, 0};
    tfc_allreduce(g, none, TFC_REDUCE_SUM);
    CHECK_CONTAINS(tfc_graph_error(g), "input 0 is null");
    tfc_graph_free(g);
}

/* Each rank trains on its own data with the distributed optimizer (Adam,
 * MPI's allreduce): after a few steps the variables are the same bits on
 * every rank, and not the starting point. */
static void test_distributed_optimizer_keeps_replicas_equal(void) {
    int me = tfc_test_rank();
    tfc_graph *g = tfc_graph_new();
    tfc_graph_set_seed(g, 5 + (uint64_t)me); /* different starts: the broadcast fixes it */
    int64_t xd[] = {8, 4}, wd[] = {4, 2};
    tfc_output x = tfc_placeholder(g, "x", TFC_FLOAT, 2, xd);
    tfc_output w = tfc_variable(g, "w", tfc_random_normal(g, TFC_FLOAT, 2, wd, 0, 1, 0));
    tfc_output loss = tfc_reduce_mean(g, tfc_square(g, tfc_matmul(g, x, w)), NULL, 0, 0);
    tfc_optimizer *opt = tfc_distributed_optimizer(tfc_adam_optimizer(0.01, 0.9, 0.999, 1e-8), NULL);
    tfc_node *train = tfc_optimizer_minimize(opt, g, loss, NULL, 0, (tfc_output){0});
    tfc_node *init = tfc_global_variables_initializer(g);
    tfc_node *bcast = tfc_broadcast_global_variables(g, 0);
    CHECK_GRAPH_OK(g);
    tfc_status *st = tfc_status_new();
    tfc_session *s = tfc_session_new(g, NULL, st);
    tfc_session_run(s, NULL, NULL, 0, NULL, 0, NULL, &init, 1, st);
    tfc_session_run(s, NULL, NULL, 0, NULL, 0, NULL, &bcast, 1, st);
    tfc_tensor *w0 = tfc_session_run1(s, NULL, NULL, 0, w, st);
    tfc_test_seed(1000 + (unsigned long long)me);
    for (int step = 0; step < 5; step++) {
        tfc_tensor *xb = tfc_test_random_tensor(TFC_FLOAT, 2, xd, -1, 1);
        tfc_session_run(s, &x, &xb, 1, NULL, 0, NULL, &train, 1, st);
        tfc_tensor_free(xb);
    }
    CHECK_STATUS_OK(st);
    tfc_tensor *w1 = tfc_session_run1(s, NULL, NULL, 0, w, st);
    if (w0 && w1) {
        CHECK(memcmp(tfc_tensor_data(w0), tfc_tensor_data(w1), 8 * sizeof(float)) != 0);
        float mine[8], root[8];
        memcpy(mine, tfc_tensor_data(w1), sizeof mine);
        memcpy(root, mine, sizeof root);
        MPI_Bcast(root, 8, MPI_FLOAT, 0, MPI_COMM_WORLD);
        CHECK(memcmp(mine, root, sizeof mine) == 0);
    }
    tfc_tensor_free(w0);
    tfc_tensor_free(w1);
    tfc_session_free(s);
    tfc_optimizer_free(opt);
    tfc_status_free(st);
    tfc_graph_free(g);
}

TFC_MPI_TEST_MAIN(T(test_allreduce_sum_and_average), T(test_grouped_allreduce_small_windows),
                  T(test_ordered_allreduce_bits), T(test_broadcast_and_global_variables),
                  T(test_allreduce_gradient), T(test_order_mismatch_is_an_error),
                  T(test_bad_input_is_a_graph_error),
                  T(test_distributed_optimizer_keeps_replicas_equal))
