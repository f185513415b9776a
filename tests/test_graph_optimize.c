/* Graph optimizations of a plan (src/runtime/optimize.c): constant folding,
 * common-subexpression elimination, Identity removal. Each rewrite is shown
 * to happen (the plan runs fewer kernels) and to change nothing (results
 * equal those of a session with TFC_OPT_L0 on random inputs), and the cases
 * where it must not apply are checked: feeds, random and stateful ops,
 * variables read around an update, outputs too big to keep. */
#include "harness.h"

#include "runtime/runtime.h"

#include <stdlib.h>

/* Runs once; returns the number of kernels the run's plan executes (-1 on
 * error) and its optimizer counts in *stats. */
static int run(tfc_session *s, const tfc_output *feeds, tfc_tensor *const *vals, int nfeeds,
               const tfc_output *fetches, int nfetches, tfc_tensor **out, tfc_node *const *targets,
               int ntargets, tfc_opt_stats *stats) {
    tfc_status *st = tfc_status_new();
    tfc_session_run(s, feeds, vals, nfeeds, fetches, nfetches, out, targets, ntargets, st);
    CHECK_STATUS_OK(st);
    int ok = tfc_status_code(st) == TFC_OK;
    tfc_status_free(st);
    tfc_plan *p = tfc_session_find_plan(s, feeds, nfeeds, fetches, nfetches, targets, ntargets);
    CHECK(p != NULL);
    if (!ok || !p) return -1;
    if (stats) *stats = p->stats;
    return p->nnodes;
}

/* The value of `o` in session `s` (caller frees), or NULL. */
static tfc_tensor *fetch1(tfc_session *s, tfc_output o) {
    tfc_status *st = tfc_status_new();
    tfc_tensor *t = tfc_session_run1(s, NULL, NULL, 0, o, st);
    CHECK_STATUS_OK(st);
    tfc_status_free(st);
    return t;
}

/* Runs the same fetches in an optimized and an unoptimized session on
 * `rounds` random feeds of `x`; checks equal results. Returns the kernel
 * counts of both plans. */
static void compare(tfc_graph *g, tfc_output x, int rank, const int64_t *dims,
                    const tfc_output *fetches, int nfetches, int rounds, int *nodes_on,
                    int *nodes_off, tfc_opt_stats *stats) {
    tfc_session *on = tfc_test_session_at(g, 1, TFC_OPT_L1),
                *off = tfc_test_session_at(g, 1, TFC_OPT_L0);
    for (int r = 0; r < rounds; r++) {
        tfc_tensor *xt = tfc_test_random_tensor(TFC_FLOAT, rank, dims, -2, 2);
        tfc_tensor *a[8] = {0}, *b[8] = {0};
        int nf = x.node ? 1 : 0;
        *nodes_on = run(on, &x, &xt, nf, fetches, nfetches, a, NULL, 0, stats);
        *nodes_off = run(off, &x, &xt, nf, fetches, nfetches, b, NULL, 0, NULL);
        for (int i = 0; i < nfetches; i++) {
            CHECK(a[i] && b[i]);
            if (a[i] && b[i]) CHECK_MSG(tfc_test_max_diff(a[i], b[i]) == 0, "fetch %d", i);
            tfc_tensor_free(a[i]);
            tfc_tensor_free(b[i]);
        }
        tfc_tensor_free(xt);
    }
    tfc_session_free(on);
    tfc_session_free(off);
}

/* y = x * ((a + b) * d) + sqrt(e): the bracket and sqrt(e) are computed
 * once, at plan time; only the Mul and Add that read x run. */
