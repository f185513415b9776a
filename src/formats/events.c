/* Event and Summary encoders over the protobuf-c messages of
 * protos/summary.proto; TF's default histogram buckets and its rule for
 * which empty buckets a written histogram keeps. Oneof members
 * (simple_value, image, histo, tensor, the Event payloads) are written even
 * when zero, because presence is what selects the member. */
#include "formats/events.h"
#include "core/tensor.h"
#include "formats/proto.h"
#include "summary.pb-c.h"

#include <float.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* Appends Summary{value: [v]}; `v` gets its tag here. */
static void add_value(tfc_buf *s, Tensorflow__Summary__Value *v, const char *tag) {
    Tensorflow__Summary sum;
    tensorflow__summary__init(&sum);
    v->tag = (char *)tag;
    sum.n_value = 1;
    sum.value = &v;
    tfc_buf_pack(s, &sum.base);
}

void tfc_summary_add_scalar(tfc_buf *s, const char *tag, float x) {
    Tensorflow__Summary__Value v;
    tensorflow__summary__value__init(&v);
    v.value_case = TENSORFLOW__SUMMARY__VALUE__VALUE_SIMPLE_VALUE;
    v.simple_value = x;
    add_value(s, &v, tag);
}

static double *limits;
static int nlimits;
static pthread_once_t limits_once = PTHREAD_ONCE_INIT;

static void make_limits(void) {
    int npos = 0;
    for (double v = 1e-12; v < 1e20; v *= 1.1) npos++;
    double *l = malloc(sizeof *l * (size_t)(2 * npos + 3));
    if (!l) return;
    /* -DBL_MAX, -edges (descending), 0, +edges, DBL_MAX */
    double *pos = l + npos + 2;
    int k = 0;
    for (double v = 1e-12; v < 1e20; v *= 1.1) pos[k++] = v;
    pos[k] = DBL_MAX;
    int n = 0;
    l[n++] = -DBL_MAX;
    for (int i = npos - 1; i >= 0; i--) l[n++] = -pos[i];
    l[n++] = 0.0;
    limits = l;
    nlimits = n + npos + 1;
}

int tfc_histogram_default_limits(const double **out) {
    pthread_once(&limits_once, make_limits);
    *out = limits;
    return nlimits;
}

/* Bucket of v: the first limit greater than v (TF's upper_bound rule). */
static int bucket_of(const double *l, int n, double v) {
    int lo = 0, hi = n - 1;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (l[mid] > v) hi = mid;
        else lo = mid + 1;
    }
    return lo;
}

void tfc_summary_add_histogram(tfc_buf *s, const char *tag, const double *x, int64_t n) {
    const double *l;
    int nl = tfc_histogram_default_limits(&l);
    double *counts = nl ? calloc((size_t)nl, sizeof *counts) : NULL;
    double *out_limit = nl ? malloc(sizeof *out_limit * (size_t)nl) : NULL;
    double *out_count = nl ? malloc(sizeof *out_count * (size_t)nl) : NULL;
    if (!counts || !out_limit || !out_count) {
        free(counts);
        free(out_limit);
        free(out_count);
        s->oom = 1;
        return;
    }
    Tensorflow__HistogramProto h;
    tensorflow__histogram_proto__init(&h);
    h.min = DBL_MAX;
    h.max = -DBL_MAX;
    for (int64_t i = 0; i < n; i++) {
        h.min = x[i] < h.min ? x[i] : h.min;
        h.max = x[i] > h.max ? x[i] : h.max;
        h.sum += x[i];
        h.sum_squares += x[i] * x[i];
        counts[bucket_of(l, nl, x[i])] += 1;
    }
    h.num = (double)n;
    /* TF's EncodeToProto(preserve_zero_buckets = false): every non-empty
     * bucket, and each run of empty ones as one zero entry at the run's last
     * limit (so an empty histogram is the single entry {DBL_MAX: 0}) */
    size_t nb = 0;
    for (int i = 0; i < nl;) {
        double end = l[i], count = counts[i++];
        if (count <= 0)
            while (i < nl && counts[i] <= 0) end = l[i++];
        out_limit[nb] = end;
        out_count[nb++] = count;
    }
    h.n_bucket_limit = h.n_bucket = nb;
    h.bucket_limit = out_limit;
    h.bucket = out_count;
    Tensorflow__Summary__Value v;
    tensorflow__summary__value__init(&v);
    v.value_case = TENSORFLOW__SUMMARY__VALUE__VALUE_HISTO;
    v.histo = &h;
    add_value(s, &v, tag);
    free(counts);
    free(out_limit);
    free(out_count);
}

void tfc_summary_add_image(tfc_buf *s, const char *tag, int height, int width, int colorspace,
                           const void *png, size_t png_size) {
    Tensorflow__Summary__Image im;
    tensorflow__summary__image__init(&im);
    im.height = height;
    im.width = width;
    im.colorspace = colorspace;
    im.encoded_image_string.data = (uint8_t *)png;
    im.encoded_image_string.len = png_size;
    Tensorflow__Summary__Value v;
    tensorflow__summary__value__init(&v);
    v.value_case = TENSORFLOW__SUMMARY__VALUE__VALUE_IMAGE;
    v.image = &im;
    add_value(s, &v, tag);
}

