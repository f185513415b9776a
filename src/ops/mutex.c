/* TensorFlow's mutexes (core/ops/resource_variable_ops.cc, kernels in
 * mutex_ops.cc): MutexV2 makes a mutex (once per session, a resource like a
 * queue) and outputs its handle; MutexLock(mutex) takes the mutex and
 * outputs a lock; ConsumeMutexLock(lock) is the op that keeps the lock
 * alive until the critical section's ops (its control inputs) have run.
 *
 * TensorFlow's lock is a DT_VARIANT scalar holding a shared releaser: the
 * mutex is released when the last copy of that tensor is destroyed. tfc has
 * no variant dtype, so the lock is the nearest honest thing: a
 * TFC_RESOURCE scalar whose element is a reference-counted lock token, and
 * the token's free releases the mutex. A tensor freed by the executor after
 * its last use, a fetched copy freed by the user, the values a failed run
 * drops: each releases the mutex exactly when TensorFlow's would.
 *
 * A MutexLock that finds the mutex taken waits without a thread: its
 * kernel defers (TFC_OP_ASYNC) and queues itself on the mutex; a release
 * hands the mutex straight to the first waiter and completes its node. So
 * a one-thread session runs two critical sections of one run in turn, and
 * a blocked run can time out (timeout_in_ms) or be cancelled by closing
 * the session. */
#include "data/shared_resources.h"
#include "graph/graph.h"
#include "graph/op_registry.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MUTEX_OP (TFC_OP_STATEFUL | TFC_OP_RESOURCES | TFC_OP_NO_GRADIENT)

typedef struct waiter {
    struct waiter *next;
    tfc_async_done *done;
} waiter;

typedef struct graph_mutex {
    tfc_resource base;
    pthread_mutex_t mu;
    int locked;    /* a lock token exists */
    int cancelled; /* the session is closing: no more locks */
    waiter *head, *tail;
    char name[];
} graph_mutex;

typedef struct lock_token {
    tfc_resource base;
    graph_mutex *m; /* a reference */
} lock_token;

static void mutex_free(tfc_resource *r) {
    graph_mutex *m = (graph_mutex *)r;
    pthread_mutex_destroy(&m->mu);
    free(m);
}

static void mutex_cancel(tfc_resource *r);
static const tfc_resource_ops mutex_ops = {"Mutex", mutex_free, mutex_cancel};

static void token_free(tfc_resource *r);
static const tfc_resource_ops token_ops = {"MutexLock", token_free, NULL};

static graph_mutex *mutex_new(const char *name) {
    size_t n = strlen(name);
    graph_mutex *m = calloc(1, sizeof *m + n + 1);
    if (!m) return NULL;
    tfc_resource_init(&m->base, &mutex_ops);
    pthread_mutex_init(&m->mu, NULL);
    memcpy(m->name, name, n + 1);
    return m;
}

/* A lock tensor holding a new token of m (which m's caller has marked
 * locked); NULL when memory runs out. */
static tfc_tensor *token_tensor(graph_mutex *m) {
    lock_token *k = calloc(1, sizeof *k);
    if (!k) return NULL;
    tfc_resource_init(&k->base, &token_ops);
    k->m = (graph_mutex *)tfc_resource_ref(&m->base);
    tfc_tensor *t = tfc_resource_tensor(&k->base);
    tfc_resource_unref(&k->base); /* the tensor holds it now, or it goes */
    return t;
}

/* Pops the first waiter; with none, the mutex becomes free. m->mu held. */
static waiter *next_owner_locked(graph_mutex *m) {
    waiter *w = m->head;
    if (!w) {
        m->locked = 0;
        return NULL;
    }
    m->head = w->next;
    if (!m->head) m->tail = NULL;
    return w;
}

/* The last copy of a lock is gone: the mutex goes to the first waiter (its
 * node completes with a new lock), or becomes free. Called from whatever
 * thread freed the tensor, holding no executor lock. */
static void release(graph_mutex *m) {
    pthread_mutex_lock(&m->mu);
    waiter *w = next_owner_locked(m);
    pthread_mutex_unlock(&m->mu);
    while (w) {
        tfc_tensor *t = token_tensor(m);
        if (t) {
            tfc_async_done_set_output(w->done, 0, t);
            tfc_async_done_finish(w->done);
            free(w);
            return;
        }
        tfc_async_done_error(w->done, TFC_RESOURCE_EXHAUSTED, "out of memory locking mutex '%s'",
                             m->name);
        tfc_async_done_finish(w->done);
        free(w);
        pthread_mutex_lock(&m->mu);
        w = next_owner_locked(m);
        pthread_mutex_unlock(&m->mu);
    }
}

static void token_free(tfc_resource *r) {
    lock_token *k = (lock_token *)r;
    release(k->m);
    tfc_resource_unref(&k->m->base);
    free(k);
}

/* A waiting MutexLock's run ends early (failed, timed out, session
 * closing): take it off the queue and fail it, unless a release already
 * took it (and completes it). */
