/* Cluster specs without MPI: TensorFlow's JSON form and the layout over
 * ranks, the rank of each task, and every malformed spec's message. */
#include "harness.h"

#include <string.h>

static void test_json(void) {
    tfc_status *st = tfc_status_new();
    tfc_cluster *c = tfc_cluster_from_json(
        " {\"ps\": [\"h0:2222\"],\n \"worker\" : [\"h1:2222\", \"h2:2222\"] } ", st);
    CHECK_STATUS_OK(st);
    CHECK(tfc_cluster_num_jobs(c) == 2);
    CHECK(!strcmp(tfc_cluster_job_name(c, 0), "ps"));
    CHECK(!strcmp(tfc_cluster_job_name(c, 1), "worker"));
    CHECK(tfc_cluster_job_name(c, 2) == NULL);
    CHECK(tfc_cluster_num_tasks(c, "worker") == 2);
    CHECK(tfc_cluster_num_tasks(c, "chief") == -1);
    CHECK(tfc_cluster_total_tasks(c) == 3);
    CHECK(!strcmp(tfc_cluster_task_address(c, "worker", 1), "h2:2222"));
    CHECK(tfc_cluster_task_address(c, "worker", 2) == NULL);
    CHECK(tfc_cluster_task_rank(c, "ps", 0, st) == 0);
    CHECK(tfc_cluster_task_rank(c, "worker", 0, st) == 1);
    CHECK(tfc_cluster_task_rank(c, "worker", 1, st) == 2);
    const char *job = NULL;
    int task = -1;
    CHECK(tfc_cluster_rank_task(c, 2, &job, &task) == 0 && !strcmp(job, "worker") && task == 1);
    CHECK(tfc_cluster_rank_task(c, 3, &job, &task) == -1);
    /* jobs keep the order written: ranks follow it */
    tfc_cluster_free(c);
    c = tfc_cluster_from_json("{\"worker\": [\"a:1\"], \"ps\": [\"b:1\", \"c:\\\"1\"]}", st);
    CHECK_STATUS_OK(st);
    CHECK(tfc_cluster_task_rank(c, "ps", 1, st) == 2);
    CHECK(!strcmp(tfc_cluster_task_address(c, "ps", 1), "c:\"1"));
    tfc_cluster_free(c);
    tfc_cluster_free(NULL);
    tfc_status_free(st);
}

static void test_task_errors(void) {
    tfc_status *st = tfc_status_new();
    tfc_cluster *c = tfc_cluster_from_json("{\"ps\": [\"h0:1\"], \"worker\": [\"h1:1\"]}", st);
    CHECK(tfc_cluster_task_rank(c, "chief", 0, st) == -1);
    CHECK(tfc_status_code(st) == TFC_INVALID_ARGUMENT);
    CHECK_CONTAINS(tfc_status_message(st), "no job 'chief'");
    CHECK_CONTAINS(tfc_status_message(st), "'ps', 'worker'");
    CHECK(tfc_cluster_task_rank(c, "worker", 1, st) == -1);
    CHECK_CONTAINS(tfc_status_message(st), "task 1 of job 'worker' is out of range");
    CHECK_CONTAINS(tfc_status_message(st), "expected 0 to 0");
    CHECK(tfc_cluster_task_rank(c, "worker", -1, st) == -1);
    tfc_cluster_free(c);
    tfc_status_free(st);
}

/* Each malformed spec fails with a message naming what was expected. */
static void test_malformed_json(void) {
    static const struct {
        const char *json, *says;
    } cases[] = {
        {"", "expected '{'"},
        {"[\"ps\"]", "expected '{'"},
        {"{\"ps\": [\"a:1\"]", "',' or '}'"},
        {"{\"ps\": \"a:1\"}", "must map to a list of task addresses"},
        {"{\"ps\": [1]}", "a task address (a string)"},
        {"{\"ps\": [\"a:1\",]}", "a task address (a string)"},
        {"{ps: [\"a:1\"]}", "a job name (a string)"},
        {"{\"ps\" [\"a:1\"]}", "':' after a job name"},
        {"{\"ps\": [\"a:1\"], \"ps\": [\"b:1\"]}", "job 'ps' appears twice"},
        {"{\"ps\": []}", "job 'ps' has no tasks"},
        {"{\"9ps\": [\"a:1\"]}", "job name '9ps' is not valid"},
        {"{\"ps\": [\"a:1\"]} x", "unexpected text after the object"},
        {"{}", "no jobs"},
        {"{\"ps\": [\"a:1", "not closed"},
    };
    tfc_status *st = tfc_status_new();
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tfc_cluster *c = tfc_cluster_from_json(cases[i].json, st);
        CHECK_MSG(c == NULL && tfc_status_code(st) == TFC_INVALID_ARGUMENT, "case %zu", i);
        CHECK_CONTAINS(tfc_status_message(st), cases[i].says);
        tfc_cluster_free(c);
    }
    CHECK(tfc_cluster_from_json(NULL, st) == NULL);
    tfc_status_free(st);
}

