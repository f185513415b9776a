/* Looking tensors up by TensorFlow's "op_name:index" names, and the errors
 * a newcomer sees when a name is wrong. */
#include "harness.h"

static void test_found_by_tensor_name(void) {
    tfc_graph *g = tfc_graph_new();
    int64_t dims[] = {-1, 3};
    tfc_output x = tfc_placeholder(g, "x", TFC_FLOAT, 2, dims);
    tfc_output parts[3];
    tfc_name_scope_push(g, "layer");
    CHECK(tfc_split(g, x, 3, 1, parts) == 0);
    tfc_name_scope_pop(g);
    CHECK_GRAPH_OK(g);
    tfc_status *st = tfc_status_new();
    tfc_output o;
    CHECK(tfc_graph_output_by_name(g, "x:0", &o, st) == 0 && o.node == x.node && o.index == 0);
    CHECK(tfc_graph_output_by_name(g, "x", &o, st) == 0 && o.node == x.node && o.index == 0);
    const char *split = tfc_node_name(parts[2].node);
    char name[256];
    snprintf(name, sizeof name, "%s:2", split);
    CHECK(tfc_graph_output_by_name(g, name, &o, st) == 0 && o.node == parts[2].node &&
          o.index == 2);
    CHECK_STATUS_OK(st);
    tfc_status_free(st);
    tfc_graph_free(g);
}

static void test_missing_names_are_named(void) {
    tfc_graph *g = tfc_graph_new();
    int64_t dims[] = {2};
    tfc_placeholder(g, "x", TFC_FLOAT, 1, dims);
    tfc_status *st = tfc_status_new();
    tfc_output o = {(tfc_node *)1, 7};
    CHECK(tfc_graph_output_by_name(g, "y:0", &o, st) == -1);
    CHECK(o.node == NULL);
    CHECK(tfc_status_code(st) == TFC_NOT_FOUND);
    CHECK_CONTAINS(tfc_status_message(st), "The name 'y:0' refers to a Tensor which does not exist");
    CHECK_CONTAINS(tfc_status_message(st), "'y', does not exist in the graph");
    CHECK(tfc_graph_output_by_name(g, "x:1", &o, st) == -1);
    CHECK_CONTAINS(tfc_status_message(st), "'x', exists but only has 1 outputs");
    CHECK(tfc_graph_output_by_name(g, "x:", &o, st) == -1);
    CHECK(tfc_status_code(st) == TFC_INVALID_ARGUMENT);
    CHECK_CONTAINS(tfc_status_message(st), "<op_name>:<output_index>");
    CHECK(tfc_graph_output_by_name(g, "x:-1", &o, st) == -1);
    CHECK(tfc_graph_output_by_name(g, "x:1a", &o, st) == -1);
    CHECK(tfc_graph_output_by_name(g, "x:99999999999999999999", &o, st) == -1);
    CHECK(tfc_graph_output_by_name(NULL, "x", &o, st) == -1);
    tfc_status_free(st);
    tfc_graph_free(g);
}

/* A null fetch (a lookup that found nothing) says where to look. */
static void test_null_fetch_says_why(void) {
    tfc_graph *g = tfc_graph_new();
    tfc_output c = tfc_const_float(g, 1);
    tfc_status *st = tfc_status_new();
    tfc_session *s = tfc_session_new(g, NULL, st);
    tfc_output missing = {tfc_graph_node_by_name(g, "x:0"), 0};
    CHECK(missing.node == NULL);
    tfc_output fetches[] = {c, missing};
    tfc_tensor *out[2] = {NULL, NULL};
    tfc_session_run(s, NULL, NULL, 0, fetches, 2, out, NULL, 0, st);
    CHECK(tfc_status_code(st) == TFC_INVALID_ARGUMENT);
    CHECK_CONTAINS(tfc_status_message(st), "fetch 1 is a null output");
    CHECK_CONTAINS(tfc_status_message(st), "tfc_graph_output_by_name");
    tfc_tensor_free(out[0]);
    tfc_tensor_free(out[1]);
    tfc_session_free(s);
    tfc_status_free(st);
    tfc_graph_free(g);
}

TFC_TEST_MAIN(T(test_found_by_tensor_name), T(test_missing_names_are_named),
              T(test_null_fetch_says_why))
