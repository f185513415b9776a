/* Summary ops as TensorFlow declares them (core/ops/logging_ops.cc):
 * ScalarSummary(tags, values), HistogramSummary(tag, values),
 * ImageSummary(tag, tensor; max_images, bad_color), AudioSummaryV2(tag,
 * tensor, sample_rate; max_outputs) -- the audio as WAV -- TensorSummaryV2(tag,
 * tensor, serialized_summary_metadata) -- what tf.summary.text writes, with
 * the "text" plugin -- and MergeSummary(inputs: N strings). Each outputs one
 * serialized tensorflow.Summary as a string scalar, which the summary writer
 * takes (TF's FileWriter.add_summary). The builders name a summary as
 * tf.summary.* does: the node is the tag made unique under the name scope,
 * that name is the tag, and its tag Const is "<node>/tag(s)". */
#include "core/tensor.h"
#include "formats/events.h"
#include "formats/pb.h"
#include "graph/op_registry.h"
#include "ops/audio_wav.h"

#include <math.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* TF's realnumbertype, as far as tfc has its types */
static int is_real(tfc_dtype dt) {
    return dt == TFC_FLOAT || dt == TFC_DOUBLE || dt == TFC_INT32 || dt == TFC_INT64 ||
           dt == TFC_UINT8;
}

/* Input i must be a string tensor (`scalar`: of rank 0 when known). */
static int check_string(tfc_infer_ctx *c, int i, const char *arg, int scalar) {
    tfc_dtype dt = tfc_infer_input_dtype(c, i);
    if (dt != TFC_STRING)
        return tfc_infer_error(c, "input %d ('%s') must be a string tensor, got %s", i, arg,
                               tfc_dtype_name(dt));
    tfc_shape s = tfc_infer_input_shape(c, i);
    if (scalar && s.rank > 0) {
        char buf[64];
        return tfc_infer_error(c, "input %d ('%s') must be a scalar, got shape %s", i, arg,
                               tfc_shape_str(&s, buf, sizeof buf));
    }
    return 0;
}

/* Run-time check that input i is a string scalar; its bytes in *out. */
static int scalar_string(tfc_kernel_ctx *c, int i, const char *what, tfc_string *out) {
    if (c->inputs[i]->dtype != TFC_STRING || tfc_tensor_num_elements(c->inputs[i]) != 1 ||
        c->inputs[i]->rank > 1) {
        tfc_kernel_error(c, TFC_INVALID_ARGUMENT, "%s must be scalar", what);
        return -1;
    }
    *out = tfc_string_at(c->inputs[i], 0);
    return 0;
}

/* `t` as a NUL-terminated copy (tags go into protobuf-c's char *). */
static char *cstr(tfc_string t) {
    char *p = malloc(t.len + 1);
    if (p) {
        if (t.len) memcpy(p, t.data, t.len);
        p[t.len] = 0;
    }
    return p;
}

/* Output 0 becomes a string scalar holding the bytes of `b` (freed here). */
static void emit(tfc_kernel_ctx *c, tfc_buf *b) {
    if (b->oom) {
        tfc_buf_free(b);
        tfc_kernel_error(c, TFC_RESOURCE_EXHAUSTED, "out of memory encoding a summary");
        return;
    }
    tfc_tensor *t = tfc_kernel_output(c, 0, TFC_STRING, 0, NULL);
    char *dst = t && b->n ? tfc_string_alloc(t, b->n) : NULL;
    if (t && b->n && !dst) {
        tfc_kernel_error(c, TFC_RESOURCE_EXHAUSTED, "out of memory encoding a summary");
    } else if (t && b->n) {
        memcpy(dst, b->p, b->n);
        *(tfc_string *)t->data = (tfc_string){dst, b->n};
    }
    tfc_buf_free(b);
}

/* ---- ScalarSummary(tags: string, values: T) ---- */

static int scalar_infer(tfc_infer_ctx *c) {
    if (check_string(c, 0, "tags", 0)) return -1;
    tfc_dtype dt = tfc_infer_input_dtype(c, 1);
    if (!is_real(dt))
        return tfc_infer_error(c, "input 1 ('values') must be a real number tensor, got %s",
                               tfc_dtype_name(dt));
    tfc_shape a = tfc_infer_input_shape(c, 0), b = tfc_infer_input_shape(c, 1);
    if (!tfc_shape_compatible(&a, &b)) {
        char sa[64], sb[64];
        return tfc_infer_error(c, "tags and values not the same shape: %s != %s",
                               tfc_shape_str(&a, sa, sizeof sa), tfc_shape_str(&b, sb, sizeof sb));
    }
    tfc_attrs_set_int(c->attrs, "T", TFC_ATTR_TYPE, dt);
    tfc_infer_set_output(c, 0, TFC_STRING, tfc_shape_scalar());
    return 0;
}

