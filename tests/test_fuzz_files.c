/* Corrupt files never crash a reader: valid GraphDef, checkpoint and event
 * files are mutated at random (bytes flipped or overwritten with 0xff, cut
 * short, bytes inserted) a few thousand times with a fixed seed (IDX files
 * too, plain and gzip-compressed), and every
 * reader must either accept the file or return an error with a message.
 * Run under AddressSanitizer in CI, this also catches reads out of bounds. */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

static uint64_t rng = 0x9E3779B97F4A7C15ull;

static uint64_t next_rand(void) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

/* A mutated copy of buf (caller frees) and its size in *n. */
static uint8_t *mutate(const uint8_t *buf, size_t len, size_t *n) {
    uint8_t *out = malloc(len + 16);
    if (!out) return NULL;
    memcpy(out, buf, len);
    *n = len;
    int edits = 1 + (int)(next_rand() % 4);
    for (int e = 0; e < edits && *n > 0; e++) {
        size_t at = (size_t)(next_rand() % *n);
        switch (next_rand() % 4) {
        case 0: out[at] ^= (uint8_t)(1u << (next_rand() % 8)); break;
        case 1: out[at] = 0xff; break;
        case 2: *n = at; break; /* cut short */
        default:
            if (*n < len + 16) { /* insert a byte */
                memmove(out + at + 1, out + at, *n - at);
                out[at] = (uint8_t)next_rand();
                (*n)++;
            }
        }
    }
    return out;
}

static size_t slurp(const char *path, uint8_t **buf) {
    FILE *f = fopen(path, "rb");
    *buf = NULL;
    if (!f) return 0;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    *buf = malloc(n > 0 ? (size_t)n : 1);
    size_t got = *buf ? fread(*buf, 1, (size_t)n, f) : 0;
    fclose(f);
    return got;
}

static void spit(const char *path, const uint8_t *buf, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f) return;
    fwrite(buf, 1, n, f);
    fclose(f);
}

/* Removes a test's temporary directory and what it holds. */
static void remove_dir(const char *dir) {
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CHECK(system(cmd) == 0);
}

/* ---- GraphDef: a graph with many op kinds, a cond and a while loop ---- */

static int add_one(tfc_graph *b, const tfc_output *args, int nargs, void *user, tfc_output *outs) {
    (void)nargs;
    (void)user;
    outs[0] = tfc_add(b, args[0], tfc_const_int32(b, 1));
    return 0;
}

static int below_ten(tfc_graph *b, const tfc_output *args, int nargs, void *user,
                     tfc_output *outs) {
    (void)nargs;
    (void)user;
    outs[0] = tfc_less(b, args[0], tfc_const_int32(b, 10));
    return 0;
}

static int branch_a(tfc_graph *b, const tfc_output *args, int nargs, void *user,
                    tfc_output *outs) {
    (void)args;
    (void)nargs;
    outs[0] = tfc_square(b, *(tfc_output *)user);
    return 0;
}

static int branch_b(tfc_graph *b, const tfc_output *args, int nargs, void *user,
                    tfc_output *outs) {
    (void)args;
    (void)nargs;
    outs[0] = tfc_neg(b, *(tfc_output *)user);
    return 0;
}

