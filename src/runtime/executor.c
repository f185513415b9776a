/* The dataflow executor. Each node has a pending count of edges into it;
 * when it reaches zero the node is ready. With one thread the ready nodes
 * run from a stack in the caller; with several, a finishing node keeps its
 * cheap ready successors and one expensive one on its thread's stack and
 * hands the others to the pool; a thread's stack is kept in order of the
 * nodes' ranks (the longest path from each to the run's end, once the
 * plan's runs are timed) and its bottom node goes to a thread that has
 * nothing to do (run_loop). A tensor is released as soon as the last of
 * its uses has run. */
#include "runtime/runtime.h"
#include "core/clock.h"
#include "device/rendezvous.h"
#include "device/send_recv.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

struct tfc_run_scratch {
    tfc_run_scratch *next; /* free-list link; must stay first */
    /* the run's lock and condition (run_state.lock, .cond), made once with
     * the block rather than once per run */
    pthread_mutex_t lock;
    pthread_cond_t cond;
    tfc_tensor **values;
    atomic_int *pending;
    atomic_int *uses;
    tfc_tensor **inputs;
    int *stack;
    struct run_task *tasks;
};

typedef struct run_state run_state;
typedef struct step step;

/* A node handed to a thread, a _Recv waiting for its value, or an
 * asynchronous kernel's completion (tfc_async_done is this struct). */
struct run_task {
    run_state *run;
    int node;
    /* asynchronous kernels (TFC_OP_ASYNC): set by tfc_kernel_defer */
    atomic_int async_state;      /* ASYNC_NONE, _PENDING, _CANCELLING, _DONE */
    int next_done;               /* serial runs: the next completed node, or -1 */
    tfc_async_cancel_fn cancel;  /* how to end it early, or NULL */
    void *cancel_arg;
    /* parallel runs: who goes on with a deferred node, decided once by
     * the first of its kernel's thread (HANDOFF_RETURNED: the completion
     * schedules async_continue) and an early completion (HANDOFF_EARLY:
     * the kernel's thread goes on after it returns). Until then the run
     * cannot end, so the kernel's thread may still use it. */
    atomic_int handoff;
};
enum { HANDOFF_NONE, HANDOFF_RETURNED, HANDOFF_EARLY };
enum { ASYNC_NONE, ASYNC_PENDING, ASYNC_CANCELLING, ASYNC_DONE };

struct run_state {
    tfc_session *s;
    tfc_plan *p;
    tfc_run_scratch *x;
    tfc_status status;
    atomic_int failed;
    atomic_int remaining;
    atomic_int finished; /* set by the thread that ran the last node */
    int timing;          /* time each node to set its cheap flag */
    /* Slots [0, nborrowed) hold values the run does not own a reference
     * to: a synchronous run's feeds (the caller's until it returns) and the
     * plan's constants (the plan's until it is freed). Nodes never write
     * into them (input_overwritable), so a run need not count them in and
     * out: two atomic operations fewer per feed and constant. */
    int nborrowed;
    /* the nodes that start the run and how many run: the plan's, or, in a
     * run that skips its resource handles (tfc_plan.handles), those
     * without the handles */
    const int *initial;
    int ninitial;
    int nrun;
    /* asynchronous runs (tfc_async_run_start): told of each fetch as it is
     * computed and of the run's end; NULL for tfc_execute's runs */
    tfc_run_output_fn on_output;
    void (*on_done)(void *user);
    void *user;
    pthread_mutex_t *lock; /* guards status (the scratch block's) */
    tfc_threadpool *pool;  /* the threads of the plan's device */
    step *step;            /* the run split over devices this one is part of, or NULL */
    tfc_trace *trace;      /* step statistics asked for, or NULL */
    int track_device;      /* the session has several devices: keep running_device */
    /* asynchronous kernels, guarded by lock: nodes deferred and not yet
     * finished; a serial run's completed ones (a list through
     * run_task.next_done) and the condition its caller waits on */
    int ndeferred;
    int done_head;
    pthread_cond_t *cond;  /* the scratch block's */
    atomic_int ever_deferred; /* a kernel of this run deferred (tfc_kernel_defer) */
    int64_t deadline_ns;   /* tfc_now_ns time the run gives up waiting, or 0 */
    int timed_out;         /* the deadline passed (guarded by lock) */
    int serial;            /* run by execute_serial (completions go to done_head) */
};

/* A run split over devices: one run_state per partition, all running at
 * once, meeting in the rendezvous. The first error wins; it fails every
 * partition and aborts the rendezvous, so partitions waiting for a value
 * that will not come finish too (skipping their kernels). */
struct step {
    tfc_rendezvous *rdv;
    int nparts;
    run_state *runs;
    pthread_mutex_t lock;
    int ndone;
    int failed;
    tfc_status status;
    tfc_threadpool *home_pool; /* the pool the caller helps while it waits */
    atomic_int all_done;
};

/* The device whose kernel this thread is running, in sessions with several
 * devices: a kernel that runs a split plan (a function body) helps that
 * device's pool while it waits, so a pool whose threads all wait on
 * nested steps still makes progress. */
static _Thread_local const tfc_device *running_device;

/* A scratch block for a run of p: the plan's spare one (taken without the
 * lock, the common case of one run at a time), one from its free list, or
 * a new one. */
static tfc_run_scratch *scratch_get(tfc_plan *p) {
    tfc_run_scratch *x = atomic_exchange_explicit(&p->spare_scratch, NULL, memory_order_acquire);
    if (x) return x;
    pthread_mutex_lock(&p->scratch_lock);
    x = p->free_scratch;
    if (x) p->free_scratch = x->next;
    pthread_mutex_unlock(&p->scratch_lock);
    if (x) return x;
    /* one block: header, then the arrays */
    size_t n = (size_t)p->nnodes + 1, ns = (size_t)p->nslots + 1, ni = (size_t)p->total_inputs + 1;
    size_t size = sizeof *x + ns * sizeof(tfc_tensor *) + n * sizeof(atomic_int) +
                  ns * sizeof(atomic_int) + ni * sizeof(tfc_tensor *) + n * sizeof(int) +
                  n * sizeof(struct run_task) + 64;
    char *mem = calloc(1, size);
    if (!mem) return NULL;
    x = (tfc_run_scratch *)mem;
    char *q = mem + sizeof *x;
    x->values = (tfc_tensor **)q;
    q += ns * sizeof(tfc_tensor *);
    x->inputs = (tfc_tensor **)q;
    q += ni * sizeof(tfc_tensor *);
    x->tasks = (struct run_task *)q;
    q += n * sizeof(struct run_task);
    x->pending = (atomic_int *)q;
    q += n * sizeof(atomic_int);
    x->uses = (atomic_int *)q;
    q += ns * sizeof(atomic_int);
    x->stack = (int *)q;
    pthread_mutex_init(&x->lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC); /* tfc_now_ns's clock */
    pthread_cond_init(&x->cond, &ca);
    pthread_condattr_destroy(&ca);
    return x;
}

