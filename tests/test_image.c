/* Image codecs: DecodePng, EncodePng, DecodeJpeg, EncodeJpeg. The images
 * are made here with libpng and libjpeg directly and their pixels known,
 * so every decode is checked against values (or against libjpeg's own
 * decode of the same bytes, for the lossy format); every encode is read
 * back by the libraries directly. Corrupt data fails the run with
 * TensorFlow's message naming the node. */
#include "harness.h"

#include <png.h>
#include <stdio.h>
#include <stdlib.h>

#include <jpeglib.h>

/* ---- reference files, written with the libraries ---- */

typedef struct mem {
    unsigned char *p;
    size_t n, cap;
} mem;

static void mem_write(png_structp png, png_bytep d, png_size_t n) {
    mem *m = png_get_io_ptr(png);
    if (m->n + n > m->cap) {
        m->cap = (m->n + n) * 2;
        m->p = realloc(m->p, m->cap);
    }
    memcpy(m->p + m->n, d, n);
    m->n += n;
}
static void mem_flush(png_structp png) { (void)png; }

/* A PNG of w x h pixels, `color` and `depth` as libpng names them, rows of
 * big-endian samples as PNG stores them. Palette images take `plte`
 * (n entries) and `trns` (n alphas, or NULL). */
static mem make_png(int w, int h, int color, int depth, int interlace, const unsigned char *pix,
                    const png_color *plte, const unsigned char *trns, int n) {
    mem m = {0};
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(png);
    if (setjmp(png_jmpbuf(png))) {
        CHECK(!"libpng failed writing a test image");
        png_destroy_write_struct(&png, &info);
        return m;
    }
    png_set_write_fn(png, &m, mem_write, mem_flush);
    png_set_IHDR(png, info, (png_uint_32)w, (png_uint_32)h, depth, color,
                 interlace ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
                 PNG_FILTER_TYPE_DEFAULT);
    if (plte) png_set_PLTE(png, info, plte, n);
    if (trns) png_set_tRNS(png, info, trns, n, NULL);
    png_bytep *rows = malloc(sizeof *rows * (size_t)h);
    size_t rb = png_get_rowbytes(png, info);
    for (int y = 0; y < h; y++) rows[y] = (png_bytep)pix + (size_t)y * rb;
    png_set_rows(png, info, rows);
    png_write_png(png, info, PNG_TRANSFORM_IDENTITY, NULL);
    png_destroy_write_struct(&png, &info);
    free(rows);
    return m;
}

static mem make_jpeg(int w, int h, int comps, const unsigned char *pix, int quality) {
    struct jpeg_compress_struct ci;
    struct jpeg_error_mgr err;
    unsigned char *buf = NULL;
    unsigned long size = 0;
    ci.err = jpeg_std_error(&err);
    jpeg_create_compress(&ci);
    jpeg_mem_dest(&ci, &buf, &size);
    ci.image_width = (JDIMENSION)w;
    ci.image_height = (JDIMENSION)h;
    ci.input_components = comps;
    ci.in_color_space = comps == 1 ? JCS_GRAYSCALE : JCS_RGB;
    jpeg_set_defaults(&ci);
    jpeg_set_quality(&ci, quality, TRUE);
    jpeg_start_compress(&ci, TRUE);
    while (ci.next_scanline < ci.image_height) {
        JSAMPROW row = (JSAMPROW)pix + (size_t)ci.next_scanline * (size_t)(w * comps);
        jpeg_write_scanlines(&ci, &row, 1);
    }
    jpeg_finish_compress(&ci);
    jpeg_destroy_compress(&ci);
    mem m = {buf, size, size};
    return m;
}

/* libjpeg's decode of a JPEG (the reference for DecodeJpeg): malloc'd
 * pixels, *w, *h set. */
