/* TensorFlow's 8-bit quantization ops, part one: QuantizeV2 (float to
 * codes), Dequantize (codes to float), Requantize (qint32 codes into a new
 * 8-bit range) and RequantizationRange (the range a qint32 tensor uses),
 * with TensorFlow's modes MIN_COMBINED, MIN_FIRST and SCALED and its
 * formulas (quantize_op.cc, dequantize_op.cc, requantize.cc). Also the
 * shared helpers of quantize_internal.h, and the table of every quantized
 * op, tfc_ops_quantize[] (the products are in quantize_matmul.c, the rest
 * in quantize_nn.c). Quantized ops have no gradients, as in TensorFlow.
 *
 * One range per tensor: TensorFlow's per-channel `axis` (not -1) is
 * refused with an error naming the node. */
#include "core/vector_clones.h"
#include "ops/quantize_internal.h"

#include <string.h>

/* ---- shared helpers ---- */

int tfc_q_scalar_input(tfc_kernel_ctx *c, int i, const char *what, float *v) {
    const tfc_tensor *t = c->inputs[i];
    if (t->dtype != TFC_FLOAT || t->nelem != 1) {
        char buf[64];
        tfc_kernel_error(c, TFC_INVALID_ARGUMENT, "%s must be a float32 scalar, got %s %s", what,
                         tfc_dtype_name(t->dtype), tfc_dims_str(t->rank, t->dims, buf, sizeof buf));
        return -1;
    }
    *v = *(const float *)t->data;
    if (!isfinite(*v)) {
        tfc_kernel_error(c, TFC_INVALID_ARGUMENT, "%s must be finite, got %g", what, (double)*v);
        return -1;
    }
    return 0;
}

int tfc_q_range_outputs(tfc_kernel_ctx *c, int first, float mn, float mx) {
    tfc_tensor *a = tfc_kernel_output(c, first, TFC_FLOAT, 0, NULL);
    tfc_tensor *b = a ? tfc_kernel_output(c, first + 1, TFC_FLOAT, 0, NULL) : NULL;
    if (!b) return -1;
    *(float *)a->data = mn;
    *(float *)b->data = mx;
    return 0;
}

int tfc_q_infer_quantized(tfc_infer_ctx *c, int i, const char *attr) {
    tfc_dtype dt = tfc_infer_input_dtype(c, i);
    if (!tfc_is_quantized(dt))
        return tfc_infer_error(c, "input %d must be qint8, quint8 or qint32, got %s", i,
                               tfc_dtype_name(dt));
    tfc_attrs_set_int(c->attrs, attr, TFC_ATTR_TYPE, dt);
    return 0;
}

int tfc_q_infer_ranges(tfc_infer_ctx *c, int first, int n) {
    for (int i = first; i < first + n; i++) {
        tfc_dtype dt = tfc_infer_input_dtype(c, i);
        tfc_shape s = tfc_infer_input_shape(c, i);
        if (dt != TFC_FLOAT)
            return tfc_infer_error(c, "input %d (a range bound) must be float32, got %s", i,
                                   tfc_dtype_name(dt));
        if (s.rank >= 0 && tfc_shape_num_elements(&s) > 1)
            return tfc_infer_error(c, "input %d (a range bound) must be a scalar", i);
    }
    return 0;
}

tfc_dtype tfc_q_infer_type_attr(tfc_infer_ctx *c, const char *name, tfc_dtype dflt) {
    const tfc_attr *a = tfc_attrs_find(c->attrs, name);
    tfc_dtype dt = a ? tfc_attrs_type(c->attrs, name, dflt) : dflt;
    if (!tfc_is_quantized(dt)) {
        tfc_infer_error(c, "attr '%s' must be qint8, quint8 or qint32, got %s", name,
                        tfc_dtype_name(dt));
        return TFC_INVALID_DTYPE;
    }
    if (!a) tfc_attrs_set_int(c->attrs, name, TFC_ATTR_TYPE, dt);
    return dt;
}

void tfc_q_infer_range_outputs(tfc_infer_ctx *c, int first) {
    tfc_infer_set_output(c, first, TFC_FLOAT, tfc_shape_scalar());
    tfc_infer_set_output(c, first + 1, TFC_FLOAT, tfc_shape_scalar());
}

