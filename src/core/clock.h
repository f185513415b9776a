/* A monotonic clock in nanoseconds, for timing decisions (which nodes to
 * hand off, when to pipeline a loop, how long to spin). */
#ifndef TFC_CORE_CLOCK_H
#define TFC_CORE_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline int64_t tfc_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

#endif
