/* What makes a MetaGraphDef tfc writes one that TensorFlow's
 * tf.train.import_meta_graph and Saver.restore take as their own:
 *  - the variable collections as VariableDef protos (variable_name "w:0",
 *    initializer_name, snapshot_name, initial_value_name, trainable); a
 *    variable without a "w/read" snapshot gets one (an Identity node);
 *  - the Saver's subgraph as TF1's Saver builds it (V2, one shard):
 *      save/filename/input (Const "model") -> save/filename and save/Const
 *      (PlaceholderWithDefault: feed save/Const:0 with the checkpoint
 *      prefix), save/SaveV2 (tensor_names, shape_and_slices consts, the
 *      variables), save/control_dependency (Identity of save/Const after
 *      the save), save/RestoreV2, one save/Assign per variable (or
 *      AssignVariableOp for a resource variable), save/restore_all (NoOp);
 *    and a saver_def naming them. A graph that has save/Const,
 *    save/control_dependency and save/restore_all already (imported from
 *    a MetaGraph) keeps them and gets no second subgraph;
 *  - meta_info_def: tfc's version strings, an any_info saying tfc wrote
 *    it, and stripped_op_list, TensorFlow's OpDef of every op used.
 * tfc runs the subgraph too (src/ops/save_restore.c). */
#include "formats/meta_graph.h"
#include "formats/tf_op_defs_data.h"
#include "graph/graph.h"
#include "meta_graph.pb-c.h"
#include "ops/resource_variable.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* what meta_info_def says wrote the graph */
#define TFC_WRITER "tfc 0.1.0"

static char *fmt(tfc_arena *a, const char *f, ...) {
    char buf[1200];
    va_list ap;
    va_start(ap, f);
    vsnprintf(buf, sizeof buf, f, ap);
    va_end(ap);
    return tfc_arena_strdup(a, buf);
}

/* ---- collections ---- */

int tfc_meta_graph_variable_key(const char *key) {
    return !strcmp(key, TFC_GLOBAL_VARIABLES) || !strcmp(key, TFC_TRAINABLE_VARIABLES) ||
           !strcmp(key, "local_variables") || !strcmp(key, "model_variables");
}

char *tfc_meta_graph_entry_name(tfc_arena *a, const char *key, const tfc_node *n) {
    /* TensorFlow's collections of operations; the others hold tensors */
    static const char *const op_keys[] = {"train_op", "init_op", "local_init_op", "ready_op",
                                          "ready_for_local_init_op", "update_ops",
                                          "table_initializer", "queue_runners", NULL};
    int op = n->noutputs == 0;
    for (int k = 0; op_keys[k] && !op; k++) op = !strcmp(op_keys[k], key);
    return op ? n->name : fmt(a, "%s:0", n->name);
}

/* ---- building NodeDefs ---- */

typedef struct builder {
    tfc_arena *a;
    Tensorflow__GraphDef *gd;
    size_t cap;
    const tfc_graph *g;
} builder;

static int name_taken(const builder *b, const char *name) {
    if (tfc_graph_node_by_name((tfc_graph *)b->g, name)) return 1;
    for (size_t k = 0; k < b->gd->n_node; k++)
        if (!strcmp(b->gd->node[k]->name, name)) return 1;
    return 0;
}

static Tensorflow__NodeDef *add_node(builder *b, const char *name, const char *op, int ninputs) {
    if (b->gd->n_node == b->cap) {
        size_t cap = b->cap * 2 + 16;
        Tensorflow__NodeDef **nodes = tfc_arena_alloc(b->a, sizeof *nodes * cap);
        if (!nodes) return NULL;
        if (b->gd->n_node) memcpy(nodes, b->gd->node, sizeof *nodes * b->gd->n_node);
        b->gd->node = nodes;
        b->cap = cap;
    }
    Tensorflow__NodeDef *nd = tfc_arena_alloc(b->a, sizeof *nd);
    char **in = tfc_arena_alloc(b->a, sizeof *in * (size_t)(ninputs + 1));
    Tensorflow__NodeDef__AttrEntry **attrs = tfc_arena_alloc(b->a, sizeof *attrs * 8);
    if (!nd || !in || !attrs) return NULL;
    tensorflow__node_def__init(nd);
    nd->name = tfc_arena_strdup(b->a, name);
    nd->op = (char *)op;
    nd->input = in;
    nd->attr = attrs;
    b->gd->node[b->gd->n_node++] = nd;
    return nd->name ? nd : NULL;
}

