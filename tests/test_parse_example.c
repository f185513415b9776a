/* ParseExample against the values the records were written with
 * (tfc_example_*): dense features with and without defaults, variable-
 * length ones as sparse triples, strings; an Example encoded by hand with
 * unpacked floats (as other writers may); parse_single_example; and the
 * errors that name the record and the feature. */
#include "harness.h"

#include <stdlib.h>
#include <string.h>

/* Record i: "x" = 3 floats, "label" = int64 (absent for i == 1), "word" =
 * a string, "ids" = i int64s, "tags" = i strings. */
static uint8_t *make_record(int i, size_t *len) {
    tfc_example *ex = tfc_example_new();
    float x[3] = {(float)i, 0.5f * (float)i, -1.0f};
    int64_t label = 10 + i, ids[4];
    const char *tags[4] = {"t0", "tag1", "", "tg3"};
    size_t tl[4] = {2, 4, 0, 3};
    char word[16];
    int wl = snprintf(word, sizeof word, "word%d", i);
    const void *wp = word;
    size_t wlen = (size_t)wl;
    for (int k = 0; k < i; k++) ids[k] = 100 * i + k;
    CHECK(tfc_example_add_floats(ex, "x", x, 3) == 0);
    if (i != 1) CHECK(tfc_example_add_int64s(ex, "label", &label, 1) == 0);
    CHECK(tfc_example_add_bytes(ex, "word", &wp, &wlen, 1) == 0);
    CHECK(tfc_example_add_int64s(ex, "ids", ids, (size_t)i) == 0);
    CHECK(tfc_example_add_bytes(ex, "tags", (const void *const *)tags, tl, (size_t)i) == 0);
    uint8_t *buf = tfc_example_serialize(ex, len);
    tfc_example_free(ex);
    return buf;
}

static const int64_t three[1] = {3};

static void features(tfc_graph *g, tfc_parse_feature f[5]) {
    memset(f, 0, sizeof(tfc_parse_feature) * 5);
    f[0] = (tfc_parse_feature){"x", TFC_FLOAT, 0, 1, three, {NULL, 0}};
    f[1] = (tfc_parse_feature){"label", TFC_INT64, 0, 0, NULL, tfc_const_int64(g, -1)};
    f[2] = (tfc_parse_feature){"word", TFC_STRING, 0, 0, NULL, {NULL, 0}};
    f[3] = (tfc_parse_feature){"ids", TFC_INT64, 1, 0, NULL, {NULL, 0}};
    f[4] = (tfc_parse_feature){"tags", TFC_STRING, 1, 0, NULL, {NULL, 0}};
}

static int elem_is(const tfc_tensor *t, int64_t i, const char *s) {
    size_t len;
    const char *p = tfc_string_tensor_get(t, i, &len);
    return p && len == strlen(s) && !memcmp(p, s, len);
}

static void test_batch(void) {
    enum { B = 4 };
    const char *recs[B];
    size_t lens[B];
    for (int i = 0; i < B; i++) recs[i] = (const char *)make_record(i, &lens[i]);
    tfc_graph *g = tfc_graph_new();
    tfc_output ser = tfc_placeholder(g, "ser", TFC_STRING, 1, (int64_t[]){B});
    tfc_parse_feature f[5];
    features(g, f);
    tfc_output out[9];
    CHECK(tfc_parse_example(g, ser, f, 5, out) == 0);
    CHECK_GRAPH_OK(g);
    CHECK(tfc_output_shape(out[0]).rank == 2 && tfc_output_shape(out[0]).dims[1] == 3);
    tfc_tensor *st = tfc_tensor_from_strings(1, (int64_t[]){B}, recs, lens);
    tfc_tensor *o[9] = {0};
    tfc_status *s = tfc_status_new();
    tfc_session *sess = tfc_session_new(g, NULL, s);
    tfc_session_run(sess, &ser, &st, 1, out, 9, o, NULL, 0, s);
    CHECK_STATUS_OK(s);
    if (o[0]) {
        const float *x = tfc_tensor_data(o[0]);
        const int64_t *label = tfc_tensor_data(o[1]);
        for (int i = 0; i < B; i++) {
            CHECK(x[3 * i] == i && x[3 * i + 1] == 0.5f * i && x[3 * i + 2] == -1);
            CHECK(label[i] == (i == 1 ? -1 : 10 + i));
            char w[16];
            snprintf(w, sizeof w, "word%d", i);
            CHECK(elem_is(o[2], i, w));
        }
        /* ids: 0 + 1 + 2 + 3 values; rows and columns; dense_shape [4, 3] */
        const int64_t *ix = tfc_tensor_data(o[3]), *vals = tfc_tensor_data(o[4]),
                      *shape = tfc_tensor_data(o[5]);
        CHECK(tfc_tensor_dim(o[3], 0) == 6 && shape[0] == B && shape[1] == 3);
        int k = 0;
        for (int i = 0; i < B; i++)
            for (int j = 0; j < i; j++, k++)
                CHECK(ix[2 * k] == i && ix[2 * k + 1] == j && vals[k] == 100 * i + j);
        const char *tags[3] = {"t0", "tag1", ""};
        k = 0;
        for (int i = 0; i < B; i++)
            for (int j = 0; j < i; j++, k++) CHECK(elem_is(o[7], k, tags[j]));
    }
    for (int i = 0; i < 9; i++) tfc_tensor_free(o[i]);

    /* one record */
    tfc_output one = tfc_placeholder(g, "one", TFC_STRING, 0, NULL), so[9];
    CHECK(tfc_parse_single_example(g, one, f, 5, so) == 0);
    CHECK_GRAPH_OK(g);
    tfc_tensor *rt = tfc_tensor_from_strings(0, NULL, &recs[2], &lens[2]);
    tfc_session_run(sess, &one, &rt, 1, so, 9, o, NULL, 0, s);
    CHECK_STATUS_OK(s);
    CHECK(o[0] && tfc_tensor_rank(o[0]) == 1 && ((float *)tfc_tensor_data(o[0]))[1] == 1.0f);
    CHECK(o[1] && tfc_tensor_rank(o[1]) == 0 && *(int64_t *)tfc_tensor_data(o[1]) == 12);
    CHECK(o[3] && tfc_tensor_dim(o[3], 1) == 1 && ((int64_t *)tfc_tensor_data(o[3]))[1] == 1);
    CHECK(o[5] && tfc_tensor_num_elements(o[5]) == 1 && *(int64_t *)tfc_tensor_data(o[5]) == 2);
    for (int i = 0; i < 9; i++) tfc_tensor_free(o[i]);
    tfc_tensor_free(rt);
    tfc_tensor_free(st);
    tfc_session_free(sess);
    tfc_status_free(s);
    tfc_graph_free(g);
    for (int i = 0; i < B; i++) free((void *)recs[i]);
}

