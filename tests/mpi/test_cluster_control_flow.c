/* ranks: 2 3 */
/* Functional control flow (While, If) through a master session: rank 0 is
 * /job:ps/task:0, the others workers. The function library travels with
 * each task's part; a loop or cond on a worker reads a ps variable that
 * enters it as the caller's input (a capture crossing tasks); a loop on
 * the ps runs on a value fed on the worker; a body node asking for
 * another task is an error naming it. */
#include "mpi_harness.h"

#include <stdio.h>
#include <string.h>

static tfc_test_ps_cluster pc; /* the cluster, this rank's server, the workers (mpi_harness.h) */

static int is_ps(void) { return tfc_test_rank() == 0; }

/* ---- bodies ------------------------------------------------------------------ */

typedef struct loop_ctx {
    tfc_output v;   /* a tensor of the outer graph the body adds (captured) */
    int n;          /* iterations */
    const char *on; /* a device one body node asks for, or NULL */
} loop_ctx;

static int loop_cond(tfc_graph *body, const tfc_output *args, int nargs, void *user,
                     tfc_output *outs) {
    (void)nargs;
    loop_ctx *c = user;
    outs[0] = tfc_less(body, args[0], tfc_const_int32(body, c->n));
    return 0;
}

/* (i, acc) -> (i + 1, acc + v) */
static int loop_body(tfc_graph *body, const tfc_output *args, int nargs, void *user,
                     tfc_output *outs) {
    (void)nargs;
    loop_ctx *c = user;
    outs[0] = tfc_add(body, args[0], tfc_const_int32(body, 1));
    if (c->on) tfc_device_push(body, c->on);
    tfc_with_name(body, "add_v");
    outs[1] = tfc_add(body, args[1], c->v);
    if (c->on) tfc_device_pop(body);
    return 0;
}

static int times_two(tfc_graph *body, const tfc_output *args, int nargs, void *user,
                     tfc_output *outs) {
    (void)args;
    (void)nargs;
    const tfc_output *x = user;
    outs[0] = tfc_mul(body, x[0], tfc_const_float(body, 2.0f));
    return 0;
}

static int plus_ten(tfc_graph *body, const tfc_output *args, int nargs, void *user,
                    tfc_output *outs) {
    (void)args;
    (void)nargs;
    const tfc_output *x = user;
    outs[0] = tfc_add(body, x[1], tfc_const_float(body, 10.0f));
    return 0;
}

static float run_float(tfc_cluster_session *s, const tfc_output *feeds, tfc_tensor *const *vals,
                       int nfeeds, tfc_output fetch, tfc_status *st) {
    tfc_tensor *t = tfc_cluster_session_run1(s, feeds, vals, nfeeds, fetch, st);
    CHECK_STATUS_OK(st);
    float v = t ? *(float *)tfc_tensor_data(t) : -12345.0f;
    tfc_tensor_free(t);
    return v;
}

/* A while_loop on the worker adds a ps variable N times; after the ps
 * variable changes the loop sees the new value (it crosses each step). */
