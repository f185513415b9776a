/* Runs the committed frozen MLP (see inference_model.h) and compares its
 * outputs with those the full build computed. Built by the full build and
 * by the inference-only build (-DTFC_INFERENCE_ONLY=ON, cmake/mobile.cmake),
 * native and cross (under qemu-user): the same file must give the same
 * numbers everywhere. Also: what the inference-only build leaves out fails
 * with an error that says so. */
#include "harness.h"
#include "inference_model.h"

#include <stdlib.h>

static void test_frozen_mlp_gives_the_full_builds_outputs(void) {
    char path[4096];
    size_t len = 0;
    void *bytes = inference_read_file(inference_path(path, sizeof path, "mlp_frozen.pb"), &len);
    float expected[INFERENCE_BATCH * INFERENCE_OUT];
    tfc_tensor *y = bytes ? inference_run_graphdef(bytes, len) : NULL;
    CHECK(y != NULL);
    if (y && inference_expected(expected) == 0) {
        CHECK(tfc_tensor_num_elements(y) == INFERENCE_BATCH * INFERENCE_OUT);
        const float *got = tfc_tensor_data(y);
        for (int i = 0; i < INFERENCE_BATCH * INFERENCE_OUT; i++)
            CHECK_NEAR(got[i], expected[i], INFERENCE_TOL);
    }
    tfc_tensor_free(y);
    free(bytes);
}

/* The same graph run twice in one session gives bit-identical outputs (the
 * portable GEMM's sums do not depend on the threads). */
static void test_repeated_runs_agree(void) {
    char path[4096];
    size_t len = 0;
    void *bytes = inference_read_file(inference_path(path, sizeof path, "mlp_frozen.pb"), &len);
    tfc_tensor *a = bytes ? inference_run_graphdef(bytes, len) : NULL;
    tfc_tensor *b = bytes ? inference_run_graphdef(bytes, len) : NULL;
    CHECK(a && b);
    if (a && b)
        CHECK(memcmp(tfc_tensor_data(a), tfc_tensor_data(b),
                     sizeof(float) * INFERENCE_BATCH * INFERENCE_OUT) == 0);
    tfc_tensor_free(a);
    tfc_tensor_free(b);
    free(bytes);
}

/* Differentiating needs the full library: the inference-only build says so
 * (src/inference_only/no_autodiff.c); the full build differentiates. */
static void test_gradients_need_the_full_build(void) {
    tfc_graph *g = tfc_graph_new();
    tfc_output x = tfc_placeholder(g, "x", TFC_FLOAT, 1, (int64_t[]){3});
    tfc_output y = tfc_square(g, x), dx = {NULL, 0};
    int rc = tfc_gradients(g, &y, 1, &x, 1, NULL, &dx);
    if (rc == 0) {
        CHECK(dx.node != NULL);
        CHECK_GRAPH_OK(g);
    } else {
        CHECK_CONTAINS(tfc_graph_error(g), "not part of the inference-only build");
    }
    tfc_graph_free(g);
}

TFC_TEST_MAIN(T(test_frozen_mlp_gives_the_full_builds_outputs), T(test_repeated_runs_agree),
              T(test_gradients_need_the_full_build))
