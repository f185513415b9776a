/* GraphDefs with a function library: graphs using cond, nested while loops
 * and a function called twice are exported (GraphDef and MetaGraph),
 * imported into fresh graphs and run on the same feeds as the original,
 * gradients included (those written in the file and new ones built on the
 * imported graph); the wire form follows TensorFlow (func attrs, body
 * inputs "node:out_arg:index"); a hand-written TensorFlow-style library
 * imports; malformed libraries give errors naming what is wrong. */
#include "formats/pb.h"
#include "graph/function.h"
#include "harness.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* ---- running an original and its imported copy side by side ---- */

static tfc_output twin(tfc_graph *h, tfc_output o) {
    tfc_node *n = tfc_graph_node_by_name(h, tfc_node_name(o.node));
    CHECK_MSG(n != NULL, "no node '%s' after import", tfc_node_name(o.node));
    return (tfc_output){n, o.index};
}

static void run_all(tfc_graph *g, const tfc_output *feeds, tfc_tensor *const *vals, int nfeed,
                    const tfc_output *fetch, int nfetch, tfc_tensor **out) {
    tfc_status *st = tfc_status_new();
    tfc_session *s = tfc_session_new(g, NULL, st);
    tfc_session_run(s, feeds, vals, nfeed, fetch, nfetch, out, NULL, 0, st);
    CHECK_STATUS_OK(st);
    tfc_session_free(s);
    tfc_status_free(st);
}

/* Runs `fetch` in g and h (the twins of feeds and fetches) and compares. */
static void compare(tfc_graph *g, tfc_graph *h, const tfc_output *feeds, tfc_tensor *const *vals,
                    int nfeed, const tfc_output *fetch, const tfc_output *hfetch, int nfetch) {
    tfc_output hfeeds[8];
    tfc_tensor *a[16] = {0}, *b[16] = {0};
    for (int i = 0; i < nfeed; i++) hfeeds[i] = twin(h, feeds[i]);
    run_all(g, feeds, vals, nfeed, fetch, nfetch, a);
    run_all(h, hfeeds, vals, nfeed, hfetch, nfetch, b);
    for (int i = 0; i < nfetch; i++) {
        CHECK_MSG(a[i] && b[i], "fetch %d", i);
        if (a[i] && b[i]) {
            CHECK(tfc_tensor_num_elements(a[i]) == tfc_tensor_num_elements(b[i]));
            CHECK_MSG(tfc_test_max_diff(a[i], b[i]) < 1e-12, "fetch %d ('%s') differs by %g", i,
                      tfc_node_name(fetch[i].node), tfc_test_max_diff(a[i], b[i]));
        }
        tfc_tensor_free(a[i]);
        tfc_tensor_free(b[i]);
    }
}

static tfc_graph *import_bytes(const uint8_t *bytes, size_t len) {
    tfc_graph *h = tfc_graph_new();
    tfc_status *st = tfc_status_new();
    CHECK(tfc_graph_import_graphdef(h, bytes, len, NULL, NULL, NULL, 0, st) == 0);
    CHECK_STATUS_OK(st);
    CHECK_GRAPH_OK(h);
    tfc_status_free(st);
    return h;
}

/* Exports g, imports it and compares `fetch` (forward values and the
 * gradients already in g) on the feeds; then builds d loss / d feeds[0..nx)
 * afresh on the imported graph and compares it with `grads` of g. Imports
 * the import's own export again. The caller frees the returned bytes. */
