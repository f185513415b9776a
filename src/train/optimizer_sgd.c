/* tf.train.GradientDescentOptimizer and MomentumOptimizer. A sparse
 * gradient is applied as TensorFlow does: ScatterSub(var, indices,
 * lr * values) (duplicates add up), and SparseApplyMomentum. */
#include "train/optimizer_internal.h"

static tfc_node *gd_apply(tfc_optimizer *o, tfc_graph *g, tfc_output var, tfc_output grad,
                          tfc_output indices, const tfc_output *slots) {
    (void)slots;
    tfc_output lr = tfc_opt_lr(o, g, tfc_opt_var_dtype(var));
    if (indices.node) {
        tfc_output in[3] = {var, indices, tfc_mul(g, grad, lr)};
        return tfc_opt_apply_node(g, "ScatterSub", in, 3, -1);
    }
    tfc_output in[3] = {var, lr, grad};
    return tfc_opt_apply_node(g, "ApplyGradientDescent", in, 3, -1);
}

tfc_optimizer *tfc_gradient_descent_optimizer(double learning_rate) {
    tfc_optimizer *o = tfc_opt_new("GradientDescent", learning_rate);
    if (!o) return NULL;
    o->apply = gd_apply;
    o->keep_duplicates = 1;
    return o;
}

static tfc_node *momentum_apply(tfc_optimizer *o, tfc_graph *g, tfc_output var,
                                tfc_output grad, tfc_output indices, const tfc_output *slots) {
    tfc_dtype dt = tfc_opt_var_dtype(var);
    tfc_output in[5] = {var, slots[0], tfc_opt_lr(o, g, dt), grad,
                        tfc_opt_scalar(g, dt, o->hp[0])};
    return tfc_opt_update_node(g, "ApplyMomentum", in, 5, 3, indices, o->flag);
}

tfc_optimizer *tfc_momentum_optimizer(double learning_rate, double momentum,
                                      int use_nesterov) {
    tfc_optimizer *o = tfc_opt_new("Momentum", learning_rate);
    if (!o) return NULL;
    o->hp[0] = momentum;
    o->flag = use_nesterov != 0;
    tfc_opt_add_slot(o, "momentum", 0.0);
    o->apply = momentum_apply;
    return o;
}
