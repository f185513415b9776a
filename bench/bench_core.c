/* Core benchmarks: the cost of a warm Session.run, and MatMul against a
 * direct cblas_sgemm call in the same process. Prints one line per row:
 *   name<TAB>threads<TAB>tfc figure<TAB>peer figure<TAB>unit
 * (peer "-" when there is none in C; bench/run.sh adds PyTorch's). */
#include "bench_clock.h"
#include "tfc.h"

#include <cblas.h>
#include <omp.h>
#include <oneapi/dnnl/dnnl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

extern void openblas_set_num_threads(int n);

/* Median of `reps` timings of `iters` calls, in seconds per call. */
#define TIME_MEDIAN(result, reps, iters, body)                                                     \
    do {                                                                                           \
        double _t[reps];                                                                           \
        for (int _r = 0; _r < (reps); _r++) {                                                      \
            double _s = now_s();                                                                   \
            for (long _i = 0; _i < (iters); _i++) {                                                \
                body;                                                                              \
            }                                                                                      \
            _t[_r] = (now_s() - _s) / (iters);                                                     \
        }                                                                                          \
        for (int _a = 0; _a < (reps); _a++)                                                        \
            for (int _b = _a + 1; _b < (reps); _b++)                                               \
                if (_t[_b] < _t[_a]) {                                                             \
                    double _x = _t[_a];                                                            \
                    _t[_a] = _t[_b];                                                               \
                    _t[_b] = _x;                                                                   \
                }                                                                                  \
        result = _t[(reps) / 2];                                                                   \
    } while (0)

static void bench_scalar_chain(int threads) {
    tfc_graph *g = tfc_graph_new();
    int64_t none[1] = {0};
    tfc_output x = tfc_placeholder(g, "x", TFC_FLOAT, 0, none);
    tfc_output y = x;
    for (int i = 0; i < 10; i++) y = tfc_add(g, y, tfc_const_float(g, 1.0f));
    tfc_status *st = tfc_status_new();
    tfc_session_options o = {.intra_op_threads = threads, .inter_op_threads = threads};
    tfc_session *s = tfc_session_new(g, &o, st);
    tfc_tensor *xt = tfc_tensor_scalar_float(1);
    tfc_tensor *out = NULL;
    for (int i = 0; i < 1000; i++) {
        tfc_session_run(s, &x, &xt, 1, &y, 1, &out, NULL, 0, st);
        tfc_tensor_free(out);
    }
    double t, c0 = thread_cpu_s();
    TIME_MEDIAN(t, 7, 20000, {
        tfc_session_run(s, &x, &xt, 1, &y, 1, &out, NULL, 0, st);
        tfc_tensor_free(out);
    });
    double cpu = (thread_cpu_s() - c0) / (7 * 20000.0);
    printf("session_run_10_scalar_adds\t%d\t%.3f\t-\tus/run\n", threads, t * 1e6);
    fprintf(stderr, "session_run_10_scalar_adds: %.3f us of the caller's CPU time a run (%d threads)\n",
            cpu * 1e6, threads);
    tfc_tensor_free(xt);
    tfc_session_free(s);
    tfc_status_free(st);
    tfc_graph_free(g);
}

/* Median seconds of a warm session run of one n x n MatMul (*t_tfc) and of
 * the bare library calls on the same data, OpenBLAS's cblas_sgemm (*t_blas)
 * and oneDNN's dnnl_sgemm (*t_dnnl), `threads` for all; `warmup` runs
 * first, then `reps` timings of `iters` calls each. */
static void time_matmul(int n, int threads, int warmup, int reps, long iters, double *t_tfc,
                        double *t_blas, double *t_dnnl) {
    tfc_graph *g = tfc_graph_new();
    int64_t d[] = {n, n};
    tfc_output a = tfc_placeholder(g, "a", TFC_FLOAT, 2, d);
    tfc_output b = tfc_placeholder(g, "b", TFC_FLOAT, 2, d);
    tfc_output c = tfc_matmul(g, a, b);
    tfc_status *st = tfc_status_new();
    tfc_session_options o = {.intra_op_threads = threads, .inter_op_threads = 1};
    tfc_session *s = tfc_session_new(g, &o, st);
    tfc_tensor *at = tfc_tensor_new(TFC_FLOAT, 2, d), *bt = tfc_tensor_new(TFC_FLOAT, 2, d);
    float *ap = tfc_tensor_data(at), *bp = tfc_tensor_data(bt);
    for (long i = 0; i < (long)n * n; i++) {
        ap[i] = (float)((i * 7) % 13) / 13.0f;
        bp[i] = (float)((i * 5) % 11) / 11.0f;
    }
    tfc_output feeds[] = {a, b};
    tfc_tensor *vals[] = {at, bt};
    tfc_tensor *out = NULL;
    for (int i = 0; i < warmup; i++) {
        tfc_session_run(s, feeds, vals, 2, &c, 1, &out, NULL, 0, st);
        tfc_tensor_free(out);
    }
    TIME_MEDIAN(*t_tfc, reps, iters, {
        tfc_session_run(s, feeds, vals, 2, &c, 1, &out, NULL, 0, st);
        tfc_tensor_free(out);
    });
    float *cp = malloc(sizeof(float) * n * n);
    openblas_set_num_threads(threads);
    TIME_MEDIAN(*t_blas, reps, iters, {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, ap, n, bp, n, 0.0f,
                    cp, n);
    });
    openblas_set_num_threads(1);
    omp_set_num_threads(threads);
    TIME_MEDIAN(*t_dnnl, reps, iters,
                { dnnl_sgemm('N', 'N', n, n, n, 1.0f, ap, n, bp, n, 0.0f, cp, n); });
    omp_set_num_threads(1);
    free(cp);
    tfc_tensor_free(at);
    tfc_tensor_free(bt);
    tfc_session_free(s);
    tfc_status_free(st);
    tfc_graph_free(g);
}

static void bench_matmul(int n, int threads) {
    long iters = n <= 256 ? 200 : n <= 512 ? 40 : n <= 1024 ? 6 : 2;
    double t_tfc, t_blas, t_dnnl, flops = 2.0 * n * n * n;
    time_matmul(n, threads, 1, 5, iters, &t_tfc, &t_blas, &t_dnnl);
    printf("matmul_%d\t%d\t%.1f\tcblas:%.1f,onednn:%.1f\tGFLOP/s\n", n, threads,
           flops / t_tfc * 1e-9, flops / t_blas * 1e-9, flops / t_dnnl * 1e-9);
}

/* A warm run of one small MatMul against the bare sgemm calls: the
 * difference is what a run costs beyond the kernel (goal: under 1 us). */
static void bench_small_matmul(int n) {
    double t_tfc, t_blas, t_dnnl;
    time_matmul(n, 1, 1000, 7, 20000, &t_tfc, &t_blas, &t_dnnl);
    printf("session_run_matmul_%d\t1\t%.3f\tcblas:%.3f,onednn:%.3f\tus/run\n", n, t_tfc * 1e6,
           t_blas * 1e6, t_dnnl * 1e6);
}

int main(int argc, char **argv) {
    int quick = argc > 1 && strcmp(argv[1], "--quick") == 0;
    for (int threads = 1; threads <= 2; threads++) bench_scalar_chain(threads);
    bench_small_matmul(8);
    bench_small_matmul(32);
    int sizes[] = {256, 512, 1024, 2048};
    for (int i = 0; i < (quick ? 2 : 4); i++)
        for (int threads = 1; threads <= 2; threads++) bench_matmul(sizes[i], threads);
    return 0;
}
