/* Embedding lookups and the activations the layers add: Gather / GatherV2
 * (whose gradient for params along axis 0 is sparse, TensorFlow's
 * IndexedSlices, carried as a lazily densified UnsortedSegmentSum: see
 * tfc_grad_sparse; along other axes, or one fed at run time, it is dense),
 * UnsortedSegmentSum, and
 * Elu, Selu, LeakyRelu, Softplus and Softsign with their *Grad ops, and
 * Floor (for dropout's mask; no gradient, as in TensorFlow). */
#include "autodiff/grad_util.h"
#include "ops/array_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- Gather(params, indices) and GatherV2(params, indices, axis) ---- */

static int index_dtype(tfc_dtype dt) { return dt == TFC_INT32 || dt == TFC_INT64; }

/* The axis of a GatherV2 node when it is a constant: 0 or -1. */
static int const_axis(tfc_infer_ctx *c, int64_t *axis) {
    if (c->ninputs < 3) {
        *axis = 0;
        return 0;
    }
    const tfc_tensor *t = tfc_infer_input_const(c, 2);
    if (!t) return -1;
    *axis = tfc_tensor_get_int(t, 0);
    return 0;
}

static int gather_infer(tfc_infer_ctx *c) {
    tfc_dtype pt = tfc_infer_input_dtype(c, 0), it = tfc_infer_input_dtype(c, 1);
    if (!index_dtype(it))
        return tfc_infer_error(c, "indices must be int32 or int64, got %s", tfc_dtype_name(it));
    if (c->ninputs == 3) {
        tfc_dtype at = tfc_infer_input_dtype(c, 2);
        tfc_shape as = tfc_infer_input_shape(c, 2);
        if (!index_dtype(at) || as.rank > 0)
            return tfc_infer_error(c, "axis must be an int32 or int64 scalar");
        tfc_attrs_set_int(c->attrs, "Taxis", TFC_ATTR_TYPE, at);
    }
    tfc_attrs_set_int(c->attrs, "Tparams", TFC_ATTR_TYPE, pt);
    tfc_attrs_set_int(c->attrs, "Tindices", TFC_ATTR_TYPE, it);
    tfc_shape ps = tfc_infer_input_shape(c, 0), is = tfc_infer_input_shape(c, 1);
    int64_t axis;
    if (const_axis(c, &axis) || ps.rank < 0 || is.rank < 0) {
        tfc_infer_set_output(c, 0, pt, tfc_shape_unknown());
        return 0;
    }
    if (axis < 0) axis += ps.rank;
    if (axis < 0 || axis >= ps.rank)
        return tfc_infer_error(c, "axis is out of range for params of rank %d", ps.rank);
    if (ps.rank - 1 + is.rank > TFC_MAX_RANK)
        return tfc_infer_error(c, "result would have rank above %d", TFC_MAX_RANK);
    tfc_shape out = {.rank = ps.rank - 1 + is.rank};
    int r = 0;
    for (int i = 0; i < axis; i++) out.dims[r++] = ps.dims[i];
    for (int i = 0; i < is.rank; i++) out.dims[r++] = is.dims[i];
    for (int i = (int)axis + 1; i < ps.rank; i++) out.dims[r++] = ps.dims[i];
    tfc_infer_set_output(c, 0, pt, out);
    return 0;
}

