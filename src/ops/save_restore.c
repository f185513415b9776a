/* The Saver's ops as TensorFlow's graphs hold them: SaveV2 and RestoreV2
 * (a V2 checkpoint, formats/tensor_bundle.c), ShardedFilename and
 * MergeV2Checkpoints (the sharded Saver of SavedModels: each shard writes
 * "<prefix>_temp/part-00000-of-00001", then the shards are merged into the
 * prefix). So tfc runs the save/restore subgraph of a MetaGraph, the one
 * TensorFlow wrote or the one tfc's export adds (formats/meta_graph_saver.c).
 * Slices (shape_and_slices other than "") are not supported and are
 * refused naming the tensor. All are stateful: they touch files. */
#include "core/tensor.h"
#include "data/attr_lists.h"
#include "formats/tensor_bundle.h"
#include "graph/op_registry.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FILE_OP (TFC_OP_STRINGS | TFC_OP_NO_GRADIENT | TFC_OP_STATEFUL)
enum { MAX_TENSORS = 1 << 16 };

/* Input i is a string tensor of rank `rank` (-1: any) when known. */
static int string_input(tfc_infer_ctx *c, int i, int rank, const char *what) {
    if (tfc_infer_input_dtype(c, i) != TFC_STRING)
        return tfc_infer_error(c, "%s (input %d) must be a string tensor, got %s", what, i,
                               tfc_dtype_name(tfc_infer_input_dtype(c, i)));
    tfc_shape s = tfc_infer_input_shape(c, i);
    if (rank >= 0 && s.rank >= 0 && s.rank != rank)
        return tfc_infer_error(c, "%s (input %d) must have rank %d, got %d", what, i, rank,
                               s.rank);
    return 0;
}

/* A NUL-terminated copy of element i of string tensor t (NULL: no memory or
 * a NUL inside). */
static char *c_string(const tfc_tensor *t, int64_t i) {
    tfc_string s = tfc_string_at(t, i);
    if (memchr(s.data, 0, s.len)) return NULL;
    char *p = malloc(s.len + 1);
    if (!p) return NULL;
    memcpy(p, s.data, s.len);
    p[s.len] = 0;
    return p;
}

/* Copies of the n names of string tensor t; NULL on error (reported). */
static char **names_of(tfc_kernel_ctx *c, const tfc_tensor *t, int64_t n) {
    char **names = calloc((size_t)n + 1, sizeof *names);
    for (int64_t i = 0; names && i < n; i++)
        if (!(names[i] = c_string(t, i))) {
            tfc_kernel_error(c, TFC_INVALID_ARGUMENT,
                             "tensor name %lld holds a NUL byte (or memory ran out)",
                             (long long)i);
            for (int64_t k = 0; k < i; k++) free(names[k]);
            free(names);
            return NULL;
        }
    if (!names) tfc_kernel_error(c, TFC_RESOURCE_EXHAUSTED, "out of memory");
    return names;
}

static void free_names(char **names, int64_t n) {
    for (int64_t i = 0; names && i < n; i++) free(names[i]);
    free(names);
}

/* tensor_names and shape_and_slices: vectors of n, and every slice "". */
static int check_names(tfc_kernel_ctx *c, int64_t n) {
    const tfc_tensor *names = c->inputs[1], *slices = c->inputs[2];
    if (names->nelem != n || slices->nelem != n) {
        tfc_kernel_error(c, TFC_INVALID_ARGUMENT,
                         "tensor_names has %lld entries and shape_and_slices %lld, expected %lld",
                         (long long)names->nelem, (long long)slices->nelem, (long long)n);
        return -1;
    }
    for (int64_t i = 0; i < n; i++)
        if (tfc_string_at(slices, i).len) {
            tfc_string s = tfc_string_at(names, i);
            tfc_kernel_error(c, TFC_UNIMPLEMENTED,
                             "tensor '%.*s' is asked for as a slice, which tfc does not support",
                             (int)s.len, s.data);
            return -1;
        }
    return 0;
}

static int prefix_names_slices_infer(tfc_infer_ctx *c) {
    if (string_input(c, 0, 0, "prefix") || string_input(c, 1, 1, "tensor_names") ||
        string_input(c, 2, 1, "shape_and_slices"))
        return -1;
    return 0;
}

/* ---- SaveV2(prefix, tensor_names, shape_and_slices, tensors...) ---- */

static int save_v2_infer(tfc_infer_ctx *c) {
    if (c->ninputs < 3) return tfc_infer_error(c, "needs prefix, tensor_names, shape_and_slices");
    if (prefix_names_slices_infer(c)) return -1;
    tfc_dtype dt[64];
    int n = tfc_attr_type_list(c->attrs, "dtypes", dt, 64);
    if (n > 0 && n != c->ninputs - 3)
        return tfc_infer_error(c, "attr 'dtypes' lists %d dtypes for %d tensors", n,
                               c->ninputs - 3);
    for (int i = 0; n > 0 && i < n; i++)
        if (dt[i] != tfc_infer_input_dtype(c, 3 + i))
            return tfc_infer_error(c, "tensor %d is %s, attr 'dtypes' says %s", i,
                                   tfc_dtype_name(tfc_infer_input_dtype(c, 3 + i)),
                                   tfc_dtype_name(dt[i]));
    return 0;
}

