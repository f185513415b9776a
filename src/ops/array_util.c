/* Helpers shared by the array ops: reading small int inputs, axis
 * normalization, the strided block copy most data-movement kernels reduce
 * to, and small graph builders used by gradients and public helpers. */
#include "ops/array_internal.h"
#include "core/transpose32.h"

#include <string.h>

int arr_is_index_dtype(tfc_dtype dt) { return dt == TFC_INT32 || dt == TFC_INT64; }

int arr_check_index_input(tfc_infer_ctx *c, int i, const char *what) {
    tfc_dtype dt = tfc_infer_input_dtype(c, i);
    if (!arr_is_index_dtype(dt))
        return tfc_infer_error(c, "%s must be int32 or int64, got %s", what, tfc_dtype_name(dt));
    return 0;
}

int arr_const_ints(const tfc_infer_ctx *c, int i, int64_t *v, int max) {
    const tfc_tensor *t = tfc_infer_input_const(c, i);
    if (!t) return -1;
    return arr_tensor_ints(t, v, max) < 0 ? -2 : (int)t->nelem;
}

int arr_norm_axis(int64_t axis, int rank, int extra, int64_t *out) {
    int64_t n = rank + extra;
    if (axis < -n || axis >= n) return -1;
    *out = axis < 0 ? axis + n : axis;
    return 0;
}

tfc_shape arr_shape_unknown_dims(int rank) {
    tfc_shape s = tfc_shape_unknown();
    if (rank < 0 || rank > TFC_MAX_RANK) return s;
    s.rank = rank;
    for (int i = 0; i < rank; i++) s.dims[i] = -1;
    return s;
}

const tfc_tensor *arr_node_input_const(const tfc_node *op, int i) {
    tfc_node *n = op->inputs[i].node;
    return strcmp(n->op->type, "Const") == 0 ? tfc_attrs_tensor(&n->attrs, "value") : NULL;
}

int arr_tensor_ints(const tfc_tensor *t, int64_t *v, int max) {
    if (t->nelem > max) return -1;
    for (int64_t k = 0; k < t->nelem; k++) v[k] = tfc_tensor_get_int(t, k);
    return (int)t->nelem;
}

void arr_strides(int rank, const int64_t *dims, int64_t *strides) {
    int64_t s = 1;
    for (int i = rank - 1; i >= 0; i--) {
        strides[i] = s;
        s *= dims[i];
    }
}

int64_t arr_prod(const int64_t *dims, int from, int to) {
    int64_t p = 1;
    for (int i = from; i < to; i++) p *= dims[i];
    return p;
}

/* ---- strided copy ---- */

typedef struct scopy_args {
    char *dst;
    const char *src;
    const int64_t *ds, *ss, *dims;
    int rank;
    size_t esz;
} scopy_args;

/* Copies n elements with strides ds/ss (elements), specialized on size so
 * the transposing case is not a memcpy per element. */
static void copy_run(char *d, int64_t ds, const char *s, int64_t ss, int64_t n, size_t esz) {
    if (ds == 1 && ss == 1) {
        memcpy(d, s, (size_t)n * esz);
        return;
    }
    switch (esz) {
    case 1:
        for (int64_t k = 0; k < n; k++) d[k * ds] = s[k * ss];
        break;
    case 4: {
        uint32_t *dp = (uint32_t *)d;
        const uint32_t *sp = (const uint32_t *)s;
        for (int64_t k = 0; k < n; k++) dp[k * ds] = sp[k * ss];
        break;
    }
    case 8: {
        uint64_t *dp = (uint64_t *)d;
        const uint64_t *sp = (const uint64_t *)s;
        for (int64_t k = 0; k < n; k++) dp[k * ds] = sp[k * ss];
        break;
    }
    default:
        for (int64_t k = 0; k < n; k++)
            memcpy(d + (size_t)(k * ds) * esz, s + (size_t)(k * ss) * esz, esz);
    }
}

/* Rows are all dims but the last; each range of rows is copied run by run. */
static void scopy_rows(void *arg, int64_t begin, int64_t end) {
    const scopy_args *a = arg;
    int r = a->rank;
    int64_t idx[TFC_MAX_RANK];
    int64_t rem = begin;
    for (int i = r - 2; i >= 0; i--) {
        idx[i] = rem % a->dims[i];
        rem /= a->dims[i];
    }
    for (int64_t row = begin; row < end; row++) {
        int64_t doff = 0, soff = 0;
        for (int i = 0; i < r - 1; i++) {
            doff += idx[i] * a->ds[i];
            soff += idx[i] * a->ss[i];
        }
        copy_run(a->dst + (size_t)doff * a->esz, a->ds[r - 1], a->src + (size_t)soff * a->esz,
                 a->ss[r - 1], a->dims[r - 1], a->esz);
        for (int i = r - 2; i >= 0; i--) {
            if (++idx[i] < a->dims[i]) break;
            idx[i] = 0;
        }
    }
}

