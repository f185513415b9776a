/* tf.train.Saver: saves a session's variables as a V2 checkpoint, keeps the
 * newest max_to_keep of them, maintains the `checkpoint` state file, and
 * restores all-or-nothing (every tensor is read and checked before any
 * variable is assigned).
 *
 * A save is crash-safe in this order (TF1's Saver.save has the same one for
 * the last three steps): remove the temporaries of writers that died; write
 * the checkpoint's files (each to a temporary, fsynced, renamed); write the
 * new state file the same way; only then delete the checkpoints it no
 * longer lists. A kill at any point leaves a state file that lists only
 * complete checkpoints; at worst a pruned checkpoint's files outlive it. */
#include "core/status.h"
#include "core/tensor.h"
#include "formats/meta_graph.h"
#include "formats/tensor_bundle.h"
#include "graph/graph.h"
#include "ops/resource_variable.h"
#include "runtime/runtime.h"
#include "train/checkpoint_state.h"
#include "train/saver_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { DEFAULT_MAX_TO_KEEP = 5 };

struct tfc_saver {
    tfc_graph *graph;
    int nvars;
    tfc_node **vars;
    char **keys; /* checkpoint key of each variable */
    int max_to_keep;
    int nkept, kept_cap;
    char **kept; /* prefixes saved, oldest first */
    int loaded_state;
    char *last;
};

tfc_saver *tfc_saver_new_named(tfc_graph *g, const char *const *keys, const tfc_output *vars,
                               int n, int max_to_keep) {
    if (!g || g->error) return NULL;
    if (!vars) n = tfc_graph_collection_size(g, TFC_GLOBAL_VARIABLES);
    tfc_saver *sv = calloc(1, sizeof *sv);
    if (!sv || !(sv->vars = calloc((size_t)(n > 0 ? n : 1), sizeof *sv->vars)) ||
        !(sv->keys = calloc((size_t)(n > 0 ? n : 1), sizeof *sv->keys))) {
        tfc_saver_free(sv);
        tfc_graph_fail(g, TFC_INTERNAL, "out of memory making a Saver");
        return NULL;
    }
    sv->graph = g;
    sv->max_to_keep = max_to_keep == 0 ? DEFAULT_MAX_TO_KEEP : max_to_keep;
    for (int i = 0; i < n; i++) {
        tfc_node *v = vars ? vars[i].node : tfc_graph_collection_get(g, TFC_GLOBAL_VARIABLES, i);
        if (!tfc_is_variable_node(v)) { /* VariableV2 or a resource variable's VarHandleOp */
            tfc_graph_fail(g, TFC_INVALID_ARGUMENT, "Saver: entry %d (%s) is not a variable", i,
                           v ? v->name : "null");
            tfc_saver_free(sv);
            return NULL;
        }
        const char *key = keys && vars ? keys[i] : v->name;
        if (!key || !*key) {
            tfc_graph_fail(g, TFC_INVALID_ARGUMENT, "Saver: empty checkpoint key for '%s'",
                           v->name);
            tfc_saver_free(sv);
            return NULL;
        }
        for (int j = 0; j < sv->nvars; j++)
            if (sv->vars[j] == v || !strcmp(sv->keys[j], key)) {
                tfc_graph_fail(g, TFC_INVALID_ARGUMENT,
                               "Saver: variable '%s' or key '%s' listed twice", v->name, key);
                tfc_saver_free(sv);
                return NULL;
            }
        sv->vars[sv->nvars] = v;
        if (!(sv->keys[sv->nvars++] = strdup(key))) {
            tfc_graph_fail(g, TFC_INTERNAL, "out of memory making a Saver");
            tfc_saver_free(sv);
            return NULL;
        }
    }
    return sv;
}

tfc_saver *tfc_saver_new(tfc_graph *g, const tfc_output *vars, int n, int max_to_keep) {
    return tfc_saver_new_named(g, NULL, vars, n, max_to_keep);
}

int tfc_saver_max_to_keep(const tfc_saver *sv) { return sv ? sv->max_to_keep : 0; }

int tfc_saver_num_vars(const tfc_saver *sv) { return sv ? sv->nvars : 0; }
tfc_node *tfc_saver_var(const tfc_saver *sv, int i) {
    return sv && i >= 0 && i < sv->nvars ? sv->vars[i] : NULL;
}
tfc_graph *tfc_saver_graph(const tfc_saver *sv) { return sv ? sv->graph : NULL; }

