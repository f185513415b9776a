/* Placement: devices of a session, requested devices, nested scopes,
 * colocation (variables, colocate_with, _class), soft placement, every
 * placement error, log_device_placement's lines. */
#include "device/device.h"
#include "harness.h"

#include <stdlib.h>
#include <unistd.h>

#define CPU0 "/job:localhost/replica:0/task:0/device:CPU:0"
#define CPU1 "/job:localhost/replica:0/task:0/device:CPU:1"

static const char *cpu_type[] = {"CPU"};
static const int two[] = {2};

static tfc_session *two_cpus(tfc_graph *g, int soft, tfc_status *st) {
    tfc_session_options o = {.num_device_types = 1, .device_types = cpu_type,
                             .device_counts = two, .allow_soft_placement = soft};
    return tfc_session_new(g, &o, st);
}

/* Runs `fetch` in s; returns its first element as a double (NAN on error). */
static double run_scalar(tfc_session *s, tfc_output fetch, tfc_status *st) {
    tfc_tensor *t = tfc_session_run1(s, NULL, NULL, 0, fetch, st);
    double v = t ? tfc_test_get(t, 0) : NAN;
    tfc_tensor_free(t);
    return v;
}

static void test_devices_of_a_session(void) {
    tfc_graph *g = tfc_graph_new();
    tfc_status *st = tfc_status_new();
    tfc_session *s = tfc_session_new(g, NULL, st);
    CHECK(tfc_session_num_devices(s) == 1);
    CHECK(!strcmp(tfc_session_device_name(s, 0), CPU0));
    CHECK(tfc_session_device_name(s, 1) == NULL);
    tfc_session_free(s);
    s = two_cpus(g, 0, st);
    CHECK(tfc_session_num_devices(s) == 2);
    CHECK(!strcmp(tfc_session_device_name(s, 1), CPU1));
    tfc_session_free(s);
    /* a type this build lacks is skipped, as TensorFlow's device_count does */
    const char *types[] = {"GPU", "CPU"};
    const int counts[] = {1, 3};
    tfc_session_options o = {.num_device_types = 2, .device_types = types, .device_counts = counts};
    s = tfc_session_new(g, &o, st);
    CHECK_STATUS_OK(st);
    CHECK(tfc_session_num_devices(s) == 3);
    tfc_session_free(s);
    const int bad[] = {-1};
    o = (tfc_session_options){.num_device_types = 1, .device_types = cpu_type, .device_counts = bad};
    CHECK(tfc_session_new(g, &o, st) == NULL);
    CHECK_CONTAINS(tfc_status_message(st), "device_count for 'CPU' is -1");
    const int zero[] = {0};
    o.device_counts = zero;
    CHECK(tfc_session_new(g, &o, st) == NULL);
    CHECK_CONTAINS(tfc_status_message(st), "no device at all");
    tfc_status_free(st);
    tfc_graph_free(g);
}

static void test_explicit_and_nested_scopes(void) {
    tfc_graph *g = tfc_graph_new();
    tfc_device_push(g, "/cpu:1");
    tfc_output a = tfc_const_float(g, 2);
    tfc_device_push(g, "/job:localhost"); /* merged: /job:localhost/device:CPU:1 */
    tfc_output b = tfc_mul(g, a, a);
    tfc_device_pop(g);
    tfc_device_push(g, "/device:CPU:0"); /* the inner id wins */
    tfc_output c = tfc_add(g, b, a);
    tfc_device_pop(g);
    tfc_device_pop(g);
    tfc_output d = tfc_add(g, c, c); /* nothing asked: the first device */
    tfc_device_push(g, "/device:CPU:*");
    tfc_output e = tfc_mul(g, d, a);
    tfc_device_pop(g);
    CHECK_GRAPH_OK(g);
    tfc_status *st = tfc_status_new();
    tfc_session *s = two_cpus(g, 0, st);
    CHECK(tfc_session_assigned_device(s, b.node) == NULL); /* not placed before a run */
    CHECK_NEAR(run_scalar(s, e, st), 24, 0);
    CHECK_STATUS_OK(st);
    CHECK(!strcmp(tfc_session_assigned_device(s, a.node), CPU1));
    CHECK(!strcmp(tfc_session_assigned_device(s, b.node), CPU1));
    CHECK(!strcmp(tfc_session_assigned_device(s, c.node), CPU0));
    CHECK(!strcmp(tfc_session_assigned_device(s, d.node), CPU0));
    CHECK(!strcmp(tfc_session_assigned_device(s, e.node), CPU0));
    tfc_session_free(s);
    tfc_status_free(st);
    tfc_graph_free(g);
}

