/* Register tiles for float32 products: the one inner kernel of tfc's own
 * matrix products (gemm_tiles.c) and convolutions (conv_tiles.c), so that
 * a training step calls no library that allocates (oneDNN's sgemm takes
 * a packing buffer from malloc, its primitives an argument map).
 *
 * A tile is up to TILE_ROWS rows of C (12 when narrow: tfc_tile_rows) by
 * up to tfc_tile_width() columns,
 * held in vector registers while it sums, for each segment s in order and
 * each k in order,
 *
 *     C[i, j] += A_s(i, k) * B_s(k, j),
 *     A_s(i, k) = row[i][a_off[s] + k * a_step]   (a_off NULL: offset 0),
 *     B_s(k, j) = b[s * b_seg + k * ldb + j],
 *
 * one fused multiply-add a term. Rows of A are pointers of their own, so
 * that a tile's rows may be pixels of an image (a convolution's window
 * positions) or rows or columns of a matrix; segments let one tile sum
 * over a convolution's window. Each element's sum is the same sequence
 * of operations whatever the tile's size, the CPU's vector width or the
 * thread that runs it: results are bit-identical across thread counts and
 * between the AVX2 and AVX-512 tiles. */
#ifndef TFC_OPS_TILES_H
#define TFC_OPS_TILES_H

#include <stdint.h>

#define TILE_ROWS 6
/* AVX-512 tiles of at most TILE_TALL_COLS columns hold up to 12 rows: the
 * same 24 sums (a 6-row tile of 32 columns runs at 108 GFLOP/s on Zen 4,
 * 12 rows at 113, as 6 x 64) */
#define TILE_ROWS_MOST 12
#define TILE_TALL_COLS 32

/* How a tile starts and ends. */
typedef enum {
    TILE_SET,        /* C = sum */
    TILE_ACCUMULATE, /* the sum starts from C: C = C + terms, term by term */
    TILE_BETA,       /* the sum starts from fl(scale * C) (scale 0: C is not read) */
    TILE_UPDATE      /* C = C + fl(scale * sum): a fused optimizer update */
} tfc_tile_mode;
/* (The first three are where one chain of multiply-adds starts: a product
 * cut along k into blocks, the later ones accumulating, has the same bits
 * as one made whole.) */

/* Columns a tile covers: 64 where the CPU has AVX-512, else 0 (the callers
 * then leave the product to the libraries; so does a build not for
 * x86-64). The AVX2 + FMA tiles (16) run when asked for: TFC_TILES=avx2 in
 * the environment, or tfc_tile_use_width(16) (tests); TFC_TILES=0 turns
 * the tiles off (benchmarks against the libraries). */
int tfc_tile_width(void);

/* Sets the width in use: 64, 16 or 0 (at most what the CPU has), or -1 to
 * go back to what the environment says. Returns the width now in use, or
 * -1 (nothing changed). For tests and benchmarks: not while tiles run. */
int tfc_tile_use_width(int width);

/* The most rows a tile of `cols` columns holds: TILE_ROWS, or
 * TILE_ROWS_MOST for AVX-512 tiles of at most TILE_TALL_COLS columns. */
int tfc_tile_rows(int cols);

/* One tile: rows 0..rows-1 (rows <= tfc_tile_rows(cols)) and columns
 * 0..cols-1 (cols <= tfc_tile_width()) of C at c (row stride ldc), over nseg
 * segments of kseg terms (see above). */
typedef struct tfc_tile_args {
    const float *const *row; /* rows pointers */
    int64_t a_step;
    const int64_t *a_off;
    const float *b;
    int64_t b_seg, ldb;
    int64_t nseg, kseg;
    float *c;
    int64_t ldc;
    tfc_tile_mode mode;
    float scale;
    /* once summed (not with TILE_UPDATE): C[i, j] = fl(C[i, j] + bias[j])
     * where bias is not NULL, then C[i, j] > 0 ? C[i, j] : 0 where relu: a
     * BiasAdd and a Relu fused into the product, their values bit for bit */
    const float *bias;
    int relu;
} tfc_tile_args;

void tfc_register_tile(const tfc_tile_args *t, int rows, int cols);

/* The first of m rows in tile t of `tiles` (ceil(m / rows a tile) or more):
 * tiles whose sizes differ by at most one, the larger first. */
static inline int64_t tfc_tile_first_row(int64_t m, int64_t tiles, int64_t t) {
    int64_t base = m / tiles, extra = m % tiles;
    return t * base + (t < extra ? t : extra);
}

#endif
