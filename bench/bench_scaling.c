/* Two threads against one, measured in one process (issue 21's goal 2):
 *     bench_scaling [softmax|mlp|cnn|lstm|all] [ROUNDS]
 * Each workload of bench_train (bench_models.h) gets two sessions on one
 * graph, of 1 and of 2 threads, which train in alternating rounds of a few
 * steps (A B B A ...), each round after one step it does not time. A host
 * whose speed drifts from second to second (a
 * shared VM) then moves both sides of a round's ratio alike, where two
 * processes run one after the other can land in different phases. Prints
 * per workload the median examples/s of each side, the median of the
 * rounds' 2-thread / 1-thread ratios with their quartiles, and the share
 * of the FMA limit, measured here with a loop of independent FMAs. */
#include "bench_clock.h"
#include "bench_models.h"
#include "tfc.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

enum { MAX_ROUNDS = 200, LSTM_BATCH = 20, LSTM_STEPS = 20, LSTM_VOCAB = 10000 };

/* One core's float32 multiply-add limit in GFLOP/s: 10 independent chains
 * of 8-lane FMAs (enough to cover the units' latency), by thread CPU time,
 * best of 5. 0 where the CPU has no AVX2 + FMA. */
#if defined(__x86_64__)
__attribute__((target("avx2,fma"))) static double fma_chains(long iters) {
    __m256 a[10], m = _mm256_set1_ps(0.999999f), c = _mm256_set1_ps(1e-7f);
    for (int i = 0; i < 10; i++) a[i] = _mm256_set1_ps((float)i);
    for (long n = 0; n < iters; n++)
        for (int i = 0; i < 10; i++) a[i] = _mm256_fmadd_ps(a[i], m, c);
    float out[8], sum = 0;
    for (int i = 0; i < 10; i++) {
        _mm256_storeu_ps(out, a[i]);
        sum += out[0];
    }
    return sum;
}
#endif

static double fma_limit_gflops(void) {
#if defined(__x86_64__)
    if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma")) return 0;
    const long iters = 20000000;
    double best = 0;
    volatile double sink = 0;
    for (int r = 0; r < 5; r++) {
        double c0 = thread_cpu_s();
        sink += fma_chains(iters);
        double g = iters * 10.0 * 8 * 2 / (thread_cpu_s() - c0) / 1e9;
        if (g > best) best = g;
    }
    (void)sink;
    return best;
#else
    return 0;
#endif
}

/* A workload: a graph, its training step and what one step feeds. */
typedef struct workload {
    const char *name;
    tfc_graph *g;
    tfc_node *train, *init;
    tfc_optimizer *opt;
    tfc_rnn_cell *cell;
    tfc_output feeds[2];
    tfc_tensor *values[2];
    int batch, steps_per_round;
    double mflop_per_example; /* multiply-adds x 2 of one example's step */
} workload;

/* Fills t (float or int32) with values from a fixed seed: images in [0, 1),
 * labels or tokens in [0, classes). */
static void fill(tfc_tensor *t, int classes, uint64_t seed) {
    int64_t n = tfc_tensor_num_elements(t);
    if (tfc_tensor_dtype(t) == TFC_FLOAT) {
        float *p = tfc_tensor_data(t);
        for (int64_t i = 0; i < n; i++)
            p[i] = (float)((seed = seed * 6364136223846793005ull + 1) >> 40) / 16777216.0f;
    } else {
        int32_t *p = tfc_tensor_data(t);
        for (int64_t i = 0; i < n; i++)
            p[i] =
                (int32_t)(((seed = seed * 6364136223846793005ull + 1) >> 33) % (uint64_t)classes);
    }
}

