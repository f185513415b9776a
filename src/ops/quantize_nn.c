/* TensorFlow's quantized layers around the products: QuantizedRelu,
 * QuantizedRelu6, QuantizedBiasAdd, QuantizedMaxPool and QuantizedAvgPool
 * (quantized_activation_ops.cc, quantized_bias_add_op.cc,
 * quantized_pooling_ops.cc). Activations and pools work on the codes and
 * keep the input's range; BiasAdd adds in qint32 in the range TensorFlow's
 * GetOutputMinAndMaxForQuantizedAdd picks. Listed in tfc_ops_quantize[]
 * (quantize.c). */
#include "ops/conv_internal.h"
#include "ops/quantize_internal.h"

#include <stdlib.h>

/* ---- QuantizedRelu / QuantizedRelu6(features, min, max) -> (activations, min, max) ---- */

int tfc_q_relu_infer(tfc_infer_ctx *c) {
    if (tfc_q_infer_quantized(c, 0, "Tinput") || tfc_q_infer_ranges(c, 1, 2)) return -1;
    tfc_dtype out = tfc_q_infer_type_attr(c, "out_type", TFC_QUINT8);
    if (out == TFC_INVALID_DTYPE) return -1;
    tfc_infer_set_output(c, 0, out, tfc_infer_input_shape(c, 0));
    tfc_q_infer_range_outputs(c, 1);
    return 0;
}

/* Clamps codes to [code of 0.0, code of `top`] (top < 0: no upper bound). */
static void q_relu(tfc_kernel_ctx *c, float top) {
    const tfc_tensor *x = c->inputs[0];
    float mn, mx;
    if (tfc_q_scalar_input(c, 1, "min_features", &mn) ||
        tfc_q_scalar_input(c, 2, "max_features", &mx))
        return;
    tfc_dtype out = tfc_attrs_type(&c->node->attrs, "out_type", TFC_QUINT8);
    if (out != x->dtype) { /* TensorFlow's kernels keep the type */
        tfc_kernel_error(c, TFC_UNIMPLEMENTED, "out_type %s differs from the input's %s",
                         tfc_dtype_name(out), tfc_dtype_name(x->dtype));
        return;
    }
    int64_t lo = tfc_q_from_float(x->dtype, 0.0f, mn, mx);
    int64_t hi = top < 0 ? tfc_q_highest(x->dtype) : tfc_q_from_float(x->dtype, top, mn, mx);
    tfc_tensor *y = tfc_kernel_output(c, 0, out, x->rank, x->dims);
    if (!y) return;
    if (x->dtype == TFC_QUINT8) {
        const uint8_t *xv = x->data;
        uint8_t *yv = y->data, l = (uint8_t)lo, h = (uint8_t)hi;
        for (int64_t i = 0; i < x->nelem; i++) yv[i] = xv[i] < l ? l : xv[i] > h ? h : xv[i];
    } else {
        for (int64_t i = 0; i < x->nelem; i++) {
            int64_t v = tfc_q_get(x, i);
            tfc_q_set(y, i, v < lo ? lo : v > hi ? hi : v);
        }
    }
    tfc_q_range_outputs(c, 1, mn, mx);
}

void tfc_q_relu_kernel(tfc_kernel_ctx *c) { q_relu(c, -1.0f); }
void tfc_q_relu6_kernel(tfc_kernel_ctx *c) { q_relu(c, 6.0f); }

/* ---- QuantizedBiasAdd(input, bias, min_input, max_input, min_bias, max_bias)
 *          -> (output, min_out, max_out) ---- */

