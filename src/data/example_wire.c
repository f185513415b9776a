/* tf.train.Example from its wire bytes (see example_wire.h). */
#include "data/example_wire.h"
#include "formats/pb.h"

#include <string.h>

enum { WT_VARINT = 0, WT_I64 = 1, WT_LEN = 2, WT_I32 = 5 };

/* The scanner's helpers are forced inline: called through pointers to
 * their seven results, next_field cost about 60 instructions a field, and
 * a record has five per feature. */
#define EXW_INLINE static inline __attribute__((always_inline))

/* pb_get_varint with the one- and two-byte cases (tags, short lengths)
 * inline */
EXW_INLINE int get_varint(const uint8_t **p, const uint8_t *end, uint64_t *out) {
    const uint8_t *q = *p;
    if (q < end && q[0] < 0x80) {
        *out = q[0];
        *p = q + 1;
        return 0;
    }
    if (end - q >= 2 && q[1] < 0x80) {
        *out = (uint64_t)(q[0] & 0x7F) | (uint64_t)q[1] << 7;
        *p = q + 2;
        return 0;
    }
    return pb_get_varint(p, end, out);
}

/* One field of [*p, end): its number, wire type and value (bytes for
 * WT_LEN / WT_I32 / WT_I64, the number for WT_VARINT). Advances *p.
 * 1: a field, 0: the end, -1: malformed (groups are not accepted). */
EXW_INLINE int next_field(const uint8_t **p, const uint8_t *end, uint32_t *num, int *wt,
                      const uint8_t **val, size_t *vlen, uint64_t *vint) {
    if (*p >= end) return 0;
    uint64_t tag, n;
    if (get_varint(p, end, &tag) || (tag >> 3) == 0 || (tag >> 3) > 0x1fffffff) return -1;
    *num = (uint32_t)(tag >> 3);
    *wt = (int)(tag & 7);
    *val = *p;
    switch (*wt) {
    case WT_VARINT: return get_varint(p, end, vint) ? -1 : 1;
    case WT_I64: n = 8; break;
    case WT_I32: n = 4; break;
    case WT_LEN:
        if (get_varint(p, end, &n)) return -1;
        *val = *p;
        break;
    default: return -1;
    }
    if (n > (uint64_t)(end - *p)) return -1;
    *vlen = (size_t)n;
    *p += n;
    return 1;
}

/* Counts the values of one list message of the given kind; -1 malformed. */
static int list_count(int kind, const uint8_t *p, const uint8_t *end, size_t *count) {
    uint32_t num;
    int wt, r;
    const uint8_t *v;
    size_t n = 0;
    uint64_t x;
    while ((r = next_field(&p, end, &num, &wt, &v, &n, &x)) > 0) {
        if (num != 1) continue;
        if (kind == EXW_BYTES) {
            if (wt != WT_LEN) return -1;
            (*count)++;
        } else if (kind == EXW_FLOAT) {
            if (wt == WT_I32) {
                (*count)++;
            } else if (wt == WT_LEN && n % 4 == 0) {
                *count += n / 4;
            } else {
                return -1;
            }
        } else if (wt == WT_VARINT) {
            (*count)++;
        } else if (wt == WT_LEN) {
            /* packed varints: one ends at each byte below 0x80; the last
             * byte must end one, and none may pass 10 bytes */
            size_t ends = 0, run = 0;
            for (size_t k = 0; k < n; k++) {
                int last = v[k] < 0x80;
                ends += (size_t)last;
                run = last ? 0 : run + 1;
                if (run >= 10) return -1;
            }
            if (n && v[n - 1] >= 0x80) return -1;
            *count += ends;
        } else {
            return -1;
        }
    }
    return r;
}

/* Scans a Feature: its final kind, where that kind's run of fields starts
 * and how many values they hold. 0, or -1 when malformed. */
static int feature_scan(const uint8_t *p, const uint8_t *end, exw_feature *f) {
    uint32_t num;
    int wt, r;
    const uint8_t *v, *at = p;
    size_t n = 0;
    uint64_t x;
    f->kind = EXW_NONE;
    f->count = 0;
    f->p = f->end = end;
    while ((r = next_field(&p, end, &num, &wt, &v, &n, &x)) > 0) {
        if (num >= 1 && num <= 3) {
            if (wt != WT_LEN) return -1;
            if ((int)num != f->kind) { /* another member replaces the one before */
                f->kind = (int)num;
                f->p = at;
                f->count = 0;
            }
            if (list_count(f->kind, v, v + n, &f->count)) return -1;
        }
        at = p;
    }
    return r;
}

/* Calls fn(arg, key, keylen, value, valuelen) for each map entry of each
 * Features of the Example; -1 when malformed or when fn returns nonzero. */
