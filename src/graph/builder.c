/* The generic op builder: tfc_op_new / add inputs and attrs / tfc_op_finish.
 * tfc_op_finish validates the inputs against the op definition, runs the
 * shape function and only then adds the node, so a failed node never
 * enters the graph. */
#include "device/device_name.h"
#include "graph/function.h"
#include "graph/graph.h"
#include "graph/op_registry.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct tfc_op_desc {
    tfc_graph *g;
    const tfc_op_def *op;
    char *type;
    char *name; /* user name, or NULL */
    char *device;
    int ninputs, in_cap;
    tfc_output *inputs;
    int ncontrol, ctl_cap;
    tfc_node **control;
    tfc_attrs attrs;
    int failed;       /* memory ran out or a null input was given */
    char *attr_error; /* the first attr a setter refused, and why */
};

tfc_op_desc *tfc_op_new(tfc_graph *g, const char *type, const char *name) {
    if (!g || g->error) return NULL;
    tfc_op_desc *d = calloc(1, sizeof *d);
    if (!d) {
        tfc_graph_fail(g, TFC_INTERNAL, "out of memory adding a %s node", type ? type : "?");
        return NULL;
    }
    d->g = g;
    d->type = strdup(type ? type : "");
    if (g->next_name) {
        d->name = g->next_name;
        g->next_name = NULL;
    } else if (name) {
        d->name = strdup(name);
    }
    if (g->devices.n) d->device = strdup(g->devices.items[g->devices.n - 1]);
    if (g->colocations.n &&
        tfc_attrs_set_string(&d->attrs, "_class", g->colocations.items[g->colocations.n - 1]))
        d->failed = 1;
    d->op = type ? tfc_op_lookup(type) : NULL;
    return d;
}

void tfc_op_add_input(tfc_op_desc *d, tfc_output in) {
    if (!d) return;
    if (d->ninputs == d->in_cap) {
        int cap = d->in_cap ? d->in_cap * 2 : 4;
        tfc_output *v = realloc(d->inputs, (size_t)cap * sizeof *v);
        if (!v) {
            d->failed = 1;
            return;
        }
        d->inputs = v;
        d->in_cap = cap;
    }
    d->inputs[d->ninputs++] = in;
}

void tfc_op_add_inputs(tfc_op_desc *d, const tfc_output *in, int n) {
    for (int i = 0; i < n; i++) tfc_op_add_input(d, in[i]);
}

void tfc_op_add_control_input(tfc_op_desc *d, tfc_node *dep) {
    if (!d || !dep) return;
    for (int i = 0; i < d->ncontrol; i++)
        if (d->control[i] == dep) return;
    if (d->ncontrol == d->ctl_cap) {
        int cap = d->ctl_cap ? d->ctl_cap * 2 : 4;
        tfc_node **v = realloc(d->control, (size_t)cap * sizeof *v);
        if (!v) {
            d->failed = 1;
            return;
        }
        d->control = v;
        d->ctl_cap = cap;
    }
    d->control[d->ncontrol++] = dep;
}

void tfc_op_set_device(tfc_op_desc *d, const char *device) {
    if (!d) return;
    free(d->device);
    d->device = device ? strdup(device) : NULL;
}

#define CHECK_SET(expr) \
    do {                \
        if (!d) return; \
        if (expr) d->failed = 1; \
    } while (0)

void tfc_op_set_attr_int(tfc_op_desc *d, const char *name, int64_t v) {
    CHECK_SET(tfc_attrs_set_int(&d->attrs, name, TFC_ATTR_INT, v));
}
void tfc_op_set_attr_float(tfc_op_desc *d, const char *name, double v) {
    CHECK_SET(tfc_attrs_set_float(&d->attrs, name, v));
}
void tfc_op_set_attr_bool(tfc_op_desc *d, const char *name, int v) {
    CHECK_SET(tfc_attrs_set_int(&d->attrs, name, TFC_ATTR_BOOL, v != 0));
}
void tfc_op_set_attr_type(tfc_op_desc *d, const char *name, tfc_dtype v) {
    CHECK_SET(tfc_attrs_set_int(&d->attrs, name, TFC_ATTR_TYPE, v));
}
void tfc_op_set_attr_string(tfc_op_desc *d, const char *name, const char *v) {
    CHECK_SET(tfc_attrs_set_string(&d->attrs, name, v));
}
/* A shape from the user: rank -1 (unknown) to TFC_MAX_RANK, each size >= 0
 * or -1 (unknown). */