static void scalar_kernel(tfc_kernel_ctx *c) {
    const tfc_tensor *tags = c->inputs[0], *vals = c->inputs[1];
    if (!tfc_tensor_same_shape(tags, vals)) {
        char sa[64], sb[64], one[300] = "";
        if (tags->nelem == 1) {
            tfc_string t = tfc_string_at(tags, 0);
            snprintf(one, sizeof one, " (tag '%.*s')", (int)(t.len > 200 ? 200 : t.len), t.data);
        }
        tfc_kernel_error(c, TFC_INVALID_ARGUMENT, "tags and values not the same shape: %s != %s%s",
                         tfc_dims_str(tags->rank, tags->dims, sa, sizeof sa),
                         tfc_dims_str(vals->rank, vals->dims, sb, sizeof sb), one);
        return;
    }
    tfc_buf b = {0};
    for (int64_t i = 0; i < tags->nelem; i++) {
        char *tag = cstr(tfc_string_at(tags, i));
        if (!tag) {
            b.oom = 1;
            break;
        }
        tfc_summary_add_scalar(&b, tag, (float)tfc_tensor_get_double(vals, i));
        free(tag);
    }
    emit(c, &b);
}

/* ---- HistogramSummary(tag: string, values: T = float) ---- */

static int histogram_infer(tfc_infer_ctx *c) {
    if (check_string(c, 0, "tag", 1)) return -1;
    tfc_dtype dt = tfc_infer_input_dtype(c, 1);
    if (!is_real(dt))
        return tfc_infer_error(c, "input 1 ('values') must be a real number tensor, got %s",
                               tfc_dtype_name(dt));
    tfc_attrs_set_int(c->attrs, "T", TFC_ATTR_TYPE, dt);
    tfc_infer_set_output(c, 0, TFC_STRING, tfc_shape_scalar());
    return 0;
}

static void histogram_kernel(tfc_kernel_ctx *c) {
    tfc_string tag;
    if (scalar_string(c, 0, "tags", &tag)) return;
    const tfc_tensor *x = c->inputs[1];
    int64_t n = x->nelem;
    double *v = malloc(sizeof *v * (size_t)(n ? n : 1));
    char *t = cstr(tag);
    if (!v || !t) {
        free(v);
        free(t);
        tfc_kernel_error(c, TFC_RESOURCE_EXHAUSTED, "out of memory");
        return;
    }
    for (int64_t i = 0; i < n; i++) {
        v[i] = tfc_tensor_get_double(x, i);
        if (!isfinite(v[i])) { /* TF names the node, not the tag */
            tfc_kernel_error(c, TFC_INVALID_ARGUMENT, "%s in summary histogram for: %s",
                             isnan(v[i]) ? "Nan" : "Infinity", c->node->name);
            free(v);
            free(t);
            return;
        }
    }
    tfc_buf b = {0};
    tfc_summary_add_histogram(&b, t, v, n);
    free(v);
    free(t);
    emit(c, &b);
}

/* ---- ImageSummary(tag: string, tensor: T; max_images, bad_color) ---- */

typedef struct image_data {
    int max_images;
    int ncolor;
    uint8_t bad_color[];
} image_data;

