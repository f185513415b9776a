/* Graph optimizations, once per plan, over the pruned graph in id order (a
 * topological order, so a node's inputs are rewritten before it is seen):
 *
 *   1. constant folding: a deterministic node without state whose inputs
 *      are all constants (not fed) and that waits for nothing is run now,
 *      with its own kernel; its outputs become plan constants that every
 *      run starts with, and the node no longer runs;
 *   2. Identity removal: readers of an Identity/StopGradient that is not
 *      fetched, not a target and not a control input read its input;
 *   3. common-subexpression elimination: a node without state with the op,
 *      inputs (after 1-3), control inputs, attrs and device of an earlier
 *      one is replaced by it;
 *   4. pruning: nodes that no longer feed a fetch or a target are dropped.
 *
 * Stateful ops (variables, Assign*, Apply*, random ops, control flow) are
 * never folded, merged or removed. The user's graph is read, never written:
 * the result is a tfc_graph_view, which plan.c schedules. */
#include "runtime/optimize.h"

#include <stdlib.h>
#include <string.h>

/* A folded tensor stays pinned by the cached plan for the session's life, an
 * unfolded one only during a run: past 1 MiB per output that memory is worth
 * more than the kernel saved (Fill or zeros of a big shape are cheap). */
enum { FOLD_MAX_BYTES = 1 << 20 };
/* Equal constants up to this size share one tensor, so nodes reading them
 * merge; bigger ones are not worth hashing. */
enum { DEDUP_MAX_BYTES = 4096 };

enum { IS_FETCHED = 1, IS_TARGET = 2, IS_CONTROL = 4 };

int tfc_op_forwards_buffer(const tfc_node *n) {
    const char *t = n->op->type;
    return !strcmp(t, "Identity") || !strcmp(t, "StopGradient") || !strcmp(t, "Reshape") ||
           !strcmp(t, "ExpandDims") || !strcmp(t, "Squeeze");
}

/* Pass-throughs at run time (StopGradient only matters to tfc_gradients). */
static int is_passthrough(const tfc_node *n) {
    return !strcmp(n->op->type, "Identity") || !strcmp(n->op->type, "StopGradient");
}

/* Deterministic and without state: may be computed once, or shared. */
static int is_pure(const tfc_node *n) {
    return n->op->kernel && !(n->op->flags & TFC_OP_STATEFUL) && !n->op->ref_inputs;
}

static int feed_index(const tfc_output *feeds, int nfeeds, const tfc_node *n, int index) {
    for (int i = 0; i < nfeeds; i++)
        if (feeds[i].node == n && feeds[i].index == index) return i;
    return -1;
}

typedef struct opt {
    tfc_graph_view *v;
    tfc_node *const *nodes;
    tfc_threadpool *pool;
    int *out_base;   /* by id: the node's first entry in outmap */
    tfc_src *outmap; /* where readers of each output of each kept node now read */
    int *wait_for;   /* by id: whom a control input on the node waits for; -1: nobody */
    char *aliases;   /* by id: the output may be a variable's storage */
    char *flags;     /* by id: IS_FETCHED | IS_TARGET | IS_CONTROL */
    int *writers;    /* writers[id]: kept nodes with a smaller id that update a variable */
    uint64_t *hash;  /* by id, for CSE candidates */
    int *table;      /* CSE hash table of node ids, -1 for empty */
    int mask;
    int cap_consts;
    int *const_table; /* small constants by value: constant ids, -1 for empty */
    int const_mask;
} opt;

/* ---- hashing and equality for CSE ---- */

static uint64_t mix(uint64_t h, uint64_t x) {
    h ^= x + 0x9E3779B97F4A7C15ull + (h << 6) + (h >> 2);
    return h * 0xBF58476D1CE4E5B9ull;
}

static uint64_t mix_bytes(uint64_t h, const void *p, size_t n) {
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++) h = (h ^ b[i]) * 1099511628211ull;
    return h;
}

static uint64_t mix_str(uint64_t h, const char *s) { return s ? mix_bytes(h, s, strlen(s)) : h; }

