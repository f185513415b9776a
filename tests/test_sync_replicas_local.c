/* The SyncReplicasOptimizer's graph in one process (the cluster runs are
 * tests/mpi/test_sync_replicas.c): one replica trains with the chief's
 * sync op running on a thread of its own, each step applied once and
 * counted once; init tokens let the replica run one step ahead; the
 * builders' errors; the Resource* accumulator ops work alike. */
#include "harness.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

typedef struct loop {
    tfc_session *s;
    tfc_node *op;
    int runs;
    tfc_code code;
} loop;

static void *run_loop(void *arg) {
    loop *l = arg;
    tfc_status *st = tfc_status_new();
    for (int k = 0; k < l->runs && tfc_status_code(st) == TFC_OK; k++)
        tfc_session_run(l->s, NULL, NULL, 0, NULL, 0, NULL, &l->op, 1, st);
    l->code = tfc_status_code(st);
    tfc_status_free(st);
    return NULL;
}

static int64_t fetch_i64(tfc_session *s, tfc_output o) {
    tfc_status *st = tfc_status_new();
    tfc_tensor *t = NULL;
    tfc_session_run(s, NULL, NULL, 0, &o, 1, &t, NULL, 0, st);
    CHECK_STATUS_OK(st);
    int64_t v = t ? *(int64_t *)tfc_tensor_data(t) : -1;
    tfc_tensor_free(t);
    tfc_status_free(st);
    return v;
}

/* w starts at 3, loss w^2: each step w -= 0.25 * 2w, so w halves. */
static void test_one_replica_trains(void) {
    tfc_graph *g = tfc_graph_new();
    tfc_output w = tfc_variable(g, "w", tfc_const_float(g, 3.0f));
    tfc_output loss = tfc_square(g, w);
    tfc_output gs = tfc_train_get_or_create_global_step(g);
    tfc_sync_replicas_optimizer *sro =
        tfc_sync_replicas_optimizer_new(tfc_gradient_descent_optimizer(0.25), 1, 1);
    tfc_node *train = tfc_sync_replicas_minimize(sro, g, loss, NULL, 0, gs);
    tfc_node *init = tfc_global_variables_initializer(g);
    tfc_node *tokens = tfc_sync_replicas_init_tokens_op(sro, -1);
    CHECK_GRAPH_OK(g);
    CHECK(train && tokens && tfc_sync_replicas_chief_init_op(sro) &&
          tfc_sync_replicas_sync_op(sro) && tfc_sync_replicas_token_queue(sro).node &&
          tfc_sync_replicas_accumulator(sro, w).node);
    tfc_session_options o;
    memset(&o, 0, sizeof o);
    o.inter_op_threads = 2;
    tfc_status *st = tfc_status_new();
    tfc_session *s = tfc_session_new(g, &o, st);
    CHECK_STATUS_OK(st);
    tfc_node *ci = tfc_sync_replicas_chief_init_op(sro);
    tfc_session_run(s, NULL, NULL, 0, NULL, 0, NULL, &init, 1, st);
    tfc_session_run(s, NULL, NULL, 0, NULL, 0, NULL, &ci, 1, st);
    CHECK_STATUS_OK(st);
    enum { K = 5 };
    loop l = {s, tfc_sync_replicas_sync_op(sro), K, TFC_OK};
    pthread_t th;
    pthread_create(&th, NULL, run_loop, &l);
    for (int k = 0; k < K; k++) {
        tfc_session_run(s, NULL, NULL, 0, NULL, 0, NULL, &train, 1, st);
        CHECK_STATUS_OK(st);
        /* the token came after the update: both steps are k + 1 */
        CHECK(fetch_i64(s, gs) == k + 1);
        CHECK(fetch_i64(s, tfc_sync_replicas_local_step(sro)) == k + 1);
    }
    pthread_join(th, NULL);
    CHECK(l.code == TFC_OK);
    tfc_tensor *t = NULL;
    tfc_session_run(s, NULL, NULL, 0, &w, 1, &t, NULL, 0, st);
    CHECK(t && *(float *)tfc_tensor_data(t) == 3.0f / 32.0f);
    tfc_tensor_free(t);
    /* an init token: the replica's next step does not wait for the chief
     * (its gradient waits in the accumulator) */
    tfc_session_run(s, NULL, NULL, 0, NULL, 0, NULL, &tokens, 1, st);
    CHECK_STATUS_OK(st);
    tfc_run_options ro;
    memset(&ro, 0, sizeof ro);
    ro.timeout_in_ms = 20000;
    tfc_session_run_v2(s, &ro, NULL, NULL, 0, NULL, 0, NULL, &train, 1, NULL, st);
    CHECK_STATUS_OK(st);
    CHECK(fetch_i64(s, gs) == K);
    tfc_output count = tfc_accumulator_num_accumulated(g, tfc_sync_replicas_accumulator(sro, w));
    tfc_tensor *c = NULL;
    tfc_session_run(s, NULL, NULL, 0, &count, 1, &c, NULL, 0, st);
    CHECK_STATUS_OK(st);
    CHECK(c && *(int32_t *)tfc_tensor_data(c) == 1);
    tfc_tensor_free(c);
    tfc_session_free(s);
    tfc_sync_replicas_optimizer_free(sro);
    tfc_graph_free(g);
    tfc_status_free(st);
}

