/* See mpi_harness.h. Each rank prints its own failed CHECKs (prefixed by
 * mpirun's rank tag when --tag-output is given); rank 0 prints one line per
 * test with how many ranks failed it. */
#include "mpi_harness.h"

#include <stdio.h>
#include <string.h>

static int rank = -1, size = -1;

int tfc_test_rank(void) { return rank; }
int tfc_test_size(void) { return size; }

int tfc_mpi_test_run_all(const tfc_test_case *tests, int n, int argc, char **argv) {
    tfc_status *st = tfc_status_new();
    if (!tfc_mpi_init(&argc, &argv, st)) {
        fprintf(stderr, "tfc_mpi_init: %s\n", tfc_status_message(st));
        tfc_status_free(st);
        return 1;
    }
    tfc_status_free(st);
    rank = tfc_mpi_rank();
    size = tfc_mpi_size();
    int passed = 0, failed = 0;
    for (int i = 0; i < n; i++) {
        if (argc > 1 && !strstr(tests[i].name, argv[1])) continue;
        int before = tfc_test_failures;
        tfc_test_current = tests[i].name;
        tests[i].fn();
        int mine = tfc_test_failures != before, ranks_failed = 0;
        MPI_Allreduce(&mine, &ranks_failed, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
        if (ranks_failed) {
            failed++;
            if (rank == 0) printf("FAIL %s (on %d of %d ranks)\n", tests[i].name, ranks_failed, size);
        } else {
            passed++;
            if (rank == 0) printf("ok   %s (%d ranks)\n", tests[i].name, size);
        }
        fflush(stdout);
    }
    if (rank == 0) printf("%d passed, %d failed\n", passed, failed);
    tfc_mpi_finalize();
    return failed ? 1 : 0;
}

void tfc_test_ps_cluster_start(tfc_test_ps_cluster *pc) {
    tfc_status *st = tfc_status_new();
    pc->cluster = tfc_cluster_from_layout("ps:1,worker", 0, st);
    CHECK_STATUS_OK(st);
    tfc_server_options o = {0};
    o.quiet = 1;
    pc->server = tfc_server_new(pc->cluster, NULL, -1, &o, st);
    CHECK_STATUS_OK(st);
    CHECK(tfc_server_start(pc->server, st) == 0);
    tfc_status_free(st);
    MPI_Comm_split(MPI_COMM_WORLD, rank == 0 ? MPI_UNDEFINED : 1, 0, &pc->workers);
}

void tfc_test_ps_cluster_stop(tfc_test_ps_cluster *pc) {
    tfc_status *st = tfc_status_new();
    if (rank == 0) {
        CHECK(tfc_server_join(pc->server, st) == 0);
        CHECK_STATUS_OK(st);
    } else {
        tfc_server_stop(pc->server);
        MPI_Comm_free(&pc->workers);
    }
    tfc_server_free(pc->server);
    tfc_cluster_free(pc->cluster);
    *pc = (tfc_test_ps_cluster){NULL, NULL, MPI_COMM_NULL};
    tfc_status_free(st);
}

tfc_cluster_session *tfc_test_master_session(tfc_server *server, tfc_graph *g, tfc_node *init) {
    tfc_status *st = tfc_status_new();
    tfc_cluster_session *s = tfc_session_new_on_server(server, g, NULL, st);
    CHECK_STATUS_OK(st);
    if (s && init) {
        tfc_cluster_session_run(s, NULL, NULL, 0, NULL, 0, NULL, &init, 1, st);
        CHECK_STATUS_OK(st);
    }
    tfc_status_free(st);
    return s;
}
