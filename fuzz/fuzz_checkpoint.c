/* libFuzzer harness: V2 checkpoints (tensor bundles). Input:
 * [index length, 4 bytes little-endian][.index bytes][.data bytes]; both
 * files are written to a scratch directory, then read the two ways a user
 * reads them: tfc_checkpoint_reader (every entry's name, dtype, shape and
 * value) and tfc_saver_restore into fuzz_model.h's model. Run:
 * build-fuzz/fuzz/fuzz_checkpoint CORPUS_DIR (see docs/FUZZING.md). */
#include "fuzz_model.h"
#include "fuzz_util.h"
#include "tfc.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static fuzz_model model;
static tfc_saver *saver;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    model = fuzz_model_new();
    saver = tfc_saver_new(model.graph, NULL, 0, 0);
    if (!saver) abort();
    return 0;
}

static void read_all(const char *prefix, tfc_status *st) {
    tfc_checkpoint_reader *r = tfc_checkpoint_reader_open(prefix, st);
    if (!r) {
        FUZZ_EXPECT_MESSAGE(st);
        return;
    }
    for (int i = 0; i < tfc_checkpoint_reader_num(r); i++) {
        const char *name = tfc_checkpoint_reader_name(r, i);
        tfc_dtype dt = tfc_checkpoint_reader_dtype(r, i);
        tfc_shape shape = tfc_checkpoint_reader_shape(r, i);
        if (shape.rank < 0 || shape.rank > TFC_MAX_RANK) {
            fprintf(stderr, "fuzz_checkpoint: entry %d has rank %d\n", i, shape.rank);
            abort();
        }
        tfc_tensor *t = tfc_checkpoint_reader_get(r, name, st);
        if (!t) {
            FUZZ_EXPECT_MESSAGE(st);
            continue;
        }
        if (tfc_tensor_dtype(t) != dt) {
            fprintf(stderr, "fuzz_checkpoint: '%s' listed as dtype %d, read as %d\n", name, (int)dt,
                    (int)tfc_tensor_dtype(t));
            abort();
        }
        fuzz_touch(tfc_tensor_data(t), tfc_tensor_nbytes(t));
        tfc_tensor_free(t);
    }
    if (!tfc_checkpoint_reader_get(r, "no such tensor", st)) FUZZ_EXPECT_MESSAGE(st);
    tfc_checkpoint_reader_free(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    size_t nindex = size;
    if (size >= 4) {
        uint32_t declared = (uint32_t)data[0] | (uint32_t)data[1] << 8 | (uint32_t)data[2] << 16 |
                            (uint32_t)data[3] << 24;
        data += 4;
        size -= 4;
        nindex = declared < size ? declared : size;
    }
    char prefix[300], path[320];
    fuzz_path(prefix, sizeof prefix, "model.ckpt");
    snprintf(path, sizeof path, "%s.index", prefix);
    fuzz_write(path, data, nindex);
    snprintf(path, sizeof path, "%s.data-00000-of-00001", prefix);
    fuzz_write(path, data + nindex, size - nindex);

    tfc_status *st = tfc_status_new();
    read_all(prefix, st);
    if (tfc_saver_restore(saver, model.session, prefix, st) != 0) FUZZ_EXPECT_MESSAGE(st);
    tfc_status_free(st);
    return 0;
}
