/* What an op is: its definition (inputs, outputs, flags), its shape function,
 * its CPU kernel and its gradient builder, kept together in one table entry.
 * Each file under src/ops/ defines one table, tfc_ops_<family>[], ending with
 * an entry whose type is NULL, and op_registry.c lists the tables.
 *
 * Writing an op:
 *   static int add_infer(tfc_infer_ctx *c)   -- checks inputs/attrs, sets
 *       output dtypes and (partial) shapes; on bad input returns
 *       tfc_infer_error(c, "...") which names the node.
 *   static void add_kernel(tfc_kernel_ctx *c) -- reads c->inputs, allocates
 *       outputs with tfc_kernel_output(), reports with tfc_kernel_error().
 *   static int add_grad(tfc_graph *g, tfc_node *op, const tfc_output *dy,
 *       tfc_output *dx) -- builds graph ops computing the input gradients
 *       from the output gradients dy (one per output; a null dy means no
 *       gradient flows into that output: treat it as zeros). Sets dx[i] for
 *       each input (leave null for "no gradient"). Returns 0 or -1. */
#ifndef TFC_GRAPH_OP_REGISTRY_H
#define TFC_GRAPH_OP_REGISTRY_H

#include "core/status.h"
#include "core/tensor.h"
#include "core/threadpool.h"
#include "graph/graph.h"

#include <pthread.h>

typedef struct tfc_infer_ctx tfc_infer_ctx;
typedef struct tfc_kernel_ctx tfc_kernel_ctx;

typedef struct tfc_async_done tfc_async_done;
typedef int (*tfc_infer_fn)(tfc_infer_ctx *c);
typedef void (*tfc_kernel_fn)(tfc_kernel_ctx *c);
typedef int (*tfc_grad_fn)(tfc_graph *g, tfc_node *op, const tfc_output *dy, tfc_output *dx);

enum {
    /* Has per-session state (variables, random counters): never folded or
     * merged by graph optimizations, and gets c->state in its kernel. */
    TFC_OP_STATEFUL = 1u << 0,
    /* A variable: its session state holds the value. */
    TFC_OP_VARIABLE = 1u << 1,
    /* Not differentiable; gradients stop here without an error (Shape,
     * ArgMax, comparisons, ...). */
    TFC_OP_NO_GRADIENT = 1u << 2,
    /* Takes or makes TFC_STRING tensors. Without it, tfc_op_finish refuses
     * a string input or output: a kernel that moves elements with memcpy
     * would share the bytes. Element-moving array kernels that have it are
     * wrapped so that their string outputs copy the bytes they point to
     * (tfc_tensor_own_strings); see TFC_STRING_KERNEL. */
    TFC_OP_STRINGS = 1u << 3,
    /* Takes or makes TFC_RESOURCE handles (queues' ops, Identity). */
    TFC_OP_RESOURCES = 1u << 4,
    /* May complete after its kernel returns (TensorFlow's AsyncOpKernel):
     * see tfc_kernel_defer. */
    TFC_OP_ASYNC = 1u << 5,
    /* A resource's handle op (a queue, a reader, a mutex): takes no input,
     * makes its resource and its node state's `value` (the handle) on its
     * first successful run, and outputs that same tensor on every run
     * after, doing nothing else. Once each such node of a plan has run, the
     * executor starts runs with the handles in place and skips the nodes
     * (tfc_plan.handles). */
    TFC_OP_HANDLE = 1u << 6
};

/* A kernel `fn##_strings` that runs fn##_kernel, then makes each string
 * output own its bytes: for array kernels that copy elements as opaque
 * bytes. */
#define TFC_STRING_KERNEL(fn)                                                  \
    static void fn##_strings(tfc_kernel_ctx *c) {                              \
        fn##_kernel(c);                                                        \
        for (int k_ = 0; k_ < c->noutputs; k_++)                               \
            if (c->outputs[k_] && tfc_tensor_own_strings(c->outputs[k_]))      \
                tfc_kernel_error(c, TFC_RESOURCE_EXHAUSTED,                    \
                                 "out of memory copying the strings of output %d", \
                                 k_);                                          \
    }

typedef struct tfc_op_def {
    const char *type;   /* TensorFlow's op name, e.g. "MatMul" */
    int min_inputs;     /* inputs accepted: [min_inputs, max_inputs] */
    int max_inputs;     /* -1: any number */
    int num_outputs;    /* default output count; a shape function may change it */
    unsigned flags;
    /* Bit i set: input i must come straight from a variable and may be
     * uninitialized (Assign's target). The kernel sees the variable's state
     * in c->input_state[i]. */
    unsigned ref_inputs;
    tfc_infer_fn infer;
    tfc_kernel_fn kernel;
    tfc_grad_fn grad; /* NULL and no TFC_OP_NO_GRADIENT: "no gradient defined" */
} tfc_op_def;

/* Is input i of `op` a ref input (bit i of ref_inputs)? Inputs past the
 * mask's width never are (shifting by 32 or more is undefined in C). */
