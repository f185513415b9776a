/* DT_HALF and DT_BFLOAT16: the conversions against reference loops written
 * here another way (half values built with ldexp; rounding by searching
 * the nearest representable value, ties to the even pattern), every one of
 * the 65536 half patterns and random floats (with exact ties); Cast to and
 * from float32, float64 and int32; feeds, fetches, Placeholder, Identity;
 * Const through GraphDefs (tensor_content written, TensorFlow's half_val
 * read); checkpoints (raw little-endian bits, TensorFlow's bundle layout). */
#include "core/half.h"
#include "core/tensor.h"
#include "formats/tf_graph_check.h"
#include "harness.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "graph.pb-c.h"

/* ---- references ---- */

static double ref_half_value(uint16_t h) {
    int e = (h >> 10) & 0x1f, m = h & 0x3ff;
    double s = (h & 0x8000) ? -1 : 1;
    if (e == 0x1f) return m ? NAN : s * INFINITY;
    if (e == 0) return s * ldexp(m, -24);
    return s * ldexp(1024 + m, e - 25);
}

/* All finite non-negative halves in order: pattern k is value k's. */
static double pos_half[0x7c00];

static void fill_pos_half(void) {
    for (int k = 0; k < 0x7c00; k++) pos_half[k] = ref_half_value((uint16_t)k);
}

/* Nearest half to f by binary search, ties to the even pattern; beyond
 * 65504 + half an ulp (65520) is inf. */
static uint16_t ref_float_to_half(float f) {
    if (isnan(f)) return 0x7e00;
    uint16_t sign = signbit(f) ? 0x8000 : 0;
    double a = fabs((double)f);
    if (a >= 65520.0) return sign | 0x7c00;
    int lo = 0, hi = 0x7bff;
    while (lo < hi) { /* the last pattern whose value <= a */
        int mid = (lo + hi + 1) / 2;
        if (pos_half[mid] <= a)
            lo = mid;
        else
            hi = mid - 1;
    }
    int k = lo;
    if (k < 0x7bff) {
        double dlo = a - pos_half[k], dhi = pos_half[k + 1] - a;
        if (dhi < dlo || (dhi == dlo && (k & 1))) k++;
    }
    return sign | (uint16_t)k;
}

static float bits_f(uint32_t x) {
    float f;
    memcpy(&f, &x, 4);
    return f;
}

static uint32_t f_bits(float f) {
    uint32_t x;
    memcpy(&x, &f, 4);
    return x;
}

/* Nearest bfloat16: the two candidates around f, compared in double. */
static uint16_t ref_float_to_bf16(float f) {
    if (isnan(f)) return 0x7fc0;
    uint32_t x = f_bits(f), down = x & 0xffff0000u;
    if (down == x) return (uint16_t)(x >> 16);
    uint32_t up = down + 0x10000u; /* one bfloat16 step away from zero */
    double a = fabs((double)f), lo = fabs((double)bits_f(down));
    /* the step above the largest finite one is 2^128, as a number */
    double hi = ((up >> 23) & 0xff) == 0xff ? ldexp(1, 128) : fabs((double)bits_f(up));
    int take_up = hi - a < a - lo || (hi - a == a - lo && ((down >> 16) & 1));
    return (uint16_t)((take_up ? up : down) >> 16);
}

static int same_float(float a, float b) {
    return (isnan(a) && isnan(b) && signbit(a) == signbit(b)) || f_bits(a) == f_bits(b);
}

/* ---- helpers ---- */

static tfc_tensor *tensor16(tfc_dtype dt, const uint16_t *bits, int64_t n) {
    tfc_tensor *t = tfc_tensor_new(dt, 1, &n);
    memcpy(tfc_tensor_data(t), bits, (size_t)n * 2);
    return t;
}

/* Runs a graph fetching `out` with optional feed. Caller frees. */
static tfc_tensor *run1(tfc_graph *g, tfc_output out, tfc_output *feed, tfc_tensor *value) {
    tfc_status *st = tfc_status_new();
    tfc_session *s = tfc_session_new(g, NULL, st);
    tfc_tensor *r = tfc_session_run1(s, feed, &value, feed ? 1 : 0, out, st);
    CHECK_STATUS_OK(st);
    tfc_session_free(s);
    tfc_status_free(st);
    return r;
}

