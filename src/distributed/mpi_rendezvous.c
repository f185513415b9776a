/* The MPI rendezvous: src/device/rendezvous.h's interface for a step that
 * spans processes. Each process keeps, per step under way, a local
 * rendezvous where values meet their receivers; a send whose key names a
 * device of another task (the key's third field, "/job:J/.../task:K/...")
 * goes over MPI instead, and the progress thread delivers what arrives
 * into the step's local rendezvous, so send and receive still meet in
 * either order.
 *
 * A tensor on the wire (data communicator): a header message, tag
 * TAG_TENSOR:
 *   u64 step, str key, u8 is_dead, u8 dtype, u8 rank, u64 dims[rank],
 *   u8 mode (0: no value, 1: bytes inline, 2: bytes in their own message),
 *   u32 payload tag, u64 nbytes, [nbytes inline when mode 1]
 * Numbers travel as their bytes; strings packed as (u64 len, bytes) per
 * element. Tensors over TFC_INLINE_TENSOR_BYTES go in a second message
 * sent from the tensor's own buffer (no copy) and received straight into
 * the new tensor's buffer; its tag is unique among the transfers in
 * flight, so concurrent senders never cross their payloads. */
#include "distributed/server.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct step_entry {
    step_entry *next;
    uint64_t step;
    tfc_rendezvous *local;
    int refs;    /* rendezvous objects and deliveries using it */
    int had_run; /* a partition ran on it: free it when the last user goes */
};

typedef struct mpi_rdv {
    tfc_rendezvous base;
    tfc_server *s;
    step_entry *e;
} mpi_rdv;

static int step_done_locked(tfc_server *s, uint64_t step) {
    for (size_t i = 0; i < sizeof s->done_steps / sizeof s->done_steps[0]; i++)
        if (s->done_steps[i] == step && step) return 1;
    return 0;
}

static step_entry *entry_get_locked(tfc_server *s, uint64_t step) {
    for (step_entry *e = s->steps; e; e = e->next)
        if (e->step == step) return e;
    step_entry *e = calloc(1, sizeof *e);
    if (!e) return NULL;
    e->local = tfc_local_rendezvous_new();
    if (!e->local) {
        free(e);
        return NULL;
    }
    e->step = step;
    e->next = s->steps;
    s->steps = e;
    return e;
}

/* Drops one use; the entry goes when unused after a run. s->lock held. */
static void entry_release_locked(tfc_server *s, step_entry *e) {
    if (--e->refs > 0 || !e->had_run) return;
    for (step_entry **pp = &s->steps; *pp; pp = &(*pp)->next)
        if (*pp == e) {
            *pp = e->next;
            break;
        }
    s->done_steps[s->done_pos] = e->step;
    s->done_pos = (s->done_pos + 1) % (int)(sizeof s->done_steps / sizeof s->done_steps[0]);
    tfc_rendezvous_free(e->local);
    free(e);
}

/* The receiving rank of a key "src;inc;dst;name;frame:iter". */
static int key_dst_rank(const tfc_server *s, const char *key) {
    const char *p = strchr(key, ';');
    if (p) p = strchr(p + 1, ';');
    if (!p) return -1;
    char dev[256];
    size_t n = strcspn(p + 1, ";");
    if (n >= sizeof dev) return -1;
    memcpy(dev, p + 1, n);
    dev[n] = '\0';
    return tfc_cluster_rank_of_device(s->cluster, dev);
}

static int rdv_send(tfc_rendezvous *r, const char *key, tfc_tensor *value, int is_dead,
                    tfc_status *st) {
    mpi_rdv *m = (mpi_rdv *)r;
    int dst = key_dst_rank(m->s, key);
    if (dst < 0) {
        tfc_tensor_free(value);
        tfc_status_set(st, TFC_INVALID_ARGUMENT,
                       "rendezvous key '%s' names no task of the cluster as its receiver", key);
        return -1;
    }
    if (dst == m->s->rank) return tfc_rendezvous_send(m->e->local, key, value, is_dead, st);
    return srv_send_tensor(m->s, dst, m->e->step, key, value, is_dead, st);
}

