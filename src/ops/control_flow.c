/* Functional control flow: If, While, PartitionedCall, and WhileGrad (the
 * backward loop of While). Branches and bodies are functions (graph/
 * function.h) named by attrs; a kernel runs them through sub-sessions kept in
 * the node's per-session state, so the executor knows nothing of them. */
#include "autodiff/grad_util.h"
#include "core/clock.h"
#include "graph/function.h"
#include "graph/op_registry.h"
#include "ops/while_pipelined.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct cf_data {
    tfc_function *fn[2]; /* If: then, else; While: cond, body; others: fn[0] */
    int nvars;           /* While, WhileGrad: loop variables */
    int history;         /* While: also output each variable's per-iteration values */
} cf_data;

/* ---- sub-sessions: one per (outer session, node, function) ---- */

typedef struct sub_sessions {
    tfc_session *s[2];
} sub_sessions;

static void sub_sessions_free(void *p) {
    sub_sessions *r = p;
    if (!r) return;
    for (int i = 0; i < 2; i++) tfc_session_free(r->s[i]);
    free(r);
}

static tfc_session *sub_session(tfc_kernel_ctx *c, int slot, const tfc_function *fn,
                                tfc_status *st) {
    tfc_node_state *ns = c->state;
    pthread_mutex_lock(&ns->lock);
    sub_sessions *r = ns->resource;
    if (!r && (r = calloc(1, sizeof *r))) {
        ns->resource = r;
        ns->free_resource = sub_sessions_free;
    }
    if (r && !r->s[slot]) {
        /* the outer session's threads and options; without one (plan-time
         * folding never runs stateful ops, but be safe) a plain session */
        if (c->session) {
            uint64_t salt = 1469598103934665603ull; /* FNV-1a of the function's name */
            for (const char *q = fn->name; q && *q; q++)
                salt = (salt ^ (unsigned char)*q) * 1099511628211ull;
            r->s[slot] = tfc_session_new_child(c->session, fn->graph, salt, st);
        } else {
            tfc_session_options opts = {.intra_op_threads = 1, .inter_op_threads = 1};
            r->s[slot] = tfc_session_new(fn->graph, &opts, st);
        }
    }
    tfc_session *s = r ? r->s[slot] : NULL;
    pthread_mutex_unlock(&ns->lock);
    if (!s)
        tfc_kernel_error(c, TFC_INTERNAL, "cannot start a session for function '%s': %s",
                         fn->name, tfc_status_message(st));
    return s;
}

/* Runs fn on `args` (one per param); `outs` gets fn->nout new references. */
static int run_fn(tfc_kernel_ctx *c, int slot, const tfc_function *fn, tfc_tensor *const *args,
                  tfc_tensor **outs, tfc_status *st) {
    tfc_session *s = sub_session(c, slot, fn, st);
    if (!s) return -1;
    tfc_session_run(s, fn->params, args, fn->nparams, fn->outs, fn->nout, outs, NULL, 0, st);
    if (tfc_status_code(st) != TFC_OK) {
        tfc_kernel_error(c, tfc_status_code(st), "in function '%s': %s", fn->name,
                         tfc_status_message(st));
        return -1;
    }
    return 0;
}

static tfc_function *attr_fn(tfc_infer_ctx *c, const char *attr) {
    const char *name = tfc_attrs_string(c->attrs, attr);
    tfc_function *fn = tfc_function_find(c->graph, name);
    if (!fn) tfc_infer_error(c, "attr '%s': no function named '%s'", attr, name ? name : "");
    return fn;
}

/* Inputs [first, first + fn->nparams) must match fn's params. */
static int check_params(tfc_infer_ctx *c, const tfc_function *fn, int first) {
    if (c->ninputs - first != fn->nparams)
        return tfc_infer_error(c, "function '%s' takes %d inputs, got %d", fn->name,
                               fn->nparams, c->ninputs - first);
    for (int i = 0; i < fn->nparams; i++) {
        tfc_dtype want = tfc_output_dtype(fn->params[i]);
        tfc_shape ws = tfc_output_shape(fn->params[i]), hs = tfc_infer_input_shape(c, first + i);
        if (tfc_infer_input_dtype(c, first + i) != want)
            return tfc_infer_error(c, "input %d of function '%s' must be %s, got %s", i,
                                   fn->name, tfc_dtype_name(want),
                                   tfc_dtype_name(tfc_infer_input_dtype(c, first + i)));
        if (!tfc_shape_compatible(&ws, &hs)) {
            char a[96], b[96];
            return tfc_infer_error(c, "input %d of function '%s' must have shape %s, got %s", i,
                                   fn->name, tfc_shape_str(&ws, a, sizeof a),
                                   tfc_shape_str(&hs, b, sizeof b));
        }
    }
    return 0;
}

