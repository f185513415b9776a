/* Writes the seed corpus of every harness with tfc's own writers, the way
 * the tests make their files: GraphDefs and MetaGraphs exported from graphs
 * with convolutions, a cond, while loops, a function, gradients and an Adam
 * train op; checkpoints saved by a Saver; the `checkpoint` state file after
 * a few saves; an event file with every summary kind and the graph;
 * TFRecord files; IDX files, plain and gzip'd; tf.train.Examples and
 * TensorProtos.
 *   make_seeds OUT_DIR   ->  OUT_DIR/<harness>/<seed files>
 * Run by fuzz/run.sh before each fuzzing run; exits 1 on any failure. */
#include "fuzz_model.h"
#include "tfc.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

static const char *out_dir;
static int failures;

static void fail(const char *what, const char *why) {
    fprintf(stderr, "make_seeds: %s: %s\n", what, why ? why : "");
    failures++;
}

/* Reads a whole file; NULL when it cannot. */
static uint8_t *slurp(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    uint8_t *buf = NULL;
    *n = 0;
    if (!f) return NULL;
    if (fseek(f, 0, SEEK_END) == 0) {
        long len = ftell(f);
        if (len >= 0 && fseek(f, 0, SEEK_SET) == 0 && (buf = malloc((size_t)len + 1)))
            *n = fread(buf, 1, (size_t)len, f);
    }
    fclose(f);
    return buf;
}

/* Writes OUT_DIR/<harness>/<name>: `n` bytes after an optional header. */
static void seed2(const char *harness, const char *name, const void *head, size_t nhead,
                  const void *data, size_t n) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", out_dir, harness);
    if (mkdir(path, 0777) != 0 && errno != EEXIST) {
        fail(path, strerror(errno));
        return;
    }
    snprintf(path, sizeof path, "%s/%s/%s", out_dir, harness, name);
    FILE *f = fopen(path, "wb");
    if (!f || (nhead && fwrite(head, 1, nhead, f) != nhead) || (n && fwrite(data, 1, n, f) != n) ||
        fclose(f) != 0)
        fail(path, strerror(errno));
}

static void seed(const char *harness, const char *name, const void *data, size_t n) {
    seed2(harness, name, NULL, 0, data, n);
}

static void seed_file(const char *harness, const char *name, const char *path) {
    size_t n;
    uint8_t *b = slurp(path, &n);
    if (!b)
        fail(path, "cannot read");
    else
        seed(harness, name, b, n);
    free(b);
}

/* A scratch directory for the writers; removed at the end. */
static char scratch[] = "/tmp/tfc-seeds-XXXXXX";

/* ---- graphs ---- */

static int add_one(tfc_graph *b, const tfc_output *args, int nargs, void *user, tfc_output *outs) {
    (void)nargs;
    (void)user;
    outs[0] = tfc_add(b, args[0], tfc_const_int32(b, 1));
    return 0;
}

static int below_ten(tfc_graph *b, const tfc_output *args, int nargs, void *user,
                     tfc_output *outs) {
    (void)nargs;
    (void)user;
    outs[0] = tfc_less(b, args[0], tfc_const_int32(b, 10));
    return 0;
}

static int square_it(tfc_graph *b, const tfc_output *args, int nargs, void *user,
                     tfc_output *outs) {
    (void)args;
    (void)nargs;
    outs[0] = tfc_square(b, *(tfc_output *)user);
    return 0;
}

static int negate_it(tfc_graph *b, const tfc_output *args, int nargs, void *user,
                     tfc_output *outs) {
    (void)args;
    (void)nargs;
    outs[0] = tfc_neg(b, *(tfc_output *)user);
    return 0;
}

/* x -> tanh(x) * 2: the body of a defined function. */
static int tanh_twice(tfc_graph *b, const tfc_output *args, int nargs, void *user,
                      tfc_output *outs) {
    (void)nargs;
    (void)user;
    outs[0] = tfc_mul(b, tfc_tanh(b, args[0]), tfc_const_float(b, 2));
    return 0;
}

