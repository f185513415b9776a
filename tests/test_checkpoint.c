/* Checkpoints: the V2 bundle's bytes against the fact sheet's worked
 * example, Saver round trips over several dtypes and shapes, max_to_keep and
 * the `checkpoint` state file, and clear all-or-nothing errors for corrupt,
 * truncated and mismatched checkpoints. */
#include "checkpoint_helpers.h"
#include "formats/crc32c.h"
#include "formats/tensor_bundle.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

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

static int exists(const char *dir, const char *name) {
    char p[512];
    struct stat sb;
    snprintf(p, sizeof p, "%s/%s", dir, name);
    return stat(p, &sb) == 0;
}

/* §5.7 of the fact sheet: three tensors, their data and index bytes. */
static void test_bundle_worked_example(void) {
    static const uint8_t expect_data[32] = {0, 0, 0x80, 0x3f, 0, 0, 0, 0x40, 0, 0, 0x40, 0x40,
                                            0, 0, 0x80, 0x40, 0, 0, 0, 0x3f, 0, 0, 0, 0xbf,
                                            0x64, 0, 0, 0, 0, 0, 0, 0};
    uint8_t expect[187];
    size_t n = 0;
#define B(...)                                                       \
    do {                                                             \
        static const uint8_t b_[] = {__VA_ARGS__};                   \
        memcpy(expect + n, b_, sizeof b_);                           \
        n += sizeof b_;                                              \
    } while (0)
#define S(s)                             \
    do {                                 \
        memcpy(expect + n, s, strlen(s)); \
        n += strlen(s);                  \
    } while (0)
    B(0x00, 0x00, 0x06, 0x08, 0x01, 0x1a, 0x02, 0x08, 0x01);
    B(0x00, 0x0a, 0x11);
    S("dense/bias");
    B(0x08, 0x01, 0x12, 0x04, 0x12, 0x02, 0x08, 0x02, 0x20, 0x10, 0x28, 0x08, 0x35, 0x42, 0x1e,
      0xf0, 0xfc);
    B(0x06, 0x06, 0x13);
    S("kernel");
    B(0x08, 0x01, 0x12, 0x08, 0x12, 0x02, 0x08, 0x02, 0x12, 0x02, 0x08, 0x02, 0x28, 0x10, 0x35,
      0x4c, 0x28, 0x98, 0x74);
    B(0x00, 0x0b, 0x0d);
    S("global_step");
    B(0x08, 0x09, 0x12, 0x00, 0x20, 0x18, 0x28, 0x08, 0x35, 0x43, 0x5f, 0x1c, 0xdf);
    B(0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00);
    B(0x00, 0xc4, 0x41, 0x7b, 0x28);
    B(0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0xc0, 0xf2, 0xa1, 0xb0);
    B(0x00, 0x01, 0x02, 0x68, 0x00, 0x66, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00);
    B(0x00, 0xf6, 0x15, 0x1b, 0xa7);
    B(0x6b, 0x08, 0x78, 0x0e);
    memset(expect + n, 0, 36);
    n += 36;
    B(0x57, 0xfb, 0x80, 0x8b, 0x24, 0x75, 0x47, 0xdb);
#undef B
#undef S
    CHECK(n == 187);

    make_tmpdir("ckpt");
    float k[] = {1, 2, 3, 4}, b[] = {0.5f, -0.5f};
    int64_t step = 100, d22[] = {2, 2}, d2[] = {2};
    tfc_tensor *t[3] = {tfc_tensor_from_data(TFC_FLOAT, 2, d22, k),
                        tfc_tensor_from_data(TFC_FLOAT, 1, d2, b),
                        tfc_tensor_from_data(TFC_INT64, 0, NULL, &step)};
    const char *names[3] = {"dense/kernel", "dense/bias", "global_step"};
    char prefix[128], path[160];
    snprintf(prefix, sizeof prefix, "%s/model.ckpt-100", tmpdir);
    tfc_status *st = tfc_status_new();
    CHECK(tfc_bundle_write(prefix, names, t, 3, st) == 0);
    CHECK_STATUS_OK(st);
    uint8_t buf[512];
    snprintf(path, sizeof path, "%s.index", prefix);
    size_t got = read_file(path, buf, sizeof buf);
    CHECK_MSG(got == 187, "index is %zu bytes", got);
    for (size_t i = 0; i < 187 && i < got; i++)
        CHECK_MSG(buf[i] == expect[i], "index byte 0x%zx: %02x, expected %02x", i, buf[i],
                  expect[i]);
    /* structure, checked independently: footer magic and the trailer CRC
     * of the block its index handle points at */
    if (got == 187) {
        CHECK(tfc_get_u64le(buf + got - 8) == 0xdb4775248b80fb57ull);
        CHECK(tfc_crc32c_mask(tfc_crc32c(buf, 102 + 1)) == tfc_get_u32le(buf + 103));
        CHECK(tfc_crc32c_mask(tfc_crc32c(buf + 120, 14 + 1)) == tfc_get_u32le(buf + 135));
    }
    snprintf(path, sizeof path, "%s.data-00000-of-00001", prefix);
    CHECK(read_file(path, buf, sizeof buf) == 32);
    CHECK(memcmp(buf, expect_data, 32) == 0);
    CHECK(!exists(tmpdir, "model.ckpt-100.index.tempstate"));

    /* and the reader gets them back */
    tfc_checkpoint_reader *r = tfc_checkpoint_reader_open(prefix, st);
    CHECK_STATUS_OK(st);
    CHECK(tfc_checkpoint_reader_num(r) == 3);
    CHECK(!strcmp(tfc_checkpoint_reader_name(r, 0), "dense/bias"));
    CHECK(!strcmp(tfc_checkpoint_reader_name(r, 2), "global_step"));
    CHECK(tfc_checkpoint_reader_dtype(r, 2) == TFC_INT64);
    CHECK(tfc_checkpoint_reader_shape(r, 2).rank == 0);
    tfc_shape ks = tfc_checkpoint_reader_shape(r, 1);
    CHECK(ks.rank == 2 && ks.dims[0] == 2 && ks.dims[1] == 2);
    tfc_tensor *kt = tfc_checkpoint_reader_get(r, "dense/kernel", st);
    CHECK(kt && tfc_test_max_diff(kt, t[0]) == 0);
    CHECK(tfc_checkpoint_reader_get(r, "nope", st) == NULL);
    CHECK_CONTAINS(tfc_status_message(st), "nope");
    tfc_tensor_free(kt);
    tfc_checkpoint_reader_free(r);
    for (int i = 0; i < 3; i++) tfc_tensor_free(t[i]);
    tfc_status_free(st);
    remove_tmpdir();
}

