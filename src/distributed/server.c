/* A task's server (see server.h and docs/DISTRIBUTED.md): creation over
 * the cluster, the progress thread (receives, request completion,
 * heartbeats, lost peers), join/stop, and the partitions masters register
 * and run here. */
#define _GNU_SOURCE
#include "distributed/server.h"
#include "core/clock.h"
#include "distributed/mpi_world.h"
#include "graph/graph.h"
#include "runtime/runtime.h"

#include <inttypes.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MS ((int64_t)1000000)

/* $TFC_DISTRIBUTED_TRACE=1: every control message on stderr (debugging). */
static int trace;
#define TRACE(...)                                                                   \
    do {                                                                             \
        if (trace) fprintf(stderr, __VA_ARGS__);                                     \
    } while (0)

static void sleep_ns(int64_t ns) {
    struct timespec ts = {(time_t)(ns / 1000000000), (long)(ns % 1000000000)};
    nanosleep(&ts, NULL);
}

const char *srv_task_name(const tfc_server *s, int rank, char *buf, size_t cap) {
    const char *job = "?";
    int task = -1;
    tfc_cluster_rank_task(s->cluster, rank, &job, &task);
    snprintf(buf, cap, "/job:%s/task:%d (rank %d)", job, task, rank);
    return buf;
}

int srv_failed_locked(tfc_server *s, tfc_status *st) {
    if (!s->failed) return 0;
    if (st) tfc_status_copy(st, &s->failure);
    return 1;
}

/* ---- sending ------------------------------------------------------------- */

void srv_add_pending(tfc_server *s, pending_req *p) {
    pthread_mutex_lock(&s->lock);
    p->next = s->outbox;
    s->outbox = p;
    pthread_mutex_unlock(&s->lock);
}

static void pending_release(pending_req *p) {
    free(p->owned);
    tfc_tensor_free(p->hold);
    free(p->key);
    tfc_tensor_free(p->value);
    free(p->packed);
    free(p);
}

int srv_send(tfc_server *s, int dst, int ctl, int tag, const void *buf, size_t len, void *owned,
             tfc_tensor *hold, tfc_status *st) {
    pending_req *p = calloc(1, sizeof *p);
    if (!p) {
        free(owned);
        tfc_tensor_free(hold);
        tfc_status_set(st, TFC_RESOURCE_EXHAUSTED, "out of memory sending a message");
        return -1;
    }
    p->owned = owned;
    p->hold = hold;
    p->peer = dst;
    if (len > (size_t)INT32_MAX) {
        tfc_status_set(st, TFC_UNIMPLEMENTED,
                       "a message of %zu bytes to rank %d: tfc sends at most 2 GiB at once",
                       len, dst);
        pending_release(p);
        return -1;
    }
    char what[64];
    snprintf(what, sizeof what, "sending to rank %d", dst);
    if (!tfc_mpi_check(MPI_Isend(buf, (int)len, MPI_BYTE, dst, tag, ctl ? s->ctl : s->data,
                                 &p->req),
                       what, st)) {
        pending_release(p);
        return -1;
    }
    srv_add_pending(s, p);
    return 0;
}

/* Control messages start with the sender's incarnation, so that a
 * message of an earlier server in that process (the communicators outlive
 * servers) is told apart and dropped. */
static int send_ctl(tfc_server *s, int dst, int tag, const void *body, size_t len,
                    tfc_status *st) {
    uint8_t *m = malloc(len + 8);
    if (!m) {
        tfc_status_set(st, TFC_RESOURCE_EXHAUSTED, "out of memory sending a message");
        return -1;
    }
    memcpy(m, &s->incarnation, 8);
    if (len) memcpy(m + 8, body, len);
    return srv_send(s, dst, 1, tag, m, len + 8, m, NULL, st);
}

int srv_send_buf(tfc_server *s, int dst, int tag, wire_buf *b, tfc_status *st) {
    if (b->oom) {
        free(b->p);
        tfc_status_set(st, TFC_RESOURCE_EXHAUSTED, "out of memory building a message");
        return -1;
    }
    int rc = send_ctl(s, dst, tag, b->p, b->n, st);
    free(b->p);
    return rc;
}

static void send_status_msg(tfc_server *s, int dst, int tag, uint64_t id, const tfc_status *st) {
    wire_buf b = {0};
    wire_u64(&b, id);
    wire_u32(&b, (uint32_t)st->code);
    wire_str(&b, st->code == TFC_OK ? "" : st->msg);
    tfc_status ignore;
    srv_send_buf(s, dst, tag, &b, &ignore);
}

/* ---- partitions ---------------------------------------------------------- */

static void partition_free(partition *p) {
    if (!p) return;
    for (int i = 0; i < p->nfeeds; i++) free(p->feed_keys ? p->feed_keys[i] : NULL);
    for (int i = 0; i < p->nfetches; i++) free(p->fetch_keys ? p->fetch_keys[i] : NULL);
    free(p->feeds);
    free(p->feed_kind);
    free(p->feed_index);
    free(p->feed_keys);
    free(p->fetches);
    free(p->fetch_kind);
    free(p->fetch_index);
    free(p->fetch_keys);
    free(p);
}

/* Reads a list of (kind, index, tensor name, key) into names/kinds/... */
static int read_ends(wire_rd *r, int *n, char ***names, int **kind, int **index, char ***keys) {
    uint32_t m = wire_get_u32(r);
    if (r->bad || m > 1000000) return -1;
    *n = (int)m;
    *names = calloc(m + 1, sizeof **names);
    *kind = calloc(m + 1, sizeof **kind);
    *index = calloc(m + 1, sizeof **index);
    *keys = calloc(m + 1, sizeof **keys);
    if (!*names || !*kind || !*index || !*keys) return -1;
    for (uint32_t i = 0; i < m; i++) {
        (*kind)[i] = wire_get_u8(r);
        (*index)[i] = (int)wire_get_u32(r);
        (*names)[i] = wire_get_str(r);
        (*keys)[i] = wire_get_str(r);
        if (r->bad) return -1;
    }
    return 0;
}

static void free_names(char **v, int n) {
    for (int i = 0; v && i < n; i++) free(v[i]);
    free(v);
}

