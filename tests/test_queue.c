/* Queues: order, capacity, blocking without a thread (a dequeue and the
 * enqueue that feeds it in one run of a 1-thread session), closing,
 * TensorFlow's messages, run timeouts, session close and free while runs
 * wait, failed runs ending their waiting dequeues, shuffling fixed by a
 * seed, padding, priorities, strings, and concurrency (run it under TSan:
 * the build-*-tsan directories). */
#include "harness.h"
#include "runtime/runtime.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static tfc_session *session(tfc_graph *g, int threads) {
    tfc_session_options o = {0};
    o.inter_op_threads = o.intra_op_threads = threads;
    o.seed = 1234;
    tfc_status *st = tfc_status_new();
    tfc_session *s = tfc_session_new(g, &o, st);
    CHECK_STATUS_OK(st);
    tfc_status_free(st);
    return s;
}

/* Runs targets and fetches; returns the code, message into msg. */
static tfc_code run(tfc_session *s, const tfc_output *feeds, tfc_tensor *const *fv, int nf,
                    const tfc_output *fetches, int n, tfc_tensor **out, tfc_node *const *targets,
                    int nt, char *msg, size_t cap) {
    tfc_status *st = tfc_status_new();
    tfc_session_run(s, feeds, fv, nf, fetches, n, out, targets, nt, st);
    tfc_code c = tfc_status_code(st);
    if (msg) snprintf(msg, cap, "%s", tfc_status_message(st));
    tfc_status_free(st);
    return c;
}

