/* Element sizes as an inline table lookup: tfc_dtype_size is called a few
 * times for every tensor made (about twenty times a record in an input
 * pipeline), and a call through the switch cost more than the lookup. */
#ifndef TFC_CORE_DTYPE_H
#define TFC_CORE_DTYPE_H

#include "tfc.h"

/* Bytes of one element of dtype; 0 for an invalid one (tfc_dtype_size). */
static inline size_t tfc_dtype_bytes(tfc_dtype dtype) {
    static const unsigned char sizes[] = {[TFC_FLOAT] = 4,
                                          [TFC_DOUBLE] = 8,
                                          [TFC_INT32] = 4,
                                          [TFC_UINT8] = 1,
                                          [TFC_INT64] = 8,
                                          [TFC_BOOL] = 1,
                                          [TFC_QINT8] = 1,
                                          [TFC_QUINT8] = 1, /* quantized codes */
                                          [TFC_QINT32] = 4,
                                          [TFC_UINT16] = 2,
                                          [TFC_BFLOAT16] = 2,
                                          [TFC_HALF] = 2, /* their bits */
                                          [TFC_STRING] = sizeof(tfc_string),
                                          [TFC_RESOURCE] = sizeof(void *)};
    return (unsigned)dtype < sizeof sizes ? sizes[dtype] : 0;
}

#endif
