/* TF1's Switch/Merge/Enter/Exit/NextIteration/LoopCond graphs rewritten
 * into tfc's functional If and While (see tf1_control_flow.h).
 *
 * tfc's executor has no frames and no dead tensors, so the frames are
 * taken apart at import, as TensorFlow's tf2xla "functionalize control
 * flow" pass does:
 *
 * 1. Frames. Every node gets the while frame it runs in: an Enter opens the
 *    frame its frame_name names (inside its input's frame), an Exit leaves
 *    to the enclosing frame, any other node is in the innermost frame of
 *    its inputs (NextIteration -> Merge edges, the loops' back edges, are
 *    left out, and every other cycle is an error).
 * 2. Loops, innermost frame first. A frame's loop variables are its Enter
 *    nodes with is_constant false, each feeding Merge(Enter, NextIteration)
 *    -> Switch(Merge, LoopCond) -> Exit (false output) / body (true output).
 *    The condition function is what LoopCond's input needs back to the
 *    Merges; the body function what the NextIterations' inputs need back to
 *    the Switches' true outputs. Loop-invariant Enters (is_constant true)
 *    and values read from outside the frame become trailing params, passed
 *    unchanged (tfc's While captures). A While node replaces the frame, and
 *    each Exit becomes an Identity of the While output (keeping its name,
 *    so fetches by name still work). An inner loop, once converted, is one
 *    While node of the outer frame's body.
 * 3. Conds, innermost first, in the top graph and in every function made.
 *    Each node gets a cond state, the stack of (predicate, branch) pairs it
 *    runs under: a Switch's output k pushes (its predicate, k), a Merge
 *    whose inputs are the two branches of one predicate pops it. A cond is
 *    a connected group of Switches on one predicate, the nodes under their
 *    outputs and the Merges joining them; it becomes an If whose branch
 *    functions take the Switches' inputs (and outer values the branches
 *    read) as params and return the Merges' inputs; each Merge becomes an
 *    Identity of an If output. Predicates are compared after following
 *    Identity nodes (TF1 switches on Identity(pred), its "pred_id").
 *
 * The "^pivot" control edges TF1 puts on constants inside loops and
 * branches become edges inside the functions (or vanish when they point at
 * a param). Control edges into a loop or cond from outside are moved to the
 * While or If node; control edges a Merge, NextIteration or LoopCond takes
 * from inside become control inputs of an Identity on that output.
 * parallel_iterations is passed to the While (tfc's While pipelines
 * iterations as TensorFlow's frames do, with the same results). Nodes of a
 * loop that feed neither its condition nor its next iteration are dropped:
 * their values could not leave the loop. Not handled (an error names the
 * node): gradients TF1 wrote itself (a loop's keep values on stacks,
 * StackV2/StackPushV2/StackPopV2, which tfc lacks; a cond's are a second
 * cond whose branches read the first's, so no If can hold either), a
 * Merge's value_index output, and TF1 control flow inside library
 * functions. tfc_gradients on the converted graph is the way to them.
 *
 * This file reads the GraphDef into a node table (tf1_cf_internal.h) and
 * writes the result; tf1_cf_loops.c does steps 1 and 2, tf1_cf_conds.c
 * step 3. */
#include "formats/tf1_control_flow.h"

#include "formats/graphdef.h"
#include "formats/tf1_cf_internal.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
    const char *op;
    int kind;
} cf_ops[] = {{"Enter", K_ENTER},           {"RefEnter", K_ENTER},   {"Exit", K_EXIT},
              {"RefExit", K_EXIT},          {"Merge", K_MERGE},      {"RefMerge", K_MERGE},
              {"Switch", K_SWITCH},         {"RefSwitch", K_SWITCH}, {"NextIteration", K_NEXT},
              {"RefNextIteration", K_NEXT}, {"LoopCond", K_LOOPCOND}};

int tf1_fail(conv *c, tfc_code code, const char *fmt, ...) {
    char msg[900];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (tfc_status_code(c->st) == TFC_OK)
        tfc_status_set(c->st, code, "GraphDef (TF1 control flow): %s", msg);
    return -1;
}

