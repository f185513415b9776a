/* The string ops against reference loops written here on random data, and
 * against TensorFlow's own test values where it has them (Fingerprint64's
 * buckets, FarmHash's published hashes), plus their error messages. */
#include "core/fingerprint.h"
#include "core/tensor.h"
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static tfc_tensor *strs1(int n, const char *const *s) {
    int64_t d = n;
    return tfc_tensor_from_strings(1, &d, s, NULL);
}

/* Element i equals the NUL-terminated `want`. */
static int elem_is(const tfc_tensor *t, int64_t i, const char *want) {
    size_t len;
    const char *p = tfc_string_tensor_get(t, i, &len);
    return p && len == strlen(want) && !memcmp(p, want, len);
}

/* Runs fetches with one feed (or none; the call frees it) in a fresh
 * session. Returns the status code; message into msg. */
static tfc_code run(tfc_graph *g, const tfc_output *feed, tfc_tensor *value,
                    const tfc_output *fetches, int n, tfc_tensor **out, char *msg, size_t cap) {
    tfc_status *st = tfc_status_new();
    tfc_session *s = tfc_session_new(g, NULL, st);
    tfc_session_run(s, feed, feed ? &value : NULL, feed ? 1 : 0, fetches, n, out, NULL, 0, st);
    tfc_code code = tfc_status_code(st);
    if (msg) snprintf(msg, cap, "%s", tfc_status_message(st));
    tfc_tensor_free(value);
    tfc_session_free(s);
    tfc_status_free(st);
    return code;
}

static void random_word(char *buf, int *len, int max) {
    *len = (int)tfc_test_uniform(0, max + 1);
    for (int k = 0; k < *len; k++) buf[k] = "ab,c d"[(int)tfc_test_uniform(0, 6)];
}

/* ---- Fingerprint64 ---- */

/* FarmHash's self-test data: byte i of a 2^20-byte buffer from its
 * generator, and farmhashna::Hash64 of (offset, len) pieces of it. */
static void farm_data(unsigned char *data, int n) {
    const uint64_t k0 = 0xc3a5c85c97cb3127ull;
    uint64_t a = 9, b = 777;
    for (int i = 0; i < n; i++) {
        a += b;
        b += a;
        a = (a ^ (a >> 41)) * k0;
        b = (b ^ (b >> 41)) * k0 + (uint64_t)i;
        data[i] = (unsigned char)(b >> 37);
    }
}

static void test_fingerprint(void) {
    static const struct {
        int offset, len;
        uint64_t hash;
    } known[] = {
        {0, 0, 0x9ae16a3b2f90404full},       {1, 1, 0x541150e87f415e96ull},
        {4, 2, 0x0f3786a4b25827c1ull},       {9, 3, 0xef923a7a1af78eabull},
        {16, 4, 0x11df592596f41d88ull},      {25, 5, 0x831f448bdc5600b3ull},
        {49, 7, 0x1b5a063fb4c7f9f1ull},      {64, 8, 0xa0f10149a0e538d6ull},
        {81, 9, 0xfb8d9c70660b910bull},      {144, 12, 0xe3f6828b6017086dull},
        {225, 15, 0x44473e03be306c88ull},    {256, 16, 0x03ead5f21d344056ull},
        {289, 17, 0x6abbfde37ee03b5bull},    {400, 20, 0x4182832b52d63735ull},
        {961, 31, 0x55bdb0e71e3edebdull},    {1024, 32, 0x0782fa1b08b475e7ull},
        {1089, 33, 0x09deb3da5e16b5b8ull},   {1600, 40, 0x01596fbb269fb44eull},
        {3969, 63, 0xa8edbff858475437ull},   {4096, 64, 0xdef74bf4c9f1bc1bull},
        {4225, 65, 0x3cceab392bc39b3full},   {4356, 66, 0x9b97f76002f66a94ull},
        {10000, 100, 0x05ad36f677825ce0ull}, {16129, 127, 0x99096f55f2e75eb0ull},
        {16384, 128, 0xf4a9a248b462909dull}, {16641, 129, 0xd4f7c858d78153b6ull},
        {40000, 200, 0x40f32eb90e5caa01ull}, {88804, 298, 0x2031c84bc57a1a9full},
    };
    static unsigned char data[90000];
    farm_data(data, (int)sizeof data);
    for (size_t i = 0; i < sizeof known / sizeof *known; i++) {
        uint64_t h = tfc_fingerprint64(data + known[i].offset, (size_t)known[i].len);
        CHECK_MSG(h == known[i].hash, "len %d: %016llx, want %016llx", known[i].len,
                  (unsigned long long)h, (unsigned long long)known[i].hash);
    }
    /* TensorFlow's string_to_hash_bucket_op_test */
    CHECK(tfc_fingerprint64("a", 1) == 12917804110809363939ull);
    CHECK(tfc_fingerprint64("d", 1) == 4470636696479570465ull);

    tfc_graph *g = tfc_graph_new();
    const char *abcd[] = {"a", "b", "c", "d"};
    int64_t four = 4;
    tfc_output x = tfc_const_strings(g, 1, &four, abcd, NULL);
    tfc_output h10 = tfc_string_to_hash_bucket_fast(g, x, 10);
    tfc_output h1 = tfc_string_to_hash_bucket_fast(g, x, 1);
    CHECK_GRAPH_OK(g);
    tfc_output f[2] = {h10, h1};
    tfc_tensor *out[2] = {NULL, NULL};
    CHECK(run(g, NULL, NULL, f, 2, out, NULL, 0) == TFC_OK);
    const int64_t want[] = {9, 2, 2, 5};
    for (int i = 0; out[0] && i < 4; i++) {
        CHECK(((int64_t *)tfc_tensor_data(out[0]))[i] == want[i]);
        CHECK(((int64_t *)tfc_tensor_data(out[1]))[i] == 0);
    }
    tfc_tensor_free(out[0]);
    tfc_tensor_free(out[1]);
    tfc_string_to_hash_bucket_fast(g, x, 0);
    CHECK_CONTAINS(tfc_graph_error(g), "num_buckets must be at least 1");
    tfc_graph_free(g);
}

