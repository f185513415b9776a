/* Small pieces of TensorFlow's TensorProto and TensorShapeProto shared by
 * the writers and readers of tensors (GraphDef constants, checkpoints,
 * SerializeTensor/ParseTensor). */
#ifndef TFC_FORMATS_TENSOR_PROTO_H
#define TFC_FORMATS_TENSOR_PROTO_H

#include "core/tensor.h"
#include "tensor.pb-c.h"

/* A TensorShapeProto with room for its dims, built on the stack. */
typedef struct tfc_shape_proto_buf {
    Tensorflow__TensorShapeProto shape;
    Tensorflow__TensorShapeProto__Dim dims[TFC_MAX_RANK], *dimp[TFC_MAX_RANK];
} tfc_shape_proto_buf;

/* Fills b with t's shape; returns &b->shape, which points into b. */
Tensorflow__TensorShapeProto *tfc_shape_proto_of(tfc_shape_proto_buf *b, const tfc_tensor *t);

/* The length of m's typed value array for dtype dt (string_val,
 * float_val, ...; int_val for int32, uint8 and uint16, half_val for half
 * and bfloat16, as TensorFlow). */
size_t tfc_tensor_proto_count(const Tensorflow__TensorProto *m, tfc_dtype dt);

/* Sets element i of t (any dtype but string) to m's typed value k. */
void tfc_tensor_proto_set(tfc_tensor *t, int64_t i, const Tensorflow__TensorProto *m, size_t k);

#endif
