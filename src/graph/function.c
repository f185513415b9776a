/* Function objects: building a body graph through a C callback, implicit
 * capture of enclosing graphs' tensors, the per-graph function library and
 * gradient functions (derived inside the forward body, so they share it). */
#include "graph/function.h"

#include "autodiff/grad_util.h"
#include "graph/op_registry.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void function_free(tfc_function *fn) {
    if (!fn) return;
    if (fn->owns_graph) tfc_graph_free(fn->graph);
    free(fn->name);
    free(fn->params);
    free(fn->captures);
    free(fn->outs);
    free(fn);
}

void tfc_function_lib_free(tfc_function_lib *lib) {
    if (!lib) return;
    /* gradient functions (not owning) may sit after their forward: free
     * every non-owner first, so none outlives the body it points into */
    for (int i = 0; i < lib->n; i++) {
        if (lib->items[i]->owns_graph) continue;
        function_free(lib->items[i]);
        lib->items[i] = NULL;
    }
    for (int i = 0; i < lib->n; i++) function_free(lib->items[i]);
    free(lib->items);
    free(lib);
}

tfc_function *tfc_function_find(const tfc_graph *g, const char *name) {
    for (; g && name; g = g->parent) {
        tfc_function_lib *lib = g->functions;
        for (int i = 0; lib && i < lib->n; i++)
            if (strcmp(lib->items[i]->name, name) == 0) return lib->items[i];
    }
    return NULL;
}

static int lib_add(tfc_graph *g, tfc_function *fn) {
    if (!g->functions && !(g->functions = calloc(1, sizeof *g->functions))) return -1;
    tfc_function_lib *lib = g->functions;
    if (lib->n == lib->cap) {
        int cap = lib->cap ? lib->cap * 2 : 8;
        tfc_function **v = realloc(lib->items, (size_t)cap * sizeof *v);
        if (!v) return -1;
        lib->items = v;
        lib->cap = cap;
    }
    lib->items[lib->n++] = fn;
    fn->owner = g;
    return 0;
}

static int grow_params(tfc_function *fn) {
    if (fn->nparams < fn->param_cap) return 0;
    int cap = fn->param_cap ? fn->param_cap * 2 : 8;
    tfc_output *p = realloc(fn->params, (size_t)cap * sizeof *p);
    if (!p) return -1;
    fn->params = p;
    tfc_output *c = realloc(fn->captures, (size_t)cap * sizeof *c);
    if (!c) return -1;
    fn->captures = c;
    fn->param_cap = cap;
    return 0;
}

static tfc_output new_named_param(tfc_graph *body, const char *name, tfc_dtype dt,
                                  const tfc_shape *shape) {
    tfc_op_desc *d = tfc_op_new(body, "Placeholder", name);
    tfc_op_set_attr_type(d, "dtype", dt);
    if (shape && shape->rank >= 0) tfc_op_set_attr_shape(d, "shape", shape->rank, shape->dims);
    return tfc_out(tfc_op_finish(d), 0);
}

static tfc_output new_param(tfc_graph *body, tfc_dtype dt, const tfc_shape *shape) {
    return new_named_param(body, NULL, dt, shape);
}

int tfc_function_add_capture(tfc_function *fn, tfc_output outer) {
    for (int k = 0; k < fn->nparams - fn->nargs; k++)
        if (fn->captures[k].node == outer.node && fn->captures[k].index == outer.index) return k;
    if (grow_params(fn)) return tfc_graph_fail(fn->graph, TFC_INTERNAL, "out of memory capturing");
    tfc_shape shape = tfc_output_shape(outer);
    tfc_output p = new_param(fn->graph, tfc_output_dtype(outer), &shape);
    if (!p.node) return -1;
    int k = fn->nparams - fn->nargs;
    fn->captures[k] = outer;
    fn->params[fn->nparams++] = p;
    return k;
}

int tfc_function_capture(tfc_graph *g, tfc_output *in) {
    tfc_graph *from = in->node->graph, *a = g->parent;
    while (a && a != from) a = a->parent;
    if (!a || !g->capturing) return -1;
    tfc_output outer = *in;
    /* a tensor of a farther ancestor is captured level by level */
    if (g->parent != from && tfc_function_capture(g->parent, &outer) != 0) return -1;
    tfc_function *fn = g->capturing;
    int k = tfc_function_add_capture(fn, outer);
    if (k < 0) return -1;
    *in = fn->params[fn->nargs + k];
    return 0;
}

int tfc_function_align_captures(tfc_function *fn, const tfc_output *caps, int ncaps) {
    tfc_function *saved = fn->graph->capturing;
    fn->graph->capturing = fn;
    for (int i = 0; i < ncaps; i++)
        if (tfc_function_add_capture(fn, caps[i]) < 0) {
            fn->graph->capturing = saved;
            return -1;
        }
    fn->graph->capturing = saved;
    int n = fn->nparams - fn->nargs;
    if (n != ncaps) return tfc_graph_fail(fn->graph, TFC_INTERNAL, "capture lists differ");
    tfc_output *p = malloc(((size_t)n + 1) * sizeof *p);
    if (!p) return tfc_graph_fail(fn->graph, TFC_INTERNAL, "out of memory capturing");
    for (int i = 0; i < n; i++) p[i] = fn->params[fn->nargs + tfc_function_add_capture(fn, caps[i])];
    for (int i = 0; i < n; i++) {
        fn->params[fn->nargs + i] = p[i];
        fn->captures[i] = caps[i];
    }
    free(p);
    return 0;
}

