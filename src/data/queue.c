/* Queues (see queue.h): storage, the attempt lists, validation, stacking.
 * Messages are TensorFlow's, naming the queue by its type and name. */
#include "data/queue.h"

#include "core/buffer_pool.h"
#include "core/dtype.h"
#include "core/philox.h"
#include "core/threadpool.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { A_ENQUEUE, A_DEQUEUE, A_CLOSE };
enum { NO_PROGRESS, PROGRESS, COMPLETE };

/* An element: ncomp tensors, and a priority queue's order. */
typedef struct q_elem {
    int64_t priority;
    uint64_t seq;
    tfc_tensor *t[];
} q_elem;

typedef struct attempt_list {
    tfc_queue_attempt *head, *tail;
} attempt_list;

struct tfc_queue {
    tfc_resource res; /* first: a handle's element points here */
    pthread_mutex_t lock;
    tfc_queue_kind kind;
    char *name;
    int ncomp;
    tfc_dtype *dtypes;
    int nshapes;
    tfc_shape *shapes;
    int64_t capacity;
    int64_t min_after_dequeue;
    tfc_philox rng; /* random shuffle */
    uint32_t rbuf[4];
    int rleft;
    /* a ring of elements (a heap by priority for a priority queue) */
    q_elem **ring;
    int64_t head, size, cap;
    uint64_t seq;
    int closed, cancelled;
    attempt_list enq, deq;
};

static const char *kind_name(tfc_queue_kind k) {
    switch (k) {
    case TFC_QUEUE_PADDING_FIFO: return "PaddingFIFOQueue";
    case TFC_QUEUE_RANDOM_SHUFFLE: return "RandomShuffleQueue";
    case TFC_QUEUE_PRIORITY: return "PriorityQueue";
    default: return "FIFOQueue";
    }
}

const char *tfc_queue_name(const tfc_queue *q) { return q->name; }
const char *tfc_queue_type(const tfc_queue *q) { return kind_name(q->kind); }
int tfc_queue_num_components(const tfc_queue *q) { return q->ncomp; }

/* Elements and attempts come from the buffer pool (core/buffer_pool.h):
 * a queue makes and frees one of each per element, often on different
 * threads, where malloc's per-thread caches do not help. */
static size_t elem_size(const tfc_queue *q) {
    return sizeof(q_elem) + sizeof(tfc_tensor *) * (size_t)q->ncomp;
}

static void elem_free(const tfc_queue *q, q_elem *e) {
    if (!e) return;
    for (int i = 0; i < q->ncomp; i++) tfc_tensor_free(e->t[i]);
    tfc_block_free(e, elem_size(q));
}

static void queue_free(tfc_resource *r) {
    tfc_queue *q = (tfc_queue *)r;
    for (int64_t i = 0; i < q->size; i++)
        elem_free(q, q->ring[q->kind == TFC_QUEUE_PRIORITY ? i : (q->head + i) % q->cap]);
    free(q->ring);
    free(q->dtypes);
    free(q->shapes);
    free(q->name);
    pthread_mutex_destroy(&q->lock);
    free(q);
}

static void queue_cancel_resource(tfc_resource *r) { tfc_queue_cancel_all((tfc_queue *)r); }

static const tfc_resource_ops queue_ops = {"Queue", queue_free, queue_cancel_resource};

tfc_queue *tfc_queue_from_handle(const tfc_tensor *handle) {
    tfc_resource *r = tfc_tensor_resource(handle, 0);
    return r && r->ops == &queue_ops ? (tfc_queue *)r : NULL;
}

tfc_queue *tfc_queue_new(const tfc_queue_spec *spec, char *why, size_t cap) {
    if (spec->ncomp < 1) {
        snprintf(why, cap, "a queue needs at least one component");
        return NULL;
    }
    if (spec->nshapes && spec->nshapes != spec->ncomp) {
        snprintf(why, cap, "%d shapes for %d components", spec->nshapes, spec->ncomp);
        return NULL;
    }
    tfc_queue *q = calloc(1, sizeof *q);
    if (!q) goto oom;
    tfc_resource_init(&q->res, &queue_ops);
    pthread_mutex_init(&q->lock, NULL);
    q->kind = spec->kind;
    q->ncomp = spec->ncomp;
    q->nshapes = spec->nshapes;
    q->capacity = spec->capacity < 0 ? INT32_MAX : spec->capacity;
    q->min_after_dequeue = spec->min_after_dequeue;
    tfc_philox_init(&q->rng, spec->seed, 0x5155455545ull);
    q->name = strdup(spec->name ? spec->name : "");
    q->dtypes = malloc(sizeof *q->dtypes * (size_t)q->ncomp);
    q->shapes = malloc(sizeof *q->shapes * (size_t)(q->nshapes + 1));
    if (!q->name || !q->dtypes || !q->shapes) {
        queue_free(&q->res);
        goto oom;
    }
    memcpy(q->dtypes, spec->dtypes, sizeof *q->dtypes * (size_t)q->ncomp);
    if (q->nshapes) memcpy(q->shapes, spec->shapes, sizeof *q->shapes * (size_t)q->nshapes);
    return q;
oom:
    snprintf(why, cap, "out of memory making a queue");
    return NULL;
}