/* ---- StringJoin, ReduceJoin ---- */

static void test_join(void) {
    tfc_test_seed(3);
    tfc_graph *g = tfc_graph_new();
    int64_t d[] = {2, 3};
    tfc_output a = tfc_placeholder(g, "a", TFC_STRING, 2, d);
    tfc_output in[3] = {a, tfc_const_string(g, "<>"), a};
    tfc_output j = tfc_string_join(g, in, 3, "--");
    int32_t ax0[] = {0}, ax10[] = {1, 0}, axm[] = {-1};
    tfc_output r0 = tfc_reduce_join(g, a, ax0, 1, 0, "|");
    tfc_output r10 = tfc_reduce_join(g, a, ax10, 2, 0, "");
    tfc_output rk = tfc_reduce_join(g, a, axm, 1, 1, ",");
    tfc_output rn = tfc_reduce_join(g, a, NULL, 0, 0, "");
    CHECK_GRAPH_OK(g);
    CHECK(tfc_output_shape(j).rank == 2 && tfc_output_shape(r0).dims[0] == 3);
    CHECK(tfc_output_shape(rk).rank == 2 && tfc_output_shape(rk).dims[1] == 1);
    CHECK(tfc_output_shape(rn).rank == 0);
    tfc_tensor *x = tfc_tensor_new(TFC_STRING, 2, d);
    char w[6][16];
    for (int i = 0; i < 6; i++) {
        int len;
        random_word(w[i], &len, 8);
        w[i][len] = 0;
        tfc_string_tensor_set(x, i, w[i], (size_t)len);
    }
    tfc_output f[5] = {j, r0, r10, rk, rn};
    tfc_tensor *out[5] = {0};
    CHECK(run(g, &a, x, f, 5, out, NULL, 0) == TFC_OK);
    char want[256];
    for (int i = 0; out[0] && i < 6; i++) {
        snprintf(want, sizeof want, "%s--<>--%s", w[i], w[i]);
        CHECK(elem_is(out[0], i, want));
    }
    for (int c = 0; out[1] && c < 3; c++) {
        snprintf(want, sizeof want, "%s|%s", w[c], w[3 + c]);
        CHECK(elem_is(out[1], c, want));
    }
    /* axes {1, 0}: the first listed (1) varies fastest: row-major order */
    snprintf(want, sizeof want, "%s%s%s%s%s%s", w[0], w[1], w[2], w[3], w[4], w[5]);
    CHECK(out[2] && elem_is(out[2], 0, want));
    /* NULL axes: every axis, outermost first, so axis 0 varies fastest */
    snprintf(want, sizeof want, "%s%s%s%s%s%s", w[0], w[3], w[1], w[4], w[2], w[5]);
    CHECK(out[4] && elem_is(out[4], 0, want));
    for (int r = 0; out[3] && r < 2; r++) {
        snprintf(want, sizeof want, "%s,%s,%s", w[3 * r], w[3 * r + 1], w[3 * r + 2]);
        CHECK(elem_is(out[3], r, want));
    }
    for (int i = 0; i < 5; i++) tfc_tensor_free(out[i]);

    /* errors: mismatched shapes, duplicate and bad axes */
    int64_t d3 = 3;
    tfc_output b3 = tfc_placeholder(g, "b3", TFC_STRING, 1, &d3);
    tfc_output bad[2] = {a, b3};
    tfc_string_join(g, bad, 2, "");
    CHECK_CONTAINS(tfc_graph_error(g), "Input shapes do not match");
    tfc_graph_free(g);
    g = tfc_graph_new();
    a = tfc_placeholder(g, "a", TFC_STRING, 2, d);
    int32_t dup[] = {1, -1}, far[] = {2};
    tfc_reduce_join(g, a, dup, 2, 0, "");
    CHECK_CONTAINS(tfc_graph_error(g), "Duplicate reduction dimension -1");
    tfc_graph_free(g);
    g = tfc_graph_new();
    a = tfc_placeholder(g, "a", TFC_STRING, 2, d);
    tfc_reduce_join(g, a, far, 1, 0, "");
    CHECK_CONTAINS(tfc_graph_error(g), "Invalid reduction dimension 2 for input with 2");
    tfc_graph_free(g);
}