static uint8_t *round_trip(tfc_graph *g, const tfc_output *feeds, tfc_tensor *const *vals,
                           int nfeed, int nx, const tfc_output *fetch, int nfetch, tfc_output loss,
                           const tfc_output *grads, size_t *len) {
    uint8_t *bytes = NULL;
    tfc_status *st = tfc_status_new();
    CHECK(tfc_graph_to_graphdef(g, &bytes, len, st) == 0);
    CHECK_STATUS_OK(st);
    tfc_status_free(st);
    if (!bytes) return NULL;
    tfc_graph *h = import_bytes(bytes, *len);
    tfc_output hfetch[16], hx[8], hgrads[8];
    for (int i = 0; i < nfetch; i++) hfetch[i] = twin(h, fetch[i]);
    compare(g, h, feeds, vals, nfeed, fetch, hfetch, nfetch);
    /* gradients of the imported control flow */
    for (int i = 0; i < nx; i++) hx[i] = twin(h, feeds[i]);
    tfc_output hloss = twin(h, loss);
    CHECK(tfc_gradients(h, &hloss, 1, hx, nx, NULL, hgrads) == 0);
    CHECK_GRAPH_OK(h);
    compare(g, h, feeds, vals, nfeed, grads, hgrads, nx);
    /* and the imported graph exports and imports again */
    uint8_t *again = NULL;
    size_t len2;
    st = tfc_status_new();
    CHECK(tfc_graph_to_graphdef(h, &again, &len2, st) == 0);
    tfc_graph *h2 = again ? import_bytes(again, len2) : NULL;
    if (h2) {
        for (int i = 0; i < nfetch; i++) hfetch[i] = twin(h2, fetch[i]);
        compare(g, h2, feeds, vals, nfeed, fetch, hfetch, nfetch);
    }
    tfc_graph_free(h2);
    free(again);
    tfc_status_free(st);
    tfc_graph_free(h);
    return bytes;
}

static int contains(const uint8_t *p, size_t n, const void *what, size_t wn) {
    for (size_t i = 0; i + wn <= n; i++)
        if (!memcmp(p + i, what, wn)) return 1;
    return 0;
}
#define CONTAINS_STR(p, n, s) contains(p, n, s, strlen(s))

/* Some attr entry `key` holds a func: key, then the value (field 2,
 * one-byte length) whose AttrValue starts with field 10 (LEN): 0x52. */
static int attr_is_func(const uint8_t *p, size_t n, const char *key) {
    size_t kn = strlen(key);
    for (size_t i = 1; i + kn + 3 <= n; i++)
        if (p[i - 1] == kn && !memcmp(p + i, key, kn) && p[i + kn] == 0x12 && p[i + kn + 2] == 0x52)
            return 1;
    return 0;
}

/* ---- cond ---- */

typedef struct xy {
    tfc_output x, y;
} xy;

static int branch_mul(tfc_graph *b, const tfc_output *a, int n, void *u, tfc_output *outs) {
    (void)a, (void)n;
    xy *v = u;
    outs[0] = tfc_mul(b, v->x, tfc_tanh(b, v->y));
    outs[1] = tfc_reduce_sum(b, v->x, NULL, 0, 0);
    return 0;
}
static int branch_add(tfc_graph *b, const tfc_output *a, int n, void *u, tfc_output *outs) {
    (void)a, (void)n;
    xy *v = u;
    outs[0] = tfc_add(b, tfc_exp(b, v->x), v->y);
    outs[1] = tfc_reduce_max(b, v->y, NULL, 0, 0);
    return 0;
}