/* <path>.meta, as TF1's Saver writes next to each checkpoint. */
static int write_meta(tfc_saver *sv, const char *path, tfc_status *st) {
    tfc_buf b = {0};
    tfc_meta_graph_encode(&b, sv->graph, sv->max_to_keep);
    char *meta = malloc(strlen(path) + 6);
    int rc = -1;
    if (meta && !b.oom) {
        strcpy(meta, path);
        strcat(meta, ".meta");
        rc = tfc_ckpt_write_file_atomic(meta, b.p, b.n, st);
    } else {
        tfc_status_set(st, TFC_INTERNAL, "out of memory writing '%s.meta'", path);
    }
    free(meta);
    tfc_buf_free(&b);
    return rc;
}

void tfc_saver_free(tfc_saver *sv) {
    if (!sv) return;
    for (int i = 0; i < sv->nkept; i++) free(sv->kept[i]);
    for (int i = 0; sv->keys && i < sv->nvars; i++) free(sv->keys[i]);
    free(sv->keys);
    free(sv->kept);
    free(sv->vars);
    free(sv->last);
    free(sv);
}

/* ---- paths and the `checkpoint` state file ---- */

static char *dir_of(const char *path) {
    const char *slash = strrchr(path, '/');
    if (!slash) return strdup(".");
    if (slash == path) return strdup("/");
    return strndup(path, (size_t)(slash - path));
}