static int add_input(builder *b, Tensorflow__NodeDef *nd, const char *in) {
    return (nd->input[nd->n_input++] = tfc_arena_strdup(b->a, in)) ? 0 : -1;
}

static Tensorflow__AttrValue *add_attr(builder *b, Tensorflow__NodeDef *nd, const char *key) {
    Tensorflow__NodeDef__AttrEntry *e = tfc_arena_alloc(b->a, sizeof *e);
    Tensorflow__AttrValue *v = tfc_arena_alloc(b->a, sizeof *v);
    if (!e || !v || nd->n_attr == 8) return NULL;
    tensorflow__node_def__attr_entry__init(e);
    tensorflow__attr_value__init(v);
    e->key = (char *)key;
    e->value = v;
    nd->attr[nd->n_attr++] = e;
    return v;
}

static int attr_type(builder *b, Tensorflow__NodeDef *nd, const char *key, tfc_dtype dt) {
    Tensorflow__AttrValue *v = add_attr(b, nd, key);
    if (!v) return -1;
    v->value_case = TENSORFLOW__ATTR_VALUE__VALUE_TYPE;
    v->type = (Tensorflow__DataType)dt;
    return 0;
}

static int attr_bool(builder *b, Tensorflow__NodeDef *nd, const char *key, int on) {
    Tensorflow__AttrValue *v = add_attr(b, nd, key);
    if (!v) return -1;
    v->value_case = TENSORFLOW__ATTR_VALUE__VALUE_B;
    v->b = on != 0;
    return 0;
}

static Tensorflow__AttrValue__ListValue *attr_list(builder *b, Tensorflow__NodeDef *nd,
                                                   const char *key) {
    Tensorflow__AttrValue *v = add_attr(b, nd, key);
    Tensorflow__AttrValue__ListValue *l = tfc_arena_alloc(b->a, sizeof *l);
    if (!v || !l) return NULL;
    tensorflow__attr_value__list_value__init(l);
    v->value_case = TENSORFLOW__ATTR_VALUE__VALUE_LIST;
    v->list = l;
    return l;
}

static int attr_types(builder *b, Tensorflow__NodeDef *nd, const char *key, const tfc_dtype *dt,
                      int n) {
    Tensorflow__AttrValue__ListValue *l = attr_list(b, nd, key);
    if (!l || !(l->type = tfc_arena_alloc(b->a, sizeof *l->type * (size_t)(n + 1)))) return -1;
    for (int i = 0; i < n; i++) l->type[i] = (Tensorflow__DataType)dt[i];
    l->n_type = (size_t)n;
    return 0;
}

/* _class = ["loc:@node"]: TensorFlow's colocation with the variable. */
static int attr_colocate(builder *b, Tensorflow__NodeDef *nd, const char *with) {
    Tensorflow__AttrValue__ListValue *l = attr_list(b, nd, "_class");
    char *s = fmt(b->a, "loc:@%s", with);
    if (!l || !s || !(l->s = tfc_arena_alloc(b->a, sizeof *l->s))) return -1;
    l->s[0].data = (uint8_t *)s;
    l->s[0].len = strlen(s);
    l->n_s = 1;
    return 0;
}

static Tensorflow__TensorShapeProto *shape_of(builder *b, int rank, int64_t dim0) {
    Tensorflow__TensorShapeProto *s = tfc_arena_alloc(b->a, sizeof *s);
    if (!s) return NULL;
    tensorflow__tensor_shape_proto__init(s);
    if (rank == 0) return s;
    Tensorflow__TensorShapeProto__Dim *d = tfc_arena_alloc(b->a, sizeof *d);
    if (!d || !(s->dim = tfc_arena_alloc(b->a, sizeof *s->dim))) return NULL;
    tensorflow__tensor_shape_proto__dim__init(d);
    d->size = dim0;
    s->dim[0] = d;
    s->n_dim = 1;
    return s;
}