/* (i, x) -> (i + 1, x * 0.9): a loop whose float variable has a gradient. */
static int shrink_body(tfc_graph *b, const tfc_output *args, int nargs, void *user,
                       tfc_output *outs) {
    (void)nargs;
    (void)user;
    outs[0] = tfc_add(b, args[0], tfc_const_int32(b, 1));
    outs[1] = tfc_mul(b, args[1], tfc_const_float(b, 0.9f));
    return 0;
}

static int shrink_cond(tfc_graph *b, const tfc_output *args, int nargs, void *user,
                       tfc_output *outs) {
    (void)nargs;
    (void)user;
    outs[0] = tfc_less(b, args[0], tfc_const_int32(b, 3));
    return 0;
}

/* Convolution, pooling, concat, softmax, a cond and a while loop (the graph
 * of tests/test_fuzz_files.c). */
static tfc_graph *conv_cond_while_graph(void) {
    tfc_graph *g = tfc_graph_new();
    int64_t xd[] = {-1, 4, 4, 2}, fd[] = {3, 3, 2, 3}, wd[] = {24, 5}, flat[] = {-1, 12};
    tfc_output x = tfc_placeholder(g, "x", TFC_FLOAT, 4, xd);
    tfc_output f = tfc_variable(g, "f", tfc_truncated_normal(g, TFC_FLOAT, 4, fd, 0, 0.1, 0));
    int st1[] = {1, 1, 1, 1}, k[] = {1, 2, 2, 1};
    tfc_output h = tfc_max_pool(g, tfc_relu(g, tfc_conv2d(g, x, f, st1, "SAME")), k, k, "VALID");
    tfc_output w = tfc_variable(g, "w", tfc_random_uniform(g, TFC_FLOAT, 2, wd, -1, 1, 0));
    tfc_output parts[] = {tfc_reshape(g, h, 2, flat), tfc_reshape(g, h, 2, flat)};
    tfc_output y = tfc_matmul(g, tfc_concat(g, parts, 2, 1), w);
    tfc_output s = tfc_reduce_sum(g, tfc_softmax(g, y), NULL, 0, 0);
    tfc_output c;
    tfc_cond(g, tfc_greater(g, s, tfc_const_float(g, 0)), square_it, negate_it, &s, 1, &c);
    tfc_output i0 = tfc_const_int32(g, 0), loop;
    tfc_while_loop(g, below_ten, add_one, NULL, &i0, 1, NULL, 10, &loop);
    return g;
}

/* A two-layer MLP with a softmax cross-entropy loss, trained by Adam with a
 * global step: gradients, slot variables, Apply ops, scalar summaries. */
static tfc_graph *mlp_adam_graph(void) {
    tfc_graph *g = tfc_graph_new();
    int64_t xd[] = {-1, 6}, yd[] = {-1, 3}, w1d[] = {6, 8}, w2d[] = {8, 3}, b1d[] = {8};
    tfc_output x = tfc_placeholder(g, "x", TFC_FLOAT, 2, xd);
    tfc_output labels = tfc_placeholder(g, "labels", TFC_FLOAT, 2, yd);
    tfc_output w1 =
        tfc_variable(g, "dense/kernel", tfc_random_uniform(g, TFC_FLOAT, 2, w1d, -1, 1, 3));
    tfc_output b1 =
        tfc_variable(g, "dense/bias", tfc_random_uniform(g, TFC_FLOAT, 1, b1d, 0, 0, 4));
    tfc_output w2 =
        tfc_variable(g, "logits/kernel", tfc_random_uniform(g, TFC_FLOAT, 2, w2d, -1, 1, 5));
    tfc_output h = tfc_relu(g, tfc_bias_add(g, tfc_matmul(g, x, w1), b1));
    tfc_output loss = tfc_reduce_mean(
        g, tfc_softmax_cross_entropy_with_logits(g, labels, tfc_matmul(g, h, w2)), NULL, 0, 0);
    tfc_scalar_summary(g, "loss", loss);
    tfc_histogram_summary(g, "dense/kernel", w1);
    tfc_optimizer *opt = tfc_adam_optimizer(0.01, 0.9, 0.999, 1e-8);
    tfc_optimizer_minimize(opt, g, loss, NULL, 0, tfc_train_get_or_create_global_step(g));
    tfc_optimizer_free(opt);
    tfc_global_variables_initializer(g);
    return g;
}

