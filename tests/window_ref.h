/* Helpers shared by the convolution and pooling tests: TensorFlow's
 * window rule written out plainly, tensors as doubles, the worst relative
 * error against a reference, and build errors that must name a node. */
#ifndef TFC_TEST_WINDOW_REF_H
#define TFC_TEST_WINDOW_REF_H

#include "harness.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The test's own statement of TensorFlow's padding rule. */
static inline void out_size(int64_t in, int64_t k, int64_t s, int64_t d, int same, int64_t *out,
                            int64_t *pad) {
    int64_t eff = (k - 1) * d + 1;
    if (same) {
        *out = (in + s - 1) / s;
        int64_t total = (*out - 1) * s + eff - in;
        *pad = total > 0 ? total / 2 : 0;
    } else {
        *out = (in - eff + s) / s;
        *pad = 0;
    }
}

static inline void set4(int64_t *d, int64_t a, int64_t b, int64_t c, int64_t e) {
    d[0] = a;
    d[1] = b;
    d[2] = c;
    d[3] = e;
}

static inline double *to_doubles(const tfc_tensor *t) {
    int64_t n = tfc_tensor_num_elements(t);
    double *v = malloc((size_t)(n ? n : 1) * sizeof *v);
    for (int64_t i = 0; i < n; i++) v[i] = tfc_test_get(t, i);
    return v;
}

static inline double compare(const tfc_tensor *got, const double *want, int64_t n) {
    if (!got || tfc_tensor_num_elements(got) != n) return INFINITY;
    double worst = 0;
    for (int64_t i = 0; i < n; i++) {
        double e = fabs(tfc_test_get(got, i) - want[i]) / (1.0 + fabs(want[i]));
        if (!(e <= worst)) worst = isnan(e) ? INFINITY : e;
    }
    return worst;
}

static inline void expect_build_error(tfc_graph *g, const char *node, const char *what) {
    CHECK(tfc_graph_error(g) != NULL);
    CHECK_CONTAINS(tfc_graph_error(g), node);
    CHECK_CONTAINS(tfc_graph_error(g), what);
    tfc_graph_clear_error(g);
}

#endif