static void test_cond_round_trip(void) {
    int64_t d[] = {2, 3};
    tfc_graph *g = tfc_graph_new();
    xy v;
    tfc_output p = tfc_placeholder(g, "p", TFC_BOOL, 0, NULL);
    v.x = tfc_placeholder(g, "x", TFC_DOUBLE, 2, d);
    v.y = tfc_placeholder(g, "y", TFC_DOUBLE, 2, d);
    tfc_output outs[2], grads[2];
    tfc_cond(g, p, branch_mul, branch_add, &v, 2, outs);
    tfc_output loss = tfc_add(g, tfc_reduce_sum(g, tfc_square(g, outs[0]), NULL, 0, 0), outs[1]);
    tfc_output xs[] = {v.x, v.y};
    tfc_gradients(g, &loss, 1, xs, 2, NULL, grads);
    CHECK_GRAPH_OK(g);
    tfc_test_seed(5);
    for (int taken = 0; taken < 2; taken++) {
        tfc_output feeds[] = {v.x, v.y, p};
        tfc_tensor *vals[] = {tfc_test_random_tensor(TFC_DOUBLE, 2, d, -1, 1),
                              tfc_test_random_tensor(TFC_DOUBLE, 2, d, -1, 1),
                              tfc_tensor_scalar_bool(taken == 0)};
        tfc_output fetch[] = {outs[0], outs[1], loss, grads[0], grads[1]};
        size_t len = 0;
        uint8_t *bytes = round_trip(g, feeds, vals, 3, 2, fetch, 5, loss, grads, &len);
        if (bytes && taken == 0) {
            /* TensorFlow's form: branches as func attrs (AttrValue field 10),
             * a library (GraphDef field 2), body inputs "node:out_arg:i",
             * derived Tin/Tout, each argument's shape in arg_attr */
            CHECK(attr_is_func(bytes, len, "then_branch"));
            CHECK(attr_is_func(bytes, len, "else_branch"));
            CHECK(CONTAINS_STR(bytes, len, "Tin"));
            CHECK(CONTAINS_STR(bytes, len, "Tout"));
            CHECK(CONTAINS_STR(bytes, len, "cond_true_0"));
            CHECK(CONTAINS_STR(bytes, len, "Tanh:y:0"));
            CHECK(CONTAINS_STR(bytes, len, "Mul:z:0"));
            CHECK(CONTAINS_STR(bytes, len, "_output_shapes"));
        }
        free(bytes);
        for (int i = 0; i < 3; i++) tfc_tensor_free(vals[i]);
    }
    tfc_graph_free(g);
}

/* ---- nested while loops ---- */

typedef struct loops {
    tfc_output w; /* captured two levels down */
} loops;

static int j_less_4(tfc_graph *b, const tfc_output *a, int n, void *u, tfc_output *outs) {
    (void)n, (void)u;
    outs[0] = tfc_less(b, a[0], tfc_const_int32(b, 4));
    return 0;
}
static int inner_body(tfc_graph *b, const tfc_output *a, int n, void *u, tfc_output *outs) {
    (void)n;
    loops *l = u;
    outs[0] = tfc_add(b, a[0], tfc_const_int32(b, 1));
    outs[1] = tfc_tanh(b, tfc_mul(b, a[1], l->w));
    return 0;
}
static int i_less_3(tfc_graph *b, const tfc_output *a, int n, void *u, tfc_output *outs) {
    (void)n, (void)u;
    outs[0] = tfc_less(b, a[0], tfc_const_int32(b, 3));
    return 0;
}
static int outer_body(tfc_graph *b, const tfc_output *a, int n, void *u, tfc_output *outs) {
    (void)n;
    tfc_output vars[] = {tfc_const_int32(b, 0), a[1]}, inner[2];
    if (tfc_while_loop(b, j_less_4, inner_body, u, vars, 2, NULL, 4, inner)) return -1;
    outs[0] = tfc_add(b, a[0], tfc_const_int32(b, 1));
    outs[1] = tfc_add(b, inner[1], tfc_const_double(b, 0.25));
    return 0;
}