/* ---- modes ---- */

enum { MIN_COMBINED, MIN_FIRST, SCALED };

static int parse_mode(const char *s) {
    return !s || !strcmp(s, "MIN_COMBINED") ? MIN_COMBINED
           : !strcmp(s, "MIN_FIRST")        ? MIN_FIRST
           : !strcmp(s, "SCALED")           ? SCALED
                                            : -1;
}

/* Checks and records the string attr `name` (default dflt) against its
 * allowed values; returns it or NULL after an error. */
static const char *infer_string_attr(tfc_infer_ctx *c, const char *name, const char *dflt,
                                     const char *const *allowed) {
    const char *s = tfc_attrs_string(c->attrs, name);
    if (!s) {
        tfc_attrs_set_string(c->attrs, name, dflt);
        return dflt;
    }
    for (; *allowed; allowed++)
        if (!strcmp(s, *allowed)) return s;
    tfc_infer_error(c, "attr '%s' is \"%s\", not one of its allowed values", name, s);
    return NULL;
}

static const char *const modes[] = {"MIN_COMBINED", "MIN_FIRST", "SCALED", NULL};

/* narrow_range (false) and axis (-1): TensorFlow's defaults; only axis -1 */
static int infer_narrow_axis(tfc_infer_ctx *c) {
    if (!tfc_attrs_find(c->attrs, "narrow_range"))
        tfc_attrs_set_int(c->attrs, "narrow_range", TFC_ATTR_BOOL, 0);
    if (!tfc_attrs_find(c->attrs, "axis")) tfc_attrs_set_int(c->attrs, "axis", TFC_ATTR_INT, -1);
    int64_t axis = tfc_attrs_int(c->attrs, "axis", -1);
    if (axis != -1)
        return tfc_infer_error(c, "attr 'axis' is %lld: only -1 (one range for the whole "
                                  "tensor) is supported",
                               (long long)axis);
    return 0;
}

/* ---- QuantizeV2(input, min_range, max_range) -> (output, output_min, output_max) ---- */

static int quantize_v2_infer(tfc_infer_ctx *c) {
    static const char *const rounds[] = {"HALF_AWAY_FROM_ZERO", "HALF_TO_EVEN", NULL};
    if (tfc_infer_input_dtype(c, 0) != TFC_FLOAT)
        return tfc_infer_error(c, "input must be float32, got %s",
                               tfc_dtype_name(tfc_infer_input_dtype(c, 0)));
    if (tfc_q_infer_ranges(c, 1, 2)) return -1;
    tfc_dtype t = tfc_q_infer_type_attr(c, "T", TFC_QUINT8);
    const char *mode = infer_string_attr(c, "mode", "MIN_COMBINED", modes);
    const char *round = infer_string_attr(c, "round_mode", "HALF_AWAY_FROM_ZERO", rounds);
    if (t == TFC_INVALID_DTYPE || !mode || !round || infer_narrow_axis(c)) return -1;
    if (!tfc_attrs_find(c->attrs, "ensure_minimum_range"))
        tfc_attrs_set_float(c->attrs, "ensure_minimum_range", 0.01);
    if (!strcmp(round, "HALF_TO_EVEN") && strcmp(mode, "SCALED"))
        return tfc_infer_error(c, "round_mode HALF_TO_EVEN is only supported with mode SCALED, "
                                  "not %s",
                               mode);
    tfc_infer_set_output(c, 0, t, tfc_infer_input_shape(c, 0));
    tfc_q_infer_range_outputs(c, 1);
    return 0;
}

/* The largest float that converts to a code of the type: qint32's highest
 * code is not a float (TensorFlow's upper_bound_float). */
#define Q_HI_FLOAT(HI) fminf((float)(HI), 2.147483520e+09f)

/* The three conversions, per output type, with TensorFlow's float
 * arithmetic (its Eigen expressions). */
/* Clamps by comparisons, which vectorize (fminf and fmaxf are library
 * calls in C11); a NaN becomes lo. */
#define Q_MIN(v, hi) ((v) < (hi) ? (v) : (hi))
#define Q_CLAMP(v, lo, hi) Q_MIN((v) > (lo) ? (v) : (lo), hi)

