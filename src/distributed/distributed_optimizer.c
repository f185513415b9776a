/* Synchronous data parallelism by allreduce: the distributed optimizer
 * (hvd.DistributedOptimizer), the deterministic sharded gradients, and
 * the chief-only checkpoints.
 *
 * Fusion: all gradients of one dtype go into ONE grouped collective per
 * step (HorovodGroupedAllreduce, or TfcOrderedAllreduce when
 * deterministic), which packs them into fused buffers of the fusion
 * threshold. Horovod instead runs a background coordinator that fuses
 * whatever gradients are ready in each cycle, which lets the first
 * gradients travel while backprop still computes the rest, at the price of
 * a negotiation round among the ranks every cycle. One op per step is
 * simpler and correct by construction: the graph is the same on every
 * rank, so the collectives' order is too (the op waits for its last
 * gradient, so there is no overlap with backprop; on a few cores the
 * compute keeps them busy anyway, see docs/SCALING.md). Several dtypes give
 * several ops, chained by control dependencies for the same reason. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "distributed/allreduce_internal.h"
#include "distributed/collectives.h"
#include "graph/graph.h"
#include "train/optimizer_internal.h"

static int wrap_gradients(tfc_optimizer *o, tfc_graph *g, tfc_grad_and_var *gv, int n) {
    const tfc_distributed_options *opts = o->wrap_data;
    tfc_output *xs = malloc(((size_t)n + 1) * sizeof *xs);
    int *idx = malloc(((size_t)n + 1) * sizeof *idx);
    if (!xs || !idx) {
        free(xs);
        free(idx);
        return tfc_graph_fail(g, TFC_RESOURCE_EXHAUSTED, "out of memory averaging gradients");
    }
    int m = 0;
    for (int i = 0; i < n; i++)
        if (gv[i].grad.node) {
            idx[m] = i;
            xs[m++] = gv[i].grad; /* a sparse gradient goes as its dense form */
        }
    int rc = 0;
    if (m > 0) {
        tfc_name_scope_push(g, "DistributedOptimizer_Allreduce");
        rc = tfc_ar_reduce_by_dtype(g, xs, m, opts->op, opts->deterministic, xs, NULL);
        tfc_name_scope_pop(g);
        for (int j = 0; j < m && !rc; j++) gv[idx[j]].grad = xs[j];
    }
    free(xs);
    free(idx);
    return rc;
}

tfc_optimizer *tfc_distributed_optimizer(tfc_optimizer *opt, const tfc_distributed_options *o) {
    if (!opt) return NULL;
    tfc_distributed_options *d = calloc(1, sizeof *d);
    if (!d) return NULL;
    if (o) *d = *o;
    if (d->op != TFC_REDUCE_SUM) d->op = TFC_REDUCE_AVERAGE;
    if (opt->wrap_free) opt->wrap_free(opt->wrap_data);
    opt->wrap_gradients = wrap_gradients;
    opt->wrap_data = d;
    opt->wrap_free = free;
    return opt;
}

static int is_float_variable(tfc_output v) {
    if (!v.node || !(v.node->op->flags & TFC_OP_VARIABLE)) return 0;
    tfc_dtype dt = tfc_output_dtype(v);
    return dt == TFC_FLOAT || dt == TFC_DOUBLE;
}

