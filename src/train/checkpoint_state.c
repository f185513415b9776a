/* The file-level steps of a crash-safe save. A save killed at any instant
 * must leave (1) a state file that parses and lists only checkpoints whose
 * files exist, and (2) nothing that a later save cannot clean up. The first
 * comes from the order in saver.c (write the new state, then prune) and from
 * replacing files only by rename of a complete, fsynced temporary; the
 * second from naming every temporary after its writer's pid, so a later
 * save can tell the files of a dead writer from those of a live one. */
#include "train/checkpoint_state.h"
#include "core/status.h"
#include "formats/pb.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char *join(const char *dir, const char *name) {
    if (name[0] == '/') return strdup(name);
    size_t a = strlen(dir), b = strlen(name);
    char *s = malloc(a + b + 2);
    if (s) snprintf(s, a + b + 2, "%s/%s", dir, name);
    return s;
}

static const char *base_of(const char *path) {
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

/* ---- reading the state file ---- */

/* Parses a text-format string value after the field name; NULL if bad. */
static char *parse_quoted(const char *p) {
    while (*p == ' ' || *p == '\t') p++;
    if (*p != '"' && *p != '\'') return NULL;
    char q = *p++;
    char *out = malloc(strlen(p) + 1);
    if (!out) return NULL;
    size_t n = 0;
    for (; *p && *p != q; p++) {
        if (*p == '\\' && p[1]) {
            p++;
            if (*p >= '0' && *p <= '7') {
                int v = 0;
                for (int k = 0; k < 3 && *p >= '0' && *p <= '7'; k++, p++) v = v * 8 + (*p - '0');
                p--;
                out[n++] = (char)v;
            } else {
                out[n++] = *p == 'n' ? '\n' : *p == 't' ? '\t' : *p;
            }
        } else {
            out[n++] = *p;
        }
    }
    if (*p != q) {
        free(out);
        return NULL;
    }
    out[n] = 0;
    return out;
}

int tfc_ckpt_state_read(const char *dir, char **latest, char ***all, int *nall) {
    char *path = join(dir, "checkpoint");
    FILE *f = path ? fopen(path, "r") : NULL;
    free(path);
    *latest = NULL;
    if (all) *all = NULL;
    if (nall) *nall = 0;
    if (!f) return -1;
    char line[4096];
    int cap = 0;
    while (fgets(line, sizeof line, f)) {
        char *colon = strchr(line, ':');
        if (!colon) continue;
        *colon = 0;
        char *key = line;
        while (*key == ' ') key++;
        char *val = parse_quoted(colon + 1);
        if (!val) continue;
        if (!strcmp(key, "model_checkpoint_path")) {
            free(*latest);
            *latest = val;
        } else if (!strcmp(key, "all_model_checkpoint_paths") && all) {
            if (*nall == cap) {
                cap = cap ? 2 * cap : 8;
                char **a = realloc(*all, sizeof *a * (size_t)cap);
                if (!a) {
                    free(val);
                    continue;
                }
                *all = a;
            }
            (*all)[(*nall)++] = val;
        } else {
            free(val);
        }
    }
    fclose(f);
    return *latest ? 0 : -1;
}

/* ---- writing files atomically ---- */

static void put_quoted(tfc_buf *b, const char *s) {
    tfc_buf_append(b, "\"", 1);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        char esc[8];
        if (c == '"' || c == '\\') {
            snprintf(esc, sizeof esc, "\\%c", c);
            tfc_buf_append(b, esc, 2);
        } else if (c < 0x20 || c >= 0x7F) {
            snprintf(esc, sizeof esc, "\\%03o", c);
            tfc_buf_append(b, esc, 4);
        } else {
            tfc_buf_append(b, s, 1);
        }
    }
    tfc_buf_append(b, "\"\n", 2);
}

int tfc_ckpt_state_write(const char *dir, char *const *paths, int n, tfc_status *st) {
    static const char latest_key[] = "model_checkpoint_path: ";
    static const char all_key[] = "all_model_checkpoint_paths: ";
    tfc_buf b = {0};
    /* Paths relative to the directory, which TF resolves against it. */
    tfc_buf_append(&b, latest_key, sizeof latest_key - 1);
    put_quoted(&b, base_of(paths[n - 1]));
    for (int i = 0; i < n; i++) {
        tfc_buf_append(&b, all_key, sizeof all_key - 1);
        put_quoted(&b, base_of(paths[i]));
    }
    char *path = join(dir, "checkpoint");
    int rc = -1;
    if (b.oom || !path)
        tfc_status_set(st, TFC_INTERNAL, "out of memory writing the checkpoint state in '%s'", dir);
    else
        rc = tfc_ckpt_write_file_atomic(path, b.p, b.n, st);
    free(path);
    tfc_buf_free(&b);
    return rc;
}