/* A defined function called twice, a loop over a float, and the gradients
 * of both (PartitionedCall, While and their gradient functions). */
static tfc_graph *function_loop_grad_graph(void) {
    tfc_graph *g = tfc_graph_new();
    int64_t d[] = {2, 2};
    tfc_output x = tfc_placeholder(g, "x", TFC_FLOAT, 2, d);
    tfc_dtype dt = TFC_FLOAT;
    tfc_shape shape = {2, {2, 2}};
    tfc_function *fn = tfc_function_define(g, "TanhTwice", 1, &dt, &shape, 1, tanh_twice, NULL);
    tfc_output a, b, loop[2];
    tfc_function_call(g, fn, &x, 1, &a);
    tfc_function_call(g, fn, &a, 1, &b);
    tfc_output vars[] = {tfc_const_int32(g, 0), b};
    tfc_while_loop(g, shrink_cond, shrink_body, NULL, vars, 2, NULL, 4, loop);
    tfc_output y = tfc_reduce_sum(g, loop[1], NULL, 0, 0), dx;
    tfc_gradients(g, &y, 1, &x, 1, NULL, &dx);
    tfc_identity(g, dx);
    return g;
}

/* Constants of several dtypes and ranks, a placeholder with an unknown dim. */
static tfc_graph *consts_graph(void) {
    tfc_graph *g = tfc_graph_new();
    int64_t d[] = {2, 3}, pd[] = {-1, 3};
    double v[] = {1, -2, 3.5, 0, 1e-300, 7};
    tfc_tensor *t = tfc_tensor_from_data(TFC_DOUBLE, 2, d, v);
    tfc_output c = tfc_const(g, t);
    tfc_tensor_free(t);
    tfc_output p = tfc_placeholder(g, "p", TFC_DOUBLE, 2, pd);
    tfc_identity(g, tfc_add(g, p, c));
    tfc_const_int64(g, -5);
    tfc_const_int32(g, 7);
    tfc_const_float(g, 0.25f);
    return g;
}

static void write_graph_seeds(void) {
    struct {
        const char *name;
        tfc_graph *(*make)(void);
    } graphs[] = {{"conv_cond_while", conv_cond_while_graph},
                  {"mlp_adam", mlp_adam_graph},
                  {"function_loop_grad", function_loop_grad_graph},
                  {"consts", consts_graph}};
    tfc_status *st = tfc_status_new();
    for (size_t i = 0; i < sizeof graphs / sizeof *graphs; i++) {
        tfc_graph *g = graphs[i].make();
        char name[128], path[1024];
        uint8_t *bytes = NULL;
        size_t len = 0;
        if (tfc_graph_error(g)) {
            fail(graphs[i].name, tfc_graph_error(g));
        } else if (tfc_graph_to_graphdef(g, &bytes, &len, st) != 0) {
            fail(graphs[i].name, tfc_status_message(st));
        } else {
            snprintf(name, sizeof name, "%s.pb", graphs[i].name);
            seed("graphdef", name, bytes, len);
        }
        free(bytes);
        tfc_saver *sv = tfc_graph_error(g) ? NULL : tfc_saver_new(g, NULL, 0, 0);
        snprintf(path, sizeof path, "%s/%s.meta", scratch, graphs[i].name);
        if (!tfc_graph_error(g) && tfc_export_meta_graph(g, sv, path, st) != 0) {
            fail(path, tfc_status_message(st));
        } else if (!tfc_graph_error(g)) {
            snprintf(name, sizeof name, "%s.meta", graphs[i].name);
            seed_file("meta_graph", name, path);
        }
        tfc_saver_free(sv);
        tfc_graph_free(g);
    }
    tfc_status_free(st);
}

/* ---- SavedModels: saved_model.pb of tfc's own export ---- */

