/* String tensors in V2 checkpoints, in TensorFlow's layout (its
 * tensor_bundle.cc): the varint64 length of every element, the masked
 * CRC-32C of those lengths (each taken as a little-endian uint32), then the
 * bytes; the entry's CRC continues over the stored lengths' CRC and the
 * bytes. Checked on bytes worked out by hand, on round trips of awkward
 * strings (empty, NUL bytes, 1 MB), on the string tensor TensorFlow 2.14
 * wrote into tests/data/tf_written/half_plus_two_tf2_14 (read, and written
 * again byte for byte), and on damaged copies of it. */
#include "checkpoint_helpers.h"
#include "core/tensor.h"
#include "formats/crc32c.h"
#include "formats/tensor_bundle.h"

#include <stdlib.h>

static int same_strings(const tfc_tensor *a, const tfc_tensor *b) {
    if (!a || !b || tfc_tensor_num_elements(a) != tfc_tensor_num_elements(b) ||
        tfc_tensor_rank(a) != tfc_tensor_rank(b))
        return 0;
    for (int d = 0; d < tfc_tensor_rank(a); d++)
        if (tfc_tensor_dim(a, d) != tfc_tensor_dim(b, d)) return 0;
    for (int64_t i = 0; i < tfc_tensor_num_elements(a); i++) {
        size_t la, lb;
        const char *pa = tfc_string_tensor_get(a, i, &la), *pb = tfc_string_tensor_get(b, i, &lb);
        if (la != lb || memcmp(pa, pb, la)) return 0;
    }
    return 1;
}

/* {"ab", ""} is, by TensorFlow's rules: 02 00, the masked CRC of the
 * lengths as uint32s (02 00 00 00 00 00 00 00), then "ab"; the entry's CRC
 * runs over those 8 length bytes, the 4 stored CRC bytes and "ab". */
static void test_layout_by_hand(void) {
    make_tmpdir("strckpt");
    char prefix[128];
    snprintf(prefix, sizeof prefix, "%s/hand", tmpdir);
    const char *strs[] = {"ab", ""};
    int64_t two = 2;
    tfc_tensor *t = tfc_tensor_from_strings(1, &two, strs, NULL);
    const char *name = "s";
    tfc_status *st = tfc_status_new();
    CHECK(tfc_bundle_write(prefix, &name, &t, 1, st) == 0);
    CHECK_STATUS_OK(st);
    char path[160];
    snprintf(path, sizeof path, "%s.data-00000-of-00001", prefix);
    size_t n = 0;
    uint8_t *d = slurp(path, &n);
    const uint8_t lens32[8] = {2, 0, 0, 0, 0, 0, 0, 0};
    uint32_t len_crc = tfc_crc32c(lens32, 8);
    uint8_t want[8] = {2, 0, 0, 0, 0, 0, 'a', 'b'};
    tfc_put_u32le(want + 2, tfc_crc32c_mask(len_crc));
    CHECK_MSG(d && n == 8 && !memcmp(d, want, 8), "data file of %zu bytes", n);
    free(d);
    /* the index's entry: size 8 and the CRC over lengths, stored CRC, bytes;
     * a reader that checks both gives the strings back */
    tfc_checkpoint_reader *r = tfc_checkpoint_reader_open(prefix, st);
    CHECK_MSG(r != NULL, "%s", tfc_status_message(st));
    CHECK(r && tfc_checkpoint_reader_dtype(r, 0) == TFC_STRING);
    tfc_tensor *back = r ? tfc_checkpoint_reader_get(r, "s", st) : NULL;
    CHECK_MSG(back && same_strings(back, t), "%s", tfc_status_message(st));
    tfc_tensor_free(back);
    tfc_checkpoint_reader_free(r);
    tfc_tensor_free(t);
    tfc_status_free(st);
    remove_tmpdir();
}

/* Empty strings, NUL bytes, every byte value, a 1 MB element, an empty
 * tensor and a scalar, beside a float tensor, through write and read. */
static void test_round_trip(void) {
    make_tmpdir("strckpt");
    char prefix[128];
    snprintf(prefix, sizeof prefix, "%s/rt", tmpdir);
    size_t big = 1 << 20;
    char *mb = malloc(big), all[256];
    uint32_t x = 12345;
    for (size_t i = 0; i < big; i++) {
        x = x * 1103515245u + 12345u;
        mb[i] = (char)(x >> 24);
    }
    for (int i = 0; i < 256; i++) all[i] = (char)i;
    const char *strs[] = {"", "a\0b", mb, "", all, "\0", "plain"};
    const size_t lens[] = {0, 3, big, 0, 256, 1, 5};
    int64_t dims[] = {7, 1};
    tfc_tensor *t[4];
    t[0] = tfc_tensor_from_strings(2, dims, strs, lens);
    int64_t zero = 0;
    t[1] = tfc_tensor_from_strings(1, &zero, NULL, NULL);
    t[2] = tfc_tensor_scalar_string("scalar", (size_t)-1);
    float fv[3] = {1.5f, -2, 3};
    int64_t three = 3;
    t[3] = tfc_tensor_from_data(TFC_FLOAT, 1, &three, fv);
    const char *names[] = {"strings", "empty", "scalar", "floats"};
    tfc_status *st = tfc_status_new();
    CHECK(t[0] && t[1] && t[2] && t[3]);
    CHECK(tfc_bundle_write(prefix, names, t, 4, st) == 0);
    CHECK_STATUS_OK(st);
    tfc_checkpoint_reader *r = tfc_checkpoint_reader_open(prefix, st);
    CHECK_MSG(r != NULL, "%s", tfc_status_message(st));
    for (int k = 0; r && k < 3; k++) {
        tfc_tensor *back = tfc_checkpoint_reader_get(r, names[k], st);
        CHECK_MSG(back && same_strings(back, t[k]), "%s: %s", names[k], tfc_status_message(st));
        tfc_tensor_free(back);
    }
    tfc_tensor *f = r ? tfc_checkpoint_reader_get(r, "floats", st) : NULL;
    CHECK(f && !memcmp(tfc_tensor_data(f), fv, sizeof fv));
    tfc_tensor_free(f);
    tfc_checkpoint_reader_free(r);
    for (int k = 0; k < 4; k++) tfc_tensor_free(t[k]);
    free(mb);
    tfc_status_free(st);
    remove_tmpdir();
}