static int image_infer(tfc_infer_ctx *c) {
    if (check_string(c, 0, "tag", 1)) return -1;
    tfc_dtype dt = tfc_infer_input_dtype(c, 1);
    if (dt != TFC_UINT8 && dt != TFC_FLOAT && dt != TFC_DOUBLE)
        return tfc_infer_error(c, "input 1 ('tensor') must be uint8, float32 or float64, got %s",
                               tfc_dtype_name(dt));
    tfc_shape s = tfc_infer_input_shape(c, 1);
    if (s.rank >= 0 && s.rank != 4)
        return tfc_infer_error(c, "images must be 4-D [batch, height, width, channels], "
                                  "got rank %d", s.rank);
    if (s.rank == 4 && s.dims[3] >= 0 && s.dims[3] != 1 && s.dims[3] != 3 && s.dims[3] != 4)
        return tfc_infer_error(c, "images must have 1, 3 or 4 channels, got %lld",
                               (long long)s.dims[3]);
    int64_t max_images = tfc_attrs_int(c->attrs, "max_images", 3);
    if (max_images < 1 || max_images >= (1LL << 31))
        return tfc_infer_error(c, "attr 'max_images' must be in [1, 2^31), got %lld",
                               (long long)max_images);
    static const uint8_t red[4] = {255, 0, 0, 255}; /* TF's default bad_color */
    const tfc_tensor *bc = tfc_attrs_tensor(c->attrs, "bad_color");
    if (bc && bc->dtype != TFC_UINT8)
        return tfc_infer_error(c, "bad_color must be uint8, got %s", tfc_dtype_name(bc->dtype));
    if (bc && bc->rank != 1)
        return tfc_infer_error(c, "bad_color must be a vector, got rank %d", bc->rank);
    int ncolor = bc ? (int)(bc->nelem > 4 ? 4 : bc->nelem) : 4; /* at most 4 channels */
    image_data *d = malloc(sizeof *d + 4);
    if (!d) return tfc_infer_error(c, "out of memory");
    d->max_images = (int)max_images;
    d->ncolor = ncolor;
    memcpy(d->bad_color, bc ? (const uint8_t *)bc->data : red, (size_t)ncolor);
    c->op_data = d;
    tfc_attrs_set_int(c->attrs, "T", TFC_ATTR_TYPE, dt);
    tfc_infer_set_output(c, 0, TFC_STRING, tfc_shape_scalar());
    return 0;
}

/* TF's NormalizeFloatImage, in the input's precision: the range is taken
 * over pixels whose channels are all finite; all non-negative -> the
 * largest becomes 255; otherwise 0 maps to 128 and the largest magnitude to
 * 127 steps away; a pixel with a non-finite channel gets bad_color. */
#define NORMALIZE(T, NAME)                                                                    \
    static void NAME(const T *x, int64_t hw, int ch, const uint8_t *bad, uint8_t *out) {     \
        float mn = INFINITY, mx = -INFINITY;                                                 \
        for (int64_t p = 0; p < hw; p++) {                                                   \
            int ok = 1;                                                                      \
            for (int k = 0; k < ch; k++) ok &= isfinite(x[p * ch + k]) != 0;                 \
            for (int k = 0; ok && k < ch; k++) {                                             \
                float v = (float)x[p * ch + k];                                              \
                mn = v < mn ? v : mn;                                                        \
                mx = v > mx ? v : mx;                                                        \
            }                                                                                \
        }                                                                                    \
        T scale, offset;                                                                     \
        if (mn < 0) {                                                                        \
            float m = fmaxf(fabsf(mn), fabsf(mx));                                           \
            scale = (T)(m < 1e-6f ? 0.0f : 127.0f / m);                                      \
            offset = (T)128.0f;                                                              \
        } else {                                                                             \
            scale = (T)(mx < 1e-6f ? 0.0f : 255.0f / mx);                                    \
            offset = (T)0.0f;                                                                \
        }                                                                                    \
        for (int64_t p = 0; p < hw; p++) {                                                   \
            int ok = 1;                                                                      \
            for (int k = 0; k < ch; k++) ok &= isfinite(x[p * ch + k]) != 0;                 \
            for (int k = 0; k < ch; k++) {                                                   \
                T v = x[p * ch + k] * scale + offset;                                        \
                out[p * ch + k] = ok ? (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v) : bad[k];    \
            }                                                                                \
        }                                                                                    \
    }
NORMALIZE(float, normalize_float)
NORMALIZE(double, normalize_double)

