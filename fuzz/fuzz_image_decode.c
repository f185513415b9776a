/* libFuzzer harness: the image decoders (DecodePng, DecodeJpeg; libpng and
 * libjpeg behind them) on `[mode][image bytes]`. mode picks the op and its
 * attrs: bit 0 DecodeJpeg (else DecodePng), bits 1-2 channels (0, 1, 3, 4),
 * bit 3 uint16 (DecodePng), bits 4-5 ratio 1, 2, 4, 8 (DecodeJpeg), bit 6
 * try_recover_truncated with acceptable_fraction 0.5. With bit 7 set,
 * bits 0-1 pick DecodeGif, DecodeBmp, DecodeImage or DecodeWav instead:
 * bits 2-3 channels (0, 1, 3, 4; for DecodeWav desired_channels -1, 1, 2,
 * 3), bit 4 expand_animations (DecodeImage) or desired_samples 100
 * (DecodeWav), bit 5 float output (DecodeImage). A decoded image must
 * have the shape its attrs promise; a failure must say why. Images that
 * would decode to more than 2^22 pixels are skipped (their headers read
 * here with libjpeg, or the PNG's IHDR): a few hundred bytes may declare a
 * 2^29-pixel image, which the ops accept as TensorFlow's do but which
 * would only measure memset speed under the sanitizers. Run:
 * build-fuzz/fuzz/fuzz_image_decode CORPUS_DIR (see docs/FUZZING.md). */
#include "tfc.h"

#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { NGRAPHS = 256 };

typedef struct decoder {
    tfc_graph *g;
    tfc_session *s;
    tfc_output in, out;
} decoder;

static decoder decoders[NGRAPHS];

/* The channels attr of DecodeBmp (which refuses 1) and DecodeImage */
static int other_channels(uint8_t mode) {
    static const int channels[4] = {0, 1, 3, 4};
    int c = channels[(mode >> 2) & 3];
    return (mode & 3) == 1 && c == 1 ? 0 : c;
}

/* The graph and session for one mode, made on first use and kept. */
static decoder *decoder_for(uint8_t mode) {
    decoder *d = &decoders[mode & (NGRAPHS - 1)];
    if (d->s) return d;
    static const int channels[4] = {0, 1, 3, 4}, ratios[4] = {1, 2, 4, 8};
    static const char *const others[4] = {"DecodeGif", "DecodeBmp", "DecodeImage", "DecodeWav"};
    int jpeg = mode & 1, other = mode & 128 ? mode & 3 : -1;
    d->g = tfc_graph_new();
    d->in = tfc_placeholder(d->g, "contents", TFC_STRING, 0, NULL);
    tfc_op_desc *op = tfc_op_new(d->g, other >= 0 ? others[other] : jpeg ? "DecodeJpeg" : "DecodePng",
                                 "decode");
    tfc_op_add_input(op, d->in);
    if (other == 3) {
        tfc_op_set_attr_int(op, "desired_channels", (mode >> 2) & 3 ? (mode >> 2) & 3 : -1);
        tfc_op_set_attr_int(op, "desired_samples", mode & 16 ? 100 : -1);
    } else if (other == 1 || other == 2) {
        tfc_op_set_attr_int(op, "channels", other_channels(mode));
        if (other == 2) {
            tfc_op_set_attr_bool(op, "expand_animations", (mode & 16) != 0);
            tfc_op_set_attr_type(op, "dtype", mode & 32 ? TFC_FLOAT : TFC_UINT8);
        }
    } else if (other == 0) {
        /* no attrs */
    } else if (jpeg) {
        tfc_op_set_attr_int(op, "channels", channels[(mode >> 1) & 3]);
        tfc_op_set_attr_int(op, "ratio", ratios[(mode >> 4) & 3]);
        if (mode & 64) {
            tfc_op_set_attr_bool(op, "try_recover_truncated", 1);
            tfc_op_set_attr_float(op, "acceptable_fraction", 0.5);
        }
    } else {
        tfc_op_set_attr_int(op, "channels", channels[(mode >> 1) & 3]);
        tfc_op_set_attr_type(op, "dtype", mode & 8 ? TFC_UINT16 : TFC_UINT8);
    }
    d->out = tfc_out(tfc_op_finish(op), 0);
    tfc_status *st = tfc_status_new();
    tfc_session_options o = {0};
    o.inter_op_threads = 1; /* up to 256 sessions: no pools of threads each */
    o.intra_op_threads = 1;
    if (tfc_graph_error(d->g) || !(d->s = tfc_session_new(d->g, &o, st))) {
        fprintf(stderr, "fuzz_image_decode: cannot build mode %d: %s\n", mode,
                tfc_graph_error(d->g) ? tfc_graph_error(d->g) : tfc_status_message(st));
        abort();
    }
    tfc_status_free(st);
    return d;
}

