/* Where a training step's time goes, node by node (issue 21's goal 2):
 *     bench_trace [softmax|mlp|cnn|lstm] [THREADS] [STEPS]
 * Trains bench_models.h's workload on a fixed batch in one session of
 * THREADS threads (default 2), warms it up, then traces STEPS steps
 * (default 61, at most 101; RunOptions FULL_TRACE) and prints the step
 * time's minimum, median and maximum, then each node that took 1 us or
 * more in the median step, in the order it started, with its median
 * duration over all the traced steps and the thread that ran it there
 * ("A" is the caller's). A parallel_for chunk another thread ran for a
 * node counts in that node's time, not as a row of its own.
 * TFC_TRACE_OWN=1: every node of the median step with its own duration
 * there; TFC_TRACE_LEAST=1: the least step rather than the median one (the
 * step the host's other work disturbed least); TFC_TRACE_FRESH=1: the
 * images rewritten before each step, as a batch drawn on the caller's core
 * would be. */
#include "bench_models.h"
#include "tfc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { MAX_STEPS = 101, WARMUP = 300 };

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* A batch of images in [0, 1), or labels or tokens in [0, classes), from a
 * fixed seed. */
static void fill_classes(tfc_tensor *t, uint64_t seed, uint64_t classes) {
    int64_t n = tfc_tensor_num_elements(t);
    for (int64_t i = 0; i < n; i++) {
        seed = seed * 6364136223846793005ull + 1;
        if (tfc_tensor_dtype(t) == TFC_FLOAT)
            ((float *)tfc_tensor_data(t))[i] = (float)(seed >> 40) / 16777216.0f;
        else
            ((int32_t *)tfc_tensor_data(t))[i] = (int32_t)((seed >> 33) % classes);
    }
}

static void fill(tfc_tensor *t, uint64_t seed) { fill_classes(t, seed, 10); }

static double step_us(const tfc_run_metadata *md) {
    double end = 0;
    for (int k = 0; k < tfc_run_metadata_num_nodes(md); k++)
        if (tfc_run_metadata_node_end_us(md, k) > end) end = tfc_run_metadata_node_end_us(md, k);
    return end;
}

/* The median over the traced steps of node `name`'s duration. */
static double median_duration(tfc_run_metadata *const *mds, int n, const char *name) {
    double d[MAX_STEPS];
    int nd = 0;
    for (int i = 0; i < n; i++)
        for (int k = 0; k < tfc_run_metadata_num_nodes(mds[i]); k++)
            if (!strcmp(tfc_run_metadata_node_name(mds[i], k), name)) {
                d[nd++] = tfc_run_metadata_node_end_us(mds[i], k) -
                          tfc_run_metadata_node_start_us(mds[i], k);
                break;
            }
    if (!nd) return 0;
    qsort(d, (size_t)nd, sizeof *d, cmp_double);
    return d[nd / 2];
}