tfc_grad_and_var *tfc_distributed_compute_gradients(tfc_optimizer *opt, tfc_graph *g,
                                                    const tfc_output *shard_losses, int nshards,
                                                    const tfc_output *var_list, int nvars,
                                                    int *n) {
    if (n) *n = 0;
    if (!g || g->error) return NULL;
    const char *who = "distributed compute_gradients";
    if (!opt || opt->wrap_gradients != wrap_gradients) {
        tfc_graph_fail(g, TFC_INVALID_ARGUMENT, "%s: the optimizer must come from "
                       "tfc_distributed_optimizer", who);
        return NULL;
    }
    if (!n || !shard_losses || nshards < 1) {
        tfc_graph_fail(g, TFC_INVALID_ARGUMENT, "%s: %s", who,
                       !n ? "n is null" : "no shard losses");
        return NULL;
    }
    for (int j = 0; j < nshards; j++)
        if (!shard_losses[j].node) {
            tfc_graph_fail(g, TFC_INVALID_ARGUMENT, "%s: shard loss %d is null", who, j);
            return NULL;
        }
    if (!var_list) nvars = tfc_graph_collection_size(g, TFC_TRAINABLE_VARIABLES);
    if (nvars <= 0) {
        tfc_graph_fail(g, TFC_INVALID_ARGUMENT, "%s: No variables to optimize.", who);
        return NULL;
    }
    const tfc_distributed_options *opts = opt->wrap_data;
    size_t total = (size_t)nvars * (size_t)nshards;
    tfc_output *xs = malloc((size_t)nvars * sizeof *xs);
    tfc_output *grads = calloc(total, sizeof *grads);
    tfc_output *in = malloc(total * sizeof *in);
    int *idx = malloc((size_t)nvars * sizeof *idx);
    tfc_grad_and_var *gv = calloc((size_t)nvars, sizeof *gv);
    int rc = xs && grads && in && idx && gv ? 0 : -1;
    if (rc) tfc_graph_fail(g, TFC_RESOURCE_EXHAUSTED, "%s: out of memory", who);
    for (int i = 0; i < nvars && !rc; i++) {
        xs[i] = var_list ? var_list[i]
                         : tfc_out(tfc_graph_collection_get(g, TFC_TRAINABLE_VARIABLES, i), 0);
        gv[i].var = xs[i];
        if (!is_float_variable(xs[i]))
            rc = tfc_graph_fail(g, TFC_INVALID_ARGUMENT,
                                "%s: var_list[%d] ('%s') is not a float32/float64 variable", who,
                                i, xs[i].node ? xs[i].node->name : "null");
    }
    for (int j = 0; j < nshards && !rc; j++)
        rc = tfc_gradients(g, &shard_losses[j], 1, xs, nvars, NULL, grads + (size_t)j * nvars);
    /* one ordered collective per dtype over the variables that get a
     * gradient from some shard (zeros from the others), chained */
    tfc_node *prev = NULL;
    char *done = rc ? NULL : calloc((size_t)nvars, 1);
    if (!rc && !done) rc = tfc_graph_fail(g, TFC_RESOURCE_EXHAUSTED, "%s: out of memory", who);
    if (!rc) tfc_name_scope_push(g, "DistributedOptimizer_Allreduce");
    for (int i = 0; i < nvars && !rc; i++) {
        if (done[i]) continue;
        tfc_dtype dt = tfc_output_dtype(xs[i]);
        int m = 0;
        for (int v = i; v < nvars; v++) {
            int any = 0;
            for (int j = 0; j < nshards; j++) any |= grads[(size_t)j * nvars + v].node != NULL;
            if (done[v] || tfc_output_dtype(xs[v]) != dt || !any) continue;
            done[v] = 1;
            idx[m++] = v;
        }
        if (!m) continue;
        for (int j = 0; j < nshards; j++)
            for (int a = 0; a < m; a++) {
                tfc_output gr = grads[(size_t)j * nvars + idx[a]];
                in[(size_t)j * m + a] = gr.node ? gr : tfc_zeros_like(g, xs[idx[a]]);
            }
        tfc_ar_attrs at = {opts->op, 1.0, 1.0, 0};
        tfc_node *node = tfc_ar_node(g, "TfcOrderedAllreduce", in, m * nshards, m, &at, prev);
        if (!node) {
            rc = -1;
            break;
        }
        for (int a = 0; a < m; a++) gv[idx[a]].grad = tfc_out(node, a);
        prev = node;
    }
    if (done) tfc_name_scope_pop(g);
    free(done);
    free(xs);
    free(grads);
    free(in);
    free(idx);
    if (rc || g->error) {
        free(gv);
        return NULL;
    }
    *n = nvars;
    return gv;
}

/* ---- chief-only checkpoints ---- */

/* Every rank gets rank 0's (code, flag, message); `name` names the
 * collective. 0, or -1 with `status` set when the exchange failed. */
typedef struct chief_word {
    int32_t code, flag;
    char msg[sizeof(((tfc_status *)0)->msg)];
} chief_word;

static int share_from_chief(const char *name, chief_word *w, tfc_status *status) {
    int64_t dims[] = {(int64_t)sizeof *w};
    tfc_tensor *in = tfc_tensor_alloc(TFC_UINT8, 1, dims);
    tfc_tensor *out = tfc_tensor_alloc(TFC_UINT8, 1, dims);
    int rc = -1;
    if (in && out) {
        memcpy(in->data, w, sizeof *w);
        tfc_coll_request r;
        memset(&r, 0, sizeof r);
        r.kind = TFC_COLL_BROADCAST;
        r.name = name;
        r.type = "chief's status";
        r.n = r.shards = 1;
        r.in = &in;
        r.out = &out;
        rc = tfc_coll_run(&r, status);
        if (!rc) memcpy(w, out->data, sizeof *w);
    } else {
        tfc_status_set(status, TFC_RESOURCE_EXHAUSTED, "%s: out of memory", name);
    }
    tfc_tensor_free(in);
    tfc_tensor_free(out);
    return rc;
}

