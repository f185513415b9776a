/* The byte layout of tfc's messages between tasks: a growable buffer to
 * write little-endian integers and length-prefixed strings into, and a
 * reader that refuses to run past the end (a truncated or corrupt message
 * is an error, never an out-of-bounds read). All ranks of one mpirun run
 * one build, so there is no versioning. */
#ifndef TFC_DISTRIBUTED_WIRE_H
#define TFC_DISTRIBUTED_WIRE_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct wire_buf {
    uint8_t *p;
    size_t n, cap;
    int oom;
} wire_buf;

static inline void wire_put(wire_buf *b, const void *v, size_t len) {
    if (b->oom) return;
    if (b->n + len > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->n + len) cap *= 2;
        uint8_t *q = realloc(b->p, cap);
        if (!q) {
            b->oom = 1;
            return;
        }
        b->p = q;
        b->cap = cap;
    }
    if (len) memcpy(b->p + b->n, v, len);
    b->n += len;
}
static inline void wire_u8(wire_buf *b, uint8_t v) { wire_put(b, &v, 1); }
static inline void wire_u32(wire_buf *b, uint32_t v) { wire_put(b, &v, 4); }
static inline void wire_u64(wire_buf *b, uint64_t v) { wire_put(b, &v, 8); }
static inline void wire_str(wire_buf *b, const char *s) {
    uint32_t n = (uint32_t)strlen(s);
    wire_u32(b, n);
    wire_put(b, s, n);
}
static inline void wire_bytes(wire_buf *b, const void *p, uint64_t n) {
    wire_u64(b, n);
    wire_put(b, p, (size_t)n);
}

typedef struct wire_rd {
    const uint8_t *p;
    size_t n, pos;
    int bad;
} wire_rd;

static inline const void *wire_take(wire_rd *r, size_t len) {
    if (r->bad || len > r->n - r->pos) {
        r->bad = 1;
        return NULL;
    }
    const void *q = r->p + r->pos;
    r->pos += len;
    return q;
}
static inline uint8_t wire_get_u8(wire_rd *r) {
    const uint8_t *q = wire_take(r, 1);
    return q ? *q : 0;
}
static inline uint32_t wire_get_u32(wire_rd *r) {
    uint32_t v = 0;
    const void *q = wire_take(r, 4);
    if (q) memcpy(&v, q, 4);
    return v;
}
static inline uint64_t wire_get_u64(wire_rd *r) {
    uint64_t v = 0;
    const void *q = wire_take(r, 8);
    if (q) memcpy(&v, q, 8);
    return v;
}
/* A malloc'd NUL-terminated copy of a string (NULL when bad or memory). */
static inline char *wire_get_str(wire_rd *r) {
    uint32_t n = wire_get_u32(r);
    const char *q = wire_take(r, n);
    if (!q) return NULL;
    char *s = malloc((size_t)n + 1);
    if (!s) {
        r->bad = 1;
        return NULL;
    }
    memcpy(s, q, n);
    s[n] = '\0';
    return s;
}
/* Bytes in place (borrowed from the message). */
static inline const void *wire_get_bytes(wire_rd *r, uint64_t *n) {
    *n = wire_get_u64(r);
    if (*n > r->n) {
        r->bad = 1;
        return NULL;
    }
    return wire_take(r, (size_t)*n);
}

#endif