int main(int argc, char **argv) {
    const char *work = argc > 1 ? argv[1] : "mlp";
    int threads = argc > 2 ? atoi(argv[2]) : 2, steps = argc > 3 ? atoi(argv[3]) : 61;
    if (threads < 1 || steps < 1 || steps > MAX_STEPS) {
        fprintf(stderr, "usage: bench_trace [softmax|mlp|cnn|lstm] [THREADS] [STEPS <= %d]\n",
                MAX_STEPS);
        return 2;
    }
    int64_t batch = strcmp(work, "cnn") == 0 ? 50 : 100, xd[] = {batch, 784}, yd[] = {batch};
    tfc_graph *g = tfc_graph_new();
    tfc_graph_set_seed(g, 1);
    tfc_output feeds[2];
    tfc_tensor *values[2];
    tfc_optimizer *opt = NULL;
    tfc_rnn_cell *cell = NULL;
    tfc_node *train;
    int lstm = strcmp(work, "lstm") == 0;
    if (lstm) { /* bench_scaling's LSTM language model: 20 x 20 tokens of 10,000 */
        bench_lstm m;
        int64_t d[] = {20, 20};
        if (bench_lstm_lm(g, 20, 20, 10000, 200, 200, 2, 0, &m)) {
            fprintf(stderr, "%s\n", tfc_graph_error(g));
            return 1;
        }
        feeds[0] = m.ids, feeds[1] = m.targets, train = m.train, opt = m.opt, cell = m.cell;
        for (int i = 0; i < 2; i++)
            fill_classes(values[i] = tfc_tensor_new(TFC_INT32, 2, d), 7 + (uint64_t)i, 10000);
    } else {
        /* TFC_TRACE_ANY_BATCH=1: placeholders of unknown batch size, as bench_train's */
        int64_t any_x[] = {-1, 784}, any_y[] = {-1};
        int any = getenv("TFC_TRACE_ANY_BATCH") != NULL;
        feeds[0] = tfc_placeholder(g, "x", TFC_FLOAT, 2, any ? any_x : xd);
        feeds[1] = tfc_placeholder(g, "y", TFC_INT32, 1, any ? any_y : yd);
        tfc_output logits = bench_mnist_model(g, work, feeds[0], &opt);
        if (!opt) {
            fprintf(stderr, "unknown workload %s\n", work);
            return 2;
        }
        tfc_output loss = tfc_reduce_mean(
            g, tfc_sparse_softmax_cross_entropy_with_logits(g, feeds[1], logits), NULL, 0, 0);
        train = tfc_optimizer_minimize(opt, g, loss, NULL, 0, (tfc_output){0});
        values[0] = tfc_tensor_new(TFC_FLOAT, 2, xd);
        values[1] = tfc_tensor_new(TFC_INT32, 1, yd);
        fill(values[0], 3);
        fill(values[1], 5);
    }
    tfc_node *init = tfc_global_variables_initializer(g);
    tfc_status *st = tfc_status_new();
    tfc_session_options o = {.intra_op_threads = threads, .inter_op_threads = threads};
    tfc_session *s = tfc_session_new(g, &o, st);
    tfc_session_run(s, NULL, NULL, 0, NULL, 0, NULL, &init, 1, st);
    int warmup = lstm ? 5 : strcmp(work, "cnn") == 0 ? 20 : WARMUP;
    int fresh = getenv("TFC_TRACE_FRESH") != NULL, own = getenv("TFC_TRACE_OWN") != NULL;
    for (int i = 0; i < warmup && tfc_status_code(st) == TFC_OK; i++) {
        if (fresh && !lstm) fill(values[0], 7 + (uint64_t)i);
        tfc_session_run(s, feeds, values, 2, NULL, 0, NULL, &train, 1, st);
    }
    tfc_run_options ro = {.trace_level = TFC_TRACE_FULL};
    tfc_run_metadata *mds[MAX_STEPS];
    double times[MAX_STEPS], sorted[MAX_STEPS];
    for (int i = 0; i < steps; i++) {
        mds[i] = tfc_run_metadata_new();
        if (fresh && !lstm) fill(values[0], 1000 + (uint64_t)i);
        if (tfc_status_code(st) == TFC_OK)
            tfc_session_run_v2(s, &ro, feeds, values, 2, NULL, 0, NULL, &train, 1, mds[i], st);
        sorted[i] = times[i] = step_us(mds[i]);
    }
    if (tfc_status_code(st) != TFC_OK) {
        fprintf(stderr, "%s\n", tfc_status_message(st));
        return 1;
    }
    qsort(sorted, (size_t)steps, sizeof *sorted, cmp_double);
    const tfc_run_metadata *med = NULL;
    /* TFC_TRACE_LEAST=1: the least step's nodes rather than the median step's */
    double shown = getenv("TFC_TRACE_LEAST") ? sorted[0] : sorted[steps / 2];
    for (int i = 0; i < steps && !med; i++)
        if (times[i] == shown) med = mds[i];
    printf("%s, %d thread%s: step %.0f us at the least, %.0f median, %.0f at the most (%d "
           "steps)\n",
           work, threads, threads == 1 ? "" : "s", sorted[0], sorted[steps / 2],
           sorted[steps - 1], steps);
    printf("%9s %9s  %s %-28s %s\n", "start us", "median us", "thread", "op", "node");
    /* the shown step's nodes in the order they started */
    int n = tfc_run_metadata_num_nodes(med), *order = calloc((size_t)n + 1, sizeof *order);
    if (!order) return 1;
    for (int k = 0; k < n; k++) order[k] = k;
    for (int a = 1; a < n; a++)
        for (int b = a; b > 0 && tfc_run_metadata_node_start_us(med, order[b]) <
                                     tfc_run_metadata_node_start_us(med, order[b - 1]);
             b--) {
            int t = order[b];
            order[b] = order[b - 1];
            order[b - 1] = t;
        }
    int64_t caller = n ? tfc_run_metadata_node_thread(med, order[0]) : 0;
    for (int i = 0; i < n; i++) {
        int k = order[i];
        double d = median_duration(mds, steps, tfc_run_metadata_node_name(med, k));
        if (own) /* the shown step's own durations, every node */
            d = tfc_run_metadata_node_end_us(med, k) - tfc_run_metadata_node_start_us(med, k);
        else if (d < 1.0)
            continue;
        printf("%9.1f %9.1f  %-6s %-28s %s\n", tfc_run_metadata_node_start_us(med, k), d,
               tfc_run_metadata_node_thread(med, k) == caller ? "A" : "B",
               tfc_run_metadata_node_op(med, k), tfc_run_metadata_node_name(med, k));
    }
    free(order);
    for (int i = 0; i < steps; i++) tfc_run_metadata_free(mds[i]);
    tfc_tensor_free(values[0]);
    tfc_tensor_free(values[1]);
    tfc_session_free(s);
    tfc_optimizer_free(opt);
    tfc_rnn_cell_free(cell);
    tfc_graph_free(g);
    tfc_status_free(st);
    return 0;
}