static uint64_t attr_hash(const tfc_attr *a) {
    uint64_t h = mix(mix_str(1469598103934665603ull, a->name), (uint64_t)a->kind);
    switch (a->kind) {
    case TFC_ATTR_INT:
    case TFC_ATTR_BOOL:
    case TFC_ATTR_TYPE: return mix(h, (uint64_t)a->v.i);
    case TFC_ATTR_FLOAT: return mix_bytes(h, &a->v.f, sizeof a->v.f);
    case TFC_ATTR_SHAPE:
        h = mix(h, (uint64_t)a->v.shape.rank);
        for (int i = 0; i < a->v.shape.rank; i++) h = mix(h, (uint64_t)a->v.shape.dims[i]);
        return h;
    case TFC_ATTR_STRING: return mix_str(h, a->v.s);
    case TFC_ATTR_TENSOR: {
        const tfc_tensor *t = a->v.t;
        if (!t) return h;
        h = mix(mix(h, (uint64_t)t->dtype), t->nbytes);
        return mix_bytes(h, t->data, t->nbytes < 256 ? t->nbytes : 256);
    }
    case TFC_ATTR_INT_LIST:
        h = mix(h, (uint64_t)a->v.list.n);
        return a->v.list.n ? mix_bytes(h, a->v.list.i, (size_t)a->v.list.n * sizeof(int64_t)) : h;
    case TFC_ATTR_FLOAT_LIST:
        h = mix(h, (uint64_t)a->v.list.n);
        return a->v.list.n ? mix_bytes(h, a->v.list.f, (size_t)a->v.list.n * sizeof(double)) : h;
    case TFC_ATTR_STRING_LIST:
        h = mix(h, (uint64_t)a->v.list.n);
        for (int i = 0; i < a->v.list.n; i++) h = mix_str(h, a->v.list.s[i]);
        return h;
    }
    return h;
}

static int attr_equal(const tfc_attr *a, const tfc_attr *b) {
    if (a->kind != b->kind) return 0;
    switch (a->kind) {
    case TFC_ATTR_INT:
    case TFC_ATTR_BOOL:
    case TFC_ATTR_TYPE: return a->v.i == b->v.i;
    /* bitwise: NaN attrs are equal to themselves, -0.0 differs from 0.0 */
    case TFC_ATTR_FLOAT: return !memcmp(&a->v.f, &b->v.f, sizeof a->v.f);
    case TFC_ATTR_SHAPE:
        return a->v.shape.rank == b->v.shape.rank &&
               (a->v.shape.rank <= 0 || !memcmp(a->v.shape.dims, b->v.shape.dims,
                                                (size_t)a->v.shape.rank * sizeof(int64_t)));
    case TFC_ATTR_STRING:
        return (!a->v.s && !b->v.s) || (a->v.s && b->v.s && !strcmp(a->v.s, b->v.s));
    case TFC_ATTR_TENSOR: {
        const tfc_tensor *x = a->v.t, *y = b->v.t;
        if (!x || !y) return x == y;
        return x->dtype == y->dtype && tfc_tensor_same_shape(x, y) && x->nbytes == y->nbytes &&
               !memcmp(x->data, y->data, x->nbytes);
    }
    case TFC_ATTR_INT_LIST:
        return a->v.list.n == b->v.list.n &&
               (!a->v.list.n ||
                !memcmp(a->v.list.i, b->v.list.i, (size_t)a->v.list.n * sizeof(int64_t)));
    case TFC_ATTR_FLOAT_LIST:
        return a->v.list.n == b->v.list.n &&
               (!a->v.list.n ||
                !memcmp(a->v.list.f, b->v.list.f, (size_t)a->v.list.n * sizeof(double)));
    case TFC_ATTR_STRING_LIST:
        if (a->v.list.n != b->v.list.n) return 0;
        for (int i = 0; i < a->v.list.n; i++)
            if (strcmp(a->v.list.s[i], b->v.list.s[i])) return 0;
        return 1;
    }
    return 0;
}

static int attrs_equal(const tfc_attrs *a, const tfc_attrs *b) {
    if (a->n != b->n) return 0;
    for (int i = 0; i < a->n; i++) {
        const tfc_attr *o = tfc_attrs_find(b, a->items[i].name);
        if (!o || !attr_equal(&a->items[i], o)) return 0;
    }
    return 1;
}

