/* ParseSingleExample (TensorFlow 1.7's op, keys in list(string) attrs):
 * the same values as ParseExample on a batch of one, without the batch dim
 * (sparse indices [n, 1], sparse shapes [1]); a GraphDef round trip that
 * carries the list(string) attrs; its build-time and run-time errors. */
#include "harness.h"

#include <stdlib.h>
#include <string.h>

/* Record i: "x" 2 floats, "label" int64 unless i == 1, "tags" i strings,
 * "ids" i int64s. */
static uint8_t *make_record(int i, size_t *len) {
    tfc_example *ex = tfc_example_new();
    float x[2] = {(float)i, -0.25f * (float)i};
    int64_t label = 7 + i, ids[3];
    const char *tags[3] = {"a", "", "ccc"};
    size_t tl[3] = {1, 0, 3};
    for (int k = 0; k < i; k++) ids[k] = 10 * i + k;
    CHECK(tfc_example_add_floats(ex, "x", x, 2) == 0);
    if (i != 1) CHECK(tfc_example_add_int64s(ex, "label", &label, 1) == 0);
    CHECK(tfc_example_add_bytes(ex, "tags", (const void *const *)tags, tl, (size_t)i) == 0);
    CHECK(tfc_example_add_int64s(ex, "ids", ids, (size_t)i) == 0);
    uint8_t *buf = tfc_example_serialize(ex, len);
    tfc_example_free(ex);
    return buf;
}

static const int64_t two[1] = {2};

/* x [2] float, label int64 (default -1), tags and ids variable length:
 * outputs x, label, tags (3), ids (3) */
enum { NFEAT = 4, NOUT = 8 };
static void features(tfc_graph *g, tfc_parse_feature f[NFEAT]) {
    f[0] = (tfc_parse_feature){"x", TFC_FLOAT, 0, 1, two, {NULL, 0}};
    f[1] = (tfc_parse_feature){"label", TFC_INT64, 0, 0, NULL, tfc_const_int64(g, -1)};
    f[2] = (tfc_parse_feature){"tags", TFC_STRING, 1, 0, NULL, {NULL, 0}};
    f[3] = (tfc_parse_feature){"ids", TFC_INT64, 1, 0, NULL, {NULL, 0}};
}

/* Does [p, p + n) hold the string s? */
static int holds(const uint8_t *p, size_t n, const char *s) {
    size_t k = strlen(s);
    for (size_t i = 0; i + k <= n; i++)
        if (!memcmp(p + i, s, k)) return 1;
    return 0;
}

static int same_tensor(const tfc_tensor *a, const tfc_tensor *b) {
    if (!a || !b || tfc_tensor_dtype(a) != tfc_tensor_dtype(b) ||
        tfc_tensor_num_elements(a) != tfc_tensor_num_elements(b))
        return 0;
    if (tfc_tensor_dtype(a) != TFC_STRING)
        return !memcmp(tfc_tensor_data(a), tfc_tensor_data(b), tfc_tensor_nbytes(a));
    for (int64_t i = 0; i < tfc_tensor_num_elements(a); i++) {
        size_t la, lb;
        const char *pa = tfc_string_tensor_get(a, i, &la), *pb = tfc_string_tensor_get(b, i, &lb);
        if (la != lb || (la && memcmp(pa, pb, la))) return 0;
    }
    return 1;
}

