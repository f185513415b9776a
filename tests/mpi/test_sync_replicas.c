/* ranks: 3 4 */
/* Synchronous training with a parameter server (SyncReplicasOptimizer):
 * rank 0 is /job:ps/task:0, the others workers, worker 0 the chief. With
 * replicas_to_aggregate = the number of workers, K steps leave the
 * variables equal, to the bit, to one process applying the mean of the
 * workers' gradients K times (computed here from the same data); the
 * global step advances once per aggregated step and each worker's
 * local_step follows it; a stale gradient (an old local_step) sent to a
 * variable's accumulator is dropped and changes nothing. */
#include "mpi_harness.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { B = 8, D = 4, K = 4 };
static const double LR = 0.05;

static tfc_test_ps_cluster pc; /* the cluster, this rank's server, the workers (mpi_harness.h) */

static int is_ps(void) { return tfc_test_rank() == 0; }

/* Worker r's batch at step k: x [B, D], y [B, 1], from a fixed LCG. */
static void batch(int k, int r, tfc_tensor **x, tfc_tensor **y) {
    int64_t xd[] = {B, D}, yd[] = {B, 1};
    *x = tfc_tensor_new(TFC_FLOAT, 2, xd);
    *y = tfc_tensor_new(TFC_FLOAT, 2, yd);
    float *px = tfc_tensor_data(*x), *py = tfc_tensor_data(*y);
    uint32_t s = 2654435761u * (uint32_t)(k * 31 + r + 1);
    for (int i = 0; i < B * D; i++) {
        s = s * 1664525u + 1013904223u;
        px[i] = (float)(s >> 8) / (float)(1 << 24) * 2.0f - 1.0f;
    }
    for (int i = 0; i < B; i++) {
        s = s * 1664525u + 1013904223u;
        py[i] = px[i * D] * 1.5f - px[i * D + 1] + 0.25f + (float)(s >> 8) / (float)(1 << 24);
    }
}

typedef struct model {
    tfc_output x, y, w, b, loss;
} model;

/* The linear model, squared error; variables start at fixed values. */
static model build_model(tfc_graph *g) {
    model m;
    int64_t xd[] = {-1, D}, yd[] = {-1, 1}, wd[] = {D, 1}, bd[] = {1};
    float w0[D] = {0.5f, -0.25f, 0.125f, 1.0f}, b0 = 0.1f;
    m.x = tfc_placeholder(g, "x", TFC_FLOAT, 2, xd);
    m.y = tfc_placeholder(g, "y", TFC_FLOAT, 2, yd);
    m.w = tfc_variable(g, "w", tfc_const_data(g, TFC_FLOAT, 2, wd, w0));
    m.b = tfc_variable(g, "b", tfc_const_data(g, TFC_FLOAT, 1, bd, &b0));
    tfc_output pred = tfc_add(g, tfc_matmul(g, m.x, m.w), m.b);
    m.loss = tfc_reduce_mean(g, tfc_square(g, tfc_sub(g, pred, m.y)), NULL, 0, 0);
    return m;
}

static int cmp_bytes(const void *x, const void *y) {
    const tfc_tensor *a = *(tfc_tensor *const *)x, *b = *(tfc_tensor *const *)y;
    return memcmp(tfc_tensor_data(a), tfc_tensor_data(b), tfc_tensor_nbytes(a));
}

/* The mean of nw float tensors as the accumulator takes it: summed in the
 * order of their bytes, then divided by nw. */
static tfc_tensor *mean_of(tfc_tensor **ts, int nw) {
    tfc_tensor *sorted[8];
    memcpy(sorted, ts, sizeof *ts * (size_t)nw);
    qsort(sorted, (size_t)nw, sizeof *sorted, cmp_bytes);
    tfc_tensor *out = tfc_tensor_copy(sorted[0]);
    float *o = tfc_tensor_data(out);
    int64_t n = tfc_tensor_num_elements(out);
    for (int k = 1; k < nw; k++) {
        const float *p = tfc_tensor_data(sorted[k]);
        for (int64_t i = 0; i < n; i++) o[i] += p[i];
    }
    for (int64_t i = 0; i < n; i++) o[i] /= (float)nw;
    return out;
}

