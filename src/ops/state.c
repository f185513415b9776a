/* Variables and their updates: VariableV2, Assign, AssignAdd, AssignSub.
 * A variable's value lives in its session state; its output is that value
 * (flagged, so fetches copy it), or no value while uninitialized, which
 * consumers report as "Attempting to use uninitialized value". */
#include "graph/op_registry.h"

#include <stdlib.h>
#include <stdio.h>
#include <string.h>

static int variable_infer(tfc_infer_ctx *c) {
    tfc_dtype dt = tfc_attrs_type(c->attrs, "dtype", TFC_INVALID_DTYPE);
    if (!tfc_dtype_size(dt)) return tfc_infer_error(c, "missing or invalid attr 'dtype'");
    tfc_infer_set_output(c, 0, dt, tfc_attrs_shape(c->attrs, "shape"));
    return 0;
}

static void variable_kernel(tfc_kernel_ctx *c) {
    pthread_mutex_lock(&c->state->lock);
    tfc_kernel_set_output(c, 0, tfc_tensor_ref(c->state->value));
    pthread_mutex_unlock(&c->state->lock);
}

/* Assign-family shape function: var and value agree in dtype and shape. */
static int assign_infer(tfc_infer_ctx *c) {
    tfc_dtype dt = tfc_infer_same_dtype(c, 0, 2, TFC_INVALID_DTYPE);
    if (dt == TFC_INVALID_DTYPE) return -1;
    tfc_shape vs = tfc_infer_input_shape(c, 0), xs = tfc_infer_input_shape(c, 1);
    int validate = (int)tfc_attrs_int(c->attrs, "validate_shape", 1);
    if (validate && !tfc_shape_compatible(&vs, &xs)) {
        char a[96], b[96];
        return tfc_infer_error(c, "shapes must be equal: variable '%s' has shape %s, value has %s",
                               c->inputs[0].node->name, tfc_shape_str(&vs, a, sizeof a),
                               tfc_shape_str(&xs, b, sizeof b));
    }
    tfc_infer_set_output(c, 0, dt, validate ? vs : xs);
    return 0;
}

static void assign_kernel(tfc_kernel_ctx *c) {
    tfc_node_state *st = c->input_state[0];
    tfc_tensor *v = c->inputs[1];
    int validate = (int)tfc_attrs_int(&c->node->attrs, "validate_shape", 1);
    pthread_mutex_lock(&st->lock);
    if (st->value && validate && !tfc_tensor_same_shape(st->value, v)) {
        pthread_mutex_unlock(&st->lock);
        tfc_kernel_error(c, TFC_INVALID_ARGUMENT, "Assign requires shapes of both tensors to match");
        return;
    }
    /* a string variable gets a fresh copy: its bytes are not in place */
    if (st->value && tfc_tensor_same_shape(st->value, v) && v->dtype != TFC_STRING) {
        memcpy(st->value->data, v->data, v->nbytes);
    } else {
        tfc_tensor *nv = tfc_tensor_copy(v);
        if (!nv) {
            pthread_mutex_unlock(&st->lock);
            tfc_kernel_error(c, TFC_INTERNAL, "out of memory assigning a variable");
            return;
        }
        nv->flags |= TFC_TENSOR_VARIABLE;
        tfc_tensor_free(st->value);
        st->value = nv;
    }
    tfc_kernel_set_output(c, 0, tfc_tensor_ref(st->value));
    pthread_mutex_unlock(&st->lock);
}

static int assign_update_infer(tfc_infer_ctx *c) {
    tfc_dtype dt = tfc_infer_same_dtype(c, 0, 2, TFC_INVALID_DTYPE);
    if (dt == TFC_INVALID_DTYPE) return -1;
    if (dt == TFC_BOOL) return tfc_infer_error(c, "bool variables cannot be added to");
    tfc_shape vs = tfc_infer_input_shape(c, 0), xs = tfc_infer_input_shape(c, 1);
    if (!tfc_shape_compatible(&vs, &xs)) {
        char a[96], b[96];
        return tfc_infer_error(c, "shapes must be equal: variable '%s' has shape %s, value has %s",
                               c->inputs[0].node->name, tfc_shape_str(&vs, a, sizeof a),
                               tfc_shape_str(&xs, b, sizeof b));
    }
    tfc_infer_set_output(c, 0, dt, vs);
    return 0;
}

static void assign_update(tfc_kernel_ctx *c, double sign) {
    tfc_node_state *st = c->input_state[0];
    tfc_tensor *v = c->inputs[1];
    pthread_mutex_lock(&st->lock);
    tfc_tensor *var = st->value;
    if (!var) {
        pthread_mutex_unlock(&st->lock);
        tfc_kernel_error(c, TFC_FAILED_PRECONDITION, "Attempting to use uninitialized value %s",
                         c->node->inputs[0].node->name);
        return;
    }
    if (!tfc_tensor_same_shape(var, v)) {
        pthread_mutex_unlock(&st->lock);
        tfc_kernel_error(c, TFC_INVALID_ARGUMENT, "update must have the variable's shape");
        return;
    }
    int64_t n = var->nelem;
    switch (var->dtype) {
    case TFC_FLOAT: {
        float *a = var->data;
        const float *b = v->data;
        for (int64_t i = 0; i < n; i++) a[i] += (float)sign * b[i];
        break;
    }
    case TFC_DOUBLE: {
        double *a = var->data;
        const double *b = v->data;
        for (int64_t i = 0; i < n; i++) a[i] += sign * b[i];
        break;
    }
    case TFC_INT32: {
        int32_t *a = var->data;
        const int32_t *b = v->data;
        for (int64_t i = 0; i < n; i++) a[i] += (int32_t)sign * b[i];
        break;
    }
    case TFC_INT64: {
        int64_t *a = var->data;
        const int64_t *b = v->data;
        for (int64_t i = 0; i < n; i++) a[i] += (int64_t)sign * b[i];
        break;
    }
    default: {
        for (int64_t i = 0; i < n; i++)
            tfc_tensor_set_double(var, i, tfc_tensor_get_double(var, i) +
                                              sign * tfc_tensor_get_double(v, i));
    }
    }
    tfc_kernel_set_output(c, 0, tfc_tensor_ref(var));
    pthread_mutex_unlock(&st->lock);
}

