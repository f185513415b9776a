/* The kind an AttrValue holds (attr_value_kind.h). */
#include "formats/attr_value_kind.h"

const char *tfc_attr_value_kind(const Tensorflow__AttrValue *v) {
    switch (v->value_case) {
    case TENSORFLOW__ATTR_VALUE__VALUE_S: return "string";
    case TENSORFLOW__ATTR_VALUE__VALUE_I: return "int";
    case TENSORFLOW__ATTR_VALUE__VALUE_F: return "float";
    case TENSORFLOW__ATTR_VALUE__VALUE_B: return "bool";
    case TENSORFLOW__ATTR_VALUE__VALUE_TYPE: return "type";
    case TENSORFLOW__ATTR_VALUE__VALUE_SHAPE: return "shape";
    case TENSORFLOW__ATTR_VALUE__VALUE_TENSOR: return "tensor";
    case TENSORFLOW__ATTR_VALUE__VALUE_FUNC: return "func";
    case TENSORFLOW__ATTR_VALUE__VALUE_PLACEHOLDER: return "placeholder";
    case TENSORFLOW__ATTR_VALUE__VALUE_LIST: {
        const Tensorflow__AttrValue__ListValue *l = v->list;
        int kinds = !!l->n_s + !!l->n_i + !!l->n_f + !!l->n_b + !!l->n_type + !!l->n_shape +
                    !!l->n_tensor + !!l->n_func;
        if (kinds > 1) return "list(mixed)";
        return l->n_s        ? "list(string)"
               : l->n_i      ? "list(int)"
               : l->n_f      ? "list(float)"
               : l->n_b      ? "list(bool)"
               : l->n_type   ? "list(type)"
               : l->n_shape  ? "list(shape)"
               : l->n_tensor ? "list(tensor)"
               : l->n_func   ? "list(func)"
                             : "list";
    }
    default: return "nothing";
    }
}