static int same_str(const char *a, const char *b) {
    if (!a || !*a) return !b || !*b;
    return b && !strcmp(a, b);
}

static uint64_t node_hash(const opt *o, int id) {
    const tfc_node *n = o->nodes[id];
    const tfc_graph_view *v = o->v;
    uint64_t h = mix((uint64_t)(uintptr_t)n->op, (uint64_t)n->ninputs);
    for (int i = 0; i < n->ninputs; i++) {
        const tfc_src *s = &v->inputs[id][i];
        h = mix(mix(mix(h, (uint64_t)s->kind), (uint64_t)s->id), (uint64_t)s->index);
    }
    h = mix(h, (uint64_t)v->ncontrol[id]);
    for (int i = 0; i < v->ncontrol[id]; i++) h = mix(h, (uint64_t)v->control[id][i]);
    uint64_t attrs = 0; /* order-free: shape functions may add attrs */
    for (int i = 0; i < n->attrs.n; i++) attrs += attr_hash(&n->attrs.items[i]);
    return mix(h, attrs);
}

static int nodes_equal(const opt *o, int a, int b) {
    const tfc_node *x = o->nodes[a], *y = o->nodes[b];
    const tfc_graph_view *v = o->v;
    if (x->op != y->op || x->ninputs != y->ninputs || x->noutputs != y->noutputs ||
        v->ncontrol[a] != v->ncontrol[b])
        return 0;
    for (int i = 0; i < x->ninputs; i++) {
        const tfc_src *s = &v->inputs[a][i], *t = &v->inputs[b][i];
        if (s->kind != t->kind || s->id != t->id || s->index != t->index) return 0;
    }
    for (int i = 0; i < v->ncontrol[a]; i++)
        if (v->control[a][i] != v->control[b][i]) return 0;
    for (int k = 0; k < x->noutputs; k++) {
        const tfc_shape *s = &x->out_shapes[k], *t = &y->out_shapes[k];
        if (x->out_dtypes[k] != y->out_dtypes[k] || s->rank != t->rank) return 0;
        for (int d = 0; d < s->rank; d++)
            if (s->dims[d] != t->dims[d]) return 0;
    }
    return same_str(x->device, y->device) && attrs_equal(&x->attrs, &y->attrs);
}

/* The earlier node that node `id` can be replaced by, or -1 (then `id` is
 * entered as a candidate itself). A node reading a variable's storage is
 * only merged with one that no variable update was created between:
 * read-before-write (plan.c) orders both before the same updates, so they
 * see the same values. */
static int cse(opt *o, int id, int reads_state) {
    uint64_t h = node_hash(o, id);
    o->hash[id] = h;
    size_t i = (size_t)h & (size_t)o->mask;
    for (; o->table[i] >= 0; i = (i + 1) & (size_t)o->mask) {
        int rep = o->table[i];
        if (o->hash[rep] != h || !nodes_equal(o, rep, id)) continue;
        if (reads_state && o->writers[id] - o->writers[rep + 1] > 0) continue;
        return rep;
    }
    o->table[i] = id;
    return -1;
}

/* ---- constant folding ---- */

static int same_value(const tfc_tensor *a, const tfc_tensor *b) {
    return a->dtype == b->dtype && tfc_tensor_same_shape(a, b) && a->nbytes == b->nbytes &&
           !memcmp(a->data, b->data, a->nbytes);
}

/* Adds a constant, taking over the reference to `t`; returns its id (that
 * of an equal earlier one, dropping `t`), or -1 out of memory. */
