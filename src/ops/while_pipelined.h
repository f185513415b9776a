/* The While op's pipelined mode: up to parallel_iterations iterations in
 * flight at once (see while_pipelined.c). */
#ifndef TFC_OPS_WHILE_PIPELINED_H
#define TFC_OPS_WHILE_PIPELINED_H

#include "graph/function.h"
#include "graph/op_registry.h"

#include <stdatomic.h>

/* Runs the loop of While node c (nv loop variables, inputs [vars...,
 * captures...]) from iteration k0, whose variables are vars0, with cond
 * and body in sessions cs and bs, which must have several inter-op
 * threads, keeping at most `window` bodies running. Sets the outputs, or
 * an error on c. */
void tfc_while_pipelined(tfc_kernel_ctx *c, tfc_session *cs, tfc_session *bs,
                         const tfc_function *cf, const tfc_function *bf, int nv, int window,
                         tfc_tensor *const *vars0, int64_t k0);

/* How many loops ran pipelined (for tests). */
extern atomic_int tfc_while_pipelined_count;

#endif
