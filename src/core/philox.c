/* Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3"). */
#include "core/philox.h"

#include <stdatomic.h>
#include <string.h>

#define PHILOX_M0 0xD2511F53u
#define PHILOX_M1 0xCD9E8D57u
#define PHILOX_W0 0x9E3779B9u
#define PHILOX_W1 0xBB67AE85u

void tfc_philox_init(tfc_philox *p, uint64_t seed, uint64_t stream) {
    p->key[0] = (uint32_t)seed;
    p->key[1] = (uint32_t)(seed >> 32);
    p->ctr[0] = 0;
    p->ctr[1] = 0;
    p->ctr[2] = (uint32_t)stream;
    p->ctr[3] = (uint32_t)(stream >> 32);
}

void tfc_philox_seek(tfc_philox *p, uint64_t block) {
    p->ctr[0] = (uint32_t)block;
    p->ctr[1] = (uint32_t)(block >> 32);
}

void tfc_philox_next(tfc_philox *p, uint32_t out[4]) {
    uint32_t c[4], k[2];
    memcpy(c, p->ctr, sizeof c);
    memcpy(k, p->key, sizeof k);
    for (int r = 0; r < 10; r++) {
        uint64_t p0 = (uint64_t)PHILOX_M0 * c[0];
        uint64_t p1 = (uint64_t)PHILOX_M1 * c[2];
        uint32_t n0 = (uint32_t)(p1 >> 32) ^ c[1] ^ k[0];
        uint32_t n2 = (uint32_t)(p0 >> 32) ^ c[3] ^ k[1];
        c[0] = n0;
        c[1] = (uint32_t)p1;
        c[2] = n2;
        c[3] = (uint32_t)p0;
        k[0] += PHILOX_W0;
        k[1] += PHILOX_W1;
    }
    memcpy(out, c, sizeof c);
    if (++p->ctr[0] == 0) ++p->ctr[1];
}

float tfc_u32_to_float01(uint32_t x) { return (float)(x >> 8) * (1.0f / 16777216.0f); }

double tfc_u64_to_double01(uint32_t hi, uint32_t lo) {
    uint64_t v = ((uint64_t)hi << 32 | lo) >> 11;
    return (double)v * (1.0 / 9007199254740992.0);
}

/* ---- many blocks at once: each vector lane runs one block's rounds ---- */

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define PHILOX_X86 1

/* out[4 l + w] for word w of block l, from the words' vectors as stored */
static void interleave_floats(float *out, const uint32_t *words, int lanes) {
    for (int l = 0; l < lanes; l++)
        for (int w = 0; w < 4; w++) out[4 * l + w] = tfc_u32_to_float01(words[w * lanes + l]);
}

/* The rounds on `lanes` blocks: MUL(c, m, hi, lo) gives each lane's 32 x
 * 32 -> 64-bit product in two words, from one widening multiply of the
 * even lanes and one of the odd. */
#define PHILOX_ROUNDS(VEC, SET1, XOR, ADD, MUL)                                                    \
    do {                                                                                           \
        VEC m0 = SET1((int)PHILOX_M0), m1 = SET1((int)PHILOX_M1);                                  \
        VEC k0 = SET1((int)p->key[0]), k1 = SET1((int)p->key[1]);                                  \
        VEC w0 = SET1((int)PHILOX_W0), w1 = SET1((int)PHILOX_W1);                                  \
        for (int r = 0; r < 10; r++) {                                                             \
            VEC hi0, lo0, hi1, lo1;                                                                \
            MUL(c0, m0, hi0, lo0);                                                                 \
            MUL(c2, m1, hi1, lo1);                                                                 \
            c0 = XOR(XOR(hi1, c1), k0);                                                            \
            c2 = XOR(XOR(hi0, c3), k1);                                                            \
            c1 = lo1;                                                                              \
            c3 = lo0;                                                                              \
            k0 = ADD(k0, w0);                                                                      \
            k1 = ADD(k1, w1);                                                                      \
        }                                                                                          \
    } while (0)

#define MUL512(c, m, hi, lo)                                                                       \
    do {                                                                                           \
        __m512i even = _mm512_mul_epu32(c, m),                                                     \
                odd = _mm512_mul_epu32(_mm512_srli_epi64(c, 32), m);                               \
        lo = _mm512_mask_blend_epi32(0xAAAA, even, _mm512_slli_epi64(odd, 32));                    \
        hi = _mm512_mask_blend_epi32(0xAAAA, _mm512_srli_epi64(even, 32), odd);                    \
    } while (0)