enum { NV = 6 };
static const tfc_dtype var_dtypes[NV] = {TFC_FLOAT, TFC_DOUBLE, TFC_INT32,
                                         TFC_INT64, TFC_UINT8, TFC_BOOL};
static const int var_ranks[NV] = {2, 1, 3, 0, 1, 2};
static const int64_t var_dims[NV][3] = {{3, 4}, {5}, {2, 2, 2}, {0}, {7}, {1, 3}};
static const char *const var_names[NV] = {"dense/kernel", "dense/bias", "conv/w",
                                          "global_step", "bytes", "mask"};

typedef struct model {
    tfc_graph *g;
    tfc_output vars[NV];
    tfc_tensor *init[NV];
    tfc_node *init_op;
} model;

/* A graph with one variable per dtype, initialized to random constants;
 * `shape_change` gives variable 0 another shape, `dtype_change` makes
 * variable 1 float32, `skip` leaves variable `skip` out (-1: none). */
static void build_model(model *m, unsigned seed, int shape_change, int dtype_change, int skip) {
    tfc_test_seed(seed);
    m->g = tfc_graph_new();
    for (int i = 0; i < NV; i++) {
        m->vars[i].node = NULL;
        m->init[i] = NULL;
        if (i == skip) continue;
        int64_t dims[3] = {var_dims[i][0], var_dims[i][1], var_dims[i][2]};
        if (i == 0 && shape_change) dims[1] = 5;
        tfc_dtype dt = (i == 1 && dtype_change) ? TFC_FLOAT : var_dtypes[i];
        m->init[i] = tfc_test_random_tensor(dt, var_ranks[i], dims, dt == TFC_BOOL ? 0 : -50,
                                            dt == TFC_BOOL ? 2 : 200);
        m->vars[i] = tfc_variable(m->g, var_names[i], tfc_const(m->g, m->init[i]));
    }
    m->init_op = tfc_global_variables_initializer(m->g);
    CHECK_GRAPH_OK(m->g);
}

