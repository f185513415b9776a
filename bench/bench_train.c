/* Training throughput, one workload per process so its peak resident
 * memory is its own:
 *     bench_train WORKLOAD THREADS
 * WORKLOAD on Fashion-MNIST: softmax (784->10, batch 100, SGD), mlp
 * (784-256-256-10 ReLU, batch 100, SGD), cnn (Deep-MNIST CNN, batch 50,
 * Adam); on a synthetic token stream: lstm (the "small" PTB language model
 * of TensorFlow's RNN tutorial, see run_lstm). Prints rows
 * "name<TAB>threads<TAB>value<TAB>-<TAB>unit" for bench/run.sh. THREADS sets both
 * thread counts; TFC_INTER=n in the environment overrides the inter-op one. */
#include "bench_clock.h"
#include "bench_models.h"
#include "tfc.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

/* The LSTM language model: PTB "small" of TensorFlow's RNN tutorial
 * (ptb_word_lm.py): vocabulary 10,000, embedding 200, two BasicLSTMCells of
 * 200 (forget_bias 0.0, as the tutorial), tf.unstack + tfc_static_rnn over
 * 20 steps, softmax over the vocabulary, sparse softmax cross-entropy
 * averaged over batch * steps, SGD at learning rate 1.0, all weights
 * uniform in [-0.1, 0.1) except the cells' (Glorot uniform). The state is
 * carried from step to step (truncated BPTT). No gradient clipping: tfc has
 * no clip_by_global_norm yet (the tutorial clips at 5), and the PyTorch peer
 * skips it too. PTB is not here, so the text is a Zipf(1) token stream from
 * a fixed seed (bench/peer_torch_train.py makes the same one). An example is
 * one sequence of 20 tokens: examples/s = LSTM_BATCH * steps/s. */
enum {
    LSTM_VOCAB = 10000,
    LSTM_UNITS = 200,
    LSTM_STEPS = 20,
    LSTM_BATCH = 20,
    LSTM_LAYERS = 2,
    LSTM_NSTATE = 2 * LSTM_LAYERS,
    LSTM_TOKENS = 100000
};