static cf_data *new_data(tfc_infer_ctx *c) {
    cf_data *d = calloc(1, sizeof *d);
    if (!d) tfc_infer_error(c, "out of memory");
    c->op_data = d;
    return d;
}

/* The most specific shape both a and b fit. */
static tfc_shape shape_merge(tfc_shape a, tfc_shape b) {
    if (a.rank != b.rank) return tfc_shape_unknown();
    for (int i = 0; i < a.rank; i++)
        if (a.dims[i] != b.dims[i]) a.dims[i] = -1;
    return a;
}

/* ---- If(cond, params...) -> outputs of then_branch or else_branch ---- */

static int if_infer(tfc_infer_ctx *c) {
    tfc_function *t = attr_fn(c, "then_branch"), *e = t ? attr_fn(c, "else_branch") : NULL;
    if (!t || !e) return -1;
    tfc_shape ps = tfc_infer_input_shape(c, 0);
    if (ps.rank > 0) {
        char a[96];
        return tfc_infer_error(c, "the predicate must be a scalar, got shape %s",
                               tfc_shape_str(&ps, a, sizeof a));
    }
    if (check_params(c, t, 1) || check_params(c, e, 1)) return -1;
    if (t->nout != e->nout)
        return tfc_infer_error(c, "the branches have %d and %d outputs", t->nout, e->nout);
    if (tfc_infer_set_num_outputs(c, t->nout)) return -1;
    for (int i = 0; i < t->nout; i++) {
        tfc_dtype a = tfc_output_dtype(t->outs[i]), b = tfc_output_dtype(e->outs[i]);
        if (a != b)
            return tfc_infer_error(c, "output %d is %s in the true branch but %s in the false "
                                      "branch", i, tfc_dtype_name(a), tfc_dtype_name(b));
        tfc_infer_set_output(c, i, a,
                             shape_merge(tfc_output_shape(t->outs[i]), tfc_output_shape(e->outs[i])));
    }
    tfc_attrs_set_int(c->attrs, "Tcond", TFC_ATTR_TYPE, tfc_infer_input_dtype(c, 0));
    cf_data *d = new_data(c);
    if (!d) return -1;
    d->fn[0] = t;
    d->fn[1] = e;
    return 0;
}

static void if_kernel(tfc_kernel_ctx *c) {
    const cf_data *d = c->node->op_data;
    tfc_tensor *p = c->inputs[0];
    if (p->nelem != 1 || p->rank != 0) {
        tfc_kernel_error(c, TFC_INVALID_ARGUMENT, "the predicate must be a scalar, got rank %d",
                         p->rank);
        return;
    }
    int taken = tfc_tensor_get_double(p, 0) != 0 ? 0 : 1;
    const tfc_function *fn = d->fn[taken];
    tfc_tensor **outs = calloc((size_t)fn->nout + 1, sizeof *outs);
    tfc_status *st = tfc_status_new();
    if (!outs || !st) {
        tfc_kernel_error(c, TFC_INTERNAL, "out of memory");
    } else if (run_fn(c, taken, fn, c->inputs + 1, outs, st) == 0) {
        for (int i = 0; i < fn->nout; i++) tfc_kernel_set_output(c, i, outs[i]);
    }
    tfc_status_free(st);
    free(outs);
}

/* The output gradient dy[i], or zeros when none flows in. */
static tfc_output dy_or_zeros(tfc_graph *g, tfc_node *op, const tfc_output *dy, int i) {
    return dy[i].node ? dy[i] : tfc_grad_zeros_like(g, tfc_out(op, i));
}

/* Adds `type` with the given function attrs and inputs (op's own inputs from
 * `from` on, then the output gradients). */
static tfc_node *grad_node(tfc_graph *g, tfc_node *op, const char *type, const char *const *attrs,
                           tfc_function *const *fns, int nfns, int from, const tfc_output *dy,
                           int ndy) {
    tfc_op_desc *d = tfc_op_new(g, type, NULL);
    for (int i = 0; i < nfns; i++) tfc_op_set_attr_string(d, attrs[i], fns[i]->name);
    for (int i = from; i < op->ninputs; i++) tfc_op_add_input(d, op->inputs[i]);
    for (int i = 0; i < ndy; i++) tfc_op_add_input(d, dy_or_zeros(g, op, dy, i));
    return tfc_op_finish(d);
}

