/* TensorFlow's quantized products: QuantizedMatMul and QuantizedConv2D
 * (quantized_matmul_op.cc, quantized_conv_ops.cc). Each multiplies codes
 * minus the code of 0.0 (the "offset" of each input) and sums them in
 * int32, so the qint32 result stands for the float product in the range
 * QuantizationRangeForMultiplication gives. Both end in tfc_q_gemm: oneDNN's
 * u8s8s32 GEMM where it is exact, a portable loop elsewhere. Listed in
 * tfc_ops_quantize[] (quantize.c). */
#include "core/vector_clones.h"
#include "ops/conv_internal.h"
#include "ops/quantize_internal.h"

#include <oneapi/dnnl/dnnl.h>
#include <omp.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

/* ---- the int8 GEMM ---- */

/* A(i,p) is a[p*lda+i] when ta else a[i*lda+p]; B(p,j) b[j*ldb+p] when tb
 * else b[p*ldb+j]. */
#define Q_GEMM_PORTABLE(NAME, TA, TB)                                                          \
    TFC_VECTOR_CLONES static void gemm_##NAME(int ta, int tb, int64_t m, int64_t n, int64_t k, \
                                              const TA *a, int64_t lda, int32_t ao,            \
                                              const TB *b, int64_t ldb, int32_t bo, int32_t *c, \
                                              int64_t ldc) {                                   \
        for (int64_t i = 0; i < m; i++) {                                                      \
            int32_t *ci = c + i * ldc;                                                         \
            if (!tb) {                                                                         \
                memset(ci, 0, (size_t)n * sizeof *ci);                                         \
                for (int64_t p = 0; p < k; p++) {                                              \
                    int32_t av = (int32_t)(ta ? a[p * lda + i] : a[i * lda + p]) - ao;         \
                    const TB *bp = b + p * ldb;                                                \
                    if (av)                                                                    \
                        for (int64_t j = 0; j < n; j++) ci[j] += av * ((int32_t)bp[j] - bo);   \
                }                                                                              \
            } else {                                                                           \
                for (int64_t j = 0; j < n; j++) {                                              \
                    const TB *bj = b + j * ldb;                                                \
                    int32_t s = 0;                                                             \
                    for (int64_t p = 0; p < k; p++)                                            \
                        s += ((int32_t)(ta ? a[p * lda + i] : a[i * lda + p]) - ao) *          \
                             ((int32_t)bj[p] - bo);                                            \
                    ci[j] = s;                                                                 \
                }                                                                              \
            }                                                                                  \
        }                                                                                      \
    }
Q_GEMM_PORTABLE(u8u8, uint8_t, uint8_t)
Q_GEMM_PORTABLE(u8s8, uint8_t, int8_t)
Q_GEMM_PORTABLE(s8u8, int8_t, uint8_t)
Q_GEMM_PORTABLE(s8s8, int8_t, int8_t)

/* The common case of a quantized layer, uint8 activations against int8
 * weights stored transposed ([n, k]) with both offsets 0: dot products of
 * contiguous rows. With AVX2, 16 products at a time widened to int16 and
 * summed in pairs into int32 (vpmaddwd: exact for any codes), four
 * columns sharing each load of A. */
static void gemm_u8s8_dot_scalar(int64_t m, int64_t n, int64_t k, const uint8_t *a, int64_t lda,
                                 const int8_t *b, int64_t ldb, int32_t *c, int64_t ldc) {
    for (int64_t i = 0; i < m; i++)
        for (int64_t j = 0; j < n; j++) {
            int32_t s = 0;
            for (int64_t p = 0; p < k; p++) s += (int32_t)a[i * lda + p] * b[j * ldb + p];
            c[i * ldc + j] = s;
        }
}

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

__attribute__((target("avx2"))) static int32_t hsum_avx2(__m256i v) {
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4e));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xb1));
    return _mm_cvtsi128_si32(s);
}

