/* The placer (see placer.h): colocation groups by union-find, one merged
 * device request per group, then a device per group. */
#include "device/placer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int find(int *parent, int i) {
    while (parent[i] != i) {
        parent[i] = parent[parent[i]];
        i = parent[i];
    }
    return i;
}

/* The smaller id becomes the root, so a group's root is its first node. */
static void unite(int *parent, int a, int b) {
    a = find(parent, a);
    b = find(parent, b);
    if (a < b)
        parent[b] = a;
    else if (b < a)
        parent[a] = b;
}

/* Joins n with each node its `_class` attr names ("loc:@a,loc:@b"). */
static int colocate_class(tfc_node *n, int nnodes, int *parent, tfc_status *st) {
    const char *cls = tfc_attrs_string(&n->attrs, "_class");
    if (!cls) return 0;
    const char *p = cls;
    while (*p) {
        size_t len = strcspn(p, ",");
        char name[512];
        if (len < 5 || strncmp(p, "loc:@", 5) || len - 5 >= sizeof name) {
            tfc_status_set(st, TFC_INVALID_ARGUMENT,
                           "Node '%s' (%s): its _class attr '%s' holds '%.*s'; expected "
                           "entries \"loc:@NAME\" separated by commas",
                           n->name, n->op->type, cls, (int)len, p);
            return -1;
        }
        memcpy(name, p + 5, len - 5);
        name[len - 5] = 0;
        tfc_node *with = n->graph ? tfc_graph_node_by_name(n->graph, name) : NULL;
        if (!with || with->id >= nnodes) {
            tfc_status_set(st, TFC_INVALID_ARGUMENT,
                           "Node '%s' (%s) is to be colocated with '%s' (its _class attr), "
                           "which is not a node of the graph",
                           n->name, n->op->type, name);
            return -1;
        }
        unite(parent, n->id, with->id);
        p += len;
        if (*p == ',') p++;
    }
    return 0;
}

static int group_has_kernels(const tfc_device *d, tfc_node *const *nodes, const int *members,
                             int nmembers) {
    for (int m = 0; m < nmembers; m++)
        if (!tfc_device_type_has_kernel(d->type, nodes[members[m]]->op)) return 0;
    return 1;
}

/* Why no device fits a group without soft placement, in TensorFlow's words. */
static void placement_error(tfc_node *const *nodes, const int *members, int nmembers,
                            const tfc_node *requester, const tfc_device_name *spec,
                            const tfc_device_set *devs, tfc_status *st) {
    char want[256], have[1024];
    tfc_device_name_format(spec, want, sizeof want);
    tfc_device_set_describe(devs, have, sizeof have);
    const tfc_device *match = NULL;
    for (int d = 0; d < devs->n && !match; d++)
        if (tfc_device_matches(devs->devices[d], spec)) match = devs->devices[d];
    if (!match) {
        int gpu = spec->has_type && !strcasecmp(spec->type, "GPU") && !tfc_device_type_find("GPU");
        tfc_status_set(st, TFC_INVALID_ARGUMENT,
                       "Cannot assign a device for operation '%s': Operation was explicitly "
                       "assigned to %s but available devices are %s. Make sure the device "
                       "specification refers to a valid device.%s",
                       requester->name, want, have,
                       gpu ? " The requested device appears to be a GPU, but CUDA is not enabled."
                           : "");
        return;
    }
    const tfc_node *lacking = requester;
    for (int m = 0; m < nmembers; m++)
        if (!tfc_device_type_has_kernel(match->type, nodes[members[m]]->op)) {
            lacking = nodes[members[m]];
            break;
        }
    tfc_status_set(st, TFC_INVALID_ARGUMENT,
                   "Cannot assign a device for operation '%s': Could not satisfy explicit device "
                   "specification '%s' because no supported kernel for %s devices is available. "
                   "[[node %s (%s)]]",
                   lacking->name, want, match->type->name, lacking->name, lacking->op->type);
}

