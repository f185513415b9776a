/* Resource variables: VarHandleOp and the ops on its handle (reads that
 * copy, assignments, shared names, gather), their gradients against
 * finite differences in float64, savers, and the ResourceApply* updates
 * against the Apply* ones on ref variables. */
#include "core/tensor.h"
#include "gradcheck.h"
#include "graph/graph.h"
#include "harness.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static tfc_tensor *run1(tfc_session *s, tfc_output fetch, tfc_status *st) {
    return tfc_session_run1(s, NULL, NULL, 0, fetch, st);
}

static void run_target(tfc_session *s, tfc_node *n, tfc_status *st) {
    tfc_session_run(s, NULL, NULL, 0, NULL, 0, NULL, &n, 1, st);
}

static void test_read_assign_update(void) {
    tfc_graph *g = tfc_graph_new();
    tfc_status *st = tfc_status_new();
    int64_t d[2] = {2, 3};
    tfc_output h = tfc_var_handle_op(g, "v", TFC_FLOAT, 2, d, NULL);
    tfc_output r = tfc_read_variable_op(g, h, TFC_FLOAT);
    float a[6] = {1, 2, 3, 4, 5, 6}, b[6] = {0.5f, 0.5f, 0.5f, 1, 1, 1};
    tfc_tensor *at = tfc_tensor_from_data(TFC_FLOAT, 2, d, a);
    tfc_tensor *bt = tfc_tensor_from_data(TFC_FLOAT, 2, d, b);
    tfc_node *assign = tfc_assign_variable_op(g, h, tfc_const(g, at));
    tfc_node *add = tfc_assign_add_variable_op(g, h, tfc_const(g, bt));
    tfc_node *sub = tfc_assign_sub_variable_op(g, h, tfc_const(g, bt));
    tfc_op_desc *di = tfc_op_new(g, "VarIsInitializedOp", NULL);
    tfc_op_add_input(di, h);
    tfc_output inited = tfc_out(tfc_op_finish(di), 0);
    tfc_op_desc *dd = tfc_op_new(g, "DestroyResourceOp", NULL);
    tfc_op_add_input(dd, h);
    tfc_node *destroy = tfc_op_finish(dd);
    CHECK_GRAPH_OK(g);
    CHECK(tfc_output_shape(r).rank == 2 && tfc_output_shape(r).dims[1] == 3);
    tfc_session *s = tfc_session_new(g, NULL, st);
    tfc_tensor *t = run1(s, inited, st);
    CHECK(t && *(uint8_t *)t->data == 0);
    tfc_tensor_free(t);
    CHECK(run1(s, r, st) == NULL);
    CHECK(tfc_status_code(st) == TFC_FAILED_PRECONDITION);
    CHECK_CONTAINS(tfc_status_message(st), "uninitialized value v");
    run_target(s, assign, st);
    CHECK_STATUS_OK(st);
    t = run1(s, inited, st);
    CHECK(t && *(uint8_t *)t->data == 1);
    tfc_tensor_free(t);
    run_target(s, add, st);
    run_target(s, add, st);
    run_target(s, sub, st);
    t = run1(s, r, st);
    CHECK_STATUS_OK(st);
    for (int i = 0; t && i < 6; i++) CHECK_NEAR(tfc_test_get(t, i), a[i] + b[i], 1e-6);
    tfc_tensor_free(t);
    run_target(s, destroy, st);
    CHECK_STATUS_OK(st);
    CHECK(run1(s, r, st) == NULL && tfc_status_code(st) == TFC_FAILED_PRECONDITION);
    /* a second session has its own variable */
    tfc_session *s2 = tfc_session_new(g, NULL, st);
    CHECK(run1(s2, r, st) == NULL && tfc_status_code(st) == TFC_FAILED_PRECONDITION);
    tfc_session_free(s2);
    /* misuse named at build time */
    tfc_read_variable_op(g, r, TFC_FLOAT);
    CHECK_CONTAINS(tfc_graph_error(g), "must be a variable's resource handle");
    tfc_session_free(s);
    tfc_tensor_free(at);
    tfc_tensor_free(bt);
    tfc_status_free(st);
    tfc_graph_free(g);
}

