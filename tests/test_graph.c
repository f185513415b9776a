/* Graph building: names, scopes, devices, control dependencies, collections,
 * the generic builder, shape inference at construction and sticky errors. */
#include "harness.h"

static void test_default_names_are_unique(void) {
    tfc_graph *g = tfc_graph_new();
    tfc_output a = tfc_const_float(g, 1), b = tfc_const_float(g, 2), c = tfc_const_float(g, 3);
    CHECK(strcmp(tfc_node_name(a.node), "Const") == 0);
    CHECK(strcmp(tfc_node_name(b.node), "Const_1") == 0);
    CHECK(strcmp(tfc_node_name(c.node), "Const_2") == 0);
    CHECK(tfc_graph_node_by_name(g, "Const_1") == b.node);
    CHECK(tfc_graph_num_nodes(g) == 3);
    CHECK(tfc_graph_node(g, 2) == c.node);
    tfc_graph_free(g);
}

static void test_user_names_and_duplicates(void) {
    tfc_graph *g = tfc_graph_new();
    int64_t dims[] = {-1, 3};
    tfc_output x = tfc_placeholder(g, "x", TFC_FLOAT, 2, dims);
    CHECK(x.node && strcmp(tfc_node_name(x.node), "x") == 0);
    tfc_output x2 = tfc_placeholder(g, "x", TFC_FLOAT, 2, dims);
    CHECK(x2.node == NULL);
    CHECK(tfc_graph_error_code(g) == TFC_ALREADY_EXISTS);
    CHECK_CONTAINS(tfc_graph_error(g), "'x'");
    /* sticky: later builders do nothing */
    CHECK(tfc_const_float(g, 1).node == NULL);
    tfc_graph_clear_error(g);
    CHECK(tfc_const_float(g, 1).node != NULL);
    tfc_graph_free(g);
}

static void test_name_scopes(void) {
    tfc_graph *g = tfc_graph_new();
    tfc_name_scope_push(g, "layer1");
    tfc_output a = tfc_const_float(g, 1);
    tfc_name_scope_push(g, "inner");
    tfc_output b = tfc_const_float(g, 1);
    tfc_name_scope_pop(g);
    tfc_name_scope_pop(g);
    tfc_name_scope_push(g, "layer1");
    tfc_output c = tfc_const_float(g, 1);
    tfc_name_scope_pop(g);
    tfc_with_name(g, "named");
    tfc_output d = tfc_const_float(g, 1);
    CHECK_GRAPH_OK(g);
    CHECK(strcmp(tfc_node_name(a.node), "layer1/Const") == 0);
    CHECK(strcmp(tfc_node_name(b.node), "layer1/inner/Const") == 0);
    CHECK(strcmp(tfc_node_name(c.node), "layer1_1/Const") == 0);
    CHECK(strcmp(tfc_node_name(d.node), "named") == 0);
    tfc_graph_free(g);
}

static void test_devices_and_control_deps(void) {
    tfc_graph *g = tfc_graph_new();
    tfc_device_push(g, "/cpu:0");
    tfc_output a = tfc_const_float(g, 1);
    tfc_device_pop(g);
    tfc_output b = tfc_const_float(g, 2);
    CHECK(strcmp(tfc_node_device(a.node), "/cpu:0") == 0);
    CHECK(strcmp(tfc_node_device(b.node), "") == 0);
    tfc_control_dependencies_push(g, &a.node, 1);
    tfc_node *n = tfc_no_op(g);
    tfc_control_dependencies_pop(g);
    CHECK(tfc_node_num_control_inputs(n) == 1 && tfc_node_control_input(n, 0) == a.node);
    tfc_node *deps[] = {a.node, b.node};
    tfc_node *grp = tfc_group(g, deps, 2);
    CHECK(grp && tfc_node_num_control_inputs(grp) == 2);
    CHECK(strcmp(tfc_node_type(grp), "NoOp") == 0);
    tfc_graph_free(g);
}

