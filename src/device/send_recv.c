/* _Send and _Recv nodes and kernels (see send_recv.h). */
#include "device/send_recv.h"
#include "device/rendezvous.h"

#include <stdlib.h>
#include <string.h>

typedef struct sendrecv_info {
    int control;
    char key[640];
} sendrecv_info;

static void send_kernel(tfc_kernel_ctx *c) {
    const sendrecv_info *info = c->node->op_data;
    if (!c->rendezvous) {
        tfc_kernel_error(c, TFC_FAILED_PRECONDITION,
                         "_Send runs only in a run split over devices (no rendezvous)");
        return;
    }
    tfc_tensor *v = info->control ? NULL : tfc_tensor_ref(c->inputs[0]);
    tfc_status st;
    if (tfc_rendezvous_send(c->rendezvous, info->key, v, 0, &st))
        tfc_kernel_error(c, st.code, "%s", st.msg);
}

static void recv_kernel(tfc_kernel_ctx *c) {
    const sendrecv_info *info = c->node->op_data;
    if (info->control) return;
    if (!c->outputs[0]) {
        /* a dead tensor: tfc's control flow is functional (a branch not
         * taken never runs), so its partitions never send one */
        tfc_kernel_error(c, TFC_INTERNAL, "received a dead tensor for %s", info->key);
        return;
    }
    /* a device with memory of its own takes the value into it */
    if (c->device && c->device->type->copy_from_host) {
        tfc_status st;
        tfc_tensor *t = c->device->type->copy_from_host(c->device, c->outputs[0], &st);
        if (!t) {
            tfc_kernel_error(c, st.code, "%s", st.msg);
            return;
        }
        tfc_tensor_free(c->outputs[0]);
        c->outputs[0] = t;
    }
}

const tfc_op_def tfc_op_send = {"_Send", 0, 1, 0, TFC_OP_STATEFUL | TFC_OP_NO_GRADIENT, 0,
                                NULL, send_kernel, NULL};
const tfc_op_def tfc_op_recv = {"_Recv", 0, 0, 1, TFC_OP_STATEFUL | TFC_OP_NO_GRADIENT, 0,
                                NULL, recv_kernel, NULL};

static tfc_node *node_new(const tfc_op_def *op, const char *name, const char *tensor_name,
                          tfc_output src, const tfc_device *from, const tfc_device *to,
                          const tfc_device *at) {
    tfc_node *n = calloc(1, sizeof *n);
    sendrecv_info *info = calloc(1, sizeof *info);
    if (!n || !info) goto oom;
    n->id = -1;
    n->op = op;
    n->op_data = info;
    n->name = strdup(name);
    n->device = strdup(at->name);
    if (!n->name || !n->device) goto oom;
    info->control = src.node == NULL;
    tfc_rendezvous_key(info->key, sizeof info->key, from->name, from->incarnation, to->name,
                       tensor_name, 0, 0);
    tfc_dtype dt = src.node ? src.node->out_dtypes[src.index] : TFC_FLOAT;
    if (op == &tfc_op_send && src.node) {
        n->inputs = malloc(sizeof *n->inputs);
        if (!n->inputs) goto oom;
        n->inputs[0] = src;
        n->ninputs = 1;
    }
    if (op == &tfc_op_recv && src.node) {
        n->out_dtypes = malloc(sizeof *n->out_dtypes);
        n->out_shapes = malloc(sizeof *n->out_shapes);
        if (!n->out_dtypes || !n->out_shapes) goto oom;
        n->out_dtypes[0] = dt;
        n->out_shapes[0] = src.node->out_shapes[src.index];
        n->noutputs = 1;
    }
    /* TensorFlow's names: _Send's type attr is T, _Recv's tensor_type */
    if (tfc_attrs_set_int(&n->attrs, op == &tfc_op_send ? "T" : "tensor_type", TFC_ATTR_TYPE,
                          dt) ||
        tfc_attrs_set_string(&n->attrs, "tensor_name", tensor_name) ||
        tfc_attrs_set_string(&n->attrs, "send_device", from->name) ||
        tfc_attrs_set_int(&n->attrs, "send_device_incarnation", TFC_ATTR_INT,
                          (int64_t)from->incarnation) ||
        tfc_attrs_set_string(&n->attrs, "recv_device", to->name) ||
        tfc_attrs_set_int(&n->attrs, "client_terminated", TFC_ATTR_BOOL, 0))
        goto oom;
    return n;
oom:
    if (n) {
        n->op_data = info;
        tfc_sendrecv_node_free(n);
    } else {
        free(info);
    }
    return NULL;
}

tfc_node *tfc_send_node_new(const char *name, const char *tensor_name, tfc_output src,
                            const tfc_device *from, const tfc_device *to) {
    return node_new(&tfc_op_send, name, tensor_name, src, from, to, from);
}

tfc_node *tfc_recv_node_new(const char *name, const char *tensor_name, tfc_output src,
                            const tfc_device *from, const tfc_device *to) {
    return node_new(&tfc_op_recv, name, tensor_name, src, from, to, to);
}

void tfc_sendrecv_node_free(tfc_node *n) {
    if (!n) return;
    free(n->name);
    free(n->device);
    free(n->inputs);
    free(n->out_dtypes);
    free(n->out_shapes);
    tfc_attrs_free(&n->attrs);
    free(n->op_data);
    free(n);
}

const char *tfc_sendrecv_key(const tfc_node *n) {
    return ((const sendrecv_info *)n->op_data)->key;
}

int tfc_sendrecv_is_control(const tfc_node *n) {
    return ((const sendrecv_info *)n->op_data)->control;
}
