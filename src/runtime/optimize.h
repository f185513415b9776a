/* Graph optimizations applied once per plan: constant folding, common-
 * subexpression elimination and Identity removal, as TensorFlow's
 * OptimizerOptions (L1) do. They never touch the user's graph: the result is
 * a VIEW of the pruned graph (which nodes run, where each input comes from,
 * what each node waits for, plus the tensors computed at plan time) that
 * plan.c schedules. With optimizations off the view is the pruned graph as
 * written, so plan.c has one code path. */
#ifndef TFC_RUNTIME_OPTIMIZE_H
#define TFC_RUNTIME_OPTIMIZE_H

#include "graph/op_registry.h"

/* Where a value comes from: output `index` of node `id`, feed `id`, or
 * constant `id` (a tensor computed at plan time). */
enum { TFC_SRC_NODE, TFC_SRC_FEED, TFC_SRC_CONST };

typedef struct tfc_src {
    int kind;
    int id;
    int index;
} tfc_src;

/* What the optimizer did, for tests and tools. */
typedef struct tfc_opt_stats {
    int folded;    /* nodes evaluated at plan time (Const nodes included) */
    int merged;    /* nodes replaced by an identical earlier node */
    int forwarded; /* Identity/StopGradient nodes whose readers read their input */
    int pruned;    /* nodes that fed nothing any more after the rewrites */
    int fused;     /* products run inside the node that was their only reader */
} tfc_opt_stats;

typedef struct tfc_graph_view {
    int nnodes;       /* graph nodes at planning time, indexed by node id */
    char *run;        /* run[id]: the node's kernel runs in the plan */
    tfc_src **inputs; /* inputs[id][i]: where input i of a running node comes from */
    int *ninputs;     /* by id: how many (a fused node's differ from its graph node's) */
    const tfc_op_def **op; /* by id: the op a running node runs (a fusion's, or its own) */
    int *ncontrol;    /* by id: how many nodes a running node waits for */
    int **control;    /* by id: the ids of those nodes (all running) */
    tfc_src *fetch;   /* where each fetch comes from */
    int nconsts;
    tfc_tensor **consts; /* one reference each; tfc_graph_view_free drops them */
    tfc_opt_stats stats;
    /* storage behind the arrays above */
    tfc_src *src_store;
    int *control_store;
    tfc_src *fused_store;
} tfc_graph_view;

/* What tfc_graph_view_build may do: 0 gives the graph as written. */
enum { TFC_VIEW_OPTIMIZE = 1, TFC_VIEW_FUSE = 2 };

/* Builds the view of the nodes marked in `keep` (the pruned graph; ids index
 * `nodes`). `optimize` is TFC_VIEW_* flags: TFC_VIEW_OPTIMIZE folds,
 * forwards and merges; TFC_VIEW_FUSE (with it) fuses, for a plan on one
 * device. Kernels folded at plan
 * time may use `pool`. Returns 0, or -1 with `status` set (out of memory);
 * a kernel failing at plan time is not an error: its node simply runs. */
int tfc_graph_view_build(tfc_graph_view *v, tfc_node *const *nodes, int nnodes, const char *keep,
                         const tfc_output *feeds, int nfeeds, const tfc_output *fetches,
                         int nfetches, tfc_node *const *targets, int ntargets, int optimize,
                         tfc_threadpool *pool, tfc_status *status);
void tfc_graph_view_free(tfc_graph_view *v);

/* Ops whose output shares their input's buffer (so reading it may read a
 * variable's storage). */
int tfc_op_forwards_buffer(const tfc_node *n);

#endif
