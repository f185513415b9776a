/* Input pipelines against feeding (issue 15's benchmark; not a test):
 *   1. MLP (784-256-256-10, Adam, batch 100) training examples/s, fed from
 *      memory vs read from TFRecord files (TFRecordReader ->
 *      parse_single_example -> shuffle_batch with 2 reader threads; the
 *      images kept as bytes until batched, TFC_BENCH_QUEUE_FLOATS=1
 *      scales them before the queue), at 1 and 2 threads per session,
 *      and the CPU time per example;
 *   2. small elements (float scalars) through a FIFOQueue: enqueue ->
 *      dequeue throughput between two threads, and the time of one
 *      enqueue + dequeue run pair, against a bare mutex + condition
 *      variable ring buffer.
 *   3. ParseExample alone: CPU time per record.
 *   TFC_BENCH_PIPELINE_ONLY=steps instead runs the two pipelines alone
 *   (batches fetched, nothing trained): the process's CPU per example and
 *   the runner threads' alone (every thread but the one fetching), and
 *   the mode to profile them in (TFC_BENCH_BATCHED=0|1: one of them).
 *   TFC_BENCH_TRAIN=fed|per-record|batched runs one training alone (at
 *   TFC_BENCH_THREADS threads, default 2), to profile (perf sched...).
 *     ./bench_pipeline [tfrecord_dir [data_dir]]   (write the files with
 *     examples/mnist_to_tfrecord first; default /tmp/tfc-mnist-tfrecord) */
#include <tfc.h>

#include <dirent.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { BATCH = 100, HIDDEN = 256, STEPS = 600, WARMUP = 50 };

