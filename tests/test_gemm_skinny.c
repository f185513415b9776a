/* The skinny float products (src/ops/gemm_skinny.c): against a plain loop
 * in double on random data, for every shape class the kernels tile
 * differently (n from 1 to 16, k and m with and without tails, B either
 * way round, beta 0 with NaNs in C and beta 1); the same bits on 1 and 2
 * threads; NaN and infinity where they belong; and the shapes it leaves to
 * the libraries. Each check runs with the AVX2 tiles and, where the CPU
 * has AVX-512, with those too; the weight gradients' bits agree between
 * them; an update through them is the product then the update. Where the
 * CPU lacks AVX2 + FMA (the arm64 suite) it must decline every product,
 * which is checked instead. */
#include "harness.h"

#include "ops/gemm.h"
#include "ops/gemm_skinny.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int have_kernels(void) {
    const char *off = getenv("TFC_GEMM_SKINNY");
    if (off && strcmp(off, "0") == 0) return 0;
#if defined(__x86_64__)
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
    return 0;
#endif
}

static float *random_floats(int64_t n) {
    float *v = malloc(sizeof(float) * (size_t)(n ? n : 1));
    for (int64_t i = 0; i < n; i++) v[i] = (float)tfc_test_uniform(-1, 1);
    return v;
}

/* op(A)[i, p] and op(B)[p, j] of row-major A (m x k, or k x m when ta) and
 * B (k x n, or n x k when tb) */
static double a_at(const float *a, int ta, int64_t m, int64_t k, int64_t i, int64_t p) {
    return ta ? a[p * m + i] : a[i * k + p];
}
static double b_at(const float *b, int tb, int64_t k, int64_t n, int64_t p, int64_t j) {
    return tb ? b[j * k + p] : b[p * n + j];
}

/* One product through the skinny kernels on `pool`: against the double
 * loop; returns the worst error relative to the sum of |terms|. */
static double check_product(int ta, int tb, int64_t m, int64_t n, int64_t k, float beta,
                            tfc_threadpool *pool, float **out) {
    float *a = random_floats(m * k), *b = random_floats(k * n), *c = random_floats(m * n);
    float *before = malloc(sizeof(float) * (size_t)(m * n));
    if (beta == 0.0f)
        for (int64_t i = 0; i < m * n; i++) c[i] = NAN; /* never read */
    memcpy(before, c, sizeof(float) * (size_t)(m * n));
    int took = tfc_gemm_skinny(pool, ta, tb, m, n, k, a, b, beta, c);
    CHECK_MSG(took == have_kernels(), "ta %d tb %d m %lld n %lld k %lld: took %d", ta, tb,
              (long long)m, (long long)n, (long long)k, took);
    double worst = 0;
    for (int64_t i = 0; took && i < m; i++)
        for (int64_t j = 0; j < n; j++) {
            double want = beta != 0.0f ? (double)beta * before[i * n + j] : 0, scale = 1e-30;
            for (int64_t p = 0; p < k; p++) {
                double t = a_at(a, ta, m, k, i, p) * b_at(b, tb, k, n, p, j);
                want += t;
                scale += fabs(t);
            }
            double err = fabs(c[i * n + j] - want) / scale;
            if (!(err <= worst)) worst = err; /* NaN counts as the worst */
        }
    free(a);
    free(b);
    free(before);
    *out = c;
    return worst;
}

/* the tile widths this CPU runs: 8 (AVX2), then 16 (AVX-512) where it has it */
static int widths(int *out) {
    int n = 0;
    for (int lanes = 8; lanes <= 16; lanes += 8)
        if (tfc_gemm_skinny_use_lanes(lanes) == lanes) out[n++] = lanes;
    tfc_gemm_skinny_use_lanes(-1);
    return n;
}

static void against_loops(void) {
    tfc_test_seed(21);
    /* (45 and 90: a last block of rows of 13 for the AVX2 tiles' 16, of 26
     * for the AVX-512 tiles' 64) */
    const int64_t ms[] = {33, 45, 64, 90, 100, 101};
    const int64_t ks[] = {32, 40, 99, 784};
    int cases = 0;
    for (int ta = 0; ta < 2; ta++)
        for (int tb = 0; tb < 2; tb++)
            for (int64_t n = 1; n <= SKINNY_MAX; n++)
                for (int mi = 0; mi < 6; mi++)
                    for (int ki = 0; ki < 4; ki++) {
                        int64_t m = ms[mi], k = ks[ki];
                        if (m * n * k < (1 << 15)) continue;
                        if (n % 3 != 0 && n != 1 && n != 10 && n != 16 && ki % 2) continue;
                        float beta = (float)((n + mi + ki) % 2);
                        float *c;
                        double worst = check_product(ta, tb, m, n, k, beta, NULL, &c);
                        CHECK_MSG(worst < 1e-5, "ta %d tb %d m %lld n %lld k %lld beta %g: error %g",
                                  ta, tb, (long long)m, (long long)n, (long long)k, beta, worst);
                        free(c);
                        cases++;
                    }
    CHECK(cases > 200);
}

