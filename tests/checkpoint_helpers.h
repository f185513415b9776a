/* What the checkpoint tests (test_checkpoint.c, test_snappy_checkpoint.c,
 * test_string_checkpoint.c) share: a scratch directory per test, the
 * checkpoints TensorFlow wrote (tests/data/tf_written), and whole files
 * read and written. */
#ifndef TFC_TESTS_CHECKPOINT_HELPERS_H
#define TFC_TESTS_CHECKPOINT_HELPERS_H

#include "harness.h"
#include "scratch_dir.h"

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* tests/data/tf_written/<name>/variables, the prefix of a checkpoint TF
 * wrote ($TFC_TEST_DATA, else found beside this file). */
static inline void tf_prefix(char *out, size_t n, const char *name) {
    const char *data = getenv("TFC_TEST_DATA");
    if (data) {
        snprintf(out, n, "%s/tf_written/%s/variables", data, name);
    } else {
        const char *slash = strrchr(__FILE__, '/');
        int dir = slash ? (int)(slash - __FILE__) : 1;
        snprintf(out, n, "%.*s/data/tf_written/%s/variables", dir, slash ? __FILE__ : ".", name);
    }
}

/* The whole file, malloc'd (NULL if missing); *n its size. */
static inline uint8_t *slurp(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *p = malloc(len > 0 ? (size_t)len : 1);
    *n = p ? fread(p, 1, (size_t)len, f) : 0;
    fclose(f);
    return p;
}

/* path holds exactly p[0..n) (CHECKed). */
static inline void spit(const char *path, const uint8_t *p, size_t n) {
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL);
    if (!f) return;
    CHECK(fwrite(p, 1, n, f) == n);
    fclose(f);
}

/* to = from's bytes; a missing `from` fails the test. */
static inline void copy_file(const char *from, const char *to) {
    size_t n = 0;
    uint8_t *p = slurp(from, &n);
    CHECK_MSG(p != NULL, "cannot read %s", from);
    if (p) spit(to, p, n);
    free(p);
}

#endif
