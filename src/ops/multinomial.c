/* Multinomial(logits [batch, classes], num_samples int32 scalar), the
 * family tfc_ops_multinomial (tf.multinomial): num_samples class indices
 * per row, drawn with probabilities softmax(logits row), as output_dtype
 * (int64 by default, or int32). Non-finite logits (-inf, +inf, NaN) get
 * probability 0, as in TensorFlow's CPU kernel; a row with no finite logit
 * gives the last class.
 *
 * Draws come from Philox with the random ops' seed rules (attrs seed and
 * seed2, both 0: the session's per-node seed), a new stream per run; row b
 * reads its own blocks of the stream, so the thread split does not change
 * the samples. Each row's unnormalized CDF is built in double and searched
 * with a uniform double. Not differentiable. */
#include "core/philox.h"
#include "graph/graph.h"
#include "graph/op_registry.h"

#include <math.h>
#include <stdlib.h>

/* TensorFlow's default graph seed, used when only an op seed is given. */
#define TFC_DEFAULT_GRAPH_SEED 87654321

typedef struct mn_data {
    uint64_t seed, seed2;
    tfc_dtype out_dtype;
} mn_data;

static int mn_infer(tfc_infer_ctx *c) {
    tfc_dtype dt = tfc_infer_input_dtype(c, 0);
    if (dt != TFC_FLOAT && dt != TFC_DOUBLE)
        return tfc_infer_error(c, "logits must be float32 or float64, got %s",
                               tfc_dtype_name(dt));
    if (tfc_infer_input_dtype(c, 1) != TFC_INT32)
        return tfc_infer_error(c, "num_samples must be int32, got %s",
                               tfc_dtype_name(tfc_infer_input_dtype(c, 1)));
    tfc_dtype ot = tfc_attrs_type(c->attrs, "output_dtype", TFC_INT64);
    if (ot != TFC_INT32 && ot != TFC_INT64)
        return tfc_infer_error(c, "attr 'output_dtype' must be int32 or int64, got %s",
                               tfc_dtype_name(ot));
    tfc_shape ls = tfc_infer_input_shape(c, 0), ns = tfc_infer_input_shape(c, 1);
    if (ls.rank >= 0 && ls.rank != 2)
        return tfc_infer_error(c, "logits should be a matrix, got rank %d", ls.rank);
    if (ns.rank > 0)
        return tfc_infer_error(c, "num_samples should be a scalar, got rank %d", ns.rank);
    if (ls.rank == 2 && ls.dims[1] == 0)
        return tfc_infer_error(c, "num_classes should be positive, got 0");
    int64_t dims[2] = {ls.rank == 2 ? ls.dims[0] : -1, -1};
    const tfc_tensor *nt = tfc_infer_input_const(c, 1);
    if (nt) {
        dims[1] = tfc_tensor_get_int(nt, 0);
        if (dims[1] < 0)
            return tfc_infer_error(c, "num_samples should be non-negative, got %lld",
                                   (long long)dims[1]);
    }
    tfc_attrs_set_int(c->attrs, "T", TFC_ATTR_TYPE, dt);
    tfc_attrs_set_int(c->attrs, "output_dtype", TFC_ATTR_TYPE, ot);
    mn_data *d = malloc(sizeof *d);
    if (!d) return tfc_infer_error(c, "out of memory");
    d->seed = (uint64_t)tfc_attrs_int(c->attrs, "seed", 0);
    d->seed2 = (uint64_t)tfc_attrs_int(c->attrs, "seed2", 0);
    d->out_dtype = ot;
    c->op_data = d;
    tfc_infer_set_output(c, 0, ot, tfc_shape_make(2, dims));
    return 0;
}

typedef struct mn_job {
    const tfc_tensor *logits;
    tfc_tensor *out;
    int64_t classes, samples, blocks_per_row;
    uint64_t key, stream;
    int failed;
} mn_job;

static double logit(const tfc_tensor *t, int64_t i) {
    return t->dtype == TFC_FLOAT ? (double)((const float *)t->data)[i]
                                 : ((const double *)t->data)[i];
}

