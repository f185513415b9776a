/* TensorProto and TensorShapeProto pieces (tensor_proto.h). */
#include "formats/tensor_proto.h"

Tensorflow__TensorShapeProto *tfc_shape_proto_of(tfc_shape_proto_buf *b, const tfc_tensor *t) {
    for (int d = 0; d < t->rank; d++) {
        tensorflow__tensor_shape_proto__dim__init(&b->dims[d]);
        b->dims[d].size = t->dims[d];
        b->dimp[d] = &b->dims[d];
    }
    tensorflow__tensor_shape_proto__init(&b->shape);
    b->shape.n_dim = (size_t)t->rank;
    b->shape.dim = b->dimp;
    return &b->shape;
}

size_t tfc_tensor_proto_count(const Tensorflow__TensorProto *m, tfc_dtype dt) {
    switch (dt) {
    case TFC_FLOAT: return m->n_float_val;
    case TFC_DOUBLE: return m->n_double_val;
    case TFC_INT64: return m->n_int64_val;
    case TFC_BOOL: return m->n_bool_val;
    case TFC_STRING: return m->n_string_val;
    case TFC_HALF:
    case TFC_BFLOAT16: return m->n_half_val;
    default: return m->n_int_val;
    }
}

void tfc_tensor_proto_set(tfc_tensor *t, int64_t i, const Tensorflow__TensorProto *m, size_t k) {
    switch (t->dtype) {
    case TFC_FLOAT: ((float *)t->data)[i] = m->float_val[k]; break;
    case TFC_DOUBLE: ((double *)t->data)[i] = m->double_val[k]; break;
    case TFC_INT64: ((int64_t *)t->data)[i] = m->int64_val[k]; break;
    case TFC_BOOL: ((uint8_t *)t->data)[i] = m->bool_val[k] != 0; break;
    case TFC_INT32:
    case TFC_QINT32: ((int32_t *)t->data)[i] = m->int_val[k]; break;
    case TFC_UINT16: ((uint16_t *)t->data)[i] = (uint16_t)m->int_val[k]; break;
    case TFC_HALF:
    case TFC_BFLOAT16: ((uint16_t *)t->data)[i] = (uint16_t)m->half_val[k]; break;
    default: ((uint8_t *)t->data)[i] = (uint8_t)m->int_val[k]; break;
    }
}
