/* Device names (src/device/device_name.c): TensorFlow's parser on full,
 * partial and legacy names and on malformed ones, the canonical form, both
 * merges, and the graph builder's use of them: nested device scopes merge
 * as tf.device does, and a malformed device fails the node, naming it. */
#include "device/device_name.h"
#include "harness.h"

#include <stdio.h>

/* Parses `spec`, which must be valid, and checks its canonical form. */
static void expect_form(const char *spec, const char *canonical) {
    tfc_device_name d;
    char err[200], buf[300];
    CHECK_MSG(tfc_device_name_parse(spec, &d, err, sizeof err) == 0, "'%s': %s", spec, err);
    size_t n = tfc_device_name_format(&d, buf, sizeof buf);
    CHECK_MSG(!strcmp(buf, canonical), "'%s' -> '%s', want '%s'", spec, buf, canonical);
    CHECK(n == strlen(canonical));
    /* the canonical form parses back to the same name */
    tfc_device_name again;
    CHECK(tfc_device_name_parse(buf, &again, NULL, 0) == 0);
    char buf2[300];
    tfc_device_name_format(&again, buf2, sizeof buf2);
    CHECK_MSG(!strcmp(buf, buf2), "'%s' vs '%s'", buf, buf2);
}

/* `spec` is malformed, and the reason mentions `why`. */
static void expect_malformed(const char *spec, const char *why) {
    tfc_device_name d;
    char err[200] = "";
    CHECK_MSG(tfc_device_name_parse(spec, &d, err, sizeof err) == -1, "'%s' parsed", spec);
    CHECK_CONTAINS(err, why);
    CHECK(tfc_device_name_parse(spec, NULL, NULL, 0) == -1);
}

static void test_full_names(void) {
    tfc_device_name d;
    CHECK(tfc_device_name_parse("/job:worker/replica:2/task:13/device:GPU:3", &d, NULL, 0) == 0);
    CHECK(d.has_job && !strcmp(d.job, "worker"));
    CHECK(d.has_replica && d.replica == 2);
    CHECK(d.has_task && d.task == 13);
    CHECK(d.has_type && !strcmp(d.type, "GPU"));
    CHECK(d.has_id && d.id == 3);
    expect_form("/job:worker/replica:2/task:13/device:GPU:3",
                "/job:worker/replica:2/task:13/device:GPU:3");
    /* any order; a repeated part overrides (TensorFlow's parser does so) */
    expect_form("/device:CPU:0/task:1/job:ps", "/job:ps/task:1/device:CPU:0");
    expect_form("/job:a/job:b_2", "/job:b_2");
    expect_form("/job:localhost/replica:0/task:0/device:XLA_CPU:0",
                "/job:localhost/replica:0/task:0/device:XLA_CPU:0");
    expect_form("/replica:007", "/replica:7");
}

static void test_partial_and_legacy(void) {
    tfc_device_name d;
    /* no constraint */
    CHECK(tfc_device_name_parse("", &d, NULL, 0) == 0);
    CHECK(!d.has_job && !d.has_replica && !d.has_task && !d.has_type && !d.has_id);
    CHECK(tfc_device_name_parse("/", &d, NULL, 0) == 0);
    CHECK(!d.has_job && !d.has_type);
    expect_form("", "");
    expect_form("/job:ps", "/job:ps");
    expect_form("/task:1", "/task:1");
    expect_form("/job:*", "");
    expect_form("/job:*/task:*/replica:*", "");
    /* legacy forms */
    CHECK(tfc_device_name_parse("/cpu:0", &d, NULL, 0) == 0);
    CHECK(d.has_type && !strcmp(d.type, "CPU") && d.has_id && d.id == 0);
    expect_form("/cpu:0", "/device:CPU:0");
    expect_form("/CPU:2", "/device:CPU:2");
    expect_form("/gpu:1", "/device:GPU:1");
    expect_form("/GPU:*", "/device:GPU:*");
    expect_form("/job:ps/task:0/cpu:0", "/job:ps/task:0/device:CPU:0");
    /* any id */
    CHECK(tfc_device_name_parse("/device:GPU:*", &d, NULL, 0) == 0);
    CHECK(d.has_type && !strcmp(d.type, "GPU") && !d.has_id);
    expect_form("/device:GPU:*", "/device:GPU:*");
    expect_form("/device:CPU", "/device:CPU:*");
    /* any type, one id: an id without a type is not written (TF's form) */
    CHECK(tfc_device_name_parse("/device:*:1", &d, NULL, 0) == 0);
    CHECK(!d.has_type && d.has_id && d.id == 1);
    expect_form("/device:*:1", "");
    /* lower-case cpu and gpu become upper case, as DeviceSpec writes them;
     * other types keep their case */
    expect_form("/device:cpu:0", "/device:CPU:0");
    expect_form("/device:gpu:2", "/device:GPU:2");
    expect_form("/device:Cpu:0", "/device:Cpu:0");
    expect_form("/device:TPU_SYSTEM:0", "/device:TPU_SYSTEM:0");
}

