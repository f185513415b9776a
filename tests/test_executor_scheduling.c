/* How a parallel run shares its work between threads: a thread with
 * nothing to do gets the oldest ready node of a busy one (two independent
 * chains of cheap nodes overlap instead of running one after the other on
 * the thread that readied them), a thread between two nodes or waiting for
 * its own kernel's chunks helps another thread's parallel_for, and none of
 * it changes a result at any thread count. */
#include "harness.h"

#include "core/clock.h"
#include "core/threadpool.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A run of two chains takes about 10 ms: several of a loaded machine's
 * scheduler slices, so the idle worker gets a core during it even when
 * other processes keep both cores busy (300-node chains, 2 ms a run,
 * failed 5 times in 40 beside two busy loops). */
enum { CHAIN = 2000, RUNS = 20 };

/* Two chains of CHAIN Tanh nodes on two placeholders, each node below
 * the executor's cheap-node threshold, so before work was handed
 * to idle threads both chains ran on the caller's stack, one after the
 * other. Returns 1 when a run had nodes of both chains on different
 * threads at the same time. */
static int chains_overlap_once(tfc_session *s, tfc_output x1, tfc_output x2, tfc_output y1,
                               tfc_output y2, tfc_tensor *v1, tfc_tensor *v2) {
    tfc_status *st = tfc_status_new();
    tfc_run_options ro = {.trace_level = TFC_TRACE_FULL};
    tfc_run_metadata *md = tfc_run_metadata_new();
    tfc_output feeds[] = {x1, x2}, fetches[] = {y1, y2};
    tfc_tensor *vals[] = {v1, v2}, *out[2] = {NULL, NULL};
    /* the worker settles into waiting for work */
    usleep(20000);
    tfc_session_run_v2(s, &ro, feeds, vals, 2, fetches, 2, out, NULL, 0, md, st);
    CHECK_STATUS_OK(st);
    /* per chain: its threads and its time span */
    int64_t tid[2] = {-1, -1};
    int two_threads[2] = {0, 0};
    double first[2] = {1e30, 1e30}, last[2] = {-1, -1};
    for (int i = 0; i < tfc_run_metadata_num_nodes(md); i++) {
        const char *name = tfc_run_metadata_node_name(md, i);
        int c = strncmp(name, "a/", 2) == 0 ? 0 : strncmp(name, "b/", 2) == 0 ? 1 : -1;
        if (c < 0) continue;
        int64_t t = tfc_run_metadata_node_thread(md, i);
        if (tid[c] < 0) tid[c] = t;
        if (t != tid[c]) two_threads[c] = 1;
        double b = tfc_run_metadata_node_start_us(md, i), e = tfc_run_metadata_node_end_us(md, i);
        if (b < first[c]) first[c] = b;
        if (e > last[c]) last[c] = e;
    }
    int overlap = (tid[0] != tid[1] || two_threads[0] || two_threads[1]) && first[1] < last[0] &&
                  first[0] < last[1];
    tfc_tensor_free(out[0]);
    tfc_tensor_free(out[1]);
    tfc_run_metadata_free(md);
    tfc_status_free(st);
    return overlap;
}

static void test_independent_cheap_chains_overlap(void) {
    tfc_graph *g = tfc_graph_new();
    /* float64 Tanh (libm's) on 512 values: a few microseconds a node */
    int64_t d[] = {512};
    tfc_output x1 = tfc_placeholder(g, "x1", TFC_DOUBLE, 1, d);
    tfc_output x2 = tfc_placeholder(g, "x2", TFC_DOUBLE, 1, d);
    tfc_output y1 = x1, y2 = x2;
    tfc_name_scope_push(g, "a");
    for (int i = 0; i < CHAIN; i++) y1 = tfc_tanh(g, y1);
    tfc_name_scope_pop(g);
    tfc_name_scope_push(g, "b");
    for (int i = 0; i < CHAIN; i++) y2 = tfc_tanh(g, y2);
    tfc_name_scope_pop(g);
    CHECK_GRAPH_OK(g);
    tfc_session_options o = {.intra_op_threads = 2, .inter_op_threads = 2};
    tfc_status *st = tfc_status_new();
    tfc_session *s = tfc_session_new(g, &o, st);
    CHECK_STATUS_OK(st);
    tfc_test_seed(3);
    tfc_tensor *v1 = tfc_test_random_tensor(TFC_DOUBLE, 1, d, -1, 1);
    tfc_tensor *v2 = tfc_test_random_tensor(TFC_DOUBLE, 1, d, -1, 1);
    /* on a loaded machine the idle thread may not get a core in time for
     * one run; one run in RUNS must show the overlap */
    int overlapped = 0;
    for (int r = 0; r < RUNS && !overlapped; r++)
        overlapped = chains_overlap_once(s, x1, x2, y1, y2, v1, v2);
    CHECK_MSG(overlapped, "the two chains never ran side by side in %d runs", RUNS);
    tfc_tensor_free(v1);
    tfc_tensor_free(v2);
    tfc_session_free(s);
    tfc_status_free(st);
    tfc_graph_free(g);
}

