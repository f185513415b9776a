/* Conditional accumulators: TensorFlow's ConditionalAccumulator, the
 * session resource behind SyncReplicasOptimizer. It has a global step;
 * a gradient applied with a local step older than it is dropped (stale);
 * a take of n waits until n gradients arrived, returns their mean (or
 * sum), forgets them and advances the global step.
 *
 * Unlike TensorFlow, which adds each gradient into one buffer as it
 * arrives, the gradients are kept until the take and summed then in an
 * order that does not depend on their arrival: sorted by their bytes. So
 * the result is the same bits whichever worker came first (the sum of
 * three floats depends on its order); the price is one buffer per
 * gradient waiting instead of one in all.
 *
 * A take that must wait holds no thread: its kernel defers
 * (tfc_kernel_defer) and the apply that brings the last gradient it needs
 * completes it, outside the accumulator's lock. */
#ifndef TFC_DATA_ACCUMULATOR_H
#define TFC_DATA_ACCUMULATOR_H

#include "graph/op_registry.h"

typedef struct tfc_accumulator tfc_accumulator;

/* An accumulator with one reference (a tfc_resource) of gradients of
 * `dtype` (float, double, int32, int64) and partial `shape`; `sum`
 * nonzero: takes return sums, else means. NULL with `why` set. */
tfc_accumulator *tfc_accumulator_new(const char *name, tfc_dtype dtype, const tfc_shape *shape,
                                     int sum, char *why, size_t cap);
/* The accumulator behind a handle tensor, or NULL. */
tfc_accumulator *tfc_accumulator_from_handle(const tfc_tensor *handle);
const char *tfc_accumulator_name(const tfc_accumulator *a);
/* Fails every waiting take with CANCELLED, and every later use: the
 * session that owns it is closing. */
void tfc_accumulator_cancel_all(tfc_accumulator *a);

/* The kernels' work; each reports through c (errors name c's node). */
void tfc_accumulator_apply(tfc_accumulator *a, tfc_kernel_ctx *c, int64_t local_step,
                           const tfc_tensor *grad);
/* Completes at once when enough gradients are there, else defers c. */
void tfc_accumulator_start_take(tfc_accumulator *a, tfc_kernel_ctx *c, int num_required);
int32_t tfc_acc_num_accumulated(tfc_accumulator *a);
void tfc_acc_set_global_step(tfc_accumulator *a, int64_t step);
int64_t tfc_acc_global_step(tfc_accumulator *a);

#endif