static int build(workload *w, const char *name) {
    memset(w, 0, sizeof *w);
    w->name = name;
    w->g = tfc_graph_new();
    tfc_graph_set_seed(w->g, 1);
    if (strcmp(name, "lstm") == 0) {
        bench_lstm m;
        if (bench_lstm_lm(w->g, LSTM_BATCH, LSTM_STEPS, LSTM_VOCAB, 200, 200, 2, 0, &m)) return -1;
        w->train = m.train;
        w->opt = m.opt;
        w->cell = m.cell;
        w->feeds[0] = m.ids;
        w->feeds[1] = m.targets;
        int64_t d[] = {LSTM_BATCH, LSTM_STEPS};
        for (int i = 0; i < 2; i++)
            fill(w->values[i] = tfc_tensor_new(TFC_INT32, 2, d), LSTM_VOCAB, 7 + i);
        w->batch = LSTM_BATCH;
        w->steps_per_round = 2;
        w->mflop_per_example =
            316.8; /* docs/PERFORMANCE.md: 3 x softmax + 2 layers x 20 steps x 3 cells' products */
    } else {
        int cnn = strcmp(name, "cnn") == 0;
        w->batch = cnn ? 50 : 100;
        int64_t xd[] = {w->batch, 784}, yd[] = {w->batch};
        w->feeds[0] = tfc_placeholder(w->g, "x", TFC_FLOAT, 2, xd);
        w->feeds[1] = tfc_placeholder(w->g, "y", TFC_INT32, 1, yd);
        tfc_output logits = bench_mnist_model(w->g, name, w->feeds[0], &w->opt);
        if (!w->opt) return -1;
        tfc_output loss = tfc_reduce_mean(
            w->g, tfc_sparse_softmax_cross_entropy_with_logits(w->g, w->feeds[1], logits), NULL, 0,
            0);
        w->train = tfc_optimizer_minimize(w->opt, w->g, loss, NULL, 0, (tfc_output){0});
        fill(w->values[0] = tfc_tensor_new(TFC_FLOAT, 2, xd), 0, 3);
        fill(w->values[1] = tfc_tensor_new(TFC_INT32, 1, yd), 10, 5);
        int softmax = strcmp(name, "softmax") == 0;
        w->steps_per_round = cnn ? 2 : softmax ? 500 : 50;
        /* forward, input and weight gradients of each layer, less the
         * first layer's input gradient (its input is a placeholder) */
        double conv1 = 28.0 * 28 * 25 * 32;
        double first = cnn ? conv1 : softmax ? 784.0 * 10 : 784.0 * 256;
        double layers = cnn       ? conv1 + 14.0 * 14 * 25 * 32 * 64 + 3136.0 * 1024 + 1024 * 10
                        : softmax ? 784.0 * 10
                                  : 784.0 * 256 + 256 * 256 + 256 * 10;
        w->mflop_per_example = 2 * (3 * layers - first) / 1e6;
    }
    w->init = tfc_global_variables_initializer(w->g);
    return tfc_graph_error(w->g) ? -1 : 0;
}

static tfc_session *open_session(workload *w, int threads, tfc_status *st) {
    tfc_session_options o = {.intra_op_threads = threads, .inter_op_threads = threads};
    tfc_session *s = tfc_session_new(w->g, &o, st);
    if (s) tfc_session_run(s, NULL, NULL, 0, NULL, 0, NULL, &w->init, 1, st);
    return s;
}

/* examples/s of one round, after one step that is not timed: the other
 * session's round left the caches holding its own variables (the CNN's
 * dense weight and its Adam slots are 38 MB), which a training job that
 * steps one session does not pay for on every other step */
