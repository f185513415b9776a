/* Cast's loops (src/ops/math_cast.c), built for AVX-512, AVX2 and the
 * baseline and chosen by the CPU, against a plain scalar loop written here
 * from the documented rules: every pair of float32, float64, int32, int64,
 * uint8 and bool, on random data with the edge values (every uint8 value,
 * NaN, infinities, values past each integer range, fractions, -0), at
 * lengths around each vector width and across the kernel's parallel
 * chunks, in sessions of 1 and 2 threads. */
#include "harness.h"
#include "same_bits.h"

#include <stdint.h>
#include <stdlib.h>

enum { NDT = 6 };
static const tfc_dtype dts[NDT] = {TFC_FLOAT, TFC_DOUBLE, TFC_INT32,
                                   TFC_INT64, TFC_UINT8,  TFC_BOOL};

/* ---- the reference: one element at a time, as a double or an int64 ---- */

static int is_float(tfc_dtype dt) { return dt == TFC_FLOAT || dt == TFC_DOUBLE; }

static size_t esize(tfc_dtype dt) {
    return dt == TFC_FLOAT || dt == TFC_INT32 ? 4 : dt == TFC_DOUBLE || dt == TFC_INT64 ? 8 : 1;
}

static double get_f(tfc_dtype dt, const void *p, int64_t i) {
    return dt == TFC_FLOAT ? (double)((const float *)p)[i] : ((const double *)p)[i];
}

static int64_t get_i(tfc_dtype dt, const void *p, int64_t i) {
    switch (dt) {
    case TFC_INT32: return ((const int32_t *)p)[i];
    case TFC_INT64: return ((const int64_t *)p)[i];
    default: return ((const uint8_t *)p)[i];
    }
}

/* x (a float of the source) into element i of y */
static void put_from_float(tfc_dtype dt, void *y, int64_t i, double x) {
    switch (dt) {
    case TFC_FLOAT:
        /* a float64 source rounds once, to float32 */
        ((float *)y)[i] = (float)x;
        break;
    case TFC_DOUBLE: ((double *)y)[i] = x; break;
    case TFC_INT32:
        ((int32_t *)y)[i] = isnan(x)             ? INT32_MIN
                            : x <= -2147483648.0 ? INT32_MIN
                            : x >= 2147483647.0  ? INT32_MAX
                                                 : (int32_t)x;
        break;
    case TFC_INT64:
        ((int64_t *)y)[i] = isnan(x)                      ? INT64_MIN
                            : x <= -9223372036854775808.0 ? INT64_MIN
                            : x >= 9223372036854775808.0  ? INT64_MAX
                                                          : (int64_t)x;
        break;
    case TFC_UINT8: ((uint8_t *)y)[i] = isnan(x) || x <= 0 ? 0 : x >= 255 ? 255 : (uint8_t)x; break;
    default: ((uint8_t *)y)[i] = x != 0; break;
    }
}

static void put_from_int(tfc_dtype dt, void *y, int64_t i, int64_t x) {
    switch (dt) {
    case TFC_FLOAT: ((float *)y)[i] = (float)x; break;
    case TFC_DOUBLE: ((double *)y)[i] = (double)x; break;
    case TFC_INT32: ((int32_t *)y)[i] = (int32_t)(uint32_t)(uint64_t)x; break; /* wraps */
    case TFC_INT64: ((int64_t *)y)[i] = x; break;
    case TFC_UINT8: ((uint8_t *)y)[i] = (uint8_t)(uint64_t)x; break;
    default: ((uint8_t *)y)[i] = x != 0; break;
    }
}

static void reference(tfc_dtype src, tfc_dtype dst, const void *x, void *y, int64_t n) {
    for (int64_t i = 0; i < n; i++) {
        if (is_float(src))
            put_from_float(dst, y, i, get_f(src, x, i));
        else
            put_from_int(dst, y, i, get_i(src, x, i));
    }
}

/* ---- the data ---- */


static const double float_edges[] = {0.0,
                                     -0.0,
                                     0.5,
                                     -0.5,
                                     0.99999,
                                     1.0,
                                     -1.0,
                                     254.5,
                                     255.0,
                                     255.5,
                                     256.0,
                                     -1e-30,
                                     1e-30,
                                     2147483647.0,
                                     2147483648.0,
                                     -2147483648.0,
                                     -2147483649.0,
                                     16777217.0,
                                     9.2233720368547758e18,
                                     -9.2233720368547758e18,
                                     1e19,
                                     -1e19,
                                     3.4e38,
                                     1e300,
                                     -1e300,
                                     INFINITY,
                                     -INFINITY};

/* n random values of dt with its edge cases mixed in (for uint8: every
 * value, in order, then random ones) */
