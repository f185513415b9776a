/* GraphDef conversion shared by the GraphDef, MetaGraph and event-file
 * writers: a tfc graph to and from the protobuf-c GraphDef message. */
#ifndef TFC_FORMATS_GRAPHDEF_H
#define TFC_FORMATS_GRAPHDEF_H

#include "formats/proto.h"
#include "graph.pb-c.h"
#include "tfc.h"

/* The GraphDef of `g`, built in arena `a` (NULL when out of memory). */
Tensorflow__GraphDef *tfc_graphdef_build(tfc_arena *a, const tfc_graph *g);
/* A GraphDef of nodes[0, n), which need not be g's (a partition's nodes
 * and its _Send/_Recv), each written as tfc_graphdef_build writes g's, with
 * g's function library; callers may then rewrite the NodeDefs' inputs and
 * devices (runtime/partition_graph.c). NULL when out of memory. */
Tensorflow__GraphDef *tfc_graphdef_build_nodes(tfc_arena *a, const tfc_graph *g,
                                               tfc_node *const *nodes, int n);
/* Checks that g's function library can be written (function names are
 * unique across nested bodies). 0, or -1 with `status` set. */
int tfc_graphdef_check_library(const tfc_graph *g, tfc_status *status);
/* Appends the serialized GraphDef of `g` to `b`. */
void tfc_graphdef_encode(tfc_buf *b, const tfc_graph *g);
/* tfc_graph_import_graphdef_v2 from a decoded message (opts NULL: the
 * defaults); `collections` 0 leaves the variable collections alone (a
 * MetaGraph brings its own). */
int tfc_graphdef_import(tfc_graph *g, const Tensorflow__GraphDef *gd,
                        const tfc_import_options *opts, int collections, tfc_status *status);
/* Checks the options' values (NULL is fine). 0, or -1 with status set. */
int tfc_import_options_check(const tfc_import_options *opts, tfc_status *status);
/* Reads a whole file into a malloc'd buffer. 0, or -1 with status set. */
int tfc_read_file(const char *path, uint8_t **bytes, size_t *len, tfc_status *status);

#endif
