/* CRC-32C: the path tfc takes on this processor (the SSE4.2 instruction
 * where there is one) against the byte-wise table on random bytes of every
 * length up to 300 at every alignment and of lengths to 2,900 (one to three
 * spans of the three-stream loop), in one piece and extended in two;
 * and RFC 3720's vectors through both. */
#include "formats/crc32c.h"
#include "harness.h"

#include <stdlib.h>

static void test_fast_path_equals_table(void) {
    uint8_t buf[3000];
    tfc_test_seed(11);
    for (size_t i = 0; i < sizeof buf; i++) buf[i] = (uint8_t)tfc_test_uniform(0, 256);
    int bad = 0;
    for (size_t off = 0; off < 8; off++)
        for (size_t n = 0; n + off <= 2900; n += n < 300 ? 1 : 7) {
            uint32_t a = tfc_crc32c_extend(0, buf + off, n);
            bad += a != tfc_crc32c_extend_portable(0, buf + off, n);
            size_t k = n / 3;
            bad += tfc_crc32c_extend(tfc_crc32c_extend(0, buf + off, k), buf + off + k, n - k) != a;
        }
    CHECK_MSG(bad == 0, "%d CRCs differ", bad);
    static const char *const s = "123456789";
    CHECK(tfc_crc32c(s, 9) == 0xE3069283u && tfc_crc32c_extend_portable(0, s, 9) == 0xE3069283u);
    uint8_t zeros[32] = {0};
    CHECK(tfc_crc32c(zeros, 32) == 0x8A9136AAu);
    CHECK(tfc_crc32c_extend_portable(0, zeros, 32) == 0x8A9136AAu);
}

TFC_TEST_MAIN(T(test_fast_path_equals_table))
