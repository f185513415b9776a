/* Runs split over devices: values crossing devices, control edges that
 * cross, errors in one partition stopping the others, model parallelism
 * training bit-identically to one device, two towers averaging gradients,
 * cond and while_loop bodies spanning two devices, and each device's own
 * threads. */
#include "device/rendezvous.h"
#include "device/send_recv.h"
#include "harness.h"
#include "runtime/runtime.h"

#include <stdlib.h>
#include <unistd.h>

static const char *cpu_type[] = {"CPU"};

/* n CPUs; with one, soft placement moves what asks for /cpu:1 to /cpu:0
 * (the baseline the split runs are compared with). */
static tfc_session *cpus(tfc_graph *g, int n, int threads, tfc_status *st) {
    int counts[] = {n};
    tfc_session_options o = {.num_device_types = 1, .device_types = cpu_type,
                             .device_counts = counts, .intra_op_threads = threads,
                             .inter_op_threads = threads, .allow_soft_placement = n == 1};
    return tfc_session_new(g, &o, st);
}

static void test_values_cross_devices(void) {
    tfc_graph *g = tfc_graph_new();
    int64_t xd[] = {2, 3};
    tfc_output x = tfc_placeholder(g, "x", TFC_FLOAT, 2, xd);
    tfc_output two = tfc_const_float(g, 2);
    tfc_device_push(g, "/cpu:1");
    tfc_output y = tfc_mul(g, x, two);             /* cpu:1 reads a feed and a constant */
    tfc_output yy = tfc_reduce_sum(g, y, NULL, 0, 0);
    tfc_device_pop(g);
    tfc_output z = tfc_add(g, y, x);               /* cpu:0 reads y from cpu:1 */
    tfc_output w = tfc_mul(g, z, tfc_exp(g, y));   /* y read twice on cpu:0: one pair */
    CHECK_GRAPH_OK(g);
    tfc_status *st = tfc_status_new();
    for (int threads = 1; threads <= 3; threads++) {
        tfc_session *s = cpus(g, 2, threads, st);
        tfc_test_seed(5);
        tfc_tensor *xv = tfc_test_random_tensor(TFC_FLOAT, 2, xd, -1, 1);
        tfc_output fetches[] = {z, yy, w, x, two};
        tfc_tensor *out[5];
        for (int rep = 0; rep < 20; rep++) {
            tfc_session_run(s, &x, &xv, 1, fetches, 5, out, NULL, 0, st);
            CHECK_STATUS_OK(st);
            if (tfc_status_code(st) != TFC_OK) break;
            double sum = 0;
            for (int i = 0; i < 6; i++) {
                double xi = tfc_test_get(xv, i);
                CHECK_NEAR(tfc_test_get(out[0], i), 3 * xi, 1e-6);
                CHECK_NEAR(tfc_test_get(out[2], i), 3 * xi * exp(2 * xi), 1e-5);
                CHECK(tfc_test_get(out[3], i) == xi);
                sum += 2 * xi;
            }
            CHECK_NEAR(tfc_test_get(out[1], 0), sum, 1e-5);
            CHECK(tfc_test_get(out[4], 0) == 2);
            for (int i = 0; i < 5; i++) tfc_tensor_free(out[i]);
        }
        CHECK(!strcmp(tfc_session_assigned_device(s, z.node),
                      "/job:localhost/replica:0/task:0/device:CPU:0"));
        CHECK(!strcmp(tfc_session_assigned_device(s, y.node),
                      "/job:localhost/replica:0/task:0/device:CPU:1"));
        tfc_tensor_free(xv);
        tfc_session_free(s);
    }
    tfc_status_free(st);
    tfc_graph_free(g);
}

/* A control input on another device orders the run: the read on cpu:1
 * waits for the increment on cpu:0 through a pair that sends no value. */
