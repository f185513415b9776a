/* CRC-32C, masking and TFRecord framing against the fact sheet's test
 * vectors; record round trips and corruption detection; event files. */
#include "formats/crc32c.h"
#include "formats/events.h"
#include "harness.h"
#include "scratch_dir.h"

#include <dirent.h>
#include <sys/stat.h>
#include <time.h>
#include <stdlib.h>
#include <unistd.h>

static void test_crc32c_vectors(void) {
    uint8_t zeros[32] = {0}, ones[32], inc[32], dec[32];
    for (int i = 0; i < 32; i++) {
        ones[i] = 0xFF;
        inc[i] = (uint8_t)i;
        dec[i] = (uint8_t)(31 - i);
    }
    CHECK(tfc_crc32c("123456789", 9) == 0xE3069283u);
    CHECK(tfc_crc32c(zeros, 32) == 0x8A9136AAu);
    CHECK(tfc_crc32c(ones, 32) == 0x62A8AB43u);
    CHECK(tfc_crc32c(inc, 32) == 0x46DD794Eu);
    CHECK(tfc_crc32c(dec, 32) == 0x113FDB5Cu);
    CHECK(tfc_crc32c("", 0) == 0);
    /* extend continues a running CRC */
    CHECK(tfc_crc32c_extend(tfc_crc32c("1234", 4), "56789", 5) == 0xE3069283u);
}

static void test_crc32c_mask(void) {
    CHECK(tfc_crc32c_mask(0xE3069283u) == 0xC78AB0E5u);
    CHECK(tfc_crc32c_mask(0) == 0xA282EAD8u);
    uint8_t len[8] = {0};
    CHECK(tfc_crc32c_mask(tfc_crc32c(len, 8)) == 0x07980329u);
    len[0] = 24;
    CHECK(tfc_crc32c_mask(tfc_crc32c(len, 8)) == 0x224B7FA3u);
    len[0] = 100;
    CHECK(tfc_crc32c(len, 8) == 0xBA359E4Cu);
    tfc_test_seed(7);
    for (int i = 0; i < 100; i++) {
        uint32_t v = (uint32_t)tfc_test_uniform(0, 4294967295.0);
        CHECK(tfc_crc32c_unmask(tfc_crc32c_mask(v)) == v);
    }
}

static size_t read_file(const char *path, uint8_t *buf, size_t cap) {
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    size_t n = fread(buf, 1, cap, f);
    fclose(f);
    return n;
}

static void write_file(const char *path, const uint8_t *buf, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f) return;
    fwrite(buf, 1, n, f);
    fclose(f);
}

/* Record A of the fact sheet: TF's own event_file_loader_test bytes. */
static void test_tfrecord_vector(void) {
    static const uint8_t expect[40] = {
        0x18, 0, 0, 0, 0, 0, 0, 0, 0xa3, 0x7f, 0x4b, 0x22, 0x09, 0, 0, 0xc0, 0x25, 0xdd,
        0x75, 0xd5, 0x41, 0x1a, 0x0d, 'b', 'r', 'a', 'i', 'n', '.', 'E', 'v', 'e', 'n', 't',
        ':', '1', 0xec, 0xf3, 0x32, 0x8d};
    make_tmpdir("events");
    char path[128];
    snprintf(path, sizeof path, "%s/a.tfrecord", tmpdir);
    tfc_status *st = tfc_status_new();
    tfc_record_writer *w = tfc_record_writer_open(path, 0, st);
    CHECK(w != NULL);
    if (w) {
        CHECK(tfc_record_writer_write(w, expect + 12, 24, st) == 0);
        CHECK(tfc_record_writer_close(w, st) == 0);
    }
    uint8_t buf[64];
    CHECK(read_file(path, buf, sizeof buf) == 40);
    CHECK(memcmp(buf, expect, 40) == 0);
    tfc_status_free(st);
    remove_tmpdir();
}

