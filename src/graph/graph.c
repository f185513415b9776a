/* Graphs: node storage, naming, scopes, errors and collections. */
#include "graph/graph.h"

#include "core/tensor.h"
#include "device/device_name.h"
#include "graph/function.h"
#include "graph/op_registry.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

tfc_graph *tfc_graph_new(void) {
    tfc_graph *g = calloc(1, sizeof *g);
    if (!g) return NULL;
    pthread_mutex_init(&g->lock, NULL);
    return g;
}

static void node_free(tfc_node *n) {
    free(n->name);
    free(n->device);
    free(n->inputs);
    free(n->control_inputs);
    free(n->out_dtypes);
    free(n->out_shapes);
    tfc_attrs_free(&n->attrs);
    free(n->op_data);
    free(n);
}

static void name_list_free(tfc_name_list *l) {
    for (int i = 0; i < l->n; i++) free(l->items[i]);
    free(l->items);
}

void tfc_graph_free(tfc_graph *g) {
    if (!g) return;
    tfc_function_lib_free(g->functions);
    for (int i = 0; i < g->nnodes; i++) node_free(g->nodes[i]);
    free(g->nodes);
    tfc_strmap_free(&g->by_name);
    tfc_strmap_free(&g->name_uses);
    name_list_free(&g->scopes);
    name_list_free(&g->var_scopes);
    name_list_free(&g->devices);
    name_list_free(&g->colocations);
    for (int i = 0; i < g->ndep_frames; i++) free(g->dep_frames[i].deps);
    free(g->dep_frames);
    for (size_t i = 0; i < g->collections.cap; i++) {
        tfc_collection *c = g->collections.vals[i];
        if (g->collections.keys[i] && c) {
            free(c->items);
            free(c);
        }
    }
    tfc_strmap_free(&g->collections);
    tfc_strmap_free(&g->initializers);
    free(g->next_name);
    free(g->error);
    pthread_mutex_destroy(&g->lock);
    free(g);
}

int tfc_graph_fail(tfc_graph *g, tfc_code code, const char *fmt, ...) {
    if (g->error) return -1;
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    g->error = strdup(buf);
    g->error_code = code;
    return -1;
}

const char *tfc_graph_error(const tfc_graph *g) { return g ? g->error : "null graph"; }
tfc_code tfc_graph_error_code(const tfc_graph *g) {
    return g ? g->error_code : TFC_INVALID_ARGUMENT;
}

void tfc_graph_clear_error(tfc_graph *g) {
    if (!g) return;
    free(g->error);
    g->error = NULL;
    g->error_code = TFC_OK;
}

void tfc_graph_set_seed(tfc_graph *g, int64_t seed) {
    if (!g) return;
    g->seed = seed;
    g->has_seed = 1;
}

static int name_list_push(tfc_name_list *l, char *s) {
    if (l->n == l->cap) {
        int cap = l->cap ? l->cap * 2 : 8;
        char **items = realloc(l->items, (size_t)cap * sizeof *items);
        if (!items) return -1;
        l->items = items;
        l->cap = cap;
    }
    l->items[l->n++] = s;
    return 0;
}

static void name_list_pop(tfc_name_list *l) {
    if (l->n) free(l->items[--l->n]);
}

const char *tfc_graph_scope_prefix(const tfc_graph *g) {
    return g->scopes.n ? g->scopes.items[g->scopes.n - 1] : "";
}

/* Counts uses of `full` and returns the unique variant: full, full_1, ... */
static char *unique_full_name(tfc_graph *g, const char *full) {
    intptr_t uses = (intptr_t)tfc_strmap_get(&g->name_uses, full);
    size_t len = strlen(full) + 24;
    char *name = malloc(len);
    if (!name) return NULL;
    for (;;) {
        if (uses == 0)
            snprintf(name, len, "%s", full);
        else
            snprintf(name, len, "%s_%ld", full, (long)uses);
        uses++;
        if (!tfc_strmap_get(&g->by_name, name) && (uses == 1 || !tfc_strmap_get(&g->name_uses, name)))
            break;
    }
    tfc_strmap_put(&g->name_uses, full, (void *)uses);
    return name;
}

char *tfc_graph_unique_name(tfc_graph *g, const char *base) {
    const char *prefix = tfc_graph_scope_prefix(g);
    size_t len = strlen(prefix) + strlen(base) + 1;
    char *full = malloc(len);
    if (!full) return NULL;
    snprintf(full, len, "%s%s", prefix, base);
    char *name = unique_full_name(g, full);
    free(full);
    return name;
}

