/* Float32 products with one side of at most SKINNY_MAX: a classifier's last
 * layer (100x784 by 784x10) and its weight's gradient. The libraries block for
 * wide products and run these at under half the FMA limit; here each case
 * has a register tile of its own (AVX2 + FMA, or AVX-512). C's rows (or
 * row blocks) are spread over the pool, and each element of C is summed in
 * one fixed order whatever the split: the same bits at any thread count. */
#ifndef TFC_OPS_GEMM_SKINNY_H
#define TFC_OPS_GEMM_SKINNY_H

#include "core/threadpool.h"

#include <stdint.h>

#define SKINNY_MAX 16

/* C[m,n] = op(A)[m,k] op(B)[k,n] + beta C (row-major, op transposing where
 * ta / tb say so) when the shape is a skinny case and the CPU has AVX2 and
 * FMA: returns 1. Otherwise computes nothing and returns 0. The cases: n <=
 * SKINNY_MAX with op(A) = A (a layer's output; k >= 32) or A transposed
 * (its weight's gradient; m >= 32), with m n k >= 2^15. TFC_GEMM_SKINNY=0
 * in the environment turns it off (for benchmarks against the libraries). */
int tfc_gemm_skinny(tfc_threadpool *pool, int ta, int tb, int64_t m, int64_t n, int64_t k,
                    const float *a, const float *b, float beta, float *c);

/* C += alpha op(A) op(B), each element's product rounded to float, then
 * scaled and added (the bits of the product followed by an update C - lr
 * grad, alpha = -lr): tfc_gemm_skinny's cases, returning 1; otherwise 0,
 * nothing done. */
int tfc_gemm_skinny_update(tfc_threadpool *pool, int ta, int tb, int64_t m, int64_t n, int64_t k,
                           const float *a, const float *b, float alpha, float *c);

/* 1 when tfc_gemm_skinny would take a product of this shape. */
int tfc_gemm_skinny_takes(int ta, int64_t m, int64_t n, int64_t k);

/* Which tiles the products use: 16 (AVX-512), 8 (AVX2 + FMA) or 0 (none),
 * at most what the CPU has; -1 goes back to what the first product
 * decides (the widest the CPU has; TFC_GEMM_SKINNY=avx2 in the
 * environment asks for the AVX2 tiles). Returns the lanes now in use, or
 * -1 (nothing changed) for a width the CPU lacks. For tests and
 * benchmarks: not while products run. */
int tfc_gemm_skinny_use_lanes(int lanes);

#endif