void tfc_op_set_attr_shape(tfc_op_desc *d, const char *name, int rank, const int64_t *dims) {
    if (!d) return;
    char why[160] = "";
    if (rank < -1 || rank > TFC_MAX_RANK)
        snprintf(why, sizeof why, "attr '%s' has rank %d; a rank is -1 (unknown) to %d", name,
                 rank, TFC_MAX_RANK);
    else if (rank > 0 && !dims)
        snprintf(why, sizeof why, "attr '%s' has rank %d but no dims", name, rank);
    for (int i = 0; !why[0] && i < rank; i++)
        if (dims[i] < -1)
            snprintf(why, sizeof why,
                     "attr '%s' has size %lld in dim %d; a size is >= 0, or -1 for unknown", name,
                     (long long)dims[i], i);
    if (why[0]) {
        if (!d->attr_error && !(d->attr_error = strdup(why))) d->failed = 1;
        return;
    }
    CHECK_SET(tfc_attrs_set_shape(&d->attrs, name, rank, dims));
}
void tfc_op_set_attr_int_list(tfc_op_desc *d, const char *name, const int64_t *v, int n) {
    CHECK_SET(tfc_attrs_set_int_list(&d->attrs, name, v, n));
}
void tfc_op_set_attr_float_list(tfc_op_desc *d, const char *name, const double *v, int n) {
    CHECK_SET(tfc_attrs_set_float_list(&d->attrs, name, v, n));
}
void tfc_op_set_attr_string_list(tfc_op_desc *d, const char *name, const char *const *v,
                                 int n) {
    CHECK_SET(tfc_attrs_set_string_list(&d->attrs, name, v, n));
}
void tfc_op_set_attr_tensor(tfc_op_desc *d, const char *name, tfc_tensor *t) {
    CHECK_SET(!t || tfc_attrs_set_tensor(&d->attrs, name, t));
}

static void desc_free(tfc_op_desc *d) {
    free(d->type);
    free(d->name);
    free(d->device);
    free(d->inputs);
    free(d->control);
    tfc_attrs_free(&d->attrs);
    free(d->attr_error);
    free(d);
}

/* Checks the inputs; returns the node name to use (caller frees) or NULL. */
static char *check_and_name(tfc_op_desc *d) {
    tfc_graph *g = d->g;
    const char *shown = d->name ? d->name : d->type;
    if (d->failed) {
        tfc_graph_fail(g, TFC_INTERNAL, "Node '%s' (%s): out of memory while building", shown,
                       d->type);
        return NULL;
    }
    if (!d->op) {
        tfc_graph_fail(g, TFC_NOT_FOUND, "Node '%s': op type '%s' is not registered", shown,
                       d->type);
        return NULL;
    }
    if (d->attr_error) {
        tfc_graph_fail(g, TFC_INVALID_ARGUMENT, "Node '%s' (%s): %s", shown, d->type,
                       d->attr_error);
        return NULL;
    }
    for (int i = 0; i < d->ninputs; i++) {
        tfc_output in = d->inputs[i];
        if (!in.node) {
            tfc_graph_fail(g, TFC_INVALID_ARGUMENT, "Node '%s' (%s): input %d is null", shown,
                           d->type, i);
            return NULL;
        }
        /* a body may use tensors of the graphs enclosing it */
        if (in.node->graph != g && tfc_function_capture(g, &d->inputs[i]) == 0)
            in = d->inputs[i];
        if (g->error) return NULL;
        if (in.node->graph != g) {
            tfc_graph_fail(g, TFC_INVALID_ARGUMENT,
                           "Node '%s' (%s): input %d ('%s') belongs to another graph", shown,
                           d->type, i, in.node->name);
            return NULL;
        }
        if (in.index < 0 || in.index >= in.node->noutputs) {
            tfc_graph_fail(g, TFC_INVALID_ARGUMENT,
                           "Node '%s' (%s): input %d refers to output %d of '%s', which has %d "
                           "outputs",
                           shown, d->type, i, in.index, in.node->name, in.node->noutputs);
            return NULL;
        }
        if (tfc_op_input_is_ref(d->op, i) && !(in.node->op->flags & TFC_OP_VARIABLE)) {
            tfc_graph_fail(g, TFC_INVALID_ARGUMENT,
                           "Node '%s' (%s): input %d must be a variable, got '%s' (%s)", shown,
                           d->type, i, in.node->name, in.node->op->type);
            return NULL;
        }
    }
    for (int i = 0; i < d->ncontrol; i++) {
        if (d->control[i]->graph != g) {
            tfc_graph_fail(g, TFC_INVALID_ARGUMENT,
                           "Node '%s' (%s): control input '%s' belongs to another graph", shown,
                           d->type, d->control[i]->name);
            return NULL;
        }
    }
    if (d->ninputs < d->op->min_inputs ||
        (d->op->max_inputs >= 0 && d->ninputs > d->op->max_inputs)) {
        if (d->op->max_inputs == d->op->min_inputs)
            tfc_graph_fail(g, TFC_INVALID_ARGUMENT, "Node '%s' (%s): expected %d inputs, got %d",
                           shown, d->type, d->op->min_inputs, d->ninputs);
        else
            tfc_graph_fail(g, TFC_INVALID_ARGUMENT,
                           "Node '%s' (%s): expected at least %d inputs, got %d", shown, d->type,
                           d->op->min_inputs, d->ninputs);
        return NULL;
    }
    if (d->name) {
        const char *prefix = tfc_graph_scope_prefix(g);
        size_t len = strlen(prefix) + strlen(d->name) + 1;
        char *full = malloc(len);
        if (!full) return NULL;
        strcpy(full, prefix);
        strcat(full, d->name);
        if (tfc_strmap_get(&g->by_name, full)) {
            tfc_graph_fail(g, TFC_ALREADY_EXISTS,
                           "Duplicate node name in graph: '%s' (adding a %s node)", full, d->type);
            free(full);
            return NULL;
        }
        return full;
    }
    return tfc_graph_unique_name(g, d->type);
}

