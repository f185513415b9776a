/* Summary ops (TensorFlow's signatures): each output, a serialized Summary
 * in a string scalar, goes through the summary writer into an event file,
 * is read back with the event reader and compared with values computed
 * here: scalars (one tag or several), histogram buckets against TF's
 * bucketing and empty-bucket rules written out by hand, PNG pixels decoded
 * with libpng (bad_color for non-finite pixels), text through
 * TensorSummaryV2 with the "text" plugin, merging, the GraphDef's summary
 * nodes read back with TF's inputs and attrs, and misuse errors naming the
 * node. */
#include "core/tensor.h"
#include "formats/events.h"
#include "graph/graph.h"
#include "harness.h"
#include "scratch_dir.h"

#include <dirent.h>
#include <float.h>
#include <png.h>
#include <stdlib.h>
#include <unistd.h>

/* Runs `fetch`, writes it as one summary event and hands back the decoded
 * event from a reader (caller closes the reader). */
static tfc_event_reader *eval_summary(tfc_graph *g, tfc_output fetch, const tfc_output *feeds,
                                      tfc_tensor *const *vals, int nfeeds, tfc_event *ev) {
    tfc_status *st = tfc_status_new();
    tfc_tensor *t = tfc_test_eval(g, fetch, feeds, vals, nfeeds);
    CHECK(t && tfc_tensor_dtype(t) == TFC_STRING && tfc_tensor_rank(t) == 0);
    tfc_event_reader *r = NULL;
    if (t) {
        tfc_summary_writer *w = tfc_summary_writer_new(tmpdir, NULL, 0, 0, st);
        CHECK_STATUS_OK(st);
        CHECK(tfc_summary_writer_add_summary(w, t, 5, st) == 0);
        char path[512];
        snprintf(path, sizeof path, "%s", tfc_summary_writer_path(w));
        CHECK(tfc_summary_writer_close(w, st) == 0);
        r = tfc_event_reader_open(path, st);
        remove(path);
        CHECK(tfc_event_reader_next(r, ev, st) == 1); /* file_version */
        CHECK(tfc_event_reader_next(r, ev, st) == 1);
        CHECK(ev->step == 5);
    }
    tfc_tensor_free(t);
    tfc_status_free(st);
    return r;
}

/* Runs `fetch` expecting an error containing `want1` and `want2`. */
static void expect_run_error(tfc_graph *g, tfc_output fetch, const tfc_output *feeds,
                             tfc_tensor *const *vals, int n, const char *want1,
                             const char *want2) {
    tfc_status *st = tfc_status_new();
    tfc_session *s = tfc_session_new(g, NULL, st);
    tfc_tensor *t = tfc_session_run1(s, feeds, vals, n, fetch, st);
    CHECK(t == NULL);
    CHECK_CONTAINS(tfc_status_message(st), want1);
    if (want2) CHECK_CONTAINS(tfc_status_message(st), want2);
    tfc_tensor_free(t);
    tfc_session_free(s);
    tfc_status_free(st);
}