static unsigned char *ref_jpeg_decode(const mem *m, J_COLOR_SPACE out, J_DCT_METHOD dct,
                                      int denom, int *w, int *h) {
    struct jpeg_decompress_struct ci;
    struct jpeg_error_mgr err;
    ci.err = jpeg_std_error(&err);
    jpeg_create_decompress(&ci);
    jpeg_mem_src(&ci, m->p, (unsigned long)m->n);
    jpeg_read_header(&ci, TRUE);
    ci.out_color_space = out;
    ci.dct_method = dct;
    ci.scale_num = 1;
    ci.scale_denom = (unsigned)denom;
    jpeg_start_decompress(&ci);
    *w = (int)ci.output_width;
    *h = (int)ci.output_height;
    size_t rb = (size_t)ci.output_width * (size_t)ci.output_components;
    unsigned char *px = malloc(rb * ci.output_height);
    while (ci.output_scanline < ci.output_height) {
        JSAMPROW row = px + ci.output_scanline * rb;
        jpeg_read_scanlines(&ci, &row, 1);
    }
    jpeg_finish_decompress(&ci);
    jpeg_destroy_decompress(&ci);
    return px;
}

/* ---- running ---- */

/* Builds op `type` over a string placeholder, feeds it `data`, runs it;
 * the result or NULL with *st set. attrs: name=int pairs as given. */
typedef struct op_attrs {
    int channels, ratio, try_recover;
    double fraction; /* acceptable_fraction, when > 0 */
    tfc_dtype dtype;
    const char *dct;
} op_attrs;

static tfc_tensor *run_decode(const char *type, const mem *data, op_attrs a, tfc_status *st,
                              char *node_name, size_t name_cap) {
    tfc_graph *g = tfc_graph_new();
    tfc_output in = tfc_placeholder(g, "contents", TFC_STRING, 0, NULL);
    tfc_op_desc *d = tfc_op_new(g, type, "decode");
    tfc_op_add_input(d, in);
    tfc_op_set_attr_int(d, "channels", a.channels);
    if (a.dtype) tfc_op_set_attr_type(d, "dtype", a.dtype);
    if (a.ratio) tfc_op_set_attr_int(d, "ratio", a.ratio);
    if (a.try_recover) tfc_op_set_attr_bool(d, "try_recover_truncated", 1);
    if (a.fraction > 0) tfc_op_set_attr_float(d, "acceptable_fraction", a.fraction);
    if (a.dct) tfc_op_set_attr_string(d, "dct_method", a.dct);
    tfc_output out = tfc_out(tfc_op_finish(d), 0);
    CHECK_GRAPH_OK(g);
    if (node_name) snprintf(node_name, name_cap, "%s", tfc_node_name(out.node));
    tfc_tensor *v = tfc_tensor_scalar_string((const char *)data->p, data->n);
    tfc_session *s = tfc_session_new(g, NULL, st);
    tfc_tensor *r = NULL;
    tfc_session_run(s, &in, &v, 1, &out, 1, &r, NULL, 0, st);
    tfc_session_free(s);
    tfc_tensor_free(v);
    tfc_graph_free(g);
    return r;
}

static tfc_tensor *decode_ok(const char *type, const mem *data, op_attrs a) {
    tfc_status *st = tfc_status_new();
    tfc_tensor *r = run_decode(type, data, a, st, NULL, 0);
    CHECK_STATUS_OK(st);
    tfc_status_free(st);
    return r;
}

static int has_shape(const tfc_tensor *t, int64_t h, int64_t w, int64_t c) {
    return t && tfc_tensor_rank(t) == 3 && tfc_tensor_dim(t, 0) == h &&
           tfc_tensor_dim(t, 1) == w && tfc_tensor_dim(t, 2) == c;
}

/* ---- PNG ---- */

static unsigned char rgb6[2 * 3 * 3] = {255, 0, 0,   0, 255, 0,   0, 0, 255,
                                        10, 20, 30, 200, 100, 50, 7, 7, 7};

