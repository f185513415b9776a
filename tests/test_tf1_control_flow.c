/* TF1's graph-level control flow at GraphDef import
 * (src/formats/tf1_control_flow.c): graphs TensorFlow 1.x wrote
 * (tests/data/tf1_control_flow) and graphs written here node by node as
 * TF1's tf.while_loop and tf.cond write them (Enter/Merge/Switch/LoopCond/
 * NextIteration/Exit, pivot control edges, loop-invariant Enters; nested
 * loops, a cond in a loop, a loop in a cond, a cond of a cond) import as
 * If/While, run to hand-computed values, and differentiate (float64,
 * against finite differences, nested loops included). Malformed control
 * flow fails with a message naming the node or frame; the fuzz harness's
 * generator (fuzz/tf1_cf_gen.h) runs here on fixed programs. */
#include "../fuzz/tf1_cf_gen.h"
#include "gradcheck.h"
#include "graph.pb-c.h"
#include "harness.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- writing GraphDefs as TF1 does ---- */

#define MAX_NODES 256

typedef struct gdb {
    Tensorflow__NodeDef nodes[MAX_NODES];
    Tensorflow__NodeDef *ptrs[MAX_NODES];
    int n;
    char *strs[4096]; /* everything allocated, freed at the end */
    int ns;
} gdb;

static void *keep(gdb *b, void *p) {
    if (b->ns < 4096) b->strs[b->ns++] = p;
    return p;
}

static char *fmt(gdb *b, const char *f, ...) {
    char buf[512];
    va_list ap;
    va_start(ap, f);
    vsnprintf(buf, sizeof buf, f, ap);
    va_end(ap);
    return keep(b, strdup(buf));
}

/* A node with inputs (NULL-terminated). */
static Tensorflow__NodeDef *node(gdb *b, const char *name, const char *op, ...) {
    Tensorflow__NodeDef *n = &b->nodes[b->n];
    *n = (Tensorflow__NodeDef)TENSORFLOW__NODE_DEF__INIT;
    b->ptrs[b->n++] = n;
    n->name = keep(b, strdup(name));
    n->op = keep(b, strdup(op));
    n->input = keep(b, calloc(8, sizeof *n->input));
    n->attr = keep(b, calloc(8, sizeof *n->attr));
    va_list ap;
    va_start(ap, op);
    for (const char *in; (in = va_arg(ap, const char *));)
        n->input[n->n_input++] = keep(b, strdup(in));
    va_end(ap);
    return n;
}

static Tensorflow__AttrValue *attr(gdb *b, Tensorflow__NodeDef *n, const char *key) {
    Tensorflow__NodeDef__AttrEntry *e = keep(b, malloc(sizeof *e));
    Tensorflow__AttrValue *v = keep(b, malloc(sizeof *v));
    *e = (Tensorflow__NodeDef__AttrEntry)TENSORFLOW__NODE_DEF__ATTR_ENTRY__INIT;
    *v = (Tensorflow__AttrValue)TENSORFLOW__ATTR_VALUE__INIT;
    e->key = keep(b, strdup(key));
    e->value = v;
    n->attr[n->n_attr++] = e;
    return v;
}

static void attr_type(gdb *b, Tensorflow__NodeDef *n, const char *key, tfc_dtype dt) {
    Tensorflow__AttrValue *v = attr(b, n, key);
    v->value_case = TENSORFLOW__ATTR_VALUE__VALUE_TYPE;
    v->type = (Tensorflow__DataType)dt;
}

static void attr_int(gdb *b, Tensorflow__NodeDef *n, const char *key, int64_t i) {
    Tensorflow__AttrValue *v = attr(b, n, key);
    v->value_case = TENSORFLOW__ATTR_VALUE__VALUE_I;
    v->i = i;
}

static void attr_bool(gdb *b, Tensorflow__NodeDef *n, const char *key, int x) {
    Tensorflow__AttrValue *v = attr(b, n, key);
    v->value_case = TENSORFLOW__ATTR_VALUE__VALUE_B;
    v->b = x;
}

static void attr_str(gdb *b, Tensorflow__NodeDef *n, const char *key, const char *s) {
    Tensorflow__AttrValue *v = attr(b, n, key);
    v->value_case = TENSORFLOW__ATTR_VALUE__VALUE_S;
    v->s.data = keep(b, strdup(s));
    v->s.len = strlen(s);
}

/* Const scalar (int32 or float64) with an optional control input. */
static const char *cnst(gdb *b, const char *name, tfc_dtype dt, double val, const char *ctrl) {
    Tensorflow__NodeDef *n = node(b, name, "Const", ctrl, NULL);
    attr_type(b, n, "dtype", dt);
    Tensorflow__TensorProto *t = keep(b, malloc(sizeof *t));
    Tensorflow__TensorShapeProto *sh = keep(b, malloc(sizeof *sh));
    *t = (Tensorflow__TensorProto)TENSORFLOW__TENSOR_PROTO__INIT;
    *sh = (Tensorflow__TensorShapeProto)TENSORFLOW__TENSOR_SHAPE_PROTO__INIT;
    t->dtype = (Tensorflow__DataType)dt;
    t->tensor_shape = sh;
    if (dt == TFC_INT32) {
        t->int_val = keep(b, malloc(sizeof *t->int_val));
        t->int_val[0] = (int32_t)val;
        t->n_int_val = 1;
    } else {
        t->double_val = keep(b, malloc(sizeof *t->double_val));
        t->double_val[0] = val;
        t->n_double_val = 1;
    }
    Tensorflow__AttrValue *v = attr(b, n, "value");
    v->value_case = TENSORFLOW__ATTR_VALUE__VALUE_TENSOR;
    v->tensor = t;
    return n->name;
}

static const char *placeholder(gdb *b, const char *name, tfc_dtype dt) {
    Tensorflow__NodeDef *n = node(b, name, "Placeholder", NULL);
    attr_type(b, n, "dtype", dt);
    return n->name;
}

/* A binary (or unary: y NULL) op with attr T. */
static const char *op2(gdb *b, const char *name, const char *op, tfc_dtype T, const char *x,
                       const char *y) {
    Tensorflow__NodeDef *n = node(b, name, op, x, y, NULL);
    attr_type(b, n, "T", T);
    return n->name;
}

/* Loop variable k of the loop in scope s, as tf.while_loop writes it:
 * s/Enter_k -> s/Merge_k(Enter, NextIteration) -> s/Switch_k(Merge,
 * LoopCond) -> s/Identity_k (the body's view) and s/Exit_k (the result). */
