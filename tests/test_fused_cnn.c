/* The plan's fusions in a CNN: a convolution's BiasAdd and Relu into it
 * (src/ops/bias_fused.c), and a max pooling's gradient into the ReluGrad
 * that is its only reader (_MaxPoolGradReluGrad, src/ops/pool.c). A small
 * CNN (conv, bias, relu, max pooling, a dense layer) trains bit for bit as
 * written (TFC_OPT_L0) at 1 and 2 threads, float32 on each register tile
 * width and on the libraries' paths, and float64, on each of the pooling
 * gradient's kernels (2 x 2 windows inside even sizes, windows that tile a
 * padded image, overlapping windows); the plan fused all four; a ReluGrad
 * whose features are not the pooling's input gives the two ops' values. */
#include "determinism_helpers.h"
#include "harness.h"
#include "tile_widths.h"

#include "runtime/runtime.h"

#include <stdlib.h>
#include <string.h>

typedef struct cnn {
    tfc_dtype dt;
    int64_t h, w; /* image size (3 channels in, 6 out) */
    int k, s;     /* pooling window and stride */
    const char *padding;
} cnn;

typedef struct trained {
    char *bytes; /* the trainable variables after the steps */
    size_t n;
    int fused;
} trained;

static tfc_output pooled_cnn(tfc_graph *g, const cnn *m, tfc_output x, tfc_output *extra) {
    int64_t fd[] = {3, 3, 3, 6}, bd[] = {6};
    tfc_output f = tfc_variable(g, NULL, tfc_truncated_normal(g, m->dt, 4, fd, 0, 0.3, 0));
    tfc_output b = tfc_variable(g, NULL, tfc_zeros(g, m->dt, 1, bd));
    int ones[] = {1, 1, 1, 1}, win[] = {1, m->k, m->k, 1}, step[] = {1, m->s, m->s, 1};
    tfc_output h = tfc_relu(g, tfc_bias_add(g, tfc_conv2d(g, x, f, ones, "SAME"), b));
    tfc_output p = tfc_max_pool(g, h, win, step, m->padding);
    *extra = p;
    int64_t flat[] = {-1, 0};
    tfc_shape ps = tfc_output_shape(p);
    flat[1] = ps.dims[1] * ps.dims[2] * ps.dims[3];
    int64_t wd[] = {flat[1], 4};
    tfc_output w = tfc_variable(g, NULL, tfc_truncated_normal(g, m->dt, 2, wd, 0, 0.2, 0));
    return tfc_matmul(g, tfc_reshape(g, p, 2, flat), w);
}

static void whole_numbers(tfc_tensor *t) {
    int64_t n = tfc_tensor_num_elements(t);
    for (int64_t k = 0; k < n; k++)
        if (tfc_tensor_dtype(t) == TFC_FLOAT)
            ((float *)tfc_tensor_data(t))[k] = (float)(int)((float *)tfc_tensor_data(t))[k];
        else
            ((double *)tfc_tensor_data(t))[k] = (double)(int)((double *)tfc_tensor_data(t))[k];
}

/* 3 steps of SGD from the same start and batches. */
static trained train(const cnn *m, tfc_opt_level level, int threads) {
    trained t = {NULL, 0, 0};
    tfc_graph *g = tfc_graph_new();
    tfc_graph_set_seed(g, 3);
    int64_t xd[] = {-1, m->h, m->w, 3}, yd[] = {-1};
    tfc_output x = tfc_placeholder(g, "x", m->dt, 4, xd);
    tfc_output y = tfc_placeholder(g, "y", TFC_INT32, 1, yd), pooled;
    tfc_output logits = pooled_cnn(g, m, x, &pooled);
    tfc_output loss =
        tfc_reduce_mean(g, tfc_sparse_softmax_cross_entropy_with_logits(g, y, logits), NULL, 0, 0);
    tfc_optimizer *opt = tfc_gradient_descent_optimizer(0.1);
    tfc_node *step = tfc_optimizer_minimize(opt, g, loss, NULL, 0, (tfc_output){0});
    tfc_status *st = tfc_status_new();
    tfc_session *s = det_session_at(g, threads, level, st);
    tfc_test_seed(23);
    int64_t bxd[] = {5, m->h, m->w, 3}, byd[] = {5};
    tfc_output feeds[] = {x, y};
    for (int i = 0; i < 3 && tfc_status_code(st) == TFC_OK; i++) {
        /* whole numbers: ties in the pooling windows, zeros for the relu */
        tfc_tensor *vals[] = {tfc_test_random_tensor(m->dt, 4, bxd, -2, 2),
                              tfc_test_random_tensor(TFC_INT32, 1, byd, 0, 4)};
        if (i == 1) whole_numbers(vals[0]);
        tfc_session_run(s, feeds, vals, 2, &loss, 0, NULL, &step, 1, st);
        CHECK_STATUS_OK(st);
        for (int k = 0; k < 2; k++) tfc_tensor_free(vals[k]);
    }
    tfc_plan *p = tfc_session_find_plan(s, feeds, 2, NULL, 0, &step, 1);
    CHECK(p != NULL);
    if (p) t.fused = p->stats.fused;
    t.bytes = det_trainable_bytes(g, s, st, &t.n);
    tfc_status_free(st);
    tfc_session_free(s);
    tfc_optimizer_free(opt);
    tfc_graph_free(g);
    return t;
}

static const cnn models[] = {
    {TFC_FLOAT, 8, 6, 2, 2, "SAME"},   /* 2 x 2 windows inside even sizes */
    {TFC_DOUBLE, 8, 6, 2, 2, "VALID"}, /* the same kernel, float64 */
    {TFC_FLOAT, 7, 5, 2, 2, "SAME"},   /* windows tiling a padded image */
    {TFC_FLOAT, 7, 7, 3, 2, "VALID"},  /* overlapping windows */
    {TFC_DOUBLE, 6, 6, 3, 2, "SAME"},
};