static void test_decode_png_rgb(void) {
    mem m = make_png(3, 2, PNG_COLOR_TYPE_RGB, 8, 0, rgb6, NULL, NULL, 0);
    tfc_tensor *t = decode_ok("DecodePng", &m, (op_attrs){0});
    CHECK(has_shape(t, 2, 3, 3) && tfc_tensor_dtype(t) == TFC_UINT8);
    CHECK(t && !memcmp(tfc_tensor_data(t), rgb6, sizeof rgb6));
    tfc_tensor_free(t);
    /* channels 4: an opaque alpha added */
    t = decode_ok("DecodePng", &m, (op_attrs){.channels = 4});
    CHECK(has_shape(t, 2, 3, 4));
    for (int i = 0; t && i < 6; i++) {
        const unsigned char *p = (const unsigned char *)tfc_tensor_data(t) + 4 * i;
        CHECK(!memcmp(p, rgb6 + 3 * i, 3) && p[3] == 255);
    }
    tfc_tensor_free(t);
    /* channels 1: BT.601 luma, as TensorFlow asks libpng for */
    t = decode_ok("DecodePng", &m, (op_attrs){.channels = 1});
    CHECK(has_shape(t, 2, 3, 1));
    for (int i = 0; t && i < 6; i++) {
        const unsigned char *p = rgb6 + 3 * i;
        double y = 0.299 * p[0] + 0.587 * p[1] + 0.114 * p[2];
        int got = ((const unsigned char *)tfc_tensor_data(t))[i];
        CHECK_MSG(got >= y - 1 && got <= y + 1, "pixel %d: %d, luma %.2f", i, got, y);
    }
    tfc_tensor_free(t);
    /* uint16: each byte repeated (v * 257) */
    t = decode_ok("DecodePng", &m, (op_attrs){.dtype = TFC_UINT16});
    CHECK(has_shape(t, 2, 3, 3) && tfc_tensor_dtype(t) == TFC_UINT16);
    for (int i = 0; t && i < 18; i++) CHECK(((const uint16_t *)tfc_tensor_data(t))[i] == rgb6[i] * 257);
    tfc_tensor_free(t);
    /* uint16 with an added alpha: the alpha is 65535 */
    t = decode_ok("DecodePng", &m, (op_attrs){.channels = 4, .dtype = TFC_UINT16});
    CHECK(has_shape(t, 2, 3, 4));
    for (int i = 0; t && i < 6; i++) CHECK(((const uint16_t *)tfc_tensor_data(t))[4 * i + 3] == 65535);
    tfc_tensor_free(t);
    free(m.p);
}

static void test_decode_png_kinds(void) {
    /* 16-bit gray: exact samples as uint16, the high bytes as uint8 */
    unsigned char g16[2 * 2 * 2] = {0x12, 0x34, 0xfe, 0xdc, 0x00, 0x01, 0xff, 0xff};
    mem m = make_png(2, 2, PNG_COLOR_TYPE_GRAY, 16, 0, g16, NULL, NULL, 0);
    tfc_tensor *t = decode_ok("DecodePng", &m, (op_attrs){.dtype = TFC_UINT16});
    const uint16_t want16[4] = {0x1234, 0xfedc, 0x0001, 0xffff};
    CHECK(has_shape(t, 2, 2, 1) && !memcmp(tfc_tensor_data(t), want16, 8));
    tfc_tensor_free(t);
    t = decode_ok("DecodePng", &m, (op_attrs){0});
    const unsigned char want8[4] = {0x12, 0xfe, 0x00, 0xff};
    CHECK(has_shape(t, 2, 2, 1) && !memcmp(tfc_tensor_data(t), want8, 4));
    tfc_tensor_free(t);
    /* gray to RGB */
    t = decode_ok("DecodePng", &m, (op_attrs){.channels = 3});
    CHECK(has_shape(t, 2, 2, 3));
    for (int i = 0; t && i < 12; i++) CHECK(((const unsigned char *)tfc_tensor_data(t))[i] == want8[i / 3]);
    tfc_tensor_free(t);
    free(m.p);

    /* RGBA: channels 0 keeps the alpha, 3 strips it */
    unsigned char rgba[1 * 2 * 4] = {1, 2, 3, 4, 250, 251, 252, 0};
    m = make_png(2, 1, PNG_COLOR_TYPE_RGB_ALPHA, 8, 0, rgba, NULL, NULL, 0);
    t = decode_ok("DecodePng", &m, (op_attrs){0});
    CHECK(has_shape(t, 1, 2, 4) && !memcmp(tfc_tensor_data(t), rgba, 8));
    tfc_tensor_free(t);
    t = decode_ok("DecodePng", &m, (op_attrs){.channels = 3});
    const unsigned char rgb[6] = {1, 2, 3, 250, 251, 252};
    CHECK(has_shape(t, 1, 2, 3) && !memcmp(tfc_tensor_data(t), rgb, 6));
    tfc_tensor_free(t);
    free(m.p);

    /* a 2-bit palette with transparency: channels 0 gives RGBA */
    png_color plte[3] = {{10, 20, 30}, {40, 50, 60}, {70, 80, 90}};
    unsigned char trns[3] = {255, 128, 0};
    unsigned char idx[1] = {(0 << 6) | (1 << 4) | (2 << 2) | 1}; /* 4 pixels: 0 1 2 1 */
    m = make_png(4, 1, PNG_COLOR_TYPE_PALETTE, 2, 0, idx, plte, trns, 3);
    t = decode_ok("DecodePng", &m, (op_attrs){0});
    const unsigned char want_pal[16] = {10, 20, 30, 255, 40, 50, 60, 128,
                                        70, 80, 90, 0,   40, 50, 60, 128};
    CHECK(has_shape(t, 1, 4, 4) && !memcmp(tfc_tensor_data(t), want_pal, 16));
    tfc_tensor_free(t);
    free(m.p);

    /* interlaced (Adam7) 5x5 RGB */
    unsigned char big[5 * 5 * 3];
    for (int i = 0; i < 75; i++) big[i] = (unsigned char)(i * 7 + 3);
    m = make_png(5, 5, PNG_COLOR_TYPE_RGB, 8, 1, big, NULL, NULL, 0);
    t = decode_ok("DecodePng", &m, (op_attrs){0});
    CHECK(has_shape(t, 5, 5, 3) && !memcmp(tfc_tensor_data(t), big, 75));
    tfc_tensor_free(t);
    free(m.p);
}

