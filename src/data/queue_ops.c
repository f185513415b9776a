/* The queue ops, with TensorFlow's V2 names, attrs and resource handles:
 * FIFOQueueV2, PaddingFIFOQueueV2, RandomShuffleQueueV2, PriorityQueueV2
 * make a queue (once per session: it lives in the node's state) and output
 * its handle; QueueEnqueueV2, QueueEnqueueManyV2, QueueDequeueV2,
 * QueueDequeueManyV2, QueueDequeueUpToV2 and QueueCloseV2 are
 * asynchronous kernels (they may wait without holding a thread);
 * QueueSizeV2 and QueueIsClosedV2 answer at once. Dtypes and shapes are
 * checked when a node is built whenever its handle comes (through
 * Identity) from a queue op; the kernels check them again. The public
 * helpers of tfc.h's "Queues" section are at the end. */
#include "data/attr_lists.h"
#include "data/queue.h"
#include "data/shared_resources.h"
#include "graph/graph.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { QMAX = 256 }; /* components of one queue */

#define QUEUE_OP (TFC_OP_STATEFUL | TFC_OP_RESOURCES | TFC_OP_NO_GRADIENT)
#define QUEUE_USE (QUEUE_OP | TFC_OP_STRINGS | TFC_OP_ASYNC)

/* A queue op's parsed attrs (the node's op_data, one block). */
typedef struct queue_def {
    tfc_queue_kind kind;
    int ncomp;   /* a priority queue's priority included */
    int nshapes; /* 0 or ncomp */
    int64_t capacity, min_after_dequeue, seed, seed2;
    const char *name; /* shared_name or the node's name (in the block) */
    const char *container; /* with a shared_name: the key shared by (in the block) */
    int shared;            /* a shared_name was given */
    tfc_dtype *dtypes;
    tfc_shape *shapes;
} queue_def;

static tfc_queue_kind kind_of(const char *type) {
    if (!strcmp(type, "PaddingFIFOQueueV2")) return TFC_QUEUE_PADDING_FIFO;
    if (!strcmp(type, "RandomShuffleQueueV2")) return TFC_QUEUE_RANDOM_SHUFFLE;
    if (!strcmp(type, "PriorityQueueV2")) return TFC_QUEUE_PRIORITY;
    return TFC_QUEUE_FIFO;
}

static const char *kind_label(tfc_queue_kind k) {
    return k == TFC_QUEUE_PADDING_FIFO     ? "PaddingFIFOQueue"
           : k == TFC_QUEUE_RANDOM_SHUFFLE ? "RandomShuffleQueue"
           : k == TFC_QUEUE_PRIORITY       ? "PriorityQueue"
                                           : "FIFOQueue";
}

static int fully_defined(const tfc_shape *s) { return tfc_shape_is_fully_defined(s); }

