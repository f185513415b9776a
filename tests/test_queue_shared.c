/* shared_name queues, as TensorFlow shares them through its ResourceMgr:
 * two queue nodes of one session with the same (container, shared_name)
 * use one queue (enqueue through one node, dequeue, size and close
 * through the other, in either order of first run); another container,
 * no shared_name or another session gives another queue; a node whose
 * attrs disagree with the shared queue's fails naming it; sessions freed
 * leave nothing behind (ASan). */
#include "harness.h"

#include <string.h>

/* A FIFOQueueV2 of float scalars, capacity 10 unless given, built with the
 * generic builder so that every attr can be set. */
static tfc_output fifo(tfc_graph *g, const char *name, const char *shared, const char *container,
                       int64_t capacity, tfc_dtype dt) {
    tfc_op_desc *d = tfc_op_new(g, "FIFOQueueV2", name);
    int64_t types[] = {dt};
    tfc_op_set_attr_int_list(d, "component_types", types, 1);
    tfc_op_set_attr_int(d, "capacity", capacity);
    if (shared) tfc_op_set_attr_string(d, "shared_name", shared);
    if (container) tfc_op_set_attr_string(d, "container", container);
    return tfc_out(tfc_op_finish(d), 0);
}

static tfc_code run(tfc_session *s, const tfc_output *fetches, int n, tfc_tensor **out,
                    tfc_node *target, char *msg, size_t cap) {
    tfc_status *st = tfc_status_new();
    /* a dequeue that found no shared queue would wait for ever: time out */
    tfc_run_options o = {.timeout_in_ms = 20000};
    tfc_session_run_v2(s, &o, NULL, NULL, 0, fetches, n, out, target ? &target : NULL,
                       target ? 1 : 0, NULL, st);
    tfc_code c = tfc_status_code(st);
    if (msg) snprintf(msg, cap, "%s", tfc_status_message(st));
    tfc_status_free(st);
    return c;
}

static int32_t size_of(tfc_session *s, tfc_output size) {
    tfc_tensor *t = NULL;
    int32_t v = -1;
    if (run(s, &size, 1, &t, NULL, NULL, 0) == TFC_OK) v = *(int32_t *)tfc_tensor_data(t);
    tfc_tensor_free(t);
    return v;
}

typedef struct qnode {
    tfc_output q, size, one;
    tfc_node *enq, *close;
} qnode;

/* Around a queue: enqueue of [v, v+1, v+2], a dequeue, size and close. */
static qnode around(tfc_graph *g, tfc_output q, float v) {
    qnode n = {q, {0}, {0}, NULL, NULL};
    int64_t three = 3;
    tfc_output x = tfc_const_data(g, TFC_FLOAT, 1, &three, (float[]){v, v + 1, v + 2});
    n.enq = tfc_queue_enqueue_many(g, q, &x, 1);
    tfc_queue_dequeue(g, q, &n.one, 1);
    n.size = tfc_queue_size(g, q);
    n.close = tfc_queue_close(g, q, 0);
    return n;
}

static void test_two_nodes_share_one_queue(void) {
    tfc_graph *g = tfc_graph_new();
    qnode a = around(g, fifo(g, "qa", "shared_q", NULL, 10, TFC_FLOAT), 1);
    qnode b = around(g, fifo(g, "qb", "shared_q", NULL, 10, TFC_FLOAT), 100);
    qnode other = around(g, fifo(g, "qc", "shared_q", "elsewhere", 10, TFC_FLOAT), 50);
    qnode plain = around(g, fifo(g, "qd", NULL, NULL, 10, TFC_FLOAT), 70);
    CHECK_GRAPH_OK(g);
    tfc_status *st = tfc_status_new();
    tfc_session *s = tfc_session_new(g, NULL, st);
    CHECK_STATUS_OK(st);
    /* enqueue through a, read through b: b's first run finds a's queue */
    CHECK(run(s, NULL, 0, NULL, a.enq, NULL, 0) == TFC_OK);
    CHECK(size_of(s, b.size) == 3);
    tfc_tensor *t = NULL;
    CHECK(run(s, &b.one, 1, &t, NULL, NULL, 0) == TFC_OK);
    CHECK(t && *(float *)tfc_tensor_data(t) == 1.0f);
    tfc_tensor_free(t);
    CHECK(run(s, NULL, 0, NULL, b.enq, NULL, 0) == TFC_OK);
    CHECK(size_of(s, a.size) == 5);
    /* another container and no shared_name: queues of their own */
    CHECK(size_of(s, other.size) == 0);
    CHECK(size_of(s, plain.size) == 0);
    CHECK(run(s, NULL, 0, NULL, other.enq, NULL, 0) == TFC_OK);
    CHECK(size_of(s, other.size) == 3 && size_of(s, a.size) == 5);
    /* closing through b closes a's: the dequeues drain, then OUT_OF_RANGE
     * in TensorFlow's words, naming the shared name */
    CHECK(run(s, NULL, 0, NULL, b.close, NULL, 0) == TFC_OK);
    char msg[512];
    CHECK(run(s, NULL, 0, NULL, a.enq, msg, sizeof msg) == TFC_CANCELLED);
    float want[] = {2, 3, 100, 101, 102};
    for (int i = 0; i < 5; i++) {
        t = NULL;
        CHECK(run(s, i % 2 ? &a.one : &b.one, 1, &t, NULL, NULL, 0) == TFC_OK);
        CHECK(t && *(float *)tfc_tensor_data(t) == want[i]);
        tfc_tensor_free(t);
    }
    CHECK(run(s, &a.one, 1, &t, NULL, msg, sizeof msg) == TFC_OUT_OF_RANGE);
    CHECK_CONTAINS(msg, "FIFOQueue 'shared_q' is closed and has insufficient elements");

    /* another session on the graph: its own queue under that name */
    tfc_session *s2 = tfc_session_new(g, NULL, st);
    CHECK(size_of(s2, b.size) == 0);
    CHECK(run(s2, NULL, 0, NULL, a.enq, NULL, 0) == TFC_OK);
    CHECK(size_of(s2, b.size) == 3);
    tfc_session_free(s2);
    tfc_session_free(s);
    /* a new session after the old ones are gone starts empty */
    s = tfc_session_new(g, NULL, st);
    CHECK(size_of(s, a.size) == 0 && size_of(s, b.size) == 0);
    tfc_session_free(s);
    tfc_status_free(st);
    tfc_graph_free(g);
}