static void test_nested_while_round_trip(void) {
    int64_t d[] = {3};
    tfc_graph *g = tfc_graph_new();
    loops l;
    tfc_output x = tfc_placeholder(g, "x", TFC_DOUBLE, 1, d);
    l.w = tfc_placeholder(g, "w", TFC_DOUBLE, 1, d);
    tfc_output vars[] = {tfc_const_int32(g, 0), x}, outs[2], grads[2];
    tfc_while_loop(g, i_less_3, outer_body, &l, vars, 2, NULL, 10, outs);
    tfc_output loss = tfc_reduce_sum(g, tfc_square(g, outs[1]), NULL, 0, 0);
    tfc_output xs[] = {x, l.w};
    tfc_gradients(g, &loss, 1, xs, 2, NULL, grads);
    CHECK_GRAPH_OK(g);
    tfc_test_seed(8);
    tfc_tensor *vals[] = {tfc_test_random_tensor(TFC_DOUBLE, 1, d, -1, 1),
                          tfc_test_random_tensor(TFC_DOUBLE, 1, d, 0.5, 1.5)};
    tfc_output fetch[] = {outs[0], outs[1], loss, grads[0], grads[1]};
    size_t len = 0;
    uint8_t *bytes = round_trip(g, xs, vals, 2, 2, fetch, 5, loss, grads, &len);
    if (bytes) {
        /* a While body that captures is also written in TensorFlow's form */
        CHECK(CONTAINS_STR(bytes, len, "_tf"));
        CHECK(attr_is_func(bytes, len, "body"));
        CHECK(attr_is_func(bytes, len, "cond"));
        CHECK(CONTAINS_STR(bytes, len, "parallel_iterations"));
    }
    /* values by hand */
    tfc_tensor *r = tfc_test_eval(g, outs[1], xs, vals, 2);
    for (int k = 0; r && k < 3; k++) {
        double v = tfc_test_get(vals[0], k), w = tfc_test_get(vals[1], k);
        for (int i = 0; i < 3; i++) {
            for (int j = 0; j < 4; j++) v = tanh(v * w);
            v += 0.25;
        }
        CHECK_NEAR(tfc_test_get(r, k), v, 1e-12);
    }
    tfc_tensor_free(r);
    free(bytes);
    for (int i = 0; i < 2; i++) tfc_tensor_free(vals[i]);
    tfc_graph_free(g);
}

/* ---- a function called twice ---- */

static int affine_tanh(tfc_graph *b, const tfc_output *a, int n, void *u, tfc_output *outs) {
    (void)n;
    tfc_output c = *(tfc_output *)u; /* an outer constant, captured */
    outs[0] = tfc_tanh(b, tfc_add(b, tfc_mul(b, a[0], a[1]), c));
    outs[1] = tfc_reduce_sum(b, a[0], NULL, 0, 0);
    return 0;
}

static void test_function_called_twice(void) {
    int64_t d[] = {2, 3};
    tfc_graph *g = tfc_graph_new();
    tfc_test_seed(13);
    tfc_tensor *ct = tfc_test_random_tensor(TFC_DOUBLE, 2, d, -1, 1);
    tfc_output c = tfc_const(g, ct);
    tfc_dtype dts[] = {TFC_DOUBLE, TFC_DOUBLE};
    tfc_shape shapes[] = {{2, {2, 3}}, {0, {0}}};
    tfc_function *fn = tfc_function_define(g, "affine_tanh", 2, dts, shapes, 2, affine_tanh, &c);
    tfc_output x = tfc_placeholder(g, "x", TFC_DOUBLE, 2, d);
    tfc_output s = tfc_placeholder(g, "s", TFC_DOUBLE, 0, NULL);
    tfc_output in1[] = {x, s}, o1[2], o2[2], grads[2];
    tfc_function_call(g, fn, in1, 2, o1);
    tfc_output in2[] = {o1[0], tfc_mul(g, s, s)};
    tfc_function_call(g, fn, in2, 2, o2);
    tfc_output loss = tfc_add(g, tfc_reduce_sum(g, o2[0], NULL, 0, 0), tfc_mul(g, o1[1], o2[1]));
    tfc_output xs[] = {x, s};
    tfc_gradients(g, &loss, 1, xs, 2, NULL, grads);
    CHECK_GRAPH_OK(g);
    tfc_tensor *vals[] = {tfc_test_random_tensor(TFC_DOUBLE, 2, d, -1, 1),
                          tfc_tensor_scalar_double(0.7)};
    tfc_output fetch[] = {o1[0], o2[0], o2[1], loss, grads[0], grads[1]};
    size_t len = 0;
    uint8_t *bytes = round_trip(g, xs, vals, 2, 2, fetch, 6, loss, grads, &len);
    if (bytes) {
        CHECK(attr_is_func(bytes, len, "f"));
        tfc_graph *h = import_bytes(bytes, len);
        /* one function, both calls name it; its captured constant became
         * an argument the calls pass */
        const tfc_function *hf = tfc_function_find(h, "affine_tanh");
        CHECK(hf != NULL);
        if (hf) CHECK(hf->nargs == 3 && hf->nout == 2);
        CHECK(!strcmp(tfc_node_type(twin(h, o1[0]).node), "PartitionedCall"));
        CHECK(!strcmp(tfc_node_type(twin(h, o2[0]).node), "PartitionedCall"));
        /* importing the same file again renames its functions */
        tfc_status *st = tfc_status_new();
        CHECK(tfc_graph_import_graphdef(h, bytes, len, "again", NULL, NULL, 0, st) == 0);
        CHECK_STATUS_OK(st);
        tfc_node *call = tfc_graph_node_by_name(h, "again/PartitionedCall");
        CHECK(call != NULL);
        if (call) {
            const char *f = tfc_node_attr_string(call, "f");
            CHECK(f && strcmp(f, "affine_tanh") && !strncmp(f, "affine_tanh_", 12));
        }
        tfc_status_free(st);
        tfc_graph_free(h);
    }
    free(bytes);
    for (int i = 0; i < 2; i++) tfc_tensor_free(vals[i]);
    tfc_tensor_free(ct);
    tfc_graph_free(g);
}

