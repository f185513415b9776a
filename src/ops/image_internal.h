/* Decoders beside image.c's PNG and JPEG: BMP (image_bmp.c, by hand) and
 * GIF (image_gif.c, giflib). Each returns a new uint8 tensor the caller
 * owns, or NULL with the kernel's error set (naming the node). */
#ifndef TFC_OPS_IMAGE_INTERNAL_H
#define TFC_OPS_IMAGE_INTERNAL_H

#include "graph/op_registry.h"

/* TensorFlow's limits on a decoded image (decode_image_op.cc). */
#define IMAGE_MAX_SIDE (1LL << 27)
#define IMAGE_MAX_PIXELS (1LL << 29)

/* A BMP (24- or 32-bit BGR(A), or 8-bit gray; bottom-up, or top-down for
 * a negative height) as [h, w, channels]: channels 0 the file's own, 3 or 4
 * (an added alpha is 255). */
tfc_tensor *image_decode_bmp(tfc_kernel_ctx *c, tfc_string in, int channels);

/* A GIF as [frames, h, w, 3] RGB, each frame drawn over the one before
 * (transparent pixels keep it), the first over black. all_frames 0: the
 * first frame only, still 4-D. */
tfc_tensor *image_decode_gif(tfc_kernel_ctx *c, tfc_string in, int all_frames);

#endif
