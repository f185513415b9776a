/* Philox4x32-10, the counter-based random generator TensorFlow uses: the
 * same (key, counter) always gives the same four 32-bit words, so random
 * kernels are reproducible and can be split across threads. */
#ifndef TFC_CORE_PHILOX_H
#define TFC_CORE_PHILOX_H

#include <stdint.h>

typedef struct tfc_philox {
    uint32_t key[2];
    uint32_t ctr[4];
} tfc_philox;

void tfc_philox_init(tfc_philox *p, uint64_t seed, uint64_t stream);
/* Jumps the counter to block `n` of the stream (each block is 4 words). */
void tfc_philox_seek(tfc_philox *p, uint64_t block);
/* Next 4 words; advances the counter. */
void tfc_philox_next(tfc_philox *p, uint32_t out[4]);
/* Blocks first .. first + count - 1 of p's stream (p's counter is not
 * used or moved) as uniform floats in [0, 1): out[4 i + w] is word w of
 * block first + i through tfc_u32_to_float01, the same values as
 * tfc_philox_next block by block, many blocks at once in vector lanes. */
void tfc_philox_uniform_floats(const tfc_philox *p, uint64_t first, int64_t count, float *out);
/* The same with `lanes` blocks at once: 16 (AVX-512), 8 (AVX2) or 1; -1
 * (nothing written) when the CPU has no such vectors. For tests. */
int tfc_philox_uniform_floats_in(const tfc_philox *p, uint64_t first, int64_t count, float *out,
                                 int lanes);
/* Uniform floats/doubles in [0, 1). */
float tfc_u32_to_float01(uint32_t x);
double tfc_u64_to_double01(uint32_t hi, uint32_t lo);

#endif