int64_t tfc_queue_current_size(tfc_queue *q) {
    pthread_mutex_lock(&q->lock);
    int64_t n = q->size;
    pthread_mutex_unlock(&q->lock);
    return n;
}

int tfc_queue_closed(tfc_queue *q) {
    pthread_mutex_lock(&q->lock);
    int c = q->closed;
    pthread_mutex_unlock(&q->lock);
    return c;
}

/* ---- storage (lock held) ---- */

static int ring_grow(tfc_queue *q) {
    if (q->size < q->cap) return 0;
    int64_t cap = q->cap ? q->cap * 2 : 16;
    q_elem **r = malloc(sizeof *r * (size_t)cap);
    if (!r) return -1;
    for (int64_t i = 0; i < q->size; i++)
        r[i] = q->kind == TFC_QUEUE_PRIORITY ? q->ring[i] : q->ring[(q->head + i) % q->cap];
    free(q->ring);
    q->ring = r;
    q->head = 0;
    q->cap = cap;
    return 0;
}

static int prio_less(const q_elem *a, const q_elem *b) {
    return a->priority < b->priority || (a->priority == b->priority && a->seq < b->seq);
}

static void heap_swap(tfc_queue *q, int64_t i, int64_t j) {
    q_elem *t = q->ring[i];
    q->ring[i] = q->ring[j];
    q->ring[j] = t;
}

/* Room is there (ring_grow before). */
static void push_back(tfc_queue *q, q_elem *e) {
    e->seq = q->seq++;
    if (q->kind != TFC_QUEUE_PRIORITY) {
        q->ring[(q->head + q->size++) % q->cap] = e;
        return;
    }
    int64_t i = q->size++;
    q->ring[i] = e;
    while (i && prio_less(q->ring[i], q->ring[(i - 1) / 2])) {
        heap_swap(q, i, (i - 1) / 2);
        i = (i - 1) / 2;
    }
}

/* Puts a dequeued element back where it was taken from (a FIFO's front). */
static void push_front(tfc_queue *q, q_elem *e) {
    if (q->kind == TFC_QUEUE_PRIORITY || q->kind == TFC_QUEUE_RANDOM_SHUFFLE) {
        uint64_t seq = e->seq;
        push_back(q, e);
        e->seq = seq; /* keeps its place among equal priorities */
        return;
    }
    q->head = (q->head + q->cap - 1) % q->cap;
    q->ring[q->head] = e;
    q->size++;
}

static uint32_t rng_u32(tfc_queue *q) {
    if (!q->rleft) {
        tfc_philox_next(&q->rng, q->rbuf);
        q->rleft = 4;
    }
    return q->rbuf[--q->rleft];
}

static q_elem *pop(tfc_queue *q) {
    if (q->kind == TFC_QUEUE_PRIORITY) {
        q_elem *top = q->ring[0];
        q->ring[0] = q->ring[--q->size];
        for (int64_t i = 0;;) {
            int64_t l = 2 * i + 1, r = l + 1, m = i;
            if (l < q->size && prio_less(q->ring[l], q->ring[m])) m = l;
            if (r < q->size && prio_less(q->ring[r], q->ring[m])) m = r;
            if (m == i) break;
            heap_swap(q, i, m);
            i = m;
        }
        return top;
    }
    if (q->kind == TFC_QUEUE_RANDOM_SHUFFLE && q->size > 1) {
        /* a uniformly chosen element moves to the front, then leaves */
        uint64_t draw = ((uint64_t)rng_u32(q) << 32 | rng_u32(q)) % (uint64_t)q->size;
        int64_t k = (q->head + (int64_t)draw) % q->cap;
        q_elem *t = q->ring[k];
        q->ring[k] = q->ring[q->head];
        q->ring[q->head] = t;
    }
    q_elem *e = q->ring[q->head];
    q->head = (q->head + 1) % q->cap;
    q->size--;
    return e;
}

/* ---- attempts ---- */

static void set_status(tfc_queue_attempt *a, tfc_code code, const char *fmt, ...)
#ifdef __GNUC__
    __attribute__((format(printf, 3, 4)))
#endif
    ;
static void set_status(tfc_queue_attempt *a, tfc_code code, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    tfc_status_setv(&a->status, code, fmt, ap);
    va_end(ap);
}

static void list_push(attempt_list *l, tfc_queue_attempt *a) {
    a->next = NULL;
    if (l->tail)
        l->tail->next = a;
    else
        l->head = a;
    l->tail = a;
}

static tfc_queue_attempt *list_pop(attempt_list *l) {
    tfc_queue_attempt *a = l->head;
    if (a && !(l->head = a->next)) l->tail = NULL;
    return a;
}