static void loop_var(gdb *b, const char *s, int k, const char *init, tfc_dtype T,
                     const char *frame) {
    Tensorflow__NodeDef *e = node(b, fmt(b, "%s/Enter_%d", s, k), "Enter", init, NULL);
    attr_type(b, e, "T", T);
    attr_str(b, e, "frame_name", frame);
    attr_bool(b, e, "is_constant", 0);
    attr_int(b, e, "parallel_iterations", 10);
    Tensorflow__NodeDef *m =
        node(b, fmt(b, "%s/Merge_%d", s, k), "Merge", fmt(b, "%s/Enter_%d", s, k),
             fmt(b, "%s/NextIteration_%d", s, k), NULL);
    attr_int(b, m, "N", 2);
    attr_type(b, m, "T", T);
    op2(b, fmt(b, "%s/Switch_%d", s, k), "Switch", T, fmt(b, "%s/Merge_%d", s, k),
        fmt(b, "%s/LoopCond", s));
    op2(b, fmt(b, "%s/Identity_%d", s, k), "Identity", T, fmt(b, "%s/Switch_%d:1", s, k), NULL);
    op2(b, fmt(b, "%s/Exit_%d", s, k), "Exit", T, fmt(b, "%s/Switch_%d", s, k), NULL);
}

static void loop_next(gdb *b, const char *s, int k, const char *value, tfc_dtype T) {
    op2(b, fmt(b, "%s/NextIteration_%d", s, k), "NextIteration", T, value, NULL);
}

static void loop_cond(gdb *b, const char *s, const char *pred) {
    node(b, fmt(b, "%s/LoopCond", s), "LoopCond", pred, NULL);
}

/* A loop-invariant Enter (is_constant), as TF1 writes for an outer tensor. */
static const char *loop_invariant(gdb *b, const char *s, const char *what, const char *input,
                                  tfc_dtype T, const char *frame) {
    Tensorflow__NodeDef *e = node(b, fmt(b, "%s/%s/Enter", s, what), "Enter", input, NULL);
    attr_type(b, e, "T", T);
    attr_str(b, e, "frame_name", frame);
    attr_bool(b, e, "is_constant", 1);
    attr_int(b, e, "parallel_iterations", 10);
    return e->name;
}

/* tf.cond's pivots in scope s: s/Switch(pred, pred), s/switch_t, s/switch_f,
 * s/pred_id. */
static void cond_begin(gdb *b, const char *s, const char *pred) {
    op2(b, fmt(b, "%s/Switch", s), "Switch", TFC_BOOL, pred, pred);
    op2(b, fmt(b, "%s/switch_t", s), "Identity", TFC_BOOL, fmt(b, "%s/Switch:1", s), NULL);
    op2(b, fmt(b, "%s/switch_f", s), "Identity", TFC_BOOL, fmt(b, "%s/Switch", s), NULL);
    op2(b, fmt(b, "%s/pred_id", s), "Identity", TFC_BOOL, pred, NULL);
}

/* An outer value x entering the cond: s/Switch_k = Switch(x, pred_id);
 * returns the output the given branch reads. */
static const char *cond_in(gdb *b, const char *s, int k, const char *x, tfc_dtype T, int branch) {
    const char *sw = fmt(b, "%s/Switch_%d", s, k);
    int exists = 0;
    for (int i = 0; i < b->n; i++) exists |= !strcmp(b->nodes[i].name, sw);
    if (!exists) op2(b, sw, "Switch", T, x, fmt(b, "%s/pred_id", s));
    return branch ? fmt(b, "%s:1", sw) : sw;
}

static void cond_merge(gdb *b, const char *s, int k, const char *in0, const char *in1,
                       tfc_dtype T) {
    Tensorflow__NodeDef *m = node(b, fmt(b, "%s/Merge_%d", s, k), "Merge", in0, in1, NULL);
    attr_int(b, m, "N", 2);
    attr_type(b, m, "T", T);
}

/* Imports b's GraphDef into a new graph through the public API; NULL with
 * the message in err[] when the import fails. */
static tfc_graph *import_gdb(gdb *b, char *err, size_t cap) {
    Tensorflow__GraphDef gd = TENSORFLOW__GRAPH_DEF__INIT;
    gd.node = b->ptrs;
    gd.n_node = (size_t)b->n;
    size_t len = tensorflow__graph_def__get_packed_size(&gd);
    uint8_t *bytes = malloc(len + 1);
    tensorflow__graph_def__pack(&gd, bytes);
    tfc_graph *g = tfc_graph_new();
    tfc_status *st = tfc_status_new();
    if (tfc_graph_import_graphdef(g, bytes, len, NULL, NULL, NULL, 0, st)) {
        snprintf(err, cap, "%s", tfc_status_message(st));
        tfc_graph_free(g);
        g = NULL;
    } else {
        err[0] = 0;
    }
    tfc_status_free(st);
    free(bytes);
    for (int i = 0; i < b->ns; i++) free(b->strs[i]);
    b->ns = 0;
    return g;
}

static tfc_output out(tfc_graph *g, const char *name) {
    tfc_node *n = tfc_graph_node_by_name(g, name);
    CHECK_MSG(n != NULL, "no node '%s' after import", name);
    return (tfc_output){n, 0};
}

static int count_type(tfc_graph *g, const char *type) {
    int k = 0;
    for (int i = 0; i < tfc_graph_num_nodes(g); i++)
        k += !strcmp(tfc_node_type(tfc_graph_node(g, i)), type);
    return k;
}

/* Runs `fetch` with one feed (name NULL: none); the value as a double. */
static double run1(tfc_graph *g, const char *fetch, const char *feed, tfc_tensor *val) {
    tfc_output f = out(g, fetch), x;
    if (!f.node) {
        tfc_tensor_free(val);
        return NAN;
    }
    if (feed) x = out(g, feed);
    tfc_tensor *t = tfc_test_eval(g, f, feed ? &x : NULL, feed ? &val : NULL, feed ? 1 : 0);
    tfc_tensor_free(val);
    double v = t ? tfc_test_get(t, 0) : NAN;
    tfc_tensor_free(t);
    return v;
}

/* ---- graphs TensorFlow wrote ---- */

static tfc_graph *import_file(const char *rel) {
    const char *dir = getenv("TFC_TEST_DATA");
    char path[1024];
    snprintf(path, sizeof path, "%s/tf1_control_flow/%s", dir ? dir : "tests/data", rel);
    tfc_graph *g = tfc_graph_new();
    tfc_status *st = tfc_status_new();
    CHECK(tfc_graph_import_graphdef_file(g, path, NULL, st) == 0);
    CHECK_STATUS_OK(st);
    tfc_status_free(st);
    return g;
}