int tfc_q_bias_add_infer(tfc_infer_ctx *c) {
    if (tfc_q_infer_quantized(c, 0, "T1") || tfc_q_infer_quantized(c, 1, "T2") ||
        tfc_q_infer_ranges(c, 2, 4))
        return -1;
    tfc_dtype out = tfc_q_infer_type_attr(c, "out_type", TFC_INVALID_DTYPE);
    if (out == TFC_INVALID_DTYPE) return -1;
    tfc_shape x = tfc_infer_input_shape(c, 0), b = tfc_infer_input_shape(c, 1);
    if (b.rank >= 0 && b.rank != 1)
        return tfc_infer_error(c, "bias must be a vector, got rank %d", b.rank);
    if (x.rank == 0) return tfc_infer_error(c, "input must have at least one dimension");
    if (x.rank > 0 && b.rank == 1 && x.dims[x.rank - 1] >= 0 && b.dims[0] >= 0 &&
        x.dims[x.rank - 1] != b.dims[0])
        return tfc_infer_error(c, "bias has %lld elements, the input's last dimension %lld",
                               (long long)b.dims[0], (long long)x.dims[x.rank - 1]);
    tfc_infer_set_output(c, 0, out, x);
    tfc_q_infer_range_outputs(c, 1);
    return 0;
}

void tfc_q_bias_add_kernel(tfc_kernel_ctx *c) {
    const tfc_tensor *x = c->inputs[0], *b = c->inputs[1];
    float r[4];
    static const char *const names[] = {"min_input", "max_input", "min_bias", "max_bias"};
    for (int i = 0; i < 4; i++)
        if (tfc_q_scalar_input(c, 2 + i, names[i], &r[i])) return;
    tfc_dtype out = tfc_attrs_type(&c->node->attrs, "out_type", TFC_QINT32);
    if (out != TFC_QINT32) {
        tfc_kernel_error(c, TFC_UNIMPLEMENTED, "only out_type qint32 is supported, got %s",
                         tfc_dtype_name(out));
        return;
    }
    int64_t nb = b->rank == 1 ? b->dims[0] : -1;
    if (x->rank < 1 || nb != x->dims[x->rank - 1]) {
        char bx[64], bb[64];
        tfc_kernel_error(c, TFC_INVALID_ARGUMENT, "bias %s does not match input %s",
                         tfc_dims_str(b->rank, b->dims, bb, sizeof bb),
                         tfc_dims_str(x->rank, x->dims, bx, sizeof bx));
        return;
    }
    /* both move into a symmetric qint32 range wide enough for either,
     * 2^17 times their largest bound, and add there */
    float top = fmaxf(fmaxf(r[1], -r[0]), fmaxf(r[3], -r[2])) * (float)(1 << 17);
    tfc_tensor *y = tfc_kernel_output(c, 0, TFC_QINT32, x->rank, x->dims);
    if (!y) return;
    int32_t *yv = y->data, bq[4096], *bias = nb <= 4096 ? bq : malloc((size_t)nb * sizeof *bias);
    if (!bias) {
        tfc_kernel_error(c, TFC_RESOURCE_EXHAUSTED, "out of memory");
        return;
    }
    for (int64_t j = 0; j < nb; j++)
        bias[j] = (int32_t)tfc_q_from_float(TFC_QINT32,
                                            tfc_q_to_float(b->dtype, tfc_q_get(b, j), r[2], r[3]),
                                            -top, top);
    /* the input's codes through a table when 8-bit */
    int32_t table[256];
    int small = x->dtype != TFC_QINT32;
    for (int v = 0; small && v < 256; v++) {
        int64_t q = tfc_q_lowest(x->dtype) + v;
        table[v] = (int32_t)tfc_q_from_float(TFC_QINT32, tfc_q_to_float(x->dtype, q, r[0], r[1]),
                                             -top, top);
    }
    for (int64_t i = 0; i < x->nelem; i++) {
        int64_t q = tfc_q_get(x, i);
        int64_t v = small ? table[q - tfc_q_lowest(x->dtype)]
                          : tfc_q_from_float(TFC_QINT32, tfc_q_to_float(x->dtype, q, r[0], r[1]),
                                             -top, top);
        int64_t s = v + bias[i % nb];
        yv[i] = (int32_t)(s < INT32_MIN ? INT32_MIN : s > INT32_MAX ? INT32_MAX : s);
    }
    if (bias != bq) free(bias);
    tfc_q_range_outputs(c, 1, -top, top);
}

