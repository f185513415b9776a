/* ranks: 1 2 3 4 */
/* Deterministic synchronous training: on N ranks (N dividing S = 12) with
 * tfc_distributed_compute_gradients over S / N local shards and the
 * deterministic distributed optimizer, the variables after K steps are the
 * same bits as one process that computes the gradient of each of the 12
 * shards, sums them in shard order left to right in float, divides by 12
 * and applies that (computed here on every rank, without collectives). The
 * same for the wrapped minimize with one shard per rank against S = N.
 * Also prints how far the plain gradient of the whole batch lies from the
 * shard sum (docs/SCALING.md quotes it). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mpi_harness.h"
#include "tfc.h"

enum { S = 12, B = 8, D = 32, H = 16, C = 5, STEPS = 3, NV = 4 };

typedef struct model {
    tfc_output v[NV]; /* w1 [D,H], b1 [H], w2 [H,C], b2 [C] */
} model;

static const int64_t vdims[NV][2] = {{D, H}, {H, 0}, {H, C}, {C, 0}};
static int vrank(int i) { return i % 2 ? 1 : 2; }
static int64_t vsize(int i) { return vdims[i][0] * (vrank(i) == 2 ? vdims[i][1] : 1); }

/* The same starting values everywhere. */
static model make_vars(tfc_graph *g) {
    model m;
    tfc_test_seed(7);
    for (int i = 0; i < NV; i++) {
        tfc_tensor *t = tfc_test_random_tensor(TFC_FLOAT, vrank(i), vdims[i], -0.5, 0.5);
        m.v[i] = tfc_variable(g, NULL, tfc_const(g, t));
        tfc_tensor_free(t);
    }
    return m;
}

/* The mean cross-entropy of a 2-layer ReLU network on rows x, labels y. */
static tfc_output tower_loss(tfc_graph *g, const model *m, tfc_output x, tfc_output y) {
    tfc_output h = tfc_relu(g, tfc_bias_add(g, tfc_matmul(g, x, m->v[0]), m->v[1]));
    tfc_output logits = tfc_bias_add(g, tfc_matmul(g, h, m->v[2]), m->v[3]);
    return tfc_reduce_mean(g, tfc_sparse_softmax_cross_entropy_with_logits(g, y, logits), NULL,
                           0, 0);
}

/* Step `step`'s data for shard s (rows of `rows` examples). */
static void shard_data(int step, int s, int rows, tfc_tensor **x, tfc_tensor **y) {
    int64_t xd[] = {rows, D}, yd[] = {rows};
    tfc_test_seed(1000 + (unsigned long long)step * 100 + (unsigned long long)s);
    *x = tfc_test_random_tensor(TFC_FLOAT, 2, xd, -1, 1);
    *y = tfc_tensor_new(TFC_INT32, 1, yd);
    for (int i = 0; i < rows; i++) ((int32_t *)tfc_tensor_data(*y))[i] = (s * 7 + i * 3 + step) % C;
}

static tfc_optimizer *make_opt(int adam) {
    return adam ? tfc_adam_optimizer(0.01, 0.9, 0.999, 1e-8) : tfc_gradient_descent_optimizer(0.5);
}

static void fetch_vars(tfc_session *s, const model *m, float *out, tfc_status *st) {
    tfc_tensor *vals[NV] = {NULL};
    tfc_session_run(s, NULL, NULL, 0, m->v, NV, vals, NULL, 0, st);
    size_t at = 0;
    for (int i = 0; i < NV; i++) {
        if (vals[i]) memcpy(out + at, tfc_tensor_data(vals[i]), sizeof(float) * (size_t)vsize(i));
        at += (size_t)vsize(i);
        tfc_tensor_free(vals[i]);
    }
}

static size_t total_size(void) {
    size_t n = 0;
    for (int i = 0; i < NV; i++) n += (size_t)vsize(i);
    return n;
}

/* The single-process definition: `nsh` shards, each shard's gradient by
 * tfc_gradients, summed in shard order in float, divided by nsh, applied
 * by the plain optimizer. Writes the variables after STEPS steps. With
 * `whole_diff`, also the largest difference (absolute, and relative to
 * the largest gradient) between the first step's shard average and the
 * plain gradient of the mean loss over the whole batch. */
