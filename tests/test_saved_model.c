/* SavedModels: the ones TensorFlow 1.0, 1.14 and 2.14 wrote for TF
 * Serving's tests (tests/data/tf_written, provenance in its README) load
 * and serve y = 0.5x + 2 (or + 3) through their signatures, fed floats or
 * serialized tf.Examples; a tfc model exported as a SavedModel loads back
 * with its values; bad directories and files give clear errors. Also the
 * import that prunes to the outputs asked for and lists every op tfc
 * lacks at once. */
#include "core/tensor.h"
#include "graph/graph.h"
#include "harness.h"
#include "graph.pb-c.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char tmpdir[256];

static void make_tmpdir(void) {
    snprintf(tmpdir, sizeof tmpdir, "/tmp/tfc_saved_model_XXXXXX");
    CHECK(mkdtemp(tmpdir) != NULL);
}

static void remove_tree(const char *path) {
    DIR *d = opendir(path);
    if (!d) {
        remove(path);
        return;
    }
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        char p[1024];
        snprintf(p, sizeof p, "%s/%s", path, e->d_name);
        remove_tree(p);
    }
    closedir(d);
    rmdir(path);
}

static void data_path(char *out, size_t n, const char *rel) {
    const char *data = getenv("TFC_TEST_DATA");
    if (data) {
        snprintf(out, n, "%s/tf_written/%s", data, rel);
    } else {
        const char *slash = strrchr(__FILE__, '/');
        int dir = slash ? (int)(slash - __FILE__) : 1;
        snprintf(out, n, "%.*s/data/tf_written/%s", dir, slash ? __FILE__ : ".", rel);
    }
}

static void copy_file(const char *from, const char *to) {
    FILE *f = fopen(from, "rb"), *t = fopen(to, "wb");
    CHECK_MSG(f && t, "copy %s -> %s", from, to);
    char buf[1 << 14];
    size_t n;
    while (f && t && (n = fread(buf, 1, sizeof buf, f)) > 0) CHECK(fwrite(buf, 1, n, t) == n);
    if (f) fclose(f);
    if (t) fclose(t);
}

/* A SavedModel directory <tmpdir>/<name> in TensorFlow's layout, from the
 * files kept flat in tests/data/tf_written/<name>. */
static void assemble(const char *name, char *dir, size_t n) {
    char from[600], to[700];
    snprintf(dir, n, "%s/%s", tmpdir, name);
    CHECK(mkdir(dir, 0777) == 0);
    snprintf(to, sizeof to, "%s/variables", dir);
    CHECK(mkdir(to, 0777) == 0);
    snprintf(to, sizeof to, "%s/assets", dir);
    CHECK(mkdir(to, 0777) == 0);
    static const char *const files[][2] = {
        {"saved_model.pb", "saved_model.pb"},
        {"variables.index", "variables/variables.index"},
        {"variables.data-00000-of-00001", "variables/variables.data-00000-of-00001"}};
    for (int i = 0; i < 3; i++) {
        char rel[300];
        snprintf(rel, sizeof rel, "%s/%s", name, files[i][0]);
        data_path(from, sizeof from, rel);
        snprintf(to, sizeof to, "%s/%s", dir, files[i][1]);
        copy_file(from, to);
    }
}

/* Runs signature `sig` of a loaded model on xs (float, shape [n, 1] or
 * [n] as the input's rank says) and checks y = a x + b. */
