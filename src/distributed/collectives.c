/* The collective engine (see collectives.h): a FIFO of requests, one
 * worker thread, a descriptor handshake per collective, then the payload on
 * fused buffers of at most the fusion threshold.
 *
 * Payloads:
 *  - ALLREDUCE: the inputs are packed one after the other into the fusion
 *    buffer and reduced with MPI_Allreduce(MPI_SUM), one call per buffer
 *    (a single tensor is reduced straight from input to output). The sum's
 *    order is MPI's own: it may change with the number of ranks.
 *  - ORDERED (deterministic): a reduce-scatter whose order tfc fixes. Each
 *    window of the fused elements is cut into one slice per rank; an
 *    MPI_Alltoallv gives every rank all S = ranks * shards contributions
 *    to its slice, in global shard order; the rank sums them left to right
 *    (((c0 + c1) + c2) + ...), divides by S when averaging, and an
 *    MPI_Allgatherv gives everyone the whole window. Each element is then
 *    the same left-to-right sum over the same S shards whatever the number
 *    of ranks, the slice cuts and the window size, and it moves about as
 *    many bytes as a ring allreduce: (shards + 1) (N - 1) / N times the
 *    buffer per rank.
 *  - BROADCAST: the inputs' bytes, packed, MPI_Bcast from the root. */
#include "distributed/collectives.h"

#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "distributed/mpi_world.h"

enum { QUEUED = 1, RUNNING = 2 };
enum { NAME_LEN = 72, TYPE_LEN = 32 };

/* What a rank is about to run; every rank must send the same. */
typedef struct coll_desc {
    uint64_t seq;  /* collectives run so far on this rank */
    uint64_t sig;  /* hash of everything below and of the whole name */
    int32_t kind, dtype, n, shards, root, average;
    int64_t elems; /* elements (bytes for BROADCAST) per shard */
    char name[NAME_LEN];
    char type[TYPE_LEN];
} coll_desc;

static struct engine {
    pthread_mutex_t lock; /* the fields below; the worker alone uses the buffers */
    pthread_cond_t cond;
    MPI_Comm comm;
    int have_comm, rank, size;
    pthread_t thread;
    int thread_started, stopping;
    tfc_coll_request *head, *tail;
    uint64_t seq;
    int broken; /* a handshake timed out: see collectives.h */
    char broken_msg[sizeof(((tfc_status *)0)->msg) + 80];
    void *stale; /* the descriptors of the exchange left posted */
    /* the worker's fusion buffers, grown as needed */
    void *buf[3];
    size_t cap[3];
} E = {.lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER};

/* set by the program's thread, read by the engine's */
static _Atomic double timeout_s = 300.0;
static _Atomic size_t fusion_threshold = (size_t)64 << 20;

void tfc_collective_set_timeout(double seconds) {
    if (seconds > 0) atomic_store(&timeout_s, seconds);
}

void tfc_allreduce_set_fusion_threshold(size_t bytes) {
    atomic_store(&fusion_threshold, bytes ? bytes : (size_t)64 << 20);
}

size_t tfc_coll_fusion_threshold(void) { return atomic_load(&fusion_threshold); }

int tfc_collectives_init(tfc_status *status) {
    const char *t = getenv("TFC_COLLECTIVE_TIMEOUT");
    if (t && atof(t) > 0) atomic_store(&timeout_s, atof(t));
    const char *f = getenv("TFC_FUSION_THRESHOLD");
    if (f && strtoull(f, NULL, 10) > 0)
        atomic_store(&fusion_threshold, (size_t)strtoull(f, NULL, 10));
    pthread_mutex_lock(&E.lock);
    int had = E.have_comm;
    pthread_mutex_unlock(&E.lock);
    if (had) return 1;
    MPI_Comm comm;
    if (!tfc_mpi_comm_dup("collectives", &comm, status)) return 0;
    pthread_mutex_lock(&E.lock);
    E.comm = comm;
    MPI_Comm_rank(comm, &E.rank);
    MPI_Comm_size(comm, &E.size);
    E.have_comm = 1;
    E.broken = 0;
    E.seq = 0;
    pthread_mutex_unlock(&E.lock);
    return 1;
}