static void write_saved_model_seeds(void) {
    tfc_status *st = tfc_status_new();
    tfc_graph *g = consts_graph();
    tfc_output v = tfc_resource_variable(g, "rv", tfc_const_float(g, 1.5f), 1);
    tfc_output r = tfc_read_variable_op(g, v, TFC_FLOAT);
    tfc_node *init = tfc_global_variables_initializer(g);
    tfc_output p, y;
    tfc_session *s = tfc_graph_error(g) ? NULL : tfc_session_new(g, NULL, st);
    char dir[1024], path[1100];
    snprintf(dir, sizeof dir, "%s/saved_model", scratch);
    if (!s || tfc_graph_output_by_name(g, "p:0", &p, st) ||
        tfc_graph_output_by_name(g, "Identity:0", &y, st)) {
        fail("saved_model seed", tfc_graph_error(g) ? tfc_graph_error(g) : tfc_status_message(st));
    } else {
        tfc_session_run(s, NULL, NULL, 0, NULL, 0, NULL, &init, 1, st);
        const char *ik[] = {"p"}, *ok[] = {"y", "v"}, *tags[] = {"serve", "tfc"};
        tfc_output outs[2] = {y, r};
        tfc_signature_def sig = {"serving_default", NULL, 1, ik, &p, 2, ok, outs};
        snprintf(path, sizeof path, "%s/saved_model.pb", dir);
        if (tfc_saved_model_save(dir, g, s, tags, 2, &sig, 1, st) != 0)
            fail(dir, tfc_status_message(st));
        else
            seed_file("saved_model", "consts_resource_var.pb", path);
    }
    tfc_session_free(s);
    tfc_graph_free(g);
    tfc_status_free(st);
}

/* ---- checkpoints and the state file ---- */

/* A checkpoint as fuzz_checkpoint reads it: index length, index, data. */
static void seed_checkpoint(const char *name, const char *prefix) {
    char path[1024];
    size_t ni, nd;
    snprintf(path, sizeof path, "%s.index", prefix);
    uint8_t *idx = slurp(path, &ni);
    snprintf(path, sizeof path, "%s.data-00000-of-00001", prefix);
    uint8_t *dat = slurp(path, &nd);
    if (!idx || !dat) {
        fail(prefix, "checkpoint files missing");
    } else {
        uint8_t *both = malloc(ni + nd + 1);
        uint8_t head[4] = {(uint8_t)ni, (uint8_t)(ni >> 8), (uint8_t)(ni >> 16),
                           (uint8_t)(ni >> 24)};
        if (both) {
            memcpy(both, idx, ni);
            memcpy(both + ni, dat, nd);
            seed2("checkpoint", name, head, 4, both, ni + nd);
        }
        free(both);
    }
    free(idx);
    free(dat);
}

static void write_checkpoint_seeds(void) {
    tfc_status *st = tfc_status_new();
    char prefix[1024], path[1024];
    /* the model the harnesses restore into, saved three times with
     * max_to_keep 2: the state file lists two checkpoints */
    fuzz_model m = fuzz_model_new();
    tfc_saver *sv = tfc_saver_new(m.graph, NULL, 0, 2);
    snprintf(prefix, sizeof prefix, "%s/model.ckpt", scratch);
    const char *written = NULL;
    for (int step = 1; sv && step <= 3; step++)
        if (!(written = tfc_saver_save(sv, m.session, prefix, step, st)))
            fail(prefix, tfc_status_message(st));
    if (written) {
        seed_checkpoint("model", written);
        snprintf(path, sizeof path, "%s.meta", written);
        seed_file("meta_graph", "model_ckpt.meta", path);
        snprintf(path, sizeof path, "%s/checkpoint", scratch);
        seed_file("checkpoint_state", "after_three_saves", path);
    }
    tfc_saver_free(sv);
    fuzz_model_free(&m);

    /* the MLP with its Adam slots: more entries, other names */
    tfc_graph *g = mlp_adam_graph();
    tfc_node *init = tfc_global_variables_initializer(g);
    tfc_session *s = tfc_graph_error(g) ? NULL : tfc_session_new(g, NULL, st);
    if (s && init) tfc_session_run(s, NULL, NULL, 0, NULL, 0, NULL, &init, 1, st);
    sv = s ? tfc_saver_new(g, NULL, 0, 0) : NULL;
    snprintf(prefix, sizeof prefix, "%s/mlp", scratch);
    if (!sv || !init || !(written = tfc_saver_save(sv, s, prefix, -1, st)))
        fail(prefix, tfc_graph_error(g) ? tfc_graph_error(g) : tfc_status_message(st));
    else
        seed_checkpoint("mlp_adam", written);
    tfc_saver_free(sv);
    tfc_session_free(s);
    tfc_graph_free(g);

    /* state files as TensorFlow and people write them */
    static const char tf_state[] = "model_checkpoint_path: \"model.ckpt-3\"\n"
                                   "all_model_checkpoint_paths: \"model.ckpt-1\"\n"
                                   "all_model_checkpoint_paths: \"model.ckpt-2\"\n"
                                   "all_model_checkpoint_paths: \"model.ckpt-3\"\n"
                                   "all_model_checkpoint_timestamps: 1700000000.5\n"
                                   "last_preserved_timestamp: 1699999999.25\n";
    seed("checkpoint_state", "tensorflow", tf_state, sizeof tf_state - 1);
    static const char escaped[] = "  model_checkpoint_path:\t'model.ckpt'\n"
                                  "all_model_checkpoint_paths: \"sub\\057x\\\"y\\n\"\n"
                                  "all_model_checkpoint_paths: \"model.ckpt\"\n";
    seed("checkpoint_state", "escapes", escaped, sizeof escaped - 1);
    tfc_status_free(st);
}