static void test_matches_a_batch_of_one(void) {
    for (int i = 0; i < 4; i++) {
        size_t len;
        uint8_t *rec = make_record(i, &len);
        tfc_graph *g = tfc_graph_new();
        tfc_output one = tfc_placeholder(g, "one", TFC_STRING, 0, NULL);
        tfc_output batch = tfc_reshape(g, one, 1, (int64_t[]){1});
        tfc_parse_feature f[NFEAT];
        features(g, f);
        tfc_output s[NOUT], b[NOUT];
        CHECK(tfc_parse_single_example(g, one, f, NFEAT, s) == 0);
        CHECK(tfc_parse_example(g, batch, f, NFEAT, b) == 0);
        CHECK_GRAPH_OK(g);
        CHECK(!strcmp(tfc_node_type(s[0].node), "ParseSingleExample"));
        tfc_status *st = tfc_status_new();
        tfc_session *sess = tfc_session_new(g, NULL, st);
        tfc_tensor *in = tfc_tensor_scalar_string((const char *)rec, len);
        tfc_output fetch[2 * NOUT];
        memcpy(fetch, s, sizeof s);
        memcpy(fetch + NOUT, b, sizeof b);
        tfc_tensor *got[2 * NOUT] = {NULL};
        tfc_session_run(sess, &one, &in, 1, fetch, 2 * NOUT, got, NULL, 0, st);
        CHECK_STATUS_OK(st);
        tfc_tensor **single = got, **batched = got + NOUT;
        /* dense: the batch's values, shape without its batch dim */
        CHECK(tfc_tensor_rank(single[0]) == 1 && tfc_tensor_dim(single[0], 0) == 2);
        CHECK(tfc_tensor_rank(single[1]) == 0);
        CHECK_MSG(same_tensor(single[0], batched[0]) && same_tensor(single[1], batched[1]),
                  "record %d: dense values differ from ParseExample's", i);
        CHECK(*(const int64_t *)tfc_tensor_data(single[1]) == (i == 1 ? -1 : 7 + i));
        for (int k = 2; k < NOUT; k += 3) { /* tags, ids: indices, values, shape */
            const tfc_tensor *ix = single[k], *bix = batched[k];
            CHECK(tfc_tensor_rank(ix) == 2 && tfc_tensor_dim(ix, 0) == i &&
                  tfc_tensor_dim(ix, 1) == 1);
            const int64_t *p = tfc_tensor_data(ix), *bp = tfc_tensor_data(bix);
            for (int r = 0; r < i; r++)
                CHECK_MSG(p[r] == r && bp[2 * r + 1] == r, "record %d: index %d is %lld", i, r,
                          (long long)p[r]);
            CHECK(same_tensor(single[k + 1], batched[k + 1]));
            CHECK(tfc_tensor_rank(single[k + 2]) == 1 && tfc_tensor_dim(single[k + 2], 0) == 1);
            CHECK(*(const int64_t *)tfc_tensor_data(single[k + 2]) == i);
        }
        for (int k = 0; k < 2 * NOUT; k++) tfc_tensor_free(got[k]);
        tfc_tensor_free(in);
        tfc_session_free(sess);
        tfc_status_free(st);
        tfc_graph_free(g);
        free(rec);
    }
}

/* Exported and imported again, the node keeps its op and its list(string)
 * keys, and parses the same. */
static void test_graphdef_round_trip(void) {
    size_t len;
    uint8_t *rec = make_record(3, &len);
    tfc_graph *g = tfc_graph_new();
    tfc_output one = tfc_placeholder(g, "one", TFC_STRING, 0, NULL);
    tfc_parse_feature f[NFEAT];
    features(g, f);
    tfc_output s[NOUT];
    CHECK(tfc_parse_single_example(g, one, f, NFEAT, s) == 0);
    CHECK_GRAPH_OK(g);
    uint8_t *bytes = NULL;
    size_t nbytes = 0;
    tfc_status *st = tfc_status_new();
    CHECK(tfc_graph_to_graphdef(g, &bytes, &nbytes, st) == 0);
    CHECK_STATUS_OK(st);
    /* the keys are in the bytes as list(string) entries */
    CHECK(holds(bytes, nbytes, "sparse_keys") && holds(bytes, nbytes, "dense_keys") &&
          holds(bytes, nbytes, "label") && holds(bytes, nbytes, "tags"));
    tfc_graph *g2 = tfc_graph_new();
    CHECK(tfc_graph_import_graphdef(g2, bytes, nbytes, "re", NULL, NULL, 0, st) == 0);
    CHECK_STATUS_OK(st);
    char name[300];
    snprintf(name, sizeof name, "re/%s", tfc_node_name(s[0].node));
    tfc_node *n2 = tfc_graph_node_by_name(g2, name);
    CHECK(n2 && !strcmp(tfc_node_type(n2), "ParseSingleExample"));
    tfc_node *in2 = tfc_graph_node_by_name(g2, "re/one");
    CHECK(in2 != NULL);
    if (n2 && in2) {
        tfc_output one2 = tfc_out(in2, 0), fetch[NOUT * 2];
        for (int k = 0; k < NOUT; k++) fetch[k] = s[k];
        tfc_session *a = tfc_session_new(g, NULL, st), *b = tfc_session_new(g2, NULL, st);
        tfc_tensor *in = tfc_tensor_scalar_string((const char *)rec, len);
        tfc_tensor *got[NOUT * 2] = {NULL};
        tfc_session_run(a, &one, &in, 1, fetch, NOUT, got, NULL, 0, st);
        CHECK_STATUS_OK(st);
        for (int k = 0; k < NOUT; k++) fetch[k] = tfc_out(n2, s[k].index);
        tfc_session_run(b, &one2, &in, 1, fetch, NOUT, got + NOUT, NULL, 0, st);
        CHECK_STATUS_OK(st);
        for (int k = 0; k < NOUT; k++)
            CHECK_MSG(same_tensor(got[k], got[NOUT + k]), "output %d differs after the round trip",
                      k);
        for (int k = 0; k < 2 * NOUT; k++) tfc_tensor_free(got[k]);
        tfc_tensor_free(in);
        tfc_session_free(a);
        tfc_session_free(b);
    }
    free(bytes);
    tfc_graph_free(g2);
    tfc_graph_free(g);
    tfc_status_free(st);
    free(rec);
}

