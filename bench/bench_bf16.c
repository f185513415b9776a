/* bfloat16 mixed precision (tfc_session_options.bfloat16_products) against
 * float32 training on Fashion-MNIST:
 *     bench_bf16 [mlp|cnn|all [STEPS [PAIRS [THREADS]]]]
 * trains bench_models.h's MLP (784-256-256-10, SGD, batch 100) or CNN
 * (two 5x5 conv + pool layers, fc 1024, dropout, Adam; batch 50) for STEPS
 * steps (default 600 and 300) from the same seed, once in float32 and once
 * with bf16 products, PAIRS times interleaved (float, bf16, float, ...;
 * default 3), and prints the median training examples per CPU-second and
 * per wall second and the test accuracy of each (sessions of THREADS
 * threads, default 1). On a CPU without bf16 instructions (AVX512_BF16,
 * AMX) the option rounds operands into copies and multiplies in float32:
 * expect bf16's accuracy at a little less than float32's speed. */
#include "bench_models.h"
#include "ops/bfloat16_products.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double clock_s(clockid_t id) {
    struct timespec ts;
    clock_gettime(id, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void die(const char *what, const char *why) {
    fprintf(stderr, "bench_bf16: %s: %s\n", what, why ? why : "?");
    exit(1);
}

typedef struct result {
    double ex_cpu, ex_wall, accuracy;
} result;

static double test_accuracy(tfc_session *s, tfc_output x, tfc_output logits, tfc_dataset *test,
                            tfc_status *st) {
    const float *px = tfc_tensor_data(tfc_dataset_images(test));
    const int32_t *py = tfc_tensor_data(tfc_dataset_labels(test));
    int64_t n = tfc_dataset_size(test), right = 0;
    for (int64_t at = 0; at < n; at += 100) {
        int64_t b = n - at < 100 ? n - at : 100, xd[] = {b, 784};
        tfc_tensor *xt = tfc_tensor_from_data(TFC_FLOAT, 2, xd, px + at * 784);
        tfc_tensor *y = tfc_session_run1(s, &x, &xt, 1, logits, st);
        tfc_tensor_free(xt);
        if (!y) die("evaluating", tfc_status_message(st));
        const float *l = tfc_tensor_data(y);
        for (int64_t i = 0; i < b; i++) {
            int best = 0;
            for (int k = 1; k < 10; k++) best = l[i * 10 + k] > l[i * 10 + best] ? k : best;
            right += best == py[at + i];
        }
        tfc_tensor_free(y);
    }
    return (double)right / (double)n;
}

static result train(tfc_mnist *data, const char *work, int bf16, int steps, int threads) {
    tfc_status *st = tfc_status_new();
    tfc_graph *g = tfc_graph_new();
    tfc_graph_set_seed(g, 1);
    int64_t xd[] = {-1, 784}, yd[] = {-1};
    tfc_output x = tfc_placeholder(g, "x", TFC_FLOAT, 2, xd);
    tfc_output labels = tfc_placeholder(g, "labels", TFC_INT32, 1, yd);
    tfc_optimizer *opt = NULL;
    tfc_output logits = bench_mnist_model(g, work, x, &opt);
    tfc_output loss = tfc_reduce_mean(
        g, tfc_sparse_softmax_cross_entropy_with_logits(g, labels, logits), NULL, 0, 0);
    tfc_node *train_op = tfc_optimizer_minimize(opt, g, loss, NULL, 0, (tfc_output){0});
    tfc_node *init = tfc_global_variables_initializer(g);
    if (tfc_graph_error(g)) die("building", tfc_graph_error(g));
    tfc_session_options o = {0};
    o.intra_op_threads = o.inter_op_threads = threads;
    o.bfloat16_products = bf16;
    tfc_session *s = tfc_session_new(g, &o, st);
    if (!s) die("session", tfc_status_message(st));
    tfc_session_run(s, NULL, NULL, 0, NULL, 0, NULL, &init, 1, st);
    tfc_dataset_reset(data->train, 1); /* every run sees the same batches */
    int batch = strcmp(work, "cnn") ? 100 : 50;
    double w0 = clock_s(CLOCK_MONOTONIC), c0 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
    for (int i = 0; i < steps && tfc_status_code(st) == TFC_OK; i++) {
        tfc_tensor *bx, *by;
        if (tfc_dataset_next_batch(data->train, batch, &bx, &by, st)) break;
        tfc_output f[] = {x, labels};
        tfc_tensor *v[] = {bx, by};
        tfc_session_run(s, f, v, 2, NULL, 0, NULL, &train_op, 1, st);
        tfc_tensor_free(bx);
        tfc_tensor_free(by);
    }
    if (tfc_status_code(st) != TFC_OK) die("training", tfc_status_message(st));
    double ex = (double)steps * batch;
    result r = {ex / (clock_s(CLOCK_PROCESS_CPUTIME_ID) - c0),
                ex / (clock_s(CLOCK_MONOTONIC) - w0), 0};
    r.accuracy = test_accuracy(s, x, logits, data->test, st);
    tfc_session_free(s);
    tfc_optimizer_free(opt);
    tfc_graph_free(g);
    tfc_status_free(st);
    return r;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n) {
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void bench(tfc_mnist *data, const char *work, int steps, int pairs, int threads) {
    double cpu[2][16], wall[2][16], acc[2] = {0, 0};
    for (int p = 0; p < pairs; p++)
        for (int b = 0; b < 2; b++) {
            result r = train(data, work, b, steps, threads);
            cpu[b][p] = r.ex_cpu;
            wall[b][p] = r.ex_wall;
            acc[b] = r.accuracy; /* the same every pair: one seed, one batch order */
            fprintf(stderr, "%s %s pair %d: %.0f ex/cpu-s, accuracy %.4f\n", work,
                    b ? "bf16" : "float32", p, r.ex_cpu, r.accuracy);
        }
    double c[2] = {median(cpu[0], pairs), median(cpu[1], pairs)};
    double w[2] = {median(wall[0], pairs), median(wall[1], pairs)};
    printf("%s: %d steps, %d thread(s), medians of %d interleaved pairs\n", work, steps, threads,
           pairs);
    printf("  %-24s %10s %10s %8s\n", "", "float32", "bf16", "ratio");
    printf("  %-24s %10.4f %10.4f %+7.2f pt\n", "test accuracy", acc[0], acc[1],
           100 * (acc[1] - acc[0]));
    printf("  %-24s %10.0f %10.0f %7.2fx\n", "train ex/cpu-s", c[0], c[1], c[1] / c[0]);
    printf("  %-24s %10.0f %10.0f %7.2fx\n", "train ex/s (wall)", w[0], w[1], w[1] / w[0]);
    fflush(stdout);
}

int main(int argc, char **argv) {
    const char *which = argc > 1 ? argv[1] : "all";
    int steps = argc > 2 ? atoi(argv[2]) : 0;
    int pairs = argc > 3 ? atoi(argv[3]) : 3;
    int threads = argc > 4 ? atoi(argv[4]) : 1;
    if (pairs < 1) pairs = 1;
    if (pairs > 16) pairs = 16;
    if (threads < 1) threads = 1;
    tfc_status *st = tfc_status_new();
    tfc_mnist *data = tfc_mnist_load(NULL, st);
    if (!data) die("data", tfc_status_message(st));
    printf("oneDNN bf16 kernels on this CPU: %s\n",
           tfc_bf16_native() ? "yes (MatMul runs in them)"
                             : "no (operands rounded to bf16, float32 kernels)");
    if (strcmp(which, "cnn")) bench(data, "mlp", steps > 0 ? steps : 600, pairs, threads);
    if (strcmp(which, "mlp")) bench(data, "cnn", steps > 0 ? steps : 300, pairs, threads);
    tfc_mnist_free(data);
    tfc_status_free(st);
    return 0;
}
