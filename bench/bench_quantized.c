/* Post-training 8-bit quantization (tfc_graph_quantize) against float, on
 * Fashion-MNIST:
 *     bench_quantized [mlp|cnn|all [THREADS [TRAIN_STEPS]]]
 * trains the MLP (784-256-256-10 ReLU, SGD, batch 100) or the CNN
 * (conv 5x5x32 + pool, conv 5x5x64 + pool, fc 1024, 10; Adam, batch 50) a
 * short while, freezes it (tfc_graph_to_frozen_graphdef), quantizes the
 * frozen graph calibrated on 1,000 training images, and prints for both:
 * test accuracy, the saved GraphDef's size, and inference examples/s at
 * batch 1 and 100 (wall clock, and per CPU-second, which a loaded machine
 * distorts less), in sessions of THREADS intra- and inter-op threads
 * (default 1). The goals (issue 20): accuracy drop <= 1 point, size >= 3.5x
 * smaller, examples/s >= 1.5x float. */
#include "bench_clock.h"
#include "tfc.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void die(const char *what, const char *why) {
    fprintf(stderr, "bench_quantized: %s: %s\n", what, why ? why : "?");
    exit(1);
}

static tfc_output dense(tfc_graph *g, tfc_output x, int64_t in, int64_t out, int relu) {
    int64_t wd[] = {in, out};
    tfc_output w =
        tfc_variable(g, NULL, tfc_truncated_normal(g, TFC_FLOAT, 2, wd, 0, sqrt(2.0 / in), 0));
    tfc_output b = tfc_variable(g, NULL, tfc_zeros(g, TFC_FLOAT, 1, &out));
    tfc_output y = tfc_bias_add(g, tfc_matmul(g, x, w), b);
    return relu ? tfc_relu(g, y) : y;
}

static tfc_output conv_pool(tfc_graph *g, tfc_output x, int64_t in_c, int64_t out_c) {
    static const int one[] = {1, 1, 1, 1}, two[] = {1, 2, 2, 1};
    int64_t wd[] = {5, 5, in_c, out_c};
    tfc_output w = tfc_variable(g, NULL, tfc_truncated_normal(g, TFC_FLOAT, 4, wd, 0, 0.1, 0));
    tfc_output b = tfc_variable(g, NULL, tfc_zeros(g, TFC_FLOAT, 1, &out_c));
    tfc_output h = tfc_relu(g, tfc_bias_add(g, tfc_conv2d(g, x, w, one, "SAME"), b));
    return tfc_max_pool(g, h, two, two, "SAME");
}

/* Trains the model and returns its frozen GraphDef; *out gets the logits'
 * node name. */