static void scratch_put(tfc_plan *p, tfc_run_scratch *x) {
    tfc_run_scratch *none = NULL;
    if (atomic_compare_exchange_strong_explicit(&p->spare_scratch, &none, x,
                                                memory_order_release, memory_order_relaxed))
        return;
    pthread_mutex_lock(&p->scratch_lock);
    x->next = p->free_scratch;
    p->free_scratch = x;
    pthread_mutex_unlock(&p->scratch_lock);
}

static void scratch_free(tfc_run_scratch *x) {
    pthread_mutex_destroy(&x->lock);
    pthread_cond_destroy(&x->cond);
    free(x);
}

void tfc_plan_free_scratch(tfc_plan *p) {
    tfc_run_scratch *spare = atomic_exchange(&p->spare_scratch, NULL);
    if (spare) scratch_free(spare);
    while (p->free_scratch) {
        tfc_run_scratch *next = p->free_scratch->next;
        scratch_free(p->free_scratch);
        p->free_scratch = next;
    }
}

static void cancel_deferred(run_state *r, const tfc_status *why);

static void step_fail(step *sp, const tfc_status *why) {
    pthread_mutex_lock(&sp->lock);
    int first = !sp->failed;
    if (first) {
        tfc_status_copy(&sp->status, why);
        sp->failed = 1;
    }
    pthread_mutex_unlock(&sp->lock);
    if (!first) return;
    for (int i = 0; i < sp->nparts; i++) atomic_store(&sp->runs[i].failed, 1);
    tfc_rendezvous_abort(sp->rdv, why);
    for (int i = 0; i < sp->nparts; i++) cancel_deferred(&sp->runs[i], why);
}

static void fail_run(run_state *r, const tfc_status *st) {
    if (r->step) {
        step_fail(r->step, st);
        return;
    }
    pthread_mutex_lock(r->lock);
    int first = !atomic_load(&r->failed);
    if (first) {
        tfc_status_copy(&r->status, st);
        atomic_store(&r->failed, 1);
    }
    int waiting = r->ndeferred;
    pthread_mutex_unlock(r->lock);
    /* a failed step ends the kernels still waiting (blocked dequeues) */
    if (first && waiting) cancel_deferred(r, st);
}

/* Takes one from counter c and says whether it reached zero. A serial
 * run's counters are its caller's alone, so there it is a plain load and
 * store rather than a locked read-modify-write (several a node). */
static inline int count_down(atomic_int *c, int serial) {
    if (serial) {
        int v = atomic_load_explicit(c, memory_order_relaxed) - 1;
        atomic_store_explicit(c, v, memory_order_relaxed);
        return v == 0;
    }
    return atomic_fetch_sub_explicit(c, 1, memory_order_acq_rel) == 1;
}

static inline void release_slot(run_state *r, int slot, int serial) {
    if (slot < r->nborrowed) return; /* a feed or constant: nothing to free */
    if (count_down(&r->x->uses[slot], serial)) {
        tfc_tensor_free(r->x->values[slot]);
        r->x->values[slot] = NULL;
    }
}

/* What input_overwritable needs of a running kernel. */
typedef struct kernel_run {
    run_state *r;
    const tfc_plan_node *pn;
} kernel_run;

/* Input i's slot holds a node's output (not a feed or a constant), this is
 * its last use (a slot read twice by the node has two), and nothing else
 * holds the tensor (a variable, an alias, the user). */
static int input_overwritable(const tfc_kernel_ctx *c, int i) {
    const kernel_run *k = c->run;
    int slot = k->pn->input_slot[i];
    const tfc_tensor *t = c->inputs[i];
    return slot >= k->r->p->nfeeds + k->r->p->nconsts && slot >= k->r->nborrowed && !t->base &&
           !(t->flags & TFC_TENSOR_VARIABLE) &&
           atomic_load_explicit(&k->r->x->uses[slot], memory_order_acquire) == 1 &&
           atomic_load_explicit(&t->refcount, memory_order_acquire) == 1;
}

/* Runs the kernel of plan node j; returns nonzero when the run failed. */
static inline __attribute__((always_inline)) void compute_node(run_state *r, int j) {
    tfc_plan_node *pn = &r->p->nodes[j];
    tfc_run_scratch *x = r->x;
    tfc_tensor **in = x->inputs + pn->input_base;
    for (int i = 0; i < pn->ninputs; i++) {
        in[i] = x->values[pn->input_slot[i]];
        if (!in[i] && !tfc_op_input_is_ref(pn->op, i)) {
            tfc_status st = {0};
            /* (a fused node's inputs are not its graph node's) */
            tfc_node *src = pn->op == pn->node->op ? pn->node->inputs[i].node : NULL;
            if (src && src->op->flags & TFC_OP_VARIABLE)
                tfc_status_set(&st, TFC_FAILED_PRECONDITION,
                               "Attempting to use uninitialized value %s [[node %s (%s)]]",
                               src->name, pn->node->name, pn->op->type);
            else
                tfc_status_set(&st, TFC_INTERNAL, "input %d of node %s (%s) has no value", i,
                               pn->node->name, pn->op->type);
            fail_run(r, &st);
            return;
        }
    }
    tfc_status st; /* only the code is read unless a kernel sets an error */
    st.code = TFC_OK;
    st.msg[0] = 0;
    tfc_kernel_ctx c;
    c.node = pn->node;
    c.ninputs = pn->ninputs;
    c.inputs = in;
    c.noutputs = pn->noutputs;
    c.outputs = x->values + pn->out_slot;
    c.state = pn->state;
    c.input_state = pn->input_state;
    c.pool = r->pool;
    c.session = r->s;
    c.status = &st;
    kernel_run k = {r, pn};
    c.input_overwritable = input_overwritable;
    c.run = &k;
    c.device = r->p->device;
    c.rendezvous = r->step ? r->step->rdv : NULL;
    if (r->track_device) {
        const tfc_device *outer = running_device;
        running_device = r->p->device;
        if (pn->op->kernel) pn->op->kernel(&c);
        running_device = outer;
    } else if (pn->op->kernel) {
        pn->op->kernel(&c);
    }
    /* a deferred kernel reports through tfc_async_done_finish */
    if ((pn->op->flags & TFC_OP_ASYNC) && atomic_load(&x->tasks[j].async_state) != ASYNC_NONE)
        return;
    if (st.code == TFC_OK && !(pn->op->flags & TFC_OP_VARIABLE)) {
        for (int k = 0; k < pn->noutputs; k++)
            if (!c.outputs[k])
                tfc_kernel_error(&c, TFC_INTERNAL, "kernel produced no output %d", k);
    }
    if (st.code != TFC_OK) fail_run(r, &st);
}

