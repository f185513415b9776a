/* ranks: 3 */
/* Checkpoints through a cluster session: rank 0 is /job:ps/task:0, ranks
 * 1-2 /job:worker/task:0-1. Variables live on the ps and on worker 1; the
 * chief (worker 0) trains a few steps, saves one checkpoint holding every
 * variable, changes them, restores; both workers see the restored values.
 * Only the chief writes; the file is an ordinary single-process checkpoint
 * (tfc's reader and tfc_saver_restore in one process read it). */
#include "mpi_harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static tfc_test_ps_cluster pc; /* the cluster, this rank's server, the workers (mpi_harness.h) */

static int is_ps(void) { return tfc_test_rank() == 0; }
static int is_chief(void) { return tfc_test_rank() == 1; }

typedef struct model {
    tfc_graph *g;
    tfc_output w, b, count; /* w [2], b on the ps; count on worker 1 */
    tfc_node *init, *train, *scramble;
    tfc_saver *saver;
} model;

/* A constant vector (the tensor freed here). */
static tfc_output vec(tfc_graph *g, const float *v) {
    tfc_tensor *t = tfc_tensor_from_data(TFC_FLOAT, 1, (int64_t[]){2}, v);
    tfc_output o = tfc_const(g, t);
    tfc_tensor_free(t);
    return o;
}

/* Every worker builds the same graph: the variables are shared by name. */
static void build(model *m) {
    tfc_graph *g = m->g = tfc_graph_new();
    float w0[] = {0.5f, -0.25f}, wz[] = {9, 9};
    tfc_device_push(g, "/job:ps/task:0");
    m->w = tfc_variable(g, "w", vec(g, w0));
    m->b = tfc_variable(g, "b", tfc_const_float(g, 0.0f));
    tfc_device_pop(g);
    tfc_device_push(g, "/job:worker/task:1");
    m->count = tfc_variable(g, "count", tfc_const_int32(g, 0));
    tfc_device_pop(g);
    /* loss = (w . x + b - 3)^2 with x = (1, 2) */
    float xv[] = {1, 2};
    tfc_output x = vec(g, xv);
    tfc_output y = tfc_add(g, tfc_reduce_sum(g, tfc_mul(g, m->w, x), NULL, 0, 0), m->b);
    tfc_output loss = tfc_square(g, tfc_sub(g, y, tfc_const_float(g, 3.0f)));
    tfc_optimizer *opt = tfc_gradient_descent_optimizer(0.05);
    tfc_output vl[2] = {m->w, m->b};
    tfc_node *step = tfc_optimizer_minimize(opt, g, loss, vl, 2, (tfc_output){0});
    tfc_optimizer_free(opt);
    tfc_control_dependencies_push(g, &step, 1);
    m->train = tfc_assign_add(g, m->count, tfc_const_int32(g, 1)).node;
    tfc_control_dependencies_pop(g);
    tfc_node *sc[3] = {tfc_assign(g, m->w, vec(g, wz)).node,
                       tfc_assign(g, m->b, tfc_const_float(g, -7.0f)).node,
                       tfc_assign(g, m->count, tfc_const_int32(g, 1000)).node};
    m->scramble = tfc_group(g, sc, 3);
    m->init = tfc_global_variables_initializer(g);
    CHECK_GRAPH_OK(g);
    m->saver = tfc_saver_new(g, NULL, 0, 0);
    CHECK(m->saver != NULL);
}

/* w0, w1, b, count as doubles. */
static void values(tfc_cluster_session *s, const model *m, double out[4], tfc_status *st) {
    tfc_output f[3] = {m->w, m->b, m->count};
    tfc_tensor *v[3] = {0};
    tfc_cluster_session_run(s, NULL, NULL, 0, f, 3, v, NULL, 0, st);
    CHECK_STATUS_OK(st);
    if (!v[0] || !v[1] || !v[2]) return;
    out[0] = ((float *)tfc_tensor_data(v[0]))[0];
    out[1] = ((float *)tfc_tensor_data(v[0]))[1];
    out[2] = *(float *)tfc_tensor_data(v[1]);
    out[3] = *(int32_t *)tfc_tensor_data(v[2]);
    for (int i = 0; i < 3; i++) tfc_tensor_free(v[i]);
}

