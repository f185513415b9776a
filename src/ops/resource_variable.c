/* Resource variables, with TensorFlow's op names, signatures and attrs
 * (core/ops/resource_variable_ops.cc): VarHandleOp, ReadVariableOp,
 * AssignVariableOp, AssignAddVariableOp, AssignSubVariableOp,
 * VarIsInitializedOp, DestroyResourceOp, ResourceGather, and the legacy
 * `Variable` op (VariableV2's old name).
 *
 * The variable (tfc_resource_var, resource_variable.h) belongs to the
 * session: the VarHandleOp that makes it keeps it in its node state. Two
 * VarHandleOps of one graph with the same container and shared_name (an
 * empty shared_name is the node's name) name the same variable: the first
 * such node in the graph owns it, the others find its state. Reads return
 * a copy of the value, as TensorFlow's copy-on-read does, so a later
 * update never changes a value already read. */
#include "ops/resource_variable.h"
#include "graph/attrs.h"
#include "runtime/runtime.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void var_free(tfc_resource *r) {
    tfc_resource_var *v = (tfc_resource_var *)r;
    tfc_tensor_free(v->cell.value);
    pthread_mutex_destroy(&v->cell.lock);
    free(v->name);
    free(v);
}

static const tfc_resource_ops var_ops = {"Var", var_free, NULL};

tfc_resource_var *tfc_resource_var_of(const tfc_tensor *handle) {
    tfc_resource *r = tfc_tensor_resource(handle, 0);
    return r && r->ops == &var_ops ? (tfc_resource_var *)r : NULL;
}

/* ---- VarHandleOp ---- */

/* Parsed by the shape function: the node owning the variable (NULL: this
 * one) and the key. */
typedef struct handle_def {
    tfc_node *owner;
    char key[];
} handle_def;

static void handle_key(const tfc_attrs *a, const char *node_name, char *buf, size_t cap) {
    const char *container = tfc_attrs_string(a, "container");
    const char *shared = tfc_attrs_string(a, "shared_name");
    snprintf(buf, cap, "%s\n%s", container ? container : "",
             shared && *shared ? shared : node_name);
}

static int handle_infer(tfc_infer_ctx *c) {
    tfc_dtype dt = tfc_attrs_type(c->attrs, "dtype", TFC_INVALID_DTYPE);
    if (!tfc_dtype_size(dt) || dt == TFC_RESOURCE)
        return tfc_infer_error(c, "missing or invalid attr 'dtype'");
    if (!tfc_attrs_find(c->attrs, "shape")) tfc_attrs_set_shape(c->attrs, "shape", -1, NULL);
    if (!tfc_attrs_string(c->attrs, "container")) tfc_attrs_set_string(c->attrs, "container", "");
    if (!tfc_attrs_string(c->attrs, "shared_name"))
        tfc_attrs_set_string(c->attrs, "shared_name", "");
    char key[1200];
    handle_key(c->attrs, c->name, key, sizeof key);
    tfc_shape shape = tfc_attrs_shape(c->attrs, "shape");
    tfc_node *owner = NULL;
    for (int i = 0; i < c->graph->nnodes && !owner; i++) {
        tfc_node *n = c->graph->nodes[i];
        const handle_def *o = n->op == c->op ? n->op_data : NULL;
        if (!o || strcmp(o->key, key)) continue;
        owner = o->owner ? o->owner : n;
        tfc_shape os = tfc_attrs_shape(&owner->attrs, "shape");
        if (owner->out_dtypes && tfc_attrs_type(&owner->attrs, "dtype", TFC_INVALID_DTYPE) != dt)
            return tfc_infer_error(c, "shared_name '%s' names variable '%s' of dtype %s, not %s",
                                   strchr(key, '\n') + 1, owner->name,
                                   tfc_dtype_name(tfc_attrs_type(&owner->attrs, "dtype", 0)),
                                   tfc_dtype_name(dt));
        if (!tfc_shape_compatible(&os, &shape)) {
            char a[96], b[96];
            return tfc_infer_error(c, "shared_name '%s' names variable '%s' of shape %s, not %s",
                                   strchr(key, '\n') + 1, owner->name,
                                   tfc_shape_str(&os, a, sizeof a),
                                   tfc_shape_str(&shape, b, sizeof b));
        }
    }
    handle_def *d = malloc(sizeof *d + strlen(key) + 1);
    if (!d) return tfc_infer_error(c, "out of memory");
    d->owner = owner;
    strcpy(d->key, key);
    c->op_data = d;
    tfc_infer_set_output(c, 0, TFC_RESOURCE, tfc_shape_scalar());
    return 0;
}