static inline int tfc_op_input_is_ref(const tfc_op_def *op, int i) {
    return i >= 0 && i < 32 && ((op->ref_inputs >> i) & 1u);
}

/* Per-session state of a stateful node. */
typedef struct tfc_node_state {
    pthread_mutex_t lock;
    tfc_tensor *value;        /* a variable's value (NULL: uninitialized) */
    uint64_t counter;         /* a random op's number of runs so far */
    uint64_t seed;            /* a random op's effective seed */
    void *resource;           /* anything else (queues, readers, ...) */
    void (*free_resource)(void *);
    /* Called when the session closes (tfc_session_close): ends whatever
     * waits on the resource (a queue's blocked dequeues). May be NULL. */
    void (*cancel_resource)(void *);
} tfc_node_state;

const tfc_op_def *tfc_op_lookup(const char *type);
/* Calls fn(def, user) for every registered op, family by family (the
 * OpDef conformance test walks them all). */
void tfc_op_registry_each(void (*fn)(const tfc_op_def *def, void *user), void *user);

/* ---- shape functions ---- */

struct tfc_infer_ctx {
    tfc_graph *graph;
    const char *name; /* the node's final name */
    const tfc_op_def *op;
    int ninputs;
    const tfc_output *inputs;
    tfc_attrs *attrs; /* the node's attrs; a shape function may add some */
    int noutputs;
    tfc_dtype *out_dtypes;
    tfc_shape *out_shapes;
    void *op_data;
};

tfc_dtype tfc_infer_input_dtype(const tfc_infer_ctx *c, int i);
tfc_shape tfc_infer_input_shape(const tfc_infer_ctx *c, int i);
/* The value of input i when it is produced by a Const node, else NULL. */
const tfc_tensor *tfc_infer_input_const(const tfc_infer_ctx *c, int i);
/* Changes the number of outputs (before setting them). Returns 0 or -1. */
int tfc_infer_set_num_outputs(tfc_infer_ctx *c, int n);
void tfc_infer_set_output(tfc_infer_ctx *c, int i, tfc_dtype dtype, tfc_shape shape);
/* Records "Node 'name' (Type): <message>" on the graph; returns -1. */
int tfc_infer_error(tfc_infer_ctx *c, const char *fmt, ...)
#ifdef __GNUC__
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/* Checks that inputs [first, first+n) all have dtype `dt` (or the dtype of
 * input `first` when dt is TFC_INVALID_DTYPE); returns that dtype or
 * TFC_INVALID_DTYPE after recording an error. */
tfc_dtype tfc_infer_same_dtype(tfc_infer_ctx *c, int first, int n, tfc_dtype dt);
/* Shape helpers. */
tfc_shape tfc_shape_unknown(void);
tfc_shape tfc_shape_scalar(void);
tfc_shape tfc_shape_make(int rank, const int64_t *dims);
tfc_shape tfc_shape_vector(int64_t n);
int tfc_shape_is_fully_defined(const tfc_shape *s);
int64_t tfc_shape_num_elements(const tfc_shape *s); /* -1 when unknown */
/* NumPy broadcasting of two partial shapes. Returns 0, or -1 when they
 * cannot broadcast. */
int tfc_shape_broadcast(const tfc_shape *a, const tfc_shape *b, tfc_shape *out);
/* Are two partial shapes compatible (equal where both are known)? */
int tfc_shape_compatible(const tfc_shape *a, const tfc_shape *b);
const char *tfc_shape_str(const tfc_shape *s, char *buf, size_t n);

/* ---- kernels ---- */

struct tfc_kernel_ctx {
    const tfc_node *node;
    int ninputs;
    tfc_tensor *const *inputs;
    int noutputs;
    tfc_tensor **outputs;
    tfc_node_state *state;              /* this node's state, if stateful */
    tfc_node_state *const *input_state; /* per input: its producer's state, or NULL */
    tfc_threadpool *pool;               /* for intra-op parallelism */
    tfc_session *session;               /* the running session (NULL when folding) */
    tfc_status *status;
    /* Whether input i's buffer is this kernel's to overwrite: its last use
     * in the run, held by nothing else (not a feed, constant, variable,
     * alias or fetch). NULL: no input ever is (plan-time folding). Asked
     * through tfc_kernel_output_in_place, so only kernels that can write
     * in place pay for the check. */
    int (*input_overwritable)(const tfc_kernel_ctx *c, int i);
    const void *run; /* the executor's, for input_overwritable */
    struct tfc_device *device;         /* where the node runs (NULL when folding) */
    struct tfc_rendezvous *rendezvous; /* the step's, in a run split over devices
                                          (_Send/_Recv use it); else NULL */
};

/* A session over `g` (a function body) for a kernel of `parent` to run:
 * it shares the parent's thread pool and options, so a body's kernels and
 * independent nodes use the same threads as the rest of the run, and its
 * random ops draw from streams derived from the parent's seed and `salt`.
 * Freed with tfc_session_free; the parent must outlive it. */
tfc_session *tfc_session_new_child(tfc_session *parent, tfc_graph *g, uint64_t salt,
                                   tfc_status *status);