static uint8_t *train_frozen(int cnn, int steps, size_t *len, char *out, size_t cap) {
    tfc_status *st = tfc_status_new();
    tfc_mnist *data = tfc_mnist_load(NULL, st);
    if (!data) die("data", tfc_status_message(st));
    tfc_graph *g = tfc_graph_new();
    tfc_graph_set_seed(g, 1);
    int64_t xd[] = {-1, 784}, yd[] = {-1}, image[] = {-1, 28, 28, 1}, flat[] = {-1, 3136};
    tfc_output x = tfc_placeholder(g, "x", TFC_FLOAT, 2, xd);
    tfc_output labels = tfc_placeholder(g, "labels", TFC_INT32, 1, yd);
    tfc_output logits;
    if (cnn) {
        tfc_output h = conv_pool(g, tfc_reshape(g, x, 4, image), 1, 32);
        h = tfc_reshape(g, conv_pool(g, h, 32, 64), 2, flat);
        logits = dense(g, dense(g, h, 3136, 1024, 1), 1024, 10, 0);
    } else {
        logits = dense(g, dense(g, dense(g, x, 784, 256, 1), 256, 256, 1), 256, 10, 0);
    }
    logits = tfc_identity(g, logits);
    snprintf(out, cap, "%s", tfc_node_name(logits.node));
    tfc_output loss = tfc_reduce_mean(
        g, tfc_sparse_softmax_cross_entropy_with_logits(g, labels, logits), NULL, 0, 0);
    tfc_optimizer *opt =
        cnn ? tfc_adam_optimizer(1e-3, 0.9, 0.999, 1e-8) : tfc_gradient_descent_optimizer(0.1);
    tfc_node *train = tfc_optimizer_minimize(opt, g, loss, NULL, 0, (tfc_output){0});
    tfc_node *init = tfc_global_variables_initializer(g);
    if (tfc_graph_error(g)) die("building", tfc_graph_error(g));
    tfc_session *s = tfc_session_new(g, NULL, st);
    tfc_session_run(s, NULL, NULL, 0, NULL, 0, NULL, &init, 1, st);
    int batch = cnn ? 50 : 100;
    double t0 = now_s();
    for (int i = 0; i < steps && tfc_status_code(st) == TFC_OK; i++) {
        tfc_tensor *bx, *by;
        if (tfc_dataset_next_batch(data->train, batch, &bx, &by, st)) break;
        tfc_output f[] = {x, labels};
        tfc_tensor *v[] = {bx, by};
        tfc_session_run(s, f, v, 2, NULL, 0, NULL, &train, 1, st);
        tfc_tensor_free(bx);
        tfc_tensor_free(by);
    }
    if (tfc_status_code(st) != TFC_OK) die("training", tfc_status_message(st));
    fprintf(stderr, "%s: trained %d steps of %d in %.1f s\n", cnn ? "cnn" : "mlp", steps, batch,
            now_s() - t0);
    uint8_t *bytes = NULL;
    const char *name = out;
    if (tfc_graph_to_frozen_graphdef(s, &name, 1, &bytes, len, st))
        die("freezing", tfc_status_message(st));
    tfc_session_free(s);
    tfc_optimizer_free(opt);
    tfc_graph_free(g);
    tfc_mnist_free(data);
    tfc_status_free(st);
    return bytes;
}

typedef struct model {
    tfc_graph *g;
    tfc_session *s;
    tfc_output x, logits;
} model;

static model open_model(tfc_graph *g, const char *out, int threads) {
    model m = {g, NULL, {0}, {0}};
    tfc_status *st = tfc_status_new();
    if (tfc_graph_output_by_name(g, "x", &m.x, st) ||
        tfc_graph_output_by_name(g, out, &m.logits, st))
        die("outputs", tfc_status_message(st));
    tfc_session_options o = {0};
    o.intra_op_threads = threads;
    o.inter_op_threads = threads;
    m.s = tfc_session_new(g, &o, st);
    if (!m.s) die("session", tfc_status_message(st));
    tfc_status_free(st);
    return m;
}

static tfc_tensor *run(model *m, tfc_tensor *x) {
    tfc_status *st = tfc_status_new();
    tfc_tensor *y = tfc_session_run1(m->s, &m->x, &x, 1, m->logits, st);
    if (!y) die("run", tfc_status_message(st));
    tfc_status_free(st);
    return y;
}

static double accuracy(model *m, tfc_dataset *test) {
    const float *px = tfc_tensor_data(tfc_dataset_images(test));
    const int32_t *py = tfc_tensor_data(tfc_dataset_labels(test));
    int64_t n = tfc_dataset_size(test), right = 0;
    for (int64_t at = 0; at < n; at += 100) {
        int64_t b = n - at < 100 ? n - at : 100, xd[] = {b, 784};
        tfc_tensor *x = tfc_tensor_from_data(TFC_FLOAT, 2, xd, px + at * 784);
        tfc_tensor *y = run(m, x);
        const float *l = tfc_tensor_data(y);
        for (int64_t i = 0; i < b; i++) {
            int best = 0;
            for (int k = 1; k < 10; k++) best = l[i * 10 + k] > l[i * 10 + best] ? k : best;
            right += best == py[at + i];
        }
        tfc_tensor_free(x);
        tfc_tensor_free(y);
    }
    return (double)right / (double)n;
}

