/* The IDX reader, the in-memory data set and the MNIST loader, on small
 * files written here (plain and gzipped) in a temporary directory: values,
 * shuffling and batching, and every way a file can be missing or corrupt. */
#include "harness.h"
#include "core/tensor.h"
#include "train/dataset_internal.h"

#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

static char tmpdir[64];

static void remove_tmpdir(void) { rmdir(tmpdir); }

static void make_tmpdir(void) {
    if (tmpdir[0]) return;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/tfc_idx_XXXXXX");
    if (!mkdtemp(tmpdir)) {
        fprintf(stderr, "mkdtemp failed\n");
        exit(1);
    }
    atexit(remove_tmpdir);
}

static int mkdir_ok(const char *dir) { return mkdir(dir, 0700) == 0; }

/* Removes a fake MNIST directory and whatever of its four files is left. */
static void rm_mnist_dir(const char *dir) {
    static const char *names[] = {"train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                                  "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"};
    char path[512];
    for (int i = 0; i < 4; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        unlink(path);
        snprintf(path, sizeof path, "%s/%s.gz", dir, names[i]);
        unlink(path);
    }
    rmdir(dir);
}

static const char *tmp_path(const char *name) {
    static char buf[4][256];
    static int k;
    make_tmpdir();
    char *p = buf[k++ % 4];
    snprintf(p, 256, "%s/%s", tmpdir, name);
    return p;
}

/* Encodes an IDX file into a malloc'd buffer: header then `data`. */
static uint8_t *idx_bytes(int type, int rank, const uint32_t *dims, const uint8_t *data,
                          size_t ndata, size_t *len) {
    *len = 4 + 4 * (size_t)rank + ndata;
    uint8_t *b = malloc(*len), *p = b;
    *p++ = 0;
    *p++ = 0;
    *p++ = (uint8_t)type;
    *p++ = (uint8_t)rank;
    for (int i = 0; i < rank; i++) {
        *p++ = (uint8_t)(dims[i] >> 24);
        *p++ = (uint8_t)(dims[i] >> 16);
        *p++ = (uint8_t)(dims[i] >> 8);
        *p++ = (uint8_t)dims[i];
    }
    if (ndata) memcpy(p, data, ndata);
    return b;
}

static void write_file(const char *path, const void *b, size_t len, int gzip) {
    if (gzip) {
        gzFile f = gzopen(path, "wb");
        if (len) gzwrite(f, b, (unsigned)len);
        gzclose(f);
    } else {
        FILE *f = fopen(path, "wb");
        if (len) fwrite(b, 1, len, f);
        fclose(f);
    }
}

static void write_idx(const char *path, int type, int rank, const uint32_t *dims,
                      const uint8_t *data, size_t ndata, int gzip) {
    size_t len;
    uint8_t *b = idx_bytes(type, rank, dims, data, ndata, &len);
    write_file(path, b, len, gzip);
    free(b);
}

static uint8_t *random_bytes(size_t n) {
    uint8_t *b = malloc(n ? n : 1);
    for (size_t i = 0; i < n; i++) b[i] = (uint8_t)tfc_test_uniform(0, 256);
    return b;
}

static void check_roundtrip(int rank, const uint32_t *dims, int gzip) {
    size_t n = 1;
    for (int i = 0; i < rank; i++) n *= dims[i];
    uint8_t *data = random_bytes(n);
    const char *path = tmp_path(gzip ? "rt.idx.gz" : "rt.idx");
    write_idx(path, 0x08, rank, dims, data, n, gzip);
    tfc_status *st = tfc_status_new();
    tfc_tensor *t = tfc_idx_read(path, st);
    CHECK_STATUS_OK(st);
    CHECK(t != NULL);
    if (t) {
        CHECK(tfc_tensor_dtype(t) == TFC_UINT8);
        CHECK(tfc_tensor_rank(t) == rank);
        for (int i = 0; i < rank; i++) CHECK(tfc_tensor_dim(t, i) == (int64_t)dims[i]);
        CHECK(tfc_tensor_num_elements(t) == (int64_t)n);
        CHECK(n == 0 || memcmp(tfc_tensor_data(t), data, n) == 0);
    }
    tfc_tensor_free(t);
    tfc_status_free(st);
    free(data);
    unlink(path);
}

static void test_read_plain_and_gzip(void) {
    uint32_t d1[] = {17}, d2[] = {4, 9}, d3[] = {5, 28, 28}, d4[] = {2, 3, 4, 5};
    uint32_t big[] = {3, 700, 1000}; /* more than one read chunk */
    uint32_t empty[] = {0, 28, 28};
    for (int gz = 0; gz < 2; gz++) {
        check_roundtrip(1, d1, gz);
        check_roundtrip(2, d2, gz);
        check_roundtrip(3, d3, gz);
        check_roundtrip(4, d4, gz);
        check_roundtrip(3, big, gz);
        check_roundtrip(3, empty, gz);
    }
}

/* Reads `path`, expects NULL, `code` and a message naming the file. */
static void expect_error(const char *path, tfc_code code, const char *what) {
    tfc_status *st = tfc_status_new();
    tfc_tensor *t = tfc_idx_read(path, st);
    CHECK(t == NULL);
    CHECK_MSG(tfc_status_code(st) == code, "code %d, want %d: %s", tfc_status_code(st), code,
              tfc_status_message(st));
    CHECK_CONTAINS(tfc_status_message(st), path);
    if (what) CHECK_CONTAINS(tfc_status_message(st), what);
    tfc_tensor_free(t);
    tfc_status_free(st);
}

static void test_missing_file(void) {
    expect_error(tmp_path("no-such-file.gz"), TFC_NOT_FOUND, "No such file");
    make_tmpdir();
    expect_error(tmpdir, TFC_DATA_LOSS, "Is a directory");
    tfc_status *st = tfc_status_new();
    CHECK(tfc_idx_read(NULL, st) == NULL);
    CHECK(tfc_status_code(st) == TFC_INVALID_ARGUMENT);
    tfc_status_free(st);
}

static void test_corrupt_headers(void) {
    uint32_t dims[] = {3, 4};
    uint8_t data[12] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
    for (int gz = 0; gz < 2; gz++) {
        const char *p = tmp_path(gz ? "bad.gz" : "bad");
        write_file(p, "", 0, gz);
        expect_error(p, TFC_DATA_LOSS, "too short");
        write_file(p, "\0\0", 2, gz);
        expect_error(p, TFC_DATA_LOSS, "too short");
        write_file(p, "\x01\x00\x08\x02", 4, gz);
        expect_error(p, TFC_DATA_LOSS, "bad magic");
        write_file(p, "\x00\x00\x42\x02", 4, gz);
        expect_error(p, TFC_DATA_LOSS, "bad magic");
        write_idx(p, 0x0D, 2, dims, data, 12, gz);
        expect_error(p, TFC_UNIMPLEMENTED, "float32");
        write_file(p, "\x00\x00\x08\x09", 4, gz);
        expect_error(p, TFC_UNIMPLEMENTED, "rank 9");
        write_file(p, "\x00\x00\x08\x02\x00\x00\x00\x03\x00\x00", 10, gz);
        expect_error(p, TFC_DATA_LOSS, "truncated IDX header");
        unlink(p);
    }
}

static void test_data_size_mismatch(void) {
    uint32_t dims[] = {3, 4};
    uint8_t data[13] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13};
    /* Dims far beyond the data must fail cleanly, not allocate terabytes. */
    uint32_t huge[] = {0xFFFFFFFFu, 0xFFFFFFFFu, 0xFFFFFFFFu}, big[] = {0x10000, 0x10000};
    for (int gz = 0; gz < 2; gz++) {
        const char *p = tmp_path(gz ? "size.gz" : "size");
        write_idx(p, 0x08, 2, dims, data, 11, gz);
        expect_error(p, TFC_DATA_LOSS, "truncated");
        write_idx(p, 0x08, 2, dims, data, 0, gz);
        expect_error(p, TFC_DATA_LOSS, "truncated");
        write_idx(p, 0x08, 2, dims, data, 13, gz);
        expect_error(p, TFC_DATA_LOSS, "more data");
        write_idx(p, 0x08, 3, huge, data, 13, gz);
        expect_error(p, TFC_DATA_LOSS, NULL);
        write_idx(p, 0x08, 2, big, data, 13, gz);
        expect_error(p, TFC_DATA_LOSS, "truncated");
        unlink(p);
    }
}