/* Asynchronous runs, for kernels that pipeline sub-graphs (While with
 * parallel_iterations): a run of `s` whose feeds may arrive while it goes
 * on. NULL feed values are given later with tfc_async_run_feed; nodes run
 * as soon as their inputs are there. on_output(user, i, value) is called
 * (from any thread) when fetch i gets its value (borrowed: ref it to keep
 * it); on_done(user) once when the run has ended, after which
 * tfc_async_run_finished is true and tfc_async_run_free (returning 0, or
 * -1 with the run's error) may be called. Needs a session with several
 * inter-op threads. Feeds are not checked against the outputs' shapes. */
typedef struct tfc_async_run tfc_async_run;
/* Can `s` run asynchronously (several inter-op threads)? */
int tfc_session_can_run_async(const tfc_session *s);
typedef void (*tfc_run_output_fn)(void *user, int fetch, tfc_tensor *value);
tfc_async_run *tfc_session_start_async(tfc_session *s, const tfc_output *feeds, int nfeeds,
                                       tfc_tensor *const *feed_values, const tfc_output *fetches,
                                       int nfetches, tfc_run_output_fn on_output,
                                       void (*on_done)(void *user), void *user,
                                       tfc_status *status);
/* Gives feed i (NULL: none, for a cancelled run); only the first call for
 * a feed counts. Calls for one run must not overlap. */
void tfc_async_run_feed(tfc_async_run *r, int i, tfc_tensor *value);
/* Fails the run with CANCELLED (`why`) and releases the feeds still to
 * come, so that it ends soon. */
void tfc_async_run_cancel(tfc_async_run *r, const char *why);
int tfc_async_run_finished(const tfc_async_run *r);
int tfc_async_run_free(tfc_async_run *r, tfc_status *status);

/* Allocates output i (uninitialized contents) and returns it, or NULL with
 * an error set. */
tfc_tensor *tfc_kernel_output(tfc_kernel_ctx *c, int i, tfc_dtype dtype, int rank,
                              const int64_t *dims);
/* Output `out` as tfc_kernel_output does, but in the buffer of the first
 * input that has this dtype and shape and may be overwritten: element-wise
 * kernels then write in place, saving a buffer and the memory traffic of
 * filling a fresh one. The kernel's loops must read each element of their
 * inputs before writing the same element of the output, and no other
 * element of an input of the output's shape afterwards. */
tfc_tensor *tfc_kernel_output_in_place(tfc_kernel_ctx *c, int out, tfc_dtype dtype, int rank,
                                       const int64_t *dims);
/* Output i becomes `t`; takes over one reference the caller owns. */
void tfc_kernel_set_output(tfc_kernel_ctx *c, int i, tfc_tensor *t);
/* The node that makes n's input `input`, past the pass-throughs (Identity,
 * StopGradient) that a plan forwards: for a plan's fused kernel, the node
 * it stands in for, which holds that op's attributes. */
const tfc_node *tfc_kernel_producer(const tfc_node *n, int input);
/* c as the context of `node`'s own kernel on `inputs` (ninputs of them),
 * writing one output to `outputs`, without c's state: for a fused kernel
 * that runs the ops it stands in for one after the other. */
tfc_kernel_ctx tfc_kernel_ctx_for(const tfc_kernel_ctx *c, const tfc_node *node, int ninputs,
                                  tfc_tensor *const *inputs, tfc_tensor **outputs);
/* Sets the run's status to "<message>" naming the node: "... [[node name]]". */
void tfc_kernel_error(tfc_kernel_ctx *c, tfc_code code, const char *fmt, ...)
#ifdef __GNUC__
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* ---- asynchronous kernels (TFC_OP_ASYNC; the executor, executor.c) ----
 * A kernel that cannot finish now (a dequeue from an empty queue) calls
 * tfc_kernel_defer and returns; its thread goes on with other nodes. Later
 * whoever makes progress possible sets the outputs and calls
 * tfc_async_done_finish, once, from any thread, holding none of the
 * kernel's locks; then the node's successors run. Until then the run may
 * end it early (a failed run, a passed deadline): it calls `cancel`, which
 * must finish the node (with an error) unless that is under way already.
 * tfc_kernel_defer returns NULL when the run cannot wait (it failed, or
 * the node is being folded at plan time): the kernel then fails now. */
typedef void (*tfc_async_cancel_fn)(void *arg, tfc_async_done *done, const tfc_status *why);
tfc_async_done *tfc_kernel_defer(tfc_kernel_ctx *c, tfc_async_cancel_fn cancel, void *arg);
const tfc_node *tfc_async_done_node(const tfc_async_done *d);
/* Output i becomes `value`; takes over one reference. */
void tfc_async_done_set_output(tfc_async_done *d, int i, tfc_tensor *value);
/* Fails the run with "<message> [[node name (type)]]". */
void tfc_async_done_error(tfc_async_done *d, tfc_code code, const char *fmt, ...)
#ifdef __GNUC__
    __attribute__((format(printf, 3, 4)))
#endif
    ;
void tfc_async_done_finish(tfc_async_done *d);

#endif
