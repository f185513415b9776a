/* The fused Apply* ops against TensorFlow's update rules written as plain
 * loops, then the tf.train optimizer API: slots (names, initial values),
 * defaults, minimize/compute/apply, global step, learning-rate tensors,
 * exponential decay, and misuse. */
#include "harness.h"

#include <stdlib.h>

/* ---- reference update rules, over whole arrays ---- */

typedef struct ref_state {
    int64_t n;
    double *s[4]; /* var, slots... */
    const double *g;
    const double *h; /* scalar inputs in input order */
    int nesterov;
} ref_state;

static double sgnd(double x) { return x > 0 ? 1 : x < 0 ? -1 : 0; }

static void ref_gd(ref_state *r) {
    for (int64_t i = 0; i < r->n; i++) r->s[0][i] = r->s[0][i] - r->h[0] * r->g[i];
}

static void ref_momentum(ref_state *r) {
    double lr = r->h[0], mu = r->h[1];
    for (int64_t i = 0; i < r->n; i++) {
        double *v = &r->s[0][i], *a = &r->s[1][i], g = r->g[i];
        *a = mu * *a + g;
        *v = r->nesterov ? *v - lr * (g + mu * *a) : *v - lr * *a;
    }
}

static void ref_adagrad(ref_state *r) {
    for (int64_t i = 0; i < r->n; i++) {
        r->s[1][i] += r->g[i] * r->g[i];
        r->s[0][i] -= r->h[0] * r->g[i] / sqrt(r->s[1][i]);
    }
}

/* h: lr, l1, l2, global_step */
static void ref_adagrad_da(ref_state *r) {
    double lr = r->h[0], l1 = r->h[1], l2 = r->h[2], t = r->h[3];
    for (int64_t i = 0; i < r->n; i++) {
        double *ga = &r->s[1][i], *gg = &r->s[2][i];
        *ga += r->g[i];
        *gg += r->g[i] * r->g[i];
        double shrunk = l1 > 0 ? sgnd(*ga) * fmax(fabs(*ga) - l1 * t, 0) : *ga;
        r->s[0][i] = -lr * shrunk / (sqrt(*gg) + l2 * t * lr);
    }
}

/* h: lr, rho, epsilon */
static void ref_adadelta(ref_state *r) {
    double lr = r->h[0], rho = r->h[1], eps = r->h[2];
    for (int64_t i = 0; i < r->n; i++) {
        double *acc = &r->s[1][i], *upd = &r->s[2][i], g = r->g[i];
        *acc = rho * *acc + (1 - rho) * g * g;
        double u = sqrt(*upd + eps) / sqrt(*acc + eps) * g;
        *upd = rho * *upd + (1 - rho) * u * u;
        r->s[0][i] -= lr * u;
    }
}

/* h: beta1_power, beta2_power, lr, beta1, beta2, epsilon */
static void ref_adam(ref_state *r) {
    const double *h = r->h;
    double lr_t = h[2] * sqrt(1 - h[1]) / (1 - h[0]);
    for (int64_t i = 0; i < r->n; i++) {
        double *m = &r->s[1][i], *v = &r->s[2][i], g = r->g[i];
        *m = h[3] * *m + (1 - h[3]) * g;
        *v = h[4] * *v + (1 - h[4]) * g * g;
        double step = r->nesterov ? h[3] * *m + (1 - h[3]) * g : *m;
        r->s[0][i] -= lr_t * step / (sqrt(*v) + h[5]);
    }
}

/* h: lr, l1, l2, [l2_shrinkage,] lr_power */
static void ref_ftrl_any(ref_state *r, double shrink, double lr_power) {
    double lr = r->h[0], l1 = r->h[1], l2 = r->h[2];
    for (int64_t i = 0; i < r->n; i++) {
        double *w = &r->s[0][i], *n = &r->s[1][i], *z = &r->s[2][i], g = r->g[i];
        double gs = g + 2 * shrink * *w;
        double n_new = *n + g * g;
        double sigma = (pow(n_new, -lr_power) - pow(*n, -lr_power)) / lr;
        *z += gs - sigma * *w;
        *n = n_new;
        double quad = pow(n_new, -lr_power) / lr + 2 * l2;
        *w = fabs(*z) <= l1 ? 0 : (sgnd(*z) * l1 - *z) / quad;
    }
}
static void ref_ftrl(ref_state *r) { ref_ftrl_any(r, 0, r->h[3]); }
static void ref_ftrl_v2(ref_state *r) { ref_ftrl_any(r, r->h[3], r->h[4]); }

/* h: lr, rho, momentum, epsilon */
static void ref_rmsprop(ref_state *r) {
    const double *h = r->h;
    for (int64_t i = 0; i < r->n; i++) {
        double *ms = &r->s[1][i], *mom = &r->s[2][i], g = r->g[i];
        *ms = h[1] * *ms + (1 - h[1]) * g * g;
        *mom = h[2] * *mom + h[0] * g / sqrt(*ms + h[3]);
        r->s[0][i] -= *mom;
    }
}

static void ref_centered_rmsprop(ref_state *r) {
    const double *h = r->h;
    for (int64_t i = 0; i < r->n; i++) {
        double *mg = &r->s[1][i], *ms = &r->s[2][i], *mom = &r->s[3][i], g = r->g[i];
        *ms = h[1] * *ms + (1 - h[1]) * g * g;
        *mg = h[1] * *mg + (1 - h[1]) * g;
        *mom = h[2] * *mom + h[0] * g / sqrt(*ms - *mg * *mg + h[3]);
        r->s[0][i] -= *mom;
    }
}

/* ---- driving the Apply* ops directly ---- */

typedef struct apply_case {
    const char *type;
    int nrefs;     /* var + slots, inputs 0.. */
    int grad;      /* gradient input index */
    int nscalars;  /* the remaining inputs, in order */
    double h[6];
    int int_scalar; /* input index of an int64 scalar, or -1 */
    int nesterov;   /* -1: no attr */
    double slot_lo, slot_hi; /* random initial slot values */
    void (*ref)(ref_state *r);
} apply_case;

static const apply_case apply_cases[] = {
    {"ApplyGradientDescent", 1, 2, 1, {0.3}, -1, -1, 0, 0, ref_gd},
    {"ApplyMomentum", 2, 3, 2, {0.1, 0.9}, -1, 0, -1, 1, ref_momentum},
    {"ApplyMomentum", 2, 3, 2, {0.1, 0.8}, -1, 1, -1, 1, ref_momentum},
    {"ApplyAdagrad", 2, 3, 1, {0.2}, -1, -1, 0.1, 1, ref_adagrad},
    {"ApplyAdagradDA", 3, 3, 4, {0.5, 0, 0, 3}, 7, -1, 0.1, 1, ref_adagrad_da},
    {"ApplyAdagradDA", 3, 3, 4, {0.5, 0.05, 0.2, 3}, 7, -1, 0.1, 1, ref_adagrad_da},
    {"ApplyAdadelta", 3, 6, 3, {0.7, 0.95, 1e-6}, -1, -1, 0.01, 1, ref_adadelta},
    {"ApplyAdam", 3, 9, 6, {0.9 * 0.9, 0.999 * 0.999, 0.01, 0.9, 0.999, 1e-8}, -1, 0, 0.1, 1,
     ref_adam},
    {"ApplyAdam", 3, 9, 6, {0.5, 0.7, 0.02, 0.8, 0.95, 1e-3}, -1, 1, 0.1, 1, ref_adam},
    {"ApplyFtrl", 3, 3, 4, {0.3, 0.01, 0.1, -0.5}, -1, -1, 0.1, 1, ref_ftrl},
    {"ApplyFtrl", 3, 3, 4, {0.3, 0.2, 0.0, -0.7}, -1, -1, 0.1, 1, ref_ftrl},
    {"ApplyFtrlV2", 3, 3, 5, {0.3, 0.01, 0.1, 0.05, -0.5}, -1, -1, 0.1, 1, ref_ftrl_v2},
    {"ApplyRMSProp", 3, 7, 4, {0.01, 0.9, 0.5, 1e-6}, -1, -1, 0.1, 1, ref_rmsprop},
    {"ApplyCenteredRMSProp", 4, 8, 4, {0.01, 0.9, 0.5, 1e-6}, -1, -1, 0.1, 1,
     ref_centered_rmsprop},
};