/* A read is a snapshot: an update ordered after it leaves it alone. */
static void test_read_is_a_copy(void) {
    tfc_graph *g = tfc_graph_new();
    tfc_status *st = tfc_status_new();
    tfc_output h = tfc_resource_variable(g, "v", tfc_const_float(g, 1.0f), 1);
    tfc_output r = tfc_read_variable_op(g, h, TFC_FLOAT);
    tfc_control_dependencies_push(g, &r.node, 1);
    tfc_node *add = tfc_assign_add_variable_op(g, h, tfc_const_float(g, 10.0f));
    tfc_control_dependencies_pop(g);
    tfc_control_dependencies_push(g, &add, 1);
    tfc_output y = tfc_identity(g, r);
    tfc_output after = tfc_read_variable_op(g, h, TFC_FLOAT);
    tfc_control_dependencies_pop(g);
    tfc_node *init = tfc_global_variables_initializer(g);
    CHECK_GRAPH_OK(g);
    tfc_session *s = tfc_session_new(g, NULL, st);
    run_target(s, init, st);
    tfc_output fetch[2] = {y, after};
    tfc_tensor *out[2] = {NULL, NULL};
    tfc_session_run(s, NULL, NULL, 0, fetch, 2, out, NULL, 0, st);
    CHECK_STATUS_OK(st);
    CHECK(out[0] && tfc_test_get(out[0], 0) == 1.0);
    CHECK(out[1] && tfc_test_get(out[1], 0) == 11.0);
    tfc_tensor_free(out[0]);
    tfc_tensor_free(out[1]);
    tfc_session_free(s);
    tfc_status_free(st);
    tfc_graph_free(g);
}

static void test_shared_name(void) {
    tfc_graph *g = tfc_graph_new();
    tfc_status *st = tfc_status_new();
    tfc_output h1 = tfc_var_handle_op(g, "a", TFC_DOUBLE, 0, NULL, "shared");
    tfc_output h2 = tfc_var_handle_op(g, "b", TFC_DOUBLE, 0, NULL, "shared");
    tfc_output h3 = tfc_var_handle_op(g, "c", TFC_DOUBLE, 0, NULL, NULL);
    tfc_node *set = tfc_assign_variable_op(g, h1, tfc_const_double(g, 4.0));
    tfc_node *set3 = tfc_assign_variable_op(g, h3, tfc_const_double(g, 7.0));
    tfc_output r2 = tfc_read_variable_op(g, h2, TFC_DOUBLE);
    tfc_output r3 = tfc_read_variable_op(g, h3, TFC_DOUBLE);
    CHECK_GRAPH_OK(g);
    tfc_session *s = tfc_session_new(g, NULL, st);
    run_target(s, set, st);
    run_target(s, set3, st);
    tfc_tensor *t = run1(s, r2, st);
    CHECK_STATUS_OK(st);
    CHECK(t && tfc_test_get(t, 0) == 4.0);
    tfc_tensor_free(t);
    t = run1(s, r3, st);
    CHECK(t && tfc_test_get(t, 0) == 7.0);
    tfc_tensor_free(t);
    tfc_session_free(s);
    /* one shared name, another dtype: refused, naming both */
    tfc_var_handle_op(g, "d", TFC_FLOAT, 0, NULL, "shared");
    CHECK_CONTAINS(tfc_graph_error(g), "shared_name 'shared' names variable 'a' of dtype float64");
    tfc_status_free(st);
    tfc_graph_free(g);
}

