/* The passes of a float32 convolution through the register tiles
 * (tiles.h), reading the images where they lie and leaving out the taps
 * that fall on the zero padding:
 *
 *   forward          a tile's rows are output pixels whose windows meet
 *                    the image alike (neighbours in an output row's
 *                    middle, or one edge position in several images);
 *                    the segments are the window's rows on the image (its
 *                    columns and the channels lie next to each other
 *                    there: one run of terms), or each tap of a dilated
 *                    window, read from a zero-padded copy;
 *   backward data    (stride 1) the forward pass over the output gradient,
 *                    as if padded so that every window that reached an
 *                    input pixel finds it, with the filter turned half a
 *                    turn and its channels swapped;
 *   backward filter  a tile's rows are one tap's in-channels, the terms
 *                    the output pixels whose input under the tap lies on
 *                    the image, a segment an output row of one image,
 *                    summed a chunk of images at a time into the filter's
 *                    gradient (fewer than 4 in-channels: rows across the
 *                    taps, over a zero-padded copy).
 *
 * Every sum runs in one fixed order: the bits do not depend on the
 * thread count. */
#include "core/buffer_pool.h"
#include "ops/bfloat16_products.h"
#include "ops/conv_internal.h"
#include "ops/epilogue.h"
#include "ops/tiles.h"

#include <string.h>

/* at most this many segments a tile (window rows, or taps when dilated) */
#define MAX_WINDOW_SEGMENTS 256
/* bytes of the output gradient the filter pass sums per chunk (stays in L2) */
#define FILTER_CHUNK_BYTES (96 * 1024)
#define FILTER_CHUNK_SEGMENTS 256
/* terms a segment holds at the least for a forward pass's tiles to be tall */
#define TALL_KSEG_LEAST 16
/* multiply-adds a thread's range should hold at the least */
#define RANGE_WORK ((int64_t)1 << 17)

/* NHWC images with `top` rows and `left` columns of zeros before them and
 * as many after as fill hp x wp (what lies beyond is cut off). */
typedef struct padding {
    const float *src;
    int64_t h, w, c, top, left, hp, wp;
    float *dst;
} padding;

static void pad_images(void *arg, int64_t begin, int64_t end) {
    const padding *p = arg;
    const int64_t row = p->wp * p->c;
    /* destination columns [x0, x1) hold source columns [x0 - left, x1 - left) */
    int64_t x0 = p->left, x1 = p->left + p->w < p->wp ? p->left + p->w : p->wp;
    for (int64_t img = begin; img < end; img++) {
        float *d = p->dst + img * p->hp * row;
        const float *s = p->src + img * p->h * p->w * p->c;
        for (int64_t y = 0; y < p->hp; y++, d += row) {
            int64_t sy = y - p->top;
            if (sy < 0 || sy >= p->h || x1 <= x0) {
                memset(d, 0, sizeof(float) * (size_t)row);
                continue;
            }
            memset(d, 0, sizeof(float) * (size_t)(x0 * p->c));
            memcpy(d + x0 * p->c, s + sy * p->w * p->c, sizeof(float) * (size_t)((x1 - x0) * p->c));
            memset(d + x1 * p->c, 0, sizeof(float) * (size_t)((p->wp - x1) * p->c));
        }
    }
}

/* A forward pass: out[n, oh, ow, o] from images [n, h, w, c] padded by
 * (top, left) and a filter [fh, fw, c, o], stride (sh, sw), dilation
 * (dh, dw). The taps
 * that fall on the padding are left out rather than summed as zeros (a
 * sixth of a 5x5 SAME convolution's terms on 14 x 14 images), so a tile's
 * pixels share which taps fall on the image: those of an output row's
 * middle, where every column of the window does (a tile of neighbours in
 * the row), or of one output position near the left or right edge in up
 * to a tile's rows of images (a tile across the batch). A dilated window, whose
 * taps along a row are apart, leaves out only its rows. */