/* Runs `steps` updates of case `c` on a variable of `dims` and compares
 * var and slots after every step with the reference. */
static void run_apply_case(const apply_case *c, tfc_dtype dt, int rank, const int64_t *dims,
                           int steps) {
    tfc_graph *g = tfc_graph_new();
    int64_t n = 1;
    for (int i = 0; i < rank; i++) n *= dims[i];
    double *ref[4] = {0};
    tfc_output refs[4];
    for (int k = 0; k < c->nrefs; k++) {
        double lo = k ? c->slot_lo : -1, hi = k ? c->slot_hi : 1;
        /* Momentum's accumulator may be any sign; others must stay positive */
        if (k && lo < 0) lo = -1;
        /* the centered mean gradient must stay well below sqrt(ms) */
        if (k == 1 && c->nrefs == 4) lo = -0.1, hi = 0.1;
        tfc_tensor *t = tfc_test_random_tensor(dt, rank, dims, lo, hi);
        ref[k] = malloc((size_t)n * sizeof(double));
        for (int64_t i = 0; i < n; i++) ref[k][i] = tfc_test_get(t, i);
        char name[16];
        snprintf(name, sizeof name, "s%d", k);
        refs[k] = tfc_variable(g, name, tfc_const(g, t));
        tfc_tensor_free(t);
    }
    tfc_output grad = tfc_placeholder(g, "grad", dt, rank, dims);
    tfc_op_desc *d = tfc_op_new(g, c->type, "apply");
    int ninputs = c->nrefs + 1 + c->nscalars;
    for (int i = 0, s = 0; i < ninputs; i++) {
        if (i < c->nrefs) tfc_op_add_input(d, refs[i]);
        else if (i == c->grad) tfc_op_add_input(d, grad);
        else if (i == c->int_scalar) tfc_op_add_input(d, tfc_const_int64(g, (int64_t)c->h[s++]));
        else if (dt == TFC_FLOAT) tfc_op_add_input(d, tfc_const_float(g, (float)c->h[s++]));
        else tfc_op_add_input(d, tfc_const_double(g, c->h[s++]));
    }
    if (c->nesterov >= 0) tfc_op_set_attr_bool(d, "use_nesterov", c->nesterov);
    tfc_node *apply = tfc_op_finish(d);
    tfc_node *init = tfc_global_variables_initializer(g);
    CHECK_GRAPH_OK(g);
    /* float32 follows the rule to float rounding: compare loosely */
    double tol = dt == TFC_FLOAT ? 2e-4 : 1e-11;
    tfc_status *st = tfc_status_new();
    tfc_session *s = tfc_session_new(g, NULL, st);
    tfc_session_run(s, NULL, NULL, 0, NULL, 0, NULL, &init, 1, st);
    CHECK_STATUS_OK(st);
    double *gbuf = malloc((size_t)n * sizeof(double));
    for (int step = 0; step < steps && apply; step++) {
        tfc_tensor *gt = tfc_test_random_tensor(dt, rank, dims, -1, 1);
        for (int64_t i = 0; i < n; i++) gbuf[i] = tfc_test_get(gt, i);
        ref_state r = {n, {ref[0], ref[1], ref[2], ref[3]}, gbuf, c->h, c->nesterov > 0};
        c->ref(&r);
        tfc_tensor *out[4] = {0};
        tfc_output fetch = tfc_out(apply, 0);
        tfc_session_run(s, &grad, &gt, 1, &fetch, 1, out, NULL, 0, st);
        CHECK_STATUS_OK(st);
        /* the slots are read after the update, in a second run */
        if (c->nrefs > 1) {
            tfc_session_run(s, NULL, NULL, 0, refs + 1, c->nrefs - 1, out + 1, NULL, 0, st);
            CHECK_STATUS_OK(st);
        }
        for (int k = 0; k < c->nrefs; k++) {
            if (!out[k]) continue;
            double worst = 0;
            int64_t at = 0;
            for (int64_t i = 0; i < n; i++) {
                double e = fabs(tfc_test_get(out[k], i) - ref[k][i]) / (1 + fabs(ref[k][i]));
                if (!(e <= worst)) worst = e, at = i;
            }
            CHECK_MSG(worst <= tol,
                      "%s %s n=%lld step %d input %d: element %lld is %.9g, want %.9g",
                      c->type, tfc_dtype_name(dt), (long long)n, step, k, (long long)at,
                      tfc_test_get(out[k], at), ref[k][at]);
            tfc_tensor_free(out[k]);
        }
        tfc_tensor_free(gt);
    }
    free(gbuf);
    for (int k = 0; k < c->nrefs; k++) free(ref[k]);
    tfc_session_free(s);
    tfc_status_free(st);
    tfc_graph_free(g);
}

static void test_apply_ops(void) {
    int64_t small[] = {3, 4}, one[] = {1}, big[] = {40001};
    for (size_t k = 0; k < sizeof apply_cases / sizeof *apply_cases; k++) {
        run_apply_case(&apply_cases[k], TFC_DOUBLE, 2, small, 3);
        run_apply_case(&apply_cases[k], TFC_FLOAT, 2, small, 3);
        run_apply_case(&apply_cases[k], TFC_DOUBLE, 1, one, 2);
        run_apply_case(&apply_cases[k], TFC_DOUBLE, 0, NULL, 2);
        /* large enough to be split across threads */
        run_apply_case(&apply_cases[k], TFC_FLOAT, 1, big, 2);
    }
}

/* Each Apply op outputs the updated variable; bad inputs fail the build
 * naming the node; an uninitialized slot fails the run naming it. */
