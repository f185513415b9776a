/* tfc_dtype_size (src/core/dtype.h's table) against the sizes each dtype's
 * comment in tfc.h gives, for every dtype and for the numbers around and
 * between them that name none (0). */
#include "harness.h"

static size_t documented(int dt) {
    switch (dt) {
    case TFC_FLOAT: return sizeof(float);
    case TFC_DOUBLE: return sizeof(double);
    case TFC_INT32: return sizeof(int32_t);
    case TFC_UINT8: return sizeof(uint8_t);
    case TFC_STRING: return sizeof(tfc_string);
    case TFC_INT64: return sizeof(int64_t);
    case TFC_BOOL: return sizeof(uint8_t);
    case TFC_QINT8: return sizeof(int8_t);
    case TFC_QUINT8: return sizeof(uint8_t);
    case TFC_QINT32: return sizeof(int32_t);
    case TFC_BFLOAT16: return sizeof(uint16_t);
    case TFC_UINT16: return sizeof(uint16_t);
    case TFC_HALF: return sizeof(uint16_t);
    case TFC_RESOURCE: return sizeof(void *);
    default: return 0;
    }
}

static void test_every_dtype_size(void) {
    for (int dt = -3; dt <= 300; dt++)
        CHECK_MSG(tfc_dtype_size((tfc_dtype)dt) == documented(dt), "dtype %d: %zu, want %zu", dt,
                  tfc_dtype_size((tfc_dtype)dt), documented(dt));
    CHECK(tfc_dtype_size((tfc_dtype)-1000000) == 0 && tfc_dtype_size((tfc_dtype)1000000) == 0);
}

TFC_TEST_MAIN(T(test_every_dtype_size))