void tfc_collectives_shutdown(void) {
    pthread_mutex_lock(&E.lock);
    int started = E.thread_started;
    E.stopping = 1;
    pthread_cond_broadcast(&E.cond);
    pthread_mutex_unlock(&E.lock);
    if (started) pthread_join(E.thread, NULL);
    pthread_mutex_lock(&E.lock);
    E.thread_started = 0;
    E.stopping = 0;
    E.have_comm = 0; /* tfc_mpi_finalize frees the communicator */
    for (int i = 0; i < 3; i++) {
        free(E.buf[i]);
        E.buf[i] = NULL;
        E.cap[i] = 0;
    }
    pthread_mutex_unlock(&E.lock);
}

/* ---- helpers ---- */

static MPI_Datatype mpi_type(tfc_dtype dt) {
    switch (dt) {
    case TFC_FLOAT: return MPI_FLOAT;
    case TFC_DOUBLE: return MPI_DOUBLE;
    case TFC_INT32: return MPI_INT32_T;
    case TFC_INT64: return MPI_INT64_T;
    default: return MPI_DATATYPE_NULL;
    }
}

static uint64_t fnv(uint64_t h, const void *p, size_t n) {
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++) h = (h ^ b[i]) * 1099511628211ull;
    return h;
}

static void *buffer(int i, size_t bytes) {
    if (bytes > E.cap[i]) {
        void *p = realloc(E.buf[i], bytes);
        if (!p) return NULL;
        E.buf[i] = p;
        E.cap[i] = bytes;
    }
    return E.buf[i] ? E.buf[i] : (E.buf[i] = malloc(1));
}

static int64_t per_shard_units(const tfc_coll_request *r) {
    int64_t e = 0;
    for (int i = 0; i < r->n; i++)
        e += r->kind == TFC_COLL_BROADCAST ? (int64_t)r->in[i]->nbytes : r->in[i]->nelem;
    return e;
}

static void describe(const coll_desc *d, char *out, size_t n) {
    if (d->kind == TFC_COLL_BROADCAST)
        snprintf(out, n, "'%s' (%s, %lld bytes from rank %d)", d->name, d->type,
                 (long long)d->elems, d->root);
    else
        snprintf(out, n, "'%s' (%s, %d tensors x %d shards, %lld %s)", d->name, d->type, d->n,
                 d->shards, (long long)d->elems, tfc_dtype_name((tfc_dtype)d->dtype));
}

/* Waits for `req` with MPI_Test until it completes (1) or the deadline
 * passes (0). Spins briefly, then sleeps a little between tests, so that a
 * rank waiting for a slow peer leaves the cores to the peer. */
static int wait_deadline(MPI_Request *req, double seconds, int *mpi_rc) {
    int64_t start = tfc_now_ns(), limit = (int64_t)(seconds * 1e9);
    long nap = 0;
    for (;;) {
        int flag = 0;
        *mpi_rc = MPI_Test(req, &flag, MPI_STATUS_IGNORE);
        if (*mpi_rc != MPI_SUCCESS || flag) return 1;
        int64_t waited = tfc_now_ns() - start;
        if (waited > limit) return 0;
        if (waited > 50000) {
            nap = nap < 200000 ? nap + 10000 : 200000;
            struct timespec ts = {0, nap};
            nanosleep(&ts, NULL);
        }
    }
}