static void test_resource_gather(void) {
    tfc_graph *g = tfc_graph_new();
    tfc_status *st = tfc_status_new();
    tfc_test_seed(3);
    int64_t d[2] = {5, 4}, id[2] = {2, 3};
    tfc_tensor *v = tfc_test_random_tensor(TFC_FLOAT, 2, d, -1, 1);
    int32_t ix[6] = {4, 0, 0, 2, 3, 1};
    tfc_tensor *it = tfc_tensor_from_data(TFC_INT32, 2, id, ix);
    tfc_output h = tfc_resource_variable(g, "emb", tfc_const(g, v), 1);
    tfc_op_desc *dg = tfc_op_new(g, "ResourceGather", NULL);
    tfc_op_add_input(dg, h);
    tfc_op_add_input(dg, tfc_const(g, it));
    tfc_op_set_attr_type(dg, "dtype", TFC_FLOAT);
    tfc_output y = tfc_out(tfc_op_finish(dg), 0);
    tfc_node *init = tfc_global_variables_initializer(g);
    CHECK_GRAPH_OK(g);
    tfc_shape ys = tfc_output_shape(y);
    CHECK(ys.rank == 3 && ys.dims[0] == 2 && ys.dims[1] == 3 && ys.dims[2] == 4);
    tfc_session *s = tfc_session_new(g, NULL, st);
    run_target(s, init, st);
    tfc_tensor *t = run1(s, y, st);
    CHECK_STATUS_OK(st);
    for (int i = 0; t && i < 6; i++)
        for (int k = 0; k < 4; k++)
            CHECK(tfc_test_get(t, i * 4 + k) == tfc_test_get(v, ix[i] * 4 + k));
    tfc_tensor_free(t);
    /* an index out of range is named */
    ix[3] = 5;
    tfc_tensor *bad = tfc_tensor_from_data(TFC_INT32, 2, id, ix);
    tfc_op_desc *db = tfc_op_new(g, "ResourceGather", NULL);
    tfc_op_add_input(db, h);
    tfc_op_add_input(db, tfc_const(g, bad));
    tfc_op_set_attr_type(db, "dtype", TFC_FLOAT);
    tfc_output yb = tfc_out(tfc_op_finish(db), 0);
    CHECK(run1(s, yb, st) == NULL);
    CHECK_CONTAINS(tfc_status_message(st), "indices[3] = 5 is not in [0, 5)");
    tfc_session_free(s);
    tfc_tensor_free(bad);
    tfc_tensor_free(v);
    tfc_tensor_free(it);
    tfc_status_free(st);
    tfc_graph_free(g);
}

/* loss = sum(w * x * x) + sum(w * w), w read twice from one variable. */
static tfc_output handle_loss(tfc_graph *g, tfc_output h, tfc_output x) {
    tfc_output w1 = tfc_read_variable_op(g, h, TFC_DOUBLE);
    tfc_output w2 = tfc_read_variable_op(g, h, TFC_DOUBLE);
    tfc_output a = tfc_mul(g, w1, tfc_mul(g, x, x));
    return tfc_add(g, tfc_reduce_sum(g, a, NULL, 0, 0),
                   tfc_reduce_sum(g, tfc_mul(g, w2, w2), NULL, 0, 0));
}

/* Gradients w.r.t. the handle (the sum over its reads) against central
 * differences of the variable's value, in float64; and through the reads
 * w.r.t. a placeholder with the harness's checker. */
