/* String tensors that share bytes instead of copying them, and their
 * lifetimes (run under ASan and TSan):
 *   - Reshape, ExpandDims and Squeeze of a string tensor are aliases of it
 *     (no element copied); each keeps the bytes alive after the others and
 *     the session are gone, in any order of freeing;
 *   - ParseExample's string outputs own their bytes (copied once, in one
 *     block, from the records), so an alias of one (parse_single_example's
 *     Squeeze) outlives the parse's output and the records, also with the
 *     block cache emptied under it; a default or a failed parse included;
 *   - parsed strings go through a queue, one element and many, and outlive
 *     the records they came from;
 *   - several threads run and free aliases of one tensor at once. */
#include "harness.h"

#include "core/buffer_pool.h"
#include "core/tensor.h"

#include <pthread.h>
#include <stdlib.h>

static tfc_session *new_session(tfc_graph *g, int threads) {
    tfc_status *st = tfc_status_new();
    tfc_session_options o = {0};
    o.inter_op_threads = o.intra_op_threads = threads;
    tfc_session *s = tfc_session_new(g, &o, st);
    CHECK_STATUS_OK(st);
    tfc_status_free(st);
    return s;
}

static int str_eq(const tfc_tensor *t, int64_t i, const char *want) {
    size_t len = 0;
    const char *p = tfc_string_tensor_get(t, i, &len);
    return p && len == strlen(want) && !memcmp(p, want, len);
}

/* Does the view of element i lie in one of t's source tensor's bytes? */
static int view_in(const tfc_tensor *t, int64_t i, const tfc_tensor *src) {
    size_t len = 0;
    const char *p = tfc_string_tensor_get(t, i, &len);
    for (int64_t k = 0; k < tfc_tensor_num_elements(src); k++) {
        size_t n = 0;
        const char *q = tfc_string_tensor_get(src, k, &n);
        if (len && p >= q && p + len <= q + n) return 1;
    }
    return 0;
}

/* ---- Reshape, ExpandDims, Squeeze ---- */

/* s = StringJoin(p, "!") [2, 3]; r = Reshape(s, [6]); e = ExpandDims(s, 0);
 * q = Squeeze(e, [0]) */
typedef struct shapes {
    tfc_graph *g;
    tfc_output p, s, r, e, q;
} shapes;

static shapes shapes_graph(void) {
    shapes x;
    x.g = tfc_graph_new();
    x.p = tfc_placeholder(x.g, "p", TFC_STRING, 2, (int64_t[]){2, 3});
    tfc_output parts[2] = {x.p, tfc_const_string(x.g, "!")};
    x.s = tfc_string_join(x.g, parts, 2, "");
    x.r = tfc_reshape(x.g, x.s, 1, (int64_t[]){6});
    x.e = tfc_expand_dims(x.g, x.s, 0);
    int32_t axis = 0;
    x.q = tfc_squeeze(x.g, x.e, &axis, 1);
    CHECK_GRAPH_OK(x.g);
    return x;
}

static const char *words[6] = {"a", "bb", "", "a somewhat longer string than the others", "e", "f"};

static tfc_tensor *words_tensor(void) {
    return tfc_tensor_from_strings(2, (int64_t[]){2, 3}, words, NULL);
}

static int joined_ok(const tfc_tensor *t) {
    if (!t || tfc_tensor_num_elements(t) != 6) return 0;
    for (int i = 0; i < 6; i++) {
        char want[64];
        snprintf(want, sizeof want, "%s!", words[i]);
        if (!str_eq(t, i, want)) return 0;
    }
    return 1;
}

