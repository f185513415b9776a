/* Turning a block of 32-bit elements (floats, int32): 16 x 16 pieces in
 * AVX-512 registers, 8 x 8 in AVX2 ones, where the CPU has them, element
 * by element at the edges and elsewhere. A Transpose's tiles (the LSTM's
 * 400 x 800 kernels took 0.5 ms element by element) go through it. */
#ifndef TFC_CORE_TRANSPOSE32_H
#define TFC_CORE_TRANSPOSE32_H

#include <stdint.h>

/* dst[i * ldd + j] = src[j * lds + i] for i < rows, j < cols */
void tfc_transpose32(uint32_t *dst, int64_t ldd, const uint32_t *src, int64_t lds, int64_t rows,
                     int64_t cols);

/* The same in pieces of `lanes`: 16 (AVX-512), 8 (AVX2) or 1 (element by
 * element); -1 (nothing written) when the CPU lacks the vectors. For tests. */
int tfc_transpose32_in(uint32_t *dst, int64_t ldd, const uint32_t *src, int64_t lds,
                       int64_t rows, int64_t cols, int lanes);

#endif
