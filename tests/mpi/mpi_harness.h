/* The harness for tests run under mpirun: every rank runs every test; a
 * test passes when it passed on all ranks. TFC_MPI_TEST_MAIN initializes
 * MPI through tfc_mpi_init, runs the tests, agrees on the result with the
 * other ranks and finalizes. Tests may be collective (every rank calls the
 * same tfc functions in the same order). */
#ifndef TFC_TEST_MPI_HARNESS_H
#define TFC_TEST_MPI_HARNESS_H

#include <mpi.h>

#include "harness.h"

int tfc_mpi_test_run_all(const tfc_test_case *tests, int n, int argc, char **argv);

#define TFC_MPI_TEST_MAIN(...)                                                   \
    int main(int argc, char **argv) {                                            \
        static const tfc_test_case tests_[] = {__VA_ARGS__};                     \
        return tfc_mpi_test_run_all(tests_, (int)(sizeof tests_ / sizeof *tests_), argc, argv); \
    }

/* This rank and the number of ranks (valid inside a test). */
int tfc_test_rank(void);
int tfc_test_size(void);

/* The parameter-server cluster the cluster tests run on: "ps:1,worker"
 * over every rank (rank 0 /job:ps/task:0, rank r /job:worker/task:r-1),
 * this rank's server, and the workers' own communicator for the tests'
 * barriers among workers (MPI_COMM_NULL on the ps). */
typedef struct tfc_test_ps_cluster {
    tfc_cluster *cluster;
    tfc_server *server;
    MPI_Comm workers;
} tfc_test_ps_cluster;

/* Every rank, collectively: makes the cluster and starts this rank's
 * server (quiet: no waiting messages on stderr). CHECKs each step. */
void tfc_test_ps_cluster_start(tfc_test_ps_cluster *pc);

/* Workers stop their servers (saying goodbye) and the ps serves until
 * they have all left; then frees everything and zeroes *pc. */
void tfc_test_ps_cluster_stop(tfc_test_ps_cluster *pc);

/* A session on the cluster with `server` as its master, CHECKed, and
 * `init` (when not NULL) run in it and CHECKed. The caller frees it with
 * tfc_cluster_session_free. */
tfc_cluster_session *tfc_test_master_session(tfc_server *server, tfc_graph *g, tfc_node *init);

#endif
