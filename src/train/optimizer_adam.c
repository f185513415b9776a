/* tf.train.AdamOptimizer: slots m and v, and the non-slot variables
 * beta1_power and beta2_power that carry the bias correction. A sparse
 * gradient is applied as TensorFlow's _apply_sparse_shared does: m and v
 * decay everywhere, the gradient rows are scatter-added, and the whole
 * variable takes the step (no SparseApplyAdam op exists). */
#include "train/optimizer_internal.h"

#include "autodiff/grad_util.h"

static int adam_create_nonslots(tfc_optimizer *o, tfc_graph *g, tfc_output first_var) {
    if (o->nonslot[0].node && o->nonslot[0].node->graph == g) return 0;
    tfc_output none = {NULL, 0};
    tfc_dtype dt = tfc_opt_var_dtype(first_var);
    o->nonslot[0] = tfc_opt_make_var(g, "beta1_power", none, dt, o->hp[0]);
    o->nonslot[1] = tfc_opt_make_var(g, "beta2_power", none, dt, o->hp[1]);
    return o->nonslot[0].node && o->nonslot[1].node ? 0 : -1;
}

/* The beta powers are of the first variable's type; others get a cast. */
static tfc_output as_dtype(tfc_graph *g, tfc_output x, tfc_dtype dt) {
    if (tfc_output_dtype(x) == dt) return x;
    tfc_op_desc *d = tfc_op_new(g, "Cast", NULL);
    tfc_op_add_input(d, x);
    tfc_op_set_attr_type(d, "DstT", dt);
    return tfc_out(tfc_op_finish(d), 0);
}

/* m = m * beta1 then m[indices] += (1 - beta1) * rows: the new m. */
static tfc_output decay_and_scatter(tfc_graph *g, tfc_output slot, double beta,
                                   tfc_output indices, tfc_output rows) {
    tfc_dtype dt = tfc_output_dtype(slot);
    tfc_node *decayed = tfc_assign(g, slot, tfc_mul(g, slot, tfc_opt_scalar(g, dt, beta))).node;
    if (!decayed) return (tfc_output){NULL, 0};
    tfc_control_dependencies_push(g, &decayed, 1);
    tfc_output in[3] = {slot, indices, tfc_mul(g, rows, tfc_opt_scalar(g, dt, 1 - beta))};
    tfc_node *n = tfc_opt_apply_node(g, "ScatterAdd", in, 3, -1);
    tfc_control_dependencies_pop(g);
    return tfc_out(n, 0);
}

static tfc_node *adam_apply_sparse(tfc_optimizer *o, tfc_graph *g, tfc_output var,
                                   tfc_output grad, tfc_output indices,
                                   const tfc_output *slots) {
    tfc_dtype dt = tfc_opt_var_dtype(var);
    tfc_output one = tfc_opt_scalar(g, dt, 1);
    tfc_output b1p = as_dtype(g, o->nonslot[0], dt), b2p = as_dtype(g, o->nonslot[1], dt);
    tfc_output lr = tfc_div(g, tfc_mul(g, tfc_opt_lr(o, g, dt), tfc_sqrt(g, tfc_sub(g, one, b2p))),
                            tfc_sub(g, one, b1p));
    tfc_output m = decay_and_scatter(g, slots[0], o->hp[0], indices, grad);
    tfc_output v = decay_and_scatter(g, slots[1], o->hp[1], indices, tfc_square(g, grad));
    if (!m.node || !v.node) return NULL;
    tfc_output step = tfc_div(g, tfc_mul(g, lr, m),
                              tfc_add(g, tfc_sqrt(g, v), tfc_opt_scalar(g, dt, o->hp[2])));
    tfc_node *parts[3] = {tfc_assign_sub(g, var, step).node, m.node, v.node};
    if (!parts[0]) return NULL;
    return tfc_group(g, parts, 3);
}

static tfc_node *adam_apply(tfc_optimizer *o, tfc_graph *g, tfc_output var, tfc_output grad,
                            tfc_output indices, const tfc_output *slots) {
    if (indices.node) return adam_apply_sparse(o, g, var, grad, indices, slots);
    tfc_dtype dt = tfc_opt_var_dtype(var);
    tfc_output in[10] = {var,
                         slots[0],
                         slots[1],
                         as_dtype(g, o->nonslot[0], dt),
                         as_dtype(g, o->nonslot[1], dt),
                         tfc_opt_lr(o, g, dt),
                         tfc_opt_scalar(g, dt, o->hp[0]),
                         tfc_opt_scalar(g, dt, o->hp[1]),
                         tfc_opt_scalar(g, dt, o->hp[2]),
                         grad};
    return tfc_opt_apply_node(g, "ApplyAdam", in, 10, 0);
}

/* After the updates: beta_power *= beta. */
static int adam_finish(tfc_optimizer *o, tfc_graph *g, tfc_node *const *updates, int n,
                       tfc_node **extra) {
    tfc_control_dependencies_push(g, updates, n);
    for (int k = 0; k < 2; k++) {
        tfc_output p = o->nonslot[k];
        tfc_output in[2] = {p, tfc_opt_scalar(g, tfc_output_dtype(p), o->hp[k])};
        extra[k] = tfc_assign(g, p, tfc_grad_op(g, "Mul", in, 2)).node;
    }
    tfc_control_dependencies_pop(g);
    return extra[0] && extra[1] ? 2 : -1;
}

tfc_optimizer *tfc_adam_optimizer(double learning_rate, double beta1, double beta2,
                                  double epsilon) {
    tfc_optimizer *o = tfc_opt_new("Adam", learning_rate);
    if (!o) return NULL;
    o->hp[0] = beta1;
    o->hp[1] = beta2;
    o->hp[2] = epsilon;
    tfc_opt_add_slot(o, "m", 0.0);
    tfc_opt_add_slot(o, "v", 0.0);
    o->apply = adam_apply;
    o->create_nonslots = adam_create_nonslots;
    o->finish = adam_finish;
    return o;
}
