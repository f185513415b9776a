/* Conditional accumulators (TensorFlow's ConditionalAccumulator ops):
 * the mean and the sum of the gradients against reference loops, the same
 * bits whatever their order of arrival; stale gradients dropped and the
 * global step advanced by each take; a take that waits holds no thread
 * (a one-thread session serves the applies of another run meanwhile) and
 * is cancelled by a deadline, leaving the accumulator usable; sharing by
 * shared_name; dtype, shape and num_required errors naming the node. */
#include "harness.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static tfc_code run(tfc_session *s, const tfc_output *fetches, int n, tfc_tensor **out,
                    const tfc_output *feeds, tfc_tensor *const *vals, int nfeeds, tfc_node *target,
                    int64_t timeout_ms, char *msg, size_t cap) {
    tfc_status *st = tfc_status_new();
    tfc_run_options o;
    memset(&o, 0, sizeof o);
    o.timeout_in_ms = timeout_ms;
    tfc_session_run_v2(s, &o, feeds, vals, nfeeds, fetches, n, out, target ? &target : NULL,
                       target ? 1 : 0, NULL, st);
    tfc_code c = tfc_status_code(st);
    if (msg) snprintf(msg, cap, "%s", tfc_status_message(st));
    tfc_status_free(st);
    return c;
}

/* An accumulator and, around it, an apply fed (local_step, gradient), a
 * take fed num_required, the count and a set_global_step fed. */
typedef struct acc_nodes {
    tfc_output acc, step, grad, n, taken, count, new_step;
    tfc_node *apply, *set_step;
} acc_nodes;

static acc_nodes around(tfc_graph *g, tfc_dtype dt, int rank, const int64_t *dims,
                        const char *shared, tfc_accumulator_reduction red) {
    acc_nodes a;
    memset(&a, 0, sizeof a);
    a.acc = tfc_conditional_accumulator(g, dt, rank, dims, shared, red);
    a.step = tfc_placeholder(g, NULL, TFC_INT64, 0, NULL);
    a.grad = tfc_placeholder(g, NULL, dt, -1, NULL);
    a.n = tfc_placeholder(g, NULL, TFC_INT32, 0, NULL);
    a.new_step = tfc_placeholder(g, NULL, TFC_INT64, 0, NULL);
    a.apply = tfc_accumulator_apply_gradient(g, a.acc, a.step, a.grad);
    a.taken = tfc_accumulator_take_gradient(g, a.acc, a.n);
    a.count = tfc_accumulator_num_accumulated(g, a.acc);
    a.set_step = tfc_accumulator_set_global_step(g, a.acc, a.new_step);
    return a;
}

static tfc_code apply(tfc_session *s, const acc_nodes *a, int64_t step, tfc_tensor *grad,
                      char *msg, size_t cap) {
    tfc_tensor *st = tfc_tensor_scalar_int64(step);
    tfc_output feeds[] = {a->step, a->grad};
    tfc_tensor *vals[] = {st, grad};
    tfc_code c = run(s, NULL, 0, NULL, feeds, vals, 2, a->apply, 0, msg, cap);
    tfc_tensor_free(st);
    return c;
}

static tfc_tensor *take(tfc_session *s, const acc_nodes *a, int32_t n, int64_t timeout_ms,
                        tfc_code *code, char *msg, size_t cap) {
    tfc_tensor *nt = tfc_tensor_scalar_int32(n), *out = NULL;
    tfc_code c = run(s, &a->taken, 1, &out, &a->n, &nt, 1, NULL, timeout_ms, msg, cap);
    tfc_tensor_free(nt);
    if (code) *code = c;
    return out;
}

static int32_t count(tfc_session *s, const acc_nodes *a) {
    tfc_tensor *t = NULL;
    int32_t v = -1;
    if (run(s, &a->count, 1, &t, NULL, NULL, 0, NULL, 0, NULL, 0) == TFC_OK)
        v = *(int32_t *)tfc_tensor_data(t);
    tfc_tensor_free(t);
    return v;
}

