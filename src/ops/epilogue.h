/* What a product or a convolution does to each output once it is summed:
 * the plan's fusions of a BiasAdd, and of a Relu after it, into the MatMul
 * or Conv2D before them (src/ops/bias_fused.c). Each output gets the two
 * ops' own arithmetic, so the values are the unfused ones bit for bit. */
#ifndef TFC_OPS_EPILOGUE_H
#define TFC_OPS_EPILOGUE_H

#include "core/threadpool.h"
#include "tfc.h"

typedef struct tfc_epilogue {
    const void *bias; /* one per column of the output (its last dim); NULL: none */
    int relu;         /* then x > 0 ? x : 0, as Relu (NaN and -0 give +0) */
} tfc_epilogue;

/* C[r, c0 + j] for r < rows, j < cols (C's rows ldc elements apart; c at
 * C[0, 0]), float32 or float64. */
void tfc_epilogue_apply(const tfc_epilogue *e, tfc_dtype dt, void *c, int64_t ldc, int64_t rows,
                        int64_t c0, int64_t cols);

/* The whole of an m x n output, over the pool. */
void tfc_epilogue_run(tfc_threadpool *pool, const tfc_epilogue *e, tfc_dtype dt, void *c, int64_t m,
                      int64_t n);

#endif
