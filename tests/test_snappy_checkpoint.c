/* Checkpoint indexes with snappy-compressed SSTable blocks: real ones that
 * TensorFlow wrote (tests/data/tf_written, see its README.md) open and give
 * the values TensorFlow stored; tfc's writer stores blocks as TensorFlow's
 * table builder does (uncompressed by default; with snappy only where that
 * saves an eighth) and reads its own back; damaged compressed blocks and
 * blocks that lie about their uncompressed length give DATA_LOSS errors
 * naming the file, without allocating what the lie asks for. */
#include "checkpoint_helpers.h"
#include "formats/crc32c.h"
#include "formats/pb.h"
#include "formats/sstable.h"
#include "formats/tensor_bundle.h"

#include <snappy-c.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

/* Where the first data block of a table is (offset, stored size) and its
 * type byte, read by hand from the footer and an uncompressed index block.
 * -1 when the file is not laid out that way. */
static int first_data_block(const uint8_t *b, size_t n, uint64_t *off, uint64_t *size) {
    if (n < TFC_SSTABLE_FOOTER_SIZE) return -1;
    const uint8_t *q = b + n - TFC_SSTABLE_FOOTER_SIZE, *end = q + 40;
    uint64_t moff, msize, ioff, isize, shared, nonshared, vlen;
    if (pb_get_varint(&q, end, &moff) || pb_get_varint(&q, end, &msize) ||
        pb_get_varint(&q, end, &ioff) || pb_get_varint(&q, end, &isize))
        return -1;
    if (ioff + isize + 5 > n || b[ioff + isize] != 0) return -1;
    q = b + ioff;
    end = q + isize;
    if (pb_get_varint(&q, end, &shared) || pb_get_varint(&q, end, &nonshared) ||
        pb_get_varint(&q, end, &vlen) || nonshared > (uint64_t)(end - q))
        return -1;
    q += nonshared;
    if (pb_get_varint(&q, end, off) || pb_get_varint(&q, end, size)) return -1;
    if (*off + *size + 5 > n) return -1;
    return b[*off + *size];
}

static int first_block_type(const char *index_path) {
    size_t n = 0;
    uint8_t *b = slurp(index_path, &n);
    uint64_t off, size;
    int type = b ? first_data_block(b, n, &off, &size) : -1;
    free(b);
    return type;
}

/* A table of one data block (`contents` stored with `type`, its CRC right),
 * an empty metaindex block, an index block and the footer: the stored bytes
 * of a block are whatever a test wants them to be. */
static void assemble_table(tfc_buf *out, const uint8_t *contents, size_t n, uint8_t type) {
    static const uint8_t empty_block[8] = {0, 0, 0, 0, 1, 0, 0, 0};
    uint8_t tmp[4], zero = 0;
    tfc_buf_append(out, contents, n);
    tfc_buf_append(out, &type, 1);
    tfc_put_u32le(tmp, tfc_crc32c_mask(tfc_crc32c(out->p, n + 1)));
    tfc_buf_append(out, tmp, 4);
    size_t meta_off = out->n;
    tfc_buf_append(out, empty_block, 8);
    tfc_buf_append(out, &zero, 1);
    tfc_put_u32le(tmp, tfc_crc32c_mask(tfc_crc32c(out->p + meta_off, 9)));
    tfc_buf_append(out, tmp, 4);
    size_t index_off = out->n;
    tfc_buf handle = {0};
    pb_put_varint(&handle, 0);
    pb_put_varint(&handle, n);
    pb_put_varint(out, 0);          /* shared */
    pb_put_varint(out, 1);          /* key length */
    pb_put_varint(out, handle.n);   /* value length */
    tfc_buf_append(out, "\xff", 1); /* key: after every real key */
    tfc_buf_append(out, handle.p, handle.n);
    tfc_buf_free(&handle);
    static const uint8_t one_restart[8] = {0, 0, 0, 0, 1, 0, 0, 0};
    tfc_buf_append(out, one_restart, 8);
    size_t index_size = out->n - index_off;
    tfc_buf_append(out, &zero, 1);
    tfc_put_u32le(tmp, tfc_crc32c_mask(tfc_crc32c(out->p + index_off, index_size + 1)));
    tfc_buf_append(out, tmp, 4);
    tfc_buf footer = {0};
    pb_put_varint(&footer, meta_off);
    pb_put_varint(&footer, 8);
    pb_put_varint(&footer, index_off);
    pb_put_varint(&footer, index_size);
    uint8_t pad[TFC_SSTABLE_FOOTER_SIZE] = {0};
    memcpy(pad, footer.p, footer.n);
    tfc_put_u64le(pad + 40, TFC_SSTABLE_MAGIC);
    tfc_buf_free(&footer);
    tfc_buf_append(out, pad, sizeof pad);
}