static void free_model(model *m) {
    for (int i = 0; i < NV; i++) tfc_tensor_free(m->init[i]);
    tfc_graph_free(m->g);
}

/* Every variable of session `s` equals `want` (NULL entries skipped). */
static void check_values(model *m, tfc_session *s, tfc_tensor *const *want) {
    tfc_status *st = tfc_status_new();
    for (int i = 0; i < NV; i++) {
        if (!m->vars[i].node || !want[i]) continue;
        tfc_tensor *v = tfc_session_run1(s, NULL, NULL, 0, m->vars[i], st);
        CHECK_STATUS_OK(st);
        CHECK(v && tfc_tensor_dtype(v) == tfc_tensor_dtype(want[i]));
        CHECK_MSG(v && tfc_test_max_diff(v, want[i]) == 0, "variable %s", var_names[i]);
        tfc_tensor_free(v);
    }
    tfc_status_free(st);
}

static tfc_session *init_session(model *m) {
    tfc_status *st = tfc_status_new();
    tfc_session *s = tfc_session_new(m->g, NULL, st);
    tfc_session_run(s, NULL, NULL, 0, NULL, 0, NULL, &m->init_op, 1, st);
    CHECK_STATUS_OK(st);
    tfc_status_free(st);
    return s;
}

static void test_saver_round_trip(void) {
    make_tmpdir("ckpt");
    model a, b;
    build_model(&a, 1, 0, 0, -1);
    build_model(&b, 2, 0, 0, -1); /* same variables, other values */
    tfc_status *st = tfc_status_new();
    tfc_session *sa = init_session(&a);
    tfc_saver *sva = tfc_saver_new(a.g, NULL, 0, 0);
    char prefix[128];
    snprintf(prefix, sizeof prefix, "%s/model.ckpt", tmpdir);
    const char *written = tfc_saver_save(sva, sa, prefix, 42, st);
    CHECK_STATUS_OK(st);
    CHECK(written && strstr(written, "model.ckpt-42"));
    CHECK(exists(tmpdir, "model.ckpt-42.index"));
    CHECK(exists(tmpdir, "model.ckpt-42.data-00000-of-00001"));
    CHECK(exists(tmpdir, "checkpoint"));

    /* into a fresh session of another graph: no initializer runs */
    tfc_session *sb = tfc_session_new(b.g, NULL, st);
    tfc_saver *svb = tfc_saver_new(b.g, b.vars, NV, 0);
    char *latest = tfc_latest_checkpoint(tmpdir);
    CHECK(latest && !strcmp(latest, written));
    CHECK(tfc_saver_restore(svb, sb, latest, st) == 0);
    CHECK_STATUS_OK(st);
    check_values(&b, sb, a.init);
    /* restoring again over initialized variables works too */
    tfc_session_run(sb, NULL, NULL, 0, NULL, 0, NULL, &b.init_op, 1, st);
    check_values(&b, sb, b.init);
    CHECK(tfc_saver_restore(svb, sb, latest, st) == 0);
    check_values(&b, sb, a.init);

    /* the reader sees names, dtypes and shapes */
    tfc_checkpoint_reader *r = tfc_checkpoint_reader_open(latest, st);
    CHECK(tfc_checkpoint_reader_num(r) == NV);
    for (int i = 0; i < NV; i++) {
        int k = tfc_checkpoint_reader_find(r, var_names[i]);
        CHECK(k >= 0);
        CHECK(tfc_checkpoint_reader_dtype(r, k) == var_dtypes[i]);
        tfc_shape sh = tfc_checkpoint_reader_shape(r, k);
        CHECK(sh.rank == var_ranks[i]);
        for (int d = 0; d < var_ranks[i] && d < sh.rank; d++)
            CHECK(sh.dims[d] == var_dims[i][d]);
    }
    tfc_checkpoint_reader_free(r);
    free(latest);

    /* saving an uninitialized variable names it */
    tfc_session *sc = tfc_session_new(a.g, NULL, st);
    CHECK(tfc_saver_save(sva, sc, prefix, 43, st) == NULL);
    CHECK_CONTAINS(tfc_status_message(st), "uninitialized");
    CHECK_CONTAINS(tfc_status_message(st), "dense/kernel");
    CHECK(!exists(tmpdir, "model.ckpt-43.index"));
    tfc_session_free(sc);

    tfc_saver_free(sva);
    tfc_saver_free(svb);
    tfc_session_free(sa);
    tfc_session_free(sb);
    free_model(&a);
    free_model(&b);
    tfc_status_free(st);
    remove_tmpdir();
}