static int queue_infer(tfc_infer_ctx *c) {
    tfc_queue_kind kind = kind_of(c->op->type);
    tfc_dtype types[QMAX + 1];
    tfc_shape shapes[QMAX + 1];
    int prio = kind == TFC_QUEUE_PRIORITY;
    int nt = tfc_attr_type_list(c->attrs, "component_types", types + prio, QMAX);
    if (nt < 0)
        return tfc_infer_error(c, "attr 'component_types' lists a dtype tfc lacks or more than %d",
                               QMAX);
    if (nt < 1 && !prio)
        return tfc_infer_error(c, "attr 'component_types' must list at least one dtype");
    for (int i = 0; i < nt; i++)
        if (types[prio + i] == TFC_RESOURCE)
            return tfc_infer_error(c, "component %d: a queue cannot hold resource handles", i);
    int ns = tfc_attr_shape_list(c->attrs, "shapes", shapes + prio, QMAX);
    if (ns < 0) return tfc_infer_error(c, "attr 'shapes' is malformed");
    if (ns && ns != nt)
        return tfc_infer_error(c, "attr 'shapes' has %d shapes for %d component types", ns, nt);
    if ((kind == TFC_QUEUE_PADDING_FIFO || prio) && ns != nt)
        return tfc_infer_error(c,
                               "Shapes must be provided for all components, but received %d "
                               "and %d",
                               nt, ns);
    for (int i = 0; kind == TFC_QUEUE_PADDING_FIFO && i < ns; i++)
        if (shapes[i].rank < 0)
            return tfc_infer_error(c, "All shapes must have a defined rank. Shape %d is unknown",
                                   i);
    int64_t capacity = tfc_attrs_int(c->attrs, "capacity", -1);
    int64_t mad = tfc_attrs_int(c->attrs, "min_after_dequeue", 0);
    if (mad < 0) return tfc_infer_error(c, "min_after_dequeue (%lld) must be >= 0", (long long)mad);
    if (capacity >= 0 && mad >= capacity && kind == TFC_QUEUE_RANDOM_SHUFFLE)
        return tfc_infer_error(c, "min_after_dequeue (%lld) must be less than capacity (%lld)",
                               (long long)mad, (long long)capacity);
    if (prio) {
        types[0] = TFC_INT64;
        shapes[0] = tfc_shape_scalar();
    }
    int ncomp = nt + prio, nshapes = ns ? ns + prio : 0;
    const char *shared = tfc_attrs_string(c->attrs, "shared_name");
    const char *name = shared && *shared ? shared : c->name;
    const char *container = tfc_attrs_string(c->attrs, "container");
    if (!container) container = "";
    size_t size = sizeof(queue_def) + sizeof(tfc_dtype) * (size_t)ncomp +
                  sizeof(tfc_shape) * (size_t)(nshapes + 1) + strlen(name) + 1 +
                  strlen(container) + 1;
    queue_def *d = calloc(1, size);
    if (!d) return tfc_infer_error(c, "out of memory");
    d->shapes = (tfc_shape *)(d + 1);
    d->dtypes = (tfc_dtype *)(d->shapes + nshapes + 1);
    char *nm = (char *)(d->dtypes + ncomp);
    strcpy(nm, name);
    d->name = nm;
    d->container = strcpy(nm + strlen(name) + 1, container);
    d->shared = shared && *shared;
    d->kind = kind;
    d->ncomp = ncomp;
    d->nshapes = nshapes;
    memcpy(d->dtypes, types, sizeof *types * (size_t)ncomp);
    if (nshapes) memcpy(d->shapes, shapes, sizeof *shapes * (size_t)nshapes);
    d->capacity = capacity;
    d->min_after_dequeue = mad;
    d->seed = tfc_attrs_int(c->attrs, "seed", 0);
    d->seed2 = tfc_attrs_int(c->attrs, "seed2", 0);
    c->op_data = d;
    if (!tfc_attrs_find(c->attrs, "capacity"))
        tfc_attrs_set_int(c->attrs, "capacity", TFC_ATTR_INT, -1);
    if (!tfc_attrs_find(c->attrs, "shapes")) tfc_attrs_set_shape_list(c->attrs, "shapes", NULL, 0);
    if (!tfc_attrs_string(c->attrs, "container")) tfc_attrs_set_string(c->attrs, "container", "");
    if (!shared) tfc_attrs_set_string(c->attrs, "shared_name", "");
    tfc_infer_set_output(c, 0, TFC_RESOURCE, tfc_shape_scalar());
    return 0;
}

static void queue_free_resource(void *r) { tfc_resource_unref(r); }
static void shared_queue_free_resource(void *r) { tfc_shared_resource_release(r); }
static void queue_cancel_resource(void *r) { tfc_queue_cancel_all(r); }

static tfc_queue_spec spec_of(const queue_def *d, uint64_t seed) {
    return (tfc_queue_spec){d->kind,    d->name,   d->ncomp,    d->dtypes,
                            d->nshapes, d->shapes, d->capacity, d->min_after_dequeue,
                            seed};
}

typedef struct make_arg {
    const queue_def *d;
    uint64_t seed;
} make_arg;

static tfc_resource *make_queue_resource(void *arg, char *why, size_t cap) {
    const make_arg *m = arg;
    tfc_queue_spec spec = spec_of(m->d, m->seed);
    return (tfc_resource *)tfc_queue_new(&spec, why, cap);
}

static void types_str(const queue_def *d, char *buf, size_t cap) {
    size_t k = 0;
    buf[0] = 0;
    for (int i = 0; i < d->ncomp && k < cap; i++)
        k += (size_t)snprintf(buf + k, cap - k, "%s%s", i ? ", " : "", tfc_dtype_name(d->dtypes[i]));
}

