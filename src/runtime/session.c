/* Sessions: options, per-node state (variables live here), the plan cache
 * and the checks on a run's feeds and fetches before it executes. */
#include "core/clock.h"
#include "device/placer.h"
#include "runtime/runtime.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

/* OpenBLAS would start its own threads and fight ours for the cores. */
extern void openblas_set_num_threads(int n);

/* A session; a child (parent non-NULL) borrows its parent's threads and
 * devices instead of making its own. */
static tfc_session *session_new(tfc_graph *g, const tfc_session_options *opts,
                                tfc_session *parent, tfc_status *status) {
    if (!g) {
        tfc_status_set(status, TFC_INVALID_ARGUMENT, "tfc_session_new: graph is NULL");
        return NULL;
    }
    if (g->error) {
        tfc_status_set(status, TFC_FAILED_PRECONDITION,
                       "cannot create a session on a graph with an error: %s", g->error);
        return NULL;
    }
    tfc_session *s = calloc(1, sizeof *s);
    if (!s) {
        tfc_status_set(status, TFC_INTERNAL, "out of memory creating a session");
        return NULL;
    }
    s->graph = g;
    if (opts) s->opts = *opts;
    int cores = tfc_num_cores();
    if (s->opts.intra_op_threads <= 0) s->opts.intra_op_threads = cores;
    if (s->opts.inter_op_threads <= 0) s->opts.inter_op_threads = cores;
    int threads = s->opts.intra_op_threads > s->opts.inter_op_threads ? s->opts.intra_op_threads
                                                                       : s->opts.inter_op_threads;
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->runs_done, NULL);
    if (parent) {
        s->pool = parent->pool;
        s->inter_op_parallel = parent->inter_op_parallel;
        s->devices = parent->devices;
    } else {
        if (threads > 1) s->pool = tfc_threadpool_new(threads);
        s->owns_pool = 1;
        s->inter_op_parallel = s->pool && s->opts.inter_op_threads > 1;
        s->devices = &s->own_devices;
        if (tfc_device_set_init(&s->own_devices, s->opts.device_types, s->opts.device_counts,
                                s->opts.num_device_types, threads, s->pool, status)) {
            tfc_session_free(s);
            return NULL;
        }
        /* the options' arrays are the caller's: keep no pointer to them */
        s->opts.device_types = NULL;
        s->opts.device_counts = NULL;
        s->opts.num_device_types = 0;
    }
    openblas_set_num_threads(1);
    uint64_t base = s->opts.seed ? (uint64_t)s->opts.seed
                                 : (uint64_t)time(NULL) ^ ((uint64_t)(uintptr_t)s << 16) ^
                                       (uint64_t)clock();
    s->seed_base = base * 0x9E3779B97F4A7C15ull + 0x632BE59BD9B4E019ull;
    tfc_status_set(status, TFC_OK, NULL);
    return s;
}

tfc_session *tfc_session_new(tfc_graph *g, const tfc_session_options *opts,
                             tfc_status *status) {
    return session_new(g, opts, NULL, status);
}

tfc_session *tfc_session_new_child(tfc_session *parent, tfc_graph *g, uint64_t salt,
                                   tfc_status *status) {
    tfc_session *s = session_new(g, &parent->opts, parent, status);
    if (!s) return NULL;
    s->seed_base = (parent->seed_base ^ salt) * 0x9E3779B97F4A7C15ull + 0x632BE59BD9B4E019ull;
    return s;
}

/* Cancels what waits on the session's resources (a queue's blocked
 * dequeues) so that runs under way end. Called with s->lock held; drops it
 * while cancelling, since cancelled kernels finish then. */
static void cancel_resources(tfc_session *s) {
    int n = s->nstates;
    tfc_node_state **states = n ? malloc(sizeof *states * (size_t)n) : NULL;
    if (!states) return;
    memcpy(states, s->states, sizeof *states * (size_t)n);
    pthread_mutex_unlock(&s->lock);
    for (int i = 0; i < n; i++) {
        tfc_node_state *st = states[i];
        if (!st) continue;
        pthread_mutex_lock(&st->lock);
        void (*cancel)(void *) = st->cancel_resource;
        void *resource = st->resource;
        pthread_mutex_unlock(&st->lock);
        if (cancel) cancel(resource);
    }
    free(states);
    pthread_mutex_lock(&s->lock);
}

