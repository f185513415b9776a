/* Register tiles (see tiles.h). Two widths: AVX-512, 6 rows x 4 vectors of
 * 16 columns (24 sums, 4 loads of B and 6 broadcasts of A for 24
 * multiply-adds a term), and AVX2 + FMA, 6 rows x 2 vectors of 8 (12 sums
 * in the 16 registers). Each (rows, vectors) pair is its own function with
 * its loops unrolled; the sums are named variables, since GCC keeps an
 * array of vectors in memory and stores it back every step. */
#include "ops/tiles.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define TILES_X86 1
#include <immintrin.h>
#define AVX2 __attribute__((target("avx2,fma")))
#define AVX2_INLINE static inline __attribute__((always_inline, target("avx2,fma")))
#define AVX512 __attribute__((target("avx512f,avx2,fma,prfchw")))
#endif

static atomic_int width_in_use = -1; /* -1: not yet decided */

static int widest(void) {
#ifdef TILES_X86
    if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma")) return 0;
    return __builtin_cpu_supports("avx512f") ? 64 : 16;
#else
    return 0;
#endif
}

/* The AVX-512 tiles where the CPU has them. The AVX2 tiles are exact and
 * tested, but by default the products stay with oneDNN on CPUs without
 * AVX-512: measured on Zen 4 against OpenBLAS's AVX2 kernels (106-110
 * GFLOP/s), they reach 102-112 on the MLP's and the LSTM's products but
 * 78 against 88-92 on the CNN's largest (50 x 1024 x 3136), and no CPU
 * without AVX-512 was at hand to measure them against oneDNN there. */
static int from_environment(void) {
    const char *e = getenv("TFC_TILES");
    int w = widest();
    if (e && strcmp(e, "0") == 0) return 0;
    if (e && strcmp(e, "avx2") == 0 && w) return 16;
    return w == 64 ? 64 : 0;
}

int tfc_tile_use_width(int width) {
    if (width == -1) width = from_environment();
    if (width != 0 && width != 16 && width != 64) return -1;
    if (width > widest()) return -1;
    atomic_store(&width_in_use, width);
    return width;
}

int tfc_tile_rows(int cols) {
    return tfc_tile_width() == 64 && cols <= TILE_TALL_COLS ? TILE_ROWS_MOST : TILE_ROWS;
}

int tfc_tile_width(void) {
    int w = atomic_load_explicit(&width_in_use, memory_order_relaxed);
    return w >= 0 ? w : tfc_tile_use_width(-1);
}

#ifdef TILES_X86

/* (the tiles' macros are laid out by hand) */
// clang-format off
/* The body of every tile: R rows (1..12) by V vectors, the last of which
 * loads and stores through `mask`. LOADV, STOREV, FMA, SET1, ADD, MUL and
 * ZERO are the width's operations, VEC_T its vector and LANES its floats. */
#define TILE_BODY(VEC, R, V)                                                                       \
    const int64_t a_step = t->a_step, ldb = t->ldb, ldc = t->ldc;                                  \
    float *const c = t->c;                                                                         \
    const float *const bias = t->bias;                                                             \
    const int relu = t->relu;                                                                      \
    VEC s00, s01, s02, s03, s10, s11, s12, s13, s20, s21, s22, s23;                                \
    VEC s30, s31, s32, s33, s40, s41, s42, s43, s50, s51, s52, s53;                                \
    VEC s60, s61, s62, s63, s70, s71, s72, s73, s80, s81, s82, s83;                                \
    VEC s90, s91, s92, s93, s100, s101, s102, s103, s110, s111, s112, s113;                        \
    (void)s00, (void)s01, (void)s02, (void)s03, (void)s10, (void)s11, (void)s12, (void)s13;        \
    (void)s20, (void)s21, (void)s22, (void)s23, (void)s30, (void)s31, (void)s32, (void)s33;        \
    (void)s40, (void)s41, (void)s42, (void)s43, (void)s50, (void)s51, (void)s52, (void)s53;        \
    (void)s60, (void)s61, (void)s62, (void)s63, (void)s70, (void)s71, (void)s72, (void)s73;        \
    (void)s80, (void)s81, (void)s82, (void)s83, (void)s90, (void)s91, (void)s92, (void)s93;        \
    (void)s100, (void)s101, (void)s102, (void)s103, (void)s110, (void)s111, (void)s112, (void)s113; \
    /* the sums start from C, from scale * C, or from zero */                                      \
    const int from_c = t->mode == TILE_ACCUMULATE || (t->mode == TILE_BETA && t->scale == 1.0f);   \
    const int scaled_c = t->mode == TILE_BETA && t->scale != 0.0f && t->scale != 1.0f;             \
    if (!from_c && !scaled_c) EACH_SUM(R, V, WANT_C)                                               \
    EACH_SUM(R, V, START)                                                                          \
    for (int64_t s = 0; s < t->nseg; s++) {                                                        \
        const int64_t off = t->a_off ? t->a_off[s] : 0;                                            \
        const float *r0 = t->row[0] + off;                                                         \
        ROW_PTR(1, R) ROW_PTR(2, R) ROW_PTR(3, R) ROW_PTR(4, R) ROW_PTR(5, R) ROW_PTR(6, R)          \
        ROW_PTR(7, R) ROW_PTR(8, R) ROW_PTR(9, R) ROW_PTR(10, R) ROW_PTR(11, R)                     \
        const float *bp = t->b + s * t->b_seg;                                                     \
        for (int64_t k = 0, ak = 0; k < t->kseg; k++, ak += a_step, bp += ldb) {                   \
            VEC b0 = LOADV(bp, 0, V), b1 = V > 1 ? LOADV(bp, 1, V) : b0;                           \
            VEC b2 = V > 2 ? LOADV(bp, 2, V) : b0, b3 = V > 3 ? LOADV(bp, 3, V) : b0;              \
            (void)b1, (void)b2, (void)b3;                                                          \
            TERM_ROW(0, R, V) TERM_ROW(1, R, V) TERM_ROW(2, R, V) TERM_ROW(3, R, V)                \
            TERM_ROW(4, R, V) TERM_ROW(5, R, V) TERM_ROW(6, R, V) TERM_ROW(7, R, V)                \
            TERM_ROW(8, R, V) TERM_ROW(9, R, V) TERM_ROW(10, R, V) TERM_ROW(11, R, V)              \
        }                                                                                          \
    }                                                                                              \
    EACH_SUM(R, V, FINISH)

