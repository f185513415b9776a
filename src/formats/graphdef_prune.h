/* Pruning a GraphDef to the outputs asked for, and the check that lists
 * every op it uses that tfc lacks (graphdef_prune.c). */
#ifndef TFC_FORMATS_GRAPHDEF_PRUNE_H
#define TFC_FORMATS_GRAPHDEF_PRUNE_H

#include "graph.pb-c.h"
#include "tfc.h"

/* A GraphDef as pruned: `gd` is a shallow copy of the original whose node
 * and library arrays are owned by the view (the messages they point to are
 * the original's). */
typedef struct tfc_graphdef_view {
    Tensorflow__GraphDef gd;
    Tensorflow__FunctionDefLibrary lib;
    Tensorflow__NodeDef **nodes;
    Tensorflow__FunctionDef **fns;
} tfc_graphdef_view;

/* Keeps the nodes the outputs keep[0..nkeep) ("y:0", "y" or "^op") need
 * through data and control inputs (an input named in map_names is not
 * followed), and the functions they call. nkeep 0: the whole GraphDef. An
 * output naming no node is TFC_NOT_FOUND. 0, or -1 with status set; free
 * the view with tfc_graphdef_view_free either way. */
int tfc_graphdef_prune(const Tensorflow__GraphDef *gd, const char *const *keep, int nkeep,
                       const char *const *map_names, int nmap, tfc_graphdef_view *out,
                       tfc_status *status);
void tfc_graphdef_view_free(tfc_graphdef_view *v);
/* 0 when tfc has every op gd's nodes and functions use; else -1 with
 * TFC_NOT_FOUND and one message naming each missing op and a node using it. */
int tfc_graphdef_check_ops(const Tensorflow__GraphDef *gd, tfc_status *status);

#endif
