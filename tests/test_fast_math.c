/* The vectorizable exp, sigmoid and tanh (ops/fast_math.h) against glibc
 * in double, over magnitudes from 1e-30 to 100 of both signs, and at the
 * special values. */
#include "harness.h"
#include "ops/fast_math.h"

#include <float.h>
#include <math.h>

/* every sample point: +-1e-30 ... +-100, 200,001 per sign, log-spaced */
#define SAMPLES 200001

static double sample(int i, int sign) {
    double e = -30 + (32.0 * i) / (SAMPLES - 1);
    return sign * pow(10, e);
}

static double rel_error(double got, double want) { return fabs(got - want) / fabs(want); }

static void test_exp(void) {
    double worst = 0, worst_at = 0;
    for (int sign = -1; sign <= 1; sign += 2)
        for (int i = 0; i < SAMPLES; i++) {
            float x = (float)sample(i, sign);
            if (fabsf(x) > 87) continue;
            double e = rel_error(tfc_fast_expf(x), exp((double)x));
            if (e > worst) worst = e, worst_at = x;
        }
    CHECK_MSG(worst < 3e-7, "exp: relative error %g at %g", worst, worst_at);
    CHECK(tfc_fast_expf(0) == 1.0f);
    CHECK(tfc_fast_expf(-INFINITY) > 0 && tfc_fast_expf(-INFINITY) < 3e-38f);
    CHECK(tfc_fast_expf(INFINITY) > 6e37f && isfinite(tfc_fast_expf(INFINITY)));
    CHECK(isnan(tfc_fast_expf(NAN)));
}

static void test_sigmoid(void) {
    double worst = 0, worst_at = 0;
    for (int sign = -1; sign <= 1; sign += 2)
        for (int i = 0; i < SAMPLES; i++) {
            float x = (float)sample(i, sign);
            if (x < -87) continue; /* 1.6e-38 there, not smaller */
            double want = 1 / (1 + exp(-(double)x));
            double e = rel_error(tfc_fast_sigmoidf(x), want);
            if (e > worst) worst = e, worst_at = x;
        }
    CHECK_MSG(worst < 4e-7, "sigmoid: relative error %g at %g", worst, worst_at);
    CHECK(tfc_fast_sigmoidf(0) == 0.5f);
    CHECK(tfc_fast_sigmoidf(INFINITY) == 1.0f);
    CHECK(tfc_fast_sigmoidf(-INFINITY) >= 0 && tfc_fast_sigmoidf(-INFINITY) < 2e-38f);
    CHECK(isnan(tfc_fast_sigmoidf(NAN)));
}

static void test_tanh(void) {
    double worst = 0, worst_at = 0;
    for (int sign = -1; sign <= 1; sign += 2)
        for (int i = 0; i < SAMPLES; i++) {
            float x = (float)sample(i, sign);
            double e = rel_error(tfc_fast_tanhf(x), tanh((double)x));
            if (e > worst) worst = e, worst_at = x;
        }
    /* a few ulp: 4e-7 is under 7 ulp near +-1 (Eigen, with fused
     * multiply-adds, claims a couple; without them, here, about 5) */
    CHECK_MSG(worst < 4e-7, "tanh: relative error %g at %g", worst, worst_at);
    CHECK(tfc_fast_tanhf(0) == 0);
    CHECK(fabsf(tfc_fast_tanhf(INFINITY) - 1) <= FLT_EPSILON);
    CHECK(fabsf(tfc_fast_tanhf(-INFINITY) + 1) <= FLT_EPSILON);
    CHECK(isnan(tfc_fast_tanhf(NAN)));
    /* odd, exactly */
    for (int i = 0; i < SAMPLES; i += 1000)
        CHECK(tfc_fast_tanhf((float)sample(i, -1)) == -tfc_fast_tanhf((float)sample(i, 1)));
}

TFC_TEST_MAIN(T(test_exp), T(test_sigmoid), T(test_tanh))
