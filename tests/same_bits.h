/* Element-wise equality for the tests that hold a fast loop to a plain
 * one: the same bits, except that any NaN equals any NaN (a loop may give
 * another NaN payload). */
#ifndef TFC_TEST_SAME_BITS_H
#define TFC_TEST_SAME_BITS_H

#include "tfc.h"

#include <math.h>
#include <string.h>

/* Element i of a and b, both of dtype dt. */
static inline int same_bits(tfc_dtype dt, const void *a, const void *b, int64_t i) {
    if (dt == TFC_FLOAT) {
        float x = ((const float *)a)[i], y = ((const float *)b)[i];
        return (isnan(x) && isnan(y)) || !memcmp(&x, &y, 4);
    }
    if (dt == TFC_DOUBLE) {
        double x = ((const double *)a)[i], y = ((const double *)b)[i];
        return (isnan(x) && isnan(y)) || !memcmp(&x, &y, 8);
    }
    size_t n = tfc_dtype_size(dt);
    return !memcmp((const char *)a + (size_t)i * n, (const char *)b + (size_t)i * n, n);
}

#endif
