/* Random ops: RandomStandardNormal, RandomUniform, TruncatedNormal and
 * RandomShuffle, drawing from Philox (core/philox.h). Each run of a session
 * uses a new Philox stream (the node's run counter), so runs differ while
 * two fresh sessions with the same seeds agree. Elements map to fixed
 * counter blocks, so the parallel split does not change the values. */
#include "autodiff/grad_util.h"
#include "core/philox.h"
#include "graph/op_registry.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* TensorFlow's default graph seed, used when only an op seed is given. */
#define TFC_DEFAULT_GRAPH_SEED 87654321

enum { RANDOM_NORMAL, RANDOM_UNIFORM, RANDOM_TRUNCATED };

typedef struct rng_data {
    int kind;
    tfc_dtype dtype;
    uint64_t seed, seed2; /* both 0: use the session's per-node seed */
} rng_data;

static int random_infer(tfc_infer_ctx *c, int kind) {
    tfc_dtype dt = tfc_attrs_type(c->attrs, "dtype", TFC_INVALID_DTYPE);
    if (dt != TFC_FLOAT && dt != TFC_DOUBLE)
        return tfc_infer_error(c, "attr 'dtype' must be float32 or float64, got %s",
                               tfc_dtype_name(dt));
    tfc_dtype st = tfc_infer_input_dtype(c, 0);
    if (st != TFC_INT32 && st != TFC_INT64)
        return tfc_infer_error(c, "shape must be int32 or int64, got %s", tfc_dtype_name(st));
    tfc_shape ss = tfc_infer_input_shape(c, 0);
    if (ss.rank != -1 && ss.rank != 1)
        return tfc_infer_error(c, "shape must be a vector, got rank %d", ss.rank);
    if (ss.rank == 1 && ss.dims[0] > TFC_MAX_RANK)
        return tfc_infer_error(c, "shape has %lld dims, at most %d allowed",
                               (long long)ss.dims[0], TFC_MAX_RANK);
    tfc_attrs_set_int(c->attrs, "T", TFC_ATTR_TYPE, st);
    tfc_shape out = tfc_shape_unknown();
    const tfc_tensor *sv = tfc_infer_input_const(c, 0);
    if (sv) {
        out.rank = (int)sv->nelem;
        for (int i = 0; i < out.rank; i++) {
            out.dims[i] = tfc_tensor_get_int(sv, i);
            if (out.dims[i] < 0)
                return tfc_infer_error(c, "shape has a negative dim %lld",
                                       (long long)out.dims[i]);
        }
    } else if (ss.rank == 1 && ss.dims[0] >= 0) {
        out.rank = (int)ss.dims[0];
        for (int i = 0; i < out.rank; i++) out.dims[i] = -1;
    }
    rng_data *d = malloc(sizeof *d);
    if (!d) return tfc_infer_error(c, "out of memory");
    d->kind = kind;
    d->dtype = dt;
    d->seed = (uint64_t)tfc_attrs_int(c->attrs, "seed", 0);
    d->seed2 = (uint64_t)tfc_attrs_int(c->attrs, "seed2", 0);
    c->op_data = d;
    tfc_infer_set_output(c, 0, dt, out);
    return 0;
}

static int normal_infer(tfc_infer_ctx *c) { return random_infer(c, RANDOM_NORMAL); }
static int uniform_infer(tfc_infer_ctx *c) { return random_infer(c, RANDOM_UNIFORM); }
static int truncated_infer(tfc_infer_ctx *c) { return random_infer(c, RANDOM_TRUNCATED); }

typedef struct fill_job {
    const rng_data *d;
    uint64_t key, stream;
    int64_t n; /* elements; the last block may hold fewer than `per` */
    void *out;
} fill_job;

/* Uniform in (0, 1], safe for log(). */
static double open01(uint32_t hi, uint32_t lo) { return 1.0 - tfc_u64_to_double01(hi, lo); }

/* Two standard normals from four words (Box-Muller, in double). */
static void box_muller(const uint32_t w[4], double z[2]) {
    double r = sqrt(-2.0 * log(open01(w[0], w[1])));
    double t = 6.283185307179586 * tfc_u64_to_double01(w[2], w[3]);
    z[0] = r * cos(t);
    z[1] = r * sin(t);
}

/* Ranges [b, e) are in units of Philox blocks; block i holds elements
 * [i * per, (i + 1) * per): 4 floats or 2 doubles for normal/uniform, one
 * element for truncated normal (which re-draws from its own sub-stream). */
