/* Row updates of a variable and the op that removes duplicate indices:
 * what sparse gradients need. ScatterAdd / ScatterSub / ScatterUpdate
 * (ref, indices, updates) change only the rows of `ref` named by indices
 * (duplicates add up, or the last one wins for ScatterUpdate, as in
 * TensorFlow); Unique(x) gives the distinct values in order of first
 * appearance and, per element, the position of its value among them. */
#include "graph/op_registry.h"

#include <stdlib.h>
#include <string.h>

static int index_dtype(tfc_dtype dt) { return dt == TFC_INT32 || dt == TFC_INT64; }

/* ---- ScatterAdd / ScatterSub / ScatterUpdate(ref, indices, updates) ---- */

static int scatter_infer(tfc_infer_ctx *c) {
    tfc_dtype dt = tfc_infer_input_dtype(c, 0), it = tfc_infer_input_dtype(c, 1);
    if (dt != TFC_FLOAT && dt != TFC_DOUBLE && dt != TFC_INT32 && dt != TFC_INT64)
        return tfc_infer_error(c, "ref must be a number type, got %s", tfc_dtype_name(dt));
    if (!index_dtype(it))
        return tfc_infer_error(c, "indices must be int32 or int64, got %s", tfc_dtype_name(it));
    if (tfc_infer_input_dtype(c, 2) != dt)
        return tfc_infer_error(c, "updates must be %s like ref, got %s", tfc_dtype_name(dt),
                               tfc_dtype_name(tfc_infer_input_dtype(c, 2)));
    tfc_shape rs = tfc_infer_input_shape(c, 0), is = tfc_infer_input_shape(c, 1),
              us = tfc_infer_input_shape(c, 2);
    if (rs.rank == 0) return tfc_infer_error(c, "ref must have rank 1 or more");
    if (rs.rank > 0 && is.rank >= 0 && us.rank >= 0) {
        int bad = us.rank != is.rank + rs.rank - 1;
        for (int i = 0; !bad && i < us.rank; i++) {
            int64_t want = i < is.rank ? is.dims[i] : rs.dims[i - is.rank + 1];
            bad = want >= 0 && us.dims[i] >= 0 && want != us.dims[i];
        }
        if (bad) {
            char a[96], b[96], r[96];
            return tfc_infer_error(c,
                                   "updates has shape %s, must be indices.shape %s + "
                                   "ref.shape[1:] (ref %s)",
                                   tfc_shape_str(&us, a, sizeof a), tfc_shape_str(&is, b, sizeof b),
                                   tfc_shape_str(&rs, r, sizeof r));
        }
    }
    tfc_attrs_set_int(c->attrs, "T", TFC_ATTR_TYPE, dt);
    tfc_attrs_set_int(c->attrs, "Tindices", TFC_ATTR_TYPE, it);
    tfc_infer_set_output(c, 0, dt, rs);
    return 0;
}

/* mode: 1 add, -1 subtract, 0 overwrite. */
#define SCATTER_ROWS(T)                                                                            \
    do {                                                                                           \
        T *dst = (T *)var->data + k * inner;                                                       \
        const T *src = (const T *)up->data + i * inner;                                            \
        if (mode > 0)                                                                              \
            for (int64_t e = 0; e < inner; e++) dst[e] += src[e];                                  \
        else if (mode < 0)                                                                         \
            for (int64_t e = 0; e < inner; e++) dst[e] -= src[e];                                  \
        else                                                                                       \
            memcpy(dst, src, (size_t)inner * sizeof(T));                                           \
    } while (0)

static void scatter(tfc_kernel_ctx *c, int mode) {
    tfc_node_state *st = c->input_state[0];
    const tfc_tensor *ix = c->inputs[1], *up = c->inputs[2];
    pthread_mutex_lock(&st->lock);
    tfc_tensor *var = st->value;
    const char *err = NULL;
    if (!var) {
        pthread_mutex_unlock(&st->lock);
        tfc_kernel_error(c, TFC_FAILED_PRECONDITION, "Attempting to use uninitialized value %s",
                         c->node->inputs[0].node->name);
        return;
    }
    int64_t limit = var->rank ? var->dims[0] : 0, n = ix->nelem;
    int64_t inner = limit ? var->nelem / limit : 0;
    if (var->rank < 1 || up->dtype != var->dtype || up->nelem != n * inner)
        err = "updates must have shape indices.shape + ref.shape[1:]";
    for (int64_t i = 0; !err && i < n; i++) {
        int64_t k = tfc_tensor_get_int(ix, i);
        if (k < 0 || k >= limit) {
            pthread_mutex_unlock(&st->lock);
            tfc_kernel_error(c, TFC_INVALID_ARGUMENT, "indices[%lld] = %lld is not in [0, %lld)",
                             (long long)i, (long long)k, (long long)limit);
            return;
        }
    }
    if (err) {
        pthread_mutex_unlock(&st->lock);
        tfc_kernel_error(c, TFC_INVALID_ARGUMENT, "%s", err);
        return;
    }
    for (int64_t i = 0; i < n; i++) {
        int64_t k = tfc_tensor_get_int(ix, i);
        switch (var->dtype) {
        case TFC_FLOAT: SCATTER_ROWS(float); break;
        case TFC_DOUBLE: SCATTER_ROWS(double); break;
        case TFC_INT32: SCATTER_ROWS(int32_t); break;
        default: SCATTER_ROWS(int64_t); break;
        }
    }
    tfc_kernel_set_output(c, 0, tfc_tensor_ref(var));
    pthread_mutex_unlock(&st->lock);
}