/* The type attrs the caller gave (the first MAX of them). A shape function
 * that sets one (a Const's dtype from its value, T from the inputs) to
 * another value shows the caller's value was wrong. */
enum { GIVEN_TYPES_MAX = 32 };
typedef struct given_types {
    int n;
    tfc_attr_kind kind[GIVEN_TYPES_MAX];
    int64_t value[GIVEN_TYPES_MAX];
} given_types;

static void remember_types(given_types *t, const tfc_attrs *a) {
    t->n = a->n < GIVEN_TYPES_MAX ? a->n : GIVEN_TYPES_MAX;
    for (int i = 0; i < t->n; i++) {
        t->kind[i] = a->items[i].kind;
        t->value[i] = a->items[i].v.i;
    }
}

static int check_given_types(tfc_graph *g, const char *name, const tfc_op_desc *d,
                             const given_types *t) {
    for (int i = 0; i < t->n; i++) {
        const tfc_attr *at = &d->attrs.items[i];
        if (t->kind[i] != TFC_ATTR_TYPE || at->kind != TFC_ATTR_TYPE || at->v.i == t->value[i])
            continue;
        return tfc_graph_fail(g, TFC_INVALID_ARGUMENT,
                              "Node '%s' (%s): attr '%s' is %s, but the node's inputs and attrs "
                              "make it %s",
                              name, d->type, at->name, tfc_dtype_name((tfc_dtype)t->value[i]),
                              tfc_dtype_name((tfc_dtype)at->v.i));
    }
    return 0;
}

/* String and resource tensors reach only ops flagged to take them (see
 * TFC_OP_STRINGS in op_registry.h). 0, or -1 after recording the error. */
static int check_pointer_dtypes(tfc_graph *g, const char *name, const tfc_op_desc *d,
                                const tfc_dtype *out_dtypes, int noutputs) {
    unsigned flags = d->op->flags;
    for (int k = 0; k < d->ninputs + noutputs; k++) {
        int in = k < d->ninputs;
        tfc_dtype dt = in ? tfc_output_dtype(d->inputs[k]) : out_dtypes[k - d->ninputs];
        if ((dt != TFC_STRING || (flags & TFC_OP_STRINGS)) &&
            (dt != TFC_RESOURCE || (flags & TFC_OP_RESOURCES)))
            continue;
        if (in)
            return tfc_graph_fail(g, TFC_INVALID_ARGUMENT,
                                  "Node '%s' (%s): input %d ('%s:%d') is a %s tensor; %s does "
                                  "not take %s tensors",
                                  name, d->type, k, d->inputs[k].node->name, d->inputs[k].index,
                                  tfc_dtype_name(dt), d->type, tfc_dtype_name(dt));
        return tfc_graph_fail(g, TFC_INVALID_ARGUMENT,
                              "Node '%s' (%s): output %d would be a %s tensor; %s does not make "
                              "%s tensors",
                              name, d->type, k - d->ninputs, tfc_dtype_name(dt), d->type,
                              tfc_dtype_name(dt));
    }
    return 0;
}

