/* The full build's half of the inference-only build's test (see
 * inference_model.h): the small MLP, frozen here with
 * tfc_graph_to_frozen_graphdef, computes the outputs in
 * tests/data/inference/mlp_expected.txt, and the committed
 * mlp_frozen.pb is that frozen graph (it gives the same outputs).
 *
 * With TFC_INFERENCE_MODELS_DIR=<dir> in the environment it also writes,
 * into <dir>: mlp_frozen.pb and mlp_expected.txt (the test data, when the
 * model changes) and the frozen Fashion-MNIST models of examples/mlp.c
 * (784-256-256-10) and examples/cnn_mnist.c (two conv+pool, 1024, 10) with
 * untrained weights, mlp_mnist.pb and cnn_mnist.pb (x[-1,784] -> y[-1,10]),
 * for bench/inference_size.sh. */
#include "harness.h"
#include "inference_model.h"

#include <stdlib.h>

typedef struct model {
    tfc_graph *g;
    tfc_output x, y;
} model;

static tfc_output weights(tfc_graph *g, const char *name, int rank, const int64_t *dims, int seed) {
    return tfc_variable(g, name, tfc_truncated_normal(g, TFC_FLOAT, rank, dims, 0.0, 0.3, seed));
}

static tfc_output dense(tfc_graph *g, const char *scope, tfc_output x, int64_t in, int64_t out,
                        int seed) {
    tfc_name_scope_push(g, scope);
    tfc_output w = weights(g, "weights", 2, (int64_t[]){in, out}, seed);
    tfc_output b = weights(g, "biases", 1, (int64_t[]){out}, seed + 1);
    tfc_output y = tfc_bias_add(g, tfc_matmul(g, x, w), b);
    tfc_name_scope_pop(g);
    return y;
}

/* "x" -> hidden relu layers -> softmax "y" */
static model mlp(int64_t in, const int64_t *hidden, int nhidden, int64_t out) {
    model m = {tfc_graph_new(), {0}, {0}};
    m.x = tfc_placeholder(m.g, "x", TFC_FLOAT, 2, (int64_t[]){-1, in});
    tfc_output h = m.x;
    char scope[32];
    for (int i = 0; i < nhidden; i++) {
        snprintf(scope, sizeof scope, "hidden%d", i + 1);
        h = tfc_relu(m.g, dense(m.g, scope, h, in, hidden[i], 10 * i + 1));
        in = hidden[i];
    }
    tfc_output probs = tfc_softmax(m.g, dense(m.g, "softmax_linear", h, in, out, 99));
    tfc_with_name(m.g, "y");
    m.y = tfc_identity(m.g, probs);
    return m;
}

/* examples/cnn_mnist.c's network for inference (no dropout) */
static tfc_output conv_pool(tfc_graph *g, const char *scope, tfc_output x, int64_t in_c,
                            int64_t out_c, int seed) {
    static const int one[] = {1, 1, 1, 1}, two[] = {1, 2, 2, 1};
    tfc_name_scope_push(g, scope);
    tfc_output w = weights(g, "weights", 4, (int64_t[]){5, 5, in_c, out_c}, seed);
    tfc_output b = weights(g, "biases", 1, (int64_t[]){out_c}, seed + 1);
    tfc_output h = tfc_relu(g, tfc_bias_add(g, tfc_conv2d(g, x, w, one, "SAME"), b));
    tfc_output p = tfc_max_pool(g, h, two, two, "SAME");
    tfc_name_scope_pop(g);
    return p;
}

static model cnn(void) {
    model m = {tfc_graph_new(), {0}, {0}};
    m.x = tfc_placeholder(m.g, "x", TFC_FLOAT, 2, (int64_t[]){-1, 784});
    tfc_output h1 =
        conv_pool(m.g, "conv1", tfc_reshape(m.g, m.x, 4, (int64_t[]){-1, 28, 28, 1}), 1, 32, 1);
    tfc_output h2 = conv_pool(m.g, "conv2", h1, 32, 64, 3);
    tfc_output fc1 = tfc_relu(
        m.g, dense(m.g, "fc1", tfc_reshape(m.g, h2, 2, (int64_t[]){-1, 3136}), 3136, 1024, 5));
    tfc_output probs = tfc_softmax(m.g, dense(m.g, "fc2", fc1, 1024, 10, 7));
    tfc_with_name(m.g, "y");
    m.y = tfc_identity(m.g, probs);
    return m;
}

/* Initializes m's variables, runs y on x (when x is not NULL, into *out),
 * and freezes y into *bytes. */
