/* What tfc writes is valid TensorFlow: every op type tfc has, written into a
 * GraphDef, passes TensorFlow's own NodeDef rules against TensorFlow's
 * OpDefs (tests/data/tf_op_defs/ops.pbtxt, through the library's copy in
 * src/formats/tf_op_defs_data.c; formats/tf_graph_check.h says what is
 * checked: attrs present, declared, of their kind, allowed values and
 * minimums, defaults, input counts and dtypes, refs, output counts).
 *
 * Each op is written twice over: once as a node built generically from its
 * OpDef (inputs are placeholders or variables of an allowed dtype, and only
 * the attrs TensorFlow cannot derive from them are set, so the writer must
 * add T, N and type lists itself), and within graphs built through the
 * public API as a user builds them (training with every optimizer,
 * convolutions, control flow, queues and readers, strings, summaries).
 * Every registered op must be checked at least once, or be listed below
 * with the reason. The library's copy of the OpDefs is checked against the
 * text, and src/formats/tf_op_defs.c (the attr kinds GraphDef import
 * checks) against the OpDefs. */
#include "core/strmap.h"
#include "formats/tf_graph_check.h"
#include "formats/tf_op_defs.h"
#include "formats/tf_op_defs_data.h"
#include "graph/op_registry.h"
#include "harness.h"

#include <stdlib.h>

/* Ops TensorFlow does not have, with the reason. */
static const char *const tfc_only_ops[] = {
    /* tfc's loop gradient, a loop in C over the stacked iterations
     * (docs/ARCHITECTURE.md, control flow); TensorFlow builds the gradient
     * of a loop from its TF1 frame ops or a second While */
    "WhileGrad",
    /* the distributed runtime's collectives (src/distributed/): Horovod's
     * ops, registered by Horovod's library rather than TensorFlow's, under
     * Horovod's names, and tfc's own variants of them */
    "HorovodAllreduce",
    "HorovodGroupedAllreduce",
    "HorovodBroadcast",
    "TfcOrderedAllreduce",
    "TfcGroupedBroadcast",
    /* a plan's fusion of a weight's gradient product into its update
     * (src/ops/training_fused.c); never in a graph */
    "_MatMulApplyGradientDescent",
    /* a plan's fusion of a max pooling's gradient into its ReluGrad
     * (src/ops/pool.c); never in a graph */
    "_MaxPoolGradReluGrad",
    /* a plan's fusions of a bias (and a relu) into a product or a
     * convolution (src/ops/bias_fused.c); never in a graph */
    "_MatMulBiasAdd",
    "_MatMulBiasAddRelu",
    "_Conv2DBiasAdd",
    "_Conv2DBiasAddRelu",
    NULL,
};

typedef struct report {
    tfc_strmap seen; /* op types written and checked */
    int problems;
    const char *context;
} report;

static void on_problem(void *user, const char *msg) {
    report *r = user;
    r->problems++;
    tfc_test_failures++;
    fprintf(stderr, "[%s] %s: %s\n", tfc_test_current, r->context, msg);
}

static void on_seen(void *user, const char *op) {
    report *r = user;
    tfc_strmap_put(&r->seen, op, (void *)1);
}

static report the_report;

/* Writes g as a GraphDef and checks it against TensorFlow's OpDefs. */
static void check_graph(tfc_graph *g, const char *context) {
    uint8_t *bytes;
    size_t len;
    tfc_status *st = tfc_status_new();
    CHECK_MSG(tfc_graph_to_graphdef(g, &bytes, &len, st) == 0, "%s: %s", context,
              tfc_status_message(st));
    if (tfc_status_code(st) == TFC_OK) {
        the_report.context = context;
        tfc_tf_check c = {on_problem, on_seen, &the_report, tfc_only_ops};
        CHECK(tfc_tf_check_graph_def(bytes, len, &c) >= 0);
        free(bytes);
    }
    tfc_status_free(st);
}

/* ---- the data: the library's copy against the text ---- */