/* Registers fn under `name` (made unique with _N when asked; unique 2:
 * only when the name is taken). */
static int name_function(tfc_graph *g, tfc_function *fn, const char *name, int unique) {
    size_t len = strlen(name) + 24;
    fn->name = malloc(len);
    if (!fn->name) return tfc_graph_fail(g, TFC_INTERNAL, "out of memory naming a function");
    if (unique == 2 && !tfc_function_find(g, name)) {
        snprintf(fn->name, len, "%s", name);
    } else if (!unique) {
        if (tfc_function_find(g, name))
            return tfc_graph_fail(g, TFC_ALREADY_EXISTS, "function '%s' is already defined",
                                  name);
        snprintf(fn->name, len, "%s", name);
    } else {
        tfc_graph *top = g;
        while (top->parent) top = top->parent;
        if (!top->functions && !(top->functions = calloc(1, sizeof *top->functions)))
            return tfc_graph_fail(g, TFC_INTERNAL, "out of memory naming a function");
        do snprintf(fn->name, len, "%s_%d", name, top->functions->counter++);
        while (tfc_function_find(g, fn->name));
    }
    if (lib_add(g, fn)) return tfc_graph_fail(g, TFC_INTERNAL, "out of memory adding a function");
    return 0;
}

tfc_function *tfc_function_build(tfc_graph *g, const char *name, int unique, int nargs,
                                 const tfc_dtype *dtypes, const tfc_shape *shapes, int nout,
                                 tfc_body_fn build, void *user) {
    if (!g || g->error) return NULL;
    if (!build || nargs < 0 || nout < 0 || (nargs && !dtypes)) {
        tfc_graph_fail(g, TFC_INVALID_ARGUMENT, "function '%s': bad arguments", name);
        return NULL;
    }
    tfc_function *fn = calloc(1, sizeof *fn);
    if (fn) fn->graph = tfc_graph_new();
    if (!fn || !fn->graph) {
        free(fn);
        tfc_graph_fail(g, TFC_INTERNAL, "out of memory building function '%s'", name);
        return NULL;
    }
    fn->owns_graph = 1;
    fn->graph->parent = g;
    fn->graph->seed = g->seed;
    fn->graph->has_seed = g->has_seed;
    if (name_function(g, fn, name, unique)) {
        if (fn->owner != g) function_free(fn);
        return NULL;
    }
    /* from here the library owns fn: failures just return NULL */
    tfc_graph *body = fn->graph;
    fn->nout = nout;
    fn->outs = calloc((size_t)nout + 1, sizeof *fn->outs);
    for (int i = 0; i < nargs && fn->outs && !body->error; i++) {
        if (grow_params(fn)) break;
        fn->params[fn->nparams++] = new_param(body, dtypes[i], shapes ? &shapes[i] : NULL);
    }
    fn->nargs = fn->nparams;
    if (!fn->outs || fn->nargs != nargs) {
        if (!body->error) tfc_graph_fail(g, TFC_INTERNAL, "out of memory building '%s'", name);
    } else {
        body->capturing = fn;
        tfc_output *args = malloc(((size_t)nargs + 1) * sizeof *args);
        int rc = -1;
        if (args) {
            if (nargs) memcpy(args, fn->params, (size_t)nargs * sizeof *args);
            rc = build(body, args, nargs, user, fn->outs);
            free(args);
        }
        for (int i = 0; i < nout && rc == 0 && !body->error; i++) {
            if (!fn->outs[i].node) {
                tfc_graph_fail(body, TFC_INVALID_ARGUMENT, "output %d is null", i);
            } else if (fn->outs[i].node->graph != body) {
                /* an outer tensor returned as is: capture it */
                tfc_output o = fn->outs[i];
                if (tfc_function_capture(body, &o))
                    tfc_graph_fail(body, TFC_INVALID_ARGUMENT,
                                   "output %d ('%s') belongs to an unrelated graph", i,
                                   fn->outs[i].node->name);
                fn->outs[i] = o;
            }
        }
        body->capturing = NULL;
        if (rc != 0 && !body->error && !g->error)
            tfc_graph_fail(body, TFC_INVALID_ARGUMENT, "the builder callback failed");
    }
    if (body->error && !g->error)
        tfc_graph_fail(g, tfc_graph_error_code(body), "in function '%s': %s", fn->name,
                       body->error);
    return g->error ? NULL : fn;
}