static void handle_free_resource(void *r) { tfc_resource_unref(r); }

/* The variable kept in `st` (the owning VarHandleOp n's state), made on
 * first use along with the handle tensor in st->value. NULL when memory
 * runs out. */
static tfc_resource_var *state_var(tfc_node_state *st, const tfc_node *n) {
    pthread_mutex_lock(&st->lock);
    if (!st->resource) {
        tfc_resource_var *v = calloc(1, sizeof *v);
        const char *shared = tfc_attrs_string(&n->attrs, "shared_name");
        if (v && !(v->name = strdup(shared && *shared ? shared : n->name))) {
            free(v);
            v = NULL;
        }
        if (v) {
            tfc_resource_init(&v->base, &var_ops);
            pthread_mutex_init(&v->cell.lock, NULL);
            v->dtype = tfc_attrs_type(&n->attrs, "dtype", TFC_FLOAT);
            v->shape = tfc_attrs_shape(&n->attrs, "shape");
            /* two references: the state's (freed with the session) and the handle's */
            tfc_tensor *h = tfc_resource_tensor(&v->base);
            if (h) {
                st->value = h;
                st->resource = v;
                st->free_resource = handle_free_resource;
            } else {
                tfc_resource_unref(&v->base);
            }
        }
    }
    tfc_resource_var *v = st->resource;
    pthread_mutex_unlock(&st->lock);
    return v;
}

static tfc_node *handle_owner(const tfc_node *n) {
    const handle_def *d = n->op_data;
    return d && d->owner ? d->owner : (tfc_node *)n;
}

static void handle_kernel(tfc_kernel_ctx *c) {
    tfc_node *owner = handle_owner(c->node);
    tfc_node_state *st = c->state;
    if (owner != c->node) {
        pthread_mutex_lock(&c->session->lock);
        st = tfc_session_node_state(c->session, owner);
        pthread_mutex_unlock(&c->session->lock);
    }
    if (!st || !state_var(st, owner)) {
        tfc_kernel_error(c, TFC_RESOURCE_EXHAUSTED, "out of memory making variable '%s'",
                         owner->name);
        return;
    }
    pthread_mutex_lock(&st->lock);
    tfc_kernel_set_output(c, 0, tfc_tensor_ref(st->value));
    pthread_mutex_unlock(&st->lock);
}

int tfc_is_variable_node(const tfc_node *n) {
    return n && ((n->op->flags & TFC_OP_VARIABLE) || !strcmp(n->op->type, "VarHandleOp"));
}

tfc_node_state *tfc_variable_cell(tfc_session *s, tfc_node *n) {
    if (n->op->flags & TFC_OP_VARIABLE) return tfc_session_node_state(s, n);
    tfc_node *owner = handle_owner(n);
    tfc_node_state *st = tfc_session_node_state(s, owner);
    tfc_resource_var *v = st ? state_var(st, owner) : NULL;
    return v ? &v->cell : NULL;
}

tfc_dtype tfc_variable_node_dtype(const tfc_node *n) {
    if (n->op->flags & TFC_OP_VARIABLE) return n->out_dtypes[0];
    return tfc_attrs_type(&n->attrs, "dtype", TFC_INVALID_DTYPE);
}

tfc_shape tfc_variable_node_shape(const tfc_node *n) {
    if (n->op->flags & TFC_OP_VARIABLE) return n->out_shapes[0];
    return tfc_attrs_shape(&n->attrs, "shape");
}

/* ---- using a variable through its handle ---- */

/* The VarHandleOp a handle input comes from (through Identity), or NULL. */
static const tfc_node *handle_source(tfc_output h) {
    const tfc_node *n = h.node;
    while (n && !strcmp(n->op->type, "Identity") && n->ninputs == 1) n = n->inputs[0].node;
    return n && !strcmp(n->op->type, "VarHandleOp") ? n : NULL;
}

