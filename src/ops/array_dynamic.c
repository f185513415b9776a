/* DynamicStitch and ParallelDynamicStitch (indices_0..N-1, data_0..N-1):
 * interleave the slices of N data tensors into one, merged[indices[m][i]] =
 * data[m][i], as TensorFlow's. The reduction gradients use it to build the
 * keep_dims shape of a reduction whose rank or axes are known only at run
 * time (tf's math_ops.reduced_shape).
 *
 * Each data[m] is shaped indices[m].shape + S, with one S for all m; the
 * output is [max index + 1] + S. Later (m, i) overwrite earlier ones at a
 * repeated index; rows no index names are zeros (TensorFlow leaves them
 * unspecified). */
#include "ops/array_internal.h"

#include "autodiff/grad_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int stitch_infer(tfc_infer_ctx *c) {
    if (c->ninputs % 2 != 0)
        return tfc_infer_error(c, "takes N indices and N data tensors, got %d inputs (odd)",
                               c->ninputs);
    int n = c->ninputs / 2;
    if (tfc_infer_same_dtype(c, 0, n, TFC_INT32) == TFC_INVALID_DTYPE) return -1;
    tfc_dtype dt = tfc_infer_same_dtype(c, n, n, TFC_INVALID_DTYPE);
    if (dt == TFC_INVALID_DTYPE) return -1;
    tfc_attrs_set_int(c->attrs, "N", TFC_ATTR_INT, n);
    tfc_attrs_set_int(c->attrs, "T", TFC_ATTR_TYPE, dt);

    /* S, the slice shape, merged over the pairs whose ranks are known */
    tfc_shape rest = tfc_shape_unknown();
    int from = -1;
    for (int m = 0; m < n; m++) {
        tfc_shape is = tfc_infer_input_shape(c, m), ds = tfc_infer_input_shape(c, n + m);
        if (is.rank < 0 || ds.rank < 0) continue;
        char b1[128], b2[128];
        int ok = ds.rank >= is.rank;
        for (int d = 0; ok && d < is.rank; d++)
            ok = is.dims[d] < 0 || ds.dims[d] < 0 || is.dims[d] == ds.dims[d];
        if (!ok)
            return tfc_infer_error(
                c, "data[%d].shape = %s does not start with indices[%d].shape = %s", m,
                tfc_shape_str(&ds, b1, sizeof b1), m, tfc_shape_str(&is, b2, sizeof b2));
        tfc_shape s = tfc_shape_unknown();
        s.rank = ds.rank - is.rank;
        for (int d = 0; d < s.rank; d++) s.dims[d] = ds.dims[is.rank + d];
        if (rest.rank < 0) {
            rest = s;
            from = m;
            continue;
        }
        ok = s.rank == rest.rank;
        for (int d = 0; ok && d < s.rank; d++) {
            ok = s.dims[d] < 0 || rest.dims[d] < 0 || s.dims[d] == rest.dims[d];
            if (rest.dims[d] < 0) rest.dims[d] = s.dims[d];
        }
        if (!ok)
            return tfc_infer_error(
                c, "data[%d].shape[%d:] = %s must match data[%d]'s slice shape %s", m, is.rank,
                tfc_shape_str(&s, b1, sizeof b1), from, tfc_shape_str(&rest, b2, sizeof b2));
    }
    /* the first dim is known when every indices tensor is a constant */
    int64_t rows = 0;
    for (int m = 0; m < n && rows >= 0; m++) {
        const tfc_tensor *t = tfc_infer_input_const(c, m);
        if (!t) {
            rows = -1;
            break;
        }
        for (int64_t i = 0; i < t->nelem; i++) {
            int64_t v = tfc_tensor_get_int(t, i);
            if (v < 0)
                return tfc_infer_error(c,
                                       "indices[%d] holds %lld at position %lld: indices must "
                                       "not be negative",
                                       m, (long long)v, (long long)i);
            if (v + 1 > rows) rows = v + 1;
        }
    }
    tfc_shape out = tfc_shape_unknown();
    if (rest.rank >= 0 && rest.rank < TFC_MAX_RANK) {
        out.rank = rest.rank + 1;
        out.dims[0] = rows;
        for (int d = 0; d < rest.rank; d++) out.dims[d + 1] = rest.dims[d];
    } else if (rest.rank >= TFC_MAX_RANK) {
        return tfc_infer_error(c, "the output would have more than %d dims", TFC_MAX_RANK);
    }
    tfc_infer_set_output(c, 0, dt, out);
    return 0;
}

