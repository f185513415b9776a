/* The conditional accumulator ops, with TensorFlow's names and attrs:
 * ConditionalAccumulator (TF1; TensorFlow's handle is a Ref(string), tfc's
 * a resource handle like every other) and ResourceConditionalAccumulator
 * make the accumulator (once per session, or once per (container,
 * shared_name) when shared, as queues are) and output its handle;
 * AccumulatorApplyGradient, AccumulatorTakeGradient (asynchronous: it
 * waits without a thread), AccumulatorNumAccumulated and
 * AccumulatorSetGlobalStep, and their Resource* twins, use it. Dtypes and
 * shapes are checked when a node is built whenever its handle comes
 * (through Identity) from an accumulator op; the kernels check them
 * again. The public builders of tfc.h's section "Synchronous replicas"
 * are at the end. */
#include "data/accumulator.h"
#include "data/shared_resources.h"
#include "graph/graph.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ACC_OP (TFC_OP_STATEFUL | TFC_OP_RESOURCES | TFC_OP_NO_GRADIENT)

/* An accumulator op's parsed attrs (the node's op_data, one block). */
typedef struct acc_def {
    tfc_dtype dtype;
    tfc_shape shape;
    int sum;
    int shared;
    const char *name;      /* shared_name or the node's name (in the block) */
    const char *container; /* (in the block) */
} acc_def;

static int acc_dtype_ok(tfc_dtype dt) {
    return dt == TFC_FLOAT || dt == TFC_DOUBLE || dt == TFC_INT32 || dt == TFC_INT64;
}

static int acc_infer(tfc_infer_ctx *c) {
    const tfc_attr *dta = tfc_attrs_find(c->attrs, "dtype");
    if (!dta || dta->kind != TFC_ATTR_TYPE)
        return tfc_infer_error(c, "needs attr 'dtype' (the gradients' type)");
    tfc_dtype dt = (tfc_dtype)dta->v.i;
    if (!acc_dtype_ok(dt))
        return tfc_infer_error(c,
                               "attr 'dtype' is %s; tfc's accumulators hold float, double, "
                               "int32 or int64",
                               tfc_dtype_name(dt));
    const tfc_attr *sa = tfc_attrs_find(c->attrs, "shape");
    if (sa && sa->kind != TFC_ATTR_SHAPE) return tfc_infer_error(c, "attr 'shape' is not a shape");
    tfc_shape shape = sa ? sa->v.shape : tfc_shape_unknown();
    const char *red = tfc_attrs_string(c->attrs, "reduction_type");
    if (red && strcmp(red, "MEAN") && strcmp(red, "SUM"))
        return tfc_infer_error(c, "attr 'reduction_type' is '%s'; it must be \"MEAN\" or \"SUM\"",
                               red);
    const char *shared = tfc_attrs_string(c->attrs, "shared_name");
    const char *name = shared && *shared ? shared : c->name;
    const char *container = tfc_attrs_string(c->attrs, "container");
    if (!container) container = "";
    acc_def *d = calloc(1, sizeof *d + strlen(name) + strlen(container) + 2);
    if (!d) return tfc_infer_error(c, "out of memory");
    char *nm = (char *)(d + 1);
    d->name = strcpy(nm, name);
    d->container = strcpy(nm + strlen(name) + 1, container);
    d->dtype = dt;
    d->shape = shape;
    d->sum = red && !strcmp(red, "SUM");
    d->shared = shared && *shared;
    c->op_data = d;
    if (!sa) tfc_attrs_set_shape(c->attrs, "shape", -1, NULL);
    if (!red) tfc_attrs_set_string(c->attrs, "reduction_type", "MEAN");
    if (!tfc_attrs_string(c->attrs, "container")) tfc_attrs_set_string(c->attrs, "container", "");
    if (!shared) tfc_attrs_set_string(c->attrs, "shared_name", "");
    tfc_infer_set_output(c, 0, TFC_RESOURCE, tfc_shape_scalar());
    return 0;
}

static void acc_free_resource(void *r) { tfc_resource_unref(r); }
static void shared_acc_free_resource(void *r) { tfc_shared_resource_release(r); }
static void acc_cancel_resource(void *r) { tfc_accumulator_cancel_all(r); }