/* After node j: release its inputs and unused outputs, and return the
 * successors that became ready in `ready` (count returned). */
static inline int finish_node(run_state *r, int j, int *ready, int serial) {
    tfc_plan_node *pn = &r->p->nodes[j];
    tfc_run_scratch *x = r->x;
    for (int i = 0; i < pn->ninputs; i++) release_slot(r, pn->input_slot[i], serial);
    for (int k = 0; k < pn->noutputs; k++) {
        int slot = pn->out_slot + k;
        if (r->p->slot_uses[slot] == 0) {
            tfc_tensor_free(x->values[slot]);
            x->values[slot] = NULL;
        }
    }
    int nready = 0;
    for (int i = 0; i < pn->nsucc; i++) {
        int s = pn->succ[i];
        if (count_down(&x->pending[s], serial)) ready[nready++] = s;
    }
    return nready;
}

/* compute_node, recording the node's times, thread and output sizes */
static void compute_node_traced(run_state *r, int j) {
    int64_t t0 = tfc_now_ns();
    compute_node(r, j);
    int64_t *e = r->trace->node + 3 * (size_t)j;
    e[0] = t0;
    e[1] = tfc_now_ns();
    e[2] = (int64_t)syscall(SYS_gettid);
    const tfc_plan_node *pn = &r->p->nodes[j];
    for (int k = 0; k < pn->noutputs; k++) {
        const tfc_tensor *t = r->x->values[pn->out_slot + k];
        r->trace->slot_bytes[pn->out_slot + k] = t ? (int64_t)t->nbytes : 0;
    }
}

static inline __attribute__((always_inline)) void run_node(run_state *r, int j) {
    if (r->p->nodes[j].op->flags & TFC_OP_ASYNC) {
        atomic_store_explicit(&r->x->tasks[j].async_state, ASYNC_NONE, memory_order_relaxed);
        atomic_store_explicit(&r->x->tasks[j].handoff, HANDOFF_NONE, memory_order_relaxed);
    }
    if (atomic_load_explicit(&r->failed, memory_order_relaxed)) return;
    if (r->trace)
        compute_node_traced(r, j);
    else
        compute_node(r, j);
}

/* run_node, and marks the node cheap when it took less than CHEAP_NODE_NS */
static void run_node_timed(run_state *r, int j) {
    int64_t t0 = tfc_now_ns();
    run_node(r, j);
    int64_t ns = tfc_now_ns() - t0;
    tfc_plan_node *pn = &r->p->nodes[j];
    atomic_store_explicit(&pn->cheap, ns < CHEAP_NODE_NS, memory_order_relaxed);
    /* the least of the timed runs: a thread preempted in one only adds */
    int64_t least = atomic_load_explicit(&pn->cost_ns, memory_order_relaxed);
    if (least == 0 || ns < least) atomic_store_explicit(&pn->cost_ns, ns, memory_order_relaxed);
}

/* After a timed run: each node's rank, the longest chain of timed costs
 * from it to the run's end (the nodes are in topological order). Ranks
 * only order ready nodes, so runs that read them while they change are
 * still correct. */
static void rank_nodes(tfc_plan *p) {
    int64_t total = 0, path = 0; /* all the timed cost, and the longest path's */
    for (int j = p->nnodes - 1; j >= 0; j--) {
        tfc_plan_node *pn = &p->nodes[j];
        int64_t longest = 0, cost = atomic_load_explicit(&pn->cost_ns, memory_order_relaxed);
        for (int i = 0; i < pn->nsucc; i++) {
            int64_t r = atomic_load_explicit(&p->nodes[pn->succ[i]].rank_ns, memory_order_relaxed);
            if (r > longest) longest = r;
        }
        longest += cost;
        atomic_store_explicit(&pn->rank_ns, longest, memory_order_relaxed);
        total += cost;
        if (longest > path) path = longest;
    }
    atomic_store_explicit(&p->chain, total > 0 && path * 20 >= total * 19, memory_order_relaxed);
}

static inline int64_t rank_of(const run_state *r, int j) {
    return atomic_load_explicit(&r->p->nodes[j].rank_ns, memory_order_relaxed);
}

/* Did node j's kernel defer its completion (tfc_kernel_defer)? */
static int deferred(const run_state *r, int j) {
    return (r->p->nodes[j].op->flags & TFC_OP_ASYNC) &&
           atomic_load(&r->x->tasks[j].async_state) != ASYNC_NONE;
}

/* For a deferred node j in a parallel run, after its kernel returned:
 * 1 when its completion will go on with it (possibly already), 0 when it
 * completed while the kernel ran and this thread goes on. */
static int handed_off(run_state *r, int j) {
    int none = HANDOFF_NONE;
    return atomic_compare_exchange_strong(&r->x->tasks[j].handoff, &none, HANDOFF_RETURNED);
}

static int serial_wait(run_state *r, int *stack, int *sp);

/* Serial: a stack of ready nodes, run in the caller. A node whose kernel
 * deferred is finished when its completion comes back (serial_wait). */
static void execute_serial(run_state *r) {
    tfc_plan *p = r->p;
    int *stack = r->x->stack, sp = 0;
    for (int i = r->ninitial - 1; i >= 0; i--) stack[sp++] = r->initial[i];
    int ready[64];
    while (sp || serial_wait(r, stack, &sp)) {
        int j = stack[--sp];
        if (j < 0) { /* a completed asynchronous node: finish it */
            j = -j - 1;
        } else {
            run_node(r, j);
            if (deferred(r, j)) continue;
        }
        tfc_plan_node *pn = &p->nodes[j];
        if (pn->nsucc <= 64) {
            int nr = finish_node(r, j, ready, 1);
            for (int i = nr - 1; i >= 0; i--) stack[sp++] = ready[i];
        } else {
            int *many = malloc((size_t)pn->nsucc * sizeof *many);
            if (!many) abort(); /* cannot continue the run without it */
            int nr = finish_node(r, j, many, 1);
            for (int i = nr - 1; i >= 0; i--) stack[sp++] = many[i];
            free(many);
        }
    }
}

static void parallel_task(void *arg);

static void schedule_node(run_state *r, int j) {
    struct run_task *t = &r->x->tasks[j];
    t->run = r;
    t->node = j;
    tfc_threadpool_schedule(r->pool, parallel_task, t);
}

enum { LOCAL_STACK = 128 };

/* Puts node s in the thread's stack, which is ordered by rank (the top
 * runs next): above every node of its rank or less, so that among nodes of
 * one rank (all of them, before the plan's runs are timed) it is a stack. */
static void push_ranked(run_state *r, int s, int *stack, int *sp) {
    int64_t rank = rank_of(r, s);
    int at = *sp;
    while (at > 0 && rank_of(r, stack[at - 1]) > rank) {
        stack[at] = stack[at - 1];
        at--;
    }
    stack[at] = s;
    (*sp)++;
}

