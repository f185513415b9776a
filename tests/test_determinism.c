/* With fixed seeds, training gives bit-identical variables at any thread
 * count: kernels split work in ways that do not change the order of any
 * floating-point sum. */
#include "harness.h"

#include <stdlib.h>

enum { STEPS = 4, BATCH = 24 };

static tfc_output dense(tfc_graph *g, tfc_output x, int64_t in, int64_t out, int relu) {
    int64_t wd[] = {in, out};
    tfc_output w = tfc_variable(g, NULL, tfc_truncated_normal(g, TFC_FLOAT, 2, wd, 0, 0.2, 0));
    tfc_output b = tfc_variable(g, NULL, tfc_random_uniform(g, TFC_FLOAT, 1, &out, -0.1, 0.1, 0));
    tfc_output y = tfc_bias_add(g, tfc_matmul(g, x, w), b);
    return relu ? tfc_relu(g, y) : y;
}

/* Trains a small conv + dense + dropout model; returns the variables'
 * values concatenated (caller frees) and their count in *n. */
static float *train(int threads, int64_t *n) {
    tfc_graph *g = tfc_graph_new();
    tfc_graph_set_seed(g, 42);
    int64_t xd[] = {-1, 12, 12, 3}, yd[] = {-1};
    tfc_output x = tfc_placeholder(g, "x", TFC_FLOAT, 4, xd);
    tfc_output y = tfc_placeholder(g, "y", TFC_INT32, 1, yd);
    int64_t fd[] = {3, 3, 3, 64}; /* big enough for conv GEMMs to split over threads */
    tfc_output f = tfc_variable(g, "filter", tfc_truncated_normal(g, TFC_FLOAT, 4, fd, 0, 0.3, 0));
    int strides[] = {1, 1, 1, 1}, k[] = {1, 2, 2, 1};
    tfc_output h = tfc_relu(g, tfc_conv2d(g, x, f, strides, "SAME"));
    h = tfc_max_pool(g, h, k, k, "VALID");
    int64_t flat[] = {-1, 6 * 6 * 64};
    h = dense(g, tfc_reshape(g, h, 2, flat), 6 * 6 * 64, 700, 1);
    h = tfc_dropout(g, h, tfc_const_float(g, 0.7f), 0);
    tfc_output logits = dense(g, h, 700, 5, 0);
    tfc_output loss =
        tfc_reduce_mean(g, tfc_sparse_softmax_cross_entropy_with_logits(g, y, logits), NULL, 0, 0);
    tfc_optimizer *opt = tfc_adam_optimizer(0.01, 0.9, 0.999, 1e-8);
    tfc_node *step = tfc_optimizer_minimize(opt, g, loss, NULL, 0, (tfc_output){0});
    tfc_node *init = tfc_global_variables_initializer(g);
    CHECK_GRAPH_OK(g);
    tfc_session_options o = {.intra_op_threads = threads, .inter_op_threads = threads};
    tfc_status *st = tfc_status_new();
    tfc_session *s = tfc_session_new(g, &o, st);
    tfc_session_run(s, NULL, NULL, 0, NULL, 0, NULL, &init, 1, st);
    tfc_test_seed(7);
    int64_t bxd[] = {BATCH, 12, 12, 3}, byd[] = {BATCH};
    for (int i = 0; i < STEPS; i++) {
        tfc_tensor *bx = tfc_test_random_tensor(TFC_FLOAT, 4, bxd, -1, 1);
        tfc_tensor *by = tfc_test_random_tensor(TFC_INT32, 1, byd, 0, 5);
        tfc_output feeds[] = {x, y};
        tfc_tensor *vals[] = {bx, by};
        tfc_session_run(s, feeds, vals, 2, NULL, 0, NULL, &step, 1, st);
        tfc_tensor_free(bx);
        tfc_tensor_free(by);
    }
    CHECK_STATUS_OK(st);
    int nv = tfc_graph_collection_size(g, TFC_TRAINABLE_VARIABLES);
    float *all = NULL;
    *n = 0;
    for (int i = 0; i < nv; i++) {
        tfc_tensor *v = tfc_session_run1(
            s, NULL, NULL, 0, tfc_out(tfc_graph_collection_get(g, TFC_TRAINABLE_VARIABLES, i), 0), st);
        if (!v) continue;
        int64_t m = tfc_tensor_num_elements(v);
        all = realloc(all, (size_t)(*n + m) * sizeof *all);
        memcpy(all + *n, tfc_tensor_data(v), (size_t)m * sizeof *all);
        *n += m;
        tfc_tensor_free(v);
    }
    tfc_session_free(s);
    tfc_status_free(st);
    tfc_optimizer_free(opt);
    tfc_graph_free(g);
    return all;
}

