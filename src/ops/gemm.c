/* The deterministic split of a GEMM into single-threaded library calls (see gemm.h). */
#include "ops/gemm.h"
#include "ops/gemm_skinny.h"
#include "ops/gemm_tiles.h"

#include "core/buffer_pool.h"
#include "core/vector_clones.h"

#include <cblas.h>
#include <omp.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <oneapi/dnnl/dnnl.h>

/* Multiply-adds a block must hold to be worth a hand-off. Each call packs
 * the whole of the other operand again, so blocks are kept long along the
 * cut dimension: 512 rows or columns where there are enough (about 3% over
 * one call on one thread), 128 at the least. */
#define GEMM_BLOCK_WORK ((int64_t)1 << 20)
#define GEMM_LONG_BLOCK 512
#define GEMM_SHORT_BLOCK 128

typedef struct gemm_job {
    tfc_dtype dt;
    int ta, tb;
    int by_cols; /* blocks are column ranges of C rather than row ranges */
    int64_t m, n, k, block;
    int64_t unit, units; /* the tiles' blocks: whole tile widths (or row groups), and their count */
    const char *a, *b;
    double alpha, beta;
    char *c;
    char *partial; /* k-cut products: one m x n product per block of k */
    const tfc_epilogue *ep; /* tfc_gemm_then's, on each block once summed (NULL: none) */
} gemm_job;

/* Float products of at least this many multiply-adds go to tfc's register
 * tiles (gemm_tiles.h) where the CPU has AVX-512, else to oneDNN's
 * sgemm, whose JIT kernels use the CPU's widest vectors (twice OpenBLAS's
 * Haswell kernels on Zen 4) but which takes its packing buffer from malloc
 * on every call; smaller ones to OpenBLAS, whose call costs 0.05 us. */
#define GEMM_LARGE_WORK ((int64_t)32 * 32 * 32)

/* oneDNN runs on OpenMP: each call asks for a team of one, so that the
 * pool's threads are the only ones (and results never depend on how many
 * there are). Pool threads ask once, at their start; on any other thread
 * (the caller of a run) the thread's own OpenMP setting is put back after
 * the call, for the user's parallel regions. */
static void dnnl_sgemm_single_threaded(char ta, char tb, int m, int n, int k, float alpha,
                                       const float *a, int lda, const float *b, int ldb,
                                       float beta, float *c, int ldc) {
    int threads = omp_get_max_threads();
    if (threads != 1) omp_set_num_threads(1);
    dnnl_sgemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    if (threads != 1) omp_set_num_threads(threads);
}

/* C'[r0:r1, c0:c1] = op(A)[r0:r1, k0:k1] op(B)[k0:k1, c0:c1] + beta C', one
 * single-threaded library call; C' is c (row stride ldc) at row r0, column c0 */
static void gemm_block(const gemm_job *j, int64_t r0, int64_t r1, int64_t c0, int64_t c1,
                       int64_t k0, int64_t k1, char *c, int64_t ldc, double beta,
                       const tfc_epilogue *ep) {
    size_t esz = tfc_dtype_size(j->dt);
    int lda = (int)(j->ta ? j->m : j->k), ldb = (int)(j->tb ? j->k : j->n);
    /* rows of op(A) are columns of a transposed A; columns of op(B) are rows of a transposed B */
    const char *a = j->a + (size_t)(j->ta ? k0 * lda + r0 : r0 * lda + k0) * esz;
    const char *b = j->b + (size_t)(j->tb ? c0 * ldb + k0 : k0 * ldb + c0) * esz;
    c += (size_t)(r0 * ldc + c0) * esz;
    enum CBLAS_TRANSPOSE opa = j->ta ? CblasTrans : CblasNoTrans;
    enum CBLAS_TRANSPOSE opb = j->tb ? CblasTrans : CblasNoTrans;
    int m = (int)(r1 - r0), n = (int)(c1 - c0), k = (int)(k1 - k0);
    /* alpha is not 1 only in tfc_gemm_update: C + alpha op(A) op(B) */
    tfc_tile_mode mode = j->alpha != 1.0 ? TILE_UPDATE : beta != 0.0 ? TILE_BETA : TILE_SET;
    float scale = (float)(j->alpha != 1.0 ? j->alpha : beta);
    /* a fused bias and relu: in the tiles' registers, else on the block after */
    const float *bias = ep && ep->bias ? (const float *)ep->bias + c0 : NULL;
    if (j->dt == TFC_FLOAT && (int64_t)m * n * k >= GEMM_LARGE_WORK &&
        tfc_gemm_tiles_then(j->ta, j->tb, m, n, k, (const float *)a, lda, (const float *)b, ldb,
                            (float *)c, ldc, mode, scale, bias, ep && ep->relu))
        return;
    if (j->dt == TFC_FLOAT && (int64_t)m * n * k >= GEMM_LARGE_WORK)
        dnnl_sgemm_single_threaded(j->ta ? 'T' : 'N', j->tb ? 'T' : 'N', m, n, k, (float)j->alpha,
                                   (const float *)a, lda, (const float *)b, ldb, (float)beta,
                                   (float *)c, (int)ldc);
    else if (j->dt == TFC_FLOAT)
        cblas_sgemm(CblasRowMajor, opa, opb, m, n, k, (float)j->alpha, (const float *)a, lda,
                    (const float *)b, ldb, (float)beta, (float *)c, (int)ldc);
    else
        cblas_dgemm(CblasRowMajor, opa, opb, m, n, k, j->alpha, (const double *)a, lda,
                    (const double *)b, ldb, beta, (double *)c, (int)ldc);
    tfc_epilogue_apply(ep, j->dt, c - (size_t)c0 * esz, ldc, m, c0, n);
}