static void test_control_edges_cross_devices(void) {
    tfc_graph *g = tfc_graph_new();
    tfc_output v = tfc_variable(g, "v", tfc_const_float(g, 0));
    tfc_output inc = tfc_assign_add(g, v, tfc_const_float(g, 1));
    tfc_device_push(g, "/cpu:1");
    tfc_control_dependencies_push(g, &inc.node, 1);
    tfc_output after = tfc_mul(g, v, tfc_const_float(g, 1));
    tfc_control_dependencies_pop(g);
    tfc_device_pop(g);
    CHECK_GRAPH_OK(g);
    tfc_status *st = tfc_status_new();
    tfc_session *s = cpus(g, 2, 2, st);
    tfc_node *init = tfc_variable_initializer(v);
    tfc_session_run(s, NULL, NULL, 0, NULL, 0, NULL, &init, 1, st);
    for (int i = 1; i <= 50; i++) {
        tfc_tensor *t = tfc_session_run1(s, NULL, NULL, 0, after, st);
        CHECK_STATUS_OK(st);
        CHECK_MSG(t && tfc_test_get(t, 0) == i, "run %d read %g", i, t ? tfc_test_get(t, 0) : -1);
        tfc_tensor_free(t);
    }
    /* the plan: two partitions; cpu:0 sends v and a control token, cpu:1 receives both */
    tfc_plan *p = tfc_session_find_plan(s, NULL, 0, &after, 1, NULL, 0);
    CHECK(p && p->npartitions == 2);
    int control = 0, data = 0;
    for (int k = 0; p && k < p->npartitions; k++)
        for (int a = 0; a < p->partitions[k]->naux; a++) {
            tfc_node *n = p->partitions[k]->aux[a];
            if (tfc_sendrecv_is_control(n))
                control++;
            else
                data++;
            CHECK_CONTAINS(tfc_sendrecv_key(n), "/job:localhost/replica:0/task:0/device:CPU:0;");
            CHECK_CONTAINS(tfc_sendrecv_key(n), ";/job:localhost/replica:0/task:0/device:CPU:1;edge_");
            CHECK_CONTAINS(tfc_sendrecv_key(n), ";0:0");
        }
    CHECK_MSG(control == 2 && data == 2, "%d control, %d data", control, data);
    tfc_tensor *t = tfc_session_run1(s, NULL, NULL, 0, v, st);
    CHECK(t && tfc_test_get(t, 0) == 50);
    tfc_tensor_free(t);
    tfc_session_free(s);
    tfc_status_free(st);
    tfc_graph_free(g);
}

static int count(const char *s, const char *sub) {
    int n = 0;
    for (const char *p = s; (p = strstr(p, sub)); p += strlen(sub)) n++;
    return n;
}

/* An error in one partition fails the run once; the others, waiting for
 * values that will not come, stop too. */
static void test_error_in_one_partition_stops_the_others(void) {
    tfc_graph *g = tfc_graph_new();
    tfc_output v = tfc_variable(g, "v", tfc_const_float(g, 1)); /* never initialized */
    tfc_output bad = tfc_check_numerics(g, tfc_log(g, tfc_const_float(g, -1)), "bad log");
    tfc_device_push(g, "/cpu:1");
    tfc_output r = tfc_mul(g, v, v);
    tfc_output chain = tfc_mul(g, bad, tfc_const_float(g, 2));
    tfc_device_pop(g);
    tfc_output back = tfc_add(g, chain, tfc_const_float(g, 1)); /* cpu:0 waits for cpu:1 */
    CHECK_GRAPH_OK(g);
    tfc_status *st = tfc_status_new();
    tfc_session *s = cpus(g, 2, 2, st);
    for (int i = 0; i < 30; i++) {
        tfc_tensor *t = tfc_session_run1(s, NULL, NULL, 0, r, st);
        CHECK(t == NULL);
        CHECK(tfc_status_code(st) == TFC_FAILED_PRECONDITION);
        CHECK_CONTAINS(tfc_status_message(st), "Attempting to use uninitialized value v");
        tfc_output both[] = {back, r};
        tfc_tensor *out[2] = {NULL, NULL};
        tfc_session_run(s, NULL, NULL, 0, both, 2, out, NULL, 0, st);
        CHECK(out[0] == NULL && out[1] == NULL);
        CHECK(tfc_status_code(st) != TFC_OK);
        const char *msg = tfc_status_message(st);
        CHECK_MSG(count(msg, "bad log") + count(msg, "uninitialized") == 1, "%s", msg);
    }
    tfc_session_free(s);
    tfc_status_free(st);
    tfc_graph_free(g);
}