static int for_each_entry(const uint8_t *rec, size_t len,
                          int (*fn)(void *, const uint8_t *, size_t, const uint8_t *, size_t),
                          void *arg) {
    const uint8_t *p = rec, *end = rec + len, *v;
    uint32_t num;
    int wt, r;
    size_t n = 0;
    uint64_t x;
    while ((r = next_field(&p, end, &num, &wt, &v, &n, &x)) > 0) {
        if (num != 1) continue;
        if (wt != WT_LEN) return -1;
        const uint8_t *fp = v, *fe = v + n, *ev;
        size_t en = 0;
        int fr;
        while ((fr = next_field(&fp, fe, &num, &wt, &ev, &en, &x)) > 0) {
            if (num != 1) continue;
            if (wt != WT_LEN) return -1;
            /* an entry: key 1, value 2 (absent: "" and an empty Feature) */
            const uint8_t *q = ev, *qe = ev + en, *kv, *key = ev, *val = ev;
            size_t kn = 0, keylen = 0, vallen = 0;
            int er;
            while ((er = next_field(&q, qe, &num, &wt, &kv, &kn, &x)) > 0) {
                if (num != 1 && num != 2) continue;
                if (wt != WT_LEN) return -1;
                if (num == 1) {
                    key = kv;
                    keylen = kn;
                } else {
                    val = kv;
                    vallen = kn;
                }
            }
            if (er < 0 || fn(arg, key, keylen, val, vallen)) return -1;
        }
        if (fr < 0) return -1;
    }
    return r;
}

typedef struct scanning {
    const char *const *keys;
    const size_t *keylens;
    int n;
    exw_feature *f;
    int *found;
} scanning;

/* An entry of a wanted key (the last one wins) is checked down to its
 * list and kept. Like TensorFlow's fast parser (example_proto_fast_parsing),
 * the Feature of a key nobody asked for is not looked into: its entry's
 * framing was checked, which is all a skip needs (and the features of an
 * MNIST record that are not read cost a third of the scan). */
static int scan_entry(void *arg, const uint8_t *key, size_t keylen, const uint8_t *val,
                      size_t vallen) {
    scanning *sc = arg;
    exw_feature f;
    int scanned = 0;
    for (int k = 0; k < sc->n; k++)
        if (keylen == sc->keylens[k] && !memcmp(key, sc->keys[k], keylen)) {
            if (!scanned && feature_scan(val, val + vallen, &f)) return -1;
            scanned = 1;
            sc->f[k] = f;
            sc->found[k] = 1;
        }
    return 0;
}

int exw_scan(const uint8_t *rec, size_t len, const char *const *keys, const size_t *keylens, int n,
             exw_feature *f, int *found) {
    scanning sc = {keys, keylens, n, f, found};
    for (int k = 0; k < n; k++) found[k] = 0;
    return for_each_entry(rec, len, scan_entry, &sc);
}

/* One value field (number 1 of a list message) of a feature of `kind`
 * into out from value k (advanced): a float (WT_I32) or packed floats, an
 * int64 (WT_VARINT) or packed varints, or one bytes value as a view.
 * exw_scan checked the wire types and counted the values: out has room. */
EXW_INLINE void fill_value(int kind, void *out, size_t *k, int wt, const uint8_t *v, size_t n,
                           uint64_t x) {
    switch (kind) {
    case EXW_FLOAT:
        memcpy((float *)out + *k, v, n); /* little-endian, as the host */
        *k += n / 4;
        return;
    case EXW_INT64: {
        int64_t *o = out;
        if (wt == WT_VARINT) {
            o[(*k)++] = (int64_t)x;
            return;
        }
        const uint8_t *q = v, *qe = v + n;
        while (q < qe && !get_varint(&q, qe, &x)) o[(*k)++] = (int64_t)x;
        return;
    }
    default: ((tfc_string *)out)[(*k)++] = (tfc_string){(const char *)v, n};
    }
}

/* Walks every value field of every list message of f's kind, the one
 * iterator of the three kinds (each differs only in its fill_value step). */
static void fill(const exw_feature *f, void *out) {
    const uint8_t *p = f->p, *v, *w;
    uint32_t num;
    int wt;
    size_t n = 0, wn = 0, k = 0;
    uint64_t x;
    while (next_field(&p, f->end, &num, &wt, &v, &n, &x) > 0) {
        if ((int)num != f->kind) continue;
        const uint8_t *q = v, *qe = v + n;
        while (next_field(&q, qe, &num, &wt, &w, &wn, &x) > 0)
            if (num == 1) fill_value(f->kind, out, &k, wt, w, wn, x);
    }
}

void exw_floats(const exw_feature *f, float *out) { fill(f, out); }
void exw_int64s(const exw_feature *f, int64_t *out) { fill(f, out); }
void exw_bytes(const exw_feature *f, tfc_string *out) { fill(f, out); }