/* ---- events and TFRecord ---- */

static void write_event_seeds(void) {
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/logs", scratch);
    tfc_graph *g = tfc_graph_new();
    int64_t id[] = {2, 3, 4, 3}, hd[] = {50};
    tfc_output x = tfc_placeholder(g, "x", TFC_FLOAT, 0, NULL);
    tfc_scalar_summary(g, "loss", tfc_square(g, x));
    tfc_histogram_summary(g, "weights", tfc_random_uniform(g, TFC_FLOAT, 1, hd, -2, 2, 7));
    tfc_image_summary(g, "input", tfc_random_uniform(g, TFC_FLOAT, 4, id, 0, 1, 8), 2);
    tfc_text_summary(g, "note", "fuzz seed");
    tfc_output all = tfc_merge_all_summaries(g);
    tfc_status *st = tfc_status_new();
    tfc_summary_writer *w = tfc_graph_error(g) ? NULL : tfc_summary_writer_new(dir, g, 10, 100, st);
    tfc_session *s = w ? tfc_session_new(g, NULL, st) : NULL;
    for (int step = 0; s && step < 3; step++) {
        tfc_tensor *xv = tfc_tensor_scalar_float((float)step);
        tfc_tensor *sv = tfc_session_run1(s, &x, &xv, 1, all, st);
        if (!sv || tfc_summary_writer_add_summary(w, sv, step, st) != 0)
            fail("summary", tfc_status_message(st));
        tfc_summary_writer_add_scalar(w, "direct", step * 0.5, step, st);
        tfc_tensor_free(sv);
        tfc_tensor_free(xv);
    }
    if (!s) {
        fail("summary writer", tfc_graph_error(g) ? tfc_graph_error(g) : tfc_status_message(st));
    } else {
        char path[1024];
        snprintf(path, sizeof path, "%s", tfc_summary_writer_path(w));
        tfc_summary_writer_close(w, st);
        w = NULL;
        seed_file("events", "summaries.tfevents", path);
    }
    tfc_summary_writer_close(w, NULL);
    tfc_session_free(s);
    tfc_graph_free(g);

    /* records: empty, short, long, several */
    char path[1024];
    snprintf(path, sizeof path, "%s/data.tfrecord", scratch);
    tfc_record_writer *rw = tfc_record_writer_open(path, 0, st);
    uint8_t big[3000];
    for (size_t i = 0; i < sizeof big; i++) big[i] = (uint8_t)(i * 131 + 7);
    if (!rw || tfc_record_writer_write(rw, "", 0, st) ||
        tfc_record_writer_write(rw, "hello", 5, st) ||
        tfc_record_writer_write(rw, big, sizeof big, st) || tfc_record_writer_close(rw, st)) {
        fail(path, tfc_status_message(st));
    } else {
        seed_file("tfrecord", "three_records", path);
        seed_file("tfrecord", "empty_file", "/dev/null");
    }
    tfc_status_free(st);
}