/* The handshake: every rank's descriptor, compared with this one's. */
static int handshake(tfc_coll_request *r) {
    coll_desc mine;
    memset(&mine, 0, sizeof mine);
    mine.seq = E.seq;
    mine.kind = r->kind;
    mine.dtype = r->kind == TFC_COLL_BROADCAST ? 0 : (int32_t)r->in[0]->dtype;
    mine.n = r->n;
    mine.shards = r->kind == TFC_COLL_ORDERED ? r->shards : 1;
    mine.root = r->kind == TFC_COLL_BROADCAST ? r->root : 0;
    mine.average = r->average;
    mine.elems = per_shard_units(r);
    snprintf(mine.name, sizeof mine.name, "%s", r->name ? r->name : "?");
    snprintf(mine.type, sizeof mine.type, "%s", r->type ? r->type : "?");
    uint64_t h = 14695981039346656037ull;
    h = fnv(h, &mine.kind, 6 * sizeof(int32_t));
    h = fnv(h, &mine.elems, sizeof mine.elems);
    if (r->name) h = fnv(h, r->name, strlen(r->name));
    for (int i = 0; i < r->n; i++) {
        h = fnv(h, &r->in[i]->nelem, sizeof r->in[i]->nelem);
        h = fnv(h, &r->in[i]->dtype, sizeof r->in[i]->dtype);
    }
    mine.sig = h;
    coll_desc *all = malloc((size_t)E.size * sizeof *all);
    if (!all) {
        tfc_status_set(&r->status, TFC_RESOURCE_EXHAUSTED, "out of memory in %s", r->name);
        return 0;
    }
    MPI_Request req;
    int rc = MPI_Iallgather(&mine, (int)sizeof mine, MPI_BYTE, all, (int)sizeof mine, MPI_BYTE,
                            E.comm, &req);
    double limit = atomic_load(&timeout_s);
    if (rc == MPI_SUCCESS && !wait_deadline(&req, limit, &rc)) {
        char what[200];
        describe(&mine, what, sizeof what);
        tfc_status_set(&r->status, TFC_DEADLINE_EXCEEDED,
                       "collective #%llu %s: not every one of the %d ranks reached it within "
                       "%g s (tfc_collective_set_timeout); a rank stopped, or the ranks run "
                       "different collectives or a different number of them",
                       (unsigned long long)mine.seq, what, E.size, limit);
        /* the exchange stays posted and `all` with it: MPI cannot cancel it */
        pthread_mutex_lock(&E.lock);
        E.broken = 1;
        E.stale = all;
        snprintf(E.broken_msg, sizeof E.broken_msg,
                 "tfc's collectives are unusable after an earlier timeout: %s", r->status.msg);
        pthread_mutex_unlock(&E.lock);
        return 0;
    }
    if (!tfc_mpi_check(rc, "the collective handshake", &r->status)) {
        free(all);
        return 0;
    }
    int bad = 0;
    for (int p = 0; p < E.size; p++)
        if (all[p].sig != mine.sig || all[p].seq != mine.seq) bad++;
    if (bad) {
        /* every rank sees every descriptor, so every rank writes the same */
        char msg[sizeof r->status.msg];
        size_t len = (size_t)snprintf(msg, sizeof msg,
                                      "collective mismatch: the ranks must run the same "
                                      "collectives in the same order, but");
        int shown = 0;
        for (int p = 0; p < E.size && len < sizeof msg; p++) {
            /* list rank 0's, then each rank that differs from the one before */
            if (p > 0 && all[p].sig == all[p - 1].sig && all[p].seq == all[p - 1].seq) continue;
            char what[200];
            describe(&all[p], what, sizeof what);
            len += (size_t)snprintf(msg + len, sizeof msg - len, "%s rank %d runs #%llu %s",
                                    shown++ ? ";" : "", p, (unsigned long long)all[p].seq,
                                    what);
        }
        tfc_status_set(&r->status, TFC_FAILED_PRECONDITION, "%s", msg);
        free(all);
        E.seq++;
        return 0;
    }
    free(all);
    E.seq++;
    return 1;
}

/* Copies units [off, off + len) of the concatenation of ts[0..n) (each
 * `unit` bytes per element; BROADCAST counts bytes) to or from `buf`. */