static void check_float_signature(tfc_saved_model *m, const char *sig, double a, double b) {
    int s = tfc_saved_model_signature_find(m, sig);
    CHECK_MSG(s >= 0, "no signature %s", sig);
    if (s < 0) return;
    CHECK(tfc_saved_model_signature_num_inputs(m, s) == 1);
    CHECK(tfc_saved_model_signature_num_outputs(m, s) == 1);
    tfc_tensor_info in = tfc_saved_model_signature_input(m, s, 0);
    tfc_tensor_info out = tfc_saved_model_signature_output(m, s, 0);
    CHECK(in.dtype == TFC_FLOAT && out.dtype == TFC_FLOAT);
    CHECK_MSG(in.output.node && out.output.node, "%s: %s -> %s not in the graph", sig, in.name,
              out.name);
    if (!in.output.node || !out.output.node) return;
    float xs[4] = {0.0f, 1.0f, -3.0f, 10.5f};
    tfc_shape is = tfc_output_shape(in.output);
    int rank = is.rank == 1 ? 1 : 2;
    /* a batch of 4, or one at a time where the signature fixes batch 1 (TF2's traced [1]) */
    int batch = is.rank >= 1 && is.dims[0] == 1 ? 1 : 4;
    tfc_status *st = tfc_status_new();
    for (int k = 0; k < 4; k += batch) {
        int64_t dims[2] = {batch, 1};
        tfc_tensor *x = tfc_tensor_from_data(TFC_FLOAT, rank, dims, xs + k);
        tfc_tensor *y =
            tfc_session_run1(tfc_saved_model_session(m), &in.output, &x, 1, out.output, st);
        CHECK_STATUS_OK(st);
        CHECK(y && y->nelem == batch);
        for (int i = 0; y && i < batch; i++)
            CHECK_NEAR(tfc_test_get(y, i), a * xs[k + i] + b, 1e-6);
        tfc_tensor_free(y);
        tfc_tensor_free(x);
    }
    tfc_status_free(st);
}

/* Runs a signature taking serialized tf.Examples with float feature `key`. */
static void check_example_signature(tfc_saved_model *m, const char *sig, const char *key,
                                    double a, double b) {
    int s = tfc_saved_model_signature_find(m, sig);
    CHECK_MSG(s >= 0, "no signature %s", sig);
    if (s < 0) return;
    tfc_tensor_info in = tfc_saved_model_signature_input(m, s, 0);
    tfc_tensor_info out = tfc_saved_model_signature_output(m, s, 0);
    CHECK(in.output.node && out.output.node);
    if (!in.output.node || !out.output.node) return;
    float xs[3] = {2.0f, -1.0f, 7.0f};
    uint8_t *bytes[3];
    size_t lens[3];
    for (int i = 0; i < 3; i++) {
        tfc_example *ex = tfc_example_new();
        CHECK(tfc_example_add_floats(ex, key, &xs[i], 1) == 0);
        bytes[i] = tfc_example_serialize(ex, &lens[i]);
        tfc_example_free(ex);
    }
    int64_t n = 3;
    tfc_tensor *x = tfc_tensor_from_strings(1, &n, (const char *const *)bytes, lens);
    tfc_status *st = tfc_status_new();
    tfc_tensor *y = tfc_session_run1(tfc_saved_model_session(m), &in.output, &x, 1, out.output, st);
    CHECK_STATUS_OK(st);
    CHECK(y && y->nelem == 3);
    for (int i = 0; y && i < 3; i++) CHECK_NEAR(tfc_test_get(y, i), a * xs[i] + b, 1e-6);
    for (int i = 0; i < 3; i++) free(bytes[i]);
    tfc_tensor_free(y);
    tfc_tensor_free(x);
    tfc_status_free(st);
}

static tfc_saved_model *load(const char *dir, tfc_graph *g, tfc_status *st) {
    const char *tags[] = {"serve"};
    return tfc_saved_model_load(dir, tags, 1, g, NULL, st);
}

/* TF 1.0: VariableV2, ParseExample, a RestoreV2 per variable, an
 * uncompressed index, a legacy_init_op. */
