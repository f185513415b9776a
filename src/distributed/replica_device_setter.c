/* tf.train.replica_device_setter as a scope: the nodes made between begin
 * and end get their devices at end. Variables go to the ps tasks (round
 * robin, or greedily to the least loaded by bytes, TensorFlow's
 * GreedyLoadBalancingStrategy with byte_size_load_fn); every other node
 * to the worker device. What a node asked for itself wins, part by part
 * (TensorFlow's merge_devices). */
#include "distributed/cluster_spec.h"
#include "device/device_name.h"
#include "graph/graph.h"
#include "graph/op_registry.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct tfc_replica_device_setter {
    tfc_graph *g;
    int first; /* the first node id of the scope */
    int ps_tasks;
    char ps_job[128];
    char worker_device[256];
    int strategy;
};

tfc_replica_device_setter *tfc_replica_device_setter_begin(
    tfc_graph *g, const tfc_cluster *cluster, const tfc_replica_device_setter_options *opts) {
    if (!g) return NULL;
    tfc_replica_device_setter_options o = {0};
    if (opts) o = *opts;
    const char *ps_job = o.ps_job ? o.ps_job : "ps";
    int ps_tasks = o.ps_tasks;
    if (ps_tasks <= 0) {
        ps_tasks = cluster ? tfc_cluster_num_tasks(cluster, ps_job) : -1;
        if (ps_tasks <= 0) {
            tfc_graph_fail(g, TFC_INVALID_ARGUMENT,
                           "replica device setter: %s; give ps_tasks or a cluster with job '%s'",
                           cluster ? "the cluster has no such ps job" : "no cluster", ps_job);
            return NULL;
        }
    }
    const char *wd = o.worker_device ? o.worker_device : "/job:worker";
    char err[256];
    if (tfc_device_name_parse(wd, NULL, err, sizeof err)) {
        tfc_graph_fail(g, TFC_INVALID_ARGUMENT, "replica device setter: worker_device '%s': %s",
                       wd, err);
        return NULL;
    }
    tfc_replica_device_setter *r = calloc(1, sizeof *r);
    if (!r) {
        tfc_graph_fail(g, TFC_RESOURCE_EXHAUSTED, "out of memory");
        return NULL;
    }
    r->g = g;
    r->first = tfc_graph_num_nodes(g);
    r->ps_tasks = ps_tasks;
    snprintf(r->ps_job, sizeof r->ps_job, "%s", ps_job);
    snprintf(r->worker_device, sizeof r->worker_device, "%s", wd);
    r->strategy = o.strategy;
    return r;
}

static int is_variable(const tfc_node *n) {
    return (n->op->flags & TFC_OP_VARIABLE) || !strcmp(n->op->type, "VarHandleOp");
}

/* The bytes of a variable (its static shape; unknown dims count as 1). */
static double var_bytes(const tfc_node *n) {
    tfc_dtype dt = n->noutputs ? n->out_dtypes[0] : TFC_FLOAT;
    tfc_shape sh = n->noutputs ? n->out_shapes[0] : (tfc_shape){0, {0}};
    if (!strcmp(n->op->type, "VarHandleOp")) {
        dt = (tfc_dtype)tfc_node_attr_int(n, "dtype", TFC_FLOAT);
        const tfc_attr *a = tfc_attrs_find(&n->attrs, "shape");
        sh = a && a->kind == TFC_ATTR_SHAPE ? a->v.shape : (tfc_shape){0, {0}};
    }
    double b = (double)tfc_dtype_size(dt);
    for (int i = 0; i < sh.rank; i++) b *= sh.dims[i] > 0 ? (double)sh.dims[i] : 1.0;
    return b;
}

/* n's device: its own request, the setter's parts where it has none. */
static int set_device(tfc_node *n, const char *setter_device, char *err, size_t errcap) {
    tfc_device_name own, dflt;
    if (tfc_device_name_parse(n->device ? n->device : "", &own, err, errcap) ||
        tfc_device_name_parse(setter_device, &dflt, err, errcap))
        return -1;
    if (own.has_job) return 0; /* it chose its job: keep all of it */
    tfc_device_name_merge_unset(&own, &dflt);
    char buf[512];
    tfc_device_name_format(&own, buf, sizeof buf);
    char *d = strdup(buf);
    if (!d) {
        snprintf(err, errcap, "out of memory");
        return -1;
    }
    free(n->device);
    n->device = d;
    return 0;
}

static int follows_variable(const tfc_node *n) {
    if (n->op->ref_inputs) return 1;
    if (!strcmp(n->op->type, "Identity") && n->ninputs == 1 && is_variable(n->inputs[0].node))
        return 1;
    return tfc_attrs_string(&n->attrs, "_class") != NULL;
}

/* When variable v is a ref input of a node whose first ref input is
 * another variable made earlier, that variable (v is its slot). */
static tfc_node *slot_primary(tfc_graph *g, const tfc_node *v, int first) {
    int n = tfc_graph_num_nodes(g);
    for (int id = v->id + 1; id < n; id++) {
        tfc_node *u = tfc_graph_node(g, id);
        unsigned mask = (unsigned)u->op->ref_inputs;
        if (!mask) continue;
        int k0 = __builtin_ctz(mask);
        if (k0 >= u->ninputs) continue;
        tfc_node *p = u->inputs[k0].node;
        if (p == v || !is_variable(p) || p->id >= v->id || p->id < first) continue;
        for (int k = k0 + 1; k < u->ninputs; k++)
            if (((mask >> k) & 1) && u->inputs[k].node == v) return p;
    }
    return NULL;
}

int tfc_replica_device_setter_end(tfc_replica_device_setter *r) {
    if (!r) return -1;
    tfc_graph *g = r->g;
    int rc = 0, next = 0;
    double *load = calloc((size_t)r->ps_tasks, sizeof *load);
    if (!load) {
        tfc_graph_fail(g, TFC_RESOURCE_EXHAUSTED, "out of memory");
        free(r);
        return -1;
    }
    int n = tfc_graph_num_nodes(g);
    for (int id = r->first; id < n && rc == 0; id++) {
        tfc_node *node = tfc_graph_node(g, id);
        char dev[300], err[256];
        /* a variable's updates and reads follow it by colocation, as
         * TensorFlow's colocate_with(variable) makes them do */
        if (follows_variable(node)) continue;
        if (is_variable(node)) {
            /* an optimizer's slot (Adam's m and v) goes with its variable:
             * one Apply updates both */
            tfc_node *primary = slot_primary(g, node, r->first);
            if (primary) {
                char e2[256];
                if (set_device(node, primary->device ? primary->device : "", e2, sizeof e2)) {
                    tfc_graph_fail(g, TFC_INVALID_ARGUMENT,
                                   "replica device setter: node '%s': %s", node->name, e2);
                    rc = -1;
                }
                continue;
            }
            int task = 0;
            if (r->strategy == TFC_PS_STRATEGY_BY_SIZE) {
                for (int t = 1; t < r->ps_tasks; t++)
                    if (load[t] < load[task]) task = t;
            } else {
                task = next;
                next = (next + 1) % r->ps_tasks;
            }
            load[task] += var_bytes(node);
            snprintf(dev, sizeof dev, "/job:%s/task:%d", r->ps_job, task);
        } else {
            snprintf(dev, sizeof dev, "%s", r->worker_device);
        }
        if (set_device(node, dev, err, sizeof err)) {
            tfc_graph_fail(g, TFC_INVALID_ARGUMENT, "replica device setter: node '%s': %s",
                           node->name, err);
            rc = -1;
        }
    }
    free(load);
    free(r);
    return rc;
}
