/* TensorFlow's Fingerprint64: FarmHash's portable 64-bit fingerprint
 * (farmhashna::Hash64), fixed forever, so StringToHashBucketFast puts a
 * string in the same bucket as TensorFlow does. */
#ifndef TFC_CORE_FINGERPRINT_H
#define TFC_CORE_FINGERPRINT_H

#include <stddef.h>
#include <stdint.h>

uint64_t tfc_fingerprint64(const void *data, size_t len);

#endif