static void fill_range(void *arg, int64_t b, int64_t e) {
    fill_job *j = arg;
    const rng_data *d = j->d;
    tfc_philox p;
    tfc_philox_init(&p, j->key, j->stream);
    int dbl = d->dtype == TFC_DOUBLE;
    float *of = j->out;
    double *od = j->out;
    uint32_t w[4];
    double z[2];
    if (d->kind == RANDOM_TRUNCATED) {
        for (int64_t i = b; i < e; i++) {
            double v = 0;
            /* Element i owns blocks (i << 20) ... : P(no draw inside 2σ in
             * 2^20 tries) is nil, the cap only bounds the loop. */
            for (uint64_t a = 0; a < (1u << 20); a++) {
                tfc_philox_seek(&p, ((uint64_t)i << 20) | a);
                tfc_philox_next(&p, w);
                box_muller(w, z);
                if (fabs(z[0]) < 2.0 || fabs(z[1]) < 2.0) {
                    v = fabs(z[0]) < 2.0 ? z[0] : z[1];
                    break;
                }
            }
            if (dbl) od[i] = v;
            else of[i] = (float)v;
        }
        return;
    }
    int per = dbl ? 2 : 4;
    if (d->kind == RANDOM_UNIFORM && !dbl) {
        /* whole blocks in vector lanes; the last block may be partial */
        int64_t whole = e * 4 <= j->n ? e : e - 1;
        if (whole > b) tfc_philox_uniform_floats(&p, (uint64_t)b, whole - b, of + b * 4);
        if (whole == e) return;
        b = whole;
    }
    double v[4];
    tfc_philox_seek(&p, (uint64_t)b);
    for (int64_t blk = b; blk < e; blk++) {
        tfc_philox_next(&p, w);
        if (d->kind == RANDOM_UNIFORM) {
            if (dbl) {
                v[0] = tfc_u64_to_double01(w[0], w[1]);
                v[1] = tfc_u64_to_double01(w[2], w[3]);
            } else {
                for (int k = 0; k < 4; k++) v[k] = tfc_u32_to_float01(w[k]);
            }
        } else if (dbl) {
            box_muller(w, v);
        } else {
            /* floats need less precision: two 32-bit words per pair */
            for (int k = 0; k < 4; k += 2) {
                double r = sqrt(-2.0 * log(1.0 - (double)tfc_u32_to_float01(w[k])));
                double t = 6.283185307179586 * (double)tfc_u32_to_float01(w[k + 1]);
                v[k] = r * cos(t);
                v[k + 1] = r * sin(t);
            }
        }
        int64_t base = blk * per;
        int m = j->n - base < per ? (int)(j->n - base) : per;
        if (dbl)
            for (int k = 0; k < m; k++) od[base + k] = v[k];
        else
            for (int k = 0; k < m; k++) of[base + k] = (float)v[k];
    }
}

/* The Philox key and stream of this run of a random node: its seed attrs,
 * or the session's per-node seed when both are 0 (TensorFlow's
 * "unseeded"); the stream is the node's run counter. */
static void run_key(tfc_kernel_ctx *c, uint64_t seed, uint64_t seed2, uint64_t *key,
                    uint64_t *stream) {
    pthread_mutex_lock(&c->state->lock);
    *stream = c->state->counter++;
    pthread_mutex_unlock(&c->state->lock);
    if (seed == 0 && seed2 == 0) *key = c->state->seed;
    else *key = seed ^ (seed2 * 0x9E3779B97F4A7C15ull + 0x2545F4914F6CDD1Dull);
}

static void random_kernel(tfc_kernel_ctx *c) {
    const rng_data *d = c->node->op_data;
    const tfc_tensor *shape = c->inputs[0];
    if (shape->rank != 1 || shape->nelem > TFC_MAX_RANK) {
        tfc_kernel_error(c, TFC_INVALID_ARGUMENT, "shape must be a vector of at most %d dims",
                         TFC_MAX_RANK);
        return;
    }
    int64_t dims[TFC_MAX_RANK];
    int rank = (int)shape->nelem;
    for (int i = 0; i < rank; i++) {
        dims[i] = tfc_tensor_get_int(shape, i);
        if (dims[i] < 0) {
            tfc_kernel_error(c, TFC_INVALID_ARGUMENT, "shape has a negative dim %lld",
                             (long long)dims[i]);
            return;
        }
    }
    int per = d->kind == RANDOM_TRUNCATED ? 1 : d->dtype == TFC_DOUBLE ? 2 : 4;
    int64_t n = tfc_dims_num_elements(rank, dims);
    if (n < 0) {
        tfc_kernel_error(c, TFC_INVALID_ARGUMENT, "shape is too large");
        return;
    }
    int64_t nblocks = (n + per - 1) / per;
    tfc_tensor *out = tfc_kernel_output(c, 0, d->dtype, rank, dims);
    if (!out) return;
    fill_job j = {d, 0, 0, n, out->data};
    run_key(c, d->seed, d->seed2, &j.key, &j.stream);
    tfc_parallel_for(c->pool, nblocks, d->kind == RANDOM_TRUNCATED ? 2048 : 4096, fill_range,
                     &j);
}