/* ---- MetaGraph ---- */

static void test_meta_graph_with_cond(void) {
    int64_t d[] = {2, 3};
    tfc_graph *g = tfc_graph_new();
    xy v;
    tfc_output p = tfc_placeholder(g, "p", TFC_BOOL, 0, NULL);
    v.x = tfc_placeholder(g, "x", TFC_DOUBLE, 2, d);
    v.y = tfc_placeholder(g, "y", TFC_DOUBLE, 2, d);
    tfc_output outs[2];
    tfc_cond(g, p, branch_mul, branch_add, &v, 2, outs);
    CHECK_GRAPH_OK(g);
    char path[64];
    snprintf(path, sizeof path, "/tmp/tfc_fn_meta_%d.meta", (int)getpid());
    tfc_status *st = tfc_status_new();
    CHECK(tfc_export_meta_graph(g, NULL, path, st) == 0);
    CHECK_STATUS_OK(st);
    tfc_graph *h = tfc_graph_new();
    CHECK(tfc_import_meta_graph(h, path, st) == 0);
    CHECK_STATUS_OK(st);
    remove(path);
    tfc_output feeds[] = {v.x, v.y, p};
    tfc_tensor *vals[] = {tfc_test_random_tensor(TFC_DOUBLE, 2, d, -1, 1),
                          tfc_test_random_tensor(TFC_DOUBLE, 2, d, -1, 1),
                          tfc_tensor_scalar_bool(0)};
    tfc_output hfetch[] = {twin(h, outs[0]), twin(h, outs[1])};
    compare(g, h, feeds, vals, 3, outs, hfetch, 2);
    for (int i = 0; i < 3; i++) tfc_tensor_free(vals[i]);
    tfc_status_free(st);
    tfc_graph_free(h);
    tfc_graph_free(g);
}

/* ---- a hand-written, TensorFlow-style library and malformed ones ---- */

static void put_key(tfc_buf *b, int field, int wire) {
    pb_put_varint(b, (uint64_t)field << 3 | wire);
}
static void put_len(tfc_buf *b, int field, const void *p, size_t n) {
    put_key(b, field, 2);
    pb_put_varint(b, n);
    tfc_buf_append(b, p, n);
}
static void put_str(tfc_buf *b, int field, const char *s) { put_len(b, field, s, strlen(s)); }
static void put_msg(tfc_buf *b, int field, tfc_buf *m) {
    put_len(b, field, m->p, m->n);
    tfc_buf_free(m);
}
static void put_int(tfc_buf *b, int field, uint64_t v) {
    put_key(b, field, 0);
    pb_put_varint(b, v);
}

