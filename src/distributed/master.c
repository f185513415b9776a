/* The master: a session on a server that runs a graph over the cluster
 * (TensorFlow's MasterSession). Per run signature, once:
 *   1. place every node of the graph on the cluster's tasks (the placer of
 *      src/device, over one CPU device per task, the master's own first,
 *      so nodes without a job run here);
 *   2. prune what the fetches and targets need (fed tensors cut their
 *      producers off);
 *   3. cut the needed nodes into one graph per task. An edge from another
 *      task becomes a Placeholder fed from the rendezvous; a value another
 *      task needs is fetched and sent; a control edge crossing tasks is
 *      a token (a Const run after the source) sent to a Placeholder whose
 *      Identity the dependents wait for; the task's targets hang off one
 *      "done" Const. User feeds and fetches belong to the master's part;
 *   4. register each part on its task (MSG_REGISTER: the GraphDef, with
 *      the graph's function library when a node of it calls functions, and
 *      what each feed and fetch is), which imports it into the task's
 *      store, sharing the variables there by name. A function body runs
 *      whole on its caller's task (check_body).
 * Per step: MSG_RUN to each task with a fresh step id, the master's own
 * part run here, and a wait for every task's MSG_DONE; an error anywhere
 * aborts the step on the others. */
#include "distributed/server.h"
#include "core/clock.h"
#include "device/device.h"
#include "device/placer.h"
#include "formats/graphdef.h"
#include "graph/function.h"
#include "graph/graph.h"
#include "runtime/runtime.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct mplan {
    uint64_t hash;
    int nfeeds, nfetches, ntargets;
    tfc_output *feeds, *fetches;
    tfc_node **targets;
    int ntasks;
    int *ranks;        /* the tasks the step runs on; ranks[0] is the master's */
    int local;         /* the master's own task has a part (else ranks[0] is unused) */
    uint64_t *handles; /* their partitions */
} mplan;

struct tfc_cluster_session {
    tfc_server *srv;
    tfc_graph *g;
    int soft, log;
    tfc_device_set devs;
    tfc_device *dev_store;
    int *dev_rank;
    int *assign; /* device index per node id, nodes [0, nplaced) */
    int nplaced;
    pthread_mutex_t lock;
    int nplans;
    mplan **plans;
};

static atomic_uint_fast64_t next_id = 1;

/* ---- building the parts -------------------------------------------------- */

typedef struct transfer {
    tfc_output src; /* the value (src.node NULL for a user feed) */
    int feed;       /* user feed index, or -1 */
    tfc_node *ctl;  /* a control edge's source, or NULL */
    int from, to;   /* ranks */
    char key[700];
    tfc_node *recv; /* its Placeholder on `to` while building that part */
    tfc_node *recv_ctl;
} transfer;

typedef struct builder {
    tfc_cluster_session *cs;
    const int *rank_of; /* per node id */
    const char *need;
    int me;
    int nfeeds;
    const tfc_output *feeds;
    int ntr, trcap;
    transfer *tr;
    /* the graph's function library (no nodes, no devices), imported into
     * each part that calls functions; NULL when no needed node does */
    const Tensorflow__GraphDef *lib;
} builder;

static int feed_index(const builder *b, tfc_output o) {
    for (int i = 0; i < b->nfeeds; i++)
        if (b->feeds[i].node == o.node && b->feeds[i].index == o.index) return i;
    return -1;
}

/* The task holding value o. */
static int value_rank(const builder *b, tfc_output o) {
    return feed_index(b, o) >= 0 ? b->me : b->rank_of[o.node->id];
}

static int add_transfer(builder *b, tfc_output o, tfc_node *ctl, int to) {
    int feed = ctl ? -1 : feed_index(b, o);
    int from = ctl ? b->rank_of[ctl->id] : value_rank(b, o);
    for (int i = 0; i < b->ntr; i++) {
        transfer *t = &b->tr[i];
        if (t->to == to && t->ctl == ctl &&
            (ctl || (t->src.node == o.node && t->src.index == o.index)))
            return 0;
    }
    if (b->ntr == b->trcap) {
        int cap = b->trcap ? b->trcap * 2 : 16;
        transfer *v = realloc(b->tr, (size_t)cap * sizeof *v);
        if (!v) return -1;
        b->tr = v;
        b->trcap = cap;
    }
    transfer *t = &b->tr[b->ntr++];
    memset(t, 0, sizeof *t);
    t->src = ctl ? (tfc_output){NULL, 0} : o;
    t->feed = feed;
    t->ctl = ctl;
    t->from = from;
    t->to = to;
    return 0;
}

static transfer *find_transfer(builder *b, tfc_output o, tfc_node *ctl, int to) {
    for (int i = 0; i < b->ntr; i++) {
        transfer *t = &b->tr[i];
        if (t->to == to && t->ctl == ctl &&
            (ctl || (t->src.node == o.node && t->src.index == o.index)))
            return t;
    }
    return NULL;
}

/* A name of our own in the part: not a name of the user's graph. */
static void own_name(const tfc_graph *g, char *buf, size_t cap, const char *kind, int i) {
    snprintf(buf, cap, "tfc_%s_%d", kind, i);
    while (tfc_graph_node_by_name(g, buf) && strlen(buf) + 2 < cap) strcat(buf, "_");
}

static tfc_node *placeholder(tfc_graph *pg, const char *name, tfc_dtype dt, tfc_shape sh) {
    tfc_op_desc *d = tfc_op_new(pg, "Placeholder", name);
    tfc_op_set_attr_type(d, "dtype", dt);
    if (sh.rank >= 0) tfc_op_set_attr_shape(d, "shape", sh.rank, sh.dims);
    return tfc_op_finish(d);
}

