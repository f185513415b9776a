/* The optimizer object shared by the common machinery (optimizer.c) and the
 * per-algorithm files (optimizer_*.c). An algorithm names its slots with
 * their initial values and builds one Apply* node per variable; optional
 * hooks create non-slot variables (Adam's beta powers) and add ops after
 * the updates. */
#ifndef TFC_TRAIN_OPTIMIZER_INTERNAL_H
#define TFC_TRAIN_OPTIMIZER_INTERNAL_H

#include "graph/op_registry.h"

#define TFC_OPT_MAX_SLOTS 4
#define TFC_OPT_MAX_HP 6

typedef struct tfc_opt_slot {
    tfc_node *var;
    tfc_output slots[TFC_OPT_MAX_SLOTS];
} tfc_opt_slot;

struct tfc_optimizer {
    const char *name; /* "Adam": scope of its ops, suffix of its slots */
    double lr;
    tfc_output lr_tensor; /* node NULL: use the constant lr */
    double hp[TFC_OPT_MAX_HP]; /* algorithm hyper-parameters */
    int flag;                  /* use_nesterov / centered */
    tfc_output global_step;    /* AdagradDA's step */
    int nslot_names;
    const char *slot_names[TFC_OPT_MAX_SLOTS];
    double slot_init[TFC_OPT_MAX_SLOTS];
    int nvars, cap;
    tfc_opt_slot *vars;
    /* Adam's beta1_power, beta2_power (one pair per optimizer) */
    tfc_output nonslot[2];
    /* Builds the update of `var` from `grad` and its slots; returns the
     * Apply* node or NULL (error recorded on g). When indices.node is set
     * the gradient is sparse: rows `grad` of var at `indices` (1-D), with
     * no duplicates unless keep_duplicates; then it builds the sparse
     * update (SparseApply*, or TensorFlow's scatter ops). */
    tfc_node *(*apply)(tfc_optimizer *o, tfc_graph *g, tfc_output var, tfc_output grad,
                       tfc_output indices, const tfc_output *slots);
    /* The sparse update sums duplicate indices itself (ScatterSub). */
    int keep_duplicates;
    /* Called once before the updates with the first variable; 0 or -1. */
    int (*create_nonslots)(tfc_optimizer *o, tfc_graph *g, tfc_output first_var);
    /* Adds ops that run after the `n` updates, writing them to `extra`
     * (room for 2); returns their number, or -1 on error. The train op
     * waits for the updates and these. */
    int (*finish)(tfc_optimizer *o, tfc_graph *g, tfc_node *const *updates, int n,
                  tfc_node **extra);
    /* Set by a wrapper (tfc_distributed_optimizer, src/distributed/):
     * rewrites the gradients compute_gradients returns, in place (e.g.
     * averages them over the ranks); 0, or -1 with the error on g. The
     * data goes with the optimizer through wrap_free. */
    int (*wrap_gradients)(tfc_optimizer *o, tfc_graph *g, tfc_grad_and_var *gv, int n);
    void *wrap_data;
    void (*wrap_free)(void *wrap_data);
};

/* A zeroed optimizer with the common fields set; NULL when out of memory. */
tfc_optimizer *tfc_opt_new(const char *name, double lr);
/* Adds slot `name` with initial value `init` (in creation order). */
void tfc_opt_add_slot(tfc_optimizer *o, const char *name, double init);
/* The learning rate as a scalar of `dt` (the tensor, cast if needed, or a
 * constant). */
tfc_output tfc_opt_lr(tfc_optimizer *o, tfc_graph *g, tfc_dtype dt);
/* A scalar constant of `dt`. */
tfc_output tfc_opt_scalar(tfc_graph *g, tfc_dtype dt, double v);
/* A new Apply* node `type` with `n` inputs; `nesterov` >= 0 sets the
 * use_nesterov attr. */
tfc_node *tfc_opt_apply_node(tfc_graph *g, const char *type, const tfc_output *in, int n,
                             int nesterov);
/* The update node: op `type` on the `n` inputs `in`, whose gradient is
 * in[grad_at]; when indices.node is set, op "Sparse"+type with the indices
 * inserted after the gradient (TensorFlow's input order). `nesterov` as in
 * tfc_opt_apply_node. */
tfc_node *tfc_opt_update_node(tfc_graph *g, const char *type, const tfc_output *in, int n,
                              int grad_at, tfc_output indices, int nesterov);
/* A variable outside any name or control scope, named `base` made unique,
 * holding `init` everywhere, with the type and shape of `like` (or a
 * scalar of type `dt` when like.node is NULL). */
tfc_output tfc_opt_make_var(tfc_graph *g, const char *base, tfc_output like, tfc_dtype dt,
                            double init);
/* A variable's value dtype: a ref variable's output dtype, or a resource
 * variable's (its VarHandleOp's dtype attr). Resource variables get
 * resource slots and ResourceApply* updates (tfc_opt_apply_node prefixes
 * "Resource" when its first input is a handle), with dense gradients. */
tfc_dtype tfc_opt_var_dtype(tfc_output var);

#endif
