/* MetaGraphs as TensorFlow writes them (formats/meta_graph_saver.c): the
 * variable collections as VariableDefs, a saver_def naming the real
 * save/restore subgraph (SaveV2, RestoreV2, save/Assign, save/restore_all),
 * meta_info_def with stripped_op_list; the whole file passes the OpDef
 * check (formats/tf_graph_check.h). A MetaGraph tfc exported, imported into
 * a fresh graph, restores a checkpoint by running restore_op_name with the
 * filename fed, and saves one through save_tensor_name. The Saver's other
 * ops (ShardedFilename, MergeV2Checkpoints) run; older tfc MetaGraphs
 * (collections as node names) still import. */
#include "formats/tensor_bundle.h"
#include "formats/tf_graph_check.h"
#include "harness.h"
#include "meta_graph.pb-c.h"

#include <stdlib.h>
#include <unistd.h>

static void on_problem(void *user, const char *msg) {
    (void)user;
    tfc_test_failures++;
    fprintf(stderr, "[%s] OpDef check: %s\n", tfc_test_current, msg);
}

static uint8_t *slurp(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    CHECK_MSG(f != NULL, "cannot open %s", path);
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *p = malloc((size_t)n + 1);
    if (p && fread(p, 1, (size_t)n, f) != (size_t)n) n = 0;
    fclose(f);
    *len = (size_t)n;
    return p;
}

static char dir[128];

static void make_dir(void) {
    snprintf(dir, sizeof dir, "/tmp/tfc_meta_tf_%ld", (long)getpid());
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf %s && mkdir -p %s", dir, dir);
    CHECK(system(cmd) == 0);
}

static void remove_dir(void) {
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CHECK(system(cmd) == 0);
}

/* y = x w + b, w trainable, b not, step an int64 counter; saved values
 * w = 1..6, b = 0.5, step = 7. */
static tfc_graph *model(tfc_output *y) {
    tfc_graph *g = tfc_graph_new();
    int64_t xd[] = {-1, 2}, wd[] = {2, 3};
    tfc_output x = tfc_placeholder(g, "x", TFC_FLOAT, 2, xd);
    tfc_output w = tfc_variable(g, "w", tfc_zeros(g, TFC_FLOAT, 2, wd));
    tfc_output b = tfc_variable_ex(g, "b", tfc_const_float(g, 0.0f), 0);
    tfc_variable_ex(g, "step", tfc_const_int64(g, 0), 0);
    *y = tfc_add(g, tfc_matmul(g, x, w), b);
    CHECK_GRAPH_OK(g);
    return g;
}

static tfc_tensor *str(const char *s) { return tfc_tensor_scalar_string(s, strlen(s)); }

static void run_targets(tfc_session *s, const tfc_output *feeds, tfc_tensor *const *vals,
                        int nfeeds, tfc_node *target) {
    tfc_status *st = tfc_status_new();
    tfc_session_run(s, feeds, vals, nfeeds, NULL, 0, NULL, &target, 1, st);
    CHECK_STATUS_OK(st);
    tfc_status_free(st);
}

static tfc_tensor *fetch(tfc_session *s, tfc_output out, const tfc_output *feeds,
                         tfc_tensor *const *vals, int nfeeds) {
    tfc_status *st = tfc_status_new();
    tfc_tensor *t = NULL;
    tfc_session_run(s, feeds, vals, nfeeds, &out, 1, &t, NULL, 0, st);
    CHECK_STATUS_OK(st);
    tfc_status_free(st);
    return t;
}

static tfc_output named(tfc_graph *g, const char *name) {
    char buf[256];
    snprintf(buf, sizeof buf, "%s", name);
    int idx = 0;
    char *colon = strchr(buf, ':');
    if (colon) *colon = 0, idx = atoi(colon + 1);
    tfc_node *n = tfc_graph_node_by_name(g, buf);
    CHECK_MSG(n != NULL, "no node %s", buf);
    return (tfc_output){n, idx};
}

/* Saves the model's values (w = 1..6, b = 0.5, step = 7) with the C Saver
 * and exports the MetaGraph; returns the checkpoint prefix. */