static void shapes_str(const queue_def *d, char *buf, size_t cap) {
    size_t k = (size_t)snprintf(buf, cap, "[");
    for (int i = 0; i < d->nshapes && k < cap; i++) {
        char s[96];
        k += (size_t)snprintf(buf + k, cap - k, "%s%s", i ? ", " : "",
                              tfc_shape_str(&d->shapes[i], s, sizeof s));
    }
    if (k < cap) snprintf(buf + k, cap - k, "]");
}

/* Does the queue another node made under this shared_name fit node d's
 * attrs? TensorFlow's QueueBase::MatchesNodeDef checks, with its words. */
static int shared_matches(const queue_def *have, const queue_def *want, char *why, size_t cap) {
    char a[512], b[512];
    if (have->kind != want->kind) {
        snprintf(why, cap, "Shared queue '%s' is a %s, but this node asks for a %s", want->name,
                 kind_label(have->kind), kind_label(want->kind));
        return 0;
    }
    if (have->capacity != want->capacity) {
        snprintf(why, cap, "Shared queue '%s' has capacity %lld but requested capacity was %lld",
                 want->name, (long long)have->capacity, (long long)want->capacity);
        return 0;
    }
    if (have->kind == TFC_QUEUE_RANDOM_SHUFFLE &&
        have->min_after_dequeue != want->min_after_dequeue) {
        snprintf(why, cap,
                 "Shared queue '%s' has min_after_dequeue %lld but requested min_after_dequeue "
                 "was %lld",
                 want->name, (long long)have->min_after_dequeue,
                 (long long)want->min_after_dequeue);
        return 0;
    }
    int same = have->ncomp == want->ncomp;
    for (int i = 0; same && i < have->ncomp; i++) same = have->dtypes[i] == want->dtypes[i];
    if (!same) {
        types_str(have, a, sizeof a);
        types_str(want, b, sizeof b);
        snprintf(why, cap,
                 "Shared queue '%s' has component types %s but requested component types were %s",
                 want->name, a, b);
        return 0;
    }
    same = have->nshapes == want->nshapes;
    for (int i = 0; same && i < have->nshapes; i++) {
        const tfc_shape *x = &have->shapes[i], *y = &want->shapes[i];
        same = x->rank == y->rank;
        for (int k = 0; same && k < x->rank; k++) same = x->dims[k] == y->dims[k];
    }
    if (!same) {
        shapes_str(have, a, sizeof a);
        shapes_str(want, b, sizeof b);
        snprintf(why, cap,
                 "Shared queue '%s' has component shapes %s but requested component shapes were "
                 "%s",
                 want->name, a, b);
        return 0;
    }
    return 1;
}

static void queue_kernel(tfc_kernel_ctx *c) {
    tfc_node_state *st = c->state;
    const queue_def *d = c->node->op_data;
    pthread_mutex_lock(&st->lock);
    if (!st->value) {
        /* seeds 0, 0: the session's stream for this node (fixed by its seed) */
        uint64_t seed = d->seed || d->seed2
                            ? (uint64_t)d->seed * 0x9E3779B97F4A7C15ull ^ (uint64_t)d->seed2
                            : st->seed;
        char why[1200];
        tfc_code code = TFC_RESOURCE_EXHAUSTED;
        tfc_queue *q;
        if (d->shared) { /* one queue per (container, shared_name) in the session */
            make_arg m = {d, seed};
            const void *have = NULL;
            q = (tfc_queue *)tfc_shared_resource_acquire(c->session, d->container, d->name, d,
                                                         &have, make_queue_resource, &m, why,
                                                         sizeof why);
            if (q && have != d && !shared_matches(have, d, why, sizeof why)) {
                tfc_shared_resource_release((tfc_resource *)q);
                q = NULL;
                code = TFC_INVALID_ARGUMENT;
            }
        } else {
            tfc_queue_spec spec = spec_of(d, seed);
            q = tfc_queue_new(&spec, why, sizeof why);
        }
        tfc_tensor *h = q ? tfc_resource_tensor((tfc_resource *)q) : NULL;
        if (!h) {
            if (q && d->shared) tfc_shared_resource_release((tfc_resource *)q);
            else if (q) tfc_resource_unref((tfc_resource *)q);
            pthread_mutex_unlock(&st->lock);
            tfc_kernel_error(c, code, "%s", q ? "out of memory" : why);
            return;
        }
        st->value = h;
        st->resource = q;
        st->free_resource = d->shared ? shared_queue_free_resource : queue_free_resource;
        st->cancel_resource = queue_cancel_resource;
    }
    tfc_kernel_set_output(c, 0, tfc_tensor_ref(st->value));
    pthread_mutex_unlock(&st->lock);
}