static void save_v2_kernel(tfc_kernel_ctx *c) {
    int64_t n = c->ninputs - 3;
    char *prefix = c_string(c->inputs[0], 0);
    char **names = prefix && !check_names(c, n) ? names_of(c, c->inputs[1], n) : NULL;
    if (!prefix) tfc_kernel_error(c, TFC_INVALID_ARGUMENT, "bad prefix");
    if (names) {
        tfc_status *st = tfc_status_new();
        if (tfc_bundle_write(prefix, (const char *const *)names, c->inputs + 3, (int)n, st))
            tfc_kernel_error(c, tfc_status_code(st), "%s", tfc_status_message(st));
        tfc_status_free(st);
    }
    free_names(names, n);
    free(prefix);
}

/* ---- RestoreV2(prefix, tensor_names, shape_and_slices) -> tensors ---- */

static int restore_v2_infer(tfc_infer_ctx *c) {
    if (prefix_names_slices_infer(c)) return -1;
    tfc_dtype dt[64];
    int n = tfc_attr_type_list(c->attrs, "dtypes", dt, 64);
    if (n <= 0)
        return tfc_infer_error(c, "attr 'dtypes' must list the dtypes of the tensors (at most "
                               "64, each one tfc has)");
    if (tfc_infer_set_num_outputs(c, n)) return -1;
    for (int i = 0; i < n; i++) tfc_infer_set_output(c, i, dt[i], tfc_shape_unknown());
    return 0;
}

static void restore_v2_kernel(tfc_kernel_ctx *c) {
    int64_t n = c->noutputs;
    char *prefix = c_string(c->inputs[0], 0);
    char **names = prefix && !check_names(c, n) ? names_of(c, c->inputs[1], n) : NULL;
    if (!prefix) tfc_kernel_error(c, TFC_INVALID_ARGUMENT, "bad prefix");
    tfc_status *st = tfc_status_new();
    tfc_checkpoint_reader *r = names ? tfc_checkpoint_reader_open(prefix, st) : NULL;
    if (names && !r) tfc_kernel_error(c, tfc_status_code(st), "%s", tfc_status_message(st));
    for (int64_t i = 0; r && i < n; i++) {
        tfc_tensor *t = tfc_checkpoint_reader_get(r, names[i], st);
        if (!t) {
            tfc_kernel_error(c, tfc_status_code(st), "%s", tfc_status_message(st));
            break;
        }
        if (t->dtype != c->node->out_dtypes[i]) {
            tfc_kernel_error(c, TFC_INVALID_ARGUMENT,
                             "tensor '%s' of checkpoint '%s' is %s, the op expects %s", names[i],
                             prefix, tfc_dtype_name(t->dtype),
                             tfc_dtype_name(c->node->out_dtypes[i]));
            tfc_tensor_free(t);
            break;
        }
        tfc_kernel_set_output(c, (int)i, t);
    }
    tfc_checkpoint_reader_free(r);
    tfc_status_free(st);
    free_names(names, n);
    free(prefix);
}

/* ---- ShardedFilename(basename, shard, num_shards) ---- */

static int sharded_filename_infer(tfc_infer_ctx *c) {
    if (string_input(c, 0, 0, "basename")) return -1;
    for (int i = 1; i < 3; i++)
        if (tfc_infer_input_dtype(c, i) != TFC_INT32)
            return tfc_infer_error(c, "%s must be int32", i == 1 ? "shard" : "num_shards");
    tfc_infer_set_output(c, 0, TFC_STRING, tfc_shape_scalar());
    return 0;
}

static void sharded_filename_kernel(tfc_kernel_ctx *c) {
    tfc_string base = tfc_string_at(c->inputs[0], 0);
    int32_t shard = *(const int32_t *)c->inputs[1]->data;
    int32_t num = *(const int32_t *)c->inputs[2]->data;
    tfc_tensor *out = tfc_kernel_output(c, 0, TFC_STRING, 0, NULL);
    if (!out) return;
    /* TensorFlow's format: "%s-%05d-of-%05d" */
    char tail[48];
    int k = snprintf(tail, sizeof tail, "-%05d-of-%05d", (int)shard, (int)num);
    char *p = malloc(base.len + (size_t)k + 1);
    if (p) {
        memcpy(p, base.data, base.len);
        memcpy(p + base.len, tail, (size_t)k);
    }
    if (!p || tfc_string_set(out, 0, p, base.len + (size_t)k))
        tfc_kernel_error(c, TFC_RESOURCE_EXHAUSTED, "out of memory");
    free(p);
}

