/* The OpDef check of tf_graph_check.h: TensorFlow's own rules for a
 * NodeDef (ValidateNodeDef, the arguments' dtypes at import), applied to
 * the bytes tfc wrote, so nothing of tfc's own graph is trusted. */
#include "formats/tf_graph_check.h"
#include "formats/attr_value_kind.h"
#include "core/strmap.h"
#include "formats/tf_op_defs_data.h"
#include "meta_graph.pb-c.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { MAX_ARGS = 256 };

typedef struct scope {
    const tfc_tf_check *c;
    tfc_strmap nodes;                    /* name -> NodeDef */
    const Tensorflow__OpDef *sig;        /* a function's signature; NULL: the graph */
    const Tensorflow__FunctionDefLibrary *lib;
    char where[160];                     /* "" or "function 'f': " */
    int problems;
} scope;

static void problem(scope *s, const char *fmt, ...) {
    char msg[600];
    va_list ap;
    va_start(ap, fmt);
    int k = snprintf(msg, sizeof msg, "%s", s->where);
    vsnprintf(msg + k, sizeof msg - (size_t)k, fmt, ap);
    va_end(ap);
    s->problems++;
    if (s->c->problem) s->c->problem(s->c->user, msg);
}

static int tfc_only(const scope *s, const char *op) {
    for (const char *const *p = s->c->tfc_only_ops; p && *p; p++)
        if (!strcmp(*p, op)) return 1;
    return 0;
}

static int is_function(const scope *s, const char *op) {
    for (size_t k = 0; s->lib && k < s->lib->n_function; k++) {
        const Tensorflow__FunctionDef *f = s->lib->function[k];
        if (f->signature && f->signature->name && !strcmp(f->signature->name, op)) return 1;
    }
    return 0;
}

static const Tensorflow__AttrValue *node_attr(const Tensorflow__NodeDef *nd, const char *name) {
    for (size_t k = 0; k < nd->n_attr; k++)
        if (!strcmp(nd->attr[k]->key, name)) return nd->attr[k]->value;
    return NULL;
}

/* The node's value of attr `name`, else the OpDef's default. */
static const Tensorflow__AttrValue *attr_or_default(const Tensorflow__NodeDef *nd,
                                                    const Tensorflow__OpDef *od,
                                                    const char *name) {
    const Tensorflow__AttrValue *v = node_attr(nd, name);
    for (size_t k = 0; !v && k < od->n_attr; k++)
        if (!strcmp(od->attr[k]->name, name)) v = od->attr[k]->default_value;
    return v;
}

/* One side's arguments expanded for node nd: dt[i] the dtype of tensor i
 * (0 when unknown), ref[i] whether it is a ref, arg[i] its argument.
 * Returns the count, or -1 when a count attr is missing. */
static int expand(const Tensorflow__NodeDef *nd, const Tensorflow__OpDef *od, int outputs,
                  int *dt, int *ref, int *arg) {
    Tensorflow__OpDef__ArgDef *const *args = outputs ? od->output_arg : od->input_arg;
    size_t nargs = outputs ? od->n_output_arg : od->n_input_arg;
    int n = 0;
    for (size_t k = 0; k < nargs; k++) {
        const Tensorflow__OpDef__ArgDef *a = args[k];
        int len = 1;
        const Tensorflow__AttrValue *list = NULL;
        if (*a->number_attr) {
            const Tensorflow__AttrValue *v = attr_or_default(nd, od, a->number_attr);
            if (!v || v->value_case != TENSORFLOW__ATTR_VALUE__VALUE_I) return -1;
            len = (int)v->i;
        } else if (*a->type_list_attr) {
            list = attr_or_default(nd, od, a->type_list_attr);
            if (!list || list->value_case != TENSORFLOW__ATTR_VALUE__VALUE_LIST) return -1;
            len = (int)list->list->n_type;
        }
        int t = (int)a->type;
        if (*a->type_attr) {
            const Tensorflow__AttrValue *v = attr_or_default(nd, od, a->type_attr);
            t = v && v->value_case == TENSORFLOW__ATTR_VALUE__VALUE_TYPE ? (int)v->type : 0;
        }
        if (len < 0 || n + len > MAX_ARGS) return -1;
        for (int j = 0; j < len; j++, n++) {
            dt[n] = list ? (int)list->list->type[j] : t;
            ref[n] = a->is_ref;
            arg[n] = (int)k;
        }
    }
    return n;
}