/* Sorts ready nodes: cheap ones and the expensive one of the highest rank
 * stay with this thread, other expensive ones go to the pool. The node on
 * the step's longest path runs first wherever it is in the stack: a bias's
 * update made ready after it waits rather than holding it up. */
static void dispatch_ready(run_state *r, const int *ready, int n, int *stack, int *sp) {
    int kept = -1; /* the expensive node this thread keeps: the first of the highest rank */
    for (int i = n - 1; i >= 0; i--)
        if (!atomic_load_explicit(&r->p->nodes[ready[i]].cheap, memory_order_relaxed) &&
            (kept < 0 || rank_of(r, ready[i]) > rank_of(r, kept)))
            kept = ready[i];
    for (int i = n - 1; i >= 0; i--) {
        int s = ready[i];
        int cheap = atomic_load_explicit(&r->p->nodes[s].cheap, memory_order_relaxed);
        if ((cheap || s == kept) && *sp < LOCAL_STACK)
            push_ranked(r, s, stack, sp);
        else
            schedule_node(r, s);
    }
}

/* Tells an asynchronous run's owner of the fetches among slots
 * [slot, slot + n) that hold a value. */
static void notify_outputs(run_state *r, int slot, int n) {
    for (int f = 0; f < r->p->nfetches; f++) {
        int fs = r->p->fetch_slot[f];
        if (fs >= slot && fs < slot + n && r->x->values[fs])
            r->on_output(r->user, f, r->x->values[fs]);
    }
}

/* Tells the run's owner it has ended; r may be gone right after. */
static void run_finished(run_state *r) {
    if (r->on_done) {
        /* the owner may free the run once it sees `finished` */
        void (*done)(void *) = r->on_done;
        void *user = r->user;
        atomic_store(&r->finished, 1);
        done(user);
    } else if (r->deadline_ns) {
        /* its caller waits on r->cond (wait_parallel) */
        pthread_mutex_lock(r->lock);
        atomic_store(&r->finished, 1);
        pthread_cond_broadcast(r->cond);
        pthread_mutex_unlock(r->lock);
    } else {
        tfc_threadpool_set_flag(r->pool, &r->finished);
    }
}

/* After node j ran: its fetches, inputs and successors; the run's end when
 * it was the last node. */
static void after_node(run_state *r, int j, int *stack, int *sp) {
    int ready_small[64];
    tfc_plan_node *pn = &r->p->nodes[j];
    int *ready = pn->nsucc <= 64 ? ready_small : malloc((size_t)pn->nsucc * sizeof(int));
    if (!ready) abort(); /* cannot continue the run without it */
    if (r->on_output) notify_outputs(r, pn->out_slot, pn->noutputs);
    int nr = finish_node(r, j, ready, 0);
    dispatch_ready(r, ready, nr, stack, sp);
    if (ready != ready_small) free(ready);
    if (atomic_fetch_sub_explicit(&r->remaining, 1, memory_order_acq_rel) == 1) run_finished(r);
}

/* Runs the nodes on a thread-local stack until it is empty. Between two
 * nodes it hands the bottom of its stack (the ready node of the lowest
 * rank; before the plan's runs are timed, the oldest: another branch of
 * the graph, such as the next layer of an RNN) to a thread with nothing
 * to do, which would otherwise wait while this one runs that branch after
 * its own; and before a cheap node it helps another thread's
 * kernel that waits for its parallel_for chunks (a large product waiting
 * on a helper costs more than the cheap node's delay; before an expensive
 * node it does not: two large kernels side by side, each helped at its
 * end, lose less than one after the other, and the one here may be the
 * step's critical path, as a convolution's gradients are beside an
 * optimizer's update). */
static void run_loop(run_state *r, int *stack, int sp) {
    while (sp) {
        if (sp > 1 && tfc_threadpool_wants_work(r->pool)) {
            schedule_node(r, stack[0]);
            memmove(stack, stack + 1, (size_t)--sp * sizeof *stack);
        }
        if (atomic_load_explicit(&r->p->nodes[stack[sp - 1]].cheap, memory_order_relaxed))
            tfc_threadpool_help_parallel_for(r->pool);
        int j = stack[--sp];
        if (r->timing)
            run_node_timed(r, j);
        else
            run_node(r, j);
        /* a deferred node is another thread's once handed off: r may be
         * gone then, so nothing here may touch it afterwards */
        if (!deferred(r, j) || !handed_off(r, j)) after_node(r, j, stack, &sp);
    }
}

/* Parallel: run nodes from a thread-local stack until it is empty. */
static void run_local(run_state *r, const int *first, int nfirst) {
    int stack[LOCAL_STACK], sp = 0;
    dispatch_ready(r, first, nfirst, stack, &sp);
    run_loop(r, stack, sp);
}

/* A pool task: an asynchronous node completed; finish it and go on. */
static void async_continue(void *arg) {
    struct run_task *t = arg;
    int stack[LOCAL_STACK], sp = 0;
    run_state *r = t->run;
    after_node(r, t->node, stack, &sp);
    run_loop(r, stack, sp);
}

static void parallel_task(void *arg) {
    struct run_task *t = arg;
    run_local(t->run, &t->node, 1);
}

static void wait_parallel(run_state *r);

static void execute_parallel(run_state *r) {
    tfc_plan *p = r->p;
    atomic_store(&r->remaining, r->nrun);
    r->timing = atomic_load(&p->runs_to_time) > 0 && atomic_fetch_sub(&p->runs_to_time, 1) > 0;
    run_local(r, r->initial, r->ninitial);
    if (r->deadline_ns)
        wait_parallel(r);
    else /* wait for the flag itself, not only the count: r lives on our stack;
          * meanwhile run the pool's tasks (nodes, parallel_for chunks) */
        tfc_threadpool_help_until(r->pool, &r->finished);
    if (r->timing) rank_nodes(p);
}

/* A run of plan p in scratch block x: counters from the plan, the feeds
 * (NULL for one still to come) and the plan's constants in their slots. */
