/* tf.train.FtrlOptimizer (FTRL-proximal, op ApplyFtrl; SparseApplyFtrl for
 * sparse gradients). */
#include "train/optimizer_internal.h"

static tfc_node *ftrl_apply(tfc_optimizer *o, tfc_graph *g, tfc_output var, tfc_output grad,
                            tfc_output indices, const tfc_output *slots) {
    tfc_dtype dt = tfc_opt_var_dtype(var);
    tfc_output in[8] = {var,
                        slots[0],
                        slots[1],
                        grad,
                        tfc_opt_lr(o, g, dt),
                        tfc_opt_scalar(g, dt, o->hp[1]),
                        tfc_opt_scalar(g, dt, o->hp[2]),
                        tfc_opt_scalar(g, dt, o->hp[0])};
    return tfc_opt_update_node(g, "ApplyFtrl", in, 8, 3, indices, -1);
}

tfc_optimizer *tfc_ftrl_optimizer(double learning_rate, double learning_rate_power,
                                  double initial_accumulator_value,
                                  double l1_regularization_strength,
                                  double l2_regularization_strength) {
    tfc_optimizer *o = tfc_opt_new("Ftrl", learning_rate);
    if (!o) return NULL;
    o->hp[0] = learning_rate_power;
    o->hp[1] = l1_regularization_strength;
    o->hp[2] = l2_regularization_strength;
    tfc_opt_add_slot(o, "accum", initial_accumulator_value);
    tfc_opt_add_slot(o, "linear", 0.0);
    o->apply = ftrl_apply;
    return o;
}
