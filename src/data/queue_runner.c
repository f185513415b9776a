/* tf.train.QueueRunner and tf.train.start_queue_runners. A queue runner is
 * kept in the graph's collections: "queue_runners" lists the queue nodes,
 * and for runner i the collections "queue_runners/<i>/enqueue_ops",
 * ".../close_op" and ".../cancel_op" list its ops (TensorFlow keeps a
 * QueueRunnerDef of the same names in its MetaGraph).
 *
 * Each enqueue op gets a thread running it until the coordinator stops or
 * the queue behind it closes (OUT_OF_RANGE or CANCELLED: the last such
 * thread closes the runner's queue); any other error stops the
 * coordinator with it. One more thread waits for the stop and then runs
 * the cancel op (a close that fails pending enqueues), so threads blocked
 * in a full queue end too. */
#define _GNU_SOURCE /* SCHED_BATCH */
#include "core/threadpool.h"
#include "data/coordinator.h"
#include "graph/graph.h"

#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define QR_KEY "queue_runners"

static void key_for(char *buf, size_t n, int i, const char *what) {
    snprintf(buf, n, QR_KEY "/%d/%s", i, what);
}

int tfc_add_queue_runner(tfc_graph *g, tfc_output queue, tfc_node *const *enqueue_ops, int n,
                         tfc_node *close_op, tfc_node *cancel_op) {
    if (!g || tfc_graph_error(g)) return -1;
    if (!queue.node || n < 1 || !enqueue_ops) {
        tfc_graph_fail(g, TFC_INVALID_ARGUMENT,
                       "tfc_add_queue_runner: needs a queue and at least one enqueue op");
        return -1;
    }
    for (int k = 0; k < n; k++)
        if (!enqueue_ops[k]) {
            tfc_graph_fail(g, TFC_INVALID_ARGUMENT, "tfc_add_queue_runner: enqueue op %d is NULL",
                           k);
            return -1;
        }
    if (!close_op) close_op = tfc_queue_close(g, queue, 0);
    if (!cancel_op) cancel_op = tfc_queue_close(g, queue, 1);
    if (!close_op || !cancel_op) return -1;
    int i = tfc_graph_collection_size(g, QR_KEY);
    char key[64];
    for (int k = 0; k < n; k++) {
        key_for(key, sizeof key, i, "enqueue_ops");
        tfc_graph_add_to_collection(g, key, enqueue_ops[k]);
    }
    key_for(key, sizeof key, i, "close_op");
    tfc_graph_add_to_collection(g, key, close_op);
    key_for(key, sizeof key, i, "cancel_op");
    tfc_graph_add_to_collection(g, key, cancel_op);
    tfc_graph_add_to_collection(g, QR_KEY, queue.node);
    return tfc_graph_error(g) ? -1 : 0;
}

int tfc_graph_num_queue_runners(const tfc_graph *g) { return tfc_graph_collection_size(g, QR_KEY); }

/* One runner being run: shared by its threads, freed by the last one. */
typedef struct qr_run {
    tfc_session *s;
    tfc_node *close_op, *cancel_op;
    pthread_mutex_t lock;
    int runs;    /* enqueue threads still running */
    int threads; /* threads holding this */
} qr_run;

typedef struct qr_thread {
    qr_run *run;
    tfc_node *enqueue_op; /* NULL: the thread that cancels on stop */
} qr_thread;

static void qr_release(qr_run *r) {
    pthread_mutex_lock(&r->lock);
    int last = --r->threads == 0;
    pthread_mutex_unlock(&r->lock);
    if (!last) return;
    pthread_mutex_destroy(&r->lock);
    free(r);
}

static void run_op(tfc_session *s, tfc_node *op, tfc_status *st) {
    tfc_session_run(s, NULL, NULL, 0, NULL, 0, NULL, &op, 1, st);
}

/* Enqueue threads are throughput work: under SCHED_BATCH (Linux; any
 * thread may ask for it) the kernel does not let one that wakes preempt a
 * running thread. A training step's DequeueMany wakes a runner blocked on
 * the full queue; at normal policy it took the step's core at once for
 * the ~100 records it had room for (about 90 us), while the other core
 * waited on that thread's half of the next product. It now runs in the
 * step's idle moments and at the scheduler's ticks, with its fair share. */