static size_t list_len(const Tensorflow__AttrValue *v) {
    const Tensorflow__AttrValue__ListValue *l = v->list;
    return l->n_s + l->n_i + l->n_f + l->n_b + l->n_type + l->n_shape + l->n_tensor + l->n_func;
}

static int type_allowed(const Tensorflow__AttrValue *allowed, int t) {
    if (!allowed || allowed->value_case != TENSORFLOW__ATTR_VALUE__VALUE_LIST ||
        !allowed->list->n_type)
        return 1;
    for (size_t k = 0; k < allowed->list->n_type; k++)
        if ((int)allowed->list->type[k] == t) return 1;
    return 0;
}

static void check_attr(scope *s, const Tensorflow__NodeDef *nd,
                       const Tensorflow__OpDef__AttrDef *d, const Tensorflow__AttrValue *v) {
    const char *kind = tfc_attr_value_kind(v), *want = d->type;
    int fits = !strcmp(kind, want) ||
               (!strcmp(kind, "list") && !strncmp(want, "list(", 5));
    if (!fits) {
        problem(s, "node '%s' (%s): attr '%s' is of kind '%s', TensorFlow declares '%s'",
                nd->name, nd->op, d->name, kind, want);
        return;
    }
    if (!strcmp(want, "type") && !type_allowed(d->allowed_values, (int)v->type))
        problem(s, "node '%s' (%s): attr '%s' is dtype %d, not one TensorFlow allows", nd->name,
                nd->op, d->name, (int)v->type);
    if (!strcmp(want, "list(type)"))
        for (size_t k = 0; k < v->list->n_type; k++)
            if (!type_allowed(d->allowed_values, (int)v->list->type[k]))
                problem(s, "node '%s' (%s): attr '%s' lists dtype %d, not one TensorFlow allows",
                        nd->name, nd->op, d->name, (int)v->list->type[k]);
    if (!strcmp(want, "string") && d->allowed_values &&
        d->allowed_values->value_case == TENSORFLOW__ATTR_VALUE__VALUE_LIST &&
        d->allowed_values->list->n_s) {
        int ok = 0;
        for (size_t k = 0; k < d->allowed_values->list->n_s; k++) {
            const ProtobufCBinaryData *a = &d->allowed_values->list->s[k];
            ok |= a->len == v->s.len && (!a->len || !memcmp(a->data, v->s.data, a->len));
        }
        if (!ok)
            problem(s, "node '%s' (%s): attr '%s' is \"%.*s\", not one TensorFlow allows",
                    nd->name, nd->op, d->name, (int)v->s.len, (const char *)v->s.data);
    }
    if (d->has_minimum) {
        int64_t got = !strcmp(want, "int") ? v->i
                      : v->value_case == TENSORFLOW__ATTR_VALUE__VALUE_LIST ? (int64_t)list_len(v)
                                                                            : d->minimum;
        if (got < d->minimum)
            problem(s, "node '%s' (%s): attr '%s' is %lld%s, below TensorFlow's minimum %lld",
                    nd->name, nd->op, d->name, (long long)got,
                    !strcmp(want, "int") ? "" : " entries long", (long long)d->minimum);
    }
}

/* The dtype and refness of input `in` ("x", "x:1"; in a function "arg" or
 * "node:out_arg:i"). 0: found; 1: unknown (a tfc-only producer, a call);
 * -1: names nothing. */
