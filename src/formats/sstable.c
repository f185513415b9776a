/* SSTable encoder and decoder for checkpoint indexes. Blocks carry a 5-byte
 * trailer: a type byte (0 = stored as is, 1 = snappy) and the masked CRC-32C
 * of the stored contents and the type byte. BlockHandles are two varints
 * (offset, size of the stored contents). Snappy is Debian's libsnappy. */
#include "formats/sstable.h"
#include "formats/crc32c.h"

#include <snappy-c.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { RESTART_INTERVAL = 16 };

static int key_cmp(const tfc_sstable_entry *a, const tfc_sstable_entry *b) {
    size_t m = a->klen < b->klen ? a->klen : b->klen;
    int c = memcmp(a->key, b->key, m);
    if (c) return c;
    return a->klen < b->klen ? -1 : a->klen > b->klen;
}

/* Appends block contents with entries [0,n) and restarts every `interval`. */
static void build_block(tfc_buf *b, const tfc_sstable_entry *e, int n, int interval) {
    uint32_t *restarts = malloc(sizeof(uint32_t) * (size_t)(n / interval + 1));
    if (!restarts) {
        b->oom = 1;
        return;
    }
    int nr = 0;
    size_t start = b->n;
    for (int i = 0; i < n; i++) {
        size_t shared = 0;
        if (i % interval == 0) {
            restarts[nr++] = (uint32_t)(b->n - start);
        } else {
            size_t m = e[i - 1].klen < e[i].klen ? e[i - 1].klen : e[i].klen;
            while (shared < m && e[i - 1].key[shared] == e[i].key[shared]) shared++;
        }
        pb_put_varint(b, shared);
        pb_put_varint(b, e[i].klen - shared);
        pb_put_varint(b, e[i].vlen);
        tfc_buf_append(b, e[i].key + shared, e[i].klen - shared);
        tfc_buf_append(b, e[i].value, e[i].vlen);
    }
    if (nr == 0) restarts[nr++] = 0; /* an empty block still has one restart */
    uint8_t tmp[4];
    for (int i = 0; i < nr; i++) {
        tfc_put_u32le(tmp, restarts[i]);
        tfc_buf_append(b, tmp, 4);
    }
    tfc_put_u32le(tmp, (uint32_t)nr);
    tfc_buf_append(b, tmp, 4);
    free(restarts);
}

/* Builds a block of entries [0,n) and appends it to `out` with its trailer,
 * snappy-compressed when asked and when that saves at least an eighth
 * (LevelDB's rule: a smaller saving is not worth uncompressing for), else
 * as it is; *off and *size are its BlockHandle. */
static void put_block(tfc_buf *out, const tfc_sstable_entry *e, int n, int interval,
                      tfc_sstable_compression compression, size_t *off, size_t *size) {
    tfc_buf raw = {0};
    build_block(&raw, e, n, interval);
    uint8_t type = TFC_SSTABLE_UNCOMPRESSED;
    *off = out->n;
    if (raw.oom) {
        out->oom = 1;
    } else if (compression == TFC_SSTABLE_SNAPPY) {
        size_t clen = snappy_max_compressed_length(raw.n);
        uint8_t *c = tfc_buf_grow(out, clen);
        if (c && snappy_compress((const char *)raw.p, raw.n, (char *)c, &clen) == SNAPPY_OK &&
            clen < raw.n - raw.n / 8) {
            out->n = *off + clen;
            type = TFC_SSTABLE_SNAPPY;
        } else if (c) {
            out->n = *off;
        }
    }
    if (type == TFC_SSTABLE_UNCOMPRESSED) tfc_buf_append(out, raw.p, raw.n);
    tfc_buf_free(&raw);
    *size = out->n - *off;
    tfc_buf_append(out, &type, 1);
    if (out->oom) return;
    uint8_t crc[4];
    tfc_put_u32le(crc, tfc_crc32c_mask(tfc_crc32c(out->p + *off, *size + 1)));
    tfc_buf_append(out, crc, 4);
}

