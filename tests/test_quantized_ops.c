/* TensorFlow's 8-bit quantization ops (src/ops/quantize*.c): QuantizeV2
 * against TensorFlow's documented examples and formulas, exactly; every
 * quantized op against a float reference on random data within its
 * quantization step; the products' int32 codes exactly against a plain
 * loop (oneDNN's path and the portable one); misuse errors; quantized
 * constants through a GraphDef. */
#include "harness.h"
#include "ops/quantize_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static double qget(const tfc_tensor *t, int64_t i) {
    const void *p = tfc_tensor_data(t);
    switch (tfc_tensor_dtype(t)) {
    case TFC_QINT8: return ((const int8_t *)p)[i];
    case TFC_QUINT8: return ((const uint8_t *)p)[i];
    case TFC_QINT32: return ((const int32_t *)p)[i];
    default: return tfc_test_get(t, i);
    }
}

static tfc_tensor *floats(int rank, const int64_t *dims, const float *v) {
    return tfc_tensor_from_data(TFC_FLOAT, rank, dims, v);
}

/* Runs g once: fetches[0, n) into out[]; 0 or -1 (message in err). */
static int run(tfc_graph *g, const tfc_output *fetches, int n, tfc_tensor **out, char *err,
               size_t cap) {
    tfc_status *st = tfc_status_new();
    tfc_session *s = tfc_session_new(g, NULL, st);
    if (s) tfc_session_run(s, NULL, NULL, 0, fetches, n, out, NULL, 0, st);
    int rc = tfc_status_code(st) == TFC_OK ? 0 : -1;
    if (rc && err) snprintf(err, cap, "%s", tfc_status_message(st));
    tfc_session_free(s);
    tfc_status_free(st);
    return rc;
}

static tfc_node *quantize_ex(tfc_graph *g, tfc_output x, float mn, float mx, tfc_dtype t,
                             const char *mode, const char *round, int narrow) {
    tfc_op_desc *d = tfc_op_new(g, "QuantizeV2", NULL);
    tfc_op_add_input(d, x);
    tfc_op_add_input(d, tfc_const_float(g, mn));
    tfc_op_add_input(d, tfc_const_float(g, mx));
    tfc_op_set_attr_type(d, "T", t);
    tfc_op_set_attr_string(d, "mode", mode);
    if (round) tfc_op_set_attr_string(d, "round_mode", round);
    if (narrow) tfc_op_set_attr_bool(d, "narrow_range", 1);
    return tfc_op_finish(d);
}

/* Quantizes v[0, n) and returns the codes (and the range used). */
static tfc_tensor *quantize_values(const float *v, int64_t n, float mn, float mx, tfc_dtype t,
                                   const char *mode, const char *round, float range[2]) {
    tfc_graph *g = tfc_graph_new();
    tfc_tensor *x = floats(1, &n, v);
    tfc_node *q = quantize_ex(g, tfc_const(g, x), mn, mx, t, mode, round, 0);
    tfc_output f[3] = {tfc_out(q, 0), tfc_out(q, 1), tfc_out(q, 2)};
    tfc_tensor *out[3] = {NULL, NULL, NULL};
    char err[256];
    CHECK_MSG(run(g, f, 3, out, err, sizeof err) == 0, "%s", err);
    if (out[1] && range) {
        range[0] = *(float *)tfc_tensor_data(out[1]);
        range[1] = *(float *)tfc_tensor_data(out[2]);
    }
    tfc_tensor_free(out[1]);
    tfc_tensor_free(out[2]);
    tfc_tensor_free(x);
    tfc_graph_free(g);
    return out[0];
}

/* TensorFlow's documentation of QuantizeV2: MIN_COMBINED maps [0, 6] to
 * quint8 by 255/6 (adding 0.5 and truncating), to qint8 subtracting 128
 * (rounding half away from zero); SCALED over [-10, 9.9] for qint8 uses
 * scale min(128/10, 127/9.9) = 12.8 and range [-10, 127/12.8]. */
static void test_quantize_documented(void) {
    float v[] = {0.0f, 1.0f, 3.0f, 6.0f, -1.0f, 7.0f};
    float r[2];
    tfc_tensor *q = quantize_values(v, 6, 0.0f, 6.0f, TFC_QUINT8, "MIN_COMBINED", NULL, r);
    double want_u[] = {0, 43, 128, 255, 0, 255};
    for (int i = 0; q && i < 6; i++) CHECK_NEAR(qget(q, i), want_u[i], 0);
    CHECK(r[0] == 0.0f && r[1] == 6.0f);
    tfc_tensor_free(q);
    q = quantize_values(v, 6, 0.0f, 6.0f, TFC_QINT8, "MIN_COMBINED", NULL, NULL);
    /* 42.5 - 128 rounds to -86, 127.5 - 128 to -1 (half away from zero) */
    double want_s[] = {-128, -86, -1, 127, -128, 127};
    for (int i = 0; q && i < 6; i++) CHECK_NEAR(qget(q, i), want_s[i], 0);
    tfc_tensor_free(q);

    float w[] = {-10.0f, 9.9f, 1.0f, -1.0f, 0.0f, 20.0f};
    q = quantize_values(w, 6, -10.0f, 9.9f, TFC_QINT8, "SCALED", NULL, r);
    CHECK(r[0] == -10.0f && r[1] == 127.0f / 12.8f);
    double want_scaled[] = {-128, 127, 13, -13, 0, 127}; /* 9.9 * 12.8 = 126.7 */
    for (int i = 0; q && i < 6; i++) CHECK_NEAR(qget(q, i), want_scaled[i], 0);
    tfc_tensor_free(q);

    /* rounding ties: scale 1 over [-128, 127] */
    float ties[] = {0.5f, 1.5f, 2.5f, -0.5f, -2.5f};
    double away[] = {1, 2, 3, -1, -3}, even[] = {0, 2, 2, 0, -2};
    q = quantize_values(ties, 5, -128.0f, 127.0f, TFC_QINT8, "SCALED", "HALF_AWAY_FROM_ZERO", NULL);
    for (int i = 0; q && i < 5; i++) CHECK_NEAR(qget(q, i), away[i], 0);
    tfc_tensor_free(q);
    q = quantize_values(ties, 5, -128.0f, 127.0f, TFC_QINT8, "SCALED", "HALF_TO_EVEN", NULL);
    for (int i = 0; q && i < 5; i++) CHECK_NEAR(qget(q, i), even[i], 0);
    tfc_tensor_free(q);
}