/* ---- StringSplit, StringSplitV2 against a reference tokenizer ---- */

/* Reference: the tokens of s (NUL-terminated) at any byte of delims (v1),
 * or at the string sep (v2, maxsplit -1), or at whitespace (v2, sep ""). */
static int ref_split(const char *s, const char *sep, int v2, int skip_empty, char tok[][32]) {
    int n = 0;
    size_t sl = strlen(s), dl = strlen(sep);
    if (!v2 && !dl) {
        for (size_t i = 0; i < sl; i++) tok[n][0] = s[i], tok[n++][1] = 0;
        return n;
    }
    if (v2 && !dl) {
        char copy[64];
        strcpy(copy, s);
        for (char *t = strtok(copy, " \t\n\v\f\r"); t; t = strtok(NULL, " \t\n\v\f\r"))
            strcpy(tok[n++], t);
        return n;
    }
    size_t start = 0;
    for (size_t i = 0; i <= sl;) {
        int at_sep = i < sl && (v2 ? !strncmp(s + i, sep, dl) : strchr(sep, s[i]) != NULL);
        if (i < sl && !at_sep) {
            i++;
            continue;
        }
        if (i > start || !skip_empty) {
            memcpy(tok[n], s + start, i - start);
            tok[n++][i - start] = 0;
        }
        i += v2 && at_sep ? dl : 1;
        start = i;
    }
    return n;
}

static void check_split(int v2, const char *sep, int skip_empty) {
    tfc_graph *g = tfc_graph_new();
    int64_t n = 7;
    tfc_output x = tfc_placeholder(g, "x", TFC_STRING, 1, &n);
    tfc_output o[3];
    if (v2)
        tfc_string_split_v2(g, x, tfc_const_string(g, sep), -1, o);
    else
        tfc_string_split(g, x, tfc_const_string(g, sep), skip_empty, o);
    CHECK_GRAPH_OK(g);
    char w[7][32];
    const char *ptrs[7];
    for (int i = 0; i < 7; i++) {
        int len;
        random_word(w[i], &len, 12);
        w[i][len] = 0;
        ptrs[i] = w[i];
    }
    tfc_tensor *out[3] = {0};
    CHECK(run(g, &x, strs1(7, ptrs), o, 3, out, NULL, 0) == TFC_OK);
    if (!out[0]) return;
    const int64_t *ix = tfc_tensor_data(out[0]), *shape = tfc_tensor_data(out[2]);
    int64_t k = 0, widest = 0;
    int ok = 1;
    for (int r = 0; r < 7; r++) {
        char tok[40][32];
        int nt = ref_split(w[r], sep, v2, skip_empty, tok);
        if (nt > widest) widest = nt;
        for (int t = 0; t < nt; t++, k++)
            ok = ok && k < tfc_tensor_num_elements(out[1]) && ix[2 * k] == r &&
                 ix[2 * k + 1] == t && elem_is(out[1], k, tok[t]);
    }
    CHECK_MSG(ok && k == tfc_tensor_num_elements(out[1]), "split v%d sep '%s' skip %d", v2 + 1, sep,
              skip_empty);
    CHECK(shape[0] == 7 && shape[1] == widest);
    for (int i = 0; i < 3; i++) tfc_tensor_free(out[i]);
    tfc_graph_free(g);
}