static void test_scalar_summary(void) {
    make_tmpdir("summ");
    static const tfc_dtype dts[] = {TFC_FLOAT, TFC_DOUBLE, TFC_INT32, TFC_INT64, TFC_UINT8};
    tfc_test_seed(1);
    for (int k = 0; k < 5; k++) {
        tfc_graph *g = tfc_graph_new();
        tfc_tensor *v = tfc_test_random_tensor(dts[k], 0, NULL, dts[k] == TFC_UINT8 ? 0 : -100,
                                               100);
        tfc_output x = tfc_placeholder(g, "x", dts[k], 0, NULL);
        tfc_name_scope_push(g, "loss");
        tfc_output s = tfc_scalar_summary(g, "total", x);
        tfc_name_scope_pop(g);
        CHECK_GRAPH_OK(g);
        /* named as tf.summary.scalar: node = tag, its tags Const beneath it */
        CHECK(!strcmp(tfc_node_name(s.node), "loss/total"));
        CHECK(!strcmp(tfc_node_type(s.node), "ScalarSummary"));
        CHECK(!strcmp(tfc_node_name(tfc_node_input(s.node, 0).node), "loss/total/tags"));
        tfc_event ev;
        tfc_event_reader *r = eval_summary(g, s, &x, &v, 1, &ev);
        if (r) {
            CHECK(ev.nvalues == 1);
            CHECK(!strcmp(ev.values[0].tag, "loss/total"));
            CHECK(ev.values[0].kind == TFC_SUMMARY_SCALAR);
            CHECK(ev.values[0].scalar == (float)tfc_test_get(v, 0));
        }
        tfc_event_reader_close(r);
        tfc_tensor_free(v);
        tfc_graph_free(g);
    }
    /* the op itself: tags and values of one shape give one value per pair */
    tfc_graph *g = tfc_graph_new();
    const char *tags[] = {"a", "b/c", "d"};
    int64_t three = 3;
    tfc_output tg = tfc_const_strings(g, 1, &three, tags, NULL);
    tfc_output vals = tfc_const_data(g, TFC_DOUBLE, 1, &three, (double[]){1.5, -2.25, 1e30});
    tfc_op_desc *d = tfc_op_new(g, "ScalarSummary", "many");
    tfc_op_add_input(d, tg);
    tfc_op_add_input(d, vals);
    tfc_output many = tfc_out(tfc_op_finish(d), 0);
    CHECK_GRAPH_OK(g);
    tfc_event ev;
    tfc_event_reader *r = eval_summary(g, many, NULL, NULL, 0, &ev);
    if (r) {
        CHECK(ev.nvalues == 3);
        for (int i = 0; i < 3 && i < ev.nvalues; i++) CHECK(!strcmp(ev.values[i].tag, tags[i]));
        CHECK(ev.nvalues == 3 && ev.values[0].scalar == 1.5 && ev.values[1].scalar == -2.25 &&
              ev.values[2].scalar == (float)1e30);
    }
    tfc_event_reader_close(r);
    /* shapes that differ: at build time when known, else at run time */
    int64_t two = 2;
    tfc_with_name(g, "mismatch");
    d = tfc_op_new(g, "ScalarSummary", NULL);
    tfc_op_add_input(d, tg);
    tfc_op_add_input(d, tfc_const_data(g, TFC_FLOAT, 1, &two, (float[]){1, 2}));
    CHECK(tfc_op_finish(d) == NULL);
    CHECK_CONTAINS(tfc_graph_error(g), "mismatch");
    CHECK_CONTAINS(tfc_graph_error(g), "tags and values not the same shape");
    tfc_graph_clear_error(g);
    tfc_output anyv = tfc_placeholder(g, "anyv", TFC_FLOAT, -1, NULL);
    tfc_with_name(g, "late");
    tfc_output late = tfc_scalar_summary(g, "late_tag", anyv);
    CHECK_GRAPH_OK(g);
    tfc_tensor *pair = tfc_tensor_new(TFC_FLOAT, 1, &two);
    expect_run_error(g, late, &anyv, &pair, 1, "tags and values not the same shape: [] != [2]",
                     "(tag 'late_tag')");
    CHECK(!strcmp(tfc_node_name(late.node), "late")); /* tfc_with_name names the node */
    tfc_tensor_free(pair);
    /* misuse: non-scalar value, NULL tag, a string value, tags not strings */
    int64_t d23[] = {2, 3};
    tfc_output x = tfc_placeholder(g, "x", TFC_FLOAT, 2, d23);
    tfc_with_name(g, "bad_scalar");
    CHECK(tfc_scalar_summary(g, "t", x).node == NULL);
    CHECK_CONTAINS(tfc_graph_error(g), "bad_scalar");
    CHECK_CONTAINS(tfc_graph_error(g), "not the same shape");
    tfc_graph_clear_error(g);
    CHECK(tfc_scalar_summary(g, NULL, x).node == NULL);
    CHECK_CONTAINS(tfc_graph_error(g), "tag is NULL");
    tfc_graph_clear_error(g);
    CHECK(tfc_scalar_summary(g, "s", tfc_const_string(g, "no")).node == NULL);
    CHECK_CONTAINS(tfc_graph_error(g), "real number");
    tfc_graph_clear_error(g);
    d = tfc_op_new(g, "ScalarSummary", "int_tags");
    tfc_op_add_input(d, tfc_const_float(g, 1));
    tfc_op_add_input(d, tfc_const_float(g, 1));
    CHECK(tfc_op_finish(d) == NULL);
    CHECK_CONTAINS(tfc_graph_error(g), "int_tags");
    CHECK_CONTAINS(tfc_graph_error(g), "'tags') must be a string tensor");
    tfc_graph_free(g);
    /* two summaries of one tag get TF's unique names, so they merge */
    g = tfc_graph_new();
    tfc_output a = tfc_scalar_summary(g, "loss", tfc_const_float(g, 1));
    tfc_output b = tfc_scalar_summary(g, "loss", tfc_const_float(g, 2));
    tfc_output m = tfc_merge_all_summaries(g);
    CHECK_GRAPH_OK(g);
    CHECK(!strcmp(tfc_node_name(a.node), "loss") && !strcmp(tfc_node_name(b.node), "loss_1"));
    r = eval_summary(g, m, NULL, NULL, 0, &ev);
    if (r) {
        CHECK(ev.nvalues == 2);
        CHECK(ev.nvalues == 2 && !strcmp(ev.values[0].tag, "loss") &&
              !strcmp(ev.values[1].tag, "loss_1") && ev.values[1].scalar == 2);
    }
    tfc_event_reader_close(r);
    tfc_graph_free(g);
    remove_tmpdir();
}

