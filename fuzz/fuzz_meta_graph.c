/* libFuzzer harness: MetaGraphDef import (tfc_import_meta_graph) of a file
 * holding the fuzzed bytes, then what a user does next: a Saver over the
 * imported global variables and an export of the MetaGraph. Run:
 * build-fuzz/fuzz/fuzz_meta_graph CORPUS_DIR (see docs/FUZZING.md). */
#include "fuzz_util.h"
#include "tfc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char path[300], out[300];
    fuzz_write(fuzz_path(path, sizeof path, "model.meta"), data, size);
    tfc_status *st = tfc_status_new();
    tfc_graph *g = tfc_graph_new();
    if (tfc_import_meta_graph(g, path, st) != 0) {
        FUZZ_EXPECT_MESSAGE(st);
    } else {
        tfc_saver *sv = tfc_saver_new(g, NULL, 0, 0);
        if (tfc_export_meta_graph(g, sv, fuzz_path(out, sizeof out, "again.meta"), st) != 0)
            FUZZ_EXPECT_MESSAGE(st);
        tfc_saver_free(sv);
    }
    tfc_graph_free(g);
    tfc_status_free(st);
    return 0;
}