/* Checks input 0 is a handle, and the dtype attr (set from `value_input`'s
 * dtype when absent, or from the handle's variable). Returns the dtype, or
 * TFC_INVALID_DTYPE after the error. */
static tfc_dtype check_handle(tfc_infer_ctx *c, int value_input) {
    tfc_dtype ht = tfc_infer_input_dtype(c, 0);
    if (ht != TFC_RESOURCE) {
        tfc_infer_error(c, "input 0 (resource) must be a variable's resource handle, got %s",
                        tfc_dtype_name(ht));
        return TFC_INVALID_DTYPE;
    }
    const tfc_node *src = handle_source(c->inputs[0]);
    tfc_dtype vt = src ? tfc_variable_node_dtype(src) : TFC_INVALID_DTYPE;
    tfc_dtype dt = tfc_attrs_type(c->attrs, "dtype", TFC_INVALID_DTYPE);
    if (dt == TFC_INVALID_DTYPE)
        dt = value_input >= 0 ? tfc_infer_input_dtype(c, value_input) : vt;
    if (!tfc_dtype_size(dt) || dt == TFC_RESOURCE) {
        tfc_infer_error(c, "missing or invalid attr 'dtype'");
        return TFC_INVALID_DTYPE;
    }
    if (vt != TFC_INVALID_DTYPE && vt != dt) {
        tfc_infer_error(c, "variable '%s' is %s, the op's dtype is %s", src->name,
                        tfc_dtype_name(vt), tfc_dtype_name(dt));
        return TFC_INVALID_DTYPE;
    }
    if (value_input >= 0 && tfc_infer_input_dtype(c, value_input) != dt) {
        tfc_infer_error(c, "value is %s, the variable's dtype is %s",
                        tfc_dtype_name(tfc_infer_input_dtype(c, value_input)),
                        tfc_dtype_name(dt));
        return TFC_INVALID_DTYPE;
    }
    tfc_attrs_set_int(c->attrs, "dtype", TFC_ATTR_TYPE, dt);
    return dt;
}

/* The variable of input 0 with its cell locked, or NULL after the error. */
static tfc_resource_var *lock_var(tfc_kernel_ctx *c, tfc_dtype want) {
    tfc_resource_var *v = tfc_resource_var_of(c->inputs[0]);
    if (!v) {
        tfc_kernel_error(c, TFC_INVALID_ARGUMENT, "input 0 is not a variable's resource handle");
        return NULL;
    }
    if (v->dtype != want) {
        tfc_kernel_error(c, TFC_INVALID_ARGUMENT, "variable '%s' is %s, the op's dtype is %s",
                         v->name, tfc_dtype_name(v->dtype), tfc_dtype_name(want));
        return NULL;
    }
    pthread_mutex_lock(&v->cell.lock);
    return v;
}

static int uninitialized(tfc_kernel_ctx *c, tfc_resource_var *v) {
    if (v->cell.value) return 0;
    pthread_mutex_unlock(&v->cell.lock);
    tfc_kernel_error(c, TFC_FAILED_PRECONDITION,
                     "Attempting to use uninitialized value %s (resource variable)", v->name);
    return 1;
}

static int read_infer(tfc_infer_ctx *c) {
    tfc_dtype dt = check_handle(c, -1);
    if (dt == TFC_INVALID_DTYPE) return -1;
    const tfc_node *src = handle_source(c->inputs[0]);
    tfc_infer_set_output(c, 0, dt, src ? tfc_variable_node_shape(src) : (tfc_shape){-1, {0}});
    return 0;
}

static void read_kernel(tfc_kernel_ctx *c) {
    tfc_resource_var *v = lock_var(c, tfc_attrs_type(&c->node->attrs, "dtype", 0));
    if (!v || uninitialized(c, v)) return;
    tfc_tensor *t = tfc_tensor_copy(v->cell.value);
    pthread_mutex_unlock(&v->cell.lock);
    if (!t) {
        tfc_kernel_error(c, TFC_RESOURCE_EXHAUSTED, "out of memory reading variable '%s'",
                         v->name);
        return;
    }
    t->flags &= ~TFC_TENSOR_VARIABLE;
    tfc_kernel_set_output(c, 0, t);
}