/* TF's bucket of v: the first limit greater than v (std::upper_bound). */
static int ref_bucket(const double *l, int n, double v) {
    for (int i = 0; i < n; i++)
        if (v < l[i]) return i;
    return n - 1;
}

/* TF's EncodeToProto(preserve_zero_buckets = false), written out plainly:
 * a non-empty bucket is listed as it is; a run of empty buckets becomes one
 * entry (the run's last limit, 0). Returns the number of entries. */
static int ref_encode(const double *l, const double *counts, int n, double *lim, double *cnt) {
    int k = 0;
    for (int i = 0; i < n; i++) {
        if (counts[i] > 0) {
            lim[k] = l[i];
            cnt[k++] = counts[i];
            continue;
        }
        int j = i;
        while (j + 1 < n && counts[j + 1] == 0) j++;
        lim[k] = l[j];
        cnt[k++] = 0;
        i = j;
    }
    return k;
}

static void test_histogram_edges(void) {
    const double *l;
    int n = tfc_histogram_default_limits(&l);
    CHECK(n > 1000 && n % 2 == 1);
    CHECK(l[0] == -DBL_MAX && l[n - 1] == DBL_MAX && l[n / 2] == 0.0);
    CHECK_NEAR(l[n / 2 + 1], 1e-12, 1e-9);
    CHECK_NEAR(l[n / 2 + 2], 1.1e-12, 1e-9);
    CHECK(l[n - 2] < 1e20 && l[n - 2] * 1.1 >= 1e20);
    for (int i = 1; i < n; i++) CHECK(l[i] > l[i - 1]);
    for (int i = 0; i < n; i++) CHECK(l[i] == -l[n - 1 - i]);
}

/* Histogram of `v` through the op, read back. */
static tfc_event_reader *histogram_of(tfc_tensor *v, tfc_event *ev) {
    tfc_graph *g = tfc_graph_new();
    tfc_output x = tfc_placeholder(g, "w", tfc_tensor_dtype(v), -1, NULL);
    tfc_output s = tfc_histogram_summary(g, "layer/w", x);
    CHECK_GRAPH_OK(g);
    tfc_event_reader *r = eval_summary(g, s, &x, &v, 1, ev);
    tfc_graph_free(g);
    return r;
}

