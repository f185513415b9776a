/* The SSTable (LevelDB table without filter blocks) that holds a V2
 * checkpoint's index: data blocks of prefix-compressed sorted entries, an
 * empty metaindex block, an index block and a 48-byte footer; each block
 * stored as it is or snappy-compressed. */
#ifndef TFC_FORMATS_SSTABLE_H
#define TFC_FORMATS_SSTABLE_H

#include "formats/pb.h"

#define TFC_SSTABLE_FOOTER_SIZE 48
#define TFC_SSTABLE_MAGIC 0xdb4775248b80fb57ull

typedef struct tfc_sstable_entry {
    char *key; /* NUL-terminated copy; klen bytes (keys here hold no NUL) */
    size_t klen;
    uint8_t *value;
    size_t vlen;
} tfc_sstable_entry;

/* How a block's contents are stored: the trailer's type byte (LevelDB's
 * and TensorFlow's CompressionType values). */
typedef enum tfc_sstable_compression {
    TFC_SSTABLE_UNCOMPRESSED = 0,
    TFC_SSTABLE_SNAPPY = 1,
} tfc_sstable_compression;

/* Encodes a table of `n` entries whose keys are strictly increasing
 * (bytewise) into `out`: one data block with a restart every 16 entries,
 * an empty metaindex block and the index block. With TFC_SSTABLE_SNAPPY
 * each block is stored snappy-compressed when that saves at least an eighth
 * of it, else as it is (LevelDB's rule, kept by TensorFlow's table
 * builder). 0, or -1 on bad key order or no memory. */
int tfc_sstable_build_compressed(tfc_buf *out, const tfc_sstable_entry *entries, int n,
                                 tfc_sstable_compression compression);
/* tfc_sstable_build_compressed without compression, as TensorFlow's bundle
 * writer has written checkpoint indexes since TF 1.2. */
int tfc_sstable_build(tfc_buf *out, const tfc_sstable_entry *entries, int n);
/* Decodes a whole table, checking every block's CRC and uncompressing
 * snappy blocks (never to more than the 64/3-fold that snappy can expand,
 * and only after the whole stream has been checked). On success *entries
 * (caller frees with tfc_sstable_entries_free) holds the entries in order.
 * On failure returns -1 with a reason in `err`. */
int tfc_sstable_parse(const uint8_t *data, size_t n, tfc_sstable_entry **entries, int *nentries,
                      char *err, size_t errlen);
void tfc_sstable_entries_free(tfc_sstable_entry *e, int n);

#endif
