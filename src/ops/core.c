/* Core ops: Const, Placeholder, Identity, StopGradient, NoOp. */
#include "graph/op_registry.h"

#include <stdlib.h>
#include <string.h>

/* ---- Const ---- */

static int const_infer(tfc_infer_ctx *c) {
    tfc_tensor *t = tfc_attrs_tensor(c->attrs, "value");
    if (!t) return tfc_infer_error(c, "missing attr 'value'");
    tfc_attrs_set_int(c->attrs, "dtype", TFC_ATTR_TYPE, t->dtype);
    tfc_infer_set_output(c, 0, t->dtype, tfc_shape_make(t->rank, t->dims));
    /* the kernel reads the value through op_data: no attr lookup per run */
    tfc_tensor **value = malloc(sizeof *value);
    if (!value) return tfc_infer_error(c, "out of memory");
    *value = t; /* owned by the attr, which lives as long as the node */
    c->op_data = value;
    return 0;
}

static void const_kernel(tfc_kernel_ctx *c) {
    tfc_kernel_set_output(c, 0, tfc_tensor_ref(*(tfc_tensor **)c->node->op_data));
}

/* ---- Placeholder: must be fed; the plan rejects a run that does not ---- */

static int placeholder_infer(tfc_infer_ctx *c) {
    tfc_dtype dt = tfc_attrs_type(c->attrs, "dtype", TFC_INVALID_DTYPE);
    if (!tfc_dtype_size(dt)) return tfc_infer_error(c, "missing or invalid attr 'dtype'");
    tfc_infer_set_output(c, 0, dt, tfc_attrs_shape(c->attrs, "shape"));
    return 0;
}

/* ---- Identity and StopGradient forward their input ---- */

static int identity_infer(tfc_infer_ctx *c) {
    tfc_infer_set_output(c, 0, tfc_infer_input_dtype(c, 0), tfc_infer_input_shape(c, 0));
    return 0;
}

static void identity_kernel(tfc_kernel_ctx *c) {
    tfc_kernel_set_output(c, 0, tfc_tensor_ref(c->inputs[0]));
}

static int identity_grad(tfc_graph *g, tfc_node *op, const tfc_output *dy, tfc_output *dx) {
    (void)g;
    (void)op;
    dx[0] = dy[0];
    return 0;
}

static int noop_infer(tfc_infer_ctx *c) {
    (void)c;
    return 0;
}

static void noop_kernel(tfc_kernel_ctx *c) { (void)c; }

const tfc_op_def tfc_ops_core[] = {
    {"Const", 0, 0, 1, TFC_OP_STRINGS, 0, const_infer, const_kernel, NULL},
    {"Placeholder", 0, 0, 1, TFC_OP_STRINGS | TFC_OP_RESOURCES, 0, placeholder_infer, NULL, NULL},
    {"Identity", 1, 1, 1, TFC_OP_STRINGS | TFC_OP_RESOURCES, 0, identity_infer, identity_kernel,
     identity_grad},
    {"StopGradient", 1, 1, 1, TFC_OP_NO_GRADIENT | TFC_OP_STRINGS, 0, identity_infer,
     identity_kernel, NULL},
    {"NoOp", 0, 0, 0, TFC_OP_NO_GRADIENT, 0, noop_infer, noop_kernel, NULL},
    {NULL, 0, 0, 0, 0, 0, NULL, NULL, NULL},
};

/* ---- helpers ---- */

tfc_output tfc_const(tfc_graph *g, const tfc_tensor *t) {
    if (!g) return (tfc_output){NULL, 0};
    tfc_tensor *copy = tfc_tensor_copy(t);
    if (!copy) {
        tfc_graph_fail(g, TFC_INVALID_ARGUMENT, "tfc_const: invalid or NULL tensor");
        return (tfc_output){NULL, 0};
    }
    tfc_op_desc *d = tfc_op_new(g, "Const", NULL);
    tfc_op_set_attr_tensor(d, "value", copy);
    tfc_tensor_free(copy);
    return tfc_out(tfc_op_finish(d), 0);
}

tfc_output tfc_const_data(tfc_graph *g, tfc_dtype dtype, int rank, const int64_t *dims,
                          const void *data) {
    if (!g) return (tfc_output){NULL, 0};
    tfc_tensor *t = tfc_tensor_from_data(dtype, rank, dims, data);
    if (!t) {
        tfc_graph_fail(g, TFC_INVALID_ARGUMENT, "tfc_const_data: invalid dtype or shape");
        return (tfc_output){NULL, 0};
    }
    tfc_op_desc *d = tfc_op_new(g, "Const", NULL);
    tfc_op_set_attr_tensor(d, "value", t);
    tfc_tensor_free(t);
    return tfc_out(tfc_op_finish(d), 0);
}

tfc_output tfc_const_float(tfc_graph *g, float v) { return tfc_const_data(g, TFC_FLOAT, 0, NULL, &v); }
tfc_output tfc_const_double(tfc_graph *g, double v) { return tfc_const_data(g, TFC_DOUBLE, 0, NULL, &v); }
tfc_output tfc_const_int32(tfc_graph *g, int32_t v) { return tfc_const_data(g, TFC_INT32, 0, NULL, &v); }
tfc_output tfc_const_int64(tfc_graph *g, int64_t v) { return tfc_const_data(g, TFC_INT64, 0, NULL, &v); }
tfc_output tfc_const_bool(tfc_graph *g, int v) {
    uint8_t b = v != 0;
    return tfc_const_data(g, TFC_BOOL, 0, NULL, &b);
}

tfc_output tfc_const_ints(tfc_graph *g, const int32_t *v, int n) {
    int64_t dims[1] = {n};
    return tfc_const_data(g, TFC_INT32, 1, dims, v);
}

tfc_output tfc_placeholder(tfc_graph *g, const char *name, tfc_dtype dtype, int rank,
                           const int64_t *dims) {
    tfc_op_desc *d = tfc_op_new(g, "Placeholder", name);
    tfc_op_set_attr_type(d, "dtype", dtype);
    if (rank >= 0) tfc_op_set_attr_shape(d, "shape", rank, dims);
    return tfc_out(tfc_op_finish(d), 0);
}

static tfc_output unary(tfc_graph *g, const char *type, tfc_output x) {
    tfc_op_desc *d = tfc_op_new(g, type, NULL);
    tfc_op_add_input(d, x);
    return tfc_out(tfc_op_finish(d), 0);
}

tfc_output tfc_identity(tfc_graph *g, tfc_output x) { return unary(g, "Identity", x); }
tfc_output tfc_stop_gradient(tfc_graph *g, tfc_output x) { return unary(g, "StopGradient", x); }

tfc_node *tfc_no_op(tfc_graph *g) { return tfc_op_finish(tfc_op_new(g, "NoOp", NULL)); }

tfc_node *tfc_group(tfc_graph *g, tfc_node *const *nodes, int n) {
    tfc_op_desc *d = tfc_op_new(g, "NoOp", NULL);
    for (int i = 0; i < n; i++) {
        if (!nodes[i] && d) {
            tfc_graph_fail(g, TFC_INVALID_ARGUMENT, "tfc_group: node %d is NULL", i);
            tfc_op_finish(d);
            return NULL;
        }
        tfc_op_add_control_input(d, nodes[i]);
    }
    return tfc_op_finish(d);
}