static void test_gradients_finite_differences(void) {
    tfc_graph *g = tfc_graph_new();
    tfc_status *st = tfc_status_new();
    tfc_test_seed(11);
    int64_t d[1] = {3};
    tfc_tensor *w0 = tfc_test_random_tensor(TFC_DOUBLE, 1, d, -1, 1);
    tfc_tensor *xv = tfc_test_random_tensor(TFC_DOUBLE, 1, d, -1, 1);
    tfc_output h = tfc_resource_variable(g, "w", tfc_const(g, w0), 1);
    tfc_output x = tfc_placeholder(g, "x", TFC_DOUBLE, 1, d);
    tfc_output loss = handle_loss(g, h, x);
    tfc_output grad;
    CHECK(tfc_gradients(g, &loss, 1, &h, 1, NULL, &grad) == 0);
    CHECK_GRAPH_OK(g);
    CHECK(grad.node && tfc_output_dtype(grad) == TFC_DOUBLE);
    tfc_output wv = tfc_placeholder(g, "wv", TFC_DOUBLE, 1, d);
    tfc_node *set = tfc_assign_variable_op(g, h, wv);
    tfc_node *init = tfc_global_variables_initializer(g);
    tfc_session *s = tfc_session_new(g, NULL, st);
    run_target(s, init, st);
    tfc_tensor *gt = tfc_session_run1(s, &x, &xv, 1, grad, st);
    CHECK_STATUS_OK(st);
    double eps = 1e-6;
    for (int i = 0; gt && i < 3; i++) {
        double l[2];
        for (int sgn = 0; sgn < 2; sgn++) {
            tfc_tensor *w = tfc_tensor_copy(w0);
            ((double *)w->data)[i] += sgn ? -eps : eps;
            tfc_session_run(s, &wv, &w, 1, NULL, 0, NULL, &set, 1, st);
            tfc_tensor *lt = tfc_session_run1(s, &x, &xv, 1, loss, st);
            l[sgn] = lt ? tfc_test_get(lt, 0) : NAN;
            tfc_tensor_free(lt);
            tfc_tensor_free(w);
        }
        double numeric = (l[0] - l[1]) / (2 * eps);
        CHECK_NEAR(tfc_test_get(gt, i), numeric, 1e-6);
        /* and the closed form: x^2 + 2 w */
        double xi = tfc_test_get(xv, i), wi = tfc_test_get(w0, i);
        CHECK_NEAR(tfc_test_get(gt, i), xi * xi + 2 * wi, 1e-9);
    }
    tfc_tensor_free(gt);
    tfc_session_free(s);
    /* through a ReadVariableOp's output (fed, so the checker's own
     * session needs no initialized variable) with the harness's checker */
    tfc_output r = tfc_read_variable_op(g, h, TFC_DOUBLE);
    tfc_output y = tfc_mul(g, tfc_mul(g, r, r), tfc_const(g, xv));
    CHECK(tfc_test_gradcheck(g, y, &r, &w0, 1) < TFC_GRAD_TOL);
    tfc_tensor_free(w0);
    tfc_tensor_free(xv);
    tfc_status_free(st);
    tfc_graph_free(g);
}

static void test_saver_round_trip(void) {
    char dir[] = "/tmp/tfc_resvar_XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    tfc_graph *g = tfc_graph_new();
    tfc_status *st = tfc_status_new();
    tfc_output h = tfc_resource_variable(g, "rv", tfc_const_float(g, 3.0f), 1);
    tfc_output w = tfc_variable(g, "w", tfc_const_float(g, 5.0f));
    tfc_node *bump = tfc_assign_add_variable_op(g, h, tfc_const_float(g, 1.0f));
    tfc_node *init = tfc_global_variables_initializer(g);
    tfc_output r = tfc_read_variable_op(g, h, TFC_FLOAT);
    tfc_saver *sv = tfc_saver_new(g, NULL, 0, 0);
    CHECK_GRAPH_OK(g);
    tfc_session *s = tfc_session_new(g, NULL, st);
    run_target(s, init, st);
    char prefix[200];
    snprintf(prefix, sizeof prefix, "%s/model", dir);
    const char *path = tfc_saver_save(sv, s, prefix, -1, st);
    CHECK_STATUS_OK(st);
    tfc_checkpoint_reader *rd = path ? tfc_checkpoint_reader_open(path, st) : NULL;
    CHECK(rd && tfc_checkpoint_reader_num(rd) == 2);
    tfc_tensor *saved = rd ? tfc_checkpoint_reader_get(rd, "rv", st) : NULL;
    CHECK(saved && tfc_test_get(saved, 0) == 3.0);
    tfc_tensor_free(saved);
    tfc_checkpoint_reader_free(rd);
    run_target(s, bump, st);
    tfc_tensor *t = run1(s, r, st);
    CHECK(t && tfc_test_get(t, 0) == 4.0);
    tfc_tensor_free(t);
    CHECK(tfc_saver_restore(sv, s, prefix, st) == 0);
    t = run1(s, r, st);
    CHECK(t && tfc_test_get(t, 0) == 3.0);
    tfc_tensor_free(t);
    /* a fresh session restores without initializing */
    tfc_session *s2 = tfc_session_new(g, NULL, st);
    CHECK(tfc_saver_restore(sv, s2, prefix, st) == 0);
    t = run1(s2, r, st);
    CHECK_STATUS_OK(st);
    CHECK(t && tfc_test_get(t, 0) == 3.0);
    tfc_tensor_free(t);
    t = run1(s2, w, st);
    CHECK(t && tfc_test_get(t, 0) == 5.0);
    tfc_tensor_free(t);
    tfc_session_free(s2);
    tfc_session_free(s);
    tfc_saver_free(sv);
    tfc_status_free(st);
    tfc_graph_free(g);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK(system(cmd) == 0);
}