enum { BATCH = 32, IN = 20, HID = 48, CLASSES = 5, STEPS = 6 };

static tfc_output dense(tfc_graph *g, tfc_output x, int64_t in, int64_t out, int relu) {
    int64_t wd[] = {in, out};
    tfc_output w = tfc_variable(g, NULL, tfc_truncated_normal(g, TFC_FLOAT, 2, wd, 0, 0.3, 0));
    tfc_output b = tfc_variable(g, NULL, tfc_random_uniform(g, TFC_FLOAT, 1, &out, -0.1, 0.1, 0));
    tfc_output y = tfc_bias_add(g, tfc_matmul(g, x, w), b);
    return relu ? tfc_relu(g, y) : y;
}

/* Trains the MLP (first layer on /cpu:0, the rest on /cpu:1 when
 * `split`) in a session of `ndev` CPUs; returns the variables' values
 * (caller frees), their count in *n. */
static float *train_mlp(int ndev, int split, int64_t *n) {
    tfc_graph *g = tfc_graph_new();
    tfc_graph_set_seed(g, 11);
    int64_t xd[] = {-1, IN}, yd[] = {-1};
    tfc_output x = tfc_placeholder(g, "x", TFC_FLOAT, 2, xd);
    tfc_output y = tfc_placeholder(g, "y", TFC_INT32, 1, yd);
    if (split) tfc_device_push(g, "/cpu:0");
    tfc_output h = dense(g, x, IN, HID, 1);
    if (split) {
        tfc_device_pop(g);
        tfc_device_push(g, "/cpu:1");
    }
    h = dense(g, h, HID, HID, 1);
    tfc_output logits = dense(g, h, HID, CLASSES, 0);
    tfc_output loss =
        tfc_reduce_mean(g, tfc_sparse_softmax_cross_entropy_with_logits(g, y, logits), NULL, 0, 0);
    if (split) tfc_device_pop(g);
    tfc_optimizer *opt = tfc_adam_optimizer(0.01, 0.9, 0.999, 1e-8);
    tfc_node *step = tfc_optimizer_minimize(opt, g, loss, NULL, 0, (tfc_output){0});
    tfc_node *init = tfc_global_variables_initializer(g);
    CHECK_GRAPH_OK(g);
    tfc_status *st = tfc_status_new();
    tfc_session *s = cpus(g, ndev, 2, st);
    tfc_session_run(s, NULL, NULL, 0, NULL, 0, NULL, &init, 1, st);
    tfc_test_seed(3);
    int64_t bxd[] = {BATCH, IN}, byd[] = {BATCH};
    for (int i = 0; i < STEPS; i++) {
        tfc_tensor *bx = tfc_test_random_tensor(TFC_FLOAT, 2, bxd, -1, 1);
        tfc_tensor *by = tfc_test_random_tensor(TFC_INT32, 1, byd, 0, CLASSES);
        tfc_output feeds[] = {x, y};
        tfc_tensor *vals[] = {bx, by};
        tfc_session_run(s, feeds, vals, 2, NULL, 0, NULL, &step, 1, st);
        CHECK_STATUS_OK(st);
        tfc_tensor_free(bx);
        tfc_tensor_free(by);
    }
    int nv = tfc_graph_collection_size(g, TFC_TRAINABLE_VARIABLES);
    float *all = NULL;
    *n = 0;
    for (int i = 0; i < nv; i++) {
        tfc_node *var = tfc_graph_collection_get(g, TFC_TRAINABLE_VARIABLES, i);
        if (split && ndev == 2)
            CHECK(!strcmp(tfc_session_assigned_device(s, var),
                          i < 2 ? "/job:localhost/replica:0/task:0/device:CPU:0"
                                : "/job:localhost/replica:0/task:0/device:CPU:1"));
        tfc_tensor *v = tfc_session_run1(s, NULL, NULL, 0, tfc_out(var, 0), st);
        if (!v) continue;
        int64_t m = tfc_tensor_num_elements(v);
        all = realloc(all, (size_t)(*n + m) * sizeof *all);
        memcpy(all + *n, tfc_tensor_data(v), (size_t)m * sizeof *all);
        *n += m;
        tfc_tensor_free(v);
    }
    tfc_session_free(s);
    tfc_status_free(st);
    tfc_optimizer_free(opt);
    tfc_graph_free(g);
    return all;
}

