/* What a saver holds, for code that runs it through another kind of
 * session (the cluster saver, src/distributed/cluster_saver.c): the
 * variables it saves, in order (their checkpoint keys are the saver's). */
#ifndef TFC_TRAIN_SAVER_INTERNAL_H
#define TFC_TRAIN_SAVER_INTERNAL_H

#include "tfc.h"

int tfc_saver_num_vars(const tfc_saver *sv);
/* Variable i (a VariableV2 or VarHandleOp node), or NULL out of range. */
tfc_node *tfc_saver_var(const tfc_saver *sv, int i);
/* The graph the saver was made on. */
tfc_graph *tfc_saver_graph(const tfc_saver *sv);

#endif