/* ---- using a queue ---- */

/* The queue op a handle comes from (through Identity), or NULL. */
static const tfc_node *queue_node(tfc_output h) {
    const tfc_node *n = h.node;
    while (n && !strcmp(n->op->type, "Identity") && n->ninputs == 1) n = n->inputs[0].node;
    if (!n) return NULL;
    const char *t = n->op->type;
    return !strcmp(t, "FIFOQueueV2") || !strcmp(t, "PaddingFIFOQueueV2") ||
                   !strcmp(t, "RandomShuffleQueueV2") || !strcmp(t, "PriorityQueueV2")
               ? n
               : NULL;
}

static int check_handle(tfc_infer_ctx *c) {
    tfc_dtype dt = tfc_infer_input_dtype(c, 0);
    if (dt != TFC_RESOURCE)
        return tfc_infer_error(c, "input 0 (handle) must be a queue's resource handle, got %s",
                               tfc_dtype_name(dt));
    return 0;
}

static int enqueue_infer(tfc_infer_ctx *c) {
    if (check_handle(c)) return -1;
    int many = !strcmp(c->op->type, "QueueEnqueueManyV2"), n = c->ninputs - 1;
    if (n < 1) return tfc_infer_error(c, "needs at least one component");
    const tfc_node *qn = queue_node(c->inputs[0]);
    const queue_def *d = qn ? qn->op_data : NULL;
    char a[96], b[96];
    if (d && n != d->ncomp)
        return tfc_infer_error(c, "%s '%s' has %d components, %d given", kind_label(d->kind),
                               d->name, d->ncomp, n);
    int64_t batch = -1;
    int64_t types[QMAX];
    if (n > QMAX) return tfc_infer_error(c, "more than %d components", QMAX);
    for (int i = 0; i < n; i++) {
        tfc_dtype dt = tfc_infer_input_dtype(c, i + 1);
        tfc_shape s = tfc_infer_input_shape(c, i + 1);
        types[i] = dt;
        if (many && s.rank == 0)
            return tfc_infer_error(c,
                                   "component %d of an enqueue_many must have a batch "
                                   "dimension, got a scalar",
                                   i);
        if (many && s.rank > 0 && s.dims[0] >= 0) {
            if (batch >= 0 && s.dims[0] != batch)
                return tfc_infer_error(c,
                                       "All input tensors must have the same size in the 0th "
                                       "dimension. Component %d has %lld, and should have %lld",
                                       i, (long long)s.dims[0], (long long)batch);
            batch = s.dims[0];
        }
        if (!d) continue;
        if (dt != d->dtypes[i])
            return tfc_infer_error(c,
                                   "%s '%s': Type mismatch in tuple component %d. Expected "
                                   "%s, got %s",
                                   kind_label(d->kind), d->name, i, tfc_dtype_name(d->dtypes[i]),
                                   tfc_dtype_name(dt));
        if (!d->nshapes || s.rank < 0) continue;
        tfc_shape elem = s;
        if (many) {
            elem.rank--;
            memmove(elem.dims, elem.dims + 1, sizeof *elem.dims * (size_t)elem.rank);
        }
        if (!tfc_shape_compatible(&elem, &d->shapes[i]))
            return tfc_infer_error(c,
                                   "%s '%s': Shape mismatch in tuple component %d. Expected "
                                   "%s%s, got %s",
                                   kind_label(d->kind), d->name, i, many ? "[batch] + " : "",
                                   tfc_shape_str(&d->shapes[i], a, sizeof a),
                                   tfc_shape_str(&s, b, sizeof b));
    }
    if (tfc_attrs_set_int_list(c->attrs, "Tcomponents", types, n))
        return tfc_infer_error(c, "out of memory");
    if (!tfc_attrs_find(c->attrs, "timeout_ms"))
        tfc_attrs_set_int(c->attrs, "timeout_ms", TFC_ATTR_INT, -1);
    return 0;
}

