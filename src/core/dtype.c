/* Element types: sizes and TensorFlow's names. */
#include "core/dtype.h"

size_t tfc_dtype_size(tfc_dtype dtype) { return tfc_dtype_bytes(dtype); }

const char *tfc_dtype_name(tfc_dtype dtype) {
    switch (dtype) {
    case TFC_FLOAT: return "float32";
    case TFC_DOUBLE: return "float64";
    case TFC_INT32: return "int32";
    case TFC_UINT8: return "uint8";
    case TFC_INT64: return "int64";
    case TFC_BOOL: return "bool";
    case TFC_QINT8: return "qint8";
    case TFC_QUINT8: return "quint8";
    case TFC_QINT32: return "qint32";
    case TFC_UINT16: return "uint16";
    case TFC_BFLOAT16: return "bfloat16";
    case TFC_HALF: return "float16";
    case TFC_STRING: return "string";
    case TFC_RESOURCE: return "resource";
    default: return "invalid";
    }
}
