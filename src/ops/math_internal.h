/* Shared by the math op files (math_*.c, matmul.c): the shape functions,
 * kernels and gradient builders that src/ops/math.c lists in tfc_ops_math[],
 * and the element-wise loop helpers they have in common. Nothing here is
 * public API. */
#ifndef TFC_OPS_MATH_INTERNAL_H
#define TFC_OPS_MATH_INTERNAL_H

#include "autodiff/grad_util.h"

/* Elements per parallel chunk of an element-wise kernel: big enough that
 * handing a chunk to a thread costs little next to the work in it. */
#define TFC_MATH_GRAIN 32768

/* Binary element-wise ops (Add, Sub, ..., comparisons, logical): one shape
 * function and one kernel for all, dispatching on the op code the shape
 * function keeps in op_data. */
int tfc_math_binary_infer(tfc_infer_ctx *c);
void tfc_math_binary_kernel(tfc_kernel_ctx *c);

/* Unary element-wise ops (Neg, Abs, ..., LogicalNot), likewise. */
int tfc_math_unary_infer(tfc_infer_ctx *c);
void tfc_math_unary_kernel(tfc_kernel_ctx *c);

/* Gradient builders of the element-wise ops (math_grad.c). */
int tfc_math_add_grad(tfc_graph *g, tfc_node *op, const tfc_output *dy, tfc_output *dx);
int tfc_math_sub_grad(tfc_graph *g, tfc_node *op, const tfc_output *dy, tfc_output *dx);
int tfc_math_mul_grad(tfc_graph *g, tfc_node *op, const tfc_output *dy, tfc_output *dx);
int tfc_math_div_grad(tfc_graph *g, tfc_node *op, const tfc_output *dy, tfc_output *dx);
int tfc_math_pow_grad(tfc_graph *g, tfc_node *op, const tfc_output *dy, tfc_output *dx);
int tfc_math_maximum_grad(tfc_graph *g, tfc_node *op, const tfc_output *dy, tfc_output *dx);
int tfc_math_minimum_grad(tfc_graph *g, tfc_node *op, const tfc_output *dy, tfc_output *dx);
int tfc_math_sqdiff_grad(tfc_graph *g, tfc_node *op, const tfc_output *dy, tfc_output *dx);
int tfc_math_neg_grad(tfc_graph *g, tfc_node *op, const tfc_output *dy, tfc_output *dx);
int tfc_math_abs_grad(tfc_graph *g, tfc_node *op, const tfc_output *dy, tfc_output *dx);
int tfc_math_sign_grad(tfc_graph *g, tfc_node *op, const tfc_output *dy, tfc_output *dx);
int tfc_math_square_grad(tfc_graph *g, tfc_node *op, const tfc_output *dy, tfc_output *dx);
int tfc_math_sqrt_grad(tfc_graph *g, tfc_node *op, const tfc_output *dy, tfc_output *dx);
int tfc_math_rsqrt_grad(tfc_graph *g, tfc_node *op, const tfc_output *dy, tfc_output *dx);
int tfc_math_reciprocal_grad(tfc_graph *g, tfc_node *op, const tfc_output *dy, tfc_output *dx);
int tfc_math_exp_grad(tfc_graph *g, tfc_node *op, const tfc_output *dy, tfc_output *dx);
int tfc_math_log_grad(tfc_graph *g, tfc_node *op, const tfc_output *dy, tfc_output *dx);

/* Select (math_select.c). */
int tfc_math_select_infer(tfc_infer_ctx *c);
void tfc_math_select_kernel(tfc_kernel_ctx *c);
int tfc_math_select_grad(tfc_graph *g, tfc_node *op, const tfc_output *dy, tfc_output *dx);

/* Cast (math_cast.c). */
int tfc_math_cast_infer(tfc_infer_ctx *c);
void tfc_math_cast_kernel(tfc_kernel_ctx *c);
int tfc_math_cast_grad(tfc_graph *g, tfc_node *op, const tfc_output *dy, tfc_output *dx);

/* AddN (math_addn.c). */
int tfc_math_addn_infer(tfc_infer_ctx *c);
void tfc_math_addn_kernel(tfc_kernel_ctx *c);
int tfc_math_addn_grad(tfc_graph *g, tfc_node *op, const tfc_output *dy, tfc_output *dx);

/* BroadcastGradientArgs (math_bcast_args.c). */
int tfc_math_bcast_args_infer(tfc_infer_ctx *c);
void tfc_math_bcast_args_kernel(tfc_kernel_ctx *c);

/* MatMul (matmul.c). */
int tfc_math_matmul_infer(tfc_infer_ctx *c);
void tfc_math_matmul_kernel(tfc_kernel_ctx *c);
/* The MatMul kernel with the transposes given, then `ep` on the product
 * (NULL: none); for the plan's fusions (bias_fused.c). */
struct tfc_epilogue;
void tfc_math_matmul_run(tfc_kernel_ctx *c, int ta, int tb, const struct tfc_epilogue *ep);
int tfc_math_matmul_grad(tfc_graph *g, tfc_node *op, const tfc_output *dy, tfc_output *dx);
/* A MatMul node's transpose_a and transpose_b. */
void tfc_math_matmul_transposes(const tfc_node *n, int *ta, int *tb);

#endif