static void rdv_recv_async(tfc_rendezvous *r, const char *key, tfc_recv_done_fn done,
                           void *arg) {
    mpi_rdv *m = (mpi_rdv *)r;
    tfc_rendezvous_recv_async(m->e->local, key, done, arg);
}

static void rdv_abort(tfc_rendezvous *r, const tfc_status *st) {
    mpi_rdv *m = (mpi_rdv *)r;
    tfc_rendezvous_abort(m->e->local, st);
}

static void rdv_free(tfc_rendezvous *r) {
    mpi_rdv *m = (mpi_rdv *)r;
    pthread_mutex_lock(&m->s->lock);
    entry_release_locked(m->s, m->e);
    pthread_mutex_unlock(&m->s->lock);
    free(m);
}

static const tfc_rendezvous_ops mpi_rdv_ops = {rdv_send, rdv_recv_async, rdv_abort, rdv_free};

tfc_rendezvous *srv_step_rendezvous(tfc_server *s, uint64_t step, tfc_status *st) {
    mpi_rdv *m = calloc(1, sizeof *m);
    if (!m) goto oom;
    pthread_mutex_lock(&s->lock);
    step_entry *e = entry_get_locked(s, step);
    if (e) {
        e->refs++;
        e->had_run = 1;
    }
    pthread_mutex_unlock(&s->lock);
    if (!e) goto oom;
    m->base.ops = &mpi_rdv_ops;
    m->s = s;
    m->e = e;
    return &m->base;
oom:
    free(m);
    tfc_status_set(st, TFC_RESOURCE_EXHAUSTED, "out of memory making a step's rendezvous");
    return NULL;
}

void srv_step_deliver(tfc_server *s, uint64_t step, const char *key, tfc_tensor *value,
                      int is_dead) {
    pthread_mutex_lock(&s->lock);
    step_entry *e = step_done_locked(s, step) ? NULL : entry_get_locked(s, step);
    if (e) e->refs++;
    pthread_mutex_unlock(&s->lock);
    if (!e) {
        /* a step that ended here (aborted, most likely): nobody waits */
        tfc_tensor_free(value);
        return;
    }
    tfc_status st;
    tfc_rendezvous_send(e->local, key, value, is_dead, &st);
    pthread_mutex_lock(&s->lock);
    entry_release_locked(s, e);
    pthread_mutex_unlock(&s->lock);
}

void srv_step_abort(tfc_server *s, uint64_t step, const tfc_status *st) {
    pthread_mutex_lock(&s->lock);
    step_entry *e = step_done_locked(s, step) ? NULL : entry_get_locked(s, step);
    if (e) e->refs++;
    pthread_mutex_unlock(&s->lock);
    if (!e) return;
    tfc_rendezvous_abort(e->local, st);
    pthread_mutex_lock(&s->lock);
    entry_release_locked(s, e);
    pthread_mutex_unlock(&s->lock);
}

void srv_steps_abort_all(tfc_server *s, const tfc_status *st) {
    /* by id, outside the lock: an abort runs the receivers' callbacks */
    pthread_mutex_lock(&s->lock);
    int n = 0;
    for (step_entry *e = s->steps; e; e = e->next) n++;
    uint64_t *ids = malloc(((size_t)n + 1) * sizeof *ids);
    int k = 0;
    for (step_entry *e = s->steps; e && ids; e = e->next) ids[k++] = e->step;
    pthread_mutex_unlock(&s->lock);
    for (int i = 0; i < k; i++) srv_step_abort(s, ids[i], st);
    free(ids);
}

void srv_steps_free(tfc_server *s) {
    while (s->steps) {
        step_entry *e = s->steps;
        s->steps = e->next;
        tfc_rendezvous_free(e->local);
        free(e);
    }
}