static void test_variables_colocate_with_their_updates(void) {
    tfc_graph *g = tfc_graph_new();
    int64_t dims[] = {3};
    tfc_device_push(g, "/cpu:1");
    tfc_output v = tfc_variable(g, "v", tfc_ones(g, TFC_FLOAT, 1, dims));
    tfc_device_pop(g);
    /* made outside any device scope: they follow the variable */
    tfc_output inc = tfc_assign_add(g, v, tfc_ones(g, TFC_FLOAT, 1, dims));
    tfc_output loss = tfc_reduce_sum(g, tfc_mul(g, v, v), NULL, 0, 0);
    tfc_optimizer *opt = tfc_gradient_descent_optimizer(0.1);
    tfc_node *step = tfc_optimizer_minimize(opt, g, loss, NULL, 0, (tfc_output){0});
    tfc_node *init = tfc_global_variables_initializer(g);
    CHECK_GRAPH_OK(g);
    tfc_status *st = tfc_status_new();
    tfc_session *s = two_cpus(g, 0, st);
    tfc_session_run(s, NULL, NULL, 0, NULL, 0, NULL, &init, 1, st);
    tfc_session_run(s, NULL, NULL, 0, NULL, 0, NULL, &step, 1, st);
    CHECK_NEAR(run_scalar(s, inc, st), 1.8, 1e-6); /* 1 - 0.1 * 2 + 1 */
    CHECK_STATUS_OK(st);
    CHECK(!strcmp(tfc_session_assigned_device(s, v.node), CPU1));
    CHECK(!strcmp(tfc_session_assigned_device(s, inc.node), CPU1));
    CHECK(!strcmp(tfc_session_assigned_device(s, tfc_variable_initializer(v)), CPU1));
    /* the ApplyGradientDescent inside the train op */
    int napply = 0;
    for (int i = 0; i < tfc_graph_num_nodes(g); i++) {
        tfc_node *n = tfc_graph_node(g, i);
        if (!strcmp(tfc_node_type(n), "ApplyGradientDescent")) {
            napply++;
            CHECK(!strcmp(tfc_session_assigned_device(s, n), CPU1));
        }
    }
    CHECK(napply == 1);
    /* the loss, asking for nothing, is on the first device */
    CHECK(!strcmp(tfc_session_assigned_device(s, loss.node), CPU0));
    tfc_session_free(s);
    tfc_optimizer_free(opt);
    tfc_status_free(st);
    tfc_graph_free(g);
}

static void test_colocate_with_and_class_attr(void) {
    tfc_graph *g = tfc_graph_new();
    tfc_device_push(g, "/cpu:1");
    tfc_output a = tfc_const_float(g, 3);
    tfc_device_pop(g);
    tfc_colocate_with_push(g, a.node);
    tfc_output b = tfc_mul(g, a, a);
    tfc_colocate_with_pop(g);
    CHECK(!strcmp(tfc_node_attr_string(b.node, "_class"), "loc:@Const"));
    tfc_output c = tfc_add(g, b, a);
    /* a _class attr given by hand, as an imported graph carries it */
    tfc_op_desc *d = tfc_op_new(g, "Identity", "by_hand");
    tfc_op_add_input(d, c);
    tfc_op_set_attr_string(d, "_class", "loc:@Mul");
    tfc_node *h = tfc_op_finish(d);
    CHECK_GRAPH_OK(g);
    tfc_status *st = tfc_status_new();
    tfc_session *s = two_cpus(g, 0, st);
    CHECK_NEAR(run_scalar(s, tfc_out(h, 0), st), 12, 0);
    CHECK_STATUS_OK(st);
    CHECK(!strcmp(tfc_session_assigned_device(s, b.node), CPU1));
    CHECK(!strcmp(tfc_session_assigned_device(s, c.node), CPU0));
    CHECK(!strcmp(tfc_session_assigned_device(s, h), CPU1));
    tfc_session_free(s);
    tfc_status_free(st);
    tfc_graph_free(g);
}