static void test_malformed(void) {
    expect_malformed("nonsense device", "at 'nonsense device'");
    expect_malformed("cpu:0", "at 'cpu:0'"); /* TensorFlow's full names start with '/' */
    expect_malformed("/job:ps/", "at '/'");
    expect_malformed("//", "at '//'");
    expect_malformed("/job:ps ", "job name");
    expect_malformed("/job:", "job name");
    expect_malformed("/job:1abc", "'1abc'");
    expect_malformed("/job:a-b", "'a-b'");
    expect_malformed("/job:a:b", "'a:b'");
    expect_malformed("/job:*x", "at 'x'");
    expect_malformed("/replica:x", "/replica: needs a number");
    expect_malformed("/replica:", "/replica: needs a number");
    expect_malformed("/task:-1", "/task: needs a number");
    expect_malformed("/task:99999999999", "too large");
    expect_malformed("/task:1x", "at 'x'");
    expect_malformed("/device:", "device type");
    expect_malformed("/device:1GPU:0", "'1GPU'");
    expect_malformed("/device:GPU:x", "needs a number");
    expect_malformed("/device:GPU:0x", "at 'x'");
    expect_malformed("/device:GPU:0:1", "at ':1'");
    expect_malformed("/cpu:", "/cpu: needs a number");
    expect_malformed("/cpu", "at '/cpu'");
    expect_malformed("/Cpu:0", "at '/Cpu:0'");
    expect_malformed("/gpu:one", "/gpu: needs a number");
    expect_malformed("/job:ps/bogus:1", "at '/bogus:1'");
    char spec[300] = "/job:";
    memset(spec + 5, 'j', 200);
    spec[205] = 0;
    expect_malformed(spec, "longer than 127");
    CHECK(tfc_device_name_parse(NULL, NULL, NULL, 0) == -1);
}

static void test_format_truncates(void) {
    tfc_device_name d;
    CHECK(tfc_device_name_parse("/job:worker/task:1/device:GPU:0", &d, NULL, 0) == 0);
    char small[8];
    size_t n = tfc_device_name_format(&d, small, sizeof small);
    CHECK(n == strlen("/job:worker/task:1/device:GPU:0"));
    CHECK(!strcmp(small, "/job:wo"));
    CHECK(tfc_device_name_format(&d, NULL, 0) == n);
}

static tfc_device_name parsed(const char *s) {
    tfc_device_name d;
    CHECK_MSG(tfc_device_name_parse(s, &d, NULL, 0) == 0, "'%s'", s);
    return d;
}

static void expect_merge(const char *target, const char *other, int soft, const char *want) {
    tfc_device_name t = parsed(target), o = parsed(other);
    char err[300] = "", buf[300];
    CHECK_MSG(tfc_device_name_merge(&t, &o, soft, err, sizeof err) == 0, "%s", err);
    tfc_device_name_format(&t, buf, sizeof buf);
    CHECK_MSG(!strcmp(buf, want), "merge('%s', '%s') = '%s', want '%s'", target, other, buf,
              want);
}

static void expect_merge_error(const char *target, const char *other, int soft,
                               const char *why) {
    tfc_device_name t = parsed(target), o = parsed(other);
    char err[300] = "";
    CHECK(tfc_device_name_merge(&t, &o, soft, err, sizeof err) == -1);
    CHECK_CONTAINS(err, why);
}

/* MergeDevNames: set parts are combined; different values conflict. */
static void test_merge(void) {
    expect_merge("/job:a", "/task:1", 0, "/job:a/task:1");
    expect_merge("", "/job:a/replica:0/task:1/device:GPU:2", 0,
                 "/job:a/replica:0/task:1/device:GPU:2");
    expect_merge("/job:a/device:GPU:2", "/job:a/device:GPU:2", 0, "/job:a/device:GPU:2");
    expect_merge("/device:GPU:*", "/device:GPU:1", 0, "/device:GPU:1");
    expect_merge("/device:GPU:1", "/device:GPU:*", 0, "/device:GPU:1");
    expect_merge_error("/job:a", "/job:b", 0, "incompatible jobs: '/job:a' and '/job:b'");
    expect_merge_error("/job:a", "/job:b", 1, "incompatible jobs");
    expect_merge_error("/replica:0", "/replica:1", 1, "incompatible replicas");
    expect_merge_error("/task:0", "/task:1", 1, "incompatible tasks");
    expect_merge_error("/cpu:0", "/gpu:0", 0,
                       "incompatible types: '/device:CPU:0' and '/device:GPU:0'");
    expect_merge_error("/gpu:0", "/gpu:1", 0, "incompatible ids");
    /* soft placement: a type conflict leaves type and id open, an id
     * conflict the id */
    expect_merge("/job:a/cpu:0", "/gpu:1", 1, "/job:a");
    expect_merge("/job:a/gpu:0", "/gpu:1", 1, "/job:a/device:GPU:*");
}