int tf1_oom(conv *c) {
    return tf1_fail(c, TFC_RESOURCE_EXHAUSTED, "out of memory converting control flow");
}

/* ---- NodeDef attrs ---- */

const Tensorflow__AttrValue *tf1_nd_attr(const Tensorflow__NodeDef *nd, const char *key) {
    for (size_t k = 0; nd && k < nd->n_attr; k++)
        if (nd->attr[k]->key && !strcmp(nd->attr[k]->key, key)) return nd->attr[k]->value;
    return NULL;
}

static int nd_type(const Tensorflow__NodeDef *nd, const char *key) {
    const Tensorflow__AttrValue *v = tf1_nd_attr(nd, key);
    return v && v->value_case == TENSORFLOW__ATTR_VALUE__VALUE_TYPE ? (int)v->type : -1;
}

static int kind_of(const char *op) {
    for (size_t i = 0; i < sizeof cf_ops / sizeof *cf_ops; i++)
        if (!strcmp(op, cf_ops[i].op)) return cf_ops[i].kind;
    return K_OTHER;
}

int tfc_tf1_control_flow_present(const Tensorflow__GraphDef *gd) {
    for (size_t i = 0; gd && i < gd->n_node; i++)
        if (gd->node[i]->op && kind_of(gd->node[i]->op) != K_OTHER) return 1;
    return 0;
}

static const char *op_name(const cnode *n) {
    switch (n->kind) {
    case K_WHILE: return "While";
    case K_IF: return "If";
    case K_IDENTITY: return "Identity";
    case K_ARG: return "_Arg";
    default: return n->nd->op;
    }
}

/* ---- the node table ---- */

int tf1_add_node(conv *c, const char *name, const Tensorflow__NodeDef *nd, int kind, int graph) {
    if (c->nn == c->capn) {
        int cap = c->capn ? 2 * c->capn : 64;
        cnode *v = realloc(c->n, sizeof *v * (size_t)cap);
        if (!v) return tf1_oom(c);
        c->n = v;
        c->capn = cap;
    }
    cnode *n = &c->n[c->nn];
    memset(n, 0, sizeof *n);
    n->name = name;
    n->nd = nd;
    n->kind = kind;
    n->graph = graph;
    n->dtype = -1;
    return c->nn++;
}

int tf1_add_in(conv *c, int id, ref r) {
    cnode *n = &c->n[id];
    if (n->nin == n->cap) {
        int cap = n->cap ? 2 * n->cap : 4;
        ref *v = realloc(n->in, sizeof *v * (size_t)cap);
        if (!v) return tf1_oom(c);
        n->in = v;
        n->cap = cap;
    }
    n->in[n->nin++] = r;
    if (r.idx >= 0) n->ndata++;
    return 0;
}

/* A name no node, param or frame uses yet, from `base` (kept in the arena). */
const char *tf1_fresh_name(conv *c, const char *base, int id) {
    size_t len = strlen(base) + 24;
    char *s = tfc_arena_alloc(c->a, len);
    if (!s) return NULL;
    snprintf(s, len, "%s", base);
    for (int k = 1; tfc_strmap_get(&c->names, s); k++) snprintf(s, len, "%s_%d", base, k);
    if (tfc_strmap_put(&c->names, s, (void *)(intptr_t)(id + 1))) return NULL;
    return s;
}

/* A function name not in the library yet, from the scope of `node_name`
 * and `what` ("while/LoopCond", "body" -> "while_body"). */
const char *tf1_fresh_fname(conv *c, const char *node_name, const char *what) {
    const char *slash = strrchr(node_name, '/');
    size_t scope = slash ? (size_t)(slash - node_name) : strlen(node_name);
    if (scope > 200) scope = 200;
    size_t len = scope + strlen(what) + 24;
    char *base = malloc(len), *s = tfc_arena_alloc(c->a, len);
    if (!base || !s) {
        free(base);
        return NULL;
    }
    size_t k = 0;
    for (size_t i = 0; i < scope; i++) {
        char ch = node_name[i];
        base[k++] = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                            (ch >= '0' && ch <= '9') || ch == '_'
                        ? ch
                        : '_';
    }
    snprintf(base + k, len - k, "%s%s", k ? "_" : "", what);
    snprintf(s, len, "%s", base);
    for (int j = 1; tfc_strmap_get(&c->fnames, s); j++) snprintf(s, len, "%s_%d", base, j);
    free(base);
    if (tfc_strmap_put(&c->fnames, s, (void *)1)) return NULL;
    return s;
}