/* ---- QuantizedMaxPool / QuantizedAvgPool(input, min_input, max_input)
 *          -> (output, min_output, max_output) ---- */

int tfc_q_pool_infer(tfc_infer_ctx *c) {
    if (tfc_q_infer_quantized(c, 0, "T") || tfc_q_infer_ranges(c, 1, 2) || tfc_window_parse(c, 1))
        return -1;
    const tfc_window *w = c->op_data;
    tfc_shape x = tfc_infer_input_shape(c, 0);
    if (x.rank >= 0 && x.rank != 4)
        return tfc_infer_error(c, "input must be 4-dimensional, got rank %d", x.rank);
    tfc_shape o = {.rank = 4, .dims = {-1, -1, -1, -1}};
    if (x.rank == 4) {
        o.dims[0] = x.dims[0];
        o.dims[3] = x.dims[3];
        for (int d = 0; d < 2; d++) {
            int64_t pad;
            if (x.dims[1 + d] >= 0 &&
                tfc_window_out(x.dims[1 + d], d ? w->kw : w->kh, d ? w->sw : w->sh, 1, w->same,
                               &o.dims[1 + d], &pad))
                return tfc_infer_error(c, "the window is larger than the input (VALID padding)");
        }
    }
    tfc_infer_set_output(c, 0, tfc_infer_input_dtype(c, 0), o);
    tfc_q_infer_range_outputs(c, 1);
    return 0;
}

/* Max (avg 0) or average (avg 1, of the in-bounds codes, rounded half away
 * from zero) over each window. */
static void q_pool(tfc_kernel_ctx *c, int avg) {
    const tfc_window *w = c->node->op_data;
    const tfc_tensor *x = c->inputs[0];
    float mn, mx;
    if (tfc_q_scalar_input(c, 1, "min_input", &mn) || tfc_q_scalar_input(c, 2, "max_input", &mx))
        return;
    char buf[64];
    int64_t oh, ow, ph, pw;
    if (x->rank != 4 || tfc_window_out(x->dims[1], w->kh, w->sh, 1, w->same, &oh, &ph) ||
        tfc_window_out(x->dims[2], w->kw, w->sw, 1, w->same, &ow, &pw)) {
        tfc_kernel_error(c, TFC_INVALID_ARGUMENT, "input %s does not fit the window",
                         tfc_dims_str(x->rank, x->dims, buf, sizeof buf));
        return;
    }
    int64_t n = x->dims[0], h = x->dims[1], wd = x->dims[2], ch = x->dims[3];
    tfc_tensor *y = tfc_kernel_output(c, 0, x->dtype, 4, (int64_t[]){n, oh, ow, ch});
    if (!y) return;
    int64_t o = 0;
    for (int64_t b = 0; b < n; b++)
        for (int64_t oy = 0; oy < oh; oy++)
            for (int64_t ox = 0; ox < ow; ox++)
                for (int64_t k = 0; k < ch; k++, o++) {
                    int64_t best = 0, sum = 0, count = 0;
                    for (int64_t iy = oy * w->sh - ph; iy < oy * w->sh - ph + w->kh; iy++)
                        for (int64_t ix = ox * w->sw - pw; ix < ox * w->sw - pw + w->kw; ix++) {
                            if (iy < 0 || iy >= h || ix < 0 || ix >= wd) continue;
                            int64_t v = tfc_q_get(x, ((b * h + iy) * wd + ix) * ch + k);
                            best = !count || v > best ? v : best;
                            sum += v;
                            count++;
                        }
                    tfc_q_set(y, o, avg ? (int64_t)round((double)sum / (double)(count ? count : 1))
                                        : best);
                }
    tfc_q_range_outputs(c, 1, mn, mx);
}

void tfc_q_max_pool_kernel(tfc_kernel_ctx *c) { q_pool(c, 0); }
void tfc_q_avg_pool_kernel(tfc_kernel_ctx *c) { q_pool(c, 1); }
