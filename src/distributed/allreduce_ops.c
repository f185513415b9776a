/* The collective ops: HorovodAllreduce, HorovodGroupedAllreduce,
 * TfcOrderedAllreduce, HorovodBroadcast and TfcGroupedBroadcast, each with
 * its shape function, kernel and gradient, and their builders.
 *
 * The kernels are asynchronous (TFC_OP_ASYNC): each hands its inputs to
 * the collective engine (collectives.c) and returns; the engine's thread
 * finishes the node. They are stateful so that graph optimizations never
 * fold or merge two of them (two equal allreduces are two collectives on
 * the other ranks too). */
#include <stdlib.h>
#include <string.h>

#include "autodiff/grad_util.h"
#include "distributed/allreduce_internal.h"
#include "distributed/collectives.h"
#include "graph/attrs.h"
#include "graph/graph.h"
#include "graph/op_registry.h"

/* ---- shape functions ---- */

static int reduce_dtype_ok(tfc_dtype dt) {
    return dt == TFC_FLOAT || dt == TFC_DOUBLE || dt == TFC_INT32 || dt == TFC_INT64;
}

/* Outputs i < n have input i's dtype and shape; attrs get their defaults. */
static int reduce_infer(tfc_infer_ctx *c) {
    int ordered = !strcmp(c->op->type, "TfcOrderedAllreduce");
    int64_t k = 1;
    if (ordered) {
        k = tfc_attrs_int(c->attrs, "local_shards", 1);
        if (k < 1 || c->ninputs % k)
            return tfc_infer_error(c, "local_shards is %lld; expected a positive divisor of the "
                                      "%d inputs", (long long)k, c->ninputs);
        tfc_attrs_set_int(c->attrs, "local_shards", TFC_ATTR_INT, k);
    }
    int n = c->ninputs / (int)k;
    tfc_dtype dt = tfc_infer_same_dtype(c, 0, c->ninputs, TFC_INVALID_DTYPE);
    if (dt == TFC_INVALID_DTYPE) return -1;
    if (!reduce_dtype_ok(dt))
        return tfc_infer_error(c, "dtype %s cannot be reduced (expected float32, float64, int32 "
                                  "or int64)", tfc_dtype_name(dt));
    int64_t op = tfc_attrs_int(c->attrs, "reduce_op", TFC_REDUCE_AVERAGE);
    if (op != TFC_REDUCE_AVERAGE && op != TFC_REDUCE_SUM)
        return tfc_infer_error(c, "reduce_op is %lld; tfc has 0 (Average) and 1 (Sum)",
                               (long long)op);
    if (op == TFC_REDUCE_AVERAGE && dt != TFC_FLOAT && dt != TFC_DOUBLE)
        return tfc_infer_error(c, "averaging %s tensors is not supported (use Sum)",
                               tfc_dtype_name(dt));
    tfc_attrs_set_int(c->attrs, "reduce_op", TFC_ATTR_INT, op);
    if (!ordered) {
        if (!tfc_attrs_find(c->attrs, "prescale_factor"))
            tfc_attrs_set_float(c->attrs, "prescale_factor", 1.0);
        if (!tfc_attrs_find(c->attrs, "postscale_factor"))
            tfc_attrs_set_float(c->attrs, "postscale_factor", 1.0);
    }
    tfc_attrs_set_int(c->attrs, "T", TFC_ATTR_TYPE, dt);
    if (strcmp(c->op->type, "HorovodAllreduce")) tfc_attrs_set_int(c->attrs, "N", TFC_ATTR_INT, n);
    if (tfc_infer_set_num_outputs(c, n)) return -1;
    for (int i = 0; i < n; i++) {
        tfc_shape s = tfc_infer_input_shape(c, i);
        for (int j = 1; j < k; j++) {
            tfc_shape o = tfc_infer_input_shape(c, j * n + i);
            if (!tfc_shape_compatible(&s, &o)) {
                char b1[96], b2[96];
                return tfc_infer_error(c, "shard %d's tensor %d has shape %s, shard 0's %s", j, i,
                                       tfc_shape_str(&o, b1, sizeof b1),
                                       tfc_shape_str(&s, b2, sizeof b2));
            }
        }
        tfc_infer_set_output(c, i, dt, s);
    }
    return 0;
}

