/* MutexV2, MutexLock, ConsumeMutexLock: critical sections in a graph.
 * Two branches of one run each increment a resource variable K times by a
 * read, an add and an assign (a race without the mutex) under one mutex:
 * the count is exact, on several threads and on one (where a waiting
 * MutexLock must not hold the only thread). A lock held elsewhere blocks a
 * run without spinning, until it is freed, the run's timeout passes or
 * the session closes. */
#include "harness.h"

#include <pthread.h>
#include <stdatomic.h>
#include <time.h>
#include <unistd.h>

enum { K = 60, WIDTH = 1 << 18 };

typedef struct sections {
    tfc_graph *g;
    tfc_output mutex, var, read; /* read: the variable's value (built up front: a graph
                                   must not grow while a run of it is under way) */
    tfc_node *init;
    tfc_node *ends[2]; /* each branch's last ConsumeMutexLock */
} sections;

/* One critical section after `after` (NULL: none): lock, read, add one,
 * assign, consume. Returns the ConsumeMutexLock. */
static tfc_node *section(sections *s, tfc_node *after) {
    tfc_graph *g = s->g;
    if (after) tfc_control_dependencies_push(g, &after, 1);
    tfc_output lock = tfc_mutex_lock(g, s->mutex);
    if (after) tfc_control_dependencies_pop(g);
    tfc_control_dependencies_push(g, &lock.node, 1);
    tfc_output r = tfc_read_variable_op(g, s->var, TFC_FLOAT);
    tfc_control_dependencies_pop(g);
    tfc_node *w = tfc_assign_variable_op(g, s->var, tfc_add(g, r, tfc_const_float(g, 1)));
    tfc_control_dependencies_push(g, &w, 1);
    tfc_node *done = tfc_consume_mutex_lock(g, lock);
    tfc_control_dependencies_pop(g);
    return done;
}

static void build(sections *s) {
    memset(s, 0, sizeof *s);
    s->g = tfc_graph_new();
    int64_t dims[1] = {WIDTH};
    s->mutex = tfc_mutex(s->g, "m", NULL);
    s->var = tfc_resource_variable(s->g, "v", tfc_zeros(s->g, TFC_FLOAT, 1, dims), 0);
    s->init = tfc_global_variables_initializer(s->g);
    s->read = tfc_read_variable_op(s->g, s->var, TFC_FLOAT);
    for (int b = 0; b < 2; b++) {
        tfc_node *last = NULL;
        for (int k = 0; k < K; k++) last = section(s, last);
        s->ends[b] = last;
    }
    CHECK_GRAPH_OK(s->g);
}

static float value_of(tfc_session *sess, sections *s, tfc_status *st) {
    tfc_tensor *t = NULL;
    tfc_session_run(sess, NULL, NULL, 0, &s->read, 1, &t, NULL, 0, st);
    float v = t ? ((float *)tfc_tensor_data(t))[WIDTH - 1] : -1;
    tfc_tensor_free(t);
    return v;
}

static void count_with_threads(int threads) {
    sections s;
    build(&s);
    tfc_session_options o = {0};
    o.inter_op_threads = threads;
    o.intra_op_threads = 1;
    tfc_status *st = tfc_status_new();
    tfc_session *sess = tfc_session_new(s.g, &o, st);
    tfc_session_run(sess, NULL, NULL, 0, NULL, 0, NULL, &s.init, 1, st);
    CHECK_STATUS_OK(st);
    /* a deadlock would end with DEADLINE_EXCEEDED, not hang the test */
    tfc_run_options ro = {0};
    ro.timeout_in_ms = 20000;
    for (int rep = 1; rep <= 3; rep++) {
        tfc_session_run_v2(sess, &ro, NULL, NULL, 0, NULL, 0, NULL, s.ends, 2, NULL, st);
        CHECK_STATUS_OK(st);
        float v = value_of(sess, &s, st);
        CHECK_MSG(v == (float)(2 * K * rep), "%d threads: %g after run %d, want %d", threads, v,
                  rep, 2 * K * rep);
    }
    tfc_session_free(sess);
    tfc_status_free(st);
    tfc_graph_free(s.g);
}

static void test_exact_count_four_threads(void) { count_with_threads(4); }
static void test_exact_count_one_thread(void) { count_with_threads(1); }

/* ---- a lock held outside the run ---- */

typedef struct runner {
    tfc_session *sess;
    tfc_node *target;
    int64_t timeout_ms;
    tfc_status *st;
    atomic_int finished;
} runner;

static void *run_target(void *arg) {
    runner *r = arg;
    tfc_run_options ro = {0};
    ro.timeout_in_ms = r->timeout_ms;
    tfc_session_run_v2(r->sess, &ro, NULL, NULL, 0, NULL, 0, NULL, &r->target, 1, NULL, r->st);
    atomic_store(&r->finished, 1);
    return NULL;
}

