/* The workloads of the training benchmarks (bench_train.c,
 * bench_allreduce.c): TensorFlow's tutorial models with their optimizers,
 * MNIST's and the PTB language model (which test_rnn_determinism trains too).
 * A header of static functions, so each benchmark stays one file. */
#ifndef TFC_BENCH_MODELS_H
#define TFC_BENCH_MODELS_H

#include "tfc.h"

#include <math.h>
#include <string.h>

/* x W + b (ReLU'd with relu), W from a truncated normal of variance 2/in. */
static inline tfc_output bench_dense(tfc_graph *g, tfc_output x, int64_t in, int64_t out,
                                     int relu) {
    int64_t wd[] = {in, out};
    tfc_output w =
        tfc_variable(g, NULL, tfc_truncated_normal(g, TFC_FLOAT, 2, wd, 0, sqrt(2.0 / in), 0));
    tfc_output b = tfc_variable(g, NULL, tfc_zeros(g, TFC_FLOAT, 1, &out));
    tfc_output y = tfc_bias_add(g, tfc_matmul(g, x, w), b);
    return relu ? tfc_relu(g, y) : y;
}

/* 5x5 convolution (SAME), bias, ReLU, then 2x2 max pooling. */
static inline tfc_output bench_conv_layer(tfc_graph *g, tfc_output x, int64_t in_c, int64_t out_c) {
    int64_t fd[] = {5, 5, in_c, out_c};
    tfc_output w = tfc_variable(g, NULL, tfc_truncated_normal(g, TFC_FLOAT, 4, fd, 0, 0.1, 0));
    tfc_output b = tfc_variable(
        g, NULL,
        tfc_fill(g, tfc_const_ints(g, (int32_t[]){(int32_t)out_c}, 1), tfc_const_float(g, 0.1f)));
    int strides[] = {1, 1, 1, 1}, k[] = {1, 2, 2, 1};
    tfc_output h = tfc_relu(g, tfc_bias_add(g, tfc_conv2d(g, x, w, strides, "SAME"), b));
    return tfc_max_pool(g, h, k, (int[]){1, 2, 2, 1}, "SAME");
}

/* The logits of workload `work` on images x [batch, 784], and its
 * optimizer in *opt (caller frees): "softmax" (one layer, SGD 0.5), "mlp"
 * (784-256-256-10, SGD 0.1), "cnn" (TensorFlow's Deep MNIST: two conv
 * layers, 1024 units, dropout 0.5, Adam 1e-4). A null output (and *opt
 * NULL) for another name. */
static inline tfc_output bench_mnist_model(tfc_graph *g, const char *work, tfc_output x,
                                           tfc_optimizer **opt) {
    *opt = NULL;
    if (strcmp(work, "softmax") == 0) {
        *opt = tfc_gradient_descent_optimizer(0.5);
        return bench_dense(g, x, 784, 10, 0);
    }
    if (strcmp(work, "mlp") == 0) {
        tfc_output logits =
            bench_dense(g, bench_dense(g, bench_dense(g, x, 784, 256, 1), 256, 256, 1), 256, 10, 0);
        *opt = tfc_gradient_descent_optimizer(0.1);
        return logits;
    }
    if (strcmp(work, "cnn") == 0) {
        int64_t img[] = {-1, 28, 28, 1};
        tfc_output h = bench_conv_layer(g, tfc_reshape(g, x, 4, img), 1, 32);
        h = bench_conv_layer(g, h, 32, 64);
        int64_t flat[] = {-1, 7 * 7 * 64};
        h = bench_dense(g, tfc_reshape(g, h, 2, flat), 7 * 7 * 64, 1024, 1);
        tfc_output logits =
            bench_dense(g, tfc_dropout(g, h, tfc_const_float(g, 0.5f), 0), 1024, 10, 0);
        *opt = tfc_adam_optimizer(1e-4, 0.9, 0.999, 1e-8);
        return logits;
    }
    return (tfc_output){NULL, 0};
}

enum { BENCH_LSTM_MAX_LAYERS = 4, BENCH_LSTM_MAX_STEPS = 64 };