/* Damaged compressed streams: cut short, and bytes flipped in the middle. */
static void test_corrupt_gzip(void) {
    uint32_t dims[] = {50, 40};
    uint8_t *data = random_bytes(2000);
    const char *p = tmp_path("gz.gz");
    write_idx(p, 0x08, 2, dims, data, 2000, 1);
    FILE *f = fopen(p, "rb");
    uint8_t buf[8192];
    size_t len = fread(buf, 1, sizeof buf, f);
    fclose(f);
    CHECK(len > 100 && len < sizeof buf);
    if (len <= 100 || len >= sizeof buf) { /* already reported; the rest needs a sane len */
        free(data);
        return;
    }

    const char *q = tmp_path("cut.gz");
    write_file(q, buf, len / 2, 0);
    expect_error(q, TFC_DATA_LOSS, "truncated");
    write_file(q, buf, len - 4, 0); /* the trailer's length field is gone */
    expect_error(q, TFC_DATA_LOSS, NULL);

    uint8_t bad[8192];
    memcpy(bad, buf, len);
    for (size_t i = len / 3; i < len / 3 + 16; i++) bad[i] ^= 0x5A;
    write_file(q, bad, len, 0);
    expect_error(q, TFC_DATA_LOSS, NULL);

    memcpy(bad, buf, len);
    bad[len - 6] ^= 0xFF; /* the CRC of the uncompressed data */
    write_file(q, bad, len, 0);
    expect_error(q, TFC_DATA_LOSS, NULL);
    unlink(p);
    unlink(q);
    free(data);
}

