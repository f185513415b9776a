/* The machinery every tf.train optimizer shares: gradients, slot variables
 * named after their primary ("w/Adam"), the update ops under the
 * optimizer's name scope (sparse gradients deduplicated, then handed to the
 * algorithm with their indices), the train op and the global step. */
#include "train/optimizer_internal.h"

#include "autodiff/grad_util.h"
#include "ops/resource_variable.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

tfc_optimizer *tfc_opt_new(const char *name, double lr) {
    tfc_optimizer *o = calloc(1, sizeof *o);
    if (!o) return NULL;
    o->name = name;
    o->lr = lr;
    return o;
}

void tfc_opt_add_slot(tfc_optimizer *o, const char *name, double init) {
    if (o->nslot_names >= TFC_OPT_MAX_SLOTS) return;
    o->slot_names[o->nslot_names] = name;
    o->slot_init[o->nslot_names++] = init;
}

void tfc_optimizer_free(tfc_optimizer *opt) {
    if (!opt) return;
    if (opt->wrap_free) opt->wrap_free(opt->wrap_data);
    free(opt->vars);
    free(opt);
}

const char *tfc_optimizer_name(const tfc_optimizer *opt) { return opt ? opt->name : ""; }

void tfc_optimizer_set_learning_rate(tfc_optimizer *opt, tfc_output lr) {
    if (opt) opt->lr_tensor = lr;
}

tfc_output tfc_opt_scalar(tfc_graph *g, tfc_dtype dt, double v) {
    return tfc_grad_scalar(g, dt, v);
}

tfc_output tfc_opt_lr(tfc_optimizer *o, tfc_graph *g, tfc_dtype dt) {
    if (!o->lr_tensor.node) return tfc_opt_scalar(g, dt, o->lr);
    if (tfc_output_dtype(o->lr_tensor) == dt) return o->lr_tensor;
    tfc_op_desc *d = tfc_op_new(g, "Cast", NULL);
    tfc_op_add_input(d, o->lr_tensor);
    tfc_op_set_attr_type(d, "DstT", dt);
    return tfc_out(tfc_op_finish(d), 0);
}

tfc_dtype tfc_opt_var_dtype(tfc_output var) {
    return var.node ? tfc_variable_node_dtype(var.node) : TFC_INVALID_DTYPE;
}

static int is_handle(tfc_output v) { return v.node && tfc_output_dtype(v) == TFC_RESOURCE; }

tfc_node *tfc_opt_apply_node(tfc_graph *g, const char *type, const tfc_output *in, int n,
                             int nesterov) {
    char resource[80];
    if (n > 0 && is_handle(in[0])) { /* a resource variable: ResourceApply* */
        snprintf(resource, sizeof resource, "Resource%s", type);
        type = resource;
    }
    tfc_op_desc *d = tfc_op_new(g, type, NULL);
    tfc_op_add_inputs(d, in, n);
    tfc_op_set_attr_bool(d, "use_locking", 0);
    if (nesterov >= 0) tfc_op_set_attr_bool(d, "use_nesterov", nesterov);
    return tfc_op_finish(d);
}

tfc_node *tfc_opt_update_node(tfc_graph *g, const char *type, const tfc_output *in, int n,
                              int grad_at, tfc_output indices, int nesterov) {
    if (!indices.node) return tfc_opt_apply_node(g, type, in, n, nesterov);
    tfc_output all[16];
    char sparse[64];
    if (n >= 16 || snprintf(sparse, sizeof sparse, "Sparse%s", type) >= (int)sizeof sparse) {
        tfc_graph_fail(g, TFC_INTERNAL, "no sparse form of %s", type);
        return NULL;
    }
    int k = 0;
    for (int i = 0; i < n; i++) {
        all[k++] = in[i];
        if (i == grad_at) all[k++] = indices;
    }
    return tfc_opt_apply_node(g, sparse, all, k, nesterov);
}

/* TensorFlow's _deduplicate_indexed_slices: the distinct indices and, per
 * index, the sum of its rows (Unique + UnsortedSegmentSum). */
static void dedup_rows(tfc_graph *g, tfc_output *indices, tfc_output *values) {
    tfc_node *u = tfc_grad_op(g, "Unique", indices, 1).node;
    if (!u) return;
    tfc_output in[3] = {*values, tfc_out(u, 1), tfc_size(g, tfc_out(u, 0))};
    *values = tfc_grad_op(g, "UnsortedSegmentSum", in, 3);
    *indices = tfc_out(u, 0);
}