/* 8-bit codes round with tfc_q_round, after clamping to a little past
 * the codes (so the rounding cannot overflow); qint32 with roundf. */
#define Q_ROUND(CT, v) (sizeof(CT) == 1 ? (float)tfc_q_round(v) : roundf(v))
#define Q_PAST(CT, HI) (sizeof(CT) == 1 ? 1000.0f : 3.0e9f) /* beyond any 8-bit code */
#define DEFINE_QUANTIZE(NAME, CT, LO, HI)                                                        \
    TFC_VECTOR_CLONES static void quantize_min_combined_##NAME(const float *x, int64_t n,       \
                                                               float mn, float mx, CT *y) {     \
        float scale = (float)(((double)HI - (double)LO) / (mx - mn));                           \
        float half = LO < 0 ? (float)(((double)HI - (double)LO + 1) / 2.0) : 0.0f;              \
        for (int64_t i = 0; i < n; i++) {                                                       \
            float v = (Q_CLAMP(x[i], mn, mx) - mn) * scale;                                \
            y[i] = LO < 0 ? (CT)Q_MIN(Q_ROUND(CT, v - half), Q_HI_FLOAT(HI)) : (CT)(v + 0.5f);  \
        }                                                                                       \
    }                                                                                           \
    TFC_VECTOR_CLONES static void quantize_min_first_##NAME(const float *x, int64_t n,          \
                                                            float mn, float mx, CT *y) {        \
        double steps = ldexp(1.0, (int)sizeof(CT) * 8);                                         \
        float scale = mn == mx ? 0.0f : (float)((steps - 1.0) / (mx - mn));                     \
        float shift = roundf(mn * scale) - (float)LO;                                           \
        float lo = fmaxf((float)LO, -2.147483648e+09f), hi = fminf((float)HI, 2.147483520e+09f); \
        float vlo = shift + lo - Q_PAST(CT, HI), vhi = shift + hi + Q_PAST(CT, HI);             \
        for (int64_t i = 0; i < n; i++) {                                                       \
            float v = sizeof(CT) == 1 ? Q_CLAMP(x[i] * scale, vlo, vhi) : x[i] * scale;    \
            y[i] = (CT)(int32_t)Q_CLAMP(Q_ROUND(CT, v) - shift, lo, hi);                   \
        }                                                                                       \
    }                                                                                           \
    TFC_VECTOR_CLONES static void quantize_scaled_##NAME(const float *x, int64_t n, float scale, \
                                                         float mn, float mx, int even, CT *y) { \
        float hi = Q_HI_FLOAT(HI);                                                              \
        if (even)                                                                               \
            for (int64_t i = 0; i < n; i++)                                                     \
                y[i] = (CT)Q_MIN(rintf(Q_CLAMP(x[i], mn, mx) * scale), hi);                \
        else                                                                                    \
            for (int64_t i = 0; i < n; i++)                                                     \
                y[i] = (CT)Q_MIN(Q_ROUND(CT, Q_CLAMP(x[i], mn, mx) * scale), hi);          \
    }
DEFINE_QUANTIZE(qint8, int8_t, -128, 127)
DEFINE_QUANTIZE(quint8, uint8_t, 0, 255)
DEFINE_QUANTIZE(qint32, int32_t, INT32_MIN, INT32_MAX)

/* MIN_FIRST to 8-bit codes with AVX2, giving the loop above's codes (GCC
 * leaves it scalar, "control flow in loop": 2 cycles an element, a tenth
 * of a quantized MLP's time at batch 100): truncation then the +-1 of
 * tfc_q_round, and maxps/minps, which pick as Q_CLAMP does (a NaN becomes
 * the lower bound). The loop's first clamp only keeps its integer
 * conversion in range; rounding in floats needs none (infinities and
 * huge values still end at the bounds). The codes are packed 32 at a
 * time. Returns how many leading elements it did (a multiple of 32); the
 * scalar loop does the rest. */
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