static int add_const(opt *o, tfc_tensor *t) {
    tfc_graph_view *v = o->v;
    int *slot = NULL;
    if (t->nbytes <= DEDUP_MAX_BYTES) {
        uint64_t h = mix(mix_bytes(mix((uint64_t)t->dtype, (uint64_t)t->rank), t->dims,
                                   (size_t)t->rank * sizeof *t->dims),
                         t->nbytes);
        h = mix_bytes(h, t->data, t->nbytes);
        size_t i = (size_t)h & (size_t)o->const_mask;
        for (; o->const_table[i] >= 0; i = (i + 1) & (size_t)o->const_mask)
            if (same_value(v->consts[o->const_table[i]], t)) {
                tfc_tensor_free(t);
                return o->const_table[i];
            }
        slot = &o->const_table[i];
    }
    if (v->nconsts == o->cap_consts) {
        int cap = o->cap_consts ? o->cap_consts * 2 : 16;
        tfc_tensor **c = realloc(v->consts, (size_t)cap * sizeof *c);
        if (!c) {
            tfc_tensor_free(t);
            return -1;
        }
        v->consts = c;
        o->cap_consts = cap;
    }
    v->consts[v->nconsts] = t;
    if (slot) *slot = v->nconsts;
    return v->nconsts++;
}

/* Runs node `id` (all inputs constant) now. 1 when folded; 0 when it stays
 * (its kernel fails, which the run will report, or its output is too big);
 * -1 out of memory. */
static int fold(opt *o, int id) {
    const tfc_node *n = o->nodes[id];
    tfc_graph_view *v = o->v;
    /* a Const's value is already held by the graph: folding it costs nothing */
    int is_const = !strcmp(n->op->type, "Const");
    for (int k = 0; k < n->noutputs && !is_const; k++) {
        int64_t e = tfc_shape_num_elements(&n->out_shapes[k]);
        size_t es = tfc_dtype_size(n->out_dtypes[k]);
        if (e > 0 && es && (uint64_t)e > FOLD_MAX_BYTES / es) return 0;
    }
    tfc_tensor **in = calloc((size_t)n->ninputs + 1, sizeof *in);
    tfc_tensor **out = calloc((size_t)n->noutputs + 1, sizeof *out);
    tfc_node_state **in_state = calloc((size_t)n->ninputs + 1, sizeof *in_state);
    int result = -1;
    if (!in || !out || !in_state) goto done;
    for (int i = 0; i < n->ninputs; i++) in[i] = v->consts[v->inputs[id][i].id];
    tfc_status st;
    st.code = TFC_OK;
    st.msg[0] = 0;
    tfc_kernel_ctx c;
    c.node = n;
    c.ninputs = n->ninputs;
    c.inputs = in;
    c.noutputs = n->noutputs;
    c.outputs = out;
    c.state = NULL;
    c.input_state = in_state;
    c.pool = o->pool;
    c.session = NULL;
    c.status = &st;
    c.input_overwritable = NULL; /* constants stay */
    c.run = NULL;
    c.device = NULL;
    c.rendezvous = NULL;
    n->op->kernel(&c);
    int ok = st.code == TFC_OK;
    for (int k = 0; ok && k < n->noutputs; k++)
        if (!out[k] || (out[k]->flags & TFC_TENSOR_VARIABLE) ||
            (!is_const && out[k]->nbytes > FOLD_MAX_BYTES))
            ok = 0;
    result = 0;
    if (ok) {
        for (int k = 0; k < n->noutputs; k++) {
            int c_id = add_const(o, out[k]);
            out[k] = NULL;
            if (c_id < 0) {
                result = -1;
                goto done;
            }
            o->outmap[o->out_base[id] + k] = (tfc_src){TFC_SRC_CONST, c_id, 0};
        }
        result = 1;
    }
done:
    for (int k = 0; out && k < n->noutputs; k++) tfc_tensor_free(out[k]);
    free(in);
    free(out);
    free(in_state);
    return result;
}

/* ---- the view ---- */

void tfc_graph_view_free(tfc_graph_view *v) {
    if (!v) return;
    for (int i = 0; i < v->nconsts; i++) tfc_tensor_free(v->consts[i]);
    free(v->consts);
    free(v->run);
    free(v->inputs);
    free(v->ncontrol);
    free(v->control);
    free(v->fetch);
    free(v->src_store);
    free(v->control_store);
    free(v->ninputs);
    free(v->op);
    free(v->fused_store);
    memset(v, 0, sizeof *v);
}