static void test_apply_misuse(void) {
    tfc_graph *g = tfc_graph_new();
    int64_t d3[] = {3}, d2[] = {2};
    tfc_output w = tfc_variable(g, "w", tfc_const_data(g, TFC_FLOAT, 1, d3, (float[]){1, 2, 3}));
    tfc_output acc = tfc_variable(g, "acc", tfc_const_data(g, TFC_FLOAT, 1, d3,
                                                           (float[]){1, 1, 1}));
    tfc_output g2 = tfc_const_data(g, TFC_FLOAT, 1, d2, (float[]){1, 1});
    tfc_output g3 = tfc_const_data(g, TFC_FLOAT, 1, d3, (float[]){1, 1, 1});

    tfc_op_desc *d = tfc_op_new(g, "ApplyGradientDescent", "bad_shape");
    tfc_op_add_inputs(d, (tfc_output[]){w, tfc_const_float(g, 0.1f), g2}, 3);
    CHECK(tfc_op_finish(d) == NULL);
    CHECK_CONTAINS(tfc_graph_error(g), "bad_shape");
    tfc_graph_clear_error(g);

    d = tfc_op_new(g, "ApplyGradientDescent", "bad_dtype");
    tfc_op_add_inputs(d, (tfc_output[]){w, tfc_const_double(g, 0.1), g3}, 3);
    CHECK(tfc_op_finish(d) == NULL);
    CHECK_CONTAINS(tfc_graph_error(g), "bad_dtype");
    tfc_graph_clear_error(g);

    d = tfc_op_new(g, "ApplyAdagrad", "not_scalar");
    tfc_op_add_inputs(d, (tfc_output[]){w, acc, g3, g3}, 4);
    CHECK(tfc_op_finish(d) == NULL);
    CHECK_CONTAINS(tfc_graph_error(g), "not_scalar");
    tfc_graph_clear_error(g);

    d = tfc_op_new(g, "ApplyAdagrad", "not_a_var");
    tfc_op_add_inputs(d, (tfc_output[]){w, g3, tfc_const_float(g, 0.1f), g3}, 4);
    CHECK(tfc_op_finish(d) == NULL);
    CHECK(tfc_graph_error(g) != NULL);
    tfc_graph_clear_error(g);

    d = tfc_op_new(g, "ApplyAdagrad", "update");
    tfc_op_add_inputs(d, (tfc_output[]){w, acc, tfc_const_float(g, 0.5f), g3}, 4);
    tfc_node *up = tfc_op_finish(d);
    CHECK_GRAPH_OK(g);
    tfc_status *st = tfc_status_new();
    tfc_session *s = tfc_session_new(g, NULL, st);
    /* only w is initialized: the run names the accumulator */
    tfc_node *wi = tfc_variable_initializer(w);
    tfc_session_run(s, NULL, NULL, 0, NULL, 0, NULL, &wi, 1, st);
    CHECK_STATUS_OK(st);
    tfc_tensor *out = tfc_session_run1(s, NULL, NULL, 0, tfc_out(up, 0), st);
    CHECK(out == NULL);
    CHECK(tfc_status_code(st) == TFC_FAILED_PRECONDITION);
    CHECK_CONTAINS(tfc_status_message(st), "Attempting to use uninitialized value acc");
    CHECK_CONTAINS(tfc_status_message(st), "update");
    /* after initializing, the output is the new value and the variable holds it */
    tfc_node *ai = tfc_variable_initializer(acc);
    tfc_session_run(s, NULL, NULL, 0, NULL, 0, NULL, &ai, 1, st);
    out = tfc_session_run1(s, NULL, NULL, 0, tfc_out(up, 0), st);
    CHECK_STATUS_OK(st);
    tfc_tensor *wv = tfc_session_run1(s, NULL, NULL, 0, w, st);
    if (out && wv) {
        for (int i = 0; i < 3; i++) {
            CHECK_NEAR(tfc_test_get(out, i), (i + 1) - 0.5 / sqrt(2.0), 1e-6);
            CHECK_NEAR(tfc_test_get(wv, i), tfc_test_get(out, i), 0);
        }
    }
    tfc_tensor_free(out);
    tfc_tensor_free(wv);
    tfc_session_free(s);
    /* a gradient of another size, known only at run time */
    int64_t unknown[] = {-1};
    tfc_output gp = tfc_placeholder(g, "gp", TFC_FLOAT, 1, unknown);
    d = tfc_op_new(g, "ApplyGradientDescent", "runtime_shape");
    tfc_op_add_inputs(d, (tfc_output[]){w, tfc_const_float(g, 0.5f), gp}, 3);
    tfc_node *rs = tfc_op_finish(d);
    CHECK_GRAPH_OK(g);
    s = tfc_session_new(g, NULL, st);
    tfc_session_run(s, NULL, NULL, 0, NULL, 0, NULL, &wi, 1, st);
    tfc_tensor *g4 = tfc_tensor_from_data(TFC_FLOAT, 1, (int64_t[]){4}, (float[]){1, 2, 3, 4});
    tfc_session_run(s, &gp, &g4, 1, NULL, 0, NULL, &rs, 1, st);
    CHECK(tfc_status_code(st) == TFC_INVALID_ARGUMENT);
    CHECK_CONTAINS(tfc_status_message(st), "runtime_shape");
    tfc_tensor_free(g4);
    tfc_session_free(s);
    tfc_status_free(st);
    tfc_graph_free(g);
}

/* ---- the optimizer API ---- */

typedef struct opt_case {
    const char *name;
    tfc_optimizer *(*make)(tfc_output step);
    int nslots;
    /* in the Apply op's input order */
    const char *slot_names[3];
    const char *slot_vars[3]; /* for a variable named "w" */
    double slot_init[3];
    double h[6]; /* the reference's scalars; see prep */
    void (*ref)(ref_state *r);
    int nesterov;
    /* adjusts h before step t (0-based): Adam's beta powers, AdagradDA's step */
    void (*prep)(double *h, int t);
} opt_case;

static tfc_optimizer *make_gd(tfc_output s) { (void)s; return tfc_gradient_descent_optimizer(0.3); }
static tfc_optimizer *make_momentum(tfc_output s) {
    (void)s;
    return tfc_momentum_optimizer(0.1, 0.9, 0);
}
static tfc_optimizer *make_nesterov(tfc_output s) {
    (void)s;
    return tfc_momentum_optimizer(0.05, 0.7, 1);
}
static tfc_optimizer *make_adagrad(tfc_output s) {
    (void)s;
    return tfc_adagrad_optimizer(TFC_ADAGRAD_DEFAULTS(0.2));
}
static tfc_optimizer *make_adagrad_da(tfc_output s) {
    return tfc_adagrad_da_optimizer(0.4, s, 0.1, 0.01, 0.05);
}
static tfc_optimizer *make_adadelta(tfc_output s) {
    (void)s;
    return tfc_adadelta_optimizer(TFC_ADADELTA_DEFAULTS);
}
static tfc_optimizer *make_adadelta_big(tfc_output s) {
    (void)s;
    return tfc_adadelta_optimizer(1.0, 0.9, 1e-6);
}
static tfc_optimizer *make_adam(tfc_output s) {
    (void)s;
    return tfc_adam_optimizer(TFC_ADAM_DEFAULTS);
}
static tfc_optimizer *make_adam2(tfc_output s) {
    (void)s;
    return tfc_adam_optimizer(0.05, 0.8, 0.9, 1e-4);
}
static tfc_optimizer *make_ftrl(tfc_output s) {
    (void)s;
    return tfc_ftrl_optimizer(TFC_FTRL_DEFAULTS(0.5));
}
static tfc_optimizer *make_ftrl_reg(tfc_output s) {
    (void)s;
    return tfc_ftrl_optimizer(0.5, -0.6, 0.2, 0.05, 0.1);
}
static tfc_optimizer *make_rmsprop(tfc_output s) {
    (void)s;
    return tfc_rmsprop_optimizer(TFC_RMSPROP_DEFAULTS(0.01));
}
static tfc_optimizer *make_rmsprop_c(tfc_output s) {
    (void)s;
    return tfc_rmsprop_optimizer(0.02, 0.8, 0.5, 1e-6, 1);
}

static void adam_defaults_prep(double *h, int t) {
    h[0] = pow(0.9, t + 1);
    h[1] = pow(0.999, t + 1);
}
static void adam2_prep(double *h, int t) {
    h[0] = pow(0.8, t + 1);
    h[1] = pow(0.9, t + 1);
}
static void da_prep(double *h, int t) { h[3] = t + 1; }

