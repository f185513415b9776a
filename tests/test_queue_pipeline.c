/* Input pipelines: readers (TFRecord plain, ZLIB and GZIP; text lines;
 * fixed-length records; whole files) fed file names by
 * string_input_producer's queue runner, batching, epochs ending in
 * OUT_OF_RANGE, the coordinator (first error, grace period), a corrupt
 * file naming itself and the offset with every thread stopped, and
 * slice_input_producer, and the runners' scheduling policy. Each
 * pipeline runs with 1 and 2 inter-op threads (under TSan in the
 * build-*-tsan directories). */
#define _GNU_SOURCE /* SCHED_BATCH */
#include "harness.h"
#include "record_files.h"

#include <dirent.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[64];

static void path_of(char *buf, size_t n, const char *name) { snprintf(buf, n, "%s/%s", dir, name); }

/* record i of file `*(int *)user`: "rec-<file>-<i>" */
static uint8_t *make_record(int i, size_t *len, void *user) {
    char *rec = malloc(64);
    *len = (size_t)snprintf(rec, 64, "rec-%d-%d", *(const int *)user, i);
    return (uint8_t *)rec;
}

/* Writes `n` records "rec-<file>-<i>" to a TFRecord file, compressed as
 * asked ("", "ZLIB", "GZIP"). */
static void write_records(const char *name, int file, int n, const char *compression) {
    char path[128];
    path_of(path, sizeof path, name);
    write_record_file(path, n, make_record, &file, compression);
}

static void write_text(const char *name, const char *text) {
    char path[128];
    path_of(path, sizeof path, name);
    FILE *f = fopen(path, "wb");
    fputs(text, f);
    fclose(f);
}

static tfc_session *session(tfc_graph *g, int threads) {
    tfc_session_options o = {0};
    o.inter_op_threads = o.intra_op_threads = threads;
    tfc_status *st = tfc_status_new();
    tfc_session *s = tfc_session_new(g, &o, st);
    CHECK_STATUS_OK(st);
    tfc_status_free(st);
    return s;
}

static tfc_code run_targets(tfc_session *s, tfc_node *const *t, int n) {
    tfc_status *st = tfc_status_new();
    tfc_session_run(s, NULL, NULL, 0, NULL, 0, NULL, t, n, st);
    tfc_code c = tfc_status_code(st);
    tfc_status_free(st);
    return c;
}

/* Runs the initializers, starts the runners, fetches `fetch` until
 * OUT_OF_RANGE; calls each(value, user) per fetched tensor. Returns the
 * final code of the loop (OUT_OF_RANGE when the input ended); *join_code
 * gets the coordinator's join. */
static tfc_code drain(tfc_graph *g, int threads, tfc_output fetch,
                      void (*each)(const tfc_tensor *, void *), void *user, tfc_code *join_code,
                      char *msg, size_t cap) {
    tfc_node *init[2] = {tfc_global_variables_initializer(g), tfc_local_variables_initializer(g)};
    CHECK_GRAPH_OK(g);
    tfc_session *s = session(g, threads);
    CHECK(run_targets(s, init, 2) == TFC_OK);
    tfc_coordinator *coord = tfc_coordinator_new();
    tfc_status *st = tfc_status_new();
    CHECK(tfc_start_queue_runners(s, coord, st) > 0);
    tfc_code code = TFC_OK;
    for (int steps = 0; steps < 100000 && !tfc_coordinator_should_stop(coord); steps++) {
        tfc_tensor *out = NULL;
        tfc_session_run(s, NULL, NULL, 0, &fetch, 1, &out, NULL, 0, st);
        code = tfc_status_code(st);
        if (code != TFC_OK) break;
        each(out, user);
        tfc_tensor_free(out);
    }
    if (msg) snprintf(msg, cap, "%s", tfc_status_message(st));
    tfc_coordinator_request_stop(coord, NULL);
    tfc_coordinator_join(coord, 5000, st);
    *join_code = tfc_status_code(st);
    if (msg && *join_code != TFC_OK) snprintf(msg, cap, "%s", tfc_status_message(st));
    tfc_session_close(s);
    tfc_coordinator_free(coord);
    tfc_session_free(s);
    tfc_status_free(st);
    return code;
}