static void cancel_waiter(void *arg, tfc_async_done *done, const tfc_status *why) {
    graph_mutex *m = arg;
    pthread_mutex_lock(&m->mu);
    waiter **pp = &m->head, *prev = NULL, *w = NULL;
    for (; *pp; prev = *pp, pp = &(*pp)->next)
        if ((*pp)->done == done) {
            w = *pp;
            *pp = w->next;
            if (m->tail == w) m->tail = prev;
            break;
        }
    pthread_mutex_unlock(&m->mu);
    if (!w) return;
    tfc_async_done_error(done, why->code, "%s", why->msg);
    tfc_async_done_finish(done);
    free(w);
}

/* The session is closing: every waiter fails, and so does every later
 * MutexLock of this mutex. */
static void mutex_cancel(tfc_resource *r) {
    graph_mutex *m = (graph_mutex *)r;
    pthread_mutex_lock(&m->mu);
    m->cancelled = 1;
    waiter *w = m->head;
    m->head = m->tail = NULL;
    pthread_mutex_unlock(&m->mu);
    while (w) {
        waiter *next = w->next;
        tfc_async_done_error(w->done, TFC_CANCELLED, "Mutex '%s' was cancelled: the session is closing",
                             m->name);
        tfc_async_done_finish(w->done);
        free(w);
        w = next;
    }
}

/* ---- MutexV2() -> resource ---- */

static int mutex_infer(tfc_infer_ctx *c) {
    if (!tfc_attrs_string(c->attrs, "container")) tfc_attrs_set_string(c->attrs, "container", "");
    if (!tfc_attrs_string(c->attrs, "shared_name")) tfc_attrs_set_string(c->attrs, "shared_name", "");
    tfc_infer_set_output(c, 0, TFC_RESOURCE, tfc_shape_scalar());
    return 0;
}

static void node_free_mutex(void *r) { tfc_resource_unref(r); }
static void node_free_shared_mutex(void *r) { tfc_shared_resource_release(r); }
static void node_cancel_mutex(void *r) { mutex_cancel(r); }

static tfc_resource *make_mutex(void *arg, char *why, size_t cap) {
    graph_mutex *m = mutex_new(arg);
    if (!m) snprintf(why, cap, "out of memory making mutex '%s'", (const char *)arg);
    return m ? &m->base : NULL;
}

static void mutex_kernel(tfc_kernel_ctx *c) {
    tfc_node_state *st = c->state;
    const tfc_attrs *a = &c->node->attrs;
    const char *shared = tfc_attrs_string(a, "shared_name");
    const char *container = tfc_attrs_string(a, "container");
    int is_shared = shared && *shared;
    pthread_mutex_lock(&st->lock);
    if (!st->value) {
        char why[300] = "out of memory";
        tfc_resource *r;
        if (is_shared) { /* one mutex per (container, shared_name) in the session */
            const void *have = NULL;
            r = tfc_shared_resource_acquire(c->session, container ? container : "", shared,
                                            &mutex_ops, &have, make_mutex, (void *)shared, why,
                                            sizeof why);
            if (r && r->ops != &mutex_ops) {
                snprintf(why, sizeof why, "shared_name '%s' names a %s, not a mutex", shared,
                         r->ops->type_name);
                tfc_shared_resource_release(r);
                r = NULL;
            }
        } else {
            r = make_mutex((void *)c->node->name, why, sizeof why);
        }
        tfc_tensor *h = r ? tfc_resource_tensor(r) : NULL;
        if (!h) {
            if (r && is_shared) tfc_shared_resource_release(r);
            else if (r) tfc_resource_unref(r);
            pthread_mutex_unlock(&st->lock);
            tfc_kernel_error(c, r ? TFC_RESOURCE_EXHAUSTED : TFC_INVALID_ARGUMENT, "%s", why);
            return;
        }
        st->value = h;
        st->resource = r;
        st->free_resource = is_shared ? node_free_shared_mutex : node_free_mutex;
        st->cancel_resource = node_cancel_mutex;
    }
    tfc_kernel_set_output(c, 0, tfc_tensor_ref(st->value));
    pthread_mutex_unlock(&st->lock);
}

/* ---- MutexLock(mutex: resource) -> mutex_lock ---- */

static int is_scalar_resource(tfc_infer_ctx *c, int i, const char *what) {
    if (tfc_infer_input_dtype(c, i) != TFC_RESOURCE)
        return tfc_infer_error(c, "%s must be a resource handle, got %s", what,
                               tfc_dtype_name(tfc_infer_input_dtype(c, i)));
    tfc_shape s = tfc_infer_input_shape(c, i);
    if (s.rank > 0) return tfc_infer_error(c, "%s must be a scalar, got rank %d", what, s.rank);
    return 0;
}

/* The op a handle comes from, through Identity. */
static const tfc_node *source_op(tfc_output h) {
    const tfc_node *n = h.node;
    while (n && !strcmp(n->op->type, "Identity") && n->ninputs == 1) n = n->inputs[0].node;
    return n;
}