typedef struct forward_job {
    const float *img, *f;        /* img: the images, or their padded copies (dilated windows) */
    int64_t bh, bw, ptop, pleft; /* img's images' size, and the padding they hold */
    int64_t n, c, fh, fw, o, sh, sw, dh, dw, oh, ow, top, left, h, w;
    int64_t middle_lo, middle_hi;   /* output columns whose window rows lie on the image */
    int64_t row_tiles, batch_tiles; /* tiles an output row's middle, and an edge position */
    int64_t middle_count, tiles;    /* tiles of the middles; of all */
    int64_t a_off[MAX_WINDOW_SEGMENTS];
    int64_t kseg, b_seg, seg_rows; /* seg_rows: segments a window row */
    float *out;
    const tfc_epilogue *ep; /* in each tile's registers once summed (a fused bias, relu) */
} forward_job;

/* [*lo, *hi): the i in [0, count) whose i * step lies in [from, end), the
 * positions of a window's taps, or of its outputs, that meet the image */
static void on_image(int64_t step, int64_t from, int64_t end, int64_t count, int64_t *lo,
                     int64_t *hi) {
    *lo = from <= 0 ? 0 : (from + step - 1) / step;
    *hi = end <= 0 ? 0 : (end - 1) / step + 1;
    if (*hi > count) *hi = count;
    if (*lo > *hi) *lo = *hi;
}

/* the taps [*lo, *hi) of a window (k taps, dilation d) at output position
 * o (stride s) that fall on the image's `size` positions from `first` on */
static void taps_on_image(int64_t o, int64_t s, int64_t d, int64_t k, int64_t first, int64_t size,
                          int64_t *lo, int64_t *hi) {
    on_image(d, first - o * s, first + size - o * s, k, lo, hi);
}

static void forward_tiles(void *arg, int64_t begin, int64_t end) {
    const forward_job *j = arg;
    const float *rows[TILE_ROWS_MOST];
    const int64_t width = tfc_tile_width(), runs = j->dw == 1;
    tfc_tile_args t = {.row = rows,
                       .a_step = 1,
                       .b_seg = j->b_seg,
                       .ldb = j->o,
                       .mode = TILE_SET,
                       .relu = j->ep && j->ep->relu};
    for (int64_t tile = begin; tile < end; tile++) {
        int64_t img, oy, ox, kx_lo = 0, kx_hi = j->fw, ky_lo, ky_hi, step, nr;
        if (tile < j->middle_count) { /* neighbours in a row's middle */
            int64_t row = tile / j->row_tiles, part = tile % j->row_tiles;
            int64_t span = j->middle_hi - j->middle_lo;
            img = row / j->oh, oy = row % j->oh;
            ox = j->middle_lo + tfc_tile_first_row(span, j->row_tiles, part);
            nr = j->middle_lo + tfc_tile_first_row(span, j->row_tiles, part + 1) - ox;
            step = 1; /* pixels apart in the output */
        } else {      /* one edge position, images after images */
            int64_t e = tile - j->middle_count, pos = e / j->batch_tiles, part = e % j->batch_tiles;
            int64_t edges = j->ow - (j->middle_hi - j->middle_lo), col = pos % edges;
            oy = pos / edges;
            ox = col < j->middle_lo ? col : j->middle_hi + (col - j->middle_lo);
            img = tfc_tile_first_row(j->n, j->batch_tiles, part);
            nr = tfc_tile_first_row(j->n, j->batch_tiles, part + 1) - img;
            step = j->oh * j->ow;
            if (runs) taps_on_image(ox, j->sw, 1, j->fw, j->left, j->w, &kx_lo, &kx_hi);
        }
        taps_on_image(oy, j->sh, j->dh, j->fh, j->top, j->h, &ky_lo, &ky_hi);
        int empty = ky_hi == ky_lo || kx_hi == kx_lo; /* (the tile is zeros) */
        /* each row points at its window's first tap on the image */
        int64_t by = oy * j->sh + ky_lo * j->dh - j->top + j->ptop;
        for (int64_t i = 0; i < nr; i++) {
            int64_t im = step == 1 ? img : img + i, x = step == 1 ? ox + i : ox;
            int64_t bx = x * j->sw + kx_lo - j->left + j->pleft;
            rows[i] = empty ? j->img : j->img + ((im * j->bh + by) * j->bw + bx) * j->c;
        }
        t.a_off = j->a_off;
        t.nseg = empty ? 0 : (ky_hi - ky_lo) * j->seg_rows;
        t.kseg = runs ? (kx_hi - kx_lo) * j->c : j->c;
        t.ldc = step * j->o;
        for (int64_t j0 = 0; j0 < j->o; j0 += width) {
            t.b = j->f + ky_lo * j->seg_rows * j->b_seg + kx_lo * j->c * j->o + j0;
            t.c = j->out + ((img * j->oh + oy) * j->ow + ox) * j->o + j0;
            t.bias = j->ep && j->ep->bias ? (const float *)j->ep->bias + j0 : NULL;
            tfc_register_tile(&t, (int)nr, (int)(j->o - j0 < width ? j->o - j0 : width));
        }
    }
}

