/* The device-type table (CPU built in), a session's device list and
 * device-name matching. */
#include "device/device.h"
#include "core/clock.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Every op has a CPU kernel (ops without one, NoOp, run nothing). */
static const tfc_device_type cpu_type = {"CPU", 10, 1, NULL, NULL, NULL, NULL};

enum { MAX_TYPES = 8 };
static const tfc_device_type *types[MAX_TYPES] = {&cpu_type};
static int ntypes = 1;
static pthread_mutex_t types_lock = PTHREAD_MUTEX_INITIALIZER;

int tfc_device_type_register(const tfc_device_type *type) {
    int rc = -1;
    pthread_mutex_lock(&types_lock);
    if (ntypes < MAX_TYPES && type && type->name) {
        rc = 0;
        for (int i = 0; i < ntypes; i++)
            if (!strcasecmp(types[i]->name, type->name)) rc = -1;
        if (!rc) types[ntypes++] = type;
    }
    pthread_mutex_unlock(&types_lock);
    return rc;
}

const tfc_device_type *tfc_device_type_find(const char *name) {
    const tfc_device_type *found = NULL;
    pthread_mutex_lock(&types_lock);
    for (int i = 0; i < ntypes && !found; i++)
        if (!strcasecmp(types[i]->name, name)) found = types[i];
    pthread_mutex_unlock(&types_lock);
    return found;
}

int tfc_device_type_has_kernel(const tfc_device_type *t, const tfc_op_def *op) {
    return !t->has_kernel || t->has_kernel(op);
}

/* A device's incarnation: unique per device object, as TensorFlow's random
 * 64-bit incarnation is, so a key never matches a device that was
 * recreated. */
static uint64_t next_incarnation(void) {
    static atomic_ullong counter;
    uint64_t z = (uint64_t)tfc_now_ns() + atomic_fetch_add(&counter, 1) * 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return (z ^ (z >> 31)) | 1;
}

static int type_count(const tfc_device_type *t, const char *const *names, const int *counts,
                      int n) {
    int c = t->default_count;
    for (int i = 0; i < n; i++)
        if (names[i] && !strcasecmp(names[i], t->name)) c = counts[i];
    return c;
}

int tfc_device_set_init(tfc_device_set *set, const char *const *names, const int *counts,
                        int n, int threads, tfc_threadpool *shared_pool, tfc_status *st) {
    memset(set, 0, sizeof *set);
    for (int i = 0; i < n; i++) {
        if (!names || !names[i] || !counts) {
            tfc_status_set(st, TFC_INVALID_ARGUMENT, "device_count %d has no type name", i);
            return -1;
        }
        if (counts[i] < 0 || counts[i] > 64) {
            tfc_status_set(st, TFC_INVALID_ARGUMENT,
                           "device_count for '%s' is %d; expected 0 to 64", names[i], counts[i]);
            return -1;
        }
    }
    /* the types in placement order: priority, then registration */
    const tfc_device_type *order[MAX_TYPES];
    pthread_mutex_lock(&types_lock);
    int nt = ntypes;
    memcpy(order, types, sizeof order);
    pthread_mutex_unlock(&types_lock);
    for (int i = 1; i < nt; i++)
        for (int k = i; k > 0 && order[k]->priority > order[k - 1]->priority; k--) {
            const tfc_device_type *t = order[k];
            order[k] = order[k - 1];
            order[k - 1] = t;
        }
    int total = 0;
    for (int i = 0; i < nt; i++) total += type_count(order[i], names, counts, n);
    if (total == 0) {
        tfc_status_set(st, TFC_INVALID_ARGUMENT,
                       "the session's device_count leaves it no device at all");
        return -1;
    }
    set->devices = calloc((size_t)total, sizeof *set->devices);
    if (!set->devices) goto oom;
    int share = threads / total > 1 ? threads / total : 1;
    for (int i = 0; i < nt; i++) {
        int c = type_count(order[i], names, counts, n);
        for (int id = 0; id < c; id++) {
            tfc_device *d = calloc(1, sizeof *d);
            if (!d) goto oom;
            set->devices[set->n] = d;
            d->type = order[i];
            d->index = set->n++;
            d->id = id;
            snprintf(d->name, sizeof d->name, "/job:localhost/replica:0/task:0/device:%s:%d",
                     d->type->name, id);
            tfc_device_name_parse(d->name, &d->parsed, NULL, 0);
            d->incarnation = next_incarnation();
            if (total == 1) {
                d->pool = shared_pool;
            } else {
                /* its share of workers, plus the slot of a thread that hands it work */
                d->pool = tfc_threadpool_new(share + 1);
                if (!d->pool) goto oom;
                d->owns_pool = 1;
            }
        }
    }
    return 0;
oom:
    tfc_device_set_free(set);
    tfc_status_set(st, TFC_INTERNAL, "out of memory creating the session's devices");
    return -1;
}

void tfc_device_set_free(tfc_device_set *set) {
    for (int i = 0; i < set->n; i++) {
        if (!set->devices[i]) continue;
        if (set->devices[i]->owns_pool) tfc_threadpool_free(set->devices[i]->pool);
        free(set->devices[i]);
    }
    free(set->devices);
    memset(set, 0, sizeof *set);
}

void tfc_device_set_describe(const tfc_device_set *set, char *buf, size_t cap) {
    size_t len = (size_t)snprintf(buf, cap, "[");
    for (int i = 0; i < set->n && len < cap; i++)
        len += (size_t)snprintf(buf + len, cap - len, "%s %s", i ? "," : "",
                                set->devices[i]->name);
    if (len < cap) snprintf(buf + len, cap - len, " ]");
}

int tfc_device_matches(const tfc_device *d, const tfc_device_name *spec) {
    const tfc_device_name *p = &d->parsed;
    if (spec->has_job && strcmp(spec->job, p->job)) return 0;
    if (spec->has_replica && spec->replica != p->replica) return 0;
    if (spec->has_task && spec->task != p->task) return 0;
    if (spec->has_type && strcasecmp(spec->type, p->type)) return 0;
    if (spec->has_id && spec->id != p->id) return 0;
    return 1;
}