__attribute__((target("avx2"))) static void gemm_u8s8_dot_avx2(int64_t m, int64_t n, int64_t k,
                                                               const uint8_t *a, int64_t lda,
                                                               const int8_t *b, int64_t ldb,
                                                               int32_t *c, int64_t ldc) {
    int64_t k16 = k & ~(int64_t)15;
    for (int64_t i = 0; i < m; i++) {
        const uint8_t *ai = a + i * lda;
        int64_t j = 0;
        for (; j + 4 <= n; j += 4) {
            const int8_t *b0 = b + j * ldb, *b1 = b0 + ldb, *b2 = b1 + ldb, *b3 = b2 + ldb;
            __m256i s0 = _mm256_setzero_si256(), s1 = s0, s2 = s0, s3 = s0;
            for (int64_t p = 0; p < k16; p += 16) {
                __m256i av = _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(ai + p)));
#define Q_DOT_STEP(S, B)                                                                       \
    S = _mm256_add_epi32(                                                                      \
        S, _mm256_madd_epi16(av, _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(B + p)))))
                Q_DOT_STEP(s0, b0);
                Q_DOT_STEP(s1, b1);
                Q_DOT_STEP(s2, b2);
                Q_DOT_STEP(s3, b3);
#undef Q_DOT_STEP
            }
            int32_t r[4] = {hsum_avx2(s0), hsum_avx2(s1), hsum_avx2(s2), hsum_avx2(s3)};
            for (int64_t p = k16; p < k; p++) {
                r[0] += (int32_t)ai[p] * b0[p];
                r[1] += (int32_t)ai[p] * b1[p];
                r[2] += (int32_t)ai[p] * b2[p];
                r[3] += (int32_t)ai[p] * b3[p];
            }
            for (int q = 0; q < 4; q++) c[i * ldc + j + q] = r[q];
        }
        if (j < n) gemm_u8s8_dot_scalar(1, n - j, k, ai, lda, b + j * ldb, ldb, c + i * ldc + j, ldc);
    }
}
#endif

static void gemm_u8s8_dot(int64_t m, int64_t n, int64_t k, const uint8_t *a, int64_t lda,
                          const int8_t *b, int64_t ldb, int32_t *c, int64_t ldc) {
#if defined(__x86_64__) && defined(__GNUC__)
    if (__builtin_cpu_supports("avx2")) {
        gemm_u8s8_dot_avx2(m, n, k, a, lda, b, ldb, c, ldc);
        return;
    }
#endif
    gemm_u8s8_dot_scalar(m, n, k, a, lda, b, ldb, c, ldc);
}

static void gemm_portable_lda(int ta, int tb, int64_t m, int64_t n, int64_t k, const void *a,
                              int64_t lda, int as, int32_t ao, const void *b, int64_t ldb, int bs,
                              int32_t bo, int32_t *c, int64_t ldc) {
    if (!as && bs && !ta && tb && !ao && !bo) gemm_u8s8_dot(m, n, k, a, lda, b, ldb, c, ldc);
    else if (!as && !bs) gemm_u8u8(ta, tb, m, n, k, a, lda, ao, b, ldb, bo, c, ldc);
    else if (!as) gemm_u8s8(ta, tb, m, n, k, a, lda, ao, b, ldb, bo, c, ldc);
    else if (!bs) gemm_s8u8(ta, tb, m, n, k, a, lda, ao, b, ldb, bo, c, ldc);
    else gemm_s8s8(ta, tb, m, n, k, a, lda, ao, b, ldb, bo, c, ldc);
}

void tfc_q_gemm_portable(int ta, int tb, int64_t m, int64_t n, int64_t k, const void *a,
                         int a_signed, int32_t ao, const void *b, int b_signed, int32_t bo,
                         int32_t *c) {
    int64_t lda = ta ? m : k, ldb = tb ? k : n;
    if (!a_signed && !b_signed) gemm_u8u8(ta, tb, m, n, k, a, lda, ao, b, ldb, bo, c, n);
    else if (!a_signed) gemm_u8s8(ta, tb, m, n, k, a, lda, ao, b, ldb, bo, c, n);
    else if (!b_signed) gemm_s8u8(ta, tb, m, n, k, a, lda, ao, b, ldb, bo, c, n);
    else gemm_s8s8(ta, tb, m, n, k, a, lda, ao, b, ldb, bo, c, n);
}

/* Can oneDNN's u8s8s32 GEMM give the exact result? A must be uint8 and B
 * int8 with codes in [-64, 64]: without VNNI its kernels add two products
 * u8 * s8 into a saturating int16 (vpmaddubsw), which 255 * 64 * 2 fits. The
 * offsets must be codes of their types. */
TFC_VECTOR_CLONES static int dnnl_exact(int64_t k, int64_t n, int as, int32_t ao, const int8_t *b,
                                        int bs, int32_t bo) {
    if (as || !bs || ao < 0 || ao > 255 || bo < -128 || bo > 127) return 0;
    int8_t lo = 0, hi = 0;
    for (int64_t i = 0; i < k * n; i++) {
        lo = b[i] < lo ? b[i] : lo;
        hi = b[i] > hi ? b[i] : hi;
    }
    return lo >= -64 && hi <= 64;
}