/* Checks that t has the given shape and every element is 1. */
static void check_ones(tfc_tensor *t, int rank, const int64_t *dims) {
    CHECK(t != NULL);
    if (!t) return;
    CHECK(tfc_tensor_rank(t) == rank);
    int64_t n = 1;
    for (int i = 0; i < rank && i < tfc_tensor_rank(t); i++) {
        CHECK_MSG(tfc_tensor_dim(t, i) == dims[i], "dim %d: %lld, expected %lld", i,
                  (long long)tfc_tensor_dim(t, i), (long long)dims[i]);
        n *= dims[i];
    }
    CHECK(tfc_tensor_num_elements(t) == n);
    double worst = 0;
    for (int64_t i = 0; i < tfc_tensor_num_elements(t); i++)
        worst = fmax(worst, fabs(tfc_test_get(t, i) - 1));
    CHECK(worst == 0);
}

static void test_tf_written_while_loop(void) {
    tfc_graph *g = import_file("while_loop.pb");
    CHECK_GRAPH_OK(g);
    CHECK(count_type(g, "While") == 1);
    CHECK(count_type(g, "Switch") == 0 && count_type(g, "Merge") == 0);
    CHECK(run1(g, "while/Exit", NULL, NULL) == 10);
    tfc_tensor *t = tfc_test_eval(g, out(g, "while/Exit_1"), NULL, NULL, 0);
    check_ones(t, 2, (int64_t[]){2048, 2});
    tfc_tensor_free(t);
    tfc_graph_free(g);
}

static void test_tf_written_nested_loop(void) {
    tfc_graph *g = import_file("nested_loop.pb");
    CHECK_GRAPH_OK(g);
    CHECK(count_type(g, "While") == 1); /* the inner one is in the outer body */
    CHECK(run1(g, "while/Exit", NULL, NULL) == 3);
    tfc_tensor *t = tfc_test_eval(g, out(g, "while/Exit_1"), NULL, NULL, 0);
    check_ones(t, 3, (int64_t[]){8, 1, 1});
    tfc_tensor_free(t);
    tfc_graph_free(g);
}

static void test_tf_written_cond(void) {
    tfc_graph *g = import_file("merge_without_loops.pb");
    CHECK_GRAPH_OK(g);
    CHECK(count_type(g, "If") == 1);
    CHECK(count_type(g, "Switch") == 0);
    tfc_tensor *m = tfc_test_eval(g, out(g, "cond/Merge"), NULL, NULL, 0);
    check_ones(m, 3, (int64_t[]){1, 2, 1}); /* 7 < 5 is false: concat on axis 1 */
    tfc_tensor *t = tfc_test_eval(g, out(g, "concat"), NULL, NULL, 0);
    check_ones(t, 3, (int64_t[]){1, 2, 2});
    tfc_tensor_free(m);
    tfc_tensor_free(t);
    tfc_graph_free(g);
}

/* ---- loops written here ---- */

/* s = 0; i = 1; while i <= n: s += i; i += 1 (n fed, entering as a
 * loop invariant) */
static void write_sum(gdb *b) {
    const char *F = "sum/while_context";
    placeholder(b, "n", TFC_INT32);
    cnst(b, "i0", TFC_INT32, 1, NULL);
    cnst(b, "s0", TFC_INT32, 0, NULL);
    loop_var(b, "sum", 0, "i0", TFC_INT32, F);
    loop_var(b, "sum", 1, "s0", TFC_INT32, F);
    const char *n = loop_invariant(b, "sum", "LessEqual", "n", TFC_INT32, F);
    loop_cond(b, "sum", op2(b, "sum/LessEqual", "LessEqual", TFC_INT32, "sum/Merge_0", n));
    const char *one = cnst(b, "sum/add/y", TFC_INT32, 1, "^sum/Identity_0");
    loop_next(b, "sum", 0, op2(b, "sum/add", "Add", TFC_INT32, "sum/Identity_0", one), TFC_INT32);
    loop_next(b, "sum", 1,
              op2(b, "sum/add_1", "Add", TFC_INT32, "sum/Identity_1", "sum/Identity_0"), TFC_INT32);
}

static void test_sum_one_to_n(void) {
    gdb b = {0};
    char err[600];
    write_sum(&b);
    tfc_graph *g = import_gdb(&b, err, sizeof err);
    CHECK_MSG(g != NULL, "%s", err);
    if (!g) return;
    CHECK(count_type(g, "While") == 1);
    CHECK(run1(g, "sum/Exit_1", "n", tfc_tensor_scalar_int32(10)) == 55);
    CHECK(run1(g, "sum/Exit_1", "n", tfc_tensor_scalar_int32(100)) == 5050);
    CHECK(run1(g, "sum/Exit_1", "n", tfc_tensor_scalar_int32(0)) == 0);
    CHECK(run1(g, "sum/Exit_0", "n", tfc_tensor_scalar_int32(7)) == 8);
    tfc_graph_free(g);
}

/* two counters: i += 1, j += 2 while i < 5; Merge inputs in TF1's order
 * written either way */
static void test_two_counters(void) {
    gdb b = {0};
    char err[600];
    const char *F = "c/while_context";
    cnst(&b, "zero", TFC_INT32, 0, NULL);
    cnst(&b, "ten", TFC_INT32, 10, NULL);
    loop_var(&b, "c", 0, "zero", TFC_INT32, F);
    loop_var(&b, "c", 1, "ten", TFC_INT32, F);
    /* Merge(NextIteration, Enter) is fine too */
    Tensorflow__NodeDef *m = &b.nodes[b.n - 4];
    CHECK(!strcmp(m->name, "c/Merge_1"));
    char *t = m->input[0];
    m->input[0] = m->input[1];
    m->input[1] = t;
    const char *five = cnst(&b, "c/Less/y", TFC_INT32, 5, "^c/Merge_0");
    loop_cond(&b, "c", op2(&b, "c/Less", "Less", TFC_INT32, "c/Merge_0", five));
    const char *one = cnst(&b, "c/add/y", TFC_INT32, 1, "^c/Identity_0");
    const char *two = cnst(&b, "c/add_1/y", TFC_INT32, 2, "^c/Identity_0");
    loop_next(&b, "c", 0, op2(&b, "c/add", "Add", TFC_INT32, "c/Identity_0", one), TFC_INT32);
    loop_next(&b, "c", 1, op2(&b, "c/add_1", "Add", TFC_INT32, "c/Identity_1", two), TFC_INT32);
    tfc_graph *g = import_gdb(&b, err, sizeof err);
    CHECK_MSG(g != NULL, "%s", err);
    if (!g) return;
    CHECK(run1(g, "c/Exit_0", NULL, NULL) == 5);
    CHECK(run1(g, "c/Exit_1", NULL, NULL) == 20);
    tfc_graph_free(g);
}

