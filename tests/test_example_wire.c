/* ParseExample on Examples encoded here byte by byte, for protobuf's rules
 * that a writer other than tfc's may lean on (ParseExample reads the wire
 * bytes itself, data/example_wire.c): a later map entry of a key wins, a
 * later oneof member replaces the earlier one, the same list repeated
 * concatenates, two Features fields merge, packed and unpacked values,
 * negative int64s, unknown fields skipped; malformed records fail naming
 * the record; a malformed Feature under a key nobody asked for is skipped
 * (as TensorFlow's fast parser does). */
#include "example_encode.h"
#include "harness.h"

#include <stdlib.h>
#include <string.h>

/* Parses the records with features "f" (3 floats), "i" (var-len int64),
 * "s" (string); the outputs' tensors, or NULL with *st set */
static int parse(const tfc_buf *recs, int n, tfc_tensor *out[5], tfc_status *st) {
    tfc_graph *g = tfc_graph_new();
    tfc_string views[8];
    for (int k = 0; k < n; k++) views[k] = (tfc_string){(const char *)recs[k].p, recs[k].n};
    int64_t nn = n;
    tfc_tensor *rt = tfc_tensor_from_data(TFC_STRING, 1, &nn, views);
    tfc_output ser = tfc_const(g, rt);
    tfc_tensor_free(rt);
    static const int64_t three = 3;
    tfc_parse_feature f[3] = {{"f", TFC_FLOAT, 0, 1, &three, {NULL, 0}},
                              {"i", TFC_INT64, 1, 0, NULL, {NULL, 0}},
                              {"s", TFC_STRING, 0, 0, NULL, tfc_const_string(g, "none")}};
    tfc_output o[5];
    tfc_parse_example(g, ser, f, 3, o);
    CHECK_GRAPH_OK(g);
    tfc_session *s = tfc_session_new(g, NULL, st);
    for (int k = 0; k < 5; k++) out[k] = NULL;
    tfc_session_run(s, NULL, NULL, 0, o, 5, out, NULL, 0, st);
    tfc_session_free(s);
    tfc_graph_free(g);
    return tfc_status_code(st) == TFC_OK ? 0 : -1;
}

static void free_all(tfc_tensor *out[5]) {
    for (int k = 0; k < 5; k++) tfc_tensor_free(out[k]);
}

