/* Encoding of tensorflow.Event and tensorflow.Summary messages, and the
 * histogram TensorFlow draws for HistogramSummary. A Summary's values are
 * a repeated field, so concatenating serialized Summaries merges them. */
#ifndef TFC_FORMATS_EVENTS_H
#define TFC_FORMATS_EVENTS_H

#include "formats/pb.h"
#include "tfc.h"

/* Each appends one Summary.value to the Summary message being built in `s`. */
void tfc_summary_add_scalar(tfc_buf *s, const char *tag, float v);
/* Histogram of n finite values with TF's default bucket edges, encoded as
 * TF's HistogramSummary does: non-empty buckets, each run of empty ones
 * collapsed into one zero entry. */
void tfc_summary_add_histogram(tfc_buf *s, const char *tag, const double *v, int64_t n);
void tfc_summary_add_image(tfc_buf *s, const char *tag, int height, int width, int colorspace,
                           const void *png, size_t png_size);
/* A tensor value (TensorSummaryV2): strings as string_val, other dtypes as
 * tensor_content, with the serialized SummaryMetadata `meta`. -1 when
 * `meta` is not a SummaryMetadata, else 0 (memory errors set s->oom). */
int tfc_summary_add_tensor(tfc_buf *s, const char *tag, const tfc_tensor *t, const void *meta,
                           size_t meta_len);
/* A serialized SummaryMetadata naming `plugin_name` ("text" for TF's text
 * plugin). */
void tfc_summary_metadata_for_plugin(tfc_buf *out, const char *plugin_name);

/* TF's default histogram edges (ascending, -DBL_MAX ... DBL_MAX). */
int tfc_histogram_default_limits(const double **limits);

enum { TFC_EVENT_FILE_VERSION = 3, TFC_EVENT_GRAPH_DEF = 4, TFC_EVENT_SUMMARY = 5 };
/* Encodes Event{wall_time, step, <what> = bytes}; step 0 is omitted. For
 * TFC_EVENT_SUMMARY `bytes` is a serialized Summary, which is checked:
 * -1 when it is malformed, else 0 (memory errors set out->oom). */
int tfc_event_encode(tfc_buf *out, double wall_time, int64_t step, int what, const void *bytes,
                     size_t n);

/* Decodes the tags of a serialized Summary: calls fn for each value's tag.
 * 0, or -1 when malformed. */
int tfc_summary_each_tag(const uint8_t *p, size_t n,
                         int (*fn)(void *, const uint8_t *tag, size_t len), void *arg);

#endif