/* A copy of node n in pg with inputs from `inputs` and control inputs. */
static tfc_node *copy_node(tfc_graph *pg, const tfc_node *n, const tfc_output *inputs,
                           tfc_node *const *ctl, int nctl) {
    tfc_op_desc *d = tfc_op_new(pg, n->op->type, n->name);
    if (!d) return NULL;
    tfc_op_add_inputs(d, inputs, n->ninputs);
    for (int i = 0; i < nctl; i++) tfc_op_add_control_input(d, ctl[i]);
    for (int i = 0; i < n->attrs.n; i++) {
        const tfc_attr *a = &n->attrs.items[i];
        /* colocation names nodes of other parts: placement is done */
        if (!strcmp(a->name, "_class")) continue;
        switch (a->kind) {
        case TFC_ATTR_INT: tfc_op_set_attr_int(d, a->name, a->v.i); break;
        case TFC_ATTR_BOOL: tfc_op_set_attr_bool(d, a->name, (int)a->v.i); break;
        case TFC_ATTR_TYPE: tfc_op_set_attr_type(d, a->name, (tfc_dtype)a->v.i); break;
        case TFC_ATTR_FLOAT: tfc_op_set_attr_float(d, a->name, a->v.f); break;
        case TFC_ATTR_SHAPE:
            tfc_op_set_attr_shape(d, a->name, a->v.shape.rank, a->v.shape.dims);
            break;
        case TFC_ATTR_STRING: tfc_op_set_attr_string(d, a->name, a->v.s); break;
        case TFC_ATTR_TENSOR: tfc_op_set_attr_tensor(d, a->name, a->v.t); break;
        case TFC_ATTR_INT_LIST:
            tfc_op_set_attr_int_list(d, a->name, a->v.list.i, a->v.list.n);
            break;
        case TFC_ATTR_FLOAT_LIST:
            tfc_op_set_attr_float_list(d, a->name, a->v.list.f, a->v.list.n);
            break;
        case TFC_ATTR_STRING_LIST:
            tfc_op_set_attr_string_list(d, a->name, (const char *const *)a->v.list.s,
                                        a->v.list.n);
            break;
        }
    }
    return tfc_op_finish(d);
}

typedef struct ends {
    int n, cap;
    char **names;
    int *kind, *index;
    char **keys;
} ends;

static int ends_add(ends *e, tfc_output o, int kind, int index, const char *key) {
    if (!o.node) return -1;
    if (e->n == e->cap) {
        int cap = e->cap ? e->cap * 2 : 16;
        char **n = realloc(e->names, (size_t)cap * sizeof *n);
        if (n) e->names = n;
        int *k = realloc(e->kind, (size_t)cap * sizeof *k);
        if (k) e->kind = k;
        int *x = realloc(e->index, (size_t)cap * sizeof *x);
        if (x) e->index = x;
        char **y = realloc(e->keys, (size_t)cap * sizeof *y);
        if (y) e->keys = y;
        if (!n || !k || !x || !y) return -1;
        e->cap = cap;
    }
    char name[600];
    snprintf(name, sizeof name, "%s:%d", tfc_node_name(o.node), o.index);
    e->names[e->n] = strdup(name);
    e->keys[e->n] = strdup(key ? key : "");
    e->kind[e->n] = kind;
    e->index[e->n] = index;
    if (!e->names[e->n] || !e->keys[e->n]) {
        free(e->names[e->n]);
        free(e->keys[e->n]);
        return -1;
    }
    e->n++;
    return 0;
}

static void ends_free(ends *e) {
    for (int i = 0; i < e->n; i++) {
        free(e->names[i]);
        free(e->keys[i]);
    }
    free(e->names);
    free(e->kind);
    free(e->index);
    free(e->keys);
}

static void ends_write(wire_buf *w, const ends *e) {
    wire_u32(w, (uint32_t)e->n);
    for (int i = 0; i < e->n; i++) {
        wire_u8(w, (uint8_t)e->kind[i]);
        wire_u32(w, (uint32_t)e->index[i]);
        wire_str(w, e->names[i]);
        wire_str(w, e->keys[i]);
    }
}

static int is_variable(const tfc_node *n) {
    return (n->op->flags & TFC_OP_VARIABLE) || !strcmp(n->op->type, "VarHandleOp");
}

/* A variable's value is fetched through an Identity (TensorFlow's
 * "read"): an uninitialized variable then fails that node, which stops
 * the step, where a fetch of the variable itself would just never come
 * and leave the task receiving it waiting. */
static tfc_output read_if_variable(const tfc_graph *g, tfc_graph *pg, tfc_output v, int i) {
    if (!v.node || !is_variable(v.node) || !strcmp(v.node->op->type, "VarHandleOp")) return v;
    char name[64];
    own_name(g, name, sizeof name, "read", i);
    tfc_with_name(pg, name);
    return tfc_identity(pg, v);
}

