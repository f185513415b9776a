/* GraphDef and MetaGraph import of hostile or wrong files: each case is a
 * hand-encoded file that tfc itself would never write, and each must fail
 * with an error naming the node (or collection), the attr and what was
 * expected, before any node is added: an empty string attr, attrs of the
 * wrong kind, a Const whose dtype is not its value's, a T that is not its
 * input's dtype, constants past the import's memory bound and one whose
 * allocation fails, negative dims, malformed devices, collections naming
 * nodes that do not exist. */
#include "formats/pb.h"
#include "harness.h"

#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

/* One test allocates 2^57 bytes on purpose: under AddressSanitizer that
 * must return NULL, as malloc does, rather than abort. */
const char *__asan_default_options(void);
const char *__asan_default_options(void) { return "allocator_may_return_null=1"; }

/* ---- a small protobuf writer (field numbers from protos/) ---- */

enum { DT_FLOAT = 1, DT_INT32 = 3, DT_COMPLEX64 = 8 };

static void put_key(tfc_buf *b, int field, int wire) {
    pb_put_varint(b, (uint64_t)field << 3 | (uint64_t)wire);
}
static void put_len(tfc_buf *b, int field, const void *p, size_t n) {
    put_key(b, field, 2);
    pb_put_varint(b, n);
    tfc_buf_append(b, p, n);
}
static void put_str(tfc_buf *b, int field, const char *s) { put_len(b, field, s, strlen(s)); }
static void put_int(tfc_buf *b, int field, int64_t v) {
    put_key(b, field, 0);
    pb_put_varint(b, (uint64_t)v);
}
static void put_float(tfc_buf *b, int field, float v) {
    put_key(b, field, 5);
    tfc_buf_append(b, &v, 4); /* little-endian host */
}
/* Appends message `m` as field `field` of b, and frees m. */
static void put_msg(tfc_buf *b, int field, tfc_buf *m) {
    put_len(b, field, m->p, m->n);
    tfc_buf_free(m);
}

static tfc_buf shape_msg(int rank, const int64_t *dims) {
    tfc_buf s = {0};
    for (int i = 0; i < rank; i++) {
        tfc_buf d = {0};
        put_int(&d, 1, dims[i]);
        put_msg(&s, 2, &d);
    }
    return s;
}

/* AttrValues: type, string, int, bool, shape, list(int), tensor. */
static tfc_buf av_type(int dt) {
    tfc_buf v = {0};
    put_int(&v, 6, dt);
    return v;
}
static tfc_buf av_s(const char *s) {
    tfc_buf v = {0};
    put_str(&v, 2, s);
    return v;
}
static tfc_buf av_i(int64_t i) {
    tfc_buf v = {0};
    put_int(&v, 3, i);
    return v;
}
static tfc_buf av_shape(int rank, const int64_t *dims) {
    tfc_buf v = {0}, s = shape_msg(rank, dims);
    put_msg(&v, 7, &s);
    return v;
}
/* A tensor of dtype dt and shape dims holding n float values (DT_FLOAT)
 * or n int values (otherwise), all `x`. */
static tfc_buf av_tensor(int dt, int rank, const int64_t *dims, int n, double x) {
    tfc_buf t = {0}, v = {0}, s = shape_msg(rank, dims);
    put_int(&t, 1, dt);
    put_msg(&t, 2, &s);
    for (int i = 0; i < n; i++) {
        if (dt == DT_FLOAT) put_float(&t, 5, (float)x);
        else put_int(&t, 7, (int64_t)x);
    }
    put_msg(&v, 8, &t);
    return v;
}

/* A NodeDef under construction. */
static tfc_buf node(const char *name, const char *op) {
    tfc_buf nd = {0};
    put_str(&nd, 1, name);
    put_str(&nd, 2, op);
    return nd;
}
static void input(tfc_buf *nd, const char *in) { put_str(nd, 3, in); }
static void device(tfc_buf *nd, const char *dev) { put_str(nd, 4, dev); }
static void attr(tfc_buf *nd, const char *key, tfc_buf value) {
    tfc_buf e = {0};
    put_str(&e, 1, key);
    put_msg(&e, 2, &value);
    put_msg(nd, 5, &e);
}
static void add(tfc_buf *gd, tfc_buf nd) { put_msg(gd, 1, &nd); }

