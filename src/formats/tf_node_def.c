/* NodeDefs as TensorFlow's OpDefs want them. tfc's ops keep only the attrs
 * their shape functions and kernels read; TensorFlow also wants the attrs
 * it derives from the arguments (a `T` for every input typed by T, an `N`
 * for every list of N inputs, a list of types for a type list), and each
 * attr in its declared kind. Everything here is computed from the OpDef and
 * the node's dtypes, so no op has to remember TensorFlow's bookkeeping.
 * Attrs of tfc's own that TensorFlow's OpDef lacks are written "_tfc_x",
 * which TensorFlow accepts and tfc's import reads back as x. */
#include "formats/tf_node_def.h"
#include "formats/tf_op_defs.h"
#include "formats/tf_op_defs_data.h"

#include <stdio.h>
#include <string.h>

static Tensorflow__AttrValue *find_attr(const Tensorflow__NodeDef *m, const char *name) {
    for (size_t k = 0; k < m->n_attr; k++)
        if (m->attr[k]->key && !strcmp(m->attr[k]->key, name)) return m->attr[k]->value;
    return NULL;
}

static const Tensorflow__OpDef__AttrDef *find_def(const Tensorflow__OpDef *od, const char *name) {
    for (size_t k = 0; k < od->n_attr; k++)
        if (!strcmp(od->attr[k]->name, name)) return od->attr[k];
    return NULL;
}

static Tensorflow__AttrValue *new_value(tfc_arena *a) {
    Tensorflow__AttrValue *v = tfc_arena_alloc(a, sizeof *v);
    if (v) tensorflow__attr_value__init(v);
    return v;
}

static Tensorflow__AttrValue__ListValue *new_list(tfc_arena *a, Tensorflow__AttrValue *v) {
    Tensorflow__AttrValue__ListValue *l = tfc_arena_alloc(a, sizeof *l);
    if (!l) return NULL;
    tensorflow__attr_value__list_value__init(l);
    v->value_case = TENSORFLOW__ATTR_VALUE__VALUE_LIST;
    v->list = l;
    return l;
}

/* tfc's list(shape) encoding (data/attr_lists.h): per shape its rank, then
 * its dims; rank -1 is an unknown rank. */
static int shapes_from_ints(tfc_arena *a, Tensorflow__AttrValue__ListValue *l, const int64_t *iv,
                            size_t n) {
    size_t count = 0;
    for (size_t p = 0; p < n; count++) {
        int64_t rank = iv[p++];
        if (rank < -1 || (rank > 0 && (size_t)rank > n - p)) return 0; /* not that encoding */
        p += rank > 0 ? (size_t)rank : 0;
    }
    Tensorflow__TensorShapeProto **s = tfc_arena_alloc(a, sizeof *s * (count + 1));
    if (!s) return -1;
    size_t p = 0;
    for (size_t k = 0; k < count; k++) {
        int64_t rank = iv[p++];
        if (!(s[k] = tfc_arena_alloc(a, sizeof *s[k]))) return -1;
        tensorflow__tensor_shape_proto__init(s[k]);
        if (rank < 0) {
            s[k]->unknown_rank = 1;
            continue;
        }
        s[k]->dim = tfc_arena_alloc(a, sizeof *s[k]->dim * (size_t)(rank + 1));
        if (!s[k]->dim) return -1;
        for (int64_t d = 0; d < rank; d++) {
            Tensorflow__TensorShapeProto__Dim *dim = tfc_arena_alloc(a, sizeof *dim);
            if (!dim) return -1;
            tensorflow__tensor_shape_proto__dim__init(dim);
            dim->size = iv[p++];
            s[k]->dim[s[k]->n_dim++] = dim;
        }
    }
    l->shape = s;
    l->n_shape = count;
    l->n_i = 0;
    l->i = NULL;
    return 0;
}

/* Rewrites v into the kind `type` ("bool", "list(type)", ...) when tfc
 * keeps it in another; leaves it alone when it cannot. */