/* ---- tiled copy, for transposes ----
 * When the destination's innermost dim is not the source's, a run reads
 * with a large stride and misses the cache on every element. Copying in
 * square tiles over the two dims that are innermost on either side keeps
 * both sides in cache; 32-bit elements are turned 16 x 16 (or 8 x 8) in
 * vector registers (core/transpose32.h). Tiles of 128: a tile reads 512
 * bytes of each source row (the LSTM's 400 x 800 kernel, from memory in
 * its step: 340 us in tiles of 32, 235 in tiles of 128). */

#define TILE 128

typedef struct tiled_args {
    char *dst;
    const char *src;
    const int64_t *ds, *ss, *dims;
    int rank, q; /* q: the dim whose source stride is 1 */
    size_t esz;
    int64_t qtiles, jtiles;
} tiled_args;

#define TILE_LOOP(T)                                                             \
    do {                                                                         \
        T *dp = (T *)d;                                                          \
        const T *sp = (const T *)s;                                              \
        for (int64_t i = 0; i < ni; i++)                                         \
            for (int64_t j = 0; j < nj; j++) dp[i * dq + j] = sp[i + j * sj];    \
    } while (0)

static void tiled_items(void *arg, int64_t begin, int64_t end) {
    const tiled_args *a = arg;
    int r = a->rank, q = a->q;
    int64_t dq = a->ds[q], sj = a->ss[r - 1];
    for (int64_t item = begin; item < end; item++) {
        int64_t rem = item, jt = rem % a->jtiles;
        rem /= a->jtiles;
        int64_t qt = rem % a->qtiles;
        rem /= a->qtiles;
        int64_t doff = 0, soff = 0;
        for (int i = r - 2; i >= 0; i--) {
            if (i == q) continue;
            int64_t k = rem % a->dims[i];
            rem /= a->dims[i];
            doff += k * a->ds[i];
            soff += k * a->ss[i];
        }
        int64_t i0 = qt * TILE, j0 = jt * TILE;
        int64_t ni = a->dims[q] - i0 < TILE ? a->dims[q] - i0 : TILE;
        int64_t nj = a->dims[r - 1] - j0 < TILE ? a->dims[r - 1] - j0 : TILE;
        doff += i0 * dq + j0;
        soff += i0 + j0 * sj;
        char *d = a->dst + (size_t)doff * a->esz;
        const char *s = a->src + (size_t)soff * a->esz;
        switch (a->esz) {
        case 1: TILE_LOOP(uint8_t); break;
        case 4: tfc_transpose32((uint32_t *)d, dq, (const uint32_t *)s, sj, ni, nj); break;
        case 8: TILE_LOOP(uint64_t); break;
        default:
            for (int64_t i = 0; i < ni; i++)
                for (int64_t j = 0; j < nj; j++)
                    memcpy(d + (size_t)(i * dq + j) * a->esz, s + (size_t)(i + j * sj) * a->esz,
                           a->esz);
        }
    }
}

void arr_strided_copy(tfc_threadpool *pool, void *dst, const int64_t *dst_strides,
                      const void *src, const int64_t *src_strides, const int64_t *dims,
                      int rank, size_t esz) {
    if (rank == 0) {
        memcpy(dst, src, esz);
        return;
    }
    for (int i = 0; i < rank; i++)
        if (dims[i] == 0) return;
    int q = -1;
    if (rank >= 2 && dst_strides[rank - 1] == 1 && src_strides[rank - 1] != 1 &&
        dims[rank - 1] > 1)
        for (int i = 0; i < rank - 1; i++)
            if (src_strides[i] == 1 && dims[i] > 1) q = i;
    if (q >= 0) {
        tiled_args t = {dst, src, dst_strides, src_strides, dims, rank, q, esz,
                        (dims[q] + TILE - 1) / TILE, (dims[rank - 1] + TILE - 1) / TILE};
        int64_t items = t.qtiles * t.jtiles;
        for (int i = 0; i < rank - 1; i++)
            if (i != q) items *= dims[i];
        tfc_parallel_for(pool, items, 16, tiled_items, &t);
        return;
    }
    scopy_args a = {dst, src, dst_strides, src_strides, dims, rank, esz};
    int64_t rows = arr_prod(dims, 0, rank - 1), run = dims[rank - 1];
    int64_t grain = run >= 16384 ? 1 : 16384 / run;
    tfc_parallel_for(pool, rows, grain, scopy_rows, &a);
}

