/* Image codecs as TensorFlow's ops: DecodePng, EncodePng (libpng),
 * DecodeJpeg, EncodeJpeg (libjpeg), DecodeGif (giflib, image_gif.c),
 * DecodeBmp (image_bmp.c) and DecodeImage. As in TensorFlow, the decoders
 * share one kernel that looks at the data's magic bytes, so DecodePng,
 * DecodeJpeg and DecodeGif each decode a PNG, a JPEG or a GIF (DecodeGif
 * 4-D, the others 3-D and one frame only); BMP data only DecodeBmp and
 * DecodeImage take, and DecodeBmp nothing else; the op's attrs apply.
 *
 * Both libraries report errors by longjmp: whatever a codec changes after
 * its setjmp and needs after the jump (the output tensor, row pointers,
 * the library's message) sits in a heap "job" whose pointer is set before
 * setjmp, since locals changed in between are indeterminate after it. */
#include "ops/image_internal.h"
#include "ops/string_internal.h"

#include <png.h> /* before anything that includes setjmp.h, as libpng asks */
#include <setjmp.h>
#include <stdio.h> /* before jpeglib.h, which uses FILE */
#include <stdlib.h>
#include <string.h>

#include <jerror.h>
#include <jpeglib.h>

#define IMAGE_OP (TFC_OP_STRINGS | TFC_OP_NO_GRADIENT)

/* TensorFlow's limits on a decoded image (decode_image_op.cc). */
#define MAX_SIDE (1LL << 27)
#define MAX_PIXELS (1LL << 29)

typedef enum { FMT_UNKNOWN, FMT_PNG, FMT_JPEG, FMT_GIF, FMT_BMP } image_format;

static image_format classify(tfc_string s) {
    const unsigned char *p = (const unsigned char *)s.data;
    if (s.len >= 3 && p[0] == 0xff && p[1] == 0xd8 && p[2] == 0xff) return FMT_JPEG;
    if (s.len >= 8 && !memcmp(p, "\x89PNG\r\n\x1a\n", 8)) return FMT_PNG;
    if (s.len >= 4 && !memcmp(p, "GIF8", 4)) return FMT_GIF;
    if (s.len >= 2 && !memcmp(p, "BM", 2)) return FMT_BMP;
    return FMT_UNKNOWN;
}

/* ---- attrs, checked when the node is built ---- */

static int set_default_int(tfc_infer_ctx *c, const char *name, int64_t v) {
    return tfc_attrs_find(c->attrs, name) ? 0 : tfc_attrs_set_int(c->attrs, name, TFC_ATTR_INT, v);
}
static int set_default_bool(tfc_infer_ctx *c, const char *name, int v) {
    return tfc_attrs_find(c->attrs, name) ? 0 : tfc_attrs_set_int(c->attrs, name, TFC_ATTR_BOOL, v);
}
static int set_default_string(tfc_infer_ctx *c, const char *name, const char *v) {
    return tfc_attrs_string(c->attrs, name) ? 0 : tfc_attrs_set_string(c->attrs, name, v);
}

static int contents_scalar(tfc_infer_ctx *c) {
    if (str_check_input(c, 0, "contents")) return -1;
    tfc_shape s = tfc_infer_input_shape(c, 0);
    if (s.rank > 0) return tfc_infer_error(c, "contents must be scalar, got rank %d", s.rank);
    return 0;
}

static int decode_infer(tfc_infer_ctx *c) {
    if (contents_scalar(c)) return -1;
    const char *op = c->op->type;
    if (!strcmp(op, "DecodeGif")) { /* no attrs: always RGB frames */
        int64_t dims[4] = {-1, -1, -1, 3};
        tfc_infer_set_output(c, 0, TFC_UINT8, tfc_shape_make(4, dims));
        return 0;
    }
    int jpeg = !strcmp(op, "DecodeJpeg"), bmp = !strcmp(op, "DecodeBmp"),
        any = !strcmp(op, "DecodeImage");
    set_default_int(c, "channels", 0);
    int64_t ch = tfc_attrs_int(c->attrs, "channels", 0);
    if (ch != 0 && ch != 1 && ch != 3 && ch != 4)
        return tfc_infer_error(c, "channels must be 0, 1, 3, or 4, got %lld", (long long)ch);
    tfc_dtype dt = TFC_UINT8;
    if (bmp) {
        if (ch == 1) return tfc_infer_error(c, "channels must be 0, 3 or 4 for BMP, got 1");
    } else if (any) {
        set_default_bool(c, "expand_animations", 1);
        if (!tfc_attrs_find(c->attrs, "dtype"))
            tfc_attrs_set_int(c->attrs, "dtype", TFC_ATTR_TYPE, TFC_UINT8);
        dt = tfc_attrs_type(c->attrs, "dtype", TFC_INVALID_DTYPE);
        if (dt != TFC_UINT8 && dt != TFC_UINT16 && dt != TFC_FLOAT)
            return tfc_infer_error(c, "dtype must be uint8, uint16 or float32, got %s",
                                   tfc_dtype_name(dt));
        /* 3-D, or 4-D for an animated GIF when expand_animations is set */
        tfc_shape s = tfc_attrs_int(c->attrs, "expand_animations", 1)
                          ? tfc_shape_unknown()
                          : tfc_shape_make(3, (int64_t[]){-1, -1, ch ? ch : -1});
        tfc_infer_set_output(c, 0, dt, s);
        return 0;
    } else if (jpeg) {
        set_default_int(c, "ratio", 1);
        set_default_bool(c, "fancy_upscaling", 1);
        set_default_bool(c, "try_recover_truncated", 0);
        if (!tfc_attrs_find(c->attrs, "acceptable_fraction"))
            tfc_attrs_set_float(c->attrs, "acceptable_fraction", 1.0);
        set_default_string(c, "dct_method", "");
        int64_t r = tfc_attrs_int(c->attrs, "ratio", 1);
        if (r != 1 && r != 2 && r != 4 && r != 8)
            return tfc_infer_error(c, "ratio must be 1, 2, 4, or 8, got %lld", (long long)r);
        const char *dct = tfc_attrs_string(c->attrs, "dct_method");
        if (strcmp(dct, "") && strcmp(dct, "INTEGER_FAST") && strcmp(dct, "INTEGER_ACCURATE"))
            return tfc_infer_error(c, "dct_method must be one of "
                                      "{'', 'INTEGER_FAST', 'INTEGER_ACCURATE'}, got '%s'",
                                   dct);
    } else {
        if (!tfc_attrs_find(c->attrs, "dtype")) tfc_attrs_set_int(c->attrs, "dtype", TFC_ATTR_TYPE, TFC_UINT8);
        dt = tfc_attrs_type(c->attrs, "dtype", TFC_INVALID_DTYPE);
        if (dt != TFC_UINT8 && dt != TFC_UINT16)
            return tfc_infer_error(c, "Type must be uint8 or uint16, got %s", tfc_dtype_name(dt));
    }
    int64_t dims[3] = {-1, -1, ch ? ch : -1};
    tfc_infer_set_output(c, 0, dt, tfc_shape_make(3, dims));
    return 0;
}