tfc_output tfc_opt_make_var(tfc_graph *g, const char *base, tfc_output like, tfc_dtype dt,
                            double init) {
    tfc_output none = {NULL, 0};
    tfc_shape shape = like.node ? tfc_variable_node_shape(like.node) : tfc_shape_scalar();
    if (like.node) dt = tfc_variable_node_dtype(like.node);
    if (!tfc_shape_is_fully_defined(&shape)) {
        tfc_graph_fail(g, TFC_INVALID_ARGUMENT,
                       "cannot create slot '%s': variable '%s' has no fully defined shape", base,
                       like.node->name);
        return none;
    }
    /* Slots live beside their variable, whatever scope minimize runs in, and
     * their initializers must not wait on the caller's control deps. */
    int saved_scopes = g->scopes.n, saved_deps = g->ndep_frames;
    g->scopes.n = 0;
    g->ndep_frames = 0;
    char *name = tfc_graph_unique_name(g, base);
    tfc_output v = none;
    if (name) {
        /* a Fill, not a Const of the whole value: graphs stay small */
        tfc_output value = tfc_opt_scalar(g, dt, init);
        if (shape.rank > 0) {
            int64_t rank = shape.rank;
            value = tfc_fill(g, tfc_const_data(g, TFC_INT64, 1, &rank, shape.dims), value);
        }
        /* a resource variable's slots are resource variables (ResourceApply* takes handles) */
        v = is_handle(like) ? tfc_resource_variable(g, name, value, 0)
                            : tfc_variable_ex(g, name, value, 0);
    } else {
        tfc_graph_fail(g, TFC_INTERNAL, "out of memory creating slot '%s'", base);
    }
    g->scopes.n = saved_scopes;
    g->ndep_frames = saved_deps;
    free(name);
    return v;
}

/* The slot record of `var`, created (with its slot variables) on first use. */
static tfc_opt_slot *slots_for(tfc_optimizer *o, tfc_graph *g, tfc_output var) {
    for (int i = 0; i < o->nvars; i++)
        if (o->vars[i].var == var.node) return &o->vars[i];
    if (o->nvars == o->cap) {
        int cap = o->cap ? 2 * o->cap : 8;
        tfc_opt_slot *v = realloc(o->vars, (size_t)cap * sizeof *v);
        if (!v) {
            tfc_graph_fail(g, TFC_INTERNAL, "out of memory creating slots");
            return NULL;
        }
        o->vars = v;
        o->cap = cap;
    }
    tfc_opt_slot *s = &o->vars[o->nvars];
    memset(s, 0, sizeof *s);
    s->var = var.node;
    size_t len = strlen(var.node->name) + strlen(o->name) + 2;
    char *base = malloc(len);
    if (!base) {
        tfc_graph_fail(g, TFC_INTERNAL, "out of memory creating slots");
        return NULL;
    }
    snprintf(base, len, "%s/%s", var.node->name, o->name);
    for (int k = 0; k < o->nslot_names; k++) {
        s->slots[k] = tfc_opt_make_var(g, base, var, TFC_INVALID_DTYPE, o->slot_init[k]);
        if (!s->slots[k].node) {
            free(base);
            return NULL;
        }
    }
    free(base);
    o->nvars++;
    return s;
}

tfc_output tfc_optimizer_get_slot(const tfc_optimizer *opt, tfc_output var,
                                  const char *slot_name) {
    tfc_output none = {NULL, 0};
    if (!opt || !var.node || !slot_name) return none;
    for (int i = 0; i < opt->nvars; i++) {
        if (opt->vars[i].var != var.node) continue;
        for (int k = 0; k < opt->nslot_names; k++)
            if (!strcmp(opt->slot_names[k], slot_name)) return opt->vars[i].slots[k];
    }
    return none;
}

static int is_float_variable(tfc_output v) {
    if (!v.node || !tfc_is_variable_node(v.node)) return 0;
    tfc_dtype dt = tfc_variable_node_dtype(v.node);
    return dt == TFC_FLOAT || dt == TFC_DOUBLE;
}