void arr_set_all(tfc_tensor *t, double v) {
    if (v == 0) {
        memset(t->data, 0, t->nbytes);
        return;
    }
    if (t->nelem == 0) return;
    tfc_tensor_set_double(t, 0, v);
    arr_fill_bytes((char *)t->data + tfc_dtype_size(t->dtype), t->data, t->nelem - 1,
                   tfc_dtype_size(t->dtype));
}

void arr_fill_bytes(void *dst, const void *value, int64_t n, size_t esz) {
    switch (esz) {
    case 1:
        memset(dst, *(const uint8_t *)value, (size_t)n);
        break;
    case 4: {
        uint32_t v, *d = dst;
        memcpy(&v, value, 4);
        for (int64_t k = 0; k < n; k++) d[k] = v;
        break;
    }
    case 8: {
        uint64_t v, *d = dst;
        memcpy(&v, value, 8);
        for (int64_t k = 0; k < n; k++) d[k] = v;
        break;
    }
    default:
        for (int64_t k = 0; k < n; k++) memcpy((char *)dst + (size_t)k * esz, value, esz);
    }
}

tfc_tensor *arr_output_copy(tfc_kernel_ctx *c, const tfc_tensor *in, int rank,
                            const int64_t *dims) {
    /* the same shape (a pipeline's Reshape of each decoded image to the
     * [784] it has): the input itself, as Cast to its own dtype does; no
     * alias header to make and free. (Not strings: their kernels' wrapper
     * makes each output own its bytes, which must not touch an input.) */
    if (rank == in->rank && in->dtype != TFC_STRING &&
        (!rank || !memcmp(dims, in->dims, sizeof *dims * (size_t)rank))) {
        tfc_kernel_set_output(c, 0, tfc_tensor_ref((tfc_tensor *)in));
        return c->outputs[0];
    }
    /* same elements, new shape: share the buffer instead of copying it */
    tfc_tensor *out = tfc_tensor_alias((tfc_tensor *)in, rank, dims);
    if (out) {
        tfc_kernel_set_output(c, 0, out);
        return out;
    }
    out = tfc_kernel_output(c, 0, in->dtype, rank, dims);
    if (out && in->nbytes) memcpy(out->data, in->data, in->nbytes);
    return out;
}

/* ---- graph builders ---- */

tfc_output arr_const_vec_typed(tfc_graph *g, tfc_dtype dt, const int64_t *v, int n) {
    int64_t dims[1] = {n};
    int32_t v32[TFC_MAX_RANK * 2];
    int64_t v64[TFC_MAX_RANK * 2];
    if (n < 0 || n > TFC_MAX_RANK * 2) {
        tfc_graph_fail(g, TFC_INVALID_ARGUMENT, "too many values (%d) for a shape constant", n);
        return (tfc_output){NULL, 0};
    }
    for (int i = 0; i < n; i++) {
        v32[i] = (int32_t)v[i];
        v64[i] = v[i];
    }
    return tfc_const_data(g, dt, 1, dims, dt == TFC_INT64 ? (const void *)v64 : (const void *)v32);
}

tfc_output arr_const_vec(tfc_graph *g, const int64_t *v, int n) {
    tfc_dtype dt = TFC_INT32;
    for (int i = 0; i < n; i++)
        if (v[i] != (int32_t)v[i]) dt = TFC_INT64;
    return arr_const_vec_typed(g, dt, v, n);
}

tfc_output arr_const_scalar(tfc_graph *g, tfc_dtype dt, double v) {
    tfc_tensor *t = tfc_tensor_alloc(dt, 0, NULL);
    if (!t) {
        if (g) tfc_graph_fail(g, TFC_INVALID_ARGUMENT, "invalid dtype %d for a constant", (int)dt);
        return (tfc_output){NULL, 0};
    }
    tfc_tensor_set_double(t, 0, v);
    tfc_output o = tfc_const(g, t);
    tfc_tensor_free(t);
    return o;
}

tfc_output arr_shape_tensor(tfc_graph *g, tfc_output x, tfc_dtype dt) {
    tfc_shape s = tfc_output_shape(x);
    if (tfc_shape_is_fully_defined(&s)) return arr_const_vec_typed(g, dt, s.dims, s.rank);
    tfc_op_desc *d = tfc_op_new(g, "Shape", NULL);
    tfc_op_add_input(d, x);
    tfc_op_set_attr_type(d, "out_type", dt);
    return tfc_out(tfc_op_finish(d), 0);
}

tfc_output arr_reshape_like(tfc_graph *g, tfc_output dy, tfc_output x) {
    return tfc_reshape_to(g, dy, arr_shape_tensor(g, x, TFC_INT32));
}
