/* The register tiles (src/ops/tiles.c) through one thread's product
 * (src/ops/gemm_tiles.c): each element of C must be exactly the chain of
 * fused multiply-adds over k in order (fmaf here, one at a time), with
 * C's start and end as each mode says, whatever the tile's rows and
 * columns; so the bits also agree between the AVX2 and AVX-512 tiles.
 * Shapes with tails in every direction, narrow ones (AVX-512's tiles of up
 * to 12 rows), k over a block of GEMM_TILES_KC
 * (C stored and taken up again), A and B either way round. Where the CPU
 * lacks AVX2 + FMA (the arm64 suite) the product must be declined. */
#include "harness.h"

#include "ops/gemm_tiles.h"
#include "tile_widths.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static float *random_floats(int64_t n) {
    float *v = malloc(sizeof(float) * (size_t)(n ? n : 1));
    for (int64_t i = 0; i < n; i++) v[i] = (float)tfc_test_uniform(-1, 1);
    return v;
}

/* C's element (i, j) as the tiles must compute it */
static float expected(const float *a, const float *b, float c, int ta, int tb, int64_t m, int64_t n,
                      int64_t k, int64_t i, int64_t j, tfc_tile_mode mode, float scale) {
    float acc = mode == TILE_ACCUMULATE ? c : mode == TILE_BETA && scale != 0.0f ? scale * c : 0.0f;
    for (int64_t p = 0; p < k; p++) {
        float x = ta ? a[p * m + i] : a[i * k + p], y = tb ? b[j * k + p] : b[p * n + j];
        acc = fmaf(x, y, acc);
    }
    if (mode == TILE_UPDATE) acc = c + scale * acc;
    return acc;
}

static int same_float(float x, float y) { return memcmp(&x, &y, sizeof x) == 0; }

/* 1 when the product matched element for element */
static int check_product(int ta, int tb, int64_t m, int64_t n, int64_t k, tfc_tile_mode mode,
                         float scale) {
    float *a = random_floats(m * k), *b = random_floats(k * n), *c = random_floats(m * n);
    float *before = malloc(sizeof(float) * (size_t)(m * n));
    if (mode == TILE_SET || (mode == TILE_BETA && scale == 0.0f))
        for (int64_t i = 0; i < m * n; i++) c[i] = NAN; /* never read */
    memcpy(before, c, sizeof(float) * (size_t)(m * n));
    int took = tfc_gemm_tiles(ta, tb, m, n, k, a, ta ? m : k, b, tb ? k : n, c, n, mode, scale);
    int ok = took;
    for (int64_t i = 0; took && i < m; i++)
        for (int64_t j = 0; j < n; j++) {
            float want = expected(a, b, before[i * n + j], ta, tb, m, n, k, i, j, mode, scale);
            if (!same_float(c[i * n + j], want)) {
                CHECK_MSG(0, "ta %d tb %d %lldx%lldx%lld mode %d: C[%lld, %lld] %.9g, want %.9g",
                          ta, tb, (long long)m, (long long)n, (long long)k, (int)mode, (long long)i,
                          (long long)j, c[i * n + j], want);
                ok = 0;
                i = m;
                break;
            }
        }
    free(a);
    free(b);
    free(c);
    free(before);
    return ok;
}

static const int64_t SHAPES[][3] = {
    {1, 1, 1},
    {5, 3, 7},
    {6, 16, 8},
    {7, 17, 9},
    {12, 64, 33},
    {13, 65, 31},
    {100, 256, 78},
    {31, 130, 200},
    {2, 200, 3},
    {50, 70, 600},
    {9, 33, 1100},
    /* at most 32 columns: AVX-512's tall tiles, up to 12 rows */
    {12, 32, 50},
    {25, 20, 70},
    {30, 31, 1100},
    {11, 1, 40},
};

static void test_products_are_fma_chains(void) {
    int widths[2], nw = tile_widths_to_try(widths, 0);
    for (int wi = 0; wi < nw; wi++) {
        CHECK(tfc_tile_use_width(widths[wi]) == widths[wi]);
        for (size_t s = 0; s < sizeof SHAPES / sizeof SHAPES[0]; s++)
            for (int t = 0; t < 4; t++) {
                const int64_t *sh = SHAPES[s];
                CHECK(check_product(t & 1, t >> 1, sh[0], sh[1], sh[2], TILE_SET, 0.0f));
            }
    }
    tfc_tile_use_width(-1);
}

static void test_modes(void) {
    int widths[2], nw = tile_widths_to_try(widths, 0);
    for (int wi = 0; wi < nw; wi++) {
        CHECK(tfc_tile_use_width(widths[wi]) == widths[wi]);
        for (int t = 0; t < 4; t++) {
            int ta = t & 1, tb = t >> 1;
            CHECK(check_product(ta, tb, 13, 70, 40, TILE_ACCUMULATE, 0.0f));
            CHECK(check_product(ta, tb, 13, 70, 600, TILE_ACCUMULATE, 0.0f));
            CHECK(check_product(ta, tb, 13, 70, 40, TILE_BETA, 0.5f));
            CHECK(check_product(ta, tb, 13, 70, 600, TILE_BETA, 1.0f));
            CHECK(check_product(ta, tb, 13, 70, 40, TILE_BETA, 0.0f));
            CHECK(check_product(ta, tb, 13, 70, 40, TILE_UPDATE, -0.1f));
        }
    }
    tfc_tile_use_width(-1);
}

/* An update is the product, scaled and added, as var -= grad * lr is, and
 * needs all of k in one block */
static void test_update_needs_one_block(void) {
    if (!tfc_tile_width()) return;
    float a[1] = {0}, b[1] = {0}, c[1] = {0};
    CHECK(tfc_gemm_tiles(0, 0, 1, 1, GEMM_TILES_KC + 1, a, 1, b, 1, c, 1, TILE_UPDATE, 1.0f) == 0);
}

static void test_declined_without_tiles(void) {
    int had = tfc_tile_width();
    CHECK(tfc_tile_use_width(0) == 0);
    float a[4] = {1, 2, 3, 4}, c[4] = {0};
    CHECK(tfc_gemm_tiles(0, 0, 2, 2, 2, a, 2, a, 2, c, 2, TILE_SET, 0.0f) == 0);
    CHECK(c[0] == 0.0f);
    tfc_tile_use_width(-1);
    CHECK(tfc_tile_width() == had);
#if defined(__x86_64__)
    /* by default the AVX-512 tiles, or none (tiles.c says why not AVX2's) */
    CHECK(had == (__builtin_cpu_supports("avx512f") ? 64 : 0) || getenv("TFC_TILES"));
#else
    CHECK(had == 0);
#endif
    CHECK(tfc_tile_use_width(32) == -1); /* no such width */
}

TFC_TEST_MAIN(T(test_products_are_fma_chains), T(test_modes), T(test_update_needs_one_block),
              T(test_declined_without_tiles))