static void reference(int adam, int nsh, float *out, double whole_diff[2]) {
    tfc_graph *g = tfc_graph_new();
    model m = make_vars(g);
    int64_t xd[] = {B, D}, yd[] = {B}, wxd[] = {(int64_t)nsh * B, D}, wyd[] = {(int64_t)nsh * B};
    tfc_output *xs = malloc(sizeof *xs * (size_t)nsh), *ys = malloc(sizeof *ys * (size_t)nsh);
    tfc_output *grads = malloc(sizeof *grads * (size_t)nsh * NV);
    for (int s = 0; s < nsh; s++) {
        xs[s] = tfc_placeholder(g, NULL, TFC_FLOAT, 2, xd);
        ys[s] = tfc_placeholder(g, NULL, TFC_INT32, 1, yd);
        tfc_output loss = tower_loss(g, &m, xs[s], ys[s]);
        CHECK(tfc_gradients(g, &loss, 1, m.v, NV, NULL, grads + (size_t)s * NV) == 0);
    }
    tfc_output wx = tfc_placeholder(g, NULL, TFC_FLOAT, 2, wxd);
    tfc_output wy = tfc_placeholder(g, NULL, TFC_INT32, 1, wyd);
    tfc_output wloss = tower_loss(g, &m, wx, wy), wgrads[NV];
    CHECK(tfc_gradients(g, &wloss, 1, m.v, NV, NULL, wgrads) == 0);
    tfc_grad_and_var gv[NV];
    for (int i = 0; i < NV; i++) {
        gv[i].grad = tfc_placeholder(g, NULL, TFC_FLOAT, vrank(i), vdims[i]);
        gv[i].var = m.v[i];
    }
    tfc_optimizer *opt = make_opt(adam);
    tfc_node *train = tfc_optimizer_apply_gradients(opt, g, gv, NV, (tfc_output){0});
    tfc_node *init = tfc_global_variables_initializer(g);
    CHECK_GRAPH_OK(g);
    tfc_status *st = tfc_status_new();
    tfc_session *sess = tfc_session_new(g, NULL, st);
    tfc_session_run(sess, NULL, NULL, 0, NULL, 0, NULL, &init, 1, st);
    tfc_output *feeds = malloc(sizeof *feeds * (size_t)(2 * nsh + 2));
    tfc_tensor **vals = calloc((size_t)(2 * nsh + 2), sizeof *vals);
    tfc_tensor **got = calloc((size_t)nsh * NV, sizeof *got);
    for (int step = 0; step < STEPS; step++) {
        for (int s = 0; s < nsh; s++) {
            feeds[2 * s] = xs[s];
            feeds[2 * s + 1] = ys[s];
            shard_data(step, s, B, &vals[2 * s], &vals[2 * s + 1]);
        }
        tfc_session_run(sess, feeds, vals, 2 * nsh, grads, nsh * NV, got, NULL, 0, st);
        CHECK_STATUS_OK(st);
        tfc_tensor *avg[NV];
        for (int i = 0; i < NV; i++) {
            avg[i] = tfc_tensor_new(TFC_FLOAT, vrank(i), vdims[i]);
            float *a = tfc_tensor_data(avg[i]);
            for (int64_t e = 0; e < vsize(i); e++) {
                float acc = ((float *)tfc_tensor_data(got[i]))[e];
                for (int s = 1; s < nsh; s++)
                    acc = acc + ((float *)tfc_tensor_data(got[(size_t)s * NV + i]))[e];
                a[e] = acc / (float)nsh;
            }
        }
        if (whole_diff && step == 0) {
            /* the whole batch: the shards' rows one after the other */
            tfc_tensor *bx = tfc_tensor_new(TFC_FLOAT, 2, wxd), *by = tfc_tensor_new(TFC_INT32, 1, wyd);
            for (int s = 0; s < nsh; s++) {
                memcpy((float *)tfc_tensor_data(bx) + (size_t)s * B * D, tfc_tensor_data(vals[2 * s]),
                       sizeof(float) * B * D);
                memcpy((int32_t *)tfc_tensor_data(by) + (size_t)s * B,
                       tfc_tensor_data(vals[2 * s + 1]), sizeof(int32_t) * B);
            }
            tfc_output wf[] = {wx, wy};
            tfc_tensor *wv[] = {bx, by}, *wg[NV] = {NULL};
            tfc_session_run(sess, wf, wv, 2, wgrads, NV, wg, NULL, 0, st);
            double dmax = 0, gmax = 0;
            for (int i = 0; i < NV; i++)
                for (int64_t e = 0; wg[i] && e < vsize(i); e++) {
                    double a = ((float *)tfc_tensor_data(avg[i]))[e];
                    double w = ((float *)tfc_tensor_data(wg[i]))[e];
                    dmax = fmax(dmax, fabs(a - w));
                    gmax = fmax(gmax, fabs(a));
                }
            whole_diff[0] = dmax;
            whole_diff[1] = gmax > 0 ? dmax / gmax : 0;
            for (int i = 0; i < NV; i++) tfc_tensor_free(wg[i]);
            tfc_tensor_free(bx);
            tfc_tensor_free(by);
        }
        tfc_output gf[NV];
        for (int i = 0; i < NV; i++) gf[i] = gv[i].grad;
        tfc_session_run(sess, gf, avg, NV, NULL, 0, NULL, &train, 1, st);
        CHECK_STATUS_OK(st);
        for (int i = 0; i < NV; i++) tfc_tensor_free(avg[i]);
        for (int i = 0; i < nsh * NV; i++) {
            tfc_tensor_free(got[i]);
            got[i] = NULL;
        }
        for (int i = 0; i < 2 * nsh; i++) tfc_tensor_free(vals[i]);
    }
    fetch_vars(sess, &m, out, st);
    CHECK_STATUS_OK(st);
    free(feeds);
    free(vals);
    free(got);
    free(xs);
    free(ys);
    free(grads);
    tfc_session_free(sess);
    tfc_optimizer_free(opt);
    tfc_status_free(st);
    tfc_graph_free(g);
}

