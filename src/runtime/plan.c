/* Plans: pruning the graph to what a run needs, optimizing it (optimize.c)
 * and scheduling it. Node ids are a topological order already (a node's
 * inputs exist before it), so the running nodes sorted by id are a valid
 * schedule. */
#include "device/send_recv.h"
#include "runtime/runtime.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

uint64_t tfc_plan_hash(const tfc_output *feeds, int nfeeds, const tfc_output *fetches,
                       int nfetches, tfc_node *const *targets, int ntargets) {
    uint64_t h = 1469598103934665603ull;
#define MIX(x) h = (h ^ (uint64_t)(x)) * 1099511628211ull
    MIX(nfeeds);
    for (int i = 0; i < nfeeds; i++) {
        MIX((uintptr_t)feeds[i].node);
        MIX(feeds[i].index);
    }
    MIX(nfetches);
    for (int i = 0; i < nfetches; i++) {
        MIX((uintptr_t)fetches[i].node);
        MIX(fetches[i].index);
    }
    MIX(ntargets);
    for (int i = 0; i < ntargets; i++) MIX((uintptr_t)targets[i]);
#undef MIX
    return h;
}

static int same_outputs(const tfc_output *a, const tfc_output *b, int n) {
    for (int i = 0; i < n; i++)
        if (a[i].node != b[i].node || a[i].index != b[i].index) return 0;
    return 1;
}

int tfc_plan_matches(const tfc_plan *p, uint64_t hash, const tfc_output *feeds, int nfeeds,
                     const tfc_output *fetches, int nfetches, tfc_node *const *targets,
                     int ntargets) {
    if (p->hash != hash || p->nfeeds != nfeeds || p->nfetches != nfetches ||
        p->ntargets != ntargets)
        return 0;
    if (!same_outputs(p->feeds, feeds, nfeeds) || !same_outputs(p->fetches, fetches, nfetches))
        return 0;
    for (int i = 0; i < ntargets; i++)
        if (p->targets[i] != targets[i]) return 0;
    return 1;
}

void tfc_plan_free(tfc_plan *p) {
    if (!p) return;
    for (int i = 0; p->nodes && i < p->nnodes; i++) {
        free(p->nodes[i].input_slot);
        free(p->nodes[i].succ);
        free(p->nodes[i].input_state);
    }
    free(p->nodes);
    free(p->feeds);
    free(p->fetches);
    free(p->targets);
    free(p->slot_uses);
    free(p->fetch_slot);
    free(p->initial);
    free(p->pending0);
    free(p->handles);
    free(p->handle_values);
    free(p->pending_skip);
    free(p->initial_skip);
    for (int i = 0; p->consts && i < p->nconsts; i++) tfc_tensor_free(p->consts[i]);
    free(p->consts);
    tfc_plan_free_scratch(p);
    pthread_mutex_destroy(&p->scratch_lock);
    for (int i = 0; i < p->npartitions; i++) tfc_plan_free(p->partitions[i]);
    free(p->partitions);
    free(p->fetch_part);
    free(p->fetch_index);
    free(p->recvs);
    for (int i = 0; i < p->naux; i++) tfc_sendrecv_node_free(p->aux[i]);
    free(p->aux);
    free(p);
}

/* Index of the feed of (node, index), or -1. */
static int feed_index(const tfc_output *feeds, int nfeeds, const tfc_node *n, int index) {
    for (int i = 0; i < nfeeds; i++)
        if (feeds[i].node == n && feeds[i].index == index) return i;
    return -1;
}

static void placeholder_error(tfc_status *status, const tfc_node *n) {
    char buf[128];
    tfc_status_set(status, TFC_INVALID_ARGUMENT,
                   "You must feed a value for placeholder tensor '%s' with dtype %s and shape %s",
                   n->name, tfc_dtype_name(n->out_dtypes[0]),
                   tfc_shape_str(&n->out_shapes[0], buf, sizeof buf));
}

/* Marks in `keep` every node the roots need, walking inputs backwards and
 * stopping at fed edges. */
