/* Helpers for kernels: output allocation and errors naming the node. */
#include "core/tensor.h"
#include "graph/op_registry.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

tfc_tensor *tfc_kernel_output(tfc_kernel_ctx *c, int i, tfc_dtype dtype, int rank,
                              const int64_t *dims) {
    tfc_tensor *t = tfc_tensor_alloc(dtype, rank, dims);
    if (!t) {
        char buf[128];
        tfc_kernel_error(c, TFC_INTERNAL, "cannot allocate output %d (%s %s)", i,
                         tfc_dtype_name(dtype), tfc_dims_str(rank, dims, buf, sizeof buf));
        return NULL;
    }
    tfc_tensor_free(c->outputs[i]);
    c->outputs[i] = t;
    return t;
}

tfc_tensor *tfc_kernel_output_in_place(tfc_kernel_ctx *c, int out, tfc_dtype dtype, int rank,
                                       const int64_t *dims) {
    for (int i = 0; c->input_overwritable && i < c->ninputs; i++) {
        tfc_tensor *t = c->inputs[i];
        if (t && t->dtype == dtype && t->rank == rank &&
            memcmp(t->dims, dims, (size_t)rank * sizeof *dims) == 0 &&
            c->input_overwritable(c, i)) {
            tfc_kernel_set_output(c, out, tfc_tensor_ref(t));
            return t;
        }
    }
    return tfc_kernel_output(c, out, dtype, rank, dims);
}

const tfc_node *tfc_kernel_producer(const tfc_node *n, int input) {
    const tfc_node *p = n->inputs[input].node;
    while (!strcmp(p->op->type, "Identity") || !strcmp(p->op->type, "StopGradient"))
        p = p->inputs[0].node;
    return p;
}

tfc_kernel_ctx tfc_kernel_ctx_for(const tfc_kernel_ctx *c, const tfc_node *node, int ninputs,
                                  tfc_tensor *const *inputs, tfc_tensor **outputs) {
    tfc_kernel_ctx k = *c;
    k.node = node;
    k.ninputs = ninputs;
    k.inputs = inputs;
    k.noutputs = 1;
    k.outputs = outputs;
    k.state = NULL;
    k.input_state = NULL;
    k.input_overwritable = NULL;
    return k;
}

void tfc_kernel_set_output(tfc_kernel_ctx *c, int i, tfc_tensor *t) {
    tfc_tensor_free(c->outputs[i]);
    c->outputs[i] = t;
}

void tfc_kernel_error(tfc_kernel_ctx *c, tfc_code code, const char *fmt, ...) {
    if (c->status->code != TFC_OK) return;
    char buf[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    tfc_status_set(c->status, code, "%s [[node %s (%s)]]", buf, c->node->name,
                   c->node->op->type);
}
