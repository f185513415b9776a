/* Inputs that the libFuzzer harnesses (fuzz/) found, each kept as a test:
 * the reader must fail with a clear error and bounded memory. Replay a new
 * finding with build-fuzz/fuzz/fuzz_<harness> FILE, then add it here. */
#include "harness.h"

#include "formats/crc32c.h"
#include "formats/pb.h"
#include "formats/sstable.h"
#include "formats/tensor_bundle.h"

#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static char dir[] = "/tmp/tfc-fuzzreg-XXXXXX";

static void remove_dir(void) {
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
}

/* The test's scratch directory, made on first use and removed at exit. */
static const char *scratch(void) {
    static int made;
    if (!made) {
        made = mkdtemp(dir) != NULL;
        CHECK(made);
        if (made) atexit(remove_dir);
    }
    return dir;
}

static const char *write_file(const char *name, const uint8_t *bytes, size_t n) {
    static char path[300];
    snprintf(path, sizeof path, "%s/%s", scratch(), name);
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL);
    if (f) {
        CHECK(fwrite(bytes, 1, n, f) == n);
        fclose(f);
    }
    return path;
}

/* Bytes the heap holds in mmap'd blocks (where glibc puts big ones). */
static size_t mmapped_bytes(void) { return mallinfo2().hblkhd; }

/* fuzz_tfrecord: a 28-byte file whose first record declares 4,244,635,648
 * bytes with a length CRC that checks. The reader allocated all of it
 * before reading; now its buffer grows only as bytes arrive. */
static void test_tfrecord_huge_length_small_file(void) {
    static const uint8_t bytes[] = {0x00, 0x00, 0x00, 0xfd, 0x00, 0x00, 0x00, 0x00, 0x9c, 0xa3,
                                    0x65, 0xa9, 0xd8, 0xea, 0x1c, 0x00, 0x00, 0x05, 0x00, 0x53,
                                    0x1d, 0x20, 0x1e, 0x67, 0x00, 0x29, 0xbe, 0x00};
    const char *path = write_file("huge.tfrecord", bytes, sizeof bytes);
    tfc_status *st = tfc_status_new();
    size_t before = mmapped_bytes();
    tfc_record_reader *r = tfc_record_reader_open(path, st);
    CHECK(r != NULL);
    const uint8_t *data;
    size_t n;
    CHECK(r && tfc_record_reader_next(r, &data, &n, st) == -1);
    CHECK(tfc_status_code(st) == TFC_DATA_LOSS);
    CHECK_CONTAINS(tfc_status_message(st), "truncated record at 0");
    CHECK_CONTAINS(tfc_status_message(st), "4244635648 bytes declared");
    /* (under ASan mallinfo2 sees nothing, and this holds trivially) */
    CHECK_MSG(mmapped_bytes() < before + ((size_t)64 << 20), "%zu bytes mmapped while reading",
              mmapped_bytes() - before);
    tfc_record_reader_close(r);
    tfc_status_free(st);
}

/* The largest length the reader accepts (2^40 - 1) in a short file: a clear
 * "truncated" error, not an allocation of a terabyte that fails. */
static void test_tfrecord_largest_length_small_file(void) {
    uint8_t bytes[12 + 100];
    memset(bytes, 7, sizeof bytes);
    tfc_put_u64le(bytes, ((uint64_t)1 << 40) - 1);
    tfc_put_u32le(bytes + 8, tfc_crc32c_mask(tfc_crc32c(bytes, 8)));
    const char *path = write_file("largest.tfrecord", bytes, sizeof bytes);
    tfc_status *st = tfc_status_new();
    tfc_record_reader *r = tfc_record_reader_open(path, st);
    const uint8_t *data;
    size_t n;
    CHECK(r && tfc_record_reader_next(r, &data, &n, st) == -1);
    CHECK(tfc_status_code(st) == TFC_DATA_LOSS);
    CHECK_CONTAINS(tfc_status_message(st), "truncated record at 0");
    tfc_record_reader_close(r);
    tfc_status_free(st);
}

/* Records of every size around the buffer's growth steps still read back. */
static void test_tfrecord_sizes_around_growth_steps(void) {
    char path[300];
    snprintf(path, sizeof path, "%s/sizes.tfrecord", scratch());
    static const size_t sizes[] = {0, 1, 4094, 4095, 4096, 4097, 8191, 8192, 20000, 3};
    enum { NSIZES = sizeof sizes / sizeof *sizes };
    uint8_t *buf = malloc(20000);
    for (size_t i = 0; i < 20000; i++) buf[i] = (uint8_t)(i * 31 + 5);
    tfc_status *st = tfc_status_new();
    tfc_record_writer *w = tfc_record_writer_open(path, 0, st);
    for (int i = 0; w && i < NSIZES; i++) CHECK(tfc_record_writer_write(w, buf, sizes[i], st) == 0);
    CHECK(tfc_record_writer_close(w, st) == 0);
    tfc_record_reader *r = tfc_record_reader_open(path, st);
    const uint8_t *data;
    size_t n;
    for (int i = 0; r && i < NSIZES; i++) {
        CHECK(tfc_record_reader_next(r, &data, &n, st) == 1);
        CHECK(n == sizes[i] && (n == 0 || memcmp(data, buf, n) == 0));
    }
    CHECK(r && tfc_record_reader_next(r, &data, &n, st) == 0);
    tfc_record_reader_close(r);
    tfc_status_free(st);
    free(buf);
}

