/* Shared by the 8-bit quantization ops (quantize.c, quantize_matmul.c,
 * quantize_nn.c): TensorFlow's conversions between floats and quantized
 * codes (its quantization_utils.h, written here from its formulas), element
 * access for qint8/quint8/qint32 tensors, and the int8 GEMM.
 *
 * A quantized tensor is its codes plus a float range [min, max] passed
 * beside it as two scalar tensors. Code q of a type with lowest code L and
 * 2^bits codes stands for (TensorFlow's MIN_FIRST reading)
 *     round(min / s) * s + (q - L) * s,   s = (max - min) / (2^bits - 1). */
#ifndef TFC_OPS_QUANTIZE_INTERNAL_H
#define TFC_OPS_QUANTIZE_INTERNAL_H

#include "graph/op_registry.h"

#include <math.h>
#include <stdint.h>

static inline int tfc_is_quantized(tfc_dtype dt) {
    return dt == TFC_QINT8 || dt == TFC_QUINT8 || dt == TFC_QINT32;
}

/* Lowest and highest code of a quantized type, and its number of bits. */
static inline int64_t tfc_q_lowest(tfc_dtype dt) {
    return dt == TFC_QINT8 ? -128 : dt == TFC_QUINT8 ? 0 : INT32_MIN;
}
static inline int64_t tfc_q_highest(tfc_dtype dt) {
    return dt == TFC_QINT8 ? 127 : dt == TFC_QUINT8 ? 255 : INT32_MAX;
}
static inline int tfc_q_bits(tfc_dtype dt) { return dt == TFC_QINT32 ? 32 : 8; }

static inline int64_t tfc_q_get(const tfc_tensor *t, int64_t i) {
    switch (t->dtype) {
    case TFC_QINT8: return ((const int8_t *)t->data)[i];
    case TFC_QUINT8: return ((const uint8_t *)t->data)[i];
    default: return ((const int32_t *)t->data)[i];
    }
}
static inline void tfc_q_set(tfc_tensor *t, int64_t i, int64_t v) {
    switch (t->dtype) {
    case TFC_QINT8: ((int8_t *)t->data)[i] = (int8_t)v; break;
    case TFC_QUINT8: ((uint8_t *)t->data)[i] = (uint8_t)v; break;
    default: ((int32_t *)t->data)[i] = (int32_t)v; break;
    }
}

/* round(v), halves away from zero (C's roundf, TensorFlow's Eigen
 * round), for |v| < 2^23, in integer steps that vectorize (roundf is a
 * library call per element). */
static inline int32_t tfc_q_round(float v) {
    int32_t i = (int32_t)v;
    float d = v - (float)i; /* exact: the fraction */
    return i + (d >= 0.5f) - (d <= -0.5f);
}

/* TensorFlow's FloatToQuantizedUnclamped: the code of x in [mn, mx]
 * (rounding half away from zero), not clamped to the type. */
static inline int64_t tfc_q_from_float_unclamped(tfc_dtype dt, float x, float mn, float mx) {
    int64_t lowest = tfc_q_lowest(dt);
    if (mn == mx) return lowest;
    double steps = ldexp(1.0, tfc_q_bits(dt));
    double range = ((double)mx - mn) * (steps / (steps - 1.0));
    double scale = steps / range;
    return (int64_t)round(x * scale) - (int64_t)round(mn * scale) + lowest;
}

/* TensorFlow's FloatToQuantized: the same, clamped to the type's codes. */
static inline int64_t tfc_q_from_float(tfc_dtype dt, float x, float mn, float mx) {
    int64_t q = tfc_q_from_float_unclamped(dt, x, mn, mx);
    int64_t lo = tfc_q_lowest(dt), hi = tfc_q_highest(dt);
    return q < lo ? lo : q > hi ? hi : q;
}

/* TensorFlow's QuantizedToFloat: the value code q stands for in [mn, mx]. */
static inline float tfc_q_to_float(tfc_dtype dt, int64_t q, float mn, float mx) {
    if (mn == mx) return mn;
    double steps = ldexp(1.0, tfc_q_bits(dt));
    double scale = ((double)mx - mn) * (steps / (steps - 1.0)) / steps;
    double min_rounded = round(mn / (float)scale) * (float)scale;
    return (float)(min_rounded + (double)(q - tfc_q_lowest(dt)) * scale);
}

/* TensorFlow's QuantizationRangeForMultiplication: the range of a qint32
 * product of codes of a (type ta, [amin, amax]) and b. */
