/* The server of one task (see docs/DISTRIBUTED.md): its MPI transport (a
 * progress thread that owns every receive, on two communicators of its
 * own), its peers' liveness, the task's store (one graph and one session
 * shared by every master that sends it partitions, so variables on a ps
 * are shared by all workers) and the partitions registered there.
 *
 * Threads: the progress thread receives, completes requests, sends
 * heartbeats and watches peers; any thread may send (MPI_Isend; the
 * request then goes to the progress thread). That needs
 * MPI_THREAD_MULTIPLE, which tfc_mpi_init checks. */
#ifndef TFC_DISTRIBUTED_SERVER_H
#define TFC_DISTRIBUTED_SERVER_H

#include <mpi.h>
#include <pthread.h>
#include <stdatomic.h>

#include "core/status.h"
#include "core/tensor.h"
#include "device/rendezvous.h"
#include "distributed/cluster_spec.h"
#include "distributed/wire.h"
#include "graph/op_registry.h"

/* Control messages (tags on the control communicator). */
enum {
    MSG_HELLO = 1,      /* u64 incarnation: the sender's server started */
    MSG_BYE,            /* the sender's server stopped */
    MSG_HEARTBEAT,      /* nothing: "still here" */
    MSG_REGISTER,       /* a partition (see master.c for the layout) */
    MSG_REGISTER_REPLY, /* u64 handle, u32 code, str message */
    MSG_DEREGISTER,     /* u64 handle */
    MSG_RUN,            /* u64 handle, u64 step */
    MSG_DONE,           /* u64 step, u32 code, str message */
    MSG_ABORT           /* u64 step, u32 code, str message */
};
/* Data messages: a tensor's header (tag TAG_TENSOR), its bytes inline or
 * in a second message of its own tag (>= TAG_PAYLOAD_BASE). */
enum { TAG_TENSOR = 1, TAG_PAYLOAD_BASE = 16 };
/* Tensors up to this many bytes travel inside their header message. */
#define TFC_INLINE_TENSOR_BYTES 8192

/* What a registered partition's feeds and fetches are. */
enum { PART_USER = 0, PART_TRANSFER = 1, PART_DONE = 2 };

typedef struct partition {
    uint64_t handle;
    int master_rank;
    int nfeeds;
    tfc_output *feeds;
    int *feed_kind, *feed_index; /* PART_USER: index among the user's feeds */
    char **feed_keys;            /* PART_TRANSFER: the rendezvous key */
    int nfetches;
    tfc_output *fetches;
    int *fetch_kind, *fetch_index;
    char **fetch_keys;
} partition;

typedef struct part_run part_run;

typedef struct peer {
    int started, gone, lost;
    uint64_t incarnation;
    int64_t last_heard_ns;
    int hb_pending; /* a heartbeat to it is in flight */
} peer;

typedef struct step_entry step_entry;

/* A master waiting for its remote tasks: the progress thread counts their
 * MSG_DONE (or fails it when one of its tasks is lost). */
typedef struct step_waiter {
    struct step_waiter *next;
    uint64_t step;
    int remaining;
    int *ranks; /* the tasks still to answer (-1 once answered) */
    int nranks;
    tfc_status status; /* the first error */
    int failed;
} step_waiter;

typedef struct reg_waiter {
    struct reg_waiter *next;
    uint64_t handle;
    int rank;
    int answered;
    tfc_status status;
} reg_waiter;

typedef struct pending_req pending_req;

struct tfc_server {
    tfc_cluster *cluster;
    char job[128];
    int task, rank, size;
    tfc_server_options opts;
    char device[160];
    char target[200];
    uint64_t incarnation;
    MPI_Comm ctl, data; /* the process's (see comms_get in server.c) */
    /* the progress thread */
    pthread_t thread;
    int thread_running;
    atomic_int stopping;
    /* guarded by lock */
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int started, stopped;
    peer *peers;
    int failed;
    tfc_status failure; /* the lost task, named */
    pending_req *outbox; /* requests issued by other threads */
    step_waiter *step_waiters;
    reg_waiter *reg_waiters;
    int npart, part_cap;
    partition **parts;
    int nruns, run_cap;
    part_run **runs; /* partition runs under way (watched for errors) */
    step_entry *steps;
    uint64_t done_steps[1024]; /* steps ended here: late tensors for them are dropped */
    int done_pos;
    /* the task's store: one graph and session, extended by registrations */
    pthread_mutex_t store_lock;
    tfc_graph *graph;
    tfc_session *sess;
    int nimports;
};