int tf1_add_func(conv *c, const char *name) {
    if (!name) return tf1_oom(c);
    if (c->nf == c->capf) {
        int cap = c->capf ? 2 * c->capf : 8;
        cfunc *v = realloc(c->f, sizeof *v * (size_t)cap);
        if (!v) return tf1_oom(c);
        c->f = v;
        c->capf = cap;
    }
    memset(&c->f[c->nf], 0, sizeof *c->f);
    c->f[c->nf].name = name;
    return c->nf++;
}

/* Adds `np` params of dtypes dt to function f. */
int tf1_add_params(conv *c, int f, const int *dt, int np) {
    int *p = tfc_arena_alloc(c->a, sizeof *p * (size_t)(np + 1));
    if (!p) return tf1_oom(c);
    c->f[f].params = p;
    c->f[f].nparams = np;
    for (int i = 0; i < np; i++) {
        char base[32];
        snprintf(base, sizeof base, "arg%d", i);
        int id = tf1_add_node(c, NULL, NULL, K_ARG, f);
        if (id < 0) return -1;
        const char *name = tf1_fresh_name(c, base, id);
        if (!name) return tf1_oom(c);
        c->n[id].name = name;
        c->n[id].dtype = dt[i];
        p[i] = id;
    }
    return 0;
}

int tf1_set_outputs(conv *c, int f, const ref *outs, const int *dt, int no) {
    c->f[f].outs = tfc_arena_alloc(c->a, sizeof *outs * (size_t)(no + 1));
    c->f[f].odt = tfc_arena_alloc(c->a, sizeof *dt * (size_t)(no + 1));
    if (!c->f[f].outs || !c->f[f].odt) return tf1_oom(c);
    memcpy(c->f[f].outs, outs, sizeof *outs * (size_t)no);
    memcpy(c->f[f].odt, dt, sizeof *dt * (size_t)no);
    c->f[f].nout = no;
    return 0;
}

/* The dtype of output idx of node t, or -1 when it cannot be told from the
 * NodeDef (only needed for values a loop or branch reads from outside
 * without an Enter or Switch). */
int tf1_out_dtype(const conv *c, int t, int idx) {
    const cnode *n = &c->n[t];
    switch (n->kind) {
    case K_MERGE: return idx == 1 ? TFC_INT32 : n->dtype;
    case K_LOOPCOND: return TFC_BOOL;
    case K_WHILE:
    case K_IF: return idx < n->nout ? n->odt[idx] : -1;
    case K_OTHER: break;
    default: return n->dtype;
    }
    const char *op = n->nd->op;
    static const char *const typed[] = {"Const", "Placeholder", "PlaceholderWithDefault",
                                        "VariableV2", "Variable"};
    static const char *const compare[] = {"Less",       "LessEqual", "Greater",    "GreaterEqual",
                                          "Equal",      "NotEqual",  "LogicalAnd", "LogicalOr",
                                          "LogicalNot", "IsFinite",  "IsNan",      "IsInf"};
    for (size_t i = 0; i < sizeof typed / sizeof *typed; i++)
        if (!strcmp(op, typed[i])) return idx == 0 ? nd_type(n->nd, "dtype") : -1;
    for (size_t i = 0; i < sizeof compare / sizeof *compare; i++)
        if (!strcmp(op, compare[i])) return idx == 0 ? TFC_BOOL : -1;
    if (!strcmp(op, "Shape") || !strcmp(op, "Size") || !strcmp(op, "Rank")) {
        int t2 = nd_type(n->nd, "out_type");
        return idx == 0 ? (t2 >= 0 ? t2 : TFC_INT32) : -1;
    }
    if (!strcmp(op, "Cast")) return idx == 0 ? nd_type(n->nd, "DstT") : -1;
    return idx == 0 ? nd_type(n->nd, "T") : -1;
}

/* ---- reading the GraphDef ---- */