static void test_tfrecord_round_trip(void) {
    make_tmpdir("events");
    char path[128];
    snprintf(path, sizeof path, "%s/r.tfrecord", tmpdir);
    tfc_status *st = tfc_status_new();
    static const size_t lens[] = {0, 1, 17, 1000, 5};
    uint8_t data[5][1000];
    tfc_test_seed(11);
    for (int r = 0; r < 5; r++)
        for (size_t i = 0; i < lens[r]; i++) data[r][i] = (uint8_t)tfc_test_uniform(0, 256);
    tfc_record_writer *w = tfc_record_writer_open(path, 0, st);
    for (int r = 0; r < 3; r++) CHECK(tfc_record_writer_write(w, data[r], lens[r], st) == 0);
    tfc_record_writer_close(w, st);
    w = tfc_record_writer_open(path, 1, st); /* append */
    for (int r = 3; r < 5; r++) CHECK(tfc_record_writer_write(w, data[r], lens[r], st) == 0);
    tfc_record_writer_close(w, st);

    tfc_record_reader *rd = tfc_record_reader_open(path, st);
    CHECK(rd != NULL);
    const uint8_t *p;
    size_t n;
    for (int r = 0; r < 5; r++) {
        CHECK(tfc_record_reader_next(rd, &p, &n, st) == 1);
        CHECK(n == lens[r] && (n == 0 || memcmp(p, data[r], n) == 0));
    }
    CHECK(tfc_record_reader_next(rd, &p, &n, st) == 0);
    tfc_record_reader_close(rd);

    /* a flipped data byte is a bad CRC; a cut file is truncation */
    static uint8_t file[2000];
    size_t total = read_file(path, file, sizeof file);
    CHECK(total == 16 * 5 + 1 + 17 + 1000 + 5);
    file[12 + 0 + 16 + 1 + 16 + 3] ^= 0x10; /* inside record 2 */
    write_file(path, file, total);
    rd = tfc_record_reader_open(path, st);
    CHECK(tfc_record_reader_next(rd, &p, &n, st) == 1);
    CHECK(tfc_record_reader_next(rd, &p, &n, st) == 1);
    CHECK(tfc_record_reader_next(rd, &p, &n, st) == -1);
    CHECK(tfc_status_code(st) == TFC_DATA_LOSS);
    CHECK_CONTAINS(tfc_status_message(st), "corrupted record at 33");
    tfc_record_reader_close(rd);
    file[12 + 0 + 16 + 1 + 16 + 3] ^= 0x10;
    write_file(path, file, total - 3);
    rd = tfc_record_reader_open(path, st);
    int rc, count = 0;
    while ((rc = tfc_record_reader_next(rd, &p, &n, st)) == 1) count++;
    CHECK(rc == -1 && count == 4);
    CHECK_CONTAINS(tfc_status_message(st), "truncated");
    tfc_record_reader_close(rd);
    /* a missing file */
    snprintf(path, sizeof path, "%s/none", tmpdir);
    CHECK(tfc_record_reader_open(path, st) == NULL);
    CHECK_CONTAINS(tfc_status_message(st), "none");
    tfc_status_free(st);
    remove_tmpdir();
}

/* Record C of the fact sheet: a scalar event, encoded by the summary and
 * event encoders and framed by the record writer. */
static void test_event_vector(void) {
    static const uint8_t expect[41] = {
        0x19, 0, 0, 0, 0, 0, 0, 0, 0x8b, 0xf1, 0x08, 0x28, 0x09, 0, 0, 0, 0, 0, 0x08, 0x70,
        0x40, 0x10, 0x01, 0x2a, 0x0c, 0x0a, 0x0a, 0x0a, 0x03, 'v', '/', '1', 0x15, 0, 0, 0xc0,
        0x3f, 0x2c, 0xec, 0xc0, 0x87};
    tfc_buf sum = {0}, ev = {0};
    tfc_summary_add_scalar(&sum, "v/1", 1.5f);
    tfc_event_encode(&ev, 256.5, 1, TFC_EVENT_SUMMARY, sum.p, sum.n);
    CHECK(ev.n == 25 && memcmp(ev.p, expect + 12, 25) == 0);
    make_tmpdir("events");
    char path[128];
    snprintf(path, sizeof path, "%s/c", tmpdir);
    tfc_status *st = tfc_status_new();
    tfc_record_writer *w = tfc_record_writer_open(path, 0, st);
    tfc_record_writer_write(w, ev.p, ev.n, st);
    tfc_record_writer_close(w, st);
    uint8_t buf[64];
    CHECK(read_file(path, buf, sizeof buf) == 41 && memcmp(buf, expect, 41) == 0);
    /* a zero scalar is still written (oneof presence) */
    tfc_buf z = {0};
    tfc_summary_add_scalar(&z, "z", 0.0f);
    static const uint8_t zexp[] = {0x0a, 0x08, 0x0a, 0x01, 'z', 0x15, 0, 0, 0, 0};
    CHECK(z.n == sizeof zexp && memcmp(z.p, zexp, z.n) == 0);
    tfc_buf_free(&z);
    tfc_buf_free(&sum);
    tfc_buf_free(&ev);
    tfc_status_free(st);
    remove_tmpdir();
}

static long file_size(const char *path) {
    struct stat sb;
    return stat(path, &sb) ? -1 : (long)sb.st_size;
}