static void run_init(run_state *r, tfc_session *s, tfc_plan *p, tfc_run_scratch *x,
                     tfc_tensor *const *feed_values) {
    r->s = s;
    r->p = p;
    r->x = x;
    r->status.code = TFC_OK;
    r->status.msg[0] = 0;
    atomic_init(&r->failed, 0);
    atomic_init(&r->remaining, 0);
    atomic_init(&r->finished, 0);
    r->timing = 0;
    r->on_output = NULL;
    r->on_done = NULL;
    r->user = NULL;
    r->pool = p->device ? p->device->pool : s->pool;
    r->step = NULL;
    r->trace = NULL;
    r->track_device = s->devices->n > 1;
    r->lock = &x->lock;
    r->cond = &x->cond;
    atomic_init(&r->ever_deferred, 0);
    r->ndeferred = 0;
    r->done_head = -1;
    r->deadline_ns = 0;
    r->timed_out = 0;
    r->serial = 0;
    /* plain copies: no other thread sees the block until the run starts */
    memcpy((void *)x->uses, p->slot_uses, (size_t)p->nslots * sizeof *p->slot_uses);
    memcpy((void *)x->pending, p->pending0, (size_t)p->nnodes * sizeof *p->pending0);
    r->initial = p->initial;
    r->ninitial = p->ninitial;
    r->nrun = p->nnodes;
    r->nborrowed = 0;
    if (!feed_values) return; /* run_init_borrowing fills the slots */
    for (int i = 0; i < p->nfeeds; i++) x->values[i] = tfc_tensor_ref(feed_values[i]);
    for (int i = 0; i < p->nconsts; i++) x->values[p->nfeeds + i] = tfc_tensor_ref(p->consts[i]);
}

/* run_init for a run whose caller keeps the feeds until it ends: the feeds
 * and constants are borrowed (run_state.nborrowed), and so are the plan's
 * resource handles once they have all run, which the run then skips. */
static void run_init_borrowing(run_state *r, tfc_session *s, tfc_plan *p, tfc_run_scratch *x,
                               tfc_tensor *const *feed_values, int may_skip_handles) {
    run_init(r, s, p, x, NULL);
    for (int i = 0; i < p->nfeeds; i++) x->values[i] = feed_values[i];
    for (int i = 0; i < p->nconsts; i++) x->values[p->nfeeds + i] = p->consts[i];
    r->nborrowed = p->nfeeds + p->nconsts;
    if (!may_skip_handles || !atomic_load_explicit(&p->handles_ready, memory_order_acquire))
        return;
    for (int h = 0; h < p->nhandles; h++)
        x->values[p->nodes[p->handles[h]].out_slot] = p->handle_values[h];
    r->nborrowed += p->nhandles;
    memcpy((void *)x->pending, p->pending_skip, (size_t)p->nnodes * sizeof *p->pending_skip);
    r->initial = p->initial_skip;
    r->ninitial = p->ninitial_skip;
    r->nrun = p->nnodes - p->nhandles;
}

/* After a run of p that ran its handles: when each has made its value,
 * later runs may skip them (tfc_plan.handles). */
static void note_handles(tfc_plan *p) {
    pthread_mutex_lock(&p->scratch_lock);
    int ready = !atomic_load_explicit(&p->handles_ready, memory_order_relaxed);
    for (int h = 0; ready && h < p->nhandles; h++) {
        tfc_node_state *st = p->nodes[p->handles[h]].state;
        pthread_mutex_lock(&st->lock);
        p->handle_values[h] = st->value;
        pthread_mutex_unlock(&st->lock);
        ready = p->handle_values[h] != NULL;
    }
    if (ready) atomic_store_explicit(&p->handles_ready, 1, memory_order_release);
    pthread_mutex_unlock(&p->scratch_lock);
}

/* Drops whatever the run still holds (fetched values, values of a failed
 * run) and gives its scratch block back. */
static void run_release(run_state *r) {
    tfc_tensor **v = r->x->values;
    for (int i = 0; i < r->p->nslots; i++) {
        if (!v[i]) continue;
        if (i >= r->nborrowed) tfc_tensor_free(v[i]);
        v[i] = NULL;
    }
    scratch_put(r->p, r->x);
}

/* Hands the user fetch value t of node n (a snapshot of a variable's
 * buffer, which keeps changing). 0, or -1 with status set when there is
 * none. */
static int hand_fetch(tfc_tensor *t, const tfc_node *n, tfc_tensor **out, tfc_status *status) {
    *out = t && (t->flags & TFC_TENSOR_VARIABLE) ? tfc_tensor_copy(t) : tfc_tensor_ref(t);
    if (*out) return 0;
    int var = (n->op->flags & TFC_OP_VARIABLE) != 0;
    tfc_status_set(status, var ? TFC_FAILED_PRECONDITION : TFC_INTERNAL,
                   var ? "Attempting to use uninitialized value %s" : "fetch %s produced no value",
                   n->name);
    return -1;
}

/* Step statistics' arrays for a run of p (NULL when memory runs out). */
static tfc_trace *trace_new(const tfc_plan *p) {
    tfc_trace *t = calloc(1, sizeof *t);
    if (!t) return NULL;
    t->node = calloc(3 * (size_t)p->nnodes + 1, sizeof *t->node);
    t->slot_bytes = calloc((size_t)p->nslots + 1, sizeof *t->slot_bytes);
    if (!t->node || !t->slot_bytes) {
        free(t->node);
        free(t->slot_bytes);
        free(t);
        return NULL;
    }
    return t;
}

static void trace_free(tfc_trace *t) {
    if (!t) return;
    free(t->node);
    free(t->slot_bytes);
    free(t);
}

static void execute_partitioned(tfc_session *s, tfc_plan *p, tfc_tensor *const *feed_values,
                                tfc_tensor **fetch_values, tfc_run_metadata *md,
                                tfc_status *status);

void tfc_execute(tfc_session *s, tfc_plan *p, tfc_tensor *const *feed_values,
                 tfc_tensor **fetch_values, tfc_status *status) {
    tfc_execute_traced(s, p, feed_values, fetch_values, NULL, status);
}

void tfc_execute_traced(tfc_session *s, tfc_plan *p, tfc_tensor *const *feed_values,
                        tfc_tensor **fetch_values, tfc_run_metadata *md, tfc_status *status) {
    tfc_execute_deadline(s, p, feed_values, fetch_values, md, 0, status);
}

/* Whether a timed plan runs serially on the caller (its kernels still
 * split their own work over the pool) because handing its nodes around
 * would cost more than it can gain: plans of at most SERIAL_PLAN_NODES
 * nodes that each took less than CHEAP_NODE_NS (a warm 10-node chain took
 * longer at 2 threads than at 1), and plans whose longest path holds at
 * least 95% of their timed cost (rank_nodes): nothing of note can run
 * beside that chain. The softmax step (a product, its gradient and small nodes) ran
 * at 1.3-1.6M examples/s at 2 threads with its nodes handed around, at
 * 1.8-1.96M serially; which it got had hung on whether its fused update
 * timed just under 20 us or just over. */
#define SERIAL_PLAN_NODES 32

static int serial_plan(tfc_plan *p) {
    if (atomic_load_explicit(&p->runs_to_time, memory_order_relaxed) > 0) return 0;
    if (atomic_load_explicit(&p->chain, memory_order_relaxed)) return 1;
    if (p->nnodes > SERIAL_PLAN_NODES) return 0;
    for (int j = 0; j < p->nnodes; j++)
        if (!atomic_load_explicit(&p->nodes[j].cheap, memory_order_relaxed)) return 0;
    return 1;
}

