/* Shared by the convolution and pooling ops (conv.c, pool.c): attr parsing
 * into op_data, TensorFlow's output-size and padding rule for NHWC windows,
 * and the pooling entry points that conv.c lists in tfc_ops_conv[]. */
#ifndef TFC_OPS_CONV_INTERNAL_H
#define TFC_OPS_CONV_INTERNAL_H

#include "graph/op_registry.h"

/* Parsed window attrs of a conv or pool node (its op_data). */
typedef struct tfc_window {
    int64_t kh, kw; /* pooling window (ksize); unused by convolutions */
    int64_t sh, sw; /* strides */
    int64_t dh, dw; /* dilations (1 for pooling) */
    int same;       /* padding "SAME" (else "VALID") */
} tfc_window;

/* Reads strides, padding, dilations, data_format (and ksize when
 * `with_ksize`) into a malloc'd c->op_data. Returns 0 or -1 after
 * tfc_infer_error. */
int tfc_window_parse(tfc_infer_ctx *c, int with_ksize);

/* Output size and leading padding along one dim for input size `in`,
 * window `k`, stride `s`, dilation `d`. Returns 0, or -1 when VALID padding
 * would give a negative size. */
int tfc_window_out(int64_t in, int64_t k, int64_t s, int64_t d, int same, int64_t *out,
                   int64_t *pad);

/* Copies the window attrs (strides, ksize, padding, dilations,
 * data_format) of `from` onto a node being built. */
void tfc_window_copy_attrs(tfc_op_desc *d, const tfc_node *from);

/* An int32 vector holding the shape of `x`: a Const when it is static, else
 * a Shape node. */
tfc_output tfc_window_shape_of(tfc_graph *g, tfc_output x);

/* Input i of a backprop op is a shape (int32/int64 vector of 4): checks it
 * and gives its value when it is a Const, else 4 unknown dims. 0 or -1. */
int tfc_window_sizes_input(tfc_infer_ctx *c, int i, tfc_shape *out);
/* The same at run time: reads the 4 sizes or reports a kernel error. */
int tfc_window_kernel_sizes(tfc_kernel_ctx *c, const tfc_tensor *t, int64_t *dims);

/* The three ops of a convolution family (Conv2D, DepthwiseConv2dNative),
 * inputs as TensorFlow orders them: forward(input, filter),
 * backprop_input(input_sizes, filter, out_backprop),
 * backprop_filter(input, filter_sizes, out_backprop). */
typedef struct tfc_conv_ops {
    const char *forward, *backprop_input, *backprop_filter;
} tfc_conv_ops;
/* Their gradient builders, TensorFlow's: each op's gradient is built from
 * the other two, so gradients of gradients work (conv.c). */
int tfc_conv_grad(tfc_graph *g, const tfc_conv_ops *ops, tfc_node *op, const tfc_output *dy,
                  tfc_output *dx);
int tfc_conv_backprop_input_grad(tfc_graph *g, const tfc_conv_ops *ops, tfc_node *op,
                                 const tfc_output *dy, tfc_output *dx);
int tfc_conv_backprop_filter_grad(tfc_graph *g, const tfc_conv_ops *ops, tfc_node *op,
                                  const tfc_output *dy, tfc_output *dx);

/* The geometry of one 2-D convolution (NHWC input, HWIO filter). */
typedef struct tfc_conv_geom {
    int64_t n, h, w, c;  /* input */
    int64_t fh, fw, o;   /* filter (its in-depth is c) */
    int64_t oh, ow;      /* output */
    int64_t sh, sw, dh, dw, ph, pw; /* strides, dilations, leading padding */
} tfc_conv_geom;

/* The three passes of a convolution. */
enum { TFC_CONV_FORWARD, TFC_CONV_BACKWARD_DATA, TFC_CONV_BACKWARD_WEIGHTS };

/* Runs one pass of a float32 convolution through tfc's register tiles
 * (conv_tiles.c): forward x, f -> out (NHWC); backward-data f, dy -> out
 * (NHWC, stride 1 only); backward-weights x, dy -> out (HWIO). Returns 1
 * when done, 0 when left to oneDNN or im2col (no AVX-512, a strided
 * backward-data pass, scratch memory short). Bit-identical at any thread
 * count; no heap allocation in the steady state. */
int tfc_conv_tiles(tfc_kernel_ctx *c, int pass, const tfc_conv_geom *q, const float *x,
                   const float *f, const float *dy, float *out);
/* The forward pass with `ep` (a fused bias, relu) on each tile of the
 * output as soon as it is summed (NULL: none). */
struct tfc_epilogue;
int tfc_conv_tiles_forward(tfc_kernel_ctx *c, const tfc_conv_geom *q, const float *x,
                           const float *f, float *out, const struct tfc_epilogue *ep);
/* Conv2D's kernel with `ep` on its output (NULL: none), for the plan's
 * fusions (bias_fused.c); c->node is the Conv2D. */
void tfc_conv2d_run(tfc_kernel_ctx *c, const struct tfc_epilogue *ep);

/* Runs one pass of a float32 convolution through oneDNN's convolution
 * primitives (conv_dnnl.c): forward x, f -> out (NHWC); backward-data f, dy
 * -> out (NHWC); backward-weights x, dy -> out (HWIO). Returns 1 when done,
 * 0 when the pass is left to im2col + GEMM (dilated windows, shapes where
 * oneDNN is slower, TFC_CONV_IM2COL set in the environment), -1 after a
 * kernel error. Bit-identical at any thread count. */
int tfc_conv_dnnl(tfc_kernel_ctx *c, int pass, const tfc_conv_geom *q, const float *x,
                  const float *f, const float *dy, float *out);

/* Pooling ops, defined in pool.c. */
int tfc_pool_infer(tfc_infer_ctx *c);
void tfc_max_pool_kernel(tfc_kernel_ctx *c);
int tfc_max_pool_grad_fn(tfc_graph *g, tfc_node *op, const tfc_output *dy, tfc_output *dx);
int tfc_max_pool_grad_infer(tfc_infer_ctx *c);
void tfc_max_pool_grad_kernel(tfc_kernel_ctx *c);
int tfc_max_pool_grad_grad_fn(tfc_graph *g, tfc_node *op, const tfc_output *dy, tfc_output *dx);
int tfc_max_pool_grad_grad_infer(tfc_infer_ctx *c);
void tfc_max_pool_grad_grad_kernel(tfc_kernel_ctx *c);
int tfc_max_pool_grad_grad_grad_fn(tfc_graph *g, tfc_node *op, const tfc_output *dy,
                                   tfc_output *dx);
void tfc_avg_pool_kernel(tfc_kernel_ctx *c);
int tfc_avg_pool_grad_fn(tfc_graph *g, tfc_node *op, const tfc_output *dy, tfc_output *dx);
int tfc_avg_pool_grad_infer(tfc_infer_ctx *c);
void tfc_avg_pool_grad_kernel(tfc_kernel_ctx *c);
int tfc_avg_pool_grad_grad_fn(tfc_graph *g, tfc_node *op, const tfc_output *dy, tfc_output *dx);

#endif
