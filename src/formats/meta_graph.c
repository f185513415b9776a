/* MetaGraph export and import through protos/meta_graph.proto: the graph
 * plus its collections (variables, trainable variables, train op,
 * summaries), enough for a new process to restore a checkpoint and keep
 * training without rebuilding the graph. Collections are written as
 * node_list (node names); on import the variable collections may also come
 * as TF's bytes_list of VariableDef. Every entry must name a node of the
 * graph: that is checked before any node is imported. */
#include "formats/meta_graph.h"
#include "core/status.h"
#include "formats/graphdef.h"
#include "formats/queue_runner_def.h"
#include "graph/graph.h"
#include "meta_graph.pb-c.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static Tensorflow__MetaGraphDef *build(tfc_arena *a, const tfc_graph *g, int max_to_keep) {
    Tensorflow__MetaGraphDef *m = tfc_arena_alloc(a, sizeof *m);
    if (!m) return NULL;
    tensorflow__meta_graph_def__init(m);
    if (!(m->graph_def = tfc_graphdef_build(a, g))) return NULL;
    if (max_to_keep) {
        Tensorflow__SaverDef *sd = tfc_arena_alloc(a, sizeof *sd);
        if (!sd) return NULL;
        tensorflow__saver_def__init(sd);
        sd->max_to_keep = max_to_keep;
        sd->version = TENSORFLOW__SAVER_DEF__CHECKPOINT_FORMAT_VERSION__V2;
        m->saver_def = sd;
    }
    const tfc_strmap *cols = &g->collections;
    m->collection_def = tfc_arena_alloc(a, sizeof *m->collection_def * (cols->len + 1));
    if (!m->collection_def) return NULL;
    for (size_t i = 0; i < cols->cap; i++) {
        /* queue runners go out as TF's QueueRunnerDefs (queue_runner_def.c) */
        if (!cols->keys[i] || tfc_queue_runner_key(cols->keys[i])) continue;
        /* variables go out as VariableDefs (meta_graph_saver.c) */
        if (tfc_meta_graph_variable_key(cols->keys[i])) continue;
        const tfc_collection *c = cols->vals[i];
        Tensorflow__MetaGraphDef__CollectionDefEntry *e = tfc_arena_alloc(a, sizeof *e);
        Tensorflow__CollectionDef *cd = tfc_arena_alloc(a, sizeof *cd);
        Tensorflow__CollectionDef__NodeList *nl = tfc_arena_alloc(a, sizeof *nl);
        char **names = tfc_arena_alloc(a, sizeof *names * (size_t)(c->n + 1));
        if (!e || !cd || !nl || !names) return NULL;
        tensorflow__meta_graph_def__collection_def_entry__init(e);
        tensorflow__collection_def__init(cd);
        tensorflow__collection_def__node_list__init(nl);
        for (int k = 0; k < c->n; k++)
            if (!(names[k] = tfc_meta_graph_entry_name(a, cols->keys[i], c->items[k])))
                return NULL;
        nl->n_value = (size_t)c->n;
        nl->value = names;
        cd->kind_case = TENSORFLOW__COLLECTION_DEF__KIND_NODE_LIST;
        cd->node_list = nl;
        e->key = cols->keys[i];
        e->value = cd;
        m->collection_def[m->n_collection_def++] = e;
    }
    if (tfc_queue_runner_defs_export(a, g, m)) return NULL;
    /* VariableDefs, the Saver's subgraph, meta_info_def (meta_graph_saver.c) */
    if (tfc_meta_graph_add_tf_parts(a, g, m)) return NULL;
    return m;
}

Tensorflow__MetaGraphDef *tfc_meta_graph_build(tfc_arena *a, const tfc_graph *g,
                                               int max_to_keep) {
    return build(a, g, max_to_keep);
}

void tfc_meta_graph_encode(tfc_buf *b, const tfc_graph *g, int max_to_keep) {
    tfc_arena a = {0};
    Tensorflow__MetaGraphDef *m = build(&a, g, max_to_keep);
    if (m) tfc_buf_pack(b, &m->base);
    else b->oom = 1;
    tfc_arena_free(&a);
}

