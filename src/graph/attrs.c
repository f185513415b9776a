/* Attribute lists. Nodes have a handful of attrs, so a linear list wins. */
#include "graph/attrs.h"

#include "core/tensor.h"

#include <stdlib.h>
#include <string.h>

static void attr_clear(tfc_attr *at) {
    switch (at->kind) {
    case TFC_ATTR_STRING: free(at->v.s); break;
    case TFC_ATTR_TENSOR: tfc_tensor_free(at->v.t); break;
    case TFC_ATTR_INT_LIST: free(at->v.list.i); break;
    case TFC_ATTR_FLOAT_LIST: free(at->v.list.f); break;
    case TFC_ATTR_STRING_LIST:
        for (int k = 0; k < at->v.list.n; k++) free(at->v.list.s[k]);
        free(at->v.list.s);
        break;
    default: break;
    }
}

void tfc_attrs_free(tfc_attrs *a) {
    for (int i = 0; i < a->n; i++) {
        attr_clear(&a->items[i]);
        free(a->items[i].name);
    }
    free(a->items);
    memset(a, 0, sizeof *a);
}

const tfc_attr *tfc_attrs_find(const tfc_attrs *a, const char *name) {
    for (int i = 0; i < a->n; i++)
        if (strcmp(a->items[i].name, name) == 0) return &a->items[i];
    return NULL;
}

/* The slot for `name`, emptied, or NULL when memory runs out. */
static tfc_attr *attr_slot(tfc_attrs *a, const char *name) {
    for (int i = 0; i < a->n; i++) {
        if (strcmp(a->items[i].name, name) == 0) {
            attr_clear(&a->items[i]);
            return &a->items[i];
        }
    }
    if (a->n == a->cap) {
        int cap = a->cap ? a->cap * 2 : 4;
        tfc_attr *items = realloc(a->items, (size_t)cap * sizeof *items);
        if (!items) return NULL;
        a->items = items;
        a->cap = cap;
    }
    tfc_attr *at = &a->items[a->n];
    memset(at, 0, sizeof *at);
    at->name = strdup(name);
    if (!at->name) return NULL;
    a->n++;
    return at;
}

int tfc_attrs_set_int(tfc_attrs *a, const char *name, tfc_attr_kind kind, int64_t v) {
    tfc_attr *at = attr_slot(a, name);
    if (!at) return -1;
    at->kind = kind;
    at->v.i = v;
    return 0;
}

int tfc_attrs_set_float(tfc_attrs *a, const char *name, double v) {
    tfc_attr *at = attr_slot(a, name);
    if (!at) return -1;
    at->kind = TFC_ATTR_FLOAT;
    at->v.f = v;
    return 0;
}

int tfc_attrs_set_shape(tfc_attrs *a, const char *name, int rank, const int64_t *dims) {
    if (rank > TFC_MAX_RANK) return -1;
    tfc_attr *at = attr_slot(a, name);
    if (!at) return -1;
    at->kind = TFC_ATTR_SHAPE;
    memset(&at->v.shape, 0, sizeof at->v.shape);
    at->v.shape.rank = rank;
    for (int i = 0; i < rank; i++) at->v.shape.dims[i] = dims[i];
    return 0;
}

int tfc_attrs_set_string(tfc_attrs *a, const char *name, const char *v) {
    char *copy = strdup(v ? v : "");
    tfc_attr *at = copy ? attr_slot(a, name) : NULL;
    if (!at) {
        free(copy);
        return -1;
    }
    at->kind = TFC_ATTR_STRING;
    at->v.s = copy;
    return 0;
}

int tfc_attrs_set_tensor(tfc_attrs *a, const char *name, tfc_tensor *t) {
    tfc_attr *at = attr_slot(a, name);
    if (!at) return -1;
    at->kind = TFC_ATTR_TENSOR;
    at->v.t = tfc_tensor_ref(t);
    return 0;
}

int tfc_attrs_set_int_list(tfc_attrs *a, const char *name, const int64_t *v, int n) {
    int64_t *copy = malloc((size_t)(n ? n : 1) * sizeof *copy);
    tfc_attr *at = copy ? attr_slot(a, name) : NULL;
    if (!at) {
        free(copy);
        return -1;
    }
    if (n) memcpy(copy, v, (size_t)n * sizeof *copy);
    at->kind = TFC_ATTR_INT_LIST;
    at->v.list.n = n;
    at->v.list.i = copy;
    return 0;
}