/* MIN_FIRST against its documented formula, in double:
 *   range_scale = 2^bits / ((max - min) * 2^bits / (2^bits - 1))
 *   q = round(x * range_scale) - round(min * range_scale) + lowest, clamped. */
static void test_quantize_min_first_formula(void) {
    tfc_test_seed(7);
    float v[200];
    for (int i = 0; i < 200; i++) v[i] = (float)tfc_test_uniform(-3.5, 5.0);
    tfc_dtype types[] = {TFC_QUINT8, TFC_QINT8};
    for (int t = 0; t < 2; t++) {
        float r[2];
        tfc_tensor *q = quantize_values(v, 200, -3.0f, 4.5f, types[t], "MIN_FIRST", NULL, r);
        if (!q) continue;
        double lowest = types[t] == TFC_QUINT8 ? 0 : -128, scale = 255.0 / (r[1] - r[0]);
        for (int i = 0; i < 200; i++) {
            double want = round(v[i] * scale) - round(r[0] * scale) + lowest;
            want = want < lowest ? lowest : want > lowest + 255 ? lowest + 255 : want;
            /* TensorFlow computes in float: a tie may fall either way */
            CHECK_MSG(fabs(qget(q, i) - want) <= 1, "%s x=%g: %g, formula %g",
                      tfc_dtype_name(types[t]), v[i], qget(q, i), want);
        }
        tfc_tensor_free(q);
    }
}

/* MIN_FIRST to 8-bit codes runs 32 elements at a time in AVX2 where the
 * CPU has it, the rest in the scalar loop: a long tensor's codes equal
 * those of its pieces of 31 (scalar only), for random values in and out
 * of the range, exact ties (scale 1 over [0, 255] and [-128, 127]), and
 * NaN (the lowest code), infinities and huge values (the end codes). */
static void test_quantize_min_first_vector_path(void) {
    enum { N = 31 * 40 };
    static float v[N];
    tfc_test_seed(17);
    float ranges[][2] = {{-1.3f, 2.9f}, {0.0f, 255.0f}, {-128.0f, 127.0f}, {0.0f, 0.37f}};
    tfc_dtype types[] = {TFC_QUINT8, TFC_QINT8};
    for (int r = 0; r < 4; r++)
        for (int t = 0; t < 2; t++) {
            float mn = ranges[r][0], mx = ranges[r][1], w = mx - mn;
            for (int i = 0; i < N; i++) {
                int kind = i % 7;
                v[i] = kind == 0 ? floorf((float)tfc_test_uniform(mn, mx)) + 0.5f /* ties */
                       : kind == 1 ? (float)tfc_test_uniform(mn - w / 4, mx + w / 4)
                                   : (float)tfc_test_uniform(mn, mx);
            }
            float special[] = {NAN, INFINITY, -INFINITY, 1e30f, -1e30f, -0.5f, 0.5f, -0.0f};
            for (int i = 0; i < 8; i++) v[100 + 37 * i] = special[i];
            tfc_tensor *all = quantize_values(v, N, mn, mx, types[t], "MIN_FIRST", NULL, NULL);
            int bad = 0;
            for (int at = 0; all && at < N; at += 31) {
                tfc_tensor *part =
                    quantize_values(v + at, 31, mn, mx, types[t], "MIN_FIRST", NULL, NULL);
                for (int i = 0; part && i < 31; i++)
                    if (qget(all, at + i) != qget(part, i) && bad++ < 3)
                        fprintf(stderr, "  %s [%g, %g] x=%.9g: %g, scalar %g\n",
                                tfc_dtype_name(types[t]), mn, mx, v[at + i], qget(all, at + i),
                                qget(part, i));
                tfc_tensor_free(part);
            }
            CHECK_MSG(all && bad == 0, "%s [%g, %g]: %d codes differ from the scalar loop's",
                      tfc_dtype_name(types[t]), mn, mx, bad);
            tfc_tensor_free(all);
        }
}

/* Dequantize(QuantizeV2(x)) is within one step of x in every mode and
 * type; the ends of MIN_COMBINED's range come back exactly. */
