/* bfloat16 mixed precision for float32 products (the session option
 * tfc_session_options.bfloat16_products): MatMul (matmul.c) and the three
 * passes of Conv2D (conv_dnnl.c) take their operands rounded to bfloat16
 * and accumulate in float32, as TensorFlow's oneDNN bf16 rewrite does. */
#ifndef TFC_OPS_BFLOAT16_PRODUCTS_H
#define TFC_OPS_BFLOAT16_PRODUCTS_H

#include "graph/op_registry.h"
#include "ops/conv_internal.h"

/* Whether the session running `c` asked for bfloat16 products (0 when
 * folding constants, and inside tfc_bf16_conv's own call). */
int tfc_bf16_products_on(const tfc_kernel_ctx *c);

/* Whether oneDNN has bfloat16 kernels on this CPU: a bf16 matmul primitive
 * descriptor can be created (dnnl_unimplemented without AVX512_BF16/AMX). */
int tfc_bf16_native(void);

/* out[m,n] = bf16(op(a)) bf16(op(b)), float32 accumulation (MatMul's
 * float32 kernel when the option is on). Errors go to `c`. */
void tfc_bf16_gemm(tfc_kernel_ctx *c, int ta, int tb, int64_t m, int64_t n, int64_t k,
                   const float *a, const float *b, float *out);

/* One pass of a float32 convolution (tfc_conv_dnnl's arguments) on
 * operands rounded to bfloat16: through oneDNN's float32 primitives, or
 * direct loops where those decline. Returns 1 when done, -1 after a kernel
 * error. */
int tfc_bf16_conv(tfc_kernel_ctx *c, int pass, const tfc_conv_geom *q, const float *x,
                  const float *f, const float *dy, float *out);

#endif