static int producer(scope *s, const char *in, int *dt, int *ref) {
    char name[512];
    const char *colon = strchr(in, ':');
    size_t len = colon ? (size_t)(colon - in) : strlen(in);
    if (len >= sizeof name) return -1;
    memcpy(name, in, len);
    name[len] = 0;
    if (s->sig && !colon) {
        for (size_t k = 0; k < s->sig->n_input_arg; k++)
            if (!strcmp(s->sig->input_arg[k]->name, name)) {
                *dt = (int)s->sig->input_arg[k]->type;
                *ref = 0;
                return *dt ? 0 : 1;
            }
        return -1;
    }
    const Tensorflow__NodeDef *p = tfc_strmap_get(&s->nodes, name);
    if (!p) return -1;
    const Tensorflow__OpDef *od = tfc_tf_op_def(p->op);
    if (!od) return 1;
    int dts[MAX_ARGS], refs[MAX_ARGS], args[MAX_ARGS];
    int n = expand(p, od, 1, dts, refs, args);
    if (n < 0) return 1;
    long idx = 0;
    if (s->sig) { /* node:out_arg:i */
        const char *arg = colon + 1, *c2 = strchr(arg, ':');
        size_t alen = c2 ? (size_t)(c2 - arg) : strlen(arg);
        idx = c2 ? strtol(c2 + 1, NULL, 10) : 0;
        int a = -1;
        for (size_t k = 0; k < od->n_output_arg; k++)
            if (strlen(od->output_arg[k]->name) == alen &&
                !strncmp(od->output_arg[k]->name, arg, alen))
                a = (int)k;
        if (a < 0) return -1;
        int first = 0;
        while (first < n && args[first] != a) first++;
        idx += first;
        if (idx >= n || args[idx] != a) return -1;
    } else {
        idx = colon ? strtol(colon + 1, NULL, 10) : 0;
        if (idx < 0 || idx >= n) return -1;
    }
    *dt = dts[idx];
    *ref = refs[idx];
    return *dt ? 0 : 1;
}

static void check_node(scope *s, const Tensorflow__NodeDef *nd) {
    if (s->c->op_seen) s->c->op_seen(s->c->user, nd->op);
    if (tfc_only(s, nd->op) || is_function(s, nd->op)) return;
    const Tensorflow__OpDef *od = tfc_tf_op_def(nd->op);
    if (!od) {
        problem(s, "node '%s': op '%s' has no TensorFlow OpDef", nd->name, nd->op);
        return;
    }
    for (size_t k = 0; k < nd->n_attr; k++) {
        const char *key = nd->attr[k]->key;
        if (key[0] == '_') continue;
        const Tensorflow__OpDef__AttrDef *d = NULL;
        for (size_t j = 0; j < od->n_attr && !d; j++)
            if (!strcmp(od->attr[j]->name, key)) d = od->attr[j];
        if (!d) problem(s, "node '%s' (%s): attr '%s' is not in TensorFlow's OpDef", nd->name,
                        nd->op, key);
        else if (nd->attr[k]->value) check_attr(s, nd, d, nd->attr[k]->value);
    }
    for (size_t j = 0; j < od->n_attr; j++)
        if (!node_attr(nd, od->attr[j]->name) && !od->attr[j]->default_value)
            problem(s, "node '%s' (%s): lacks attr '%s' (%s), which TensorFlow requires", nd->name,
                    nd->op, od->attr[j]->name, od->attr[j]->type);
    int dt[MAX_ARGS], ref[MAX_ARGS], arg[MAX_ARGS];
    int nin = expand(nd, od, 0, dt, ref, arg), ndata = 0;
    for (size_t k = 0; k < nd->n_input; k++) {
        if (nd->input[k][0] == '^') continue;
        if ((size_t)ndata != k)
            problem(s, "node '%s' (%s): data input '%s' after a control input", nd->name, nd->op,
                    nd->input[k]);
        ndata++;
    }
    if (nin >= 0 && nin != ndata)
        problem(s, "node '%s' (%s): has %d data inputs, TensorFlow's OpDef takes %d", nd->name,
                nd->op, ndata, nin);
    for (int i = 0; nin >= 0 && i < nin && i < ndata; i++) {
        int pdt, pref, rc = producer(s, nd->input[i], &pdt, &pref);
        const char *aname = od->input_arg[arg[i]]->name;
        if (rc < 0)
            problem(s, "node '%s' (%s): input %d '%s' names no tensor", nd->name, nd->op, i,
                    nd->input[i]);
        else if (rc == 0 && dt[i] && pdt != dt[i])
            problem(s, "node '%s' (%s): input %d (arg '%s') is dtype %d, the OpDef says %d",
                    nd->name, nd->op, i, aname, pdt, dt[i]);
        else if (rc == 0 && ref[i] && !pref)
            problem(s, "node '%s' (%s): input %d (arg '%s') must be a ref (a variable)",
                    nd->name, nd->op, i, aname);
    }
    const Tensorflow__AttrValue *shapes = node_attr(nd, "_output_shapes");
    int nout = expand(nd, od, 1, dt, ref, arg);
    if (nout >= 0 && shapes && shapes->value_case == TENSORFLOW__ATTR_VALUE__VALUE_LIST &&
        list_len(shapes) != (size_t)nout)
        problem(s, "node '%s' (%s): _output_shapes has %zu shapes for %d outputs", nd->name,
                nd->op, list_len(shapes), nout);
}