static uint64_t splitmix64(uint64_t *x) {
    uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Token k (0-based) with probability proportional to 1 / (k + 1). */
static int32_t *zipf_tokens(int n) {
    double *cdf = malloc(LSTM_VOCAB * sizeof *cdf);
    int32_t *tok = malloc((size_t)n * sizeof *tok);
    if (!cdf || !tok) {
        free(cdf);
        free(tok);
        return NULL;
    }
    double z = 0;
    for (int k = 0; k < LSTM_VOCAB; k++) cdf[k] = z += 1.0 / (k + 1);
    uint64_t seed = 1;
    for (int i = 0; i < n; i++) {
        double u = (double)(splitmix64(&seed) >> 11) / 9007199254740992.0 * z;
        int lo = 0, hi = LSTM_VOCAB - 1;
        while (lo < hi) {
            int mid = (lo + hi) / 2;
            if (cdf[mid] > u)
                hi = mid;
            else
                lo = mid + 1;
        }
        tok[i] = lo;
    }
    free(cdf);
    return tok;
}

static int run_lstm(int threads, int inter, tfc_status *st) {
    int32_t *text = zipf_tokens(LSTM_TOKENS);
    if (!text) return 1;
    tfc_graph *g = tfc_graph_new();
    tfc_graph_set_seed(g, 1);
    int64_t idims[] = {LSTM_BATCH, LSTM_STEPS}, sdims[] = {LSTM_BATCH, LSTM_UNITS};
    bench_lstm m;
    int built = bench_lstm_lm(g, LSTM_BATCH, LSTM_STEPS, LSTM_VOCAB, LSTM_UNITS, LSTM_UNITS,
                              LSTM_LAYERS, 1, &m);
    tfc_optimizer *opt = m.opt;
    tfc_rnn_cell *cell = m.cell;
    tfc_output ids = m.ids, targets = m.targets, loss = m.loss, *state = m.state,
               *final = m.final;
    tfc_node *train = m.train;
    tfc_node *init = tfc_global_variables_initializer(g);
    if (built || tfc_graph_error(g)) {
        fprintf(stderr, "%s\n", tfc_graph_error(g) ? tfc_graph_error(g) : "lstm: sizes");
        return 1;
    }
    tfc_session_options o = {.intra_op_threads = threads, .inter_op_threads = inter};
    tfc_session *s = tfc_session_new(g, &o, st);
    tfc_session_run(s, NULL, NULL, 0, NULL, 0, NULL, &init, 1, st);

    enum { NFEED = 2 + LSTM_NSTATE, NFETCH = 1 + LSTM_NSTATE };
    tfc_output feeds[NFEED] = {ids, targets}, fetches[NFETCH] = {loss};
    tfc_tensor *vals[NFEED];
    vals[0] = tfc_tensor_new(TFC_INT32, 2, idims);
    vals[1] = tfc_tensor_new(TFC_INT32, 2, idims);
    for (int i = 0; i < LSTM_NSTATE; i++) {
        feeds[2 + i] = state[i];
        fetches[1 + i] = final[i];
        vals[2 + i] = tfc_tensor_new(TFC_FLOAT, 2, sdims);
        memset(tfc_tensor_data(vals[2 + i]), 0, tfc_tensor_nbytes(vals[2 + i]));
    }
    /* the stream cut into LSTM_BATCH rows, as the tutorial's ptb_producer */
    int row_len = LSTM_TOKENS / LSTM_BATCH, per_epoch = (row_len - 1) / LSTM_STEPS;
    int steps = 60, warmup = steps / 10 + 1;
    double t0 = 0, c0 = 0, first = 0, last = 0;
    for (int i = 0; i < warmup + steps && tfc_status_code(st) == TFC_OK; i++) {
        if (i == warmup) {
            t0 = now_s();
            c0 = cpu_s();
        }
        int at = (i % per_epoch) * LSTM_STEPS;
        int32_t *in = tfc_tensor_data(vals[0]), *tg = tfc_tensor_data(vals[1]);
        for (int b = 0; b < LSTM_BATCH; b++)
            for (int t = 0; t < LSTM_STEPS; t++) {
                in[b * LSTM_STEPS + t] = text[b * row_len + at + t];
                tg[b * LSTM_STEPS + t] = text[b * row_len + at + t + 1];
            }
        tfc_tensor *got[NFETCH] = {NULL};
        tfc_session_run(s, feeds, vals, NFEED, fetches, NFETCH, got, &train, 1, st);
        if (!got[0]) break;
        last = *(const float *)tfc_tensor_data(got[0]);
        if (i == 0) first = last;
        tfc_tensor_free(got[0]);
        for (int k = 0; k < LSTM_NSTATE; k++) {
            tfc_tensor_free(vals[2 + k]);
            vals[2 + k] = got[1 + k];
        }
    }
    double dt = now_s() - t0, dc = cpu_s() - c0;
    int rc = tfc_status_code(st) == TFC_OK ? 0 : 1;
    if (rc) {
        fprintf(stderr, "%s\n", tfc_status_message(st));
    } else {
        struct rusage ru;
        getrusage(RUSAGE_SELF, &ru);
        /* the loss, to check that it trains (ln 10000 = 9.21 at the start) */
        fprintf(stderr, "lstm: loss %.3f -> %.3f\n", first, last);
        fprintf(stderr, "lstm: %.1f examples per CPU-second (%d threads)\n",
                steps * LSTM_BATCH / dc, threads);
        printf("train_lstm\t%d\t%.1f\t-\texamples/s\n", threads, steps * LSTM_BATCH / dt);
        printf("peak_rss_lstm\t%d\t%.1f\t-\tMiB\n", threads, ru.ru_maxrss / 1024.0);
    }
    for (int i = 0; i < NFEED; i++) tfc_tensor_free(vals[i]);
    tfc_session_free(s);
    tfc_optimizer_free(opt);
    tfc_rnn_cell_free(cell);
    tfc_graph_free(g);
    free(text);
    return rc;
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: bench_train softmax|mlp|cnn|lstm THREADS\n");
        return 2;
    }
    const char *work = argv[1];
    int threads = atoi(argv[2]);
    int inter = getenv("TFC_INTER") ? atoi(getenv("TFC_INTER")) : threads;
    tfc_status *st = tfc_status_new();
    if (strcmp(work, "lstm") == 0) {
        int rc = run_lstm(threads, inter, st);
        tfc_status_free(st);
        return rc;
    }
    tfc_mnist *data = tfc_mnist_load(NULL, st);
    if (!data) {
        fprintf(stderr, "%s\n", tfc_status_message(st));
        return 1;
    }
    tfc_graph *g = tfc_graph_new();
    tfc_graph_set_seed(g, 1);
    int64_t xd[] = {-1, 784}, yd[] = {-1};
    tfc_output x = tfc_placeholder(g, "x", TFC_FLOAT, 2, xd);
    tfc_output y = tfc_placeholder(g, "y", TFC_INT32, 1, yd);
    /* the models of bench_models.h; steps (the same in peer_torch_train.py):
     * about a second of work each */
    tfc_optimizer *opt;
    tfc_output logits = bench_mnist_model(g, work, x, &opt);
    if (!opt) {
        fprintf(stderr, "unknown workload %s\n", work);
        return 2;
    }
    int batch = 100, steps = 1000;
    if (strcmp(work, "softmax") == 0) {
        steps = 6000;
    } else if (strcmp(work, "cnn") == 0) {
        batch = 50;
        steps = 40;
    }
    tfc_output loss =
        tfc_reduce_mean(g, tfc_sparse_softmax_cross_entropy_with_logits(g, y, logits), NULL, 0, 0);
    tfc_node *train = tfc_optimizer_minimize(opt, g, loss, NULL, 0, (tfc_output){0});
    tfc_node *init = tfc_global_variables_initializer(g);
    if (tfc_graph_error(g)) {
        fprintf(stderr, "%s\n", tfc_graph_error(g));
        return 1;
    }
    tfc_session_options o = {.intra_op_threads = threads, .inter_op_threads = inter};
    tfc_session *s = tfc_session_new(g, &o, st);
    tfc_session_run(s, NULL, NULL, 0, NULL, 0, NULL, &init, 1, st);
    tfc_output feeds[] = {x, y};
    double t0 = 0, c0 = 0, draw_s = 0;
    int warmup = steps / 10 + 1;
    for (int i = 0; i < warmup + steps; i++) {
        if (i == warmup) {
            t0 = now_s();
            c0 = cpu_s();
        }
        tfc_tensor *bx, *by;
        double draw0 = now_s(); /* the batch draw's share of a step (stderr) */
        tfc_dataset_next_batch(data->train, batch, &bx, &by, st);
        if (i >= warmup) draw_s += now_s() - draw0;
        tfc_tensor *vals[] = {bx, by};
        tfc_session_run(s, feeds, vals, 2, NULL, 0, NULL, &train, 1, st);
        tfc_tensor_free(bx);
        tfc_tensor_free(by);
        if (tfc_status_code(st) != TFC_OK) {
            fprintf(stderr, "%s\n", tfc_status_message(st));
            return 1;
        }
    }
    double dt = now_s() - t0, dc = cpu_s() - c0;
    fprintf(stderr, "%s: a step %.1f us, its batch draw %.1f us\n", work, dt / steps * 1e6,
            draw_s / steps * 1e6);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    fprintf(stderr, "%s: %.1f examples per CPU-second (%d threads)\n", work, steps * batch / dc,
            threads);
    printf("train_%s\t%d\t%.1f\t-\texamples/s\n", work, threads, steps * batch / dt);
    printf("peak_rss_%s\t%d\t%.1f\t-\tMiB\n", work, threads, ru.ru_maxrss / 1024.0);
    tfc_session_free(s);
    tfc_optimizer_free(opt);
    tfc_graph_free(g);
    tfc_mnist_free(data);
    tfc_status_free(st);
    return 0;
}