/* NodeDef attr entry `key` = AttrValue (already encoded in v). */
static void put_attr(tfc_buf *nd, const char *key, tfc_buf *v) {
    tfc_buf e = {0};
    put_str(&e, 1, key);
    put_msg(&e, 2, v);
    put_msg(nd, 5, &e);
}
static void put_attr_type(tfc_buf *nd, const char *key, int dt) {
    tfc_buf v = {0};
    put_int(&v, 6, (uint64_t)dt);
    put_attr(nd, key, &v);
}
static void put_attr_func(tfc_buf *nd, const char *key, const char *fname) {
    tfc_buf v = {0}, f = {0};
    put_str(&f, 1, fname);
    put_msg(&v, 10, &f);
    put_attr(nd, key, &v);
}

/* A NodeDef: op with up to two inputs; `dtype` attr for placeholders. */
static void put_node(tfc_buf *to, int field, const char *name, const char *op, const char *in1,
                     const char *in2, const char *func_attr, const char *fname) {
    tfc_buf nd = {0};
    put_str(&nd, 1, name);
    put_str(&nd, 2, op);
    if (in1) put_str(&nd, 3, in1);
    if (in2) put_str(&nd, 3, in2);
    if (!strcmp(op, "Placeholder")) put_attr_type(&nd, "dtype", 1);
    if (func_attr) put_attr_func(&nd, func_attr, fname);
    put_msg(to, field, &nd);
}

/* What a library test varies. */
typedef struct lib_spec {
    const char *fname;    /* the function's name */
    const char *call_f;   /* the PartitionedCall's f */
    const char *call_op;  /* the calling node's op */
    const char *body_in;  /* the body Mul's second input */
    const char *ret;      /* the ret value */
    const char *arg_attr; /* "T" for a polymorphic argument */
    int out_type;         /* the output's dtype */
    int two_inputs;       /* the call passes an extra input */
    int recursive;        /* the body calls the function itself */
    int duplicate;        /* the library holds the function twice */
    int no_ret;           /* no ret entry */
} lib_spec;

/* p: Placeholder float; c = f(p) with f(x) = x * x (Mul, "m:z:0"). */
static void build_lib_graph(tfc_buf *gd, const lib_spec *s) {
    put_node(gd, 1, "p", "Placeholder", NULL, NULL, NULL, NULL);
    put_node(gd, 1, "c", s->call_op, "p", s->two_inputs ? "p" : NULL,
             strcmp(s->call_op, "PartitionedCall") && strcmp(s->call_op, "StatefulPartitionedCall")
                 ? NULL
                 : "f",
             s->call_f);
    tfc_buf lib = {0};
    for (int copy = 0; copy < 1 + s->duplicate; copy++) {
        tfc_buf fd = {0}, sig = {0}, in = {0}, out = {0}, ret = {0};
        put_str(&sig, 1, s->fname);
        put_str(&in, 1, "x");
        if (s->arg_attr)
            put_str(&in, 4, s->arg_attr);
        else
            put_int(&in, 3, 1);
        put_msg(&sig, 2, &in);
        put_str(&out, 1, "y");
        put_int(&out, 3, (uint64_t)s->out_type);
        put_msg(&sig, 3, &out);
        put_msg(&fd, 1, &sig);
        put_node(&fd, 3, "m", "Mul", "x", s->body_in, NULL, NULL);
        if (s->recursive) put_node(&fd, 3, "again", "PartitionedCall", "x", NULL, "f", s->fname);
        if (!s->no_ret) {
            put_str(&ret, 1, "y");
            put_str(&ret, 2, s->ret);
            put_msg(&fd, 4, &ret);
        }
        put_msg(&lib, 1, &fd);
    }
    put_msg(gd, 2, &lib);
}

static const lib_spec good_spec = {
    "square_it", "square_it", "PartitionedCall", "x:0", "m:z:0", NULL, 1, 0, 0, 0, 0};

