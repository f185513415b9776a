/* The plan's fusion of a weight's gradient product into its
 * ApplyGradientDescent (src/runtime/optimize.c, src/ops/training_fused.c):
 * it happens where it should (the plan's fused count), and training is bit
 * for bit what it is without it (TFC_OPT_L0, every node as written) at 1
 * and 2 threads: products that oneDNN scales into the variable, products
 * the fused kernel computes first (skinny, float64, tiny), transposed
 * forms; it does not happen where the product has another reader; an
 * uninitialized variable is reported as ApplyGradientDescent reports it. */
#include "determinism_helpers.h"
#include "harness.h"

#include "runtime/runtime.h"
#include "tile_widths.h"

#include <stdlib.h>
#include <string.h>

typedef struct model {
    tfc_dtype dt;
    int64_t widths[4]; /* input, two hidden layers, classes */
    int64_t batch;
    int transpose_forward; /* x W as (W^T)^T: the gradient's product is W-shaped with ta = 0 */
    int fetch_gradient;    /* also fetch the first weight's gradient product */
} model;

typedef struct trained {
    char *bytes; /* every trainable variable's bytes, in collection order */
    size_t n;
    tfc_opt_stats stats;
} trained;

/* 4 steps of SGD on m from the same start and batches; the variables after. */
static trained train(const model *m, tfc_opt_level level, int threads) {
    trained t = {NULL, 0, {0}};
    tfc_graph *g = tfc_graph_new();
    tfc_graph_set_seed(g, 5);
    int64_t xd[] = {-1, m->widths[0]}, yd[] = {-1};
    tfc_output x = tfc_placeholder(g, "x", m->dt, 2, xd);
    tfc_output y = tfc_placeholder(g, "y", TFC_INT32, 1, yd);
    tfc_output h = x, first_w = {0};
    for (int l = 0; l < 3; l++) {
        int64_t wd[] = {m->widths[l], m->widths[l + 1]}, td[] = {wd[1], wd[0]};
        int tr = m->transpose_forward && l == 0;
        tfc_output w =
            tfc_variable(g, NULL, tfc_truncated_normal(g, m->dt, 2, tr ? td : wd, 0, 0.2, 0));
        if (l == 0) first_w = w;
        tfc_output b = tfc_variable(g, NULL, tfc_zeros(g, m->dt, 1, &wd[1]));
        h = tfc_bias_add(g, tfc_matmul_ex(g, h, w, 0, tr), b);
        if (l < 2) h = tfc_relu(g, h);
    }
    tfc_output loss =
        tfc_reduce_mean(g, tfc_sparse_softmax_cross_entropy_with_logits(g, y, h), NULL, 0, 0);
    tfc_optimizer *opt = tfc_gradient_descent_optimizer(0.05);
    int ngv = 0;
    tfc_grad_and_var *gv = tfc_optimizer_compute_gradients(opt, g, loss, NULL, 0, &ngv);
    tfc_output first_grad = {0};
    for (int i = 0; i < ngv; i++)
        if (gv[i].var.node == first_w.node) first_grad = gv[i].grad;
    tfc_node *step = tfc_optimizer_apply_gradients(opt, g, gv, ngv, (tfc_output){0});
    free(gv);
    tfc_status *st = tfc_status_new();
    tfc_session *s = det_session_at(g, threads, level, st);
    tfc_test_seed(17);
    int64_t bxd[] = {m->batch, m->widths[0]}, byd[] = {m->batch};
    tfc_output feeds[] = {x, y};
    tfc_output fetches[] = {loss, first_grad};
    int nfetch = m->fetch_gradient ? 2 : 1;
    for (int i = 0; i < 4 && tfc_status_code(st) == TFC_OK; i++) {
        tfc_tensor *vals[] = {tfc_test_random_tensor(m->dt, 2, bxd, -1, 1),
                              tfc_test_random_tensor(TFC_INT32, 1, byd, 0, (double)m->widths[3])};
        tfc_tensor *out[2] = {NULL, NULL};
        tfc_session_run(s, feeds, vals, 2, fetches, nfetch, out, &step, 1, st);
        CHECK_STATUS_OK(st);
        for (int k = 0; k < 2; k++) tfc_tensor_free(out[k]);
        for (int k = 0; k < 2; k++) tfc_tensor_free(vals[k]);
    }
    tfc_plan *p = tfc_session_find_plan(s, feeds, 2, fetches, nfetch, &step, 1);
    CHECK(p != NULL);
    if (p) t.stats = p->stats;
    t.bytes = det_trainable_bytes(g, s, st, &t.n);
    tfc_status_free(st);
    tfc_session_free(s);
    tfc_optimizer_free(opt);
    tfc_graph_free(g);
    return t;
}