/* ---- RandomShuffle(value): value's rows (dim 0) in a random order ---- */

static int shuffle_infer(tfc_infer_ctx *c) {
    tfc_dtype dt = tfc_infer_input_dtype(c, 0);
    rng_data *d = calloc(1, sizeof *d);
    if (!d) return tfc_infer_error(c, "out of memory");
    d->dtype = dt;
    d->seed = (uint64_t)tfc_attrs_int(c->attrs, "seed", 0);
    d->seed2 = (uint64_t)tfc_attrs_int(c->attrs, "seed2", 0);
    c->op_data = d;
    tfc_attrs_set_int(c->attrs, "T", TFC_ATTR_TYPE, dt);
    tfc_infer_set_output(c, 0, dt, tfc_infer_input_shape(c, 0));
    return 0;
}

typedef struct shuffle_job {
    const char *src;
    char *dst;
    const int64_t *perm;
    size_t row; /* bytes */
} shuffle_job;

static void shuffle_rows(void *arg, int64_t b, int64_t e) {
    const shuffle_job *j = arg;
    for (int64_t i = b; i < e; i++)
        memcpy(j->dst + (size_t)i * j->row, j->src + (size_t)j->perm[i] * j->row, j->row);
}

/* Fisher-Yates from one Philox stream: the permutation depends only on
 * the key and the run, never on the thread count. A scalar, or a tensor of
 * at most one row, comes out unchanged (as in TensorFlow). */
static void shuffle_kernel(tfc_kernel_ctx *c) {
    const rng_data *d = c->node->op_data;
    const tfc_tensor *x = c->inputs[0];
    tfc_tensor *out = tfc_kernel_output(c, 0, x->dtype, x->rank, x->dims);
    if (!out) return;
    uint64_t key, stream;
    run_key(c, d->seed, d->seed2, &key, &stream);
    int64_t n = x->rank ? x->dims[0] : 1;
    if (x->nbytes == 0) return;
    if (n <= 1) {
        memcpy(out->data, x->data, x->nbytes);
        return;
    }
    int64_t *perm = malloc((size_t)n * sizeof *perm);
    if (!perm) {
        tfc_kernel_error(c, TFC_RESOURCE_EXHAUSTED, "out of memory for a permutation of %lld rows",
                         (long long)n);
        return;
    }
    for (int64_t i = 0; i < n; i++) perm[i] = i;
    tfc_philox p;
    tfc_philox_init(&p, key, stream);
    uint32_t w[4];
    for (int64_t i = n - 1, k = 4; i > 0; i--, k += 2) {
        if (k >= 4) {
            tfc_philox_next(&p, w);
            k = 0;
        }
        /* 64 random bits modulo i + 1: the bias is below n / 2^64 */
        uint64_t r = ((uint64_t)w[k] << 32 | w[k + 1]) % (uint64_t)(i + 1);
        int64_t t = perm[i];
        perm[i] = perm[r];
        perm[r] = t;
    }
    shuffle_job j = {x->data, out->data, perm, x->nbytes / (size_t)n};
    tfc_parallel_for(c->pool, n, (int64_t)(65536 / j.row) + 1, shuffle_rows, &j);
    free(perm);
}

TFC_STRING_KERNEL(shuffle) /* shuffled string rows copy their bytes */

const tfc_op_def tfc_ops_random[] = {
    {"RandomStandardNormal", 1, 1, 1, TFC_OP_STATEFUL | TFC_OP_NO_GRADIENT, 0, normal_infer,
     random_kernel, NULL},
    {"RandomUniform", 1, 1, 1, TFC_OP_STATEFUL | TFC_OP_NO_GRADIENT, 0, uniform_infer,
     random_kernel, NULL},
    {"TruncatedNormal", 1, 1, 1, TFC_OP_STATEFUL | TFC_OP_NO_GRADIENT, 0, truncated_infer,
     random_kernel, NULL},
    /* no gradient, as in TensorFlow (which registers none) */
    {"RandomShuffle", 1, 1, 1, TFC_OP_STATEFUL | TFC_OP_STRINGS, 0, shuffle_infer,
     shuffle_strings, NULL},
    {NULL, 0, 0, 0, 0, 0, NULL, NULL, NULL},
};

