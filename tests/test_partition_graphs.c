/* RunOptions.output_partition_graphs: a run over /cpu:0 and /cpu:1 returns
 * two GraphDefs, one per device, as TensorFlow's RunMetadata does. Each
 * parses, passes the OpDef check against TensorFlow's registry (all ops
 * but _Send/_Recv, which TensorFlow's registry dump leaves out as internal
 * ops: their attrs are checked here against tensorflow/core/ops/
 * sendrecv_ops.cc), has every node on its device's full name and every
 * input naming a node of the same GraphDef; each _Send has the matching
 * _Recv in the other partition. A graph on one device gives one. */
#include "formats/tf_graph_check.h"
#include "harness.h"

#include <stdlib.h>

#include "graph.pb-c.h"

static const char *cpu_type[] = {"CPU"};
static const char *const internal_ops[] = {"_Send", "_Recv", NULL};
#define CPU0 "/job:localhost/replica:0/task:0/device:CPU:0"
#define CPU1 "/job:localhost/replica:0/task:0/device:CPU:1"

static void on_problem(void *user, const char *msg) {
    (void)user;
    tfc_test_failures++;
    fprintf(stderr, "[%s] OpDef check: %s\n", tfc_test_current, msg);
}

static const Tensorflow__AttrValue *attr(const Tensorflow__NodeDef *nd, const char *key) {
    for (size_t k = 0; k < nd->n_attr; k++)
        if (!strcmp(nd->attr[k]->key, key)) return nd->attr[k]->value;
    return NULL;
}

static const Tensorflow__NodeDef *find(const Tensorflow__GraphDef *gd, const char *name) {
    for (size_t i = 0; i < gd->n_node; i++)
        if (!strcmp(gd->node[i]->name, name)) return gd->node[i];
    return NULL;
}

static int has_input(const Tensorflow__NodeDef *nd, const char *in) {
    for (size_t k = 0; k < nd->n_input; k++)
        if (!strcmp(nd->input[k], in)) return 1;
    return 0;
}

static int str_is(const Tensorflow__AttrValue *v, const char *s) {
    return v && v->value_case == TENSORFLOW__ATTR_VALUE__VALUE_S && v->s.len == strlen(s) &&
           !memcmp(v->s.data, s, v->s.len);
}

/* TensorFlow's _Send: input tensor: T; attrs T: type, tensor_name: string,
 * send_device: string, send_device_incarnation: int, recv_device: string,
 * client_terminated: bool = false. _Recv: output tensor: tensor_type, the
 * same attrs with tensor_type for T. Attrs starting with '_' are free. */
static void check_sendrecv(const Tensorflow__NodeDef *nd) {
    int send = !strcmp(nd->op, "_Send");
    static const struct {
        const char *name;
        Tensorflow__AttrValue__ValueCase kind;
    } want[] = {{"T", TENSORFLOW__ATTR_VALUE__VALUE_TYPE},
                {"tensor_name", TENSORFLOW__ATTR_VALUE__VALUE_S},
                {"send_device", TENSORFLOW__ATTR_VALUE__VALUE_S},
                {"send_device_incarnation", TENSORFLOW__ATTR_VALUE__VALUE_I},
                {"recv_device", TENSORFLOW__ATTR_VALUE__VALUE_S},
                {"client_terminated", TENSORFLOW__ATTR_VALUE__VALUE_B}};
    int declared = 0;
    for (size_t w = 0; w < sizeof want / sizeof *want; w++) {
        const char *name = w == 0 && !send ? "tensor_type" : want[w].name;
        const Tensorflow__AttrValue *v = attr(nd, name);
        CHECK_MSG(v && v->value_case == want[w].kind, "%s: attr %s missing or of another kind",
                  nd->name, name);
        declared++;
    }
    for (size_t k = 0; k < nd->n_attr; k++)
        if (nd->attr[k]->key[0] != '_') declared--;
    CHECK_MSG(declared == 0, "%s: attrs TensorFlow's %s does not declare", nd->name, nd->op);
    size_t data_inputs = 0;
    for (size_t k = 0; k < nd->n_input; k++) data_inputs += nd->input[k][0] != '^';
    CHECK_MSG(data_inputs == (send ? 1u : 0u), "%s: %zu data inputs", nd->name, data_inputs);
}