/* Is tensor name "node:i" an output of one of the shared variables? */
static int shared_var_index(char **vars, int n, const char *tensor) {
    size_t len = strcspn(tensor, ":");
    for (int i = 0; i < n; i++)
        if (strlen(vars[i]) == len && !strncmp(vars[i], tensor, len)) return i;
    return -1;
}

int srv_register(tfc_server *s, int master_rank, const void *msg, size_t len, uint64_t *handle,
                 tfc_status *st) {
    wire_rd r = {msg, len, 0, 0};
    *handle = wire_get_u64(&r);
    uint32_t nvars = wire_get_u32(&r);
    int rc = -1, nfeed = 0, nfetch = 0;
    char **vars = NULL, **feed_names = NULL, **fetch_names = NULL;
    const char **keep = NULL, **map_names = NULL;
    tfc_output *map_values = NULL;
    partition *p = calloc(1, sizeof *p);
    char who[96];
    srv_task_name(s, master_rank, who, sizeof who);
    if (!p || r.bad || nvars > 1000000) goto bad;
    vars = calloc(nvars + 1, sizeof *vars);
    if (!vars) goto bad;
    for (uint32_t i = 0; i < nvars; i++)
        if (!(vars[i] = wire_get_str(&r))) goto bad;
    if (read_ends(&r, &nfeed, &feed_names, &p->feed_kind, &p->feed_index, &p->feed_keys) ||
        read_ends(&r, &nfetch, &fetch_names, &p->fetch_kind, &p->fetch_index, &p->fetch_keys))
        goto bad;
    p->nfeeds = nfeed;
    p->nfetches = nfetch;
    uint64_t gdlen;
    const void *gd = wire_get_bytes(&r, &gdlen);
    if (!gd || r.bad) goto bad;
    p->handle = *handle;
    p->master_rank = master_rank;
    p->feeds = calloc((size_t)nfeed + 1, sizeof *p->feeds);
    p->fetches = calloc((size_t)nfetch + 1, sizeof *p->fetches);
    keep = calloc((size_t)(nfeed + nfetch + nvars) + 1, sizeof *keep);
    map_names = calloc((size_t)nvars + 1, sizeof *map_names);
    map_values = calloc((size_t)nvars + 1, sizeof *map_values);
    if (!p->feeds || !p->fetches || !keep || !map_names || !map_values) goto oom;

    pthread_mutex_lock(&s->store_lock);
    /* (a) the variables this task does not hold yet join its store under
     * their own names: every later partition naming them shares them */
    int nnew = 0;
    for (uint32_t i = 0; i < nvars; i++)
        if (!tfc_graph_node_by_name(s->graph, vars[i])) keep[nnew++] = vars[i];
    if (nnew) {
        tfc_import_options io = {0};
        io.keep_outputs = keep;
        io.nkeep_outputs = nnew;
        if (tfc_graph_import_graphdef_v2(s->graph, gd, (size_t)gdlen, &io, st)) {
            tfc_graph_clear_error(s->graph);
            pthread_mutex_unlock(&s->store_lock);
            goto fail;
        }
    }
    for (uint32_t i = 0; i < nvars; i++) {
        tfc_node *v = tfc_graph_node_by_name(s->graph, vars[i]);
        if (!v) {
            tfc_status_set(st, TFC_INTERNAL, "variable '%s' missing after its import",
                           vars[i]);
            pthread_mutex_unlock(&s->store_lock);
            goto fail;
        }
        map_names[i] = vars[i];
        map_values[i] = tfc_out(v, 0);
    }
    /* (b) the rest under a prefix of its own, reading the shared variables */
    int nk = 0;
    for (int i = 0; i < nfeed + nfetch; i++) {
        const char *nm = i < nfeed ? feed_names[i] : fetch_names[i - nfeed];
        if (shared_var_index(vars, (int)nvars, nm) < 0) keep[nk++] = nm;
    }
    char prefix[64];
    snprintf(prefix, sizeof prefix, "part%d_%d", master_rank, s->nimports++);
    tfc_import_options io = {0};
    io.prefix = prefix;
    io.map_names = map_names;
    io.map_values = map_values;
    io.nmap = (int)nvars;
    io.keep_outputs = keep;
    io.nkeep_outputs = nk;
    if (tfc_graph_import_graphdef_v2(s->graph, gd, (size_t)gdlen, &io, st)) {
        tfc_graph_clear_error(s->graph);
        pthread_mutex_unlock(&s->store_lock);
        goto fail;
    }
    for (int i = 0; i < nfeed + nfetch; i++) {
        char name[600];
        const char *nm = i < nfeed ? feed_names[i] : fetch_names[i - nfeed];
        /* a shared variable is the store's own node, not the part's copy */
        if (shared_var_index(vars, (int)nvars, nm) >= 0)
            snprintf(name, sizeof name, "%s", nm);
        else
            snprintf(name, sizeof name, "%s/%s", prefix, nm);
        tfc_output *o = i < nfeed ? &p->feeds[i] : &p->fetches[i - nfeed];
        if (tfc_graph_output_by_name(s->graph, name, o, st)) {
            pthread_mutex_unlock(&s->store_lock);
            goto fail;
        }
    }
    pthread_mutex_unlock(&s->store_lock);

    pthread_mutex_lock(&s->lock);
    if (s->npart == s->part_cap) {
        int cap = s->part_cap ? s->part_cap * 2 : 8;
        partition **v = realloc(s->parts, (size_t)cap * sizeof *v);
        if (!v) {
            pthread_mutex_unlock(&s->lock);
            goto oom;
        }
        s->parts = v;
        s->part_cap = cap;
    }
    s->parts[s->npart++] = p;
    pthread_mutex_unlock(&s->lock);
    p = NULL;
    rc = 0;
    goto out;
bad:
    tfc_status_set(st, TFC_INVALID_ARGUMENT, "a malformed partition from %s", who);
    goto fail;
oom:
    tfc_status_set(st, TFC_RESOURCE_EXHAUSTED, "out of memory registering a partition from %s",
                   who);
fail:
    rc = -1;
out:
    partition_free(p);
    free_names(vars, (int)nvars);
    free_names(feed_names, nfeed);
    free_names(fetch_names, nfetch);
    free(keep);
    free(map_names);
    free(map_values);
    return rc;
}

void srv_deregister(tfc_server *s, uint64_t handle) {
    pthread_mutex_lock(&s->lock);
    for (int i = 0; i < s->npart; i++)
        if (s->parts[i]->handle == handle) {
            partition_free(s->parts[i]);
            s->parts[i] = s->parts[--s->npart];
            break;
        }
    pthread_mutex_unlock(&s->lock);
}