static void test_save_change_restore(void) {
    tfc_test_ps_cluster_start(&pc);
    if (!is_ps()) {
        tfc_status *st = tfc_status_new();
        model m;
        build(&m);
        tfc_cluster_session *s = tfc_test_master_session(pc.server, m.g, NULL);
        char dir[64], prefix[96];
        /* the chief's own directory (other builds may run this test at once) */
        snprintf(dir, sizeof dir, "/tmp/tfc_cluster_ckpt_%d", (int)getpid());
        snprintf(prefix, sizeof prefix, "%s/model", dir);
        double saved[4] = {0}, now[4] = {0};
        if (is_chief()) {
            char cmd[128];
            snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
            CHECK(system(cmd) == 0);
            CHECK(mkdir(dir, 0755) == 0);
            tfc_cluster_session_run(s, NULL, NULL, 0, NULL, 0, NULL, &m.init, 1, st);
            CHECK_STATUS_OK(st);
            for (int i = 0; i < 3; i++) {
                tfc_cluster_session_run(s, NULL, NULL, 0, NULL, 0, NULL, &m.train, 1, st);
                CHECK_STATUS_OK(st);
            }
            values(s, &m, saved, st);
            CHECK(saved[3] == 3 && saved[2] != 0.0);
            const char *path = tfc_saver_save_on_cluster(m.saver, s, prefix, 3, st);
            CHECK_STATUS_OK(st);
            CHECK(path && strstr(path, "model-3"));
            char *latest = tfc_latest_checkpoint(dir);
            CHECK(latest && path && !strcmp(latest, path));
            free(latest);
        }
        MPI_Bcast(saved, 4, MPI_DOUBLE, 0, pc.workers);
        MPI_Barrier(pc.workers);
        if (!is_chief()) {
            /* only the chief writes */
            const char *p = tfc_saver_save_on_cluster(m.saver, s, "/tmp/tfc_not_here", -1, st);
            CHECK(p == NULL && tfc_status_code(st) == TFC_FAILED_PRECONDITION);
            CHECK_CONTAINS(tfc_status_message(st), "only the chief (/job:worker/task:0)");
            values(s, &m, now, st);
            for (int i = 0; i < 4; i++) CHECK(now[i] == saved[i]);
        }
        MPI_Barrier(pc.workers);
        if (is_chief()) {
            tfc_cluster_session_run(s, NULL, NULL, 0, NULL, 0, NULL, &m.scramble, 1, st);
            CHECK_STATUS_OK(st);
        }
        MPI_Barrier(pc.workers);
        values(s, &m, now, st);
        CHECK(now[0] == 9 && now[2] == -7 && now[3] == 1000);
        MPI_Barrier(pc.workers);
        if (is_chief()) {
            char path[128];
            snprintf(path, sizeof path, "%s-3", prefix);
            CHECK(tfc_saver_restore_on_cluster(m.saver, s, path, st) == 0);
            CHECK_STATUS_OK(st);
            /* a second restore reuses the nodes the first added */
            int nn = tfc_graph_num_nodes(m.g);
            CHECK(tfc_saver_restore_on_cluster(m.saver, s, path, st) == 0);
            CHECK(tfc_graph_num_nodes(m.g) == nn);
            /* a missing checkpoint changes nothing and says which */
            CHECK(tfc_saver_restore_on_cluster(m.saver, s, "/tmp/tfc_no_such_ckpt", st) != 0);
            CHECK_CONTAINS(tfc_status_message(st), "tfc_no_such_ckpt");
        }
        MPI_Barrier(pc.workers);
        values(s, &m, now, st);
        for (int i = 0; i < 4; i++)
            CHECK_MSG(now[i] == saved[i], "rank %d value %d: %g, saved %g", tfc_test_rank(), i,
                      now[i], saved[i]);
        MPI_Barrier(pc.workers);
        if (is_chief()) {
            /* one process reads it: tfc's reader and a plain saver */
            char path[128];
            snprintf(path, sizeof path, "%s-3", prefix);
            tfc_checkpoint_reader *r = tfc_checkpoint_reader_open(path, st);
            CHECK_STATUS_OK(st);
            CHECK(r && tfc_checkpoint_reader_num(r) == 3);
            tfc_tensor *wv = r ? tfc_checkpoint_reader_get(r, "w", st) : NULL;
            CHECK(wv && ((float *)tfc_tensor_data(wv))[1] == (float)saved[1]);
            tfc_tensor_free(wv);
            tfc_checkpoint_reader_free(r);
            tfc_graph *lg = tfc_graph_new();
            tfc_output lw = tfc_variable(lg, "w", tfc_zeros(lg, TFC_FLOAT, 1, (int64_t[]){2}));
            tfc_output lb = tfc_variable(lg, "b", tfc_const_float(lg, 0.0f));
            tfc_variable(lg, "count", tfc_const_int32(lg, 0));
            tfc_saver *ls = tfc_saver_new(lg, NULL, 0, 0);
            tfc_session *local = tfc_session_new(lg, NULL, st);
            CHECK(tfc_saver_restore(ls, local, path, st) == 0);
            tfc_tensor *bv = tfc_session_run1(local, NULL, NULL, 0, lb, st);
            tfc_tensor *w2 = tfc_session_run1(local, NULL, NULL, 0, lw, st);
            CHECK(bv && *(float *)tfc_tensor_data(bv) == (float)saved[2]);
            CHECK(w2 && ((float *)tfc_tensor_data(w2))[0] == (float)saved[0]);
            tfc_tensor_free(bv);
            tfc_tensor_free(w2);
            tfc_session_free(local);
            tfc_saver_free(ls);
            tfc_graph_free(lg);
            char cmd[128];
            snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
            CHECK(system(cmd) == 0);
        }
        tfc_cluster_session_free(s);
        tfc_saver_free(m.saver);
        tfc_graph_free(m.g);
        tfc_status_free(st);
    }
    tfc_test_ps_cluster_stop(&pc);
}

TFC_MPI_TEST_MAIN(T(test_save_change_restore))
