/* MPI initialization for tfc: MPI_THREAD_MULTIPLE, because the executor's
 * threads send and receive concurrently (a _Recv waits on one thread while
 * a _Send of the same step runs on another), and anything less would need
 * a global lock around every MPI call. */
#include "distributed/mpi_world.h"

#include <stdlib.h>

#include "core/status.h"
#include "distributed/collectives.h"

#define MAX_DUPS 16

static int ready;
static int we_initialized; /* MPI_Init_thread was ours, so MPI_Finalize is too */
static int world_rank = -1, world_size = -1;
static MPI_Comm dups[MAX_DUPS];
static int num_dups;

static const char *thread_level_name(int level) {
    switch (level) {
    case MPI_THREAD_SINGLE: return "MPI_THREAD_SINGLE";
    case MPI_THREAD_FUNNELED: return "MPI_THREAD_FUNNELED";
    case MPI_THREAD_SERIALIZED: return "MPI_THREAD_SERIALIZED";
    case MPI_THREAD_MULTIPLE: return "MPI_THREAD_MULTIPLE";
    default: return "an unknown thread level";
    }
}

int tfc_mpi_check(int mpi_rc, const char *what, tfc_status *status) {
    if (mpi_rc == MPI_SUCCESS) return 1;
    char text[MPI_MAX_ERROR_STRING];
    int len = 0;
    if (MPI_Error_string(mpi_rc, text, &len) != MPI_SUCCESS) len = 0;
    text[len] = '\0';
    tfc_status_set(status, TFC_INTERNAL, "MPI error in %s (rank %d): %s", what, world_rank,
                   len ? text : "(no text)");
    return 0;
}

int tfc_mpi_init(int *argc, char ***argv, tfc_status *status) {
    if (ready) return 1;
    int initialized = 0, provided = MPI_THREAD_SINGLE;
    MPI_Initialized(&initialized);
    if (initialized) {
        MPI_Query_thread(&provided);
    } else {
        if (!tfc_mpi_check(MPI_Init_thread(argc, argv, MPI_THREAD_MULTIPLE, &provided),
                           "MPI_Init_thread", status))
            return 0;
        we_initialized = 1;
    }
    if (provided < MPI_THREAD_MULTIPLE) {
        tfc_status_set(status, TFC_FAILED_PRECONDITION,
                       "tfc's distributed runtime needs MPI_THREAD_MULTIPLE (its threads send "
                       "and receive concurrently); this MPI library provides %s%s",
                       thread_level_name(provided),
                       initialized ? " (MPI was initialized by the program: use "
                                     "MPI_Init_thread with MPI_THREAD_MULTIPLE)" : "");
        if (we_initialized) {
            MPI_Finalize();
            we_initialized = 0;
        }
        return 0;
    }
    /* errors come back as codes, so that tfc can name what failed */
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    MPI_Comm_rank(MPI_COMM_WORLD, &world_rank);
    MPI_Comm_size(MPI_COMM_WORLD, &world_size);
    ready = 1;
    /* the collectives' communicator, taken here where every rank is */
    if (!tfc_collectives_init(status)) {
        tfc_mpi_finalize();
        return 0;
    }
    return 1;
}

int tfc_mpi_ready(void) { return ready; }

int tfc_mpi_rank(void) { return ready ? world_rank : -1; }

int tfc_mpi_size(void) { return ready ? world_size : -1; }

int tfc_mpi_comm_dup(const char *purpose, MPI_Comm *comm, tfc_status *status) {
    *comm = MPI_COMM_NULL;
    if (!ready) {
        tfc_status_set(status, TFC_FAILED_PRECONDITION,
                       "%s needs MPI: call tfc_mpi_init first", purpose);
        return 0;
    }
    if (num_dups == MAX_DUPS) {
        tfc_status_set(status, TFC_RESOURCE_EXHAUSTED,
                       "%s: tfc already holds %d MPI communicators", purpose, MAX_DUPS);
        return 0;
    }
    if (!tfc_mpi_check(MPI_Comm_dup(MPI_COMM_WORLD, comm), purpose, status)) return 0;
    MPI_Comm_set_errhandler(*comm, MPI_ERRORS_RETURN);
    dups[num_dups++] = *comm;
    return 1;
}

void tfc_mpi_finalize(void) {
    if (!ready) return;
    tfc_collectives_shutdown();
    for (int i = 0; i < num_dups; i++) MPI_Comm_free(&dups[i]);
    num_dups = 0;
    ready = 0;
    if (we_initialized) {
        int finalized = 0;
        MPI_Finalized(&finalized);
        if (!finalized) MPI_Finalize();
        we_initialized = 0;
    }
    world_rank = world_size = -1;
}