/* acc = 0; for i in range(3): for j in range(4): acc += i + 1 (the inner
 * loop reads the outer loop's i as a loop invariant) -> 4 * (1 + 2 + 3) */
static void test_nested_loops(void) {
    gdb b = {0};
    char err[600];
    const char *F = "outer/while_context", *G = "outer/inner/while_context";
    cnst(&b, "zero", TFC_INT32, 0, NULL);
    loop_var(&b, "outer", 0, "zero", TFC_INT32, F);
    loop_var(&b, "outer", 1, "zero", TFC_INT32, F);
    loop_cond(&b, "outer",
              op2(&b, "outer/Less", "Less", TFC_INT32, "outer/Merge_0",
                  cnst(&b, "outer/Less/y", TFC_INT32, 3, "^outer/Merge_0")));
    /* the inner loop, written inside the outer body */
    const char *j0 = cnst(&b, "outer/inner/j0", TFC_INT32, 0, "^outer/Identity_0");
    loop_var(&b, "outer/inner", 0, j0, TFC_INT32, G);
    loop_var(&b, "outer/inner", 1, "outer/Identity_1", TFC_INT32, G);
    const char *i_in = loop_invariant(&b, "outer/inner", "add", "outer/Identity_0", TFC_INT32, G);
    loop_cond(&b, "outer/inner",
              op2(&b, "outer/inner/Less", "Less", TFC_INT32, "outer/inner/Merge_0",
                  cnst(&b, "outer/inner/Less/y", TFC_INT32, 4, "^outer/inner/Merge_0")));
    const char *one = cnst(&b, "outer/inner/one", TFC_INT32, 1, "^outer/inner/Identity_0");
    loop_next(&b, "outer/inner", 0,
              op2(&b, "outer/inner/add_j", "Add", TFC_INT32, "outer/inner/Identity_0", one),
              TFC_INT32);
    const char *ip1 = op2(&b, "outer/inner/add", "Add", TFC_INT32, i_in, one);
    loop_next(&b, "outer/inner", 1,
              op2(&b, "outer/inner/add_acc", "Add", TFC_INT32, "outer/inner/Identity_1", ip1),
              TFC_INT32);
    const char *one_o = cnst(&b, "outer/one", TFC_INT32, 1, "^outer/Identity_0");
    loop_next(&b, "outer", 0, op2(&b, "outer/add_i", "Add", TFC_INT32, "outer/Identity_0", one_o),
              TFC_INT32);
    loop_next(&b, "outer", 1, "outer/inner/Exit_1", TFC_INT32);
    tfc_graph *g = import_gdb(&b, err, sizeof err);
    CHECK_MSG(g != NULL, "%s", err);
    if (!g) return;
    CHECK(count_type(g, "While") == 1);
    CHECK(run1(g, "outer/Exit_1", NULL, NULL) == 24);
    CHECK(run1(g, "outer/Exit_0", NULL, NULL) == 3);
    tfc_graph_free(g);
}

/* x = 0; for i in range(6): x += cond(i < 3, 10, 1) -> 33, the cond
 * written inside the loop body */
static void test_cond_in_loop(void) {
    gdb b = {0};
    char err[600];
    const char *F = "w/while_context";
    cnst(&b, "zero", TFC_INT32, 0, NULL);
    loop_var(&b, "w", 0, "zero", TFC_INT32, F);
    loop_var(&b, "w", 1, "zero", TFC_INT32, F);
    loop_cond(&b, "w",
              op2(&b, "w/Less", "Less", TFC_INT32, "w/Merge_0",
                  cnst(&b, "w/Less/y", TFC_INT32, 6, "^w/Merge_0")));
    const char *p = op2(&b, "w/p", "Less", TFC_INT32, "w/Identity_0",
                        cnst(&b, "w/p/y", TFC_INT32, 3, "^w/Identity_0"));
    cond_begin(&b, "w/cond", p);
    const char *xt = cond_in(&b, "w/cond", 1, "w/Identity_1", TFC_INT32, 1);
    const char *xf = cond_in(&b, "w/cond", 1, "w/Identity_1", TFC_INT32, 0);
    const char *t = op2(&b, "w/cond/add", "Add", TFC_INT32, xt,
                        cnst(&b, "w/cond/ten", TFC_INT32, 10, "^w/cond/switch_t"));
    const char *f = op2(&b, "w/cond/add_1", "Add", TFC_INT32, xf,
                        cnst(&b, "w/cond/one", TFC_INT32, 1, "^w/cond/switch_f"));
    cond_merge(&b, "w/cond", 0, f, t, TFC_INT32);
    const char *one = cnst(&b, "w/one", TFC_INT32, 1, "^w/Identity_0");
    loop_next(&b, "w", 0, op2(&b, "w/add", "Add", TFC_INT32, "w/Identity_0", one), TFC_INT32);
    loop_next(&b, "w", 1, "w/cond/Merge_0", TFC_INT32);
    tfc_graph *g = import_gdb(&b, err, sizeof err);
    CHECK_MSG(g != NULL, "%s", err);
    if (!g) return;
    CHECK(run1(g, "w/Exit_1", NULL, NULL) == 33);
    tfc_graph_free(g);
}

