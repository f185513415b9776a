/* _MatMulApplyGradientDescent: var -= lr * op(a) op(b), the plan's fusion
 * (src/runtime/optimize.c) of a weight's gradient product into the
 * ApplyGradientDescent that is its only reader. The product then never
 * lands in a tensor of its own: oneDNN adds it, scaled by -lr, straight
 * into the variable, which saves the update's pass over the gradient and
 * the variable (the MLP's 784x256 weight: 19 us at 1 thread, about 30 at
 * 2, where the gradient's rows and the weight's lines sit in different
 * cores' caches). The result is the unfused one bit for bit
 * (tfc_gemm_update; a skinny product's update, as a classifier's 784x10
 * weight's, in the skinny kernels); where it could not be (a k-cut
 * product, float64, bfloat16 products, oneDNN's products of a k longer
 * than its probes allow), the kernel computes the product and the update
 * as the two nodes would.
 *
 * The node is the ApplyGradientDescent (names in errors are its); its
 * inputs: the variable (a ref), alpha, then the product's a and b. Graphs
 * never hold it: only a plan makes it. */
#include "graph/op_registry.h"
#include "ops/bfloat16_products.h"
#include "ops/gemm.h"
#include "ops/math_internal.h"
#include "ops/resource_variable.h"

static int fused_infer(tfc_infer_ctx *c) {
    return tfc_infer_error(c, "_MatMulApplyGradientDescent is made by a plan, not built into "
                              "a graph");
}

/* The fused update where tfc_gemm_update takes it: 1 when done. */
static int update_in_place(tfc_kernel_ctx *c, int ta, int tb) {
    const tfc_tensor *lr = c->inputs[1], *a = c->inputs[2], *b = c->inputs[3];
    if (a->dtype != TFC_FLOAT || b->dtype != TFC_FLOAT || a->rank != 2 || b->rank != 2 ||
        lr->dtype != TFC_FLOAT || lr->nelem != 1 || tfc_bf16_products_on(c))
        return 0;
    int64_t m = a->dims[ta ? 1 : 0], k = a->dims[ta ? 0 : 1];
    int64_t n = b->dims[tb ? 0 : 1], kb = b->dims[tb ? 1 : 0];
    if (k != kb || k == 0) return 0;
    tfc_node_state *st = c->input_state[0];
    pthread_mutex_lock(&st->lock);
    const tfc_tensor *var = st->value;
    int done = var && var->dtype == TFC_FLOAT && var->rank == 2 && var->dims[0] == m &&
               var->dims[1] == n &&
               tfc_gemm_update(c->pool, ta, tb, m, n, k, a->data, b->data,
                               -*(const float *)lr->data, var->data);
    if (done && c->noutputs > 0) tfc_kernel_set_output(c, 0, tfc_tensor_ref(st->value));
    pthread_mutex_unlock(&st->lock);
    return done;
}

static void fused_kernel(tfc_kernel_ctx *c) {
    const tfc_node *product = tfc_kernel_producer(c->node, 2); /* the MatMul */
    int ta, tb;
    tfc_math_matmul_transposes(product, &ta, &tb);
    if (update_in_place(c, ta, tb)) return;
    /* as the two nodes: MatMul's kernel, then ApplyGradientDescent's */
    tfc_tensor *grad = NULL;
    tfc_kernel_ctx mm = tfc_kernel_ctx_for(c, product, 2, c->inputs + 2, &grad);
    tfc_math_matmul_kernel(&mm);
    if (grad && tfc_status_code(c->status) == TFC_OK) {
        tfc_tensor *in[3] = {c->inputs[0], c->inputs[1], grad};
        tfc_kernel_ctx ap = *c;
        ap.ninputs = 3;
        ap.inputs = in;
        const char *var_name = c->node->inputs[0].node->name;
        tfc_apply_run(&ap, "ApplyGradientDescent", 0, c->node->out_dtypes[0], c->input_state,
                      &var_name);
    }
    tfc_tensor_free(grad);
}

const tfc_op_def tfc_ops_training_fused[] = {
    {"_MatMulApplyGradientDescent", 4, 4, 1, TFC_OP_STATEFUL | TFC_OP_NO_GRADIENT, 0x1u,
     fused_infer, fused_kernel, NULL},
    {NULL, 0, 0, 0, 0, 0, NULL, NULL, NULL},
};