static void mn_rows(void *arg, int64_t first, int64_t last) {
    mn_job *j = arg;
    int64_t nc = j->classes, ns = j->samples;
    double *cdf = malloc((size_t)nc * sizeof *cdf);
    if (!cdf) {
        __atomic_store_n(&j->failed, 1, __ATOMIC_RELAXED);
        return;
    }
    tfc_philox p;
    tfc_philox_init(&p, j->key, j->stream);
    int i64 = j->out->dtype == TFC_INT64;
    for (int64_t b = first; b < last; b++) {
        const int64_t base = b * nc;
        double max = -INFINITY, total = 0;
        for (int64_t k = 0; k < nc; k++) {
            double v = logit(j->logits, base + k);
            if (isfinite(v) && v > max) max = v;
        }
        for (int64_t k = 0; k < nc; k++) {
            double v = logit(j->logits, base + k);
            if (isfinite(v)) total += exp(v - max);
            cdf[k] = total;
        }
        tfc_philox_seek(&p, (uint64_t)(b * j->blocks_per_row));
        uint32_t w[4];
        for (int64_t s = 0; s < ns; s++) {
            if (s % 2 == 0) tfc_philox_next(&p, w);
            double u = s % 2 == 0 ? tfc_u64_to_double01(w[0], w[1])
                                  : tfc_u64_to_double01(w[2], w[3]);
            double find = u * total;
            /* the first class whose CDF exceeds `find` (upper bound) */
            int64_t lo = 0, hi = nc;
            while (lo < hi) {
                int64_t mid = lo + (hi - lo) / 2;
                if (cdf[mid] > find) hi = mid;
                else lo = mid + 1;
            }
            if (lo == nc) lo = nc - 1; /* no finite logit: total is 0 */
            if (i64) ((int64_t *)j->out->data)[b * ns + s] = lo;
            else ((int32_t *)j->out->data)[b * ns + s] = (int32_t)lo;
        }
    }
    free(cdf);
}

static void mn_kernel(tfc_kernel_ctx *c) {
    const mn_data *d = c->node->op_data;
    const tfc_tensor *lg = c->inputs[0], *nt = c->inputs[1];
    if (lg->rank != 2) {
        char b[96];
        tfc_kernel_error(c, TFC_INVALID_ARGUMENT, "logits should be a matrix, got shape %s",
                         tfc_dims_str(lg->rank, lg->dims, b, sizeof b));
        return;
    }
    if (nt->rank != 0) {
        tfc_kernel_error(c, TFC_INVALID_ARGUMENT, "num_samples should be a scalar, got rank %d",
                         nt->rank);
        return;
    }
    int64_t ns = tfc_tensor_get_int(nt, 0);
    if (ns < 0) {
        tfc_kernel_error(c, TFC_INVALID_ARGUMENT, "num_samples should be non-negative, got %lld",
                         (long long)ns);
        return;
    }
    if (lg->dims[1] == 0) {
        tfc_kernel_error(c, TFC_INVALID_ARGUMENT, "num_classes should be positive, got 0");
        return;
    }
    int64_t dims[2] = {lg->dims[0], ns};
    tfc_tensor *out = tfc_kernel_output(c, 0, d->out_dtype, 2, dims);
    if (!out) return;
    mn_job j = {lg, out, lg->dims[1], ns, (ns + 1) / 2, 0, 0, 0};
    pthread_mutex_lock(&c->state->lock);
    j.stream = c->state->counter++;
    pthread_mutex_unlock(&c->state->lock);
    j.key = d->seed == 0 && d->seed2 == 0
                ? c->state->seed
                : d->seed ^ (d->seed2 * 0x9E3779B97F4A7C15ull + 0x2545F4914F6CDD1Dull);
    if (out->nelem == 0) return;
    int64_t cost = lg->dims[1] + ns * 8;
    tfc_parallel_for(c->pool, lg->dims[0], cost >= 16384 ? 1 : 16384 / cost, mn_rows, &j);
    if (j.failed)
        tfc_kernel_error(c, TFC_RESOURCE_EXHAUSTED, "out of memory for a CDF of %lld classes",
                         (long long)lg->dims[1]);
}

const tfc_op_def tfc_ops_multinomial[] = {
    {"Multinomial", 2, 2, 1, TFC_OP_STATEFUL | TFC_OP_NO_GRADIENT, 0, mn_infer, mn_kernel, NULL},
    {NULL, 0, 0, 0, 0, 0, NULL, NULL, NULL},
};

tfc_output tfc_multinomial(tfc_graph *g, tfc_output logits, int num_samples, int64_t seed,
                           tfc_dtype output_dtype) {
    tfc_output none = {NULL, 0};
    if (!g || g->error) return none;
    /* TensorFlow's seed rules (random_seed.get_seed), as the random ops' */
    int64_t s1 = 0, s2 = 0;
    if (g->has_seed) {
        s1 = g->seed;
        s2 = seed ? seed : g->nnodes;
        if (s1 == 0 && s2 == 0) s2 = INT32_MAX;
    } else if (seed) {
        s1 = TFC_DEFAULT_GRAPH_SEED;
        s2 = seed;
    }
    tfc_name_scope_push(g, "multinomial");
    tfc_op_desc *d = tfc_op_new(g, "Multinomial", NULL);
    tfc_op_add_input(d, logits);
    tfc_op_add_input(d, tfc_const_int32(g, num_samples));
    tfc_op_set_attr_int(d, "seed", s1);
    tfc_op_set_attr_int(d, "seed2", s2);
    tfc_op_set_attr_type(d, "output_dtype", output_dtype);
    tfc_output r = tfc_out(tfc_op_finish(d), 0);
    tfc_name_scope_pop(g);
    return r.node ? r : none;
}
