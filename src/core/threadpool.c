/* Worker threads with one FIFO queue of tasks guarded by a mutex, and a
 * list of open parallel_for jobs: jobs with chunks no thread has claimed
 * yet. Any thread may take their chunks: an idle one (a job of at most one
 * chunk a thread first, then the queued tasks: a queued node is usually a
 * kernel as large as the open one, and two kernels of many chunks side by
 * side, each helped at its end, lose less to the last chunk than one after
 * the other), a parallel_for caller waiting for its
 * last chunks, and an executor before a cheap ready node of its own (the
 * kernel that opened the job waits for its chunks, and whatever waits on
 * that kernel too). */
#include "core/threadpool.h"
#include "core/clock.h"
#include "core/thread_scratch.h"

#ifdef _OPENMP /* not in the inference-only build (cmake/mobile.cmake) */
#include <omp.h>
#endif
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

/* Shared by the caller and its helpers; handed back to the pool's free list by
 * whoever finishes last, so a helper that starts late never touches a job
 * already reused. */
typedef struct pfor_job {
    struct pfor_job *next_free;
    struct pfor_job *next_open; /* in the pool's open list (under its lock) */
    struct tfc_threadpool *pool;
    void (*fn)(void *, int64_t, int64_t);
    void *arg;
    int64_t n, chunk, nchunks;
    atomic_llong next;
    atomic_llong done;
    atomic_int refs;
    pthread_mutex_t lock;
    pthread_cond_t cond;
} pfor_job;

typedef struct task {
    void (*fn)(void *);
    void *arg;
} task;

struct tfc_threadpool {
    int nthreads;
    int nworkers;
    pthread_t *workers;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    task *queue;
    size_t cap, head, len;
    int stopping;
    int helpers_waiting; /* threads asleep in tfc_threadpool_help_until */
    int workers_asleep;  /* workers in pthread_cond_wait */
    int workers_started; /* workers past their start-up (tfc_threadpool_new waits for all) */
    pthread_cond_t started;
    atomic_int queued;   /* len, readable without the lock (for spinning) */
    pfor_job *free_jobs; /* finished parallel_for jobs, reused */
    /* parallel_for jobs whose caller is still claiming chunks (under lock;
     * in the order they opened), and how many of them have a chunk left
     * (readable without the lock; the thread that claims a job's last
     * chunk counts it out) */
    pfor_job *open_jobs;
    atomic_int open_chunks;
    atomic_int idle; /* threads looking for work: spinning or asleep */
};

