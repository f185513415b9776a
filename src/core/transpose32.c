/* Block transposes of 32-bit elements (see transpose32.h). */
#include "core/transpose32.h"
#include "core/transpose_regs.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define TRANSPOSE_X86 1
#include <immintrin.h>
#define AVX2 __attribute__((target("avx2")))
#define AVX512 __attribute__((target("avx512f")))
#endif

static void by_elements(uint32_t *dst, int64_t ldd, const uint32_t *src, int64_t lds,
                        int64_t i0, int64_t rows, int64_t j0, int64_t cols) {
    for (int64_t i = i0; i < rows; i++)
        for (int64_t j = j0; j < cols; j++) dst[i * ldd + j] = src[j * lds + i];
}

#ifdef TRANSPOSE_X86

/* The block's edges past the last whole piece of `p`: the rows below it,
 * then the columns right of it */
static void edges(uint32_t *dst, int64_t ldd, const uint32_t *src, int64_t lds, int64_t rows,
                  int64_t cols, int64_t p) {
    int64_t whole_rows = rows / p * p, whole_cols = cols / p * p;
    by_elements(dst, ldd, src, lds, whole_rows, rows, 0, cols);
    by_elements(dst, ldd, src, lds, 0, whole_rows, whole_cols, cols);
}

static AVX2 void pieces8(uint32_t *dst, int64_t ldd, const uint32_t *src, int64_t lds,
                         int64_t rows, int64_t cols) {
    for (int64_t i0 = 0; i0 + 8 <= rows; i0 += 8)
        for (int64_t j0 = 0; j0 + 8 <= cols; j0 += 8) {
            /* v[j]: src's row j0 + j, elements i0 .. i0 + 7 */
            __m256 v[8];
            for (int j = 0; j < 8; j++)
                v[j] = _mm256_loadu_ps((const float *)(src + (j0 + j) * lds + i0));
            tfc_transpose8_regs(v);
            for (int i = 0; i < 8; i++)
                _mm256_storeu_ps((float *)(dst + (i0 + i) * ldd + j0), v[i]);
        }
}

static AVX512 void pieces16(uint32_t *dst, int64_t ldd, const uint32_t *src, int64_t lds,
                            int64_t rows, int64_t cols) {
    for (int64_t i0 = 0; i0 + 16 <= rows; i0 += 16)
        for (int64_t j0 = 0; j0 + 16 <= cols; j0 += 16) {
            __m512 v[16];
            for (int j = 0; j < 16; j++)
                v[j] = _mm512_loadu_ps((const float *)(src + (j0 + j) * lds + i0));
            tfc_transpose16_regs(v);
            for (int i = 0; i < 16; i++)
                _mm512_storeu_ps((float *)(dst + (i0 + i) * ldd + j0), v[i]);
        }
}

#endif

int tfc_transpose32_in(uint32_t *dst, int64_t ldd, const uint32_t *src, int64_t lds,
                       int64_t rows, int64_t cols, int lanes) {
    if (lanes == 1) {
        by_elements(dst, ldd, src, lds, 0, rows, 0, cols);
        return 1;
    }
#ifdef TRANSPOSE_X86
    if (lanes == 16 && __builtin_cpu_supports("avx512f")) {
        pieces16(dst, ldd, src, lds, rows, cols);
        edges(dst, ldd, src, lds, rows, cols, 16);
        return 16;
    }
    if (lanes == 8 && __builtin_cpu_supports("avx2")) {
        pieces8(dst, ldd, src, lds, rows, cols);
        edges(dst, ldd, src, lds, rows, cols, 8);
        return 8;
    }
#endif
    return -1;
}

void tfc_transpose32(uint32_t *dst, int64_t ldd, const uint32_t *src, int64_t lds, int64_t rows,
                     int64_t cols) {
    if (tfc_transpose32_in(dst, ldd, src, lds, rows, cols, 16) < 0 &&
        tfc_transpose32_in(dst, ldd, src, lds, rows, cols, 8) < 0)
        by_elements(dst, ldd, src, lds, 0, rows, 0, cols);
}