void tfc_execute_deadline(tfc_session *s, tfc_plan *p, tfc_tensor *const *feed_values,
                          tfc_tensor **fetch_values, tfc_run_metadata *md, int64_t deadline_ns,
                          tfc_status *status) {
    if (p->npartitions) {
        execute_partitioned(s, p, feed_values, fetch_values, md, status);
        return;
    }
    run_state r;
    tfc_run_scratch *x = scratch_get(p);
    tfc_trace *trace = md ? trace_new(p) : NULL;
    if (!x || (md && !trace)) {
        if (x) scratch_put(p, x);
        tfc_status_set(status, TFC_INTERNAL, "out of memory starting a run");
        return;
    }
    /* a traced run runs every node, so that its statistics show them all */
    run_init_borrowing(&r, s, p, x, feed_values, !trace);
    r.trace = trace;
    r.deadline_ns = deadline_ns;

    if (s->inter_op_parallel && r.pool && r.nrun > 1 && !tfc_threadpool_inline_thread() &&
        !serial_plan(p)) {
        execute_parallel(&r);
    } else {
        r.serial = 1;
        execute_serial(&r);
    }

    if (atomic_load(&r.failed)) {
        tfc_status_copy(status, &r.status);
        for (int i = 0; i < p->nfetches; i++) fetch_values[i] = NULL;
    } else {
        for (int i = 0; i < p->nfetches; i++) {
            if (hand_fetch(x->values[p->fetch_slot[i]], p->fetches[i].node, &fetch_values[i],
                           status)) {
                for (int k = 0; k < i; k++) {
                    tfc_tensor_free(fetch_values[k]);
                    fetch_values[k] = NULL;
                }
                break;
            }
        }
        if (!fetch_values || p->nfetches == 0 || fetch_values[p->nfetches - 1])
            if (status->code == TFC_OK) tfc_status_set(status, TFC_OK, NULL);
        if (r.nrun == p->nnodes && p->nhandles &&
            !atomic_load_explicit(&p->handles_ready, memory_order_relaxed))
            note_handles(p);
    }
    if (trace && tfc_run_metadata_add(md, p, trace) && status->code == TFC_OK)
        tfc_status_set(status, TFC_INTERNAL, "out of memory recording step statistics");
    trace_free(trace);
    run_release(&r);
}

/* ------------------------------------------------------------------------ */
/* Runs split over devices: one executor per partition                      */
/* ------------------------------------------------------------------------ */

/* A value for _Recv node t->node arrived (or the step failed): it becomes
 * the node's output, and the node is ready. */
static void on_recv(void *arg, const tfc_status *st, tfc_tensor *value, int is_dead) {
    struct run_task *t = arg;
    run_state *r = t->run;
    int j = t->node;
    const tfc_plan_node *pn = &r->p->nodes[j];
    (void)is_dead; /* a dead value comes as none; _Recv's kernel says so */
    if (st->code != TFC_OK)
        fail_run(r, st);
    else if (pn->noutputs)
        r->x->values[pn->out_slot] = value;
    else
        tfc_tensor_free(value);
    if (atomic_fetch_sub_explicit(&r->x->pending[j], 1, memory_order_acq_rel) == 1)
        schedule_node(r, j);
}

static void partition_done(void *user) {
    step *sp = user;
    pthread_mutex_lock(&sp->lock);
    int last = ++sp->ndone == sp->nparts;
    tfc_threadpool *pool = sp->home_pool;
    pthread_mutex_unlock(&sp->lock);
    /* the caller may return as soon as it sees the flag: nothing after */
    if (last) tfc_threadpool_set_flag(pool, &sp->all_done);
}

static void partition_start(void *arg) {
    run_state *r = arg;
    run_local(r, r->initial, r->ninitial);
}

static void execute_partitioned(tfc_session *s, tfc_plan *p, tfc_tensor *const *feed_values,
                                tfc_tensor **fetch_values, tfc_run_metadata *md,
                                tfc_status *status) {
    int n = p->npartitions;
    step sp;
    memset(&sp, 0, sizeof sp);
    pthread_mutex_init(&sp.lock, NULL);
    atomic_init(&sp.all_done, 0);
    sp.nparts = n;
    sp.rdv = tfc_local_rendezvous_new();
    sp.runs = calloc((size_t)n, sizeof *sp.runs);
    tfc_run_scratch **xs = calloc((size_t)n, sizeof *xs);
    tfc_trace **traces = calloc((size_t)n, sizeof *traces);
    int ok = sp.rdv && sp.runs && xs && traces;
    for (int k = 0; ok && k < n; k++) {
        xs[k] = scratch_get(p->partitions[k]);
        if (md) traces[k] = trace_new(p->partitions[k]);
        ok = xs[k] && (!md || traces[k]);
    }
    if (!ok) {
        for (int k = 0; xs && k < n; k++)
            if (xs[k]) scratch_put(p->partitions[k], xs[k]);
        for (int k = 0; traces && k < n; k++) trace_free(traces[k]);
        tfc_status_set(status, TFC_INTERNAL, "out of memory starting a run");
        for (int f = 0; f < p->nfetches; f++) fetch_values[f] = NULL;
        goto done;
    }
    for (int k = 0; k < n; k++) {
        run_state *r = &sp.runs[k];
        run_init_borrowing(r, s, p->partitions[k], xs[k], feed_values, 0);
        atomic_store(&r->remaining, p->partitions[k]->nnodes);
        r->step = &sp;
        r->trace = traces[k];
        r->on_done = partition_done;
        r->user = &sp;
    }
    /* every _Recv waits for its value, then every partition starts */
    for (int k = 0; k < n; k++) {
        const tfc_plan *q = p->partitions[k];
        for (int i = 0; i < q->nrecvs; i++) {
            int j = q->recvs[i];
            struct run_task *t = &xs[k]->tasks[j];
            t->run = &sp.runs[k];
            t->node = j;
            tfc_rendezvous_recv_async(sp.rdv, tfc_sendrecv_key(q->nodes[j].node), on_recv, t);
        }
    }
    /* the caller takes the partition of the device it runs a kernel of
     * (the first for a user's thread) and helps its pool until the end */
    int home = 0;
    for (int k = 0; k < n; k++)
        if (p->partitions[k]->device == running_device) home = k;
    sp.home_pool = sp.runs[home].pool;
    for (int k = 0; k < n; k++)
        if (k != home) tfc_threadpool_schedule(sp.runs[k].pool, partition_start, &sp.runs[k]);
    partition_start(&sp.runs[home]);
    tfc_threadpool_help_until(sp.home_pool, &sp.all_done);

    if (sp.failed) {
        tfc_status_copy(status, &sp.status);
        for (int f = 0; f < p->nfetches; f++) fetch_values[f] = NULL;
    } else {
        for (int f = 0; f < p->nfetches; f++) {
            int part = p->fetch_part[f], slot = p->fetch_slot[f];
            tfc_tensor *t;
            if (part >= 0)
                t = xs[part]->values[p->partitions[part]->fetch_slot[p->fetch_index[f]]];
            else
                t = slot < p->nfeeds ? feed_values[slot] : p->consts[slot - p->nfeeds];
            if (hand_fetch(t, p->fetches[f].node, &fetch_values[f], status)) {
                for (int k = 0; k < f; k++) {
                    tfc_tensor_free(fetch_values[k]);
                    fetch_values[k] = NULL;
                }
                break;
            }
        }
    }
    for (int k = 0; k < n; k++) {
        if (traces[k] && tfc_run_metadata_add(md, p->partitions[k], traces[k]) &&
            status->code == TFC_OK)
            tfc_status_set(status, TFC_INTERNAL, "out of memory recording step statistics");
        trace_free(traces[k]);
        run_release(&sp.runs[k]);
    }
done:
    tfc_rendezvous_free(sp.rdv);
    free(sp.runs);
    free(xs);
    free(traces);
    pthread_mutex_destroy(&sp.lock);
}

