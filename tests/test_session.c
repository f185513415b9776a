/* The session and executor: feeds, fetches, targets, pruning, variables,
 * plan reuse, errors that name the node, and concurrent runs. */
#include "harness.h"

#include "runtime/runtime.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static void test_const_fetch(void) {
    tfc_graph *g = tfc_graph_new();
    tfc_output c = tfc_const_float(g, 3.5f);
    CHECK_NEAR(tfc_test_eval_scalar(g, c), 3.5, 0);
    tfc_graph_free(g);
}

/* The first lesson: relu(matmul(x, w)) for x = [[1, 2, 3]], then softmax. */
static void test_first_lesson(void) {
    tfc_graph *g = tfc_graph_new();
    int64_t xd[] = {1, 3}, wd[] = {3, 3};
    float wv[] = {0.5f, -1, 0.25f, 1, 0.5f, -0.5f, -0.25f, 1, 2};
    tfc_output x = tfc_placeholder(g, "x", TFC_FLOAT, 2, xd);
    tfc_output w = tfc_variable(g, "w", tfc_const_data(g, TFC_FLOAT, 2, wd, wv));
    tfc_output h = tfc_relu(g, tfc_matmul(g, x, w));
    tfc_output p = tfc_softmax(g, h);
    tfc_node *init = tfc_global_variables_initializer(g);
    CHECK_GRAPH_OK(g);
    tfc_status *st = tfc_status_new();
    tfc_session *s = tfc_session_new(g, NULL, st);
    tfc_session_run(s, NULL, NULL, 0, NULL, 0, NULL, &init, 1, st);
    CHECK_STATUS_OK(st);
    float xv[] = {1, 2, 3};
    tfc_tensor *xt = tfc_tensor_from_data(TFC_FLOAT, 2, xd, xv);
    tfc_output fetches[] = {h, p};
    tfc_tensor *out[2];
    tfc_session_run(s, &x, &xt, 1, fetches, 2, out, NULL, 0, st);
    CHECK_STATUS_OK(st);
    if (out[0] && out[1]) {
        CHECK(tfc_tensor_dim(out[0], 0) == 1 && tfc_tensor_dim(out[0], 1) == 3);
        const float *hv = tfc_tensor_data(out[0]), *pv = tfc_tensor_data(out[1]);
        double sum = 0, hmax = 0;
        for (int j = 0; j < 3; j++) {
            double ref = 0;
            for (int k = 0; k < 3; k++) ref += xv[k] * wv[k * 3 + j];
            ref = ref > 0 ? ref : 0;
            CHECK_NEAR(hv[j], ref, 1e-6);
            if (ref > hmax) hmax = ref;
        }
        double z = 0;
        for (int j = 0; j < 3; j++) z += exp(hv[j] - hmax);
        for (int j = 0; j < 3; j++) {
            CHECK_NEAR(pv[j], exp(hv[j] - hmax) / z, 1e-6);
            sum += pv[j];
        }
        CHECK_NEAR(sum, 1.0, 1e-6);
    }
    tfc_tensor_free(out[0]);
    tfc_tensor_free(out[1]);
    tfc_tensor_free(xt);
    tfc_session_free(s);
    tfc_status_free(st);
    tfc_graph_free(g);
}

static int32_t run_int(tfc_session *s, tfc_output o, tfc_status *st) {
    tfc_tensor *t = tfc_session_run1(s, NULL, NULL, 0, o, st);
    int32_t v = t ? *(int32_t *)tfc_tensor_data(t) : -999;
    tfc_tensor_free(t);
    return v;
}

static void test_counter_and_separate_sessions(void) {
    tfc_graph *g = tfc_graph_new();
    tfc_output state = tfc_variable(g, "counter", tfc_const_int32(g, 0));
    tfc_output new_value = tfc_assign(g, state, tfc_add(g, state, tfc_const_int32(g, 1)));
    tfc_node *init = tfc_global_variables_initializer(g);
    CHECK_GRAPH_OK(g);
    tfc_status *st = tfc_status_new();
    tfc_session *s = tfc_session_new(g, NULL, st);
    tfc_session_run(s, NULL, NULL, 0, NULL, 0, NULL, &init, 1, st);
    CHECK_STATUS_OK(st);
    for (int i = 1; i <= 3; i++) CHECK(run_int(s, new_value, st) == i);
    CHECK(run_int(s, state, st) == 3);
    tfc_session *s2 = tfc_session_new(g, NULL, st);
    CHECK(run_int(s2, state, st) == -999);
    CHECK(tfc_status_code(st) == TFC_FAILED_PRECONDITION);
    CHECK_CONTAINS(tfc_status_message(st), "uninitialized value counter");
    tfc_session_run(s2, NULL, NULL, 0, NULL, 0, NULL, &init, 1, st);
    CHECK(run_int(s2, state, st) == 0);
    CHECK(run_int(s, state, st) == 3);
    tfc_session_free(s2);
    tfc_session_free(s);
    tfc_status_free(st);
    tfc_graph_free(g);
}