static float read_scalar(tfc_checkpoint_reader *r, const char *name, tfc_status *st) {
    tfc_tensor *t = tfc_checkpoint_reader_get(r, name, st);
    CHECK_MSG(t != NULL, "%s: %s", name, tfc_status_message(st));
    if (!t) return -1e30f;
    CHECK(tfc_tensor_dtype(t) == TFC_FLOAT && tfc_tensor_rank(t) == 0);
    float v = *(const float *)tfc_tensor_data(t);
    tfc_tensor_free(t);
    return v;
}

/* TF 1.14.0 wrote half_plus_two's variables with a snappy data block: a and
 * a2 = 0.5, b = 2, c and c2 = 3 (saved_model_half_plus_two.py). */
static void test_tf1_snappy_index(void) {
    char prefix[512], index[600];
    tf_prefix(prefix, sizeof prefix, "half_plus_two_tf1_14");
    snprintf(index, sizeof index, "%s.index", prefix);
    CHECK_MSG(first_block_type(index) == TFC_SSTABLE_SNAPPY, "%s: data block not snappy", index);
    tfc_status *st = tfc_status_new();
    tfc_checkpoint_reader *r = tfc_checkpoint_reader_open(prefix, st);
    CHECK_MSG(r != NULL, "%s", tfc_status_message(st));
    if (r) {
        static const char *const names[] = {"a", "a2", "b", "c", "c2"};
        static const float values[] = {0.5f, 0.5f, 2.0f, 3.0f, 3.0f};
        CHECK(tfc_checkpoint_reader_num(r) == 5);
        for (int i = 0; i < 5 && i < tfc_checkpoint_reader_num(r); i++) {
            CHECK(!strcmp(tfc_checkpoint_reader_name(r, i), names[i]));
            CHECK(tfc_checkpoint_reader_dtype(r, i) == TFC_FLOAT);
            CHECK(tfc_checkpoint_reader_shape(r, i).rank == 0);
            CHECK(read_scalar(r, names[i], st) == values[i]);
        }
    }
    tfc_checkpoint_reader_free(r);
    tfc_status_free(st);
}

/* TF 2.14.0 (object-based keys and the object graph, a DT_STRING). */
static void test_tf2_snappy_index(void) {
    char prefix[512], index[600];
    tf_prefix(prefix, sizeof prefix, "half_plus_two_tf2_14");
    snprintf(index, sizeof index, "%s.index", prefix);
    CHECK_MSG(first_block_type(index) == TFC_SSTABLE_SNAPPY, "%s: data block not snappy", index);
    tfc_status *st = tfc_status_new();
    tfc_checkpoint_reader *r = tfc_checkpoint_reader_open(prefix, st);
    CHECK_MSG(r != NULL, "%s", tfc_status_message(st));
    if (r) {
        CHECK(tfc_checkpoint_reader_num(r) == 4);
        int g = tfc_checkpoint_reader_find(r, "_CHECKPOINTABLE_OBJECT_GRAPH");
        CHECK(g >= 0 && tfc_checkpoint_reader_raw_dtype(r, g) == 7 /* DT_STRING */);
        CHECK(read_scalar(r, "a/.ATTRIBUTES/VARIABLE_VALUE", st) == 0.5f);
        CHECK(read_scalar(r, "b/.ATTRIBUTES/VARIABLE_VALUE", st) == 2.0f);
        CHECK(read_scalar(r, "c/.ATTRIBUTES/VARIABLE_VALUE", st) == 3.0f);
    }
    tfc_checkpoint_reader_free(r);
    tfc_status_free(st);
}