/* examples/s at batch `b` over about `seconds`: wall clock and per CPU-second */
static void speed(model *m, tfc_dataset *test, int64_t b, double seconds, double *wall,
                  double *cpu) {
    int64_t xd[] = {b, 784};
    tfc_tensor *x = tfc_tensor_from_data(TFC_FLOAT, 2, xd, tfc_tensor_data(tfc_dataset_images(test)));
    for (int i = 0; i < 5; i++) tfc_tensor_free(run(m, x)); /* warm up */
    int64_t runs = 0;
    double t0 = now_s(), c0 = cpu_s(), t;
    do {
        for (int i = 0; i < 10; i++) tfc_tensor_free(run(m, x));
        runs += 10;
        t = now_s() - t0;
    } while (t < seconds);
    *wall = (double)(runs * b) / t;
    *cpu = (double)(runs * b) / (cpu_s() - c0);
    tfc_tensor_free(x);
}

/* With BENCH_QUANT_PROFILE=B set: wall time per op type (per node when B
 * is negative) over 20 runs at batch |B| (step stats), to see where a
 * model's time goes. */
static void profile(model *m, tfc_dataset *test, const char *name, int64_t batch) {
    int by_node = batch < 0;
    if (batch < 0) batch = -batch;
    enum { MAXT = 64 };
    const char *type[MAXT];
    double us[MAXT];
    int nt = 0;
    int64_t xd[] = {batch, 784};
    tfc_tensor *x = tfc_tensor_from_data(TFC_FLOAT, 2, xd, tfc_tensor_data(tfc_dataset_images(test)));
    tfc_run_options ro = {TFC_TRACE_FULL, 0, 0};
    tfc_run_metadata *md = tfc_run_metadata_new();
    tfc_status *st = tfc_status_new();
    for (int r = 0; r < 22; r++) {
        tfc_tensor *y = NULL;
        tfc_run_metadata_clear(md);
        tfc_session_run_v2(m->s, &ro, &m->x, &x, 1, &m->logits, 1, &y, NULL, 0, md, st);
        if (!y) die("profile", tfc_status_message(st));
        tfc_tensor_free(y);
        for (int i = 0; r >= 2 && i < tfc_run_metadata_num_nodes(md); i++) {
            const char *op = by_node ? tfc_run_metadata_node_name(md, i)
                                     : tfc_run_metadata_node_op(md, i);
            int k = 0;
            while (k < nt && strcmp(type[k], op)) k++;
            if (k == nt && nt < MAXT) {
                type[k] = strdup(op);
                us[nt++] = 0;
            }
            if (k < nt)
                us[k] += tfc_run_metadata_node_end_us(md, i) - tfc_run_metadata_node_start_us(md, i);
        }
    }
    printf("%s: ms per batch of %lld by %s\n", name, (long long)batch, by_node ? "node" : "op type");
    for (int k = 0; k < nt; k++) {
        if (us[k] >= 20 * 20.0 * (double)batch / 100) printf("  %-22s %8.2f\n", type[k], us[k] / 20 / 1000);
        free((void *)type[k]);
    }
    tfc_run_metadata_free(md);
    tfc_status_free(st);
    tfc_tensor_free(x);
}