/* A fetched variable is a snapshot: later assigns do not change it. */
static void test_fetched_variable_is_a_snapshot(void) {
    tfc_graph *g = tfc_graph_new();
    tfc_output v = tfc_variable(g, "v", tfc_const_float(g, 1));
    tfc_output inc = tfc_assign_add(g, v, tfc_const_float(g, 1));
    tfc_node *init = tfc_global_variables_initializer(g);
    tfc_status *st = tfc_status_new();
    tfc_session *s = tfc_session_new(g, NULL, st);
    tfc_session_run(s, NULL, NULL, 0, NULL, 0, NULL, &init, 1, st);
    tfc_tensor *before = tfc_session_run1(s, NULL, NULL, 0, v, st);
    tfc_session_run(s, NULL, NULL, 0, NULL, 0, NULL, &inc.node, 1, st);
    CHECK_STATUS_OK(st);
    tfc_tensor *after = tfc_session_run1(s, NULL, NULL, 0, v, st);
    CHECK(before && *(float *)tfc_tensor_data(before) == 1);
    CHECK(after && *(float *)tfc_tensor_data(after) == 2);
    tfc_tensor_free(before);
    tfc_tensor_free(after);
    tfc_session_free(s);
    tfc_status_free(st);
    tfc_graph_free(g);
}

/* Only what the fetches need runs: an AssignAdd off the path never fires. */
static void test_pruning(void) {
    tfc_graph *g = tfc_graph_new();
    tfc_output count = tfc_variable(g, "count", tfc_const_int32(g, 0));
    tfc_output bump = tfc_assign_add(g, count, tfc_const_int32(g, 1));
    int64_t d[] = {2};
    tfc_output unfed = tfc_placeholder(g, "never_fed", TFC_FLOAT, 1, d);
    tfc_output side = tfc_add(g, unfed, unfed);
    tfc_output a = tfc_const_int32(g, 5);
    tfc_output b = tfc_mul(g, a, a);
    tfc_node *init = tfc_global_variables_initializer(g);
    CHECK_GRAPH_OK(g);
    (void)side;
    tfc_status *st = tfc_status_new();
    tfc_session *s = tfc_session_new(g, NULL, st);
    tfc_session_run(s, NULL, NULL, 0, NULL, 0, NULL, &init, 1, st);
    CHECK(run_int(s, b, st) == 25); /* the unfed placeholder is not needed */
    CHECK_STATUS_OK(st);
    CHECK(run_int(s, count, st) == 0);
    CHECK(run_int(s, bump, st) == 1);
    CHECK(run_int(s, b, st) == 25);
    CHECK(run_int(s, count, st) == 1);
    tfc_session_free(s);
    tfc_status_free(st);
    tfc_graph_free(g);
}

/* Feeding any tensor cuts off its producer, even one that would fail. */
static void test_feed_cuts_producer(void) {
    tfc_graph *g = tfc_graph_new();
    int64_t d[] = {2};
    tfc_output p = tfc_placeholder(g, "p", TFC_FLOAT, 1, d);
    tfc_output mid = tfc_mul(g, p, tfc_const_float(g, 3));
    tfc_output out = tfc_add(g, mid, tfc_const_float(g, 1));
    CHECK_GRAPH_OK(g);
    tfc_status *st = tfc_status_new();
    tfc_session *s = tfc_session_new(g, NULL, st);
    float v[] = {10, 20};
    tfc_tensor *t = tfc_tensor_from_data(TFC_FLOAT, 1, d, v);
    tfc_tensor *r = tfc_session_run1(s, &mid, &t, 1, out, st);
    CHECK_STATUS_OK(st);
    CHECK(r && ((float *)tfc_tensor_data(r))[1] == 21);
    tfc_tensor_free(r);
    /* fetching a fed tensor returns the fed value */
    r = tfc_session_run1(s, &mid, &t, 1, mid, st);
    CHECK(r && ((float *)tfc_tensor_data(r))[0] == 10);
    tfc_tensor_free(r);
    /* without the feed, the placeholder is missing and is named */
    r = tfc_session_run1(s, NULL, NULL, 0, out, st);
    CHECK(r == NULL);
    CHECK(tfc_status_code(st) == TFC_INVALID_ARGUMENT);
    CHECK_CONTAINS(tfc_status_message(st), "placeholder tensor 'p'");
    CHECK_CONTAINS(tfc_status_message(st), "[2]");
    tfc_tensor_free(t);
    tfc_session_free(s);
    tfc_status_free(st);
    tfc_graph_free(g);
}