/* A float placeholder `name` of shape [2,2]. */
static void placeholder(tfc_buf *gd, const char *name) {
    int64_t dims[] = {2, 2};
    tfc_buf p = node(name, "Placeholder");
    attr(&p, "dtype", av_type(DT_FLOAT));
    attr(&p, "shape", av_shape(2, dims));
    add(gd, p);
}

/* Imports gd (freeing it); must fail with `code` and a message holding
 * every string of `what` (NULL-terminated), with `nodes` nodes added. */
static void expect_error_v(tfc_buf *gd, const tfc_import_options *o, tfc_code code, int nodes,
                           const char *const *what) {
    tfc_graph *g = tfc_graph_new();
    tfc_status *st = tfc_status_new();
    CHECK(tfc_graph_import_graphdef_v2(g, gd->p, gd->n, o, st) == -1);
    CHECK_MSG(tfc_status_code(st) == code, "code %d, want %d: %s", (int)tfc_status_code(st),
              (int)code, tfc_status_message(st));
    for (int i = 0; what[i]; i++) CHECK_CONTAINS(tfc_status_message(st), what[i]);
    CHECK_MSG(tfc_graph_num_nodes(g) == nodes, "%d nodes, want %d", tfc_graph_num_nodes(g),
              nodes);
    tfc_status_free(st);
    tfc_graph_free(g);
    tfc_buf_free(gd);
}
#define EXPECT_ERROR(gd, opts, code, nodes, ...)                                             \
    do {                                                                                     \
        static const char *const what_[] = {__VA_ARGS__, NULL};                              \
        expect_error_v(gd, opts, code, nodes, what_);                                        \
    } while (0)

/* Imports gd (freeing it), which must succeed; returns the graph. */
static tfc_graph *expect_ok(tfc_buf *gd, const tfc_import_options *o) {
    tfc_graph *g = tfc_graph_new();
    tfc_status *st = tfc_status_new();
    CHECK(tfc_graph_import_graphdef_v2(g, gd->p, gd->n, o, st) == 0);
    CHECK_STATUS_OK(st);
    tfc_status_free(st);
    tfc_buf_free(gd);
    return g;
}

/* ---- the cases ---- */

/* s: "" arrives with no bytes at all; reading them was undefined (the
 * sanitizer build aborted). TensorFlow writes container: "" on every
 * variable. */
static void test_empty_string_attr(void) {
    tfc_buf gd = {0};
    int64_t dims[] = {2};
    tfc_buf v = node("v", "VariableV2");
    attr(&v, "dtype", av_type(DT_FLOAT));
    attr(&v, "shape", av_shape(1, dims));
    attr(&v, "container", av_s(""));
    attr(&v, "shared_name", av_s(""));
    add(&gd, v);
    tfc_graph *g = expect_ok(&gd, NULL);
    tfc_node *n = tfc_graph_node_by_name(g, "v");
    CHECK(n && !strcmp(tfc_node_attr_string(n, "container"), ""));
    tfc_graph_free(g);
}