__attribute__((target("avx2"))) static int64_t quantize_min_first_8bit_avx2(
    const float *x, int64_t n, float mn, float mx, int is_signed, void *out) {
    double steps = 256.0;
    float scale = mn == mx ? 0.0f : (float)((steps - 1.0) / (mx - mn));
    float lo = is_signed ? -128.0f : 0.0f, hi = lo + 255.0f;
    float shift = roundf(mn * scale) - lo;
    __m256 vs = _mm256_set1_ps(scale), vshift = _mm256_set1_ps(shift);
    __m256 clo = _mm256_set1_ps(lo), chi = _mm256_set1_ps(hi), one = _mm256_set1_ps(1.0f);
    __m256 half = _mm256_set1_ps(0.5f), mhalf = _mm256_set1_ps(-0.5f);
    __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
    uint8_t *y = out;
    int64_t i = 0;
    for (; i + 32 <= n; i += 32) {
        __m256i q[4];
        for (int k = 0; k < 4; k++) {
            __m256 v = _mm256_mul_ps(_mm256_loadu_ps(x + i + 8 * k), vs);
            __m256 t = _mm256_round_ps(v, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
            __m256 d = _mm256_sub_ps(v, t);
            t = _mm256_add_ps(t, _mm256_and_ps(_mm256_cmp_ps(d, half, _CMP_GE_OQ), one));
            t = _mm256_sub_ps(t, _mm256_and_ps(_mm256_cmp_ps(d, mhalf, _CMP_LE_OQ), one));
            t = _mm256_min_ps(_mm256_max_ps(_mm256_sub_ps(t, vshift), clo), chi);
            q[k] = _mm256_cvttps_epi32(t);
        }
        __m256i p;
        if (is_signed)
            p = _mm256_packs_epi16(_mm256_packs_epi32(q[0], q[1]), _mm256_packs_epi32(q[2], q[3]));
        else
            p = _mm256_packus_epi16(_mm256_packus_epi32(q[0], q[1]),
                                    _mm256_packus_epi32(q[2], q[3]));
        /* the packs interleave 128-bit lanes: put the 4-code groups back in order */
        _mm256_storeu_si256((__m256i *)(y + i), _mm256_permutevar8x32_epi32(p, order));
    }
    return i;
}
#endif

/* MIN_FIRST to qint8/quint8, through the AVX2 loop where the CPU has it. */
static void quantize_min_first_8bit(const float *x, int64_t n, float mn, float mx, tfc_dtype t,
                                    void *y) {
    int64_t done = 0;
#if defined(__x86_64__) && defined(__GNUC__)
    if (__builtin_cpu_supports("avx2"))
        done = quantize_min_first_8bit_avx2(x, n, mn, mx, t == TFC_QINT8, y);
#endif
    if (t == TFC_QINT8) quantize_min_first_qint8(x + done, n - done, mn, mx, (int8_t *)y + done);
    else quantize_min_first_quint8(x + done, n - done, mn, mx, (uint8_t *)y + done);
}

static void quantize_v2_kernel(tfc_kernel_ctx *c) {
    const tfc_attrs *at = &c->node->attrs;
    const tfc_tensor *x = c->inputs[0];
    float in_min, in_max;
    if (tfc_q_scalar_input(c, 1, "min_range", &in_min) ||
        tfc_q_scalar_input(c, 2, "max_range", &in_max))
        return;
    if (in_max < in_min) {
        tfc_kernel_error(c, TFC_INVALID_ARGUMENT,
                         "max_range (%g) must be larger than min_range (%g)", (double)in_max,
                         (double)in_min);
        return;
    }
    tfc_dtype t = tfc_attrs_type(at, "T", TFC_QUINT8);
    int mode = parse_mode(tfc_attrs_string(at, "mode"));
    const char *round = tfc_attrs_string(at, "round_mode");
    int even = round && !strcmp(round, "HALF_TO_EVEN");
    /* TensorFlow widens the range to hold 0 and to be at least
     * ensure_minimum_range * max(1, |bounds|) wide */
    float ens = (float)tfc_attrs_float(at, "ensure_minimum_range", 0.01);
    float mn = fminf(0.0f, in_min);
    float eps = fmaxf(1.0f, fmaxf(fabsf(in_min), fabsf(in_max))) * ens;
    float mx = fmaxf(0.0f, fmaxf(in_max, mn + eps));
    if (mode == MIN_COMBINED && !(mx > mn)) {
        tfc_kernel_error(c, TFC_INVALID_ARGUMENT,
                         "the range [%g, %g] is empty (ensure_minimum_range is 0)", (double)mn,
                         (double)mx);
        return;
    }
    tfc_tensor *y = tfc_kernel_output(c, 0, t, x->rank, x->dims);
    if (!y) return;
    const float *xv = x->data;
    if (mode == SCALED) {
        int64_t lo = tfc_q_lowest(t) + (tfc_attrs_int(at, "narrow_range", 0) ? 1 : 0);
        int64_t hi = tfc_q_highest(t);
        float from_min = (float)lo * mn > 0 ? (float)lo / mn : 3.402823466e+38f;
        float from_max = (float)hi * mx > 0 ? (float)hi / mx : 3.402823466e+38f;
        float scale = fminf(from_min, from_max);
        mn = (float)lo / scale;
        mx = (float)hi / scale;
        if (t == TFC_QINT8) quantize_scaled_qint8(xv, x->nelem, scale, mn, mx, even, y->data);
        else if (t == TFC_QUINT8) quantize_scaled_quint8(xv, x->nelem, scale, mn, mx, even, y->data);
        else quantize_scaled_qint32(xv, x->nelem, scale, mn, mx, even, y->data);
    } else if (mode == MIN_FIRST) {
        if (t == TFC_QINT32) quantize_min_first_qint32(xv, x->nelem, mn, mx, y->data);
        else quantize_min_first_8bit(xv, x->nelem, mn, mx, t, y->data);
    } else {
        if (t == TFC_QINT8) quantize_min_combined_qint8(xv, x->nelem, mn, mx, y->data);
        else if (t == TFC_QUINT8) quantize_min_combined_quint8(xv, x->nelem, mn, mx, y->data);
        else quantize_min_combined_qint32(xv, x->nelem, mn, mx, y->data);
    }
    tfc_q_range_outputs(c, 1, mn, mx);
}

/* ---- Dequantize(input, min_range, max_range) -> output ---- */

static int dequantize_infer(tfc_infer_ctx *c) {
    if (tfc_q_infer_quantized(c, 0, "T") || tfc_q_infer_ranges(c, 1, 2) ||
        !infer_string_attr(c, "mode", "MIN_COMBINED", modes) || infer_narrow_axis(c))
        return -1;
    tfc_dtype out = tfc_attrs_type(c->attrs, "dtype", TFC_FLOAT);
    if (out != TFC_FLOAT)
        return tfc_infer_error(c, "attr 'dtype' must be float32, got %s", tfc_dtype_name(out));
    tfc_attrs_set_int(c->attrs, "dtype", TFC_ATTR_TYPE, TFC_FLOAT);
    tfc_infer_set_output(c, 0, TFC_FLOAT, tfc_infer_input_shape(c, 0));
    return 0;
}

#define DEFINE_DEQUANTIZE(NAME, CT)                                                           \
    TFC_VECTOR_CLONES static void dequantize_affine_##NAME(const CT *x, int64_t n, float scale, float offset,   \
                                         float *y) {                                          \
        for (int64_t i = 0; i < n; i++) y[i] = (float)x[i] * scale + offset;                  \
    }