static int64_t grain_of(int64_t tile_work) { return 1 + RANGE_WORK / (tile_work ? tile_work : 1); }

/* The forward pass over images `src` [n, h, w, c] padded by (top, left):
 * 1, or 0 when left undone (too many taps, no scratch memory). */
static int forward(tfc_threadpool *pool, const float *src, int64_t n, int64_t h, int64_t w,
                   int64_t c, int64_t top, int64_t left, const float *f, int64_t fh, int64_t fw,
                   int64_t o, int64_t sh, int64_t sw, int64_t dh, int64_t dw, int64_t oh,
                   int64_t ow, float *out, const tfc_epilogue *ep) {
    forward_job j = {.f = f,
                     .ep = ep,
                     .c = c,
                     .fh = fh,
                     .fw = fw,
                     .o = o,
                     .sh = sh,
                     .sw = sw,
                     .dh = dh,
                     .dw = dw,
                     .oh = oh,
                     .ow = ow,
                     .top = top,
                     .left = left,
                     .h = h,
                     .w = w,
                     .n = n,
                     .out = out};
    /* a window's row is one run of fw x c terms where the taps touch: the
     * images are read where they lie. A dilated window's taps that fall on
     * the padding left or right are summed as zeros, from a padded copy. */
    int runs = dw == 1;
    j.img = src, j.bh = h, j.bw = w;
    if (!runs) {
        j.bh = (oh - 1) * sh + (fh - 1) * dh + 1, j.bw = (ow - 1) * sw + (fw - 1) * dw + 1;
        j.ptop = top, j.pleft = left;
    }
    j.seg_rows = runs ? 1 : fw;
    int64_t nseg = runs ? fh : fh * fw;
    if (nseg > MAX_WINDOW_SEGMENTS) return 0;
    j.kseg = runs ? fw * c : c;
    j.b_seg = j.kseg * o;
    for (int64_t s = 0; s < nseg; s++) {
        int64_t ky = runs ? s : s / fw, kx = runs ? 0 : s % fw;
        j.a_off[s] = (ky * dh * j.bw + kx * dw) * c;
    }
    size_t bytes = runs ? 0 : sizeof(float) * (size_t)(n * j.bh * j.bw * c);
    float *padded = runs ? NULL : tfc_block_alloc(bytes);
    if (!runs && !padded) return 0;
    if (padded) {
        padding p = {src, h, w, c, top, left, j.bh, j.bw, padded};
        tfc_parallel_for(pool, n, 1 + RANGE_WORK / (j.bh * j.bw * c + 1), pad_images, &p);
        j.img = padded;
    }
    /* the middle: output columns whose window columns all fall on the
     * image (dilated windows: every column, the padding summed as zeros) */
    j.middle_lo = 0, j.middle_hi = ow;
    if (runs) {
        j.middle_lo = (left + sw - 1) / sw;
        j.middle_hi = left + w - fw < 0 ? 0 : (left + w - fw) / sw + 1;
        if (j.middle_hi > ow) j.middle_hi = ow;
        if (j.middle_lo > j.middle_hi) j.middle_lo = j.middle_hi = 0; /* all edges */
    }
    /* rows a tile: the tall tiles where a segment holds terms enough to pay
     * for their 12 rows' pointers (not the first layer's 5 x 1 runs) */
    const int64_t tall = j.kseg < TALL_KSEG_LEAST
                             ? TILE_ROWS
                             : tfc_tile_rows((int)(o < tfc_tile_width() ? o : tfc_tile_width()));
    j.row_tiles = (j.middle_hi - j.middle_lo + tall - 1) / tall;
    j.batch_tiles = (n + tall - 1) / tall;
    j.middle_count = n * oh * j.row_tiles;
    j.tiles = j.middle_count + oh * (ow - (j.middle_hi - j.middle_lo)) * j.batch_tiles;
    tfc_parallel_for(pool, j.tiles, grain_of(tall * o * fh * fw * c), forward_tiles, &j);
    if (padded) tfc_block_free(padded, bytes);
    return 1;
}