static void assign_add_kernel(tfc_kernel_ctx *c) { assign_update(c, 1.0); }
static void assign_sub_kernel(tfc_kernel_ctx *c) { assign_update(c, -1.0); }

const tfc_op_def tfc_ops_state[] = {
    {"VariableV2", 0, 0, 1,
     TFC_OP_STATEFUL | TFC_OP_VARIABLE | TFC_OP_NO_GRADIENT | TFC_OP_STRINGS, 0,
     variable_infer, variable_kernel, NULL},
    {"Assign", 2, 2, 1, TFC_OP_STATEFUL | TFC_OP_NO_GRADIENT | TFC_OP_STRINGS, 1u, assign_infer,
     assign_kernel, NULL},
    {"AssignAdd", 2, 2, 1, TFC_OP_STATEFUL | TFC_OP_NO_GRADIENT, 1u, assign_update_infer,
     assign_add_kernel, NULL},
    {"AssignSub", 2, 2, 1, TFC_OP_STATEFUL | TFC_OP_NO_GRADIENT, 1u, assign_update_infer,
     assign_sub_kernel, NULL},
    {NULL, 0, 0, 0, 0, 0, NULL, NULL, NULL},
};

/* ---- helpers ---- */

static tfc_output assign_op(tfc_graph *g, const char *type, tfc_output var, tfc_output value) {
    tfc_op_desc *d = tfc_op_new(g, type, NULL);
    tfc_op_add_input(d, var);
    tfc_op_add_input(d, value);
    return tfc_out(tfc_op_finish(d), 0);
}

tfc_output tfc_assign(tfc_graph *g, tfc_output var, tfc_output value) {
    return assign_op(g, "Assign", var, value);
}
tfc_output tfc_assign_add(tfc_graph *g, tfc_output var, tfc_output value) {
    return assign_op(g, "AssignAdd", var, value);
}
tfc_output tfc_assign_sub(tfc_graph *g, tfc_output var, tfc_output value) {
    return assign_op(g, "AssignSub", var, value);
}

tfc_output tfc_variable_ex(tfc_graph *g, const char *name, tfc_output initial_value,
                           int trainable) {
    tfc_output none = {NULL, 0};
    if (!g || g->error) return none;
    if (!initial_value.node) {
        tfc_graph_fail(g, TFC_INVALID_ARGUMENT, "Variable '%s': initial value is null",
                       name ? name : "Variable");
        return none;
    }
    const char *prefix = tfc_graph_scope_prefix(g);
    char *dflt = name ? NULL : tfc_graph_unique_name(g, "Variable");
    const char *rel = name ? name : dflt ? dflt + strlen(prefix) : "Variable";
    tfc_shape shape = tfc_output_shape(initial_value);
    tfc_op_desc *d = tfc_op_new(g, "VariableV2", rel);
    tfc_op_set_attr_type(d, "dtype", tfc_output_dtype(initial_value));
    if (shape.rank >= 0) tfc_op_set_attr_shape(d, "shape", shape.rank, shape.dims);
    tfc_node *var = tfc_op_finish(d);
    free(dflt);
    if (!var) return none;
    /* the initializer is named after the variable: "w/Assign" */
    const char *var_rel = var->name + strlen(prefix);
    size_t len = strlen(var_rel) + 8;
    char *init_name = malloc(len);
    if (!init_name) return none;
    snprintf(init_name, len, "%s/Assign", var_rel);
    tfc_op_desc *a = tfc_op_new(g, "Assign", init_name);
    free(init_name);
    tfc_op_add_input(a, tfc_out(var, 0));
    tfc_op_add_input(a, initial_value);
    tfc_node *init = tfc_op_finish(a);
    if (!init) return none;
    tfc_strmap_put(&g->initializers, var->name, init);
    tfc_graph_add_to_collection(g, TFC_GLOBAL_VARIABLES, var);
    if (trainable) tfc_graph_add_to_collection(g, TFC_TRAINABLE_VARIABLES, var);
    return tfc_out(var, 0);
}

tfc_output tfc_variable(tfc_graph *g, const char *name, tfc_output initial_value) {
    return tfc_variable_ex(g, name, initial_value, 1);
}

tfc_node *tfc_variable_initializer(tfc_output var) {
    if (!var.node) return NULL;
    return tfc_strmap_get(&var.node->graph->initializers, var.node->name);
}

tfc_node *tfc_global_variables_initializer(tfc_graph *g) {
    if (!g || g->error) return NULL;
    int n = tfc_graph_collection_size(g, TFC_GLOBAL_VARIABLES);
    tfc_op_desc *d = tfc_op_new(g, "NoOp", "init");
    if (tfc_graph_node_by_name(g, "init")) {
        tfc_op_finish(d); /* name taken: fall back to a default name */
        tfc_graph_clear_error(g);
        d = tfc_op_new(g, "NoOp", NULL);
    }
    for (int i = 0; i < n; i++) {
        tfc_node *init = tfc_strmap_get(&g->initializers,
                                        tfc_graph_collection_get(g, TFC_GLOBAL_VARIABLES, i)->name);
        if (init) tfc_op_add_control_input(d, init);
    }
    return tfc_op_finish(d);
}
