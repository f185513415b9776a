/* File ops on string tensors: ReadFile, WriteFile and MatchingFiles, with
 * TensorFlow's names and messages. They are flagged stateful so that the
 * plan never folds them: a file may change between runs. */
#include "ops/string_internal.h"

#include <errno.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define FILE_OP (TFC_OP_STRINGS | TFC_OP_NO_GRADIENT | TFC_OP_STATEFUL)

/* A NUL-terminated copy of string element s, or NULL (no memory, or NULs
 * inside: no file has such a name). */
static char *c_path(tfc_string s) {
    if (memchr(s.data, 0, s.len)) return NULL;
    char *p = malloc(s.len + 1);
    if (!p) return NULL;
    memcpy(p, s.data, s.len);
    p[s.len] = 0;
    return p;
}

static tfc_code errno_code(int e) {
    switch (e) {
    case ENOENT:
    case ENOTDIR: return TFC_NOT_FOUND;
    case EACCES:
    case EPERM:
    case EROFS: return TFC_PERMISSION_DENIED;
    case EEXIST: return TFC_ALREADY_EXISTS;
    case ENOSPC: return TFC_RESOURCE_EXHAUSTED;
    default: return TFC_UNKNOWN;
    }
}

static int scalar_string_infer(tfc_infer_ctx *c, int i, const char *what) {
    if (str_check_input(c, i, what)) return -1;
    tfc_shape s = tfc_infer_input_shape(c, i);
    if (s.rank > 0) return tfc_infer_error(c, "%s must be a scalar, got rank %d", what, s.rank);
    return 0;
}

/* ---- ReadFile(filename) -> contents ---- */

static int read_file_infer(tfc_infer_ctx *c) {
    if (scalar_string_infer(c, 0, "filename")) return -1;
    tfc_infer_set_output(c, 0, TFC_STRING, tfc_shape_scalar());
    return 0;
}

static void read_file_kernel(tfc_kernel_ctx *c) {
    tfc_string name = tfc_string_at(c->inputs[0], 0);
    char *path = c_path(name);
    if (!path) {
        tfc_kernel_error(c, TFC_INVALID_ARGUMENT, "bad file name '%.*s'", (int)name.len, name.data);
        return;
    }
    FILE *f = fopen(path, "rb");
    struct stat st;
    if (!f || fstat(fileno(f), &st) || S_ISDIR(st.st_mode)) {
        int e = f ? (S_ISDIR(st.st_mode) ? EISDIR : errno) : errno;
        tfc_kernel_error(c, e == EISDIR ? TFC_FAILED_PRECONDITION : errno_code(e), "%s; %s", path,
                         strerror(e));
        if (f) fclose(f);
        free(path);
        return;
    }
    tfc_tensor *out = tfc_kernel_output(c, 0, TFC_STRING, 0, NULL);
    size_t size = (size_t)st.st_size;
    char *dst = out && size ? tfc_string_alloc(out, size) : NULL;
    if (out && size && !dst)
        tfc_kernel_error(c, TFC_RESOURCE_EXHAUSTED, "out of memory reading %s (%zu bytes)", path,
                         size);
    else if (out && size && fread(dst, 1, size, f) != size)
        tfc_kernel_error(c, TFC_DATA_LOSS, "%s: read fewer than its %zu bytes", path, size);
    else if (out)
        *(tfc_string *)out->data = (tfc_string){dst, size};
    fclose(f);
    free(path);
}

/* ---- WriteFile(filename, contents) ---- */

static int write_file_infer(tfc_infer_ctx *c) {
    return scalar_string_infer(c, 0, "filename") || scalar_string_infer(c, 1, "contents") ? -1 : 0;
}

/* mkdir -p of the directory part of path (modified in place, restored). */
static int make_parents(char *path) {
    for (char *p = path + 1; *p; p++) {
        if (*p != '/') continue;
        *p = 0;
        int rc = mkdir(path, 0777);
        int e = errno;
        *p = '/';
        if (rc && e != EEXIST) return -1;
    }
    return 0;
}