static int check_nodes(scope *s, Tensorflow__NodeDef *const *nodes, size_t n) {
    for (size_t k = 0; k < n; k++)
        if (tfc_strmap_put(&s->nodes, nodes[k]->name, nodes[k])) return -1;
    for (size_t k = 0; k < n; k++) check_node(s, nodes[k]);
    return 0;
}

static int check_graph(const Tensorflow__GraphDef *gd, const tfc_tf_check *c) {
    scope top = {c, {0}, NULL, gd->library, "", 0};
    int rc = check_nodes(&top, gd->node, gd->n_node);
    tfc_strmap_free(&top.nodes);
    int problems = top.problems;
    for (size_t f = 0; rc == 0 && gd->library && f < gd->library->n_function; f++) {
        const Tensorflow__FunctionDef *fd = gd->library->function[f];
        scope s = {c, {0}, fd->signature, gd->library, "", 0};
        snprintf(s.where, sizeof s.where, "function '%s': ",
                 fd->signature ? fd->signature->name : "?");
        if (!fd->signature) problem(&s, "no signature");
        else rc = check_nodes(&s, fd->node_def, fd->n_node_def);
        tfc_strmap_free(&s.nodes);
        problems += s.problems;
    }
    return rc ? -1 : problems;
}

int tfc_tf_check_graph_def(const void *bytes, size_t len, const tfc_tf_check *c) {
    Tensorflow__GraphDef *gd = tensorflow__graph_def__unpack(NULL, len, bytes);
    if (!gd) return -1;
    int rc = check_graph(gd, c);
    tensorflow__graph_def__free_unpacked(gd, NULL);
    return rc;
}

/* "name:0" or "name" names node `name` of gd (and output 0 exists). */
static int names_node(const Tensorflow__GraphDef *gd, const char *t, int tensor) {
    const char *colon = strchr(t, ':');
    size_t len = colon ? (size_t)(colon - t) : strlen(t);
    if (tensor && !colon) return 0;
    if (!tensor && colon) return 0;
    for (size_t k = 0; k < gd->n_node; k++)
        if (strlen(gd->node[k]->name) == len && !strncmp(gd->node[k]->name, t, len)) return 1;
    return 0;
}

