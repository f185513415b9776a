/* One thread's float32 product through tfc's register tiles (tiles.h):
 * the path of tfc_gemm's blocks (gemm.c) where the CPU has AVX-512, in
 * place of oneDNN's sgemm, which takes its packing buffer from malloc on
 * every call. */
#ifndef TFC_OPS_GEMM_TILES_H
#define TFC_OPS_GEMM_TILES_H

#include "ops/tiles.h"

#include <stdint.h>

/* Terms a tile sums before it stores C and goes on from there (k is cut
 * into blocks of this many: B's block then stays in the core's L2; 1024
 * rather than 512: the MLP's first layer, k = 784, in one block, 1% faster). */
#define GEMM_TILES_KC 1024

/* C[m, n] (row stride ldc) from op(A)[m, k] (row stride lda) and
 * op(B)[k, n] (row stride ldb), op transposing where ta / tb say so, by
 * `mode` with `scale` (tiles.h). k is summed in blocks, the later ones
 * accumulating into C (the same bits as one block): TILE_UPDATE, which
 * scales the whole sum, needs k <= GEMM_TILES_KC, in one block.
 * Returns 1, or 0 (nothing computed) when the tiles are off, the mode
 * cannot be done, or no scratch memory was had for transposed B's copy. */
int tfc_gemm_tiles(int ta, int tb, int64_t m, int64_t n, int64_t k, const float *a, int64_t lda,
                   const float *b, int64_t ldb, float *c, int64_t ldc, tfc_tile_mode mode,
                   float scale);
/* The same, then each element of C gets bias[j] added (bias NULL: none)
 * and, where relu, becomes x > 0 ? x : 0, once its sum is whole (in the
 * tile's registers: a fused BiasAdd and Relu, their values bit for bit).
 * Not with TILE_UPDATE (returns 0). */
int tfc_gemm_tiles_then(int ta, int tb, int64_t m, int64_t n, int64_t k, const float *a,
                        int64_t lda, const float *b, int64_t ldb, float *c, int64_t ldc,
                        tfc_tile_mode mode, float scale, const float *bias, int relu);

#endif