/* A data set whose image row i holds i in every column and label i, so a
 * batch shows which examples it took and that rows and labels agree. */
static tfc_dataset *numbered_dataset(int64_t n, int64_t width, int shuffle, uint64_t seed) {
    int64_t idims[] = {n, width};
    tfc_tensor *x = tfc_tensor_new(TFC_FLOAT, 2, idims);
    tfc_tensor *y = tfc_tensor_new(TFC_INT64, 1, &n);
    float *xp = tfc_tensor_data(x);
    int64_t *yp = tfc_tensor_data(y);
    for (int64_t i = 0; i < n; i++) {
        yp[i] = i;
        for (int64_t j = 0; j < width; j++) xp[i * width + j] = (float)i + 0.001f * (float)j;
    }
    tfc_status *st = tfc_status_new();
    tfc_dataset *d = tfc_dataset_new(x, y, shuffle, seed, st);
    CHECK_STATUS_OK(st);
    tfc_status_free(st);
    tfc_tensor_free(x);
    tfc_tensor_free(y);
    return d;
}

/* Draws `total` examples in batches of `bs`; writes the labels to out. */
static void draw(tfc_dataset *d, int64_t bs, int64_t total, int64_t *out, int64_t width) {
    tfc_status *st = tfc_status_new();
    for (int64_t k = 0; k < total; k += bs) {
        tfc_tensor *x = NULL, *y = NULL;
        CHECK(tfc_dataset_next_batch(d, bs, &x, &y, st) == 0);
        CHECK_STATUS_OK(st);
        if (!x || !y) break;
        CHECK(tfc_tensor_dim(x, 0) == bs && tfc_tensor_dim(x, 1) == width);
        CHECK(tfc_tensor_rank(y) == 1 && tfc_tensor_dim(y, 0) == bs);
        const float *xp = tfc_tensor_data(x);
        const int64_t *yp = tfc_tensor_data(y);
        for (int64_t i = 0; i < bs && k + i < total; i++) {
            out[k + i] = yp[i];
            for (int64_t j = 0; j < width; j++)
                CHECK(xp[i * width + j] == (float)yp[i] + 0.001f * (float)j);
        }
        tfc_tensor_free(x);
        tfc_tensor_free(y);
    }
    tfc_status_free(st);
}

/* Each epoch's slice of the drawn sequence is a permutation of 0..n-1. */
static int epochs_are_permutations(const int64_t *seq, int64_t n, int epochs) {
    int ok = 1;
    char *seen = malloc((size_t)n);
    for (int e = 0; e < epochs; e++) {
        memset(seen, 0, (size_t)n);
        for (int64_t i = 0; i < n; i++) {
            int64_t v = seq[e * n + i];
            if (v < 0 || v >= n || seen[v]) ok = 0;
            else seen[v] = 1;
        }
    }
    free(seen);
    return ok;
}