static tfc_resource *make_acc(void *arg, char *why, size_t cap) {
    const acc_def *d = arg;
    return (tfc_resource *)tfc_accumulator_new(d->name, d->dtype, &d->shape, d->sum, why, cap);
}

/* Does the accumulator another node made under this shared_name fit? */
static int shared_matches(const acc_def *have, const acc_def *want, char *why, size_t cap) {
    char a[96], b[96];
    if (have->dtype != want->dtype) {
        snprintf(why, cap, "Shared accumulator '%s' holds %s, but this node asks for %s",
                 want->name, tfc_dtype_name(have->dtype), tfc_dtype_name(want->dtype));
        return 0;
    }
    int same = have->shape.rank == want->shape.rank;
    for (int k = 0; same && k < have->shape.rank; k++)
        same = have->shape.dims[k] == want->shape.dims[k];
    if (!same) {
        snprintf(why, cap, "Shared accumulator '%s' has shape %s, but this node asks for %s",
                 want->name, tfc_shape_str(&have->shape, a, sizeof a),
                 tfc_shape_str(&want->shape, b, sizeof b));
        return 0;
    }
    if (have->sum != want->sum) {
        snprintf(why, cap, "Shared accumulator '%s' has reduction_type %s, but this node asks for %s",
                 want->name, have->sum ? "SUM" : "MEAN", want->sum ? "SUM" : "MEAN");
        return 0;
    }
    return 1;
}

static void acc_kernel(tfc_kernel_ctx *c) {
    tfc_node_state *st = c->state;
    const acc_def *d = c->node->op_data;
    pthread_mutex_lock(&st->lock);
    if (!st->value) {
        char why[512];
        tfc_code code = TFC_RESOURCE_EXHAUSTED;
        tfc_accumulator *a;
        if (d->shared) { /* one per (container, shared_name) in the session */
            const void *have = NULL;
            a = (tfc_accumulator *)tfc_shared_resource_acquire(
                c->session, d->container, d->name, d, &have, make_acc, (void *)d, why, sizeof why);
            if (a && have != d && !shared_matches(have, d, why, sizeof why)) {
                tfc_shared_resource_release((tfc_resource *)a);
                a = NULL;
                code = TFC_INVALID_ARGUMENT;
            }
        } else {
            a = tfc_accumulator_new(d->name, d->dtype, &d->shape, d->sum, why, sizeof why);
        }
        tfc_tensor *h = a ? tfc_resource_tensor((tfc_resource *)a) : NULL;
        if (!h) {
            if (a && d->shared) tfc_shared_resource_release((tfc_resource *)a);
            else if (a) tfc_resource_unref((tfc_resource *)a);
            pthread_mutex_unlock(&st->lock);
            tfc_kernel_error(c, code, "%s", a ? "out of memory" : why);
            return;
        }
        st->value = h;
        st->resource = a;
        st->free_resource = d->shared ? shared_acc_free_resource : acc_free_resource;
        st->cancel_resource = acc_cancel_resource;
    }
    tfc_kernel_set_output(c, 0, tfc_tensor_ref(st->value));
    pthread_mutex_unlock(&st->lock);
}

/* ---- using an accumulator ---- */

/* The accumulator op a handle comes from (through Identity), or NULL. */
static const acc_def *acc_of(tfc_output h) {
    const tfc_node *n = h.node;
    while (n && !strcmp(n->op->type, "Identity") && n->ninputs == 1) n = n->inputs[0].node;
    if (!n) return NULL;
    return !strcmp(n->op->type, "ConditionalAccumulator") ||
                   !strcmp(n->op->type, "ResourceConditionalAccumulator")
               ? n->op_data
               : NULL;
}

static int check_scalar(tfc_infer_ctx *c, int i, const char *what, tfc_dtype want) {
    tfc_dtype dt = tfc_infer_input_dtype(c, i);
    tfc_shape s = tfc_infer_input_shape(c, i);
    if (dt != want || s.rank > 0)
        return tfc_infer_error(c, "input %d (%s) must be a scalar %s, got %s of rank %d", i, what,
                               tfc_dtype_name(want), tfc_dtype_name(dt), s.rank);
    return 0;
}

