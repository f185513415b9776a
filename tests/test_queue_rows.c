/* The rows an enqueue_many puts in a queue (src/data/queue.c, row_of): in
 * a FIFO queue a view into the batch (an alias of it, no copy) where the
 * row's data is 64-byte aligned; a copy otherwise, in a shuffle queue and
 * always for a variable's value.
 * Checked against the rows themselves on random data of many row lengths
 * (views and copies, unaligned tails), through FIFO and random shuffle
 * queues, dequeued one at a time and stacked: every row comes out equal
 * to the batch's, the batch may be freed while its rows are queued (ASan
 * sees any use after free), a row taken out and computed on in place
 * leaves its neighbours alone, a variable assigned after its enqueue_many
 * gives the old values, and every dequeued tensor's data is 64-byte
 * aligned. Big batches are stacked by several threads and checked too. */
#include "harness.h"

#include "core/tensor.h"

#include <stdint.h>
#include <stdlib.h>

enum { ROWS = 7 };

typedef struct rows_graph {
    tfc_graph *g;
    tfc_output x, one, many, plus_one;
    tfc_node *enq;
    tfc_session *s;
} rows_graph;

/* A queue of `dt` rows of `len`, fed from x [ROWS, len]: one (a row),
 * many (ROWS stacked) and plus_one (a dequeued row + 1, which Add may try
 * to write in place). */
static void rows_make(rows_graph *r, tfc_dtype dt, int64_t len, int shuffle) {
    r->g = tfc_graph_new();
    tfc_shape s = {1, {len}};
    tfc_output q = shuffle ? tfc_random_shuffle_queue(r->g, 4 * ROWS, 0, &dt, 1, &s, 17, NULL)
                           : tfc_fifo_queue(r->g, 4 * ROWS, &dt, 1, &s, NULL);
    r->x = tfc_placeholder(r->g, "x", dt, 2, (int64_t[]){ROWS, len});
    /* an op's output, not the feed: the batch a pipeline's kernel makes */
    tfc_output batch = tfc_mul(r->g, r->x, tfc_cast(r->g, tfc_const_float(r->g, 1.0f), dt));
    r->enq = tfc_queue_enqueue_many(r->g, q, &batch, 1);
    tfc_queue_dequeue(r->g, q, &r->one, 1);
    tfc_queue_dequeue_many(r->g, q, ROWS, &r->many, 1);
    tfc_output one2;
    tfc_queue_dequeue(r->g, q, &one2, 1);
    r->plus_one = tfc_add(r->g, one2, tfc_cast(r->g, tfc_const_float(r->g, 1.0f), dt));
    CHECK_GRAPH_OK(r->g);
    tfc_status *st = tfc_status_new();
    r->s = tfc_session_new(r->g, NULL, st);
    CHECK_STATUS_OK(st);
    tfc_status_free(st);
}

static void rows_free(rows_graph *r) {
    tfc_session_free(r->s);
    tfc_graph_free(r->g);
}

static void fill(tfc_dtype dt, void *p, int64_t n) {
    for (int64_t i = 0; i < n; i++) {
        double v = floor(tfc_test_uniform(-100, 100));
        switch (dt) {
        case TFC_FLOAT: ((float *)p)[i] = (float)v; break;
        case TFC_DOUBLE: ((double *)p)[i] = v; break;
        default: ((int32_t *)p)[i] = (int32_t)v; break;
        }
    }
}

static size_t esize(tfc_dtype dt) { return dt == TFC_DOUBLE ? 8 : 4; }

/* the index of the row of x (ROWS of len) equal to t's data, or -1 */
static int which_row(const char *x, const tfc_tensor *t, size_t rowbytes) {
    for (int k = 0; k < ROWS; k++)
        if (!memcmp(x + k * rowbytes, tfc_tensor_data(t), rowbytes)) return k;
    return -1;
}

static int aligned(const tfc_tensor *t) { return ((uintptr_t)tfc_tensor_data(t) & 63) == 0; }