/* Parses graph i, checks it as the header says, returns it (caller frees). */
static Tensorflow__GraphDef *check_partition(const tfc_run_metadata *md, int i,
                                             const char *device) {
    size_t len = 0;
    const void *bytes = tfc_run_metadata_partition_graph(md, i, &len);
    CHECK(bytes != NULL && len > 0);
    tfc_tf_check c = {on_problem, NULL, NULL, internal_ops};
    CHECK(tfc_tf_check_graph_def(bytes, len, &c) == 0);
    Tensorflow__GraphDef *gd = tensorflow__graph_def__unpack(NULL, len, bytes);
    CHECK(gd != NULL);
    for (size_t k = 0; gd && k < gd->n_node; k++) {
        const Tensorflow__NodeDef *nd = gd->node[k];
        CHECK_MSG(nd->device && !strcmp(nd->device, device), "%s on '%s', not %s", nd->name,
                  nd->device ? nd->device : "", device);
        for (size_t j = 0; j < nd->n_input; j++) {
            char name[512];
            const char *in = nd->input[j] + (nd->input[j][0] == '^');
            snprintf(name, sizeof name, "%s", in);
            char *colon = strchr(name, ':');
            if (colon) *colon = 0;
            CHECK_MSG(find(gd, name) != NULL, "%s: input %s names no node of its partition",
                      nd->name, nd->input[j]);
        }
        if (!strcmp(nd->op, "_Send") || !strcmp(nd->op, "_Recv")) check_sendrecv(nd);
    }
    return gd;
}

static tfc_session *session(tfc_graph *g, int ncpu, tfc_status *st) {
    int counts[] = {ncpu};
    /* one CPU: soft placement moves the /cpu:1 nodes to /cpu:0 */
    tfc_session_options o = {.num_device_types = 1,
                             .device_types = cpu_type,
                             .device_counts = counts,
                             .inter_op_threads = 2,
                             .allow_soft_placement = ncpu == 1};
    return tfc_session_new(g, &o, st);
}

/* x -> a = x*2 (cpu:0) -> b = a+1 (cpu:1) -> c = b*b, which also waits
 * for `side` (cpu:0): a data edge and a control edge cross. */
typedef struct model {
    tfc_graph *g;
    tfc_output x, a, c;
    tfc_node *side;
} model;

static void build(model *m) {
    m->g = tfc_graph_new();
    m->x = tfc_placeholder(m->g, "x", TFC_FLOAT, 1, (int64_t[]){2});
    tfc_device_push(m->g, "/cpu:0");
    m->a = tfc_mul(m->g, m->x, tfc_const_float(m->g, 2));
    m->side = tfc_identity(m->g, m->x).node;
    tfc_device_pop(m->g);
    tfc_device_push(m->g, "/cpu:1");
    tfc_output b = tfc_add(m->g, m->a, tfc_const_float(m->g, 1));
    tfc_control_dependencies_push(m->g, &m->side, 1);
    m->c = tfc_mul(m->g, b, b);
    tfc_control_dependencies_pop(m->g);
    tfc_device_pop(m->g);
    CHECK_GRAPH_OK(m->g);
}

static void run(tfc_session *s, const model *m, tfc_run_metadata *md, int want_graphs) {
    tfc_status *st = tfc_status_new();
    tfc_tensor *xv = tfc_tensor_new(TFC_FLOAT, 1, (int64_t[]){2});
    ((float *)tfc_tensor_data(xv))[0] = 1;
    ((float *)tfc_tensor_data(xv))[1] = 3;
    tfc_output fetches[] = {m->c, m->a, m->c}; /* c twice: one _Send */
    tfc_tensor *out[3] = {NULL, NULL, NULL};
    tfc_run_options ro = {0};
    ro.output_partition_graphs = want_graphs;
    tfc_session_run_v2(s, &ro, &m->x, &xv, 1, fetches, 3, out, NULL, 0, md, st);
    CHECK_STATUS_OK(st);
    if (out[0]) {
        CHECK(((float *)tfc_tensor_data(out[0]))[0] == 9 &&
              ((float *)tfc_tensor_data(out[0]))[1] == 49);
        CHECK(((float *)tfc_tensor_data(out[1]))[1] == 6);
    }
    tfc_tensor_free(out[0]);
    tfc_tensor_free(out[1]);
    tfc_tensor_free(out[2]);
    tfc_tensor_free(xv);
    tfc_status_free(st);
}

/* The _Recv in gd receiving what `send` sends. */
static const Tensorflow__NodeDef *matching_recv(const Tensorflow__GraphDef *gd,
                                                const Tensorflow__NodeDef *send) {
    for (size_t k = 0; k < gd->n_node; k++) {
        const Tensorflow__NodeDef *r = gd->node[k];
        if (strcmp(r->op, "_Recv")) continue;
        /* bytes fields are not NUL-terminated */
        const Tensorflow__AttrValue *a = attr(send, "tensor_name"), *b = attr(r, "tensor_name");
        if (a && b && a->s.len == b->s.len && !memcmp(a->s.data, b->s.data, a->s.len)) return r;
    }
    return NULL;
}

