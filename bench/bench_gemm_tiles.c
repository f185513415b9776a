/* tfc's register tiles (src/ops/gemm_tiles.c) against the bare library
 * calls, one thread, on the products of the benchmark models' training
 * steps: oneDNN's sgemm (what tfc used before the tiles) and OpenBLAS's.
 * Prints GFLOP/s (best of 5 rounds) and the tiles' ratio to each.
 *   bench_gemm_tiles [rounds]                                       */
#include "bench_clock.h"
#include "ops/gemm_tiles.h"

#include <cblas.h>
#include <omp.h>
#include <oneapi/dnnl/dnnl.h>
#include <stdio.h>
#include <stdlib.h>

typedef struct shape {
    const char *what;
    int ta, tb, m, n, k;
} shape;

static const shape shapes[] = {
    {"MLP layer 1 forward", 0, 0, 100, 256, 784},
    {"MLP layer 2 forward", 0, 0, 100, 256, 256},
    {"MLP layer 2 input gradient", 0, 1, 100, 256, 256},
    {"MLP layer 1 weight gradient", 1, 0, 784, 256, 100},
    {"  its half at 2 threads", 0, 0, 100, 128, 784},
    {"MLP layer 1 weight gradient, half", 1, 0, 392, 256, 100},
    {"MLP layer 2 input gradient, half", 0, 1, 100, 128, 256},
    {"CNN dense forward", 0, 0, 50, 1024, 3136},
    {"  its blocks as tfc_gemm cuts it", 0, 0, 50, 512, 3136},
    {"CNN dense input gradient", 0, 1, 50, 3136, 1024},
    {"CNN dense weight gradient", 1, 0, 3136, 1024, 50},
    {"LSTM gates (batch 20, 200+200 -> 800)", 0, 0, 20, 800, 400},
    {"LSTM logits (400 rows, 200 -> 10000)", 0, 0, 400, 10000, 200},
    {"  a block of them as tfc_gemm cuts it", 0, 0, 400, 834, 200},
    {"LSTM logits' weight gradient, a block", 1, 0, 200, 834, 400},
    {"LSTM logits' input gradient, a k block", 0, 1, 400, 200, 834},
    {"square 512", 0, 0, 512, 512, 512},
    {"one tile, in L1 (6 64 128)", 0, 0, 6, 64, 128},
    {"L1-sized (24 64 128)", 0, 0, 24, 64, 128},
};

typedef enum { TILES, DNNL, OPENBLAS } which;

static void product(which w, const shape *s, const float *a, const float *b, float *c) {
    int lda = s->ta ? s->m : s->k, ldb = s->tb ? s->k : s->n;
    if (w == TILES)
        tfc_gemm_tiles(s->ta, s->tb, s->m, s->n, s->k, a, lda, b, ldb, c, s->n, TILE_SET, 0.0f);
    else if (w == DNNL)
        dnnl_sgemm(s->ta ? 'T' : 'N', s->tb ? 'T' : 'N', s->m, s->n, s->k, 1.0f, a, lda, b, ldb,
                   0.0f, c, s->n);
    else
        cblas_sgemm(CblasRowMajor, s->ta ? CblasTrans : CblasNoTrans,
                    s->tb ? CblasTrans : CblasNoTrans, s->m, s->n, s->k, 1.0f, a, lda, b, ldb, 0.0f,
                    c, s->n);
}

static double gflops(which w, const shape *s, const float *a, const float *b, float *c,
                     int rounds) {
    double flop = 2.0 * s->m * s->n * s->k, best = 0;
    int reps = (int)(2e8 / flop) + 1;
    product(w, s, a, b, c);
    for (int r = 0; r < rounds; r++) {
        double t0 = now_s();
        for (int i = 0; i < reps; i++) product(w, s, a, b, c);
        double g = flop * reps / (now_s() - t0) / 1e9;
        if (g > best) best = g;
    }
    return best;
}

int main(int argc, char **argv) {
    int rounds = argc > 1 ? atoi(argv[1]) : 5;
    omp_set_num_threads(1);
    openblas_set_num_threads(1);
    printf("tiles %d columns wide; GFLOP/s, one thread, best of %d\n", tfc_tile_width(), rounds);
    printf("%-40s %8s %8s %8s %7s %7s\n", "product (m n k)", "tiles", "oneDNN", "OpenBLAS",
           "/oneDNN", "/OBLAS");
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        const shape *s = &shapes[i];
        size_t na = (size_t)s->m * s->k, nb = (size_t)s->k * s->n, nc = (size_t)s->m * s->n;
        float *a = malloc(sizeof(float) * (na + nb + nc));
        if (!a) return 1;
        float *b = a + na, *c = b + nb;
        for (size_t j = 0; j < na + nb; j++) a[j] = (float)((j * 7919) % 1000) / 1000.0f - 0.5f;
        double t = gflops(TILES, s, a, b, c, rounds), d = gflops(DNNL, s, a, b, c, rounds);
        double o = gflops(OPENBLAS, s, a, b, c, rounds);
        char name[96];
        snprintf(name, sizeof name, "%s (%d %d %d)", s->what, s->m, s->n, s->k);
        printf("%-40s %8.1f %8.1f %8.1f %7.2f %7.2f\n", name, t, d, o, t / d, t / o);
        free(a);
    }
    return 0;
}