/* Fewer rows go to the portable loop: oneDNN's int8 GEMM packs B on every
 * call, which costs more than a matrix-vector product (784x256, AVX2:
 * 70 us against the loop's 28 us at one row). */
#define Q_GEMM_DNNL_MIN_ROWS 8

typedef struct q_gemm_job {
    int ta, tb, as, bs, dnnl, by_cols;
    int64_t m, n, k, block;
    const char *a, *b;
    int32_t ao, bo, *c;
} q_gemm_job;

/* rows [r0, r1) and columns [c0, c1) of C: one call */
static void q_gemm_block(const q_gemm_job *j, int64_t r0, int64_t r1, int64_t c0, int64_t c1) {
    int64_t lda = j->ta ? j->m : j->k, ldb = j->tb ? j->k : j->n;
    const char *a = j->a + (j->ta ? r0 : r0 * lda);
    const char *b = j->b + (j->tb ? c0 * ldb : c0);
    int32_t *c = j->c + r0 * j->n + c0;
    int64_t m = r1 - r0, n = c1 - c0;
    if (j->dnnl) {
        /* one thread per call, as in gemm.c: the pool's threads are the only ones */
        int threads = omp_get_max_threads();
        if (threads != 1) omp_set_num_threads(1);
        int32_t co = 0;
        dnnl_gemm_u8s8s32(j->ta ? 'T' : 'N', j->tb ? 'T' : 'N', 'F', m, n, j->k, 1.0f,
                          (const uint8_t *)a, lda, (uint8_t)j->ao, (const int8_t *)b, ldb,
                          (int8_t)j->bo, 0.0f, c, j->n, &co);
        if (threads != 1) omp_set_num_threads(threads);
    } else {
        gemm_portable_lda(j->ta, j->tb, m, n, j->k, a, lda, j->as, j->ao, b, ldb, j->bs, j->bo, c,
                          j->n);
    }
}

static void q_gemm_blocks(void *arg, int64_t begin, int64_t end) {
    const q_gemm_job *j = arg;
    int64_t len = j->by_cols ? j->n : j->m;
    for (int64_t blk = begin; blk < end; blk++) {
        int64_t s0 = blk * j->block, s1 = s0 + j->block < len ? s0 + j->block : len;
        if (j->by_cols) q_gemm_block(j, 0, j->m, s0, s1);
        else q_gemm_block(j, s0, s1, 0, j->n);
    }
}

void tfc_q_gemm(tfc_threadpool *pool, int ta, int tb, int64_t m, int64_t n, int64_t k,
                const void *a, int a_signed, int32_t ao, const void *b, int b_signed, int32_t bo,
                int32_t *c) {
    if (!m || !n) return;
    q_gemm_job j = {.ta = ta, .tb = tb, .as = a_signed, .bs = b_signed, .m = m, .n = n, .k = k,
                    .a = a, .b = b, .ao = ao, .bo = bo, .c = c};
    j.dnnl = m >= Q_GEMM_DNNL_MIN_ROWS && k > 0 && dnnl_exact(k, n, a_signed, ao, b, b_signed, bo);
    /* cut C along its longer side into blocks of at least 16 rows/columns
     * and 64K multiply-adds, and no more blocks than threads: each oneDNN
     * call packs the whole of the operand it does not cut (on one thread,
     * small blocks gave an MLP's three products at batch 100 36
     * calls and 20% more instructions than 3 calls); the
     * portable loop cuts only rows of a non-transposed B (its columns are
     * contiguous within a row) */
    j.by_cols = n > m && (j.dnnl || tb);
    int64_t len = j.by_cols ? n : m, other = j.by_cols ? m : n;
    int64_t min_block = (65536 + other * (k ? k : 1) - 1) / (other * (k ? k : 1));
    int64_t threads = tfc_threadpool_size(pool), per_thread = (len + threads - 1) / threads;
    j.block = min_block < 16 ? 16 : min_block;
    if (j.block < per_thread) j.block = (per_thread + 15) / 16 * 16;
    if (!k) {
        memset(c, 0, (size_t)(m * n) * sizeof *c);
        return;
    }
    int64_t nblocks = (len + j.block - 1) / j.block;
    tfc_parallel_for(pool, nblocks, 1, q_gemm_blocks, &j);
}

/* ---- QuantizedMatMul(a, b, min_a, max_a, min_b, max_b) -> (out, min_out, max_out) ---- */