static void run_as_batch_work(void) {
#ifdef SCHED_BATCH
    struct sched_param param = {0};
    (void)pthread_setschedparam(pthread_self(), SCHED_BATCH, &param); /* best effort */
#endif
}

static void enqueue_thread(void *arg, tfc_coordinator *coord) {
    qr_thread *t = arg;
    qr_run *r = t->run;
    tfc_status *st = tfc_status_new();
    run_as_batch_work();
    /* the enqueue steps run here, serially: handing their nodes to the
     * session's pool would take its threads from the training step */
    tfc_threadpool_set_inline_thread(1);
    while (st && !tfc_coordinator_should_stop(coord)) {
        run_op(r->s, t->enqueue_op, st);
        tfc_code code = tfc_status_code(st);
        if (code == TFC_OK) continue;
        if (code == TFC_OUT_OF_RANGE || code == TFC_CANCELLED) {
            /* the input ended or the queue closed: the last thread closes it */
            pthread_mutex_lock(&r->lock);
            int last = --r->runs == 0;
            pthread_mutex_unlock(&r->lock);
            if (last) run_op(r->s, r->close_op, st); /* may fail: already closed */
            goto done;
        }
        tfc_coordinator_request_stop(coord, st);
        break;
    }
    pthread_mutex_lock(&r->lock);
    r->runs--;
    pthread_mutex_unlock(&r->lock);
done:
    tfc_status_free(st);
    free(t);
    qr_release(r);
}

static void cancel_thread(void *arg, tfc_coordinator *coord) {
    qr_thread *t = arg;
    qr_run *r = t->run;
    tfc_coordinator_wait_for_stop(coord, -1);
    tfc_status *st = tfc_status_new();
    if (st) run_op(r->s, r->cancel_op, st); /* errors (a closed session) do not matter */
    tfc_status_free(st);
    free(t);
    qr_release(r);
}

int tfc_start_queue_runners(tfc_session *s, tfc_coordinator *coord, tfc_status *status) {
    if (!s || !coord) {
        tfc_status_set(status, TFC_INVALID_ARGUMENT,
                       "tfc_start_queue_runners: session and coordinator are required");
        return -1;
    }
    const tfc_graph *g = tfc_session_graph(s);
    int nqr = tfc_graph_collection_size(g, QR_KEY), started = 0;
    for (int i = 0; i < nqr; i++) {
        char key[64], name[300];
        key_for(key, sizeof key, i, "enqueue_ops");
        int n = tfc_graph_collection_size(g, key);
        qr_run *r = calloc(1, sizeof *r);
        if (!r) goto oom;
        r->s = s;
        key_for(key, sizeof key, i, "close_op");
        r->close_op = tfc_graph_collection_get(g, key, 0);
        key_for(key, sizeof key, i, "cancel_op");
        r->cancel_op = tfc_graph_collection_get(g, key, 0);
        pthread_mutex_init(&r->lock, NULL);
        r->runs = n;
        r->threads = n + 1;
        const char *qname = tfc_node_name(tfc_graph_collection_get(g, QR_KEY, i));
        key_for(key, sizeof key, i, "enqueue_ops");
        for (int k = 0; k <= n; k++) {
            qr_thread *t = calloc(1, sizeof *t);
            if (t) {
                t->run = r;
                t->enqueue_op = k < n ? tfc_graph_collection_get(g, key, k) : NULL;
                snprintf(name, sizeof name, "QueueRunner(%s):%s", qname,
                         k < n ? "enqueue" : "cancel");
            }
            if (!t || tfc_coordinator_start_thread(coord, name,
                                                   k < n ? enqueue_thread : cancel_thread, t)) {
                free(t);
                /* the threads not started never release r: give up their shares */
                pthread_mutex_lock(&r->lock);
                r->runs -= k < n ? n - k : 0;
                int left = r->threads -= n + 1 - k;
                pthread_mutex_unlock(&r->lock);
                if (!left) {
                    pthread_mutex_destroy(&r->lock);
                    free(r);
                }
                goto oom;
            }
            started++;
        }
    }
    tfc_status_set(status, TFC_OK, NULL);
    return started;
oom:
    tfc_status_set(status, TFC_RESOURCE_EXHAUSTED,
                   "could not start the queue runners' threads (%d started; stop and join the "
                   "coordinator)",
                   started);
    return -1;
}
