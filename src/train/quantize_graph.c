/* Post-training quantization (tfc_graph_quantize): a frozen float
 * inference graph becomes one whose products run on 8-bit codes with int8
 * weights, in the spirit of TensorFlow's tools/quantization
 * quantize_graph.py ("eightbit") with ranges calibrated on sample inputs
 * instead of RequantizationRange at run time.
 *
 * Each float32 MatMul or Conv2D whose weights are a Const (through
 * Identities) is replaced, under its own name, by
 *     QuantizeV2(input, calibrated min, max; quint8, MIN_FIRST)
 *       -> QuantizedMatMul / QuantizedConv2D with the weights as a qint8 Const
 *       -> Dequantize (SCALED: code * product scale, exact for qint32)
 * so its consumers (BiasAdd, Relu, pools) stay float. The weights get one
 * symmetric range [-128 l, 127 l] per tensor, l = max|w| / Q, codes within
 * +-Q (Q 127 for 8 bits, 64 for 7), so the code of 0.0 is 0.
 *
 * How: the float graph is copied through its GraphDef into a work graph,
 * the quantized nodes are added there, and in the work graph's GraphDef
 * the product's node is renamed "<name>/float" and its Dequantize takes
 * "<name>"; importing that GraphDef with the outputs to keep drops the
 * float products and their float weights. */
#include "graph/graph.h"
#include "graph/op_registry.h"
#include "graph.pb-c.h"
#include "tfc.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct target {
    tfc_node *node;         /* the MatMul / Conv2D in the float graph */
    const tfc_tensor *w;    /* its float weights (a Const's value) */
    float lo, hi;           /* the range its input took in calibration */
} target;

/* The Const behind `o` through Identities, or NULL. */
static const tfc_tensor *const_value(tfc_output o) {
    tfc_node *n = o.node;
    while (n && !strcmp(n->op->type, "Identity") && n->ninputs == 1) n = n->inputs[0].node;
    if (!n || strcmp(n->op->type, "Const")) return NULL;
    const tfc_tensor *t = tfc_attrs_tensor(&n->attrs, "value");
    return t && t->dtype == TFC_FLOAT ? t : NULL;
}

/* Is node n a product this rewrite handles? Then its weights. */
static const tfc_tensor *quantizable(tfc_node *n) {
    int mm = !strcmp(n->op->type, "MatMul"), conv = !strcmp(n->op->type, "Conv2D");
    if ((!mm && !conv) || n->ninputs != 2 || n->out_dtypes[0] != TFC_FLOAT) return NULL;
    const tfc_tensor *w = const_value(n->inputs[1]);
    if (!w || w->rank != (mm ? 2 : 4)) return NULL;
    if (conv) {
        const int64_t *d;
        int nd = tfc_attrs_int_list(&n->attrs, "dilations", &d);
        for (int i = 0; i < nd; i++)
            if (d[i] != 1) return NULL;
        const char *fmt = tfc_attrs_string(&n->attrs, "data_format");
        if (fmt && strcmp(fmt, "NHWC")) return NULL;
    }
    return w;
}

/* Runs g on each calibration feed set, widening each target's range to
 * hold every value its input takes. */