static char *read_text(const char *rel, size_t *len) {
    const char *dir = getenv("TFC_TEST_DATA");
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir ? dir : "tests/data", rel);
    FILE *f = fopen(path, "rb");
    CHECK_MSG(f != NULL, "cannot open %s", path);
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *p = malloc((size_t)n + 1);
    if (p && fread(p, 1, (size_t)n, f) != (size_t)n) n = 0;
    fclose(f);
    if (p) p[n] = 0;
    *len = (size_t)n;
    return p;
}

/* Walks ops.pbtxt's top-level op blocks: per op its name and how many
 * input_arg, output_arg and attr blocks it has, against the library's
 * OpDefs; and the same set of ops, in the same order. */
static void test_data_matches_text(void) {
    size_t len;
    char *text = read_text("tf_op_defs/ops.pbtxt", &len);
    if (!text) return;
    int nops = 0, depth = 0, counts[3] = {0, 0, 0};
    char name[128] = "";
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        while (*line == ' ') line++;
        size_t l = strlen(line);
        if (depth == 1 && !strncmp(line, "name: \"", 7))
            snprintf(name, sizeof name, "%.*s", (int)(l - 8), line + 7);
        if (depth == 1) {
            counts[0] += !strcmp(line, "input_arg {");
            counts[1] += !strcmp(line, "output_arg {");
            counts[2] += !strcmp(line, "attr {");
        }
        if (l && line[l - 1] == '{') depth++;
        if (!strcmp(line, "}") && --depth == 0) {
            int lib[3];
            const char *kept = tfc_tf_op_def_name(nops);
            CHECK_MSG(kept && !strcmp(kept, name), "op %d: text has %s, library %s", nops, name,
                      kept ? kept : "(none)");
            CHECK_MSG(tfc_tf_op_def_counts(name, lib) == 0 && lib[0] == counts[0] &&
                          lib[1] == counts[1] && lib[2] == counts[2],
                      "%s: the library's OpDef differs from the text", name);
            nops++;
            counts[0] = counts[1] = counts[2] = 0;
        }
    }
    CHECK_MSG(nops == tfc_tf_op_defs_count, "text %d ops, library %d", nops,
              tfc_tf_op_defs_count);
    CHECK(nops > 300);
    free(text);
}

/* The hand-made table GraphDef import checks kinds with agrees with the
 * OpDefs wherever it says something. */
static void test_import_table_agrees(void) {
    for (int i = 0; i < tfc_tf_op_defs_count; i++) {
        const char *op = tfc_tf_op_defs_data[i].name;
        const Tensorflow__OpDef *od = tfc_tf_op_def(op);
        CHECK(od != NULL);
        if (!od) continue;
        for (size_t k = 0; k < od->n_attr; k++) {
            tfc_tf_attr_kind kind = tfc_tf_attr_kind_of(op, od->attr[k]->name);
            CHECK_MSG(kind == TFC_TF_ATTR_UNDECLARED ||
                          !strcmp(tfc_tf_attr_kind_name(kind), od->attr[k]->type),
                      "%s.%s: the import table says %s, TensorFlow %s", op, od->attr[k]->name,
                      tfc_tf_attr_kind_name(kind), od->attr[k]->type);
        }
        /* the type attr of each input, for ops without lists of inputs */
        int lists = 0;
        for (size_t k = 0; k < od->n_input_arg; k++)
            lists |= *od->input_arg[k]->number_attr || *od->input_arg[k]->type_list_attr;
        for (size_t k = 0; !lists && k < od->n_input_arg; k++) {
            char buf[64];
            const char *t =
                tfc_tf_input_type_attr(op, (int)k, (int)od->n_input_arg, buf, sizeof buf);
            const char *want = od->input_arg[k]->type_attr;
            CHECK_MSG(!t || !strcmp(t, want), "%s input %zu: the import table says %s, "
                      "TensorFlow '%s'", op, k, t, want);
        }
    }
}

/* ---- every op, built from its OpDef ---- */

static int tfc_has(int dt) {
    return dt == TFC_FLOAT || dt == TFC_DOUBLE || dt == TFC_INT32 || dt == TFC_INT64 ||
           dt == TFC_BOOL || dt == TFC_UINT8 || dt == TFC_STRING || dt == TFC_QINT8 ||
           dt == TFC_QUINT8 || dt == TFC_QINT32;
}

