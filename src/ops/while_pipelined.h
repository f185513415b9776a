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

/* Checks that `got`, loop variable i's value after iteration `iter` (it
 * was `was`), stays inside the shape invariant of the body's param i;
 * else reports the error on c and returns -1. */
int tfc_while_check_invariant(tfc_kernel_ctx *c, const tfc_function *bf, int i,
                              const tfc_tensor *was, const tfc_tensor *got, int64_t iter);

/* How many loops ran pipelined (for tests). */
extern atomic_int tfc_while_pipelined_count;

#endif