/* Removes a from l; 1 when it was there. */
static int list_remove(attempt_list *l, tfc_queue_attempt *a) {
    tfc_queue_attempt *prev = NULL;
    for (tfc_queue_attempt *x = l->head; x; prev = x, x = x->next) {
        if (x != a) continue;
        if (prev)
            prev->next = x->next;
        else
            l->head = x->next;
        if (l->tail == x) l->tail = prev;
        return 1;
    }
    return 0;
}

/* Puts a dequeue's gathered elements back, the last first. */
static void restore(tfc_queue *q, tfc_queue_attempt *a) {
    for (int64_t i = a->ngot - 1; i >= 0; i--) {
        if (ring_grow(q)) break; /* memory: drop the rest rather than fail the close */
        push_front(q, (q_elem *)((char *)a->got[i] - offsetof(q_elem, t)));
        a->got[i] = NULL;
    }
    a->ngot = 0;
}

static int run_enqueue(tfc_queue *q, tfc_queue_attempt *a) {
    if (q->closed) {
        set_status(a, TFC_CANCELLED, "%s '%s' is closed.", kind_name(q->kind), q->name);
        return COMPLETE;
    }
    int r = NO_PROGRESS;
    while (a->added < a->nelems && q->size < q->capacity) {
        if (ring_grow(q)) {
            set_status(a, TFC_RESOURCE_EXHAUSTED, "out of memory enqueueing into %s '%s'",
                       kind_name(q->kind), q->name);
            return COMPLETE;
        }
        q_elem *e = (q_elem *)((char *)a->elems[a->added] - offsetof(q_elem, t));
        a->elems[a->added++] = NULL;
        push_back(q, e);
        r = PROGRESS;
    }
    return a->added == a->nelems ? COMPLETE : r;
}

/* (run_dequeue and free_got stay out of line so that a profile tells a
 * dequeue's work, done by whichever thread completes it, from the
 * enqueue's) */
__attribute__((noinline)) static int run_dequeue(tfc_queue *q, tfc_queue_attempt *a) {
    if (q->closed && q->size < a->want - a->ngot) {
        restore(q, a);
        if (a->allow_small && q->size > 0) {
            a->want = q->size; /* everything that is left */
        } else {
            /* an UpTo waits for enqueues still pending: they may add more */
            if (a->allow_small && q->enq.head) return PROGRESS;
            set_status(a, TFC_OUT_OF_RANGE,
                       "%s '%s' is closed and has insufficient elements (requested %lld, "
                       "current size %lld)",
                       kind_name(q->kind), q->name, (long long)a->want, (long long)q->size);
            return COMPLETE;
        }
    }
    int64_t avail = q->size;
    if (q->kind == TFC_QUEUE_RANDOM_SHUFFLE && !q->closed) avail -= q->min_after_dequeue;
    int r = NO_PROGRESS;
    for (; avail > 0; avail--) {
        if (a->ngot == a->gotcap) {
            int64_t cap = a->gotcap ? a->gotcap * 2 : (a->want < 64 ? a->want : 64);
            tfc_tensor ***g = realloc(a->got, sizeof *g * (size_t)cap);
            if (!g) {
                restore(q, a);
                set_status(a, TFC_RESOURCE_EXHAUSTED, "out of memory dequeueing from %s '%s'",
                           kind_name(q->kind), q->name);
                return COMPLETE;
            }
            a->got = g;
            a->gotcap = cap;
        }
        a->got[a->ngot++] = pop(q)->t;
        r = PROGRESS;
        if (a->ngot == a->want) return COMPLETE;
    }
    return r;
}

static int run_close(tfc_queue *q, tfc_queue_attempt *a) {
    if (q->closed) set_status(a, TFC_CANCELLED, "Queue '%s' is already closed.", q->name);
    q->closed = 1;
    return COMPLETE;
}

/* Tries the attempts of l in order; the completed ones go on *done. */
static int try_list(tfc_queue *q, attempt_list *l, tfc_queue_attempt **done) {
    int progress = 0;
    while (l->head) {
        tfc_queue_attempt *a = l->head;
        int r = a->kind == A_ENQUEUE   ? run_enqueue(q, a)
                : a->kind == A_DEQUEUE ? run_dequeue(q, a)
                                       : run_close(q, a);
        if (r == NO_PROGRESS) break;
        progress = 1;
        if (r == PROGRESS) break;
        list_pop(l);
        a->next_done = *done;
        *done = a;
    }
    return progress;
}

/* Tries the lists until nothing moves. Each pass tries the enqueues (and
 * closes) first, so the dequeues see what they did; only progress of the
 * dequeues (room made, elements put back) can move an enqueue that did
 * not move before, so another pass is needed only then, and only when
 * enqueues wait (two passes an element cost 100 instructions). */
