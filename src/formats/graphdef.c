/* GraphDef export and import through the protobuf-c messages of
 * protos/graph.proto. Export writes every node with its inputs ("x", "x:1",
 * "^ctrl"), device and attrs, plus _output_shapes so TensorBoard labels
 * edges. Import checks the whole GraphDef (known ops, resolvable inputs,
 * attrs of the kinds TensorFlow declares (formats/tf_op_defs.c), shapes,
 * devices, the bytes of its constants against a bound) before adding any
 * node, then adds nodes in dependency order, so the NodeDefs may come in
 * any order; a type attr is checked against its input's dtype as the node
 * is added. */
#include "formats/graphdef.h"
#include "formats/graphdef_prune.h"
#include "data/attr_lists.h"
#include "core/status.h"
#include "core/strmap.h"
#include "core/tensor.h"
#include "device/device_name.h"
#include "formats/tf_op_defs.h"
#include "formats/attr_value_kind.h"
#include "formats/tensor_proto.h"
#include "formats/tf_node_def.h"
#include "graph/function.h"
#include "graph/graph.h"
#include "graph/op_registry.h"
#include "formats/tf1_control_flow.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { GRAPHDEF_PRODUCER = 26 };

/* ---- export ---- */

static Tensorflow__TensorShapeProto *shape_msg(tfc_arena *a, const tfc_shape *s) {
    Tensorflow__TensorShapeProto *m = tfc_arena_alloc(a, sizeof *m);
    if (!m) return NULL;
    tensorflow__tensor_shape_proto__init(m);
    if (s->rank < 0) {
        m->unknown_rank = 1;
        return m;
    }
    m->n_dim = (size_t)s->rank;
    m->dim = tfc_arena_alloc(a, sizeof *m->dim * (size_t)(s->rank ? s->rank : 1));
    if (!m->dim) return NULL;
    for (int d = 0; d < s->rank; d++) {
        if (!(m->dim[d] = tfc_arena_alloc(a, sizeof *m->dim[d]))) return NULL;
        tensorflow__tensor_shape_proto__dim__init(m->dim[d]);
        m->dim[d]->size = s->dims[d];
    }
    return m;
}

static Tensorflow__TensorProto *tensor_msg(tfc_arena *a, const tfc_tensor *t) {
    Tensorflow__TensorProto *m = tfc_arena_alloc(a, sizeof *m);
    if (!m) return NULL;
    tensorflow__tensor_proto__init(m);
    tfc_shape s = {t->rank, {0}};
    for (int i = 0; i < t->rank; i++) s.dims[i] = t->dims[i];
    m->dtype = (Tensorflow__DataType)t->dtype;
    m->tensor_shape = shape_msg(a, &s);
    if (t->dtype == TFC_STRING) {
        /* TensorFlow writes strings as string_val, one per element */
        m->string_val = tfc_arena_alloc(a, sizeof *m->string_val * (size_t)(t->nelem + 1));
        if (!m->string_val) return NULL;
        for (int64_t i = 0; i < t->nelem; i++) {
            tfc_string v = tfc_string_at(t, i);
            m->string_val[i].data = (uint8_t *)v.data;
            m->string_val[i].len = v.len;
        }
        m->n_string_val = (size_t)t->nelem;
    } else if (t->dtype != TFC_RESOURCE) { /* a handle means nothing in a file */
        m->tensor_content.data = t->data;
        m->tensor_content.len = t->nbytes;
    }
    return m->tensor_shape ? m : NULL;
}

static Tensorflow__AttrValue *attr_msg(tfc_arena *a, const tfc_attr *at) {
    Tensorflow__AttrValue *v = tfc_arena_alloc(a, sizeof *v);
    if (!v) return NULL;
    tensorflow__attr_value__init(v);
    Tensorflow__AttrValue__ListValue *l = NULL;
    switch (at->kind) {
    case TFC_ATTR_INT:
        v->value_case = TENSORFLOW__ATTR_VALUE__VALUE_I;
        v->i = at->v.i;
        break;
    case TFC_ATTR_FLOAT:
        v->value_case = TENSORFLOW__ATTR_VALUE__VALUE_F;
        v->f = (float)at->v.f;
        break;
    case TFC_ATTR_BOOL:
        v->value_case = TENSORFLOW__ATTR_VALUE__VALUE_B;
        v->b = at->v.i != 0;
        break;
    case TFC_ATTR_TYPE:
        v->value_case = TENSORFLOW__ATTR_VALUE__VALUE_TYPE;
        v->type = (Tensorflow__DataType)at->v.i;
        break;
    case TFC_ATTR_SHAPE:
        v->value_case = TENSORFLOW__ATTR_VALUE__VALUE_SHAPE;
        if (!(v->shape = shape_msg(a, &at->v.shape))) return NULL;
        break;
    case TFC_ATTR_STRING:
        v->value_case = TENSORFLOW__ATTR_VALUE__VALUE_S;
        v->s.data = (uint8_t *)at->v.s;
        v->s.len = strlen(at->v.s);
        break;
    case TFC_ATTR_TENSOR:
        v->value_case = TENSORFLOW__ATTR_VALUE__VALUE_TENSOR;
        if (!(v->tensor = tensor_msg(a, at->v.t))) return NULL;
        break;
    case TFC_ATTR_INT_LIST:
    case TFC_ATTR_FLOAT_LIST:
    case TFC_ATTR_STRING_LIST:
        if (!(l = tfc_arena_alloc(a, sizeof *l))) return NULL;
        tensorflow__attr_value__list_value__init(l);
        v->value_case = TENSORFLOW__ATTR_VALUE__VALUE_LIST;
        v->list = l;
        if (at->kind == TFC_ATTR_INT_LIST) {
            l->n_i = (size_t)at->v.list.n;
            l->i = at->v.list.i;
        } else if (at->kind == TFC_ATTR_STRING_LIST) {
            ProtobufCBinaryData *e = tfc_arena_alloc(a, sizeof *e * (size_t)(at->v.list.n + 1));
            if (!e) return NULL;
            for (int k = 0; k < at->v.list.n; k++)
                e[k] = (ProtobufCBinaryData){strlen(at->v.list.s[k]), (uint8_t *)at->v.list.s[k]};
            l->n_s = (size_t)at->v.list.n;
            l->s = e;
        } else {
            float *f = tfc_arena_alloc(a, sizeof *f * (size_t)(at->v.list.n + 1));
            if (!f) return NULL;
            for (int k = 0; k < at->v.list.n; k++) f[k] = (float)at->v.list.f[k];
            l->n_f = (size_t)at->v.list.n;
            l->f = f;
        }
        break;
    }
    return v;
}

static Tensorflow__NodeDef__AttrEntry *attr_entry(tfc_arena *a, const char *key,
                                                 Tensorflow__AttrValue *v) {
    Tensorflow__NodeDef__AttrEntry *e = tfc_arena_alloc(a, sizeof *e);
    if (!e || !v) return NULL;
    tensorflow__node_def__attr_entry__init(e);
    e->key = (char *)key;
    e->value = v;
    return e;
}

/* ---- function library: names ---- */

/* TensorFlow's output argument names (each op's OpDef) for the ops tfc has:
 * inside a function body a node's output is "node:arg:index". An op not
 * listed has one output argument "output" (a list when it has several
 * outputs, as If's, While's and Split's). */
static const struct {
    const char *args; /* space-separated, one tensor each */
    const char *ops;  /* " Op1 Op2 ... " */
} out_arg_table[] = {
    {"z", " Add AddV2 Sub Mul Div RealDiv FloorDiv FloorMod Maximum Minimum Pow "
          "SquaredDifference Equal NotEqual Less LessEqual Greater GreaterEqual LogicalAnd "
          "LogicalOr SigmoidGrad TanhGrad RsqrtGrad SqrtGrad ReciprocalGrad "},
    {"y", " Abs Neg Exp Log Log1p Expm1 Sqrt Rsqrt Square Sign Reciprocal Floor Ceil Round Sin "
          "Cos Sigmoid Tanh LogicalNot Cast ZerosLike OnesLike Transpose InvertPermutation "},
    {"product", " MatMul BatchMatMul "},
    {"activations", " Relu Relu6 Elu Selu Softplus Softsign LeakyRelu "},
    {"backprops", " ReluGrad Relu6Grad EluGrad SeluGrad SoftplusGrad SoftsignGrad LeakyReluGrad "},
    {"softmax", " Softmax "},
    {"logsoftmax", " LogSoftmax "},
    {"sum", " AddN "},
    {"loss backprop", " SoftmaxCrossEntropyWithLogits SparseSoftmaxCrossEntropyWithLogits "},
    {"r0 r1", " BroadcastGradientArgs "},
    {"y idx", " Unique "},
    {"ref", " VariableV2 "},
    {"output_ref", " Assign AssignAdd AssignSub ScatterAdd ScatterSub ScatterUpdate "},
    {"out", " ApplyGradientDescent ApplyMomentum ApplyAdagrad ApplyAdagradDA ApplyAdadelta "
            "ApplyAdam ApplyFtrl ApplyFtrlV2 ApplyRMSProp ApplyCenteredRMSProp SparseApplyMomentum "
            "SparseApplyAdagrad SparseApplyAdagradDA SparseApplyAdadelta SparseApplyFtrl "
            "SparseApplyFtrlV2 SparseApplyRMSProp SparseApplyCenteredRMSProp "},
    {"sampled_candidates true_expected_count sampled_expected_count",
     " LogUniformCandidateSampler "},
    {"summary", " ScalarSummary HistogramSummary ImageSummary TensorSummaryV2 MergeSummary "},
    {"offset", " ConcatOffset "},
};

static const char *op_out_args(const char *op) {
    size_t n = strlen(op);
    for (size_t i = 0; n && i < sizeof out_arg_table / sizeof *out_arg_table; i++)
        for (const char *p = strstr(out_arg_table[i].ops, op); p; p = strstr(p + 1, op))
            if (p[-1] == ' ' && p[n] == ' ') return out_arg_table[i].args;
    return "output";
}

/* The k-th word of `args` into buf; the number of words. */
static int arg_word(const char *args, int k, char *buf, size_t cap) {
    int count = 0;
    for (const char *p = args; *p;) {
        size_t len = strcspn(p, " ");
        if (count == k && len < cap) {
            memcpy(buf, p, len);
            buf[len] = 0;
        }
        count++;
        p += len;
        p += *p == ' ';
    }
    return count;
}

/* Function-valued attrs (TensorFlow's `func` kind; tfc keeps the name). */
static int is_func_attr(const char *op, const char *attr) {
    if (!strcmp(op, "If")) return !strcmp(attr, "then_branch") || !strcmp(attr, "else_branch");
    if (!strcmp(op, "While")) return !strcmp(attr, "cond") || !strcmp(attr, "body");
    if (!strcmp(op, "PartitionedCall")) return !strcmp(attr, "f");
    if (!strcmp(op, "WhileGrad")) return !strcmp(attr, "body") || !strcmp(attr, "body_grad");
    return 0;
}

static int is_cf_op(const char *op) {
    return !strcmp(op, "If") || !strcmp(op, "While") || !strcmp(op, "PartitionedCall");
}

/* ---- export ---- */

typedef struct fn_list {
    int n, cap;
    const tfc_function **items;
    const char **names; /* the name each is written under */
} fn_list;

typedef struct exporter {
    tfc_arena *a;
    /* Every function, then [nplain, n): While bodies with captures written
     * again in TensorFlow's form (see function_msg). */
    fn_list lib;
    int nplain;
    const tfc_function *fn; /* the function whose body is being written */
    const char **arg_names; /* its params' names */
} exporter;