/* The dtype to use for type attr d: float when allowed, else the first
 * allowed dtype tfc has; 0 when none. */
static int pick_type(const Tensorflow__OpDef__AttrDef *d) {
    const Tensorflow__AttrValue *a = d->allowed_values;
    if (!a || a->value_case != TENSORFLOW__ATTR_VALUE__VALUE_LIST || !a->list->n_type)
        return d->default_value && tfc_has((int)d->default_value->type)
                   ? (int)d->default_value->type
                   : TFC_FLOAT;
    for (size_t k = 0; k < a->list->n_type; k++)
        if ((int)a->list->type[k] == TFC_FLOAT) return TFC_FLOAT;
    if (d->default_value && tfc_has((int)d->default_value->type)) return (int)d->default_value->type;
    for (size_t k = 0; k < a->list->n_type; k++)
        if (tfc_has((int)a->list->type[k])) return (int)a->list->type[k];
    return 0;
}

static const Tensorflow__OpDef__AttrDef *attr_def(const Tensorflow__OpDef *od, const char *name) {
    for (size_t k = 0; k < od->n_attr; k++)
        if (!strcmp(od->attr[k]->name, name)) return od->attr[k];
    return NULL;
}

/* Is attr `name` derived from the inputs (a type attr, number or type list
 * of an input arg)? */
static int from_inputs(const Tensorflow__OpDef *od, const char *name) {
    for (size_t k = 0; k < od->n_input_arg; k++) {
        const Tensorflow__OpDef__ArgDef *a = od->input_arg[k];
        if (!strcmp(a->type_attr, name) || !strcmp(a->number_attr, name) ||
            !strcmp(a->type_list_attr, name))
            return 1;
    }
    return 0;
}

static int type_allowed(const Tensorflow__OpDef__AttrDef *d, int dt) {
    const Tensorflow__AttrValue *a = d->allowed_values;
    if (!a || a->value_case != TENSORFLOW__ATTR_VALUE__VALUE_LIST || !a->list->n_type) return 1;
    for (size_t k = 0; k < a->list->n_type; k++)
        if ((int)a->list->type[k] == dt) return 1;
    return 0;
}

/* A resource handle for input `arg` of op `op`: a queue's for queue ops, a
 * reader's for reader ops, else a resource variable's; a variant is a
 * mutex lock's. */
static tfc_output handle_for(tfc_graph *g, const char *op, const char *arg, int dt,
                             int variant) {
    tfc_op_desc *d;
    char name[80];
    snprintf(name, sizeof name, "%s_handle", arg);
    if (variant) {
        d = tfc_op_new(g, "MutexLock", name);
        tfc_op_add_input(d, tfc_out(tfc_op_finish(tfc_op_new(g, "MutexV2", "mutex")), 0));
    } else if (!strncmp(op, "Queue", 5)) {
        d = tfc_op_new(g, "FIFOQueueV2", name);
        int64_t types[] = {dt ? dt : TFC_FLOAT};
        tfc_op_set_attr_int_list(d, "component_types", types, 1);
    } else if (!strncmp(op, "Reader", 6)) {
        d = tfc_op_new(g, "WholeFileReaderV2", name);
    } else {
        d = tfc_op_new(g, "VarHandleOp", name);
        int64_t dims[] = {2, 2};
        tfc_op_set_attr_type(d, "dtype", dt ? (tfc_dtype)dt : TFC_FLOAT);
        tfc_op_set_attr_shape(d, "shape", 2, dims);
    }
    tfc_node *n = tfc_op_finish(d);
    return (tfc_output){n, 0};
}

/* Builds one node of op `od` in a fresh graph and checks it; 1 when it was
 * built, 0 (with why) when tfc refused the generic node. `prefer` is the
 * dtype tried for type attrs first, `scalar` makes ref inputs scalars. */