static void test_generic_builder(void) {
    tfc_graph *g = tfc_graph_new();
    tfc_op_desc *d = tfc_op_new(g, "Placeholder", "p");
    tfc_op_set_attr_type(d, "dtype", TFC_DOUBLE);
    int64_t dims[] = {2, -1};
    tfc_op_set_attr_shape(d, "shape", 2, dims);
    tfc_node *p = tfc_op_finish(d);
    CHECK_GRAPH_OK(g);
    CHECK(tfc_output_dtype(tfc_out(p, 0)) == TFC_DOUBLE);
    tfc_shape s = tfc_output_shape(tfc_out(p, 0));
    CHECK(s.rank == 2 && s.dims[0] == 2 && s.dims[1] == -1);
    CHECK(tfc_op_is_registered("Placeholder"));
    CHECK(!tfc_op_is_registered("NoSuchOp"));
    tfc_node *bad = tfc_op_finish(tfc_op_new(g, "NoSuchOp", "bad"));
    CHECK(bad == NULL);
    CHECK_CONTAINS(tfc_graph_error(g), "NoSuchOp");
    tfc_graph_clear_error(g);
    /* wrong input count names the node */
    tfc_op_desc *id = tfc_op_new(g, "Identity", "ident");
    tfc_node *n = tfc_op_finish(id);
    CHECK(n == NULL);
    CHECK_CONTAINS(tfc_graph_error(g), "'ident'");
    CHECK_CONTAINS(tfc_graph_error(g), "expected 1 inputs");
    tfc_graph_free(g);
}

static void test_shape_inference_at_construction(void) {
    tfc_graph *g = tfc_graph_new();
    int64_t d23[] = {2, 3}, d45[] = {4, 5};
    tfc_output a = tfc_placeholder(g, "a", TFC_FLOAT, 2, d23);
    tfc_output b = tfc_placeholder(g, "b", TFC_FLOAT, 2, d45);
    tfc_output m = tfc_matmul(g, a, b);
    CHECK(m.node == NULL);
    CHECK_CONTAINS(tfc_graph_error(g), "MatMul");
    tfc_graph_free(g);

    g = tfc_graph_new();
    int64_t dq3[] = {-1, 3}, d34[] = {3, 4};
    tfc_output x = tfc_placeholder(g, "x", TFC_FLOAT, 2, dq3);
    tfc_output w = tfc_placeholder(g, "w", TFC_FLOAT, 2, d34);
    tfc_output y = tfc_matmul(g, x, w);
    CHECK_GRAPH_OK(g);
    tfc_shape s = tfc_output_shape(y);
    CHECK(s.rank == 2 && s.dims[0] == -1 && s.dims[1] == 4);
    tfc_graph_free(g);
}

/* tfc_output_set_shape refines a static shape; later ops see it; an
 * incompatible one is the graph's error, naming the node. */
static void test_set_shape(void) {
    tfc_graph *g = tfc_graph_new();
    tfc_output bytes = tfc_placeholder(g, "bytes", TFC_STRING, 0, NULL);
    tfc_output image = tfc_decode_raw(g, bytes, TFC_UINT8, 1);
    tfc_shape s = tfc_output_shape(image);
    CHECK(s.rank == 1 && s.dims[0] == -1);
    CHECK(tfc_output_set_shape(g, image, -1, NULL) == 0); /* adds nothing */
    CHECK(tfc_output_set_shape(g, image, 1, (int64_t[]){784}) == 0);
    s = tfc_output_shape(image);
    CHECK(s.rank == 1 && s.dims[0] == 784);
    tfc_output scaled = tfc_cast(g, image, TFC_FLOAT);
    s = tfc_output_shape(scaled);
    CHECK(s.rank == 1 && s.dims[0] == 784);
    CHECK_GRAPH_OK(g);
    /* an unknown rank takes the whole shape; a partial one fills its unknown dims */
    tfc_output any = tfc_placeholder(g, "any", TFC_FLOAT, -1, NULL);
    CHECK(tfc_output_set_shape(g, any, 2, (int64_t[]){-1, 3}) == 0);
    CHECK(tfc_output_set_shape(g, any, 2, (int64_t[]){5, -1}) == 0);
    s = tfc_output_shape(any);
    CHECK(s.rank == 2 && s.dims[0] == 5 && s.dims[1] == 3);
    CHECK_GRAPH_OK(g);
    CHECK(tfc_output_set_shape(g, image, 1, (int64_t[]){783}) == -1);
    CHECK_CONTAINS(tfc_graph_error(g), "are not compatible");
    CHECK_CONTAINS(tfc_graph_error(g), tfc_node_name(image.node));
    s = tfc_output_shape(image);
    CHECK(s.rank == 1 && s.dims[0] == 784);
    tfc_graph_free(g);
    /* no graph, or an output of another graph */
    CHECK(tfc_output_set_shape(NULL, (tfc_output){0}, 2, (int64_t[]){5, 3}) == -1);
    tfc_graph *g1 = tfc_graph_new(), *g2 = tfc_graph_new();
    tfc_output c = tfc_const_float(g1, 1);
    CHECK(tfc_output_set_shape(g2, c, 0, NULL) == -1);
    CHECK_CONTAINS(tfc_graph_error(g2), "no such output in this graph");
    CHECK(tfc_graph_error(g1) == NULL);
    tfc_graph_free(g1);
    tfc_graph_free(g2);
}