/* The gradient reaches the handle unchanged, as TensorFlow's _ReadGrad:
 * tfc_gradients w.r.t. a handle sums the gradients of all its reads. */
static int read_grad(tfc_graph *g, tfc_node *op, const tfc_output *dy, tfc_output *dx) {
    (void)g;
    (void)op;
    dx[0] = dy[0];
    return 0;
}

static int assign_infer(tfc_infer_ctx *c) {
    tfc_dtype dt = check_handle(c, 1);
    if (dt == TFC_INVALID_DTYPE) return -1;
    const tfc_node *src = handle_source(c->inputs[0]);
    tfc_shape vs = src ? tfc_variable_node_shape(src) : (tfc_shape){-1, {0}};
    tfc_shape xs = tfc_infer_input_shape(c, 1);
    int strict = strcmp(c->op->type, "AssignVariableOp") != 0;
    if ((strict || tfc_attrs_int(c->attrs, "validate_shape", 0)) &&
        !tfc_shape_compatible(&vs, &xs)) {
        char a[96], b[96];
        return tfc_infer_error(c, "variable '%s' has shape %s, value has %s", src->name,
                               tfc_shape_str(&vs, a, sizeof a), tfc_shape_str(&xs, b, sizeof b));
    }
    if (strict && dt == TFC_BOOL) return tfc_infer_error(c, "bool variables cannot be added to");
    if (strict && dt == TFC_STRING) return tfc_infer_error(c, "string variables cannot be added to");
    return 0;
}

static void assign_kernel(tfc_kernel_ctx *c) {
    const tfc_tensor *x = c->inputs[1];
    tfc_resource_var *v = lock_var(c, x->dtype);
    if (!v) return;
    if (v->shape.rank >= 0 && tfc_attrs_int(&c->node->attrs, "validate_shape", 0)) {
        /* validate_shape: the value must fit the declared shape */
        tfc_shape xs = {x->rank, {0}};
        memcpy(xs.dims, x->dims, sizeof *x->dims * (size_t)x->rank);
        if (!tfc_shape_compatible(&v->shape, &xs)) {
            pthread_mutex_unlock(&v->cell.lock);
            tfc_kernel_error(c, TFC_INVALID_ARGUMENT,
                             "Trying to assign to variable '%s' a value of another shape",
                             v->name);
            return;
        }
    }
    tfc_tensor *cur = v->cell.value;
    if (cur && tfc_tensor_same_shape(cur, x) && x->dtype != TFC_STRING) {
        memcpy(cur->data, x->data, x->nbytes);
    } else {
        tfc_tensor *nv = tfc_tensor_copy(x);
        if (!nv) {
            pthread_mutex_unlock(&v->cell.lock);
            tfc_kernel_error(c, TFC_RESOURCE_EXHAUSTED, "out of memory assigning '%s'", v->name);
            return;
        }
        nv->flags |= TFC_TENSOR_VARIABLE;
        tfc_tensor_free(cur);
        v->cell.value = nv;
    }
    pthread_mutex_unlock(&v->cell.lock);
}

static void assign_update(tfc_kernel_ctx *c, double sign) {
    const tfc_tensor *x = c->inputs[1];
    tfc_resource_var *v = lock_var(c, x->dtype);
    if (!v || uninitialized(c, v)) return;
    tfc_tensor *var = v->cell.value;
    if (!tfc_tensor_same_shape(var, x)) {
        pthread_mutex_unlock(&v->cell.lock);
        tfc_kernel_error(c, TFC_INVALID_ARGUMENT, "update of variable '%s' must have its shape",
                         v->name);
        return;
    }
    int64_t n = var->nelem;
    if (var->dtype == TFC_FLOAT) {
        float *a = var->data;
        const float *b = x->data;
        for (int64_t i = 0; i < n; i++) a[i] += (float)sign * b[i];
    } else if (var->dtype == TFC_DOUBLE) {
        double *a = var->data;
        const double *b = x->data;
        for (int64_t i = 0; i < n; i++) a[i] += sign * b[i];
    } else if (var->dtype == TFC_INT64) {
        int64_t *a = var->data;
        const int64_t *b = x->data;
        for (int64_t i = 0; i < n; i++) a[i] += (int64_t)sign * b[i];
    } else {
        for (int64_t i = 0; i < n; i++)
            tfc_tensor_set_double(var, i, tfc_tensor_get_double(var, i) +
                                              sign * tfc_tensor_get_double(x, i));
    }
    pthread_mutex_unlock(&v->cell.lock);
}

