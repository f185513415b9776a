/* Row-major float32/float64 GEMM: large float products through tfc's
 * register tiles (gemm_tiles.h; oneDNN's sgemm on CPUs without AVX-512),
 * float products with a side of at most 16 through tfc's skinny kernels
 * (gemm_skinny.h), small ones and float64 through OpenBLAS; split over a
 * thread pool in a way that never changes the result. */
#ifndef TFC_OPS_GEMM_H
#define TFC_OPS_GEMM_H

#include "core/threadpool.h"
#include "ops/epilogue.h"
#include "tfc.h"

/* C[m,n] = op(A)[m,k] * op(B)[k,n] + beta * C, op transposing when ta / tb
 * say so. C is cut along its longer side, or k along its length when k is
 * far longer than C's sides (partial products, summed in order), into
 * blocks whose number depends only on m, n and k, one single-threaded
 * library call each, spread over the pool: the libraries choose their
 * kernel (and so their order of summation) by the size of a call, so the
 * same cut gives bit-identical results at any thread count. */
void tfc_gemm(tfc_threadpool *pool, tfc_dtype dt, int ta, int tb, int64_t m, int64_t n, int64_t k,
              const void *a, const void *b, double beta, void *c);

/* C = op(A) op(B) as tfc_gemm with beta 0, then ep (a bias, a relu) on
 * each of C's blocks as soon as it is summed, while it is in the cache of
 * the thread that summed it (ep NULL: tfc_gemm). */
void tfc_gemm_then(tfc_threadpool *pool, tfc_dtype dt, int ta, int tb, int64_t m, int64_t n,
                   int64_t k, const void *a, const void *b, void *c, const tfc_epilogue *ep);

/* C[m,n] += alpha op(A) op(B) in float32 (A, B and C float arrays), C the
 * whole of its buffer:
 * done, returning 1, when the product of that shape goes to the skinny
 * kernels, or to the tiles or oneDNN in blocks of rows or columns (not cut
 * along k), and the kernels compute it as fl(C + fl(alpha * product)),
 * with the product's bits those of tfc_gemm's: the skinny kernels and the
 * tiles do by construction (the tiles for k of at most GEMM_TILES_KC),
 * oneDNN's for k up to the longest that checks on random products of
 * growing k confirm at the first call (it sums long k in blocks). Then
 * with alpha = -lr it equals tfc_gemm's product followed by var -= grad *
 * lr, bit for bit. Otherwise computes nothing and returns 0. */
int tfc_gemm_update(tfc_threadpool *pool, int ta, int tb, int64_t m, int64_t n, int64_t k,
                    const void *a, const void *b, float alpha, void *c);

#endif