/* ---- GIF, BMP and WAV for fuzz_image_decode's modes 128 + (0 GIF, 1
 * BMP, 2 DecodeImage, 3 WAV): a 1x1 GIF with a transparent pixel, a 3x2
 * 24-bit BMP with padded rows, a WAV from EncodeWav ---- */

static void write_other_image_seeds(void) {
    static const uint8_t gif[] = "GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00"
                                 "!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01"
                                 "\x00\x00\x02\x02D\x01\x00;";
    static uint8_t bmp[54 + 2 * 12] = {'B', 'M', 78, 0, 0, 0, 0, 0, 0, 0, 54, 0, 0, 0, 40, 0,
                                       0,   0,   3,  0, 0, 0, 2, 0, 0, 0, 1,  0, 24};
    for (int i = 54; i < (int)sizeof bmp; i++) bmp[i] = (uint8_t)(i * 37);
    static const uint8_t m_gif = 128, m_gif_any = 128 | 2 | 16, m_bmp = 128 | 1 | 12,
                         m_bmp_any = 128 | 2 | 32, m_wav = 128 | 3 | 8 | 16;
    seed2("image_decode", "one.gif", &m_gif, 1, gif, sizeof gif - 1);
    seed2("image_decode", "one_any.gif", &m_gif_any, 1, gif, sizeof gif - 1);
    seed2("image_decode", "rgb.bmp", &m_bmp, 1, bmp, sizeof bmp);
    seed2("image_decode", "rgb_any.bmp", &m_bmp_any, 1, bmp, sizeof bmp);
    tfc_graph *g = tfc_graph_new();
    float x[10];
    for (int i = 0; i < 10; i++) x[i] = (float)i / 10 - 0.5f;
    int64_t dims[2] = {5, 2};
    tfc_tensor *xt = tfc_tensor_from_data(TFC_FLOAT, 2, dims, x);
    tfc_output wav = tfc_audio_encode_wav(g, tfc_const(g, xt), tfc_const_int32(g, 8000));
    tfc_tensor_free(xt);
    tfc_status *st = tfc_status_new();
    tfc_session *s = tfc_session_new(g, NULL, st);
    tfc_tensor *res = NULL;
    if (s) tfc_session_run(s, NULL, NULL, 0, &wav, 1, &res, NULL, 0, st);
    if (!res) fail("wav seed", tfc_status_message(st));
    size_t n = 0;
    const char *bytes = res ? tfc_string_tensor_get(res, 0, &n) : NULL;
    if (bytes) seed2("image_decode", "stereo.wav", &m_wav, 1, bytes, n);
    tfc_tensor_free(res);
    tfc_session_free(s);
    tfc_status_free(st);
    tfc_graph_free(g);
}

/* ---- images: PNGs and JPEGs from EncodePng and EncodeJpeg, behind
 * fuzz_image_decode's mode byte ---- */

static void write_image_seeds(void) {
    tfc_graph *g = tfc_graph_new();
    int64_t dims[3] = {7, 5, 3}, gdims[3] = {4, 9, 1};
    tfc_output rgb = tfc_placeholder(g, "rgb", TFC_UINT8, 3, dims);
    tfc_output gray = tfc_placeholder(g, "gray", TFC_UINT8, 3, gdims);
    tfc_output outs[4] = {tfc_image_encode_png(g, rgb, -1), tfc_image_encode_png(g, gray, 9),
                          tfc_image_encode_jpeg(g, rgb, "", 90),
                          tfc_image_encode_jpeg(g, gray, "grayscale", 50)};
    static const char *const names[4] = {"rgb.png", "gray.png", "rgb.jpg", "gray.jpg"};
    static const uint8_t modes[4] = {0, 8 | 6, 1, 1 | 16 | 64}; /* see fuzz_image_decode.c */
    tfc_status *st = tfc_status_new();
    tfc_session *s = tfc_session_new(g, NULL, st);
    tfc_tensor *in[2] = {tfc_tensor_new(TFC_UINT8, 3, dims), tfc_tensor_new(TFC_UINT8, 3, gdims)};
    for (int k = 0; k < 2; k++) {
        uint8_t *p = tfc_tensor_data(in[k]);
        for (size_t i = 0; i < tfc_tensor_nbytes(in[k]); i++) p[i] = (uint8_t)(i * 29 + k * 101);
    }
    tfc_output feeds[2] = {rgb, gray};
    tfc_tensor *res[4] = {NULL};
    if (s) tfc_session_run(s, feeds, in, 2, outs, 4, res, NULL, 0, st);
    if (!s || !res[0]) fail("image seeds", tfc_status_message(st));
    for (int k = 0; k < 4 && res[k]; k++) {
        size_t n = 0;
        const char *bytes = tfc_string_tensor_get(res[k], 0, &n);
        seed2("image_decode", names[k], &modes[k], 1, bytes, n);
        tfc_tensor_free(res[k]);
    }
    tfc_tensor_free(in[0]);
    tfc_tensor_free(in[1]);
    tfc_session_free(s);
    tfc_status_free(st);
    tfc_graph_free(g);
    write_other_image_seeds();
}