static void window_copy(tfc_tensor *const *ts, int n, size_t unit, int64_t off, int64_t len,
                        char *buf, int to_buf) {
    int64_t base = 0;
    for (int i = 0; i < n && len > 0; i++) {
        int64_t count = (int64_t)(ts[i]->nbytes / unit);
        if (off < base + count) {
            int64_t from = off - base, take = count - from < len ? count - from : len;
            char *t = (char *)ts[i]->data + (size_t)from * unit;
            if (to_buf)
                memcpy(buf, t, (size_t)take * unit);
            else
                memcpy(t, buf, (size_t)take * unit);
            buf += (size_t)take * unit;
            off += take;
            len -= take;
        }
        base += count;
    }
}

/* x = x * pre (when pre != 1), in the element type */
static void scale(void *p, int64_t n, tfc_dtype dt, double f) {
    if (f == 1.0) return;
    if (dt == TFC_FLOAT) {
        float *x = p, s = (float)f;
        for (int64_t i = 0; i < n; i++) x[i] *= s;
    } else if (dt == TFC_DOUBLE) {
        double *x = p;
        for (int64_t i = 0; i < n; i++) x[i] *= f;
    } else if (dt == TFC_INT32) {
        int32_t *x = p;
        for (int64_t i = 0; i < n; i++) x[i] = (int32_t)(x[i] * f);
    } else {
        int64_t *x = p;
        for (int64_t i = 0; i < n; i++) x[i] = (int64_t)((double)x[i] * f);
    }
}

/* x = x / d: averaging divides (rather than multiplying by 1/d) so that it
 * is one rounding that a single process can repeat. */
static void divide(void *p, int64_t n, tfc_dtype dt, int d) {
    if (d == 1) return;
    if (dt == TFC_FLOAT) {
        float *x = p, s = (float)d;
        for (int64_t i = 0; i < n; i++) x[i] /= s;
    } else if (dt == TFC_DOUBLE) {
        double *x = p, s = (double)d;
        for (int64_t i = 0; i < n; i++) x[i] /= s;
    } else if (dt == TFC_INT32) {
        int32_t *x = p;
        for (int64_t i = 0; i < n; i++) x[i] /= d;
    } else {
        int64_t *x = p;
        for (int64_t i = 0; i < n; i++) x[i] /= d;
    }
}

/* The window's length in units: the fusion threshold, at least one unit,
 * and small enough for MPI's int counts when multiplied by `mult`. */
static int64_t window_units(size_t unit, int mult) {
    int64_t w = (int64_t)(atomic_load(&fusion_threshold) / unit);
    if (w < 1) w = 1;
    if (w > INT_MAX / mult) w = INT_MAX / mult;
    return w;
}

static int run_allreduce(tfc_coll_request *r) {
    tfc_dtype dt = r->in[0]->dtype;
    MPI_Datatype mt = mpi_type(dt);
    size_t unit = tfc_dtype_size(dt);
    int64_t total = per_shard_units(r);
    int64_t w = window_units(unit, 1);
    if (r->n == 1 && r->prescale == 1.0 && total <= w) {
        /* one tensor: straight from the input to the output */
        if (!tfc_mpi_check(MPI_Allreduce(r->in[0]->data, r->out[0]->data, (int)total, mt,
                                         MPI_SUM, E.comm),
                           r->name, &r->status))
            return 0;
        if (r->average) divide(r->out[0]->data, total, dt, E.size);
        scale(r->out[0]->data, total, dt, r->postscale);
        return 1;
    }
    if (w > total) w = total;
    char *buf = buffer(0, (size_t)(w > 0 ? w : 1) * unit);
    if (!buf) {
        tfc_status_set(&r->status, TFC_RESOURCE_EXHAUSTED, "%s: out of memory for the fusion "
                       "buffer", r->name);
        return 0;
    }
    for (int64_t off = 0; off < total; off += w) {
        int64_t len = total - off < w ? total - off : w;
        window_copy(r->in, r->n, unit, off, len, buf, 1);
        scale(buf, len, dt, r->prescale);
        if (!tfc_mpi_check(MPI_Allreduce(MPI_IN_PLACE, buf, (int)len, mt, MPI_SUM, E.comm),
                           r->name, &r->status))
            return 0;
        if (r->average) divide(buf, len, dt, E.size);
        scale(buf, len, dt, r->postscale);
        window_copy(r->out, r->n, unit, off, len, buf, 0);
    }
    return 1;
}