static void test_tf1_0_half_plus_three(void) {
    char dir[400];
    make_tmpdir();
    assemble("half_plus_three_tf1_0", dir, sizeof dir);
    tfc_graph *g = tfc_graph_new();
    tfc_status *st = tfc_status_new();
    tfc_saved_model *m = load(dir, g, st);
    CHECK_STATUS_OK(st);
    if (m) {
        CHECK(tfc_saved_model_num_signatures(m) == 2);
        check_float_signature(m, "serving_default", 0.5, 3);
        check_example_signature(m, "tensorflow/serving/regress", "x", 0.5, 3);
        /* the Saver's own subgraph was not imported */
        CHECK(tfc_graph_node_by_name(g, "save/SaveV2") == NULL);
    }
    tfc_saved_model_free(m);
    tfc_status_free(st);
    tfc_graph_free(g);
    remove_tree(tmpdir);
}

/* TF 1.14: snappy index, one RestoreV2 for all variables, five signatures. */
static void test_tf1_14_half_plus_two(void) {
    char dir[400];
    make_tmpdir();
    assemble("half_plus_two_tf1_14", dir, sizeof dir);
    tfc_graph *g = tfc_graph_new();
    tfc_status *st = tfc_status_new();
    tfc_saved_model *m = load(dir, g, st);
    CHECK_STATUS_OK(st);
    if (m) {
        check_float_signature(m, "serving_default", 0.5, 2);
        check_float_signature(m, "regress_x2_to_y3", 0.5, 3);
        check_example_signature(m, "regress_x_to_y", "x", 0.5, 2);
        check_example_signature(m, "regress_x_to_y2", "x", 0.5, 3);
        int s = tfc_saved_model_signature_find(m, "classify_x_to_y");
        CHECK(s >= 0 && !strcmp(tfc_saved_model_signature_method(m, s),
                                "tensorflow/serving/classify"));
        tfc_tensor_info o = tfc_saved_model_signature_output(m, s, 0);
        CHECK(!strcmp(o.key, "scores") && !strcmp(o.name, "y:0") && o.shape.rank == 2 &&
              o.shape.dims[0] == -1 && o.shape.dims[1] == 1);
    }
    tfc_saved_model_free(m);
    tfc_status_free(st);
    tfc_graph_free(g);
    remove_tree(tmpdir);
}

/* TF 2.14: resource variables, signatures as StatefulPartitionedCalls of
 * functions taking the variables' handles, a restore function, an asset
 * fed to the init op. */
static void test_tf2_14_half_plus_two(void) {
    char dir[400];
    make_tmpdir();
    assemble("half_plus_two_tf2_14", dir, sizeof dir);
    tfc_graph *g = tfc_graph_new();
    tfc_status *st = tfc_status_new();
    tfc_saved_model *m = load(dir, g, st);
    CHECK_STATUS_OK(st);
    if (m) {
        check_float_signature(m, "serving_default", 0.5, 2);
        check_float_signature(m, "regress_x2_to_y3", 0.5, 3);
        /* the init op assigned the asset's path to the string variable */
        tfc_node *h = tfc_graph_node_by_name(g, "Variable");
        CHECK(h != NULL);
        if (h) {
            tfc_output r = tfc_read_variable_op(g, tfc_out(h, 0), TFC_STRING);
            tfc_tensor *v = tfc_session_run1(tfc_saved_model_session(m), NULL, NULL, 0, r, st);
            CHECK_STATUS_OK(st);
            const tfc_string *s = v ? (const tfc_string *)tfc_tensor_data(v) : NULL;
            CHECK(s && s[0].len > 15 &&
                  !memcmp(s[0].data + s[0].len - 15, "/assets/foo.txt", 15));
            tfc_tensor_free(v);
        }
    }
    tfc_saved_model_free(m);
    tfc_status_free(st);
    tfc_graph_free(g);
    remove_tree(tmpdir);
}

/* Export a tfc model (a ref variable and a resource variable), load it
 * back into another graph, serve the same answers. */