/* The distributed run: `k` local shards per rank (rank r has global
 * shards r*k ..), through tfc_distributed_compute_gradients, or, with
 * `wrapped` (k = 1), through the wrapped optimizer's minimize. */
static void distributed(int adam, int k, int wrapped, float *out) {
    int me = tfc_test_rank();
    tfc_graph *g = tfc_graph_new();
    model m = make_vars(g);
    int64_t xd[] = {B, D}, yd[] = {B};
    tfc_output xs[S], ys[S], losses[S];
    for (int j = 0; j < k; j++) {
        xs[j] = tfc_placeholder(g, NULL, TFC_FLOAT, 2, xd);
        ys[j] = tfc_placeholder(g, NULL, TFC_INT32, 1, yd);
        losses[j] = tower_loss(g, &m, xs[j], ys[j]);
    }
    tfc_distributed_options o = {.deterministic = 1};
    tfc_optimizer *opt = tfc_distributed_optimizer(make_opt(adam), &o);
    tfc_node *train;
    if (wrapped) {
        train = tfc_optimizer_minimize(opt, g, losses[0], NULL, 0, (tfc_output){0});
    } else {
        int n = 0;
        tfc_grad_and_var *gv = tfc_distributed_compute_gradients(opt, g, losses, k, NULL, 0, &n);
        CHECK(gv != NULL && n == NV);
        train = gv ? tfc_optimizer_apply_gradients(opt, g, gv, n, (tfc_output){0}) : NULL;
        free(gv);
    }
    tfc_node *init = tfc_global_variables_initializer(g);
    CHECK_GRAPH_OK(g);
    tfc_status *st = tfc_status_new();
    tfc_session *sess = tfc_session_new(g, NULL, st);
    tfc_session_run(sess, NULL, NULL, 0, NULL, 0, NULL, &init, 1, st);
    for (int step = 0; step < STEPS; step++) {
        tfc_output feeds[2 * S];
        tfc_tensor *vals[2 * S];
        for (int j = 0; j < k; j++) {
            feeds[2 * j] = xs[j];
            feeds[2 * j + 1] = ys[j];
            shard_data(step, me * k + j, B, &vals[2 * j], &vals[2 * j + 1]);
        }
        tfc_session_run(sess, feeds, vals, 2 * k, NULL, 0, NULL, &train, 1, st);
        CHECK_STATUS_OK(st);
        for (int i = 0; i < 2 * k; i++) tfc_tensor_free(vals[i]);
    }
    fetch_vars(sess, &m, out, st);
    CHECK_STATUS_OK(st);
    tfc_session_free(sess);
    tfc_optimizer_free(opt);
    tfc_status_free(st);
    tfc_graph_free(g);
}

static void check_bits(int adam) {
    size_t n = total_size();
    float *want = calloc(n, sizeof *want), *got = calloc(n, sizeof *got);
    double diff[2] = {0, 0};
    reference(adam, S, want, diff);
    distributed(adam, S / tfc_test_size(), 0, got);
    CHECK_MSG(memcmp(want, got, n * sizeof *got) == 0, "%s: %d ranks x %d shards differ from one "
              "process over %d shards", adam ? "Adam" : "SGD", tfc_test_size(),
              S / tfc_test_size(), S);
    /* the replicas agree with each other too */
    float *root = malloc(n * sizeof *root);
    memcpy(root, got, n * sizeof *root);
    MPI_Bcast(root, (int)n, MPI_FLOAT, 0, MPI_COMM_WORLD);
    CHECK(memcmp(root, got, n * sizeof *got) == 0);
    if (tfc_test_rank() == 0 && !adam)
        printf("     whole-batch gradient vs the ordered sum of %d shard gradients (step 0): "
               "max |diff| %.3g, relative to the largest gradient %.3g\n",
               S, diff[0], diff[1]);
    CHECK(diff[1] < 1e-5);
    free(root);
    free(want);
    free(got);
}

static void test_sgd_bits_equal_one_process(void) { check_bits(0); }
static void test_adam_bits_equal_one_process(void) { check_bits(1); }

/* The two-line change: the wrapped optimizer's minimize, one shard per
 * rank, deterministic: equals one process over N shards. */
static void test_wrapped_minimize_bits(void) {
    size_t n = total_size();
    float *want = calloc(n, sizeof *want), *got = calloc(n, sizeof *got);
    reference(1, tfc_test_size(), want, NULL);
    distributed(1, 1, 1, got);
    CHECK(memcmp(want, got, n * sizeof *got) == 0);
    free(want);
    free(got);
}

TFC_MPI_TEST_MAIN(T(test_sgd_bits_equal_one_process), T(test_adam_bits_equal_one_process),
                  T(test_wrapped_minimize_bits))
