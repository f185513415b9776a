/* RunOptions.output_partition_graphs: the GraphDef of each partition a run
 * executed, as TensorFlow's RunMetadata.partition_graphs holds them. The
 * plan (one device) or each sub-plan (plan_partition.c) is written as it
 * runs: its nodes with their inputs taken from its value slots, every node
 * on its device's full name, and TensorFlow's forms of what the plan keeps
 * apart from its nodes (tensorflow/core/graph/graph_partition.cc,
 * subgraph.cc):
 *   - a fed tensor is a _Recv from the client, "_recv_<node>_<index>",
 *     client_terminated; a fetched one a _Send to it, "_send_<node>_<index>";
 *   - a constant folded at plan time is a Const ("_folded_const_<k>");
 *   - a pair carrying a control edge sends a float scalar: a Const on the
 *     sending side, made to wait for the source, feeds the _Send, and the
 *     _Recv's readers wait for it ("^recv"), as TensorFlow does;
 *   - an ordering edge within the partition is a control input. */
#include "runtime/runtime.h"

#include "device/send_recv.h"
#include "formats/graphdef.h"
#include "formats/proto.h"
#include "graph/attrs.h"
#include "graph/graph.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The nodes written for partition q: its own, then the ones made here. */
typedef struct writer {
    const tfc_plan *p, *q;
    int part; /* q's index among p's partitions (0 when q is p) */
    const tfc_device *client;
    int n, cap;
    tfc_node **nodes;
    /* nodes[0, q->nnodes) are q's; the rest are made here and freed with it */
    int *slot_owner;    /* per slot of q: the q node producing it, or -1 */
    int *extra_of_slot; /* per feed or constant slot: its node's index, or -1 */
    int *dummy_of;      /* per q node (a control _Send): its Const's index, or -1 */
    int *fetch_send;    /* per fetch of p: its _Send's index, or -1 (another partition's) */
} writer;

/* Appends n; its index, or -1 (memory). */
static int push(writer *w, tfc_node *n) {
    if (w->n == w->cap) {
        int cap = w->cap ? 2 * w->cap : 16;
        tfc_node **v = realloc(w->nodes, (size_t)cap * sizeof *v);
        if (!v) return -1;
        w->nodes = v;
        w->cap = cap;
    }
    w->nodes[w->n++] = n;
    return w->n - 1;
}

/* Appends a node made here (NULL: out of memory), freed if it cannot be. */
static int push_made(writer *w, tfc_node *n) {
    int k = n ? push(w, n) : -1;
    if (n && k < 0) tfc_sendrecv_node_free(n);
    return k;
}

/* A Const holding t (a reference is taken), on no device yet. */
static tfc_node *const_node(const char *name, tfc_tensor *t) {
    tfc_node *n = calloc(1, sizeof *n);
    if (!n) return NULL;
    n->id = -1;
    n->op = tfc_op_lookup("Const");
    n->name = strdup(name);
    n->out_dtypes = malloc(sizeof *n->out_dtypes);
    n->out_shapes = calloc(1, sizeof *n->out_shapes);
    if (!n->op || !n->name || !n->out_dtypes || !n->out_shapes) goto fail;
    n->noutputs = 1;
    n->out_dtypes[0] = t->dtype;
    n->out_shapes[0].rank = t->rank;
    for (int d = 0; d < t->rank; d++) n->out_shapes[0].dims[d] = t->dims[d];
    if (tfc_attrs_set_int(&n->attrs, "dtype", TFC_ATTR_TYPE, t->dtype) ||
        tfc_attrs_set_tensor(&n->attrs, "value", t))
        goto fail;
    return n;
fail:
    tfc_sendrecv_node_free(n);
    return NULL;
}

static tfc_node *client_terminated(tfc_node *n) {
    if (n && tfc_attrs_set_int(&n->attrs, "client_terminated", TFC_ATTR_BOOL, 1)) {
        tfc_sendrecv_node_free(n);
        return NULL;
    }
    return n;
}

/* The node written for feed or constant slot s, made on first use. */
static int slot_node(writer *w, int s) {
    if (w->extra_of_slot[s] >= 0) return w->extra_of_slot[s];
    const tfc_plan *p = w->p;
    char name[600], tensor_name[600];
    tfc_node *n;
    if (s < p->nfeeds) {
        tfc_output f = p->feeds[s];
        snprintf(name, sizeof name, "_recv_%s_%d", f.node->name, f.index);
        snprintf(tensor_name, sizeof tensor_name, "%s:%d", f.node->name, f.index);
        n = client_terminated(tfc_recv_node_new(name, tensor_name, f, w->client, w->q->device));
    } else {
        snprintf(name, sizeof name, "_folded_const_%d", s - p->nfeeds);
        n = const_node(name, p->consts[s - p->nfeeds]);
    }
    return w->extra_of_slot[s] = push_made(w, n);
}