typedef struct jerr {
    struct jpeg_error_mgr mgr;
    jmp_buf jump;
} jerr;

static void jerr_exit(j_common_ptr c) { longjmp(((jerr *)c->err)->jump, 1); }
static void jerr_quiet(j_common_ptr c, int level) { (void)c, (void)level; }

/* The pixels the image declares (0 when its header does not read). */
static uint64_t declared_pixels(const uint8_t *p, size_t n) {
    if (n >= 24 && !memcmp(p, "\x89PNG", 4))
        return (uint64_t)((uint32_t)p[16] << 24 | p[17] << 16 | p[18] << 8 | p[19]) *
               (uint32_t)((uint32_t)p[20] << 24 | p[21] << 16 | p[22] << 8 | p[23]);
    if (n >= 10 && !memcmp(p, "GIF8", 4)) /* the logical screen, little-endian */
        return (uint64_t)(p[6] | p[7] << 8) * (uint64_t)(p[8] | p[9] << 8);
    if (n < 3 || p[0] != 0xff || p[1] != 0xd8) return 0;
    struct jpeg_decompress_struct *c = calloc(1, sizeof *c);
    jerr *e = calloc(1, sizeof *e);
    volatile uint64_t pixels = 0; /* read after a longjmp */
    c->err = jpeg_std_error(&e->mgr);
    e->mgr.error_exit = jerr_exit;
    e->mgr.emit_message = jerr_quiet;
    if (!setjmp(e->jump)) {
        jpeg_create_decompress(c);
        jpeg_mem_src(c, p, (unsigned long)n);
        if (jpeg_read_header(c, TRUE) == JPEG_HEADER_OK)
            pixels = (uint64_t)c->image_width * c->image_height;
    }
    jpeg_destroy_decompress(c);
    free(c);
    free(e);
    return pixels;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1 || declared_pixels(data + 1, size - 1) > (1u << 22)) return 0;
    uint8_t mode = data[0];
    decoder *d = decoder_for(mode);
    tfc_tensor *contents = tfc_tensor_scalar_string((const char *)data + 1, size - 1);
    tfc_status *st = tfc_status_new();
    tfc_tensor *image = NULL;
    tfc_session_run(d->s, &d->in, &contents, 1, &d->out, 1, &image, NULL, 0, st);
    if (!image) {
        if (!tfc_status_message(st) || !tfc_status_message(st)[0]) {
            fprintf(stderr, "fuzz_image_decode: an error with an empty message\n");
            abort();
        }
    } else if (mode & 128 && (mode & 3) == 3) { /* DecodeWav: [samples, channels] floats */
        int want = (mode >> 2) & 3;
        if (tfc_tensor_rank(image) != 2 || tfc_tensor_dtype(image) != TFC_FLOAT ||
            (want && tfc_tensor_dim(image, 1) != want) ||
            (mode & 16 && tfc_tensor_dim(image, 0) != 100)) {
            fprintf(stderr, "fuzz_image_decode: DecodeWav (mode %d) gave the wrong shape\n", mode);
            abort();
        }
    } else {
        static const int channels[4] = {0, 1, 3, 4};
        int want = mode & 128 ? (mode & 3) == 0 ? 3 : other_channels(mode)
                              : channels[(mode >> 1) & 3];
        int four = tfc_tensor_rank(image) == 4; /* DecodeGif, DecodeImage of a GIF */
        int64_t c = tfc_tensor_dim(image, 2 + four);
        if ((tfc_tensor_rank(image) != 3 && !(four && mode & 128)) || (want && c != want) ||
            c < 1 || c > 4 || tfc_tensor_dim(image, four) < 1 || tfc_tensor_dim(image, 1 + four) < 1 ||
            (four && tfc_tensor_dim(image, 0) < 1)) {
            fprintf(stderr, "fuzz_image_decode: mode %d gave an image of rank %d, %lld channels\n",
                    mode, tfc_tensor_rank(image), (long long)c);
            abort();
        }
        /* the pixels are there to read (ASan checks each touch) */
        const uint8_t *p = tfc_tensor_data(image);
        size_t nbytes = tfc_tensor_nbytes(image);
        volatile uint8_t sum = 0;
        for (size_t i = 0; i < nbytes; i += 61) sum ^= p[i];
        if (nbytes) sum ^= p[nbytes - 1];
        (void)sum;
    }
    tfc_tensor_free(image);
    tfc_tensor_free(contents);
    tfc_status_free(st);
    return 0;
}