/* ---- IDX ---- */

static void write_idx_seeds(void) {
    static uint8_t images[16 + 60] = {0, 0, 8, 3, 0, 0, 0, 4, 0, 0, 0, 5, 0, 0, 0, 3};
    static uint8_t labels[8 + 10] = {0, 0, 8, 1, 0, 0, 0, 10};
    static const uint8_t scalar[4 + 1] = {0, 0, 8, 0, 42};
    static const uint8_t floats[8 + 8] = {0, 0, 0x0d, 1, 0, 0, 0, 2};
    for (int i = 0; i < 60; i++) images[16 + i] = (uint8_t)(i * 37);
    for (int i = 0; i < 10; i++) labels[8 + i] = (uint8_t)i;
    struct {
        const char *name;
        const uint8_t *bytes;
        size_t n;
    } files[] = {{"images_idx3", images, sizeof images},
                 {"labels_idx1", labels, sizeof labels},
                 {"scalar_idx0", scalar, sizeof scalar},
                 {"float_idx1", floats, sizeof floats}};
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
        char name[64];
        seed("idx", files[i].name, files[i].bytes, files[i].n);
        /* fuzz_idx_gz: [mode][cut][payload]; mode 1 compresses the payload */
        static const uint8_t compress[2] = {1, 0}, cut_half[2] = {3, 128}, as_is[2] = {0, 0};
        snprintf(name, sizeof name, "%s_compressed", files[i].name);
        seed2("idx_gz", name, compress, 2, files[i].bytes, files[i].n);
        snprintf(name, sizeof name, "%s_cut", files[i].name);
        seed2("idx_gz", name, cut_half, 2, files[i].bytes, files[i].n);
        /* a real .gz file, written by zlib as a user's tool would */
        char path[1024];
        snprintf(path, sizeof path, "%s/%s.gz", scratch, files[i].name);
        gzFile z = gzopen(path, "wb");
        if (!z || gzwrite(z, files[i].bytes, (unsigned)files[i].n) != (int)files[i].n ||
            gzclose(z) != Z_OK) {
            fail(path, "gzip write failed");
            continue;
        }
        size_t n;
        uint8_t *gz = slurp(path, &n);
        snprintf(name, sizeof name, "%s_gz_file", files[i].name);
        if (gz) seed2("idx_gz", name, as_is, 2, gz, n);
        free(gz);
    }
}

/* ---- tf.train.Examples for fuzz_example's modes: one record (mode 0),
 * two of one length (1), a single one (8), one with the required feature
 * (4); TensorProtos from SerializeTensor for ParseTensor (128 + dtype) ---- */

static uint8_t *example_bytes(int with_required, int64_t label, size_t *len) {
    tfc_example *ex = tfc_example_new();
    const float f[2] = {0.25f, -3.0f}, vf[3] = {1, 2, 3};
    const int64_t vi[2] = {label, -label}, req = 11;
    const void *bytes[2] = {"ab", "cde"};
    size_t nbytes[2] = {2, 3};
    tfc_example_add_floats(ex, "f", f, 2);
    tfc_example_add_int64s(ex, "i", &label, 1);
    tfc_example_add_bytes(ex, "s", bytes, nbytes, 1);
    tfc_example_add_floats(ex, "vf", vf, 3);
    tfc_example_add_int64s(ex, "vi", vi, 2);
    tfc_example_add_bytes(ex, "vs", bytes, nbytes, 2);
    if (with_required) tfc_example_add_int64s(ex, "req", &req, 1);
    uint8_t *b = tfc_example_serialize(ex, len);
    tfc_example_free(ex);
    return b;
}