/* Each attr's kind is checked against what TensorFlow declares. */
static void test_attr_kinds(void) {
    tfc_buf gd = {0}, c = node("c", "Const");
    attr(&c, "dtype", av_s("float"));
    attr(&c, "value", av_tensor(DT_FLOAT, 0, NULL, 1, 1.0));
    add(&gd, c);
    EXPECT_ERROR(&gd, NULL, TFC_INVALID_ARGUMENT, 0, "GraphDef node 'c'", "attr 'dtype'",
                 "expects kind 'type'", "got kind 'string'");

    placeholder(&gd, "p");
    tfc_buf i = node("i", "Identity");
    input(&i, "p");
    attr(&i, "T", av_s("DT_FLOAT"));
    add(&gd, i);
    EXPECT_ERROR(&gd, NULL, TFC_INVALID_ARGUMENT, 0, "node 'i'", "attr 'T'", "'type'",
                 "'string'");

    placeholder(&gd, "p");
    i = node("i", "Identity");
    input(&i, "p");
    attr(&i, "T", av_i(1));
    add(&gd, i);
    EXPECT_ERROR(&gd, NULL, TFC_INVALID_ARGUMENT, 0, "node 'i'", "attr 'T'", "'type'",
                 "got kind 'int'");

    placeholder(&gd, "p");
    tfc_buf m = node("m", "MatMul");
    input(&m, "p");
    input(&m, "p");
    attr(&m, "transpose_a", av_s("true"));
    add(&gd, m);
    EXPECT_ERROR(&gd, NULL, TFC_INVALID_ARGUMENT, 0, "node 'm'", "attr 'transpose_a'",
                 "expects kind 'bool'", "got kind 'string'");

    /* lists too: Squeeze's squeeze_dims is list(int) */
    placeholder(&gd, "p");
    tfc_buf q = node("q", "Squeeze");
    input(&q, "p");
    attr(&q, "squeeze_dims", av_i(0));
    add(&gd, q);
    EXPECT_ERROR(&gd, NULL, TFC_INVALID_ARGUMENT, 0, "node 'q'", "attr 'squeeze_dims'",
                 "expects kind 'list(int)'", "got kind 'int'");

    /* a type tfc lacks */
    tfc_buf p = node("p", "Placeholder");
    attr(&p, "dtype", av_type(DT_COMPLEX64));
    add(&gd, p);
    EXPECT_ERROR(&gd, NULL, TFC_UNIMPLEMENTED, 0, "node 'p'", "attr 'dtype' is dtype 8");

    /* the right kinds pass */
    placeholder(&gd, "p");
    i = node("i", "Identity");
    input(&i, "p");
    attr(&i, "T", av_type(DT_FLOAT));
    add(&gd, i);
    tfc_graph *g = expect_ok(&gd, NULL);
    CHECK(tfc_graph_num_nodes(g) == 2);
    tfc_graph_free(g);
}

/* A type attr must be the dtype it declares: a Const's value's, an input's. */
static void test_type_values(void) {
    tfc_buf gd = {0}, c = node("c", "Const");
    attr(&c, "dtype", av_type(DT_FLOAT));
    attr(&c, "value", av_tensor(DT_INT32, 0, NULL, 1, 7));
    add(&gd, c);
    EXPECT_ERROR(&gd, NULL, TFC_INVALID_ARGUMENT, 0, "node 'c'",
                 "attr 'dtype' is float32, but attr 'value' holds int32");

    /* known only once the input exists: p is added, i is not */
    placeholder(&gd, "p");
    tfc_buf i = node("i", "Identity");
    input(&i, "p");
    attr(&i, "T", av_type(DT_INT32));
    add(&gd, i);
    EXPECT_ERROR(&gd, NULL, TFC_INVALID_ARGUMENT, 1, "node 'i'",
                 "attr 'T' is int32, but input 0 ('p') is float32");

    placeholder(&gd, "p");
    tfc_buf m = node("m", "MatMul");
    input(&m, "p");
    input(&m, "p:0");
    attr(&m, "T", av_type(DT_INT32));
    add(&gd, m);
    EXPECT_ERROR(&gd, NULL, TFC_INVALID_ARGUMENT, 1, "node 'm'",
                 "attr 'T' is int32, but input 0 ('p') is float32");

    /* through the builder: the shape function's dtype against the given one */
    tfc_graph *g = tfc_graph_new();
    tfc_tensor *seven = tfc_tensor_scalar_int32(7);
    tfc_op_desc *d = tfc_op_new(g, "Const", "c");
    tfc_op_set_attr_type(d, "dtype", TFC_FLOAT);
    tfc_op_set_attr_tensor(d, "value", seven);
    CHECK(tfc_op_finish(d) == NULL);
    CHECK_CONTAINS(tfc_graph_error(g),
                   "Node 'c' (Const): attr 'dtype' is float32, but the node's inputs and attrs "
                   "make it int32");
    CHECK(tfc_graph_num_nodes(g) == 0);
    tfc_graph_clear_error(g);
    tfc_output x = tfc_const_float(g, 1);
    d = tfc_op_new(g, "Add", "add");
    tfc_op_add_input(d, x);
    tfc_op_add_input(d, x);
    tfc_op_set_attr_type(d, "T", TFC_INT64);
    CHECK(tfc_op_finish(d) == NULL);
    CHECK_CONTAINS(tfc_graph_error(g), "Node 'add' (Add): attr 'T' is int64");
    tfc_graph_clear_error(g);
    /* the right dtype passes */
    d = tfc_op_new(g, "Const", "c");
    tfc_op_set_attr_type(d, "dtype", TFC_INT32);
    tfc_op_set_attr_tensor(d, "value", seven);
    CHECK(tfc_op_finish(d) != NULL);
    CHECK_GRAPH_OK(g);
    tfc_tensor_free(seven);
    tfc_graph_free(g);
}

