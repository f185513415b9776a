/* Size-classed block cache. Classes are 4 per power of two (at most 25%
 * slack); each keeps a LIFO of free blocks under its own lock, an array of
 * pointers, and the whole cache is capped so a burst
 * of big temporaries does not pin memory. In front of it, each thread keeps
 * a few small blocks per class without any lock (the common case of a warm
 * run), moved to and from the shared lists half a list at a time, and
 * handed back when it exits. */
#include "core/buffer_pool.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

/* A class keeps up to CLASS_BYTES of free blocks, and at least PER_CLASS
 * blocks however big they are. Blocks often cycle between threads in
 * hundreds: a queue's elements are made by a runner thread and freed by
 * the training step's DequeueMany, 100 at once, and a shuffle queue holds
 * a thousand; with a cap of 64 blocks a class the rest went back to free()
 * and came again from memalign (about 700 instructions each). */
enum { NCLASSES = 4 * 48, PER_CLASS = 64 };
#define CLASS_BYTES ((size_t)16 << 20)
#define CACHE_LIMIT ((size_t)1 << 30) /* bytes kept in all classes together */

/* The free blocks are kept in an array, not linked through themselves:
 * a thread taking blocks freed on another one (a queue's elements) chased
 * the links from block to block, a cache miss each (94% of the refill's
 * time in the MNIST pipeline's runner, 4% of all of it). The array grows
 * by doubling as blocks come, up to max. */
typedef struct size_class {
    pthread_mutex_t lock;
    size_t n, max; /* blocks kept, and the most it may keep */
    size_t cap;    /* room in block */
    void **block;  /* block[0, n): the most recently freed last */
} size_class;

static size_class classes[NCLASSES];
static pthread_once_t once = PTHREAD_ONCE_INIT;
static atomic_size_t cached_bytes;

/* Per-thread front cache for blocks below 128 KiB: up to LOCAL_BYTES of
 * a class (at least LOCAL_MIN blocks, at most LOCAL_MAX) per thread. A
 * queue's elements are made on a runner thread and freed on the training
 * thread, 100 at once: the runner's list of their classes is always empty
 * and the trainer's always full. So a list that runs dry takes half its
 * room from the shared class, and a full one gives half back, each under
 * one lock. (One block at a time, each took the class's lock: about 100
 * instructions a block, 600 of the 13,000 a record of the MNIST input
 * pipeline's runner thread.) */
enum { LOCAL_CLASSES = 4 * 17, LOCAL_MIN = 4, LOCAL_MAX = 32 };
#define LOCAL_BYTES ((size_t)64 << 10)
typedef struct local_slot {
    int n, lim; /* blocks held, and the most it may hold */
} local_slot;
typedef struct local_cache {
    local_slot s[LOCAL_CLASSES];
    void *blocks[LOCAL_CLASSES][LOCAL_MAX];
} local_cache;
/* initial-exec: the library is position independent, and the default
 * model made every block alloc and free a __tls_get_addr call (in a
 * program linked with the static library, a call the linker removes, but
 * the registers saved around it stayed). 8 bytes of static TLS, which
 * glibc keeps room for in a library loaded later (Python's ctypes). */
static _Thread_local __attribute__((tls_model("initial-exec"))) local_cache *local;
static pthread_key_t local_key;

static void shared_free(void *p, int c, size_t rounded);
static void shared_free_batch(void **b, int k, int c, size_t rounded);

/* The rounded size of class c (class_of's inverse). */
static size_t class_size(int c) {
    size_t base = (size_t)1 << (c / 4);
    return base + (size_t)(c % 4) * (base >= 4 ? base / 4 : 1);
}

static void local_flush(void *arg) {
    local_cache *lc = arg;
    if (local == lc) local = NULL; /* (a later key's destructor may free blocks too) */
    for (int c = 0; c < LOCAL_CLASSES; c++) {
        shared_free_batch(lc->blocks[c], lc->s[c].n, c, class_size(c));
        lc->s[c].n = 0;
    }
    free(lc);
}

static void init_classes(void) {
    for (int i = 0; i < NCLASSES; i++) {
        pthread_mutex_init(&classes[i].lock, NULL);
        size_t by_bytes = CLASS_BYTES / class_size(i);
        classes[i].max = by_bytes > PER_CLASS ? by_bytes : PER_CLASS;
    }
    pthread_key_create(&local_key, local_flush);
}

static local_cache *local_get(void) {
    if (!local) {
        local = calloc(1, sizeof *local);
        if (!local) return NULL;
        for (int c = 0; c < LOCAL_CLASSES; c++) {
            size_t by_bytes = LOCAL_BYTES / class_size(c);
            local->s[c].lim = by_bytes < LOCAL_MIN   ? LOCAL_MIN
                              : by_bytes > LOCAL_MAX ? LOCAL_MAX
                                                     : (int)by_bytes;
        }
        pthread_setspecific(local_key, local);
    }
    return local;
}