static const opt_case opt_cases[] = {
    {"GradientDescent", make_gd, 0, {0}, {0}, {0}, {0.3}, ref_gd, 0, NULL},
    {"Momentum", make_momentum, 1, {"momentum"}, {"w/Momentum"}, {0}, {0.1, 0.9}, ref_momentum,
     0, NULL},
    {"Momentum", make_nesterov, 1, {"momentum"}, {"w/Momentum"}, {0}, {0.05, 0.7},
     ref_momentum, 1, NULL},
    {"Adagrad", make_adagrad, 1, {"accumulator"}, {"w/Adagrad"}, {0.1}, {0.2}, ref_adagrad, 0,
     NULL},
    {"AdagradDA", make_adagrad_da, 2, {"gradient_accumulator", "gradient_squared_accumulator"},
     {"w/AdagradDA", "w/AdagradDA_1"}, {0, 0.1}, {0.4, 0.01, 0.05, 0}, ref_adagrad_da, 0,
     da_prep},
    {"Adadelta", make_adadelta, 2, {"accum", "accum_update"}, {"w/Adadelta", "w/Adadelta_1"},
     {0, 0}, {0.001, 0.95, 1e-8}, ref_adadelta, 0, NULL},
    {"Adadelta", make_adadelta_big, 2, {"accum", "accum_update"},
     {"w/Adadelta", "w/Adadelta_1"}, {0, 0}, {1.0, 0.9, 1e-6}, ref_adadelta, 0, NULL},
    {"Adam", make_adam, 2, {"m", "v"}, {"w/Adam", "w/Adam_1"}, {0, 0},
     {0, 0, 0.001, 0.9, 0.999, 1e-8}, ref_adam, 0, adam_defaults_prep},
    {"Adam", make_adam2, 2, {"m", "v"}, {"w/Adam", "w/Adam_1"}, {0, 0},
     {0, 0, 0.05, 0.8, 0.9, 1e-4}, ref_adam, 0, adam2_prep},
    {"Ftrl", make_ftrl, 2, {"accum", "linear"}, {"w/Ftrl", "w/Ftrl_1"}, {0.1, 0},
     {0.5, 0, 0, -0.5}, ref_ftrl, 0, NULL},
    {"Ftrl", make_ftrl_reg, 2, {"accum", "linear"}, {"w/Ftrl", "w/Ftrl_1"}, {0.2, 0},
     {0.5, 0.05, 0.1, -0.6}, ref_ftrl, 0, NULL},
    {"RMSProp", make_rmsprop, 2, {"rms", "momentum"}, {"w/RMSProp", "w/RMSProp_1"}, {1, 0},
     {0.01, 0.9, 0, 1e-10}, ref_rmsprop, 0, NULL},
    {"RMSProp", make_rmsprop_c, 3, {"mg", "rms", "momentum"},
     {"w/RMSProp_1", "w/RMSProp", "w/RMSProp_2"}, {0, 1, 0}, {0.02, 0.8, 0.5, 1e-6},
     ref_centered_rmsprop, 0, NULL},
};

/* apply_gradients with fed (random) gradients for two variables, several
 * steps, against the reference; checks slots' names, initial values and
 * collections, and the global step. */
static void run_opt_case(const opt_case *c, tfc_dtype dt) {
    tfc_graph *g = tfc_graph_new();
    int64_t wd[] = {2, 3}, bd[] = {3};
    tfc_tensor *w0 = tfc_test_random_tensor(dt, 2, wd, -1, 1);
    tfc_tensor *b0 = tfc_test_random_tensor(dt, 1, bd, -1, 1);
    tfc_output w = tfc_variable(g, "w", tfc_const(g, w0));
    tfc_output b = tfc_variable(g, "b", tfc_const(g, b0));
    tfc_output step = tfc_train_get_or_create_global_step(g);
    tfc_output gw = tfc_placeholder(g, "gw", dt, 2, wd);
    tfc_output gb = tfc_placeholder(g, "gb", dt, 1, bd);
    tfc_optimizer *opt = c->make(step);
    CHECK(!strcmp(tfc_optimizer_name(opt), c->name));
    tfc_grad_and_var gv[2] = {{gw, w}, {gb, b}};
    tfc_node *train = tfc_optimizer_apply_gradients(opt, g, gv, 2, step);
    tfc_node *init = tfc_global_variables_initializer(g);
    CHECK_GRAPH_OK(g);
    if (!train) goto done;
    CHECK(!strcmp(tfc_node_name(train), c->name));
    CHECK(!strcmp(tfc_node_type(train), "AssignAdd"));
    CHECK(tfc_graph_collection_get(g, TFC_TRAIN_OP, 0) == train);
    CHECK(tfc_graph_collection_size(g, TFC_TRAINABLE_VARIABLES) == 2);
    tfc_output slots[3];
    for (int k = 0; k < c->nslots; k++) {
        slots[k] = tfc_optimizer_get_slot(opt, w, c->slot_names[k]);
        CHECK_MSG(slots[k].node && !strcmp(tfc_node_name(slots[k].node), c->slot_vars[k]),
                  "%s slot %s is %s", c->name, c->slot_names[k],
                  slots[k].node ? tfc_node_name(slots[k].node) : "missing");
        CHECK(tfc_optimizer_get_slot(opt, b, c->slot_names[k]).node != NULL);
        tfc_shape sh = tfc_output_shape(slots[k]);
        CHECK(sh.rank == 2 && sh.dims[0] == 2 && sh.dims[1] == 3);
        CHECK(tfc_output_dtype(slots[k]) == dt);
    }
    CHECK(tfc_optimizer_get_slot(opt, w, "no_such_slot").node == NULL);
    if (!strcmp(c->name, "Adam")) {
        CHECK(tfc_graph_node_by_name(g, "beta1_power") != NULL);
        CHECK(tfc_graph_node_by_name(g, "beta2_power") != NULL);
    }

    tfc_status *st = tfc_status_new();
    tfc_session *s = tfc_session_new(g, NULL, st);
    tfc_session_run(s, NULL, NULL, 0, NULL, 0, NULL, &init, 1, st);
    CHECK_STATUS_OK(st);
    /* reference state for w (b is updated alongside; its check is its
     * change) */
    int64_t n = 6;
    double *ref[4];
    for (int k = 0; k < 4; k++) ref[k] = calloc((size_t)n, sizeof(double));
    for (int64_t i = 0; i < n; i++) ref[0][i] = tfc_test_get(w0, i);
    for (int k = 0; k < c->nslots; k++) {
        tfc_tensor *sv = tfc_session_run1(s, NULL, NULL, 0, slots[k], st);
        CHECK_STATUS_OK(st);
        for (int64_t i = 0; i < n; i++) {
            ref[k + 1][i] = c->slot_init[k];
            if (sv) CHECK_NEAR(tfc_test_get(sv, i), c->slot_init[k], 1e-7);
        }
        tfc_tensor_free(sv);
    }
    double h[6], gbuf[6];
    memcpy(h, c->h, sizeof h);
    double tol = dt == TFC_FLOAT ? 2e-4 : 1e-10;
    for (int t = 0; t < 4; t++) {
        tfc_tensor *gwt = tfc_test_random_tensor(dt, 2, wd, -1, 1);
        tfc_tensor *gbt = tfc_test_random_tensor(dt, 1, bd, -1, 1);
        for (int64_t i = 0; i < n; i++) gbuf[i] = tfc_test_get(gwt, i);
        if (c->prep) c->prep(h, t);
        ref_state r = {n, {ref[0], ref[1], ref[2], ref[3]}, gbuf, h, c->nesterov};
        c->ref(&r);
        tfc_output feeds[2] = {gw, gb};
        tfc_tensor *vals[2] = {gwt, gbt};
        tfc_session_run(s, feeds, vals, 2, NULL, 0, NULL, &train, 1, st);
        CHECK_STATUS_OK(st);
        tfc_output fetch[4] = {w, step, b};
        tfc_tensor *out[4] = {0};
        tfc_session_run(s, NULL, NULL, 0, fetch, 3, out, NULL, 0, st);
        CHECK_STATUS_OK(st);
        if (out[0]) {
            for (int64_t i = 0; i < n; i++)
                CHECK_MSG(fabs(tfc_test_get(out[0], i) - ref[0][i]) <= tol * (1 + fabs(ref[0][i])),
                          "%s %s step %d w[%lld] = %.9g, want %.9g", c->name,
                          tfc_dtype_name(dt), t, (long long)i, tfc_test_get(out[0], i),
                          ref[0][i]);
        }
        if (out[1]) CHECK(tfc_test_get(out[1], 0) == t + 1);
        if (out[2] && t == 0) CHECK(tfc_test_max_diff(out[2], b0) > 0);
        for (int k = 0; k < 3; k++) tfc_tensor_free(out[k]);
        tfc_tensor_free(gwt);
        tfc_tensor_free(gbt);
    }
    for (int k = 0; k < c->nslots; k++) {
        tfc_tensor *sv = tfc_session_run1(s, NULL, NULL, 0, slots[k], st);
        if (sv)
            for (int64_t i = 0; i < n; i++)
                CHECK_MSG(fabs(tfc_test_get(sv, i) - ref[k + 1][i]) <=
                              tol * (1 + fabs(ref[k + 1][i])),
                          "%s slot %s", c->name, c->slot_names[k]);
        tfc_tensor_free(sv);
    }
    if (!strcmp(c->name, "Adam")) {
        tfc_tensor *p = tfc_session_run1(s, NULL, NULL, 0,
                                         tfc_out(tfc_graph_node_by_name(g, "beta1_power"), 0), st);
        if (p) CHECK_NEAR(tfc_test_get(p, 0), c->h[3] * h[0], 1e-6);
        tfc_tensor_free(p);
    }
    for (int k = 0; k < 4; k++) free(ref[k]);
    tfc_session_free(s);
    tfc_status_free(st);
done:
    tfc_optimizer_free(opt);
    tfc_tensor_free(w0);
    tfc_tensor_free(b0);
    tfc_graph_free(g);
}