/* One training problem, ref variables with Apply* and resource variables
 * with ResourceApply*: the same values after every step. */
typedef struct apply_case {
    const char *op;
    int nslots;
    int nscalars; /* hyper-parameters before the grad, then after */
    double before[6];
    int nafter;
    double after[4];
} apply_case;

static tfc_output var_of(tfc_graph *g, int resource, const char *name, tfc_tensor *init) {
    return resource ? tfc_resource_variable(g, name, tfc_const(g, init), 1)
                    : tfc_variable(g, name, tfc_const(g, init));
}

static void train(const apply_case *c, int resource, tfc_tensor *w0, tfc_tensor *xv,
                  tfc_tensor **out) {
    tfc_graph *g = tfc_graph_new();
    tfc_status *st = tfc_status_new();
    int64_t d[1] = {4};
    tfc_output var = var_of(g, resource, "w", w0);
    tfc_tensor *zero = tfc_tensor_copy(w0);
    memset(zero->data, 0, zero->nbytes);
    tfc_tensor *small = tfc_tensor_copy(w0);
    for (int i = 0; i < 4; i++) ((double *)small->data)[i] = 0.1;
    tfc_output slots[3];
    for (int k = 0; k < c->nslots; k++) {
        char name[16];
        snprintf(name, sizeof name, "s%d", k);
        slots[k] = var_of(g, resource, name, k == 0 && (!strcmp(c->op, "ApplyAdagrad") || !strcmp(c->op, "ApplyFtrl")) ? small : zero);
    }
    tfc_output x = tfc_placeholder(g, "x", TFC_DOUBLE, 1, d);
    tfc_output wr = resource ? tfc_read_variable_op(g, var, TFC_DOUBLE) : var;
    tfc_output diff = tfc_sub(g, wr, x);
    tfc_output loss = tfc_reduce_sum(g, tfc_mul(g, diff, diff), NULL, 0, 0);
    tfc_output grad;
    CHECK(tfc_gradients(g, &loss, 1, &wr, 1, NULL, &grad) == 0);
    char type[64];
    snprintf(type, sizeof type, "%s%s", resource ? "Resource" : "", c->op);
    tfc_op_desc *d2 = tfc_op_new(g, type, "update");
    tfc_op_add_input(d2, var);
    for (int k = 0; k < c->nslots; k++) tfc_op_add_input(d2, slots[k]);
    for (int k = 0; k < c->nscalars; k++) tfc_op_add_input(d2, tfc_const_double(g, c->before[k]));
    tfc_op_add_input(d2, grad);
    for (int k = 0; k < c->nafter; k++) tfc_op_add_input(d2, tfc_const_double(g, c->after[k]));
    tfc_node *up = tfc_op_finish(d2);
    tfc_node *init = tfc_global_variables_initializer(g);
    CHECK_GRAPH_OK(g);
    tfc_session *s = tfc_session_new(g, NULL, st);
    run_target(s, init, st);
    for (int step = 0; step < 5; step++) tfc_session_run(s, &x, &xv, 1, NULL, 0, NULL, &up, 1, st);
    CHECK_MSG(tfc_status_code(st) == TFC_OK, "%s: %s", type, tfc_status_message(st));
    *out = tfc_session_run1(s, NULL, NULL, 0, wr, st);
    tfc_session_free(s);
    tfc_tensor_free(zero);
    tfc_tensor_free(small);
    tfc_status_free(st);
    tfc_graph_free(g);
}