static void test_export_and_load_back(void) {
    make_tmpdir();
    char dir[400];
    snprintf(dir, sizeof dir, "%s/exported", tmpdir);
    tfc_status *st = tfc_status_new();
    tfc_graph *g = tfc_graph_new();
    int64_t xd[1] = {-1};
    tfc_output x = tfc_placeholder(g, "x", TFC_FLOAT, 1, xd);
    tfc_output w = tfc_variable(g, "w", tfc_const_float(g, 1.0f));
    tfc_output b = tfc_resource_variable(g, "b", tfc_const_float(g, 0.0f), 1);
    tfc_output y = tfc_add(g, tfc_mul(g, x, w), tfc_read_variable_op(g, b, TFC_FLOAT));
    tfc_node *init = tfc_global_variables_initializer(g);
    tfc_node *set_w = tfc_assign(g, w, tfc_const_float(g, 0.5f)).node;
    tfc_node *set_b = tfc_assign_variable_op(g, b, tfc_const_float(g, 2.0f));
    CHECK_GRAPH_OK(g);
    tfc_session *s = tfc_session_new(g, NULL, st);
    tfc_node *steps[] = {init, set_w, set_b};
    for (int i = 0; i < 3; i++) tfc_session_run(s, NULL, NULL, 0, NULL, 0, NULL, &steps[i], 1, st);
    CHECK_STATUS_OK(st);
    const char *ik[] = {"x"}, *ok[] = {"y"}, *tags[] = {"serve"};
    tfc_signature_def sig = {"serving_default", NULL, 1, ik, &x, 1, ok, &y};
    CHECK(tfc_saved_model_save(dir, g, s, tags, 1, &sig, 1, st) == 0);
    CHECK_STATUS_OK(st);
    char p[600];
    snprintf(p, sizeof p, "%s/variables/variables.index", dir);
    CHECK(access(p, R_OK) == 0);
    /* a second export into the same directory is refused */
    CHECK(tfc_saved_model_save(dir, g, s, tags, 1, &sig, 1, st) == -1);
    CHECK(tfc_status_code(st) == TFC_ALREADY_EXISTS);

    tfc_graph *g2 = tfc_graph_new();
    tfc_saved_model *m = load(dir, g2, st);
    CHECK_STATUS_OK(st);
    if (m) {
        int sg = tfc_saved_model_signature_find(m, "serving_default");
        CHECK(sg >= 0 && !strcmp(tfc_saved_model_signature_method(m, sg),
                                 "tensorflow/serving/predict"));
        tfc_tensor_info in = tfc_saved_model_signature_input(m, sg, 0);
        CHECK(!strcmp(in.key, "x") && !strcmp(in.name, "x:0") && in.shape.rank == 1);
        check_float_signature(m, "serving_default", 0.5, 2);
    }
    tfc_saved_model_free(m);
    tfc_graph_free(g2);
    /* into a session the caller has (loader.load(sess, ...)): it keeps it */
    g2 = tfc_graph_new();
    tfc_session *mine = tfc_session_new(g2, NULL, st);
    m = tfc_saved_model_load_into(mine, dir, tags, 1, st);
    CHECK_STATUS_OK(st);
    CHECK(m && tfc_saved_model_session(m) == mine);
    if (m) check_float_signature(m, "serving_default", 0.5, 2);
    tfc_saved_model_free(m);
    tfc_output yy;
    CHECK(tfc_graph_output_by_name(g2, "Add:0", &yy, st) == 0);
    float one = 1.0f;
    int64_t d1 = 1;
    tfc_output xx;
    CHECK(tfc_graph_output_by_name(g2, "x:0", &xx, st) == 0);
    tfc_tensor *xt = tfc_tensor_from_data(TFC_FLOAT, 1, &d1, &one);
    tfc_tensor *yt = tfc_session_run1(mine, &xx, &xt, 1, yy, st);
    CHECK_STATUS_OK(st);
    CHECK(yt && tfc_test_get(yt, 0) == 2.5);
    tfc_tensor_free(yt);
    tfc_tensor_free(xt);
    tfc_session_free(mine);
    tfc_graph_free(g2);
    /* tags other than the ones written: the error lists those there are */
    tfc_graph *g3 = tfc_graph_new();
    const char *gpu[] = {"serve", "gpu"};
    CHECK(tfc_saved_model_load(dir, gpu, 2, g3, NULL, st) == NULL);
    CHECK(tfc_status_code(st) == TFC_NOT_FOUND);
    CHECK_CONTAINS(tfc_status_message(st), "no MetaGraphDef with tags {serve, gpu}");
    CHECK_CONTAINS(tfc_status_message(st), "its tag sets: {serve}");
    tfc_graph_free(g3);
    tfc_session_free(s);
    tfc_graph_free(g);
    tfc_status_free(st);
    remove_tree(tmpdir);
}