static int generic_node_with(const Tensorflow__OpDef *od, int prefer, int scalar, char *why,
                             size_t cap) {
    tfc_graph *g = tfc_graph_new();
    int types[64], ntypes = (int)od->n_attr < 64 ? (int)od->n_attr : 64;
    for (int k = 0; k < ntypes; k++)
        types[k] = strcmp(od->attr[k]->type, "type")        ? 0
                   : type_allowed(od->attr[k], prefer)      ? prefer
                                                            : pick_type(od->attr[k]);
    tfc_output in[64];
    int nin = 0, ok = 1;
    for (size_t k = 0; ok && k < od->n_input_arg; k++) {
        const Tensorflow__OpDef__ArgDef *a = od->input_arg[k];
        int dt = (int)a->type, count = 1;
        if (*a->type_attr)
            for (int j = 0; j < ntypes; j++)
                if (!strcmp(od->attr[j]->name, a->type_attr)) dt = types[j];
        if (*a->type_list_attr) dt = TFC_FLOAT;
        const Tensorflow__OpDef__AttrDef *n =
            *a->number_attr ? attr_def(od, a->number_attr) : NULL;
        if (n && n->has_minimum && n->minimum > 1) count = (int)n->minimum;
        if (dt == TFC_RESOURCE || dt == 21 /* DT_VARIANT */) {
            int vdt = 0; /* the dtype the op's "dtype" or "T" attr will hold */
            for (int j = 0; j < ntypes; j++)
                if (types[j] && !vdt) vdt = types[j];
            in[nin++] = handle_for(g, od->name, a->name, vdt, dt != TFC_RESOURCE);
            continue;
        }
        if (!tfc_has(dt)) {
            snprintf(why, cap, "input '%s' has dtype %d", a->name, dt);
            ok = 0;
            break;
        }
        for (int j = 0; j < count && nin < 64; j++) {
            char name[64];
            snprintf(name, sizeof name, "%s_%d", a->name, j);
            if (a->is_ref) {
                int64_t dims[] = {2, 2};
                in[nin++] = tfc_variable(g, name, tfc_zeros(g, (tfc_dtype)dt, scalar ? 0 : 2, dims));
            } else {
                in[nin++] = tfc_placeholder(g, name, (tfc_dtype)dt, -1, NULL);
            }
        }
    }
    if (ok) {
        tfc_op_desc *d = tfc_op_new(g, od->name, "node");
        tfc_op_add_inputs(d, in, nin);
        for (size_t k = 0; k < od->n_attr; k++) {
            const Tensorflow__OpDef__AttrDef *a = od->attr[k];
            if (a->default_value || from_inputs(od, a->name)) continue;
            const char *t = a->type;
            int64_t min = a->has_minimum ? a->minimum : 0, ones[] = {1, 1, 1, 1};
            if (!strcmp(t, "type")) tfc_op_set_attr_type(d, a->name, (tfc_dtype)types[k]);
            else if (!strcmp(t, "int")) tfc_op_set_attr_int(d, a->name, min > 1 ? min : 1);
            else if (!strcmp(t, "float")) tfc_op_set_attr_float(d, a->name, 0.5);
            else if (!strcmp(t, "bool")) tfc_op_set_attr_bool(d, a->name, 0);
            else if (!strcmp(t, "string")) tfc_op_set_attr_string(d, a->name, "VALID");
            else if (!strcmp(t, "shape")) tfc_op_set_attr_shape(d, a->name, -1, NULL);
            else if (!strcmp(t, "list(int)")) tfc_op_set_attr_int_list(d, a->name, ones, 4);
            else if (!strcmp(t, "list(shape)")) tfc_op_set_attr_int_list(d, a->name, ones, 0);
            else if (!strcmp(t, "list(type)")) {
                int64_t f[] = {TFC_FLOAT, TFC_FLOAT};
                tfc_op_set_attr_int_list(d, a->name, f, min > 1 ? 2 : 1);
            } else if (!strcmp(t, "tensor")) {
                tfc_tensor *v = tfc_tensor_scalar_float(1.0f);
                tfc_op_set_attr_tensor(d, a->name, v);
                tfc_tensor_free(v);
            } else {
                snprintf(why, cap, "attr '%s' of kind %s", a->name, t);
                ok = 0;
            }
        }
        tfc_node *n = ok ? tfc_op_finish(d) : (tfc_op_finish(d), NULL);
        if (ok && !n) {
            snprintf(why, cap, "%s", tfc_graph_error(g) ? tfc_graph_error(g) : "?");
            ok = 0;
        }
    }
    if (ok) check_graph(g, od->name);
    tfc_graph_free(g);
    return ok;
}