/* "node" or "node:k" for slot s, in arena a; NULL when out of memory. */
static char *slot_name(tfc_arena *a, writer *w, int s) {
    const tfc_plan *q = w->q;
    if (s < q->nfeeds + q->nconsts) {
        int k = slot_node(w, s);
        return k < 0 ? NULL : w->nodes[k]->name;
    }
    const tfc_plan_node *pn = &q->nodes[w->slot_owner[s]];
    int idx = s - pn->out_slot;
    if (idx == 0) return pn->node->name;
    size_t len = strlen(pn->node->name) + 16;
    char *v = tfc_arena_alloc(a, len);
    if (v) snprintf(v, len, "%s:%d", pn->node->name, idx);
    return v;
}

/* Appends "^name" to m's inputs unless it is there. */
static int add_control(tfc_arena *a, Tensorflow__NodeDef *m, const char *name) {
    for (size_t k = 0; k < m->n_input; k++)
        if (m->input[k][0] == '^' && !strcmp(m->input[k] + 1, name)) return 0;
    size_t len = strlen(name) + 2;
    char *v = tfc_arena_alloc(a, len);
    if (!v) return -1;
    snprintf(v, len, "^%s", name);
    m->input[m->n_input++] = v;
    return 0;
}

static int reads_slot_of(const tfc_plan_node *reader, const tfc_plan_node *src) {
    for (int k = 0; k < reader->ninputs; k++)
        if (reader->input_slot[k] >= src->out_slot &&
            reader->input_slot[k] < src->out_slot + src->noutputs)
            return 1;
    return 0;
}

/* The slot of q holding fetch f, or -1 when another partition computes it. */
static int fetch_slot(const writer *w, int f) {
    const tfc_plan *p = w->p, *q = w->q;
    if (q == p) return p->fetch_slot[f];
    return p->fetch_part[f] == w->part ? q->fetch_slot[p->fetch_index[f]] : -1;
}

/* Lists q's nodes, then makes the ones written besides them: feeds and
 * constants q reads, its fetches' _Sends, the control pairs' Consts.
 * 0 or -1 (memory). */
static int make_extra_nodes(writer *w) {
    const tfc_plan *p = w->p, *q = w->q;
    for (int i = 0; i < q->nnodes; i++)
        if (push(w, q->nodes[i].node) < 0) return -1;
    for (int i = 0; i < q->nnodes; i++)
        for (int k = 0; k < q->nodes[i].ninputs; k++)
            if (q->nodes[i].input_slot[k] < q->nfeeds + q->nconsts &&
                slot_node(w, q->nodes[i].input_slot[k]) < 0)
                return -1;
    for (int f = 0; f < p->nfetches; f++) {
        int s = fetch_slot(w, f), again = -1;
        if (s < 0) continue;
        tfc_output out = p->fetches[f];
        for (int e = 0; e < f && again < 0; e++) /* fetched twice: one _Send */
            if (p->fetches[e].node == out.node && p->fetches[e].index == out.index)
                again = w->fetch_send[e];
        if (again >= 0) {
            w->fetch_send[f] = again;
            continue;
        }
        char name[600], tensor_name[600];
        snprintf(name, sizeof name, "_send_%s_%d", out.node->name, out.index);
        snprintf(tensor_name, sizeof tensor_name, "%s:%d", out.node->name, out.index);
        if (s < q->nfeeds + q->nconsts && slot_node(w, s) < 0) return -1;
        /* its input is the fetched slot: written below from fetch_slot */
        w->fetch_send[f] = push_made(
            w, client_terminated(tfc_send_node_new(name, tensor_name, out, q->device, w->client)));
        if (w->fetch_send[f] < 0) return -1;
    }
    for (int i = 0; i < q->nnodes; i++) {
        const tfc_node *n = q->nodes[i].node;
        if (n->op != &tfc_op_send || !tfc_sendrecv_is_control(n)) continue;
        char name[600];
        snprintf(name, sizeof name, "%s/control_const", n->name);
        tfc_tensor *zero = tfc_tensor_new(TFC_FLOAT, 0, NULL);
        if (!zero) return -1;
        *(float *)zero->data = 0;
        w->dummy_of[i] = push_made(w, const_node(name, zero));
        tfc_tensor_free(zero);
        if (w->dummy_of[i] < 0) return -1;
    }
    return 0;
}