tfc_node *tfc_op_finish(tfc_op_desc *d) {
    if (!d) return NULL;
    tfc_graph *g = d->g;
    char *name = g->error ? NULL : check_and_name(d);
    if (!name) {
        desc_free(d);
        return NULL;
    }
    const tfc_op_def *op = d->op;
    char why[200];
    if (d->device && *d->device && tfc_device_name_parse(d->device, NULL, why, sizeof why)) {
        tfc_graph_fail(g, TFC_INVALID_ARGUMENT, "Node '%s' (%s): malformed device '%s': %s", name,
                       d->type, d->device, why);
        free(name);
        desc_free(d);
        return NULL;
    }
    given_types given;
    remember_types(&given, &d->attrs);
    tfc_infer_ctx c = {0};
    c.graph = g;
    c.name = name;
    c.op = op;
    c.ninputs = d->ninputs;
    c.inputs = d->inputs;
    c.attrs = &d->attrs;
    /* inputs are checked before the shape function, which may assume numbers */
    if (check_pointer_dtypes(g, name, d, NULL, 0) ||
        tfc_infer_set_num_outputs(&c, op->num_outputs) ||
        (op->infer && op->infer(&c) != 0) || g->error ||
        check_given_types(g, name, d, &given) ||
        check_pointer_dtypes(g, name, d, c.out_dtypes, c.noutputs)) {
        if (!g->error) tfc_graph_fail(g, TFC_INTERNAL, "Node '%s' (%s): shape function failed",
                                      name, op->type);
        free(c.out_dtypes);
        free(c.out_shapes);
        free(c.op_data);
        free(name);
        desc_free(d);
        return NULL;
    }
    tfc_node *n = calloc(1, sizeof *n);
    /* grow the node array under the lock: sessions may be reading it */
    pthread_mutex_lock(&g->lock);
    if (n && g->nnodes == g->cap) {
        int cap = g->cap ? g->cap * 2 : 64;
        tfc_node **nodes = realloc(g->nodes, (size_t)cap * sizeof *nodes);
        if (nodes) {
            g->nodes = nodes;
            g->cap = cap;
        }
    }
    int full = g->nnodes == g->cap;
    pthread_mutex_unlock(&g->lock);
    if (!n || full) {
        free(n);
        free(name);
        free(c.out_dtypes);
        free(c.out_shapes);
        free(c.op_data);
        desc_free(d);
        tfc_graph_fail(g, TFC_INTERNAL, "out of memory adding a node");
        return NULL;
    }
    n->graph = g;
    n->name = name;
    n->device = d->device;
    d->device = NULL;
    n->op = op;
    n->ninputs = d->ninputs;
    n->inputs = d->inputs;
    d->inputs = NULL;
    /* control deps: explicit ones plus every enclosing control scope */
    for (int f = 0; f < g->ndep_frames; f++)
        for (int i = 0; i < g->dep_frames[f].n; i++) tfc_op_add_control_input(d, g->dep_frames[f].deps[i]);
    n->ncontrol = d->ncontrol;
    n->control_inputs = d->control;
    d->control = NULL;
    n->noutputs = c.noutputs;
    n->out_dtypes = c.out_dtypes;
    n->out_shapes = c.out_shapes;
    n->attrs = d->attrs;
    memset(&d->attrs, 0, sizeof d->attrs);
    n->op_data = c.op_data;
    pthread_mutex_lock(&g->lock);
    n->id = g->nnodes;
    g->nodes[g->nnodes++] = n;
    pthread_mutex_unlock(&g->lock);
    tfc_strmap_put(&g->by_name, n->name, n);
    desc_free(d);
    return n;
}
