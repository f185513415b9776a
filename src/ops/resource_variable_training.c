/* ResourceApply* and ResourceSparseApply*: the tf.train optimizers'
 * updates on resource variables, with TensorFlow's names, input orders
 * and attrs (core/ops/training_ops.cc: the Apply* signature with var and
 * its slots as resource handles, no output). The rules are the Apply*
 * ops' own (training.c), run on the variables' cells. */
#include "graph/attrs.h"
#include "ops/resource_variable.h"

#include <string.h>

#define MAX_CELLS 4

/* "ResourceApplyAdam" -> "ApplyAdam", "ResourceSparseApplyFtrl" -> "SparseApplyFtrl" */
static const char *ref_type(const char *type) { return type + strlen("Resource"); }

static int rapply_infer(tfc_infer_ctx *c) {
    int nrefs, grad, indices, int_scalar;
    if (tfc_apply_layout(ref_type(c->op->type), &nrefs, &grad, &indices, &int_scalar))
        return tfc_infer_error(c, "unknown apply op");
    tfc_dtype dt = tfc_infer_input_dtype(c, grad);
    if (dt != TFC_FLOAT && dt != TFC_DOUBLE)
        return tfc_infer_error(c, "grad must be float32 or float64, got %s", tfc_dtype_name(dt));
    for (int i = 0; i < c->ninputs; i++) {
        tfc_dtype have = tfc_infer_input_dtype(c, i);
        tfc_dtype want = i < nrefs ? TFC_RESOURCE : i == int_scalar ? TFC_INT64 : dt;
        if (indices && i == indices) {
            if (have != TFC_INT32 && have != TFC_INT64)
                return tfc_infer_error(c, "indices must be int32 or int64, got %s",
                                       tfc_dtype_name(have));
            tfc_attrs_set_int(c->attrs, "Tindices", TFC_ATTR_TYPE, have);
            continue;
        }
        if (have != want)
            return tfc_infer_error(c, "input %d ('%s') must be %s, got %s", i,
                                   c->inputs[i].node->name, tfc_dtype_name(want),
                                   tfc_dtype_name(have));
        const tfc_node *src = c->inputs[i].node;
        if (i < nrefs && !strcmp(src->op->type, "VarHandleOp") &&
            tfc_variable_node_dtype(src) != dt)
            return tfc_infer_error(c, "variable '%s' is %s, grad is %s", src->name,
                                   tfc_dtype_name(tfc_variable_node_dtype(src)),
                                   tfc_dtype_name(dt));
        if (i >= nrefs && i != grad && i != indices) {
            tfc_shape s = tfc_infer_input_shape(c, i);
            if (s.rank > 0) return tfc_infer_error(c, "input %d ('%s') must be a scalar", i, src->name);
        }
    }
    tfc_attrs_set_int(c->attrs, "T", TFC_ATTR_TYPE, dt);
    if (!tfc_attrs_find(c->attrs, "use_locking"))
        tfc_attrs_set_int(c->attrs, "use_locking", TFC_ATTR_BOOL, 0);
    return 0;
}

static void rapply_kernel(tfc_kernel_ctx *c) {
    int nrefs, grad, indices, int_scalar;
    const char *type = ref_type(c->node->op->type);
    if (tfc_apply_layout(type, &nrefs, &grad, &indices, &int_scalar) || nrefs > MAX_CELLS) {
        tfc_kernel_error(c, TFC_INTERNAL, "unknown apply op");
        return;
    }
    tfc_dtype dt = tfc_attrs_type(&c->node->attrs, "T", TFC_FLOAT);
    tfc_node_state *cells[MAX_CELLS];
    const char *names[MAX_CELLS];
    for (int i = 0; i < nrefs; i++) {
        tfc_resource_var *v = tfc_resource_var_of(c->inputs[i]);
        if (!v) {
            tfc_kernel_error(c, TFC_INVALID_ARGUMENT,
                             "input %d is not a variable's resource handle", i);
            return;
        }
        if (v->dtype != dt) {
            tfc_kernel_error(c, TFC_INVALID_ARGUMENT, "variable '%s' is %s, the update is %s",
                             v->name, tfc_dtype_name(v->dtype), tfc_dtype_name(dt));
            return;
        }
        for (int k = 0; k < i; k++)
            if (&v->cell == cells[k]) { /* one lock taken twice would deadlock */
                tfc_kernel_error(c, TFC_INVALID_ARGUMENT,
                                 "inputs %d and %d are the same variable '%s'", k, i, v->name);
                return;
            }
        cells[i] = &v->cell;
        names[i] = v->name;
    }
    tfc_apply_run(c, type, (int)tfc_attrs_int(&c->node->attrs, "use_nesterov", 0), dt, cells,
                  names);
}

#define RAPPLY_FLAGS (TFC_OP_STATEFUL | TFC_OP_NO_GRADIENT | TFC_OP_RESOURCES)
#define RAPPLY(name, n) {name, n, n, 0, RAPPLY_FLAGS, 0, rapply_infer, rapply_kernel, NULL}

const tfc_op_def tfc_ops_resource_variable_training[] = {
    RAPPLY("ResourceApplyGradientDescent", 3),
    RAPPLY("ResourceApplyMomentum", 5),
    RAPPLY("ResourceApplyAdagrad", 4),
    RAPPLY("ResourceApplyAdagradDA", 8),
    RAPPLY("ResourceApplyAdadelta", 7),
    RAPPLY("ResourceApplyAdam", 10),
    RAPPLY("ResourceApplyFtrl", 8),
    RAPPLY("ResourceApplyFtrlV2", 9),
    RAPPLY("ResourceApplyRMSProp", 8),
    RAPPLY("ResourceApplyCenteredRMSProp", 9),
    RAPPLY("ResourceSparseApplyMomentum", 6),
    RAPPLY("ResourceSparseApplyAdagrad", 5),
    RAPPLY("ResourceSparseApplyAdagradDA", 9),
    RAPPLY("ResourceSparseApplyAdadelta", 8),
    RAPPLY("ResourceSparseApplyFtrl", 9),
    RAPPLY("ResourceSparseApplyFtrlV2", 10),
    RAPPLY("ResourceSparseApplyRMSProp", 9),
    RAPPLY("ResourceSparseApplyCenteredRMSProp", 10),
    {NULL, 0, 0, 0, 0, 0, NULL, NULL, NULL},
};