/* A parallel_for on the pool's worker whose first chunk waits until
 * another thread ran one of the others: the test's thread, which is no
 * pool thread, takes them with tfc_threadpool_help_parallel_for. */
typedef struct pfor_probe {
    tfc_threadpool *pool;
    pthread_t caller;          /* the thread running the parallel_for */
    atomic_int caller_known;
    atomic_int others;         /* chunks run by another thread */
    atomic_int chunks;         /* chunks run in all */
    atomic_int first_timed_out;
    atomic_int done;
} pfor_probe;

static void probe_chunk(void *arg, int64_t begin, int64_t end) {
    pfor_probe *p = arg;
    if (!pthread_equal(pthread_self(), p->caller)) atomic_fetch_add(&p->others, 1);
    if (begin == 0) {
        int64_t until = tfc_now_ns() + 2000000000;
        while (!atomic_load(&p->others) && tfc_now_ns() < until) usleep(100);
        if (!atomic_load(&p->others)) atomic_store(&p->first_timed_out, 1);
    }
    atomic_fetch_add(&p->chunks, (int)(end - begin));
}

static void probe_task(void *arg) {
    pfor_probe *p = arg;
    p->caller = pthread_self();
    atomic_store(&p->caller_known, 1);
    tfc_parallel_for(p->pool, 4, 1, probe_chunk, p);
    atomic_store(&p->done, 1);
}

static void test_caller_between_nodes_helps_parallel_for(void) {
    pfor_probe p;
    memset(&p, 0, sizeof p);
    p.pool = tfc_threadpool_new(2);
    CHECK(p.pool != NULL);
    if (!p.pool) return;
    tfc_threadpool_schedule(p.pool, probe_task, &p);
    int64_t until = tfc_now_ns() + 4000000000;
    int helped = 0;
    while (!atomic_load(&p.done) && tfc_now_ns() < until)
        if (atomic_load(&p.caller_known)) helped |= tfc_threadpool_help_parallel_for(p.pool);
    while (!atomic_load(&p.done)) usleep(1000);
    CHECK_MSG(helped && !atomic_load(&p.first_timed_out),
              "no other thread took a chunk of the worker's parallel_for");
    CHECK(atomic_load(&p.chunks) == 4);
    /* with nothing open there is nothing to help with */
    CHECK(tfc_threadpool_help_parallel_for(p.pool) == 0);
    CHECK(tfc_threadpool_help_parallel_for(NULL) == 0);
    CHECK(tfc_threadpool_wants_work(NULL) == 0);
    tfc_threadpool_free(p.pool);
}

/* Two pool threads each in a parallel_for whose chunks (4 each) sleep a
 * little: whichever finishes its own first takes the other's chunks while
 * it waits, so every chunk runs once and both calls return. */
typedef struct pair_job {
    tfc_threadpool *pool;
    atomic_int ran[8];
    atomic_int done;
} pair_job;

static void pair_chunk(void *arg, int64_t begin, int64_t end) {
    atomic_int *ran = arg;
    for (int64_t i = begin; i < end; i++) {
        usleep(200);
        atomic_fetch_add(&ran[i], 1);
    }
}

typedef struct pair_arg {
    pair_job *job;
    int half;
} pair_arg;

static void pair_task(void *arg) {
    pair_arg *a = arg;
    tfc_parallel_for(a->job->pool, 4, 1, pair_chunk, a->job->ran + 4 * a->half);
    atomic_fetch_add(&a->job->done, 1);
}

