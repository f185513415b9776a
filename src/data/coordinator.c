/* tf.train.Coordinator: a stop flag threads poll, the first error any of
 * them reported, and the threads it started, joined with a grace period.
 * Threads started here are always joined, at the latest by
 * tfc_coordinator_free: none is left behind. */
#include "data/coordinator.h"

#include "core/clock.h"
#include "core/status.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct coord_thread {
    pthread_t tid;
    char *name;
    tfc_coordinator_fn fn;
    void *arg;
    tfc_coordinator *coord;
    int done;   /* fn returned (guarded by the coordinator's lock) */
    int joined; /* pthread_join done */
} coord_thread;

struct tfc_coordinator {
    pthread_mutex_t lock;
    pthread_cond_t cond; /* stop requested, or a thread ended */
    int stop;
    int has_error;
    tfc_status error;
    int n, cap;
    coord_thread **threads;
};

tfc_coordinator *tfc_coordinator_new(void) {
    tfc_coordinator *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    pthread_mutex_init(&c->lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&c->cond, &ca);
    pthread_condattr_destroy(&ca);
    return c;
}

void tfc_coordinator_request_stop(tfc_coordinator *c, const tfc_status *error) {
    if (!c) return;
    pthread_mutex_lock(&c->lock);
    c->stop = 1;
    /* OUT_OF_RANGE is the normal end of input: a clean stop (TensorFlow's
     * clean_stop_exception_types) */
    if (error && error->code != TFC_OK && error->code != TFC_OUT_OF_RANGE && !c->has_error) {
        tfc_status_copy(&c->error, error);
        c->has_error = 1;
    }
    pthread_cond_broadcast(&c->cond);
    pthread_mutex_unlock(&c->lock);
}

int tfc_coordinator_should_stop(tfc_coordinator *c) {
    if (!c) return 0;
    pthread_mutex_lock(&c->lock);
    int s = c->stop;
    pthread_mutex_unlock(&c->lock);
    return s;
}

static void deadline_ts(int64_t when_ns, struct timespec *ts) {
    ts->tv_sec = (time_t)(when_ns / 1000000000);
    ts->tv_nsec = (long)(when_ns % 1000000000);
}

int tfc_coordinator_wait_for_stop(tfc_coordinator *c, int64_t timeout_ms) {
    if (!c) return 0;
    int64_t until = timeout_ms >= 0 ? tfc_now_ns() + timeout_ms * 1000000 : 0;
    pthread_mutex_lock(&c->lock);
    while (!c->stop) {
        if (!until) {
            pthread_cond_wait(&c->cond, &c->lock);
            continue;
        }
        struct timespec ts;
        deadline_ts(until, &ts);
        if (pthread_cond_timedwait(&c->cond, &c->lock, &ts) == ETIMEDOUT && tfc_now_ns() >= until)
            break;
    }
    int s = c->stop;
    pthread_mutex_unlock(&c->lock);
    return s;
}

static void *thread_main(void *arg) {
    coord_thread *t = arg;
    t->fn(t->arg, t->coord);
    tfc_coordinator *c = t->coord;
    pthread_mutex_lock(&c->lock);
    t->done = 1;
    pthread_cond_broadcast(&c->cond);
    pthread_mutex_unlock(&c->lock);
    return NULL;
}

int tfc_coordinator_start_thread(tfc_coordinator *c, const char *name, tfc_coordinator_fn fn,
                                 void *arg) {
    if (!c || !fn) return -1;
    coord_thread *t = calloc(1, sizeof *t);
    if (!t) return -1;
    t->name = strdup(name ? name : "thread");
    t->fn = fn;
    t->arg = arg;
    t->coord = c;
    pthread_mutex_lock(&c->lock);
    if (c->n == c->cap) {
        int cap = c->cap ? 2 * c->cap : 8;
        coord_thread **v = realloc(c->threads, sizeof *v * (size_t)cap);
        if (!v) {
            pthread_mutex_unlock(&c->lock);
            free(t->name);
            free(t);
            return -1;
        }
        c->threads = v;
        c->cap = cap;
    }
    if (!t->name || pthread_create(&t->tid, NULL, thread_main, t)) {
        pthread_mutex_unlock(&c->lock);
        free(t->name);
        free(t);
        return -1;
    }
    c->threads[c->n++] = t;
    pthread_mutex_unlock(&c->lock);
    return 0;
}

/* Joins the finished threads not joined yet (lock held; dropped meanwhile). */
static void reap(tfc_coordinator *c) {
    for (int i = 0; i < c->n; i++) {
        coord_thread *t = c->threads[i];
        if (!t->done || t->joined) continue;
        t->joined = 1;
        pthread_mutex_unlock(&c->lock);
        pthread_join(t->tid, NULL);
        pthread_mutex_lock(&c->lock);
    }
}

static int running(const tfc_coordinator *c) {
    int n = 0;
    for (int i = 0; i < c->n; i++) n += !c->threads[i]->done;
    return n;
}

int tfc_coordinator_join(tfc_coordinator *c, int64_t stop_grace_period_ms, tfc_status *status) {
    if (!c) return 0;
    pthread_mutex_lock(&c->lock);
    /* until every thread ended, or a stop was asked for */
    while (running(c) && !c->stop) pthread_cond_wait(&c->cond, &c->lock);
    int64_t until = tfc_now_ns() + (stop_grace_period_ms > 0 ? stop_grace_period_ms : 0) * 1000000;
    while (running(c)) {
        struct timespec ts;
        deadline_ts(until, &ts);
        if (pthread_cond_timedwait(&c->cond, &c->lock, &ts) == ETIMEDOUT && tfc_now_ns() >= until)
            break;
    }
    reap(c);
    int rc = 0;
    if (running(c)) {
        char names[300] = "";
        size_t k = 0;
        for (int i = 0; i < c->n && k < sizeof names - 40; i++)
            if (!c->threads[i]->done)
                k += (size_t)snprintf(names + k, sizeof names - k, "%s%s", k ? ", " : "",
                                      c->threads[i]->name);
        tfc_status_set(status, TFC_DEADLINE_EXCEEDED,
                       "Coordinator stopped with threads still running: %s", names);
        rc = -1;
    } else if (c->has_error) {
        tfc_status_copy(status, &c->error);
        rc = -1;
    } else {
        tfc_status_set(status, TFC_OK, NULL);
    }
    pthread_mutex_unlock(&c->lock);
    return rc;
}

int tfc_coordinator_error(tfc_coordinator *c, tfc_status *status) {
    if (!c) return 0;
    pthread_mutex_lock(&c->lock);
    int has = c->has_error;
    if (has) tfc_status_copy(status, &c->error);
    pthread_mutex_unlock(&c->lock);
    return has;
}

void tfc_coordinator_free(tfc_coordinator *c) {
    if (!c) return;
    tfc_coordinator_request_stop(c, NULL);
    pthread_mutex_lock(&c->lock);
    for (int i = 0; i < c->n; i++) {
        coord_thread *t = c->threads[i];
        if (t->joined) continue;
        t->joined = 1;
        pthread_mutex_unlock(&c->lock);
        pthread_join(t->tid, NULL);
        pthread_mutex_lock(&c->lock);
    }
    pthread_mutex_unlock(&c->lock);
    for (int i = 0; i < c->n; i++) {
        free(c->threads[i]->name);
        free(c->threads[i]);
    }
    free(c->threads);
    pthread_cond_destroy(&c->cond);
    pthread_mutex_destroy(&c->lock);
    free(c);
}