static void test_resource_apply_matches_ref(void) {
    static const apply_case cases[] = {
        {"ApplyGradientDescent", 0, 1, {0.1}, 0, {0}},
        {"ApplyMomentum", 1, 1, {0.1}, 1, {0.9}},
        {"ApplyAdagrad", 1, 1, {0.1}, 0, {0}},
        {"ApplyAdadelta", 2, 3, {1.0, 0.95, 1e-6}, 0, {0}},
        {"ApplyAdam", 2, 6, {0.9, 0.999, 0.01, 0.9, 0.999, 1e-8}, 0, {0}},
        {"ApplyRMSProp", 2, 4, {0.01, 0.9, 0.0, 1e-10}, 0, {0}},
        {"ApplyFtrl", 2, 0, {0}, 4, {0.1, 0.0, 0.0, -0.5}},
    };
    tfc_test_seed(5);
    int64_t d[1] = {4};
    tfc_tensor *w0 = tfc_test_random_tensor(TFC_DOUBLE, 1, d, -1, 1);
    tfc_tensor *xv = tfc_test_random_tensor(TFC_DOUBLE, 1, d, -1, 1);
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        apply_case c = cases[i];
        tfc_tensor *ref = NULL, *res = NULL;
        train(&c, 0, w0, xv, &ref);
        train(&c, 1, w0, xv, &res);
        CHECK_MSG(ref && res, "%s", c.op);
        double moved = 0;
        for (int k = 0; ref && res && k < 4; k++) {
            CHECK_MSG(tfc_test_get(ref, k) == tfc_test_get(res, k), "%s element %d: %g vs %g",
                      c.op, k, tfc_test_get(ref, k), tfc_test_get(res, k));
            moved += fabs(tfc_test_get(res, k) - tfc_test_get(w0, k));
        }
        CHECK_MSG(moved > 1e-3, "%s did not train", c.op);
        tfc_tensor_free(ref);
        tfc_tensor_free(res);
    }
    tfc_tensor_free(w0);
    tfc_tensor_free(xv);
}

/* tf.train optimizers minimize over resource variables (resource slots,
 * ResourceApply* updates) exactly as over ref variables; an embedding
 * looked up with Gather gets its (sparse) gradient applied densely. */
static void minimize(int which, int resource, tfc_tensor *w0, tfc_tensor *e0, tfc_tensor *xv,
                     tfc_tensor **w_out, tfc_tensor **e_out) {
    tfc_graph *g = tfc_graph_new();
    tfc_status *st = tfc_status_new();
    int64_t d[1] = {4};
    tfc_output w = var_of(g, resource, "w", w0), e = var_of(g, resource, "emb", e0);
    tfc_output wr = resource ? tfc_read_variable_op(g, w, TFC_DOUBLE) : w;
    tfc_output er = resource ? tfc_read_variable_op(g, e, TFC_DOUBLE) : e;
    tfc_output x = tfc_placeholder(g, "x", TFC_DOUBLE, 1, d);
    int32_t ix[4] = {2, 0, 2, 1};
    tfc_output rows = tfc_gather(g, er, tfc_const_data(g, TFC_INT32, 1, d, ix));
    tfc_output diff = tfc_sub(g, tfc_mul(g, wr, rows), x);
    tfc_output loss = tfc_reduce_sum(g, tfc_mul(g, diff, diff), NULL, 0, 0);
    tfc_optimizer *opt = which == 0   ? tfc_gradient_descent_optimizer(0.05)
                         : which == 1 ? tfc_momentum_optimizer(0.05, 0.9, 1)
                         : which == 2 ? tfc_adam_optimizer(0.05, 0.9, 0.999, 1e-8)
                         : which == 3 ? tfc_rmsprop_optimizer(0.01, 0.9, 0.5, 1e-10, 1)
                         : which == 4 ? tfc_adagrad_optimizer(0.1, 0.1)
                                      : tfc_ftrl_optimizer(0.1, -0.5, 0.1, 0.01, 0.01);
    tfc_output none = {NULL, 0};
    tfc_node *train = tfc_optimizer_minimize(opt, g, loss, NULL, 0, none);
    tfc_node *init = tfc_global_variables_initializer(g);
    CHECK_GRAPH_OK(g);
    tfc_session *s = tfc_session_new(g, NULL, st);
    run_target(s, init, st);
    for (int step = 0; step < 6; step++)
        tfc_session_run(s, &x, &xv, 1, NULL, 0, NULL, &train, 1, st);
    CHECK_MSG(tfc_status_code(st) == TFC_OK, "%s: %s", tfc_optimizer_name(opt),
              tfc_status_message(st));
    *w_out = tfc_session_run1(s, NULL, NULL, 0, wr, st);
    *e_out = tfc_session_run1(s, NULL, NULL, 0, er, st);
    tfc_session_free(s);
    tfc_optimizer_free(opt);
    tfc_status_free(st);
    tfc_graph_free(g);
}