static int parse_input(conv *c, const char *who, const char *s, ref *r) {
    int control = s[0] == '^';
    const char *name = s + control;
    const char *colon = strrchr(name, ':');
    size_t n = colon ? (size_t)(colon - name) : strlen(name);
    long idx = 0;
    if (colon) {
        char *end;
        idx = strtol(colon + 1, &end, 10);
        if (*end || end == colon + 1 || idx < 0 || idx > 1000000 || control)
            return tf1_fail(c, TFC_INVALID_ARGUMENT, "node '%s': bad input '%s'", who, s);
    }
    char *key = malloc(n + 1);
    if (!key) return tf1_oom(c);
    memcpy(key, name, n);
    key[n] = 0;
    intptr_t k = (intptr_t)tfc_strmap_get(&c->names, key);
    free(key);
    *r = (ref){k ? (int)k - 1 : -1, control ? -1 : (int)idx, k ? NULL : s};
    return 0;
}

static int read_nodes(conv *c) {
    const Tensorflow__GraphDef *gd = c->gd;
    for (size_t i = 0; i < gd->n_node; i++) {
        const Tensorflow__NodeDef *nd = gd->node[i];
        if (!nd->name || !*nd->name || !nd->op)
            return tf1_fail(c, TFC_INVALID_ARGUMENT, "node %zu has no name or op", i);
        if (tfc_strmap_get(&c->names, nd->name))
            return tf1_fail(c, TFC_INVALID_ARGUMENT, "two nodes are named '%s'", nd->name);
        int id = tf1_add_node(c, nd->name, nd, kind_of(nd->op), 0);
        if (id < 0) return -1;
        if (tfc_strmap_put(&c->names, nd->name, (void *)(intptr_t)(id + 1))) return tf1_oom(c);
    }
    for (int id = 0; id < c->nn; id++) {
        const Tensorflow__NodeDef *nd = c->n[id].nd;
        for (size_t k = 0; k < nd->n_input; k++) {
            ref r;
            if (parse_input(c, nd->name, nd->input[k], &r)) return -1;
            if (r.idx >= 0 && c->n[id].ndata != c->n[id].nin)
                return tf1_fail(c, TFC_INVALID_ARGUMENT,
                                "node '%s': data input after a control input", nd->name);
            if (tf1_add_in(c, id, r)) return -1;
        }
        cnode *n = &c->n[id];
        if (n->kind == K_OTHER) continue;
        int want = n->kind == K_SWITCH ? 2 : 1;
        if (n->kind == K_MERGE ? n->ndata < 1 : n->ndata != want)
            return tf1_fail(c, TFC_INVALID_ARGUMENT,
                            "node '%s' (%s) has %d data inputs, expected %s%d", n->name, nd->op,
                            n->ndata, n->kind == K_MERGE ? "at least " : "", want);
        n->dtype = n->kind == K_LOOPCOND ? TFC_BOOL : nd_type(nd, "T");
        if (n->dtype < 0)
            return tf1_fail(c, TFC_INVALID_ARGUMENT, "node '%s' (%s) has no type attr 'T'", n->name,
                            nd->op);
    }
    return 0;
}

/* Consumers of the live nodes of graph g, by producer. */
int tf1_build_consumers(conv *c, int g) {
    free(c->cstart);
    free(c->cons);
    free(c->cslot);
    c->cstart = calloc((size_t)c->nn + 2, sizeof *c->cstart);
    size_t total = 0;
    for (int i = 0; i < c->nn; i++)
        if (!c->n[i].removed && c->n[i].graph == g) total += (size_t)c->n[i].nin;
    c->cons = malloc(sizeof *c->cons * (total + 1));
    c->cslot = malloc(sizeof *c->cslot * (total + 1));
    if (!c->cstart || !c->cons || !c->cslot) return tf1_oom(c);
    for (int i = 0; i < c->nn; i++) {
        if (c->n[i].removed || c->n[i].graph != g) continue;
        for (int k = 0; k < c->n[i].nin; k++)
            if (c->n[i].in[k].node >= 0) c->cstart[c->n[i].in[k].node + 1]++;
    }
    for (int i = 0; i < c->nn; i++) c->cstart[i + 1] += c->cstart[i];
    int *fill = calloc((size_t)c->nn + 1, sizeof *fill);
    if (!fill) return tf1_oom(c);
    for (int i = 0; i < c->nn; i++) {
        if (c->n[i].removed || c->n[i].graph != g) continue;
        for (int k = 0; k < c->n[i].nin; k++) {
            int t = c->n[i].in[k].node;
            if (t < 0) continue;
            int at = c->cstart[t] + fill[t]++;
            c->cons[at] = i;
            c->cslot[at] = k;
        }
    }
    free(fill);
    return 0;
}

