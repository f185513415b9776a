/* SavedModel (tf.saved_model), both ways, in TensorFlow's layout:
 *
 *   DIR/saved_model.pb      a SavedModel message: MetaGraphDefs, each with
 *                           its tag set (meta_info_def.tags) and signatures
 *   DIR/variables/          checkpoint variables.{index,data-00000-of-00001}
 *   DIR/assets/             files the graph names by asset tensors
 *
 * Loading picks the MetaGraphDef whose tag set equals the one asked for,
 * imports only what its signatures, its init op and its variables need
 * (graphdef_prune.c: the Saver's own subgraph, SaveV2/MergeV2Checkpoints,
 * is never imported), restores the variables and runs the init op with
 * the asset tensors fed their paths. Variables are restored by tfc's own
 * reader, from the checkpoint keys the file's restore op names: the
 * restore subgraph (TF1: Assign(var, RestoreV2:k); TF2: a function whose
 * AssignVariableOps write its handle arguments) is read, not run, so it
 * needs no op of it; without one, keys are the variables' names (what
 * tfc writes). */
#include "core/status.h"
#include "core/strmap.h"
#include "formats/graphdef.h"
#include "formats/graphdef_prune.h"
#include "formats/meta_graph.h"
#include "formats/pb.h"
#include "formats/proto.h"
#include "formats/tensor_bundle.h"
#include "graph/graph.h"
#include "ops/resource_variable.h"
#include "runtime/runtime.h"
#include "saved_model.pb-c.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct tfc_saved_model {
    char *dir;
    Tensorflow__SavedModel *sm;
    int mg;           /* the meta graph the signature accessors describe */
    tfc_graph *graph; /* when loaded */
    tfc_session *session;
    int borrowed; /* the session is the caller's (tfc_saved_model_load_into) */
    /* per signature of the loaded meta graph: why it was not imported */
    size_t nsig;
    char **sig_errors;
    char *sig_error_flags;
};

/* ---- reading ---- */

static int is_dir(const char *p) {
    struct stat sb;
    return stat(p, &sb) == 0 && S_ISDIR(sb.st_mode);
}

static int exists(const char *p) {
    struct stat sb;
    return stat(p, &sb) == 0;
}

static char *join(const char *a, const char *b) {
    size_t n = strlen(a) + strlen(b) + 2;
    char *p = malloc(n);
    if (p) snprintf(p, n, "%s/%s", a, b);
    return p;
}

tfc_saved_model *tfc_saved_model_read(const char *dir, tfc_status *st) {
    if (!dir) {
        tfc_status_set(st, TFC_INVALID_ARGUMENT, "SavedModel: NULL directory");
        return NULL;
    }
    if (!is_dir(dir)) {
        tfc_status_set(st, TFC_NOT_FOUND, "SavedModel directory '%s' does not exist", dir);
        return NULL;
    }
    char *path = join(dir, "saved_model.pb");
    tfc_saved_model *m = calloc(1, sizeof *m);
    uint8_t *bytes = NULL;
    size_t len = 0;
    if (!path || !m || !(m->dir = strdup(dir))) {
        tfc_status_set(st, TFC_INTERNAL, "out of memory reading a SavedModel");
        goto fail;
    }
    if (!exists(path)) {
        char *txt = join(dir, "saved_model.pbtxt");
        int has_txt = txt && exists(txt);
        free(txt);
        tfc_status_set(st, has_txt ? TFC_UNIMPLEMENTED : TFC_NOT_FOUND,
                       has_txt ? "SavedModel '%s' is in text format (saved_model.pbtxt); tfc "
                                 "reads saved_model.pb"
                               : "'%s' is not a SavedModel: it has no saved_model.pb",
                       dir);
        goto fail;
    }
    if (tfc_read_file(path, &bytes, &len, st)) goto fail;
    m->sm = tensorflow__saved_model__unpack(NULL, len, bytes);
    free(bytes);
    if (!m->sm) {
        tfc_status_set(st, TFC_INVALID_ARGUMENT,
                       "'%s' is not a valid SavedModel (malformed protobuf, %zu bytes)", path,
                       len);
        goto fail;
    }
    if (!m->sm->n_meta_graphs) {
        tfc_status_set(st, TFC_INVALID_ARGUMENT, "'%s' holds no MetaGraphDef", path);
        goto fail;
    }
    free(path);
    tfc_status_set(st, TFC_OK, "%s", "");
    return m;
fail:
    free(path);
    tfc_saved_model_free(m);
    return NULL;
}

void tfc_saved_model_free(tfc_saved_model *m) {
    if (!m) return;
    if (!m->borrowed) tfc_session_free(m->session);
    if (m->sm) tensorflow__saved_model__free_unpacked(m->sm, NULL);
    for (size_t i = 0; m->sig_errors && i < m->nsig; i++) free(m->sig_errors[i]);
    free(m->sig_errors);
    free(m->sig_error_flags);
    free(m->dir);
    free(m);
}

int tfc_saved_model_num_meta_graphs(const tfc_saved_model *m) {
    return m ? (int)m->sm->n_meta_graphs : 0;
}

static const Tensorflow__MetaInfoDef *info_of(const tfc_saved_model *m, int mg) {
    if (!m || mg < 0 || (size_t)mg >= m->sm->n_meta_graphs) return NULL;
    return m->sm->meta_graphs[mg]->meta_info_def;
}

int tfc_saved_model_num_tags(const tfc_saved_model *m, int mg) {
    const Tensorflow__MetaInfoDef *i = info_of(m, mg);
    return i ? (int)i->n_tags : 0;
}

const char *tfc_saved_model_tag(const tfc_saved_model *m, int mg, int i) {
    const Tensorflow__MetaInfoDef *in = info_of(m, mg);
    return in && i >= 0 && (size_t)i < in->n_tags ? in->tags[i] : NULL;
}