/* ---- helpers ---- */

/* The seed attrs of a new random op, by TensorFlow's rules
 * (random_seed.get_seed): the graph seed and the op seed, or the node
 * count when only the graph seed is set; a default graph seed when only
 * the op seed is; (0, 0), "unseeded", when neither is. */
static void op_seeds(const tfc_graph *g, int64_t seed, int64_t *s1, int64_t *s2) {
    *s1 = *s2 = 0;
    if (g->has_seed) {
        *s1 = g->seed;
        *s2 = seed ? seed : g->nnodes;
        /* (0, 0) means "unseeded" to the kernel, as in TensorFlow */
        if (*s1 == 0 && *s2 == 0) *s2 = INT32_MAX;
    } else if (seed) {
        *s1 = TFC_DEFAULT_GRAPH_SEED;
        *s2 = seed;
    }
}

/* A random op of `type` with TensorFlow's seed rules, scaled to
 * raw * scale + shift (scale 1 and shift 0 add no nodes). */
static tfc_output random_op(tfc_graph *g, const char *scope, const char *type, tfc_dtype dtype,
                            int rank, const int64_t *dims, double scale, double shift,
                            int64_t seed) {
    tfc_output none = {NULL, 0};
    if (!g || g->error) return none;
    if (rank < 0 || rank > TFC_MAX_RANK || (rank && !dims)) {
        tfc_graph_fail(g, TFC_INVALID_ARGUMENT, "%s: rank %d is out of range [0, %d]", type,
                       rank, TFC_MAX_RANK);
        return none;
    }
    int64_t s1, s2;
    op_seeds(g, seed, &s1, &s2);
    int32_t d32[TFC_MAX_RANK];
    for (int i = 0; i < rank; i++) {
        if (dims[i] < 0 || dims[i] > INT32_MAX) {
            tfc_graph_fail(g, TFC_INVALID_ARGUMENT, "%s: dim %d is %lld, not a valid size",
                           type, i, (long long)dims[i]);
            return none;
        }
        d32[i] = (int32_t)dims[i];
    }
    /* TensorFlow's layout: "random_normal/RandomStandardNormal", ... */
    tfc_name_scope_push(g, scope);
    tfc_output shape = tfc_const_ints(g, d32, rank);
    tfc_op_desc *d = tfc_op_new(g, type, NULL);
    tfc_op_add_input(d, shape);
    tfc_op_set_attr_type(d, "dtype", dtype);
    tfc_op_set_attr_int(d, "seed", s1);
    tfc_op_set_attr_int(d, "seed2", s2);
    tfc_output r = tfc_out(tfc_op_finish(d), 0);
    if (r.node && scale != 1.0) {
        tfc_output in[2] = {r, tfc_grad_scalar(g, dtype, scale)};
        r = tfc_grad_op(g, "Mul", in, 2);
    }
    if (r.node && shift != 0.0) {
        tfc_output in[2] = {r, tfc_grad_scalar(g, dtype, shift)};
        r = tfc_grad_op(g, "Add", in, 2);
    }
    tfc_name_scope_pop(g);
    return r.node ? r : none;
}

tfc_output tfc_random_normal(tfc_graph *g, tfc_dtype dtype, int rank, const int64_t *dims,
                             double mean, double stddev, int64_t seed) {
    return random_op(g, "random_normal", "RandomStandardNormal", dtype, rank, dims, stddev, mean,
                     seed);
}

tfc_output tfc_truncated_normal(tfc_graph *g, tfc_dtype dtype, int rank, const int64_t *dims,
                                double mean, double stddev, int64_t seed) {
    return random_op(g, "truncated_normal", "TruncatedNormal", dtype, rank, dims, stddev, mean,
                     seed);
}

tfc_output tfc_random_uniform(tfc_graph *g, tfc_dtype dtype, int rank, const int64_t *dims,
                              double minval, double maxval, int64_t seed) {
    return random_op(g, "random_uniform", "RandomUniform", dtype, rank, dims, maxval - minval,
                     minval, seed);
}

tfc_output tfc_random_shuffle(tfc_graph *g, tfc_output value, int64_t seed) {
    tfc_output none = {NULL, 0};
    if (!g || g->error) return none;
    int64_t s1, s2;
    op_seeds(g, seed, &s1, &s2);
    tfc_op_desc *d = tfc_op_new(g, "RandomShuffle", NULL);
    tfc_op_add_input(d, value);
    tfc_op_set_attr_int(d, "seed", s1);
    tfc_op_set_attr_int(d, "seed2", s2);
    return tfc_out(tfc_op_finish(d), 0);
}