static void scatter_add_kernel(tfc_kernel_ctx *c) { scatter(c, 1); }
static void scatter_sub_kernel(tfc_kernel_ctx *c) { scatter(c, -1); }
static void scatter_update_kernel(tfc_kernel_ctx *c) { scatter(c, 0); }

/* ---- Unique(x) -> (y, idx), attr out_idx (int32 by default) ---- */

static int unique_infer(tfc_infer_ctx *c) {
    tfc_dtype dt = tfc_infer_input_dtype(c, 0);
    if (!index_dtype(dt))
        return tfc_infer_error(c, "x must be int32 or int64, got %s", tfc_dtype_name(dt));
    tfc_shape xs = tfc_infer_input_shape(c, 0);
    if (xs.rank >= 0 && xs.rank != 1) return tfc_infer_error(c, "x must be a vector");
    tfc_dtype ot = tfc_attrs_type(c->attrs, "out_idx", TFC_INT32);
    if (!index_dtype(ot))
        return tfc_infer_error(c, "out_idx must be int32 or int64, got %s", tfc_dtype_name(ot));
    tfc_attrs_set_int(c->attrs, "T", TFC_ATTR_TYPE, dt);
    tfc_attrs_set_int(c->attrs, "out_idx", TFC_ATTR_TYPE, ot);
    tfc_infer_set_output(c, 0, dt, tfc_shape_vector(-1));
    tfc_infer_set_output(c, 1, ot, xs.rank == 1 ? xs : tfc_shape_vector(-1));
    return 0;
}

static uint64_t hash64(int64_t v) {
    uint64_t x = (uint64_t)v * 0x9E3779B97F4A7C15ull;
    return x ^ (x >> 29);
}

static void unique_kernel(tfc_kernel_ctx *c) {
    const tfc_tensor *x = c->inputs[0];
    int64_t n = x->nelem, cap = 16;
    while (cap < 2 * n) cap *= 2;
    /* open addressing: slot -> position of the value in y, -1 when empty */
    int64_t *slot = malloc((size_t)cap * sizeof *slot);
    int64_t *vals = malloc(((size_t)n + 1) * sizeof *vals);
    tfc_tensor *idx = tfc_kernel_output(c, 1, c->node->out_dtypes[1], 1, &n);
    if (!slot || !vals || !idx) {
        if (idx && (!slot || !vals)) tfc_kernel_error(c, TFC_INTERNAL, "out of memory");
        free(slot);
        free(vals);
        return;
    }
    for (int64_t i = 0; i < cap; i++) slot[i] = -1;
    int64_t nu = 0;
    for (int64_t i = 0; i < n; i++) {
        int64_t v = tfc_tensor_get_int(x, i);
        uint64_t h = hash64(v) & (uint64_t)(cap - 1);
        while (slot[h] >= 0 && vals[slot[h]] != v) h = (h + 1) & (uint64_t)(cap - 1);
        if (slot[h] < 0) {
            slot[h] = nu;
            vals[nu++] = v;
        }
        if (idx->dtype == TFC_INT32)
            ((int32_t *)idx->data)[i] = (int32_t)slot[h];
        else
            ((int64_t *)idx->data)[i] = slot[h];
    }
    tfc_tensor *y = tfc_kernel_output(c, 0, x->dtype, 1, &nu);
    for (int64_t i = 0; y && i < nu; i++) {
        if (y->dtype == TFC_INT32)
            ((int32_t *)y->data)[i] = (int32_t)vals[i];
        else
            ((int64_t *)y->data)[i] = vals[i];
    }
    free(slot);
    free(vals);
}

#define SCATTER_FLAGS (TFC_OP_STATEFUL | TFC_OP_NO_GRADIENT)

const tfc_op_def tfc_ops_scatter[] = {
    {"ScatterAdd", 3, 3, 1, SCATTER_FLAGS, 1u, scatter_infer, scatter_add_kernel, NULL},
    {"ScatterSub", 3, 3, 1, SCATTER_FLAGS, 1u, scatter_infer, scatter_sub_kernel, NULL},
    {"ScatterUpdate", 3, 3, 1, SCATTER_FLAGS, 1u, scatter_infer, scatter_update_kernel, NULL},
    {"Unique", 1, 1, 2, TFC_OP_NO_GRADIENT, 0, unique_infer, unique_kernel, NULL},
    {NULL, 0, 0, 0, 0, 0, NULL, NULL, NULL},
};
