/* libFuzzer harness: tfc_idx_read on a gzip-compressed IDX file. Input:
 * [mode][cut][payload]. Mode bit 0 set: the payload is an IDX file that is
 * gzip-compressed here, so the fuzzer reaches the IDX parser through
 * decompression; with bit 1 also set the compressed stream is cut to
 * cut/255 of its length (a download cut short). Bit 0 clear: the payload is
 * written as the .gz file as it is (corrupt gzip streams). Run:
 * build-fuzz/fuzz/fuzz_idx_gz CORPUS_DIR (see docs/FUZZING.md). */
#include "fuzz_util.h"
#include "tfc.h"

#include <zlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* gzip-compresses n bytes into a malloc'd buffer; *out_n its size. */
static uint8_t *gzip_bytes(const uint8_t *p, size_t n, size_t *out_n) {
    z_stream z;
    memset(&z, 0, sizeof z);
    if (deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) abort();
    size_t cap = deflateBound(&z, (uLong)n) + 32;
    uint8_t *out = malloc(cap);
    if (!out) abort();
    z.next_in = (Bytef *)(uintptr_t)p;
    z.avail_in = (uInt)n;
    z.next_out = out;
    z.avail_out = (uInt)cap;
    if (deflate(&z, Z_FINISH) != Z_STREAM_END) abort();
    *out_n = cap - z.avail_out;
    deflateEnd(&z);
    return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 2) return 0;
    int mode = data[0], cut = data[1];
    const uint8_t *payload = data + 2;
    size_t n = size - 2;
    char path[300];
    fuzz_path(path, sizeof path, "x-idx3-ubyte.gz");
    if (mode & 1) {
        size_t zn;
        uint8_t *z = gzip_bytes(payload, n, &zn);
        if (mode & 2) zn = zn * (size_t)cut / 255;
        fuzz_write(path, z, zn);
        free(z);
    } else {
        fuzz_write(path, payload, n);
    }
    tfc_status *st = tfc_status_new();
    tfc_tensor *t = tfc_idx_read(path, st);
    if (!t) {
        FUZZ_EXPECT_MESSAGE(st);
    } else {
        int64_t count = tfc_tensor_num_elements(t);
        if (count < 0) abort();
        fuzz_touch(tfc_tensor_data(t), (size_t)count);
        tfc_tensor_free(t);
    }
    tfc_status_free(st);
    return 0;
}