static void test_model_parallel_mlp_trains_bit_identically(void) {
    int64_t n1, n2;
    float *one = train_mlp(1, 1, &n1), *two = train_mlp(2, 1, &n2);
    CHECK(n1 == IN * HID + HID + HID * HID + HID + HID * CLASSES + CLASSES && n1 == n2);
    if (one && two && n1 == n2) CHECK(memcmp(one, two, (size_t)n1 * sizeof *one) == 0);
    free(one);
    free(two);
}

/* Linear regression, batch split over two towers (tower i on /cpu:i)
 * whose gradients are averaged, as the multi-GPU slide does; or one tower
 * on the whole batch. Returns w and b after STEPS (caller frees). */
static float *train_towers(int towers, int ndev) {
    tfc_graph *g = tfc_graph_new();
    int64_t xd[] = {BATCH, IN}, yd[] = {BATCH, 1}, wd[] = {IN, 1}, bd[] = {1};
    tfc_output x = tfc_placeholder(g, "x", TFC_FLOAT, 2, xd);
    tfc_output y = tfc_placeholder(g, "y", TFC_FLOAT, 2, yd);
    tfc_device_push(g, "/cpu:0");
    tfc_output w = tfc_variable(g, "w", tfc_zeros(g, TFC_FLOAT, 2, wd));
    tfc_output b = tfc_variable(g, "b", tfc_zeros(g, TFC_FLOAT, 1, bd));
    tfc_device_pop(g);
    tfc_output vars[] = {w, b}, grads[2][2];
    for (int t = 0; t < towers; t++) {
        char dev[16];
        snprintf(dev, sizeof dev, "/cpu:%d", t);
        tfc_device_push(g, dev);
        int64_t begin[] = {t * BATCH / towers, 0}, size[] = {BATCH / towers, -1};
        tfc_output xt = tfc_slice(g, x, begin, size, 2), yt = tfc_slice(g, y, begin, size, 2);
        tfc_output pred = tfc_add(g, tfc_matmul(g, xt, w), b);
        tfc_output loss = tfc_reduce_mean(g, tfc_square(g, tfc_sub(g, pred, yt)), NULL, 0, 0);
        tfc_gradients(g, &loss, 1, vars, 2, NULL, grads[t]);
        tfc_device_pop(g);
    }
    tfc_grad_and_var gv[2];
    for (int k = 0; k < 2; k++) {
        gv[k].var = vars[k];
        gv[k].grad = grads[0][k];
        if (towers == 2) {
            tfc_output pair[] = {grads[0][k], grads[1][k]};
            gv[k].grad = tfc_mul(g, tfc_add_n(g, pair, 2), tfc_const_float(g, 0.5f));
        }
    }
    tfc_optimizer *opt = tfc_gradient_descent_optimizer(0.1);
    tfc_node *step = tfc_optimizer_apply_gradients(opt, g, gv, 2, (tfc_output){0});
    tfc_node *init = tfc_global_variables_initializer(g);
    CHECK_GRAPH_OK(g);
    tfc_status *st = tfc_status_new();
    tfc_session *s = cpus(g, ndev, 2, st);
    tfc_session_run(s, NULL, NULL, 0, NULL, 0, NULL, &init, 1, st);
    tfc_test_seed(9);
    for (int i = 0; i < STEPS; i++) {
        tfc_tensor *bx = tfc_test_random_tensor(TFC_FLOAT, 2, xd, -1, 1);
        tfc_tensor *by = tfc_test_random_tensor(TFC_FLOAT, 2, yd, -1, 1);
        tfc_output feeds[] = {x, y};
        tfc_tensor *vals[] = {bx, by};
        tfc_session_run(s, feeds, vals, 2, NULL, 0, NULL, &step, 1, st);
        CHECK_STATUS_OK(st);
        tfc_tensor_free(bx);
        tfc_tensor_free(by);
    }
    float *out = calloc(IN + 1, sizeof *out);
    tfc_tensor *wv = tfc_session_run1(s, NULL, NULL, 0, w, st);
    tfc_tensor *bv = tfc_session_run1(s, NULL, NULL, 0, b, st);
    if (wv && bv) {
        memcpy(out, tfc_tensor_data(wv), IN * sizeof *out);
        out[IN] = *(float *)tfc_tensor_data(bv);
    }
    tfc_tensor_free(wv);
    tfc_tensor_free(bv);
    tfc_session_free(s);
    tfc_status_free(st);
    tfc_optimizer_free(opt);
    tfc_graph_free(g);
    return out;
}