int tfc_saved_model_select(tfc_saved_model *m, int mg) {
    if (!m || mg < 0 || (size_t)mg >= m->sm->n_meta_graphs || m->session) return -1;
    m->mg = mg;
    return 0;
}

static int same_tag_set(const Tensorflow__MetaInfoDef *in, const char *const *tags, int ntags) {
    size_t have = in ? in->n_tags : 0;
    for (int i = 0; i < ntags; i++) {
        int found = 0;
        for (size_t k = 0; k < have && !found; k++) found = !strcmp(in->tags[k], tags[i]);
        if (!found) return 0;
    }
    for (size_t k = 0; k < have; k++) {
        int found = 0;
        for (int i = 0; i < ntags && !found; i++) found = !strcmp(in->tags[k], tags[i]);
        if (!found) return 0;
    }
    return 1;
}

int tfc_saved_model_find_meta_graph(const tfc_saved_model *m, const char *const *tags,
                                    int ntags) {
    for (int mg = 0; m && mg < (int)m->sm->n_meta_graphs; mg++)
        if (same_tag_set(info_of(m, mg), tags, ntags)) return mg;
    return -1;
}

/* ---- signatures ---- */

static const Tensorflow__MetaGraphDef *cur(const tfc_saved_model *m) {
    return m ? m->sm->meta_graphs[m->mg] : NULL;
}

static const Tensorflow__SignatureDef *sig_of(const tfc_saved_model *m, int s) {
    const Tensorflow__MetaGraphDef *g = cur(m);
    if (!g || s < 0 || (size_t)s >= g->n_signature_def) return NULL;
    return g->signature_def[s]->value;
}

int tfc_saved_model_num_signatures(const tfc_saved_model *m) {
    const Tensorflow__MetaGraphDef *g = cur(m);
    return g ? (int)g->n_signature_def : 0;
}

const char *tfc_saved_model_signature_name(const tfc_saved_model *m, int s) {
    const Tensorflow__MetaGraphDef *g = cur(m);
    return g && s >= 0 && (size_t)s < g->n_signature_def ? g->signature_def[s]->key : NULL;
}

const char *tfc_saved_model_signature_method(const tfc_saved_model *m, int s) {
    const Tensorflow__SignatureDef *d = sig_of(m, s);
    return d ? d->method_name : NULL;
}

int tfc_saved_model_signature_find(const tfc_saved_model *m, const char *name) {
    for (int s = 0; name && s < tfc_saved_model_num_signatures(m); s++)
        if (!strcmp(tfc_saved_model_signature_name(m, s), name)) return s;
    return -1;
}

int tfc_saved_model_signature_num_inputs(const tfc_saved_model *m, int s) {
    const Tensorflow__SignatureDef *d = sig_of(m, s);
    return d ? (int)d->n_inputs : 0;
}

int tfc_saved_model_signature_num_outputs(const tfc_saved_model *m, int s) {
    const Tensorflow__SignatureDef *d = sig_of(m, s);
    return d ? (int)d->n_outputs : 0;
}

static const char *info_name(const Tensorflow__TensorInfo *t) {
    return t && t->encoding_case == TENSORFLOW__TENSOR_INFO__ENCODING_NAME ? t->name : "";
}

static tfc_tensor_info tensor_info(const tfc_saved_model *m, const char *key,
                                   const Tensorflow__TensorInfo *t) {
    tfc_tensor_info r;
    memset(&r, 0, sizeof r);
    r.key = key;
    r.name = info_name(t);
    r.dtype = t ? (tfc_dtype)t->dtype : TFC_INVALID_DTYPE;
    r.shape.rank = -1;
    const Tensorflow__TensorShapeProto *sp = t ? t->tensor_shape : NULL;
    if (sp && !sp->unknown_rank && sp->n_dim <= TFC_MAX_RANK) {
        r.shape.rank = (int)sp->n_dim;
        for (size_t i = 0; i < sp->n_dim; i++) r.shape.dims[i] = sp->dim[i]->size;
    }
    tfc_status *st = tfc_status_new();
    if (m->graph && *r.name && st) tfc_graph_output_by_name(m->graph, r.name, &r.output, st);
    tfc_status_free(st);
    return r;
}

tfc_tensor_info tfc_saved_model_signature_input(const tfc_saved_model *m, int s, int i) {
    const Tensorflow__SignatureDef *d = sig_of(m, s);
    if (!d || i < 0 || (size_t)i >= d->n_inputs) return tensor_info(m, NULL, NULL);
    return tensor_info(m, d->inputs[i]->key, d->inputs[i]->value);
}

tfc_tensor_info tfc_saved_model_signature_output(const tfc_saved_model *m, int s, int i) {
    const Tensorflow__SignatureDef *d = sig_of(m, s);
    if (!d || i < 0 || (size_t)i >= d->n_outputs) return tensor_info(m, NULL, NULL);
    return tensor_info(m, d->outputs[i]->key, d->outputs[i]->value);
}

tfc_session *tfc_saved_model_session(const tfc_saved_model *m) { return m ? m->session : NULL; }

/* ---- loading ---- */

/* A growable list of strings (owned). */
typedef struct strs {
    int n, cap;
    char **v;
} strs;

static int strs_add(strs *l, const char *s) {
    if (l->n == l->cap) {
        int cap = l->cap ? l->cap * 2 : 16;
        char **v = realloc(l->v, sizeof *v * (size_t)cap);
        if (!v) return -1;
        l->v = v;
        l->cap = cap;
    }
    if (!(l->v[l->n] = strdup(s))) return -1;
    l->n++;
    return 0;
}

static void strs_free(strs *l) {
    for (int i = 0; i < l->n; i++) free(l->v[i]);
    free(l->v);
}

/* The init op TensorFlow's loader runs after the restore: the
 * "__saved_model_init_op" signature's output (TF2), else the collection
 * "saved_model_main_op" or "legacy_init_op" (TF1). NULL when none. */