static const char *base_of(const char *path) {
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

static char *join(const char *dir, const char *name) {
    if (name[0] == '/') return strdup(name);
    size_t a = strlen(dir), b = strlen(name);
    char *s = malloc(a + b + 2);
    if (s) snprintf(s, a + b + 2, "%s/%s", dir, name);
    return s;
}

/* Deletes a checkpoint's files, index first: without its index a prefix
 * no longer counts as a checkpoint (tfc_latest_checkpoint, TF's readers). */
static void delete_checkpoint(const char *prefix) {
    static const char *const suffixes[] = {".index", ".data-00000-of-00001", ".meta"};
    for (int i = 0; i < 3; i++) {
        char *p = malloc(strlen(prefix) + strlen(suffixes[i]) + 1);
        if (!p) continue;
        strcpy(p, prefix);
        strcat(p, suffixes[i]);
        remove(p);
        free(p);
    }
}

/* On the first save, adopts the list in the directory's state file, so a
 * resumed run goes on counting (and pruning) its predecessor's checkpoints,
 * as TF's Saver does with recover_last_checkpoints. */
static void adopt_state(tfc_saver *sv, const char *dir) {
    if (sv->loaded_state) return;
    sv->loaded_state = 1;
    char *latest, **all;
    int nall;
    tfc_ckpt_state_read(dir, &latest, &all, &nall);
    free(latest);
    for (int i = 0; i < nall; i++) {
        char *full = join(dir, all[i]);
        free(all[i]);
        if (!full) continue;
        if (sv->nkept == sv->kept_cap) {
            int cap = sv->kept_cap ? 2 * sv->kept_cap : 8;
            char **k = realloc(sv->kept, sizeof *k * (size_t)cap);
            if (!k) {
                free(full);
                continue;
            }
            sv->kept = k;
            sv->kept_cap = cap;
        }
        sv->kept[sv->nkept++] = full;
    }
    free(all);
}

/* Records `prefix` as the newest checkpoint: the state file is rewritten to
 * list it after the newest max_to_keep-1 earlier ones (an earlier entry of
 * the same name moves to the end), and only once that file is in place are
 * the checkpoints that fell off the list deleted. Deleting first would
 * leave, if killed in between, a state file naming deleted checkpoints. On
 * error nothing changes. */
static int record_checkpoint(tfc_saver *sv, const char *dir, const char *prefix,
                             tfc_status *st) {
    adopt_state(sv, dir);
    char *copy = strdup(prefix);
    char **next = malloc(sizeof *next * (size_t)(sv->nkept + 1));
    if (!copy || !next) {
        free(copy);
        free(next);
        tfc_status_set(st, TFC_INTERNAL, "out of memory saving '%s'", prefix);
        return -1;
    }
    int n = 0;
    for (int i = 0; i < sv->nkept; i++)
        if (strcmp(base_of(sv->kept[i]), base_of(prefix))) next[n++] = sv->kept[i];
    next[n++] = copy;
    int drop = sv->max_to_keep > 0 && n > sv->max_to_keep ? n - sv->max_to_keep : 0;
    if (tfc_ckpt_state_write(dir, next + drop, n - drop, st)) {
        free(copy);
        free(next);
        return -1;
    }
    /* the new state durable before any file it stopped naming goes */
    tfc_ckpt_sync_dir(dir);
    for (int i = 0; i < drop; i++) delete_checkpoint(next[i]);
    for (int i = 0; i < sv->nkept; i++) {
        int kept = 0;
        for (int j = drop; j < n && !kept; j++) kept = next[j] == sv->kept[i];
        if (!kept) free(sv->kept[i]);
    }
    free(sv->kept);
    memmove(next, next + drop, sizeof *next * (size_t)(n - drop));
    sv->kept_cap = sv->nkept + 1;
    sv->kept = next;
    sv->nkept = n - drop;
    return 0;
}

/* ---- save ---- */

const char *tfc_saver_save(tfc_saver *sv, tfc_session *s, const char *prefix,
                           int64_t global_step, tfc_status *st) {
    if (!sv || !s || !prefix || !*prefix) {
        tfc_status_set(st, TFC_INVALID_ARGUMENT, "tfc_saver_save: null saver, session or prefix");
        return NULL;
    }
    char *path;
    if (global_step >= 0) {
        size_t len = strlen(prefix) + 24;
        path = malloc(len);
        if (path) snprintf(path, len, "%s-%lld", prefix, (long long)global_step);
    } else {
        path = strdup(prefix);
    }
    tfc_tensor **vals = calloc((size_t)sv->nvars + 1, sizeof *vals);
    const char **names = calloc((size_t)sv->nvars + 1, sizeof *names);
    char *dir = path ? dir_of(path) : NULL;
    const char *result = NULL;
    if (!path || !vals || !names || !dir) {
        tfc_status_set(st, TFC_INTERNAL, "out of memory saving a checkpoint");
        goto done;
    }
    /* A writer killed mid-save leaves temporaries nobody else removes. */
    tfc_ckpt_remove_stale_temporaries(dir);
    /* Snapshot every value under its lock, so the checkpoint is consistent
     * per variable even while other threads train. */
    pthread_mutex_lock(&s->lock);
    for (int i = 0; i < sv->nvars; i++) {
        tfc_node_state *ns = tfc_variable_cell(s, sv->vars[i]);
        names[i] = sv->keys[i];
        if (!ns) break;
        pthread_mutex_lock(&ns->lock);
        vals[i] = ns->value ? tfc_tensor_copy(ns->value) : NULL;
        pthread_mutex_unlock(&ns->lock);
        if (!vals[i]) break;
    }
    pthread_mutex_unlock(&s->lock);
    for (int i = 0; i < sv->nvars; i++)
        if (!vals[i]) {
            tfc_status_set(st, TFC_FAILED_PRECONDITION,
                           "cannot save '%s': variable '%s' is uninitialized", path,
                           sv->vars[i]->name);
            goto done;
        }
    if (tfc_bundle_write(path, names, vals, sv->nvars, st) || write_meta(sv, path, st)) goto done;
    /* the checkpoint's files durable before the state file names them */
    tfc_ckpt_sync_dir(dir);
    if (record_checkpoint(sv, dir, path, st)) goto done;
    free(sv->last);
    sv->last = path;
    path = NULL;
    result = sv->last;
    tfc_status_set(st, TFC_OK, "%s", "");
done:
    if (vals)
        for (int i = 0; i < sv->nvars; i++) tfc_tensor_free(vals[i]);
    free(vals);
    free(names);
    free(path);
    free(dir);
    return result;
}

/* ---- restore ---- */

int tfc_saver_restore(tfc_saver *sv, tfc_session *s, const char *prefix, tfc_status *st) {
    if (!sv || !s || !prefix) {
        tfc_status_set(st, TFC_INVALID_ARGUMENT,
                       "tfc_saver_restore: null saver, session or prefix");
        return -1;
    }
    tfc_checkpoint_reader *r = tfc_checkpoint_reader_open(prefix, st);
    if (!r) return -1;
    int rc = -1;
    tfc_tensor **vals = calloc((size_t)sv->nvars + 1, sizeof *vals);
    if (!vals) {
        tfc_status_set(st, TFC_INTERNAL, "out of memory restoring '%s'", prefix);
        goto done;
    }
    for (int i = 0; i < sv->nvars; i++) {
        tfc_node *v = sv->vars[i];
        const char *key = sv->keys[i];
        int k = tfc_checkpoint_reader_find(r, key);
        if (k < 0) {
            tfc_status_set(st, TFC_NOT_FOUND,
                           "variable '%s' (key '%s') not found in checkpoint '%s.index'", v->name,
                           key, prefix);
            goto done;
        }
        tfc_dtype want = tfc_variable_node_dtype(v);
        int have = tfc_checkpoint_reader_raw_dtype(r, k);
        if (have != (int)want) {
            tfc_status_set(st, TFC_INVALID_ARGUMENT,
                           "variable '%s' is %s but checkpoint '%s.index' holds dtype %s (%d)",
                           v->name, tfc_dtype_name(want), prefix,
                           tfc_dtype_name((tfc_dtype)have), have);
            goto done;
        }
        tfc_shape ws = tfc_variable_node_shape(v), hs = tfc_checkpoint_reader_shape(r, k);
        if (hs.rank < 0 || !tfc_shape_compatible(&ws, &hs)) {
            char a[96], b[96];
            tfc_status_set(st, TFC_INVALID_ARGUMENT,
                           "variable '%s' has shape %s but checkpoint '%s.index' holds shape %s",
                           v->name, tfc_shape_str(&ws, a, sizeof a), prefix,
                           tfc_shape_str(&hs, b, sizeof b));
            goto done;
        }
        if (!(vals[i] = tfc_checkpoint_reader_get(r, key, st))) goto done;
    }
    /* Everything checked: now assign. */
    pthread_mutex_lock(&s->lock);
    tfc_node_state **states = calloc((size_t)sv->nvars + 1, sizeof *states);
    int ok = states != NULL;
    for (int i = 0; ok && i < sv->nvars; i++)
        ok = (states[i] = tfc_variable_cell(s, sv->vars[i])) != NULL;
    if (ok) {
        for (int i = 0; i < sv->nvars; i++) {
            tfc_node_state *ns = states[i];
            pthread_mutex_lock(&ns->lock);
            /* a string tensor's elements point into its own storage:
             * it replaces the value rather than being copied into it */
            if (ns->value && tfc_tensor_same_shape(ns->value, vals[i]) &&
                ns->value->dtype == vals[i]->dtype && vals[i]->dtype != TFC_STRING) {
                memcpy(ns->value->data, vals[i]->data, vals[i]->nbytes);
            } else {
                vals[i]->flags |= TFC_TENSOR_VARIABLE;
                tfc_tensor_free(ns->value);
                ns->value = vals[i];
                vals[i] = NULL;
            }
            pthread_mutex_unlock(&ns->lock);
        }
    }
    pthread_mutex_unlock(&s->lock);
    free(states);
    if (!ok) {
        tfc_status_set(st, TFC_INTERNAL, "out of memory restoring '%s'", prefix);
        goto done;
    }
    tfc_status_set(st, TFC_OK, "%s", "");
    rc = 0;
done:
    if (vals)
        for (int i = 0; i < sv->nvars; i++) tfc_tensor_free(vals[i]);
    free(vals);
    tfc_checkpoint_reader_free(r);
    return rc;
}

char *tfc_latest_checkpoint(const char *dir) {
    if (!dir) return NULL;
    char *latest;
    if (tfc_ckpt_state_read(dir, &latest, NULL, NULL)) {
        free(latest);
        return NULL;
    }
    char *full = join(dir, latest);
    free(latest);
    if (!full) return NULL;
    /* Like TF: only a checkpoint whose index exists counts. */
    char *index = malloc(strlen(full) + 7);
    FILE *f = NULL;
    if (index) {
        strcpy(index, full);
        strcat(index, ".index");
        f = fopen(index, "rb");
    }
    free(index);
    if (!f) {
        free(full);
        return NULL;
    }
    fclose(f);
    return full;
}