static void flush_locked(tfc_queue *q, tfc_queue_attempt **done) {
    for (;;) {
        try_list(q, &q->enq, done);
        if (!try_list(q, &q->deq, done) || !q->enq.head) break;
    }
}

/* The dequeued elements the done function left in a->got. */
__attribute__((noinline)) static void free_got(tfc_queue *q, tfc_queue_attempt *a) {
    for (int64_t i = 0; i < a->ngot; i++)
        if (a->got[i]) elem_free(q, (q_elem *)((char *)a->got[i] - offsetof(q_elem, t)));
}

static void attempt_free(tfc_queue_attempt *a) {
    tfc_queue *q = a->queue;
    for (int64_t i = a->added; i < a->nelems; i++)
        if (a->elems[i]) elem_free(q, (q_elem *)((char *)a->elems[i] - offsetof(q_elem, t)));
    if (a->ngot) free_got(q, a);
    if (a->elems != a->one_elem) free(a->elems);
    free(a->got);
    if (a->on_stack) return;
    tfc_resource_unref(&q->res);
    tfc_block_free(a, sizeof *a);
}

/* Calls the done functions of completed attempts, except `self` (which
 * its starter completes). */
static void complete_all(tfc_queue_attempt *list, tfc_queue_attempt *self) {
    while (list) {
        tfc_queue_attempt *a = list;
        list = a->next_done;
        if (a == self) continue;
        a->done(a);
        attempt_free(a);
    }
}

static void cancel_attempt(void *arg, tfc_async_done *token, const tfc_status *why) {
    tfc_queue *q = arg;
    (void)why;
    tfc_queue_attempt *done = NULL, *found = NULL;
    pthread_mutex_lock(&q->lock);
    attempt_list *lists[2] = {&q->enq, &q->deq};
    for (int k = 0; k < 2 && !found; k++)
        for (tfc_queue_attempt *a = lists[k]->head; a; a = a->next)
            if (a->token == token) {
                found = a;
                list_remove(lists[k], a);
                break;
            }
    if (found) {
        if (found->kind == A_DEQUEUE) restore(q, found);
        set_status(found, TFC_CANCELLED,
                   found->kind == A_DEQUEUE ? "Dequeue operation was cancelled"
                                            : "Enqueue operation was cancelled");
        found->next_done = NULL;
        done = found;
        flush_locked(q, &done); /* restored elements may serve others */
    }
    pthread_mutex_unlock(&q->lock);
    complete_all(done, NULL);
}

void tfc_queue_cancel_all(tfc_queue *q) {
    tfc_queue_attempt *done = NULL;
    pthread_mutex_lock(&q->lock);
    q->closed = q->cancelled = 1;
    attempt_list *lists[2] = {&q->enq, &q->deq};
    for (int k = 0; k < 2; k++)
        for (tfc_queue_attempt *a; (a = list_pop(lists[k]));) {
            if (a->kind == A_DEQUEUE) restore(q, a);
            set_status(a, TFC_CANCELLED,
                       a->kind == A_DEQUEUE ? "Dequeue operation was cancelled"
                                            : "Enqueue operation was cancelled");
            a->next_done = done;
            done = a;
        }
    pthread_mutex_unlock(&q->lock);
    complete_all(done, NULL);
}

_Static_assert(offsetof(tfc_queue_attempt, status) + sizeof(tfc_status) <=
                   offsetof(tfc_queue_attempt, ctx),
               "attempt_init zeroes the fields around the status");

/* a's fields zeroed but for the status's message, 512 of the 640 bytes,
 * read only once an error is set (a memset of it all was 90 instructions
 * an enqueue); a->queue is q, without a reference. */
static void attempt_init(tfc_queue_attempt *a, tfc_queue *q, int kind, tfc_kernel_ctx *c,
                         tfc_queue_done_fn done, void *arg) {
    memset(a, 0, offsetof(tfc_queue_attempt, status));
    a->status.code = TFC_OK;
    a->status.msg[0] = 0;
    memset(&a->ctx, 0, sizeof *a - offsetof(tfc_queue_attempt, ctx));
    a->queue = q;
    a->kind = kind;
    a->ctx = c;
    a->done = done;
    a->arg = arg;
}

static tfc_queue_attempt *attempt_new(tfc_queue *q, int kind, tfc_kernel_ctx *c,
                                      tfc_queue_done_fn done, void *arg) {
    tfc_queue_attempt *a = tfc_block_alloc(sizeof *a);
    if (!a) return NULL;
    attempt_init(a, q, kind, c, done, arg);
    tfc_resource_ref(&q->res);
    return a;
}

/* An enqueue started on its starter's stack has to wait: it moves to a
 * block of its own, in its place on the list (lock held). Most enqueues
 * complete at once, and then made and freed a block, and took and dropped
 * a reference to the queue, for nothing. The moved one, or NULL when
 * memory runs out (a still on the list). */