/* TF 1.0.0-rc1's index is uncompressed: still read as before. */
static void test_tf1_0_uncompressed_index(void) {
    char prefix[512], index[600];
    tf_prefix(prefix, sizeof prefix, "half_plus_three_tf1_0");
    snprintf(index, sizeof index, "%s.index", prefix);
    CHECK(first_block_type(index) == TFC_SSTABLE_UNCOMPRESSED);
    tfc_status *st = tfc_status_new();
    tfc_checkpoint_reader *r = tfc_checkpoint_reader_open(prefix, st);
    CHECK_MSG(r != NULL, "%s", tfc_status_message(st));
    if (r) {
        CHECK(tfc_checkpoint_reader_num(r) == 3);
        CHECK(read_scalar(r, "a", st) == 0.5f);
        CHECK(read_scalar(r, "b", st) == 3.0f);
        CHECK(read_scalar(r, "c", st) == 3.0f);
    }
    tfc_checkpoint_reader_free(r);
    tfc_status_free(st);
}

/* Each TF-written index, decoded and encoded again with snappy asked for,
 * is the same bytes: tfc compresses the same blocks TF did (and keeps TF
 * 1.0's small block raw, as LevelDB's "saves an eighth" rule did there). */
static void test_rewrite_matches_tensorflow(void) {
    static const char *const names[] = {"half_plus_two_tf1_14", "half_plus_two_tf2_14",
                                        "half_plus_three_tf1_0"};
    for (int k = 0; k < 3; k++) {
        char prefix[512], index[600], err[160];
        tf_prefix(prefix, sizeof prefix, names[k]);
        snprintf(index, sizeof index, "%s.index", prefix);
        size_t n = 0;
        uint8_t *file = slurp(index, &n);
        CHECK_MSG(file != NULL, "cannot read %s", index);
        if (!file) continue;
        tfc_sstable_entry *e = NULL;
        int ne = 0;
        CHECK_MSG(tfc_sstable_parse(file, n, &e, &ne, err, sizeof err) == 0, "%s: %s", index, err);
        tfc_buf out = {0};
        CHECK(tfc_sstable_build_compressed(&out, e, ne, TFC_SSTABLE_SNAPPY) == 0);
        CHECK_MSG(out.n == n && !memcmp(out.p, file, n), "%s: %zu bytes written, %zu in TF's",
                  names[k], out.n, n);
        tfc_buf_free(&out);
        tfc_sstable_entries_free(e, ne);
        free(file);
    }
}

/* Many tensors with long shared name parts, so the index compresses. */
enum { NT = 40 };
static void many_tensors(char names[NT][48], tfc_tensor *t[NT]) {
    tfc_test_seed(17);
    for (int i = 0; i < NT; i++) {
        snprintf(names[i], 48, "encoder/layer_%02d/%s/Adam_1", i / 2, i % 2 ? "kernel" : "bias");
        int64_t dims[2] = {1 + i % 3, 2};
        t[i] = tfc_test_random_tensor(i % 4 ? TFC_FLOAT : TFC_INT64, 2, dims, -5, 5);
    }
}

