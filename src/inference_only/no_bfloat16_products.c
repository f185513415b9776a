/* The inference-only build (cmake/mobile.cmake) has no oneDNN, so no
 * bfloat16 products (src/ops/bfloat16_products.c): the session option asks
 * for nothing here and MatMul keeps its float32 path. */
#include "ops/bfloat16_products.h"

int tfc_bf16_products_on(const tfc_kernel_ctx *c) {
    (void)c;
    return 0;
}

void tfc_bf16_gemm(tfc_kernel_ctx *c, int ta, int tb, int64_t m, int64_t n, int64_t k,
                   const float *a, const float *b, float *out) {
    (void)ta, (void)tb, (void)m, (void)n, (void)k, (void)a, (void)b, (void)out;
    tfc_kernel_error(c, TFC_UNIMPLEMENTED,
                     "bfloat16 products are not part of the inference-only build");
}
