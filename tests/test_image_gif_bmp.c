/* DecodeGif (GIFs written here with giflib, animated and transparent),
 * DecodeBmp (BMPs written here by hand: 24/32-bit, bottom-up and
 * top-down, padded rows), DecodeImage over both, and their errors, each
 * naming the node. */
#include "harness.h"

#include <gif_lib.h>
#include <stdlib.h>
#include <string.h>

typedef struct mem {
    unsigned char *p;
    size_t n, cap;
} mem;

static int mem_put(GifFileType *gif, const GifByteType *d, int n) {
    mem *m = gif->UserData;
    if (m->n + (size_t)n > m->cap) {
        m->cap = (m->n + (size_t)n) * 2;
        m->p = realloc(m->p, m->cap);
    }
    memcpy(m->p + m->n, d, (size_t)n);
    m->n += (size_t)n;
    return n;
}

enum { W = 4, H = 3 };
static const GifColorType palette[4] = {{10, 20, 30}, {255, 0, 0}, {0, 255, 0}, {0, 0, 255}};

/* frame 0: the whole 4x3 canvas, index (x + y) % 4; frame 1: a 2x2
 * patch at (1, 1) whose index 3 is transparent */
static const GifByteType frame0[W * H] = {0, 1, 2, 3, 1, 2, 3, 0, 2, 3, 0, 1};
static const GifByteType frame1[4] = {1, 3, 2, 3};

static mem make_gif(int frames) {
    mem m = {NULL, 0, 0};
    int err = 0;
    GifFileType *gif = EGifOpen(&m, mem_put, &err);
    CHECK(gif != NULL);
    EGifSetGifVersion(gif, true);
    ColorMapObject *map = GifMakeMapObject(4, palette);
    EGifPutScreenDesc(gif, W, H, 8, 0, map);
    EGifPutImageDesc(gif, 0, 0, W, H, false, NULL);
    GifPixelType line[W * H]; /* giflib masks the pixels in place */
    memcpy(line, frame0, sizeof frame0);
    EGifPutLine(gif, line, W * H);
    if (frames > 1) {
        GraphicsControlBlock gcb = {0, false, 10, 3};
        GifByteType ext[4];
        size_t len = EGifGCBToExtension(&gcb, ext);
        EGifPutExtension(gif, GRAPHICS_EXT_FUNC_CODE, (int)len, ext);
        EGifPutImageDesc(gif, 1, 1, 2, 2, false, NULL);
        memcpy(line, frame1, sizeof frame1);
        EGifPutLine(gif, line, 4);
    }
    CHECK(EGifCloseFile(gif, &err) == GIF_OK);
    GifFreeMapObject(map);
    return m;
}

/* the expected RGB of frame k (0 or 1) at (x, y) */
static const GifColorType *expected(int k, int x, int y) {
    int idx = frame0[y * W + x];
    if (k == 1 && x >= 1 && x <= 2 && y >= 1 && y <= 2) {
        int f = frame1[(y - 1) * 2 + (x - 1)];
        if (f != 3) idx = f;
    }
    return &palette[idx];
}

/* Runs op `type` (channels attr unless < 0; DecodeImage: dtype, expand) */
static tfc_tensor *run(const char *type, const mem *data, int channels, tfc_dtype dtype,
                       int expand, tfc_status *st) {
    tfc_graph *g = tfc_graph_new();
    tfc_output in = tfc_placeholder(g, "contents", TFC_STRING, 0, NULL);
    tfc_op_desc *d = tfc_op_new(g, type, "decode");
    tfc_op_add_input(d, in);
    if (channels >= 0) tfc_op_set_attr_int(d, "channels", channels);
    if (dtype) tfc_op_set_attr_type(d, "dtype", dtype);
    if (expand >= 0) tfc_op_set_attr_bool(d, "expand_animations", expand);
    tfc_output out = tfc_out(tfc_op_finish(d), 0);
    CHECK_GRAPH_OK(g);
    tfc_tensor *v = tfc_tensor_scalar_string((const char *)data->p, data->n);
    tfc_session *s = tfc_session_new(g, NULL, st);
    tfc_tensor *r = NULL;
    tfc_session_run(s, &in, &v, 1, &out, 1, &r, NULL, 0, st);
    tfc_session_free(s);
    tfc_tensor_free(v);
    tfc_graph_free(g);
    return r;
}

static tfc_tensor *run_ok(const char *type, const mem *data, int channels, tfc_dtype dtype,
                          int expand) {
    tfc_status *st = tfc_status_new();
    tfc_tensor *r = run(type, data, channels, dtype, expand, st);
    CHECK_STATUS_OK(st);
    tfc_status_free(st);
    return r;
}

static void run_fails(const char *type, const mem *data, int channels, const char *want) {
    tfc_status *st = tfc_status_new();
    tfc_tensor *r = run(type, data, channels, 0, -1, st);
    CHECK(r == NULL);
    CHECK_MSG(tfc_status_code(st) == TFC_INVALID_ARGUMENT, "%d: %s", tfc_status_code(st),
              tfc_status_message(st));
    CHECK_CONTAINS(tfc_status_message(st), want);
    CHECK_CONTAINS(tfc_status_message(st), "decode");
    tfc_tensor_free(r);
    tfc_status_free(st);
}

