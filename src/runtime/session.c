/* Sessions: options, per-node state (variables live here), the plan cache
 * and the checks on a run's feeds and fetches before it executes. */
#include "runtime/runtime.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

/* OpenBLAS would start its own threads and fight ours for the cores. */
extern void openblas_set_num_threads(int n);

tfc_session *tfc_session_new(tfc_graph *g, const tfc_session_options *opts,
                             tfc_status *status) {
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
    if (threads > 1) s->pool = tfc_threadpool_new(threads);
    s->owns_pool = 1;
    s->inter_op_parallel = s->pool && s->opts.inter_op_threads > 1;
    openblas_set_num_threads(1);
    pthread_mutex_init(&s->lock, NULL);
    uint64_t base = s->opts.seed ? (uint64_t)s->opts.seed
                                 : (uint64_t)time(NULL) ^ ((uint64_t)(uintptr_t)s << 16) ^
                                       (uint64_t)clock();
    s->seed_base = base * 0x9E3779B97F4A7C15ull + 0x632BE59BD9B4E019ull;
    tfc_status_set(status, TFC_OK, NULL);
    return s;
}

tfc_session *tfc_session_new_child(tfc_session *parent, tfc_graph *g, uint64_t salt,
                                   tfc_status *status) {
    tfc_session_options o = parent->opts;
    o.intra_op_threads = o.inter_op_threads = 1; /* no pool of its own */
    tfc_session *s = tfc_session_new(g, &o, status);
    if (!s) return NULL;
    s->opts = parent->opts;
    s->pool = parent->pool;
    s->owns_pool = 0;
    s->inter_op_parallel = parent->inter_op_parallel;
    s->seed_base = (parent->seed_base ^ salt) * 0x9E3779B97F4A7C15ull + 0x632BE59BD9B4E019ull;
    return s;
}

void tfc_session_free(tfc_session *s) {
    if (!s) return;
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
    if (s->owns_pool) tfc_threadpool_free(s->pool);
    pthread_mutex_destroy(&s->lock);
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
    tfc_shape have = tfc_shape_make(t->rank, t->dims);
    const tfc_shape *shape = &o.node->out_shapes[o.index];
    if (!tfc_shape_compatible(&have, shape)) {
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

static tfc_plan *find_or_build_plan(tfc_session *s, const tfc_output *feeds, int nfeeds,
                                    const tfc_output *fetches, int nfetches,
                                    tfc_node *const *targets, int ntargets, tfc_status *status) {
    uint64_t h = tfc_plan_hash(feeds, nfeeds, fetches, nfetches, targets, ntargets);
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
        if (p) s->plans[s->nplans++] = p;
    }
    pthread_mutex_unlock(&s->lock);
    return p;
}

void tfc_session_run(tfc_session *s, const tfc_output *feed_outs,
                     tfc_tensor *const *feed_values, int nfeeds, const tfc_output *fetches,
                     int nfetches, tfc_tensor **fetch_values, tfc_node *const *targets,
                     int ntargets, tfc_status *status) {
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
    tfc_status_set(status, TFC_OK, NULL);
    tfc_execute(s, p, feed_values, fetch_values, status);
}

int tfc_session_can_run_async(const tfc_session *s) {
    return s && s->pool && s->inter_op_parallel;
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
