/* libFuzzer harness: SavedModel reading (tfc_saved_model_read) and loading
 * (tfc_saved_model_load) of a directory whose saved_model.pb holds the
 * fuzzed bytes: every tag, signature and tensor info is read back, then
 * the first MetaGraphDef is loaded by its tags (imported, pruned to its
 * signatures; its variables, when it names some, are missing, which must
 * be a clean error). Run: build-fuzz/fuzz/fuzz_saved_model CORPUS_DIR
 * (see docs/FUZZING.md). */
#include "fuzz_util.h"
#include "tfc.h"

#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static unsigned touch_str(const char *s) { return s ? fuzz_touch(s, strlen(s)) : 0; }

static unsigned touch_info(tfc_tensor_info t) {
    return touch_str(t.key) + touch_str(t.name) + (unsigned)t.dtype + (unsigned)t.shape.rank;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char dir[300], pb[340];
    fuzz_path(dir, sizeof dir, "sm");
    mkdir(dir, 0777);
    snprintf(pb, sizeof pb, "%s/saved_model.pb", dir);
    fuzz_write(pb, data, size);
    tfc_status *st = tfc_status_new();
    tfc_saved_model *m = tfc_saved_model_read(dir, st);
    if (!m) {
        FUZZ_EXPECT_MESSAGE(st);
        tfc_status_free(st);
        return 0;
    }
    volatile unsigned sum = 0;
    const char *tags[64];
    int ntags = 0;
    for (int mg = 0; mg < tfc_saved_model_num_meta_graphs(m); mg++) {
        tfc_saved_model_select(m, mg);
        for (int i = 0; i < tfc_saved_model_num_tags(m, mg); i++) {
            sum += touch_str(tfc_saved_model_tag(m, mg, i));
            if (mg == 0 && ntags < 64) tags[ntags++] = tfc_saved_model_tag(m, mg, i);
        }
        for (int s = 0; s < tfc_saved_model_num_signatures(m); s++) {
            sum += touch_str(tfc_saved_model_signature_name(m, s)) +
                   touch_str(tfc_saved_model_signature_method(m, s));
            for (int i = 0; i < tfc_saved_model_signature_num_inputs(m, s); i++)
                sum += touch_info(tfc_saved_model_signature_input(m, s, i));
            for (int i = 0; i < tfc_saved_model_signature_num_outputs(m, s); i++)
                sum += touch_info(tfc_saved_model_signature_output(m, s, i));
        }
    }
    tfc_graph *g = tfc_graph_new();
    tfc_saved_model *loaded = tfc_saved_model_load(dir, tags, ntags, g, NULL, st);
    if (!loaded) FUZZ_EXPECT_MESSAGE(st);
    for (int s = 0; loaded && s < tfc_saved_model_num_signatures(loaded); s++)
        sum += touch_str(tfc_saved_model_signature_error(loaded, s));
    tfc_saved_model_free(loaded);
    tfc_saved_model_free(m);
    tfc_graph_free(g);
    tfc_status_free(st);
    (void)sum;
    return 0;
}