/* ------------------------------------------------------------------------ */
/* Asynchronous runs: feeds that arrive while the run goes on              */
/* ------------------------------------------------------------------------ */

struct tfc_async_run {
    run_state r;
    int nfeeds;
    char *waiting; /* per feed: 1 until tfc_async_run_feed gives it */
};

/* Each node reading feed slot `i` has one input fewer to wait for. */
static void feed_arrived(run_state *r, int i) {
    tfc_plan *p = r->p;
    for (int j = 0; j < p->nnodes; j++) {
        tfc_plan_node *pn = &p->nodes[j];
        for (int k = 0; k < pn->ninputs; k++)
            if (pn->input_slot[k] == i &&
                atomic_fetch_sub_explicit(&r->x->pending[j], 1, memory_order_acq_rel) == 1)
                schedule_node(r, j);
    }
}

tfc_async_run *tfc_async_run_start(tfc_session *s, tfc_plan *p, tfc_tensor *const *feed_values,
                                   tfc_run_output_fn on_output, void (*on_done)(void *),
                                   void *user, tfc_status *status) {
    if (p->npartitions) {
        tfc_status_set(status, TFC_UNIMPLEMENTED,
                       "asynchronous runs of a plan split over devices are not supported");
        return NULL;
    }
    if (!s->pool || !s->inter_op_parallel) {
        tfc_status_set(status, TFC_FAILED_PRECONDITION,
                       "asynchronous runs need a session with several inter-op threads");
        return NULL;
    }
    tfc_async_run *a = calloc(1, sizeof *a);
    char *waiting = calloc((size_t)p->nfeeds + 1, 1);
    tfc_run_scratch *x = a && waiting ? scratch_get(p) : NULL;
    if (!x) {
        free(a);
        free(waiting);
        tfc_status_set(status, TFC_INTERNAL, "out of memory starting a run");
        return NULL;
    }
    run_state *r = &a->r;
    a->nfeeds = p->nfeeds;
    a->waiting = waiting;
    run_init(r, s, p, x, feed_values);
    atomic_store(&r->remaining, p->nnodes);
    r->on_output = on_output;
    r->on_done = on_done;
    r->user = user;
    for (int i = 0; i < p->nfeeds; i++) waiting[i] = feed_values[i] == NULL;
    /* nodes reading a feed still to come wait for it too */
    for (int j = 0; j < p->nnodes; j++)
        for (int k = 0; k < p->nodes[j].ninputs; k++) {
            int slot = p->nodes[j].input_slot[k];
            if (slot < p->nfeeds && waiting[slot]) atomic_fetch_add(&x->pending[j], 1);
        }
    /* fetches that are feeds or constants are known now */
    notify_outputs(r, 0, p->nfeeds + p->nconsts);
    if (p->nnodes == 0) {
        atomic_store(&r->finished, 1);
        on_done(user);
        return a;
    }
    for (int i = 0; i < p->ninitial; i++)
        if (atomic_load(&x->pending[p->initial[i]]) == 0) schedule_node(r, p->initial[i]);
    return a;
}

void tfc_async_run_feed(tfc_async_run *a, int i, tfc_tensor *value) {
    if (i < 0 || i >= a->nfeeds || !a->waiting[i]) return;
    a->waiting[i] = 0;
    run_state *r = &a->r;
    r->x->values[i] = value ? tfc_tensor_ref(value) : NULL;
    if (value) notify_outputs(r, i, 1);
    feed_arrived(r, i);
}

void tfc_async_run_cancel(tfc_async_run *a, const char *why) {
    tfc_status st;
    tfc_status_set(&st, TFC_CANCELLED, "%s", why);
    fail_run(&a->r, &st);
    /* the feeds still to come will not: their readers run (skipping their
     * kernels, as in any failed run) so that the run ends */
    for (int i = 0; i < a->nfeeds; i++)
        if (a->waiting[i]) tfc_async_run_feed(a, i, NULL);
}

int tfc_async_run_finished(const tfc_async_run *a) { return atomic_load(&a->r.finished); }

int tfc_async_run_error(tfc_async_run *a, tfc_status *status) {
    run_state *r = &a->r;
    if (!atomic_load(&r->failed)) return 0;
    pthread_mutex_lock(r->lock);
    tfc_status_copy(status, &r->status);
    pthread_mutex_unlock(r->lock);
    return 1;
}

int tfc_async_run_free(tfc_async_run *a, tfc_status *status) {
    run_state *r = &a->r;
    int failed = atomic_load(&r->failed);
    if (failed && status) tfc_status_copy(status, &r->status);
    run_release(r);
    free(a->waiting);
    free(a);
    return failed ? -1 : 0;
}

/* ------------------------------------------------------------------------ */
/* Asynchronous kernels: nodes that complete after their kernel returns     */
/* ------------------------------------------------------------------------ */

/* A kernel of a TFC_OP_ASYNC op that cannot finish now (a dequeue from an
 * empty queue) defers: the thread goes on with other ready nodes, and
 * whoever makes progress possible (an enqueue, in this run or another)
 * calls tfc_async_done_finish. Then, as with a _Recv's value, the node's
 * successors become ready: a serial run's caller finds it on done_head, a
 * parallel run gets a pool task (async_continue). A failed run, a passed
 * deadline and a closed session cancel deferred kernels through the
 * cancel function they registered. */

static void cancel_deferred(run_state *r, const tfc_status *why) {
    enum { BATCH = 16 };
    for (;;) {
        struct run_task *todo[BATCH];
        int n = 0;
        pthread_mutex_lock(r->lock);
        for (int j = 0; j < r->p->nnodes && n < BATCH && r->ndeferred; j++) {
            struct run_task *t = &r->x->tasks[j];
            if (!(r->p->nodes[j].op->flags & TFC_OP_ASYNC) ||
                atomic_load(&t->async_state) != ASYNC_PENDING || !t->cancel)
                continue;
            atomic_store(&t->async_state, ASYNC_CANCELLING);
            todo[n++] = t;
        }
        pthread_mutex_unlock(r->lock);
        if (!n) return;
        /* outside the lock: a cancel finishes the kernel, which takes it */
        for (int i = 0; i < n; i++) todo[i]->cancel(todo[i]->cancel_arg, (tfc_async_done *)todo[i], why);
    }
}