int tf1_is_back_edge(const conv *c, int from, int to) {
    return c->n[from].kind == K_NEXT && c->n[to].kind == K_MERGE;
}

/* The live nodes of graph g in an order where every producer comes before
 * its consumers (back edges left out); -1 naming a node on a cycle. */
int tf1_topo_order(conv *c, int g, int *order, int *count) {
    int *pending = calloc((size_t)c->nn + 1, sizeof *pending);
    if (!pending || tf1_build_consumers(c, g)) {
        free(pending);
        return pending ? -1 : tf1_oom(c);
    }
    int head = 0, tail = 0, live = 0;
    for (int i = 0; i < c->nn; i++) {
        if (c->n[i].removed || c->n[i].graph != g) continue;
        live++;
        for (int k = 0; k < c->n[i].nin; k++) {
            int t = c->n[i].in[k].node;
            if (t >= 0 && !tf1_is_back_edge(c, t, i)) pending[i]++;
        }
        if (!pending[i]) order[tail++] = i;
    }
    while (head < tail) {
        int x = order[head++];
        for (int j = c->cstart[x]; j < c->cstart[x + 1]; j++) {
            int y = c->cons[j];
            if (!tf1_is_back_edge(c, x, y) && --pending[y] == 0) order[tail++] = y;
        }
    }
    int rc = 0;
    if (tail < live) {
        for (int i = 0; i < c->nn; i++)
            if (!c->n[i].removed && c->n[i].graph == g && pending[i]) {
                rc = tf1_fail(c, TFC_INVALID_ARGUMENT,
                              "a cycle through node '%s' does not pass through a NextIteration "
                              "(TF1 closes a loop's only cycle with NextIteration -> Merge)",
                              c->n[i].name);
                break;
            }
    }
    free(pending);
    *count = tail;
    return rc;
}

const char *tf1_ref_name(const conv *c, ref r) { return r.node >= 0 ? c->n[r.node].name : r.ext; }

int tf1_find_cap(const ref *caps, int n, ref r) {
    for (int i = 0; i < n; i++)
        if (caps[i].node == r.node && caps[i].idx == r.idx) return i;
    return -1;
}

int tf1_push_ref(conv *c, ref **v, int *n, int *cap, ref r) {
    for (int i = 0; i < *n; i++)
        if ((*v)[i].node == r.node && (*v)[i].idx == r.idx &&
            (r.node >= 0 || !strcmp((*v)[i].ext, r.ext)))
            return i;
    if (*n == *cap) {
        int nc = *cap ? 2 * *cap : 8;
        ref *p = realloc(*v, sizeof *p * (size_t)nc);
        if (!p) return tf1_oom(c);
        *v = p;
        *cap = nc;
    }
    (*v)[*n] = r;
    return (*n)++;
}

/* ---- writing the result ---- */

/* TensorFlow's output argument names of the ops tfc has whose outputs are
 * several arguments (graphdef.c's table): inside a function a node's output
 * is "node:arg:index". Every other op has one argument, "output" here. */
static const struct {
    const char *op, *args;
} multi_out[] = {{"BroadcastGradientArgs", "r0 r1"},
                 {"Unique", "y idx"},
                 {"SoftmaxCrossEntropyWithLogits", "loss backprop"},
                 {"SparseSoftmaxCrossEntropyWithLogits", "loss backprop"},
                 {"LogUniformCandidateSampler",
                  "sampled_candidates true_expected_count sampled_expected_count"}};