/* The part of task `t` as a MSG_REGISTER body into *w. */
static int build_part(builder *b, int t, uint64_t handle, const tfc_output *fetches,
                      int nfetches, tfc_node *const *targets, int ntargets, wire_buf *w,
                      tfc_status *st) {
    tfc_cluster_session *cs = b->cs;
    tfc_graph *g = cs->g;
    int nn = tfc_graph_num_nodes(g);
    tfc_graph *pg = tfc_graph_new();
    tfc_node **copy = calloc((size_t)nn + 1, sizeof *copy);
    tfc_node **feedph = calloc((size_t)b->nfeeds + 1, sizeof *feedph);
    tfc_output *ins = NULL;
    tfc_node **ctls = NULL;
    ends fe = {0}, fo = {0};
    int rc = -1, nvars = 0;
    char name[256];
    uint8_t *gd = NULL;
    size_t gdlen = 0;
    if (!pg || !copy || !feedph) goto oom;
    /* the bodies of the part's If, While and calls travel as its library */
    if (b->lib && tfc_graphdef_import(pg, b->lib, NULL, 0, st)) {
        char who[96];
        tfc_status why;
        tfc_status_copy(&why, st);
        tfc_status_set(st, why.code,
                       "cutting the graph for task %s: importing the function library: %s",
                       srv_task_name(cs->srv, t, who, sizeof who), why.msg);
        goto out;
    }
    if (t == b->me)
        for (int i = 0; i < b->nfeeds; i++) {
            own_name(g, name, sizeof name, "feed", i);
            feedph[i] = placeholder(pg, name, tfc_output_dtype(b->feeds[i]),
                                    tfc_output_shape(b->feeds[i]));
            if (!feedph[i] || ends_add(&fe, tfc_out(feedph[i], 0), PART_USER, i, NULL)) goto graph_err;
        }
    for (int i = 0; i < b->ntr; i++) {
        transfer *tr = &b->tr[i];
        if (tr->to != t) continue;
        own_name(g, name, sizeof name, "recv", i);
        if (tr->ctl) {
            tfc_shape sh = {0, {0}};
            tr->recv = placeholder(pg, name, TFC_INT32, sh);
            own_name(g, name, sizeof name, "recv_ctl", i);
            if (tr->recv) {
                tfc_with_name(pg, name);
                tr->recv_ctl = tfc_identity(pg, tfc_out(tr->recv, 0)).node;
            }
        } else {
            tr->recv = placeholder(pg, name, tfc_output_dtype(tr->src), tfc_output_shape(tr->src));
        }
        if (!tr->recv || ends_add(&fe, tfc_out(tr->recv, 0), PART_TRANSFER, i, tr->key))
            goto graph_err;
    }
    /* the task's nodes, in id order (a topological order) */
    for (int id = 0; id < nn; id++) {
        tfc_node *n = tfc_graph_node(g, id);
        if (!b->need[id] || b->rank_of[id] != t) continue;
        free(ins);
        free(ctls);
        ins = calloc((size_t)n->ninputs + 1, sizeof *ins);
        ctls = calloc((size_t)n->ncontrol + 1, sizeof *ctls);
        if (!ins || !ctls) goto oom;
        for (int k = 0; k < n->ninputs; k++) {
            tfc_output o = n->inputs[k];
            int f = feed_index(b, o);
            if (value_rank(b, o) == t)
                ins[k] = f >= 0 ? tfc_out(feedph[f], 0) : tfc_out(copy[o.node->id], o.index);
            else
                ins[k] = tfc_out(find_transfer(b, o, NULL, t)->recv, 0);
        }
        int nc = 0;
        for (int k = 0; k < n->ncontrol; k++) {
            tfc_node *c = n->control_inputs[k];
            if (!b->need[c->id]) continue;
            ctls[nc++] = b->rank_of[c->id] == t ? copy[c->id]
                                                : find_transfer(b, tfc_out(c, 0), c, t)->recv_ctl;
        }
        copy[id] = copy_node(pg, n, ins, ctls, nc);
        if (!copy[id]) goto graph_err;
        if (is_variable(n)) nvars++;
    }
    /* what the other tasks need from here */
    for (int i = 0; i < b->ntr; i++) {
        transfer *tr = &b->tr[i];
        if (tr->from != t) continue;
        tfc_output v;
        if (tr->ctl) {
            own_name(g, name, sizeof name, "send_ctl", i);
            tfc_control_dependencies_push(pg, &copy[tr->ctl->id], 1);
            tfc_with_name(pg, name);
            v = tfc_const_int32(pg, 0);
            tfc_control_dependencies_pop(pg);
        } else {
            v = tr->feed >= 0 ? tfc_out(feedph[tr->feed], 0)
                              : tfc_out(copy[tr->src.node->id], tr->src.index);
            v = read_if_variable(g, pg, v, i);
        }
        if (!v.node || ends_add(&fo, v, PART_TRANSFER, i, tr->key)) goto graph_err;
    }
    if (t == b->me)
        for (int i = 0; i < nfetches; i++) {
            tfc_output o = fetches[i];
            int f = feed_index(b, o);
            tfc_output v = f >= 0                    ? tfc_out(feedph[f], 0)
                           : value_rank(b, o) == t   ? tfc_out(copy[o.node->id], o.index)
                                                     : tfc_out(find_transfer(b, o, NULL, t)->recv, 0);
            v = read_if_variable(g, pg, v, 100000 + i);
            if (ends_add(&fo, v, PART_USER, i, NULL)) goto graph_err;
        }
    /* "done" waits for the targets here and for every value coming in, so
     * that the run cannot end before all have arrived (a value only
     * fetched is read by no node) */
    int ndone = 0;
    tfc_node **done_deps = calloc((size_t)ntargets + (size_t)b->ntr + 1, sizeof *done_deps);
    if (!done_deps) goto oom;
    for (int i = 0; i < ntargets; i++)
        if (b->rank_of[targets[i]->id] == t) done_deps[ndone++] = copy[targets[i]->id];
    for (int i = 0; i < b->ntr; i++) {
        transfer *tr = &b->tr[i];
        if (tr->to != t) continue;
        if (tr->ctl) {
            done_deps[ndone++] = tr->recv_ctl;
            continue;
        }
        own_name(g, name, sizeof name, "arrived", i);
        tfc_with_name(pg, name);
        done_deps[ndone++] = tfc_identity(pg, tfc_out(tr->recv, 0)).node;
    }
    if (tfc_graph_error(pg)) {
        free(done_deps);
        goto graph_err;
    }
    if (ndone) {
        own_name(g, name, sizeof name, "done", 0);
        tfc_control_dependencies_push(pg, done_deps, ndone);
        tfc_with_name(pg, name);
        tfc_output v = tfc_const_int32(pg, 0);
        tfc_control_dependencies_pop(pg);
        if (!v.node || ends_add(&fo, v, PART_DONE, 0, NULL)) {
            free(done_deps);
            goto graph_err;
        }
    }
    free(done_deps);
    if (tfc_graph_error(pg)) goto graph_err;
    if (tfc_graph_to_graphdef(pg, &gd, &gdlen, st)) goto out;
    wire_u64(w, handle);
    wire_u32(w, (uint32_t)nvars);
    for (int id = 0; id < nn; id++)
        if (copy[id] && is_variable(copy[id])) wire_str(w, copy[id]->name);
    ends_write(w, &fe);
    ends_write(w, &fo);
    wire_bytes(w, gd, gdlen);
    if (w->oom) goto oom;
    rc = 0;
    goto out;
graph_err:
    if (tfc_graph_error(pg)) {
        char who[96];
        tfc_status_set(st, tfc_graph_error_code(pg) ? tfc_graph_error_code(pg) : TFC_INTERNAL,
                       "cutting the graph for task %s: %s",
                       srv_task_name(cs->srv, t, who, sizeof who), tfc_graph_error(pg));
        goto out;
    }
oom:
    tfc_status_set(st, TFC_RESOURCE_EXHAUSTED, "out of memory cutting the graph into tasks");
out:
    free(gd);
    free(ins);
    free(ctls);
    ends_free(&fe);
    ends_free(&fo);
    free(copy);
    free(feedph);
    tfc_graph_free(pg);
    return rc;
}