tfc_function *tfc_function_gradient(tfc_graph *g, tfc_function *fn) {
    if (fn->grad) return fn->grad;
    if (g->error) return NULL;
    tfc_graph *body = fn->graph;
    tfc_function *df = calloc(1, sizeof *df);
    int np = fn->nparams, no = fn->nout;
    if (df) {
        df->graph = body;
        df->params = calloc((size_t)(np + no) + 1, sizeof *df->params);
        df->captures = calloc(1, sizeof *df->captures);
        df->outs = calloc((size_t)np + 1, sizeof *df->outs);
    }
    char *gname = malloc(strlen(fn->name) + 8);
    if (!df || !df->params || !df->captures || !df->outs || !gname) {
        free(gname);
        function_free(df);
        tfc_graph_fail(g, TFC_INTERNAL, "out of memory differentiating '%s'", fn->name);
        return NULL;
    }
    sprintf(gname, "%s_grad", fn->name);
    df->nparams = df->param_cap = df->nargs = np + no;
    df->nout = np;
    memcpy(df->params, fn->params, (size_t)np * sizeof *df->params);
    tfc_output *ys = malloc(((size_t)no + 1) * sizeof *ys);
    tfc_output *seeds = malloc(((size_t)no + 1) * sizeof *seeds);
    int ny = 0;
    for (int i = 0; i < no && ys && seeds; i++) {
        tfc_shape s = tfc_output_shape(fn->outs[i]);
        tfc_dtype dt = tfc_output_dtype(fn->outs[i]);
        df->params[np + i] = new_param(body, dt, &s);
        if (tfc_grad_dtype_ok(dt)) {
            ys[ny] = fn->outs[i];
            seeds[ny++] = df->params[np + i];
        }
    }
    if (ys && seeds && !body->error && ny)
        tfc_gradients(body, ys, ny, fn->params, np, seeds, df->outs);
    for (int i = 0; i < np && !body->error; i++)
        if (!df->outs[i].node) df->outs[i] = tfc_zeros_like(body, fn->params[i]);
    free(ys);
    free(seeds);
    if (body->error || !ys || !seeds) {
        tfc_graph_fail(g, body->error ? tfc_graph_error_code(body) : TFC_INTERNAL,
                       "differentiating function '%s': %s", fn->name,
                       body->error ? body->error : "out of memory");
        free(gname);
        function_free(df);
        return NULL;
    }
    /* unique within the libraries that can see fn */
    tfc_graph *owner = fn->owner;
    if (name_function(owner, df, gname, 1)) {
        free(gname);
        if (df->owner != owner) function_free(df);
        if (!g->error) tfc_graph_fail(g, tfc_graph_error_code(owner), "%s", owner->error);
        return NULL;
    }
    free(gname);
    fn->grad = df;
    return df;
}

tfc_function *tfc_function_new_empty(tfc_graph *g, const char *name, int nargs,
                                     const char *const *arg_names, const tfc_dtype *dtypes,
                                     const tfc_shape *shapes, int nout) {
    if (!g || g->error) return NULL;
    tfc_function *fn = calloc(1, sizeof *fn);
    if (fn) fn->graph = tfc_graph_new();
    if (!fn || !fn->graph) {
        if (fn) free(fn);
        tfc_graph_fail(g, TFC_INTERNAL, "out of memory making function '%s'", name);
        return NULL;
    }
    fn->owns_graph = 1;
    fn->graph->parent = g;
    fn->graph->seed = g->seed;
    fn->graph->has_seed = g->has_seed;
    if (name_function(g, fn, name, 2)) {
        if (fn->owner != g) function_free(fn);
        return NULL;
    }
    fn->nout = nout;
    fn->outs = calloc((size_t)nout + 1, sizeof *fn->outs);
    for (int i = 0; i < nargs && fn->outs && !fn->graph->error; i++) {
        if (grow_params(fn)) break;
        tfc_output p = new_named_param(fn->graph, arg_names ? arg_names[i] : NULL, dtypes[i],
                                       shapes ? &shapes[i] : NULL);
        if (!p.node) break;
        fn->params[fn->nparams++] = p;
    }
    fn->nargs = fn->nparams;
    return fn;
}

int tfc_function_lib_size(const tfc_graph *g) { return g->functions ? g->functions->n : 0; }

void tfc_function_lib_truncate(tfc_graph *g, int n) {
    tfc_function_lib *lib = g->functions;
    if (!lib || n >= lib->n) return;
    for (int i = n; i < lib->n; i++) {
        if (lib->items[i]->owns_graph) continue;
        function_free(lib->items[i]);
        lib->items[i] = NULL;
    }
    for (int i = n; i < lib->n; i++) function_free(lib->items[i]);
    lib->n = n;
    for (int i = 0; i < n; i++) /* a gradient built into a freed slot */
        if (lib->items[i]->grad && lib->items[i]->grad->owner == g) {
            int kept = 0;
            for (int k = 0; k < n && !kept; k++) kept = lib->items[k] == lib->items[i]->grad;
            if (!kept) lib->items[i]->grad = NULL;
        }
}