static void test_split(void) {
    tfc_test_seed(11);
    for (int rep = 0; rep < 5; rep++) {
        check_split(0, ",", 1);
        check_split(0, ", ", 0);
        check_split(0, "", 1);
        check_split(1, ",", 0);
        check_split(1, "c ", 0);
        check_split(1, "", 0);
    }
    /* maxsplit, as Python's str.split */
    tfc_graph *g = tfc_graph_new();
    const char *s[] = {"a,b,,c", "  x  y z  "};
    tfc_output o1[3], o2[3];
    tfc_string_split_v2(g, tfc_const_strings(g, 1, (int64_t[]){1}, s, NULL),
                        tfc_const_string(g, ","), 2, o1);
    tfc_string_split_v2(g, tfc_const_strings(g, 1, (int64_t[]){1}, s + 1, NULL),
                        tfc_const_string(g, ""), 1, o2);
    CHECK_GRAPH_OK(g);
    tfc_output f[2] = {o1[1], o2[1]};
    tfc_tensor *out[2] = {0};
    CHECK(run(g, NULL, NULL, f, 2, out, NULL, 0) == TFC_OK);
    CHECK(out[0] && tfc_tensor_num_elements(out[0]) == 3 && elem_is(out[0], 0, "a") &&
          elem_is(out[0], 1, "b") && elem_is(out[0], 2, ",c"));
    CHECK(out[1] && tfc_tensor_num_elements(out[1]) == 2 && elem_is(out[1], 0, "x") &&
          elem_is(out[1], 1, "y z"));
    tfc_tensor_free(out[0]);
    tfc_tensor_free(out[1]);
    /* a matrix input is refused */
    int64_t d2[] = {2, 2};
    tfc_string_split(g, tfc_placeholder(g, "m", TFC_STRING, 2, d2), tfc_const_string(g, ","), 1,
                     o1);
    CHECK_CONTAINS(tfc_graph_error(g), "input must be a vector");
    tfc_graph_free(g);
}

/* ---- Substr ---- */

static void test_substr(void) {
    tfc_test_seed(5);
    tfc_graph *g = tfc_graph_new();
    int64_t d[] = {3, 4};
    tfc_output x = tfc_placeholder(g, "x", TFC_STRING, 2, d);
    tfc_output pos = tfc_placeholder(g, "pos", TFC_INT32, 2, d);
    tfc_output len = tfc_placeholder(g, "len", TFC_INT32, 2, d);
    tfc_output y = tfc_substr(g, x, pos, len);
    CHECK_GRAPH_OK(g);
    tfc_tensor *xt = tfc_tensor_new(TFC_STRING, 2, d);
    tfc_tensor *pt = tfc_tensor_new(TFC_INT32, 2, d), *lt = tfc_tensor_new(TFC_INT32, 2, d);
    char w[12][32];
    int wl[12];
    for (int i = 0; i < 12; i++) {
        random_word(w[i], &wl[i], 10);
        if (wl[i] == 0) w[i][wl[i]++] = 'q';
        tfc_string_tensor_set(xt, i, w[i], (size_t)wl[i]);
        ((int32_t *)tfc_tensor_data(pt))[i] = (int32_t)tfc_test_uniform(-wl[i], wl[i] + 1);
        ((int32_t *)tfc_tensor_data(lt))[i] = (int32_t)tfc_test_uniform(0, 12);
    }
    tfc_status *st = tfc_status_new();
    tfc_session *s = tfc_session_new(g, NULL, st);
    tfc_output feeds[3] = {x, pos, len};
    tfc_tensor *fv[3] = {xt, pt, lt}, *out[2] = {0};
    tfc_session_run(s, feeds, fv, 3, &y, 1, out, NULL, 0, st);
    CHECK_STATUS_OK(st);
    for (int i = 0; out[0] && i < 12; i++) {
        int p = ((int32_t *)tfc_tensor_data(pt))[i], l = ((int32_t *)tfc_tensor_data(lt))[i];
        if (p < 0) p += wl[i];
        if (l > wl[i] - p) l = wl[i] - p;
        size_t got;
        const char *q = tfc_string_tensor_get(out[0], i, &got);
        CHECK(got == (size_t)l && !memcmp(q, w[i] + p, got));
    }
    tfc_tensor_free(out[0]);
    /* pos past the end names the string and its index */
    ((int32_t *)tfc_tensor_data(pt))[5] = 40;
    tfc_session_run(s, feeds, fv, 3, &y, 1, out, NULL, 0, st);
    CHECK(tfc_status_code(st) == TFC_INVALID_ARGUMENT);
    CHECK_CONTAINS(tfc_status_message(st), "pos 40 out of range for string");
    CHECK_CONTAINS(tfc_status_message(st), "at index 5");
    tfc_session_free(s);
    tfc_status_free(st);
    tfc_tensor_free(xt);
    tfc_tensor_free(pt);
    tfc_tensor_free(lt);
    tfc_graph_free(g);

    /* the broadcast form on fixed words */
    g = tfc_graph_new();
    const char *ws[] = {"hello", "world"};
    int64_t d2[] = {2, 1};
    tfc_output k = tfc_const_strings(g, 2, d2, ws, NULL);
    int32_t p3[] = {0, 1, -2}, l3[] = {2, 3, 5};
    int64_t three = 3;
    tfc_output sb = tfc_substr(g, k, tfc_const_data(g, TFC_INT32, 1, &three, p3),
                               tfc_const_data(g, TFC_INT32, 1, &three, l3));
    CHECK_GRAPH_OK(g);
    CHECK(tfc_output_shape(sb).rank == 2 && tfc_output_shape(sb).dims[1] == 3);
    tfc_tensor *o = tfc_test_eval(g, sb, NULL, NULL, 0);
    const char *want[] = {"he", "ell", "lo", "wo", "orl", "ld"};
    for (int i = 0; o && i < 6; i++) CHECK(elem_is(o, i, want[i]));
    tfc_tensor_free(o);
    tfc_graph_free(g);
}

