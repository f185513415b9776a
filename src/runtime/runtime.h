/* The session's internals: per-node state, cached plans and the executor.
 *
 * A plan is computed once per (feeds, fetches, targets) signature: the
 * pruned and optimized (optimize.h) node list in topological order, where
 * each input comes from (a value slot), the constants folded at plan time
 * (slots every run starts with), how many uses each slot has (so the
 * executor frees a tensor right after its last use), and each node's successors with its initial
 * pending count (so a node fires as soon as its inputs are ready). Plans
 * are read-only once built, so many threads can run one at once; each run
 * takes a scratch block (value slots, counters) from the plan's free list. */
#ifndef TFC_RUNTIME_RUNTIME_H
#define TFC_RUNTIME_RUNTIME_H

#include "device/device.h"
#include "graph/op_registry.h"
#include "runtime/optimize.h"

#include <pthread.h>
#include <stdatomic.h>

/* A plan's first parallel runs time their nodes; a node that took less
 * than CHEAP_NODE_NS then stays with the thread that made it ready rather
 * than being handed to another (a hand-off and wake-up cost microseconds). */
#define PLAN_TIMED_RUNS 3
#define CHEAP_NODE_NS 20000

typedef struct tfc_plan_node {
    tfc_node *node;
    const tfc_op_def *op;
    int ninputs;
    int *input_slot;        /* value slot of each input */
    int input_base;         /* offset of this node's inputs in the run's input array */
    int noutputs;
    int out_slot;           /* outputs live in slots [out_slot, out_slot + noutputs) */
    int nsucc;
    int *succ;              /* plan indices of the nodes waiting on this one */
    int pending;            /* initial count of edges into this node */
    atomic_int cheap;       /* small enough to run inline rather than hand to a thread:
                               guessed from static shapes, then set from the time the
                               node took in the plan's first parallel runs */
    atomic_llong cost_ns;   /* the least time it took in those runs (0: not yet timed) */
    atomic_llong rank_ns;   /* the longest chain of such times from this node to the
                               run's end, its own included (0 until timed): a thread
                               runs its ready node of the highest rank first */
    tfc_node_state *state;
    tfc_node_state **input_state;
} tfc_plan_node;

typedef struct tfc_run_scratch tfc_run_scratch;

typedef struct tfc_plan {
    /* the signature */
    uint64_t hash;
    int nfeeds, nfetches, ntargets;
    tfc_output *feeds, *fetches;
    tfc_node **targets;
    /* the schedule */
    int nnodes;
    tfc_plan_node *nodes;
    int nslots;      /* feeds, then constants, then node outputs */
    int nconsts;
    tfc_tensor **consts; /* values computed at plan time, one reference each */
    int *slot_uses;  /* initial uses of each slot (consumers + fetches) */
    int *fetch_slot;
    int ninitial;
    int *initial;    /* nodes with no pending inputs */
    int *pending0;   /* each node's initial pending count, for one memcpy a run */
    /* Resource handles (TFC_OP_HANDLE nodes without inputs; the plan of a
     * single device only): their output slots follow the constants', and
     * once each has run (handles_ready), a run starts with their values in
     * those slots, borrowed like the constants (the session's node states
     * own them until it is freed), and never runs the nodes: a queue
     * runner's plan is a few small nodes, three of them handles. */
    int nhandles;
    int *handles;                /* plan indices */
    tfc_tensor **handle_values;  /* set under scratch_lock before handles_ready */
    atomic_int handles_ready;
    int *pending_skip;           /* pending counts of a run that skips them */
    int ninitial_skip;
    int *initial_skip;
    int total_inputs;
    atomic_int runs_to_time; /* parallel runs left that time their nodes */
    atomic_int chain;        /* set after a timed run: its longest path held nearly all
                                the timed cost, so the plan runs serially (executor.c) */
    tfc_opt_stats stats; /* what the graph optimizations did */
    /* scratch blocks of finished runs, reused by the next ones */
    pthread_mutex_t scratch_lock;
    tfc_run_scratch *free_scratch;
    _Atomic(tfc_run_scratch *) spare_scratch; /* one more, taken and given without the lock */
    /* Devices (src/device). A plan whose nodes all sit on one device runs
     * as it is, on that device's threads. One whose nodes span devices is
     * split (plan_partition.c) into one sub-plan per device, joined by
     * _Send/_Recv pairs; the outer plan then keeps its signature, fetch
     * mapping and the sub-plans, and its own nodes only for the record. */
    tfc_device *device;          /* where the nodes run (NULL: split) */
    int npartitions;
    struct tfc_plan **partitions;
    int *fetch_part;             /* per fetch: its partition, or -1 for a feed or constant */
    int *fetch_index;            /* per fetch: its index among that partition's fetches */
    int nrecvs;
    int *recvs;                  /* a sub-plan's _Recv nodes (plan indices) */
    int naux;
    tfc_node **aux;              /* the _Send/_Recv nodes a sub-plan owns */
} tfc_plan;

struct tfc_session {
    tfc_graph *graph;
    tfc_session_options opts;
    tfc_threadpool *pool;  /* NULL when single-threaded */
    int owns_pool;         /* 0 for a child session, which borrows its parent's */
    int inter_op_parallel; /* run independent nodes on several threads */
    pthread_mutex_t lock;  /* guards states and plans */
    int nstates;
    tfc_node_state **states; /* by node id, created on first use */
    int nplans, plan_cap;
    tfc_plan **plans;
    uint64_t seed_base;
    /* devices: the session's own, or its parent's for a child session */
    tfc_device_set own_devices;
    tfc_device_set *devices;
    int *placement; /* device index per node id, for nodes [0, nplaced) */
    int nplaced;
    /* tfc_session_close: no run starts once closed; closing waits for the
     * runs under way. One atomic word, so that a run counts itself in and
     * out without the lock: the runs under way, plus SESSION_CLOSED once
     * closed. runs_done is signalled (under lock) when the last run of a
     * closed session ends. */
    atomic_int runs;
    pthread_cond_t runs_done;
    /* The plans of recent runs by signature hash (SESSION_RECENT_PLANS
     * entries): a run whose plan is there finds it without the lock. Plans
     * live until the session is freed, so a stale entry is only a miss. */
    _Atomic(tfc_plan *) recent[8];
};
#define SESSION_CLOSED (1 << 30)
#define SESSION_RECENT_PLANS 8

