/* libFuzzer harness: tfc_idx_read on a plain (uncompressed) IDX file
 * holding the fuzzed bytes; the tensor read must hold as many bytes as its
 * dims say and no more than the file. Run: build-fuzz/fuzz/fuzz_idx
 * CORPUS_DIR (see docs/FUZZING.md). fuzz_idx_gz covers gzip'd files. */
#include "fuzz_util.h"
#include "tfc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char path[300];
    fuzz_write(fuzz_path(path, sizeof path, "x-idx3-ubyte"), data, size);
    tfc_status *st = tfc_status_new();
    tfc_tensor *t = tfc_idx_read(path, st);
    if (!t) {
        FUZZ_EXPECT_MESSAGE(st);
    } else {
        int64_t n = tfc_tensor_num_elements(t);
        /* gzopen reads a file that starts like gzip as gzip: it may expand */
        int gz = size >= 2 && data[0] == 0x1f && data[1] == 0x8b;
        if (n < 0 || (!gz && (uint64_t)n > size)) {
            fprintf(stderr, "fuzz_idx: %lld elements from a %zu-byte file\n", (long long)n, size);
            abort();
        }
        fuzz_touch(tfc_tensor_data(t), (size_t)n);
        tfc_tensor_free(t);
    }
    tfc_status_free(st);
    return 0;
}
