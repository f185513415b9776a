/* What the files of the TF1 control-flow conversion share: the node table
 * the GraphDef is read into and the helpers that grow it
 * (tf1_control_flow.c, which also reads and writes the GraphDef), used by
 * the loop step (tf1_cf_loops.c: frames, While) and the cond step
 * (tf1_cf_conds.c: If). See tf1_control_flow.c for the algorithm. */
#ifndef TFC_FORMATS_TF1_CF_INTERNAL_H
#define TFC_FORMATS_TF1_CF_INTERNAL_H

#include "core/strmap.h"
#include "formats/tf1_control_flow.h"

#include <stdint.h>

enum kind {
    K_OTHER,
    K_ENTER,
    K_EXIT,
    K_MERGE,
    K_SWITCH,
    K_NEXT,
    K_LOOPCOND,
    /* made here */
    K_ARG,      /* a function param */
    K_WHILE,    /* While */
    K_IF,       /* If */
    K_IDENTITY, /* Identity: an Exit or Merge rewritten, or an output's control edges */
};

/* An input: output idx of node (idx -1: a control edge). node -1: a name
 * that is not in the GraphDef (an input_map key, say), kept as written. */
typedef struct ref {
    int node, idx;
    const char *ext;
} ref;

typedef struct cnode {
    const char *name;
    const Tensorflow__NodeDef *nd; /* the NodeDef it came from (attrs, device), or NULL */
    int kind;
    int graph; /* 0: the GraphDef's nodes; k: function k */
    int frame; /* step 1's while frame */
    int removed;
    int nin, ndata, cap;
    ref *in;          /* data inputs, then control inputs */
    int dtype;        /* T of a control-flow node; a made node's dtype */
    int nout, *odt;   /* While, If: output dtypes (arena) */
    int fa, fb;       /* While: cond, body; If: then, else */
    int64_t parallel; /* While: parallel_iterations */
    int st;           /* step 3: cond state (of a Switch: of its inputs) */
    ref mpred;        /* step 3: a Merge's predicate */
} cnode;

typedef struct cfunc {
    const char *name;
    int nparams, *params; /* K_ARG nodes */
    int nout;
    ref *outs;
    int *odt;
} cfunc;

typedef struct frame {
    const char *name;
    int parent, depth;
} frame;

typedef struct cstate {
    int parent, branch, depth;
    ref pred;
} cstate;

typedef struct conv {
    const Tensorflow__GraphDef *gd;
    tfc_status *st;
    tfc_arena *a;
    cnode *n;
    int nn, capn;
    cfunc *f; /* f[0] stands for the GraphDef itself */
    int nf, capf;
    frame *fr;
    int nfr, capfr;
    cstate *s;
    int ns, caps;
    tfc_strmap names;  /* node and param names in use -> id + 1 */
    tfc_strmap fnames; /* function names in use */
    tfc_strmap frames; /* frame_name -> frame + 1 */
    tfc_strmap states; /* "parent pred idx branch" -> state + 1 */
    /* consumers of the nodes of one graph (CSR: cons[cstart[i]..cstart[i+1]]) */
    int *cstart, *cons, *cslot;
} conv;

/* What an input of a node being moved into a function is there: a member
 * of the same function, a param, a control edge to drop, or a control edge
 * to move onto the While or If node. */
enum verdict { V_MEMBER, V_PARAM, V_DROP, V_HOIST };

/* Records "GraphDef (TF1 control flow): <message>" on c->st (the first
 * error only); returns -1. */
int tf1_fail(conv *c, tfc_code code, const char *fmt, ...)
#ifdef __GNUC__
    __attribute__((format(printf, 3, 4)))
#endif
    ;
int tf1_oom(conv *c);
/* NodeDef nd's attr `key`, or NULL. */
const Tensorflow__AttrValue *tf1_nd_attr(const Tensorflow__NodeDef *nd, const char *key);

/* A new node of graph `graph` (its id; -1 when out of memory). Ids stay
 * valid; pointers into c->n do not survive this call. */
int tf1_add_node(conv *c, const char *name, const Tensorflow__NodeDef *nd, int kind, int graph);
/* Appends input r to node id. 0 or -1. */
int tf1_add_in(conv *c, int id, ref r);
/* A node or param name not used yet, from base (registered for node id). */
const char *tf1_fresh_name(conv *c, const char *base, int id);
/* A function name not used yet: the scope of node_name, then `what`. */
const char *tf1_fresh_fname(conv *c, const char *node_name, const char *what);
/* A new function (its id; -1 when out of memory). */
int tf1_add_func(conv *c, const char *name);
/* Gives function f `np` params (K_ARG nodes) of dtypes dt. */
int tf1_add_params(conv *c, int f, const int *dt, int np);
/* Sets function f's outputs. */
int tf1_set_outputs(conv *c, int f, const ref *outs, const int *dt, int no);
/* The dtype of output idx of node t, or -1 when it cannot be told from the
 * NodeDef (only needed for values a loop or branch reads from outside
 * without an Enter or Switch). */
int tf1_out_dtype(const conv *c, int t, int idx);
/* "name" of the node r names (or the name as written, for an outside one). */
const char *tf1_ref_name(const conv *c, ref r);

/* Consumers of the live nodes of graph g, by producer, into c->cstart,
 * c->cons and c->cslot (the input slot). */
int tf1_build_consumers(conv *c, int g);
/* NextIteration -> Merge: a loop's back edge. */
int tf1_is_back_edge(const conv *c, int from, int to);
/* The live nodes of graph g in an order where every producer comes before
 * its consumers (back edges left out), *count of them; -1 naming a node on
 * a cycle. Rebuilds the consumer lists for g. */
int tf1_topo_order(conv *c, int g, int *order, int *count);
/* Index of r in the set v[*n] (added if absent, the set grown); -1 when
 * out of memory. */
int tf1_push_ref(conv *c, ref **v, int *n, int *cap, ref r);
/* Index of r in caps[n], or -1. */
int tf1_find_cap(const ref *caps, int n, ref r);

/* Step 2: every while frame into a While (tf1_cf_loops.c). */
int tf1_convert_loops(conv *c);
/* Step 3: every cond of graph g into an If (tf1_cf_conds.c). */
int tf1_convert_conds(conv *c, int g);

#endif
