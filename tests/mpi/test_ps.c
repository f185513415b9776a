/* ranks: 2 3 4 */
/* Parameter servers over MPI: rank 0 is /job:ps/task:0, the others
 * workers. Tensors of every dtype cross the MPI rendezvous; variables on
 * the ps keep their values across sessions and are shared by the workers'
 * sessions; asynchronous training of each worker's own graph copy
 * converges; errors on the ps come back naming it, without a hang. */
#include "distributed/server.h"
#include "mpi_harness.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static tfc_test_ps_cluster pc; /* the cluster, this rank's server, the workers (mpi_harness.h) */

static int is_ps(void) { return tfc_test_rank() == 0; }

/* ---- the rendezvous, directly: rank 0 sends, rank 1 receives --------------- */

typedef struct got {
    int done;
    tfc_status st;
    tfc_tensor *value;
    int dead;
} got;

static void on_recv(void *arg, const tfc_status *st, tfc_tensor *value, int is_dead) {
    got *g = arg;
    g->st = *st;
    g->value = value;
    g->dead = is_dead;
    __atomic_store_n(&g->done, 1, __ATOMIC_RELEASE);
}

static void wait_got(got *g) {
    for (int i = 0; i < 20000 && !__atomic_load_n(&g->done, __ATOMIC_ACQUIRE); i++) {
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
}

enum { NKINDS = 10 };

static tfc_tensor *make_value(int kind) {
    int64_t d2[] = {2, 3}, big[] = {5000}, d1[] = {4};
    switch (kind) {
    case 0: { float v[] = {1, -2, 3.5f, 4, 5, 6}; return tfc_tensor_from_data(TFC_FLOAT, 2, d2, v); }
    case 1: { double v[] = {1e300, -2, 3}; return tfc_tensor_from_data(TFC_DOUBLE, 1, (int64_t[]){3}, v); }
    case 2: { int32_t v[] = {-7, 0, 7, 2147483647}; return tfc_tensor_from_data(TFC_INT32, 1, d1, v); }
    case 3: { int64_t v[] = {-9000000000LL, 1, 2, 3}; return tfc_tensor_from_data(TFC_INT64, 1, d1, v); }
    case 4: { uint8_t v[] = {0, 255, 128, 1}; return tfc_tensor_from_data(TFC_UINT8, 1, d1, v); }
    case 5: { uint8_t v[] = {1, 0, 1, 1}; return tfc_tensor_from_data(TFC_BOOL, 1, d1, v); }
    case 6: {
        const char *s[] = {"", "a\0b", "hello, ps", "x"};
        size_t lens[] = {0, 3, 9, 1};
        return tfc_tensor_from_strings(2, (int64_t[]){2, 2}, s, lens);
    }
    case 7: { /* large: its own message, from its own buffer */
        tfc_tensor *t = tfc_tensor_new(TFC_FLOAT, 1, big);
        float *p = tfc_tensor_data(t);
        for (int i = 0; i < 5000; i++) p[i] = (float)i * 0.5f;
        return t;
    }
    case 8: { /* large strings */
        tfc_tensor *t = tfc_tensor_new(TFC_STRING, 1, (int64_t[]){300});
        char buf[64];
        for (int i = 0; i < 300; i++) {
            int n = snprintf(buf, sizeof buf, "string number %d of three hundred", i);
            tfc_string_tensor_set(t, i, buf, (size_t)n);
        }
        return t;
    }
    default: /* a scalar */
        return tfc_tensor_scalar_double(-0.25);
    }
}

static int same_tensor(const tfc_tensor *a, const tfc_tensor *b) {
    if (!a || !b || tfc_tensor_dtype(a) != tfc_tensor_dtype(b) ||
        tfc_tensor_rank(a) != tfc_tensor_rank(b))
        return 0;
    for (int i = 0; i < tfc_tensor_rank(a); i++)
        if (tfc_tensor_dim(a, i) != tfc_tensor_dim(b, i)) return 0;
    if (tfc_tensor_dtype(a) == TFC_STRING) {
        for (int64_t i = 0; i < tfc_tensor_num_elements(a); i++) {
            size_t la, lb;
            const char *pa = tfc_string_tensor_get(a, i, &la), *pb = tfc_string_tensor_get(b, i, &lb);
            if (la != lb || memcmp(pa, pb, la)) return 0;
        }
        return 1;
    }
    return !memcmp(tfc_tensor_data(a), tfc_tensor_data(b), tfc_tensor_nbytes(a));
}

static void key_for(char *buf, size_t cap, int kind) {
    char name[32];
    snprintf(name, sizeof name, "edge_%d_value", kind);
    tfc_rendezvous_key(buf, cap, "/job:ps/replica:0/task:0/device:CPU:0", 1,
                       "/job:worker/replica:0/task:0/device:CPU:0", name, 0, 0);
}

static void test_sendrecv_every_dtype(void) {
    tfc_test_ps_cluster_start(&pc);
    tfc_status *st = tfc_status_new();
    int r = tfc_test_rank();
    if (r <= 1) {
        tfc_rendezvous *rdv = srv_step_rendezvous(pc.server, 77, st);
        CHECK(rdv != NULL);
        char key[300];
        if (r == 0) {
            /* half before the receiver asks, half after (the barrier) */
            for (int k = 0; k < NKINDS / 2; k++) {
                key_for(key, sizeof key, k);
                CHECK(tfc_rendezvous_send(rdv, key, make_value(k), 0, st) == 0);
            }
            key_for(key, sizeof key, 99);
            CHECK(tfc_rendezvous_send(rdv, key, NULL, 1, st) == 0); /* a dead tensor */
            MPI_Barrier(MPI_COMM_WORLD);
            for (int k = NKINDS / 2; k < NKINDS; k++) {
                key_for(key, sizeof key, k);
                CHECK(tfc_rendezvous_send(rdv, key, make_value(k), 0, st) == 0);
            }
        } else {
            got g[NKINDS + 1];
            memset(g, 0, sizeof g);
            MPI_Barrier(MPI_COMM_WORLD);
            for (int k = 0; k < NKINDS; k++) {
                key_for(key, sizeof key, k);
                tfc_rendezvous_recv_async(rdv, key, on_recv, &g[k]);
            }
            key_for(key, sizeof key, 99);
            tfc_rendezvous_recv_async(rdv, key, on_recv, &g[NKINDS]);
            for (int k = 0; k <= NKINDS; k++) wait_got(&g[k]);
            for (int k = 0; k < NKINDS; k++) {
                CHECK_MSG(g[k].done && g[k].st.code == TFC_OK && !g[k].dead, "kind %d", k);
                tfc_tensor *want = make_value(k);
                CHECK_MSG(same_tensor(want, g[k].value), "kind %d arrived changed", k);
                tfc_tensor_free(want);
                tfc_tensor_free(g[k].value);
            }
            CHECK(g[NKINDS].done && g[NKINDS].dead && g[NKINDS].value == NULL);
        }
        tfc_rendezvous_free(rdv);
    } else {
        MPI_Barrier(MPI_COMM_WORLD);
    }
    /* both ends are done with step 77 before the servers go */
    MPI_Barrier(MPI_COMM_WORLD);
    tfc_status_free(st);
    tfc_test_ps_cluster_stop(&pc);
}

/* ---- variables on the ps ---------------------------------------------------- */

static void test_ps_variables_persist_and_are_shared(void) {
    tfc_test_ps_cluster_start(&pc);
    if (!is_ps()) {
        tfc_status *st = tfc_status_new();
        int nworkers = tfc_test_size() - 1;
        tfc_graph *g = tfc_graph_new();
        tfc_device_push(g, "/job:ps/task:0");
        tfc_output w = tfc_variable(g, "counter", tfc_const_float(g, 0.0f));
        tfc_device_pop(g);
        tfc_output inc = tfc_assign_add(g, w, tfc_const_float(g, 1.0f));
        tfc_output twice = tfc_mul(g, w, tfc_const_float(g, 2.0f)); /* on the worker */
        tfc_node *init = tfc_global_variables_initializer(g);
        CHECK_GRAPH_OK(g);
        if (tfc_test_rank() == 1) {
            tfc_cluster_session *a = tfc_test_master_session(pc.server, g, init);
            for (int i = 0; i < 3; i++) {
                tfc_tensor *v = tfc_cluster_session_run1(a, NULL, NULL, 0, inc, st);
                CHECK_STATUS_OK(st);
                CHECK(v && *(float *)tfc_tensor_data(v) == (float)(i + 1));
                tfc_tensor_free(v);
            }
            CHECK_CONTAINS(tfc_cluster_session_assigned_device(a, w.node),
                           "/job:ps/replica:0/task:0/device:CPU:0");
            CHECK_CONTAINS(tfc_cluster_session_assigned_device(a, twice.node),
                           "/job:worker/replica:0/task:0/device:CPU:0");
            CHECK_CONTAINS(tfc_cluster_session_assigned_device(a, inc.node), "/job:ps/");
            tfc_cluster_session_free(a);
        }
        MPI_Barrier(pc.workers);
        /* a new session on every worker sees the value and adds to it */
        tfc_cluster_session *b = tfc_test_master_session(pc.server, g, NULL);
        tfc_tensor *v = tfc_cluster_session_run1(b, NULL, NULL, 0, inc, st);
        CHECK_STATUS_OK(st);
        tfc_tensor_free(v);
        MPI_Barrier(pc.workers);
        v = tfc_cluster_session_run1(b, NULL, NULL, 0, twice, st);
        CHECK_STATUS_OK(st);
        CHECK_MSG(v && *(float *)tfc_tensor_data(v) == 2.0f * (float)(3 + nworkers), "got %g",
                  v ? (double)*(float *)tfc_tensor_data(v) : -1.0);
        tfc_tensor_free(v);
        tfc_cluster_session_free(b);
        tfc_graph_free(g);
        tfc_status_free(st);
    }
    tfc_test_ps_cluster_stop(&pc);
}

/* ---- asynchronous between-graph training ----------------------------------- */

static void test_async_training_converges(void) {
    tfc_test_ps_cluster_start(&pc);
    if (!is_ps()) {
        tfc_status *st = tfc_status_new();
        int wid = tfc_test_rank() - 1;
        /* y = 2x - 1 from 64 points; each worker its own copy of the model */
        tfc_graph *g = tfc_graph_new();
        tfc_graph_set_seed(g, 5);
        char wdev[64];
        snprintf(wdev, sizeof wdev, "/job:worker/task:%d", wid);
        tfc_replica_device_setter_options ro = {0};
        ro.worker_device = wdev;
        tfc_replica_device_setter *rs = tfc_replica_device_setter_begin(g, pc.cluster, &ro);
        CHECK(rs != NULL);
        int64_t xd[] = {64, 1}, wd[] = {1, 1}, bd[] = {1};
        float xs[64], ys[64];
        for (int i = 0; i < 64; i++) {
            xs[i] = (float)(i - 32) / 16.0f;
            ys[i] = 2.0f * xs[i] - 1.0f;
        }
        tfc_output x = tfc_const_data(g, TFC_FLOAT, 2, xd, xs);
        tfc_output y = tfc_const_data(g, TFC_FLOAT, 2, xd, ys);
        tfc_output w = tfc_variable(g, "w", tfc_zeros(g, TFC_FLOAT, 2, wd));
        tfc_output b = tfc_variable(g, "b", tfc_zeros(g, TFC_FLOAT, 1, bd));
        tfc_output pred = tfc_add(g, tfc_matmul(g, x, w), b);
        tfc_output loss = tfc_reduce_mean(g, tfc_square(g, tfc_sub(g, pred, y)), NULL, 0, 0);
        tfc_optimizer *opt = tfc_gradient_descent_optimizer(0.1);
        tfc_node *train = tfc_optimizer_minimize(opt, g, loss, NULL, 0, (tfc_output){0});
        tfc_node *init = tfc_global_variables_initializer(g);
        CHECK(tfc_replica_device_setter_end(rs) == 0);
        CHECK_GRAPH_OK(g);
        tfc_cluster_session *s = tfc_test_master_session(pc.server, g, NULL);
        float first = -1, last = -1;
        if (wid == 0) {
            tfc_cluster_session_run(s, NULL, NULL, 0, NULL, 0, NULL, &init, 1, st);
            CHECK_STATUS_OK(st);
            /* the loss before anyone trained */
            tfc_tensor *lv = tfc_cluster_session_run1(s, NULL, NULL, 0, loss, st);
            if (lv) first = *(float *)tfc_tensor_data(lv);
            tfc_tensor_free(lv);
        }
        MPI_Barrier(pc.workers); /* the chief initialized */
        for (int step = 0; step < 60; step++) {
            tfc_tensor *lv = NULL;
            tfc_cluster_session_run(s, NULL, NULL, 0, &loss, 1, &lv, &train, 1, st);
            CHECK_STATUS_OK(st);
            if (!lv) break;
            last = *(float *)tfc_tensor_data(lv);
            tfc_tensor_free(lv);
        }
        CHECK_MSG(last >= 0 && last < 1e-3f && (wid > 0 || first > 0.5f),
                  "loss went from %g to %g", (double)first, (double)last);
        char full[96];
        snprintf(full, sizeof full, "/job:worker/replica:0/task:%d/device:CPU:0", wid);
        CHECK_CONTAINS(tfc_cluster_session_assigned_device(s, w.node), "/job:ps/");
        CHECK_CONTAINS(tfc_cluster_session_assigned_device(s, b.node), "/job:ps/");
        CHECK_CONTAINS(tfc_cluster_session_assigned_device(s, pred.node), full);
        tfc_cluster_session_free(s);
        tfc_optimizer_free(opt);
        tfc_graph_free(g);
        tfc_status_free(st);
    }
    tfc_test_ps_cluster_stop(&pc);
}

/* Two ps tasks (4 ranks, a JSON spec): variables round robin over both,
 * a worker's step reads from and writes to both. */
static void test_two_ps_tasks(void) {
    if (tfc_test_size() < 4) return;
    tfc_status *st = tfc_status_new();
    tfc_cluster *c = tfc_cluster_from_json(
        "{\"ps\": [\"h0:1\", \"h1:1\"], \"worker\": [\"h2:1\", \"h3:1\"]}", st);
    CHECK_STATUS_OK(st);
    tfc_server_options o = {0};
    o.quiet = 1;
    tfc_server *srv = tfc_server_new(c, NULL, -1, &o, st);
    CHECK_STATUS_OK(st);
    CHECK(tfc_server_start(srv, st) == 0);
    int r = tfc_test_rank();
    if (r < 2) {
        CHECK(!strcmp(tfc_server_job(srv), "ps") && tfc_server_task(srv) == r);
        CHECK(tfc_server_join(srv, st) == 0);
    } else {
        int wid = r - 2;
        tfc_graph *g = tfc_graph_new();
        char wdev[64];
        snprintf(wdev, sizeof wdev, "/job:worker/task:%d", wid);
        tfc_replica_device_setter_options ro = {0};
        ro.worker_device = wdev;
        tfc_replica_device_setter *rs = tfc_replica_device_setter_begin(g, c, &ro);
        char na[16], nb[16];
        snprintf(na, sizeof na, "a%d", wid);
        snprintf(nb, sizeof nb, "b%d", wid);
        tfc_output a = tfc_variable(g, na, tfc_const_float(g, 10.0f));
        tfc_output b = tfc_variable(g, nb, tfc_const_float(g, -4.0f));
        /* minimize (a - 3)^2 + (b + 1)^2 */
        tfc_output loss = tfc_add(g, tfc_square(g, tfc_sub(g, a, tfc_const_float(g, 3))),
                                  tfc_square(g, tfc_add(g, b, tfc_const_float(g, 1))));
        tfc_optimizer *opt = tfc_gradient_descent_optimizer(0.25);
        tfc_node *train = tfc_optimizer_minimize(opt, g, loss, NULL, 0, (tfc_output){0});
        tfc_node *init = tfc_global_variables_initializer(g);
        CHECK(tfc_replica_device_setter_end(rs) == 0);
        tfc_cluster_session *s = tfc_test_master_session(srv, g, init);
        for (int i = 0; i < 20; i++) tfc_cluster_session_run(s, NULL, NULL, 0, NULL, 0, NULL, &train, 1, st);
        CHECK_STATUS_OK(st);
        tfc_tensor *av = tfc_cluster_session_run1(s, NULL, NULL, 0, a, st);
        tfc_tensor *bv = tfc_cluster_session_run1(s, NULL, NULL, 0, b, st);
        CHECK(av && bv);
        if (av && bv) {
            CHECK_NEAR(*(float *)tfc_tensor_data(av), 3.0, 1e-3);
            CHECK_NEAR(*(float *)tfc_tensor_data(bv), -1.0, 1e-3);
        }
        CHECK_CONTAINS(tfc_cluster_session_assigned_device(s, a.node), "/job:ps/replica:0/task:0/");
        CHECK_CONTAINS(tfc_cluster_session_assigned_device(s, b.node), "/job:ps/replica:0/task:1/");
        tfc_tensor_free(av);
        tfc_tensor_free(bv);
        tfc_cluster_session_free(s);
        tfc_optimizer_free(opt);
        tfc_graph_free(g);
        tfc_server_stop(srv);
    }
    tfc_server_free(srv);
    tfc_cluster_free(c);
    tfc_status_free(st);
}

/* ---- errors ----------------------------------------------------------------- */

static int one_fn(tfc_graph *body, const tfc_output *args, int nargs, void *user,
                  tfc_output *outs) {
    (void)args;
    (void)nargs;
    (void)user;
    outs[0] = tfc_const_float(body, 1.0f);
    return 0;
}

/* A step whose ps part fails (an uninitialized variable read, the value
 * the worker waits for and a gradient the ps waits for in one step) ends
 * with the ps's error, named, rather than hanging. */
static void test_remote_error_is_named(void) {
    tfc_test_ps_cluster_start(&pc);
    if (!is_ps()) {
        tfc_status *st = tfc_status_new();
        tfc_graph *g = tfc_graph_new();
        char name[32];
        snprintf(name, sizeof name, "never_set_%d", tfc_test_rank());
        tfc_device_push(g, "/job:ps/task:0");
        int64_t d[] = {2};
        tfc_output v = tfc_variable(g, name, tfc_zeros(g, TFC_FLOAT, 1, d));
        tfc_device_pop(g);
        tfc_output loss = tfc_reduce_sum(g, tfc_square(g, v), NULL, 0, 0);
        tfc_optimizer *opt = tfc_gradient_descent_optimizer(0.1);
        tfc_node *train = tfc_optimizer_minimize(opt, g, loss, NULL, 0, (tfc_output){0});
        CHECK_GRAPH_OK(g);
        tfc_cluster_session *s = tfc_session_new_on_server(pc.server, g, NULL, st);
        tfc_cluster_session_run(s, NULL, NULL, 0, NULL, 0, NULL, &train, 1, st);
        CHECK(tfc_status_code(st) == TFC_FAILED_PRECONDITION);
        CHECK_CONTAINS(tfc_status_message(st), "uninitialized");
        CHECK_CONTAINS(tfc_status_message(st), name);
        CHECK_CONTAINS(tfc_status_message(st), "(on /job:ps/task:0 (rank 0))");
        /* a bad device is the placer's error, as in one process */
        tfc_device_push(g, "/job:ps/task:7");
        tfc_output bad = tfc_add(g, tfc_const_float(g, 1), tfc_const_float(g, 2));
        tfc_device_pop(g);
        tfc_tensor *t = tfc_cluster_session_run1(s, NULL, NULL, 0, bad, st);
        CHECK(t == NULL && tfc_status_code(st) == TFC_INVALID_ARGUMENT);
        CHECK_CONTAINS(tfc_status_message(st), "Cannot assign a device");
        CHECK_CONTAINS(tfc_status_message(st), "/job:ps/task:7");
        /* a node calling a function runs with its library (more in
         * test_cluster_control_flow.c) */
        tfc_graph *g2 = tfc_graph_new();
        tfc_output c;
        CHECK(tfc_cond(g2, tfc_const_bool(g2, 1), one_fn, one_fn, NULL, 1, &c) == 0);
        tfc_cluster_session *s2 = tfc_session_new_on_server(pc.server, g2, NULL, st);
        t = tfc_cluster_session_run1(s2, NULL, NULL, 0, c, st);
        CHECK_STATUS_OK(st);
        CHECK(t && *(float *)tfc_tensor_data(t) == 1.0f);
        tfc_tensor_free(t);
        tfc_cluster_session_free(s2);
        tfc_graph_free(g2);
        tfc_cluster_session_free(s);
        tfc_optimizer_free(opt);
        tfc_graph_free(g);
        tfc_status_free(st);
    }
    tfc_test_ps_cluster_stop(&pc);
}

/* Feeds and fetches cross tasks both ways; strings too. */
static void test_feeds_fetches_and_strings(void) {
    tfc_test_ps_cluster_start(&pc);
    if (!is_ps()) {
        tfc_status *st = tfc_status_new();
        tfc_graph *g = tfc_graph_new();
        int64_t d[] = {3};
        tfc_output x = tfc_placeholder(g, "x", TFC_FLOAT, 1, d);
        tfc_output s = tfc_placeholder(g, "s", TFC_STRING, 0, NULL);
        tfc_device_push(g, "/job:ps/task:0");
        tfc_output on_ps = tfc_mul(g, x, tfc_const_float(g, 3.0f));
        tfc_output parts[] = {tfc_const_string(g, "ps says "), s};
        tfc_output joined = tfc_string_join(g, parts, 2, "");
        tfc_device_pop(g);
        tfc_output back = tfc_add(g, on_ps, tfc_const_float(g, 1.0f));
        CHECK_GRAPH_OK(g);
        tfc_cluster_session *cs = tfc_session_new_on_server(pc.server, g, NULL, st);
        float xv[] = {1, 2, 3};
        tfc_tensor *feeds[] = {tfc_tensor_from_data(TFC_FLOAT, 1, d, xv),
                               tfc_tensor_scalar_string("hi", (size_t)-1)};
        tfc_output fo[] = {x, s}, fetch[] = {on_ps, back, joined};
        tfc_tensor *out[3] = {0};
        tfc_cluster_session_run(cs, fo, feeds, 2, fetch, 3, out, NULL, 0, st);
        CHECK_STATUS_OK(st);
        if (out[0] && out[1] && out[2]) {
            const float *a = tfc_tensor_data(out[0]), *b = tfc_tensor_data(out[1]);
            CHECK(a[0] == 3 && a[1] == 6 && a[2] == 9);
            CHECK(b[0] == 4 && b[1] == 7 && b[2] == 10);
            size_t len;
            const char *j = tfc_string_tensor_get(out[2], 0, &len);
            CHECK(len == 10 && !memcmp(j, "ps says hi", 10));
        }
        for (int i = 0; i < 3; i++) tfc_tensor_free(out[i]);
        /* a feed of the wrong dtype is refused before anything runs */
        tfc_tensor *wrong = tfc_tensor_scalar_int32(1);
        tfc_tensor *t = tfc_cluster_session_run1(cs, &x, &wrong, 1, on_ps, st);
        CHECK(!t && tfc_status_code(st) == TFC_INVALID_ARGUMENT);
        CHECK_CONTAINS(tfc_status_message(st), "x:0");
        tfc_tensor_free(wrong);
        tfc_tensor_free(feeds[0]);
        tfc_tensor_free(feeds[1]);
        tfc_cluster_session_free(cs);
        tfc_graph_free(g);
        tfc_status_free(st);
    }
    tfc_test_ps_cluster_stop(&pc);
}

/* Servers refuse what does not fit the world. */
static void test_server_errors(void) {
    tfc_status *st = tfc_status_new();
    int r = tfc_test_rank(), n = tfc_test_size();
    tfc_cluster *c = tfc_cluster_from_layout("ps:1,worker", 0, st);
    CHECK_STATUS_OK(st);
    /* a task that is not this rank's (rank 0's would be its own: a
     * server there would wait for the others, who make none here) */
    tfc_server *s = NULL;
    if (r != 0) {
        s = tfc_server_new(c, "ps", 0, NULL, st);
        CHECK(s == NULL && tfc_status_code(st) == TFC_INVALID_ARGUMENT);
        CHECK_CONTAINS(tfc_status_message(st), "task /job:ps/task:0 is rank 0");
    }
    s = tfc_server_new(c, "chief", 0, NULL, st);
    CHECK(s == NULL);
    CHECK_CONTAINS(tfc_status_message(st), "no job 'chief'");
    s = tfc_server_new(c, "worker", n, NULL, st);
    CHECK(s == NULL);
    CHECK_CONTAINS(tfc_status_message(st), "out of range");
    tfc_cluster_free(c);
    char layout[64];
    snprintf(layout, sizeof layout, "ps:1,worker:%d", n);
    c = tfc_cluster_from_layout(layout, n + 1, st);
    CHECK_STATUS_OK(st);
    s = tfc_server_new(c, NULL, -1, NULL, st);
    CHECK(s == NULL);
    CHECK_CONTAINS(tfc_status_message(st), "at most one task per rank");
    tfc_cluster_free(c);
    tfc_status_free(st);
}

TFC_MPI_TEST_MAIN(T(test_sendrecv_every_dtype), T(test_ps_variables_persist_and_are_shared),
                  T(test_async_training_converges), T(test_remote_error_is_named),
                  T(test_feeds_fetches_and_strings), T(test_two_ps_tasks), T(test_server_errors))