static void test_shape_ops_alias_strings(void) {
    /* each order of freeing: the join's tensor, then its aliases, and back */
    for (int order = 0; order < 4; order++) {
        shapes x = shapes_graph();
        tfc_session *s = new_session(x.g, 1 + order % 2);
        tfc_tensor *in = words_tensor(), *out[4] = {NULL};
        tfc_output fetch[4] = {x.s, x.r, x.e, x.q};
        tfc_status *st = tfc_status_new();
        tfc_session_run(s, &x.p, &in, 1, fetch, 4, out, NULL, 0, st);
        CHECK_STATUS_OK(st);
        for (int k = 0; k < 4; k++) CHECK(joined_ok(out[k]));
        CHECK(out[1] && tfc_tensor_rank(out[1]) == 1 && tfc_tensor_dim(out[1], 0) == 6);
        CHECK(out[2] && tfc_tensor_rank(out[2]) == 3 && tfc_tensor_dim(out[2], 0) == 1);
        CHECK(out[3] && tfc_tensor_rank(out[3]) == 2 && tfc_tensor_dim(out[3], 1) == 3);
        /* the same elements, not copies */
        for (int k = 1; k < 4 && out[0] && out[k]; k++) {
            CHECK(tfc_tensor_data(out[k]) == tfc_tensor_data(out[0]));
            CHECK(out[k]->base && out[k]->strings == NULL);
        }
        /* the session and graph go first, then the tensors in this order */
        tfc_tensor_free(in);
        tfc_session_free(s);
        tfc_graph_free(x.g);
        tfc_block_cache_trim(); /* (freed blocks go to the system, where ASan sees them) */
        for (int k = 0; k < 4; k++) {
            int i = order < 2 ? k : 3 - k;
            /* the ones still held read right */
            for (int j = 0; j < 4; j++)
                if (out[j]) CHECK(joined_ok(out[j]));
            tfc_tensor_free(out[i]);
            out[i] = NULL;
        }
        tfc_status_free(st);
    }
}

/* an alias fetched alone keeps the bytes of a tensor nobody else holds */
static void test_alias_fetched_alone(void) {
    shapes x = shapes_graph();
    tfc_session *s = new_session(x.g, 2);
    tfc_tensor *in = words_tensor(), *q = NULL;
    tfc_status *st = tfc_status_new();
    tfc_session_run(s, &x.p, &in, 1, &x.q, 1, &q, NULL, 0, st);
    CHECK_STATUS_OK(st);
    tfc_tensor_free(in);
    tfc_session_free(s);
    tfc_graph_free(x.g);
    tfc_block_cache_trim();
    CHECK(joined_ok(q));
    tfc_tensor_free(q);
    tfc_status_free(st);
}

/* an alias goes into an op that moves elements: the moved ones are copies
 * (ConcatV2's output owns its bytes), and the alias is unchanged */
static void test_alias_into_element_moving_op(void) {
    shapes x = shapes_graph();
    tfc_output parts[2] = {x.r, x.r};
    tfc_output c = tfc_concat(x.g, parts, 2, 0);
    CHECK_GRAPH_OK(x.g);
    tfc_session *s = new_session(x.g, 2);
    tfc_tensor *in = words_tensor(), *out[2] = {NULL, NULL};
    tfc_output fetch[2] = {c, x.r};
    tfc_status *st = tfc_status_new();
    tfc_session_run(s, &x.p, &in, 1, fetch, 2, out, NULL, 0, st);
    CHECK_STATUS_OK(st);
    tfc_tensor_free(in);
    tfc_session_free(s);
    tfc_graph_free(x.g);
    CHECK(out[0] && out[0]->strings != NULL && out[0]->base == NULL);
    tfc_tensor_free(out[1]); /* the alias (and the join's tensor) go first */
    for (int i = 0; out[0] && i < 12; i++) {
        char want[64];
        snprintf(want, sizeof want, "%s!", words[i % 6]);
        CHECK(str_eq(out[0], i, want));
    }
    tfc_tensor_free(out[0]);
    tfc_status_free(st);
}

typedef struct racer {
    tfc_session *s;
    shapes *x;
    tfc_tensor *in;
    int ok;
} racer;