static int calibrate(tfc_graph *g, target *t, int nt, const tfc_output *feeds, int nfeeds,
                     tfc_tensor *const *calib, int ncalib, tfc_status *st) {
    tfc_session *s = tfc_session_new(g, NULL, st);
    tfc_output *fetch = malloc((size_t)nt * sizeof *fetch);
    tfc_tensor **vals = calloc((size_t)nt, sizeof *vals);
    int rc = s && fetch && vals ? 0 : -1;
    if (rc && tfc_status_code(st) == TFC_OK)
        tfc_status_set(st, TFC_RESOURCE_EXHAUSTED, "graph_quantize: out of memory");
    for (int i = 0; i < nt && !rc; i++) {
        fetch[i] = t[i].node->inputs[0];
        t[i].lo = INFINITY;
        t[i].hi = -INFINITY;
    }
    for (int r = 0; r < ncalib && !rc; r++) {
        tfc_session_run(s, feeds, calib + (size_t)r * (size_t)nfeeds, nfeeds, fetch, nt, vals,
                        NULL, 0, st);
        if (tfc_status_code(st) != TFC_OK) {
            rc = -1;
            break;
        }
        for (int i = 0; i < nt; i++) {
            const float *v = tfc_tensor_data(vals[i]);
            for (int64_t k = 0; k < tfc_tensor_num_elements(vals[i]); k++) {
                t[i].lo = fminf(t[i].lo, v[k]);
                t[i].hi = fmaxf(t[i].hi, v[k]);
            }
            tfc_tensor_free(vals[i]);
            vals[i] = NULL;
        }
    }
    for (int i = 0; i < nt && !rc; i++)
        if (!(t[i].lo <= t[i].hi)) { /* no values seen: an empty batch */
            t[i].lo = 0;
            t[i].hi = 1;
        }
    free(fetch);
    free(vals);
    tfc_session_free(s);
    return rc;
}

/* qint8 codes of w within +-q_max and the range they stand for. */
static tfc_tensor *quantize_weights(const tfc_tensor *w, int q_max, float *mn, float *mx) {
    const float *v = w->data;
    float top = 0;
    for (int64_t i = 0; i < w->nelem; i++) top = fmaxf(top, fabsf(v[i]));
    if (top == 0) top = 1e-6f;
    float level = top / (float)q_max;
    tfc_tensor *q = tfc_tensor_new(TFC_QINT8, w->rank, w->dims);
    if (!q) return NULL;
    int8_t *c = q->data;
    for (int64_t i = 0; i < w->nelem; i++) {
        float r = roundf(v[i] / level);
        c[i] = (int8_t)(r < -q_max ? -q_max : r > q_max ? q_max : r);
    }
    /* code 0 stands for 0.0 and each code for `level` (QuantizedMatMul's
     * offset and QuantizationRangeForMultiplication) */
    *mn = -128.0f * level;
    *mx = 127.0f * level;
    return q;
}

/* The transpose of a float matrix, or NULL when memory runs out. */
static tfc_tensor *transposed(const tfc_tensor *w) {
    int64_t r = w->dims[0], c = w->dims[1];
    tfc_tensor *t = tfc_tensor_new(TFC_FLOAT, 2, (int64_t[]){c, r});
    if (!t) return NULL;
    const float *src = w->data;
    float *dst = t->data;
    for (int64_t i = 0; i < r; i++)
        for (int64_t j = 0; j < c; j++) dst[j * r + i] = src[i * c + j];
    return t;
}

static tfc_output const_scalar(tfc_graph *g, const char *base, const char *suffix, float v) {
    char name[1024];
    snprintf(name, sizeof name, "%s/quant/%s", base, suffix);
    tfc_tensor *t = tfc_tensor_scalar_float(v);
    tfc_op_desc *d = tfc_op_new(g, "Const", name);
    tfc_op_set_attr_tensor(d, "value", t);
    tfc_op_set_attr_type(d, "dtype", TFC_FLOAT);
    tfc_tensor_free(t);
    return tfc_out(tfc_op_finish(d), 0);
}

/* Adds the quantized replacement of target t (its twin `n` in the work
 * graph) and returns its Dequantize node, or NULL (error on the graph). */