int tfc_q_matmul_infer(tfc_infer_ctx *c) {
    if (tfc_q_infer_quantized(c, 0, "T1") || tfc_q_infer_quantized(c, 1, "T2") ||
        tfc_q_infer_ranges(c, 2, 4))
        return -1;
    tfc_dtype out = tfc_q_infer_type_attr(c, "Toutput", TFC_QINT32);
    if (out == TFC_INVALID_DTYPE || tfc_q_infer_type_attr(c, "Tactivation", TFC_QUINT8) ==
                                        TFC_INVALID_DTYPE)
        return -1;
    for (int i = 0; i < 2; i++) {
        const char *name = i ? "transpose_b" : "transpose_a";
        if (!tfc_attrs_find(c->attrs, name)) tfc_attrs_set_int(c->attrs, name, TFC_ATTR_BOOL, 0);
    }
    int ta = (int)tfc_attrs_int(c->attrs, "transpose_a", 0);
    int tb = (int)tfc_attrs_int(c->attrs, "transpose_b", 0);
    tfc_shape a = tfc_infer_input_shape(c, 0), b = tfc_infer_input_shape(c, 1), o;
    if ((a.rank >= 0 && a.rank != 2) || (b.rank >= 0 && b.rank != 2))
        return tfc_infer_error(c, "a and b must be matrices, got ranks %d and %d", a.rank, b.rank);
    int64_t ka = a.rank == 2 ? a.dims[ta ? 0 : 1] : -1, kb = b.rank == 2 ? b.dims[tb ? 1 : 0] : -1;
    if (ka >= 0 && kb >= 0 && ka != kb)
        return tfc_infer_error(c, "inner dimensions differ: a has %lld, b has %lld",
                               (long long)ka, (long long)kb);
    o = (tfc_shape){.rank = 2, .dims = {a.rank == 2 ? a.dims[ta ? 1 : 0] : -1,
                                        b.rank == 2 ? b.dims[tb ? 0 : 1] : -1}};
    tfc_infer_set_output(c, 0, out, o);
    tfc_q_infer_range_outputs(c, 1);
    return 0;
}

/* The kernels take 8-bit codes and give qint32 (TensorFlow's CPU kernels
 * are quint8 x quint8 only; qint8 operands are tfc's addition, for int8
 * weights). */
static int check_operands(tfc_kernel_ctx *c, const tfc_tensor *a, const tfc_tensor *b,
                          tfc_dtype out) {
    if (a->dtype == TFC_QINT32 || b->dtype == TFC_QINT32 || out != TFC_QINT32) {
        tfc_kernel_error(c, TFC_UNIMPLEMENTED,
                         "only qint8/quint8 operands and a qint32 output are supported, got %s x "
                         "%s -> %s",
                         tfc_dtype_name(a->dtype), tfc_dtype_name(b->dtype), tfc_dtype_name(out));
        return -1;
    }
    return 0;
}

/* The four range inputs from 2, named `names`; the offsets (codes of 0.0). */
static int read_ranges(tfc_kernel_ctx *c, const char *const names[4], const tfc_tensor *a,
                       const tfc_tensor *b, float r[4], int32_t *ao, int32_t *bo) {
    for (int i = 0; i < 4; i++)
        if (tfc_q_scalar_input(c, 2 + i, names[i], &r[i])) return -1;
    *ao = (int32_t)tfc_q_from_float_unclamped(a->dtype, 0.0f, r[0], r[1]);
    *bo = (int32_t)tfc_q_from_float_unclamped(b->dtype, 0.0f, r[2], r[3]);
    return 0;
}

