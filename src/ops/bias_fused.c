/* _MatMulBiasAdd, _MatMulBiasAddRelu, _Conv2DBiasAdd, _Conv2DBiasAddRelu:
 * the plan's fusions (src/runtime/optimize.c) of a BiasAdd into the MatMul
 * or Conv2D whose output only it reads, and of a Relu into such a fused
 * BiasAdd (TensorFlow's grappler remaps the same patterns to _FusedMatMul
 * and _FusedConv2D). Each block of the output gets its bias and relu as
 * soon as it is summed, in the cache of the thread that summed it (the
 * register tiles' blocks, a convolution's tiles: epilogue.h), rather than
 * in two more passes over the whole output by nodes of their own. The
 * values are the unfused ops' bit for bit.
 *
 * The node is the BiasAdd, or the Relu (names in errors are theirs); its
 * inputs: the product's two, then the bias. The MatMul or Conv2D, which does
 * not run, is found behind its first input (and the BiasAdd's) and holds
 * the product's attributes. Where the bias does not fit the product (the
 * BiasAdd would fail), the kernel runs the ops one after the other, so
 * that their own errors are reported. Graphs never hold these ops. */
#include "graph/op_registry.h"
#include "ops/conv_internal.h"
#include "ops/epilogue.h"
#include "ops/math_internal.h"

static int fused_infer(tfc_infer_ctx *c) {
    return tfc_infer_error(c, "%s is made by a plan, not built into a graph",
                           c->op ? c->op->type : "a fused op");
}

/* The product, the BiasAdd and the Relu one after the other, as written. */
static void one_by_one(tfc_kernel_ctx *c, const tfc_node *product, const tfc_node *bias_add,
                       int relu) {
    tfc_tensor *prod = NULL, *biased = NULL;
    tfc_kernel_ctx k = tfc_kernel_ctx_for(c, product, 2, c->inputs, &prod);
    product->op->kernel(&k);
    tfc_tensor *in[2] = {prod, c->inputs[2]};
    if (prod && tfc_status_code(c->status) == TFC_OK) {
        k = tfc_kernel_ctx_for(c, bias_add, 2, in, relu ? &biased : c->outputs);
        bias_add->op->kernel(&k);
    }
    if (relu && biased && tfc_status_code(c->status) == TFC_OK) {
        k = tfc_kernel_ctx_for(c, c->node, 1, &biased, c->outputs);
        c->node->op->kernel(&k);
    }
    tfc_tensor_free(prod);
    tfc_tensor_free(biased);
}

static void fused_kernel(tfc_kernel_ctx *c, int conv, int relu) {
    const tfc_node *bias_add = relu ? tfc_kernel_producer(c->node, 0) : c->node;
    const tfc_node *product = tfc_kernel_producer(bias_add, 0);
    const tfc_tensor *a = c->inputs[0], *w = c->inputs[1], *bias = c->inputs[2];
    int ta = 0, tb = 0;
    if (!conv) tfc_math_matmul_transposes(product, &ta, &tb);
    /* the output's last dim, where the product's shapes give one */
    int64_t last =
        conv ? (w->rank == 4 ? w->dims[3] : -1) : (w->rank == 2 ? w->dims[tb ? 0 : 1] : -1);
    if ((a->dtype != TFC_FLOAT && a->dtype != TFC_DOUBLE) || bias->dtype != a->dtype ||
        bias->rank != 1 || bias->dims[0] != last) {
        one_by_one(c, product, bias_add, relu);
        return;
    }
    tfc_epilogue ep = {bias->data, relu};
    tfc_kernel_ctx k = tfc_kernel_ctx_for(c, product, 2, c->inputs, c->outputs);
    if (conv)
        tfc_conv2d_run(&k, &ep);
    else
        tfc_math_matmul_run(&k, ta, tb, &ep);
}

static void matmul_bias_kernel(tfc_kernel_ctx *c) { fused_kernel(c, 0, 0); }
static void matmul_bias_relu_kernel(tfc_kernel_ctx *c) { fused_kernel(c, 0, 1); }
static void conv2d_bias_kernel(tfc_kernel_ctx *c) { fused_kernel(c, 1, 0); }
static void conv2d_bias_relu_kernel(tfc_kernel_ctx *c) { fused_kernel(c, 1, 1); }

const tfc_op_def tfc_ops_bias_fused[] = {
    {"_MatMulBiasAdd", 3, 3, 1, TFC_OP_NO_GRADIENT, 0, fused_infer, matmul_bias_kernel, NULL},
    {"_MatMulBiasAddRelu", 3, 3, 1, TFC_OP_NO_GRADIENT, 0, fused_infer, matmul_bias_relu_kernel,
     NULL},
    {"_Conv2DBiasAdd", 3, 3, 1, TFC_OP_NO_GRADIENT, 0, fused_infer, conv2d_bias_kernel, NULL},
    {"_Conv2DBiasAddRelu", 3, 3, 1, TFC_OP_NO_GRADIENT, 0, fused_infer, conv2d_bias_relu_kernel,
     NULL},
    {NULL, 0, 0, 0, 0, 0, NULL, NULL, NULL},
};
