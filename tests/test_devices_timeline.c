/* Step statistics (tfc_session_run_v2 with TFC_TRACE_FULL) and their Chrome
 * trace: one entry per executed node with its device, thread, times and
 * output sizes; the JSON parses (python3's json module) and holds one
 * complete event per entry. */
#include "harness.h"

#include <stdlib.h>
#include <unistd.h>

static const char *cpu_type[] = {"CPU"};

#define CPU0 "/job:localhost/replica:0/task:0/device:CPU:0"
#define CPU1 "/job:localhost/replica:0/task:0/device:CPU:1"

/* Index of the entry for node `name`, or -1; counts entries in *n. */
static int find_entry(const tfc_run_metadata *md, const char *name, int *n) {
    int at = -1;
    *n = 0;
    for (int i = 0; i < tfc_run_metadata_num_nodes(md); i++)
        if (!strcmp(tfc_run_metadata_node_name(md, i), name)) {
            at = i;
            (*n)++;
        }
    return at;
}

/* Parses the trace file with python3 and prints "events pids": the count
 * of "X" events and of distinct process rows. */
static int python_check(const char *path, int *events, int *pids) {
    char cmd[512];
    snprintf(cmd, sizeof cmd,
             "python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); "
             "x=[e for e in d[\"traceEvents\"] if e[\"ph\"]==\"X\"]; "
             "assert all(e[\"dur\"]>=0 and e[\"ts\"]>=0 for e in x); "
             "print(len(x), len(set(e[\"pid\"] for e in x)))' %s",
             path);
    FILE *p = popen(cmd, "r");
    if (!p) return -1;
    int ok = fscanf(p, "%d %d", events, pids) == 2;
    return pclose(p) == 0 && ok ? 0 : -1;
}

static void test_step_stats_and_chrome_trace(void) {
    tfc_graph *g = tfc_graph_new();
    int64_t xd[] = {4, 8};
    tfc_output x = tfc_placeholder(g, "x", TFC_FLOAT, 2, xd);
    tfc_output xt = tfc_transpose(g, x, NULL, 0);
    tfc_with_name(g, "first");
    tfc_output a = tfc_matmul(g, x, xt); /* [4, 4] */
    tfc_device_push(g, "/cpu:1");
    tfc_with_name(g, "second");
    tfc_output b = tfc_relu(g, a);
    tfc_device_pop(g);
    tfc_with_name(g, "third");
    tfc_output c = tfc_reduce_sum(g, b, NULL, 0, 0);
    CHECK_GRAPH_OK(g);
    static const int counts[] = {2};
    tfc_session_options o = {.num_device_types = 1, .device_types = cpu_type,
                             .device_counts = counts, .inter_op_threads = 2};
    tfc_status *st = tfc_status_new();
    tfc_session *s = tfc_session_new(g, &o, st);
    tfc_tensor *xv = tfc_test_random_tensor(TFC_FLOAT, 2, xd, -1, 1);
    tfc_run_options ro = {.trace_level = TFC_TRACE_FULL};
    tfc_run_metadata *md = tfc_run_metadata_new();
    tfc_tensor *out = NULL;
    /* without trace_level nothing is recorded */
    tfc_run_options none = {0};
    tfc_session_run_v2(s, &none, &x, &xv, 1, &c, 1, &out, NULL, 0, md, st);
    CHECK_STATUS_OK(st);
    CHECK(tfc_run_metadata_num_nodes(md) == 0);
    tfc_tensor_free(out);
    tfc_session_run_v2(s, &ro, &x, &xv, 1, &c, 1, &out, NULL, 0, md, st);
    CHECK_STATUS_OK(st);
    CHECK(out != NULL);
    int n = tfc_run_metadata_num_nodes(md), count;
    /* Transpose, first, second, third, and a _Send/_Recv pair each way */
    CHECK_MSG(n == 8, "%d entries", n);
    int e = find_entry(md, "first", &count);
    CHECK(count == 1 && e >= 0);
    CHECK(!strcmp(tfc_run_metadata_node_op(md, e), "MatMul"));
    CHECK(!strcmp(tfc_run_metadata_node_device(md, e), CPU0));
    CHECK(tfc_run_metadata_node_num_outputs(md, e) == 1);
    CHECK(tfc_run_metadata_node_output_bytes(md, e, 0) == 4 * 4 * 4);
    CHECK(tfc_run_metadata_node_end_us(md, e) >= tfc_run_metadata_node_start_us(md, e));
    CHECK(tfc_run_metadata_node_start_us(md, e) >= 0);
    int e2 = find_entry(md, "second", &count);
    CHECK(count == 1 && e2 >= 0 && !strcmp(tfc_run_metadata_node_device(md, e2), CPU1));
    /* each device runs on threads of its own */
    CHECK(tfc_run_metadata_node_thread(md, e) > 0);
    CHECK(tfc_run_metadata_node_thread(md, e) != tfc_run_metadata_node_thread(md, e2));
    /* second starts after first ended: the value went through the rendezvous */
    CHECK(tfc_run_metadata_node_start_us(md, e2) >= tfc_run_metadata_node_end_us(md, e));
    int sends = 0, recvs = 0;
    for (int i = 0; i < n; i++) {
        sends += !strcmp(tfc_run_metadata_node_op(md, i), "_Send");
        recvs += !strcmp(tfc_run_metadata_node_op(md, i), "_Recv");
    }
    CHECK(sends == 2 && recvs == 2);
    CHECK(tfc_run_metadata_node_name(md, n) == NULL);
    CHECK(tfc_run_metadata_node_output_bytes(md, e, 1) == -1);

    char path[] = "/tmp/tfc_timelineXXXXXX";
    int fd = mkstemp(path);
    close(fd);
    CHECK(tfc_run_metadata_write_chrome_trace(md, path, st) == 0);
    int events = -1, pids = -1;
    CHECK(python_check(path, &events, &pids) == 0);
    CHECK(events == n && pids == 2);
    unlink(path);
    char *json = tfc_run_metadata_chrome_trace(md);
    CHECK_CONTAINS(json, "\"process_name\"");
    CHECK_CONTAINS(json, CPU1);
    free(json);
    CHECK(tfc_run_metadata_write_chrome_trace(md, "/nonexistent/dir/trace.json", st) == -1);
    CHECK_CONTAINS(tfc_status_message(st), "/nonexistent/dir/trace.json");

    /* a run appends; clear empties */
    tfc_tensor_free(out);
    tfc_session_run_v2(s, &ro, &x, &xv, 1, &c, 1, &out, NULL, 0, md, st);
    CHECK(tfc_run_metadata_num_nodes(md) == 2 * n);
    tfc_run_metadata_clear(md);
    CHECK(tfc_run_metadata_num_nodes(md) == 0);
    tfc_tensor_free(out);
    tfc_tensor_free(xv);
    tfc_run_metadata_free(md);
    tfc_session_free(s);
    tfc_status_free(st);
    tfc_graph_free(g);
}

