/* PlaceholderWithDefault(input), the family tfc_ops_placeholder_with_default
 * (tf.placeholder_with_default): a placeholder that need not be fed. Fed,
 * the run uses the fed value (a feed replaces the node's output, as for
 * any tensor); not fed, it passes `input` through. Its attrs are dtype
 * (the input's) and shape, the output's static shape, which may be less
 * specific than the default's (TensorFlow's [None, 3] over a [2, 3]
 * default), so feeds of other shapes are accepted. The default must fit
 * the shape. The gradient passes through, as Identity's. */
#include "graph/op_registry.h"

#include <stdlib.h>
#include <string.h>

static int pwd_infer(tfc_infer_ctx *c) {
    tfc_dtype dt = tfc_infer_input_dtype(c, 0);
    tfc_dtype want = tfc_attrs_type(c->attrs, "dtype", dt);
    if (want != dt)
        return tfc_infer_error(c, "the default value has dtype %s, but attr 'dtype' is %s",
                               tfc_dtype_name(dt), tfc_dtype_name(want));
    /* no shape attr: unknown rank, as for Placeholder */
    tfc_shape in = tfc_infer_input_shape(c, 0), shape = tfc_attrs_shape(c->attrs, "shape");
    if (!tfc_shape_compatible(&in, &shape)) {
        char b1[96], b2[96];
        return tfc_infer_error(c, "the default value's shape %s is not compatible with attr "
                               "'shape' %s", tfc_shape_str(&in, b1, sizeof b1),
                               tfc_shape_str(&shape, b2, sizeof b2));
    }
    tfc_attrs_set_int(c->attrs, "dtype", TFC_ATTR_TYPE, dt);
    tfc_attrs_set_shape(c->attrs, "shape", shape.rank, shape.rank >= 0 ? shape.dims : NULL);
    tfc_shape *sd = malloc(sizeof *sd);
    if (!sd) return tfc_infer_error(c, "out of memory");
    *sd = shape;
    c->op_data = sd;
    tfc_infer_set_output(c, 0, dt, shape);
    return 0;
}

/* Not fed: the default, which must fit the shape attr (it may come from a
 * node whose static shape was not known). */
static void pwd_kernel(tfc_kernel_ctx *c) {
    const tfc_shape *s = c->node->op_data;
    tfc_tensor *x = c->inputs[0];
    tfc_shape got = tfc_shape_make(x->rank, x->dims);
    if (!tfc_shape_compatible(&got, s)) {
        char b1[96], b2[96];
        tfc_kernel_error(c, TFC_INVALID_ARGUMENT,
                         "the default value has shape %s, not compatible with attr 'shape' %s",
                         tfc_shape_str(&got, b1, sizeof b1), tfc_shape_str(s, b2, sizeof b2));
        return;
    }
    /* a variable's buffer is copied: the plan orders variable updates
     * after the readers it knows to alias, and this op is not one */
    if (!(x->flags & TFC_TENSOR_VARIABLE)) {
        tfc_kernel_set_output(c, 0, tfc_tensor_ref(x));
        return;
    }
    tfc_tensor *out = tfc_kernel_output(c, 0, x->dtype, x->rank, x->dims);
    if (out) memcpy(out->data, x->data, x->nbytes);
    /* a string copy holds views of the variable's bytes: give it its own */
    if (out && out->dtype == TFC_STRING && tfc_tensor_own_strings(out))
        tfc_kernel_error(c, TFC_RESOURCE_EXHAUSTED, "out of memory copying strings");
}

static int pwd_grad(tfc_graph *g, tfc_node *op, const tfc_output *dy, tfc_output *dx) {
    (void)g;
    (void)op;
    dx[0] = dy[0];
    return 0;
}

const tfc_op_def tfc_ops_placeholder_with_default[] = {
    /* strings: the Saver's filename (save/Const) is one */
    {"PlaceholderWithDefault", 1, 1, 1, TFC_OP_STRINGS, 0, pwd_infer, pwd_kernel, pwd_grad},
    {NULL, 0, 0, 0, 0, 0, NULL, NULL, NULL},
};

tfc_output tfc_placeholder_with_default(tfc_graph *g, const char *name, tfc_output input,
                                        int rank, const int64_t *dims) {
    tfc_op_desc *d = tfc_op_new(g, "PlaceholderWithDefault", name);
    tfc_op_add_input(d, input);
    if (rank >= 0) tfc_op_set_attr_shape(d, "shape", rank, dims);
    return tfc_out(tfc_op_finish(d), 0);
}
