/* libFuzzer harness: the TFRecord reader (tfc_record_reader_*) on a file
 * holding the fuzzed bytes; each record's bytes are read in full. Run:
 * build-fuzz/fuzz/fuzz_tfrecord CORPUS_DIR (see docs/FUZZING.md). */
#include "fuzz_util.h"
#include "tfc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char path[300];
    fuzz_write(fuzz_path(path, sizeof path, "data.tfrecord"), data, size);
    tfc_status *st = tfc_status_new();
    tfc_record_reader *r = tfc_record_reader_open(path, st);
    if (!r) {
        FUZZ_EXPECT_MESSAGE(st);
    } else {
        const uint8_t *rec;
        size_t n;
        int rc;
        while ((rc = tfc_record_reader_next(r, &rec, &n, st)) == 1) {
            if (n > size) {
                fprintf(stderr, "fuzz_tfrecord: a %zu-byte record in a %zu-byte file\n", n, size);
                abort();
            }
            fuzz_touch(rec, n);
        }
        if (rc < 0) FUZZ_EXPECT_MESSAGE(st);
        tfc_record_reader_close(r);
    }
    tfc_status_free(st);
    return 0;
}
