/* Skinny float32 products (see gemm_skinny.h). Two register tiles:
 *   SMALL_N      C = A B, n small: dot products of A's rows with B's
 *                columns (packed as rows) along k, 2 rows x up to 5 columns
 *                of 8-lane partial sums, each summed across its lanes last;
 *   WEIGHT_GRAD  C = A^T B, n small: 16 rows of C (two vectors along A's
 *                rows) x up to 5 columns, one multiply-add per element of B.
 * Where the CPU has AVX-512, its 32 vector registers hold tiles of 4 rows
 * x 5 columns of 16-lane sums and 64 rows x 5 columns: fewer loads a
 * multiply-add (the 100x784 by 784x10 product 1.6x faster on Zen 4).
 * WEIGHT_GRAD's sums are the same in both (each element one lane, p in
 * order); SMALL_N's lanes split k 16 ways rather than 8, so its bits
 * depend on which tiles the CPU runs. In each, every element of C is the
 * sum of the same terms in the same order whichever thread computes it.
 * A block of WEIGHT_GRAD's rows goes into C 16 (AVX-512) or 8 rows at a
 * time, turned into rows in registers (element by element it took a
 * fifth of the 784x10 weight gradient), and an update (C + alpha times
 * the product, an optimizer's step fused into it) is written there the
 * same way. (C = A B^T with k small, a layer's input gradient, measured
 * slower here than oneDNN's sgemm: left to it.) */
#include "ops/gemm_skinny.h"

#include "core/buffer_pool.h"
#include "core/transpose32.h"
#include "core/transpose_regs.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define SKINNY_X86 1
#include <immintrin.h>
#define AVX2 __attribute__((target("avx2,fma")))
#define AVX2_INLINE static inline __attribute__((always_inline, target("avx2,fma")))
#define AVX512 __attribute__((target("avx512f,avx2,fma")))
#define AVX512_INLINE static inline __attribute__((always_inline, target("avx512f,avx2,fma")))
#endif

/* Multiply-adds a product needs before a skinny kernel pays, and a chunk
 * of work handed to a thread. */
#define SKINNY_MIN_WORK ((int64_t)1 << 15)
#define SKINNY_CHUNK_WORK ((int64_t)1 << 16)
#define SKINNY_MIN_LONG 32

typedef enum { SKINNY_NONE, SKINNY_SMALL_N, SKINNY_WEIGHT_GRAD } skinny_case;

static skinny_case case_of(int ta, int64_t m, int64_t n, int64_t k) {
    if (m * n * k < SKINNY_MIN_WORK) return SKINNY_NONE;
    if (n <= SKINNY_MAX && !ta && k >= SKINNY_MIN_LONG) return SKINNY_SMALL_N;
    if (n <= SKINNY_MAX && ta && m >= SKINNY_MIN_LONG) return SKINNY_WEIGHT_GRAD;
    return SKINNY_NONE;
}

typedef struct skinny_job {
    int ta, tb;
    int64_t m, n, k;
    const float *a;
    const float *b;  /* SMALL_N: B as n rows of k (packed); WEIGHT_GRAD: as given */
    float beta;
    int update;  /* C + alpha (the product), as tfc_gemm_skinny_update: beta is then unused */
    float alpha;
    float *c;
} skinny_job;

/* 0: none (left to the libraries), 8: the AVX2 tiles, 16: the AVX-512 ones */
static atomic_int lanes_in_use = -1;

static int widest_lanes(void) {
#ifdef SKINNY_X86
    if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma")) return 0;
    return __builtin_cpu_supports("avx512f") ? 16 : 8;
#else
    return 0;
#endif
}

static int decide_lanes(void) {
    const char *e = getenv("TFC_GEMM_SKINNY");
    int widest = widest_lanes();
    if (e && strcmp(e, "0") == 0) return 0;
    if (e && strcmp(e, "avx2") == 0 && widest) return 8;
    return widest;
}

