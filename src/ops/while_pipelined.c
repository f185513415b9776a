/* A While loop with several iterations in flight (parallel_iterations).
 *
 * Iteration k is a run of the cond function and, when it says go on, a run
 * of the body, both asynchronous runs (tfc_session_start_async) whose loop
 * variable feeds arrive one by one: each output of body k is handed to the
 * cond and body runs of iteration k+1 the moment it is computed, so the
 * parts of body k+1 that do not need body k's slow outputs run while body k
 * is still going. Body k+1 starts once cond k+1 has said go on, with at
 * most `window` bodies running. Every iteration computes what the serial
 * loop computes, on the same inputs, so results are the same.
 *
 * The thread running the kernel coordinates: it sleeps in the thread pool
 * (running its tasks) until a callback reports progress, then starts,
 * reaps and retires runs. Iterations live in a ring of window + 2 slots. */
#include "ops/while_pipelined.h"

#include "core/threadpool.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct pipe pipe;

typedef struct run_ref { /* the user pointer of one asynchronous run */
    pipe *pp;
    int64_t k;
    int body; /* 0: the cond run of iteration k, 1: its body run */
} run_ref;

typedef struct iter {
    int64_t k;             /* the iteration held, -1 when the slot is free */
    tfc_tensor **vars;     /* its loop variables, as they arrive */
    tfc_tensor **early;    /* its body's outputs that came before its own input of
                              the same variable (checked when that input comes) */
    int have;              /* how many have arrived */
    int pred;              /* the cond's answer, -1 while unknown */
    tfc_async_run *run[2]; /* cond, body: NULL before the start and after the end */
    int done[2];           /* the run has ended (on_done) */
    int cancelled[2];
    run_ref ref[2];
} iter;

struct pipe {
    pthread_mutex_t lock; /* recursive: feeding a run may report at once */
    atomic_int event;     /* set by callbacks: the coordinator has work */
    tfc_kernel_ctx *c;
    tfc_session *sess[2];
    const tfc_function *fn[2];
    int nv, np, window, nslots;
    iter *ring;
    tfc_tensor **feeds;
    int64_t first;     /* oldest iteration not retired */
    int64_t next_body; /* the next iteration whose body may start */
    int64_t final_k;   /* the iteration whose cond said stop, or -1 */
    int running_bodies;
    int failed;
};

static iter *slot_of(pipe *pp, int64_t k) {
    iter *it = &pp->ring[k % pp->nslots];
    return it->k == k ? it : NULL;
}

static void wake(pipe *pp) { tfc_threadpool_set_flag(pp->c->pool, &pp->event); }

/* The first error wins; later ones (often our own cancellations) do not. */
static void fail(pipe *pp, tfc_code code, const char *fn, const char *msg) {
    if (pp->failed) return;
    pp->failed = 1;
    if (fn)
        tfc_kernel_error(pp->c, code, "in function '%s': %s", fn, msg);
    else
        tfc_kernel_error(pp->c, code, "%s", msg);
}

/* Output f of iteration k's body: checked against the variable's shape
 * invariant once iteration k's own input f is known, then handed to
 * iteration k + 1. A later iteration's body can finish first (its input
 * f may come after the inputs its outputs depend on); held back until
 * then, its error never wins over an earlier iteration's. Lock held. */
static void body_output(pipe *pp, int64_t k, int f, tfc_tensor *value) {
    iter *it = slot_of(pp, k);
    if (!it || pp->failed) return;
    if (!it->vars[f]) {
        if (!it->early[f]) it->early[f] = tfc_tensor_ref(value);
        return;
    }
    if (tfc_while_check_invariant(pp->c, pp->fn[1], f, it->vars[f], value, k)) {
        pp->failed = 1;
        return;
    }
    iter *nx = slot_of(pp, k + 1);
    if (!nx || nx->vars[f]) return;
    nx->vars[f] = tfc_tensor_ref(value);
    nx->have++;
    for (int w = 0; w < 2; w++)
        if (nx->run[w]) tfc_async_run_feed(nx->run[w], f, value);
    tfc_tensor *held = nx->early[f];
    if (held) {
        nx->early[f] = NULL;
        body_output(pp, k + 1, f, held);
        tfc_tensor_free(held);
    }
}