static int if_grad(tfc_graph *g, tfc_node *op, const tfc_output *dy, tfc_output *dx) {
    const cf_data *d = op->op_data;
    tfc_function *df[2];
    for (int i = 0; i < 2; i++)
        if (!(df[i] = tfc_function_gradient(g, d->fn[i]))) return -1;
    tfc_op_desc *desc = tfc_op_new(g, "If", NULL);
    tfc_op_set_attr_string(desc, "then_branch", df[0]->name);
    tfc_op_set_attr_string(desc, "else_branch", df[1]->name);
    tfc_op_add_inputs(desc, op->inputs, op->ninputs);
    for (int i = 0; i < op->noutputs; i++) tfc_op_add_input(desc, dy_or_zeros(g, op, dy, i));
    tfc_node *n = tfc_op_finish(desc);
    if (!n) return -1;
    for (int i = 1; i < op->ninputs; i++)
        if (tfc_grad_dtype_ok(tfc_output_dtype(op->inputs[i]))) dx[i] = tfc_out(n, i - 1);
    return 0;
}

/* ---- While(vars..., captures...) -> final vars [, per-iteration vars] ---- */

static int while_infer(tfc_infer_ctx *c) {
    tfc_function *cf = attr_fn(c, "cond"), *bf = cf ? attr_fn(c, "body") : NULL;
    if (!cf || !bf) return -1;
    if (check_params(c, cf, 0) || check_params(c, bf, 0)) return -1;
    if (cf->nout != 1 || tfc_output_dtype(cf->outs[0]) != TFC_BOOL)
        return tfc_infer_error(c, "the loop condition '%s' must have one bool output", cf->name);
    tfc_shape cs = tfc_output_shape(cf->outs[0]);
    if (cs.rank > 0) return tfc_infer_error(c, "the loop condition must be a scalar");
    int nvars = bf->nout;
    if (nvars < 1 || nvars > bf->nparams)
        return tfc_infer_error(c, "the loop body '%s' has %d outputs for %d inputs", bf->name,
                               nvars, bf->nparams);
    int history = (int)tfc_attrs_int(c->attrs, "output_history", 0);
    if (tfc_infer_set_num_outputs(c, history ? 2 * nvars : nvars)) return -1;
    for (int i = 0; i < nvars; i++) {
        tfc_dtype dt = tfc_output_dtype(bf->params[i]);
        tfc_shape inv = tfc_output_shape(bf->params[i]), out = tfc_output_shape(bf->outs[i]);
        if (tfc_output_dtype(bf->outs[i]) != dt)
            return tfc_infer_error(c, "loop variable %d ('%s') enters as %s but the body "
                                      "returns %s", i, c->inputs[i].node->name,
                                   tfc_dtype_name(dt), tfc_dtype_name(tfc_output_dtype(bf->outs[i])));
        if (!tfc_shape_compatible(&inv, &out)) {
            char a[96], b[96];
            return tfc_infer_error(c, "loop variable %d ('%s') has shape invariant %s but the "
                                      "body returns shape %s", i, c->inputs[i].node->name,
                                   tfc_shape_str(&inv, a, sizeof a), tfc_shape_str(&out, b, sizeof b));
        }
        tfc_infer_set_output(c, i, dt, inv);
        if (history) {
            tfc_shape h = tfc_shape_unknown();
            if (inv.rank >= 0 && inv.rank < TFC_MAX_RANK) {
                h.rank = inv.rank + 1;
                h.dims[0] = -1;
                memcpy(h.dims + 1, inv.dims, (size_t)inv.rank * sizeof *h.dims);
            }
            tfc_infer_set_output(c, nvars + i, dt, h);
        }
    }
    cf_data *d = new_data(c);
    if (!d) return -1;
    d->fn[0] = cf;
    d->fn[1] = bf;
    d->nvars = nvars;
    d->history = history;
    return 0;
}

/* Per-iteration values of one loop variable, stacked at the end. */
typedef struct hist_list {
    int n, cap;
    tfc_tensor **items;
} hist_list;

static int hist_push(hist_list *h, tfc_tensor *t) {
    if (h->n == h->cap) {
        int cap = h->cap ? h->cap * 2 : 16;
        tfc_tensor **v = realloc(h->items, (size_t)cap * sizeof *v);
        if (!v) return -1;
        h->items = v;
        h->cap = cap;
    }
    h->items[h->n++] = tfc_tensor_ref(t);
    return 0;
}

