/* EncodeWav (the bytes checked against the RIFF layout field by field),
 * DecodeWav (round trip, desired_channels / desired_samples, chunks to
 * skip, TensorFlow's errors naming the node) and AudioSummaryV2 (its
 * Summary parsed back from the wire: tags, sample rate, channels, frames,
 * content type and the WAV itself). */
#include "harness.h"

#include "formats/pb.h"

#include <stdlib.h>
#include <string.h>

static unsigned u16(const unsigned char *p) { return p[0] | (unsigned)p[1] << 8; }
static uint32_t u32(const unsigned char *p) { return u16(p) | (uint32_t)u16(p + 2) << 16; }

/* 3 frames x 2 channels, and the int16 each becomes: round(x * 32768)
 * clamped (1.0 -> 32767, NaN -> 0) */
static const float samples[6] = {0.5f, -1.0f, 1.0f, 0.25f, -0.5f, 1e-5f};
static const int16_t as_int16[6] = {16384, -32768, 32767, 8192, -16384, 0};

static tfc_tensor *encode(const float *x, int64_t frames, int64_t ch, int rate, tfc_status *st) {
    tfc_graph *g = tfc_graph_new();
    int64_t dims[2] = {frames, ch};
    tfc_tensor *xt = tfc_tensor_from_data(TFC_FLOAT, 2, dims, x);
    tfc_output wav = tfc_audio_encode_wav(g, tfc_const(g, xt), tfc_const_int32(g, rate));
    tfc_tensor_free(xt);
    CHECK_GRAPH_OK(g);
    tfc_session *s = tfc_session_new(g, NULL, st);
    tfc_tensor *r = NULL;
    tfc_session_run(s, NULL, NULL, 0, &wav, 1, &r, NULL, 0, st);
    tfc_session_free(s);
    tfc_graph_free(g);
    return r;
}

static void test_encode_layout(void) {
    tfc_status *st = tfc_status_new();
    tfc_tensor *t = encode(samples, 3, 2, 16000, st);
    CHECK_STATUS_OK(st);
    size_t n = 0;
    const unsigned char *p = t ? (const unsigned char *)tfc_string_tensor_get(t, 0, &n) : NULL;
    CHECK(n == 44 + 12);
    if (p && n == 56) {
        CHECK(!memcmp(p, "RIFF", 4) && u32(p + 4) == 48 && !memcmp(p + 8, "WAVE", 4));
        CHECK(!memcmp(p + 12, "fmt ", 4) && u32(p + 16) == 16);
        CHECK(u16(p + 20) == 1 && u16(p + 22) == 2);          /* PCM, channels */
        CHECK(u32(p + 24) == 16000 && u32(p + 28) == 64000); /* rate, bytes per second */
        CHECK(u16(p + 32) == 4 && u16(p + 34) == 16);         /* frame bytes, bits */
        CHECK(!memcmp(p + 36, "data", 4) && u32(p + 40) == 12);
        for (int i = 0; i < 6; i++)
            CHECK_MSG((int16_t)u16(p + 44 + 2 * i) == as_int16[i], "sample %d: %d", i,
                      (int16_t)u16(p + 44 + 2 * i));
    }
    tfc_tensor_free(t);
    /* bad input names the node */
    t = encode(samples, 3, 2, 0, st);
    CHECK(t == NULL && tfc_status_code(st) == TFC_INVALID_ARGUMENT);
    CHECK_CONTAINS(tfc_status_message(st), "EncodeWav");
    tfc_status_free(st);
}

/* DecodeWav of `wav` (attrs as given): audio and rate, or NULL */
static tfc_tensor *decode(const unsigned char *wav, size_t n, int ch, int len, int32_t *rate,
                          tfc_status *st) {
    tfc_graph *g = tfc_graph_new();
    tfc_output in = tfc_placeholder(g, "contents", TFC_STRING, 0, NULL), out[2];
    tfc_with_name(g, "decode_wav");
    tfc_audio_decode_wav(g, in, ch, len, out);
    CHECK_GRAPH_OK(g);
    tfc_tensor *v = tfc_tensor_scalar_string((const char *)wav, n), *r[2] = {NULL, NULL};
    tfc_session *s = tfc_session_new(g, NULL, st);
    tfc_session_run(s, &in, &v, 1, out, 2, r, NULL, 0, st);
    if (r[1]) *rate = *(const int32_t *)tfc_tensor_data(r[1]);
    tfc_tensor_free(r[1]);
    tfc_session_free(s);
    tfc_tensor_free(v);
    tfc_graph_free(g);
    return r[0];
}