void tfc_name_scope_push(tfc_graph *g, const char *scope) {
    if (!g || !scope) return;
    char *unique = tfc_graph_unique_name(g, scope);
    if (!unique) return;
    size_t len = strlen(unique) + 2;
    char *prefix = malloc(len);
    if (prefix) {
        snprintf(prefix, len, "%s/", unique);
        if (name_list_push(&g->scopes, prefix)) free(prefix);
    }
    free(unique);
}

void tfc_name_scope_pop(tfc_graph *g) {
    if (g) name_list_pop(&g->scopes);
}

void tfc_with_name(tfc_graph *g, const char *name) {
    if (!g) return;
    free(g->next_name);
    g->next_name = name ? strdup(name) : NULL;
}

/* The device nodes made inside scope `inner` get, nested in the scope whose
 * device is `outer` (tf.device): NULL clears it, "" keeps the outer one,
 * else inner parts override outer ones (MergeUnsetDevNames), written in
 * TensorFlow's canonical form when the outer scope adds parts. A malformed
 * spec is kept as written: the nodes made inside fail, naming it. */
static char *scope_device(const char *outer, const char *inner) {
    tfc_device_name in, out;
    if (!inner) return strdup("");
    if (!*inner) return strdup(outer);
    if (!*outer) return strdup(inner);
    /* the enclosing scope's error comes first */
    if (tfc_device_name_parse(outer, &out, NULL, 0)) return strdup(outer);
    if (tfc_device_name_parse(inner, &in, NULL, 0)) return strdup(inner);
    tfc_device_name_merge_unset(&in, &out);
    size_t len = tfc_device_name_format(&in, NULL, 0) + 1;
    char *s = malloc(len);
    if (s) tfc_device_name_format(&in, s, len);
    return s;
}

void tfc_device_push(tfc_graph *g, const char *device) {
    if (!g) return;
    const char *outer = g->devices.n ? g->devices.items[g->devices.n - 1] : "";
    char *d = scope_device(outer, device);
    if (d && name_list_push(&g->devices, d)) free(d);
}

void tfc_device_pop(tfc_graph *g) {
    if (g) name_list_pop(&g->devices);
}

/* Colocation scopes (tf.colocate_with): the builder gives each node made
 * inside the attr _class = "loc:@<op>"; the placer (src/device) joins them. */
void tfc_colocate_with_push(tfc_graph *g, const tfc_node *op) {
    if (!g) return;
    if (!op) {
        tfc_graph_fail(g, TFC_INVALID_ARGUMENT, "tfc_colocate_with_push: the op is NULL");
        return;
    }
    size_t len = strlen(op->name) + 6;
    char *cls = malloc(len);
    if (cls) snprintf(cls, len, "loc:@%s", op->name);
    if (!cls || name_list_push(&g->colocations, cls)) {
        free(cls);
        tfc_graph_fail(g, TFC_INTERNAL, "out of memory in tfc_colocate_with_push");
    }
}

void tfc_colocate_with_pop(tfc_graph *g) {
    if (g) name_list_pop(&g->colocations);
}

void tfc_control_dependencies_push(tfc_graph *g, tfc_node *const *deps, int n) {
    if (!g) return;
    if (g->ndep_frames == g->dep_cap) {
        int cap = g->dep_cap ? g->dep_cap * 2 : 4;
        tfc_dep_frame *f = realloc(g->dep_frames, (size_t)cap * sizeof *f);
        if (!f) return;
        g->dep_frames = f;
        g->dep_cap = cap;
    }
    tfc_dep_frame *f = &g->dep_frames[g->ndep_frames++];
    f->n = n;
    f->deps = malloc((size_t)(n ? n : 1) * sizeof *f->deps);
    if (n && f->deps) memcpy(f->deps, deps, (size_t)n * sizeof *deps);
}

void tfc_control_dependencies_pop(tfc_graph *g) {
    if (g && g->ndep_frames) free(g->dep_frames[--g->ndep_frames].deps);
}

int tfc_graph_num_nodes(const tfc_graph *g) { return g ? g->nnodes : 0; }

tfc_node *tfc_graph_node(const tfc_graph *g, int i) {
    return g && i >= 0 && i < g->nnodes ? g->nodes[i] : NULL;
}

tfc_node *tfc_graph_node_by_name(const tfc_graph *g, const char *name) {
    return g && name ? tfc_strmap_get(&g->by_name, name) : NULL;
}