static void test_layout(void) {
    tfc_status *st = tfc_status_new();
    tfc_cluster *c = tfc_cluster_from_layout("ps:1,worker:2", 3, st);
    CHECK_STATUS_OK(st);
    CHECK(tfc_cluster_task_rank(c, "ps", 0, st) == 0);
    CHECK(tfc_cluster_task_rank(c, "worker", 1, st) == 2);
    CHECK(tfc_cluster_task_address(c, "ps", 0) == NULL);
    tfc_cluster_free(c);
    /* a job without a count takes the ranks left, wherever it stands */
    c = tfc_cluster_from_layout("worker,ps:2", 5, st);
    CHECK_STATUS_OK(st);
    CHECK(tfc_cluster_num_tasks(c, "worker") == 3);
    CHECK(tfc_cluster_task_rank(c, "ps", 0, st) == 3);
    tfc_cluster_free(c);
    /* fewer tasks than ranks is fine: the extra ranks hold none */
    c = tfc_cluster_from_layout("ps:1,worker:1", 4, st);
    CHECK_STATUS_OK(st);
    CHECK(tfc_cluster_rank_task(c, 3, NULL, NULL) == -1);
    tfc_cluster_free(c);

    static const struct {
        const char *layout;
        int nranks;
        const char *says;
    } bad[] = {
        {"ps:1,worker:3", 3, "has 4 tasks but there are 3 ranks"},
        {"ps:2,worker", 2, "no ranks are left for job 'worker'"},
        {"ps,worker", 4, "only one job may leave out its count"},
        {"ps:0,worker:1", 2, "needs a task count above 0"},
        {"ps:x", 2, "needs a task count above 0"},
        {"ps:1,ps:1", 2, "job 'ps' appears twice"},
        {"", 2, "no jobs"},
        {":1", 2, "expected JOB:COUNT entries"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        c = tfc_cluster_from_layout(bad[i].layout, bad[i].nranks, st);
        CHECK_MSG(c == NULL && tfc_status_code(st) == TFC_INVALID_ARGUMENT, "case %zu", i);
        CHECK_CONTAINS(tfc_status_message(st), bad[i].says);
        tfc_cluster_free(c);
    }
    /* without MPI and without a count the number of ranks is unknown */
    c = tfc_cluster_from_layout("ps:1,worker", 0, st);
    CHECK(c == NULL && tfc_status_code(st) == TFC_FAILED_PRECONDITION);
    CHECK_CONTAINS(tfc_status_message(st), "tfc_mpi_init");
    tfc_status_free(st);
}

/* The replica device setter on a plain graph: variables round robin over
 * the ps tasks (or by size), the rest on the worker; a variable's updates
 * and optimizer slots follow it. */
static void test_replica_device_setter(void) {
    tfc_graph *g = tfc_graph_new();
    tfc_replica_device_setter_options o = {0};
    o.ps_tasks = 2;
    o.worker_device = "/job:worker/task:3";
    tfc_replica_device_setter *r = tfc_replica_device_setter_begin(g, NULL, &o);
    CHECK(r != NULL);
    int64_t big[] = {100, 100}, small[] = {2};
    tfc_output a = tfc_variable(g, "a", tfc_zeros(g, TFC_FLOAT, 2, big));
    tfc_output b = tfc_variable(g, "b", tfc_zeros(g, TFC_FLOAT, 1, small));
    tfc_output c = tfc_variable(g, "c", tfc_zeros(g, TFC_FLOAT, 1, small));
    tfc_device_push(g, "/cpu:0");
    tfc_output x = tfc_add(g, tfc_reduce_sum(g, a, NULL, 0, 0), tfc_reduce_sum(g, b, NULL, 0, 0));
    tfc_device_pop(g);
    tfc_device_push(g, "/job:ps/task:1");
    tfc_output pinned = tfc_identity(g, x);
    tfc_device_pop(g);
    tfc_output upd = tfc_assign_add(g, c, tfc_ones(g, TFC_FLOAT, 1, small));
    CHECK(tfc_replica_device_setter_end(r) == 0);
    CHECK_GRAPH_OK(g);
    CHECK(!strcmp(tfc_node_device(a.node), "/job:ps/task:0"));
    CHECK(!strcmp(tfc_node_device(b.node), "/job:ps/task:1"));
    CHECK(!strcmp(tfc_node_device(c.node), "/job:ps/task:0"));
    CHECK(!strcmp(tfc_node_device(x.node), "/job:worker/task:3/device:CPU:0"));
    CHECK(!strcmp(tfc_node_device(pinned.node), "/job:ps/task:1"));
    /* the update has no device of its own: colocation puts it with c */
    CHECK(tfc_node_device(upd.node) == NULL || !strcmp(tfc_node_device(upd.node), ""));
    tfc_graph_free(g);

    /* by size: the big variable fills ps 0, so the next two go to ps 1 */
    g = tfc_graph_new();
    o.strategy = TFC_PS_STRATEGY_BY_SIZE;
    r = tfc_replica_device_setter_begin(g, NULL, &o);
    a = tfc_variable(g, "a", tfc_zeros(g, TFC_FLOAT, 2, big));
    b = tfc_variable(g, "b", tfc_zeros(g, TFC_FLOAT, 1, small));
    c = tfc_variable(g, "c", tfc_zeros(g, TFC_FLOAT, 1, small));
    CHECK(tfc_replica_device_setter_end(r) == 0);
    CHECK(!strcmp(tfc_node_device(a.node), "/job:ps/task:0"));
    CHECK(!strcmp(tfc_node_device(b.node), "/job:ps/task:1"));
    CHECK(!strcmp(tfc_node_device(c.node), "/job:ps/task:1"));
    tfc_graph_free(g);

    /* no ps tasks known: an error on the graph */
    g = tfc_graph_new();
    CHECK(tfc_replica_device_setter_begin(g, NULL, NULL) == NULL);
    CHECK_CONTAINS(tfc_graph_error(g), "give ps_tasks or a cluster");
    tfc_graph_free(g);
}

TFC_TEST_MAIN(T(test_json), T(test_task_errors), T(test_malformed_json), T(test_layout),
              T(test_replica_device_setter))