/* The number of ranks with `failed` set (an allreduce through the engine). */
static int count_failed(const char *name, int failed, tfc_status *status) {
    tfc_tensor *in = tfc_tensor_alloc(TFC_INT32, 0, NULL);
    tfc_tensor *out = tfc_tensor_alloc(TFC_INT32, 0, NULL);
    int n = -1;
    if (in && out) {
        *(int32_t *)in->data = failed;
        tfc_coll_request r;
        memset(&r, 0, sizeof r);
        r.kind = TFC_COLL_ALLREDUCE;
        r.name = name;
        r.type = "failure count";
        r.n = r.shards = 1;
        r.prescale = r.postscale = 1.0;
        r.in = &in;
        r.out = &out;
        if (!tfc_coll_run(&r, status)) n = *(int32_t *)out->data;
    } else {
        tfc_status_set(status, TFC_RESOURCE_EXHAUSTED, "%s: out of memory", name);
    }
    tfc_tensor_free(in);
    tfc_tensor_free(out);
    return n;
}

int tfc_allreduce_save(tfc_saver *saver, tfc_session *s, const char *prefix,
                       int64_t global_step, tfc_status *status) {
    chief_word w;
    memset(&w, 0, sizeof w);
    if (tfc_mpi_rank() == 0) {
        tfc_status *mine = tfc_status_new();
        if (!mine || !tfc_saver_save(saver, s, prefix, global_step, mine)) {
            w.code = mine ? (int32_t)tfc_status_code(mine) : TFC_RESOURCE_EXHAUSTED;
            snprintf(w.msg, sizeof w.msg, "%s", mine ? tfc_status_message(mine) : "out of memory");
        }
        tfc_status_free(mine);
    }
    if (share_from_chief("tfc_allreduce_save", &w, status)) return -1;
    if (w.code != TFC_OK) {
        tfc_status_set(status, (tfc_code)w.code, "the chief (rank 0) could not save: %s", w.msg);
        return -1;
    }
    return 0;
}

int tfc_allreduce_restore_or_init(tfc_saver *saver, tfc_session *s, const char *checkpoint_dir,
                                  tfc_node *init, tfc_node *broadcast, tfc_status *status) {
    chief_word w;
    memset(&w, 0, sizeof w);
    tfc_status *mine = tfc_status_new();
    if (!mine) {
        tfc_status_set(status, TFC_RESOURCE_EXHAUSTED, "out of memory");
        return -1; /* the other ranks wait for this one: the job must end */
    }
    char *latest = tfc_mpi_rank() == 0 && checkpoint_dir ? tfc_latest_checkpoint(checkpoint_dir)
                                                         : NULL;
    if (latest) {
        if (!tfc_saver_restore(saver, s, latest, mine)) w.flag = 1;
        free(latest);
    } else if (init) {
        tfc_session_run(s, NULL, NULL, 0, NULL, 0, NULL, &init, 1, mine);
    }
    if (tfc_mpi_rank() == 0) {
        w.code = (int32_t)tfc_status_code(mine);
        snprintf(w.msg, sizeof w.msg, "%s", tfc_status_message(mine));
    }
    int failed_here = tfc_status_code(mine) != TFC_OK;
    int rc = -1;
    if (!share_from_chief("tfc_allreduce_restore_or_init", &w, status)) {
        int failed = count_failed("tfc_allreduce_restore_or_init/failures", failed_here, status);
        if (failed < 0) {
            rc = -1;
        } else if (w.code != TFC_OK) {
            tfc_status_set(status, (tfc_code)w.code, "the chief (rank 0) could not %s: %s",
                           w.flag ? "restore" : "restore or initialize", w.msg);
        } else if (failed_here) {
            tfc_status_copy(status, mine);
        } else if (failed) {
            tfc_status_set(status, TFC_ABORTED, "%d rank(s) could not initialize their variables",
                           failed);
        } else {
            if (broadcast)
                tfc_session_run(s, NULL, NULL, 0, NULL, 0, NULL, &broadcast, 1, status);
            rc = tfc_status_code(status) == TFC_OK ? w.flag : -1;
        }
    }
    tfc_status_free(mine);
    return rc;
}