static void test_dataset_epochs(void) {
    /* Batch sizes that divide n, that don't, 1, and n itself. */
    int64_t sizes[][2] = {{10, 3}, {12, 4}, {7, 1}, {9, 9}, {50, 7}};
    for (int c = 0; c < 5; c++) {
        int64_t n = sizes[c][0], bs = sizes[c][1];
        int epochs = 3;
        int64_t total = n * epochs, drawn = (total + bs - 1) / bs * bs;
        int64_t *seq = malloc(sizeof *seq * (size_t)drawn);
        tfc_dataset *d = numbered_dataset(n, 3, 1, 42 + (uint64_t)c);
        CHECK(tfc_dataset_size(d) == n);
        CHECK(tfc_dataset_epochs_completed(d) == 0);
        draw(d, bs, drawn, seq, 3);
        CHECK(epochs_are_permutations(seq, n, epochs));
        CHECK_MSG(tfc_dataset_epochs_completed(d) == drawn / n, "%lld epochs after %lld",
                  (long long)tfc_dataset_epochs_completed(d), (long long)drawn);
        /* Shuffled: some epoch differs from the identity, and epochs differ. */
        int identity = 1, same = 1;
        for (int64_t i = 0; i < n; i++) {
            if (seq[i] != i) identity = 0;
            if (seq[i] != seq[n + i]) same = 0;
        }
        if (n > 3) CHECK(!identity && !same);
        free(seq);
        tfc_dataset_free(d);
    }
}

/* The data set reuses the tensors of batches the caller has freed, never
 * one the caller still holds (or an alias of it does): a batch kept over
 * 30 later draws keeps its rows, and every later batch holds the rows its
 * labels name. */
static void test_dataset_batches_kept(void) {
    tfc_status *st = tfc_status_new();
    tfc_dataset *d = numbered_dataset(20, 3, 1, 5);
    tfc_tensor *kept_x, *kept_y, *x, *y;
    CHECK(tfc_dataset_next_batch(d, 4, &kept_x, &kept_y, st) == 0);
    float before[12], alias_before[12];
    memcpy(before, tfc_tensor_data(kept_x), sizeof before);
    int64_t dims[] = {12};
    tfc_tensor *alias = NULL;
    for (int b = 0; b < 30; b++) {
        CHECK(tfc_dataset_next_batch(d, b % 3 ? 4 : 5, &x, &y, st) == 0);
        const float *xp = tfc_tensor_data(x);
        const int64_t *yp = tfc_tensor_data(y);
        for (int64_t i = 0; i < tfc_tensor_dim(x, 0); i++)
            CHECK(xp[i * 3 + 2] == (float)yp[i] + 0.002f);
        if (b == 10) { /* held only through a reshape of it */
            alias = tfc_tensor_alias(x, 1, dims);
            memcpy(alias_before, tfc_tensor_data(alias), sizeof alias_before);
        }
        tfc_tensor_free(x);
        tfc_tensor_free(y);
    }
    CHECK(memcmp(before, tfc_tensor_data(kept_x), sizeof before) == 0);
    const int64_t *ky = tfc_tensor_data(kept_y);
    for (int i = 0; i < 4; i++) CHECK(before[i * 3] == (float)ky[i]);
    CHECK(memcmp(alias_before, tfc_tensor_data(alias), sizeof alias_before) == 0);
    tfc_tensor_free(alias);
    tfc_tensor_free(kept_x);
    tfc_tensor_free(kept_y);
    tfc_dataset_free(d);
    tfc_status_free(st);
}

static void test_dataset_reproducible(void) {
    int64_t n = 20, bs = 6, total = 60;
    int64_t a[60], b[60], c[60], r[60];
    tfc_dataset *d1 = numbered_dataset(n, 2, 1, 7), *d2 = numbered_dataset(n, 2, 1, 7);
    tfc_dataset *d3 = numbered_dataset(n, 2, 1, 8);
    draw(d1, bs, total, a, 2);
    draw(d2, bs, total, b, 2);
    draw(d3, bs, total, c, 2);
    CHECK(memcmp(a, b, sizeof a) == 0);
    CHECK(memcmp(a, c, sizeof a) != 0);
    tfc_dataset_reset(d1, 7);
    CHECK(tfc_dataset_epochs_completed(d1) == 0);
    draw(d1, bs, total, r, 2);
    CHECK(memcmp(a, r, sizeof a) == 0);
    tfc_dataset_free(d1);
    tfc_dataset_free(d2);
    tfc_dataset_free(d3);
}