static void on_output(void *user, int f, tfc_tensor *value) {
    run_ref *ref = user;
    pipe *pp = ref->pp;
    pthread_mutex_lock(&pp->lock);
    iter *it = slot_of(pp, ref->k);
    if (!it || pp->failed) {
        /* a cancelled loop */
    } else if (!ref->body) {
        if (value->nelem != 1) {
            char msg[160];
            snprintf(msg, sizeof msg, "the loop condition '%s' gave %lld values, not one",
                     pp->fn[0]->name, (long long)value->nelem);
            fail(pp, TFC_INVALID_ARGUMENT, NULL, msg);
        } else {
            it->pred = tfc_tensor_get_double(value, 0) != 0;
        }
    } else {
        body_output(pp, ref->k, f, value);
    }
    wake(pp);
    pthread_mutex_unlock(&pp->lock);
}

static void on_done(void *user) {
    run_ref *ref = user;
    pipe *pp = ref->pp;
    pthread_mutex_lock(&pp->lock);
    iter *it = slot_of(pp, ref->k);
    if (it) it->done[ref->body] = 1;
    wake(pp);
    pthread_mutex_unlock(&pp->lock);
}

/* Starts the cond (w = 0) or body (w = 1) run of iteration `it` with the
 * variables known so far; the others follow as they arrive. */
static void start_run(pipe *pp, iter *it, int w) {
    for (int i = 0; i < pp->nv; i++) pp->feeds[i] = it->vars[i];
    for (int i = pp->nv; i < pp->np; i++) pp->feeds[i] = pp->c->inputs[i];
    it->ref[w] = (run_ref){pp, it->k, w};
    it->done[w] = 0;
    it->cancelled[w] = 0;
    tfc_status *st = tfc_status_new();
    const tfc_function *fn = pp->fn[w];
    it->run[w] = tfc_session_start_async(pp->sess[w], fn->params, pp->np, pp->feeds, fn->outs,
                                         w ? pp->nv : 1, on_output, on_done, &it->ref[w], st);
    if (!it->run[w])
        fail(pp, tfc_status_code(st), fn->name, tfc_status_message(st));
    else if (w)
        pp->running_bodies++;
    tfc_status_free(st);
}

static iter *new_iter(pipe *pp, int64_t k) {
    iter *it = &pp->ring[k % pp->nslots];
    it->k = k;
    it->have = 0;
    it->pred = -1;
    for (int i = 0; i < pp->nv; i++) it->vars[i] = it->early[i] = NULL;
    return it;
}

/* Frees ended runs; the first failure becomes the loop's error. */
static void reap(pipe *pp) {
    for (int s = 0; s < pp->nslots; s++) {
        iter *it = &pp->ring[s];
        for (int w = 0; it->k >= 0 && w < 2; w++) {
            if (!it->run[w] || !it->done[w]) continue;
            tfc_status *st = tfc_status_new();
            int cancelled = it->cancelled[w];
            if (tfc_async_run_free(it->run[w], st) && !cancelled)
                fail(pp, tfc_status_code(st), pp->fn[w]->name, tfc_status_message(st));
            tfc_status_free(st);
            it->run[w] = NULL;
            if (w) pp->running_bodies--;
        }
    }
}

/* Starts what the answers of the conds allow. */
static void advance(pipe *pp) {
    while (!pp->failed && pp->final_k < 0) {
        iter *it = slot_of(pp, pp->next_body);
        if (!it || it->pred < 0) return;
        if (it->pred == 0) {
            pp->final_k = pp->next_body;
            return;
        }
        if (pp->running_bodies >= pp->window || pp->next_body + 1 - pp->first >= pp->nslots) return;
        iter *nx = new_iter(pp, pp->next_body + 1);
        start_run(pp, it, 1);
        if (!pp->failed) start_run(pp, nx, 0);
        pp->next_body++;
    }
}

/* Drops iterations whose runs have ended and whose values were handed on. */
static void retire(pipe *pp) {
    for (;;) {
        iter *it = slot_of(pp, pp->first);
        if (!it || pp->first >= pp->next_body || it->run[0] || it->run[1]) return;
        for (int i = 0; i < pp->nv; i++) {
            tfc_tensor_free(it->vars[i]);
            tfc_tensor_free(it->early[i]);
            it->vars[i] = it->early[i] = NULL;
        }
        it->k = -1;
        pp->first++;
    }
}

static int any_running(pipe *pp) {
    for (int s = 0; s < pp->nslots; s++)
        for (int w = 0; pp->ring[s].k >= 0 && w < 2; w++)
            if (pp->ring[s].run[w]) return 1;
    return 0;
}

static void cancel_all(pipe *pp) {
    for (int s = 0; s < pp->nslots; s++)
        for (int w = 0; pp->ring[s].k >= 0 && w < 2; w++) {
            iter *it = &pp->ring[s];
            if (it->run[w] && !it->done[w] && !it->cancelled[w]) {
                it->cancelled[w] = 1;
                tfc_async_run_cancel(it->run[w], "while loop stopped");
            }
        }
}

