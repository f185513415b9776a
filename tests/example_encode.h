/* tf.train.Example pieces encoded byte by byte, for the ParseExample tests
 * that build records tfc's own writer never would (test_example_wire.c,
 * test_example_single_values.c). An Example's Features map is entries of
 * key (field 1) and Feature (field 2); a Feature holds one list member:
 * BytesList (1), FloatList (2), Int64List (3), each of values in field 1. */
#ifndef TFC_TESTS_EXAMPLE_ENCODE_H
#define TFC_TESTS_EXAMPLE_ENCODE_H

#include "formats/pb.h"

#include <stdint.h>
#include <string.h>

/* field `field` with length-delimited contents p[0, n) */
static inline void put_len(tfc_buf *b, int field, const void *p, size_t n) {
    pb_put_varint(b, (uint64_t)field << 3 | 2);
    pb_put_varint(b, n);
    tfc_buf_append(b, p, n);
}

/* a map entry key -> Feature (its bytes) appended into `feats` */
static inline void entry(tfc_buf *feats, const char *key, const tfc_buf *feature) {
    tfc_buf e = {0};
    put_len(&e, 1, key, strlen(key));
    put_len(&e, 2, feature->p, feature->n);
    put_len(feats, 1, e.p, e.n);
    tfc_buf_free(&e);
}

/* The Feature members, of n values packed or not (n 0: an empty list
 * message) appended into `feature` */
static inline void float_list(tfc_buf *feature, const float *v, size_t n, int packed) {
    tfc_buf l = {0};
    if (packed && n) put_len(&l, 1, v, 4 * n);
    for (size_t i = 0; !packed && i < n; i++) {
        pb_put_varint(&l, 1 << 3 | 5);
        tfc_buf_append(&l, &v[i], 4);
    }
    put_len(feature, 2, l.p, l.n);
    tfc_buf_free(&l);
}

static inline void int64_list(tfc_buf *feature, const int64_t *v, size_t n, int packed) {
    tfc_buf l = {0}, p = {0};
    for (size_t i = 0; i < n; i++) {
        if (!packed) pb_put_varint(&l, 1 << 3);
        pb_put_varint(packed ? &p : &l, (uint64_t)v[i]);
    }
    if (packed && n) put_len(&l, 1, p.p, p.n);
    put_len(feature, 3, l.p, l.n);
    tfc_buf_free(&l);
    tfc_buf_free(&p);
}

/* a BytesList of the one string s (NULL: an empty list) */
static inline void bytes_list(tfc_buf *feature, const char *s) {
    tfc_buf l = {0};
    if (s) put_len(&l, 1, s, strlen(s));
    put_len(feature, 1, l.p, l.n);
    tfc_buf_free(&l);
}

#endif