static void test_two_devices_two_partitions(void) {
    model m;
    build(&m);
    tfc_status *st = tfc_status_new();
    tfc_session *s = session(m.g, 2, st);
    CHECK_STATUS_OK(st);
    tfc_run_metadata *md = tfc_run_metadata_new();
    run(s, &m, md, 1);
    CHECK(tfc_run_metadata_num_partition_graphs(md) == 2);
    if (tfc_run_metadata_num_partition_graphs(md) == 2) {
        Tensorflow__GraphDef *g0 = check_partition(md, 0, CPU0);
        Tensorflow__GraphDef *g1 = check_partition(md, 1, CPU1);
        CHECK(g0 && g1);
        int pairs = 0, control_pairs = 0;
        for (size_t k = 0; g0 && g1 && k < g0->n_node; k++) {
            const Tensorflow__NodeDef *snd = g0->node[k];
            if (strcmp(snd->op, "_Send") || attr(snd, "client_terminated")->b) continue;
            const Tensorflow__NodeDef *rcv = matching_recv(g1, snd);
            CHECK_MSG(rcv != NULL, "%s: no _Recv in /cpu:1's partition", snd->name);
            if (!rcv) continue;
            pairs++;
            CHECK(str_is(attr(snd, "send_device"), CPU0) && str_is(attr(snd, "recv_device"), CPU1));
            CHECK(str_is(attr(rcv, "send_device"), CPU0) && str_is(attr(rcv, "recv_device"), CPU1));
            CHECK(attr(snd, "send_device_incarnation")->i ==
                  attr(rcv, "send_device_incarnation")->i);
            CHECK(attr(snd, "T")->type == attr(rcv, "tensor_type")->type);
            CHECK(!attr(rcv, "client_terminated")->b);
            /* a control edge: the _Send sends a Const that waits for side */
            const Tensorflow__NodeDef *src = find(g0, snd->input[0]);
            if (src && !strcmp(src->op, "Const") && has_input(src, "^Identity")) {
                control_pairs++;
                char ctl[300];
                snprintf(ctl, sizeof ctl, "^%s", rcv->name);
                CHECK(has_input(find(g1, "Mul_1"), ctl));
            }
        }
        CHECK(pairs == 2);
        CHECK(control_pairs == 1);
        /* the feed comes from the client, the fetches go to it */
        const Tensorflow__NodeDef *feed = g0 ? find(g0, "_recv_x_0") : NULL;
        CHECK(feed && !strcmp(feed->op, "_Recv") && attr(feed, "client_terminated")->b);
        CHECK(feed && has_input(find(g0, "Mul"), "_recv_x_0"));
        const Tensorflow__NodeDef *fc = g1 ? find(g1, "_send_Mul_1_0") : NULL;
        CHECK(fc && attr(fc, "client_terminated")->b && has_input(fc, "Mul_1"));
        int sends_of_c = 0;
        for (size_t k = 0; g1 && k < g1->n_node; k++)
            sends_of_c += !strcmp(g1->node[k]->name, "_send_Mul_1_0");
        CHECK(sends_of_c == 1);
        CHECK(g0 && find(g0, "_send_Mul_0") && !find(g0, "Mul_1") && g1 && !find(g1, "Mul"));
        tensorflow__graph_def__free_unpacked(g0, NULL);
        tensorflow__graph_def__free_unpacked(g1, NULL);
    }
    /* another run appends; clear empties; no option, none */
    run(s, &m, md, 1);
    CHECK(tfc_run_metadata_num_partition_graphs(md) == 4);
    tfc_run_metadata_clear(md);
    CHECK(tfc_run_metadata_num_partition_graphs(md) == 0);
    run(s, &m, md, 0);
    CHECK(tfc_run_metadata_num_partition_graphs(md) == 0);
    size_t len = 7;
    CHECK(tfc_run_metadata_partition_graph(md, 0, &len) == NULL && len == 0);
    tfc_run_metadata_free(md);
    tfc_session_free(s);
    tfc_graph_free(m.g);
    tfc_status_free(st);
}

static void test_one_device_one_partition(void) {
    model m;
    build(&m);
    tfc_status *st = tfc_status_new();
    tfc_session *s = session(m.g, 1, st);
    CHECK_STATUS_OK(st);
    tfc_run_metadata *md = tfc_run_metadata_new();
    run(s, &m, md, 1);
    CHECK(tfc_run_metadata_num_partition_graphs(md) == 1);
    Tensorflow__GraphDef *gd = check_partition(md, 0, CPU0);
    for (size_t k = 0; gd && k < gd->n_node; k++)
        if (!strcmp(gd->node[k]->op, "_Send") || !strcmp(gd->node[k]->op, "_Recv"))
            CHECK_MSG(attr(gd->node[k], "client_terminated")->b, "%s crosses devices",
                      gd->node[k]->name);
    /* the control edge stays a control input */
    CHECK(gd && has_input(find(gd, "Mul_1"), "^Identity"));
    if (gd) tensorflow__graph_def__free_unpacked(gd, NULL);
    tfc_run_metadata_free(md);
    tfc_session_free(s);
    tfc_graph_free(m.g);
    tfc_status_free(st);
}

TFC_TEST_MAIN(T(test_two_devices_two_partitions), T(test_one_device_one_partition))