static void test_dataset_unshuffled(void) {
    int64_t seq[30];
    tfc_dataset *d = numbered_dataset(10, 4, 0, 3);
    draw(d, 5, 30, seq, 4);
    for (int i = 0; i < 30; i++) CHECK(seq[i] == i % 10);
    CHECK(tfc_dataset_epochs_completed(d) == 3);
    tfc_dataset_free(d);
}

static void test_dataset_errors(void) {
    tfc_status *st = tfc_status_new();
    tfc_dataset *d = numbered_dataset(5, 2, 1, 1);
    tfc_tensor *x = (tfc_tensor *)1, *y = (tfc_tensor *)1;
    CHECK(tfc_dataset_next_batch(d, 0, &x, &y, st) == -1);
    CHECK(x == NULL && y == NULL);
    CHECK(tfc_status_code(st) == TFC_INVALID_ARGUMENT);
    CHECK_CONTAINS(tfc_status_message(st), "batch size 0");
    CHECK(tfc_dataset_next_batch(d, 6, &x, &y, st) == -1);
    CHECK_CONTAINS(tfc_status_message(st), "batch size 6");
    CHECK(tfc_dataset_next_batch(NULL, 1, &x, &y, st) == -1);
    tfc_dataset_free(d);

    int64_t a[] = {4, 2}, b[] = {5};
    tfc_tensor *ta = tfc_tensor_new(TFC_FLOAT, 2, a), *tb = tfc_tensor_new(TFC_INT32, 1, b);
    CHECK(tfc_dataset_new(ta, tb, 1, 0, st) == NULL);
    CHECK(tfc_status_code(st) == TFC_INVALID_ARGUMENT);
    CHECK_CONTAINS(tfc_status_message(st), "[4,2]");
    CHECK(tfc_dataset_new(ta, NULL, 1, 0, st) == NULL);
    /* a data set of bytes drawn as float takes bytes and a scale */
    tfc_tensor *four = tfc_tensor_new(TFC_INT32, 1, a);
    CHECK(tfc_dataset_new_scaled_bytes(ta, four, 0.5f, 1, 0, st) == NULL);
    CHECK_CONTAINS(tfc_status_message(st), "images of float32 with scale 0.5, expected uint8");
    tfc_tensor *bytes = tfc_tensor_new(TFC_UINT8, 2, a);
    CHECK(tfc_dataset_new_scaled_bytes(bytes, four, 0.0f, 1, 0, st) == NULL);
    CHECK(tfc_status_code(st) == TFC_INVALID_ARGUMENT);
    CHECK(tfc_dataset_new_scaled_bytes(bytes, tb, 0.5f, 1, 0, st) == NULL);
    CHECK_CONTAINS(tfc_status_message(st), "[4,2]");
    tfc_tensor_free(bytes);
    tfc_tensor_free(four);
    tfc_tensor_free(ta);
    tfc_tensor_free(tb);
    tfc_dataset_free(NULL);
    tfc_status_free(st);
}

static void test_one_hot(void) {
    tfc_status *st = tfc_status_new();
    int64_t ns[] = {1, 7, 33};
    tfc_dtype dts[] = {TFC_INT32, TFC_INT64, TFC_UINT8};
    for (int c = 0; c < 3; c++) {
        int depth = 3 + c * 4;
        tfc_tensor *l = tfc_test_random_tensor(dts[c], 1, &ns[c], 0, depth);
        tfc_tensor *h = tfc_dense_to_one_hot(l, depth, st);
        CHECK_STATUS_OK(st);
        if (!h) {
            tfc_tensor_free(l);
            continue;
        }
        CHECK(tfc_tensor_dtype(h) == TFC_FLOAT && tfc_tensor_rank(h) == 2);
        CHECK(tfc_tensor_dim(h, 0) == ns[c] && tfc_tensor_dim(h, 1) == depth);
        const float *hp = tfc_tensor_data(h);
        for (int64_t i = 0; i < ns[c]; i++) {
            int64_t lab = (int64_t)tfc_test_get(l, i);
            for (int j = 0; j < depth; j++) CHECK(hp[i * depth + j] == (j == lab ? 1.0f : 0.0f));
        }
        tfc_tensor_free(h);
        tfc_tensor_free(l);
    }
    int32_t bad[] = {0, 3, 10};
    int64_t n = 3;
    tfc_tensor *l = tfc_tensor_from_data(TFC_INT32, 1, &n, bad);
    CHECK(tfc_dense_to_one_hot(l, 10, st) == NULL);
    CHECK_CONTAINS(tfc_status_message(st), "label 10 at 2");
    tfc_tensor *f = tfc_tensor_new(TFC_FLOAT, 1, &n);
    CHECK(tfc_dense_to_one_hot(f, 10, st) == NULL);
    CHECK_CONTAINS(tfc_status_message(st), "integer");
    tfc_tensor_free(f);
    tfc_tensor_free(l);
    tfc_status_free(st);
}