static void write_example_seeds(void) {
    size_t n1, n2;
    uint8_t *a = example_bytes(0, 5, &n1), *b = example_bytes(0, 6, &n2);
    uint8_t *r = NULL;
    if (!a || !b || n1 != n2) {
        fail("example", "could not serialize two Examples of one length");
    } else {
        uint8_t two[2048];
        memcpy(two, a, n1);
        memcpy(two + n1, b, n2);
        seed2("example", "one_record", "\x00", 1, a, n1);
        seed2("example", "two_records", "\x01", 1, two, n1 + n2);
        seed2("example", "single", "\x08", 1, a, n1);
        size_t nr;
        if ((r = example_bytes(1, 5, &nr))) seed2("example", "required", "\x04", 1, r, nr);
    }
    free(a);
    free(b);
    free(r);
    /* TensorProtos: a float matrix and a string vector */
    tfc_status *st = tfc_status_new();
    tfc_graph *g = tfc_graph_new();
    const float m[6] = {1, 2, 3, 4, 5, 6};
    int64_t dims[2] = {2, 3}, three = 3;
    const char *strs[3] = {"", "x", "yz"};
    size_t lens[3] = {0, 1, 2};
    tfc_output protos[2] = {tfc_serialize_tensor(g, tfc_const_data(g, TFC_FLOAT, 2, dims, m)),
                            tfc_serialize_tensor(g, tfc_const_strings(g, 1, &three, strs, lens))};
    tfc_session *s = tfc_graph_error(g) ? NULL : tfc_session_new(g, NULL, st);
    tfc_tensor *out[2] = {NULL, NULL};
    if (s) tfc_session_run(s, NULL, NULL, 0, protos, 2, out, NULL, 0, st);
    if (!out[0] || !out[1]) {
        fail("SerializeTensor", tfc_graph_error(g) ? tfc_graph_error(g) : tfc_status_message(st));
    } else {
        size_t len;
        const char *p = tfc_string_tensor_get(out[0], 0, &len);
        seed2("example", "tensor_float", "\x80", 1, p, len);
        p = tfc_string_tensor_get(out[1], 0, &len);
        seed2("example", "tensor_string", "\x82", 1, p, len);
    }
    for (int i = 0; i < 2; i++) tfc_tensor_free(out[i]);
    tfc_session_free(s);
    tfc_graph_free(g);
    /* a GraphDef with ParseSingleExample: list(string) attrs for fuzz_graphdef */
    g = tfc_graph_new();
    int64_t two = 2;
    tfc_parse_feature f[2] = {{"x", TFC_FLOAT, 0, 1, &two, {NULL, 0}},
                              {"tags", TFC_STRING, 1, 0, NULL, {NULL, 0}}};
    tfc_output parsed[4];
    uint8_t *bytes = NULL;
    size_t len = 0;
    if (tfc_parse_single_example(g, tfc_placeholder(g, "record", TFC_STRING, 0, NULL), f, 2,
                                 parsed) ||
        tfc_graph_to_graphdef(g, &bytes, &len, st))
        fail("ParseSingleExample graph",
             tfc_graph_error(g) ? tfc_graph_error(g) : tfc_status_message(st));
    else
        seed("graphdef", "parse_single_example.pb", bytes, len);
    free(bytes);
    tfc_graph_free(g);
    tfc_status_free(st);
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s OUT_DIR\n", argv[0]);
        return 2;
    }
    out_dir = argv[1];
    if (mkdir(out_dir, 0777) != 0 && errno != EEXIST) {
        fail(out_dir, strerror(errno));
        return 1;
    }
    if (!mkdtemp(scratch)) {
        fail("mkdtemp", strerror(errno));
        return 1;
    }
    write_graph_seeds();
    write_saved_model_seeds();
    write_checkpoint_seeds();
    write_event_seeds();
    write_idx_seeds();
    write_image_seeds();
    write_example_seeds();
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", scratch);
    if (system(cmd) != 0) fail(scratch, "could not remove");
    return failures ? 1 : 0;
}
