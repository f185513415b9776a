/* One thread's product through the register tiles (see gemm_tiles.h).
 * For each block of k, one tile for each group of up to tfc_tile_rows rows
 * and each panel of tile-width columns of C: row group after row group
 * (each across all panels) where B's block is small, else panel after
 * panel. A's rows are read where they lie (a transposed A is read by
 * columns: a tile's rows are then neighbours in memory); B is read in
 * place, or copied panel by panel into k-major order when it comes
 * transposed (so that each term loads whole vectors) or when many row
 * groups will read it (ROW_ORDER_BYTES, PACK_ROWS_LEAST below). */
#include "ops/gemm_tiles.h"

#include "core/thread_scratch.h"

#include <string.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define AVX2 __attribute__((target("avx2,fma")))

/* to[p * width + j] = from[j * ld + p] for an 8 x 8 block */
static inline __attribute__((always_inline, target("avx2,fma"))) void
transpose8(float *to, int64_t width, const float *from, int64_t ld) {
    __m256 r0 = _mm256_loadu_ps(from), r1 = _mm256_loadu_ps(from + ld);
    __m256 r2 = _mm256_loadu_ps(from + 2 * ld), r3 = _mm256_loadu_ps(from + 3 * ld);
    __m256 r4 = _mm256_loadu_ps(from + 4 * ld), r5 = _mm256_loadu_ps(from + 5 * ld);
    __m256 r6 = _mm256_loadu_ps(from + 6 * ld), r7 = _mm256_loadu_ps(from + 7 * ld);
    __m256 t0 = _mm256_unpacklo_ps(r0, r1), t1 = _mm256_unpackhi_ps(r0, r1);
    __m256 t2 = _mm256_unpacklo_ps(r2, r3), t3 = _mm256_unpackhi_ps(r2, r3);
    __m256 t4 = _mm256_unpacklo_ps(r4, r5), t5 = _mm256_unpackhi_ps(r4, r5);
    __m256 t6 = _mm256_unpacklo_ps(r6, r7), t7 = _mm256_unpackhi_ps(r6, r7);
    __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xee);
    __m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xee);
    __m256 u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xee);
    __m256 u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xee);
    _mm256_storeu_ps(to, _mm256_permute2f128_ps(u0, u4, 0x20));
    _mm256_storeu_ps(to + width, _mm256_permute2f128_ps(u1, u5, 0x20));
    _mm256_storeu_ps(to + 2 * width, _mm256_permute2f128_ps(u2, u6, 0x20));
    _mm256_storeu_ps(to + 3 * width, _mm256_permute2f128_ps(u3, u7, 0x20));
    _mm256_storeu_ps(to + 4 * width, _mm256_permute2f128_ps(u0, u4, 0x31));
    _mm256_storeu_ps(to + 5 * width, _mm256_permute2f128_ps(u1, u5, 0x31));
    _mm256_storeu_ps(to + 6 * width, _mm256_permute2f128_ps(u2, u6, 0x31));
    _mm256_storeu_ps(to + 7 * width, _mm256_permute2f128_ps(u3, u7, 0x31));
}
#else
#define AVX2
#endif

/* to[p * width + j] = B^T's panel: b[(j0 + j) * ldb + k0 + p], p < kc, j < nc
 * (the tiles run only where AVX2 is: 8 x 8 blocks, then the edges) */
static AVX2 void pack_transposed_panel(float *to, const float *b, int64_t ldb, int64_t k0,
                                       int64_t kc, int64_t j0, int64_t nc, int64_t width) {
    const float *from = b + j0 * ldb + k0;
    int64_t j8 = nc / 8 * 8, p8 = kc / 8 * 8;
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    for (int64_t j = 0; j < j8; j += 8)
        for (int64_t p = 0; p < p8; p += 8)
            transpose8(to + p * width + j, width, from + j * ldb + p, ldb);
#else
    j8 = p8 = 0;
#endif
    for (int64_t j = 0; j < nc; j++)
        for (int64_t p = j < j8 ? p8 : 0; p < kc; p++) to[p * width + j] = from[j * ldb + p];
}