static int generic_node(const Tensorflow__OpDef *od, char *why, size_t cap) {
    static const int prefer[] = {TFC_FLOAT, TFC_INT32, TFC_INT64, TFC_DOUBLE, TFC_STRING};
    for (size_t k = 0; k < sizeof prefer / sizeof *prefer; k++)
        for (int scalar = 0; scalar < 2; scalar++)
            if (generic_node_with(od, prefer[k], scalar, why, cap)) return 1;
    return 0;
}

typedef struct op_list {
    const char *names[1024];
    int n;
} op_list;

static void collect(const tfc_op_def *def, void *user) {
    op_list *l = user;
    if (l->n < 1024) l->names[l->n++] = def->type;
}

static int listed(const char *const *list, const char *op) {
    for (; *list; list++)
        if (!strcmp(*list, op)) return 1;
    return 0;
}

static op_list not_generic; /* ops left to the graphs built through the API */

static void test_every_op_generic(void) {
    op_list all = {{0}, 0};
    tfc_op_registry_each(collect, &all);
    CHECK(all.n > 150);
    for (int i = 0; i < all.n; i++) {
        const char *op = all.names[i];
        const Tensorflow__OpDef *od = tfc_tf_op_def(op);
        if (listed(tfc_only_ops, op)) {
            CHECK_MSG(!od, "%s is listed as tfc-only but TensorFlow has it", op);
            continue;
        }
        CHECK_MSG(od != NULL, "op %s has no TensorFlow OpDef: add it to "
                  "tests/data/tf_op_defs/ops_kept.txt (or to tfc_only_ops, saying why)", op);
        if (!od) continue;
        char why[400] = "";
        if (!generic_node(od, why, sizeof why)) {
            not_generic.names[not_generic.n++] = op;
            if (getenv("TFC_TEST_VERBOSE")) fprintf(stderr, "not generic: %s: %s\n", op, why);
        }
    }
}

/* ---- graphs built through the public API ---- */

/* A dense softmax classifier and an embedding, trained by `opt` (dense and
 * sparse Apply ops, the gradients' ops), with summaries. */
static void train_graph(tfc_optimizer *(*make)(tfc_output step), const char *name) {
    tfc_graph *g = tfc_graph_new();
    int64_t xd[] = {-1, 4}, wd[] = {4, 3}, ed[] = {10, 4}, idd[] = {-1};
    tfc_output step = tfc_train_get_or_create_global_step(g);
    tfc_output x = tfc_placeholder(g, "x", TFC_FLOAT, 2, xd);
    tfc_output ids = tfc_placeholder(g, "ids", TFC_INT32, 1, idd);
    tfc_output labels = tfc_placeholder(g, "labels", TFC_FLOAT, 2, (int64_t[]){-1, 3});
    tfc_output emb = tfc_variable(g, "emb", tfc_random_normal(g, TFC_FLOAT, 2, ed, 0, 1, 1));
    tfc_output w = tfc_variable(g, "w", tfc_random_normal(g, TFC_FLOAT, 2, wd, 0, 1, 2));
    tfc_output h = tfc_add(g, x, tfc_embedding_lookup(g, emb, ids));
    tfc_output logits = tfc_matmul(g, tfc_relu(g, h), w);
    tfc_output loss = tfc_reduce_mean(
        g, tfc_softmax_cross_entropy_with_logits(g, labels, logits), NULL, 0, 0);
    tfc_scalar_summary(g, "loss", loss);
    tfc_histogram_summary(g, "w", w);
    tfc_merge_all_summaries(g);
    tfc_optimizer *opt = make(step);
    tfc_optimizer_minimize(opt, g, loss, NULL, 0, step);
    tfc_optimizer_free(opt);
    tfc_global_variables_initializer(g);
    CHECK_GRAPH_OK(g);
    check_graph(g, name);
    tfc_graph_free(g);
}