static double cpu_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* The session holding a fetched lock: the section's run waits, using no
 * CPU, and completes once the lock is freed. */
static void test_blocks_without_spinning(void) {
    for (int threads = 1; threads <= 2; threads++) {
        sections s;
        build(&s);
        tfc_output held_lock = tfc_mutex_lock(s.g, s.mutex);
        CHECK_GRAPH_OK(s.g);
        tfc_session_options o = {0};
        o.inter_op_threads = threads;
        tfc_status *st = tfc_status_new();
        tfc_session *sess = tfc_session_new(s.g, &o, st);
        tfc_session_run(sess, NULL, NULL, 0, NULL, 0, NULL, &s.init, 1, st);
        tfc_tensor *held = NULL;
        tfc_session_run(sess, NULL, NULL, 0, &held_lock, 1, &held, NULL, 0, st);
        CHECK_STATUS_OK(st);
        runner r = {sess, s.ends[0], 20000, tfc_status_new(), 0};
        pthread_t th;
        pthread_create(&th, NULL, run_target, &r);
        usleep(50 * 1000);
        double c0 = cpu_seconds();
        usleep(300 * 1000);
        double used = cpu_seconds() - c0;
        CHECK_MSG(!atomic_load(&r.finished), "the run went on while the lock was held");
        CHECK_MSG(used < 0.1, "%.3f s of CPU in 0.3 s of waiting: something spins", used);
        CHECK(value_of(sess, &s, st) == 0); /* not one section ran */
        tfc_tensor_free(held); /* releases the mutex */
        pthread_join(th, NULL);
        CHECK_STATUS_OK(r.st);
        CHECK(value_of(sess, &s, st) == K);
        tfc_status_free(r.st);
        tfc_session_free(sess);
        tfc_status_free(st);
        tfc_graph_free(s.g);
    }
}

/* A run waiting on a held lock ends with DEADLINE_EXCEEDED when its timeout
 * passes, and leaves the mutex as it was: once the lock is freed the next
 * run takes it. Closing the session ends a waiting run with CANCELLED. */
static void test_timeout_and_close(void) {
    sections s;
    build(&s);
    tfc_output held_lock = tfc_mutex_lock(s.g, s.mutex);
    tfc_status *st = tfc_status_new();
    tfc_session *sess = tfc_session_new(s.g, NULL, st);
    tfc_session_run(sess, NULL, NULL, 0, NULL, 0, NULL, &s.init, 1, st);
    tfc_tensor *held = NULL;
    tfc_session_run(sess, NULL, NULL, 0, &held_lock, 1, &held, NULL, 0, st);
    runner r = {sess, s.ends[0], 100, tfc_status_new(), 0};
    run_target(&r);
    CHECK_MSG(tfc_status_code(r.st) == TFC_DEADLINE_EXCEEDED, "%s", tfc_status_message(r.st));
    tfc_tensor_free(held);
    r.timeout_ms = 20000;
    run_target(&r);
    CHECK_STATUS_OK(r.st);
    CHECK(value_of(sess, &s, st) == K);

    /* hold it again; a waiting run ends when the session closes */
    tfc_session_run(sess, NULL, NULL, 0, &held_lock, 1, &held, NULL, 0, st);
    CHECK_STATUS_OK(st);
    atomic_store(&r.finished, 0);
    pthread_t th;
    pthread_create(&th, NULL, run_target, &r);
    usleep(100 * 1000);
    CHECK(!atomic_load(&r.finished));
    tfc_session_close(sess);
    pthread_join(th, NULL);
    CHECK_MSG(tfc_status_code(r.st) == TFC_CANCELLED, "%s", tfc_status_message(r.st));
    tfc_tensor_free(held);
    tfc_status_free(r.st);
    tfc_session_free(sess);
    tfc_status_free(st);
    tfc_graph_free(s.g);
}

