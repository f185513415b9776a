/* MetaGraph export and import through protos/meta_graph.proto: the graph
 * plus its collections (variables, trainable variables, train op,
 * summaries), enough for a new process to restore a checkpoint and keep
 * training without rebuilding the graph. Collections are written as
 * node_list (node names); on import the variable collections may also come
 * as TF's bytes_list of VariableDef. */
#include "formats/meta_graph.h"
#include "core/status.h"
#include "formats/graphdef.h"
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
        if (!cols->keys[i]) continue;
        const tfc_collection *c = cols->vals[i];
        Tensorflow__MetaGraphDef__CollectionDefEntry *e = tfc_arena_alloc(a, sizeof *e);
        Tensorflow__CollectionDef *cd = tfc_arena_alloc(a, sizeof *cd);
        Tensorflow__CollectionDef__NodeList *nl = tfc_arena_alloc(a, sizeof *nl);
        char **names = tfc_arena_alloc(a, sizeof *names * (size_t)(c->n + 1));
        if (!e || !cd || !nl || !names) return NULL;
        tensorflow__meta_graph_def__collection_def_entry__init(e);
        tensorflow__collection_def__init(cd);
        tensorflow__collection_def__node_list__init(nl);
        for (int k = 0; k < c->n; k++) names[k] = c->items[k]->name;
        nl->n_value = (size_t)c->n;
        nl->value = names;
        cd->kind_case = TENSORFLOW__COLLECTION_DEF__KIND_NODE_LIST;
        cd->node_list = nl;
        e->key = cols->keys[i];
        e->value = cd;
        m->collection_def[m->n_collection_def++] = e;
    }
    return m;
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

/* A collection entry's node: "name", "name:0" or "^name". */
static tfc_node *find_node(tfc_graph *g, const char *s) {
    char name[512];
    if (s[0] == '^') s++;
    if (strlen(s) >= sizeof name) return NULL;
    strcpy(name, s);
    char *colon = strrchr(name, ':');
    if (colon) *colon = 0;
    return tfc_graph_node_by_name(g, name);
}

static void import_collection(tfc_graph *g, const Tensorflow__MetaGraphDef__CollectionDefEntry *e) {
    const Tensorflow__CollectionDef *cd = e->value;
    if (!cd) return;
    if (cd->kind_case == TENSORFLOW__COLLECTION_DEF__KIND_NODE_LIST) {
        for (size_t k = 0; k < cd->node_list->n_value; k++) {
            tfc_node *n = find_node(g, cd->node_list->value[k]);
            if (n) tfc_graph_add_to_collection(g, e->key, n);
        }
        return;
    }
    int vars = !strcmp(e->key, TFC_GLOBAL_VARIABLES) || !strcmp(e->key, TFC_TRAINABLE_VARIABLES);
    if (cd->kind_case != TENSORFLOW__COLLECTION_DEF__KIND_BYTES_LIST || !vars) return;
    for (size_t k = 0; k < cd->bytes_list->n_value; k++) {
        const ProtobufCBinaryData *b = &cd->bytes_list->value[k];
        Tensorflow__VariableDef *vd = tensorflow__variable_def__unpack(NULL, b->len, b->data);
        tfc_node *n = vd ? find_node(g, vd->variable_name) : NULL;
        if (n) tfc_graph_add_to_collection(g, e->key, n);
        if (vd) tensorflow__variable_def__free_unpacked(vd, NULL);
    }
}

int tfc_import_meta_graph(tfc_graph *g, const char *path, tfc_status *st) {
    uint8_t *bytes;
    size_t len;
    if (!g || !path) {
        tfc_status_set(st, TFC_INVALID_ARGUMENT, "import_meta_graph: NULL graph or path");
        return -1;
    }
    if (tfc_read_file(path, &bytes, &len, st)) return -1;
    Tensorflow__MetaGraphDef *m = tensorflow__meta_graph_def__unpack(NULL, len, bytes);
    free(bytes);
    if (!m || !m->graph_def) {
        tfc_status_set(st, TFC_INVALID_ARGUMENT, "'%s' is not a valid MetaGraphDef%s", path,
                       m ? " (no graph_def)" : " (malformed bytes)");
        if (m) tensorflow__meta_graph_def__free_unpacked(m, NULL);
        return -1;
    }
    int rc = tfc_graphdef_import(g, m->graph_def, NULL, NULL, NULL, 0, 0, st);
    if (rc == 0) {
        for (size_t i = 0; i < m->n_collection_def; i++)
            import_collection(g, m->collection_def[i]);
        tfc_status_set(st, TFC_OK, "%s", "");
    }
    tensorflow__meta_graph_def__free_unpacked(m, NULL);
    return rc;
}