static void test_two_towers_average_gradients(void) {
    float *whole = train_towers(1, 1), *towers1 = train_towers(2, 1), *towers2 = train_towers(2, 2);
    /* the towers on two devices compute what they compute on one, bit for bit */
    CHECK(memcmp(towers1, towers2, (IN + 1) * sizeof *towers1) == 0);
    /* and the mean of the halves' mean gradients is the whole batch's */
    double moved = 0;
    for (int i = 0; i <= IN; i++) {
        CHECK_NEAR(towers2[i], whole[i], 1e-5);
        moved += fabs(whole[i]);
    }
    CHECK(moved > 0.1);
    free(whole);
    free(towers1);
    free(towers2);
}

/* Runs `fetch` (feeding `pred`) with log_device_placement on two CPUs,
 * stderr going to a file; returns the log (caller frees), the value in *v. */
static char *logged_run(tfc_graph *g, tfc_output feed, tfc_tensor *value, tfc_output fetch,
                        double *v) {
    char path[] = "/tmp/tfc_log_partitionXXXXXX";
    int fd = mkstemp(path);
    fflush(stderr);
    int saved = dup(2);
    dup2(fd, 2);
    static const int two[] = {2};
    tfc_session_options o = {.num_device_types = 1, .device_types = cpu_type,
                             .device_counts = two, .log_device_placement = 1};
    tfc_status *st = tfc_status_new();
    tfc_session *s = tfc_session_new(g, &o, st);
    tfc_tensor *t = tfc_session_run1(s, &feed, &value, feed.node ? 1 : 0, fetch, st);
    *v = t ? tfc_test_get(t, 0) : NAN;
    tfc_tensor_free(t);
    tfc_session_free(s);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    CHECK_STATUS_OK(st);
    tfc_status_free(st);
    char *buf = calloc(1, 1 << 16);
    lseek(fd, 0, SEEK_SET);
    ssize_t n = read(fd, buf, (1 << 16) - 1);
    buf[n > 0 ? n : 0] = 0;
    close(fd);
    unlink(path);
    return buf;
}

typedef struct captured {
    tfc_output x;
} captured;

/* true: (x * x on /cpu:1) + 1 on /cpu:0; false: x - 1 on /cpu:1 */
static int square_plus_one(tfc_graph *b, const tfc_output *a, int n, void *u, tfc_output *outs) {
    (void)a, (void)n;
    captured *c = u;
    tfc_device_push(b, "/cpu:1");
    tfc_with_name(b, "on_cpu1_square");
    tfc_output sq = tfc_mul(b, c->x, c->x);
    tfc_device_pop(b);
    outs[0] = tfc_add(b, sq, tfc_const_float(b, 1));
    return 0;
}
static int minus_one(tfc_graph *b, const tfc_output *a, int n, void *u, tfc_output *outs) {
    (void)a, (void)n;
    captured *c = u;
    tfc_device_push(b, "/cpu:1");
    tfc_output one = tfc_const_float(b, 1);
    tfc_with_name(b, "on_cpu1_minus");
    outs[0] = tfc_sub(b, c->x, one);
    tfc_device_pop(b);
    return 0;
}

/* tfc's cond is a functional If: its branches are functions, each run as
 * a plan of its own, placed and split like any graph. "Spanning two
 * devices" is a branch whose nodes sit on both; the branch not taken never
 * runs, so nothing of it is placed, sent or received (TensorFlow's dead
 * tensors, in functional form). */