int tfc_attrs_set_float_list(tfc_attrs *a, const char *name, const double *v, int n) {
    double *copy = malloc((size_t)(n ? n : 1) * sizeof *copy);
    tfc_attr *at = copy ? attr_slot(a, name) : NULL;
    if (!at) {
        free(copy);
        return -1;
    }
    if (n) memcpy(copy, v, (size_t)n * sizeof *copy);
    at->kind = TFC_ATTR_FLOAT_LIST;
    at->v.list.n = n;
    at->v.list.f = copy;
    return 0;
}

int tfc_attrs_set_string_list(tfc_attrs *a, const char *name, const char *const *v, int n) {
    if (n < 0 || (n && !v)) return -1;
    char **copy = calloc((size_t)n + 1, sizeof *copy);
    int ok = copy != NULL;
    for (int k = 0; ok && k < n; k++) ok = v[k] && (copy[k] = strdup(v[k]));
    tfc_attr *at = ok ? attr_slot(a, name) : NULL;
    if (!at) {
        for (int k = 0; copy && k < n; k++) free(copy[k]);
        free(copy);
        return -1;
    }
    at->kind = TFC_ATTR_STRING_LIST;
    at->v.list.n = n;
    at->v.list.s = copy;
    return 0;
}

int64_t tfc_attrs_int(const tfc_attrs *a, const char *name, int64_t dflt) {
    const tfc_attr *at = tfc_attrs_find(a, name);
    if (!at) return dflt;
    if (at->kind == TFC_ATTR_FLOAT) return (int64_t)at->v.f;
    if (at->kind == TFC_ATTR_INT || at->kind == TFC_ATTR_BOOL || at->kind == TFC_ATTR_TYPE)
        return at->v.i;
    return dflt;
}

double tfc_attrs_float(const tfc_attrs *a, const char *name, double dflt) {
    const tfc_attr *at = tfc_attrs_find(a, name);
    if (!at) return dflt;
    if (at->kind == TFC_ATTR_FLOAT) return at->v.f;
    if (at->kind == TFC_ATTR_INT || at->kind == TFC_ATTR_BOOL) return (double)at->v.i;
    return dflt;
}

tfc_dtype tfc_attrs_type(const tfc_attrs *a, const char *name, tfc_dtype dflt) {
    const tfc_attr *at = tfc_attrs_find(a, name);
    return at && at->kind == TFC_ATTR_TYPE ? (tfc_dtype)at->v.i : dflt;
}

const char *tfc_attrs_string(const tfc_attrs *a, const char *name) {
    const tfc_attr *at = tfc_attrs_find(a, name);
    return at && at->kind == TFC_ATTR_STRING ? at->v.s : NULL;
}

tfc_tensor *tfc_attrs_tensor(const tfc_attrs *a, const char *name) {
    const tfc_attr *at = tfc_attrs_find(a, name);
    return at && at->kind == TFC_ATTR_TENSOR ? at->v.t : NULL;
}

tfc_shape tfc_attrs_shape(const tfc_attrs *a, const char *name) {
    const tfc_attr *at = tfc_attrs_find(a, name);
    if (at && at->kind == TFC_ATTR_SHAPE) return at->v.shape;
    tfc_shape s;
    memset(&s, 0, sizeof s);
    s.rank = -1;
    return s;
}

int tfc_attrs_int_list(const tfc_attrs *a, const char *name, const int64_t **out) {
    const tfc_attr *at = tfc_attrs_find(a, name);
    if (!at || at->kind != TFC_ATTR_INT_LIST) {
        *out = NULL;
        return 0;
    }
    *out = at->v.list.i;
    return at->v.list.n;
}

int tfc_attrs_float_list(const tfc_attrs *a, const char *name, const double **out) {
    const tfc_attr *at = tfc_attrs_find(a, name);
    if (!at || at->kind != TFC_ATTR_FLOAT_LIST) {
        *out = NULL;
        return 0;
    }
    *out = at->v.list.f;
    return at->v.list.n;
}

int tfc_attrs_string_list(const tfc_attrs *a, const char *name, const char *const **out) {
    const tfc_attr *at = tfc_attrs_find(a, name);
    *out = NULL;
    if (at && at->kind == TFC_ATTR_STRING_LIST) {
        *out = (const char *const *)at->v.list.s;
        return at->v.list.n;
    }
    if (at && (at->kind == TFC_ATTR_INT_LIST || at->kind == TFC_ATTR_FLOAT_LIST) && !at->v.list.n)
        return 0;
    return -1;
}
