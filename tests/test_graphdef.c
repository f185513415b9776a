/* GraphDef export and import: round trips that run both graphs on random
 * feeds, prefixes and input remapping, wire-level checks from the fact
 * sheet, variables after import, and clear errors (never crashes) for
 * unknown ops, missing inputs, cycles and malformed or truncated bytes. */
#include "formats/pb.h"
#include "harness.h"

#include <stdlib.h>

/* x:[2,3] -> matmul W -> + b -> relu -> sum(keep_dims); a split with a
 * second output, a control dependency and a variable. */
static tfc_graph *build(tfc_output *fetches, int *nf) {
    tfc_graph *g = tfc_graph_new();
    int64_t xd[] = {2, 3}, wd[] = {3, 4}, bd[] = {4};
    tfc_test_seed(21);
    tfc_tensor *w = tfc_test_random_tensor(TFC_FLOAT, 2, wd, -1, 1);
    tfc_tensor *b = tfc_test_random_tensor(TFC_FLOAT, 1, bd, -1, 1);
    tfc_output x = tfc_placeholder(g, "x", TFC_FLOAT, 2, xd);
    tfc_name_scope_push(g, "dense");
    tfc_output y = tfc_relu(g, tfc_add(g, tfc_matmul(g, x, tfc_const(g, w)), tfc_const(g, b)));
    tfc_name_scope_pop(g);
    int32_t ax = 1;
    tfc_output s = tfc_reduce_sum(g, y, &ax, 1, 1);
    tfc_output parts[2];
    tfc_split(g, y, 2, 1, parts);
    tfc_output second = tfc_mul(g, parts[1], tfc_const_float(g, 3.0f));
    tfc_node *dep = tfc_no_op(g);
    tfc_control_dependencies_push(g, &dep, 1);
    tfc_output after = tfc_identity(g, s);
    tfc_control_dependencies_pop(g);
    tfc_output v = tfc_variable(g, "counter", tfc_const_double(g, 1.5));
    tfc_output bumped = tfc_assign_add(g, v, tfc_const_double(g, 2.0));
    (void)bumped;
    fetches[0] = y;
    fetches[1] = s;
    fetches[2] = second;
    fetches[3] = after;
    *nf = 4;
    tfc_tensor_free(w);
    tfc_tensor_free(b);
    CHECK_GRAPH_OK(g);
    return g;
}

static tfc_output by_name(tfc_graph *g, const char *name, int idx) {
    tfc_node *n = tfc_graph_node_by_name(g, name);
    CHECK_MSG(n != NULL, "no node %s", name);
    return (tfc_output){n, idx};
}

static void test_round_trip(void) {
    tfc_output f[4];
    int nf;
    tfc_graph *g = build(f, &nf);
    uint8_t *bytes;
    size_t len;
    tfc_status *st = tfc_status_new();
    CHECK(tfc_graph_to_graphdef(g, &bytes, &len, st) == 0);
    CHECK(len > 100);
    int n0 = tfc_graph_num_nodes(g); /* tfc_test_eval adds init nodes later */
    int64_t xd[] = {2, 3};
    tfc_tensor *xv = tfc_test_random_tensor(TFC_FLOAT, 2, xd, -2, 2);
    static const char *const prefixes[] = {NULL, "imported"};
    for (int p = 0; p < 2; p++) {
        tfc_graph *h = tfc_graph_new();
        CHECK(tfc_graph_import_graphdef(h, bytes, len, prefixes[p], NULL, NULL, 0, st) == 0);
        CHECK_STATUS_OK(st);
        CHECK_MSG(tfc_graph_num_nodes(h) == n0, "%d vs %d nodes", tfc_graph_num_nodes(h), n0);
        char name[128];
        for (int i = 0; i < nf; i++) {
            const char *orig = tfc_node_name(f[i].node);
            if (prefixes[p]) snprintf(name, sizeof name, "%s/%s", prefixes[p], orig);
            else snprintf(name, sizeof name, "%s", orig);
            tfc_output o = by_name(h, name, f[i].index);
            if (!o.node) continue;
            CHECK(!strcmp(tfc_node_type(o.node), tfc_node_type(f[i].node)));
            snprintf(name, sizeof name, "%s%sx", prefixes[p] ? prefixes[p] : "",
                     prefixes[p] ? "/" : "");
            tfc_output hx = by_name(h, name, 0);
            tfc_output gx = by_name(g, "x", 0);
            tfc_tensor *a = tfc_test_eval(g, f[i], &gx, &xv, 1);
            tfc_tensor *b = tfc_test_eval(h, o, &hx, &xv, 1);
            CHECK(a && b && tfc_test_max_diff(a, b) == 0);
            tfc_tensor_free(a);
            tfc_tensor_free(b);
        }
        /* control inputs survive */
        snprintf(name, sizeof name, "%s%s%s", prefixes[p] ? prefixes[p] : "",
                 prefixes[p] ? "/" : "", tfc_node_name(f[3].node));
        tfc_node *after = tfc_graph_node_by_name(h, name);
        CHECK(after && tfc_node_num_control_inputs(after) == 1);
        /* the variable is registered: the initializer works */
        tfc_node *init = tfc_global_variables_initializer(h);
        CHECK_GRAPH_OK(h);
        snprintf(name, sizeof name, "%s%scounter", prefixes[p] ? prefixes[p] : "",
                 prefixes[p] ? "/" : "");
        tfc_output cv = by_name(h, name, 0);
        tfc_session *s = tfc_session_new(h, NULL, st);
        tfc_session_run(s, NULL, NULL, 0, NULL, 0, NULL, &init, 1, st);
        CHECK_STATUS_OK(st);
        tfc_tensor *c = tfc_session_run1(s, NULL, NULL, 0, cv, st);
        CHECK(c && tfc_test_get(c, 0) == 1.5);
        tfc_tensor_free(c);
        tfc_session_free(s);
        tfc_graph_free(h);
    }
    tfc_tensor_free(xv);
    free(bytes);
    tfc_status_free(st);
    tfc_graph_free(g);
}

