/* Readers (see reader.h): work items, and one record at a time from the
 * current one in each format. */
#include "data/reader.h"

#include "core/status.h"
#include "data/record_stream.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct tfc_reader {
    tfc_resource res; /* first: a handle's element points here */
    pthread_mutex_t lock;
    tfc_reader_kind kind;
    char *compression;
    int64_t skip_header_lines, header_bytes, record_bytes, footer_bytes, hop_bytes;
    /* work items added and not started */
    char **pending;
    size_t *pending_len;
    int npending, cap;
    /* the current one */
    char *work;         /* NULL: none */
    size_t work_len;    /* strlen(work) */
    tfc_stream *stream; /* TFRecord, text lines */
    uint8_t *data;      /* fixed length, whole file: the file's bytes */
    size_t data_len, pos;
    int64_t index; /* lines or records produced from it */
    char *line;    /* text lines: a buffer of read-ahead bytes */
    size_t line_cap, line_len, line_pos;
    int line_eof;
    int64_t produced, completed;
};

static void close_work(tfc_reader *r) {
    tfc_stream_close(r->stream);
    r->stream = NULL;
    free(r->data);
    r->data = NULL;
    free(r->work);
    r->work = NULL;
    r->line_len = r->line_pos = 0;
    r->line_eof = 0;
}

static void reader_free(tfc_resource *res) {
    tfc_reader *r = (tfc_reader *)res;
    close_work(r);
    for (int i = 0; i < r->npending; i++) free(r->pending[i]);
    free(r->pending);
    free(r->pending_len);
    free(r->line);
    free(r->compression);
    pthread_mutex_destroy(&r->lock);
    free(r);
}

static const tfc_resource_ops reader_ops = {"Reader", reader_free, NULL};

tfc_reader *tfc_reader_new(const tfc_reader_spec *spec) {
    tfc_reader *r = calloc(1, sizeof *r);
    if (!r) return NULL;
    tfc_resource_init(&r->res, &reader_ops);
    pthread_mutex_init(&r->lock, NULL);
    r->kind = spec->kind;
    r->compression = strdup(spec->compression ? spec->compression : "");
    r->skip_header_lines = spec->skip_header_lines;
    r->header_bytes = spec->header_bytes;
    r->record_bytes = spec->record_bytes;
    r->footer_bytes = spec->footer_bytes;
    r->hop_bytes = spec->hop_bytes > 0 ? spec->hop_bytes : spec->record_bytes;
    if (!r->compression) {
        reader_free(&r->res);
        return NULL;
    }
    return r;
}

tfc_reader *tfc_reader_from_handle(const tfc_tensor *handle) {
    tfc_resource *res = tfc_tensor_resource(handle, 0);
    return res && res->ops == &reader_ops ? (tfc_reader *)res : NULL;
}

const char *tfc_reader_type(const tfc_reader *r) {
    switch (r->kind) {
    case TFC_READER_TEXT_LINE: return "TextLineReader";
    case TFC_READER_FIXED_LENGTH: return "FixedLengthRecordReader";
    case TFC_READER_WHOLE_FILE: return "WholeFileReader";
    default: return "TFRecordReader";
    }
}

void tfc_reader_lock(tfc_reader *r) { pthread_mutex_lock(&r->lock); }
void tfc_reader_unlock(tfc_reader *r) { pthread_mutex_unlock(&r->lock); }

int tfc_reader_add_work(tfc_reader *r, const char *name, size_t len) {
    if (r->npending == r->cap) {
        int cap = r->cap ? 2 * r->cap : 4;
        char **p = realloc(r->pending, sizeof *p * (size_t)cap);
        if (!p) return -1;
        r->pending = p;
        size_t *l = realloc(r->pending_len, sizeof *l * (size_t)cap);
        if (!l) return -1;
        r->pending_len = l;
        r->cap = cap;
    }
    char *copy = malloc(len + 1);
    if (!copy) return -1;
    memcpy(copy, name, len);
    copy[len] = 0;
    r->pending[r->npending] = copy;
    r->pending_len[r->npending++] = len;
    return 0;
}

