/* ParseExample on features holding one value each, in every layout that
 * leaves one value: ParseExample reads such a feature from where its
 * scan found the value (data/example_wire.c, exw_feature.first) instead
 * of walking the lists again. The value must be the one protobuf's merge
 * rules leave: an empty list before it, another oneof member replaced by
 * it, packed or not, multi-byte varints, negative int64s, a key repeated
 * (the last entry wins). */
#include "example_encode.h"
#include "harness.h"

#include <string.h>

enum { NREC = 8 };

typedef struct want {
    float f;
    int64_t i;
    const char *s;
} want;

/* Record r's "f", "i" and "s" in layout r (each leaves one value). */
static void record(tfc_buf *rec, int r, want *w) {
    static const float fv[] = {2.5f, -3.25f, 1e30f, 0.0f, 7.0f, -0.5f, 9.75f, 11.0f};
    static const int64_t iv[] = {300, -5, 1LL << 40, 0, -5000000000LL, 127, 128, 16383};
    static const char *sv[] = {"x", "", "two words", "zz", "\x80\x81", "last", "q", "0123456789"};
    w->f = fv[r];
    w->i = iv[r];
    w->s = sv[r];
    int64_t other_i = 99;
    float other_f = 42;
    tfc_buf feats = {0}, ft = {0};
    /* "f" */
    switch (r % 4) {
    case 0: float_list(&ft, &fv[r], 1, 1); break;
    case 1: float_list(&ft, &fv[r], 1, 0); break;
    case 2: /* an empty list, then the value: concatenated */
        float_list(&ft, NULL, 0, 1);
        float_list(&ft, &fv[r], 1, r % 8 == 2);
        break;
    default: /* another member first: replaced */
        int64_list(&ft, &other_i, 1, 1);
        float_list(&ft, &fv[r], 1, r == 3);
        break;
    }
    entry(&feats, "f", &ft);
    /* "i" */
    ft.n = 0;
    switch ((r / 2) % 4) {
    case 0: int64_list(&ft, &iv[r], 1, r % 2); break;
    case 1:
        int64_list(&ft, NULL, 0, 1);
        int64_list(&ft, &iv[r], 1, r % 2);
        break;
    case 2:
        bytes_list(&ft, "replaced");
        int64_list(&ft, &iv[r], 1, r % 2);
        break;
    default:
        float_list(&ft, &other_f, 1, 1);
        int64_list(&ft, NULL, 0, 0);
        int64_list(&ft, &iv[r], 1, r % 2);
        break;
    }
    if (r % 3 == 0) { /* the key twice: the first entry loses */
        tfc_buf first = {0};
        int64_list(&first, &other_i, 1, 1);
        entry(&feats, "i", &first);
        tfc_buf_free(&first);
    }
    entry(&feats, "i", &ft);
    /* "s" */
    ft.n = 0;
    switch (r % 3) {
    case 0: bytes_list(&ft, sv[r]); break;
    case 1:
        bytes_list(&ft, NULL);
        bytes_list(&ft, sv[r]);
        break;
    default:
        int64_list(&ft, &other_i, 1, 0);
        bytes_list(&ft, sv[r]);
        break;
    }
    entry(&feats, "s", &ft);
    *rec = (tfc_buf){0};
    put_len(rec, 1, feats.p, feats.n);
    tfc_buf_free(&feats);
    tfc_buf_free(&ft);
}

static void test_single_values_in_every_layout(void) {
    tfc_buf recs[NREC];
    want w[NREC];
    tfc_string views[NREC];
    for (int r = 0; r < NREC; r++) {
        record(&recs[r], r, &w[r]);
        views[r] = (tfc_string){(const char *)recs[r].p, recs[r].n};
    }
    int64_t n = NREC;
    tfc_tensor *rt = tfc_tensor_from_data(TFC_STRING, 1, &n, views);
    tfc_graph *g = tfc_graph_new();
    tfc_output ser = tfc_const(g, rt);
    tfc_parse_feature f[3] = {{"f", TFC_FLOAT, 0, 0, NULL, {NULL, 0}},
                              {"i", TFC_INT64, 0, 0, NULL, {NULL, 0}},
                              {"s", TFC_STRING, 0, 0, NULL, {NULL, 0}}};
    tfc_output o[3], one[3];
    tfc_parse_example(g, ser, f, 3, o);
    /* and each record alone through ParseSingleExample */
    tfc_output rec = tfc_placeholder(g, "rec", TFC_STRING, 0, NULL);
    tfc_parse_single_example(g, rec, f, 3, one);
    CHECK_GRAPH_OK(g);
    tfc_status *st = tfc_status_new();
    tfc_session *s = tfc_session_new(g, NULL, st);
    tfc_tensor *out[3] = {NULL, NULL, NULL};
    tfc_session_run(s, NULL, NULL, 0, o, 3, out, NULL, 0, st);
    CHECK_STATUS_OK(st);
    for (int r = 0; out[0] && out[1] && out[2] && r < NREC; r++) {
        CHECK_MSG(((const float *)tfc_tensor_data(out[0]))[r] == w[r].f, "record %d: f %g", r,
                  ((const float *)tfc_tensor_data(out[0]))[r]);
        CHECK_MSG(((const int64_t *)tfc_tensor_data(out[1]))[r] == w[r].i, "record %d: i %lld", r,
                  (long long)((const int64_t *)tfc_tensor_data(out[1]))[r]);
        size_t len;
        const char *sv = tfc_string_tensor_get(out[2], r, &len);
        CHECK_MSG(len == strlen(w[r].s) && !memcmp(sv, w[r].s, len), "record %d: s '%.*s'", r,
                  (int)len, sv);
    }
    for (int k = 0; k < 3; k++) tfc_tensor_free(out[k]);
    for (int r = 0; r < NREC; r++) {
        tfc_tensor *t = tfc_tensor_scalar_string((const char *)recs[r].p, recs[r].n);
        tfc_tensor *got[3] = {NULL, NULL, NULL};
        tfc_session_run(s, &rec, &t, 1, one, 3, got, NULL, 0, st);
        CHECK_STATUS_OK(st);
        if (got[0] && got[1] && got[2]) {
            CHECK(*(const float *)tfc_tensor_data(got[0]) == w[r].f);
            CHECK(*(const int64_t *)tfc_tensor_data(got[1]) == w[r].i);
            size_t len;
            const char *sv = tfc_string_tensor_get(got[2], 0, &len);
            CHECK_MSG(len == strlen(w[r].s) && !memcmp(sv, w[r].s, len), "single %d: s '%.*s'", r,
                      (int)len, sv);
        }
        for (int k = 0; k < 3; k++) tfc_tensor_free(got[k]);
        tfc_tensor_free(t);
    }
    tfc_session_free(s);
    tfc_status_free(st);
    tfc_graph_free(g);
    tfc_tensor_free(rt);
    for (int r = 0; r < NREC; r++) tfc_buf_free(&recs[r]);
}

TFC_TEST_MAIN(T(test_single_values_in_every_layout))
