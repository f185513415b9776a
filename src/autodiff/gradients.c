/* tfc_gradients: reverse-mode differentiation by adding backward nodes.
 *
 * Only the nodes on a path from an x to a y matter. Node ids are a
 * topological order, so walking those nodes from the highest id down visits
 * every consumer before its producer: by then all the gradient contributions
 * to a node's outputs are known, are summed (AddN) and handed to the op's
 * gradient builder, which adds nodes computing its input gradients. Sparse
 * contributions (tfc_grad_sparse) are concatenated instead, staying sparse. */
#include "autodiff/grad_util.h"

#include <stdlib.h>
#include <string.h>

typedef struct contrib_list {
    int n, cap;
    tfc_output *items;
} contrib_list;

typedef struct grad_state {
    tfc_graph *g;
    int nnodes;
    char *between;         /* on a path from an x to a y */
    int *out_base;         /* index of a node's first output in contribs */
    contrib_list *contribs; /* gradient contributions per (node, output) */
} grad_state;

static int add_contrib(grad_state *s, tfc_output o, tfc_output grad) {
    contrib_list *l = &s->contribs[s->out_base[o.node->id] + o.index];
    if (l->n == l->cap) {
        int cap = l->cap ? l->cap * 2 : 2;
        tfc_output *v = realloc(l->items, (size_t)cap * sizeof *v);
        if (!v) return tfc_graph_fail(s->g, TFC_INTERNAL, "out of memory in gradients");
        l->items = v;
        l->cap = cap;
    }
    l->items[l->n++] = grad;
    return 0;
}

/* Several sparse contributions stay sparse: their rows and indices are
 * concatenated (as TensorFlow aggregates IndexedSlices). Null output when
 * some contribution is dense or the index types differ. */
static tfc_output concat_sparse(grad_state *s, const contrib_list *l) {
    tfc_output none = {NULL, 0};
    tfc_output *idx = malloc((size_t)l->n * 2 * sizeof *idx);
    if (!idx) return none;
    tfc_output *val = idx + l->n;
    int ok = 1;
    for (int i = 0; i < l->n && ok; i++) {
        ok = tfc_gradient_sparse_parts(l->items[i], &idx[i], &val[i]) &&
             tfc_output_dtype(idx[i]) == tfc_output_dtype(idx[0]);
    }
    tfc_output r = none;
    if (ok) {
        tfc_output num = l->items[0].node->inputs[2];
        r = tfc_grad_sparse(s->g, tfc_concat(s->g, val, l->n, 0), tfc_concat(s->g, idx, l->n, 0),
                            num);
    }
    free(idx);
    return r;
}

/* Many contributions a_i^T b_i (MatMul with transpose_a), as a weight
 * shared across the time steps of an RNN gets, are summed by one product
 * concat(a_i)^T concat(b_i): one well-shaped GEMM instead of many with a
 * short inner dimension plus an AddN over full weight-sized tensors. The
 * per-item MatMuls stay in the graph, unused. Null output when the items
 * are not all such products of one dtype and inner shape. */
static tfc_output fuse_transposed_matmuls(grad_state *s, const contrib_list *l) {
    tfc_output none = {NULL, 0};
    if (l->n < TFC_SHARED_WEIGHT_MIN_PRODUCTS) return none;
    tfc_shape first = {0};
    for (int i = 0; i < l->n; i++) {
        tfc_node *m = l->items[i].node;
        if (strcmp(tfc_node_type(m), "MatMul") != 0 ||
            tfc_node_attr_int(m, "transpose_a", 0) != 1 ||
            tfc_node_attr_int(m, "transpose_b", 0) != 0)
            return none;
        tfc_dtype dt = tfc_output_dtype(m->inputs[0]);
        if (dt != TFC_FLOAT && dt != TFC_DOUBLE) return none;
        tfc_shape a = tfc_output_shape(m->inputs[0]), b = tfc_output_shape(m->inputs[1]);
        if (a.rank != 2 || b.rank != 2 || a.dims[1] < 0 || b.dims[1] < 0) return none;
        if (i == 0) {
            first = tfc_output_shape(l->items[0]);
            if (tfc_output_dtype(m->inputs[1]) != dt) return none;
        } else if (dt != tfc_output_dtype(l->items[0].node->inputs[0]) ||
                   a.dims[1] != first.dims[0] || b.dims[1] != first.dims[1]) {
            return none;
        }
    }
    tfc_output *parts = malloc((size_t)l->n * 2 * sizeof *parts);
    if (!parts) return none;
    for (int i = 0; i < l->n; i++) {
        parts[i] = l->items[i].node->inputs[0];
        parts[l->n + i] = l->items[i].node->inputs[1];
    }
    tfc_output r = tfc_matmul_ex(s->g, tfc_concat(s->g, parts, l->n, 0),
                                 tfc_concat(s->g, parts + l->n, l->n, 0), 1, 0);
    free(parts);
    return r;
}