/* One process: `steps` times, the gradient of each worker's batch at the
 * current values, their mean applied by gradient descent. *w, *b get the
 * values. */
static void expected(int nw, int steps, tfc_tensor **w, tfc_tensor **b) {
    tfc_status *st = tfc_status_new();
    tfc_graph *g = tfc_graph_new();
    model m = build_model(g);
    tfc_optimizer *opt = tfc_gradient_descent_optimizer(LR);
    int n = 0;
    tfc_grad_and_var *gv = tfc_optimizer_compute_gradients(opt, g, m.loss, NULL, 0, &n);
    CHECK(gv && n == 2);
    int64_t wd[] = {D, 1}, bd[] = {1};
    tfc_output gw = tfc_placeholder(g, "gw", TFC_FLOAT, 2, wd);
    tfc_output gb = tfc_placeholder(g, "gb", TFC_FLOAT, 1, bd);
    tfc_grad_and_var fed[2] = {{gw, m.w}, {gb, m.b}};
    tfc_node *apply = tfc_optimizer_apply_gradients(opt, g, fed, 2, (tfc_output){0});
    tfc_node *init = tfc_global_variables_initializer(g);
    CHECK_GRAPH_OK(g);
    tfc_session_options so;
    memset(&so, 0, sizeof so);
    so.inter_op_threads = 2;
    tfc_session *s = tfc_session_new(g, &so, st);
    tfc_session_run(s, NULL, NULL, 0, NULL, 0, NULL, &init, 1, st);
    CHECK_STATUS_OK(st);
    for (int k = 0; k < steps; k++) {
        tfc_tensor *gws[8], *gbs[8];
        for (int r = 0; r < nw; r++) {
            tfc_tensor *x, *y;
            batch(k, r, &x, &y);
            tfc_output feeds[] = {m.x, m.y}, fetch[] = {gv[0].grad, gv[1].grad};
            tfc_tensor *vals[] = {x, y}, *out[2] = {NULL, NULL};
            tfc_session_run(s, feeds, vals, 2, fetch, 2, out, NULL, 0, st);
            CHECK_STATUS_OK(st);
            gws[r] = out[0];
            gbs[r] = out[1];
            tfc_tensor_free(x);
            tfc_tensor_free(y);
        }
        tfc_tensor *vals[] = {mean_of(gws, nw), mean_of(gbs, nw)};
        tfc_output feeds[] = {gw, gb};
        tfc_session_run(s, feeds, vals, 2, NULL, 0, NULL, &apply, 1, st);
        CHECK_STATUS_OK(st);
        for (int r = 0; r < nw; r++) {
            tfc_tensor_free(gws[r]);
            tfc_tensor_free(gbs[r]);
        }
        tfc_tensor_free(vals[0]);
        tfc_tensor_free(vals[1]);
    }
    tfc_output fetch[] = {m.w, m.b};
    tfc_tensor *out[2] = {NULL, NULL};
    tfc_session_run(s, NULL, NULL, 0, fetch, 2, out, NULL, 0, st);
    CHECK_STATUS_OK(st);
    *w = out[0];
    *b = out[1];
    free(gv);
    tfc_optimizer_free(opt);
    tfc_session_free(s);
    tfc_graph_free(g);
    tfc_status_free(st);
}

typedef struct chief_loop {
    tfc_cluster_session *s;
    tfc_node *sync_op;
    int steps;
    tfc_code code;
    char msg[512];
} chief_loop;