/* A Const of strings: a scalar (rank 0, one string) or a vector. */
static Tensorflow__NodeDef *string_const(builder *b, const char *name, const char *const *s,
                                         int n, int rank) {
    Tensorflow__NodeDef *nd = add_node(b, name, "Const", 0);
    if (!nd || attr_type(b, nd, "dtype", TFC_STRING)) return NULL;
    Tensorflow__AttrValue *v = add_attr(b, nd, "value");
    Tensorflow__TensorProto *t = tfc_arena_alloc(b->a, sizeof *t);
    ProtobufCBinaryData *vals = tfc_arena_alloc(b->a, sizeof *vals * (size_t)(n + 1));
    if (!v || !t || !vals) return NULL;
    tensorflow__tensor_proto__init(t);
    t->dtype = TENSORFLOW__DATA_TYPE__DT_STRING;
    if (!(t->tensor_shape = shape_of(b, rank, n))) return NULL;
    for (int i = 0; i < n; i++) {
        vals[i].data = (uint8_t *)s[i];
        vals[i].len = strlen(s[i]);
    }
    t->string_val = vals;
    t->n_string_val = (size_t)n;
    v->value_case = TENSORFLOW__ATTR_VALUE__VALUE_TENSOR;
    v->tensor = t;
    return nd;
}

static Tensorflow__NodeDef *string_placeholder(builder *b, const char *name, const char *input) {
    Tensorflow__NodeDef *nd = add_node(b, name, "PlaceholderWithDefault", 1);
    Tensorflow__AttrValue *shape;
    if (!nd || add_input(b, nd, input) || attr_type(b, nd, "dtype", TFC_STRING) ||
        !(shape = add_attr(b, nd, "shape")) || !(shape->shape = shape_of(b, 0, 0)))
        return NULL;
    shape->value_case = TENSORFLOW__ATTR_VALUE__VALUE_SHAPE;
    return nd;
}

/* ---- variables ---- */

typedef struct var_info {
    const tfc_node *node;
    tfc_dtype dtype;
    int resource;
    const char *snapshot; /* tensor name */
} var_info;

/* The variables of collection `key`, in order. */
static int vars_of(const tfc_graph *g, const char *key, const tfc_node ***out) {
    const tfc_collection *c = tfc_strmap_get(&g->collections, key);
    *out = c ? (const tfc_node **)c->items : NULL;
    return c ? c->n : 0;
}

static int in_collection(const tfc_graph *g, const char *key, const tfc_node *n) {
    const tfc_node **items;
    int cnt = vars_of(g, key, &items);
    for (int i = 0; i < cnt; i++)
        if (items[i] == n) return 1;
    return 0;
}

/* The snapshot of variable v: its "v/read" (or "v/Read/ReadVariableOp")
 * node, added to the GraphDef when the graph lacks it. */
static const char *snapshot_of(builder *b, const tfc_node *v, tfc_dtype dt, int resource) {
    char *name = resource ? fmt(b->a, "%s/Read/ReadVariableOp", v->name)
                          : fmt(b->a, "%s/read", v->name);
    if (!name) return NULL;
    if (!name_taken(b, name)) {
        Tensorflow__NodeDef *nd = add_node(b, name, resource ? "ReadVariableOp" : "Identity", 1);
        if (!nd || add_input(b, nd, v->name) ||
            attr_type(b, nd, resource ? "dtype" : "T", dt) || attr_colocate(b, nd, v->name))
            return NULL;
    }
    return fmt(b->a, "%s:0", name);
}

static int variable_def(builder *b, const var_info *vi, ProtobufCBinaryData *out) {
    const tfc_graph *g = b->g;
    Tensorflow__VariableDef vd;
    tensorflow__variable_def__init(&vd);
    vd.variable_name = fmt(b->a, "%s:0", vi->node->name);
    const tfc_node *init = tfc_strmap_get(&g->initializers, vi->node->name);
    vd.initializer_name = init ? init->name : (char *)"";
    vd.snapshot_name = (char *)vi->snapshot;
    if (init && init->ninputs >= 2) {
        tfc_output iv = init->inputs[1];
        vd.initial_value_name = fmt(b->a, "%s:%d", iv.node->name, iv.index);
    }
    vd.trainable = in_collection(g, TFC_TRAINABLE_VARIABLES, vi->node);
    vd.is_resource = vi->resource;
    if (!vd.variable_name || (init && init->ninputs >= 2 && !vd.initial_value_name)) return -1;
    size_t n = tensorflow__variable_def__get_packed_size(&vd);
    uint8_t *p = tfc_arena_alloc(b->a, n + 1);
    if (!p) return -1;
    tensorflow__variable_def__pack(&vd, p);
    out->data = p;
    out->len = n;
    return 0;
}