/* Blocks of at least this many bytes (data sets, big activations) are
 * 2 MiB aligned and asked to be backed by huge pages where the kernel has
 * them (transparent huge pages in "madvise" mode): a batch gathered from
 * random rows of a data set otherwise takes a TLB miss, and often a page
 * walk from memory, per row. Copying 100 random rows of Fashion-MNIST
 * (3 KiB each, 188 MB in all) took 20-30% less CPU time with them. */
#define HUGE_BLOCK ((size_t)8 << 20)
#define HUGE_PAGE ((size_t)2 << 20)

static void *system_alloc(size_t rounded) {
#ifdef MADV_HUGEPAGE
    if (rounded >= HUGE_BLOCK) {
        size_t size = (rounded + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1);
        void *p = aligned_alloc(HUGE_PAGE, size);
        if (p) madvise(p, size, MADV_HUGEPAGE); /* a hint: nothing to do if it is refused */
        return p;
    }
#endif
    /* aligned_alloc wants a multiple of the alignment; classes step by 16 */
    return aligned_alloc(64, (rounded + 63) & ~(size_t)63);
}

/* Class index and rounded size for a request: 4 classes per power of two
 * from 64 bytes, so the step is a power of two too (a shift, no divide).
 * With s = size - 1 in [2^L, 2^(L+1)), m = s >> (L - 2) (4 to 7) is one
 * less than the steps of the smallest class size >= size. */
static inline int class_index(size_t size) { /* at least 21; NCLASSES and up: too big */
    size_t s = (size < 64 ? 64 : size) - 1;
    int log2 = 63 - __builtin_clzll((unsigned long long)s);
    return log2 * 4 + (int)(s >> (log2 - 2)) - 3;
}

/* class_index and the class's size; -1 (rounded unset) when too big */
static inline int class_of(size_t size, size_t *rounded) {
    int idx = class_index(size);
    if (idx >= NCLASSES) return -1;
    *rounded = class_size(idx);
    return idx;
}

/* The calling thread's cache when it has one and class c is in it (then
 * the classes are set up: local_get runs after init_classes). */
static inline local_cache *local_ready(int c) { return (unsigned)c < LOCAL_CLASSES ? local : NULL; }

/* Moves up to half of lc's room for class c from the shared class into
 * lc (which is empty), the most recently freed on top. */
static void local_refill(local_cache *lc, int c, size_t rounded) {
    size_class *sc = &classes[c];
    int want = lc->s[c].lim / 2;
    pthread_mutex_lock(&sc->lock);
    int got = sc->n < (size_t)want ? (int)sc->n : want;
    sc->n -= (size_t)got;
    if (got) memcpy(lc->blocks[c], sc->block + sc->n, sizeof(void *) * (size_t)got);
    pthread_mutex_unlock(&sc->lock);
    if (got) atomic_fetch_sub_explicit(&cached_bytes, rounded * (size_t)got, memory_order_relaxed);
    lc->s[c].n = got;
}

__attribute__((noinline)) static void *alloc_slow(size_t size) {
    size_t rounded;
    int c = class_of(size, &rounded);
    if (c >= 0) {
        pthread_once(&once, init_classes);
        local_cache *lc = c < LOCAL_CLASSES ? local_get() : NULL;
        if (lc) {
            if (!lc->s[c].n) local_refill(lc, c, rounded);
            if (lc->s[c].n) return lc->blocks[c][--lc->s[c].n];
            return system_alloc(rounded);
        }
        size_class *sc = &classes[c];
        pthread_mutex_lock(&sc->lock);
        void *p = sc->n ? sc->block[--sc->n] : NULL;
        pthread_mutex_unlock(&sc->lock);
        if (p) {
            atomic_fetch_sub_explicit(&cached_bytes, rounded, memory_order_relaxed);
            return p;
        }
    } else {
        rounded = (size + 63) & ~(size_t)63;
    }
    return system_alloc(rounded);
}

/* The common case (a block of a small class this thread freed before) is
 * inline and takes no lock; the rest is out of line. The fast paths keep
 * to the class index (the slow paths work out the rest again), so they
 * save no registers: about 25 instructions each, from 40. */
void *tfc_block_alloc(size_t size) {
    int c = class_index(size);
    local_cache *lc = local_ready(c);
    if (lc && lc->s[c].n) return lc->blocks[c][--lc->s[c].n];
    return alloc_slow(size);
}

/* How many of k more blocks class sc (locked) can take: its array grown
 * to hold them where it may keep them, as far as memory allows. */