/* One node feeding many, and a diamond: every consumer sees the value. */
static void test_fan_out(void) {
    tfc_graph *g = tfc_graph_new();
    tfc_output x = tfc_const_float(g, 2);
    tfc_output terms[8];
    for (int i = 0; i < 8; i++) terms[i] = tfc_mul(g, x, tfc_const_float(g, (float)i));
    tfc_output sum = tfc_add_n(g, terms, 8);
    tfc_output diamond = tfc_add(g, tfc_square(g, x), tfc_neg(g, x));
    CHECK_GRAPH_OK(g);
    CHECK_NEAR(tfc_test_eval_scalar(g, sum), 2 * 28, 0);
    CHECK_NEAR(tfc_test_eval_scalar(g, diamond), 4 - 2, 0);
    tfc_graph_free(g);
}

static void test_feed_and_fetch_errors(void) {
    tfc_graph *g = tfc_graph_new(), *other = tfc_graph_new();
    int64_t d[] = {-1, 3};
    tfc_output x = tfc_placeholder(g, "x", TFC_FLOAT, 2, d);
    tfc_output y = tfc_identity(g, x);
    tfc_output foreign = tfc_const_float(other, 1);
    tfc_status *st = tfc_status_new();
    tfc_session *s = tfc_session_new(g, NULL, st);
    int64_t bad_shape[] = {2, 2};
    tfc_tensor *t = tfc_tensor_new(TFC_FLOAT, 2, bad_shape);
    CHECK(tfc_session_run1(s, &x, &t, 1, y, st) == NULL);
    CHECK_CONTAINS(tfc_status_message(st), "Cannot feed value of shape [2,2] for Tensor 'x:0'");
    CHECK_CONTAINS(tfc_status_message(st), "[?,3]");
    tfc_tensor_free(t);
    int64_t good[] = {2, 3};
    t = tfc_tensor_new(TFC_INT32, 2, good);
    CHECK(tfc_session_run1(s, &x, &t, 1, y, st) == NULL);
    CHECK_CONTAINS(tfc_status_message(st), "dtype int32 for Tensor 'x:0'");
    tfc_tensor_free(t);
    CHECK(tfc_session_run1(s, NULL, NULL, 0, foreign, st) == NULL);
    CHECK_CONTAINS(tfc_status_message(st), "not an element of this graph");
    t = tfc_tensor_new(TFC_FLOAT, 2, good);
    tfc_tensor *r = tfc_session_run1(s, &x, &t, 1, y, st);
    CHECK_STATUS_OK(st);
    CHECK(r != NULL);
    tfc_tensor_free(r);
    tfc_tensor_free(t);
    tfc_session_free(s);
    /* a graph with an error cannot start a session */
    tfc_placeholder(g, "x", TFC_FLOAT, 2, d);
    CHECK(tfc_session_new(g, NULL, st) == NULL);
    CHECK_CONTAINS(tfc_status_message(st), "Duplicate node name");
    tfc_status_free(st);
    tfc_graph_free(g);
    tfc_graph_free(other);
}

static void test_plan_is_cached(void) {
    tfc_graph *g = tfc_graph_new();
    tfc_output a = tfc_add(g, tfc_const_float(g, 1), tfc_const_float(g, 2));
    tfc_output b = tfc_mul(g, a, a);
    tfc_status *st = tfc_status_new();
    tfc_session *s = tfc_session_new(g, NULL, st);
    for (int i = 0; i < 5; i++) tfc_tensor_free(tfc_session_run1(s, NULL, NULL, 0, b, st));
    CHECK(s->nplans == 1);
    tfc_tensor_free(tfc_session_run1(s, NULL, NULL, 0, a, st));
    CHECK(s->nplans == 2);
    /* the graph may grow after the session started */
    tfc_output c = tfc_sub(g, b, a);
    tfc_tensor *r = tfc_session_run1(s, NULL, NULL, 0, c, st);
    CHECK_STATUS_OK(st);
    CHECK(r && *(float *)tfc_tensor_data(r) == 6);
    tfc_tensor_free(r);
    CHECK(s->nplans == 3);
    tfc_session_free(s);
    tfc_status_free(st);
    tfc_graph_free(g);
}

