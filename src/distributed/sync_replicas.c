/* Synchronous training with parameter servers: TensorFlow's
 * SyncReplicasOptimizer (python/training/sync_replicas_optimizer.py), its
 * graph built with tfc's ops. Per variable a ConditionalAccumulator
 * placed with the variable (shared by every worker's copy of the graph
 * through its shared_name, "<var>:0/grad_accum"); a FIFO queue of tokens,
 * "sync_token_q", placed with the global step.
 *
 *   worker's train op:  AccumulatorApplyGradient(acc_i, local_step, grad_i)
 *                       for each variable, then a token dequeued, which
 *                       becomes local_step (Assign);
 *   chief's sync op:    AccumulatorTakeGradient(acc_i, replicas_to_aggregate)
 *                       for each variable, the wrapped optimizer applies
 *                       them and increments global_step, then
 *                       max(total_num_replicas, replicas_to_aggregate)
 *                       tokens holding the new global step are enqueued.
 *
 * A gradient computed from a local_step older than the accumulator's
 * global step is dropped by the accumulator (stale). local_step is a local
 * variable colocated with a NoOp made here, so that it stays on the worker
 * (each worker has its own) even under a replica device setter. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph/graph.h"
#include "train/optimizer_internal.h"

struct tfc_sync_replicas_optimizer {
    tfc_optimizer *opt;
    int replicas_to_aggregate, total_num_replicas;
    tfc_graph *g;
    tfc_output global_step, local_step, token_queue;
    tfc_node *local_step_init, *chief_init, *sync_op;
    int nacc;
    tfc_output *vars, *accs;
};

tfc_sync_replicas_optimizer *tfc_sync_replicas_optimizer_new(tfc_optimizer *opt,
                                                             int replicas_to_aggregate,
                                                             int total_num_replicas) {
    if (!opt || replicas_to_aggregate < 1) return NULL;
    tfc_sync_replicas_optimizer *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->opt = opt;
    s->replicas_to_aggregate = replicas_to_aggregate;
    s->total_num_replicas = total_num_replicas > 0 ? total_num_replicas : replicas_to_aggregate;
    return s;
}

void tfc_sync_replicas_optimizer_free(tfc_sync_replicas_optimizer *s) {
    if (!s) return;
    tfc_optimizer_free(s->opt);
    free(s->vars);
    free(s->accs);
    free(s);
}

static int fail(tfc_graph *g, const char *fmt, const char *arg) {
    tfc_graph_fail(g, TFC_INVALID_ARGUMENT, fmt, arg);
    return -1;
}

/* The accumulator of pair (grad, var), its apply with local_step and its
 * take; all placed with var. 0 or -1. */
static int accumulate(tfc_sync_replicas_optimizer *s, tfc_graph *g, tfc_output grad,
                      tfc_output var, tfc_node **apply, tfc_output *taken) {
    tfc_shape shape = tfc_output_shape(grad);
    if (tfc_output_dtype(var) != TFC_RESOURCE) {
        tfc_shape vs = tfc_output_shape(var);
        if (vs.rank >= 0) shape = vs;
    }
    char shared[512];
    snprintf(shared, sizeof shared, "%s:%d/grad_accum", var.node->name, var.index);
    tfc_colocate_with_push(g, var.node);
    tfc_output acc = tfc_conditional_accumulator(g, tfc_output_dtype(grad), shape.rank,
                                                 shape.rank > 0 ? shape.dims : NULL, shared,
                                                 TFC_ACCUMULATOR_MEAN);
    *apply = acc.node ? tfc_accumulator_apply_gradient(g, acc, s->local_step, grad) : NULL;
    *taken = *apply ? tfc_accumulator_take_gradient(
                          g, acc, tfc_const_int32(g, (int32_t)s->replicas_to_aggregate))
                    : (tfc_output){NULL, 0};
    tfc_colocate_with_pop(g);
    if (!taken->node) return -1;
    s->vars[s->nacc] = var;
    s->accs[s->nacc++] = acc;
    return 0;
}