/* One device: one entry per kernel the plan runs (folded constants run
 * at plan time, not in the step). */
static void test_single_device_trace(void) {
    tfc_graph *g = tfc_graph_new();
    int64_t xd[] = {3};
    tfc_output x = tfc_placeholder(g, "x", TFC_FLOAT, 1, xd);
    tfc_output y = x;
    for (int i = 0; i < 10; i++) y = tfc_add(g, y, x);
    CHECK_GRAPH_OK(g);
    tfc_status *st = tfc_status_new();
    tfc_session *s = tfc_session_new(g, NULL, st);
    tfc_tensor *xv = tfc_test_random_tensor(TFC_FLOAT, 1, xd, -1, 1);
    tfc_run_options ro = {.trace_level = TFC_TRACE_FULL};
    tfc_run_metadata *md = tfc_run_metadata_new();
    tfc_tensor *out = NULL;
    tfc_session_run_v2(s, &ro, &x, &xv, 1, &y, 1, &out, NULL, 0, md, st);
    CHECK_STATUS_OK(st);
    CHECK(tfc_run_metadata_num_nodes(md) == 10);
    for (int i = 0; i < tfc_run_metadata_num_nodes(md); i++) {
        CHECK(!strcmp(tfc_run_metadata_node_device(md, i), CPU0));
        CHECK(tfc_run_metadata_node_output_bytes(md, i, 0) == 12);
    }
    char path[] = "/tmp/tfc_timelineXXXXXX";
    int fd = mkstemp(path);
    close(fd);
    CHECK(tfc_run_metadata_write_chrome_trace(md, path, st) == 0);
    int events = -1, pids = -1;
    CHECK(python_check(path, &events, &pids) == 0);
    CHECK(events == 10 && pids == 1);
    unlink(path);
    tfc_tensor_free(out);
    tfc_tensor_free(xv);
    tfc_run_metadata_free(md);
    tfc_session_free(s);
    tfc_status_free(st);
    tfc_graph_free(g);
}

TFC_TEST_MAIN(T(test_step_stats_and_chrome_trace), T(test_single_device_trace))