static void test_constant_folding(void) {
    tfc_graph *g = tfc_graph_new();
    int64_t xd[] = {5};
    tfc_output x = tfc_placeholder(g, "x", TFC_FLOAT, 1, xd);
    tfc_output c = tfc_mul(g, tfc_add(g, tfc_const_float(g, 1.5f), tfc_const_float(g, 2.0f)),
                           tfc_const_float(g, -3.0f));
    tfc_output y = tfc_add(g, tfc_mul(g, x, c), tfc_sqrt(g, tfc_const_float(g, 2.0f)));
    CHECK_GRAPH_OK(g);
    int nodes_on, nodes_off;
    tfc_opt_stats st;
    compare(g, x, 1, xd, &y, 1, 5, &nodes_on, &nodes_off, &st);
    CHECK_MSG(nodes_on == 2 && nodes_off == 9, "kernels %d (optimized), %d (as written)", nodes_on,
              nodes_off);
    CHECK(st.folded == 7 && st.merged == 0 && st.forwarded == 0);
    /* the folded node itself can be fetched, alone or with others */
    tfc_output both[] = {c, y};
    compare(g, x, 1, xd, both, 2, 2, &nodes_on, &nodes_off, &st);
    CHECK(nodes_on == 2);
    compare(g, (tfc_output){0}, 0, NULL, &c, 1, 1, &nodes_on, &nodes_off, &st);
    CHECK_MSG(nodes_on == 0 && nodes_off == 5, "%d %d", nodes_on, nodes_off);
    CHECK_NEAR(tfc_test_eval_scalar(g, c), -10.5, 0);
    tfc_graph_free(g);
}

/* A node with several outputs folds too (Split of a constant). */
static void test_fold_multi_output(void) {
    tfc_graph *g = tfc_graph_new();
    int64_t d[] = {4};
    float v[] = {1, 2, 3, 4};
    tfc_output parts[2];
    CHECK(tfc_split(g, tfc_const_data(g, TFC_FLOAT, 1, d, v), 2, 0, parts) == 0);
    tfc_output x = tfc_placeholder(g, "x", TFC_FLOAT, 1, (int64_t[]){2});
    tfc_output y = tfc_sub(g, tfc_mul(g, x, parts[1]), parts[0]);
    tfc_output fetches[] = {y, parts[1]};
    int on, off;
    tfc_opt_stats st;
    compare(g, x, 1, (int64_t[]){2}, fetches, 2, 3, &on, &off, &st);
    CHECK_MSG(on == 2 && off == 5, "%d %d", on, off); /* Split's axis is a Const too */
    tfc_graph_free(g);
}

/* Feeds cut the graph: a fed constant is not a constant in that run. */
static void test_fed_constant_not_folded(void) {
    tfc_graph *g = tfc_graph_new();
    tfc_output c = tfc_const_float(g, 2.0f);
    tfc_output y = tfc_mul(g, c, tfc_const_float(g, 3.0f));
    tfc_session *s = tfc_test_session_at(g, 1, TFC_OPT_L1);
    tfc_tensor *out = NULL, *five = tfc_tensor_scalar_float(5);
    tfc_opt_stats st;
    CHECK(run(s, NULL, NULL, 0, &y, 1, &out, NULL, 0, &st) == 0);
    CHECK(out && *(float *)tfc_tensor_data(out) == 6.0f);
    tfc_tensor_free(out);
    CHECK(run(s, &c, &five, 1, &y, 1, &out, NULL, 0, &st) == 1);
    CHECK(out && *(float *)tfc_tensor_data(out) == 15.0f);
    tfc_tensor_free(out);
    /* fetching a fed output returns the feed */
    CHECK(run(s, &c, &five, 1, &c, 1, &out, NULL, 0, &st) == 0);
    CHECK(out && *(float *)tfc_tensor_data(out) == 5.0f);
    tfc_tensor_free(out);
    /* and the plan without feeds still folds */
    CHECK(run(s, NULL, NULL, 0, &y, 1, &out, NULL, 0, &st) == 0);
    CHECK(out && *(float *)tfc_tensor_data(out) == 6.0f);
    tfc_tensor_free(out);
    tfc_tensor_free(five);
    tfc_session_free(s);
    tfc_graph_free(g);
}

