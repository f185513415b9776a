/* The sparse softmax cross-entropy of float rows of at most
 * SOFTMAX_NARROW classes (a classifier's 10): 16 rows at a time, each step
 * taken across the rows, a vector of them, rather than along a row, whose
 * loops are too short to vectorize (a 100 x 10 batch took 4.6 us row by
 * row). Each row's arithmetic is the row kernel's in nn.c, in its order:
 * the same bits. */
#ifndef TFC_OPS_SOFTMAX_NARROW_H
#define TFC_OPS_SOFTMAX_NARROW_H

#include <stdint.h>

#define SOFTMAX_NARROW 16

/* Rows [lo, hi) of logits x (rows of n <= SOFTMAX_NARROW floats) with
 * labels (int32, or int64 when label64; checked to lie in [0, n)): each
 * row's loss into loss[row], softmax minus the one-hot label into
 * backprop's row. */
void tfc_sparse_xent_narrow(const float *x, const void *labels, int label64, int64_t n,
                            float *loss, float *backprop, int64_t lo, int64_t hi);

/* Whether SparseSoftmaxCrossEntropyWithLogits takes the narrow kernel
 * (1, the default) or the row kernel (0), for tests that compare them;
 * returns the previous setting. Not while kernels run. */
int tfc_softmax_narrow_use(int on);
int tfc_softmax_narrow_on(void);

#endif