static void fill(tfc_dtype dt, void *x, int64_t n) {
    size_t ne = sizeof float_edges / sizeof *float_edges;
    for (int64_t i = 0; i < n; i++) {
        uint64_t r = tfc_test_bits();
        switch (dt) {
        case TFC_FLOAT:
        case TFC_DOUBLE: {
            double v = r % 5 == 0   ? float_edges[(r >> 8) % ne]
                       : r % 5 == 1 ? NAN
                       : r % 5 == 2 ? (double)(int64_t)(r >> 20) / 1024.0 - 4e9
                                    : ((double)(r >> 11) / 9007199254740992.0 - 0.5) * 600.0;
            if (dt == TFC_FLOAT)
                ((float *)x)[i] = (float)v;
            else
                ((double *)x)[i] = v;
            break;
        }
        case TFC_INT32: ((int32_t *)x)[i] = (int32_t)(uint32_t)(r >> (r % 3 ? 32 : 56)); break;
        case TFC_INT64: ((int64_t *)x)[i] = (int64_t)(r >> (r % 4) * 16); break;
        case TFC_UINT8: ((uint8_t *)x)[i] = i < 256 ? (uint8_t)i : (uint8_t)r; break;
        default: ((uint8_t *)x)[i] = (uint8_t)(r & 1); break;
        }
    }
}


static void check_pair(tfc_dtype src, tfc_dtype dst, int threads) {
    static const int64_t lens[] = {0,  1,  3,  7,   8,   15,  16,  17,   31,   32,    33,
                                   63, 64, 65, 255, 256, 257, 784, 1000, 4099, 100003};
    tfc_graph *g = tfc_graph_new();
    tfc_output x = tfc_placeholder(g, "x", src, 1, (int64_t[]){-1});
    tfc_output y = tfc_cast(g, x, dst);
    CHECK_GRAPH_OK(g);
    tfc_status *st = tfc_status_new();
    tfc_session_options o = {0};
    o.inter_op_threads = o.intra_op_threads = threads;
    tfc_session *s = tfc_session_new(g, &o, st);
    for (size_t l = 0; l < sizeof lens / sizeof *lens; l++) {
        int64_t n = lens[l];
        void *xin = malloc((size_t)n * esize(src) + 1);
        fill(src, xin, n);
        tfc_tensor *xt = tfc_tensor_from_data(src, 1, &n, xin);
        void *want = malloc((size_t)n * esize(dst) + 1);
        reference(src, dst, xin, want, n);
        tfc_tensor *yt = NULL;
        tfc_session_run(s, &x, &xt, 1, &y, 1, &yt, NULL, 0, st);
        CHECK_STATUS_OK(st);
        int bad = 0;
        for (int64_t i = 0; yt && i < n && bad < 3; i++)
            if (!same_bits(dst, tfc_tensor_data(yt), want, i)) {
                bad++;
                CHECK_MSG(0, "%s -> %s, n %lld, element %lld: got %.17g, want %.17g",
                          tfc_dtype_name(src), tfc_dtype_name(dst), (long long)n, (long long)i,
                          tfc_test_get(yt, i),
                          is_float(dst) ? get_f(dst, want, i) : (double)get_i(dst, want, i));
            }
        CHECK(yt && tfc_tensor_num_elements(yt) == n);
        tfc_tensor_free(yt);
        tfc_tensor_free(xt);
        free(want);
        free(xin);
    }
    tfc_session_free(s);
    tfc_status_free(st);
    tfc_graph_free(g);
}

static void test_every_pair_against_scalar_loop(void) {
    for (int threads = 1; threads <= 2; threads++)
        for (int a = 0; a < NDT; a++)
            for (int b = 0; b < NDT; b++)
                if (a != b) check_pair(dts[a], dts[b], threads);
}

/* the pipelines' case, spelled out: each of the 256 byte values */
static void test_uint8_to_float_every_value(void) {
    uint8_t v[256 + 37];
    for (int i = 0; i < 256 + 37; i++) v[i] = (uint8_t)(i < 256 ? 255 - i : i * 7);
    int64_t n = 256 + 37;
    tfc_graph *g = tfc_graph_new();
    tfc_output c = tfc_cast(g, tfc_const_data(g, TFC_UINT8, 1, &n, v), TFC_FLOAT);
    tfc_tensor *t = tfc_test_eval(g, c, NULL, NULL, 0);
    CHECK(t != NULL);
    for (int i = 0; t && i < n; i++) CHECK(((const float *)tfc_tensor_data(t))[i] == (float)v[i]);
    tfc_tensor_free(t);
    tfc_graph_free(g);
}

TFC_TEST_MAIN(T(test_uint8_to_float_every_value), T(test_every_pair_against_scalar_loop))