static void test_round_trip(void) {
    const char *modes[] = {"MIN_COMBINED", "MIN_FIRST", "SCALED"};
    tfc_dtype types[] = {TFC_QUINT8, TFC_QINT8, TFC_QINT32};
    int64_t n = 300;
    tfc_test_seed(3);
    for (int m = 0; m < 3; m++)
        for (int t = 0; t < 3; t++) {
            /* SCALED quint8 holds only [0, max] */
            float lo = types[t] == TFC_QUINT8 && m == 2 ? 0.0f : -2.0f, hi = 3.0f;
            tfc_tensor *x = tfc_test_random_tensor(TFC_FLOAT, 1, &n, lo, hi);
            tfc_graph *g = tfc_graph_new();
            tfc_node *q = quantize_ex(g, tfc_const(g, x), lo, hi, types[t], modes[m], NULL, 0);
            tfc_output y = tfc_dequantize(g, tfc_out(q, 0), tfc_out(q, 1), tfc_out(q, 2), modes[m]);
            tfc_tensor *out = NULL;
            char err[256];
            CHECK_MSG(run(g, &y, 1, &out, err, sizeof err) == 0, "%s", err);
            double bits = types[t] == TFC_QINT32 ? 32 : 8;
            double step = (hi - lo) / (pow(2, bits) - 1) * (m == 2 ? 2 : 1);
            double tol = step + 1e-6 * (hi - lo);
            if (out)
                CHECK_MSG(tfc_test_max_diff(out, x) <= tol, "%s %s: %g > %g", modes[m],
                          tfc_dtype_name(types[t]), tfc_test_max_diff(out, x), tol);
            tfc_tensor_free(out);
            tfc_tensor_free(x);
            tfc_graph_free(g);
        }
    /* the documented quint8 [0, 6]: code 255 is 6, code 0 is 0 */
    tfc_graph *g = tfc_graph_new();
    uint8_t codes[] = {0, 255};
    int64_t two = 2;
    tfc_tensor *c = tfc_tensor_from_data(TFC_QUINT8, 1, &two, codes);
    tfc_output y = tfc_dequantize(g, tfc_const(g, c), tfc_const_float(g, 0), tfc_const_float(g, 6),
                                  NULL);
    tfc_tensor *out = NULL;
    CHECK(run(g, &y, 1, &out, NULL, 0) == 0);
    if (out) CHECK(((float *)tfc_tensor_data(out))[0] == 0.0f && ((float *)tfc_tensor_data(out))[1] == 6.0f);
    tfc_tensor_free(out);
    tfc_tensor_free(c);
    tfc_graph_free(g);
}

/* ---- products ---- */

typedef struct qin {
    tfc_node *q;     /* QuantizeV2 */
    tfc_tensor *f;   /* the float values */
} qin;

static qin quantized_input(tfc_graph *g, int rank, const int64_t *dims, double lo, double hi,
                           tfc_dtype t, const char *mode) {
    qin r;
    r.f = tfc_test_random_tensor(TFC_FLOAT, rank, dims, lo, hi);
    r.q = quantize_ex(g, tfc_const(g, r.f), (float)lo, (float)hi, t, mode, NULL, 0);
    return r;
}

/* The int32 codes of a product against a plain loop over (qa - offset_a)
 * (qb - offset_b), offsets the codes of 0.0 by TensorFlow's formula. */
static void check_codes(const tfc_tensor *qa, float amin, float amax, const tfc_tensor *qb,
                        float bmin, float bmax, int ta, int tb, const tfc_tensor *c) {
    int64_t m = tfc_tensor_dim(qa, ta ? 1 : 0), k = tfc_tensor_dim(qa, ta ? 0 : 1);
    int64_t n = tfc_tensor_dim(qb, tb ? 0 : 1);
    int64_t ao = tfc_q_from_float_unclamped(tfc_tensor_dtype(qa), 0, amin, amax);
    int64_t bo = tfc_q_from_float_unclamped(tfc_tensor_dtype(qb), 0, bmin, bmax);
    int bad = 0;
    for (int64_t i = 0; i < m; i++)
        for (int64_t j = 0; j < n; j++) {
            int64_t s = 0;
            for (int64_t p = 0; p < k; p++)
                s += ((int64_t)qget(qa, ta ? p * m + i : i * k + p) - ao) *
                     ((int64_t)qget(qb, tb ? j * k + p : p * n + j) - bo);
            bad += qget(c, i * n + j) != (double)s;
        }
    CHECK_MSG(bad == 0, "%d of %lld codes differ from the loop", bad, (long long)(m * n));
}

/* QuantizedMatMul for a [m,k] in [alo, ahi] and b [k,n] in [blo, bhi]:
 * exact codes, and the dequantized product within the quantization error
 * of the float product. */