static int frames_match(const tfc_tensor *t, int nframes, int first) {
    const uint8_t *p = tfc_tensor_data(t);
    int ok = 1;
    for (int k = 0; k < nframes; k++)
        for (int y = 0; y < H; y++)
            for (int x = 0; x < W; x++) {
                const GifColorType *c = expected(first + k, x, y);
                const uint8_t *px = p + (((size_t)k * H + y) * W + x) * 3;
                ok &= px[0] == c->Red && px[1] == c->Green && px[2] == c->Blue;
            }
    return ok;
}

static void test_gif_animated(void) {
    mem gif = make_gif(2);
    tfc_tensor *t = run_ok("DecodeGif", &gif, -1, 0, -1);
    CHECK(t && tfc_tensor_rank(t) == 4 && tfc_tensor_dim(t, 0) == 2 && tfc_tensor_dim(t, 1) == H &&
          tfc_tensor_dim(t, 2) == W && tfc_tensor_dim(t, 3) == 3);
    /* frame 1 is frame 0 with the patch, its transparent pixels kept */
    CHECK(t && frames_match(t, 2, 0));
    tfc_tensor_free(t);
    /* DecodeImage: 4-D with expand_animations, else the first frame 3-D */
    t = run_ok("DecodeImage", &gif, 0, TFC_UINT8, 1);
    CHECK(t && tfc_tensor_rank(t) == 4 && frames_match(t, 2, 0));
    tfc_tensor_free(t);
    t = run_ok("DecodeImage", &gif, 0, TFC_UINT8, 0);
    CHECK(t && tfc_tensor_rank(t) == 3 && frames_match(t, 1, 0));
    tfc_tensor_free(t);
    /* the 3-D decoders refuse an animation */
    run_fails("DecodePng", &gif, 0, "Got 2 frames, but animated gifs can only be decoded by");
    free(gif.p);
}

static void test_gif_single(void) {
    mem gif = make_gif(1);
    tfc_tensor *t = run_ok("DecodeGif", &gif, -1, 0, -1);
    CHECK(t && tfc_tensor_rank(t) == 4 && tfc_tensor_dim(t, 0) == 1 && frames_match(t, 1, 0));
    tfc_tensor_free(t);
    /* DecodeJpeg and DecodePng decode a one-frame GIF as [h, w, 3] */
    t = run_ok("DecodeJpeg", &gif, 0, 0, -1);
    CHECK(t && tfc_tensor_rank(t) == 3 && tfc_tensor_dim(t, 0) == H && frames_match(t, 1, 0));
    tfc_tensor_free(t);
    /* float: v / 255 */
    t = run_ok("DecodeImage", &gif, 3, TFC_FLOAT, 1);
    CHECK(t && tfc_tensor_dtype(t) == TFC_FLOAT && tfc_tensor_rank(t) == 4);
    if (t) CHECK_NEAR(((const float *)tfc_tensor_data(t))[0], 10.0 / 255.0, 1e-6);
    tfc_tensor_free(t);
    run_fails("DecodeGif", &(mem){gif.p, gif.n / 2, 0}, -1, "Invalid GIF data (size");
    run_fails("DecodeImage", &gif, 1, "channels must be 0 or 3 for GIF");
    run_fails("DecodeBmp", &gif, 0, "Trying to decode GIF format using DecodeBmp op");
    free(gif.p);
}

/* ---- BMP ---- */

static void put32(unsigned char *p, int32_t v) {
    for (int i = 0; i < 4; i++) p[i] = (unsigned char)((uint32_t)v >> (8 * i));
}

/* A BMP of w x |h| pixels of `bpp` bits: rgb(a) at (x, y) (y from the top)
 * is (x * 40 + y, y * 50 + 1, x + y * 7, 200 + x); rows padded to 4. */
static mem make_bmp(int w, int h, int bpp) {
    int ch = bpp / 8, row = (ch * w + 3) / 4 * 4, ah = h < 0 ? -h : h;
    size_t n = 54 + (size_t)row * (size_t)ah;
    mem m = {calloc(1, n), n, n};
    m.p[0] = 'B';
    m.p[1] = 'M';
    put32(m.p + 2, (int32_t)n);
    put32(m.p + 10, 54);
    put32(m.p + 14, 40);
    put32(m.p + 18, w);
    put32(m.p + 22, h);
    m.p[26] = 1;
    m.p[28] = (unsigned char)bpp;
    for (int y = 0; y < ah; y++) {
        int file_row = h < 0 ? y : ah - 1 - y; /* bottom-up unless h < 0 */
        unsigned char *r = m.p + 54 + (size_t)file_row * (size_t)row;
        for (int x = 0; x < w; x++) {
            unsigned char *px = r + x * ch;
            if (ch == 1) {
                px[0] = (unsigned char)(x * 40 + y);
                continue;
            }
            px[2] = (unsigned char)(x * 40 + y);
            px[1] = (unsigned char)(y * 50 + 1);
            px[0] = (unsigned char)(x + y * 7);
            if (ch == 4) px[3] = (unsigned char)(200 + x);
        }
    }
    return m;
}