static void test_input_map(void) {
    tfc_output f[4];
    int nf;
    tfc_graph *g = build(f, &nf);
    uint8_t *bytes;
    size_t len;
    tfc_status *st = tfc_status_new();
    CHECK(tfc_graph_to_graphdef(g, &bytes, &len, st) == 0);
    int64_t xd[] = {2, 3};
    tfc_tensor *xv = tfc_test_random_tensor(TFC_FLOAT, 2, xd, -2, 2);
    tfc_graph *h = tfc_graph_new();
    tfc_output c = tfc_const(h, xv);
    const char *names[] = {"x"};
    CHECK(tfc_graph_import_graphdef(h, bytes, len, "m", names, &c, 1, st) == 0);
    CHECK_STATUS_OK(st);
    tfc_output gx = by_name(g, "x", 0);
    tfc_tensor *a = tfc_test_eval(g, f[1], &gx, &xv, 1);
    char name[128];
    snprintf(name, sizeof name, "m/%s", tfc_node_name(f[1].node));
    tfc_tensor *b = tfc_test_eval(h, by_name(h, name, 0), NULL, NULL, 0); /* no feed needed */
    CHECK(a && b && tfc_test_max_diff(a, b) == 0);
    tfc_tensor_free(a);
    tfc_tensor_free(b);
    tfc_tensor_free(xv);
    tfc_graph_free(h);
    free(bytes);
    tfc_status_free(st);
    tfc_graph_free(g);
}

static int contains(const uint8_t *p, size_t n, const void *sub, size_t m) {
    for (size_t i = 0; i + m <= n; i++)
        if (!memcmp(p + i, sub, m)) return 1;
    return 0;
}

/* Fact-sheet rules seen on the wire: a false bool attr is still written
 * (28 00), a data input of output 1 is "name:1", control inputs "^name",
 * versions.producer present. */
static void test_wire_details(void) {
    tfc_output f[4];
    int nf;
    tfc_graph *g = build(f, &nf);
    uint8_t *bytes;
    size_t len;
    tfc_status *st = tfc_status_new();
    CHECK(tfc_graph_to_graphdef(g, &bytes, &len, st) == 0);
    static const uint8_t ta_value[] = {'t', 'r', 'a', 'n', 's', 'p', 'o', 's', 'e', '_',
                                       'a', 0x12, 0x02, 0x28, 0x00};
    CHECK(contains(bytes, len, ta_value, sizeof ta_value));
    char in1[64];
    snprintf(in1, sizeof in1, "%s:1", tfc_node_name(tfc_node_input(f[2].node, 0).node));
    CHECK(contains(bytes, len, in1, strlen(in1)));
    char ctrl[64];
    snprintf(ctrl, sizeof ctrl, "^%s", tfc_node_name(tfc_node_control_input(f[3].node, 0)));
    CHECK(contains(bytes, len, ctrl, strlen(ctrl)));
    CHECK(contains(bytes, len, "dense/MatMul", 12));
    CHECK(len > 4 && bytes[len - 4] == 0x22 && bytes[len - 3] == 0x02 && bytes[len - 2] == 0x08 &&
          bytes[len - 1] == 26);
    /* writing to a file and reading it back gives the same graph */
    char path[] = "/tmp/tfc_gd_XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    CHECK(tfc_graph_write_graphdef(g, path, st) == 0);
    tfc_graph *h = tfc_graph_new();
    CHECK(tfc_graph_import_graphdef_file(h, path, "f", st) == 0);
    CHECK(tfc_graph_num_nodes(h) == tfc_graph_num_nodes(g));
    remove(path);
    CHECK(tfc_graph_import_graphdef_file(h, path, "f2", st) == -1);
    CHECK_CONTAINS(tfc_status_message(st), path);
    tfc_graph_free(h);
    free(bytes);
    tfc_status_free(st);
    tfc_graph_free(g);
}