/* acc = c[0]; acc += c[s] for s = 1..S-1, element by element. */
static void fold(void *acc, const char *c, int64_t len, int S, tfc_dtype dt) {
    size_t unit = tfc_dtype_size(dt);
    memcpy(acc, c, (size_t)len * unit);
    for (int s = 1; s < S; s++) {
        const char *x = c + (size_t)s * (size_t)len * unit;
        if (dt == TFC_FLOAT) {
            float *a = acc;
            const float *b = (const float *)x;
            for (int64_t e = 0; e < len; e++) a[e] = a[e] + b[e];
        } else if (dt == TFC_DOUBLE) {
            double *a = acc;
            const double *b = (const double *)x;
            for (int64_t e = 0; e < len; e++) a[e] = a[e] + b[e];
        } else if (dt == TFC_INT32) {
            int32_t *a = acc;
            const int32_t *b = (const int32_t *)x;
            for (int64_t e = 0; e < len; e++) a[e] = a[e] + b[e];
        } else {
            int64_t *a = acc;
            const int64_t *b = (const int64_t *)x;
            for (int64_t e = 0; e < len; e++) a[e] = a[e] + b[e];
        }
    }
}

static int run_ordered(tfc_coll_request *r) {
    tfc_dtype dt = r->in[0]->dtype;
    MPI_Datatype mt = mpi_type(dt);
    size_t unit = tfc_dtype_size(dt);
    int N = E.size, k = r->shards, S = N * k;
    int64_t total = per_shard_units(r);
    int64_t w = window_units(unit, k + 1);
    if (w > total) w = total;
    int *counts = malloc(4 * (size_t)N * sizeof *counts);
    char *send = buffer(0, (size_t)(w > 0 ? w : 1) * (size_t)k * unit);
    char *recv = buffer(1, ((size_t)(w > 0 ? w : 1) / (size_t)N + 1) * (size_t)S * unit);
    char *whole = buffer(2, (size_t)(w > 0 ? w : 1) * unit);
    if (!counts || !send || !recv || !whole) {
        free(counts);
        tfc_status_set(&r->status, TFC_RESOURCE_EXHAUSTED, "%s: out of memory for the fusion "
                       "buffers", r->name);
        return 0;
    }
    int *scount = counts, *sdispl = counts + N, *rcount = counts + 2 * N, *rdispl = counts + 3 * N;
    int ok = 1;
    for (int64_t off = 0; ok && off < total; off += w) {
        int64_t len = total - off < w ? total - off : w;
        /* slice q of the window: [lo(q), lo(q + 1)) */
#define LO(q) ((len * (int64_t)(q)) / N)
        int64_t mine = LO(E.rank + 1) - LO(E.rank);
        int64_t at = 0;
        for (int q = 0; q < N; q++) {
            int64_t c = LO(q + 1) - LO(q);
            scount[q] = (int)(c * k);
            sdispl[q] = (int)at;
            for (int j = 0; j < k; j++) {
                window_copy(r->in + (size_t)j * (size_t)r->n, r->n, unit, off + LO(q), c,
                            send + (size_t)at * unit, 1);
                at += c;
            }
            rcount[q] = (int)(mine * k);
            rdispl[q] = (int)(mine * k * q);
        }
        /* recv holds global shard s = p * k + j at [s * mine, (s + 1) * mine) */
        ok = tfc_mpi_check(MPI_Alltoallv(send, scount, sdispl, mt, recv, rcount, rdispl, mt,
                                         E.comm),
                           r->name, &r->status);
        if (!ok) break;
        char *acc = whole + (size_t)LO(E.rank) * unit;
        if (mine > 0) {
            /* acc is part of `whole`, which the gather below fills */
            char *tmp = send; /* free now: the exchange is over */
            fold(tmp, recv, mine, S, dt);
            if (r->average) divide(tmp, mine, dt, S);
            memcpy(acc, tmp, (size_t)mine * unit);
        }
        for (int q = 0; q < N; q++) {
            rcount[q] = (int)(LO(q + 1) - LO(q));
            rdispl[q] = (int)LO(q);
        }
#undef LO
        ok = tfc_mpi_check(MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, whole, rcount,
                                          rdispl, mt, E.comm),
                           r->name, &r->status);
        if (ok) window_copy(r->out, r->n, unit, off, len, whole, 0);
    }
    free(counts);
    return ok;
}