static int stack_history(tfc_kernel_ctx *c, int out, const hist_list *h, const tfc_tensor *final) {
    int64_t dims[TFC_MAX_RANK];
    if (final->rank >= TFC_MAX_RANK) {
        tfc_kernel_error(c, TFC_UNIMPLEMENTED, "cannot stack loop values of rank %d", final->rank);
        return -1;
    }
    dims[0] = h->n;
    memcpy(dims + 1, final->dims, (size_t)final->rank * sizeof *dims);
    for (int k = 0; k < h->n; k++)
        if (!tfc_tensor_same_shape(h->items[k], final)) {
            tfc_kernel_error(c, TFC_UNIMPLEMENTED,
                             "the gradient of a while loop needs loop variable %d to keep one "
                             "shape", out - (c->noutputs / 2));
            return -1;
        }
    tfc_tensor *t = tfc_kernel_output(c, out, final->dtype, final->rank + 1, dims);
    if (!t) return -1;
    for (int k = 0; k < h->n; k++)
        memcpy((char *)t->data + (size_t)k * final->nbytes, h->items[k]->data, final->nbytes);
    return 0;
}

/* The serial iterations timed before choosing, and the body time from which
 * overlapping iterations pays (each costs two asynchronous runs). */
#define PIPELINE_PROBE_ITERATIONS 3
#define PIPELINE_MIN_BODY_NS 100000

static void while_kernel(tfc_kernel_ctx *c) {
    const cf_data *d = c->node->op_data;
    const tfc_function *cf = d->fn[0], *bf = d->fn[1];
    int nv = d->nvars, np = bf->nparams;
    /* Several iterations in flight (parallel_iterations) pay when a body
     * run takes long enough to hide the cost of overlapping them: the
     * first iterations run serially and are timed. The gradient's forward
     * pass, which keeps every iteration's values, stays serial. */
    int window = (int)tfc_node_attr_int(c->node, "parallel_iterations", 1);
    int may_pipeline = window > 1 && !d->history && c->session;
    int64_t body_ns = 0;
    tfc_tensor **feed = calloc((size_t)np + 1, sizeof *feed);
    tfc_tensor **next = calloc((size_t)nv + 1, sizeof *next);
    hist_list *hist = d->history ? calloc((size_t)nv, sizeof *hist) : NULL;
    tfc_status *st = tfc_status_new();
    int ok = feed && next && st && (!d->history || hist);
    if (!ok) tfc_kernel_error(c, TFC_INTERNAL, "out of memory");
    for (int i = 0; ok && i < np; i++) feed[i] = tfc_tensor_ref(c->inputs[i]);
    for (int64_t iter = 0; ok; iter++) {
        tfc_tensor *pred = NULL;
        if (run_fn(c, 0, cf, feed, &pred, st)) break;
        if (pred->nelem != 1) {
            tfc_kernel_error(c, TFC_INVALID_ARGUMENT, "the loop condition '%s' gave %lld values, "
                             "not one", cf->name, (long long)pred->nelem);
            tfc_tensor_free(pred);
            break;
        }
        int go = tfc_tensor_get_double(pred, 0) != 0;
        tfc_tensor_free(pred);
        if (!go) {
            for (int i = 0; i < nv; i++) {
                tfc_kernel_set_output(c, i, feed[i]);
                feed[i] = NULL;
            }
            for (int i = 0; hist && i < nv; i++)
                if (stack_history(c, nv + i, &hist[i], c->outputs[i])) break;
            break;
        }
        for (int i = 0; hist && i < nv; i++)
            if (hist_push(&hist[i], feed[i])) ok = 0;
        if (!ok) {
            tfc_kernel_error(c, TFC_INTERNAL, "out of memory keeping loop values");
            break;
        }
        int64_t t0 = may_pipeline ? tfc_now_ns() : 0;
        if (run_fn(c, 1, bf, feed, next, st)) break;
        if (may_pipeline) body_ns += tfc_now_ns() - t0;
        for (int i = 0; i < nv; i++)
            if (tfc_while_check_invariant(c, bf, i, feed[i], next[i], iter)) ok = 0;
        for (int i = 0; i < nv; i++) {
            tfc_tensor_free(feed[i]);
            feed[i] = next[i];
            next[i] = NULL;
        }
        if (ok && may_pipeline && iter + 1 == PIPELINE_PROBE_ITERATIONS) {
            may_pipeline = 0;
            tfc_session *cs = sub_session(c, 0, cf, st), *bs = sub_session(c, 1, bf, st);
            if (cs && bs && tfc_session_can_run_async(cs) && tfc_session_can_run_async(bs) &&
                body_ns / PIPELINE_PROBE_ITERATIONS >= PIPELINE_MIN_BODY_NS) {
                tfc_while_pipelined(c, cs, bs, cf, bf, nv, window, feed, iter + 1);
                break;
            }
        }
    }
    for (int i = 0; feed && i < np; i++) tfc_tensor_free(feed[i]);
    for (int i = 0; next && i < nv; i++) tfc_tensor_free(next[i]);
    for (int i = 0; hist && i < nv; i++) {
        for (int k = 0; k < hist[i].n; k++) tfc_tensor_free(hist[i].items[k]);
        free(hist[i].items);
    }
    free(hist);
    free(feed);
    free(next);
    tfc_status_free(st);
}

