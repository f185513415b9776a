/* MPI underneath tfc's distributed runtime: initialization with the thread
 * level tfc needs, and the communicators its parts talk on. */
#ifndef TFC_DISTRIBUTED_MPI_WORLD_H
#define TFC_DISTRIBUTED_MPI_WORLD_H

#include <mpi.h>

#include "tfc.h"

/* 1 once tfc_mpi_init succeeded (and until tfc_mpi_finalize). */
int tfc_mpi_ready(void);

/* A communicator over all ranks, duplicated from MPI_COMM_WORLD for one
 * part of tfc (purpose names it in errors, e.g. "rendezvous"), so that the
 * tags of one part never match the receives of another or the program's
 * own MPI traffic. Collective: every rank calls it in the same order.
 * Fails with FAILED_PRECONDITION before tfc_mpi_init. The communicator is
 * freed by tfc_mpi_finalize. */
int tfc_mpi_comm_dup(const char *purpose, MPI_Comm *comm, tfc_status *status);

/* Turns an MPI error code into a status naming what was being done. */
int tfc_mpi_check(int mpi_rc, const char *what, tfc_status *status);

#endif