static int broadcast_infer(tfc_infer_ctx *c) {
    for (int i = 0; i < c->ninputs; i++) {
        tfc_dtype dt = tfc_infer_input_dtype(c, i);
        if (dt == TFC_STRING || dt == TFC_RESOURCE || dt == TFC_INVALID_DTYPE)
            return tfc_infer_error(c, "input %d is %s; broadcast moves numbers and bools only", i,
                                   tfc_dtype_name(dt));
    }
    int64_t root = tfc_attrs_int(c->attrs, "root_rank", 0);
    if (root < 0) return tfc_infer_error(c, "root_rank is %lld", (long long)root);
    tfc_attrs_set_int(c->attrs, "root_rank", TFC_ATTR_INT, root);
    if (c->ninputs == 1) tfc_attrs_set_int(c->attrs, "T", TFC_ATTR_TYPE, tfc_infer_input_dtype(c, 0));
    else tfc_attrs_set_int(c->attrs, "N", TFC_ATTR_INT, c->ninputs);
    if (tfc_infer_set_num_outputs(c, c->ninputs)) return -1;
    for (int i = 0; i < c->ninputs; i++)
        tfc_infer_set_output(c, i, tfc_infer_input_dtype(c, i), tfc_infer_input_shape(c, i));
    return 0;
}

/* ---- kernels ---- */

typedef struct coll_kernel_req {
    tfc_coll_request r;
    tfc_async_done *done;
    int nin;
} coll_kernel_req;

static void req_free(coll_kernel_req *k) {
    for (int i = 0; i < k->nin; i++) tfc_tensor_free(k->r.in[i]);
    for (int i = 0; i < k->r.n; i++) tfc_tensor_free(k->r.out[i]);
    free(k);
}

/* on the engine's thread (or the kernel's, when refused at once) */
static void kernel_done(tfc_coll_request *r) {
    coll_kernel_req *k = (coll_kernel_req *)r;
    if (r->status.code != TFC_OK) {
        tfc_async_done_error(k->done, r->status.code, "%s", r->status.msg);
    } else {
        for (int i = 0; i < r->n; i++) {
            tfc_async_done_set_output(k->done, i, r->out[i]);
            r->out[i] = NULL;
        }
    }
    tfc_async_done *done = k->done;
    req_free(k);
    tfc_async_done_finish(done);
}

static void kernel_cancel(void *arg, tfc_async_done *done, const tfc_status *why) {
    coll_kernel_req *k = arg;
    if (!tfc_coll_cancel(&k->r)) return; /* under way: the engine finishes it */
    tfc_async_done_error(done, why->code ? why->code : TFC_CANCELLED,
                         "collective cancelled before it started: %s", why->msg);
    req_free(k);
    tfc_async_done_finish(done);
}