static double round_rate(workload *w, tfc_session *s, tfc_status *st) {
    tfc_session_run(s, w->feeds, w->values, 2, NULL, 0, NULL, &w->train, 1, st);
    double t0 = now_s();
    for (int i = 0; i < w->steps_per_round && tfc_status_code(st) == TFC_OK; i++)
        tfc_session_run(s, w->feeds, w->values, 2, NULL, 0, NULL, &w->train, 1, st);
    return w->steps_per_round * w->batch / (now_s() - t0);
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double quantile(double *v, int n, int num, int den) {
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return v[(n - 1) * num / den];
}

typedef struct result {
    double one, two, ratio[3], mflop_per_example; /* medians; ratio: q1, median, q3 */
} result;

static int run(const char *name, int rounds, result *res, tfc_status *st) {
    workload w;
    if (build(&w, name)) {
        fprintf(stderr, "%s: %s\n", name,
                tfc_graph_error(w.g) ? tfc_graph_error(w.g) : "unknown workload");
        return 1;
    }
    tfc_session *s[2] = {open_session(&w, 1, st), open_session(&w, 2, st)};
    double rate[2][MAX_ROUNDS], ratio[MAX_ROUNDS];
    for (int k = 0; k < 2; k++) round_rate(&w, s[k], st); /* warm: plans, caches, pools */
    for (int r = 0; r < rounds && tfc_status_code(st) == TFC_OK; r++) {
        int first = r % 2; /* A B, then B A */
        rate[first][r] = round_rate(&w, s[first], st);
        rate[!first][r] = round_rate(&w, s[!first], st);
        ratio[r] = rate[1][r] / rate[0][r];
    }
    int rc = tfc_status_code(st) != TFC_OK;
    if (rc) {
        fprintf(stderr, "%s: %s\n", name, tfc_status_message(st));
    } else {
        res->ratio[0] = quantile(ratio, rounds, 1, 4);
        res->ratio[1] = quantile(ratio, rounds, 1, 2);
        res->ratio[2] = quantile(ratio, rounds, 3, 4);
        res->one = quantile(rate[0], rounds, 1, 2);
        res->two = quantile(rate[1], rounds, 1, 2);
        res->mflop_per_example = w.mflop_per_example;
    }
    for (int k = 0; k < 2; k++) tfc_session_free(s[k]);
    for (int i = 0; i < 2; i++) tfc_tensor_free(w.values[i]);
    tfc_optimizer_free(w.opt);
    tfc_rnn_cell_free(w.cell);
    tfc_graph_free(w.g);
    return rc;
}

int main(int argc, char **argv) {
    const char *which = argc > 1 ? argv[1] : "all";
    int rounds = argc > 2 ? atoi(argv[2]) : 20;
    if (rounds < 2 || rounds > MAX_ROUNDS) {
        fprintf(stderr, "usage: bench_scaling [softmax|mlp|cnn|lstm|all] [ROUNDS in 2..%d]\n",
                MAX_ROUNDS);
        return 2;
    }
    /* the host's clock moves: the best of the limit measured before and after each workload */
    double limit = fma_limit_gflops();
    tfc_status *st = tfc_status_new();
    static const char *all[] = {"softmax", "mlp", "cnn", "lstm"};
    result res[4];
    int ran[4] = {0}, rc = 0;
    for (int i = 0; i < 4; i++)
        if (strcmp(which, "all") == 0 || strcmp(which, all[i]) == 0) {
            ran[i] = run(all[i], rounds, &res[i], st) == 0;
            rc |= !ran[i];
            double again = fma_limit_gflops();
            if (again > limit) limit = again;
        }
    printf("one core's FMA limit: %.1f GFLOP/s (10 chains of 8-lane FMAs, thread CPU time, best)\n",
           limit);
    for (int i = 0; i < 4; i++) {
        if (!ran[i]) continue;
        result *r = &res[i];
        printf("%-7s 1 thread %9.1f ex/s   2 threads %9.1f ex/s   2/1: median %.2fx [%.2f-%.2f] "
               "over %d rounds",
               all[i], r->one, r->two, r->ratio[1], r->ratio[0], r->ratio[2], rounds);
        if (limit > 0)
            printf("   FMA limit share: %.0f%% / %.0f%%",
                   100 * r->one * r->mflop_per_example / 1e3 / limit,
                   100 * r->two * r->mflop_per_example / 1e3 / (2 * limit));
        printf("\n");
    }
    tfc_status_free(st);
    return rc;
}