static void matmul_case(tfc_dtype ta_type, tfc_dtype tb_type, double alo, double ahi, double blo,
                        double bhi, double bvals, int ta, int tb) {
    tfc_graph *g = tfc_graph_new();
    int64_t m = 7, k = 45, n = 33;
    int64_t adims[] = {ta ? k : m, ta ? m : k}, bdims[] = {tb ? n : k, tb ? k : n};
    qin a = quantized_input(g, 2, adims, alo, ahi, ta_type, "MIN_FIRST");
    tfc_node *bq;
    tfc_tensor *bf = tfc_test_random_tensor(TFC_FLOAT, 2, bdims, -bvals, bvals);
    bq = quantize_ex(g, tfc_const(g, bf), (float)blo, (float)bhi, tb_type, "MIN_FIRST", NULL, 0);
    tfc_op_desc *d = tfc_op_new(g, "QuantizedMatMul", "qmm");
    tfc_output ins[] = {tfc_out(a.q, 0), tfc_out(bq, 0), tfc_out(a.q, 1), tfc_out(a.q, 2),
                        tfc_out(bq, 1), tfc_out(bq, 2)};
    tfc_op_add_inputs(d, ins, 6);
    tfc_op_set_attr_bool(d, "transpose_a", ta);
    tfc_op_set_attr_bool(d, "transpose_b", tb);
    tfc_node *mm = tfc_op_finish(d);
    tfc_output deq = tfc_dequantize(g, tfc_out(mm, 0), tfc_out(mm, 1), tfc_out(mm, 2), "SCALED");
    tfc_output ref = tfc_matmul_ex(g, tfc_const(g, a.f), tfc_const(g, bf), ta, tb);
    tfc_output f[] = {tfc_out(a.q, 0), tfc_out(bq, 0), tfc_out(mm, 0), deq, ref,
                      tfc_out(a.q, 1), tfc_out(a.q, 2), tfc_out(bq, 1), tfc_out(bq, 2)};
    tfc_tensor *o[9] = {0};
    char err[256];
    CHECK_GRAPH_OK(g);
    CHECK_MSG(run(g, f, 9, o, err, sizeof err) == 0, "%s", err);
    if (o[0]) {
        float r[4];
        for (int i = 0; i < 4; i++) r[i] = *(float *)tfc_tensor_data(o[5 + i]);
        check_codes(o[0], r[0], r[1], o[1], r[2], r[3], ta, tb, o[2]);
        /* each product is off by at most |a| step_b / 2 + |b| step_a / 2 + steps^2/4 */
        double sa = (r[1] - r[0]) / 255.0, sb = (r[3] - r[2]) / 255.0;
        double amax = fmax(fabs(alo), fabs(ahi)), bmax = bvals;
        double tol = (double)k * (amax * sb / 2 + bmax * sa / 2 + sa * sb / 4) + 1e-4;
        CHECK_MSG(tfc_test_max_diff(o[3], o[4]) <= tol, "%s x %s: %g > %g",
                  tfc_dtype_name(ta_type), tfc_dtype_name(tb_type), tfc_test_max_diff(o[3], o[4]),
                  tol);
    }
    for (int i = 0; i < 9; i++) tfc_tensor_free(o[i]);
    tfc_tensor_free(a.f);
    tfc_tensor_free(bf);
    tfc_graph_free(g);
}

static void test_quantized_matmul(void) {
    tfc_test_seed(11);
    /* TensorFlow's quint8 x quint8 (portable loop) */
    matmul_case(TFC_QUINT8, TFC_QUINT8, 0, 2, -1, 1, 1, 0, 0);
    /* quint8 x qint8 with codes within +-64: oneDNN's GEMM, every transpose */
    for (int t = 0; t < 4; t++) matmul_case(TFC_QUINT8, TFC_QINT8, -0.5, 2, -1, 1, 0.5, t & 1, t >> 1);
    /* activations from 0 against transposed weights, offsets 0: the dot loop */
    matmul_case(TFC_QUINT8, TFC_QINT8, 0, 2, -1, 1, 1, 0, 1);
    /* full-range qint8 weights (the portable loop), signed activations */
    matmul_case(TFC_QUINT8, TFC_QINT8, 0, 2, -1, 1, 1, 0, 0);
    matmul_case(TFC_QINT8, TFC_QINT8, -1, 1, -1, 1, 1, 1, 0);
}

/* The GEMM directly, at sizes that split over the pool (one block per
 * thread: pools of 1, 2 and 3): oneDNN's path equals the portable loop. */
static void test_gemm_paths(void) {
    int64_t m = 37, n = 129, k = 300;
    uint8_t *a = malloc((size_t)(m * k));
    int8_t *b = malloc((size_t)(k * n));
    int32_t *c1 = malloc((size_t)(m * n) * 4), *c2 = malloc((size_t)(m * n) * 4);
    tfc_test_seed(5);
    for (int64_t i = 0; i < m * k; i++) a[i] = (uint8_t)tfc_test_uniform(0, 256);
    for (int64_t i = 0; i < k * n; i++) b[i] = (int8_t)tfc_test_uniform(-64, 65);
    for (int threads = 1; threads <= 3; threads++) {
        tfc_threadpool *pool = tfc_threadpool_new(threads);
        for (int64_t i = 0; i < k * n; i++) b[i] = (int8_t)tfc_test_uniform(-64, 65);
        /* oneDNN (offsets or not), and the dot loop for a few rows
         * (full-range weights: it is exact for any codes) */
        for (int t = 0; t < 8; t++) {
            int32_t ao = t < 4 ? 3 : 0, bo = t < 4 ? -2 : 0;
            int64_t rows = t < 4 || t == 7 ? m : 5; /* 7: full-range B, refused by oneDNN */
            int tb = (t >> 1) & 1 ? 1 : t >= 4;
            if (t == 6)
                for (int64_t i = 0; i < k * n; i++) b[i] = (int8_t)tfc_test_uniform(-128, 128);
            tfc_q_gemm(pool, t & 1, tb, rows, n, k, a, 0, ao, b, 1, bo, c1);
            tfc_q_gemm_portable(t & 1, tb, rows, n, k, a, 0, ao, b, 1, bo, c2);
            CHECK_MSG(memcmp(c1, c2, (size_t)(rows * n) * 4) == 0, "%d threads, case %d",
                      threads, t);
        }
        tfc_threadpool_free(pool);
    }
    free(a);
    free(b);
    free(c1);
    free(c2);
}