/* ---- AsString and StringToNumber ---- */

static void test_numbers(void) {
    tfc_test_seed(9);
    tfc_graph *g = tfc_graph_new();
    int64_t n = 16;
    tfc_output xf = tfc_placeholder(g, "xf", TFC_FLOAT, 1, &n);
    tfc_output xi = tfc_placeholder(g, "xi", TFC_INT64, 1, &n);
    tfc_output s1 = tfc_as_string(g, xf, -1, 0, 0, -1, "");
    tfc_output s2 = tfc_as_string(g, xf, 3, 1, 0, 12, "");
    tfc_output s3 = tfc_as_string(g, xi, -1, 0, 0, 8, "0");
    tfc_output back = tfc_string_to_number(g, tfc_as_string(g, xf, 9, 0, 1, -1, ""), TFC_FLOAT);
    tfc_output backi = tfc_string_to_number(g, s3, TFC_INT64);
    CHECK_GRAPH_OK(g);
    tfc_tensor *ft = tfc_test_random_tensor(TFC_FLOAT, 1, &n, -1000, 1000);
    tfc_tensor *it = tfc_test_random_tensor(TFC_INT64, 1, &n, -99999, 99999);
    tfc_status *st = tfc_status_new();
    tfc_session *s = tfc_session_new(g, NULL, st);
    tfc_output feeds[2] = {xf, xi}, fetch[5] = {s1, s2, s3, back, backi};
    tfc_tensor *fv[2] = {ft, it}, *out[5] = {0};
    tfc_session_run(s, feeds, fv, 2, fetch, 5, out, NULL, 0, st);
    CHECK_STATUS_OK(st);
    char want[64];
    for (int i = 0; out[0] && i < 16; i++) {
        float v = ((float *)tfc_tensor_data(ft))[i];
        long long iv = (long long)((int64_t *)tfc_tensor_data(it))[i];
        snprintf(want, sizeof want, "%f", (double)v);
        CHECK(elem_is(out[0], i, want));
        snprintf(want, sizeof want, "%12.3e", (double)v);
        CHECK(elem_is(out[1], i, want));
        snprintf(want, sizeof want, "%08lld", iv);
        CHECK(elem_is(out[2], i, want));
        CHECK(((float *)tfc_tensor_data(out[3]))[i] == v);
        CHECK(((int64_t *)tfc_tensor_data(out[4]))[i] == iv);
    }
    for (int i = 0; i < 5; i++) tfc_tensor_free(out[i]);
    tfc_session_free(s);
    tfc_status_free(st);
    tfc_tensor_free(ft);
    tfc_tensor_free(it);

    /* TensorFlow's parsing: spaces around allowed, junk, hex and overflow not */
    const char *good[] = {" 12 ", "-7", "3.5e2", "inf", "-0.25"};
    const double gv[] = {12, -7, 350, INFINITY, -0.25};
    tfc_output gd =
        tfc_string_to_number(g, tfc_const_strings(g, 1, (int64_t[]){5}, good, NULL), TFC_DOUBLE);
    tfc_tensor *o = tfc_test_eval(g, gd, NULL, NULL, 0);
    for (int i = 0; o && i < 5; i++) CHECK(((double *)tfc_tensor_data(o))[i] == gv[i]);
    tfc_tensor_free(o);
    const char *bad[] = {"12abc", "0x10", "", "99999999999", "+5"};
    for (int b = 0; b < 5; b++) {
        tfc_output y = tfc_string_to_number(g, tfc_const_string(g, bad[b]), TFC_INT32);
        char msg[400];
        tfc_tensor *r = NULL;
        CHECK_MSG(run(g, NULL, NULL, &y, 1, &r, msg, sizeof msg) == TFC_INVALID_ARGUMENT,
                  "'%s' parsed", bad[b]);
        CHECK_CONTAINS(msg, "StringToNumberOp could not correctly convert string:");
        tfc_tensor_free(r);
    }
    /* AsString's attrs are checked when the node is built */
    tfc_as_string(g, xi, 3, 0, 0, -1, "");
    CHECK_CONTAINS(tfc_graph_error(g), "precision not supported for datatype int64");
    tfc_graph_free(g);
}