static void assign_add_kernel(tfc_kernel_ctx *c) { assign_update(c, 1.0); }
static void assign_sub_kernel(tfc_kernel_ctx *c) { assign_update(c, -1.0); }

static int handle_only_infer(tfc_infer_ctx *c) {
    tfc_dtype ht = tfc_infer_input_dtype(c, 0);
    if (ht != TFC_RESOURCE)
        return tfc_infer_error(c, "input 0 (resource) must be a resource handle, got %s",
                               tfc_dtype_name(ht));
    if (!strcmp(c->op->type, "VarIsInitializedOp"))
        tfc_infer_set_output(c, 0, TFC_BOOL, tfc_shape_scalar());
    else if (!tfc_attrs_find(c->attrs, "ignore_lookup_error"))
        tfc_attrs_set_int(c->attrs, "ignore_lookup_error", TFC_ATTR_BOOL, 1);
    return 0;
}

static void is_initialized_kernel(tfc_kernel_ctx *c) {
    tfc_resource_var *v = tfc_resource_var_of(c->inputs[0]);
    if (!v) {
        tfc_kernel_error(c, TFC_INVALID_ARGUMENT, "input 0 is not a variable's resource handle");
        return;
    }
    tfc_tensor *out = tfc_kernel_output(c, 0, TFC_BOOL, 0, NULL);
    if (!out) return;
    pthread_mutex_lock(&v->cell.lock);
    *(uint8_t *)out->data = v->cell.value != NULL;
    pthread_mutex_unlock(&v->cell.lock);
}

/* The variable becomes uninitialized: tfc keeps the resource (handles may
 * still point to it), so a later AssignVariableOp makes it again. */
static void destroy_kernel(tfc_kernel_ctx *c) {
    tfc_resource_var *v = tfc_resource_var_of(c->inputs[0]);
    if (!v) {
        if (!tfc_attrs_int(&c->node->attrs, "ignore_lookup_error", 1))
            tfc_kernel_error(c, TFC_NOT_FOUND, "input 0 is not a variable's resource handle");
        return;
    }
    pthread_mutex_lock(&v->cell.lock);
    tfc_tensor *old = v->cell.value;
    v->cell.value = NULL;
    pthread_mutex_unlock(&v->cell.lock);
    tfc_tensor_free(old);
}

/* ---- ResourceGather (batch_dims 0): rows of the variable ---- */

static int gather_infer(tfc_infer_ctx *c) {
    tfc_dtype dt = check_handle(c, -1);
    if (dt == TFC_INVALID_DTYPE) return -1;
    if (dt == TFC_STRING) return tfc_infer_error(c, "string variables cannot be gathered from");
    tfc_dtype it = tfc_infer_input_dtype(c, 1);
    if (it != TFC_INT32 && it != TFC_INT64)
        return tfc_infer_error(c, "indices must be int32 or int64, got %s", tfc_dtype_name(it));
    if (tfc_attrs_int(c->attrs, "batch_dims", 0) != 0)
        return tfc_infer_error(c, "batch_dims other than 0 is not supported");
    tfc_attrs_set_int(c->attrs, "Tindices", TFC_ATTR_TYPE, it);
    const tfc_node *src = handle_source(c->inputs[0]);
    tfc_shape vs = src ? tfc_variable_node_shape(src) : (tfc_shape){-1, {0}};
    tfc_shape is = tfc_infer_input_shape(c, 1), os = {-1, {0}};
    if (vs.rank == 0) return tfc_infer_error(c, "cannot gather from a scalar variable");
    if (vs.rank > 0 && is.rank >= 0) {
        if (is.rank + vs.rank - 1 > TFC_MAX_RANK) return tfc_infer_error(c, "result rank too big");
        os.rank = is.rank + vs.rank - 1;
        memcpy(os.dims, is.dims, sizeof *is.dims * (size_t)is.rank);
        memcpy(os.dims + is.rank, vs.dims + 1, sizeof *vs.dims * (size_t)(vs.rank - 1));
    }
    tfc_infer_set_output(c, 0, dt, os);
    return 0;
}

