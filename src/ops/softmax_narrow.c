/* Narrow rows of the sparse softmax cross-entropy (see softmax_narrow.h).
 * Arrays are [class][row]: every loop below runs over 16 rows and
 * vectorizes. The row kernel's steps, each here for 16 rows at once:
 *   m = the row's max (compared as integers, NaN rows stay NaN);
 *   y = e^(x - m) (tfc_fast_expf: its vector clones give the scalar bits);
 *   s = the sum of y in double: classes from 8 times the 8-lane passes on
 *       in order, then the 8 lanes' sums (each 0 plus its classes), as
 *       f_exp_row adds them;
 *   backprop = y / s (times 1 / s in double), minus 1 at the label;
 *   loss = log(s) - (x[label] - m). */
#include "ops/softmax_narrow.h"

#include "core/vector_clones.h"
#include "ops/fast_math.h"

#include <math.h>
#include <stdatomic.h>
#include <string.h>

enum { ROWS = 16 };

static atomic_int narrow_on = 1;

int tfc_softmax_narrow_use(int on) { return atomic_exchange(&narrow_on, on ? 1 : 0); }
int tfc_softmax_narrow_on(void) { return atomic_load_explicit(&narrow_on, memory_order_relaxed); }

/* float bits ordered as the floats are (negative ones' magnitude bits
 * flipped), and back: the same map both ways */
static inline int32_t ordered(int32_t b) { return b ^ (int32_t)((uint32_t)(b >> 31) >> 1); }

/* 16 rows from row r0 (`rows` of them real, the rest zeros) */
TFC_VECTOR_CLONES static void block(const float *x, const void *labels, int label64, int64_t n,
                                    float *loss, float *backprop, int64_t r0, int rows) {
    float xt[SOFTMAX_NARROW][ROWS], y[SOFTMAX_NARROW][ROWS], m[ROWS];
    int32_t best[ROWS];
    double s[ROWS], lane[ROWS];
    for (int r = 0; r < ROWS; r++)
        for (int64_t k = 0; k < n; k++) xt[k][r] = r < rows ? x[(r0 + r) * n + k] : 0.0f;
    for (int r = 0; r < ROWS; r++) best[r] = INT32_MIN;
    for (int64_t k = 0; k < n; k++)
        for (int r = 0; r < ROWS; r++) {
            int32_t b;
            memcpy(&b, &xt[k][r], sizeof b);
            b = ordered(b);
            best[r] = b > best[r] ? b : best[r];
        }
    for (int r = 0; r < ROWS; r++) {
        int32_t b = ordered(best[r]);
        memcpy(&m[r], &b, sizeof b);
    }
    for (int64_t k = 0; k < n; k++)
        for (int r = 0; r < ROWS; r++) y[k][r] = tfc_fast_expf(xt[k][r] - m[r]);
    const int64_t passes = n / 8; /* f_exp_row's 8-lane passes: 0, 1 or 2 */
    for (int r = 0; r < ROWS; r++) s[r] = 0;
    for (int64_t k = 8 * passes; k < n; k++)
        for (int r = 0; r < ROWS; r++) s[r] += (double)y[k][r];
    for (int i = 0; i < 8; i++) {
        for (int r = 0; r < ROWS; r++) lane[r] = 0;
        for (int64_t p = 0; p < passes; p++)
            for (int r = 0; r < ROWS; r++) lane[r] += (double)y[8 * p + i][r];
        for (int r = 0; r < ROWS; r++) s[r] += lane[r];
    }
    for (int r = 0; r < rows; r++) {
        const int64_t row = r0 + r;
        const int64_t lab = label64 ? ((const int64_t *)labels)[row] : ((const int32_t *)labels)[row];
        const double inv = 1.0 / s[r];
        float *bp = backprop + row * n;
        for (int64_t k = 0; k < n; k++) bp[k] = (float)((double)y[k][r] * inv);
        bp[lab] = (float)(bp[lab] - 1.0);
        loss[row] = (float)(log(s[r]) - ((double)xt[lab][r] - m[r]));
    }
}

void tfc_sparse_xent_narrow(const float *x, const void *labels, int label64, int64_t n,
                            float *loss, float *backprop, int64_t lo, int64_t hi) {
    for (int64_t r0 = lo; r0 < hi; r0 += ROWS)
        block(x, labels, label64, n, loss, backprop, r0, hi - r0 < ROWS ? (int)(hi - r0) : ROWS);
}