/* cond(x > 0, cond(x > 5, x * 2, x + 1), -x), x fed */
static void write_cond_of_cond(gdb *b) {
    placeholder(b, "x", TFC_INT32);
    cnst(b, "zero", TFC_INT32, 0, NULL);
    cond_begin(b, "c", op2(b, "Greater", "Greater", TFC_INT32, "x", "zero"));
    const char *xt = cond_in(b, "c", 1, "x", TFC_INT32, 1);
    const char *xf = cond_in(b, "c", 1, "x", TFC_INT32, 0);
    /* the inner cond, inside the true branch */
    const char *p2 = op2(b, "c/Greater", "Greater", TFC_INT32, xt,
                         cnst(b, "c/five", TFC_INT32, 5, "^c/switch_t"));
    cond_begin(b, "c/c", p2);
    const char *yt = cond_in(b, "c/c", 1, xt, TFC_INT32, 1);
    const char *yf = cond_in(b, "c/c", 1, xt, TFC_INT32, 0);
    const char *t2 =
        op2(b, "c/c/mul", "Mul", TFC_INT32, yt, cnst(b, "c/c/two", TFC_INT32, 2, "^c/c/switch_t"));
    const char *f2 =
        op2(b, "c/c/add", "Add", TFC_INT32, yf, cnst(b, "c/c/one", TFC_INT32, 1, "^c/c/switch_f"));
    cond_merge(b, "c/c", 0, t2, f2, TFC_INT32);
    cond_merge(b, "c", 0, op2(b, "c/Neg", "Neg", TFC_INT32, xf, NULL), "c/c/Merge_0", TFC_INT32);
    op2(b, "result", "Identity", TFC_INT32, "c/Merge_0", NULL);
}

static void test_cond_of_cond(void) {
    gdb b = {0};
    char err[600];
    write_cond_of_cond(&b);
    tfc_graph *g = import_gdb(&b, err, sizeof err);
    CHECK_MSG(g != NULL, "%s", err);
    if (!g) return;
    CHECK(count_type(g, "If") == 1);
    CHECK(run1(g, "result", "x", tfc_tensor_scalar_int32(7)) == 14);
    CHECK(run1(g, "result", "x", tfc_tensor_scalar_int32(3)) == 4);
    CHECK(run1(g, "result", "x", tfc_tensor_scalar_int32(-2)) == 2);
    tfc_graph_free(g);
}

/* cond(p, while i < 3: x *= 2, x + 100), p and x fed; the loop sits in the
 * true branch and reads x through the cond's Switch */
static void test_while_in_cond(void) {
    gdb b = {0};
    char err[600];
    const char *F = "c/w/while_context";
    placeholder(&b, "p", TFC_BOOL);
    placeholder(&b, "x", TFC_INT32);
    cond_begin(&b, "c", "p");
    const char *xt = cond_in(&b, "c", 1, "x", TFC_INT32, 1);
    const char *xf = cond_in(&b, "c", 1, "x", TFC_INT32, 0);
    loop_var(&b, "c/w", 0, cnst(&b, "c/w/i0", TFC_INT32, 0, "^c/switch_t"), TFC_INT32, F);
    loop_var(&b, "c/w", 1, xt, TFC_INT32, F);
    loop_cond(&b, "c/w",
              op2(&b, "c/w/Less", "Less", TFC_INT32, "c/w/Merge_0",
                  cnst(&b, "c/w/three", TFC_INT32, 3, "^c/w/Merge_0")));
    const char *one = cnst(&b, "c/w/one", TFC_INT32, 1, "^c/w/Identity_0");
    loop_next(&b, "c/w", 0, op2(&b, "c/w/add", "Add", TFC_INT32, "c/w/Identity_0", one), TFC_INT32);
    loop_next(&b, "c/w", 1,
              op2(&b, "c/w/mul", "Add", TFC_INT32, "c/w/Identity_1", "c/w/Identity_1"), TFC_INT32);
    const char *f = op2(&b, "c/add", "Add", TFC_INT32, xf,
                        cnst(&b, "c/hundred", TFC_INT32, 100, "^c/switch_f"));
    cond_merge(&b, "c", 0, f, "c/w/Exit_1", TFC_INT32);
    tfc_graph *g = import_gdb(&b, err, sizeof err);
    CHECK_MSG(g != NULL, "%s", err);
    if (!g) return;
    tfc_output feeds[2] = {out(g, "p"), out(g, "x")};
    for (int p = 0; p < 2; p++) {
        tfc_tensor *vals[2] = {tfc_tensor_scalar_bool(p), tfc_tensor_scalar_int32(5)};
        tfc_tensor *r = tfc_test_eval(g, out(g, "c/Merge_0"), feeds, vals, 2);
        CHECK_MSG(r && tfc_test_get(r, 0) == (p ? 40 : 105), "p=%d: %g", p,
                  r ? tfc_test_get(r, 0) : NAN);
        tfc_tensor_free(r);
        tfc_tensor_free(vals[0]);
        tfc_tensor_free(vals[1]);
    }
    tfc_graph_free(g);
}

/* A Merge with control inputs: one from outside the cond (moved to the If)
 * and one from inside a branch (kept with that branch's output); a branch
 * that returns an outer value straight through its Switch. */
static void test_merge_control_inputs(void) {
    gdb b = {0};
    char err[600];
    placeholder(&b, "p", TFC_BOOL);
    placeholder(&b, "x", TFC_INT32);
    node(&b, "outside", "NoOp", NULL);
    cond_begin(&b, "c", "p");
    const char *xt = cond_in(&b, "c", 1, "x", TFC_INT32, 1);
    const char *xf = cond_in(&b, "c", 1, "x", TFC_INT32, 0);
    const char *t = op2(&b, "c/sq", "Mul", TFC_INT32, xt, xt);
    node(&b, "c/side", "NoOp", "^c/switch_t", NULL);
    Tensorflow__NodeDef *m = node(&b, "c/Merge", "Merge", t, xf, "^outside", "^c/side", NULL);
    attr_int(&b, m, "N", 2);
    attr_type(&b, m, "T", TFC_INT32);
    tfc_graph *g = import_gdb(&b, err, sizeof err);
    CHECK_MSG(g != NULL, "%s", err);
    if (!g) return;
    tfc_output feeds[2] = {out(g, "p"), out(g, "x")};
    for (int p = 0; p < 2; p++) {
        tfc_tensor *vals[2] = {tfc_tensor_scalar_bool(p), tfc_tensor_scalar_int32(6)};
        tfc_tensor *r = tfc_test_eval(g, out(g, "c/Merge"), feeds, vals, 2);
        CHECK(r && tfc_test_get(r, 0) == (p ? 36 : 6));
        tfc_tensor_free(r);
        tfc_tensor_free(vals[0]);
        tfc_tensor_free(vals[1]);
    }
    /* the If waits for "outside" */
    tfc_node *n = tfc_graph_node_by_name(g, "c/If");
    CHECK(n && !strcmp(tfc_node_type(n), "If"));
    tfc_graph_free(g);
}

/* ---- gradients through converted control flow ---- */

/* v = v0; for i in range(3): v = v * x + sin-free polynomial term:
 * v = v * x + x (x a loop invariant) */