/* The run's deadline passed while it waited: fail it, which cancels what
 * still waits. Called without r->lock. */
static void deadline_passed(run_state *r) {
    const char *name = "?", *type = "?";
    pthread_mutex_lock(r->lock);
    r->timed_out = 1;
    for (int j = 0; j < r->p->nnodes; j++)
        if ((r->p->nodes[j].op->flags & TFC_OP_ASYNC) &&
            atomic_load(&r->x->tasks[j].async_state) == ASYNC_PENDING) {
            name = r->p->nodes[j].node->name;
            type = r->p->nodes[j].op->type;
            break;
        }
    pthread_mutex_unlock(r->lock);
    tfc_status st;
    tfc_status_set(&st, TFC_DEADLINE_EXCEEDED,
                   "Timed out waiting for notification (the run's timeout passed while node "
                   "'%s' (%s) waited)",
                   name, type);
    fail_run(r, &st);
}

/* Waits on r->cond (r->lock held) until signalled or the deadline; 1 when
 * the deadline passed (once per run). */
static int wait_or_deadline(run_state *r) {
    if (!r->deadline_ns || r->timed_out) {
        pthread_cond_wait(r->cond, r->lock);
        return 0;
    }
    struct timespec ts = {(time_t)(r->deadline_ns / 1000000000), (long)(r->deadline_ns % 1000000000)};
    return pthread_cond_timedwait(r->cond, r->lock, &ts) == ETIMEDOUT &&
           tfc_now_ns() >= r->deadline_ns;
}

/* Serial runs, when the stack is empty: waits for deferred nodes and pushes
 * the completed ones (as -j - 1). 0 when none is left: the run is over. */
static int serial_wait(run_state *r, int *stack, int *sp) {
    /* a serial run's kernels run on this thread, so a run none of whose
     * kernels deferred (the usual one) has nothing to wait for */
    if (!atomic_load_explicit(&r->ever_deferred, memory_order_relaxed)) return 0;
    pthread_mutex_lock(r->lock);
    for (;;) {
        if (r->done_head >= 0) {
            while (r->done_head >= 0) {
                int j = r->done_head;
                r->done_head = r->x->tasks[j].next_done;
                stack[(*sp)++] = -j - 1;
            }
            pthread_mutex_unlock(r->lock);
            return 1;
        }
        if (!r->ndeferred) {
            pthread_mutex_unlock(r->lock);
            return 0;
        }
        if (wait_or_deadline(r)) {
            pthread_mutex_unlock(r->lock);
            deadline_passed(r);
            pthread_mutex_lock(r->lock);
        }
    }
}

/* Parallel runs with a deadline: the caller sleeps on r->cond rather than
 * helping the pool, so that it wakes at the deadline. */
static void wait_parallel(run_state *r) {
    pthread_mutex_lock(r->lock);
    while (!atomic_load(&r->finished)) {
        if (wait_or_deadline(r) && !atomic_load(&r->finished)) {
            pthread_mutex_unlock(r->lock);
            deadline_passed(r);
            pthread_mutex_lock(r->lock);
        }
    }
    pthread_mutex_unlock(r->lock);
}

tfc_async_done *tfc_kernel_defer(tfc_kernel_ctx *c, tfc_async_cancel_fn cancel, void *arg) {
    const kernel_run *k = c->run;
    if (!k || !(k->pn->op->flags & TFC_OP_ASYNC)) return NULL;
    run_state *r = k->r;
    int j = (int)(k->pn - r->p->nodes);
    struct run_task *t = &r->x->tasks[j];
    pthread_mutex_lock(r->lock);
    /* a failed run has cancelled its waiters already: this one must not wait */
    if (atomic_load(&r->failed)) {
        pthread_mutex_unlock(r->lock);
        return NULL;
    }
    t->run = r;
    t->node = j;
    t->cancel = cancel;
    t->cancel_arg = arg;
    t->next_done = -1;
    r->ndeferred++;
    atomic_store_explicit(&r->ever_deferred, 1, memory_order_relaxed);
    atomic_store(&t->async_state, ASYNC_PENDING);
    pthread_mutex_unlock(r->lock);
    return (tfc_async_done *)t;
}

const tfc_node *tfc_async_done_node(const tfc_async_done *d) {
    const struct run_task *t = (const struct run_task *)d;
    return t->run->p->nodes[t->node].node;
}

void tfc_async_done_set_output(tfc_async_done *d, int i, tfc_tensor *value) {
    struct run_task *t = (struct run_task *)d;
    tfc_tensor **slot = &t->run->x->values[t->run->p->nodes[t->node].out_slot + i];
    tfc_tensor_free(*slot);
    *slot = value;
}

void tfc_async_done_error(tfc_async_done *d, tfc_code code, const char *fmt, ...) {
    struct run_task *t = (struct run_task *)d;
    const tfc_plan_node *pn = &t->run->p->nodes[t->node];
    char buf[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    tfc_status st;
    tfc_status_set(&st, code, "%s [[node %s (%s)]]", buf, pn->node->name, pn->op->type);
    fail_run(t->run, &st);
}

void tfc_async_done_finish(tfc_async_done *d) {
    struct run_task *t = (struct run_task *)d;
    run_state *r = t->run;
    int j = t->node;
    const tfc_plan_node *pn = &r->p->nodes[j];
    if (!atomic_load(&r->failed))
        for (int k = 0; k < pn->noutputs; k++)
            if (!r->x->values[pn->out_slot + k]) {
                tfc_async_done_error(d, TFC_INTERNAL, "kernel produced no output %d", k);
                break;
            }
    pthread_mutex_lock(r->lock);
    atomic_store(&t->async_state, ASYNC_DONE);
    r->ndeferred--;
    if (r->serial) {
        /* the caller finishes it; r may be gone once the lock is released */
        t->next_done = r->done_head;
        r->done_head = j;
        pthread_cond_broadcast(r->cond);
        pthread_mutex_unlock(r->lock);
        return;
    }
    tfc_threadpool *pool = r->pool;
    pthread_mutex_unlock(r->lock);
    /* the run waits for node j's successors, so r lives until the task ran */
    /* completed before its kernel returned: the kernel's thread goes on */
    int none = HANDOFF_NONE;
    if (atomic_compare_exchange_strong(&t->handoff, &none, HANDOFF_EARLY)) return;
    tfc_threadpool_schedule(pool, async_continue, t);
}