/* EncodePng's bytes, read by libpng's own reader, give the pixels back. */
static void test_encode_png(void) {
    tfc_test_seed(7);
    int64_t dims[3] = {9, 7, 3};
    tfc_tensor *im = tfc_test_random_tensor(TFC_UINT8, 3, dims, 0, 256);
    size_t sizes[2];
    for (int k = 0; k < 2; k++) {
        tfc_graph *g = tfc_graph_new();
        tfc_output x = tfc_placeholder(g, "image", TFC_UINT8, 3, dims);
        tfc_output e = tfc_image_encode_png(g, x, k ? 9 : 0);
        CHECK_GRAPH_OK(g);
        tfc_tensor *png = tfc_test_eval(g, e, &x, &im, 1);
        size_t n = 0;
        const char *p = tfc_string_tensor_get(png, 0, &n);
        sizes[k] = n;
        png_image ri;
        memset(&ri, 0, sizeof ri);
        ri.version = PNG_IMAGE_VERSION;
        CHECK(p && png_image_begin_read_from_memory(&ri, p, n));
        CHECK(ri.width == 7 && ri.height == 9);
        ri.format = PNG_FORMAT_RGB;
        unsigned char px[9 * 7 * 3];
        CHECK(png_image_finish_read(&ri, NULL, px, 0, NULL));
        CHECK(!memcmp(px, tfc_tensor_data(im), sizeof px));
        tfc_tensor_free(png);
        tfc_graph_free(g);
    }
    CHECK(sizes[1] <= sizes[0]);
    tfc_tensor_free(im);

    /* uint16, 2 channels (gray + alpha): round trip through DecodePng */
    int64_t d16[3] = {3, 4, 2};
    tfc_tensor *im16 = tfc_tensor_new(TFC_UINT16, 3, d16);
    uint16_t *v = tfc_tensor_data(im16);
    for (int i = 0; i < 24; i++) v[i] = (uint16_t)(i * 2731 + 17);
    tfc_graph *g = tfc_graph_new();
    tfc_output x = tfc_placeholder(g, "image", TFC_UINT16, 3, d16);
    tfc_output back = tfc_image_decode_png(g, tfc_image_encode_png(g, x, -1), 0, TFC_UINT16);
    CHECK_GRAPH_OK(g);
    tfc_tensor *r = tfc_test_eval(g, back, &x, &im16, 1);
    CHECK(has_shape(r, 3, 4, 2) && !memcmp(tfc_tensor_data(r), v, 48));
    tfc_tensor_free(r);
    tfc_tensor_free(im16);
    tfc_graph_free(g);
}