static tfc_tensor *random_floats(int64_t n, unsigned seed) {
    tfc_tensor *t = tfc_tensor_new(TFC_FLOAT, 1, &n);
    float *p = tfc_tensor_data(t);
    srand(seed);
    for (int64_t i = 0; i < n; i++) p[i] = ((float)rand() / (float)RAND_MAX - 0.5f) * 3.0f;
    return t;
}

static int cmp_bytes(const void *x, const void *y) {
    const tfc_tensor *a = *(tfc_tensor *const *)x, *b = *(tfc_tensor *const *)y;
    return memcmp(tfc_tensor_data(a), tfc_tensor_data(b), tfc_tensor_nbytes(a));
}

static tfc_session *session(tfc_graph *g, int threads) {
    tfc_session_options o;
    memset(&o, 0, sizeof o);
    o.inter_op_threads = threads;
    o.intra_op_threads = 1;
    tfc_status *st = tfc_status_new();
    tfc_session *s = tfc_session_new(g, &o, st);
    CHECK_STATUS_OK(st);
    tfc_status_free(st);
    return s;
}

/* Mean of three float gradients: the reference (their sum in the order of
 * their bytes, divided by 3), and the same bits for every order of
 * arrival; a take resets the count and advances the global step. */
static void test_mean_is_order_free(void) {
    enum { N = 257, K = 3 };
    int64_t dims[] = {N};
    tfc_graph *g = tfc_graph_new();
    acc_nodes a = around(g, TFC_FLOAT, 1, dims, NULL, TFC_ACCUMULATOR_MEAN);
    CHECK_GRAPH_OK(g);
    tfc_session *s = session(g, 2);
    tfc_tensor *gr[K];
    for (int k = 0; k < K; k++) gr[k] = random_floats(N, 11u + (unsigned)k);
    /* the reference loop */
    tfc_tensor *sorted[K];
    memcpy(sorted, gr, sizeof sorted);
    qsort(sorted, K, sizeof *sorted, cmp_bytes);
    float want[N];
    for (int i = 0; i < N; i++) {
        float acc = ((float *)tfc_tensor_data(sorted[0]))[i];
        for (int k = 1; k < K; k++) acc += ((float *)tfc_tensor_data(sorted[k]))[i];
        want[i] = acc / (float)K;
    }
    static const int orders[6][K] = {{0, 1, 2}, {0, 2, 1}, {1, 0, 2},
                                     {1, 2, 0}, {2, 0, 1}, {2, 1, 0}};
    int differs_by_order = 0;
    for (int o = 0; o < 6; o++) {
        for (int k = 0; k < K; k++) CHECK(apply(s, &a, o, gr[orders[o][k]], NULL, 0) == TFC_OK);
        CHECK(count(s, &a) == K);
        tfc_code c;
        tfc_tensor *t = take(s, &a, K, 0, &c, NULL, 0);
        CHECK(c == TFC_OK && t && tfc_tensor_num_elements(t) == N);
        if (t) CHECK_MSG(!memcmp(tfc_tensor_data(t), want, sizeof want), "order %d", o);
        tfc_tensor_free(t);
        CHECK(count(s, &a) == 0);
        /* arrival order would have mattered for a plain running sum */
        float naive = 0;
        for (int i = 0; i < N; i++) {
            float x = ((float *)tfc_tensor_data(gr[orders[o][0]]))[i];
            for (int k = 1; k < K; k++) x += ((float *)tfc_tensor_data(gr[orders[o][k]]))[i];
            naive = x / (float)K;
            differs_by_order |= naive != want[i];
        }
    }
    CHECK_MSG(differs_by_order, "the data should make the running sum depend on the order");
    /* six takes: the global step is 6, so a gradient of step 5 is stale */
    CHECK(apply(s, &a, 5, gr[0], NULL, 0) == TFC_OK);
    CHECK(count(s, &a) == 0);
    CHECK(apply(s, &a, 6, gr[0], NULL, 0) == TFC_OK);
    CHECK(count(s, &a) == 1);
    for (int k = 0; k < K; k++) tfc_tensor_free(gr[k]);
    tfc_session_free(s);
    tfc_graph_free(g);
}

