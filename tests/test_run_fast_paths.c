/* The per-run fast paths of the session and executor: the lock-free plan
 * lookup (session.c's recent plans), the run count that tfc_session_close
 * waits on, feeds and constants borrowed by a synchronous run, the scratch
 * block taken without the plan's lock, and the serial executor's plain
 * counters. Each must give what the general path gives. */
#include "harness.h"

#include "runtime/runtime.h"

#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

/* Many signatures, more than the recent-plan table has entries, run in a
 * scrambled order: every run gets its own plan's result, never the plan of
 * another signature that shares a table entry. */
static void test_many_signatures_get_their_own_plans(void) {
    enum { N = 24 };
    tfc_graph *g = tfc_graph_new();
    int64_t none[1] = {0};
    tfc_output x = tfc_placeholder(g, "x", TFC_FLOAT, 0, none);
    tfc_output outs[N];
    for (int i = 0; i < N; i++) outs[i] = tfc_add(g, x, tfc_const_float(g, (float)(i + 1)));
    CHECK_GRAPH_OK(g);
    tfc_status *st = tfc_status_new();
    tfc_session *s = tfc_session_new(g, NULL, st);
    tfc_tensor *xt = tfc_tensor_scalar_float(100);
    tfc_test_seed(5);
    int wrong = 0;
    for (int r = 0; r < 400; r++) {
        int i = (int)tfc_test_uniform(0, N);
        if (i >= N) i = N - 1;
        /* sometimes two fetches, a signature of its own */
        int two = r % 3 == 0;
        tfc_output f[2] = {outs[i], outs[(i + 7) % N]};
        tfc_tensor *v[2] = {NULL, NULL};
        tfc_session_run(s, &x, &xt, 1, f, two ? 2 : 1, v, NULL, 0, st);
        CHECK_STATUS_OK(st);
        if (!v[0] || *(const float *)tfc_tensor_data(v[0]) != 100.0f + (float)(i + 1)) wrong++;
        if (two && (!v[1] || *(const float *)tfc_tensor_data(v[1]) !=
                                 100.0f + (float)((i + 7) % N + 1)))
            wrong++;
        tfc_tensor_free(v[0]);
        tfc_tensor_free(v[1]);
    }
    CHECK_MSG(wrong == 0, "%d runs got another signature's result", wrong);
    /* one plan per signature: N single fetches and N pairs at most */
    CHECK(s->nplans <= 2 * N);
    tfc_tensor_free(xt);
    tfc_session_free(s);
    tfc_status_free(st);
    tfc_graph_free(g);
}

/* A run borrows its feeds and the plan's constants: they come back intact
 * (an Add that may overwrite its input in place must not write into them),
 * a fetched feed or constant stays valid after the caller frees its own
 * reference, and the plan's constants survive many runs. */
static void test_borrowed_feeds_and_constants(void) {
    tfc_graph *g = tfc_graph_new();
    int64_t d[] = {4};
    float cv[] = {10, 20, 30, 40};
    tfc_output x = tfc_placeholder(g, "x", TFC_FLOAT, 1, d);
    tfc_output c = tfc_const_data(g, TFC_FLOAT, 1, d, cv);
    tfc_output y = tfc_add(g, tfc_add(g, x, c), c); /* the second Add may reuse the first's output */
    tfc_output z = tfc_mul(g, x, tfc_const_float(g, 2));
    CHECK_GRAPH_OK(g);
    for (int threads = 1; threads <= 2; threads++) {
        tfc_session_options o = {.intra_op_threads = threads, .inter_op_threads = threads};
        tfc_status *st = tfc_status_new();
        tfc_session *s = tfc_session_new(g, &o, st);
        for (int r = 0; r < 50; r++) {
            float xv[] = {1, 2, 3, (float)r};
            tfc_tensor *xt = tfc_tensor_from_data(TFC_FLOAT, 1, d, xv);
            tfc_output f[] = {y, x, c, z};
            tfc_tensor *v[4] = {NULL};
            tfc_session_run(s, &x, &xt, 1, f, 4, v, NULL, 0, st);
            CHECK_STATUS_OK(st);
            const float *xd = tfc_tensor_data(xt);
            for (int i = 0; i < 4; i++) CHECK(xd[i] == xv[i]); /* the feed is untouched */
            tfc_tensor_free(xt);                                /* the fetched feed outlives it */
            if (v[0] && v[1] && v[2] && v[3]) {
                const float *a = tfc_tensor_data(v[0]), *b = tfc_tensor_data(v[1]),
                            *k = tfc_tensor_data(v[2]), *m = tfc_tensor_data(v[3]);
                for (int i = 0; i < 4; i++) {
                    CHECK(a[i] == xv[i] + 2 * cv[i]);
                    CHECK(b[i] == xv[i]);
                    CHECK(k[i] == cv[i]);
                    CHECK(m[i] == 2 * xv[i]);
                }
            }
            for (int i = 0; i < 4; i++) tfc_tensor_free(v[i]);
        }
        tfc_session_free(s);
        tfc_status_free(st);
    }
    tfc_graph_free(g);
}

