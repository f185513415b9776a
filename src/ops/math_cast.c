/* Cast between any two of float32, float64, int32, int64, uint8, bool,
 * bfloat16 and half (attr DstT; the shape function records SrcT and
 * Truncate as TensorFlow does). One loop per (source, destination) pair of
 * the first six; bfloat16 and half go through float32 (core/half.h), as
 * TensorFlow's (Eigen's) conversions do: float64 and int32 are rounded to
 * float32 first, then to 16 bits, each to nearest even.
 *
 * Float to integer truncates toward zero. Out-of-range values, undefined in
 * C, are pinned: to int32/int64 they saturate (NaN gives the minimum, as
 * x86's conversion and so TensorFlow on it does), to uint8 they clamp to
 * [0, 255] (NaN gives 0). Integer narrowing wraps; anything to bool is
 * "!= 0". */
#include "core/dtype.h"
#include "core/half.h"
#include "core/vector_clones.h"
#include "ops/math_internal.h"

enum { D_F32, D_F64, D_I32, D_I64, D_U8, D_BOOL, D_N };

/* The slot of each dtype, -1 for the rest (a table: a search of a list
 * of the six was two loops a run). Stored plus one, so that the dtypes
 * left out read 0. */
static int dslot(tfc_dtype dt) {
    static const unsigned char slot1[] = {
        [TFC_FLOAT] = D_F32 + 1, [TFC_DOUBLE] = D_F64 + 1, [TFC_INT32] = D_I32 + 1,
        [TFC_INT64] = D_I64 + 1, [TFC_UINT8] = D_U8 + 1,   [TFC_BOOL] = D_BOOL + 1};
    return (unsigned)dt < sizeof slot1 ? slot1[dt] - 1 : -1;
}

static int is_float16(tfc_dtype dt) { return dt == TFC_HALF || dt == TFC_BFLOAT16; }

/* A slot, or the 16-bit floats (which the conversions reach through f32). */
static int castable(tfc_dtype dt) { return dslot(dt) >= 0 || is_float16(dt); }

static inline int32_t to_i32(double x) {
    if (!(x > -2147483648.0)) return INT32_MIN;
    if (x >= 2147483647.0) return INT32_MAX;
    return (int32_t)x;
}

static inline int64_t to_i64(double x) {
    if (!(x > -9223372036854775808.0)) return INT64_MIN;
    if (x >= 9223372036854775808.0) return INT64_MAX;
    return (int64_t)x;
}

static inline uint8_t to_u8(double x) {
    if (!(x > 0)) return 0;
    if (x >= 255) return 255;
    return (uint8_t)x;
}

#define C_PLAIN(TD, x) ((TD)(x))
#define C_BOOL(TD, x) ((TD)((x) != 0))
#define C_F2I32(TD, x) to_i32(x)
#define C_F2I64(TD, x) to_i64(x)
#define C_F2U8(TD, x) to_u8(x)

/* Each loop is built for AVX-512, AVX2 and the baseline (TFC_VECTOR_CLONES):
 * the input pipelines' uint8 -> float32 of every image took 1.65
 * instructions an element with SSE2 (widening bytes to words to dwords,
 * 4 floats a store), 0.67 with AVX2 (8 a store). The conversions are exact
 * or rounded by the same IEEE rule in each clone: all give the same
 * results (tests/test_cast_loops.c). */
#define DEF_CONV(name, TS, TD, C)                                        \
    TFC_VECTOR_CLONES static void name(int64_t n, const void *px, void *py) { \
        const TS *restrict x = px;                                       \
        TD *restrict y = py;                                             \
        for (int64_t i = 0; i < n; i++) y[i] = C(TD, x[i]);              \
    }

