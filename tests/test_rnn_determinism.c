/* A two-layer static_rnn LSTM language model (bench_train's lstm workload,
 * bench/bench_models.h, at smaller sizes), step by step and layer by layer
 * (TFC_RNN_LAYERED=1), trained a few steps with fixed seeds: the same bits
 * at 1, 2 and 3 threads. Sizes are big enough for the products (the
 * layer-wide input projections included) to be cut into blocks. */
#include "determinism_helpers.h"

#include "../bench/bench_models.h"

enum { STEPS = 8, B = 24, D = 96, U = 128, V = 700, LAYERS = 2, TRAIN_STEPS = 3 };

/* The trained variables' values concatenated (caller frees), count in *n. */
static float *train_lm(int threads, int64_t *n) {
    tfc_graph *g = tfc_graph_new();
    tfc_graph_set_seed(g, 5);
    bench_lstm m;
    CHECK(bench_lstm_lm(g, B, STEPS, V, D, U, LAYERS, 0, &m) == 0);
    tfc_status *st = tfc_status_new();
    tfc_session *s = det_session(g, threads, st);
    tfc_test_seed(11);
    int64_t idims[] = {B, STEPS};
    for (int i = 0; i < TRAIN_STEPS; i++) {
        tfc_tensor *vals[] = {tfc_test_random_tensor(TFC_INT32, 2, idims, 0, V),
                              tfc_test_random_tensor(TFC_INT32, 2, idims, 0, V)};
        tfc_output feeds[] = {m.ids, m.targets};
        tfc_session_run(s, feeds, vals, 2, NULL, 0, NULL, &m.train, 1, st);
        tfc_tensor_free(vals[0]);
        tfc_tensor_free(vals[1]);
    }
    CHECK_STATUS_OK(st);
    float *all = det_trainable_values(g, s, st, n);
    tfc_session_free(s);
    tfc_status_free(st);
    tfc_optimizer_free(m.opt);
    tfc_rnn_cell_free(m.cell);
    tfc_graph_free(g);
    return all;
}

static void check_thread_counts(const char *form) {
    int64_t n2;
    free(det_check_thread_counts(train_lm, form, 1, &n2));
}

static void test_static_rnn_stepwise_bit_identical(void) {
    unsetenv("TFC_RNN_LAYERED");
    check_thread_counts("step by step");
}

static void test_static_rnn_layered_bit_identical(void) {
    setenv("TFC_RNN_LAYERED", "1", 1);
    check_thread_counts("layer by layer");
    unsetenv("TFC_RNN_LAYERED");
}

TFC_TEST_MAIN(T(test_static_rnn_stepwise_bit_identical), T(test_static_rnn_layered_bit_identical))