static int freeze(model *m, const tfc_tensor *x, tfc_tensor **out, uint8_t **bytes, size_t *len) {
    CHECK_GRAPH_OK(m->g);
    tfc_status *st = tfc_status_new();
    tfc_node *init = tfc_global_variables_initializer(m->g);
    tfc_session *s = tfc_session_new(m->g, NULL, st);
    tfc_session_run(s, NULL, NULL, 0, NULL, 0, NULL, &init, 1, st);
    CHECK_STATUS_OK(st);
    if (x) {
        tfc_session_run(s, &m->x, (tfc_tensor *const *)&x, 1, &m->y, 1, out, NULL, 0, st);
        CHECK_STATUS_OK(st);
    }
    const char *names[] = {"y"};
    int rc = tfc_graph_to_frozen_graphdef(s, names, 1, bytes, len, st);
    CHECK_STATUS_OK(st);
    tfc_session_free(s);
    tfc_status_free(st);
    return rc;
}

static void write_file(const char *dir, const char *name, const void *p, size_t n) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    CHECK_MSG(f && fwrite(p, 1, n, f) == n && fclose(f) == 0, "cannot write %s", path);
    if (f) printf("wrote %s (%zu bytes)\n", path, n);
}

static void test_small_mlp_frozen_matches_committed(void) {
    model m = mlp(INFERENCE_IN, (int64_t[]){INFERENCE_HIDDEN}, 1, INFERENCE_OUT);
    tfc_tensor *x = inference_input(), *want = NULL;
    uint8_t *bytes = NULL;
    size_t len = 0;
    CHECK(freeze(&m, x, &want, &bytes, &len) == 0);
    tfc_tensor_free(x);
    float expected[INFERENCE_BATCH * INFERENCE_OUT];
    const char *dir = getenv("TFC_INFERENCE_MODELS_DIR");
    if (want && bytes && dir) {
        write_file(dir, "mlp_frozen.pb", bytes, len);
        char text[INFERENCE_BATCH * INFERENCE_OUT * 20], *p = text;
        const float *w = tfc_tensor_data(want);
        for (int i = 0; i < INFERENCE_BATCH * INFERENCE_OUT; i++) p += sprintf(p, "%.9g\n", w[i]);
        write_file(dir, "mlp_expected.txt", text, (size_t)(p - text));
    }
    /* the frozen bytes give exactly what the graph with variables gave */
    tfc_tensor *got = bytes ? inference_run_graphdef(bytes, len) : NULL;
    CHECK(want && got);
    if (want && got && inference_expected(expected) == 0) {
        const float *w = tfc_tensor_data(want), *g = tfc_tensor_data(got);
        for (int i = 0; i < INFERENCE_BATCH * INFERENCE_OUT; i++) {
            CHECK_MSG(w[i] == g[i], "output %d: %.9g frozen, %.9g with variables", i, g[i], w[i]);
            CHECK_NEAR(w[i], expected[i], INFERENCE_TOL);
        }
    }
    /* and the committed GraphDef is this frozen graph */
    char path[4096];
    size_t clen = 0;
    void *committed =
        inference_read_file(inference_path(path, sizeof path, "mlp_frozen.pb"), &clen);
    tfc_tensor *cgot = committed ? inference_run_graphdef(committed, clen) : NULL;
    CHECK(cgot != NULL);
    if (want && cgot) {
        const float *w = tfc_tensor_data(want), *g = tfc_tensor_data(cgot);
        for (int i = 0; i < INFERENCE_BATCH * INFERENCE_OUT; i++)
            CHECK_NEAR(g[i], w[i], INFERENCE_TOL);
    }
    free(committed);
    free(bytes);
    tfc_tensor_free(want);
    tfc_tensor_free(got);
    tfc_tensor_free(cgot);
    tfc_graph_free(m.g);
}

/* The Fashion-MNIST models for bench/inference_size.sh, only when asked. */
static void test_write_mnist_models(void) {
    const char *dir = getenv("TFC_INFERENCE_MODELS_DIR");
    if (!dir) return;
    model m[2] = {mlp(784, (int64_t[]){256, 256}, 2, 10), cnn()};
    const char *names[2] = {"mlp_mnist.pb", "cnn_mnist.pb"};
    for (int i = 0; i < 2; i++) {
        uint8_t *bytes = NULL;
        size_t len = 0;
        if (freeze(&m[i], NULL, NULL, &bytes, &len) == 0) write_file(dir, names[i], bytes, len);
        free(bytes);
        tfc_graph_free(m[i].g);
    }
}

TFC_TEST_MAIN(T(test_small_mlp_frozen_matches_committed), T(test_write_mnist_models))