/* Cast of tensor `in` to dt, run through a graph. */
static tfc_tensor *cast(const tfc_tensor *in, tfc_dtype dt) {
    tfc_graph *g = tfc_graph_new();
    tfc_output y = tfc_cast(g, tfc_const(g, in), dt);
    CHECK_GRAPH_OK(g);
    tfc_tensor *r = run1(g, y, NULL, NULL);
    tfc_graph_free(g);
    return r;
}

/* ---- tests ---- */

static void test_every_half_pattern(void) {
    fill_pos_half();
    uint16_t *all = malloc(65536 * sizeof *all);
    float *f = malloc(65536 * sizeof *f);
    for (int i = 0; i < 65536; i++) all[i] = (uint16_t)i;
    tfc_half_to_float_n(all, f, 65536);
    int bad = 0;
    for (int i = 0; i < 65536; i++) {
        float want = (float)ref_half_value((uint16_t)i);
        if (isnan(want) && (i & 0x8000)) want = -want;
        bad += !same_float(tfc_half_bits_to_float((uint16_t)i), want);
        bad += !same_float(f[i], want);
        /* back to half: the same pattern (a NaN stays a NaN) */
        uint16_t back = tfc_float_to_half_bits(want);
        bad += isnan(want) ? (back & 0x7c00) != 0x7c00 || !(back & 0x3ff) : back != i;
    }
    CHECK_MSG(bad == 0, "%d mismatches", bad);
    /* through Cast: half -> float32 -> half, half -> float64 */
    tfc_tensor *h = tensor16(TFC_HALF, all, 65536);
    tfc_tensor *hf = cast(h, TFC_FLOAT), *hd = cast(h, TFC_DOUBLE);
    tfc_tensor *back = hf ? cast(hf, TFC_HALF) : NULL;
    CHECK(hf && hd && back && back->dtype == TFC_HALF);
    bad = 0;
    for (int i = 0; hf && hd && back && i < 65536; i++) {
        double want = ref_half_value((uint16_t)i);
        float got = ((float *)tfc_tensor_data(hf))[i];
        double gotd = ((double *)tfc_tensor_data(hd))[i];
        uint16_t b = ((uint16_t *)tfc_tensor_data(back))[i];
        if (isnan(want))
            bad += !isnan(got) || !isnan(gotd) || (b & 0x7c00) != 0x7c00 || !(b & 0x3ff);
        else
            bad += (double)got != want || gotd != want || b != i;
    }
    CHECK_MSG(bad == 0, "%d Cast mismatches", bad);
    tfc_tensor_free(h);
    tfc_tensor_free(hf);
    tfc_tensor_free(hd);
    tfc_tensor_free(back);
    free(all);
    free(f);
}

/* Random floats: any bit pattern, the half range, the subnormal range,
 * and exact midpoints between neighbouring halves (ties) and their
 * neighbours. */
static void random_floats(float *v, int n) {
    for (int i = 0; i < n; i++) {
        int kind = i % 5;
        uint16_t k = (uint16_t)(rand() % 0x7bff);
        double mid = (pos_half[k] + pos_half[k + 1]) / 2;
        switch (kind) {
        case 0: v[i] = bits_f(((uint32_t)rand() << 16) ^ (uint32_t)rand()); break;
        case 1: v[i] = (float)tfc_test_uniform(-70000, 70000); break;
        case 2: v[i] = (float)tfc_test_uniform(-1e-4, 1e-4); break;
        case 3: v[i] = (float)mid; break;
        default: v[i] = nextafterf((float)mid, rand() & 1 ? INFINITY : -INFINITY); break;
        }
        if (rand() & 1) v[i] = -v[i];
    }
}