/* SUM of doubles and MEAN of int32 (integer division, as TensorFlow's). */
static void test_sum_and_integer_mean(void) {
    tfc_graph *g = tfc_graph_new();
    int64_t d2[] = {2};
    acc_nodes sum = around(g, TFC_DOUBLE, 1, d2, NULL, TFC_ACCUMULATOR_SUM);
    acc_nodes im = around(g, TFC_INT32, -1, NULL, NULL, TFC_ACCUMULATOR_MEAN);
    CHECK_GRAPH_OK(g);
    tfc_session *s = session(g, 2);
    double a[] = {0.25, -1e10}, b[] = {1.5, 3};
    tfc_tensor *ta = tfc_tensor_from_data(TFC_DOUBLE, 1, d2, a);
    tfc_tensor *tb = tfc_tensor_from_data(TFC_DOUBLE, 1, d2, b);
    CHECK(apply(s, &sum, 0, ta, NULL, 0) == TFC_OK && apply(s, &sum, 0, tb, NULL, 0) == TFC_OK);
    tfc_tensor *t = take(s, &sum, 2, 0, NULL, NULL, 0);
    CHECK(t && ((double *)tfc_tensor_data(t))[0] == 1.75 &&
          ((double *)tfc_tensor_data(t))[1] == -1e10 + 3);
    tfc_tensor_free(t);
    int32_t x[] = {7, -7, 1}, y[] = {0, 0, 1};
    int64_t d3[] = {3};
    tfc_tensor *tx = tfc_tensor_from_data(TFC_INT32, 1, d3, x);
    tfc_tensor *ty = tfc_tensor_from_data(TFC_INT32, 1, d3, y);
    CHECK(apply(s, &im, 0, tx, NULL, 0) == TFC_OK && apply(s, &im, 0, ty, NULL, 0) == TFC_OK);
    t = take(s, &im, 2, 0, NULL, NULL, 0);
    CHECK(t && ((int32_t *)tfc_tensor_data(t))[0] == 3 && ((int32_t *)tfc_tensor_data(t))[1] == -3 &&
          ((int32_t *)tfc_tensor_data(t))[2] == 1);
    tfc_tensor_free(t);
    tfc_tensor_free(ta);
    tfc_tensor_free(tb);
    tfc_tensor_free(tx);
    tfc_tensor_free(ty);
    tfc_session_free(s);
    tfc_graph_free(g);
}

/* set_global_step: older gradients are dropped, the current step and
 * later ones count; the take averages only those. */
static void test_stale_gradients_dropped(void) {
    tfc_graph *g = tfc_graph_new();
    int64_t d1[] = {1};
    acc_nodes a = around(g, TFC_FLOAT, 1, d1, NULL, TFC_ACCUMULATOR_MEAN);
    CHECK_GRAPH_OK(g);
    tfc_session *s = session(g, 2);
    tfc_tensor *five = tfc_tensor_scalar_int64(5);
    CHECK(run(s, NULL, 0, NULL, &a.new_step, &five, 1, a.set_step, 0, NULL, 0) == TFC_OK);
    tfc_tensor_free(five);
    float v1 = 100, v2 = 2, v3 = 4;
    tfc_tensor *t1 = tfc_tensor_from_data(TFC_FLOAT, 1, d1, &v1);
    tfc_tensor *t2 = tfc_tensor_from_data(TFC_FLOAT, 1, d1, &v2);
    tfc_tensor *t3 = tfc_tensor_from_data(TFC_FLOAT, 1, d1, &v3);
    CHECK(apply(s, &a, 4, t1, NULL, 0) == TFC_OK); /* stale: no error, no effect */
    CHECK(count(s, &a) == 0);
    CHECK(apply(s, &a, 5, t2, NULL, 0) == TFC_OK);
    CHECK(apply(s, &a, 9, t3, NULL, 0) == TFC_OK); /* ahead: counts */
    CHECK(count(s, &a) == 2);
    tfc_tensor *t = take(s, &a, 2, 0, NULL, NULL, 0);
    CHECK(t && *(float *)tfc_tensor_data(t) == 3.0f);
    tfc_tensor_free(t);
    /* the take advanced the step to 6: 5 is stale now */
    CHECK(apply(s, &a, 5, t1, NULL, 0) == TFC_OK);
    CHECK(count(s, &a) == 0);
    tfc_tensor_free(t1);
    tfc_tensor_free(t2);
    tfc_tensor_free(t3);
    tfc_session_free(s);
    tfc_graph_free(g);
}

