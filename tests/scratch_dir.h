/* A scratch directory per test, made empty and removed with its files:
 * what the tests that write files (checkpoints, events, summaries, crash
 * recovery) share. */
#ifndef TFC_TESTS_SCRATCH_DIR_H
#define TFC_TESTS_SCRATCH_DIR_H

#include "harness.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The scratch directory of the test running now (make_tmpdir). */
static char tmpdir[64];

/* A new, empty /tmp/tfc_<tag>_XXXXXX in tmpdir. */
static inline void make_tmpdir(const char *tag) {
    snprintf(tmpdir, sizeof tmpdir, "/tmp/tfc_%s_XXXXXX", tag);
    CHECK(mkdtemp(tmpdir) != NULL);
}

/* tmpdir and the files in it, gone. */
static inline void remove_tmpdir(void) {
    DIR *d = opendir(tmpdir);
    if (!d) return;
    struct dirent *e;
    char p[512];
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
            snprintf(p, sizeof p, "%s/%s", tmpdir, e->d_name);
            remove(p);
        }
    closedir(d);
    rmdir(tmpdir);
}

#endif