DEFINE_DEQUANTIZE(qint8, int8_t)
DEFINE_DEQUANTIZE(quint8, uint8_t)
DEFINE_DEQUANTIZE(qint32, int32_t)

static void dequantize_kernel(tfc_kernel_ctx *c) {
    const tfc_attrs *at = &c->node->attrs;
    const tfc_tensor *x = c->inputs[0];
    float mn, mx;
    if (tfc_q_scalar_input(c, 1, "min_range", &mn) || tfc_q_scalar_input(c, 2, "max_range", &mx))
        return;
    tfc_dtype t = x->dtype;
    int mode = parse_mode(tfc_attrs_string(at, "mode"));
    float lowest = (float)tfc_q_lowest(t), highest = (float)tfc_q_highest(t);
    float scale, offset;
    if (mode == MIN_COMBINED) {
        /* ((q + half) * scale) + min */
        float half = t == TFC_QUINT8 ? 0.0f : (highest - lowest + 1.0f) / 2.0f;
        scale = (mx - mn) / (highest - lowest);
        offset = half * scale + mn;
    } else if (mode == MIN_FIRST) {
        /* (min_rounded - lowest * scale) + q * scale */
        double steps = ldexp(1.0, tfc_q_bits(t));
        scale = (float)((mx - mn) / (steps - 1.0));
        /* in double: for qint32 the two terms nearly cancel, and float
         * (TensorFlow's Eigen expression) would lose their difference */
        double min_rounded = mx == mn ? mn : (double)roundf(mn / scale) * scale;
        offset = (float)(min_rounded - (double)lowest * scale);
    } else {
        float lo = lowest + (tfc_attrs_int(at, "narrow_range", 0) ? 1.0f : 0.0f);
        scale = t == TFC_QUINT8 ? mx / highest : fmaxf(mn / lo, mx / highest);
        offset = 0.0f;
    }
    tfc_tensor *y = tfc_kernel_output(c, 0, TFC_FLOAT, x->rank, x->dims);
    if (!y) return;
    if (t == TFC_QINT8) dequantize_affine_qint8(x->data, x->nelem, scale, offset, y->data);
    else if (t == TFC_QUINT8) dequantize_affine_quint8(x->data, x->nelem, scale, offset, y->data);
    else dequantize_affine_qint32(x->data, x->nelem, scale, offset, y->data);
}

