/* The Fashion-MNIST MLP that mlp.c, mlp_allreduce.c and mlp_ps_async.c
 * train (each its own way): 784 pixels -> 256 ReLU -> 256 ReLU -> 10
 * logits, the mean cross-entropy as loss, and the timing helper they
 * share. A header of static functions, so that each example stays one
 * program built from one file. */
#ifndef TFC_EXAMPLES_MLP_MODEL_H
#define TFC_EXAMPLES_MLP_MODEL_H

#include <tfc.h>

#include <math.h>
#include <time.h>

enum { MLP_HIDDEN = 256 };

/* Seconds since *t0 (from timespec_get). */
static inline double mlp_seconds_since(const struct timespec *t0) {
    struct timespec t;
    timespec_get(&t, TIME_UTC);
    return (double)(t.tv_sec - t0->tv_sec) + 1e-9 * (double)(t.tv_nsec - t0->tv_nsec);
}

/* One fully connected layer, x W + b, under the name scope `name`. Weights
 * start from a truncated normal of variance 2 / inputs (He et al.), which
 * keeps the scale of ReLU activations steady from layer to layer. With
 * `histogram`, a histogram summary of the weights for TensorBoard. */
static inline tfc_output mlp_dense(tfc_graph *g, const char *name, tfc_output x, int64_t in,
                                   int64_t out, int relu, int histogram) {
    int64_t wdims[] = {in, out};
    tfc_name_scope_push(g, name);
    tfc_output w = tfc_variable(
        g, "weights", tfc_truncated_normal(g, TFC_FLOAT, 2, wdims, 0.0, sqrt(2.0 / (double)in), 0));
    tfc_output b = tfc_variable(g, "biases", tfc_zeros(g, TFC_FLOAT, 1, &out));
    tfc_output y = tfc_bias_add(g, tfc_matmul(g, x, w), b);
    if (relu) y = tfc_relu(g, y);
    if (histogram) tfc_histogram_summary(g, "weights", w);
    tfc_name_scope_pop(g);
    return y;
}

typedef struct mlp_model {
    tfc_output x;      /* float [batch, 784] placeholder "x" */
    tfc_output labels; /* int32 [batch] placeholder "labels" */
    tfc_output logits; /* [batch, 10] */
    tfc_output loss;   /* mean sparse softmax cross-entropy */
} mlp_model;

/* Builds the model in g (layers hidden1, hidden2, output; `histograms` as
 * for mlp_dense). Errors are recorded on g. */
static inline mlp_model mlp_model_build(tfc_graph *g, int histograms) {
    mlp_model m;
    int64_t xdims[] = {-1, 784}, ydims[] = {-1};
    m.x = tfc_placeholder(g, "x", TFC_FLOAT, 2, xdims);
    m.labels = tfc_placeholder(g, "labels", TFC_INT32, 1, ydims);
    tfc_output h1 = mlp_dense(g, "hidden1", m.x, 784, MLP_HIDDEN, 1, histograms);
    tfc_output h2 = mlp_dense(g, "hidden2", h1, MLP_HIDDEN, MLP_HIDDEN, 1, histograms);
    m.logits = mlp_dense(g, "output", h2, MLP_HIDDEN, 10, 0, histograms);
    m.loss = tfc_reduce_mean(g, tfc_sparse_softmax_cross_entropy_with_logits(g, m.labels, m.logits),
                             NULL, 0, 0);
    return m;
}

#endif