/* Trains m fused at 1 and 2 threads and as written; the variables must
 * agree bit for bit, and `fused` products must have been fused. */
static void check_model(const model *m, int fused, const char *what) {
    trained off = train(m, TFC_OPT_L0, 1);
    for (int threads = 1; threads <= 2; threads++) {
        trained on = train(m, TFC_OPT_L1, threads);
        CHECK_MSG(on.stats.fused == fused, "%s, %d thread(s): %d products fused, expected %d", what,
                  threads, on.stats.fused, fused);
        CHECK_MSG(on.n == off.n && on.n > 0 && memcmp(on.bytes, off.bytes, on.n) == 0,
                  "%s, %d thread(s): the variables differ from the unfused run's", what, threads);
        free(on.bytes);
    }
    free(off.bytes);
}

/* The models, each trained fused and not: the fused count expected (the
 * weights' updates, and the forward pass's five: each hidden layer's
 * product into its BiasAdd and that into its Relu, the logits' product
 * into its BiasAdd; src/ops/bias_fused.c). */
static const struct {
    const char *what;
    model m;
    int fused;
} models[] = {
    /* the benchmarks' MLP: the first two weights' gradients go to oneDNN
     * in blocks (784x256 in two), the last (256x10) to the skinny tiles,
     * which the fused kernel computes first */
    {"784-256-256-10", {TFC_FLOAT, {784, 256, 256, 10}, 100, 0, 0}, 8},
    /* products below oneDNN's size: computed first */
    {"12-8-6-3", {TFC_FLOAT, {12, 8, 6, 3}, 5, 0, 0}, 8},
    /* float64: computed first (oneDNN's sgemm is float32) */
    {"float64", {TFC_DOUBLE, {40, 48, 32, 4}, 30, 0, 0}, 8},
    /* x W^T as the first layer: its weight's gradient is dY^T x, still fused */
    {"transposed", {TFC_FLOAT, {96, 64, 48, 5}, 50, 1, 0}, 8},
    /* a batch taller than the layers: the weights' gradients sum 512
     * terms (oneDNN, on the libraries' paths, sums that many in blocks: its
     * update is then not the product scaled and added) */
    {"tall batch", {TFC_FLOAT, {128, 128, 128, 5}, 512, 0, 0}, 8},
    /* a gradient that is also fetched stays a product of its own */
    {"fetched gradient", {TFC_FLOAT, {96, 64, 48, 5}, 50, 0, 1}, 7},
};

/* A forward pass alone, four layers of MatMul, BiasAdd and Relu and
 * nothing else (each layer's two fusions store its inputs twice: under
 * ASan, a plan short of room for them overflows): the same values fused
 * and not, and all eight fused. */
static void test_forward_chain(void) {
    enum { LAYERS = 4, WIDTH = 40, BATCH = 24 };
    tfc_tensor *out[2] = {NULL, NULL};
    int fused[2] = {-1, -1};
    for (int on = 0; on < 2; on++) {
        tfc_graph *g = tfc_graph_new();
        int64_t xd[] = {BATCH, WIDTH}, wd[] = {WIDTH, WIDTH}, bd[] = {WIDTH};
        tfc_output feeds[1 + 2 * LAYERS];
        tfc_tensor *vals[1 + 2 * LAYERS];
        tfc_test_seed(9);
        feeds[0] = tfc_placeholder(g, "x", TFC_FLOAT, 2, xd);
        vals[0] = tfc_test_random_tensor(TFC_FLOAT, 2, xd, -1, 1);
        tfc_output h = feeds[0];
        for (int l = 0; l < LAYERS; l++) {
            feeds[1 + 2 * l] = tfc_placeholder(g, NULL, TFC_FLOAT, 2, wd);
            feeds[2 + 2 * l] = tfc_placeholder(g, NULL, TFC_FLOAT, 1, bd);
            vals[1 + 2 * l] = tfc_test_random_tensor(TFC_FLOAT, 2, wd, -0.3, 0.3);
            vals[2 + 2 * l] = tfc_test_random_tensor(TFC_FLOAT, 1, bd, -0.5, 0.5);
            h = tfc_relu(g, tfc_bias_add(g, tfc_matmul(g, h, feeds[1 + 2 * l]), feeds[2 + 2 * l]));
        }
        CHECK_GRAPH_OK(g);
        tfc_session *s = tfc_test_session_at(g, 1, on ? TFC_OPT_L1 : TFC_OPT_L0);
        tfc_status *st = tfc_status_new();
        tfc_session_run(s, feeds, vals, 1 + 2 * LAYERS, &h, 1, &out[on], NULL, 0, st);
        CHECK_STATUS_OK(st);
        tfc_plan *p = tfc_session_find_plan(s, feeds, 1 + 2 * LAYERS, &h, 1, NULL, 0);
        fused[on] = p ? p->stats.fused : -1;
        for (int i = 0; i < 1 + 2 * LAYERS; i++) tfc_tensor_free(vals[i]);
        tfc_status_free(st);
        tfc_session_free(s);
        tfc_graph_free(g);
    }
    CHECK_MSG(fused[0] == 0 && fused[1] == 2 * LAYERS, "fused %d / %d", fused[0], fused[1]);
    CHECK(out[0] && out[1] &&
          memcmp(tfc_tensor_data(out[0]), tfc_tensor_data(out[1]),
                 sizeof(float) * BATCH * WIDTH) == 0);
    tfc_tensor_free(out[0]);
    tfc_tensor_free(out[1]);
}