static void test_saver_not_a_variable(void) {
    tfc_graph *g = tfc_graph_new();
    tfc_output c = tfc_const_float(g, 1);
    tfc_saver *sv = tfc_saver_new(g, &c, 1, 0);
    CHECK(sv == NULL);
    CHECK_CONTAINS(tfc_graph_error(g), "not a variable");
    tfc_graph_free(g);
}

static void test_max_to_keep(void) {
    make_tmpdir("ckpt");
    model a;
    build_model(&a, 3, 0, 0, -1);
    tfc_status *st = tfc_status_new();
    tfc_session *s = init_session(&a);
    tfc_saver *sv = tfc_saver_new(a.g, NULL, 0, 2);
    char prefix[128], name[64];
    snprintf(prefix, sizeof prefix, "%s/model.ckpt", tmpdir);
    for (int step = 1; step <= 4; step++) CHECK(tfc_saver_save(sv, s, prefix, step, st));
    for (int step = 1; step <= 4; step++) {
        snprintf(name, sizeof name, "model.ckpt-%d.index", step);
        CHECK_MSG(exists(tmpdir, name) == (step >= 3), "%s", name);
        snprintf(name, sizeof name, "model.ckpt-%d.data-00000-of-00001", step);
        CHECK_MSG(exists(tmpdir, name) == (step >= 3), "%s", name);
    }
    char path[160];
    uint8_t buf[1024] = {0};
    snprintf(path, sizeof path, "%s/checkpoint", tmpdir);
    read_file(path, buf, sizeof buf - 1);
    CHECK(!strcmp((char *)buf, "model_checkpoint_path: \"model.ckpt-4\"\n"
                               "all_model_checkpoint_paths: \"model.ckpt-3\"\n"
                               "all_model_checkpoint_paths: \"model.ckpt-4\"\n"));
    char *latest = tfc_latest_checkpoint(tmpdir);
    snprintf(path, sizeof path, "%s/model.ckpt-4", tmpdir);
    CHECK(latest && !strcmp(latest, path));
    free(latest);
    /* a new saver (a resumed run) goes on pruning the old files */
    tfc_saver *sv2 = tfc_saver_new(a.g, NULL, 0, 2);
    CHECK(tfc_saver_save(sv2, s, prefix, 5, st));
    CHECK(!exists(tmpdir, "model.ckpt-3.index"));
    CHECK(exists(tmpdir, "model.ckpt-4.index") && exists(tmpdir, "model.ckpt-5.index"));
    /* without a step */
    CHECK(tfc_saver_save(sv2, s, prefix, -1, st));
    CHECK(exists(tmpdir, "model.ckpt.index"));
    CHECK(!tfc_latest_checkpoint("/nonexistent/dir"));
    tfc_saver_free(sv);
    tfc_saver_free(sv2);
    tfc_session_free(s);
    free_model(&a);
    tfc_status_free(st);
    remove_tmpdir();
}

/* Saves model seed 4 at `prefix`; a second model (seed 5) gets initialized
 * and restore must fail, leaving its values untouched. */
static void expect_restore_fails(const char *prefix, model *b, const char *what1,
                                 const char *what2) {
    tfc_status *st = tfc_status_new();
    tfc_session *s = init_session(b);
    tfc_saver *sv = tfc_saver_new(b->g, NULL, 0, 0);
    CHECK(tfc_saver_restore(sv, s, prefix, st) == -1);
    CHECK(tfc_status_code(st) != TFC_OK);
    CHECK_CONTAINS(tfc_status_message(st), what1);
    if (what2) CHECK_CONTAINS(tfc_status_message(st), what2);
    check_values(b, s, b->init);
    tfc_saver_free(sv);
    tfc_session_free(s);
    tfc_status_free(st);
}