static char *ref_string(conv *c, ref r, int in_fn) {
    char buf[700];
    if (r.node < 0) return tfc_arena_strdup(c->a, r.ext);
    const cnode *t = &c->n[r.node];
    if (r.idx < 0) {
        snprintf(buf, sizeof buf, "^%s", t->name);
    } else if (in_fn && t->kind == K_ARG) {
        snprintf(buf, sizeof buf, "%s", t->name);
    } else if (in_fn) {
        const char *arg = "output";
        int idx = r.idx;
        char word[64];
        for (size_t i = 0; t->kind == K_OTHER && i < sizeof multi_out / sizeof *multi_out; i++) {
            if (strcmp(t->nd->op, multi_out[i].op)) continue;
            const char *p = multi_out[i].args;
            for (int w = 0; w < idx && p; w++) p = strchr(p, ' '), p = p ? p + 1 : NULL;
            if (p) {
                size_t len = strcspn(p, " ");
                snprintf(word, sizeof word, "%.*s", (int)len, p);
                arg = word;
                idx = 0;
            }
        }
        snprintf(buf, sizeof buf, "%s:%s:%d", t->name, arg, idx);
    } else if (r.idx) {
        snprintf(buf, sizeof buf, "%s:%d", t->name, r.idx);
    } else {
        snprintf(buf, sizeof buf, "%s", t->name);
    }
    return tfc_arena_strdup(c->a, buf);
}

static Tensorflow__NodeDef__AttrEntry *attr_entry(conv *c, const char *key) {
    Tensorflow__NodeDef__AttrEntry *e = tfc_arena_alloc(c->a, sizeof *e);
    Tensorflow__AttrValue *v = tfc_arena_alloc(c->a, sizeof *v);
    if (!e || !v) return NULL;
    *e = (Tensorflow__NodeDef__AttrEntry)TENSORFLOW__NODE_DEF__ATTR_ENTRY__INIT;
    *v = (Tensorflow__AttrValue)TENSORFLOW__ATTR_VALUE__INIT;
    e->key = (char *)key;
    e->value = v;
    return e;
}

static Tensorflow__NodeDef__AttrEntry *func_entry(conv *c, const char *key, int f) {
    Tensorflow__NodeDef__AttrEntry *e = attr_entry(c, key);
    Tensorflow__NameAttrList *l = tfc_arena_alloc(c->a, sizeof *l);
    if (!e || !l) return NULL;
    *l = (Tensorflow__NameAttrList)TENSORFLOW__NAME_ATTR_LIST__INIT;
    l->name = (char *)c->f[f].name;
    e->value->value_case = TENSORFLOW__ATTR_VALUE__VALUE_FUNC;
    e->value->func = l;
    return e;
}

static Tensorflow__NodeDef *emit_node(conv *c, int id, int in_fn) {
    const cnode *n = &c->n[id];
    Tensorflow__NodeDef *m = tfc_arena_alloc(c->a, sizeof *m);
    char **ins = tfc_arena_alloc(c->a, sizeof *ins * ((size_t)n->nin + 1));
    if (!m || !ins) return NULL;
    *m = (Tensorflow__NodeDef)TENSORFLOW__NODE_DEF__INIT;
    m->name = (char *)n->name;
    m->op = (char *)op_name(n);
    if (n->nd && n->nd->device) m->device = n->nd->device;
    for (int k = 0; k < n->nin; k++) {
        ref r = n->in[k];
        if (in_fn && r.idx < 0 && r.node >= 0 && c->n[r.node].kind == K_ARG) continue;
        if (!(ins[m->n_input++] = ref_string(c, r, in_fn))) return NULL;
    }
    m->input = ins;
    if (n->kind == K_OTHER) {
        m->n_attr = n->nd->n_attr;
        m->attr = n->nd->attr;
        return m;
    }
    Tensorflow__NodeDef__AttrEntry **at = tfc_arena_alloc(c->a, sizeof *at * 3);
    if (!at) return NULL;
    m->attr = at;
    if (n->kind == K_IDENTITY) {
        if (!(at[0] = attr_entry(c, "T"))) return NULL;
        at[0]->value->value_case = TENSORFLOW__ATTR_VALUE__VALUE_TYPE;
        at[0]->value->type = (Tensorflow__DataType)n->dtype;
        m->n_attr = 1;
    } else if (n->kind == K_WHILE) {
        if (!(at[0] = func_entry(c, "cond", n->fa)) || !(at[1] = func_entry(c, "body", n->fb)) ||
            !(at[2] = attr_entry(c, "parallel_iterations")))
            return NULL;
        at[2]->value->value_case = TENSORFLOW__ATTR_VALUE__VALUE_I;
        at[2]->value->i = n->parallel;
        m->n_attr = 3;
    } else if (n->kind == K_IF) {
        if (!(at[0] = func_entry(c, "then_branch", n->fa)) ||
            !(at[1] = func_entry(c, "else_branch", n->fb)))
            return NULL;
        m->n_attr = 2;
    }
    return m;
}

