/* Reshape (and Squeeze, ExpandDims) to the shape its input has outputs the
 * input tensor itself (src/ops/array_util.c, arr_output_copy), not an
 * alias: the fast path is taken (the fetched tensor is the fed one), the
 * values are the input's, and sharing the tensor never lets a kernel
 * write over a value another reader still needs: an in-place Add after
 * it leaves a variable, a feed and a second consumer of the input as they
 * were, in sessions of 1 and 2 threads. */
#include "harness.h"

#include "core/tensor.h"

enum { N = 12 };

static void test_same_shape_is_the_input(void) {
    float a[N];
    for (int i = 0; i < N; i++) a[i] = (float)tfc_test_uniform(-3, 3);
    int64_t dims[2] = {3, 4};
    tfc_graph *g = tfc_graph_new();
    tfc_output x = tfc_placeholder(g, "x", TFC_FLOAT, 2, dims);
    tfc_output r = tfc_reshape(g, x, 2, dims);
    tfc_output r2 = tfc_reshape(g, x, 2, (int64_t[]){4, 3}); /* another shape: an alias */
    CHECK_GRAPH_OK(g);
    tfc_status *st = tfc_status_new();
    tfc_session *s = tfc_session_new(g, NULL, st);
    tfc_tensor *xt = tfc_tensor_from_data(TFC_FLOAT, 2, dims, a), *out[2] = {NULL, NULL};
    tfc_output fetch[2] = {r, r2};
    tfc_session_run(s, &x, &xt, 1, fetch, 2, out, NULL, 0, st);
    CHECK_STATUS_OK(st);
    CHECK(out[0] == xt); /* the fed tensor itself */
    CHECK(out[1] && out[1]->base == xt && tfc_tensor_dim(out[1], 0) == 4);
    CHECK(out[0] && tfc_tensor_dim(out[0], 0) == 3 &&
          !memcmp(tfc_tensor_data(out[0]), a, sizeof a));
    tfc_tensor_free(out[0]);
    tfc_tensor_free(out[1]);
    tfc_tensor_free(xt);
    tfc_session_free(s);
    tfc_status_free(st);
    tfc_graph_free(g);
}

static void check_no_overwrite(int threads) {
    float a[N];
    for (int i = 0; i < N; i++) a[i] = (float)tfc_test_uniform(-3, 3);
    int64_t dims[2] = {3, 4};
    tfc_graph *g = tfc_graph_new();
    tfc_output one = tfc_const_float(g, 1.0f), two = tfc_const_float(g, 2.0f);
    /* a variable read through a same-shape Reshape, then Add */
    tfc_output v = tfc_variable(g, "v", tfc_const_data(g, TFC_FLOAT, 2, dims, a));
    tfc_output vz = tfc_add(g, tfc_reshape(g, v, 2, dims), one);
    /* a feed, the same */
    tfc_output x = tfc_placeholder(g, "x", TFC_FLOAT, 2, dims);
    tfc_output xz = tfc_add(g, tfc_squeeze(g, x, NULL, 0), one);
    /* an op's output read by two: Add after the Reshape, Mul without it */
    tfc_output m = tfc_mul(g, x, one);
    tfc_output mz = tfc_add(g, tfc_reshape(g, m, 2, dims), one);
    tfc_output mw = tfc_mul(g, m, two);
    tfc_node *init = tfc_global_variables_initializer(g);
    CHECK_GRAPH_OK(g);
    tfc_status *st = tfc_status_new();
    tfc_session_options o = {0};
    o.inter_op_threads = o.intra_op_threads = threads;
    tfc_session *s = tfc_session_new(g, &o, st);
    tfc_session_run(s, NULL, NULL, 0, NULL, 0, NULL, &init, 1, st);
    tfc_tensor *xt = tfc_tensor_from_data(TFC_FLOAT, 2, dims, a);
    tfc_output fetch[5] = {vz, xz, mz, mw, v};
    tfc_tensor *out[5] = {NULL};
    for (int round = 0; round < 3; round++) {
        tfc_session_run(s, &x, &xt, 1, fetch, 5, out, NULL, 0, st);
        CHECK_STATUS_OK(st);
        for (int k = 0; k < 5 && out[0]; k++) CHECK(out[k] && tfc_tensor_num_elements(out[k]) == N);
        for (int i = 0; out[4] && i < N; i++) {
            const float *f[5];
            for (int k = 0; k < 5; k++) f[k] = tfc_tensor_data(out[k]);
            CHECK_MSG(f[0][i] == a[i] + 1 && f[1][i] == a[i] + 1 && f[2][i] == a[i] + 1,
                      "%d threads, element %d: %g %g %g, want %g", threads, i, f[0][i], f[1][i],
                      f[2][i], a[i] + 1);
            CHECK_MSG(f[3][i] == a[i] * 2, "%d threads: m * 2 = %g, want %g", threads, f[3][i],
                      a[i] * 2);
            CHECK_MSG(f[4][i] == a[i], "%d threads: the variable became %g, was %g", threads,
                      f[4][i], a[i]);
            CHECK(((const float *)tfc_tensor_data(xt))[i] == a[i]); /* the feed */
        }
        for (int k = 0; k < 5; k++) {
            tfc_tensor_free(out[k]);
            out[k] = NULL;
        }
    }
    tfc_tensor_free(xt);
    tfc_session_free(s);
    tfc_status_free(st);
    tfc_graph_free(g);
}

static void test_shared_input_not_overwritten(void) {
    for (int threads = 1; threads <= 2; threads++) check_no_overwrite(threads);
}

TFC_TEST_MAIN(T(test_same_shape_is_the_input), T(test_shared_input_not_overwritten))