typedef struct taker {
    tfc_session *s;
    const acc_nodes *a;
    tfc_code code;
    float value;
    char msg[512];
} taker;

static void *take_thread(void *arg) {
    taker *t = arg;
    tfc_tensor *v = take(t->s, t->a, 2, 20000, &t->code, t->msg, sizeof t->msg);
    t->value = v ? *(float *)tfc_tensor_data(v) : -1;
    tfc_tensor_free(v);
    return NULL;
}

/* A one-thread session: a take waiting in one run holds no thread, so
 * another run's applies go through and complete it (a take holding the
 * thread would wait until the 20 s deadline). Also within one run: the
 * take and the applies it needs in the same step. */
static void test_take_waits_without_a_thread(void) {
    tfc_graph *g = tfc_graph_new();
    int64_t d1[] = {1};
    acc_nodes a = around(g, TFC_FLOAT, 1, d1, NULL, TFC_ACCUMULATOR_MEAN);
    /* one step holding a take and, after a chain of work, two applies */
    tfc_output acc2 = tfc_conditional_accumulator(g, TFC_FLOAT, 0, NULL, NULL,
                                                  TFC_ACCUMULATOR_MEAN);
    tfc_output taken2 = tfc_accumulator_take_gradient(g, acc2, tfc_const_int32(g, 2));
    tfc_output x = tfc_const_float(g, 1.0f);
    for (int i = 0; i < 20; i++) x = tfc_identity(g, tfc_add(g, x, tfc_const_float(g, 1.0f)));
    tfc_node *ap[2] = {tfc_accumulator_apply_gradient(g, acc2, tfc_const_int64(g, 0), x),
                       tfc_accumulator_apply_gradient(g, acc2, tfc_const_int64(g, 0),
                                                      tfc_const_float(g, 3.0f))};
    CHECK_GRAPH_OK(g);
    tfc_session *s = session(g, 1);
    taker tk = {s, &a, TFC_UNKNOWN, 0, ""};
    pthread_t th;
    pthread_create(&th, NULL, take_thread, &tk);
    struct timespec ts = {0, 50 * 1000 * 1000};
    nanosleep(&ts, NULL); /* let the take start waiting */
    float v1 = 1, v2 = 4;
    tfc_tensor *t1 = tfc_tensor_from_data(TFC_FLOAT, 1, d1, &v1);
    tfc_tensor *t2 = tfc_tensor_from_data(TFC_FLOAT, 1, d1, &v2);
    char msg[512];
    CHECK_MSG(apply(s, &a, 0, t1, msg, sizeof msg) == TFC_OK, "%s", msg);
    CHECK_MSG(apply(s, &a, 0, t2, msg, sizeof msg) == TFC_OK, "%s", msg);
    pthread_join(th, NULL);
    CHECK_MSG(tk.code == TFC_OK && tk.value == 2.5f, "code %d, value %g: %s", (int)tk.code,
              (double)tk.value, tk.msg);
    tfc_tensor *out = NULL;
    tfc_status *st = tfc_status_new();
    tfc_session_run(s, NULL, NULL, 0, &taken2, 1, &out, ap, 2, st);
    CHECK_STATUS_OK(st);
    CHECK(out && *(float *)tfc_tensor_data(out) == 12.0f); /* (21 + 3) / 2 */
    tfc_tensor_free(out);
    tfc_status_free(st);
    tfc_tensor_free(t1);
    tfc_tensor_free(t2);
    tfc_session_free(s);
    tfc_graph_free(g);
}