/* The run's error for a graph with one bad node, with and without soft
 * placement; the soft run's device of `n` in *dev (NULL when it failed). */
static void check_placement(tfc_graph *g, tfc_node *n, const char *want_error,
                            const char *soft_device) {
    tfc_status *st = tfc_status_new();
    tfc_session *s = two_cpus(g, 0, st);
    tfc_tensor *t = tfc_session_run1(s, NULL, NULL, 0, tfc_out(n, 0), st);
    CHECK(t == NULL);
    CHECK(tfc_status_code(st) == TFC_INVALID_ARGUMENT);
    CHECK_CONTAINS(tfc_status_message(st), want_error);
    CHECK(tfc_session_assigned_device(s, n) == NULL);
    tfc_session_free(s);
    if (soft_device) {
        s = two_cpus(g, 1, st);
        t = tfc_session_run1(s, NULL, NULL, 0, tfc_out(n, 0), st);
        CHECK_STATUS_OK(st);
        CHECK(t != NULL);
        tfc_tensor_free(t);
        const char *dev = tfc_session_assigned_device(s, n);
        CHECK_MSG(dev && !strcmp(dev, soft_device), "%s", dev ? dev : "(null)");
        tfc_session_free(s);
    }
    tfc_status_free(st);
}

static void test_missing_devices_and_soft_placement(void) {
    const char *specs[] = {"/gpu:0", "/cpu:5", "/job:ps/task:0", "/device:TPU:0"};
    const char *wants[] = {
        "Cannot assign a device for operation 'x': Operation was explicitly assigned to "
        "/device:GPU:0 but available devices are [ " CPU0 ", " CPU1 " ]. Make sure the device "
        "specification refers to a valid device. The requested device appears to be a GPU, "
        "but CUDA is not enabled.",
        "Cannot assign a device for operation 'x': Operation was explicitly assigned to "
        "/device:CPU:5 but available devices are [ " CPU0 ", " CPU1 " ].",
        "Cannot assign a device for operation 'x': Operation was explicitly assigned to "
        "/job:ps/task:0 but available devices are",
        "explicitly assigned to /device:TPU:0 but"};
    for (int i = 0; i < 4; i++) {
        tfc_graph *g = tfc_graph_new();
        tfc_device_push(g, specs[i]);
        tfc_with_name(g, "x");
        tfc_output x = tfc_const_float(g, 1);
        tfc_device_pop(g);
        tfc_output y = tfc_add(g, x, x);
        CHECK_GRAPH_OK(g);
        check_placement(g, y.node, wants[i], CPU0);
        tfc_graph_free(g);
    }
}