/* Many threads run one session at once; results equal serial runs. */
typedef struct concurrent_job {
    tfc_session *s;
    tfc_output x, y;
    int id;
    int failures;
} concurrent_job;

static float job_input(int id, int iter, int k) { return (float)((id * 7 + iter * 3 + k) % 11) - 5; }

static void *concurrent_main(void *arg) {
    concurrent_job *j = arg;
    tfc_status *st = tfc_status_new();
    int64_t d[] = {4, 8};
    for (int iter = 0; iter < 200; iter++) {
        float v[32];
        for (int k = 0; k < 32; k++) v[k] = job_input(j->id, iter, k);
        tfc_tensor *t = tfc_tensor_from_data(TFC_FLOAT, 2, d, v);
        tfc_tensor *r = tfc_session_run1(j->s, &j->x, &t, 1, j->y, st);
        if (!r) {
            j->failures++;
        } else {
            const float *o = tfc_tensor_data(r);
            for (int row = 0; row < 4; row++) {
                float want = 0;
                for (int k = 0; k < 8; k++) want += v[row * 8 + k] * v[row * 8 + k] + 1;
                if (o[row] != want) j->failures++;
            }
        }
        tfc_tensor_free(r);
        tfc_tensor_free(t);
    }
    tfc_status_free(st);
    return NULL;
}

static void test_concurrent_runs(void) {
    tfc_graph *g = tfc_graph_new();
    int64_t d[] = {-1, 8};
    tfc_output x = tfc_placeholder(g, "x", TFC_FLOAT, 2, d);
    int32_t axis = 1;
    tfc_output y = tfc_reduce_sum(g, tfc_add(g, tfc_square(g, x), tfc_const_float(g, 1)), &axis,
                                  1, 0);
    CHECK_GRAPH_OK(g);
    tfc_session_options opts = {.intra_op_threads = 2, .inter_op_threads = 2};
    tfc_status *st = tfc_status_new();
    tfc_session *s = tfc_session_new(g, &opts, st);
    enum { N = 8 };
    pthread_t th[N];
    concurrent_job jobs[N];
    for (int i = 0; i < N; i++) {
        jobs[i] = (concurrent_job){s, x, y, i, 0};
        pthread_create(&th[i], NULL, concurrent_main, &jobs[i]);
    }
    int failures = 0;
    for (int i = 0; i < N; i++) {
        pthread_join(th[i], NULL);
        failures += jobs[i].failures;
    }
    CHECK(failures == 0);
    CHECK(s->nplans == 1);
    tfc_session_free(s);
    tfc_status_free(st);
    tfc_graph_free(g);
}

/* A wide graph on the parallel executor gives the serial executor's result. */
static void test_parallel_executor_matches_serial(void) {
    tfc_graph *g = tfc_graph_new();
    tfc_output x = tfc_const_float(g, 1.5f);
    tfc_output branches[16];
    for (int i = 0; i < 16; i++) {
        tfc_output b = x;
        for (int k = 0; k < 5; k++) b = tfc_add(g, tfc_mul(g, b, tfc_const_float(g, 0.5f)), x);
        branches[i] = b;
    }
    tfc_output total = tfc_add_n(g, branches, 16);
    CHECK_GRAPH_OK(g);
    tfc_status *st = tfc_status_new();
    tfc_session_options serial = {.intra_op_threads = 1, .inter_op_threads = 1};
    tfc_session_options parallel = {.intra_op_threads = 2, .inter_op_threads = 4};
    tfc_session *s1 = tfc_session_new(g, &serial, st);
    tfc_session *s2 = tfc_session_new(g, &parallel, st);
    tfc_tensor *a = tfc_session_run1(s1, NULL, NULL, 0, total, st);
    for (int i = 0; i < 50; i++) {
        tfc_tensor *b = tfc_session_run1(s2, NULL, NULL, 0, total, st);
        CHECK(a && b && *(float *)tfc_tensor_data(a) == *(float *)tfc_tensor_data(b));
        tfc_tensor_free(b);
    }
    tfc_tensor_free(a);
    tfc_session_free(s1);
    tfc_session_free(s2);
    tfc_status_free(st);
    tfc_graph_free(g);
}