static var_info *find_var(var_info *vars, int n, const tfc_node *node) {
    for (int i = 0; i < n; i++)
        if (vars[i].node == node) return &vars[i];
    return NULL;
}

/* ---- the Saver's subgraph ---- */

static int save_subgraph(builder *b, const var_info *vars, int n, Tensorflow__SaverDef *sd) {
    const char *s = "save";
    char *probe;
    /* an imported MetaGraph's subgraph is kept */
    const char *parts[] = {"Const", "control_dependency", "restore_all"};
    int have = 0;
    for (int k = 0; k < 3; k++) {
        if (!(probe = fmt(b->a, "save/%s", parts[k]))) return -1;
        have += tfc_graph_node_by_name((tfc_graph *)b->g, probe) != NULL;
    }
    if (have < 3) {
        /* a scope no node uses, as TensorFlow's unique names: save, save_1, ... */
        for (int k = 0;; k++) {
            char *scope = k ? fmt(b->a, "save_%d", k) : fmt(b->a, "save");
            if (!scope) return -1;
            int used = name_taken(b, scope);
            size_t len = strlen(scope);
            for (int i = 0; !used && i < b->g->nnodes; i++)
                used = !strncmp(b->g->nodes[i]->name, scope, len) &&
                       b->g->nodes[i]->name[len] == '/';
            if (!used) {
                s = scope;
                break;
            }
        }
        const char *model = "model";
        char *filename = fmt(b->a, "%s/filename", s), *cst = fmt(b->a, "%s/Const", s);
        if (!filename || !cst || !string_const(b, fmt(b->a, "%s/filename/input", s), &model, 1, 0) ||
            !string_placeholder(b, filename, fmt(b->a, "%s/filename/input", s)) ||
            !string_placeholder(b, cst, filename))
            return -1;
        const char **names = tfc_arena_alloc(b->a, sizeof *names * (size_t)(n + 1));
        const char **empty = tfc_arena_alloc(b->a, sizeof *empty * (size_t)(n + 1));
        tfc_dtype *dts = tfc_arena_alloc(b->a, sizeof *dts * (size_t)(n + 1));
        if (!names || !empty || !dts) return -1;
        for (int i = 0; i < n; i++) {
            names[i] = vars[i].node->name;
            empty[i] = "";
            dts[i] = vars[i].dtype;
        }
        /* save: SaveV2(prefix, names, slices, values...), then the prefix */
        for (int r = 0; r < 2; r++) {
            const char *op = r ? "RestoreV2" : "SaveV2";
            Tensorflow__NodeDef *nd = add_node(b, fmt(b->a, "%s/%s", s, op), op, 3 + (r ? 0 : n));
            if (!nd || !string_const(b, fmt(b->a, "%s/%s/tensor_names", s, op), names, n, 1) ||
                !string_const(b, fmt(b->a, "%s/%s/shape_and_slices", s, op), empty, n, 1) ||
                add_input(b, nd, cst) ||
                add_input(b, nd, fmt(b->a, "%s/%s/tensor_names", s, op)) ||
                add_input(b, nd, fmt(b->a, "%s/%s/shape_and_slices", s, op)) ||
                attr_types(b, nd, "dtypes", dts, n))
                return -1;
            for (int i = 0; !r && i < n; i++) {
                const char *value = vars[i].node->name;
                if (vars[i].resource) { /* the value, read in the save scope */
                    char *read = fmt(b->a, "%s/Read_%d/ReadVariableOp", s, i);
                    Tensorflow__NodeDef *rd = add_node(b, read, "ReadVariableOp", 1);
                    if (!rd || add_input(b, rd, value) ||
                        attr_type(b, rd, "dtype", vars[i].dtype))
                        return -1;
                    value = read;
                }
                if (add_input(b, nd, value)) return -1;
            }
        }
        Tensorflow__NodeDef *dep =
            add_node(b, fmt(b->a, "%s/control_dependency", s), "Identity", 2);
        if (!dep || add_input(b, dep, cst) || add_input(b, dep, fmt(b->a, "^%s/SaveV2", s)) ||
            attr_type(b, dep, "T", TFC_STRING) || attr_colocate(b, dep, cst))
            return -1;
        /* restore: one assign per variable, then restore_all */
        Tensorflow__NodeDef *all = add_node(b, fmt(b->a, "%s/restore_all", s), "NoOp", n);
        if (!all) return -1;
        for (int i = 0; i < n; i++) {
            int res = vars[i].resource;
            const char *base = res ? "AssignVariableOp" : "Assign";
            char *an = i ? fmt(b->a, "%s/%s_%d", s, base, i) : fmt(b->a, "%s/%s", s, base);
            Tensorflow__NodeDef *as = an ? add_node(b, an, base, 2) : NULL;
            if (!as || add_input(b, as, vars[i].node->name) ||
                add_input(b, as, i ? fmt(b->a, "%s/RestoreV2:%d", s, i)
                                   : fmt(b->a, "%s/RestoreV2", s)) ||
                attr_type(b, as, res ? "dtype" : "T", vars[i].dtype) ||
                add_input(b, all, fmt(b->a, "^%s", an)))
                return -1;
            if (!res && (attr_bool(b, as, "validate_shape", 1) || attr_bool(b, as, "use_locking", 1) ||
                         attr_colocate(b, as, vars[i].node->name)))
                return -1;
        }
    }
    sd->filename_tensor_name = fmt(b->a, "%s/Const:0", s);
    sd->save_tensor_name = fmt(b->a, "%s/control_dependency:0", s);
    sd->restore_op_name = fmt(b->a, "%s/restore_all", s);
    sd->keep_checkpoint_every_n_hours = 10000.0f; /* TensorFlow's default: never */
    sd->version = TENSORFLOW__SAVER_DEF__CHECKPOINT_FORMAT_VERSION__V2;
    return sd->filename_tensor_name && sd->save_tensor_name && sd->restore_op_name ? 0 : -1;
}

