/* CRC-32C (Castagnoli, reflected polynomial 0x82F63B78) and TensorFlow's
 * masking of stored CRCs, used by TFRecord files, SSTable block trailers and
 * checkpoint entries. */
#ifndef TFC_FORMATS_CRC32C_H
#define TFC_FORMATS_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* Continues a running CRC: extend(value(a), b) == value(a || b). */
uint32_t tfc_crc32c_extend(uint32_t crc, const void *data, size_t n);
/* The same with the byte-wise table, never the processor's instruction
 * (tests compare the two). */
uint32_t tfc_crc32c_extend_portable(uint32_t crc, const void *data, size_t n);
static inline uint32_t tfc_crc32c(const void *data, size_t n) {
    return tfc_crc32c_extend(0, data, n);
}

#define TFC_CRC_MASK_DELTA 0xa282ead8u

/* CRCs of data that holds CRCs are weak, so TF stores a rotated, offset one. */
static inline uint32_t tfc_crc32c_mask(uint32_t crc) {
    return ((crc >> 15) | (crc << 17)) + TFC_CRC_MASK_DELTA;
}
static inline uint32_t tfc_crc32c_unmask(uint32_t m) {
    uint32_t rot = m - TFC_CRC_MASK_DELTA;
    return (rot >> 17) | (rot << 15);
}

/* Little-endian fixed-width helpers shared by the file formats. */
static inline void tfc_put_u32le(uint8_t *p, uint32_t v) {
    for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static inline void tfc_put_u64le(uint8_t *p, uint64_t v) {
    for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static inline uint32_t tfc_get_u32le(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline uint64_t tfc_get_u64le(const uint8_t *p) {
    return (uint64_t)tfc_get_u32le(p) | (uint64_t)tfc_get_u32le(p + 4) << 32;
}

#endif