/* The summed gradient of output (node, index), or a null output. */
static tfc_output total_grad(grad_state *s, tfc_node *n, int index) {
    contrib_list *l = &s->contribs[s->out_base[n->id] + index];
    if (l->n == 0) return (tfc_output){NULL, 0};
    if (l->n == 1) return l->items[0];
    tfc_output sparse = concat_sparse(s, l);
    if (sparse.node) return sparse;
    tfc_output fused = fuse_transposed_matmuls(s, l);
    if (fused.node) return fused;
    return tfc_add_n(s->g, l->items, l->n);
}

static void state_free(grad_state *s) {
    if (s->contribs) {
        int total = s->out_base[s->nnodes];
        for (int i = 0; i < total; i++) free(s->contribs[i].items);
    }
    free(s->contribs);
    free(s->out_base);
    free(s->between);
}

/* Marks the nodes that lie on a data path from an x to a y. */
static int mark_between(grad_state *s, const tfc_output *ys, int ny, const tfc_output *xs,
                        int nx) {
    tfc_graph *g = s->g;
    int n = s->nnodes;
    char *from_x = calloc((size_t)n + 1, 1);
    tfc_node **stack = malloc(((size_t)n + 1) * sizeof *stack);
    if (!from_x || !stack) {
        free(from_x);
        free(stack);
        return tfc_graph_fail(g, TFC_INTERNAL, "out of memory in gradients");
    }
    /* forward: ids ascend along edges, so one pass in id order suffices */
    for (int i = 0; i < nx; i++) from_x[xs[i].node->id] = 1;
    for (int id = 0; id < n; id++) {
        tfc_node *node = g->nodes[id];
        if (from_x[id]) continue;
        for (int i = 0; i < node->ninputs; i++)
            if (from_x[node->inputs[i].node->id]) {
                from_x[id] = 1;
                break;
            }
    }
    /* backward from the ys, staying inside from_x */
    int sp = 0;
    for (int i = 0; i < ny; i++) {
        int id = ys[i].node->id;
        if (from_x[id] && !s->between[id]) {
            s->between[id] = 1;
            stack[sp++] = ys[i].node;
        }
    }
    while (sp) {
        tfc_node *node = stack[--sp];
        for (int i = 0; i < node->ninputs; i++) {
            tfc_node *in = node->inputs[i].node;
            if (from_x[in->id] && !s->between[in->id]) {
                s->between[in->id] = 1;
                stack[sp++] = in;
            }
        }
    }
    free(from_x);
    free(stack);
    return 0;
}

