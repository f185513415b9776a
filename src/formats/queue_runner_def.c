/* QueueRunnerDef encode and decode for MetaGraphs (see the header). Names
 * are written as TensorFlow's QueueRunner.to_proto writes them: op names,
 * no ":0"; queue_closed_exception_types is [OUT_OF_RANGE], TF's default.
 * tfc's runner always ends on OUT_OF_RANGE or CANCELLED, so other listed
 * codes are accepted and not kept. */
#include "formats/queue_runner_def.h"
#include "core/status.h"
#include "graph/graph.h"
#include "meta_graph.pb-c.h"
#include "queue_runner.pb-c.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define QR_KEY "queue_runners"
enum { OUT_OF_RANGE_CODE = 11 };

int tfc_queue_runner_key(const char *key) {
    size_t n = strlen(QR_KEY);
    return !strncmp(key, QR_KEY, n) && (key[n] == 0 || key[n] == '/');
}

static const tfc_collection *collection(const tfc_graph *g, const char *key) {
    return tfc_strmap_get(&g->collections, key);
}

/* The node of runner i's collection `what` (the first), or NULL. */
static tfc_node *runner_op(const tfc_graph *g, int i, const char *what) {
    char key[64];
    snprintf(key, sizeof key, QR_KEY "/%d/%s", i, what);
    const tfc_collection *c = collection(g, key);
    return c && c->n ? c->items[0] : NULL;
}

int tfc_queue_runner_defs_export(tfc_arena *a, const tfc_graph *g,
                                 Tensorflow__MetaGraphDef *m) {
    const tfc_collection *queues = collection(g, QR_KEY);
    if (!queues || !queues->n) return 0;
    static int32_t closed_types[] = {OUT_OF_RANGE_CODE};
    ProtobufCBinaryData *items = tfc_arena_alloc(a, sizeof *items * (size_t)queues->n);
    if (!items) return -1;
    for (int i = 0; i < queues->n; i++) {
        char key[64];
        snprintf(key, sizeof key, QR_KEY "/%d/enqueue_ops", i);
        const tfc_collection *enq = collection(g, key);
        Tensorflow__QueueRunnerDef qr;
        tensorflow__queue_runner_def__init(&qr);
        qr.queue_name = queues->items[i]->name;
        qr.n_enqueue_op_name = enq ? (size_t)enq->n : 0;
        qr.enqueue_op_name = tfc_arena_alloc(a, sizeof(char *) * (qr.n_enqueue_op_name + 1));
        if (!qr.enqueue_op_name) return -1;
        for (size_t k = 0; k < qr.n_enqueue_op_name; k++)
            qr.enqueue_op_name[k] = enq->items[k]->name;
        tfc_node *close = runner_op(g, i, "close_op"), *cancel = runner_op(g, i, "cancel_op");
        qr.close_op_name = close ? close->name : "";
        qr.cancel_op_name = cancel ? cancel->name : "";
        qr.n_queue_closed_exception_types = 1;
        qr.queue_closed_exception_types = closed_types;
        size_t n = tensorflow__queue_runner_def__get_packed_size(&qr);
        uint8_t *p = tfc_arena_alloc(a, n ? n : 1);
        if (!p) return -1;
        tensorflow__queue_runner_def__pack(&qr, p);
        items[i] = (ProtobufCBinaryData){n, p};
    }
    Tensorflow__MetaGraphDef__CollectionDefEntry *e = tfc_arena_alloc(a, sizeof *e);
    Tensorflow__CollectionDef *cd = tfc_arena_alloc(a, sizeof *cd);
    Tensorflow__CollectionDef__BytesList *bl = tfc_arena_alloc(a, sizeof *bl);
    Tensorflow__MetaGraphDef__CollectionDefEntry **all =
        tfc_arena_alloc(a, sizeof *all * (m->n_collection_def + 1));
    if (!e || !cd || !bl || !all) return -1;
    tensorflow__meta_graph_def__collection_def_entry__init(e);
    tensorflow__collection_def__init(cd);
    tensorflow__collection_def__bytes_list__init(bl);
    bl->n_value = (size_t)queues->n;
    bl->value = items;
    cd->kind_case = TENSORFLOW__COLLECTION_DEF__KIND_BYTES_LIST;
    cd->bytes_list = bl;
    e->key = QR_KEY;
    e->value = cd;
    if (m->n_collection_def)
        memcpy(all, m->collection_def, sizeof *all * m->n_collection_def);
    all[m->n_collection_def++] = e;
    m->collection_def = all;
    return 0;
}

/* The "queue_runners" entry of m when it is TensorFlow's bytes_list (an
 * older tfc MetaGraph wrote a node_list, which imports as collections). */
static const Tensorflow__CollectionDef__BytesList *runner_list(const Tensorflow__MetaGraphDef *m) {
    for (size_t i = 0; i < m->n_collection_def; i++) {
        const Tensorflow__MetaGraphDef__CollectionDefEntry *e = m->collection_def[i];
        if (e->key && !strcmp(e->key, QR_KEY) && e->value &&
            e->value->kind_case == TENSORFLOW__COLLECTION_DEF__KIND_BYTES_LIST)
            return e->value->bytes_list;
    }
    return NULL;
}