/* A 4 MiB Fill stays a kernel (the plan would pin it); a small one folds. */
static void test_big_outputs_not_folded(void) {
    tfc_graph *g = tfc_graph_new();
    tfc_output big =
        tfc_fill(g, tfc_const_ints(g, (int32_t[]){1024, 1024}, 2), tfc_const_float(g, 0.5f));
    tfc_output small =
        tfc_fill(g, tfc_const_ints(g, (int32_t[]){16, 16}, 2), tfc_const_float(g, 0.5f));
    tfc_output sb = tfc_reduce_sum(g, big, NULL, 0, 0), ss = tfc_reduce_sum(g, small, NULL, 0, 0);
    CHECK_GRAPH_OK(g);
    tfc_session *s = tfc_test_session_at(g, 1, TFC_OPT_L1);
    tfc_tensor *out = NULL;
    CHECK(run(s, NULL, NULL, 0, &sb, 1, &out, NULL, 0, NULL) == 2); /* Fill, Sum */
    CHECK(out && *(float *)tfc_tensor_data(out) == 524288.0f);
    tfc_tensor_free(out);
    CHECK(run(s, NULL, NULL, 0, &ss, 1, &out, NULL, 0, NULL) == 0);
    CHECK(out && *(float *)tfc_tensor_data(out) == 128.0f);
    tfc_tensor_free(out);
    tfc_session_free(s);
    tfc_graph_free(g);
}

/* A kernel failing on constants is not folded: the run reports the error,
 * naming the node, as without optimizations. */
static void test_fold_error_reported_at_run(void) {
    tfc_graph *g = tfc_graph_new();
    tfc_output q = tfc_div(g, tfc_const_int32(g, 1), tfc_const_int32(g, 0));
    for (int level = 0; level >= -1; level--) {
        tfc_session *s = tfc_test_session_at(g, 1, (tfc_opt_level)level);
        tfc_status *st = tfc_status_new();
        tfc_tensor *out = tfc_session_run1(s, NULL, NULL, 0, q, st);
        CHECK(out == NULL && tfc_status_code(st) != TFC_OK);
        CHECK_CONTAINS(tfc_status_message(st), "division by zero [[node Div");
        tfc_status_free(st);
        tfc_session_free(s);
    }
    tfc_graph_free(g);
}

/* Random ops are never folded or merged: two identical RandomUniform nodes
 * draw different values, and each run draws new ones. */
static void test_random_not_merged(void) {
    tfc_graph *g = tfc_graph_new();
    int64_t d[] = {64};
    tfc_output r1 = tfc_random_uniform(g, TFC_FLOAT, 1, d, 0, 1, 0);
    tfc_output r2 = tfc_random_uniform(g, TFC_FLOAT, 1, d, 0, 1, 0);
    tfc_output y1 = tfc_add(g, r1, tfc_const_float(g, 1.0f));
    tfc_output y2 = tfc_add(g, r2, tfc_const_float(g, 1.0f));
    tfc_session *s = tfc_test_session_at(g, 1, TFC_OPT_L1);
    tfc_output fetches[] = {y1, y2};
    tfc_tensor *a[2] = {0}, *b[2] = {0};
    tfc_opt_stats st;
    CHECK(run(s, NULL, NULL, 0, fetches, 2, a, NULL, 0, &st) == 4);
    CHECK(st.merged == 0);
    run(s, NULL, NULL, 0, fetches, 2, b, NULL, 0, NULL);
    if (a[0] && a[1] && b[0]) {
        CHECK(tfc_test_max_diff(a[0], a[1]) > 0);
        CHECK(tfc_test_max_diff(a[0], b[0]) > 0);
    }
    for (int i = 0; i < 2; i++) {
        tfc_tensor_free(a[i]);
        tfc_tensor_free(b[i]);
    }
    tfc_session_free(s);
    tfc_graph_free(g);
}

/* tanh(x) twice, x*w twice: each computed once; MatMuls that differ in an
 * attr are not merged; a fetched duplicate returns the right value. */
