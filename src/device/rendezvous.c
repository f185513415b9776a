/* Rendezvous keys and the local (in-process) rendezvous: a table from key
 * to an item holding either a sent value waiting for its receiver or a
 * receiver waiting for its value. One rendezvous serves one step. */
#include "device/rendezvous.h"
#include "core/strmap.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

int tfc_rendezvous_key(char *buf, size_t cap, const char *src_device, uint64_t src_incarnation,
                       const char *dst_device, const char *tensor_name, int64_t frame_id,
                       int64_t iter_id) {
    return snprintf(buf, cap, "%s;%016" PRIx64 ";%s;%s;%" PRId64 ":%" PRId64, src_device,
                    src_incarnation, dst_device, tensor_name, frame_id, iter_id);
}

typedef struct item {
    struct item *next_alloc;
    int sent, received;
    tfc_tensor *value;
    int is_dead;
    tfc_recv_done_fn done;
    void *arg;
} item;

typedef struct local_rendezvous {
    tfc_rendezvous base;
    pthread_mutex_t lock;
    tfc_strmap items;
    item *all;
    int aborted;
    tfc_status abort_status;
} local_rendezvous;

/* The item of `key`, created when new. Call with the lock held. */
static item *item_of(local_rendezvous *r, const char *key) {
    item *it = tfc_strmap_get(&r->items, key);
    if (it) return it;
    it = calloc(1, sizeof *it);
    if (!it) return NULL;
    if (tfc_strmap_put(&r->items, key, it)) {
        free(it);
        return NULL;
    }
    it->next_alloc = r->all;
    r->all = it;
    return it;
}

static int local_send(tfc_rendezvous *base, const char *key, tfc_tensor *value, int is_dead,
                      tfc_status *st) {
    local_rendezvous *r = (local_rendezvous *)base;
    pthread_mutex_lock(&r->lock);
    if (r->aborted) {
        tfc_status_copy(st, &r->abort_status);
        pthread_mutex_unlock(&r->lock);
        tfc_tensor_free(value);
        return -1;
    }
    item *it = item_of(r, key);
    if (!it || it->sent) {
        pthread_mutex_unlock(&r->lock);
        tfc_tensor_free(value);
        if (it)
            tfc_status_set(st, TFC_INTERNAL, "Send of an already sent key: %s", key);
        else
            tfc_status_set(st, TFC_INTERNAL, "out of memory in the rendezvous");
        return -1;
    }
    it->sent = 1;
    if (it->done) {
        /* the receiver is waiting: hand it over outside the lock */
        it->received = 1;
        tfc_recv_done_fn done = it->done;
        void *arg = it->arg;
        pthread_mutex_unlock(&r->lock);
        tfc_status ok = {0};
        done(arg, &ok, value, is_dead);
        return 0;
    }
    it->value = value;
    it->is_dead = is_dead;
    pthread_mutex_unlock(&r->lock);
    return 0;
}

static void local_recv_async(tfc_rendezvous *base, const char *key, tfc_recv_done_fn done,
                             void *arg) {
    local_rendezvous *r = (local_rendezvous *)base;
    pthread_mutex_lock(&r->lock);
    tfc_status st;
    if (r->aborted) {
        tfc_status_copy(&st, &r->abort_status);
        pthread_mutex_unlock(&r->lock);
        done(arg, &st, NULL, 0);
        return;
    }
    item *it = item_of(r, key);
    if (!it || it->done || it->received) {
        pthread_mutex_unlock(&r->lock);
        tfc_status_set(&st, TFC_INTERNAL, it ? "Recv of an already received key: %s"
                                             : "out of memory in the rendezvous (%s)", key);
        done(arg, &st, NULL, 0);
        return;
    }
    if (it->sent) {
        it->received = 1;
        tfc_tensor *v = it->value;
        it->value = NULL;
        pthread_mutex_unlock(&r->lock);
        tfc_status_set(&st, TFC_OK, NULL);
        done(arg, &st, v, it->is_dead);
        return;
    }
    it->done = done;
    it->arg = arg;
    pthread_mutex_unlock(&r->lock);
}

static void local_abort(tfc_rendezvous *base, const tfc_status *why) {
    local_rendezvous *r = (local_rendezvous *)base;
    pthread_mutex_lock(&r->lock);
    if (r->aborted) {
        pthread_mutex_unlock(&r->lock);
        return;
    }
    r->aborted = 1;
    tfc_status_copy(&r->abort_status, why);
    /* the waiting receivers, told outside the lock (their callbacks may
     * send or receive again, and fail at once) */
    int n = 0;
    for (item *it = r->all; it; it = it->next_alloc)
        if (it->done && !it->received) n++;
    item **waiting = malloc(((size_t)n + 1) * sizeof *waiting);
    n = 0;
    for (item *it = r->all; waiting && it; it = it->next_alloc)
        if (it->done && !it->received) {
            it->received = 1;
            waiting[n++] = it;
        }
    pthread_mutex_unlock(&r->lock);
    for (int i = 0; i < n; i++) waiting[i]->done(waiting[i]->arg, why, NULL, 0);
    free(waiting);
}

static void local_free(tfc_rendezvous *base) {
    local_rendezvous *r = (local_rendezvous *)base;
    while (r->all) {
        item *next = r->all->next_alloc;
        tfc_tensor_free(r->all->value);
        free(r->all);
        r->all = next;
    }
    tfc_strmap_free(&r->items);
    pthread_mutex_destroy(&r->lock);
    free(r);
}

static const tfc_rendezvous_ops local_ops = {local_send, local_recv_async, local_abort,
                                             local_free};

tfc_rendezvous *tfc_local_rendezvous_new(void) {
    local_rendezvous *r = calloc(1, sizeof *r);
    if (!r) return NULL;
    r->base.ops = &local_ops;
    pthread_mutex_init(&r->lock, NULL);
    return &r->base;
}