static void test_histogram_summary(void) {
    make_tmpdir("summ");
    const double *lim;
    int nl = tfc_histogram_default_limits(&lim);
    double *want_l = malloc(sizeof(double) * (size_t)nl), *want_c = malloc(sizeof(double) * (size_t)nl);
    static const int ranks[] = {1, 2, 3, 1};
    static const int64_t dims[][3] = {{50}, {7, 9}, {2, 3, 4}, {200}};
    static const tfc_dtype dts[] = {TFC_FLOAT, TFC_DOUBLE, TFC_INT32, TFC_INT64};
    tfc_test_seed(2);
    for (int k = 0; k < 4; k++) {
        tfc_tensor *v = tfc_test_random_tensor(dts[k], ranks[k], dims[k], -30, 30);
        tfc_event ev;
        tfc_event_reader *r = histogram_of(v, &ev);
        int64_t n = tfc_tensor_num_elements(v);
        double *counts = calloc((size_t)nl, sizeof *counts);
        double mn = DBL_MAX, mx = -DBL_MAX, sum = 0, sum2 = 0;
        for (int64_t i = 0; i < n; i++) {
            double e = tfc_test_get(v, i);
            counts[ref_bucket(lim, nl, e)] += 1;
            mn = fmin(mn, e);
            mx = fmax(mx, e);
            sum += e;
            sum2 += e * e;
        }
        int nw = ref_encode(lim, counts, nl, want_l, want_c);
        if (r) {
            const tfc_summary_value *sv = &ev.values[0];
            CHECK(ev.nvalues == 1 && sv->kind == TFC_SUMMARY_HISTOGRAM);
            CHECK(!strcmp(sv->tag, "layer/w"));
            CHECK(sv->hmin == mn && sv->hmax == mx && sv->hnum == (double)n);
            CHECK_NEAR(sv->hsum, sum, 1e-12);
            CHECK_NEAR(sv->hsum_squares, sum2, 1e-12);
            CHECK_MSG(sv->nbuckets == nw, "%d buckets, TF's rule gives %d", sv->nbuckets, nw);
            int bad = 0;
            for (int b = 0; b < sv->nbuckets && b < nw; b++)
                bad += sv->bucket_limit[b] != want_l[b] || sv->bucket[b] != want_c[b];
            CHECK_MSG(bad == 0, "%d bucket entries differ (case %d)", bad, k);
        }
        free(counts);
        tfc_event_reader_close(r);
        tfc_tensor_free(v);
    }
    /* by hand: {0} -> [empties up to limit 0.0]: 0, [0, 1e-12): 1, [.., DBL_MAX]: 0 */
    tfc_tensor *zero = tfc_tensor_scalar_float(0.0f);
    tfc_event ev;
    tfc_event_reader *r = histogram_of(zero, &ev);
    if (r) {
        const tfc_summary_value *sv = &ev.values[0];
        CHECK(sv->nbuckets == 3);
        CHECK(sv->nbuckets == 3 && sv->bucket_limit[0] == 0.0 && sv->bucket[0] == 0 &&
              sv->bucket_limit[1] == lim[nl / 2 + 1] && sv->bucket[1] == 1 &&
              sv->bucket_limit[2] == DBL_MAX && sv->bucket[2] == 0);
        CHECK(sv->hmin == 0 && sv->hmax == 0 && sv->hnum == 1);
    }
    tfc_event_reader_close(r);
    tfc_tensor_free(zero);
    /* no values: the single entry {DBL_MAX: 0}, min DBL_MAX, max -DBL_MAX */
    int64_t none = 0;
    tfc_tensor *empty = tfc_tensor_new(TFC_FLOAT, 1, &none);
    r = histogram_of(empty, &ev);
    if (r) {
        const tfc_summary_value *sv = &ev.values[0];
        CHECK(sv->nbuckets == 1 && sv->bucket_limit[0] == DBL_MAX && sv->bucket[0] == 0);
        CHECK(sv->hnum == 0 && sv->hmin == DBL_MAX && sv->hmax == -DBL_MAX);
    }
    tfc_event_reader_close(r);
    tfc_tensor_free(empty);
    free(want_l);
    free(want_c);
    /* NaN and infinity are run-time errors naming the node */
    for (int k = 0; k < 2; k++) {
        tfc_graph *g = tfc_graph_new();
        int64_t d = 3;
        double bad[] = {1, k ? INFINITY : NAN, 2};
        tfc_tensor *v = tfc_tensor_from_data(TFC_DOUBLE, 1, &d, bad);
        tfc_output x = tfc_placeholder(g, "x", TFC_DOUBLE, 1, &d);
        tfc_with_name(g, "hist");
        tfc_output s = tfc_histogram_summary(g, "h", x);
        expect_run_error(g, s, &x, &v, 1,
                         k ? "Infinity in summary histogram for: hist"
                           : "Nan in summary histogram for: hist",
                         NULL);
        tfc_tensor_free(v);
        tfc_graph_free(g);
    }
    remove_tmpdir();
}