/* Control inputs of node `id` as the sorted, distinct ids of running nodes. */
static void resolve_controls(opt *o, int id) {
    const tfc_node *n = o->nodes[id];
    int *c = o->v->control[id], nc = 0;
    for (int i = 0; i < n->ncontrol; i++) {
        int w = o->wait_for[n->control_inputs[i]->id];
        if (w < 0) continue;
        int at = nc;
        while (at > 0 && c[at - 1] > w) at--;
        if (at > 0 && c[at - 1] == w) continue;
        memmove(c + at + 1, c + at, (size_t)(nc - at) * sizeof *c);
        c[at] = w;
        nc++;
    }
    o->v->ncontrol[id] = nc;
}

/* Drops running nodes that no fetch or target needs any more, and the
 * constants nothing reads; renumbers the rest. */
static int prune(opt *o, int nfetches, tfc_node *const *targets, int ntargets) {
    tfc_graph_view *v = o->v;
    int n = v->nnodes;
    char *reach = calloc((size_t)n + 1, 1);
    int *stack = malloc(((size_t)n + 1) * sizeof *stack);
    int *renum = malloc(((size_t)v->nconsts + 1) * sizeof *renum);
    if (!reach || !stack || !renum) {
        free(reach);
        free(stack);
        free(renum);
        return -1;
    }
    int sp = 0;
    for (int i = 0; i < nfetches; i++) {
        tfc_src s = v->fetch[i];
        if (s.kind == TFC_SRC_NODE && !reach[s.id]) reach[stack[sp++] = s.id] = 1;
    }
    for (int i = 0; i < ntargets; i++) {
        int w = o->wait_for[targets[i]->id];
        if (w >= 0 && !reach[w]) reach[stack[sp++] = w] = 1;
    }
    while (sp) {
        int id = stack[--sp];
        for (int i = 0; i < o->nodes[id]->ninputs; i++) {
            tfc_src s = v->inputs[id][i];
            if (s.kind == TFC_SRC_NODE && !reach[s.id]) reach[stack[sp++] = s.id] = 1;
        }
        for (int i = 0; i < v->ncontrol[id]; i++) {
            int c = v->control[id][i];
            if (!reach[c]) reach[stack[sp++] = c] = 1;
        }
    }
    for (int id = 0; id < n; id++)
        if (v->run[id] && !reach[id]) {
            v->run[id] = 0;
            v->stats.pruned++;
        }
    /* constants: keep those read by a running node or a fetch */
    for (int i = 0; i < v->nconsts; i++) renum[i] = -1;
    for (int i = 0; i < nfetches; i++)
        if (v->fetch[i].kind == TFC_SRC_CONST) renum[v->fetch[i].id] = 0;
    for (int id = 0; id < n; id++)
        for (int i = 0; v->run[id] && i < o->nodes[id]->ninputs; i++)
            if (v->inputs[id][i].kind == TFC_SRC_CONST) renum[v->inputs[id][i].id] = 0;
    int kept = 0;
    for (int i = 0; i < v->nconsts; i++) {
        if (renum[i] < 0) {
            tfc_tensor_free(v->consts[i]);
            continue;
        }
        renum[i] = kept;
        v->consts[kept++] = v->consts[i];
    }
    v->nconsts = kept;
    for (int i = 0; i < nfetches; i++)
        if (v->fetch[i].kind == TFC_SRC_CONST) v->fetch[i].id = renum[v->fetch[i].id];
    for (int id = 0; id < n; id++)
        for (int i = 0; v->run[id] && i < o->nodes[id]->ninputs; i++)
            if (v->inputs[id][i].kind == TFC_SRC_CONST)
                v->inputs[id][i].id = renum[v->inputs[id][i].id];
    free(reach);
    free(stack);
    free(renum);
    return 0;
}

/* ---- fusions ---- */

/* A node that reads the only use of a producer's output as input `input`
 * runs `fused` instead, on its inputs with that one replaced by the
 * producer's; the producer does not run. The fused op's kernel finds the
 * producer behind that input of its node. A producer already fused is
 * matched by its fused op (a Relu after a fused BiasAdd). With
 * `reads_state`, the producer may read a variable's storage (a forward
 * product's weight) where no update of a variable was created between it
 * and the consumer: the read-before-write order the plan then builds
 * around the consumer is the one it would have built around the producer. */