void tfc_q_matmul_kernel(tfc_kernel_ctx *c) {
    const tfc_attrs *at = &c->node->attrs;
    const tfc_tensor *a = c->inputs[0], *b = c->inputs[1];
    tfc_dtype out = tfc_attrs_type(at, "Toutput", TFC_QINT32);
    int ta = (int)tfc_attrs_int(at, "transpose_a", 0), tb = (int)tfc_attrs_int(at, "transpose_b", 0);
    float r[4];
    int32_t ao, bo;
    static const char *const names[] = {"min_a", "max_a", "min_b", "max_b"};
    if (check_operands(c, a, b, out) || read_ranges(c, names, a, b, r, &ao, &bo)) return;
    if (a->rank != 2 || b->rank != 2 || a->dims[ta ? 0 : 1] != b->dims[tb ? 1 : 0]) {
        char sa[64], sb[64];
        tfc_kernel_error(c, TFC_INVALID_ARGUMENT, "cannot multiply a %s by b %s%s%s",
                         tfc_dims_str(a->rank, a->dims, sa, sizeof sa),
                         tfc_dims_str(b->rank, b->dims, sb, sizeof sb),
                         ta ? " (a transposed)" : "", tb ? " (b transposed)" : "");
        return;
    }
    int64_t m = a->dims[ta ? 1 : 0], k = a->dims[ta ? 0 : 1], n = b->dims[tb ? 0 : 1];
    tfc_tensor *y = tfc_kernel_output(c, 0, TFC_QINT32, 2, (int64_t[]){m, n});
    if (!y) return;
    tfc_q_gemm(c->pool, ta, tb, m, n, k, a->data, a->dtype == TFC_QINT8, ao, b->data,
               b->dtype == TFC_QINT8, bo, y->data);
    float mn, mx;
    tfc_q_product_range(a->dtype, r[0], r[1], b->dtype, r[2], r[3], &mn, &mx);
    tfc_q_range_outputs(c, 1, mn, mx);
}

/* ---- QuantizedConv2D(input, filter, min_input, max_input, min_filter,
 *                      max_filter) -> (output, min_output, max_output) ---- */

int tfc_q_conv2d_infer(tfc_infer_ctx *c) {
    if (tfc_q_infer_quantized(c, 0, "Tinput") || tfc_q_infer_quantized(c, 1, "Tfilter") ||
        tfc_q_infer_ranges(c, 2, 4) || tfc_window_parse(c, 0))
        return -1;
    tfc_dtype out = tfc_q_infer_type_attr(c, "out_type", TFC_QINT32);
    if (out == TFC_INVALID_DTYPE) return -1;
    const tfc_window *w = c->op_data;
    if (w->dh != 1 || w->dw != 1)
        return tfc_infer_error(c, "dilations other than 1 are not supported");
    tfc_shape x = tfc_infer_input_shape(c, 0), f = tfc_infer_input_shape(c, 1);
    if ((x.rank >= 0 && x.rank != 4) || (f.rank >= 0 && f.rank != 4))
        return tfc_infer_error(c, "input and filter must be 4-dimensional, got ranks %d and %d",
                               x.rank, f.rank);
    if (x.rank == 4 && f.rank == 4 && x.dims[3] >= 0 && f.dims[2] >= 0 && x.dims[3] != f.dims[2])
        return tfc_infer_error(c, "input has %lld channels but filter expects %lld",
                               (long long)x.dims[3], (long long)f.dims[2]);
    tfc_shape o = {.rank = 4, .dims = {-1, -1, -1, -1}};
    if (x.rank == 4) o.dims[0] = x.dims[0];
    if (f.rank == 4) o.dims[3] = f.dims[3];
    for (int d = 0; d < 2 && x.rank == 4 && f.rank == 4; d++) {
        int64_t pad;
        if (x.dims[1 + d] >= 0 && f.dims[d] >= 0 &&
            tfc_window_out(x.dims[1 + d], f.dims[d], d ? w->sw : w->sh, 1, w->same,
                           &o.dims[1 + d], &pad))
            return tfc_infer_error(c, "the filter is larger than the input (VALID padding)");
    }
    tfc_infer_set_output(c, 0, out, o);
    tfc_q_infer_range_outputs(c, 1);
    return 0;
}

/* TFC_Q_CONV_IM2COL set (not "0"): QuantizedConv2D always takes im2col +
 * int8 GEMM (for A/B runs of the two paths). */
static int q_conv_dnnl_allowed(void) {
    static atomic_int known = -1;
    int k = atomic_load_explicit(&known, memory_order_relaxed);
    if (k < 0) {
        const char *e = getenv("TFC_Q_CONV_IM2COL");
        k = !(e && *e && strcmp(e, "0") != 0);
        atomic_store_explicit(&known, k, memory_order_relaxed);
    }
    return k;
}

/* Patches of 8-bit codes, [n*oh*ow, kh*kw*ch]; pixels outside the input
 * hold `pad` (the code of 0.0, so they add nothing). */