static void check_rows(tfc_dtype dt, int64_t len, int shuffle) {
    rows_graph r;
    rows_make(&r, dt, len, shuffle);
    tfc_status *st = tfc_status_new();
    size_t rowbytes = (size_t)len * esize(dt);
    char *x = malloc(ROWS * rowbytes);
    fill(dt, x, ROWS * len);
    for (int k = 0; k < ROWS; k++) { /* rows told apart by their first value */
        if (dt == TFC_FLOAT) ((float *)x)[k * len] = (float)(1000 + k);
        if (dt == TFC_DOUBLE) ((double *)x)[k * len] = 1000 + k;
        if (dt == TFC_INT32) ((int32_t *)x)[k * len] = 1000 + k;
    }
    int64_t dims[2] = {ROWS, len};
    /* four batches in (the capacity): the batch tensors freed at once */
    for (int b = 0; b < 4; b++) {
        tfc_tensor *xt = tfc_tensor_from_data(dt, 2, dims, x);
        tfc_session_run(r.s, &r.x, &xt, 1, NULL, 0, NULL, &r.enq, 1, st);
        CHECK_STATUS_OK(st);
        tfc_tensor_free(xt);
    }
    /* ROWS one at a time: each a row of x; as views when aligned */
    int seen[ROWS] = {0};
    for (int k = 0; k < ROWS; k++) {
        tfc_tensor *t = NULL;
        tfc_session_run(r.s, NULL, NULL, 0, &r.one, 1, &t, NULL, 0, st);
        CHECK_STATUS_OK(st);
        if (!t) break;
        CHECK(tfc_tensor_num_elements(t) == len && aligned(t));
        int w = which_row(x, t, rowbytes);
        CHECK_MSG(w >= 0, "%s rows of %lld: a dequeued row is none of the batch's",
                  tfc_dtype_name(dt), (long long)len);
        if (!shuffle) CHECK_MSG(w == k, "row %d came out as %d", k, w);
        if (w >= 0) seen[w]++;
        tfc_tensor_free(t);
    }
    if (!shuffle)
        for (int k = 0; k < ROWS; k++) CHECK(seen[k] == 1);
    /* a row + 1, in place where Add may: the other rows keep their values */
    tfc_tensor *p = NULL;
    tfc_session_run(r.s, NULL, NULL, 0, &r.plus_one, 1, &p, NULL, 0, st);
    CHECK_STATUS_OK(st);
    tfc_tensor_free(p);
    /* the rest stacked: every row of x, ROWS - 1 + ROWS of them */
    for (int b = 0; b < 2; b++) {
        tfc_tensor *m = NULL;
        tfc_session_run(r.s, NULL, NULL, 0, &r.many, 1, &m, NULL, 0, st);
        CHECK_STATUS_OK(st);
        if (!m) break;
        CHECK(tfc_tensor_num_elements(m) == ROWS * len);
        for (int k = 0; k < ROWS - b; k++) {
            const char *row = (const char *)tfc_tensor_data(m) + k * rowbytes;
            int found = 0;
            for (int j = 0; j < ROWS && !found; j++)
                found = !memcmp(x + j * rowbytes, row, rowbytes);
            CHECK_MSG(found, "%s rows of %lld, %s: stacked row %d is none of the batch's",
                      tfc_dtype_name(dt), (long long)len, shuffle ? "shuffled" : "FIFO", k);
            if (!shuffle && b == 1) /* FIFO: the third batch's rows 1.. in order */
                CHECK(!memcmp(x + (size_t)(k + 1) * rowbytes, row, rowbytes));
        }
        tfc_tensor_free(m);
    }
    free(x);
    tfc_status_free(st);
    rows_free(&r);
}

static void test_rows_against_the_batch(void) {
    static const int64_t lens[] = {1, 3, 15, 16, 17, 32, 33, 48, 784, 785};
    static const tfc_dtype dts[] = {TFC_FLOAT, TFC_DOUBLE, TFC_INT32};
    for (int shuffle = 0; shuffle < 2; shuffle++)
        for (size_t d = 0; d < sizeof dts / sizeof *dts; d++)
            for (size_t l = 0; l < sizeof lens / sizeof *lens; l++)
                check_rows(dts[d], lens[l], shuffle);
}

/* In a FIFO queue aligned rows are views of the batch (the fast path is
 * taken), unaligned ones copies of their own; a shuffle queue copies. */
static void test_views_where_aligned(void) {
    for (int shuffle = 0; shuffle < 2; shuffle++)
        for (int len = 15; len <= 17; len++) {
            rows_graph r;
            rows_make(&r, TFC_FLOAT, len, shuffle);
            tfc_status *st = tfc_status_new();
            float x[ROWS * 17];
            fill(TFC_FLOAT, x, ROWS * len);
            tfc_tensor *xt = tfc_tensor_from_data(TFC_FLOAT, 2, (int64_t[]){ROWS, len}, x);
            tfc_session_run(r.s, &r.x, &xt, 1, NULL, 0, NULL, &r.enq, 1, st);
            tfc_tensor_free(xt);
            for (int k = 0; k < ROWS; k++) {
                tfc_tensor *t = NULL;
                tfc_session_run(r.s, NULL, NULL, 0, &r.one, 1, &t, NULL, 0, st);
                CHECK_STATUS_OK(st);
                if (!t) break;
                /* a view where the row starts on 64 bytes (every row of 16
                 * floats, the first of the others) */
                int view = !shuffle && (k * len * 4) % 64 == 0;
                CHECK_MSG((t->base != NULL) == view, "rows of %d, row %d, %s: base %p", len, k,
                          shuffle ? "shuffled" : "FIFO", (void *)t->base);
                if (!shuffle)
                    CHECK(!memcmp(tfc_tensor_data(t), x + k * len, sizeof *x * (size_t)len));
                tfc_tensor_free(t);
            }
            tfc_status_free(st);
            rows_free(&r);
        }
}