static int dequeue_infer(tfc_infer_ctx *c) {
    if (check_handle(c)) return -1;
    const char *type = c->op->type;
    int many = strcmp(type, "QueueDequeueV2") != 0;
    int upto = !strcmp(type, "QueueDequeueUpToV2");
    const tfc_node *qn = queue_node(c->inputs[0]);
    const queue_def *d = qn ? qn->op_data : NULL;
    tfc_dtype given[QMAX];
    int ng = tfc_attr_type_list(c->attrs, "component_types", given, QMAX);
    if (ng < 0) return tfc_infer_error(c, "attr 'component_types' is malformed");
    if (!d && ng < 1)
        return tfc_infer_error(c, "needs attr 'component_types': the queue is not known when the "
                                  "graph is built");
    int n = d ? d->ncomp : ng;
    if (d && ng) {
        int same = ng == d->ncomp;
        for (int i = 0; same && i < ng; i++) same = given[i] == d->dtypes[i];
        if (!same)
            return tfc_infer_error(c,
                                   "attr 'component_types' does not match the %d component "
                                   "types of %s '%s'",
                                   d->ncomp, kind_label(d->kind), d->name);
    }
    int64_t nb = -1;
    if (many) {
        tfc_dtype nt = tfc_infer_input_dtype(c, 1);
        tfc_shape ns = tfc_infer_input_shape(c, 1);
        if (nt != TFC_INT32 || ns.rank > 0)
            return tfc_infer_error(c, "n must be an int32 scalar, got %s of rank %d",
                                   tfc_dtype_name(nt), ns.rank);
        const tfc_tensor *nv = tfc_infer_input_const(c, 1);
        if (nv) {
            nb = tfc_tensor_get_int(nv, 0);
            if (nb < 0)
                return tfc_infer_error(c, "%s requested %lld < 0 elements", type, (long long)nb);
        }
        if (upto) nb = -1;
        if (d && d->kind != TFC_QUEUE_PADDING_FIFO) {
            int ok = d->nshapes > 0;
            for (int i = 0; ok && i < d->nshapes; i++) ok = fully_defined(&d->shapes[i]);
            if (!ok)
                return tfc_infer_error(c,
                                       "%s's DequeueMany and DequeueUpTo require the "
                                       "components to have specified shapes.",
                                       kind_label(d->kind));
        }
    }
    if (tfc_infer_set_num_outputs(c, n)) return -1;
    int64_t types[QMAX];
    for (int i = 0; i < n; i++) {
        tfc_dtype dt = d ? d->dtypes[i] : given[i];
        types[i] = dt;
        tfc_shape s = d && d->nshapes ? d->shapes[i] : tfc_shape_unknown();
        if (many && s.rank >= 0) {
            if (s.rank >= TFC_MAX_RANK)
                return tfc_infer_error(c, "component %d has rank %d: a batch would pass rank %d", i,
                                       s.rank, TFC_MAX_RANK);
            memmove(s.dims + 1, s.dims, sizeof *s.dims * (size_t)s.rank);
            s.dims[0] = nb;
            s.rank++;
        }
        tfc_infer_set_output(c, i, dt, s);
    }
    if (tfc_attrs_set_int_list(c->attrs, "component_types", types, n))
        return tfc_infer_error(c, "out of memory");
    if (!tfc_attrs_find(c->attrs, "timeout_ms"))
        tfc_attrs_set_int(c->attrs, "timeout_ms", TFC_ATTR_INT, -1);
    return 0;
}

static int close_infer(tfc_infer_ctx *c) {
    if (check_handle(c)) return -1;
    if (!tfc_attrs_find(c->attrs, "cancel_pending_enqueues"))
        tfc_attrs_set_int(c->attrs, "cancel_pending_enqueues", TFC_ATTR_BOOL, 0);
    return 0;
}

static int size_infer(tfc_infer_ctx *c) {
    if (check_handle(c)) return -1;
    tfc_infer_set_output(c, 0, strcmp(c->op->type, "QueueSizeV2") ? TFC_BOOL : TFC_INT32,
                         tfc_shape_scalar());
    return 0;
}

static tfc_queue *input_queue(tfc_kernel_ctx *c) {
    tfc_queue *q = tfc_queue_from_handle(c->inputs[0]);
    if (!q) tfc_kernel_error(c, TFC_INVALID_ARGUMENT, "input 0 is not a queue's handle");
    return q;
}