int tfc_write_file_atomic(const char *path, const void *p, size_t n, tfc_status *st) {
    size_t len = strlen(path) + 32;
    char *tmp = malloc(len);
    if (!tmp) {
        tfc_status_set(st, TFC_INTERNAL, "out of memory");
        return -1;
    }
    snprintf(tmp, len, "%s.tmp%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "wb");
    int bad = !f || (n && fwrite(p, 1, n, f) != n);
    if (f) bad |= fclose(f) != 0;
    if (bad || rename(tmp, path)) {
        tfc_status_set(st, TFC_NOT_FOUND, "cannot write '%s': %s", path, strerror(errno));
        remove(tmp);
        free(tmp);
        return -1;
    }
    free(tmp);
    return 0;
}

int tfc_export_meta_graph(const tfc_graph *g, const tfc_saver *sv, const char *path,
                          tfc_status *st) {
    if (!g || !path) {
        tfc_status_set(st, TFC_INVALID_ARGUMENT, "export_meta_graph: NULL graph or path");
        return -1;
    }
    if (tfc_graphdef_check_library(g, st)) return -1;
    tfc_buf b = {0};
    tfc_meta_graph_encode(&b, g, sv ? tfc_saver_max_to_keep(sv) : 0);
    if (b.oom) {
        tfc_buf_free(&b);
        tfc_status_set(st, TFC_INTERNAL, "out of memory serializing the MetaGraph");
        return -1;
    }
    int rc = tfc_write_file_atomic(path, b.p, b.n, st);
    tfc_buf_free(&b);
    return rc;
}

/* The node name of a collection entry: "name", "name:0" or "^name", into
 * buf with "<prefix>/" before it. -1 when too long. */
static int entry_node_name(const char *s, const char *prefix, char *buf, size_t cap) {
    if (s[0] == '^') s++;
    size_t n = strcspn(s, ":");
    int len = snprintf(buf, cap, "%s%s%.*s", prefix && *prefix ? prefix : "",
                       prefix && *prefix ? "/" : "", (int)n, s);
    return len < 0 || (size_t)len >= cap ? -1 : 0;
}

/* Calls fn(user, key, entry) for every node a collection names: the
 * node_list entries, and the variable_name of the VariableDefs TensorFlow
 * writes as bytes for the variable collections (other collections of
 * bytes, TensorFlow's contexts, tfc has no use for). -1 (status set) when
 * an entry names no node of `nodes` or fn fails. */
typedef int (*entry_fn)(void *user, const char *key, const char *entry, tfc_status *st);

static int each_entry(const Tensorflow__MetaGraphDef__CollectionDefEntry *e, entry_fn fn,
                      void *user, tfc_status *st) {
    const Tensorflow__CollectionDef *cd = e->value;
    if (!cd) return 0;
    if (cd->kind_case == TENSORFLOW__COLLECTION_DEF__KIND_NODE_LIST) {
        for (size_t k = 0; k < cd->node_list->n_value; k++)
            if (fn(user, e->key, cd->node_list->value[k], st)) return -1;
        return 0;
    }
    int vars = tfc_meta_graph_variable_key(e->key); /* global, trainable, local, model */
    if (cd->kind_case != TENSORFLOW__COLLECTION_DEF__KIND_BYTES_LIST || !vars) return 0;
    for (size_t k = 0; k < cd->bytes_list->n_value; k++) {
        const ProtobufCBinaryData *b = &cd->bytes_list->value[k];
        Tensorflow__VariableDef *vd = tensorflow__variable_def__unpack(NULL, b->len, b->data);
        if (!vd) {
            tfc_status_set(st, TFC_INVALID_ARGUMENT,
                           "MetaGraph collection '%s': entry %zu is not a VariableDef", e->key,
                           k);
            return -1;
        }
        int rc = fn(user, e->key, vd->variable_name, st);
        tensorflow__variable_def__free_unpacked(vd, NULL);
        if (rc) return -1;
    }
    return 0;
}

/* Before the import: every entry names a node of the GraphDef. */
static int check_entry(void *user, const char *key, const char *entry, tfc_status *st) {
    const tfc_strmap *names = user;
    char name[1024];
    if (entry_node_name(entry, NULL, name, sizeof name) || !tfc_strmap_get(names, name)) {
        tfc_status_set(st, TFC_INVALID_ARGUMENT,
                       "MetaGraph collection '%s' names node '%s', which is not in its graph",
                       key, entry);
        return -1;
    }
    return 0;
}

typedef struct adder {
    tfc_graph *g;
    const char *prefix;
    int pruned; /* the import kept only some nodes: skip entries naming others */
} adder;

static int add_entry(void *user, const char *key, const char *entry, tfc_status *st) {
    const adder *a = user;
    char name[1100];
    tfc_node *n = entry_node_name(entry, a->prefix, name, sizeof name)
                      ? NULL
                      : tfc_graph_node_by_name(a->g, name);
    if (!n && a->pruned) return 0;
    if (!n) { /* checked before the import: only a change of the graph since */
        tfc_status_set(st, TFC_INTERNAL, "MetaGraph collection '%s': node '%s' is gone", key,
                       entry);
        return -1;
    }
    tfc_graph_add_to_collection(a->g, key, n);
    return 0;
}

static int check_collections(const Tensorflow__MetaGraphDef *m, tfc_status *st) {
    tfc_strmap names = {0};
    int rc = 0;
    for (size_t i = 0; i < m->graph_def->n_node && !rc; i++)
        if (tfc_strmap_put(&names, m->graph_def->node[i]->name, (void *)1)) {
            tfc_status_set(st, TFC_INTERNAL, "out of memory importing a MetaGraph");
            rc = -1;
        }
    for (size_t i = 0; i < m->n_collection_def && !rc; i++)
        rc = each_entry(m->collection_def[i], check_entry, &names, st);
    tfc_strmap_free(&names);
    return rc;
}

int tfc_import_meta_graph_v2(tfc_graph *g, const char *path, const tfc_import_options *opts,
                             tfc_status *st) {
    uint8_t *bytes;
    size_t len;
    if (!g || !path) {
        tfc_status_set(st, TFC_INVALID_ARGUMENT, "import_meta_graph: NULL graph or path");
        return -1;
    }
    if (tfc_import_options_check(opts, st)) return -1;
    if (tfc_read_file(path, &bytes, &len, st)) return -1;
    Tensorflow__MetaGraphDef *m = tensorflow__meta_graph_def__unpack(NULL, len, bytes);
    free(bytes);
    if (!m || !m->graph_def) {
        tfc_status_set(st, TFC_INVALID_ARGUMENT, "'%s' is not a valid MetaGraphDef%s", path,
                       m ? " (no graph_def)" : " (malformed bytes)");
        if (m) tensorflow__meta_graph_def__free_unpacked(m, NULL);
        return -1;
    }
    int rc = tfc_meta_graph_import(g, m, opts, st);
    tensorflow__meta_graph_def__free_unpacked(m, NULL);
    return rc;
}

int tfc_meta_graph_import(tfc_graph *g, const Tensorflow__MetaGraphDef *m,
                          const tfc_import_options *opts, tfc_status *st) {
    int rc = check_collections(m, st);
    if (rc == 0) rc = tfc_queue_runner_defs_check(m, st);
    if (rc == 0) rc = tfc_graphdef_import(g, m->graph_def, opts, 0, st);
    /* pruned: collections keep only the nodes imported */
    adder a = {g, opts ? opts->prefix : NULL, opts && opts->nkeep_outputs > 0};
    for (size_t i = 0; rc == 0 && i < m->n_collection_def; i++)
        rc = each_entry(m->collection_def[i], add_entry, &a, st);
    if (rc == 0) rc = tfc_queue_runner_defs_import(g, m, a.prefix, a.pruned, st);
    if (rc == 0) tfc_status_set(st, TFC_OK, "%s", "");
    return rc;
}

int tfc_import_meta_graph(tfc_graph *g, const char *path, tfc_status *st) {
    return tfc_import_meta_graph_v2(g, path, NULL, st);
}