typedef struct tally {
    int n, per_file[4][40];
    char last_key[1024];
} tally;

/* counts "rec-<f>-<i>" values */
static void count_records(const tfc_tensor *t, void *user) {
    tally *ta = user;
    for (int64_t e = 0; e < tfc_tensor_num_elements(t); e++) {
        size_t len;
        const char *p = tfc_string_tensor_get(t, e, &len);
        int f, i;
        char buf[64];
        snprintf(buf, sizeof buf, "%.*s", (int)len, p);
        if (sscanf(buf, "rec-%d-%d", &f, &i) == 2 && f >= 0 && f < 4 && i >= 0 && i < 40)
            ta->per_file[f][i]++;
        ta->n++;
    }
}

static void test_tfrecord_epochs(void) {
    const char *comp[3] = {"", "ZLIB", "GZIP"};
    for (int c = 0; c < 3; c++) {
        for (int threads = 1; threads <= 2; threads++) {
            char names[3][128];
            const char *ptrs[3];
            for (int f = 0; f < 3; f++) {
                char n[32];
                snprintf(n, sizeof n, "r%d_%d.tfrecord", c, f);
                write_records(n, f, 10 + f, comp[c]);
                path_of(names[f], sizeof names[f], n);
                ptrs[f] = names[f];
            }
            tfc_graph *g = tfc_graph_new();
            tfc_output files = tfc_const_strings(g, 1, (int64_t[]){3}, ptrs, NULL);
            tfc_output fq = tfc_string_input_producer(g, files, 2, 1, 7, 0);
            tfc_output reader = tfc_tf_record_reader(g, comp[c]), kv[2];
            tfc_reader_read(g, reader, fq, kv);
            tfc_output batch;
            CHECK(tfc_batch(g, &kv[1], 1, 4, 2, 16, 0, 0, 1, &batch) == 0);
            tally t = {0};
            tfc_code jc;
            char msg[512];
            tfc_code code = drain(g, threads, batch, count_records, &t, &jc, msg, sizeof msg);
            CHECK_MSG(code == TFC_OUT_OF_RANGE, "%s", msg);
            CHECK_MSG(jc == TFC_OK, "%s", msg);
            CHECK_MSG(t.n == 2 * (10 + 11 + 12), "compression '%s': %d records", comp[c], t.n);
            for (int f = 0; f < 3; f++)
                for (int i = 0; i < 10 + f; i++) CHECK(t.per_file[f][i] == 2);
            tfc_graph_free(g);
        }
    }
}

static void keys_values(const tfc_tensor *t, void *user) {
    tally *ta = user;
    size_t len;
    const char *p = tfc_string_tensor_get(t, 0, &len);
    int k = (int)strlen(ta->last_key);
    snprintf(ta->last_key + k, sizeof ta->last_key - (size_t)k, "%.*s|", (int)len, p);
    ta->n++;
}

static void test_text_fixed_whole(void) {
    write_text("a.txt", "header\nline one\r\nline two\n\nlast");
    unsigned char fixed[3 + 4 * 5 + 2];
    for (size_t i = 0; i < sizeof fixed; i++) fixed[i] = (unsigned char)('A' + i);
    char path[128];
    path_of(path, sizeof path, "b.bin");
    FILE *f = fopen(path, "wb");
    fwrite(fixed, 1, sizeof fixed, f);
    fclose(f);
    for (int kind = 0; kind < 3; kind++) {
        tfc_graph *g = tfc_graph_new();
        path_of(path, sizeof path, kind == 0 ? "a.txt" : "b.bin");
        const char *p = path;
        tfc_output fq = tfc_string_input_producer(
            g, tfc_const_strings(g, 1, (int64_t[]){1}, &p, NULL), 1, 0, 0, 0);
        tfc_output reader = kind == 0   ? tfc_text_line_reader(g, 1)
                            : kind == 1 ? tfc_fixed_length_record_reader(g, 5, 3, 2, 4, "")
                                        : tfc_whole_file_reader(g);
        tfc_output kv[2];
        tfc_reader_read(g, reader, fq, kv);
        tfc_output pair[2] = {kv[0], kv[1]};
        tfc_output joined = tfc_string_join(g, pair, 2, "=");
        tally t = {0};
        tfc_code jc;
        char msg[512];
        CHECK(drain(g, 1, joined, keys_values, &t, &jc, msg, sizeof msg) == TFC_OUT_OF_RANGE);
        CHECK_MSG(jc == TFC_OK, "%s", msg);
        char want[1024];
        if (kind == 0)
            snprintf(want, sizeof want, "%s:2=line one|%s:3=line two|%s:4=|%s:5=last|", path, path,
                     path, path);
        else if (kind == 1) /* records of 5 every 4 bytes after 3, before the last 2 */
            snprintf(want, sizeof want, "%s:0=DEFGH|%s:1=HIJKL|%s:2=LMNOP|%s:3=PQRST|", path, path,
                     path, path);
        else
            snprintf(want, sizeof want, "%s=%.*s|", path, (int)sizeof fixed, (const char *)fixed);
        CHECK_MSG(!strcmp(t.last_key, want), "got '%s'\nwant '%s'", t.last_key, want);
        tfc_graph_free(g);
    }
}

