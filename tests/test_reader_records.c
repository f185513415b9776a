/* TFRecordReader over files bigger than its 64 KiB read-ahead: records of
 * many sizes (empty, small, ones across a read-ahead boundary, ones bigger
 * than the read-ahead) come back byte for byte with TensorFlow's keys
 * "file:offset", plain, ZLIB and GZIP, through ReaderReadV2 and through
 * ReaderReadUpToV2 (more than the 1024 records it makes room for at
 * first); a file cut anywhere near a boundary gives DATA_LOSS naming the
 * file and the record's offset after the records before it (a compressed
 * one cut short: every record the bytes before the cut hold, then
 * DATA_LOSS); a corrupt byte past the first read-ahead names its record. */
#include "harness.h"
#include "record_files.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

enum { NREC = 400, CHUNK = 1 << 16 };

static char dir[64];
static size_t sizes[NREC];
static uint64_t offsets[NREC + 1]; /* offsets[NREC]: the file's size */

static uint8_t byte_of(int rec, size_t k) { return (uint8_t)(rec * 31 + k * 7 + (k >> 8)); }

static void path_of(char *buf, size_t n, const char *name) { snprintf(buf, n, "%s/%s", dir, name); }

/* Sizes: mostly 0-3000 bytes, a few bigger than the read-ahead. */
static void make_sizes(void) {
    uint32_t x = 12345;
    uint64_t off = 0;
    for (int i = 0; i < NREC; i++) {
        x = x * 1103515245u + 12345u;
        sizes[i] = i % 97 == 50 ? 70000 + (size_t)i : i % 13 == 0 ? 0 : (size_t)(x >> 8) % 3000;
        offsets[i] = off;
        off += 16 + sizes[i];
    }
    offsets[NREC] = off;
}

static uint8_t *record_bytes(int i) {
    uint8_t *b = malloc(sizes[i] + 1);
    for (size_t k = 0; k < sizes[i]; k++) b[k] = byte_of(i, k);
    return b;
}

static uint8_t *make_record(int i, size_t *len, void *user) {
    (void)user;
    *len = sizes[i];
    return record_bytes(i);
}

/* the NREC records into `name`, compressed as asked */
static void write_file(const char *name, const char *compression) {
    char path[128];
    path_of(path, sizeof path, name);
    write_record_file(path, NREC, make_record, NULL, compression);
}

/* A graph reading `path` once: a closed queue holding its name, and a read
 * (up_to > 0: ReaderReadUpToV2) of it. */
typedef struct reading {
    tfc_graph *g;
    tfc_session *s;
    tfc_output kv[2];
} reading;

static reading reading_open(const char *path, const char *compression, int64_t up_to) {
    reading r;
    r.g = tfc_graph_new();
    tfc_dtype dt = TFC_STRING;
    tfc_output fq = tfc_fifo_queue(r.g, 4, &dt, 1, NULL, NULL);
    tfc_output name = tfc_const_strings(r.g, 1, (int64_t[]){1}, &path, NULL);
    tfc_node *init[2] = {tfc_queue_enqueue_many(r.g, fq, &name, 1), tfc_queue_close(r.g, fq, 0)};
    tfc_output reader = tfc_tf_record_reader(r.g, compression);
    if (up_to > 0)
        tfc_reader_read_up_to(r.g, reader, fq, up_to, r.kv);
    else
        tfc_reader_read(r.g, reader, fq, r.kv);
    CHECK_GRAPH_OK(r.g);
    tfc_status *st = tfc_status_new();
    r.s = tfc_session_new(r.g, NULL, st);
    CHECK_STATUS_OK(st);
    /* one run each: in one run the close could come first */
    for (int k = 0; k < 2; k++) {
        tfc_session_run(r.s, NULL, NULL, 0, NULL, 0, NULL, &init[k], 1, st);
        CHECK_STATUS_OK(st);
    }
    tfc_status_free(st);
    return r;
}

static void reading_close(reading *r) {
    tfc_session_free(r->s);
    tfc_graph_free(r->g);
}