static void image_kernel(tfc_kernel_ctx *c) {
    const image_data *d = c->node->op_data;
    tfc_string base;
    if (scalar_string(c, 0, "Tags", &base)) return;
    const tfc_tensor *x = c->inputs[1];
    char shape[128];
    if (x->rank != 4 || (x->dims[3] != 1 && x->dims[3] != 3 && x->dims[3] != 4)) {
        tfc_kernel_error(c, TFC_INVALID_ARGUMENT, "Tensor must be 4-D with last dim 1, 3, or 4, not %s",
                         tfc_dims_str(x->rank, x->dims, shape, sizeof shape));
        return;
    }
    if (x->dims[0] >= (1LL << 31) || x->dims[1] >= (1LL << 31) || x->dims[2] >= (1LL << 31) ||
        x->dims[1] * x->dims[2] >= (1LL << 29)) {
        tfc_kernel_error(c, TFC_INVALID_ARGUMENT, "Tensor too large for summary %s",
                         tfc_dims_str(x->rank, x->dims, shape, sizeof shape));
        return;
    }
    int64_t batch = x->dims[0], h = x->dims[1], w = x->dims[2], ch = x->dims[3];
    if (x->dtype != TFC_UINT8 && d->ncolor < ch) {
        tfc_kernel_error(c, TFC_INVALID_ARGUMENT,
                         "expected depth <= bad_color.size, got depth = %lld, bad_color.size = %d",
                         (long long)ch, d->ncolor);
        return;
    }
    int64_t per = h * w * ch, count = batch < d->max_images ? batch : d->max_images;
    uint8_t *pix = malloc((size_t)(per ? per : 1));
    size_t tag_len = base.len + 32;
    char *tag = malloc(tag_len);
    tfc_buf b = {0};
    const char *fail = NULL;
    if (!pix || !tag) fail = "out of memory encoding images";
    else if (!per && count) fail = "PNG encoding failed (an image of height or width 0)";
    for (int64_t i = 0; i < count && !fail; i++) {
        if (x->dtype == TFC_UINT8) memcpy(pix, (const uint8_t *)x->data + i * per, (size_t)per);
        else if (x->dtype == TFC_FLOAT)
            normalize_float((const float *)x->data + i * per, h * w, (int)ch, d->bad_color, pix);
        else
            normalize_double((const double *)x->data + i * per, h * w, (int)ch, d->bad_color, pix);
        png_image im;
        memset(&im, 0, sizeof im);
        im.version = PNG_IMAGE_VERSION;
        im.width = (png_uint_32)w;
        im.height = (png_uint_32)h;
        im.format = ch == 1 ? PNG_FORMAT_GRAY : ch == 3 ? PNG_FORMAT_RGB : PNG_FORMAT_RGBA;
        png_alloc_size_t size = 0;
        void *png = NULL;
        if (!png_image_write_to_memory(&im, NULL, &size, 0, pix, 0, NULL)) {
            fail = "PNG encoding failed";
            break;
        }
        if (!(png = malloc(size))) {
            fail = "out of memory encoding images";
            break;
        }
        if (!png_image_write_to_memory(&im, png, &size, 0, pix, 0, NULL)) {
            free(png);
            fail = "PNG encoding failed";
            break;
        }
        /* the tag follows the number asked for, not the number made */
        if (d->max_images > 1)
            snprintf(tag, tag_len, "%.*s/image/%lld", (int)base.len, base.data, (long long)i);
        else
            snprintf(tag, tag_len, "%.*s/image", (int)base.len, base.data);
        tfc_summary_add_image(&b, tag, (int)h, (int)w, (int)ch, png, size);
        free(png);
    }
    free(pix);
    free(tag);
    if (fail) {
        tfc_buf_free(&b);
        tfc_kernel_error(c, TFC_INTERNAL, "%s", fail);
        return;
    }
    emit(c, &b);
}

/* ---- AudioSummaryV2(tag: string, tensor: float, sample_rate: float; max_outputs) ---- */

static int audio_infer(tfc_infer_ctx *c) {
    if (check_string(c, 0, "tag", 1)) return -1;
    if (tfc_infer_input_dtype(c, 1) != TFC_FLOAT || tfc_infer_input_dtype(c, 2) != TFC_FLOAT)
        return tfc_infer_error(c, "tensor and sample_rate must be float32");
    tfc_shape s = tfc_infer_input_shape(c, 1), r = tfc_infer_input_shape(c, 2);
    if (s.rank >= 0 && s.rank != 2 && s.rank != 3)
        return tfc_infer_error(c, "tensor must be 3-D [batch, frames, channels] or 2-D [batch, "
                                  "frames], got rank %d",
                               s.rank);
    if (r.rank > 0) return tfc_infer_error(c, "sample_rate must be a scalar, got rank %d", r.rank);
    if (!tfc_attrs_find(c->attrs, "max_outputs"))
        tfc_attrs_set_int(c->attrs, "max_outputs", TFC_ATTR_INT, 3);
    int64_t m = tfc_attrs_int(c->attrs, "max_outputs", 3);
    if (m < 1 || m >= (1LL << 31))
        return tfc_infer_error(c, "attr 'max_outputs' must be in [1, 2^31), got %lld",
                               (long long)m);
    tfc_infer_set_output(c, 0, TFC_STRING, tfc_shape_scalar());
    return 0;
}

static void put_len(tfc_buf *b, int field, const void *p, size_t n) {
    pb_put_varint(b, (uint64_t)field << 3 | 2);
    pb_put_varint(b, n);
    tfc_buf_append(b, p, n);
}