static void test_gradient_through_loop(void) {
    gdb b = {0};
    char err[600];
    const char *F = "pw/while_context";
    placeholder(&b, "x", TFC_DOUBLE);
    placeholder(&b, "v0", TFC_DOUBLE);
    cnst(&b, "i0", TFC_INT32, 0, NULL);
    loop_var(&b, "pw", 0, "i0", TFC_INT32, F);
    loop_var(&b, "pw", 1, "v0", TFC_DOUBLE, F);
    const char *x = loop_invariant(&b, "pw", "mul", "x", TFC_DOUBLE, F);
    loop_cond(&b, "pw",
              op2(&b, "pw/Less", "Less", TFC_INT32, "pw/Merge_0",
                  cnst(&b, "pw/Less/y", TFC_INT32, 3, "^pw/Merge_0")));
    const char *one = cnst(&b, "pw/one", TFC_INT32, 1, "^pw/Identity_0");
    loop_next(&b, "pw", 0, op2(&b, "pw/add_i", "Add", TFC_INT32, "pw/Identity_0", one), TFC_INT32);
    const char *vx = op2(&b, "pw/mul", "Mul", TFC_DOUBLE, "pw/Identity_1", x);
    loop_next(&b, "pw", 1, op2(&b, "pw/add", "Add", TFC_DOUBLE, vx, x), TFC_DOUBLE);
    tfc_graph *g = import_gdb(&b, err, sizeof err);
    CHECK_MSG(g != NULL, "%s", err);
    if (!g) return;
    /* v3 = v0 x^3 + x^3 + x^2 + x */
    tfc_output xs[2] = {out(g, "x"), out(g, "v0")};
    tfc_tensor *vals[2] = {tfc_tensor_scalar_double(1.3), tfc_tensor_scalar_double(-0.7)};
    tfc_tensor *r = tfc_test_eval(g, out(g, "pw/Exit_1"), xs, vals, 2);
    double xv = 1.3, want = -0.7 * xv * xv * xv + xv * xv * xv + xv * xv + xv;
    CHECK(r && fabs(tfc_test_get(r, 0) - want) < 1e-12);
    tfc_tensor_free(r);
    double e = tfc_test_gradcheck(g, out(g, "pw/Exit_1"), xs, vals, 2);
    CHECK_MSG(e < TFC_GRAD_TOL, "gradient error %g", e);
    tfc_tensor_free(vals[0]);
    tfc_tensor_free(vals[1]);
    tfc_graph_free(g);
}

/* y = cond(x > 0.5, x * x, 3 * x) for x on both sides */
static void test_gradient_through_cond(void) {
    gdb b = {0};
    char err[600];
    placeholder(&b, "x", TFC_DOUBLE);
    cond_begin(
        &b, "c",
        op2(&b, "Greater", "Greater", TFC_DOUBLE, "x", cnst(&b, "half", TFC_DOUBLE, 0.5, NULL)));
    const char *xt = cond_in(&b, "c", 1, "x", TFC_DOUBLE, 1);
    const char *xf = cond_in(&b, "c", 1, "x", TFC_DOUBLE, 0);
    const char *t = op2(&b, "c/sq", "Mul", TFC_DOUBLE, xt, xt);
    const char *f =
        op2(&b, "c/mul", "Mul", TFC_DOUBLE, xf, cnst(&b, "c/three", TFC_DOUBLE, 3, "^c/switch_f"));
    cond_merge(&b, "c", 0, f, t, TFC_DOUBLE);
    tfc_graph *g = import_gdb(&b, err, sizeof err);
    CHECK_MSG(g != NULL, "%s", err);
    if (!g) return;
    tfc_output x = out(g, "x");
    double pts[2] = {0.9, -0.4};
    for (int i = 0; i < 2; i++) {
        tfc_tensor *v = tfc_tensor_scalar_double(pts[i]);
        double e = tfc_test_gradcheck(g, out(g, "c/Merge_0"), &x, &v, 1);
        CHECK_MSG(e < TFC_GRAD_TOL, "x=%g: gradient error %g", pts[i], e);
        tfc_tensor_free(v);
    }
    tfc_graph_free(g);
}

/* v = x; for i in range(4): v = cond(i < 2, v * x, v + x) -> gradient
 * through an If inside a While */
static void test_gradient_cond_in_loop(void) {
    gdb b = {0};
    char err[600];
    const char *F = "w/while_context";
    placeholder(&b, "x", TFC_DOUBLE);
    cnst(&b, "i0", TFC_INT32, 0, NULL);
    loop_var(&b, "w", 0, "i0", TFC_INT32, F);
    loop_var(&b, "w", 1, "x", TFC_DOUBLE, F);
    const char *xin = loop_invariant(&b, "w", "x", "x", TFC_DOUBLE, F);
    loop_cond(&b, "w",
              op2(&b, "w/Less", "Less", TFC_INT32, "w/Merge_0",
                  cnst(&b, "w/Less/y", TFC_INT32, 4, "^w/Merge_0")));
    const char *p = op2(&b, "w/p", "Less", TFC_INT32, "w/Identity_0",
                        cnst(&b, "w/p/y", TFC_INT32, 2, "^w/Identity_0"));
    cond_begin(&b, "w/cond", p);
    const char *vt = cond_in(&b, "w/cond", 1, "w/Identity_1", TFC_DOUBLE, 1);
    const char *vf = cond_in(&b, "w/cond", 1, "w/Identity_1", TFC_DOUBLE, 0);
    const char *xt = cond_in(&b, "w/cond", 2, xin, TFC_DOUBLE, 1);
    const char *xf = cond_in(&b, "w/cond", 2, xin, TFC_DOUBLE, 0);
    cond_merge(&b, "w/cond", 0, op2(&b, "w/cond/add", "Add", TFC_DOUBLE, vf, xf),
               op2(&b, "w/cond/mul", "Mul", TFC_DOUBLE, vt, xt), TFC_DOUBLE);
    const char *one = cnst(&b, "w/one", TFC_INT32, 1, "^w/Identity_0");
    loop_next(&b, "w", 0, op2(&b, "w/add", "Add", TFC_INT32, "w/Identity_0", one), TFC_INT32);
    loop_next(&b, "w", 1, "w/cond/Merge_0", TFC_DOUBLE);
    tfc_graph *g = import_gdb(&b, err, sizeof err);
    CHECK_MSG(g != NULL, "%s", err);
    if (!g) return;
    tfc_output x = out(g, "x");
    tfc_tensor *v = tfc_tensor_scalar_double(1.7);
    /* x^3 + 2x */
    CHECK_NEAR(run1(g, "w/Exit_1", "x", tfc_tensor_scalar_double(1.7)), 1.7 * 1.7 * 1.7 + 2 * 1.7,
               1e-12);
    double e = tfc_test_gradcheck(g, out(g, "w/Exit_1"), &x, &v, 1);
    CHECK_MSG(e < TFC_GRAD_TOL, "gradient error %g", e);
    tfc_tensor_free(v);
    tfc_graph_free(g);
}