/* Runs the gradient builder of `node` given its summed output gradients. */
static int backprop_node(grad_state *s, tfc_node *node) {
    tfc_graph *g = s->g;
    int any = 0;
    tfc_output *dy = calloc((size_t)node->noutputs + 1, sizeof *dy);
    tfc_output *dx = calloc((size_t)node->ninputs + 1, sizeof *dx);
    if (!dy || !dx) {
        free(dy);
        free(dx);
        return tfc_graph_fail(g, TFC_INTERNAL, "out of memory in gradients");
    }
    size_t len = strlen(node->name) + 8;
    char *scope = malloc(len);
    if (scope) {
        strcpy(scope, node->name);
        strcat(scope, "_grad");
        tfc_name_scope_push(g, scope);
        free(scope);
    }
    for (int i = 0; i < node->noutputs; i++) {
        dy[i] = total_grad(s, node, i);
        if (dy[i].node) any = 1;
    }
    int rc = 0;
    if (any && !(node->op->flags & TFC_OP_NO_GRADIENT)) {
        if (!node->op->grad) {
            rc = tfc_graph_fail(g, TFC_UNIMPLEMENTED,
                                "No gradient defined for operation '%s' (op type: %s)",
                                node->name, node->op->type);
        } else if (node->op->grad(g, node, dy, dx) != 0 || g->error) {
            if (!g->error)
                tfc_graph_fail(g, TFC_INTERNAL, "gradient of '%s' (%s) failed", node->name,
                               node->op->type);
            rc = -1;
        } else {
            for (int i = 0; i < node->ninputs && rc == 0; i++) {
                tfc_output in = node->inputs[i];
                if (!dx[i].node || !s->between[in.node->id]) continue;
                /* a resource handle collects its variable's gradient (ReadVariableOp's) */
                if (!tfc_grad_dtype_ok(tfc_output_dtype(in)) &&
                    tfc_output_dtype(in) != TFC_RESOURCE)
                    continue;
                rc = add_contrib(s, in, dx[i]);
            }
        }
    }
    if (scope) tfc_name_scope_pop(g);
    free(dy);
    free(dx);
    return rc;
}

int tfc_gradients(tfc_graph *g, const tfc_output *ys, int ny, const tfc_output *xs, int nx,
                  const tfc_output *grad_ys, tfc_output *grads) {
    if (!g || g->error) return -1;
    for (int i = 0; i < nx; i++) grads[i] = (tfc_output){NULL, 0};
    for (int i = 0; i < ny; i++)
        if (!ys[i].node || ys[i].node->graph != g)
            return tfc_graph_fail(g, TFC_INVALID_ARGUMENT, "tfc_gradients: y %d is null or from another graph", i);
    for (int i = 0; i < nx; i++)
        if (!xs[i].node || xs[i].node->graph != g)
            return tfc_graph_fail(g, TFC_INVALID_ARGUMENT, "tfc_gradients: x %d is null or from another graph", i);
    grad_state s = {0};
    s.g = g;
    s.nnodes = g->nnodes;
    s.between = calloc((size_t)s.nnodes + 1, 1);
    s.out_base = malloc(((size_t)s.nnodes + 1) * sizeof *s.out_base);
    if (!s.between || !s.out_base) {
        state_free(&s);
        return tfc_graph_fail(g, TFC_INTERNAL, "out of memory in gradients");
    }
    int total = 0;
    for (int i = 0; i < s.nnodes; i++) {
        s.out_base[i] = total;
        total += g->nodes[i]->noutputs;
    }
    s.out_base[s.nnodes] = total;
    s.contribs = calloc((size_t)total + 1, sizeof *s.contribs);
    if (!s.contribs || mark_between(&s, ys, ny, xs, nx)) {
        state_free(&s);
        return tfc_graph_fail(g, TFC_INTERNAL, "out of memory in gradients");
    }
    int nnodes = s.nnodes; /* nodes added from here on are backward nodes */
    tfc_name_scope_push(g, "gradients");
    int rc = 0;
    for (int i = 0; i < ny && rc == 0; i++) {
        if (!s.between[ys[i].node->id]) continue;
        tfc_output seed = grad_ys && grad_ys[i].node ? grad_ys[i] : tfc_ones_like(g, ys[i]);
        if (!seed.node) rc = -1;
        else rc = add_contrib(&s, ys[i], seed);
    }
    for (int id = nnodes - 1; id >= 0 && rc == 0; id--) {
        if (!s.between[id]) continue;
        tfc_node *node = g->nodes[id];
        if (node->ninputs == 0) continue; /* a source: nothing to pass on */
        rc = backprop_node(&s, node);
    }
    for (int i = 0; i < nx && rc == 0; i++) {
        if (!s.between[xs[i].node->id]) continue;
        grads[i] = total_grad(&s, xs[i].node, xs[i].index);
    }
    tfc_name_scope_pop(g);
    state_free(&s);
    if (g->error) {
        for (int i = 0; i < nx; i++) grads[i] = (tfc_output){NULL, 0};
        return -1;
    }
    return rc;
}