/* The rows of C split over 2 threads: the same bits as on one. */
static void same_bits_on_two_threads(void) {
    tfc_threadpool *pool = tfc_threadpool_new(2);
    const int64_t shapes[][3] = {{100, 10, 784}, {784, 10, 100}, {1000, 16, 256}, {4096, 3, 64}};
    for (int ta = 0; ta < 2; ta++)
        for (int s = 0; s < 4; s++) {
            int64_t m = shapes[s][0], n = shapes[s][1], k = shapes[s][2];
            tfc_test_seed(7);
            float *one, *two;
            check_product(ta, 0, m, n, k, 0.0f, NULL, &one);
            tfc_test_seed(7);
            check_product(ta, 0, m, n, k, 0.0f, pool, &two);
            CHECK_MSG(memcmp(one, two, sizeof(float) * (size_t)(m * n)) == 0,
                      "ta %d %lldx%lldx%lld: 2 threads changed the bits", ta, (long long)m,
                      (long long)n, (long long)k);
            free(one);
            free(two);
        }
    tfc_threadpool_free(pool);
}

/* A NaN or infinity in A reaches exactly the elements of C it is a term of. */
static void nan_and_inf(void) {
    if (!have_kernels()) return;
    int64_t m = 64, n = 10, k = 96;
    for (int ta = 0; ta < 2; ta++) {
        float *a = random_floats(m * k), *b = random_floats(k * n), *c = random_floats(m * n);
        /* op(A)[5, 7] = NaN, op(A)[9, 50] = inf */
        a[ta ? 7 * m + 5 : 5 * k + 7] = NAN;
        a[ta ? 50 * m + 9 : 9 * k + 50] = INFINITY;
        for (int64_t j = 0; j < n; j++) b[50 * n + j] = fabsf(b[50 * n + j]) + 0.5f;
        CHECK(tfc_gemm_skinny(NULL, ta, 0, m, n, k, a, b, 0.0f, c));
        int wrong = 0;
        for (int64_t i = 0; i < m; i++)
            for (int64_t j = 0; j < n; j++) {
                float v = c[i * n + j];
                if (i == 5) wrong += !isnan(v);
                else if (i == 9) wrong += !(isinf(v) && v > 0);
                else wrong += !isfinite(v);
            }
        CHECK_MSG(wrong == 0, "ta %d: %d elements wrong", ta, wrong);
        free(a);
        free(b);
        free(c);
    }
}

/* Each check above with every tile width the CPU has. */
static void test_each_width(void) {
    int w[2], n = have_kernels() ? widths(w) : 0;
    CHECK(n >= 1 || !have_kernels());
    for (int i = 0; i < n; i++) {
        CHECK(tfc_gemm_skinny_use_lanes(w[i]) == w[i]);
        int failed = tfc_test_failures;
        against_loops();
        same_bits_on_two_threads();
        nan_and_inf();
        CHECK_MSG(tfc_test_failures == failed, "(with the %d-lane tiles)", w[i]);
    }
    tfc_gemm_skinny_use_lanes(-1);
    if (!n) against_loops(); /* declines every product */
}

/* A weight gradient sums each element over the batch in order, in one
 * lane, in either width: the same bits (shapes with row and column tails). */
static void test_weight_gradients_agree(void) {
    int w[2];
    if (!have_kernels() || widths(w) < 2) return;
    const int64_t shapes[][3] = {{784, 10, 100}, {101, 7, 48}, {1000, 16, 64},
                                 {70, 3, 512},   {90, 10, 100}, {45, 13, 64}};
    for (int s = 0; s < 6; s++)
        for (int tb = 0; tb < 2; tb++) {
            int64_t m = shapes[s][0], n = shapes[s][1], k = shapes[s][2];
            float *c[2];
            for (int i = 0; i < 2; i++) {
                tfc_gemm_skinny_use_lanes(w[i]);
                tfc_test_seed(11);
                check_product(1, tb, m, n, k, 0.0f, NULL, &c[i]);
            }
            CHECK_MSG(memcmp(c[0], c[1], sizeof(float) * (size_t)(m * n)) == 0,
                      "%lldx%lldx%lld tb %d: the widths differ", (long long)m, (long long)n,
                      (long long)k, tb);
            free(c[0]);
            free(c[1]);
        }
    tfc_gemm_skinny_use_lanes(-1);
}