static void test_optimizer_steps(void) {
    for (size_t k = 0; k < sizeof opt_cases / sizeof *opt_cases; k++) {
        run_opt_case(&opt_cases[k], TFC_DOUBLE);
        run_opt_case(&opt_cases[k], TFC_FLOAT);
    }
}

/* Slots are not trainable, live outside the caller's name scope, and a
 * second variable's slots are named after it. */
static void test_slot_names_and_collections(void) {
    tfc_graph *g = tfc_graph_new();
    int64_t d[] = {2};
    tfc_name_scope_push(g, "layer");
    tfc_output w = tfc_variable(g, "w", tfc_const_data(g, TFC_FLOAT, 1, d, (float[]){1, 2}));
    tfc_name_scope_pop(g);
    CHECK(!strcmp(tfc_node_name(w.node), "layer/w"));
    tfc_output gw = tfc_placeholder(g, "gw", TFC_FLOAT, 1, d);
    tfc_optimizer *opt = tfc_adam_optimizer(TFC_ADAM_DEFAULTS);
    tfc_grad_and_var gv = {gw, w};
    tfc_node *before = tfc_no_op(g);
    tfc_name_scope_push(g, "train");
    tfc_control_dependencies_push(g, &before, 1);
    tfc_node *t1 = tfc_optimizer_apply_gradients(opt, g, &gv, 1, (tfc_output){NULL, 0});
    tfc_control_dependencies_pop(g);
    tfc_name_scope_pop(g);
    /* the slots' initializers do not wait for the caller's dependencies */
    tfc_node *minit = tfc_graph_node_by_name(g, "layer/w/Adam/Assign");
    CHECK(minit && tfc_node_num_control_inputs(minit) == 0);
    CHECK_GRAPH_OK(g);
    CHECK(t1 && !strcmp(tfc_node_name(t1), "train/Adam"));
    CHECK(t1 && !strcmp(tfc_node_type(t1), "NoOp"));
    CHECK(tfc_graph_node_by_name(g, "layer/w/Adam") != NULL);
    CHECK(tfc_graph_node_by_name(g, "layer/w/Adam_1") != NULL);
    CHECK(tfc_graph_node_by_name(g, "train/Adam/update_layer/w/ApplyAdam") != NULL);
    /* a second apply reuses the slots and gets its own scope and name */
    tfc_node *t2 = tfc_optimizer_apply_gradients(opt, g, &gv, 1, (tfc_output){NULL, 0});
    CHECK_GRAPH_OK(g);
    CHECK(t2 && !strcmp(tfc_node_name(t2), "Adam"));
    CHECK(tfc_graph_node_by_name(g, "layer/w/Adam_2") == NULL);
    CHECK(tfc_graph_collection_size(g, TFC_TRAINABLE_VARIABLES) == 1);
    /* w, m, v, beta1_power, beta2_power */
    CHECK(tfc_graph_collection_size(g, TFC_GLOBAL_VARIABLES) == 5);
    CHECK(tfc_graph_collection_size(g, TFC_TRAIN_OP) == 2);
    tfc_optimizer_free(opt);
    tfc_graph_free(g);
}

static void test_global_step(void) {
    tfc_graph *g = tfc_graph_new();
    tfc_output s1 = tfc_train_get_or_create_global_step(g);
    tfc_output s2 = tfc_train_get_or_create_global_step(g);
    CHECK(s1.node && s1.node == s2.node);
    CHECK(!strcmp(tfc_node_name(s1.node), "global_step"));
    CHECK(tfc_output_dtype(s1) == TFC_INT64);
    CHECK(tfc_graph_collection_size(g, TFC_TRAINABLE_VARIABLES) == 0);
    int64_t d[] = {3};
    tfc_output w = tfc_variable(g, "w", tfc_const_data(g, TFC_DOUBLE, 1, d, (double[]){1, 2, 3}));
    tfc_output gw = tfc_const_data(g, TFC_DOUBLE, 1, d, (double[]){1, 1, 1});
    tfc_optimizer *opt = tfc_gradient_descent_optimizer(0.5);
    tfc_grad_and_var gv = {gw, w};
    tfc_node *train = tfc_optimizer_apply_gradients(opt, g, &gv, 1, s1);
    tfc_node *init = tfc_global_variables_initializer(g);
    CHECK_GRAPH_OK(g);
    tfc_status *st = tfc_status_new();
    tfc_session *s = tfc_session_new(g, NULL, st);
    tfc_session_run(s, NULL, NULL, 0, NULL, 0, NULL, &init, 1, st);
    for (int i = 0; i < 5; i++) tfc_session_run(s, NULL, NULL, 0, NULL, 0, NULL, &train, 1, st);
    CHECK_STATUS_OK(st);
    tfc_tensor *sv = tfc_session_run1(s, NULL, NULL, 0, s1, st);
    tfc_tensor *wv = tfc_session_run1(s, NULL, NULL, 0, w, st);
    CHECK(sv && tfc_test_get(sv, 0) == 5);
    CHECK(wv && tfc_test_get(wv, 2) == 3 - 2.5);
    tfc_tensor_free(sv);
    tfc_tensor_free(wv);
    tfc_session_free(s);
    tfc_status_free(st);
    tfc_optimizer_free(opt);
    /* a node "global_step" that is not an integer variable is refused */
    tfc_graph *g2 = tfc_graph_new();
    tfc_with_name(g2, "global_step");
    tfc_const_float(g2, 1);
    CHECK(tfc_train_get_or_create_global_step(g2).node == NULL);
    CHECK_CONTAINS(tfc_graph_error(g2), "global_step");
    tfc_graph_free(g2);
    tfc_graph_free(g);
}