/* Hand-encoded GraphDef pieces (wire format per the fact sheet, §0), so
 * the tests can build GraphDefs tfc itself would never write. */
static void put_len(tfc_buf *b, int field, const void *p, size_t n) {
    pb_put_varint(b, (uint64_t)field << 3 | 2);
    pb_put_varint(b, n);
    tfc_buf_append(b, p, n);
}

static void put_str(tfc_buf *b, int field, const char *s) { put_len(b, field, s, strlen(s)); }

static void add_node(tfc_buf *gd, const char *name, const char *op, const char *in1,
                     const char *in2) {
    tfc_buf nd = {0};
    put_str(&nd, 1, name);
    put_str(&nd, 2, op);
    if (in1) put_str(&nd, 3, in1);
    if (in2) put_str(&nd, 3, in2);
    if (!strcmp(op, "Placeholder")) {
        /* attr {key: "dtype" value {type: DT_FLOAT}} */
        static const uint8_t value[] = {0x30, 0x01};
        tfc_buf attr = {0};
        put_str(&attr, 1, "dtype");
        put_len(&attr, 2, value, sizeof value);
        put_len(&nd, 5, attr.p, attr.n);
        tfc_buf_free(&attr);
    }
    put_len(gd, 1, nd.p, nd.n);
    tfc_buf_free(&nd);
}

static void expect_import_error(const tfc_buf *gd, const char *what1, const char *what2) {
    tfc_graph *g = tfc_graph_new();
    tfc_status *st = tfc_status_new();
    CHECK(tfc_graph_import_graphdef(g, gd->p, gd->n, NULL, NULL, NULL, 0, st) == -1);
    CHECK_CONTAINS(tfc_status_message(st), what1);
    if (what2) CHECK_CONTAINS(tfc_status_message(st), what2);
    CHECK(tfc_graph_num_nodes(g) == 0); /* nothing added */
    tfc_status_free(st);
    tfc_graph_free(g);
}

