/* Philox4x32-10 (src/core/philox.c): the published known answers of the
 * Random123 suite, and the many-block uniform floats (vector lanes)
 * against the block-by-block generator, bit for bit, for every count up
 * to a few lane groups and across a carry into the counter's high word. */
#include "harness.h"

#include "core/philox.h"

#include <stdlib.h>
#include <string.h>

static void next_of(uint32_t key0, uint32_t key1, const uint32_t ctr[4], uint32_t out[4]) {
    tfc_philox p = {{key0, key1}, {ctr[0], ctr[1], ctr[2], ctr[3]}};
    tfc_philox_next(&p, out);
}

static void test_known_answers(void) {
    static const uint32_t zero[4] = {0, 0, 0, 0};
    static const uint32_t ones[4] = {0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu};
    static const uint32_t pi[4] = {0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u};
    static const uint32_t want_zero[4] = {0x6627e8d5u, 0xe169c58du, 0xbc57ac4cu, 0x9b00dbd8u};
    static const uint32_t want_ones[4] = {0x408f276du, 0x41c83b0eu, 0xa20bc7c6u, 0x6d5451fdu};
    static const uint32_t want_pi[4] = {0xd16cfe09u, 0x94fdccebu, 0x5001e420u, 0x24126ea1u};
    uint32_t w[4];
    next_of(0, 0, zero, w);
    CHECK(memcmp(w, want_zero, sizeof w) == 0);
    next_of(0xffffffffu, 0xffffffffu, ones, w);
    CHECK(memcmp(w, want_ones, sizeof w) == 0);
    next_of(0xa4093822u, 0x299f31d0u, pi, w);
    CHECK(memcmp(w, want_pi, sizeof w) == 0);
}

static void check_width(uint64_t seed, uint64_t stream, uint64_t first, int64_t count, int lanes) {
    tfc_philox p;
    tfc_philox_init(&p, seed, stream);
    float *got = malloc(sizeof(float) * (size_t)(4 * count + 1));
    CHECK(got != NULL);
    got[4 * count] = 7.0f; /* nothing written past the blocks */
    if (tfc_philox_uniform_floats_in(&p, first, count, got, lanes) < 0) {
        CHECK(lanes > 1); /* the CPU lacks these vectors; one lane always runs */
        free(got);
        return;
    }
    CHECK(got[4 * count] == 7.0f);
    tfc_philox q = p;
    tfc_philox_seek(&q, first);
    int same = 1;
    for (int64_t i = 0; i < count; i++) {
        uint32_t w[4];
        tfc_philox_next(&q, w);
        for (int k = 0; k < 4; k++) {
            float want = tfc_u32_to_float01(w[k]);
            same &= memcmp(&got[4 * i + k], &want, sizeof want) == 0;
        }
    }
    CHECK(same);
    free(got);
}

/* tfc_philox_uniform_floats_in (each width the CPU has) against
 * tfc_philox_next, block after block */
static void check_blocks(uint64_t seed, uint64_t stream, uint64_t first, int64_t count) {
    static const int widths[] = {16, 8, 1};
    for (int i = 0; i < 3; i++) check_width(seed, stream, first, count, widths[i]);
}

static void test_uniform_floats_match_block_by_block(void) {
    for (int64_t count = 0; count <= 50; count++) check_blocks(87654321, 3, 0, count);
    check_blocks(1, 0x123456789ull, 1000, 1000);
    /* the block counter's low word wraps inside a lane group */
    check_blocks(5, 9, 0xfffffff8ull, 40);
    check_blocks(5, 9, 0x1fffffff5ull, 33);
}

TFC_TEST_MAIN(T(test_known_answers), T(test_uniform_floats_match_block_by_block))