/* ---- PNG decoding (TensorFlow's png_io.cc conversions) ---- */

typedef struct png_src {
    const unsigned char *p;
    size_t left;
    char msg[128]; /* libpng's last error */
} png_src;

static void png_read_mem(png_structp png, png_bytep out, png_size_t n) {
    png_src *s = png_get_io_ptr(png);
    if (s->left < n) png_error(png, "More bytes requested to read than available");
    memcpy(out, s->p, n);
    s->p += n;
    s->left -= n;
}

static void png_on_error(png_structp png, png_const_charp msg) {
    png_src *s = png_get_io_ptr(png);
    if (s) snprintf(s->msg, sizeof s->msg, "%s", msg);
    png_longjmp(png, 1);
}

static void png_on_warning(png_structp png, png_const_charp msg) {
    (void)png, (void)msg; /* warnings (a bad CRC in an ancillary chunk) are not errors */
}

/* Everything a PNG decode touches after its setjmp lives here, on the
 * heap: locals changed after setjmp are indeterminate after the longjmp. */
typedef struct png_job {
    png_src src;
    png_structp png;
    png_infop info;
    png_bytep *rows;
    tfc_tensor *out;
    int header_done;
} png_job;

static void png_job_free(png_job *j) {
    png_destroy_read_struct(&j->png, j->info ? &j->info : NULL, NULL);
    free(j->rows);
    tfc_tensor_free(j->out);
    free(j);
}

/* Decodes a PNG into a new [h, w, channels] tensor of dtype uint8 or uint16
 * (channels 0: the image's own). NULL with the error set. */
