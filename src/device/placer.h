/* The placer: gives every node of a graph a device, as TensorFlow's
 * Placer does.
 *
 * Colocation groups first (union-find): a node with a ref input (Assign*,
 * Apply*, Scatter*: the updates of a variable, its gradients' updates
 * included) joins the variable; an Identity reading a variable joins it
 * (the "read" op); a `_class` attr of "loc:@NAME" entries (comma-separated;
 * tfc_colocate_with_push writes them) joins the named node. Each group's
 * requested devices merge (a node's device string, scopes already merged
 * by the builder); a conflict is "Cannot colocate nodes ...". The group
 * then goes to the first device (type priority, then id) that matches its
 * request and has a kernel for every member. None: with soft placement the
 * group moves to a device of the requested type, else to any device with
 * the kernels; without it the run fails with TensorFlow's "Cannot assign a
 * device for operation 'X': ..." naming the node and the devices there are. */
#ifndef TFC_DEVICE_PLACER_H
#define TFC_DEVICE_PLACER_H

#include "device/device.h"

/* Places nodes[0, nnodes) (a graph's nodes in id order, node i having id
 * i). assign[id] is each node's device index; entries >= 0 on entry come
 * from an earlier call (the graph grew since) and are kept: new nodes
 * colocated with them follow. With `log`, prints TensorFlow's
 * log_device_placement line for each newly placed node to stderr,
 * "name: (Type): /job:localhost/replica:0/task:0/device:CPU:0".
 * 0, or -1 with `st` set (assign then unchanged). */
int tfc_place(tfc_node *const *nodes, int nnodes, const tfc_device_set *devs, int allow_soft,
              int log, int *assign, tfc_status *st);

#endif