static void test_models(void) {
    for (size_t i = 0; i < sizeof models / sizeof *models; i++)
        check_model(&models[i].m, models[i].fused, models[i].what);
    /* the benchmarks' MLP and the tall batch on each tile width and on the
     * libraries' paths (the fused bias and relu in the AVX2 tiles'
     * registers, or on each library block after it; the updates in oneDNN
     * where its sums are the product's) */
    int widths[3], nw = tile_widths_to_try(widths, 1);
    for (int w = 0; w < nw; w++) {
        CHECK(tfc_tile_use_width(widths[w]) == widths[w]);
        int failed = tfc_test_failures;
        check_model(&models[0].m, models[0].fused, models[0].what);
        check_model(&models[4].m, models[4].fused, models[4].what);
        CHECK_MSG(tfc_test_failures == failed, "(with tiles %d columns wide)", widths[w]);
    }
    tfc_tile_use_width(-1);
}

/* x [8, rows] times a weight [rows, cols] summed, minimized by SGD in a
 * session of `threads`: one step (after the initializer when `init`), its
 * status in st; returns its plan's fused count. */
static int one_layer_step(int64_t rows, int64_t cols, int threads, int init, tfc_status *st) {
    tfc_graph *g = tfc_graph_new();
    int64_t xd[] = {8, rows}, wd[] = {rows, cols};
    tfc_output x = tfc_placeholder(g, "x", TFC_FLOAT, 2, xd);
    tfc_output w = tfc_variable(g, "weights", tfc_zeros(g, TFC_FLOAT, 2, wd));
    tfc_output loss = tfc_reduce_sum(g, tfc_matmul(g, x, w), NULL, 0, 0);
    tfc_optimizer *opt = tfc_gradient_descent_optimizer(0.1);
    tfc_node *step = tfc_optimizer_minimize(opt, g, loss, NULL, 0, (tfc_output){0});
    tfc_node *initializer = tfc_global_variables_initializer(g);
    CHECK_GRAPH_OK(g);
    tfc_session *s = tfc_test_session_at(g, threads, TFC_OPT_L1);
    tfc_tensor *xv = tfc_test_random_tensor(TFC_FLOAT, 2, xd, -1, 1);
    if (init) tfc_session_run(s, NULL, NULL, 0, NULL, 0, NULL, &initializer, 1, st);
    tfc_session_run(s, &x, &xv, 1, NULL, 0, NULL, &step, 1, st);
    tfc_plan *p = tfc_session_find_plan(s, &x, 1, NULL, 0, &step, 1);
    int fused = p ? p->stats.fused : -1;
    tfc_tensor_free(xv);
    tfc_session_free(s);
    tfc_optimizer_free(opt);
    tfc_graph_free(g);
    return fused;
}

/* Empty weights (64x0, 0x0): nothing to update, no crash. */
static void test_empty_weight(void) {
    static const int64_t shapes[][2] = {{64, 0}, {0, 0}};
    for (int k = 0; k < 2; k++)
        for (int threads = 1; threads <= 2; threads++) {
            tfc_status *st = tfc_status_new();
            CHECK(one_layer_step(shapes[k][0], shapes[k][1], threads, 1, st) == 1);
            CHECK_STATUS_OK(st);
            tfc_status_free(st);
        }
}

/* Running the update before the variables are initialized: the error
 * ApplyGradientDescent gives, naming the variable. */
static void test_uninitialized_variable(void) {
    tfc_status *st = tfc_status_new();
    CHECK(one_layer_step(64, 48, 2, 0, st) == 1);
    CHECK(tfc_status_code(st) == TFC_FAILED_PRECONDITION);
    CHECK_CONTAINS(tfc_status_message(st), "Attempting to use uninitialized value weights");
    tfc_status_free(st);
}

TFC_TEST_MAIN(T(test_models), T(test_forward_chain), T(test_empty_weight),
              T(test_uninitialized_variable))