static tfc_node *add_quantized(tfc_graph *g, tfc_node *n, const target *t, int q_max) {
    const char *base = n->name;
    char name[1024];
    int conv = !strcmp(n->op->type, "Conv2D");
    float wmin, wmax;
    /* a MatMul's weights are stored transposed ([n, k], transpose_b): the
     * few-row products then run as dot products of contiguous rows */
    int tb = !conv && !tfc_attrs_int(&n->attrs, "transpose_b", 0);
    tfc_tensor *wt = tb ? transposed(t->w) : NULL;
    tfc_tensor *wq = (!tb || wt) ? quantize_weights(tb ? wt : t->w, q_max, &wmin, &wmax) : NULL;
    tfc_tensor_free(wt);
    if (!wq) {
        tfc_graph_fail(g, TFC_RESOURCE_EXHAUSTED, "graph_quantize: out of memory");
        return NULL;
    }
    snprintf(name, sizeof name, "%s/quant/weights", base);
    tfc_op_desc *d = tfc_op_new(g, "Const", name);
    tfc_op_set_attr_tensor(d, "value", wq);
    tfc_op_set_attr_type(d, "dtype", TFC_QINT8);
    tfc_output w = tfc_out(tfc_op_finish(d), 0);
    tfc_tensor_free(wq);
    tfc_output lo = const_scalar(g, base, "input_min", fminf(0.0f, t->lo));
    tfc_output hi = const_scalar(g, base, "input_max", t->hi);
    snprintf(name, sizeof name, "%s/quant/input", base);
    d = tfc_op_new(g, "QuantizeV2", name);
    tfc_op_add_inputs(d, (tfc_output[]){n->inputs[0], lo, hi}, 3);
    tfc_op_set_attr_type(d, "T", TFC_QUINT8);
    tfc_op_set_attr_string(d, "mode", "MIN_FIRST");
    tfc_node *qx = tfc_op_finish(d);
    if (!qx) return NULL;
    snprintf(name, sizeof name, "%s/quant/product", base);
    d = tfc_op_new(g, conv ? "QuantizedConv2D" : "QuantizedMatMul", name);
    tfc_op_add_inputs(d, (tfc_output[]){tfc_out(qx, 0), w, tfc_out(qx, 1), tfc_out(qx, 2),
                                        const_scalar(g, base, "weights_min", wmin),
                                        const_scalar(g, base, "weights_max", wmax)},
                      6);
    if (conv) {
        const int64_t *s;
        int ns = tfc_attrs_int_list(&n->attrs, "strides", &s);
        tfc_op_set_attr_int_list(d, "strides", s, ns);
        tfc_op_set_attr_string(d, "padding", tfc_attrs_string(&n->attrs, "padding"));
    } else {
        tfc_op_set_attr_bool(d, "transpose_a", (int)tfc_attrs_int(&n->attrs, "transpose_a", 0));
        tfc_op_set_attr_bool(d, "transpose_b", 1);
    }
    tfc_node *p = tfc_op_finish(d);
    if (!p) return NULL;
    snprintf(name, sizeof name, "%s/quant/output", base);
    d = tfc_op_new(g, "Dequantize", name);
    tfc_op_add_inputs(d, (tfc_output[]){tfc_out(p, 0), tfc_out(p, 1), tfc_out(p, 2)}, 3);
    tfc_op_set_attr_string(d, "mode", "SCALED");
    return tfc_op_finish(d);
}

/* In a serialized GraphDef, renames node `from` to `to` (malloc'd). */
static int rename_node(Tensorflow__GraphDef *gd, const char *from, const char *to) {
    for (size_t i = 0; i < gd->n_node; i++)
        if (!strcmp(gd->node[i]->name, from)) {
            char *s = strdup(to);
            if (!s) return -1;
            free(gd->node[i]->name);
            gd->node[i]->name = s;
            return 0;
        }
    return -1;
}

/* Swaps each target's name onto its Dequantize in the work graph's
 * GraphDef and imports the result, keeping the outputs, into a new graph. */
static tfc_graph *swap_and_import(tfc_graph *work, tfc_node *const *deq, target *t, int nt,
                                  const char *const *outputs, int noutputs, tfc_status *st) {
    uint8_t *bytes = NULL, *packed = NULL;
    size_t len = 0;
    tfc_graph *out = NULL;
    if (tfc_graph_to_graphdef(work, &bytes, &len, st)) return NULL;
    Tensorflow__GraphDef *gd = tensorflow__graph_def__unpack(NULL, len, bytes);
    free(bytes);
    int ok = gd != NULL;
    for (int i = 0; ok && i < nt; i++) {
        char name[1024];
        snprintf(name, sizeof name, "%s/float", t[i].node->name);
        ok = !rename_node(gd, t[i].node->name, name) &&
             !rename_node(gd, deq[i]->name, t[i].node->name);
    }
    if (ok) {
        len = tensorflow__graph_def__get_packed_size(gd);
        packed = malloc(len ? len : 1);
        ok = packed != NULL;
        if (ok) tensorflow__graph_def__pack(gd, packed);
    }
    if (gd) tensorflow__graph_def__free_unpacked(gd, NULL);
    if (!ok) {
        tfc_status_set(st, TFC_INTERNAL, "graph_quantize: cannot rewrite the GraphDef");
        free(packed);
        return NULL;
    }
    out = tfc_graph_new();
    tfc_import_options opts = {0};
    opts.keep_outputs = outputs;
    opts.nkeep_outputs = noutputs;
    if (tfc_graph_import_graphdef_v2(out, packed, len, &opts, st)) {
        tfc_graph_free(out);
        out = NULL;
    }
    free(packed);
    return out;
}

