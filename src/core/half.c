/* IEEE 754 half <-> float32 (half.h): a portable bit-level conversion, and
 * for arrays the x86 F16C instructions when the compiler can target them
 * and the CPU has them (checked once at run time), which give the same bits
 * (round to nearest even). */
#include "core/half.h"

#include <stdatomic.h>

uint16_t tfc_float_to_half_bits(float f) {
    uint32_t x;
    memcpy(&x, &f, sizeof x);
    uint32_t sign = (x >> 16) & 0x8000u, ax = x & 0x7fffffffu;
    if (ax >= 0x7f800000u) /* inf, or NaN kept quiet with its payload's top bits */
        return (uint16_t)(sign | 0x7c00u | (ax > 0x7f800000u ? 0x200u | ((ax >> 13) & 0x3ffu) : 0));
    if (ax >= 0x477ff000u) return (uint16_t)(sign | 0x7c00u); /* >= 65520 rounds to inf */
    if (ax < 0x38800000u) {
        /* below 2^-14: a subnormal half, in units of 2^-24; 2^-25 and less
         * round to zero (2^-25 itself is a tie, to the even 0) */
        if (ax <= 0x33000000u) return (uint16_t)sign;
        uint32_t e = ax >> 23, m = (ax & 0x7fffffu) | 0x800000u;
        int shift = 126 - (int)e; /* 14..24 */
        uint32_t r = m >> shift, rem = m & ((1u << shift) - 1), halfway = 1u << (shift - 1);
        if (rem > halfway || (rem == halfway && (r & 1u))) r++;
        return (uint16_t)(sign | r); /* r = 0x400 is the smallest normal: right */
    }
    /* normal: rebias the exponent (127 -> 15), keep 10 mantissa bits */
    uint32_t r = (ax >> 13) - ((127u - 15u) << 10), rem = ax & 0x1fffu;
    if (rem > 0x1000u || (rem == 0x1000u && (r & 1u))) r++; /* a carry moves up the exponent */
    return (uint16_t)(sign | r);
}

float tfc_half_bits_to_float(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16, e = (h >> 10) & 0x1fu, m = h & 0x3ffu, x;
    if (e == 0x1f) {
        x = sign | 0x7f800000u | (m << 13);
    } else if (e) {
        x = sign | ((e + 112u) << 23) | (m << 13);
    } else if (!m) {
        x = sign;
    } else { /* subnormal m * 2^-24: normalize */
        uint32_t sh = 0;
        while (!(m & 0x400u)) {
            m <<= 1;
            sh++;
        }
        x = sign | ((113u - sh) << 23) | ((m & 0x3ffu) << 13);
    }
    float f;
    memcpy(&f, &x, sizeof f);
    return f;
}

#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__)
#include <cpuid.h>
#include <immintrin.h>
#define TFC_HAVE_F16C_PATH 1

__attribute__((target("avx,f16c"))) static void half_to_float_f16c(const uint16_t *h, float *f,
                                                                   int64_t n) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(f + i, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(h + i))));
    for (; i < n; i++) f[i] = tfc_half_bits_to_float(h[i]);
}

__attribute__((target("avx,f16c"))) static void float_to_half_f16c(const float *f, uint16_t *h,
                                                                   int64_t n) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm_storeu_si128((__m128i *)(h + i),
                         _mm256_cvtps_ph(_mm256_loadu_ps(f + i), _MM_FROUND_TO_NEAREST_INT));
    for (; i < n; i++) h[i] = tfc_float_to_half_bits(f[i]);
}

static int have_f16c(void) {
    static atomic_int known = -1; /* -1: not asked yet (racing askers agree) */
    int k = atomic_load_explicit(&known, memory_order_relaxed);
    if (k < 0) {
        /* CPUID.1:ECX: OSXSAVE (27), AVX (28), F16C (29); and XCR0 says
         * the OS saves the XMM and YMM registers (clang's
         * __builtin_cpu_supports does not know "f16c") */
        unsigned a, b, c, d, lo, hi;
        k = __get_cpuid(1, &a, &b, &c, &d) && (c & (7u << 27)) == (7u << 27);
        if (k) {
            __asm__("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
            k = (lo & 6u) == 6u;
        }
        atomic_store_explicit(&known, k, memory_order_relaxed);
    }
    return k;
}
#endif

void tfc_half_to_float_n(const uint16_t *h, float *f, int64_t n) {
#ifdef TFC_HAVE_F16C_PATH
    if (have_f16c()) {
        half_to_float_f16c(h, f, n);
        return;
    }
#endif
    for (int64_t i = 0; i < n; i++) f[i] = tfc_half_bits_to_float(h[i]);
}

void tfc_float_to_half_n(const float *f, uint16_t *h, int64_t n) {
#ifdef TFC_HAVE_F16C_PATH
    if (have_f16c()) {
        float_to_half_f16c(f, h, n);
        return;
    }
#endif
    for (int64_t i = 0; i < n; i++) h[i] = tfc_float_to_half_bits(f[i]);
}

/* Branch-free, so the compiler vectorizes it: the same rounding as
 * tfc_float_to_bfloat16_bits, NaN made quiet. */
void tfc_round_to_bfloat16_n(const float *in, float *out, int64_t n) {
    for (int64_t i = 0; i < n; i++) {
        uint32_t x;
        memcpy(&x, &in[i], sizeof x);
        uint32_t r = (x + 0x7fffu + ((x >> 16) & 1u)) & 0xffff0000u;
        uint32_t q = (x | 0x00400000u) & 0xffff0000u;
        r = (x & 0x7fffffffu) > 0x7f800000u ? q : r;
        memcpy(&out[i], &r, sizeof r);
    }
}