static void test_while_on_worker_sums_ps_variable(void) {
    tfc_test_ps_cluster_start(&pc);
    if (!is_ps()) {
        tfc_status *st = tfc_status_new();
        tfc_graph *g = tfc_graph_new();
        char vname[32], wdev[48], wfull[64];
        snprintf(vname, sizeof vname, "loop_v_%d", tfc_test_rank());
        snprintf(wdev, sizeof wdev, "/job:worker/task:%d", tfc_test_rank() - 1);
        snprintf(wfull, sizeof wfull, "/job:worker/replica:0/task:%d/", tfc_test_rank() - 1);
        tfc_device_push(g, "/job:ps/task:0");
        tfc_output v = tfc_variable(g, vname, tfc_const_float(g, 2.5f));
        tfc_output set_v = tfc_assign(g, v, tfc_const_float(g, -1.25f));
        tfc_device_pop(g);
        tfc_node *init = tfc_global_variables_initializer(g);
        /* a body node asking for the loop's own task is fine */
        loop_ctx c = {v, 7, wdev};
        tfc_output vars[2] = {tfc_const_int32(g, 0), tfc_const_float(g, 0.0f)}, outs[2];
        tfc_device_push(g, wdev);
        CHECK(tfc_while_loop(g, loop_cond, loop_body, &c, vars, 2, NULL, 1, outs) == 0);
        tfc_device_pop(g);
        CHECK_GRAPH_OK(g);
        tfc_cluster_session *s = tfc_test_master_session(pc.server, g, init);
        float sum = run_float(s, NULL, NULL, 0, outs[1], st);
        CHECK_MSG(sum == 7 * 2.5f, "got %g", (double)sum);
        CHECK_CONTAINS(tfc_cluster_session_assigned_device(s, outs[1].node), wfull);
        CHECK_CONTAINS(tfc_cluster_session_assigned_device(s, v.node), "/job:ps/");
        tfc_tensor_free(tfc_cluster_session_run1(s, NULL, NULL, 0, set_v, st));
        CHECK_STATUS_OK(st);
        sum = run_float(s, NULL, NULL, 0, outs[1], st);
        CHECK_MSG(sum == 7 * -1.25f, "got %g", (double)sum);
        /* training through the loop: d(sum)/dv = 7 flows back to the ps */
        tfc_optimizer *opt = tfc_gradient_descent_optimizer(0.5);
        tfc_node *train = tfc_optimizer_minimize(opt, g, outs[1], &v, 1, (tfc_output){0});
        CHECK_GRAPH_OK(g);
        tfc_cluster_session_run(s, NULL, NULL, 0, NULL, 0, NULL, &train, 1, st);
        CHECK_STATUS_OK(st);
        float nv = run_float(s, NULL, NULL, 0, v, st);
        CHECK_MSG(nv == -1.25f - 0.5f * 7, "got %g", (double)nv);
        tfc_optimizer_free(opt);
        tfc_cluster_session_free(s);
        tfc_graph_free(g);
        tfc_status_free(st);
    }
    tfc_test_ps_cluster_stop(&pc);
}

/* tf.cond on the worker choosing between a branch reading a ps variable
 * and one computing on a value fed on the worker; the pred is fed. */
static void test_cond_between_ps_and_worker_branches(void) {
    tfc_test_ps_cluster_start(&pc);
    if (!is_ps()) {
        tfc_status *st = tfc_status_new();
        tfc_graph *g = tfc_graph_new();
        char vname[32];
        snprintf(vname, sizeof vname, "cond_v_%d", tfc_test_rank());
        tfc_device_push(g, "/job:ps/task:0");
        tfc_output v = tfc_variable(g, vname, tfc_const_float(g, 4.0f));
        tfc_device_pop(g);
        tfc_node *init = tfc_global_variables_initializer(g);
        tfc_output pred = tfc_placeholder(g, "pred", TFC_BOOL, 0, NULL);
        tfc_output x = tfc_placeholder(g, "x", TFC_FLOAT, 0, NULL);
        tfc_output both[2] = {v, x}, out;
        CHECK(tfc_cond(g, pred, times_two, plus_ten, both, 1, &out) == 0);
        CHECK_GRAPH_OK(g);
        tfc_cluster_session *s = tfc_test_master_session(pc.server, g, init);
        tfc_output feeds[2] = {pred, x};
        for (int p = 0; p < 2; p++) {
            tfc_tensor *vals[2] = {tfc_tensor_scalar_bool(p), tfc_tensor_scalar_float(0.5f)};
            float got = run_float(s, feeds, vals, 2, out, st);
            float want = p ? 8.0f : 10.5f;
            CHECK_MSG(got == want, "pred %d: got %g, expected %g", p, (double)got, (double)want);
            tfc_tensor_free(vals[0]);
            tfc_tensor_free(vals[1]);
        }
        CHECK_CONTAINS(tfc_cluster_session_assigned_device(s, out.node), "/job:worker/");
        tfc_cluster_session_free(s);
        tfc_graph_free(g);
        tfc_status_free(st);
    }
    tfc_test_ps_cluster_stop(&pc);
}