int tfc_num_cores(void) {
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

/* How long an idle worker keeps looking for work before it sleeps: waking
 * a sleeping thread costs tens of microseconds, as much as a small kernel's
 * whole run, and a training step hands out work every few microseconds. */
#define SPIN_NS 50000

/* Until done(arg), or SPIN_NS passed. */
static void spin_until(int (*done)(const void *), const void *arg) {
    int64_t until = tfc_now_ns() + SPIN_NS;
    for (int i = 1; !done(arg); i++) {
        if (i % 64 == 0 && tfc_now_ns() > until) return;
#if defined(__x86_64__) || defined(__i386__)
        __builtin_ia32_pause();
#endif
    }
}

static int has_task(const void *pool) {
    const tfc_threadpool *p = pool;
    return atomic_load_explicit(&p->queued, memory_order_relaxed) ||
           atomic_load_explicit(&p->open_chunks, memory_order_relaxed);
}

typedef struct task_or_flag {
    const tfc_threadpool *pool;
    atomic_int *flag;
} task_or_flag;

static int has_task_or_flag(const void *arg) {
    const task_or_flag *w = arg;
    return has_task(w->pool) || atomic_load_explicit(w->flag, memory_order_relaxed);
}

/* The oldest queued task; call with the lock held and the queue not empty. */
static task pop_task(tfc_threadpool *p) {
    task t = p->queue[p->head];
    p->head = (p->head + 1) % p->cap;
    p->len--;
    atomic_store_explicit(&p->queued, (int)p->len, memory_order_relaxed);
    return t;
}

static void pfor_work(pfor_job *j);
static void pfor_release(pfor_job *j);

/* An open job of at most `most_chunks` chunks with a chunk left, with a
 * reference taken for the caller; NULL when there is none. Call with the
 * lock held. */
static pfor_job *claim_job_of(tfc_threadpool *p, int64_t most_chunks) {
    for (pfor_job *j = p->open_jobs; j; j = j->next_open)
        if (j->nchunks <= most_chunks &&
            atomic_load_explicit(&j->next, memory_order_relaxed) < j->nchunks) {
            atomic_fetch_add(&j->refs, 1);
            return j;
        }
    return NULL;
}

static pfor_job *claim_open_job(tfc_threadpool *p) { return claim_job_of(p, INT64_MAX); }

/* Work the lock holder can take: 1 when a task is queued or an open job
 * has a chunk left. */
static int work_ready(tfc_threadpool *p) {
    return p->len || atomic_load_explicit(&p->open_chunks, memory_order_relaxed);
}

/* Runs one piece of work with the lock held on entry and on return; 0
 * when there was none: a chunk of a job of at most one chunk a thread
 * (each chunk a thread's share of the kernel: one left unclaimed runs
 * after the caller's own and doubles the kernel, as the weight gradients'
 * products cut in two), else the oldest task, else chunks of an open job. */
static int run_one_locked(tfc_threadpool *p) {
    pfor_job *j = atomic_load_explicit(&p->open_chunks, memory_order_relaxed)
                      ? claim_job_of(p, p->nthreads)
                      : NULL;
    if (!j && p->len) {
        task t = pop_task(p);
        pthread_mutex_unlock(&p->lock);
        t.fn(t.arg);
        pthread_mutex_lock(&p->lock);
        return 1;
    }
    if (!j) j = claim_open_job(p);
    if (!j) return 0;
    pthread_mutex_unlock(&p->lock);
    pfor_work(j);
    pfor_release(j);
    pthread_mutex_lock(&p->lock);
    return 1;
}

/* Until there is work or SPIN_NS passed, counted as idle meanwhile. */
static void spin_idle(tfc_threadpool *p, int (*done)(const void *), const void *arg) {
    atomic_fetch_add_explicit(&p->idle, 1, memory_order_relaxed);
    spin_until(done, arg);
    atomic_fetch_sub_explicit(&p->idle, 1, memory_order_relaxed);
}

static void *worker_main(void *arg) {
    tfc_threadpool *p = arg;
    /* oneDNN, which runs on OpenMP, runs single-threaded on pool threads
     * (see ops/gemm.c); asked here, once, the thread's OpenMP state is
     * allocated now rather than in some later training step */
#ifdef _OPENMP
    omp_set_num_threads(1);
#endif
#ifdef __x86_64__
    (void)tfc_thread_scratch(); /* the register tiles' (see core/thread_scratch.h) */
#endif
    pthread_mutex_lock(&p->lock);
    p->workers_started++;
    pthread_cond_signal(&p->started);
    for (;;) {
        if (!work_ready(p) && !p->stopping) {
            pthread_mutex_unlock(&p->lock);
            spin_idle(p, has_task, p);
            pthread_mutex_lock(&p->lock);
        }
        while (!work_ready(p) && !p->stopping) {
            p->workers_asleep++;
            atomic_fetch_add_explicit(&p->idle, 1, memory_order_relaxed);
            pthread_cond_wait(&p->cond, &p->lock);
            atomic_fetch_sub_explicit(&p->idle, 1, memory_order_relaxed);
            p->workers_asleep--;
        }
        /* (a job's last chunk may have been claimed since: then no work) */
        if (!run_one_locked(p) && p->stopping && !p->len) break;
    }
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

tfc_threadpool *tfc_threadpool_new(int nthreads) {
    if (nthreads < 1) nthreads = 1;
    tfc_threadpool *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    p->nthreads = nthreads;
    atomic_init(&p->queued, 0);
    atomic_init(&p->open_chunks, 0);
    atomic_init(&p->idle, 0);
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->cond, NULL);
    pthread_cond_init(&p->started, NULL);
    p->cap = 64;
    p->queue = malloc(p->cap * sizeof *p->queue);
    p->workers = calloc((size_t)nthreads, sizeof *p->workers);
    if (!p->queue || !p->workers) {
        tfc_threadpool_free(p);
        return NULL;
    }
    for (int i = 0; i < nthreads - 1; i++) {
        if (pthread_create(&p->workers[i], NULL, worker_main, p) != 0) break;
        p->nworkers++;
    }
    /* a pool is ready when its threads run: none starts up (and allocates)
     * during the first runs */
    pthread_mutex_lock(&p->lock);
    while (p->workers_started < p->nworkers) pthread_cond_wait(&p->started, &p->lock);
    pthread_mutex_unlock(&p->lock);
    /* enough jobs for every thread to run a parallel_for while helpers of
     * earlier ones are still queued; when they run out the caller works alone */
    for (int i = 0; i < 4 * nthreads + 4; i++) {
        pfor_job *j = malloc(sizeof *j);
        if (!j) break;
        pthread_mutex_init(&j->lock, NULL);
        pthread_cond_init(&j->cond, NULL);
        j->pool = p;
        j->next_free = p->free_jobs;
        p->free_jobs = j;
    }
    return p;
}

void tfc_threadpool_free(tfc_threadpool *p) {
    if (!p) return;
    pthread_mutex_lock(&p->lock);
    p->stopping = 1;
    pthread_cond_broadcast(&p->cond);
    pthread_mutex_unlock(&p->lock);
    for (int i = 0; i < p->nworkers; i++) pthread_join(p->workers[i], NULL);
    pthread_mutex_destroy(&p->lock);
    pthread_cond_destroy(&p->cond);
    pthread_cond_destroy(&p->started);
    while (p->free_jobs) {
        pfor_job *j = p->free_jobs;
        p->free_jobs = j->next_free;
        pthread_mutex_destroy(&j->lock);
        pthread_cond_destroy(&j->cond);
        free(j);
    }
    free(p->queue);
    free(p->workers);
    free(p);
}

int tfc_threadpool_size(const tfc_threadpool *p) { return p ? p->nthreads : 1; }

static _Thread_local int inline_thread; /* see tfc_threadpool_set_inline_thread */

void tfc_threadpool_set_inline_thread(int on) { inline_thread = on; }

int tfc_threadpool_inline_thread(void) { return inline_thread; }

void tfc_threadpool_schedule(tfc_threadpool *p, void (*fn)(void *), void *arg) {
    if (!p || !p->nworkers) {
        fn(arg);
        return;
    }
    pthread_mutex_lock(&p->lock);
    if (p->len == p->cap) {
        size_t cap = p->cap * 2;
        task *q = malloc(cap * sizeof *q);
        if (!q) {
            pthread_mutex_unlock(&p->lock);
            fn(arg);
            return;
        }
        for (size_t i = 0; i < p->len; i++) q[i] = p->queue[(p->head + i) % p->cap];
        free(p->queue);
        p->queue = q;
        p->cap = cap;
        p->head = 0;
    }
    p->queue[(p->head + p->len) % p->cap] = (task){fn, arg};
    p->len++;
    atomic_store_explicit(&p->queued, (int)p->len, memory_order_relaxed);
    /* a spinning worker sees `queued`; only a sleeping one needs waking */
    if (p->workers_asleep || p->helpers_waiting) pthread_cond_signal(&p->cond);
    pthread_mutex_unlock(&p->lock);
}

void tfc_threadpool_help_until(tfc_threadpool *p, atomic_int *flag) {
    if (!p || !p->nworkers) return;
    task_or_flag w = {p, flag};
    spin_idle(p, has_task_or_flag, &w);
    pthread_mutex_lock(&p->lock);
    for (;;) {
        while (!work_ready(p) && !atomic_load(flag)) {
            p->helpers_waiting++;
            atomic_fetch_add_explicit(&p->idle, 1, memory_order_relaxed);
            pthread_cond_wait(&p->cond, &p->lock);
            atomic_fetch_sub_explicit(&p->idle, 1, memory_order_relaxed);
            p->helpers_waiting--;
        }
        if (atomic_load(flag)) break;
        if (run_one_locked(p)) continue;
        /* the chunks seen were claimed meanwhile: look again, awake */
        pthread_mutex_unlock(&p->lock);
        spin_idle(p, has_task_or_flag, &w);
        pthread_mutex_lock(&p->lock);
    }
    pthread_mutex_unlock(&p->lock);
}

int tfc_threadpool_help_parallel_for(tfc_threadpool *p) {
    if (!p || !atomic_load_explicit(&p->open_chunks, memory_order_relaxed)) return 0;
    pthread_mutex_lock(&p->lock);
    pfor_job *j = claim_open_job(p);
    pthread_mutex_unlock(&p->lock);
    if (!j) return 0;
    pfor_work(j);
    pfor_release(j);
    return 1;
}

int tfc_threadpool_wants_work(const tfc_threadpool *p) {
    if (!p) return 0;
    return atomic_load_explicit(&p->idle, memory_order_relaxed) >
           atomic_load_explicit(&p->queued, memory_order_relaxed) +
               atomic_load_explicit(&p->open_chunks, memory_order_relaxed);
}

void tfc_threadpool_set_flag(tfc_threadpool *p, atomic_int *flag) {
    if (!p) {
        atomic_store(flag, 1);
        return;
    }
    /* under the lock, so a helper between its check and its wait cannot miss
     * it; no wake-up (a system call) when nobody sleeps there */
    pthread_mutex_lock(&p->lock);
    atomic_store(flag, 1);
    if (p->helpers_waiting) pthread_cond_broadcast(&p->cond);
    pthread_mutex_unlock(&p->lock);
}

static void pfor_release(pfor_job *j) {
    if (atomic_fetch_sub(&j->refs, 1) == 1) {
        tfc_threadpool *p = j->pool;
        pthread_mutex_lock(&p->lock);
        j->next_free = p->free_jobs;
        p->free_jobs = j;
        pthread_mutex_unlock(&p->lock);
    }
}

/* A job from the pool's free list (its lock and cond stay initialized), or
 * NULL when all are in use: jobs are made once, with the pool, so a
 * parallel_for never allocates. */
static pfor_job *pfor_get(tfc_threadpool *p) {
    pthread_mutex_lock(&p->lock);
    pfor_job *j = p->free_jobs;
    if (j) p->free_jobs = j->next_free;
    pthread_mutex_unlock(&p->lock);
    return j;
}

static void pfor_work(pfor_job *j) {
    int64_t c;
    while ((c = atomic_fetch_add(&j->next, 1)) < j->nchunks) {
        /* the job's last chunk is taken: no thread need look at it again */
        if (c == j->nchunks - 1) atomic_fetch_sub(&j->pool->open_chunks, 1);
        int64_t b = c * j->chunk, e = b + j->chunk < j->n ? b + j->chunk : j->n;
        j->fn(j->arg, b, e);
        if (atomic_fetch_add(&j->done, 1) + 1 == j->nchunks) {
            pthread_mutex_lock(&j->lock);
            pthread_cond_broadcast(&j->cond);
            pthread_mutex_unlock(&j->lock);
        }
    }
}

static int all_chunks_done(const void *arg) {
    const pfor_job *j = arg;
    return atomic_load_explicit(&j->done, memory_order_acquire) >= j->nchunks;
}

static int done_or_open_chunks(const void *arg) {
    const pfor_job *j = arg;
    return all_chunks_done(j) || atomic_load_explicit(&j->pool->open_chunks, memory_order_relaxed);
}

/* Takes j off the open list (its chunks are all claimed). */
static void pfor_close(tfc_threadpool *p, pfor_job *j) {
    pthread_mutex_lock(&p->lock);
    for (pfor_job **q = &p->open_jobs; *q; q = &(*q)->next_open)
        if (*q == j) {
            *q = j->next_open;
            break;
        }
    pthread_mutex_unlock(&p->lock);
}

void tfc_parallel_for(tfc_threadpool *p, int64_t n, int64_t grain,
                      void (*fn)(void *arg, int64_t begin, int64_t end), void *arg) {
    if (n <= 0) return;
    if (grain < 1) grain = 1;
    int threads = tfc_threadpool_size(p);
    if (threads == 1 || n <= grain || inline_thread) {
        fn(arg, 0, n);
        return;
    }
    /* at least 12 chunks where the work allows: a thread that joins late
     * (it was finishing a node) leaves one chunk's imbalance at most */
    int64_t nchunks = n / grain, most = threads * 4 < 12 ? 12 : (int64_t)threads * 4;
    if (nchunks > most) nchunks = most;
    if (nchunks < 2) {
        fn(arg, 0, n);
        return;
    }
    pfor_job *j = pfor_get(p);
    if (!j) {
        fn(arg, 0, n);
        return;
    }
    j->fn = fn;
    j->arg = arg;
    j->n = n;
    j->chunk = (n + nchunks - 1) / nchunks;
    j->nchunks = (n + j->chunk - 1) / j->chunk;
    atomic_init(&j->next, 0);
    atomic_init(&j->done, 0);
    atomic_init(&j->refs, 1);
    /* open: the pool's threads take its chunks as they come free */
    pthread_mutex_lock(&p->lock);
    j->next_open = NULL;
    pfor_job **q = &p->open_jobs;
    while (*q) q = &(*q)->next_open;
    *q = j;
    atomic_fetch_add(&p->open_chunks, 1);
    int asleep = p->workers_asleep + p->helpers_waiting;
    if (asleep > 1 && j->nchunks > 2)
        pthread_cond_broadcast(&p->cond);
    else if (asleep)
        pthread_cond_signal(&p->cond);
    pthread_mutex_unlock(&p->lock);
    pfor_work(j);
    pfor_close(p, j);
    /* the last chunks are usually a few microseconds from done: waiting
     * awake costs less than being woken; meanwhile chunks of other jobs
     * (another thread's kernel) are taken rather than waited beside */
    for (;;) {
        spin_until(done_or_open_chunks, j);
        if (all_chunks_done(j) || !tfc_threadpool_help_parallel_for(p)) break;
    }
    pthread_mutex_lock(&j->lock);
    while (atomic_load(&j->done) < j->nchunks) pthread_cond_wait(&j->cond, &j->lock);
    pthread_mutex_unlock(&j->lock);
    pfor_release(j);
}
