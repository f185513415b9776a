/* SerializeTensor and ParseTensor: a tensor to and from the bytes of a
 * TensorProto, as TensorFlow's ops (parse_tensor_op.cc) write and read
 * them. Writing follows TensorFlow byte for byte: strings one per
 * string_val, every other dtype as raw little-endian tensor_content (its
 * AsProtoTensorContent), fields in number order. Reading takes what any
 * TensorFlow writer makes: tensor_content, or the typed value arrays
 * (float_val, int_val, ...) with TensorFlow's rule that fewer values than
 * elements repeat the last one (none: zeros) and extra values are
 * ignored. */
#include "core/tensor.h"
#include "formats/proto.h"
#include "formats/tensor_proto.h"
#include "graph/op_registry.h"
#include "tensor.pb-c.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SER_OP (TFC_OP_STRINGS | TFC_OP_NO_GRADIENT)

static int parseable_dtype(tfc_dtype dt) {
    return dt == TFC_FLOAT || dt == TFC_DOUBLE || dt == TFC_INT32 || dt == TFC_UINT8 ||
           dt == TFC_UINT16 || dt == TFC_INT64 || dt == TFC_BOOL || dt == TFC_STRING;
}

/* ---- SerializeTensor(tensor: T) -> serialized: string scalar ---- */

static int serialize_infer(tfc_infer_ctx *c) {
    tfc_dtype dt = tfc_infer_input_dtype(c, 0);
    if (!parseable_dtype(dt))
        return tfc_infer_error(c, "cannot serialize a tensor of dtype %s", tfc_dtype_name(dt));
    if (!tfc_attrs_find(c->attrs, "T")) tfc_attrs_set_int(c->attrs, "T", TFC_ATTR_TYPE, dt);
    tfc_infer_set_output(c, 0, TFC_STRING, tfc_shape_scalar());
    return 0;
}

static void serialize_kernel(tfc_kernel_ctx *c) {
    const tfc_tensor *t = c->inputs[0];
    tfc_shape_proto_buf shape;
    Tensorflow__TensorProto m;
    tensorflow__tensor_proto__init(&m);
    m.dtype = (Tensorflow__DataType)t->dtype;
    m.tensor_shape = tfc_shape_proto_of(&shape, t);
    ProtobufCBinaryData *vals = NULL;
    if (t->dtype == TFC_STRING) {
        vals = malloc(sizeof *vals * (size_t)(t->nelem ? t->nelem : 1));
        if (!vals) {
            tfc_kernel_error(c, TFC_RESOURCE_EXHAUSTED, "out of memory serializing a tensor");
            return;
        }
        for (int64_t i = 0; i < t->nelem; i++) {
            tfc_string s = tfc_string_at(t, i);
            vals[i].data = (uint8_t *)s.data;
            vals[i].len = s.len;
        }
        m.n_string_val = (size_t)t->nelem;
        m.string_val = vals;
    } else {
        m.tensor_content.data = t->data;
        m.tensor_content.len = t->nbytes;
    }
    tfc_buf b = {0};
    tfc_buf_pack(&b, &m.base);
    free(vals);
    tfc_tensor *out = b.oom ? NULL : tfc_kernel_output(c, 0, TFC_STRING, 0, NULL);
    if (b.oom || (out && tfc_string_set(out, 0, b.p, b.n)))
        tfc_kernel_error(c, TFC_RESOURCE_EXHAUSTED, "out of memory serializing a tensor");
    tfc_buf_free(&b);
}

/* ---- ParseTensor(serialized: string scalar) -> output: out_type ---- */

static int parse_infer(tfc_infer_ctx *c) {
    if (tfc_infer_input_dtype(c, 0) != TFC_STRING)
        return tfc_infer_error(c, "serialized must be a string tensor, got %s",
                               tfc_dtype_name(tfc_infer_input_dtype(c, 0)));
    tfc_shape s = tfc_infer_input_shape(c, 0);
    if (s.rank > 0) return tfc_infer_error(c, "serialized must be a scalar, got rank %d", s.rank);
    tfc_dtype dt = tfc_attrs_type(c->attrs, "out_type", TFC_INVALID_DTYPE);
    if (!parseable_dtype(dt))
        return tfc_infer_error(c, "out_type must be a dtype tfc has (not %s)", tfc_dtype_name(dt));
    tfc_infer_set_output(c, 0, dt, tfc_shape_unknown());
    return 0;
}