static tfc_queue_attempt *attempt_to_heap(tfc_queue *q, tfc_queue_attempt *a) {
    tfc_queue_attempt *h = tfc_block_alloc(sizeof *h);
    if (!h) return NULL;
    /* (the status's message buffer is most of it, and empty) */
    memcpy(h, a, offsetof(tfc_queue_attempt, status));
    h->status.code = a->status.code;
    size_t msg = strnlen(a->status.msg, sizeof a->status.msg - 1);
    memcpy(h->status.msg, a->status.msg, msg);
    h->status.msg[msg] = 0;
    memcpy(&h->ctx, &a->ctx, sizeof *h - offsetof(tfc_queue_attempt, ctx));
    h->on_stack = 0;
    tfc_resource_ref(&q->res);
    if (a->elems == a->one_elem) h->elems = h->one_elem;
    attempt_list *l = a->kind == A_DEQUEUE ? &q->deq : &q->enq;
    tfc_queue_attempt *prev = NULL;
    for (tfc_queue_attempt *x = l->head; x != a; x = x->next) prev = x;
    if (prev)
        prev->next = h;
    else
        l->head = h;
    if (l->tail == a) l->tail = h;
    return h;
}

/* Adds a to its list, tries the lists, defers a when it has to wait, then
 * completes what completed (a during this call, through its ctx). */
static void start(tfc_queue *q, tfc_queue_attempt *a, tfc_kernel_ctx *c, int front_close) {
    tfc_queue_attempt *done = NULL;
    pthread_mutex_lock(&q->lock);
    if (q->cancelled) {
        set_status(a, TFC_CANCELLED, "%s '%s' was cancelled: its session is closing",
                   kind_name(q->kind), q->name);
        pthread_mutex_unlock(&q->lock);
        a->done(a);
        attempt_free(a);
        return;
    }
    if (front_close) {
        /* close with cancel_pending_enqueues: at once, failing the enqueues */
        q->closed = 1;
        for (tfc_queue_attempt *e; (e = list_pop(&q->enq));) {
            set_status(e, TFC_CANCELLED, "Enqueue operation was cancelled");
            e->next_done = done;
            done = e;
        }
    } else {
        list_push(a->kind == A_DEQUEUE ? &q->deq : &q->enq, a);
    }
    flush_locked(q, &done);
    int complete = front_close;
    for (tfc_queue_attempt *x = done; x && !complete; x = x->next_done) complete = x == a;
    if (!complete && a->on_stack) {
        tfc_queue_attempt *h = attempt_to_heap(q, a);
        if (h) {
            a = h;
        } else {
            list_remove(&q->enq, a);
            set_status(a, TFC_RESOURCE_EXHAUSTED, "out of memory enqueueing into %s '%s'",
                       kind_name(q->kind), q->name);
            complete = 1;
            flush_locked(q, &done);
        }
    }
    if (!complete) {
        /* a node that deferred already keeps its token */
        if (!a->token) a->token = c ? tfc_kernel_defer(c, cancel_attempt, q) : NULL;
        /* from now on it replies through its token, maybe before we return:
         * a is not ours to touch once the lock is released */
        a->ctx = NULL;
        if (!a->token) {
            a->ctx = c;
            /* the run cannot wait (it failed already): give up now */
            list_remove(a->kind == A_DEQUEUE ? &q->deq : &q->enq, a);
            if (a->kind == A_DEQUEUE) restore(q, a);
            set_status(a, TFC_CANCELLED,
                       a->kind == A_DEQUEUE ? "Dequeue operation was cancelled"
                                            : "Enqueue operation was cancelled");
            complete = 1;
            flush_locked(q, &done);
        }
    }
    pthread_mutex_unlock(&q->lock);
    complete_all(done, a);
    if (complete) {
        a->done(a);
        attempt_free(a);
    }
}

/* ---- validation and element building ---- */

static const char *shape_str(int rank, const int64_t *dims, char *buf, size_t n) {
    return tfc_dims_str(rank, dims, buf, n);
}

/* Whether component i of a tuple fits (for `many`, after its first dim). */
static inline int component_fits(const tfc_queue *q, int i, const tfc_tensor *t, int many) {
    if (t->dtype != q->dtypes[i] || (many && t->rank < 1)) return 0;
    if (!q->nshapes || q->shapes[i].rank < 0) return 1;
    const tfc_shape *s = &q->shapes[i];
    if (s->rank != t->rank - many) return 0;
    for (int d = 0; d < s->rank; d++)
        if (s->dims[d] >= 0 && s->dims[d] != t->dims[many + d]) return 0;
    return 1;
}

/* The kernel's error for component i, which does not fit: it names the
 * queue and the component. -1. */