/* The chief's queue runner: one aggregated step per run of the sync op. */
static void *run_chief_loop(void *arg) {
    chief_loop *c = arg;
    tfc_status *st = tfc_status_new();
    for (int k = 0; k < c->steps && tfc_status_code(st) == TFC_OK; k++)
        tfc_cluster_session_run(c->s, NULL, NULL, 0, NULL, 0, NULL, &c->sync_op, 1, st);
    c->code = tfc_status_code(st);
    snprintf(c->msg, sizeof c->msg, "%s", tfc_status_message(st));
    tfc_status_free(st);
    return NULL;
}

static int64_t fetch_int64(tfc_cluster_session *s, tfc_output o) {
    tfc_status *st = tfc_status_new();
    tfc_tensor *t = tfc_cluster_session_run1(s, NULL, NULL, 0, o, st);
    CHECK_STATUS_OK(st);
    int64_t v = t ? *(int64_t *)tfc_tensor_data(t) : -1;
    tfc_tensor_free(t);
    tfc_status_free(st);
    return v;
}

static int32_t fetch_int32(tfc_cluster_session *s, tfc_output o) {
    tfc_status *st = tfc_status_new();
    tfc_tensor *t = tfc_cluster_session_run1(s, NULL, NULL, 0, o, st);
    CHECK_STATUS_OK(st);
    int32_t v = t ? *(int32_t *)tfc_tensor_data(t) : -1;
    tfc_tensor_free(t);
    tfc_status_free(st);
    return v;
}

static int same_bits(const tfc_tensor *a, const tfc_tensor *b) {
    return a && b && tfc_tensor_nbytes(a) == tfc_tensor_nbytes(b) &&
           !memcmp(tfc_tensor_data(a), tfc_tensor_data(b), tfc_tensor_nbytes(a));
}

