/* tf.train.RMSPropOptimizer, plain or centered (sparse gradients through
 * SparseApplyRMSProp / SparseApplyCenteredRMSProp). */
#include "train/optimizer_internal.h"

static tfc_node *rmsprop_apply(tfc_optimizer *o, tfc_graph *g, tfc_output var,
                               tfc_output grad, tfc_output indices, const tfc_output *slots) {
    tfc_dtype dt = tfc_opt_var_dtype(var);
    tfc_output lr = tfc_opt_lr(o, g, dt), rho = tfc_opt_scalar(g, dt, o->hp[0]),
               mom = tfc_opt_scalar(g, dt, o->hp[1]), eps = tfc_opt_scalar(g, dt, o->hp[2]);
    if (o->flag) {
        /* slots in creation order: rms, mg, momentum; the op takes mg, ms, mom */
        tfc_output in[9] = {var, slots[1], slots[0], slots[2], lr, rho, mom, eps, grad};
        return tfc_opt_update_node(g, "ApplyCenteredRMSProp", in, 9, 8, indices, -1);
    }
    tfc_output in[8] = {var, slots[0], slots[1], lr, rho, mom, eps, grad};
    return tfc_opt_update_node(g, "ApplyRMSProp", in, 8, 7, indices, -1);
}

tfc_optimizer *tfc_rmsprop_optimizer(double learning_rate, double decay, double momentum,
                                     double epsilon, int centered) {
    tfc_optimizer *o = tfc_opt_new("RMSProp", learning_rate);
    if (!o) return NULL;
    o->hp[0] = decay;
    o->hp[1] = momentum;
    o->hp[2] = epsilon;
    o->flag = centered != 0;
    tfc_opt_add_slot(o, "rms", 1.0);
    if (centered) tfc_opt_add_slot(o, "mg", 0.0);
    tfc_opt_add_slot(o, "momentum", 0.0);
    o->apply = rmsprop_apply;
    return o;
}