static const char *init_op_name(const Tensorflow__MetaGraphDef *mg) {
    for (size_t i = 0; i < mg->n_signature_def; i++) {
        const Tensorflow__SignatureDef *d = mg->signature_def[i]->value;
        if (!strcmp(mg->signature_def[i]->key, "__saved_model_init_op") && d && d->n_outputs)
            return info_name(d->outputs[0]->value);
    }
    static const char *const keys[] = {"saved_model_main_op", "legacy_init_op"};
    for (int k = 0; k < 2; k++)
        for (size_t i = 0; i < mg->n_collection_def; i++) {
            const Tensorflow__CollectionDef *cd = mg->collection_def[i]->value;
            if (!strcmp(mg->collection_def[i]->key, keys[k]) && cd &&
                cd->kind_case == TENSORFLOW__COLLECTION_DEF__KIND_NODE_LIST &&
                cd->node_list->n_value)
                return cd->node_list->value[0];
        }
    return NULL;
}

static int is_var_op(const char *op) {
    return !strcmp(op, "VariableV2") || !strcmp(op, "Variable") || !strcmp(op, "VarHandleOp");
}

/* What the import keeps: the tensors of every signature not excluded
 * (skip[i] set), the init op, the variables. */
static int keep_list(const Tensorflow__MetaGraphDef *mg, const char *skip, strs *keep) {
    for (size_t i = 0; i < mg->n_signature_def; i++) {
        const Tensorflow__SignatureDef *d = mg->signature_def[i]->value;
        if (skip && skip[i]) continue;
        for (size_t k = 0; d && k < d->n_inputs; k++)
            if (*info_name(d->inputs[k]->value) && strs_add(keep, info_name(d->inputs[k]->value)))
                return -1;
        for (size_t k = 0; d && k < d->n_outputs; k++)
            if (*info_name(d->outputs[k]->value) &&
                strs_add(keep, info_name(d->outputs[k]->value)))
                return -1;
    }
    const char *init = init_op_name(mg);
    if (init && *init && strs_add(keep, init)) return -1;
    for (size_t i = 0; i < mg->graph_def->n_node; i++)
        if (is_var_op(mg->graph_def->node[i]->op) && strs_add(keep, mg->graph_def->node[i]->name))
            return -1;
    return 0;
}

/* ---- the restore subgraph, read ---- */

/* The nodes of one scope: the GraphDef or one function body. */
typedef struct scope {
    Tensorflow__NodeDef *const *nodes;
    size_t n;
    const Tensorflow__FunctionDef *fn; /* NULL: the GraphDef */
} scope;

static const Tensorflow__NodeDef *scope_node(const scope *sc, const char *input) {
    char name[512];
    const char *s = input[0] == '^' ? input + 1 : input;
    size_t n = strcspn(s, ":");
    if (n >= sizeof name) return NULL;
    memcpy(name, s, n);
    name[n] = 0;
    for (size_t i = 0; i < sc->n; i++)
        if (!strcmp(sc->nodes[i]->name, name)) return sc->nodes[i];
    return NULL;
}

/* The output index of an input: "n:2" (GraphDef), "n:out:2" (body). */
static int input_index(const char *input) {
    const char *c = strrchr(input, ':');
    return c ? atoi(c + 1) : 0;
}

static const Tensorflow__AttrValue *attr(const Tensorflow__NodeDef *nd, const char *name) {
    for (size_t i = 0; i < nd->n_attr; i++)
        if (!strcmp(nd->attr[i]->key, name)) return nd->attr[i]->value;
    return NULL;
}

/* Element k of the string Const an input names, or NULL. */
static const char *const_string(const scope *sc, const char *input, int k, size_t *len) {
    const Tensorflow__NodeDef *c = scope_node(sc, input);
    const Tensorflow__AttrValue *v = c && !strcmp(c->op, "Const") ? attr(c, "value") : NULL;
    if (!v || v->value_case != TENSORFLOW__ATTR_VALUE__VALUE_TENSOR || !v->tensor) return NULL;
    const Tensorflow__TensorProto *t = v->tensor;
    if (k < 0) return NULL;
    if ((size_t)k < t->n_string_val) {
        *len = t->string_val[k].len;
        return (const char *)t->string_val[k].data;
    }
    if (t->n_string_val == 1) { /* a splat */
        *len = t->string_val[0].len;
        return (const char *)t->string_val[0].data;
    }
    return NULL;
}

/* The function a call node runs (its op, or attr f), or NULL. */
static const Tensorflow__FunctionDef *callee(const Tensorflow__GraphDef *gd,
                                             const Tensorflow__NodeDef *nd) {
    const char *name = nd->op;
    const Tensorflow__AttrValue *f = attr(nd, "f");
    if (f && f->value_case == TENSORFLOW__ATTR_VALUE__VALUE_FUNC && f->func) name = f->func->name;
    for (size_t i = 0; gd->library && i < gd->library->n_function; i++) {
        const Tensorflow__FunctionDef *fd = gd->library->function[i];
        if (fd->signature && !strcmp(fd->signature->name, name)) return fd;
    }
    return NULL;
}

typedef struct restore_plan {
    strs vars, keys;
} restore_plan;

/* In a body: the argument index an input names, or -1. */
static int arg_index(const Tensorflow__FunctionDef *fn, const char *input) {
    size_t n = strcspn(input, ":");
    for (size_t i = 0; fn && i < fn->signature->n_input_arg; i++)
        if (strlen(fn->signature->input_arg[i]->name) == n &&
            !strncmp(fn->signature->input_arg[i]->name, input, n))
            return (int)i;
    return -1;
}

static int walk_restore(const Tensorflow__GraphDef *gd, const scope *sc,
                        const Tensorflow__NodeDef *nd, char *const *outer, int nouter,
                        restore_plan *p, int depth);

