/* The inference-only build (cmake/mobile.cmake) has no oneDNN: every
 * convolution pass goes to im2col and the portable GEMM (gemm_portable.c). */
#include "ops/conv_internal.h"

int tfc_conv_dnnl(tfc_kernel_ctx *c, int pass, const tfc_conv_geom *q, const float *x,
                  const float *f, const float *dy, float *out) {
    (void)c, (void)pass, (void)q, (void)x, (void)f, (void)dy, (void)out;
    return 0; /* "left to im2col + GEMM" */
}
