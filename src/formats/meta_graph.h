/* MetaGraphDef encoding, used by tfc_export_meta_graph and by the Saver's
 * <prefix>.meta files. */
#ifndef TFC_FORMATS_META_GRAPH_H
#define TFC_FORMATS_META_GRAPH_H

#include "formats/pb.h"
#include "formats/proto.h"
#include "tfc.h"

/* Appends a MetaGraphDef: graph_def, a SaverDef (V2 format, max_to_keep,
 * the names of the save/restore subgraph added to the graph_def) when
 * max_to_keep is not 0, the variable collections as VariableDefs and the
 * others as node_lists, and meta_info_def. */
void tfc_meta_graph_encode(tfc_buf *b, const tfc_graph *g, int max_to_keep);
/* tfc_import_meta_graph_v2 from a decoded message (m->graph_def set); with
 * opts->keep_outputs, collection entries naming nodes not kept are left
 * out. 0, or -1 with status set. */
typedef struct Tensorflow__MetaGraphDef Tensorflow__MetaGraphDef;
int tfc_meta_graph_import(tfc_graph *g, const Tensorflow__MetaGraphDef *m,
                          const tfc_import_options *opts, tfc_status *status);
/* ---- what makes it TensorFlow's (meta_graph_saver.c) ---- */
/* The MetaGraphDef of g built in arena `a` (NULL when out of memory), as
 * tfc_meta_graph_encode writes it: with max_to_keep not 0 a saver_def
 * naming the Saver's save/restore subgraph, which the graph_def gets. */
Tensorflow__MetaGraphDef *tfc_meta_graph_build(tfc_arena *a, const tfc_graph *g,
                                               int max_to_keep);
/* Completes m (graph_def and collections from g): the variable collections
 * as VariableDefs (with snapshot nodes where g has none), the Saver's
 * subgraph and the saver_def's names when m has a saver_def (dropped
 * when g has no global variables), and
 * meta_info_def (tfc's version strings, any_info, stripped_op_list). -1
 * when memory runs out. */
int tfc_meta_graph_add_tf_parts(tfc_arena *a, const tfc_graph *g, Tensorflow__MetaGraphDef *m);
/* Is `key` a variable collection (written as VariableDefs)? */
int tfc_meta_graph_variable_key(const char *key);
/* How collection `key` names node n: "n" in TensorFlow's collections of
 * operations and for nodes without outputs, "n:0" otherwise. NULL when
 * memory runs out. */
char *tfc_meta_graph_entry_name(tfc_arena *a, const char *key, const tfc_node *n);

/* Writes `n` bytes to `path` through a temporary file and a rename. */
int tfc_write_file_atomic(const char *path, const void *p, size_t n, tfc_status *status);

#endif
