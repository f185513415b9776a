/* Runs that skip resource handle nodes (TFC_OP_HANDLE: queues, readers,
 * mutexes, accumulators; tfc_plan.handles): once a plan's handles have
 * each made their resource, a run starts with the handles in their slots
 * and does not run the nodes. Each case checks the results are those of
 * running every node, and that the skipping happens where it should and
 * not where it must not. */
#include "harness.h"

#include "runtime/runtime.h"

#include <pthread.h>
#include <stdlib.h>

static tfc_session *session(tfc_graph *g, int threads, tfc_status *st) {
    tfc_session_options o = {0};
    o.inter_op_threads = o.intra_op_threads = threads;
    return tfc_session_new(g, &o, st);
}

static float run_float(tfc_session *s, tfc_output out, tfc_status *st) {
    tfc_tensor *v = NULL;
    tfc_session_run(s, NULL, NULL, 0, &out, 1, &v, NULL, 0, st);
    float f = v ? *(const float *)tfc_tensor_data(v) : -1.0f;
    tfc_tensor_free(v);
    return f;
}

static int run_int(tfc_session *s, tfc_output out, tfc_status *st) {
    tfc_tensor *v = NULL;
    tfc_session_run(s, NULL, NULL, 0, &out, 1, &v, NULL, 0, st);
    int i = v ? *(const int32_t *)tfc_tensor_data(v) : -1;
    tfc_tensor_free(v);
    return i;
}

static int handles_ready(tfc_session *s, const tfc_output *fetches, int nfetches,
                         tfc_node *const *targets, int ntargets) {
    tfc_plan *p = tfc_session_find_plan(s, NULL, 0, fetches, nfetches, targets, ntargets);
    return p && p->nhandles > 0 && atomic_load(&p->handles_ready);
}

/* A queue's enqueue and dequeue plans: the first run of each runs the
 * handle; later runs skip it, and the elements still come out in order,
 * through the one queue that both plans' handles name. */
static void test_skipped_after_first_run(void) {
    for (int threads = 1; threads <= 2; threads++) {
        tfc_graph *g = tfc_graph_new();
        tfc_dtype f32 = TFC_FLOAT;
        tfc_output q = tfc_fifo_queue(g, 100, &f32, 1, NULL, NULL);
        int64_t none[1] = {0};
        tfc_output counter = tfc_variable(g, "counter", tfc_zeros(g, TFC_FLOAT, 0, none));
        tfc_output next = tfc_assign_add(g, counter, tfc_const_float(g, 1.0f));
        tfc_node *enq = tfc_queue_enqueue(g, q, &next, 1);
        tfc_output one;
        tfc_queue_dequeue(g, q, &one, 1);
        tfc_output size = tfc_queue_size(g, q);
        tfc_node *init = tfc_global_variables_initializer(g);
        CHECK_GRAPH_OK(g);
        tfc_status *st = tfc_status_new();
        tfc_session *s = session(g, threads, st);
        tfc_session_run(s, NULL, NULL, 0, NULL, 0, NULL, &init, 1, st);
        CHECK_STATUS_OK(st);
        for (int i = 0; i < 10; i++) {
            tfc_session_run(s, NULL, NULL, 0, NULL, 0, NULL, &enq, 1, st);
            CHECK_STATUS_OK(st);
            CHECK(handles_ready(s, NULL, 0, &enq, 1));
        }
        CHECK(run_int(s, size, st) == 10);
        CHECK(handles_ready(s, &size, 1, NULL, 0));
        for (int i = 1; i <= 10; i++) {
            float v = run_float(s, one, st);
            CHECK_STATUS_OK(st);
            CHECK_MSG(v == (float)i, "element %d came out as %g", i, v);
        }
        CHECK(handles_ready(s, &one, 1, NULL, 0));
        CHECK(run_int(s, size, st) == 0);
        /* the handle itself, fetched from a skipping run, is the queue's */
        tfc_tensor *h1 = NULL, *h2 = NULL;
        tfc_session_run(s, NULL, NULL, 0, &q, 1, &h1, NULL, 0, st);
        tfc_session_run(s, NULL, NULL, 0, &q, 1, &h2, NULL, 0, st);
        CHECK_STATUS_OK(st);
        CHECK(handles_ready(s, &q, 1, NULL, 0));
        CHECK(h1 && h2 && tfc_tensor_resource(h1, 0) == tfc_tensor_resource(h2, 0));
        tfc_tensor_free(h1);
        tfc_tensor_free(h2);
        /* the fetched copies are the caller's: the session's still works */
        tfc_session_run(s, NULL, NULL, 0, NULL, 0, NULL, &enq, 1, st);
        CHECK(run_int(s, size, st) == 1);
        tfc_session_free(s);
        tfc_status_free(st);
        tfc_graph_free(g);
    }
}