/* Replies to the kernel that started attempt a: its error, or success. */
static void reply(tfc_queue_attempt *a) {
    if (a->status.code != TFC_OK) {
        if (a->token)
            tfc_async_done_error(a->token, a->status.code, "%s", a->status.msg);
        else
            tfc_kernel_error(a->ctx, a->status.code, "%s", a->status.msg);
    }
    if (a->token) tfc_async_done_finish(a->token);
}

static void set_out(tfc_queue_attempt *a, int i, tfc_tensor *t) {
    if (a->token)
        tfc_async_done_set_output(a->token, i, t);
    else
        tfc_kernel_set_output(a->ctx, i, t);
}

static void dequeue_done(tfc_queue_attempt *a) {
    int n = tfc_queue_num_components(a->queue);
    if (a->status.code == TFC_OK && !a->batched) {
        for (int i = 0; i < n; i++) {
            set_out(a, i, a->got[0][i]);
            a->got[0][i] = NULL;
        }
    } else if (a->status.code == TFC_OK) {
        tfc_tensor *outs[QMAX];
        if (!tfc_queue_stack(a, outs))
            for (int i = 0; i < n; i++) set_out(a, i, outs[i]);
    }
    reply(a);
}

static void enqueue_kernel(tfc_kernel_ctx *c) {
    tfc_queue *q = input_queue(c);
    if (!q) return;
    if (tfc_queue_num_components(q) != c->ninputs - 1) {
        tfc_kernel_error(c, TFC_INVALID_ARGUMENT, "%s '%s' has %d components, %d given",
                         tfc_queue_type(q), tfc_queue_name(q), tfc_queue_num_components(q),
                         c->ninputs - 1);
        return;
    }
    int many = !strcmp(c->node->op->type, "QueueEnqueueManyV2");
    tfc_queue_start_enqueue(q, c, c->inputs + 1, many, reply, NULL);
}

static void dequeue_kernel(tfc_kernel_ctx *c) {
    tfc_queue *q = input_queue(c);
    if (!q) return;
    const char *type = c->node->op->type;
    if (tfc_queue_num_components(q) != c->noutputs) {
        tfc_kernel_error(c, TFC_INVALID_ARGUMENT, "%s '%s' has %d components, the node %d outputs",
                         tfc_queue_type(q), tfc_queue_name(q), tfc_queue_num_components(q),
                         c->noutputs);
        return;
    }
    int64_t n = -1;
    if (strcmp(type, "QueueDequeueV2")) {
        n = tfc_tensor_get_int(c->inputs[1], 0);
        if (n < 0) {
            tfc_kernel_error(c, TFC_INVALID_ARGUMENT, "%s requested %lld < 0 elements", type,
                             (long long)n);
            return;
        }
    }
    tfc_queue_start_dequeue(q, c, n, !strcmp(type, "QueueDequeueUpToV2"), dequeue_done, NULL, NULL);
}

static void close_kernel(tfc_kernel_ctx *c) {
    tfc_queue *q = input_queue(c);
    if (q)
        tfc_queue_start_close(
            q, c, (int)tfc_attrs_int(&c->node->attrs, "cancel_pending_enqueues", 0), reply, NULL);
}

static void size_kernel(tfc_kernel_ctx *c) {
    tfc_queue *q = input_queue(c);
    if (!q) return;
    int size = !strcmp(c->node->op->type, "QueueSizeV2");
    tfc_tensor *t = tfc_kernel_output(c, 0, size ? TFC_INT32 : TFC_BOOL, 0, NULL);
    if (!t) return;
    if (size)
        *(int32_t *)t->data = (int32_t)tfc_queue_current_size(q);
    else
        *(uint8_t *)t->data = (uint8_t)tfc_queue_closed(q);
}