static void test_tensorflow_style_library(void) {
    const char *ops[] = {"PartitionedCall", "StatefulPartitionedCall", "square_it"};
    for (int k = 0; k < 3; k++) {
        lib_spec s = good_spec;
        s.call_op = ops[k];
        tfc_buf gd = {0};
        build_lib_graph(&gd, &s);
        tfc_graph *g = import_bytes(gd.p, gd.n);
        tfc_node *c = tfc_graph_node_by_name(g, "c"), *p = tfc_graph_node_by_name(g, "p");
        CHECK(c && p);
        if (c && p) {
            CHECK(!strcmp(tfc_node_type(c), "PartitionedCall"));
            int64_t d[] = {3};
            tfc_tensor *pv = tfc_test_random_tensor(TFC_FLOAT, 1, d, -2, 2);
            tfc_output po = {p, 0};
            tfc_tensor *r = tfc_test_eval(g, (tfc_output){c, 0}, &po, &pv, 1);
            for (int i = 0; r && i < 3; i++)
                CHECK_NEAR(tfc_test_get(r, i), tfc_test_get(pv, i) * tfc_test_get(pv, i), 1e-6);
            /* differentiable after import */
            tfc_output dx, y = {c, 0};
            CHECK(tfc_gradients(g, &y, 1, &po, 1, NULL, &dx) == 0);
            tfc_tensor *gr = tfc_test_eval(g, dx, &po, &pv, 1);
            for (int i = 0; gr && i < 3; i++)
                CHECK_NEAR(tfc_test_get(gr, i), 2 * tfc_test_get(pv, i), 1e-6);
            tfc_tensor_free(gr);
            tfc_tensor_free(r);
            tfc_tensor_free(pv);
        }
        tfc_graph_free(g);
        tfc_buf_free(&gd);
    }
}

static void expect_lib_error(const lib_spec *s, const char *what1, const char *what2) {
    tfc_buf gd = {0};
    build_lib_graph(&gd, s);
    tfc_graph *g = tfc_graph_new();
    tfc_status *st = tfc_status_new();
    CHECK(tfc_graph_import_graphdef(g, gd.p, gd.n, NULL, NULL, NULL, 0, st) == -1);
    CHECK_CONTAINS(tfc_status_message(st), what1);
    if (what2) CHECK_CONTAINS(tfc_status_message(st), what2);
    /* nothing is left behind: no node, no function, and the graph works */
    CHECK(tfc_graph_num_nodes(g) == 0);
    CHECK(tfc_function_lib_size(g) == 0);
    CHECK_GRAPH_OK(g);
    tfc_status_free(st);
    tfc_graph_free(g);
    tfc_buf_free(&gd);
}

static void test_malformed_libraries(void) {
    lib_spec s = good_spec;
    s.call_f = "no_such_fn";
    expect_lib_error(&s, "unknown function 'no_such_fn'", "node 'c'");
    s = good_spec;
    s.call_op = "NoSuchOpOrFunction";
    expect_lib_error(&s, "unknown op 'NoSuchOpOrFunction'", NULL);
    s = good_spec;
    s.body_in = "ghost:z:0";
    expect_lib_error(&s, "function 'square_it' node 'm'", "'ghost:z:0' names no node");
    s = good_spec;
    s.body_in = "x:1";
    expect_lib_error(&s, "function 'square_it' node 'm'", "bad input 'x:1'");
    s = good_spec;
    s.ret = "m:z:2";
    expect_lib_error(&s, "output 'y'", "names output 2, 'm' has 1");
    s = good_spec;
    s.ret = "nowhere:output:0";
    expect_lib_error(&s, "function 'square_it' output 'y'", "nowhere");
    s = good_spec;
    s.no_ret = 1;
    expect_lib_error(&s, "function 'square_it'", "output 'y' has no ret value");
    s = good_spec;
    s.two_inputs = 1;
    expect_lib_error(&s, "function 'square_it' takes 1 inputs, got 2", NULL);
    s = good_spec;
    s.arg_attr = "T";
    expect_lib_error(&s, "argument 'x'", "polymorphic");
    s = good_spec;
    s.out_type = 3;
    expect_lib_error(&s, "output 'y' ('m:z:0') is float32", "int32");
    s = good_spec;
    s.recursive = 1;
    expect_lib_error(&s, "'square_it' calls itself", NULL);
    s = good_spec;
    s.duplicate = 1;
    expect_lib_error(&s, "two functions named 'square_it'", NULL);
    s = good_spec;
    s.body_in = "m:z:0"; /* the node is its own input */
    expect_lib_error(&s, "function 'square_it' has a cycle", NULL);
}