static tfc_tensor *decode_png(tfc_kernel_ctx *c, tfc_string in, int want_channels, tfc_dtype dt) {
    png_job *j = calloc(1, sizeof *j);
    int bits = dt == TFC_UINT16 ? 16 : 8;
    if (j) {
        j->src.p = (const unsigned char *)in.data;
        j->src.left = in.len;
        j->png = png_create_read_struct(PNG_LIBPNG_VER_STRING, NULL, png_on_error, png_on_warning);
    }
    if (j && j->png) j->info = png_create_info_struct(j->png);
    if (!j || !j->png || !j->info) {
        if (j) png_job_free(j);
        tfc_kernel_error(c, TFC_RESOURCE_EXHAUSTED, "out of memory decoding a PNG");
        return NULL;
    }
    png_set_read_fn(j->png, &j->src, png_read_mem);
    if (setjmp(png_jmpbuf(j->png))) {
        tfc_kernel_error(c, TFC_INVALID_ARGUMENT, "Invalid PNG %s, %s %zu (%s)",
                         j->header_done ? "data" : "header",
                         j->header_done ? "size" : "data size", in.len, j->src.msg);
        png_job_free(j);
        return NULL;
    }
    png_read_info(j->png, j->info);
    int channels = want_channels; /* declared past setjmp: longjmp cannot clobber it */
    png_uint_32 w, h;
    int depth, color;
    png_get_IHDR(j->png, j->info, &w, &h, &depth, &color, NULL, NULL, NULL);
    int trns = png_get_valid(j->png, j->info, PNG_INFO_tRNS) != 0;
    if (!channels)
        channels = color == PNG_COLOR_TYPE_PALETTE ? (trns ? 4 : 3)
                                                   : png_get_channels(j->png, j->info);
    int has_alpha = (color & PNG_COLOR_MASK_ALPHA) != 0;
    if (!(channels & 1)) { /* alpha wanted */
        /* an added alpha is opaque: the filler is taken at the output's
         * depth, so all ones fits both 8 and 16 bits */
        if (!has_alpha && trns) png_set_tRNS_to_alpha(j->png);
        else if (!has_alpha) png_set_add_alpha(j->png, 0xffff, PNG_FILLER_AFTER);
    } else if (has_alpha || trns) {
        png_set_strip_alpha(j->png);
    }
    if (depth > 8 && bits == 8) png_set_strip_16(j->png);
    png_set_packing(j->png);
    if (color == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(j->png);
    int is_gray = !(color & PNG_COLOR_MASK_COLOR);
    if (is_gray && depth < 8) png_set_expand_gray_1_2_4_to_8(j->png);
    if (channels < 3 && !is_gray) png_set_rgb_to_gray(j->png, 1, 0.299, 0.587); /* BT.601 */
    if (channels >= 3 && is_gray) png_set_gray_to_rgb(j->png);
    /* 8 to 16 bits repeats the byte (v * 257), as TensorFlow does */
    if (depth <= 8 && bits == 16) png_set_expand_16(j->png);
    if (bits == 16) png_set_swap(j->png); /* PNG is big-endian; tensors are host order */
    png_set_interlace_handling(j->png);
    png_read_update_info(j->png, j->info);
    if ((long long)w >= MAX_SIDE || (long long)h >= MAX_SIDE ||
        (long long)w * (long long)h >= MAX_PIXELS) {
        tfc_kernel_error(c, TFC_INVALID_ARGUMENT, "PNG size too large for int: %u by %u",
                         (unsigned)w, (unsigned)h);
        png_job_free(j);
        return NULL;
    }
    size_t row_bytes = (size_t)w * (size_t)channels * (size_t)(bits / 8);
    if (png_get_rowbytes(j->png, j->info) != row_bytes) {
        tfc_kernel_error(c, TFC_INTERNAL, "PNG rows of %zu bytes, expected %zu",
                         (size_t)png_get_rowbytes(j->png, j->info), row_bytes);
        png_job_free(j);
        return NULL;
    }
    int64_t dims[3] = {h, w, channels};
    j->out = tfc_tensor_alloc(dt, 3, dims);
    j->rows = malloc(sizeof *j->rows * (size_t)h);
    if (!j->out || !j->rows) {
        tfc_kernel_error(c, TFC_RESOURCE_EXHAUSTED, "out of memory decoding a %ux%u PNG",
                         (unsigned)w, (unsigned)h);
        png_job_free(j);
        return NULL;
    }
    for (png_uint_32 y = 0; y < h; y++) j->rows[y] = (png_bytep)j->out->data + y * row_bytes;
    j->header_done = 1;
    png_read_image(j->png, j->rows);
    png_read_end(j->png, NULL);
    tfc_tensor *out = j->out;
    j->out = NULL;
    png_job_free(j);
    return out;
}

/* ---- JPEG decoding ---- */

typedef struct jpeg_err {
    struct jpeg_error_mgr mgr;
    jmp_buf jump;
    char msg[JMSG_LENGTH_MAX];
    int truncated;               /* the data ended before the image did */
    JDIMENSION lines_at_truncation;
} jpeg_err;

static void jpeg_on_error(j_common_ptr cinfo) {
    jpeg_err *e = (jpeg_err *)cinfo->err;
    (*cinfo->err->format_message)(cinfo, e->msg);
    longjmp(e->jump, 1);
}

static void jpeg_on_message(j_common_ptr cinfo, int level) {
    jpeg_err *e = (jpeg_err *)cinfo->err;
    /* the memory source's "premature end of data" is how truncation shows */
    if (level < 0 && cinfo->err->msg_code == JWRN_JPEG_EOF && !e->truncated) {
        e->truncated = 1;
        e->lines_at_truncation = ((j_decompress_ptr)cinfo)->output_scanline;
    }
}

typedef struct jpeg_job {
    struct jpeg_decompress_struct cinfo;
    jpeg_err err;
    tfc_tensor *out;
} jpeg_job;

static tfc_tensor *decode_jpeg(tfc_kernel_ctx *c, tfc_string in, int want_channels) {
    const tfc_attrs *a = &c->node->attrs;
    if (want_channels != 0 && want_channels != 1 && want_channels != 3) {
        tfc_kernel_error(c, TFC_INVALID_ARGUMENT, "channels must be 0, 1, or 3 for JPEG, got %d",
                         want_channels);
        return NULL;
    }
    /* this kernel also serves DecodePng, which has none of these attrs */
    int ratio = (int)tfc_attrs_int(a, "ratio", 1);
    int fancy = (int)tfc_attrs_int(a, "fancy_upscaling", 1);
    int recover = (int)tfc_attrs_int(a, "try_recover_truncated", 0);
    double fraction = tfc_attrs_float(a, "acceptable_fraction", 1.0);
    const char *dct = tfc_attrs_string(a, "dct_method");
    jpeg_job *j = calloc(1, sizeof *j);
    if (!j) {
        tfc_kernel_error(c, TFC_RESOURCE_EXHAUSTED, "out of memory decoding a JPEG");
        return NULL;
    }
    j->cinfo.err = jpeg_std_error(&j->err.mgr);
    j->err.mgr.error_exit = jpeg_on_error;
    j->err.mgr.emit_message = jpeg_on_message;
    if (setjmp(j->err.jump)) {
        jpeg_destroy_decompress(&j->cinfo);
        tfc_tensor_free(j->out);
        tfc_kernel_error(c, TFC_INVALID_ARGUMENT,
                         "Invalid JPEG data or crop window, data size %zu (%s)", in.len,
                         j->err.msg);
        free(j);
        return NULL;
    }
    jpeg_create_decompress(&j->cinfo);
    jpeg_mem_src(&j->cinfo, (const unsigned char *)in.data, (unsigned long)in.len);
    jpeg_read_header(&j->cinfo, TRUE);
    int channels = want_channels; /* declared past setjmp: longjmp cannot clobber it */
    const char *why = NULL;
    if (!channels) {
        if (j->cinfo.num_components == 1) channels = 1;
        else if (j->cinfo.num_components == 3) channels = 3;
        else why = "only JPEGs of 1 or 3 components are supported (CMYK is not)";
    }
    if (!why && j->cinfo.jpeg_color_space != JCS_GRAYSCALE && j->cinfo.jpeg_color_space != JCS_YCbCr &&
        j->cinfo.jpeg_color_space != JCS_RGB)
        why = "only grayscale, YCbCr and RGB JPEGs are supported (CMYK is not)";
    if (why) {
        jpeg_destroy_decompress(&j->cinfo);
        free(j);
        tfc_kernel_error(c, TFC_UNIMPLEMENTED, "%s", why);
        return NULL;
    }
    j->cinfo.out_color_space = channels == 1 ? JCS_GRAYSCALE : JCS_RGB;
    j->cinfo.scale_num = 1;
    j->cinfo.scale_denom = (unsigned)ratio;
    j->cinfo.do_fancy_upsampling = fancy ? TRUE : FALSE;
    /* TensorFlow's default ("") is the fast integer DCT */
    j->cinfo.dct_method = dct && !strcmp(dct, "INTEGER_ACCURATE") ? JDCT_ISLOW : JDCT_IFAST;
    jpeg_calc_output_dimensions(&j->cinfo);
    long long w = j->cinfo.output_width, h = j->cinfo.output_height;
    if (w <= 0 || h <= 0 || w >= MAX_SIDE || h >= MAX_SIDE || w * h >= MAX_PIXELS) {
        jpeg_destroy_decompress(&j->cinfo);
        free(j);
        tfc_kernel_error(c, TFC_INVALID_ARGUMENT, "JPEG size %lld by %lld is not supported", w,
                         h);
        return NULL;
    }
    int64_t dims[3] = {h, w, channels};
    j->out = tfc_tensor_new(TFC_UINT8, 3, dims);
    if (!j->out) {
        jpeg_destroy_decompress(&j->cinfo);
        free(j);
        tfc_kernel_error(c, TFC_RESOURCE_EXHAUSTED, "out of memory decoding a %lldx%lld JPEG", w,
                         h);
        return NULL;
    }
    jpeg_start_decompress(&j->cinfo);
    size_t row_bytes = (size_t)w * (size_t)channels;
    while (j->cinfo.output_scanline < j->cinfo.output_height) {
        JSAMPROW row = (JSAMPROW)j->out->data + (size_t)j->cinfo.output_scanline * row_bytes;
        if (jpeg_read_scanlines(&j->cinfo, &row, 1) != 1) break;
    }
    int truncated = j->err.truncated;
    JDIMENSION good = j->err.lines_at_truncation;
    if (!truncated) jpeg_finish_decompress(&j->cinfo);
    jpeg_destroy_decompress(&j->cinfo);
    tfc_tensor *out = j->out;
    free(j);
    if (truncated && (!recover || (double)good < fraction * (double)h)) {
        tfc_tensor_free(out);
        tfc_kernel_error(c, TFC_INVALID_ARGUMENT,
                         "Invalid JPEG data or crop window, data size %zu (the data ends after "
                         "%u of %lld lines)",
                         in.len, (unsigned)good, h);
        return NULL;
    }
    return out;
}

/* DecodeImage's dtype from uint8 (TensorFlow's scales: uint16 v * 256,
 * float v / 255) or from a 16-bit PNG (float v / 65535). */
static tfc_tensor *convert(tfc_kernel_ctx *c, tfc_tensor *t, tfc_dtype dt) {
    if (!t || t->dtype == dt) return t;
    tfc_tensor *o = tfc_tensor_new(dt, t->rank, t->dims);
    if (!o) {
        tfc_tensor_free(t);
        tfc_kernel_error(c, TFC_RESOURCE_EXHAUSTED, "out of memory converting an image");
        return NULL;
    }
    for (int64_t i = 0; i < t->nelem; i++) {
        if (t->dtype == TFC_UINT16)
            ((float *)o->data)[i] = ((const uint16_t *)t->data)[i] / 65535.0f;
        else if (dt == TFC_UINT16)
            ((uint16_t *)o->data)[i] = (uint16_t)(((const uint8_t *)t->data)[i] * 256);
        else
            ((float *)o->data)[i] = ((const uint8_t *)t->data)[i] / 255.0f;
    }
    tfc_tensor_free(t);
    return o;
}

/* One frame of a 4-D tensor as 3-D, or a 3-D image as one frame. */
static tfc_tensor *set_frames(tfc_kernel_ctx *c, tfc_tensor *t, int four_d) {
    if (!t || (t->rank == 4) == four_d) return t;
    if (four_d) {
        memmove(t->dims + 1, t->dims, 3 * sizeof *t->dims);
        t->dims[0] = 1;
        t->rank = 4;
    } else if (t->dims[0] != 1) {
        tfc_kernel_error(c, TFC_INVALID_ARGUMENT,
                         "Got %lld frames, but animated gifs can only be decoded by "
                         "tf.io.decode_gif or tf.io.decode_image",
                         (long long)t->dims[0]);
        tfc_tensor_free(t);
        return NULL;
    } else {
        memmove(t->dims, t->dims + 1, 3 * sizeof *t->dims);
        t->rank = 3;
    }
    return t;
}

static void unknown_format(tfc_kernel_ctx *c, tfc_string in) {
    char shown[16 * 4 + 1];
    size_t k = 0;
    for (size_t i = 0; i < in.len && i < 16; i++) {
        unsigned char b = (unsigned char)in.data[i];
        if (b >= 0x20 && b < 0x7f && b != '\\' && b != '\'') shown[k++] = (char)b;
        else k += (size_t)snprintf(shown + k, sizeof shown - k, "\\%03o", b);
    }
    shown[k] = 0;
    tfc_kernel_error(c, TFC_INVALID_ARGUMENT,
                     "Expected image (JPEG, PNG, or GIF), got unknown format starting with "
                     "'%s'",
                     shown);
}

static void decode_kernel(tfc_kernel_ctx *c) {
    tfc_string in = tfc_string_at(c->inputs[0], 0);
    const tfc_attrs *a = &c->node->attrs;
    const char *op = c->node->op->type;
    int gif_op = !strcmp(op, "DecodeGif"), bmp_op = !strcmp(op, "DecodeBmp"),
        any_op = !strcmp(op, "DecodeImage");
    int channels = gif_op ? 3 : (int)tfc_attrs_int(a, "channels", 0);
    tfc_dtype dt = tfc_attrs_type(a, "dtype", TFC_UINT8);
    int expand = any_op && tfc_attrs_int(a, "expand_animations", 1);
    image_format f = classify(in);
    static const char *const names[] = {"", "PNG", "JPEG", "GIF", "BMP"};
    tfc_tensor *out = NULL;
    if (!in.len) {
        tfc_kernel_error(c, TFC_INVALID_ARGUMENT,
                         "Expected image (JPEG, PNG, or GIF), got empty file");
        return;
    }
    if (f == FMT_UNKNOWN) {
        unknown_format(c, in);
        return;
    }
    if (bmp_op && f != FMT_BMP) {
        tfc_kernel_error(c, TFC_INVALID_ARGUMENT,
                         "Trying to decode %s format using DecodeBmp op. Use `decode_%s` or "
                         "`decode_image` instead.",
                         names[f], f == FMT_PNG ? "png" : f == FMT_GIF ? "gif" : "jpeg");
        return;
    }
    if (f == FMT_BMP && !bmp_op && !any_op) {
        tfc_kernel_error(c, TFC_INVALID_ARGUMENT,
                         "Trying to decode BMP format using a wrong op. Use `decode_bmp` or "
                         "`decode_image` instead. Op used: %s",
                         op);
        return;
    }
    if (f == FMT_PNG) {
        out = decode_png(c, in, channels, dt == TFC_FLOAT ? TFC_UINT16 : dt);
    } else if (f == FMT_JPEG && dt != TFC_UINT8 && !any_op) {
        tfc_kernel_error(c, TFC_INVALID_ARGUMENT, "JPEG does not support uint16 output");
    } else if (f == FMT_JPEG) {
        out = decode_jpeg(c, in, channels);
    } else if (f == FMT_BMP) {
        out = image_decode_bmp(c, in, channels);
    } else if (channels != 0 && channels != 3) {
        tfc_kernel_error(c, TFC_INVALID_ARGUMENT, "channels must be 0 or 3 for GIF, got %d",
                         channels);
    } else {
        /* DecodePng and DecodeJpeg count the frames to refuse an animation */
        out = image_decode_gif(c, in, !any_op || expand);
        if (any_op && !expand) out = set_frames(c, out, 0);
    }
    /* DecodeGif gives 4-D whatever it decoded; the others 3-D, but a GIF
     * stays 4-D for DecodeImage with expand_animations */
    if (gif_op || !(any_op && expand && f == FMT_GIF)) out = set_frames(c, out, gif_op);
    if (any_op) out = convert(c, out, dt);
    if (out) tfc_kernel_set_output(c, 0, out);
}

/* ---- EncodePng(image) -> contents ---- */

static int image_input_check(tfc_infer_ctx *c, int max_channels) {
    tfc_shape s = tfc_infer_input_shape(c, 0);
    if (s.rank >= 0 && s.rank != 3)
        return tfc_infer_error(c, "image must be 3-dimensional, got rank %d", s.rank);
    if (s.rank == 3 && s.dims[2] >= 0 && (s.dims[2] < 1 || s.dims[2] > max_channels))
        return tfc_infer_error(c, "image must have 1 to %d channels, got %lld", max_channels,
                               (long long)s.dims[2]);
    return 0;
}

static int encode_png_infer(tfc_infer_ctx *c) {
    tfc_dtype dt = tfc_infer_input_dtype(c, 0);
    if (dt != TFC_UINT8 && dt != TFC_UINT16)
        return tfc_infer_error(c, "image must be uint8 or uint16, got %s", tfc_dtype_name(dt));
    if (image_input_check(c, 4)) return -1;
    set_default_int(c, "compression", -1);
    if (!tfc_attrs_find(c->attrs, "T")) tfc_attrs_set_int(c->attrs, "T", TFC_ATTR_TYPE, dt);
    int64_t level = tfc_attrs_int(c->attrs, "compression", -1);
    if (level < -1 || level > 9)
        return tfc_infer_error(c, "compression should be in [-1,9], got %lld", (long long)level);
    tfc_infer_set_output(c, 0, TFC_STRING, tfc_shape_scalar());
    return 0;
}

typedef struct png_sink {
    char *p;
    size_t n, cap;
    int oom;
} png_sink;

static void png_write_mem(png_structp png, png_bytep data, png_size_t n) {
    png_sink *s = png_get_io_ptr(png);
    if (s->oom) return;
    if (s->n + n > s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 4096;
        while (cap < s->n + n) cap *= 2;
        char *q = realloc(s->p, cap);
        if (!q) {
            s->oom = 1;
            return;
        }
        s->p = q;
        s->cap = cap;
    }
    memcpy(s->p + s->n, data, n);
    s->n += n;
}

static void png_flush_mem(png_structp png) { (void)png; }

static void png_write_error(png_structp png, png_const_charp msg) {
    char *why = png_get_error_ptr(png);
    snprintf(why, 128, "%s", msg);
    png_longjmp(png, 1);
}

typedef struct png_wjob {
    png_structp png;
    png_infop info;
    png_sink sink;
    char why[128];
} png_wjob;

static void encode_png_kernel(tfc_kernel_ctx *c) {
    const tfc_tensor *im = c->inputs[0];
    if (im->rank != 3 || im->dims[2] < 1 || im->dims[2] > 4) {
        tfc_kernel_error(c, TFC_INVALID_ARGUMENT,
                         "image must be 3-dimensional with 1 to 4 channels");
        return;
    }
    int64_t h = im->dims[0], w = im->dims[1], ch = im->dims[2];
    if (h <= 0 || w <= 0 || h > 0x7fffffff || w > 0x7fffffff) {
        tfc_kernel_error(c, TFC_INVALID_ARGUMENT, "image of %lld by %lld pixels cannot be a PNG",
                         (long long)h, (long long)w);
        return;
    }
    int bits = im->dtype == TFC_UINT16 ? 16 : 8;
    static const int color_of[] = {0, PNG_COLOR_TYPE_GRAY, PNG_COLOR_TYPE_GRAY_ALPHA,
                                   PNG_COLOR_TYPE_RGB, PNG_COLOR_TYPE_RGB_ALPHA};
    int level = (int)tfc_attrs_int(&c->node->attrs, "compression", -1);
    png_wjob *j = calloc(1, sizeof *j);
    if (j) j->png = png_create_write_struct(PNG_LIBPNG_VER_STRING, j->why, png_write_error, png_on_warning);
    if (j && j->png) j->info = png_create_info_struct(j->png);
    if (!j || !j->png || !j->info) {
        if (j) png_destroy_write_struct(&j->png, j->info ? &j->info : NULL);
        free(j);
        tfc_kernel_error(c, TFC_RESOURCE_EXHAUSTED, "out of memory encoding a PNG");
        return;
    }
    if (setjmp(png_jmpbuf(j->png))) {
        png_destroy_write_struct(&j->png, &j->info);
        tfc_kernel_error(c, TFC_INTERNAL, "PNG encoding failed: %s", j->why);
        free(j->sink.p);
        free(j);
        return;
    }
    png_set_write_fn(j->png, &j->sink, png_write_mem, png_flush_mem);
    png_set_compression_level(j->png, level < 0 ? 6 /* zlib's default */ : level);
    png_set_compression_mem_level(j->png, 9); /* zlib's MAX_MEM_LEVEL, as TensorFlow */
    png_set_IHDR(j->png, j->info, (png_uint_32)w, (png_uint_32)h, bits, color_of[ch],
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(j->png, j->info);
    if (bits == 16) png_set_swap(j->png);
    size_t row_bytes = (size_t)w * (size_t)ch * (size_t)(bits / 8);
    for (int64_t y = 0; y < h; y++)
        png_write_row(j->png, (png_const_bytep)im->data + (size_t)y * row_bytes);
    png_write_end(j->png, NULL);
    png_destroy_write_struct(&j->png, &j->info);
    tfc_tensor *out = j->sink.oom ? NULL : tfc_kernel_output(c, 0, TFC_STRING, 0, NULL);
    if (j->sink.oom || (out && tfc_string_set(out, 0, j->sink.p, j->sink.n)))
        tfc_kernel_error(c, TFC_RESOURCE_EXHAUSTED, "out of memory encoding a PNG");
    free(j->sink.p);
    free(j);
}

/* ---- EncodeJpeg(image) -> contents ---- */

static int encode_jpeg_infer(tfc_infer_ctx *c) {
    if (tfc_infer_input_dtype(c, 0) != TFC_UINT8)
        return tfc_infer_error(c, "image must be uint8, got %s",
                               tfc_dtype_name(tfc_infer_input_dtype(c, 0)));
    if (image_input_check(c, 3)) return -1;
    set_default_string(c, "format", "");
    set_default_int(c, "quality", 95);
    set_default_bool(c, "progressive", 0);
    set_default_bool(c, "optimize_size", 0);
    set_default_bool(c, "chroma_downsampling", 1);
    set_default_string(c, "density_unit", "in");
    set_default_int(c, "x_density", 300);
    set_default_int(c, "y_density", 300);
    set_default_string(c, "xmp_metadata", "");
    const char *fmt = tfc_attrs_string(c->attrs, "format");
    const char *unit = tfc_attrs_string(c->attrs, "density_unit");
    int64_t q = tfc_attrs_int(c->attrs, "quality", 95);
    if (strcmp(fmt, "") && strcmp(fmt, "grayscale") && strcmp(fmt, "rgb"))
        return tfc_infer_error(c, "format must be '', 'grayscale' or 'rgb', got '%s'", fmt);
    if (strcmp(unit, "in") && strcmp(unit, "cm"))
        return tfc_infer_error(c, "density_unit must be 'in' or 'cm', got '%s'", unit);
    if (q < 0 || q > 100) return tfc_infer_error(c, "quality must be in [0,100], got %lld", (long long)q);
    tfc_shape s = tfc_infer_input_shape(c, 0);
    int64_t ch = s.rank == 3 ? s.dims[2] : -1;
    if (ch == 2) return tfc_infer_error(c, "image must have 1 or 3 channels, got 2");
    if (ch > 0 && ((!strcmp(fmt, "grayscale") && ch != 1) || (!strcmp(fmt, "rgb") && ch != 3)))
        return tfc_infer_error(c, "format '%s' needs %d channels, got %lld", fmt,
                               !strcmp(fmt, "rgb") ? 3 : 1, (long long)ch);
    tfc_infer_set_output(c, 0, TFC_STRING, tfc_shape_scalar());
    return 0;
}

typedef struct jpeg_wjob {
    struct jpeg_compress_struct cinfo;
    jpeg_err err;
    unsigned char *buf;
    unsigned long size;
} jpeg_wjob;

static void encode_jpeg_kernel(tfc_kernel_ctx *c) {
    const tfc_tensor *im = c->inputs[0];
    const tfc_attrs *a = &c->node->attrs;
    int64_t h = im->rank == 3 ? im->dims[0] : 0, w = im->rank == 3 ? im->dims[1] : 0;
    int64_t ch = im->rank == 3 ? im->dims[2] : 0;
    const char *fmt = tfc_attrs_string(a, "format");
    if (im->rank != 3 || (ch != 1 && ch != 3) || (fmt && !strcmp(fmt, "rgb") && ch != 3) ||
        (fmt && !strcmp(fmt, "grayscale") && ch != 1)) {
        tfc_kernel_error(c, TFC_INVALID_ARGUMENT,
                         "image must be 3-dimensional with 1 or 3 channels (as format '%s' asks)",
                         fmt ? fmt : "");
        return;
    }
    if (h <= 0 || w <= 0 || h > 65500 || w > 65500) {
        tfc_kernel_error(c, TFC_INVALID_ARGUMENT,
                         "image of %lld by %lld pixels cannot be a JPEG (1 to 65500 a side)",
                         (long long)h, (long long)w);
        return;
    }
    const char *xmp = tfc_attrs_string(a, "xmp_metadata");
    const char *unit = tfc_attrs_string(a, "density_unit");
    jpeg_wjob *j = calloc(1, sizeof *j);
    if (!j) {
        tfc_kernel_error(c, TFC_RESOURCE_EXHAUSTED, "out of memory encoding a JPEG");
        return;
    }
    j->cinfo.err = jpeg_std_error(&j->err.mgr);
    j->err.mgr.error_exit = jpeg_on_error;
    if (setjmp(j->err.jump)) {
        jpeg_destroy_compress(&j->cinfo);
        free(j->buf);
        tfc_kernel_error(c, TFC_INTERNAL, "JPEG encoding failed: %s", j->err.msg);
        free(j);
        return;
    }
    jpeg_create_compress(&j->cinfo);
    jpeg_mem_dest(&j->cinfo, &j->buf, &j->size);
    j->cinfo.image_width = (JDIMENSION)w;
    j->cinfo.image_height = (JDIMENSION)h;
    j->cinfo.input_components = (int)ch;
    j->cinfo.in_color_space = ch == 1 ? JCS_GRAYSCALE : JCS_RGB;
    jpeg_set_defaults(&j->cinfo);
    jpeg_set_quality(&j->cinfo, (int)tfc_attrs_int(a, "quality", 95), TRUE);
    if (tfc_attrs_int(a, "progressive", 0)) jpeg_simple_progression(&j->cinfo);
    j->cinfo.optimize_coding = tfc_attrs_int(a, "optimize_size", 0) ? TRUE : FALSE;
    j->cinfo.density_unit = unit && !strcmp(unit, "cm") ? 2 : 1;
    j->cinfo.X_density = (UINT16)tfc_attrs_int(a, "x_density", 300);
    j->cinfo.Y_density = (UINT16)tfc_attrs_int(a, "y_density", 300);
    j->cinfo.write_JFIF_header = TRUE;
    if (!tfc_attrs_int(a, "chroma_downsampling", 1) && ch == 3)
        for (int k = 0; k < 3; k++) j->cinfo.comp_info[k].h_samp_factor = j->cinfo.comp_info[k].v_samp_factor = 1;
    jpeg_start_compress(&j->cinfo, TRUE);
    if (xmp && *xmp) {
        /* XMP in an APP1 segment behind Adobe's namespace, NUL-terminated */
        static const char ns[] = "http://ns.adobe.com/xap/1.0/";
        size_t n = strlen(xmp), total = sizeof ns + n;
        if (total <= 65533) {
            jpeg_write_m_header(&j->cinfo, JPEG_APP0 + 1, (unsigned)total);
            for (size_t k = 0; k < sizeof ns; k++) jpeg_write_m_byte(&j->cinfo, (unsigned char)ns[k]);
            for (size_t k = 0; k < n; k++) jpeg_write_m_byte(&j->cinfo, (unsigned char)xmp[k]);
        }
    }
    size_t row_bytes = (size_t)w * (size_t)ch;
    while (j->cinfo.next_scanline < j->cinfo.image_height) {
        JSAMPROW row = (JSAMPROW)im->data + (size_t)j->cinfo.next_scanline * row_bytes;
        jpeg_write_scanlines(&j->cinfo, &row, 1);
    }
    jpeg_finish_compress(&j->cinfo);
    jpeg_destroy_compress(&j->cinfo);
    tfc_tensor *out = tfc_kernel_output(c, 0, TFC_STRING, 0, NULL);
    if (out && tfc_string_set(out, 0, j->buf, j->size))
        tfc_kernel_error(c, TFC_RESOURCE_EXHAUSTED, "out of memory encoding a JPEG");
    free(j->buf);
    free(j);
}

const tfc_op_def tfc_ops_image[] = {
    {"DecodePng", 1, 1, 1, IMAGE_OP, 0, decode_infer, decode_kernel, NULL},
    {"DecodeJpeg", 1, 1, 1, IMAGE_OP, 0, decode_infer, decode_kernel, NULL},
    {"DecodeGif", 1, 1, 1, IMAGE_OP, 0, decode_infer, decode_kernel, NULL},
    {"DecodeBmp", 1, 1, 1, IMAGE_OP, 0, decode_infer, decode_kernel, NULL},
    {"DecodeImage", 1, 1, 1, IMAGE_OP, 0, decode_infer, decode_kernel, NULL},
    {"EncodePng", 1, 1, 1, IMAGE_OP, 0, encode_png_infer, encode_png_kernel, NULL},
    {"EncodeJpeg", 1, 1, 1, IMAGE_OP, 0, encode_jpeg_infer, encode_jpeg_kernel, NULL},
    {NULL, 0, 0, 0, 0, 0, NULL, NULL, NULL},
};

/* ---- public helpers ---- */

tfc_output tfc_image_decode_png(tfc_graph *g, tfc_output contents, int channels, tfc_dtype dtype) {
    tfc_op_desc *d = tfc_op_new(g, "DecodePng", NULL);
    tfc_op_add_input(d, contents);
    tfc_op_set_attr_int(d, "channels", channels);
    tfc_op_set_attr_type(d, "dtype", dtype);
    return tfc_out(tfc_op_finish(d), 0);
}

tfc_output tfc_image_encode_png(tfc_graph *g, tfc_output image, int compression) {
    tfc_op_desc *d = tfc_op_new(g, "EncodePng", NULL);
    tfc_op_add_input(d, image);
    tfc_op_set_attr_int(d, "compression", compression);
    return tfc_out(tfc_op_finish(d), 0);
}

tfc_output tfc_image_decode_jpeg(tfc_graph *g, tfc_output contents, int channels, int ratio,
                                 const char *dct_method) {
    tfc_op_desc *d = tfc_op_new(g, "DecodeJpeg", NULL);
    tfc_op_add_input(d, contents);
    tfc_op_set_attr_int(d, "channels", channels);
    tfc_op_set_attr_int(d, "ratio", ratio);
    tfc_op_set_attr_string(d, "dct_method", dct_method ? dct_method : "");
    return tfc_out(tfc_op_finish(d), 0);
}

tfc_output tfc_image_encode_jpeg(tfc_graph *g, tfc_output image, const char *format, int quality) {
    tfc_op_desc *d = tfc_op_new(g, "EncodeJpeg", NULL);
    tfc_op_add_input(d, image);
    tfc_op_set_attr_string(d, "format", format ? format : "");
    tfc_op_set_attr_int(d, "quality", quality);
    return tfc_out(tfc_op_finish(d), 0);
}

tfc_output tfc_image_decode_gif(tfc_graph *g, tfc_output contents) {
    tfc_op_desc *d = tfc_op_new(g, "DecodeGif", NULL);
    tfc_op_add_input(d, contents);
    return tfc_out(tfc_op_finish(d), 0);
}

tfc_output tfc_image_decode_bmp(tfc_graph *g, tfc_output contents, int channels) {
    tfc_op_desc *d = tfc_op_new(g, "DecodeBmp", NULL);
    tfc_op_add_input(d, contents);
    tfc_op_set_attr_int(d, "channels", channels);
    return tfc_out(tfc_op_finish(d), 0);
}

tfc_output tfc_image_decode_image(tfc_graph *g, tfc_output contents, int channels, tfc_dtype dtype,
                                  int expand_animations) {
    tfc_op_desc *d = tfc_op_new(g, "DecodeImage", NULL);
    tfc_op_add_input(d, contents);
    tfc_op_set_attr_int(d, "channels", channels);
    tfc_op_set_attr_type(d, "dtype", dtype);
    tfc_op_set_attr_bool(d, "expand_animations", expand_animations);
    return tfc_out(tfc_op_finish(d), 0);
}