/* A Const of n x n floats holding one value (a few dozen bytes of file). */
static void big_const(tfc_buf *gd, const char *name, int64_t rows, int64_t cols) {
    int64_t dims[] = {rows, cols};
    tfc_buf c = node(name, "Const");
    attr(&c, "dtype", av_type(DT_FLOAT));
    attr(&c, "value", av_tensor(DT_FLOAT, 2, dims, 1, 0.5));
    add(gd, c);
}

static int body_with_const(tfc_graph *b, const tfc_output *args, int nargs, void *user,
                           tfc_output *outs) {
    (void)nargs;
    (void)user;
    int64_t dims[] = {300, 300};
    tfc_tensor *t = tfc_tensor_new(TFC_FLOAT, 2, dims);
    tfc_output k = tfc_const(b, t);
    tfc_tensor_free(t);
    int32_t axes[] = {0, 1};
    outs[0] = tfc_add(b, args[0], tfc_reduce_sum(b, k, axes, 2, 0));
    return outs[0].node ? 0 : -1;
}

static void test_memory_bound(void) {
    /* the 64-byte file of the report: 1.6 GB asked for, 1 GiB allowed */
    tfc_buf gd = {0};
    big_const(&gd, "big", 20000, 20000);
    CHECK_MSG(gd.n < 80, "%zu bytes", gd.n);
    EXPECT_ERROR(&gd, NULL, TFC_RESOURCE_EXHAUSTED, 0, "node 'big'", "attr 'value'",
                 "1600000000 bytes", "bound of 1073741824 bytes", "max_bytes");
    /* the old entry point has the same default bound */
    big_const(&gd, "big", 20000, 20000);
    tfc_graph *g = tfc_graph_new();
    tfc_status *st = tfc_status_new();
    CHECK(tfc_graph_import_graphdef(g, gd.p, gd.n, NULL, NULL, NULL, 0, st) == -1);
    CHECK(tfc_status_code(st) == TFC_RESOURCE_EXHAUSTED);
    tfc_buf_free(&gd);
    tfc_graph_free(g);

    /* the bound is on the sum, and a caller can raise it */
    tfc_import_options o = {0};
    o.max_bytes = 1500000;
    big_const(&gd, "a", 500, 500);
    big_const(&gd, "b", 500, 500);
    EXPECT_ERROR(&gd, &o, TFC_RESOURCE_EXHAUSTED, 0, "node 'b'", "1000000 bytes",
                 "bound of 1500000 bytes");
    o.max_bytes = 2000000;
    big_const(&gd, "a", 500, 500);
    big_const(&gd, "b", 500, 500);
    g = expect_ok(&gd, &o);
    CHECK(tfc_graph_num_nodes(g) == 2);
    tfc_graph_free(g);
    o.max_bytes = -1;
    big_const(&gd, "a", 5, 5);
    EXPECT_ERROR(&gd, &o, TFC_INVALID_ARGUMENT, 0, "max_bytes -1");

    /* constants of function bodies count too */
    g = tfc_graph_new();
    tfc_dtype dts[] = {TFC_FLOAT};
    tfc_function *fn = tfc_function_define(g, "f", 1, dts, NULL, 1, body_with_const, NULL);
    tfc_output y, x = tfc_const_float(g, 1);
    CHECK(fn && tfc_function_call(g, fn, &x, 1, &y) == 0);
    CHECK_GRAPH_OK(g);
    uint8_t *bytes;
    size_t len;
    CHECK(tfc_graph_to_graphdef(g, &bytes, &len, st) == 0);
    tfc_graph_free(g);
    o.max_bytes = 100000;
    g = tfc_graph_new();
    CHECK(tfc_graph_import_graphdef_v2(g, bytes, len, &o, st) == -1);
    CHECK(tfc_status_code(st) == TFC_RESOURCE_EXHAUSTED);
    CHECK_CONTAINS(tfc_status_message(st), "GraphDef function 'f' node");
    CHECK_CONTAINS(tfc_status_message(st), "360000 bytes");
    tfc_graph_free(g);
    o.max_bytes = 0;
    g = tfc_graph_new();
    CHECK(tfc_graph_import_graphdef_v2(g, bytes, len, &o, st) == 0);
    tfc_graph_free(g);
    free(bytes);

    /* within the bound but more than memory: reported as what it is */
    o.max_bytes = INT64_MAX;
    big_const(&gd, "huge", (int64_t)1 << 27, (int64_t)1 << 28);
    EXPECT_ERROR(&gd, &o, TFC_RESOURCE_EXHAUSTED, 0, "node 'huge'",
                 "out of memory allocating the 144115188075855872 bytes of attr 'value'");
    /* more elements than a size can count */
    big_const(&gd, "huge", (int64_t)1 << 40, (int64_t)1 << 40);
    EXPECT_ERROR(&gd, &o, TFC_INVALID_ARGUMENT, 0, "node 'huge'", "attr 'value'",
                 "more than 2^59 elements");
    tfc_status_free(st);
}