static void coll_kernel(tfc_kernel_ctx *c) {
    const char *type = c->node->op->type;
    const tfc_attrs *a = &c->node->attrs;
    int nout = c->noutputs;
    coll_kernel_req *k = calloc(1, sizeof *k + (size_t)(c->ninputs + nout) * sizeof(tfc_tensor *));
    if (!k) {
        tfc_kernel_error(c, TFC_RESOURCE_EXHAUSTED, "out of memory");
        return;
    }
    tfc_tensor **slots = (tfc_tensor **)(k + 1);
    k->r.in = slots;
    k->r.out = slots + c->ninputs;
    k->nin = c->ninputs;
    k->r.n = nout;
    k->r.name = c->node->name;
    k->r.type = type;
    for (int i = 0; i < c->ninputs; i++) k->r.in[i] = tfc_tensor_ref(c->inputs[i]);
    if (!strncmp(type, "Horovod", 7) && strstr(type, "Allreduce")) {
        k->r.kind = TFC_COLL_ALLREDUCE;
        k->r.shards = 1;
    } else if (!strcmp(type, "TfcOrderedAllreduce")) {
        k->r.kind = TFC_COLL_ORDERED;
        k->r.shards = (int)tfc_attrs_int(a, "local_shards", 1);
    } else {
        k->r.kind = TFC_COLL_BROADCAST;
        k->r.shards = 1;
        k->r.root = (int)tfc_attrs_int(a, "root_rank", 0);
    }
    k->r.average = tfc_attrs_int(a, "reduce_op", TFC_REDUCE_AVERAGE) == TFC_REDUCE_AVERAGE &&
                   k->r.kind != TFC_COLL_BROADCAST;
    k->r.prescale = tfc_attrs_float(a, "prescale_factor", 1.0);
    k->r.postscale = tfc_attrs_float(a, "postscale_factor", 1.0);
    for (int i = 0; i < nout; i++) {
        const tfc_tensor *t = c->inputs[i];
        k->r.out[i] = tfc_tensor_alloc(t->dtype, t->rank, t->dims);
        if (!k->r.out[i]) {
            req_free(k);
            tfc_kernel_error(c, TFC_RESOURCE_EXHAUSTED, "out of memory for output %d", i);
            return;
        }
    }
    k->r.done = kernel_done;
    k->done = tfc_kernel_defer(c, kernel_cancel, k);
    if (!k->done) {
        req_free(k);
        tfc_kernel_error(c, TFC_CANCELLED, "a collective cannot run here (the run failed, or "
                                           "the graph is being folded)");
        return;
    }
    tfc_coll_submit(&k->r);
}

/* ---- builders (shared with the gradients and the optimizer) ---- */

static int check_reduce_op(tfc_graph *g, tfc_reduce_op op, const char *who) {
    if (op == TFC_REDUCE_AVERAGE || op == TFC_REDUCE_SUM) return 0;
    tfc_graph_fail(g, TFC_INVALID_ARGUMENT, "%s: reduce op %d is not TFC_REDUCE_AVERAGE or "
                   "TFC_REDUCE_SUM", who, (int)op);
    return -1;
}

tfc_node *tfc_ar_node(tfc_graph *g, const char *type, const tfc_output *xs, int nin, int nout,
                      const tfc_ar_attrs *at, tfc_node *after) {
    if (!g || g->error) return NULL;
    tfc_op_desc *d = tfc_op_new(g, type, NULL);
    tfc_op_add_inputs(d, xs, nin);
    if (after) tfc_op_add_control_input(d, after);
    if (!strcmp(type, "HorovodBroadcast") || !strcmp(type, "TfcGroupedBroadcast")) {
        tfc_op_set_attr_int(d, "root_rank", at->root);
    } else {
        tfc_op_set_attr_int(d, "reduce_op", at->op);
        if (!strcmp(type, "TfcOrderedAllreduce"))
            tfc_op_set_attr_int(d, "local_shards", nout ? nin / nout : 1);
        else {
            tfc_op_set_attr_float(d, "prescale_factor", at->prescale);
            tfc_op_set_attr_float(d, "postscale_factor", at->postscale);
        }
    }
    return tfc_op_finish(d);
}

static int null_output(tfc_graph *g, const tfc_output *xs, int n, const char *who) {
    if (!xs) {
        tfc_graph_fail(g, TFC_INVALID_ARGUMENT, "%s: the inputs are null", who);
        return -1;
    }
    for (int i = 0; i < n; i++)
        if (!xs[i].node) {
            tfc_graph_fail(g, TFC_INVALID_ARGUMENT, "%s: input %d is null", who, i);
            return -1;
        }
    return 0;
}

tfc_output tfc_allreduce(tfc_graph *g, tfc_output x, tfc_reduce_op op) {
    tfc_output none = {NULL, 0};
    if (!g || g->error || check_reduce_op(g, op, "allreduce") ||
        null_output(g, &x, 1, "allreduce"))
        return none;
    tfc_ar_attrs at = {op, 1.0, 1.0, 0};
    tfc_node *n = tfc_ar_node(g, "HorovodAllreduce", &x, 1, 1, &at, NULL);
    return n ? tfc_out(n, 0) : none;
}

