/* A training step in steady state performs no heap allocation of tfc's:
 * the plan is cached, run scratch is reused, and tensors come from the
 * block cache. Counted by interposing malloc & co. (so this test is built
 * without the sanitizers, which interpose them themselves).
 *
 * The libraries' allocations are counted apart, by the library their
 * caller lies in. Where the CPU has AVX-512, float products and
 * convolutions run on tfc's register tiles (src/ops/tiles.h) and no
 * library allocates either: the count is zero. Elsewhere they go to
 * oneDNN, whose sgemm takes one packing buffer from malloc per call and
 * whose C API builds a small std::unordered_map of the arguments on every
 * dnnl_primitive_execute (5 allocations a call in oneDNN 2.6); those are
 * only checked to be the same in every step. */
#define _GNU_SOURCE
#include "harness.h"
#include "ops/tiles.h"

#include <dlfcn.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);
extern void __libc_free(void *);

static atomic_long allocations, dnnl_allocations;
static atomic_int counting;

/* oneDNN's own mallocs, and those of its C++ containers (operator new in
 * libstdc++: tfc is C, so oneDNN is the only C++ code in the process) */
static int called_from_dnnl(void *caller) {
    Dl_info info;
    return dladdr(caller, &info) && info.dli_fname &&
           (strstr(info.dli_fname, "libdnnl") || strstr(info.dli_fname, "libstdc++"));
}

static void count_caller(void *caller) {
    if (!atomic_load_explicit(&counting, memory_order_relaxed)) return;
    if (called_from_dnnl(caller))
        atomic_fetch_add_explicit(&dnnl_allocations, 1, memory_order_relaxed);
    else
        atomic_fetch_add_explicit(&allocations, 1, memory_order_relaxed);
}
#define count() count_caller(__builtin_return_address(0))

void *malloc(size_t n) {
    count();
    return __libc_malloc(n);
}
void *calloc(size_t a, size_t b) {
    count();
    return __libc_calloc(a, b);
}
void *realloc(void *p, size_t n) {
    count();
    return __libc_realloc(p, n);
}
void *aligned_alloc(size_t align, size_t n) {
    count();
    return __libc_memalign(align, n);
}
int posix_memalign(void **p, size_t align, size_t n) {
    count();
    *p = __libc_memalign(align, n);
    return *p ? 0 : 12;
}
void free(void *p) { __libc_free(p); }

static tfc_output dense(tfc_graph *g, tfc_output x, int64_t in, int64_t out, int relu) {
    int64_t wd[] = {in, out};
    tfc_output w = tfc_variable(g, NULL, tfc_random_normal(g, TFC_FLOAT, 2, wd, 0, 0.1, 0));
    tfc_output b = tfc_variable(g, NULL, tfc_zeros(g, TFC_FLOAT, 1, &out));
    tfc_output y = tfc_bias_add(g, tfc_matmul(g, x, w), b);
    return relu ? tfc_relu(g, y) : y;
}

typedef struct counts {
    long tfc;     /* every allocation not made by oneDNN, in 50 steps */
    long dnnl[2]; /* oneDNN's, in steps 1-25 and 26-50 */
} counts;

/* The body of a small convolutional net: 8x8 images, two 3x3 SAME
 * convolutions to 8 channels, each with relu (the second's three passes
 * all run: forward, backward data and filter), flattened. */
static tfc_output conv_features(tfc_graph *g, tfc_output x) {
    int64_t img[] = {-1, 8, 8, 1}, fd1[] = {3, 3, 1, 8}, fd2[] = {3, 3, 8, 8};
    int64_t flat[] = {-1, 8 * 8 * 8};
    tfc_output f1 = tfc_variable(g, NULL, tfc_random_normal(g, TFC_FLOAT, 4, fd1, 0, 0.1, 0));
    tfc_output f2 = tfc_variable(g, NULL, tfc_random_normal(g, TFC_FLOAT, 4, fd2, 0, 0.1, 0));
    int strides[] = {1, 1, 1, 1};
    tfc_output y = tfc_relu(g, tfc_conv2d(g, tfc_reshape(g, x, 4, img), f1, strides, "SAME"));
    y = tfc_relu(g, tfc_conv2d(g, y, f2, strides, "SAME"));
    return tfc_reshape(g, y, 2, flat);
}