int tfc_gemm_skinny_use_lanes(int lanes) {
    int widest = widest_lanes();
    if (lanes == -1) lanes = decide_lanes();
    if (lanes != 0 && lanes != 8 && lanes != 16) return -1;
    if (lanes > widest) return -1;
    atomic_store(&lanes_in_use, lanes);
    return lanes;
}

#ifdef SKINNY_X86

/* lanes [0, n) of a vector, n in 1..8 */
AVX2_INLINE __m256i lanes(int64_t n) {
    static const int32_t bits[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};
    return _mm256_loadu_si256((const __m256i *)(bits + 8 - n));
}

/* the lanes' sum, in one fixed order */
AVX2_INLINE float lane_sum(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/* C's element from its sum v: v + beta C, or C + alpha v in an update (the
 * product rounded, then scaled and added, as a separate update would):
 * exact because the project builds with -ffp-contract=off (CMakeLists.txt;
 * clang's default fused c + alpha * v here). Plain scalar code: inlined
 * into the tiles of either width. */
static inline void put(const skinny_job *j, float *c, float v) {
    if (j->update) {
        float step = j->alpha * v;
        *c = *c + step;
    } else if (j->beta != 0.0f) {
        float scaled = j->beta * *c;
        *c = v + scaled;
    } else {
        *c = v;
    }
}

/* TILE(..., NC) with the constant NC (1 to 5) that equals nc: each tile is
 * built once per column count, its column steps unrolled. */
#define BY_COLUMNS(nc, TILE, ...)                                                              \
    switch (nc) {                                                                              \
    case 1: TILE(__VA_ARGS__, 1); break;                                                       \
    case 2: TILE(__VA_ARGS__, 2); break;                                                       \
    case 3: TILE(__VA_ARGS__, 3); break;                                                       \
    case 4: TILE(__VA_ARGS__, 4); break;                                                       \
    default: TILE(__VA_ARGS__, 5); break;                                                      \
    }

/* ---- SMALL_N: C[i, j] = sum over p of A[i, p] Bt[j, p] ---- */

/* rows i0 .. i0 + R, columns j0 .. j0 + NC (R <= 2, NC <= 5). The partial
 * sums are named variables, not an array: GCC keeps an array of vectors in
 * memory and stores it back every step. */
AVX2_INLINE void small_n_tile(const skinny_job *j, int64_t i0, int R, int64_t j0, int NC) {
    const int64_t k = j->k;
    const float *a0 = j->a + i0 * k, *a1 = a0 + (R > 1 ? k : 0), *bt = j->b + j0 * k;
#define SN_ACC(q) __m256 s0_##q = _mm256_setzero_ps(), s1_##q = _mm256_setzero_ps()
    SN_ACC(0); SN_ACC(1); SN_ACC(2); SN_ACC(3); SN_ACC(4);
#define SN_STEP(q, w)                                                                          \
    if (NC > q) {                                                                              \
        __m256 w_ = (w);                                                                       \
        s0_##q = _mm256_fmadd_ps(x0, w_, s0_##q);                                              \
        if (R > 1) s1_##q = _mm256_fmadd_ps(x1, w_, s1_##q);                                   \
    }
    int64_t p = 0;
    for (; p + 8 <= k; p += 8) {
        __m256 x0 = _mm256_loadu_ps(a0 + p), x1 = _mm256_loadu_ps(a1 + p);
        SN_STEP(0, _mm256_loadu_ps(bt + p));
        SN_STEP(1, _mm256_loadu_ps(bt + k + p));
        SN_STEP(2, _mm256_loadu_ps(bt + 2 * k + p));
        SN_STEP(3, _mm256_loadu_ps(bt + 3 * k + p));
        SN_STEP(4, _mm256_loadu_ps(bt + 4 * k + p));
    }
    if (p < k) {
        __m256i m = lanes(k - p);
        __m256 x0 = _mm256_maskload_ps(a0 + p, m), x1 = _mm256_maskload_ps(a1 + p, m);
        SN_STEP(0, _mm256_maskload_ps(bt + p, m));
        SN_STEP(1, _mm256_maskload_ps(bt + k + p, m));
        SN_STEP(2, _mm256_maskload_ps(bt + 2 * k + p, m));
        SN_STEP(3, _mm256_maskload_ps(bt + 3 * k + p, m));
        SN_STEP(4, _mm256_maskload_ps(bt + 4 * k + p, m));
    }
    float *c0 = j->c + i0 * j->n + j0, *c1 = c0 + j->n;
#define SN_OUT(q)                                                                              \
    if (NC > q) {                                                                              \
        put(j, c0 + q, lane_sum(s0_##q));                                                      \
        if (R > 1) put(j, c1 + q, lane_sum(s1_##q));                                           \
    }
    SN_OUT(0); SN_OUT(1); SN_OUT(2); SN_OUT(3); SN_OUT(4);
#undef SN_ACC
#undef SN_STEP
#undef SN_OUT
}

#define SMALL_N_TILE(R)                                                                         \
    static AVX2 void small_n_tile_##R(const skinny_job *j, int64_t i0, int64_t j0, int nc) {   \
        BY_COLUMNS(nc, small_n_tile, j, i0, R, j0)                                              \
    }
SMALL_N_TILE(1)
SMALL_N_TILE(2)

/* pairs of rows [begin, end) */
static AVX2 void small_n_rows(void *arg, int64_t begin, int64_t end) {
    const skinny_job *j = arg;
    for (int64_t pair = begin; pair < end; pair++) {
        int64_t i0 = 2 * pair;
        for (int64_t j0 = 0; j0 < j->n; j0 += 5) {
            int nc = j->n - j0 < 5 ? (int)(j->n - j0) : 5;
            if (i0 + 1 < j->m)
                small_n_tile_2(j, i0, j0, nc);
            else
                small_n_tile_1(j, i0, j0, nc);
        }
    }
}

/* ---- WEIGHT_GRAD: C[i, j] = sum over p of A[p, i] B(p, j) ---- */

/* rows i0 .. i0 + rows of C (rows <= 16), columns j0 .. j0 + NC (NC <= 5);
 * the sums go to out[j0 + q][r] (lanes past `rows` unused) */
AVX2_INLINE void weight_grad_tile(const skinny_job *j, int64_t i0, int64_t rows, int64_t j0,
                                  float (*out)[16], int NC) {
    const int64_t m = j->m, n = j->n, k = j->k;
    int full = rows == 16, two = rows > 8;
    __m256i m0 = lanes(rows < 8 ? rows : 8), m1 = lanes(two ? rows - 8 : 1);
#define WG_ACC(q) __m256 s0_##q = _mm256_setzero_ps(), s1_##q = _mm256_setzero_ps()
    WG_ACC(0); WG_ACC(1); WG_ACC(2); WG_ACC(3); WG_ACC(4);
    /* B(p, j): element p * n + j, or j * k + p when B comes transposed */
    const int64_t bp = j->tb ? 1 : n, bq = j->tb ? k : 1;
    const float *b = j->b + j0 * bq;
#define WG_STEP(q)                                                                             \
    if (NC > q) {                                                                              \
        __m256 w_ = _mm256_broadcast_ss(bpp + q * bq);                                         \
        s0_##q = _mm256_fmadd_ps(x0, w_, s0_##q);                                              \
        s1_##q = _mm256_fmadd_ps(x1, w_, s1_##q);                                              \
    }
    if (full) {
        for (int64_t p = 0; p < k; p++) {
            const float *ap = j->a + p * m + i0, *bpp = b + p * bp;
            __m256 x0 = _mm256_loadu_ps(ap), x1 = _mm256_loadu_ps(ap + 8);
            WG_STEP(0); WG_STEP(1); WG_STEP(2); WG_STEP(3); WG_STEP(4);
        }
    } else {
        for (int64_t p = 0; p < k; p++) {
            const float *ap = j->a + p * m + i0, *bpp = b + p * bp;
            __m256 x0 = _mm256_maskload_ps(ap, m0);
            __m256 x1 = two ? _mm256_maskload_ps(ap + 8, m1) : _mm256_setzero_ps();
            WG_STEP(0); WG_STEP(1); WG_STEP(2); WG_STEP(3); WG_STEP(4);
        }
    }
#define WG_OUT(q)                                                                              \
    if (NC > q) {                                                                              \
        _mm256_storeu_ps(out[j0 + q], s0_##q);                                                 \
        _mm256_storeu_ps(out[j0 + q] + 8, s1_##q);                                             \
    }
    WG_OUT(0); WG_OUT(1); WG_OUT(2); WG_OUT(3); WG_OUT(4);
#undef WG_ACC
#undef WG_STEP
#undef WG_OUT
}

static AVX2 void weight_grad_block(const skinny_job *j, int64_t i0, int64_t rows, int64_t j0,
                                   float (*out)[16], int nc) {
    BY_COLUMNS(nc, weight_grad_tile, j, i0, rows, j0, out)
}

/* C's rows i0 .. i0 + rows (<= 16) from the sums out[q][r] (q < n): 8
 * rows by 8 columns turned in registers and written a row's 8 columns at
 * once (AMD's masked AVX2 stores are slow: a row's last columns past a
 * multiple of 8 go one by one, through put) */
static AVX2 void put_block8(const skinny_job *j, int64_t i0, int64_t rows, float (*out)[16]) {
    const int64_t n = j->n, whole = n / 8 * 8;
    const __m256 alpha = _mm256_set1_ps(j->alpha), beta = _mm256_set1_ps(j->beta);
    const int reads = j->update || j->beta != 0.0f;
    for (int64_t r0 = 0; r0 < rows; r0 += 8) {
        int64_t count = rows - r0 < 8 ? rows - r0 : 8;
        float *c = j->c + (i0 + r0) * n;
        for (int64_t c0 = 0; c0 < whole; c0 += 8) {
            __m256 v[8];
            for (int q = 0; q < 8; q++) v[q] = _mm256_loadu_ps(out[c0 + q] + r0);
            tfc_transpose8_regs(v);
            for (int64_t r = 0; r < count; r++) {
                __m256 x = v[r];
                if (j->update)
                    x = _mm256_add_ps(_mm256_loadu_ps(c + r * n + c0), _mm256_mul_ps(alpha, x));
                else if (reads)
                    x = _mm256_add_ps(x, _mm256_mul_ps(beta, _mm256_loadu_ps(c + r * n + c0)));
                _mm256_storeu_ps(c + r * n + c0, x);
            }
        }
        for (int64_t r = 0; r < count; r++)
            for (int64_t q = whole; q < n; q++) put(j, c + r * n + q, out[q][r0 + r]);
    }
}

/* blocks of 16 rows [begin, end): each block's columns five at a time,
 * then the block into C */
static AVX2 void weight_grad_rows(void *arg, int64_t begin, int64_t end) {
    const skinny_job *j = arg;
    float out[SKINNY_MAX][16];
    for (int64_t blk = begin; blk < end; blk++) {
        int64_t i0 = 16 * blk, rows = j->m - i0 < 16 ? j->m - i0 : 16;
        for (int64_t j0 = 0; j0 < j->n; j0 += 5)
            weight_grad_block(j, i0, rows, j0, out, j->n - j0 < 5 ? (int)(j->n - j0) : 5);
        put_block8(j, i0, rows, out);
    }
}

/* ---- the same tiles in AVX-512 (16 lanes, 32 vector registers) ---- */

/* the first n lanes (all from 16 on, none at 0 or below) */
AVX512_INLINE __mmask16 first_lanes(int64_t n) {
    return n >= 16 ? (__mmask16)0xFFFF : n <= 0 ? (__mmask16)0 : (__mmask16)((1u << n) - 1);
}

/* SMALL_N: rows i0 .. i0 + R (R is 1 or 4), columns j0 .. j0 + NC (NC <= 5) */
AVX512_INLINE void small_n_tile16(const skinny_job *j, int64_t i0, int R, int64_t j0, int NC) {
    const int64_t k = j->k, n = j->n;
    const float *a0 = j->a + i0 * k, *bt = j->b + j0 * k;
    const float *a1 = a0 + (R > 1 ? k : 0), *a2 = a0 + (R > 1 ? 2 * k : 0),
                *a3 = a0 + (R > 1 ? 3 * k : 0);
#define ZN_ACC(q)                                                                              \
    __m512 s0_##q = _mm512_setzero_ps(), s1_##q = s0_##q, s2_##q = s0_##q, s3_##q = s0_##q
    ZN_ACC(0); ZN_ACC(1); ZN_ACC(2); ZN_ACC(3); ZN_ACC(4);
#define ZN_STEP(q, w)                                                                          \
    if (NC > q) {                                                                              \
        __m512 w_ = (w);                                                                       \
        s0_##q = _mm512_fmadd_ps(x0, w_, s0_##q);                                              \
        if (R > 1) {                                                                           \
            s1_##q = _mm512_fmadd_ps(x1, w_, s1_##q);                                          \
            s2_##q = _mm512_fmadd_ps(x2, w_, s2_##q);                                          \
            s3_##q = _mm512_fmadd_ps(x3, w_, s3_##q);                                          \
        }                                                                                      \
    }
    int64_t p = 0;
    for (; p + 16 <= k; p += 16) {
        __m512 x0 = _mm512_loadu_ps(a0 + p), x1 = _mm512_loadu_ps(a1 + p);
        __m512 x2 = _mm512_loadu_ps(a2 + p), x3 = _mm512_loadu_ps(a3 + p);
        ZN_STEP(0, _mm512_loadu_ps(bt + p));
        ZN_STEP(1, _mm512_loadu_ps(bt + k + p));
        ZN_STEP(2, _mm512_loadu_ps(bt + 2 * k + p));
        ZN_STEP(3, _mm512_loadu_ps(bt + 3 * k + p));
        ZN_STEP(4, _mm512_loadu_ps(bt + 4 * k + p));
    }
    if (p < k) {
        __mmask16 m = first_lanes(k - p);
        __m512 x0 = _mm512_maskz_loadu_ps(m, a0 + p), x1 = _mm512_maskz_loadu_ps(m, a1 + p);
        __m512 x2 = _mm512_maskz_loadu_ps(m, a2 + p), x3 = _mm512_maskz_loadu_ps(m, a3 + p);
        ZN_STEP(0, _mm512_maskz_loadu_ps(m, bt + p));
        ZN_STEP(1, _mm512_maskz_loadu_ps(m, bt + k + p));
        ZN_STEP(2, _mm512_maskz_loadu_ps(m, bt + 2 * k + p));
        ZN_STEP(3, _mm512_maskz_loadu_ps(m, bt + 3 * k + p));
        ZN_STEP(4, _mm512_maskz_loadu_ps(m, bt + 4 * k + p));
    }
    float *c0 = j->c + i0 * n + j0;
#define ZN_OUT(q)                                                                              \
    if (NC > q) {                                                                              \
        put(j, c0 + q, _mm512_reduce_add_ps(s0_##q));                                        \
        if (R > 1) {                                                                           \
            put(j, c0 + n + q, _mm512_reduce_add_ps(s1_##q));                                \
            put(j, c0 + 2 * n + q, _mm512_reduce_add_ps(s2_##q));                            \
            put(j, c0 + 3 * n + q, _mm512_reduce_add_ps(s3_##q));                            \
        }                                                                                      \
    }
    ZN_OUT(0); ZN_OUT(1); ZN_OUT(2); ZN_OUT(3); ZN_OUT(4);
#undef ZN_ACC
#undef ZN_STEP
#undef ZN_OUT
}

#define SMALL_N_TILE16(R)                                                                       \
    static AVX512 void small_n_tile16_##R(const skinny_job *j, int64_t i0, int64_t j0, int nc) { \
        BY_COLUMNS(nc, small_n_tile16, j, i0, R, j0)                                            \
    }
SMALL_N_TILE16(1)
SMALL_N_TILE16(4)

/* quads of rows [begin, end) */
static AVX512 void small_n_rows16(void *arg, int64_t begin, int64_t end) {
    const skinny_job *j = arg;
    for (int64_t quad = begin; quad < end; quad++) {
        int64_t i0 = 4 * quad;
        for (int64_t j0 = 0; j0 < j->n; j0 += 5) {
            int nc = j->n - j0 < 5 ? (int)(j->n - j0) : 5;
            if (i0 + 4 <= j->m)
                small_n_tile16_4(j, i0, j0, nc);
            else
                for (int64_t i = i0; i < j->m; i++) small_n_tile16_1(j, i, j0, nc);
        }
    }
}

/* WEIGHT_GRAD: rows i0 .. i0 + rows of C (rows <= 16 V, in V vectors of
 * 16: 1 to 4), columns j0 .. j0 + NC (NC <= 5); the sums go to out[j0 +
 * q][r] (lanes past `rows` unused). */
AVX512_INLINE void weight_grad_tile16(const skinny_job *j, int64_t i0, int64_t rows, int64_t j0,
                                      float (*out)[64], int V, int NC) {
    const int64_t m = j->m, n = j->n, k = j->k;
    const __mmask16 last = first_lanes(rows - 16 * (V - 1));
#define ZW_ACC(q)                                                                              \
    __m512 s0_##q = _mm512_setzero_ps(), s1_##q = s0_##q, s2_##q = s0_##q, s3_##q = s0_##q
    ZW_ACC(0); ZW_ACC(1); ZW_ACC(2); ZW_ACC(3); ZW_ACC(4);
    const int64_t bp = j->tb ? 1 : n, bq = j->tb ? k : 1;
    const float *b = j->b + j0 * bq;
/* vector v of A's row p: the last one through the mask */
#define ZW_LOAD(v)                                                                             \
    (V - 1 == v ? _mm512_maskz_loadu_ps(last, ap + 16 * v)                                      \
                : V > v ? _mm512_loadu_ps(ap + 16 * v) : _mm512_setzero_ps())
#define ZW_STEP(q)                                                                             \
    if (NC > q) {                                                                              \
        __m512 w_ = _mm512_set1_ps(bpp[q * bq]);                                               \
        s0_##q = _mm512_fmadd_ps(x0, w_, s0_##q);                                              \
        if (V > 1) s1_##q = _mm512_fmadd_ps(x1, w_, s1_##q);                                   \
        if (V > 2) s2_##q = _mm512_fmadd_ps(x2, w_, s2_##q);                                   \
        if (V > 3) s3_##q = _mm512_fmadd_ps(x3, w_, s3_##q);                                   \
    }
    for (int64_t p = 0; p < k; p++) {
        const float *ap = j->a + p * m + i0, *bpp = b + p * bp;
        __m512 x0 = ZW_LOAD(0), x1 = ZW_LOAD(1), x2 = ZW_LOAD(2), x3 = ZW_LOAD(3);
        (void)x1, (void)x2, (void)x3;
        ZW_STEP(0); ZW_STEP(1); ZW_STEP(2); ZW_STEP(3); ZW_STEP(4);
    }
#define ZW_OUT(q)                                                                              \
    if (NC > q) {                                                                              \
        _mm512_store_ps(out[j0 + q], s0_##q);                                                  \
        if (V > 1) _mm512_store_ps(out[j0 + q] + 16, s1_##q);                                  \
        if (V > 2) _mm512_store_ps(out[j0 + q] + 32, s2_##q);                                  \
        if (V > 3) _mm512_store_ps(out[j0 + q] + 48, s3_##q);                                  \
    }
    ZW_OUT(0); ZW_OUT(1); ZW_OUT(2); ZW_OUT(3); ZW_OUT(4);
#undef ZW_ACC
#undef ZW_LOAD
#undef ZW_STEP
#undef ZW_OUT
}

#define WEIGHT_GRAD_TILE16(V)                                                                   \
    static AVX512 void weight_grad_tile16_##V(const skinny_job *j, int64_t i0, int64_t rows,    \
                                              int64_t j0, float (*out)[64], int nc) {           \
        BY_COLUMNS(nc, weight_grad_tile16, j, i0, rows, j0, out, V)                             \
    }
WEIGHT_GRAD_TILE16(1)
WEIGHT_GRAD_TILE16(2)
WEIGHT_GRAD_TILE16(3)
WEIGHT_GRAD_TILE16(4)

/* C's rows i0 .. i0 + rows (<= 64) from the sums out[q][r] (q < n): 16 rows
 * at a time turned into rows in registers, each row's n elements written
 * through a mask (put's arithmetic, a row at once). The 16 rows of C are
 * all read before any is written: a masked store stalls a load of the
 * vector's width after it (the next row) until it is written, which cost
 * 5 us on the 784 x 10 update. */
static AVX512 void put_block16(const skinny_job *j, int64_t i0, int64_t rows, float (*out)[64]) {
    const int64_t n = j->n;
    const __mmask16 row_lanes = first_lanes(n);
    const __m512 alpha = _mm512_set1_ps(j->alpha), beta = _mm512_set1_ps(j->beta);
    const int reads = j->update || j->beta != 0.0f;
    for (int64_t r0 = 0; r0 < rows; r0 += 16) {
        int64_t count = rows - r0 < 16 ? rows - r0 : 16;
        float *c = j->c + (i0 + r0) * n;
        __m512 v[16], old[16];
        for (int q = 0; q < 16; q++)
            v[q] = q < n ? _mm512_load_ps(out[q] + r0) : _mm512_setzero_ps();
        for (int64_t r = 0; reads && r < count; r++)
            old[r] = _mm512_maskz_loadu_ps(row_lanes, c + r * n);
        tfc_transpose16_regs(v);
        for (int64_t r = 0; r < count; r++) {
            __m512 x = v[r];
            if (j->update) x = _mm512_add_ps(old[r], _mm512_mul_ps(alpha, x));
            else if (reads) x = _mm512_add_ps(x, _mm512_mul_ps(beta, old[r]));
            _mm512_mask_storeu_ps(c + r * n, row_lanes, x);
        }
    }
}

/* blocks of 64 rows [begin, end): each block's columns five at a time, its
 * last rows in as few vectors as they need, then the block into C */
static AVX512 void weight_grad_rows16(void *arg, int64_t begin, int64_t end) {
    const skinny_job *j = arg;
    _Alignas(64) float out[SKINNY_MAX][64];
    for (int64_t blk = begin; blk < end; blk++) {
        int64_t i0 = 64 * blk, rows = j->m - i0 < 64 ? j->m - i0 : 64;
        for (int64_t j0 = 0; j0 < j->n; j0 += 5) {
            int nc = j->n - j0 < 5 ? (int)(j->n - j0) : 5;
            switch ((rows + 15) / 16) {
            case 1: weight_grad_tile16_1(j, i0, rows, j0, out, nc); break;
            case 2: weight_grad_tile16_2(j, i0, rows, j0, out, nc); break;
            case 3: weight_grad_tile16_3(j, i0, rows, j0, out, nc); break;
            default: weight_grad_tile16_4(j, i0, rows, j0, out, nc); break;
            }
        }
        put_block16(j, i0, rows, out);
    }
}

/* B's rows [begin, end) of 16 (k rows of n <= 16) into the packed copy as
 * columns: dst[c, r] = src[r, c], 16 rows turned in registers at a time */
typedef struct pack_job {
    float *dst;
    const float *src;
    int64_t rows, cols;
} pack_job;

static AVX512 void pack_rows16(void *arg, int64_t begin, int64_t end) {
    const pack_job *pj = arg;
    const int64_t rows = pj->rows, cols = pj->cols;
    const __mmask16 row_lanes = first_lanes(cols);
    for (int64_t blk = begin; blk < end; blk++) {
        int64_t r0 = 16 * blk, count = rows - r0 < 16 ? rows - r0 : 16;
        __m512 v[16];
        for (int64_t r = 0; r < 16; r++)
            v[r] = r < count ? _mm512_maskz_loadu_ps(row_lanes, pj->src + (r0 + r) * cols)
                             : _mm512_setzero_ps();
        tfc_transpose16_regs(v);
        for (int64_t c = 0; c < cols; c++)
            _mm512_mask_storeu_ps(pj->dst + c * rows + r0, first_lanes(count), v[c]);
    }
}

/* Splits `units` (each `unit_work` multiply-adds) over the pool. */
static void spread(tfc_threadpool *pool, int64_t units, int64_t unit_work,
                   void (*fn)(void *, int64_t, int64_t), skinny_job *j) {
    int64_t grain = SKINNY_CHUNK_WORK / (unit_work > 0 ? unit_work : 1);
    tfc_parallel_for(pool, units, grain > 1 ? grain : 1, fn, j);
}

#endif /* SKINNY_X86 */

/* The product of a skinny case on the pool; j's C arithmetic (beta, or an
 * update) is its caller's. 0 when memory for B's copy runs out. */
static int skinny_run(tfc_threadpool *pool, skinny_case kind, int lanes, skinny_job *jp) {
#ifdef SKINNY_X86
    skinny_job j = *jp;
    int64_t m = j.m, n = j.n, k = j.k;
    /* SMALL_N wants B as n rows of k: a copy when it comes as k rows of n
     * (n k elements, against m n k multiply-adds) */
    int pack = kind == SKINNY_SMALL_N && !j.tb;
    size_t bytes = pack ? (size_t)(n * k) * sizeof(float) : 0;
    float *packed = NULL;
    if (pack) {
        packed = tfc_block_alloc(bytes);
        if (!packed) return 0;
        /* with AVX-512 in blocks of 256 rows over the pool: B is often
         * spread over the cores' caches by the update that wrote it */
        pack_job pj = {packed, j.b, k, n};
        if (lanes == 16)
            tfc_parallel_for(pool, (k + 15) / 16, 16, pack_rows16, &pj);
        else
            tfc_transpose32_in((uint32_t *)packed, k, (const uint32_t *)j.b, n, n, k, 8);
        j.b = packed;
    }
    if (kind == SKINNY_SMALL_N && lanes == 16)
        spread(pool, (m + 3) / 4, 4 * n * k, small_n_rows16, &j);
    else if (kind == SKINNY_SMALL_N)
        spread(pool, (m + 1) / 2, 2 * n * k, small_n_rows, &j);
    else if (lanes == 16)
        spread(pool, (m + 63) / 64, 64 * n * k, weight_grad_rows16, &j);
    else
        spread(pool, (m + 15) / 16, 16 * n * k, weight_grad_rows, &j);
    if (packed) tfc_block_free(packed, bytes);
    return 1;
#else
    (void)pool, (void)kind, (void)lanes, (void)jp;
    return 0;
#endif
}

/* The lanes the products run in (0: none); the first product decides. */
static int lanes_now(void) {
    int lanes = atomic_load_explicit(&lanes_in_use, memory_order_relaxed);
    return lanes < 0 ? tfc_gemm_skinny_use_lanes(-1) : lanes;
}

int tfc_gemm_skinny_takes(int ta, int64_t m, int64_t n, int64_t k) {
    return case_of(ta, m, n, k) != SKINNY_NONE && lanes_now() != 0;
}

int tfc_gemm_skinny(tfc_threadpool *pool, int ta, int tb, int64_t m, int64_t n, int64_t k,
                    const float *a, const float *b, float beta, float *c) {
    skinny_case kind = case_of(ta, m, n, k);
    int lanes = kind == SKINNY_NONE ? 0 : lanes_now();
    if (!lanes) return 0;
    skinny_job j = {ta, tb, m, n, k, a, b, beta, 0, 0.0f, c};
    return skinny_run(pool, kind, lanes, &j);
}

int tfc_gemm_skinny_update(tfc_threadpool *pool, int ta, int tb, int64_t m, int64_t n, int64_t k,
                           const float *a, const float *b, float alpha, float *c) {
    skinny_case kind = case_of(ta, m, n, k);
    int lanes = kind == SKINNY_NONE ? 0 : lanes_now();
    if (!lanes) return 0;
    skinny_job j = {ta, tb, m, n, k, a, b, 0.0f, 1, alpha, c};
    return skinny_run(pool, kind, lanes, &j);
}
