/* The deterministic row-block split of a GEMM (see gemm.h). */
#include "ops/gemm.h"

#include <cblas.h>
#include <omp.h>
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
    const char *a, *b;
    double beta;
    char *c;
} gemm_job;

/* Float products of at least this many multiply-adds go to oneDNN's sgemm,
 * whose JIT kernels use the CPU's widest vectors (AVX-512 where there is
 * one: twice OpenBLAS's Haswell kernels on this machine); smaller ones to
 * OpenBLAS, whose call costs 0.05 us against oneDNN's 0.2 us. */
#define GEMM_DNNL_WORK ((int64_t)32 * 32 * 32)

/* oneDNN runs on OpenMP: each thread that calls it asks for a team of one,
 * so that the pool's threads are the only ones (and results never depend
 * on how many there are). */
static void dnnl_sgemm_single_threaded(char ta, char tb, int m, int n, int k, const float *a,
                                       int lda, const float *b, int ldb, float beta, float *c,
                                       int ldc) {
    static _Thread_local int team_of_one;
    if (!team_of_one) {
        omp_set_num_threads(1);
        team_of_one = 1;
    }
    dnnl_sgemm(ta, tb, m, n, k, 1.0f, a, lda, b, ldb, beta, c, ldc);
}

/* C[r0:r1, c0:c1] of the product: one single-threaded library call */
static void gemm_block(const gemm_job *j, int64_t r0, int64_t r1, int64_t c0, int64_t c1) {
    size_t esz = tfc_dtype_size(j->dt);
    int lda = (int)(j->ta ? j->m : j->k), ldb = (int)(j->tb ? j->k : j->n);
    /* rows of op(A) are columns of a transposed A; columns of op(B) are rows of a transposed B */
    const char *a = j->a + (size_t)(j->ta ? r0 : r0 * lda) * esz;
    const char *b = j->b + (size_t)(j->tb ? c0 * ldb : c0) * esz;
    char *c = j->c + (size_t)(r0 * j->n + c0) * esz;
    enum CBLAS_TRANSPOSE opa = j->ta ? CblasTrans : CblasNoTrans;
    enum CBLAS_TRANSPOSE opb = j->tb ? CblasTrans : CblasNoTrans;
    int m = (int)(r1 - r0), n = (int)(c1 - c0), k = (int)j->k, ldc = (int)j->n;
    if (j->dt == TFC_FLOAT && (int64_t)m * n * k >= GEMM_DNNL_WORK)
        dnnl_sgemm_single_threaded(j->ta ? 'T' : 'N', j->tb ? 'T' : 'N', m, n, k, (const float *)a,
                                   lda, (const float *)b, ldb, (float)j->beta, (float *)c, ldc);
    else if (j->dt == TFC_FLOAT)
        cblas_sgemm(CblasRowMajor, opa, opb, m, n, k, 1.0f, (const float *)a, lda, (const float *)b,
                    ldb, (float)j->beta, (float *)c, ldc);
    else
        cblas_dgemm(CblasRowMajor, opa, opb, m, n, k, 1.0, (const double *)a, lda,
                    (const double *)b, ldb, j->beta, (double *)c, ldc);
}

/* one call per block, even when one thread gets several */
static void gemm_blocks(void *arg, int64_t begin, int64_t end) {
    const gemm_job *j = arg;
    int64_t len = j->by_cols ? j->n : j->m;
    for (int64_t blk = begin; blk < end; blk++) {
        int64_t s0 = blk * j->block, s1 = s0 + j->block < len ? s0 + j->block : len;
        if (j->by_cols)
            gemm_block(j, 0, j->m, s0, s1);
        else
            gemm_block(j, s0, s1, 0, j->n);
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

void tfc_gemm(tfc_threadpool *pool, tfc_dtype dt, int ta, int tb, int64_t m, int64_t n, int64_t k,
              const void *a, const void *b, double beta, void *c) {
    /* cut the longer side of C: the copies of the other operand stay fewer */
    int by_cols = n > m;
    gemm_job j = {dt, ta, tb, by_cols, m, n, k, 0, a, b, beta, c};
    int64_t len = by_cols ? n : m, blocks = block_count(len, by_cols ? m : n, k);
    if (blocks == 1) {
        gemm_block(&j, 0, m, 0, n);
        return;
    }
    j.block = (len + blocks - 1) / blocks;
    tfc_parallel_for(pool, (len + j.block - 1) / j.block, 1, gemm_blocks, &j);
}