static void stitch_kernel(tfc_kernel_ctx *c) {
    int n = c->ninputs / 2;
    const tfc_tensor *i0 = c->inputs[0], *d0 = c->inputs[n];
    char b1[128], b2[128];
    if (d0->rank < i0->rank || d0->rank - i0->rank >= TFC_MAX_RANK) {
        tfc_kernel_error(c, TFC_INVALID_ARGUMENT,
                         "data[0].shape = %s does not start with indices[0].shape = %s",
                         tfc_dims_str(d0->rank, d0->dims, b1, sizeof b1),
                         tfc_dims_str(i0->rank, i0->dims, b2, sizeof b2));
        return;
    }
    int rr = d0->rank - i0->rank; /* the slice's rank */
    const int64_t *rest = d0->dims + i0->rank;
    int64_t slice = arr_prod(rest, 0, rr), rows = 0;
    for (int m = 0; m < n; m++) {
        const tfc_tensor *ix = c->inputs[m], *dx = c->inputs[n + m];
        int ok = dx->rank == ix->rank + rr;
        for (int d = 0; ok && d < ix->rank; d++) ok = dx->dims[d] == ix->dims[d];
        if (ok) ok = memcmp(dx->dims + ix->rank, rest, (size_t)rr * sizeof *rest) == 0;
        if (!ok) {
            tfc_kernel_error(c, TFC_INVALID_ARGUMENT,
                             "data[%d].shape = %s must be indices[%d].shape = %s followed by "
                             "data[0].shape[%d:]",
                             m, tfc_dims_str(dx->rank, dx->dims, b1, sizeof b1), m,
                             tfc_dims_str(ix->rank, ix->dims, b2, sizeof b2), i0->rank);
            return;
        }
        const int32_t *iv = ix->data;
        for (int64_t i = 0; i < ix->nelem; i++) {
            if (iv[i] < 0) {
                tfc_kernel_error(c, TFC_INVALID_ARGUMENT,
                                 "indices[%d] holds %d at position %lld: indices must not be "
                                 "negative",
                                 m, (int)iv[i], (long long)i);
                return;
            }
            if (iv[i] + (int64_t)1 > rows) rows = iv[i] + (int64_t)1;
        }
    }
    int64_t dims[TFC_MAX_RANK];
    dims[0] = rows;
    memcpy(dims + 1, rest, (size_t)rr * sizeof *rest);
    tfc_tensor *y = tfc_kernel_output(c, 0, d0->dtype, rr + 1, dims);
    if (!y) return;
    memset(y->data, 0, y->nbytes);
    size_t bytes = (size_t)slice * tfc_dtype_size(d0->dtype);
    if (!bytes) return;
    for (int m = 0; m < n; m++) {
        const int32_t *iv = c->inputs[m]->data;
        const char *src = c->inputs[n + m]->data;
        for (int64_t i = 0; i < c->inputs[m]->nelem; i++)
            memcpy((char *)y->data + (size_t)iv[i] * bytes, src + (size_t)i * bytes, bytes);
    }
}

/* Are the indices constants with no index repeated? Then every data
 * element reaches the output. */
static int distinct_const_indices(const tfc_node *op, int n) {
    int64_t rows = 0;
    for (int m = 0; m < n; m++) {
        const tfc_tensor *t = arr_node_input_const(op, m);
        if (!t) return 0;
        for (int64_t i = 0; i < t->nelem; i++)
            if (tfc_tensor_get_int(t, i) + 1 > rows) rows = tfc_tensor_get_int(t, i) + 1;
    }
    if (rows > (1 << 20)) return 0;
    char *seen = calloc((size_t)rows + 1, 1);
    if (!seen) return 0;
    int ok = 1;
    for (int m = 0; m < n && ok; m++) {
        const tfc_tensor *t = arr_node_input_const(op, m);
        for (int64_t i = 0; i < t->nelem && ok; i++) {
            int64_t v = tfc_tensor_get_int(t, i);
            ok = !seen[v];
            seen[v] = 1;
        }
    }
    free(seen);
    return ok;
}