static int fn_list_add(fn_list *l, const tfc_function *fn, const char *name) {
    if (l->n == l->cap) {
        int cap = l->cap ? 2 * l->cap : 16;
        const tfc_function **v = realloc(l->items, sizeof *v * (size_t)cap);
        if (v) l->items = v;
        const char **nm = v ? realloc(l->names, sizeof *nm * (size_t)cap) : NULL;
        if (!nm) return -1;
        l->names = nm;
        l->cap = cap;
    }
    l->items[l->n] = fn;
    l->names[l->n++] = name;
    return 0;
}

static void fn_list_free(fn_list *l) {
    free(l->items);
    free(l->names);
}

/* The functions of g's library and, recursively, of their bodies. */
static int collect_functions(fn_list *l, const tfc_graph *g) {
    const tfc_function_lib *lib = g->functions;
    for (int i = 0; lib && i < lib->n; i++) {
        const tfc_function *fn = lib->items[i];
        if (fn_list_add(l, fn, fn->name)) return -1;
        if (fn->owns_graph && collect_functions(l, fn->graph)) return -1;
    }
    return 0;
}

static const tfc_function *node_function(const tfc_node *n, const char *attr) {
    return tfc_function_find(n->graph, tfc_attrs_string(&n->attrs, attr));
}

/* TensorFlow's While returns every input, so a body that captures tensors
 * is also written in that form (captures passed through), named
 * <body>_tf, for the While nodes that use it; the history While and
 * WhileGrad of a gradient keep tfc's form. */
static int is_tf_form_while(const tfc_node *n, const tfc_function **body) {
    if (strcmp(n->op->type, "While") || tfc_attrs_int(&n->attrs, "output_history", 0)) return 0;
    *body = node_function(n, "body");
    return *body && (*body)->nparams > (*body)->nout;
}

static int name_taken(const fn_list *l, const char *name) {
    for (int i = 0; i < l->n; i++)
        if (!strcmp(l->names[i], name)) return 1;
    return 0;
}

static int add_tf_forms(exporter *ex, const tfc_graph *g) {
    for (int i = 0; i < g->nnodes; i++) {
        const tfc_function *body;
        if (!is_tf_form_while(g->nodes[i], &body)) continue;
        int have = 0;
        for (int k = ex->nplain; k < ex->lib.n && !have; k++) have = ex->lib.items[k] == body;
        if (have) continue;
        size_t len = strlen(body->name) + 24;
        char *name = tfc_arena_alloc(ex->a, len);
        if (!name) return -1;
        snprintf(name, len, "%s_tf", body->name);
        for (int s = 1; name_taken(&ex->lib, name); s++)
            snprintf(name, len, "%s_tf_%d", body->name, s);
        if (fn_list_add(&ex->lib, body, name)) return -1;
    }
    return 0;
}

static const char *tf_form_name(const exporter *ex, const tfc_function *fn) {
    for (int k = ex->nplain; k < ex->lib.n; k++)
        if (ex->lib.items[k] == fn) return ex->lib.names[k];
    return fn->name;
}

static int param_index(const tfc_function *fn, const tfc_node *n) {
    for (int i = 0; fn && i < fn->nparams; i++)
        if (fn->params[i].node == n) return i;
    return -1;
}

/* How a NodeDef names the tensor `in`: "x", "x:1" in a GraphDef; in a
 * function body the argument's name or "node:arg:index". */
static char *input_name(exporter *ex, tfc_output in) {
    int p = param_index(ex->fn, in.node);
    if (p >= 0) return (char *)ex->arg_names[p];
    if (!ex->fn && in.index == 0) return in.node->name;
    char arg[64] = "output";
    const char *args = op_out_args(in.node->op->type);
    int k = in.index, nw = arg_word(args, 0, arg, sizeof arg);
    if (nw > 1) {
        k = in.index < nw ? 0 : in.index - nw + 1;
        arg_word(args, in.index < nw ? in.index : nw - 1, arg, sizeof arg);
    }
    size_t len = strlen(in.node->name) + strlen(arg) + 24;
    char *s = tfc_arena_alloc(ex->a, len);
    if (!s) return NULL;
    if (ex->fn)
        snprintf(s, len, "%s:%s:%d", in.node->name, arg, k);
    else
        snprintf(s, len, "%s:%d", in.node->name, in.index);
    return s;
}

static Tensorflow__AttrValue *func_msg(tfc_arena *a, const char *name) {
    Tensorflow__AttrValue *v = tfc_arena_alloc(a, sizeof *v);
    Tensorflow__NameAttrList *f = tfc_arena_alloc(a, sizeof *f);
    if (!v || !f) return NULL;
    tensorflow__attr_value__init(v);
    tensorflow__name_attr_list__init(f);
    f->name = (char *)name;
    v->value_case = TENSORFLOW__ATTR_VALUE__VALUE_FUNC;
    v->func = f;
    return v;
}

/* list(type) (types NULL) or list(shape) (dtypes NULL) of n entries. */
static Tensorflow__AttrValue *list_msg(tfc_arena *a, const tfc_dtype *types,
                                       const tfc_shape *shapes, int n) {
    Tensorflow__AttrValue *v = tfc_arena_alloc(a, sizeof *v);
    Tensorflow__AttrValue__ListValue *l = tfc_arena_alloc(a, sizeof *l);
    if (!v || !l) return NULL;
    tensorflow__attr_value__init(v);
    tensorflow__attr_value__list_value__init(l);
    v->value_case = TENSORFLOW__ATTR_VALUE__VALUE_LIST;
    v->list = l;
    if (types) {
        l->type = tfc_arena_alloc(a, sizeof *l->type * (size_t)(n + 1));
        if (!l->type) return NULL;
        for (int i = 0; i < n; i++) l->type[i] = (Tensorflow__DataType)types[i];
        l->n_type = (size_t)n;
    } else {
        l->shape = tfc_arena_alloc(a, sizeof *l->shape * (size_t)(n + 1));
        if (!l->shape) return NULL;
        for (int i = 0; i < n; i++)
            if (!(l->shape[i] = shape_msg(a, &shapes[i]))) return NULL;
        l->n_shape = (size_t)n;
    }
    return v;
}

/* TensorFlow's type and shape attrs of If (Tin, Tout, output_shapes),
 * While (T, output_shapes) and PartitionedCall (Tin, Tout), derived from
 * the node (tfc does not store them). */
static int cf_attrs(exporter *ex, const tfc_node *n, Tensorflow__NodeDef *m) {
    tfc_arena *a = ex->a;
    const char *op = n->op->type;
    int first = !strcmp(op, "If") ? 1 : 0, nin = n->ninputs - first, nout = n->noutputs;
    tfc_dtype *dt = tfc_arena_alloc(a, sizeof *dt * (size_t)(n->ninputs + nout + 1));
    tfc_shape *sh = tfc_arena_alloc(a, sizeof *sh * (size_t)(n->ninputs + nout + 1));
    if (!dt || !sh) return -1;
    for (int i = 0; i < nin; i++) dt[i] = tfc_output_dtype(n->inputs[first + i]);
    const tfc_function *body;
    if (!strcmp(op, "While")) {
        if (!(m->attr[m->n_attr++] = attr_entry(a, "T", list_msg(a, dt, NULL, nin)))) return -1;
        /* TensorFlow's form: every input comes out (captures unchanged) */
        int tf = is_tf_form_while(n, &body);
        for (int i = 0; i < nout; i++) sh[i] = n->out_shapes[i];
        for (int i = nout; tf && i < nin; i++) sh[i] = tfc_output_shape(n->inputs[i]);
        return (m->attr[m->n_attr++] =
                    attr_entry(a, "output_shapes", list_msg(a, NULL, sh, tf ? nin : nout)))
                   ? 0
                   : -1;
    }
    for (int i = 0; i < nout; i++) {
        dt[nin + i] = n->out_dtypes[i];
        sh[i] = n->out_shapes[i];
    }
    if (!(m->attr[m->n_attr++] = attr_entry(a, "Tin", list_msg(a, dt, NULL, nin))) ||
        !(m->attr[m->n_attr++] = attr_entry(a, "Tout", list_msg(a, dt + nin, NULL, nout))))
        return -1;
    if (!strcmp(op, "If") &&
        !(m->attr[m->n_attr++] = attr_entry(a, "output_shapes", list_msg(a, NULL, sh, nout))))
        return -1;
    return 0;
}

static Tensorflow__NodeDef *node_msg(exporter *ex, const tfc_node *n) {
    tfc_arena *a = ex->a;
    Tensorflow__NodeDef *m = tfc_arena_alloc(a, sizeof *m);
    if (!m) return NULL;
    tensorflow__node_def__init(m);
    m->name = n->name;
    m->op = (char *)n->op->type;
    if (n->device && *n->device) m->device = n->device;
    m->input = tfc_arena_alloc(a, sizeof *m->input * (size_t)(n->ninputs + n->ncontrol + 1));
    if (!m->input) return NULL;
    for (int i = 0; i < n->ninputs; i++)
        if (!(m->input[m->n_input++] = input_name(ex, n->inputs[i]))) return NULL;
    for (int i = 0; i < n->ncontrol; i++) {
        /* a body's arguments are always ready: no control edge needed */
        if (param_index(ex->fn, n->control_inputs[i]) >= 0) continue;
        size_t len = strlen(n->control_inputs[i]->name) + 2;
        char *s = tfc_arena_alloc(a, len);
        if (!s) return NULL;
        snprintf(s, len, "^%s", n->control_inputs[i]->name);
        m->input[m->n_input++] = s;
    }
    m->attr = tfc_arena_alloc(a, sizeof *m->attr * (size_t)(n->attrs.n + 4));
    if (!m->attr) return NULL;
    for (int i = 0; i < n->attrs.n; i++) {
        const tfc_attr *at = &n->attrs.items[i];
        Tensorflow__AttrValue *v;
        if (at->kind == TFC_ATTR_STRING && is_func_attr(n->op->type, at->name)) {
            const char *fname = at->v.s;
            const tfc_function *body;
            if (!strcmp(at->name, "body") && is_tf_form_while(n, &body))
                fname = tf_form_name(ex, body);
            v = func_msg(a, fname);
        } else {
            v = attr_msg(a, at);
        }
        if (!(m->attr[m->n_attr++] = attr_entry(a, at->name, v))) return NULL;
    }
    if (is_cf_op(n->op->type) && cf_attrs(ex, n, m)) return NULL;
    if (n->noutputs > 0 && !tfc_attrs_find(&n->attrs, "_output_shapes")) {
        Tensorflow__AttrValue *v = list_msg(a, NULL, n->out_shapes, n->noutputs);
        /* a While in TensorFlow's form has an output per input: its shapes
         * are the output_shapes cf_attrs wrote */
        for (size_t k = 0; is_cf_op(n->op->type) && k < m->n_attr; k++)
            if (!strcmp(m->attr[k]->key, "output_shapes")) v = m->attr[k]->value;
        if (!(m->attr[m->n_attr++] = attr_entry(a, "_output_shapes", v))) return NULL;
    }
    /* the attrs TensorFlow's OpDef wants that tfc does not keep (Assign's T) */
    if (tfc_tf_node_def_complete(a, n, m)) return NULL;
    return m;
}

/* An argument name TensorFlow accepts ([a-z][a-z0-9_]*) made from the
 * placeholder's name, unique among the args and the body's node names. */
static const char *arg_name(exporter *ex, const tfc_function *fn, int i, const char **taken) {
    const char *src = fn->params[i].node->name;
    size_t len = strlen(src) + 32;
    char *s = tfc_arena_alloc(ex->a, len);
    if (!s) return NULL;
    size_t k = 0;
    if (!(src[0] >= 'a' && src[0] <= 'z') && !(src[0] >= 'A' && src[0] <= 'Z')) s[k++] = 'a';
    for (const char *p = src; *p; p++) {
        char c = *p >= 'A' && *p <= 'Z' ? (char)(*p - 'A' + 'a') : *p;
        s[k++] = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ? c : '_';
    }
    s[k] = 0;
    for (int suffix = 1;; suffix++) {
        const tfc_node *other = tfc_strmap_get(&fn->graph->by_name, s);
        int clash = other && other != fn->params[i].node;
        for (int j = 0; j < i && !clash; j++) clash = !strcmp(taken[j], s);
        if (!clash) return s;
        snprintf(s + k, len - k, "_%d", suffix);
    }
}

