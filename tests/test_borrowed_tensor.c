/* tfc_tensor_from_borrowed: tensors over the caller's memory. tfc reads
 * them without copying, never writes them (not even the element-wise
 * kernels that write over an input at its last use, after a Reshape or a
 * trip through a queue), and calls release once, when the last reference
 * goes. */
#include "harness.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const int64_t dims[] = {3, 5};
enum { N = 15 };

typedef struct release_log {
    int calls;
    void *last_arg;
} release_log;

static void count_release(void *arg) {
    release_log *log = arg;
    log->calls++;
    log->last_arg = arg;
}

static void fill_signed(float *x) {
    for (int i = 0; i < N; i++) x[i] = (float)(i - 7) * 0.5f;
}

static tfc_session *one_thread(tfc_graph *g, tfc_status *st) {
    tfc_session_options o = {.intra_op_threads = 1, .inter_op_threads = 1};
    return tfc_session_new(g, &o, st);
}

/* The tensor's data is the caller's pointer; release comes with the last
 * reference, not before. */
static void test_shares_and_releases(void) {
    _Alignas(64) float x[N];
    fill_signed(x);
    release_log log = {0, NULL};
    tfc_tensor *t = tfc_tensor_from_borrowed(TFC_FLOAT, 2, dims, x, sizeof x, count_release, &log);
    CHECK(t != NULL);
    CHECK(tfc_tensor_data(t) == (void *)x);
    CHECK(tfc_tensor_is_borrowed(t) == 1);
    CHECK(tfc_tensor_dim(t, 0) == 3 && tfc_tensor_dim(t, 1) == 5 && tfc_tensor_nbytes(t) == sizeof x);
    tfc_tensor *r = tfc_tensor_ref(t);
    tfc_tensor_free(t);
    CHECK(log.calls == 0);
    tfc_tensor *c = tfc_tensor_copy(r);
    CHECK(c && tfc_tensor_data(c) != (void *)x && tfc_tensor_is_borrowed(c) == 0);
    tfc_tensor_free(r);
    CHECK(log.calls == 1 && log.last_arg == &log);
    tfc_tensor_free(c);
    CHECK(log.calls == 1);
    /* no release callback at all is fine */
    t = tfc_tensor_from_borrowed(TFC_FLOAT, 2, dims, x, sizeof x, NULL, NULL);
    CHECK(t && tfc_tensor_data(t) == (void *)x);
    tfc_tensor_free(t);
}

/* Bad arguments fail without calling release; data not aligned to its
 * element size is copied, and released at once. */
static void test_bad_arguments_and_unaligned(void) {
    _Alignas(64) char buf[sizeof(float) * N + 8];
    release_log log = {0, NULL};
    float *x = (float *)buf;
    fill_signed(x);
    CHECK(tfc_tensor_from_borrowed(TFC_FLOAT, 2, dims, x, sizeof(float) * N - 4, count_release,
                                   &log) == NULL);
    CHECK(tfc_tensor_from_borrowed(TFC_STRING, 2, dims, x, 16 * N, count_release, &log) == NULL);
    CHECK(tfc_tensor_from_borrowed(TFC_RESOURCE, 0, NULL, x, 8, count_release, &log) == NULL);
    CHECK(tfc_tensor_from_borrowed(TFC_FLOAT, 2, NULL, x, sizeof(float) * N, count_release,
                                   &log) == NULL);
    CHECK(tfc_tensor_from_borrowed(TFC_FLOAT, 2, dims, NULL, sizeof(float) * N, count_release,
                                   &log) == NULL);
    int64_t neg[] = {3, -5};
    CHECK(tfc_tensor_from_borrowed(TFC_FLOAT, 2, neg, x, sizeof(float) * N, count_release, &log) ==
          NULL);
    CHECK(log.calls == 0);
    /* an empty tensor may have no data */
    int64_t zero[] = {0, 4};
    tfc_tensor *e = tfc_tensor_from_borrowed(TFC_FLOAT, 2, zero, NULL, 0, count_release, &log);
    CHECK(e && tfc_tensor_num_elements(e) == 0);
    tfc_tensor_free(e);
    CHECK(log.calls == 1);

    float src[N];
    fill_signed(src);
    char *odd = buf + 2;
    memcpy(odd, src, sizeof src);
    tfc_tensor *u =
        tfc_tensor_from_borrowed(TFC_FLOAT, 2, dims, odd, sizeof(float) * N, count_release, &log);
    CHECK(u != NULL);
    CHECK(log.calls == 2); /* copied, so released already */
    CHECK(u && tfc_tensor_data(u) != (void *)odd && tfc_tensor_is_borrowed(u) == 0);
    CHECK(u && memcmp(tfc_tensor_data(u), odd, sizeof(float) * N) == 0);
    tfc_tensor_free(u);
    CHECK(log.calls == 2);
    /* uint8 has no alignment to keep */
    int64_t n7[] = {7};
    tfc_tensor *b = tfc_tensor_from_borrowed(TFC_UINT8, 1, n7, buf + 3, 7, count_release, &log);
    CHECK(b && tfc_tensor_data(b) == (void *)(buf + 3));
    tfc_tensor_free(b);
    CHECK(log.calls == 3);
}