/* ---- placement and plans ------------------------------------------------- */

static int place(tfc_cluster_session *cs, tfc_status *st) {
    int nn = tfc_graph_num_nodes(cs->g);
    if (nn == cs->nplaced) return 0;
    int *a = realloc(cs->assign, ((size_t)nn + 1) * sizeof *a);
    if (!a) {
        tfc_status_set(st, TFC_RESOURCE_EXHAUSTED, "out of memory placing the graph");
        return -1;
    }
    cs->assign = a;
    for (int i = cs->nplaced; i < nn; i++) a[i] = -1;
    tfc_node **nodes = malloc(((size_t)nn + 1) * sizeof *nodes);
    if (!nodes) {
        tfc_status_set(st, TFC_RESOURCE_EXHAUSTED, "out of memory placing the graph");
        return -1;
    }
    for (int i = 0; i < nn; i++) nodes[i] = tfc_graph_node(cs->g, i);
    int rc = tfc_place(nodes, nn, &cs->devs, cs->soft, cs->log, cs->assign, st);
    free(nodes);
    if (rc == 0) cs->nplaced = nn;
    return rc;
}

static void mplan_free(mplan *p) {
    if (!p) return;
    free(p->feeds);
    free(p->fetches);
    free(p->targets);
    free(p->ranks);
    free(p->handles);
    free(p);
}

/* Waits for the answer to a registration sent to rank r. */
static int wait_registered(tfc_server *s, reg_waiter *w, tfc_status *st) {
    pthread_mutex_lock(&s->lock);
    while (!w->answered && !s->peers[w->rank].lost && !srv_failed_locked(s, NULL))
        pthread_cond_wait(&s->cond, &s->lock);
    for (reg_waiter **pp = &s->reg_waiters; *pp; pp = &(*pp)->next)
        if (*pp == w) {
            *pp = w->next;
            break;
        }
    int rc = 0;
    if (!w->answered) {
        srv_failed_locked(s, st);
        rc = -1;
    } else if (w->status.code != TFC_OK) {
        char who[96];
        tfc_status_set(st, w->status.code, "%s (on %s)", w->status.msg,
                       srv_task_name(s, w->rank, who, sizeof who));
        rc = -1;
    }
    pthread_mutex_unlock(&s->lock);
    return rc;
}

/* ---- function bodies -------------------------------------------------------- */

/* The function a string attr of n names (If's branches, While's cond and
 * body, a call's f), or NULL. */
static const tfc_function *attr_function(const tfc_node *n, const tfc_attr *a) {
    if (a->kind != TFC_ATTR_STRING || !a->v.s || !*a->v.s) return NULL;
    return tfc_function_find(n->graph, a->v.s);
}

/* A body runs inside its caller's kernel, in a sub-session on the caller's
 * task: a node in it that asks for another task could only run there if
 * the body were cut across tasks (TensorFlow's frame- and iteration-keyed
 * Send/Recv), which this version does not do. Such a node is an error
 * naming it; values from other tasks enter a body as its caller's inputs
 * (captures), which cross tasks like any edge. Walks the bodies fn calls. */
static int check_body(const tfc_node *caller, const tfc_function *fn, const tfc_device *task,
                      int depth, tfc_status *st) {
    if (depth > 32) return 0; /* the import rejects recursion; this bounds the walk */
    int n = tfc_graph_num_nodes(fn->graph);
    for (int i = 0; i < n; i++) {
        const tfc_node *b = tfc_graph_node(fn->graph, i);
        tfc_device_name d;
        /* a body's arguments (Placeholders) are its caller's inputs */
        if (b->device && *b->device && strcmp(b->op->type, "Placeholder") &&
            tfc_device_name_parse(b->device, &d, NULL, 0) == 0) {
            const tfc_device_name *t = &task->parsed;
            if ((d.has_job && strcmp(d.job, t->job)) || (d.has_task && d.task != t->task) ||
                (d.has_replica && d.replica != t->replica)) {
                tfc_status_set(st, TFC_INVALID_ARGUMENT,
                               "node '%s' in the body of function '%s' (called by '%s', placed on "
                               "%s) asks for device '%s': on a cluster a function body runs on "
                               "its caller's task; make the node outside the body (its value "
                               "then enters the body as the caller's input) or place '%s' there",
                               b->name, fn->name, caller->name, task->name, b->device,
                               caller->name);
                return -1;
            }
        }
        for (int k = 0; k < b->attrs.n; k++) {
            const tfc_function *f = attr_function(b, &b->attrs.items[k]);
            if (f && f != fn && check_body(caller, f, task, depth + 1, st)) return -1;
        }
    }
    return 0;
}

/* The library for the parts: g's functions as FunctionDefs, without g's
 * nodes and without the devices of body nodes (each task has one device,
 * and check_body made sure none names another task). */