/* A variable's rows are copies: assigning it later does not reach them. */
static void test_variable_rows_are_copies(void) {
    tfc_graph *g = tfc_graph_new();
    float init[ROWS * 16];
    fill(TFC_FLOAT, init, ROWS * 16);
    int64_t dims[2] = {ROWS, 16};
    tfc_output v = tfc_variable(g, "v", tfc_const_data(g, TFC_FLOAT, 2, dims, init));
    tfc_dtype dt = TFC_FLOAT;
    tfc_shape s = {1, {16}};
    tfc_output q = tfc_fifo_queue(g, ROWS, &dt, 1, &s, NULL), many;
    tfc_node *enq = tfc_queue_enqueue_many(g, q, &v, 1);
    tfc_output zero = tfc_assign(g, v, tfc_zeros(g, TFC_FLOAT, 2, dims));
    tfc_queue_dequeue_many(g, q, ROWS, &many, 1);
    tfc_node *initn = tfc_global_variables_initializer(g);
    CHECK_GRAPH_OK(g);
    tfc_status *st = tfc_status_new();
    tfc_session *ss = tfc_session_new(g, NULL, st);
    tfc_session_run(ss, NULL, NULL, 0, NULL, 0, NULL, &initn, 1, st);
    tfc_session_run(ss, NULL, NULL, 0, NULL, 0, NULL, &enq, 1, st);
    tfc_tensor *z = NULL, *m = NULL;
    tfc_session_run(ss, NULL, NULL, 0, &zero, 1, &z, NULL, 0, st);
    tfc_session_run(ss, NULL, NULL, 0, &many, 1, &m, NULL, 0, st);
    CHECK_STATUS_OK(st);
    CHECK(m && !memcmp(tfc_tensor_data(m), init, sizeof init));
    tfc_tensor_free(z);
    tfc_tensor_free(m);
    tfc_session_free(ss);
    tfc_status_free(st);
    tfc_graph_free(g);
}

/* A batch of big rows is stacked by several threads (queue.c splits the
 * copy past 256 KiB): at 1 and 2 threads, from a FIFO queue (rows in
 * order) and a shuffle queue (each row once), every row comes out whole. */
static void test_big_batch_split(void) {
    enum { NB = 24, LEN = 20000 }; /* 80 KB rows, 1.9 MB a batch */
    float *x = malloc(sizeof *x * NB * LEN);
    fill(TFC_FLOAT, x, NB * LEN);
    for (int k = 0; k < NB; k++) x[k * LEN] = (float)(1000 + k);
    for (int threads = 1; threads <= 2; threads++)
        for (int shuffle = 0; shuffle < 2; shuffle++) {
            tfc_graph *g = tfc_graph_new();
            tfc_dtype dt = TFC_FLOAT;
            tfc_shape s = {1, {LEN}};
            tfc_output q = shuffle ? tfc_random_shuffle_queue(g, NB, 0, &dt, 1, &s, 5, NULL)
                                   : tfc_fifo_queue(g, NB, &dt, 1, &s, NULL),
                       many;
            tfc_output xp = tfc_placeholder(g, "x", TFC_FLOAT, 2, (int64_t[]){NB, LEN});
            tfc_output batch = tfc_mul(g, xp, tfc_const_float(g, 1.0f));
            tfc_node *enq = tfc_queue_enqueue_many(g, q, &batch, 1);
            tfc_queue_dequeue_many(g, q, NB, &many, 1);
            CHECK_GRAPH_OK(g);
            tfc_status *st = tfc_status_new();
            tfc_session_options o = {0};
            o.intra_op_threads = o.inter_op_threads = threads;
            tfc_session *ss = tfc_session_new(g, &o, st);
            tfc_tensor *xt = tfc_tensor_from_data(TFC_FLOAT, 2, (int64_t[]){NB, LEN}, x), *m = NULL;
            tfc_session_run(ss, &xp, &xt, 1, NULL, 0, NULL, &enq, 1, st);
            tfc_session_run(ss, NULL, NULL, 0, &many, 1, &m, NULL, 0, st);
            CHECK_STATUS_OK(st);
            int seen[NB] = {0};
            for (int k = 0; m && k < NB; k++) {
                const float *row = (const float *)tfc_tensor_data(m) + (size_t)k * LEN;
                int w = (int)row[0] - 1000;
                CHECK_MSG(w >= 0 && w < NB && !memcmp(row, x + (size_t)w * LEN, sizeof *x * LEN),
                          "%d threads, %s: stacked row %d is none of the batch's", threads,
                          shuffle ? "shuffled" : "FIFO", k);
                if (!shuffle) CHECK_MSG(w == k, "FIFO row %d came out as %d", k, w);
                if (w >= 0 && w < NB) seen[w]++;
            }
            for (int k = 0; m && k < NB; k++) CHECK(seen[k] == 1);
            tfc_tensor_free(m);
            tfc_tensor_free(xt);
            tfc_session_free(ss);
            tfc_status_free(st);
            tfc_graph_free(g);
        }
    free(x);
}

TFC_TEST_MAIN(T(test_views_where_aligned), T(test_rows_against_the_batch),
              T(test_variable_rows_are_copies), T(test_big_batch_split))