static void audio_kernel(tfc_kernel_ctx *c) {
    tfc_string base;
    if (scalar_string(c, 0, "tag", &base)) return;
    const tfc_tensor *x = c->inputs[1], *r = c->inputs[2];
    char shape[128];
    if (x->rank != 2 && x->rank != 3) {
        tfc_kernel_error(c, TFC_INVALID_ARGUMENT, "Tensor must be 3-D or 2-D, got: %s",
                         tfc_dims_str(x->rank, x->dims, shape, sizeof shape));
        return;
    }
    if (r->nelem != 1) {
        tfc_kernel_error(c, TFC_INVALID_ARGUMENT, "sample_rate must be a scalar");
        return;
    }
    float rate = *(const float *)r->data;
    if (!(rate > 0.0f) || rate >= 4294967296.0f) {
        tfc_kernel_error(c, TFC_INVALID_ARGUMENT, "sample_rate must be > 0 (and below 2^32), got %g",
                         (double)rate);
        return;
    }
    int64_t max = tfc_attrs_int(&c->node->attrs, "max_outputs", 3);
    int64_t batch = x->dims[0], frames = x->dims[1], ch = x->rank == 3 ? x->dims[2] : 1;
    int64_t count = batch < max ? batch : max;
    size_t size = wav_size(frames, ch);
    if (count && !size) {
        tfc_kernel_error(c, TFC_INVALID_ARGUMENT,
                         "cannot encode %lld frames of %lld channels as a WAV (channels 1 to "
                         "65535, under 4 GiB)",
                         (long long)frames, (long long)ch);
        return;
    }
    uint8_t *wav = malloc(size ? size : 1);
    char *tag = malloc(base.len + 32);
    tfc_buf b = {0}, value = {0}, audio = {0};
    if (!wav || !tag) b.oom = 1;
    for (int64_t i = 0; i < count && !b.oom; i++) {
        wav_encode((const float *)x->data + i * frames * ch, frames, ch, (uint32_t)rate, wav);
        /* Summary.Audio: sample_rate 1 (float), num_channels 2, length_frames 3,
         * encoded_audio_string 4, content_type 5 */
        audio.n = value.n = 0;
        pb_put_varint(&audio, 1 << 3 | 5);
        tfc_buf_append(&audio, &rate, 4);
        pb_put_varint(&audio, 2 << 3);
        pb_put_varint(&audio, (uint64_t)ch);
        pb_put_varint(&audio, 3 << 3);
        pb_put_varint(&audio, (uint64_t)frames);
        put_len(&audio, 4, wav, size);
        put_len(&audio, 5, "audio/wav", 9);
        /* the tag follows the number asked for, not the number made */
        int n = max == 1 ? snprintf(tag, base.len + 32, "%.*s/audio", (int)base.len, base.data)
                         : snprintf(tag, base.len + 32, "%.*s/audio/%lld", (int)base.len,
                                    base.data, (long long)i);
        put_len(&value, 1, tag, (size_t)n); /* Value.tag */
        put_len(&value, 6, audio.p, audio.n); /* Value.audio */
        put_len(&b, 1, value.p, value.n);     /* Summary.value */
        b.oom |= audio.oom | value.oom;
    }
    free(wav);
    free(tag);
    tfc_buf_free(&audio);
    tfc_buf_free(&value);
    emit(c, &b);
}

/* ---- TensorSummaryV2(tag: string, tensor: T, serialized_summary_metadata: string) ---- */

static int tensor_summary_infer(tfc_infer_ctx *c) {
    if (check_string(c, 0, "tag", 1) || check_string(c, 2, "serialized_summary_metadata", 1))
        return -1;
    tfc_dtype dt = tfc_infer_input_dtype(c, 1);
    if (dt == TFC_RESOURCE)
        return tfc_infer_error(c, "input 1 ('tensor') cannot be a resource handle");
    tfc_attrs_set_int(c->attrs, "T", TFC_ATTR_TYPE, dt);
    tfc_infer_set_output(c, 0, TFC_STRING, tfc_shape_scalar());
    return 0;
}

static void tensor_summary_kernel(tfc_kernel_ctx *c) {
    tfc_string tag, meta;
    if (scalar_string(c, 0, "tag", &tag) ||
        scalar_string(c, 2, "serialized_summary_metadata", &meta))
        return;
    char *t = cstr(tag);
    if (!t) {
        tfc_kernel_error(c, TFC_RESOURCE_EXHAUSTED, "out of memory");
        return;
    }
    tfc_buf b = {0};
    int rc = tfc_summary_add_tensor(&b, t, c->inputs[1], meta.data, meta.len);
    free(t);
    if (rc) {
        tfc_buf_free(&b);
        tfc_kernel_error(c, TFC_INVALID_ARGUMENT,
                         "serialized_summary_metadata is not a serialized SummaryMetadata");
        return;
    }
    emit(c, &b);
}

