/* TensorFlow's colocation attr `_class` through GraphDefs: written as the
 * list(string) TensorFlow reads (["loc:@v"]), read back into tfc's form with
 * the import prefix, honoured by the placer, and dropped for nodes that an
 * import prunes away. */
#include "harness.h"

#include <stdlib.h>

#include "graph.pb-c.h"
#include "graph/graph.h"

static const char *const cpu_type[] = {"CPU"};

/* a binary op named `name` (the builders name nodes by their type) */
static tfc_output named(tfc_graph *g, const char *type, const char *name, tfc_output a,
                        tfc_output b) {
    tfc_op_desc *d = tfc_op_new(g, type, name);
    tfc_op_add_input(d, a);
    tfc_op_add_input(d, b);
    return (tfc_output){tfc_op_finish(d), 0};
}

static tfc_output named_const(tfc_graph *g, const char *name, float v) {
    tfc_tensor *t = tfc_tensor_new(TFC_FLOAT, 0, NULL);
    *(float *)tfc_tensor_data(t) = v;
    tfc_op_desc *d = tfc_op_new(g, "Const", name);
    tfc_op_set_attr_type(d, "dtype", TFC_FLOAT);
    tfc_op_set_attr_tensor(d, "value", t);
    tfc_tensor_free(t);
    return (tfc_output){tfc_op_finish(d), 0};
}

static tfc_session *two_cpus(tfc_graph *g, tfc_status *st) {
    int counts[] = {2};
    tfc_session_options o = {.num_device_types = 1, .device_types = cpu_type,
                             .device_counts = counts, .intra_op_threads = 2,
                             .inter_op_threads = 2};
    return tfc_session_new(g, &o, st);
}

/* w on /cpu:1; "near_w" colocated with w; "free" not. */
static tfc_graph *colocated_graph(void) {
    tfc_graph *g = tfc_graph_new();
    tfc_device_push(g, "/cpu:1");
    tfc_output w = named_const(g, "w", 3);
    tfc_device_pop(g);
    tfc_output x = tfc_const_float(g, 2);
    tfc_colocate_with_push(g, w.node);
    tfc_output near = named(g, "Mul", "near_w", x, x);
    tfc_colocate_with_pop(g);
    named(g, "Add", "sum", near, w);
    return g;
}

static void test_written_as_list_of_strings(void) {
    tfc_graph *g = colocated_graph();
    CHECK_GRAPH_OK(g);
    tfc_status *st = tfc_status_new();
    uint8_t *bytes = NULL;
    size_t len = 0;
    CHECK(tfc_graph_to_graphdef(g, &bytes, &len, st) == 0);
    Tensorflow__GraphDef *gd = tensorflow__graph_def__unpack(NULL, len, bytes);
    CHECK(gd != NULL);
    int seen = 0;
    for (size_t i = 0; gd && i < gd->n_node; i++) {
        const Tensorflow__NodeDef *nd = gd->node[i];
        for (size_t k = 0; k < nd->n_attr; k++) {
            if (strcmp(nd->attr[k]->key, "_class")) continue;
            const Tensorflow__AttrValue *v = nd->attr[k]->value;
            CHECK(!strcmp(nd->name, "near_w"));
            CHECK(v->value_case == TENSORFLOW__ATTR_VALUE__VALUE_LIST);
            CHECK(v->list->n_s == 1);
            CHECK(v->list->n_s == 1 && v->list->s[0].len == 6 &&
                  !memcmp(v->list->s[0].data, "loc:@w", 6));
            seen++;
        }
    }
    CHECK(seen == 1);
    tensorflow__graph_def__free_unpacked(gd, NULL);
    free(bytes);
    tfc_status_free(st);
    tfc_graph_free(g);
}

static void test_read_back_with_prefix_and_placed(void) {
    tfc_graph *g = colocated_graph();
    tfc_status *st = tfc_status_new();
    uint8_t *bytes = NULL;
    size_t len = 0;
    CHECK(tfc_graph_to_graphdef(g, &bytes, &len, st) == 0);
    tfc_graph *h = tfc_graph_new();
    CHECK(tfc_graph_import_graphdef(h, bytes, len, "p", NULL, NULL, 0, st) == 0);
    CHECK_STATUS_OK(st);
    tfc_node *near = tfc_graph_node_by_name(h, "p/near_w");
    CHECK(near != NULL);
    const char *cls = near ? tfc_attrs_string(&near->attrs, "_class") : NULL;
    CHECK(cls && !strcmp(cls, "loc:@p/w"));
    /* the placer puts it with w, on /cpu:1, though nothing asked for a device */
    tfc_session *s = two_cpus(h, st);
    CHECK_STATUS_OK(st);
    tfc_output sum = {tfc_graph_node_by_name(h, "p/sum"), 0};
    tfc_tensor *t = tfc_session_run1(s, NULL, NULL, 0, sum, st);
    CHECK_STATUS_OK(st);
    CHECK(t && tfc_test_get(t, 0) == 7);
    const char *dev = near ? tfc_session_assigned_device(s, near) : NULL;
    CHECK_MSG(dev && strstr(dev, "CPU:1"), "placed on %s", dev ? dev : "(none)");
    tfc_tensor_free(t);
    tfc_session_free(s);
    tfc_graph_free(h);
    free(bytes);
    tfc_status_free(st);
    tfc_graph_free(g);
}

/* A GraphDef whose node names a colocation partner that the import prunes
 * away (or that does not exist) imports and runs without the attr. */
static void test_pruned_partner_dropped(void) {
    tfc_graph *g = tfc_graph_new();
    tfc_output w = named_const(g, "w", 3);
    tfc_colocate_with_push(g, w.node);
    named(g, "Mul", "y", tfc_const_float(g, 2), tfc_const_float(g, 5));
    tfc_colocate_with_pop(g);
    tfc_status *st = tfc_status_new();
    uint8_t *bytes = NULL;
    size_t len = 0;
    CHECK(tfc_graph_to_graphdef(g, &bytes, &len, st) == 0);
    tfc_graph *h = tfc_graph_new();
    const char *keep[] = {"y:0"};
    tfc_import_options o = {.keep_outputs = keep, .nkeep_outputs = 1};
    CHECK(tfc_graph_import_graphdef_v2(h, bytes, len, &o, st) == 0);
    CHECK_STATUS_OK(st);
    CHECK(tfc_graph_node_by_name(h, "w") == NULL);
    tfc_node *yn = tfc_graph_node_by_name(h, "y");
    CHECK(yn && !tfc_attrs_string(&yn->attrs, "_class"));
    tfc_session *s = tfc_session_new(h, NULL, st);
    tfc_tensor *t = tfc_session_run1(s, NULL, NULL, 0, (tfc_output){yn, 0}, st);
    CHECK_STATUS_OK(st);
    CHECK(t && tfc_test_get(t, 0) == 10);
    tfc_tensor_free(t);
    tfc_session_free(s);
    tfc_graph_free(h);
    free(bytes);
    tfc_status_free(st);
    tfc_graph_free(g);
}

TFC_TEST_MAIN(T(test_written_as_list_of_strings), T(test_read_back_with_prefix_and_placed),
              T(test_pruned_partner_dropped))