/* A failing node stops the run with its name; the session stays usable. */
static void test_run_error_names_node(void) {
    tfc_graph *g = tfc_graph_new();
    tfc_output v = tfc_variable(g, "weights", tfc_const_float(g, 1));
    tfc_output y = tfc_mul(g, v, tfc_const_float(g, 2));
    tfc_node *init = tfc_global_variables_initializer(g);
    tfc_status *st = tfc_status_new();
    tfc_session *s = tfc_session_new(g, NULL, st);
    CHECK(tfc_session_run1(s, NULL, NULL, 0, y, st) == NULL);
    CHECK(tfc_status_code(st) == TFC_FAILED_PRECONDITION);
    CHECK_CONTAINS(tfc_status_message(st), "uninitialized value weights");
    CHECK_CONTAINS(tfc_status_message(st), "Mul");
    tfc_session_run(s, NULL, NULL, 0, NULL, 0, NULL, &init, 1, st);
    tfc_tensor *r = tfc_session_run1(s, NULL, NULL, 0, y, st);
    CHECK(r && *(float *)tfc_tensor_data(r) == 2);
    tfc_tensor_free(r);
    tfc_session_free(s);
    tfc_status_free(st);
    tfc_graph_free(g);
}

/* The first parallel runs of a plan time its nodes: a 512x512 MatMul stays
 * "expensive" (handed to another thread when another node is ready too),
 * scalar adds become "cheap" (kept on the thread that readied them). */
static void test_plan_times_nodes(void) {
    tfc_graph *g = tfc_graph_new();
    /* unknown shapes: the static guess calls every node expensive */
    int64_t d[] = {512, 512}, unknown[] = {-1, -1};
    tfc_output a = tfc_placeholder(g, "a", TFC_FLOAT, 2, unknown);
    tfc_output x = tfc_placeholder(g, "x", TFC_FLOAT, 1, unknown);
    tfc_output big = tfc_matmul(g, a, a);
    tfc_output small = x;
    for (int i = 0; i < 8; i++) small = tfc_add(g, small, x);
    tfc_output fetches[] = {big, small}, feeds[] = {a, x};
    CHECK_GRAPH_OK(g);
    tfc_session_options o = {.intra_op_threads = 2, .inter_op_threads = 2};
    tfc_status *st = tfc_status_new();
    tfc_session *s = tfc_session_new(g, &o, st);
    tfc_tensor *vals[] = {tfc_test_random_tensor(TFC_FLOAT, 2, d, -1, 1),
                          tfc_tensor_from_data(TFC_FLOAT, 1, (int64_t[]){1}, (float[]){1})};
    for (int r = 0; r < PLAN_TIMED_RUNS + 1; r++) {
        tfc_tensor *out[2] = {NULL, NULL};
        tfc_session_run(s, feeds, vals, 2, fetches, 2, out, NULL, 0, st);
        CHECK_STATUS_OK(st);
        if (out[1]) CHECK_NEAR(tfc_test_get(out[1], 0), 9.0, 0);
        tfc_tensor_free(out[0]);
        tfc_tensor_free(out[1]);
    }
    tfc_plan *p = tfc_session_find_plan(s, feeds, 2, fetches, 2, NULL, 0);
    CHECK(p != NULL);
    int cheap_adds = 0, matmul_cheap = -1;
    for (int i = 0; p && i < p->nnodes; i++) {
        const char *type = tfc_node_type(p->nodes[i].node);
        int cheap = atomic_load(&p->nodes[i].cheap);
        if (strcmp(type, "MatMul") == 0) matmul_cheap = cheap;
        if (strcmp(type, "Add") == 0) cheap_adds += cheap;
    }
    CHECK(matmul_cheap == 0);
    CHECK(cheap_adds >= 4); /* most of 8; a preempted one may time as slow */
    tfc_tensor_free(vals[0]);
    tfc_tensor_free(vals[1]);
    tfc_session_free(s);
    tfc_status_free(st);
    tfc_graph_free(g);
}

/* Runs s on the feeds with two fetches until its plan's timed runs are
 * over, one run more, and returns that plan (a failed run fails the test). */