/* tfc writes uncompressed by default, snappy when asked; both read back. */
static void test_write_snappy_round_trip(void) {
    make_tmpdir("snappy");
    char names[NT][48];
    const char *np[NT];
    tfc_tensor *t[NT];
    many_tensors(names, t);
    for (int i = 0; i < NT; i++) np[i] = names[i];
    char plain[128], snappy[128], path[160];
    snprintf(plain, sizeof plain, "%s/plain", tmpdir);
    snprintf(snappy, sizeof snappy, "%s/snappy", tmpdir);
    tfc_status *st = tfc_status_new();
    CHECK(tfc_bundle_write(plain, np, t, NT, st) == 0);
    CHECK(tfc_bundle_write_compressed(snappy, np, t, NT, TFC_SSTABLE_SNAPPY, st) == 0);
    size_t nplain = 0, nsnappy = 0;
    snprintf(path, sizeof path, "%s.index", plain);
    free(slurp(path, &nplain));
    CHECK(first_block_type(path) == TFC_SSTABLE_UNCOMPRESSED);
    snprintf(path, sizeof path, "%s.index", snappy);
    free(slurp(path, &nsnappy));
    CHECK(first_block_type(path) == TFC_SSTABLE_SNAPPY);
    CHECK_MSG(nsnappy < nplain - nplain / 8, "%zu vs %zu bytes", nsnappy, nplain);
    tfc_checkpoint_reader *r = tfc_checkpoint_reader_open(snappy, st);
    CHECK_MSG(r != NULL, "%s", tfc_status_message(st));
    if (r) {
        CHECK(tfc_checkpoint_reader_num(r) == NT);
        for (int i = 0; i < NT; i++) {
            tfc_tensor *back = tfc_checkpoint_reader_get(r, names[i], st);
            CHECK_MSG(back != NULL, "%s: %s", names[i], tfc_status_message(st));
            if (!back) continue;
            CHECK(tfc_tensor_dtype(back) == tfc_tensor_dtype(t[i]));
            CHECK(tfc_tensor_nbytes(back) == tfc_tensor_nbytes(t[i]) &&
                  !memcmp(tfc_tensor_data(back), tfc_tensor_data(t[i]), tfc_tensor_nbytes(t[i])));
            tfc_tensor_free(back);
        }
    }
    tfc_checkpoint_reader_free(r);
    for (int i = 0; i < NT; i++) tfc_tensor_free(t[i]);
    tfc_status_free(st);
    remove_tmpdir();
}

/* A block snappy shrinks by less than an eighth is stored raw (type 0)
 * even when snappy is asked for; it reads back. */
static void test_snappy_keeps_incompressible_blocks_raw(void) {
    uint8_t vals[4][64];
    tfc_sstable_entry e[4];
    static char keys[4][2] = {"a", "b", "c", "d"};
    tfc_test_seed(3);
    for (int i = 0; i < 4; i++) {
        for (int j = 0; j < 64; j++) vals[i][j] = (uint8_t)tfc_test_uniform(0, 256);
        e[i] = (tfc_sstable_entry){keys[i], 1, vals[i], 64};
    }
    tfc_buf out = {0};
    CHECK(tfc_sstable_build_compressed(&out, e, 4, TFC_SSTABLE_SNAPPY) == 0);
    uint64_t off, size;
    CHECK(first_data_block(out.p, out.n, &off, &size) == TFC_SSTABLE_UNCOMPRESSED);
    tfc_buf plain = {0};
    CHECK(tfc_sstable_build(&plain, e, 4) == 0);
    CHECK(plain.n == out.n && !memcmp(plain.p, out.p, out.n));
    tfc_sstable_entry *back = NULL;
    int nb = 0;
    char err[160];
    CHECK(tfc_sstable_parse(out.p, out.n, &back, &nb, err, sizeof err) == 0 && nb == 4);
    for (int i = 0; i < nb; i++) CHECK(back[i].vlen == 64 && !memcmp(back[i].value, vals[i], 64));
    tfc_sstable_entries_free(back, nb);
    tfc_buf_free(&out);
    tfc_buf_free(&plain);
}

/* Opens `prefix` and expects DATA_LOSS naming its index and saying `why`. */
static void expect_data_loss(const char *prefix, const char *why) {
    char index[200];
    snprintf(index, sizeof index, "%s.index", prefix);
    tfc_status *st = tfc_status_new();
    tfc_checkpoint_reader *r = tfc_checkpoint_reader_open(prefix, st);
    CHECK(r == NULL);
    CHECK_MSG(tfc_status_code(st) == TFC_DATA_LOSS, "code %d: %s", (int)tfc_status_code(st),
              tfc_status_message(st));
    CHECK_CONTAINS(tfc_status_message(st), index);
    CHECK_CONTAINS(tfc_status_message(st), why);
    tfc_checkpoint_reader_free(r);
    tfc_status_free(st);
}

/* TF 1.14's snappy data block, uncompressed; its data file is copied to
 * <tmpdir>/<name>.data-00000-of-00001. NULL when missing. */