void tfc_graph_add_to_collection(tfc_graph *g, const char *key, tfc_node *node) {
    if (!g || !key || !node) return;
    tfc_collection *c = tfc_strmap_get(&g->collections, key);
    if (!c) {
        c = calloc(1, sizeof *c);
        if (!c || tfc_strmap_put(&g->collections, key, c)) {
            free(c);
            return;
        }
    }
    for (int i = 0; i < c->n; i++)
        if (c->items[i] == node) return;
    if (c->n == c->cap) {
        int cap = c->cap ? c->cap * 2 : 8;
        tfc_node **items = realloc(c->items, (size_t)cap * sizeof *items);
        if (!items) return;
        c->items = items;
        c->cap = cap;
    }
    c->items[c->n++] = node;
}

int tfc_graph_collection_size(const tfc_graph *g, const char *key) {
    tfc_collection *c = g && key ? tfc_strmap_get(&g->collections, key) : NULL;
    return c ? c->n : 0;
}

tfc_node *tfc_graph_collection_get(const tfc_graph *g, const char *key, int i) {
    tfc_collection *c = g && key ? tfc_strmap_get(&g->collections, key) : NULL;
    return c && i >= 0 && i < c->n ? c->items[i] : NULL;
}

const char *tfc_node_name(const tfc_node *n) { return n ? n->name : NULL; }
const char *tfc_node_type(const tfc_node *n) { return n ? n->op->type : NULL; }
const char *tfc_node_device(const tfc_node *n) { return n && n->device ? n->device : ""; }
tfc_graph *tfc_node_graph(const tfc_node *n) { return n ? n->graph : NULL; }
int tfc_node_num_inputs(const tfc_node *n) { return n ? n->ninputs : 0; }

tfc_output tfc_node_input(const tfc_node *n, int i) {
    if (!n || i < 0 || i >= n->ninputs) return (tfc_output){NULL, 0};
    return n->inputs[i];
}

int tfc_node_num_control_inputs(const tfc_node *n) { return n ? n->ncontrol : 0; }

tfc_node *tfc_node_control_input(const tfc_node *n, int i) {
    return n && i >= 0 && i < n->ncontrol ? n->control_inputs[i] : NULL;
}

int tfc_node_num_outputs(const tfc_node *n) { return n ? n->noutputs : 0; }

tfc_output tfc_out(tfc_node *n, int i) { return (tfc_output){n, n ? i : 0}; }

tfc_dtype tfc_output_dtype(tfc_output o) {
    if (!o.node || o.index < 0 || o.index >= o.node->noutputs) return TFC_INVALID_DTYPE;
    return o.node->out_dtypes[o.index];
}

tfc_shape tfc_output_shape(tfc_output o) {
    if (!o.node || o.index < 0 || o.index >= o.node->noutputs) return tfc_shape_unknown();
    return o.node->out_shapes[o.index];
}

int tfc_output_set_shape(tfc_graph *g, tfc_output o, int rank, const int64_t *dims) {
    if (!g) return -1;
    if (!o.node || o.node->graph != g || o.index < 0 || o.index >= o.node->noutputs ||
        rank > TFC_MAX_RANK || (rank > 0 && !dims))
        return tfc_graph_fail(
            g, TFC_INVALID_ARGUMENT,
            "tfc_output_set_shape: no such output in this graph, or a rank over %d", TFC_MAX_RANK);
    if (rank < 0) return 0;
    tfc_shape given = {rank, {0}}, *have = &o.node->out_shapes[o.index];
    for (int i = 0; i < rank; i++) given.dims[i] = dims[i] < 0 ? -1 : dims[i];
    if (!tfc_shape_compatible(have, &given)) {
        char a[128], b[128];
        return tfc_graph_fail(g, TFC_INVALID_ARGUMENT,
                              "Shapes %s and %s are not compatible (output %d of node %s)",
                              tfc_shape_str(have, a, sizeof a), tfc_shape_str(&given, b, sizeof b),
                              o.index, o.node->name);
    }
    pthread_mutex_lock(&g->lock);
    if (have->rank < 0)
        *have = given;
    else
        for (int i = 0; i < rank; i++)
            if (have->dims[i] < 0) have->dims[i] = given.dims[i];
    pthread_mutex_unlock(&g->lock);
    return 0;
}

int64_t tfc_node_attr_int(const tfc_node *n, const char *name, int64_t dflt) {
    return n ? tfc_attrs_int(&n->attrs, name, dflt) : dflt;
}

double tfc_node_attr_float(const tfc_node *n, const char *name, double dflt) {
    return n ? tfc_attrs_float(&n->attrs, name, dflt) : dflt;
}

const char *tfc_node_attr_string(const tfc_node *n, const char *name) {
    return n ? tfc_attrs_string(&n->attrs, name) : NULL;
}

const char *tfc_output_str(tfc_output o, char *buf, size_t n) {
    snprintf(buf, n, "%s:%d", o.node ? o.node->name : "(null)", o.index);
    return buf;
}
