/* With fixed seeds, training gives bit-identical variables at any thread
 * count: kernels split work in ways that do not change the order of any
 * floating-point sum. */
#include "determinism_helpers.h"

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
    tfc_status *st = tfc_status_new();
    tfc_session *s = det_session(g, threads, st);
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
    float *all = det_trainable_values(g, s, st, n);
    tfc_session_free(s);
    tfc_status_free(st);
    tfc_optimizer_free(opt);
    tfc_graph_free(g);
    return all;
}

static void test_bit_identical_across_thread_counts(void) {
    int64_t n2, n4;
    float *b = det_check_thread_counts(train, "conv + dense", 1001, &n2);
    /* and the same seed twice on one thread count */
    float *d = train(2, &n4);
    CHECK(b && d && n4 == n2 && memcmp(b, d, (size_t)n2 * sizeof *b) == 0);
    free(b);
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
    tfc_status *st = tfc_status_new();
    tfc_session *s = det_session(g, threads, st);
    tfc_test_seed(11);
    for (int i = 0; i < STEPS; i++) {
        tfc_tensor *bx = tfc_test_random_tensor(TFC_FLOAT, 3, (int64_t[]){B, T, D}, -1, 1);
        tfc_session_run(s, &x, &bx, 1, NULL, 0, NULL, &step, 1, st);
        tfc_tensor_free(bx);
    }
    CHECK_STATUS_OK(st);
    float *all = det_trainable_values(g, s, st, n);
    tfc_session_free(s);
    tfc_status_free(st);
    tfc_optimizer_free(opt);
    tfc_rnn_cell_free(cell);
    tfc_graph_free(g);
    return all;
}

static void test_dynamic_rnn_bit_identical_across_thread_counts(void) {
    int64_t n2;
    /* the LSTM's kernel ((D + U) x 4U) and bias (4U) */
    free(det_check_thread_counts(train_dynamic_rnn, "dynamic_rnn", (64 + 256 + 1) * 4 * 256,
                                 &n2));
}

TFC_TEST_MAIN(T(test_bit_identical_across_thread_counts),
              T(test_dynamic_rnn_bit_identical_across_thread_counts))
