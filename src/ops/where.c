/* Where(input): the coordinates of the true (nonzero) elements of a bool
 * or numeric tensor, as TensorFlow's one-input tf.where: an int64 matrix
 * [n, rank], one row per true element in row-major order. The family
 * tfc_ops_where. Not differentiable (an index set), as in TensorFlow.
 * NaN counts as true and -0.0 as false, as `x != 0` does. */
#include "ops/array_internal.h"

#include <stdint.h>
#include <string.h>

static int where_infer(tfc_infer_ctx *c) {
    tfc_dtype dt = tfc_infer_input_dtype(c, 0);
    if (dt != TFC_BOOL && dt != TFC_FLOAT && dt != TFC_DOUBLE && dt != TFC_INT32 &&
        dt != TFC_INT64 && dt != TFC_UINT8)
        return tfc_infer_error(c, "input must be bool or a number type, got %s",
                               tfc_dtype_name(dt));
    tfc_attrs_set_int(c->attrs, "T", TFC_ATTR_TYPE, dt);
    tfc_shape in = tfc_infer_input_shape(c, 0);
    int64_t dims[2] = {-1, in.rank};
    tfc_infer_set_output(c, 0, TFC_INT64, tfc_shape_make(2, dims));
    return 0;
}

/* Is element i nonzero? Floats compare by value (-0.0 is zero, NaN is
 * not), other types by their bytes. */
static int is_true(const tfc_tensor *t, int64_t i) {
    switch (t->dtype) {
    case TFC_FLOAT: return ((const float *)t->data)[i] != 0;
    case TFC_DOUBLE: return ((const double *)t->data)[i] != 0;
    case TFC_INT32: return ((const int32_t *)t->data)[i] != 0;
    case TFC_INT64: return ((const int64_t *)t->data)[i] != 0;
    default: return ((const uint8_t *)t->data)[i] != 0;
    }
}

static void where_kernel(tfc_kernel_ctx *c) {
    const tfc_tensor *x = c->inputs[0];
    int r = x->rank;
    int64_t n = 0;
    for (int64_t i = 0; i < x->nelem; i++) n += is_true(x, i);
    int64_t dims[2] = {n, r};
    tfc_tensor *out = tfc_kernel_output(c, 0, TFC_INT64, 2, dims);
    if (!out || n == 0 || r == 0) return;
    int64_t *o = out->data, idx[TFC_MAX_RANK] = {0};
    for (int64_t i = 0; i < x->nelem; i++) {
        if (is_true(x, i)) {
            memcpy(o, idx, (size_t)r * sizeof *o);
            o += r;
        }
        for (int k = r - 1; k >= 0; k--) {
            if (++idx[k] < x->dims[k]) break;
            idx[k] = 0;
        }
    }
}

const tfc_op_def tfc_ops_where[] = {
    {"Where", 1, 1, 1, TFC_OP_NO_GRADIENT, 0, where_infer, where_kernel, NULL},
    {NULL, 0, 0, 0, 0, 0, NULL, NULL, NULL},
};

tfc_output tfc_where(tfc_graph *g, tfc_output condition) {
    tfc_op_desc *d = tfc_op_new(g, "Where", NULL);
    tfc_op_add_input(d, condition);
    return tfc_out(tfc_op_finish(d), 0);
}