static void test_corrupt_checkpoints(void) {
    make_tmpdir("ckpt");
    model a, b;
    build_model(&a, 4, 0, 0, -1);
    build_model(&b, 5, 0, 0, -1);
    tfc_status *st = tfc_status_new();
    tfc_session *s = init_session(&a);
    tfc_saver *sv = tfc_saver_new(a.g, NULL, 0, 0);
    char prefix[128], ipath[160], dpath[160];
    snprintf(prefix, sizeof prefix, "%s/m", tmpdir);
    CHECK(tfc_saver_save(sv, s, prefix, -1, st));
    snprintf(ipath, sizeof ipath, "%s.index", prefix);
    snprintf(dpath, sizeof dpath, "%s.data-00000-of-00001", prefix);
    static uint8_t idx[4096], dat[4096];
    size_t ni = read_file(ipath, idx, sizeof idx), nd = read_file(dpath, dat, sizeof dat);
    CHECK(ni > 48 && nd > 0);

    /* data: the last variable in the data file is "mask" (bool, 3 bytes) */
    dat[nd - 1] ^= 1;
    write_file(dpath, dat, nd);
    expect_restore_fails(prefix, &b, "checksum", "mask");
    dat[nd - 1] ^= 1;
    write_file(dpath, dat, nd - 2);
    expect_restore_fails(prefix, &b, "truncated", "mask");
    write_file(dpath, dat, nd);

    /* index: a byte inside the data block, then a cut footer */
    idx[20] ^= 0x40;
    write_file(ipath, idx, ni);
    expect_restore_fails(prefix, &b, "checksum mismatch", "m.index");
    idx[20] ^= 0x40;
    write_file(ipath, idx, ni - 5);
    expect_restore_fails(prefix, &b, "m.index", "magic");
    write_file(ipath, idx, 10);
    expect_restore_fails(prefix, &b, "m.index", "truncated");
    write_file(ipath, idx, ni);
    remove(dpath);
    expect_restore_fails(prefix, &b, "data-00000-of-00001", "cannot open");
    write_file(dpath, dat, nd);
    snprintf(ipath, sizeof ipath, "%s/other", tmpdir);
    expect_restore_fails(ipath, &b, "other.index", "cannot open");

    /* and the intact checkpoint still restores */
    tfc_session *s2 = tfc_session_new(b.g, NULL, st);
    tfc_saver *sv2 = tfc_saver_new(b.g, NULL, 0, 0);
    CHECK(tfc_saver_restore(sv2, s2, prefix, st) == 0);
    check_values(&b, s2, a.init);
    tfc_saver_free(sv2);
    tfc_session_free(s2);
    tfc_saver_free(sv);
    tfc_session_free(s);
    free_model(&a);
    free_model(&b);
    tfc_status_free(st);
    remove_tmpdir();
}

static void test_mismatched_checkpoints(void) {
    make_tmpdir("ckpt");
    model a;
    build_model(&a, 6, 0, 0, 2); /* no conv/w */
    tfc_status *st = tfc_status_new();
    tfc_session *s = init_session(&a);
    tfc_saver *sv = tfc_saver_new(a.g, NULL, 0, 0);
    char prefix[128];
    snprintf(prefix, sizeof prefix, "%s/m", tmpdir);
    CHECK(tfc_saver_save(sv, s, prefix, 7, st));
    snprintf(prefix, sizeof prefix, "%s/m-7", tmpdir);

    model b;
    build_model(&b, 7, 0, 0, -1); /* wants conv/w */
    expect_restore_fails(prefix, &b, "conv/w", "not found");
    free_model(&b);
    build_model(&b, 8, 1, 0, 2); /* dense/kernel [3,5] */
    expect_restore_fails(prefix, &b, "dense/kernel", "[3,5]");
    free_model(&b);
    build_model(&b, 9, 0, 1, 2); /* dense/bias float32 */
    expect_restore_fails(prefix, &b, "dense/bias", "float");
    free_model(&b);
    /* a subset saver restores only its variables */
    build_model(&b, 10, 0, 0, 2);
    tfc_session *sb = init_session(&b);
    tfc_saver *sub = tfc_saver_new(b.g, &b.vars[3], 1, 0);
    CHECK(tfc_saver_restore(sub, sb, prefix, st) == 0);
    tfc_tensor *want[NV] = {b.init[0], b.init[1], NULL, a.init[3], b.init[4], b.init[5]};
    check_values(&b, sb, want);
    tfc_saver_free(sub);
    tfc_session_free(sb);
    free_model(&b);

    tfc_saver_free(sv);
    tfc_session_free(s);
    free_model(&a);
    tfc_status_free(st);
    remove_tmpdir();
}