/* The backward loop: re-run the loop keeping every iteration's values, then
 * WhileGrad walks them from the last iteration to the first. */
static int while_grad(tfc_graph *g, tfc_node *op, const tfc_output *dy, tfc_output *dx) {
    const cf_data *d = op->op_data;
    int nv = d->nvars;
    if (d->history)
        return tfc_graph_fail(g, TFC_UNIMPLEMENTED, "no gradient for the history of '%s'",
                              op->name);
    if (!tfc_function_gradient(g, d->fn[1])) return -1;
    tfc_op_desc *h = tfc_op_new(g, "While", NULL);
    tfc_op_set_attr_string(h, "cond", d->fn[0]->name);
    tfc_op_set_attr_string(h, "body", d->fn[1]->name);
    tfc_op_set_attr_int(h, "parallel_iterations", tfc_node_attr_int(op, "parallel_iterations", 10));
    tfc_op_set_attr_bool(h, "output_history", 1);
    tfc_op_add_inputs(h, op->inputs, op->ninputs);
    tfc_node *hn = tfc_op_finish(h);
    if (!hn) return -1;
    tfc_op_desc *wd = tfc_op_new(g, "WhileGrad", NULL);
    tfc_op_set_attr_string(wd, "body", d->fn[1]->name);
    tfc_op_set_attr_string(wd, "body_grad", d->fn[1]->grad->name);
    for (int i = 0; i < nv; i++) tfc_op_add_input(wd, tfc_out(hn, nv + i));
    for (int i = nv; i < op->ninputs; i++) tfc_op_add_input(wd, op->inputs[i]);
    for (int i = 0; i < nv; i++) tfc_op_add_input(wd, dy_or_zeros(g, op, dy, i));
    tfc_node *wg = tfc_op_finish(wd);
    if (!wg) return -1;
    for (int i = 0; i < op->ninputs; i++)
        if (tfc_grad_dtype_ok(tfc_output_dtype(op->inputs[i]))) dx[i] = tfc_out(wg, i);
    return 0;
}

/* ---- WhileGrad(history[nv], captures..., dfinal[nv]) -> d vars0, d captures ---- */

static int while_grad_infer(tfc_infer_ctx *c) {
    tfc_function *bf = attr_fn(c, "body");
    if (!bf) return -1;
    /* body_grad names the gradient function (a graph read from a file has
     * it as a function of its own); older graphs use the body's */
    tfc_function *df = tfc_attrs_string(c->attrs, "body_grad") ? attr_fn(c, "body_grad") : bf->grad;
    if (!df) return tfc_infer_error(c, "function '%s' has no gradient function", bf->name);
    int nv = bf->nout, np = bf->nparams;
    if (df->nparams != np + nv || df->nout != np)
        return tfc_infer_error(c,
                               "'%s' is not the gradient function of '%s': it takes %d inputs "
                               "and gives %d outputs, not %d and %d",
                               df->name, bf->name, df->nparams, df->nout, np + nv, np);
    if (c->ninputs != np + nv)
        return tfc_infer_error(c, "expected %d inputs, got %d", np + nv, c->ninputs);
    for (int i = 0; i < c->ninputs; i++) {
        int p = i < np ? i : i - np;
        if (tfc_infer_input_dtype(c, i) != tfc_output_dtype(bf->params[p]))
            return tfc_infer_error(c, "input %d has the wrong dtype", i);
    }
    if (tfc_infer_set_num_outputs(c, np)) return -1;
    for (int i = 0; i < np; i++)
        tfc_infer_set_output(c, i, tfc_output_dtype(bf->params[i]),
                             tfc_output_shape(bf->params[i]));
    cf_data *d = new_data(c);
    if (!d) return -1;
    d->fn[0] = df;
    d->nvars = nv;
    return 0;
}