/* one call per block, even when one thread gets several */
/* Where block blk starts along the cut side of length len: blocks of j->block,
 * or, for the tiles, blocks of whole units (tile widths or row groups),
 * their numbers differing by at most one, so that no tile is cut short
 * but at the end (a 10000-wide product in 12 blocks of 834 columns left a
 * tile of 2 columns in each). */
static int64_t block_start(const gemm_job *j, int64_t len, int64_t blk) {
    if (j->unit <= 1) return blk * j->block < len ? blk * j->block : len;
    int64_t blocks = (len + j->block - 1) / j->block, q = j->units / blocks, r = j->units % blocks;
    int64_t at = j->unit * (blk * q + (blk < r ? blk : r));
    return at < len ? at : len;
}

static void gemm_blocks(void *arg, int64_t begin, int64_t end) {
    const gemm_job *j = arg;
    int64_t len = j->by_cols ? j->n : j->m;
    for (int64_t blk = begin; blk < end; blk++) {
        int64_t s0 = block_start(j, len, blk), s1 = block_start(j, len, blk + 1);
        if (s0 >= s1) continue;
        if (j->by_cols)
            gemm_block(j, 0, j->m, s0, s1, 0, j->k, j->c, j->n, j->beta, j->ep);
        else
            gemm_block(j, s0, s1, 0, j->n, 0, j->k, j->c, j->n, j->beta, j->ep);
    }
}

/* The most of 12, 6, 4, 2 blocks (even over 1, 2, 3, 4 or 6 threads) that
 * stay long along the cut dimension of length len; else 2 short ones; else
 * 1. other * k is the work per row or column of the cut. */
static int64_t block_count(int64_t len, int64_t other, int64_t k) {
    static const int64_t counts[] = {12, 6, 4, 2};
    if ((len / 2) * other * k < GEMM_BLOCK_WORK) return 1;
    for (int i = 0; i < 4; i++)
        if (len / counts[i] >= GEMM_LONG_BLOCK) return counts[i];
    return len / 2 >= GEMM_SHORT_BLOCK ? 2 : 1;
}

/* Products with a long inner dimension next to a small C (weight
 * gradients, where k runs over the batch or batch x height x width) are
 * cut along k instead: each block of k gives a partial product, and the
 * partials are summed in block order. Cutting C would pack the whole long
 * operand again for every block. Blocks of k hold at least
 * GEMM_K_BLOCK_MIN and twice C's longer side. */
#define GEMM_K_BLOCK_MIN 1024

static int64_t k_block_count(int64_t m, int64_t n, int64_t k) {
    static const int64_t counts[] = {12, 6, 4, 2};
    int64_t side = m > n ? m : n, least = 2 * side;
    if (least < GEMM_K_BLOCK_MIN) least = GEMM_K_BLOCK_MIN;
    if (m * n * k < 2 * GEMM_BLOCK_WORK) return 1;
    for (int i = 0; i < 4; i++)
        if (k / counts[i] >= least) return counts[i];
    return 1;
}

static void gemm_k_blocks(void *arg, int64_t begin, int64_t end) {
    const gemm_job *j = arg;
    size_t product = (size_t)(j->m * j->n) * tfc_dtype_size(j->dt);
    for (int64_t blk = begin; blk < end; blk++) {
        int64_t k0 = blk * j->block, k1 = k0 + j->block < j->k ? k0 + j->block : j->k;
        gemm_block(j, 0, j->m, 0, j->n, k0, k1, j->partial + blk * product, j->n, 0.0, NULL);
    }
}

