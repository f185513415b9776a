/* Audio as TensorFlow's ops: EncodeWav(audio, sample_rate) -> contents and
 * DecodeWav(contents; desired_channels, desired_samples) -> audio,
 * sample_rate, with the WAV layout of audio_wav.h. */
#include "ops/audio_wav.h"
#include "ops/string_internal.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define AUDIO_OP (TFC_OP_STRINGS | TFC_OP_NO_GRADIENT)

static void put16(uint8_t *p, unsigned v) {
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v) {
    put16(p, v & 0xffff);
    put16(p + 2, v >> 16);
}

static unsigned get16(const uint8_t *p) { return p[0] | (unsigned)p[1] << 8; }

static uint32_t get32(const uint8_t *p) { return get16(p) | (uint32_t)get16(p + 2) << 16; }

size_t wav_size(int64_t frames, int64_t channels) {
    if (frames < 0 || channels < 1 || channels > 0xffff) return 0;
    uint64_t data = (uint64_t)frames * (uint64_t)channels * 2;
    if (frames && data / (uint64_t)frames / 2 != (uint64_t)channels) return 0;
    if (data > 0xffffffffu - WAV_HEADER) return 0;
    return (size_t)data + WAV_HEADER;
}

static int16_t to_int16(float x) {
    float v = roundf(x * 32768.0f);
    if (!(v >= -32768.0f)) v = v != v ? 0.0f : -32768.0f; /* NaN: 0 */
    if (v > 32767.0f) v = 32767.0f;
    return (int16_t)v;
}

void wav_encode(const float *audio, int64_t frames, int64_t channels, uint32_t sample_rate,
                uint8_t *out) {
    size_t total = wav_size(frames, channels), data = total - WAV_HEADER;
    memcpy(out, "RIFF", 4);
    put32(out + 4, (uint32_t)(total - 8));
    memcpy(out + 8, "WAVEfmt ", 8);
    put32(out + 16, 16); /* format chunk size */
    put16(out + 20, 1);  /* PCM */
    put16(out + 22, (unsigned)channels);
    put32(out + 24, sample_rate);
    put32(out + 28, sample_rate * 2u * (uint32_t)channels); /* bytes per second */
    put16(out + 32, 2u * (unsigned)channels);               /* bytes per frame */
    put16(out + 34, 16);                                    /* bits per sample */
    memcpy(out + 36, "data", 4);
    put32(out + 40, (uint32_t)data);
    for (size_t i = 0; i < data / 2; i++)
        put16(out + WAV_HEADER + 2 * i, (uint16_t)to_int16(audio[i]));
}

/* Chunks that may sit between "WAVE" and "fmt " (as TensorFlow skips) */
static int skippable(const uint8_t *id) {
    static const char *const ids[] = {"JUNK", "bext", "iXML", "qlty",
                                      "mext", "levl", "link", "axml"};
    for (size_t i = 0; i < sizeof ids / sizeof *ids; i++)
        if (!memcmp(id, ids[i], 4)) return 1;
    return 0;
}

#define FAIL(...)                                                                                  \
    do {                                                                                           \
        snprintf(err, errlen, __VA_ARGS__);                                                        \
        return -1;                                                                                 \
    } while (0)