/* From each integer-like source to every destination. */
#define DEF_FROM_INT(s, TS)                                \
    DEF_CONV(s##_f32, TS, float, C_PLAIN)                  \
    DEF_CONV(s##_f64, TS, double, C_PLAIN)                 \
    DEF_CONV(s##_i32, TS, int32_t, C_PLAIN)                \
    DEF_CONV(s##_i64, TS, int64_t, C_PLAIN)                \
    DEF_CONV(s##_u8, TS, uint8_t, C_PLAIN)                 \
    DEF_CONV(s##_b, TS, uint8_t, C_BOOL)
#define DEF_FROM_FLOAT(s, TS)                              \
    DEF_CONV(s##_f32, TS, float, C_PLAIN)                  \
    DEF_CONV(s##_f64, TS, double, C_PLAIN)                 \
    DEF_CONV(s##_i32, TS, int32_t, C_F2I32)                \
    DEF_CONV(s##_i64, TS, int64_t, C_F2I64)                \
    DEF_CONV(s##_u8, TS, uint8_t, C_F2U8)                  \
    DEF_CONV(s##_b, TS, uint8_t, C_BOOL)

DEF_FROM_FLOAT(f32, float)
DEF_FROM_FLOAT(f64, double)
DEF_FROM_INT(i32, int32_t)
DEF_FROM_INT(i64, int64_t)
DEF_FROM_INT(u8, uint8_t)
DEF_FROM_INT(b, uint8_t)

typedef void (*conv_fn)(int64_t n, const void *x, void *y);

#define ROW(s) {s##_f32, s##_f64, s##_i32, s##_i64, s##_u8, s##_b}
static const conv_fn convs[D_N][D_N] = {ROW(f32), ROW(f64), ROW(i32), ROW(i64), ROW(u8), ROW(b)};

int tfc_math_cast_infer(tfc_infer_ctx *c) {
    tfc_dtype src = tfc_infer_input_dtype(c, 0);
    tfc_dtype dst = tfc_attrs_type(c->attrs, "DstT", TFC_INVALID_DTYPE);
    if (!castable(dst)) return tfc_infer_error(c, "missing or unsupported attr 'DstT'");
    if (!castable(src))
        return tfc_infer_error(c, "unsupported input dtype %s", tfc_dtype_name(src));
    tfc_attrs_set_int(c->attrs, "SrcT", TFC_ATTR_TYPE, src);
    tfc_attrs_set_int(c->attrs, "Truncate", TFC_ATTR_BOOL, tfc_attrs_int(c->attrs, "Truncate", 0));
    tfc_infer_set_output(c, 0, dst, tfc_infer_input_shape(c, 0));
    return 0;
}

typedef struct cast_job {
    conv_fn fn; /* NULL: a 16-bit float at either end, through f32 */
    tfc_dtype src, dst;
    const char *x;
    char *y;
    size_t xsz, ysz;
} cast_job;

/* n values of a 16-bit float dtype to float32, or back. */
static void float16_to_f32(tfc_dtype dt, const uint16_t *h, float *f, int64_t n) {
    if (dt == TFC_HALF) {
        tfc_half_to_float_n(h, f, n);
        return;
    }
    for (int64_t i = 0; i < n; i++) f[i] = tfc_bfloat16_bits_to_float(h[i]);
}

static void f32_to_float16(tfc_dtype dt, const float *f, uint16_t *h, int64_t n) {
    if (dt == TFC_HALF) {
        tfc_float_to_half_n(f, h, n);
        return;
    }
    for (int64_t i = 0; i < n; i++) h[i] = tfc_float_to_bfloat16_bits(f[i]);
}

/* Casts through a float32 buffer, a block at a time. */
static void cast_via_f32(const cast_job *j, int64_t n, const char *x, char *y) {
    enum { BLOCK = 256 };
    float buf[BLOCK];
    int sf = dslot(TFC_FLOAT);
    for (int64_t i = 0; i < n; i += BLOCK) {
        int64_t m = n - i < BLOCK ? n - i : BLOCK;
        const char *xi = x + (size_t)i * j->xsz;
        char *yi = y + (size_t)i * j->ysz;
        if (is_float16(j->src))
            float16_to_f32(j->src, (const uint16_t *)xi, buf, m);
        else
            convs[dslot(j->src)][sf](m, xi, buf);
        if (is_float16(j->dst))
            f32_to_float16(j->dst, buf, (uint16_t *)yi, m);
        else
            convs[sf][dslot(j->dst)](m, buf, yi);
    }
}

static void cast_chunk(void *arg, int64_t begin, int64_t end) {
    const cast_job *j = arg;
    const char *x = j->x + (size_t)begin * j->xsz;
    char *y = j->y + (size_t)begin * j->ysz;
    if (j->fn)
        j->fn(end - begin, x, y);
    else
        cast_via_f32(j, end - begin, x, y);
}

void tfc_math_cast_kernel(tfc_kernel_ctx *c) {
    const tfc_tensor *x = c->inputs[0];
    tfc_dtype dst = c->node->out_dtypes[0];
    if (x->dtype == dst) {
        tfc_kernel_set_output(c, 0, tfc_tensor_ref(c->inputs[0]));
        return;
    }
    if (!castable(x->dtype) || !castable(dst)) {
        tfc_kernel_error(c, TFC_INVALID_ARGUMENT, "unsupported input dtype %s",
                         tfc_dtype_name(x->dtype));
        return;
    }
    tfc_tensor *y = tfc_kernel_output(c, 0, dst, x->rank, x->dims);
    if (!y) return;
    int s = dslot(x->dtype), d = dslot(dst);
    cast_job j = {s >= 0 && d >= 0 ? convs[s][d] : NULL, x->dtype, dst, x->data, y->data,
                  tfc_dtype_bytes(x->dtype), tfc_dtype_bytes(dst)};
    tfc_parallel_for(c->pool, x->nelem, TFC_MATH_GRAIN, cast_chunk, &j);
}

/* Only float-to-float casts pass a gradient: cast it back. */
int tfc_math_cast_grad(tfc_graph *g, tfc_node *op, const tfc_output *dy, tfc_output *dx) {
    tfc_dtype src = tfc_output_dtype(op->inputs[0]), dst = op->out_dtypes[0];
    if (tfc_grad_dtype_ok(src) && tfc_grad_dtype_ok(dst)) dx[0] = tfc_cast(g, dy[0], src);
    return 0;
}