/* ---- DecodeRaw ---- */

static void test_decode_raw(void) {
    tfc_graph *g = tfc_graph_new();
    int64_t n = 3;
    tfc_output x = tfc_placeholder(g, "x", TFC_STRING, 1, &n);
    tfc_output le = tfc_decode_raw(g, x, TFC_INT32, 1);
    tfc_output be = tfc_decode_raw(g, x, TFC_INT32, 0);
    tfc_output u8 = tfc_decode_raw(g, x, TFC_UINT8, 1);
    CHECK_GRAPH_OK(g);
    CHECK(tfc_output_shape(le).rank == 2);
    unsigned char raw[3][8];
    const char *ptrs[3];
    size_t lens[3] = {8, 8, 8};
    for (int r = 0; r < 3; r++) {
        for (int k = 0; k < 8; k++) raw[r][k] = (unsigned char)(r * 40 + k * 7 + 1);
        ptrs[r] = (const char *)raw[r];
    }
    tfc_output f[3] = {le, be, u8};
    tfc_tensor *out[3] = {0};
    CHECK(run(g, &x, tfc_tensor_from_strings(1, &n, ptrs, lens), f, 3, out, NULL, 0) == TFC_OK);
    for (int r = 0; out[0] && r < 3; r++)
        for (int w = 0; w < 2; w++) {
            const unsigned char *b = raw[r] + 4 * w;
            uint32_t l = b[0] | b[1] << 8 | b[2] << 16 | (uint32_t)b[3] << 24;
            uint32_t bg = (uint32_t)b[0] << 24 | b[1] << 16 | b[2] << 8 | b[3];
            CHECK(((uint32_t *)tfc_tensor_data(out[0]))[2 * r + w] == l);
            CHECK(((uint32_t *)tfc_tensor_data(out[1]))[2 * r + w] == bg);
        }
    CHECK(out[2] && tfc_tensor_dim(out[2], 1) == 8 &&
          ((uint8_t *)tfc_tensor_data(out[2]))[9] == raw[1][1]);
    for (int i = 0; i < 3; i++) tfc_tensor_free(out[i]);
    /* lengths that differ, or are no multiple of the size */
    char msg[400];
    lens[1] = 4;
    tfc_tensor *r = NULL;
    CHECK(run(g, &x, tfc_tensor_from_strings(1, &n, ptrs, lens), &le, 1, &r, msg, sizeof msg) ==
          TFC_INVALID_ARGUMENT);
    CHECK_CONTAINS(
        msg,
        "DecodeRaw requires input strings to all be the same size, but element 1 has size 4 != 8");
    lens[0] = lens[1] = lens[2] = 6;
    CHECK(run(g, &x, tfc_tensor_from_strings(1, &n, ptrs, lens), &le, 1, &r, msg, sizeof msg) ==
          TFC_INVALID_ARGUMENT);
    CHECK_CONTAINS(
        msg, "Input to DecodeRaw has length 6 that is not a multiple of 4, the size of int32");
    tfc_graph_free(g);
}

/* ---- DecodeCSV ---- */

