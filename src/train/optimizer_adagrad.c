/* tf.train.AdagradOptimizer and AdagradDAOptimizer (dual averaging);
 * sparse gradients through SparseApplyAdagrad / SparseApplyAdagradDA. */
#include "train/optimizer_internal.h"

static tfc_node *adagrad_apply(tfc_optimizer *o, tfc_graph *g, tfc_output var,
                               tfc_output grad, tfc_output indices, const tfc_output *slots) {
    tfc_output in[4] = {var, slots[0], tfc_opt_lr(o, g, tfc_opt_var_dtype(var)), grad};
    return tfc_opt_update_node(g, "ApplyAdagrad", in, 4, 3, indices, -1);
}

tfc_optimizer *tfc_adagrad_optimizer(double learning_rate, double initial_accumulator_value) {
    tfc_optimizer *o = tfc_opt_new("Adagrad", learning_rate);
    if (!o) return NULL;
    tfc_opt_add_slot(o, "accumulator", initial_accumulator_value);
    o->apply = adagrad_apply;
    return o;
}

/* TensorFlow applies AdagradDA with global_step + 1 (the step being taken). */
static tfc_node *adagrad_da_apply(tfc_optimizer *o, tfc_graph *g, tfc_output var,
                                  tfc_output grad, tfc_output indices,
                                  const tfc_output *slots) {
    tfc_dtype dt = tfc_opt_var_dtype(var);
    if (!o->global_step.node) {
        tfc_graph_fail(g, TFC_INVALID_ARGUMENT, "AdagradDA needs a global step");
        return NULL;
    }
    tfc_output step = o->global_step;
    if (tfc_output_dtype(step) != TFC_INT64) {
        tfc_op_desc *d = tfc_op_new(g, "Cast", NULL);
        tfc_op_add_input(d, step);
        tfc_op_set_attr_type(d, "DstT", TFC_INT64);
        step = tfc_out(tfc_op_finish(d), 0);
    }
    tfc_op_desc *d = tfc_op_new(g, "Add", NULL);
    tfc_op_add_input(d, step);
    tfc_op_add_input(d, tfc_opt_scalar(g, TFC_INT64, 1));
    step = tfc_out(tfc_op_finish(d), 0);
    tfc_output in[8] = {var,
                        slots[0],
                        slots[1],
                        grad,
                        tfc_opt_lr(o, g, dt),
                        tfc_opt_scalar(g, dt, o->hp[0]),
                        tfc_opt_scalar(g, dt, o->hp[1]),
                        step};
    return tfc_opt_update_node(g, "ApplyAdagradDA", in, 8, 3, indices, -1);
}

tfc_optimizer *tfc_adagrad_da_optimizer(double learning_rate, tfc_output global_step,
                                        double initial_gradient_squared_accumulator_value,
                                        double l1_regularization_strength,
                                        double l2_regularization_strength) {
    tfc_optimizer *o = tfc_opt_new("AdagradDA", learning_rate);
    if (!o) return NULL;
    o->global_step = global_step;
    o->hp[0] = l1_regularization_strength;
    o->hp[1] = l2_regularization_strength;
    tfc_opt_add_slot(o, "gradient_accumulator", 0.0);
    tfc_opt_add_slot(o, "gradient_squared_accumulator",
                     initial_gradient_squared_accumulator_value);
    o->apply = adagrad_da_apply;
    return o;
}