/* A second "process": import <ckpt>.meta into an empty graph, restore, and
 * keep training with the train op from its collection; the result equals
 * continuing in the original graph. */
static void test_meta_graph_resume(void) {
    make_tmpdir("ckpt");
    tfc_status *st = tfc_status_new();
    tfc_graph *g = tfc_graph_new();
    int64_t d = 4;
    tfc_test_seed(31);
    tfc_tensor *w0 = tfc_test_random_tensor(TFC_FLOAT, 1, &d, -1, 1);
    tfc_tensor *delta = tfc_test_random_tensor(TFC_FLOAT, 1, &d, -1, 1);
    tfc_output w = tfc_variable(g, "model/w", tfc_const(g, w0));
    tfc_output step = tfc_variable_ex(g, "global_step", tfc_const_int64(g, 0), 0);
    tfc_node *ups[2] = {tfc_assign_add(g, w, tfc_const(g, delta)).node,
                        tfc_assign_add(g, step, tfc_const_int64(g, 1)).node};
    tfc_node *train = tfc_group(g, ups, 2);
    tfc_graph_add_to_collection(g, TFC_TRAIN_OP, train);
    tfc_node *init = tfc_global_variables_initializer(g);
    CHECK_GRAPH_OK(g);
    tfc_session *s = tfc_session_new(g, NULL, st);
    tfc_session_run(s, NULL, NULL, 0, NULL, 0, NULL, &init, 1, st);
    for (int i = 0; i < 2; i++) tfc_session_run(s, NULL, NULL, 0, NULL, 0, NULL, &train, 1, st);
    tfc_saver *sv = tfc_saver_new(g, NULL, 0, 3);
    char prefix[128], meta[160];
    snprintf(prefix, sizeof prefix, "%s/model.ckpt", tmpdir);
    const char *path = tfc_saver_save(sv, s, prefix, 2, st);
    CHECK_STATUS_OK(st);
    snprintf(meta, sizeof meta, "%s.meta", path ? path : "");
    tfc_session_run(s, NULL, NULL, 0, NULL, 0, NULL, &train, 1, st);
    tfc_tensor *want = tfc_session_run1(s, NULL, NULL, 0, w, st);

    tfc_graph *h = tfc_graph_new();
    CHECK(tfc_import_meta_graph(h, meta, st) == 0);
    CHECK_STATUS_OK(st);
    CHECK(tfc_graph_collection_size(h, TFC_GLOBAL_VARIABLES) == 2);
    CHECK(tfc_graph_collection_size(h, TFC_TRAINABLE_VARIABLES) == 1);
    CHECK(tfc_graph_collection_size(h, TFC_TRAIN_OP) == 1);
    tfc_saver *sv2 = tfc_saver_new(h, NULL, 0, 0);
    CHECK(sv2 && tfc_saver_max_to_keep(sv2) == 5);
    tfc_session *s2 = tfc_session_new(h, NULL, st);
    char *latest = tfc_latest_checkpoint(tmpdir);
    CHECK(latest && tfc_saver_restore(sv2, s2, latest, st) == 0);
    tfc_node *train2 = tfc_graph_collection_get(h, TFC_TRAIN_OP, 0);
    CHECK(train2 != NULL);
    tfc_session_run(s2, NULL, NULL, 0, NULL, 0, NULL, &train2, 1, st);
    CHECK_STATUS_OK(st);
    tfc_tensor *got =
        tfc_session_run1(s2, NULL, NULL, 0, tfc_out(tfc_graph_node_by_name(h, "model/w"), 0), st);
    tfc_tensor *gs = tfc_session_run1(
        s2, NULL, NULL, 0, tfc_out(tfc_graph_node_by_name(h, "global_step"), 0), st);
    CHECK(got && want && tfc_test_max_diff(got, want) == 0);
    CHECK(gs && tfc_test_get(gs, 0) == 3);
    /* the export function writes the same kind of file */
    snprintf(meta, sizeof meta, "%s/exported.meta", tmpdir);
    CHECK(tfc_export_meta_graph(g, sv, meta, st) == 0);
    tfc_graph *k = tfc_graph_new();
    CHECK(tfc_import_meta_graph(k, meta, st) == 0);
    CHECK(tfc_graph_collection_size(k, TFC_TRAIN_OP) == 1);
    tfc_graph_free(k);
    /* not a MetaGraph */
    k = tfc_graph_new();
    snprintf(meta, sizeof meta, "%s.index", path ? path : "");
    CHECK(tfc_import_meta_graph(k, meta, st) == -1);
    CHECK_CONTAINS(tfc_status_message(st), ".index");
    tfc_graph_free(k);

    free(latest);
    tfc_tensor_free(got);
    tfc_tensor_free(gs);
    tfc_tensor_free(want);
    tfc_tensor_free(w0);
    tfc_tensor_free(delta);
    tfc_saver_free(sv);
    tfc_saver_free(sv2);
    tfc_session_free(s);
    tfc_session_free(s2);
    tfc_graph_free(g);
    tfc_graph_free(h);
    tfc_status_free(st);
    remove_tmpdir();
}