/* Sends `len` bytes at `buf` to rank `dst` on the control (ctl 1) or data
 * communicator. The server frees `owned` (may be NULL) and drops a
 * reference to `hold` (may be NULL) once MPI is done with the bytes. 0, or
 * -1 with st set (`owned` and `hold` are released then too). */
int srv_send(tfc_server *s, int dst, int ctl, int tag, const void *buf, size_t len, void *owned,
             tfc_tensor *hold, tfc_status *st);
/* Sends a wire_buf's bytes (taking over its memory). */
int srv_send_buf(tfc_server *s, int dst, int tag, wire_buf *b, tfc_status *st);
/* "/job:ps/task:0 (rank 0)" into buf. */
const char *srv_task_name(const tfc_server *s, int rank, char *buf, size_t cap);
/* Waits until rank `r`'s server said hello (bounded by start_timeout_ms,
 * saying so on stderr while it waits). 0, or -1 with st set. */
int srv_wait_started(tfc_server *s, int r, tfc_status *st);
/* The server's failure (a lost task) into st; 1 when it has failed. Call
 * with s->lock held. */
int srv_failed_locked(tfc_server *s, tfc_status *st);

/* Partitions (server.c). Registration decodes a MSG_REGISTER body and
 * imports its graph into the store. */
int srv_register(tfc_server *s, int master_rank, const void *msg, size_t len, uint64_t *handle,
                 tfc_status *st);
void srv_deregister(tfc_server *s, uint64_t handle);
/* Starts partition `handle` for `step`. For the master's own task,
 * user_feeds are the run's feed values and user_fetches receives the
 * fetched values; the callback runs once when the partition has ended
 * (status in the run: part_run_status). Remote runs report to their
 * master with MSG_DONE. NULL with st set when it could not start. */
part_run *srv_run_partition(tfc_server *s, uint64_t handle, uint64_t step,
                            tfc_tensor *const *user_feeds, tfc_tensor **user_fetches,
                            void (*done)(void *), void *done_arg, tfc_status *st);
/* Has the run failed already (before its end)? 1 with the error in st. */
int part_run_error(part_run *pr, tfc_status *st);
/* The run's final status (after its done callback) and its release. */
void part_run_finish(part_run *pr, tfc_status *st);

/* Steps (mpi_rendezvous.c): the rendezvous of one step in this process,
 * which sends to other tasks over MPI and receives what they send. */
tfc_rendezvous *srv_step_rendezvous(tfc_server *s, uint64_t step, tfc_status *st);
/* A tensor for `step` arrived (progress thread); takes over `value`. */
void srv_step_deliver(tfc_server *s, uint64_t step, const char *key, tfc_tensor *value,
                      int is_dead);
/* Aborts `step` here (its rendezvous fails every receive with st). */
void srv_step_abort(tfc_server *s, uint64_t step, const tfc_status *st);
/* Aborts every step under way (the server failed). */
void srv_steps_abort_all(tfc_server *s, const tfc_status *st);
void srv_steps_free(tfc_server *s);
/* Sends `value` (a new reference the callee takes over; NULL when dead)
 * under `key` of `step` to rank dst. 0, or -1 with st set. */
int srv_send_tensor(tfc_server *s, int dst, uint64_t step, const char *key, tfc_tensor *value,
                    int is_dead, tfc_status *st);
/* The progress thread's handling of a tensor header: delivers an inline
 * tensor, or posts the receive of its payload. */
void srv_on_tensor_header(tfc_server *s, int src, const uint8_t *msg, size_t len);
/* Encodes a tensor's data for the wire: strings packed (malloc'd into
 * *packed), numbers as they are. */
int tensor_wire_bytes(const tfc_tensor *t, const void **bytes, size_t *n, void **packed);
/* Decodes packed string bytes into string tensor t. 0 or -1. */
int tensor_unpack_strings(tfc_tensor *t, const uint8_t *p, size_t n);

/* A request the progress thread completes (server.c). */
struct pending_req {
    pending_req *next;
    MPI_Request req;
    void *owned;
    tfc_tensor *hold;
    int peer;
    int heartbeat; /* a heartbeat to `peer` */
    /* a tensor payload being received */
    int recv;
    uint64_t step;
    char *key;
    tfc_tensor *value;
    uint8_t *packed; /* string payloads land here, then unpack */
    size_t packed_len;
};
void srv_add_pending(tfc_server *s, pending_req *p);

/* A master session's server and graph (master.c), for the cluster saver. */
tfc_server *cluster_session_server(const tfc_cluster_session *cs);
tfc_graph *cluster_session_graph(const tfc_cluster_session *cs);

#endif