static void im2col_u8(const uint8_t *x, int64_t n, int64_t h, int64_t w, int64_t ch, int64_t kh,
                      int64_t kw, int64_t sh, int64_t sw, int64_t ph, int64_t pw, int64_t oh,
                      int64_t ow, uint8_t pad, uint8_t *out) {
    for (int64_t b = 0; b < n; b++)
        for (int64_t oy = 0; oy < oh; oy++)
            for (int64_t ox = 0; ox < ow; ox++)
                for (int64_t ky = 0; ky < kh; ky++) {
                    int64_t iy = oy * sh - ph + ky;
                    for (int64_t kx = 0; kx < kw; kx++, out += ch) {
                        int64_t ix = ox * sw - pw + kx;
                        int inside = iy >= 0 && iy < h && ix >= 0 && ix < w;
                        const uint8_t *src = inside ? x + ((b * h + iy) * w + ix) * ch : x;
                        if (ch < 16) /* a call per pixel would cost more than the bytes */
                            for (int64_t q = 0; q < ch; q++) out[q] = inside ? src[q] : pad;
                        else if (inside) memcpy(out, src, (size_t)ch);
                        else memset(out, pad, (size_t)ch);
                    }
                }
}

void tfc_q_conv2d_kernel(tfc_kernel_ctx *c) {
    const tfc_window *wd = c->node->op_data;
    const tfc_tensor *x = c->inputs[0], *f = c->inputs[1];
    tfc_dtype out = tfc_attrs_type(&c->node->attrs, "out_type", TFC_QINT32);
    float r[4];
    int32_t xo, fo;
    static const char *const names[] = {"min_input", "max_input", "min_filter", "max_filter"};
    if (check_operands(c, x, f, out) || read_ranges(c, names, x, f, r, &xo, &fo)) return;
    char bx[64], bf[64];
    if (x->rank != 4 || f->rank != 4 || x->dims[3] != f->dims[2]) {
        tfc_kernel_error(c, TFC_INVALID_ARGUMENT, "input %s and filter %s do not match",
                         tfc_dims_str(x->rank, x->dims, bx, sizeof bx),
                         tfc_dims_str(f->rank, f->dims, bf, sizeof bf));
        return;
    }
    int64_t n = x->dims[0], h = x->dims[1], w = x->dims[2], ch = x->dims[3];
    int64_t kh = f->dims[0], kw = f->dims[1], oc = f->dims[3], oh, ow, ph, pw;
    if (tfc_window_out(h, kh, wd->sh, 1, wd->same, &oh, &ph) ||
        tfc_window_out(w, kw, wd->sw, 1, wd->same, &ow, &pw)) {
        tfc_kernel_error(c, TFC_INVALID_ARGUMENT, "filter %s is larger than input %s (VALID)",
                         tfc_dims_str(4, f->dims, bf, sizeof bf),
                         tfc_dims_str(4, x->dims, bx, sizeof bx));
        return;
    }
    tfc_tensor *y = tfc_kernel_output(c, 0, TFC_QINT32, 4, (int64_t[]){n, oh, ow, oc});
    if (!y) return;
    float mn, mx;
    tfc_q_product_range(x->dtype, r[0], r[1], f->dtype, r[2], r[3], &mn, &mx);
    if (x->dtype == TFC_QUINT8 && f->dtype == TFC_QINT8 && xo == 0 && fo == 0 &&
        q_conv_dnnl_allowed()) {
        tfc_q_conv_geom g = {n, h, w, ch, kh, kw, oc, oh, ow, wd->sh, wd->sw, ph, pw};
        int done = tfc_q_conv_dnnl(c, &g, x->data, f->data, y->data);
        if (done < 0) return;
        if (done) {
            tfc_q_range_outputs(c, 1, mn, mx);
            return;
        }
    }
    int64_t m = n * oh * ow, k = kh * kw * ch;
    const void *patches = x->data;
    uint8_t *buf = NULL;
    if (!(kh == 1 && kw == 1 && wd->sh == 1 && wd->sw == 1)) {
        buf = malloc((size_t)(m * k) + 1);
        if (!buf) {
            tfc_kernel_error(c, TFC_RESOURCE_EXHAUSTED, "out of memory for %lld patches",
                             (long long)m);
            return;
        }
        int64_t lo = tfc_q_lowest(x->dtype), hi = tfc_q_highest(x->dtype);
        int64_t pad = xo < lo ? lo : xo > hi ? hi : xo;
        im2col_u8(x->data, n, h, w, ch, kh, kw, wd->sh, wd->sw, ph, pw, oh, ow, (uint8_t)pad, buf);
        patches = buf;
    }
    tfc_q_gemm(c->pool, 0, 0, m, oc, k, patches, x->dtype == TFC_QINT8, xo, f->data,
               f->dtype == TFC_QINT8, fo, y->data);
    free(buf);
    tfc_q_range_outputs(c, 1, mn, mx);
}