static void test_optimizers_minimize_resource_variables(void) {
    tfc_test_seed(8);
    int64_t d[1] = {4}, ed[1] = {3};
    tfc_tensor *w0 = tfc_test_random_tensor(TFC_DOUBLE, 1, d, 0.5, 1.5);
    tfc_tensor *e0 = tfc_test_random_tensor(TFC_DOUBLE, 1, ed, -1, 1);
    tfc_tensor *xv = tfc_test_random_tensor(TFC_DOUBLE, 1, d, -1, 1);
    for (int which = 0; which < 6; which++) {
        tfc_tensor *w[2] = {NULL, NULL}, *e[2] = {NULL, NULL};
        for (int r = 0; r < 2; r++) minimize(which, r, w0, e0, xv, &w[r], &e[r]);
        CHECK_MSG(w[0] && w[1] && e[0] && e[1], "optimizer %d", which);
        double moved = 0;
        for (int k = 0; w[0] && w[1] && k < 4; k++) {
            CHECK_NEAR(tfc_test_get(w[1], k), tfc_test_get(w[0], k), 1e-12);
            moved += fabs(tfc_test_get(w[1], k) - tfc_test_get(w0, k));
        }
        for (int k = 0; e[0] && e[1] && k < 3; k++)
            CHECK_NEAR(tfc_test_get(e[1], k), tfc_test_get(e[0], k), 1e-12);
        CHECK_MSG(moved > 1e-3, "optimizer %d did not train", which);
        for (int r = 0; r < 2; r++) {
            tfc_tensor_free(w[r]);
            tfc_tensor_free(e[r]);
        }
    }
    tfc_tensor_free(w0);
    tfc_tensor_free(e0);
    tfc_tensor_free(xv);
}

/* The legacy `Variable` op is VariableV2 by another name. */
static void test_legacy_variable(void) {
    tfc_graph *g = tfc_graph_new();
    tfc_op_desc *d = tfc_op_new(g, "Variable", "old");
    tfc_op_set_attr_type(d, "dtype", TFC_FLOAT);
    tfc_op_set_attr_shape(d, "shape", 0, NULL);
    tfc_output v = tfc_out(tfc_op_finish(d), 0);
    tfc_output a = tfc_assign(g, v, tfc_const_float(g, 2.5f));
    CHECK_GRAPH_OK(g);
    tfc_status *st = tfc_status_new();
    tfc_session *s = tfc_session_new(g, NULL, st);
    tfc_tensor *t = run1(s, a, st);
    tfc_tensor_free(t);
    t = run1(s, v, st);
    CHECK_STATUS_OK(st);
    CHECK(t && tfc_test_get(t, 0) == 2.5);
    tfc_tensor_free(t);
    tfc_session_free(s);
    tfc_status_free(st);
    tfc_graph_free(g);
}

TFC_TEST_MAIN(T(test_read_assign_update), T(test_read_is_a_copy), T(test_shared_name),
              T(test_resource_gather), T(test_gradients_finite_differences),
              T(test_saver_round_trip), T(test_resource_apply_matches_ref),
              T(test_optimizers_minimize_resource_variables), T(test_legacy_variable))
