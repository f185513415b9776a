/* Splitting a plan over devices (TensorFlow's graph partitioning, on the
 * scheduled plan rather than on a graph copy). Given a built plan whose
 * node j sits on device dev[j], each device gets a sub-plan with its own
 * nodes, value slots, successors and pending counts:
 *   - a data edge from device A to B becomes _Send (on A, reading the
 *     value) and _Recv (on B, giving it to B's readers): one pair per
 *     (value, receiving device), however many readers B has;
 *   - an ordering edge (a control input, read-before-write) from A to B
 *     that no data edge already carries becomes a pair sending no value:
 *     B's node waits for the _Recv, which waits for A's node;
 *   - feeds and the plan's constants are in every sub-plan's first slots;
 *   - each fetch is read from the sub-plan that computes it.
 * The sub-plans run at once (executor.c), one executor each. */
#include "device/send_recv.h"
#include "runtime/runtime.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct transfer {
    int src;  /* plan node sending */
    int slot; /* value slot sent, or -1 for an ordering edge */
    int from, to; /* partitions */
    tfc_node *send, *recv;
    int send_at, recv_at; /* their indices in the sub-plans */
} transfer;

typedef struct split {
    const tfc_plan *p;
    int nparts;
    int *part;        /* per plan node */
    int *owner;       /* per slot: the plan node producing it, or -1 */
    int ntr, trcap;
    transfer *tr;
    int *data_tr;     /* per (slot, partition): its transfer, or -1 */
    int *ctl_tr;      /* per (plan node, partition): its ordering transfer, or -1 */
} split;

static int add_transfer(split *sp, int src, int slot, int to) {
    if (sp->ntr == sp->trcap) {
        int cap = sp->trcap ? sp->trcap * 2 : 16;
        transfer *v = realloc(sp->tr, (size_t)cap * sizeof *v);
        if (!v) return -1;
        sp->tr = v;
        sp->trcap = cap;
    }
    transfer *t = &sp->tr[sp->ntr];
    memset(t, 0, sizeof *t);
    t->src = src;
    t->slot = slot;
    t->from = sp->part[src];
    t->to = to;
    return sp->ntr++;
}

/* Does plan node i read an output of plan node j? */
static int reads_from(const tfc_plan *p, int i, int j) {
    const tfc_plan_node *a = &p->nodes[i], *b = &p->nodes[j];
    for (int k = 0; k < a->ninputs; k++)
        if (a->input_slot[k] >= b->out_slot && a->input_slot[k] < b->out_slot + b->noutputs)
            return 1;
    return 0;
}

/* Finds the crossing edges. */
static int find_transfers(split *sp) {
    const tfc_plan *p = sp->p;
    int base = p->nfeeds + p->nconsts;
    for (int i = 0; i < p->nnodes; i++) {
        const tfc_plan_node *pn = &p->nodes[i];
        for (int k = 0; k < pn->ninputs; k++) {
            int s = pn->input_slot[k];
            if (s < base) continue;
            int j = sp->owner[s], to = sp->part[i];
            int *t = &sp->data_tr[(size_t)s * sp->nparts + to];
            if (sp->part[j] != to && *t < 0 && (*t = add_transfer(sp, j, s, to)) < 0) return -1;
        }
    }
    for (int j = 0; j < p->nnodes; j++) {
        const tfc_plan_node *pn = &p->nodes[j];
        for (int e = 0; e < pn->nsucc; e++) {
            int i = pn->succ[e], to = sp->part[i];
            if (to == sp->part[j] || reads_from(p, i, j)) continue;
            int *t = &sp->ctl_tr[(size_t)j * sp->nparts + to];
            if (*t < 0 && (*t = add_transfer(sp, j, -1, to)) < 0) return -1;
        }
    }
    return 0;
}

/* An edge list that grows: successors of each sub-plan node. */
typedef struct succ_builder {
    int n;
    int *count, *cap;
    int **succ;
} succ_builder;

static int succ_add(succ_builder *b, int from, int to) {
    if (b->count[from] == b->cap[from]) {
        int cap = b->cap[from] ? b->cap[from] * 2 : 4;
        int *v = realloc(b->succ[from], (size_t)cap * sizeof *v);
        if (!v) return -1;
        b->succ[from] = v;
        b->cap[from] = cap;
    }
    b->succ[from][b->count[from]++] = to;
    return 0;
}