/* Marks n as needed by fn's outputs (params excluded) and stacks it. */
static void keep_node(const tfc_function *fn, char *keep, const tfc_node **stack, int *top,
                      const tfc_node *n) {
    if (n->graph != fn->graph || keep[n->id] || param_index(fn, n) >= 0) return;
    keep[n->id] = 1;
    stack[(*top)++] = n;
}

static Tensorflow__OpDef__ArgDef *arg_msg(tfc_arena *a, const char *name, tfc_dtype dt) {
    Tensorflow__OpDef__ArgDef *m = tfc_arena_alloc(a, sizeof *m);
    if (!m) return NULL;
    tensorflow__op_def__arg_def__init(m);
    m->name = (char *)name;
    m->type = (Tensorflow__DataType)dt;
    return m;
}

/* fn as a FunctionDef named `name`: its signature, the body nodes its
 * outputs need (params become arguments), ret values and each argument's
 * shape (arg_attr "_output_shapes", as TensorFlow writes). With
 * `passthrough`, fn's captures are also returned unchanged (TensorFlow's
 * form of a While body). */
static Tensorflow__FunctionDef *function_msg(exporter *ex, const tfc_function *fn, const char *name,
                                             int passthrough) {
    tfc_arena *a = ex->a;
    const tfc_graph *body = fn->graph;
    int np = fn->nparams, nout = passthrough ? np : fn->nout, nn = body->nnodes;
    Tensorflow__FunctionDef *m = tfc_arena_alloc(a, sizeof *m);
    Tensorflow__OpDef *sig = tfc_arena_alloc(a, sizeof *sig);
    const char **args = tfc_arena_alloc(a, sizeof *args * (size_t)(np + 1));
    char *keep = tfc_arena_alloc(a, (size_t)nn + 1);
    const tfc_node **stack = malloc(sizeof *stack * (size_t)(nn + 1));
    if (!m || !sig || !args || !keep || !stack) {
        free(stack);
        return NULL;
    }
    tensorflow__function_def__init(m);
    tensorflow__op_def__init(sig);
    m->signature = sig;
    sig->name = (char *)name;
    /* the nodes the outputs need, params excluded */
    int top = 0;
    for (int i = 0; i < fn->nout; i++) keep_node(fn, keep, stack, &top, fn->outs[i].node);
    while (top > 0) {
        const tfc_node *n = stack[--top];
        for (int i = 0; i < n->ninputs; i++) keep_node(fn, keep, stack, &top, n->inputs[i].node);
        for (int i = 0; i < n->ncontrol; i++)
            keep_node(fn, keep, stack, &top, n->control_inputs[i]);
    }
    free(stack);
    for (int i = 0; i < np; i++)
        if (!(args[i] = arg_name(ex, fn, i, args))) return NULL;
    sig->input_arg = tfc_arena_alloc(a, sizeof *sig->input_arg * (size_t)(np + 1));
    sig->output_arg = tfc_arena_alloc(a, sizeof *sig->output_arg * (size_t)(nout + 1));
    m->ret = tfc_arena_alloc(a, sizeof *m->ret * (size_t)(nout + 1));
    m->arg_attr = tfc_arena_alloc(a, sizeof *m->arg_attr * (size_t)(np + 1));
    if (!sig->input_arg || !sig->output_arg || !m->ret || !m->arg_attr) return NULL;
    for (int i = 0; i < np; i++) {
        tfc_output p = fn->params[i];
        tfc_shape s = tfc_output_shape(p);
        Tensorflow__FunctionDef__ArgAttrEntry *e = tfc_arena_alloc(a, sizeof *e);
        Tensorflow__FunctionDef__ArgAttrs *aa = tfc_arena_alloc(a, sizeof *aa);
        Tensorflow__FunctionDef__ArgAttrs__AttrEntry **ae = tfc_arena_alloc(a, sizeof *ae);
        if (!e || !aa || !ae || !(ae[0] = tfc_arena_alloc(a, sizeof **ae))) return NULL;
        if (!(sig->input_arg[sig->n_input_arg++] = arg_msg(a, args[i], tfc_output_dtype(p))))
            return NULL;
        tensorflow__function_def__arg_attr_entry__init(e);
        tensorflow__function_def__arg_attrs__init(aa);
        tensorflow__function_def__arg_attrs__attr_entry__init(ae[0]);
        ae[0]->key = "_output_shapes";
        if (!(ae[0]->value = list_msg(a, NULL, &s, 1))) return NULL;
        aa->n_attr = 1;
        aa->attr = ae;
        e->key = (uint32_t)i;
        e->value = aa;
        m->arg_attr[m->n_arg_attr++] = e;
    }
    ex->fn = fn;
    ex->arg_names = args;
    m->node_def = tfc_arena_alloc(a, sizeof *m->node_def * (size_t)(nn + 1));
    if (!m->node_def) return NULL;
    for (int i = 0; i < nn; i++) {
        const tfc_node *n = body->nodes[i];
        if (!keep[i]) continue;
        if (n->op->flags & TFC_OP_STATEFUL) sig->is_stateful = 1;
        if (!(m->node_def[m->n_node_def++] = node_msg(ex, n))) return NULL;
    }
    for (int i = 0; i < nout; i++) {
        tfc_output o = i < fn->nout ? fn->outs[i] : fn->params[i];
        size_t len = 32;
        char *oname = tfc_arena_alloc(a, len);
        Tensorflow__FunctionDef__RetEntry *r = tfc_arena_alloc(a, sizeof *r);
        if (!oname || !r) return NULL;
        snprintf(oname, len, "output_%d", i);
        if (!(sig->output_arg[sig->n_output_arg++] = arg_msg(a, oname, tfc_output_dtype(o))))
            return NULL;
        tensorflow__function_def__ret_entry__init(r);
        r->key = oname;
        if (!(r->value = input_name(ex, o))) return NULL;
        m->ret[m->n_ret++] = r;
    }
    ex->fn = NULL;
    ex->arg_names = NULL;
    return m;
}

/* Lists the functions to write (before any node is written: While nodes
 * name the TensorFlow forms). */
static int prepare_library(exporter *ex, const tfc_graph *g) {
    if (collect_functions(&ex->lib, g)) return -1;
    ex->nplain = ex->lib.n;
    if (add_tf_forms(ex, g)) return -1;
    for (int i = 0; i < ex->nplain; i++)
        if (ex->lib.items[i]->owns_graph && add_tf_forms(ex, ex->lib.items[i]->graph)) return -1;
    return 0;
}

static Tensorflow__FunctionDefLibrary *library_msg(exporter *ex) {
    Tensorflow__FunctionDefLibrary *lib = tfc_arena_alloc(ex->a, sizeof *lib);
    if (!lib) return NULL;
    tensorflow__function_def_library__init(lib);
    lib->function = tfc_arena_alloc(ex->a, sizeof *lib->function * (size_t)(ex->lib.n + 1));
    if (!lib->function) return NULL;
    for (int i = 0; i < ex->lib.n; i++) {
        Tensorflow__FunctionDef *f =
            function_msg(ex, ex->lib.items[i], ex->lib.names[i], i >= ex->nplain);
        if (!f) return NULL;
        lib->function[lib->n_function++] = f;
    }
    return lib;
}

int tfc_graphdef_check_library(const tfc_graph *g, tfc_status *st) {
    fn_list l = {0};
    int rc = 0;
    if (collect_functions(&l, g)) {
        tfc_status_set(st, TFC_INTERNAL, "out of memory listing the functions");
        rc = -1;
    }
    for (int i = 0; rc == 0 && i < l.n; i++)
        for (int j = 0; j < i && rc == 0; j++)
            if (!strcmp(l.names[i], l.names[j])) {
                tfc_status_set(st, TFC_FAILED_PRECONDITION,
                               "cannot write the function library: two functions are named "
                               "'%s' (defined in different bodies)",
                               l.names[i]);
                rc = -1;
            }
    fn_list_free(&l);
    return rc;
}

/* The GraphDef of nodes[0, n) (NULL: g's own) with g's library. */
static Tensorflow__GraphDef *build(tfc_arena *a, const tfc_graph *g, tfc_node *const *nodes,
                                   int n) {
    Tensorflow__GraphDef *gd = tfc_arena_alloc(a, sizeof *gd);
    Tensorflow__VersionDef *ver = tfc_arena_alloc(a, sizeof *ver);
    if (!gd || !ver) return NULL;
    tensorflow__graph_def__init(gd);
    tensorflow__version_def__init(ver);
    ver->producer = GRAPHDEF_PRODUCER;
    gd->versions = ver;
    exporter ex = {a, {0}, 0, NULL, NULL};
    /* the node array may grow in another thread while we read it */
    pthread_mutex_t *lock = (pthread_mutex_t *)&g->lock;
    pthread_mutex_lock(lock);
    if (!nodes) {
        nodes = g->nodes;
        n = g->nnodes;
    }
    int has_lib = g->functions && g->functions->n;
    if (has_lib && prepare_library(&ex, g)) a->oom = 1;
    gd->node = tfc_arena_alloc(a, sizeof *gd->node * (size_t)(n + 1));
    for (int i = 0; gd->node && i < n; i++)
        if (!(gd->node[gd->n_node++] = node_msg(&ex, nodes[i]))) break;
    if (has_lib && !a->oom && !(gd->library = library_msg(&ex))) a->oom = 1;
    pthread_mutex_unlock(lock);
    fn_list_free(&ex.lib);
    return a->oom ? NULL : gd;
}

Tensorflow__GraphDef *tfc_graphdef_build(tfc_arena *a, const tfc_graph *g) {
    return build(a, g, NULL, 0);
}

Tensorflow__GraphDef *tfc_graphdef_build_nodes(tfc_arena *a, const tfc_graph *g,
                                               tfc_node *const *nodes, int n) {
    return build(a, g, nodes, n);
}

void tfc_graphdef_encode(tfc_buf *b, const tfc_graph *g) {
    tfc_arena a = {0};
    Tensorflow__GraphDef *gd = tfc_graphdef_build(&a, g);
    if (gd) tfc_buf_pack(b, &gd->base);
    else b->oom = 1;
    tfc_arena_free(&a);
}

int tfc_graph_to_graphdef(const tfc_graph *g, uint8_t **out, size_t *len, tfc_status *st) {
    *out = NULL;
    *len = 0;
    if (!g) {
        tfc_status_set(st, TFC_INVALID_ARGUMENT, "tfc_graph_to_graphdef: graph is NULL");
        return -1;
    }
    if (tfc_graphdef_check_library(g, st)) return -1;
    tfc_buf b = {0};
    tfc_graphdef_encode(&b, g);
    if (b.oom) {
        tfc_buf_free(&b);
        tfc_status_set(st, TFC_INTERNAL, "out of memory serializing the graph");
        return -1;
    }
    *out = b.p ? b.p : malloc(1);
    *len = b.n;
    return 0;
}