/* MutexV2 nodes with one shared_name share a mutex; others do not. */
static void test_shared_name(void) {
    tfc_graph *g = tfc_graph_new();
    tfc_output a = tfc_mutex(g, "a", "shared"), b = tfc_mutex(g, "b", "shared");
    tfc_output c = tfc_mutex(g, "c", NULL);
    tfc_output la = tfc_mutex_lock(g, a);
    tfc_node *cb = tfc_consume_mutex_lock(g, tfc_mutex_lock(g, b));
    tfc_node *cc = tfc_consume_mutex_lock(g, tfc_mutex_lock(g, c));
    CHECK_GRAPH_OK(g);
    tfc_status *st = tfc_status_new();
    tfc_session *sess = tfc_session_new(g, NULL, st);
    tfc_tensor *held = NULL;
    tfc_session_run(sess, NULL, NULL, 0, &la, 1, &held, NULL, 0, st);
    CHECK_STATUS_OK(st);
    tfc_run_options ro = {0};
    ro.timeout_in_ms = 100;
    tfc_session_run_v2(sess, &ro, NULL, NULL, 0, NULL, 0, NULL, &cc, 1, NULL, st);
    CHECK_STATUS_OK(st);
    tfc_session_run_v2(sess, &ro, NULL, NULL, 0, NULL, 0, NULL, &cb, 1, NULL, st);
    CHECK(tfc_status_code(st) == TFC_DEADLINE_EXCEEDED);
    tfc_tensor_free(held);
    tfc_session_run_v2(sess, &ro, NULL, NULL, 0, NULL, 0, NULL, &cb, 1, NULL, st);
    CHECK_STATUS_OK(st);
    tfc_session_free(sess);
    tfc_status_free(st);
    tfc_graph_free(g);
}

/* Wrong inputs: named at build time where the graph shows them, else when
 * the op runs. */
static void test_misuse(void) {
    tfc_graph *g = tfc_graph_new();
    tfc_output m = tfc_mutex(g, "m", NULL);
    tfc_output lock = tfc_mutex_lock(g, m);
    CHECK(tfc_mutex_lock(g, lock).node == NULL);
    CHECK_CONTAINS(tfc_graph_error(g), "got the lock of MutexLock");
    tfc_graph_free(g);
    g = tfc_graph_new();
    m = tfc_mutex(g, "m", NULL);
    CHECK(tfc_consume_mutex_lock(g, m) == NULL);
    CHECK_CONTAINS(tfc_graph_error(g), "mutex_lock must be a MutexLock's output");
    tfc_graph_free(g);
    g = tfc_graph_new();
    CHECK(tfc_mutex_lock(g, tfc_const_float(g, 1)).node == NULL);
    CHECK_CONTAINS(tfc_graph_error(g), "mutex must be a resource handle");
    tfc_graph_free(g);

    /* a queue's handle fed as a mutex, a mutex's handle fed as a lock */
    g = tfc_graph_new();
    tfc_dtype f = TFC_FLOAT;
    tfc_output q = tfc_fifo_queue(g, 1, &f, 1, NULL, NULL);
    m = tfc_mutex(g, "m", NULL);
    tfc_output h = tfc_placeholder(g, "h", TFC_RESOURCE, 0, NULL);
    tfc_output l = tfc_mutex_lock(g, h);
    tfc_node *consume = tfc_consume_mutex_lock(g, h);
    CHECK_GRAPH_OK(g);
    tfc_status *st = tfc_status_new();
    tfc_session *sess = tfc_session_new(g, NULL, st);
    tfc_tensor *qh = NULL, *mh = NULL, *out = NULL;
    tfc_session_run(sess, NULL, NULL, 0, &q, 1, &qh, NULL, 0, st);
    tfc_session_run(sess, NULL, NULL, 0, &m, 1, &mh, NULL, 0, st);
    tfc_session_run(sess, &h, &qh, 1, &l, 1, &out, NULL, 0, st);
    CHECK(tfc_status_code(st) == TFC_INVALID_ARGUMENT);
    CHECK_CONTAINS(tfc_status_message(st), "not a mutex's handle");
    CHECK_CONTAINS(tfc_status_message(st), tfc_node_name(l.node));
    tfc_session_run(sess, &h, &mh, 1, NULL, 0, NULL, &consume, 1, st);
    CHECK(tfc_status_code(st) == TFC_INVALID_ARGUMENT);
    CHECK_CONTAINS(tfc_status_message(st), "Expected input to contain a MutexLock's lock");
    /* a lock whose copy is held elsewhere (fetched earlier) */
    tfc_tensor *lk = NULL;
    tfc_session_run(sess, &h, &mh, 1, &l, 1, &lk, NULL, 0, st);
    CHECK_STATUS_OK(st);
    tfc_tensor *copy = tfc_tensor_copy(lk);
    tfc_session_run(sess, &h, &copy, 1, NULL, 0, NULL, &consume, 1, st);
    CHECK(tfc_status_code(st) == TFC_INVALID_ARGUMENT);
    CHECK_CONTAINS(tfc_status_message(st), "Expected use count of lock to be 1, but saw: 2");
    tfc_tensor_free(copy);
    tfc_tensor_free(lk);
    tfc_tensor_free(qh);
    tfc_tensor_free(mh);
    tfc_tensor_free(out);
    tfc_session_free(sess);
    tfc_status_free(st);
    tfc_graph_free(g);
}

TFC_TEST_MAIN(T(test_exact_count_four_threads), T(test_exact_count_one_thread),
              T(test_blocks_without_spinning), T(test_timeout_and_close), T(test_shared_name),
              T(test_misuse))