int tfc_grouped_allreduce(tfc_graph *g, const tfc_output *xs, int n, tfc_reduce_op op,
                          tfc_output *out) {
    if (!g || g->error) return -1;
    if (n < 1 || !out) {
        tfc_graph_fail(g, TFC_INVALID_ARGUMENT, "grouped allreduce: %s",
                       n < 1 ? "no tensors" : "out is null");
        return -1;
    }
    if (check_reduce_op(g, op, "grouped allreduce") || null_output(g, xs, n, "grouped allreduce"))
        return -1;
    tfc_ar_attrs at = {op, 1.0, 1.0, 0};
    tfc_node *node = tfc_ar_node(g, "HorovodGroupedAllreduce", xs, n, n, &at, NULL);
    if (!node) return -1;
    for (int i = 0; i < n; i++) out[i] = tfc_out(node, i);
    return 0;
}

int tfc_ordered_allreduce(tfc_graph *g, const tfc_output *xs, int n, int local_shards,
                          tfc_reduce_op op, tfc_output *out) {
    if (!g || g->error) return -1;
    if (n < 1 || local_shards < 1 || !out) {
        tfc_graph_fail(g, TFC_INVALID_ARGUMENT, "ordered allreduce: %s",
                       !out ? "out is null" : n < 1 ? "no tensors" : "local_shards < 1");
        return -1;
    }
    if (check_reduce_op(g, op, "ordered allreduce") ||
        null_output(g, xs, n * local_shards, "ordered allreduce"))
        return -1;
    tfc_ar_attrs at = {op, 1.0, 1.0, 0};
    tfc_node *node = tfc_ar_node(g, "TfcOrderedAllreduce", xs, n * local_shards, n, &at, NULL);
    if (!node) return -1;
    for (int i = 0; i < n; i++) out[i] = tfc_out(node, i);
    return 0;
}

tfc_output tfc_broadcast(tfc_graph *g, tfc_output x, int root_rank) {
    tfc_output none = {NULL, 0};
    if (!g || g->error || null_output(g, &x, 1, "broadcast")) return none;
    tfc_ar_attrs at = {0, 1.0, 1.0, root_rank};
    tfc_node *n = tfc_ar_node(g, "HorovodBroadcast", &x, 1, 1, &at, NULL);
    return n ? tfc_out(n, 0) : none;
}

int tfc_ar_reduce_by_dtype(tfc_graph *g, const tfc_output *xs, int n, tfc_reduce_op op,
                           int deterministic, tfc_output *out, tfc_node **last) {
    /* one collective per dtype, in order of first appearance, chained */
    tfc_output *group = malloc((size_t)n * sizeof *group);
    int *idx = malloc((size_t)n * sizeof *idx);
    char *done = calloc((size_t)n, 1);
    tfc_node *prev = last ? *last : NULL;
    int rc = group && idx && done ? 0 : -1;
    if (rc) tfc_graph_fail(g, TFC_RESOURCE_EXHAUSTED, "out of memory grouping gradients");
    for (int i = 0; i < n && !rc; i++) {
        if (done[i]) continue;
        tfc_dtype dt = tfc_output_dtype(xs[i]);
        int m = 0;
        for (int j = i; j < n; j++)
            if (!done[j] && tfc_output_dtype(xs[j]) == dt) {
                done[j] = 1;
                idx[m] = j;
                group[m++] = xs[j];
            }
        tfc_ar_attrs at = {op, 1.0, 1.0, 0};
        tfc_node *node = tfc_ar_node(g, deterministic ? "TfcOrderedAllreduce"
                                                      : "HorovodGroupedAllreduce",
                                     group, m, m, &at, prev);
        if (!node) {
            rc = -1;
            break;
        }
        for (int j = 0; j < m; j++) out[idx[j]] = tfc_out(node, j);
        prev = node;
    }
    if (last) *last = prev;
    free(group);
    free(idx);
    free(done);
    return rc;
}