static void test_mismatch_names_the_queue(void) {
    static const struct {
        int64_t capacity;
        tfc_dtype dt;
        const char *want;
    } cases[] = {
        {20, TFC_FLOAT, "Shared queue 'sq' has capacity 10 but requested capacity was 20"},
        {10, TFC_INT32,
         "Shared queue 'sq' has component types float32 but requested component types were "
         "int32"},
    };
    for (int k = 0; k < 2; k++) {
        tfc_graph *g = tfc_graph_new();
        qnode a = around(g, fifo(g, "first", "sq", NULL, 10, TFC_FLOAT), 1);
        tfc_output q2 = fifo(g, "second", "sq", NULL, cases[k].capacity, cases[k].dt);
        tfc_output size2 = tfc_queue_size(g, q2);
        CHECK_GRAPH_OK(g);
        tfc_status *st = tfc_status_new();
        tfc_session *s = tfc_session_new(g, NULL, st);
        CHECK(size_of(s, a.size) == 0);
        char msg[512];
        tfc_tensor *none = NULL;
        CHECK(run(s, &size2, 1, &none, NULL, msg, sizeof msg) == TFC_INVALID_ARGUMENT);
        tfc_tensor_free(none);
        CHECK_CONTAINS(msg, cases[k].want);
        CHECK_CONTAINS(msg, "second");
        /* the first node's queue is unharmed */
        CHECK(run(s, NULL, 0, NULL, a.enq, NULL, 0) == TFC_OK);
        CHECK(size_of(s, a.size) == 3);
        tfc_session_free(s);
        tfc_status_free(st);
        tfc_graph_free(g);
    }
    /* another kind of queue under the name */
    tfc_graph *g = tfc_graph_new();
    tfc_dtype dt = TFC_FLOAT;
    tfc_output q1 = tfc_fifo_queue(g, 10, &dt, 1, NULL, "kinds");
    tfc_output q2 = tfc_random_shuffle_queue(g, 10, 0, &dt, 1, NULL, 1, "kinds");
    tfc_output s1 = tfc_queue_size(g, q1), s2 = tfc_queue_size(g, q2);
    CHECK_GRAPH_OK(g);
    tfc_status *st = tfc_status_new();
    tfc_session *s = tfc_session_new(g, NULL, st);
    CHECK(size_of(s, s1) == 0);
    char msg[512];
    tfc_tensor *none = NULL;
    CHECK(run(s, &s2, 1, &none, NULL, msg, sizeof msg) == TFC_INVALID_ARGUMENT);
    tfc_tensor_free(none);
    CHECK_CONTAINS(msg, "Shared queue 'kinds' is a FIFOQueue, but this node asks for a "
                        "RandomShuffleQueue");
    tfc_session_free(s);
    tfc_status_free(st);
    tfc_graph_free(g);
}

/* Both nodes in one run: whichever kernel runs first makes the queue. */
static void test_first_use_in_one_run(void) {
    tfc_graph *g = tfc_graph_new();
    qnode a = around(g, fifo(g, "qa", "together", NULL, 10, TFC_FLOAT), 1);
    qnode b = around(g, fifo(g, "qb", "together", NULL, 10, TFC_FLOAT), 4);
    tfc_node *both = tfc_group(g, (tfc_node *[]){a.enq, b.enq}, 2);
    CHECK_GRAPH_OK(g);
    tfc_session_options o = {0};
    o.inter_op_threads = o.intra_op_threads = 2;
    tfc_status *st = tfc_status_new();
    tfc_session *s = tfc_session_new(g, &o, st);
    CHECK(run(s, NULL, 0, NULL, both, NULL, 0) == TFC_OK);
    CHECK(size_of(s, a.size) == 6 && size_of(s, b.size) == 6);
    tfc_session_free(s);
    tfc_status_free(st);
    tfc_graph_free(g);
}

TFC_TEST_MAIN(T(test_two_nodes_share_one_queue), T(test_mismatch_names_the_queue),
              T(test_first_use_in_one_run))