static void test_cond_branches_span_devices(void) {
    tfc_graph *g = tfc_graph_new();
    tfc_output pred = tfc_placeholder(g, "pred", TFC_BOOL, 0, NULL);
    captured c = {tfc_const_float(g, 3)};
    tfc_output out;
    tfc_cond(g, pred, square_plus_one, minus_one, &c, 1, &out);
    CHECK_GRAPH_OK(g);
    for (int taken = 0; taken < 2; taken++) {
        tfc_tensor *p = tfc_tensor_new(TFC_BOOL, 0, NULL);
        *(unsigned char *)tfc_tensor_data(p) = (unsigned char)taken;
        double v;
        char *log = logged_run(g, pred, p, out, &v);
        CHECK(v == (taken ? 10 : 2));
        const char *ran = taken ? "on_cpu1_square: (Mul): " : "on_cpu1_minus: (Sub): ";
        const char *not_ran = taken ? "on_cpu1_minus" : "on_cpu1_square";
        CHECK_CONTAINS(log, ran);
        char want[200];
        snprintf(want, sizeof want, "%s/job:localhost/replica:0/task:0/device:CPU:1\n", ran);
        CHECK_CONTAINS(log, want);
        CHECK_MSG(!strstr(log, not_ran), "%s", log);
        free(log);
        tfc_tensor_free(p);
    }
    tfc_graph_free(g);
}

static int loop_cond(tfc_graph *b, const tfc_output *a, int n, void *u, tfc_output *outs) {
    (void)n, (void)u;
    outs[0] = tfc_less(b, a[0], tfc_const_float(b, 5));
    return 0;
}
/* i + 1 on /cpu:0, acc * 2 on /cpu:1 */
static int loop_body(tfc_graph *b, const tfc_output *a, int n, void *u, tfc_output *outs) {
    (void)n, (void)u;
    outs[0] = tfc_add(b, a[0], tfc_const_float(b, 1));
    tfc_device_push(b, "/cpu:1");
    tfc_output two = tfc_const_float(b, 2);
    tfc_with_name(b, "doubled_on_cpu1");
    outs[1] = tfc_mul(b, a[1], two);
    tfc_device_pop(b);
    return 0;
}

/* while_loop's body is a function run once per iteration, each run its own
 * step with its own rendezvous: the body's two devices exchange values
 * every iteration. */
static void test_while_body_spans_devices(void) {
    tfc_graph *g = tfc_graph_new();
    tfc_output vars[] = {tfc_const_float(g, 0), tfc_const_float(g, 3)}, outs[2];
    tfc_while_loop(g, loop_cond, loop_body, NULL, vars, 2, NULL, 10, outs);
    tfc_output total = tfc_add(g, outs[0], outs[1]);
    CHECK_GRAPH_OK(g);
    double v;
    char *log = logged_run(g, (tfc_output){0}, NULL, total, &v);
    CHECK(v == 5 + 3 * 32);
    CHECK_CONTAINS(log, "doubled_on_cpu1: (Mul): /job:localhost/replica:0/task:0/device:CPU:1\n");
    CHECK_CONTAINS(log, ": (Add): /job:localhost/replica:0/task:0/device:CPU:0\n");
    free(log);
    tfc_graph_free(g);

    /* the While itself on /cpu:1 inside a split plan, each device with one
     * worker: the thread running it helps its device's pool while the body's
     * own split steps run (else that pool would wait on itself) */
    g = tfc_graph_new();
    tfc_output start = tfc_placeholder(g, "start", TFC_FLOAT, 0, NULL);
    tfc_output vars2[] = {tfc_const_float(g, 0), tfc_mul(g, start, tfc_const_float(g, 1))};
    tfc_device_push(g, "/cpu:1");
    tfc_while_loop(g, loop_cond, loop_body, NULL, vars2, 2, NULL, 10, outs);
    tfc_device_pop(g);
    total = tfc_add(g, outs[0], outs[1]);
    CHECK_GRAPH_OK(g);
    tfc_status *st = tfc_status_new();
    for (int threads = 1; threads <= 3; threads++) {
        tfc_session *s = cpus(g, 2, threads, st);
        tfc_tensor *sv = tfc_tensor_new(TFC_FLOAT, 0, NULL);
        *(float *)tfc_tensor_data(sv) = 1;
        for (int i = 0; i < 20; i++) {
            tfc_tensor *t = tfc_session_run1(s, &start, &sv, 1, total, st);
            CHECK_STATUS_OK(st);
            CHECK(t && tfc_test_get(t, 0) == 5 + 32);
            tfc_tensor_free(t);
        }
        tfc_tensor_free(sv);
        tfc_session_free(s);
    }
    tfc_status_free(st);
    tfc_graph_free(g);
}