static tfc_plan *timed_plan(tfc_session *s, const tfc_output *feeds, tfc_tensor *const *vals,
                            int nfeeds, const tfc_output fetches[2]) {
    tfc_status *st = tfc_status_new();
    for (int r = 0; r < PLAN_TIMED_RUNS + 1; r++) {
        tfc_tensor *out[2] = {NULL, NULL};
        tfc_session_run(s, feeds, vals, nfeeds, fetches, 2, out, NULL, 0, st);
        CHECK_STATUS_OK(st);
        tfc_tensor_free(out[0]);
        tfc_tensor_free(out[1]);
    }
    tfc_status_free(st);
    tfc_plan *p = tfc_session_find_plan(s, feeds, nfeeds, fetches, 2, NULL, 0);
    CHECK(p != NULL);
    return p;
}

/* After the timed runs each node's rank is its own time plus the largest
 * rank among its successors (the longest path to the run's end), so the
 * head of a chain of two 256x256 products outranks a lone scalar add. */
static void test_plan_ranks_nodes(void) {
    tfc_graph *g = tfc_graph_new();
    int64_t d[] = {256, 256};
    tfc_output a = tfc_placeholder(g, "a", TFC_FLOAT, 2, d);
    tfc_output x = tfc_placeholder(g, "x", TFC_FLOAT, 0, NULL);
    tfc_output chain = tfc_matmul(g, tfc_matmul(g, tfc_relu(g, a), a), a);
    tfc_output lone = tfc_add(g, x, x);
    tfc_output fetches[] = {chain, lone}, feeds[] = {a, x};
    CHECK_GRAPH_OK(g);
    tfc_session *s = tfc_test_session_at(g, 2, TFC_OPT_L1);
    tfc_tensor *vals[] = {tfc_test_random_tensor(TFC_FLOAT, 2, d, -1, 1),
                          tfc_tensor_from_data(TFC_FLOAT, 0, NULL, (float[]){1})};
    tfc_plan *p = timed_plan(s, feeds, vals, 2, fetches);
    int64_t relu_rank = -1, add_rank = -1;
    for (int j = 0; p && j < p->nnodes; j++) {
        const tfc_plan_node *pn = &p->nodes[j];
        int64_t longest = 0;
        for (int i = 0; i < pn->nsucc; i++)
            if (atomic_load(&p->nodes[pn->succ[i]].rank_ns) > longest)
                longest = atomic_load(&p->nodes[pn->succ[i]].rank_ns);
        CHECK(atomic_load(&pn->cost_ns) > 0);
        CHECK(atomic_load(&pn->rank_ns) == atomic_load(&pn->cost_ns) + longest);
        const char *type = tfc_node_type(pn->node);
        if (strcmp(type, "Relu") == 0) relu_rank = atomic_load(&pn->rank_ns);
        if (strcmp(type, "Add") == 0) add_rank = atomic_load(&pn->rank_ns);
    }
    CHECK(relu_rank > add_rank && add_rank > 0);
    /* the products' chain holds nearly all the time: the plan runs serially */
    CHECK(p && atomic_load(&p->chain) == 1);
    tfc_tensor_free(vals[0]);
    tfc_tensor_free(vals[1]);
    tfc_session_free(s);
    tfc_graph_free(g);
}

/* Two products of one size side by side: the longest path holds about
 * half the time, so the plan's nodes run side by side (no chain). */
static void test_plan_of_branches_is_no_chain(void) {
    tfc_graph *g = tfc_graph_new();
    int64_t d[] = {256, 256};
    tfc_output a = tfc_placeholder(g, "a", TFC_FLOAT, 2, d);
    tfc_output fetches[] = {tfc_matmul(g, a, a), tfc_matmul(g, a, tfc_relu(g, a))};
    CHECK_GRAPH_OK(g);
    tfc_session *s = tfc_test_session_at(g, 2, TFC_OPT_L1);
    tfc_tensor *val = tfc_test_random_tensor(TFC_FLOAT, 2, d, -1, 1);
    tfc_plan *p = timed_plan(s, &a, &val, 1, fetches);
    CHECK(p && atomic_load(&p->chain) == 0);
    tfc_tensor_free(val);
    tfc_session_free(s);
    tfc_graph_free(g);
}

TFC_TEST_MAIN(T(test_const_fetch), T(test_first_lesson), T(test_counter_and_separate_sessions),
              T(test_fetched_variable_is_a_snapshot), T(test_pruning), T(test_feed_cuts_producer),
              T(test_fan_out), T(test_feed_and_fetch_errors), T(test_plan_is_cached),
              T(test_concurrent_runs), T(test_parallel_executor_matches_serial),
              T(test_run_error_names_node), T(test_plan_times_nodes),
              T(test_plan_ranks_nodes), T(test_plan_of_branches_is_no_chain))
