/* Byte streams over plain or zlib/gzip-compressed files, and TFRecord
 * framing over them (see record_stream.h). */
#include "data/record_stream.h"

#include "core/status.h"
#include "formats/crc32c.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

enum { IN_CHUNK = 1 << 16 };

struct tfc_stream {
    FILE *f;
    char *path;
    int compressed;
    z_stream z;
    unsigned char *in; /* compressed bytes read ahead */
    int z_end;         /* the compressed stream ended */
    uint64_t offset;     /* bytes handed out */
    uint64_t raw_offset; /* bytes read ahead (into ahead) or handed straight out */
    /* Read-ahead of the (uncompressed) bytes: a record that lies whole in
     * it is handed out where it is, without a copy, and reading it costs no
     * fread call (three a record took a fifth of a reader's time). */
    uint8_t *ahead;
    size_t ahead_pos, ahead_len;
    int failed;       /* the file failed (error), after the bytes read before it */
    tfc_status error;
    uint8_t *rec; /* the current record's bytes, when not in `ahead` */
    size_t rec_cap;
};

tfc_stream *tfc_stream_open(const char *path, const char *compression, tfc_status *st) {
    int window = 0;
    if (compression && !strcmp(compression, "ZLIB"))
        window = MAX_WBITS;
    else if (compression && !strcmp(compression, "GZIP"))
        window = MAX_WBITS + 16;
    else if (compression && *compression) {
        tfc_status_set(st, TFC_INVALID_ARGUMENT,
                       "Unsupported compression_type: %s (\"\", \"ZLIB\" or \"GZIP\")",
                       compression);
        return NULL;
    }
    tfc_stream *s = calloc(1, sizeof *s);
    if (!s || !(s->path = strdup(path)) || (window && !(s->in = malloc(IN_CHUNK))) ||
        !(s->ahead = malloc(IN_CHUNK)))
        goto oom;
    if (!(s->f = fopen(path, "rb"))) {
        tfc_status_set(st, errno == ENOENT ? TFC_NOT_FOUND : TFC_UNKNOWN, "%s; %s", path,
                       strerror(errno));
        tfc_stream_close(s);
        return NULL;
    }
    if (window) {
        if (inflateInit2(&s->z, window) != Z_OK) goto oom;
        s->compressed = 1;
    }
    return s;
oom:
    tfc_stream_close(s);
    tfc_status_set(st, TFC_RESOURCE_EXHAUSTED, "out of memory opening %s", path);
    return NULL;
}

/* Reads up to n bytes from the file (inflating them): their count, short
 * only at the end or when *failed is set (with st) after them. */
static long file_read(tfc_stream *s, void *buf, size_t n, int *failed, tfc_status *st) {
    if (!s->compressed) {
        size_t k = fread(buf, 1, n, s->f);
        if (k < n && ferror(s->f)) {
            tfc_status_set(st, TFC_DATA_LOSS, "error reading %s at %llu: %s", s->path,
                           (unsigned long long)(s->raw_offset + k), strerror(errno));
            *failed = 1;
        }
        s->raw_offset += k;
        return (long)k;
    }
    s->z.next_out = buf;
    s->z.avail_out = (uInt)n;
    while (s->z.avail_out && !s->z_end) {
        if (!s->z.avail_in) {
            size_t k = fread(s->in, 1, IN_CHUNK, s->f);
            if (!k) {
                /* the file ended inside the compressed stream */
                tfc_status_set(st, TFC_DATA_LOSS, "truncated compressed stream in %s at %llu",
                               s->path, (unsigned long long)(s->raw_offset + n - s->z.avail_out));
                *failed = 1;
                break;
            }
            s->z.next_in = s->in;
            s->z.avail_in = (uInt)k;
        }
        int rc = inflate(&s->z, Z_NO_FLUSH);
        if (rc == Z_STREAM_END) {
            s->z_end = 1;
        } else if (rc != Z_OK && rc != Z_BUF_ERROR) {
            tfc_status_set(st, TFC_DATA_LOSS, "corrupt compressed stream in %s at %llu: %s",
                           s->path, (unsigned long long)(s->raw_offset + n - s->z.avail_out),
                           s->z.msg ? s->z.msg : "inflate failed");
            *failed = 1;
            break;
        }
    }
    size_t got = n - s->z.avail_out;
    s->raw_offset += got;
    return (long)got;
}

/* file_read for the read-ahead: the bytes before an error come first (the
 * records in them are handed out, as without a read-ahead), the error with
 * the next call, and every call after. -1 with st set. */
static long raw_read(tfc_stream *s, void *buf, size_t n, tfc_status *st) {
    if (!s->failed) {
        long k = file_read(s, buf, n, &s->failed, &s->error);
        if (!s->failed || k > 0) return k;
    }
    tfc_status_set(st, s->error.code, "%s", s->error.msg);
    return -1;
}

long tfc_stream_read(tfc_stream *s, void *buf, size_t n, tfc_status *st) {
    uint8_t *dst = buf;
    size_t got = 0;
    while (got < n) {
        size_t have = s->ahead_len - s->ahead_pos;
        if (have) {
            size_t k = have < n - got ? have : n - got;
            memcpy(dst + got, s->ahead + s->ahead_pos, k);
            s->ahead_pos += k;
            got += k;
            continue;
        }
        if (n - got >= IN_CHUNK) { /* a big read goes straight to the caller */
            long k = raw_read(s, dst + got, n - got, st);
            if (k < 0) return -1;
            if (k == 0) break;
            got += (size_t)k;
            continue;
        }
        long k = raw_read(s, s->ahead, IN_CHUNK, st);
        if (k < 0) return -1;
        if (k == 0) break;
        s->ahead_pos = 0;
        s->ahead_len = (size_t)k;
    }
    s->offset += got;
    return (long)got;
}