static inline void tfc_q_product_range(tfc_dtype ta, float amin, float amax, tfc_dtype tb,
                                       float bmin, float bmax, float *cmin, float *cmax) {
    float la = (amax - amin) / (float)(tfc_q_highest(ta) - tfc_q_lowest(ta));
    float lb = (bmax - bmin) / (float)(tfc_q_highest(tb) - tfc_q_lowest(tb));
    float lc = la * lb;
    *cmin = lc * (float)INT32_MIN;
    *cmax = lc * (float)INT32_MAX;
}

/* Reads scalar float input i (a range bound) into *v; 0, or -1 after a
 * kernel error naming the input. */
int tfc_q_scalar_input(tfc_kernel_ctx *c, int i, const char *what, float *v);
/* Sets outputs first and first+1 to scalar floats mn and mx; 0 or -1. */
int tfc_q_range_outputs(tfc_kernel_ctx *c, int first, float mn, float mx);
/* Shape-function helpers: input i must be a quantized type (the name of
 * the attr it comes from in `attr`, recorded on the node), inputs [first,
 * first+n) float scalars (or of unknown shape). 0 or -1. */
int tfc_q_infer_quantized(tfc_infer_ctx *c, int i, const char *attr);
int tfc_q_infer_ranges(tfc_infer_ctx *c, int first, int n);
/* The type attr `name` (default dflt when absent, recorded then): must be
 * a quantized type. Returns it, or TFC_INVALID_DTYPE after an error. */
tfc_dtype tfc_q_infer_type_attr(tfc_infer_ctx *c, const char *name, tfc_dtype dflt);
/* Sets outputs first, first+1 to float scalars. */
void tfc_q_infer_range_outputs(tfc_infer_ctx *c, int first);

/* C[m,n] (int32, row-major) = sum_k (A[i,k] - ao) (B[k,j] - bo) with A
 * [m,k] (or [k,m] when ta) and B [k,n] (or [n,k] when tb) of int8 or uint8
 * codes (a_signed, b_signed). From 8 rows on, oneDNN's u8s8s32 GEMM where
 * it gives the exact result (A uint8, B int8 whose codes are within +-64:
 * CPUs without VNNI add pairs of products in saturating int16); fewer rows
 * of uint8 A against a transposed int8 B, both offsets 0 (a quantized
 * layer's matrix-vector products), an AVX2 dot-product loop; else a
 * portable loop. C is cut over the pool. */
void tfc_q_gemm(tfc_threadpool *pool, int ta, int tb, int64_t m, int64_t n, int64_t k,
                const void *a, int a_signed, int32_t ao, const void *b, int b_signed, int32_t bo,
                int32_t *c);
/* The plain loop alone, no special cases (the reference the tests
 * compare with). */
void tfc_q_gemm_portable(int ta, int tb, int64_t m, int64_t n, int64_t k, const void *a,
                         int a_signed, int32_t ao, const void *b, int b_signed, int32_t bo,
                         int32_t *c);

/* Ops of quantize_matmul.c and quantize_nn.c, listed in tfc_ops_quantize[]
 * (quantize.c). */
int tfc_q_matmul_infer(tfc_infer_ctx *c);
void tfc_q_matmul_kernel(tfc_kernel_ctx *c);
int tfc_q_conv2d_infer(tfc_infer_ctx *c);
void tfc_q_conv2d_kernel(tfc_kernel_ctx *c);
int tfc_q_relu_infer(tfc_infer_ctx *c);
void tfc_q_relu_kernel(tfc_kernel_ctx *c);
void tfc_q_relu6_kernel(tfc_kernel_ctx *c);
int tfc_q_bias_add_infer(tfc_infer_ctx *c);
void tfc_q_bias_add_kernel(tfc_kernel_ctx *c);
int tfc_q_pool_infer(tfc_infer_ctx *c);
void tfc_q_max_pool_kernel(tfc_kernel_ctx *c);
void tfc_q_avg_pool_kernel(tfc_kernel_ctx *c);

/* The geometry of a QuantizedConv2D (NHWC input, HWIO filter). */
typedef struct tfc_q_conv_geom {
    int64_t n, h, w, c, kh, kw, o, oh, ow, sh, sw, ph, pw;
} tfc_q_conv_geom;

/* quint8 x by qint8 f into qint32 y through oneDNN's int8 convolution
 * (quantize_conv_dnnl.c), both codes of 0.0 being 0. Returns 1 when done,
 * 0 when declined (filter codes beyond +-64, no fast primitive), -1 after
 * a kernel error. */
int tfc_q_conv_dnnl(tfc_kernel_ctx *c, const tfc_q_conv_geom *q, const uint8_t *x,
                    const int8_t *f, int32_t *y);

#endif