void tfc_session_close(tfc_session *s) {
    if (!s) return;
    pthread_mutex_lock(&s->lock);
    atomic_fetch_or(&s->runs, SESSION_CLOSED);
    /* a run under way may make a queue after a pass: pass again until
     * every run has ended */
    cancel_resources(s);
    while (atomic_load(&s->runs) != SESSION_CLOSED) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 20000000;
        if (ts.tv_nsec >= 1000000000) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000;
        }
        if (pthread_cond_timedwait(&s->runs_done, &s->lock, &ts) &&
            atomic_load(&s->runs) != SESSION_CLOSED)
            cancel_resources(s);
    }
    pthread_mutex_unlock(&s->lock);
}

tfc_graph *tfc_session_graph(const tfc_session *s) { return s ? s->graph : NULL; }

void tfc_session_free(tfc_session *s) {
    if (!s) return;
    tfc_session_close(s);
    for (int i = 0; i < s->nplans; i++) tfc_plan_free(s->plans[i]);
    free(s->plans);
    for (int i = 0; i < s->nstates; i++) {
        tfc_node_state *st = s->states[i];
        if (!st) continue;
        tfc_tensor_free(st->value);
        if (st->free_resource) st->free_resource(st->resource);
        pthread_mutex_destroy(&st->lock);
        free(st);
    }
    free(s->states);
    free(s->placement);
    tfc_device_set_free(&s->own_devices);
    if (s->owns_pool) tfc_threadpool_free(s->pool);
    pthread_mutex_destroy(&s->lock);
    pthread_cond_destroy(&s->runs_done);
    free(s);
}

tfc_node_state *tfc_session_node_state(tfc_session *s, tfc_node *n) {
    if (n->id >= s->nstates) {
        int cap = s->nstates ? s->nstates : 64;
        while (cap <= n->id) cap *= 2;
        tfc_node_state **v = realloc(s->states, (size_t)cap * sizeof *v);
        if (!v) return NULL;
        memset(v + s->nstates, 0, (size_t)(cap - s->nstates) * sizeof *v);
        s->states = v;
        s->nstates = cap;
    }
    if (!s->states[n->id]) {
        tfc_node_state *st = calloc(1, sizeof *st);
        if (!st) return NULL;
        pthread_mutex_init(&st->lock, NULL);
        st->seed = (s->seed_base ^ ((uint64_t)n->id * 0xBF58476D1CE4E5B9ull)) | 1;
        s->states[n->id] = st;
    }
    return s->states[n->id];
}

static int check_output(tfc_session *s, tfc_output o, const char *what, int i,
                        tfc_status *status) {
    if (!o.node) {
        tfc_status_set(status, TFC_INVALID_ARGUMENT,
                       "%s %d is a null output: the call that made it failed (see "
                       "tfc_graph_error) or a lookup found nothing (tfc_graph_output_by_name "
                       "says which name is missing)",
                       what, i);
        return -1;
    }
    if (o.node->graph != s->graph) {
        tfc_status_set(status, TFC_INVALID_ARGUMENT,
                       "%s %d: Tensor '%s:%d' is not an element of this graph", what, i,
                       o.node->name, o.index);
        return -1;
    }
    if (o.index < 0 || o.index >= o.node->noutputs) {
        tfc_status_set(status, TFC_INVALID_ARGUMENT, "%s %d: node '%s' has no output %d", what,
                       i, o.node->name, o.index);
        return -1;
    }
    return 0;
}

/* tfc_shape_compatible(shape of rank/dims, s) without making the shape:
 * this runs for every feed of every run. */
static int dims_fit(int rank, const int64_t *dims, const tfc_shape *s) {
    if (s->rank < 0) return 1;
    if (s->rank != rank) return 0;
    for (int i = 0; i < rank; i++)
        if (s->dims[i] >= 0 && s->dims[i] != dims[i]) return 0;
    return 1;
}