static int mark_needed(tfc_node **nodes, int nnodes, const tfc_output *feeds, int nfeeds,
                       const tfc_output *fetches, int nfetches, tfc_node *const *targets,
                       int ntargets, char *keep) {
    tfc_node **stack = malloc((size_t)(nnodes + nfetches + ntargets + 1) * sizeof *stack);
    if (!stack) return -1;
    int sp = 0;
    for (int i = 0; i < nfetches; i++)
        if (feed_index(feeds, nfeeds, fetches[i].node, fetches[i].index) < 0 &&
            !keep[fetches[i].node->id]) {
            keep[fetches[i].node->id] = 1;
            stack[sp++] = fetches[i].node;
        }
    for (int i = 0; i < ntargets; i++)
        if (!keep[targets[i]->id]) {
            keep[targets[i]->id] = 1;
            stack[sp++] = targets[i];
        }
    while (sp) {
        tfc_node *n = stack[--sp];
        for (int i = 0; i < n->ninputs; i++) {
            tfc_output in = n->inputs[i];
            if (feed_index(feeds, nfeeds, in.node, in.index) >= 0 || keep[in.node->id]) continue;
            keep[in.node->id] = 1;
            stack[sp++] = in.node;
        }
        for (int i = 0; i < n->ncontrol; i++) {
            tfc_node *c = n->control_inputs[i];
            if (keep[c->id]) continue;
            keep[c->id] = 1;
            stack[sp++] = c;
        }
    }
    (void)nodes;
    free(stack);
    return 0;
}

/* Handing a node to another thread costs microseconds: only worth it for
 * nodes with big or unknown outputs. A first guess: the executor replaces
 * it with the time the node took in the first runs (executor.c). */
static int is_cheap(const tfc_node *n) {
    int64_t total = 0;
    for (int k = 0; k < n->noutputs; k++) {
        int64_t e = tfc_shape_num_elements(&n->out_shapes[k]);
        if (e < 0) return n->ninputs == 0;
        total += e;
    }
    return total <= 4096;
}

static int copy_signature(tfc_plan *p, const tfc_output *feeds, int nfeeds,
                          const tfc_output *fetches, int nfetches, tfc_node *const *targets,
                          int ntargets) {
    p->nfeeds = nfeeds;
    p->nfetches = nfetches;
    p->ntargets = ntargets;
    p->feeds = malloc((size_t)(nfeeds + 1) * sizeof *p->feeds);
    p->fetches = malloc((size_t)(nfetches + 1) * sizeof *p->fetches);
    p->targets = malloc((size_t)(ntargets + 1) * sizeof *p->targets);
    if (!p->feeds || !p->fetches || !p->targets) return -1;
    if (nfeeds) memcpy(p->feeds, feeds, (size_t)nfeeds * sizeof *feeds);
    if (nfetches) memcpy(p->fetches, fetches, (size_t)nfetches * sizeof *fetches);
    if (ntargets) memcpy(p->targets, targets, (size_t)ntargets * sizeof *targets);
    p->hash = tfc_plan_hash(feeds, nfeeds, fetches, nfetches, targets, ntargets);
    return 0;
}

typedef struct edge_list {
    int n, cap;
    int *from, *to;
} edge_list;

static int edge_add(edge_list *e, int from, int to) {
    if (e->n == e->cap) {
        int cap = e->cap ? e->cap * 2 : 64;
        int *f = realloc(e->from, (size_t)cap * sizeof *f);
        if (f) e->from = f;
        int *t = realloc(e->to, (size_t)cap * sizeof *t);
        if (t) e->to = t;
        if (!f || !t) return -1;
        e->cap = cap;
    }
    e->from[e->n] = from;
    e->to[e->n] = to;
    e->n++;
    return 0;
}

/* Read-before-write: a node that reads a variable and was created before a
 * node updating that variable (an Assign, an Apply*) runs first, so a
 * training step's backward pass never sees weights its own optimizer
 * already changed, and results do not depend on thread timing. Edges only
 * go from lower to higher node ids, so the plan stays acyclic. */