static int use_infer(tfc_infer_ctx *c) {
    if (tfc_infer_input_dtype(c, 0) != TFC_RESOURCE)
        return tfc_infer_error(c, "input 0 (handle) must be an accumulator's handle, got %s",
                               tfc_dtype_name(tfc_infer_input_dtype(c, 0)));
    const char *t = c->op->type;
    const acc_def *d = acc_of(c->inputs[0]);
    char x[96], y[96];
    if (strstr(t, "ApplyGradient")) {
        if (check_scalar(c, 1, "local_step", TFC_INT64)) return -1;
        tfc_dtype dt = tfc_infer_input_dtype(c, 2);
        tfc_shape s = tfc_infer_input_shape(c, 2);
        if (d && dt != d->dtype)
            return tfc_infer_error(c, "accumulator '%s' holds %s gradients, the gradient is %s",
                                   d->name, tfc_dtype_name(d->dtype), tfc_dtype_name(dt));
        if (!acc_dtype_ok(dt))
            return tfc_infer_error(c, "the gradient is %s; accumulators hold float, double, int32 "
                                      "or int64", tfc_dtype_name(dt));
        if (d && !tfc_shape_compatible(&s, &d->shape))
            return tfc_infer_error(c,
                                   "Shape mismatch: accumulator '%s' has shape %s, the gradient "
                                   "%s",
                                   d->name, tfc_shape_str(&d->shape, x, sizeof x),
                                   tfc_shape_str(&s, y, sizeof y));
        tfc_attrs_set_int(c->attrs, "dtype", TFC_ATTR_TYPE, dt);
    } else if (strstr(t, "TakeGradient")) {
        if (check_scalar(c, 1, "num_required", TFC_INT32)) return -1;
        const tfc_tensor *nv = tfc_infer_input_const(c, 1);
        if (nv && tfc_tensor_get_int(nv, 0) <= 0)
            return tfc_infer_error(c, "Argument num_required must be positive, but was %lld",
                                   (long long)tfc_tensor_get_int(nv, 0));
        const tfc_attr *dta = tfc_attrs_find(c->attrs, "dtype");
        if (!d && !dta)
            return tfc_infer_error(c, "needs attr 'dtype': the accumulator is not known when the "
                                      "graph is built");
        tfc_dtype dt = d ? d->dtype : (tfc_dtype)dta->v.i;
        if (d && dta && (tfc_dtype)dta->v.i != d->dtype)
            return tfc_infer_error(c, "attr 'dtype' is %s but accumulator '%s' holds %s",
                                   tfc_dtype_name((tfc_dtype)dta->v.i), d->name,
                                   tfc_dtype_name(d->dtype));
        tfc_attrs_set_int(c->attrs, "dtype", TFC_ATTR_TYPE, dt);
        tfc_infer_set_output(c, 0, dt, d ? d->shape : tfc_shape_unknown());
    } else if (strstr(t, "SetGlobalStep")) {
        if (check_scalar(c, 1, "new_global_step", TFC_INT64)) return -1;
    } else { /* NumAccumulated */
        tfc_infer_set_output(c, 0, TFC_INT32, tfc_shape_scalar());
    }
    return 0;
}

static tfc_accumulator *input_acc(tfc_kernel_ctx *c) {
    tfc_accumulator *a = tfc_accumulator_from_handle(c->inputs[0]);
    if (!a) tfc_kernel_error(c, TFC_INVALID_ARGUMENT, "input 0 is not an accumulator's handle");
    return a;
}

static void apply_kernel(tfc_kernel_ctx *c) {
    tfc_accumulator *a = input_acc(c);
    if (a) tfc_accumulator_apply(a, c, tfc_tensor_get_int(c->inputs[1], 0), c->inputs[2]);
}

static void take_kernel(tfc_kernel_ctx *c) {
    tfc_accumulator *a = input_acc(c);
    if (!a) return;
    int64_t n = tfc_tensor_get_int(c->inputs[1], 0);
    tfc_accumulator_start_take(a, c, n > INT32_MAX ? INT32_MAX : (int)n);
}

static void num_kernel(tfc_kernel_ctx *c) {
    tfc_accumulator *a = input_acc(c);
    if (!a) return;
    tfc_tensor *t = tfc_kernel_output(c, 0, TFC_INT32, 0, NULL);
    if (t) *(int32_t *)t->data = tfc_acc_num_accumulated(a);
}