static void gather_kernel(tfc_kernel_ctx *c) {
    const tfc_tensor *p = c->inputs[0], *ix = c->inputs[1];
    int64_t axis = c->ninputs == 3 ? tfc_tensor_get_int(c->inputs[2], 0) : 0;
    if (axis < 0) axis += p->rank;
    if (axis < 0 || axis >= p->rank) {
        tfc_kernel_error(c, TFC_INVALID_ARGUMENT, "axis is out of range for params of rank %d",
                         p->rank);
        return;
    }
    if (p->rank - 1 + ix->rank > TFC_MAX_RANK) {
        tfc_kernel_error(c, TFC_INVALID_ARGUMENT, "result would have rank above %d", TFC_MAX_RANK);
        return;
    }
    int64_t dims[TFC_MAX_RANK], outer = 1, inner = 1, limit = p->dims[axis];
    int r = 0;
    for (int i = 0; i < axis; i++) outer *= dims[r++] = p->dims[i];
    for (int i = 0; i < ix->rank; i++) dims[r++] = ix->dims[i];
    for (int i = (int)axis + 1; i < p->rank; i++) inner *= dims[r++] = p->dims[i];
    int64_t n = ix->nelem;
    for (int64_t i = 0; i < n; i++) {
        int64_t k = tfc_tensor_get_int(ix, i);
        if (k < 0 || k >= limit) {
            tfc_kernel_error(c, TFC_INVALID_ARGUMENT, "indices[%lld] = %lld is not in [0, %lld)",
                             (long long)i, (long long)k, (long long)limit);
            return;
        }
    }
    tfc_tensor *out = tfc_kernel_output(c, 0, p->dtype, r, dims);
    if (!out || out->nelem == 0) return;
    size_t row = (size_t)inner * tfc_dtype_size(p->dtype);
    const char *src = p->data;
    char *dst = out->data;
    for (int64_t o = 0; o < outer; o++)
        for (int64_t i = 0; i < n; i++) {
            int64_t k = tfc_tensor_get_int(ix, i);
            memcpy(dst, src + (size_t)(o * limit + k) * row, row);
            dst += row;
        }
}

/* The gradient along axis 0 (embedding lookups): the rows of dy summed
 * into the rows they came from. When params' trailing dims are known it is
 * sparse (TensorFlow's IndexedSlices): dy reshaped to [n, ...] at the
 * flattened ids, densified only if read densely. */
static tfc_output gather_grad_axis0(tfc_graph *g, tfc_node *op, tfc_output dy) {
    tfc_output params = op->inputs[0], ids = op->inputs[1];
    tfc_shape ps = tfc_output_shape(params);
    tfc_output num;
    if (ps.rank >= 1 && ps.dims[0] >= 0) {
        num = tfc_const_int64(g, ps.dims[0]);
    } else {
        int64_t begin = 0, size = 1;
        num = tfc_reshape(g, tfc_slice(g, tfc_shape_of(g, params), &begin, &size, 1), 0, NULL);
    }
    int sparse = ps.rank >= 1;
    int64_t vdims[TFC_MAX_RANK];
    vdims[0] = -1;
    for (int i = 1; sparse && i < ps.rank; i++) sparse = (vdims[i] = ps.dims[i]) >= 0;
    if (sparse) {
        int64_t flat = -1;
        tfc_shape is = tfc_output_shape(ids);
        tfc_output idx = is.rank == 1 ? ids : tfc_reshape(g, ids, 1, &flat);
        return tfc_grad_sparse(g, tfc_reshape(g, dy, ps.rank, vdims), idx, num);
    }
    tfc_output in[3] = {dy, ids, num};
    return tfc_grad_op(g, "UnsortedSegmentSum", in, 3);
}

/* The gradient along any other axis, or one known only at run time
 * (TensorFlow's _GatherV2Grad with batch_dims 0). Seen as [outer, P, inner]
 * around the axis, params gave dy [outer, n, inner] (n indices): dy is
 * transposed to [n, outer, inner], summed into [P, outer, inner] by
 * UnsortedSegmentSum at the flattened ids, and transposed back. outer, P
 * and inner come from params' shape through run-time shape ops, which
 * constant folding removes when the shape and the axis are known. */
