/* A fixed pool of worker threads. The calling thread always takes part in
 * the work it hands out, so a pool of size 1 has no workers at all and
 * nesting (a parallel kernel inside a node run on a worker) cannot deadlock. */
#ifndef TFC_CORE_THREADPOOL_H
#define TFC_CORE_THREADPOOL_H

#include <stdatomic.h>
#include <stdint.h>

typedef struct tfc_threadpool tfc_threadpool;

/* A pool for `nthreads` threads in all, the caller included. */
tfc_threadpool *tfc_threadpool_new(int nthreads);
void tfc_threadpool_free(tfc_threadpool *p);
/* Threads in all, the caller included (1 for a NULL pool). */
int tfc_threadpool_size(const tfc_threadpool *p);
/* Runs fn(arg) on a worker, or inline when the pool has none. */
void tfc_threadpool_schedule(tfc_threadpool *p, void (*fn)(void *), void *arg);

/* Runs queued tasks in the calling thread until *flag becomes nonzero,
 * sleeping while there are none: a thread that waits for work it handed
 * out helps with it instead of idling (with 2 threads, a kernel's
 * parallel_for on the only worker would otherwise run alone). */
void tfc_threadpool_help_until(tfc_threadpool *p, atomic_int *flag);
/* Sets *flag and wakes the threads in tfc_threadpool_help_until. The
 * flag's owner may return as soon as it is set: nothing touches it after. */
void tfc_threadpool_set_flag(tfc_threadpool *p, atomic_int *flag);

/* Runs chunks of parallel_for jobs that other threads' kernels opened
 * and no thread has taken yet, without waiting for any; 1 when it ran
 * some. An executor calls it before a cheap ready node: a kernel waiting
 * for help costs more than that node's delay. */
int tfc_threadpool_help_parallel_for(tfc_threadpool *p);
/* 1 when more of the pool's threads look for work (spinning or asleep)
 * than there is work queued for them: a thread with several ready nodes
 * then hands one over rather than keeping it. */
int tfc_threadpool_wants_work(const tfc_threadpool *p);

/* Calls fn(arg, begin, end) over disjoint ranges covering [0, n), in
 * parallel when n is large enough; `grain` is the smallest range worth a
 * thread. Returns when every range is done. The split depends only on n,
 * grain and the pool size, so results are deterministic. */
void tfc_parallel_for(tfc_threadpool *p, int64_t n, int64_t grain,
                      void (*fn)(void *arg, int64_t begin, int64_t end), void *arg);

/* Marks the calling thread (on: 1) as one that keeps its work to itself:
 * there a parallel_for runs every range inline and a session runs a step's
 * nodes serially. A queue runner's thread does, so that it never takes
 * the pool's threads from the training step beside it. */
void tfc_threadpool_set_inline_thread(int on);
int tfc_threadpool_inline_thread(void);

/* Number of online CPU cores. */
int tfc_num_cores(void);

#endif
