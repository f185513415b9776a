/* libFuzzer harness: GraphDef import (tfc_graph_import_graphdef) on
 * arbitrary bytes. Run: build-fuzz/fuzz/fuzz_graphdef CORPUS_DIR (see
 * docs/FUZZING.md). An import either fails with a message or succeeds; a
 * graph that imported must export, and its export must import again. */
#include "fuzz_util.h"
#include "tfc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    tfc_status *st = tfc_status_new();
    tfc_graph *g = tfc_graph_new();
    if (tfc_graph_import_graphdef(g, data, size, NULL, NULL, NULL, 0, st) != 0) {
        FUZZ_EXPECT_MESSAGE(st);
    } else {
        uint8_t *bytes = NULL;
        size_t len = 0;
        if (tfc_graph_to_graphdef(g, &bytes, &len, st) != 0) {
            fprintf(stderr, "fuzz_graphdef: an imported graph does not export: %s\n",
                    tfc_status_message(st));
            abort();
        }
        tfc_graph *again = tfc_graph_new();
        if (tfc_graph_import_graphdef(again, bytes, len, NULL, NULL, NULL, 0, st) != 0) {
            fprintf(stderr, "fuzz_graphdef: an exported graph does not import again: %s\n",
                    tfc_status_message(st));
            abort();
        }
        tfc_graph_free(again);
        free(bytes);
    }
    tfc_graph_free(g);
    tfc_status_free(st);
    return 0;
}
