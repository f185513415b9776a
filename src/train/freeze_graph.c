/* Frozen graphs (TensorFlow's graph_util.convert_variables_to_constants):
 * the part of a session's graph that the named outputs need, written as a
 * GraphDef in which each variable is a Const holding the session's current
 * value, so the file runs with no checkpoint. A resource variable's
 * VarHandleOp becomes that Const and its ReadVariableOps Identities, as
 * TensorFlow's converter does. */
#include "core/status.h"
#include "core/tensor.h"
#include "formats/graphdef.h"
#include "graph/graph.h"
#include "graph/op_registry.h"
#include "ops/resource_variable.h"
#include "runtime/runtime.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static Tensorflow__AttrValue *value_attr(tfc_arena *a, const char *key,
                                         Tensorflow__NodeDef__AttrEntry **e) {
    Tensorflow__AttrValue *v = tfc_arena_alloc(a, sizeof *v);
    *e = tfc_arena_alloc(a, sizeof **e);
    if (!v || !*e) return NULL;
    tensorflow__attr_value__init(v);
    tensorflow__node_def__attr_entry__init(*e);
    (*e)->key = (char *)key;
    (*e)->value = v;
    return v;
}

/* NodeDef m becomes Const(value t), keeping its name and device. */
static int make_const(tfc_arena *a, Tensorflow__NodeDef *m, const tfc_tensor *t) {
    Tensorflow__NodeDef__AttrEntry **attrs = tfc_arena_alloc(a, sizeof *attrs * 2);
    Tensorflow__TensorProto *tp = tfc_arena_alloc(a, sizeof *tp);
    Tensorflow__TensorShapeProto *sh = tfc_arena_alloc(a, sizeof *sh);
    Tensorflow__TensorShapeProto__Dim **dims =
        tfc_arena_alloc(a, sizeof *dims * (size_t)(t->rank + 1));
    if (!attrs || !tp || !sh || !dims) return -1;
    Tensorflow__AttrValue *dt = value_attr(a, "dtype", &attrs[0]);
    Tensorflow__AttrValue *val = value_attr(a, "value", &attrs[1]);
    if (!dt || !val) return -1;
    tensorflow__tensor_proto__init(tp);
    tensorflow__tensor_shape_proto__init(sh);
    for (int d = 0; d < t->rank; d++) {
        if (!(dims[d] = tfc_arena_alloc(a, sizeof *dims[d]))) return -1;
        tensorflow__tensor_shape_proto__dim__init(dims[d]);
        dims[d]->size = t->dims[d];
    }
    sh->dim = dims;
    sh->n_dim = (size_t)t->rank;
    tp->dtype = (Tensorflow__DataType)t->dtype;
    tp->tensor_shape = sh;
    if (t->dtype == TFC_STRING) {
        tp->string_val = tfc_arena_alloc(a, sizeof *tp->string_val * (size_t)(t->nelem + 1));
        if (!tp->string_val) return -1;
        for (int64_t i = 0; i < t->nelem; i++) {
            tfc_string s = tfc_string_at(t, i);
            tp->string_val[i].data = (uint8_t *)s.data;
            tp->string_val[i].len = s.len;
        }
        tp->n_string_val = (size_t)t->nelem;
    } else {
        tp->tensor_content.data = t->data;
        tp->tensor_content.len = t->nbytes;
    }
    dt->value_case = TENSORFLOW__ATTR_VALUE__VALUE_TYPE;
    dt->type = (Tensorflow__DataType)t->dtype;
    val->value_case = TENSORFLOW__ATTR_VALUE__VALUE_TENSOR;
    val->tensor = tp;
    m->op = (char *)"Const";
    m->n_input = 0;
    m->attr = attrs;
    m->n_attr = 2;
    return 0;
}

/* A ReadVariableOp of a frozen variable: Identity of the Const. */
static int make_identity(tfc_arena *a, Tensorflow__NodeDef *m, tfc_dtype dtype) {
    Tensorflow__NodeDef__AttrEntry **attrs = tfc_arena_alloc(a, sizeof *attrs);
    Tensorflow__AttrValue *t = attrs ? value_attr(a, "T", &attrs[0]) : NULL;
    if (!t) return -1;
    t->value_case = TENSORFLOW__ATTR_VALUE__VALUE_TYPE;
    t->type = (Tensorflow__DataType)dtype;
    m->op = (char *)"Identity";
    m->attr = attrs;
    m->n_attr = 1;
    return 0;
}

/* Marks what the outputs need (data and control inputs) in keep[]. */
static int mark(const tfc_graph *g, int nn, char *keep, const tfc_node **outputs, int n) {
    const tfc_node **stack = malloc(sizeof *stack * (size_t)(nn + 1));
    if (!stack) return -1;
    int top = 0;
    for (int i = 0; i < n; i++)
        if (outputs[i]->id < nn && !keep[outputs[i]->id])
            keep[outputs[i]->id] = 1, stack[top++] = outputs[i];
    while (top) {
        const tfc_node *x = stack[--top];
        for (int i = 0; i < x->ninputs + x->ncontrol; i++) {
            const tfc_node *p = i < x->ninputs ? x->inputs[i].node : x->control_inputs[i - x->ninputs];
            if (p->graph == g && p->id < nn && !keep[p->id]) keep[p->id] = 1, stack[top++] = p;
        }
    }
    free(stack);
    return 0;
}