/* A tiny MNIST-shaped directory: n images of 28x28 and their labels. */
static void write_fake_mnist(const char *dir, const char *prefix, uint32_t n, int gz,
                             uint8_t **images, uint8_t **labels, int bad_label) {
    char path[512];
    uint32_t idims[] = {n, 28, 28};
    *images = random_bytes((size_t)n * 784);
    *labels = random_bytes(n);
    for (uint32_t i = 0; i < n; i++) (*labels)[i] %= 10;
    if (bad_label) (*labels)[n - 1] = 10;
    snprintf(path, sizeof path, "%s/%s-images-idx3-ubyte%s", dir, prefix, gz ? ".gz" : "");
    write_idx(path, 0x08, 3, idims, *images, (size_t)n * 784, gz);
    snprintf(path, sizeof path, "%s/%s-labels-idx1-ubyte%s", dir, prefix, gz ? ".gz" : "");
    write_idx(path, 0x08, 1, &n, *labels, n, gz);
}

static void check_part(tfc_dataset *d, uint32_t n, const uint8_t *img, const uint8_t *lab) {
    CHECK(tfc_dataset_size(d) == n);
    tfc_tensor *x = tfc_dataset_images(d), *y = tfc_dataset_labels(d);
    CHECK(tfc_tensor_dtype(x) == TFC_FLOAT && tfc_tensor_rank(x) == 2);
    CHECK(tfc_tensor_dim(x, 0) == n && tfc_tensor_dim(x, 1) == 784);
    CHECK(tfc_tensor_dtype(y) == TFC_INT32 && tfc_tensor_dim(y, 0) == n);
    const float *xp = tfc_tensor_data(x);
    const int32_t *yp = tfc_tensor_data(y);
    /* input_data's pixels: float32(byte) * float32(1 / 255), bit for bit */
    size_t differ = 0;
    for (size_t i = 0; i < (size_t)n * 784; i++) differ += xp[i] != (float)img[i] * (1.0f / 255.0f);
    CHECK_MSG(differ == 0, "%zu pixels differ", differ);
    for (uint32_t i = 0; i < n; i++) CHECK(yp[i] == lab[i]);
}

/* The loader's data set keeps bytes and scales the rows it draws: its
 * batches equal, bit for bit, those of a data set over its float images
 * with the same seed, across epochs (13 examples, batches of 4). */
static void check_same_batches(tfc_dataset *bytes) {
    tfc_status *st = tfc_status_new();
    tfc_dataset *floats = tfc_dataset_new(tfc_dataset_images(bytes), tfc_dataset_labels(bytes), 1,
                                          7, st);
    CHECK_STATUS_OK(st);
    tfc_dataset_reset(bytes, 7);
    for (int b = 0; b < 10 && floats; b++) {
        tfc_tensor *x[2], *y[2];
        CHECK(tfc_dataset_next_batch(bytes, 4, &x[0], &y[0], st) == 0);
        CHECK(tfc_dataset_next_batch(floats, 4, &x[1], &y[1], st) == 0);
        CHECK(tfc_tensor_dtype(x[0]) == TFC_FLOAT && tfc_tensor_dim(x[0], 1) == 784);
        CHECK(memcmp(tfc_tensor_data(x[0]), tfc_tensor_data(x[1]), 4 * 784 * sizeof(float)) == 0);
        CHECK(memcmp(tfc_tensor_data(y[0]), tfc_tensor_data(y[1]), 4 * sizeof(int32_t)) == 0);
        for (int k = 0; k < 2; k++) {
            tfc_tensor_free(x[k]);
            tfc_tensor_free(y[k]);
        }
    }
    CHECK(tfc_dataset_epochs_completed(bytes) == 3);
    tfc_dataset_free(floats);
    tfc_status_free(st);
}