/* An Assign/AssignVariableOp: variable input 0 takes RestoreV2 output k. */
static int note_assign(const scope *sc, const Tensorflow__NodeDef *nd, char *const *outer,
                       int nouter, restore_plan *p) {
    if (nd->n_input < 2) return 0;
    const char *value = nd->input[1];
    const Tensorflow__NodeDef *src = scope_node(sc, value);
    for (int hops = 0; src && strcmp(src->op, "RestoreV2") && hops < 8; hops++) {
        if (strcmp(src->op, "Identity") || src->n_input < 1) return 0;
        value = src->input[0];
        src = scope_node(sc, value);
    }
    if (!src || src->n_input < 2) return 0;
    size_t len;
    const char *key = const_string(sc, src->input[1], input_index(value), &len);
    if (!key) return 0;
    char var[600];
    if (sc->fn) {
        int a = arg_index(sc->fn, nd->input[0]);
        if (a < 0 || a >= nouter || !outer[a]) return 0;
        snprintf(var, sizeof var, "%s", outer[a]);
    } else {
        size_t n = strcspn(nd->input[0], ":");
        snprintf(var, sizeof var, "%.*s", (int)n, nd->input[0]);
    }
    char *k = strndup(key, len);
    int rc = !k || strs_add(&p->vars, var) || strs_add(&p->keys, k) ? -1 : 0;
    free(k);
    return rc;
}

/* A call in scope sc: its body's restores, with its arguments' outer
 * variable names. */
static int walk_call(const Tensorflow__GraphDef *gd, const scope *sc,
                     const Tensorflow__NodeDef *nd, const Tensorflow__FunctionDef *fd,
                     char *const *outer, int nouter, restore_plan *p, int depth) {
    int na = (int)fd->signature->n_input_arg;
    char **names = calloc((size_t)na + 1, sizeof *names);
    if (!names) return -1;
    for (int i = 0; i < na && (size_t)i < nd->n_input; i++) {
        const char *in = nd->input[i];
        if (in[0] == '^') break;
        if (sc->fn) {
            int a = arg_index(sc->fn, in);
            names[i] = a >= 0 && a < nouter && outer[a] ? strdup(outer[a]) : NULL;
        } else {
            names[i] = strndup(in, strcspn(in, ":"));
        }
    }
    scope body = {fd->node_def, fd->n_node_def, fd};
    int rc = 0;
    for (size_t i = 0; i < body.n && !rc; i++)
        rc = walk_restore(gd, &body, body.nodes[i], names, na, p, depth + 1);
    for (int i = 0; i < na; i++) free(names[i]);
    free(names);
    return rc;
}

static int walk_restore(const Tensorflow__GraphDef *gd, const scope *sc,
                        const Tensorflow__NodeDef *nd, char *const *outer, int nouter,
                        restore_plan *p, int depth) {
    if (depth > 16) return 0;
    if (!strcmp(nd->op, "Assign") || !strcmp(nd->op, "AssignVariableOp"))
        return note_assign(sc, nd, outer, nouter, p);
    const Tensorflow__FunctionDef *fd = callee(gd, nd);
    if (fd) return walk_call(gd, sc, nd, fd, outer, nouter, p, depth);
    return 0;
}

/* The (variable, key) pairs of the MetaGraph's restore op: the nodes the
 * restore op depends on in the GraphDef, and the bodies of the functions
 * they call. */
static int read_restore_plan(const Tensorflow__MetaGraphDef *mg, restore_plan *p) {
    const Tensorflow__GraphDef *gd = mg->graph_def;
    const char *op = mg->saver_def ? mg->saver_def->restore_op_name : NULL;
    if (!op || !*op) return 0;
    scope top = {gd->node, gd->n_node, NULL};
    size_t n = gd->n_node;
    char *seen = calloc(n + 1, 1);
    size_t *stack = malloc(sizeof *stack * (n + 1)), sp = 0;
    int rc = 0;
    if (!seen || !stack) rc = -1;
    const Tensorflow__NodeDef *root = rc ? NULL : scope_node(&top, op);
    for (size_t i = 0; root && i < n; i++)
        if (gd->node[i] == root) {
            seen[i] = 1;
            stack[sp++] = i;
        }
    while (sp && !rc) {
        const Tensorflow__NodeDef *nd = gd->node[stack[--sp]];
        rc = walk_restore(gd, &top, nd, NULL, 0, p, 0);
        for (size_t j = 0; j < nd->n_input && !rc; j++) {
            const Tensorflow__NodeDef *src = scope_node(&top, nd->input[j]);
            for (size_t i = 0; src && i < n; i++)
                if (gd->node[i] == src && !seen[i]) {
                    seen[i] = 1;
                    stack[sp++] = i;
                }
        }
    }
    free(seen);
    free(stack);
    return rc;
}