static void test_float_to_half_rounding(void) {
    fill_pos_half();
    tfc_test_seed(16);
    enum { N = 200000 };
    float *v = malloc(N * sizeof *v);
    uint16_t *h = malloc(N * sizeof *h);
    random_floats(v, N);
    v[0] = 65519.99f, v[1] = 65520.0f, v[2] = 5.9604645e-8f, v[3] = 2.9802322e-8f;
    v[4] = INFINITY, v[5] = -0.0f;
    tfc_float_to_half_n(v, h, N);
    int64_t n = N;
    tfc_tensor *f = tfc_tensor_new(TFC_FLOAT, 1, &n);
    memcpy(tfc_tensor_data(f), v, sizeof(float) * N);
    tfc_tensor *c = cast(f, TFC_HALF);
    CHECK(c != NULL);
    int bad = 0, ties = 0;
    for (int i = 0; i < N; i++) {
        uint16_t want = ref_float_to_half(v[i]);
        if (isnan(v[i])) {
            bad += (tfc_float_to_half_bits(v[i]) & 0x7fff) <= 0x7c00 || (h[i] & 0x7fff) <= 0x7c00;
            continue;
        }
        ties += i % 5 == 3;
        bad += tfc_float_to_half_bits(v[i]) != want;
        bad += h[i] != want;
        bad += c && ((uint16_t *)tfc_tensor_data(c))[i] != want;
    }
    CHECK_MSG(bad == 0, "%d mismatches", bad);
    CHECK(ties > 1000);
    tfc_tensor_free(f);
    tfc_tensor_free(c);
    free(v);
    free(h);
}

static void test_bfloat16_rounding(void) {
    tfc_test_seed(14);
    enum { N = 200000 };
    float *v = malloc(N * sizeof *v);
    for (int i = 0; i < N; i++) {
        uint32_t x = ((uint32_t)rand() << 16) ^ (uint32_t)rand();
        if (i % 4 == 1) x = (x & 0xffff0000u) | 0x8000u; /* a tie */
        if (i % 4 == 2) x = (x & 0xffff0000u) | (0x8000u + (rand() & 1 ? 1 : -1));
        v[i] = bits_f(x);
    }
    v[0] = bits_f(0x7f7fffffu); /* FLT_MAX rounds to inf */
    v[1] = bits_f(0x7f7f8000u); /* a tie below inf, to even (inf) */
    v[2] = bits_f(0x7f7e8000u); /* a tie, to even (down) */
    int64_t n = N;
    tfc_tensor *f = tfc_tensor_new(TFC_FLOAT, 1, &n);
    memcpy(tfc_tensor_data(f), v, sizeof(float) * N);
    tfc_tensor *c = cast(f, TFC_BFLOAT16);
    tfc_tensor *back = c ? cast(c, TFC_FLOAT) : NULL;
    CHECK(c && back);
    int bad = 0;
    for (int i = 0; c && back && i < N; i++) {
        uint16_t want = ref_float_to_bf16(v[i]), got = ((uint16_t *)tfc_tensor_data(c))[i];
        float wantf = bits_f((uint32_t)want << 16);
        if (isnan(v[i])) {
            bad +=
                (got & 0x7fff) <= 0x7f80 || (tfc_float_to_bfloat16_bits(v[i]) & 0x7fff) <= 0x7f80;
            continue;
        }
        bad += got != want || tfc_float_to_bfloat16_bits(v[i]) != want;
        bad += !same_float(((float *)tfc_tensor_data(back))[i], wantf);
    }
    CHECK_MSG(bad == 0, "%d mismatches", bad);
    CHECK(tfc_float_to_bfloat16_bits(v[0]) == 0x7f80 &&
          tfc_float_to_bfloat16_bits(v[1]) == 0x7f80 && tfc_float_to_bfloat16_bits(v[2]) == 0x7f7e);
    tfc_tensor_free(f);
    tfc_tensor_free(c);
    tfc_tensor_free(back);
    free(v);
}