static tfc_output gather_grad_any_axis(tfc_graph *g, tfc_node *op, tfc_output dy,
                                       const int64_t *static_axis) {
    tfc_output params = op->inputs[0], ids = op->inputs[1];
    tfc_output pshape = arr_shape_tensor(g, params, TFC_INT32);
    tfc_output a; /* the axis in [0, rank): an int32 scalar */
    if (static_axis) {
        a = tfc_const_int32(g, (int32_t)*static_axis);
    } else {
        tfc_output ax = op->inputs[2];
        if (tfc_output_dtype(ax) != TFC_INT32) ax = tfc_cast(g, ax, TFC_INT32);
        tfc_output negative = tfc_cast(g, tfc_less(g, ax, tfc_const_int32(g, 0)), TFC_INT32);
        a = tfc_add(g, ax, tfc_mul(g, negative, tfc_rank(g, params)));
    }
    int64_t one = 1, zero = 0, to_end = -1, flat = -1;
    int32_t reduce0 = 0, swap[3] = {1, 0, 2};
    tfc_output a1 = tfc_reshape(g, a, 1, &one);
    tfc_output after = tfc_add(g, a1, tfc_const_ints(g, (int32_t[]){1}, 1));
    tfc_output begin0 = arr_const_vec_typed(g, TFC_INT32, &zero, 1);
    tfc_output rest = arr_const_vec_typed(g, TFC_INT32, &to_end, 1);
    tfc_output dims3[3] = {
        tfc_reduce_prod(g, tfc_grad_op(g, "Slice", (tfc_output[]){pshape, begin0, a1}, 3),
                        &reduce0, 1, 0),
        tfc_size(g, ids),
        tfc_reduce_prod(g, tfc_grad_op(g, "Slice", (tfc_output[]){pshape, after, rest}, 3),
                        &reduce0, 1, 0),
    };
    tfc_output values = tfc_transpose(g, tfc_reshape_to(g, dy, tfc_stack(g, dims3, 3, 0)), swap, 3);
    tfc_output in[3] = {values, tfc_reshape(g, ids, 1, &flat), tfc_gather(g, pshape, a)};
    tfc_output summed = tfc_grad_op(g, "UnsortedSegmentSum", in, 3);
    return tfc_reshape_to(g, tfc_transpose(g, summed, swap, 3), pshape);
}

/* Only params gets a gradient. */
static int gather_grad(tfc_graph *g, tfc_node *op, const tfc_output *dy, tfc_output *dx) {
    if (!dy[0].node) return 0;
    int64_t axis = 0;
    int known = 1;
    if (op->ninputs == 3) {
        const tfc_tensor *a = arr_node_input_const(op, 2);
        known = a && a->nelem == 1;
        if (known) axis = tfc_tensor_get_int(a, 0);
    }
    int rank = tfc_output_shape(op->inputs[0]).rank;
    if (known && axis < 0) {
        known = rank >= 0;
        axis += rank;
    }
    if (known && axis == 0)
        dx[0] = gather_grad_axis0(g, op, dy[0]);
    else
        dx[0] = gather_grad_any_axis(g, op, dy[0], known ? &axis : NULL);
    return dx[0].node ? 0 : -1;
}

/* ---- UnsortedSegmentSum(data, segment_ids, num_segments) ---- */

static int segment_sum_infer(tfc_infer_ctx *c) {
    tfc_dtype dt = tfc_infer_input_dtype(c, 0), it = tfc_infer_input_dtype(c, 1),
              nt = tfc_infer_input_dtype(c, 2);
    if (dt != TFC_FLOAT && dt != TFC_DOUBLE && dt != TFC_INT32 && dt != TFC_INT64)
        return tfc_infer_error(c, "data must be a number type, got %s", tfc_dtype_name(dt));
    if (!index_dtype(it) || !index_dtype(nt))
        return tfc_infer_error(c, "segment_ids and num_segments must be int32 or int64");
    tfc_shape ds = tfc_infer_input_shape(c, 0), is = tfc_infer_input_shape(c, 1),
              ns = tfc_infer_input_shape(c, 2);
    if (ns.rank > 0) return tfc_infer_error(c, "num_segments must be a scalar");
    tfc_attrs_set_int(c->attrs, "T", TFC_ATTR_TYPE, dt);
    tfc_attrs_set_int(c->attrs, "Tindices", TFC_ATTR_TYPE, it);
    tfc_attrs_set_int(c->attrs, "Tnumsegments", TFC_ATTR_TYPE, nt);
    if (ds.rank < 0 || is.rank < 0) {
        tfc_infer_set_output(c, 0, dt, tfc_shape_unknown());
        return 0;
    }
    char a[96], b[96];
    int bad = is.rank > ds.rank;
    for (int i = 0; !bad && i < is.rank; i++)
        bad = is.dims[i] >= 0 && ds.dims[i] >= 0 && is.dims[i] != ds.dims[i];
    if (bad)
        return tfc_infer_error(c, "segment_ids shape %s must be a prefix of data shape %s",
                               tfc_shape_str(&is, a, sizeof a), tfc_shape_str(&ds, b, sizeof b));
    tfc_shape out = {.rank = 1 + ds.rank - is.rank, .dims = {-1}};
    const tfc_tensor *nv = tfc_infer_input_const(c, 2);
    if (nv) out.dims[0] = tfc_tensor_get_int(nv, 0);
    if (nv && out.dims[0] < 0) return tfc_infer_error(c, "num_segments must be non-negative");
    for (int i = is.rank; i < ds.rank; i++) out.dims[1 + i - is.rank] = ds.dims[i];
    tfc_infer_set_output(c, 0, dt, out);
    return 0;
}