/* out[kh, kw, ci, co] = sum of x[.., y*sh + kh*dh, x*sw + kw*dw, ci] dy[.., y, x, co] */
typedef struct filter_job {
    const float *img, *dy;
    int64_t hp, wp, c, fh, fw, o, sh, sw, dh, dw, oh, ow, segments, chunk, rows, tiles;
    float *out;
} filter_job;

static void filter_tiles(void *arg, int64_t begin, int64_t end) {
    const filter_job *j = arg;
    const float *rows[TILE_ROWS_MOST];
    int64_t a_off[FILTER_CHUNK_SEGMENTS];
    const int64_t width = tfc_tile_width();
    tfc_tile_args t = {.row = rows,
                       .a_step = j->sw * j->c,
                       .a_off = a_off,
                       .b_seg = j->ow * j->o,
                       .ldb = j->o,
                       .kseg = j->ow,
                       .ldc = j->o};
    for (int64_t s0 = 0; s0 < j->segments; s0 += j->chunk) {
        int64_t s1 = s0 + j->chunk < j->segments ? s0 + j->chunk : j->segments;
        for (int64_t s = s0; s < s1; s++)
            a_off[s - s0] = ((s / j->oh * j->hp + s % j->oh * j->sh) * j->wp) * j->c;
        t.nseg = s1 - s0;
        t.mode = s0 ? TILE_ACCUMULATE : TILE_SET;
        for (int64_t tile = begin; tile < end; tile++) {
            int64_t r0 = tfc_tile_first_row(j->rows, j->tiles, tile);
            int nr = (int)(tfc_tile_first_row(j->rows, j->tiles, tile + 1) - r0);
            for (int i = 0; i < nr; i++) {
                int64_t r = r0 + i, ky = r / (j->fw * j->c), kx = r / j->c % j->fw, ci = r % j->c;
                rows[i] = j->img + (ky * j->dh * j->wp + kx * j->dw) * j->c + ci;
            }
            for (int64_t j0 = 0; j0 < j->o; j0 += width) {
                t.b = j->dy + s0 * j->ow * j->o + j0;
                t.c = j->out + r0 * j->o + j0;
                tfc_register_tile(&t, nr, (int)(j->o - j0 < width ? j->o - j0 : width));
            }
        }
    }
}

/* The filter pass where a tap's in-channels fill tiles (c >= TAP_ROWS_LEAST):
 * a tile's rows share one tap, so it sums only the output pixels whose
 * input under that tap lies on the image (a sixth fewer terms for a 5x5
 * SAME convolution on 14 x 14), reading the images where they lie. */
#define TAP_ROWS_LEAST 4

typedef struct tap_job {
    const float *x, *dy;
    const tfc_conv_geom *q;
    int64_t tap_tiles, tiles, images_a_chunk;
    float *out;
} tap_job;

/* the output positions [*lo, *hi) (n of them, stride s) whose input under
 * tap k (dilation d, leading padding p) falls on the image's size */
static void positions_on_image(int64_t k, int64_t s, int64_t d, int64_t p, int64_t size, int64_t n,
                               int64_t *lo, int64_t *hi) {
    on_image(s, p - k * d, size + p - k * d, n, lo, hi);
}