/* v = x; for i in range(2): for j in range(2): v = v * x  -> x^5, the
 * gradient through a While nested in a While's body */
static void test_gradient_nested_loops(void) {
    gdb b = {0};
    char err[600];
    const char *F = "o/while_context", *G = "o/in/while_context";
    placeholder(&b, "x", TFC_DOUBLE);
    cnst(&b, "zero", TFC_INT32, 0, NULL);
    loop_var(&b, "o", 0, "zero", TFC_INT32, F);
    loop_var(&b, "o", 1, "x", TFC_DOUBLE, F);
    const char *xo = loop_invariant(&b, "o", "x", "x", TFC_DOUBLE, F);
    loop_cond(&b, "o",
              op2(&b, "o/Less", "Less", TFC_INT32, "o/Merge_0",
                  cnst(&b, "o/Less/y", TFC_INT32, 2, "^o/Merge_0")));
    loop_var(&b, "o/in", 0, cnst(&b, "o/in/j0", TFC_INT32, 0, "^o/Identity_0"), TFC_INT32, G);
    loop_var(&b, "o/in", 1, "o/Identity_1", TFC_DOUBLE, G);
    const char *xi = loop_invariant(&b, "o/in", "x", xo, TFC_DOUBLE, G);
    loop_cond(&b, "o/in",
              op2(&b, "o/in/Less", "Less", TFC_INT32, "o/in/Merge_0",
                  cnst(&b, "o/in/Less/y", TFC_INT32, 2, "^o/in/Merge_0")));
    const char *one = cnst(&b, "o/in/one", TFC_INT32, 1, "^o/in/Identity_0");
    loop_next(&b, "o/in", 0, op2(&b, "o/in/add", "Add", TFC_INT32, "o/in/Identity_0", one),
              TFC_INT32);
    loop_next(&b, "o/in", 1, op2(&b, "o/in/mul", "Mul", TFC_DOUBLE, "o/in/Identity_1", xi),
              TFC_DOUBLE);
    const char *one_o = cnst(&b, "o/one", TFC_INT32, 1, "^o/Identity_0");
    loop_next(&b, "o", 0, op2(&b, "o/add", "Add", TFC_INT32, "o/Identity_0", one_o), TFC_INT32);
    loop_next(&b, "o", 1, "o/in/Exit_1", TFC_DOUBLE);
    tfc_graph *g = import_gdb(&b, err, sizeof err);
    CHECK_MSG(g != NULL, "%s", err);
    if (!g) return;
    CHECK_NEAR(run1(g, "o/Exit_1", "x", tfc_tensor_scalar_double(1.1)), pow(1.1, 5), 1e-12);
    tfc_output x = out(g, "x");
    tfc_tensor *v = tfc_tensor_scalar_double(1.1);
    double e = tfc_test_gradcheck(g, out(g, "o/Exit_1"), &x, &v, 1);
    CHECK_MSG(e < TFC_GRAD_TOL, "gradient error %g", e);
    tfc_tensor_free(v);
    tfc_graph_free(g);
}

/* ---- what cannot be converted fails with a message ---- */

static void expect_error(gdb *b, const char *sub1, const char *sub2) {
    char err[600];
    tfc_graph *g = import_gdb(b, err, sizeof err);
    CHECK_MSG(g == NULL, "imported, expected an error about '%s'", sub1);
    tfc_graph_free(g);
    CHECK_CONTAINS(err, sub1);
    if (sub2) CHECK_CONTAINS(err, sub2);
}

/* TF1's own gradient of a cond is a second cond on the same predicate whose
 * branches read the forward branches: not converted, and the message says
 * what to do instead */
static void test_tf1_written_cond_gradient(void) {
    gdb b = {0};
    placeholder(&b, "p", TFC_BOOL);
    placeholder(&b, "x", TFC_DOUBLE);
    cond_begin(&b, "c", "p");
    const char *xt = cond_in(&b, "c", 1, "x", TFC_DOUBLE, 1);
    const char *xf = cond_in(&b, "c", 1, "x", TFC_DOUBLE, 0);
    cond_merge(&b, "c", 0, op2(&b, "c/neg", "Neg", TFC_DOUBLE, xf, NULL),
               op2(&b, "c/sq", "Mul", TFC_DOUBLE, xt, xt), TFC_DOUBLE);
    /* gradients/c/Merge_grad/cond_grad = Switch(dy, pred_id), dy from the output */
    const char *dy = op2(&b, "gradients/dy", "Identity", TFC_DOUBLE, "c/Merge_0", NULL);
    op2(&b, "gradients/c/Merge_grad/cond_grad", "Switch", TFC_DOUBLE, dy, "c/pred_id");
    const char *gt = op2(&b, "gradients/c/sq_grad/Mul", "Mul", TFC_DOUBLE,
                         "gradients/c/Merge_grad/cond_grad:1", xt);
    const char *gf = op2(&b, "gradients/c/neg_grad/Neg", "Neg", TFC_DOUBLE,
                         "gradients/c/Merge_grad/cond_grad", NULL);
    cond_merge(&b, "gradients/c/Switch_1_grad", 0, gf, gt, TFC_DOUBLE);
    expect_error(&b, "depends on the cond's own Merge", "tfc_gradients");
}

static void test_merge_without_switch(void) {
    gdb b = {0};
    placeholder(&b, "a", TFC_INT32);
    placeholder(&b, "b", TFC_INT32);
    cond_merge(&b, "m", 0, "a", "b", TFC_INT32);
    expect_error(&b, "Merge 'm/Merge_0' does not join the two branches", "is in no cond");
}

static void test_exit_without_enter(void) {
    gdb b = {0};
    placeholder(&b, "a", TFC_INT32);
    op2(&b, "e", "Exit", TFC_INT32, "a", NULL);
    expect_error(&b, "Exit 'e' is not inside a while loop", NULL);
}