/* Restores the variables of the imported graph from DIR/variables. */
static int restore(tfc_saved_model *m, const Tensorflow__MetaGraphDef *mg, tfc_status *st) {
    tfc_graph *g = m->graph;
    restore_plan p = {0};
    int rc = -1, nvars = 0;
    tfc_output *vars = NULL;
    const char **keys = NULL;
    tfc_saver *sv = NULL;
    char *vdir = join(m->dir, "variables"), *prefix = vdir ? join(vdir, "variables") : NULL;
    if (!prefix || read_restore_plan(mg, &p)) {
        tfc_status_set(st, TFC_INTERNAL, "out of memory loading a SavedModel");
        goto done;
    }
    if (!p.vars.n) /* no restore op tfc can read: keys are the variables' names */
        for (int i = 0; i < g->nnodes; i++)
            if (tfc_is_variable_node(g->nodes[i]) &&
                (strs_add(&p.vars, g->nodes[i]->name) || strs_add(&p.keys, g->nodes[i]->name))) {
                tfc_status_set(st, TFC_INTERNAL, "out of memory loading a SavedModel");
                goto done;
            }
    vars = calloc((size_t)p.vars.n + 1, sizeof *vars);
    keys = calloc((size_t)p.vars.n + 1, sizeof *keys);
    if (!vars || !keys) {
        tfc_status_set(st, TFC_INTERNAL, "out of memory loading a SavedModel");
        goto done;
    }
    for (int i = 0; i < p.vars.n; i++) {
        tfc_node *v = tfc_graph_node_by_name(g, p.vars.v[i]);
        int dup = 0;
        for (int k = 0; k < nvars && !dup; k++) dup = vars[k].node == v;
        if (!v || dup || !tfc_is_variable_node(v)) continue; /* pruned or not a variable */
        vars[nvars] = tfc_out(v, 0);
        keys[nvars++] = p.keys.v[i];
    }
    if (!nvars) {
        rc = 0;
        goto done;
    }
    sv = tfc_saver_new_named(g, keys, vars, nvars, 0);
    if (!sv) {
        tfc_status_set(st, tfc_graph_error_code(g), "SavedModel '%s': %s", m->dir,
                       tfc_graph_error(g));
        goto done;
    }
    char idx[4200];
    snprintf(idx, sizeof idx, "%s.index", prefix);
    if (!exists(idx)) {
        tfc_status_set(st, TFC_NOT_FOUND,
                       "SavedModel '%s' has %d variable%s but no checkpoint '%s'", m->dir, nvars,
                       nvars > 1 ? "s" : "", idx);
        goto done;
    }
    rc = tfc_saver_restore(sv, m->session, prefix, st);
done:
    tfc_saver_free(sv);
    free(vars);
    free(keys);
    free(vdir);
    free(prefix);
    strs_free(&p.vars);
    strs_free(&p.keys);
    return rc;
}

/* Runs the init op, feeding each asset tensor its file's path. */
static int run_init(tfc_saved_model *m, const Tensorflow__MetaGraphDef *mg, tfc_status *st) {
    const char *init = init_op_name(mg);
    if (!init || !*init) return 0;
    char name[512];
    snprintf(name, sizeof name, "%.*s", (int)strcspn(init, ":"), init);
    tfc_node *op = tfc_graph_node_by_name(m->graph, name);
    if (!op) {
        tfc_status_set(st, TFC_NOT_FOUND, "SavedModel '%s': init op '%s' is not in the graph",
                       m->dir, init);
        return -1;
    }
    size_t na = mg->n_asset_file_def;
    tfc_output *feeds = calloc(na + 1, sizeof *feeds);
    tfc_tensor **vals = calloc(na + 1, sizeof *vals);
    int nf = 0, rc = -1;
    if (!feeds || !vals) {
        tfc_status_set(st, TFC_INTERNAL, "out of memory loading a SavedModel");
        goto done;
    }
    for (size_t i = 0; i < na; i++) {
        const Tensorflow__AssetFileDef *a = mg->asset_file_def[i];
        tfc_output o;
        tfc_status *ls = tfc_status_new();
        int found = ls && a->tensor_info &&
                    tfc_graph_output_by_name(m->graph, info_name(a->tensor_info), &o, ls) == 0;
        tfc_status_free(ls);
        if (!found) continue; /* not needed by what was imported */
        char *assets = join(m->dir, "assets"), *path = assets ? join(assets, a->filename) : NULL;
        free(assets);
        const char *s = path;
        size_t len = path ? strlen(path) : 0;
        vals[nf] = path ? tfc_tensor_from_strings(0, NULL, &s, &len) : NULL;
        free(path);
        if (!vals[nf]) {
            tfc_status_set(st, TFC_INTERNAL, "out of memory loading a SavedModel");
            goto done;
        }
        feeds[nf++] = o;
    }
    tfc_session_run(m->session, feeds, vals, nf, NULL, 0, NULL, &op, 1, st);
    rc = tfc_status_code(st) == TFC_OK ? 0 : -1;
done:
    for (int i = 0; i < nf; i++) tfc_tensor_free(vals[i]);
    free(feeds);
    free(vals);
    return rc;
}

/* Whether the ops of what `keep` needs are all tfc's: 0, or -1 with the
 * list of those missing in status. */
static int dry_run(const Tensorflow__MetaGraphDef *def, const strs *keep, tfc_status *st) {
    tfc_graphdef_view view;
    int rc = tfc_graphdef_prune(def->graph_def, (const char *const *)keep->v, keep->n, NULL, 0,
                                &view, st);
    if (rc == 0) rc = tfc_graphdef_check_ops(&view.gd, st);
    tfc_graphdef_view_free(&view);
    return rc;
}

/* Signatures whose tensors need ops tfc lacks are left out of the import,
 * each with its reason (tfc_saved_model_signature_error), so the others
 * serve; the load fails only when the init op or the variables need such
 * ops, or when no signature is left. 0, or -1 with status set. */
static int choose_signatures(tfc_saved_model *m, const Tensorflow__MetaGraphDef *def,
                             tfc_status *st) {
    size_t ns = def->n_signature_def;
    strs keep = {0};
    int rc = -1;
    m->nsig = ns;
    m->sig_errors = calloc(ns + 1, sizeof *m->sig_errors);
    m->sig_error_flags = calloc(ns + 1, 1);
    if (!m->sig_errors || !m->sig_error_flags || keep_list(def, NULL, &keep)) goto oom;
    if (dry_run(def, &keep, st) == 0) {
        rc = 0;
        goto done;
    }
    if (tfc_status_code(st) != TFC_NOT_FOUND) goto done;
    /* one by one: the base (init op, variables) first */
    memset(m->sig_error_flags, 1, ns);
    strs_free(&keep);
    memset(&keep, 0, sizeof keep);
    if (keep_list(def, m->sig_error_flags, &keep)) goto oom;
    if (dry_run(def, &keep, st)) goto done;
    size_t usable = 0;
    for (size_t i = 0; i < ns; i++) {
        memset(m->sig_error_flags, 1, ns);
        m->sig_error_flags[i] = 0;
        strs one = {0};
        if (keep_list(def, m->sig_error_flags, &one)) {
            strs_free(&one);
            goto oom;
        }
        int bad = dry_run(def, &one, st);
        strs_free(&one);
        if (bad && !(m->sig_errors[i] = strdup(tfc_status_message(st)))) goto oom;
        usable += !bad;
    }
    for (size_t i = 0; i < ns; i++) m->sig_error_flags[i] = m->sig_errors[i] != NULL;
    if (!usable) {
        tfc_status_set(st, TFC_NOT_FOUND, "no signature of SavedModel '%s' can run: %s",
                       m->dir, m->sig_errors[0]);
        goto done;
    }
    rc = 0;
    goto done;
oom:
    tfc_status_set(st, TFC_INTERNAL, "out of memory loading a SavedModel");
done:
    strs_free(&keep);
    if (rc == 0) tfc_status_set(st, TFC_OK, "%s", "");
    return rc;
}

