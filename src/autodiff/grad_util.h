/* Small graph-building helpers shared by gradient builders. */
#ifndef TFC_AUTODIFF_GRAD_UTIL_H
#define TFC_AUTODIFF_GRAD_UTIL_H

#include "graph/op_registry.h"

/* Sums `grad` (the gradient of a broadcast result) down to the shape of `x`:
 * statically when both shapes are known, else through
 * BroadcastGradientArgs + Sum + Reshape. */
tfc_output tfc_grad_unbroadcast(tfc_graph *g, tfc_output grad, tfc_output x);
/* A node of `type` with the given inputs and no attrs; output 0. */
tfc_output tfc_grad_op(tfc_graph *g, const char *type, const tfc_output *inputs, int n);
/* A scalar constant of `dtype` holding v. */
tfc_output tfc_grad_scalar(tfc_graph *g, tfc_dtype dtype, double v);
/* Zeros shaped like x (for missing output gradients). */
tfc_output tfc_grad_zeros_like(tfc_graph *g, tfc_output x);
/* A sparse gradient (TensorFlow's IndexedSlices): rows `values` ([n, ...])
 * of a tensor with `num_segments` rows, at 1-D `indices`. Returned as its
 * dense form, an UnsortedSegmentSum node marked with attr "_sparse_grad",
 * which runs only if something reads it densely; optimizers apply the
 * parts instead (tfc_gradient_sparse_parts). */
tfc_output tfc_grad_sparse(tfc_graph *g, tfc_output values, tfc_output indices,
                           tfc_output num_segments);
/* A weight read by this many products or more (an RNN kernel over its
 * time steps) gets gradients built for sharing: its own gradient as one
 * product of the concatenated steps (gradients.c), its readers' input
 * gradients through one transposed copy (matmul.c). */
#define TFC_SHARED_WEIGHT_MIN_PRODUCTS 4

/* Is the dtype one gradients flow through? */
int tfc_grad_dtype_ok(tfc_dtype dt);

#endif
