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