static void test_decode_csv(void) {
    tfc_graph *g = tfc_graph_new();
    int64_t n = 4, zero = 0;
    tfc_output rec = tfc_placeholder(g, "rec", TFC_STRING, 1, &n);
    tfc_output defs[4] = {
        tfc_const_int32(g, -1),
        tfc_const_data(g, TFC_FLOAT, 1, &zero, NULL), /* required */
        tfc_const_string(g, "none"),
        tfc_const_int64(g, 7),
    };
    tfc_output cols[4];
    CHECK(tfc_decode_csv(g, rec, defs, 4, ",", 1, "NA", cols) == 0);
    CHECK_GRAPH_OK(g);
    const char *rows[] = {"1,2.5,abc,10", ",3,\"q,\"\"x\"\"\",NA", "4,-1e3,,", "5,0.5,\"\",11"};
    tfc_tensor *out[4] = {0};
    CHECK(run(g, &rec, strs1(4, rows), cols, 4, out, NULL, 0) == TFC_OK);
    if (out[0]) {
        const int32_t *c0 = tfc_tensor_data(out[0]);
        const float *c1 = tfc_tensor_data(out[1]);
        const int64_t *c3 = tfc_tensor_data(out[3]);
        CHECK(c0[0] == 1 && c0[1] == -1 && c0[2] == 4 && c0[3] == 5);
        CHECK(c1[0] == 2.5f && c1[1] == 3 && c1[2] == -1000 && c1[3] == 0.5f);
        CHECK(elem_is(out[2], 0, "abc") && elem_is(out[2], 1, "q,\"x\"") &&
              elem_is(out[2], 2, "none") && elem_is(out[2], 3, "none"));
        CHECK(c3[0] == 10 && c3[1] == 7 && c3[2] == 7 && c3[3] == 11);
    }
    for (int i = 0; i < 4; i++) tfc_tensor_free(out[i]);
    struct {
        const char *row, *msg;
    } bad[] = {
        {"1,,x,2", "Field 1 is required but missing in record 0!"},
        {"1,2,x", "Expect 4 fields but have 3 in record 0"},
        {"z,2,x,3", "Field 0 in record 0 is not a valid int32: z"},
        {"1,2,a\"b,3", "Unquoted fields cannot have quotes/CRLFs inside"},
        {"1,2,\"ab\"c,3", "Quote inside a string has to be escaped by another quote"},
    };
    for (int b = 0; b < 5; b++) {
        const char *r4[4] = {bad[b].row, "1,2,x,3", "1,2,x,3", "1,2,x,3"};
        char msg[400];
        CHECK(run(g, &rec, strs1(4, r4), cols, 4, out, msg, sizeof msg) == TFC_INVALID_ARGUMENT);
        CHECK_CONTAINS(msg, bad[b].msg);
        CHECK_CONTAINS(msg, "DecodeCSV");
    }
    tfc_graph_free(g);
}

/* ---- Base64 ---- */

