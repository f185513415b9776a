/* The register tiles' widths this CPU has (src/ops/tiles.h), for tests
 * that run their checks on each: 64 (AVX-512) and 16 (AVX2), and with
 * `with_none` 0 too (the libraries' paths). Leaves the width in use as the
 * environment says. */
#ifndef TFC_TESTS_TILE_WIDTHS_H
#define TFC_TESTS_TILE_WIDTHS_H

#include "ops/tiles.h"

static inline int tile_widths_to_try(int *w, int with_none) {
    int n = 0;
    if (tfc_tile_use_width(64) == 64) w[n++] = 64;
    if (tfc_tile_use_width(16) == 16) w[n++] = 16;
    if (with_none) w[n++] = 0;
    tfc_tile_use_width(-1);
    return n;
}

#endif
