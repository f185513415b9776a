/* Gradient clipping (tf.clip_by_value, tf.clip_by_norm, tf.global_norm,
 * tf.clip_by_global_norm), built from other ops so that gradients flow
 * through them. Sparse gradients (tfc_gradient_sparse_parts) are measured
 * and scaled through their rows and stay sparse, as TensorFlow's
 * IndexedSlices do. */
#include "autodiff/grad_util.h"
#include "graph/op_registry.h"

#include <stdlib.h>

/* A scalar constant of x's float dtype. */
static tfc_output scalar_like(tfc_graph *g, tfc_output x, double v) {
    return tfc_output_dtype(x) == TFC_DOUBLE ? tfc_const_double(g, v)
                                             : tfc_const_float(g, (float)v);
}

static int float_input(tfc_graph *g, const char *what, tfc_output t) {
    if (!t.node) return tfc_graph_fail(g, TFC_INVALID_ARGUMENT, "%s: the tensor is null", what);
    tfc_dtype dt = tfc_output_dtype(t);
    if (dt != TFC_FLOAT && dt != TFC_DOUBLE)
        return tfc_graph_fail(g, TFC_INVALID_ARGUMENT,
                              "%s: '%s' must be float32 or float64, got %s", what,
                              tfc_node_name(t.node), tfc_dtype_name(dt));
    return 0;
}

tfc_output tfc_clip_by_value(tfc_graph *g, tfc_output t, double min_value, double max_value) {
    tfc_output none = {NULL, 0};
    if (!g || g->error || float_input(g, "clip_by_value", t)) return none;
    if (!(min_value <= max_value)) {
        tfc_graph_fail(g, TFC_INVALID_ARGUMENT,
                       "clip_by_value: min_value %g is greater than max_value %g", min_value,
                       max_value);
        return none;
    }
    return tfc_minimum(g, tfc_maximum(g, t, scalar_like(g, t, min_value)),
                       scalar_like(g, t, max_value));
}

/* t * clip_norm / max(||t||, clip_norm); the norm of a zero tensor is
 * taken without a square root of 0, whose gradient would be infinite. */
tfc_output tfc_clip_by_norm(tfc_graph *g, tfc_output t, double clip_norm) {
    tfc_output none = {NULL, 0};
    if (!g || g->error || float_input(g, "clip_by_norm", t)) return none;
    if (!(clip_norm > 0)) {
        tfc_graph_fail(g, TFC_INVALID_ARGUMENT, "clip_by_norm: clip_norm must be > 0, got %g",
                       clip_norm);
        return none;
    }
    tfc_output sum = tfc_reduce_sum(g, tfc_mul(g, t, t), NULL, 0, 0);
    tfc_output positive = tfc_greater(g, sum, scalar_like(g, t, 0));
    tfc_output safe = tfc_select(g, positive, sum, tfc_ones_like(g, sum));
    tfc_output norm = tfc_select(g, positive, tfc_sqrt(g, safe), sum);
    tfc_output c = scalar_like(g, t, clip_norm);
    return tfc_div(g, tfc_mul(g, t, c), tfc_maximum(g, norm, c));
}

/* The tensor whose norm counts: a sparse gradient's rows, else t. */
static tfc_output measured_part(tfc_output t) {
    tfc_output values;
    return tfc_gradient_sparse_parts(t, NULL, &values) ? values : t;
}

tfc_output tfc_global_norm(tfc_graph *g, const tfc_output *ts, int n) {
    tfc_output none = {NULL, 0};
    if (!g || g->error) return none;
    tfc_output *halves = malloc(((size_t)n + 1) * sizeof *halves);
    if (!halves) {
        tfc_graph_fail(g, TFC_INTERNAL, "out of memory in global_norm");
        return none;
    }
    int k = 0;
    tfc_dtype dt = TFC_INVALID_DTYPE;
    for (int i = 0; i < n; i++) {
        if (!ts[i].node) continue; /* a variable without a gradient */
        if (float_input(g, "global_norm", ts[i])) break;
        if (dt == TFC_INVALID_DTYPE) dt = tfc_output_dtype(ts[i]);
        if (tfc_output_dtype(ts[i]) != dt) {
            tfc_graph_fail(g, TFC_INVALID_ARGUMENT,
                           "global_norm: tensors must share one dtype; '%s' is %s, not %s",
                           tfc_node_name(ts[i].node), tfc_dtype_name(tfc_output_dtype(ts[i])),
                           tfc_dtype_name(dt));
            break;
        }
        halves[k++] = tfc_l2_loss(g, measured_part(ts[i]));
    }
    tfc_output r = none;
    if (!g->error && k == 0)
        tfc_graph_fail(g, TFC_INVALID_ARGUMENT, "global_norm: no tensor given");
    if (!g->error) {
        tfc_output half = tfc_reduce_sum(g, tfc_stack(g, halves, k, 0), NULL, 0, 0);
        r = tfc_sqrt(g, tfc_mul(g, half, scalar_like(g, halves[0], 2)));
    }
    free(halves);
    return r;
}

int tfc_clip_by_global_norm(tfc_graph *g, const tfc_output *ts, int n, double clip_norm,
                            tfc_output *clipped, tfc_output *global_norm) {
    if (!g || g->error) return -1;
    if (!(clip_norm > 0))
        return tfc_graph_fail(g, TFC_INVALID_ARGUMENT,
                              "clip_by_global_norm: clip_norm must be > 0, got %g", clip_norm);
    tfc_output norm = tfc_global_norm(g, ts, n);
    if (!norm.node) return -1;
    /* clip_norm * min(1 / norm, 1 / clip_norm); + (norm - norm) makes every
     * output NaN when the norm is infinite or NaN, as TensorFlow does */
    tfc_output one = scalar_like(g, norm, 1);
    tfc_output scale =
        tfc_mul(g, scalar_like(g, norm, clip_norm),
                tfc_minimum(g, tfc_div(g, one, norm), scalar_like(g, norm, 1.0 / clip_norm)));
    scale = tfc_add(g, scale, tfc_sub(g, norm, norm));
    for (int i = 0; i < n; i++) {
        tfc_output indices, values;
        if (!ts[i].node)
            clipped[i] = ts[i];
        else if (tfc_gradient_sparse_parts(ts[i], &indices, &values))
            clipped[i] =
                tfc_grad_sparse(g, tfc_mul(g, values, scale), indices, ts[i].node->inputs[2]);
        else
            clipped[i] = tfc_mul(g, ts[i], scale);
    }
    if (global_norm) *global_norm = norm;
    return g->error ? -1 : 0;
}
