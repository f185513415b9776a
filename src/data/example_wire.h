/* tf.train.Example read straight from its wire bytes, without unpacking it
 * into allocated messages: ParseExample looks each requested key up in the
 * record and copies its values into the output tensors (no allocation per
 * record or per feature; bytes values are views into the record).
 *   Example  { Features features = 1; }
 *   Features { map<string, Feature> feature = 1; }   (entries: key 1, value 2)
 *   Feature  { oneof { BytesList bytes_list = 1; FloatList float_list = 2;
 *                      Int64List int64_list = 3; } }
 *   lists    { repeated bytes|float|int64 value = 1; }  (packed or not)
 * Protobuf's merge rules hold: a later map entry of the same key wins, and
 * a later oneof member replaces an earlier one (the same member repeated
 * concatenates). */
#ifndef TFC_DATA_EXAMPLE_WIRE_H
#define TFC_DATA_EXAMPLE_WIRE_H

#include "tfc.h" /* tfc_string */

#include <stddef.h>
#include <stdint.h>

/* the oneof's field numbers, which are also protobuf-c's kind_case values */
enum { EXW_NONE = 0, EXW_BYTES = 1, EXW_FLOAT = 2, EXW_INT64 = 3 };

typedef struct exw_feature {
    int kind;         /* EXW_*: EXW_NONE for a feature with no list */
    const uint8_t *p; /* the Feature's fields from the final kind's first */
    const uint8_t *end;
    size_t count; /* values in the list */
    /* the first value's bytes (a bytes value, 4 bytes of float, an int64's
     * varint): with count 1 the values are read from here, not walked to */
    const uint8_t *first;
    size_t first_len;
} exw_feature;

/* Checks rec as an Example (its messages' framing, every map entry, and
 * the Features of the n keys down to their lists, as protobuf would; like
 * TensorFlow's fast parser it does not look into a Feature not asked for)
 * and finds the n keys in the one pass: for each key k, found[k] 1 (f[k] filled:
 * its kind, its list's start and count) or 0. 0, or -1 when the record is
 * not a well-formed Example. */
int exw_scan(const uint8_t *rec, size_t len, const char *const *keys, const size_t *keylens, int n,
             exw_feature *f, int *found);

/* The values of f (count of them) into out: floats, int64s, or for bytes
 * views of the values where they lie in the record (nothing copied). */
void exw_floats(const exw_feature *f, float *out);
void exw_int64s(const exw_feature *f, int64_t *out);
void exw_bytes(const exw_feature *f, tfc_string *out);

#endif
