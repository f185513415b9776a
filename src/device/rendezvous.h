/* The rendezvous: where a _Send leaves a tensor and a _Recv picks it up.
 *
 * A key is TensorFlow's (Rendezvous::CreateKey): the sending device, its
 * incarnation, the receiving device, the tensor's edge name, and the frame
 * and iteration, written
 *   "/job:localhost/replica:0/task:0/device:CPU:0;4f2a...;/job:.../CPU:1;edge_3_MatMul;0:0".
 * A value may carry is_dead (the tensor of a branch that did not run) and
 * then crosses as dead. Send and receive meet in either order; each key is
 * used once per step (one rendezvous per step). Abort fails every waiting
 * and later receive with the given status, so that an error in one
 * partition stops the others.
 *
 * The rendezvous is an interface (a table of functions): the local one
 * below serves partitions in one process; the distributed runtime's will
 * send across processes behind the same calls. */
#ifndef TFC_DEVICE_RENDEZVOUS_H
#define TFC_DEVICE_RENDEZVOUS_H

#include "core/status.h"
#include "core/tensor.h"

#include <stdint.h>

typedef struct tfc_rendezvous tfc_rendezvous;

/* Called once per receive: with `st` OK, `value` (a reference the callee
 * takes over; NULL when dead or for a control edge) and is_dead; else with
 * the abort status and no value. May run in the sender's thread. */
typedef void (*tfc_recv_done_fn)(void *arg, const tfc_status *st, tfc_tensor *value,
                                 int is_dead);

typedef struct tfc_rendezvous_ops {
    /* Takes over one reference to `value` (may be NULL). 0, or -1 with st
     * set (aborted, or the key was sent twice). */
    int (*send)(tfc_rendezvous *r, const char *key, tfc_tensor *value, int is_dead,
                tfc_status *st);
    void (*recv_async)(tfc_rendezvous *r, const char *key, tfc_recv_done_fn done, void *arg);
    void (*abort)(tfc_rendezvous *r, const tfc_status *st);
    void (*free)(tfc_rendezvous *r);
} tfc_rendezvous_ops;

struct tfc_rendezvous {
    const tfc_rendezvous_ops *ops;
};

/* TensorFlow's key string into buf[cap]; returns its length (as snprintf). */
int tfc_rendezvous_key(char *buf, size_t cap, const char *src_device, uint64_t src_incarnation,
                       const char *dst_device, const char *tensor_name, int64_t frame_id,
                       int64_t iter_id);

/* The in-process rendezvous (one per step); free it with r->ops->free. */
tfc_rendezvous *tfc_local_rendezvous_new(void);

static inline int tfc_rendezvous_send(tfc_rendezvous *r, const char *key, tfc_tensor *value,
                                      int is_dead, tfc_status *st) {
    return r->ops->send(r, key, value, is_dead, st);
}
static inline void tfc_rendezvous_recv_async(tfc_rendezvous *r, const char *key,
                                             tfc_recv_done_fn done, void *arg) {
    r->ops->recv_async(r, key, done, arg);
}
static inline void tfc_rendezvous_abort(tfc_rendezvous *r, const tfc_status *st) {
    r->ops->abort(r, st);
}
static inline void tfc_rendezvous_free(tfc_rendezvous *r) {
    if (r) r->ops->free(r);
}

#endif