static counts steady_state_allocations(int intra, int inter, int adam, int conv) {
    tfc_graph *g = tfc_graph_new();
    tfc_graph_set_seed(g, 3);
    int64_t xd[] = {-1, 64}, yd[] = {-1};
    tfc_output x = tfc_placeholder(g, "x", TFC_FLOAT, 2, xd);
    tfc_output y = tfc_placeholder(g, "y", TFC_INT32, 1, yd);
    tfc_output logits = conv ? dense(g, conv_features(g, x), 8 * 8 * 8, 10, 0)
                             : dense(g, dense(g, x, 64, 300, 1), 300, 10, 0);
    tfc_output loss =
        tfc_reduce_mean(g, tfc_sparse_softmax_cross_entropy_with_logits(g, y, logits), NULL, 0, 0);
    tfc_optimizer *opt =
        adam ? tfc_adam_optimizer(TFC_ADAM_DEFAULTS) : tfc_gradient_descent_optimizer(0.1);
    tfc_node *train = tfc_optimizer_minimize(opt, g, loss, NULL, 0, (tfc_output){0});
    tfc_node *init = tfc_global_variables_initializer(g);
    CHECK_GRAPH_OK(g);
    tfc_session_options o = {.intra_op_threads = intra, .inter_op_threads = inter};
    tfc_status *st = tfc_status_new();
    tfc_session *s = tfc_session_new(g, &o, st);
    tfc_session_run(s, NULL, NULL, 0, NULL, 0, NULL, &init, 1, st);
    int64_t bxd[] = {128, 64}, byd[] = {128};
    tfc_tensor *bx = tfc_test_random_tensor(TFC_FLOAT, 2, bxd, 0, 1);
    tfc_tensor *by = tfc_test_random_tensor(TFC_INT32, 1, byd, 0, 10);
    tfc_output feeds[] = {x, y};
    tfc_tensor *vals[] = {bx, by};
    tfc_tensor *lv = NULL;
    for (int i = 0; i < 20; i++) { /* warm up: plans, scratch, block cache */
        tfc_session_run(s, feeds, vals, 2, &loss, 1, &lv, &train, 1, st);
        tfc_tensor_free(lv);
    }
    CHECK_STATUS_OK(st);
    atomic_store(&allocations, 0);
    counts n = {0, {0, 0}};
    for (int half = 0; half < 2; half++) {
        atomic_store(&dnnl_allocations, 0);
        atomic_store(&counting, 1);
        for (int i = 0; i < 25; i++) {
            tfc_session_run(s, feeds, vals, 2, &loss, 1, &lv, &train, 1, st);
            tfc_tensor_free(lv);
        }
        atomic_store(&counting, 0);
        n.dnnl[half] = atomic_load(&dnnl_allocations);
    }
    CHECK_STATUS_OK(st);
    n.tfc = atomic_load(&allocations);
    tfc_tensor_free(bx);
    tfc_tensor_free(by);
    tfc_session_free(s);
    tfc_status_free(st);
    tfc_optimizer_free(opt);
    tfc_graph_free(g);
    return n;
}

/* Kernels split over 2 threads, nodes run one at a time: the allocation
 * pattern is fixed, so tfc's count is exactly zero. (With several nodes in
 * flight, which blocks sit in which thread's cache depends on timing, and a
 * rare step may still allocate; that case is not claimed here.) */
static void check_counts(counts n, const char *what) {
    CHECK_MSG(n.tfc == 0, "%ld allocations in 50 steps (%s)", n.tfc, what);
    if (getenv("TFC_TEST_VERBOSE"))
        fprintf(stderr, "%s: oneDNN %ld allocations in 25 steps\n", what, n.dnnl[1]);
    if (tfc_tile_width())
        CHECK_MSG(n.dnnl[0] + n.dnnl[1] == 0, "oneDNN allocated %ld times in 50 steps (%s)",
                  n.dnnl[0] + n.dnnl[1], what);
    else
        CHECK_MSG(n.dnnl[0] == n.dnnl[1],
                  "oneDNN's allocations grew: %ld in steps 1-25, %ld in 26-50 (%s)", n.dnnl[0],
                  n.dnnl[1], what);
}

static void test_sgd_step_allocates_nothing(void) {
    check_counts(steady_state_allocations(1, 1, 0, 0), "1 thread");
    check_counts(steady_state_allocations(2, 1, 0, 0), "2 intra-op threads");
}

static void test_adam_step_allocates_nothing(void) {
    check_counts(steady_state_allocations(2, 1, 1, 0), "Adam");
}

static void test_conv_step_allocates_nothing(void) {
    check_counts(steady_state_allocations(1, 1, 1, 1), "conv, 1 thread");
    check_counts(steady_state_allocations(2, 1, 1, 1), "conv, 2 intra-op threads");
}

TFC_TEST_MAIN(T(test_sgd_step_allocates_nothing), T(test_adam_step_allocates_nothing),
              T(test_conv_step_allocates_nothing))
