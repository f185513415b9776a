/* What the determinism and fusion tests (test_determinism.c,
 * test_rnn_determinism.c, test_fused_update.c, test_fused_cnn.c) share: a session at a given thread count with its variables initialized,
 * the trained variables read back, and the check that training gives the
 * same bits at 1, 2 and 3 threads. Static functions, so that each test
 * stays one program. */
#ifndef TFC_TESTS_DETERMINISM_HELPERS_H
#define TFC_TESTS_DETERMINISM_HELPERS_H

#include "harness.h"

#include <stdlib.h>
#include <string.h>

/* A session of g with `threads` threads (intra- and inter-op), after g's
 * variables' initializer ran (the caller frees it). */
static inline tfc_session *det_session(tfc_graph *g, int threads, tfc_status *st) {
    tfc_node *init = tfc_global_variables_initializer(g);
    CHECK_GRAPH_OK(g);
    tfc_session_options o = {.intra_op_threads = threads, .inter_op_threads = threads};
    tfc_session *s = tfc_session_new(g, &o, st);
    tfc_session_run(s, NULL, NULL, 0, NULL, 0, NULL, &init, 1, st);
    CHECK_STATUS_OK(st);
    return s;
}

/* The same at an optimization level (tfc_test_session_at). */
static inline tfc_session *det_session_at(tfc_graph *g, int threads, tfc_opt_level level,
                                          tfc_status *st) {
    tfc_node *init = tfc_global_variables_initializer(g);
    CHECK_GRAPH_OK(g);
    tfc_session *s = tfc_test_session_at(g, threads, level);
    tfc_session_run(s, NULL, NULL, 0, NULL, 0, NULL, &init, 1, st);
    CHECK_STATUS_OK(st);
    return s;
}

/* The bytes of g's trainable variables in s, of any dtype, concatenated
 * in collection order (the caller frees them; NULL when there are none);
 * their count in *nbytes. */
static inline char *det_trainable_bytes(tfc_graph *g, tfc_session *s, tfc_status *st,
                                        size_t *nbytes) {
    int nv = tfc_graph_collection_size(g, TFC_TRAINABLE_VARIABLES);
    char *all = NULL;
    *nbytes = 0;
    for (int i = 0; i < nv; i++) {
        tfc_output v = tfc_out(tfc_graph_collection_get(g, TFC_TRAINABLE_VARIABLES, i), 0);
        tfc_tensor *t = tfc_session_run1(s, NULL, NULL, 0, v, st);
        CHECK_STATUS_OK(st);
        if (!t) continue;
        size_t k = tfc_tensor_nbytes(t);
        char *grown = realloc(all, *nbytes + k);
        if (grown) {
            all = grown;
            memcpy(all + *nbytes, tfc_tensor_data(t), k);
            *nbytes += k;
        }
        tfc_tensor_free(t);
    }
    return all;
}

/* The same for float variables: their values, and their count in *n. */
static inline float *det_trainable_values(tfc_graph *g, tfc_session *s, tfc_status *st,
                                          int64_t *n) {
    size_t nbytes;
    float *all = (float *)det_trainable_bytes(g, s, st, &nbytes);
    *n = (int64_t)(nbytes / sizeof *all);
    return all;
}

/* A training run at `threads` threads: the trained values (caller frees)
 * and their count in *n, as det_trainable_values gives them. */
typedef float *(*det_train_fn)(int threads, int64_t *n);

/* Trains with `train` at 1, 2 and 3 threads and checks that the results
 * have the same bits (and at least min_n values; `what` names the model
 * in messages). Returns the 2-thread result (the caller frees it; its
 * count in *n2) for further checks. */
static inline float *det_check_thread_counts(det_train_fn train, const char *what, int64_t min_n,
                                             int64_t *n2) {
    int64_t n1 = 0, n3 = 0;
    *n2 = 0;
    float *a = train(1, &n1), *b = train(2, n2), *c = train(3, &n3);
    CHECK_MSG(a && b && c && n1 >= min_n && n1 == *n2 && n1 == n3, "%s: %lld, %lld, %lld values",
              what, (long long)n1, (long long)*n2, (long long)n3);
    if (a && b && c && n1 == *n2 && n1 == n3) {
        CHECK_MSG(memcmp(a, b, (size_t)n1 * sizeof *a) == 0, "%s: 1 vs 2 threads differ", what);
        CHECK_MSG(memcmp(a, c, (size_t)n1 * sizeof *a) == 0, "%s: 1 vs 3 threads differ", what);
    }
    free(a);
    free(c);
    return b;
}

#endif