static int lock_infer(tfc_infer_ctx *c) {
    if (is_scalar_resource(c, 0, "mutex")) return -1;
    /* a lock given for its mutex is the likely mistake; other handles
     * (fed, imported, a function's argument) are checked when it runs */
    const tfc_node *src = source_op(c->inputs[0]);
    if (src && !strcmp(src->op->type, "MutexLock"))
        return tfc_infer_error(c, "mutex must be a MutexV2's handle, got the lock of MutexLock '%s'",
                               src->name);
    tfc_infer_set_output(c, 0, TFC_RESOURCE, tfc_shape_scalar());
    return 0;
}

static void lock_kernel(tfc_kernel_ctx *c) {
    tfc_resource *r = tfc_tensor_resource(c->inputs[0], 0);
    if (!r || r->ops != &mutex_ops) {
        tfc_kernel_error(c, TFC_INVALID_ARGUMENT, "input 0 is not a mutex's handle");
        return;
    }
    graph_mutex *m = (graph_mutex *)r;
    pthread_mutex_lock(&m->mu);
    if (m->cancelled) {
        pthread_mutex_unlock(&m->mu);
        tfc_kernel_error(c, TFC_CANCELLED, "Mutex '%s' was cancelled: the session is closing",
                         m->name);
        return;
    }
    if (!m->locked) {
        m->locked = 1;
        pthread_mutex_unlock(&m->mu);
        tfc_tensor *t = token_tensor(m);
        if (t) {
            tfc_kernel_set_output(c, 0, t);
            return;
        }
        release(m); /* never handed out: pass it on */
        tfc_kernel_error(c, TFC_RESOURCE_EXHAUSTED, "out of memory locking mutex '%s'", m->name);
        return;
    }
    /* taken: wait in line, without a thread */
    waiter *w = calloc(1, sizeof *w);
    tfc_async_done *done = w ? tfc_kernel_defer(c, cancel_waiter, m) : NULL;
    if (!done) {
        pthread_mutex_unlock(&m->mu);
        free(w);
        if (!w) tfc_kernel_error(c, TFC_RESOURCE_EXHAUSTED, "out of memory locking mutex '%s'", m->name);
        else tfc_kernel_error(c, TFC_CANCELLED, "the run ended while mutex '%s' was taken", m->name);
        return;
    }
    w->done = done;
    if (m->tail) m->tail->next = w;
    else m->head = w;
    m->tail = w;
    pthread_mutex_unlock(&m->mu);
}

/* ---- ConsumeMutexLock(mutex_lock) ---- */

static int consume_infer(tfc_infer_ctx *c) {
    if (is_scalar_resource(c, 0, "mutex_lock")) return -1;
    const tfc_node *src = source_op(c->inputs[0]);
    if (src && !strcmp(src->op->type, "MutexV2"))
        return tfc_infer_error(c, "mutex_lock must be a MutexLock's output, got the handle of "
                                  "MutexV2 '%s'",
                               src->name);
    return 0;
}

static void consume_kernel(tfc_kernel_ctx *c) {
    tfc_resource *r = tfc_tensor_resource(c->inputs[0], 0);
    if (!r || r->ops != &token_ops) {
        tfc_kernel_error(c, TFC_INVALID_ARGUMENT,
                         "Expected input to contain a MutexLock's lock, but saw %s",
                         r ? r->ops->type_name : "nothing");
        return;
    }
    /* as TensorFlow: this op must be the lock's only holder (a copy held
     * elsewhere, a fetched one, would keep the mutex past the section) */
    int uses = atomic_load(&r->refcount);
    if (uses != 1)
        tfc_kernel_error(c, TFC_INVALID_ARGUMENT, "Expected use count of lock to be 1, but saw: %d",
                         uses);
}

const tfc_op_def tfc_ops_mutex[] = {
    {"MutexV2", 0, 0, 1, MUTEX_OP | TFC_OP_HANDLE, 0, mutex_infer, mutex_kernel, NULL},
    {"MutexLock", 1, 1, 1, MUTEX_OP | TFC_OP_ASYNC, 0, lock_infer, lock_kernel, NULL},
    {"ConsumeMutexLock", 1, 1, 0, MUTEX_OP, 0, consume_infer, consume_kernel, NULL},
    {NULL, 0, 0, 0, 0, 0, NULL, NULL, NULL},
};

/* ---- public helpers ---- */

tfc_output tfc_mutex(tfc_graph *g, const char *name, const char *shared_name) {
    tfc_op_desc *d = tfc_op_new(g, "MutexV2", name);
    tfc_op_set_attr_string(d, "shared_name", shared_name ? shared_name : "");
    return tfc_out(tfc_op_finish(d), 0);
}

tfc_output tfc_mutex_lock(tfc_graph *g, tfc_output mutex) {
    tfc_op_desc *d = tfc_op_new(g, "MutexLock", NULL);
    tfc_op_add_input(d, mutex);
    return tfc_out(tfc_op_finish(d), 0);
}

tfc_node *tfc_consume_mutex_lock(tfc_graph *g, tfc_output mutex_lock) {
    tfc_op_desc *d = tfc_op_new(g, "ConsumeMutexLock", NULL);
    tfc_op_add_input(d, mutex_lock);
    return tfc_op_finish(d);
}
