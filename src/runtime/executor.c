/* The dataflow executor. Each node has a pending count of edges into it;
 * when it reaches zero the node is ready. With one thread the ready nodes
 * run from a stack in the caller; with several, a finishing node keeps one
 * ready successor for itself and hands the others to the pool. A tensor is
 * released as soon as the last of its uses has run. */
#include "runtime/runtime.h"
#include "core/clock.h"

#include <stdlib.h>
#include <string.h>

struct tfc_run_scratch {
    tfc_run_scratch *next; /* free-list link; must stay first */
    tfc_tensor **values;
    atomic_int *pending;
    atomic_int *uses;
    tfc_tensor **inputs;
    int *stack;
    struct run_task *tasks;
};

typedef struct run_state run_state;

struct run_task {
    run_state *run;
    int node;
};

struct run_state {
    tfc_session *s;
    tfc_plan *p;
    tfc_run_scratch *x;
    tfc_status status;
    atomic_int failed;
    atomic_int remaining;
    atomic_int finished; /* set by the thread that ran the last node */
    int timing;          /* time each node to set its cheap flag */
    /* asynchronous runs (tfc_async_run_start): told of each fetch as it is
     * computed and of the run's end; NULL for tfc_execute's runs */
    tfc_run_output_fn on_output;
    void (*on_done)(void *user);
    void *user;
    pthread_mutex_t lock;  /* guards status */
};

static tfc_run_scratch *scratch_get(tfc_plan *p) {
    pthread_mutex_lock(&p->scratch_lock);
    tfc_run_scratch *x = p->free_scratch;
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
    return x;
}

static void scratch_put(tfc_plan *p, tfc_run_scratch *x) {
    pthread_mutex_lock(&p->scratch_lock);
    x->next = p->free_scratch;
    p->free_scratch = x;
    pthread_mutex_unlock(&p->scratch_lock);
}

static void fail_run(run_state *r, const tfc_status *st) {
    pthread_mutex_lock(&r->lock);
    if (!atomic_load(&r->failed)) {
        tfc_status_copy(&r->status, st);
        atomic_store(&r->failed, 1);
    }
    pthread_mutex_unlock(&r->lock);
}