static void set_step_kernel(tfc_kernel_ctx *c) {
    tfc_accumulator *a = input_acc(c);
    if (a) tfc_acc_set_global_step(a, tfc_tensor_get_int(c->inputs[1], 0));
}

const tfc_op_def tfc_ops_accumulator[] = {
    {"ConditionalAccumulator", 0, 0, 1, ACC_OP | TFC_OP_HANDLE, 0, acc_infer, acc_kernel, NULL},
    {"ResourceConditionalAccumulator", 0, 0, 1, ACC_OP | TFC_OP_HANDLE, 0, acc_infer, acc_kernel, NULL},
    {"AccumulatorApplyGradient", 3, 3, 0, ACC_OP, 0, use_infer, apply_kernel, NULL},
    {"ResourceAccumulatorApplyGradient", 3, 3, 0, ACC_OP, 0, use_infer, apply_kernel, NULL},
    {"AccumulatorTakeGradient", 2, 2, 1, ACC_OP | TFC_OP_ASYNC, 0, use_infer, take_kernel, NULL},
    {"ResourceAccumulatorTakeGradient", 2, 2, 1, ACC_OP | TFC_OP_ASYNC, 0, use_infer, take_kernel,
     NULL},
    {"AccumulatorNumAccumulated", 1, 1, 1, ACC_OP, 0, use_infer, num_kernel, NULL},
    {"ResourceAccumulatorNumAccumulated", 1, 1, 1, ACC_OP, 0, use_infer, num_kernel, NULL},
    {"AccumulatorSetGlobalStep", 2, 2, 0, ACC_OP, 0, use_infer, set_step_kernel, NULL},
    {"ResourceAccumulatorSetGlobalStep", 2, 2, 0, ACC_OP, 0, use_infer, set_step_kernel, NULL},
    {NULL, 0, 0, 0, 0, 0, NULL, NULL, NULL},
};

/* ---- public builders ---- */

static const tfc_output null_out = {NULL, 0};

tfc_output tfc_conditional_accumulator(tfc_graph *g, tfc_dtype dtype, int rank,
                                       const int64_t *dims, const char *shared_name,
                                       tfc_accumulator_reduction reduction) {
    tfc_op_desc *d = tfc_op_new(g, "ConditionalAccumulator", NULL);
    if (!d) return null_out;
    tfc_op_set_attr_type(d, "dtype", dtype);
    if (rank >= 0) tfc_op_set_attr_shape(d, "shape", rank, dims);
    if (shared_name) tfc_op_set_attr_string(d, "shared_name", shared_name);
    tfc_op_set_attr_string(d, "reduction_type",
                           reduction == TFC_ACCUMULATOR_SUM ? "SUM" : "MEAN");
    return tfc_out(tfc_op_finish(d), 0);
}

tfc_node *tfc_accumulator_apply_gradient(tfc_graph *g, tfc_output acc, tfc_output local_step,
                                         tfc_output gradient) {
    tfc_op_desc *d = tfc_op_new(g, "AccumulatorApplyGradient", NULL);
    tfc_op_add_input(d, acc);
    tfc_op_add_input(d, local_step);
    tfc_op_add_input(d, gradient);
    return tfc_op_finish(d);
}

tfc_output tfc_accumulator_take_gradient(tfc_graph *g, tfc_output acc, tfc_output num_required) {
    tfc_op_desc *d = tfc_op_new(g, "AccumulatorTakeGradient", NULL);
    tfc_op_add_input(d, acc);
    tfc_op_add_input(d, num_required);
    return tfc_out(tfc_op_finish(d), 0);
}

tfc_output tfc_accumulator_num_accumulated(tfc_graph *g, tfc_output acc) {
    tfc_op_desc *d = tfc_op_new(g, "AccumulatorNumAccumulated", NULL);
    tfc_op_add_input(d, acc);
    return tfc_out(tfc_op_finish(d), 0);
}

tfc_node *tfc_accumulator_set_global_step(tfc_graph *g, tfc_output acc,
                                          tfc_output new_global_step) {
    tfc_op_desc *d = tfc_op_new(g, "AccumulatorSetGlobalStep", NULL);
    tfc_op_add_input(d, acc);
    tfc_op_add_input(d, new_global_step);
    return tfc_op_finish(d);
}