int tfc_sstable_build_compressed(tfc_buf *out, const tfc_sstable_entry *e, int n,
                                 tfc_sstable_compression compression) {
    for (int i = 1; i < n; i++)
        if (key_cmp(&e[i - 1], &e[i]) >= 0) return -1;
    size_t data_off, data_size, meta_off, meta_size, index_off, index_size;
    put_block(out, e, n, RESTART_INTERVAL, compression, &data_off, &data_size);
    put_block(out, NULL, 0, 1, compression, &meta_off, &meta_size);

    /* Index key: the "short successor" of the last key, as TF writes it
     * (first byte that is not 0xFF, incremented; the rest dropped). */
    static char empty[1];
    tfc_sstable_entry ie = {empty, 0, NULL, 0};
    if (n > 0) {
        const tfc_sstable_entry *last = &e[n - 1];
        ie.key = last->key;
        ie.klen = last->klen;
        for (size_t i = 0; i < last->klen; i++) {
            if ((uint8_t)last->key[i] != 0xFF) {
                ie.key = malloc(i + 1);
                if (!ie.key) {
                    out->oom = 1;
                    return -1;
                }
                memcpy(ie.key, last->key, i + 1);
                ie.key[i] = (char)((uint8_t)ie.key[i] + 1);
                ie.klen = i + 1;
                break;
            }
        }
    }
    tfc_buf handle = {0};
    pb_put_varint(&handle, data_off);
    pb_put_varint(&handle, data_size);
    ie.value = handle.p;
    ie.vlen = handle.n;
    put_block(out, &ie, 1, 1, compression, &index_off, &index_size);
    if (n > 0 && ie.key != e[n - 1].key) free(ie.key);
    if (handle.oom) out->oom = 1;
    tfc_buf_free(&handle);

    tfc_buf footer = {0};
    pb_put_varint(&footer, meta_off);
    pb_put_varint(&footer, meta_size);
    pb_put_varint(&footer, index_off);
    pb_put_varint(&footer, index_size);
    uint8_t pad[TFC_SSTABLE_FOOTER_SIZE] = {0};
    if (!footer.oom) memcpy(pad, footer.p, footer.n);
    tfc_put_u64le(pad + 40, TFC_SSTABLE_MAGIC);
    tfc_buf_free(&footer);
    tfc_buf_append(out, pad, sizeof pad);
    return out->oom ? -1 : 0;
}

int tfc_sstable_build(tfc_buf *out, const tfc_sstable_entry *e, int n) {
    return tfc_sstable_build_compressed(out, e, n, TFC_SSTABLE_UNCOMPRESSED);
}

void tfc_sstable_entries_free(tfc_sstable_entry *e, int n) {
    if (!e) return;
    for (int i = 0; i < n; i++) {
        free(e[i].key);
        free(e[i].value);
    }
    free(e);
}

typedef struct parser {
    const uint8_t *data;
    size_t n;
    char *err;
    size_t errlen;
    tfc_sstable_entry *items;
    int count, cap;
} parser;

static int fail(parser *p, const char *what) {
    snprintf(p->err, p->errlen, "%s", what);
    return -1;
}

static int get_handle(const uint8_t **q, const uint8_t *end, uint64_t *off, uint64_t *size) {
    return pb_get_varint(q, end, off) || pb_get_varint(q, end, size) ? -1 : 0;
}

/* A block's contents: in the file, or uncompressed into `owned`. */
typedef struct block {
    const uint8_t *p;
    size_t n;
    uint8_t *owned;
} block;

static int fail_at(parser *p, uint64_t off, const char *what) {
    snprintf(p->err, p->errlen, "block at offset %llu: %s", (unsigned long long)off, what);
    return -1;
}

/* Checks a block's bounds and trailer and uncompresses it when it is
 * snappy-compressed; the caller frees out->owned. */
static int read_block(parser *p, uint64_t off, uint64_t size, block *out) {
    out->owned = NULL;
    if (off > p->n || size > p->n - off || p->n - off - size < 5)
        return fail(p, "block handle out of range (truncated file?)");
    const uint8_t *b = p->data + off;
    uint8_t type = b[size];
    if (tfc_crc32c_mask(tfc_crc32c(b, (size_t)size + 1)) != tfc_get_u32le(b + size + 1))
        return fail_at(p, off, "checksum mismatch");
    out->p = b;
    out->n = (size_t)size;
    if (type == TFC_SSTABLE_UNCOMPRESSED) return 0;
    if (type != TFC_SSTABLE_SNAPPY) {
        char why[96];
        snprintf(why, sizeof why, "unknown compression type %u (0: none, 1: snappy)", type);
        return fail_at(p, off, why);
    }
    size_t ulen;
    if (snappy_uncompressed_length((const char *)b, (size_t)size, &ulen) != SNAPPY_OK)
        return fail_at(p, off, "corrupt snappy block (bad length header)");
    /* A snappy element expands at most 64/3-fold (a 3-byte copy of 64
     * bytes): a larger claim is a lie, and is refused before any allocation. */
    if ((uint64_t)ulen * 3 > size * 64) {
        char why[128];
        snprintf(why, sizeof why,
                 "snappy block claims %zu uncompressed bytes from %llu (at most 64/3-fold)", ulen,
                 (unsigned long long)size);
        return fail_at(p, off, why);
    }
    /* The whole stream decodes to exactly ulen bytes, checked without output. */
    if (snappy_validate_compressed_buffer((const char *)b, (size_t)size) != SNAPPY_OK)
        return fail_at(p, off, "corrupt snappy block");
    out->owned = malloc(ulen ? ulen : 1);
    if (!out->owned) return fail(p, "out of memory");
    size_t got = ulen;
    if (snappy_uncompress((const char *)b, (size_t)size, (char *)out->owned, &got) != SNAPPY_OK ||
        got != ulen) {
        free(out->owned);
        out->owned = NULL;
        return fail_at(p, off, "corrupt snappy block");
    }
    out->p = out->owned;
    out->n = ulen;
    return 0;
}