static const Tensorflow__GraphDef *library_for_parts(tfc_arena *a, const tfc_graph *g,
                                                     tfc_status *st) {
    if (tfc_graphdef_check_library(g, st)) return NULL;
    Tensorflow__GraphDef *gd = tfc_graphdef_build(a, g);
    if (!gd) {
        tfc_status_set(st, TFC_RESOURCE_EXHAUSTED, "out of memory writing the function library");
        return NULL;
    }
    gd->n_node = 0;
    for (size_t i = 0; gd->library && i < gd->library->n_function; i++) {
        Tensorflow__FunctionDef *f = gd->library->function[i];
        for (size_t k = 0; k < f->n_node_def; k++) f->node_def[k]->device = (char *)"";
    }
    return gd;
}

static mplan *build_plan(tfc_cluster_session *cs, const tfc_output *feeds, int nfeeds,
                         const tfc_output *fetches, int nfetches, tfc_node *const *targets,
                         int ntargets, uint64_t hash, tfc_status *st) {
    tfc_server *s = cs->srv;
    int nn = tfc_graph_num_nodes(cs->g);
    if (place(cs, st)) return NULL;
    builder b = {0};
    tfc_arena arena = {0};
    b.cs = cs;
    b.me = s->rank;
    b.nfeeds = nfeeds;
    b.feeds = feeds;
    char *need = calloc((size_t)nn + 1, 1);
    int *rank_of = malloc(((size_t)nn + 1) * sizeof *rank_of);
    tfc_node **stack = malloc(((size_t)nn + (size_t)nfetches + (size_t)ntargets + 1) *
                              sizeof *stack);
    int *involved = calloc((size_t)s->size + 1, sizeof *involved);
    mplan *p = calloc(1, sizeof *p);
    if (!need || !rank_of || !stack || !involved || !p) goto oom;
    for (int i = 0; i < nn; i++) rank_of[i] = cs->dev_rank[cs->assign[i]];
    b.need = need;
    b.rank_of = rank_of;
    /* prune: what the fetches and targets need, fed values cutting */
    int sp = 0;
    for (int i = 0; i < nfetches; i++)
        if (feed_index(&b, fetches[i]) < 0 && !need[fetches[i].node->id]) {
            need[fetches[i].node->id] = 1;
            stack[sp++] = fetches[i].node;
        }
    for (int i = 0; i < ntargets; i++)
        if (!need[targets[i]->id]) {
            need[targets[i]->id] = 1;
            stack[sp++] = targets[i];
        }
    while (sp) {
        tfc_node *n = stack[--sp];
        for (int k = 0; k < n->ninputs; k++) {
            tfc_output o = n->inputs[k];
            if (feed_index(&b, o) >= 0 || need[o.node->id]) continue;
            need[o.node->id] = 1;
            stack[sp++] = o.node;
        }
        for (int k = 0; k < n->ncontrol; k++) {
            tfc_node *c = n->control_inputs[k];
            if (need[c->id]) continue;
            need[c->id] = 1;
            stack[sp++] = c;
        }
    }
    /* the bodies the needed nodes call stay on their callers' tasks */
    int calls = 0;
    for (int id = 0; id < nn; id++) {
        if (!need[id]) continue;
        tfc_node *n = tfc_graph_node(cs->g, id);
        for (int k = 0; k < n->attrs.n; k++) {
            const tfc_function *f = attr_function(n, &n->attrs.items[k]);
            if (!f) continue;
            calls = 1;
            if (check_body(n, f, cs->devs.devices[cs->assign[id]], 0, st)) goto fail;
        }
    }
    if (calls && !(b.lib = library_for_parts(&arena, cs->g, st))) goto fail;
    /* the edges that cross tasks */
    for (int id = 0; id < nn; id++) {
        if (!need[id]) continue;
        tfc_node *n = tfc_graph_node(cs->g, id);
        int t = rank_of[id];
        involved[t] = 1;
        for (int k = 0; k < n->ninputs; k++)
            if (value_rank(&b, n->inputs[k]) != t && add_transfer(&b, n->inputs[k], NULL, t))
                goto oom;
        for (int k = 0; k < n->ncontrol; k++) {
            tfc_node *c = n->control_inputs[k];
            if (rank_of[c->id] != t && add_transfer(&b, tfc_out(c, 0), c, t)) goto oom;
        }
    }
    for (int i = 0; i < nfetches; i++)
        if (value_rank(&b, fetches[i]) != b.me && add_transfer(&b, fetches[i], NULL, b.me))
            goto oom;
    /* the master's own part: where it has nodes, feeds, fetches or values
     * to send or receive (a step that is all on other tasks has none) */
    int local = involved[b.me] || nfetches > 0;
    for (int i = 0; i < b.ntr && !local; i++) local = b.tr[i].from == b.me || b.tr[i].to == b.me;
    p->local = local;
    /* every task it needs has started (bounded wait, said on stderr) */
    p->ranks = calloc((size_t)s->size + 1, sizeof *p->ranks);
    p->handles = calloc((size_t)s->size + 1, sizeof *p->handles);
    if (!p->ranks || !p->handles) goto oom;
    p->ranks[p->ntasks++] = b.me;
    for (int r = 0; r < s->size; r++)
        if (involved[r] && r != b.me) p->ranks[p->ntasks++] = r;
    for (int i = 1; i < p->ntasks; i++)
        if (srv_wait_started(s, p->ranks[i], st)) goto fail;
    /* the keys: TensorFlow's, with each task's incarnation */
    for (int i = 0; i < b.ntr; i++) {
        transfer *tr = &b.tr[i];
        char src[160], dst[160], tname[400];
        tfc_cluster_device_of_rank(s->cluster, tr->from, src, sizeof src);
        tfc_cluster_device_of_rank(s->cluster, tr->to, dst, sizeof dst);
        if (tr->ctl)
            snprintf(tname, sizeof tname, "ctl_%d_%s", tr->ctl->id, tr->ctl->name);
        else if (tr->feed >= 0)
            snprintf(tname, sizeof tname, "feed_%d", tr->feed);
        else
            snprintf(tname, sizeof tname, "edge_%d_%s_%d", tr->src.node->id, tr->src.node->name,
                     tr->src.index);
        pthread_mutex_lock(&s->lock);
        uint64_t inc = tr->from == s->rank ? s->incarnation : s->peers[tr->from].incarnation;
        pthread_mutex_unlock(&s->lock);
        tfc_rendezvous_key(tr->key, sizeof tr->key, src, inc, dst, tname, 0, 0);
    }
    /* cut and register each part */
    for (int i = local ? 0 : 1; i < p->ntasks; i++) {
        int r = p->ranks[i];
        uint64_t handle = ((uint64_t)(s->rank + 1) << 40) | atomic_fetch_add(&next_id, 1);
        wire_buf w = {0};
        if (build_part(&b, r, handle, fetches, nfetches, targets, ntargets, &w, st)) {
            free(w.p);
            goto fail;
        }
        if (r == s->rank) {
            uint64_t h;
            int rc = srv_register(s, r, w.p, w.n, &h, st);
            free(w.p);
            if (rc) goto fail;
        } else {
            reg_waiter rw = {0};
            rw.handle = handle;
            rw.rank = r;
            pthread_mutex_lock(&s->lock);
            rw.next = s->reg_waiters;
            s->reg_waiters = &rw;
            pthread_mutex_unlock(&s->lock);
            if (srv_send_buf(s, r, MSG_REGISTER, &w, st)) {
                pthread_mutex_lock(&s->lock);
                for (reg_waiter **pp = &s->reg_waiters; *pp; pp = &(*pp)->next)
                    if (*pp == &rw) {
                        *pp = rw.next;
                        break;
                    }
                pthread_mutex_unlock(&s->lock);
                goto fail;
            }
            if (wait_registered(s, &rw, st)) goto fail;
        }
        p->handles[i] = handle;
    }
    p->hash = hash;
    p->nfeeds = nfeeds;
    p->nfetches = nfetches;
    p->ntargets = ntargets;
    p->feeds = malloc(((size_t)nfeeds + 1) * sizeof *p->feeds);
    p->fetches = malloc(((size_t)nfetches + 1) * sizeof *p->fetches);
    p->targets = malloc(((size_t)ntargets + 1) * sizeof *p->targets);
    if (!p->feeds || !p->fetches || !p->targets) goto oom;
    if (nfeeds) memcpy(p->feeds, feeds, (size_t)nfeeds * sizeof *feeds);
    if (nfetches) memcpy(p->fetches, fetches, (size_t)nfetches * sizeof *fetches);
    if (ntargets) memcpy(p->targets, targets, (size_t)ntargets * sizeof *targets);
    goto done;
oom:
    tfc_status_set(st, TFC_RESOURCE_EXHAUSTED, "out of memory planning a cluster run");
fail:
    /* parts registered so far stay unused on their tasks until freed */
    mplan_free(p);
    p = NULL;
done:
    free(need);
    free(rank_of);
    free(stack);
    free(involved);
    free(b.tr);
    tfc_arena_free(&arena);
    return p;
}