static void test_base64(void) {
    tfc_test_seed(13);
    static const char alpha[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    tfc_graph *g = tfc_graph_new();
    int64_t n = 20;
    tfc_output x = tfc_placeholder(g, "x", TFC_STRING, 1, &n);
    tfc_output e0 = tfc_encode_base64(g, x, 0), e1 = tfc_encode_base64(g, x, 1);
    tfc_output rt0 = tfc_decode_base64(g, e0), rt1 = tfc_decode_base64(g, e1);
    CHECK_GRAPH_OK(g);
    tfc_tensor *xt = tfc_tensor_new(TFC_STRING, 1, &n);
    unsigned char buf[20][24];
    for (int i = 0; i < 20; i++) {
        for (int k = 0; k < i; k++) buf[i][k] = (unsigned char)tfc_test_uniform(0, 256);
        tfc_string_tensor_set(xt, i, buf[i], (size_t)i);
    }
    tfc_tensor *keep = tfc_tensor_copy(xt);
    tfc_output f[4] = {e0, e1, rt0, rt1};
    tfc_tensor *out[4] = {0};
    CHECK(run(g, &x, xt, f, 4, out, NULL, 0) == TFC_OK);
    for (int i = 0; out[0] && i < 20; i++) {
        /* reference encoder: 6 bits at a time */
        char want[40];
        int w = 0;
        for (int bit = 0; bit < 8 * i; bit += 6) {
            int v = 0;
            for (int k = 0; k < 6; k++) {
                int b = bit + k;
                v = v << 1 | (b < 8 * i ? (buf[i][b / 8] >> (7 - b % 8)) & 1 : 0);
            }
            want[w++] = alpha[v];
        }
        want[w] = 0;
        CHECK(elem_is(out[0], i, want));
        while (w % 4) want[w++] = '=';
        want[w] = 0;
        CHECK(elem_is(out[1], i, want));
        size_t l2, l3, lk;
        const char *a = tfc_string_tensor_get(out[2], i, &l2),
                   *b = tfc_string_tensor_get(out[3], i, &l3);
        const char *k = tfc_string_tensor_get(keep, i, &lk);
        CHECK(l2 == lk && l3 == lk && !memcmp(a, k, lk) && !memcmp(b, k, lk));
    }
    for (int i = 0; i < 4; i++) tfc_tensor_free(out[i]);
    tfc_tensor_free(keep);
    const char *bad[] = {"abcde", "ab+c", "a=bc"};
    const char *why[] = {"Base64 string length cannot be 1 modulo 4.",
                         "Invalid character found in base64.",
                         "Invalid character found in base64."};
    for (int b = 0; b < 3; b++) {
        tfc_output y = tfc_decode_base64(g, tfc_const_string(g, bad[b]));
        char msg[400];
        tfc_tensor *r = NULL;
        CHECK(run(g, NULL, NULL, &y, 1, &r, msg, sizeof msg) == TFC_INVALID_ARGUMENT);
        CHECK_CONTAINS(msg, why[b]);
    }
    tfc_graph_free(g);
}

/* ---- ReadFile, WriteFile, MatchingFiles ---- */

static void test_files(void) {
    char dir[] = "/tmp/tfc_string_io_XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char path[128], pattern[128], missing[128];
    snprintf(path, sizeof path, "%s/sub/b.bin", dir);
    snprintf(pattern, sizeof pattern, "%s/sub/*.bin", dir);
    snprintf(missing, sizeof missing, "%s/nope", dir);
    tfc_graph *g = tfc_graph_new();
    const char bytes[] = {'x', 0, 'y', '\n', (char)0xff};
    const char *bp = bytes;
    size_t bl = sizeof bytes;
    tfc_node *w =
        tfc_io_write_file(g, tfc_const_string(g, path), tfc_const_strings(g, 0, NULL, &bp, &bl));
    snprintf(path + strlen(path) - 5, 8, "a.bin");
    tfc_node *w2 = tfc_io_write_file(g, tfc_const_string(g, path), tfc_const_string(g, ""));
    tfc_output rd = tfc_io_read_file(g, tfc_const_string(g, path));
    snprintf(path + strlen(path) - 5, 8, "b.bin");
    tfc_output rd2 = tfc_io_read_file(g, tfc_const_string(g, path));
    tfc_output m = tfc_matching_files(g, tfc_const_string(g, pattern));
    tfc_output none = tfc_matching_files(g, tfc_const_string(g, missing));
    tfc_output rmiss = tfc_io_read_file(g, tfc_const_string(g, missing));
    CHECK_GRAPH_OK(g);
    tfc_status *st = tfc_status_new();
    tfc_session *s = tfc_session_new(g, NULL, st);
    tfc_node *both[2] = {w, w2};
    tfc_session_run(s, NULL, NULL, 0, NULL, 0, NULL, both, 2, st);
    CHECK_STATUS_OK(st);
    tfc_output f[4] = {rd, rd2, m, none};
    tfc_tensor *out[4] = {0};
    tfc_session_run(s, NULL, NULL, 0, f, 4, out, NULL, 0, st);
    CHECK_STATUS_OK(st);
    size_t len;
    CHECK(out[0] && tfc_string_tensor_get(out[0], 0, &len) && len == 0);
    CHECK(out[1] && !memcmp(tfc_string_tensor_get(out[1], 0, &len), bytes, sizeof bytes) &&
          len == sizeof bytes);
    CHECK(out[2] && tfc_tensor_num_elements(out[2]) == 2);
    if (out[2]) {
        CHECK_CONTAINS(tfc_string_tensor_get(out[2], 0, &len), "/sub/a.bin");
        CHECK_CONTAINS(tfc_string_tensor_get(out[2], 1, &len), "/sub/b.bin");
    }
    CHECK(out[3] && tfc_tensor_num_elements(out[3]) == 0);
    for (int i = 0; i < 4; i++) tfc_tensor_free(out[i]);
    tfc_session_run(s, NULL, NULL, 0, &rmiss, 1, out, NULL, 0, st);
    CHECK(tfc_status_code(st) == TFC_NOT_FOUND);
    CHECK_CONTAINS(tfc_status_message(st), "nope; No such file or directory");
    tfc_session_free(s);
    tfc_status_free(st);
    tfc_graph_free(g);
    snprintf(path, sizeof path, "%s/sub/a.bin", dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/sub/b.bin", dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/sub", dir);
    rmdir(path);
    rmdir(dir);
}

TFC_TEST_MAIN(T(test_fingerprint), T(test_join), T(test_split), T(test_substr), T(test_numbers),
              T(test_decode_raw), T(test_decode_csv), T(test_base64), T(test_files))