/* Checks element e of (keys, values) against record i of path. */
static int record_ok(const tfc_tensor *keys, const tfc_tensor *values, int64_t e, const char *path,
                     int i) {
    char want[192];
    snprintf(want, sizeof want, "%s:%llu", path, (unsigned long long)offsets[i]);
    size_t kl, vl;
    const char *k = tfc_string_tensor_get(keys, e, &kl);
    const char *v = tfc_string_tensor_get(values, e, &vl);
    if (kl != strlen(want) || memcmp(k, want, kl) || vl != sizes[i]) return 0;
    uint8_t *b = record_bytes(i);
    int same = !vl || !memcmp(v, b, vl);
    free(b);
    return same;
}

/* Every record through ReaderReadV2, then OUT_OF_RANGE. */
static void read_all_one_by_one(const char *name, const char *compression) {
    char path[128];
    path_of(path, sizeof path, name);
    reading r = reading_open(path, compression, 0);
    tfc_status *st = tfc_status_new();
    int bad = 0;
    for (int i = 0; i < NREC; i++) {
        tfc_tensor *out[2] = {NULL, NULL};
        tfc_session_run(r.s, NULL, NULL, 0, r.kv, 2, out, NULL, 0, st);
        CHECK_STATUS_OK(st);
        if (tfc_status_code(st) != TFC_OK) break;
        if (!record_ok(out[0], out[1], 0, path, i) && bad++ < 3)
            CHECK_MSG(0, "%s (%s): record %d (%zu bytes at %llu) differs", name, compression, i,
                      sizes[i], (unsigned long long)offsets[i]);
        tfc_tensor_free(out[0]);
        tfc_tensor_free(out[1]);
    }
    tfc_tensor *out[2] = {NULL, NULL};
    tfc_session_run(r.s, NULL, NULL, 0, r.kv, 2, out, NULL, 0, st);
    CHECK(tfc_status_code(st) == TFC_OUT_OF_RANGE);
    tfc_status_free(st);
    reading_close(&r);
}

static void test_sizes_across_read_ahead(void) {
    const char *comp[3] = {"", "ZLIB", "GZIP"};
    for (int c = 0; c < 3; c++) {
        char name[32];
        snprintf(name, sizeof name, "big-%d.tfrecord", c);
        write_file(name, comp[c]);
        read_all_one_by_one(name, comp[c]);
    }
}

/* ReadUpTo(3000) of the file of NREC records: all of them in one batch
 * (a read stops at the end of a file), then OUT_OF_RANGE; the same for a
 * file of 2500 small records, more than the room made at first. */
static void test_read_up_to_many(void) {
    char path[128];
    path_of(path, sizeof path, "big-0.tfrecord");
    reading r = reading_open(path, "", 3000);
    tfc_status *st = tfc_status_new();
    tfc_tensor *out[2] = {NULL, NULL};
    tfc_session_run(r.s, NULL, NULL, 0, r.kv, 2, out, NULL, 0, st);
    CHECK_STATUS_OK(st);
    CHECK(out[0] && tfc_tensor_num_elements(out[0]) == NREC);
    CHECK(out[1] && tfc_tensor_num_elements(out[1]) == NREC);
    int bad = 0;
    for (int i = 0; out[1] && i < NREC; i++) bad += !record_ok(out[0], out[1], i, path, i);
    CHECK(bad == 0);
    tfc_tensor_free(out[0]);
    tfc_tensor_free(out[1]);
    reading_close(&r);

    /* 2500 records "r<i>": room for 1024, then 2048, then 3000, cut to 2500 */
    path_of(path, sizeof path, "many.tfrecord");
    tfc_record_writer *w = tfc_record_writer_open(path, 0, st);
    CHECK(w != NULL);
    for (int i = 0; w && i < 2500; i++) {
        char rec[16];
        int len = snprintf(rec, sizeof rec, "r%d", i);
        tfc_record_writer_write(w, rec, (size_t)len, st);
    }
    tfc_record_writer_close(w, st);
    r = reading_open(path, "", 3000);
    tfc_session_run(r.s, NULL, NULL, 0, r.kv, 2, out, NULL, 0, st);
    CHECK_STATUS_OK(st);
    CHECK(out[1] && tfc_tensor_num_elements(out[1]) == 2500);
    uint64_t off = 0;
    for (int i = 0; out[1] && i < 2500; i++) {
        char want[16], key[192];
        int len = snprintf(want, sizeof want, "r%d", i);
        snprintf(key, sizeof key, "%s:%llu", path, (unsigned long long)off);
        off += 16 + (uint64_t)len;
        size_t vl, kl;
        const char *v = tfc_string_tensor_get(out[1], i, &vl);
        const char *k = tfc_string_tensor_get(out[0], i, &kl);
        if (vl != (size_t)len || memcmp(v, want, vl) || kl != strlen(key) || memcmp(k, key, kl)) {
            CHECK_MSG(0, "record %d of many.tfrecord differs", i);
            break;
        }
    }
    tfc_tensor_free(out[0]);
    tfc_tensor_free(out[1]);
    tfc_session_run(r.s, NULL, NULL, 0, r.kv, 2, out, NULL, 0, st);
    CHECK(tfc_status_code(st) == TFC_OUT_OF_RANGE);
    tfc_status_free(st);
    reading_close(&r);
}