static void test_bad_directories(void) {
    make_tmpdir();
    tfc_status *st = tfc_status_new();
    tfc_graph *g = tfc_graph_new();
    char dir[400], p[600];
    snprintf(dir, sizeof dir, "%s/missing", tmpdir);
    CHECK(load(dir, g, st) == NULL);
    CHECK(tfc_status_code(st) == TFC_NOT_FOUND);
    CHECK_CONTAINS(tfc_status_message(st), "does not exist");
    /* a directory without saved_model.pb */
    CHECK(load(tmpdir, g, st) == NULL);
    CHECK(tfc_status_code(st) == TFC_NOT_FOUND);
    CHECK_CONTAINS(tfc_status_message(st), "no saved_model.pb");
    /* a corrupt saved_model.pb */
    snprintf(p, sizeof p, "%s/saved_model.pb", tmpdir);
    FILE *f = fopen(p, "wb");
    CHECK(f != NULL);
    if (f) {
        fwrite("\x12\xff\xff\xff\x0fgarbage", 1, 12, f);
        fclose(f);
    }
    CHECK(load(tmpdir, g, st) == NULL);
    CHECK(tfc_status_code(st) == TFC_INVALID_ARGUMENT);
    CHECK_CONTAINS(tfc_status_message(st), "saved_model.pb' is not a valid SavedModel");
    /* a real SavedModel whose checkpoint is missing */
    remove(p);
    assemble("half_plus_two_tf1_14", dir, sizeof dir);
    snprintf(p, sizeof p, "%s/variables/variables.index", dir);
    remove(p);
    CHECK(load(dir, g, st) == NULL);
    CHECK(tfc_status_code(st) != TFC_OK);
    CHECK_CONTAINS(tfc_status_message(st), "variables.index");
    CHECK(tfc_graph_error(g) == NULL);
    tfc_graph_free(g);
    tfc_status_free(st);
    remove_tree(tmpdir);
}

/* Reading without loading: tags and signatures of every MetaGraphDef. */
static void test_read_only(void) {
    char dir[400];
    make_tmpdir();
    assemble("half_plus_two_tf2_14", dir, sizeof dir);
    tfc_status *st = tfc_status_new();
    tfc_saved_model *m = tfc_saved_model_read(dir, st);
    CHECK_STATUS_OK(st);
    CHECK(tfc_saved_model_num_meta_graphs(m) == 1);
    CHECK(tfc_saved_model_num_tags(m, 0) == 1 && !strcmp(tfc_saved_model_tag(m, 0, 0), "serve"));
    const char *serve[] = {"serve"};
    CHECK(tfc_saved_model_find_meta_graph(m, serve, 1) == 0);
    CHECK(tfc_saved_model_num_signatures(m) == 7);
    int s = tfc_saved_model_signature_find(m, "serving_default");
    tfc_tensor_info in = tfc_saved_model_signature_input(m, s, 0);
    CHECK(!strcmp(in.key, "x") && !strcmp(in.name, "serving_default_x:0") &&
          in.dtype == TFC_FLOAT && in.output.node == NULL);
    CHECK(tfc_saved_model_signature_input(m, s, 5).key == NULL);
    tfc_saved_model_free(m);
    tfc_status_free(st);
    remove_tree(tmpdir);
}