/* Saver({"key": var}): a variable saved under another key loads into a
 * graph whose variable has a different name. */
static void test_saver_name_map(void) {
    make_tmpdir("ckpt");
    tfc_status *st = tfc_status_new();
    model a;
    build_model(&a, 12, 0, 0, -1);
    tfc_session *s = init_session(&a);
    const char *keys[] = {"renamed/kernel"};
    tfc_saver *sv = tfc_saver_new_named(a.g, keys, &a.vars[0], 1, 0);
    char prefix[128];
    snprintf(prefix, sizeof prefix, "%s/named", tmpdir);
    CHECK(tfc_saver_save(sv, s, prefix, -1, st));
    tfc_checkpoint_reader *r = tfc_checkpoint_reader_open(prefix, st);
    CHECK(tfc_checkpoint_reader_num(r) == 1 &&
          !strcmp(tfc_checkpoint_reader_name(r, 0), "renamed/kernel"));
    tfc_checkpoint_reader_free(r);

    tfc_graph *h = tfc_graph_new();
    tfc_tensor *z = tfc_tensor_new(TFC_FLOAT, 2, (int64_t[]){3, 4});
    tfc_output other = tfc_variable(h, "other_name", tfc_const(h, z));
    tfc_saver *sv2 = tfc_saver_new_named(h, keys, &other, 1, 0);
    tfc_session *s2 = tfc_session_new(h, NULL, st);
    CHECK(tfc_saver_restore(sv2, s2, prefix, st) == 0);
    tfc_tensor *got = tfc_session_run1(s2, NULL, NULL, 0, other, st);
    CHECK(got && tfc_test_max_diff(got, a.init[0]) == 0);
    /* the default saver looks for "other_name" and says so */
    tfc_saver *sv3 = tfc_saver_new(h, NULL, 0, 0);
    CHECK(tfc_saver_restore(sv3, s2, prefix, st) == -1);
    CHECK_CONTAINS(tfc_status_message(st), "other_name");
    /* duplicate keys are refused */
    const char *dup[] = {"k", "k"};
    tfc_output two[] = {a.vars[0], a.vars[1]};
    CHECK(tfc_saver_new_named(a.g, dup, two, 2, 0) == NULL);
    CHECK_CONTAINS(tfc_graph_error(a.g), "listed twice");
    tfc_tensor_free(got);
    tfc_tensor_free(z);
    tfc_saver_free(sv);
    tfc_saver_free(sv2);
    tfc_saver_free(sv3);
    tfc_session_free(s);
    tfc_session_free(s2);
    tfc_graph_free(h);
    free_model(&a);
    tfc_status_free(st);
    remove_tmpdir();
}

TFC_TEST_MAIN(T(test_bundle_worked_example), T(test_saver_round_trip),
              T(test_saver_not_a_variable), T(test_max_to_keep), T(test_corrupt_checkpoints),
              T(test_mismatched_checkpoints), T(test_meta_graph_resume), T(test_saver_name_map))