static void test_colocation_errors(void) {
    /* conflicting explicit devices in one group */
    tfc_graph *g = tfc_graph_new();
    int64_t dims[] = {2};
    tfc_device_push(g, "/cpu:1");
    tfc_output v = tfc_variable(g, "v", tfc_ones(g, TFC_FLOAT, 1, dims));
    tfc_device_pop(g);
    tfc_device_push(g, "/cpu:0");
    tfc_output bump = tfc_assign_add(g, v, tfc_ones(g, TFC_FLOAT, 1, dims));
    tfc_device_pop(g);
    CHECK_GRAPH_OK(g);
    tfc_status *st = tfc_status_new();
    tfc_session *s = two_cpus(g, 0, st);
    tfc_tensor *t = tfc_session_run1(s, NULL, NULL, 0, bump, st);
    CHECK(t == NULL);
    CHECK_CONTAINS(tfc_status_message(st), "Cannot colocate nodes 'v' and 'AssignAdd'");
    CHECK_CONTAINS(tfc_status_message(st), "/device:CPU:1");
    tfc_session_free(s);
    /* soft placement keeps them together */
    s = two_cpus(g, 1, st);
    tfc_node *init = tfc_variable_initializer(v);
    tfc_session_run(s, NULL, NULL, 0, NULL, 0, NULL, &init, 1, st);
    CHECK_NEAR(run_scalar(s, bump, st), 2, 0);
    CHECK_STATUS_OK(st);
    CHECK(!strcmp(tfc_session_assigned_device(s, v.node), tfc_session_assigned_device(s, bump.node)));
    tfc_session_free(s);
    tfc_graph_free(g);

    /* _class naming no node, and a malformed _class */
    const char *classes[] = {"loc:@nowhere", "bogus"};
    const char *wants[] = {"Node 'c' (Identity) is to be colocated with 'nowhere' (its _class "
                           "attr), which is not a node of the graph",
                           "its _class attr 'bogus' holds 'bogus'; expected entries \"loc:@NAME\""};
    for (int i = 0; i < 2; i++) {
        g = tfc_graph_new();
        tfc_output a = tfc_const_float(g, 1);
        tfc_op_desc *d = tfc_op_new(g, "Identity", "c");
        tfc_op_add_input(d, a);
        tfc_op_set_attr_string(d, "_class", classes[i]);
        tfc_node *c = tfc_op_finish(d);
        CHECK_GRAPH_OK(g);
        check_placement(g, c, wants[i], NULL);
        tfc_graph_free(g);
    }
    tfc_status_free(st);
}

/* A device type with a MatMul kernel only, living in host memory: what a
 * CUDA device with a few kernels looks like to the placer. */
static int fake_has_kernel(const tfc_op_def *op) { return !strcmp(op->type, "MatMul"); }
static const tfc_device_type fake_type = {"FAKE", 5, 0, fake_has_kernel, NULL, NULL, NULL};

static void test_device_type_without_kernels(void) {
    tfc_device_type_register(&fake_type);
    tfc_graph *g = tfc_graph_new();
    int64_t dims[] = {2, 2};
    tfc_output a = tfc_ones(g, TFC_FLOAT, 2, dims);
    tfc_device_push(g, "/device:FAKE:0");
    tfc_output m = tfc_matmul(g, a, a);
    tfc_with_name(g, "plus");
    tfc_output p = tfc_add(g, m, a);
    tfc_device_pop(g);
    CHECK_GRAPH_OK(g);
    const char *types[] = {"CPU", "FAKE"};
    const int counts[] = {1, 1};
    for (int soft = 0; soft < 2; soft++) {
        tfc_session_options o = {.num_device_types = 2, .device_types = types,
                                 .device_counts = counts, .allow_soft_placement = soft};
        tfc_status *st = tfc_status_new();
        tfc_session *s = tfc_session_new(g, &o, st);
        CHECK(tfc_session_num_devices(s) == 2);
        tfc_tensor *t = tfc_session_run1(s, NULL, NULL, 0, p, st);
        if (!soft) {
            CHECK(t == NULL);
            CHECK_CONTAINS(tfc_status_message(st),
                           "Cannot assign a device for operation 'plus': Could not satisfy "
                           "explicit device specification '/device:FAKE:0' because no supported "
                           "kernel for FAKE devices is available.");
        } else {
            CHECK_STATUS_OK(st);
            CHECK(t && tfc_test_get(t, 0) == 3);
            CHECK(!strcmp(tfc_session_assigned_device(s, m.node),
                          "/job:localhost/replica:0/task:0/device:FAKE:0"));
            CHECK(!strcmp(tfc_session_assigned_device(s, p.node), CPU0));
        }
        tfc_tensor_free(t);
        tfc_session_free(s);
        tfc_status_free(st);
    }
    tfc_graph_free(g);
}