/* ---- the session ------------------------------------------------------------ */

tfc_cluster_session *tfc_session_new_on_server(tfc_server *s, tfc_graph *g,
                                               const tfc_session_options *opts,
                                               tfc_status *st) {
    if (!s || !g) {
        tfc_status_set(st, TFC_INVALID_ARGUMENT, "tfc_session_new_on_server: %s is NULL",
                       s ? "the graph" : "the server");
        return NULL;
    }
    if (!s->started || s->stopped) {
        tfc_status_set(st, TFC_FAILED_PRECONDITION,
                       "%s: start the server (tfc_server_start) before making sessions on it",
                       s->device);
        return NULL;
    }
    tfc_cluster_session *cs = calloc(1, sizeof *cs);
    if (!cs) goto oom;
    pthread_mutex_init(&cs->lock, NULL);
    cs->srv = s;
    cs->g = g;
    if (opts) {
        cs->soft = opts->allow_soft_placement;
        cs->log = opts->log_device_placement;
    }
    int n = s->cluster->ntasks;
    cs->dev_store = calloc((size_t)n, sizeof *cs->dev_store);
    cs->devs.devices = calloc((size_t)n, sizeof *cs->devs.devices);
    cs->dev_rank = calloc((size_t)n, sizeof *cs->dev_rank);
    if (!cs->dev_store || !cs->devs.devices || !cs->dev_rank) goto oom;
    const tfc_device_type *cpu = tfc_device_type_find("CPU");
    /* the master's own task first: nodes asking for nothing go there */
    int k = 0;
    for (int pass = 0; pass < 2; pass++)
        for (int r = 0; r < n; r++) {
            if ((pass == 0) != (r == s->rank)) continue;
            tfc_device *d = &cs->dev_store[k];
            d->type = cpu;
            d->index = k;
            d->id = 0;
            tfc_cluster_device_of_rank(s->cluster, r, d->name, sizeof d->name);
            tfc_device_name_parse(d->name, &d->parsed, NULL, 0);
            cs->devs.devices[k] = d;
            cs->dev_rank[k] = r;
            k++;
        }
    cs->devs.n = k;
    tfc_status_set(st, TFC_OK, NULL);
    return cs;
oom:
    tfc_status_set(st, TFC_RESOURCE_EXHAUSTED, "out of memory making a cluster session");
    tfc_cluster_session_free(cs);
    return NULL;
}

