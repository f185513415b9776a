/* TFRecord files for the reader tests (test_reader_records.c,
 * test_queue_pipeline.c): n records written with tfc's record writer, then
 * the whole file compressed as TensorFlow's ZLIB or GZIP options read it. */
#ifndef TFC_TESTS_RECORD_FILES_H
#define TFC_TESTS_RECORD_FILES_H

#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

/* Record i: a malloc'd buffer (the writer frees it) and its length. */
typedef uint8_t *(*record_maker)(int i, size_t *len, void *user);

/* Compresses file `from` into `to` (deflate; GZIP framing for "GZIP",
 * zlib's for "ZLIB") and removes `from`. */
static inline void compress_record_file(const char *from, const char *to, const char *compression) {
    FILE *f = fopen(from, "rb");
    CHECK(f != NULL);
    if (!f) return;
    fseek(f, 0, SEEK_END);
    size_t n = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *in = malloc(n + 1), *out = malloc(n + n / 100 + 1024);
    CHECK(fread(in, 1, n, f) == n);
    fclose(f);
    unlink(from);
    z_stream z;
    memset(&z, 0, sizeof z);
    deflateInit2(&z, 6, Z_DEFLATED, !strcmp(compression, "GZIP") ? 15 + 16 : 15, 8,
                 Z_DEFAULT_STRATEGY);
    z.next_in = in;
    z.avail_in = (uInt)n;
    z.next_out = out;
    z.avail_out = (uInt)(n + n / 100 + 1024);
    CHECK(deflate(&z, Z_FINISH) == Z_STREAM_END);
    f = fopen(to, "wb");
    CHECK(f != NULL);
    if (f) {
        CHECK(fwrite(out, 1, z.total_out, f) == z.total_out);
        fclose(f);
    }
    deflateEnd(&z);
    free(in);
    free(out);
}

/* Writes records 0..n-1 of `make` to the TFRecord file `path`, compressed
 * as asked ("", "ZLIB" or "GZIP"). */
static inline void write_record_file(const char *path, int n, record_maker make, void *user,
                                     const char *compression) {
    char plain[512];
    snprintf(plain, sizeof plain, "%s.plain", path);
    tfc_status *st = tfc_status_new();
    tfc_record_writer *w = tfc_record_writer_open(*compression ? plain : path, 0, st);
    CHECK(w != NULL);
    for (int i = 0; w && i < n; i++) {
        size_t len = 0;
        uint8_t *b = make(i, &len, user);
        CHECK(tfc_record_writer_write(w, b, len, st) == 0);
        free(b);
    }
    tfc_record_writer_close(w, st);
    tfc_status_free(st);
    if (*compression) compress_record_file(plain, path, compression);
}

#endif