/* A loop placed on the ps over a value fed on the worker: the loop's
 * inputs cross to the ps, its result back. */
static void test_while_on_ps_over_worker_feed(void) {
    tfc_test_ps_cluster_start(&pc);
    if (!is_ps()) {
        tfc_status *st = tfc_status_new();
        tfc_graph *g = tfc_graph_new();
        tfc_output x = tfc_placeholder(g, "x", TFC_FLOAT, 0, NULL);
        loop_ctx c = {x, 5, NULL};
        tfc_output vars[2] = {tfc_const_int32(g, 0), tfc_const_float(g, 1.0f)}, outs[2];
        tfc_device_push(g, "/job:ps/task:0");
        CHECK(tfc_while_loop(g, loop_cond, loop_body, &c, vars, 2, NULL, 1, outs) == 0);
        tfc_device_pop(g);
        tfc_output y = tfc_mul(g, outs[1], tfc_const_float(g, 2.0f)); /* on the worker */
        CHECK_GRAPH_OK(g);
        tfc_cluster_session *s = tfc_test_master_session(pc.server, g, NULL);
        tfc_tensor *xv = tfc_tensor_scalar_float(0.75f);
        float got = run_float(s, &x, &xv, 1, y, st);
        CHECK_MSG(got == 2.0f * (1.0f + 5 * 0.75f), "got %g", (double)got);
        CHECK_CONTAINS(tfc_cluster_session_assigned_device(s, outs[1].node), "/job:ps/");
        tfc_tensor_free(xv);
        tfc_cluster_session_free(s);
        tfc_graph_free(g);
        tfc_status_free(st);
    }
    tfc_test_ps_cluster_stop(&pc);
}

/* A body node asking for another task than its loop's: a clear error
 * naming the node, the function and the device, before anything runs. */
static void test_body_spanning_tasks_is_named(void) {
    tfc_test_ps_cluster_start(&pc);
    if (!is_ps()) {
        tfc_status *st = tfc_status_new();
        tfc_graph *g = tfc_graph_new();
        tfc_output x = tfc_placeholder(g, "x", TFC_FLOAT, 0, NULL);
        loop_ctx c = {x, 3, "/job:ps/task:0"};
        tfc_output vars[2] = {tfc_const_int32(g, 0), tfc_const_float(g, 0.0f)}, outs[2];
        CHECK(tfc_while_loop(g, loop_cond, loop_body, &c, vars, 2, NULL, 1, outs) == 0);
        CHECK_GRAPH_OK(g);
        tfc_cluster_session *s = tfc_test_master_session(pc.server, g, NULL);
        tfc_tensor *xv = tfc_tensor_scalar_float(1.0f);
        tfc_tensor *t = tfc_cluster_session_run1(s, &x, &xv, 1, outs[1], st);
        CHECK(t == NULL && tfc_status_code(st) == TFC_INVALID_ARGUMENT);
        CHECK_CONTAINS(tfc_status_message(st), "add_v");
        CHECK_CONTAINS(tfc_status_message(st), "asks for device '/job:ps/task:0'");
        CHECK_CONTAINS(tfc_status_message(st), tfc_node_name(outs[1].node));
        tfc_tensor_free(t);
        tfc_tensor_free(xv);
        tfc_cluster_session_free(s);
        tfc_graph_free(g);
        tfc_status_free(st);
    }
    tfc_test_ps_cluster_stop(&pc);
}

TFC_MPI_TEST_MAIN(T(test_while_on_worker_sums_ps_variable),
                  T(test_cond_between_ps_and_worker_branches), T(test_while_on_ps_over_worker_feed),
                  T(test_body_spanning_tasks_is_named))
