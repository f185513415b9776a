/* The clocks the benchmarks read, in seconds: the wall clock, the
 * process's CPU time (every thread's: on a shared machine, examples per
 * CPU-second of a 1-thread run track what an idle machine's wall clock
 * would show) and the calling thread's CPU time. */
#ifndef TFC_BENCH_CLOCK_H
#define TFC_BENCH_CLOCK_H

#include <time.h>

static inline double bench_clock_s(clockid_t id) {
    struct timespec ts;
    clock_gettime(id, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static inline double now_s(void) { return bench_clock_s(CLOCK_MONOTONIC); }
static inline double cpu_s(void) { return bench_clock_s(CLOCK_PROCESS_CPUTIME_ID); }
static inline double thread_cpu_s(void) { return bench_clock_s(CLOCK_THREAD_CPUTIME_ID); }

#endif