typedef struct got {
    int calls, code, dead;
    tfc_tensor *value;
} got;
static void on_value(void *arg, const tfc_status *st, tfc_tensor *value, int is_dead) {
    got *g = arg;
    g->calls++;
    g->code = st->code;
    g->dead = is_dead;
    g->value = value;
}

/* The local rendezvous: TensorFlow's key, either order, dead values cross
 * as dead, a key used twice, abort. */
static void test_local_rendezvous(void) {
    char key[256];
    tfc_rendezvous_key(key, sizeof key, "/job:localhost/replica:0/task:0/device:CPU:0",
                       0x1234abcdull, "/job:localhost/replica:0/task:0/device:CPU:1", "edge_3_x",
                       2, 7);
    CHECK(!strcmp(key, "/job:localhost/replica:0/task:0/device:CPU:0;000000001234abcd;"
                       "/job:localhost/replica:0/task:0/device:CPU:1;edge_3_x;2:7"));
    tfc_rendezvous *r = tfc_local_rendezvous_new();
    tfc_status st;
    /* send first */
    tfc_tensor *t = tfc_tensor_new(TFC_FLOAT, 0, NULL);
    CHECK(tfc_rendezvous_send(r, "a", tfc_tensor_ref(t), 0, &st) == 0);
    got a = {0};
    tfc_rendezvous_recv_async(r, "a", on_value, &a);
    CHECK(a.calls == 1 && a.code == TFC_OK && a.value == t && !a.dead);
    tfc_tensor_free(a.value);
    /* receive first; a dead value crosses as dead */
    got b = {0};
    tfc_rendezvous_recv_async(r, "b", on_value, &b);
    CHECK(b.calls == 0);
    CHECK(tfc_rendezvous_send(r, "b", NULL, 1, &st) == 0);
    CHECK(b.calls == 1 && b.code == TFC_OK && b.dead && !b.value);
    /* a key sent twice */
    CHECK(tfc_rendezvous_send(r, "a", tfc_tensor_ref(t), 0, &st) == -1);
    CHECK_CONTAINS(st.msg, "already sent key: a");
    /* abort: waiting and later receivers fail with its status; sends too */
    got c = {0}, d = {0};
    tfc_rendezvous_recv_async(r, "c", on_value, &c);
    tfc_status why;
    tfc_status_set(&why, TFC_CANCELLED, "partition 1 failed");
    tfc_rendezvous_abort(r, &why);
    CHECK(c.calls == 1 && c.code == TFC_CANCELLED && !c.value);
    tfc_rendezvous_recv_async(r, "d", on_value, &d);
    CHECK(d.calls == 1 && d.code == TFC_CANCELLED);
    CHECK(tfc_rendezvous_send(r, "e", tfc_tensor_ref(t), 0, &st) == -1);
    CHECK_CONTAINS(st.msg, "partition 1 failed");
    /* a value sent and never received is freed with the rendezvous */
    tfc_rendezvous_free(r);
    r = tfc_local_rendezvous_new();
    CHECK(tfc_rendezvous_send(r, "left", tfc_tensor_ref(t), 0, &st) == 0);
    tfc_rendezvous_free(r);
    tfc_tensor_free(t);
}

TFC_TEST_MAIN(T(test_local_rendezvous), T(test_values_cross_devices), T(test_control_edges_cross_devices),
              T(test_error_in_one_partition_stops_the_others),
              T(test_model_parallel_mlp_trains_bit_identically),
              T(test_two_towers_average_gradients), T(test_cond_branches_span_devices),
              T(test_while_body_spans_devices))