static uint8_t *tf1_block(size_t *n, const char *name) {
    char prefix[512], path[600], to[200];
    tf_prefix(prefix, sizeof prefix, "half_plus_two_tf1_14");
    snprintf(path, sizeof path, "%s.data-00000-of-00001", prefix);
    snprintf(to, sizeof to, "%s/%s.data-00000-of-00001", tmpdir, name);
    copy_file(path, to);
    snprintf(path, sizeof path, "%s.index", prefix);
    size_t nf = 0;
    uint8_t *file = slurp(path, &nf), *raw = NULL;
    uint64_t off, size;
    if (file && first_data_block(file, nf, &off, &size) == TFC_SSTABLE_SNAPPY &&
        snappy_uncompressed_length((const char *)file + off, size, n) == SNAPPY_OK &&
        (raw = malloc(*n)) &&
        snappy_uncompress((const char *)file + off, size, (char *)raw, n) != SNAPPY_OK) {
        free(raw);
        raw = NULL;
    }
    free(file);
    CHECK(raw != NULL);
    return raw;
}

/* A flipped byte in a compressed block fails its CRC; a damaged snappy
 * stream under a right CRC fails to uncompress: both DATA_LOSS. */
static void test_corrupt_compressed_block(void) {
    make_tmpdir("snappy");
    char prefix[512], from[600], to[200];
    tf_prefix(prefix, sizeof prefix, "half_plus_two_tf1_14");
    snprintf(from, sizeof from, "%s.index", prefix);
    snprintf(to, sizeof to, "%s/flipped.index", tmpdir);
    size_t n = 0;
    uint8_t *file = slurp(from, &n);
    CHECK(file != NULL && n > 20);
    if (file) {
        file[10] ^= 0x20; /* inside the compressed data block */
        spit(to, file, n);
        snprintf(to, sizeof to, "%s/flipped", tmpdir);
        expect_data_loss(to, "checksum mismatch");
    }
    free(file);

    size_t nraw = 0;
    uint8_t *raw = tf1_block(&nraw, "broken");
    if (raw) {
        size_t nc = snappy_max_compressed_length(nraw);
        uint8_t *c = malloc(nc);
        CHECK(snappy_compress((const char *)raw, nraw, (char *)c, &nc) == SNAPPY_OK);
        /* the control: the same stream, undamaged, reads */
        tfc_buf good = {0};
        assemble_table(&good, c, nc, TFC_SSTABLE_SNAPPY);
        snprintf(to, sizeof to, "%s/good.index", tmpdir);
        spit(to, good.p, good.n);
        snprintf(to, sizeof to, "%s/good.data-00000-of-00001", tmpdir);
        snprintf(from, sizeof from, "%s/broken.data-00000-of-00001", tmpdir);
        copy_file(from, to);
        snprintf(to, sizeof to, "%s/good", tmpdir);
        tfc_status *st = tfc_status_new();
        tfc_checkpoint_reader *r = tfc_checkpoint_reader_open(to, st);
        CHECK_MSG(r != NULL, "%s", tfc_status_message(st));
        if (r) CHECK(read_scalar(r, "b", st) == 2.0f);
        tfc_checkpoint_reader_free(r);
        tfc_status_free(st);
        tfc_buf_free(&good);
        /* a copy element first, reaching back before the start of the
         * output: copy 4 bytes from 65535 back */
        const uint8_t *body = c;
        uint64_t len;
        CHECK(pb_get_varint(&body, c + nc, &len) == 0);
        static const uint8_t copy_back[3] = {0x02 | (3 << 2), 0xff, 0xff};
        tfc_buf stream = {0}, bad = {0};
        tfc_buf_append(&stream, c, (size_t)(body - c));
        tfc_buf_append(&stream, copy_back, 3);
        tfc_buf_append(&stream, body, nc - (size_t)(body - c));
        assemble_table(&bad, stream.p, stream.n, TFC_SSTABLE_SNAPPY);
        tfc_buf_free(&stream);
        snprintf(to, sizeof to, "%s/broken.index", tmpdir);
        spit(to, bad.p, bad.n);
        snprintf(to, sizeof to, "%s/broken", tmpdir);
        expect_data_loss(to, "corrupt snappy block");
        tfc_buf_free(&bad);
        free(c);
    }
    free(raw);
    remove_tmpdir();
}

/* A snappy block whose header claims `claim` uncompressed bytes, followed
 * by the real stream of a small block, written as checkpoint <tmpdir>/name. */