/* TF's float-image rule, written out per pixel in float as TF computes it
 * for float input (double input: the same in double). */
static uint8_t ref_pixel(double v, float mn, float mx, int is_float) {
    float scale, off;
    if (mn < 0) {
        float m = fabsf(mn) > fabsf(mx) ? fabsf(mn) : fabsf(mx);
        scale = 127.0f / m;
        off = 128;
    } else {
        scale = 255.0f / mx;
        off = 0;
    }
    double p = is_float ? (double)((float)v * scale + off) : v * (double)scale + (double)off;
    return (uint8_t)(p > 255 ? 255 : p < 0 ? 0 : p);
}

static void test_image_summary(void) {
    make_tmpdir("summ");
    static const int64_t dims[][4] = {{2, 5, 4, 3}, {1, 3, 6, 1}, {3, 2, 2, 4}, {1, 3, 3, 3}};
    static const tfc_dtype dts[] = {TFC_FLOAT, TFC_DOUBLE, TFC_UINT8, TFC_FLOAT};
    static const double lo[] = {-1, 0, 0, 0}, hi[] = {1, 3, 256, 2};
    static const int maxim[] = {3, 1, 2, 1};
    tfc_test_seed(3);
    for (int k = 0; k < 4; k++) {
        tfc_graph *g = tfc_graph_new();
        tfc_tensor *v = tfc_test_random_tensor(dts[k], 4, dims[k], lo[k], hi[k]);
        int64_t b = dims[k][0], h = dims[k][1], w = dims[k][2], c = dims[k][3];
        if (k == 3) /* a NaN and an infinity: their pixels become bad_color (red) */
            ((float *)tfc_tensor_data(v))[4] = NAN, ((float *)tfc_tensor_data(v))[9] = INFINITY;
        tfc_output x = tfc_placeholder(g, "img", dts[k], 4, dims[k]);
        tfc_output s = tfc_image_summary(g, "input", x, maxim[k]);
        tfc_event ev;
        tfc_event_reader *r = eval_summary(g, s, &x, &v, 1, &ev);
        int64_t want = b < maxim[k] ? b : maxim[k];
        if (r) CHECK(ev.nvalues == want);
        for (int i = 0; r && i < ev.nvalues; i++) {
            const tfc_summary_value *sv = &ev.values[i];
            char tag[64];
            if (maxim[k] > 1) snprintf(tag, sizeof tag, "input/image/%d", i);
            else snprintf(tag, sizeof tag, "input/image");
            CHECK(!strcmp(sv->tag, tag));
            CHECK(sv->kind == TFC_SUMMARY_IMAGE && sv->height == h && sv->width == w &&
                  sv->colorspace == c);
            png_image im;
            memset(&im, 0, sizeof im);
            im.version = PNG_IMAGE_VERSION;
            CHECK(png_image_begin_read_from_memory(&im, sv->data, sv->size));
            im.format = c == 1 ? PNG_FORMAT_GRAY : c == 3 ? PNG_FORMAT_RGB : PNG_FORMAT_RGBA;
            uint8_t *pix = malloc((size_t)(h * w * c));
            CHECK(png_image_finish_read(&im, NULL, pix, 0, NULL));
            int64_t per = h * w * c;
            float mn = INFINITY, mx = -INFINITY;
            for (int64_t p = 0; p < h * w; p++) { /* pixels with every channel finite */
                int ok = 1;
                for (int64_t ch = 0; ch < c; ch++)
                    ok &= isfinite(tfc_test_get(v, i * per + p * c + ch)) != 0;
                for (int64_t ch = 0; ok && ch < c; ch++) {
                    mn = fminf(mn, (float)tfc_test_get(v, i * per + p * c + ch));
                    mx = fmaxf(mx, (float)tfc_test_get(v, i * per + p * c + ch));
                }
            }
            int bad = 0, red = 0;
            for (int64_t p = 0; p < h * w; p++) {
                int ok = 1;
                for (int64_t ch = 0; ch < c; ch++)
                    ok &= isfinite(tfc_test_get(v, i * per + p * c + ch)) != 0;
                for (int64_t ch = 0; ch < c; ch++) {
                    double e = tfc_test_get(v, i * per + p * c + ch);
                    uint8_t want_px = !ok ? (uint8_t)(ch == 0 ? 255 : 0)
                                      : dts[k] == TFC_UINT8
                                          ? (uint8_t)e
                                          : ref_pixel(e, mn, mx, dts[k] == TFC_FLOAT);
                    bad += pix[p * c + ch] != want_px;
                }
                red += !ok;
            }
            CHECK_MSG(bad == 0, "%d pixels differ (case %d image %d)", bad, k, i);
            if (k == 3) CHECK(red == 2);
            free(pix);
        }
        tfc_event_reader_close(r);
        tfc_tensor_free(v);
        tfc_graph_free(g);
    }
    tfc_graph *g = tfc_graph_new();
    int64_t d[] = {1, 2, 2, 2};
    tfc_output x = tfc_placeholder(g, "x", TFC_FLOAT, 4, d);
    tfc_with_name(g, "two_channels");
    CHECK(tfc_image_summary(g, "i", x, 1).node == NULL);
    CHECK_CONTAINS(tfc_graph_error(g), "two_channels");
    CHECK_CONTAINS(tfc_graph_error(g), "channels");
    tfc_graph_clear_error(g);
    int64_t d3[] = {1, 2, 2, 3};
    tfc_output xi = tfc_placeholder(g, "xi", TFC_INT32, 4, d3);
    tfc_with_name(g, "int_image");
    CHECK(tfc_image_summary(g, "i", xi, 1).node == NULL);
    CHECK_CONTAINS(tfc_graph_error(g), "int_image");
    CHECK_CONTAINS(tfc_graph_error(g), "uint8, float32 or float64");
    tfc_graph_free(g);
    remove_tmpdir();
}