__attribute__((noinline)) static int component_error(tfc_queue *q, int i, const tfc_tensor *t,
                                                     int many, tfc_kernel_ctx *c) {
    char a[96], b[96];
    if (t->dtype != q->dtypes[i]) {
        tfc_kernel_error(c, TFC_INVALID_ARGUMENT,
                         "%s '%s': Type mismatch in tuple component %d. Expected %s, got %s",
                         kind_name(q->kind), q->name, i, tfc_dtype_name(q->dtypes[i]),
                         tfc_dtype_name(t->dtype));
        return -1;
    }
    if (many && t->rank < 1) {
        tfc_kernel_error(c, TFC_INVALID_ARGUMENT,
                         "%s '%s': component %d of an enqueue_many must have a batch dimension, "
                         "got a scalar",
                         kind_name(q->kind), q->name, i);
        return -1;
    }
    /* the shape is what does not fit */
    tfc_shape want = q->shapes[i];
    if (many && want.rank >= 0 && want.rank < TFC_MAX_RANK) {
        memmove(want.dims + 1, want.dims, sizeof *want.dims * (size_t)want.rank);
        want.dims[0] = t->dims[0];
        want.rank++;
    }
    tfc_kernel_error(c, TFC_INVALID_ARGUMENT,
                     "%s '%s': Shape mismatch in tuple component %d. Expected %s, got %s",
                     kind_name(q->kind), q->name, i, tfc_shape_str(&want, a, sizeof a),
                     shape_str(t->rank, t->dims, b, sizeof b));
    return -1;
}

/* Checks component i of a tuple: 0, or -1 with the kernel's error. */
static inline int check_component(tfc_queue *q, int i, const tfc_tensor *t, int many,
                                  tfc_kernel_ctx *c) {
    return component_fits(q, i, t, many) ? 0 : component_error(q, i, t, many, c);
}

static q_elem *elem_new(const tfc_queue *q) {
    q_elem *e = tfc_block_alloc(elem_size(q));
    if (e) memset(e, 0, elem_size(q));
    return e;
}

/* Row k of t (its first dim dropped). In a queue whose rows leave in
 * order (FIFO, padding FIFO) a view into t's buffer: an alias header, no
 * data block and no copy (the dequeue copies each row into its batch
 * anyway); t's buffer then outlives its rows' stay by one batch at most.
 * Elsewhere a tensor owning a copy, as TensorFlow makes: a shuffle or
 * priority queue takes rows out in any order, and a view would keep its
 * batch until the last row left (in the MNIST pipeline's shuffle queue,
 * 60% more peak memory for 330 instructions an example fewer and no CPU
 * time measurably saved). A copy too for a variable's value (its buffer
 * changes under us), strings and handles (their elements own bytes or
 * references) and rows not 64-byte aligned (a tensor's data always is). */
static tfc_tensor *row_of(const tfc_queue *q, tfc_tensor *t, int64_t k) {
    int64_t n = t->dims[0] ? t->nelem / t->dims[0] : 0;
    size_t esz = tfc_dtype_bytes(t->dtype);
    char *row = (char *)t->data + (size_t)(k * n) * esz;
    int in_order = q->kind == TFC_QUEUE_FIFO || q->kind == TFC_QUEUE_PADDING_FIFO;
    if (!in_order || (t->flags & TFC_TENSOR_VARIABLE) || t->dtype == TFC_STRING ||
        t->dtype == TFC_RESOURCE || ((uintptr_t)row & 63))
        return tfc_tensor_from_data(t->dtype, t->rank - 1, t->dims + 1, row);
    /* an alias of the whole batch, narrowed to the row */
    tfc_tensor *v = tfc_tensor_alias(t, t->rank, t->dims);
    if (!v) return NULL;
    v->rank = t->rank - 1;
    memmove(v->dims, v->dims + 1, sizeof *v->dims * (size_t)v->rank);
    v->dims[v->rank] = 0;
    v->nelem = n;
    v->nbytes = (size_t)n * esz;
    v->data = row;
    return v;
}

