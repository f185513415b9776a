/* Frozen graphs (tfc_graph_to_frozen_graphdef): variables become Consts of
 * the session's current values, the graph is pruned to what the outputs
 * need, the file re-imports with no variables and gives the same outputs,
 * and it passes the OpDef check. Errors name the output or variable. */
#include "formats/tf_graph_check.h"
#include "harness.h"

#include <stdlib.h>

static void on_problem(void *user, const char *msg) {
    (void)user;
    tfc_test_failures++;
    fprintf(stderr, "[%s] OpDef check: %s\n", tfc_test_current, msg);
}

typedef struct model {
    tfc_graph *g;
    tfc_session *s;
    tfc_output x, y;
    tfc_node *train;
} model;

/* y = relu(x w + b) with w, b trained a few steps (so their values are
 * not their initial ones), plus a resource variable scale: y * scale. */
static void build(model *m) {
    m->g = tfc_graph_new();
    int64_t xd[] = {-1, 3}, wd[] = {3, 2};
    m->x = tfc_placeholder(m->g, "x", TFC_FLOAT, 2, xd);
    tfc_output w = tfc_variable(m->g, "w", tfc_random_normal(m->g, TFC_FLOAT, 2, wd, 0, 1, 3));
    tfc_output b = tfc_variable(m->g, "b", tfc_zeros(m->g, TFC_FLOAT, 1, (int64_t[]){2}));
    tfc_output h = tfc_relu(m->g, tfc_add(m->g, tfc_matmul(m->g, m->x, w), b));
    m->y = tfc_identity(m->g, h);
    tfc_output loss = tfc_reduce_sum(m->g, tfc_square(m->g, tfc_sub(m->g, m->y,
                                                                  tfc_const_float(m->g, 1.0f))),
                                     NULL, 0, 0);
    tfc_optimizer *opt = tfc_gradient_descent_optimizer(0.05);
    m->train = tfc_optimizer_minimize(opt, m->g, loss, NULL, 0, (tfc_output){NULL, 0});
    tfc_optimizer_free(opt);
    tfc_node *init = tfc_global_variables_initializer(m->g);
    CHECK_GRAPH_OK(m->g);
    tfc_status *st = tfc_status_new();
    m->s = tfc_session_new(m->g, NULL, st);
    tfc_session_run(m->s, NULL, NULL, 0, NULL, 0, NULL, &init, 1, st);
    CHECK_STATUS_OK(st);
    float xv[] = {1, 2, 3, -1, 0.5f, 2};
    tfc_tensor *xt = tfc_tensor_from_data(TFC_FLOAT, 2, (int64_t[]){2, 3}, xv);
    for (int i = 0; i < 3; i++) {
        tfc_session_run(m->s, &m->x, &xt, 1, NULL, 0, NULL, &m->train, 1, st);
        CHECK_STATUS_OK(st);
    }
    tfc_tensor_free(xt);
    tfc_status_free(st);
}

static tfc_tensor *run_y(tfc_session *s, tfc_output x, tfc_output y) {
    float xv[] = {0.5f, -1, 2, 3, 1, 0};
    tfc_tensor *xt = tfc_tensor_from_data(TFC_FLOAT, 2, (int64_t[]){2, 3}, xv), *out = NULL;
    tfc_status *st = tfc_status_new();
    tfc_session_run(s, &x, &xt, 1, &y, 1, &out, NULL, 0, st);
    CHECK_STATUS_OK(st);
    tfc_status_free(st);
    tfc_tensor_free(xt);
    return out;
}

static void test_freeze_and_reimport(void) {
    model m;
    build(&m);
    tfc_tensor *want = run_y(m.s, m.x, m.y);
    const char *outs[] = {tfc_node_name(m.y.node)};
    uint8_t *bytes = NULL;
    size_t len = 0;
    tfc_status *st = tfc_status_new();
    CHECK(tfc_graph_to_frozen_graphdef(m.s, outs, 1, &bytes, &len, st) == 0);
    CHECK_STATUS_OK(st);
    tfc_tf_check c = {on_problem, NULL, NULL, NULL};
    CHECK(bytes && tfc_tf_check_graph_def(bytes, len, &c) == 0);
    tfc_graph *g2 = tfc_graph_new();
    CHECK(tfc_graph_import_graphdef(g2, bytes, len, NULL, NULL, NULL, 0, st) == 0);
    CHECK_STATUS_OK(st);
    /* no variables, no training nodes: only what y needs */
    int vars = 0, grads = 0;
    for (int i = 0; i < tfc_graph_num_nodes(g2); i++) {
        tfc_node *n = tfc_graph_node(g2, i);
        vars += !strcmp(tfc_node_type(n), "VariableV2");
        grads += !strncmp(tfc_node_name(n), "gradients/", 10);
    }
    CHECK(vars == 0 && grads == 0);
    CHECK(tfc_graph_collection_size(g2, "variables") == 0);
    CHECK(tfc_graph_node_by_name(g2, "w") && !strcmp(tfc_node_type(tfc_graph_node_by_name(g2, "w")), "Const"));
    tfc_session *s2 = tfc_session_new(g2, NULL, st);
    tfc_output x2 = {tfc_graph_node_by_name(g2, "x"), 0};
    tfc_output y2 = {tfc_graph_node_by_name(g2, outs[0]), 0};
    tfc_tensor *got = x2.node && y2.node ? run_y(s2, x2, y2) : NULL;
    CHECK(got && want);
    if (got && want) {
        const float *a = tfc_tensor_data(got), *b = tfc_tensor_data(want);
        for (int i = 0; i < 4; i++) CHECK_NEAR(a[i], b[i], 0);
    }
    tfc_tensor_free(got);
    tfc_tensor_free(want);
    tfc_session_free(s2);
    tfc_graph_free(g2);
    free(bytes);
    tfc_status_free(st);
    tfc_session_free(m.s);
    tfc_graph_free(m.g);
}

static void test_freeze_errors(void) {
    model m;
    build(&m);
    uint8_t *bytes = NULL;
    size_t len = 0;
    tfc_status *st = tfc_status_new();
    const char *none[] = {"nope"};
    CHECK(tfc_graph_to_frozen_graphdef(m.s, none, 1, &bytes, &len, st) == -1);
    CHECK_CONTAINS(tfc_status_message(st), "'nope' names no node");
    const char *train[] = {tfc_node_name(m.train)};
    CHECK(tfc_graph_to_frozen_graphdef(m.s, train, 1, &bytes, &len, st) == -1);
    CHECK_CONTAINS(tfc_status_message(st), "updates variable");
    CHECK(bytes == NULL && len == 0);
    /* a fresh session: nothing initialized */
    tfc_session *fresh = tfc_session_new(m.g, NULL, st);
    const char *y[] = {tfc_node_name(m.y.node)};
    CHECK(tfc_graph_to_frozen_graphdef(fresh, y, 1, &bytes, &len, st) == -1);
    CHECK_CONTAINS(tfc_status_message(st), "variable 'w' has no value");
    tfc_session_free(fresh);
    tfc_status_free(st);
    tfc_session_free(m.s);
    tfc_graph_free(m.g);
}

TFC_TEST_MAIN(T(test_freeze_and_reimport), T(test_freeze_errors))
