/* A file read as a byte stream, plain or compressed as TensorFlow's
 * readers take it ("ZLIB": a zlib stream, "GZIP": a gzip one), with the
 * offset in the uncompressed bytes for messages; and TFRecord framing on
 * top of it (length, masked CRC-32C of the length, data, masked CRC-32C of
 * the data). */
#ifndef TFC_DATA_RECORD_STREAM_H
#define TFC_DATA_RECORD_STREAM_H

#include "tfc.h"

#include <stddef.h>
#include <stdint.h>

typedef struct tfc_stream tfc_stream;

/* compression: "" (or NULL), "ZLIB" or "GZIP". NULL with `st` naming the
 * file when it cannot be opened or the compression is unknown. */
tfc_stream *tfc_stream_open(const char *path, const char *compression, tfc_status *st);
/* Reads up to n bytes; the count (short only at the end), or -1 with `st`
 * set (a corrupt compressed stream names the file and offset). */
long tfc_stream_read(tfc_stream *s, void *buf, size_t n, tfc_status *st);
/* Bytes handed out so far (uncompressed). */
uint64_t tfc_stream_offset(const tfc_stream *s);
const char *tfc_stream_path(const tfc_stream *s);
void tfc_stream_close(tfc_stream *s);

/* The next TFRecord: 1 with *data (owned by the stream, valid until the
 * next call) and *n, 0 at a clean end, -1 with `st` DATA_LOSS naming the
 * file and the record's offset when truncated or corrupt. */
int tfc_stream_next_record(tfc_stream *s, const uint8_t **data, size_t *n, uint64_t *offset,
                           tfc_status *st);

#endif