/* ---- partition runs -------------------------------------------------------- */

typedef struct feed_arg {
    part_run *pr;
    int i;
} feed_arg;

struct part_run {
    tfc_server *s;
    partition *part;
    uint64_t step;
    int master_rank;
    int remote;                /* report to the master with MSG_DONE */
    tfc_rendezvous *rdv;
    tfc_async_run *a;
    pthread_mutex_t feed_lock; /* tfc_async_run_feed calls must not overlap */
    int cancelled;
    feed_arg *fa;
    tfc_tensor **user_fetches;
    pthread_mutex_t st_lock;
    tfc_status st;             /* errors of ours (a send that failed) */
    int err;
    int abort_sent;            /* the step was aborted here after a kernel's error */
    char *produced;            /* per fetch: on_output saw it */
    atomic_int ended;
    void (*done)(void *);
    void *done_arg;
};

static void run_error(part_run *pr, const tfc_status *st) {
    pthread_mutex_lock(&pr->st_lock);
    if (!pr->err) {
        pr->err = 1;
        tfc_status_copy(&pr->st, st);
    }
    pthread_mutex_unlock(&pr->st_lock);
}

static void cancel_locked(part_run *pr, const char *why) {
    if (pr->cancelled) return;
    pr->cancelled = 1;
    tfc_async_run_cancel(pr->a, why);
}

static void on_feed(void *arg, const tfc_status *st, tfc_tensor *value, int is_dead) {
    feed_arg *fa = arg;
    part_run *pr = fa->pr;
    pthread_mutex_lock(&pr->feed_lock);
    if (st->code != TFC_OK) {
        run_error(pr, st);
        cancel_locked(pr, st->msg);
    } else if (is_dead || !value) {
        tfc_status e;
        tfc_status_set(&e, TFC_INTERNAL, "received a dead tensor for %s",
                       pr->part->feed_keys[fa->i]);
        run_error(pr, &e);
        cancel_locked(pr, e.msg);
    } else {
        tfc_async_run_feed(pr->a, fa->i, value);
    }
    pthread_mutex_unlock(&pr->feed_lock);
    tfc_tensor_free(value);
}

static void on_output(void *user, int i, tfc_tensor *value) {
    part_run *pr = user;
    partition *p = pr->part;
    pr->produced[i] = 1;
    switch (p->fetch_kind[i]) {
    case PART_TRANSFER: {
        tfc_status st;
        if (tfc_rendezvous_send(pr->rdv, p->fetch_keys[i], tfc_tensor_ref(value), 0, &st)) {
            run_error(pr, &st);
            srv_step_abort(pr->s, pr->step, &st);
        }
        break;
    }
    case PART_USER:
        if (pr->user_fetches && !pr->user_fetches[p->fetch_index[i]])
            /* a variable's storage goes on changing: the user gets a copy */
            pr->user_fetches[p->fetch_index[i]] =
                (value->flags & TFC_TENSOR_VARIABLE) ? tfc_tensor_copy(value)
                                                     : tfc_tensor_ref(value);
        break;
    default:
        break;
    }
}

static void on_run_done(void *user) {
    part_run *pr = user;
    void (*done)(void *) = pr->done;
    void *arg = pr->done_arg;
    tfc_server *s = pr->s;
    int remote = pr->remote;
    /* remote runs are finished by the progress thread, which may free pr
     * as soon as `ended` is set: nothing of pr after this */
    atomic_store(&pr->ended, 1);
    if (remote) return;
    (void)s;
    if (done) done(arg);
}

static int runs_add(tfc_server *s, part_run *pr) {
    pthread_mutex_lock(&s->lock);
    if (s->nruns == s->run_cap) {
        int cap = s->run_cap ? s->run_cap * 2 : 8;
        part_run **v = realloc(s->runs, (size_t)cap * sizeof *v);
        if (!v) {
            pthread_mutex_unlock(&s->lock);
            return -1;
        }
        s->runs = v;
        s->run_cap = cap;
    }
    s->runs[s->nruns++] = pr;
    pthread_mutex_unlock(&s->lock);
    return 0;
}

static void runs_remove_locked(tfc_server *s, part_run *pr) {
    for (int i = 0; i < s->nruns; i++)
        if (s->runs[i] == pr) {
            s->runs[i] = s->runs[--s->nruns];
            return;
        }
}

static void part_run_free(part_run *pr) {
    /* the feed that completes a run is given to it inside on_feed, under
     * feed_lock, on the progress thread: the run may end, and its owner get
     * here, before on_feed has unlocked. Taking the lock once waits for that
     * unlock; after it on_feed touches nothing of pr. */
    pthread_mutex_lock(&pr->feed_lock);
    pthread_mutex_unlock(&pr->feed_lock);
    tfc_rendezvous_free(pr->rdv);
    pthread_mutex_destroy(&pr->feed_lock);
    pthread_mutex_destroy(&pr->st_lock);
    free(pr->fa);
    free(pr->produced);
    free(pr);
}