/* Sub-plan of partition `part` on device d; NULL when memory runs out. */
static tfc_plan *build_part(split *sp, int part, tfc_device *d) {
    const tfc_plan *p = sp->p;
    int base = p->nfeeds + p->nconsts;
    tfc_plan *q = calloc(1, sizeof *q);
    int *loc = malloc(((size_t)p->nnodes + 1) * sizeof *loc);
    int *local_slot = malloc(((size_t)p->nslots + 1) * sizeof *local_slot);
    succ_builder sb = {0};
    if (!q || !loc || !local_slot) goto oom;
    pthread_mutex_init(&q->scratch_lock, NULL);
    atomic_init(&q->runs_to_time, 0);
    atomic_init(&q->chain, 0);
    q->device = d;
    q->nfeeds = p->nfeeds;
    q->nconsts = p->nconsts;
    q->consts = calloc((size_t)p->nconsts + 1, sizeof *q->consts);
    if (!q->consts) goto oom;
    for (int i = 0; i < p->nconsts; i++) q->consts[i] = tfc_tensor_ref(p->consts[i]);

    /* the nodes: this partition's plan nodes, then its _Recv and _Send nodes */
    int n = 0, nsend = 0, nrecv = 0;
    for (int j = 0; j < p->nnodes; j++) loc[j] = sp->part[j] == part ? n++ : -1;
    for (int t = 0; t < sp->ntr; t++) {
        if (sp->tr[t].to == part) sp->tr[t].recv_at = n + nrecv++;
        if (sp->tr[t].from == part) nsend++;
    }
    for (int t = 0, k = 0; t < sp->ntr; t++)
        if (sp->tr[t].from == part) sp->tr[t].send_at = n + nrecv + k++;
    q->nnodes = n + nrecv + nsend;
    q->nodes = calloc((size_t)q->nnodes + 1, sizeof *q->nodes);
    q->recvs = malloc(((size_t)nrecv + 1) * sizeof *q->recvs);
    q->aux = calloc((size_t)(nrecv + nsend) + 1, sizeof *q->aux);
    sb.n = q->nnodes;
    sb.count = calloc((size_t)sb.n + 1, sizeof *sb.count);
    sb.cap = calloc((size_t)sb.n + 1, sizeof *sb.cap);
    sb.succ = calloc((size_t)sb.n + 1, sizeof *sb.succ);
    if (!q->nodes || !q->recvs || !q->aux || !sb.count || !sb.cap || !sb.succ) goto oom;

    /* slots and node records */
    int slot = base;
    for (int s = 0; s < p->nslots; s++) local_slot[s] = s < base ? s : -1;
    for (int j = 0; j < p->nnodes; j++) {
        if (loc[j] < 0) continue;
        const tfc_plan_node *src = &p->nodes[j];
        tfc_plan_node *pn = &q->nodes[loc[j]];
        pn->node = src->node;
        pn->op = src->op;
        pn->ninputs = src->ninputs;
        pn->noutputs = src->noutputs;
        pn->out_slot = slot;
        for (int k = 0; k < src->noutputs; k++) local_slot[src->out_slot + k] = slot + k;
        slot += src->noutputs;
        pn->state = src->state;
        atomic_init(&pn->cheap, atomic_load(&src->cheap));
        atomic_init(&pn->cost_ns, 0);
        atomic_init(&pn->rank_ns, 0);
        pn->input_state = calloc((size_t)src->ninputs + 1, sizeof *pn->input_state);
        pn->input_slot = malloc(((size_t)src->ninputs + 1) * sizeof *pn->input_slot);
        if (!pn->input_state || !pn->input_slot) goto oom;
        if (src->ninputs) memcpy(pn->input_state, src->input_state,
                                 (size_t)src->ninputs * sizeof *pn->input_state);
    }
    for (int t = 0; t < sp->ntr; t++) {
        transfer *tr = &sp->tr[t];
        int is_recv = tr->to == part;
        if (!is_recv && tr->from != part) continue;
        tfc_node *node = is_recv ? tr->recv : tr->send;
        tfc_plan_node *pn = &q->nodes[is_recv ? tr->recv_at : tr->send_at];
        q->aux[q->naux++] = node;
        pn->node = node;
        pn->op = node->op;
        pn->ninputs = node->ninputs;
        pn->noutputs = node->noutputs;
        pn->out_slot = slot;
        slot += node->noutputs;
        atomic_init(&pn->cheap, 1);
        atomic_init(&pn->cost_ns, 0);
        atomic_init(&pn->rank_ns, 0);
        pn->input_state = calloc(2, sizeof *pn->input_state);
        pn->input_slot = malloc(2 * sizeof *pn->input_slot);
        if (!pn->input_state || !pn->input_slot) goto oom;
        if (is_recv) {
            q->recvs[q->nrecvs++] = tr->recv_at;
            pn->pending = 1; /* its value's arrival */
        } else if (tr->slot >= 0) {
            pn->input_slot[0] = local_slot[tr->slot];
        }
    }
    q->nslots = slot;
    q->slot_uses = calloc((size_t)slot + 1, sizeof *q->slot_uses);
    if (!q->slot_uses) goto oom;

    /* inputs: local values, or the _Recv of a value from elsewhere */
    for (int j = 0; j < p->nnodes; j++) {
        if (loc[j] < 0) continue;
        const tfc_plan_node *src = &p->nodes[j];
        tfc_plan_node *pn = &q->nodes[loc[j]];
        for (int k = 0; k < src->ninputs; k++) {
            int s = src->input_slot[k];
            if (s >= base && local_slot[s] < 0) {
                const transfer *tr = &sp->tr[sp->data_tr[(size_t)s * sp->nparts + part]];
                pn->input_slot[k] = q->nodes[tr->recv_at].out_slot;
                if (succ_add(&sb, tr->recv_at, loc[j])) goto oom;
            } else {
                pn->input_slot[k] = local_slot[s];
            }
        }
    }
    for (int i = 0; i < q->nnodes; i++)
        for (int k = 0; k < q->nodes[i].ninputs; k++) q->slot_uses[q->nodes[i].input_slot[k]]++;

    /* the other edges: local ones as they were, crossings through the pairs */
    for (int j = 0; j < p->nnodes; j++) {
        const tfc_plan_node *src = &p->nodes[j];
        for (int e = 0; e < src->nsucc; e++) {
            int i = src->succ[e];
            if (loc[j] >= 0 && loc[i] >= 0) {
                if (succ_add(&sb, loc[j], loc[i])) goto oom;
            } else if (loc[i] >= 0 && !reads_from(p, i, j)) {
                const transfer *tr = &sp->tr[sp->ctl_tr[(size_t)j * sp->nparts + part]];
                if (succ_add(&sb, tr->recv_at, loc[i])) goto oom;
            }
        }
    }
    for (int t = 0; t < sp->ntr; t++)
        if (sp->tr[t].from == part && succ_add(&sb, loc[sp->tr[t].src], sp->tr[t].send_at))
            goto oom;
    for (int i = 0; i < q->nnodes; i++) {
        q->nodes[i].input_base = q->total_inputs;
        q->total_inputs += q->nodes[i].ninputs;
        q->nodes[i].nsucc = sb.count[i];
        q->nodes[i].succ = sb.succ[i];
        sb.succ[i] = NULL;
        for (int e = 0; e < q->nodes[i].nsucc; e++) q->nodes[q->nodes[i].succ[e]].pending++;
    }
    if (tfc_plan_start_lists(q)) goto oom;

    /* this partition's fetches */
    q->fetch_slot = malloc(((size_t)p->nfetches + 1) * sizeof *q->fetch_slot);
    if (!q->fetch_slot) goto oom;
    for (int f = 0; f < p->nfetches; f++) {
        if (p->fetch_part[f] != part) continue;
        p->fetch_index[f] = q->nfetches;
        int s = local_slot[p->fetch_slot[f]];
        q->fetch_slot[q->nfetches++] = s;
        q->slot_uses[s]++;
    }
    free(sb.count);
    free(sb.cap);
    free(sb.succ);
    free(loc);
    free(local_slot);
    return q;
oom:
    for (int i = 0; sb.succ && i < sb.n; i++) free(sb.succ[i]);
    free(sb.count);
    free(sb.cap);
    free(sb.succ);
    free(loc);
    free(local_slot);
    if (q) q->naux = 0; /* the pairs stay with the caller's transfer list */
    tfc_plan_free(q);
    return NULL;
}