/* Calls `fn` for each entry of a block, with full (prefix-decoded) keys. */
static int scan_block(parser *p, const uint8_t *b, size_t size,
                      int (*fn)(parser *, const char *, size_t, const uint8_t *, size_t)) {
    if (size < 4) return fail(p, "block too small");
    uint32_t nr = tfc_get_u32le(b + size - 4);
    if (nr == 0 || (uint64_t)nr * 4 + 4 > size) return fail(p, "bad restart array");
    const uint8_t *q = b, *end = b + size - 4 - 4 * (size_t)nr;
    char *key = NULL;
    size_t klen = 0;
    int rc = 0;
    while (q < end) {
        uint64_t shared, non_shared, vlen;
        if (pb_get_varint(&q, end, &shared) || pb_get_varint(&q, end, &non_shared) ||
            pb_get_varint(&q, end, &vlen) || shared > klen || non_shared > (uint64_t)(end - q) ||
            vlen > (uint64_t)(end - q) - non_shared) {
            rc = fail(p, "malformed block entry");
            break;
        }
        char *nk = realloc(key, (size_t)(shared + non_shared) + 1);
        if (!nk) {
            rc = fail(p, "out of memory");
            break;
        }
        key = nk;
        memcpy(key + shared, q, (size_t)non_shared);
        klen = (size_t)(shared + non_shared);
        key[klen] = 0;
        q += non_shared;
        if ((rc = fn(p, key, klen, q, (size_t)vlen))) break;
        q += vlen;
    }
    free(key);
    return rc;
}

static int add_entry(parser *p, const char *key, size_t klen, const uint8_t *v, size_t vlen) {
    if (p->count == p->cap) {
        int cap = p->cap ? 2 * p->cap : 16;
        tfc_sstable_entry *it = realloc(p->items, sizeof *it * (size_t)cap);
        if (!it) return fail(p, "out of memory");
        p->items = it;
        p->cap = cap;
    }
    tfc_sstable_entry *e = &p->items[p->count];
    e->key = malloc(klen + 1);
    e->value = malloc(vlen ? vlen : 1);
    if (!e->key || !e->value) {
        free(e->key);
        free(e->value);
        return fail(p, "out of memory");
    }
    memcpy(e->key, key, klen + 1);
    e->klen = klen;
    if (vlen) memcpy(e->value, v, vlen);
    e->vlen = vlen;
    if (p->count > 0 && key_cmp(&p->items[p->count - 1], e) >= 0) {
        free(e->key);
        free(e->value);
        return fail(p, "keys out of order");
    }
    p->count++;
    return 0;
}

static int data_block(parser *p, const char *key, size_t klen, const uint8_t *v, size_t vlen) {
    (void)key;
    (void)klen;
    uint64_t off, size;
    const uint8_t *q = v;
    block b;
    if (get_handle(&q, v + vlen, &off, &size)) return fail(p, "malformed index entry");
    if (read_block(p, off, size, &b)) return -1;
    int rc = scan_block(p, b.p, b.n, add_entry);
    free(b.owned);
    return rc;
}

int tfc_sstable_parse(const uint8_t *data, size_t n, tfc_sstable_entry **entries, int *nentries,
                      char *err, size_t errlen) {
    parser p = {data, n, err, errlen, NULL, 0, 0};
    *entries = NULL;
    *nentries = 0;
    if (n < TFC_SSTABLE_FOOTER_SIZE) return fail(&p, "file too short for a table (truncated?)");
    const uint8_t *foot = data + n - TFC_SSTABLE_FOOTER_SIZE;
    if (tfc_get_u64le(foot + 40) != TFC_SSTABLE_MAGIC)
        return fail(&p, "bad table magic number (not an SSTable, or truncated)");
    uint64_t moff, msize, ioff, isize;
    const uint8_t *q = foot;
    if (get_handle(&q, foot + 40, &moff, &msize) || get_handle(&q, foot + 40, &ioff, &isize))
        return fail(&p, "malformed footer");
    block index;
    int rc = read_block(&p, ioff, isize, &index);
    if (!rc) rc = scan_block(&p, index.p, index.n, data_block);
    free(index.owned);
    if (rc) {
        tfc_sstable_entries_free(p.items, p.count);
        return -1;
    }
    *entries = p.items;
    *nentries = p.count;
    return 0;
}