/* ---- MergeV2Checkpoints(checkpoint_prefixes, destination_prefix) ---- */

static int merge_infer(tfc_infer_ctx *c) {
    if (string_input(c, 0, 1, "checkpoint_prefixes") ||
        string_input(c, 1, 0, "destination_prefix"))
        return -1;
    return 0;
}

/* Removes the files of checkpoint `prefix` and, when asked, its directory
 * once empty (TensorFlow's delete_old_dirs). */
static void remove_checkpoint(const char *prefix, int dirs) {
    char path[4096];
    snprintf(path, sizeof path, "%s.index", prefix);
    remove(path);
    snprintf(path, sizeof path, "%s.data-00000-of-00001", prefix);
    remove(path);
    const char *slash = strrchr(prefix, '/');
    if (dirs && slash && slash > prefix) {
        snprintf(path, sizeof path, "%.*s", (int)(slash - prefix), prefix);
        rmdir(path); /* fails, harmlessly, unless empty */
    }
}

static void merge_kernel(tfc_kernel_ctx *c) {
    const tfc_tensor *src = c->inputs[0];
    int64_t nsrc = src->nelem;
    char *dest = c_string(c->inputs[1], 0);
    char **srcs = dest ? names_of(c, src, nsrc) : NULL;
    if (!dest) tfc_kernel_error(c, TFC_INVALID_ARGUMENT, "bad destination_prefix");
    int n = 0, cap = 0, ok = srcs != NULL;
    char **names = NULL;
    tfc_tensor **vals = NULL;
    tfc_status *st = tfc_status_new();
    for (int64_t s = 0; ok && s < nsrc; s++) {
        tfc_checkpoint_reader *r = tfc_checkpoint_reader_open(srcs[s], st);
        if (!r) {
            if (tfc_attrs_int(&c->node->attrs, "allow_missing_files", 0)) continue;
            tfc_kernel_error(c, tfc_status_code(st), "%s", tfc_status_message(st));
            ok = 0;
            break;
        }
        int m = tfc_checkpoint_reader_num(r);
        for (int i = 0; ok && i < m; i++) {
            if (n == cap) {
                cap = cap ? 2 * cap : 16;
                char **nn = realloc(names, sizeof *names * (size_t)cap);
                if (nn) names = nn;
                tfc_tensor **nv = realloc(vals, sizeof *vals * (size_t)cap);
                if (nv) vals = nv;
                if (!nn || !nv || cap > MAX_TENSORS) {
                    tfc_kernel_error(c, TFC_RESOURCE_EXHAUSTED, "out of memory merging");
                    ok = 0;
                    break;
                }
            }
            const char *key = tfc_checkpoint_reader_name(r, i);
            for (int j = 0; j < n && ok; j++)
                if (!strcmp(names[j], key)) {
                    tfc_kernel_error(c, TFC_INVALID_ARGUMENT,
                                     "tensor '%s' is in two of the checkpoints merged", key);
                    ok = 0;
                }
            if (!ok) break;
            names[n] = strdup(key);
            vals[n] = names[n] ? tfc_checkpoint_reader_get(r, key, st) : NULL;
            if (!names[n] || !vals[n]) {
                tfc_kernel_error(c, names[n] ? tfc_status_code(st) : TFC_RESOURCE_EXHAUSTED, "%s",
                                 names[n] ? tfc_status_message(st) : "out of memory");
                free(names[n]);
                ok = 0;
                break;
            }
            n++;
        }
        tfc_checkpoint_reader_free(r);
    }
    if (ok && tfc_bundle_write(dest, (const char *const *)names, vals, n, st)) {
        tfc_kernel_error(c, tfc_status_code(st), "%s", tfc_status_message(st));
        ok = 0;
    }
    int dirs = (int)tfc_attrs_int(&c->node->attrs, "delete_old_dirs", 1);
    for (int64_t s = 0; ok && s < nsrc; s++)
        if (strcmp(srcs[s], dest)) remove_checkpoint(srcs[s], dirs);
    for (int i = 0; i < n; i++) {
        free(names[i]);
        tfc_tensor_free(vals[i]);
    }
    free(names);
    free(vals);
    tfc_status_free(st);
    free_names(srcs, nsrc);
    free(dest);
}

const tfc_op_def tfc_ops_save_restore[] = {
    {"SaveV2", 3, -1, 0, FILE_OP, 0, save_v2_infer, save_v2_kernel, NULL},
    {"RestoreV2", 3, 3, 1, FILE_OP, 0, restore_v2_infer, restore_v2_kernel, NULL},
    {"ShardedFilename", 3, 3, 1, TFC_OP_STRINGS | TFC_OP_NO_GRADIENT, 0, sharded_filename_infer,
     sharded_filename_kernel, NULL},
    {"MergeV2Checkpoints", 2, 2, 0, FILE_OP, 0, merge_infer, merge_kernel, NULL},
    {NULL, 0, 0, 0, 0, 0, NULL, NULL, NULL},
};