/* ---- MergeSummary(inputs: N * string) ---- */

static int merge_infer(tfc_infer_ctx *c) {
    for (int i = 0; i < c->ninputs; i++) {
        tfc_dtype dt = tfc_infer_input_dtype(c, i);
        if (dt != TFC_STRING)
            return tfc_infer_error(c, "input %d is not a summary (a string tensor), got %s", i,
                                   tfc_dtype_name(dt));
    }
    tfc_attrs_set_int(c->attrs, "N", TFC_ATTR_INT, c->ninputs);
    tfc_infer_set_output(c, 0, TFC_STRING, tfc_shape_scalar());
    return 0;
}

typedef struct tag_list {
    int n, cap;
    char **tags; /* copies: the parsed Summary is gone after each call */
    char *dup;
} tag_list;

static int note_tag(void *arg, const uint8_t *tag, size_t len) {
    tag_list *t = arg;
    if (!len) return 0; /* TF: an empty tag (TensorSummary's) is never a duplicate */
    for (int i = 0; i < t->n; i++)
        if (strlen(t->tags[i]) == len && !memcmp(t->tags[i], tag, len)) {
            t->dup = t->tags[i];
            return -1;
        }
    if (t->n == t->cap) {
        int cap = t->cap ? 2 * t->cap : 16;
        char **p = realloc(t->tags, sizeof *p * (size_t)cap);
        if (!p) return -1;
        t->tags = p;
        t->cap = cap;
    }
    char *copy = malloc(len + 1);
    if (!copy) return -1;
    memcpy(copy, tag, len);
    copy[len] = 0;
    t->tags[t->n++] = copy;
    return 0;
}

/* A Summary's values are a repeated field: the serialized inputs, one
 * after the other, are the merged Summary once the tags are checked. */
static void merge_kernel(tfc_kernel_ctx *c) {
    tag_list tags = {0};
    size_t total = 0;
    int ok = 1;
    for (int i = 0; i < c->ninputs && ok; i++) {
        const tfc_tensor *x = c->inputs[i];
        for (int64_t k = 0; k < x->nelem && ok; k++) {
            tfc_string s = tfc_string_at(x, k);
            if (tfc_summary_each_tag((const uint8_t *)s.data, s.len, note_tag, &tags)) {
                if (tags.dup)
                    tfc_kernel_error(c, TFC_INVALID_ARGUMENT,
                                     "Duplicate tag %s found in summary inputs", tags.dup);
                else
                    tfc_kernel_error(c, TFC_INVALID_ARGUMENT,
                                     "Could not parse one of the summary inputs (input %d)", i);
                ok = 0;
            }
            total += s.len;
        }
    }
    for (int i = 0; i < tags.n; i++) free(tags.tags[i]);
    free(tags.tags);
    if (!ok) return;
    tfc_tensor *out = tfc_kernel_output(c, 0, TFC_STRING, 0, NULL);
    char *p = out && total ? tfc_string_alloc(out, total) : NULL;
    if (out && total && !p) {
        tfc_kernel_error(c, TFC_RESOURCE_EXHAUSTED, "out of memory merging summaries");
        return;
    }
    if (!out || !total) return;
    *(tfc_string *)out->data = (tfc_string){p, total};
    for (int i = 0; i < c->ninputs; i++)
        for (int64_t k = 0; k < c->inputs[i]->nelem; k++) {
            tfc_string s = tfc_string_at(c->inputs[i], k);
            if (s.len) memcpy(p, s.data, s.len);
            p += s.len;
        }
}

enum { SUMMARY_FLAGS = TFC_OP_NO_GRADIENT | TFC_OP_STRINGS };

const tfc_op_def tfc_ops_summary[] = {
    {"ScalarSummary", 2, 2, 1, SUMMARY_FLAGS, 0, scalar_infer, scalar_kernel, NULL},
    {"HistogramSummary", 2, 2, 1, SUMMARY_FLAGS, 0, histogram_infer, histogram_kernel, NULL},
    {"ImageSummary", 2, 2, 1, SUMMARY_FLAGS, 0, image_infer, image_kernel, NULL},
    {"AudioSummaryV2", 3, 3, 1, SUMMARY_FLAGS, 0, audio_infer, audio_kernel, NULL},
    {"TensorSummaryV2", 3, 3, 1, SUMMARY_FLAGS, 0, tensor_summary_infer, tensor_summary_kernel,
     NULL},
    {"MergeSummary", 1, -1, 1, SUMMARY_FLAGS, 0, merge_infer, merge_kernel, NULL},
    {NULL, 0, 0, 0, 0, 0, NULL, NULL, NULL},
};