const char *tfc_saved_model_signature_error(const tfc_saved_model *m, int s) {
    if (!m || m->mg < 0 || !m->sig_errors || s < 0 || (size_t)s >= m->nsig) return NULL;
    return m->sig_errors[s];
}

static void tag_sets(const tfc_saved_model *m, char *buf, size_t cap) {
    size_t n = 0;
    buf[0] = 0;
    for (int mg = 0; mg < tfc_saved_model_num_meta_graphs(m) && n < cap; mg++) {
        n += (size_t)snprintf(buf + n, cap - n, "%s{", mg ? ", " : "");
        for (int i = 0; i < tfc_saved_model_num_tags(m, mg) && n < cap; i++)
            n += (size_t)snprintf(buf + n, cap - n, "%s%s", i ? ", " : "",
                                  tfc_saved_model_tag(m, mg, i));
        if (n < cap) n += (size_t)snprintf(buf + n, cap - n, "}");
    }
}

/* Loads into g, and into session `into` when given (else a new session
 * of the model's own, made with opts). */
static tfc_saved_model *load(const char *dir, const char *const *tags, int ntags, tfc_graph *g,
                             tfc_session *into, const tfc_session_options *opts,
                             tfc_status *st) {
    if (!g || ntags < 0 || (ntags && !tags)) {
        tfc_status_set(st, TFC_INVALID_ARGUMENT, "tfc_saved_model_load: NULL graph or tags");
        return NULL;
    }
    tfc_saved_model *m = tfc_saved_model_read(dir, st);
    if (!m) return NULL;
    int mg = tfc_saved_model_find_meta_graph(m, tags, ntags);
    if (mg < 0) {
        char want[1000] = "", have[2000];
        size_t n = 0;
        for (int i = 0; i < ntags && n < sizeof want; i++)
            n += (size_t)snprintf(want + n, sizeof want - n, "%s%s", i ? ", " : "", tags[i]);
        tag_sets(m, have, sizeof have);
        tfc_status_set(st, TFC_NOT_FOUND,
                       "SavedModel '%s' has no MetaGraphDef with tags {%s}; its tag sets: %s",
                       dir, want, have);
        tfc_saved_model_free(m);
        return NULL;
    }
    m->mg = mg;
    const Tensorflow__MetaGraphDef *def = m->sm->meta_graphs[mg];
    if (!def->graph_def) {
        tfc_status_set(st, TFC_INVALID_ARGUMENT, "SavedModel '%s': MetaGraphDef %d has no graph",
                       dir, mg);
        tfc_saved_model_free(m);
        return NULL;
    }
    strs keep = {0};
    if (choose_signatures(m, def, st) || keep_list(def, m->sig_error_flags, &keep)) {
        strs_free(&keep);
        if (tfc_status_code(st) == TFC_OK)
            tfc_status_set(st, TFC_INTERNAL, "out of memory loading a SavedModel");
        tfc_saved_model_free(m);
        return NULL;
    }
    tfc_import_options io;
    memset(&io, 0, sizeof io);
    io.keep_outputs = (const char *const *)keep.v;
    io.nkeep_outputs = keep.n;
    int rc = tfc_meta_graph_import(g, def, &io, st);
    strs_free(&keep);
    if (rc) {
        char msg[2048];
        snprintf(msg, sizeof msg, "%s", tfc_status_message(st));
        tfc_status_set(st, tfc_status_code(st), "loading SavedModel '%s': %s", dir, msg);
        tfc_saved_model_free(m);
        return NULL;
    }
    m->graph = g;
    m->borrowed = into != NULL;
    m->session = into ? into : tfc_session_new(g, opts, st);
    if (!m->session || restore(m, def, st) || run_init(m, def, st)) {
        if (tfc_status_code(st) == TFC_OK)
            tfc_status_set(st, TFC_INTERNAL, "loading SavedModel '%s' failed", dir);
        tfc_saved_model_free(m);
        return NULL;
    }
    tfc_status_set(st, TFC_OK, "%s", "");
    return m;
}

tfc_saved_model *tfc_saved_model_load(const char *dir, const char *const *tags, int ntags,
                                      tfc_graph *g, const tfc_session_options *opts,
                                      tfc_status *st) {
    return load(dir, tags, ntags, g, NULL, opts, st);
}

tfc_saved_model *tfc_saved_model_load_into(tfc_session *s, const char *dir,
                                           const char *const *tags, int ntags, tfc_status *st) {
    if (!s) {
        tfc_status_set(st, TFC_INVALID_ARGUMENT, "tfc_saved_model_load_into: NULL session");
        return NULL;
    }
    return load(dir, tags, ntags, tfc_session_graph(s), s, NULL, st);
}

/* ---- writing ---- */