static void test_quantized_conv2d(void) {
    tfc_test_seed(13);
    const char *pads[] = {"SAME", "VALID"};
    int strides[][4] = {{1, 1, 1, 1}, {1, 2, 2, 1}};
    for (int p = 0; p < 2; p++)
        for (int s = 0; s < 2; s++) {
            tfc_graph *g = tfc_graph_new();
            int64_t xd[] = {2, 9, 8, 3}, fd[] = {3, 3, 3, 5};
            qin x = quantized_input(g, 4, xd, 0, 1, TFC_QUINT8, "MIN_FIRST");
            qin f = quantized_input(g, 4, fd, -0.5, 0.5, TFC_QINT8, "SCALED");
            tfc_op_desc *d = tfc_op_new(g, "QuantizedConv2D", "qconv");
            tfc_output ins[] = {tfc_out(x.q, 0), tfc_out(f.q, 0), tfc_out(x.q, 1),
                                tfc_out(x.q, 2), tfc_out(f.q, 1), tfc_out(f.q, 2)};
            tfc_op_add_inputs(d, ins, 6);
            int64_t st[] = {1, strides[s][1], strides[s][2], 1};
            tfc_op_set_attr_int_list(d, "strides", st, 4);
            tfc_op_set_attr_string(d, "padding", pads[p]);
            tfc_node *cv = tfc_op_finish(d);
            tfc_output deq = tfc_dequantize(g, tfc_out(cv, 0), tfc_out(cv, 1), tfc_out(cv, 2),
                                            "SCALED");
            tfc_output ref = tfc_conv2d(g, tfc_const(g, x.f), tfc_const(g, f.f), strides[s], pads[p]);
            tfc_output fe[] = {deq, ref};
            tfc_tensor *o[2] = {0};
            char err[256];
            CHECK_GRAPH_OK(g);
            CHECK_MSG(run(g, fe, 2, o, err, sizeof err) == 0, "%s", err);
            /* 27 products each off by at most 1 * 0.5/127/2 + 0.5 * 1/255/2 (+ tiny) */
            double tol = 27 * (0.5 / 127 + 0.5 / 255) / 2 + 1e-3;
            if (o[0])
                CHECK_MSG(tfc_test_max_diff(o[0], o[1]) <= tol, "%s stride %d: %g", pads[p],
                          strides[s][1], tfc_test_max_diff(o[0], o[1]));
            tfc_tensor_free(o[0]);
            tfc_tensor_free(o[1]);
            tfc_tensor_free(x.f);
            tfc_tensor_free(f.f);
            tfc_graph_free(g);
        }
}

/* QuantizedConv2D's codes against an integer loop, with both codes of 0.0
 * at 0 (the rewrite's case): filter codes within +-64 take oneDNN's int8
 * convolution (batches split over the pool, 1 and 32 channels, strides,
 * padding), wider ones im2col + GEMM. The session runs it `runs` times:
 * the pool's threads run the chunks of one primitive side by side, which
 * oneDNN's own scratchpad did not survive (wrong codes in about one run in
 * thirty on an AVX-512 VNNI machine). */
static void q_conv_case(int64_t n, int64_t hw, int64_t ch, int64_t kk, int64_t oc, int stride,
                        const char *pad, int fmax, int runs) {
    int64_t xd[] = {n, hw, hw, ch}, fd[] = {kk, kk, ch, oc};
    tfc_tensor *x = tfc_tensor_new(TFC_QUINT8, 4, xd), *f = tfc_tensor_new(TFC_QINT8, 4, fd);
    uint8_t *xv = tfc_tensor_data(x);
    int8_t *fv = tfc_tensor_data(f);
    for (int64_t i = 0; i < tfc_tensor_num_elements(x); i++) xv[i] = (uint8_t)tfc_test_uniform(0, 256);
    for (int64_t i = 0; i < tfc_tensor_num_elements(f); i++)
        fv[i] = (int8_t)floor(tfc_test_uniform(-fmax, fmax + 1));
    tfc_graph *g = tfc_graph_new();
    tfc_op_desc *d = tfc_op_new(g, "QuantizedConv2D", "qconv");
    /* x fed, so the plan does not fold the convolution into a constant */
    tfc_output xp = tfc_placeholder(g, "x", TFC_QUINT8, 4, xd);
    tfc_output ins[] = {xp, tfc_const(g, f), tfc_const_float(g, 0),
                        tfc_const_float(g, 1), tfc_const_float(g, -128 * 0.01f),
                        tfc_const_float(g, 127 * 0.01f)};
    tfc_op_add_inputs(d, ins, 6);
    int64_t st[] = {1, stride, stride, 1};
    tfc_op_set_attr_int_list(d, "strides", st, 4);
    tfc_op_set_attr_string(d, "padding", pad);
    tfc_output y = tfc_out(tfc_op_finish(d), 0);
    CHECK_GRAPH_OK(g);
    tfc_status *status = tfc_status_new();
    tfc_session *s = tfc_session_new(g, NULL, status); /* a thread a core */
    int same = !strcmp(pad, "SAME");
    int64_t *want = NULL, count = 0, runs_bad = 0;
    for (int r = 0; r < runs && tfc_status_code(status) == TFC_OK; r++) {
        tfc_tensor *o = NULL;
        tfc_session_run(s, &xp, &x, 1, &y, 1, &o, NULL, 0, status);
        CHECK_STATUS_OK(status);
        if (!o) break;
        int64_t oh = tfc_tensor_dim(o, 1), ow = tfc_tensor_dim(o, 2), bad = 0;
        if (!want) { /* the integer loop, once */
            int64_t ph = same ? ((oh - 1) * stride + kk - hw) / 2 : 0;
            if (ph < 0) ph = 0;
            count = n * oh * ow * oc;
            want = malloc(sizeof *want * (size_t)count);
            for (int64_t b = 0; b < n; b++)
                for (int64_t oy = 0; oy < oh; oy++)
                    for (int64_t ox = 0; ox < ow; ox++)
                        for (int64_t q = 0; q < oc; q++) {
                            int64_t sum = 0;
                            for (int64_t ky = 0; ky < kk; ky++)
                                for (int64_t kx = 0; kx < kk; kx++) {
                                    int64_t iy = oy * stride - ph + ky, ix = ox * stride - ph + kx;
                                    if (iy < 0 || iy >= hw || ix < 0 || ix >= hw) continue;
                                    for (int64_t c = 0; c < ch; c++)
                                        sum += (int64_t)xv[((b * hw + iy) * hw + ix) * ch + c] *
                                               fv[((ky * kk + kx) * ch + c) * oc + q];
                                }
                            want[((b * oh + oy) * ow + ox) * oc + q] = sum;
                        }
        }
        const int32_t *yv = tfc_tensor_data(o);
        for (int64_t i = 0; i < count; i++) bad += yv[i] != want[i];
        if (bad && !runs_bad++)
            CHECK_MSG(0, "n %lld, %lldx%lldx%lld, %lldx%lld filter to %lld, stride %d %s, "
                      "codes +-%d, run %d: %lld codes differ", (long long)n, (long long)hw,
                      (long long)hw, (long long)ch, (long long)kk, (long long)kk, (long long)oc,
                      stride, pad, fmax, r, (long long)bad);
        tfc_tensor_free(o);
    }
    free(want);
    tfc_session_free(s);
    tfc_status_free(status);
    tfc_tensor_free(x);
    tfc_tensor_free(f);
    tfc_graph_free(g);
}