#define ADD_ROW(T)                                                    \
    do {                                                              \
        T *d = (T *)out->data + s * inner;                            \
        const T *v = (const T *)data->data + i * inner;               \
        for (int64_t k = 0; k < inner; k++) d[k] += v[k];             \
    } while (0)

static void segment_sum_kernel(tfc_kernel_ctx *c) {
    const tfc_tensor *data = c->inputs[0], *ids = c->inputs[1];
    int64_t num = tfc_tensor_get_int(c->inputs[2], 0);
    if (c->inputs[2]->nelem != 1 || num < 0) {
        tfc_kernel_error(c, TFC_INVALID_ARGUMENT, "num_segments must be a non-negative scalar");
        return;
    }
    int bad = ids->rank > data->rank;
    for (int i = 0; !bad && i < ids->rank; i++) bad = ids->dims[i] != data->dims[i];
    if (bad) {
        char a[64], b[64];
        tfc_kernel_error(c, TFC_INVALID_ARGUMENT,
                         "segment_ids shape %s must be a prefix of data shape %s",
                         tfc_dims_str(ids->rank, ids->dims, a, sizeof a),
                         tfc_dims_str(data->rank, data->dims, b, sizeof b));
        return;
    }
    int64_t dims[TFC_MAX_RANK], inner = 1;
    int r = 1 + data->rank - ids->rank;
    dims[0] = num;
    for (int i = ids->rank; i < data->rank; i++) inner *= dims[1 + i - ids->rank] = data->dims[i];
    tfc_tensor *out = tfc_kernel_output(c, 0, data->dtype, r, dims);
    if (!out) return;
    memset(out->data, 0, out->nbytes);
    for (int64_t i = 0; i < ids->nelem; i++) {
        int64_t s = tfc_tensor_get_int(ids, i);
        if (s < 0) continue; /* TensorFlow drops negative ids */
        if (s >= num) {
            tfc_kernel_error(c, TFC_INVALID_ARGUMENT,
                             "segment_ids[%lld] = %lld is out of range [0, %lld)", (long long)i,
                             (long long)s, (long long)num);
            return;
        }
        switch (data->dtype) {
        case TFC_FLOAT: ADD_ROW(float); break;
        case TFC_DOUBLE: ADD_ROW(double); break;
        case TFC_INT32: ADD_ROW(int32_t); break;
        default: ADD_ROW(int64_t); break;
        }
    }
}

static int segment_sum_grad(tfc_graph *g, tfc_node *op, const tfc_output *dy, tfc_output *dx) {
    if (!dy[0].node) return 0;
    tfc_output in[2] = {dy[0], op->inputs[1]};
    dx[0] = tfc_grad_op(g, "Gather", in, 2);
    return dx[0].node ? 0 : -1;
}

/* ---- activations ---- */

typedef enum act_kind {
    ACT_ELU,
    ACT_SELU,
    ACT_LEAKY,
    ACT_SOFTPLUS,
    ACT_SOFTSIGN,
    ACT_FLOOR
} act_kind;

typedef struct act_data {
    act_kind kind;
    double alpha; /* LeakyRelu's slope */
} act_data;

static const double SELU_ALPHA = 1.6732632423543772848170429916717;
static const double SELU_SCALE = 1.0507009873554804934193349852946;

static inline double act_fwd(act_kind k, double x, double alpha) {
    switch (k) {
    case ACT_ELU: return x > 0 ? x : expm1(x);
    case ACT_SELU: return SELU_SCALE * (x > 0 ? x : SELU_ALPHA * expm1(x));
    case ACT_LEAKY: return x > 0 ? x : alpha * x;
    case ACT_FLOOR: return floor(x);
    case ACT_SOFTSIGN: return x / (1 + fabs(x));
    default: return x > 0 ? x + log1p(exp(-x)) : log1p(exp(x));
    }
}