/* Places nodes[0, nnodes) (the graph's nodes in id order) on the session's
 * devices, keeping earlier placements (src/device/placer.h). s->lock held.
 * 0, or -1 with `status` set. */
int tfc_session_place(tfc_session *s, tfc_node *const *nodes, int nnodes, tfc_status *status);
/* Splits p over devices when its nodes (node j on device dev[j]) span
 * several; else sets p->device. 0, or -1 with `status` set. */
int tfc_plan_partition(tfc_plan *p, const int *dev, const tfc_device_set *devs,
                       tfc_status *status);

/* The state of a stateful node in this session, created on first use.
 * Call with s->lock held. */
tfc_node_state *tfc_session_node_state(tfc_session *s, tfc_node *n);

uint64_t tfc_plan_hash(const tfc_output *feeds, int nfeeds, const tfc_output *fetches,
                       int nfetches, tfc_node *const *targets, int ntargets);
int tfc_plan_matches(const tfc_plan *p, uint64_t hash, const tfc_output *feeds, int nfeeds,
                     const tfc_output *fetches, int nfetches, tfc_node *const *targets,
                     int ntargets);
/* Prunes and schedules; NULL with `status` set on error. s->lock held. */
tfc_plan *tfc_plan_build(tfc_session *s, const tfc_output *feeds, int nfeeds,
                         const tfc_output *fetches, int nfetches, tfc_node *const *targets,
                         int ntargets, tfc_status *status);
void tfc_plan_free(tfc_plan *p);
/* Sets p->initial and p->pending0 from its nodes' pending counts. 0, or
 * -1 when memory runs out. */
int tfc_plan_start_lists(tfc_plan *p);
/* Frees the scratch blocks of p's finished runs (executor.c). */
void tfc_plan_free_scratch(tfc_plan *p);
/* The cached plan of a signature, or NULL (tests: what a run executes). */
tfc_plan *tfc_session_find_plan(tfc_session *s, const tfc_output *feeds, int nfeeds,
                                const tfc_output *fetches, int nfetches, tfc_node *const *targets,
                                int ntargets);

/* Executes a plan with the given feed values; on success stores a new
 * reference per fetch. */
/* Starts an asynchronous run of plan p (see tfc_session_start_async). */
tfc_async_run *tfc_async_run_start(tfc_session *s, tfc_plan *p, tfc_tensor *const *feed_values,
                                   tfc_run_output_fn on_output, void (*on_done)(void *),
                                   void *user, tfc_status *status);
/* Has the asynchronous run failed already (a kernel's error), though it
 * still waits for feeds? 1 with the error copied into `status`, else 0.
 * The distributed runtime polls it to abort a step whose other tasks
 * would otherwise wait for values that will not come. */
int tfc_async_run_error(tfc_async_run *a, tfc_status *status);
void tfc_execute(tfc_session *s, tfc_plan *p, tfc_tensor *const *feed_values,
                 tfc_tensor **fetch_values, tfc_status *status);
/* As tfc_execute; with `md`, records each executed node's device, thread,
 * times and output sizes in it (run_metadata.c). */
void tfc_execute_traced(tfc_session *s, tfc_plan *p, tfc_tensor *const *feed_values,
                        tfc_tensor **fetch_values, tfc_run_metadata *md, tfc_status *status);
/* As tfc_execute_traced; a run still waiting for asynchronous kernels (a
 * blocked dequeue) at deadline_ns (tfc_now_ns's clock; 0: never) fails with
 * DEADLINE_EXCEEDED and cancels them. */
void tfc_execute_deadline(tfc_session *s, tfc_plan *p, tfc_tensor *const *feed_values,
                          tfc_tensor **fetch_values, tfc_run_metadata *md, int64_t deadline_ns,
                          tfc_status *status);

/* Step statistics of one plan's run, for run_metadata.c: per plan node
 * start and end (ns, tfc_now_ns; start 0: did not run) and thread id, per
 * slot the bytes of the value a node produced. */
typedef struct tfc_trace {
    int64_t *node; /* 3 per plan node: start_ns, end_ns, thread */
    int64_t *slot_bytes;
} tfc_trace;
/* Appends the nodes of plan p that ran (trace t) to md. 0 or -1 (memory). */
int tfc_run_metadata_add(tfc_run_metadata *md, const tfc_plan *p, const tfc_trace *t);
/* Appends a serialized GraphDef to md, which takes `bytes` (malloc'd; NULL
 * for an empty one). 0 or -1 (memory; the caller keeps bytes). */
int tfc_run_metadata_add_partition_graph(tfc_run_metadata *md, uint8_t *bytes, size_t len);
/* RunOptions.output_partition_graphs: appends the GraphDef of each
 * partition of plan p (one when it runs on one device) to md
 * (partition_graph.c). 0, or -1 with `status` set. */
int tfc_run_metadata_add_partition_graphs(tfc_run_metadata *md, const tfc_session *s,
                                          const tfc_plan *p, tfc_status *status);

#endif
