/* The test harness's runner and helpers. */
#include "harness.h"

#include <stdlib.h>

int tfc_test_failures;
int tfc_test_checks;
const char *tfc_test_current = "";

int tfc_test_run_all(const tfc_test_case *tests, int n, int argc, char **argv) {
    int passed = 0, failed = 0;
    for (int i = 0; i < n; i++) {
        if (argc > 1 && !strstr(tests[i].name, argv[1])) continue;
        int before = tfc_test_failures;
        tfc_test_current = tests[i].name;
        tests[i].fn();
        if (tfc_test_failures == before) {
            passed++;
            printf("ok   %s\n", tests[i].name);
        } else {
            failed++;
            printf("FAIL %s\n", tests[i].name);
        }
        fflush(stdout);
    }
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}

static unsigned long long rng_state = 0x853c49e6748fea9bull;

void tfc_test_seed(unsigned long long seed) { rng_state = seed * 2654435761ull + 1; }

double tfc_test_uniform(double lo, double hi) {
    rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
    double u = (double)(rng_state >> 11) / 9007199254740992.0;
    return lo + (hi - lo) * u;
}

unsigned long long tfc_test_bits(void) {
    rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
    /* the LCG's low bits repeat quickly: mix them (splitmix64's finalizer) */
    unsigned long long z = rng_state;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

tfc_tensor *tfc_test_random_tensor(tfc_dtype dt, int rank, const int64_t *dims, double lo,
                                   double hi) {
    tfc_tensor *t = tfc_tensor_new(dt, rank, dims);
    int64_t n = tfc_tensor_num_elements(t);
    void *p = tfc_tensor_data(t);
    for (int64_t i = 0; i < n; i++) {
        double v = tfc_test_uniform(lo, hi);
        switch (dt) {
        case TFC_FLOAT: ((float *)p)[i] = (float)v; break;
        case TFC_DOUBLE: ((double *)p)[i] = v; break;
        case TFC_INT32: ((int32_t *)p)[i] = (int32_t)floor(v); break;
        case TFC_INT64: ((int64_t *)p)[i] = (int64_t)floor(v); break;
        case TFC_UINT8: ((uint8_t *)p)[i] = (uint8_t)floor(v); break;
        case TFC_BOOL: ((uint8_t *)p)[i] = v > (lo + hi) / 2; break;
        default: break;
        }
    }
    return t;
}

tfc_tensor *tfc_test_eval(tfc_graph *g, tfc_output fetch, const tfc_output *feeds,
                          tfc_tensor *const *values, int nfeeds) {
    if (tfc_graph_error(g)) {
        fprintf(stderr, "[%s] graph error: %s\n", tfc_test_current, tfc_graph_error(g));
        return NULL;
    }
    tfc_status *st = tfc_status_new();
    tfc_session *s = tfc_session_new(g, NULL, st);
    tfc_tensor *out = NULL;
    if (s) {
        tfc_node *init = NULL;
        if (tfc_graph_collection_size(g, TFC_GLOBAL_VARIABLES)) {
            init = tfc_global_variables_initializer(g);
            tfc_session_run(s, NULL, NULL, 0, NULL, 0, NULL, &init, 1, st);
        }
        if (tfc_status_code(st) == TFC_OK)
            out = tfc_session_run1(s, feeds, values, nfeeds, fetch, st);
    }
    if (!out) fprintf(stderr, "[%s] run error: %s\n", tfc_test_current, tfc_status_message(st));
    tfc_session_free(s);
    tfc_status_free(st);
    return out;
}

double tfc_test_get(const tfc_tensor *t, int64_t i) {
    const void *p = tfc_tensor_data(t);
    switch (tfc_tensor_dtype(t)) {
    case TFC_FLOAT: return ((const float *)p)[i];
    case TFC_DOUBLE: return ((const double *)p)[i];
    case TFC_INT32: return ((const int32_t *)p)[i];
    case TFC_INT64: return (double)((const int64_t *)p)[i];
    case TFC_UINT8:
    case TFC_BOOL: return ((const uint8_t *)p)[i];
    default: return NAN;
    }
}

double tfc_test_eval_scalar(tfc_graph *g, tfc_output fetch) {
    tfc_tensor *t = tfc_test_eval(g, fetch, NULL, NULL, 0);
    if (!t) return NAN;
    double v = tfc_test_get(t, 0);
    tfc_tensor_free(t);
    return v;
}

double tfc_test_max_diff(const tfc_tensor *a, const tfc_tensor *b) {
    if (!a || !b || tfc_tensor_num_elements(a) != tfc_tensor_num_elements(b)) return INFINITY;
    double m = 0;
    for (int64_t i = 0; i < tfc_tensor_num_elements(a); i++) {
        double d = fabs(tfc_test_get(a, i) - tfc_test_get(b, i));
        if (d > m || isnan(d)) m = isnan(d) ? INFINITY : d;
    }
    return m;
}

tfc_session *tfc_test_session_at(tfc_graph *g, int threads, tfc_opt_level level) {
    tfc_session_options o = {.intra_op_threads = threads, .inter_op_threads = threads};
    o.opt_level = level;
    tfc_status *st = tfc_status_new();
    tfc_session *s = tfc_session_new(g, &o, st);
    CHECK_STATUS_OK(st);
    tfc_status_free(st);
    return s;
}

tfc_session *tfc_test_session_initialized(tfc_graph *g, int threads, tfc_status *st) {
    tfc_node *init = tfc_global_variables_initializer(g);
    tfc_session_options o = {.intra_op_threads = threads, .inter_op_threads = threads};
    tfc_session *s = tfc_session_new(g, &o, st);
    if (s) tfc_session_run(s, NULL, NULL, 0, NULL, 0, NULL, &init, 1, st);
    if (s && tfc_status_code(st) != TFC_OK) {
        tfc_session_free(s);
        return NULL;
    }
    return s;
}