static void tap_tiles(void *arg, int64_t begin, int64_t end) {
    const tap_job *j = arg;
    const tfc_conv_geom *q = j->q;
    const float *rows[TILE_ROWS_MOST];
    int64_t a_off[FILTER_CHUNK_SEGMENTS];
    const int64_t width = tfc_tile_width(), image = q->h * q->w * q->c;
    for (int64_t s = 0; s < FILTER_CHUNK_SEGMENTS; s++) a_off[s] = s * q->sh * q->w * q->c;
    tfc_tile_args t = {.row = rows,
                       .a_step = q->sw * q->c,
                       .a_off = a_off,
                       .b_seg = q->ow * q->o,
                       .ldb = q->o,
                       .ldc = q->o};
    for (int64_t i0 = 0; i0 < q->n; i0 += j->images_a_chunk) {
        int64_t i1 = i0 + j->images_a_chunk < q->n ? i0 + j->images_a_chunk : q->n;
        for (int64_t tile = begin; tile < end; tile++) {
            int64_t tap = tile / j->tap_tiles, part = tile % j->tap_tiles;
            int64_t ky = tap / q->fw, kx = tap % q->fw, y0, y1, x0, x1;
            int64_t ci = tfc_tile_first_row(q->c, j->tap_tiles, part);
            int nr = (int)(tfc_tile_first_row(q->c, j->tap_tiles, part + 1) - ci);
            positions_on_image(ky, q->sh, q->dh, q->ph, q->h, q->oh, &y0, &y1);
            positions_on_image(kx, q->sw, q->dw, q->pw, q->w, q->ow, &x0, &x1);
            float *c = j->out + (tap * q->c + ci) * q->o;
            if (y0 == y1 || x0 == x1) { /* the tap never falls on the image */
                if (i0 == 0) memset(c, 0, sizeof(float) * (size_t)(nr * q->o));
                continue;
            }
            /* the input under the tap at output (y0, x0) of the first image */
            int64_t first =
                ((y0 * q->sh + ky * q->dh - q->ph) * q->w + (x0 * q->sw + kx * q->dw - q->pw)) *
                    q->c +
                ci;
            t.kseg = x1 - x0;
            for (int64_t img = i0; img < i1; img++)
                for (int64_t y = y0; y < y1; y += FILTER_CHUNK_SEGMENTS) {
                    const float *at = j->x + img * image + first + (y - y0) * q->sh * q->w * q->c;
                    for (int i = 0; i < nr; i++) rows[i] = at + i;
                    t.nseg = y1 - y < FILTER_CHUNK_SEGMENTS ? y1 - y : FILTER_CHUNK_SEGMENTS;
                    t.mode = img == 0 && y == y0 ? TILE_SET : TILE_ACCUMULATE;
                    for (int64_t j0 = 0; j0 < q->o; j0 += width) {
                        t.b = j->dy + ((img * q->oh + y) * q->ow + x0) * q->o + j0;
                        t.c = c + j0;
                        tfc_register_tile(&t, nr, (int)(q->o - j0 < width ? q->o - j0 : width));
                    }
                }
        }
    }
}

static int backward_filter(tfc_threadpool *pool, const tfc_conv_geom *q, const float *x,
                           const float *dy, float *out) {
    const int64_t tall = tfc_tile_rows((int)(q->o < tfc_tile_width() ? q->o : tfc_tile_width()));
    if (q->c >= TAP_ROWS_LEAST) {
        tap_job j = {.x = x, .dy = dy, .q = q, .tap_tiles = (q->c + tall - 1) / tall, .out = out};
        j.tiles = q->fh * q->fw * j.tap_tiles;
        j.images_a_chunk = FILTER_CHUNK_BYTES / (int64_t)sizeof(float) / (q->oh * q->ow * q->o);
        if (j.images_a_chunk < 1) j.images_a_chunk = 1;
        tfc_parallel_for(pool, j.tiles, grain_of(tall * q->o * q->n * q->oh * q->ow), tap_tiles,
                         &j);
        return 1;
    }
    filter_job j = {.dy = dy,
                    .hp = (q->oh - 1) * q->sh + (q->fh - 1) * q->dh + 1,
                    .wp = (q->ow - 1) * q->sw + (q->fw - 1) * q->dw + 1,
                    .c = q->c,
                    .fh = q->fh,
                    .fw = q->fw,
                    .o = q->o,
                    .sh = q->sh,
                    .sw = q->sw,
                    .dh = q->dh,
                    .dw = q->dw,
                    .oh = q->oh,
                    .ow = q->ow,
                    .segments = q->n * q->oh,
                    .rows = q->fh * q->fw * q->c,
                    .out = out};
    j.chunk = FILTER_CHUNK_BYTES / (int64_t)sizeof(float) / (q->ow * q->o);
    j.chunk = j.chunk < 1 ? 1 : j.chunk > FILTER_CHUNK_SEGMENTS ? FILTER_CHUNK_SEGMENTS : j.chunk;
    size_t bytes = sizeof(float) * (size_t)(q->n * j.hp * j.wp * q->c);
    float *img = tfc_block_alloc(bytes);
    if (!img) return 0;
    padding p = {x, q->h, q->w, q->c, q->ph, q->pw, j.hp, j.wp, img};
    tfc_parallel_for(pool, q->n, 1 + RANGE_WORK / (j.hp * j.wp * q->c + 1), pad_images, &p);
    j.img = img;
    j.tiles = (j.rows + tall - 1) / tall;
    tfc_parallel_for(pool, j.tiles, grain_of(tall * q->o * q->n * q->oh * q->ow), filter_tiles, &j);
    tfc_block_free(img, bytes);
    return 1;
}