/* acc += t for float types (other types get no gradient). */
static void accumulate(tfc_tensor *acc, const tfc_tensor *t) {
    int64_t n = acc->nelem;
    if (acc->dtype == TFC_FLOAT) {
        float *a = acc->data;
        const float *b = t->data;
        for (int64_t i = 0; i < n; i++) a[i] += b[i];
    } else if (acc->dtype == TFC_DOUBLE) {
        double *a = acc->data;
        const double *b = t->data;
        for (int64_t i = 0; i < n; i++) a[i] += b[i];
    }
}

static void while_grad_kernel(tfc_kernel_ctx *c) {
    const cf_data *d = c->node->op_data;
    const tfc_function *df = d->fn[0];
    int nv = d->nvars, np = c->noutputs, ncap = np - nv;
    int64_t n = c->inputs[0]->rank > 0 ? c->inputs[0]->dims[0] : 0;
    tfc_tensor **feed = calloc((size_t)(np + nv) + 1, sizeof *feed);
    tfc_tensor **outs = calloc((size_t)np + 1, sizeof *outs);
    tfc_tensor **acc = calloc((size_t)ncap + 1, sizeof *acc);
    tfc_status *st = tfc_status_new();
    int ok = feed && outs && acc && st;
    if (!ok) tfc_kernel_error(c, TFC_INTERNAL, "out of memory");
    for (int j = 0; ok && j < ncap; j++) {
        const tfc_tensor *cap = c->inputs[nv + j];
        feed[nv + j] = tfc_tensor_ref(c->inputs[nv + j]);
        acc[j] = tfc_tensor_new(cap->dtype, cap->rank, cap->dims);
        if (!acc[j]) ok = 0;
    }
    for (int i = 0; ok && i < nv; i++) feed[np + i] = tfc_tensor_ref(c->inputs[np + i]);
    for (int64_t k = n - 1; ok && k >= 0; k--) {
        for (int i = 0; i < nv; i++) {
            const tfc_tensor *h = c->inputs[i];
            tfc_tensor_free(feed[i]);
            feed[i] = tfc_tensor_alloc(h->dtype, h->rank - 1, h->dims + 1);
            if (!feed[i]) {
                ok = 0;
                break;
            }
            memcpy(feed[i]->data, (const char *)h->data + (size_t)k * feed[i]->nbytes,
                   feed[i]->nbytes);
        }
        if (!ok || run_fn(c, 0, df, feed, outs, st)) break;
        for (int i = 0; i < nv; i++) {
            tfc_tensor_free(feed[np + i]);
            feed[np + i] = outs[i];
        }
        for (int j = 0; j < ncap; j++) {
            accumulate(acc[j], outs[nv + j]);
            tfc_tensor_free(outs[nv + j]);
        }
    }
    if (!ok && feed && outs && acc && st) tfc_kernel_error(c, TFC_INTERNAL, "out of memory");
    if (ok && tfc_status_code(c->status) == TFC_OK) {
        for (int i = 0; i < nv; i++) {
            tfc_kernel_set_output(c, i, feed[np + i]);
            feed[np + i] = NULL;
        }
        for (int j = 0; j < ncap; j++) {
            tfc_kernel_set_output(c, nv + j, acc[j]);
            acc[j] = NULL;
        }
    }
    for (int i = 0; feed && i < np + nv; i++) tfc_tensor_free(feed[i]);
    for (int j = 0; acc && j < ncap; j++) tfc_tensor_free(acc[j]);
    free(feed);
    free(outs);
    free(acc);
    tfc_status_free(st);
}

/* ---- PartitionedCall(args..., captures...) -> outputs of f ---- */

static int call_infer(tfc_infer_ctx *c) {
    tfc_function *fn = attr_fn(c, "f");
    if (!fn || check_params(c, fn, 0)) return -1;
    if (tfc_infer_set_num_outputs(c, fn->nout)) return -1;
    for (int i = 0; i < fn->nout; i++)
        tfc_infer_set_output(c, i, tfc_output_dtype(fn->outs[i]), tfc_output_shape(fn->outs[i]));
    cf_data *d = new_data(c);
    if (!d) return -1;
    d->fn[0] = fn;
    return 0;
}