/* The gradient of data[m] is dy's rows at indices[m] (TensorFlow's rule),
 * where (m, i) is the element that ends up in its row. Where an index
 * repeats, the overwritten elements get zeros: a second stitch of position
 * ids tells each row's winner, and a mask keeps the winners' rows. */
static int stitch_grad(tfc_graph *g, tfc_node *op, const tfc_output *dy, tfc_output *dx) {
    int n = op->ninputs / 2;
    if (!dy[0].node) return 0;
    if (distinct_const_indices(op, n)) {
        for (int m = 0; m < n; m++) dx[n + m] = tfc_gather(g, dy[0], op->inputs[m]);
        return 0;
    }
    tfc_output *ids = malloc((size_t)n * 2 * sizeof *ids);
    if (!ids) return tfc_graph_fail(g, TFC_INTERNAL, "out of memory");
    tfc_output base = tfc_const_int32(g, 0), one = tfc_const_int32(g, 1);
    for (int m = 0; m < n; m++) {
        tfc_output ix = op->inputs[m], end = tfc_add(g, base, tfc_size(g, ix));
        tfc_output r = tfc_grad_op(g, "Range", (tfc_output[3]){base, end, one}, 3);
        ids[m] = ix;
        ids[n + m] = tfc_reshape_to(g, r, tfc_shape_of(g, ix));
        base = end;
    }
    tfc_op_desc *d = tfc_op_new(g, "DynamicStitch", NULL);
    tfc_op_add_inputs(d, ids, 2 * n);
    tfc_output winner = tfc_out(tfc_op_finish(d), 0);
    /* rank(dy) - 1 ones after the indices' shape: the mask broadcasts over S */
    tfc_output ones =
        tfc_fill(g, tfc_reshape(g, tfc_sub(g, tfc_rank(g, dy[0]), one), 1, (int64_t[]){1}), one);
    tfc_dtype dt = tfc_output_dtype(dy[0]);
    for (int m = 0; m < n; m++) {
        tfc_output ix = op->inputs[m];
        tfc_output won = tfc_equal(g, tfc_gather(g, winner, ix), ids[n + m]);
        tfc_output mshape = tfc_concat(g, (tfc_output[2]){tfc_shape_of(g, ix), ones}, 2, 0);
        tfc_output mask = tfc_reshape_to(g, tfc_cast(g, won, dt), mshape);
        dx[n + m] = tfc_mul(g, tfc_gather(g, dy[0], ix), mask);
    }
    free(ids);
    return g->error ? -1 : 0;
}

const tfc_op_def tfc_ops_array_dynamic[] = {
    {"DynamicStitch", 2, -1, 1, 0, 0, stitch_infer, stitch_kernel, stitch_grad},
    {"ParallelDynamicStitch", 2, -1, 1, 0, 0, stitch_infer, stitch_kernel, stitch_grad},
    {NULL, 0, 0, 0, 0, 0, NULL, NULL, NULL},
};

tfc_output tfc_dynamic_stitch(tfc_graph *g, const tfc_output *indices, const tfc_output *data,
                              int n) {
    if (!g) return (tfc_output){NULL, 0};
    if (n < 1 || !indices || !data) {
        tfc_graph_fail(g, TFC_INVALID_ARGUMENT,
                       "tfc_dynamic_stitch: needs n >= 1 indices and data tensors, got %d%s", n,
                       n >= 1 ? " (a NULL array)" : "");
        return (tfc_output){NULL, 0};
    }
    tfc_op_desc *d = tfc_op_new(g, "DynamicStitch", NULL);
    tfc_op_add_inputs(d, indices, n);
    tfc_op_add_inputs(d, data, n);
    return tfc_out(tfc_op_finish(d), 0);
}