/* ---- tensors on the wire ------------------------------------------------ */

int tensor_wire_bytes(const tfc_tensor *t, const void **bytes, size_t *n, void **packed) {
    *packed = NULL;
    if (t->dtype != TFC_STRING) {
        *bytes = t->data;
        *n = t->nbytes;
        return 0;
    }
    size_t total = 0;
    for (int64_t i = 0; i < t->nelem; i++) total += 8 + tfc_string_at(t, i).len;
    uint8_t *p = malloc(total ? total : 1);
    if (!p) return -1;
    size_t off = 0;
    for (int64_t i = 0; i < t->nelem; i++) {
        tfc_string v = tfc_string_at(t, i);
        uint64_t len = v.len;
        memcpy(p + off, &len, 8);
        off += 8;
        if (len) memcpy(p + off, v.data, v.len);
        off += v.len;
    }
    *packed = p;
    *bytes = p;
    *n = total;
    return 0;
}

int tensor_unpack_strings(tfc_tensor *t, const uint8_t *p, size_t n) {
    size_t off = 0;
    for (int64_t i = 0; i < t->nelem; i++) {
        uint64_t len;
        if (n - off < 8) return -1;
        memcpy(&len, p + off, 8);
        off += 8;
        if (len > n - off) return -1;
        if (len && tfc_string_set(t, i, p + off, (size_t)len)) return -1;
        off += (size_t)len;
    }
    return off == n ? 0 : -1;
}

int srv_send_tensor(tfc_server *s, int dst, uint64_t step, const char *key, tfc_tensor *value,
                    int is_dead, tfc_status *st) {
    wire_buf b = {0};
    const void *bytes = NULL;
    size_t n = 0;
    void *packed = NULL;
    if (value && value->dtype == TFC_RESOURCE) {
        tfc_tensor_free(value);
        tfc_status_set(st, TFC_UNIMPLEMENTED,
                       "a resource handle cannot cross tasks (%s); keep its users on its task",
                       key);
        return -1;
    }
    if (value && !is_dead && tensor_wire_bytes(value, &bytes, &n, &packed)) {
        tfc_tensor_free(value);
        tfc_status_set(st, TFC_RESOURCE_EXHAUSTED, "out of memory sending %s", key);
        return -1;
    }
    int mode = !value || is_dead ? 0 : n <= TFC_INLINE_TENSOR_BYTES ? 1 : 2;
    int tag = 0;
    if (mode == 2) {
        /* tags from TAG_PAYLOAD_BASE up, wrapping well below MPI's bound
         * (at least 32767) */
        static atomic_uint counter; /* per process: no two servers' tags meet */
        tag = TAG_PAYLOAD_BASE + (int)(atomic_fetch_add(&counter, 1) % 30000u);
    }
    wire_u64(&b, step);
    wire_str(&b, key);
    wire_u8(&b, (uint8_t)(is_dead != 0));
    wire_u8(&b, (uint8_t)(value ? value->dtype : 0));
    wire_u8(&b, (uint8_t)(value ? value->rank : 0));
    for (int i = 0; value && i < value->rank; i++) wire_u64(&b, (uint64_t)value->dims[i]);
    wire_u8(&b, (uint8_t)mode);
    wire_u32(&b, (uint32_t)tag);
    wire_u64(&b, (uint64_t)n);
    if (mode == 1) wire_put(&b, bytes, n);
    if (b.oom) {
        free(b.p);
        free(packed);
        tfc_tensor_free(value);
        tfc_status_set(st, TFC_RESOURCE_EXHAUSTED, "out of memory sending %s", key);
        return -1;
    }
    if (mode != 2) {
        free(packed);
        tfc_tensor_free(value);
        return srv_send(s, dst, 0, TAG_TENSOR, b.p, b.n, b.p, NULL, st);
    }
    if (srv_send(s, dst, 0, TAG_TENSOR, b.p, b.n, b.p, NULL, st)) {
        free(packed);
        tfc_tensor_free(value);
        return -1;
    }
    /* the payload from the tensor's own buffer (or the packed strings) */
    if (packed) {
        tfc_tensor_free(value);
        return srv_send(s, dst, 0, tag, bytes, n, packed, NULL, st);
    }
    return srv_send(s, dst, 0, tag, bytes, n, NULL, value, st);
}