/* float64 and int32 go through float32, as TensorFlow (Eigen) does. */
static void test_cast_double_and_int32(void) {
    fill_pos_half();
    tfc_test_seed(3);
    enum { N = 4000 };
    int64_t n = N;
    tfc_tensor *d = tfc_tensor_new(TFC_DOUBLE, 1, &n), *k = tfc_tensor_new(TFC_INT32, 1, &n);
    for (int i = 0; i < N; i++) {
        ((double *)tfc_tensor_data(d))[i] = tfc_test_uniform(-70000, 70000);
        ((int32_t *)tfc_tensor_data(k))[i] = (int32_t)(rand() % 200001) - 100000;
    }
    tfc_dtype types[] = {TFC_HALF, TFC_BFLOAT16};
    for (int t = 0; t < 2; t++) {
        tfc_tensor *hd = cast(d, types[t]), *hk = cast(k, types[t]);
        tfc_tensor *kback = hk ? cast(hk, TFC_INT32) : NULL,
                   *dback = hd ? cast(hd, TFC_DOUBLE) : NULL;
        CHECK(hd && hk && kback && dback);
        int bad = 0;
        for (int i = 0; hd && hk && kback && dback && i < N; i++) {
            float fd = (float)((double *)tfc_tensor_data(d))[i];
            float fk = (float)((int32_t *)tfc_tensor_data(k))[i];
            uint16_t wd = t ? ref_float_to_bf16(fd) : ref_float_to_half(fd);
            uint16_t wk = t ? ref_float_to_bf16(fk) : ref_float_to_half(fk);
            bad += ((uint16_t *)tfc_tensor_data(hd))[i] != wd;
            bad += ((uint16_t *)tfc_tensor_data(hk))[i] != wk;
            double vk = t ? bits_f((uint32_t)wk << 16) : ref_half_value(wk);
            double vd = t ? bits_f((uint32_t)wd << 16) : ref_half_value(wd);
            int32_t want_k = isinf(vk) ? (vk > 0 ? INT32_MAX : INT32_MIN) : (int32_t)vk;
            bad += ((int32_t *)tfc_tensor_data(kback))[i] != want_k;
            bad += ((double *)tfc_tensor_data(dback))[i] != vd &&
                   !(isinf(vd) && isinf(((double *)tfc_tensor_data(dback))[i]));
        }
        CHECK_MSG(bad == 0, "%s: %d mismatches", tfc_dtype_name(types[t]), bad);
        tfc_tensor_free(hd);
        tfc_tensor_free(hk);
        tfc_tensor_free(kback);
        tfc_tensor_free(dback);
    }
    tfc_tensor_free(d);
    tfc_tensor_free(k);
}

static void test_feed_fetch_identity(void) {
    CHECK(tfc_dtype_size(TFC_HALF) == 2 && tfc_dtype_size(TFC_BFLOAT16) == 2);
    CHECK(!strcmp(tfc_dtype_name(TFC_HALF), "float16") &&
          !strcmp(tfc_dtype_name(TFC_BFLOAT16), "bfloat16"));
    tfc_dtype types[] = {TFC_HALF, TFC_BFLOAT16};
    uint16_t bits[] = {0x3c00, 0xc000, 0x7c00, 0x0001, 0x7bff};
    for (int t = 0; t < 2; t++) {
        tfc_graph *g = tfc_graph_new();
        tfc_output x = tfc_placeholder(g, "x", types[t], 1, (int64_t[]){-1});
        tfc_output y = tfc_identity(g, x);
        CHECK_GRAPH_OK(g);
        tfc_tensor *v = tensor16(types[t], bits, 5);
        tfc_tensor *r = run1(g, y, &x, v);
        CHECK(r && r->dtype == types[t] && !memcmp(tfc_tensor_data(r), bits, sizeof bits));
        /* a float fed for it: the error names both dtypes */
        tfc_status *st = tfc_status_new();
        tfc_session *s = tfc_session_new(g, NULL, st);
        tfc_tensor *wrong = tfc_tensor_new(TFC_FLOAT, 1, (int64_t[]){5});
        CHECK(tfc_session_run1(s, &x, &wrong, 1, y, st) == NULL);
        CHECK_CONTAINS(tfc_status_message(st), tfc_dtype_name(types[t]));
        CHECK_CONTAINS(tfc_status_message(st), "float32");
        tfc_tensor_free(wrong);
        tfc_session_free(s);
        tfc_status_free(st);
        tfc_tensor_free(v);
        tfc_tensor_free(r);
        tfc_graph_free(g);
    }
}