part_run *srv_run_partition(tfc_server *s, uint64_t handle, uint64_t step,
                            tfc_tensor *const *user_feeds, tfc_tensor **user_fetches,
                            void (*done)(void *), void *done_arg, tfc_status *st) {
    pthread_mutex_lock(&s->lock);
    partition *p = NULL;
    for (int i = 0; i < s->npart; i++)
        if (s->parts[i]->handle == handle) p = s->parts[i];
    int failed = srv_failed_locked(s, st);
    pthread_mutex_unlock(&s->lock);
    if (failed) return NULL;
    if (!p) {
        tfc_status_set(st, TFC_NOT_FOUND, "no partition with handle %" PRIx64 " on %s", handle,
                       s->device);
        return NULL;
    }
    part_run *pr = calloc(1, sizeof *pr);
    tfc_tensor **feed_values = calloc((size_t)p->nfeeds + 1, sizeof *feed_values);
    if (!pr || !feed_values || !(pr->fa = calloc((size_t)p->nfeeds + 1, sizeof *pr->fa)) ||
        !(pr->produced = calloc((size_t)p->nfetches + 1, 1))) {
        if (pr) free(pr->fa);
        free(pr);
        free(feed_values);
        tfc_status_set(st, TFC_RESOURCE_EXHAUSTED, "out of memory starting a partition");
        return NULL;
    }
    pthread_mutex_init(&pr->feed_lock, NULL);
    pthread_mutex_init(&pr->st_lock, NULL);
    atomic_init(&pr->ended, 0);
    pr->s = s;
    pr->part = p;
    pr->step = step;
    pr->master_rank = p->master_rank;
    pr->remote = user_fetches == NULL && p->master_rank != s->rank;
    pr->user_fetches = user_fetches;
    pr->done = done;
    pr->done_arg = done_arg;
    pr->rdv = srv_step_rendezvous(s, step, st);
    if (!pr->rdv) {
        free(feed_values);
        part_run_free(pr);
        return NULL;
    }
    for (int i = 0; i < p->nfeeds; i++)
        if (p->feed_kind[i] == PART_USER) feed_values[i] = user_feeds[p->feed_index[i]];
    pthread_mutex_lock(&s->store_lock);
    pr->a = tfc_session_start_async(s->sess, p->feeds, p->nfeeds, feed_values, p->fetches,
                                    p->nfetches, on_output, on_run_done, pr, st);
    pthread_mutex_unlock(&s->store_lock);
    free(feed_values);
    if (!pr->a) {
        part_run_free(pr);
        return NULL;
    }
    if (runs_add(s, pr)) {
        /* cannot be watched: end it at once */
        tfc_status e;
        tfc_status_set(&e, TFC_RESOURCE_EXHAUSTED, "out of memory starting a partition");
        run_error(pr, &e);
        pthread_mutex_lock(&pr->feed_lock);
        cancel_locked(pr, e.msg);
        pthread_mutex_unlock(&pr->feed_lock);
        while (!atomic_load(&pr->ended)) sleep_ns(MS);
        tfc_async_run_free(pr->a, NULL);
        part_run_free(pr);
        tfc_status_copy(st, &e);
        return NULL;
    }
    for (int i = 0; i < p->nfeeds; i++)
        if (p->feed_kind[i] == PART_TRANSFER) {
            pr->fa[i].pr = pr;
            pr->fa[i].i = i;
            tfc_rendezvous_recv_async(pr->rdv, p->feed_keys[i], on_feed, &pr->fa[i]);
        }
    return pr;
}

int part_run_error(part_run *pr, tfc_status *st) {
    pthread_mutex_lock(&pr->st_lock);
    int err = pr->err;
    if (err) tfc_status_copy(st, &pr->st);
    pthread_mutex_unlock(&pr->st_lock);
    if (err || tfc_async_run_error(pr->a, st)) return 1;
    if (!atomic_load(&pr->ended)) return 0;
    for (int i = 0; i < pr->part->nfetches; i++)
        if (!pr->produced[i]) {
            tfc_output o = pr->part->fetches[i];
            tfc_status_set(st, TFC_FAILED_PRECONDITION,
                           "Attempting to use uninitialized value %s (or %s:%d produced no "
                           "value) on %s",
                           tfc_node_name(o.node), tfc_node_name(o.node), o.index, pr->s->device);
            return 1;
        }
    return 0;
}

void part_run_finish(part_run *pr, tfc_status *st) {
    tfc_server *s = pr->s;
    pthread_mutex_lock(&s->lock);
    runs_remove_locked(s, pr);
    pthread_mutex_unlock(&s->lock);
    tfc_status run_st;
    tfc_status_set(&run_st, TFC_OK, NULL);
    int failed = tfc_async_run_free(pr->a, &run_st) != 0;
    /* the kernels' own error first; ours (a failed send) if it was first */
    if (pr->err && (!failed || run_st.code == TFC_CANCELLED))
        tfc_status_copy(st, &pr->st);
    else if (failed)
        tfc_status_copy(st, &run_st);
    else
        tfc_status_set(st, TFC_OK, NULL);
    /* a run that ends well computed every fetch, except a variable never
     * initialized, whose value does not exist: say so rather than leave
     * its receiver waiting */
    for (int i = 0; st->code == TFC_OK && i < pr->part->nfetches; i++)
        if (!pr->produced[i]) {
            tfc_output o = pr->part->fetches[i];
            tfc_status_set(st, TFC_FAILED_PRECONDITION,
                           "Attempting to use uninitialized value %s (or %s:%d produced no "
                           "value) on %s",
                           tfc_node_name(o.node), tfc_node_name(o.node), o.index, s->device);
        }
    part_run_free(pr);
}

/* Progress thread: a run whose kernel failed aborts its step here (so that
 * it stops waiting for feeds); a remote run that ended reports to its
 * master and is freed. */
static int watch_runs(tfc_server *s) {
    int busy = 0;
    for (;;) {
        part_run *todo = NULL;
        int abort_it = 0;
        uint64_t abort_step = 0;
        tfc_status st;
        pthread_mutex_lock(&s->lock);
        for (int i = 0; i < s->nruns && !todo; i++) {
            part_run *pr = s->runs[i];
            if (pr->remote && atomic_load(&pr->ended)) {
                todo = pr;
                s->runs[i] = s->runs[--s->nruns];
            } else if (!pr->abort_sent && !atomic_load(&pr->ended) &&
                       tfc_async_run_error(pr->a, &st)) {
                pr->abort_sent = 1;
                todo = pr;
                abort_it = 1;
                /* a local run's master may free it once the lock is gone */
                abort_step = pr->step;
            }
        }
        pthread_mutex_unlock(&s->lock);
        if (!todo) return busy;
        busy = 1;
        if (abort_it) {
            srv_step_abort(s, abort_step, &st);
            continue;
        }
        uint64_t step = todo->step;
        int master = todo->master_rank;
        tfc_status_set(&st, TFC_OK, NULL);
        /* part_run_finish removes it from the list again: harmless */
        part_run_finish(todo, &st);
        TRACE("tfc trace: rank %d step %llx done: %s\n", s->rank, (unsigned long long)step,
              st.code == TFC_OK ? "ok" : st.msg);
        send_status_msg(s, master, MSG_DONE, step, &st);
    }
}

/* ---- the progress thread --------------------------------------------------- */

static void fail_server(tfc_server *s, const tfc_status *why) {
    pthread_mutex_lock(&s->lock);
    int first = !s->failed;
    if (first) {
        s->failed = 1;
        tfc_status_copy(&s->failure, why);
    }
    pthread_cond_broadcast(&s->cond);
    pthread_mutex_unlock(&s->lock);
    if (first) srv_steps_abort_all(s, why);
}