static void save_model(char *meta, char *prefix, size_t cap) {
    tfc_output y;
    tfc_graph *g = model(&y);
    tfc_saver *sv = tfc_saver_new(g, NULL, 0, 5);
    tfc_node *init = tfc_global_variables_initializer(g);
    tfc_status *st = tfc_status_new();
    tfc_session *s = tfc_session_new(g, NULL, st);
    run_targets(s, NULL, NULL, 0, init);
    float wv[] = {1, 2, 3, 4, 5, 6};
    tfc_tensor *wt = tfc_tensor_from_data(TFC_FLOAT, 2, (int64_t[]){2, 3}, wv);
    tfc_tensor *bt = tfc_tensor_scalar_float(0.5f), *stt = tfc_tensor_scalar_int64(7);
    tfc_node *assigns[] = {
        tfc_assign(g, named(g, "w"), tfc_const(g, wt)).node,
        tfc_assign(g, named(g, "b"), tfc_const(g, bt)).node,
        tfc_assign(g, named(g, "step"), tfc_const(g, stt)).node,
    };
    for (int i = 0; i < 3; i++) run_targets(s, NULL, NULL, 0, assigns[i]);
    snprintf(prefix, cap, "%s/model.ckpt", dir);
    const char *path = tfc_saver_save(sv, s, prefix, -1, st);
    CHECK_STATUS_OK(st);
    snprintf(prefix, cap, "%s", path ? path : "");
    snprintf(meta, cap, "%s/model.meta", dir);
    CHECK(tfc_export_meta_graph(g, sv, meta, st) == 0);
    CHECK_STATUS_OK(st);
    tfc_tensor_free(wt);
    tfc_tensor_free(bt);
    tfc_tensor_free(stt);
    tfc_session_free(s);
    tfc_saver_free(sv);
    tfc_status_free(st);
    tfc_graph_free(g);
}

static int check_file(const char *path) {
    size_t len;
    uint8_t *p = slurp(path, &len);
    if (!p) return -1;
    tfc_tf_check c = {on_problem, NULL, NULL, NULL};
    int rc = tfc_tf_check_meta_graph(p, len, &c);
    free(p);
    return rc;
}

static void test_written_meta_graph(void) {
    make_dir();
    char meta[512], prefix[512];
    save_model(meta, prefix, sizeof meta);
    CHECK_MSG(check_file(meta) == 0, "the MetaGraph fails the OpDef check");
    size_t len;
    uint8_t *p = slurp(meta, &len);
    Tensorflow__MetaGraphDef *m = p ? tensorflow__meta_graph_def__unpack(NULL, len, p) : NULL;
    free(p);
    CHECK(m != NULL);
    if (!m) return;
    const Tensorflow__SaverDef *sd = m->saver_def;
    CHECK(sd && !strcmp(sd->filename_tensor_name, "save/Const:0") &&
          !strcmp(sd->save_tensor_name, "save/control_dependency:0") &&
          !strcmp(sd->restore_op_name, "save/restore_all") &&
          sd->version == TENSORFLOW__SAVER_DEF__CHECKPOINT_FORMAT_VERSION__V2 &&
          sd->max_to_keep == 5);
    const char *want_ops[] = {"SaveV2", "RestoreV2", "Assign", "PlaceholderWithDefault",
                              "VariableV2", "MatMul"};
    const Tensorflow__MetaInfoDef *mi = m->meta_info_def;
    CHECK(mi && strstr(mi->tensorflow_version, "tfc") && strstr(mi->tensorflow_git_version, "tfc"));
    CHECK(mi && mi->any_info && strstr(mi->any_info->type_url, "StringValue"));
    for (size_t k = 0; mi && mi->stripped_op_list && k < sizeof want_ops / sizeof *want_ops; k++) {
        int found = 0;
        for (size_t j = 0; j < mi->stripped_op_list->n_op; j++)
            found |= !strcmp(mi->stripped_op_list->op[j]->name, want_ops[k]);
        CHECK_MSG(found, "stripped_op_list lacks %s", want_ops[k]);
    }
    int nvars = 0, ntrain = 0;
    for (size_t i = 0; i < m->n_collection_def; i++) {
        const char *key = m->collection_def[i]->key;
        const Tensorflow__CollectionDef *cd = m->collection_def[i]->value;
        int glob = !strcmp(key, "variables"), train = !strcmp(key, "trainable_variables");
        if (!glob && !train) continue;
        CHECK(cd->kind_case == TENSORFLOW__COLLECTION_DEF__KIND_BYTES_LIST);
        if (cd->kind_case != TENSORFLOW__COLLECTION_DEF__KIND_BYTES_LIST) continue;
        for (size_t k = 0; k < cd->bytes_list->n_value; k++) {
            Tensorflow__VariableDef *vd = tensorflow__variable_def__unpack(
                NULL, cd->bytes_list->value[k].len, cd->bytes_list->value[k].data);
            CHECK(vd != NULL);
            if (!vd) continue;
            if (!strcmp(vd->variable_name, "w:0")) {
                CHECK(!strcmp(vd->initializer_name, "w/Assign"));
                CHECK(!strcmp(vd->snapshot_name, "w/read:0"));
                size_t l = strlen(vd->initial_value_name);
                CHECK(l > 2 && !strcmp(vd->initial_value_name + l - 2, ":0"));
                CHECK(vd->trainable);
            }
            if (!strcmp(vd->variable_name, "b:0")) CHECK(!vd->trainable);
            nvars += glob;
            ntrain += train;
            tensorflow__variable_def__free_unpacked(vd, NULL);
        }
    }
    CHECK(nvars == 3 && ntrain == 1);
    tensorflow__meta_graph_def__free_unpacked(m, NULL);
    remove_dir();
}