/* An Example written field by field, its floats not packed. */
static void test_unpacked_floats(void) {
    const unsigned char rec[16] = {0x0a, 0x0e, 0x0a, 0x0c, 0x0a, 0x01, 'x',  0x12,
                                   0x07, 0x12, 0x05, 0x0d, 0x00, 0x00, 0xc0, 0x3f};
    tfc_graph *g = tfc_graph_new();
    const char *p = (const char *)rec;
    size_t len = sizeof rec;
    tfc_output ser = tfc_const_strings(g, 1, (int64_t[]){1}, &p, &len), x;
    int64_t one = 1;
    tfc_parse_feature f = {"x", TFC_FLOAT, 0, 1, &one, {NULL, 0}};
    CHECK(tfc_parse_example(g, ser, &f, 1, &x) == 0);
    tfc_tensor *t = tfc_test_eval(g, x, NULL, NULL, 0);
    CHECK(t && ((float *)tfc_tensor_data(t))[0] == 1.5f);
    tfc_tensor_free(t);
    tfc_graph_free(g);
}

static void expect_error(const char *const *recs, const size_t *lens, int n,
                         const tfc_parse_feature *f, int nf, const char *want1, const char *want2) {
    tfc_graph *g = tfc_graph_new();
    tfc_output ser = tfc_const_strings(g, 1, (int64_t[]){n}, recs, lens), out[8];
    CHECK(tfc_parse_example(g, ser, f, nf, out) == 0);
    tfc_status *s = tfc_status_new();
    tfc_session *sess = tfc_session_new(g, NULL, s);
    tfc_tensor *o = NULL;
    tfc_session_run(sess, NULL, NULL, 0, out, 1, &o, NULL, 0, s);
    CHECK(tfc_status_code(s) == TFC_INVALID_ARGUMENT);
    CHECK_CONTAINS(tfc_status_message(s), want1);
    CHECK_CONTAINS(tfc_status_message(s), want2);
    tfc_tensor_free(o);
    tfc_session_free(sess);
    tfc_status_free(s);
    tfc_graph_free(g);
}

static void test_errors(void) {
    size_t l0, l1;
    uint8_t *r0 = make_record(0, &l0), *r1 = make_record(1, &l1);
    const char *recs[3] = {(const char *)r0, (const char *)r1, "\xff\xff garbage"};
    size_t lens[3] = {l0, l1, 10};
    int64_t two = 2, three = 3;
    tfc_parse_feature dense_x = {"x", TFC_FLOAT, 0, 1, &three, {NULL, 0}};
    tfc_parse_feature x_as_int = {"x", TFC_INT64, 0, 1, &three, {NULL, 0}};
    tfc_parse_feature x_of_two = {"x", TFC_FLOAT, 0, 1, &two, {NULL, 0}};
    tfc_parse_feature need_label = {"label", TFC_INT64, 0, 0, NULL, {NULL, 0}};
    expect_error(recs, lens, 3, &dense_x, 1, "(record 2)", "Could not parse example input");
    expect_error(recs, lens, 2, &need_label, 1, "(record 1), Feature: label",
                 "is required but could not be found");
    expect_error(recs, lens, 1, &x_as_int, 1, "Feature: x.  Data types don't match",
                 "Data type: float but expected type: int64");
    expect_error(recs, lens, 1, &x_of_two, 1, "Key: x, Index: 0",
                 "Values size: 3 but output shape: [2]");
    free(r0);
    free(r1);
}

TFC_TEST_MAIN(T(test_batch), T(test_unpacked_floats), T(test_errors))
