/* tfc_gemm (see gemm.h) in plain C, for builds without OpenBLAS and oneDNN
 * (-DTFC_PORTABLE_GEMM=ON: cross builds for arm64/armhf, the small
 * inference library). CMake compiles either this file or gemm.c.
 *
 * Blocked the usual way: C is cut into bands of GEMM_MB rows, one task per
 * band on the pool; inside a band, k runs in slices of GEMM_KB and n in
 * panels of GEMM_NB, the slice of op(B) packed row-major and that of op(A)
 * packed so that both transposes read memory in order. The inner kernel
 * updates four rows of C at once from one packed row of B, a loop the
 * compiler vectorizes (NEON, SSE, AVX). Each element of C sums its k terms
 * in increasing k whatever the band or the thread count, so results do not
 * depend on the pool's size. */
#include "ops/gemm.h"

#include "core/buffer_pool.h"
#include "core/vector_clones.h"

#define GEMM_MB 64
#define GEMM_KB 256
#define GEMM_NB 512
/* scratch of a band: packed A, then packed B, for the widest type */
#define PACK_BYTES (sizeof(double) * (GEMM_MB * GEMM_KB + GEMM_KB * GEMM_NB))

typedef struct gemm_job {
    int ta, tb;
    int64_t m, n, k;
    const void *a, *b;
    double beta;
    void *c;
} gemm_job;

/* One element type: packs, the 4-row kernel, a band, and a plain loop for
 * when scratch memory runs out. A is m x k (k x m when ta), B k x n (n x k
 * when tb), all row-major and dense. */