/* MergeUnsetDevNames: the target's parts win, the other fills the rest. */
static void test_merge_unset(void) {
    struct {
        const char *inner, *outer, *want;
    } cases[] = {
        {"/device:GPU:0", "/job:ps/task:1/device:CPU:0", "/job:ps/task:1/device:GPU:0"},
        {"/task:1", "/job:ps/task:0", "/job:ps/task:1"},
        {"", "/job:ps/cpu:0", "/job:ps/device:CPU:0"},
        {"/job:w", "", "/job:w"},
        /* part by part, as DeviceSpec.merge_from: an inner type without an
         * id takes the outer id */
        {"/device:CPU", "/device:GPU:1", "/device:CPU:1"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        tfc_device_name t = parsed(cases[i].inner), o = parsed(cases[i].outer);
        tfc_device_name_merge_unset(&t, &o);
        char buf[300];
        tfc_device_name_format(&t, buf, sizeof buf);
        CHECK_MSG(!strcmp(buf, cases[i].want), "'%s' in '%s' = '%s', want '%s'", cases[i].inner,
                  cases[i].outer, buf, cases[i].want);
    }
}

static const char *device_of(tfc_output o) { return o.node ? tfc_node_device(o.node) : "(failed)"; }

/* tf.device nesting through tfc_device_push. */
static void test_scopes(void) {
    tfc_graph *g = tfc_graph_new();
    tfc_device_push(g, "/cpu:0");
    tfc_output a = tfc_const_float(g, 1);
    tfc_device_pop(g);
    CHECK(!strcmp(device_of(a), "/cpu:0")); /* one scope: as written */

    tfc_device_push(g, "/job:ps/task:0");
    tfc_output b = tfc_const_float(g, 2);
    tfc_device_push(g, "/task:1/device:GPU:0");
    tfc_output c = tfc_const_float(g, 3);
    tfc_device_push(g, "");
    tfc_output d = tfc_const_float(g, 4);
    tfc_device_pop(g);
    tfc_device_push(g, NULL);
    tfc_output e = tfc_const_float(g, 5);
    tfc_device_pop(g);
    tfc_device_pop(g);
    tfc_output f = tfc_const_float(g, 6);
    tfc_device_pop(g);
    tfc_output h = tfc_const_float(g, 7);
    CHECK_GRAPH_OK(g);
    CHECK(!strcmp(device_of(b), "/job:ps/task:0"));
    CHECK_MSG(!strcmp(device_of(c), "/job:ps/task:1/device:GPU:0"), "%s", device_of(c));
    CHECK_MSG(!strcmp(device_of(d), "/job:ps/task:1/device:GPU:0"), "%s", device_of(d));
    CHECK_MSG(!strcmp(device_of(e), ""), "%s", device_of(e));
    CHECK(!strcmp(device_of(f), "/job:ps/task:0"));
    CHECK(!strcmp(device_of(h), ""));
    tfc_graph_free(g);
}

/* A malformed device fails the node built with it, naming node and device. */
static void test_malformed_at_build_time(void) {
    tfc_graph *g = tfc_graph_new();
    tfc_device_push(g, "nonsense device");
    tfc_with_name(g, "k");
    tfc_output a = tfc_const_float(g, 1);
    CHECK(a.node == NULL);
    CHECK_CONTAINS(tfc_graph_error(g), "Node 'k' (Const)");
    CHECK_CONTAINS(tfc_graph_error(g), "malformed device 'nonsense device'");
    CHECK(tfc_graph_error_code(g) == TFC_INVALID_ARGUMENT);
    CHECK(tfc_graph_num_nodes(g) == 0);
    tfc_graph_clear_error(g);
    /* nested in a malformed scope: the outer error shows */
    tfc_device_push(g, "/cpu:0");
    CHECK(tfc_const_float(g, 1).node == NULL);
    CHECK_CONTAINS(tfc_graph_error(g), "malformed device 'nonsense device'");
    tfc_graph_clear_error(g);
    tfc_device_pop(g);
    tfc_device_pop(g);

    /* the generic builder */
    tfc_op_desc *d = tfc_op_new(g, "NoOp", "n");
    tfc_op_set_device(d, "/job:ps/replica:x");
    CHECK(tfc_op_finish(d) == NULL);
    CHECK_CONTAINS(tfc_graph_error(g), "Node 'n' (NoOp): malformed device '/job:ps/replica:x'");
    CHECK_CONTAINS(tfc_graph_error(g), "/replica: needs a number");
    tfc_graph_clear_error(g);
    d = tfc_op_new(g, "NoOp", "ok");
    tfc_op_set_device(d, "/job:ps/replica:0/task:0/device:CPU:0");
    CHECK(tfc_op_finish(d) != NULL);
    CHECK_GRAPH_OK(g);
    CHECK(tfc_graph_num_nodes(g) == 1);
    tfc_graph_free(g);
}

TFC_TEST_MAIN(T(test_full_names), T(test_partial_and_legacy), T(test_malformed),
              T(test_format_truncates), T(test_merge), T(test_merge_unset), T(test_scopes),
              T(test_malformed_at_build_time))