static void test_read_up_to_and_counts(void) {
    write_records("u.tfrecord", 0, 7, "");
    char path[128];
    path_of(path, sizeof path, "u.tfrecord");
    const char *p = path;
    tfc_graph *g = tfc_graph_new();
    tfc_dtype dt = TFC_STRING;
    tfc_output fq = tfc_fifo_queue(g, 10, &dt, 1, NULL, NULL);
    tfc_output name = tfc_const_strings(g, 1, (int64_t[]){2}, (const char *[]){p, p}, NULL);
    tfc_node *enq = tfc_queue_enqueue_many(g, fq, &name, 1), *close = tfc_queue_close(g, fq, 0);
    tfc_output reader = tfc_tf_record_reader(g, ""), kv[2];
    tfc_reader_read_up_to(g, reader, fq, 5, kv);
    tfc_output produced = tfc_reader_num_records_produced(g, reader);
    tfc_output done = tfc_reader_num_work_units_completed(g, reader);
    CHECK_GRAPH_OK(g);
    tfc_session *s = session(g, 1);
    tfc_node *both[2] = {enq, close};
    CHECK(run_targets(s, both, 2) == TFC_OK);
    int64_t sizes[4] = {0};
    tfc_status *st = tfc_status_new();
    for (int i = 0; i < 4; i++) {
        tfc_tensor *out[2] = {0};
        tfc_session_run(s, NULL, NULL, 0, kv, 2, out, NULL, 0, st);
        sizes[i] = out[0] ? tfc_tensor_num_elements(out[0]) : -1;
        if (i == 0 && out[0]) {
            size_t len;
            const char *k = tfc_string_tensor_get(out[0], 1, &len);
            char want[160];
            snprintf(want, sizeof want, "%s:%d", path, 1 * (16 + 7)); /* record 1 at offset 23 */
            CHECK(len == strlen(want) && !memcmp(k, want, len));
        }
        tfc_tensor_free(out[0]);
        tfc_tensor_free(out[1]);
    }
    /* 5 then the 2 left of the file (a read stops at a file's end), twice */
    CHECK(sizes[0] == 5 && sizes[1] == 2 && sizes[2] == 5 && sizes[3] == 2);
    tfc_tensor *out[2] = {0};
    tfc_session_run(s, NULL, NULL, 0, kv, 2, out, NULL, 0, st);
    CHECK(tfc_status_code(st) == TFC_OUT_OF_RANGE);
    CHECK_CONTAINS(tfc_status_message(st), "is closed and has insufficient elements");
    tfc_output counts[2] = {produced, done};
    tfc_session_run(s, NULL, NULL, 0, counts, 2, out, NULL, 0, st);
    CHECK_STATUS_OK(st);
    CHECK(out[0] && *(int64_t *)tfc_tensor_data(out[0]) == 14);
    CHECK(out[1] && *(int64_t *)tfc_tensor_data(out[1]) == 2);
    tfc_tensor_free(out[0]);
    tfc_tensor_free(out[1]);
    tfc_status_free(st);
    tfc_session_free(s);
    tfc_graph_free(g);
}