static tfc_optimizer *sgd(tfc_output s) { (void)s; return tfc_gradient_descent_optimizer(0.1); }
static tfc_optimizer *momentum(tfc_output s) { (void)s; return tfc_momentum_optimizer(0.1, 0.9, 1); }
static tfc_optimizer *adagrad(tfc_output s) { (void)s; return tfc_adagrad_optimizer(TFC_ADAGRAD_DEFAULTS(0.1)); }
static tfc_optimizer *adagrad_da(tfc_output s) { return tfc_adagrad_da_optimizer(TFC_ADAGRAD_DA_DEFAULTS(0.1, s)); }
static tfc_optimizer *adadelta(tfc_output s) { (void)s; return tfc_adadelta_optimizer(TFC_ADADELTA_DEFAULTS); }
static tfc_optimizer *adam(tfc_output s) { (void)s; return tfc_adam_optimizer(TFC_ADAM_DEFAULTS); }
static tfc_optimizer *ftrl(tfc_output s) { (void)s; return tfc_ftrl_optimizer(TFC_FTRL_DEFAULTS(0.1)); }
static tfc_optimizer *rmsprop(tfc_output s) { (void)s; return tfc_rmsprop_optimizer(0.1, 0.9, 0.5, 1e-10, 0); }
static tfc_optimizer *rmsprop_c(tfc_output s) { (void)s; return tfc_rmsprop_optimizer(0.1, 0.9, 0.5, 1e-10, 1); }

static void test_training_graphs(void) {
    train_graph(sgd, "GradientDescent");
    train_graph(momentum, "Momentum");
    train_graph(adagrad, "Adagrad");
    train_graph(adagrad_da, "AdagradDA");
    train_graph(adadelta, "Adadelta");
    train_graph(adam, "Adam");
    train_graph(ftrl, "Ftrl");
    train_graph(rmsprop, "RMSProp");
    train_graph(rmsprop_c, "CenteredRMSProp");
}

static int double_it(tfc_graph *b, const tfc_output *args, int n, void *u, tfc_output *outs) {
    (void)n;
    outs[0] = tfc_mul(b, args[0], *(tfc_output *)u);
    return 0;
}
/* a branch: no args; x and two are captured */
static int scale(tfc_graph *b, const tfc_output *args, int n, void *u, tfc_output *outs) {
    (void)args, (void)n;
    const tfc_output *xt = u;
    outs[0] = tfc_mul(b, xt[0], xt[1]);
    return 0;
}
static int halve(tfc_graph *b, const tfc_output *args, int n, void *u, tfc_output *outs) {
    (void)args, (void)n, (void)u;
    outs[0] = tfc_const_float(b, 0.5f);
    return 0;
}
static int below_ten(tfc_graph *b, const tfc_output *args, int n, void *u, tfc_output *outs) {
    (void)n, (void)u;
    outs[0] = tfc_less(b, tfc_reduce_sum(b, args[0], NULL, 0, 0), tfc_const_float(b, 10.0f));
    return 0;
}

/* cond, while_loop and a function call, and their gradients (which bring
 * tfc's WhileGrad). */
static void test_control_flow_graphs(void) {
    tfc_graph *g = tfc_graph_new();
    tfc_output x = tfc_placeholder(g, "x", TFC_FLOAT, 1, (int64_t[]){2});
    tfc_output p = tfc_placeholder(g, "p", TFC_BOOL, 0, NULL);
    tfc_output two = tfc_const_float(g, 2.0f), c, w, f = {NULL, 0};
    tfc_output xt[] = {x, two};
    CHECK(tfc_cond(g, p, scale, halve, xt, 1, &c) == 0);
    CHECK(tfc_while_loop(g, below_ten, double_it, &two, &x, 1, NULL, 10, &w) == 0);
    tfc_dtype dt = TFC_FLOAT;
    tfc_function *fn = tfc_function_define(g, "twice", 1, &dt, NULL, 1, double_it, &two);
    CHECK(fn && tfc_function_call(g, fn, &x, 1, &f) == 0);
    tfc_output y = tfc_add(g, tfc_add(g, tfc_mul(g, c, x), w), f), dx;
    y = tfc_reduce_sum(g, y, NULL, 0, 0);
    CHECK(tfc_gradients(g, &y, 1, &x, 1, NULL, &dx) == 0);
    CHECK_GRAPH_OK(g);
    check_graph(g, "control flow");
    tfc_graph_free(g);
}