const tfc_op_def tfc_ops_queue[] = {
    {"FIFOQueueV2", 0, 0, 1, QUEUE_OP | TFC_OP_HANDLE, 0, queue_infer, queue_kernel, NULL},
    {"PaddingFIFOQueueV2", 0, 0, 1, QUEUE_OP | TFC_OP_HANDLE, 0, queue_infer, queue_kernel, NULL},
    {"RandomShuffleQueueV2", 0, 0, 1, QUEUE_OP | TFC_OP_HANDLE, 0, queue_infer, queue_kernel, NULL},
    {"PriorityQueueV2", 0, 0, 1, QUEUE_OP | TFC_OP_HANDLE, 0, queue_infer, queue_kernel, NULL},
    {"QueueEnqueueV2", 2, -1, 0, QUEUE_USE, 0, enqueue_infer, enqueue_kernel, NULL},
    {"QueueEnqueueManyV2", 2, -1, 0, QUEUE_USE, 0, enqueue_infer, enqueue_kernel, NULL},
    {"QueueDequeueV2", 1, 1, 1, QUEUE_USE, 0, dequeue_infer, dequeue_kernel, NULL},
    {"QueueDequeueManyV2", 2, 2, 1, QUEUE_USE, 0, dequeue_infer, dequeue_kernel, NULL},
    {"QueueDequeueUpToV2", 2, 2, 1, QUEUE_USE, 0, dequeue_infer, dequeue_kernel, NULL},
    {"QueueCloseV2", 1, 1, 0, QUEUE_USE, 0, close_infer, close_kernel, NULL},
    {"QueueSizeV2", 1, 1, 1, QUEUE_OP, 0, size_infer, size_kernel, NULL},
    {"QueueIsClosedV2", 1, 1, 1, QUEUE_OP, 0, size_infer, size_kernel, NULL},
    {NULL, 0, 0, 0, 0, 0, NULL, NULL, NULL},
};

/* ---- public helpers ---- */

static const tfc_output null_out = {NULL, 0};

/* TensorFlow's random_seed.get_seed, as the random ops apply it: the graph
 * seed and the op seed (the node count when only the graph's is set; a
 * default graph seed, 87654321, when only the op's is); (0, 0) is
 * "unseeded": the session's stream for the node. */
static void op_seeds(const tfc_graph *g, int64_t seed, int64_t *s1, int64_t *s2) {
    *s1 = *s2 = 0;
    if (g->has_seed) {
        *s1 = g->seed;
        *s2 = seed ? seed : g->nnodes;
        if (*s1 == 0 && *s2 == 0) *s2 = INT32_MAX;
    } else if (seed) {
        *s1 = 87654321;
        *s2 = seed;
    }
}

static tfc_output make_queue(tfc_graph *g, const char *type, int64_t capacity,
                             const tfc_dtype *dtypes, int n, const tfc_shape *shapes,
                             const char *shared_name, int64_t min_after_dequeue, int64_t seed) {
    tfc_op_desc *d = tfc_op_new(g, type, NULL);
    if (!d) return null_out;
    int64_t types[QMAX];
    if (n < 0 || n > QMAX || (n && !dtypes)) {
        tfc_graph_fail(g, TFC_INVALID_ARGUMENT, "%s: %d component types (0 to %d)", type, n, QMAX);
        tfc_op_finish(d);
        return null_out;
    }
    for (int i = 0; i < n; i++) types[i] = dtypes[i];
    tfc_op_set_attr_int_list(d, "component_types", types, n);
    if (shapes) {
        /* list(shape) in its int-list form (data/attr_lists.h) */
        int64_t v[QMAX * (TFC_MAX_RANK + 1)];
        int k = 0;
        for (int i = 0; i < n; i++) {
            int r = shapes[i].rank < -1             ? -1
                    : shapes[i].rank > TFC_MAX_RANK ? TFC_MAX_RANK
                                                    : shapes[i].rank;
            v[k++] = r;
            for (int j = 0; j < r; j++) v[k++] = shapes[i].dims[j];
        }
        tfc_op_set_attr_int_list(d, "shapes", v, k);
    }
    tfc_op_set_attr_int(d, "capacity", capacity);
    if (shared_name) tfc_op_set_attr_string(d, "shared_name", shared_name);
    if (!strcmp(type, "RandomShuffleQueueV2")) {
        tfc_op_set_attr_int(d, "min_after_dequeue", min_after_dequeue);
        /* TensorFlow's seed rule: a graph seed and an op seed (graph.c) */
        int64_t s1 = 0, s2 = 0;
        op_seeds(g, seed, &s1, &s2);
        tfc_op_set_attr_int(d, "seed", s1);
        tfc_op_set_attr_int(d, "seed2", s2);
    }
    return tfc_out(tfc_op_finish(d), 0);
}

tfc_output tfc_fifo_queue(tfc_graph *g, int64_t capacity, const tfc_dtype *dtypes, int n,
                          const tfc_shape *shapes, const char *shared_name) {
    return make_queue(g, "FIFOQueueV2", capacity, dtypes, n, shapes, shared_name, 0, 0);
}