static void test_import_errors(void) {
    tfc_buf gd = {0};
    add_node(&gd, "p", "Placeholder", NULL, NULL);
    add_node(&gd, "q", "Bogus", "p", NULL);
    expect_import_error(&gd, "unknown op 'Bogus'", "'q'");
    tfc_buf_free(&gd);

    add_node(&gd, "p", "Placeholder", NULL, NULL);
    add_node(&gd, "i", "Identity", "nowhere:0", NULL);
    expect_import_error(&gd, "'nowhere:0'", "'i'");
    tfc_buf_free(&gd);

    add_node(&gd, "a", "Identity", "b", NULL);
    add_node(&gd, "b", "Identity", "a", NULL);
    expect_import_error(&gd, "cycle", NULL);
    tfc_buf_free(&gd);

    add_node(&gd, "p", "Placeholder", NULL, NULL);
    add_node(&gd, "p", "Placeholder", NULL, NULL);
    expect_import_error(&gd, "two nodes named 'p'", NULL);
    tfc_buf_free(&gd);

    add_node(&gd, "p", "Placeholder", NULL, NULL);
    add_node(&gd, "i", "Identity", "^p", "p");
    expect_import_error(&gd, "data input after a control input", NULL);
    tfc_buf_free(&gd);

    add_node(&gd, "p", "Placeholder", NULL, NULL);
    add_node(&gd, "i", "Identity", "p:x", NULL);
    expect_import_error(&gd, "bad input 'p:x'", NULL);
    tfc_buf_free(&gd);

    /* an op's own check fails: Identity with two inputs */
    add_node(&gd, "p", "Placeholder", NULL, NULL);
    add_node(&gd, "i", "Identity", "p", "p");
    tfc_graph *g = tfc_graph_new();
    tfc_status *st = tfc_status_new();
    CHECK(tfc_graph_import_graphdef(g, gd.p, gd.n, NULL, NULL, NULL, 0, st) == -1);
    CHECK_CONTAINS(tfc_status_message(st), "i");
    tfc_graph_free(g);
    tfc_buf_free(&gd);

    /* malformed bytes: a bad wire type, then every truncation and many
     * random corruptions of a real export; none may crash */
    static const uint8_t junk[] = {0x0b, 0x01, 0x02};
    g = tfc_graph_new();
    CHECK(tfc_graph_import_graphdef(g, junk, sizeof junk, NULL, NULL, NULL, 0, st) == -1);
    CHECK_CONTAINS(tfc_status_message(st), "malformed GraphDef");
    tfc_graph_free(g);

    tfc_output f[4];
    int nf;
    tfc_graph *src = build(f, &nf);
    uint8_t *bytes;
    size_t len;
    CHECK(tfc_graph_to_graphdef(src, &bytes, &len, st) == 0);
    int failures = 0;
    for (size_t cut = 0; cut < len; cut += 7) {
        g = tfc_graph_new();
        failures += tfc_graph_import_graphdef(g, bytes, cut, "t", NULL, NULL, 0, st) != 0;
        tfc_graph_free(g);
    }
    CHECK(failures > 0);
    uint8_t *copy = malloc(len);
    tfc_test_seed(99);
    for (int trial = 0; trial < 200; trial++) {
        memcpy(copy, bytes, len);
        for (int k = 0; k < 3; k++)
            copy[(size_t)tfc_test_uniform(0, (double)len)] = (uint8_t)tfc_test_uniform(0, 256);
        g = tfc_graph_new();
        tfc_graph_import_graphdef(g, copy, len, NULL, NULL, NULL, 0, st);
        tfc_graph_free(g);
    }
    free(copy);
    free(bytes);
    tfc_graph_free(src);
    tfc_status_free(st);
}

/* An attr the op's OpDef lacks but tfc's import knows by name (here
 * output_shapes, a list(shape) of one scalar, on a Placeholder) exports in
 * that kind, so the export imports again (the graphdef fuzz harness found
 * it written as the list(int) tfc keeps shapes in). */
static void test_undeclared_attr_round_trip(void) {
    tfc_buf nd = {0}, attr = {0}, gd = {0};
    put_str(&nd, 1, "x");
    put_str(&nd, 2, "Placeholder");
    static const uint8_t dtype[] = {0x30, 0x01};
    put_str(&attr, 1, "dtype");
    put_len(&attr, 2, dtype, sizeof dtype);
    put_len(&nd, 5, attr.p, attr.n);
    attr.n = 0;
    /* AttrValue{list{shape{}}}: list is field 1, its shapes field 7 */
    static const uint8_t shapes[] = {0x0a, 0x02, 0x3a, 0x00};
    put_str(&attr, 1, "output_shapes");
    put_len(&attr, 2, shapes, sizeof shapes);
    put_len(&nd, 5, attr.p, attr.n);
    put_len(&gd, 1, nd.p, nd.n);
    tfc_status *st = tfc_status_new();
    tfc_graph *g = tfc_graph_new(), *again = tfc_graph_new();
    CHECK_MSG(tfc_graph_import_graphdef(g, gd.p, gd.n, NULL, NULL, NULL, 0, st) == 0, "%s",
              tfc_status_message(st));
    uint8_t *bytes;
    size_t len;
    CHECK(tfc_graph_to_graphdef(g, &bytes, &len, st) == 0);
    static const uint8_t written[] = {'_', 't', 'f', 'c', '_', 'o', 'u', 't', 'p', 'u', 't', '_',
                                      's', 'h', 'a', 'p', 'e', 's', 0x12, 0x04, 0x0a, 0x02, 0x3a,
                                      0x00};
    CHECK(contains(bytes, len, written, sizeof written));
    CHECK_MSG(tfc_graph_import_graphdef(again, bytes, len, NULL, NULL, NULL, 0, st) == 0, "%s",
              tfc_status_message(st));
    free(bytes);
    tfc_graph_free(again);
    tfc_graph_free(g);
    tfc_status_free(st);
    tfc_buf_free(&gd);
    tfc_buf_free(&attr);
    tfc_buf_free(&nd);
}

TFC_TEST_MAIN(T(test_round_trip), T(test_input_map), T(test_wire_details), T(test_import_errors),
              T(test_undeclared_attr_round_trip))