/* Truncations and random corruptions of an export with nested functions:
 * errors or successes, never a crash (the sanitizer build checks memory). */
static void test_corrupt_bytes(void) {
    int64_t d[] = {3};
    tfc_graph *g = tfc_graph_new();
    loops l;
    tfc_output x = tfc_placeholder(g, "x", TFC_DOUBLE, 1, d);
    l.w = tfc_placeholder(g, "w", TFC_DOUBLE, 1, d);
    tfc_output vars[] = {tfc_const_int32(g, 0), x}, outs[2], grads[1];
    tfc_while_loop(g, i_less_3, outer_body, &l, vars, 2, NULL, 10, outs);
    tfc_gradients(g, &outs[1], 1, &x, 1, NULL, grads);
    CHECK_GRAPH_OK(g);
    uint8_t *bytes;
    size_t len;
    tfc_status *st = tfc_status_new();
    CHECK(tfc_graph_to_graphdef(g, &bytes, &len, st) == 0);
    int failures = 0;
    for (size_t cut = 0; cut < len; cut += 11) {
        tfc_graph *h = tfc_graph_new();
        failures += tfc_graph_import_graphdef(h, bytes, cut, NULL, NULL, NULL, 0, st) != 0;
        tfc_graph_free(h);
    }
    CHECK(failures > 0);
    uint8_t *copy = malloc(len);
    tfc_test_seed(77);
    for (int trial = 0; copy && trial < 300; trial++) {
        memcpy(copy, bytes, len);
        for (int k = 0; k < 2; k++)
            copy[(size_t)tfc_test_uniform(0, (double)len)] = (uint8_t)tfc_test_uniform(0, 256);
        tfc_graph *h = tfc_graph_new();
        if (tfc_graph_import_graphdef(h, copy, len, NULL, NULL, NULL, 0, st) == 0) {
            /* what imports may still fail to run, but cleanly */
            tfc_node *out = tfc_graph_node_by_name(h, tfc_node_name(outs[1].node));
            tfc_node *hx = tfc_graph_node_by_name(h, "x"), *hw = tfc_graph_node_by_name(h, "w");
            if (out && hx && hw && out->noutputs > 1 && !strcmp(tfc_node_type(out), "While")) {
                tfc_tensor *xv = tfc_tensor_new(TFC_DOUBLE, 1, d);
                tfc_tensor *fv[] = {xv, xv};
                tfc_output fo[] = {{hx, 0}, {hw, 0}}, fetch = {out, 1};
                tfc_tensor *r = NULL;
                tfc_session *s = tfc_session_new(h, NULL, st);
                if (s) tfc_session_run(s, fo, fv, 2, &fetch, 1, &r, NULL, 0, st);
                tfc_tensor_free(r);
                tfc_session_free(s);
                tfc_tensor_free(xv);
            }
        }
        tfc_graph_free(h);
    }
    free(copy);
    free(bytes);
    tfc_status_free(st);
    tfc_graph_free(g);
}

TFC_TEST_MAIN(T(test_cond_round_trip), T(test_nested_while_round_trip),
              T(test_function_called_twice), T(test_meta_graph_with_cond),
              T(test_tensorflow_style_library), T(test_malformed_libraries), T(test_corrupt_bytes))
