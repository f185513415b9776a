/* A two-layer static_rnn LSTM language model, step by step and layer by
 * layer (TFC_RNN_LAYERED=1), trained a few steps with fixed seeds: the
 * same bits at 1, 2 and 3 threads. Sizes are big enough for the products
 * (the layer-wide input projections included) to be cut into blocks. */
#include "harness.h"

#include <stdlib.h>
#include <string.h>

enum { STEPS = 8, B = 24, D = 96, U = 128, V = 700, LAYERS = 2, TRAIN_STEPS = 3 };

/* The trained variables' values concatenated (caller frees), count in *n. */
static float *train_lm(int threads, int64_t *n) {
    tfc_graph *g = tfc_graph_new();
    tfc_graph_set_seed(g, 5);
    int64_t idims[] = {B, STEPS}, tdim = B * STEPS, edims[] = {V, D}, wdims[] = {U, V}, bdim = V;
    tfc_output ids = tfc_placeholder(g, "ids", TFC_INT32, 2, idims);
    tfc_output targets = tfc_placeholder(g, "targets", TFC_INT32, 2, idims);
    tfc_output emb =
        tfc_variable(g, "embedding", tfc_random_uniform(g, TFC_FLOAT, 2, edims, -0.1, 0.1, 0));
    tfc_output w = tfc_variable(g, "w", tfc_random_uniform(g, TFC_FLOAT, 2, wdims, -0.1, 0.1, 0));
    tfc_output b = tfc_variable(g, "b", tfc_random_uniform(g, TFC_FLOAT, 1, &bdim, -0.1, 0.1, 0));
    tfc_rnn_cell *layers[LAYERS];
    for (int i = 0; i < LAYERS; i++) layers[i] = tfc_basic_lstm_cell(U, 0.0);
    tfc_rnn_cell *cell = tfc_multi_rnn_cell(layers, LAYERS);
    tfc_output x[STEPS], outs[STEPS];
    tfc_unstack(g, tfc_embedding_lookup(g, emb, ids), STEPS, 1, x);
    CHECK(tfc_static_rnn(g, cell, x, STEPS, NULL, "rnn", outs, NULL) == 0);
    int64_t flat[] = {-1, U};
    tfc_output out = tfc_reshape(g, tfc_concat(g, outs, STEPS, 1), 2, flat);
    tfc_output logits = tfc_bias_add(g, tfc_matmul(g, out, w), b);
    tfc_output loss = tfc_reduce_mean(
        g,
        tfc_sparse_softmax_cross_entropy_with_logits(g, tfc_reshape(g, targets, 1, &tdim), logits),
        NULL, 0, 0);
    tfc_optimizer *opt = tfc_gradient_descent_optimizer(1.0);
    tfc_node *train = tfc_optimizer_minimize(opt, g, loss, NULL, 0, (tfc_output){0});
    tfc_node *init = tfc_global_variables_initializer(g);
    CHECK_GRAPH_OK(g);
    tfc_session_options o = {.intra_op_threads = threads, .inter_op_threads = threads};
    tfc_status *st = tfc_status_new();
    tfc_session *s = tfc_session_new(g, &o, st);
    tfc_session_run(s, NULL, NULL, 0, NULL, 0, NULL, &init, 1, st);
    tfc_test_seed(11);
    for (int i = 0; i < TRAIN_STEPS; i++) {
        tfc_tensor *vals[] = {tfc_test_random_tensor(TFC_INT32, 2, idims, 0, V),
                              tfc_test_random_tensor(TFC_INT32, 2, idims, 0, V)};
        tfc_output feeds[] = {ids, targets};
        tfc_session_run(s, feeds, vals, 2, NULL, 0, NULL, &train, 1, st);
        tfc_tensor_free(vals[0]);
        tfc_tensor_free(vals[1]);
    }
    CHECK_STATUS_OK(st);
    int nv = tfc_graph_collection_size(g, TFC_TRAINABLE_VARIABLES);
    float *all = NULL;
    *n = 0;
    for (int i = 0; i < nv; i++) {
        tfc_output v = tfc_out(tfc_graph_collection_get(g, TFC_TRAINABLE_VARIABLES, i), 0);
        tfc_tensor *t = NULL;
        tfc_session_run(s, NULL, NULL, 0, &v, 1, &t, NULL, 0, st);
        if (!t) break;
        int64_t k = tfc_tensor_num_elements(t);
        float *grown = realloc(all, (size_t)(*n + k) * sizeof *all);
        if (grown) {
            all = grown;
            memcpy(all + *n, tfc_tensor_data(t), (size_t)k * sizeof *all);
            *n += k;
        }
        tfc_tensor_free(t);
    }
    CHECK_STATUS_OK(st);
    tfc_session_free(s);
    tfc_status_free(st);
    tfc_optimizer_free(opt);
    tfc_rnn_cell_free(cell);
    tfc_graph_free(g);
    return all;
}

static void check_thread_counts(const char *form) {
    int64_t n1 = 0, n2 = 0, n3 = 0;
    float *a = train_lm(1, &n1), *b = train_lm(2, &n2), *c = train_lm(3, &n3);
    CHECK(n1 > 0 && n1 == n2 && n1 == n3);
    if (a && b && c && n1 == n2 && n1 == n3) {
        CHECK_MSG(memcmp(a, b, (size_t)n1 * sizeof *a) == 0, "%s: 1 vs 2 threads differ", form);
        CHECK_MSG(memcmp(a, c, (size_t)n1 * sizeof *a) == 0, "%s: 1 vs 3 threads differ", form);
    }
    free(a);
    free(b);
    free(c);
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