/* Fill([n], global_step) enqueued into the token queue, after `deps`. */
static tfc_node *enqueue_tokens(tfc_sync_replicas_optimizer *s, tfc_graph *g, int n,
                                tfc_node *const *deps, int ndeps) {
    tfc_colocate_with_push(g, s->global_step.node);
    if (ndeps) tfc_control_dependencies_push(g, deps, ndeps);
    int64_t one = 1;
    int32_t nv = n;
    tfc_output dims = tfc_const_data(g, TFC_INT32, 1, &one, &nv);
    tfc_output tokens = tfc_fill(g, dims, s->global_step);
    tfc_node *enq = tokens.node ? tfc_queue_enqueue_many(g, s->token_queue, &tokens, 1) : NULL;
    if (ndeps) tfc_control_dependencies_pop(g);
    tfc_colocate_with_pop(g);
    return enq;
}

tfc_node *tfc_sync_replicas_apply_gradients(tfc_sync_replicas_optimizer *s, tfc_graph *g,
                                            const tfc_grad_and_var *gv, int n,
                                            tfc_output global_step) {
    if (!g || g->error) return NULL;
    if (!s) {
        fail(g, "%s: no sync replicas optimizer (NULL)", "sync replicas apply_gradients");
        return NULL;
    }
    if (s->g) {
        fail(g, "%s: apply_gradients was called already; TensorFlow's SyncReplicasOptimizer "
                "allows one call",
             "sync replicas apply_gradients");
        return NULL;
    }
    if (!global_step.node || tfc_output_dtype(global_step) != TFC_INT64) {
        fail(g, "%s: needs the global step (an int64 variable, "
                "tfc_train_get_or_create_global_step)",
             "sync replicas apply_gradients");
        return NULL;
    }
    if (n < 1 || !gv) {
        fail(g, "%s: no (gradient, variable) pairs", "sync replicas apply_gradients");
        return NULL;
    }
    s->vars = calloc((size_t)n, sizeof *s->vars);
    s->accs = calloc((size_t)n, sizeof *s->accs);
    tfc_node **applies = calloc((size_t)n + 1, sizeof *applies);
    tfc_grad_and_var *agg = calloc((size_t)n, sizeof *agg);
    tfc_node **chief = calloc((size_t)n + 2, sizeof *chief);
    if (!s->vars || !s->accs || !applies || !agg || !chief) {
        tfc_graph_fail(g, TFC_RESOURCE_EXHAUSTED, "out of memory");
        goto out;
    }
    s->g = g;
    s->global_step = global_step;
    tfc_name_scope_push(g, "sync_replicas");
    /* the local step, on this worker: colocated with a NoOp that asks for
     * no device (TensorFlow's local_anchor) */
    tfc_node *anchor = tfc_no_op(g);
    if (anchor) {
        tfc_colocate_with_push(g, anchor);
        s->local_step = tfc_local_variable(g, "sync_rep_local_step", tfc_const_int64(g, 0));
        tfc_colocate_with_pop(g);
    }
    if (s->local_step.node) {
        tfc_colocate_with_push(g, s->local_step.node);
        tfc_output init = tfc_assign(g, s->local_step, global_step);
        tfc_colocate_with_pop(g);
        s->local_step_init = init.node;
    }
    int napplies = 0;
    for (int i = 0; i < n && s->local_step_init; i++) {
        agg[i].var = gv[i].var;
        if (!gv[i].grad.node) continue;
        if (accumulate(s, g, gv[i].grad, gv[i].var, &applies[napplies], &agg[i].grad)) break;
        napplies++;
    }
    tfc_name_scope_pop(g);
    if (g->error) goto out;
    if (!napplies) {
        fail(g, "%s: no variable has a gradient", "sync replicas apply_gradients");
        goto out;
    }
    /* the chief's update, with the aggregated gradients */
    tfc_node *update = tfc_optimizer_apply_gradients(s->opt, g, agg, n, global_step);
    if (!update) goto out;
    tfc_dtype tdt = TFC_INT64;
    tfc_shape scalar = {0, {0}};
    tfc_colocate_with_push(g, global_step.node);
    s->token_queue = tfc_fifo_queue(g, -1, &tdt, 1, &scalar, "sync_token_q");
    tfc_colocate_with_pop(g);
    if (!s->token_queue.node) goto out;
    int per_step = s->total_num_replicas > s->replicas_to_aggregate ? s->total_num_replicas
                                                                     : s->replicas_to_aggregate;
    s->sync_op = enqueue_tokens(s, g, per_step, &update, 1);
    if (!s->sync_op) goto out;
    /* the worker's train op: its gradients applied, then a token */
    tfc_output token = {NULL, 0};
    tfc_colocate_with_push(g, global_step.node);
    tfc_control_dependencies_push(g, applies, napplies);
    int nt = tfc_queue_dequeue(g, s->token_queue, &token, 1);
    tfc_control_dependencies_pop(g);
    tfc_colocate_with_pop(g);
    if (nt != 1) goto out;
    tfc_colocate_with_push(g, s->local_step.node);
    tfc_output train = tfc_assign(g, s->local_step, token);
    tfc_colocate_with_pop(g);
    if (!train.node) goto out;
    /* the chief's init: its local step, and every accumulator's global step */
    int nc = 0;
    chief[nc++] = s->local_step_init;
    for (int i = 0; i < s->nacc; i++) {
        tfc_colocate_with_push(g, s->accs[i].node);
        chief[nc] = tfc_accumulator_set_global_step(g, s->accs[i], global_step);
        tfc_colocate_with_pop(g);
        if (!chief[nc++]) goto out;
    }
    s->chief_init = tfc_group(g, chief, nc);
    if (!s->chief_init) goto out;
    free(applies);
    free(agg);
    free(chief);
    return train.node;
out:
    free(applies);
    free(agg);
    free(chief);
    return NULL;
}