/* Imports the exported MetaGraph into a fresh graph and restores the
 * checkpoint through restore_op_name with the filename fed; then saves
 * through save_tensor_name and reads that checkpoint back. */
static void test_restore_through_subgraph(void) {
    make_dir();
    char meta[512], prefix[512], prefix2[600];
    save_model(meta, prefix, sizeof meta);
    tfc_graph *g = tfc_graph_new();
    tfc_status *st = tfc_status_new();
    CHECK(tfc_import_meta_graph(g, meta, st) == 0);
    CHECK_STATUS_OK(st);
    CHECK(tfc_graph_collection_size(g, "variables") == 3);
    CHECK(tfc_graph_collection_size(g, "trainable_variables") == 1);
    tfc_session *s = tfc_session_new(g, NULL, st);
    tfc_output fname = named(g, "save/Const:0");
    tfc_tensor *pt = str(prefix);
    run_targets(s, &fname, &pt, 1, tfc_graph_node_by_name(g, "save/restore_all"));
    float xv[] = {1, 1};
    tfc_tensor *xt = tfc_tensor_from_data(TFC_FLOAT, 2, (int64_t[]){1, 2}, xv);
    tfc_output x = named(g, "x");
    tfc_tensor *y = fetch(s, named(g, "Add:0"), &x, &xt, 1);
    const float *yv = y ? tfc_tensor_data(y) : NULL;
    CHECK(yv && yv[0] == 5.5f && yv[1] == 7.5f && yv[2] == 9.5f);
    tfc_tensor *stp = fetch(s, named(g, "step"), NULL, NULL, 0);
    CHECK(stp && *(int64_t *)tfc_tensor_data(stp) == 7);
    /* save through the subgraph, read back with the checkpoint reader */
    snprintf(prefix2, sizeof prefix2, "%s/again", dir);
    tfc_tensor *p2 = str(prefix2);
    tfc_tensor *saved = fetch(s, named(g, "save/control_dependency:0"), &fname, &p2, 1);
    CHECK(saved != NULL);
    tfc_checkpoint_reader *r = tfc_checkpoint_reader_open(prefix2, st);
    CHECK_STATUS_OK(st);
    tfc_tensor *w = r ? tfc_checkpoint_reader_get(r, "w", st) : NULL;
    CHECK(w && ((float *)tfc_tensor_data(w))[5] == 6.0f);
    CHECK(r && tfc_checkpoint_reader_num(r) == 3);
    /* the imported graph written again keeps its one subgraph */
    char meta2[600];
    snprintf(meta2, sizeof meta2, "%s/again.meta", dir);
    tfc_saver *sv = tfc_saver_new(g, NULL, 0, 5);
    CHECK(tfc_export_meta_graph(g, sv, meta2, st) == 0);
    CHECK_MSG(check_file(meta2) == 0, "the re-exported MetaGraph fails the OpDef check");
    tfc_graph *g3 = tfc_graph_new();
    CHECK(tfc_import_meta_graph(g3, meta2, st) == 0);
    CHECK(tfc_graph_node_by_name(g3, "save/restore_all") != NULL);
    CHECK(tfc_graph_node_by_name(g3, "save_1/restore_all") == NULL);
    CHECK(tfc_graph_node_by_name(g3, "w/read_1") == NULL);
    tfc_graph_free(g3);
    tfc_saver_free(sv);
    tfc_tensor_free(w);
    tfc_checkpoint_reader_free(r);
    tfc_tensor_free(saved);
    tfc_tensor_free(p2);
    tfc_tensor_free(stp);
    tfc_tensor_free(y);
    tfc_tensor_free(xt);
    tfc_tensor_free(pt);
    tfc_session_free(s);
    tfc_status_free(st);
    tfc_graph_free(g);
    remove_dir();
}

