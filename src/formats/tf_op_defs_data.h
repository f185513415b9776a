/* TensorFlow's OpDefs for the ops tfc has or reads, as data: each a
 * serialized tensorflow.OpDef generated from tests/data/tf_op_defs/ops.pbtxt
 * (TensorFlow's op registry dump, cut; its README.md says where it came
 * from) by scripts/update_tf_op_defs.py into tf_op_defs_data.c. The
 * GraphDef writer completes NodeDefs from them (tf_node_def.c), MetaGraph
 * export copies them into stripped_op_list, and tests check what tfc
 * writes against them. */
#ifndef TFC_FORMATS_TF_OP_DEFS_DATA_H
#define TFC_FORMATS_TF_OP_DEFS_DATA_H

#include "graph.pb-c.h"

#include <stddef.h>

typedef struct tfc_tf_op_def_bytes {
    const char *name;
    size_t len;
    const char *bytes; /* the serialized OpDef */
} tfc_tf_op_def_bytes;

/* Sorted by name. */
extern const tfc_tf_op_def_bytes tfc_tf_op_defs_data[];
extern const int tfc_tf_op_defs_count;

/* The serialized OpDef of op `name`, or NULL when it is not kept. */
const tfc_tf_op_def_bytes *tfc_tf_op_def_bytes_of(const char *name);
/* TensorFlow's OpDef of op `name`, unpacked once and kept for the life of
 * the process (read-only), or NULL when it is not kept. Thread-safe. */
const Tensorflow__OpDef *tfc_tf_op_def(const char *name);

#endif
