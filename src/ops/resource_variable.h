/* Resource variables (TensorFlow's ResourceVariable): a variable is a
 * reference-counted resource that a VarHandleOp's TFC_RESOURCE handle
 * points to; ReadVariableOp, AssignVariableOp and the ResourceApply* ops
 * reach it through the handle, so a handle passed into a function body
 * reaches the same variable. Its cell (lock + value) has a node state's
 * layout, so code written for ref variables (the Apply* rules, the saver)
 * works on it unchanged. */
#ifndef TFC_OPS_RESOURCE_VARIABLE_H
#define TFC_OPS_RESOURCE_VARIABLE_H

#include "graph/op_registry.h"

typedef struct tfc_resource_var {
    tfc_resource base;
    tfc_node_state cell; /* cell.value NULL: uninitialized */
    tfc_dtype dtype;
    tfc_shape shape; /* declared (rank -1: unknown) */
    char *name;      /* the shared name, for messages */
} tfc_resource_var;

/* The variable a handle tensor points to, or NULL when it is no variable. */
tfc_resource_var *tfc_resource_var_of(const tfc_tensor *handle);
/* Whether node n is a variable of either kind (VariableV2/Variable or
 * VarHandleOp). */
int tfc_is_variable_node(const tfc_node *n);
/* The value cell of variable node n in session s: a VariableV2's node
 * state, or the cell of the resource variable VarHandleOp n names (made
 * on first use). Call with s->lock held. NULL when memory runs out. */
tfc_node_state *tfc_variable_cell(tfc_session *s, tfc_node *n);
/* The dtype and declared shape of variable node n's value. */
tfc_dtype tfc_variable_node_dtype(const tfc_node *n);
tfc_shape tfc_variable_node_shape(const tfc_node *n);

/* The Apply* ops' rules (training.c), for their ResourceApply* forms:
 * the input layout of Apply* op `type` (var and slots are inputs
 * [0, nrefs); indices 0 when dense; int_scalar -1 when none), -1 when
 * there is no such op; and the update of `type` on var and slot cells
 * (locked in turn; names for messages). 0, or -1 with the error set. */
int tfc_apply_layout(const char *type, int *nrefs, int *grad, int *indices, int *int_scalar);
int tfc_apply_run(tfc_kernel_ctx *c, const char *type, int nesterov, tfc_dtype dt,
                  tfc_node_state *const *cells, const char *const *names);

#endif