static void on_step_done(tfc_server *s, int src, wire_rd *r) {
    uint64_t step = wire_get_u64(r);
    tfc_code code = (tfc_code)wire_get_u32(r);
    char *msg = wire_get_str(r);
    char who[96];
    srv_task_name(s, src, who, sizeof who);
    pthread_mutex_lock(&s->lock);
    for (step_waiter *w = s->step_waiters; w; w = w->next) {
        if (w->step != step) continue;
        for (int i = 0; i < w->nranks; i++)
            if (w->ranks[i] == src) {
                w->ranks[i] = -1;
                w->remaining--;
            }
        /* the first real error wins over the cancellations it caused */
        if (code != TFC_OK &&
            (!w->failed || (w->status.code == TFC_CANCELLED && code != TFC_CANCELLED))) {
            w->failed = 1;
            tfc_status_set(&w->status, code, "%s (on %s)", msg ? msg : "?", who);
        }
        pthread_cond_broadcast(&s->cond);
    }
    pthread_mutex_unlock(&s->lock);
    free(msg);
}

static void handle_ctl(tfc_server *s, int src, int tag, const uint8_t *buf, size_t len) {
    wire_rd r = {buf, len, 0, 0};
    tfc_status st;
    if (tag != MSG_HEARTBEAT)
        TRACE("tfc trace: rank %d got message %d (%zu bytes) from rank %d\n", s->rank, tag, len,
              src);
    switch (tag) {
    case MSG_HELLO: {
        uint64_t inc = wire_get_u64(&r);
        pthread_mutex_lock(&s->lock);
        s->peers[src].started = 1;
        s->peers[src].gone = 0;
        s->peers[src].incarnation = inc;
        s->peers[src].last_heard_ns = tfc_now_ns();
        pthread_cond_broadcast(&s->cond);
        pthread_mutex_unlock(&s->lock);
        break;
    }
    case MSG_BYE:
        pthread_mutex_lock(&s->lock);
        s->peers[src].gone = 1;
        pthread_cond_broadcast(&s->cond);
        pthread_mutex_unlock(&s->lock);
        break;
    case MSG_HEARTBEAT:
        break;
    case MSG_REGISTER: {
        uint64_t handle = 0;
        tfc_status_set(&st, TFC_OK, NULL);
        srv_register(s, src, buf, len, &handle, &st);
        send_status_msg(s, src, MSG_REGISTER_REPLY, handle, &st);
        break;
    }
    case MSG_REGISTER_REPLY: {
        uint64_t handle = wire_get_u64(&r);
        tfc_code code = (tfc_code)wire_get_u32(&r);
        char *msg = wire_get_str(&r);
        pthread_mutex_lock(&s->lock);
        for (reg_waiter *w = s->reg_waiters; w; w = w->next)
            if (w->handle == handle && w->rank == src) {
                w->answered = 1;
                if (code == TFC_OK)
                    tfc_status_set(&w->status, TFC_OK, NULL);
                else
                    tfc_status_set(&w->status, code, "%s", msg ? msg : "?");
            }
        pthread_cond_broadcast(&s->cond);
        pthread_mutex_unlock(&s->lock);
        free(msg);
        break;
    }
    case MSG_DEREGISTER:
        srv_deregister(s, wire_get_u64(&r));
        break;
    case MSG_RUN: {
        uint64_t handle = wire_get_u64(&r), step = wire_get_u64(&r);
        if (r.bad) break;
        if (!srv_run_partition(s, handle, step, NULL, NULL, NULL, NULL, &st))
            send_status_msg(s, src, MSG_DONE, step, &st);
        break;
    }
    case MSG_DONE:
        on_step_done(s, src, &r);
        break;
    case MSG_ABORT: {
        uint64_t step = wire_get_u64(&r);
        tfc_code code = (tfc_code)wire_get_u32(&r);
        char *msg = wire_get_str(&r);
        tfc_status_set(&st, code == TFC_OK ? TFC_ABORTED : code, "%s", msg ? msg : "aborted");
        free(msg);
        srv_step_abort(s, step, &st);
        break;
    }
    default:
        break;
    }
}

/* Receives what is there on both communicators; 1 when anything came. */
static int poll_incoming(tfc_server *s) {
    int busy = 0;
    for (int k = 0; k < 64; k++) {
        int flag = 0, which = -1;
        MPI_Message m;
        MPI_Status stt;
        if (MPI_Improbe(MPI_ANY_SOURCE, MPI_ANY_TAG, s->ctl, &flag, &m, &stt) == MPI_SUCCESS &&
            flag)
            which = 1;
        else if (MPI_Improbe(MPI_ANY_SOURCE, TAG_TENSOR, s->data, &flag, &m, &stt) ==
                     MPI_SUCCESS &&
                 flag)
            which = 0;
        if (which < 0) break;
        int count = 0;
        MPI_Get_count(&stt, MPI_BYTE, &count);
        uint8_t *buf = malloc((size_t)count + 1);
        if (!buf) {
            /* cannot even take it off the queue: the peer's message is lost */
            uint8_t scratch;
            MPI_Mrecv(&scratch, 0, MPI_BYTE, &m, MPI_STATUS_IGNORE);
            continue;
        }
        MPI_Mrecv(buf, count, MPI_BYTE, &m, MPI_STATUS_IGNORE);
        int src = stt.MPI_SOURCE;
        busy = 1;
        if (which) {
            uint64_t inc = 0;
            if (count >= 8) memcpy(&inc, buf, 8);
            pthread_mutex_lock(&s->lock);
            int stale = count < 8 || (stt.MPI_TAG != MSG_HELLO &&
                                      (!s->peers[src].started || s->peers[src].incarnation != inc));
            if (!stale) s->peers[src].last_heard_ns = tfc_now_ns();
            pthread_mutex_unlock(&s->lock);
            if (!stale) handle_ctl(s, src, stt.MPI_TAG, buf + 8, (size_t)count - 8);
        } else {
            pthread_mutex_lock(&s->lock);
            s->peers[src].last_heard_ns = tfc_now_ns();
            pthread_mutex_unlock(&s->lock);
            srv_on_tensor_header(s, src, buf, (size_t)count);
        }
        free(buf);
    }
    return busy;
}