tfc_node *tfc_broadcast_global_variables(tfc_graph *g, int root_rank) {
    if (!g || g->error) return NULL;
    int n = tfc_graph_collection_size(g, TFC_GLOBAL_VARIABLES);
    tfc_output *vars = malloc(((size_t)n + 1) * sizeof *vars);
    tfc_node **assigns = malloc(((size_t)n + 1) * sizeof *assigns);
    if (!vars || !assigns) {
        free(vars);
        free(assigns);
        tfc_graph_fail(g, TFC_RESOURCE_EXHAUSTED, "out of memory broadcasting variables");
        return NULL;
    }
    int m = 0;
    tfc_node **handles = calloc((size_t)n + 1, sizeof *handles);
    if (!handles) {
        free(vars);
        free(assigns);
        tfc_graph_fail(g, TFC_RESOURCE_EXHAUSTED, "out of memory broadcasting variables");
        return NULL;
    }
    tfc_name_scope_push(g, "broadcast_global_variables");
    for (int i = 0; i < n; i++) {
        tfc_node *v = tfc_graph_collection_get(g, TFC_GLOBAL_VARIABLES, i);
        tfc_dtype dt = v && v->noutputs ? v->out_dtypes[0] : TFC_INVALID_DTYPE;
        if (v && dt == TFC_RESOURCE && !strcmp(v->op->type, "VarHandleOp")) {
            /* a resource variable: read its value, assign the root's */
            dt = tfc_attrs_type(&v->attrs, "dtype", TFC_INVALID_DTYPE);
            if (dt != TFC_STRING && dt != TFC_RESOURCE && dt != TFC_INVALID_DTYPE) {
                handles[m] = v;
                vars[m++] = tfc_read_variable_op(g, tfc_out(v, 0), dt);
                continue;
            }
        }
        if (dt == TFC_STRING || dt == TFC_RESOURCE || dt == TFC_INVALID_DTYPE) {
            tfc_graph_fail(g, TFC_INVALID_ARGUMENT,
                           "broadcast_global_variables: variable '%s' holds %s; broadcast moves "
                           "numbers and bools only", v ? v->name : "?", tfc_dtype_name(dt));
            tfc_name_scope_pop(g);
            free(vars);
            free(assigns);
            free(handles);
            return NULL;
        }
        vars[m++] = tfc_out(v, 0);
    }
    tfc_node *result = NULL;
    if (m > 0 && !g->error) {
        tfc_ar_attrs at = {0, 1.0, 1.0, root_rank};
        tfc_node *b = tfc_ar_node(g, "TfcGroupedBroadcast", vars, m, m, &at, NULL);
        for (int i = 0; b && i < m && !g->error; i++)
            assigns[i] = handles[i] ? tfc_assign_variable_op(g, tfc_out(handles[i], 0),
                                                             tfc_out(b, i))
                                    : tfc_assign(g, vars[i], tfc_out(b, i)).node;
    }
    tfc_name_scope_pop(g);
    if (!g->error) {
        tfc_with_name(g, "broadcast_global_variables");
        result = tfc_group(g, assigns, g->error ? 0 : m);
    }
    free(vars);
    free(assigns);
    free(handles);
    return result;
}

/* ---- gradients ---- */

/* The gradients dy, zeros where none flows (every rank must still take
 * part in the collective). */
static tfc_output *dense_dy(tfc_graph *g, tfc_node *op, const tfc_output *dy, int n) {
    tfc_output *d = malloc((size_t)n * sizeof *d);
    if (!d) {
        tfc_graph_fail(g, TFC_RESOURCE_EXHAUSTED, "out of memory");
        return NULL;
    }
    for (int i = 0; i < n; i++) d[i] = dy[i].node ? dy[i] : tfc_grad_zeros_like(g, tfc_out(op, i));
    return d;
}

/* y = post * reduce(pre * x): dL/dx = post * reduce(pre * dy), the same op */
static int allreduce_grad(tfc_graph *g, tfc_node *op, const tfc_output *dy, tfc_output *dx) {
    int n = op->noutputs;
    tfc_output *d = dense_dy(g, op, dy, n);
    if (!d) return -1;
    tfc_ar_attrs at = {(tfc_reduce_op)tfc_attrs_int(&op->attrs, "reduce_op", 0),
                       tfc_attrs_float(&op->attrs, "prescale_factor", 1.0),
                       tfc_attrs_float(&op->attrs, "postscale_factor", 1.0), 0};
    tfc_node *node = tfc_ar_node(g, op->op->type, d, n, n, &at, NULL);
    free(d);
    if (!node) return -1;
    for (int i = 0; i < n; i++) dx[i] = tfc_out(node, i);
    return 0;
}