int wav_decode(const uint8_t *p, size_t n, wav_info *w, char *err, size_t errlen) {
    size_t at = 12;
    if (n < 12) FAIL("Data too short when trying to read string");
    if (memcmp(p, "RIFF", 4)) FAIL("Header mismatch: Expected RIFF but found %.4s", p);
    if (memcmp(p + 8, "WAVE", 4)) FAIL("Header mismatch: Expected WAVE but found %.4s", p + 8);
    for (;;) {
        if (n - at < 8) FAIL("Data too short when trying to read string");
        if (!memcmp(p + at, "fmt ", 4)) break;
        if (!skippable(p + at)) FAIL("Unexpected field %.4s", p + at);
        uint32_t size = get32(p + at + 4);
        if (size > n - at - 8) FAIL("Data too short when trying to read string");
        at += 8 + size;
    }
    uint32_t fsize = get32(p + at + 4);
    at += 8;
    if (fsize != 16 && fsize != 18)
        FAIL("Bad format chunk size for WAV: Expected 16 or 18, but got%u", fsize);
    if (n - at < fsize) FAIL("Data too short when trying to read string");
    unsigned format = get16(p + at), bits = get16(p + at + 14), block = get16(p + at + 12);
    w->channels = (uint16_t)get16(p + at + 2);
    w->sample_rate = get32(p + at + 4);
    uint32_t per_second = get32(p + at + 8);
    if (format != 1) FAIL("Bad audio format for WAV: Expected 1 (PCM), but got%u", format);
    if (w->channels < 1)
        FAIL("Bad number of channels for WAV: Expected at least 1, but got %u", w->channels);
    if (bits != 16) FAIL("Can only read 16-bit WAV files, but received %u", bits);
    if (block != 2u * w->channels)
        FAIL("Bad bytes per sample in WAV header: Expected %u but got %u", 2u * w->channels, block);
    if ((uint64_t)per_second != (uint64_t)block * w->sample_rate)
        FAIL("Bad bytes per second in WAV header: Expected %llu but got %u (sample_rate=%u, "
             "bytes_per_sample=%u)",
             (unsigned long long)block * w->sample_rate, per_second, w->sample_rate, block);
    at += fsize;
    int found = 0;
    while (at < n) {
        if (n - at < 8) FAIL("Data too short when trying to read string");
        uint32_t size = get32(p + at + 4);
        if (size > 0x7fffffffu)
            FAIL("WAV data chunk '%.4s' is too large: %u bytes, but the limit is 2147483647",
                 p + at, size);
        int data = !memcmp(p + at, "data", 4);
        at += 8;
        if (data) {
            if (found) FAIL("More than one data chunk found in WAV");
            found = 1;
            w->frames = size / block;
            size_t bytes = (size_t)w->frames * block;
            if (bytes > n - at) FAIL("Data too short when trying to read string");
            w->samples = p + at;
            at += bytes;
        } else {
            if (size > n - at) break; /* runs past the end: nothing more to find */
            at += size;
        }
    }
    if (!found) FAIL("No data chunk found in WAV");
    return 0;
}

/* ---- EncodeWav(audio float [frames, channels], sample_rate int32 scalar) ---- */

static int encode_infer(tfc_infer_ctx *c) {
    if (tfc_infer_input_dtype(c, 0) != TFC_FLOAT)
        return tfc_infer_error(c, "audio must be float32, got %s",
                               tfc_dtype_name(tfc_infer_input_dtype(c, 0)));
    if (tfc_infer_input_dtype(c, 1) != TFC_INT32)
        return tfc_infer_error(c, "sample_rate must be int32, got %s",
                               tfc_dtype_name(tfc_infer_input_dtype(c, 1)));
    tfc_shape a = tfc_infer_input_shape(c, 0), r = tfc_infer_input_shape(c, 1);
    if (a.rank >= 0 && a.rank != 2)
        return tfc_infer_error(c, "audio must be 2-dimensional [frames, channels], got rank %d",
                               a.rank);
    if (r.rank > 0) return tfc_infer_error(c, "sample_rate must be a scalar, got rank %d", r.rank);
    tfc_infer_set_output(c, 0, TFC_STRING, tfc_shape_scalar());
    return 0;
}

static void encode_kernel(tfc_kernel_ctx *c) {
    const tfc_tensor *a = c->inputs[0], *r = c->inputs[1];
    if (a->rank != 2 || r->rank != 0) {
        tfc_kernel_error(c, TFC_INVALID_ARGUMENT,
                         "audio must be [frames, channels] and sample_rate a scalar");
        return;
    }
    int32_t rate = *(const int32_t *)r->data;
    size_t size = wav_size(a->dims[0], a->dims[1]);
    if (rate <= 0 || !size) {
        tfc_kernel_error(c, TFC_INVALID_ARGUMENT,
                         "cannot encode %lld frames of %lld channels at %d Hz as a WAV (channels "
                         "1 to 65535, a positive rate, under 4 GiB)",
                         (long long)a->dims[0], (long long)a->dims[1], rate);
        return;
    }
    tfc_tensor *out = tfc_kernel_output(c, 0, TFC_STRING, 0, NULL);
    if (!out) return;
    char *bytes = tfc_string_alloc(out, size);
    if (!bytes) {
        tfc_kernel_error(c, TFC_RESOURCE_EXHAUSTED, "out of memory encoding a WAV");
        return;
    }
    wav_encode(a->data, a->dims[0], a->dims[1], (uint32_t)rate, (uint8_t *)bytes);
    ((tfc_string *)out->data)[0] = (tfc_string){bytes, size};
}

/* ---- DecodeWav(contents; desired_channels, desired_samples) ---- */