tfc_graph *tfc_graph_quantize(tfc_graph *g, const char *const *output_names, int noutputs,
                              const tfc_output *feeds, int nfeeds, tfc_tensor *const *calib,
                              int ncalib, const tfc_quantize_options *options,
                              tfc_status *status) {
    int bits = options && options->weight_bits ? options->weight_bits : 7;
    if (!g || tfc_graph_error(g)) {
        tfc_status_set(status, TFC_INVALID_ARGUMENT, "graph_quantize: the graph has an error: %s",
                       g ? tfc_graph_error(g) : "no graph");
        return NULL;
    }
    if (bits != 7 && bits != 8) {
        tfc_status_set(status, TFC_INVALID_ARGUMENT,
                       "graph_quantize: weight_bits must be 7 or 8, got %d", bits);
        return NULL;
    }
    if (ncalib < 1 || noutputs < 1) {
        tfc_status_set(status, TFC_INVALID_ARGUMENT,
                       "graph_quantize: needs at least one calibration run and one output");
        return NULL;
    }
    int n = tfc_graph_num_nodes(g), nt = 0;
    target *t = calloc((size_t)n + 1, sizeof *t);
    tfc_node **deq = calloc((size_t)n + 1, sizeof *deq);
    tfc_graph *work = NULL, *out = NULL;
    if (!t || !deq) {
        tfc_status_set(status, TFC_RESOURCE_EXHAUSTED, "graph_quantize: out of memory");
        goto done;
    }
    for (int i = 0; i < n; i++) {
        tfc_node *node = tfc_graph_node(g, i);
        const tfc_tensor *w = quantizable(node);
        if (w) t[nt++] = (target){node, w, 0, 0};
    }
    if (!nt) {
        tfc_status_set(status, TFC_INVALID_ARGUMENT,
                       "graph_quantize: no float MatMul or Conv2D with constant weights");
        goto done;
    }
    if (calibrate(g, t, nt, feeds, nfeeds, calib, ncalib, status)) goto done;
    /* the work graph: a copy of g plus the quantized nodes */
    uint8_t *bytes = NULL;
    size_t len = 0;
    if (tfc_graph_to_graphdef(g, &bytes, &len, status)) goto done;
    work = tfc_graph_new();
    int rc = tfc_graph_import_graphdef(work, bytes, len, NULL, NULL, NULL, 0, status);
    free(bytes);
    if (rc) goto done;
    for (int i = 0; i < nt && !tfc_graph_error(work); i++) {
        tfc_node *twin = tfc_graph_node_by_name(work, t[i].node->name);
        deq[i] = twin ? add_quantized(work, twin, &t[i], bits == 8 ? 127 : 64) : NULL;
        if (!deq[i] && !tfc_graph_error(work))
            tfc_graph_fail(work, TFC_INTERNAL, "graph_quantize: node %s was not copied",
                           t[i].node->name);
    }
    if (tfc_graph_error(work)) {
        tfc_status_set(status, TFC_INVALID_ARGUMENT, "graph_quantize: %s", tfc_graph_error(work));
        goto done;
    }
    out = swap_and_import(work, deq, t, nt, output_names, noutputs, status);
done:
    tfc_graph_free(work);
    free(t);
    free(deq);
    return out;
}