/* dy times the derivative, given what the *Grad op receives: the output
 * for Elu/Selu, the input for LeakyRelu/Softplus/Softsign (as in
 * TensorFlow). */
static inline double act_bwd(act_kind k, double dy, double v, double alpha) {
    switch (k) {
    case ACT_ELU: return v > 0 ? dy : dy * (v + 1);
    case ACT_SELU: return v > 0 ? dy * SELU_SCALE : dy * (v + SELU_SCALE * SELU_ALPHA);
    case ACT_LEAKY: return v > 0 ? dy : dy * alpha;
    case ACT_SOFTSIGN: return dy / ((1 + fabs(v)) * (1 + fabs(v)));
    default: return dy / (1 + exp(-v));
    }
}

static int act_setup(tfc_infer_ctx *c, act_kind kind, int ninputs) {
    tfc_dtype dt = tfc_infer_same_dtype(c, 0, ninputs, TFC_INVALID_DTYPE);
    if (dt == TFC_INVALID_DTYPE) return -1;
    if (dt != TFC_FLOAT && dt != TFC_DOUBLE)
        return tfc_infer_error(c, "expected float32 or float64, got %s", tfc_dtype_name(dt));
    tfc_shape s = tfc_infer_input_shape(c, 0);
    if (ninputs == 2) {
        tfc_shape t = tfc_infer_input_shape(c, 1);
        char a[96], b[96];
        if (!tfc_shape_compatible(&s, &t))
            return tfc_infer_error(c, "inputs must have one shape, got %s and %s",
                                   tfc_shape_str(&s, a, sizeof a), tfc_shape_str(&t, b, sizeof b));
        if (s.rank < 0) s = t;
    }
    act_data *d = calloc(1, sizeof *d);
    if (!d) return tfc_infer_error(c, "out of memory");
    c->op_data = d;
    d->kind = kind;
    if (kind == ACT_LEAKY) {
        d->alpha = tfc_attrs_float(c->attrs, "alpha", 0.2);
        tfc_attrs_set_float(c->attrs, "alpha", d->alpha);
    }
    tfc_attrs_set_int(c->attrs, "T", TFC_ATTR_TYPE, dt);
    tfc_infer_set_output(c, 0, dt, s);
    return 0;
}

static int elu_infer(tfc_infer_ctx *c) { return act_setup(c, ACT_ELU, 1); }
static int selu_infer(tfc_infer_ctx *c) { return act_setup(c, ACT_SELU, 1); }
static int leaky_infer(tfc_infer_ctx *c) { return act_setup(c, ACT_LEAKY, 1); }
static int softplus_infer(tfc_infer_ctx *c) { return act_setup(c, ACT_SOFTPLUS, 1); }
static int softsign_infer(tfc_infer_ctx *c) { return act_setup(c, ACT_SOFTSIGN, 1); }
static int floor_infer(tfc_infer_ctx *c) { return act_setup(c, ACT_FLOOR, 1); }
static int elu_grad_infer(tfc_infer_ctx *c) { return act_setup(c, ACT_ELU, 2); }
static int selu_grad_infer(tfc_infer_ctx *c) { return act_setup(c, ACT_SELU, 2); }
static int leaky_grad_infer(tfc_infer_ctx *c) { return act_setup(c, ACT_LEAKY, 2); }
static int softplus_grad_infer(tfc_infer_ctx *c) { return act_setup(c, ACT_SOFTPLUS, 2); }
static int softsign_grad_infer(tfc_infer_ctx *c) { return act_setup(c, ACT_SOFTSIGN, 2); }

typedef struct act_task {
    act_data d;
    int backward, is_float;
    const void *a, *b; /* x; or dy and the saved value */
    void *out;
} act_task;