/* OP(i, v, V) for every sum of an R x V tile */
#define EACH_SUM(R, V, OP)                                                                         \
    EACH_V(0, R, V, OP) EACH_V(1, R, V, OP) EACH_V(2, R, V, OP) EACH_V(3, R, V, OP)                \
    EACH_V(4, R, V, OP) EACH_V(5, R, V, OP) EACH_V(6, R, V, OP) EACH_V(7, R, V, OP)                \
    EACH_V(8, R, V, OP) EACH_V(9, R, V, OP) EACH_V(10, R, V, OP) EACH_V(11, R, V, OP)
#define EACH_V(i, R, V, OP)                                                                        \
    ONE_SUM(i, 0, R, V, OP) ONE_SUM(i, 1, R, V, OP) ONE_SUM(i, 2, R, V, OP) ONE_SUM(i, 3, R, V, OP)
#define ONE_SUM(i, v, R, V, OP)                                                                    \
    if (R > i && V > v) {                                                                          \
        OP(i, v, V)                                                                                \
    }

/* row i's pointer (of R), at this segment's offset */
#define ROW_PTR(i, R) const float *r##i = R > i ? t->row[i] + off : r0;

/* one term for row i (of R): A(i, k) broadcast, times each vector of B */
#define TERM_ROW(i, R, V)                                                                          \
    if (R > i) {                                                                                   \
        VEC_T x = SET1(r##i[ak]);                                                                  \
        s##i##0 = FMA(x, b0, s##i##0);                                                             \
        if (V > 1) s##i##1 = FMA(x, b1, s##i##1);                                                  \
        if (V > 2) s##i##2 = FMA(x, b2, s##i##2);                                                  \
        if (V > 3) s##i##3 = FMA(x, b3, s##i##3);                                                  \
    }

/* C's lines asked for at the start, to be written at the end (the tile's
 * sums take long enough for them to arrive) */
#define WANT_C(i, v, V) __builtin_prefetch(CPTR(i, 0) + (v) * LANES, 1, 3);

/* element (i, vector v) of C */
#define CPTR(i, v) (c + (i) * ldc + (v) * LANES)
#define START(i, v, V)                                                                             \
    s##i##v = from_c     ? LOADV(CPTR(i, 0), v, V)                                                 \
              : scaled_c ? MUL(SET1(t->scale), LOADV(CPTR(i, 0), v, V))                            \
                         : ZERO();
#define FINISH(i, v, V)                                                                            \
    {                                                                                              \
        VEC_T out = s##i##v;                                                                       \
        if (t->mode == TILE_UPDATE) out = ADD(LOADV(CPTR(i, 0), v, V), MUL(SET1(t->scale), out));  \
        if (bias) out = ADD(out, LOADV(bias, v, V));                                               \
        if (relu) out = MAX(out, ZERO()); /* (out > 0 ? out : 0, NaN and -0 included) */          \
        STOREV(CPTR(i, 0), v, V, out);                                                             \
    }

// clang-format on

/* ---- AVX-512: 16 lanes, the last vector masked ---- */
#define VEC_T __m512
#define LANES 16
#define SET1(x) _mm512_set1_ps(x)
#define FMA(a, b, c) _mm512_fmadd_ps(a, b, c)
#define ADD(a, b) _mm512_add_ps(a, b)
#define MUL(a, b) _mm512_mul_ps(a, b)
#define MAX(a, b) _mm512_max_ps(a, b)
#define ZERO() _mm512_setzero_ps()
#define LOADV(p, v, V)                                                                             \
    ((v) == (V)-1 ? _mm512_maskz_loadu_ps(mask, (p) + (v)*16) : _mm512_loadu_ps((p) + (v)*16))
#define STOREV(p, v, V, x)                                                                         \
    ((v) == (V)-1 ? _mm512_mask_storeu_ps((p) + (v)*16, mask, x)                                   \
                  : _mm512_storeu_ps((p) + (v)*16, x))

#define TILE512(R, V)                                                                              \
    static AVX512 void tile512_##R##_##V(const tfc_tile_args *t, int cols) {                       \
        const __mmask16 mask = (__mmask16)((1u << (cols - ((V)-1) * 16)) - 1u);                    \
        TILE_BODY(__m512, R, V)                                                                    \
    }