/* Rewrites the NodeDefs' inputs from q's slots and edges, and devices. */
static int wire(tfc_arena *a, writer *w, Tensorflow__GraphDef *gd) {
    const tfc_plan *p = w->p, *q = w->q;
    int *npred = calloc((size_t)w->n + 1, sizeof *npred);
    if (!npred) return -1;
    for (int j = 0; j < q->nnodes; j++)
        for (int e = 0; e < q->nodes[j].nsucc; e++) {
            int i = q->nodes[j].succ[e];
            npred[w->dummy_of[i] >= 0 ? w->dummy_of[i] : i]++;
        }
    int rc = 0;
    for (int i = 0; i < w->n && rc == 0; i++) {
        Tensorflow__NodeDef *m = gd->node[i];
        m->device = w->q->device->name;
        m->n_input = 0;
        m->input = tfc_arena_alloc(
            a,
            sizeof *m->input * (size_t)(npred[i] + 2 + (i < q->nnodes ? q->nodes[i].ninputs : 0)));
        if (!m->input) rc = -1;
    }
    /* data inputs: q's nodes from their slots, a control _Send from its Const */
    for (int i = 0; i < q->nnodes && rc == 0; i++) {
        Tensorflow__NodeDef *m = gd->node[i];
        const tfc_plan_node *pn = &q->nodes[i];
        for (int k = 0; k < pn->ninputs && rc == 0; k++)
            if (!(m->input[m->n_input++] = slot_name(a, w, pn->input_slot[k]))) rc = -1;
        if (w->dummy_of[i] >= 0) m->input[m->n_input++] = w->nodes[w->dummy_of[i]]->name;
    }
    /* the fetches' _Sends */
    for (int f = 0; f < p->nfetches && rc == 0; f++) {
        if (w->fetch_send[f] < 0) continue;
        Tensorflow__NodeDef *m = gd->node[w->fetch_send[f]];
        if (!m->n_input && !(m->input[m->n_input++] = slot_name(a, w, fetch_slot(w, f)))) rc = -1;
    }
    /* ordering edges: the successor waits for the node (a control _Send's
     * Const waits in its stead) unless it reads one of its values */
    for (int j = 0; j < q->nnodes && rc == 0; j++)
        for (int e = 0; e < q->nodes[j].nsucc && rc == 0; e++) {
            int i = q->nodes[j].succ[e];
            if (reads_slot_of(&q->nodes[i], &q->nodes[j])) continue;
            int at = w->dummy_of[i] >= 0 ? w->dummy_of[i] : i;
            rc = add_control(a, gd->node[at], q->nodes[j].node->name);
        }
    free(npred);
    return rc;
}

/* Appends the GraphDef of partition `part`, plan q, of plan p to md. */
static int write_partition(tfc_run_metadata *md, const tfc_graph *g, const tfc_plan *p,
                           const tfc_plan *q, int part, const tfc_device *client) {
    writer w = {p, q, part, client, 0, 0, NULL, NULL, NULL, NULL, NULL};
    tfc_arena a = {0};
    tfc_buf b = {0};
    int rc = -1;
    w.slot_owner = malloc(((size_t)q->nslots + 1) * sizeof *w.slot_owner);
    w.extra_of_slot = malloc(((size_t)(q->nfeeds + q->nconsts) + 1) * sizeof *w.extra_of_slot);
    w.dummy_of = malloc(((size_t)q->nnodes + 1) * sizeof *w.dummy_of);
    w.fetch_send = malloc(((size_t)p->nfetches + 1) * sizeof *w.fetch_send);
    if (!w.slot_owner || !w.extra_of_slot || !w.dummy_of || !w.fetch_send) goto done;
    for (int s = 0; s < q->nslots; s++) w.slot_owner[s] = -1;
    for (int i = 0; i < q->nnodes; i++)
        for (int k = 0; k < q->nodes[i].noutputs; k++) w.slot_owner[q->nodes[i].out_slot + k] = i;
    for (int s = 0; s < q->nfeeds + q->nconsts; s++) w.extra_of_slot[s] = -1;
    for (int i = 0; i < q->nnodes; i++) w.dummy_of[i] = -1;
    for (int f = 0; f < p->nfetches; f++) w.fetch_send[f] = -1;
    if (make_extra_nodes(&w)) goto done;
    Tensorflow__GraphDef *gd = tfc_graphdef_build_nodes(&a, g, w.nodes, w.n);
    if (!gd || wire(&a, &w, gd)) goto done;
    tfc_buf_pack(&b, &gd->base);
    if (b.oom || tfc_run_metadata_add_partition_graph(md, b.p, b.n)) goto done;
    b.p = NULL; /* md owns the bytes */
    rc = 0;
done:
    for (int i = q->nnodes; i < w.n; i++) tfc_sendrecv_node_free(w.nodes[i]);
    free(w.nodes);
    free(w.slot_owner);
    free(w.extra_of_slot);
    free(w.dummy_of);
    free(w.fetch_send);
    tfc_arena_free(&a);
    tfc_buf_free(&b);
    return rc;
}

int tfc_run_metadata_add_partition_graphs(tfc_run_metadata *md, const tfc_session *s,
                                          const tfc_plan *p, tfc_status *status) {
    const tfc_device *client = s->devices->devices[0];
    int rc = 0;
    if (p->device) rc = write_partition(md, s->graph, p, p, 0, client);
    for (int k = 0; k < p->npartitions && rc == 0; k++)
        rc = write_partition(md, s->graph, p, p->partitions[k], k, client);
    if (rc) tfc_status_set(status, TFC_INTERNAL, "out of memory writing the partition graphs");
    return rc;
}