static void test_text_and_merge(void) {
    make_tmpdir("summ");
    tfc_graph *g = tfc_graph_new();
    tfc_output x = tfc_placeholder(g, "x", TFC_FLOAT, 0, NULL);
    tfc_output a = tfc_scalar_summary(g, "a", x);
    tfc_output t = tfc_text_summary(g, "notes", "hello *tensorboard*");
    int64_t d = 6;
    tfc_output h = tfc_histogram_summary(g, "h", tfc_placeholder(g, "y", TFC_DOUBLE, 1, &d));
    (void)h;
    tfc_output m = tfc_merge_summary(g, (tfc_output[]){a, t}, 2);
    CHECK_GRAPH_OK(g);
    CHECK(!strcmp(tfc_node_type(t.node), "TensorSummaryV2"));
    tfc_tensor *xv = tfc_tensor_scalar_float(2.5f);
    tfc_event ev;
    tfc_event_reader *r = eval_summary(g, m, &x, &xv, 1, &ev);
    if (r) {
        CHECK(ev.nvalues == 2);
        CHECK(!strcmp(ev.values[0].tag, "a") && ev.values[0].scalar == 2.5);
        CHECK(!strcmp(ev.values[1].tag, "notes"));
        CHECK(ev.values[1].kind == TFC_SUMMARY_TENSOR);
        CHECK(!strcmp(ev.values[1].plugin, "text"));
        CHECK(ev.values[1].size == strlen("hello *tensorboard*") &&
              !memcmp(ev.values[1].data, "hello *tensorboard*", ev.values[1].size));
    }
    tfc_event_reader_close(r);

    /* merge_all covers the collection: a, notes, h */
    tfc_output all = tfc_merge_all_summaries(g);
    CHECK_GRAPH_OK(g);
    tfc_tensor *yv = tfc_test_random_tensor(TFC_DOUBLE, 1, &d, -1, 1);
    tfc_output y = tfc_out(tfc_graph_node_by_name(g, "y"), 0);
    r = eval_summary(g, all, (tfc_output[]){x, y}, (tfc_tensor *[]){xv, yv}, 2, &ev);
    if (r) {
        CHECK(ev.nvalues == 3);
        CHECK(ev.nvalues == 3 && ev.values[2].kind == TFC_SUMMARY_HISTOGRAM &&
              ev.values[2].hnum == 6);
    }
    tfc_event_reader_close(r);

    /* a text tensor computed in the graph; a merge of a merge and of a
     * string vector holding two serialized Summaries */
    const char *words[] = {"first", "second"};
    int64_t two = 2;
    tfc_output tv = tfc_text_summary_v2(g, "words", tfc_const_strings(g, 1, &two, words, NULL));
    tfc_output b = tfc_scalar_summary(g, "b", tfc_const_float(g, 7));
    tfc_output vec = tfc_stack(g, (tfc_output[]){tv, b}, 2, 0);
    tfc_output c = tfc_scalar_summary(g, "c", tfc_const_int32(g, 9));
    tfc_output m2 = tfc_merge_summary(g, (tfc_output[]){m, vec, c}, 3);
    CHECK_GRAPH_OK(g);
    r = eval_summary(g, m2, &x, &xv, 1, &ev);
    if (r) {
        static const char *want[] = {"a", "notes", "words", "b", "c"};
        CHECK(ev.nvalues == 5);
        for (int i = 0; i < ev.nvalues && i < 5; i++) CHECK(!strcmp(ev.values[i].tag, want[i]));
        if (ev.nvalues == 5) {
            CHECK(ev.values[2].kind == TFC_SUMMARY_TENSOR && !strcmp(ev.values[2].plugin, "text"));
            CHECK(ev.values[2].size == 5 && !memcmp(ev.values[2].data, "first", 5));
            CHECK(ev.values[3].scalar == 7 && ev.values[4].scalar == 9);
        }
    }
    tfc_event_reader_close(r);

    /* duplicate tags are a run-time error naming the merge node */
    tfc_with_name(g, "dup_merge");
    tfc_output dup = tfc_merge_summary(g, (tfc_output[]){a, a}, 2);
    expect_run_error(g, dup, &x, &xv, 1, "Duplicate tag a found in summary inputs", "dup_merge");
    /* bytes that are no Summary */
    tfc_output junk_bytes = tfc_const_string(g, "\xff\xff");
    tfc_with_name(g, "junk_merge");
    tfc_output junk = tfc_merge_summary(g, &junk_bytes, 1);
    expect_run_error(g, junk, NULL, NULL, 0, "Could not parse one of the summary inputs",
                     "junk_merge");
    /* a non-summary input is rejected when building; so is text that is no string */
    tfc_with_name(g, "bad_merge");
    CHECK(tfc_merge_summary(g, &x, 1).node == NULL);
    CHECK_CONTAINS(tfc_graph_error(g), "bad_merge");
    tfc_graph_clear_error(g);
    CHECK(tfc_text_summary_v2(g, "num", x).node == NULL);
    CHECK_CONTAINS(tfc_graph_error(g), "must be a string tensor");
    tfc_graph_clear_error(g);
    /* the writer takes only a serialized Summary */
    tfc_status *st = tfc_status_new();
    tfc_summary_writer *w = tfc_summary_writer_new(tmpdir, NULL, 0, 0, st);
    CHECK(tfc_summary_writer_add_summary(w, xv, 1, st) == -1);
    CHECK_CONTAINS(tfc_status_message(st), "string scalar");
    tfc_tensor *notsum = tfc_tensor_scalar_string("\xff\xff", 2);
    CHECK(tfc_summary_writer_add_summary(w, notsum, 1, st) == -1);
    CHECK_CONTAINS(tfc_status_message(st), "does not hold a serialized Summary");
    tfc_tensor_free(notsum);
    tfc_summary_writer_close(w, NULL);
    tfc_status_free(st);
    tfc_tensor_free(xv);
    tfc_tensor_free(yv);
    tfc_graph_free(g);
    /* no summaries: a null output, no error */
    g = tfc_graph_new();
    CHECK(tfc_merge_all_summaries(g).node == NULL);
    CHECK_GRAPH_OK(g);
    tfc_graph_free(g);
    remove_tmpdir();
}