static int bmp_matches(const tfc_tensor *t, int w, int h, int file_ch, int ch) {
    if (!t || tfc_tensor_rank(t) != 3 || tfc_tensor_dim(t, 0) != h || tfc_tensor_dim(t, 1) != w ||
        tfc_tensor_dim(t, 2) != ch)
        return 0;
    const uint8_t *p = tfc_tensor_data(t);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            const uint8_t *px = p + ((size_t)y * w + x) * ch;
            uint8_t want[4] = {(uint8_t)(x * 40 + y), (uint8_t)(y * 50 + 1), (uint8_t)(x + y * 7),
                               file_ch == 4 ? (uint8_t)(200 + x) : 255};
            if (file_ch == 1) want[1] = want[2] = want[0];
            for (int c = 0; c < ch; c++)
                if (px[c] != want[c]) return 0;
        }
    return 1;
}

static void test_bmp(void) {
    /* 24-bit bottom-up, 3 wide: 9-byte rows padded to 12 */
    mem b24 = make_bmp(3, 2, 24);
    tfc_tensor *t = run_ok("DecodeBmp", &b24, 0, 0, -1);
    CHECK(bmp_matches(t, 3, 2, 3, 3));
    tfc_tensor_free(t);
    t = run_ok("DecodeBmp", &b24, 4, 0, -1); /* alpha added: 255 */
    CHECK(bmp_matches(t, 3, 2, 3, 4));
    tfc_tensor_free(t);
    /* 32-bit top-down */
    mem b32 = make_bmp(2, -3, 32);
    t = run_ok("DecodeBmp", &b32, 0, 0, -1);
    CHECK(bmp_matches(t, 2, 3, 4, 4));
    tfc_tensor_free(t);
    t = run_ok("DecodeBmp", &b32, 3, 0, -1); /* alpha dropped */
    CHECK(bmp_matches(t, 2, 3, 4, 3));
    tfc_tensor_free(t);
    /* 8-bit gray, 5 wide (rows padded to 8) */
    mem b8 = make_bmp(5, 2, 8);
    t = run_ok("DecodeBmp", &b8, 0, 0, -1);
    CHECK(bmp_matches(t, 5, 2, 1, 1));
    tfc_tensor_free(t);
    /* DecodeImage: uint16 is v * 256 */
    t = run_ok("DecodeImage", &b24, 0, TFC_UINT16, 1);
    CHECK(t && tfc_tensor_dtype(t) == TFC_UINT16 && tfc_tensor_rank(t) == 3);
    if (t) CHECK(((const uint16_t *)tfc_tensor_data(t))[0] == 0 * 256 &&
                 ((const uint16_t *)tfc_tensor_data(t))[1] == 1 * 256);
    tfc_tensor_free(t);

    /* errors */
    mem cut = {b24.p, b24.n - 1, 0};
    run_fails("DecodeBmp", &cut, 0, "Input size should match (header_size + row_size * abs_height)");
    run_fails("DecodeBmp", &(mem){b24.p, 20, 0}, 0, "Incomplete bmp content");
    run_fails("DecodePng", &b24, 0, "Trying to decode BMP format using a wrong op");
    b24.p[28] = 16;
    run_fails("DecodeBmp", &b24, 0, "Number of channels inherent in the image must be 1, 3 or 4");
    b24.p[28] = 24;
    put32(b24.p + 18, 0);
    run_fails("DecodeBmp", &b24, 0, "Width must be positive");
    free(b24.p);
    free(b32.p);
    free(b8.p);
}

static void test_build_errors(void) {
    tfc_graph *g = tfc_graph_new();
    tfc_output in = tfc_placeholder(g, "contents", TFC_STRING, 0, NULL);
    tfc_image_decode_bmp(g, in, 1);
    CHECK(tfc_graph_error(g) && strstr(tfc_graph_error(g), "channels must be 0, 3 or 4 for BMP"));
    tfc_graph_free(g);
    g = tfc_graph_new();
    in = tfc_placeholder(g, "contents", TFC_STRING, 0, NULL);
    tfc_output o = tfc_image_decode_gif(g, in);
    CHECK_GRAPH_OK(g);
    tfc_shape s = {0, {0}};
    (void)s;
    CHECK(o.node != NULL);
    o = tfc_image_decode_image(g, in, 0, TFC_INT32, 1);
    CHECK(tfc_graph_error(g) && strstr(tfc_graph_error(g), "dtype must be uint8, uint16 or float32"));
    tfc_graph_free(g);
}

TFC_TEST_MAIN(T(test_gif_animated), T(test_gif_single), T(test_bmp), T(test_build_errors))