tfc_grad_and_var *tfc_optimizer_compute_gradients(tfc_optimizer *opt, tfc_graph *g,
                                                  tfc_output loss, const tfc_output *var_list,
                                                  int nvars, int *n) {
    if (n) *n = 0;
    if (!g || g->error) return NULL;
    if (!opt || !n || !loss.node) {
        tfc_graph_fail(g, TFC_INVALID_ARGUMENT, "compute_gradients: %s is null",
                       !opt ? "the optimizer" : !n ? "n" : "the loss");
        return NULL;
    }
    if (!var_list) nvars = tfc_graph_collection_size(g, TFC_TRAINABLE_VARIABLES);
    if (nvars <= 0) {
        tfc_graph_fail(g, TFC_INVALID_ARGUMENT, "%s: No variables to optimize.", opt->name);
        return NULL;
    }
    tfc_output *xs = malloc((size_t)nvars * sizeof *xs);
    tfc_output *grads = calloc((size_t)nvars, sizeof *grads);
    tfc_grad_and_var *gv = calloc((size_t)nvars, sizeof *gv);
    if (!xs || !grads || !gv) {
        free(xs);
        free(grads);
        free(gv);
        tfc_graph_fail(g, TFC_INTERNAL, "out of memory computing gradients");
        return NULL;
    }
    for (int i = 0; i < nvars; i++) {
        xs[i] = var_list ? var_list[i]
                         : tfc_out(tfc_graph_collection_get(g, TFC_TRAINABLE_VARIABLES, i), 0);
        if (!is_float_variable(xs[i])) {
            tfc_graph_fail(g, TFC_INVALID_ARGUMENT,
                           "%s: var_list[%d] ('%s') is not a float32/float64 variable",
                           opt->name, i, xs[i].node ? xs[i].node->name : "null");
            nvars = -1;
            break;
        }
    }
    if (nvars > 0 && tfc_gradients(g, &loss, 1, xs, nvars, NULL, grads) == 0) {
        for (int i = 0; i < nvars; i++) {
            gv[i].grad = grads[i];
            gv[i].var = xs[i];
        }
        *n = nvars;
        if (opt->wrap_gradients && opt->wrap_gradients(opt, g, gv, nvars)) {
            free(gv);
            gv = NULL;
            *n = 0;
        }
    } else {
        free(gv);
        gv = NULL;
    }
    free(xs);
    free(grads);
    return gv;
}

