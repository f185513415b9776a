/* ranks: 2 3 */
/* MPI under tfc: initialization at MPI_THREAD_MULTIPLE, rank and size, and
 * tfc's own communicators (duplicates of MPI_COMM_WORLD that do not see the
 * program's messages). */
#include "distributed/mpi_world.h"
#include "mpi_harness.h"

static void test_rank_and_size(void) {
    int world_rank = -1, world_size = -1;
    MPI_Comm_rank(MPI_COMM_WORLD, &world_rank);
    MPI_Comm_size(MPI_COMM_WORLD, &world_size);
    CHECK(tfc_mpi_rank() == world_rank);
    CHECK(tfc_mpi_size() == world_size);
    CHECK(world_size >= 2);
    int provided = 0;
    MPI_Query_thread(&provided);
    CHECK(provided == MPI_THREAD_MULTIPLE);
    /* a second init is harmless */
    tfc_status *st = tfc_status_new();
    CHECK(tfc_mpi_init(NULL, NULL, st) == 1);
    tfc_status_free(st);
}

/* A message on tfc's communicator is not received by a receive on
 * MPI_COMM_WORLD with the same source and tag, and the other way round. */
static void test_dup_isolates_traffic(void) {
    tfc_status *st = tfc_status_new();
    MPI_Comm comm;
    CHECK(tfc_mpi_comm_dup("test", &comm, st));
    int r = tfc_mpi_rank(), n = tfc_mpi_size();
    int next = (r + 1) % n, prev = (r + n - 1) % n;
    int on_world = 100 + r, on_tfc = 200 + r, got_world = -1, got_tfc = -1;
    MPI_Request reqs[4];
    MPI_Irecv(&got_tfc, 1, MPI_INT, prev, 7, comm, &reqs[0]);
    MPI_Irecv(&got_world, 1, MPI_INT, prev, 7, MPI_COMM_WORLD, &reqs[1]);
    MPI_Isend(&on_world, 1, MPI_INT, next, 7, MPI_COMM_WORLD, &reqs[2]);
    MPI_Isend(&on_tfc, 1, MPI_INT, next, 7, comm, &reqs[3]);
    MPI_Waitall(4, reqs, MPI_STATUSES_IGNORE);
    CHECK(got_world == 100 + prev);
    CHECK(got_tfc == 200 + prev);
    tfc_status_free(st);
}

/* An MPI error comes back as a status naming what was done and the rank. */
static void test_mpi_error_text(void) {
    tfc_status *st = tfc_status_new();
    CHECK(!tfc_mpi_check(MPI_ERR_RANK, "sending to task 9", st));
    CHECK(tfc_status_code(st) == TFC_INTERNAL);
    CHECK(strstr(tfc_status_message(st), "sending to task 9") != NULL);
    CHECK(strstr(tfc_status_message(st), "rank") != NULL);
    tfc_status_free(st);
}

TFC_MPI_TEST_MAIN(T(test_rank_and_size), T(test_dup_isolates_traffic), T(test_mpi_error_text))