/* Only -1 means an unknown size. */
static void test_negative_dims(void) {
    tfc_buf gd = {0}, p = node("p", "Placeholder");
    int64_t bad[] = {-3, 4}, unknown[] = {-1, 4};
    attr(&p, "dtype", av_type(DT_FLOAT));
    attr(&p, "shape", av_shape(2, bad));
    add(&gd, p);
    EXPECT_ERROR(&gd, NULL, TFC_INVALID_ARGUMENT, 0, "node 'p'", "attr 'shape'",
                 "size -3 in dim 0", "-1 for unknown");
    tfc_buf c = node("c", "Const");
    int64_t tdims[] = {2, -2};
    attr(&c, "dtype", av_type(DT_FLOAT));
    attr(&c, "value", av_tensor(DT_FLOAT, 2, tdims, 1, 0));
    add(&gd, c);
    EXPECT_ERROR(&gd, NULL, TFC_INVALID_ARGUMENT, 0, "node 'c'", "attr 'value'",
                 "size -2 in dim 1");
    p = node("p", "Placeholder");
    attr(&p, "dtype", av_type(DT_FLOAT));
    attr(&p, "shape", av_shape(2, unknown));
    add(&gd, p);
    tfc_graph *g = expect_ok(&gd, NULL);
    tfc_shape s = tfc_output_shape(tfc_out(tfc_graph_node_by_name(g, "p"), 0));
    CHECK(s.rank == 2 && s.dims[0] == -1 && s.dims[1] == 4);
    tfc_graph_free(g);

    /* the builder: tfc_placeholder and any shape attr */
    g = tfc_graph_new();
    CHECK(tfc_placeholder(g, "p", TFC_FLOAT, 2, bad).node == NULL);
    CHECK_CONTAINS(tfc_graph_error(g), "Node 'p' (Placeholder): attr 'shape' has size -3 in dim 0");
    tfc_graph_clear_error(g);
    int64_t nine[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
    CHECK(tfc_placeholder(g, "p9", TFC_FLOAT, 9, nine).node == NULL);
    CHECK_CONTAINS(tfc_graph_error(g), "Node 'p9' (Placeholder): attr 'shape' has rank 9");
    tfc_graph_clear_error(g);
    CHECK(tfc_placeholder(g, "q", TFC_FLOAT, 2, unknown).node != NULL);
    CHECK(tfc_graph_num_nodes(g) == 1);
    CHECK_GRAPH_OK(g);
    tfc_graph_free(g);
}

static void test_devices(void) {
    tfc_buf gd = {0}, p = node("p", "Placeholder");
    attr(&p, "dtype", av_type(DT_FLOAT));
    device(&p, "nonsense device");
    add(&gd, p);
    EXPECT_ERROR(&gd, NULL, TFC_INVALID_ARGUMENT, 0, "GraphDef node 'p'",
                 "malformed device 'nonsense device'", "expected /job:");
    p = node("p", "Placeholder");
    attr(&p, "dtype", av_type(DT_FLOAT));
    device(&p, "/job:localhost/replica:0/task:0/device:CPU:0");
    add(&gd, p);
    tfc_buf q = node("q", "Placeholder");
    attr(&q, "dtype", av_type(DT_FLOAT));
    device(&q, "/gpu:1");
    add(&gd, q);
    tfc_graph *g = expect_ok(&gd, NULL);
    CHECK(!strcmp(tfc_node_device(tfc_graph_node_by_name(g, "p")),
                  "/job:localhost/replica:0/task:0/device:CPU:0"));
    CHECK(!strcmp(tfc_node_device(tfc_graph_node_by_name(g, "q")), "/gpu:1"));
    tfc_graph_free(g);
}

/* String constants travel as string_val; raw bytes never become a string
 * tensor's element views (they would be pointers from the file). */
static void test_string_constants(void) {
    tfc_graph *g = tfc_graph_new();
    const char *words[] = {"hello", "", "wor\0ld"};
    size_t lens[] = {5, 0, 6};
    int64_t three[] = {3};
    tfc_tensor *t = tfc_tensor_from_strings(1, three, words, lens);
    tfc_with_name(g, "s");
    tfc_const(g, t);
    tfc_tensor_free(t);
    CHECK_GRAPH_OK(g);
    uint8_t *bytes;
    size_t len;
    tfc_status *st = tfc_status_new();
    CHECK(tfc_graph_to_graphdef(g, &bytes, &len, st) == 0);
    tfc_graph_free(g);
    g = tfc_graph_new();
    CHECK(tfc_graph_import_graphdef(g, bytes, len, NULL, NULL, NULL, 0, st) == 0);
    CHECK_STATUS_OK(st);
    free(bytes);
    tfc_node *s = tfc_graph_node_by_name(g, "s");
    tfc_tensor *v = s ? tfc_test_eval(g, tfc_out(s, 0), NULL, NULL, 0) : NULL;
    CHECK(v && tfc_tensor_dtype(v) == TFC_STRING && tfc_tensor_num_elements(v) == 3);
    for (int i = 0; v && i < 3; i++) {
        size_t n;
        const char *p = tfc_string_tensor_get(v, i, &n);
        CHECK_MSG(n == lens[i] && !memcmp(p, words[i], n), "element %d", i);
    }
    tfc_tensor_free(v);
    tfc_graph_free(g);
    tfc_status_free(st);

    /* raw tensor_content for strings is refused */
    tfc_buf gd = {0}, c = node("c", "Const"), v2 = {0}, ten = {0}, shp = shape_msg(1, three);
    put_int(&ten, 1, 7); /* DT_STRING */
    put_msg(&ten, 2, &shp);
    put_str(&ten, 4, "0123456789abcdef0123456789abcdef0123456789abcdef");
    put_msg(&v2, 8, &ten);
    attr(&c, "dtype", av_type(7));
    attr(&c, "value", v2);
    add(&gd, c);
    EXPECT_ERROR(&gd, NULL, TFC_INVALID_ARGUMENT, 0, "node 'c'", "attr 'value'",
                 "string_val", "tensor_content");
}

/* ---- MetaGraph collections ---- */

static char meta_path[64];

/* Writes a MetaGraphDef: a GraphDef with a placeholder "x", and
 * collection `key` holding `entry` (as a node_list, or as the
 * variable_name of a VariableDef when `vardef`, raw bytes when `raw`). */
static void write_meta(const char *key, const char *entry, int vardef, int raw) {
    tfc_buf gd = {0}, m = {0}, cd = {0}, e = {0}, list = {0};
    placeholder(&gd, "x");
    put_msg(&m, 2, &gd);
    if (raw) {
        put_str(&list, 1, entry);
        put_msg(&cd, 2, &list); /* bytes_list */
    } else if (vardef) {
        tfc_buf vd = {0};
        put_str(&vd, 1, entry);
        put_msg(&list, 1, &vd);
        put_msg(&cd, 2, &list);
    } else {
        put_str(&list, 1, entry);
        put_msg(&cd, 1, &list); /* node_list */
    }
    put_str(&e, 1, key);
    put_msg(&e, 2, &cd);
    put_msg(&m, 4, &e);
    FILE *f = fopen(meta_path, "wb");
    CHECK(f && fwrite(m.p, 1, m.n, f) == m.n);
    if (f) fclose(f);
    tfc_buf_free(&m);
}

static void expect_meta_error(const char *what1, const char *what2) {
    tfc_graph *g = tfc_graph_new();
    tfc_status *st = tfc_status_new();
    CHECK(tfc_import_meta_graph(g, meta_path, st) == -1);
    CHECK_CONTAINS(tfc_status_message(st), what1);
    CHECK_CONTAINS(tfc_status_message(st), what2);
    CHECK(tfc_graph_num_nodes(g) == 0);
    tfc_status_free(st);
    tfc_graph_free(g);
}

static void test_meta_graph_collections(void) {
    snprintf(meta_path, sizeof meta_path, "/tmp/tfc_import_hardening_%ld.meta", (long)getpid());
    write_meta("my_col", "ghost", 0, 0);
    expect_meta_error("collection 'my_col'", "node 'ghost', which is not in its graph");
    write_meta(TFC_GLOBAL_VARIABLES, "nope:0", 1, 0);
    expect_meta_error("collection 'variables'", "node 'nope:0'");
    write_meta(TFC_GLOBAL_VARIABLES, "\xff\xff", 0, 1);
    expect_meta_error("collection 'variables'", "entry 0 is not a VariableDef");

    /* entries that name nodes are imported, with the prefix when given */
    write_meta("my_col", "^x", 0, 0);
    tfc_graph *g = tfc_graph_new();
    tfc_status *st = tfc_status_new();
    CHECK(tfc_import_meta_graph(g, meta_path, st) == 0);
    CHECK_STATUS_OK(st);
    CHECK(tfc_graph_collection_size(g, "my_col") == 1);
    CHECK(tfc_graph_collection_get(g, "my_col", 0) == tfc_graph_node_by_name(g, "x"));
    tfc_graph_free(g);
    write_meta("my_col", "x:0", 0, 0);
    tfc_import_options o = {0};
    o.prefix = "pre";
    g = tfc_graph_new();
    CHECK(tfc_import_meta_graph_v2(g, meta_path, &o, st) == 0);
    CHECK_STATUS_OK(st);
    CHECK(tfc_graph_collection_size(g, "my_col") == 1);
    tfc_node *x = tfc_graph_node_by_name(g, "pre/x");
    CHECK(x && tfc_graph_collection_get(g, "my_col", 0) == x);
    tfc_graph_free(g);
    tfc_status_free(st);
    remove(meta_path);
}

/* An attr name holding a space matched TensorFlow's attr table at its first
 * byte and read the byte before it (found by fuzz_graphdef). */
static void test_attr_name_with_space(void) {
    tfc_buf gd = {0};
    int64_t dims[] = {2, 2};
    tfc_buf p = node("x", "Placeholder");
    attr(&p, "dtype", av_type(DT_FLOAT));
    attr(&p, "shape", av_shape(2, dims));
    attr(&p, " T", av_type(DT_FLOAT));
    add(&gd, p);
    tfc_graph *g = tfc_graph_new();
    tfc_status *st = tfc_status_new();
    int rc = tfc_graph_import_graphdef_v2(g, gd.p, gd.n, NULL, st);
    CHECK(rc == 0 || tfc_status_message(st)[0] != '\0');
    tfc_status_free(st);
    tfc_graph_free(g);
    tfc_buf_free(&gd);
}

TFC_TEST_MAIN(T(test_empty_string_attr), T(test_attr_name_with_space), T(test_attr_kinds), T(test_type_values),
              T(test_memory_bound), T(test_negative_dims), T(test_devices),
              T(test_string_constants), T(test_meta_graph_collections))