static size_t class_room(size_class *sc, size_t k) {
    size_t want = sc->n + k < sc->max ? sc->n + k : sc->max;
    if (want > sc->cap) {
        size_t cap = sc->cap ? 2 * sc->cap : PER_CLASS;
        if (cap < want) cap = want;
        if (cap > sc->max) cap = sc->max;
        void **grown = realloc(sc->block, sizeof *grown * cap);
        if (grown) {
            sc->block = grown;
            sc->cap = cap;
        }
    }
    size_t room = (sc->cap < sc->max ? sc->cap : sc->max) - sc->n;
    return room < k ? room : k;
}

/* Returns a block to the shared cache, or to the system when it is full. */
static void shared_free(void *p, int c, size_t rounded) {
    size_t before = atomic_fetch_add_explicit(&cached_bytes, rounded, memory_order_relaxed);
    if (before + rounded <= CACHE_LIMIT) {
        size_class *sc = &classes[c];
        pthread_mutex_lock(&sc->lock);
        int kept = class_room(sc, 1) == 1;
        if (kept) sc->block[sc->n++] = p;
        pthread_mutex_unlock(&sc->lock);
        if (kept) return;
    }
    atomic_fetch_sub_explicit(&cached_bytes, rounded, memory_order_relaxed);
    free(p);
}

/* shared_free of the k blocks b[0, k) of class c under one lock: those
 * the class has room for join it, the rest go back to the system. */
static void shared_free_batch(void **b, int k, int c, size_t rounded) {
    if (k <= 0) return;
    size_t bytes = rounded * (size_t)k;
    size_t before = atomic_fetch_add_explicit(&cached_bytes, bytes, memory_order_relaxed);
    if (before + bytes > CACHE_LIMIT) { /* near the cap: block by block, as many as fit */
        atomic_fetch_sub_explicit(&cached_bytes, bytes, memory_order_relaxed);
        for (int i = 0; i < k; i++) shared_free(b[i], c, rounded);
        return;
    }
    size_class *sc = &classes[c];
    pthread_mutex_lock(&sc->lock);
    int keep = (int)class_room(sc, (size_t)k);
    if (keep) memcpy(sc->block + sc->n, b, sizeof(void *) * (size_t)keep);
    sc->n += (size_t)keep;
    pthread_mutex_unlock(&sc->lock);
    if (keep == k) return;
    atomic_fetch_sub_explicit(&cached_bytes, rounded * (size_t)(k - keep), memory_order_relaxed);
    for (int i = keep; i < k; i++) free(b[i]);
}

/* lc's list of class c is full: its older half goes to the shared class. */
static void local_spill(local_cache *lc, int c, size_t rounded) {
    local_slot *s = &lc->s[c];
    int k = s->n / 2;
    shared_free_batch(lc->blocks[c], k, c, rounded);
    memmove(lc->blocks[c], lc->blocks[c] + k, sizeof(void *) * (size_t)(s->n - k));
    s->n -= k;
}

__attribute__((noinline)) static void free_slow(void *p, size_t size) {
    size_t rounded;
    int c = class_of(size, &rounded);
    if (c < 0) {
        free(p);
        return;
    }
    pthread_once(&once, init_classes);
    local_cache *lc = c < LOCAL_CLASSES ? local_get() : NULL;
    if (lc) {
        if (lc->s[c].n >= lc->s[c].lim) local_spill(lc, c, rounded);
        lc->blocks[c][lc->s[c].n++] = p;
        return;
    }
    shared_free(p, c, rounded);
}

void tfc_block_free(void *p, size_t size) {
    if (!p) return;
    int c = class_index(size);
    local_cache *lc = local_ready(c);
    if (lc && lc->s[c].n < lc->s[c].lim) {
        lc->blocks[c][lc->s[c].n++] = p;
        return;
    }
    free_slow(p, size);
}

void tfc_block_cache_trim(void) {
    pthread_once(&once, init_classes);
    if (local) {
        local_flush(local);
        local = NULL;
        pthread_setspecific(local_key, NULL);
    }
    for (int i = 0; i < NCLASSES; i++) {
        size_class *sc = &classes[i];
        pthread_mutex_lock(&sc->lock);
        void **b = sc->block;
        size_t n = sc->n;
        sc->block = NULL;
        sc->n = sc->cap = 0;
        pthread_mutex_unlock(&sc->lock);
        for (size_t k = 0; k < n; k++) free(b[k]);
        atomic_fetch_sub_explicit(&cached_bytes, class_size(i) * n, memory_order_relaxed);
        free(b);
    }
}

size_t tfc_block_cache_count(size_t size) {
    size_t rounded;
    int c = class_of(size, &rounded);
    if (c < 0) return 0;
    pthread_once(&once, init_classes);
    pthread_mutex_lock(&classes[c].lock);
    size_t n = classes[c].n;
    pthread_mutex_unlock(&classes[c].lock);
    return n;
}

size_t tfc_block_cache_local_count(size_t size) {
    int c = class_index(size);
    local_cache *lc = local_ready(c);
    return lc ? (size_t)lc->s[c].n : 0;
}
