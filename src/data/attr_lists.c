/* list(type) and list(shape) attrs as int lists (see attr_lists.h). */
#include "data/attr_lists.h"

#include <stdlib.h>

int tfc_attr_shape_list(const tfc_attrs *a, const char *name, tfc_shape *out, int max) {
    const int64_t *v;
    int n = tfc_attrs_int_list(a, name, &v), count = 0;
    for (int k = 0; k < n;) {
        int64_t r = v[k++];
        if (r < -1 || r > TFC_MAX_RANK || count == max || (r > 0 && k + r > n)) return -1;
        out[count].rank = (int)r;
        for (int d = 0; d < r; d++) {
            if (v[k] < -1) return -1;
            out[count].dims[d] = v[k++];
        }
        count++;
    }
    return count;
}

int tfc_attrs_set_shape_list(tfc_attrs *a, const char *name, const tfc_shape *shapes, int n) {
    int64_t *v = malloc(sizeof *v * (size_t)(n * (TFC_MAX_RANK + 1) + 1));
    if (!v) return -1;
    int k = 0;
    for (int i = 0; i < n; i++) {
        if (shapes[i].rank < -1 || shapes[i].rank > TFC_MAX_RANK) {
            free(v);
            return -1;
        }
        v[k++] = shapes[i].rank;
        for (int d = 0; d < shapes[i].rank; d++) v[k++] = shapes[i].dims[d];
    }
    int rc = tfc_attrs_set_int_list(a, name, v, k);
    free(v);
    return rc;
}

int tfc_attr_type_list(const tfc_attrs *a, const char *name, tfc_dtype *out, int max) {
    const int64_t *v;
    int n = tfc_attrs_int_list(a, name, &v);
    if (n > max) return -1;
    for (int i = 0; i < n; i++) {
        if (!tfc_dtype_size((tfc_dtype)v[i])) return -1;
        out[i] = (tfc_dtype)v[i];
    }
    return n;
}