/* A corrupt record: the error names the file and the offset, the
 * coordinator stops every thread and join returns it; nothing hangs. */
static void test_corrupt_file(void) {
    write_records("bad.tfrecord", 1, 6, "");
    char path[128];
    path_of(path, sizeof path, "bad.tfrecord");
    FILE *f = fopen(path, "r+b");
    fseek(f, 3 * 23 + 14, SEEK_SET); /* inside record 3's data */
    fputc('X', f);
    fclose(f);
    for (int threads = 1; threads <= 2; threads++) {
        tfc_graph *g = tfc_graph_new();
        const char *p = path;
        tfc_output fq = tfc_string_input_producer(
            g, tfc_const_strings(g, 1, (int64_t[]){1}, &p, NULL), 0, 0, 0, 0);
        tfc_output reader = tfc_tf_record_reader(g, ""), kv[2], batch;
        tfc_reader_read(g, reader, fq, kv);
        CHECK(tfc_batch(g, &kv[1], 1, 2, 2, 8, 0, 0, 0, &batch) == 0);
        tally t = {0};
        tfc_code jc;
        char msg[512];
        drain(g, threads, batch, count_records, &t, &jc, msg, sizeof msg);
        CHECK(jc == TFC_DATA_LOSS);
        CHECK_CONTAINS(msg, "corrupted record at 69 in '");
        CHECK_CONTAINS(msg, "bad.tfrecord");
        tfc_graph_free(g);
    }
}

static void sum_pairs(const tfc_tensor *t, void *user) {
    tally *ta = user;
    for (int64_t i = 0; i < tfc_tensor_num_elements(t); i++) {
        int v = ((const int32_t *)tfc_tensor_data(t))[i];
        if (v >= 0 && v < 40) ta->per_file[0][v]++;
        ta->n++;
    }
}

static void test_slice_and_shuffle_batch(void) {
    for (int threads = 1; threads <= 2; threads++) {
        tfc_graph *g = tfc_graph_new();
        int32_t v[30];
        for (int i = 0; i < 30; i++) v[i] = i;
        tfc_output data = tfc_const_ints(g, v, 30), row;
        CHECK(tfc_slice_input_producer(g, &data, 1, 3, 1, 5, 0, &row) == 0);
        tfc_output batch;
        CHECK(tfc_shuffle_batch(g, &row, 1, 6, 20, 5, 2, 9, 0, 1, &batch) == 0);
        tally t = {0};
        tfc_code jc;
        char msg[512];
        CHECK(drain(g, threads, batch, sum_pairs, &t, &jc, msg, sizeof msg) == TFC_OUT_OF_RANGE);
        CHECK_MSG(jc == TFC_OK, "%s", msg);
        CHECK(t.n == 90);
        for (int i = 0; i < 30; i++) CHECK(t.per_file[0][i] == 3);
        tfc_graph_free(g);
    }
}

/* How many of this process's threads run under `policy` (Linux: a
 * thread id is a pid to sched_getscheduler). */
static int threads_under(int policy) {
    DIR *d = opendir("/proc/self/task");
    int n = 0;
    for (struct dirent *e; d && (e = readdir(d));)
        if (e->d_name[0] != '.' && sched_getscheduler((pid_t)atoi(e->d_name)) == policy) n++;
    if (d) closedir(d);
    return n;
}

/* Enqueue threads run as batch work (SCHED_BATCH: woken by a dequeue,
 * they do not preempt the training step's threads); the cancel thread,
 * the caller and the session's pool keep the normal policy. */
