/* Node attributes: a small list of named, typed values (TensorFlow's
 * AttrValue: int, float, bool, type, shape, string, tensor, lists). */
#ifndef TFC_GRAPH_ATTRS_H
#define TFC_GRAPH_ATTRS_H

#include "tfc.h"

typedef enum tfc_attr_kind {
    TFC_ATTR_INT,
    TFC_ATTR_FLOAT,
    TFC_ATTR_BOOL,
    TFC_ATTR_TYPE,
    TFC_ATTR_SHAPE,
    TFC_ATTR_STRING,
    TFC_ATTR_TENSOR,
    TFC_ATTR_INT_LIST,
    TFC_ATTR_FLOAT_LIST,
    TFC_ATTR_STRING_LIST /* list(string): NUL-terminated copies */
} tfc_attr_kind;

typedef struct tfc_attr {
    char *name;
    tfc_attr_kind kind;
    union {
        int64_t i;     /* INT, BOOL, TYPE */
        double f;      /* FLOAT */
        tfc_shape shape;
        char *s;       /* STRING */
        tfc_tensor *t; /* TENSOR (owned reference) */
        struct {
            int n;
            int64_t *i;
            double *f;
            char **s;
        } list;
    } v;
} tfc_attr;

typedef struct tfc_attrs {
    int n, cap;
    tfc_attr *items;
} tfc_attrs;

void tfc_attrs_free(tfc_attrs *a);
const tfc_attr *tfc_attrs_find(const tfc_attrs *a, const char *name);
/* Adds or replaces an attribute; the setters copy their arguments.
 * Return 0, or -1 when memory runs out. */
int tfc_attrs_set_int(tfc_attrs *a, const char *name, tfc_attr_kind kind, int64_t v);
int tfc_attrs_set_float(tfc_attrs *a, const char *name, double v);
int tfc_attrs_set_shape(tfc_attrs *a, const char *name, int rank, const int64_t *dims);
int tfc_attrs_set_string(tfc_attrs *a, const char *name, const char *v);
int tfc_attrs_set_tensor(tfc_attrs *a, const char *name, tfc_tensor *t);
int tfc_attrs_set_int_list(tfc_attrs *a, const char *name, const int64_t *v, int n);
int tfc_attrs_set_float_list(tfc_attrs *a, const char *name, const double *v, int n);
int tfc_attrs_set_string_list(tfc_attrs *a, const char *name, const char *const *v, int n);

/* Readers with defaults. */
int64_t tfc_attrs_int(const tfc_attrs *a, const char *name, int64_t dflt);
double tfc_attrs_float(const tfc_attrs *a, const char *name, double dflt);
tfc_dtype tfc_attrs_type(const tfc_attrs *a, const char *name, tfc_dtype dflt);
const char *tfc_attrs_string(const tfc_attrs *a, const char *name);
tfc_tensor *tfc_attrs_tensor(const tfc_attrs *a, const char *name);
/* The shape attr, or a shape of unknown rank when absent. */
tfc_shape tfc_attrs_shape(const tfc_attrs *a, const char *name);
/* Number of items of a list attr (0 when absent); *out points at them. */
int tfc_attrs_int_list(const tfc_attrs *a, const char *name, const int64_t **out);
int tfc_attrs_float_list(const tfc_attrs *a, const char *name, const double **out);
/* A list(string) attr's strings: their count, or -1 when the attr is
 * absent or another kind (an empty list of any kind counts as 0 strings:
 * a GraphDef's empty list says no kind). */
int tfc_attrs_string_list(const tfc_attrs *a, const char *name, const char *const **out);

#endif
