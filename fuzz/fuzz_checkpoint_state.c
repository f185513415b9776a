/* libFuzzer harness: the `checkpoint` state file (text: model_checkpoint_path
 * and all_model_checkpoint_paths). The fuzzed bytes become <dir>/checkpoint,
 * read by tfc_latest_checkpoint and by a first save into that directory
 * (which adopts the listed checkpoints and rewrites the file). The saver
 * keeps all checkpoints, so paths in a fuzzed file (absolute, "..") never
 * get anything deleted. Run: build-fuzz/fuzz/fuzz_checkpoint_state
 * CORPUS_DIR (see docs/FUZZING.md). */
#include "fuzz_model.h"
#include "fuzz_util.h"
#include "tfc.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static fuzz_model model;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    model = fuzz_model_new();
    /* the names the seeds list, so tfc_latest_checkpoint finds an index */
    static const char *const present[] = {"model.ckpt-1.index", "model.ckpt-2.index",
                                          "model.ckpt-3.index", "model.ckpt.index"};
    char path[300];
    for (size_t i = 0; i < sizeof present / sizeof *present; i++)
        fuzz_write(fuzz_path(path, sizeof path, present[i]), (const uint8_t *)"", 0);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char path[300];
    fuzz_write(fuzz_path(path, sizeof path, "checkpoint"), data, size);
    char *latest = tfc_latest_checkpoint(fuzz_dir());
    if (latest) fuzz_touch(latest, strlen(latest));
    free(latest);

    tfc_status *st = tfc_status_new();
    tfc_saver *sv = tfc_saver_new(model.graph, NULL, 0, TFC_SAVER_KEEP_ALL);
    if (!sv) abort();
    const char *written =
        tfc_saver_save(sv, model.session, fuzz_path(path, sizeof path, "s"), -1, st);
    if (!written) FUZZ_EXPECT_MESSAGE(st);
    tfc_saver_free(sv);
    tfc_status_free(st);
    return 0;
}
