/* Makes a NodeDef tfc writes what TensorFlow's OpDef for its op requires
 * (tf_op_defs_data.h): the GraphDef writer calls it on every node. */
#ifndef TFC_FORMATS_TF_NODE_DEF_H
#define TFC_FORMATS_TF_NODE_DEF_H

#include "formats/proto.h"
#include "graph.pb-c.h"
#include "graph/graph.h"

/* Completes NodeDef m, written from node n, from TensorFlow's OpDef of its
 * op (the argument dtypes are n's inputs' and outputs'):
 * adds the attrs TensorFlow derives from the arguments and tfc does not
 * store (type attrs such as Assign's T, number attrs such as AddN's N,
 * type lists), and rewrites attrs tfc keeps in another kind into the
 * declared one (a list(type) or list(shape) kept as an int list, a bool
 * kept as an int), and renames tfc's own attrs that the OpDef lacks to
 * "_tfc_<name>". Attrs already there keep their values. An op without
 * an OpDef is left alone. New memory comes from `a`: -1 when it runs out. */
int tfc_tf_node_def_complete(tfc_arena *a, const tfc_node *n, Tensorflow__NodeDef *m);

#endif