static void test_sync_training_equals_one_process(void) {
    tfc_test_ps_cluster_start(&pc);
    if (!is_ps()) {
        tfc_status *st = tfc_status_new();
        int wid = tfc_test_rank() - 1, nw = tfc_test_size() - 1;
        tfc_graph *g = tfc_graph_new();
        char wdev[64];
        snprintf(wdev, sizeof wdev, "/job:worker/task:%d", wid);
        tfc_replica_device_setter_options ro = {0};
        ro.worker_device = wdev;
        tfc_replica_device_setter *rs = tfc_replica_device_setter_begin(g, pc.cluster, &ro);
        model m = build_model(g);
        tfc_output gs = tfc_train_get_or_create_global_step(g);
        tfc_sync_replicas_optimizer *sro =
            tfc_sync_replicas_optimizer_new(tfc_gradient_descent_optimizer(LR), nw, nw);
        tfc_node *train = tfc_sync_replicas_minimize(sro, g, m.loss, NULL, 0, gs);
        tfc_node *init = tfc_global_variables_initializer(g);
        /* a stale gradient for w's accumulator, and its count, on the ps */
        tfc_output acc = tfc_sync_replicas_accumulator(sro, m.w);
        CHECK(acc.node != NULL);
        tfc_colocate_with_push(g, acc.node);
        tfc_node *stale = tfc_accumulator_apply_gradient(
            g, acc, tfc_const_int64(g, 0), tfc_fill(g, tfc_const_data(g, TFC_INT32, 1,
                                                                      (int64_t[]){2},
                                                                      (int32_t[]){D, 1}),
                                                     tfc_const_float(g, 1000.0f)));
        tfc_output count = tfc_accumulator_num_accumulated(g, acc);
        tfc_colocate_with_pop(g);
        CHECK(tfc_replica_device_setter_end(rs) == 0);
        CHECK_GRAPH_OK(g);
        CHECK(train && stale && count.node);
        tfc_cluster_session *s = tfc_test_master_session(pc.server, g, NULL);
        chief_loop loop = {s, tfc_sync_replicas_sync_op(sro), K + 1, TFC_OK, ""};
        pthread_t th;
        if (wid == 0) {
            tfc_cluster_session_run(s, NULL, NULL, 0, NULL, 0, NULL, &init, 1, st);
            CHECK_STATUS_OK(st);
            tfc_node *ci = tfc_sync_replicas_chief_init_op(sro);
            tfc_cluster_session_run(s, NULL, NULL, 0, NULL, 0, NULL, &ci, 1, st);
            CHECK_STATUS_OK(st);
            pthread_create(&th, NULL, run_chief_loop, &loop);
        }
        MPI_Barrier(pc.workers); /* the chief initialized */
        if (wid != 0) {
            tfc_node *li = tfc_sync_replicas_local_step_init_op(sro);
            tfc_cluster_session_run(s, NULL, NULL, 0, NULL, 0, NULL, &li, 1, st);
            CHECK_STATUS_OK(st);
        }
        tfc_output local_step = tfc_sync_replicas_local_step(sro);
        for (int k = 0; k <= K; k++) {
            if (k == K) {
                /* (b) after K steps the accumulators are at step K: a
                 * gradient of step 0 is dropped, and the next step's mean
                 * does not see it */
                if (wid == nw - 1) {
                    CHECK(fetch_int32(s, count) == 0);
                    tfc_cluster_session_run(s, NULL, NULL, 0, NULL, 0, NULL, &stale, 1, st);
                    CHECK_STATUS_OK(st);
                    CHECK(fetch_int32(s, count) == 0);
                }
                MPI_Barrier(pc.workers);
            }
            /* the gradients arrive in reverse rank order (so a sum in
             * arrival order would differ from the sorted one) */
            struct timespec nap = {0, (long)(nw - 1 - wid) * 30 * 1000 * 1000};
            nanosleep(&nap, NULL);
            tfc_tensor *x, *y;
            batch(k, wid, &x, &y);
            tfc_output feeds[] = {m.x, m.y};
            tfc_tensor *vals[] = {x, y};
            tfc_cluster_session_run(s, feeds, vals, 2, NULL, 0, NULL, &train, 1, st);
            CHECK_STATUS_OK(st);
            tfc_tensor_free(x);
            tfc_tensor_free(y);
            MPI_Barrier(pc.workers); /* one token each per step */
            /* (c) the global step advanced once for this step, and the
             * token made it this worker's local step */
            CHECK_MSG(fetch_int64(s, gs) == k + 1, "step %d", k);
            CHECK_MSG(fetch_int64(s, local_step) == k + 1, "step %d", k);
            MPI_Barrier(pc.workers);
        }
        if (wid == 0) {
            pthread_join(th, NULL);
            CHECK_MSG(loop.code == TFC_OK, "chief's sync loop: %s", loop.msg);
        }
        /* (a) the same bits as one process */
        tfc_output fetch[] = {m.w, m.b};
        tfc_tensor *got[2] = {NULL, NULL}, *want_w = NULL, *want_b = NULL;
        tfc_cluster_session_run(s, NULL, NULL, 0, fetch, 2, got, NULL, 0, st);
        CHECK_STATUS_OK(st);
        expected(nw, K + 1, &want_w, &want_b);
        CHECK_MSG(same_bits(got[0], want_w), "w differs from one process's");
        CHECK_MSG(same_bits(got[1], want_b), "b differs from one process's");
        /* and training moved them (the check is not vacuous) */
        tfc_tensor *one_w = NULL, *one_b = NULL;
        expected(nw, K, &one_w, &one_b);
        CHECK(!same_bits(one_w, want_w));
        tfc_tensor_free(one_w);
        tfc_tensor_free(one_b);
        for (int i = 0; i < 2; i++) tfc_tensor_free(got[i]);
        tfc_tensor_free(want_w);
        tfc_tensor_free(want_b);
        MPI_Barrier(pc.workers);
        tfc_cluster_session_free(s);
        tfc_sync_replicas_optimizer_free(sro);
        tfc_graph_free(g);
        tfc_status_free(st);
    }
    tfc_test_ps_cluster_stop(&pc);
}

TFC_MPI_TEST_MAIN(T(test_sync_training_equals_one_process))