/* The learning rate as a tensor: a placeholder fed a new value each step
 * (float32 rate for a float64 variable: cast). */
static void test_learning_rate_tensor(void) {
    tfc_graph *g = tfc_graph_new();
    int64_t d[] = {4};
    tfc_tensor *w0 = tfc_test_random_tensor(TFC_DOUBLE, 1, d, -1, 1);
    tfc_output w = tfc_variable(g, "w", tfc_const(g, w0));
    tfc_output gw = tfc_placeholder(g, "gw", TFC_DOUBLE, 1, d);
    tfc_output lr = tfc_placeholder(g, "lr", TFC_FLOAT, 0, NULL);
    tfc_optimizer *opt = tfc_momentum_optimizer(123.0, 0.5, 0);
    tfc_optimizer_set_learning_rate(opt, lr);
    tfc_grad_and_var gv = {gw, w};
    tfc_node *train = tfc_optimizer_apply_gradients(opt, g, &gv, 1, (tfc_output){NULL, 0});
    tfc_node *init = tfc_global_variables_initializer(g);
    CHECK_GRAPH_OK(g);
    tfc_status *st = tfc_status_new();
    tfc_session *s = tfc_session_new(g, NULL, st);
    tfc_session_run(s, NULL, NULL, 0, NULL, 0, NULL, &init, 1, st);
    double ref[4], acc[4] = {0}, gb[4];
    for (int i = 0; i < 4; i++) ref[i] = tfc_test_get(w0, i);
    const float rates[] = {0.5f, 0.25f, 0.125f};
    for (int t = 0; t < 3; t++) {
        tfc_tensor *gt = tfc_test_random_tensor(TFC_DOUBLE, 1, d, -1, 1);
        tfc_tensor *lt = tfc_tensor_scalar_float(rates[t]);
        for (int i = 0; i < 4; i++) {
            gb[i] = tfc_test_get(gt, i);
            acc[i] = 0.5 * acc[i] + gb[i];
            ref[i] -= rates[t] * acc[i];
        }
        tfc_output feeds[2] = {gw, lr};
        tfc_tensor *vals[2] = {gt, lt};
        tfc_session_run(s, feeds, vals, 2, NULL, 0, NULL, &train, 1, st);
        CHECK_STATUS_OK(st);
        tfc_tensor_free(gt);
        tfc_tensor_free(lt);
    }
    tfc_tensor *wv = tfc_session_run1(s, NULL, NULL, 0, w, st);
    if (wv)
        for (int i = 0; i < 4; i++) CHECK_NEAR(tfc_test_get(wv, i), ref[i], 1e-12);
    /* not feeding the rate is an error naming the placeholder */
    tfc_session_run(s, &gw, (tfc_tensor *const *)&w0, 1, NULL, 0, NULL, &train, 1, st);
    CHECK_CONTAINS(tfc_status_message(st), "lr");
    tfc_tensor_free(wv);
    tfc_tensor_free(w0);
    tfc_session_free(s);
    tfc_status_free(st);
    tfc_optimizer_free(opt);
    tfc_graph_free(g);
}

static void test_optimizer_misuse(void) {
    tfc_graph *g = tfc_graph_new();
    int64_t d[] = {2};
    tfc_output w = tfc_variable(g, "w", tfc_const_data(g, TFC_FLOAT, 1, d, (float[]){1, 2}));
    tfc_output c = tfc_const_data(g, TFC_FLOAT, 1, d, (float[]){1, 2});
    tfc_optimizer *opt = tfc_adam_optimizer(TFC_ADAM_DEFAULTS);
    /* no gradient at all */
    tfc_grad_and_var none = {{NULL, 0}, w};
    CHECK(tfc_optimizer_apply_gradients(opt, g, &none, 1, (tfc_output){NULL, 0}) == NULL);
    CHECK_CONTAINS(tfc_graph_error(g), "No gradients provided");
    tfc_graph_clear_error(g);
    /* a constant is not a variable */
    tfc_grad_and_var bad = {c, c};
    CHECK(tfc_optimizer_apply_gradients(opt, g, &bad, 1, (tfc_output){NULL, 0}) == NULL);
    CHECK_CONTAINS(tfc_graph_error(g), "not a float32/float64 variable");
    tfc_graph_clear_error(g);
    /* running the update with the slots uninitialized names a slot */
    tfc_grad_and_var gv = {c, w};
    tfc_node *train = tfc_optimizer_apply_gradients(opt, g, &gv, 1, (tfc_output){NULL, 0});
    CHECK_GRAPH_OK(g);
    tfc_status *st = tfc_status_new();
    tfc_session *s = tfc_session_new(g, NULL, st);
    tfc_node *wi = tfc_variable_initializer(w);
    tfc_session_run(s, NULL, NULL, 0, NULL, 0, NULL, &wi, 1, st);
    tfc_session_run(s, NULL, NULL, 0, NULL, 0, NULL, &train, 1, st);
    CHECK(tfc_status_code(st) == TFC_FAILED_PRECONDITION);
    CHECK_CONTAINS(tfc_status_message(st), "Attempting to use uninitialized value");
    const char *msg = tfc_status_message(st);
    CHECK_MSG(strstr(msg, "w/Adam") || strstr(msg, "beta1_power") || strstr(msg, "beta2_power"),
              "%s", msg);
    tfc_session_free(s);
    tfc_status_free(st);
    tfc_optimizer_free(opt);
    tfc_graph_free(g);
}

/* minimize on loss = sum((w - t)^2) (gradient 2 (w - t)) against the
 * reference stepping with that gradient; every optimizer lowers the loss. */