static void test_parallel_fors_side_by_side_run_every_chunk_once(void) {
    for (int threads = 2; threads <= 4; threads++) {
        pair_job job;
        memset(&job, 0, sizeof job);
        job.pool = tfc_threadpool_new(threads);
        pair_arg a[2] = {{&job, 0}, {&job, 1}};
        for (int round = 0; round < 50; round++) {
            for (int i = 0; i < 8; i++) atomic_store(&job.ran[i], 0);
            atomic_store(&job.done, 0);
            tfc_threadpool_schedule(job.pool, pair_task, &a[0]);
            tfc_threadpool_schedule(job.pool, pair_task, &a[1]);
            while (atomic_load(&job.done) < 2) {
                tfc_threadpool_help_parallel_for(job.pool);
                usleep(50);
            }
            for (int i = 0; i < 8; i++) CHECK(atomic_load(&job.ran[i]) == 1);
        }
        tfc_threadpool_free(job.pool);
    }
}

/* A wide graph (independent branches of products and element-wise ops
 * summed in a fixed order) gives bit-identical results at 1 to 4 threads,
 * run after run, whichever thread runs which node. */
static tfc_tensor *wide_result(int threads, tfc_tensor *xv, int runs) {
    enum { BRANCHES = 12 };
    tfc_graph *g = tfc_graph_new();
    int64_t xd[] = {48, 96}, wd[] = {96, 96};
    tfc_output x = tfc_placeholder(g, "x", TFC_FLOAT, 2, xd);
    tfc_output parts[BRANCHES];
    tfc_test_seed(5);
    for (int b = 0; b < BRANCHES; b++) {
        tfc_tensor *wv = tfc_test_random_tensor(TFC_FLOAT, 2, wd, -0.2, 0.2);
        tfc_output w = tfc_const(g, wv);
        tfc_tensor_free(wv);
        tfc_output h = x;
        for (int k = 0; k < 4; k++) h = tfc_tanh(g, tfc_matmul(g, h, w));
        parts[b] = tfc_sigmoid(g, tfc_mul(g, h, h));
    }
    tfc_output y = tfc_add_n(g, parts, BRANCHES);
    CHECK_GRAPH_OK(g);
    tfc_session_options o = {.intra_op_threads = threads, .inter_op_threads = threads};
    tfc_status *st = tfc_status_new();
    tfc_session *s = tfc_session_new(g, &o, st);
    tfc_tensor *first = NULL;
    for (int r = 0; r < runs; r++) {
        tfc_tensor *out = NULL;
        tfc_session_run(s, &x, &xv, 1, &y, 1, &out, NULL, 0, st);
        CHECK_STATUS_OK(st);
        if (!out) break;
        if (!first) {
            first = out;
            continue;
        }
        CHECK_MSG(memcmp(tfc_tensor_data(first), tfc_tensor_data(out), tfc_tensor_nbytes(out)) == 0,
                  "run %d at %d threads differs from the first", r, threads);
        tfc_tensor_free(out);
    }
    tfc_session_free(s);
    tfc_status_free(st);
    tfc_graph_free(g);
    return first;
}

static void test_wide_graph_bit_identical_across_thread_counts(void) {
    tfc_test_seed(11);
    int64_t xd[] = {48, 96};
    tfc_tensor *xv = tfc_test_random_tensor(TFC_FLOAT, 2, xd, -1, 1);
    tfc_tensor *ref = wide_result(1, xv, 2);
    CHECK(ref != NULL);
    for (int threads = 2; ref && threads <= 4; threads++) {
        tfc_tensor *got = wide_result(threads, xv, 30);
        CHECK(got != NULL);
        if (got)
            CHECK_MSG(memcmp(tfc_tensor_data(ref), tfc_tensor_data(got), tfc_tensor_nbytes(got)) == 0,
                      "%d threads differ from 1", threads);
        tfc_tensor_free(got);
    }
    tfc_tensor_free(ref);
    tfc_tensor_free(xv);
}

TFC_TEST_MAIN(T(test_independent_cheap_chains_overlap),
              T(test_caller_between_nodes_helps_parallel_for),
              T(test_parallel_fors_side_by_side_run_every_chunk_once),
              T(test_wide_graph_bit_identical_across_thread_counts))