static int run_broadcast(tfc_coll_request *r) {
    int64_t total = per_shard_units(r);
    int64_t w = window_units(1, 1);
    if (w > total) w = total;
    char *buf = buffer(0, (size_t)(w > 0 ? w : 1));
    if (!buf) {
        tfc_status_set(&r->status, TFC_RESOURCE_EXHAUSTED, "%s: out of memory for the fusion "
                       "buffer", r->name);
        return 0;
    }
    for (int64_t off = 0; off < total; off += w) {
        int64_t len = total - off < w ? total - off : w;
        if (E.rank == r->root) window_copy(r->in, r->n, 1, off, len, buf, 1);
        if (!tfc_mpi_check(MPI_Bcast(buf, (int)len, MPI_BYTE, r->root, E.comm), r->name,
                           &r->status))
            return 0;
        window_copy(r->out, r->n, 1, off, len, buf, 0);
    }
    return 1;
}

static void execute(tfc_coll_request *r) {
    if (!handshake(r)) return;
    if (r->kind == TFC_COLL_ALLREDUCE)
        run_allreduce(r);
    else if (r->kind == TFC_COLL_ORDERED)
        run_ordered(r);
    else
        run_broadcast(r);
}

static void *worker(void *arg) {
    (void)arg;
    pthread_mutex_lock(&E.lock);
    for (;;) {
        while (!E.head && !E.stopping) pthread_cond_wait(&E.cond, &E.lock);
        if (!E.head) break;
        tfc_coll_request *r = E.head;
        E.head = r->next;
        if (!E.head) E.tail = NULL;
        r->state = RUNNING;
        int broken = E.broken;
        char msg[sizeof E.broken_msg];
        memcpy(msg, E.broken_msg, sizeof msg);
        pthread_mutex_unlock(&E.lock);
        if (broken)
            tfc_status_set(&r->status, TFC_FAILED_PRECONDITION, "%s: %s", r->name, msg);
        else
            execute(r);
        r->done(r);
        pthread_mutex_lock(&E.lock);
    }
    pthread_mutex_unlock(&E.lock);
    return NULL;
}