static void test_placement_kept_as_the_graph_grows(void) {
    tfc_graph *g = tfc_graph_new();
    tfc_device_push(g, "/cpu:1");
    tfc_output v = tfc_variable(g, "v", tfc_const_float(g, 1));
    tfc_device_pop(g);
    tfc_status *st = tfc_status_new();
    tfc_session *s = two_cpus(g, 0, st);
    tfc_node *init = tfc_variable_initializer(v);
    tfc_session_run(s, NULL, NULL, 0, NULL, 0, NULL, &init, 1, st);
    CHECK(!strcmp(tfc_session_assigned_device(s, v.node), CPU1));
    tfc_output inc = tfc_assign_add(g, v, tfc_const_float(g, 2)); /* added after a run */
    CHECK_NEAR(run_scalar(s, inc, st), 3, 0);
    CHECK_STATUS_OK(st);
    CHECK(!strcmp(tfc_session_assigned_device(s, inc.node), CPU1));
    tfc_session_free(s);
    tfc_status_free(st);
    tfc_graph_free(g);
}

/* Runs `fetch` with log_device_placement, stderr going to a file; returns
 * what was printed (caller frees). */
static char *logged_run(tfc_graph *g, tfc_output fetch) {
    char path[] = "/tmp/tfc_log_placementXXXXXX";
    int fd = mkstemp(path);
    fflush(stderr);
    int saved = dup(2);
    dup2(fd, 2);
    tfc_session_options o = {.num_device_types = 1, .device_types = cpu_type,
                             .device_counts = two, .log_device_placement = 1};
    tfc_status *st = tfc_status_new();
    tfc_session *s = tfc_session_new(g, &o, st);
    tfc_tensor *t = tfc_session_run1(s, NULL, NULL, 0, fetch, st);
    tfc_tensor_free(t);
    tfc_session_free(s);
    tfc_status_free(st);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    char *buf = calloc(1, 1 << 16);
    lseek(fd, 0, SEEK_SET);
    ssize_t n = read(fd, buf, (1 << 16) - 1);
    if (n < 0) n = 0;
    buf[n] = 0;
    close(fd);
    unlink(path);
    return buf;
}

static void test_log_device_placement(void) {
    tfc_graph *g = tfc_graph_new();
    int64_t dims[] = {2, 2};
    tfc_output a = tfc_ones(g, TFC_FLOAT, 2, dims);
    tfc_device_push(g, "/cpu:1");
    tfc_output m = tfc_matmul(g, a, a);
    tfc_device_pop(g);
    tfc_relu(g, m);
    CHECK_GRAPH_OK(g);
    char *log = logged_run(g, m);
    CHECK_CONTAINS(log, "MatMul: (MatMul): " CPU1 "\n");
    CHECK_CONTAINS(log, "Fill: (Fill): " CPU0 "\n");
    /* every node of the graph is placed (and logged) once, fetched or not */
    CHECK_CONTAINS(log, "Relu: (Relu): " CPU0 "\n");
    int lines = 0;
    for (const char *p = log; *p; p++) lines += *p == '\n';
    CHECK_MSG(lines == tfc_graph_num_nodes(g), "%d lines:\n%s", lines, log);
    free(log);
    tfc_graph_free(g);
}

TFC_TEST_MAIN(T(test_devices_of_a_session), T(test_explicit_and_nested_scopes),
              T(test_variables_colocate_with_their_updates), T(test_colocate_with_and_class_attr),
              T(test_missing_devices_and_soft_placement), T(test_colocation_errors),
              T(test_device_type_without_kernels), T(test_placement_kept_as_the_graph_grows),
              T(test_log_device_placement))
