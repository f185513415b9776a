/* BMP decoding as TensorFlow's DecodeBmp: the header fields it reads (pixel
 * data offset at 10, width at 18, height at 22, bits per pixel at 28, all
 * little-endian), rows padded to 4 bytes, the file exactly the header and
 * the rows, pixels stored BGR(A). */
#include "ops/image_internal.h"

#include <stdlib.h>
#include <string.h>

static int32_t le32(const uint8_t *p) {
    return (int32_t)((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
                     (uint32_t)p[3] << 24);
}

tfc_tensor *image_decode_bmp(tfc_kernel_ctx *c, tfc_string in, int channels) {
    const uint8_t *p = (const uint8_t *)in.data;
    if (channels == 1) {
        tfc_kernel_error(c, TFC_INVALID_ARGUMENT,
                         "`channels` must be 0, 3 or 4 for BMP, but got %d", channels);
        return NULL;
    }
    if (in.len < 32) {
        tfc_kernel_error(c, TFC_INVALID_ARGUMENT,
                         "Incomplete bmp content, requires at least 32 bytes to find the header "
                         "size, width, height, and bpp, got %zu bytes",
                         in.len);
        return NULL;
    }
    int64_t offset = le32(p + 10), width = le32(p + 18), height = le32(p + 22);
    int bpp = (int16_t)(p[28] | p[29] << 8), file_ch = bpp / 8;
    if (file_ch != 1 && file_ch != 3 && file_ch != 4) {
        tfc_kernel_error(c, TFC_INVALID_ARGUMENT,
                         "Number of channels inherent in the image must be 1, 3 or 4, was %d",
                         file_ch);
        return NULL;
    }
    const char *bad = width <= 0   ? "Width must be positive"
                      : !height    ? "Height must be nonzero"
                      : offset < 0 ? "header size must be nonnegative"
                      : width * llabs(height) >= INT32_MAX / 8
                          ? "Total possible pixel bytes must be less than 2^30"
                          : NULL;
    if (bad) {
        tfc_kernel_error(c, TFC_INVALID_ARGUMENT, "%s", bad);
        return NULL;
    }
    int64_t h = llabs(height), row = (file_ch * width + 3) / 4 * 4;
    int64_t diff = (int64_t)in.len - offset - row * h;
    if (diff) {
        tfc_kernel_error(c, TFC_INVALID_ARGUMENT,
                         "Input size should match (header_size + row_size * abs_height) but they "
                         "differ by %lld",
                         (long long)diff);
        return NULL;
    }
    int ch = channels ? channels : file_ch;
    int64_t dims[3] = {h, width, ch};
    tfc_tensor *out = tfc_tensor_new(TFC_UINT8, 3, dims);
    if (!out) {
        tfc_kernel_error(c, TFC_RESOURCE_EXHAUSTED, "out of memory decoding a BMP");
        return NULL;
    }
    uint8_t *o = out->data;
    for (int64_t y = 0; y < h; y++) {
        /* bottom-up unless the height is negative */
        const uint8_t *src = p + offset + (height < 0 ? y : h - 1 - y) * row;
        for (int64_t x = 0; x < width; x++, src += file_ch, o += ch) {
            if (file_ch == 1) {
                memset(o, src[0], ch < 4 ? (size_t)ch : 3); /* gray repeated */
            } else {
                o[0] = src[2];
                if (ch > 1) {
                    o[1] = src[1];
                    o[2] = src[0];
                }
            }
            if (ch == 4) o[3] = file_ch == 4 ? src[3] : 255;
        }
    }
    return out;
}
