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

#endif