/* The LSTM language model of TensorFlow's RNN tutorial (ptb_word_lm.py),
 * as bench_train's lstm workload and test_rnn_determinism train it. */
typedef struct bench_lstm {
    tfc_output ids, targets;  /* int32 [batch, steps] placeholders "input", "targets" */
    tfc_output loss;          /* mean cross-entropy of the next token */
    tfc_output state[2 * BENCH_LSTM_MAX_LAYERS], final[2 * BENCH_LSTM_MAX_LAYERS];
    tfc_node *train;          /* one SGD step (learning rate 1) */
    tfc_optimizer *opt;       /* the caller frees opt and cell */
    tfc_rnn_cell *cell;
} bench_lstm;

/* Adds the model to g: an embedding of `embed`, `layers` BasicLSTMCells of
 * `units` unrolled over `steps` tokens (static_rnn), a softmax over
 * `vocab`, each variable drawn uniformly from [-0.1, 0.1). With
 * `with_state` the cells start from fed placeholders m->state (c then h of
 * each layer, [batch, units]) and m->final holds where they end (the
 * tutorial's truncated backpropagation); without, from zeros. 0, or -1
 * when the sizes are past the limits above or the graph failed
 * (tfc_graph_error says why). */
static inline int bench_lstm_lm(tfc_graph *g, int64_t batch, int steps, int64_t vocab,
                                int64_t embed, int64_t units, int layers, int with_state,
                                bench_lstm *m) {
    memset(m, 0, sizeof *m);
    if (steps > BENCH_LSTM_MAX_STEPS || layers > BENCH_LSTM_MAX_LAYERS) return -1;
    int64_t idims[] = {batch, steps}, tdim = batch * steps, edims[] = {vocab, embed};
    int64_t wdims[] = {units, vocab}, sdims[] = {batch, units};
    m->ids = tfc_placeholder(g, "input", TFC_INT32, 2, idims);
    m->targets = tfc_placeholder(g, "targets", TFC_INT32, 2, idims);
    tfc_output emb =
        tfc_variable(g, "embedding", tfc_random_uniform(g, TFC_FLOAT, 2, edims, -0.1, 0.1, 0));
    tfc_output softmax_w =
        tfc_variable(g, "softmax_w", tfc_random_uniform(g, TFC_FLOAT, 2, wdims, -0.1, 0.1, 0));
    tfc_output softmax_b =
        tfc_variable(g, "softmax_b", tfc_random_uniform(g, TFC_FLOAT, 1, &vocab, -0.1, 0.1, 0));
    tfc_rnn_cell *cells[BENCH_LSTM_MAX_LAYERS];
    for (int i = 0; i < layers; i++) cells[i] = tfc_basic_lstm_cell((int)units, 0.0);
    m->cell = tfc_multi_rnn_cell(cells, layers);
    tfc_output x[BENCH_LSTM_MAX_STEPS], outs[BENCH_LSTM_MAX_STEPS];
    if (with_state)
        for (int i = 0; i < 2 * layers; i++)
            m->state[i] = tfc_placeholder(g, NULL, TFC_FLOAT, 2, sdims);
    tfc_unstack(g, tfc_embedding_lookup(g, emb, m->ids), steps, 1, x);
    if (tfc_static_rnn(g, m->cell, x, steps, with_state ? m->state : NULL, "rnn", outs,
                       with_state ? m->final : NULL))
        return -1;
    /* rows (b, t) in batch-major order, as the tutorial's concat + reshape */
    int64_t flat[] = {-1, units};
    tfc_output out = tfc_reshape(g, tfc_concat(g, outs, steps, 1), 2, flat);
    tfc_output logits = tfc_bias_add(g, tfc_matmul(g, out, softmax_w), softmax_b);
    m->loss = tfc_reduce_mean(
        g,
        tfc_sparse_softmax_cross_entropy_with_logits(g, tfc_reshape(g, m->targets, 1, &tdim),
                                                     logits),
        NULL, 0, 0);
    m->opt = tfc_gradient_descent_optimizer(1.0);
    m->train = tfc_optimizer_minimize(m->opt, g, m->loss, NULL, 0, (tfc_output){0});
    return tfc_graph_error(g) ? -1 : 0;
}

#endif
