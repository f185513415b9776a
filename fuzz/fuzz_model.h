/* The small model whose checkpoints seed fuzz_checkpoint and which that
 * harness restores into (and fuzz_checkpoint_state saves): three variables
 * of three dtypes, so one checkpoint's bytes reach every dtype's path.
 * make_seeds.c saves it; the harnesses build the same one, so a seed's
 * names, dtypes and shapes match and the restore gets past its checks. */
#ifndef TFC_FUZZ_MODEL_H
#define TFC_FUZZ_MODEL_H

#include "tfc.h"

#include <stdio.h>
#include <stdlib.h>

typedef struct fuzz_model {
    tfc_graph *graph;
    tfc_session *session;
} fuzz_model;

/* Builds the model in a new graph and initializes its variables in a new
 * session. Aborts on failure (nothing could be tested). */
static inline fuzz_model fuzz_model_new(void) {
    fuzz_model m;
    m.graph = tfc_graph_new();
    int64_t d1[] = {7, 3}, d2[] = {11};
    tfc_variable(m.graph, "a", tfc_random_uniform(m.graph, TFC_FLOAT, 2, d1, -1, 1, 1));
    tfc_variable(m.graph, "dense/b", tfc_random_uniform(m.graph, TFC_DOUBLE, 1, d2, -1, 1, 2));
    tfc_variable(m.graph, "global_step", tfc_const_int64(m.graph, 42));
    tfc_node *init = tfc_global_variables_initializer(m.graph);
    tfc_status *st = tfc_status_new();
    tfc_session_options opts = {.intra_op_threads = 1, .inter_op_threads = 1};
    m.session = tfc_graph_error(m.graph) ? NULL : tfc_session_new(m.graph, &opts, st);
    if (m.session) tfc_session_run(m.session, NULL, NULL, 0, NULL, 0, NULL, &init, 1, st);
    if (!m.session || tfc_status_code(st) != TFC_OK) {
        fprintf(stderr, "fuzz_model: %s %s\n",
                tfc_graph_error(m.graph) ? tfc_graph_error(m.graph) : "", tfc_status_message(st));
        abort();
    }
    tfc_status_free(st);
    return m;
}

static inline void fuzz_model_free(fuzz_model *m) {
    tfc_session_free(m->session);
    tfc_graph_free(m->graph);
}

#endif