/* to[p * width + j] = B's panel: b[(k0 + p) * ldb + j0 + j] */
static void pack_panel(float *to, const float *b, int64_t ldb, int64_t k0, int64_t kc, int64_t j0,
                       int64_t nc, int64_t width) {
    const float *from = b + k0 * ldb + j0;
    /* a whole tile's row as one copy of known size, in registers (a call
     * to memcpy a row took longer than the tile's multiply-adds on it) */
    if (nc == 16 && width == 16)
        for (int64_t p = 0; p < kc; p++) memcpy(to + p * 16, from + p * ldb, sizeof(float) * 16);
    else if (nc == 64 && width == 64)
        for (int64_t p = 0; p < kc; p++) memcpy(to + p * 64, from + p * ldb, sizeof(float) * 64);
    else
        for (int64_t p = 0; p < kc; p++)
            memcpy(to + p * width, from + p * ldb, sizeof(float) * (size_t)nc);
}

static void pack(int tb, float *to, const float *b, int64_t ldb, int64_t k0, int64_t kc, int64_t j0,
                 int64_t nc, int64_t width) {
    if (tb)
        pack_transposed_panel(to, b, ldb, k0, kc, j0, nc, width);
    else
        pack_panel(to, b, ldb, k0, kc, j0, nc, width);
}

/* B's block (k block x n) at most this size: a group of rows runs across
 * all of C's panels before the next group, so that C is written a whole
 * row at a time (C's rows a panel at a time cross a page each: a weight
 * gradient's 3136 x 1024 C, 20% slower). Larger: panel after panel,
 * B's panel staying in the caches while A's rows stream past it. */
#define ROW_ORDER_BYTES (256 * 1024)
/* columns of a panel when B's block is large (a multiple of every width) */
#define PANEL_COLUMNS 64
/* rows of A from which on a copy of B (not transposed) pays */
#define PACK_ROWS_LEAST 256
/* and, for tiles narrower than a panel (AVX2), in panel order: each of
 * B's rows then lies in a page of its own, and a 6 x 16 tile does too
 * little a row to hide the TLB's misses (the CNN's dense forward, 50 x
 * 1024 x 3136, 45 -> 67-78 GFLOP/s; the LSTM's gates, 20 rows, 103 -> 75
 * with the copy, hence the rows) */
#define NARROW_PACK_ROWS_LEAST 48
/* the most a copy of B's panels takes: a block of ROW_ORDER_BYTES with its
 * last panel filled out, or one panel of the longest block of k */
#define PACK_SPACE_BYTES (ROW_ORDER_BYTES + sizeof(float) * GEMM_TILES_KC * 64)
_Static_assert(PACK_SPACE_BYTES <= TFC_THREAD_SCRATCH_BYTES, "B's panels fit a thread's scratch");

typedef struct tiles_pass {
    int ta, packs;
    int64_t m, n, lda, ldb, width, tiles, k0;
    const float *a, *b;
    const float *packed; /* packs: B's block, panel after panel (kc x width each), */
    int64_t packed_from; /* from this column on */
    const float *bias;   /* the fused bias, from C's first column; NULL: none (and in
                            k blocks but the last) */
    tfc_tile_args t;
    const float *rows[TILE_ROWS_MOST];
} tiles_pass;

/* one tile: row group `tile`, the panel at column j0 (p->t.c already set) */
static void run_tile(tiles_pass *p, int64_t tile, int64_t j0) {
    int64_t i0 = tfc_tile_first_row(p->m, p->tiles, tile);
    int nr = (int)(tfc_tile_first_row(p->m, p->tiles, tile + 1) - i0);
    int nc = (int)(p->n - j0 < p->width ? p->n - j0 : p->width);
    for (int i = 0; i < nr; i++)
        p->rows[i] = p->ta ? p->a + p->k0 * p->lda + i0 + i : p->a + (i0 + i) * p->lda + p->k0;
    p->t.bias = p->bias ? p->bias + j0 : NULL;
    if (p->packs) {
        p->t.b = p->packed + (j0 - p->packed_from) / p->width * p->t.kseg * p->width;
        p->t.ldb = p->width;
    } else {
        p->t.b = p->b + p->k0 * p->ldb + j0;
        p->t.ldb = p->ldb;
    }
    tfc_register_tile(&p->t, nr, nc);
}

