/* Data sets that keep their images as bytes (see dataset.c). */
#ifndef TFC_TRAIN_DATASET_INTERNAL_H
#define TFC_TRAIN_DATASET_INTERNAL_H

#include "tfc.h"

#include <stdint.h>

/* A data set over byte images (TFC_UINT8, [N, ...]) that behaves as one
 * over float32 images holding (float)byte * scale: next_batch draws the
 * bytes and scales them into the batch; tfc_dataset_images makes the float
 * tensor on its first call. It takes its own references, as
 * tfc_dataset_new. NULL with `status` set for another dtype, a zero scale
 * or mismatched sizes. */
tfc_dataset *tfc_dataset_new_scaled_bytes(tfc_tensor *bytes, tfc_tensor *labels, float scale,
                                          int shuffle, uint64_t seed, tfc_status *status);

#endif