static __attribute__((target("avx512f"))) void blocks16(const tfc_philox *p, uint64_t first,
                                                        float *out) {
    uint32_t words[4 * 16];
    for (int l = 0; l < 16; l++) {
        words[l] = (uint32_t)(first + (uint64_t)l);
        words[16 + l] = (uint32_t)((first + (uint64_t)l) >> 32);
    }
    __m512i c0 = _mm512_loadu_si512(words), c1 = _mm512_loadu_si512(words + 16);
    __m512i c2 = _mm512_set1_epi32((int)p->ctr[2]), c3 = _mm512_set1_epi32((int)p->ctr[3]);
    PHILOX_ROUNDS(__m512i, _mm512_set1_epi32, _mm512_xor_si512, _mm512_add_epi32, MUL512);
    _mm512_storeu_si512(words, c0);
    _mm512_storeu_si512(words + 16, c1);
    _mm512_storeu_si512(words + 32, c2);
    _mm512_storeu_si512(words + 48, c3);
    interleave_floats(out, words, 16);
}

#define MUL256(c, m, hi, lo)                                                                       \
    do {                                                                                           \
        __m256i even = _mm256_mul_epu32(c, m),                                                     \
                odd = _mm256_mul_epu32(_mm256_srli_epi64(c, 32), m);                               \
        lo = _mm256_blend_epi32(even, _mm256_slli_epi64(odd, 32), 0xAA);                           \
        hi = _mm256_blend_epi32(_mm256_srli_epi64(even, 32), odd, 0xAA);                           \
    } while (0)

static __attribute__((target("avx2"))) void blocks8(const tfc_philox *p, uint64_t first,
                                                    float *out) {
    uint32_t words[4 * 8];
    for (int l = 0; l < 8; l++) {
        words[l] = (uint32_t)(first + (uint64_t)l);
        words[8 + l] = (uint32_t)((first + (uint64_t)l) >> 32);
    }
    __m256i c0 = _mm256_loadu_si256((const __m256i *)words);
    __m256i c1 = _mm256_loadu_si256((const __m256i *)(words + 8));
    __m256i c2 = _mm256_set1_epi32((int)p->ctr[2]), c3 = _mm256_set1_epi32((int)p->ctr[3]);
    PHILOX_ROUNDS(__m256i, _mm256_set1_epi32, _mm256_xor_si256, _mm256_add_epi32, MUL256);
    _mm256_storeu_si256((__m256i *)words, c0);
    _mm256_storeu_si256((__m256i *)(words + 8), c1);
    _mm256_storeu_si256((__m256i *)(words + 16), c2);
    _mm256_storeu_si256((__m256i *)(words + 24), c3);
    interleave_floats(out, words, 8);
}
#endif

static int widest_lanes(void) {
#ifdef PHILOX_X86
    if (__builtin_cpu_supports("avx512f")) return 16;
    if (__builtin_cpu_supports("avx2")) return 8;
#endif
    return 1;
}

int tfc_philox_uniform_floats_in(const tfc_philox *p, uint64_t first, int64_t count, float *out,
                                 int lanes) {
    if (lanes != 1 && lanes != 8 && lanes != 16) return -1;
    if (lanes > widest_lanes()) return -1;
    int64_t i = 0;
#ifdef PHILOX_X86
    if (lanes == 16)
        for (; i + 16 <= count; i += 16) blocks16(p, first + (uint64_t)i, out + 4 * i);
    else if (lanes == 8)
        for (; i + 8 <= count; i += 8) blocks8(p, first + (uint64_t)i, out + 4 * i);
#endif
    tfc_philox q = *p;
    tfc_philox_seek(&q, first + (uint64_t)i);
    for (uint32_t w[4]; i < count; i++) {
        tfc_philox_next(&q, w);
        for (int k = 0; k < 4; k++) out[4 * i + k] = tfc_u32_to_float01(w[k]);
    }
    return 0;
}

void tfc_philox_uniform_floats(const tfc_philox *p, uint64_t first, int64_t count, float *out) {
    static atomic_int lanes; /* 0: not yet known */
    int n = atomic_load_explicit(&lanes, memory_order_relaxed);
    if (!n) atomic_store_explicit(&lanes, n = widest_lanes(), memory_order_relaxed);
    tfc_philox_uniform_floats_in(p, first, count, out, n);
}