static void test_decode(void) {
    tfc_status *st = tfc_status_new();
    tfc_tensor *w = encode(samples, 3, 2, 22050, st);
    size_t n = 0;
    const unsigned char *p = (const unsigned char *)tfc_string_tensor_get(w, 0, &n);
    int32_t rate = 0;
    tfc_tensor *a = decode(p, n, -1, -1, &rate, st);
    CHECK_STATUS_OK(st);
    CHECK(rate == 22050);
    CHECK(a && tfc_tensor_rank(a) == 2 && tfc_tensor_dim(a, 0) == 3 && tfc_tensor_dim(a, 1) == 2);
    for (int i = 0; a && i < 6; i++)
        CHECK(((const float *)tfc_tensor_data(a))[i] == as_int16[i] / 32768.0f);
    tfc_tensor_free(a);
    /* 3 channels (the last repeats), 5 samples (zeros after) */
    a = decode(p, n, 3, 5, &rate, st);
    CHECK(a && tfc_tensor_dim(a, 0) == 5 && tfc_tensor_dim(a, 1) == 3);
    if (a) {
        const float *f = tfc_tensor_data(a);
        CHECK(f[0] == 0.5f && f[1] == -1.0f && f[2] == -1.0f);
        CHECK(f[3 * 2 + 0] == -0.5f && f[3 * 2 + 2] == 0.0f);
        CHECK(f[3 * 3] == 0 && f[3 * 4 + 2] == 0);
    }
    tfc_tensor_free(a);
    /* 1 channel, 2 samples */
    a = decode(p, n, 1, 2, &rate, st);
    CHECK(a && tfc_tensor_dim(a, 0) == 2 && tfc_tensor_dim(a, 1) == 1);
    if (a) CHECK(((const float *)tfc_tensor_data(a))[1] == 1.0f * 32767 / 32768);
    tfc_tensor_free(a);

    /* a JUNK chunk before "fmt " is skipped */
    unsigned char *junk = malloc(n + 10);
    memcpy(junk, p, 12);
    memcpy(junk + 12, "JUNK\2\0\0\0ab", 10);
    memcpy(junk + 22, p + 12, n - 12);
    a = decode(junk, n + 10, -1, -1, &rate, st);
    CHECK_STATUS_OK(st);
    CHECK(a && tfc_tensor_dim(a, 0) == 3);
    tfc_tensor_free(a);
    free(junk);

    /* errors: TensorFlow's words and the node */
    unsigned char *bad = malloc(n);
    struct {
        size_t at, len;
        const char *put, *want;
    } cases[] = {{0, 4, "RIFX", "Header mismatch: Expected RIFF"},
                 {12, 4, "junk", "Unexpected field junk"},
                 {34, 1, "\x08", "Can only read 16-bit WAV files, but received 8"},
                 {20, 1, "\x03", "Bad audio format for WAV: Expected 1 (PCM)"},
                 {28, 1, "\x01", "Bad bytes per second in WAV header"},
                 {36, 4, "date", "No data chunk found in WAV"}};
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
        memcpy(bad, p, n);
        memcpy(bad + cases[k].at, cases[k].put, cases[k].len);
        a = decode(bad, n, -1, -1, &rate, st);
        CHECK(a == NULL && tfc_status_code(st) == TFC_INVALID_ARGUMENT);
        CHECK_CONTAINS(tfc_status_message(st), cases[k].want);
        CHECK_CONTAINS(tfc_status_message(st), "decode_wav");
        tfc_tensor_free(a);
    }
    for (size_t cut = 0; cut < n; cut += 7) { /* truncated anywhere: an error, never a crash */
        a = decode(p, cut, -1, -1, &rate, st);
        CHECK(a == NULL && tfc_status_code(st) == TFC_INVALID_ARGUMENT);
        tfc_tensor_free(a);
    }
    free(bad);
    tfc_tensor_free(w);
    tfc_status_free(st);
}

/* ---- AudioSummaryV2, read back from the wire ---- */

typedef struct field {
    uint32_t num;
    int wt;
    const uint8_t *p;
    size_t n;
    uint64_t v;
} field;

static int next(const uint8_t **p, const uint8_t *end, field *f) {
    uint64_t tag, len;
    if (*p >= end || pb_get_varint(p, end, &tag)) return 0;
    f->num = (uint32_t)(tag >> 3);
    f->wt = (int)(tag & 7);
    if (f->wt == 0) return !pb_get_varint(p, end, &f->v);
    if (f->wt == 5) {
        f->p = *p;
        f->n = 4;
    } else if (f->wt == 2) {
        if (pb_get_varint(p, end, &len) || len > (uint64_t)(end - *p)) return 0;
        f->p = *p;
        f->n = (size_t)len;
    } else {
        return 0;
    }
    *p += f->n;
    return 1;
}