static void test_graphdef_mutations(void) {
    tfc_graph *g = tfc_graph_new();
    int64_t xd[] = {-1, 4, 4, 2}, fd[] = {3, 3, 2, 3}, wd[] = {48, 5};
    tfc_output x = tfc_placeholder(g, "x", TFC_FLOAT, 4, xd);
    tfc_output f = tfc_variable(g, "f", tfc_truncated_normal(g, TFC_FLOAT, 4, fd, 0, 0.1, 0));
    int st1[] = {1, 1, 1, 1}, k[] = {1, 2, 2, 1};
    tfc_output h = tfc_max_pool(g, tfc_relu(g, tfc_conv2d(g, x, f, st1, "SAME")), k, k, "VALID");
    int64_t flat[] = {-1, 12};
    tfc_output w = tfc_variable(g, "w", tfc_random_uniform(g, TFC_FLOAT, 2, wd, -1, 1, 0));
    tfc_output y = tfc_matmul(g, tfc_concat(g, (tfc_output[]){tfc_reshape(g, h, 2, flat),
                                                               tfc_reshape(g, h, 2, flat),
                                                               tfc_reshape(g, h, 2, flat),
                                                               tfc_reshape(g, h, 2, flat)},
                                            4, 1),
                              w);
    tfc_output s = tfc_reduce_sum(g, tfc_softmax(g, y), NULL, 0, 0);
    tfc_output c;
    CHECK(tfc_cond(g, tfc_greater(g, s, tfc_const_float(g, 0)), branch_a, branch_b, &s, 1, &c) ==
          0);
    tfc_output i0 = tfc_const_int32(g, 0), loop;
    CHECK(tfc_while_loop(g, below_ten, add_one, NULL, &i0, 1, NULL, 10, &loop) == 0);
    CHECK_GRAPH_OK(g);
    uint8_t *bytes = NULL;
    size_t len = 0;
    tfc_status *st = tfc_status_new();
    CHECK(tfc_graph_to_graphdef(g, &bytes, &len, st) == 0 && len > 100);
    /* the intact bytes import */
    tfc_graph *ok = tfc_graph_new();
    CHECK(tfc_graph_import_graphdef(ok, bytes, len, "copy", NULL, NULL, 0, st) == 0);
    tfc_graph_free(ok);
    int accepted = 0, rejected = 0;
    for (int it = 0; bytes && it < 3000; it++) {
        size_t n;
        uint8_t *m = mutate(bytes, len, &n);
        tfc_graph *h2 = tfc_graph_new();
        int rc = tfc_graph_import_graphdef(h2, m, n, NULL, NULL, NULL, 0, st);
        if (rc == 0) {
            accepted++;
        } else {
            rejected++;
            CHECK(tfc_status_code(st) != TFC_OK && tfc_status_message(st)[0]);
        }
        tfc_graph_free(h2);
        free(m);
    }
    CHECK(rejected > 100); /* the mutations do reach the checks */
    printf("graphdef: %d mutations accepted, %d rejected\n", accepted, rejected);
    free(bytes);
    tfc_status_free(st);
    tfc_graph_free(g);
}

/* ---- checkpoints: mutate the index or the data, then read everything ---- */

static void read_whole_checkpoint(const char *prefix, tfc_status *st) {
    tfc_checkpoint_reader *r = tfc_checkpoint_reader_open(prefix, st);
    if (!r) {
        CHECK(tfc_status_message(st)[0]);
        return;
    }
    for (int i = 0; i < tfc_checkpoint_reader_num(r); i++) {
        const char *name = tfc_checkpoint_reader_name(r, i);
        (void)tfc_checkpoint_reader_dtype(r, i);
        (void)tfc_checkpoint_reader_shape(r, i);
        tfc_tensor *t = tfc_checkpoint_reader_get(r, name, st);
        if (!t) CHECK(tfc_status_message(st)[0]);
        tfc_tensor_free(t);
    }
    tfc_checkpoint_reader_free(r);
}

static void test_checkpoint_mutations(void) {
    char dir[] = "/tmp/tfc-fuzz-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    tfc_graph *g = tfc_graph_new();
    int64_t d1[] = {7, 3}, d2[] = {11};
    tfc_variable(g, "a", tfc_random_uniform(g, TFC_FLOAT, 2, d1, -1, 1, 0));
    tfc_variable(g, "b", tfc_random_uniform(g, TFC_DOUBLE, 1, d2, -1, 1, 0));
    tfc_variable(g, "c", tfc_const_int64(g, 42));
    tfc_node *init = tfc_global_variables_initializer(g);
    CHECK_GRAPH_OK(g);
    tfc_status *st = tfc_status_new();
    tfc_session *s = tfc_session_new(g, NULL, st);
    tfc_session_run(s, NULL, NULL, 0, NULL, 0, NULL, &init, 1, st);
    tfc_saver *sv = tfc_saver_new(g, NULL, 0, 0);
    char prefix[256], ipath[300], dpath[300];
    snprintf(prefix, sizeof prefix, "%s/m", dir);
    CHECK(tfc_saver_save(sv, s, prefix, -1, st) != NULL);
    snprintf(ipath, sizeof ipath, "%s.index", prefix);
    snprintf(dpath, sizeof dpath, "%s.data-00000-of-00001", prefix);
    uint8_t *idx, *dat;
    size_t ni = slurp(ipath, &idx), nd = slurp(dpath, &dat);
    CHECK(ni > 0 && nd > 0);
    for (int it = 0; idx && dat && it < 1500; it++) {
        int which = it % 2;
        size_t n;
        uint8_t *m = mutate(which ? dat : idx, which ? nd : ni, &n);
        spit(which ? dpath : ipath, m, n);
        read_whole_checkpoint(prefix, st);
        spit(which ? dpath : ipath, which ? dat : idx, which ? nd : ni);
        free(m);
    }
    /* restored intact afterwards */
    tfc_checkpoint_reader *r = tfc_checkpoint_reader_open(prefix, st);
    CHECK(r && tfc_checkpoint_reader_num(r) == 3);
    tfc_checkpoint_reader_free(r);
    free(idx);
    free(dat);
    tfc_saver_free(sv);
    tfc_session_free(s);
    tfc_status_free(st);
    tfc_graph_free(g);
    remove_dir(dir);
}