/* The device of one group: -1 with st set when none fits. */
static int place_group(tfc_node *const *nodes, const int *members, int nmembers,
                       const int *assign, const tfc_device_set *devs, int allow_soft,
                       tfc_status *st) {
    tfc_device_name spec;
    memset(&spec, 0, sizeof spec);
    const tfc_node *requester = NULL;
    int pinned = -1;
    for (int m = 0; m < nmembers; m++) {
        tfc_node *n = nodes[members[m]];
        if (assign[n->id] >= 0) {
            if (pinned >= 0 && pinned != assign[n->id]) {
                tfc_status_set(st, TFC_INVALID_ARGUMENT,
                               "Cannot colocate nodes '%s' and '%s': an earlier run placed them "
                               "on %s and %s",
                               nodes[members[0]]->name, n->name,
                               devs->devices[pinned]->name, devs->devices[assign[n->id]]->name);
                return -1;
            }
            pinned = assign[n->id];
        }
        if (!n->device || !*n->device) continue;
        tfc_device_name d;
        char err[256];
        if (tfc_device_name_parse(n->device, &d, err, sizeof err)) {
            tfc_status_set(st, TFC_INVALID_ARGUMENT, "Node '%s' (%s): malformed device '%s': %s",
                           n->name, n->op->type, n->device, err);
            return -1;
        }
        if (!requester) {
            spec = d;
            requester = n;
        } else if (tfc_device_name_merge(&spec, &d, allow_soft, err, sizeof err)) {
            tfc_status_set(st, TFC_INVALID_ARGUMENT, "Cannot colocate nodes '%s' and '%s': %s",
                           requester->name, n->name, err);
            return -1;
        }
    }
    if (pinned >= 0) {
        const tfc_device *d = devs->devices[pinned];
        if ((tfc_device_matches(d, &spec) || allow_soft) &&
            group_has_kernels(d, nodes, members, nmembers))
            return pinned;
        tfc_status_set(st, TFC_INVALID_ARGUMENT,
                       "Cannot assign a device for operation '%s': it is colocated with '%s', "
                       "which an earlier run placed on %s",
                       nodes[members[nmembers - 1]]->name, nodes[members[0]]->name, d->name);
        return -1;
    }
    for (int i = 0; i < devs->n; i++)
        if (tfc_device_matches(devs->devices[i], &spec) &&
            group_has_kernels(devs->devices[i], nodes, members, nmembers))
            return i;
    if (allow_soft) {
        /* the requested type first, then any device with the kernels */
        for (int pass = 0; pass < 2; pass++)
            for (int i = 0; i < devs->n; i++) {
                const tfc_device *d = devs->devices[i];
                if (pass == 0 && (!spec.has_type || strcasecmp(spec.type, d->parsed.type)))
                    continue;
                if (group_has_kernels(d, nodes, members, nmembers)) return i;
            }
    }
    if (!requester) requester = nodes[members[0]];
    placement_error(nodes, members, nmembers, requester, &spec, devs, st);
    return -1;
}

int tfc_place(tfc_node *const *nodes, int nnodes, const tfc_device_set *devs, int allow_soft,
              int log, int *assign, tfc_status *st) {
    int *parent = malloc(((size_t)nnodes + 1) * sizeof *parent);
    int *start = calloc((size_t)nnodes + 2, sizeof *start);
    int *members = malloc(((size_t)nnodes + 1) * sizeof *members);
    int *chosen = malloc(((size_t)nnodes + 1) * sizeof *chosen);
    int rc = -1;
    if (!parent || !start || !members || !chosen) {
        tfc_status_set(st, TFC_INTERNAL, "out of memory placing the graph");
        goto done;
    }
    for (int i = 0; i < nnodes; i++) parent[i] = i;
    for (int i = 0; i < nnodes; i++) {
        tfc_node *n = nodes[i];
        for (int k = 0; k < n->ninputs; k++) {
            tfc_node *in = n->inputs[k].node;
            if (in->id >= nnodes) continue;
            int ref = tfc_op_input_is_ref(n->op, k);
            int read = !strcmp(n->op->type, "Identity") && (in->op->flags & TFC_OP_VARIABLE);
            if (ref || read) unite(parent, i, in->id);
        }
        if (colocate_class(n, nnodes, parent, st)) goto done;
    }
    /* members of each group, as CSR over roots */
    for (int i = 0; i < nnodes; i++) start[find(parent, i) + 1]++;
    for (int i = 0; i < nnodes; i++) start[i + 1] += start[i];
    for (int i = 0; i < nnodes; i++) chosen[i] = 0;
    for (int i = 0; i < nnodes; i++) {
        int r = find(parent, i);
        members[start[r] + chosen[r]++] = i;
    }
    for (int r = 0; r < nnodes; r++) {
        int count = start[r + 1] - start[r];
        if (!count) continue;
        int d = place_group(nodes, members + start[r], count, assign, devs, allow_soft, st);
        if (d < 0) goto done;
        for (int m = start[r]; m < start[r + 1]; m++) chosen[members[m]] = d;
    }
    for (int i = 0; i < nnodes; i++) {
        if (log && assign[i] < 0) {
            fprintf(stderr, "%s: (%s): %s\n", nodes[i]->name, nodes[i]->op->type,
                    devs->devices[chosen[i]]->name);
        }
        assign[i] = chosen[i];
    }
    if (log) fflush(stderr);
    rc = 0;
done:
    free(parent);
    free(start);
    free(members);
    free(chosen);
    return rc;
}
