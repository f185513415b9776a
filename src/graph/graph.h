/* The graph and node objects. The graph owns its nodes; nodes never change
 * once added (sessions rely on that to cache plans while the graph grows). */
#ifndef TFC_GRAPH_GRAPH_H
#define TFC_GRAPH_GRAPH_H

#include "core/strmap.h"
#include "graph/attrs.h"
#include "tfc.h"

#include <pthread.h>

struct tfc_op_def;

struct tfc_node {
    tfc_graph *graph;
    int id; /* index in creation order */
    char *name;
    char *device;
    const struct tfc_op_def *op;
    int ninputs;
    tfc_output *inputs;
    int ncontrol;
    tfc_node **control_inputs;
    int noutputs;
    tfc_dtype *out_dtypes;
    tfc_shape *out_shapes;
    tfc_attrs attrs;
    /* Parsed attrs or other data the op's shape function keeps for its
     * kernel, so the kernel does no string work per run. free()d with it. */
    void *op_data;
};

typedef struct tfc_name_list {
    int n, cap;
    char **items;
} tfc_name_list;

typedef struct tfc_dep_frame {
    int n;
    tfc_node **deps;
} tfc_dep_frame;

typedef struct tfc_collection {
    int n, cap;
    tfc_node **items;
} tfc_collection;

struct tfc_graph {
    int nnodes, cap;
    tfc_node **nodes;
    tfc_strmap by_name;    /* name -> node */
    tfc_strmap name_uses;  /* base name -> (count of uses) as intptr */
    tfc_name_list scopes;  /* full scope prefixes, innermost last */
    tfc_name_list var_scopes; /* variable scopes (src/nn): reuse char + "a/b/" */
    tfc_name_list devices;
    tfc_name_list colocations; /* tfc_colocate_with_push: "loc:@name", innermost last */
    int ndep_frames, dep_cap;
    tfc_dep_frame *dep_frames;
    tfc_strmap collections; /* key -> tfc_collection* */
    tfc_strmap initializers; /* variable name -> its initializer node */
    char *next_name;
    char *error;
    tfc_code error_code;
    int64_t seed;
    int has_seed;
    /* Function bodies (graph/function.c): the graph enclosing a body, the
     * function whose builder is running (outer inputs are captured into
     * it), and the library of functions defined on this graph. */
    tfc_graph *parent;
    struct tfc_function *capturing;
    struct tfc_function_lib *functions;
    /* Guards graph growth while sessions read it from other threads. */
    pthread_mutex_t lock;
};

/* Records the first error on the graph (sticky) and returns -1. */
int tfc_graph_fail(tfc_graph *g, tfc_code code, const char *fmt, ...)
#ifdef __GNUC__
    __attribute__((format(printf, 3, 4)))
#endif
    ;
/* The current name-scope prefix ("" or "a/b/"). */
const char *tfc_graph_scope_prefix(const tfc_graph *g);
/* A unique node name from `base` (TensorFlow's rule: base, base_1, ...),
 * prefixed by the current scope. Caller frees. */
char *tfc_graph_unique_name(tfc_graph *g, const char *base);
/* Prints "name:index" for an output. */
const char *tfc_output_str(tfc_output o, char *buf, size_t n);

#endif