int tfc_ckpt_write_file_atomic(const char *path, const void *p, size_t n, tfc_status *st) {
    /* pid: who wrote it (see the sweep below); seq: two threads of one
     * process writing the same file never share a temporary. */
    static atomic_uint seq;
    size_t len = strlen(path) + 48;
    char *tmp = malloc(len);
    if (!tmp) {
        tfc_status_set(st, TFC_INTERNAL, "out of memory writing '%s'", path);
        return -1;
    }
    snprintf(tmp, len, "%s.tempstate%ld-%u", path, (long)getpid(), atomic_fetch_add(&seq, 1u));
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0666);
    int bad = fd < 0;
    const char *cp = p;
    for (size_t left = n; !bad && left > 0;) {
        ssize_t w = write(fd, cp, left);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
            bad = 1;
            break;
        }
        cp += w;
        left -= (size_t)w;
    }
    /* The bytes reach the disk before the name does: after a power loss the
     * rename never points at an empty or partial file. */
    if (!bad && fsync(fd) != 0 && errno != EINVAL) bad = 1;
    int saved = errno;
    if (fd >= 0 && close(fd) != 0 && !bad) {
        bad = 1;
        saved = errno;
    }
    if (!bad && rename(tmp, path) != 0) {
        bad = 1;
        saved = errno;
    }
    if (bad) {
        tfc_status_set(st, TFC_DATA_LOSS, "cannot write '%s': %s", path, strerror(saved));
        remove(tmp);
    }
    free(tmp);
    return bad ? -1 : 0;
}

int tfc_ckpt_sync_dir(const char *dir) {
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (fd < 0) return -1;
    /* Some file systems cannot fsync a directory (EINVAL): nothing to do. */
    int rc = fsync(fd) != 0 && errno != EINVAL ? -1 : 0;
    close(fd);
    return rc;
}

/* ---- sweeping the temporaries of dead writers ---- */

static int ends_with(const char *s, size_t n, const char *suffix) {
    size_t k = strlen(suffix);
    return n >= k && !memcmp(s + n - k, suffix, k);
}

static const char *skip_digits(const char *p, int *count) {
    *count = 0;
    while (*p >= '0' && *p <= '9') p++, ++*count;
    return p;
}

/* The first n bytes of s end with ".data-<digits>-of-<digits>". */
static int ends_with_data_shard(const char *s, size_t n) {
    const char *dot = NULL;
    for (size_t i = 0; i < n; i++)
        if (s[i] == '.') dot = s + i;
    int d1, d2;
    if (!dot || strncmp(dot, ".data-", 6)) return 0;
    const char *p = skip_digits(dot + 6, &d1);
    if (!d1 || strncmp(p, "-of-", 4)) return 0;
    p = skip_digits(p + 4, &d2);
    return d2 && p == s + n;
}

/* The last occurrence of `marker` in s, or NULL. */
static const char *last_of(const char *s, const char *marker) {
    const char *hit = NULL;
    for (const char *p = strstr(s, marker); p; p = strstr(p + 1, marker)) hit = p;
    return hit;
}

/* The pid in a checkpoint temporary's name, or 0 when `name` is not one. */
static long temp_owner(const char *name) {
    const char *m = last_of(name, ".tempstate");
    size_t mlen = 10;
    int seq_allowed = 1;
    if (m) {
        size_t n = (size_t)(m - name);
        int ours = ends_with(name, n, ".index") || ends_with(name, n, ".meta") ||
                   ends_with_data_shard(name, n) || (n == 10 && !strncmp(name, "checkpoint", 10));
        if (!ours) return 0;
    } else {
        /* what earlier versions wrote the .meta through */
        m = last_of(name, ".meta.tmp");
        if (!m || m == name) return 0;
        m += 5;
        mlen = 4;
        seq_allowed = 0;
    }
    int nd;
    const char *p = skip_digits(m + mlen, &nd);
    if (nd == 0 || nd > 9) return 0;
    long pid = strtol(m + mlen, NULL, 10);
    if (*p == '-' && seq_allowed) {
        p = skip_digits(p + 1, &nd);
        if (nd == 0) return 0;
    }
    return *p == 0 && pid > 0 ? pid : 0;
}

int tfc_ckpt_remove_stale_temporaries(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return 0;
    int removed = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        long pid = temp_owner(e->d_name);
        if (pid <= 0 || pid == (long)getpid()) continue;
        /* Alive (or not ours to signal: EPERM) means someone may still
         * rename it into place. */
        if (kill((pid_t)pid, 0) == 0 || errno != ESRCH) continue;
        struct stat sb;
        if (fstatat(dirfd(d), e->d_name, &sb, AT_SYMLINK_NOFOLLOW) || !S_ISREG(sb.st_mode))
            continue;
        if (unlinkat(dirfd(d), e->d_name, 0) == 0) removed++;
    }
    closedir(d);
    return removed;
}
