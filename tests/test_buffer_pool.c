/* The buffer pool's block cache (src/core/buffer_pool.c): how many freed
 * blocks a size class keeps. A queue's elements cycle between threads in
 * hundreds (a DequeueMany frees 100 at once, a shuffle queue holds a
 * thousand), so a class of small blocks keeps up to 16 MiB of them, and a
 * class of big ones at least 64; blocks freed on one thread are handed out
 * again on another, moving between a thread's own list and the shared one
 * in batches, with none lost or handed out twice; trimming empties the
 * cache. */
#include "harness.h"

#include "core/buffer_pool.h"

#include <pthread.h>
#include <stdint.h>
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
    size_t kept = tfc_block_cache_count(ELEM), own = tfc_block_cache_local_count(ELEM);
    CHECK_MSG(kept + own == MANY && own <= 32, "kept %zu + %zu of %d freed blocks", kept, own,
              MANY);
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

/* ---- the queue's pattern: made on one thread, freed 100 at a time on
 * another, for many rounds ---- */

enum { ROUND = 100, ROUNDS = 40 };

typedef struct courier {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    size_t size;
    void **blocks;
    int n, round, posted, quit;
    int bad_tags;
    size_t local_after; /* the freeing thread's own blocks after a round */
} courier;

/* Frees each round it is handed, checking first that every block still
 * holds the tag its maker wrote (a block handed out twice loses one). */
static void *freer(void *arg) {
    courier *k = arg;
    pthread_mutex_lock(&k->mu);
    for (;;) {
        while (!k->posted && !k->quit) pthread_cond_wait(&k->cv, &k->mu);
        if (k->posted) {
            for (int i = 0; i < k->n; i++) {
                uint64_t tag = (uint64_t)k->round << 32 | (uint64_t)i;
                if (*(uint64_t *)k->blocks[i] != tag) k->bad_tags++;
                tfc_block_free(k->blocks[i], k->size);
            }
            k->local_after = tfc_block_cache_local_count(k->size);
            k->posted = 0;
            pthread_cond_broadcast(&k->cv);
        }
        if (k->quit && !k->posted) break;
    }
    pthread_mutex_unlock(&k->mu);
    return NULL; /* its own blocks go back to the shared cache as it ends */
}

/* Adds p to the sorted set seen[0, *n) unless it is there. */
static void seen_add(void **seen, int *n, void *p) {
    int lo = 0, hi = *n;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if ((char *)seen[mid] < (char *)p)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < *n && seen[lo] == p) return;
    memmove(seen + lo + 1, seen + lo, sizeof *seen * (size_t)(*n - lo));
    seen[lo] = p;
    (*n)++;
}

static void handoff_rounds(size_t size) {
    tfc_block_cache_trim();
    courier k = {.size = size};
    pthread_mutex_init(&k.mu, NULL);
    pthread_cond_init(&k.cv, NULL);
    void *blocks[ROUND], *seen[ROUNDS * ROUND];
    int nseen = 0, refills = 0, bad_refills = 0;
    pthread_t th;
    CHECK(pthread_create(&th, NULL, freer, &k) == 0);
    for (int r = 0; r < ROUNDS; r++) {
        for (int i = 0; i < ROUND; i++) {
            size_t shared = tfc_block_cache_count(size), own = tfc_block_cache_local_count(size);
            blocks[i] = tfc_block_alloc(size);
            CHECK(blocks[i] && ((uintptr_t)blocks[i] & 63) == 0);
            if (!blocks[i]) return;
            seen_add(seen, &nseen, blocks[i]);
            if (own == 0 && shared >= 64) {
                /* an empty list takes a batch from the shared class: the
                 * one handed out, the rest kept here */
                size_t now_own = tfc_block_cache_local_count(size);
                refills++;
                if (!(now_own >= 1 && tfc_block_cache_count(size) + now_own + 1 == shared) &&
                    !bad_refills++)
                    fprintf(stderr, "size %zu, round %d: shared %zu -> %zu, own 0 -> %zu\n", size,
                            r, shared, tfc_block_cache_count(size), now_own);
            }
        }
        for (int i = 0; i < ROUND; i++) *(uint64_t *)blocks[i] = (uint64_t)r << 32 | (uint64_t)i;
        pthread_mutex_lock(&k.mu);
        k.blocks = blocks;
        k.n = ROUND;
        k.round = r;
        k.posted = 1;
        pthread_cond_broadcast(&k.cv);
        while (k.posted) pthread_cond_wait(&k.cv, &k.mu);
        size_t theirs = k.local_after;
        pthread_mutex_unlock(&k.mu);
        /* nothing is live now: every block made so far is in one of the
         * caches, once */
        size_t shared_now = tfc_block_cache_count(size);
        size_t mine = tfc_block_cache_local_count(size);
        CHECK_MSG(shared_now + mine + theirs == (size_t)nseen,
                  "round %d: %zu shared + %zu here + %zu there of %d blocks", r, shared_now, mine,
                  theirs, nseen);
        CHECK_MSG(theirs >= 1 && theirs <= 32, "round %d: the freeing thread keeps %zu", r, theirs);
    }
    /* the blocks go round: the first round's, plus what the freeing
     * thread's own list holds back */
    CHECK_MSG(nseen <= ROUND + 32, "%d distinct blocks for rounds of %d", nseen, ROUND);
    CHECK_MSG(refills > 0 && bad_refills == 0, "%d of %d refills took one block at a time",
              bad_refills, refills);
    pthread_mutex_lock(&k.mu);
    k.quit = 1;
    pthread_cond_broadcast(&k.cv);
    pthread_mutex_unlock(&k.mu);
    pthread_join(th, NULL);
    CHECK_MSG(k.bad_tags == 0, "%d blocks were handed out twice", k.bad_tags);
    /* the freeing thread ended: its own blocks are back in the shared class */
    CHECK_MSG(tfc_block_cache_count(size) + tfc_block_cache_local_count(size) == (size_t)nseen,
              "%zu shared + %zu here of %d after the thread ended", tfc_block_cache_count(size),
              tfc_block_cache_local_count(size), nseen);
    pthread_mutex_destroy(&k.mu);
    pthread_cond_destroy(&k.cv);
    tfc_block_cache_trim();
    CHECK(tfc_block_cache_count(size) == 0 && tfc_block_cache_local_count(size) == 0);
}

/* the element (64 bytes), the label tensor (192) and the image tensor */
static void test_blocks_handed_between_threads_in_rounds(void) {
    handoff_rounds(64);
    handoff_rounds(192);
    handoff_rounds(ELEM);
    handoff_rounds(40000); /* a class whose own lists hold only 4 */
}

TFC_TEST_MAIN(T(test_small_blocks_kept_by_the_thousand), T(test_big_blocks_kept_by_count),
              T(test_class_bytes_bound), T(test_blocks_cross_threads),
              T(test_blocks_handed_between_threads_in_rounds))