/* Reads the records of path until an error: how many came back, the
 * error's code and message. */
static int read_until_error(const char *path, tfc_code *code, char *msg, size_t cap) {
    reading r = reading_open(path, "", 0);
    tfc_status *st = tfc_status_new();
    int n = 0;
    for (;;) {
        tfc_tensor *out[2] = {NULL, NULL};
        tfc_session_run(r.s, NULL, NULL, 0, r.kv, 2, out, NULL, 0, st);
        if (tfc_status_code(st) != TFC_OK) break;
        n++;
        tfc_tensor_free(out[0]);
        tfc_tensor_free(out[1]);
    }
    *code = tfc_status_code(st);
    snprintf(msg, cap, "%s", tfc_status_message(st));
    tfc_status_free(st);
    reading_close(&r);
    return n;
}

/* The file cut around the first read-ahead boundary and in the last
 * record: the records before the cut, then DATA_LOSS naming the cut one. */
static void test_truncated_and_corrupt(void) {
    char src[128], path[128];
    path_of(src, sizeof src, "big-0.tfrecord");
    path_of(path, sizeof path, "cut.tfrecord");
    FILE *f = fopen(src, "rb");
    size_t n = (size_t)offsets[NREC];
    uint8_t *all = malloc(n);
    CHECK(fread(all, 1, n, f) == n);
    fclose(f);
    /* the record holding byte CHUNK, and the last one */
    int at = 0;
    while (offsets[at + 1] <= CHUNK) at++;
    uint64_t cuts[8] = {offsets[at] + 5,  offsets[at] + 12, CHUNK - 1,       CHUNK,
                        CHUNK + 1,        offsets[at + 1] - 2, n - 1,        offsets[NREC - 1] + 3};
    for (int c = 0; c < 8; c++) {
        int rec = 0;
        while (offsets[rec + 1] <= cuts[c]) rec++;
        if (cuts[c] == offsets[rec]) continue; /* between records: a clean end */
        f = fopen(path, "wb");
        fwrite(all, 1, (size_t)cuts[c], f);
        fclose(f);
        tfc_code code;
        char msg[512], want[64];
        int got = read_until_error(path, &code, msg, sizeof msg);
        snprintf(want, sizeof want, "truncated record at %llu in '",
                 (unsigned long long)offsets[rec]);
        CHECK_MSG(got == rec && code == TFC_DATA_LOSS, "cut at %llu: %d records, code %d: %s",
                  (unsigned long long)cuts[c], got, code, msg);
        CHECK_CONTAINS(msg, want);
        CHECK_CONTAINS(msg, "cut.tfrecord");
    }
    /* a corrupt byte in the data of the record after the boundary one */
    int bad = at + 1;
    while (!sizes[bad]) bad++;
    all[offsets[bad] + 12 + sizes[bad] / 2] ^= 0x40;
    f = fopen(path, "wb");
    fwrite(all, 1, n, f);
    fclose(f);
    tfc_code code;
    char msg[512], want[96];
    int got = read_until_error(path, &code, msg, sizeof msg);
    snprintf(want, sizeof want, "corrupted record at %llu in '", (unsigned long long)offsets[bad]);
    CHECK(got == bad && code == TFC_DATA_LOSS);
    CHECK_CONTAINS(msg, want);
    CHECK_CONTAINS(msg, "bad data CRC");
    free(all);
}

