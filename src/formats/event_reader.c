/* Reading event files: TFRecord records decoded as tensorflow.Event with
 * protobuf-c, their Summary values flattened into tfc_summary_value
 * structs that point into the decoded message, kept until the next read.
 * A TF2 scalar (a one-element tensor with the "scalars" plugin's metadata)
 * reads as a scalar, like a TF1 simple_value. */
#include "core/status.h"
#include "summary.pb-c.h"
#include "tfc.h"

#include <stdlib.h>
#include <string.h>

struct tfc_event_reader {
    tfc_record_reader *rec;
    Tensorflow__Event *ev; /* the current event */
    int cap;
    tfc_summary_value *values;
};

/* The value of a one-element numeric TensorProto (tensor_content or the
 * typed field, as TensorFlow's writers use either), into *out: 1, else 0. */
static int tensor_scalar(const Tensorflow__TensorProto *t, double *out) {
    const Tensorflow__TensorShapeProto *s = t->tensor_shape;
    int64_t n = 1;
    for (size_t d = 0; s && d < s->n_dim; d++) n *= s->dim[d]->size;
    if (n != 1 || (s && s->unknown_rank)) return 0;
    const uint8_t *raw = t->tensor_content.data;
    size_t len = t->tensor_content.len;
    union {
        float f;
        double d;
        int32_t i;
        int64_t l;
    } u;
    switch (t->dtype) {
    case TENSORFLOW__DATA_TYPE__DT_FLOAT:
        if (len == 4) memcpy(&u.f, raw, 4), *out = u.f;
        else if (t->n_float_val == 1) *out = t->float_val[0];
        else return 0;
        return 1;
    case TENSORFLOW__DATA_TYPE__DT_DOUBLE:
        if (len == 8) memcpy(&u.d, raw, 8), *out = u.d;
        else if (t->n_double_val == 1) *out = t->double_val[0];
        else return 0;
        return 1;
    case TENSORFLOW__DATA_TYPE__DT_INT32:
        if (len == 4) memcpy(&u.i, raw, 4), *out = u.i;
        else if (t->n_int_val == 1) *out = t->int_val[0];
        else return 0;
        return 1;
    case TENSORFLOW__DATA_TYPE__DT_INT64:
        if (len == 8) memcpy(&u.l, raw, 8), *out = (double)u.l;
        else if (t->n_int64_val == 1) *out = (double)t->int64_val[0];
        else return 0;
        return 1;
    default:
        return 0;
    }
}

static void fill_value(const Tensorflow__Summary__Value *v, tfc_summary_value *sv) {
    memset(sv, 0, sizeof *sv);
    sv->tag = v->tag;
    sv->plugin = v->metadata && v->metadata->plugin_data ? v->metadata->plugin_data->plugin_name
                                                         : "";
    switch (v->value_case) {
    case TENSORFLOW__SUMMARY__VALUE__VALUE_SIMPLE_VALUE:
        sv->kind = TFC_SUMMARY_SCALAR;
        sv->scalar = v->simple_value;
        break;
    case TENSORFLOW__SUMMARY__VALUE__VALUE_HISTO: {
        const Tensorflow__HistogramProto *h = v->histo;
        sv->kind = TFC_SUMMARY_HISTOGRAM;
        sv->hmin = h->min;
        sv->hmax = h->max;
        sv->hnum = h->num;
        sv->hsum = h->sum;
        sv->hsum_squares = h->sum_squares;
        /* a histogram with mismatched arrays shows its common part */
        sv->nbuckets = (int)(h->n_bucket < h->n_bucket_limit ? h->n_bucket : h->n_bucket_limit);
        sv->bucket_limit = h->bucket_limit;
        sv->bucket = h->bucket;
        break;
    }
    case TENSORFLOW__SUMMARY__VALUE__VALUE_IMAGE:
        sv->kind = TFC_SUMMARY_IMAGE;
        sv->height = v->image->height;
        sv->width = v->image->width;
        sv->colorspace = v->image->colorspace;
        sv->data = v->image->encoded_image_string.data;
        sv->size = v->image->encoded_image_string.len;
        break;
    case TENSORFLOW__SUMMARY__VALUE__VALUE_TENSOR: {
        const Tensorflow__TensorProto *t = v->tensor;
        /* TF2's tf.summary.scalar: a one-element tensor, "scalars" plugin */
        if (!strcmp(sv->plugin, "scalars") && tensor_scalar(t, &sv->scalar)) {
            sv->kind = TFC_SUMMARY_SCALAR;
            break;
        }
        sv->kind = TFC_SUMMARY_TENSOR;
        if (t->n_string_val) {
            sv->data = t->string_val[0].data;
            sv->size = t->string_val[0].len;
        } else {
            sv->data = t->tensor_content.data;
            sv->size = t->tensor_content.len;
        }
        break;
    }
    default:
        sv->kind = TFC_SUMMARY_OTHER;
    }
}

tfc_event_reader *tfc_event_reader_open(const char *path, tfc_status *st) {
    tfc_event_reader *r = calloc(1, sizeof *r);
    if (!r) {
        tfc_status_set(st, TFC_INTERNAL, "out of memory");
        return NULL;
    }
    if (!(r->rec = tfc_record_reader_open(path, st))) {
        free(r);
        return NULL;
    }
    return r;
}

int tfc_event_reader_next(tfc_event_reader *r, tfc_event *out, tfc_status *st) {
    if (r->ev) tensorflow__event__free_unpacked(r->ev, NULL);
    r->ev = NULL;
    const uint8_t *p;
    size_t n;
    int rc = tfc_record_reader_next(r->rec, &p, &n, st);
    if (rc <= 0) return rc;
    Tensorflow__Event *ev = tensorflow__event__unpack(NULL, n, p);
    if (!ev) {
        tfc_status_set(st, TFC_DATA_LOSS, "malformed Event record in event file");
        return -1;
    }
    r->ev = ev;
    memset(out, 0, sizeof *out);
    out->wall_time = ev->wall_time;
    out->step = ev->step;
    out->file_version =
        ev->what_case == TENSORFLOW__EVENT__WHAT_FILE_VERSION ? ev->file_version : "";
    if (ev->what_case == TENSORFLOW__EVENT__WHAT_GRAPH_DEF) {
        out->graph_def = ev->graph_def.data;
        out->graph_def_size = ev->graph_def.len;
    }
    if (ev->what_case == TENSORFLOW__EVENT__WHAT_SUMMARY && ev->summary->n_value) {
        size_t nv = ev->summary->n_value;
        if ((size_t)r->cap < nv) {
            tfc_summary_value *v = realloc(r->values, sizeof *v * nv);
            if (!v) {
                tfc_status_set(st, TFC_INTERNAL, "out of memory reading an event");
                return -1;
            }
            r->values = v;
            r->cap = (int)nv;
        }
        for (size_t i = 0; i < nv; i++) fill_value(ev->summary->value[i], &r->values[i]);
        out->nvalues = (int)nv;
        out->values = r->values;
    }
    return 1;
}

void tfc_event_reader_close(tfc_event_reader *r) {
    if (!r) return;
    if (r->ev) tensorflow__event__free_unpacked(r->ev, NULL);
    free(r->values);
    tfc_record_reader_close(r->rec);
    free(r);
}