static void gather_kernel(tfc_kernel_ctx *c) {
    const tfc_tensor *ix = c->inputs[1];
    tfc_resource_var *v = lock_var(c, tfc_attrs_type(&c->node->attrs, "dtype", 0));
    if (!v || uninitialized(c, v)) return;
    const tfc_tensor *var = v->cell.value;
    const char *why = NULL;
    int64_t dims[TFC_MAX_RANK];
    if (var->rank < 1 || ix->rank + var->rank - 1 > TFC_MAX_RANK) why = "rank";
    int64_t rows = var->rank ? var->dims[0] : 0, inner = rows ? var->nelem / rows : 0;
    for (int64_t i = 0; !why && i < ix->nelem; i++) {
        int64_t k = tfc_tensor_get_int(ix, i);
        if (k < 0 || k >= rows) {
            pthread_mutex_unlock(&v->cell.lock);
            tfc_kernel_error(c, TFC_INVALID_ARGUMENT,
                             "indices[%lld] = %lld is not in [0, %lld) (variable '%s')",
                             (long long)i, (long long)k, (long long)rows, v->name);
            return;
        }
    }
    if (why) {
        pthread_mutex_unlock(&v->cell.lock);
        tfc_kernel_error(c, TFC_INVALID_ARGUMENT, "cannot gather from variable '%s' of rank %d",
                         v->name, var->rank);
        return;
    }
    memcpy(dims, ix->dims, sizeof *dims * (size_t)ix->rank);
    memcpy(dims + ix->rank, var->dims + 1, sizeof *dims * (size_t)(var->rank - 1));
    tfc_tensor *out = tfc_kernel_output(c, 0, var->dtype, ix->rank + var->rank - 1, dims);
    if (out) {
        size_t row = (size_t)inner * tfc_dtype_size(var->dtype);
        for (int64_t i = 0; i < ix->nelem; i++)
            memcpy((char *)out->data + (size_t)i * row,
                   (const char *)var->data + (size_t)tfc_tensor_get_int(ix, i) * row, row);
    }
    pthread_mutex_unlock(&v->cell.lock);
}

/* ---- the legacy Variable op: VariableV2 under its old name ---- */

static int legacy_variable_infer(tfc_infer_ctx *c) {
    tfc_dtype dt = tfc_attrs_type(c->attrs, "dtype", TFC_INVALID_DTYPE);
    if (!tfc_dtype_size(dt) || dt == TFC_RESOURCE)
        return tfc_infer_error(c, "missing or invalid attr 'dtype'");
    tfc_infer_set_output(c, 0, dt, tfc_attrs_shape(c->attrs, "shape"));
    return 0;
}

static void legacy_variable_kernel(tfc_kernel_ctx *c) {
    pthread_mutex_lock(&c->state->lock);
    tfc_kernel_set_output(c, 0, tfc_tensor_ref(c->state->value));
    pthread_mutex_unlock(&c->state->lock);
}

#define RV_FLAGS (TFC_OP_STATEFUL | TFC_OP_RESOURCES | TFC_OP_STRINGS)

const tfc_op_def tfc_ops_resource_variable[] = {
    {"VarHandleOp", 0, 0, 1, RV_FLAGS | TFC_OP_NO_GRADIENT, 0, handle_infer, handle_kernel,
     NULL},
    {"ReadVariableOp", 1, 1, 1, RV_FLAGS, 0, read_infer, read_kernel, read_grad},
    {"AssignVariableOp", 2, 2, 0, RV_FLAGS | TFC_OP_NO_GRADIENT, 0, assign_infer, assign_kernel,
     NULL},
    {"AssignAddVariableOp", 2, 2, 0, RV_FLAGS | TFC_OP_NO_GRADIENT, 0, assign_infer,
     assign_add_kernel, NULL},
    {"AssignSubVariableOp", 2, 2, 0, RV_FLAGS | TFC_OP_NO_GRADIENT, 0, assign_infer,
     assign_sub_kernel, NULL},
    {"VarIsInitializedOp", 1, 1, 1, RV_FLAGS | TFC_OP_NO_GRADIENT, 0, handle_only_infer,
     is_initialized_kernel, NULL},
    {"DestroyResourceOp", 1, 1, 0, RV_FLAGS | TFC_OP_NO_GRADIENT, 0, handle_only_infer,
     destroy_kernel, NULL},
    {"ResourceGather", 2, 2, 1, RV_FLAGS | TFC_OP_NO_GRADIENT, 0, gather_infer, gather_kernel,
     NULL},
    {"Variable", 0, 0, 1,
     TFC_OP_STATEFUL | TFC_OP_VARIABLE | TFC_OP_NO_GRADIENT | TFC_OP_STRINGS, 0,
     legacy_variable_infer, legacy_variable_kernel, NULL},
    {NULL, 0, 0, 0, 0, 0, NULL, NULL, NULL},
};