/* A handle made under a control dependency waits for it in every run, so
 * it is never skipped (its control input still has to run first). */
static void test_handle_with_control_input_runs(void) {
    tfc_graph *g = tfc_graph_new();
    int64_t none[1] = {0};
    tfc_output counter = tfc_variable(g, "counter", tfc_zeros(g, TFC_FLOAT, 0, none));
    tfc_output bump = tfc_assign_add(g, counter, tfc_const_float(g, 1.0f));
    tfc_control_dependencies_push(g, &bump.node, 1);
    tfc_dtype f32 = TFC_FLOAT;
    tfc_output q = tfc_fifo_queue(g, 100, &f32, 1, NULL, NULL);
    tfc_control_dependencies_pop(g);
    tfc_output c = tfc_const_float(g, 7.0f);
    tfc_node *enq = tfc_queue_enqueue(g, q, &c, 1);
    tfc_node *init = tfc_global_variables_initializer(g);
    CHECK_GRAPH_OK(g);
    tfc_status *st = tfc_status_new();
    tfc_session *s = session(g, 1, st);
    tfc_session_run(s, NULL, NULL, 0, NULL, 0, NULL, &init, 1, st);
    for (int i = 0; i < 5; i++) tfc_session_run(s, NULL, NULL, 0, NULL, 0, NULL, &enq, 1, st);
    CHECK_STATUS_OK(st);
    tfc_plan *p = tfc_session_find_plan(s, NULL, 0, NULL, 0, &enq, 1);
    CHECK(p && p->nhandles == 0);
    CHECK(run_float(s, counter, st) == 5.0f); /* the dependency ran every time */
    tfc_session_free(s);
    tfc_status_free(st);
    tfc_graph_free(g);
}

/* A handle whose kernel fails (a shared name already used by a queue of
 * another dtype) fails every run: a failed run never lets the plan skip. */
static void test_failing_handle_is_not_skipped(void) {
    tfc_graph *g = tfc_graph_new();
    tfc_dtype f32 = TFC_FLOAT, i32 = TFC_INT32;
    tfc_output qa = tfc_fifo_queue(g, 10, &f32, 1, NULL, "shared_q");
    tfc_output qb = tfc_fifo_queue(g, 10, &i32, 1, NULL, "shared_q");
    tfc_output sa = tfc_queue_size(g, qa), sb = tfc_queue_size(g, qb);
    CHECK_GRAPH_OK(g);
    tfc_status *st = tfc_status_new();
    tfc_session *s = session(g, 1, st);
    CHECK(run_int(s, sa, st) == 0);
    CHECK_STATUS_OK(st);
    for (int i = 0; i < 3; i++) {
        run_int(s, sb, st);
        CHECK_MSG(tfc_status_code(st) == TFC_INVALID_ARGUMENT, "run %d: %s", i,
                  tfc_status_message(st));
        CHECK(!handles_ready(s, &sb, 1, NULL, 0));
    }
    tfc_session_free(s);
    tfc_status_free(st);
    tfc_graph_free(g);
}

/* A traced run runs every node, handles included, so that its step
 * statistics show them. */
