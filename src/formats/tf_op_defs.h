/* What TensorFlow's OpDefs declare about the NodeDefs tfc imports: the
 * kind of each attr (type, bool, list(int), ...) and which type attr
 * types each data input. GraphDef import checks every NodeDef against
 * them, so an attr of the wrong kind or a T that is not its input's dtype
 * is an error naming the node, not a silent misreading. Attrs and ops not
 * listed are tfc's own or unknown here, and are not checked. */
#ifndef TFC_FORMATS_TF_OP_DEFS_H
#define TFC_FORMATS_TF_OP_DEFS_H

typedef enum tfc_tf_attr_kind {
    TFC_TF_ATTR_UNDECLARED = 0,
    TFC_TF_ATTR_INT,
    TFC_TF_ATTR_FLOAT,
    TFC_TF_ATTR_BOOL,
    TFC_TF_ATTR_TYPE,
    TFC_TF_ATTR_SHAPE,
    TFC_TF_ATTR_STRING,
    TFC_TF_ATTR_TENSOR,
    TFC_TF_ATTR_FUNC,
    TFC_TF_ATTR_LIST_INT,
    TFC_TF_ATTR_LIST_FLOAT,
    TFC_TF_ATTR_LIST_TYPE,
    TFC_TF_ATTR_LIST_SHAPE,
    TFC_TF_ATTR_LIST_STRING
} tfc_tf_attr_kind;

/* The kind op `op` declares for attr `name` (UNDECLARED when not listed). */
tfc_tf_attr_kind tfc_tf_attr_kind_of(const char *op, const char *name);
/* "int", "list(int)", ... as TensorFlow's OpDefs write the kinds. */
const char *tfc_tf_attr_kind_name(tfc_tf_attr_kind k);
/* The type attr that types data input i of `op` with n data inputs, or NULL
 * (a fixed dtype, or an op not listed). */
const char *tfc_tf_input_type_attr(const char *op, int i, int n, char *buf, int cap);

#endif
