/* What the allreduce ops (allreduce_ops.c) share with the distributed
 * optimizer and the chief's checkpoints. */
#ifndef TFC_DISTRIBUTED_ALLREDUCE_INTERNAL_H
#define TFC_DISTRIBUTED_ALLREDUCE_INTERNAL_H

#include "tfc.h"

typedef struct tfc_ar_attrs {
    tfc_reduce_op op;
    double prescale, postscale; /* HorovodAllreduce, HorovodGroupedAllreduce */
    int root;                   /* the broadcasts */
} tfc_ar_attrs;

/* A collective node of `type` on `nin` inputs with `nout` outputs
 * (TfcOrderedAllreduce: local_shards = nin / nout), after `after` (a
 * control input, or NULL). NULL with the error on g. */
tfc_node *tfc_ar_node(tfc_graph *g, const char *type, const tfc_output *xs, int nin, int nout,
                      const tfc_ar_attrs *at, tfc_node *after);
/* Reduces xs[0..n) (any float/int dtypes, mixed) into out[0..n): one
 * grouped collective per dtype (TfcOrderedAllreduce with one local shard
 * when `deterministic`, else HorovodGroupedAllreduce), each after the one
 * before and the first after *last (when last and *last are set); *last
 * becomes the final one. 0 or -1 with the error on g. */
int tfc_ar_reduce_by_dtype(tfc_graph *g, const tfc_output *xs, int n, tfc_reduce_op op,
                           int deterministic, tfc_output *out, tfc_node **last);

#endif
