/* ranks: 3 */
/* Failure: a task that stops responding (rank 2 stops itself with SIGSTOP,
 * as a hung or swapped-out process would) makes the ps's join and the
 * other worker's runs fail within a bounded time with an error naming it;
 * a worker whose ps starts late waits (bounded, saying so) and then runs,
 * or gives up with an error naming the ps. Rank 0 is the ps. */
#include "distributed/server.h"
#include "mpi_harness.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static void sleep_s(double s) {
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    nanosleep(&ts, NULL);
}

/* A worker's graph: a ps counter incremented by each run. */
static tfc_graph *counter_graph(tfc_output *inc, tfc_node **init) {
    tfc_graph *g = tfc_graph_new();
    tfc_device_push(g, "/job:ps/task:0");
    char name[32];
    snprintf(name, sizeof name, "count_%d", tfc_test_rank());
    tfc_output v = tfc_variable(g, name, tfc_const_float(g, 0));
    tfc_device_pop(g);
    *inc = tfc_assign_add(g, v, tfc_const_float(g, 1));
    *init = tfc_variable_initializer(v);
    return g;
}

static void test_lost_task_is_named_in_bounded_time(void) {
    tfc_status *st = tfc_status_new();
    int r = tfc_test_rank();
    int pids[3], mine = (int)getpid();
    MPI_Allgather(&mine, 1, MPI_INT, pids, 1, MPI_INT, MPI_COMM_WORLD);
    tfc_cluster *c = tfc_cluster_from_layout("ps:1,worker:2", 0, st);
    tfc_server_options o = {0};
    o.heartbeat_ms = 200;
    o.peer_timeout_ms = 3000;
    o.quiet = 1;
    tfc_server *s = tfc_server_new(c, NULL, -1, &o, st);
    CHECK_STATUS_OK(st);
    CHECK(tfc_server_start(s, st) == 0);
    tfc_output inc;
    tfc_node *init;
    tfc_graph *g = counter_graph(&inc, &init);
    tfc_cluster_session *cs = NULL;
    if (r == 1) {
        /* the worker has trained a little before its peer is lost */
        cs = tfc_session_new_on_server(s, g, NULL, st);
        tfc_cluster_session_run(cs, NULL, NULL, 0, NULL, 0, NULL, &init, 1, st);
        CHECK_STATUS_OK(st);
    }
    MPI_Barrier(MPI_COMM_WORLD);
    double t0 = now_s();
    if (r == 2) {
        raise(SIGSTOP); /* ... until rank 0 continues it */
        /* back: everyone else has been silent for a while, so this
         * server now calls them lost too; it only has to end cleanly */
    } else if (r == 0) {
        CHECK(tfc_server_join(s, st) == -1);
        double took = now_s() - t0;
        CHECK(tfc_status_code(st) == TFC_UNAVAILABLE);
        CHECK_CONTAINS(tfc_status_message(st), "task /job:worker/task:1 (rank 2) is lost");
        CHECK_MSG(took < 30.0, "the ps noticed after %.1f s", took);
        CHECK_MSG(took >= 2.0, "the ps noticed after only %.1f s (timeout 3 s)", took);
    } else {
        /* runs go on until this server, too, finds rank 2 lost */
        int steps = 0;
        while (now_s() - t0 < 40.0) {
            tfc_tensor *v = tfc_cluster_session_run1(cs, NULL, NULL, 0, inc, st);
            tfc_tensor_free(v);
            if (!v) break;
            steps++;
        }
        double took = now_s() - t0;
        CHECK(tfc_status_code(st) == TFC_UNAVAILABLE);
        CHECK_CONTAINS(tfc_status_message(st), "task /job:worker/task:1 (rank 2) is lost");
        CHECK_MSG(took < 30.0, "the worker noticed after %.1f s", took);
        CHECK(steps > 0);
        /* and later runs fail at once, with the same error */
        tfc_tensor *v = tfc_cluster_session_run1(cs, NULL, NULL, 0, inc, st);
        CHECK(!v && tfc_status_code(st) == TFC_UNAVAILABLE);
    }
    /* the ps and worker 0 are done: let rank 2 go on */
    MPI_Barrier(MPI_COMM_WORLD) ; /* rank 2 reaches it once continued */
    tfc_cluster_session_free(cs);
    tfc_server_free(s);
    tfc_graph_free(g);
    tfc_cluster_free(c);
    tfc_status_free(st);
    (void)pids;
}

/* The barrier above would wait for the stopped rank forever: rank 0
 * continues it first, from a helper thread started before the barrier. */
static void *continue_rank2(void *arg) {
    int pid = *(int *)arg;
    sleep_s(12.0); /* past both detections (3 s timeouts, 40 s bound) */
    kill(pid, SIGCONT);
    return NULL;
}

static void test_lost_task(void) {
    /* rank 0 starts the helper that continues rank 2 */
    int pids[3], mine = (int)getpid();
    MPI_Allgather(&mine, 1, MPI_INT, pids, 1, MPI_INT, MPI_COMM_WORLD);
    pthread_t th;
    if (tfc_test_rank() == 0) pthread_create(&th, NULL, continue_rank2, &pids[2]);
    test_lost_task_is_named_in_bounded_time();
    if (tfc_test_rank() == 0) pthread_join(th, NULL);
}

/* A worker whose ps starts its server late waits for it (and says so on
 * stderr), up to start_timeout_ms. */
static void test_worker_waits_for_late_ps(void) {
    tfc_status *st = tfc_status_new();
    int r = tfc_test_rank();
    tfc_cluster *c = tfc_cluster_from_layout("ps:1,worker:2", 0, st);
    for (int round = 0; round < 2; round++) {
        tfc_server_options o = {0};
        o.start_timeout_ms = round == 0 ? 20000 : 1000;
        tfc_server *s = tfc_server_new(c, NULL, -1, &o, st);
        CHECK_STATUS_OK(st);
        tfc_output inc;
        tfc_node *init;
        tfc_graph *g = counter_graph(&inc, &init);
        MPI_Barrier(MPI_COMM_WORLD);
        double t0 = now_s();
        if (r == 0) {
            sleep_s(round == 0 ? 2.0 : 3.0);
            CHECK(tfc_server_start(s, st) == 0);
            CHECK(tfc_server_join(s, st) == 0);
        } else {
            CHECK(tfc_server_start(s, st) == 0);
            if (r == 1) {
                tfc_cluster_session *cs = tfc_session_new_on_server(s, g, NULL, st);
                tfc_cluster_session_run(cs, NULL, NULL, 0, NULL, 0, NULL, &init, 1, st);
                double took = now_s() - t0;
                if (round == 0) {
                    CHECK_STATUS_OK(st);
                    CHECK_MSG(took > 1.5, "ran after %.1f s, before the ps started", took);
                } else {
                    CHECK(tfc_status_code(st) == TFC_UNAVAILABLE);
                    CHECK_CONTAINS(tfc_status_message(st),
                                   "task /job:ps/task:0 (rank 0) did not start its server "
                                   "within 1000 ms");
                    CHECK_MSG(took < 2.5, "gave up after %.1f s", took);
                }
                tfc_cluster_session_free(cs);
            }
            tfc_server_stop(s);
        }
        tfc_server_free(s);
        tfc_graph_free(g);
        MPI_Barrier(MPI_COMM_WORLD);
    }
    tfc_cluster_free(c);
    tfc_status_free(st);
}

TFC_MPI_TEST_MAIN(T(test_lost_task), T(test_worker_waits_for_late_ps))
