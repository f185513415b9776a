/* A tiny test harness: CHECK macros that count and report, helpers that make
 * random tensors and run graphs. Each test file defines main() with
 * TFC_TEST_MAIN and a list of tests registered by TEST(name). */
#ifndef TFC_TEST_HARNESS_H
#define TFC_TEST_HARNESS_H

#include "tfc.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

extern int tfc_test_failures;
extern int tfc_test_checks;
extern const char *tfc_test_current;

#define CHECK(cond)                                                                   \
    do {                                                                              \
        tfc_test_checks++;                                                            \
        if (!(cond)) {                                                                \
            tfc_test_failures++;                                                      \
            fprintf(stderr, "%s:%d: [%s] CHECK failed: %s\n", __FILE__, __LINE__,     \
                    tfc_test_current, #cond);                                         \
        }                                                                             \
    } while (0)

#define CHECK_MSG(cond, ...)                                                          \
    do {                                                                              \
        tfc_test_checks++;                                                            \
        if (!(cond)) {                                                                \
            tfc_test_failures++;                                                      \
            fprintf(stderr, "%s:%d: [%s] CHECK failed: %s: ", __FILE__, __LINE__,     \
                    tfc_test_current, #cond);                                         \
            fprintf(stderr, __VA_ARGS__);                                             \
            fprintf(stderr, "\n");                                                    \
        }                                                                             \
    } while (0)

#define CHECK_NEAR(a, b, tol)                                                         \
    do {                                                                              \
        double _a = (double)(a), _b = (double)(b);                                    \
        CHECK_MSG(fabs(_a - _b) <= (tol) * (1.0 + fabs(_b)), "%.9g vs %.9g", _a, _b); \
    } while (0)

/* The graph has no error, else the error is printed. */
#define CHECK_GRAPH_OK(g) CHECK_MSG(tfc_graph_error(g) == NULL, "%s", tfc_graph_error(g))
#define CHECK_STATUS_OK(st) \
    CHECK_MSG(tfc_status_code(st) == TFC_OK, "%s", tfc_status_message(st))
/* The string contains the substring. */
#define CHECK_CONTAINS(str, sub)                                                      \
    do {                                                                              \
        const char *_s = (str);                                                       \
        CHECK_MSG(_s && strstr(_s, (sub)), "'%s' lacks '%s'", _s ? _s : "(null)", sub); \
    } while (0)

typedef void (*tfc_test_fn)(void);
typedef struct tfc_test_case {
    const char *name;
    tfc_test_fn fn;
} tfc_test_case;

/* Runs the tests, prints "N passed, N failed", returns the exit code. */
int tfc_test_run_all(const tfc_test_case *tests, int n, int argc, char **argv);

#define TFC_TEST_MAIN(...)                                                       \
    int main(int argc, char **argv) {                                            \
        static const tfc_test_case tests_[] = {__VA_ARGS__};                     \
        return tfc_test_run_all(tests_, (int)(sizeof tests_ / sizeof *tests_), argc, argv); \
    }
#define T(fn) {#fn, fn}

/* Deterministic random numbers for test data. */
void tfc_test_seed(unsigned long long seed);
double tfc_test_uniform(double lo, double hi);
/* 64 random bits from the same stream (for bit patterns: NaN payloads,
 * denormals, any integer). */
unsigned long long tfc_test_bits(void);
/* A tensor of random values in [lo, hi) (cast for integer types). */
tfc_tensor *tfc_test_random_tensor(tfc_dtype dt, int rank, const int64_t *dims, double lo,
                                   double hi);

/* Runs one fetch in a fresh session; returns the tensor or NULL (prints why). */
tfc_tensor *tfc_test_eval(tfc_graph *g, tfc_output fetch, const tfc_output *feeds,
                          tfc_tensor *const *values, int nfeeds);
/* A session of g with `threads` intra- and inter-op threads whose global
 * variables are initialized; NULL (with st set) when either fails. */
tfc_session *tfc_test_session_initialized(tfc_graph *g, int threads, tfc_status *st);
/* A session of g with `threads` intra- and inter-op threads and graph
 * optimizations `level`; a failure to make it fails the test. */
tfc_session *tfc_test_session_at(tfc_graph *g, int threads, tfc_opt_level level);
/* Same, as a double of element i. */
double tfc_test_eval_scalar(tfc_graph *g, tfc_output fetch);
/* Max |a - b| over the elements of two tensors of the same size (as doubles). */
double tfc_test_max_diff(const tfc_tensor *a, const tfc_tensor *b);
double tfc_test_get(const tfc_tensor *t, int64_t i);

#endif