static void test_inputs_from_other_graph(void) {
    tfc_graph *g1 = tfc_graph_new(), *g2 = tfc_graph_new();
    tfc_output a = tfc_const_float(g1, 1);
    tfc_output i = tfc_identity(g2, a);
    CHECK(i.node == NULL);
    CHECK_CONTAINS(tfc_graph_error(g2), "another graph");
    tfc_graph_free(g1);
    tfc_graph_free(g2);
}

static void test_collections(void) {
    tfc_graph *g = tfc_graph_new();
    tfc_output v = tfc_variable(g, "v", tfc_const_float(g, 1));
    tfc_output step = tfc_variable_ex(g, "step", tfc_const_int64(g, 0), 0);
    CHECK_GRAPH_OK(g);
    CHECK(tfc_graph_collection_size(g, TFC_GLOBAL_VARIABLES) == 2);
    CHECK(tfc_graph_collection_size(g, TFC_TRAINABLE_VARIABLES) == 1);
    CHECK(tfc_graph_collection_get(g, TFC_TRAINABLE_VARIABLES, 0) == v.node);
    CHECK(tfc_variable_initializer(step) != NULL);
    CHECK(strcmp(tfc_node_name(tfc_variable_initializer(v)), "v/Assign") == 0);
    tfc_graph_add_to_collection(g, "mine", v.node);
    tfc_graph_add_to_collection(g, "mine", v.node);
    CHECK(tfc_graph_collection_size(g, "mine") == 1);
    CHECK(tfc_graph_collection_size(g, "none") == 0);
    tfc_graph_free(g);
}

static void test_free_null(void) {
    tfc_graph_free(NULL);
    tfc_session_free(NULL);
    tfc_tensor_free(NULL);
    tfc_status_free(NULL);
    CHECK(1);
}

static void test_tensors(void) {
    int64_t dims[] = {2, 3};
    float v[] = {1, 2, 3, 4, 5, 6};
    tfc_tensor *t = tfc_tensor_from_data(TFC_FLOAT, 2, dims, v);
    CHECK(tfc_tensor_rank(t) == 2 && tfc_tensor_dim(t, 1) == 3 && tfc_tensor_dim(t, 2) == -1);
    CHECK(tfc_tensor_num_elements(t) == 6 && tfc_tensor_nbytes(t) == 24);
    CHECK(((uintptr_t)tfc_tensor_data(t) & 63) == 0);
    tfc_tensor *r = tfc_tensor_ref(t);
    tfc_tensor_free(t);
    CHECK(((float *)tfc_tensor_data(r))[5] == 6);
    tfc_tensor *c = tfc_tensor_copy(r);
    ((float *)tfc_tensor_data(c))[0] = 9;
    CHECK(((float *)tfc_tensor_data(r))[0] == 1);
    tfc_tensor_free(r);
    tfc_tensor_free(c);
    int64_t bad[] = {2, -3};
    CHECK(tfc_tensor_new(TFC_FLOAT, 2, bad) == NULL);
    CHECK(tfc_tensor_new(TFC_INVALID_DTYPE, 0, NULL) == NULL);
    int64_t big[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
    CHECK(tfc_tensor_new(TFC_FLOAT, 9, big) == NULL);
    CHECK(tfc_dtype_size(TFC_INT64) == 8 && strcmp(tfc_dtype_name(TFC_DOUBLE), "float64") == 0);
}

TFC_TEST_MAIN(T(test_default_names_are_unique), T(test_user_names_and_duplicates),
              T(test_name_scopes), T(test_devices_and_control_deps), T(test_generic_builder),
              T(test_shape_inference_at_construction), T(test_set_shape),
              T(test_inputs_from_other_graph), T(test_collections), T(test_free_null),
              T(test_tensors))
