/* CheckNumerics(tensor), attr message (tf.debugging.check_numerics): passes
 * a float tensor through unchanged, or fails the run when it holds a NaN or
 * an infinity, with TensorFlow's message "<message> : Tensor had NaN
 * values" naming the node. Its gradient checks the incoming gradient the
 * same way. tfc_add_check_numerics_ops puts one after every float output of
 * a graph (tf.add_check_numerics_ops). */
#include "graph/op_registry.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int check_numerics_infer(tfc_infer_ctx *c) {
    tfc_dtype dt = tfc_infer_input_dtype(c, 0);
    if (dt != TFC_FLOAT && dt != TFC_DOUBLE)
        return tfc_infer_error(c, "tensor must be float32 or float64, got %s", tfc_dtype_name(dt));
    tfc_attrs_set_int(c->attrs, "T", TFC_ATTR_TYPE, dt);
    if (!tfc_attrs_string(c->attrs, "message")) tfc_attrs_set_string(c->attrs, "message", "");
    tfc_infer_set_output(c, 0, dt, tfc_infer_input_shape(c, 0));
    return 0;
}

/* bit 0: a NaN seen, bit 1: an infinity */
#define SCAN(T)                                                                                    \
    static int scan_##T(const T *v, int64_t n) {                                                   \
        int found = 0;                                                                             \
        for (int64_t i = 0; i < n && found != 3; i++)                                              \
            if (!isfinite(v[i])) found |= isnan(v[i]) ? 1 : 2;                                     \
        return found;                                                                              \
    }
SCAN(float)
SCAN(double)

static void check_numerics_kernel(tfc_kernel_ctx *c) {
    const tfc_tensor *x = c->inputs[0];
    int found =
        x->dtype == TFC_FLOAT ? scan_float(x->data, x->nelem) : scan_double(x->data, x->nelem);
    if (found) {
        static const char *what[] = {"", "NaN", "Inf", "Inf and NaN"};
        const char *msg = tfc_attrs_string(&c->node->attrs, "message");
        tfc_kernel_error(c, TFC_INVALID_ARGUMENT, "%s : Tensor had %s values", msg ? msg : "",
                         what[found]);
        return;
    }
    /* a variable's buffer may change later in the run: pass a snapshot */
    tfc_tensor *out =
        x->flags & TFC_TENSOR_VARIABLE ? tfc_tensor_copy(x) : tfc_tensor_ref((tfc_tensor *)x);
    if (!out) {
        tfc_kernel_error(c, TFC_INTERNAL, "out of memory");
        return;
    }
    tfc_kernel_set_output(c, 0, out);
}

static int check_numerics_grad(tfc_graph *g, tfc_node *op, const tfc_output *dy, tfc_output *dx) {
    const char *msg = tfc_attrs_string(&op->attrs, "message");
    char buf[512];
    snprintf(buf, sizeof buf,
             "Not a number (NaN) or infinity (Inf) values detected in gradient. %s",
             msg ? msg : "");
    dx[0] = tfc_check_numerics(g, dy[0], buf);
    return 0;
}

tfc_output tfc_check_numerics(tfc_graph *g, tfc_output tensor, const char *message) {
    tfc_op_desc *d = tfc_op_new(g, "CheckNumerics", NULL);
    tfc_op_add_input(d, tensor);
    tfc_op_set_attr_string(d, "message", message ? message : "");
    return tfc_out(tfc_op_finish(d), 0);
}

tfc_node *tfc_add_check_numerics_ops(tfc_graph *g) {
    if (!g || g->error) return NULL;
    int n = tfc_graph_num_nodes(g), outs = 0;
    for (int i = 0; i < n; i++) outs += tfc_graph_node(g, i)->noutputs;
    tfc_node **checks = malloc(((size_t)outs + 1) * sizeof *checks);
    if (!checks) {
        tfc_graph_fail(g, TFC_INTERNAL, "add_check_numerics_ops: out of memory");
        return NULL;
    }
    int k = 0;
    for (int i = 0; i < n && !g->error; i++) {
        tfc_node *node = tfc_graph_node(g, i);
        for (int j = 0; j < node->noutputs && !g->error; j++) {
            tfc_output o = tfc_out(node, j);
            tfc_dtype dt = tfc_output_dtype(o);
            /* references to a variable (the variable itself, Assign*, Apply*:
             * TensorFlow's *_ref dtypes) are checked where they are read */
            if ((dt != TFC_FLOAT && dt != TFC_DOUBLE) || (node->op->flags & TFC_OP_VARIABLE) ||
                node->op->ref_inputs || strcmp(node->op->type, "CheckNumerics") == 0)
                continue;
            char msg[320];
            snprintf(msg, sizeof msg, "%s:%d", node->name, j);
            /* each check waits for the one before, as in TensorFlow: the
             * first bad value in graph order is the one reported */
            if (k) tfc_control_dependencies_push(g, &checks[k - 1], 1);
            tfc_output c = tfc_check_numerics(g, o, msg);
            if (k) tfc_control_dependencies_pop(g);
            if (c.node) checks[k++] = c.node;
        }
    }
    tfc_node *group = g->error || !k ? NULL : tfc_group(g, &checks[k - 1], 1);
    if (!g->error && !k)
        tfc_graph_fail(g, TFC_INVALID_ARGUMENT, "add_check_numerics_ops: no float tensor to check");
    free(checks);
    return group;
}

const tfc_op_def tfc_ops_check_numerics[] = {
    {"CheckNumerics", 1, 1, 1, 0, 0, check_numerics_infer, check_numerics_kernel,
     check_numerics_grad},
    {NULL, 0, 0, 0, 0, 0, NULL, NULL, NULL},
};