tfc_output tfc_padding_fifo_queue(tfc_graph *g, int64_t capacity, const tfc_dtype *dtypes, int n,
                                  const tfc_shape *shapes, const char *shared_name) {
    return make_queue(g, "PaddingFIFOQueueV2", capacity, dtypes, n, shapes, shared_name, 0, 0);
}

tfc_output tfc_random_shuffle_queue(tfc_graph *g, int64_t capacity, int64_t min_after_dequeue,
                                    const tfc_dtype *dtypes, int n, const tfc_shape *shapes,
                                    int64_t seed, const char *shared_name) {
    return make_queue(g, "RandomShuffleQueueV2", capacity, dtypes, n, shapes, shared_name,
                      min_after_dequeue, seed);
}

tfc_output tfc_priority_queue(tfc_graph *g, int64_t capacity, const tfc_dtype *dtypes, int n,
                              const tfc_shape *shapes, const char *shared_name) {
    return make_queue(g, "PriorityQueueV2", capacity, dtypes, n, shapes, shared_name, 0, 0);
}

static tfc_node *enqueue_op(tfc_graph *g, const char *type, tfc_output q,
                            const tfc_output *components, int n) {
    tfc_op_desc *d = tfc_op_new(g, type, NULL);
    tfc_op_add_input(d, q);
    tfc_op_add_inputs(d, components, n);
    return tfc_op_finish(d);
}

tfc_node *tfc_queue_enqueue(tfc_graph *g, tfc_output q, const tfc_output *components, int n) {
    return enqueue_op(g, "QueueEnqueueV2", q, components, n);
}

tfc_node *tfc_queue_enqueue_many(tfc_graph *g, tfc_output q, const tfc_output *components, int n) {
    return enqueue_op(g, "QueueEnqueueManyV2", q, components, n);
}

static int dequeue_op(tfc_graph *g, const char *type, tfc_output q, tfc_output n, tfc_output *out,
                      int max) {
    tfc_op_desc *d = tfc_op_new(g, type, NULL);
    tfc_op_add_input(d, q);
    if (n.node) tfc_op_add_input(d, n);
    tfc_node *node = tfc_op_finish(d);
    if (!node) return -1;
    if (node->noutputs > max) {
        tfc_graph_fail(g, TFC_INVALID_ARGUMENT, "%s: the queue has %d components, room for %d",
                       node->name, node->noutputs, max);
        return -1;
    }
    for (int i = 0; i < node->noutputs; i++) out[i] = tfc_out(node, i);
    return node->noutputs;
}

int tfc_queue_dequeue(tfc_graph *g, tfc_output q, tfc_output *out, int max) {
    return dequeue_op(g, "QueueDequeueV2", q, null_out, out, max);
}

int tfc_queue_dequeue_many(tfc_graph *g, tfc_output q, int32_t n, tfc_output *out, int max) {
    return dequeue_op(g, "QueueDequeueManyV2", q, tfc_const_int32(g, n), out, max);
}

int tfc_queue_dequeue_up_to(tfc_graph *g, tfc_output q, int32_t n, tfc_output *out, int max) {
    return dequeue_op(g, "QueueDequeueUpToV2", q, tfc_const_int32(g, n), out, max);
}

tfc_node *tfc_queue_close(tfc_graph *g, tfc_output q, int cancel_pending_enqueues) {
    tfc_op_desc *d = tfc_op_new(g, "QueueCloseV2", NULL);
    tfc_op_add_input(d, q);
    tfc_op_set_attr_bool(d, "cancel_pending_enqueues", cancel_pending_enqueues);
    return tfc_op_finish(d);
}

tfc_output tfc_queue_size(tfc_graph *g, tfc_output q) {
    tfc_op_desc *d = tfc_op_new(g, "QueueSizeV2", NULL);
    tfc_op_add_input(d, q);
    return tfc_out(tfc_op_finish(d), 0);
}

tfc_output tfc_queue_is_closed(tfc_graph *g, tfc_output q) {
    tfc_op_desc *d = tfc_op_new(g, "QueueIsClosedV2", NULL);
    tfc_op_add_input(d, q);
    return tfc_out(tfc_op_finish(d), 0);
}