static int order_reads_before_writes(const tfc_plan *p, const int *index_of,
                                     const tfc_graph_view *v, edge_list *extra) {
    int n = p->nnodes;
    /* consumers of each plan node, as CSR */
    int *count = calloc((size_t)n + 1, sizeof *count);
    int *start = calloc((size_t)n + 2, sizeof *start);
    int *stack = NULL;
    if (!count || !start) goto oom;
    for (int j = 0; j < n; j++) {
        tfc_node *node = p->nodes[j].node;
        const tfc_src *in = v->inputs[node->id];
        for (int i = 0; i < v->ninputs[node->id]; i++)
            if (in[i].kind == TFC_SRC_NODE) count[index_of[in[i].id]]++;
    }
    for (int j = 0; j < n; j++) start[j + 1] = start[j] + count[j];
    int *cons = malloc((size_t)start[n] * sizeof *cons + sizeof *cons);
    if (!cons) goto oom;
    memset(count, 0, (size_t)n * sizeof *count);
    for (int j = 0; j < n; j++) {
        tfc_node *node = p->nodes[j].node;
        const tfc_src *in = v->inputs[node->id];
        for (int i = 0; i < v->ninputs[node->id]; i++) {
            if (in[i].kind != TFC_SRC_NODE) continue;
            int src = index_of[in[i].id];
            cons[start[src] + count[src]++] = j;
        }
    }
    stack = malloc(((size_t)start[n] + 1) * sizeof *stack);
    if (!stack) {
        free(cons);
        goto oom;
    }
    for (int w = 0; w < n; w++) {
        tfc_node *writer = p->nodes[w].node;
        const tfc_op_def *op = p->nodes[w].op; /* (a fusion's inputs are its own) */
        for (int i = 0; op->ref_inputs && i < p->nodes[w].ninputs; i++) {
            if (!tfc_op_input_is_ref(op, i)) continue;
            tfc_src var = v->inputs[writer->id][i];
            if (var.kind != TFC_SRC_NODE) continue;
            int sp = 0;
            stack[sp++] = index_of[var.id];
            while (sp) {
                int r0 = stack[--sp];
                for (int k = start[r0]; k < start[r0 + 1]; k++) {
                    int r = cons[k];
                    tfc_node *reader = p->nodes[r].node;
                    if (r == w || reader->id > writer->id || reader->op->ref_inputs) continue;
                    if (edge_add(extra, r, w)) {
                        free(cons);
                        goto oom;
                    }
                    if (tfc_op_forwards_buffer(reader) && sp < start[n]) stack[sp++] = r;
                }
            }
        }
    }
    free(cons);
    free(stack);
    free(count);
    free(start);
    return 0;
oom:
    free(stack);
    free(count);
    free(start);
    return -1;
}

int tfc_plan_start_lists(tfc_plan *p) {
    p->initial = malloc((size_t)(p->nnodes + 1) * sizeof *p->initial);
    p->pending0 = malloc((size_t)(p->nnodes + 1) * sizeof *p->pending0);
    if (!p->initial || !p->pending0) return -1;
    for (int j = 0; j < p->nnodes; j++) {
        p->pending0[j] = p->nodes[j].pending;
        if (p->nodes[j].pending == 0) p->initial[p->ninitial++] = j;
    }
    return 0;
}

/* A resource handle node the executor may skip once it has run (see
 * tfc_plan.handles): no inputs, no control inputs. */
static int is_handle(const tfc_node *n, const tfc_graph_view *v) {
    return (n->op->flags & TFC_OP_HANDLE) && n->ninputs == 0 && v->ncontrol[n->id] == 0;
}

/* The handles of a single-device plan, and the schedule of a run that
 * skips them: their successors wait for one edge fewer each. */
static int plan_handles(tfc_plan *p, const tfc_graph_view *v) {
    for (int j = 0; j < p->nnodes; j++) p->nhandles += is_handle(p->nodes[j].node, v);
    if (!p->nhandles) return 0;
    p->handles = malloc((size_t)p->nhandles * sizeof *p->handles);
    p->handle_values = calloc((size_t)p->nhandles, sizeof *p->handle_values);
    p->pending_skip = malloc((size_t)p->nnodes * sizeof *p->pending_skip);
    p->initial_skip = malloc((size_t)p->nnodes * sizeof *p->initial_skip);
    if (!p->handles || !p->handle_values || !p->pending_skip || !p->initial_skip) return -1;
    memcpy(p->pending_skip, p->pending0, (size_t)p->nnodes * sizeof *p->pending_skip);
    int h = 0;
    for (int j = 0; j < p->nnodes; j++) {
        const tfc_plan_node *pn = &p->nodes[j];
        if (!is_handle(pn->node, v)) continue;
        p->handles[h++] = j;
        for (int i = 0; i < pn->nsucc; i++) p->pending_skip[pn->succ[i]]--;
    }
    for (int j = 0; j < p->nnodes; j++)
        if (p->pending_skip[j] == 0 && !is_handle(p->nodes[j].node, v))
            p->initial_skip[p->ninitial_skip++] = j;
    return 0;
}