static void test_cse(void) {
    tfc_graph *g = tfc_graph_new();
    int64_t xd[] = {3, 3};
    tfc_output x = tfc_placeholder(g, "x", TFC_FLOAT, 2, xd);
    tfc_output t1 = tfc_tanh(g, x), t2 = tfc_tanh(g, x);
    tfc_output m1 = tfc_matmul(g, t1, x), m2 = tfc_matmul(g, t2, x);
    tfc_output m3 = tfc_matmul_ex(g, t2, x, 0, 1); /* differs in transpose_b */
    tfc_output y = tfc_add_n(g, (tfc_output[]){m1, m2, m3}, 3);
    CHECK_GRAPH_OK(g);
    tfc_output fetches[] = {y, m2, t2};
    int on, off;
    tfc_opt_stats st;
    compare(g, x, 2, xd, fetches, 3, 5, &on, &off, &st);
    CHECK_MSG(on == 4 && off == 6, "%d %d", on, off); /* tanh, 2 MatMul, AddN */
    CHECK(st.merged == 2);
    /* x + 1 twice, with two Const nodes of equal value: one Add */
    tfc_output p1 = tfc_add(g, x, tfc_const_float(g, 1.0f));
    tfc_output p2 = tfc_add(g, x, tfc_const_float(g, 1.0f));
    tfc_output p3 = tfc_add(g, x, tfc_const_float(g, 2.0f));
    tfc_output q = tfc_add_n(g, (tfc_output[]){p1, p2, p3}, 3);
    compare(g, x, 2, xd, &q, 1, 3, &on, &off, &st);
    CHECK_MSG(on == 3 && off == 7 && st.merged == 1, "%d %d %d", on, off, st.merged);
    tfc_graph_free(g);
}

/* Stateful ops run even when every input is constant. */
static void test_stateful_not_folded(void) {
    tfc_graph *g = tfc_graph_new();
    int64_t d[] = {3};
    tfc_output v = tfc_variable(g, "v", tfc_zeros(g, TFC_FLOAT, 1, d));
    tfc_output set =
        tfc_assign(g, v, tfc_add(g, tfc_ones(g, TFC_FLOAT, 1, d), tfc_const_float(g, 1.0f)));
    tfc_session *s = tfc_test_session_at(g, 1, TFC_OPT_L1);
    tfc_opt_stats st;
    CHECK(run(s, NULL, NULL, 0, NULL, 0, NULL, &set.node, 1, &st) == 2); /* v, Assign */
    CHECK(st.folded >= 3);
    tfc_tensor *vt = fetch1(s, v);
    CHECK(vt && ((float *)tfc_tensor_data(vt))[2] == 2.0f);
    tfc_tensor_free(vt);
    tfc_session_free(s);
    tfc_graph_free(g);
}

/* Nodes waiting for different control inputs are different. */
static void test_cse_respects_control_inputs(void) {
    tfc_graph *g = tfc_graph_new();
    tfc_output x = tfc_placeholder(g, "x", TFC_FLOAT, 0, NULL);
    tfc_output v = tfc_variable(g, "v", tfc_const_float(g, 1.0f));
    tfc_node *init = tfc_global_variables_initializer(g);
    tfc_output a = tfc_neg(g, x);
    tfc_node *inc = tfc_assign_add(g, v, tfc_const_float(g, 1.0f)).node;
    tfc_control_dependencies_push(g, &inc, 1);
    tfc_output b = tfc_neg(g, x);
    tfc_control_dependencies_pop(g);
    tfc_output y = tfc_add(g, a, b);
    CHECK_GRAPH_OK(g);
    tfc_session *s = tfc_test_session_at(g, 1, TFC_OPT_L1);
    run(s, NULL, NULL, 0, NULL, 0, NULL, &init, 1, NULL);
    tfc_tensor *xt = tfc_tensor_scalar_float(2), *out = NULL;
    tfc_opt_stats st;
    CHECK(run(s, &x, &xt, 1, &y, 1, &out, NULL, 0, &st) == 5); /* 2 Neg, AssignAdd, v, Add */
    CHECK(st.merged == 0);
    CHECK(out && *(float *)tfc_tensor_data(out) == -4.0f);
    tfc_tensor_free(out);
    tfc_tensor *vt = fetch1(s, v);
    CHECK(vt && *(float *)tfc_tensor_data(vt) == 2.0f); /* the update ran once */
    tfc_tensor_free(vt);
    tfc_tensor_free(xt);
    tfc_session_free(s);
    tfc_graph_free(g);
}

