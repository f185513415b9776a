/* Checks files tfc writes against TensorFlow's OpDefs (tf_op_defs_data.h)
 * as TensorFlow's graph importer would: every node's op has an OpDef,
 * every attr is declared (or starts with '_'), of its declared kind, within
 * its allowed values and minimum, every attr without a default is there,
 * the inputs match the argument lists (counts from number_attr and
 * type_list_attr) with the dtypes the args declare (ref args fed by ref
 * outputs), and _output_shapes has one shape per output. Function bodies
 * of the library are checked the same way. Tests use it on everything
 * tfc writes. */
#ifndef TFC_FORMATS_TF_GRAPH_CHECK_H
#define TFC_FORMATS_TF_GRAPH_CHECK_H

#include <stddef.h>
#include <stdint.h>

typedef struct tfc_tf_check {
    /* Called once per problem with a sentence naming the node. */
    void (*problem)(void *user, const char *message);
    /* Called for every node checked (may be NULL). */
    void (*op_seen)(void *user, const char *op);
    void *user;
    /* Ops that have no TensorFlow OpDef (tfc's own), NULL-terminated: their
     * nodes are not checked, and their outputs' dtypes are not known. */
    const char *const *tfc_only_ops;
} tfc_tf_check;

/* Checks a serialized GraphDef. Returns the number of problems (-1 when
 * the bytes are no GraphDef). */
int tfc_tf_check_graph_def(const void *bytes, size_t len, const tfc_tf_check *c);
/* Checks a serialized MetaGraphDef: its graph as above, plus: the
 * saver_def names tensors and ops of the graph, every VariableDef of the
 * variable collections names nodes of the graph, node_list entries name
 * nodes, and stripped_op_list holds the OpDef of every op the graph uses
 * (equal to TensorFlow's). */
int tfc_tf_check_meta_graph(const void *bytes, size_t len, const tfc_tf_check *c);
/* The number of input args, output args and attrs of TensorFlow's OpDef
 * for `op` in counts[0..2] (for checking the data against its text).
 * 0, or -1 when the op is not kept. */
int tfc_tf_op_def_counts(const char *op, int counts[3]);
/* The name of kept OpDef i (sorted), or NULL past the end. */
const char *tfc_tf_op_def_name(int i);

#endif