static void test_audio_summary(void) {
    tfc_status *st = tfc_status_new();
    /* 2 clips of 3 frames x 2 channels */
    float x[12];
    for (int i = 0; i < 12; i++) x[i] = samples[i % 6] * (i < 6 ? 1.0f : -0.5f);
    for (int max = 1; max <= 3; max += 2) {
        tfc_graph *g = tfc_graph_new();
        int64_t dims[3] = {2, 3, 2};
        tfc_tensor *xt = tfc_tensor_from_data(TFC_FLOAT, 3, dims, x);
        tfc_output audio = tfc_const(g, xt);
        tfc_tensor_free(xt);
        tfc_output sum = tfc_audio_summary(g, "voice", audio, tfc_const_float(g, 8000.0f), max);
        CHECK_GRAPH_OK(g);
        tfc_tensor *t = tfc_test_eval(g, sum, NULL, NULL, 0);
        size_t n = 0;
        const uint8_t *p = t ? (const uint8_t *)tfc_string_tensor_get(t, 0, &n) : NULL, *end = p + n;
        field f, v, a;
        int values = 0;
        while (p && next(&p, end, &f)) {
            CHECK(f.num == 1 && f.wt == 2); /* Summary.value */
            char tag[64] = "";
            int ok_audio = 0;
            for (const uint8_t *q = f.p; next(&q, f.p + f.n, &v);) {
                if (v.num == 1) snprintf(tag, sizeof tag, "%.*s", (int)v.n, v.p);
                if (v.num != 6) continue;
                float rate = 0;
                int64_t ch = 0, frames = 0;
                const uint8_t *wav = NULL;
                size_t wav_n = 0;
                char type[32] = "";
                for (const uint8_t *r = v.p; next(&r, v.p + v.n, &a);) {
                    if (a.num == 1 && a.wt == 5) memcpy(&rate, a.p, 4);
                    if (a.num == 2) ch = (int64_t)a.v;
                    if (a.num == 3) frames = (int64_t)a.v;
                    if (a.num == 4) wav = a.p, wav_n = a.n;
                    if (a.num == 5) snprintf(type, sizeof type, "%.*s", (int)a.n, a.p);
                }
                CHECK(rate == 8000.0f && ch == 2 && frames == 3 && !strcmp(type, "audio/wav"));
                /* the clip's WAV is EncodeWav's */
                tfc_tensor *ref = encode(x + 6 * values, 3, 2, 8000, st);
                size_t rn = 0;
                const char *rp = tfc_string_tensor_get(ref, 0, &rn);
                CHECK(wav && wav_n == rn && !memcmp(wav, rp, rn));
                tfc_tensor_free(ref);
                ok_audio = 1;
            }
            CHECK(ok_audio);
            char want[64];
            if (max == 1) snprintf(want, sizeof want, "voice/audio");
            else snprintf(want, sizeof want, "voice/audio/%d", values);
            CHECK_MSG(!strcmp(tag, want), "tag '%s', want '%s'", tag, want);
            values++;
        }
        CHECK(values == (max == 1 ? 1 : 2));
        tfc_tensor_free(t);
        tfc_graph_free(g);
    }
    /* a rate of 0 fails the run, naming the node */
    tfc_graph *g = tfc_graph_new();
    int64_t dims[2] = {1, 3};
    tfc_tensor *xt = tfc_tensor_from_data(TFC_FLOAT, 2, dims, x);
    tfc_output sum = tfc_audio_summary(g, "bad", tfc_const(g, xt), tfc_const_float(g, 0), 1);
    tfc_tensor_free(xt);
    tfc_session *s = tfc_session_new(g, NULL, st);
    tfc_tensor *r = NULL;
    tfc_session_run(s, NULL, NULL, 0, &sum, 1, &r, NULL, 0, st);
    CHECK(r == NULL && tfc_status_code(st) == TFC_INVALID_ARGUMENT);
    CHECK_CONTAINS(tfc_status_message(st), "sample_rate must be > 0");
    CHECK_CONTAINS(tfc_status_message(st), "bad");
    tfc_session_free(s);
    tfc_graph_free(g);
    tfc_status_free(st);
}

TFC_TEST_MAIN(T(test_encode_layout), T(test_decode), T(test_audio_summary))