/* A restore from a checkpoint that lacks a variable fails naming it. */
static void test_restore_missing_tensor(void) {
    make_dir();
    char meta[512], prefix[512], other[600];
    save_model(meta, prefix, sizeof meta);
    snprintf(other, sizeof other, "%s/other", dir);
    tfc_tensor *v = tfc_tensor_scalar_float(1.0f);
    const char *names[] = {"w"};
    tfc_graph *g = tfc_graph_new();
    tfc_status *st = tfc_status_new();
    tfc_tensor *vals[] = {v};
    CHECK(tfc_bundle_write(other, names, vals, 1, st) == 0);
    CHECK(tfc_import_meta_graph(g, meta, st) == 0);
    tfc_session *s = tfc_session_new(g, NULL, st);
    tfc_output fname = named(g, "save/Const:0");
    tfc_tensor *pt = str(other);
    tfc_node *t = tfc_graph_node_by_name(g, "save/restore_all");
    tfc_session_run(s, &fname, &pt, 1, NULL, 0, NULL, &t, 1, st);
    CHECK(tfc_status_code(st) != TFC_OK);
    CHECK_CONTAINS(tfc_status_message(st), "tensor 'b' not found in checkpoint");
    CHECK_CONTAINS(tfc_status_message(st), "save/RestoreV2");
    tfc_tensor_free(pt);
    tfc_tensor_free(v);
    tfc_session_free(s);
    tfc_status_free(st);
    tfc_graph_free(g);
    remove_dir();
}

/* A MetaGraph as tfc wrote them before: collections of node names. */
static void test_old_node_list_form(void) {
    make_dir();
    char meta[512], prefix[512], old[600];
    save_model(meta, prefix, sizeof meta);
    size_t len;
    uint8_t *p = slurp(meta, &len);
    Tensorflow__MetaGraphDef *m = p ? tensorflow__meta_graph_def__unpack(NULL, len, p) : NULL;
    free(p);
    CHECK(m != NULL);
    if (!m) return;
    static char *names[] = {"w", "b", "step"};
    static Tensorflow__CollectionDef__NodeList nl = TENSORFLOW__COLLECTION_DEF__NODE_LIST__INIT;
    static Tensorflow__CollectionDef cd = TENSORFLOW__COLLECTION_DEF__INIT;
    nl.n_value = 3;
    nl.value = names;
    cd.kind_case = TENSORFLOW__COLLECTION_DEF__KIND_NODE_LIST;
    cd.node_list = &nl;
    Tensorflow__CollectionDef *saved_cd = NULL;
    size_t at = 0;
    for (size_t i = 0; i < m->n_collection_def; i++)
        if (!strcmp(m->collection_def[i]->key, "variables")) {
            saved_cd = m->collection_def[i]->value;
            m->collection_def[i]->value = &cd;
            at = i;
        }
    CHECK(saved_cd != NULL);
    size_t n = tensorflow__meta_graph_def__get_packed_size(m);
    uint8_t *q = malloc(n);
    tensorflow__meta_graph_def__pack(m, q);
    if (saved_cd) m->collection_def[at]->value = saved_cd;
    tensorflow__meta_graph_def__free_unpacked(m, NULL);
    snprintf(old, sizeof old, "%s/old.meta", dir);
    FILE *f = fopen(old, "wb");
    CHECK(f && fwrite(q, 1, n, f) == n);
    if (f) fclose(f);
    free(q);
    tfc_graph *g = tfc_graph_new();
    tfc_status *st = tfc_status_new();
    CHECK(tfc_import_meta_graph(g, old, st) == 0);
    CHECK_STATUS_OK(st);
    CHECK(tfc_graph_collection_size(g, "variables") == 3);
    tfc_status_free(st);
    tfc_graph_free(g);
    remove_dir();
}