static int decode_infer(tfc_infer_ctx *c) {
    if (str_check_input(c, 0, "contents")) return -1;
    tfc_shape s = tfc_infer_input_shape(c, 0);
    if (s.rank > 0) return tfc_infer_error(c, "contents must be a scalar, got rank %d", s.rank);
    if (!tfc_attrs_find(c->attrs, "desired_channels"))
        tfc_attrs_set_int(c->attrs, "desired_channels", TFC_ATTR_INT, -1);
    if (!tfc_attrs_find(c->attrs, "desired_samples"))
        tfc_attrs_set_int(c->attrs, "desired_samples", TFC_ATTR_INT, -1);
    int64_t ch = tfc_attrs_int(c->attrs, "desired_channels", -1),
            n = tfc_attrs_int(c->attrs, "desired_samples", -1);
    if (ch < -1 || ch == 0 || ch > 0xffff)
        return tfc_infer_error(
            c, "desired_channels must be -1 (the file's) or 1 to 65535, got %lld", (long long)ch);
    if (n < -1 || n > 0x7fffffff)
        return tfc_infer_error(
            c, "desired_samples must be -1 (the file's) or 0 to 2^31-1, got %lld", (long long)n);
    if (tfc_infer_set_num_outputs(c, 2)) return -1;
    int64_t dims[2] = {n, ch};
    tfc_infer_set_output(c, 0, TFC_FLOAT, tfc_shape_make(2, dims));
    tfc_infer_set_output(c, 1, TFC_INT32, tfc_shape_scalar());
    return 0;
}

static void decode_kernel(tfc_kernel_ctx *c) {
    tfc_string in = tfc_string_at(c->inputs[0], 0);
    const tfc_attrs *a = &c->node->attrs;
    int64_t want_ch = tfc_attrs_int(a, "desired_channels", -1),
            want_n = tfc_attrs_int(a, "desired_samples", -1);
    wav_info w;
    char err[200];
    if (wav_decode((const uint8_t *)in.data, in.len, &w, err, sizeof err)) {
        tfc_kernel_error(c, TFC_INVALID_ARGUMENT, "DecodeWav: %s (%zu bytes)", err, in.len);
        return;
    }
    int64_t dims[2] = {want_n < 0 ? (int64_t)w.frames : want_n,
                       want_ch < 0 ? (int64_t)w.channels : want_ch};
    tfc_tensor *out = tfc_kernel_output(c, 0, TFC_FLOAT, 2, dims);
    tfc_tensor *rate = tfc_kernel_output(c, 1, TFC_INT32, 0, NULL);
    if (!out || !rate) return;
    float *o = out->data;
    /* cropped or zero-padded to desired_samples; with more channels than
     * the file's the last one repeats, with fewer the rest are dropped */
    for (int64_t i = 0; i < dims[0]; i++)
        for (int64_t ch = 0; ch < dims[1]; ch++) {
            int64_t from = ch < w.channels ? ch : w.channels - 1;
            o[i * dims[1] + ch] =
                i < (int64_t)w.frames
                    ? (float)(int16_t)get16(w.samples + 2 * (i * w.channels + from)) / 32768.0f
                    : 0.0f;
        }
    *(int32_t *)rate->data = (int32_t)w.sample_rate;
}

const tfc_op_def tfc_ops_audio[] = {
    {"EncodeWav", 2, 2, 1, AUDIO_OP, 0, encode_infer, encode_kernel, NULL},
    {"DecodeWav", 1, 1, 2, AUDIO_OP, 0, decode_infer, decode_kernel, NULL},
    {NULL, 0, 0, 0, 0, 0, NULL, NULL, NULL},
};

/* ---- public helpers ---- */

tfc_output tfc_audio_encode_wav(tfc_graph *g, tfc_output audio, tfc_output sample_rate) {
    tfc_op_desc *d = tfc_op_new(g, "EncodeWav", NULL);
    tfc_op_add_input(d, audio);
    tfc_op_add_input(d, sample_rate);
    return tfc_out(tfc_op_finish(d), 0);
}

int tfc_audio_decode_wav(tfc_graph *g, tfc_output contents, int desired_channels,
                         int desired_samples, tfc_output out[2]) {
    tfc_op_desc *d = tfc_op_new(g, "DecodeWav", NULL);
    tfc_op_add_input(d, contents);
    tfc_op_set_attr_int(d, "desired_channels", desired_channels);
    tfc_op_set_attr_int(d, "desired_samples", desired_samples);
    tfc_node *n = tfc_op_finish(d);
    if (!n) return -1;
    out[0] = tfc_out(n, 0);
    out[1] = tfc_out(n, 1);
    return 0;
}