/* ---- meta_info_def ---- */

static int cmp_str(const void *x, const void *y) {
    return strcmp(*(const char *const *)x, *(const char *const *)y);
}

static int meta_info(builder *b, Tensorflow__MetaGraphDef *m) {
    Tensorflow__MetaInfoDef *mi = m->meta_info_def;
    if (!mi) {
        if (!(mi = tfc_arena_alloc(b->a, sizeof *mi))) return -1;
        tensorflow__meta_info_def__init(mi);
        m->meta_info_def = mi;
    }
    mi->meta_graph_version = (char *)TFC_WRITER;
    mi->tensorflow_version = (char *)TFC_WRITER;
    mi->tensorflow_git_version = (char *)"tfc (not TensorFlow)";
    /* any_info: a google.protobuf.StringValue (field 1: the text) */
    static const char note[] = "written by " TFC_WRITER;
    Tensorflow__AnyProto *any = tfc_arena_alloc(b->a, sizeof *any);
    uint8_t *sv = tfc_arena_alloc(b->a, sizeof note + 2);
    if (!any || !sv) return -1;
    tensorflow__any_proto__init(any);
    sv[0] = 0x0a;
    sv[1] = (uint8_t)(sizeof note - 1);
    memcpy(sv + 2, note, sizeof note - 1);
    any->type_url = (char *)"type.googleapis.com/google.protobuf.StringValue";
    any->value.data = sv;
    any->value.len = sizeof note + 1;
    mi->any_info = any;
    /* stripped_op_list: the OpDef of each op used, graph and functions */
    size_t total = b->gd->n_node;
    const Tensorflow__FunctionDefLibrary *lib = b->gd->library;
    for (size_t f = 0; lib && f < lib->n_function; f++) total += lib->function[f]->n_node_def;
    const char **ops = tfc_arena_alloc(b->a, sizeof *ops * (total + 1));
    Tensorflow__OpList *ol = tfc_arena_alloc(b->a, sizeof *ol);
    if (!ops || !ol) return -1;
    size_t n = 0;
    for (size_t k = 0; k < b->gd->n_node; k++) ops[n++] = b->gd->node[k]->op;
    for (size_t f = 0; lib && f < lib->n_function; f++)
        for (size_t k = 0; k < lib->function[f]->n_node_def; k++)
            ops[n++] = lib->function[f]->node_def[k]->op;
    qsort(ops, n, sizeof *ops, cmp_str);
    tensorflow__op_list__init(ol);
    if (!(ol->op = tfc_arena_alloc(b->a, sizeof *ol->op * (n + 1)))) return -1;
    for (size_t k = 0; k < n; k++) {
        if (k && !strcmp(ops[k], ops[k - 1])) continue;
        const Tensorflow__OpDef *od = tfc_tf_op_def(ops[k]);
        if (od) ol->op[ol->n_op++] = (Tensorflow__OpDef *)od; /* shared, read-only */
    }
    mi->stripped_op_list = ol;
    return 0;
}