int tfc_plan_partition(tfc_plan *p, const int *dev, const tfc_device_set *devs,
                       tfc_status *status) {
    int first = p->nnodes ? dev[0] : 0, spans = 0;
    for (int j = 1; j < p->nnodes; j++) spans |= dev[j] != first;
    if (!spans) {
        p->device = devs->devices[first];
        return 0;
    }
    split sp;
    memset(&sp, 0, sizeof sp);
    sp.p = p;
    int *part_of_dev = malloc(((size_t)devs->n + 1) * sizeof *part_of_dev);
    int *dev_of_part = malloc(((size_t)devs->n + 1) * sizeof *dev_of_part);
    sp.part = malloc(((size_t)p->nnodes + 1) * sizeof *sp.part);
    sp.owner = malloc(((size_t)p->nslots + 1) * sizeof *sp.owner);
    if (!part_of_dev || !dev_of_part || !sp.part || !sp.owner) goto oom;
    for (int d = 0; d < devs->n; d++) part_of_dev[d] = -1;
    for (int j = 0; j < p->nnodes; j++) part_of_dev[dev[j]] = 0;
    for (int d = 0; d < devs->n; d++)
        if (part_of_dev[d] == 0) {
            dev_of_part[sp.nparts] = d;
            part_of_dev[d] = sp.nparts++;
        }
    for (int j = 0; j < p->nnodes; j++) sp.part[j] = part_of_dev[dev[j]];
    for (int s = 0; s < p->nslots; s++) sp.owner[s] = -1;
    for (int j = 0; j < p->nnodes; j++)
        for (int k = 0; k < p->nodes[j].noutputs; k++) sp.owner[p->nodes[j].out_slot + k] = j;
    sp.data_tr = malloc(((size_t)p->nslots * sp.nparts + 1) * sizeof *sp.data_tr);
    sp.ctl_tr = malloc(((size_t)p->nnodes * sp.nparts + 1) * sizeof *sp.ctl_tr);
    if (!sp.data_tr || !sp.ctl_tr) goto oom;
    for (size_t i = 0; i < (size_t)p->nslots * sp.nparts; i++) sp.data_tr[i] = -1;
    for (size_t i = 0; i < (size_t)p->nnodes * sp.nparts; i++) sp.ctl_tr[i] = -1;
    if (find_transfers(&sp)) goto oom;

    /* the _Send/_Recv nodes, named as TensorFlow names them ("x/_0") */
    for (int t = 0; t < sp.ntr; t++) {
        transfer *tr = &sp.tr[t];
        const tfc_plan_node *src = &p->nodes[tr->src];
        char tensor_name[400], send_name[400], recv_name[400];
        snprintf(tensor_name, sizeof tensor_name, "edge_%d_%s", t, src->node->name);
        snprintf(send_name, sizeof send_name, "%s/_%d", src->node->name, 2 * t);
        snprintf(recv_name, sizeof recv_name, "%s/_%d", src->node->name, 2 * t + 1);
        tfc_output value = {NULL, 0};
        if (tr->slot >= 0) value = tfc_out(src->node, tr->slot - src->out_slot);
        const tfc_device *from = devs->devices[dev_of_part[tr->from]];
        const tfc_device *to = devs->devices[dev_of_part[tr->to]];
        tr->send = tfc_send_node_new(send_name, tensor_name, value, from, to);
        tr->recv = tfc_recv_node_new(recv_name, tensor_name, value, from, to);
        if (!tr->send || !tr->recv) goto oom;
    }
    p->fetch_part = malloc(((size_t)p->nfetches + 1) * sizeof *p->fetch_part);
    p->fetch_index = calloc((size_t)p->nfetches + 1, sizeof *p->fetch_index);
    p->partitions = calloc((size_t)sp.nparts, sizeof *p->partitions);
    if (!p->fetch_part || !p->fetch_index || !p->partitions) goto oom;
    int base = p->nfeeds + p->nconsts;
    for (int f = 0; f < p->nfetches; f++)
        p->fetch_part[f] = p->fetch_slot[f] < base ? -1 : sp.part[sp.owner[p->fetch_slot[f]]];
    for (int k = 0; k < sp.nparts; k++) {
        p->partitions[k] = build_part(&sp, k, devs->devices[dev_of_part[k]]);
        if (!p->partitions[k]) goto oom;
        p->npartitions++;
    }
    /* the sub-plans own the pairs now */
    for (int t = 0; t < sp.ntr; t++) sp.tr[t].send = sp.tr[t].recv = NULL;
    free(part_of_dev);
    free(dev_of_part);
    free(sp.part);
    free(sp.owner);
    free(sp.data_tr);
    free(sp.ctl_tr);
    free(sp.tr);
    return 0;
oom:
    /* pairs already handed to a sub-plan are freed with it */
    for (int k = 0; k < p->npartitions; k++)
        for (int a = 0; a < p->partitions[k]->naux; a++)
            for (int t = 0; t < sp.ntr; t++) {
                if (sp.tr[t].send == p->partitions[k]->aux[a]) sp.tr[t].send = NULL;
                if (sp.tr[t].recv == p->partitions[k]->aux[a]) sp.tr[t].recv = NULL;
            }
    for (int t = 0; t < sp.ntr; t++) {
        tfc_sendrecv_node_free(sp.tr[t].send);
        tfc_sendrecv_node_free(sp.tr[t].recv);
    }
    free(part_of_dev);
    free(dev_of_part);
    free(sp.part);
    free(sp.owner);
    free(sp.data_tr);
    free(sp.ctl_tr);
    free(sp.tr);
    tfc_status_set(status, TFC_INTERNAL, "out of memory splitting a plan over devices");
    return -1;
}