static void release_slot(run_state *r, int slot) {
    if (atomic_fetch_sub_explicit(&r->x->uses[slot], 1, memory_order_acq_rel) == 1) {
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
    return slot >= k->r->p->nfeeds + k->r->p->nconsts && !t->base &&
           !(t->flags & TFC_TENSOR_VARIABLE) &&
           atomic_load_explicit(&k->r->x->uses[slot], memory_order_acquire) == 1 &&
           atomic_load_explicit(&t->refcount, memory_order_acquire) == 1;
}

/* Runs the kernel of plan node j; returns nonzero when the run failed. */
static void compute_node(run_state *r, int j) {
    tfc_plan_node *pn = &r->p->nodes[j];
    tfc_run_scratch *x = r->x;
    tfc_tensor **in = x->inputs + pn->input_base;
    for (int i = 0; i < pn->ninputs; i++) {
        in[i] = x->values[pn->input_slot[i]];
        if (!in[i] && !((pn->op->ref_inputs >> i) & 1)) {
            tfc_status st = {0};
            tfc_node *src = pn->node->inputs[i].node;
            if (src->op->flags & TFC_OP_VARIABLE)
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
    c.pool = r->s->pool;
    c.session = r->s;
    c.status = &st;
    kernel_run k = {r, pn};
    c.input_overwritable = input_overwritable;
    c.run = &k;
    if (pn->op->kernel) pn->op->kernel(&c);
    if (st.code == TFC_OK && !(pn->op->flags & TFC_OP_VARIABLE)) {
        for (int k = 0; k < pn->noutputs; k++)
            if (!c.outputs[k])
                tfc_kernel_error(&c, TFC_INTERNAL, "kernel produced no output %d", k);
    }
    if (st.code != TFC_OK) fail_run(r, &st);
}

/* After node j: release its inputs and unused outputs, and return the
 * successors that became ready in `ready` (count returned). */
static int finish_node(run_state *r, int j, int *ready) {
    tfc_plan_node *pn = &r->p->nodes[j];
    tfc_run_scratch *x = r->x;
    for (int i = 0; i < pn->ninputs; i++) release_slot(r, pn->input_slot[i]);
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
        if (atomic_fetch_sub_explicit(&x->pending[s], 1, memory_order_acq_rel) == 1)
            ready[nready++] = s;
    }
    return nready;
}

static void run_node(run_state *r, int j) {
    if (!atomic_load_explicit(&r->failed, memory_order_relaxed)) compute_node(r, j);
}

/* run_node, and marks the node cheap when it took less than CHEAP_NODE_NS */
static void run_node_timed(run_state *r, int j) {
    int64_t t0 = tfc_now_ns();
    run_node(r, j);
    atomic_store_explicit(&r->p->nodes[j].cheap, tfc_now_ns() - t0 < CHEAP_NODE_NS,
                          memory_order_relaxed);
}

/* Serial: a stack of ready nodes, run in the caller. */
static void execute_serial(run_state *r) {
    tfc_plan *p = r->p;
    int *stack = r->x->stack, sp = 0;
    for (int i = p->ninitial - 1; i >= 0; i--) stack[sp++] = p->initial[i];
    int ready[64];
    while (sp) {
        int j = stack[--sp];
        run_node(r, j);
        tfc_plan_node *pn = &p->nodes[j];
        if (pn->nsucc <= 64) {
            int nr = finish_node(r, j, ready);
            for (int i = nr - 1; i >= 0; i--) stack[sp++] = ready[i];
        } else {
            int *many = malloc((size_t)pn->nsucc * sizeof *many);
            if (!many) abort(); /* cannot continue the run without it */
            int nr = finish_node(r, j, many);
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
    tfc_threadpool_schedule(r->s->pool, parallel_task, t);
}

enum { LOCAL_STACK = 128 };

/* Sorts ready nodes: cheap ones and the first expensive one stay with this
 * thread (pushed on its stack), other expensive ones go to the pool. */
static void dispatch_ready(run_state *r, const int *ready, int n, int *stack, int *sp) {
    int kept_expensive = 0;
    for (int i = n - 1; i >= 0; i--) {
        int s = ready[i];
        int cheap = atomic_load_explicit(&r->p->nodes[s].cheap, memory_order_relaxed);
        int keep = cheap || !kept_expensive;
        if (keep && *sp < LOCAL_STACK) {
            if (!cheap) kept_expensive = 1;
            stack[(*sp)++] = s;
        } else {
            schedule_node(r, s);
        }
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

/* Parallel: run nodes from a thread-local stack until it is empty. */
static void run_local(run_state *r, const int *first, int nfirst) {
    int stack[LOCAL_STACK], sp = 0;
    int ready_small[64];
    dispatch_ready(r, first, nfirst, stack, &sp);
    while (sp) {
        int j = stack[--sp];
        tfc_plan_node *pn = &r->p->nodes[j];
        if (r->timing)
            run_node_timed(r, j);
        else
            run_node(r, j);
        int *ready = pn->nsucc <= 64 ? ready_small : malloc((size_t)pn->nsucc * sizeof(int));
        if (!ready) abort(); /* cannot continue the run without it */
        if (r->on_output) notify_outputs(r, pn->out_slot, pn->noutputs);
        int nr = finish_node(r, j, ready);
        dispatch_ready(r, ready, nr, stack, &sp);
        if (ready != ready_small) free(ready);
        if (atomic_fetch_sub_explicit(&r->remaining, 1, memory_order_acq_rel) == 1) {
            if (r->on_done) {
                /* the owner may free the run once it sees `finished` */
                void (*done)(void *) = r->on_done;
                void *user = r->user;
                atomic_store(&r->finished, 1);
                done(user);
            } else {
                tfc_threadpool_set_flag(r->s->pool, &r->finished);
            }
        }
    }
}

static void parallel_task(void *arg) {
    struct run_task *t = arg;
    run_local(t->run, &t->node, 1);
}

static void execute_parallel(run_state *r) {
    tfc_plan *p = r->p;
    atomic_store(&r->remaining, p->nnodes);
    r->timing = atomic_load(&p->runs_to_time) > 0 && atomic_fetch_sub(&p->runs_to_time, 1) > 0;
    run_local(r, p->initial, p->ninitial);
    /* wait for the flag itself, not only the count: r lives on our stack;
     * meanwhile run the pool's tasks (nodes, parallel_for chunks) */
    tfc_threadpool_help_until(r->s->pool, &r->finished);
}

/* A run of plan p in scratch block x: counters from the plan, the feeds
 * (NULL for one still to come) and the plan's constants in their slots. */
static void run_init(run_state *r, tfc_session *s, tfc_plan *p, tfc_run_scratch *x,
                     tfc_tensor *const *feed_values) {
    r->s = s;
    r->p = p;
    r->x = x;
    memset(&r->status, 0, sizeof r->status);
    atomic_init(&r->failed, 0);
    atomic_init(&r->remaining, 0);
    atomic_init(&r->finished, 0);
    r->timing = 0;
    r->on_output = NULL;
    r->on_done = NULL;
    r->user = NULL;
    pthread_mutex_init(&r->lock, NULL);
    for (int i = 0; i < p->nslots; i++)
        atomic_store_explicit(&x->uses[i], p->slot_uses[i], memory_order_relaxed);
    for (int j = 0; j < p->nnodes; j++)
        atomic_store_explicit(&x->pending[j], p->nodes[j].pending, memory_order_relaxed);
    for (int i = 0; i < p->nfeeds; i++) x->values[i] = tfc_tensor_ref(feed_values[i]);
    for (int i = 0; i < p->nconsts; i++) x->values[p->nfeeds + i] = tfc_tensor_ref(p->consts[i]);
}

/* Drops whatever the run still holds (fetched values, values of a failed
 * run) and gives its scratch block back. */
static void run_release(run_state *r) {
    for (int i = 0; i < r->p->nslots; i++) {
        tfc_tensor_free(r->x->values[i]);
        r->x->values[i] = NULL;
    }
    pthread_mutex_destroy(&r->lock);
    scratch_put(r->p, r->x);
}

void tfc_execute(tfc_session *s, tfc_plan *p, tfc_tensor *const *feed_values,
                 tfc_tensor **fetch_values, tfc_status *status) {
    run_state r;
    tfc_run_scratch *x = scratch_get(p);
    if (!x) {
        tfc_status_set(status, TFC_INTERNAL, "out of memory starting a run");
        return;
    }
    run_init(&r, s, p, x, feed_values);

    if (s->inter_op_parallel && p->nnodes > 1)
        execute_parallel(&r);
    else
        execute_serial(&r);

    if (atomic_load(&r.failed)) {
        tfc_status_copy(status, &r.status);
        for (int i = 0; i < p->nfetches; i++) fetch_values[i] = NULL;
    } else {
        for (int i = 0; i < p->nfetches; i++) {
            tfc_tensor *t = x->values[p->fetch_slot[i]];
            /* a variable's buffer keeps changing: hand the user a snapshot */
            fetch_values[i] = t && (t->flags & TFC_TENSOR_VARIABLE) ? tfc_tensor_copy(t)
                                                                    : tfc_tensor_ref(t);
            if (!fetch_values[i]) {
                tfc_node *n = p->fetches[i].node;
                tfc_status_set(status, n->op->flags & TFC_OP_VARIABLE ? TFC_FAILED_PRECONDITION
                                                                      : TFC_INTERNAL,
                               n->op->flags & TFC_OP_VARIABLE
                                   ? "Attempting to use uninitialized value %s"
                                   : "fetch %s produced no value",
                               n->name);
                for (int k = 0; k < i; k++) {
                    tfc_tensor_free(fetch_values[k]);
                    fetch_values[k] = NULL;
                }
                break;
            }
        }
        if (!fetch_values || p->nfetches == 0 || fetch_values[p->nfetches - 1])
            if (status->code == TFC_OK) tfc_status_set(status, TFC_OK, NULL);
    }
    run_release(&r);
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

int tfc_async_run_free(tfc_async_run *a, tfc_status *status) {
    run_state *r = &a->r;
    int failed = atomic_load(&r->failed);
    if (failed && status) tfc_status_copy(status, &r->status);
    run_release(r);
    free(a->waiting);
    free(a);
    return failed ? -1 : 0;
}