static void test_builder_errors(void) {
    tfc_graph *g = tfc_graph_new();
    tfc_output w = tfc_variable(g, "w", tfc_const_float(g, 3.0f));
    tfc_output loss = tfc_square(g, w);
    tfc_sync_replicas_optimizer *sro =
        tfc_sync_replicas_optimizer_new(tfc_gradient_descent_optimizer(0.25), 3, 1);
    CHECK(tfc_sync_replicas_minimize(sro, g, loss, NULL, 0, (tfc_output){0}) == NULL);
    CHECK_CONTAINS(tfc_graph_error(g), "needs the global step");
    tfc_graph_free(g);

    g = tfc_graph_new();
    w = tfc_variable(g, "w", tfc_const_float(g, 3.0f));
    loss = tfc_square(g, w);
    tfc_output gs = tfc_train_get_or_create_global_step(g);
    CHECK(tfc_sync_replicas_minimize(sro, g, loss, NULL, 0, gs) != NULL);
    CHECK_GRAPH_OK(g);
    /* 3 to aggregate from 1 replica: it must be given 2 tokens at least */
    CHECK(tfc_sync_replicas_init_tokens_op(sro, 1) == NULL);
    CHECK_CONTAINS(tfc_graph_error(g), "1 tokens, but replicas_to_aggregate - total_num_replicas "
                                       "= 2 are needed");
    tfc_sync_replicas_optimizer_free(sro);
    tfc_graph_free(g);

    g = tfc_graph_new();
    w = tfc_variable(g, "w", tfc_const_float(g, 3.0f));
    loss = tfc_square(g, w);
    gs = tfc_train_get_or_create_global_step(g);
    sro = tfc_sync_replicas_optimizer_new(tfc_gradient_descent_optimizer(0.25), 1, 1);
    CHECK(tfc_sync_replicas_minimize(sro, g, loss, NULL, 0, gs) != NULL);
    CHECK(tfc_sync_replicas_minimize(sro, g, loss, NULL, 0, gs) == NULL);
    CHECK_CONTAINS(tfc_graph_error(g), "apply_gradients was called already");
    tfc_sync_replicas_optimizer_free(sro);
    tfc_graph_free(g);
    CHECK(tfc_sync_replicas_optimizer_new(NULL, 1, 1) == NULL);
}

/* ResourceConditionalAccumulator and its ops, built generically. */
static void test_resource_accumulator(void) {
    tfc_graph *g = tfc_graph_new();
    tfc_op_desc *d = tfc_op_new(g, "ResourceConditionalAccumulator", "racc");
    tfc_op_set_attr_type(d, "dtype", TFC_DOUBLE);
    tfc_op_set_attr_shape(d, "shape", 0, NULL);
    tfc_op_set_attr_string(d, "reduction_type", "SUM");
    tfc_output acc = tfc_out(tfc_op_finish(d), 0);
    tfc_node *ap[2];
    for (int i = 0; i < 2; i++) {
        d = tfc_op_new(g, "ResourceAccumulatorApplyGradient", NULL);
        tfc_op_add_input(d, acc);
        tfc_op_add_input(d, tfc_const_int64(g, 0));
        tfc_op_add_input(d, tfc_const_double(g, 1.5 + i));
        ap[i] = tfc_op_finish(d);
    }
    d = tfc_op_new(g, "ResourceAccumulatorTakeGradient", NULL);
    tfc_op_add_input(d, acc);
    tfc_op_add_input(d, tfc_const_int32(g, 2));
    tfc_output taken = tfc_out(tfc_op_finish(d), 0);
    d = tfc_op_new(g, "ResourceAccumulatorNumAccumulated", NULL);
    tfc_op_add_input(d, acc);
    tfc_output count = tfc_out(tfc_op_finish(d), 0);
    CHECK_GRAPH_OK(g);
    tfc_status *st = tfc_status_new();
    tfc_session *s = tfc_session_new(g, NULL, st);
    tfc_tensor *t = NULL;
    tfc_session_run(s, NULL, NULL, 0, &taken, 1, &t, ap, 2, st);
    CHECK_STATUS_OK(st);
    CHECK(t && *(double *)tfc_tensor_data(t) == 4.0);
    tfc_tensor_free(t);
    t = NULL;
    tfc_session_run(s, NULL, NULL, 0, &count, 1, &t, NULL, 0, st);
    CHECK(t && *(int32_t *)tfc_tensor_data(t) == 0);
    tfc_tensor_free(t);
    tfc_session_free(s);
    tfc_graph_free(g);
    tfc_status_free(st);
}

TFC_TEST_MAIN(T(test_one_replica_trains), T(test_builder_errors), T(test_resource_accumulator))