uint64_t tfc_stream_offset(const tfc_stream *s) { return s->offset; }
const char *tfc_stream_path(const tfc_stream *s) { return s->path; }

void tfc_stream_close(tfc_stream *s) {
    if (!s) return;
    if (s->compressed) inflateEnd(&s->z);
    if (s->f) fclose(s->f);
    free(s->in);
    free(s->ahead);
    free(s->rec);
    free(s->path);
    free(s);
}

/* Reads exactly n bytes: 1, 0 when none is left, -2 when the stream ends
 * after some, -1 on a read error (st set). */
static int read_full(tfc_stream *s, void *buf, size_t n, tfc_status *st) {
    long k = tfc_stream_read(s, buf, n, st);
    if (k < 0) return -1;
    if ((size_t)k == n) return 1;
    return k == 0 ? 0 : -2;
}

/* A record's 12-byte head: its length, or -1 with st set. */
static int64_t check_head(tfc_stream *s, const uint8_t *head, uint64_t at, tfc_status *st) {
    if (tfc_crc32c_mask(tfc_crc32c(head, 8)) != tfc_get_u32le(head + 8)) {
        tfc_status_set(st, TFC_DATA_LOSS, "corrupted record at %llu in '%s': bad length CRC",
                       (unsigned long long)at, s->path);
        return -1;
    }
    uint64_t len = tfc_get_u64le(head);
    if (len > ((uint64_t)1 << 36)) {
        tfc_status_set(st, TFC_DATA_LOSS, "corrupted record at %llu in '%s': length %llu",
                       (unsigned long long)at, s->path, (unsigned long long)len);
        return -1;
    }
    return (int64_t)len;
}

static int check_data(tfc_stream *s, const uint8_t *data, size_t len, const uint8_t *foot,
                      uint64_t at, tfc_status *st) {
    if (tfc_crc32c_mask(tfc_crc32c(data, len)) != tfc_get_u32le(foot)) {
        tfc_status_set(st, TFC_DATA_LOSS, "corrupted record at %llu in '%s': bad data CRC",
                       (unsigned long long)at, s->path);
        return -1;
    }
    return 0;
}

int tfc_stream_next_record(tfc_stream *s, const uint8_t **data, size_t *n, uint64_t *offset,
                           tfc_status *st) {
    uint8_t head[12], foot[4];
    uint64_t at = s->offset;
    *offset = at;
    /* the whole record read ahead: checked and handed out where it is */
    size_t have = s->ahead_len - s->ahead_pos;
    if (have >= 12) {
        const uint8_t *h = s->ahead + s->ahead_pos;
        int64_t len = check_head(s, h, at, st);
        if (len < 0) return -1;
        if (have >= 16 && (uint64_t)len <= have - 16) {
            if (check_data(s, h + 12, (size_t)len, h + 12 + len, at, st)) return -1;
            s->ahead_pos += 16 + (size_t)len;
            s->offset += 16 + (uint64_t)len;
            *data = h + 12;
            *n = (size_t)len;
            return 1;
        }
    }
    int rc = read_full(s, head, 12, st);
    if (rc == 0) return 0;
    if (rc == -1) return -1;
    if (rc == -2) {
        tfc_status_set(st, TFC_DATA_LOSS, "truncated record at %llu in '%s'",
                       (unsigned long long)at, s->path);
        return -1;
    }
    int64_t slen = check_head(s, head, at, st);
    if (slen < 0) return -1;
    uint64_t len = (uint64_t)slen;
    /* grow as bytes arrive, so a bad length cannot ask for more memory than
     * about twice what the file holds */
    size_t got = 0;
    while (got < len) {
        if (s->rec_cap <= got) {
            size_t cap = s->rec_cap < 4096 ? 4096 : 2 * s->rec_cap;
            if (cap > len) cap = (size_t)len;
            uint8_t *b = realloc(s->rec, cap);
            if (!b) {
                tfc_status_set(st, TFC_RESOURCE_EXHAUSTED,
                               "out of memory reading a %llu-byte record of '%s'",
                               (unsigned long long)len, s->path);
                return -1;
            }
            s->rec = b;
            s->rec_cap = cap;
        }
        size_t want = (s->rec_cap < len ? s->rec_cap : (size_t)len) - got;
        long k = tfc_stream_read(s, s->rec + got, want, st);
        if (k < 0) return -1;
        got += (size_t)k;
        if ((size_t)k < want) break;
    }
    rc = got < len ? -2 : read_full(s, foot, 4, st);
    if (rc == -1) return -1;
    if (rc != 1) {
        tfc_status_set(st, TFC_DATA_LOSS, "truncated record at %llu in '%s' (%llu bytes declared)",
                       (unsigned long long)at, s->path, (unsigned long long)len);
        return -1;
    }
    if (check_data(s, s->rec, (size_t)len, foot, at, st)) return -1;
    *data = s->rec;
    *n = (size_t)len;
    return 1;
}