static void write_lying_block(const char *name, uint64_t claim) {
    size_t nraw = 0;
    uint8_t *raw = tf1_block(&nraw, name);
    if (!raw) return;
    size_t nc = snappy_max_compressed_length(nraw);
    uint8_t *c = malloc(nc);
    CHECK(snappy_compress((const char *)raw, nraw, (char *)c, &nc) == SNAPPY_OK);
    const uint8_t *q = c;
    uint64_t real;
    CHECK(pb_get_varint(&q, c + nc, &real) == 0 && real == nraw);
    tfc_buf stream = {0}, table = {0};
    pb_put_varint(&stream, claim);
    tfc_buf_append(&stream, q, nc - (size_t)(q - c));
    assemble_table(&table, stream.p, stream.n, TFC_SSTABLE_SNAPPY);
    char to[200];
    snprintf(to, sizeof to, "%s/%s.index", tmpdir, name);
    spit(to, table.p, table.n);
    tfc_buf_free(&stream);
    tfc_buf_free(&table);
    free(c);
    free(raw);
}

/* Claims of 4 GiB and of more than the stream holds are refused; the first
 * before anything is allocated for it: a child with its address space
 * limited to 256 MiB more than it uses still gets DATA_LOSS, not "out of
 * memory" (not under AddressSanitizer, whose shadow memory needs more). */
static void test_bogus_uncompressed_length(void) {
    make_tmpdir("snappy");
    char prefix[200];
    write_lying_block("huge", 0xFFFFFFFFu);
    snprintf(prefix, sizeof prefix, "%s/huge", tmpdir);
    expect_data_loss(prefix, "claims 4294967295 uncompressed bytes");

    write_lying_block("long", 400); /* within snappy's 64/3-fold, longer than the stream */
    snprintf(prefix, sizeof prefix, "%s/long", tmpdir);
    expect_data_loss(prefix, "corrupt snappy block");

#if !defined(__SANITIZE_ADDRESS__)
    snprintf(prefix, sizeof prefix, "%s/huge", tmpdir);
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        long pages = 0;
        FILE *f = fopen("/proc/self/statm", "r");
        if (!f || fscanf(f, "%ld", &pages) != 1) _exit(3);
        fclose(f);
        rlim_t cap = (rlim_t)pages * (rlim_t)sysconf(_SC_PAGESIZE) + ((rlim_t)256 << 20);
        struct rlimit lim = {cap, cap};
        if (setrlimit(RLIMIT_AS, &lim)) _exit(3);
        tfc_status *st = tfc_status_new();
        tfc_checkpoint_reader *r = tfc_checkpoint_reader_open(prefix, st);
        int ok =
            !r && tfc_status_code(st) == TFC_DATA_LOSS && strstr(tfc_status_message(st), "claims");
        if (!ok) fprintf(stderr, "limited child: %s\n", tfc_status_message(st));
        _exit(ok ? 0 : 1);
    }
    int wst = 0;
    CHECK(pid > 0 && waitpid(pid, &wst, 0) == pid);
    CHECK_MSG(WIFEXITED(wst) && WEXITSTATUS(wst) == 0, "child status %d", wst);
#endif
    remove_tmpdir();
}

/* Unknown compression types (LevelDB has only 0 and 1) are named. */
static void test_unknown_block_type(void) {
    make_tmpdir("snappy");
    size_t nraw = 0;
    uint8_t *raw = tf1_block(&nraw, "zstd");
    if (raw) {
        tfc_buf table = {0};
        assemble_table(&table, raw, nraw, 2);
        char to[200];
        snprintf(to, sizeof to, "%s/zstd.index", tmpdir);
        spit(to, table.p, table.n);
        snprintf(to, sizeof to, "%s/zstd", tmpdir);
        expect_data_loss(to, "unknown compression type 2");
        tfc_buf_free(&table);
    }
    free(raw);
    remove_tmpdir();
}

TFC_TEST_MAIN(T(test_tf1_snappy_index), T(test_tf2_snappy_index), T(test_tf1_0_uncompressed_index),
              T(test_rewrite_matches_tensorflow), T(test_write_snappy_round_trip),
              T(test_snappy_keeps_incompressible_blocks_raw), T(test_corrupt_compressed_block),
              T(test_bogus_uncompressed_length), T(test_unknown_block_type))