tfc_node *tfc_optimizer_apply_gradients(tfc_optimizer *opt, tfc_graph *g,
                                        const tfc_grad_and_var *gv, int n,
                                        tfc_output global_step) {
    if (!g || g->error) return NULL;
    if (!opt || (n > 0 && !gv)) {
        tfc_graph_fail(g, TFC_INVALID_ARGUMENT, "apply_gradients: %s is null",
                       !opt ? "the optimizer" : "grads_and_vars");
        return NULL;
    }
    int first = -1;
    for (int i = 0; i < n; i++) {
        if (!is_float_variable(gv[i].var)) {
            tfc_graph_fail(g, TFC_INVALID_ARGUMENT,
                           "%s: grads_and_vars[%d] holds '%s', not a float32/float64 variable",
                           opt->name, i, gv[i].var.node ? gv[i].var.node->name : "null");
            return NULL;
        }
        if (gv[i].grad.node && first < 0) first = i;
    }
    if (first < 0) {
        tfc_graph_fail(g, TFC_INVALID_ARGUMENT, "%s: No gradients provided for any variable",
                       opt->name);
        return NULL;
    }
    /* slots and non-slot variables first, outside the update scope */
    for (int i = 0; i < n; i++)
        if (gv[i].grad.node && !slots_for(opt, g, gv[i].var)) return NULL;
    if (opt->create_nonslots && opt->create_nonslots(opt, g, gv[first].var)) return NULL;

    tfc_node **updates = calloc((size_t)n + 2, sizeof *updates);
    if (!updates) {
        tfc_graph_fail(g, TFC_INTERNAL, "out of memory applying gradients");
        return NULL;
    }
    tfc_name_scope_push(g, opt->name);
    /* the scope's own name ("Adam", "Adam_1") names the train op */
    const char *prefix = tfc_graph_scope_prefix(g);
    size_t plen = strlen(prefix);
    char *scope = strdup(prefix);
    if (scope && plen) {
        scope[plen - 1] = '\0';
        char *slash = strrchr(scope, '/');
        if (slash) memmove(scope, slash + 1, strlen(slash + 1) + 1);
    }
    int nu = 0;
    for (int i = 0; i < n && !g->error; i++) {
        if (!gv[i].grad.node) continue;
        tfc_opt_slot *s = slots_for(opt, g, gv[i].var);
        if (!s) break;
        size_t len = strlen(gv[i].var.node->name) + 8;
        char *up = malloc(len);
        int pushed = up != NULL;
        if (up) {
            snprintf(up, len, "update_%s", gv[i].var.node->name);
            tfc_name_scope_push(g, up);
            free(up);
        }
        tfc_output grad = gv[i].grad, indices = {NULL, 0};
        /* resource variables take the gradient densely (no ResourceScatter* here) */
        if (!is_handle(gv[i].var) && tfc_gradient_sparse_parts(gv[i].grad, &indices, &grad) &&
            !opt->keep_duplicates)
            dedup_rows(g, &indices, &grad);
        tfc_node *u = g->error ? NULL : opt->apply(opt, g, gv[i].var, grad, indices, s->slots);
        if (pushed) tfc_name_scope_pop(g);
        if (!u) break;
        updates[nu++] = u;
    }
    tfc_node *train = NULL;
    if (!g->error && scope && opt->finish) {
        int k = opt->finish(opt, g, updates, nu, updates + nu);
        if (k > 0) nu += k;
    }
    if (!g->error && scope) {
        /* TensorFlow: without a step the train op is the group named after
         * the scope; with one, the group is "<scope>/update" and the train
         * op is the AssignAdd named after the scope, run after it. */
        if (!global_step.node) tfc_name_scope_pop(g);
        tfc_with_name(g, global_step.node ? "update" : scope);
        tfc_node *done = tfc_group(g, updates, nu);
        if (global_step.node) tfc_name_scope_pop(g);
        if (!global_step.node) {
            train = done;
        } else if (done) {
            tfc_control_dependencies_push(g, &done, 1);
            tfc_output one = tfc_opt_scalar(g, tfc_output_dtype(global_step), 1);
            tfc_with_name(g, scope);
            train = tfc_assign_add(g, global_step, one).node;
            tfc_control_dependencies_pop(g);
        }
    } else {
        tfc_name_scope_pop(g);
        if (!scope) tfc_graph_fail(g, TFC_INTERNAL, "out of memory applying gradients");
    }
    if (train) tfc_graph_add_to_collection(g, TFC_TRAIN_OP, train);
    free(scope);
    free(updates);
    return train;
}

tfc_node *tfc_optimizer_minimize(tfc_optimizer *opt, tfc_graph *g, tfc_output loss,
                                 const tfc_output *var_list, int nvars,
                                 tfc_output global_step) {
    int n = 0;
    tfc_grad_and_var *gv = tfc_optimizer_compute_gradients(opt, g, loss, var_list, nvars, &n);
    if (!gv) return NULL;
    tfc_node *train = tfc_optimizer_apply_gradients(opt, g, gv, n, global_step);
    free(gv);
    return train;
}

tfc_output tfc_train_get_or_create_global_step(tfc_graph *g) {
    tfc_output none = {NULL, 0};
    if (!g || g->error) return none;
    if (tfc_graph_collection_size(g, TFC_GLOBAL_STEP) > 0)
        return tfc_out(tfc_graph_collection_get(g, TFC_GLOBAL_STEP, 0), 0);
    tfc_node *old = tfc_graph_node_by_name(g, "global_step");
    if (old) {
        tfc_dtype dt = old->noutputs ? old->out_dtypes[0] : TFC_INVALID_DTYPE;
        if (!(old->op->flags & TFC_OP_VARIABLE) || (dt != TFC_INT64 && dt != TFC_INT32)) {
            tfc_graph_fail(g, TFC_INVALID_ARGUMENT,
                           "'global_step' exists and is not an integer variable");
            return none;
        }
        tfc_graph_add_to_collection(g, TFC_GLOBAL_STEP, old);
        return tfc_out(old, 0);
    }
    tfc_output none_like = {NULL, 0};
    tfc_output step = tfc_opt_make_var(g, "global_step", none_like, TFC_INT64, 0);
    if (step.node) tfc_graph_add_to_collection(g, TFC_GLOBAL_STEP, step.node);
    return step;
}
