/* The portable GEMM of the inference-only build (src/ops/gemm_portable.c),
 * compiled into this test under another name so that the full build checks
 * it too: against a plain triple loop on random data, every transpose,
 * beta 0 (NaNs in C ignored) and 1, float and double, shapes that do and do
 * not fill its blocks; and the same bits on 1 and 4 threads. */
#define tfc_gemm tfc_gemm_portable_under_test
#define tfc_gemm_then tfc_gemm_then_portable_under_test
#include "../src/ops/gemm_portable.c"
#undef tfc_gemm
#undef tfc_gemm_then

#include "harness.h"

#include <stdlib.h>

/* element (i, p) of op(A), A stored m x k (k x m when ta); likewise op(B) */
static double a_elem(const double *a, int ta, int64_t m, int64_t k, int64_t i, int64_t p) {
    return ta ? a[p * m + i] : a[i * k + p];
}
static double b_elem(const double *b, int tb, int64_t k, int64_t n, int64_t p, int64_t j) {
    return tb ? b[j * k + p] : b[p * n + j];
}

static void check_case(tfc_dtype dt, int ta, int tb, int64_t m, int64_t n, int64_t k, double beta,
                       tfc_threadpool *pool1, tfc_threadpool *pool4) {
    size_t es = dt == TFC_FLOAT ? sizeof(float) : sizeof(double);
    double *a = malloc(sizeof(double) * (size_t)(m * k));
    double *b = malloc(sizeof(double) * (size_t)(k * n));
    double *c0 = malloc(sizeof(double) * (size_t)(m * n));
    char *a_t = malloc(es * (size_t)(m * k)), *b_t = malloc(es * (size_t)(k * n));
    char *c1 = malloc(es * (size_t)(m * n)), *c4 = malloc(es * (size_t)(m * n));
    for (int64_t i = 0; i < m * k; i++) a[i] = tfc_test_uniform(-1, 1);
    for (int64_t i = 0; i < k * n; i++) b[i] = tfc_test_uniform(-1, 1);
    for (int64_t i = 0; i < m * n; i++) c0[i] = beta == 0 ? NAN : tfc_test_uniform(-1, 1);
    for (int64_t i = 0; i < m * k; i++) {
        if (dt == TFC_FLOAT)
            ((float *)a_t)[i] = (float)a[i];
        else
            ((double *)a_t)[i] = a[i];
    }
    for (int64_t i = 0; i < k * n; i++) {
        if (dt == TFC_FLOAT)
            ((float *)b_t)[i] = (float)b[i];
        else
            ((double *)b_t)[i] = b[i];
    }
    for (int64_t i = 0; i < m * n; i++) {
        if (dt == TFC_FLOAT)
            ((float *)c1)[i] = (float)c0[i];
        else
            ((double *)c1)[i] = c0[i];
    }
    memcpy(c4, c1, es * (size_t)(m * n));
    tfc_gemm_portable_under_test(pool1, dt, ta, tb, m, n, k, a_t, b_t, beta, c1);
    tfc_gemm_portable_under_test(pool4, dt, ta, tb, m, n, k, a_t, b_t, beta, c4);
    CHECK_MSG(memcmp(c1, c4, es * (size_t)(m * n)) == 0,
              "%s ta=%d tb=%d %lldx%lldx%lld: 1 and 4 threads differ", tfc_dtype_name(dt), ta, tb,
              (long long)m, (long long)n, (long long)k);
    double tol = dt == TFC_FLOAT ? 1e-4 : 1e-12;
    int bad = 0;
    for (int64_t i = 0; i < m && !bad; i++)
        for (int64_t j = 0; j < n && !bad; j++) {
            double c = dt == TFC_FLOAT ? (double)(float)c0[i * n + j] : c0[i * n + j];
            double want = beta == 0 ? 0 : beta * c;
            for (int64_t p = 0; p < k; p++) {
                double x = a_elem(a, ta, m, k, i, p), y = b_elem(b, tb, k, n, p, j);
                if (dt == TFC_FLOAT) x = (float)x, y = (float)y;
                want += x * y;
            }
            double got = dt == TFC_FLOAT ? ((float *)c1)[i * n + j] : ((double *)c1)[i * n + j];
            if (!(fabs(got - want) <= tol * (1 + fabs(want)) * (1 + (double)k / 64))) {
                bad = 1;
                CHECK_MSG(0,
                          "%s ta=%d tb=%d %lldx%lldx%lld beta %g: C[%lld,%lld] %.9g, expected %.9g",
                          tfc_dtype_name(dt), ta, tb, (long long)m, (long long)n, (long long)k,
                          beta, (long long)i, (long long)j, got, want);
            }
        }
    free(a), free(b), free(c0), free(a_t), free(b_t), free(c1), free(c4);
}

static void test_against_reference_loops(void) {
    tfc_test_seed(20);
    tfc_threadpool *pool1 = tfc_threadpool_new(1), *pool4 = tfc_threadpool_new(4);
    /* one block; odd sizes; several bands, k slices and n panels */
    static const int64_t shapes[][3] = {{1, 1, 1},       {3, 5, 7},    {5, 10, 16}, {70, 33, 300},
                                        {130, 520, 257}, {4, 1030, 9}, {129, 3, 1}};
    for (size_t s = 0; s < sizeof shapes / sizeof *shapes; s++)
        for (int dt = 0; dt < 2; dt++)
            for (int t = 0; t < 4; t++)
                check_case(dt ? TFC_DOUBLE : TFC_FLOAT, t & 1, t >> 1, shapes[s][0], shapes[s][1],
                           shapes[s][2], (s + (size_t)t) % 2 ? 1.0 : 0.0, pool1, pool4);
    tfc_threadpool_free(pool1);
    tfc_threadpool_free(pool4);
}

TFC_TEST_MAIN(T(test_against_reference_loops))
