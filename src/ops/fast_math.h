/* exp, sigmoid and tanh for float, written so that loops over them
 * vectorize (glibc's expf and tanhf are one call per element, which was
 * most of an LSTM's gate time). No branches and no float compares (a float
 * compare may trap, so GCC would not vectorize the loop): clamping is done
 * on the bits. A NaN stays NaN. Built without -ffp-contract (C11 mode), the
 * scalar and every vector clone give the same bits. */
#ifndef TFC_OPS_FAST_MATH_H
#define TFC_OPS_FAST_MATH_H

#include <stdint.h>
#include <string.h>

/* x with its magnitude cut to that of the float whose bits are max_bits;
 * infinities are cut too, NaNs are not */
static inline float tfc_clamp_magnitude(float x, uint32_t max_bits) {
    uint32_t b;
    memcpy(&b, &x, sizeof b);
    uint32_t mag = b & 0x7FFFFFFFu;
    uint32_t over = 0u - (uint32_t)(mag - (max_bits + 1u) <= 0x7F800000u - (max_bits + 1u));
    b = (b & ~over) | (((b & 0x80000000u) | max_bits) & over);
    memcpy(&x, &b, sizeof x);
    return x;
}

/* e^v, relative error about 1e-7 (as expf's) for |v| <= 87, and e^+-87
 * beyond: Cephes' expf, v = n ln 2 + r with |r| <= ln 2 / 2, a degree-7
 * polynomial for e^r, times 2^n built in the exponent bits. */
static inline float tfc_fast_expf(float v) {
    v = tfc_clamp_magnitude(v, 0x42AE0000u); /* 87 */
    /* 1.5 * 2^23 added rounds v / ln 2 to an integer n held in t's low bits */
    float t = v * 1.44269504088896341f + 12582912.0f;
    float fn = t - 12582912.0f;
    float r = v - fn * 0.693359375f;
    r = r - fn * -2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f;
    uint32_t bits;
    memcpy(&bits, &t, sizeof bits);
    bits = (bits - 0x4B400000u + 127u) << 23;
    float scale;
    memcpy(&scale, &bits, sizeof scale);
    return p * scale;
}

/* 1 / (1 + e^-x): below x = -87 it is 1.6e-38 rather than smaller */
static inline float tfc_fast_sigmoidf(float x) { return 1.0f / (1.0f + tfc_fast_expf(-x)); }

/* tanh as TensorFlow's float kernel (Eigen's) computes it: a 13/6-degree
 * rational function of x clamped to [-9, 9], within a few ulp of tanh
 * there, and +-1 (to float precision) outside. */
static inline float tfc_fast_tanhf(float x) {
    x = tfc_clamp_magnitude(x, 0x41100000u); /* 9 */
    float x2 = x * x;
    float p = -2.76076847742355e-16f;
    p = p * x2 + 2.00018790482477e-13f;
    p = p * x2 + -8.60467152213735e-11f;
    p = p * x2 + 5.12229709037114e-08f;
    p = p * x2 + 1.48572235717979e-05f;
    p = p * x2 + 6.37261928875436e-04f;
    p = p * x2 + 4.89352455891786e-03f;
    float q = 1.19825839466702e-06f;
    q = q * x2 + 1.18534705686654e-04f;
    q = q * x2 + 2.26843463243900e-03f;
    q = q * x2 + 4.89352518554385e-03f;
    return x * p / q;
}

#endif