void tfc_queue_start_enqueue(tfc_queue *q, tfc_kernel_ctx *c, tfc_tensor *const *tuple, int many,
                             tfc_queue_done_fn done, void *arg) {
    for (int i = 0; i < q->ncomp; i++)
        if (check_component(q, i, tuple[i], many, c)) return;
    int64_t n = many ? tuple[0]->dims[0] : 1;
    for (int i = 1; many && i < q->ncomp; i++)
        if (tuple[i]->dims[0] != n) {
            tfc_kernel_error(c, TFC_INVALID_ARGUMENT,
                             "%s '%s': All input tensors must have the same size in the 0th "
                             "dimension. Component %d has %lld, and should have %lld",
                             kind_name(q->kind), q->name, i, (long long)tuple[i]->dims[0],
                             (long long)n);
            return;
        }
    if (q->kind == TFC_QUEUE_PRIORITY && (tuple[0]->dtype != TFC_INT64 || tuple[0]->rank != many)) {
        tfc_kernel_error(c, TFC_INVALID_ARGUMENT,
                         "PriorityQueue '%s': the priority (component 0) must be an int64 %s",
                         q->name, many ? "vector" : "scalar");
        return;
    }
    tfc_queue_attempt local, *a = &local; /* moves to a block if it has to wait */
    attempt_init(a, q, A_ENQUEUE, c, done, arg);
    a->on_stack = 1;
    if (n == 0) { /* an empty batch enqueues nothing, closed or not */
        a->done(a);
        attempt_free(a);
        return;
    }
    a->elems = n == 1 ? a->one_elem : malloc(sizeof *a->elems * (size_t)n);
    if (!a->elems) goto oom;
    /* the elements are built before the lock is taken */
    for (int64_t k = 0; k < n; k++) {
        q_elem *e = elem_new(q);
        if (!e) goto oom;
        a->elems[a->nelems++] = e->t;
        for (int i = 0; i < q->ncomp; i++) {
            const tfc_tensor *t = tuple[i];
            /* a variable's buffer changes under us: copy it */
            e->t[i] = many                             ? row_of(q, (tfc_tensor *)t, k)
                      : t->flags & TFC_TENSOR_VARIABLE ? tfc_tensor_copy(t)
                                                       : tfc_tensor_ref((tfc_tensor *)t);
            if (!e->t[i]) goto oom;
        }
        if (q->kind == TFC_QUEUE_PRIORITY) e->priority = *(const int64_t *)e->t[0]->data;
    }
    start(q, a, c, 0);
    return;
oom:
    attempt_free(a);
    tfc_kernel_error(c, TFC_RESOURCE_EXHAUSTED, "out of memory enqueueing into %s '%s'",
                     kind_name(q->kind), q->name);
}

void tfc_queue_start_dequeue(tfc_queue *q, tfc_kernel_ctx *c, int64_t n, int allow_small,
                             tfc_queue_done_fn done, void *arg, tfc_async_done *token) {
    tfc_queue_attempt *a = attempt_new(q, A_DEQUEUE, c, done, arg);
    if (!a) {
        if (c) tfc_kernel_error(c, TFC_RESOURCE_EXHAUSTED, "out of memory dequeueing");
        if (token) {
            tfc_async_done_error(token, TFC_RESOURCE_EXHAUSTED, "out of memory dequeueing");
            tfc_async_done_finish(token);
        }
        return;
    }
    a->token = token;
    a->batched = n >= 0;
    a->want = n < 0 ? 1 : n;
    int defined = q->nshapes > 0;
    for (int i = 0; defined && i < q->nshapes; i++) {
        defined = q->shapes[i].rank >= 0;
        for (int d = 0; defined && d < q->shapes[i].rank; d++) defined = q->shapes[i].dims[d] >= 0;
    }
    if (a->batched && q->kind != TFC_QUEUE_PADDING_FIFO && !defined) {
        attempt_free(a);
        if (!c) return; /* only kernels ask for batches */
        tfc_kernel_error(c, TFC_INVALID_ARGUMENT,
                         "%s's DequeueMany and DequeueUpTo require the components to have "
                         "specified shapes.",
                         kind_name(q->kind));
        return;
    }
    a->allow_small = allow_small;
    if (a->want == 0) { /* an empty batch, at once */
        a->done(a);
        attempt_free(a);
        return;
    }
    start(q, a, c, 0);
}

void tfc_queue_start_close(tfc_queue *q, tfc_kernel_ctx *c, int cancel_pending_enqueues,
                           tfc_queue_done_fn done, void *arg) {
    tfc_queue_attempt *a = attempt_new(q, A_CLOSE, c, done, arg);
    if (!a) {
        tfc_kernel_error(c, TFC_RESOURCE_EXHAUSTED, "out of memory closing a queue");
        return;
    }
    a->cancel_pending = cancel_pending_enqueues;
    start(q, a, c, cancel_pending_enqueues);
}

/* ---- stacking dequeued elements ---- */

/* Copies element e (rank r, dims ed) into slot k of out, whose rows are
 * padded to od (out's dims after the first). */
static void copy_padded(char *dst, const int64_t *od, const char *src, const int64_t *ed, int r,
                        size_t esz) {
    if (r == 0) {
        memcpy(dst, src, esz);
        return;
    }
    int64_t inner_out = 1, inner_in = 1;
    for (int d = 1; d < r; d++) {
        inner_out *= od[d];
        inner_in *= ed[d];
    }
    if (r == 1) {
        memcpy(dst, src, (size_t)ed[0] * esz);
        return;
    }
    for (int64_t i = 0; i < ed[0]; i++)
        copy_padded(dst + (size_t)(i * inner_out) * esz, od + 1, src + (size_t)(i * inner_in) * esz,
                    ed + 1, r - 1, esz);
}

/* Elements of one component copied, whole, into their rows of a batch. */
typedef struct row_copy {
    char *dst;
    tfc_tensor ***got;
    int comp;
    size_t row_bytes;
} row_copy;

/* Elements leave a shuffle queue in random order, long after they came:
 * each row starts with a cache miss the hardware cannot foresee, so the
 * start of the row after next is asked for ahead (its header was by the
 * shape pass). */
