/* ranks: 2 */
/* A rank that never reaches a collective: the others fail with
 * DEADLINE_EXCEEDED after the collective timeout, naming the collective,
 * instead of waiting forever; later collectives there fail at once. (Last
 * and alone in its program: after a timeout the process's collectives stay
 * unusable.) */
#include <string.h>
#include <time.h>

#include "mpi_harness.h"
#include "tfc.h"

static void test_missing_rank_times_out(void) {
    tfc_graph *g = tfc_graph_new();
    tfc_output one = tfc_const_float(g, 1.0f);
    tfc_with_name(g, "lonely");
    tfc_output a = tfc_allreduce(g, one, TFC_REDUCE_SUM);
    CHECK_GRAPH_OK(g);
    tfc_status *st = tfc_status_new();
    tfc_session *s = tfc_session_new(g, NULL, st);
    if (tfc_test_rank() == 0) {
        tfc_collective_set_timeout(2.0);
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        tfc_tensor *got = tfc_session_run1(s, NULL, NULL, 0, a, st);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        CHECK(got == NULL);
        CHECK(tfc_status_code(st) == TFC_DEADLINE_EXCEEDED);
        CHECK_CONTAINS(tfc_status_message(st), "'lonely'");
        CHECK_CONTAINS(tfc_status_message(st), "within 2 s");
        double secs = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
        CHECK(secs >= 2.0 && secs < 10.0);
        got = tfc_session_run1(s, NULL, NULL, 0, a, st);
        CHECK(got == NULL);
        CHECK_CONTAINS(tfc_status_message(st), "unusable after an earlier timeout");
    }
    tfc_session_free(s);
    tfc_status_free(st);
    tfc_graph_free(g);
}

TFC_MPI_TEST_MAIN(T(test_missing_rank_times_out))