void tfc_cluster_session_free(tfc_cluster_session *cs) {
    if (!cs) return;
    tfc_server *s = cs->srv;
    for (int i = 0; i < cs->nplans; i++) {
        mplan *p = cs->plans[i];
        for (int k = 0; k < p->ntasks; k++) {
            if (p->ranks[k] == s->rank) {
                if (p->local) srv_deregister(s, p->handles[k]);
                continue;
            }
            pthread_mutex_lock(&s->lock);
            int skip = s->peers[p->ranks[k]].lost || s->peers[p->ranks[k]].gone || s->stopped;
            pthread_mutex_unlock(&s->lock);
            if (skip) continue;
            wire_buf w = {0};
            wire_u64(&w, p->handles[k]);
            tfc_status st;
            srv_send_buf(s, p->ranks[k], MSG_DEREGISTER, &w, &st);
        }
        mplan_free(p);
    }
    free(cs->plans);
    free(cs->dev_store);
    free(cs->devs.devices);
    free(cs->dev_rank);
    free(cs->assign);
    pthread_mutex_destroy(&cs->lock);
    free(cs);
}

tfc_server *cluster_session_server(const tfc_cluster_session *cs) { return cs ? cs->srv : NULL; }
tfc_graph *cluster_session_graph(const tfc_cluster_session *cs) { return cs ? cs->g : NULL; }

const char *tfc_cluster_session_assigned_device(const tfc_cluster_session *cs,
                                                const tfc_node *n) {
    if (!cs || !n || n->graph != cs->g) return NULL;
    tfc_cluster_session *m = (tfc_cluster_session *)cs;
    pthread_mutex_lock(&m->lock);
    const char *name = n->id < cs->nplaced ? cs->devs.devices[cs->assign[n->id]]->name : NULL;
    pthread_mutex_unlock(&m->lock);
    return name;
}

static int check_args(tfc_cluster_session *cs, const tfc_output *feeds,
                      tfc_tensor *const *values, int nfeeds, const tfc_output *fetches,
                      int nfetches, tfc_node *const *targets, int ntargets, tfc_status *st) {
    for (int i = 0; i < nfeeds; i++) {
        if (!feeds[i].node || feeds[i].node->graph != cs->g || !values || !values[i]) {
            tfc_status_set(st, TFC_INVALID_ARGUMENT,
                           "feed %d: a null or foreign output, or no value", i);
            return -1;
        }
        tfc_dtype want = tfc_output_dtype(feeds[i]);
        if (values[i]->dtype != want) {
            tfc_status_set(st, TFC_INVALID_ARGUMENT,
                           "the value fed to %s:%d is %s; expected %s", feeds[i].node->name,
                           feeds[i].index, tfc_dtype_name(values[i]->dtype),
                           tfc_dtype_name(want));
            return -1;
        }
    }
    for (int i = 0; i < nfetches; i++)
        if (!fetches[i].node || fetches[i].node->graph != cs->g ||
            fetches[i].index >= fetches[i].node->noutputs) {
            tfc_status_set(st, TFC_INVALID_ARGUMENT,
                           "fetch %d is a null output or not one of this graph's", i);
            return -1;
        }
    for (int i = 0; i < ntargets; i++)
        if (!targets[i] || targets[i]->graph != cs->g) {
            tfc_status_set(st, TFC_INVALID_ARGUMENT,
                           "target %d is a null node or not one of this graph's", i);
            return -1;
        }
    if (tfc_graph_error(cs->g)) {
        tfc_status_set(st, tfc_graph_error_code(cs->g), "%s", tfc_graph_error(cs->g));
        return -1;
    }
    return 0;
}

typedef struct local_wait {
    tfc_server *s;
    int ended;
} local_wait;

static void local_done(void *arg) {
    local_wait *lw = arg;
    pthread_mutex_lock(&lw->s->lock);
    lw->ended = 1;
    pthread_cond_broadcast(&lw->s->cond);
    pthread_mutex_unlock(&lw->s->lock);
}

static void send_abort(tfc_server *s, step_waiter *w, const tfc_status *why) {
    for (int i = 0; i < w->nranks; i++) {
        /* under the lock: the progress thread marks a task that answered
         * (on_step_done sets its rank to -1) */
        pthread_mutex_lock(&s->lock);
        int r = w->ranks[i], skip = r < 0 || s->peers[r].lost;
        pthread_mutex_unlock(&s->lock);
        if (skip) continue;
        wire_buf b = {0};
        wire_u64(&b, w->step);
        wire_u32(&b, (uint32_t)why->code);
        wire_str(&b, why->msg);
        tfc_status ignore;
        srv_send_buf(s, r, MSG_ABORT, &b, &ignore);
    }
}