enum { PREFETCH_ROWS = 2, PREFETCH_LINES = 4 };

static void copy_rows(void *arg, int64_t begin, int64_t end) {
    const row_copy *j = arg;
    for (int64_t k = begin; k < end; k++) {
        if (k + PREFETCH_ROWS < end) {
            const char *next = j->got[k + PREFETCH_ROWS][j->comp]->data;
            for (int l = 0; l < PREFETCH_LINES; l++) __builtin_prefetch(next + 64 * l);
        }
        memcpy(j->dst + (size_t)k * j->row_bytes, j->got[k][j->comp]->data,
               j->got[k][j->comp]->nbytes);
    }
}

/* Headers of elements ahead of k, for a pass over the batch's shapes:
 * the element's component array 8 ahead, its tensor 4 ahead (the array
 * asked for 4 elements before). */
static inline void prefetch_elements(tfc_tensor ***got, int64_t k, int64_t n, int comp) {
    if (k + 8 < n) __builtin_prefetch(got[k + 8]);
    if (k + 4 < n) __builtin_prefetch(got[k + 4][comp]);
}

/* Bytes a thread copies at the least when a batch's copy is split: the
 * step waits on a big batch (32 images of 224x224x3 floats are 19 MB), a
 * small one is not worth a hand-off. */
enum { COPY_GRAIN_BYTES = 256 << 10 };

int tfc_queue_stack(tfc_queue_attempt *a, tfc_tensor **outs) {
    tfc_queue *q = a->queue;
    int64_t n = a->ngot;
    for (int i = 0; i < q->ncomp; i++) outs[i] = NULL;
    for (int i = 0; i < q->ncomp; i++) {
        tfc_dtype dt = q->dtypes[i];
        size_t esz = tfc_dtype_bytes(dt);
        int64_t dims[TFC_MAX_RANK];
        int r;
        if (n) {
            const tfc_tensor *t0 = a->got[0][i];
            r = t0->rank;
            memcpy(dims + 1, t0->dims, sizeof *dims * (size_t)r);
            for (int64_t k = 1; k < n; k++) {
                prefetch_elements(a->got, k, n, i);
                const tfc_tensor *t = a->got[k][i];
                for (int d = 0; d < r; d++)
                    if (t->dims[d] > dims[d + 1]) dims[d + 1] = t->dims[d];
            }
        } else {
            /* an empty batch: the component's shape, unknown sizes 0 */
            const tfc_shape *s = q->nshapes ? &q->shapes[i] : NULL;
            r = s && s->rank > 0 ? s->rank : 0;
            for (int d = 0; d < r; d++) dims[d + 1] = s->dims[d] < 0 ? 0 : s->dims[d];
        }
        if (r + 1 > TFC_MAX_RANK) {
            set_status(a, TFC_INVALID_ARGUMENT,
                       "%s '%s': component %d has rank %d; a batch of "
                       "it would pass rank %d",
                       kind_name(q->kind), q->name, i, r, TFC_MAX_RANK);
            goto fail;
        }
        dims[0] = n;
        /* zeros only where some element is padded (or for string views):
         * a batch of full rows is all overwritten */
        int64_t row = 1;
        for (int d = 1; d <= r; d++) row *= dims[d];
        int full = dt != TFC_STRING;
        for (int64_t k = 0; k < n && full; k++) full = a->got[k][i]->nelem == row;
        tfc_tensor *out = full ? tfc_tensor_alloc(dt, r + 1, dims) : tfc_tensor_new(dt, r + 1, dims);
        if (!out) goto oom;
        outs[i] = out;
        if (full) { /* every element fills its row: one memcpy a row, split over the pool */
            row_copy j = {out->data, a->got, i, (size_t)row * esz};
            int64_t grain = j.row_bytes ? 1 + (int64_t)(COPY_GRAIN_BYTES / j.row_bytes) : n;
            tfc_parallel_for(a->ctx ? a->ctx->pool : NULL, n, grain, copy_rows, &j);
            continue;
        }
        for (int64_t k = 0; k < n; k++) {
            const tfc_tensor *t = a->got[k][i];
            char *dst = (char *)out->data + (size_t)(k * row) * esz;
            if (t->nelem == row)
                memcpy(dst, t->data, t->nbytes);
            else if (t->nelem)
                copy_padded(dst, dims + 1, t->data, t->dims, r, esz);
        }
        /* string rows were copied as views into the elements: own them */
        if (tfc_tensor_own_strings(out)) {
            memset(out->data, 0, out->nbytes);
            goto oom;
        }
    }
    return 0;
oom:
    set_status(a, TFC_RESOURCE_EXHAUSTED, "out of memory stacking %lld elements of %s '%s'",
               (long long)n, kind_name(q->kind), q->name);
fail:
    for (int i = 0; i < q->ncomp; i++) {
        tfc_tensor_free(outs[i]);
        outs[i] = NULL;
    }
    return -1;
}