int64_t tfc_reader_records_produced(tfc_reader *r) { return r->produced; }
int64_t tfc_reader_work_completed(tfc_reader *r) { return r->completed; }

void tfc_reader_clear(tfc_reader *r) {
    close_work(r);
    for (int i = 0; i < r->npending; i++) free(r->pending[i]);
    r->npending = 0;
    r->produced = r->completed = 0;
}

/* The whole (decompressed) file into r->data. 0 or -1. */
static int load_file(tfc_reader *r, tfc_status *st) {
    tfc_stream *s = tfc_stream_open(r->work, r->compression, st);
    if (!s) return -1;
    size_t cap = 1 << 16, len = 0;
    uint8_t *buf = malloc(cap);
    for (;;) {
        if (!buf) {
            tfc_status_set(st, TFC_RESOURCE_EXHAUSTED, "out of memory reading %s", r->work);
            tfc_stream_close(s);
            return -1;
        }
        long k = tfc_stream_read(s, buf + len, cap - len, st);
        if (k < 0) {
            free(buf);
            tfc_stream_close(s);
            return -1;
        }
        len += (size_t)k;
        if (len < cap) break;
        uint8_t *b = realloc(buf, cap * 2);
        if (!b) free(buf);
        buf = b;
        cap *= 2;
    }
    tfc_stream_close(s);
    r->data = buf;
    r->data_len = len;
    return 0;
}

/* Starts the next added work item; 0, or -1 with st set. */
static int open_work(tfc_reader *r, tfc_status *st) {
    r->work = r->pending[0];
    r->work_len = strlen(r->work);
    memmove(r->pending, r->pending + 1, sizeof *r->pending * (size_t)(r->npending - 1));
    memmove(r->pending_len, r->pending_len + 1, sizeof *r->pending_len * (size_t)(r->npending - 1));
    r->npending--;
    r->index = 0;
    r->pos = 0;
    switch (r->kind) {
    case TFC_READER_TFRECORD:
        r->stream = tfc_stream_open(r->work, r->compression, st);
        return r->stream ? 0 : -1;
    case TFC_READER_TEXT_LINE:
        r->stream = tfc_stream_open(r->work, "", st);
        return r->stream ? 0 : -1;
    case TFC_READER_FIXED_LENGTH:
        if (load_file(r, st)) return -1;
        r->pos = (size_t)r->header_bytes;
        return 0;
    default: return load_file(r, st);
    }
}

/* "00" to "99": the decimal digits of a key's number, two at a time */
static const char digit_pairs[201] = "00010203040506070809101112131415161718192021222324"
                                     "25262728293031323334353637383940414243444546474849"
                                     "50515253545556575859606162636465666768697071727374"
                                     "75767778798081828384858687888990919293949596979899";

/* Element i of `keys` becomes "work" or "work:v" (v >= 0), as TensorFlow's
 * StrCat(current_work(), ":", v), written straight into the tensor's
 * string storage (snprintf took a sixth of a record's read; digits one at
 * a time, then reversed, still 160 instructions a record). 0 or -1. */
static int set_key(tfc_tensor *keys, int64_t i, const char *work, size_t wl, long long v) {
    char tail[24], *d = tail + sizeof tail; /* ":v", written from its end */
    if (v >= 0) {
        unsigned long long u = (unsigned long long)v;
        for (; u >= 100; u /= 100) {
            d -= 2;
            memcpy(d, digit_pairs + 2 * (u % 100), 2);
        }
        if (u >= 10) {
            d -= 2;
            memcpy(d, digit_pairs + 2 * u, 2);
        } else {
            *--d = (char)('0' + u);
        }
        *--d = ':';
    }
    size_t nt = (size_t)(tail + sizeof tail - d), len = wl + nt;
    if (!len) return tfc_string_set(keys, i, NULL, 0);
    char *p = tfc_string_alloc(keys, len);
    if (!p) return -1;
    memcpy(p, work, wl);
    memcpy(p + wl, d, nt);
    ((tfc_string *)keys->data)[i] = (tfc_string){p, len};
    return 0;
}