#define ACT_LOOP(T)                                                                        \
    do {                                                                                   \
        const T *a = t->a, *b = t->b;                                                      \
        T *o = t->out;                                                                     \
        if (t->backward)                                                                   \
            for (int64_t i = begin; i < end; i++)                                          \
                o[i] = (T)act_bwd(t->d.kind, a[i], b[i], t->d.alpha);                      \
        else                                                                               \
            for (int64_t i = begin; i < end; i++) o[i] = (T)act_fwd(t->d.kind, a[i], t->d.alpha); \
    } while (0)

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
/* floorf a vector at a time (GCC leaves floorf's loop scalar: the dropout
 * mask's 50 x 1024 Floor took 78 us); returns the elements done */
static __attribute__((target("avx512f"))) int64_t floor_by_16(const float *a, float *o,
                                                              int64_t n) {
    int64_t i = 0;
    for (; i + 16 <= n; i += 16)
        _mm512_storeu_ps(o + i, _mm512_roundscale_ps(_mm512_loadu_ps(a + i),
                                                     _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC));
    return i;
}
static __attribute__((target("avx"))) int64_t floor_by_8(const float *a, float *o, int64_t n) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(o + i, _mm256_floor_ps(_mm256_loadu_ps(a + i)));
    return i;
}
static int64_t floor_floats(const float *a, float *o, int64_t n) {
    if (__builtin_cpu_supports("avx512f")) return floor_by_16(a, o, n);
    if (__builtin_cpu_supports("avx")) return floor_by_8(a, o, n);
    return 0;
}
#else
static int64_t floor_floats(const float *a, float *o, int64_t n) {
    (void)a, (void)o, (void)n;
    return 0;
}
#endif

static void act_range(void *arg, int64_t begin, int64_t end) {
    act_task *t = arg;
    if (t->is_float && !t->backward && t->d.kind == ACT_FLOOR)
        begin += floor_floats((const float *)t->a + begin, (float *)t->out + begin, end - begin);
    if (t->is_float)
        ACT_LOOP(float);
    else
        ACT_LOOP(double);
}

static void act_kernel(tfc_kernel_ctx *c) {
    const tfc_tensor *a = c->inputs[0];
    act_task t = {.d = *(const act_data *)c->node->op_data, .a = a->data};
    if (c->ninputs == 2) {
        if (!tfc_tensor_same_shape(a, c->inputs[1])) {
            tfc_kernel_error(c, TFC_INVALID_ARGUMENT, "inputs must have one shape");
            return;
        }
        t.b = c->inputs[1]->data;
    }
    tfc_tensor *out = tfc_kernel_output(c, 0, a->dtype, a->rank, a->dims);
    if (!out) return;
    t.out = out->data;
    t.backward = c->ninputs == 2;
    t.is_float = a->dtype == TFC_FLOAT;
    tfc_parallel_for(c->pool, a->nelem, 16384, act_range, &t);
}

static tfc_output act_grad_op(tfc_graph *g, const char *type, tfc_output dy, tfc_output v,
                              const tfc_node *op) {
    tfc_op_desc *d = tfc_op_new(g, type, NULL);
    tfc_op_add_input(d, dy);
    tfc_op_add_input(d, v);
    const tfc_attr *alpha = tfc_attrs_find(&op->attrs, "alpha");
    if (alpha) tfc_op_set_attr_float(d, "alpha", alpha->v.f);
    return tfc_out(tfc_op_finish(d), 0);
}

static int elu_grad(tfc_graph *g, tfc_node *op, const tfc_output *dy, tfc_output *dx) {
    if (!dy[0].node) return 0;
    dx[0] = act_grad_op(g, "EluGrad", dy[0], tfc_out(op, 0), op);
    return dx[0].node ? 0 : -1;
}
static int selu_grad(tfc_graph *g, tfc_node *op, const tfc_output *dy, tfc_output *dx) {
    if (!dy[0].node) return 0;
    dx[0] = act_grad_op(g, "SeluGrad", dy[0], tfc_out(op, 0), op);
    return dx[0].node ? 0 : -1;
}
static int leaky_grad(tfc_graph *g, tfc_node *op, const tfc_output *dy, tfc_output *dx) {
    if (!dy[0].node) return 0;
    dx[0] = act_grad_op(g, "LeakyReluGrad", dy[0], op->inputs[0], op);
    return dx[0].node ? 0 : -1;
}
static int softplus_grad(tfc_graph *g, tfc_node *op, const tfc_output *dy, tfc_output *dx) {
    if (!dy[0].node) return 0;
    dx[0] = act_grad_op(g, "SoftplusGrad", dy[0], op->inputs[0], op);
    return dx[0].node ? 0 : -1;
}
static int softsign_grad(tfc_graph *g, tfc_node *op, const tfc_output *dy, tfc_output *dx) {
    if (!dy[0].node) return 0;
    dx[0] = act_grad_op(g, "SoftsignGrad", dy[0], op->inputs[0], op);
    return dx[0].node ? 0 : -1;
}
/* LeakyReluGrad is linear in its gradient input; the features only pick
 * the slope, so they get no gradient. */