int tfc_gemm_tiles(int ta, int tb, int64_t m, int64_t n, int64_t k, const float *a, int64_t lda,
                   const float *b, int64_t ldb, float *c, int64_t ldc, tfc_tile_mode mode,
                   float scale) {
    return tfc_gemm_tiles_then(ta, tb, m, n, k, a, lda, b, ldb, c, ldc, mode, scale, NULL, 0);
}

int tfc_gemm_tiles_then(int ta, int tb, int64_t m, int64_t n, int64_t k, const float *a,
                        int64_t lda, const float *b, int64_t ldb, float *c, int64_t ldc,
                        tfc_tile_mode mode, float scale, const float *bias, int relu) {
    const int64_t width = tfc_tile_width();
    if (!width || m <= 0 || n <= 0 || k <= 0) return 0;
    if (mode == TILE_UPDATE && (bias || relu)) return 0;
    const int64_t tall = tfc_tile_rows((int)(n < width ? n : width)); /* rows a tile */
    if (mode == TILE_UPDATE && k > GEMM_TILES_KC) return 0;
    int64_t kc = k < GEMM_TILES_KC ? k : GEMM_TILES_KC;
    int rows_first = (size_t)(kc * n) * sizeof(float) <= ROW_ORDER_BYTES;
    /* B is copied in panels when transposed, and when rows go first over
     * many row groups (each panel then read by each group as one stream
     * rather than as rows apart: a 3136 x 1024 weight gradient 14% faster;
     * for the MLP's 100 rows the copy costs more than it gains); the whole
     * block when rows go first, else one panel */
    int packs = tb || (rows_first && m >= PACK_ROWS_LEAST) ||
                (!rows_first && width < PANEL_COLUMNS && m >= NARROW_PACK_ROWS_LEAST);
    float *packed = packs ? tfc_thread_scratch() : NULL;
    if (packs && !packed) return 0;
    tiles_pass p = {.ta = ta,
                    .packs = packs,
                    .m = m,
                    .n = n,
                    .lda = lda,
                    .ldb = ldb,
                    .width = width,
                    .tiles = (m + tall - 1) / tall,
                    .a = a,
                    .b = b,
                    .packed = packed};
    p.t = (tfc_tile_args){
        .row = p.rows, .a_step = ta ? lda : 1, .nseg = 1, .ldc = ldc, .scale = scale};
    for (p.k0 = 0; p.k0 < k; p.k0 += kc) {
        p.t.kseg = k - p.k0 < kc ? k - p.k0 : kc;
        p.t.mode = p.k0 ? TILE_ACCUMULATE : mode;
        int last = p.k0 + p.t.kseg >= k; /* the bias and relu once the sums are whole */
        p.bias = last ? bias : NULL;
        p.t.relu = last && relu;
        if (rows_first) {
            for (int64_t j0 = 0; packs && j0 < n; j0 += width)
                pack(tb, packed + j0 / width * p.t.kseg * width, b, ldb, p.k0, p.t.kseg, j0,
                     n - j0 < width ? n - j0 : width, width);
            for (int64_t tile = 0; tile < p.tiles; tile++)
                for (int64_t j0 = 0; j0 < n; j0 += width) {
                    p.t.c = c + tfc_tile_first_row(m, p.tiles, tile) * ldc + j0;
                    run_tile(&p, tile, j0);
                }
        } else {
            /* panels PANEL_COLUMNS wide (several AVX2 tiles side by side, so
             * that each row of B's panel is read as 256 bytes, not 64) */
            for (int64_t p0 = 0; p0 < n; p0 += PANEL_COLUMNS) {
                int64_t p1 = p0 + PANEL_COLUMNS < n ? p0 + PANEL_COLUMNS : n;
                for (int64_t j0 = p0; packs && j0 < p1; j0 += width)
                    pack(tb, packed + (j0 - p0) / width * p.t.kseg * width, b, ldb, p.k0, p.t.kseg,
                         j0, p1 - j0 < width ? p1 - j0 : width, width);
                p.packed_from = p0;
                for (int64_t tile = 0; tile < p.tiles; tile++)
                    for (int64_t j0 = p0; j0 < p1; j0 += width) {
                        p.t.c = c + tfc_tile_first_row(m, p.tiles, tile) * ldc + j0;
                        run_tile(&p, tile, j0);
                    }
            }
        }
    }
    return 1;
}