int tfc_meta_graph_add_tf_parts(tfc_arena *a, const tfc_graph *g, Tensorflow__MetaGraphDef *m) {
    builder b = {a, m->graph_def, m->graph_def->n_node, g};
    /* the variables of every variable collection, with their snapshots */
    static const char *const keys[] = {TFC_GLOBAL_VARIABLES, TFC_TRAINABLE_VARIABLES,
                                       "local_variables", "model_variables"};
    int nv = 0, cap = 0;
    for (int k = 0; k < 4; k++) {
        const tfc_node **items;
        cap += vars_of(g, keys[k], &items);
    }
    var_info *vars = tfc_arena_alloc(a, sizeof *vars * (size_t)(cap + 1));
    if (!vars) return -1;
    for (int k = 0; k < 4; k++) {
        const tfc_node **items;
        int cnt = vars_of(g, keys[k], &items);
        for (int i = 0; i < cnt; i++) {
            if (find_var(vars, nv, items[i]) || !tfc_is_variable_node(items[i])) continue;
            var_info *vi = &vars[nv++];
            vi->node = items[i];
            vi->dtype = tfc_variable_node_dtype(items[i]);
            vi->resource = !strcmp(items[i]->op->type, "VarHandleOp");
            if (!(vi->snapshot = snapshot_of(&b, items[i], vi->dtype, vi->resource))) return -1;
        }
    }
    /* the collections, after those build() wrote */
    Tensorflow__MetaGraphDef__CollectionDefEntry **cols =
        tfc_arena_alloc(a, sizeof *cols * (m->n_collection_def + 5));
    if (!cols) return -1;
    if (m->n_collection_def) memcpy(cols, m->collection_def, sizeof *cols * m->n_collection_def);
    m->collection_def = cols;
    for (int k = 0; k < 4; k++) {
        const tfc_node **items;
        int cnt = vars_of(g, keys[k], &items), kept = 0;
        if (!tfc_strmap_get(&g->collections, keys[k])) continue;
        Tensorflow__MetaGraphDef__CollectionDefEntry *e = tfc_arena_alloc(a, sizeof *e);
        Tensorflow__CollectionDef *cd = tfc_arena_alloc(a, sizeof *cd);
        Tensorflow__CollectionDef__BytesList *bl = tfc_arena_alloc(a, sizeof *bl);
        ProtobufCBinaryData *vals = tfc_arena_alloc(a, sizeof *vals * (size_t)(cnt + 1));
        if (!e || !cd || !bl || !vals) return -1;
        tensorflow__meta_graph_def__collection_def_entry__init(e);
        tensorflow__collection_def__init(cd);
        tensorflow__collection_def__bytes_list__init(bl);
        for (int i = 0; i < cnt; i++) {
            const var_info *vi = find_var(vars, nv, items[i]);
            if (vi && variable_def(&b, vi, &vals[kept++])) return -1;
        }
        bl->value = vals;
        bl->n_value = (size_t)kept;
        cd->kind_case = TENSORFLOW__COLLECTION_DEF__KIND_BYTES_LIST;
        cd->bytes_list = bl;
        e->key = (char *)keys[k];
        e->value = cd;
        m->collection_def[m->n_collection_def++] = e;
    }
    /* the Saver saves the global variables */
    if (m->saver_def) {
        const tfc_node **items;
        int cnt = vars_of(g, TFC_GLOBAL_VARIABLES, &items), n = 0;
        var_info *saved = tfc_arena_alloc(a, sizeof *saved * (size_t)(cnt + 1));
        if (!saved) return -1;
        for (int i = 0; i < cnt; i++) {
            const var_info *vi = find_var(vars, nv, items[i]);
            if (vi) saved[n++] = *vi;
        }
        /* no variables: TensorFlow's Saver refuses to exist (and RestoreV2
         * takes at least one tensor), so no saver_def either */
        if (!n) m->saver_def = NULL;
        else if (save_subgraph(&b, saved, n, m->saver_def)) return -1;
    }
    return meta_info(&b, m);
}