static void test_traced_run_shows_handles(void) {
    tfc_graph *g = tfc_graph_new();
    tfc_dtype f32 = TFC_FLOAT;
    tfc_output q = tfc_fifo_queue(g, 10, &f32, 1, NULL, NULL);
    tfc_output size = tfc_queue_size(g, q);
    CHECK_GRAPH_OK(g);
    tfc_status *st = tfc_status_new();
    tfc_session *s = session(g, 1, st);
    run_int(s, size, st);
    run_int(s, size, st);
    CHECK(handles_ready(s, &size, 1, NULL, 0));
    tfc_run_options ro = {0};
    ro.trace_level = TFC_TRACE_FULL;
    tfc_run_metadata *md = tfc_run_metadata_new();
    tfc_tensor *v = NULL;
    tfc_session_run_v2(s, &ro, NULL, NULL, 0, &size, 1, &v, NULL, 0, md, st);
    CHECK_STATUS_OK(st);
    int saw_queue = 0;
    for (int i = 0; i < tfc_run_metadata_num_nodes(md); i++)
        saw_queue += strcmp(tfc_run_metadata_node_op(md, i), "FIFOQueueV2") == 0;
    CHECK(saw_queue == 1);
    tfc_tensor_free(v);
    tfc_run_metadata_free(md);
    tfc_session_free(s);
    tfc_status_free(st);
    tfc_graph_free(g);
}

/* Threads making a plan's first runs at once (the handles made once, the
 * plan told so once) and going on with skipping runs: no element lost. */
typedef struct enqueuer {
    tfc_session *s;
    tfc_node *enq;
    int failed;
} enqueuer;

static void *enqueue_many_times(void *arg) {
    enqueuer *e = arg;
    tfc_status *st = tfc_status_new();
    for (int i = 0; i < 300; i++) {
        tfc_session_run(e->s, NULL, NULL, 0, NULL, 0, NULL, &e->enq, 1, st);
        if (tfc_status_code(st) != TFC_OK) e->failed++;
    }
    tfc_status_free(st);
    return NULL;
}

static void test_concurrent_first_runs(void) {
    enum { T = 3 };
    for (int round = 0; round < 20; round++) {
        tfc_graph *g = tfc_graph_new();
        tfc_dtype f32 = TFC_FLOAT;
        tfc_output q = tfc_fifo_queue(g, 1000, &f32, 1, NULL, NULL);
        tfc_output c = tfc_const_float(g, 1.0f);
        tfc_node *enq = tfc_queue_enqueue(g, q, &c, 1);
        tfc_output size = tfc_queue_size(g, q);
        CHECK_GRAPH_OK(g);
        tfc_status *st = tfc_status_new();
        tfc_session *s = session(g, 2, st);
        pthread_t th[T];
        enqueuer e[T];
        for (int i = 0; i < T; i++) {
            e[i] = (enqueuer){s, enq, 0};
            pthread_create(&th[i], NULL, enqueue_many_times, &e[i]);
        }
        for (int i = 0; i < T; i++) pthread_join(th[i], NULL);
        for (int i = 0; i < T; i++) CHECK(e[i].failed == 0);
        CHECK(handles_ready(s, NULL, 0, &enq, 1));
        CHECK(run_int(s, size, st) == T * 300);
        tfc_session_free(s);
        tfc_status_free(st);
        tfc_graph_free(g);
    }
}

/* A plan of handles only (two queues' handles fetched): once they are
 * ready a run has no node to run, on one thread or on the pool. */
static void test_plan_of_handles_only(void) {
    for (int threads = 1; threads <= 2; threads++) {
        tfc_graph *g = tfc_graph_new();
        tfc_dtype f32 = TFC_FLOAT;
        tfc_output q[2] = {tfc_fifo_queue(g, 10, &f32, 1, NULL, NULL),
                           tfc_fifo_queue(g, 10, &f32, 1, NULL, NULL)};
        CHECK_GRAPH_OK(g);
        tfc_status *st = tfc_status_new();
        tfc_session *s = session(g, threads, st);
        for (int i = 0; i < 8; i++) {
            tfc_tensor *h[2] = {NULL, NULL};
            tfc_session_run(s, NULL, NULL, 0, q, 2, h, NULL, 0, st);
            CHECK_STATUS_OK(st);
            CHECK(h[0] && h[1] && tfc_tensor_resource(h[0], 0) != tfc_tensor_resource(h[1], 0));
            tfc_tensor_free(h[0]);
            tfc_tensor_free(h[1]);
        }
        CHECK(handles_ready(s, q, 2, NULL, 0));
        tfc_session_free(s);
        tfc_status_free(st);
        tfc_graph_free(g);
    }
}

TFC_TEST_MAIN(T(test_plan_of_handles_only), T(test_skipped_after_first_run), T(test_handle_with_control_input_runs),
              T(test_failing_handle_is_not_skipped), T(test_traced_run_shows_handles),
              T(test_concurrent_first_runs))