static int check_feed(tfc_output o, const tfc_tensor *t, tfc_status *status) {
    if (!t) {
        tfc_status_set(status, TFC_INVALID_ARGUMENT, "feed value for '%s:%d' is NULL",
                       o.node->name, o.index);
        return -1;
    }
    tfc_dtype want = o.node->out_dtypes[o.index];
    if (t->dtype != want) {
        tfc_status_set(status, TFC_INVALID_ARGUMENT,
                       "Cannot feed value of dtype %s for Tensor '%s:%d', which has dtype %s",
                       tfc_dtype_name(t->dtype), o.node->name, o.index, tfc_dtype_name(want));
        return -1;
    }
    const tfc_shape *shape = &o.node->out_shapes[o.index];
    if (!dims_fit(t->rank, t->dims, shape)) {
        tfc_shape have = tfc_shape_make(t->rank, t->dims);
        char a[128], b[128];
        tfc_status_set(status, TFC_INVALID_ARGUMENT,
                       "Cannot feed value of shape %s for Tensor '%s:%d', which has shape %s",
                       tfc_shape_str(&have, a, sizeof a), o.node->name, o.index,
                       tfc_shape_str(shape, b, sizeof b));
        return -1;
    }
    return 0;
}

tfc_plan *tfc_session_find_plan(tfc_session *s, const tfc_output *feeds, int nfeeds,
                                const tfc_output *fetches, int nfetches, tfc_node *const *targets,
                                int ntargets) {
    uint64_t h = tfc_plan_hash(feeds, nfeeds, fetches, nfetches, targets, ntargets);
    tfc_plan *found = NULL;
    pthread_mutex_lock(&s->lock);
    for (int i = 0; i < s->nplans && !found; i++)
        if (tfc_plan_matches(s->plans[i], h, feeds, nfeeds, fetches, nfetches, targets, ntargets))
            found = s->plans[i];
    pthread_mutex_unlock(&s->lock);
    return found;
}

/* The entry of s->recent for signature hash h (the hash's high bits: its
 * low ones vary little between signatures). */
static _Atomic(tfc_plan *) *recent_entry(tfc_session *s, uint64_t h) {
    return &s->recent[(h * 0x9E3779B97F4A7C15ull) >> 61];
}

static tfc_plan *find_or_build_plan(tfc_session *s, const tfc_output *feeds, int nfeeds,
                                    const tfc_output *fetches, int nfetches,
                                    tfc_node *const *targets, int ntargets, tfc_status *status) {
    uint64_t h = tfc_plan_hash(feeds, nfeeds, fetches, nfetches, targets, ntargets);
    _Atomic(tfc_plan *) *recent = recent_entry(s, h);
    tfc_plan *hit = atomic_load_explicit(recent, memory_order_acquire);
    if (hit && tfc_plan_matches(hit, h, feeds, nfeeds, fetches, nfetches, targets, ntargets))
        return hit;
    pthread_mutex_lock(&s->lock);
    for (int i = 0; i < s->nplans; i++) {
        if (tfc_plan_matches(s->plans[i], h, feeds, nfeeds, fetches, nfetches, targets,
                             ntargets)) {
            tfc_plan *p = s->plans[i];
            /* keep hot plans near the front */
            if (i > 0) {
                s->plans[i] = s->plans[i - 1];
                s->plans[i - 1] = p;
            }
            atomic_store_explicit(recent, p, memory_order_release);
            pthread_mutex_unlock(&s->lock);
            return p;
        }
    }
    tfc_plan *p = tfc_plan_build(s, feeds, nfeeds, fetches, nfetches, targets, ntargets, status);
    if (p) {
        if (s->nplans == s->plan_cap) {
            int cap = s->plan_cap ? s->plan_cap * 2 : 8;
            tfc_plan **v = realloc(s->plans, (size_t)cap * sizeof *v);
            if (!v) {
                tfc_plan_free(p);
                p = NULL;
                tfc_status_set(status, TFC_INTERNAL, "out of memory caching a plan");
            } else {
                s->plans = v;
                s->plan_cap = cap;
            }
        }
        if (p) {
            s->plans[s->nplans++] = p;
            atomic_store_explicit(recent, p, memory_order_release);
        }
    }
    pthread_mutex_unlock(&s->lock);
    return p;
}