static int convert_kind(tfc_arena *a, Tensorflow__AttrValue *v, const char *type) {
    if (v->value_case == TENSORFLOW__ATTR_VALUE__VALUE_I) {
        int64_t i = v->i;
        if (!strcmp(type, "bool")) {
            v->value_case = TENSORFLOW__ATTR_VALUE__VALUE_B;
            v->b = i != 0;
        } else if (!strcmp(type, "float")) {
            v->value_case = TENSORFLOW__ATTR_VALUE__VALUE_F;
            v->f = (float)i;
        } else if (!strcmp(type, "type")) {
            v->value_case = TENSORFLOW__ATTR_VALUE__VALUE_TYPE;
            v->type = (Tensorflow__DataType)i;
        }
        return 0;
    }
    if (v->value_case == TENSORFLOW__ATTR_VALUE__VALUE_S && !strcmp(type, "func")) {
        Tensorflow__NameAttrList *f = tfc_arena_alloc(a, sizeof *f);
        char *name = tfc_arena_alloc(a, v->s.len + 1);
        if (!f || !name) return -1;
        tensorflow__name_attr_list__init(f);
        if (v->s.len) memcpy(name, v->s.data, v->s.len);
        f->name = name;
        v->value_case = TENSORFLOW__ATTR_VALUE__VALUE_FUNC;
        v->func = f;
        return 0;
    }
    if (v->value_case != TENSORFLOW__ATTR_VALUE__VALUE_LIST || !v->list->n_i) return 0;
    Tensorflow__AttrValue__ListValue *l = v->list;
    if (!strcmp(type, "list(type)")) {
        Tensorflow__DataType *t = tfc_arena_alloc(a, sizeof *t * l->n_i);
        if (!t) return -1;
        for (size_t k = 0; k < l->n_i; k++) t[k] = (Tensorflow__DataType)l->i[k];
        l->type = t;
        l->n_type = l->n_i;
    } else if (!strcmp(type, "list(bool)")) {
        protobuf_c_boolean *b = tfc_arena_alloc(a, sizeof *b * l->n_i);
        if (!b) return -1;
        for (size_t k = 0; k < l->n_i; k++) b[k] = l->i[k] != 0;
        l->b = b;
        l->n_b = l->n_i;
    } else if (!strcmp(type, "list(float)")) {
        float *f = tfc_arena_alloc(a, sizeof *f * l->n_i);
        if (!f) return -1;
        for (size_t k = 0; k < l->n_i; k++) f[k] = (float)l->i[k];
        l->f = f;
        l->n_f = l->n_i;
    } else if (!strcmp(type, "list(shape)")) {
        return shapes_from_ints(a, l, l->i, l->n_i);
    } else {
        return 0;
    }
    l->n_i = 0;
    l->i = NULL;
    return 0;
}

/* The attrs to add, in the arena. */
typedef struct added {
    tfc_arena *a;
    Tensorflow__NodeDef *m;
    Tensorflow__NodeDef__AttrEntry *items[64];
    int n;
} added;

static Tensorflow__AttrValue *lookup(const added *ad, const char *name) {
    Tensorflow__AttrValue *v = find_attr(ad->m, name);
    for (int k = 0; !v && k < ad->n; k++)
        if (!strcmp(ad->items[k]->key, name)) v = ad->items[k]->value;
    return v;
}

static Tensorflow__AttrValue *add(added *ad, const char *name) {
    if (ad->n == (int)(sizeof ad->items / sizeof *ad->items)) return NULL;
    Tensorflow__NodeDef__AttrEntry *e = tfc_arena_alloc(ad->a, sizeof *e);
    Tensorflow__AttrValue *v = new_value(ad->a);
    if (!e || !v) return NULL;
    tensorflow__node_def__attr_entry__init(e);
    e->key = (char *)name; /* the OpDef's string, kept for the process */
    e->value = v;
    ad->items[ad->n++] = e;
    return v;
}

/* Derives the attrs of one side's arguments (inputs or outputs) from the
 * dtypes dt[0, count). -1 when memory runs out. */
static int derive(added *ad, Tensorflow__OpDef__ArgDef *const *args, size_t nargs,
                  const tfc_dtype *dt, int count) {
    int len[64], unknown = -1, known = 0;
    if (nargs > 64) return 0;
    for (size_t k = 0; k < nargs; k++) {
        const Tensorflow__OpDef__ArgDef *arg = args[k];
        len[k] = 1;
        if (*arg->number_attr || *arg->type_list_attr) {
            const Tensorflow__AttrValue *v =
                lookup(ad, *arg->number_attr ? arg->number_attr : arg->type_list_attr);
            if (v && v->value_case == TENSORFLOW__ATTR_VALUE__VALUE_I) len[k] = (int)v->i;
            else if (v && v->value_case == TENSORFLOW__ATTR_VALUE__VALUE_LIST)
                len[k] = (int)(v->list->n_type + v->list->n_i);
            else if (unknown < 0) unknown = (int)k, len[k] = 0;
            else return 0; /* two lists of unknown lengths: nothing to derive */
        }
        known += len[k];
    }
    if (unknown >= 0) len[unknown] = count - known;
    if (unknown >= 0 ? len[unknown] < 0 : known != count) return 0; /* the checks say so */
    int p = 0;
    for (size_t k = 0; k < nargs; p += len[k], k++) {
        const Tensorflow__OpDef__ArgDef *arg = args[k];
        Tensorflow__AttrValue *v;
        if (*arg->number_attr && !lookup(ad, arg->number_attr)) {
            if (!(v = add(ad, arg->number_attr))) return -1;
            v->value_case = TENSORFLOW__ATTR_VALUE__VALUE_I;
            v->i = len[k];
        }
        if (*arg->type_attr && len[k] > 0 && !lookup(ad, arg->type_attr)) {
            if (!(v = add(ad, arg->type_attr))) return -1;
            v->value_case = TENSORFLOW__ATTR_VALUE__VALUE_TYPE;
            v->type = (Tensorflow__DataType)dt[p];
        }
        if (*arg->type_list_attr && !lookup(ad, arg->type_list_attr)) {
            Tensorflow__AttrValue__ListValue *l;
            if (!(v = add(ad, arg->type_list_attr)) || !(l = new_list(ad->a, v))) return -1;
            l->type = tfc_arena_alloc(ad->a, sizeof *l->type * (size_t)(len[k] + 1));
            if (!l->type) return -1;
            for (int j = 0; j < len[k]; j++) l->type[j] = (Tensorflow__DataType)dt[p + j];
            l->n_type = (size_t)len[k];
        }
    }
    return 0;
}