/* "name", "name:0" or "^name" -> "<prefix>/name" into buf; -1 when too long. */
static int node_name(const char *s, const char *prefix, char *buf, size_t cap) {
    if (s[0] == '^') s++;
    size_t n = strcspn(s, ":");
    int p = prefix && *prefix;
    int len = snprintf(buf, cap, "%s%s%.*s", p ? prefix : "", p ? "/" : "", (int)n, s);
    return len < 0 || (size_t)len >= cap ? -1 : 0;
}

typedef struct names {
    const Tensorflow__GraphDef *gd; /* check: names of its nodes */
    tfc_graph *g;                   /* import: nodes of g under prefix */
    const char *prefix;
} names;

static tfc_node *lookup(const names *nm, const char *s, int *found) {
    char buf[1100];
    *found = 0;
    if (node_name(s, nm->g ? nm->prefix : NULL, buf, sizeof buf)) return NULL;
    if (nm->g) {
        tfc_node *n = tfc_graph_node_by_name(nm->g, buf);
        *found = n != NULL;
        return n;
    }
    for (size_t i = 0; i < nm->gd->n_node; i++)
        if (!strcmp(nm->gd->node[i]->name, buf)) {
            *found = 1;
            break;
        }
    return NULL;
}

/* Resolves QueueRunnerDef k's names. -1 with status naming the missing
 * one (or, with `skip`, 1: leave the runner out). */
static int resolve(const names *nm, const Tensorflow__QueueRunnerDef *qr, size_t k, int skip,
                   tfc_node **queue, tfc_node **enq, tfc_node **close, tfc_node **cancel,
                   tfc_status *st) {
    int found;
    const char *missing = NULL;
    *queue = lookup(nm, qr->queue_name, &found);
    if (!found) missing = qr->queue_name;
    for (size_t i = 0; !missing && i < qr->n_enqueue_op_name; i++) {
        enq[i] = lookup(nm, qr->enqueue_op_name[i], &found);
        if (!found) missing = qr->enqueue_op_name[i];
    }
    *close = *cancel = NULL;
    if (!missing && *qr->close_op_name) {
        *close = lookup(nm, qr->close_op_name, &found);
        if (!found) missing = qr->close_op_name;
    }
    if (!missing && *qr->cancel_op_name) {
        *cancel = lookup(nm, qr->cancel_op_name, &found);
        if (!found) missing = qr->cancel_op_name;
    }
    if (!missing) return 0;
    if (skip) return 1;
    tfc_status_set(st, TFC_INVALID_ARGUMENT,
                   "MetaGraph collection 'queue_runners': QueueRunnerDef %zu (queue '%s') names "
                   "node '%s', which is not in its graph",
                   k, qr->queue_name, missing);
    return -1;
}

/* Calls one_runner for each QueueRunnerDef; stops at the first error. */
static int each_runner(const Tensorflow__MetaGraphDef *m, const names *nm, int pruned,
                       tfc_status *st) {
    const Tensorflow__CollectionDef__BytesList *bl = runner_list(m);
    int rc = 0;
    for (size_t k = 0; bl && k < bl->n_value && !rc; k++) {
        Tensorflow__QueueRunnerDef *qr =
            tensorflow__queue_runner_def__unpack(NULL, bl->value[k].len, bl->value[k].data);
        if (!qr || !*qr->queue_name || !qr->n_enqueue_op_name) {
            tfc_status_set(st, TFC_INVALID_ARGUMENT,
                           "MetaGraph collection 'queue_runners': entry %zu is not a "
                           "QueueRunnerDef with a queue and an enqueue op",
                           k);
            if (qr) tensorflow__queue_runner_def__free_unpacked(qr, NULL);
            return -1;
        }
        tfc_node **enq = calloc(qr->n_enqueue_op_name, sizeof *enq);
        tfc_node *queue, *close, *cancel;
        if (!enq) {
            tfc_status_set(st, TFC_RESOURCE_EXHAUSTED, "out of memory importing queue runners");
            rc = -1;
        } else {
            rc = resolve(nm, qr, k, pruned, &queue, enq, &close, &cancel, st);
            if (rc == 1) {
                rc = 0; /* pruned away */
            } else if (rc == 0 && nm->g &&
                       tfc_add_queue_runner(nm->g, tfc_out(queue, 0), enq,
                                            (int)qr->n_enqueue_op_name, close, cancel)) {
                tfc_status_set(st, TFC_INVALID_ARGUMENT, "QueueRunnerDef %zu (queue '%s'): %s", k,
                               qr->queue_name, tfc_graph_error(nm->g));
                rc = -1;
            }
        }
        free(enq);
        tensorflow__queue_runner_def__free_unpacked(qr, NULL);
    }
    return rc;
}

int tfc_queue_runner_defs_check(const Tensorflow__MetaGraphDef *m, tfc_status *st) {
    names nm = {m->graph_def, NULL, NULL};
    return each_runner(m, &nm, 0, st);
}

int tfc_queue_runner_defs_import(tfc_graph *g, const Tensorflow__MetaGraphDef *m,
                                 const char *prefix, int pruned, tfc_status *st) {
    names nm = {NULL, g, prefix};
    return each_runner(m, &nm, pruned, st);
}
