/* Post-training quantization (tfc_graph_quantize, src/train/quantize_graph.c):
 * a small frozen conv + dense network, its quantized rewrite close to the
 * float outputs on inputs it was not calibrated on, the products replaced
 * (QuantizeV2 -> QuantizedConv2D / QuantizedMatMul with qint8 weights ->
 * Dequantize, under the old names), the saved GraphDef ~4x smaller and
 * importable again, and the errors. */
#include "harness.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static tfc_output weights(tfc_graph *g, int rank, const int64_t *dims, double scale) {
    tfc_tensor *t = tfc_test_random_tensor(TFC_FLOAT, rank, dims, -scale, scale);
    tfc_output o = tfc_const(g, t);
    tfc_tensor_free(t);
    return o;
}

/* x [-1, 8, 8, 2] -> conv 3x3x2x8 + bias, relu, max-pool 2 -> dense 128->256
 * + bias, relu -> dense 256->10 ("logits") */
static tfc_graph *frozen_net(void) {
    tfc_graph *g = tfc_graph_new();
    int64_t xd[] = {-1, 8, 8, 2}, fd[] = {3, 3, 2, 8}, w1d[] = {128, 256}, w2d[] = {256, 10};
    int64_t b0 = 8, b1 = 256, b2 = 10, flat[] = {-1, 128};
    static const int one[] = {1, 1, 1, 1}, two[] = {1, 2, 2, 1};
    tfc_output x = tfc_placeholder(g, "x", TFC_FLOAT, 4, xd);
    tfc_output h = tfc_conv2d(g, x, tfc_identity(g, weights(g, 4, fd, 0.5)), one, "SAME");
    h = tfc_relu(g, tfc_bias_add(g, h, weights(g, 1, &b0, 0.1)));
    h = tfc_reshape(g, tfc_max_pool(g, h, two, two, "SAME"), 2, flat);
    h = tfc_relu(g, tfc_bias_add(g, tfc_matmul(g, h, weights(g, 2, w1d, 0.2)),
                                 weights(g, 1, &b1, 0.1)));
    tfc_output y = tfc_bias_add(g, tfc_matmul(g, h, weights(g, 2, w2d, 0.3)),
                                weights(g, 1, &b2, 0.1));
    tfc_identity(g, y);
    return g;
}

static const char *output_name(tfc_graph *g) {
    return tfc_node_name(tfc_graph_node(g, tfc_graph_num_nodes(g) - 1));
}

static tfc_tensor *run_named(tfc_graph *g, const char *out, tfc_tensor *x) {
    tfc_output xo, yo;
    if (tfc_graph_output_by_name(g, "x", &xo, NULL) || tfc_graph_output_by_name(g, out, &yo, NULL))
        return NULL;
    return tfc_test_eval(g, yo, &xo, &x, 1);
}

static int count_op(tfc_graph *g, const char *type) {
    int k = 0;
    for (int i = 0; i < tfc_graph_num_nodes(g); i++)
        k += !strcmp(tfc_node_type(tfc_graph_node(g, i)), type);
    return k;
}

static void test_quantized_net(void) {
    tfc_test_seed(41);
    tfc_graph *g = frozen_net();
    CHECK_GRAPH_OK(g);
    const char *out = output_name(g);
    int64_t xd[] = {16, 8, 8, 2};
    tfc_tensor *calib[4];
    for (int i = 0; i < 4; i++) calib[i] = tfc_test_random_tensor(TFC_FLOAT, 4, xd, 0, 1);
    tfc_output x;
    CHECK(tfc_graph_output_by_name(g, "x", &x, NULL) == 0);
    tfc_status *st = tfc_status_new();
    for (int bits = 7; bits <= 8; bits++) {
        tfc_quantize_options opt = {bits};
        tfc_graph *q = tfc_graph_quantize(g, &out, 1, &x, 1, calib, 4, &opt, st);
        CHECK_MSG(q != NULL, "%s", tfc_status_message(st));
        if (!q) continue;
        CHECK(count_op(q, "MatMul") == 0 && count_op(q, "Conv2D") == 0);
        CHECK(count_op(q, "QuantizedMatMul") == 2 && count_op(q, "QuantizedConv2D") == 1);
        CHECK(count_op(q, "QuantizeV2") == 3 && count_op(q, "Dequantize") == 3);
        /* fresh inputs: outputs within a few percent of the float net's range */
        tfc_tensor *test = tfc_test_random_tensor(TFC_FLOAT, 4, xd, 0, 1);
        tfc_tensor *yf = run_named(g, out, test), *yq = run_named(q, out, test);
        CHECK(yf && yq);
        if (yf && yq) {
            double range = 0;
            for (int64_t i = 0; i < tfc_tensor_num_elements(yf); i++)
                range = fmax(range, fabs(tfc_test_get(yf, i)));
            double d = tfc_test_max_diff(yf, yq);
            CHECK_MSG(d <= 0.05 * range, "%d bits: max diff %g, outputs up to %g", bits, d, range);
        }
        /* the saved GraphDef: weights as qint8, about 4x smaller, importable */
        uint8_t *fb = NULL, *qb = NULL;
        size_t fl = 0, ql = 0;
        CHECK(tfc_graph_to_graphdef(g, &fb, &fl, st) == 0);
        CHECK(tfc_graph_to_graphdef(q, &qb, &ql, st) == 0);
        CHECK_MSG(ql * 3 < fl, "float %zu bytes, quantized %zu", fl, ql);
        tfc_graph *back = tfc_graph_new();
        CHECK_MSG(tfc_graph_import_graphdef(back, qb, ql, NULL, NULL, NULL, 0, st) == 0, "%s",
                  tfc_status_message(st));
        tfc_tensor *yb = run_named(back, out, test);
        CHECK(yb && yq && tfc_test_max_diff(yb, yq) == 0);
        tfc_tensor_free(yb);
        tfc_graph_free(back);
        free(fb);
        free(qb);
        tfc_tensor_free(yf);
        tfc_tensor_free(yq);
        tfc_tensor_free(test);
        tfc_graph_free(q);
    }
    for (int i = 0; i < 4; i++) tfc_tensor_free(calib[i]);
    tfc_status_free(st);
    tfc_graph_free(g);
}

static void test_errors(void) {
    tfc_status *st = tfc_status_new();
    tfc_graph *g = tfc_graph_new();
    int64_t d[] = {-1, 3};
    tfc_output x = tfc_placeholder(g, "x", TFC_FLOAT, 2, d);
    tfc_output y = tfc_relu(g, x);
    const char *out = tfc_node_name(y.node);
    int64_t cd[] = {2, 3};
    tfc_tensor *c = tfc_test_random_tensor(TFC_FLOAT, 2, cd, 0, 1);
    CHECK(tfc_graph_quantize(g, &out, 1, &x, 1, &c, 1, NULL, st) == NULL);
    CHECK_CONTAINS(tfc_status_message(st), "no float MatMul or Conv2D");
    tfc_quantize_options opt = {9};
    CHECK(tfc_graph_quantize(g, &out, 1, &x, 1, &c, 1, &opt, st) == NULL);
    CHECK_CONTAINS(tfc_status_message(st), "weight_bits must be 7 or 8");
    CHECK(tfc_graph_quantize(g, &out, 1, &x, 1, &c, 0, NULL, st) == NULL);
    CHECK_CONTAINS(tfc_status_message(st), "calibration");
    tfc_tensor_free(c);
    tfc_graph_free(g);
    tfc_status_free(st);
}

TFC_TEST_MAIN(T(test_quantized_net), T(test_errors))
