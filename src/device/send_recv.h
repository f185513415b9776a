/* _Send and _Recv: the node pair the partitioner puts on an edge that
 * crosses devices (TensorFlow's ops of these names and attrs: T (_Send) or
 * tensor_type (_Recv), tensor_name, send_device, send_device_incarnation,
 * recv_device, client_terminated; tensorflow/core/ops/sendrecv_ops.cc). _Send hands its input to the step's rendezvous under
 * the pair's key; _Recv's output is what arrived. A pair carrying a control
 * edge sends no value: _Send waits for the control source, _Recv has no
 * output and its dependents wait for it.
 *
 * The nodes belong to no graph: a partitioned plan makes them and frees
 * them (tfc_sendrecv_node_free). The executor registers each _Recv's key
 * with the rendezvous when a step starts and stores the arriving value in
 * the node's output, so a partition waiting for a value holds no thread;
 * _Recv's kernel then checks it (and would copy it into a device's own
 * memory). */
#ifndef TFC_DEVICE_SEND_RECV_H
#define TFC_DEVICE_SEND_RECV_H

#include "device/device.h"

extern const tfc_op_def tfc_op_send;
extern const tfc_op_def tfc_op_recv;

/* A _Send named `name` sending `src` (src.node NULL: a control edge) from
 * device `from` to `to` as `tensor_name`; NULL when memory runs out. */
tfc_node *tfc_send_node_new(const char *name, const char *tensor_name, tfc_output src,
                            const tfc_device *from, const tfc_device *to);
/* The matching _Recv: one output of `src`'s dtype and shape (none for a
 * control edge). */
tfc_node *tfc_recv_node_new(const char *name, const char *tensor_name, tfc_output src,
                            const tfc_device *from, const tfc_device *to);
void tfc_sendrecv_node_free(tfc_node *n);
/* The rendezvous key of a _Send or _Recv node. */
const char *tfc_sendrecv_key(const tfc_node *n);
/* Does the pair carry a control edge (no value)? */
int tfc_sendrecv_is_control(const tfc_node *n);

#endif