/* rows [begin, end) of C = beta C + the partials, added in block order */
#define GEMM_K_SUM(NAME, T)                                                                        \
    TFC_VECTOR_CLONES static void NAME(void *arg, int64_t begin, int64_t end) {                    \
        const gemm_job *j = arg;                                                                   \
        int64_t nblocks = (j->k + j->block - 1) / j->block, size = j->m * j->n;                    \
        int64_t lo = begin * j->n, hi = end * j->n;                                                \
        const T *restrict p = (const T *)j->partial;                                               \
        T *restrict c = (T *)j->c, beta = (T)j->beta;                                              \
        /* 0 * a NaN in C would stay NaN: beta 0 ignores C */                                      \
        if (beta != 0)                                                                             \
            for (int64_t i = lo; i < hi; i++) c[i] = beta * c[i] + p[i];                           \
        else                                                                                       \
            for (int64_t i = lo; i < hi; i++) c[i] = p[i];                                         \
        /* block after block: each element's sum in the same order, in a loop that vectorizes */   \
        for (int64_t b = 1; b < nblocks; b++)                                                      \
            for (int64_t i = lo; i < hi; i++) c[i] += p[b * size + i];                             \
    }
GEMM_K_SUM(gemm_k_sum_f, float)
GEMM_K_SUM(gemm_k_sum_d, double)

static int gemm_cut_k(tfc_threadpool *pool, gemm_job *j, int64_t blocks) {
    size_t bytes = (size_t)(blocks * j->m * j->n) * tfc_dtype_size(j->dt);
    j->partial = tfc_block_alloc(bytes); /* cached: no heap traffic per step */
    if (!j->partial) return 0;
    j->block = (j->k + blocks - 1) / blocks;
    tfc_parallel_for(pool, (j->k + j->block - 1) / j->block, 1, gemm_k_blocks, j);
    tfc_parallel_for(pool, j->m, 1 + 16384 / j->n, j->dt == TFC_FLOAT ? gemm_k_sum_f : gemm_k_sum_d,
                     j);
    tfc_block_free(j->partial, bytes);
    return 1;
}

/* How many blocks C is cut into along its longer side (j->by_cols). */
static int64_t cut_blocks(const gemm_job *j) {
    return j->by_cols ? block_count(j->n, j->m, j->k) : block_count(j->m, j->n, j->k);
}

/* Sets j's cut of its side of length len into `blocks` blocks. */
static void cut_into(gemm_job *j, int64_t len, int64_t blocks) {
    j->block = (len + blocks - 1) / blocks;
    /* float products on the tiles: blocks of whole tiles */
    int64_t width = j->dt == TFC_FLOAT ? tfc_tile_width() : 0;
    j->unit = !width ? 1 : j->by_cols ? width : tfc_tile_rows((int)(j->n < width ? j->n : width));
    j->units = (len + j->unit - 1) / j->unit;
}

/* The fewest rows or columns a block of j's cut holds. */
static int64_t smallest_block(const gemm_job *j, int64_t len) {
    int64_t least = len, blocks = (len + j->block - 1) / j->block;
    for (int64_t b = 0; b < blocks; b++) {
        int64_t size = block_start(j, len, b + 1) - block_start(j, len, b);
        if (size > 0 && size < least) least = size;
    }
    return least;
}

/* Runs j over the pool in `blocks` blocks: one call, or a block a chunk. */
static void gemm_run(tfc_threadpool *pool, gemm_job *j, int64_t blocks) {
    int64_t len = j->by_cols ? j->n : j->m;
    if (blocks == 1) {
        gemm_block(j, 0, j->m, 0, j->n, 0, j->k, j->c, j->n, j->beta, j->ep);
        return;
    }
    cut_into(j, len, blocks);
    tfc_parallel_for(pool, (len + j->block - 1) / j->block, 1, gemm_blocks, j);
}

/* tfc_gemm, then ep on each block of C as it is done (ep NULL: none) */
static void gemm_with(tfc_threadpool *pool, tfc_dtype dt, int ta, int tb, int64_t m, int64_t n,
                      int64_t k, const void *a, const void *b, double beta, void *c,
                      const tfc_epilogue *ep) {
    if (dt == TFC_FLOAT && tfc_gemm_skinny(pool, ta, tb, m, n, k, a, b, (float)beta, c)) {
        tfc_epilogue_run(pool, ep, dt, c, m, n);
        return;
    }
    /* cut the longer side of C: the copies of the other operand stay fewer */
    gemm_job j = {dt, ta, tb, n > m, m, n, k, 0, 0, 0, a, b, 1.0, beta, c, NULL, ep};
    int64_t kblocks = k_block_count(m, n, k);
    /* (were scratch memory to run out, one call gives the product) */
    if (kblocks > 1 && gemm_cut_k(pool, &j, kblocks)) {
        tfc_epilogue_run(pool, ep, dt, c, m, n);
        return;
    }
    gemm_run(pool, &j, cut_blocks(&j));
}

void tfc_gemm(tfc_threadpool *pool, tfc_dtype dt, int ta, int tb, int64_t m, int64_t n, int64_t k,
              const void *a, const void *b, double beta, void *c) {
    gemm_with(pool, dt, ta, tb, m, n, k, a, b, beta, c, NULL);
}