/* A node read back from a written GraphDef has TF's op, its inputs'
 * dtypes and the attrs TF requires. */
static void check_node(const tfc_graph *g, const char *name, const char *op, int ninputs,
                       const tfc_dtype *in_dtypes, tfc_dtype T) {
    tfc_node *n = tfc_graph_node_by_name(g, name);
    CHECK_MSG(n != NULL, "node %s missing after the round trip", name);
    if (!n) return;
    CHECK(!strcmp(tfc_node_type(n), op));
    CHECK(tfc_node_num_inputs(n) == ninputs && tfc_node_num_outputs(n) == 1);
    for (int i = 0; i < ninputs && i < tfc_node_num_inputs(n); i++)
        CHECK_MSG(tfc_output_dtype(tfc_node_input(n, i)) == in_dtypes[i], "%s input %d", name, i);
    CHECK(tfc_output_dtype(tfc_out(n, 0)) == TFC_STRING);
    const tfc_attr *at = tfc_attrs_find(&n->attrs, "T");
    if (T) CHECK_MSG(at && at->kind == TFC_ATTR_TYPE && at->v.i == T, "%s: attr T", name);
}

static void test_graphdef_signatures(void) {
    tfc_graph *g = tfc_graph_new();
    int64_t id[] = {2, 4, 4, 3};
    tfc_output img = tfc_placeholder(g, "images", TFC_FLOAT, 4, id);
    tfc_scalar_summary(g, "loss", tfc_const_double(g, 1));
    tfc_histogram_summary(g, "w", tfc_const_int64(g, 3));
    tfc_image_summary(g, "img", img, 2);
    tfc_text_summary(g, "note", "hi");
    tfc_merge_all_summaries(g);
    CHECK_GRAPH_OK(g);
    uint8_t *bytes = NULL;
    size_t len = 0;
    tfc_status *st = tfc_status_new();
    CHECK(tfc_graph_to_graphdef(g, &bytes, &len, st) == 0);
    tfc_graph *g2 = tfc_graph_new();
    CHECK(tfc_graph_import_graphdef(g2, bytes, len, "", NULL, NULL, 0, st) == 0);
    CHECK_STATUS_OK(st);
    const tfc_dtype S = TFC_STRING;
    check_node(g2, "loss", "ScalarSummary", 2, (tfc_dtype[]){S, TFC_DOUBLE}, TFC_DOUBLE);
    check_node(g2, "w", "HistogramSummary", 2, (tfc_dtype[]){S, TFC_INT64}, TFC_INT64);
    check_node(g2, "img", "ImageSummary", 2, (tfc_dtype[]){S, TFC_FLOAT}, TFC_FLOAT);
    check_node(g2, "note", "TensorSummaryV2", 3, (tfc_dtype[]){S, S, S}, TFC_STRING);
    check_node(g2, "MergeSummary", "MergeSummary", 4, (tfc_dtype[]){S, S, S, S}, 0);
    tfc_node *n = tfc_graph_node_by_name(g2, "img");
    if (n) {
        CHECK(tfc_node_attr_int(n, "max_images", -1) == 2);
        const tfc_tensor *bc = tfc_attrs_tensor(&n->attrs, "bad_color");
        CHECK(bc && bc->dtype == TFC_UINT8 && bc->nelem == 4 &&
              !memcmp(bc->data, (uint8_t[]){255, 0, 0, 255}, 4));
    }
    n = tfc_graph_node_by_name(g2, "MergeSummary");
    if (n) CHECK(tfc_node_attr_int(n, "N", -1) == 4);
    n = tfc_graph_node_by_name(g2, "loss/tags");
    CHECK(n && !strcmp(tfc_node_type(n), "Const"));
    /* the imported graph runs: its merged summary holds the four values */
    tfc_node *mn = tfc_graph_node_by_name(g2, "MergeSummary");
    tfc_node *pn = tfc_graph_node_by_name(g2, "img");
    if (mn && pn) {
        tfc_output p = tfc_node_input(pn, 1);
        tfc_tensor *iv = tfc_test_random_tensor(TFC_FLOAT, 4, id, 0, 1);
        tfc_tensor *out = tfc_test_eval(g2, tfc_out(mn, 0), &p, &iv, 1);
        CHECK(out && tfc_tensor_dtype(out) == TFC_STRING);
        tfc_tensor_free(out);
        tfc_tensor_free(iv);
    }
    free(bytes);
    tfc_status_free(st);
    tfc_graph_free(g2);
    tfc_graph_free(g);
}

TFC_TEST_MAIN(T(test_scalar_summary), T(test_histogram_edges), T(test_histogram_summary),
              T(test_image_summary), T(test_text_and_merge), T(test_graphdef_signatures))