static void on_problem(void *user, const char *msg) {
    (void)user;
    tfc_test_failures++;
    fprintf(stderr, "[%s] OpDef check: %s\n", tfc_test_current, msg);
}

/* Const -> GraphDef -> import -> the same bits; and TensorFlow's form:
 * half_val holding each value's bits (one value fills the shape). */
static void test_graphdef_round_trip(void) {
    tfc_dtype types[] = {TFC_HALF, TFC_BFLOAT16};
    uint16_t bits[] = {0x3c00, 0x8001, 0x7c01, 0x1234};
    for (int t = 0; t < 2; t++) {
        tfc_graph *g = tfc_graph_new();
        tfc_tensor *v = tensor16(types[t], bits, 4);
        tfc_output c = tfc_const(g, v);
        tfc_cast(g, c, TFC_FLOAT);
        CHECK_GRAPH_OK(g);
        tfc_status *st = tfc_status_new();
        uint8_t *bytes = NULL;
        size_t len = 0;
        CHECK(tfc_graph_to_graphdef(g, &bytes, &len, st) == 0);
        tfc_tf_check chk = {on_problem, NULL, NULL, NULL};
        CHECK(tfc_tf_check_graph_def(bytes, len, &chk) == 0);
        tfc_graph *g2 = tfc_graph_new();
        CHECK(tfc_graph_import_graphdef(g2, bytes, len, "", NULL, NULL, 0, st) == 0);
        CHECK_STATUS_OK(st);
        tfc_node *c2 = tfc_graph_node_by_name(g2, tfc_node_name(c.node));
        CHECK(c2 != NULL);
        tfc_tensor *r = c2 ? run1(g2, (tfc_output){c2, 0}, NULL, NULL) : NULL;
        CHECK(r && r->dtype == types[t] && !memcmp(tfc_tensor_data(r), bits, sizeof bits));
        tfc_tensor_free(r);
        free(bytes);
        tfc_graph_free(g2);

        /* a GraphDef as TensorFlow writes small constants: half_val */
        Tensorflow__TensorShapeProto__Dim dim = TENSORFLOW__TENSOR_SHAPE_PROTO__DIM__INIT,
                                          *dims[] = {&dim};
        dim.size = 3;
        Tensorflow__TensorShapeProto shape = TENSORFLOW__TENSOR_SHAPE_PROTO__INIT;
        shape.n_dim = 1;
        shape.dim = dims;
        int32_t hv[] = {t ? 0xbf80 : 0xbc00}; /* -1 */
        Tensorflow__TensorProto tp = TENSORFLOW__TENSOR_PROTO__INIT;
        tp.dtype = (Tensorflow__DataType)types[t];
        tp.tensor_shape = &shape;
        tp.n_half_val = 1;
        tp.half_val = hv;
        Tensorflow__AttrValue value = TENSORFLOW__ATTR_VALUE__INIT,
                              dtype = TENSORFLOW__ATTR_VALUE__INIT;
        value.value_case = TENSORFLOW__ATTR_VALUE__VALUE_TENSOR;
        value.tensor = &tp;
        dtype.value_case = TENSORFLOW__ATTR_VALUE__VALUE_TYPE;
        dtype.type = (Tensorflow__DataType)types[t];
        Tensorflow__NodeDef__AttrEntry e1 = TENSORFLOW__NODE_DEF__ATTR_ENTRY__INIT,
                                       e2 = TENSORFLOW__NODE_DEF__ATTR_ENTRY__INIT;
        e1.key = "value";
        e1.value = &value;
        e2.key = "dtype";
        e2.value = &dtype;
        Tensorflow__NodeDef__AttrEntry *attrs[] = {&e1, &e2};
        Tensorflow__NodeDef nd = TENSORFLOW__NODE_DEF__INIT;
        nd.name = "k";
        nd.op = "Const";
        nd.n_attr = 2;
        nd.attr = attrs;
        Tensorflow__NodeDef *nodes[] = {&nd};
        Tensorflow__GraphDef gd = TENSORFLOW__GRAPH_DEF__INIT;
        gd.n_node = 1;
        gd.node = nodes;
        len = tensorflow__graph_def__get_packed_size(&gd);
        bytes = malloc(len);
        tensorflow__graph_def__pack(&gd, bytes);
        g2 = tfc_graph_new();
        CHECK(tfc_graph_import_graphdef(g2, bytes, len, "", NULL, NULL, 0, st) == 0);
        CHECK_STATUS_OK(st);
        tfc_node *k = tfc_graph_node_by_name(g2, "k");
        r = k ? run1(g2, tfc_cast(g2, (tfc_output){k, 0}, TFC_FLOAT), NULL, NULL) : NULL;
        CHECK(r && r->nelem == 3);
        for (int i = 0; r && i < 3; i++) CHECK(((float *)tfc_tensor_data(r))[i] == -1.0f);
        tfc_tensor_free(r);
        free(bytes);
        tfc_graph_free(g2);
        tfc_status_free(st);
        tfc_tensor_free(v);
        tfc_graph_free(g);
    }
}

