/* TFRecord files: each record is a little-endian uint64 length, the masked
 * CRC-32C of those 8 bytes, the data, and the masked CRC-32C of the data.
 * Event files use this framing. */
#include "core/status.h"
#include "formats/crc32c.h"
#include "tfc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct tfc_record_writer {
    FILE *f;
    char *path;
};

struct tfc_record_reader {
    FILE *f;
    char *path;
    uint64_t offset; /* of the next record, for error messages */
    uint8_t *buf;
    size_t cap;
};

tfc_record_writer *tfc_record_writer_open(const char *path, int append, tfc_status *st) {
    tfc_record_writer *w = calloc(1, sizeof *w);
    if (w) w->path = strdup(path);
    if (!w || !w->path) {
        free(w);
        tfc_status_set(st, TFC_INTERNAL, "out of memory");
        return NULL;
    }
    w->f = fopen(path, append ? "ab" : "wb");
    if (!w->f) {
        tfc_status_set(st, TFC_NOT_FOUND, "cannot open '%s' for writing: %s", path,
                       strerror(errno));
        free(w->path);
        free(w);
        return NULL;
    }
    return w;
}

int tfc_record_writer_write(tfc_record_writer *w, const void *data, size_t n, tfc_status *st) {
    uint8_t head[12], foot[4];
    tfc_put_u64le(head, (uint64_t)n);
    tfc_put_u32le(head + 8, tfc_crc32c_mask(tfc_crc32c(head, 8)));
    tfc_put_u32le(foot, tfc_crc32c_mask(tfc_crc32c(data, n)));
    if (fwrite(head, 1, 12, w->f) != 12 || (n && fwrite(data, 1, n, w->f) != n) ||
        fwrite(foot, 1, 4, w->f) != 4) {
        tfc_status_set(st, TFC_DATA_LOSS, "error writing a record to '%s': %s", w->path,
                       strerror(errno));
        return -1;
    }
    return 0;
}

int tfc_record_writer_flush(tfc_record_writer *w, tfc_status *st) {
    if (fflush(w->f)) {
        tfc_status_set(st, TFC_DATA_LOSS, "error flushing '%s': %s", w->path, strerror(errno));
        return -1;
    }
    return 0;
}

int tfc_record_writer_close(tfc_record_writer *w, tfc_status *st) {
    if (!w) return 0;
    int rc = fclose(w->f) ? -1 : 0;
    if (rc && st) tfc_status_set(st, TFC_DATA_LOSS, "error closing '%s'", w->path);
    free(w->path);
    free(w);
    return rc;
}

tfc_record_reader *tfc_record_reader_open(const char *path, tfc_status *st) {
    tfc_record_reader *r = calloc(1, sizeof *r);
    if (r) r->path = strdup(path);
    if (!r || !r->path) {
        free(r);
        tfc_status_set(st, TFC_INTERNAL, "out of memory");
        return NULL;
    }
    r->f = fopen(path, "rb");
    if (!r->f) {
        tfc_status_set(st, TFC_NOT_FOUND, "cannot open '%s': %s", path, strerror(errno));
        free(r->path);
        free(r);
        return NULL;
    }
    return r;
}

/* Reads a record's `len` bytes into r->buf, growing the buffer as the bytes
 * arrive (doubling from 4 KiB), so that a corrupt length whose CRC happens to
 * check cannot make the reader allocate more than about twice what the file
 * holds. 0; -1 when the file ends first, or with *oom set when memory runs
 * out. */
static int read_payload(tfc_record_reader *r, size_t len, int *oom) {
    size_t got = 0;
    *oom = 0;
    do {
        if (r->cap < len + 1 && r->cap <= got + 1) {
            size_t next = r->cap < 4096 ? 4096 : 2 * r->cap;
            if (next > len + 1) next = len + 1;
            uint8_t *b = realloc(r->buf, next);
            if (!b) {
                *oom = 1;
                return -1;
            }
            r->buf = b;
            r->cap = next;
        }
        size_t room = (r->cap - 1 < len ? r->cap - 1 : len) - got;
        size_t k = fread(r->buf + got, 1, room, r->f);
        got += k;
        if (k < room) return -1;
    } while (got < len);
    return 0;
}

int tfc_record_reader_next(tfc_record_reader *r, const uint8_t **data, size_t *n,
                           tfc_status *st) {
    uint8_t head[12], foot[4];
    size_t got = fread(head, 1, 12, r->f);
    if (got == 0) return 0;
    if (got < 12) {
        tfc_status_set(st, TFC_DATA_LOSS, "truncated record at %llu in '%s'",
                       (unsigned long long)r->offset, r->path);
        return -1;
    }
    if (tfc_crc32c_mask(tfc_crc32c(head, 8)) != tfc_get_u32le(head + 8)) {
        tfc_status_set(st, TFC_DATA_LOSS, "corrupted record at %llu in '%s': bad length CRC",
                       (unsigned long long)r->offset, r->path);
        return -1;
    }
    uint64_t len = tfc_get_u64le(head);
    if (len > ((uint64_t)1 << 40)) {
        tfc_status_set(st, TFC_DATA_LOSS, "corrupted record at %llu in '%s': length %llu",
                       (unsigned long long)r->offset, r->path, (unsigned long long)len);
        return -1;
    }
    int oom;
    if (read_payload(r, (size_t)len, &oom) || fread(foot, 1, 4, r->f) != 4) {
        if (oom)
            tfc_status_set(st, TFC_INTERNAL, "out of memory reading a %llu-byte record from '%s'",
                           (unsigned long long)len, r->path);
        else
            tfc_status_set(st, TFC_DATA_LOSS,
                           "truncated record at %llu in '%s' (%llu bytes declared)",
                           (unsigned long long)r->offset, r->path, (unsigned long long)len);
        return -1;
    }
    if (tfc_crc32c_mask(tfc_crc32c(r->buf, (size_t)len)) != tfc_get_u32le(foot)) {
        tfc_status_set(st, TFC_DATA_LOSS, "corrupted record at %llu in '%s': bad data CRC",
                       (unsigned long long)r->offset, r->path);
        return -1;
    }
    r->offset += 16 + len;
    *data = r->buf;
    *n = (size_t)len;
    return 1;
}

void tfc_record_reader_close(tfc_record_reader *r) {
    if (!r) return;
    fclose(r->f);
    free(r->buf);
    free(r->path);
    free(r);
}