/* tfc keeps colocation as one string, "loc:@a,loc:@b" (graph.c); TensorFlow
 * reads _class as a list(string), one "loc:@a" per entry. */
static int class_to_list(tfc_arena *a, Tensorflow__NodeDef *m) {
    for (size_t k = 0; k < m->n_attr; k++) {
        Tensorflow__AttrValue *v = m->attr[k]->value;
        if (strcmp(m->attr[k]->key, "_class") || !v ||
            v->value_case != TENSORFLOW__ATTR_VALUE__VALUE_S)
            continue;
        const uint8_t *p = v->s.data, *end = p + v->s.len;
        size_t count = 1;
        for (const uint8_t *q = p; q < end; q++) count += *q == ',';
        ProtobufCBinaryData *items = tfc_arena_alloc(a, sizeof *items * count);
        if (!items) return -1;
        size_t n = 0;
        while (p < end) {
            const uint8_t *comma = memchr(p, ',', (size_t)(end - p));
            const uint8_t *stop = comma ? comma : end;
            items[n].data = (uint8_t *)p;
            items[n++].len = (size_t)(stop - p);
            p = comma ? comma + 1 : end;
        }
        Tensorflow__AttrValue__ListValue *l = new_list(a, v);
        if (!l) return -1;
        l->s = items;
        l->n_s = n;
    }
    return 0;
}

/* An attr no OpDef declares is written in the kind tfc's import checks it
 * against (tfc_tf_attr_kind_of: tfc's own tables by op and by name), so an
 * exported graph imports again: a list(shape) kept as tfc's int encoding
 * would come back as a list(int). */
static int convert_undeclared(tfc_arena *a, const char *op, Tensorflow__NodeDef__AttrEntry *e) {
    tfc_tf_attr_kind kind = tfc_tf_attr_kind_of(op, e->key);
    if (kind == TFC_TF_ATTR_UNDECLARED || !e->value) return 0;
    return convert_kind(a, e->value, tfc_tf_attr_kind_name(kind));
}

int tfc_tf_node_def_complete(tfc_arena *a, const tfc_node *n, Tensorflow__NodeDef *m) {
    if (class_to_list(a, m)) return -1;
    const Tensorflow__OpDef *od = tfc_tf_op_def(m->op);
    if (!od) {
        for (size_t k = 0; k < m->n_attr; k++)
            if (m->attr[k]->key[0] != '_' && convert_undeclared(a, m->op, m->attr[k])) return -1;
        return 0;
    }
    int nin = n->ninputs, nout = n->noutputs;
    tfc_dtype *in = tfc_arena_alloc(a, sizeof *in * (size_t)(nin + 1));
    if (!in) return -1;
    for (int i = 0; i < nin; i++) in[i] = tfc_output_dtype(n->inputs[i]);
    const tfc_dtype *out = n->out_dtypes;
    for (size_t k = 0; k < m->n_attr; k++) {
        const char *key = m->attr[k]->key;
        const Tensorflow__OpDef__AttrDef *d = find_def(od, key);
        if (d && m->attr[k]->value && convert_kind(a, m->attr[k]->value, d->type)) return -1;
        if (d || key[0] == '_') continue;
        if (convert_undeclared(a, m->op, m->attr[k])) return -1;
        /* tfc's own attr (LogicalNot's T, a history While's output_history):
         * TensorFlow takes attrs it does not declare only with a '_', and
         * tfc's import reads "_tfc_x" back as x */
        size_t len = strlen(key) + 6;
        char *renamed = tfc_arena_alloc(a, len);
        if (!renamed) return -1;
        snprintf(renamed, len, "_tfc_%s", key);
        m->attr[k]->key = renamed;
    }
    added ad = {a, m, {0}, 0};
    if (derive(&ad, od->input_arg, od->n_input_arg, in, nin) ||
        derive(&ad, od->output_arg, od->n_output_arg, out, nout))
        return -1;
    if (!ad.n) return 0;
    Tensorflow__NodeDef__AttrEntry **all =
        tfc_arena_alloc(a, sizeof *all * (m->n_attr + (size_t)ad.n));
    if (!all) return -1;
    if (m->n_attr) memcpy(all, m->attr, sizeof *all * m->n_attr);
    memcpy(all + m->n_attr, ad.items, sizeof *all * (size_t)ad.n);
    m->attr = all;
    m->n_attr += (size_t)ad.n;
    return 0;
}
