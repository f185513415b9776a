/* The buffer pool's block cache (src/core/buffer_pool.c): how many freed
 * blocks a size class keeps. A queue's elements cycle between threads in
 * hundreds (a DequeueMany frees 100 at once, a shuffle queue holds a
 * thousand), so a class of small blocks keeps up to 16 MiB of them, and a
 * class of big ones at least 64; blocks freed on one thread are handed out
 * again on another; trimming empties the cache. */
#include "harness.h"

#include "core/buffer_pool.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

enum { ELEM = 3200, MANY = 1000 }; /* an MNIST image as floats, with its header */

static int cmp_ptr(const void *a, const void *b) {
    const char *x = *(void *const *)a, *y = *(void *const *)b;
    return x < y ? -1 : x > y;
}

/* How many of got[0, n) are among had[0, n) (sorted). */
static int reused(void **got, void **had, int n) {
    int k = 0;
    for (int i = 0; i < n; i++) k += bsearch(&got[i], had, (size_t)n, sizeof *had, cmp_ptr) != NULL;
    return k;
}

static void test_small_blocks_kept_by_the_thousand(void) {
    tfc_block_cache_trim();
    void **a = malloc(sizeof *a * MANY), **b = malloc(sizeof *b * MANY);
    for (int i = 0; i < MANY; i++) {
        a[i] = tfc_block_alloc(ELEM);
        CHECK(a[i] && ((uintptr_t)a[i] & 63) == 0);
        memset(a[i], i, ELEM);
    }
    for (int i = 0; i < MANY; i++) tfc_block_free(a[i], ELEM);
    /* all of them kept (a few in this thread's own cache) */
    size_t kept = tfc_block_cache_count(ELEM);
    CHECK_MSG(kept >= MANY - 16, "kept %zu of %d freed blocks", kept, MANY);
    qsort(a, MANY, sizeof *a, cmp_ptr);
    for (int i = 0; i < MANY; i++) b[i] = tfc_block_alloc(ELEM);
    int k = reused(b, a, MANY);
    CHECK_MSG(k == MANY, "%d of %d blocks came back from the cache", k, MANY);
    CHECK(tfc_block_cache_count(ELEM) == 0);
    for (int i = 0; i < MANY; i++) tfc_block_free(b[i], ELEM);
    free(a);
    free(b);
}

static void test_big_blocks_kept_by_count(void) {
    tfc_block_cache_trim();
    enum { BIG = 1 << 20, N = 100 }; /* 16 MiB of them is 16: the floor of 64 holds */
    void *a[N];
    for (int i = 0; i < N; i++) a[i] = tfc_block_alloc(BIG);
    for (int i = 0; i < N; i++) tfc_block_free(a[i], BIG);
    CHECK_MSG(tfc_block_cache_count(BIG) == 64, "kept %zu", tfc_block_cache_count(BIG));
    /* a class holds its own size only */
    CHECK(tfc_block_cache_count(BIG + BIG / 2) == 0);
    tfc_block_cache_trim();
    CHECK(tfc_block_cache_count(BIG) == 0);
}

/* a class's byte bound: 64-byte blocks, 16 MiB of them */
static void test_class_bytes_bound(void) {
    tfc_block_cache_trim();
    enum { N = (16 << 20) / 64 + 1000 };
    void **a = malloc(sizeof *a * N);
    for (int i = 0; i < N; i++) a[i] = tfc_block_alloc(64);
    for (int i = 0; i < N; i++) tfc_block_free(a[i], 64);
    size_t kept = tfc_block_cache_count(64);
    CHECK_MSG(kept == (16 << 20) / 64, "kept %zu", kept);
    tfc_block_cache_trim();
    free(a);
}

typedef struct handoff {
    void **blocks;
    int n;
} handoff;

static void *free_them(void *arg) {
    handoff *h = arg;
    for (int i = 0; i < h->n; i++) tfc_block_free(h->blocks[i], ELEM);
    return NULL;
}

/* made on this thread, freed on another (a runner's elements, freed by the
 * step's dequeue), made again here from the cache */
static void test_blocks_cross_threads(void) {
    tfc_block_cache_trim();
    enum { N = 500 };
    void *a[N], *b[N];
    for (int i = 0; i < N; i++) a[i] = tfc_block_alloc(ELEM);
    handoff h = {a, N};
    pthread_t th;
    CHECK(pthread_create(&th, NULL, free_them, &h) == 0);
    pthread_join(th, NULL); /* its own few went to the shared cache when it ended */
    CHECK_MSG(tfc_block_cache_count(ELEM) == N, "kept %zu", tfc_block_cache_count(ELEM));
    qsort(a, N, sizeof *a, cmp_ptr);
    for (int i = 0; i < N; i++) b[i] = tfc_block_alloc(ELEM);
    CHECK(reused(b, a, N) == N);
    for (int i = 0; i < N; i++) tfc_block_free(b[i], ELEM);
    tfc_block_cache_trim();
}

TFC_TEST_MAIN(T(test_small_blocks_kept_by_the_thousand), T(test_big_blocks_kept_by_count),
              T(test_class_bytes_bound), T(test_blocks_cross_threads))