static double clock_s(clockid_t id) {
    struct timespec t;
    clock_gettime(id, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static double now(void) { return clock_s(CLOCK_MONOTONIC); }

/* CPU time of every thread of the process (spinning included): on a
 * machine shared with other work this varies less than the wall clock */
static double cpu_now(void) { return clock_s(CLOCK_PROCESS_CPUTIME_ID); }

/* CPU time of every thread but the calling one (the queue runners and
 * the session's workers): the kernel's per-thread run time
 * (/proc/self/task/<tid>/schedstat, nanoseconds), less the caller's own.
 * What the pipeline's runners cost apart from the step fetching batches. */
static double other_threads_cpu(void) {
    double sum = 0;
    DIR *d = opendir("/proc/self/task");
    if (!d) return 0;
    for (struct dirent *e; (e = readdir(d));) {
        if (e->d_name[0] == '.') continue;
        char path[300];
        snprintf(path, sizeof path, "/proc/self/task/%s/schedstat", e->d_name);
        FILE *f = fopen(path, "r");
        unsigned long long ns = 0;
        if (f && fscanf(f, "%llu", &ns) == 1) sum += 1e-9 * (double)ns;
        if (f) fclose(f);
    }
    closedir(d);
    return sum - clock_s(CLOCK_THREAD_CPUTIME_ID);
}

static tfc_output dense(tfc_graph *g, tfc_output x, int64_t in, int64_t out, int relu) {
    int64_t wdims[] = {in, out};
    tfc_output w = tfc_variable(
        g, NULL, tfc_truncated_normal(g, TFC_FLOAT, 2, wdims, 0.0, sqrt(2.0 / (double)in), 0));
    tfc_output b = tfc_variable(g, NULL, tfc_zeros(g, TFC_FLOAT, 1, &out));
    tfc_output y = tfc_bias_add(g, tfc_matmul(g, x, w), b);
    return relu ? tfc_relu(g, y) : y;
}

/* the training step on (x, labels) */
static tfc_node *mlp(tfc_graph *g, tfc_output x, tfc_output labels, tfc_optimizer **opt) {
    tfc_output h = dense(g, dense(g, x, 784, HIDDEN, 1), HIDDEN, HIDDEN, 1);
    tfc_output logits = dense(g, h, HIDDEN, 10, 0);
    tfc_output loss = tfc_reduce_mean(
        g, tfc_sparse_softmax_cross_entropy_with_logits(g, labels, logits), NULL, 0, 0);
    *opt = tfc_adam_optimizer(TFC_ADAM_DEFAULTS);
    return tfc_optimizer_minimize(*opt, g, loss, NULL, 0, (tfc_output){NULL, 0});
}

static tfc_session *session(tfc_graph *g, int threads, tfc_status *st) {
    tfc_session_options o = {0};
    o.inter_op_threads = o.intra_op_threads = threads;
    return tfc_session_new(g, &o, st);
}

/* A training session: fed from memory (data set), or from the TFRecord
 * pipeline under `dir` with its runner threads started. */
typedef struct trainer {
    tfc_graph *g;
    tfc_session *s;
    tfc_optimizer *opt;
    tfc_coordinator *coord; /* NULL when fed */
    tfc_mnist *data;        /* the fed one's examples */
    tfc_node *step;
    tfc_output feeds[2], batch[2];
    int train; /* 0: a pipeline's batches are only fetched */
} trainer;

/* TFC_BENCH_QUEUE_FLOATS=1: images cast to float32 and scaled, and
 * labels cast to int32, before the queue, as TensorFlow's
 * fully_connected_reader.py does, rather than after the batch (the
 * default) */
static int queue_floats(void) {
    const char *e = getenv("TFC_BENCH_QUEUE_FLOATS");
    return e && atoi(e);
}

/* the pipeline's graph: TFRecordReader -> parse -> shuffle_batch. batched:
 * read_up_to(BATCH) + parse_example + enqueue_many, so each reader run
 * handles BATCH records instead of one. The queue holds each image's 784
 * bytes and its int64 label, and the batch is cast and scaled (the same
 * expressions, so the same values) in the training step: the fed side's data set likewise
 * keeps bytes and scales the rows it draws, and TensorFlow's input
 * pipeline guide advises mapping after batching. A quarter of the bytes
 * to copy into the queue and out into the batch, whose rows the runner
 * threads wrote on the other core. */
static void pipeline_graph(trainer *t, const char *dir, int batched) {
    tfc_graph *g = t->g;
    char pattern[4096];
    snprintf(pattern, sizeof pattern, "%s/train-*.tfrecord", dir);
    tfc_output names = tfc_string_input_producer(
        g, tfc_matching_files(g, tfc_const_string(g, pattern)), 0, 1, 0, 0);
    tfc_output kv[2], parsed[2];
    tfc_output reader = tfc_tf_record_reader(g, "");
    tfc_parse_feature f[2] = {{"image_raw", TFC_STRING, 0, 0, NULL, {NULL, 0}},
                              {"label", TFC_INT64, 0, 0, NULL, {NULL, 0}}};
    if (batched) {
        tfc_reader_read_up_to(g, reader, names, BATCH, kv);
        tfc_parse_example(g, kv[1], f, 2, parsed);
    } else {
        tfc_reader_read(g, reader, names, kv);
        tfc_parse_single_example(g, kv[1], f, 2, parsed);
    }
    /* DecodeRaw knows no length: set_shape gives it, as TensorFlow's example does */
    int64_t shape[2] = {-1, 784};
    tfc_output image = tfc_decode_raw(g, parsed[0], TFC_UINT8, 1), label = parsed[1];
    tfc_output_set_shape(g, image, batched ? 2 : 1, batched ? shape : shape + 1);
    int floats = queue_floats();
    if (floats) {
        image = tfc_mul(g, tfc_cast(g, image, TFC_FLOAT), tfc_const_float(g, 1.0f / 255.0f));
        label = tfc_cast(g, label, TFC_INT32);
    }
    tfc_output example[2] = {image, label};
    tfc_shuffle_batch(g, example, 2, BATCH, 1000 + 3 * BATCH, 1000, 2, 0, batched, 0, t->batch);
    if (!floats) {
        t->batch[0] =
            tfc_mul(g, tfc_cast(g, t->batch[0], TFC_FLOAT), tfc_const_float(g, 1.0f / 255.0f));
        t->batch[1] = tfc_cast(g, t->batch[1], TFC_INT32);
    }
}

/* dir NULL: fed from data. Exits on a graph error (a bench, not a test). */
static void trainer_open(trainer *t, tfc_mnist *data, const char *dir, int batched, int train,
                         int threads, tfc_status *st) {
    memset(t, 0, sizeof *t);
    t->g = tfc_graph_new();
    t->data = data;
    t->train = train;
    if (dir) {
        pipeline_graph(t, dir, batched);
    } else {
        t->batch[0] = t->feeds[0] =
            tfc_placeholder(t->g, "x", TFC_FLOAT, 2, (int64_t[]){BATCH, 784});
        t->batch[1] = t->feeds[1] = tfc_placeholder(t->g, "y", TFC_INT32, 1, (int64_t[]){BATCH});
    }
    t->step = mlp(t->g, t->batch[0], t->batch[1], &t->opt);
    tfc_node *init[2] = {tfc_global_variables_initializer(t->g),
                         tfc_local_variables_initializer(t->g)};
    if (tfc_graph_error(t->g)) {
        fprintf(stderr, "%s\n", tfc_graph_error(t->g));
        exit(1);
    }
    t->s = session(t->g, threads, st);
    tfc_session_run(t->s, NULL, NULL, 0, NULL, 0, NULL, init, 2, st);
    if (dir) {
        t->coord = tfc_coordinator_new();
        tfc_start_queue_runners(t->s, t->coord, st);
    }
}

/* n training steps (or batches fetched); 0, or -1 with the error printed */
static int trainer_steps(trainer *t, int n, tfc_status *st) {
    for (int i = 0; i < n && tfc_status_code(st) == TFC_OK; i++) {
        if (!t->coord) {
            tfc_tensor *b[2];
            if (tfc_dataset_next_batch(t->data->train, BATCH, &b[0], &b[1], st)) break;
            tfc_session_run(t->s, t->feeds, b, 2, NULL, 0, NULL, &t->step, 1, st);
            tfc_tensor_free(b[0]);
            tfc_tensor_free(b[1]);
        } else if (t->train) {
            tfc_session_run(t->s, NULL, NULL, 0, NULL, 0, NULL, &t->step, 1, st);
        } else {
            tfc_tensor *out[2] = {NULL, NULL};
            tfc_session_run(t->s, NULL, NULL, 0, t->batch, 2, out, NULL, 0, st);
            tfc_tensor_free(out[0]);
            tfc_tensor_free(out[1]);
        }
    }
    if (tfc_status_code(st) == TFC_OK) return 0;
    fprintf(stderr, "%s: %s\n", t->coord ? "pipeline" : "fed", tfc_status_message(st));
    return -1;
}

static void trainer_close(trainer *t, tfc_status *st) {
    if (t->coord) {
        tfc_coordinator_request_stop(t->coord, NULL);
        tfc_coordinator_join(t->coord, 5000, st);
        tfc_session_close(t->s);
        tfc_coordinator_free(t->coord);
    }
    tfc_session_free(t->s);
    tfc_optimizer_free(t->opt);
    tfc_graph_free(t->g);
}

/* examples/s of `steps` steps after WARMUP, the process's CPU time per
 * example and the runner threads' (every thread but the caller's) */
static double timed_run(tfc_mnist *data, const char *dir, int threads, int batched, int train,
                        int steps, double *cpu_us, double *runner_us) {
    tfc_status *st = tfc_status_new();
    trainer t;
    trainer_open(&t, data, dir, batched, train, threads, st);
    trainer_steps(&t, WARMUP, st);
    double t0 = now(), c0 = cpu_now(), r0 = other_threads_cpu();
    trainer_steps(&t, steps, st);
    double rate = steps * BATCH / (now() - t0);
    *cpu_us = (cpu_now() - c0) / (steps * BATCH) * 1e6;
    if (runner_us) *runner_us = (other_threads_cpu() - r0) / (steps * BATCH) * 1e6;
    trainer_close(&t, st);
    tfc_status_free(st);
    return rate;
}

static double fed(tfc_mnist *data, int threads, double *cpu_us) {
    return timed_run(data, NULL, threads, 0, 1, STEPS, cpu_us, NULL);
}

static double pipeline(const char *dir, int threads, int batched, double *cpu_us) {
    return timed_run(NULL, dir, threads, batched, 1, STEPS, cpu_us, NULL);
}

/* ---- the same three, interleaved ---- */

enum { ROUNDS = 12, ROUND_STEPS = 100, ROUND_SKIP = 5 };

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* The fed run and both pipelines open at once, training in rounds of
 * ROUND_STEPS timed steps (after ROUND_SKIP that drain what a pipeline
 * queued while the others ran), in the order fed, per-record, batched and
 * then back. Runs of a minute one after the other land in different
 * phases of a host whose speed drifts; rounds a tenth of a second apart
 * do not, so the median of the rounds' ratios is the steadier figure. */
static void interleaved(tfc_mnist *data, const char *dir, int threads, double ratio[2][3]) {
    tfc_status *st = tfc_status_new();
    trainer t[3];
    trainer_open(&t[0], data, NULL, 0, 1, threads, st);
    for (int k = 1; k < 3; k++) trainer_open(&t[k], NULL, dir, k == 2, 1, threads, st);
    double r[2][ROUNDS];
    for (int k = 0; k < 3; k++) trainer_steps(&t[k], WARMUP, st);
    for (int i = 0; i < ROUNDS && tfc_status_code(st) == TFC_OK; i++) {
        double rate[3];
        for (int j = 0; j < 3; j++) {
            int k = i % 2 ? 2 - j : j;
            trainer_steps(&t[k], ROUND_SKIP, st);
            double t0 = now();
            trainer_steps(&t[k], ROUND_STEPS, st);
            rate[k] = ROUND_STEPS * BATCH / (now() - t0);
        }
        r[0][i] = rate[1] / rate[0];
        r[1][i] = rate[2] / rate[0];
    }
    for (int k = 0; k < 2; k++) {
        qsort(r[k], ROUNDS, sizeof r[k][0], cmp_double);
        ratio[k][0] = r[k][ROUNDS / 4];
        ratio[k][1] = r[k][ROUNDS / 2];
        ratio[k][2] = r[k][3 * ROUNDS / 4];
    }
    for (int k = 0; k < 3; k++) trainer_close(&t[k], st);
    tfc_status_free(st);
}

/* ---- ParseExample alone ---- */

enum { PARSE_RECORDS = 100, PARSE_RUNS = 300 };

/* CPU microseconds per record of one thread running ParseExample on 100
 * MNIST-like records (784 bytes "image_raw", int64 "label"), the median of
 * 5 timings of PARSE_RUNS runs: the thread's CPU time, so other work on the
 * machine counts little */
static double parse_us_per_record(void) {
    tfc_string recs[PARSE_RECORDS];
    uint8_t *bufs[PARSE_RECORDS];
    uint8_t pixels[784];
    for (int i = 0; i < PARSE_RECORDS; i++) {
        for (int k = 0; k < 784; k++) pixels[k] = (uint8_t)(i * 7 + k);
        tfc_example *ex = tfc_example_new();
        const void *pv = pixels;
        size_t pn = sizeof pixels;
        int64_t label = i % 10;
        tfc_example_add_bytes(ex, "image_raw", &pv, &pn, 1);
        tfc_example_add_int64s(ex, "label", &label, 1);
        size_t len = 0;
        bufs[i] = tfc_example_serialize(ex, &len);
        recs[i] = (tfc_string){(const char *)bufs[i], len};
        tfc_example_free(ex);
    }
    tfc_status *st = tfc_status_new();
    tfc_graph *g = tfc_graph_new();
    int64_t n = PARSE_RECORDS;
    tfc_tensor *rt = tfc_tensor_from_data(TFC_STRING, 1, &n, recs);
    tfc_output ser = tfc_placeholder(g, "ser", TFC_STRING, 1, &n), parsed[2];
    tfc_parse_feature f[2] = {{"image_raw", TFC_STRING, 0, 0, NULL, {NULL, 0}},
                              {"label", TFC_INT64, 0, 0, NULL, {NULL, 0}}};
    tfc_parse_example(g, ser, f, 2, parsed);
    tfc_session *s = session(g, 1, st);
    double t[5];
    for (int r = 0; r < 5; r++) {
        double c0 = clock_s(CLOCK_THREAD_CPUTIME_ID);
        for (int i = 0; i < PARSE_RUNS; i++) {
            tfc_tensor *out[2] = {NULL, NULL};
            tfc_session_run(s, &ser, &rt, 1, parsed, 2, out, NULL, 0, st);
            tfc_tensor_free(out[0]);
            tfc_tensor_free(out[1]);
        }
        t[r] = (clock_s(CLOCK_THREAD_CPUTIME_ID) - c0) / (PARSE_RUNS * PARSE_RECORDS) * 1e6;
    }
    if (tfc_status_code(st) != TFC_OK) fprintf(stderr, "parse: %s\n", tfc_status_message(st));
    for (int a = 0; a < 5; a++) /* sort for the median */
        for (int b = a + 1; b < 5; b++)
            if (t[b] < t[a]) {
                double x = t[a];
                t[a] = t[b];
                t[b] = x;
            }
    tfc_session_free(s);
    tfc_tensor_free(rt);
    tfc_graph_free(g);
    tfc_status_free(st);
    for (int i = 0; i < PARSE_RECORDS; i++) free(bufs[i]);
    return t[2];
}

/* ---- small elements ---- */

enum { ITEMS = 100000, RING = 1000 };

typedef struct qgraph {
    tfc_graph *g;
    tfc_output x, one;
    tfc_node *enq;
    tfc_session *s;
} qgraph;

static void *producer(void *arg) {
    qgraph *q = arg;
    tfc_status *st = tfc_status_new();
    tfc_tensor *v = tfc_tensor_scalar_float(1);
    for (int i = 0; i < ITEMS; i++)
        tfc_session_run(q->s, &q->x, &v, 1, NULL, 0, NULL, &q->enq, 1, st);
    tfc_tensor_free(v);
    tfc_status_free(st);
    return NULL;
}

static void queue_bench(int threads, double *per_s, double *pair_us) {
    qgraph q;
    tfc_status *st = tfc_status_new();
    q.g = tfc_graph_new();
    tfc_dtype dt = TFC_FLOAT;
    tfc_shape sc = {0, {0}};
    tfc_output h = tfc_fifo_queue(q.g, RING, &dt, 1, &sc, NULL);
    q.x = tfc_placeholder(q.g, "x", TFC_FLOAT, 0, NULL);
    q.enq = tfc_queue_enqueue(q.g, h, &q.x, 1);
    tfc_queue_dequeue(q.g, h, &q.one, 1);
    q.s = session(q.g, threads, st);
    pthread_t th;
    double t0 = now();
    pthread_create(&th, NULL, producer, &q);
    for (int i = 0; i < ITEMS; i++) {
        tfc_tensor *o = NULL;
        tfc_session_run(q.s, NULL, NULL, 0, &q.one, 1, &o, NULL, 0, st);
        tfc_tensor_free(o);
    }
    pthread_join(th, NULL);
    *per_s = ITEMS / (now() - t0);
    /* one thread: an enqueue run then a dequeue run */
    tfc_tensor *v = tfc_tensor_scalar_float(2);
    t0 = now();
    for (int i = 0; i < ITEMS / 10; i++) {
        tfc_tensor *o = NULL;
        tfc_session_run(q.s, &q.x, &v, 1, NULL, 0, NULL, &q.enq, 1, st);
        tfc_session_run(q.s, NULL, NULL, 0, &q.one, 1, &o, NULL, 0, st);
        tfc_tensor_free(o);
    }
    *pair_us = (now() - t0) / (ITEMS / 10) * 1e6;
    tfc_tensor_free(v);
    tfc_session_free(q.s);
    tfc_graph_free(q.g);
    tfc_status_free(st);
}

typedef struct ring {
    pthread_mutex_t lock;
    pthread_cond_t not_empty, not_full;
    float v[RING];
    int head, size;
} ring;

static void ring_put(ring *r, float x) {
    pthread_mutex_lock(&r->lock);
    while (r->size == RING) pthread_cond_wait(&r->not_full, &r->lock);
    r->v[(r->head + r->size++) % RING] = x;
    pthread_cond_signal(&r->not_empty);
    pthread_mutex_unlock(&r->lock);
}

static float ring_get(ring *r) {
    pthread_mutex_lock(&r->lock);
    while (!r->size) pthread_cond_wait(&r->not_empty, &r->lock);
    float x = r->v[r->head];
    r->head = (r->head + 1) % RING;
    r->size--;
    pthread_cond_signal(&r->not_full);
    pthread_mutex_unlock(&r->lock);
    return x;
}

static void *ring_producer(void *arg) {
    for (int i = 0; i < ITEMS; i++) ring_put(arg, 1);
    return NULL;
}

static void ring_bench(double *per_s, double *pair_us) {
    static ring r = {
        PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, PTHREAD_COND_INITIALIZER, {0}, 0, 0};
    pthread_t th;
    double t0 = now(), sum = 0;
    pthread_create(&th, NULL, ring_producer, &r);
    for (int i = 0; i < ITEMS; i++) sum += ring_get(&r);
    pthread_join(th, NULL);
    *per_s = ITEMS / (now() - t0);
    t0 = now();
    for (int i = 0; i < ITEMS; i++) {
        ring_put(&r, 2);
        sum += ring_get(&r);
    }
    *pair_us = (now() - t0) / ITEMS * 1e6;
    if (sum < 0) printf("%f\n", sum);
}

int main(int argc, char **argv) {
    const char *dir = argc > 1 ? argv[1] : "/tmp/tfc-mnist-tfrecord";
    /* TFC_BENCH_PIPELINE_ONLY=steps: the pipelines alone, no training (for
     * profiling: valgrind --tool=callgrind with a few hundred steps);
     * TFC_BENCH_BATCHED=0 or 1: only the per-record or the batched one */
    const char *alone = getenv("TFC_BENCH_PIPELINE_ONLY"), *which = getenv("TFC_BENCH_BATCHED");
    if (alone) {
        int steps = atoi(alone) > 0 ? atoi(alone) : STEPS;
        printf("pipelines alone (1 session thread, batches fetched, no training):\n");
        for (int b = 0; b < 2; b++) {
            if (which && atoi(which) != b) continue;
            double c, ru, r = timed_run(NULL, dir, 1, b, 0, steps, &c, &ru);
            printf("  %-14s %8.0f examples/s, %5.2f CPU us/example, runner threads %5.2f\n",
                   b ? "batched reads:" : "per-record:", r, c, ru);
        }
        return 0;
    }
    tfc_status *st = tfc_status_new();
    tfc_mnist *data = tfc_mnist_load(argc > 2 ? argv[2] : NULL, st);
    if (!data) {
        fprintf(stderr, "%s\n", tfc_status_message(st));
        return 1;
    }
    printf("MLP training, examples/s (batch %d, %d steps after %d); pipelines: records one "
           "at a time / %d at a time\n",
           BATCH, STEPS, WARMUP, BATCH);
    printf("ParseExample of %d MNIST records (784 bytes + a label): %.3f us CPU per record\n",
           PARSE_RECORDS, parse_us_per_record());
    if (getenv("TFC_BENCH_PARSE_ONLY")) {
        tfc_mnist_free(data);
        tfc_status_free(st);
        return 0;
    }
    /* TFC_BENCH_THREADS=n: only sessions of n threads (for profiling) */
    const char *only = getenv("TFC_BENCH_THREADS");
    /* TFC_BENCH_TRAIN=fed|per-record|batched: that training alone, STEPS
     * steps at TFC_BENCH_THREADS threads (default 2), to profile */
    const char *train = getenv("TFC_BENCH_TRAIN");
    if (train) {
        int threads = only ? atoi(only) : 2, kind = strcmp(train, "fed") == 0 ? 0
                                                    : strcmp(train, "batched") == 0 ? 2
                                                                                    : 1;
        double cpu, rate = timed_run(kind ? NULL : data, kind ? dir : NULL, threads, kind == 2, 1,
                                     STEPS, &cpu, NULL);
        printf("  %s, %d thread%s: %.0f examples/s, %.2f CPU us/example\n", train, threads,
               threads > 1 ? "s" : "", rate, cpu);
        tfc_mnist_free(data);
        tfc_status_free(st);
        return 0;
    }
    for (int threads = 1; threads <= 2; threads++) {
        if (only && atoi(only) != threads) continue;
        /* TFC_BENCH_INTERLEAVED_ONLY: only the interleaved rounds (A/B runs) */
        if (!getenv("TFC_BENCH_INTERLEAVED_ONLY")) {
            double ca, cb, cc;
            double a = fed(data, threads, &ca), b = pipeline(dir, threads, 0, &cb),
                   c = pipeline(dir, threads, 1, &cc);
            printf("  %d thread%s: fed %7.0f   pipeline %7.0f (%.2fx)   batched reads %7.0f "
                   "(%.2fx)\n",
                   threads, threads > 1 ? "s" : " ", a, b, b / a, c, c / a);
            printf("             CPU us/example: fed %5.2f   pipeline %5.2f   batched reads "
                   "%5.2f\n",
                   ca, cb, cc);
        }
        double ratio[2][3];
        interleaved(data, dir, threads, ratio);
        printf("             interleaved, %d rounds of %d steps, median [quartiles] of pipeline / "
               "fed: %.2fx [%.2f-%.2f], batched reads %.2fx [%.2f-%.2f]\n",
               ROUNDS, ROUND_STEPS, ratio[0][1], ratio[0][0], ratio[0][2], ratio[1][1], ratio[1][0],
               ratio[1][2]);
    }
    printf("float scalars through a queue of %d (%d items)\n", RING, ITEMS);
    for (int threads = 1; threads <= 2; threads++) {
        double per_s, pair;
        queue_bench(threads, &per_s, &pair);
        printf("  FIFOQueue, sessions of %d thread%s: %9.0f items/s between threads, %6.2f us "
               "per enqueue+dequeue run pair\n",
               threads, threads > 1 ? "s" : " ", per_s, pair);
    }
    double per_s, pair;
    ring_bench(&per_s, &pair);
    printf(
        "  mutex + condition ring:          %9.0f items/s between threads, %6.2f us per put+get\n",
        per_s, pair);
    tfc_mnist_free(data);
    tfc_status_free(st);
    return 0;
}
