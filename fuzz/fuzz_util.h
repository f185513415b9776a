/* What the file-reading harnesses share: a scratch directory of their own
 * (in /dev/shm when there is one, so writing each input costs no disk I/O),
 * removed when the process exits, and a helper that writes bytes to a file
 * in it. The parsers under test take paths, so each input goes through a
 * real file, as a user's would. */
#ifndef TFC_FUZZ_UTIL_H
#define TFC_FUZZ_UTIL_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char fuzz_dir_path[256];

static inline void fuzz_dir_remove(void) {
    char cmd[300];
    if (!fuzz_dir_path[0]) return;
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", fuzz_dir_path);
    if (system(cmd) != 0) fprintf(stderr, "fuzz: could not remove %s\n", fuzz_dir_path);
}

/* The harness's scratch directory, made on first use. Aborts when it cannot
 * be made: the harness would test nothing. */
static inline const char *fuzz_dir(void) {
    if (fuzz_dir_path[0]) return fuzz_dir_path;
    const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : getenv("TMPDIR");
    snprintf(fuzz_dir_path, sizeof fuzz_dir_path, "%s/tfc-fuzz-XXXXXX", base ? base : "/tmp");
    if (!mkdtemp(fuzz_dir_path)) {
        perror("fuzz: mkdtemp");
        abort();
    }
    atexit(fuzz_dir_remove);
    return fuzz_dir_path;
}

/* Writes "<scratch dir>/<name>" into buf and returns it. */
static inline const char *fuzz_path(char *buf, size_t cap, const char *name) {
    snprintf(buf, cap, "%s/%s", fuzz_dir(), name);
    return buf;
}

/* Writes n bytes to path (replacing it); aborts if it cannot. */
static inline void fuzz_write(const char *path, const uint8_t *data, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f || (n && fwrite(data, 1, n, f) != n) || fclose(f) != 0) {
        perror(path);
        abort();
    }
}

/* A failed call must say why: an error without a message is a finding. */
#define FUZZ_EXPECT_MESSAGE(st)                                                                    \
    do {                                                                                           \
        if (!tfc_status_message(st) || !tfc_status_message(st)[0]) {                               \
            fprintf(stderr, "fuzz: an error with an empty message (%s:%d)\n", __FILE__, __LINE__); \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* Reads every byte of a buffer the library returned, so ASan sees a bad
 * pointer or length here rather than in a user's program. */
static inline unsigned fuzz_touch(const void *p, size_t n) {
    const volatile uint8_t *b = p;
    unsigned sum = 0;
    for (size_t i = 0; i < n; i++) sum += b[i];
    return sum;
}

#endif
