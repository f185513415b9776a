/* The frozen models of the inference-only build's tests (docs/MOBILE.md):
 *   tests/data/inference/mlp_frozen.pb    a small MLP, x[-1,16] -> 32 relu
 *                                         -> 10 softmax "y", frozen by the
 *                                         full build (test_inference_freeze)
 *   tests/data/inference/mlp_expected.txt its outputs for inference_input(),
 *                                         one %.9g per line
 * test_inference_freeze (full build) checks that the files are what the
 * full build's freeze writes and computes; test_inference_graph (both
 * builds) that the GraphDef gives those outputs. The two builds' matrix
 * products differ (oneDNN vs src/ops/gemm_portable.c), so outputs agree to
 * float rounding: INFERENCE_TOL. */
#ifndef TFC_TESTS_INFERENCE_MODEL_H
#define TFC_TESTS_INFERENCE_MODEL_H

#include "harness.h"

#include <stdio.h>
#include <stdlib.h>

#define INFERENCE_BATCH 5
#define INFERENCE_IN 16
#define INFERENCE_HIDDEN 32
#define INFERENCE_OUT 10
#define INFERENCE_TOL 1e-5

/* The fed batch: a fixed formula, so both builds feed the same bits. */
static inline tfc_tensor *inference_input(void) {
    float v[INFERENCE_BATCH * INFERENCE_IN];
    for (int i = 0; i < INFERENCE_BATCH * INFERENCE_IN; i++) v[i] = (float)sin(0.37 * i + 0.1);
    return tfc_tensor_from_data(TFC_FLOAT, 2, (int64_t[]){INFERENCE_BATCH, INFERENCE_IN}, v);
}

/* "<TFC_TEST_DATA>/inference/<name>" in buf. */
static inline const char *inference_path(char *buf, size_t n, const char *name) {
    const char *dir = getenv("TFC_TEST_DATA");
    snprintf(buf, n, "%s/inference/%s", dir ? dir : "tests/data", name);
    return buf;
}

/* Reads the expected outputs (INFERENCE_BATCH * INFERENCE_OUT of them);
 * returns 0, or -1 after a failed CHECK. */
static inline int inference_expected(float *out) {
    char path[4096];
    FILE *f = fopen(inference_path(path, sizeof path, "mlp_expected.txt"), "r");
    CHECK_MSG(f != NULL, "cannot open %s", path);
    if (!f) return -1;
    int n = 0;
    while (n < INFERENCE_BATCH * INFERENCE_OUT && fscanf(f, "%f", &out[n]) == 1) n++;
    fclose(f);
    CHECK_MSG(n == INFERENCE_BATCH * INFERENCE_OUT, "%s: %d numbers, expected %d", path, n,
              INFERENCE_BATCH * INFERENCE_OUT);
    return n == INFERENCE_BATCH * INFERENCE_OUT ? 0 : -1;
}

/* Imports a frozen GraphDef's bytes into a new graph and runs "y" on
 * inference_input(); returns the output (caller frees) or NULL after a
 * failed CHECK. */
static inline tfc_tensor *inference_run_graphdef(const void *bytes, size_t len) {
    tfc_status *st = tfc_status_new();
    tfc_graph *g = tfc_graph_new();
    tfc_tensor *x = inference_input(), *y = NULL;
    if (tfc_graph_import_graphdef(g, bytes, len, NULL, NULL, NULL, 0, st) == 0) {
        tfc_output in = {tfc_graph_node_by_name(g, "x"), 0};
        tfc_output out = {tfc_graph_node_by_name(g, "y"), 0};
        CHECK(in.node && out.node);
        tfc_session *s = in.node && out.node ? tfc_session_new(g, NULL, st) : NULL;
        if (s) tfc_session_run(s, &in, &x, 1, &out, 1, &y, NULL, 0, st);
        tfc_session_free(s);
    }
    CHECK_STATUS_OK(st);
    tfc_tensor_free(x);
    tfc_graph_free(g);
    tfc_status_free(st);
    return y;
}

/* Reads a whole file; caller frees. NULL after a failed CHECK. */
static inline void *inference_read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    CHECK_MSG(f != NULL, "cannot open %s", path);
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    void *p = malloc(n > 0 ? (size_t)n : 1);
    *len = p && n > 0 ? fread(p, 1, (size_t)n, f) : 0;
    fclose(f);
    return p;
}

#endif