/* A take that never gets its gradients ends at the run's deadline; the
 * accumulator then serves the next take normally. */
static void test_take_deadline_then_usable(void) {
    tfc_graph *g = tfc_graph_new();
    int64_t d1[] = {1};
    acc_nodes a = around(g, TFC_FLOAT, 1, d1, NULL, TFC_ACCUMULATOR_MEAN);
    CHECK_GRAPH_OK(g);
    tfc_session *s = session(g, 1);
    float v = 8;
    tfc_tensor *t1 = tfc_tensor_from_data(TFC_FLOAT, 1, d1, &v);
    CHECK(apply(s, &a, 0, t1, NULL, 0) == TFC_OK);
    tfc_code c;
    char msg[512];
    tfc_tensor *t = take(s, &a, 2, 100, &c, msg, sizeof msg);
    CHECK_MSG(c == TFC_DEADLINE_EXCEEDED && !t, "code %d: %s", (int)c, msg);
    tfc_tensor_free(t);
    CHECK(count(s, &a) == 1); /* the gradient stays */
    t = take(s, &a, 1, 0, &c, NULL, 0);
    CHECK(c == TFC_OK && t && *(float *)tfc_tensor_data(t) == 8.0f);
    tfc_tensor_free(t);
    tfc_tensor_free(t1);
    tfc_session_free(s);
    tfc_graph_free(g);
}

/* Two nodes with one shared_name use one accumulator; another with other
 * attrs under the same name fails naming it. */
static void test_shared_name(void) {
    tfc_graph *g = tfc_graph_new();
    int64_t d1[] = {1};
    acc_nodes a = around(g, TFC_FLOAT, 1, d1, "w:0/grad_accum", TFC_ACCUMULATOR_MEAN);
    acc_nodes b = around(g, TFC_FLOAT, 1, d1, "w:0/grad_accum", TFC_ACCUMULATOR_MEAN);
    acc_nodes other = around(g, TFC_DOUBLE, 1, d1, "w:0/grad_accum", TFC_ACCUMULATOR_MEAN);
    CHECK_GRAPH_OK(g);
    tfc_session *s = session(g, 2);
    float v = 1;
    tfc_tensor *t1 = tfc_tensor_from_data(TFC_FLOAT, 1, d1, &v);
    CHECK(apply(s, &a, 0, t1, NULL, 0) == TFC_OK);
    CHECK(count(s, &b) == 1);
    char msg[512];
    tfc_tensor *none = NULL;
    tfc_code c = run(s, &other.count, 1, &none, NULL, NULL, 0, NULL, 0, msg, sizeof msg);
    CHECK(c == TFC_INVALID_ARGUMENT && !none);
    CHECK_CONTAINS(msg, "Shared accumulator 'w:0/grad_accum' holds float32, but this node asks "
                        "for float64");
    CHECK_CONTAINS(msg, tfc_node_name(other.acc.node));
    tfc_tensor_free(t1);
    tfc_session_free(s);
    tfc_graph_free(g);
}

/* Errors: at build time when the accumulator is known, else in the run;
 * each names the node. */
