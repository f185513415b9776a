/* Function objects: a body graph with typed inputs (placeholders of the body)
 * and outputs, as used by the functional control-flow ops (If, While,
 * PartitionedCall in src/ops/control_flow.c). A graph keeps a library of the
 * functions defined on it; the library owns them and their body graphs.
 *
 * Implicit capture: while a body is being built, an input taken from an
 * enclosing graph becomes a new placeholder of the body, and the outer
 * tensor is recorded as a capture: ops calling the function pass it as an
 * extra input. Params are [explicit args..., captures...]. */
#ifndef TFC_GRAPH_FUNCTION_H
#define TFC_GRAPH_FUNCTION_H

#include "graph/graph.h"

struct tfc_function {
    char *name;
    tfc_graph *graph;  /* the body */
    int owns_graph;    /* a gradient function shares its forward's body */
    tfc_graph *owner;  /* the graph whose library holds it */
    int nargs;         /* explicit inputs: params[0..nargs) */
    int nparams, param_cap;
    tfc_output *params;   /* placeholders of `graph` */
    tfc_output *captures; /* captures[k] feeds params[nargs + k] */
    int nout;
    tfc_output *outs;             /* outputs, tensors of `graph` */
    struct tfc_function *grad;    /* its gradient function, built once */
};

typedef struct tfc_function_lib {
    int n, cap;
    struct tfc_function **items;
    int counter; /* for unique generated names */
} tfc_function_lib;

/* Frees a graph's library, its functions and the body graphs they own. */
void tfc_function_lib_free(tfc_function_lib *lib);

/* Called by the op builder when an input of a node being added to `g` is a
 * tensor of another graph: if that graph encloses `g` (g is a body being
 * built), *in is replaced by the capturing placeholder and 0 is returned;
 * else -1 with nothing recorded. */
int tfc_function_capture(tfc_graph *g, tfc_output *in);

/* The function called `name` in g's library or an enclosing graph's. */
struct tfc_function *tfc_function_find(const tfc_graph *g, const char *name);

/* Creates an empty function with a fresh body graph enclosed by `g`, and
 * `nargs` placeholders (dtypes[i], shapes[i]; shapes NULL: unknown), runs
 * `build` to make its `nout` outputs and registers it in g's library under
 * `name` (base + "_N" when `unique`). NULL with the error recorded on g. */
struct tfc_function *tfc_function_build(tfc_graph *g, const char *name, int unique, int nargs,
                                        const tfc_dtype *dtypes, const tfc_shape *shapes,
                                        int nout, tfc_body_fn build, void *user);

/* Makes `fn` capture `outer` (a tensor of fn's enclosing graph) if it does
 * not yet; returns the capture's index or -1. */
int tfc_function_add_capture(struct tfc_function *fn, tfc_output outer);
/* Reorders fn's captures to the order of `caps` (which must contain every
 * capture of fn), capturing the ones fn lacks, so two functions share one
 * signature. Returns 0 or -1. */
int tfc_function_align_captures(struct tfc_function *fn, const tfc_output *caps, int ncaps);

/* The gradient function of `fn`: params [fn's params..., one dy per
 * output...], outputs one gradient per param of fn (zeros where none
 * flows). Built once inside fn's body graph. NULL with the error recorded
 * on `g`. */
struct tfc_function *tfc_function_gradient(tfc_graph *g, struct tfc_function *fn);

/* For importers (GraphDef function libraries): a function with a fresh
 * body enclosed by `g`, registered in g's library as `name`, or as name_N
 * when that name is taken in g or a graph enclosing it. Its params are
 * `nargs` placeholders named arg_names[i] (NULL: generated) of dtypes[i]
 * and shapes[i] (shapes NULL: unknown); fn->outs holds `nout` null outputs
 * for the caller to set. When fn->nargs < nargs, making a param failed
 * (the reason is on fn->graph, or memory ran out). NULL only when out of
 * memory, with the error recorded on g. */
struct tfc_function *tfc_function_new_empty(tfc_graph *g, const char *name, int nargs,
                                            const char *const *arg_names, const tfc_dtype *dtypes,
                                            const tfc_shape *shapes, int nout);
/* The number of functions in g's own library. */
int tfc_function_lib_size(const tfc_graph *g);
/* Frees the functions of g's library from index n on (undoing a failed
 * import). No node outside their own bodies may name them. */
void tfc_function_lib_truncate(tfc_graph *g, int n);

#endif
