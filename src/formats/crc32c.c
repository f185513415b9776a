/* CRC-32C. On x86-64 processors with SSE4.2 (checked once at run time, so
 * the library still runs on any x86-64) the crc32 instruction does 8 bytes
 * a step: reading TFRecords checks a CRC over every record's bytes, and
 * the byte-wise table loop took a twentieth of an input pipeline's time.
 * Each crc32 waits for the one before (3 cycles, one issued a cycle), so
 * spans of 3 x 256 bytes go as three independent streams, joined by
 * shifting the first two over the bytes after them (a linear map of the
 * 32-bit state, by tables).
 * Elsewhere: byte-wise with a table built once. All give the same values. */
#include "formats/crc32c.h"

#include <pthread.h>
#include <string.h>

static uint32_t table[256];
static pthread_once_t init_once = PTHREAD_ONCE_INIT;

static uint32_t crc_table(uint32_t c, const uint8_t *p, size_t n) {
    for (size_t i = 0; i < n; i++) c = table[(c ^ p[i]) & 0xFF] ^ (c >> 8);
    return c;
}

static uint32_t (*crc_impl)(uint32_t, const uint8_t *, size_t) = crc_table;

#if defined(__x86_64__) && defined(__GNUC__)
#include <nmmintrin.h>

/* The state c after STREAM zero bytes: a linear map of c, one table per
 * byte of c (the raw state; crc(c, X || Y) = shift(crc(c, X)) ^ crc(0, Y)
 * for Y of STREAM bytes). */
enum { STREAM = 256 };
static uint32_t shift_table[4][256];

static uint32_t shift_stream(uint32_t c) {
    return shift_table[0][c & 0xFF] ^ shift_table[1][(c >> 8) & 0xFF] ^
           shift_table[2][(c >> 16) & 0xFF] ^ shift_table[3][c >> 24];
}

static void init_shift(void) {
    static const uint8_t zeros[STREAM];
    for (int b = 0; b < 4; b++)
        for (uint32_t v = 0; v < 256; v++) shift_table[b][v] = crc_table(v << (8 * b), zeros, STREAM);
}

__attribute__((target("sse4.2"))) static uint32_t crc_sse42(uint32_t c, const uint8_t *p,
                                                             size_t n) {
    for (; n >= 3 * STREAM; p += 3 * STREAM, n -= 3 * STREAM) {
        uint64_t a = c, b = 0, d = 0;
        for (size_t i = 0; i < STREAM; i += 8) {
            uint64_t va, vb, vd;
            memcpy(&va, p + i, 8);
            memcpy(&vb, p + STREAM + i, 8);
            memcpy(&vd, p + 2 * STREAM + i, 8);
            a = _mm_crc32_u64(a, va);
            b = _mm_crc32_u64(b, vb);
            d = _mm_crc32_u64(d, vd);
        }
        c = shift_stream(shift_stream((uint32_t)a) ^ (uint32_t)b) ^ (uint32_t)d;
    }
    uint64_t c64 = c;
    for (; n >= 8; p += 8, n -= 8) {
        uint64_t v;
        memcpy(&v, p, 8); /* unaligned load */
        c64 = _mm_crc32_u64(c64, v);
    }
    c = (uint32_t)c64;
    for (; n; n--) c = _mm_crc32_u8(c, *p++);
    return c;
}
#endif

static void init(void) {
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
        table[i] = c;
    }
#if defined(__x86_64__) && defined(__GNUC__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("sse4.2")) {
        init_shift();
        crc_impl = crc_sse42;
    }
#endif
}

uint32_t tfc_crc32c_extend(uint32_t crc, const void *data, size_t n) {
    pthread_once(&init_once, init);
    return crc_impl(crc ^ 0xFFFFFFFFu, data, n) ^ 0xFFFFFFFFu;
}

uint32_t tfc_crc32c_extend_portable(uint32_t crc, const void *data, size_t n) {
    pthread_once(&init_once, init);
    return crc_table(crc ^ 0xFFFFFFFFu, data, n) ^ 0xFFFFFFFFu;
}