static void call_kernel(tfc_kernel_ctx *c) {
    const cf_data *d = c->node->op_data;
    const tfc_function *fn = d->fn[0];
    tfc_tensor **outs = calloc((size_t)fn->nout + 1, sizeof *outs);
    tfc_status *st = tfc_status_new();
    if (!outs || !st) {
        tfc_kernel_error(c, TFC_INTERNAL, "out of memory");
    } else if (run_fn(c, 0, fn, c->inputs, outs, st) == 0) {
        for (int i = 0; i < fn->nout; i++) tfc_kernel_set_output(c, i, outs[i]);
    }
    tfc_status_free(st);
    free(outs);
}

static int call_grad(tfc_graph *g, tfc_node *op, const tfc_output *dy, tfc_output *dx) {
    const cf_data *d = op->op_data;
    tfc_function *df = tfc_function_gradient(g, d->fn[0]);
    if (!df) return -1;
    static const char *const attr[] = {"f"};
    tfc_node *n = grad_node(g, op, "PartitionedCall", attr, &df, 1, 0, dy, op->noutputs);
    if (!n) return -1;
    for (int i = 0; i < op->ninputs; i++)
        if (tfc_grad_dtype_ok(tfc_output_dtype(op->inputs[i]))) dx[i] = tfc_out(n, i);
    return 0;
}

const tfc_op_def tfc_ops_control_flow[] = {
    {"If", 1, -1, 0, TFC_OP_STATEFUL, 0, if_infer, if_kernel, if_grad},
    {"While", 1, -1, 0, TFC_OP_STATEFUL, 0, while_infer, while_kernel, while_grad},
    {"WhileGrad", 2, -1, 0, TFC_OP_STATEFUL, 0, while_grad_infer, while_grad_kernel, NULL},
    /* resource handles pass into bodies: TF2 functions take their variables' handles */
    {"PartitionedCall", 0, -1, 0, TFC_OP_STATEFUL | TFC_OP_RESOURCES, 0, call_infer, call_kernel,
     call_grad},
    {NULL, 0, 0, 0, 0, 0, NULL, NULL, NULL},
};

/* ---- helpers ---- */

/* The union of two functions' captures, in order; both then take it. */
static int share_captures(tfc_graph *g, tfc_function *a, tfc_function *b, tfc_output **caps,
                          int *ncaps) {
    int na = a->nparams - a->nargs, nb = b->nparams - b->nargs, n = 0;
    tfc_output *u = malloc(((size_t)(na + nb) + 1) * sizeof *u);
    if (!u) return tfc_graph_fail(g, TFC_INTERNAL, "out of memory");
    for (int i = 0; i < na + nb; i++) {
        tfc_output o = i < na ? a->captures[i] : b->captures[i - na];
        int seen = 0;
        for (int k = 0; k < n && !seen; k++) seen = u[k].node == o.node && u[k].index == o.index;
        if (!seen) u[n++] = o;
    }
    if (tfc_function_align_captures(a, u, n) || tfc_function_align_captures(b, u, n)) {
        free(u);
        if (!g->error) tfc_graph_fail(g, TFC_INTERNAL, "cannot share captures: %s",
                                      a->graph->error ? a->graph->error : b->graph->error);
        return -1;
    }
    *caps = u;
    *ncaps = n;
    return 0;
}

static void null_outs(tfc_output *outs, int n) {
    for (int i = 0; outs && i < n; i++) outs[i] = (tfc_output){NULL, 0};
}

int tfc_cond(tfc_graph *g, tfc_output pred, tfc_body_fn true_fn, tfc_body_fn false_fn,
             void *user, int nout, tfc_output *outs) {
    null_outs(outs, nout);
    if (!g || g->error) return -1;
    if (!pred.node || !true_fn || !false_fn || nout < 0 || (nout && !outs))
        return tfc_graph_fail(g, TFC_INVALID_ARGUMENT, "tfc_cond: null argument");
    tfc_function *t = tfc_function_build(g, "cond_true", 1, 0, NULL, NULL, nout, true_fn, user);
    tfc_function *e = t ? tfc_function_build(g, "cond_false", 1, 0, NULL, NULL, nout, false_fn,
                                             user)
                        : NULL;
    tfc_output *caps = NULL;
    int ncaps = 0;
    if (!e || share_captures(g, t, e, &caps, &ncaps)) return -1;
    tfc_op_desc *d = tfc_op_new(g, "If", NULL);
    tfc_op_set_attr_string(d, "then_branch", t->name);
    tfc_op_set_attr_string(d, "else_branch", e->name);
    tfc_op_add_input(d, pred);
    tfc_op_add_inputs(d, caps, ncaps);
    free(caps);
    tfc_node *n = tfc_op_finish(d);
    if (!n) return -1;
    for (int i = 0; i < nout; i++) outs[i] = tfc_out(n, i);
    return 0;
}