static void test_quantized_conv2d_paths(void) {
    tfc_test_seed(17);
    q_conv_case(5, 12, 1, 5, 32, 1, "SAME", 64, 20); /* the CNN's first layer */
    q_conv_case(3, 7, 32, 5, 16, 1, "SAME", 64, 20); /* its second */
    q_conv_case(4, 9, 8, 3, 8, 2, "VALID", 64, 200);
    q_conv_case(2, 8, 16, 3, 8, 2, "SAME", 64, 200);
    q_conv_case(3, 7, 32, 5, 16, 1, "SAME", 127, 3); /* full-range codes: im2col + GEMM */
    q_conv_case(1, 6, 4, 1, 4, 1, "VALID", 64, 3);   /* 1x1 */
    /* chunks long enough (about 0.1 ms) that the two threads run them at
     * the same time in every run */
    q_conv_case(4, 28, 32, 3, 32, 1, "SAME", 64, 30);
}

/* ---- the layers around the products ---- */

/* op(q) with three outputs, dequantized (MIN_FIRST), against ref */
static double layer_diff(tfc_graph *g, tfc_node *op, tfc_output ref) {
    tfc_output deq = tfc_dequantize(g, tfc_out(op, 0), tfc_out(op, 1), tfc_out(op, 2), "MIN_FIRST");
    tfc_output fe[] = {deq, ref};
    tfc_tensor *o[2] = {0};
    char err[256];
    CHECK_GRAPH_OK(g);
    CHECK_MSG(run(g, fe, 2, o, err, sizeof err) == 0, "%s", err);
    double d = o[0] ? tfc_test_max_diff(o[0], o[1]) : INFINITY;
    tfc_tensor_free(o[0]);
    tfc_tensor_free(o[1]);
    return d;
}

static tfc_node *unary(tfc_graph *g, const char *type, tfc_node *q) {
    tfc_op_desc *d = tfc_op_new(g, type, NULL);
    tfc_output ins[] = {tfc_out(q, 0), tfc_out(q, 1), tfc_out(q, 2)};
    tfc_op_add_inputs(d, ins, 3);
    return tfc_op_finish(d);
}

static void test_quantized_relu(void) {
    tfc_test_seed(17);
    int64_t dims[] = {4, 50};
    double step = 10.0 / 255;
    for (int six = 0; six < 2; six++) {
        tfc_graph *g = tfc_graph_new();
        qin x = quantized_input(g, 2, dims, -2, 8, TFC_QUINT8, "MIN_FIRST");
        tfc_node *r = unary(g, six ? "QuantizedRelu6" : "QuantizedRelu", x.q);
        tfc_output ref = tfc_relu(g, tfc_const(g, x.f));
        if (six) ref = tfc_minimum(g, ref, tfc_const_float(g, 6.0f));
        double d = layer_diff(g, r, ref);
        CHECK_MSG(d <= step, "%s: %g > %g", six ? "Relu6" : "Relu", d, step);
        tfc_tensor_free(x.f);
        tfc_graph_free(g);
    }
}

static void test_quantized_bias_add(void) {
    tfc_test_seed(19);
    tfc_graph *g = tfc_graph_new();
    int64_t dims[] = {6, 10}, bd[] = {10};
    qin x = quantized_input(g, 2, dims, 0, 4, TFC_QUINT8, "MIN_FIRST");
    qin b = quantized_input(g, 1, bd, -1, 1, TFC_QUINT8, "MIN_FIRST");
    tfc_op_desc *d = tfc_op_new(g, "QuantizedBiasAdd", NULL);
    tfc_output ins[] = {tfc_out(x.q, 0), tfc_out(b.q, 0), tfc_out(x.q, 1), tfc_out(x.q, 2),
                        tfc_out(b.q, 1), tfc_out(b.q, 2)};
    tfc_op_add_inputs(d, ins, 6);
    tfc_op_set_attr_type(d, "out_type", TFC_QINT32);
    tfc_node *ba = tfc_op_finish(d);
    double diff = layer_diff(g, ba, tfc_bias_add(g, tfc_const(g, x.f), tfc_const(g, b.f)));
    /* TensorFlow's MIN_FIRST rounds the range's minimum one way when
     * quantizing (min * 255 / range) and may round it the other way when
     * reading the codes back (min / float(range / 255)): the bias, whose
     * minimum -1 is such a tie, may read one code off, as in TensorFlow */
    double tol = 4.0 / 255 / 2 + 1.5 * 2.0 / 255 + 1e-4;
    CHECK_MSG(diff <= tol, "%g > %g", diff, tol);
    tfc_tensor_free(x.f);
    tfc_tensor_free(b.f);
    tfc_graph_free(g);
}