/* A BundleEntryProto: float, shape [2^20, 2^19] (2 TiB), offset 0, size to
 * match; its CRC is never reached. */
static void huge_entry(tfc_buf *b) {
    tfc_buf dim1 = {0}, dim2 = {0}, shape = {0};
    pb_put_varint(&dim1, 0x08); /* Dim.size */
    pb_put_varint(&dim1, (uint64_t)1 << 20);
    pb_put_varint(&dim2, 0x08);
    pb_put_varint(&dim2, (uint64_t)1 << 19);
    pb_put_varint(&shape, 0x12); /* TensorShapeProto.dim */
    pb_put_varint(&shape, dim1.n);
    tfc_buf_append(&shape, dim1.p, dim1.n);
    pb_put_varint(&shape, 0x12);
    pb_put_varint(&shape, dim2.n);
    tfc_buf_append(&shape, dim2.p, dim2.n);
    pb_put_varint(b, 0x08); /* dtype: DT_FLOAT */
    pb_put_varint(b, TFC_FLOAT);
    pb_put_varint(b, 0x12); /* shape */
    pb_put_varint(b, shape.n);
    tfc_buf_append(b, shape.p, shape.n);
    pb_put_varint(b, 0x28); /* size */
    pb_put_varint(b, (uint64_t)1 << 41);
    tfc_buf_free(&dim1);
    tfc_buf_free(&dim2);
    tfc_buf_free(&shape);
}

/* A checkpoint index whose entry declares a 2 TiB tensor, with a 16-byte
 * data file: reading it is a "truncated" error found before anything is
 * allocated (the reader used to ask for the 2 TiB first, and report the
 * failed allocation as an invalid shape). */
static void test_checkpoint_entry_larger_than_data_file(void) {
    char prefix[300], path[320];
    snprintf(prefix, sizeof prefix, "%s/huge", scratch());
    tfc_status *st = tfc_status_new();
    tfc_tensor *x = tfc_tensor_new(TFC_FLOAT, 1, (int64_t[]){4});
    const char *name = "x";
    CHECK(tfc_bundle_write(prefix, &name, &x, 1, st) == 0);
    tfc_tensor_free(x);
    /* the index's entries: the header ("") and "x", whose value is replaced */
    snprintf(path, sizeof path, "%s.index", prefix);
    FILE *f = fopen(path, "rb");
    uint8_t bytes[4096];
    size_t n = f ? fread(bytes, 1, sizeof bytes, f) : 0;
    if (f) fclose(f);
    tfc_sstable_entry *ents = NULL;
    int nents = 0;
    char err[200];
    CHECK(tfc_sstable_parse(bytes, n, &ents, &nents, err, sizeof err) == 0 && nents == 2);
    tfc_buf entry = {0}, table = {0};
    huge_entry(&entry);
    if (nents == 2) {
        free(ents[1].value);
        ents[1].value = entry.p;
        ents[1].vlen = entry.n;
        entry.p = NULL;
        CHECK(tfc_sstable_build(&table, ents, nents) == 0);
        write_file("huge.index", table.p, table.n);
    }
    tfc_sstable_entries_free(ents, nents);
    tfc_buf_free(&table);
    tfc_buf_free(&entry);

    tfc_checkpoint_reader *r = tfc_checkpoint_reader_open(prefix, st);
    CHECK_MSG(r != NULL, "%s", tfc_status_message(st));
    CHECK(r && tfc_checkpoint_reader_get(r, "x", st) == NULL);
    CHECK(tfc_status_code(st) == TFC_DATA_LOSS);
    CHECK_CONTAINS(tfc_status_message(st), "is truncated: tensor 'x' needs 2199023255552 bytes");
    CHECK_CONTAINS(tfc_status_message(st), "of a 16-byte file");
    tfc_checkpoint_reader_free(r);
    tfc_status_free(st);
}

TFC_TEST_MAIN(T(test_tfrecord_huge_length_small_file), T(test_tfrecord_largest_length_small_file),
              T(test_tfrecord_sizes_around_growth_steps),
              T(test_checkpoint_entry_larger_than_data_file))