static void test_summary_writer(void) {
    make_tmpdir("events");
    char logdir[128];
    snprintf(logdir, sizeof logdir, "%s/run1", tmpdir);
    tfc_status *st = tfc_status_new();
    tfc_graph *g = tfc_graph_new();
    tfc_name_scope_push(g, "layer1");
    tfc_output x = tfc_placeholder(g, "x", TFC_FLOAT, 0, NULL);
    tfc_identity(g, x);
    tfc_name_scope_pop(g);
    tfc_summary_writer *w = tfc_summary_writer_new(logdir, g, 3, 1000, st);
    CHECK_STATUS_OK(st);
    const char *path = tfc_summary_writer_path(w);
    CHECK(path && strstr(path, "/run1/events.out.tfevents."));
    long size0 = file_size(path);
    CHECK(size0 > 0); /* the first event is flushed at once */
    /* queue of 3: the graph + two scalars stay queued, the third write flushes */
    tfc_test_seed(5);
    double vals[6];
    for (int i = 0; i < 6; i++) vals[i] = tfc_test_uniform(-5, 5);
    CHECK(tfc_summary_writer_add_scalar(w, "loss", vals[0], 10, st) == 0);
    CHECK(file_size(path) == size0);
    CHECK(tfc_summary_writer_add_scalar(w, "loss", vals[1], 20, st) == 0);
    CHECK(file_size(path) > size0);
    long size1 = file_size(path);
    CHECK(tfc_summary_writer_add_scalar(w, "loss", vals[2], 30, st) == 0);
    CHECK(file_size(path) == size1);
    CHECK(tfc_summary_writer_flush(w, st) == 0);
    CHECK(file_size(path) > size1);
    for (int i = 3; i < 6; i++)
        CHECK(tfc_summary_writer_add_scalar(w, "acc", vals[i], 10 * (i + 1), st) == 0);
    char saved[256];
    snprintf(saved, sizeof saved, "%s", path);
    CHECK(tfc_summary_writer_close(w, st) == 0);

    tfc_event_reader *r = tfc_event_reader_open(saved, st);
    tfc_event ev;
    CHECK(tfc_event_reader_next(r, &ev, st) == 1);
    CHECK(!strcmp(ev.file_version, "brain.Event:2") && ev.wall_time > 1e9);
    CHECK(tfc_event_reader_next(r, &ev, st) == 1);
    CHECK(ev.graph_def != NULL && ev.graph_def_size > 0);
    /* the GraphDef holds the scoped names */
    int found = 0;
    for (size_t i = 0; ev.graph_def && i + 10 <= ev.graph_def_size; i++)
        if (!memcmp(ev.graph_def + i, "layer1/x", 8)) found = 1;
    CHECK(found);
    for (int i = 0; i < 6; i++) {
        CHECK(tfc_event_reader_next(r, &ev, st) == 1);
        CHECK(ev.step == 10 * (i + 1) && ev.nvalues == 1);
        if (ev.nvalues == 1) {
            CHECK(!strcmp(ev.values[0].tag, i < 3 ? "loss" : "acc"));
            CHECK(ev.values[0].scalar == (float)vals[i]);
        }
    }
    CHECK(tfc_event_reader_next(r, &ev, st) == 0);
    tfc_event_reader_close(r);
    remove(saved);

    /* the background flusher writes a queued event after flush_secs */
    w = tfc_summary_writer_new(logdir, NULL, 100, 0.2, st);
    snprintf(saved, sizeof saved, "%s", tfc_summary_writer_path(w));
    size0 = file_size(saved);
    CHECK(tfc_summary_writer_add_scalar(w, "late", 1.0, 1, st) == 0);
    CHECK(file_size(saved) == size0);
    struct timespec tick = {0, 50000000};
    for (int i = 0; i < 40 && file_size(saved) == size0; i++) nanosleep(&tick, NULL);
    CHECK(file_size(saved) > size0);
    CHECK(tfc_summary_writer_close(w, st) == 0);
    remove(saved);
    rmdir(logdir);

    /* misuse */
    CHECK(tfc_summary_writer_new("", NULL, 0, 0, st) == NULL);
    CHECK(tfc_summary_writer_new("/proc/no/such/dir", NULL, 0, 0, st) == NULL);
    CHECK_CONTAINS(tfc_status_message(st), "/proc/no/such/dir");
    tfc_graph_free(g);
    tfc_status_free(st);
    remove_tmpdir();
}

TFC_TEST_MAIN(T(test_crc32c_vectors), T(test_crc32c_mask), T(test_tfrecord_vector),
              T(test_tfrecord_round_trip), T(test_event_vector), T(test_summary_writer))
