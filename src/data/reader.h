/* Readers: TensorFlow's TFRecordReader, TextLineReader,
 * FixedLengthRecordReader and WholeFileReader as session resources. A
 * reader works through "work items" (file names) taken from a queue and
 * produces records with keys as TensorFlow's: "file:offset" (TFRecord),
 * "file:line" (1-based, header lines counted), "file:index" (fixed length),
 * "file" (whole file). */
#ifndef TFC_DATA_READER_H
#define TFC_DATA_READER_H

#include "core/tensor.h"

typedef enum tfc_reader_kind {
    TFC_READER_TFRECORD,
    TFC_READER_TEXT_LINE,
    TFC_READER_FIXED_LENGTH,
    TFC_READER_WHOLE_FILE
} tfc_reader_kind;

typedef struct tfc_reader_spec {
    tfc_reader_kind kind;
    const char *name;
    const char *compression; /* TFRecord's compression_type, fixed length's encoding */
    int64_t skip_header_lines;
    int64_t header_bytes, record_bytes, footer_bytes, hop_bytes;
} tfc_reader_spec;

typedef struct tfc_reader tfc_reader;

/* One reference; NULL when memory runs out. */
tfc_reader *tfc_reader_new(const tfc_reader_spec *spec);
tfc_reader *tfc_reader_from_handle(const tfc_tensor *handle);
const char *tfc_reader_type(const tfc_reader *r);

/* The caller holds the lock around the calls below. */
void tfc_reader_lock(tfc_reader *r);
void tfc_reader_unlock(tfc_reader *r);
/* Adds a work item (a file name, copied). 0 or -1. */
int tfc_reader_add_work(tfc_reader *r, const char *name, size_t len);
/* The next record of the current work item (opening the next added one
 * when there is none): 1 with its key and value copied into element i of
 * the string tensors `keys` and `values` (their storage: one copy of the
 * bytes), 2 when the current item just ended (call again), 0 when no work
 * is left, -1 with `st` naming the file and where. */
int tfc_reader_next(tfc_reader *r, tfc_tensor *keys, tfc_tensor *values, int64_t i,
                    tfc_status *st);
/* Records produced and work items finished so far; Reset forgets the
 * current and added work and zeroes both. */
int64_t tfc_reader_records_produced(tfc_reader *r);
int64_t tfc_reader_work_completed(tfc_reader *r);
void tfc_reader_clear(tfc_reader *r);

#endif