/* Runs the features on record bytes; the error must hold both parts. */
static void expect_run_error(const void *rec, size_t len, const char *part1, const char *part2) {
    tfc_graph *g = tfc_graph_new();
    tfc_output one = tfc_placeholder(g, "one", TFC_STRING, 0, NULL);
    tfc_parse_feature f[NFEAT];
    features(g, f);
    f[1].default_value = (tfc_output){NULL, 0}; /* label required */
    tfc_output s[NOUT];
    CHECK(tfc_parse_single_example(g, one, f, NFEAT, s) == 0);
    tfc_status *st = tfc_status_new();
    tfc_session *sess = tfc_session_new(g, NULL, st);
    tfc_tensor *in = tfc_tensor_scalar_string(rec, len), *got[NOUT] = {NULL};
    tfc_session_run(sess, &one, &in, 1, s, NOUT, got, NULL, 0, st);
    const char *msg = tfc_status_message(st);
    CHECK_MSG(tfc_status_code(st) == TFC_INVALID_ARGUMENT && strstr(msg, part1) &&
                  strstr(msg, part2),
              "got: %s", msg);
    for (int k = 0; k < NOUT; k++) tfc_tensor_free(got[k]);
    tfc_tensor_free(in);
    tfc_session_free(sess);
    tfc_status_free(st);
    tfc_graph_free(g);
}

static void test_errors(void) {
    size_t len;
    uint8_t *rec = make_record(1, &len); /* no label */
    expect_run_error(rec, len, "Feature: label", "is required but could not be found");
    expect_run_error("\x0a\x05zzzzzzzz", 10, "Could not parse example input",
                     "not a tf.train.Example");
    free(rec);
    /* build time: a vector of records, and keys that do not match the counts */
    tfc_graph *g = tfc_graph_new();
    tfc_output v = tfc_placeholder(g, "v", TFC_STRING, 1, (int64_t[]){2}), s[NOUT];
    tfc_parse_feature f[NFEAT];
    features(g, f);
    CHECK(tfc_parse_single_example(g, v, f, NFEAT, s) != 0);
    CHECK(tfc_graph_error(g) && strstr(tfc_graph_error(g), "must be a string scalar"));
    tfc_graph_free(g);
    g = tfc_graph_new();
    tfc_op_desc *d = tfc_op_new(g, "ParseSingleExample", "p");
    tfc_op_add_input(d, tfc_placeholder(g, "r", TFC_STRING, 0, NULL));
    tfc_op_set_attr_int(d, "num_sparse", 1);
    const char *keys[1] = {"k"};
    tfc_op_set_attr_string_list(d, "sparse_keys", keys, 0);
    tfc_op_set_attr_string_list(d, "dense_keys", keys, 0);
    tfc_op_set_attr_int_list(d, "sparse_types", (int64_t[]){TFC_INT64}, 1);
    tfc_op_set_attr_int_list(d, "dense_shapes", NULL, 0);
    CHECK(tfc_op_finish(d) == NULL);
    CHECK_MSG(tfc_graph_error(g) && strstr(tfc_graph_error(g), "sparse_keys"), "got: %s",
              tfc_graph_error(g) ? tfc_graph_error(g) : "(none)");
    tfc_graph_free(g);
}

TFC_TEST_MAIN(T(test_matches_a_batch_of_one), T(test_graphdef_round_trip), T(test_errors))