static void test_errors_name_the_node(void) {
    int64_t d3[] = {3}, d2[] = {2};
    /* build time: shape, dtype, num_required, reduction_type */
    tfc_graph *g = tfc_graph_new();
    tfc_output acc = tfc_conditional_accumulator(g, TFC_FLOAT, 1, d3, NULL, TFC_ACCUMULATOR_MEAN);
    tfc_op_desc *d = tfc_op_new(g, "AccumulatorApplyGradient", "bad_apply");
    tfc_op_add_input(d, acc);
    tfc_op_add_input(d, tfc_const_int64(g, 0));
    tfc_op_add_input(d, tfc_zeros(g, TFC_FLOAT, 1, d2));
    CHECK(tfc_op_finish(d) == NULL);
    CHECK_CONTAINS(tfc_graph_error(g), "bad_apply");
    CHECK_CONTAINS(tfc_graph_error(g), "Shape mismatch: accumulator 'ConditionalAccumulator' has "
                                       "shape [3], the gradient [2]");
    tfc_graph_free(g);

    g = tfc_graph_new();
    acc = tfc_conditional_accumulator(g, TFC_FLOAT, 1, d3, NULL, TFC_ACCUMULATOR_MEAN);
    d = tfc_op_new(g, "AccumulatorApplyGradient", "bad_dtype");
    tfc_op_add_input(d, acc);
    tfc_op_add_input(d, tfc_const_int64(g, 0));
    tfc_op_add_input(d, tfc_zeros(g, TFC_DOUBLE, 1, d3));
    CHECK(tfc_op_finish(d) == NULL);
    CHECK_CONTAINS(tfc_graph_error(g), "bad_dtype");
    CHECK_CONTAINS(tfc_graph_error(g), "holds float32 gradients, the gradient is float64");
    tfc_graph_free(g);

    g = tfc_graph_new();
    acc = tfc_conditional_accumulator(g, TFC_FLOAT, 1, d3, NULL, TFC_ACCUMULATOR_MEAN);
    tfc_accumulator_take_gradient(g, acc, tfc_const_int32(g, 0));
    CHECK_CONTAINS(tfc_graph_error(g), "Argument num_required must be positive, but was 0");
    CHECK_CONTAINS(tfc_graph_error(g), "AccumulatorTakeGradient");
    tfc_graph_free(g);

    g = tfc_graph_new();
    d = tfc_op_new(g, "ConditionalAccumulator", "bad_reduction");
    tfc_op_set_attr_type(d, "dtype", TFC_FLOAT);
    tfc_op_set_attr_string(d, "reduction_type", "MAX");
    CHECK(tfc_op_finish(d) == NULL);
    CHECK_CONTAINS(tfc_graph_error(g), "bad_reduction");
    CHECK_CONTAINS(tfc_graph_error(g), "it must be \"MEAN\" or \"SUM\"");
    tfc_graph_free(g);

    /* run time: an accumulator of unknown shape gets [2] then [3]; a
     * num_required fed 0 */
    g = tfc_graph_new();
    acc_nodes a = around(g, TFC_FLOAT, -1, NULL, NULL, TFC_ACCUMULATOR_MEAN);
    CHECK_GRAPH_OK(g);
    tfc_session *s = session(g, 2);
    tfc_tensor *t2 = tfc_tensor_new(TFC_FLOAT, 1, d2), *t3 = tfc_tensor_new(TFC_FLOAT, 1, d3);
    char msg[512];
    CHECK(apply(s, &a, 0, t2, msg, sizeof msg) == TFC_OK);
    CHECK(apply(s, &a, 0, t3, msg, sizeof msg) == TFC_INVALID_ARGUMENT);
    CHECK_CONTAINS(msg, "holds gradients of shape [2], this one has shape [3]");
    CHECK_CONTAINS(msg, tfc_node_name(a.apply));
    CHECK(count(s, &a) == 1);
    tfc_code c;
    tfc_tensor *t = take(s, &a, 0, 0, &c, msg, sizeof msg);
    CHECK(c == TFC_INVALID_ARGUMENT && !t);
    CHECK_CONTAINS(msg, "Argument num_required must be positive, but was 0");
    CHECK_CONTAINS(msg, tfc_node_name(a.taken.node));
    tfc_tensor_free(t2);
    tfc_tensor_free(t3);
    tfc_session_free(s);
    tfc_graph_free(g);
}

TFC_TEST_MAIN(T(test_mean_is_order_free), T(test_sum_and_integer_mean),
              T(test_stale_gradients_dropped), T(test_take_waits_without_a_thread),
              T(test_take_deadline_then_usable), T(test_shared_name),
              T(test_errors_name_the_node))
