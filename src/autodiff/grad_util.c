/* Helpers for gradient builders. */
#include "autodiff/grad_util.h"

#include <string.h>

tfc_output tfc_grad_op(tfc_graph *g, const char *type, const tfc_output *inputs, int n) {
    tfc_op_desc *d = tfc_op_new(g, type, NULL);
    tfc_op_add_inputs(d, inputs, n);
    return tfc_out(tfc_op_finish(d), 0);
}

tfc_output tfc_grad_scalar(tfc_graph *g, tfc_dtype dtype, double v) {
    tfc_tensor *t = tfc_tensor_alloc(dtype, 0, NULL);
    if (!t) return (tfc_output){NULL, 0};
    tfc_tensor_set_double(t, 0, v);
    tfc_output o = tfc_const(g, t);
    tfc_tensor_free(t);
    return o;
}

tfc_output tfc_grad_zeros_like(tfc_graph *g, tfc_output x) {
    return tfc_grad_op(g, "ZerosLike", &x, 1);
}

tfc_output tfc_grad_sparse(tfc_graph *g, tfc_output values, tfc_output indices,
                           tfc_output num_segments) {
    tfc_op_desc *d = tfc_op_new(g, "UnsortedSegmentSum", NULL);
    tfc_op_add_input(d, values);
    tfc_op_add_input(d, indices);
    tfc_op_add_input(d, num_segments);
    tfc_op_set_attr_bool(d, "_sparse_grad", 1);
    return tfc_out(tfc_op_finish(d), 0);
}

int tfc_gradient_sparse_parts(tfc_output grad, tfc_output *indices, tfc_output *values) {
    tfc_node *n = grad.node;
    if (!n || grad.index != 0 || strcmp(n->op->type, "UnsortedSegmentSum") != 0 ||
        !tfc_attrs_int(&n->attrs, "_sparse_grad", 0))
        return 0;
    if (indices) *indices = n->inputs[1];
    if (values) *values = n->inputs[0];
    return 1;
}

int tfc_grad_dtype_ok(tfc_dtype dt) { return dt == TFC_FLOAT || dt == TFC_DOUBLE; }

tfc_output tfc_grad_unbroadcast(tfc_graph *g, tfc_output grad, tfc_output x) {
    tfc_shape gs = tfc_output_shape(grad), xs = tfc_output_shape(x);
    if (tfc_shape_is_fully_defined(&gs) && tfc_shape_is_fully_defined(&xs)) {
        if (gs.rank == xs.rank) {
            int same = 1;
            for (int i = 0; i < gs.rank; i++) same &= gs.dims[i] == xs.dims[i];
            if (same) return grad;
        }
        /* axes where x was broadcast: leading extra dims, and dims of size 1 */
        int32_t axes[TFC_MAX_RANK];
        int naxes = 0, lead = gs.rank - xs.rank;
        for (int i = 0; i < gs.rank; i++)
            if (i < lead || (xs.dims[i - lead] == 1 && gs.dims[i] != 1)) axes[naxes++] = i;
        tfc_output s = naxes ? tfc_reduce_sum(g, grad, axes, naxes, 0) : grad;
        return tfc_reshape(g, s, xs.rank, xs.dims);
    }
    tfc_output sx = tfc_shape_of(g, x), sg = tfc_shape_of(g, grad);
    tfc_op_desc *d = tfc_op_new(g, "BroadcastGradientArgs", NULL);
    tfc_op_add_input(d, sx);
    tfc_op_add_input(d, sg);
    tfc_node *bga = tfc_op_finish(d);
    tfc_op_desc *sum = tfc_op_new(g, "Sum", NULL);
    tfc_op_add_input(sum, grad);
    tfc_op_add_input(sum, tfc_out(bga, 0));
    tfc_output summed = tfc_out(tfc_op_finish(sum), 0);
    return tfc_reshape_to(g, summed, sx);
}
