/* ApplyAdam on float32 variables computes in float, as TensorFlow's float
 * kernel does (src/ops/training.c): var, m and v must equal, bit for bit,
 * a plain float loop of the rule on random data, with and without
 * Nesterov, on a length that leaves a vector tail, at 1 and 2 threads. */
#include "harness.h"
#include "tfc.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { N = 10007, STEPS = 3 };

typedef struct adam_h {
    double b1p, b2p, lr, b1, b2, eps;
} adam_h;

/* the rule in float: alpha = lr sqrt(1 - b2^t) / (1 - b1^t) rounded to float */
static void ref_adam_float(float *var, float *m, float *v, const float *g, const adam_h *h,
                           int nesterov) {
    float b1p = (float)h->b1p, b2p = (float)h->b2p, lr = (float)h->lr;
    float alpha = (float)((double)lr * sqrt(1 - (double)b2p) / (1 - (double)b1p));
    float b1 = (float)h->b1, b2 = (float)h->b2, eps = (float)h->eps;
    float c1 = 1 - b1, c2 = 1 - b2;
    for (int i = 0; i < N; i++) {
        m[i] = m[i] + (g[i] - m[i]) * c1;
        v[i] = v[i] + (g[i] * g[i] - v[i]) * c2;
        float step = nesterov ? g[i] * c1 + b1 * m[i] : m[i];
        var[i] -= step * alpha / (sqrtf(v[i]) + eps);
    }
}

static tfc_tensor *random_floats(double lo, double hi) {
    int64_t n = N;
    return tfc_test_random_tensor(TFC_FLOAT, 1, &n, lo, hi);
}

static void check_case(int nesterov, int threads) {
    static const char *names[3] = {"var", "m", "v"};
    adam_h h = {0.9 * 0.9, 0.999 * 0.999, 0.01, 0.9, 0.999, 1e-8};
    if (nesterov) h = (adam_h){0.5, 0.7, 0.02, 0.8, 0.95, 1e-3};
    tfc_test_seed(7);
    tfc_graph *g = tfc_graph_new();
    float *ref[3];
    tfc_output cells[3];
    for (int k = 0; k < 3; k++) {
        tfc_tensor *t = random_floats(k == 0 ? -1 : 0, 1); /* v must not be negative */
        ref[k] = malloc(N * sizeof(float));
        memcpy(ref[k], tfc_tensor_data(t), N * sizeof(float));
        cells[k] = tfc_variable(g, names[k], tfc_const(g, t));
        tfc_tensor_free(t);
    }
    int64_t n = N;
    tfc_output grad = tfc_placeholder(g, "grad", TFC_FLOAT, 1, &n);
    tfc_op_desc *d = tfc_op_new(g, "ApplyAdam", "apply");
    for (int k = 0; k < 3; k++) tfc_op_add_input(d, cells[k]);
    const double hs[6] = {h.b1p, h.b2p, h.lr, h.b1, h.b2, h.eps};
    for (int i = 0; i < 6; i++) tfc_op_add_input(d, tfc_const_float(g, (float)hs[i]));
    tfc_op_add_input(d, grad);
    tfc_op_set_attr_bool(d, "use_nesterov", nesterov);
    tfc_node *apply = tfc_op_finish(d);
    CHECK_GRAPH_OK(g);
    tfc_status *st = tfc_status_new();
    tfc_session *s = tfc_test_session_initialized(g, threads, st);
    CHECK_STATUS_OK(st);
    for (int step = 0; step < STEPS; step++) {
        tfc_tensor *gt = random_floats(-1, 1);
        ref_adam_float(ref[0], ref[1], ref[2], tfc_tensor_data(gt), &h, nesterov);
        tfc_session_run(s, &grad, &gt, 1, NULL, 0, NULL, &apply, 1, st);
        CHECK_STATUS_OK(st);
        tfc_tensor *out[3] = {0};
        tfc_session_run(s, NULL, NULL, 0, cells, 3, out, NULL, 0, st);
        CHECK_STATUS_OK(st);
        for (int k = 0; k < 3 && out[0]; k++) {
            const float *got = tfc_tensor_data(out[k]);
            int bad = -1;
            for (int i = 0; i < N && bad < 0; i++)
                if (memcmp(&got[i], &ref[k][i], sizeof(float)) != 0) bad = i;
            CHECK_MSG(bad < 0,
                      "nesterov=%d threads=%d step %d: %s[%d] is %.9g, the float rule gives %.9g",
                      nesterov, threads, step, names[k], bad, bad < 0 ? 0 : got[bad],
                      bad < 0 ? 0 : ref[k][bad]);
            tfc_tensor_free(out[k]);
        }
        tfc_tensor_free(gt);
    }
    for (int k = 0; k < 3; k++) free(ref[k]);
    tfc_session_free(s);
    tfc_status_free(st);
    tfc_graph_free(g);
}

static void test_adam_float_matches_reference_loop(void) {
    for (int threads = 1; threads <= 2; threads++) check_case(0, threads);
}

static void test_adam_float_nesterov_matches_reference_loop(void) {
    for (int threads = 1; threads <= 2; threads++) check_case(1, threads);
}

TFC_TEST_MAIN(T(test_adam_float_matches_reference_loop),
              T(test_adam_float_nesterov_matches_reference_loop))
