/* Narrow rows of the softmax kernels (see softmax_narrow.h). Arrays are
 * [class][row]: every loop below runs over 16 rows and vectorizes. The
 * row kernels' steps, each here for 16 rows at once:
 *   m = the row's max (compared as integers, NaN rows stay NaN);
 *   y = e^(x - m) (tfc_fast_expf: its vector clones give the scalar bits);
 *   s = the sum of y in double: classes from 8 times the 8-lane passes on
 *       in order, then the 8 lanes' sums (each 0 plus its classes), as
 *       nn.c's f_exp_row adds them;
 *   softmax = y times 1 / s (in double);
 *   sparse loss = log(s) - (x[label] - m), backprop = softmax, minus 1 at
 *       the label;
 *   dense loss = the sum over classes of label (log(s) - (x - m)), in
 *       class order, backprop = softmax - label. */
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

/* 16 rows from r0 with their exponentials and sums */
typedef struct block {
    float x[SOFTMAX_NARROW][ROWS]; /* the logits; rows past the last are zeros */
    float y[SOFTMAX_NARROW][ROWS]; /* e^(x - m) */
    float m[ROWS];
    double s[ROWS];
} block;

/* float bits ordered as the floats are (negative ones' magnitude bits
 * flipped), and back: the same map both ways */
static inline int32_t ordered(int32_t b) { return b ^ (int32_t)((uint32_t)(b >> 31) >> 1); }

TFC_VECTOR_CLONES static void exponentials(block *b, const float *x, int64_t n, int64_t r0,
                                           int rows) {
    int32_t best[ROWS];
    double lane[ROWS];
    for (int r = 0; r < ROWS; r++)
        for (int64_t k = 0; k < n; k++) b->x[k][r] = r < rows ? x[(r0 + r) * n + k] : 0.0f;
    for (int r = 0; r < ROWS; r++) best[r] = INT32_MIN;
    for (int64_t k = 0; k < n; k++)
        for (int r = 0; r < ROWS; r++) {
            int32_t v;
            memcpy(&v, &b->x[k][r], sizeof v);
            v = ordered(v);
            best[r] = v > best[r] ? v : best[r];
        }
    for (int r = 0; r < ROWS; r++) {
        int32_t v = ordered(best[r]);
        memcpy(&b->m[r], &v, sizeof v);
    }
    for (int64_t k = 0; k < n; k++)
        for (int r = 0; r < ROWS; r++) b->y[k][r] = tfc_fast_expf(b->x[k][r] - b->m[r]);
    const int64_t passes = n / 8; /* f_exp_row's 8-lane passes: 0, 1 or 2 */
    for (int r = 0; r < ROWS; r++) b->s[r] = 0;
    for (int64_t k = 8 * passes; k < n; k++)
        for (int r = 0; r < ROWS; r++) b->s[r] += (double)b->y[k][r];
    for (int i = 0; i < 8; i++) {
        for (int r = 0; r < ROWS; r++) lane[r] = 0;
        for (int64_t p = 0; p < passes; p++)
            for (int r = 0; r < ROWS; r++) lane[r] += (double)b->y[8 * p + i][r];
        for (int r = 0; r < ROWS; r++) b->s[r] += lane[r];
    }
}

/* row r's softmax (y / s) into out, a row of n */
static inline void softmax_row(const block *b, int r, int64_t n, float *out) {
    const double inv = 1.0 / b->s[r];
    for (int64_t k = 0; k < n; k++) out[k] = (float)((double)b->y[k][r] * inv);
}

static inline int rows_from(int64_t r0, int64_t hi) {
    return hi - r0 < ROWS ? (int)(hi - r0) : ROWS;
}

void tfc_softmax_narrow(const float *x, int64_t n, float *y, int64_t lo, int64_t hi) {
    block b;
    for (int64_t r0 = lo; r0 < hi; r0 += ROWS) {
        int rows = rows_from(r0, hi);
        exponentials(&b, x, n, r0, rows);
        for (int r = 0; r < rows; r++) softmax_row(&b, r, n, y + (r0 + r) * n);
    }
}

void tfc_sparse_xent_narrow(const float *x, const void *labels, int label64, int64_t n,
                            float *loss, float *backprop, int64_t lo, int64_t hi) {
    block b;
    for (int64_t r0 = lo; r0 < hi; r0 += ROWS) {
        int rows = rows_from(r0, hi);
        exponentials(&b, x, n, r0, rows);
        for (int r = 0; r < rows; r++) {
            const int64_t row = r0 + r;
            const int64_t lab =
                label64 ? ((const int64_t *)labels)[row] : ((const int32_t *)labels)[row];
            float *bp = backprop + row * n;
            softmax_row(&b, r, n, bp);
            bp[lab] = (float)(bp[lab] - 1.0);
            loss[row] = (float)(log(b.s[r]) - ((double)b.x[lab][r] - b.m[r]));
        }
    }
}

void tfc_xent_narrow(const float *x, const float *labels, int64_t n, float *loss,
                     float *backprop, int64_t lo, int64_t hi) {
    block b;
    for (int64_t r0 = lo; r0 < hi; r0 += ROWS) {
        int rows = rows_from(r0, hi);
        exponentials(&b, x, n, r0, rows);
        for (int r = 0; r < rows; r++) {
            const int64_t row = r0 + r;
            const float *l = labels + row * n;
            float *bp = backprop + row * n;
            const double ls = log(b.s[r]), inv = 1.0 / b.s[r];
            double sum = 0;
            for (int64_t k = 0; k < n; k++) {
                sum += (double)l[k] * (ls - ((double)b.x[k][r] - b.m[r]));
                bp[k] = (float)(b.y[k][r] * inv - (double)l[k]);
            }
            loss[row] = (float)sum;
        }
    }
}