static tfc_tensor *floats(int n, float first) {
    int64_t d = n;
    tfc_tensor *t = tfc_tensor_new(TFC_FLOAT, 1, &d);
    for (int i = 0; i < n; i++) ((float *)tfc_tensor_data(t))[i] = first + (float)i;
    return t;
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* ---- a FIFO queue of float scalars: enqueue_many x, dequeue, dequeue_many ---- */

typedef struct fifo_graph {
    tfc_graph *g;
    tfc_output q, x, one, many[1], upto[1], size;
    tfc_node *enq, *close, *close_cancel;
} fifo_graph;

static fifo_graph fifo_make(int64_t capacity, int32_t n_many) {
    fifo_graph f;
    f.g = tfc_graph_new();
    tfc_dtype dt = TFC_FLOAT;
    tfc_shape sc = {0, {0}};
    tfc_with_name(f.g, "q");
    f.q = tfc_fifo_queue(f.g, capacity, &dt, 1, &sc, NULL);
    f.x = tfc_placeholder(f.g, "x", TFC_FLOAT, 1, (int64_t[]){-1});
    f.enq = tfc_queue_enqueue_many(f.g, f.q, &f.x, 1);
    tfc_queue_dequeue(f.g, f.q, &f.one, 1);
    tfc_queue_dequeue_many(f.g, f.q, n_many, f.many, 1);
    tfc_queue_dequeue_up_to(f.g, f.q, n_many, f.upto, 1);
    f.size = tfc_queue_size(f.g, f.q);
    f.close = tfc_queue_close(f.g, f.q, 0);
    f.close_cancel = tfc_queue_close(f.g, f.q, 1);
    CHECK_GRAPH_OK(f.g);
    return f;
}

static void test_fifo_order_and_messages(void) {
    fifo_graph f = fifo_make(10, 3);
    tfc_session *s = session(f.g, 1);
    tfc_tensor *x = floats(5, 10);
    CHECK(run(s, &f.x, &x, 1, NULL, 0, NULL, &f.enq, 1, NULL, 0) == TFC_OK);
    tfc_tensor_free(x);
    tfc_tensor *out[2] = {0};
    CHECK(run(s, NULL, NULL, 0, &f.size, 1, out, NULL, 0, NULL, 0) == TFC_OK);
    CHECK(out[0] && *(int32_t *)tfc_tensor_data(out[0]) == 5);
    tfc_tensor_free(out[0]);
    CHECK(run(s, NULL, NULL, 0, &f.one, 1, out, NULL, 0, NULL, 0) == TFC_OK);
    CHECK(out[0] && tfc_tensor_rank(out[0]) == 0 && *(float *)tfc_tensor_data(out[0]) == 10);
    tfc_tensor_free(out[0]);
    CHECK(run(s, NULL, NULL, 0, f.many, 1, out, NULL, 0, NULL, 0) == TFC_OK);
    CHECK(out[0] && tfc_tensor_dim(out[0], 0) == 3);
    for (int i = 0; out[0] && i < 3; i++) CHECK(((float *)tfc_tensor_data(out[0]))[i] == 11 + i);
    tfc_tensor_free(out[0]);
    /* closed with one left: dequeue_many fails and keeps it, up_to gets it */
    CHECK(run(s, NULL, NULL, 0, NULL, 0, NULL, &f.close, 1, NULL, 0) == TFC_OK);
    char msg[512];
    CHECK(run(s, NULL, NULL, 0, f.many, 1, out, NULL, 0, msg, sizeof msg) == TFC_OUT_OF_RANGE);
    CHECK_CONTAINS(msg, "FIFOQueue 'q' is closed and has insufficient elements (requested 3, "
                        "current size 1)");
    CHECK_CONTAINS(msg, "QueueDequeueManyV2");
    CHECK(run(s, NULL, NULL, 0, f.upto, 1, out, NULL, 0, NULL, 0) == TFC_OK);
    CHECK(out[0] && tfc_tensor_dim(out[0], 0) == 1 && *(float *)tfc_tensor_data(out[0]) == 14);
    tfc_tensor_free(out[0]);
    CHECK(run(s, NULL, NULL, 0, &f.one, 1, out, NULL, 0, msg, sizeof msg) == TFC_OUT_OF_RANGE);
    CHECK_CONTAINS(msg, "FIFOQueue 'q' is closed and has insufficient elements (requested 1, "
                        "current size 0)");
    CHECK(run(s, NULL, NULL, 0, f.upto, 1, out, NULL, 0, msg, sizeof msg) == TFC_OUT_OF_RANGE);
    x = floats(2, 0);
    CHECK(run(s, &f.x, &x, 1, NULL, 0, NULL, &f.enq, 1, msg, sizeof msg) == TFC_CANCELLED);
    CHECK_CONTAINS(msg, "FIFOQueue 'q' is closed.");
    CHECK(run(s, NULL, NULL, 0, NULL, 0, NULL, &f.close, 1, msg, sizeof msg) == TFC_CANCELLED);
    CHECK_CONTAINS(msg, "Queue 'q' is already closed.");
    tfc_tensor_free(x);
    tfc_session_free(s);
    tfc_graph_free(f.g);
}

/* One run of a 1-thread session holds an enqueue_many of 6 into a queue of
 * capacity 2 and a dequeue_many of 6: the dequeue gathers as the enqueue
 * goes, in either node order. */
static void test_one_thread_one_run(void) {
    for (int order = 0; order < 2; order++) {
        tfc_graph *g = tfc_graph_new();
        tfc_dtype dt = TFC_FLOAT;
        tfc_shape sc = {0, {0}};
        tfc_output q = tfc_fifo_queue(g, 2, &dt, 1, &sc, NULL), many;
        tfc_output x = tfc_placeholder(g, "x", TFC_FLOAT, 1, (int64_t[]){6});
        tfc_node *enq = NULL;
        if (order == 0) enq = tfc_queue_enqueue_many(g, q, &x, 1);
        tfc_queue_dequeue_many(g, q, 6, &many, 1);
        if (order == 1) enq = tfc_queue_enqueue_many(g, q, &x, 1);
        CHECK_GRAPH_OK(g);
        for (int threads = 1; threads <= 2; threads++) {
            tfc_session *s = session(g, threads);
            tfc_tensor *xv = floats(6, 1), *out = NULL;
            CHECK(run(s, &x, &xv, 1, &many, 1, &out, &enq, 1, NULL, 0) == TFC_OK);
            for (int i = 0; out && i < 6; i++) CHECK(((float *)tfc_tensor_data(out))[i] == 1 + i);
            tfc_tensor_free(out);
            tfc_tensor_free(xv);
            tfc_session_free(s);
        }
        tfc_graph_free(g);
    }
}

/* ---- runs in other threads ---- */

typedef struct bg_run {
    tfc_session *s;
    tfc_output fetch;
    const tfc_run_options *ro;
    tfc_code code;
    char msg[512];
    tfc_tensor *out;
    double seconds;
} bg_run;

static void *bg_main(void *arg) {
    bg_run *b = arg;
    tfc_status *st = tfc_status_new();
    double t0 = now_s();
    tfc_session_run_v2(b->s, b->ro, NULL, NULL, 0, &b->fetch, 1, &b->out, NULL, 0, NULL, st);
    b->seconds = now_s() - t0;
    b->code = tfc_status_code(st);
    snprintf(b->msg, sizeof b->msg, "%s", tfc_status_message(st));
    tfc_status_free(st);
    return NULL;
}

static void test_other_thread_feeds(void) {
    for (int threads = 1; threads <= 2; threads++) {
        fifo_graph f = fifo_make(-1, 4);
        tfc_session *s = session(f.g, threads);
        bg_run b = {.s = s, .fetch = f.many[0]};
        pthread_t th;
        pthread_create(&th, NULL, bg_main, &b);
        usleep(20000);
        for (int k = 0; k < 2; k++) { /* two enqueues of 2: the dequeue waits for both */
            tfc_tensor *x = floats(2, (float)(2 * k));
            CHECK(run(s, &f.x, &x, 1, NULL, 0, NULL, &f.enq, 1, NULL, 0) == TFC_OK);
            tfc_tensor_free(x);
        }
        pthread_join(th, NULL);
        CHECK_MSG(b.code == TFC_OK, "%s", b.msg);
        for (int i = 0; b.out && i < 4; i++) CHECK(((float *)tfc_tensor_data(b.out))[i] == i);
        tfc_tensor_free(b.out);
        tfc_session_free(s);
        tfc_graph_free(f.g);
    }
}

static void test_timeout(void) {
    for (int threads = 1; threads <= 2; threads++) {
        fifo_graph f = fifo_make(-1, 4);
        tfc_session *s = session(f.g, threads);
        tfc_run_options ro = {0};
        ro.timeout_in_ms = 60;
        bg_run b = {.s = s, .fetch = f.one, .ro = &ro};
        bg_main(&b);
        CHECK(b.code == TFC_DEADLINE_EXCEEDED);
        CHECK_CONTAINS(b.msg, "Timed out waiting for notification");
        CHECK_MSG(b.seconds >= 0.055 && b.seconds < 2, "took %.3f s", b.seconds);
        /* the cancelled dequeue left nothing behind: the next ones work */
        tfc_tensor *x = floats(1, 7), *out = NULL;
        CHECK(run(s, &f.x, &x, 1, NULL, 0, NULL, &f.enq, 1, NULL, 0) == TFC_OK);
        CHECK(run(s, NULL, NULL, 0, &f.one, 1, &out, NULL, 0, NULL, 0) == TFC_OK);
        CHECK(out && *(float *)tfc_tensor_data(out) == 7);
        tfc_tensor_free(out);
        tfc_tensor_free(x);
        /* a timeout that does not pass changes nothing */
        x = floats(1, 8);
        run(s, &f.x, &x, 1, NULL, 0, NULL, &f.enq, 1, NULL, 0);
        ro.timeout_in_ms = 5000;
        b.out = NULL;
        bg_main(&b);
        CHECK(b.code == TFC_OK && b.out && *(float *)tfc_tensor_data(b.out) == 8);
        tfc_tensor_free(b.out);
        tfc_tensor_free(x);
        tfc_session_free(s);
        tfc_graph_free(f.g);
    }
}

/* Waits until n runs are under way in s. Freeing a session that a thread
 * has not yet entered is the caller's bug (a use after free), so the test
 * must know both runs have started before it closes or frees. */
static void wait_for_active_runs(tfc_session *s, int n) {
    for (;;) {
        int active = atomic_load(&s->runs) & ~SESSION_CLOSED;
        if (active >= n) return;
        usleep(1000);
    }
}

static void test_session_close_and_free(void) {
    for (int threads = 1; threads <= 2; threads++) {
        for (int use_free = 0; use_free < 2; use_free++) {
            fifo_graph f = fifo_make(-1, 4);
            tfc_session *s = session(f.g, threads);
            bg_run b[2] = {{.s = s, .fetch = f.one}, {.s = s, .fetch = f.many[0]}};
            pthread_t th[2];
            for (int i = 0; i < 2; i++) pthread_create(&th[i], NULL, bg_main, &b[i]);
            wait_for_active_runs(s, 2);
            usleep(30000); /* let both reach their dequeue */
            if (use_free) {
                tfc_session_free(s); /* waits for both runs to end */
            } else {
                tfc_session_close(s);
                char msg[256];
                tfc_tensor *none = NULL;
                CHECK(run(s, NULL, NULL, 0, &f.size, 1, &none, NULL, 0, msg, sizeof msg) ==
                      TFC_FAILED_PRECONDITION);
                CHECK(none == NULL);
                CHECK_CONTAINS(msg, "Attempted to use a closed Session.");
                tfc_session_close(s);
            }
            for (int i = 0; i < 2; i++) {
                pthread_join(th[i], NULL);
                CHECK(b[i].code == TFC_CANCELLED);
                CHECK_CONTAINS(b[i].msg, "Dequeue operation was cancelled");
            }
            if (!use_free) tfc_session_free(s);
            tfc_graph_free(f.g);
        }
    }
}

/* A run whose other branch fails ends its waiting dequeue with that error. */
static void test_failed_run_cancels(void) {
    fifo_graph f = fifo_make(-1, 4);
    tfc_output bad = tfc_string_to_number(f.g, tfc_const_string(f.g, "not a number"), TFC_FLOAT);
    tfc_output sum = tfc_add(f.g, f.one, bad);
    CHECK_GRAPH_OK(f.g);
    for (int threads = 1; threads <= 2; threads++) {
        tfc_session *s = session(f.g, threads);
        char msg[512];
        tfc_tensor *out = NULL;
        CHECK(run(s, NULL, NULL, 0, &sum, 1, &out, NULL, 0, msg, sizeof msg) ==
              TFC_INVALID_ARGUMENT);
        CHECK_CONTAINS(msg, "StringToNumberOp could not correctly convert string");
        tfc_session_free(s);
    }
    tfc_graph_free(f.g);
}

/* ---- other kinds ---- */

static void test_random_shuffle(void) {
    float orders[2][20];
    for (int rep = 0; rep < 2; rep++) {
        tfc_graph *g = tfc_graph_new();
        tfc_dtype dt = TFC_FLOAT;
        tfc_shape sc = {0, {0}};
        tfc_output q = tfc_random_shuffle_queue(g, 30, 5, &dt, 1, &sc, 42, NULL), one;
        tfc_output x = tfc_placeholder(g, "x", TFC_FLOAT, 1, (int64_t[]){20});
        tfc_node *enq = tfc_queue_enqueue_many(g, q, &x, 1), *close = tfc_queue_close(g, q, 0);
        tfc_queue_dequeue(g, q, &one, 1);

        CHECK_GRAPH_OK(g);
        tfc_session *s = session(g, 1);
        tfc_tensor *xv = floats(20, 0);
        CHECK(run(s, &x, &xv, 1, NULL, 0, NULL, &enq, 1, NULL, 0) == TFC_OK);
        tfc_tensor_free(xv);
        for (int i = 0; i < 15; i++) {
            tfc_tensor *o = NULL;
            CHECK(run(s, NULL, NULL, 0, &one, 1, &o, NULL, 0, NULL, 0) == TFC_OK);
            orders[rep][i] = o ? *(float *)tfc_tensor_data(o) : -1;
            tfc_tensor_free(o);
        }
        /* 5 left = min_after_dequeue: the next dequeue waits, until closed */
        tfc_run_options ro = {0};
        ro.timeout_in_ms = 30;
        bg_run b = {.s = s, .fetch = one, .ro = &ro};
        bg_main(&b);
        CHECK(b.code == TFC_DEADLINE_EXCEEDED);
        CHECK(run(s, NULL, NULL, 0, NULL, 0, NULL, &close, 1, NULL, 0) == TFC_OK);
        for (int i = 15; i < 20; i++) {
            tfc_tensor *o = NULL;
            CHECK(run(s, NULL, NULL, 0, &one, 1, &o, NULL, 0, NULL, 0) == TFC_OK);
            orders[rep][i] = o ? *(float *)tfc_tensor_data(o) : -1;
            tfc_tensor_free(o);
        }
        char msg[512];
        tfc_tensor *o = NULL;
        CHECK(run(s, NULL, NULL, 0, &one, 1, &o, NULL, 0, msg, sizeof msg) == TFC_OUT_OF_RANGE);
        CHECK_CONTAINS(msg, "RandomShuffleQueue '");
        tfc_session_free(s);
        tfc_graph_free(g);
    }
    int seen[20] = {0}, moved = 0;
    for (int i = 0; i < 20; i++) {
        int v = (int)orders[0][i];
        if (v >= 0 && v < 20) seen[v]++;
        moved += v != i;
        CHECK(orders[0][i] == orders[1][i]); /* the same seed, the same order */
    }
    for (int i = 0; i < 20; i++) CHECK(seen[i] == 1);
    CHECK(moved > 10);
}

static void test_padding_and_priority(void) {
    tfc_graph *g = tfc_graph_new();
    tfc_dtype dts[2] = {TFC_INT32, TFC_STRING};
    tfc_shape shp[2] = {{1, {-1}}, {0, {0}}};
    tfc_output pq = tfc_padding_fifo_queue(g, 10, dts, 2, shp, "padq");
    tfc_output v = tfc_placeholder(g, "v", TFC_INT32, 1, (int64_t[]){-1});
    tfc_output w = tfc_placeholder(g, "w", TFC_STRING, 0, NULL);
    tfc_output comps[2] = {v, w}, batch[2];
    tfc_node *penq = tfc_queue_enqueue(g, pq, comps, 2);
    tfc_queue_dequeue_many(g, pq, 3, batch, 2);
    tfc_dtype pdt = TFC_FLOAT;
    tfc_shape psc = {0, {0}};
    tfc_output prq = tfc_priority_queue(g, -1, &pdt, 1, &psc, NULL), pout[2];
    tfc_output pr = tfc_placeholder(g, "pr", TFC_INT64, 1, (int64_t[]){5});
    tfc_output pv = tfc_placeholder(g, "pv", TFC_FLOAT, 1, (int64_t[]){5});
    tfc_output pc[2] = {pr, pv};
    tfc_node *prenq = tfc_queue_enqueue_many(g, prq, pc, 2);
    tfc_queue_dequeue_many(g, prq, 5, pout, 2);
    CHECK_GRAPH_OK(g);
    CHECK(tfc_output_shape(batch[0]).rank == 2 && tfc_output_shape(batch[0]).dims[1] == -1);
    tfc_session *s = session(g, 1);
    const char *words[3] = {"a", "longer word", ""};
    for (int k = 0; k < 3; k++) {
        int64_t len = k == 1 ? 4 : k;
        tfc_tensor *vt = tfc_tensor_new(TFC_INT32, 1, &len);
        for (int i = 0; i < len; i++) ((int32_t *)tfc_tensor_data(vt))[i] = 10 * k + i + 1;
        tfc_tensor *wt = tfc_tensor_scalar_string(words[k], (size_t)-1);
        tfc_tensor *fv[2] = {vt, wt};
        CHECK(run(s, comps, fv, 2, NULL, 0, NULL, &penq, 1, NULL, 0) == TFC_OK);
        tfc_tensor_free(vt);
        tfc_tensor_free(wt);
    }
    tfc_tensor *out[2] = {0};
    CHECK(run(s, NULL, NULL, 0, batch, 2, out, NULL, 0, NULL, 0) == TFC_OK);
    const int32_t want[12] = {0, 0, 0, 0, 11, 12, 13, 14, 21, 22, 0, 0};
    CHECK(out[0] && tfc_tensor_dim(out[0], 1) == 4);
    for (int i = 0; out[0] && i < 12; i++)
        CHECK(((int32_t *)tfc_tensor_data(out[0]))[i] == want[i]);
    size_t len;
    CHECK(out[1] && !memcmp(tfc_string_tensor_get(out[1], 1, &len), "longer word", 11) &&
          len == 11);
    CHECK(out[1] && tfc_string_tensor_get(out[1], 2, &len) && len == 0);
    tfc_tensor_free(out[0]);
    tfc_tensor_free(out[1]);

    int64_t prios[5] = {5, -2, 9, 0, -2};
    int64_t five = 5;
    tfc_tensor *prt = tfc_tensor_from_data(TFC_INT64, 1, &five, prios), *pvt = floats(5, 0);
    tfc_tensor *pf[2] = {prt, pvt};
    CHECK(run(s, pc, pf, 2, NULL, 0, NULL, &prenq, 1, NULL, 0) == TFC_OK);
    CHECK(run(s, NULL, NULL, 0, pout, 2, out, NULL, 0, NULL, 0) == TFC_OK);
    const int64_t wp[5] = {-2, -2, 0, 5, 9};
    const float wv[5] = {1, 4, 3, 0, 2}; /* equal priorities keep their order */
    for (int i = 0; out[0] && i < 5; i++) {
        CHECK(((int64_t *)tfc_tensor_data(out[0]))[i] == wp[i]);
        CHECK(((float *)tfc_tensor_data(out[1]))[i] == wv[i]);
    }
    tfc_tensor_free(out[0]);
    tfc_tensor_free(out[1]);
    tfc_tensor_free(prt);
    tfc_tensor_free(pvt);
    tfc_session_free(s);
    tfc_graph_free(g);
}

/* Strings through enqueue_many and dequeue_many keep their bytes after the
 * fed tensor is gone. */
static void test_strings(void) {
    tfc_graph *g = tfc_graph_new();
    tfc_dtype dt = TFC_STRING;
    tfc_shape sc = {1, {2}};
    tfc_output q = tfc_fifo_queue(g, -1, &dt, 1, &sc, NULL), out;
    tfc_output x = tfc_placeholder(g, "x", TFC_STRING, 2, (int64_t[]){3, 2});
    tfc_node *enq = tfc_queue_enqueue_many(g, q, &x, 1);
    tfc_queue_dequeue_many(g, q, 2, &out, 1);
    CHECK_GRAPH_OK(g);
    tfc_session *s = session(g, 2);
    const char *w[6] = {"zero", "one", "two", "three", "four", "five"};
    tfc_tensor *xt = tfc_tensor_from_strings(2, (int64_t[]){3, 2}, w, NULL);
    CHECK(run(s, &x, &xt, 1, NULL, 0, NULL, &enq, 1, NULL, 0) == TFC_OK);
    tfc_tensor_free(xt);
    tfc_tensor *o = NULL;
    CHECK(run(s, NULL, NULL, 0, &out, 1, &o, NULL, 0, NULL, 0) == TFC_OK);
    for (int i = 0; o && i < 4; i++) {
        size_t len;
        const char *p = tfc_string_tensor_get(o, i, &len);
        CHECK(len == strlen(w[i]) && !memcmp(p, w[i], len));
    }
    tfc_tensor_free(o);
    tfc_session_free(s);
    tfc_graph_free(g);
}

/* Wrong dtypes and shapes name the queue and the component: at build time
 * from the queue's node, at run time through a fed handle. */
static void test_errors(void) {
    tfc_graph *g = tfc_graph_new();
    tfc_dtype dts[2] = {TFC_FLOAT, TFC_INT32};
    tfc_shape shp[2] = {{1, {3}}, {0, {0}}};
    tfc_with_name(g, "examples");
    tfc_output q = tfc_fifo_queue(g, 5, dts, 2, shp, NULL);
    tfc_output a = tfc_const_float(g, 1), b = tfc_const_int32(g, 2);
    tfc_output bad_type[2] = {tfc_placeholder(g, "f3", TFC_FLOAT, 1, (int64_t[]){3}), a};
    CHECK(tfc_queue_enqueue(g, q, bad_type, 2) == NULL);
    CHECK_CONTAINS(tfc_graph_error(g), "FIFOQueue 'examples': Type mismatch in tuple component 1. "
                                       "Expected int32, got float32");
    tfc_graph_free(g);

    g = tfc_graph_new();
    tfc_with_name(g, "examples");
    q = tfc_fifo_queue(g, 5, dts, 2, shp, NULL);
    b = tfc_const_int32(g, 2);
    tfc_output bad_shape[2] = {tfc_placeholder(g, "f4", TFC_FLOAT, 1, (int64_t[]){4}), b};
    CHECK(tfc_queue_enqueue(g, q, bad_shape, 2) == NULL);
    CHECK_CONTAINS(tfc_graph_error(g), "FIFOQueue 'examples': Shape mismatch in tuple component 0. "
                                       "Expected [3], got [4]");
    tfc_graph_free(g);

    /* an unknown shape is checked when the op runs */
    g = tfc_graph_new();
    tfc_with_name(g, "examples");
    q = tfc_fifo_queue(g, 5, dts, 2, shp, NULL);
    tfc_output f = tfc_placeholder(g, "f", TFC_FLOAT, -1, NULL);
    b = tfc_const_int32(g, 2);
    tfc_output comps[2] = {f, b};
    tfc_node *enq = tfc_queue_enqueue(g, q, comps, 2);
    /* through a fed handle the queue is unknown at build time */
    tfc_output h = tfc_placeholder(g, "h", TFC_RESOURCE, 0, NULL);
    tfc_output i32 = tfc_const_int32(g, 1);
    tfc_output wrong[2] = {i32, i32};
    tfc_node *enq_h = tfc_queue_enqueue(g, h, wrong, 2);
    CHECK_GRAPH_OK(g);
    tfc_session *s = session(g, 1);
    char msg[512];
    tfc_tensor *ft = floats(2, 0);
    CHECK(run(s, &f, &ft, 1, NULL, 0, NULL, &enq, 1, msg, sizeof msg) == TFC_INVALID_ARGUMENT);
    CHECK_CONTAINS(msg, "FIFOQueue 'examples': Shape mismatch in tuple component 0. Expected "
                        "[3], got [2]");
    tfc_tensor *handle = NULL;
    CHECK(run(s, NULL, NULL, 0, &q, 1, &handle, NULL, 0, NULL, 0) == TFC_OK);
    CHECK(handle && tfc_tensor_dtype(handle) == TFC_RESOURCE);
    CHECK(run(s, &h, &handle, 1, NULL, 0, NULL, &enq_h, 1, msg, sizeof msg) ==
          TFC_INVALID_ARGUMENT);
    CHECK_CONTAINS(msg, "FIFOQueue 'examples': Type mismatch in tuple component 0. Expected "
                        "float32, got int32");
    tfc_tensor_free(handle);
    tfc_tensor_free(ft);
    tfc_session_free(s);
    /* DequeueMany needs defined shapes; resources are not elements */
    tfc_dtype f1 = TFC_FLOAT;
    tfc_output uq = tfc_fifo_queue(g, 5, &f1, 1, NULL, NULL), o;
    CHECK(tfc_queue_dequeue_many(g, uq, 2, &o, 1) == -1);
    CHECK_CONTAINS(tfc_graph_error(g), "FIFOQueue's DequeueMany and DequeueUpTo require the "
                                       "components to have specified shapes.");
    tfc_graph_free(g);
}

/* ---- concurrency: producers and consumers in threads (TSan) ---- */

/* The harness's counters are not thread-safe: workers count their own
 * errors, checked after the join. */
typedef struct worker {
    tfc_session *s;
    fifo_graph *f;
    int id, items;
    double sum;
    int got, errors;
} worker;

static void *producer(void *arg) {
    worker *w = arg;
    for (int k = 0; k < w->items; k++) {
        tfc_tensor *x = floats(1, (float)(w->id * 1000 + k));
        w->errors += run(w->s, &w->f->x, &x, 1, NULL, 0, NULL, &w->f->enq, 1, NULL, 0) != TFC_OK;
        tfc_tensor_free(x);
    }
    return NULL;
}

static void *consumer(void *arg) {
    worker *w = arg;
    for (;;) {
        tfc_tensor *o = NULL;
        tfc_code c = run(w->s, NULL, NULL, 0, &w->f->one, 1, &o, NULL, 0, NULL, 0);
        if (c == TFC_OUT_OF_RANGE) break;
        if (c != TFC_OK) {
            w->errors++;
            break;
        }
        w->sum += *(float *)tfc_tensor_data(o);
        w->got++;
        tfc_tensor_free(o);
    }
    return NULL;
}

static void test_concurrency(void) {
    for (int threads = 1; threads <= 2; threads++) {
        fifo_graph f = fifo_make(3, 2);
        tfc_session *s = session(f.g, threads);
        enum { P = 3, C = 3, N = 150 };
        worker ws[P + C];
        pthread_t th[P + C];
        for (int i = 0; i < P + C; i++) {
            ws[i] = (worker){s, &f, i, N, 0, 0, 0};
            pthread_create(&th[i], NULL, i < P ? producer : consumer, &ws[i]);
        }
        for (int i = 0; i < P; i++) {
            pthread_join(th[i], NULL);
            CHECK(ws[i].errors == 0);
        }
        CHECK(run(s, NULL, NULL, 0, NULL, 0, NULL, &f.close, 1, NULL, 0) == TFC_OK);
        double sum = 0;
        int got = 0;
        for (int i = P; i < P + C; i++) {
            pthread_join(th[i], NULL);
            CHECK(ws[i].errors == 0);
            sum += ws[i].sum;
            got += ws[i].got;
        }
        double want = 0;
        for (int p = 0; p < P; p++)
            for (int k = 0; k < N; k++) want += p * 1000 + k;
        CHECK(got == P * N);
        CHECK(sum == want);
        tfc_session_free(s);
        tfc_graph_free(f.g);
    }
}

TFC_TEST_MAIN(T(test_fifo_order_and_messages), T(test_one_thread_one_run),
              T(test_other_thread_feeds), T(test_timeout), T(test_session_close_and_free),
              T(test_failed_run_cancels), T(test_random_shuffle), T(test_padding_and_priority),
              T(test_strings), T(test_errors), T(test_concurrency))