/* Completes requests; 1 when any completed. */
static int test_requests(tfc_server *s, pending_req **list) {
    int busy = 0;
    pending_req **pp = list;
    while (*pp) {
        pending_req *p = *pp;
        int flag = 0;
        MPI_Test(&p->req, &flag, MPI_STATUS_IGNORE);
        if (!flag) {
            pp = &p->next;
            continue;
        }
        *pp = p->next;
        busy = 1;
        if (p->heartbeat) {
            pthread_mutex_lock(&s->lock);
            s->peers[p->peer].hb_pending = 0;
            pthread_mutex_unlock(&s->lock);
        }
        if (p->recv) {
            tfc_tensor *v = p->value;
            p->value = NULL;
            if (p->packed) {
                if (tensor_unpack_strings(v, p->packed, p->packed_len)) {
                    tfc_tensor_free(v);
                    v = NULL;
                }
            }
            if (v) srv_step_deliver(s, p->step, p->key, v, 0);
            /* a string payload that would not unpack: the receiver's step
             * is aborted so that it does not wait */
            else {
                tfc_status e;
                tfc_status_set(&e, TFC_DATA_LOSS, "a corrupt string tensor arrived for %s",
                               p->key);
                srv_step_abort(s, p->step, &e);
            }
        }
        pending_release(p);
    }
    return busy;
}

static void heartbeat_and_watch(tfc_server *s) {
    int64_t now = tfc_now_ns();
    int64_t timeout = s->opts.peer_timeout_ms * MS;
    int lost = -1;
    int64_t silent = 0;
    int *beat = calloc((size_t)s->size, sizeof *beat);
    pthread_mutex_lock(&s->lock);
    for (int r = 0; r < s->size; r++) {
        peer *p = &s->peers[r];
        if (r == s->rank || !p->started || p->gone || p->lost) continue;
        if (now - p->last_heard_ns > timeout && lost < 0) {
            p->lost = 1;
            lost = r;
            silent = now - p->last_heard_ns;
            continue;
        }
        if (!p->hb_pending && beat) {
            p->hb_pending = 1;
            beat[r] = 1;
        }
    }
    pthread_mutex_unlock(&s->lock);
    for (int r = 0; beat && r < s->size; r++) {
        if (!beat[r]) continue;
        pending_req *p = calloc(1, sizeof *p);
        uint64_t *inc = malloc(8);
        if (!p || !inc) {
            free(p);
            free(inc);
            continue;
        }
        *inc = s->incarnation;
        p->owned = inc;
        p->heartbeat = 1;
        p->peer = r;
        if (MPI_Isend(inc, 8, MPI_BYTE, r, MSG_HEARTBEAT, s->ctl, &p->req) != MPI_SUCCESS) {
            free(p);
            free(inc);
            continue;
        }
        srv_add_pending(s, p);
    }
    free(beat);
    if (lost >= 0) {
        char who[96];
        tfc_status st;
        tfc_status_set(&st, TFC_UNAVAILABLE,
                       "task %s is lost: no message from it for %.1f s (its heartbeats come "
                       "every %" PRId64 " ms; tfc_server_options.peer_timeout_ms is %" PRId64
                       "); it died or stopped responding",
                       srv_task_name(s, lost, who, sizeof who), (double)silent / 1e9,
                       s->opts.heartbeat_ms, s->opts.peer_timeout_ms);
        fail_server(s, &st);
    }
}

static void *progress_main(void *arg) {
    tfc_server *s = arg;
    pending_req *mine = NULL;
    int64_t last_hb = 0, last_busy = tfc_now_ns(), nap = 20000;
    while (!atomic_load(&s->stopping)) {
        int busy = poll_incoming(s);
        pthread_mutex_lock(&s->lock);
        pending_req *o = s->outbox;
        s->outbox = NULL;
        pthread_mutex_unlock(&s->lock);
        while (o) {
            pending_req *n = o->next;
            o->next = mine;
            mine = o;
            o = n;
        }
        busy |= test_requests(s, &mine);
        busy |= watch_runs(s);
        int64_t now = tfc_now_ns();
        if (now - last_hb >= s->opts.heartbeat_ms * MS) {
            heartbeat_and_watch(s);
            last_hb = now;
        }
        if (busy) {
            last_busy = now;
            nap = 20000;
        } else if (now - last_busy < 2 * MS) {
            /* messages come in bursts: keep polling a little while */
            sched_yield();
        } else {
            sleep_ns(nap);
            if (nap < MS) nap *= 2;
        }
    }
    /* stopping: give the requests still in flight (a goodbye, a last
     * DONE) a bounded time to complete */
    int64_t until = tfc_now_ns() + 2000 * MS;
    for (;;) {
        pthread_mutex_lock(&s->lock);
        pending_req *o = s->outbox;
        s->outbox = NULL;
        pthread_mutex_unlock(&s->lock);
        while (o) {
            pending_req *n = o->next;
            o->next = mine;
            mine = o;
            o = n;
        }
        test_requests(s, &mine);
        watch_runs(s);
        if (!mine || tfc_now_ns() > until) break;
        sleep_ns(100000);
    }
    /* what never completed went to a lost task: its buffers are kept
     * (MPI may still read them) and given up */
    while (mine) {
        pending_req *n = mine->next;
        int flag = 0;
        if (mine->recv) {
            MPI_Cancel(&mine->req);
            MPI_Test(&mine->req, &flag, MPI_STATUS_IGNORE);
        }
        if (!flag) MPI_Request_free(&mine->req);
        pending_release(mine);
        mine = n;
    }
    return NULL;
}

/* ---- the server's life ------------------------------------------------------ */

/* The two communicators of this process's servers: duplicated once, at
 * the first server (a collective every rank joins; the wait is bounded,
 * since a rank that never makes its server would hang us forever), and
 * kept until MPI_Finalize, so that no message of a finished server is
 * left on a communicator being freed. Later servers reuse them and tell
 * an earlier server's messages apart by the incarnation they carry. */
static pthread_mutex_t comms_lock = PTHREAD_MUTEX_INITIALIZER;
static MPI_Comm pool_ctl = MPI_COMM_NULL, pool_data = MPI_COMM_NULL;