/* ---- import that prunes, then lists every op tfc lacks ---- */

/* A GraphDef with x -> y = x * 2 (known ops) beside z = Bogus1(x),
 * w = Bogus2(z), v = Bogus1(y) (ops tfc lacks), and c = NoOp ^y. */
static uint8_t *graph_with_bogus_ops(size_t *len) {
    tfc_graph *g = tfc_graph_new();
    int64_t d[1] = {3};
    tfc_output x = tfc_placeholder(g, "x", TFC_FLOAT, 1, d);
    tfc_output y = tfc_identity(g, tfc_mul(g, x, tfc_const_float(g, 2.0f)));
    tfc_node *yn = y.node;
    tfc_output z = tfc_identity(g, x), w = tfc_identity(g, z), v = tfc_identity(g, y);
    tfc_op_desc *dc = tfc_op_new(g, "NoOp", "c");
    tfc_op_add_control_input(dc, yn);
    tfc_op_finish(dc);
    CHECK_GRAPH_OK(g);
    uint8_t *bytes = NULL;
    tfc_status *st = tfc_status_new();
    CHECK(tfc_graph_to_graphdef(g, &bytes, len, st) == 0);
    Tensorflow__GraphDef *gd = tensorflow__graph_def__unpack(NULL, *len, bytes);
    free(bytes);
    CHECK(gd != NULL);
    char *saved[64] = {0};
    for (size_t i = 0; gd && i < gd->n_node && i < 64; i++) {
        Tensorflow__NodeDef *nd = gd->node[i];
        const char *op = !strcmp(nd->name, z.node->name)   ? "Bogus1"
                         : !strcmp(nd->name, w.node->name) ? "Bogus2"
                         : !strcmp(nd->name, v.node->name) ? "Bogus1"
                                                           : NULL;
        if (!op) continue;
        saved[i] = nd->op; /* put back before the free below */
        nd->op = (char *)op;
    }
    *len = gd ? tensorflow__graph_def__get_packed_size(gd) : 0;
    bytes = malloc(*len + 1);
    if (gd) tensorflow__graph_def__pack(gd, bytes);
    for (size_t i = 0; gd && i < gd->n_node && i < 64; i++)
        if (saved[i]) gd->node[i]->op = saved[i];
    if (gd) tensorflow__graph_def__free_unpacked(gd, NULL);
    tfc_status_free(st);
    tfc_graph_free(g);
    return bytes;
}

static void test_import_lists_every_unknown_op(void) {
    size_t len;
    uint8_t *bytes = graph_with_bogus_ops(&len);
    tfc_graph *g = tfc_graph_new();
    tfc_status *st = tfc_status_new();
    CHECK(tfc_graph_import_graphdef_v2(g, bytes, len, NULL, st) == -1);
    CHECK(tfc_status_code(st) == TFC_NOT_FOUND);
    const char *msg = tfc_status_message(st);
    CHECK_CONTAINS(msg, "GraphDef uses 2 ops tfc lacks");
    CHECK_CONTAINS(msg, "unknown op 'Bogus1' (node 'Identity_1')");
    CHECK_CONTAINS(msg, "unknown op 'Bogus2' (node 'Identity_2')");
    CHECK(tfc_graph_node_by_name(g, "x") == NULL); /* nothing added */
    tfc_status_free(st);
    tfc_graph_free(g);
    free(bytes);
}