static void write_file_kernel(tfc_kernel_ctx *c) {
    tfc_string name = tfc_string_at(c->inputs[0], 0), data = tfc_string_at(c->inputs[1], 0);
    char *path = c_path(name);
    if (!path) {
        tfc_kernel_error(c, TFC_INVALID_ARGUMENT, "bad file name '%.*s'", (int)name.len, name.data);
        return;
    }
    FILE *f = make_parents(path) ? NULL : fopen(path, "wb");
    if (!f) {
        tfc_kernel_error(c, errno_code(errno), "%s; %s", path, strerror(errno));
        free(path);
        return;
    }
    int ok = fwrite(data.data, 1, data.len, f) == data.len;
    ok = fclose(f) == 0 && ok;
    if (!ok) tfc_kernel_error(c, errno_code(errno), "%s; %s", path, strerror(errno));
    free(path);
}

/* ---- MatchingFiles(pattern) -> filenames (sorted) ---- */

static int matching_infer(tfc_infer_ctx *c) {
    if (str_check_input(c, 0, "pattern") || str_check_rank_at_most(c, 0, 1, "pattern")) return -1;
    tfc_infer_set_output(c, 0, TFC_STRING, tfc_shape_vector(-1));
    return 0;
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void matching_kernel(tfc_kernel_ctx *c) {
    const tfc_tensor *pat = c->inputs[0];
    glob_t g;
    memset(&g, 0, sizeof g);
    int flags = 0;
    for (int64_t i = 0; i < pat->nelem; i++) {
        tfc_string s = tfc_string_at(pat, i);
        char *p = c_path(s);
        if (!p) {
            tfc_kernel_error(c, TFC_INVALID_ARGUMENT, "bad pattern '%.*s'", (int)s.len, s.data);
            goto done;
        }
        int rc = glob(p, flags, NULL, &g);
        free(p);
        if (rc == GLOB_NOSPACE) {
            tfc_kernel_error(c, TFC_RESOURCE_EXHAUSTED, "out of memory matching files");
            goto done;
        }
        if (rc == GLOB_ABORTED) {
            tfc_kernel_error(c, TFC_UNKNOWN, "error reading a directory matching '%.*s'",
                             (int)s.len, s.data);
            goto done;
        }
        if (g.gl_pathv) flags = GLOB_APPEND;
    }
    int64_t n = (int64_t)g.gl_pathc;
    if (n > 1) qsort(g.gl_pathv, (size_t)n, sizeof *g.gl_pathv, cmp_str);
    tfc_tensor *out = tfc_kernel_output(c, 0, TFC_STRING, 1, &n);
    for (int64_t i = 0; out && i < n; i++)
        if (tfc_string_set(out, i, g.gl_pathv[i], strlen(g.gl_pathv[i]))) {
            tfc_kernel_error(c, TFC_RESOURCE_EXHAUSTED, "out of memory matching files");
            break;
        }
done:
    globfree(&g);
}

const tfc_op_def tfc_ops_string_io[] = {
    {"ReadFile", 1, 1, 1, FILE_OP, 0, read_file_infer, read_file_kernel, NULL},
    {"WriteFile", 2, 2, 0, FILE_OP, 0, write_file_infer, write_file_kernel, NULL},
    {"MatchingFiles", 1, 1, 1, FILE_OP, 0, matching_infer, matching_kernel, NULL},
    {NULL, 0, 0, 0, 0, 0, NULL, NULL, NULL},
};

/* ---- public helpers ---- */

tfc_output tfc_io_read_file(tfc_graph *g, tfc_output filename) {
    tfc_op_desc *d = tfc_op_new(g, "ReadFile", NULL);
    tfc_op_add_input(d, filename);
    return tfc_out(tfc_op_finish(d), 0);
}

tfc_node *tfc_io_write_file(tfc_graph *g, tfc_output filename, tfc_output contents) {
    tfc_op_desc *d = tfc_op_new(g, "WriteFile", NULL);
    tfc_op_add_input(d, filename);
    tfc_op_add_input(d, contents);
    return tfc_op_finish(d);
}

tfc_output tfc_matching_files(tfc_graph *g, tfc_output pattern) {
    tfc_op_desc *d = tfc_op_new(g, "MatchingFiles", NULL);
    tfc_op_add_input(d, pattern);
    return tfc_out(tfc_op_finish(d), 0);
}
