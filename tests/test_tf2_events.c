/* TF2-style summaries in event files: tf.summary.scalar writes a
 * one-element tensor with the "scalars" plugin's metadata, which tfc's
 * event reader reports as a scalar (as a TF1 simple_value). Checked on an
 * event file TensorFlow 2 wrote (tests/data/tf_events/README.md) and on
 * values written here in the other encodings TensorFlow uses (float_val,
 * a double, an int64), and that other tensors stay tensors. */
#include "harness.h"
#include "summary.pb-c.h"

#include <stdlib.h>
#include <unistd.h>

static void test_tf2_written_scalars(void) {
    const char *dir = getenv("TFC_TEST_DATA");
    char path[1024];
    snprintf(path, sizeof path, "%s/tf_events/tf2_scalars/events.out.tfevents.1585499054.v2",
             dir ? dir : "tests/data");
    tfc_status *st = tfc_status_new();
    tfc_event_reader *r = tfc_event_reader_open(path, st);
    CHECK_STATUS_OK(st);
    if (!r) {
        tfc_status_free(st);
        return;
    }
    tfc_event ev;
    int n = 0, scalars = 0, first = 1;
    while (tfc_event_reader_next(r, &ev, st) == 1) {
        if (first) CHECK(!strcmp(ev.file_version, "brain.Event:2"));
        first = 0;
        n++;
        for (int i = 0; i < ev.nvalues; i++) {
            const tfc_summary_value *v = &ev.values[i];
            CHECK(!strcmp(v->tag, "my_metric") && !strcmp(v->plugin, "scalars"));
            CHECK_MSG(v->kind == TFC_SUMMARY_SCALAR, "step %lld: kind %d", (long long)ev.step,
                      (int)v->kind);
            CHECK_NEAR(v->scalar, 0.5 * (double)ev.step, 0);
            scalars++;
        }
    }
    CHECK_STATUS_OK(st);
    CHECK(n == 101 && scalars == 100);
    tfc_event_reader_close(r);
    tfc_status_free(st);
}

/* One event holding one tensor value (dtype, dims, data in the field the
 * caller set) with plugin `plugin`. */
static void write_value(tfc_record_writer *w, Tensorflow__TensorProto *t, const char *plugin,
                        int64_t step) {
    Tensorflow__SummaryMetadata__PluginData pd = TENSORFLOW__SUMMARY_METADATA__PLUGIN_DATA__INIT;
    Tensorflow__SummaryMetadata md = TENSORFLOW__SUMMARY_METADATA__INIT;
    Tensorflow__Summary__Value v = TENSORFLOW__SUMMARY__VALUE__INIT;
    Tensorflow__Summary__Value *vs[] = {&v};
    Tensorflow__Summary s = TENSORFLOW__SUMMARY__INIT;
    Tensorflow__Event e = TENSORFLOW__EVENT__INIT;
    pd.plugin_name = (char *)plugin;
    md.plugin_data = &pd;
    v.tag = (char *)"t";
    v.metadata = &md;
    v.value_case = TENSORFLOW__SUMMARY__VALUE__VALUE_TENSOR;
    v.tensor = t;
    s.n_value = 1;
    s.value = vs;
    e.step = step;
    e.what_case = TENSORFLOW__EVENT__WHAT_SUMMARY;
    e.summary = &s;
    size_t n = tensorflow__event__get_packed_size(&e);
    uint8_t *p = malloc(n);
    tensorflow__event__pack(&e, p);
    tfc_status *st = tfc_status_new();
    CHECK(tfc_record_writer_write(w, p, n, st) == 0);
    tfc_status_free(st);
    free(p);
}

static void test_scalar_encodings(void) {
    char path[128];
    snprintf(path, sizeof path, "/tmp/tfc_tf2_events_%ld", (long)getpid());
    tfc_status *st = tfc_status_new();
    tfc_record_writer *w = tfc_record_writer_open(path, 0, st);
    CHECK(w != NULL);
    if (!w) return;
    Tensorflow__TensorShapeProto scalar = TENSORFLOW__TENSOR_SHAPE_PROTO__INIT;
    Tensorflow__TensorShapeProto__Dim two = TENSORFLOW__TENSOR_SHAPE_PROTO__DIM__INIT, *pd = &two;
    Tensorflow__TensorShapeProto vec = TENSORFLOW__TENSOR_SHAPE_PROTO__INIT;
    two.size = 2;
    vec.n_dim = 1;
    vec.dim = &pd;
    float fv = 2.5f, pair[] = {1, 2};
    double dv = -4.25;
    int64_t lv = 12345;
    Tensorflow__TensorProto t = TENSORFLOW__TENSOR_PROTO__INIT;
    t.tensor_shape = &scalar;
    t.dtype = TENSORFLOW__DATA_TYPE__DT_FLOAT; /* float_val */
    t.n_float_val = 1;
    t.float_val = &fv;
    write_value(w, &t, "scalars", 0);
    Tensorflow__TensorProto d = TENSORFLOW__TENSOR_PROTO__INIT;
    d.tensor_shape = &scalar;
    d.dtype = TENSORFLOW__DATA_TYPE__DT_DOUBLE; /* tensor_content */
    d.tensor_content.data = (uint8_t *)&dv;
    d.tensor_content.len = sizeof dv;
    write_value(w, &d, "scalars", 1);
    Tensorflow__TensorProto l = TENSORFLOW__TENSOR_PROTO__INIT;
    l.tensor_shape = &scalar;
    l.dtype = TENSORFLOW__DATA_TYPE__DT_INT64;
    l.n_int64_val = 1;
    l.int64_val = &lv;
    write_value(w, &l, "scalars", 2);
    Tensorflow__TensorProto v2 = TENSORFLOW__TENSOR_PROTO__INIT; /* two values: a tensor */
    v2.tensor_shape = &vec;
    v2.dtype = TENSORFLOW__DATA_TYPE__DT_FLOAT;
    v2.tensor_content.data = (uint8_t *)pair;
    v2.tensor_content.len = sizeof pair;
    write_value(w, &v2, "scalars", 3);
    write_value(w, &t, "histograms", 4); /* another plugin: a tensor */
    CHECK(tfc_record_writer_close(w, st) == 0);
    tfc_event_reader *r = tfc_event_reader_open(path, st);
    tfc_event ev;
    const double want[] = {2.5, -4.25, 12345};
    int k = 0;
    while (r && tfc_event_reader_next(r, &ev, st) == 1) {
        CHECK(ev.nvalues == 1);
        if (ev.nvalues != 1) continue;
        const tfc_summary_value *v = &ev.values[0];
        if (k < 3) {
            CHECK_MSG(v->kind == TFC_SUMMARY_SCALAR, "event %d: kind %d", k, (int)v->kind);
            CHECK_NEAR(v->scalar, want[k], 0);
        } else {
            CHECK_MSG(v->kind == TFC_SUMMARY_TENSOR, "event %d: kind %d", k, (int)v->kind);
        }
        k++;
    }
    CHECK(k == 5);
    tfc_event_reader_close(r);
    remove(path);
    tfc_status_free(st);
}

TFC_TEST_MAIN(T(test_tf2_written_scalars), T(test_scalar_encodings))