/* ---- helpers (include/tfc.h) ---- */

tfc_output tfc_var_handle_op(tfc_graph *g, const char *name, tfc_dtype dtype, int rank,
                             const int64_t *dims, const char *shared_name) {
    tfc_op_desc *d = tfc_op_new(g, "VarHandleOp", name);
    tfc_op_set_attr_type(d, "dtype", dtype);
    tfc_op_set_attr_shape(d, "shape", rank, dims);
    if (shared_name) tfc_op_set_attr_string(d, "shared_name", shared_name);
    return tfc_out(tfc_op_finish(d), 0);
}

tfc_output tfc_read_variable_op(tfc_graph *g, tfc_output handle, tfc_dtype dtype) {
    tfc_op_desc *d = tfc_op_new(g, "ReadVariableOp", NULL);
    tfc_op_add_input(d, handle);
    tfc_op_set_attr_type(d, "dtype", dtype);
    return tfc_out(tfc_op_finish(d), 0);
}

static tfc_node *update_op(tfc_graph *g, const char *type, const char *name, tfc_output handle,
                           tfc_output value) {
    tfc_op_desc *d = tfc_op_new(g, type, name);
    tfc_op_add_input(d, handle);
    tfc_op_add_input(d, value);
    return tfc_op_finish(d);
}

tfc_node *tfc_assign_variable_op(tfc_graph *g, tfc_output handle, tfc_output value) {
    return update_op(g, "AssignVariableOp", NULL, handle, value);
}
tfc_node *tfc_assign_add_variable_op(tfc_graph *g, tfc_output handle, tfc_output value) {
    return update_op(g, "AssignAddVariableOp", NULL, handle, value);
}
tfc_node *tfc_assign_sub_variable_op(tfc_graph *g, tfc_output handle, tfc_output value) {
    return update_op(g, "AssignSubVariableOp", NULL, handle, value);
}

tfc_output tfc_resource_variable(tfc_graph *g, const char *name, tfc_output initial_value,
                                 int trainable) {
    tfc_output none = {NULL, 0};
    if (!g || g->error) return none;
    if (!initial_value.node) {
        tfc_graph_fail(g, TFC_INVALID_ARGUMENT, "resource variable '%s': initial value is null",
                       name ? name : "Variable");
        return none;
    }
    tfc_shape s = tfc_output_shape(initial_value);
    tfc_output h = tfc_var_handle_op(g, name ? name : "Variable",
                                     tfc_output_dtype(initial_value), s.rank, s.dims, NULL);
    if (!h.node) return none;
    /* shared_name is the node's name, as TF1's ResourceVariable sets it */
    tfc_attrs_set_string(&h.node->attrs, "shared_name", h.node->name);
    const char *prefix = tfc_graph_scope_prefix(g);
    size_t len = strlen(h.node->name) + 8;
    char *init_name = malloc(len);
    if (!init_name) return none;
    snprintf(init_name, len, "%s/Assign", h.node->name + strlen(prefix));
    tfc_node *init = update_op(g, "AssignVariableOp", init_name, h, initial_value);
    free(init_name);
    if (!init) return none;
    tfc_strmap_put(&g->initializers, h.node->name, init);
    tfc_graph_add_to_collection(g, TFC_GLOBAL_VARIABLES, h.node);
    if (trainable) tfc_graph_add_to_collection(g, TFC_TRAINABLE_VARIABLES, h.node);
    return h;
}