static void test_mnist_load_fake(void) {
    for (int gz = 0; gz < 2; gz++) {
        char dir[300];
        snprintf(dir, sizeof dir, "%s", tmp_path(gz ? "mnist_gz" : "mnist_plain"));
        CHECK(mkdir_ok(dir));
        uint8_t *ti, *tl, *ei, *el;
        write_fake_mnist(dir, "train", 13, gz, &ti, &tl, 0);
        write_fake_mnist(dir, "t10k", 5, gz, &ei, &el, 0);
        tfc_status *st = tfc_status_new();
        tfc_mnist *m = tfc_mnist_load(dir, st);
        CHECK_STATUS_OK(st);
        CHECK(m != NULL);
        if (m) {
            check_part(m->train, 13, ti, tl);
            check_part(m->test, 5, ei, el);
            /* Batches hold rows and labels that belong together. */
            tfc_tensor *x, *y;
            CHECK(tfc_dataset_next_batch(m->train, 4, &x, &y, st) == 0);
            const float *xp = tfc_tensor_data(x);
            const int32_t *yp = tfc_tensor_data(y);
            for (int i = 0; i < 4; i++) {
                int found = 0;
                for (int k = 0; k < 13 && !found; k++) {
                    found = yp[i] == tl[k];
                    for (int j = 0; j < 784 && found; j++)
                        found = xp[i * 784 + j] == (float)ti[k * 784 + j] * (1.0f / 255.0f);
                }
                CHECK(found);
            }
            tfc_tensor_free(x);
            tfc_tensor_free(y);
            check_same_batches(m->train);
        }
        tfc_mnist_free(m);

        /* $TFC_MNIST_DIR is used when dir is NULL. */
        setenv("TFC_MNIST_DIR", dir, 1);
        m = tfc_mnist_load(NULL, st);
        CHECK_STATUS_OK(st);
        CHECK(m && tfc_dataset_size(m->test) == 5);
        tfc_mnist_free(m);
        unsetenv("TFC_MNIST_DIR");

        /* A label of 10 is corrupt data, named with its file. */
        free(el);
        free(ei);
        write_fake_mnist(dir, "t10k", 5, gz, &ei, &el, 1);
        CHECK(tfc_mnist_load(dir, st) == NULL);
        CHECK(tfc_status_code(st) == TFC_DATA_LOSS);
        CHECK_CONTAINS(tfc_status_message(st), "t10k-labels-idx1-ubyte");
        CHECK_CONTAINS(tfc_status_message(st), "label 10");

        /* Labels that do not match the images in number. */
        char path[512];
        uint32_t three = 3;
        snprintf(path, sizeof path, "%s/t10k-labels-idx1-ubyte%s", dir, gz ? ".gz" : "");
        write_idx(path, 0x08, 1, &three, el, 3, gz);
        CHECK(tfc_mnist_load(dir, st) == NULL);
        CHECK_CONTAINS(tfc_status_message(st), "expected [5]");

        /* A missing file is named, with a hint where the data come from. */
        unlink(path);
        CHECK(tfc_mnist_load(dir, st) == NULL);
        CHECK(tfc_status_code(st) == TFC_NOT_FOUND);
        CHECK_CONTAINS(tfc_status_message(st), "t10k-labels-idx1-ubyte");
        CHECK_CONTAINS(tfc_status_message(st), "dataset-fashion-mnist");

        tfc_status_free(st);
        free(ti);
        free(tl);
        free(ei);
        free(el);
        rm_mnist_dir(dir);
    }
}

TFC_TEST_MAIN(T(test_read_plain_and_gzip), T(test_missing_file), T(test_corrupt_headers),
              T(test_data_size_mismatch), T(test_corrupt_gzip), T(test_dataset_epochs),
              T(test_dataset_batches_kept), T(test_dataset_reproducible),
              T(test_dataset_unshuffled), T(test_dataset_errors), T(test_one_hot),
              T(test_mnist_load_fake))