int tfc_graph_write_graphdef(const tfc_graph *g, const char *path, tfc_status *st) {
    uint8_t *p;
    size_t n;
    if (tfc_graph_to_graphdef(g, &p, &n, st)) return -1;
    FILE *f = fopen(path, "wb");
    int bad = !f || (n && fwrite(p, 1, n, f) != n);
    if (f) bad |= fclose(f) != 0;
    free(p);
    if (bad) {
        tfc_status_set(st, TFC_NOT_FOUND, "cannot write GraphDef '%s': %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

/* ---- import ---- */

/* The function library being imported: FunctionDefs become functions of
 * the receiving graph, each made after the functions its body calls. */
typedef struct lib_import {
    const Tensorflow__FunctionDefLibrary *lib;
    tfc_strmap by_name;  /* signature name -> index + 1 */
    tfc_function **made; /* per FunctionDef, once made */
    char *state;         /* 0 new, 1 being made (on the call path), 2 made */
} lib_import;

/* The bytes of constant tensors one import may make, over the GraphDef and
 * all its functions: counted from the declared shapes before anything is
 * allocated. */
typedef struct import_budget {
    int64_t max, used;
} import_budget;

typedef struct importer {
    tfc_graph *g; /* receives the nodes: the target graph or a function body */
    tfc_status *st;
    import_budget *budget;
    const char *prefix;
    const char *what; /* "GraphDef" or "GraphDef function 'f'", for messages */
    Tensorflow__NodeDef *const *nodes;
    size_t nn;
    tfc_node **made;      /* per NodeDef, once added */
    int *ndata;           /* per NodeDef: data inputs (control inputs follow) */
    tfc_strmap by_name;   /* NodeDef name -> index + 1 */
    tfc_strmap map;       /* remapped "name:idx" -> index into map_values + 1 */
    const tfc_output *map_values;
    lib_import *lib;
    /* in a function body: its params, named by the signature */
    const tfc_function *fn;
    tfc_strmap args; /* argument name -> param index + 1 */
    /* GraphDef producer <= 21: a Placeholder's 0-dim shape means unknown
     * (TensorFlow's legacy rule; TF 1.0 wrote shape {} for shape=None) */
    int legacy_placeholder_shape;
} importer;

/* Splits "name:idx" (idx 0 when absent). Returns 0, or -1 on a bad index. */
static int split_input(const char *s, char *name, size_t cap, int *idx) {
    const char *colon = strrchr(s, ':');
    size_t n = colon ? (size_t)(colon - s) : strlen(s);
    *idx = 0;
    if (colon) {
        char *end;
        long v = strtol(colon + 1, &end, 10);
        if (*end || end == colon + 1 || v < 0 || v > 1000000) return -1;
        *idx = (int)v;
    }
    if (n + 1 > cap) return -1;
    memcpy(name, s, n);
    name[n] = 0;
    return 0;
}

static tfc_function *lib_function(const importer *im, const char *name) {
    intptr_t k = im->lib ? (intptr_t)tfc_strmap_get(&im->lib->by_name, name) : 0;
    if (k) return im->lib->made[k - 1];
    return tfc_function_find(im->g, name);
}

/* The tfc op a NodeDef makes: TensorFlow's stateless/stateful variants of
 * the functional ops map to tfc's, and a node whose op is a library
 * function (TensorFlow 1's Defun call) becomes a PartitionedCall of it
 * (*fname). NULL when unknown. */
static const char *node_op(const importer *im, const Tensorflow__NodeDef *nd, const char **fname) {
    static const char *const alias[][2] = {{"StatelessIf", "If"},
                                           {"StatelessWhile", "While"},
                                           {"StatefulPartitionedCall", "PartitionedCall"}};
    *fname = NULL;
    for (size_t i = 0; i < sizeof alias / sizeof *alias; i++)
        if (!strcmp(nd->op, alias[i][0])) return alias[i][1];
    if (tfc_op_is_registered(nd->op)) return nd->op;
    if (im->lib && tfc_strmap_get(&im->lib->by_name, nd->op)) {
        *fname = nd->op;
        return "PartitionedCall";
    }
    return NULL;
}

/* Inside a function body: "arg", "arg:0", "node:out_arg:i" (or "node:out_arg",
 * or a bare node name) into a param (*param >= 0) or a NodeDef index k and
 * an output index. -1 (status set) when malformed or naming nothing. */
static int parse_body_input(importer *im, const char *who, const char *in, int control, int *param,
                            intptr_t *k, int *idx) {
    char buf[512];
    size_t n = strlen(in);
    *param = -1;
    *k = 0;
    *idx = 0;
    if (n + 1 > sizeof buf) goto bad;
    memcpy(buf, in, n + 1);
    char *part[3] = {buf, NULL, NULL};
    int np = 1;
    for (char *p = buf; *p; p++)
        if (*p == ':') {
            if (np == 3) goto bad;
            *p = 0;
            part[np++] = p + 1;
        }
    intptr_t a = (intptr_t)tfc_strmap_get(&im->args, part[0]);
    if (a) {
        if (np > 2 || (np == 2 && strcmp(part[1], "0"))) goto bad;
        *param = (int)a - 1;
        return 0;
    }
    if (control && np > 1) goto bad;
    *k = (intptr_t)tfc_strmap_get(&im->by_name, part[0]);
    if (!*k) {
        tfc_status_set(im->st, TFC_INVALID_ARGUMENT,
                       "%s %s: input '%s%s' names no node or "
                       "argument of the function",
                       im->what, who, control ? "^" : "", in);
        return -1;
    }
    if (np == 3) {
        char *end;
        long v = strtol(part[2], &end, 10);
        if (*end || end == part[2] || v < 0 || v > 1000000) goto bad;
        *idx = (int)v;
    }
    if (np >= 2) {
        /* the output argument's position among the op's outputs */
        const Tensorflow__NodeDef *src = im->nodes[*k - 1];
        const char *fname, *op = node_op(im, src, &fname);
        char word[64];
        int nw = op ? arg_word(op_out_args(op), 0, word, sizeof word) : 1;
        if (nw > 1) {
            int w = 0;
            while (w < nw &&
                   (arg_word(op_out_args(op), w, word, sizeof word), strcmp(word, part[1])))
                w++;
            if (w == nw) {
                tfc_status_set(im->st, TFC_INVALID_ARGUMENT,
                               "%s %s: input '%s': op %s has no output '%s'", im->what, who, in,
                               src->op, part[1]);
                return -1;
            }
            *idx += w;
        }
    }
    return 0;
bad:
    tfc_status_set(im->st, TFC_INVALID_ARGUMENT, "%s %s: bad input '%s%s'", im->what, who,
                   control ? "^" : "", in);
    return -1;
}

/* Where input `in` of the node or output `who` comes from. *ready is 0
 * while its producer is not added yet. -1 (status set) when it cannot
 * resolve. A control input naming a function argument resolves to nothing
 * (out->node NULL): arguments are always ready. */
static int resolve(importer *im, const char *who, const char *in, int control, tfc_output *out,
                   int *ready) {
    char name[512], key[540];
    int idx;
    intptr_t k;
    *ready = 0;
    out->node = NULL;
    out->index = 0;
    if (control) in++;
    if (im->fn) {
        int param;
        if (parse_body_input(im, who, in, control, &param, &k, &idx)) return -1;
        if (param >= 0) {
            if (!control) *out = im->fn->params[param];
            *ready = 1;
            return 0;
        }
        snprintf(name, sizeof name, "%s", im->nodes[k - 1]->name);
    } else {
        if (split_input(in, name, sizeof name, &idx) || (control && idx)) {
            tfc_status_set(im->st, TFC_INVALID_ARGUMENT, "%s %s: bad input '%s%s'", im->what, who,
                           control ? "^" : "", in);
            return -1;
        }
        /* remapping first, as in tf.import_graph_def(input_map=...) */
        snprintf(key, sizeof key, "%s:%d", name, idx);
        intptr_t m = control ? 0 : (intptr_t)tfc_strmap_get(&im->map, key);
        if (m) {
            *out = im->map_values[m - 1];
            *ready = 1;
            return 0;
        }
        k = (intptr_t)tfc_strmap_get(&im->by_name, name);
        if (!k) {
            tfc_status_set(im->st, TFC_INVALID_ARGUMENT, "%s %s: input '%s' is not in the graph",
                           im->what, who, in);
            return -1;
        }
    }
    tfc_node *src = im->made[k - 1];
    if (src) {
        if (!control && idx >= src->noutputs) {
            tfc_status_set(im->st, TFC_INVALID_ARGUMENT,
                           "%s %s: input '%s' names output %d, '%s' has %d", im->what, who, in, idx,
                           name, src->noutputs);
            return -1;
        }
        out->node = src;
        out->index = idx;
        *ready = 1;
    }
    return 0;
}

/* A shape from its message; -1 with the reason in why[cap] when it has
 * more dims than tfc allows or a size below -1 (only -1 means unknown). */
static int shape_from_msg(const Tensorflow__TensorShapeProto *m, tfc_shape *s, char *why,
                          size_t cap) {
    s->rank = 0;
    if (!m) return 0;
    if (m->unknown_rank) {
        s->rank = -1;
        return 0;
    }
    if (m->n_dim > TFC_MAX_RANK) {
        snprintf(why, cap, "has %zu dims; tfc allows up to %d", m->n_dim, TFC_MAX_RANK);
        return -1;
    }
    for (size_t d = 0; d < m->n_dim; d++) {
        if (m->dim[d]->size < -1) {
            snprintf(why, cap, "has size %lld in dim %zu; a size is >= 0, or -1 for unknown",
                     (long long)m->dim[d]->size, d);
            return -1;
        }
        s->dims[d] = m->dim[d]->size;
    }
    s->rank = (int)m->n_dim;
    return 0;
}

/* Checks a TensorProto without allocating it: a dtype tfc has, a known
 * shape whose byte size fits, tensor_content of exactly that size or a
 * typed array of one value (filling the tensor, TF's rule) or of all of
 * them. Its byte size in *bytes; -1 with the reason in why[cap]. */
static int check_tensor_msg(const Tensorflow__TensorProto *m, int64_t *bytes, char *why,
                            size_t cap) {
    tfc_shape s;
    tfc_dtype dt = (tfc_dtype)m->dtype;
    size_t esize = tfc_dtype_size(dt);
    if (!esize || dt == TFC_RESOURCE) {
        snprintf(why, cap, "holds a tensor of dtype %d, which a tfc constant cannot have",
                 (int)m->dtype);
        return -1;
    }
    char swhy[120];
    if (shape_from_msg(m->tensor_shape, &s, swhy, sizeof swhy)) {
        snprintf(why, cap, "holds a tensor whose shape %s", swhy);
        return -1;
    }
    if (s.rank < 0 || !tfc_shape_is_fully_defined(&s)) {
        snprintf(why, cap, "holds a tensor of unknown shape");
        return -1;
    }
    int64_t n = 1;
    for (int i = 0; i < s.rank; i++) {
        if (s.dims[i] && n > INT64_MAX / 16 / s.dims[i]) {
            snprintf(why, cap, "holds a tensor of more than 2^59 elements");
            return -1;
        }
        n *= s.dims[i];
    }
    *bytes = n * (int64_t)esize;
    if (dt == TFC_STRING) {
        size_t k = m->n_string_val;
        if (m->tensor_content.len || k > (size_t)n || (k > 1 && k != (size_t)n)) {
            snprintf(why, cap, "holds a string tensor of %lld elements with %zu string_val "
                     "entries%s", (long long)n, k, m->tensor_content.len ? " and tensor_content" : "");
            return -1;
        }
        /* the bytes: each value's, or the one value's in every element */
        for (size_t i = 0; i < k; i++) {
            int64_t len = (int64_t)m->string_val[i].len, times = k == 1 ? n : 1;
            if (times && len > (INT64_MAX - *bytes) / times) {
                snprintf(why, cap, "holds a string tensor of more than 2^63 bytes");
                return -1;
            }
            *bytes += len * times;
        }
        return 0;
    }
    if (m->tensor_content.len) {
        if (m->tensor_content.len != (size_t)*bytes) {
            snprintf(why, cap, "holds %zu bytes of tensor_content for a %s tensor of %lld bytes",
                     m->tensor_content.len, tfc_dtype_name(dt), (long long)*bytes);
            return -1;
        }
        return 0;
    }
    size_t k = tfc_tensor_proto_count(m, dt);
    if (k > (size_t)n || (k > 1 && k != (size_t)n)) {
        snprintf(why, cap, "holds %zu values for a tensor of %lld elements", k, (long long)n);
        return -1;
    }
    return 0;
}

/* The tensor of a checked TensorProto; NULL when memory runs out. */
static tfc_tensor *tensor_from_msg(const Tensorflow__TensorProto *m) {
    tfc_shape s;
    char why[160];
    tfc_dtype dt = (tfc_dtype)m->dtype;
    if (shape_from_msg(m->tensor_shape, &s, why, sizeof why)) return NULL;
    tfc_tensor *t = tfc_tensor_new(dt, s.rank, s.dims);
    if (!t) return NULL;
    if (m->tensor_content.len) {
        memcpy(t->data, m->tensor_content.data, t->nbytes);
        return t;
    }
    size_t n = tfc_tensor_proto_count(m, dt);
    for (int64_t i = 0; n && i < t->nelem; i++) {
        size_t k = (size_t)i < n ? (size_t)i : n - 1;
        if (dt != TFC_STRING) {
            tfc_tensor_proto_set(t, i, m, k);
        } else if (tfc_string_set(t, i, m->string_val[k].data, m->string_val[k].len)) {
            tfc_tensor_free(t);
            return NULL;
        }
    }
    return t;
}

/* Does value kind `found` fit the declared kind? */
static int kind_fits(tfc_tf_attr_kind declared, const char *found) {
    const char *want = tfc_tf_attr_kind_name(declared);
    if (declared == TFC_TF_ATTR_UNDECLARED || !strcmp(want, found)) return 1;
    return !strcmp(found, "list") && !strncmp(want, "list(", 5);
}

static int attr_error(importer *im, const Tensorflow__NodeDef *nd, tfc_code code,
                      const char *fmt, ...)
#ifdef __GNUC__
    __attribute__((format(printf, 4, 5)))
#endif
    ;

/* Records "<GraphDef> node 'name': <message>"; returns -1. */
static int attr_error(importer *im, const Tensorflow__NodeDef *nd, tfc_code code,
                      const char *fmt, ...) {
    char msg[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    tfc_status_set(im->st, code, "%s node '%s': %s", im->what, nd->name, msg);
    return -1;
}

/* Checks one attr of NodeDef nd (out NULL), or converts it into `out`, the
 * attrs the node will get. Checking covers everything: the kind
 * TensorFlow declares for it, a type tfc has, a shape, a tensor (counted
 * against the import's budget); converting can then only run out of
 * memory, which it reports naming the bytes. -1 with the status set.
 * `op` is the tfc op the node makes. */
/* TensorFlow's colocation attr, _class = ["loc:@a", "loc:@b"] (a
 * list(string)), becomes tfc's "loc:@<prefix>/a,loc:@<prefix>/b", which the
 * placer reads. Entries naming a node that is not imported (pruned away, or
 * rewritten with TF1 control flow) are dropped; so is the attr inside a
 * function body, whose nodes the placer does not group. */
static int class_attr(importer *im, const Tensorflow__NodeDef *nd, const Tensorflow__AttrValue *v,
                      tfc_attrs *out) {
    if (v && v->value_case == TENSORFLOW__ATTR_VALUE__VALUE_S && !v->s.len) return 0;
    if (!v || v->value_case != TENSORFLOW__ATTR_VALUE__VALUE_LIST || v->list->n_i ||
        v->list->n_f || v->list->n_b || v->list->n_type || v->list->n_shape ||
        v->list->n_tensor || v->list->n_func)
        return attr_error(im, nd, TFC_INVALID_ARGUMENT,
                          "attr '_class' expects kind 'list(string)' of \"loc:@NAME\" entries");
    if (!out || im->fn) return 0;
    size_t plen = im->prefix && *im->prefix ? strlen(im->prefix) + 1 : 0, cap = 1;
    for (size_t i = 0; i < v->list->n_s; i++) cap += v->list->s[i].len + plen + 1;
    char *joined = malloc(cap), *end = joined;
    if (!joined) return attr_error(im, nd, TFC_RESOURCE_EXHAUSTED, "out of memory");
    *end = 0;
    for (size_t i = 0; i < v->list->n_s; i++) {
        const ProtobufCBinaryData *e = &v->list->s[i];
        char name[512];
        if (e->len < 6 || e->len - 5 >= sizeof name || memcmp(e->data, "loc:@", 5) ||
            memchr(e->data, 0, e->len) || memchr(e->data, ',', e->len))
            continue; /* TensorFlow writes only loc:@ entries; others say nothing to tfc */
        memcpy(name, e->data + 5, e->len - 5);
        name[e->len - 5] = 0;
        if (!tfc_strmap_get(&im->by_name, name)) continue;
        end += sprintf(end, "%sloc:@%s%s%s", end == joined ? "" : ",", plen ? im->prefix : "",
                       plen ? "/" : "", name);
    }
    int rc = end == joined ? 0 : tfc_attrs_set_string(out, "_class", joined);
    free(joined);
    if (rc) return attr_error(im, nd, TFC_RESOURCE_EXHAUSTED, "out of memory");
    return 0;
}

static int attr_value(importer *im, const Tensorflow__NodeDef *nd, const char *op,
                      const Tensorflow__NodeDef__AttrEntry *e, tfc_attrs *out) {
    const char *name = e->key;
    const Tensorflow__AttrValue *v = e->value;
    /* "_tfc_x": tfc's own attr x of a TensorFlow op, so written that
     * TensorFlow accepts it (tf_node_def.c) */
    if (!strncmp(name, "_tfc_", 5) && name[5]) name += 5;
    else if (!strcmp(name, "_class")) return class_attr(im, nd, v, out);
    else if (name[0] == '_') return 0; /* internal attrs (_output_shapes, ...) */
    /* TensorFlow's type, shape and config attrs of the functional ops:
     * tfc derives them from the functions */
    static const char *const derived = " T Tin Tout Tcond output_shapes config config_proto "
                                       "executor_type ";
    char padded[64], why[200];
    snprintf(padded, sizeof padded, " %s ", name);
    if (op && is_cf_op(op) && strstr(derived, padded)) return 0;
    if (!v) return attr_error(im, nd, TFC_INVALID_ARGUMENT, "attr '%s' has no value", name);
    tfc_tf_attr_kind declared = op ? tfc_tf_attr_kind_of(op, name) : TFC_TF_ATTR_UNDECLARED;
    const char *found = tfc_attr_value_kind(v);
    if (!out && !kind_fits(declared, found))
        return attr_error(im, nd, TFC_INVALID_ARGUMENT,
                          "attr '%s' expects kind '%s', got kind '%s'", name,
                          tfc_tf_attr_kind_name(declared), found);
    int rc = 0;
    switch (v->value_case) {
    case TENSORFLOW__ATTR_VALUE__VALUE_FUNC: {
        const char *fname = v->func && v->func->name ? v->func->name : "";
        tfc_function *fn = *fname ? lib_function(im, fname) : NULL;
        if (!fn)
            return attr_error(im, nd, TFC_NOT_FOUND, "attr '%s' names unknown function '%s'",
                              name, fname);
        if (out) rc = tfc_attrs_set_string(out, name, fn->name);
        break;
    }
    case TENSORFLOW__ATTR_VALUE__VALUE_S: {
        /* an empty string comes with no bytes at all (data NULL) */
        if (v->s.len && memchr(v->s.data, 0, v->s.len))
            return attr_error(im, nd, TFC_UNIMPLEMENTED,
                              "attr '%s' is a string holding a NUL byte, which tfc cannot keep",
                              name);
        if (!out) break;
        char *s = malloc(v->s.len + 1);
        if (!s) goto oom;
        if (v->s.len) memcpy(s, v->s.data, v->s.len);
        s[v->s.len] = 0;
        rc = tfc_attrs_set_string(out, name, s);
        free(s);
        break;
    }
    case TENSORFLOW__ATTR_VALUE__VALUE_I:
        if (out) rc = tfc_attrs_set_int(out, name, TFC_ATTR_INT, v->i);
        break;
    case TENSORFLOW__ATTR_VALUE__VALUE_F:
        if (out) rc = tfc_attrs_set_float(out, name, v->f);
        break;
    case TENSORFLOW__ATTR_VALUE__VALUE_B:
        if (out) rc = tfc_attrs_set_int(out, name, TFC_ATTR_BOOL, v->b);
        break;
    case TENSORFLOW__ATTR_VALUE__VALUE_TYPE:
        if (!tfc_dtype_size((tfc_dtype)v->type))
            return attr_error(im, nd, TFC_UNIMPLEMENTED, "attr '%s' is dtype %d, which tfc lacks",
                              name, (int)v->type);
        if (out) rc = tfc_attrs_set_int(out, name, TFC_ATTR_TYPE, v->type);
        break;
    case TENSORFLOW__ATTR_VALUE__VALUE_SHAPE: {
        tfc_shape s;
        if (shape_from_msg(v->shape, &s, why, sizeof why))
            return attr_error(im, nd, TFC_INVALID_ARGUMENT, "attr '%s' %s", name, why);
        if (out) rc = tfc_attrs_set_shape(out, name, s.rank, s.dims);
        break;
    }
    case TENSORFLOW__ATTR_VALUE__VALUE_TENSOR: {
        int64_t bytes;
        if (!v->tensor || check_tensor_msg(v->tensor, &bytes, why, sizeof why))
            return attr_error(im, nd, TFC_INVALID_ARGUMENT, "attr '%s' %s", name,
                              v->tensor ? why : "holds no tensor");
        if (!out) {
            import_budget *b = im->budget;
            if (bytes > b->max - b->used)
                return attr_error(im, nd, TFC_RESOURCE_EXHAUSTED,
                                  "attr '%s' holds a tensor of %lld bytes, which takes the "
                                  "import's constants past its bound of %lld bytes "
                                  "(tfc_import_options.max_bytes)",
                                  name, (long long)bytes, (long long)b->max);
            b->used += bytes;
            break;
        }
        tfc_tensor *t = tensor_from_msg(v->tensor);
        if (!t)
            return attr_error(im, nd, TFC_RESOURCE_EXHAUSTED,
                              "out of memory allocating the %lld bytes of attr '%s'",
                              (long long)bytes, name);
        rc = tfc_attrs_set_tensor(out, name, t);
        tfc_tensor_free(t);
        break;
    }
    case TENSORFLOW__ATTR_VALUE__VALUE_LIST: {
        const Tensorflow__AttrValue__ListValue *l = v->list;
        if (l->n_tensor || l->n_func) goto unsupported;
        if (l->n_s) { /* list(string): ParseSingleExample's keys */
            if (l->n_i || l->n_f || l->n_b || l->n_type || l->n_shape) goto unsupported;
            char **strs = calloc(l->n_s, sizeof *strs);
            int ok = strs != NULL;
            for (size_t k = 0; ok && k < l->n_s; k++) {
                if (l->s[k].len && memchr(l->s[k].data, 0, l->s[k].len)) {
                    for (size_t j = 0; j < k; j++) free(strs[j]);
                    free(strs);
                    return attr_error(im, nd, TFC_INVALID_ARGUMENT,
                                      "attr '%s'[%zu] holds a NUL byte; tfc keeps list(string) "
                                      "entries as text",
                                      name, k);
                }
                ok = (strs[k] = malloc(l->s[k].len + 1)) != NULL;
                if (ok) {
                    if (l->s[k].len) memcpy(strs[k], l->s[k].data, l->s[k].len);
                    strs[k][l->s[k].len] = 0;
                }
            }
            if (ok && out)
                ok = !tfc_attrs_set_string_list(out, name, (const char *const *)strs, (int)l->n_s);
            for (size_t k = 0; strs && k < l->n_s; k++) free(strs[k]);
            free(strs);
            if (!ok) goto oom;
            break;
        }
        if (l->n_shape) { /* list(shape): ParseExample's dense_shapes, queues' shapes */
            tfc_shape *shapes = malloc(sizeof *shapes * l->n_shape);
            if (!shapes) goto oom;
            for (size_t k = 0; k < l->n_shape; k++)
                if (shape_from_msg(l->shape[k], &shapes[k], why, sizeof why)) {
                    free(shapes);
                    return attr_error(im, nd, TFC_INVALID_ARGUMENT, "attr '%s'[%zu] %s", name,
                                      k, why);
                }
            if (out) rc = tfc_attrs_set_shape_list(out, name, shapes, (int)l->n_shape);
            free(shapes);
            if (rc) goto oom;
            break;
        }
        for (size_t k = 0; k < l->n_type; k++)
            if (!tfc_dtype_size((tfc_dtype)l->type[k]))
                return attr_error(im, nd, TFC_UNIMPLEMENTED,
                                  "attr '%s' lists dtype %d, which tfc lacks", name,
                                  (int)l->type[k]);
        if (!out) break;
        if (l->n_f) {
            double *f = malloc(sizeof *f * l->n_f);
            if (!f) goto oom;
            for (size_t k = 0; k < l->n_f; k++) f[k] = l->f[k];
            rc = tfc_attrs_set_float_list(out, name, f, (int)l->n_f);
            free(f);
            break;
        }
        size_t n = l->n_i + l->n_b + l->n_type;
        int64_t *iv = malloc(sizeof *iv * (n + 1));
        if (!iv) goto oom;
        size_t k = 0;
        for (size_t j = 0; j < l->n_i; j++) iv[k++] = l->i[j];
        for (size_t j = 0; j < l->n_b; j++) iv[k++] = l->b[j];
        for (size_t j = 0; j < l->n_type; j++) iv[k++] = l->type[j];
        rc = tfc_attrs_set_int_list(out, name, iv, (int)n);
        free(iv);
        break;
    }
    default:
        goto unsupported;
    }
    if (rc) goto oom;
    return 0;
unsupported:
    return attr_error(im, nd, TFC_UNIMPLEMENTED, "attr '%s' is of kind '%s', which tfc does "
                      "not support", name, found);
oom:
    return attr_error(im, nd, TFC_RESOURCE_EXHAUSTED, "out of memory converting attr '%s'",
                      name);
}

/* NodeDef nd's attr `name` when it is a type, else NULL. */
static const Tensorflow__AttrValue *type_attr(const Tensorflow__NodeDef *nd, const char *name) {
    for (size_t k = 0; k < nd->n_attr; k++) {
        const Tensorflow__AttrValue *v = nd->attr[k]->value;
        if (!strcmp(nd->attr[k]->key, name) && v &&
            v->value_case == TENSORFLOW__ATTR_VALUE__VALUE_TYPE)
            return v;
    }
    return NULL;
}

/* What the NodeDef's attrs say against each other and its inputs: a Const's
 * dtype is its value's dtype, and a type attr that types a data input
 * (TensorFlow's OpDef) is that input's dtype. `ins` NULL (before any node
 * is added) checks only the attrs. */
static int check_types(importer *im, const Tensorflow__NodeDef *nd, const char *op,
                       const tfc_output *ins, int ndata) {
    const Tensorflow__AttrValue *dtype = type_attr(nd, "dtype");
    for (size_t k = 0; dtype && !ins && k < nd->n_attr; k++) {
        const Tensorflow__AttrValue *v = nd->attr[k]->value;
        if (strcmp(nd->attr[k]->key, "value") || !v ||
            v->value_case != TENSORFLOW__ATTR_VALUE__VALUE_TENSOR || !v->tensor)
            continue;
        if (v->tensor->dtype != dtype->type)
            return attr_error(im, nd, TFC_INVALID_ARGUMENT,
                              "attr 'dtype' is %s, but attr 'value' holds %s",
                              tfc_dtype_name((tfc_dtype)dtype->type),
                              tfc_dtype_name((tfc_dtype)v->tensor->dtype));
    }
    for (int k = 0; ins && k < ndata; k++) {
        char buf[32];
        const char *tname = tfc_tf_input_type_attr(op, k, ndata, buf, sizeof buf);
        const Tensorflow__AttrValue *t = tname ? type_attr(nd, tname) : NULL;
        if (!t || !ins[k].node) continue;
        tfc_dtype have = tfc_output_dtype(ins[k]);
        if (have != (tfc_dtype)t->type)
            return attr_error(im, nd, TFC_INVALID_ARGUMENT,
                              "attr '%s' is %s, but input %d ('%s') is %s", tname,
                              tfc_dtype_name((tfc_dtype)t->type), k, nd->input[k],
                              tfc_dtype_name(have));
    }
    return 0;
}

/* The attrs of NodeDef nd as the node will get them; -1 with the status
 * set. */
static int convert_attrs(importer *im, const Tensorflow__NodeDef *nd, const char *op,
                         tfc_attrs *a) {
    for (size_t k = 0; k < nd->n_attr; k++)
        if (attr_value(im, nd, op, nd->attr[k], a)) return -1;
    return 0;
}

static void set_attrs(tfc_op_desc *d, const tfc_attrs *a) {
    for (int i = 0; i < a->n; i++) {
        const tfc_attr *at = &a->items[i];
        switch (at->kind) {
        case TFC_ATTR_INT: tfc_op_set_attr_int(d, at->name, at->v.i); break;
        case TFC_ATTR_BOOL: tfc_op_set_attr_bool(d, at->name, (int)at->v.i); break;
        case TFC_ATTR_TYPE: tfc_op_set_attr_type(d, at->name, (tfc_dtype)at->v.i); break;
        case TFC_ATTR_FLOAT: tfc_op_set_attr_float(d, at->name, at->v.f); break;
        case TFC_ATTR_STRING: tfc_op_set_attr_string(d, at->name, at->v.s); break;
        case TFC_ATTR_TENSOR: tfc_op_set_attr_tensor(d, at->name, at->v.t); break;
        case TFC_ATTR_SHAPE:
            tfc_op_set_attr_shape(d, at->name, at->v.shape.rank, at->v.shape.dims);
            break;
        case TFC_ATTR_INT_LIST:
            tfc_op_set_attr_int_list(d, at->name, at->v.list.i, at->v.list.n);
            break;
        case TFC_ATTR_FLOAT_LIST:
            tfc_op_set_attr_float_list(d, at->name, at->v.list.f, at->v.list.n);
            break;
        case TFC_ATTR_STRING_LIST:
            tfc_op_set_attr_string_list(d, at->name, (const char *const *)at->v.list.s,
                                        at->v.list.n);
            break;
        }
    }
}

/* Adds NodeDef i with its resolved inputs `ins` (data, then control inputs;
 * a null control input is a function argument and is left out). The
 * attrs are converted first, so a tensor that cannot be allocated fails
 * before the node is begun. */
static tfc_node *make_node(importer *im, int i, const tfc_output *ins) {
    const Tensorflow__NodeDef *nd = im->nodes[i];
    const char *fname, *op = node_op(im, nd, &fname);
    tfc_attrs attrs = {0};
    if (check_types(im, nd, op, ins, im->ndata[i]) || convert_attrs(im, nd, op, &attrs)) {
        tfc_attrs_free(&attrs);
        return NULL;
    }
    if (im->legacy_placeholder_shape && !strcmp(op, "Placeholder") &&
        tfc_attrs_shape(&attrs, "shape").rank == 0 && tfc_attrs_set_shape(&attrs, "shape", -1, NULL)) {
        tfc_attrs_free(&attrs);
        return NULL;
    }
    size_t plen = im->prefix && *im->prefix ? strlen(im->prefix) + 1 : 0;
    char *name = malloc(plen + strlen(nd->name) + 1);
    if (!name) {
        tfc_attrs_free(&attrs);
        return NULL;
    }
    if (plen) snprintf(name, plen + 1, "%s/", im->prefix);
    strcpy(name + plen, nd->name);
    tfc_op_desc *d = tfc_op_new(im->g, op, name);
    free(name);
    tfc_op_add_inputs(d, ins, im->ndata[i]);
    for (size_t k = (size_t)im->ndata[i]; k < nd->n_input; k++)
        if (ins[k].node) tfc_op_add_control_input(d, ins[k].node);
    if (*nd->device) tfc_op_set_device(d, nd->device);
    if (fname) tfc_op_set_attr_string(d, "f", lib_function(im, fname)->name);
    set_attrs(d, &attrs);
    tfc_attrs_free(&attrs);
    tfc_node *n = tfc_op_finish(d);
    if (!n)
        tfc_status_set(im->st, tfc_graph_error_code(im->g), "importing %s: %s", im->what,
                       tfc_graph_error(im->g));
    return n;
}

/* TF1 convention: variable "v" is initialized by "v/Assign"; that becomes
 * its initializer, and with `collections` it joins the global and
 * trainable variables, so initializers and Savers work. */
static void register_variables(importer *im, int collections) {
    for (size_t i = 0; i < im->nn; i++) {
        tfc_node *v = im->made[i];
        if (!v || !(v->op->flags & TFC_OP_VARIABLE)) continue;
        char *init_name = malloc(strlen(v->name) + 8);
        if (!init_name) continue;
        sprintf(init_name, "%s/Assign", v->name);
        tfc_node *a = tfc_graph_node_by_name(im->g, init_name);
        free(init_name);
        if (!a || strcmp(a->op->type, "Assign") || a->ninputs < 1 || a->inputs[0].node != v)
            continue;
        tfc_strmap_put(&im->g->initializers, v->name, a);
        if (!collections) continue;
        tfc_graph_add_to_collection(im->g, TFC_GLOBAL_VARIABLES, v);
        tfc_graph_add_to_collection(im->g, TFC_TRAINABLE_VARIABLES, v);
    }
}

/* A call of a function (If, While, PartitionedCall) passes as many inputs
 * as the function takes: checked before any node is added. */
static int check_arity(importer *im, const Tensorflow__NodeDef *nd, const char *op,
                       const char *fname) {
    static const char *const attrs[][3] = {{"If", "then_branch", "else_branch"},
                                           {"While", "cond", "body"},
                                           {"PartitionedCall", "f", NULL}};
    int first = !strcmp(op, "If");
    for (size_t i = 0; i < sizeof attrs / sizeof *attrs; i++) {
        if (strcmp(op, attrs[i][0])) continue;
        for (int a = 1; a < 3 && attrs[i][a]; a++) {
            const char *name = fname;
            for (size_t k = 0; k < nd->n_attr && !name; k++) {
                const Tensorflow__AttrValue *v = nd->attr[k]->value;
                if (!strcmp(nd->attr[k]->key, attrs[i][a]) && v &&
                    v->value_case == TENSORFLOW__ATTR_VALUE__VALUE_FUNC && v->func)
                    name = v->func->name;
            }
            const tfc_function *fn = name ? lib_function(im, name) : NULL;
            if (!fn) continue; /* the op's own check names what is missing */
            int ndata = 0;
            for (size_t k = 0; k < nd->n_input; k++) ndata += nd->input[k][0] != '^';
            if (ndata - first != fn->nparams) {
                tfc_status_set(im->st, TFC_INVALID_ARGUMENT,
                               "%s node '%s' (%s): function '%s' takes %d inputs, got %d", im->what,
                               nd->name, op, fn->name, fn->nparams, ndata - first);
                return -1;
            }
        }
    }
    return 0;
}

/* Checks everything that can be checked before adding nodes. */
static int check_graph(importer *im, const char *const *map_names, int nmap) {
    for (int i = 0; i < nmap; i++) {
        char name[512], key[540];
        int idx;
        if (!map_names[i] || split_input(map_names[i], name, sizeof name, &idx)) {
            tfc_status_set(im->st, TFC_INVALID_ARGUMENT, "bad input_map key '%s'",
                           map_names[i] ? map_names[i] : "(null)");
            return -1;
        }
        snprintf(key, sizeof key, "%s:%d", name, idx);
        if (!im->map_values[i].node) {
            tfc_status_set(im->st, TFC_INVALID_ARGUMENT, "input_map entry '%s' is null", key);
            return -1;
        }
        if (tfc_strmap_put(&im->map, key, (void *)(intptr_t)(i + 1))) goto oom;
    }
    for (size_t i = 0; i < im->nn; i++) {
        const Tensorflow__NodeDef *nd = im->nodes[i];
        const char *fname;
        if (!*nd->name) {
            tfc_status_set(im->st, TFC_INVALID_ARGUMENT, "%s node %zu has no name", im->what, i);
            return -1;
        }
        if (tfc_strmap_get(&im->by_name, nd->name) ||
            (im->fn && tfc_strmap_get(&im->args, nd->name))) {
            tfc_status_set(im->st, TFC_INVALID_ARGUMENT, "%s has two nodes named '%s'", im->what,
                           nd->name);
            return -1;
        }
        if (!node_op(im, nd, &fname)) {
            tfc_status_set(im->st, TFC_NOT_FOUND, "%s node '%s': unknown op '%s'", im->what,
                           nd->name, nd->op);
            return -1;
        }
        if (tfc_strmap_put(&im->by_name, nd->name, (void *)(intptr_t)(i + 1))) goto oom;
        int ndata = 0;
        for (size_t k = 0; k < nd->n_input; k++) {
            if (nd->input[k][0] == '^') continue;
            if ((size_t)ndata != k) {
                tfc_status_set(im->st, TFC_INVALID_ARGUMENT,
                               "%s node '%s': data input after a control input", im->what,
                               nd->name);
                return -1;
            }
            ndata++;
        }
        im->ndata[i] = ndata;
    }
    for (size_t i = 0; i < im->nn; i++) {
        const Tensorflow__NodeDef *nd = im->nodes[i];
        const char *fname, *op = node_op(im, nd, &fname);
        char who[560];
        snprintf(who, sizeof who, "node '%s'", nd->name);
        for (size_t k = 0; k < nd->n_input; k++) {
            tfc_output o;
            int ready;
            if (resolve(im, who, nd->input[k], k >= (size_t)im->ndata[i], &o, &ready)) return -1;
        }
        for (size_t k = 0; k < nd->n_attr; k++)
            if (attr_value(im, nd, op, nd->attr[k], NULL)) return -1;
        if (check_types(im, nd, op, NULL, 0) || check_arity(im, nd, op, fname)) return -1;
        char why[200];
        if (*nd->device && tfc_device_name_parse(nd->device, NULL, why, sizeof why)) {
            tfc_status_set(im->st, TFC_INVALID_ARGUMENT, "%s node '%s': malformed device '%s': %s",
                           im->what, nd->name, nd->device, why);
            return -1;
        }
    }
    return 0;
oom:
    tfc_status_set(im->st, TFC_INTERNAL, "out of memory importing a GraphDef");
    return -1;
}

/* Adds every NodeDef, each once its inputs are in (Kahn's order). */
static int add_nodes(importer *im) {
    size_t nn = im->nn, max_in = 1;
    for (size_t i = 0; i < nn; i++)
        if (im->nodes[i]->n_input > max_in) max_in = im->nodes[i]->n_input;
    tfc_output *ins = malloc(sizeof *ins * max_in);
    if (!ins) {
        tfc_status_set(im->st, TFC_INTERNAL, "out of memory importing a GraphDef");
        return -1;
    }
    size_t made = 0;
    int progress = 1, rc = -1;
    while (made < nn && progress) {
        progress = 0;
        for (size_t i = 0; i < nn; i++) {
            const Tensorflow__NodeDef *nd = im->nodes[i];
            if (im->made[i]) continue;
            int all = 1;
            char who[560];
            snprintf(who, sizeof who, "node '%s'", nd->name);
            for (size_t k = 0; k < nd->n_input && all; k++)
                if (resolve(im, who, nd->input[k], k >= (size_t)im->ndata[i], &ins[k], &all))
                    goto done;
            if (!all) continue;
            if (!(im->made[i] = make_node(im, (int)i, ins))) {
                if (tfc_status_code(im->st) == TFC_OK)
                    tfc_status_set(im->st, TFC_INTERNAL, "out of memory importing a GraphDef");
                goto done;
            }
            made++;
            progress = 1;
        }
    }
    if (made < nn) {
        for (size_t i = 0; i < nn; i++)
            if (!im->made[i]) {
                tfc_status_set(im->st, TFC_INVALID_ARGUMENT, "%s has a cycle through node '%s'",
                               im->what, im->nodes[i]->name);
                break;
            }
        goto done;
    }
    rc = 0;
done:
    free(ins);
    return rc;
}

static int importer_init(importer *im, Tensorflow__NodeDef *const *nodes, size_t nn) {
    im->nodes = nodes;
    im->nn = nn;
    im->made = calloc(nn + 1, sizeof *im->made);
    im->ndata = calloc(nn + 1, sizeof *im->ndata);
    if (im->made && im->ndata) return 0;
    tfc_status_set(im->st, TFC_INTERNAL, "out of memory importing a GraphDef");
    return -1;
}

static void importer_free(importer *im) {
    free(im->made);
    free(im->ndata);
    tfc_strmap_free(&im->by_name);
    tfc_strmap_free(&im->map);
    tfc_strmap_free(&im->args);
}

/* A signature argument tfc can make: one tensor of a concrete dtype. */
static int check_arg(importer *top, const char *what, const Tensorflow__OpDef__ArgDef *a,
                     const char *kind) {
    const char *poly = *a->type_attr        ? a->type_attr
                       : *a->number_attr    ? a->number_attr
                       : *a->type_list_attr ? a->type_list_attr
                                            : NULL;
    if (!*a->name) {
        tfc_status_set(top->st, TFC_INVALID_ARGUMENT, "%s: an %s has no name", what, kind);
        return -1;
    }
    if (poly || a->is_ref) {
        tfc_status_set(top->st, TFC_UNIMPLEMENTED,
                       "%s: %s '%s' is %s; tfc functions take single tensors of fixed dtypes", what,
                       kind, a->name,
                       a->is_ref ? "a reference" : "polymorphic (attr-typed or a list)");
        return -1;
    }
    if (!tfc_dtype_size((tfc_dtype)a->type)) {
        tfc_status_set(top->st, TFC_UNIMPLEMENTED, "%s: %s '%s' has dtype %d, which tfc lacks",
                       what, kind, a->name, (int)a->type);
        return -1;
    }
    return 0;
}

/* Argument i's shape from arg_attr "_output_shapes" (unknown when absent). */
static int arg_shape(const Tensorflow__FunctionDef *fd, size_t i, tfc_shape *s) {
    *s = (tfc_shape){-1, {0}};
    for (size_t k = 0; k < fd->n_arg_attr; k++) {
        const Tensorflow__FunctionDef__ArgAttrEntry *e = fd->arg_attr[k];
        if (e->key != i || !e->value) continue;
        for (size_t j = 0; j < e->value->n_attr; j++) {
            const Tensorflow__FunctionDef__ArgAttrs__AttrEntry *a = e->value->attr[j];
            if (strcmp(a->key, "_output_shapes")) continue;
            if (!a->value || a->value->value_case != TENSORFLOW__ATTR_VALUE__VALUE_LIST ||
                a->value->list->n_shape != 1)
                return -1;
            char why[120];
            return shape_from_msg(a->value->list->shape[0], s, why, sizeof why);
        }
    }
    return 0;
}

/* TF2's control outputs (control_ret: nodes that must run whenever the
 * function runs, its reads and updates) as control inputs of an Identity
 * per output: tfc runs a body for its outputs, so they then run too. */
static int control_outputs(importer *im, const Tensorflow__FunctionDef *fd, tfc_function *fn) {
    tfc_node **ctl = calloc(fd->n_control_ret + 1, sizeof *ctl);
    if (!ctl) {
        tfc_status_set(im->st, TFC_INTERNAL, "out of memory importing a GraphDef");
        return -1;
    }
    int rc = -1;
    for (size_t k = 0; k < fd->n_control_ret; k++) {
        intptr_t i = (intptr_t)tfc_strmap_get(&im->by_name, fd->control_ret[k]->value);
        if (!i || !im->made[i - 1]) {
            tfc_status_set(im->st, TFC_INVALID_ARGUMENT, "%s: control output '%s' names no node",
                           im->what, fd->control_ret[k]->value);
            goto done;
        }
        ctl[k] = im->made[i - 1];
    }
    for (int j = 0; j < fn->nout; j++) {
        tfc_op_desc *d = tfc_op_new(fn->graph, "Identity", NULL);
        tfc_op_add_input(d, fn->outs[j]);
        for (size_t k = 0; k < fd->n_control_ret; k++) tfc_op_add_control_input(d, ctl[k]);
        tfc_node *n = tfc_op_finish(d);
        if (!n) {
            tfc_status_set(im->st, tfc_graph_error_code(fn->graph), "%s: %s", im->what,
                           tfc_graph_error(fn->graph));
            goto done;
        }
        fn->outs[j] = tfc_out(n, 0);
    }
    rc = 0;
done:
    free(ctl);
    return rc;
}

/* FunctionDef k as a function of the receiving graph: placeholders for its
 * arguments, its body nodes (named as function bodies name them), its
 * outputs from `ret`. -1 with the status set. */
static int make_function(importer *top, lib_import *L, size_t k) {
    const Tensorflow__FunctionDef *fd = L->lib->function[k];
    const Tensorflow__OpDef *sig = fd->signature;
    char what[600];
    snprintf(what, sizeof what, "GraphDef function '%s'", sig->name);
    size_t na = sig->n_input_arg, no = sig->n_output_arg;
    const char **names = calloc(na + 1, sizeof *names);
    tfc_dtype *dts = calloc(na + 1, sizeof *dts);
    tfc_shape *shapes = calloc(na + 1, sizeof *shapes);
    const char **rets = calloc(no + 1, sizeof *rets);
    importer im = {0};
    int rc = -1;
    if (!names || !dts || !shapes || !rets) {
        tfc_status_set(top->st, TFC_INTERNAL, "out of memory importing a GraphDef");
        goto done;
    }
    im.st = top->st;
    im.budget = top->budget;
    im.what = what;
    im.lib = L;
    for (size_t i = 0; i < na; i++) {
        const Tensorflow__OpDef__ArgDef *a = sig->input_arg[i];
        if (check_arg(top, what, a, "argument")) goto done;
        if (tfc_strmap_get(&im.args, a->name)) {
            tfc_status_set(top->st, TFC_INVALID_ARGUMENT, "%s: two arguments named '%s'", what,
                           a->name);
            goto done;
        }
        if (tfc_strmap_put(&im.args, a->name, (void *)(intptr_t)(i + 1))) {
            tfc_status_set(top->st, TFC_INTERNAL, "out of memory importing a GraphDef");
            goto done;
        }
        if (arg_shape(fd, i, &shapes[i])) {
            tfc_status_set(top->st, TFC_INVALID_ARGUMENT,
                           "%s: malformed _output_shapes of argument '%s'", what, a->name);
            goto done;
        }
        names[i] = a->name;
        dts[i] = (tfc_dtype)a->type;
    }
    for (size_t j = 0; j < no; j++) {
        const Tensorflow__OpDef__ArgDef *a = sig->output_arg[j];
        if (check_arg(top, what, a, "output")) goto done;
        for (size_t r = 0; r < fd->n_ret && !rets[j]; r++)
            if (!strcmp(fd->ret[r]->key, a->name)) rets[j] = fd->ret[r]->value;
        if (!rets[j]) {
            tfc_status_set(top->st, TFC_INVALID_ARGUMENT, "%s: output '%s' has no ret value", what,
                           a->name);
            goto done;
        }
    }
    if ((fd->n_control_ret || sig->n_control_output) && !no) {
        tfc_status_set(top->st, TFC_UNIMPLEMENTED,
                       "%s: control outputs (control_ret) of a function without outputs are not "
                       "supported: tfc runs what a function's outputs need",
                       what);
        goto done;
    }
    tfc_function *fn =
        tfc_function_new_empty(top->g, sig->name, (int)na, names, dts, shapes, (int)no);
    if (!fn) {
        tfc_status_set(top->st, tfc_graph_error_code(top->g), "%s: %s", what,
                       tfc_graph_error(top->g));
        goto done;
    }
    L->made[k] = fn;
    if (fn->nargs != (int)na) {
        tfc_status_set(top->st, TFC_INVALID_ARGUMENT, "%s: %s", what,
                       tfc_graph_error(fn->graph) ? tfc_graph_error(fn->graph) : "out of memory");
        goto done;
    }
    im.g = fn->graph;
    im.fn = fn;
    if (importer_init(&im, fd->node_def, fd->n_node_def) || check_graph(&im, NULL, 0) ||
        add_nodes(&im))
        goto done;
    for (size_t j = 0; j < no; j++) {
        char who[560];
        int ready;
        tfc_output o;
        snprintf(who, sizeof who, "output '%s'", sig->output_arg[j]->name);
        if (resolve(&im, who, rets[j], 0, &o, &ready)) goto done;
        if (tfc_output_dtype(o) != (tfc_dtype)sig->output_arg[j]->type) {
            tfc_status_set(top->st, TFC_INVALID_ARGUMENT,
                           "%s: output '%s' ('%s') is %s, the "
                           "signature says %s",
                           what, sig->output_arg[j]->name, rets[j],
                           tfc_dtype_name(tfc_output_dtype(o)),
                           tfc_dtype_name((tfc_dtype)sig->output_arg[j]->type));
            goto done;
        }
        fn->outs[j] = o;
    }
    if (fd->n_control_ret && control_outputs(&im, fd, fn)) goto done;
    rc = 0;
done:
    importer_free(&im);
    free(names);
    free(dts);
    free(shapes);
    free(rets);
    return rc;
}

static intptr_t lib_index(const lib_import *L, const char *name) {
    return name && *name ? (intptr_t)tfc_strmap_get(&L->by_name, name) : 0;
}

/* Makes function k after the functions its body calls. */
static int visit_function(importer *top, lib_import *L, size_t k) {
    if (L->state[k] == 2) return 0;
    const Tensorflow__FunctionDef *fd = L->lib->function[k];
    if (L->state[k] == 1) {
        tfc_status_set(top->st, TFC_UNIMPLEMENTED,
                       "GraphDef function '%s' calls itself (recursion is not supported)",
                       fd->signature->name);
        return -1;
    }
    L->state[k] = 1;
    for (size_t i = 0; i < fd->n_node_def; i++) {
        const Tensorflow__NodeDef *nd = fd->node_def[i];
        intptr_t j = lib_index(L, nd->op);
        if (j && visit_function(top, L, (size_t)j - 1)) return -1;
        for (size_t a = 0; a < nd->n_attr; a++) {
            const Tensorflow__AttrValue *v = nd->attr[a]->value;
            if (!v || v->value_case != TENSORFLOW__ATTR_VALUE__VALUE_FUNC || !v->func) continue;
            j = lib_index(L, v->func->name);
            if (j && visit_function(top, L, (size_t)j - 1)) return -1;
        }
    }
    if (make_function(top, L, k)) return -1;
    L->state[k] = 2;
    return 0;
}

static int import_library(importer *top, lib_import *L, const Tensorflow__FunctionDefLibrary *lib) {
    size_t n = lib->n_function;
    L->lib = lib;
    L->made = calloc(n + 1, sizeof *L->made);
    L->state = calloc(n + 1, 1);
    if (!L->made || !L->state) {
        tfc_status_set(top->st, TFC_INTERNAL, "out of memory importing a GraphDef");
        return -1;
    }
    for (size_t k = 0; k < n; k++) {
        const Tensorflow__OpDef *sig = lib->function[k]->signature;
        if (!sig || !*sig->name) {
            tfc_status_set(top->st, TFC_INVALID_ARGUMENT,
                           "GraphDef function %zu of the library has no name", k);
            return -1;
        }
        if (tfc_strmap_get(&L->by_name, sig->name)) {
            tfc_status_set(top->st, TFC_INVALID_ARGUMENT,
                           "GraphDef library has two functions named '%s'", sig->name);
            return -1;
        }
        if (tfc_strmap_put(&L->by_name, sig->name, (void *)(intptr_t)(k + 1))) {
            tfc_status_set(top->st, TFC_INTERNAL, "out of memory importing a GraphDef");
            return -1;
        }
    }
    for (size_t k = 0; k < n; k++)
        if (visit_function(top, L, k)) return -1;
    return 0;
}

int tfc_import_options_check(const tfc_import_options *o, tfc_status *st) {
    if (o && (o->nkeep_outputs < 0 || (o->nkeep_outputs && !o->keep_outputs))) {
        tfc_status_set(st, TFC_INVALID_ARGUMENT,
                       "import options: nkeep_outputs %d must be >= 0, with keep_outputs when > 0",
                       o->nkeep_outputs);
        return -1;
    }
    if (o && (o->max_bytes < 0 || o->nmap < 0 || (o->nmap && (!o->map_names || !o->map_values)))) {
        tfc_status_set(st, TFC_INVALID_ARGUMENT,
                       "import options: max_bytes %lld and nmap %d must be >= 0, with map_names "
                       "and map_values when nmap > 0",
                       (long long)o->max_bytes, o->nmap);
        return -1;
    }
    return 0;
}

int tfc_graphdef_import(tfc_graph *g, const Tensorflow__GraphDef *gd,
                        const tfc_import_options *opts, int collections, tfc_status *st) {
    /* TF1's Switch/Merge/Enter/Exit/NextIteration: rewritten into If/While first */
    if (tfc_tf1_control_flow_present(gd))
        return tfc_tf1_control_flow_import(g, gd, opts, collections, st);
    if (tfc_graph_error(g)) {
        tfc_status_set(st, TFC_FAILED_PRECONDITION, "import_graphdef: graph has an error: %s",
                       tfc_graph_error(g));
        return -1;
    }
    if (tfc_import_options_check(opts, st)) return -1;
    static const tfc_import_options defaults = {0};
    if (!opts) opts = &defaults;
    int nlib0 = tfc_function_lib_size(g), rc = -1;
    lib_import L = {0};
    /* prune to the outputs asked for, then list every op tfc lacks at once */
    tfc_graphdef_view view;
    if (tfc_graphdef_prune(gd, opts->keep_outputs, opts->nkeep_outputs, opts->map_names,
                           opts->nmap, &view, st) ||
        tfc_graphdef_check_ops(&view.gd, st)) {
        tfc_graphdef_view_free(&view);
        return -1;
    }
    gd = &view.gd;
    import_budget budget = {opts->max_bytes ? opts->max_bytes : TFC_IMPORT_DEFAULT_MAX_BYTES, 0};
    importer im = {0};
    im.g = g;
    im.st = st;
    im.budget = &budget;
    im.prefix = opts->prefix;
    im.what = "GraphDef";
    im.map_values = opts->map_values;
    im.legacy_placeholder_shape = gd->versions && gd->versions->producer <= 21;
    if (importer_init(&im, gd->node, gd->n_node)) goto done;
    if (gd->library && gd->library->n_function) {
        im.lib = &L;
        if (import_library(&im, &L, gd->library)) goto done;
    }
    if (check_graph(&im, opts->map_names, opts->nmap) || add_nodes(&im)) goto done;
    register_variables(&im, collections);
    tfc_status_set(st, TFC_OK, "%s", "");
    rc = 0;
done:
    if (rc) {
        /* the functions go too unless a node added before the error names them */
        int any = 0;
        for (size_t i = 0; im.made && i < im.nn && !any; i++) any = im.made[i] != NULL;
        if (!any) tfc_function_lib_truncate(g, nlib0);
    }
    tfc_strmap_free(&L.by_name);
    free(L.made);
    free(L.state);
    importer_free(&im);
    tfc_graphdef_view_free(&view);
    return rc;
}

int tfc_graph_import_graphdef_v2(tfc_graph *g, const void *bytes, size_t len,
                                 const tfc_import_options *opts, tfc_status *st) {
    if (!g || (!bytes && len)) {
        tfc_status_set(st, TFC_INVALID_ARGUMENT, "import_graphdef: NULL graph or bytes");
        return -1;
    }
    Tensorflow__GraphDef *gd = tensorflow__graph_def__unpack(NULL, len, bytes);
    if (!gd) {
        tfc_status_set(st, TFC_INVALID_ARGUMENT, "malformed GraphDef: cannot parse %zu bytes",
                       len);
        return -1;
    }
    int rc = tfc_graphdef_import(g, gd, opts, 1, st);
    tensorflow__graph_def__free_unpacked(gd, NULL);
    return rc;
}

int tfc_graph_import_graphdef(tfc_graph *g, const void *bytes, size_t len, const char *prefix,
                              const char *const *map_names, const tfc_output *map_values,
                              int nmap, tfc_status *st) {
    tfc_import_options o = {0};
    o.prefix = prefix;
    o.map_names = map_names;
    o.map_values = map_values;
    o.nmap = nmap;
    return tfc_graph_import_graphdef_v2(g, bytes, len, &o, st);
}

int tfc_read_file(const char *path, uint8_t **bytes, size_t *len, tfc_status *st) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        tfc_status_set(st, TFC_NOT_FOUND, "cannot open '%s': %s", path, strerror(errno));
        return -1;
    }
    size_t cap = 1 << 16, n = 0;
    uint8_t *p = malloc(cap);
    while (p) {
        n += fread(p + n, 1, cap - n, f);
        if (n < cap) break;
        uint8_t *q = realloc(p, cap * 2);
        if (!q) {
            free(p);
            p = NULL;
            break;
        }
        p = q;
        cap *= 2;
    }
    int err = ferror(f);
    fclose(f);
    if (!p || err) {
        free(p);
        tfc_status_set(st, TFC_INTERNAL, "cannot read '%s'", path);
        return -1;
    }
    *bytes = p;
    *len = n;
    return 0;
}

int tfc_graph_import_graphdef_file_v2(tfc_graph *g, const char *path,
                                      const tfc_import_options *opts, tfc_status *st) {
    uint8_t *p;
    size_t n;
    if (!g || !path) {
        tfc_status_set(st, TFC_INVALID_ARGUMENT, "import_graphdef: NULL graph or path");
        return -1;
    }
    if (tfc_read_file(path, &p, &n, st)) return -1;
    int rc = tfc_graph_import_graphdef_v2(g, p, n, opts, st);
    free(p);
    return rc;
}

int tfc_graph_import_graphdef_file(tfc_graph *g, const char *path, const char *prefix,
                                   tfc_status *st) {
    tfc_import_options o = {0};
    o.prefix = prefix;
    return tfc_graph_import_graphdef_file_v2(g, path, &o, st);
}