/* ---- Requantize(input, input_min, input_max, requested_output_min,
 *                 requested_output_max) -> (output, output_min, output_max) ---- */

static int requantize_infer(tfc_infer_ctx *c) {
    if (tfc_q_infer_quantized(c, 0, "Tinput") || tfc_q_infer_ranges(c, 1, 4)) return -1;
    tfc_dtype out = tfc_q_infer_type_attr(c, "out_type", TFC_INVALID_DTYPE);
    if (out == TFC_INVALID_DTYPE) return -1;
    tfc_infer_set_output(c, 0, out, tfc_infer_input_shape(c, 0));
    tfc_q_infer_range_outputs(c, 1);
    return 0;
}

/* Codes of x in [imin, imax] to codes of type `out` in [omin, omax]:
 * TensorFlow's RequantizeInNewRange (QuantizedToFloat, then
 * FloatToQuantized), its constants hoisted out of the loop. */
static void requantize(const tfc_tensor *x, float imin, float imax, tfc_tensor *y, float omin,
                       float omax) {
    double isteps = ldexp(1.0, tfc_q_bits(x->dtype)), osteps = ldexp(1.0, tfc_q_bits(y->dtype));
    double iscale = ((double)imax - imin) / (isteps - 1.0);
    double ibase = imin == imax ? imin : round(imin / (float)iscale) * (float)iscale;
    int64_t ilow = tfc_q_lowest(x->dtype), olow = tfc_q_lowest(y->dtype);
    int64_t ohigh = tfc_q_highest(y->dtype);
    double oscale = omin == omax ? 0.0 : (osteps - 1.0) / ((double)omax - omin);
    double oshift = round(omin * oscale);
    for (int64_t i = 0; i < x->nelem; i++) {
        float v = imin == imax ? imin : (float)(ibase + (double)(tfc_q_get(x, i) - ilow) * iscale);
        int64_t q = omin == omax ? olow : (int64_t)round(v * oscale) - (int64_t)oshift + olow;
        tfc_q_set(y, i, q < olow ? olow : q > ohigh ? ohigh : q);
    }
}

static void requantize_kernel(tfc_kernel_ctx *c) {
    const tfc_tensor *x = c->inputs[0];
    float imin, imax, omin, omax;
    if (tfc_q_scalar_input(c, 1, "input_min", &imin) ||
        tfc_q_scalar_input(c, 2, "input_max", &imax) ||
        tfc_q_scalar_input(c, 3, "requested_output_min", &omin) ||
        tfc_q_scalar_input(c, 4, "requested_output_max", &omax))
        return;
    if (omin > 0.0f || omax < omin) {
        tfc_kernel_error(c, TFC_INVALID_ARGUMENT,
                         "requested_output_min must be <= 0 and requested_output_max >= it, got "
                         "[%g, %g]",
                         (double)omin, (double)omax);
        return;
    }
    tfc_tensor *y =
        tfc_kernel_output(c, 0, tfc_attrs_type(&c->node->attrs, "out_type", TFC_QUINT8), x->rank,
                          x->dims);
    if (!y) return;
    requantize(x, imin, imax, y, omin, omax);
    tfc_q_range_outputs(c, 1, omin, omax);
}