/* ---- JPEG ---- */

static unsigned char *gradient(int w, int h, int comps) {
    unsigned char *p = malloc((size_t)(w * h * comps));
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            for (int c = 0; c < comps; c++)
                p[(y * w + x) * comps + c] = (unsigned char)(x * 4 + y * 3 + c * 40);
    return p;
}

static void test_decode_jpeg(void) {
    int w = 16, h = 12;
    unsigned char *px = gradient(w, h, 3);
    mem m = make_jpeg(w, h, 3, px, 95);
    static const struct {
        const char *dct;
        J_DCT_METHOD method;
    } dcts[] = {{NULL, JDCT_IFAST}, {"INTEGER_FAST", JDCT_IFAST}, {"INTEGER_ACCURATE", JDCT_ISLOW}};
    for (int k = 0; k < 3; k++) {
        tfc_tensor *t = decode_ok("DecodeJpeg", &m, (op_attrs){.dct = dcts[k].dct});
        int rw, rh;
        unsigned char *ref = ref_jpeg_decode(&m, JCS_RGB, dcts[k].method, 1, &rw, &rh);
        CHECK(has_shape(t, h, w, 3) && rw == w && rh == h);
        CHECK(t && !memcmp(tfc_tensor_data(t), ref, (size_t)(w * h * 3)));
        /* and close to the pixels encoded */
        int worst = 0;
        for (int i = 0; t && i < w * h * 3; i++) {
            int d = abs(((const unsigned char *)tfc_tensor_data(t))[i] - px[i]);
            if (d > worst) worst = d;
        }
        CHECK_MSG(worst <= 12, "largest error %d", worst);
        free(ref);
        tfc_tensor_free(t);
    }
    /* channels 1 and ratio 2 */
    tfc_tensor *t = decode_ok("DecodeJpeg", &m, (op_attrs){.channels = 1, .ratio = 2});
    int rw, rh;
    unsigned char *ref = ref_jpeg_decode(&m, JCS_GRAYSCALE, JDCT_IFAST, 2, &rw, &rh);
    CHECK(has_shape(t, h / 2, w / 2, 1) && rw == w / 2 && rh == h / 2);
    CHECK(t && !memcmp(tfc_tensor_data(t), ref, (size_t)(rw * rh)));
    free(ref);
    tfc_tensor_free(t);
    /* TensorFlow's decode kernels look at the bytes: DecodePng reads a JPEG */
    t = decode_ok("DecodePng", &m, (op_attrs){0});
    CHECK(has_shape(t, h, w, 3));
    tfc_tensor_free(t);
    free(m.p);
    free(px);
    /* and DecodeJpeg a PNG */
    m = make_png(3, 2, PNG_COLOR_TYPE_RGB, 8, 0, rgb6, NULL, NULL, 0);
    t = decode_ok("DecodeJpeg", &m, (op_attrs){0});
    CHECK(has_shape(t, 2, 3, 3) && !memcmp(tfc_tensor_data(t), rgb6, 18));
    tfc_tensor_free(t);
    free(m.p);
}

static void test_encode_jpeg(void) {
    int w = 20, h = 10;
    for (int comps = 1; comps <= 3; comps += 2) {
        unsigned char *px = gradient(w, h, comps);
        int64_t dims[3] = {h, w, comps};
        tfc_tensor *im = tfc_tensor_from_data(TFC_UINT8, 3, dims, px);
        tfc_graph *g = tfc_graph_new();
        tfc_output x = tfc_placeholder(g, "image", TFC_UINT8, 3, dims);
        tfc_output e = tfc_image_encode_jpeg(g, x, comps == 1 ? "grayscale" : "", 100);
        CHECK_GRAPH_OK(g);
        tfc_tensor *jpg = tfc_test_eval(g, e, &x, &im, 1);
        size_t n = 0;
        const char *p = tfc_string_tensor_get(jpg, 0, &n);
        mem m = {(unsigned char *)p, n, n};
        int rw = 0, rh = 0;
        unsigned char *ref =
            p ? ref_jpeg_decode(&m, comps == 1 ? JCS_GRAYSCALE : JCS_RGB, JDCT_ISLOW, 1, &rw, &rh)
              : NULL;
        CHECK(ref && rw == w && rh == h);
        int worst = 0;
        for (int i = 0; ref && i < w * h * comps; i++)
            if (abs(ref[i] - px[i]) > worst) worst = abs(ref[i] - px[i]);
        CHECK_MSG(worst <= 6, "largest error %d at quality 100", worst);
        free(ref);
        tfc_tensor_free(jpg);
        tfc_tensor_free(im);
        tfc_graph_free(g);
        free(px);
    }
}