static const struct {
    const char *consumer;
    int input;
    const char *producer;
    const char *fused;
    int reads_state;
} fusions[] = {
    {"ApplyGradientDescent", 2, "MatMul", "_MatMulApplyGradientDescent", 0}, /* training_fused.c */
    {"ReluGrad", 0, "MaxPoolGrad", "_MaxPoolGradReluGrad", 0},              /* pool.c */
    /* src/ops/bias_fused.c */
    {"BiasAdd", 0, "MatMul", "_MatMulBiasAdd", 1},
    {"BiasAdd", 0, "Conv2D", "_Conv2DBiasAdd", 1},
    {"Relu", 0, "_MatMulBiasAdd", "_MatMulBiasAddRelu", 1},
    {"Relu", 0, "_Conv2DBiasAdd", "_Conv2DBiasAddRelu", 1},
};

/* Node id's output reads by running nodes and fetches, in uses[id]; 1 in
 * waited[id] when a running node waits for it (a control input). */
static void count_uses(const opt *o, int nfetches, int *uses, char *waited) {
    const tfc_graph_view *v = o->v;
    for (int id = 0; id < v->nnodes; id++) {
        if (!v->run[id]) continue;
        for (int i = 0; i < v->ninputs[id]; i++)
            if (v->inputs[id][i].kind == TFC_SRC_NODE) uses[v->inputs[id][i].id]++;
        for (int i = 0; i < v->ncontrol[id]; i++) waited[v->control[id][i]] = 1;
    }
    for (int i = 0; i < nfetches; i++)
        if (v->fetch[i].kind == TFC_SRC_NODE) uses[v->fetch[i].id]++;
}

/* Whether product p may run inside consumer c: its one output read once,
 * by c, nothing waiting for it or waited for by it, and none of its inputs
 * a variable's storage (its reads would move to c, after the plan has
 * ordered the variable's reads and writes), but with reads_state where no
 * update of a variable was created between p and c. */
static int may_fuse(const opt *o, int c, int input, int p, const int *uses, const char *waited,
                    int reads_state) {
    const tfc_graph_view *v = o->v;
    tfc_src s = v->inputs[c][input];
    if (s.kind != TFC_SRC_NODE || s.id != p || s.index != 0 || uses[p] != 1 || waited[p] ||
        v->ncontrol[p] || o->nodes[p]->noutputs != 1 || o->flags[p])
        return 0;
    int updates_between = o->writers[c] - o->writers[p + 1] > 0;
    for (int i = 0; i < v->ninputs[p]; i++)
        if (v->inputs[p][i].kind == TFC_SRC_NODE && o->aliases[v->inputs[p][i].id] &&
            (!reads_state || updates_between))
            return 0;
    return 1;
}

static int fuse(opt *o, int nfetches) {
    tfc_graph_view *v = o->v;
    int n = v->nnodes;
    const tfc_op_def *ops[sizeof fusions / sizeof *fusions];
    int any = 0; /* (an inference-only build registers none of the fused ops) */
    for (size_t f = 0; f < sizeof fusions / sizeof *fusions; f++)
        any |= (ops[f] = tfc_op_lookup(fusions[f].fused)) != NULL;
    if (!any) return 0;
    int *uses = calloc((size_t)n + 1, sizeof *uses);
    char *waited = calloc((size_t)n + 1, 1);
    /* a fusion's inputs are its consumer's and producer's, and a producer
     * may itself be fused (a Relu after a fused BiasAdd: a chain's inputs
     * are then stored twice), so twice the running nodes' inputs hold all */
    size_t room = 0;
    for (int id = 0; id < n; id++) room += v->run[id] ? (size_t)v->ninputs[id] : 0;
    room *= 2;
    v->fused_store = malloc((room + 1) * sizeof *v->fused_store);
    if (!uses || !waited || !v->fused_store) {
        free(uses);
        free(waited);
        return -1;
    }
    count_uses(o, nfetches, uses, waited);
    size_t used = 0;
    for (int c = 0; c < n; c++) {
        if (!v->run[c] || v->op[c]) continue;
        for (size_t f = 0; f < sizeof fusions / sizeof *fusions; f++) {
            int in = fusions[f].input;
            if (!ops[f] || strcmp(o->nodes[c]->op->type, fusions[f].consumer) ||
                v->ninputs[c] <= in || v->inputs[c][in].kind != TFC_SRC_NODE)
                continue;
            int p = v->inputs[c][in].id;
            const char *made_by = v->op[p] ? v->op[p]->type : o->nodes[p]->op->type;
            if (strcmp(made_by, fusions[f].producer) ||
                !may_fuse(o, c, in, p, uses, waited, fusions[f].reads_state))
                continue;
            /* the consumer's inputs, with `in` replaced by the product's */
            tfc_src *merged = v->fused_store + used;
            int k = 0;
            for (int i = 0; i < v->ninputs[c]; i++) {
                if (i != in) {
                    merged[k++] = v->inputs[c][i];
                    continue;
                }
                for (int j = 0; j < v->ninputs[p]; j++) merged[k++] = v->inputs[p][j];
            }
            used += (size_t)k;
            v->inputs[c] = merged;
            v->ninputs[c] = k;
            v->op[c] = ops[f];
            v->run[p] = 0;
            v->stats.fused++;
            break;
        }
    }
    free(uses);
    free(waited);
    return 0;
}