static Tensorflow__OpDef__ArgDef *arg_def(conv *c, const char *name, int dt) {
    Tensorflow__OpDef__ArgDef *a = tfc_arena_alloc(c->a, sizeof *a);
    if (!a) return NULL;
    *a = (Tensorflow__OpDef__ArgDef)TENSORFLOW__OP_DEF__ARG_DEF__INIT;
    a->name = (char *)name;
    a->type = (Tensorflow__DataType)dt;
    return a;
}

static Tensorflow__FunctionDef *emit_function(conv *c, int f, const int *count) {
    const cfunc *fn = &c->f[f];
    Tensorflow__FunctionDef *d = tfc_arena_alloc(c->a, sizeof *d);
    Tensorflow__OpDef *sig = tfc_arena_alloc(c->a, sizeof *sig);
    Tensorflow__OpDef__ArgDef **ia = tfc_arena_alloc(c->a, sizeof *ia * ((size_t)fn->nparams + 1));
    Tensorflow__OpDef__ArgDef **oa = tfc_arena_alloc(c->a, sizeof *oa * ((size_t)fn->nout + 1));
    Tensorflow__FunctionDef__RetEntry **ret =
        tfc_arena_alloc(c->a, sizeof *ret * ((size_t)fn->nout + 1));
    Tensorflow__NodeDef **nodes = tfc_arena_alloc(c->a, sizeof *nodes * ((size_t)count[f] + 1));
    if (!d || !sig || !ia || !oa || !ret || !nodes) return NULL;
    *d = (Tensorflow__FunctionDef)TENSORFLOW__FUNCTION_DEF__INIT;
    *sig = (Tensorflow__OpDef)TENSORFLOW__OP_DEF__INIT;
    sig->name = (char *)fn->name;
    for (int i = 0; i < fn->nparams; i++)
        if (!(ia[i] = arg_def(c, c->n[fn->params[i]].name, c->n[fn->params[i]].dtype))) return NULL;
    for (int j = 0; j < fn->nout; j++) {
        char name[32];
        snprintf(name, sizeof name, "output_%d", j);
        char *s = tfc_arena_strdup(c->a, name);
        ret[j] = tfc_arena_alloc(c->a, sizeof *ret[j]);
        if (!s || !ret[j] || !(oa[j] = arg_def(c, s, fn->odt[j]))) return NULL;
        *ret[j] = (Tensorflow__FunctionDef__RetEntry)TENSORFLOW__FUNCTION_DEF__RET_ENTRY__INIT;
        ret[j]->key = s;
        if (!(ret[j]->value = ref_string(c, fn->outs[j], 1))) return NULL;
    }
    sig->n_input_arg = (size_t)fn->nparams;
    sig->input_arg = ia;
    sig->n_output_arg = (size_t)fn->nout;
    sig->output_arg = oa;
    d->signature = sig;
    d->n_ret = (size_t)fn->nout;
    d->ret = ret;
    for (int i = 0; i < c->nn; i++)
        if (!c->n[i].removed && c->n[i].graph == f && c->n[i].kind != K_ARG)
            if (!(nodes[d->n_node_def++] = emit_node(c, i, 1))) return NULL;
    d->node_def = nodes;
    return d;
}