static void test_mismatched_frames(void) {
    gdb b = {0};
    write_sum(&b);
    /* a second Enter of frame sum/while_context, from inside another frame */
    Tensorflow__NodeDef *e = node(&b, "other/Enter", "Enter", "sum/Identity_0", NULL);
    attr_type(&b, e, "T", TFC_INT32);
    attr_str(&b, e, "frame_name", "other/while_context");
    attr_bool(&b, e, "is_constant", 1);
    Tensorflow__NodeDef *e2 = node(&b, "bad/Enter", "Enter", "other/Enter", NULL);
    attr_type(&b, e2, "T", TFC_INT32);
    attr_str(&b, e2, "frame_name", "sum/while_context");
    attr_bool(&b, e2, "is_constant", 1);
    expect_error(&b, "mismatched frames", "sum/while_context");
}

static void test_cycle_without_next_iteration(void) {
    gdb b = {0};
    write_sum(&b);
    op2(&b, "a", "Add", TFC_INT32, "b", "n");
    op2(&b, "b", "Add", TFC_INT32, "a", "n");
    expect_error(&b, "does not pass through a NextIteration", NULL);
}

static void test_loop_without_loopcond(void) {
    gdb b = {0};
    const char *F = "w/ctx";
    cnst(&b, "zero", TFC_INT32, 0, NULL);
    loop_var(&b, "w", 0, "zero", TFC_INT32, F);
    loop_next(&b, "w", 0, "w/Identity_0", TFC_INT32);
    expect_error(&b, "while frame 'w/ctx' has no LoopCond", NULL);
}

static void test_merge_value_index(void) {
    gdb b = {0};
    placeholder(&b, "p", TFC_BOOL);
    placeholder(&b, "x", TFC_INT32);
    cond_begin(&b, "c", "p");
    cond_merge(&b, "c", 0, cond_in(&b, "c", 1, "x", TFC_INT32, 0),
               cond_in(&b, "c", 1, "x", TFC_INT32, 1), TFC_INT32);
    op2(&b, "idx", "Identity", TFC_INT32, "c/Merge_0:1", NULL);
    expect_error(&b, "value_index of Merge 'c/Merge_0'", NULL);
}

static void test_branches_mixed(void) {
    gdb b = {0};
    placeholder(&b, "p", TFC_BOOL);
    placeholder(&b, "x", TFC_INT32);
    cond_begin(&b, "c", "p");
    /* reads both branches at once: no cond joins them */
    op2(&b, "bad", "Add", TFC_INT32, cond_in(&b, "c", 1, "x", TFC_INT32, 0),
        cond_in(&b, "c", 1, "x", TFC_INT32, 1));
    expect_error(&b, "node 'bad' reads values from the false branch", "true branch");
}

/* ---- the fuzz harness's generator on fixed programs ---- */

static tfc_graph *import_bytes(const uint8_t *bytes, size_t len, char *err, size_t cap) {
    tfc_graph *g = tfc_graph_new();
    tfc_status *st = tfc_status_new();
    err[0] = 0;
    if (tfc_graph_import_graphdef(g, bytes, len, NULL, NULL, NULL, 0, st)) {
        snprintf(err, cap, "%s", tfc_status_message(st));
        tfc_graph_free(g);
        g = NULL;
    }
    tfc_status_free(st);
    return g;
}

/* Every shape of well-formed loop the generator writes (plain, nested loop,
 * cond in the body; inside a cond or not; limits 3..5) imports and gives
 * the value computed here. */
static void test_generated_loops_run(void) {
    for (unsigned shape = 0; shape < 32; shape++) {
        uint8_t prog[3] = {1, (uint8_t)shape, 0};
        uint8_t *bytes;
        size_t len;
        int must;
        char err[600];
        cfg_generate(prog, sizeof prog, &bytes, &len, &must);
        CHECK(must);
        tfc_graph *g = import_bytes(bytes, len, err, sizeof err);
        free(bytes);
        CHECK_MSG(g != NULL, "shape %u: %s", shape, err);
        if (!g) continue;
        int limit = 3 + (int)(shape % 3), inner = (shape >> 3) & 1, cond = (shape >> 4) & 1;
        int around = (shape >> 2) & 1, want = 0;
        for (int i = 0; i < limit; i++) want += inner ? 1 : cond ? (i < 2 ? i : 1) : i;
        if (!around) {
            CHECK_MSG(run1(g, "w/Exit_1", NULL, NULL) == want, "shape %u", shape);
        } else {
            for (int p = 0; p < 2; p++)
                CHECK_MSG(run1(g, "c/Merge", "p", tfc_tensor_scalar_bool(p)) == (p ? want : 0),
                          "shape %u, p %d", shape, p);
        }
        tfc_graph_free(g);
    }
}

/* Random programs (random graphs, corrupted loops): an error with a
 * message or an import, never a crash; uncorrupted loops always import.
 * Under AddressSanitizer this is the fuzz harness on fixed inputs. */
static void test_generated_random_graphs(void) {
    uint64_t r = 0x9E3779B97F4A7C15ull;
    int imported = 0, failed = 0;
    for (int it = 0; it < 3000; it++) {
        uint8_t prog[160];
        size_t n = 1 + (size_t)(it % 159);
        for (size_t i = 0; i < n; i++) {
            r ^= r << 13;
            r ^= r >> 7;
            r ^= r << 17;
            prog[i] = (uint8_t)(r >> 24);
        }
        uint8_t *bytes;
        size_t len;
        int must;
        char err[600];
        cfg_generate(prog, n, &bytes, &len, &must);
        tfc_graph *g = import_bytes(bytes, len, err, sizeof err);
        free(bytes);
        if (g)
            imported++;
        else
            failed++;
        CHECK_MSG(g || err[0], "program %d: an error without a message", it);
        CHECK_MSG(g || !must, "program %d: a well-formed loop did not import: %s", it, err);
        tfc_graph_free(g);
    }
    CHECK(imported > 0 && failed > 0);
}

TFC_TEST_MAIN(T(test_tf_written_while_loop), T(test_tf_written_nested_loop),
              T(test_tf_written_cond), T(test_sum_one_to_n), T(test_two_counters),
              T(test_nested_loops), T(test_cond_in_loop), T(test_cond_of_cond),
              T(test_while_in_cond), T(test_merge_control_inputs), T(test_gradient_through_loop),
              T(test_gradient_through_cond), T(test_gradient_cond_in_loop),
              T(test_gradient_nested_loops), T(test_tf1_written_cond_gradient),
              T(test_merge_without_switch), T(test_exit_without_enter), T(test_mismatched_frames),
              T(test_cycle_without_next_iteration), T(test_loop_without_loopcond),
              T(test_merge_value_index), T(test_branches_mixed), T(test_generated_loops_run),
              T(test_generated_random_graphs))