#define TILE512_ROWS(R) TILE512(R, 1) TILE512(R, 2) TILE512(R, 3) TILE512(R, 4)
TILE512_ROWS(1)
TILE512_ROWS(2)
TILE512_ROWS(3)
TILE512_ROWS(4)
TILE512_ROWS(5)
TILE512_ROWS(6)
/* the tall tiles: 7 to 12 rows of at most 2 vectors (24 sums) */
#define TILE512_TALL(R) TILE512(R, 1) TILE512(R, 2)
TILE512_TALL(7)
TILE512_TALL(8)
TILE512_TALL(9)
TILE512_TALL(10)
TILE512_TALL(11)
TILE512_TALL(12)

typedef void (*tile_fn)(const tfc_tile_args *, int);
#define TILE512_ROW_FNS(R)                                                                         \
    { tile512_##R##_1, tile512_##R##_2, tile512_##R##_3, tile512_##R##_4 }
#define TILE512_TALL_FNS(R)                                                                        \
    { tile512_##R##_1, tile512_##R##_2, NULL, NULL }
static const tile_fn tiles512[TILE_ROWS_MOST][4] = {
    TILE512_ROW_FNS(1),  TILE512_ROW_FNS(2),   TILE512_ROW_FNS(3),   TILE512_ROW_FNS(4),
    TILE512_ROW_FNS(5),  TILE512_ROW_FNS(6),   TILE512_TALL_FNS(7),  TILE512_TALL_FNS(8),
    TILE512_TALL_FNS(9), TILE512_TALL_FNS(10), TILE512_TALL_FNS(11), TILE512_TALL_FNS(12)};

#undef VEC_T
#undef LANES
#undef SET1
#undef FMA
#undef ADD
#undef MUL
#undef MAX
#undef ZERO
#undef LOADV
#undef STOREV

/* ---- AVX2: 8 lanes, the last vector through a lane mask ---- */
#define VEC_T __m256
#define LANES 8
#define SET1(x) _mm256_set1_ps(x)
#define FMA(a, b, c) _mm256_fmadd_ps(a, b, c)
#define ADD(a, b) _mm256_add_ps(a, b)
#define MUL(a, b) _mm256_mul_ps(a, b)
#define MAX(a, b) _mm256_max_ps(a, b)
#define ZERO() _mm256_setzero_ps()
/* (a masked load costs more than a plain one here: only a partial last
 * vector takes it) */
#define LOADV(p, v, V)                                                                             \
    ((v) == (V)-1 && partial ? _mm256_maskload_ps((p) + (v)*8, mask) : _mm256_loadu_ps((p) + (v)*8))
#define STOREV(p, v, V, x)                                                                         \
    ((v) == (V)-1 && partial ? _mm256_maskstore_ps((p) + (v)*8, mask, x)                           \
                             : _mm256_storeu_ps((p) + (v)*8, x))

AVX2_INLINE __m256i lane_mask(int n) {
    static const int32_t bits[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};
    return _mm256_loadu_si256((const __m256i *)(bits + 8 - n));
}

#define TILE256(R, V)                                                                              \
    static AVX2 void tile256_##R##_##V(const tfc_tile_args *t, int cols) {                         \
        const __m256i mask = lane_mask(cols - ((V)-1) * 8);                                        \
        const int partial = cols < (V)*8;                                                          \
        TILE_BODY(__m256, R, V)                                                                    \
    }
#define TILE256_ROWS(R) TILE256(R, 1) TILE256(R, 2)
TILE256_ROWS(1)
TILE256_ROWS(2)
TILE256_ROWS(3)
TILE256_ROWS(4)
TILE256_ROWS(5)
TILE256_ROWS(6)

#define TILE256_ROW_FNS(R)                                                                         \
    { tile256_##R##_1, tile256_##R##_2 }
static const tile_fn tiles256[TILE_ROWS][2] = {TILE256_ROW_FNS(1), TILE256_ROW_FNS(2),
                                               TILE256_ROW_FNS(3), TILE256_ROW_FNS(4),
                                               TILE256_ROW_FNS(5), TILE256_ROW_FNS(6)};

void tfc_register_tile(const tfc_tile_args *t, int rows, int cols) {
    if (tfc_tile_width() == 64)
        tiles512[rows - 1][(cols + 15) / 16 - 1](t, cols);
    else
        tiles256[rows - 1][(cols + 7) / 8 - 1](t, cols);
}

#else

void tfc_register_tile(const tfc_tile_args *t, int rows, int cols) {
    (void)t, (void)rows, (void)cols;
    abort(); /* tfc_tile_width() is 0: callers never get here */
}

#endif
