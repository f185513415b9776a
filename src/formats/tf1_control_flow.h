/* TF1's graph-level control flow at import: a GraphDef that TensorFlow 1's
 * tf.cond and tf.while_loop wrote (Switch, Merge, Enter, Exit,
 * NextIteration, LoopCond, and their Ref variants) is rewritten, before
 * any node is added, into tfc's functional control flow: each while frame
 * becomes a While node with cond and body functions, each cond (the Switch
 * nodes on one predicate and the Merges that join their branches) an If
 * with two branch functions, as TensorFlow's own "functionalize control
 * flow" pass does for XLA. The rewritten GraphDef then imports as usual. */
#ifndef TFC_FORMATS_TF1_CONTROL_FLOW_H
#define TFC_FORMATS_TF1_CONTROL_FLOW_H

#include "formats/proto.h"
#include "graph.pb-c.h"
#include "tfc.h"

/* Does the GraphDef (its top-level nodes) hold TF1 control-flow nodes? */
int tfc_tf1_control_flow_present(const Tensorflow__GraphDef *gd);

/* The functional form of `gd` in *out: its nodes with every while frame
 * and cond replaced by While and If nodes, its library with the new
 * functions added. *out and what it points to live in arena `a`, and
 * share strings and attrs with `gd` (keep gd until *out is done with).
 * 0, or -1 with `status` set to a message naming the frame or node and
 * what is wrong with it. */
int tfc_tf1_functionalize(const Tensorflow__GraphDef *gd, tfc_arena *a, Tensorflow__GraphDef **out,
                          tfc_status *status);

/* tfc_graphdef_import (graphdef.h) of a GraphDef with TF1 control flow:
 * converts it, then imports the result. 0, or -1 with status set. */
int tfc_tf1_control_flow_import(tfc_graph *g, const Tensorflow__GraphDef *gd,
                                const tfc_import_options *opts, int collections,
                                tfc_status *status);

#endif