/* Shapes the kernels leave to the libraries: nothing is written. */
static void test_declines_other_shapes(void) {
    const int64_t shapes[][4] = {
        /* ta, m, n, k */
        {0, 100, 17, 784}, /* n too wide */
        {0, 100, 10, 16},  /* k too short for the dot products (and too little work) */
        {1, 16, 10, 784},  /* m too short for the row vectors */
        {0, 8, 4, 8},      /* too little work */
        {0, 100, 784, 10}, /* an input gradient: k small, left to the library */
    };
    for (int s = 0; s < 5; s++) {
        int ta = (int)shapes[s][0];
        int64_t m = shapes[s][1], n = shapes[s][2], k = shapes[s][3];
        float *a = random_floats(m * k), *b = random_floats(k * n), *c = random_floats(m * n);
        float *copy = malloc(sizeof(float) * (size_t)(m * n));
        memcpy(copy, c, sizeof(float) * (size_t)(m * n));
        CHECK_MSG(!tfc_gemm_skinny(NULL, ta, 0, m, n, k, a, b, 0.0f, c), "shape %d taken", s);
        CHECK(memcmp(copy, c, sizeof(float) * (size_t)(m * n)) == 0);
        free(a);
        free(b);
        free(c);
        free(copy);
    }
}

/* tfc_gemm hands skinny products to the kernels: its result is theirs. */
static void test_tfc_gemm_uses_them(void) {
    if (!have_kernels()) return;
    tfc_test_seed(3);
    int64_t m = 100, n = 10, k = 784;
    float *a = random_floats(m * k), *b = random_floats(k * n);
    float *c1 = malloc(sizeof(float) * (size_t)(m * n)), *c2 = malloc(sizeof(float) * (size_t)(m * n));
    tfc_gemm(NULL, TFC_FLOAT, 0, 0, m, n, k, a, b, 0.0, c1);
    CHECK(tfc_gemm_skinny(NULL, 0, 0, m, n, k, a, b, 0.0f, c2));
    CHECK(memcmp(c1, c2, sizeof(float) * (size_t)(m * n)) == 0);
    free(a);
    free(b);
    free(c1);
    free(c2);
}

/* tfc_gemm_skinny_update (and tfc_gemm_update, which hands it skinny
 * shapes): C + alpha times the product, bit for bit the product followed
 * by the update as its own loop, on 1 and 2 threads, for each width; row
 * tails of every vector count, B either way round. */
static void test_update_is_product_then_update(void) {
    int w[2], nw = have_kernels() ? widths(w) : 0;
    tfc_threadpool *pool = tfc_threadpool_new(2);
    const int64_t shapes[][4] = {/* ta, m, n, k */
                                 {1, 784, 10, 100}, {1, 256, 10, 100}, {1, 101, 7, 48},
                                 {1, 40, 16, 64},   {1, 70, 3, 512},   {0, 100, 10, 784},
                                 {1, 90, 10, 100},  {1, 45, 13, 64}};
    for (int wi = 0; wi < nw; wi++)
        for (int s = 0; s < 8; s++)
            for (int tb = 0; tb < 2; tb++)
                for (int threads = 1; threads <= 2; threads++) {
                    tfc_gemm_skinny_use_lanes(w[wi]);
                    int ta = (int)shapes[s][0];
                    int64_t m = shapes[s][1], n = shapes[s][2], k = shapes[s][3];
                    tfc_test_seed(31);
                    float *a = random_floats(m * k), *b = random_floats(k * n);
                    float *want = random_floats(m * n);
                    float *got = malloc(sizeof(float) * (size_t)(m * n));
                    float *product = malloc(sizeof(float) * (size_t)(m * n)), alpha = -0.37f;
                    memcpy(got, want, sizeof(float) * (size_t)(m * n));
                    tfc_threadpool *p = threads == 2 ? pool : NULL;
                    CHECK(tfc_gemm_skinny(p, ta, tb, m, n, k, a, b, 0.0f, product));
                    for (int64_t i = 0; i < m * n; i++) { /* (two statements: never fused) */
                        float step = alpha * product[i];
                        want[i] = want[i] + step;
                    }
                    int took = s % 2 ? tfc_gemm_skinny_update(p, ta, tb, m, n, k, a, b, alpha, got)
                                     : tfc_gemm_update(p, ta, tb, m, n, k, a, b, alpha, got);
                    CHECK(took);
                    CHECK_MSG(memcmp(want, got, sizeof(float) * (size_t)(m * n)) == 0,
                              "%d lanes, ta %d tb %d %lldx%lldx%lld, %d threads: not the "
                              "product then the update",
                              w[wi], ta, tb, (long long)m, (long long)n, (long long)k, threads);
                    free(a);
                    free(b);
                    free(want);
                    free(got);
                    free(product);
                }
    tfc_gemm_skinny_use_lanes(-1);
    tfc_threadpool_free(pool);
    if (!nw) { /* declined, C untouched */
        float a[64 * 40] = {0}, b[64 * 10] = {0}, c[40 * 10] = {1};
        CHECK(!tfc_gemm_skinny_update(NULL, 1, 0, 40, 10, 64, a, b, 1.0f, c) && c[0] == 1);
    }
}

TFC_TEST_MAIN(T(test_each_width), T(test_weight_gradients_agree),
              T(test_declines_other_shapes), T(test_tfc_gemm_uses_them),
              T(test_update_is_product_then_update))