static int check_request(tfc_coll_request *r) {
    if (r->n < 1 || (r->kind == TFC_COLL_ORDERED && r->shards < 1)) {
        tfc_status_set(&r->status, TFC_INVALID_ARGUMENT, "%s: no tensors", r->name);
        return 0;
    }
    int nin = r->n * (r->kind == TFC_COLL_ORDERED ? r->shards : 1);
    for (int i = 0; i < nin; i++) {
        const tfc_tensor *t = r->in[i];
        if (r->kind == TFC_COLL_BROADCAST) {
            if (t->dtype == TFC_STRING || t->dtype == TFC_RESOURCE) {
                tfc_status_set(&r->status, TFC_INVALID_ARGUMENT,
                               "%s: input %d is %s; broadcast moves plain numbers only",
                               r->name, i, tfc_dtype_name(t->dtype));
                return 0;
            }
        } else if (mpi_type(t->dtype) == MPI_DATATYPE_NULL || t->dtype != r->in[0]->dtype) {
            tfc_status_set(&r->status, TFC_INVALID_ARGUMENT,
                           "%s: input %d is %s; expected %s (one of float32, float64, int32, "
                           "int64, the same for all inputs)",
                           r->name, i, tfc_dtype_name(t->dtype),
                           tfc_dtype_name(r->in[0]->dtype));
            return 0;
        }
        if (r->kind == TFC_COLL_ORDERED && i >= r->n && t->nelem != r->in[i % r->n]->nelem) {
            tfc_status_set(&r->status, TFC_INVALID_ARGUMENT,
                           "%s: shard %d's tensor %d has %lld elements, shard 0's %lld", r->name,
                           i / r->n, i % r->n, (long long)t->nelem,
                           (long long)r->in[i % r->n]->nelem);
            return 0;
        }
    }
    if (r->kind == TFC_COLL_BROADCAST && (r->root < 0 || r->root >= E.size)) {
        tfc_status_set(&r->status, TFC_INVALID_ARGUMENT,
                       "%s: root rank %d is not in [0, %d)", r->name, r->root, E.size);
        return 0;
    }
    return 1;
}

void tfc_coll_submit(tfc_coll_request *r) {
    r->status.code = TFC_OK;
    r->status.msg[0] = '\0';
    r->next = NULL;
    pthread_mutex_lock(&E.lock);
    const char *why = NULL;
    if (!E.have_comm || E.stopping)
        why = "tfc's collectives need MPI: call tfc_mpi_init first (and not after "
              "tfc_mpi_finalize)";
    else if (E.broken)
        why = E.broken_msg;
    int invalid = !why && !check_request(r);
    if (!why && !invalid && !E.thread_started) {
        if (pthread_create(&E.thread, NULL, worker, NULL) != 0)
            why = "could not start the collectives' thread";
        else
            E.thread_started = 1;
    }
    if (why || invalid) {
        pthread_mutex_unlock(&E.lock);
        if (why) tfc_status_set(&r->status, TFC_FAILED_PRECONDITION, "%s: %s", r->name, why);
        r->done(r);
        return;
    }
    r->state = QUEUED;
    if (E.tail)
        E.tail->next = r;
    else
        E.head = r;
    E.tail = r;
    pthread_cond_broadcast(&E.cond);
    pthread_mutex_unlock(&E.lock);
}

int tfc_coll_cancel(tfc_coll_request *r) {
    pthread_mutex_lock(&E.lock);
    int taken = 0;
    if (r->state == QUEUED) {
        tfc_coll_request **p = &E.head, *prev = NULL;
        while (*p && *p != r) {
            prev = *p;
            p = &(*p)->next;
        }
        if (*p) {
            *p = r->next;
            if (E.tail == r) E.tail = prev;
            taken = 1;
            r->state = 0;
        }
    }
    pthread_mutex_unlock(&E.lock);
    return taken;
}

/* tfc_coll_run: the caller waits on a condition of its own */
typedef struct sync_wait {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int done;
} sync_wait;

static void sync_done(tfc_coll_request *r) {
    sync_wait *w = r->user;
    pthread_mutex_lock(&w->lock);
    w->done = 1;
    pthread_cond_signal(&w->cond);
    pthread_mutex_unlock(&w->lock);
}

int tfc_coll_run(tfc_coll_request *r, tfc_status *status) {
    sync_wait w = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0};
    r->done = sync_done;
    r->user = &w;
    tfc_coll_submit(r);
    pthread_mutex_lock(&w.lock);
    while (!w.done) pthread_cond_wait(&w.cond, &w.lock);
    pthread_mutex_unlock(&w.lock);
    pthread_mutex_destroy(&w.lock);
    pthread_cond_destroy(&w.cond);
    if (r->status.code != TFC_OK) {
        tfc_status_copy(status, &r->status);
        return -1;
    }
    return 0;
}