static int check_meta(const Tensorflow__MetaGraphDef *m, const tfc_tf_check *c) {
    scope s = {c, {0}, NULL, NULL, "MetaGraph: ", 0};
    if (!m->graph_def) {
        problem(&s, "no graph_def");
        return s.problems;
    }
    int rc = check_graph(m->graph_def, c);
    if (rc < 0) return -1;
    const Tensorflow__GraphDef *gd = m->graph_def;
    const Tensorflow__SaverDef *sd = m->saver_def;
    if (sd) {
        if (!names_node(gd, sd->filename_tensor_name, 1))
            problem(&s, "saver_def.filename_tensor_name '%s' names no tensor",
                    sd->filename_tensor_name);
        if (!names_node(gd, sd->save_tensor_name, 1))
            problem(&s, "saver_def.save_tensor_name '%s' names no tensor", sd->save_tensor_name);
        if (!names_node(gd, sd->restore_op_name, 0))
            problem(&s, "saver_def.restore_op_name '%s' names no op", sd->restore_op_name);
    }
    for (size_t i = 0; i < m->n_collection_def; i++) {
        const char *key = m->collection_def[i]->key;
        const Tensorflow__CollectionDef *cd = m->collection_def[i]->value;
        if (!cd) continue;
        int vars = !strcmp(key, "variables") || !strcmp(key, "trainable_variables") ||
                   !strcmp(key, "local_variables") || !strcmp(key, "model_variables");
        if (vars && cd->kind_case != TENSORFLOW__COLLECTION_DEF__KIND_BYTES_LIST)
            problem(&s, "collection '%s' is not a bytes_list of VariableDefs", key);
        if (cd->kind_case == TENSORFLOW__COLLECTION_DEF__KIND_NODE_LIST)
            for (size_t k = 0; k < cd->node_list->n_value; k++) {
                const char *v = cd->node_list->value[k];
                if (!names_node(gd, v + (v[0] == '^'), strchr(v, ':') != NULL))
                    problem(&s, "collection '%s' names '%s', which is not in the graph", key, v);
            }
        if (!vars || cd->kind_case != TENSORFLOW__COLLECTION_DEF__KIND_BYTES_LIST) continue;
        for (size_t k = 0; k < cd->bytes_list->n_value; k++) {
            const ProtobufCBinaryData *b = &cd->bytes_list->value[k];
            Tensorflow__VariableDef *vd = tensorflow__variable_def__unpack(NULL, b->len, b->data);
            if (!vd) {
                problem(&s, "collection '%s' entry %zu is not a VariableDef", key, k);
                continue;
            }
            if (!names_node(gd, vd->variable_name, 1))
                problem(&s, "VariableDef variable_name '%s' names no tensor", vd->variable_name);
            if (!names_node(gd, vd->initializer_name, 0))
                problem(&s, "VariableDef '%s': initializer_name '%s' names no op",
                        vd->variable_name, vd->initializer_name);
            if (!names_node(gd, vd->snapshot_name, 1))
                problem(&s, "VariableDef '%s': snapshot_name '%s' names no tensor",
                        vd->variable_name, vd->snapshot_name);
            if (*vd->initial_value_name && !names_node(gd, vd->initial_value_name, 1))
                problem(&s, "VariableDef '%s': initial_value_name '%s' names no tensor",
                        vd->variable_name, vd->initial_value_name);
            tensorflow__variable_def__free_unpacked(vd, NULL);
        }
    }
    /* stripped_op_list: every op used, each equal to TensorFlow's */
    const Tensorflow__OpList *ol = m->meta_info_def ? m->meta_info_def->stripped_op_list : NULL;
    if (!m->meta_info_def) problem(&s, "no meta_info_def");
    else if (!ol) problem(&s, "meta_info_def has no stripped_op_list");
    for (size_t k = 0; ol && k < gd->n_node; k++) {
        const char *op = gd->node[k]->op;
        const tfc_tf_op_def_bytes *want = tfc_tf_op_def_bytes_of(op);
        if (!want) continue;
        const Tensorflow__OpDef *found = NULL;
        for (size_t j = 0; j < ol->n_op && !found; j++)
            if (!strcmp(ol->op[j]->name, op)) found = ol->op[j];
        if (!found) {
            problem(&s, "stripped_op_list lacks op '%s'", op);
            continue;
        }
        size_t n = protobuf_c_message_get_packed_size(&found->base);
        uint8_t *p = malloc(n + 1);
        if (!p) return -1;
        protobuf_c_message_pack(&found->base, p);
        if (n != want->len || memcmp(p, want->bytes, n))
            problem(&s, "stripped_op_list's OpDef of '%s' is not TensorFlow's", op);
        free(p);
    }
    return rc + s.problems;
}

int tfc_tf_check_meta_graph(const void *bytes, size_t len, const tfc_tf_check *c) {
    Tensorflow__MetaGraphDef *m = tensorflow__meta_graph_def__unpack(NULL, len, bytes);
    if (!m) return -1;
    int rc = check_meta(m, c);
    tensorflow__meta_graph_def__free_unpacked(m, NULL);
    return rc;
}

int tfc_tf_op_def_counts(const char *op, int counts[3]) {
    const Tensorflow__OpDef *od = tfc_tf_op_def(op);
    if (!od) return -1;
    counts[0] = (int)od->n_input_arg;
    counts[1] = (int)od->n_output_arg;
    counts[2] = (int)od->n_attr;
    return 0;
}

const char *tfc_tf_op_def_name(int i) {
    return i >= 0 && i < tfc_tf_op_defs_count ? tfc_tf_op_defs_data[i].name : NULL;
}