void tfc_gemm_then(tfc_threadpool *pool, tfc_dtype dt, int ta, int tb, int64_t m, int64_t n,
                   int64_t k, const void *a, const void *b, void *c, const tfc_epilogue *ep) {
    gemm_with(pool, dt, ta, tb, m, n, k, a, b, 0.0, c, ep);
}

/* A deterministic pseudo-random float in [-1, 1) */
static float probe_value(uint32_t *state) {
    *state = *state * 1664525u + 1013904223u;
    return (float)(int32_t)*state / 2147483648.0f;
}

/* Whether oneDNN's sgemm, asked for C + alpha A B, gives C - fl(fl(A B) *
 * -alpha) (the product scaled, rounded, then added) for each form of A and
 * B: a random 48 x 40 x k product with two alphas (taken to stand for the
 * blocks tfc_gemm hands it: its blocking of k seen here depends on k and
 * the ISA, not on the block's sides). */
static int update_is_scaled_product(int k) {
    enum { M = 48, N = 40 };
    float *a = malloc(sizeof(float) * (size_t)(M * k + k * N + 3 * M * N));
    if (!a) return 0;
    float *b = a + M * k, *p = b + k * N, *c1 = p + M * N, *c2 = c1 + M * N;
    uint32_t state = 12345;
    for (int i = 0; i < M * k + k * N; i++) a[i] = probe_value(&state);
    int same = 1;
    static const float lrs[] = {0.1f, 0.37f};
    for (int form = 0; form < 4; form++)
        for (int l = 0; l < 2; l++) {
            char ta = form & 1 ? 'T' : 'N', tb = form & 2 ? 'T' : 'N';
            int lda = ta == 'T' ? M : k, ldb = tb == 'T' ? k : N;
            for (int i = 0; i < M * N; i++) c1[i] = c2[i] = probe_value(&state);
            dnnl_sgemm_single_threaded(ta, tb, M, N, k, 1.0f, a, lda, b, ldb, 0.0f, p, N);
            for (int i = 0; i < M * N; i++) c1[i] -= p[i] * lrs[l];
            dnnl_sgemm_single_threaded(ta, tb, M, N, k, -lrs[l], a, lda, b, ldb, 1.0f, c2, N);
            same &= memcmp(c1, c2, sizeof(float) * M * N) == 0;
        }
    free(a);
    return same;
}

/* The longest k for which oneDNN's update is the scaled product, from the
 * probes up to GEMM_TILES_KC: it sums k in blocks, adding each block's
 * scaled sum to C, which is not the same (Zen 4: up to 384 terms with its
 * AVX-512 kernels, 64 with its AVX2 ones); 0 when not even 64. */
static int longest_scaled_update(void) {
    static const int ks[] = {64, 128, 192, 256, 384, 512, 768, GEMM_TILES_KC};
    int longest = 0;
    for (size_t i = 0; i < sizeof ks / sizeof *ks && update_is_scaled_product(ks[i]); i++)
        longest = ks[i];
    return longest;
}

int tfc_gemm_update(tfc_threadpool *pool, int ta, int tb, int64_t m, int64_t n, int64_t k,
                    const void *a, const void *b, float alpha, void *c) {
    static atomic_int longest = -1;           /* -1: not yet; then longest_scaled_update() */
    if (m <= 0 || n <= 0 || k <= 0) return 0; /* (an empty product: nothing to cut) */
    if (tfc_gemm_skinny_takes(ta, m, n, k))
        return tfc_gemm_skinny_update(pool, ta, tb, m, n, k, a, b, alpha, c);
    if (k_block_count(m, n, k) > 1) return 0;
    /* tfc_gemm's cut, with alpha and beta = 1 */
    gemm_job j = {TFC_FLOAT, ta, tb, n > m, m, n, k, 0, 0, 0, a, b, alpha, 1.0, c, NULL, NULL};
    int64_t len = j.by_cols ? n : m, blocks = cut_blocks(&j);
    /* every block must go to the tiles or oneDNN, as tfc_gemm's would */
    cut_into(&j, len, blocks);
    int64_t least = smallest_block(&j, len);
    if ((j.by_cols ? m * least : least * n) * k < GEMM_LARGE_WORK) return 0;
    /* the tiles scale the product and add it to C, as the update does */
    if (k > GEMM_TILES_KC) return 0; /* (C would hold partial sums) */
    if (tfc_tile_width()) {
        gemm_run(pool, &j, blocks);
        return 1;
    }
    int most = atomic_load_explicit(&longest, memory_order_acquire);
    if (most < 0) {
        most = longest_scaled_update();
        atomic_store_explicit(&longest, most, memory_order_release);
    }
    if (k > most) return 0;
    gemm_run(pool, &j, blocks);
    return 1;
}