/* ---- builders ---- */

/* A summary about to be built: its node's name relative to the scope
 * (tfc_with_name's name if one is pending, else the scoped tag made
 * unique) and its tag (the scoped tag made unique, as tf.summary.*). */
typedef struct summary_names {
    char *rel, *tag;
} summary_names;

static int summary_names_make(tfc_graph *g, const char *type, const char *tag,
                              summary_names *sn) {
    sn->rel = sn->tag = NULL;
    if (!g || tfc_graph_error(g)) return -1;
    char *user = g->next_name; /* taken now: the tag Consts must not use it */
    g->next_name = NULL;
    if (!tag || !*tag) {
        free(user);
        tfc_graph_fail(g, TFC_INVALID_ARGUMENT, "%s: tag is %s", type, tag ? "empty" : "NULL");
        return -1;
    }
    sn->tag = tfc_graph_unique_name(g, tag);
    const char *prefix = tfc_graph_scope_prefix(g);
    sn->rel = user ? user : sn->tag ? strdup(sn->tag + strlen(prefix)) : NULL;
    if (!sn->tag || !sn->rel) {
        free(sn->tag);
        free(sn->rel);
        tfc_graph_fail(g, TFC_RESOURCE_EXHAUSTED, "out of memory adding a %s", type);
        return -1;
    }
    return 0;
}

static void summary_names_free(summary_names *sn) {
    free(sn->rel);
    free(sn->tag);
}

/* A string Const "<node>/<input>" holding `len` bytes of `s`. */
static tfc_output named_string(tfc_graph *g, const summary_names *sn, const char *input,
                               const char *s, size_t len) {
    tfc_output none = {NULL, 0};
    size_t n = strlen(sn->rel) + strlen(input) + 2;
    char *name = malloc(n);
    tfc_tensor *t = tfc_tensor_scalar_string(s, len);
    if (!name || !t) {
        free(name);
        tfc_tensor_free(t);
        tfc_graph_fail(g, TFC_RESOURCE_EXHAUSTED, "out of memory adding a summary");
        return none;
    }
    snprintf(name, n, "%s/%s", sn->rel, input);
    tfc_with_name(g, name);
    tfc_output c = tfc_const(g, t);
    free(name);
    tfc_tensor_free(t);
    return c;
}

/* Adds the summary node; on success it joins the TFC_SUMMARIES collection. */
static tfc_output summary_finish(tfc_graph *g, tfc_op_desc *d) {
    tfc_node *n = tfc_op_finish(d);
    if (!n) return (tfc_output){NULL, 0};
    tfc_graph_add_to_collection(g, TFC_SUMMARIES, n);
    return tfc_out(n, 0);
}

/* ScalarSummary and HistogramSummary: a tag Const named `tag_input`. */
static tfc_output tag_value_summary(tfc_graph *g, const char *type, const char *tag_input,
                                    const char *tag, tfc_output values) {
    summary_names sn;
    if (summary_names_make(g, type, tag, &sn)) return (tfc_output){NULL, 0};
    tfc_output tags = named_string(g, &sn, tag_input, sn.tag, strlen(sn.tag));
    tfc_op_desc *d = tfc_op_new(g, type, sn.rel);
    tfc_op_add_input(d, tags);
    tfc_op_add_input(d, values);
    summary_names_free(&sn);
    return summary_finish(g, d);
}

tfc_output tfc_scalar_summary(tfc_graph *g, const char *tag, tfc_output value) {
    return tag_value_summary(g, "ScalarSummary", "tags", tag, value);
}

tfc_output tfc_histogram_summary(tfc_graph *g, const char *tag, tfc_output values) {
    return tag_value_summary(g, "HistogramSummary", "tag", tag, values);
}

