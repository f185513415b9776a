/* GIF decoding (giflib) as TensorFlow's DecodeGif: every frame composed on
 * a canvas of the screen's size, each over the one before (pixels of the
 * frame's transparent color keep what was there), the first over black;
 * frames are clipped to the canvas. Output [frames, h, w, 3] RGB. */
#include "ops/image_internal.h"

#include <gif_lib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct gif_src {
    const uint8_t *p;
    size_t left;
} gif_src;

static int gif_read(GifFileType *gif, GifByteType *out, int n) {
    gif_src *s = gif->UserData;
    size_t k = n < 0 ? 0 : (size_t)n < s->left ? (size_t)n : s->left;
    memcpy(out, s->p, k);
    s->p += k;
    s->left -= k;
    return (int)k;
}

static void fail(tfc_kernel_ctx *c, tfc_string in, const char *why) {
    tfc_kernel_error(c, TFC_INVALID_ARGUMENT, "Invalid GIF data (size %zu), %s", in.len, why);
}

tfc_tensor *image_decode_gif(tfc_kernel_ctx *c, tfc_string in, int all_frames) {
    gif_src src = {(const uint8_t *)in.data, in.len};
    int err = 0;
    GifFileType *gif = DGifOpen(&src, gif_read, &err);
    if (!gif) {
        fail(c, in, GifErrorString(err) ? GifErrorString(err) : "unreadable");
        return NULL;
    }
    tfc_tensor *out = NULL;
    if (DGifSlurp(gif) != GIF_OK) {
        const char *why = GifErrorString(gif->Error);
        fail(c, in, why ? why : "unreadable");
        goto done;
    }
    int64_t w = gif->SWidth, h = gif->SHeight, nf = all_frames ? gif->ImageCount : 1;
    if (gif->ImageCount <= 0) {
        fail(c, in, "no image found");
        goto done;
    }
    if (w <= 0 || h <= 0 || w > IMAGE_MAX_SIDE || h > IMAGE_MAX_SIDE ||
        w * h > IMAGE_MAX_PIXELS / nf) {
        char why[96];
        snprintf(why, sizeof why, "image of %lldx%lld with %lld frames is too large or empty",
                 (long long)w, (long long)h, (long long)nf);
        fail(c, in, why);
        goto done;
    }
    int64_t dims[4] = {nf, h, w, 3};
    out = tfc_tensor_new(TFC_UINT8, 4, dims);
    if (!out) {
        tfc_kernel_error(c, TFC_RESOURCE_EXHAUSTED, "out of memory decoding a GIF");
        goto done;
    }
    size_t frame_bytes = (size_t)(w * h * 3);
    uint8_t *o = out->data;
    memset(o, 0, frame_bytes);
    for (int64_t k = 0; k < nf; k++) {
        uint8_t *f = o + (size_t)k * frame_bytes;
        if (k) memcpy(f, f - frame_bytes, frame_bytes);
        SavedImage *im = &gif->SavedImages[k];
        ColorMapObject *map = im->ImageDesc.ColorMap ? im->ImageDesc.ColorMap : gif->SColorMap;
        if (!map) {
            fail(c, in, "missing color map");
            goto bad;
        }
        GraphicsControlBlock gcb = {0, 0, 0, NO_TRANSPARENT_COLOR};
        DGifSavedExtensionToGCB(gif, (int)k, &gcb);
        int64_t left = im->ImageDesc.Left, top = im->ImageDesc.Top, fw = im->ImageDesc.Width,
                fh = im->ImageDesc.Height;
        if (fw <= 0 || fh <= 0) {
            fail(c, in, "found a frame of width or height 0");
            goto bad;
        }
        for (int64_t y = top; y < top + fh && y < h; y++)
            for (int64_t x = left; x < left + fw && x < w; x++) {
                int idx = im->RasterBits[(y - top) * fw + (x - left)];
                if (idx == gcb.TransparentColor) continue;
                if (idx >= map->ColorCount) {
                    char why[96];
                    snprintf(why, sizeof why, "found color index %d outside of color map range %d",
                             idx, map->ColorCount);
                    fail(c, in, why);
                    goto bad;
                }
                uint8_t *px = f + (y * w + x) * 3;
                px[0] = map->Colors[idx].Red;
                px[1] = map->Colors[idx].Green;
                px[2] = map->Colors[idx].Blue;
            }
    }
    goto done;
bad:
    tfc_tensor_free(out);
    out = NULL;
done:
    DGifCloseFile(gif, &err);
    return out;
}