static void test_cnn_trains_as_written(void) {
    int widths[3], nw = tile_widths_to_try(widths, 1);
    for (size_t i = 0; i < sizeof models / sizeof *models; i++) {
        const cnn *m = &models[i];
        for (int run = 0; run < 2 * nw; run++) {
            /* as written and fused on the same kernels (their sums differ) */
            int threads = 1 + run % 2;
            CHECK(tfc_tile_use_width(widths[run / 2]) == widths[run / 2]);
            trained off = train(m, TFC_OPT_L0, 1), on = train(m, TFC_OPT_L1, threads);
            tfc_tile_use_width(-1);
            /* the pooling's gradient, the dense weight's product, and the
             * convolution into its BiasAdd and that into its Relu */
            CHECK_MSG(on.fused == 4, "model %zu, %d thread(s), tiles %d: %d fused, expected 4", i,
                      threads, widths[run / 2], on.fused);
            CHECK_MSG(on.n == off.n && on.n > 0 && memcmp(on.bytes, off.bytes, on.n) == 0,
                      "model %zu, %d thread(s), tiles %d: the variables differ from the unfused "
                      "run's",
                      i, threads, widths[run / 2]);
            free(on.bytes);
            free(off.bytes);
        }
    }
}

/* MaxPoolGrad -> ReluGrad built by hand, with features of their own (not
 * the pooling's input), fetched fused and not: the same bits. */
static tfc_tensor *grad_through_relu(const int64_t *xd, int k, int s, const char *padding,
                                     tfc_opt_level level, int *fused) {
    tfc_graph *g = tfc_graph_new();
    tfc_output x = tfc_placeholder(g, "x", TFC_FLOAT, 4, xd);
    tfc_output f = tfc_placeholder(g, "f", TFC_FLOAT, 4, xd);
    int win[] = {1, k, k, 1}, step[] = {1, s, s, 1};
    tfc_output y = tfc_max_pool(g, x, win, step, padding);
    tfc_shape ys = tfc_output_shape(y);
    tfc_output dy = tfc_placeholder(g, "dy", TFC_FLOAT, 4, ys.dims);
    tfc_op_desc *d = tfc_op_new(g, "MaxPoolGrad", NULL);
    tfc_op_add_input(d, x);
    tfc_op_add_input(d, y);
    tfc_op_add_input(d, dy);
    int64_t w64[] = {1, k, k, 1}, s64[] = {1, s, s, 1};
    tfc_op_set_attr_int_list(d, "ksize", w64, 4);
    tfc_op_set_attr_int_list(d, "strides", s64, 4);
    tfc_op_set_attr_string(d, "padding", padding);
    tfc_output dx = tfc_out(tfc_op_finish(d), 0);
    d = tfc_op_new(g, "ReluGrad", NULL);
    tfc_op_add_input(d, dx);
    tfc_op_add_input(d, f);
    tfc_output out = tfc_out(tfc_op_finish(d), 0);
    CHECK_GRAPH_OK(g);
    tfc_test_seed(41);
    tfc_tensor *vals[] = {tfc_test_random_tensor(TFC_FLOAT, 4, xd, -3, 3),
                          tfc_test_random_tensor(TFC_FLOAT, 4, xd, -1, 1),
                          tfc_test_random_tensor(TFC_FLOAT, 4, ys.dims, -1, 1)};
    tfc_output feeds[] = {x, f, dy};
    tfc_session *sess = tfc_test_session_at(g, 1, level);
    tfc_status *st = tfc_status_new();
    tfc_tensor *got = NULL;
    tfc_session_run(sess, feeds, vals, 3, &out, 1, &got, NULL, 0, st);
    CHECK_STATUS_OK(st);
    tfc_plan *p = tfc_session_find_plan(sess, feeds, 3, &out, 1, NULL, 0);
    *fused = p ? p->stats.fused : -1;
    for (int i = 0; i < 3; i++) tfc_tensor_free(vals[i]);
    tfc_status_free(st);
    tfc_session_free(sess);
    tfc_graph_free(g);
    return got;
}

static void test_features_of_their_own(void) {
    static const struct {
        int64_t dims[4];
        int k, s;
        const char *padding;
    } cases[] = {
        {{2, 6, 8, 19}, 2, 2, "SAME"}, {{2, 5, 7, 4}, 2, 2, "SAME"}, {{1, 7, 6, 5}, 3, 2, "VALID"}};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        int fused_on = 0, fused_off = 0;
        tfc_tensor *on = grad_through_relu(cases[i].dims, cases[i].k, cases[i].s, cases[i].padding,
                                           TFC_OPT_L1, &fused_on);
        tfc_tensor *off = grad_through_relu(cases[i].dims, cases[i].k, cases[i].s, cases[i].padding,
                                            TFC_OPT_L0, &fused_off);
        CHECK_MSG(fused_on == 1 && fused_off == 0, "case %zu: fused %d / %d", i, fused_on,
                  fused_off);
        CHECK(on && off && tfc_tensor_num_elements(on) == tfc_tensor_num_elements(off));
        if (on && off)
            CHECK_MSG(memcmp(tfc_tensor_data(on), tfc_tensor_data(off),
                             sizeof(float) * (size_t)tfc_tensor_num_elements(on)) == 0,
                      "case %zu: fused values differ", i);
        tfc_tensor_free(on);
        tfc_tensor_free(off);
    }
}

TFC_TEST_MAIN(T(test_cnn_trains_as_written), T(test_features_of_their_own))