/* Identity and StopGradient chains are skipped unless fetched, a target,
 * a control input, or waiting on control inputs. */
static void test_identity_removal(void) {
    tfc_graph *g = tfc_graph_new();
    int64_t xd[] = {4};
    tfc_output x = tfc_placeholder(g, "x", TFC_FLOAT, 1, xd);
    tfc_output i1 = tfc_identity(g, x);
    tfc_output i2 = tfc_stop_gradient(g, tfc_identity(g, i1));
    tfc_output y = tfc_square(g, i2);
    int on, off;
    tfc_opt_stats st;
    compare(g, x, 1, xd, &y, 1, 3, &on, &off, &st);
    CHECK_MSG(on == 1 && off == 4, "%d %d", on, off);
    CHECK(st.forwarded == 3);
    /* a fetched Identity stays (the one before it goes) */
    tfc_output both[] = {y, i2};
    compare(g, x, 1, xd, both, 2, 2, &on, &off, &st);
    CHECK_MSG(on == 2 && st.forwarded == 2, "%d %d", on, st.forwarded);
    /* one that waits on a control input stays, and still waits */
    tfc_output v = tfc_variable(g, "v", tfc_const_float(g, 0.0f));
    tfc_node *init = tfc_global_variables_initializer(g);
    tfc_node *inc = tfc_assign_add(g, v, tfc_const_float(g, 1.0f)).node;
    tfc_control_dependencies_push(g, &inc, 1);
    tfc_output i3 = tfc_identity(g, x);
    tfc_control_dependencies_pop(g);
    tfc_output z = tfc_square(g, i3);
    tfc_session *s = tfc_test_session_at(g, 1, TFC_OPT_L1);
    run(s, NULL, NULL, 0, NULL, 0, NULL, &init, 1, NULL);
    tfc_tensor *xt = tfc_test_random_tensor(TFC_FLOAT, 1, xd, -1, 1), *out = NULL;
    CHECK(run(s, &x, &xt, 1, &z, 1, &out, NULL, 0, &st) == 4); /* v, inc, i3, Square */
    CHECK(st.forwarded == 0);
    tfc_tensor_free(out);
    tfc_tensor *vt = fetch1(s, v);
    CHECK(vt && *(float *)tfc_tensor_data(vt) == 1.0f);
    tfc_tensor_free(vt);
    /* an Identity that is a control input stays */
    tfc_node *i4 = tfc_identity(g, x).node;
    tfc_control_dependencies_push(g, &i4, 1);
    tfc_output w = tfc_neg(g, x);
    tfc_control_dependencies_pop(g);
    CHECK(run(s, &x, &xt, 1, &w, 1, &out, NULL, 0, &st) == 2);
    tfc_tensor_free(out);
    tfc_tensor_free(xt);
    tfc_session_free(s);
    tfc_graph_free(g);
}

/* Reads of a variable around an update in the same run: a read created
 * before the update sees the old value, one ordered after it (control
 * dependency) the new one, with or without optimizations; Identity of a
 * variable is kept; equal reads are merged only when no update lies
 * between them. */