static int leaky_grad_grad(tfc_graph *g, tfc_node *op, const tfc_output *dy, tfc_output *dx) {
    if (!dy[0].node) return 0;
    dx[0] = act_grad_op(g, "LeakyReluGrad", dy[0], op->inputs[1], op);
    return dx[0].node ? 0 : -1;
}

/* Second derivatives. EluGrad / SeluGrad are g * (y + c) where y < 0 (c
 * a constant), so d/dy is g there and 0 elsewhere; SoftplusGrad is
 * g * sigmoid(x), so d/dx is g * s * (1 - s). Each is linear in g. */
static int exp_family_grad_grad(tfc_graph *g, tfc_node *op, const tfc_output *dy,
                                tfc_output *dx) {
    if (!dy[0].node) return 0;
    tfc_output gy = op->inputs[0], y = op->inputs[1];
    tfc_dtype dt = tfc_output_dtype(y);
    dx[0] = act_grad_op(g, op->op->type, dy[0], y, op);
    tfc_output neg = tfc_cast(g, tfc_less(g, y, tfc_grad_scalar(g, dt, 0.0)), dt);
    dx[1] = tfc_mul(g, tfc_mul(g, dy[0], gy), neg);
    return dx[0].node && dx[1].node ? 0 : -1;
}

static int softplus_grad_grad(tfc_graph *g, tfc_node *op, const tfc_output *dy,
                              tfc_output *dx) {
    if (!dy[0].node) return 0;
    tfc_output gy = op->inputs[0], x = op->inputs[1];
    tfc_dtype dt = tfc_output_dtype(x);
    dx[0] = act_grad_op(g, "SoftplusGrad", dy[0], x, op);
    tfc_output s = tfc_sigmoid(g, x);
    tfc_output ds = tfc_mul(g, s, tfc_sub(g, tfc_grad_scalar(g, dt, 1.0), s));
    dx[1] = tfc_mul(g, tfc_mul(g, dy[0], gy), ds);
    return dx[0].node && dx[1].node ? 0 : -1;
}

/* SoftsignGrad is g / (1 + |x|)^2: linear in g, and its d/dx is
 * -2 g sign(x) / (1 + |x|)^3. TensorFlow defines no second derivative
 * here; it costs four nodes. */
static int softsign_grad_grad(tfc_graph *g, tfc_node *op, const tfc_output *dy,
                              tfc_output *dx) {
    if (!dy[0].node) return 0;
    tfc_output gy = op->inputs[0], x = op->inputs[1];
    tfc_dtype dt = tfc_output_dtype(x);
    dx[0] = act_grad_op(g, "SoftsignGrad", dy[0], x, op);
    tfc_output t = tfc_add(g, tfc_abs(g, x), tfc_grad_scalar(g, dt, 1.0));
    tfc_output slope = tfc_div(g, tfc_mul(g, tfc_sign(g, x), tfc_grad_scalar(g, dt, -2.0)),
                               tfc_mul(g, tfc_mul(g, t, t), t));
    dx[1] = tfc_mul(g, tfc_mul(g, dy[0], gy), slope);
    return dx[0].node && dx[1].node ? 0 : -1;
}

TFC_STRING_KERNEL(gather) /* string rows copy their bytes */