/* ---- RequantizationRange(input, input_min, input_max) -> (output_min, output_max) ---- */

static int requantization_range_infer(tfc_infer_ctx *c) {
    if (tfc_q_infer_quantized(c, 0, "Tinput") || tfc_q_infer_ranges(c, 1, 2)) return -1;
    tfc_q_infer_range_outputs(c, 0);
    return 0;
}

static void requantization_range_kernel(tfc_kernel_ctx *c) {
    const tfc_tensor *x = c->inputs[0];
    float imin, imax;
    if (tfc_q_scalar_input(c, 1, "input_min", &imin) ||
        tfc_q_scalar_input(c, 2, "input_max", &imax))
        return;
    int64_t lo = 0, hi = 0;
    for (int64_t i = 0; i < x->nelem; i++) {
        int64_t v = tfc_q_get(x, i);
        if (!i || v < lo) lo = v;
        if (!i || v > hi) hi = v;
    }
    /* the minimum is kept <= 0, as TensorFlow does, for the ops downstream */
    float mn = fminf(0.0f, tfc_q_to_float(x->dtype, lo, imin, imax));
    tfc_q_range_outputs(c, 0, mn, tfc_q_to_float(x->dtype, hi, imin, imax));
}

/* ---- builders ---- */

tfc_node *tfc_quantize(tfc_graph *g, tfc_output input, tfc_output min_range,
                       tfc_output max_range, tfc_dtype dtype, const char *mode) {
    tfc_op_desc *d = tfc_op_new(g, "QuantizeV2", NULL);
    tfc_op_add_input(d, input);
    tfc_op_add_input(d, min_range);
    tfc_op_add_input(d, max_range);
    tfc_op_set_attr_type(d, "T", dtype);
    if (mode) tfc_op_set_attr_string(d, "mode", mode);
    return tfc_op_finish(d);
}

tfc_output tfc_dequantize(tfc_graph *g, tfc_output input, tfc_output min_range,
                          tfc_output max_range, const char *mode) {
    tfc_op_desc *d = tfc_op_new(g, "Dequantize", NULL);
    tfc_op_add_input(d, input);
    tfc_op_add_input(d, min_range);
    tfc_op_add_input(d, max_range);
    if (mode) tfc_op_set_attr_string(d, "mode", mode);
    return tfc_out(tfc_op_finish(d), 0);
}

const tfc_op_def tfc_ops_quantize[] = {
    {"QuantizeV2", 3, 3, 3, 0, 0, quantize_v2_infer, quantize_v2_kernel, NULL},
    {"Dequantize", 3, 3, 1, 0, 0, dequantize_infer, dequantize_kernel, NULL},
    {"Requantize", 5, 5, 3, 0, 0, requantize_infer, requantize_kernel, NULL},
    {"RequantizationRange", 3, 3, 2, 0, 0, requantization_range_infer,
     requantization_range_kernel, NULL},
    {"QuantizedMatMul", 6, 6, 3, 0, 0, tfc_q_matmul_infer, tfc_q_matmul_kernel, NULL},
    {"QuantizedConv2D", 6, 6, 3, 0, 0, tfc_q_conv2d_infer, tfc_q_conv2d_kernel, NULL},
    {"QuantizedBiasAdd", 6, 6, 3, 0, 0, tfc_q_bias_add_infer, tfc_q_bias_add_kernel, NULL},
    {"QuantizedRelu", 3, 3, 3, 0, 0, tfc_q_relu_infer, tfc_q_relu_kernel, NULL},
    {"QuantizedRelu6", 3, 3, 3, 0, 0, tfc_q_relu_infer, tfc_q_relu6_kernel, NULL},
    {"QuantizedMaxPool", 3, 3, 3, 0, 0, tfc_q_pool_infer, tfc_q_max_pool_kernel, NULL},
    {"QuantizedAvgPool", 3, 3, 3, 0, 0, tfc_q_pool_infer, tfc_q_avg_pool_kernel, NULL},
    {NULL, 0, 0, 0, 0, 0, NULL, NULL, NULL},
};