static void test_variables_around_updates(void) {
    tfc_graph *g = tfc_graph_new();
    tfc_output v = tfc_variable(g, "v", tfc_const_float(g, 1.0f));
    tfc_node *init = tfc_global_variables_initializer(g);
    tfc_output two = tfc_const_float(g, 2.0f);
    tfc_output before = tfc_mul(g, tfc_identity(g, v), two);
    tfc_output before2 = tfc_mul(g, tfc_identity(g, v), two); /* same as `before` */
    tfc_output upd = tfc_assign_add(g, v, tfc_const_float(g, 10.0f));
    tfc_output unordered = tfc_mul(g, tfc_identity(g, v), two); /* after the update's creation */
    tfc_control_dependencies_push(g, &upd.node, 1);
    tfc_output after = tfc_mul(g, tfc_identity(g, v), two);
    tfc_control_dependencies_pop(g);
    CHECK_GRAPH_OK(g);
    tfc_output fetches[] = {before, before2, after};
    tfc_output fetches2[] = {before, unordered};
    float results[2][3][3];
    int nodes[2];
    tfc_opt_stats st[2];
    for (int level = 0; level >= -1; level--) {
        int l = -level;
        tfc_session *s = tfc_test_session_at(g, 2, (tfc_opt_level)level);
        run(s, NULL, NULL, 0, NULL, 0, NULL, &init, 1, NULL);
        for (int r = 0; r < 3; r++) {
            tfc_tensor *out[3] = {0};
            nodes[l] = run(s, NULL, NULL, 0, fetches, 3, out, NULL, 0, &st[l]);
            for (int i = 0; i < 3; i++) {
                results[l][r][i] = out[i] ? *(float *)tfc_tensor_data(out[i]) : -1;
                tfc_tensor_free(out[i]);
            }
        }
        if (l == 0) {
            tfc_tensor *out[2] = {0};
            tfc_opt_stats st2;
            run(s, NULL, NULL, 0, fetches2, 2, out, &upd.node, 1, &st2);
            CHECK(st2.merged == 0); /* an update lies between the two reads */
            tfc_tensor_free(out[0]);
            tfc_tensor_free(out[1]);
        }
        tfc_session_free(s);
    }
    for (int r = 0; r < 3; r++) {
        float old = 1.0f + 10.0f * (float)r;
        CHECK_MSG(results[0][r][0] == 2 * old && results[0][r][1] == 2 * old &&
                      results[0][r][2] == 2 * (old + 10),
                  "run %d: %g %g %g", r, results[0][r][0], results[0][r][1], results[0][r][2]);
        for (int i = 0; i < 3; i++) CHECK(results[0][r][i] == results[1][r][i]);
    }
    /* Identities of v stay; `before2`'s Identity and Mul merge into `before`'s;
     * the two constants fold */
    CHECK(st[0].forwarded == 0 && st[0].merged == 2 && st[0].folded == 2);
    CHECK_MSG(nodes[0] == 6 && nodes[1] == 10, "%d %d", nodes[0], nodes[1]);
    tfc_graph_free(g);
}

/* The user's graph is not changed: after optimized runs every node and edge
 * is as built, and a later plan may fetch what an earlier one folded,
 * merged or skipped. */
static void test_graph_untouched(void) {
    tfc_graph *g = tfc_graph_new();
    tfc_output x = tfc_placeholder(g, "x", TFC_FLOAT, 0, NULL);
    tfc_output c = tfc_add(g, tfc_const_float(g, 1.0f), tfc_const_float(g, 2.0f));
    tfc_output i = tfc_identity(g, x);
    tfc_output a = tfc_mul(g, i, c), b = tfc_mul(g, i, c);
    tfc_output y = tfc_add(g, a, b);
    int n = tfc_graph_num_nodes(g);
    tfc_output inputs[16][2];
    for (int k = 0; k < n; k++)
        for (int j = 0; j < tfc_node_num_inputs(tfc_graph_node(g, k)) && j < 2; j++)
            inputs[k][j] = tfc_node_input(tfc_graph_node(g, k), j);
    tfc_session *s = tfc_test_session_at(g, 1, TFC_OPT_L1);
    tfc_tensor *xt = tfc_tensor_scalar_float(4), *out = NULL;
    CHECK(run(s, &x, &xt, 1, &y, 1, &out, NULL, 0, NULL) == 2);
    CHECK(out && *(float *)tfc_tensor_data(out) == 24.0f);
    tfc_tensor_free(out);
    CHECK(tfc_graph_num_nodes(g) == n);
    for (int k = 0; k < n; k++)
        for (int j = 0; j < tfc_node_num_inputs(tfc_graph_node(g, k)) && j < 2; j++) {
            tfc_output o = tfc_node_input(tfc_graph_node(g, k), j);
            CHECK(o.node == inputs[k][j].node && o.index == inputs[k][j].index);
        }
    tfc_output later[] = {i, b, c};
    tfc_tensor *vals[3] = {0};
    CHECK(run(s, &x, &xt, 1, later, 3, vals, NULL, 0, NULL) == 2); /* Identity, Mul */
    CHECK(vals[0] && *(float *)tfc_tensor_data(vals[0]) == 4.0f);
    CHECK(vals[1] && *(float *)tfc_tensor_data(vals[1]) == 12.0f);
    CHECK(vals[2] && *(float *)tfc_tensor_data(vals[2]) == 3.0f);
    for (int k = 0; k < 3; k++) tfc_tensor_free(vals[k]);
    tfc_tensor_free(xt);
    tfc_session_free(s);
    tfc_graph_free(g);
}