static int comms_get(tfc_server *s, tfc_status *st) {
    pthread_mutex_lock(&comms_lock);
    if (pool_ctl != MPI_COMM_NULL) {
        s->ctl = pool_ctl;
        s->data = pool_data;
        pthread_mutex_unlock(&comms_lock);
        return 0;
    }
    MPI_Request req[2];
    if (!tfc_mpi_check(MPI_Comm_idup(MPI_COMM_WORLD, &s->ctl, &req[0]), "MPI_Comm_idup", st) ||
        !tfc_mpi_check(MPI_Comm_idup(MPI_COMM_WORLD, &s->data, &req[1]), "MPI_Comm_idup", st)) {
        pthread_mutex_unlock(&comms_lock);
        return -1;
    }
    int64_t t0 = tfc_now_ns(), next_note = t0 + 2000 * MS;
    for (;;) {
        int flag = 0;
        MPI_Testall(2, req, &flag, MPI_STATUSES_IGNORE);
        if (flag) break;
        int64_t now = tfc_now_ns();
        if (now - t0 > s->opts.start_timeout_ms * MS) {
            tfc_status_set(st, TFC_DEADLINE_EXCEEDED,
                           "%s: the other tasks did not create their servers within %" PRId64
                           " ms (tfc_server_options.start_timeout_ms); every rank of the "
                           "cluster must call tfc_server_new",
                           s->device, s->opts.start_timeout_ms);
            /* the duplication cannot be taken back: leave the comms alone */
            s->ctl = s->data = MPI_COMM_NULL;
            pthread_mutex_unlock(&comms_lock);
            return -1;
        }
        if (now > next_note && !s->opts.quiet) {
            fprintf(stderr, "tfc: %s waits for the other tasks to create their servers (%.0f s "
                            "of at most %.0f s)\n",
                    s->device, (double)(now - t0) / 1e9,
                    (double)s->opts.start_timeout_ms / 1e3);
            next_note = now + 5000 * MS;
        }
        sleep_ns(MS);
    }
    MPI_Comm_set_errhandler(s->ctl, MPI_ERRORS_RETURN);
    MPI_Comm_set_errhandler(s->data, MPI_ERRORS_RETURN);
    pool_ctl = s->ctl;
    pool_data = s->data;
    pthread_mutex_unlock(&comms_lock);
    return 0;
}

static int64_t opt_or(int64_t v, int64_t dflt) { return v > 0 ? v : dflt; }

tfc_server *tfc_server_new(const tfc_cluster *c, const char *job, int task,
                           const tfc_server_options *opts, tfc_status *st) {
    if (!tfc_mpi_ready()) {
        tfc_status_set(st, TFC_FAILED_PRECONDITION,
                       "tfc_server_new needs MPI: call tfc_mpi_init first");
        return NULL;
    }
    if (!c) {
        tfc_status_set(st, TFC_INVALID_ARGUMENT, "tfc_server_new: no cluster");
        return NULL;
    }
    int rank = tfc_mpi_rank(), size = tfc_mpi_size();
    if (c->ntasks > size) {
        tfc_status_set(st, TFC_INVALID_ARGUMENT,
                       "the cluster has %d tasks but the MPI world has %d ranks; expected at "
                       "most one task per rank (start more ranks with mpirun -np)",
                       c->ntasks, size);
        return NULL;
    }
    if (!job) {
        if (tfc_cluster_rank_task(c, rank, &job, &task)) {
            tfc_status_set(st, TFC_INVALID_ARGUMENT,
                           "rank %d holds no task of the cluster (it has %d tasks)", rank,
                           c->ntasks);
            return NULL;
        }
    }
    int want = tfc_cluster_task_rank(c, job, task, st);
    if (want < 0) return NULL;
    if (want != rank) {
        tfc_status_set(st, TFC_INVALID_ARGUMENT,
                       "task /job:%s/task:%d is rank %d in the cluster; this process is rank %d",
                       job, task, want, rank);
        return NULL;
    }
    const char *tr = getenv("TFC_DISTRIBUTED_TRACE");
    trace = tr && *tr && strcmp(tr, "0");
    tfc_server *s = calloc(1, sizeof *s);
    if (!s) goto oom;
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->cond, NULL);
    pthread_mutex_init(&s->store_lock, NULL);
    s->ctl = s->data = MPI_COMM_NULL;
    if (opts) s->opts = *opts;
    s->opts.threads = s->opts.threads < 2 ? 2 : s->opts.threads;
    s->opts.heartbeat_ms = opt_or(s->opts.heartbeat_ms, 500);
    s->opts.peer_timeout_ms = opt_or(s->opts.peer_timeout_ms, 10000);
    s->opts.start_timeout_ms = opt_or(s->opts.start_timeout_ms, 60000);
    s->cluster = tfc_cluster_copy(c);
    s->peers = calloc((size_t)size, sizeof *s->peers);
    if (!s->cluster || !s->peers) goto oom;
    snprintf(s->job, sizeof s->job, "%s", job);
    s->task = task;
    s->rank = rank;
    s->size = size;
    tfc_cluster_device_of_rank(c, rank, s->device, sizeof s->device);
    snprintf(s->target, sizeof s->target, "mpi://%s", s->device);
    /* an incarnation per server, as TensorFlow's devices have */
    s->incarnation = ((uint64_t)tfc_now_ns() * 0x9E3779B97F4A7C15ull) ^ ((uint64_t)rank << 48) ^
                     (uint64_t)(uintptr_t)s;

    if (comms_get(s, st)) {
        tfc_server_free(s);
        return NULL;
    }
    s->graph = tfc_graph_new();
    tfc_session_options so = {0};
    so.inter_op_threads = s->opts.threads;
    if (!s->graph || !(s->sess = tfc_session_new(s->graph, &so, st))) {
        if (!s->graph) tfc_status_set(st, TFC_RESOURCE_EXHAUSTED, "out of memory");
        tfc_server_free(s);
        return NULL;
    }
    tfc_status_set(st, TFC_OK, NULL);
    return s;
oom:
    tfc_status_set(st, TFC_RESOURCE_EXHAUSTED, "out of memory creating a server");
    tfc_server_free(s);
    return NULL;
}

