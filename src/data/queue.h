/* Queues: TensorFlow's FIFOQueue, PaddingFIFOQueue, RandomShuffleQueue and
 * PriorityQueue, as session resources that ops reach through a
 * TFC_RESOURCE handle.
 *
 * Every operation is an "attempt" kept in order on one of two lists
 * (enqueues and closes; dequeues). After any change the lists are tried
 * front to back until nothing moves (TensorFlow's QueueBase::FlushUnlocked),
 * so a blocked attempt never holds a thread: the kernel that made it defers
 * (tfc_kernel_defer) and whoever moves it to completion -- an enqueue from
 * any run, a close, a cancellation -- finishes it outside the queue's lock.
 * A dequeue of n gathers elements as they come, so n may exceed the
 * capacity; a close or a cancellation puts what it gathered back. */
#ifndef TFC_DATA_QUEUE_H
#define TFC_DATA_QUEUE_H

#include "graph/op_registry.h"

typedef enum tfc_queue_kind {
    TFC_QUEUE_FIFO,
    TFC_QUEUE_PADDING_FIFO,
    TFC_QUEUE_RANDOM_SHUFFLE,
    TFC_QUEUE_PRIORITY
} tfc_queue_kind;

typedef struct tfc_queue tfc_queue;

typedef struct tfc_queue_spec {
    tfc_queue_kind kind;
    const char *name; /* for messages: the shared_name, else the node's */
    int ncomp;        /* components (a priority queue's priority included) */
    const tfc_dtype *dtypes;
    int nshapes; /* 0 (unknown) or ncomp */
    const tfc_shape *shapes;
    int64_t capacity;          /* < 0: unbounded */
    int64_t min_after_dequeue; /* random shuffle */
    uint64_t seed;             /* random shuffle */
} tfc_queue_spec;

/* A queue with one reference (a tfc_resource), or NULL with `why` set. */
tfc_queue *tfc_queue_new(const tfc_queue_spec *spec, char *why, size_t cap);
/* The queue behind a handle tensor, or NULL. */
tfc_queue *tfc_queue_from_handle(const tfc_tensor *handle);
const char *tfc_queue_name(const tfc_queue *q);
const char *tfc_queue_type(const tfc_queue *q); /* "FIFOQueue", ... */
int tfc_queue_num_components(const tfc_queue *q);
int64_t tfc_queue_current_size(tfc_queue *q);
int tfc_queue_closed(tfc_queue *q);
/* Fails every waiting attempt with CANCELLED and every later one: the
 * session that owns the queue is closing. */
void tfc_queue_cancel_all(tfc_queue *q);

/* ---- operations ----
 * Each completes through `done` (with the attempt: its status and, for a
 * dequeue, the elements), called once: during the call when the attempt
 * completes at once (a->token NULL: reply through a->ctx), else later
 * from whichever thread completes it (a->token: reply through it), after
 * the queue's lock is released. A kernel may pass NULL for c only if it
 * accepts to be told CANCELLED when the attempt would have to wait. */

typedef struct tfc_queue_attempt tfc_queue_attempt;
typedef void (*tfc_queue_done_fn)(tfc_queue_attempt *a);

struct tfc_queue_attempt {
    tfc_queue *queue;
    tfc_status status;
    tfc_kernel_ctx *ctx;   /* while the starting kernel runs; else NULL */
    tfc_async_done *token; /* once deferred */
    void *arg;             /* the caller's */
    /* dequeue results: ngot elements of ncomp tensors each (references
     * the callee may take, setting them NULL) */
    int64_t ngot;
    tfc_tensor ***got;
    int batched; /* DequeueMany / DequeueUpTo: outputs are stacked */
    /* private to queue.c */
    struct tfc_queue_attempt *next, *next_done;
    int kind;
    int64_t want;
    int allow_small, cancel_pending;
    int64_t nelems, added, gotcap;
    tfc_tensor ***elems;
    tfc_tensor **one_elem[1]; /* elems of a one-element enqueue: no array to allocate */
    tfc_queue_done_fn done;
    int on_stack; /* an enqueue in its starter's frame until it has to wait */
};

/* Enqueues one element (tuple: the components, references taken) or, with
 * `many`, every row of the components (split into elements first). The
 * dtypes and shapes are checked: an error names the queue and the
 * component and nothing is enqueued. */
void tfc_queue_start_enqueue(tfc_queue *q, tfc_kernel_ctx *c, tfc_tensor *const *tuple, int many,
                             tfc_queue_done_fn done, void *arg);
/* Dequeues one element (n < 0), or n of them to be stacked (allow_small:
 * fewer once the queue is closed). A kernel whose node has deferred
 * already (a reader fetching more work) passes c NULL and its token. */
void tfc_queue_start_dequeue(tfc_queue *q, tfc_kernel_ctx *c, int64_t n, int allow_small,
                             tfc_queue_done_fn done, void *arg, tfc_async_done *token);
void tfc_queue_start_close(tfc_queue *q, tfc_kernel_ctx *c, int cancel_pending_enqueues,
                           tfc_queue_done_fn done, void *arg);
/* The dequeued elements of a as outputs [n] + shape per component (padded
 * with zeros or "" for a padding queue). 0, or -1 with a->status set. */
int tfc_queue_stack(tfc_queue_attempt *a, tfc_tensor **outs);

#endif