static void bench(int cnn, int threads, int steps) {
    char out[256];
    size_t flen = 0, qlen = 0;
    uint8_t *frozen = train_frozen(cnn, steps, &flen, out, sizeof out);
    tfc_status *st = tfc_status_new();
    tfc_graph *fg = tfc_graph_new();
    if (tfc_graph_import_graphdef(fg, frozen, flen, NULL, NULL, NULL, 0, st))
        die("import", tfc_status_message(st));
    tfc_mnist *data = tfc_mnist_load(NULL, st);
    if (!data) die("data", tfc_status_message(st));
    /* calibration: 10 batches of 100 training images */
    tfc_tensor *calib[10];
    const float *train_px = tfc_tensor_data(tfc_dataset_images(data->train));
    for (int i = 0; i < 10; i++) {
        int64_t xd[] = {100, 784};
        calib[i] = tfc_tensor_from_data(TFC_FLOAT, 2, xd, train_px + (int64_t)i * 100 * 784);
    }
    tfc_output fx;
    tfc_graph_output_by_name(fg, "x", &fx, st);
    const char *outs[] = {out};
    double t0 = now_s();
    tfc_graph *qg = tfc_graph_quantize(fg, outs, 1, &fx, 1, calib, 10, NULL, st);
    if (!qg) die("quantize", tfc_status_message(st));
    double tq = now_s() - t0;
    uint8_t *qbytes = NULL;
    if (tfc_graph_to_graphdef(qg, &qbytes, &qlen, st)) die("saving", tfc_status_message(st));
    model f = open_model(fg, out, threads), q = open_model(qg, out, threads);
    if (getenv("BENCH_QUANT_PROFILE")) {
        int64_t b = atoi(getenv("BENCH_QUANT_PROFILE"));
        profile(&f, data->test, "float", b ? b : 100);
        profile(&q, data->test, "quantized", b ? b : 100);
    }
    double af = accuracy(&f, data->test), aq = accuracy(&q, data->test);
    double secs = cnn ? 3.0 : 2.0, w[4], c[4];
    speed(&f, data->test, 1, secs, &w[0], &c[0]);
    speed(&q, data->test, 1, secs, &w[1], &c[1]);
    speed(&f, data->test, 100, secs, &w[2], &c[2]);
    speed(&q, data->test, 100, secs, &w[3], &c[3]);
    const char *name = cnn ? "cnn" : "mlp";
    printf("%s (%d threads, quantized in %.2f s)\n", name, threads, tq);
    printf("  %-22s %10s %10s %8s\n", "", "float", "quantized", "ratio");
    printf("  %-22s %10.4f %10.4f %+7.2f pt\n", "test accuracy", af, aq, 100 * (aq - af));
    printf("  %-22s %10zu %10zu %7.2fx\n", "GraphDef bytes", flen, qlen, (double)flen / qlen);
    printf("  %-22s %10.0f %10.0f %7.2fx\n", "batch 1 ex/s (wall)", w[0], w[1], w[1] / w[0]);
    printf("  %-22s %10.0f %10.0f %7.2fx\n", "batch 1 ex/cpu-s", c[0], c[1], c[1] / c[0]);
    printf("  %-22s %10.0f %10.0f %7.2fx\n", "batch 100 ex/s (wall)", w[2], w[3], w[3] / w[2]);
    printf("  %-22s %10.0f %10.0f %7.2fx\n", "batch 100 ex/cpu-s", c[2], c[3], c[3] / c[2]);
    fflush(stdout);
    tfc_session_free(f.s);
    tfc_session_free(q.s);
    for (int i = 0; i < 10; i++) tfc_tensor_free(calib[i]);
    free(frozen);
    free(qbytes);
    tfc_graph_free(fg);
    tfc_graph_free(qg);
    tfc_mnist_free(data);
    tfc_status_free(st);
}

int main(int argc, char **argv) {
    const char *which = argc > 1 ? argv[1] : "all";
    int threads = argc > 2 ? atoi(argv[2]) : 1;
    int steps = argc > 3 ? atoi(argv[3]) : 0;
    if (threads < 1) threads = 1;
    if (strcmp(which, "cnn")) bench(0, threads, steps > 0 ? steps : 1200);
    if (strcmp(which, "mlp")) bench(1, threads, steps > 0 ? steps : 600);
    return 0;
}
