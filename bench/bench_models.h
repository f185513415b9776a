/* The MNIST workloads of the training benchmarks (bench_train.c,
 * bench_allreduce.c): TensorFlow's tutorial models with their optimizers.
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

#endif