/* out_i = sum over the S shards of x_{s,i} (/ S): every shard's input gets
 * the sum over ranks of dy_i (/ S), summed in rank order too */
static int ordered_grad(tfc_graph *g, tfc_node *op, const tfc_output *dy, tfc_output *dx) {
    int n = op->noutputs, k = (int)tfc_attrs_int(&op->attrs, "local_shards", 1);
    int avg = tfc_attrs_int(&op->attrs, "reduce_op", 0) == TFC_REDUCE_AVERAGE;
    int ranks = tfc_mpi_size();
    if (avg && ranks < 1)
        return tfc_graph_fail(g, TFC_FAILED_PRECONDITION, "the gradient of '%s' needs the "
                              "number of ranks: call tfc_mpi_init first", op->name);
    tfc_output *d = dense_dy(g, op, dy, n);
    if (!d) return -1;
    tfc_ar_attrs at = {TFC_REDUCE_SUM, 1.0, 1.0, 0};
    tfc_node *node = tfc_ar_node(g, "TfcOrderedAllreduce", d, n, n, &at, NULL);
    free(d);
    if (!node) return -1;
    for (int i = 0; i < n; i++) {
        tfc_output gi = tfc_out(node, i);
        if (avg) gi = tfc_div(g, gi, tfc_grad_scalar(g, tfc_output_dtype(gi), (double)k * ranks));
        for (int j = 0; j < k; j++) dx[j * n + i] = gi;
    }
    return g->error ? -1 : 0;
}

/* Horovod's: the sum of the gradients over ranks on the root, zeros
 * elsewhere; float inputs only (the others get none) */
static int broadcast_grad(tfc_graph *g, tfc_node *op, const tfc_output *dy, tfc_output *dx) {
    int n = op->noutputs, m = 0, root = (int)tfc_attrs_int(&op->attrs, "root_rank", 0);
    tfc_output *d = dense_dy(g, op, dy, n);
    tfc_output *sums = calloc((size_t)n, sizeof *sums);
    int *idx = malloc((size_t)n * sizeof *idx);
    if (!d || !sums || !idx) {
        free(d);
        free(sums);
        free(idx);
        return tfc_graph_fail(g, TFC_RESOURCE_EXHAUSTED, "out of memory");
    }
    for (int i = 0; i < n; i++) {
        tfc_dtype dt = tfc_output_dtype(tfc_out(op, i));
        if (dt == TFC_FLOAT || dt == TFC_DOUBLE) {
            idx[m] = i;
            d[m++] = d[i];
        }
    }
    int rc = 0;
    if (m > 0) rc = tfc_ar_reduce_by_dtype(g, d, m, TFC_REDUCE_SUM, 0, sums, NULL);
    for (int j = 0; j < m && !rc; j++)
        dx[idx[j]] = tfc_mpi_rank() == root ? sums[j] : tfc_grad_zeros_like(g, sums[j]);
    free(d);
    free(sums);
    free(idx);
    return rc || g->error ? -1 : 0;
}

#define COLL (TFC_OP_STATEFUL | TFC_OP_ASYNC)

const tfc_op_def tfc_ops_allreduce[] = {
    {"HorovodAllreduce", 1, 1, 1, COLL, 0, reduce_infer, coll_kernel, allreduce_grad},
    {"HorovodGroupedAllreduce", 1, -1, 1, COLL, 0, reduce_infer, coll_kernel, allreduce_grad},
    {"TfcOrderedAllreduce", 1, -1, 1, COLL, 0, reduce_infer, coll_kernel, ordered_grad},
    {"HorovodBroadcast", 1, 1, 1, COLL, 0, broadcast_infer, coll_kernel, broadcast_grad},
    {"TfcGroupedBroadcast", 1, -1, 1, COLL, 0, broadcast_infer, coll_kernel, broadcast_grad},
    {NULL, 0, 0, 0, 0, 0, NULL, NULL, NULL},
};