static void test_minimize_quadratic(void) {
    for (size_t k = 0; k < sizeof opt_cases / sizeof *opt_cases; k++) {
        const opt_case *c = &opt_cases[k];
        tfc_graph *g = tfc_graph_new();
        int64_t d[] = {5};
        tfc_tensor *w0 = tfc_test_random_tensor(TFC_DOUBLE, 1, d, -1, 1);
        tfc_tensor *t0 = tfc_test_random_tensor(TFC_DOUBLE, 1, d, -2, 2);
        tfc_output w = tfc_variable(g, "w", tfc_const(g, w0));
        tfc_output other = tfc_variable(g, "other", tfc_const_double(g, 7));
        tfc_output diff = tfc_sub(g, w, tfc_const(g, t0));
        tfc_output loss = tfc_reduce_sum(g, tfc_mul(g, diff, diff), NULL, 0, 0);
        tfc_output step = tfc_train_get_or_create_global_step(g);
        tfc_optimizer *opt = c->make(step);
        tfc_node *train = tfc_optimizer_minimize(opt, g, loss, NULL, 0, step);
        tfc_node *init = tfc_global_variables_initializer(g);
        CHECK_GRAPH_OK(g);
        tfc_status *st = tfc_status_new();
        tfc_session *s = tfc_session_new(g, NULL, st);
        tfc_session_run(s, NULL, NULL, 0, NULL, 0, NULL, &init, 1, st);
        double *ref[4], h[6], gb[5];
        for (int j = 0; j < 4; j++) ref[j] = calloc(5, sizeof(double));
        for (int i = 0; i < 5; i++) ref[0][i] = tfc_test_get(w0, i);
        for (int j = 0; j < c->nslots; j++)
            for (int i = 0; i < 5; i++) ref[j + 1][i] = c->slot_init[j];
        memcpy(h, c->h, sizeof h);
        tfc_tensor *l0 = tfc_session_run1(s, NULL, NULL, 0, loss, st);
        const int steps = 30;
        for (int t = 0; t < steps && train; t++) {
            for (int i = 0; i < 5; i++) gb[i] = 2 * (ref[0][i] - tfc_test_get(t0, i));
            if (c->prep) c->prep(h, t);
            ref_state r = {5, {ref[0], ref[1], ref[2], ref[3]}, gb, h, c->nesterov};
            c->ref(&r);
            tfc_session_run(s, NULL, NULL, 0, NULL, 0, NULL, &train, 1, st);
        }
        CHECK_STATUS_OK(st);
        tfc_tensor *wv = tfc_session_run1(s, NULL, NULL, 0, w, st);
        tfc_tensor *l1 = tfc_session_run1(s, NULL, NULL, 0, loss, st);
        tfc_tensor *ov = tfc_session_run1(s, NULL, NULL, 0, other, st);
        if (wv)
            for (int i = 0; i < 5; i++)
                CHECK_MSG(fabs(tfc_test_get(wv, i) - ref[0][i]) < 1e-9 * (1 + fabs(ref[0][i])),
                          "%s w[%d] = %.12g, want %.12g", c->name, i, tfc_test_get(wv, i),
                          ref[0][i]);
        if (l0 && l1) CHECK_MSG(tfc_test_get(l1, 0) < tfc_test_get(l0, 0), "%s", c->name);
        /* a variable the loss does not use is left alone */
        if (ov) CHECK(tfc_test_get(ov, 0) == 7);
        for (int j = 0; j < 4; j++) free(ref[j]);
        tfc_tensor_free(wv), tfc_tensor_free(l0), tfc_tensor_free(l1), tfc_tensor_free(ov);
        tfc_tensor_free(w0), tfc_tensor_free(t0);
        tfc_session_free(s);
        tfc_status_free(st);
        tfc_optimizer_free(opt);
        tfc_graph_free(g);
    }
}

/* compute_gradients over an explicit var_list, then apply_gradients. */
static void test_compute_apply_split(void) {
    tfc_graph *g = tfc_graph_new();
    int64_t d[] = {3};
    tfc_output a = tfc_variable(g, "a", tfc_const_data(g, TFC_DOUBLE, 1, d, (double[]){1, 2, 3}));
    tfc_output b = tfc_variable(g, "b", tfc_const_data(g, TFC_DOUBLE, 1, d, (double[]){4, 5, 6}));
    tfc_output loss = tfc_reduce_sum(g, tfc_mul(g, a, b), NULL, 0, 0);
    tfc_optimizer *opt = tfc_gradient_descent_optimizer(0.1);
    int n = 0;
    tfc_grad_and_var *gv = tfc_optimizer_compute_gradients(opt, g, loss, &a, 1, &n);
    CHECK(gv && n == 1);
    tfc_node *train = gv ? tfc_optimizer_apply_gradients(opt, g, gv, n, (tfc_output){NULL, 0})
                         : NULL;
    free(gv);
    CHECK_GRAPH_OK(g);
    tfc_status *st = tfc_status_new();
    tfc_session *s = tfc_session_new(g, NULL, st);
    tfc_node *init = tfc_global_variables_initializer(g);
    tfc_session_run(s, NULL, NULL, 0, NULL, 0, NULL, &init, 1, st);
    tfc_session_run(s, NULL, NULL, 0, NULL, 0, NULL, &train, 1, st);
    CHECK_STATUS_OK(st);
    tfc_output f[2] = {a, b};
    tfc_tensor *out[2] = {0};
    tfc_session_run(s, NULL, NULL, 0, f, 2, out, NULL, 0, st);
    if (out[0] && out[1])
        for (int i = 0; i < 3; i++) {
            CHECK_NEAR(tfc_test_get(out[0], i), (i + 1) - 0.1 * (i + 4), 1e-12);
            CHECK_NEAR(tfc_test_get(out[1], i), i + 4, 0);
        }
    tfc_tensor_free(out[0]);
    tfc_tensor_free(out[1]);
    /* no trainable variable reaches a constant loss */
    tfc_graph *g2 = tfc_graph_new();
    CHECK(tfc_optimizer_minimize(opt, g2, tfc_const_double(g2, 1), NULL, 0,
                                 (tfc_output){NULL, 0}) == NULL);
    CHECK_CONTAINS(tfc_graph_error(g2), "No variables to optimize");
    tfc_graph_free(g2);
    tfc_session_free(s);
    tfc_status_free(st);
    tfc_optimizer_free(opt);
    tfc_graph_free(g);
}

/* lr * rate^(step / decay_steps), floored exponent with staircase; the
 * step is fed. */
static void test_exponential_decay(void) {
    tfc_graph *g = tfc_graph_new();
    tfc_output step = tfc_train_get_or_create_global_step(g);
    tfc_output smooth = tfc_exponential_decay(g, 0.1, step, 100, 0.96, 0);
    tfc_output stair = tfc_exponential_decay(g, 0.5, step, 30, 0.5, 1);
    CHECK_GRAPH_OK(g);
    CHECK(tfc_output_dtype(smooth) == TFC_FLOAT);
    tfc_status *st = tfc_status_new();
    tfc_session *s = tfc_session_new(g, NULL, st);
    const int64_t steps[] = {0, 1, 29, 30, 31, 99, 100, 250, 1000};
    for (int i = 0; i < 9; i++) {
        tfc_tensor *sv = tfc_tensor_scalar_int64(steps[i]);
        tfc_output f[2] = {smooth, stair};
        tfc_tensor *out[2] = {0};
        tfc_session_run(s, &step, &sv, 1, f, 2, out, NULL, 0, st);
        CHECK_STATUS_OK(st);
        double t = (double)steps[i];
        if (out[0]) CHECK_NEAR(tfc_test_get(out[0], 0), 0.1 * pow(0.96, t / 100), 1e-6);
        if (out[1]) CHECK_NEAR(tfc_test_get(out[1], 0), 0.5 * pow(0.5, floor(t / 30)), 1e-6);
        tfc_tensor_free(out[0]);
        tfc_tensor_free(out[1]);
        tfc_tensor_free(sv);
    }
    /* a decayed rate drives an optimizer: steps shrink as the step grows */
    int64_t d[] = {1};
    tfc_output w = tfc_variable(g, "w", tfc_const_data(g, TFC_FLOAT, 1, d, (float[]){0}));
    tfc_optimizer *opt = tfc_gradient_descent_optimizer(0);
    tfc_optimizer_set_learning_rate(opt, stair);
    tfc_grad_and_var gv = {tfc_const_data(g, TFC_FLOAT, 1, d, (float[]){-1}), w};
    tfc_node *train = tfc_optimizer_apply_gradients(opt, g, &gv, 1, step);
    tfc_node *init = tfc_global_variables_initializer(g);
    CHECK_GRAPH_OK(g);
    tfc_session_run(s, NULL, NULL, 0, NULL, 0, NULL, &init, 1, st);
    double ref = 0;
    for (int t = 0; t < 65; t++) {
        ref += 0.5 * pow(0.5, floor(t / 30.0));
        tfc_session_run(s, NULL, NULL, 0, NULL, 0, NULL, &train, 1, st);
    }
    CHECK_STATUS_OK(st);
    tfc_tensor *wv = tfc_session_run1(s, NULL, NULL, 0, w, st);
    if (wv) CHECK_NEAR(tfc_test_get(wv, 0), ref, 1e-5);
    tfc_tensor_free(wv);
    CHECK(tfc_exponential_decay(g, 0.1, step, 0, 0.5, 0).node == NULL);
    CHECK_CONTAINS(tfc_graph_error(g), "decay_steps");
    tfc_session_free(s);
    tfc_status_free(st);
    tfc_optimizer_free(opt);
    tfc_graph_free(g);
}

