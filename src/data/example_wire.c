/* tf.train.Example from its wire bytes (see example_wire.h). */
#include "data/example_wire.h"
#include "formats/pb.h"

#include <string.h>

enum { WT_VARINT = 0, WT_I64 = 1, WT_LEN = 2, WT_I32 = 5 };

/* The scanner's helpers are forced inline: called through pointers to
 * their seven results, next_field cost about 60 instructions a field, and
 * a record has five per feature. */
#define EXW_INLINE static inline __attribute__((always_inline))

/* pb_get_varint's result, returned by value (below) */
typedef struct varint_read {
    const uint8_t *p; /* past the varint */
    uint64_t v;
    int err;
} varint_read;

/* The varints of three bytes and more, out of line. They come back by
 * value: had the scanner's cursor and value gone to pb_get_varint by
 * address, they would live in memory through all of the inlined scan. */
__attribute__((noinline)) static varint_read varint_long(const uint8_t *q, const uint8_t *end) {
    varint_read r = {q, 0, 0};
    r.err = pb_get_varint(&r.p, end, &r.v);
    return r;
}

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
    varint_read r = varint_long(q, end);
    *p = r.p;
    *out = r.v;
    return r.err;
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

/* Counts the values of one list message of f's kind into f->count,
 * noting the first value since the count started; -1 malformed. */
static int list_count(exw_feature *f, const uint8_t *p, const uint8_t *end) {
    uint32_t num;
    int wt, r, kind = f->kind;
    const uint8_t *v;
    size_t n = 0;
    uint64_t x;
    while ((r = next_field(&p, end, &num, &wt, &v, &n, &x)) > 0) {
        if (num != 1) continue;
        size_t before = f->count;
        const uint8_t *first = v;
        size_t first_len = n;
        if (kind == EXW_BYTES) {
            if (wt != WT_LEN) return -1;
            f->count++;
        } else if (kind == EXW_FLOAT) {
            if (wt == WT_I32) {
                f->count++;
            } else if (wt == WT_LEN && n % 4 == 0) {
                f->count += n / 4;
                first_len = 4;
            } else {
                return -1;
            }
        } else if (wt == WT_VARINT) {
            f->count++;
            first_len = (size_t)(p - v);
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
            f->count += ends;
        } else {
            return -1;
        }
        if (before == 0 && f->count) {
            f->first = first;
            f->first_len = first_len;
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
    f->first = NULL;
    f->first_len = 0;
    while ((r = next_field(&p, end, &num, &wt, &v, &n, &x)) > 0) {
        if (num >= 1 && num <= 3) {
            if (wt != WT_LEN) return -1;
            if ((int)num != f->kind) { /* another member replaces the one before */
                f->kind = (int)num;
                f->p = at;
                f->count = 0;
            }
            if (list_count(f, v, v + n)) return -1;
        }
        at = p;
    }
    return r;
}

/* The key and value of a map entry [q, qe): fields 1 and 2 (absent: ""
 * and an empty Feature; the last of each wins; other fields skipped). 0,
 * or -1 when malformed. The layout every writer uses -- the key, then the
 * value running to the entry's end -- is read without the field loop: the
 * same result, for a third of the scan's instructions. */
EXW_INLINE int entry_fields(const uint8_t *q, const uint8_t *qe, const uint8_t **key,
                            size_t *keylen, const uint8_t **val, size_t *vallen) {
    *key = *val = q;
    *keylen = *vallen = 0;
    if (qe - q >= 3 && q[0] == (1 << 3 | WT_LEN) && q[1] < 0x80 && q[1] < qe - q - 2 &&
        q[2 + q[1]] == (2 << 3 | WT_LEN)) {
        const uint8_t *v = q + 3 + q[1];
        uint64_t vn;
        if (!get_varint(&v, qe, &vn) && vn == (uint64_t)(qe - v)) {
            *key = q + 2;
            *keylen = q[1];
            *val = v;
            *vallen = (size_t)vn;
            return 0;
        }
    }
    uint32_t num;
    int wt, r;
    const uint8_t *kv;
    size_t kn = 0;
    uint64_t x;
    while ((r = next_field(&q, qe, &num, &wt, &kv, &kn, &x)) > 0) {
        if (num != 1 && num != 2) continue;
        if (wt != WT_LEN) return -1;
        if (num == 1) {
            *key = kv;
            *keylen = kn;
        } else {
            *val = kv;
            *vallen = kn;
        }
    }
    return r;
}

/* An entry of a wanted key (the last one wins) is checked down to its
 * list and kept. Like TensorFlow's fast parser (example_proto_fast_parsing),
 * the Feature of a key nobody asked for is not looked into: its entry's
 * framing was checked, which is all a skip needs (and the features of an
 * MNIST record that are not read cost a third of the scan). */
EXW_INLINE int match_entry(const uint8_t *key, size_t keylen, const uint8_t *val, size_t vallen,
                           const char *const *keys, const size_t *keylens, int n, exw_feature *f,
                           int *found) {
    int scanned = -1;
    for (int k = 0; k < n; k++)
        if (keylen == keylens[k] &&
            (!keylen || (key[0] == (uint8_t)keys[k][0] && !memcmp(key, keys[k], keylen)))) {
            if (scanned < 0 && feature_scan(val, val + vallen, &f[k])) return -1;
            if (scanned >= 0) f[k] = f[scanned];
            scanned = k;
            found[k] = 1;
        }
    return 0;
}

/* Every map entry of every Features of the Example, in one walk. */
int exw_scan(const uint8_t *rec, size_t len, const char *const *keys, const size_t *keylens, int n,
             exw_feature *f, int *found) {
    for (int k = 0; k < n; k++) found[k] = 0;
    const uint8_t *p = rec, *end = rec + len, *v;
    uint32_t num;
    int wt, r;
    size_t vn = 0;
    uint64_t x;
    while ((r = next_field(&p, end, &num, &wt, &v, &vn, &x)) > 0) {
        if (num != 1) continue;
        if (wt != WT_LEN) return -1;
        const uint8_t *fp = v, *fe = v + vn, *ev;
        size_t en = 0;
        int fr;
        while ((fr = next_field(&fp, fe, &num, &wt, &ev, &en, &x)) > 0) {
            if (num != 1) continue;
            if (wt != WT_LEN) return -1;
            const uint8_t *key, *val;
            size_t keylen, vallen;
            if (entry_fields(ev, ev + en, &key, &keylen, &val, &vallen) ||
                match_entry(key, keylen, val, vallen, keys, keylens, n, f, found))
                return -1;
        }
        if (fr < 0) return -1;
    }
    return r;
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
    uint64_t x = 0;
    if (f->count == 1) { /* (the usual feature: a label, an image's bytes) */
        if (f->kind == EXW_INT64) {
            const uint8_t *q = f->first;
            get_varint(&q, f->first + f->first_len, &x);
        }
        fill_value(f->kind, out, &k, f->kind == EXW_INT64 ? WT_VARINT : WT_LEN, f->first,
                   f->first_len, x);
        return;
    }
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