/* TensorFlow 2.14's object graph (a serialized TrackableObjectGraph in a
 * DT_STRING scalar, 613 bytes at offset 12 of the data file): read with
 * both of TF's CRCs checked, then written again by tfc, byte for byte the
 * same as TF wrote it. */
static void test_tensorflow_written(void) {
    char prefix[512], path[600];
    tf_prefix(prefix, sizeof prefix, "half_plus_two_tf2_14");
    tfc_status *st = tfc_status_new();
    tfc_checkpoint_reader *r = tfc_checkpoint_reader_open(prefix, st);
    CHECK_MSG(r != NULL, "%s", tfc_status_message(st));
    tfc_tensor *g = r ? tfc_checkpoint_reader_get(r, "_CHECKPOINTABLE_OBJECT_GRAPH", st) : NULL;
    CHECK_MSG(g != NULL, "%s", tfc_status_message(st));
    tfc_checkpoint_reader_free(r);
    size_t len = 0;
    const char *s = g ? tfc_string_tensor_get(g, 0, &len) : NULL;
    CHECK(g && tfc_tensor_rank(g) == 0 && len == 613);
    /* TrackableObjectGraph: field 1 (nodes), 152 bytes, a child "a" -> node 1 */
    CHECK(s && !memcmp(s, "\x0a\x98\x01\x0a\x05\x12\x01\x61\x08\x01", 10));
    int found = 0;
    for (size_t i = 0; s && i + 28 <= len && !found; i++)
        found = !memcmp(s + i, "a/.ATTRIBUTES/VARIABLE_VALUE", 28);
    CHECK(found);
    snprintf(path, sizeof path, "%s.data-00000-of-00001", prefix);
    size_t ntf = 0;
    uint8_t *tf = slurp(path, &ntf);
    CHECK(tf && ntf == 631);

    make_tmpdir("strckpt");
    char mine[128];
    snprintf(mine, sizeof mine, "%s/again", tmpdir);
    const char *name = "_CHECKPOINTABLE_OBJECT_GRAPH";
    CHECK(g && tfc_bundle_write(mine, &name, &g, 1, st) == 0);
    snprintf(path, sizeof path, "%s.data-00000-of-00001", mine);
    size_t n = 0;
    uint8_t *d = slurp(path, &n);
    CHECK_MSG(d && tf && n == ntf - 12 && !memcmp(d, tf + 12, n), "%zu bytes", n);
    free(d);
    free(tf);
    tfc_tensor_free(g);
    tfc_status_free(st);
    remove_tmpdir();
}

/* A copy of TF's checkpoint with its data file changed by `edit`: reading
 * the object graph fails with DATA_LOSS whose message holds `want`. */
static void expect_damaged(void (*edit)(uint8_t *, size_t *), const char *want) {
    char prefix[512], from[600], to[600];
    tf_prefix(prefix, sizeof prefix, "half_plus_two_tf2_14");
    make_tmpdir("strckpt");
    size_t n = 0;
    snprintf(from, sizeof from, "%s.index", prefix);
    snprintf(to, sizeof to, "%s/v.index", tmpdir);
    copy_file(from, to);
    snprintf(from, sizeof from, "%s.data-00000-of-00001", prefix);
    uint8_t *p = slurp(from, &n);
    CHECK(p != NULL);
    if (p) edit(p, &n);
    snprintf(to, sizeof to, "%s/v.data-00000-of-00001", tmpdir);
    if (p) spit(to, p, n);
    free(p);
    snprintf(to, sizeof to, "%s/v", tmpdir);
    tfc_status *st = tfc_status_new();
    tfc_checkpoint_reader *r = tfc_checkpoint_reader_open(to, st);
    CHECK(r != NULL);
    tfc_tensor *t = r ? tfc_checkpoint_reader_get(r, "_CHECKPOINTABLE_OBJECT_GRAPH", st) : NULL;
    CHECK(t == NULL);
    CHECK(tfc_status_code(st) == TFC_DATA_LOSS);
    CHECK_CONTAINS(tfc_status_message(st), want);
    CHECK_CONTAINS(tfc_status_message(st), "_CHECKPOINTABLE_OBJECT_GRAPH");
    tfc_tensor_free(t);
    tfc_checkpoint_reader_free(r);
    tfc_status_free(st);
    remove_tmpdir();
}

static void flip_length(uint8_t *p, size_t *n) { (void)n, p[13] ^= 0x01; } /* 613 -> 741 */
static void flip_length_crc(uint8_t *p, size_t *n) { (void)n, p[15] ^= 0x40; }
static void flip_body(uint8_t *p, size_t *n) { (void)n, p[300] ^= 0x20; }
static void cut_short(uint8_t *p, size_t *n) { (void)p, *n = 400; }

static void test_damaged(void) {
    expect_damaged(flip_length, "string lengths longer than the entry");
    expect_damaged(flip_length_crc, "string lengths' checksum does not match");
    expect_damaged(flip_body, "checksum does not match for tensor");
    expect_damaged(cut_short, "truncated");
}

TFC_TEST_MAIN(T(test_layout_by_hand), T(test_round_trip), T(test_tensorflow_written),
              T(test_damaged))
