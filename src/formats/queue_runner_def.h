/* Queue runners in MetaGraphs, as TensorFlow keeps them: the collection
 * "queue_runners" is a bytes_list of QueueRunnerDef protos
 * (protos/queue_runner.proto). In a tfc graph a runner lives in the
 * collections src/data/queue_runner.c keeps ("queue_runners" listing the
 * queue nodes, "queue_runners/<i>/enqueue_ops", ".../close_op",
 * ".../cancel_op"); meta_graph.c calls these to turn one into the other. */
#ifndef TFC_FORMATS_QUEUE_RUNNER_DEF_H
#define TFC_FORMATS_QUEUE_RUNNER_DEF_H

#include "formats/proto.h"
#include "tfc.h"

struct Tensorflow__MetaGraphDef;
struct Tensorflow__MetaGraphDef__CollectionDefEntry;

/* Is `key` one of the collections that hold tfc's queue runners? Export
 * writes those as QueueRunnerDefs instead of node lists. */
int tfc_queue_runner_key(const char *key);
/* Appends to m->collection_def (an arena array, grown here) the entry
 * "queue_runners" with one QueueRunnerDef per runner of g; nothing when g
 * has none. 0, or -1 when memory ran out. */
int tfc_queue_runner_defs_export(tfc_arena *a, const tfc_graph *g,
                                 struct Tensorflow__MetaGraphDef *m);
/* Before the import: every QueueRunnerDef decodes and names nodes of
 * m's GraphDef (an unnamed close or cancel op is allowed). 0, or -1 with
 * `status` saying which. */
int tfc_queue_runner_defs_check(const struct Tensorflow__MetaGraphDef *m, tfc_status *status);
/* After the import of m's nodes under `prefix` (NULL or "": none): adds
 * each QueueRunnerDef of m as a queue runner of g (tf.train.import_meta_graph;
 * tfc_start_queue_runners then starts them). With `pruned`, a runner whose
 * nodes were not all imported is left out. 0, or -1 with `status` set. */
int tfc_queue_runner_defs_import(tfc_graph *g, const struct Tensorflow__MetaGraphDef *m,
                                 const char *prefix, int pruned, tfc_status *status);

#endif