/* The tensor a TensorProto describes, or NULL with the reason in why. */
static tfc_tensor *tensor_of(const Tensorflow__TensorProto *m, char *why, size_t cap) {
    tfc_dtype dt = (tfc_dtype)m->dtype;
    int64_t dims[TFC_MAX_RANK];
    int rank = 0;
    if (m->tensor_shape) {
        if (m->tensor_shape->unknown_rank || m->tensor_shape->n_dim > TFC_MAX_RANK) {
            snprintf(why, cap, "its shape is of unknown rank or has more than %d dims",
                     TFC_MAX_RANK);
            return NULL;
        }
        rank = (int)m->tensor_shape->n_dim;
        for (int d = 0; d < rank; d++) dims[d] = m->tensor_shape->dim[d]->size;
    }
    int64_t n = tfc_dims_num_elements(rank, dims);
    if (n < 0) {
        snprintf(why, cap, "its shape is not a valid, fully known shape");
        return NULL;
    }
    size_t esize = tfc_dtype_size(dt);
    if (dt != TFC_STRING && m->tensor_content.len) {
        /* checked before allocating: a short message cannot ask for a
         * large tensor through its shape alone */
        if ((uint64_t)n > SIZE_MAX / esize || m->tensor_content.len != (size_t)n * esize) {
            snprintf(why, cap, "%zu bytes of tensor_content for %lld elements of %s",
                     m->tensor_content.len, (long long)n, tfc_dtype_name(dt));
            return NULL;
        }
        tfc_tensor *t = tfc_tensor_alloc(dt, rank, dims);
        if (t) memcpy(t->data, m->tensor_content.data, t->nbytes);
        else snprintf(why, cap, "out of memory");
        return t;
    }
    if (dt == TFC_STRING && m->tensor_content.len) {
        snprintf(why, cap, "string tensors in tensor_content are not supported");
        return NULL;
    }
    size_t k = tfc_tensor_proto_count(m, dt);
    /* elements past the values are copies of the last (or zeros): a few
     * bytes could then ask for any size, so such a fill stops at 2^26
     * elements (TensorFlow has no such limit) */
    if ((uint64_t)n > k && n > ((int64_t)1 << 26)) {
        snprintf(why, cap, "%lld elements from %zu values", (long long)n, k);
        return NULL;
    }
    tfc_tensor *t = tfc_tensor_new(dt, rank, dims);
    if (!t) {
        snprintf(why, cap, "out of memory for %lld elements", (long long)n);
        return NULL;
    }
    for (int64_t i = 0; k && i < n; i++) {
        size_t j = (uint64_t)i < k ? (size_t)i : k - 1;
        if (dt != TFC_STRING) {
            tfc_tensor_proto_set(t, i, m, j);
        } else if (tfc_string_set(t, i, m->string_val[j].data, m->string_val[j].len)) {
            tfc_tensor_free(t);
            snprintf(why, cap, "out of memory");
            return NULL;
        }
    }
    return t;
}

static void parse_kernel(tfc_kernel_ctx *c) {
    tfc_string s = tfc_string_at(c->inputs[0], 0);
    tfc_dtype want = tfc_attrs_type(&c->node->attrs, "out_type", TFC_INVALID_DTYPE);
    Tensorflow__TensorProto *m =
        tensorflow__tensor_proto__unpack(NULL, s.len, (const uint8_t *)s.data);
    if (!m) {
        tfc_kernel_error(c, TFC_INVALID_ARGUMENT,
                         "Could not parse `serialized` as TensorProto (%zu bytes)", s.len);
        return;
    }
    char why[160];
    tfc_tensor *t = NULL;
    if ((tfc_dtype)m->dtype != want) {
        tfc_kernel_error(c, TFC_INVALID_ARGUMENT,
                         "Type mismatch between parsed tensor (%s) and dtype (%s)",
                         tfc_dtype_name((tfc_dtype)m->dtype), tfc_dtype_name(want));
    } else if (!(t = tensor_of(m, why, sizeof why))) {
        tfc_kernel_error(c, TFC_INVALID_ARGUMENT, "Could not parse `serialized` as TensorProto: %s",
                         why);
    } else {
        tfc_kernel_set_output(c, 0, t);
    }
    tensorflow__tensor_proto__free_unpacked(m, NULL);
}

const tfc_op_def tfc_ops_serialize_tensor[] = {
    {"SerializeTensor", 1, 1, 1, SER_OP, 0, serialize_infer, serialize_kernel, NULL},
    {"ParseTensor", 1, 1, 1, SER_OP, 0, parse_infer, parse_kernel, NULL},
    {NULL, 0, 0, 0, 0, 0, NULL, NULL, NULL},
};

/* ---- public helpers ---- */

tfc_output tfc_serialize_tensor(tfc_graph *g, tfc_output tensor) {
    tfc_op_desc *d = tfc_op_new(g, "SerializeTensor", NULL);
    tfc_op_add_input(d, tensor);
    return tfc_out(tfc_op_finish(d), 0);
}

tfc_output tfc_parse_tensor(tfc_graph *g, tfc_output serialized, tfc_dtype out_type) {
    tfc_op_desc *d = tfc_op_new(g, "ParseTensor", NULL);
    tfc_op_add_input(d, serialized);
    tfc_op_set_attr_type(d, "out_type", out_type);
    return tfc_out(tfc_op_finish(d), 0);
}