int tfc_while_check_invariant(tfc_kernel_ctx *c, const tfc_function *bf, int i,
                              const tfc_tensor *was, const tfc_tensor *got, int64_t iter) {
    tfc_shape inv = tfc_output_shape(bf->params[i]);
    tfc_shape have = tfc_shape_make(got->rank, got->dims);
    if (tfc_shape_compatible(&inv, &have)) return 0;
    char a[96], b[96], e[96];
    tfc_kernel_error(c, TFC_INVALID_ARGUMENT,
                     "while loop '%s': loop variable %d ('%s') changed shape from %s to %s in "
                     "iteration %lld, outside its shape invariant %s",
                     c->node->name, i, c->node->inputs[i].node->name,
                     was ? tfc_dims_str(was->rank, was->dims, a, sizeof a) : "?",
                     tfc_dims_str(got->rank, got->dims, b, sizeof b), (long long)iter,
                     tfc_shape_str(&inv, e, sizeof e));
    return -1;
}

atomic_int tfc_while_pipelined_count;

void tfc_while_pipelined(tfc_kernel_ctx *c, tfc_session *cs, tfc_session *bs,
                         const tfc_function *cf, const tfc_function *bf, int nv, int window,
                         tfc_tensor *const *vars0, int64_t k0) {
    atomic_fetch_add(&tfc_while_pipelined_count, 1);
    pipe pp;
    memset(&pp, 0, sizeof pp);
    pthread_mutexattr_t ma;
    pthread_mutexattr_init(&ma);
    pthread_mutexattr_settype(&ma, PTHREAD_MUTEX_RECURSIVE);
    pthread_mutex_init(&pp.lock, &ma);
    pthread_mutexattr_destroy(&ma);
    atomic_init(&pp.event, 0);
    pp.c = c;
    pp.sess[0] = cs;
    pp.sess[1] = bs;
    pp.fn[0] = cf;
    pp.fn[1] = bf;
    pp.nv = nv;
    pp.np = bf->nparams;
    pp.window = window;
    pp.nslots = window + 2;
    pp.final_k = -1;
    pp.ring = calloc((size_t)pp.nslots, sizeof *pp.ring);
    pp.feeds = calloc((size_t)pp.np + 1, sizeof *pp.feeds);
    /* each slot's vars, then each slot's early outputs */
    size_t nvars = (size_t)pp.nslots * (size_t)nv;
    tfc_tensor **vars = calloc(2 * nvars + 1, sizeof *vars);
    if (!pp.ring || !pp.feeds || !vars) {
        tfc_kernel_error(c, TFC_INTERNAL, "out of memory");
    } else {
        for (int s = 0; s < pp.nslots; s++) {
            pp.ring[s].k = -1;
            pp.ring[s].vars = vars + (size_t)s * (size_t)nv;
            pp.ring[s].early = vars + nvars + (size_t)s * (size_t)nv;
        }
        pthread_mutex_lock(&pp.lock);
        pp.first = pp.next_body = k0;
        iter *it0 = new_iter(&pp, k0);
        for (int i = 0; i < nv; i++) it0->vars[i] = tfc_tensor_ref(vars0[i]);
        it0->have = nv;
        start_run(&pp, it0, 0);
        for (;;) {
            atomic_store(&pp.event, 0);
            reap(&pp);
            /* retiring frees ring slots, which may let more start */
            int64_t was;
            do {
                was = pp.first;
                advance(&pp);
                retire(&pp);
            } while (pp.first != was);
            int running = any_running(&pp);
            if (pp.failed) {
                if (!running) break;
                cancel_all(&pp);
            } else if (pp.final_k >= 0 && !running) {
                iter *fin = slot_of(&pp, pp.final_k);
                for (int i = 0; fin && i < nv; i++) {
                    tfc_kernel_set_output(c, i, fin->vars[i]);
                    fin->vars[i] = NULL;
                }
                break;
            }
            pthread_mutex_unlock(&pp.lock);
            tfc_threadpool_help_until(c->pool, &pp.event);
            pthread_mutex_lock(&pp.lock);
        }
        pthread_mutex_unlock(&pp.lock);
        for (size_t s = 0; s < 2 * nvars; s++) tfc_tensor_free(vars[s]);
    }
    free(vars);
    free(pp.ring);
    free(pp.feeds);
    pthread_mutex_destroy(&pp.lock);
}