/* filter [fh, fw, c, o] turned half a turn, channels swapped: [fh, fw, o, c] */
typedef struct turning {
    const tfc_conv_geom *q;
    const float *f;
    float *to;
} turning;

static void turn_taps(void *arg, int64_t begin, int64_t end) {
    const turning *t = arg;
    const tfc_conv_geom *q = t->q;
    for (int64_t tap = begin; tap < end; tap++) {
        int64_t ky = tap / q->fw, kx = tap % q->fw;
        const float *from = t->f + ((q->fh - 1 - ky) * q->fw + (q->fw - 1 - kx)) * q->c * q->o;
        float *to = t->to + tap * q->o * q->c;
        for (int64_t ci = 0; ci < q->c; ci++)
            for (int64_t co = 0; co < q->o; co++) to[co * q->c + ci] = from[ci * q->o + co];
    }
}

static int backward_data(tfc_threadpool *pool, const tfc_conv_geom *q, const float *f,
                         const float *dy, float *out) {
    int64_t top = (q->fh - 1) * q->dh - q->ph, left = (q->fw - 1) * q->dw - q->pw;
    if (q->sh != 1 || q->sw != 1 || top < 0 || left < 0) return 0;
    size_t bytes = sizeof(float) * (size_t)(q->fh * q->fw * q->c * q->o);
    float *turned = tfc_block_alloc(bytes);
    if (!turned) return 0;
    turning turn = {q, f, turned};
    tfc_parallel_for(pool, q->fh * q->fw, 1 + RANGE_WORK / (q->c * q->o), turn_taps, &turn);
    int done = forward(pool, dy, q->n, q->oh, q->ow, q->o, top, left, turned, q->fh, q->fw, q->c, 1,
                       1, q->dh, q->dw, q->h, q->w, out, NULL);
    tfc_block_free(turned, bytes);
    return done;
}

int tfc_conv_tiles_forward(tfc_kernel_ctx *c, const tfc_conv_geom *q, const float *x,
                           const float *f, float *out, const tfc_epilogue *ep) {
    /* (bfloat16 products: conv_dnnl.c rounds the operands) */
    if (!tfc_tile_width() || tfc_bf16_products_on(c)) return 0;
    return forward(c->pool, x, q->n, q->h, q->w, q->c, q->ph, q->pw, f, q->fh, q->fw, q->o, q->sh,
                   q->sw, q->dh, q->dw, q->oh, q->ow, out, ep);
}

int tfc_conv_tiles(tfc_kernel_ctx *c, int pass, const tfc_conv_geom *q, const float *x,
                   const float *f, const float *dy, float *out) {
    if (pass == TFC_CONV_FORWARD) return tfc_conv_tiles_forward(c, q, x, f, out, NULL);
    /* (bfloat16 products: conv_dnnl.c rounds the operands) */
    if (!tfc_tile_width() || tfc_bf16_products_on(c)) return 0;
    if (pass == TFC_CONV_BACKWARD_DATA) return backward_data(c->pool, q, f, dy, out);
    return backward_filter(c->pool, q, x, dy, out);
}