static void test_merge_rules(void) {
    static const float f1[3] = {1, 2, 3}, f2[3] = {4, 5, 6}, f3[2] = {7, 8}, f4[1] = {9};
    static const int64_t i1[2] = {-1, 300}, i2[1] = {-5000000000LL};
    tfc_buf rec[2] = {{0}, {0}};
    /* record 0: "f" twice (the second wins); "i" packed then unpacked
     * (one list member repeated: concatenated); an unknown field; "s" a
     * bytes_list replaced by ... a bytes_list (oneof same member) */
    tfc_buf feats = {0}, ft = {0};
    float_list(&ft, f1, 3, 1);
    entry(&feats, "f", &ft);
    ft.n = 0;
    float_list(&ft, f2, 3, 0);
    entry(&feats, "f", &ft);
    ft.n = 0;
    int64_list(&ft, i1, 2, 1);
    int64_list(&ft, i2, 1, 0);
    pb_put_varint(&ft, 7 << 3); /* unknown Feature field */
    pb_put_varint(&ft, 42);
    entry(&feats, "i", &ft);
    ft.n = 0;
    bytes_list(&ft, "hello");
    entry(&feats, "s", &ft);
    pb_put_varint(&rec[0], 99 << 3); /* unknown Example field */
    pb_put_varint(&rec[0], 1);
    put_len(&rec[0], 1, feats.p, feats.n);
    /* record 1: two Features fields (merged); "f" as a bytes_list first,
     * then floats split over two FloatLists (the member that replaced it,
     * repeated: concatenated) */
    feats.n = 0;
    ft.n = 0;
    bytes_list(&ft, "replaced");
    float_list(&ft, f3, 2, 1);
    float_list(&ft, f4, 1, 0);
    entry(&feats, "f", &ft);
    put_len(&rec[1], 1, feats.p, feats.n);
    feats.n = 0;
    ft.n = 0;
    bytes_list(&ft, "second");
    entry(&feats, "s", &ft);
    put_len(&rec[1], 1, feats.p, feats.n);

    tfc_status *st = tfc_status_new();
    tfc_tensor *out[5];
    /* outputs in the features' order: f, i (indices, values, shape), s */
    CHECK(parse(rec, 2, out, st) == 0);
    CHECK_STATUS_OK(st);
    if (out[0]) {
        const float *f = tfc_tensor_data(out[0]);
        static const float want[6] = {4, 5, 6, 7, 8, 9};
        for (int k = 0; k < 6; k++) CHECK_MSG(f[k] == want[k], "f[%d] = %g", k, f[k]);
    }
    if (out[2]) {
        CHECK(tfc_tensor_dim(out[2], 0) == 3);
        const int64_t *v = tfc_tensor_data(out[2]);
        CHECK(v[0] == -1 && v[1] == 300 && v[2] == -5000000000LL);
    }
    if (out[4]) {
        size_t n0, n1;
        const char *s0 = tfc_string_tensor_get(out[4], 0, &n0),
                   *s1 = tfc_string_tensor_get(out[4], 1, &n1);
        CHECK(n0 == 5 && !memcmp(s0, "hello", 5));
        CHECK(n1 == 6 && !memcmp(s1, "second", 6));
    }
    free_all(out);
    tfc_buf_free(&feats);
    tfc_buf_free(&ft);

    /* malformed: errors name the record */
    tfc_buf bad[2] = {{0}, {0}};
    tfc_buf_append(&bad[0], rec[0].p, rec[0].n);
    tfc_buf_append(&bad[1], rec[1].p, rec[1].n - 3); /* truncated */
    CHECK(parse(bad, 2, out, st) == -1);
    CHECK(tfc_status_code(st) == TFC_INVALID_ARGUMENT);
    CHECK_CONTAINS(tfc_status_message(st), "(record 1): Could not parse example input");
    free_all(out);
    for (size_t cut = 0; cut < rec[0].n; cut++) { /* any prefix: an error or a parse, no crash */
        bad[0].n = 0;
        tfc_buf_append(&bad[0], rec[0].p, cut);
        if (parse(bad, 1, out, st) == 0) CHECK(cut == 0); /* only "" is an (empty) Example */
        free_all(out);
    }
    bad[0].n = 0;
    pb_put_varint(&bad[0], 1 << 3 | 0); /* features as a varint: the wrong wire type */
    pb_put_varint(&bad[0], 5);
    CHECK(parse(bad, 1, out, st) == -1);
    CHECK_CONTAINS(tfc_status_message(st), "(record 0): Could not parse example input");
    free_all(out);
    for (int k = 0; k < 2; k++) {
        tfc_buf_free(&bad[k]);
        tfc_buf_free(&rec[k]);
    }
    tfc_status_free(st);
}

/* A Feature whose insides are malformed (a FloatList of 5 bytes): under a
 * key nobody asked for it is skipped, as TensorFlow's fast parser does
 * (its map entry is well formed); under a requested key it is an error. */
static void test_unrequested_feature_skipped(void) {
    tfc_status *st = tfc_status_new();
    tfc_buf bad_feature = {0}, fl = {0};
    put_len(&fl, 1, "12345", 5); /* packed floats: 5 bytes is no whole float */
    put_len(&bad_feature, 2, fl.p, fl.n);
    float fv[3] = {1, 2, 3};
    for (int requested = 0; requested < 2; requested++) {
        tfc_buf feats = {0}, ft = {0}, rec = {0};
        float_list(&ft, fv, 3, 1);
        entry(&feats, "f", &ft);
        entry(&feats, requested ? "i" : "other", &bad_feature);
        put_len(&rec, 1, feats.p, feats.n);
        tfc_tensor *out[5];
        int rc = parse(&rec, 1, out, st);
        if (requested) {
            CHECK(rc == -1);
            CHECK_CONTAINS(tfc_status_message(st), "(record 0): Could not parse example input");
        } else {
            CHECK_STATUS_OK(st);
            CHECK(out[0] && ((const float *)tfc_tensor_data(out[0]))[2] == 3.0f);
        }
        free_all(out);
        tfc_buf_free(&feats);
        tfc_buf_free(&ft);
        tfc_buf_free(&rec);
    }
    tfc_buf_free(&bad_feature);
    tfc_buf_free(&fl);
    tfc_status_free(st);
}

TFC_TEST_MAIN(T(test_merge_rules), T(test_unrequested_feature_skipped))