int tfc_graph_to_frozen_graphdef(tfc_session *s, const char *const *output_names, int n,
                                 uint8_t **out, size_t *len, tfc_status *st) {
    if (out) *out = NULL;
    if (len) *len = 0;
    if (!s || !out || !len || n <= 0 || !output_names) {
        tfc_status_set(st, TFC_INVALID_ARGUMENT,
                       "tfc_graph_to_frozen_graphdef: needs a session, output names and out/len");
        return -1;
    }
    const tfc_graph *g = s->graph;
    int nn = g->nnodes; /* the nodes there now (the graph may grow meanwhile) */
    const tfc_node **outs = calloc((size_t)n, sizeof *outs);
    char *keep = calloc((size_t)nn + 1, 1);
    tfc_tensor **values = calloc((size_t)nn + 1, sizeof *values);
    tfc_arena a = {0};
    int rc = -1;
    if (!outs || !keep || !values) {
        tfc_status_set(st, TFC_RESOURCE_EXHAUSTED, "out of memory freezing the graph");
        goto done;
    }
    for (int i = 0; i < n; i++) {
        char name[1024];
        /* "y" or "y:0": the node y */
        snprintf(name, sizeof name, "%s", output_names[i] ? output_names[i] : "");
        char *colon = strchr(name, ':');
        if (colon) *colon = 0;
        if (!(outs[i] = tfc_graph_node_by_name((tfc_graph *)g, name))) {
            tfc_status_set(st, TFC_NOT_FOUND, "freezing: output '%s' names no node of the graph",
                 output_names[i] ? output_names[i] : "(null)");
            goto done;
        }
    }
    if (mark(g, nn, keep, outs, n)) {
        tfc_status_set(st, TFC_RESOURCE_EXHAUSTED, "out of memory freezing the graph");
        goto done;
    }
    /* each variable the outputs read: its value now; nothing may assign it */
    for (int id = 0; id < nn; id++) {
        const tfc_node *x = g->nodes[id];
        if (!keep[id]) continue;
        for (int i = 0; i < x->ninputs; i++)
            if (tfc_op_input_is_ref(x->op, i) && tfc_is_variable_node(x->inputs[i].node)) {
                tfc_status_set(st, TFC_FAILED_PRECONDITION,
                     "freezing: the outputs need node '%s', which updates variable '%s'; a "
                     "frozen graph holds constants only",
                     x->name, x->inputs[i].node->name);
                goto done;
            }
        if (!tfc_is_variable_node(x)) continue;
        pthread_mutex_lock(&s->lock);
        tfc_node_state *cell = tfc_variable_cell(s, (tfc_node *)x);
        pthread_mutex_unlock(&s->lock);
        if (cell) {
            pthread_mutex_lock(&cell->lock);
            values[id] = cell->value ? tfc_tensor_copy(cell->value) : NULL;
            pthread_mutex_unlock(&cell->lock);
        }
        if (!values[id]) {
            tfc_status_set(st, TFC_FAILED_PRECONDITION,
                 "freezing: variable '%s' has no value in this session (run its initializer "
                 "or restore a checkpoint first)",
                 x->name);
            goto done;
        }
    }
    Tensorflow__GraphDef *gd = tfc_graphdef_build(&a, g);
    if (!gd) {
        tfc_status_set(st, TFC_RESOURCE_EXHAUSTED, "out of memory freezing the graph");
        goto done;
    }
    /* tfc_graphdef_build writes the nodes in id order */
    size_t kept = 0;
    for (size_t k = 0; k < gd->n_node && (int)k < nn; k++) {
        const tfc_node *x = g->nodes[k];
        Tensorflow__NodeDef *m = gd->node[k];
        if (!keep[k]) continue;
        int bad = 0;
        if (values[k]) bad = make_const(&a, m, values[k]);
        else if (!strcmp(x->op->type, "ReadVariableOp") && x->ninputs == 1 &&
                 values[x->inputs[0].node->id])
            bad = make_identity(&a, m, x->out_dtypes[0]);
        if (bad) {
            tfc_status_set(st, TFC_RESOURCE_EXHAUSTED, "out of memory freezing the graph");
            goto done;
        }
        gd->node[kept++] = m;
    }
    gd->n_node = kept;
    tfc_buf b = {0};
    tfc_buf_pack(&b, &gd->base);
    if (b.oom) {
        tfc_buf_free(&b);
        tfc_status_set(st, TFC_RESOURCE_EXHAUSTED, "out of memory serializing the frozen graph");
        goto done;
    }
    *out = b.p ? b.p : malloc(1);
    *len = b.n;
    tfc_status_set(st, TFC_OK, "%s", "");
    rc = 0;
done:
    for (int id = 0; values && id < nn; id++) tfc_tensor_free(values[id]);
    free(values);
    free(keep);
    free(outs);
    tfc_arena_free(&a);
    return rc;
}