static void test_runners_are_batch_work(void) {
    tfc_graph *g = tfc_graph_new();
    tfc_dtype dt = TFC_FLOAT;
    tfc_output q = tfc_fifo_queue(g, 4, &dt, 1, NULL, NULL), one = tfc_const_float(g, 1.0f), x;
    tfc_node *enq[2] = {tfc_queue_enqueue(g, q, &one, 1), tfc_queue_enqueue(g, q, &one, 1)};
    CHECK(tfc_add_queue_runner(g, q, enq, 2, NULL, NULL) == 0);
    CHECK(tfc_queue_dequeue(g, q, &x, 1) == 1);
    CHECK_GRAPH_OK(g);
    int before = threads_under(SCHED_BATCH);
    tfc_session *s = session(g, 2);
    tfc_coordinator *coord = tfc_coordinator_new();
    tfc_status *st = tfc_status_new();
    CHECK(tfc_start_queue_runners(s, coord, st) == 3);
    /* values come out once a runner runs; the other may start later */
    int batch = 0;
    for (int i = 0; i < 2000 && batch < 2; i++) {
        tfc_tensor *out = NULL;
        tfc_session_run(s, NULL, NULL, 0, &x, 1, &out, NULL, 0, st);
        CHECK_STATUS_OK(st);
        tfc_tensor_free(out);
        batch = threads_under(SCHED_BATCH) - before;
        if (batch < 2) usleep(1000);
    }
    CHECK(batch == 2);
    CHECK(sched_getscheduler(0) == SCHED_OTHER);
    tfc_coordinator_request_stop(coord, NULL);
    CHECK(tfc_coordinator_join(coord, 5000, st) == 0);
    tfc_session_close(s);
    tfc_coordinator_free(coord);
    tfc_session_free(s);
    tfc_status_free(st);
    tfc_graph_free(g);
}

/* ---- the coordinator alone ---- */

static void stops_with_error(void *arg, tfc_coordinator *c) {
    (void)arg;
    tfc_status *st = tfc_status_new();
    tfc_status_set(st, TFC_INVALID_ARGUMENT, "thread failed");
    tfc_coordinator_request_stop(c, st);
    tfc_status_free(st);
}

static void waits_for_stop(void *arg, tfc_coordinator *c) {
    (void)arg;
    tfc_coordinator_wait_for_stop(c, -1);
}

static void ignores_stop(void *arg, tfc_coordinator *c) {
    (void)c;
    usleep(*(int *)arg * 1000);
}

static void test_coordinator(void) {
    tfc_coordinator *c = tfc_coordinator_new();
    tfc_status *st = tfc_status_new();
    CHECK(tfc_coordinator_start_thread(c, "waiter", waits_for_stop, NULL) == 0);
    CHECK(tfc_coordinator_start_thread(c, "failer", stops_with_error, NULL) == 0);
    CHECK(tfc_coordinator_join(c, 1000, st) == -1);
    CHECK(tfc_status_code(st) == TFC_INVALID_ARGUMENT);
    CHECK_CONTAINS(tfc_status_message(st), "thread failed");
    CHECK(tfc_coordinator_should_stop(c));
    tfc_coordinator_free(c);

    /* a thread that ignores the stop outlives the grace period */
    c = tfc_coordinator_new();
    int ms = 300;
    CHECK(tfc_coordinator_start_thread(c, "slowpoke", ignores_stop, &ms) == 0);
    tfc_coordinator_request_stop(c, NULL);
    CHECK(tfc_coordinator_join(c, 20, st) == -1);
    CHECK_CONTAINS(tfc_status_message(st),
                   "Coordinator stopped with threads still running: slowpoke");
    tfc_coordinator_free(c); /* joins it */

    /* OUT_OF_RANGE is a clean stop */
    c = tfc_coordinator_new();
    tfc_status_set(st, TFC_OUT_OF_RANGE, "end of input");
    tfc_coordinator_request_stop(c, st);
    CHECK(tfc_coordinator_join(c, 10, st) == 0);
    CHECK(tfc_coordinator_wait_for_stop(c, 0));
    tfc_coordinator_free(c);
    tfc_status_free(st);
}

/* removes the test directory */
static void cleanup(void) {
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd)) fprintf(stderr, "could not remove %s\n", dir);
}

static void setup(void) {
    snprintf(dir, sizeof dir, "/tmp/tfc_pipeline_XXXXXX");
    CHECK(mkdtemp(dir) != NULL);
}

static void test_setup(void) { setup(); }
static void test_cleanup(void) { cleanup(); }

TFC_TEST_MAIN(T(test_setup), T(test_coordinator), T(test_tfrecord_epochs), T(test_text_fixed_whole),
              T(test_read_up_to_and_counts), T(test_corrupt_file), T(test_slice_and_shuffle_batch),
              T(test_runners_are_batch_work), T(test_cleanup))