int tfc_server_start(tfc_server *s, tfc_status *st) {
    if (!s) {
        tfc_status_set(st, TFC_INVALID_ARGUMENT, "tfc_server_start: no server");
        return -1;
    }
    pthread_mutex_lock(&s->lock);
    if (s->started || s->stopped) {
        int stopped = s->stopped;
        pthread_mutex_unlock(&s->lock);
        if (stopped) {
            tfc_status_set(st, TFC_FAILED_PRECONDITION, "%s: the server was stopped",
                           s->device);
            return -1;
        }
        tfc_status_set(st, TFC_OK, NULL);
        return 0;
    }
    int64_t now = tfc_now_ns();
    for (int r = 0; r < s->size; r++) s->peers[r].last_heard_ns = now;
    s->started = 1;
    s->peers[s->rank].started = 1;
    pthread_mutex_unlock(&s->lock);
    atomic_store(&s->stopping, 0);
    if (pthread_create(&s->thread, NULL, progress_main, s)) {
        tfc_status_set(st, TFC_RESOURCE_EXHAUSTED, "%s: cannot start the progress thread",
                       s->device);
        return -1;
    }
    s->thread_running = 1;
    for (int r = 0; r < s->size; r++) {
        if (r == s->rank || tfc_cluster_rank_task(s->cluster, r, NULL, NULL)) continue;
        wire_buf b = {0};
        wire_u64(&b, s->incarnation);
        if (srv_send_buf(s, r, MSG_HELLO, &b, st)) return -1;
    }
    tfc_status_set(st, TFC_OK, NULL);
    return 0;
}

int srv_wait_started(tfc_server *s, int r, tfc_status *st) {
    int64_t t0 = tfc_now_ns(), next_note = t0 + 1000 * MS;
    int tries = 0;
    char who[96];
    pthread_mutex_lock(&s->lock);
    while (!s->peers[r].started) {
        if (srv_failed_locked(s, st)) {
            pthread_mutex_unlock(&s->lock);
            return -1;
        }
        int64_t now = tfc_now_ns();
        if (now - t0 > s->opts.start_timeout_ms * MS) {
            pthread_mutex_unlock(&s->lock);
            tfc_status_set(st, TFC_UNAVAILABLE,
                           "task %s did not start its server within %" PRId64
                           " ms (tfc_server_options.start_timeout_ms)",
                           srv_task_name(s, r, who, sizeof who), s->opts.start_timeout_ms);
            return -1;
        }
        if (now >= next_note) {
            tries++;
            if (!s->opts.quiet)
                fprintf(stderr,
                        "tfc: %s waits for task %s to start its server (try %d; giving up "
                        "after %.0f s)\n",
                        s->device, srv_task_name(s, r, who, sizeof who), tries,
                        (double)s->opts.start_timeout_ms / 1e3);
            next_note = now + 1000 * MS;
        }
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 100 * 1000 * 1000;
        if (ts.tv_nsec >= 1000000000) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000;
        }
        pthread_cond_timedwait(&s->cond, &s->lock, &ts);
    }
    pthread_mutex_unlock(&s->lock);
    return 0;
}

int tfc_server_join(tfc_server *s, tfc_status *st) {
    if (!s) {
        tfc_status_set(st, TFC_INVALID_ARGUMENT, "tfc_server_join: no server");
        return -1;
    }
    pthread_mutex_lock(&s->lock);
    if (!s->started) {
        pthread_mutex_unlock(&s->lock);
        tfc_status_set(st, TFC_FAILED_PRECONDITION, "%s: join before start", s->device);
        return -1;
    }
    for (;;) {
        if (srv_failed_locked(s, st)) {
            pthread_mutex_unlock(&s->lock);
            return -1;
        }
        if (s->stopped) break;
        /* every task outside the ps jobs has left */
        int left = 1;
        for (int r = 0; r < s->size && left; r++) {
            const char *job;
            if (r == s->rank || tfc_cluster_rank_task(s->cluster, r, &job, NULL)) continue;
            if (strcmp(job, "ps") && !s->peers[r].gone) left = 0;
        }
        if (left) break;
        pthread_cond_wait(&s->cond, &s->lock);
    }
    pthread_mutex_unlock(&s->lock);
    tfc_status_set(st, TFC_OK, NULL);
    return 0;
}

void tfc_server_stop(tfc_server *s) {
    if (!s) return;
    pthread_mutex_lock(&s->lock);
    int was_started = s->started && !s->stopped;
    s->stopped = 1;
    pthread_cond_broadcast(&s->cond);
    pthread_mutex_unlock(&s->lock);
    if (!was_started) return;
    tfc_status st;
    for (int r = 0; r < s->size; r++) {
        if (r == s->rank || tfc_cluster_rank_task(s->cluster, r, NULL, NULL)) continue;
        pthread_mutex_lock(&s->lock);
        int skip = s->peers[r].lost;
        pthread_mutex_unlock(&s->lock);
        if (!skip) send_ctl(s, r, MSG_BYE, NULL, 0, &st);
    }
    /* the progress thread runs partitions still under way to their end
     * (aborted ones end at once; the bound is for a kernel that hangs) */
    int64_t until = tfc_now_ns() + s->opts.peer_timeout_ms * MS;
    for (;;) {
        pthread_mutex_lock(&s->lock);
        int n = s->nruns;
        pthread_mutex_unlock(&s->lock);
        if (!n || tfc_now_ns() > until) break;
        sleep_ns(MS);
    }
    atomic_store(&s->stopping, 1);
    if (s->thread_running) {
        pthread_join(s->thread, NULL);
        s->thread_running = 0;
    }
}

void tfc_server_free(tfc_server *s) {
    if (!s) return;
    tfc_server_stop(s);
    tfc_session_free(s->sess);
    tfc_graph_free(s->graph);
    for (int i = 0; i < s->npart; i++) partition_free(s->parts[i]);
    free(s->parts);
    free(s->runs);
    srv_steps_free(s);
    while (s->outbox) {
        pending_req *n = s->outbox->next;
        MPI_Request_free(&s->outbox->req);
        pending_release(s->outbox);
        s->outbox = n;
    }
    tfc_cluster_free(s->cluster);
    free(s->peers);
    pthread_mutex_destroy(&s->lock);
    pthread_cond_destroy(&s->cond);
    pthread_mutex_destroy(&s->store_lock);
    free(s);
}

const char *tfc_server_target(const tfc_server *s) { return s ? s->target : NULL; }
const char *tfc_server_job(const tfc_server *s) { return s ? s->job : NULL; }
int tfc_server_task(const tfc_server *s) { return s ? s->task : -1; }