const tfc_op_def tfc_ops_embedding[] = {
    {"Gather", 2, 2, 1, TFC_OP_STRINGS, 0, gather_infer, gather_strings, gather_grad},
    {"GatherV2", 3, 3, 1, TFC_OP_STRINGS, 0, gather_infer, gather_strings, gather_grad},
    {"UnsortedSegmentSum", 3, 3, 1, 0, 0, segment_sum_infer, segment_sum_kernel,
     segment_sum_grad},
    {"Elu", 1, 1, 1, 0, 0, elu_infer, act_kernel, elu_grad},
    {"EluGrad", 2, 2, 1, 0, 0, elu_grad_infer, act_kernel, exp_family_grad_grad},
    {"Selu", 1, 1, 1, 0, 0, selu_infer, act_kernel, selu_grad},
    {"SeluGrad", 2, 2, 1, 0, 0, selu_grad_infer, act_kernel, exp_family_grad_grad},
    {"LeakyRelu", 1, 1, 1, 0, 0, leaky_infer, act_kernel, leaky_grad},
    {"LeakyReluGrad", 2, 2, 1, 0, 0, leaky_grad_infer, act_kernel, leaky_grad_grad},
    {"Softplus", 1, 1, 1, 0, 0, softplus_infer, act_kernel, softplus_grad},
    {"SoftplusGrad", 2, 2, 1, 0, 0, softplus_grad_infer, act_kernel, softplus_grad_grad},
    {"Softsign", 1, 1, 1, 0, 0, softsign_infer, act_kernel, softsign_grad},
    {"SoftsignGrad", 2, 2, 1, 0, 0, softsign_grad_infer, act_kernel, softsign_grad_grad},
    {"Floor", 1, 1, 1, TFC_OP_NO_GRADIENT, 0, floor_infer, act_kernel, NULL},
    {NULL, 0, 0, 0, 0, 0, NULL, NULL, NULL},
};

/* ---- helpers ---- */

static tfc_output unary(tfc_graph *g, const char *type, tfc_output x) {
    tfc_op_desc *d = tfc_op_new(g, type, NULL);
    tfc_op_add_input(d, x);
    return tfc_out(tfc_op_finish(d), 0);
}

tfc_output tfc_elu(tfc_graph *g, tfc_output x) { return unary(g, "Elu", x); }
tfc_output tfc_selu(tfc_graph *g, tfc_output x) { return unary(g, "Selu", x); }
tfc_output tfc_softplus(tfc_graph *g, tfc_output x) { return unary(g, "Softplus", x); }
tfc_output tfc_softsign(tfc_graph *g, tfc_output x) { return unary(g, "Softsign", x); }
tfc_output tfc_floor(tfc_graph *g, tfc_output x) { return unary(g, "Floor", x); }

tfc_output tfc_leaky_relu(tfc_graph *g, tfc_output x, double alpha) {
    tfc_op_desc *d = tfc_op_new(g, "LeakyRelu", NULL);
    tfc_op_add_input(d, x);
    tfc_op_set_attr_float(d, "alpha", alpha);
    return tfc_out(tfc_op_finish(d), 0);
}

tfc_output tfc_gather(tfc_graph *g, tfc_output params, tfc_output indices) {
    tfc_op_desc *d = tfc_op_new(g, "Gather", NULL);
    tfc_op_add_input(d, params);
    tfc_op_add_input(d, indices);
    return tfc_out(tfc_op_finish(d), 0);
}

tfc_output tfc_gather_v2(tfc_graph *g, tfc_output params, tfc_output indices, int axis) {
    tfc_output a = tfc_const_int32(g, axis);
    tfc_op_desc *d = tfc_op_new(g, "GatherV2", NULL);
    tfc_op_add_input(d, params);
    tfc_op_add_input(d, indices);
    tfc_op_add_input(d, a);
    return tfc_out(tfc_op_finish(d), 0);
}

tfc_output tfc_embedding_lookup(tfc_graph *g, tfc_output params, tfc_output ids) {
    return tfc_gather(g, params, ids);
}

tfc_output tfc_unsorted_segment_sum(tfc_graph *g, tfc_output data, tfc_output segment_ids,
                                    int64_t num_segments) {
    tfc_output n = tfc_const_int64(g, num_segments);
    tfc_op_desc *d = tfc_op_new(g, "UnsortedSegmentSum", NULL);
    tfc_op_add_input(d, data);
    tfc_op_add_input(d, segment_ids);
    tfc_op_add_input(d, n);
    return tfc_out(tfc_op_finish(d), 0);
}