/* tfc_session_run and tfc_session_run_v2: checks, the plan, the run. */
static void session_run_open(tfc_session *s, const tfc_run_options *ro, const tfc_output *feed_outs,
                        tfc_tensor *const *feed_values, int nfeeds, const tfc_output *fetches,
                        int nfetches, tfc_tensor **fetch_values, tfc_node *const *targets,
                        int ntargets, tfc_run_metadata *md, tfc_status *status) {
    int64_t t0 = ro && ro->timeout_in_ms > 0 ? tfc_now_ns() : 0; /* the timeout counts from here */
    if (nfetches == 1 && fetch_values) /* the common case, without the call to memset */
        fetch_values[0] = NULL;
    else
        for (int i = 0; i < nfetches && fetch_values; i++) fetch_values[i] = NULL;
    if (!s) {
        tfc_status_set(status, TFC_INVALID_ARGUMENT, "tfc_session_run: session is NULL");
        return;
    }
    if (nfetches > 0 && !fetch_values) {
        tfc_status_set(status, TFC_INVALID_ARGUMENT, "tfc_session_run: fetch_values is NULL");
        return;
    }
    for (int i = 0; i < nfeeds; i++)
        if (check_output(s, feed_outs[i], "feed", i, status) ||
            check_feed(feed_outs[i], feed_values[i], status))
            return;
    for (int i = 0; i < nfeeds; i++)
        for (int k = 0; k < i; k++)
            if (feed_outs[i].node == feed_outs[k].node && feed_outs[i].index == feed_outs[k].index) {
                tfc_status_set(status, TFC_INVALID_ARGUMENT, "'%s:%d' is fed more than once",
                               feed_outs[i].node->name, feed_outs[i].index);
                return;
            }
    for (int i = 0; i < nfetches; i++)
        if (check_output(s, fetches[i], "fetch", i, status)) return;
    for (int i = 0; i < ntargets; i++) {
        if (!targets[i] || targets[i]->graph != s->graph) {
            tfc_status_set(status, TFC_INVALID_ARGUMENT,
                           "target %d: %s is not an element of this graph", i,
                           targets[i] ? targets[i]->name : "NULL");
            return;
        }
    }
    tfc_plan *p =
        find_or_build_plan(s, feed_outs, nfeeds, fetches, nfetches, targets, ntargets, status);
    if (!p) return;
    status->code = TFC_OK; /* tfc_status_set(status, TFC_OK, NULL), without the call */
    status->msg[0] = 0;
    int64_t deadline = ro && ro->timeout_in_ms > 0 ? t0 + ro->timeout_in_ms * 1000000 : 0;
    tfc_execute_deadline(s, p, feed_values, fetch_values,
                         ro && md && ro->trace_level > TFC_TRACE_NONE ? md : NULL, deadline,
                         status);
    if (ro && md && ro->output_partition_graphs && status->code == TFC_OK &&
        tfc_run_metadata_add_partition_graphs(md, s, p, status))
        for (int i = 0; i < nfetches; i++) {
            tfc_tensor_free(fetch_values[i]);
            fetch_values[i] = NULL;
        }
}

/* Counts a run out; the last run of a closed session wakes
 * tfc_session_close (under the lock, so that the wake-up cannot fall
 * between its check and its wait). */
static void run_ended(tfc_session *s) {
    if (atomic_fetch_sub(&s->runs, 1) - 1 == SESSION_CLOSED) {
        pthread_mutex_lock(&s->lock);
        pthread_cond_broadcast(&s->runs_done);
        pthread_mutex_unlock(&s->lock);
    }
}

/* session_run_open on a session that is not closed, counted among the
 * runs under way that tfc_session_close waits for. */