/* Relu, Tanh and Mul write over an input at its last use: fed directly,
 * through a Reshape (an alias) and through Identity, the caller's array is
 * read but stays as it was, and the results are right. */
static void test_feed_never_written(void) {
    tfc_graph *g = tfc_graph_new();
    tfc_output x = tfc_placeholder(g, "x", TFC_FLOAT, 2, dims);
    const int64_t flat[] = {N};
    tfc_output two = tfc_const_float(g, 2.0f);
    tfc_output fetches[] = {tfc_relu(g, x), tfc_mul(g, tfc_reshape(g, x, 1, flat), two),
                            tfc_tanh(g, tfc_identity(g, x)),
                            tfc_mul(g, tfc_relu(g, tfc_reshape(g, x, 1, flat)), two)};
    CHECK_GRAPH_OK(g);
    tfc_status *st = tfc_status_new();
    tfc_session *s = one_thread(g, st);
    _Alignas(64) float xs[N], x0[N];
    fill_signed(xs);
    memcpy(x0, xs, sizeof xs);
    release_log log = {0, NULL};
    tfc_tensor *xv = tfc_tensor_from_borrowed(TFC_FLOAT, 2, dims, xs, sizeof xs, count_release, &log);
    tfc_tensor *out[4] = {NULL, NULL, NULL, NULL};
    tfc_session_run(s, &x, &xv, 1, fetches, 4, out, NULL, 0, st);
    CHECK_STATUS_OK(st);
    tfc_tensor_free(xv); /* the run is over: nothing else holds it */
    CHECK(log.calls == 1);
    CHECK(memcmp(xs, x0, sizeof xs) == 0);
    for (int i = 0; out[0] && out[1] && out[2] && out[3] && i < N; i++) {
        CHECK_NEAR(tfc_test_get(out[0], i), x0[i] > 0 ? x0[i] : 0, 0);
        CHECK_NEAR(tfc_test_get(out[1], i), 2 * x0[i], 0);
        CHECK_NEAR(tfc_test_get(out[2], i), tanh(x0[i]), 1e-6);
        CHECK_NEAR(tfc_test_get(out[3], i), x0[i] > 0 ? 2 * x0[i] : 0, 0);
    }
    for (int i = 0; i < 4; i++) tfc_tensor_free(out[i]);
    tfc_session_free(s);
    tfc_status_free(st);
    tfc_graph_free(g);
}

/* A borrowed tensor enqueued in one run and dequeued in the next: the
 * queue holds the only reference then, so without the guard Tanh and Mul
 * would write their results over the caller's array. The queue keeps the bytes
 * alive (no release) until the element leaves it. */