/* Uncompressed bytes zlib gets out of the first `len` bytes of a stream. */
static uint64_t inflatable(const uint8_t *p, size_t len, int gzip) {
    z_stream z;
    memset(&z, 0, sizeof z);
    inflateInit2(&z, gzip ? 15 + 16 : 15);
    static uint8_t out[1 << 16];
    z.next_in = (uint8_t *)p;
    z.avail_in = (uInt)len;
    int rc;
    do {
        z.next_out = out;
        z.avail_out = sizeof out;
        rc = inflate(&z, Z_NO_FLUSH);
    } while (rc == Z_OK && z.avail_out == 0);
    uint64_t n = z.total_out;
    inflateEnd(&z);
    return n;
}

/* A compressed file cut short: every record the bytes before the cut hold
 * comes back (as it did before the read-ahead), then DATA_LOSS naming the
 * file. */
static void test_truncated_compressed(void) {
    const char *comp[2] = {"ZLIB", "GZIP"};
    for (int c = 0; c < 2; c++) {
        char src[128], path[128];
        snprintf(src, sizeof src, "%s/big-%d.tfrecord", dir, c + 1);
        path_of(path, sizeof path, "cutz.tfrecord");
        FILE *f = fopen(src, "rb");
        fseek(f, 0, SEEK_END);
        size_t n = (size_t)ftell(f);
        fseek(f, 0, SEEK_SET);
        uint8_t *all = malloc(n);
        CHECK(fread(all, 1, n, f) == n);
        fclose(f);
        size_t cut = n * 3 / 5;
        uint64_t u = inflatable(all, cut, c == 1);
        int whole = 0;
        while (whole < NREC && offsets[whole + 1] <= u) whole++;
        CHECK(whole > 0 && whole < NREC && u >= CHUNK);
        f = fopen(path, "wb");
        fwrite(all, 1, cut, f);
        fclose(f);
        reading r = reading_open(path, comp[c], 0);
        tfc_status *st = tfc_status_new();
        int got = 0;
        for (;;) {
            tfc_tensor *out[2] = {NULL, NULL};
            tfc_session_run(r.s, NULL, NULL, 0, r.kv, 2, out, NULL, 0, st);
            if (tfc_status_code(st) != TFC_OK) break;
            if (!record_ok(out[0], out[1], 0, path, got)) CHECK_MSG(0, "record %d differs", got);
            got++;
            tfc_tensor_free(out[0]);
            tfc_tensor_free(out[1]);
        }
        CHECK_MSG(got == whole && tfc_status_code(st) == TFC_DATA_LOSS,
                  "%s cut at %zu of %zu: %d records (%d whole), %s", comp[c], cut, n, got, whole,
                  tfc_status_message(st));
        CHECK_CONTAINS(tfc_status_message(st), "cutz.tfrecord");
        tfc_status_free(st);
        reading_close(&r);
        free(all);
    }
}

static void test_setup(void) {
    snprintf(dir, sizeof dir, "/tmp/tfc-reader-records-XXXXXX");
    CHECK(mkdtemp(dir) != NULL);
    make_sizes();
}

static void test_cleanup(void) {
    const char *names[7] = {"big-0.tfrecord", "big-1.tfrecord", "big-2.tfrecord",
                            "many.tfrecord",  "cut.tfrecord",   "cutz.tfrecord", NULL};
    for (int i = 0; names[i]; i++) {
        char p[128];
        path_of(p, sizeof p, names[i]);
        unlink(p);
    }
    rmdir(dir);
}

TFC_TEST_MAIN(T(test_setup), T(test_sizes_across_read_ahead), T(test_read_up_to_many),
              T(test_truncated_and_corrupt), T(test_truncated_compressed), T(test_cleanup))