tfc_output tfc_image_summary(tfc_graph *g, const char *tag, tfc_output images,
                             int max_images) {
    summary_names sn;
    if (summary_names_make(g, "ImageSummary", tag, &sn)) return (tfc_output){NULL, 0};
    tfc_output t = named_string(g, &sn, "tag", sn.tag, strlen(sn.tag));
    static const uint8_t red[4] = {255, 0, 0, 255};
    int64_t four = 4;
    tfc_tensor *bad = tfc_tensor_from_data(TFC_UINT8, 1, &four, red);
    tfc_op_desc *d = tfc_op_new(g, "ImageSummary", sn.rel);
    tfc_op_add_input(d, t);
    tfc_op_add_input(d, images);
    tfc_op_set_attr_int(d, "max_images", max_images > 0 ? max_images : 3);
    /* written out as TF's Python does, so the GraphDef spells every attr */
    if (bad) tfc_op_set_attr_tensor(d, "bad_color", bad);
    tfc_tensor_free(bad);
    summary_names_free(&sn);
    return summary_finish(g, d);
}

tfc_output tfc_audio_summary(tfc_graph *g, const char *tag, tfc_output audio,
                             tfc_output sample_rate, int max_outputs) {
    summary_names sn;
    if (summary_names_make(g, "AudioSummaryV2", tag, &sn)) return (tfc_output){NULL, 0};
    tfc_output t = named_string(g, &sn, "tag", sn.tag, strlen(sn.tag));
    tfc_op_desc *d = tfc_op_new(g, "AudioSummaryV2", sn.rel);
    tfc_op_add_input(d, t);
    tfc_op_add_input(d, audio);
    tfc_op_add_input(d, sample_rate);
    tfc_op_set_attr_int(d, "max_outputs", max_outputs > 0 ? max_outputs : 3);
    summary_names_free(&sn);
    return summary_finish(g, d);
}

/* TensorSummaryV2 with the "text" plugin; `text` is a string tensor, or
 * NULL with `s` the bytes of a Const to make. */
static tfc_output text_summary(tfc_graph *g, const char *tag, const tfc_output *text,
                               const char *s) {
    summary_names sn;
    if (summary_names_make(g, "TensorSummaryV2", tag, &sn)) return (tfc_output){NULL, 0};
    tfc_output t = named_string(g, &sn, "tag", sn.tag, strlen(sn.tag));
    tfc_output x = text ? *text : named_string(g, &sn, "text", s, strlen(s));
    if (!tfc_graph_error(g) && tfc_output_dtype(x) != TFC_STRING)
        tfc_graph_fail(g, TFC_INVALID_ARGUMENT,
                       "text summary '%s': the text must be a string tensor, got %s", sn.tag,
                       tfc_dtype_name(tfc_output_dtype(x)));
    tfc_buf meta = {0};
    tfc_summary_metadata_for_plugin(&meta, "text");
    tfc_output m = meta.oom ? (tfc_output){NULL, 0}
                            : named_string(g, &sn, "serialized_summary_metadata",
                                           (const char *)meta.p, meta.n);
    tfc_buf_free(&meta);
    tfc_op_desc *d = tfc_op_new(g, "TensorSummaryV2", sn.rel);
    tfc_op_add_input(d, t);
    tfc_op_add_input(d, x);
    tfc_op_add_input(d, m);
    summary_names_free(&sn);
    return summary_finish(g, d);
}

tfc_output tfc_text_summary(tfc_graph *g, const char *tag, const char *text) {
    return text_summary(g, tag, NULL, text ? text : "");
}

tfc_output tfc_text_summary_v2(tfc_graph *g, const char *tag, tfc_output text) {
    return text_summary(g, tag, &text, NULL);
}

tfc_output tfc_merge_summary(tfc_graph *g, const tfc_output *inputs, int n) {
    tfc_output none = {NULL, 0};
    if (!g || tfc_graph_error(g)) return none;
    tfc_op_desc *d = tfc_op_new(g, "MergeSummary", NULL);
    tfc_op_add_inputs(d, inputs, n);
    return tfc_out(tfc_op_finish(d), 0);
}

tfc_output tfc_merge_all_summaries(tfc_graph *g) {
    tfc_output none = {NULL, 0};
    int n = g ? tfc_graph_collection_size(g, TFC_SUMMARIES) : 0;
    if (n == 0 || tfc_graph_error(g)) return none;
    tfc_output *ins = malloc(sizeof *ins * (size_t)n);
    if (!ins) {
        tfc_graph_fail(g, TFC_RESOURCE_EXHAUSTED, "out of memory");
        return none;
    }
    for (int i = 0; i < n; i++) ins[i] = tfc_out(tfc_graph_collection_get(g, TFC_SUMMARIES, i), 0);
    tfc_output m = tfc_merge_summary(g, ins, n);
    free(ins);
    return m;
}