/* ---- bad input ---- */

static void expect_error(const char *type, const mem *data, op_attrs a, tfc_code code,
                         const char *want) {
    tfc_status *st = tfc_status_new();
    char name[64] = "";
    tfc_tensor *t = run_decode(type, data, a, st, name, sizeof name);
    CHECK(t == NULL);
    CHECK_MSG(tfc_status_code(st) == code, "code %d: %s", tfc_status_code(st),
              tfc_status_message(st));
    CHECK_CONTAINS(tfc_status_message(st), want);
    CHECK_CONTAINS(tfc_status_message(st), name);
    tfc_tensor_free(t);
    tfc_status_free(st);
}

static void test_corrupt(void) {
    mem junk = {(unsigned char *)"hello, world", 12, 12};
    expect_error("DecodePng", &junk, (op_attrs){0}, TFC_INVALID_ARGUMENT,
                 "Expected image (JPEG, PNG, or GIF), got unknown format starting with 'hello, world'");
    mem empty = {(unsigned char *)"", 0, 0};
    expect_error("DecodeJpeg", &empty, (op_attrs){0}, TFC_INVALID_ARGUMENT, "got empty file");
    mem gif = {(unsigned char *)"GIF89a....", 10, 10};
    expect_error("DecodeJpeg", &gif, (op_attrs){0}, TFC_INVALID_ARGUMENT, "Invalid GIF data");

    unsigned char big[8 * 8 * 3];
    for (int i = 0; i < 192; i++) big[i] = (unsigned char)(i * 13);
    mem png = make_png(8, 8, PNG_COLOR_TYPE_RGB, 8, 0, big, NULL, NULL, 0);
    mem cut = {png.p, 20, 20}; /* inside IHDR */
    expect_error("DecodePng", &cut, (op_attrs){0}, TFC_INVALID_ARGUMENT, "Invalid PNG header");
    cut.n = png.n - 20; /* inside IDAT */
    expect_error("DecodePng", &cut, (op_attrs){0}, TFC_INVALID_ARGUMENT, "Invalid PNG data");
    unsigned char *bad = malloc(png.n);
    memcpy(bad, png.p, png.n);
    bad[40] ^= 0x55; /* in IDAT: its CRC no longer matches */
    mem flipped = {bad, png.n, png.n};
    expect_error("DecodePng", &flipped, (op_attrs){0}, TFC_INVALID_ARGUMENT, "Invalid PNG");
    free(bad);
    free(png.p);

    unsigned char *px = gradient(32, 32, 3);
    mem jpg = make_jpeg(32, 32, 3, px, 90);
    mem jcut = {jpg.p, jpg.n - 150, jpg.n - 150}; /* inside the scan data */
    expect_error("DecodeJpeg", &jcut, (op_attrs){0}, TFC_INVALID_ARGUMENT, "Invalid JPEG data");
    /* recovering a truncated JPEG is allowed when asked (fraction 1.0 needs
     * every line, so it still fails here; the message says how far it got) */
    expect_error("DecodeJpeg", &jcut, (op_attrs){.try_recover = 1}, TFC_INVALID_ARGUMENT,
                 "of 32 lines");
    /* with a lower acceptable_fraction the lines decoded come back, the
     * same as libjpeg's own decode of the whole file gives for them */
    unsigned char *tall_px = gradient(32, 128, 3);
    mem tall = make_jpeg(32, 128, 3, tall_px, 90);
    mem tcut = {tall.p, tall.n * 7 / 10, tall.n * 7 / 10};
    tfc_tensor *part = decode_ok("DecodeJpeg", &tcut, (op_attrs){.try_recover = 1, .fraction = 0.1});
    int rw, rh;
    unsigned char *ref = ref_jpeg_decode(&tall, JCS_RGB, JDCT_IFAST, 1, &rw, &rh);
    CHECK(has_shape(part, 128, 32, 3));
    CHECK(part && !memcmp(tfc_tensor_data(part), ref, 32 * 3 * 16)); /* the first 16 rows */
    free(ref);
    tfc_tensor_free(part);
    expect_error("DecodeJpeg", &tcut, (op_attrs){.try_recover = 1, .fraction = 0.9},
                 TFC_INVALID_ARGUMENT, "of 128 lines");
    free(tall.p);
    free(tall_px);
    mem jhead = {jpg.p, 30, 30};
    expect_error("DecodeJpeg", &jhead, (op_attrs){0}, TFC_INVALID_ARGUMENT, "Invalid JPEG data");
    expect_error("DecodePng", &jpg, (op_attrs){.dtype = TFC_UINT16}, TFC_INVALID_ARGUMENT,
                 "JPEG does not support uint16 output");
    expect_error("DecodeJpeg", &jpg, (op_attrs){.channels = 4}, TFC_INVALID_ARGUMENT,
                 "channels must be 0, 1, or 3 for JPEG");
    free(jpg.p);
    free(px);
}