tfc_node *tfc_sync_replicas_minimize(tfc_sync_replicas_optimizer *s, tfc_graph *g,
                                     tfc_output loss, const tfc_output *var_list, int nvars,
                                     tfc_output global_step) {
    if (!g || g->error) return NULL;
    if (!s) {
        fail(g, "%s: no sync replicas optimizer (NULL)", "sync replicas minimize");
        return NULL;
    }
    int n = 0;
    tfc_grad_and_var *gv = tfc_optimizer_compute_gradients(s->opt, g, loss, var_list, nvars, &n);
    if (!gv) return NULL;
    tfc_node *train = tfc_sync_replicas_apply_gradients(s, g, gv, n, global_step);
    free(gv);
    return train;
}

tfc_node *tfc_sync_replicas_init_tokens_op(tfc_sync_replicas_optimizer *s, int num_tokens) {
    if (!s || !s->g) return NULL;
    tfc_graph *g = s->g;
    if (g->error) return NULL;
    int needed = s->replicas_to_aggregate - s->total_num_replicas;
    if (num_tokens == -1) num_tokens = s->replicas_to_aggregate;
    if (num_tokens < needed) {
        tfc_graph_fail(g, TFC_INVALID_ARGUMENT,
                       "sync replicas init tokens: %d tokens, but replicas_to_aggregate - "
                       "total_num_replicas = %d are needed",
                       num_tokens, needed);
        return NULL;
    }
    if (num_tokens <= 0) return tfc_no_op(g);
    return enqueue_tokens(s, g, num_tokens, NULL, 0);
}

tfc_node *tfc_sync_replicas_chief_init_op(const tfc_sync_replicas_optimizer *s) {
    return s ? s->chief_init : NULL;
}

tfc_node *tfc_sync_replicas_local_step_init_op(const tfc_sync_replicas_optimizer *s) {
    return s ? s->local_step_init : NULL;
}

tfc_node *tfc_sync_replicas_sync_op(const tfc_sync_replicas_optimizer *s) {
    return s ? s->sync_op : NULL;
}

tfc_output tfc_sync_replicas_local_step(const tfc_sync_replicas_optimizer *s) {
    return s ? s->local_step : (tfc_output){NULL, 0};
}

tfc_output tfc_sync_replicas_token_queue(const tfc_sync_replicas_optimizer *s) {
    return s ? s->token_queue : (tfc_output){NULL, 0};
}

tfc_output tfc_sync_replicas_accumulator(const tfc_sync_replicas_optimizer *s, tfc_output var) {
    for (int i = 0; s && i < s->nacc; i++)
        if (s->vars[i].node == var.node && s->vars[i].index == var.index) return s->accs[i];
    return (tfc_output){NULL, 0};
}