/* Saver -> checkpoint (dtype 19 / 14, 2 bytes an element) -> reader and
 * restore give the same bits. */
static void test_checkpoint_round_trip(void) {
    char dir[] = "/tmp/tfc_half_ckpt_XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char prefix[128];
    snprintf(prefix, sizeof prefix, "%s/model", dir);
    uint16_t hb[] = {0x3c00, 0x0001, 0xfbff}, bb[] = {0x3f80, 0x0001, 0xff7f};
    tfc_graph *g = tfc_graph_new();
    tfc_tensor *hv = tensor16(TFC_HALF, hb, 3), *bv = tensor16(TFC_BFLOAT16, bb, 3);
    tfc_output vars[] = {tfc_variable(g, "h", tfc_const(g, hv)),
                         tfc_variable(g, "b", tfc_const(g, bv))};
    tfc_node *init = tfc_global_variables_initializer(g);
    tfc_saver *sv = tfc_saver_new(g, vars, 2, 5);
    CHECK_GRAPH_OK(g);
    tfc_status *st = tfc_status_new();
    tfc_session *s = tfc_session_new(g, NULL, st);
    tfc_session_run(s, NULL, NULL, 0, NULL, 0, NULL, &init, 1, st);
    CHECK_STATUS_OK(st);
    const char *path = tfc_saver_save(sv, s, prefix, -1, st);
    CHECK_STATUS_OK(st);
    tfc_checkpoint_reader *r = path ? tfc_checkpoint_reader_open(path, st) : NULL;
    CHECK(r != NULL);
    for (int i = 0; r && i < tfc_checkpoint_reader_num(r); i++) {
        const char *name = tfc_checkpoint_reader_name(r, i);
        int is_h = !strcmp(name, "h");
        CHECK(tfc_checkpoint_reader_dtype(r, i) == (is_h ? TFC_HALF : TFC_BFLOAT16));
        tfc_tensor *t = tfc_checkpoint_reader_get(r, name, st);
        CHECK(t && t->nelem == 3 && !memcmp(tfc_tensor_data(t), is_h ? hb : bb, 6));
        tfc_tensor_free(t);
    }
    tfc_checkpoint_reader_free(r);
    /* a fresh session restores them */
    tfc_session *s2 = tfc_session_new(g, NULL, st);
    CHECK(path && tfc_saver_restore(sv, s2, path, st) == 0);
    CHECK_STATUS_OK(st);
    for (int k = 0; k < 2; k++) {
        tfc_tensor *t = tfc_session_run1(s2, NULL, NULL, 0, vars[k], st);
        CHECK(t && !memcmp(tfc_tensor_data(t), k ? bb : hb, 6));
        tfc_tensor_free(t);
    }
    tfc_session_free(s2);
    tfc_session_free(s);
    tfc_saver_free(sv);
    tfc_tensor_free(hv);
    tfc_tensor_free(bv);
    tfc_status_free(st);
    tfc_graph_free(g);
    char cmd[200];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CHECK(system(cmd) == 0);
}

TFC_TEST_MAIN(T(test_every_half_pattern), T(test_float_to_half_rounding), T(test_bfloat16_rounding),
              T(test_cast_double_and_int32), T(test_feed_fetch_identity),
              T(test_graphdef_round_trip), T(test_checkpoint_round_trip))