/* TFC_OPT_L0 runs the pruned graph as written. */
static void test_option_off(void) {
    tfc_graph *g = tfc_graph_new();
    tfc_output y = tfc_identity(g, tfc_add(g, tfc_const_float(g, 1.0f), tfc_const_float(g, 1.0f)));
    tfc_output z = tfc_neg(g, y), w = tfc_neg(g, y);
    tfc_output fetches[] = {z, w};
    tfc_tensor *out[2];
    tfc_opt_stats st;
    tfc_session *s = tfc_test_session_at(g, 1, TFC_OPT_L0);
    CHECK(run(s, NULL, NULL, 0, fetches, 2, out, NULL, 0, &st) == 6);
    CHECK(st.folded == 0 && st.merged == 0 && st.forwarded == 0 && st.pruned == 0);
    tfc_tensor_free(out[0]);
    tfc_tensor_free(out[1]);
    tfc_session_free(s);
    s = tfc_test_session_at(g, 1, TFC_OPT_L1);
    CHECK(run(s, NULL, NULL, 0, fetches, 2, out, NULL, 0, &st) == 0);
    CHECK(out[0] && out[1] && *(float *)tfc_tensor_data(out[1]) == -2.0f);
    tfc_tensor_free(out[0]);
    tfc_tensor_free(out[1]);
    tfc_session_free(s);
    tfc_graph_free(g);
}

/* Targets: a foldable target has nothing left to run; a merged one runs
 * through the node it was merged into. */
static void test_targets(void) {
    tfc_graph *g = tfc_graph_new();
    tfc_output x = tfc_placeholder(g, "x", TFC_FLOAT, 0, NULL);
    tfc_node *c = tfc_add(g, tfc_const_float(g, 1.0f), tfc_const_float(g, 2.0f)).node;
    tfc_output a = tfc_neg(g, x), b = tfc_neg(g, x);
    tfc_session *s = tfc_test_session_at(g, 1, TFC_OPT_L1);
    CHECK(run(s, NULL, NULL, 0, NULL, 0, NULL, &c, 1, NULL) == 0);
    tfc_tensor *xt = tfc_tensor_scalar_float(1), *out = NULL;
    CHECK(run(s, &x, &xt, 1, &a, 1, &out, &b.node, 1, NULL) == 1);
    CHECK(out && *(float *)tfc_tensor_data(out) == -1.0f);
    tfc_tensor_free(out);
    tfc_tensor_free(xt);
    tfc_session_free(s);
    tfc_graph_free(g);
}

/* A training step (MLP, softmax cross-entropy, SGD): bit-identical
 * variables with and without optimizations, fewer kernels per step. */