/* ---- event files: mutate, then read events until the end or an error ---- */

static void test_event_file_mutations(void) {
    char dir[] = "/tmp/tfc-fuzz-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    tfc_graph *g = tfc_graph_new();
    tfc_output x = tfc_placeholder(g, "x", TFC_FLOAT, 0, NULL);
    tfc_output sm = tfc_scalar_summary(g, "loss", tfc_square(g, x));
    CHECK_GRAPH_OK(g);
    tfc_status *st = tfc_status_new();
    tfc_summary_writer *w = tfc_summary_writer_new(dir, g, 10, 100, st);
    CHECK(w != NULL);
    tfc_session *s = tfc_session_new(g, NULL, st);
    for (int step = 0; w && step < 5; step++) {
        tfc_tensor *xv = tfc_tensor_scalar_float((float)step);
        tfc_tensor *sv = tfc_session_run1(s, &x, &xv, 1, sm, st);
        if (sv) tfc_summary_writer_add_summary(w, sv, step, st);
        tfc_summary_writer_add_scalar(w, "direct", step * 0.5, step, st);
        tfc_tensor_free(sv);
        tfc_tensor_free(xv);
    }
    char path[300];
    snprintf(path, sizeof path, "%s", w ? tfc_summary_writer_path(w) : "");
    tfc_summary_writer_close(w, st);
    uint8_t *buf;
    size_t len = slurp(path, &buf);
    CHECK(len > 0);
    for (int it = 0; buf && it < 1500; it++) {
        size_t n;
        uint8_t *m = mutate(buf, len, &n);
        spit(path, m, n);
        tfc_event_reader *r = tfc_event_reader_open(path, st);
        if (r) {
            tfc_event ev;
            int rc, count = 0;
            while ((rc = tfc_event_reader_next(r, &ev, st)) == 1 && count < 1000) {
                for (int v = 0; v < ev.nvalues; v++) (void)ev.values[v].tag;
                count++;
            }
            if (rc < 0) CHECK(tfc_status_message(st)[0]);
            tfc_event_reader_close(r);
        }
        free(m);
    }
    free(buf);
    tfc_session_free(s);
    tfc_status_free(st);
    tfc_graph_free(g);
    remove_dir(dir);
}

/* ---- IDX (MNIST) files, plain and gzip-compressed ---- */

static void test_idx_mutations(void) {
    char dir[] = "/tmp/tfc-fuzz-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    /* a valid idx3 file: magic 0x00000803, dims 4 x 5 x 3, uint8 data */
    uint8_t good[16 + 60];
    const uint8_t head[16] = {0, 0, 8, 3, 0, 0, 0, 4, 0, 0, 0, 5, 0, 0, 0, 3};
    memcpy(good, head, 16);
    for (int i = 0; i < 60; i++) good[16 + i] = (uint8_t)next_rand();
    char path[256], gzpath[300];
    snprintf(path, sizeof path, "%s/x-idx3-ubyte", dir);
    snprintf(gzpath, sizeof gzpath, "%s.gz", path);
    spit(path, good, sizeof good);
    tfc_status *st = tfc_status_new();
    tfc_tensor *t = tfc_idx_read(path, st);
    CHECK(t && tfc_tensor_num_elements(t) == 60);
    tfc_tensor_free(t);
    gzFile zf = gzopen(gzpath, "wb");
    CHECK(zf != NULL);
    if (zf) {
        CHECK(gzwrite(zf, good, sizeof good) == (int)sizeof good);
        gzclose(zf);
    }
    uint8_t *gz;
    size_t ngz = slurp(gzpath, &gz);
    CHECK(ngz > 0);
    for (int it = 0; gz && it < 1500; it++) {
        int compressed = it % 2;
        size_t n;
        uint8_t *m = mutate(compressed ? gz : good, compressed ? ngz : sizeof good, &n);
        spit(compressed ? gzpath : path, m, n);
        tfc_tensor *r = tfc_idx_read(compressed ? gzpath : path, st);
        if (r)
            CHECK(tfc_tensor_num_elements(r) >= 0);
        else
            CHECK(tfc_status_message(st)[0] && strstr(tfc_status_message(st), "x-idx3-ubyte"));
        tfc_tensor_free(r);
        free(m);
    }
    free(gz);
    tfc_status_free(st);
    remove_dir(dir);
}

TFC_TEST_MAIN(T(test_graphdef_mutations), T(test_checkpoint_mutations),
              T(test_event_file_mutations), T(test_idx_mutations))