static void test_bit_identical_across_thread_counts(void) {
    int64_t n1, n2, n3;
    float *a = train(1, &n1), *b = train(2, &n2), *c = train(3, &n3);
    CHECK(n1 > 1000 && n1 == n2 && n1 == n3);
    if (a && b && c && n1 == n2 && n1 == n3) {
        CHECK_MSG(memcmp(a, b, (size_t)n1 * sizeof *a) == 0, "1 vs 2 threads differ");
        CHECK_MSG(memcmp(a, c, (size_t)n1 * sizeof *a) == 0, "1 vs 3 threads differ");
    }
    /* and the same seed twice on one thread count */
    int64_t n4;
    float *d = train(2, &n4);
    CHECK(d && n4 == n2 && memcmp(b, d, (size_t)n2 * sizeof *b) == 0);
    free(a);
    free(b);
    free(c);
    free(d);
}

/* A dynamic_rnn (a while loop whose body runs on the session's threads)
 * trained a few steps: the same bits at 1, 2 and 3 threads. */
static float *train_dynamic_rnn(int threads, int64_t *n) {
    enum { B = 16, T = 6, D = 64, U = 256 }; /* big enough for the GEMMs to split */
    tfc_graph *g = tfc_graph_new();
    tfc_graph_set_seed(g, 3);
    tfc_rnn_cell *cell = tfc_basic_lstm_cell(U, 1.0);
    tfc_output x = tfc_placeholder(g, "x", TFC_FLOAT, 3, (int64_t[]){B, T, D});
    tfc_output out, state[2];
    CHECK(tfc_dynamic_rnn(g, cell, x, (tfc_output){0}, NULL, NULL, &out, state) == 0);
    tfc_output loss = tfc_reduce_mean(g, tfc_square(g, out), NULL, 0, 0);
    tfc_optimizer *opt = tfc_adam_optimizer(0.01, 0.9, 0.999, 1e-8);
    tfc_node *step = tfc_optimizer_minimize(opt, g, loss, NULL, 0, (tfc_output){0});
    tfc_node *init = tfc_global_variables_initializer(g);
    CHECK_GRAPH_OK(g);
    tfc_session_options o = {.intra_op_threads = threads, .inter_op_threads = threads};
    tfc_status *st = tfc_status_new();
    tfc_session *s = tfc_session_new(g, &o, st);
    tfc_session_run(s, NULL, NULL, 0, NULL, 0, NULL, &init, 1, st);
    tfc_test_seed(11);
    for (int i = 0; i < STEPS; i++) {
        tfc_tensor *bx = tfc_test_random_tensor(TFC_FLOAT, 3, (int64_t[]){B, T, D}, -1, 1);
        tfc_session_run(s, &x, &bx, 1, NULL, 0, NULL, &step, 1, st);
        tfc_tensor_free(bx);
    }
    CHECK_STATUS_OK(st);
    tfc_node *kernel = tfc_graph_node_by_name(g, "rnn/basic_lstm_cell/kernel");
    float *all = NULL;
    *n = 0;
    tfc_tensor *v = kernel ? tfc_session_run1(s, NULL, NULL, 0, tfc_out(kernel, 0), st) : NULL;
    if (v) {
        *n = tfc_tensor_num_elements(v);
        all = malloc((size_t)*n * sizeof *all);
        memcpy(all, tfc_tensor_data(v), (size_t)*n * sizeof *all);
        tfc_tensor_free(v);
    }
    tfc_session_free(s);
    tfc_status_free(st);
    tfc_optimizer_free(opt);
    tfc_rnn_cell_free(cell);
    tfc_graph_free(g);
    return all;
}

static void test_dynamic_rnn_bit_identical_across_thread_counts(void) {
    int64_t n1, n2, n3;
    float *a = train_dynamic_rnn(1, &n1), *b = train_dynamic_rnn(2, &n2),
          *c = train_dynamic_rnn(3, &n3);
    CHECK(a && b && c && n1 == (64 + 256) * 4 * 256 && n1 == n2 && n1 == n3);
    if (a && b && c && n1 == n2 && n1 == n3) {
        CHECK_MSG(memcmp(a, b, (size_t)n1 * sizeof *a) == 0, "1 vs 2 threads differ");
        CHECK_MSG(memcmp(a, c, (size_t)n1 * sizeof *a) == 0, "1 vs 3 threads differ");
    }
    free(a);
    free(b);
    free(c);
}

TFC_TEST_MAIN(T(test_bit_identical_across_thread_counts),
              T(test_dynamic_rnn_bit_identical_across_thread_counts))