static void opt_free(opt *o) {
    free(o->out_base);
    free(o->outmap);
    free(o->wait_for);
    free(o->aliases);
    free(o->flags);
    free(o->writers);
    free(o->hash);
    free(o->table);
    free(o->const_table);
}

int tfc_graph_view_build(tfc_graph_view *v, tfc_node *const *nodes, int nnodes, const char *keep,
                         const tfc_output *feeds, int nfeeds, const tfc_output *fetches,
                         int nfetches, tfc_node *const *targets, int ntargets, int optimize,
                         tfc_threadpool *pool, tfc_status *status) {
    memset(v, 0, sizeof *v);
    v->nnodes = nnodes;
    opt o;
    memset(&o, 0, sizeof o);
    o.v = v;
    o.nodes = nodes;
    o.pool = pool;
    size_t nin = 0, nctl = 0, nout = 0, nkept = 0;
    for (int id = 0; id < nnodes; id++) {
        if (!keep[id]) continue;
        nin += (size_t)nodes[id]->ninputs;
        nctl += (size_t)nodes[id]->ncontrol;
        nout += (size_t)nodes[id]->noutputs;
        nkept++;
    }
    size_t nn = (size_t)nnodes + 1;
    v->run = calloc(nn, 1);
    v->inputs = calloc(nn, sizeof *v->inputs);
    v->ninputs = calloc(nn, sizeof *v->ninputs);
    v->op = calloc(nn, sizeof *v->op);
    v->ncontrol = calloc(nn, sizeof *v->ncontrol);
    v->control = calloc(nn, sizeof *v->control);
    v->fetch = calloc((size_t)nfetches + 1, sizeof *v->fetch);
    v->src_store = malloc((nin + 1) * sizeof *v->src_store);
    v->control_store = malloc((nctl + 1) * sizeof *v->control_store);
    o.out_base = malloc(nn * sizeof *o.out_base);
    o.outmap = malloc((nout + 1) * sizeof *o.outmap);
    o.wait_for = malloc(nn * sizeof *o.wait_for);
    o.aliases = calloc(nn, 1);
    o.flags = calloc(nn, 1);
    o.writers = calloc(nn, sizeof *o.writers);
    o.hash = malloc(nn * sizeof *o.hash);
    size_t tsize = 16;
    while (tsize < 2 * nkept) tsize *= 2;
    o.mask = (int)(tsize - 1);
    o.table = malloc(tsize * sizeof *o.table);
    size_t csize = 16;
    while (csize < 2 * nout) csize *= 2;
    o.const_mask = (int)(csize - 1);
    o.const_table = malloc(csize * sizeof *o.const_table);
    if (!v->run || !v->inputs || !v->ninputs || !v->op || !v->ncontrol || !v->control ||
        !v->fetch || !v->src_store || !v->control_store || !o.out_base || !o.outmap ||
        !o.wait_for || !o.aliases || !o.flags || !o.writers || !o.hash || !o.table ||
        !o.const_table)
        goto oom;
    memset(o.table, 0xff, tsize * sizeof *o.table);
    memset(o.const_table, 0xff, csize * sizeof *o.const_table);

    for (int i = 0; i < nfetches; i++)
        if (feed_index(feeds, nfeeds, fetches[i].node, fetches[i].index) < 0)
            o.flags[fetches[i].node->id] |= IS_FETCHED;
    for (int i = 0; i < ntargets; i++) o.flags[targets[i]->id] |= IS_TARGET;
    for (int id = 0; id < nnodes; id++) {
        o.writers[id + 1] = o.writers[id] + (keep[id] && nodes[id]->op->ref_inputs != 0);
        for (int i = 0; keep[id] && i < nodes[id]->ncontrol; i++)
            o.flags[nodes[id]->control_inputs[i]->id] |= IS_CONTROL;
    }

    size_t pin = 0, pctl = 0, pout = 0;
    for (int id = 0; id < nnodes; id++) {
        o.wait_for[id] = -1;
        if (!keep[id]) continue;
        const tfc_node *n = nodes[id];
        v->inputs[id] = v->src_store + pin;
        v->ninputs[id] = n->ninputs;
        v->control[id] = v->control_store + pctl;
        o.out_base[id] = (int)pout;
        pin += (size_t)n->ninputs;
        pctl += (size_t)n->ncontrol;
        pout += (size_t)n->noutputs;
        tfc_src *in = v->inputs[id];
        int all_const = 1, reads_state = 0;
        for (int i = 0; i < n->ninputs; i++) {
            tfc_output src = n->inputs[i];
            int f = feed_index(feeds, nfeeds, src.node, src.index);
            in[i] = f >= 0 ? (tfc_src){TFC_SRC_FEED, f, 0}
                           : o.outmap[o.out_base[src.node->id] + src.index];
            all_const &= in[i].kind == TFC_SRC_CONST;
            reads_state |= in[i].kind == TFC_SRC_NODE && o.aliases[in[i].id];
        }
        resolve_controls(&o, id);
        if (optimize) {
            if (is_pure(n) && all_const && v->ncontrol[id] == 0) {
                int r = fold(&o, id);
                if (r < 0) goto oom;
                if (r) {
                    v->stats.folded++;
                    continue;
                }
            }
            /* a read of a variable through Identity keeps its node, so the
             * read-before-write order stays exactly as written */
            if (is_passthrough(n) && !o.flags[id] && v->ncontrol[id] == 0 && !reads_state) {
                o.outmap[o.out_base[id]] = in[0];
                v->stats.forwarded++;
                continue;
            }
            if (is_pure(n)) {
                int rep = cse(&o, id, reads_state);
                if (rep >= 0) {
                    for (int k = 0; k < n->noutputs; k++)
                        o.outmap[o.out_base[id] + k] = (tfc_src){TFC_SRC_NODE, rep, k};
                    o.wait_for[id] = rep;
                    v->stats.merged++;
                    continue;
                }
            }
        }
        v->run[id] = 1;
        o.wait_for[id] = id;
        for (int k = 0; k < n->noutputs; k++)
            o.outmap[o.out_base[id] + k] = (tfc_src){TFC_SRC_NODE, id, k};
        o.aliases[id] =
            (n->op->flags & TFC_OP_STATEFUL) || (tfc_op_forwards_buffer(n) && reads_state);
    }
    for (int i = 0; i < nfetches; i++) {
        int f = feed_index(feeds, nfeeds, fetches[i].node, fetches[i].index);
        v->fetch[i] = f >= 0 ? (tfc_src){TFC_SRC_FEED, f, 0}
                             : o.outmap[o.out_base[fetches[i].node->id] + fetches[i].index];
    }
    if (prune(&o, nfetches, targets, ntargets)) goto oom;
    if ((optimize & TFC_VIEW_OPTIMIZE) && (optimize & TFC_VIEW_FUSE) && fuse(&o, nfetches))
        goto oom;
    opt_free(&o);
    return 0;
oom:
    tfc_status_set(status, TFC_INTERNAL, "out of memory while optimizing a plan");
    opt_free(&o);
    tfc_graph_view_free(v);
    return -1;
}
