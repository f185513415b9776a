/* 16-bit floats: IEEE 754 binary16 ("half", TensorFlow's DT_HALF) and
 * bfloat16 (float32's upper 16 bits, DT_BFLOAT16), held as their bits in a
 * uint16_t. Conversions from float round to nearest, ties to even, as
 * TensorFlow's (Eigen's) do; half keeps subnormals, infinities and NaN. */
#ifndef TFC_CORE_HALF_H
#define TFC_CORE_HALF_H

#include <stdint.h>
#include <string.h>

uint16_t tfc_float_to_half_bits(float f);
float tfc_half_bits_to_float(uint16_t h);

/* bfloat16 is float32 cut short: inline, it sits in inner loops. */
static inline float tfc_bfloat16_bits_to_float(uint16_t b) {
    uint32_t x = (uint32_t)b << 16;
    float f;
    memcpy(&f, &x, sizeof f);
    return f;
}

static inline uint16_t tfc_float_to_bfloat16_bits(float f) {
    uint32_t x;
    memcpy(&x, &f, sizeof x);
    if ((x & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((x >> 16) | 0x40); /* a quiet NaN */
    /* add just under half a unit of the kept part, plus one when it is odd:
     * ties go to even, and a carry rounds up into the exponent (to inf) */
    x += 0x7fffu + ((x >> 16) & 1u);
    return (uint16_t)(x >> 16);
}

/* n values at once (the F16C instructions where the CPU has them). */
void tfc_half_to_float_n(const uint16_t *h, float *f, int64_t n);
void tfc_float_to_half_n(const float *f, uint16_t *h, int64_t n);
/* out[i] = in[i] rounded to bfloat16 and widened back to float32 (the
 * operands of bfloat16 products); in and out may be the same. */
void tfc_round_to_bfloat16_n(const float *in, float *out, int64_t n);

#endif