static void test_queued_feed_never_written(void) {
    tfc_graph *g = tfc_graph_new();
    tfc_dtype dt = TFC_FLOAT;
    tfc_shape shape = {2, {3, 5}};
    tfc_output q = tfc_fifo_queue(g, 4, &dt, 1, &shape, NULL);
    tfc_output x = tfc_placeholder(g, "x", TFC_FLOAT, 2, dims);
    tfc_node *enq = tfc_queue_enqueue(g, q, &x, 1);
    tfc_output d;
    CHECK(tfc_queue_dequeue(g, q, &d, 1) == 1);
    tfc_output y = tfc_mul(g, tfc_tanh(g, d), tfc_const_float(g, 2.0f));
    CHECK_GRAPH_OK(g);
    tfc_status *st = tfc_status_new();
    tfc_session *s = one_thread(g, st);
    _Alignas(64) float xs[N], x0[N];
    fill_signed(xs);
    memcpy(x0, xs, sizeof xs);
    release_log log = {0, NULL};
    tfc_tensor *xv = tfc_tensor_from_borrowed(TFC_FLOAT, 2, dims, xs, sizeof xs, count_release, &log);
    tfc_session_run(s, &x, &xv, 1, NULL, 0, NULL, &enq, 1, st);
    CHECK_STATUS_OK(st);
    tfc_tensor_free(xv);
    CHECK(log.calls == 0); /* the queue holds it */
    tfc_tensor *out = NULL;
    tfc_session_run(s, NULL, NULL, 0, &y, 1, &out, NULL, 0, st);
    CHECK_STATUS_OK(st);
    CHECK(log.calls == 1);
    CHECK(memcmp(xs, x0, sizeof xs) == 0);
    for (int i = 0; out && i < N; i++) CHECK_NEAR(tfc_test_get(out, i), 2 * tanh(x0[i]), 1e-6);
    tfc_tensor_free(out);
    tfc_session_free(s);
    tfc_status_free(st);
    tfc_graph_free(g);
}

/* A variable assigned from a borrowed feed copies it: later changes to the
 * caller's array do not reach the variable, and assign_add writes only the
 * variable's own buffer. */
static void test_variable_copies(void) {
    tfc_graph *g = tfc_graph_new();
    tfc_output x = tfc_placeholder(g, "x", TFC_FLOAT, 2, dims);
    tfc_output v = tfc_variable(g, "v", tfc_zeros(g, TFC_FLOAT, 2, dims));
    tfc_output a = tfc_assign(g, v, x);
    tfc_output add = tfc_assign_add(g, v, tfc_ones(g, TFC_FLOAT, 2, dims));
    CHECK_GRAPH_OK(g);
    tfc_status *st = tfc_status_new();
    tfc_session *s = one_thread(g, st);
    _Alignas(64) float xs[N], x0[N];
    fill_signed(xs);
    memcpy(x0, xs, sizeof xs);
    release_log log = {0, NULL};
    tfc_tensor *xv = tfc_tensor_from_borrowed(TFC_FLOAT, 2, dims, xs, sizeof xs, count_release, &log);
    tfc_tensor *out = NULL;
    tfc_session_run(s, &x, &xv, 1, &a, 1, &out, NULL, 0, st);
    CHECK_STATUS_OK(st);
    tfc_tensor_free(out);
    tfc_tensor_free(xv);
    CHECK(log.calls == 1);
    out = NULL;
    tfc_session_run(s, NULL, NULL, 0, &add, 1, &out, NULL, 0, st);
    CHECK_STATUS_OK(st);
    CHECK(memcmp(xs, x0, sizeof xs) == 0);
    for (int i = 0; out && i < N; i++) CHECK_NEAR(tfc_test_get(out, i), x0[i] + 1, 0);
    tfc_tensor_free(out);
    tfc_session_free(s);
    tfc_status_free(st);
    tfc_graph_free(g);
}

TFC_TEST_MAIN(T(test_shares_and_releases), T(test_bad_arguments_and_unaligned),
              T(test_feed_never_written), T(test_queued_feed_never_written),
              T(test_variable_copies))