static void test_import_prunes_to_outputs(void) {
    size_t len;
    uint8_t *bytes = graph_with_bogus_ops(&len);
    tfc_status *st = tfc_status_new();
    /* keep y: its producers come, the Bogus nodes never are looked at */
    tfc_graph *g = tfc_graph_new();
    const char *keep[] = {"Identity:0"};
    tfc_import_options o = {0};
    o.keep_outputs = keep;
    o.nkeep_outputs = 1;
    o.prefix = "m";
    CHECK(tfc_graph_import_graphdef_v2(g, bytes, len, &o, st) == 0);
    CHECK_STATUS_OK(st);
    CHECK(tfc_graph_node_by_name(g, "m/x") && tfc_graph_node_by_name(g, "m/Identity") &&
          tfc_graph_node_by_name(g, "m/Mul"));
    CHECK(!tfc_graph_node_by_name(g, "m/Identity_1") && !tfc_graph_node_by_name(g, "m/c"));
    tfc_output x, y;
    CHECK(tfc_graph_output_by_name(g, "m/x:0", &x, st) == 0 &&
          tfc_graph_output_by_name(g, "m/Identity:0", &y, st) == 0);
    float xv[3] = {1, 2, 3};
    int64_t d[1] = {3};
    tfc_tensor *xt = tfc_tensor_from_data(TFC_FLOAT, 1, d, xv);
    tfc_tensor *yt = tfc_test_eval(g, y, &x, &xt, 1);
    CHECK(yt && tfc_test_get(yt, 2) == 6.0);
    tfc_tensor_free(yt);
    tfc_tensor_free(xt);
    tfc_graph_free(g);
    /* a control output keeps what it waits for */
    g = tfc_graph_new();
    const char *keep_c[] = {"^c"};
    o.keep_outputs = keep_c;
    o.prefix = NULL;
    CHECK(tfc_graph_import_graphdef_v2(g, bytes, len, &o, st) == 0);
    CHECK(tfc_graph_node_by_name(g, "c") && tfc_graph_node_by_name(g, "Mul") &&
          !tfc_graph_node_by_name(g, "Identity_2"));
    tfc_graph_free(g);
    /* keeping a Bogus node: only its own unknown op is reported */
    g = tfc_graph_new();
    const char *keep_v[] = {"Identity_3"};
    o.keep_outputs = keep_v;
    CHECK(tfc_graph_import_graphdef_v2(g, bytes, len, &o, st) == -1);
    CHECK_CONTAINS(tfc_status_message(st), "uses 1 op tfc lacks: unknown op 'Bogus1' (node 'Identity_3')");
    tfc_graph_free(g);
    /* an input replaced by the input_map does not pull its producer in */
    g = tfc_graph_new();
    tfc_output c5 = tfc_const_float(g, 5.0f);
    const char *map_names[] = {"Identity_1:0"};
    const char *keep_w[] = {"Identity_2:0"};
    o.keep_outputs = keep_w;
    o.map_names = map_names;
    o.map_values = &c5;
    o.nmap = 1;
    CHECK(tfc_graph_import_graphdef_v2(g, bytes, len, &o, st) == -1);
    CHECK_CONTAINS(tfc_status_message(st), "unknown op 'Bogus2'");
    CHECK(!strstr(tfc_status_message(st), "Bogus1"));
    tfc_graph_free(g);
    /* a name that is no node */
    g = tfc_graph_new();
    const char *keep_bad[] = {"nosuch:0"};
    o.keep_outputs = keep_bad;
    o.nmap = 0;
    CHECK(tfc_graph_import_graphdef_v2(g, bytes, len, &o, st) == -1);
    CHECK(tfc_status_code(st) == TFC_NOT_FOUND);
    CHECK_CONTAINS(tfc_status_message(st), "'nosuch:0' names no node");
    tfc_graph_free(g);
    tfc_status_free(st);
    free(bytes);
}

TFC_TEST_MAIN(T(test_tf1_0_half_plus_three), T(test_tf1_14_half_plus_two),
              T(test_tf2_14_half_plus_two), T(test_export_and_load_back),
              T(test_bad_directories), T(test_read_only), T(test_import_lists_every_unknown_op),
              T(test_import_prunes_to_outputs))