static Tensorflow__TensorInfo *info_msg(tfc_arena *a, tfc_output o) {
    Tensorflow__TensorInfo *t = tfc_arena_alloc(a, sizeof *t);
    Tensorflow__TensorShapeProto *sp = tfc_arena_alloc(a, sizeof *sp);
    char name[600];
    if (!t || !sp) return NULL;
    tensorflow__tensor_info__init(t);
    tensorflow__tensor_shape_proto__init(sp);
    snprintf(name, sizeof name, "%s:%d", o.node->name, o.index);
    t->encoding_case = TENSORFLOW__TENSOR_INFO__ENCODING_NAME;
    t->name = tfc_arena_strdup(a, name);
    t->dtype = (Tensorflow__DataType)tfc_output_dtype(o);
    tfc_shape s = tfc_output_shape(o);
    if (s.rank < 0) {
        sp->unknown_rank = 1;
    } else {
        sp->n_dim = (size_t)s.rank;
        sp->dim = tfc_arena_alloc(a, sizeof *sp->dim * (size_t)(s.rank + 1));
        for (int i = 0; sp->dim && i < s.rank; i++) {
            Tensorflow__TensorShapeProto__Dim *d = tfc_arena_alloc(a, sizeof *d);
            if (!d) return NULL;
            tensorflow__tensor_shape_proto__dim__init(d);
            d->size = s.dims[i];
            sp->dim[i] = d;
        }
        if (!sp->dim) return NULL;
    }
    t->tensor_shape = sp;
    return t->name ? t : NULL;
}

static Tensorflow__SignatureDef__InputsEntry **entries(tfc_arena *a, const char *const *keys,
                                                      const tfc_output *outs, int n) {
    /* InputsEntry and OutputsEntry have one layout; each is set up with its
     * own init by the caller's descriptor below */
    Tensorflow__SignatureDef__InputsEntry **v = tfc_arena_alloc(a, sizeof *v * (size_t)(n + 1));
    for (int i = 0; v && i < n; i++) {
        Tensorflow__SignatureDef__InputsEntry *e = tfc_arena_alloc(a, sizeof *e);
        if (!e) return NULL;
        tensorflow__signature_def__inputs_entry__init(e);
        e->key = tfc_arena_strdup(a, keys[i]);
        e->value = info_msg(a, outs[i]);
        if (!e->key || !e->value) return NULL;
        v[i] = e;
    }
    return v;
}

static Tensorflow__SignatureDef__OutputsEntry **out_entries(tfc_arena *a,
                                                           const char *const *keys,
                                                           const tfc_output *outs, int n) {
    Tensorflow__SignatureDef__OutputsEntry **v = tfc_arena_alloc(a, sizeof *v * (size_t)(n + 1));
    for (int i = 0; v && i < n; i++) {
        Tensorflow__SignatureDef__OutputsEntry *e = tfc_arena_alloc(a, sizeof *e);
        if (!e) return NULL;
        tensorflow__signature_def__outputs_entry__init(e);
        e->key = tfc_arena_strdup(a, keys[i]);
        e->value = info_msg(a, outs[i]);
        if (!e->key || !e->value) return NULL;
        v[i] = e;
    }
    return v;
}

static int check_sigs(const tfc_graph *g, const tfc_signature_def *sigs, int nsigs,
                      tfc_status *st) {
    for (int s = 0; s < nsigs; s++) {
        const tfc_signature_def *d = &sigs[s];
        if (!d->name || !*d->name || d->ninputs < 0 || d->noutputs < 0 ||
            (d->ninputs && (!d->input_keys || !d->inputs)) ||
            (d->noutputs && (!d->output_keys || !d->outputs))) {
            tfc_status_set(st, TFC_INVALID_ARGUMENT,
                           "SavedModel signature %d: needs a name, and keys and tensors for "
                           "its inputs and outputs",
                           s);
            return -1;
        }
        for (int t = 0; s < nsigs && t < s; t++)
            if (!strcmp(sigs[t].name, d->name)) {
                tfc_status_set(st, TFC_INVALID_ARGUMENT, "two SavedModel signatures named '%s'",
                               d->name);
                return -1;
            }
        for (int i = 0; i < d->ninputs + d->noutputs; i++) {
            int in = i < d->ninputs;
            tfc_output o = in ? d->inputs[i] : d->outputs[i - d->ninputs];
            const char *key = in ? d->input_keys[i] : d->output_keys[i - d->ninputs];
            if (!key || !*key || !o.node || o.node->graph != g) {
                tfc_status_set(st, TFC_INVALID_ARGUMENT,
                               "SavedModel signature '%s': %s %d has no key or is not a "
                               "tensor of the graph",
                               d->name, in ? "input" : "output", in ? i : i - d->ninputs);
                return -1;
            }
        }
    }
    return 0;
}

/* DIR/variables/variables: every global variable under its name. */
static int write_variables(const char *dir, tfc_graph *g, tfc_session *s, tfc_status *st) {
    int n = tfc_graph_collection_size(g, TFC_GLOBAL_VARIABLES), rc = -1;
    char *vdir = join(dir, "variables"), *prefix = vdir ? join(vdir, "variables") : NULL;
    tfc_tensor **vals = calloc((size_t)n + 1, sizeof *vals);
    const char **names = calloc((size_t)n + 1, sizeof *names);
    if (!prefix || !vals || !names) {
        tfc_status_set(st, TFC_INTERNAL, "out of memory writing a SavedModel");
        goto done;
    }
    if (mkdir(vdir, 0777) && errno != EEXIST) {
        tfc_status_set(st, TFC_INTERNAL, "cannot create '%s': %s", vdir, strerror(errno));
        goto done;
    }
    if (!n) {
        rc = 0;
        goto done;
    }
    pthread_mutex_lock(&s->lock);
    for (int i = 0; i < n; i++) {
        tfc_node *v = tfc_graph_collection_get(g, TFC_GLOBAL_VARIABLES, i);
        tfc_node_state *cell = tfc_is_variable_node(v) ? tfc_variable_cell(s, v) : NULL;
        names[i] = v->name;
        if (!cell) continue;
        pthread_mutex_lock(&cell->lock);
        vals[i] = cell->value ? tfc_tensor_copy(cell->value) : NULL;
        pthread_mutex_unlock(&cell->lock);
    }
    pthread_mutex_unlock(&s->lock);
    for (int i = 0; i < n; i++)
        if (!vals[i]) {
            tfc_status_set(st, TFC_FAILED_PRECONDITION,
                           "cannot export SavedModel '%s': variable '%s' is uninitialized", dir,
                           names[i]);
            goto done;
        }
    rc = tfc_bundle_write(prefix, names, vals, n, st);
done:
    for (int i = 0; vals && i < n; i++) tfc_tensor_free(vals[i]);
    free(vals);
    free(names);
    free(vdir);
    free(prefix);
    return rc;
}