#define GEMM_PORTABLE(T, SUFFIX)                                                                   \
    static inline T a_at_##SUFFIX(const gemm_job *j, int64_t i, int64_t p) {                       \
        const T *a = j->a;                                                                         \
        return j->ta ? a[p * j->m + i] : a[i * j->k + p];                                          \
    }                                                                                              \
    static inline T b_at_##SUFFIX(const gemm_job *j, int64_t p, int64_t q) {                       \
        const T *b = j->b;                                                                         \
        return j->tb ? b[q * j->k + p] : b[p * j->n + q];                                          \
    }                                                                                              \
    /* rows i0..i0+rows of C (row stride ldc) += pa[rows x kb] * pb[kb x nb] */                    \
    TFC_VECTOR_CLONES static void kernel_##SUFFIX(int rows, int64_t kb, int64_t nb,                \
                                                  const T *restrict pa, const T *restrict pb,      \
                                                  T *restrict c, int64_t ldc) {                    \
        int64_t r = 0;                                                                             \
        for (; r + 4 <= rows; r += 4) {                                                            \
            T *restrict c0 = c + r * ldc, *restrict c1 = c0 + ldc, *restrict c2 = c1 + ldc,        \
                        *restrict c3 = c2 + ldc;                                                   \
            for (int64_t p = 0; p < kb; p++) {                                                     \
                T a0 = pa[r * kb + p], a1 = pa[(r + 1) * kb + p], a2 = pa[(r + 2) * kb + p],       \
                  a3 = pa[(r + 3) * kb + p];                                                       \
                const T *restrict bp = pb + p * nb;                                                \
                for (int64_t q = 0; q < nb; q++) {                                                 \
                    T bq = bp[q];                                                                  \
                    c0[q] += a0 * bq;                                                              \
                    c1[q] += a1 * bq;                                                              \
                    c2[q] += a2 * bq;                                                              \
                    c3[q] += a3 * bq;                                                              \
                }                                                                                  \
            }                                                                                      \
        }                                                                                          \
        for (; r < rows; r++) {                                                                    \
            T *restrict c0 = c + r * ldc;                                                          \
            for (int64_t p = 0; p < kb; p++) {                                                     \
                T a0 = pa[r * kb + p];                                                             \
                const T *restrict bp = pb + p * nb;                                                \
                for (int64_t q = 0; q < nb; q++) c0[q] += a0 * bp[q];                              \
            }                                                                                      \
        }                                                                                          \
    }                                                                                              \
    static void scale_rows_##SUFFIX(const gemm_job *j, int64_t i0, int64_t i1) {                   \
        T *c = j->c, beta = (T)j->beta;                                                            \
        /* beta 0 ignores C, NaNs included, as BLAS does */                                        \
        for (int64_t i = i0 * j->n; i < i1 * j->n; i++) c[i] = beta == 0 ? 0 : beta * c[i];        \
    }                                                                                              \
    static void naive_rows_##SUFFIX(const gemm_job *j, int64_t i0, int64_t i1) {                   \
        T *c = j->c;                                                                               \
        for (int64_t i = i0; i < i1; i++)                                                          \
            for (int64_t p = 0; p < j->k; p++) {                                                   \
                T a = a_at_##SUFFIX(j, i, p);                                                      \
                for (int64_t q = 0; q < j->n; q++) c[i * j->n + q] += a * b_at_##SUFFIX(j, p, q);  \
            }                                                                                      \
    }                                                                                              \
    static void band_##SUFFIX(const gemm_job *j, int64_t i0, int64_t i1, T *pa, T *pb) {           \
        T *c = j->c;                                                                               \
        int rows = (int)(i1 - i0);                                                                 \
        for (int64_t p0 = 0; p0 < j->k; p0 += GEMM_KB) {                                           \
            int64_t kb = j->k - p0 < GEMM_KB ? j->k - p0 : GEMM_KB;                                \
            for (int r = 0; r < rows; r++)                                                         \
                for (int64_t p = 0; p < kb; p++)                                                   \
                    pa[r * kb + p] = a_at_##SUFFIX(j, i0 + r, p0 + p);                             \
            for (int64_t q0 = 0; q0 < j->n; q0 += GEMM_NB) {                                       \
                int64_t nb = j->n - q0 < GEMM_NB ? j->n - q0 : GEMM_NB;                            \
                if (!j->tb && nb == j->n) {                                                        \
                    /* B's rows are already the packed panel */                                    \
                    kernel_##SUFFIX(rows, kb, nb, pa, (const T *)j->b + p0 * j->n,                 \
                                    c + i0 * j->n + q0, j->n);                                     \
                    continue;                                                                      \
                }                                                                                  \
                for (int64_t p = 0; p < kb; p++)                                                   \
                    for (int64_t q = 0; q < nb; q++)                                               \
                        pb[p * nb + q] = b_at_##SUFFIX(j, p0 + p, q0 + q);                         \
                kernel_##SUFFIX(rows, kb, nb, pa, pb, c + i0 * j->n + q0, j->n);                   \
            }                                                                                      \
        }                                                                                          \
    }                                                                                              \
    static void bands_##SUFFIX(void *arg, int64_t begin, int64_t end) {                            \
        const gemm_job *j = arg;                                                                   \
        int64_t i0 = begin * GEMM_MB, i1 = end * GEMM_MB < j->m ? end * GEMM_MB : j->m;            \
        scale_rows_##SUFFIX(j, i0, i1);                                                            \
        /* cached blocks: no heap traffic per step */                                              \
        T *pa = tfc_block_alloc(PACK_BYTES), *pb = pa ? pa + GEMM_MB * GEMM_KB : NULL;             \
        if (!pa) {                                                                                 \
            naive_rows_##SUFFIX(j, i0, i1); /* same sums, same order, only slower */               \
            return;                                                                                \
        }                                                                                          \
        for (int64_t i = i0; i < i1; i += GEMM_MB)                                                 \
            band_##SUFFIX(j, i, i + GEMM_MB < i1 ? i + GEMM_MB : i1, pa, pb);                      \
        tfc_block_free(pa, PACK_BYTES);                                                            \
    }
GEMM_PORTABLE(float, f)
GEMM_PORTABLE(double, d)

void tfc_gemm(tfc_threadpool *pool, tfc_dtype dt, int ta, int tb, int64_t m, int64_t n, int64_t k,
              const void *a, const void *b, double beta, void *c) {
    gemm_job j = {ta, tb, m, n, k, a, b, beta, c};
    if (m <= 0 || n <= 0) return;
    int64_t bands = (m + GEMM_MB - 1) / GEMM_MB;
    /* a band is worth a thread from about a million multiply-adds */
    int64_t per_band = GEMM_MB * n * (k > 0 ? k : 1);
    int64_t grain = per_band >= ((int64_t)1 << 20) ? 1 : 1 + ((int64_t)1 << 20) / per_band;
    tfc_parallel_for(pool, bands, grain, dt == TFC_FLOAT ? bands_f : bands_d, &j);
}

/* (the inference-only build's: the product, then the epilogue over it) */
void tfc_gemm_then(tfc_threadpool *pool, tfc_dtype dt, int ta, int tb, int64_t m, int64_t n,
                   int64_t k, const void *a, const void *b, void *c, const tfc_epilogue *ep) {
    tfc_gemm(pool, dt, ta, tb, m, n, k, a, b, 0.0, c);
    tfc_epilogue_run(pool, ep, dt, c, m, n);
}