static void *race(void *arg) {
    racer *r = arg;
    tfc_status *st = tfc_status_new();
    r->ok = 1;
    for (int i = 0; i < 200; i++) {
        tfc_tensor *out[3] = {NULL, NULL, NULL};
        tfc_output fetch[3] = {r->x->r, r->x->q, r->x->e};
        tfc_session_run(r->s, &r->x->p, &r->in, 1, fetch, 3, out, NULL, 0, st);
        r->ok &= tfc_status_code(st) == TFC_OK;
        /* freed in a different order on each thread */
        for (int k = 0; k < 3; k++) {
            int j = (k + i) % 3;
            r->ok &= joined_ok(out[j]);
            tfc_tensor_free(out[j]);
        }
    }
    tfc_status_free(st);
    return NULL;
}

/* threads running one session, fetching and freeing aliases at once */
static void test_aliases_across_threads(void) {
    shapes x = shapes_graph();
    tfc_session *s = new_session(x.g, 2);
    tfc_tensor *in = words_tensor();
    racer r[4];
    pthread_t th[4];
    for (int i = 0; i < 4; i++) {
        r[i] = (racer){s, &x, in, 0};
        CHECK(pthread_create(&th[i], NULL, race, &r[i]) == 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        CHECK(r[i].ok);
    }
    tfc_tensor_free(in);
    tfc_session_free(s);
    tfc_graph_free(x.g);
}

/* ---- ParseExample ---- */

enum { B = 5, IMAGE = 784 };

/* B records: "image" (IMAGE bytes, or none for record `missing`), "label"
 * int64, "tag" a short string, "pad" many floats (records ~20x the tag) */
static tfc_tensor *records(int missing) {
    tfc_string v[B];
    uint8_t *bufs[B];
    for (int i = 0; i < B; i++) {
        tfc_example *ex = tfc_example_new();
        uint8_t image[IMAGE];
        for (int k = 0; k < IMAGE; k++) image[k] = (uint8_t)(i * 13 + k);
        const void *pv = image;
        size_t pn = IMAGE;
        if (i != missing) tfc_example_add_bytes(ex, "image", &pv, &pn, 1);
        char tag[16];
        snprintf(tag, sizeof tag, "tag-%d", i);
        const void *tv = tag;
        size_t tn = strlen(tag);
        tfc_example_add_bytes(ex, "tag", &tv, &tn, 1);
        int64_t label = i;
        tfc_example_add_int64s(ex, "label", &label, 1);
        float pad[64] = {0};
        tfc_example_add_floats(ex, "pad", pad, 64);
        size_t len = 0;
        bufs[i] = tfc_example_serialize(ex, &len);
        v[i] = (tfc_string){(const char *)bufs[i], len};
        tfc_example_free(ex);
    }
    int64_t n = B;
    tfc_tensor *t = tfc_tensor_from_data(TFC_STRING, 1, &n, v);
    for (int i = 0; i < B; i++) free(bufs[i]);
    return t;
}

static int image_ok(const tfc_tensor *t, int64_t i, int rec) {
    size_t len = 0;
    const uint8_t *p = (const uint8_t *)tfc_string_tensor_get(t, i, &len);
    if (!p || len != IMAGE) return 0;
    for (int k = 0; k < IMAGE; k++)
        if (p[k] != (uint8_t)(rec * 13 + k)) return 0;
    return 1;
}

typedef struct parsing {
    tfc_graph *g;
    tfc_output ser, out[3]; /* image, tag, label */
} parsing;

static parsing parse_graph(int image_default) {
    parsing x;
    x.g = tfc_graph_new();
    int64_t n = B;
    x.ser = tfc_placeholder(x.g, "ser", TFC_STRING, 1, &n);
    tfc_output dflt = {NULL, 0};
    if (image_default) dflt = tfc_const_string(x.g, "default image");
    tfc_parse_feature f[3] = {{"image", TFC_STRING, 0, 0, NULL, dflt},
                              {"tag", TFC_STRING, 0, 0, NULL, {NULL, 0}},
                              {"label", TFC_INT64, 0, 0, NULL, {NULL, 0}}};
    tfc_parse_example(x.g, x.ser, f, 3, x.out);
    CHECK_GRAPH_OK(x.g);
    return x;
}

static void test_parse_outputs_own_bytes(void) {
    parsing x = parse_graph(0);
    tfc_session *s = new_session(x.g, 1);
    tfc_tensor *recs = records(-1), *out[3] = {NULL, NULL, NULL};
    tfc_status *st = tfc_status_new();
    tfc_session_run(s, &x.ser, &recs, 1, x.out, 3, out, NULL, 0, st);
    CHECK_STATUS_OK(st);
    for (int k = 0; k < 2; k++) {
        CHECK(out[k] && out[k]->base == NULL && out[k]->strings != NULL);
        for (int i = 0; out[k] && i < B; i++) CHECK(!view_in(out[k], i, recs));
    }
    tfc_tensor_free(recs);
    tfc_session_free(s);
    tfc_graph_free(x.g);
    tfc_block_cache_trim();
    for (int i = 0; out[0] && i < B; i++) CHECK(image_ok(out[0], i, i));
    for (int i = 0; out[1] && i < B; i++) {
        char want[16];
        snprintf(want, sizeof want, "tag-%d", i);
        CHECK(str_eq(out[1], i, want));
    }
    for (int k = 0; k < 3; k++) tfc_tensor_free(out[k]);
    tfc_status_free(st);
}

/* parse_single_example: Reshape, ParseExample, then a Squeeze of the
 * parsed strings, an alias. Fetched alone, it must hold what its elements
 * point to after the parse's own output, the records and the session are
 * gone; the block cache is emptied so that ASan sees any block freed
 * under it. */
static void test_squeezed_parse_output_outlives_parse(void) {
    for (int threads = 1; threads <= 2; threads++) {
        tfc_graph *g = tfc_graph_new();
        tfc_output rec = tfc_placeholder(g, "rec", TFC_STRING, 0, NULL), out[2];
        tfc_parse_feature f[2] = {{"image", TFC_STRING, 0, 0, NULL, {NULL, 0}},
                                  {"label", TFC_INT64, 0, 0, NULL, {NULL, 0}}};
        tfc_parse_single_example(g, rec, f, 2, out);
        CHECK_GRAPH_OK(g);
        tfc_session *s = new_session(g, threads);
        tfc_tensor *recs = records(-1);
        size_t n = 0;
        const char *r1 = tfc_string_tensor_get(recs, 1, &n);
        tfc_tensor *one = tfc_tensor_scalar_string(r1, n), *img = NULL;
        tfc_tensor_free(recs);
        tfc_status *st = tfc_status_new();
        tfc_session_run(s, &rec, &one, 1, &out[0], 1, &img, NULL, 0, st);
        CHECK_STATUS_OK(st);
        tfc_tensor_free(one);
        tfc_session_free(s);
        tfc_graph_free(g);
        tfc_block_cache_trim();
        CHECK(img && tfc_tensor_rank(img) == 0 && image_ok(img, 0, 1));
        tfc_tensor_free(img);
        tfc_status_free(st);
    }
}

/* one record takes the default: the output owns every value */
static void test_parse_default_makes_own_copy(void) {
    parsing x = parse_graph(1);
    tfc_session *s = new_session(x.g, 2);
    tfc_tensor *recs = records(2), *img = NULL;
    tfc_status *st = tfc_status_new();
    tfc_session_run(s, &x.ser, &recs, 1, &x.out[0], 1, &img, NULL, 0, st);
    CHECK_STATUS_OK(st);
    CHECK(img && img->base == NULL && img->strings != NULL);
    for (int i = 0; img && i < B; i++) CHECK(!view_in(img, i, recs));
    tfc_tensor_free(recs);
    tfc_session_free(s);
    tfc_graph_free(x.g); /* and the default's constant with it */
    tfc_block_cache_trim();
    for (int i = 0; img && i < B; i++)
        CHECK(i == 2 ? str_eq(img, i, "default image") : image_ok(img, i, i));
    tfc_tensor_free(img);
    tfc_status_free(st);
}

/* a record that is not an Example after good ones: an error naming it,
 * and nothing left pointing into the records */
static void test_parse_error(void) {
    parsing x = parse_graph(0);
    tfc_session *s = new_session(x.g, 1);
    tfc_tensor *good = records(-1);
    tfc_string v[B];
    for (int i = 0; i < B; i++) {
        size_t n = 0;
        v[i].data = tfc_string_tensor_get(good, i, &n);
        v[i].len = n;
    }
    v[3] = (tfc_string){"\xff\xff\xff", 3};
    int64_t n = B;
    tfc_tensor *bad = tfc_tensor_from_data(TFC_STRING, 1, &n, v), *img = NULL;
    tfc_status *st = tfc_status_new();
    tfc_session_run(s, &x.ser, &bad, 1, &x.out[0], 1, &img, NULL, 0, st);
    CHECK(tfc_status_code(st) == TFC_INVALID_ARGUMENT);
    CHECK_CONTAINS(tfc_status_message(st), "record 3");
    CHECK(img == NULL);
    tfc_tensor_free(bad);
    tfc_tensor_free(good);
    tfc_session_free(s);
    tfc_graph_free(x.g);
    tfc_status_free(st);
}

/* Parsed images through queues: one element at a time (the queue holds the
 * parsed tensor itself) and stacked by a DequeueMany (copied), each read
 * after the records and the session are gone. */
static void test_parsed_strings_through_queues(void) {
    for (int threads = 1; threads <= 2; threads++) {
        parsing x = parse_graph(0);
        tfc_dtype dt = TFC_STRING;
        tfc_shape shp = {1, {B}};
        tfc_output q1 = tfc_fifo_queue(x.g, 4, &dt, 1, &shp, NULL);
        tfc_shape one = {0, {0}};
        tfc_output q2 = tfc_fifo_queue(x.g, 2 * B, &dt, 1, &one, NULL);
        tfc_node *enq1 = tfc_queue_enqueue(x.g, q1, &x.out[0], 1);
        tfc_node *enq2 = tfc_queue_enqueue_many(x.g, q2, &x.out[0], 1);
        tfc_output d1, d2;
        tfc_queue_dequeue(x.g, q1, &d1, 1);
        tfc_queue_dequeue_many(x.g, q2, 3, &d2, 1);
        CHECK_GRAPH_OK(x.g);
        tfc_session *s = new_session(x.g, threads);
        tfc_status *st = tfc_status_new();
        tfc_tensor *recs = records(-1);
        tfc_node *enq[2] = {enq1, enq2};
        tfc_session_run(s, &x.ser, &recs, 1, NULL, 0, NULL, enq, 2, st);
        CHECK_STATUS_OK(st);
        tfc_tensor_free(recs); /* the queues' elements keep what they need */
        tfc_tensor *a = NULL, *b = NULL;
        tfc_session_run(s, NULL, NULL, 0, &d1, 1, &a, NULL, 0, st);
        CHECK_STATUS_OK(st);
        tfc_session_run(s, NULL, NULL, 0, &d2, 1, &b, NULL, 0, st);
        CHECK_STATUS_OK(st);
        tfc_session_free(s); /* frees the queues and what is left in them */
        tfc_graph_free(x.g);
        tfc_block_cache_trim();
        for (int i = 0; a && i < B; i++) CHECK(image_ok(a, i, i));
        for (int i = 0; b && i < 3; i++) CHECK(image_ok(b, i, i));
        CHECK(b && b->base == NULL);
        tfc_tensor_free(a);
        tfc_tensor_free(b);
        tfc_status_free(st);
    }
}

TFC_TEST_MAIN(T(test_shape_ops_alias_strings), T(test_alias_fetched_alone),
              T(test_alias_into_element_moving_op), T(test_aliases_across_threads),
              T(test_parse_outputs_own_bytes), T(test_parse_default_makes_own_copy),
              T(test_parse_error), T(test_parsed_strings_through_queues),
              T(test_squeezed_parse_output_outlives_parse))