static float *train(tfc_opt_level level, int threads, int64_t *n, int *kernels,
                    tfc_opt_stats *stats) {
    tfc_graph *g = tfc_graph_new();
    tfc_graph_set_seed(g, 3);
    int64_t xd[] = {-1, 20}, yd[] = {-1};
    tfc_output x = tfc_placeholder(g, "x", TFC_FLOAT, 2, xd);
    tfc_output y = tfc_placeholder(g, "y", TFC_INT32, 1, yd);
    tfc_output h = x;
    int64_t widths[] = {20, 32, 32, 4};
    for (int l = 0; l < 3; l++) {
        int64_t wd[] = {widths[l], widths[l + 1]};
        tfc_output w = tfc_variable(g, NULL, tfc_truncated_normal(g, TFC_FLOAT, 2, wd, 0, 0.3, 0));
        tfc_output b = tfc_variable(g, NULL, tfc_zeros(g, TFC_FLOAT, 1, &wd[1]));
        h = tfc_bias_add(g, tfc_matmul(g, h, w), b);
        if (l < 2) h = tfc_relu(g, h);
    }
    tfc_output loss =
        tfc_reduce_mean(g, tfc_sparse_softmax_cross_entropy_with_logits(g, y, h), NULL, 0, 0);
    tfc_optimizer *opt = tfc_momentum_optimizer(0.1, 0.9, 0);
    tfc_node *step = tfc_optimizer_minimize(opt, g, loss, NULL, 0, (tfc_output){0});
    tfc_node *init = tfc_global_variables_initializer(g);
    CHECK_GRAPH_OK(g);
    tfc_session *s = tfc_test_session_at(g, threads, level);
    run(s, NULL, NULL, 0, NULL, 0, NULL, &init, 1, NULL);
    tfc_test_seed(11);
    int64_t bxd[] = {16, 20}, byd[] = {16};
    for (int i = 0; i < 5; i++) {
        tfc_tensor *bx = tfc_test_random_tensor(TFC_FLOAT, 2, bxd, -1, 1);
        tfc_tensor *by = tfc_test_random_tensor(TFC_INT32, 1, byd, 0, 4);
        tfc_output feeds[] = {x, y};
        tfc_tensor *vals[] = {bx, by}, *l = NULL;
        *kernels = run(s, feeds, vals, 2, &loss, 1, &l, &step, 1, stats);
        tfc_tensor_free(l);
        tfc_tensor_free(bx);
        tfc_tensor_free(by);
    }
    int nv = tfc_graph_collection_size(g, TFC_TRAINABLE_VARIABLES);
    float *all = NULL;
    *n = 0;
    for (int i = 0; i < nv; i++) {
        tfc_tensor *v =
            fetch1(s, tfc_out(tfc_graph_collection_get(g, TFC_TRAINABLE_VARIABLES, i), 0));
        if (!v) continue;
        int64_t m = tfc_tensor_num_elements(v);
        all = realloc(all, (size_t)(*n + m) * sizeof *all);
        memcpy(all + *n, tfc_tensor_data(v), (size_t)m * sizeof *all);
        *n += m;
        tfc_tensor_free(v);
    }
    tfc_session_free(s);
    tfc_optimizer_free(opt);
    tfc_graph_free(g);
    return all;
}

static void test_training_step_unchanged(void) {
    int64_t n_on, n_off, n_par;
    int k_on, k_off, k_par;
    tfc_opt_stats st, ignored;
    float *on = train(TFC_OPT_L1, 1, &n_on, &k_on, &st);
    float *off = train(TFC_OPT_L0, 1, &n_off, &k_off, &ignored);
    float *par = train(TFC_OPT_L1, 2, &n_par, &k_par, &ignored);
    CHECK(n_on > 1000 && n_on == n_off && n_on == n_par);
    if (on && off && par && n_on == n_off && n_on == n_par) {
        CHECK(memcmp(on, off, (size_t)n_on * sizeof *on) == 0);
        CHECK(memcmp(on, par, (size_t)n_on * sizeof *on) == 0);
    }
    CHECK_MSG(k_on < k_off && k_on == k_par, "kernels per step: %d optimized, %d as written", k_on,
              k_off);
    printf("training step: %d kernels optimized, %d as written (folded %d, merged %d, "
           "forwarded %d, pruned %d)\n",
           k_on, k_off, st.folded, st.merged, st.forwarded, st.pruned);
    free(on);
    free(off);
    free(par);
}

TFC_TEST_MAIN(T(test_constant_folding), T(test_fold_multi_output), T(test_fed_constant_not_folded),
              T(test_big_outputs_not_folded), T(test_fold_error_reported_at_run),
              T(test_random_not_merged), T(test_cse), T(test_stateful_not_folded),
              T(test_cse_respects_control_inputs), T(test_identity_removal),
              T(test_variables_around_updates), T(test_graph_untouched), T(test_option_off),
              T(test_targets), T(test_training_step_unchanged))