int tfc_while_loop(tfc_graph *g, tfc_body_fn cond_fn, tfc_body_fn body_fn, void *user,
                   const tfc_output *loop_vars, int n, const tfc_shape *shape_invariants,
                   int parallel_iterations, tfc_output *outs) {
    null_outs(outs, n);
    if (!g || g->error) return -1;
    if (!cond_fn || !body_fn || n < 1 || !loop_vars || !outs)
        return tfc_graph_fail(g, TFC_INVALID_ARGUMENT,
                              "tfc_while_loop: null argument or no loop variables");
    tfc_dtype *dts = malloc((size_t)n * sizeof *dts);
    tfc_shape *shapes = malloc((size_t)n * sizeof *shapes);
    if (!dts || !shapes) {
        free(dts);
        free(shapes);
        return tfc_graph_fail(g, TFC_INTERNAL, "out of memory");
    }
    int rc = 0;
    for (int i = 0; i < n && rc == 0; i++) {
        if (!loop_vars[i].node) {
            rc = tfc_graph_fail(g, TFC_INVALID_ARGUMENT, "tfc_while_loop: loop variable %d is null", i);
            break;
        }
        dts[i] = tfc_output_dtype(loop_vars[i]);
        shapes[i] = shape_invariants ? shape_invariants[i] : tfc_output_shape(loop_vars[i]);
    }
    tfc_function *cf = NULL, *bf = NULL;
    if (rc == 0) cf = tfc_function_build(g, "while_cond", 1, n, dts, shapes, 1, cond_fn, user);
    if (cf) bf = tfc_function_build(g, "while_body", 1, n, dts, shapes, n, body_fn, user);
    free(dts);
    free(shapes);
    tfc_output *caps = NULL;
    int ncaps = 0;
    if (!bf || share_captures(g, cf, bf, &caps, &ncaps)) return -1;
    tfc_op_desc *d = tfc_op_new(g, "While", NULL);
    tfc_op_set_attr_string(d, "cond", cf->name);
    tfc_op_set_attr_string(d, "body", bf->name);
    tfc_op_set_attr_int(d, "parallel_iterations", parallel_iterations > 0 ? parallel_iterations : 10);
    tfc_op_add_inputs(d, loop_vars, n);
    tfc_op_add_inputs(d, caps, ncaps);
    free(caps);
    tfc_node *node = tfc_op_finish(d);
    if (!node) return -1;
    for (int i = 0; i < n; i++) outs[i] = tfc_out(node, i);
    return 0;
}

tfc_function *tfc_function_define(tfc_graph *g, const char *name, int nin,
                                  const tfc_dtype *dtypes, const tfc_shape *shapes, int nout,
                                  tfc_body_fn build, void *user) {
    if (!g || g->error) return NULL;
    if (!name || !*name) {
        tfc_graph_fail(g, TFC_INVALID_ARGUMENT, "tfc_function_define: a name is required");
        return NULL;
    }
    return tfc_function_build(g, name, 0, nin, dtypes, shapes, nout, build, user);
}

int tfc_function_call(tfc_graph *g, const tfc_function *fn, const tfc_output *inputs, int nin,
                      tfc_output *outs) {
    if (!g || g->error) return -1;
    if (!fn) return tfc_graph_fail(g, TFC_INVALID_ARGUMENT, "tfc_function_call: null function");
    null_outs(outs, fn->nout);
    if (nin != fn->nargs)
        return tfc_graph_fail(g, TFC_INVALID_ARGUMENT, "function '%s' takes %d inputs, got %d",
                              fn->name, fn->nargs, nin);
    tfc_op_desc *d = tfc_op_new(g, "PartitionedCall", NULL);
    tfc_op_set_attr_string(d, "f", fn->name);
    tfc_op_add_inputs(d, inputs, nin);
    tfc_op_add_inputs(d, fn->captures, fn->nparams - fn->nargs);
    tfc_node *n = tfc_op_finish(d);
    if (!n) return -1;
    for (int i = 0; i < fn->nout; i++) outs[i] = tfc_out(n, i);
    return 0;
}

const char *tfc_function_name(const tfc_function *fn) { return fn ? fn->name : NULL; }
int tfc_function_num_outputs(const tfc_function *fn) { return fn ? fn->nout : 0; }