int tfc_summary_add_tensor(tfc_buf *s, const char *tag, const tfc_tensor *t, const void *meta,
                           size_t meta_len) {
    Tensorflow__SummaryMetadata *md =
        tensorflow__summary_metadata__unpack(NULL, meta_len, (const uint8_t *)meta);
    if (!md) return -1;
    Tensorflow__TensorShapeProto shape;
    tensorflow__tensor_shape_proto__init(&shape);
    Tensorflow__TensorShapeProto__Dim dims[TFC_MAX_RANK], *pdims[TFC_MAX_RANK];
    for (int i = 0; i < t->rank; i++) {
        tensorflow__tensor_shape_proto__dim__init(&dims[i]);
        dims[i].size = t->dims[i];
        pdims[i] = &dims[i];
    }
    shape.n_dim = (size_t)t->rank;
    shape.dim = pdims;
    Tensorflow__TensorProto tp;
    tensorflow__tensor_proto__init(&tp);
    tp.dtype = (Tensorflow__DataType)t->dtype;
    tp.tensor_shape = &shape;
    ProtobufCBinaryData *strs = NULL;
    if (t->dtype == TFC_STRING) {
        /* as TF's kernel: strings one per string_val (tensor_content cannot
         * hold them), other types as raw tensor_content */
        strs = malloc(sizeof *strs * (size_t)(t->nelem ? t->nelem : 1));
        if (!strs) {
            tensorflow__summary_metadata__free_unpacked(md, NULL);
            s->oom = 1;
            return 0;
        }
        for (int64_t i = 0; i < t->nelem; i++) {
            tfc_string e = tfc_string_at(t, i);
            strs[i].data = (uint8_t *)e.data;
            strs[i].len = e.len;
        }
        tp.n_string_val = (size_t)t->nelem;
        tp.string_val = strs;
    } else {
        tp.tensor_content.data = t->data;
        tp.tensor_content.len = t->nbytes;
    }
    Tensorflow__Summary__Value v;
    tensorflow__summary__value__init(&v);
    v.value_case = TENSORFLOW__SUMMARY__VALUE__VALUE_TENSOR;
    v.tensor = &tp;
    v.metadata = md;
    add_value(s, &v, tag);
    free(strs);
    tensorflow__summary_metadata__free_unpacked(md, NULL);
    return 0;
}

void tfc_summary_metadata_for_plugin(tfc_buf *out, const char *plugin_name) {
    Tensorflow__SummaryMetadata__PluginData plugin;
    tensorflow__summary_metadata__plugin_data__init(&plugin);
    plugin.plugin_name = (char *)plugin_name;
    Tensorflow__SummaryMetadata meta;
    tensorflow__summary_metadata__init(&meta);
    meta.plugin_data = &plugin;
    tfc_buf_pack(out, &meta.base);
}

int tfc_event_encode(tfc_buf *out, double wall_time, int64_t step, int what, const void *bytes,
                     size_t n) {
    Tensorflow__Event ev;
    tensorflow__event__init(&ev);
    ev.wall_time = wall_time;
    ev.step = step;
    Tensorflow__Summary *sum = NULL;
    char *version = NULL;
    switch (what) {
    case TFC_EVENT_SUMMARY:
        sum = tensorflow__summary__unpack(NULL, n, bytes);
        if (!sum) return -1;
        ev.what_case = TENSORFLOW__EVENT__WHAT_SUMMARY;
        ev.summary = sum;
        break;
    case TFC_EVENT_FILE_VERSION:
        version = malloc(n + 1);
        if (!version) {
            out->oom = 1;
            return 0;
        }
        memcpy(version, bytes, n);
        version[n] = 0;
        ev.what_case = TENSORFLOW__EVENT__WHAT_FILE_VERSION;
        ev.file_version = version;
        break;
    default:
        ev.what_case = TENSORFLOW__EVENT__WHAT_GRAPH_DEF;
        ev.graph_def.data = (uint8_t *)bytes;
        ev.graph_def.len = n;
    }
    tfc_buf_pack(out, &ev.base);
    if (sum) tensorflow__summary__free_unpacked(sum, NULL);
    free(version);
    return 0;
}

int tfc_summary_each_tag(const uint8_t *p, size_t n,
                         int (*fn)(void *, const uint8_t *tag, size_t len), void *arg) {
    Tensorflow__Summary *sum = tensorflow__summary__unpack(NULL, n, p);
    if (!sum) return -1;
    int rc = 0;
    for (size_t i = 0; i < sum->n_value && !rc; i++)
        rc = fn(arg, (const uint8_t *)sum->value[i]->tag, strlen(sum->value[i]->tag));
    tensorflow__summary__free_unpacked(sum, NULL);
    return rc ? -1 : 0;
}