void tfc_cluster_session_run(tfc_cluster_session *cs, const tfc_output *feeds,
                             tfc_tensor *const *feed_values, int nfeeds,
                             const tfc_output *fetches, int nfetches, tfc_tensor **fetch_values,
                             tfc_node *const *targets, int ntargets, tfc_status *st) {
    for (int i = 0; i < nfetches; i++) fetch_values[i] = NULL;
    if (!cs) {
        tfc_status_set(st, TFC_INVALID_ARGUMENT, "tfc_cluster_session_run: no session");
        return;
    }
    tfc_server *s = cs->srv;
    if (check_args(cs, feeds, feed_values, nfeeds, fetches, nfetches, targets, ntargets, st))
        return;
    pthread_mutex_lock(&s->lock);
    int failed = srv_failed_locked(s, st);
    pthread_mutex_unlock(&s->lock);
    if (failed) return;

    uint64_t hash = tfc_plan_hash(feeds, nfeeds, fetches, nfetches, targets, ntargets);
    pthread_mutex_lock(&cs->lock);
    mplan *p = NULL;
    for (int i = 0; i < cs->nplans && !p; i++) {
        mplan *q = cs->plans[i];
        if (q->hash == hash && q->nfeeds == nfeeds && q->nfetches == nfetches &&
            q->ntargets == ntargets &&
            (!nfeeds || !memcmp(q->feeds, feeds, (size_t)nfeeds * sizeof *feeds)) &&
            (!nfetches || !memcmp(q->fetches, fetches, (size_t)nfetches * sizeof *fetches)) &&
            (!ntargets || !memcmp(q->targets, targets, (size_t)ntargets * sizeof *targets)))
            p = q;
    }
    if (!p) {
        p = build_plan(cs, feeds, nfeeds, fetches, nfetches, targets, ntargets, hash, st);
        mplan **v = p ? realloc(cs->plans, (size_t)(cs->nplans + 1) * sizeof *v) : NULL;
        if (p && !v) {
            mplan_free(p);
            p = NULL;
            tfc_status_set(st, TFC_RESOURCE_EXHAUSTED, "out of memory caching a plan");
        }
        if (p) {
            cs->plans = v;
            cs->plans[cs->nplans++] = p;
        }
    }
    pthread_mutex_unlock(&cs->lock);
    if (!p) return;

    /* the step: remote parts told to run, ours run here */
    uint64_t step = ((uint64_t)(s->rank + 1) << 40) | atomic_fetch_add(&next_id, 1);
    step_waiter w = {0};
    int ranks_small[16];
    w.ranks = p->ntasks - 1 <= 16 ? ranks_small : malloc((size_t)p->ntasks * sizeof *w.ranks);
    if (!w.ranks) {
        tfc_status_set(st, TFC_RESOURCE_EXHAUSTED, "out of memory starting a step");
        return;
    }
    w.step = step;
    w.nranks = w.remaining = p->ntasks - 1;
    for (int i = 1; i < p->ntasks; i++) w.ranks[i - 1] = p->ranks[i];
    pthread_mutex_lock(&s->lock);
    w.next = s->step_waiters;
    s->step_waiters = &w;
    pthread_mutex_unlock(&s->lock);
    for (int i = 1; i < p->ntasks; i++) {
        wire_buf b = {0};
        wire_u64(&b, p->handles[i]);
        wire_u64(&b, step);
        tfc_status e;
        if (srv_send_buf(s, p->ranks[i], MSG_RUN, &b, &e)) {
            pthread_mutex_lock(&s->lock);
            if (!w.failed) {
                w.failed = 1;
                tfc_status_copy(&w.status, &e);
            }
            w.ranks[i - 1] = -1;
            w.remaining--;
            pthread_mutex_unlock(&s->lock);
        }
    }
    tfc_tensor **out = calloc((size_t)nfetches + 1, sizeof *out);
    local_wait lw = {s, 0};
    tfc_status local_st;
    tfc_status_set(&local_st, TFC_OK, NULL);
    part_run *pr = out && p->local ? srv_run_partition(s, p->handles[0], step, feed_values, out,
                                                       local_done, &lw, &local_st)
                                   : NULL;
    if (!out) tfc_status_set(&local_st, TFC_RESOURCE_EXHAUSTED, "out of memory");
    if (!pr) lw.ended = 1;
    int no_local = out && !p->local; /* nothing runs here: not a failure */

    /* wait for every part; the first error aborts the others */
    int aborted = 0, lost = 0;
    int64_t give_up = 0;
    pthread_mutex_lock(&s->lock);
    for (;;) {
        if (lw.ended && w.remaining == 0) break;
        if (!lost && srv_failed_locked(s, NULL)) {
            lost = 1;
            give_up = tfc_now_ns() + 2000 * 1000000LL;
        }
        tfc_status local_err;
        int local_failed = no_local ? 0
                           : !pr    ? (tfc_status_copy(&local_err, &local_st), 1)
                                    : part_run_error(pr, &local_err);
        if (!aborted && (w.failed || local_failed || lost)) {
            aborted = 1;
            tfc_status why;
            if (lost) srv_failed_locked(s, &why);
            else if (w.failed) tfc_status_copy(&why, &w.status);
            else tfc_status_copy(&why, &local_err);
            pthread_mutex_unlock(&s->lock);
            srv_step_abort(s, step, &why);
            send_abort(s, &w, &why);
            pthread_mutex_lock(&s->lock);
            continue;
        }
        /* a lost task never answers: the others get a moment to */
        if (lost && lw.ended && tfc_now_ns() > give_up) break;
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 50 * 1000 * 1000;
        if (ts.tv_nsec >= 1000000000) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000;
        }
        pthread_cond_timedwait(&s->cond, &s->lock, &ts);
    }
    for (step_waiter **pp = &s->step_waiters; *pp; pp = &(*pp)->next)
        if (*pp == &w) {
            *pp = w.next;
            break;
        }
    tfc_status lost_st;
    int is_lost = srv_failed_locked(s, &lost_st);
    pthread_mutex_unlock(&s->lock);
    if (pr) part_run_finish(pr, &local_st);

    int local_real = local_st.code != TFC_OK && local_st.code != TFC_CANCELLED &&
                     local_st.code != TFC_ABORTED;
    if (is_lost)
        tfc_status_copy(st, &lost_st);
    else if (local_real)
        tfc_status_copy(st, &local_st);
    else if (w.failed)
        tfc_status_copy(st, &w.status);
    else if (local_st.code != TFC_OK)
        tfc_status_copy(st, &local_st);
    else
        tfc_status_set(st, TFC_OK, NULL);
    if (st->code == TFC_OK)
        for (int i = 0; i < nfetches; i++)
            if (!out[i]) {
                tfc_status_set(st, TFC_INTERNAL, "fetch %d (%s) got no value", i,
                               fetches[i].node->name);
                break;
            }
    for (int i = 0; i < nfetches; i++) {
        if (st->code == TFC_OK)
            fetch_values[i] = out[i];
        else
            tfc_tensor_free(out ? out[i] : NULL);
    }
    free(out);
    if (w.ranks != ranks_small) free(w.ranks);
}

tfc_tensor *tfc_cluster_session_run1(tfc_cluster_session *cs, const tfc_output *feeds,
                                     tfc_tensor *const *feed_values, int nfeeds,
                                     tfc_output fetch, tfc_status *st) {
    tfc_tensor *out = NULL;
    tfc_cluster_session_run(cs, feeds, feed_values, nfeeds, &fetch, 1, &out, NULL, 0, st);
    return out;
}