/* A qint32 product brought back to quint8: RequantizationRange finds the
 * range used (its minimum kept <= 0), Requantize moves into it. */
static void test_requantize(void) {
    tfc_test_seed(23);
    tfc_graph *g = tfc_graph_new();
    int64_t ad[] = {5, 20}, bd[] = {20, 8};
    qin a = quantized_input(g, 2, ad, 0, 1, TFC_QUINT8, "MIN_FIRST");
    qin b = quantized_input(g, 2, bd, -1, 1, TFC_QUINT8, "MIN_FIRST");
    tfc_op_desc *d = tfc_op_new(g, "QuantizedMatMul", NULL);
    tfc_output ins[] = {tfc_out(a.q, 0), tfc_out(b.q, 0), tfc_out(a.q, 1), tfc_out(a.q, 2),
                        tfc_out(b.q, 1), tfc_out(b.q, 2)};
    tfc_op_add_inputs(d, ins, 6);
    tfc_node *mm = tfc_op_finish(d);
    d = tfc_op_new(g, "RequantizationRange", NULL);
    tfc_op_add_inputs(d, (tfc_output[]){tfc_out(mm, 0), tfc_out(mm, 1), tfc_out(mm, 2)}, 3);
    tfc_node *rr = tfc_op_finish(d);
    d = tfc_op_new(g, "Requantize", NULL);
    tfc_op_add_inputs(d, (tfc_output[]){tfc_out(mm, 0), tfc_out(mm, 1), tfc_out(mm, 2),
                                        tfc_out(rr, 0), tfc_out(rr, 1)}, 5);
    tfc_op_set_attr_type(d, "out_type", TFC_QUINT8);
    tfc_node *rq = tfc_op_finish(d);
    tfc_output exact = tfc_dequantize(g, tfc_out(mm, 0), tfc_out(mm, 1), tfc_out(mm, 2), "SCALED");
    tfc_output fe[] = {tfc_dequantize(g, tfc_out(rq, 0), tfc_out(rq, 1), tfc_out(rq, 2),
                                      "MIN_FIRST"),
                       exact, tfc_out(rr, 0), tfc_out(rr, 1)};
    tfc_tensor *o[4] = {0};
    char err[256];
    CHECK_GRAPH_OK(g);
    CHECK_MSG(run(g, fe, 4, o, err, sizeof err) == 0, "%s", err);
    if (o[0]) {
        float mn = *(float *)tfc_tensor_data(o[2]), mx = *(float *)tfc_tensor_data(o[3]);
        double lo = 0, hi = -INFINITY;
        for (int64_t i = 0; i < 40; i++) {
            lo = fmin(lo, tfc_test_get(o[1], i));
            hi = fmax(hi, tfc_test_get(o[1], i));
        }
        double step = (mx - mn) / 255;
        CHECK_MSG(fabs(mn - lo) <= 1e-3 * (hi - lo) && fabs(mx - hi) <= 1e-3 * (hi - lo),
                  "range [%g, %g], used [%g, %g]", mn, mx, lo, hi);
        CHECK_MSG(tfc_test_max_diff(o[0], o[1]) <= step, "%g > %g", tfc_test_max_diff(o[0], o[1]),
                  step);
    }
    for (int i = 0; i < 4; i++) tfc_tensor_free(o[i]);
    tfc_tensor_free(a.f);
    tfc_tensor_free(b.f);
    tfc_graph_free(g);
}

static void test_quantized_pools(void) {
    tfc_test_seed(29);
    int k[] = {1, 3, 3, 1}, s[] = {1, 2, 2, 1};
    const char *pads[] = {"SAME", "VALID"};
    for (int avg = 0; avg < 2; avg++)
        for (int p = 0; p < 2; p++) {
            tfc_graph *g = tfc_graph_new();
            int64_t dims[] = {2, 7, 6, 4};
            qin x = quantized_input(g, 4, dims, 0, 2, TFC_QUINT8, "MIN_FIRST");
            /* the reference pools the dequantized input: max is then exact */
            tfc_output xd = tfc_dequantize(g, tfc_out(x.q, 0), tfc_out(x.q, 1), tfc_out(x.q, 2),
                                           "MIN_FIRST");
            tfc_op_desc *d = tfc_op_new(g, avg ? "QuantizedAvgPool" : "QuantizedMaxPool", NULL);
            tfc_op_add_inputs(d, (tfc_output[]){tfc_out(x.q, 0), tfc_out(x.q, 1), tfc_out(x.q, 2)},
                              3);
            int64_t k64[] = {1, 3, 3, 1}, s64[] = {1, 2, 2, 1};
            tfc_op_set_attr_int_list(d, "ksize", k64, 4);
            tfc_op_set_attr_int_list(d, "strides", s64, 4);
            tfc_op_set_attr_string(d, "padding", pads[p]);
            tfc_node *pool = tfc_op_finish(d);
            tfc_output ref = avg ? tfc_avg_pool(g, xd, k, s, pads[p]) : tfc_max_pool(g, xd, k, s, pads[p]);
            double diff = layer_diff(g, pool, ref), tol = avg ? 2.0 / 255 / 2 + 1e-5 : 1e-6;
            CHECK_MSG(diff <= tol, "%s %s: %g > %g", avg ? "avg" : "max", pads[p], diff, tol);
            tfc_tensor_free(x.f);
            tfc_graph_free(g);
        }
}