/* The value slot a source is read from: feeds first, then the plan's
 * constants, then every output of every running node. */
static int src_slot(const tfc_plan *p, const int *index_of, tfc_src s) {
    if (s.kind == TFC_SRC_FEED) return s.id;
    if (s.kind == TFC_SRC_CONST) return p->nfeeds + s.id;
    return p->nodes[index_of[s.id]].out_slot + s.index;
}

tfc_plan *tfc_plan_build(tfc_session *s, const tfc_output *feeds, int nfeeds,
                         const tfc_output *fetches, int nfetches, tfc_node *const *targets,
                         int ntargets, tfc_status *status) {
    tfc_graph *g = s->graph;
    pthread_mutex_lock(&g->lock);
    int nnodes = g->nnodes;
    tfc_node **nodes = malloc((size_t)(nnodes + 1) * sizeof *nodes);
    /* an empty graph may have no node array at all (memcpy from NULL is UB) */
    if (nodes && nnodes) memcpy(nodes, g->nodes, (size_t)nnodes * sizeof *nodes);
    pthread_mutex_unlock(&g->lock);

    char *keep = calloc((size_t)nnodes + 1, 1);
    int *index_of = malloc(((size_t)nnodes + 1) * sizeof *index_of);
    int *nsucc = NULL;
    edge_list extra = {0};
    tfc_graph_view v;
    memset(&v, 0, sizeof v);
    tfc_plan *p = calloc(1, sizeof *p);
    if (p) {
        pthread_mutex_init(&p->scratch_lock, NULL);
        atomic_init(&p->runs_to_time, PLAN_TIMED_RUNS);
        atomic_init(&p->chain, 0);
    }
    if (!nodes || !keep || !index_of || !p) goto oom;
    if (copy_signature(p, feeds, nfeeds, fetches, nfetches, targets, ntargets)) goto oom;
    if (tfc_session_place(s, nodes, nnodes, status)) goto fail;
    if (mark_needed(nodes, nnodes, feeds, nfeeds, fetches, nfetches, targets, ntargets, keep))
        goto oom;
    for (int i = 0; i < nnodes; i++)
        if (keep[i] && strcmp(nodes[i]->op->type, "Placeholder") == 0) {
            placeholder_error(status, nodes[i]);
            goto fail;
        }
    /* fusions on one device only: plan_partition.c cuts plain nodes */
    int view = s->opts.opt_level == TFC_OPT_L0 ? 0
               : s->devices->n == 1            ? TFC_VIEW_OPTIMIZE | TFC_VIEW_FUSE
                                               : TFC_VIEW_OPTIMIZE;
    if (tfc_graph_view_build(&v, nodes, nnodes, keep, feeds, nfeeds, fetches, nfetches, targets,
                             ntargets, view, s->pool, status))
        goto fail;
    p->stats = v.stats;
    /* the plan takes over the constants */
    p->nconsts = v.nconsts;
    p->consts = v.consts;
    v.consts = NULL;
    v.nconsts = 0;

    for (int i = 0; i < nnodes; i++)
        if (v.run[i]) p->nnodes++;
    p->nodes = calloc((size_t)p->nnodes + 1, sizeof *p->nodes);
    if (!p->nodes) goto oom;

    int k = 0;
    for (int i = 0; i < nnodes; i++) {
        index_of[i] = -1;
        if (!v.run[i]) continue;
        tfc_node *n = nodes[i];
        tfc_plan_node *pn = &p->nodes[k];
        index_of[i] = k++;
        pn->node = n;
        pn->op = v.op[i] ? v.op[i] : n->op;
        pn->ninputs = v.ninputs[i];
        pn->noutputs = n->noutputs;
        pn->input_base = p->total_inputs;
        p->total_inputs += pn->ninputs;
    }
    /* slots: feeds, constants, the outputs of resource handles (which a
     * run may borrow, as it does the constants), then every output of
     * every other running node */
    int slot = nfeeds + p->nconsts;
    for (int pass = 0; pass < 2; pass++)
        for (int j = 0; j < p->nnodes; j++) {
            tfc_plan_node *pn = &p->nodes[j];
            if (is_handle(pn->node, &v) != (pass == 0)) continue;
            pn->out_slot = slot;
            slot += pn->noutputs;
        }
    p->nslots = slot;
    p->slot_uses = calloc((size_t)slot + 1, sizeof *p->slot_uses);
    p->fetch_slot = malloc((size_t)(nfetches + 1) * sizeof *p->fetch_slot);
    nsucc = calloc((size_t)p->nnodes + 1, sizeof *nsucc);
    if (!p->slot_uses || !p->fetch_slot || !nsucc) goto oom;

    /* inputs, uses, pending counts, successor counts */
    for (int j = 0; j < p->nnodes; j++) {
        tfc_plan_node *pn = &p->nodes[j];
        tfc_node *n = pn->node;
        const tfc_src *in = v.inputs[n->id];
        pn->input_slot = malloc((size_t)(pn->ninputs + 1) * sizeof *pn->input_slot);
        pn->input_state = calloc((size_t)pn->ninputs + 1, sizeof *pn->input_state);
        if (!pn->input_slot || !pn->input_state) goto oom;
        if (n->op->flags & TFC_OP_STATEFUL) pn->state = tfc_session_node_state(s, n);
        atomic_init(&pn->cheap, is_cheap(n));
        atomic_init(&pn->cost_ns, 0);
        atomic_init(&pn->rank_ns, 0);
        for (int i = 0; i < pn->ninputs; i++) {
            pn->input_slot[i] = src_slot(p, index_of, in[i]);
            if (in[i].kind == TFC_SRC_NODE) {
                if (nodes[in[i].id]->op->flags & TFC_OP_STATEFUL)
                    pn->input_state[i] = tfc_session_node_state(s, nodes[in[i].id]);
                pn->pending++;
                nsucc[index_of[in[i].id]]++;
            }
            p->slot_uses[pn->input_slot[i]]++;
        }
        for (int i = 0; i < v.ncontrol[n->id]; i++) {
            pn->pending++;
            nsucc[index_of[v.control[n->id][i]]]++;
        }
    }
    if (order_reads_before_writes(p, index_of, &v, &extra)) goto oom;
    for (int e = 0; e < extra.n; e++) {
        nsucc[extra.from[e]]++;
        p->nodes[extra.to[e]].pending++;
    }
    for (int i = 0; i < nfetches; i++) {
        p->fetch_slot[i] = src_slot(p, index_of, v.fetch[i]);
        p->slot_uses[p->fetch_slot[i]]++;
    }
    for (int j = 0; j < p->nnodes; j++) {
        p->nodes[j].succ = malloc((size_t)(nsucc[j] + 1) * sizeof(int));
        if (!p->nodes[j].succ) goto oom;
    }
    for (int j = 0; j < p->nnodes; j++) {
        tfc_node *n = p->nodes[j].node;
        const tfc_src *in = v.inputs[n->id];
        for (int i = 0; i < p->nodes[j].ninputs; i++) {
            if (in[i].kind != TFC_SRC_NODE) continue;
            tfc_plan_node *src = &p->nodes[index_of[in[i].id]];
            src->succ[src->nsucc++] = j;
        }
        for (int i = 0; i < v.ncontrol[n->id]; i++) {
            tfc_plan_node *src = &p->nodes[index_of[v.control[n->id][i]]];
            src->succ[src->nsucc++] = j;
        }
    }
    for (int e = 0; e < extra.n; e++) {
        tfc_plan_node *src = &p->nodes[extra.from[e]];
        src->succ[src->nsucc++] = extra.to[e];
    }
    if (tfc_plan_start_lists(p)) goto oom;
    /* devices: one (the usual case) keeps the plan as it is */
    if (s->devices->n == 1) {
        p->device = s->devices->devices[0];
        if (plan_handles(p, &v)) goto oom;
    } else {
        int *dev = malloc(((size_t)p->nnodes + 1) * sizeof *dev);
        if (!dev) goto oom;
        for (int j = 0; j < p->nnodes; j++) dev[j] = s->placement[p->nodes[j].node->id];
        int rc = tfc_plan_partition(p, dev, s->devices, status);
        free(dev);
        if (rc) goto fail;
    }

    free(extra.from);
    free(extra.to);
    free(nsucc);
    tfc_graph_view_free(&v);
    free(nodes);
    free(keep);
    free(index_of);
    return p;
oom:
    tfc_status_set(status, TFC_INTERNAL, "out of memory while planning a run");
fail:
    free(extra.from);
    free(extra.to);
    free(nsucc);
    tfc_graph_view_free(&v);
    free(nodes);
    free(keep);
    free(index_of);
    tfc_plan_free(p);
    return NULL;
}