/* A record: its key and a copy of its n bytes at p, element i of each. */
static int set_record(tfc_reader *r, tfc_tensor *keys, tfc_tensor *values, int64_t i, long long v,
                      const void *p, size_t n) {
    return set_key(keys, i, r->work, r->work_len, v) || tfc_string_set(values, i, p, n);
}

/* The next line of a text file, without its '\n' (and a '\r' before it):
 * 1, 0 at the end, -1 on error. The line is in r->line[*start, +*len). */
static int next_line(tfc_reader *r, size_t *start, size_t *len, tfc_status *st) {
    for (;;) {
        char *nl = r->line_pos < r->line_len
                       ? memchr(r->line + r->line_pos, '\n', r->line_len - r->line_pos)
                       : NULL;
        if (nl || (r->line_eof && r->line_pos < r->line_len)) {
            size_t end = nl ? (size_t)(nl - r->line) : r->line_len;
            *start = r->line_pos;
            *len = end - r->line_pos;
            if (*len && r->line[*start + *len - 1] == '\r') (*len)--;
            r->line_pos = nl ? end + 1 : end;
            return 1;
        }
        if (r->line_eof) return 0;
        /* keep the partial line, read more */
        if (r->line_pos) memmove(r->line, r->line + r->line_pos, r->line_len - r->line_pos);
        r->line_len -= r->line_pos;
        r->line_pos = 0;
        if (r->line_cap - r->line_len < 4096) {
            size_t cap = r->line_cap ? 2 * r->line_cap : 65536;
            char *b = realloc(r->line, cap);
            if (!b) {
                tfc_status_set(st, TFC_RESOURCE_EXHAUSTED, "out of memory reading %s", r->work);
                return -1;
            }
            r->line = b;
            r->line_cap = cap;
        }
        long k = tfc_stream_read(r->stream, r->line + r->line_len, r->line_cap - r->line_len, st);
        if (k < 0) return -1;
        if (k == 0) r->line_eof = 1;
        r->line_len += (size_t)k;
    }
}

int tfc_reader_next(tfc_reader *r, tfc_tensor *keys, tfc_tensor *values, int64_t i,
                    tfc_status *st) {
    if (!r->work) {
        if (!r->npending) return 0;
        if (open_work(r, st)) {
            close_work(r);
            return -1;
        }
    }
    int rc = 0;
    switch (r->kind) {
    case TFC_READER_TFRECORD: {
        const uint8_t *data;
        size_t n;
        uint64_t off;
        rc = tfc_stream_next_record(r->stream, &data, &n, &off, st);
        if (rc == 1 && set_record(r, keys, values, i, (long long)off, data, n)) goto oom;
        break;
    }
    case TFC_READER_TEXT_LINE: {
        size_t start, len;
        while ((rc = next_line(r, &start, &len, st)) == 1 && r->index < r->skip_header_lines)
            r->index++;
        if (rc == 1) {
            r->index++;
            if (set_record(r, keys, values, i, (long long)r->index, r->line + start, len)) goto oom;
        }
        break;
    }
    case TFC_READER_FIXED_LENGTH: {
        size_t rb = (size_t)r->record_bytes, end = r->data_len - (size_t)r->footer_bytes;
        if (r->data_len >= (size_t)r->footer_bytes && r->pos + rb <= end) {
            if (set_record(r, keys, values, i, (long long)r->index, r->data + r->pos, rb)) goto oom;
            r->pos += (size_t)r->hop_bytes;
            r->index++;
            rc = 1;
        }
        break;
    }
    default:
        if (r->index == 0) {
            if (set_record(r, keys, values, i, -1, r->data, r->data_len)) goto oom;
            r->index = 1;
            rc = 1;
        }
    }
    if (rc == 1) {
        r->produced++;
        return 1;
    }
    if (rc < 0) {
        close_work(r);
        return -1;
    }
    close_work(r);
    r->completed++;
    return 2;
oom:
    tfc_status_set(st, TFC_RESOURCE_EXHAUSTED, "out of memory reading %s", r->work);
    return -1;
}
