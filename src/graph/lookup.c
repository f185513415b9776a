/* Looking up a tensor by TensorFlow's "op_name:index" syntax, with
 * TensorFlow's messages when the name or the index does not exist. */
#include "core/status.h"
#include "graph/graph.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int tfc_graph_output_by_name(const tfc_graph *g, const char *name, tfc_output *out,
                             tfc_status *st) {
    if (out) *out = (tfc_output){NULL, 0};
    if (!g || !name || !out) {
        tfc_status_set(st, TFC_INVALID_ARGUMENT, "tfc_graph_output_by_name: null argument");
        return -1;
    }
    const char *colon = strrchr(name, ':');
    size_t op_len = colon ? (size_t)(colon - name) : strlen(name);
    long index = 0;
    if (colon) {
        char *end;
        errno = 0;
        index = strtol(colon + 1, &end, 10);
        if (colon[1] < '0' || colon[1] > '9' || *end || errno || index > 1 << 20) {
            tfc_status_set(st, TFC_INVALID_ARGUMENT,
                           "The name '%s' looks like a Tensor name, but is not a valid one. "
                           "Tensor names must be of the form \"<op_name>:<output_index>\".",
                           name);
            return -1;
        }
    }
    char *op_name = malloc(op_len + 1);
    if (!op_name) {
        tfc_status_set(st, TFC_RESOURCE_EXHAUSTED, "out of memory looking up '%s'", name);
        return -1;
    }
    memcpy(op_name, name, op_len);
    op_name[op_len] = '\0';
    tfc_node *n = tfc_graph_node_by_name(g, op_name);
    free(op_name);
    if (!n) {
        tfc_status_set(st, TFC_NOT_FOUND,
                       "The name '%s' refers to a Tensor which does not exist. The operation, "
                       "'%.*s', does not exist in the graph.",
                       name, (int)op_len, name);
        return -1;
    }
    int nout = tfc_node_num_outputs(n);
    if (index >= nout) {
        tfc_status_set(st, TFC_NOT_FOUND,
                       "The name '%s' refers to a Tensor which does not exist. The operation, "
                       "'%.*s', exists but only has %d outputs.",
                       name, (int)op_len, name, nout);
        return -1;
    }
    *out = (tfc_output){n, (int)index};
    return 0;
}