int tfc_saved_model_save(const char *dir, tfc_graph *g, tfc_session *s, const char *const *tags,
                         int ntags, const tfc_signature_def *sigs, int nsigs, tfc_status *st) {
    if (!dir || !g || !s || ntags < 0 || (ntags && !tags) || nsigs < 0 || (nsigs && !sigs)) {
        tfc_status_set(st, TFC_INVALID_ARGUMENT,
                       "tfc_saved_model_save: NULL directory, graph, session, tags or signatures");
        return -1;
    }
    if (tfc_session_graph(s) != g) {
        tfc_status_set(st, TFC_INVALID_ARGUMENT, "tfc_saved_model_save: the session runs another graph");
        return -1;
    }
    if (check_sigs(g, sigs, nsigs, st)) return -1;
    char *pb = join(dir, "saved_model.pb");
    if (!pb) {
        tfc_status_set(st, TFC_INTERNAL, "out of memory writing a SavedModel");
        return -1;
    }
    if (exists(pb)) {
        tfc_status_set(st, TFC_ALREADY_EXISTS, "SavedModel '%s' already exists", pb);
        free(pb);
        return -1;
    }
    int rc = -1;
    tfc_buf b = {0}, out = {0};
    tfc_arena a = {0};
    Tensorflow__MetaGraphDef *mg = NULL;
    if (mkdir(dir, 0777) && errno != EEXIST) {
        tfc_status_set(st, TFC_INTERNAL, "cannot create '%s': %s", dir, strerror(errno));
        goto done;
    }
    if (tfc_graphdef_check_library(g, st) || write_variables(dir, g, s, st)) goto done;
    tfc_meta_graph_encode(&b, g, 0);
    mg = b.oom ? NULL : tensorflow__meta_graph_def__unpack(NULL, b.n, b.p);
    if (!mg) {
        tfc_status_set(st, TFC_INTERNAL, "out of memory writing a SavedModel");
        goto done;
    }
    /* the writer's MetaGraphDef, with the tags and signatures added (the
     * added parts live in the arena and are detached before the free) */
    Tensorflow__MetaInfoDef *own_info = NULL, *info = mg->meta_info_def;
    if (!info) {
        own_info = info = tfc_arena_alloc(&a, sizeof *info);
        if (info) tensorflow__meta_info_def__init(info);
    }
    char **old_tags = info ? info->tags : NULL;
    size_t old_ntags = info ? info->n_tags : 0;
    Tensorflow__MetaGraphDef__SignatureDefEntry **se =
        tfc_arena_alloc(&a, sizeof *se * (size_t)(nsigs + 1));
    char **tv = tfc_arena_alloc(&a, sizeof *tv * (size_t)(ntags + 1));
    for (int i = 0; tv && i < ntags; i++) tv[i] = tfc_arena_strdup(&a, tags[i]);
    for (int i = 0; se && i < nsigs; i++) {
        Tensorflow__MetaGraphDef__SignatureDefEntry *e = tfc_arena_alloc(&a, sizeof *e);
        Tensorflow__SignatureDef *d = tfc_arena_alloc(&a, sizeof *d);
        if (!e || !d) break;
        tensorflow__meta_graph_def__signature_def_entry__init(e);
        tensorflow__signature_def__init(d);
        e->key = tfc_arena_strdup(&a, sigs[i].name);
        e->value = d;
        d->method_name = tfc_arena_strdup(&a, sigs[i].method_name ? sigs[i].method_name
                                                                   : "tensorflow/serving/predict");
        d->n_inputs = (size_t)sigs[i].ninputs;
        d->inputs = entries(&a, sigs[i].input_keys, sigs[i].inputs, sigs[i].ninputs);
        d->n_outputs = (size_t)sigs[i].noutputs;
        d->outputs = out_entries(&a, sigs[i].output_keys, sigs[i].outputs, sigs[i].noutputs);
        se[i] = e;
    }
    if (a.oom || !info || !se || !tv) {
        tfc_status_set(st, TFC_INTERNAL, "out of memory writing a SavedModel");
        goto detach;
    }
    info->tags = tv;
    info->n_tags = (size_t)ntags;
    mg->meta_info_def = info;
    size_t old_nsig = mg->n_signature_def;
    Tensorflow__MetaGraphDef__SignatureDefEntry **old_sig = mg->signature_def;
    mg->signature_def = se;
    mg->n_signature_def = (size_t)nsigs;
    Tensorflow__SavedModel sm = TENSORFLOW__SAVED_MODEL__INIT;
    sm.saved_model_schema_version = 1;
    sm.n_meta_graphs = 1;
    sm.meta_graphs = &mg;
    tfc_buf_pack(&out, &sm.base);
    mg->signature_def = old_sig;
    mg->n_signature_def = old_nsig;
    if (out.oom) {
        tfc_status_set(st, TFC_INTERNAL, "out of memory writing a SavedModel");
        goto detach;
    }
    rc = tfc_write_file_atomic(pb, out.p, out.n, st);
detach:
    if (info) {
        info->tags = old_tags;
        info->n_tags = old_ntags;
    }
    if (own_info) mg->meta_info_def = NULL;
done:
    if (mg) tensorflow__meta_graph_def__free_unpacked(mg, NULL);
    tfc_arena_free(&a);
    tfc_buf_free(&b);
    tfc_buf_free(&out);
    free(pb);
    if (rc == 0) tfc_status_set(st, TFC_OK, "%s", "");
    return rc;
}