/* One Adam over a float32 and a float64 variable: the beta powers take the
 * first variable's type and are cast for the other. */
static void test_mixed_dtypes(void) {
    tfc_graph *g = tfc_graph_new();
    int64_t d[] = {2};
    tfc_output a = tfc_variable(g, "a", tfc_const_data(g, TFC_FLOAT, 1, d, (float[]){1, 2}));
    tfc_output b = tfc_variable(g, "b", tfc_const_data(g, TFC_DOUBLE, 1, d, (double[]){3, 4}));
    tfc_grad_and_var gv[2] = {{tfc_const_data(g, TFC_FLOAT, 1, d, (float[]){0.5f, -1}), a},
                              {tfc_const_data(g, TFC_DOUBLE, 1, d, (double[]){2, -0.25}), b}};
    tfc_optimizer *opt = tfc_adam_optimizer(0.1, 0.9, 0.999, 1e-8);
    tfc_node *train = tfc_optimizer_apply_gradients(opt, g, gv, 2, (tfc_output){NULL, 0});
    tfc_node *init = tfc_global_variables_initializer(g);
    CHECK_GRAPH_OK(g);
    CHECK(tfc_output_dtype(tfc_out(tfc_graph_node_by_name(g, "beta1_power"), 0)) == TFC_FLOAT);
    tfc_status *st = tfc_status_new();
    tfc_session *s = tfc_session_new(g, NULL, st);
    tfc_session_run(s, NULL, NULL, 0, NULL, 0, NULL, &init, 1, st);
    tfc_session_run(s, NULL, NULL, 0, NULL, 0, NULL, &train, 1, st);
    CHECK_STATUS_OK(st);
    /* the first Adam step moves each element by about lr against its gradient's sign */
    tfc_output f[2] = {a, b};
    tfc_tensor *out[2] = {0};
    tfc_session_run(s, NULL, NULL, 0, f, 2, out, NULL, 0, st);
    if (out[0] && out[1]) {
        CHECK_NEAR(tfc_test_get(out[0], 0), 0.9, 1e-5);
        CHECK_NEAR(tfc_test_get(out[0], 1), 2.1, 1e-5);
        CHECK_NEAR(tfc_test_get(out[1], 0), 2.9, 1e-6);
        CHECK_NEAR(tfc_test_get(out[1], 1), 4.1, 1e-6);
    }
    tfc_tensor_free(out[0]);
    tfc_tensor_free(out[1]);
    tfc_session_free(s);
    tfc_status_free(st);
    tfc_optimizer_free(opt);
    tfc_graph_free(g);
}

/* Gradient descent and momentum on float32 variables compute in float, in
 * the order of TensorFlow's float kernels (var -= grad * lr; accum = accum
 * * momentum + grad, then var -= lr * accum, or with Nesterov grad * lr +
 * accum * momentum * lr): bit for bit against those loops, on 40,001
 * elements (several parallel chunks) at 1 and 2 threads. */
static void test_float_rules_as_tensorflow(void) {
    enum { N = 40001 };
    int64_t dims[] = {N};
    const float lr = 0.37f, mu = 0.9f;
    for (int threads = 1; threads <= 2; threads++)
        for (int kind = 0; kind < 3; kind++) { /* GD, momentum, Nesterov */
            tfc_graph *g = tfc_graph_new();
            tfc_tensor *v0 = tfc_test_random_tensor(TFC_FLOAT, 1, dims, -1, 1);
            tfc_tensor *a0 = tfc_test_random_tensor(TFC_FLOAT, 1, dims, -1, 1);
            tfc_tensor *gr = tfc_test_random_tensor(TFC_FLOAT, 1, dims, -1, 1);
            tfc_output var = tfc_variable(g, "v", tfc_const(g, v0));
            tfc_output acc = tfc_variable(g, "a", tfc_const(g, a0));
            tfc_op_desc *d = tfc_op_new(g, kind ? "ApplyMomentum" : "ApplyGradientDescent", "apply");
            tfc_op_add_input(d, var);
            if (kind) tfc_op_add_input(d, acc);
            tfc_op_add_input(d, tfc_const_float(g, lr));
            tfc_op_add_input(d, tfc_const(g, gr));
            if (kind) {
                tfc_op_add_input(d, tfc_const_float(g, mu));
                tfc_op_set_attr_bool(d, "use_nesterov", kind == 2);
            }
            tfc_node *apply = tfc_op_finish(d);
            CHECK_GRAPH_OK(g);
            tfc_status *st = tfc_status_new();
            tfc_session *s = tfc_test_session_initialized(g, threads, st);
            tfc_session_run(s, NULL, NULL, 0, NULL, 0, NULL, &apply, 1, st);
            tfc_output both[2] = {var, acc};
            tfc_tensor *out[2] = {0};
            tfc_session_run(s, NULL, NULL, 0, both, 2, out, NULL, 0, st);
            CHECK_STATUS_OK(st);
            const float *v = tfc_tensor_data(v0), *a = tfc_tensor_data(a0), *gv = tfc_tensor_data(gr);
            int bad = 0;
            for (int64_t i = 0; out[0] && out[1] && i < N; i++) {
                float want_a = a[i], want_v = v[i];
                if (kind) want_a = a[i] * mu + gv[i];
                if (kind == 0) want_v -= gv[i] * lr;
                else if (kind == 1) want_v -= lr * want_a;
                else want_v -= gv[i] * lr + want_a * mu * lr;
                bad += ((const float *)tfc_tensor_data(out[0]))[i] != want_v ||
                       ((const float *)tfc_tensor_data(out[1]))[i] != want_a;
            }
            CHECK_MSG(out[0] && bad == 0, "kind %d, %d threads: %d elements differ", kind, threads, bad);
            for (int k = 0; k < 2; k++) tfc_tensor_free(out[k]);
            tfc_tensor_free(v0);
            tfc_tensor_free(a0);
            tfc_tensor_free(gr);
            tfc_session_free(s);
            tfc_status_free(st);
            tfc_graph_free(g);
        }
}

TFC_TEST_MAIN(T(test_apply_ops), T(test_float_rules_as_tensorflow), T(test_apply_misuse), T(test_optimizer_steps),
              T(test_slot_names_and_collections), T(test_global_step),
              T(test_learning_rate_tensor), T(test_optimizer_misuse),
              T(test_minimize_quadratic), T(test_compute_apply_split),
              T(test_exponential_decay), T(test_mixed_dtypes))