/* Bad attrs and inputs fail when the node is built, naming it. */
static void test_build_errors(void) {
    static const struct {
        const char *type, *attr, *want;
        int64_t v;
    } cases[] = {
        {"DecodePng", "channels", "channels must be 0, 1, 3, or 4, got 2", 2},
        {"DecodeJpeg", "ratio", "ratio must be 1, 2, 4, or 8, got 3", 3},
    };
    for (int k = 0; k < 2; k++) {
        tfc_graph *g = tfc_graph_new();
        tfc_op_desc *d = tfc_op_new(g, cases[k].type, "img");
        tfc_op_add_input(d, tfc_const_string(g, ""));
        tfc_op_set_attr_int(d, cases[k].attr, cases[k].v);
        CHECK(tfc_op_finish(d) == NULL);
        CHECK_CONTAINS(tfc_graph_error(g), cases[k].want);
        CHECK_CONTAINS(tfc_graph_error(g), "img");
        tfc_graph_free(g);
    }
    tfc_graph *g = tfc_graph_new();
    CHECK(tfc_image_decode_jpeg(g, tfc_const_string(g, ""), 0, 1, "FLOAT").node == NULL);
    CHECK_CONTAINS(tfc_graph_error(g), "dct_method must be one of");
    tfc_graph_free(g);
    g = tfc_graph_new();
    CHECK(tfc_image_decode_png(g, tfc_const_string(g, ""), 0, TFC_FLOAT).node == NULL);
    CHECK_CONTAINS(tfc_graph_error(g), "Type must be uint8 or uint16");
    tfc_graph_free(g);
    g = tfc_graph_new();
    int64_t d2[2] = {2, 2};
    tfc_output x = tfc_placeholder(g, "flat", TFC_UINT8, 2, d2);
    CHECK(tfc_image_encode_png(g, x, -1).node == NULL);
    CHECK_CONTAINS(tfc_graph_error(g), "image must be 3-dimensional");
    tfc_graph_free(g);
    g = tfc_graph_new();
    int64_t d3[3] = {2, 2, 3};
    x = tfc_placeholder(g, "f", TFC_FLOAT, 3, d3);
    CHECK(tfc_image_encode_jpeg(g, x, "", 90).node == NULL);
    CHECK_CONTAINS(tfc_graph_error(g), "image must be uint8");
    tfc_graph_free(g);
    g = tfc_graph_new();
    x = tfc_placeholder(g, "u", TFC_UINT8, 3, d3);
    CHECK(tfc_image_encode_png(g, x, 10).node == NULL);
    CHECK_CONTAINS(tfc_graph_error(g), "compression should be in [-1,9]");
    tfc_graph_free(g);
}

TFC_TEST_MAIN(T(test_decode_png_rgb), T(test_decode_png_kinds), T(test_encode_png),
              T(test_decode_jpeg), T(test_encode_jpeg), T(test_corrupt), T(test_build_errors))