/* ---- misuse ---- */

static void test_errors(void) {
    tfc_graph *g = tfc_graph_new();
    tfc_output x = tfc_const_float(g, 1.0f);
    tfc_op_desc *d = tfc_op_new(g, "QuantizeV2", "bad_mode");
    tfc_op_add_inputs(d, (tfc_output[]){x, x, x}, 3);
    tfc_op_set_attr_type(d, "T", TFC_QUINT8);
    tfc_op_set_attr_string(d, "mode", "MAX_FIRST");
    CHECK(tfc_op_finish(d) == NULL);
    CHECK_CONTAINS(tfc_graph_error(g), "bad_mode");
    CHECK_CONTAINS(tfc_graph_error(g), "mode");
    tfc_graph_free(g);

    g = tfc_graph_new();
    x = tfc_const_float(g, 1.0f);
    d = tfc_op_new(g, "QuantizeV2", "half_even");
    tfc_op_add_inputs(d, (tfc_output[]){x, x, x}, 3);
    tfc_op_set_attr_type(d, "T", TFC_QUINT8);
    tfc_op_set_attr_string(d, "round_mode", "HALF_TO_EVEN");
    CHECK(tfc_op_finish(d) == NULL);
    CHECK_CONTAINS(tfc_graph_error(g), "only supported with mode SCALED");
    tfc_graph_free(g);

    g = tfc_graph_new();
    tfc_node *q = quantize_ex(g, tfc_const_float(g, 1.0f), 2.0f, 1.0f, TFC_QUINT8, "MIN_FIRST",
                              NULL, 0);
    tfc_output o = tfc_out(q, 0);
    tfc_tensor *out = NULL;
    char err[256] = "";
    CHECK(run(g, &o, 1, &out, err, sizeof err) != 0);
    CHECK_CONTAINS(err, "must be larger than min_range");
    tfc_graph_free(g);

    /* a float where codes are expected */
    g = tfc_graph_new();
    x = tfc_const_float(g, 1.0f);
    d = tfc_op_new(g, "QuantizedRelu", "relu_float");
    tfc_op_add_inputs(d, (tfc_output[]){x, x, x}, 3);
    CHECK(tfc_op_finish(d) == NULL);
    CHECK_CONTAINS(tfc_graph_error(g), "must be qint8, quint8 or qint32");
    tfc_graph_free(g);

    /* mismatched product */
    g = tfc_graph_new();
    int64_t ad[] = {2, 3}, bd[] = {4, 2};
    qin a = quantized_input(g, 2, ad, 0, 1, TFC_QUINT8, "MIN_FIRST");
    qin b = quantized_input(g, 2, bd, 0, 1, TFC_QUINT8, "MIN_FIRST");
    d = tfc_op_new(g, "QuantizedMatMul", "mismatch");
    tfc_op_add_inputs(d, (tfc_output[]){tfc_out(a.q, 0), tfc_out(b.q, 0), tfc_out(a.q, 1),
                                        tfc_out(a.q, 2), tfc_out(b.q, 1), tfc_out(b.q, 2)}, 6);
    CHECK(tfc_op_finish(d) == NULL);
    CHECK_CONTAINS(tfc_graph_error(g), "inner dimensions differ");
    tfc_tensor_free(a.f);
    tfc_tensor_free(b.f);
    tfc_graph_free(g);
}

/* Quantized constants go through a GraphDef as their bytes and come back
 * with their dtype; the quantized ops' attrs are TensorFlow's. */
static void test_graphdef_round_trip(void) {
    tfc_graph *g = tfc_graph_new();
    int8_t w[] = {-128, -1, 0, 5, 127, 64};
    int64_t dims[] = {2, 3};
    tfc_tensor *t = tfc_tensor_from_data(TFC_QINT8, 2, dims, w);
    tfc_output c = tfc_const(g, t);
    tfc_identity(g, c);
    CHECK_GRAPH_OK(g);
    uint8_t *bytes = NULL;
    size_t len = 0;
    tfc_status *st = tfc_status_new();
    CHECK(tfc_graph_to_graphdef(g, &bytes, &len, st) == 0);
    tfc_graph *h = tfc_graph_new();
    CHECK_MSG(tfc_graph_import_graphdef(h, bytes, len, "", NULL, NULL, 0, st) == 0, "%s",
              tfc_status_message(st));
    tfc_node *cn = tfc_graph_node_by_name(h, tfc_node_name(c.node));
    CHECK(cn != NULL);
    if (cn) {
        tfc_tensor *back = tfc_test_eval(h, tfc_out(cn, 0), NULL, NULL, 0);
        CHECK(back && tfc_tensor_dtype(back) == TFC_QINT8 &&
              memcmp(tfc_tensor_data(back), w, sizeof w) == 0);
        tfc_tensor_free(back);
    }
    free(bytes);
    tfc_status_free(st);
    tfc_tensor_free(t);
    tfc_graph_free(h);
    tfc_graph_free(g);
}

TFC_TEST_MAIN(T(test_quantize_documented), T(test_quantize_min_first_formula),
              T(test_quantize_min_first_vector_path), T(test_round_trip),
              T(test_quantized_matmul), T(test_gemm_paths), T(test_quantized_conv2d), T(test_quantized_conv2d_paths),
              T(test_quantized_relu), T(test_quantized_bias_add), T(test_requantize),
              T(test_quantized_pools), T(test_errors), T(test_graphdef_round_trip))
