/* The collective engine under the allreduce and broadcast ops: one MPI
 * communicator of its own and one worker thread that runs the collectives
 * one at a time, in the order their kernels submitted them.
 *
 * Why one thread: MPI requires every rank to call the collectives of a
 * communicator in the same order, and two threads calling collectives on
 * one communicator at once is erroneous. The kernels are asynchronous
 * (TFC_OP_ASYNC): they hand a request to the worker and return, so that no
 * pool thread waits on the network.
 *
 * Why a handshake: before its payload each collective exchanges a small
 * descriptor (sequence number, node name, kind, dtype, element counts)
 * with MPI_Iallgather and compares them; ranks that reached different
 * collectives get an error naming each rank's collective instead of a
 * payload that hangs or mixes up tensors. The wait is polled with a
 * deadline (tfc_collective_set_timeout): a rank that never arrives gives an
 * error within that time. After such a timeout the engine is unusable (its
 * descriptor exchange is still posted and MPI cannot cancel a collective):
 * every later collective fails at once, saying why. */
#ifndef TFC_DISTRIBUTED_COLLECTIVES_H
#define TFC_DISTRIBUTED_COLLECTIVES_H

#include <stddef.h>

#include "core/status.h"
#include "core/tensor.h"

typedef enum tfc_coll_kind {
    /* out[i] = reduce over ranks of in[i] (MPI_Allreduce on fused buffers) */
    TFC_COLL_ALLREDUCE = 1,
    /* deterministic: `shards` local shards per rank, in[j * n + i] is shard
     * j's tensor i; out[i] = the shards' sum in global shard order */
    TFC_COLL_ORDERED = 2,
    /* out[i] = root's in[i] (any plain dtype, mixed) */
    TFC_COLL_BROADCAST = 3
} tfc_coll_kind;

typedef struct tfc_coll_request tfc_coll_request;
struct tfc_coll_request {
    tfc_coll_kind kind;
    const char *name;  /* the node's name: the handshake compares it */
    const char *type;  /* the op type, for messages */
    int n;             /* outputs; inputs are n * shards */
    int shards;        /* ORDERED: local shards (>= 1); else 1 */
    tfc_tensor **in;   /* borrowed: the submitter keeps them alive */
    tfc_tensor **out;  /* allocated by the submitter, filled by the engine */
    int average;       /* ALLREDUCE, ORDERED: divide by the contributions */
    double prescale, postscale; /* ALLREDUCE only (1.0: none) */
    int root;          /* BROADCAST */
    /* Called once on the worker thread when the request ended (status
     * says how); the request is the submitter's again. */
    void (*done)(tfc_coll_request *r);
    void *user;
    tfc_status status;
    /* the engine's */
    tfc_coll_request *next;
    int state;
};

/* Called by tfc_mpi_init / tfc_mpi_finalize: takes the engine's
 * communicator (collective, at a point every rank reaches in the same
 * order), and stops the worker and drops the buffers. */
int tfc_collectives_init(tfc_status *status);
void tfc_collectives_shutdown(void);

/* Queues `r` for the worker. When the engine cannot take it (MPI not
 * initialized, a past timeout, out of memory) r->done runs now, on this
 * thread, with the error in r->status. */
void tfc_coll_submit(tfc_coll_request *r);
/* Takes `r` back if the worker has not started it: 1 (then r->done is
 * never called), else 0 (it runs to its end and r->done is called). */
int tfc_coll_cancel(tfc_coll_request *r);
/* Submits `r` and waits for its end; 0 or -1 with `status` set. r->done
 * must be NULL (the engine sets its own). */
int tfc_coll_run(tfc_coll_request *r, tfc_status *status);

/* The fused-buffer size in bytes (tfc_allreduce_set_fusion_threshold). */
size_t tfc_coll_fusion_threshold(void);

#endif