static int emit(conv *c, Tensorflow__GraphDef **out) {
    int *count = calloc((size_t)c->nf + 1, sizeof *count);
    if (!count) return tf1_oom(c);
    for (int i = 0; i < c->nn; i++) {
        const cnode *n = &c->n[i];
        if (n->removed || n->kind == K_ARG) continue;
        if (n->kind != K_OTHER && n->kind < K_ARG) {
            free(count);
            return tf1_fail(c, TFC_INTERNAL, "%s '%s' was left unconverted", n->nd->op, n->name);
        }
        count[n->graph]++;
    }
    const Tensorflow__GraphDef *gd = c->gd;
    Tensorflow__GraphDef *g = tfc_arena_alloc(c->a, sizeof *g);
    Tensorflow__FunctionDefLibrary *lib = tfc_arena_alloc(c->a, sizeof *lib);
    size_t nlib0 = gd->library ? gd->library->n_function : 0;
    Tensorflow__FunctionDef **fns =
        tfc_arena_alloc(c->a, sizeof *fns * (nlib0 + (size_t)c->nf + 1));
    Tensorflow__NodeDef **nodes = tfc_arena_alloc(c->a, sizeof *nodes * ((size_t)count[0] + 1));
    if (!g || !lib || !fns || !nodes) goto oom;
    *g = (Tensorflow__GraphDef)TENSORFLOW__GRAPH_DEF__INIT;
    *lib = (Tensorflow__FunctionDefLibrary)TENSORFLOW__FUNCTION_DEF_LIBRARY__INIT;
    g->versions = gd->versions;
    for (int i = 0; i < c->nn; i++)
        if (!c->n[i].removed && c->n[i].graph == 0)
            if (!(nodes[g->n_node++] = emit_node(c, i, 0))) goto oom;
    g->node = nodes;
    for (size_t k = 0; k < nlib0; k++) fns[lib->n_function++] = gd->library->function[k];
    for (int f = 1; f < c->nf; f++)
        if (!(fns[lib->n_function++] = emit_function(c, f, count))) goto oom;
    lib->function = fns;
    if (gd->library) {
        lib->n_gradient = gd->library->n_gradient;
        lib->gradient = gd->library->gradient;
    }
    g->library = lib;
    free(count);
    *out = g;
    return 0;
oom:
    free(count);
    return tf1_oom(c);
}

int tfc_tf1_functionalize(const Tensorflow__GraphDef *gd, tfc_arena *a, Tensorflow__GraphDef **out,
                          tfc_status *st) {
    conv c = {0};
    c.gd = gd;
    c.st = st;
    c.a = a;
    *out = NULL;
    tfc_status_set(st, TFC_OK, "%s", "");
    int rc = -1;
    if (tf1_add_func(&c, "") < 0) goto done;
    for (size_t k = 0; gd->library && k < gd->library->n_function; k++) {
        const Tensorflow__OpDef *sig = gd->library->function[k]->signature;
        if (sig && sig->name && tfc_strmap_put(&c.fnames, sig->name, (void *)1)) {
            tf1_oom(&c);
            goto done;
        }
    }
    if (read_nodes(&c) || tf1_convert_loops(&c)) goto done;
    for (int f = 0; f < c.nf; f++)
        if (tf1_convert_conds(&c, f)) goto done;
    rc = emit(&c, out);
done:
    for (int i = 0; i < c.nn; i++) free(c.n[i].in);
    free(c.n);
    free(c.f);
    free(c.fr);
    free(c.s);
    free(c.cstart);
    free(c.cons);
    free(c.cslot);
    tfc_strmap_free(&c.names);
    tfc_strmap_free(&c.fnames);
    tfc_strmap_free(&c.frames);
    tfc_strmap_free(&c.states);
    if (rc && a->oom && tfc_status_code(st) == TFC_OK) tf1_oom(&c);
    return rc;
}

int tfc_tf1_control_flow_import(tfc_graph *g, const Tensorflow__GraphDef *gd,
                                const tfc_import_options *opts, int collections, tfc_status *st) {
    tfc_arena a = {0};
    Tensorflow__GraphDef *out = NULL;
    int rc = tfc_tf1_functionalize(gd, &a, &out, st);
    if (!rc) rc = tfc_graphdef_import(g, out, opts, collections, st);
    tfc_arena_free(&a);
    return rc;
}