/* ShardedFilename, and MergeV2Checkpoints of two SaveV2 shards, run. */
static void test_sharded_save_ops(void) {
    make_dir();
    char p1[600], p2[600], dest[600];
    snprintf(p1, sizeof p1, "%s/tmp/part-0", dir);
    snprintf(p2, sizeof p2, "%s/tmp/part-1", dir);
    snprintf(dest, sizeof dest, "%s/merged", dir);
    tfc_graph *g = tfc_graph_new();
    tfc_output base = tfc_placeholder(g, "base", TFC_STRING, 0, NULL);
    tfc_op_desc *d = tfc_op_new(g, "ShardedFilename", NULL);
    tfc_op_add_input(d, base);
    tfc_op_add_input(d, tfc_const_int32(g, 1));
    tfc_op_add_input(d, tfc_const_int32(g, 2));
    tfc_output shard = {tfc_op_finish(d), 0};
    tfc_node *saves[2];
    const char *prefixes[] = {p1, p2};
    for (int i = 0; i < 2; i++) {
        const char *nm = i ? "b" : "a";
        d = tfc_op_new(g, "SaveV2", NULL);
        tfc_op_add_input(d, tfc_const_string(g, prefixes[i]));
        tfc_op_add_input(d, tfc_const_strings(g, 1, (int64_t[]){1}, &nm, NULL));
        const char *empty = "";
        tfc_op_add_input(d, tfc_const_strings(g, 1, (int64_t[]){1}, &empty, NULL));
        tfc_op_add_input(d, tfc_const_float(g, i ? 2.0f : 1.0f));
        saves[i] = tfc_op_finish(d);
    }
    const char *srcs[] = {p1, p2}, *dst = dest;
    d = tfc_op_new(g, "MergeV2Checkpoints", NULL);
    tfc_op_add_input(d, tfc_const_strings(g, 1, (int64_t[]){2}, srcs, NULL));
    tfc_op_add_input(d, tfc_const_string(g, dst));
    tfc_op_add_control_input(d, saves[0]);
    tfc_op_add_control_input(d, saves[1]);
    tfc_node *merge = tfc_op_finish(d);
    CHECK_GRAPH_OK(g);
    tfc_status *st = tfc_status_new();
    tfc_session *s = tfc_session_new(g, NULL, st);
    char mk[700];
    snprintf(mk, sizeof mk, "mkdir -p %s/tmp", dir);
    CHECK(system(mk) == 0);
    tfc_tensor *bt = str("model");
    tfc_tensor *name = fetch(s, shard, &base, &bt, 1);
    size_t nlen = 0;
    const char *nb = name ? tfc_string_tensor_get(name, 0, &nlen) : NULL;
    CHECK(nb && nlen == 20 && !memcmp(nb, "model-00001-of-00002", 20));
    run_targets(s, NULL, NULL, 0, merge);
    tfc_checkpoint_reader *r = tfc_checkpoint_reader_open(dest, st);
    CHECK_STATUS_OK(st);
    CHECK(r && tfc_checkpoint_reader_num(r) == 2);
    char idx[700];
    snprintf(idx, sizeof idx, "%s.index", p1);
    CHECK(access(idx, F_OK) != 0); /* the shards are gone */
    tfc_checkpoint_reader_free(r);
    tfc_tensor_free(name);
    tfc_tensor_free(bt);
    tfc_session_free(s);
    tfc_status_free(st);
    tfc_graph_free(g);
    remove_dir();
}

TFC_TEST_MAIN(T(test_written_meta_graph), T(test_restore_through_subgraph),
              T(test_restore_missing_tensor), T(test_old_node_list_form),
              T(test_sharded_save_ops))