void srv_on_tensor_header(tfc_server *s, int src, const uint8_t *msg, size_t len) {
    wire_rd r = {msg, len, 0, 0};
    uint64_t step = wire_get_u64(&r);
    char *key = wire_get_str(&r);
    int is_dead = wire_get_u8(&r);
    tfc_dtype dtype = (tfc_dtype)wire_get_u8(&r);
    int rank = wire_get_u8(&r);
    int64_t dims[TFC_MAX_RANK] = {0};
    for (int i = 0; i < rank && i < TFC_MAX_RANK; i++) dims[i] = (int64_t)wire_get_u64(&r);
    int mode = wire_get_u8(&r);
    int tag = (int)wire_get_u32(&r);
    uint64_t n = wire_get_u64(&r);
    tfc_status st;
    if (!key || r.bad || rank > TFC_MAX_RANK) {
        free(key);
        return; /* a malformed header: nothing to deliver it to */
    }
    if (mode == 0) {
        srv_step_deliver(s, step, key, NULL, is_dead);
        free(key);
        return;
    }
    tfc_tensor *t = dtype == TFC_STRING ? tfc_tensor_new(dtype, rank, dims)
                                        : tfc_tensor_alloc(dtype, rank, dims);
    if (!t || (dtype != TFC_STRING && t->nbytes != n)) {
        tfc_tensor_free(t);
        tfc_status_set(&st, TFC_DATA_LOSS,
                       "a tensor for %s from rank %d does not fit its header (dtype %d)", key,
                       src, (int)dtype);
        srv_step_abort(s, step, &st);
        free(key);
        return;
    }
    if (mode == 1) {
        const void *p = wire_take(&r, (size_t)n);
        int bad = !p || (dtype == TFC_STRING ? tensor_unpack_strings(t, p, (size_t)n) != 0
                                             : (memcpy(t->data, p, (size_t)n), 0));
        if (bad) {
            tfc_tensor_free(t);
            tfc_status_set(&st, TFC_DATA_LOSS, "a corrupt tensor arrived for %s", key);
            srv_step_abort(s, step, &st);
        } else {
            srv_step_deliver(s, step, key, t, 0);
        }
        free(key);
        return;
    }
    /* mode 2: receive the payload straight into the tensor's buffer */
    pending_req *p = calloc(1, sizeof *p);
    uint8_t *packed = dtype == TFC_STRING ? malloc((size_t)n + 1) : NULL;
    if (!p || (dtype == TFC_STRING && !packed) || n > (uint64_t)INT32_MAX) {
        free(p);
        free(packed);
        tfc_tensor_free(t);
        tfc_status_set(&st, TFC_RESOURCE_EXHAUSTED, "cannot receive %s (%llu bytes)", key,
                       (unsigned long long)n);
        srv_step_abort(s, step, &st);
        free(key);
        return;
    }
    p->recv = 1;
    p->peer = src;
    p->step = step;
    p->key = key;
    p->value = t;
    p->packed = packed;
    p->packed_len = (size_t)n;
    void *dst = packed ? (void *)packed : t->data;
    if (MPI_Irecv(dst, (int)n, MPI_BYTE, src, tag, s->data, &p->req) != MPI_SUCCESS) {
        tfc_status_set(&st, TFC_INTERNAL, "MPI_Irecv failed for %s", key);
        srv_step_abort(s, step, &st);
        p->value = NULL;
        tfc_tensor_free(t);
        free(packed);
        p->packed = NULL;
        free(p->key);
        free(p);
        return;
    }
    srv_add_pending(s, p);
}