/* Queues, readers and tf.train.Example parsing as an input pipeline has
 * them. */
static void test_input_graphs(void) {
    tfc_graph *g = tfc_graph_new();
    tfc_dtype types[] = {TFC_FLOAT, TFC_STRING};
    tfc_shape shapes[] = {{1, {3}}, {0, {0}}}, padded[] = {{1, {-1}}, {0, {0}}};
    tfc_output q = tfc_fifo_queue(g, 10, types, 2, shapes, NULL);
    tfc_output pq = tfc_padding_fifo_queue(g, 10, types, 2, padded, NULL);
    tfc_output out[2], rec[2], recs[2];
    tfc_queue_dequeue_many(g, q, 2, out, 2);
    tfc_queue_dequeue_up_to(g, pq, 2, out, 2);
    tfc_dtype st = TFC_STRING;
    tfc_output files = tfc_fifo_queue(g, 10, &st, 1, NULL, NULL);
    tfc_output reader = tfc_text_line_reader(g, 0);
    tfc_reader_read(g, reader, files, rec);
    tfc_reader_read_up_to(g, reader, files, 4, recs);
    tfc_parse_feature feats[] = {
        {"age", TFC_INT64, 0, 0, NULL, tfc_const_int64(g, 0)},
        {"words", TFC_STRING, 1, 0, NULL, {NULL, 0}},
    };
    tfc_output parsed[4];
    CHECK(tfc_parse_example(g, recs[1], feats, 2, parsed) == 0);
    /* ParseSingleExample: its keys are list(string) attrs */
    CHECK(tfc_parse_single_example(g, rec[1], feats, 2, parsed) == 0);
    /* a critical section: ConsumeMutexLock takes a variant, which only
     * MutexLock makes */
    tfc_consume_mutex_lock(g, tfc_mutex_lock(g, tfc_mutex(g, "m", NULL)));
    /* a conditional accumulator (TF1: its handle is a Ref(string), which
     * the generic node cannot feed) and its four ops */
    int64_t adims[] = {3};
    tfc_output acc = tfc_conditional_accumulator(g, TFC_FLOAT, 1, adims, "w:0/grad_accum",
                                                 TFC_ACCUMULATOR_MEAN);
    tfc_accumulator_apply_gradient(g, acc, tfc_const_int64(g, 0), tfc_zeros(g, TFC_FLOAT, 1, adims));
    tfc_accumulator_take_gradient(g, acc, tfc_const_int32(g, 2));
    tfc_accumulator_num_accumulated(g, acc);
    tfc_accumulator_set_global_step(g, acc, tfc_const_int64(g, 1));
    CHECK_GRAPH_OK(g);
    check_graph(g, "input pipeline");
    tfc_graph_free(g);
}

/* Every op tfc has was written and checked above, or is tfc's own. */
static void test_every_op_covered(void) {
    op_list all = {{0}, 0};
    tfc_op_registry_each(collect, &all);
    for (int i = 0; i < all.n; i++)
        CHECK_MSG(tfc_strmap_get(&the_report.seen, all.names[i]) || listed(tfc_only_ops, all.names[i]),
                  "op %s was never written: build it in a test above", all.names[i]);
    /* the control-flow graph's gradient wrote tfc's own op */
    CHECK(tfc_strmap_get(&the_report.seen, "WhileGrad") != NULL);
    tfc_strmap_free(&the_report.seen);
}

TFC_TEST_MAIN(T(test_data_matches_text), T(test_import_table_agrees), T(test_every_op_generic),
              T(test_training_graphs), T(test_control_flow_graphs), T(test_input_graphs),
              T(test_every_op_covered))
