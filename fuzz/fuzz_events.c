/* libFuzzer harness: the event file reader (tfc_event_reader_*) on a file
 * holding the fuzzed bytes; every field of every event read is touched, so
 * a bad pointer or length shows here. Run: build-fuzz/fuzz/fuzz_events
 * CORPUS_DIR (see docs/FUZZING.md). */
#include "fuzz_util.h"
#include "tfc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void touch_event(const tfc_event *ev) {
    fuzz_touch(ev->file_version, strlen(ev->file_version));
    if (ev->graph_def) fuzz_touch(ev->graph_def, ev->graph_def_size);
    for (int i = 0; i < ev->nvalues; i++) {
        const tfc_summary_value *v = &ev->values[i];
        fuzz_touch(v->tag, strlen(v->tag));
        fuzz_touch(v->plugin, strlen(v->plugin));
        if (v->nbuckets > 0) {
            fuzz_touch(v->bucket_limit, sizeof(double) * (size_t)v->nbuckets);
            fuzz_touch(v->bucket, sizeof(double) * (size_t)v->nbuckets);
        }
        if (v->data) fuzz_touch(v->data, v->size);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char path[300];
    fuzz_write(fuzz_path(path, sizeof path, "events.out.tfevents.0.fuzz"), data, size);
    tfc_status *st = tfc_status_new();
    tfc_event_reader *r = tfc_event_reader_open(path, st);
    if (!r) {
        FUZZ_EXPECT_MESSAGE(st);
    } else {
        tfc_event ev;
        int rc;
        while ((rc = tfc_event_reader_next(r, &ev, st)) == 1) touch_event(&ev);
        if (rc < 0) FUZZ_EXPECT_MESSAGE(st);
        tfc_event_reader_close(r);
    }
    tfc_status_free(st);
    return 0;
}