static void session_run(tfc_session *s, const tfc_run_options *ro, const tfc_output *feed_outs,
                        tfc_tensor *const *feed_values, int nfeeds, const tfc_output *fetches,
                        int nfetches, tfc_tensor **fetch_values, tfc_node *const *targets,
                        int ntargets, tfc_run_metadata *md, tfc_status *status) {
    /* counted in before looking at the flag, so that tfc_session_close,
     * which sets the flag before it looks at the count, waits for this run
     * or this run sees the flag (both are sequentially consistent) */
    if (s && (atomic_fetch_add(&s->runs, 1) & SESSION_CLOSED)) {
        run_ended(s);
        for (int i = 0; i < nfetches && fetch_values; i++) fetch_values[i] = NULL;
        tfc_status_set(status, TFC_FAILED_PRECONDITION, "Attempted to use a closed Session.");
        return;
    }
    session_run_open(s, ro, feed_outs, feed_values, nfeeds, fetches, nfetches, fetch_values,
                     targets, ntargets, md, status);
    if (s) run_ended(s);
}

void tfc_session_run(tfc_session *s, const tfc_output *feed_outs,
                     tfc_tensor *const *feed_values, int nfeeds, const tfc_output *fetches,
                     int nfetches, tfc_tensor **fetch_values, tfc_node *const *targets,
                     int ntargets, tfc_status *status) {
    session_run(s, NULL, feed_outs, feed_values, nfeeds, fetches, nfetches, fetch_values,
                targets, ntargets, NULL, status);
}

void tfc_session_run_v2(tfc_session *s, const tfc_run_options *run_options,
                        const tfc_output *feed_outs, tfc_tensor *const *feed_values, int nfeeds,
                        const tfc_output *fetches, int nfetches, tfc_tensor **fetch_values,
                        tfc_node *const *targets, int ntargets, tfc_run_metadata *md,
                        tfc_status *status) {
    session_run(s, run_options, feed_outs, feed_values, nfeeds, fetches, nfetches, fetch_values,
                targets, ntargets, md, status);
}

int tfc_session_place(tfc_session *s, tfc_node *const *nodes, int nnodes, tfc_status *status) {
    if (nnodes <= s->nplaced) return 0;
    int *v = realloc(s->placement, ((size_t)nnodes + 1) * sizeof *v);
    if (!v) {
        tfc_status_set(status, TFC_INTERNAL, "out of memory placing the graph");
        return -1;
    }
    s->placement = v;
    for (int i = s->nplaced; i < nnodes; i++) v[i] = -1;
    if (tfc_place(nodes, nnodes, s->devices, s->opts.allow_soft_placement,
                  s->opts.log_device_placement, v, status))
        return -1;
    s->nplaced = nnodes;
    return 0;
}

int tfc_session_num_devices(const tfc_session *s) { return s ? s->devices->n : 0; }

const char *tfc_session_device_name(const tfc_session *s, int i) {
    return s && i >= 0 && i < s->devices->n ? s->devices->devices[i]->name : NULL;
}

const char *tfc_session_assigned_device(const tfc_session *s, const tfc_node *n) {
    if (!s || !n || n->graph != s->graph) return NULL;
    tfc_session *m = (tfc_session *)s; /* the lock only */
    pthread_mutex_lock(&m->lock);
    const char *name = n->id < s->nplaced ? s->devices->devices[s->placement[n->id]]->name : NULL;
    pthread_mutex_unlock(&m->lock);
    return name;
}

int tfc_session_can_run_async(const tfc_session *s) {
    /* a run split over devices has one executor per device: not this one */
    return s && s->pool && s->inter_op_parallel && s->devices->n == 1;
}

tfc_async_run *tfc_session_start_async(tfc_session *s, const tfc_output *feeds, int nfeeds,
                                       tfc_tensor *const *feed_values, const tfc_output *fetches,
                                       int nfetches, tfc_run_output_fn on_output,
                                       void (*on_done)(void *user), void *user,
                                       tfc_status *status) {
    tfc_plan *p = find_or_build_plan(s, feeds, nfeeds, fetches, nfetches, NULL, 0, status);
    if (!p) return NULL;
    return tfc_async_run_start(s, p, feed_values, on_output, on_done, user, status);
}

tfc_tensor *tfc_session_run1(tfc_session *s, const tfc_output *feed_outs,
                             tfc_tensor *const *feed_values, int nfeeds, tfc_output fetch,
                             tfc_status *status) {
    tfc_tensor *out = NULL;
    tfc_session_run(s, feed_outs, feed_values, nfeeds, &fetch, 1, &out, NULL, 0, status);
    return out;
}