/* A closed session refuses runs, each time (the count of runs under way
 * stays right, so freeing it does not wait forever), and a run that ended
 * before the close does not keep it waiting. */
static void test_closed_session_refuses_runs(void) {
    tfc_graph *g = tfc_graph_new();
    tfc_output y = tfc_add(g, tfc_const_float(g, 1), tfc_const_float(g, 2));
    CHECK_GRAPH_OK(g);
    tfc_status *st = tfc_status_new();
    tfc_session *s = tfc_session_new(g, NULL, st);
    tfc_tensor *v = tfc_session_run1(s, NULL, NULL, 0, y, st);
    CHECK_STATUS_OK(st);
    CHECK(v && *(const float *)tfc_tensor_data(v) == 3.0f);
    tfc_tensor_free(v);
    CHECK(atomic_load(&s->runs) == 0);
    tfc_session_close(s);
    for (int i = 0; i < 3; i++) {
        v = tfc_session_run1(s, NULL, NULL, 0, y, st);
        CHECK(v == NULL);
        CHECK(tfc_status_code(st) == TFC_FAILED_PRECONDITION);
        CHECK_CONTAINS(tfc_status_message(st), "closed Session");
    }
    CHECK(atomic_load(&s->runs) == SESSION_CLOSED);
    tfc_session_close(s); /* twice: nothing more */
    tfc_session_free(s);
    tfc_status_free(st);
    tfc_graph_free(g);
}

/* Runs on several threads at once, with a close while they go on: each run
 * either completes with the right value or is refused as closed; close
 * returns once none is under way. Several runs of one plan at once also
 * take scratch blocks from the plan's free list, not only its spare. */
typedef struct racer {
    tfc_session *s;
    tfc_output x, y;
    atomic_int ok;
    int refused, wrong;
} racer;

static void *race(void *arg) {
    racer *r = arg;
    tfc_status *st = tfc_status_new();
    for (int i = 0; i < 3000; i++) {
        tfc_tensor *xt = tfc_tensor_scalar_float((float)i);
        tfc_tensor *v = NULL;
        tfc_session_run(r->s, &r->x, &xt, 1, &r->y, 1, &v, NULL, 0, st);
        if (tfc_status_code(st) == TFC_OK && v && *(const float *)tfc_tensor_data(v) == i + 10.0f)
            atomic_fetch_add(&r->ok, 1);
        else if (tfc_status_code(st) == TFC_FAILED_PRECONDITION)
            r->refused++;
        else
            r->wrong++;
        tfc_tensor_free(v);
        tfc_tensor_free(xt);
    }
    tfc_status_free(st);
    return NULL;
}

static void test_concurrent_runs_and_close(void) {
    tfc_graph *g = tfc_graph_new();
    int64_t none[1] = {0};
    tfc_output x = tfc_placeholder(g, "x", TFC_FLOAT, 0, none);
    tfc_output y = x;
    for (int i = 0; i < 10; i++) y = tfc_add(g, y, tfc_const_float(g, 1));
    CHECK_GRAPH_OK(g);
    tfc_status *st = tfc_status_new();
    tfc_session_options o = {.intra_op_threads = 2, .inter_op_threads = 2};
    tfc_session *s = tfc_session_new(g, &o, st);
    enum { T = 3 };
    racer rs[T];
    pthread_t th[T];
    for (int i = 0; i < T; i++) {
        rs[i].s = s;
        rs[i].x = x;
        rs[i].y = y;
        atomic_init(&rs[i].ok, 0);
        rs[i].refused = rs[i].wrong = 0;
        pthread_create(&th[i], NULL, race, &rs[i]);
    }
    /* let them run a while, then close under them */
    for (;;) {
        int done = 0;
        for (int i = 0; i < T; i++) done += atomic_load(&rs[i].ok);
        if (done >= 100) break;
        sched_yield();
    }
    tfc_session_close(s);
    CHECK(atomic_load(&s->runs) == SESSION_CLOSED);
    for (int i = 0; i < T; i++) pthread_join(th[i], NULL);
    int ok = 0, wrong = 0;
    for (int i = 0; i < T; i++) {
        ok += atomic_load(&rs[i].ok);
        wrong += rs[i].wrong;
        CHECK(atomic_load(&rs[i].ok) + rs[i].refused + rs[i].wrong == 3000);
    }
    CHECK_MSG(wrong == 0, "%d runs neither right nor refused", wrong);
    CHECK(ok > 0);
    CHECK(atomic_load(&s->runs) == SESSION_CLOSED);
    tfc_session_free(s);
    tfc_status_free(st);
    tfc_graph_free(g);
}

TFC_TEST_MAIN(T(test_many_signatures_get_their_own_plans), T(test_borrowed_feeds_and_constants),
              T(test_closed_session_refuses_runs), T(test_concurrent_runs_and_close))
