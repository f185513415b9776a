/* Block transposes of 32-bit elements (src/core/transpose32.c): each width
 * the CPU has (16 and 8 lanes, and element by element) against the plain
 * loop, for sizes around and between the pieces, with row strides wider
 * than the blocks; nothing outside the destination block is written. */
#include "harness.h"

#include "core/transpose32.h"

#include <stdlib.h>
#include <string.h>

enum { GUARD = 0xA5A5A5A5u };

static void check(int64_t rows, int64_t cols, int64_t ldd, int64_t lds, int lanes) {
    /* src holds cols rows of lds; dst rows rows of ldd */
    size_t ns = (size_t)(cols * lds), nd = (size_t)(rows * ldd);
    uint32_t *src = malloc(sizeof(uint32_t) * (ns ? ns : 1));
    uint32_t *dst = malloc(sizeof(uint32_t) * (nd ? nd : 1));
    for (size_t i = 0; i < ns; i++) src[i] = (uint32_t)(i * 2654435761u);
    for (size_t i = 0; i < nd; i++) dst[i] = GUARD;
    int got = tfc_transpose32_in(dst, ldd, src, lds, rows, cols, lanes);
    if (got < 0) {
        CHECK(lanes > 1); /* the CPU lacks these vectors; element by element always runs */
    } else {
        int wrong = 0;
        for (int64_t i = 0; i < rows; i++)
            for (int64_t j = 0; j < ldd; j++) {
                uint32_t want = j < cols ? src[j * lds + i] : GUARD;
                wrong += dst[i * ldd + j] != want;
            }
        CHECK_MSG(wrong == 0, "%lld x %lld (ldd %lld, lds %lld), %d lanes: %d wrong",
                  (long long)rows, (long long)cols, (long long)ldd, (long long)lds, lanes, wrong);
    }
    free(src);
    free(dst);
}

static void test_each_width_against_the_loop(void) {
    static const int64_t sizes[] = {0, 1, 7, 8, 9, 15, 16, 17, 31, 32, 33, 40};
    int n = (int)(sizeof sizes / sizeof sizes[0]), cases = 0;
    for (int lanes = 1; lanes <= 16; lanes *= 2) {
        if (lanes == 2 || lanes == 4) continue;
        for (int a = 0; a < n; a++)
            for (int b = 0; b < n; b++) {
                int64_t rows = sizes[a], cols = sizes[b];
                check(rows, cols, cols, rows, lanes);         /* packed */
                check(rows, cols, cols + 3, rows + 5, lanes); /* inside wider rows */
                cases += 2;
            }
    }
    CHECK(cases > 400);
}

/* The public entry picks the widest; a Transpose of a 400 x 800 kernel */
static void test_widest_on_a_kernel(void) {
    check(800, 400, 400, 800, 16);
    check(800, 400, 400, 800, 8);
    int64_t rows = 37, cols = 50;
    uint32_t *src = malloc(sizeof(uint32_t) * (size_t)(rows * cols));
    uint32_t *a = malloc(sizeof(uint32_t) * (size_t)(rows * cols));
    uint32_t *b = malloc(sizeof(uint32_t) * (size_t)(rows * cols));
    for (int64_t i = 0; i < rows * cols; i++) src[i] = (uint32_t)i;
    tfc_transpose32(a, cols, src, rows, rows, cols);
    CHECK(tfc_transpose32_in(b, cols, src, rows, rows, cols, 1) == 1);
    CHECK(memcmp(a, b, sizeof(uint32_t) * (size_t)(rows * cols)) == 0);
    free(src);
    free(a);
    free(b);
}

TFC_TEST_MAIN(T(test_each_width_against_the_loop), T(test_widest_on_a_kernel))
