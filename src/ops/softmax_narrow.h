/* Softmax and the softmax cross-entropies (sparse and dense labels) of
 * float rows of at most SOFTMAX_NARROW classes (a classifier's 10): 16
 * rows at a time, each step taken across the rows, a vector of them,
 * rather than along a row, whose loops are too short to vectorize (a 100
 * x 10 batch's sparse loss took 4.6 us row by row, 2.3 this way). Each
 * row's arithmetic is the row kernels' in nn.c, in their order: the same
 * bits. (LogSoftmax, whose row kernel calls expf, stays row by row.) */
#ifndef TFC_OPS_SOFTMAX_NARROW_H
#define TFC_OPS_SOFTMAX_NARROW_H

#include <stdint.h>

#define SOFTMAX_NARROW 16

/* Rows [lo, hi) of logits x (rows of n <= SOFTMAX_NARROW floats); for
 * each: */
/* its softmax into y's row */
void tfc_softmax_narrow(const float *x, int64_t n, float *y, int64_t lo, int64_t hi);

/* with class ids `labels` (int32, or int64 when label64; checked to lie
 * in [0, n)): its loss into loss[row], softmax minus the one-hot label
 * into backprop's row */
void tfc_sparse_xent_narrow(const float *x, const void *labels, int label64, int64_t n,
                            float *loss, float *backprop, int64_t lo, int64_t hi);

/* with dense labels (rows of n floats): its loss into loss[row], softmax
 * minus the labels into backprop's row */
void tfc_xent_narrow(const float *x, const float *labels, int64_t n, float *loss,
                     float *backprop, int64_t lo, int64_t hi);

/* Whether the ops take these kernels (1, the default) or the row kernels
 * (0), for tests that compare them; returns the previous setting. Not
 * while kernels run. */
int tfc_softmax_narrow_use(int on);
int tfc_softmax_narrow_on(void);

#endif
