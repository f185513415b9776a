/* libFuzzer harness: TF1 control flow (Enter/Merge/Switch/LoopCond/
 * NextIteration/Exit) at GraphDef import, converted into If/While
 * (src/formats/tf1_control_flow.c). The bytes are a small program that
 * writes the GraphDef (fuzz/tf1_cf_gen.h): nodes at random, or a well-formed
 * TF1 while loop (nested loop, cond in the body, cond around it) with a few
 * corruptions. An import either fails with a message or succeeds; a graph TF1
 * would write (no corruption) must import; an imported graph must export and
 * import again. Nothing is run (a corrupted loop may never end). */
#include "tf1_cf_gen.h"
#include "tfc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    uint8_t *bytes = NULL;
    size_t len = 0;
    int must_import;
    cfg_generate(data, size, &bytes, &len, &must_import);
    tfc_status *st = tfc_status_new();
    tfc_graph *g = tfc_graph_new();
    if (tfc_graph_import_graphdef(g, bytes, len, NULL, NULL, NULL, 0, st) != 0) {
        if (must_import || !tfc_status_message(st) || !*tfc_status_message(st)) {
            fprintf(stderr, "fuzz_tf1_control_flow: %s: '%s'\n",
                    must_import ? "a well-formed TF1 graph did not import" : "no message",
                    tfc_status_message(st));
            abort();
        }
    } else {
        uint8_t *out = NULL;
        size_t n = 0;
        tfc_graph *again = tfc_graph_new();
        if (tfc_graph_to_graphdef(g, &out, &n, st) != 0 ||
            tfc_graph_import_graphdef(again, out, n, NULL, NULL, NULL, 0, st) != 0) {
            fprintf(stderr,
                    "fuzz_tf1_control_flow: an imported graph does not export and "
                    "import again: %s\n",
                    tfc_status_message(st));
            abort();
        }
        tfc_graph_free(again);
        free(out);
    }
    tfc_graph_free(g);
    tfc_status_free(st);
    free(bytes);
    return 0;
}
