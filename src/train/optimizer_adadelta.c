/* tf.train.AdadeltaOptimizer (sparse gradients: SparseApplyAdadelta). */
#include "train/optimizer_internal.h"

static tfc_node *adadelta_apply(tfc_optimizer *o, tfc_graph *g, tfc_output var,
                                tfc_output grad, tfc_output indices, const tfc_output *slots) {
    tfc_dtype dt = tfc_opt_var_dtype(var);
    tfc_output in[7] = {var,
                        slots[0],
                        slots[1],
                        tfc_opt_lr(o, g, dt),
                        tfc_opt_scalar(g, dt, o->hp[0]),
                        tfc_opt_scalar(g, dt, o->hp[1]),
                        grad};
    return tfc_opt_update_node(g, "ApplyAdadelta", in, 7, 6, indices, -1);
}

tfc_optimizer *tfc_adadelta_optimizer(double learning_rate, double rho, double epsilon) {
    tfc_optimizer *o = tfc_opt_new("Adadelta", learning_rate);
    if (!o) return NULL;
    o->hp[0] = rho;
    o->hp[1] = epsilon;
    tfc_opt_add_slot(o, "accum", 0.0);
    tfc_opt_add_slot(o, "accum_update", 0.0);
    o->apply = adadelta_apply;
    return o;
}
