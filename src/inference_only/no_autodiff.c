/* The inference-only build (cmake/mobile.cmake) leaves src/autodiff/gradients.c
 * out; a function body asked for its gradient (function.c) reaches this
 * instead, and the graph records why. */
#include "graph/graph.h"

int tfc_gradients(tfc_graph *g, const tfc_output *ys, int ny, const tfc_output *xs, int nx,
                  const tfc_output *grad_ys, tfc_output *grads) {
    (void)ys, (void)ny, (void)xs, (void)nx, (void)grad_ys, (void)grads;
    return tfc_graph_fail(g, TFC_UNIMPLEMENTED,
                          "gradients are not part of the inference-only build of tfc "
                          "(TFC_INFERENCE_ONLY): build the full library to differentiate");
}
