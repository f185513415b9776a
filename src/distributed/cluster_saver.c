/* Checkpoints through a cluster session, as TF1's Saver with sharded=False
 * does them: one save on the chief that reads every variable, wherever it
 * lives, over the network (one step fetching them all, so the values are
 * those of one moment per variable), and writes one checkpoint there; a
 * restore that reads the file on the chief and assigns every variable on
 * its own task in one step (TensorFlow's save/RestoreV2 on the saver's
 * device feeding save/Assign ops colocated with the variables).
 *
 * The files are tfc_saver's own: the values are put in a scratch session
 * on the graph (never run) and tfc_saver_save / tfc_saver_restore do the
 * writing, checking, state file and max_to_keep as for one process. */
#include "distributed/server.h"
#include "ops/resource_variable.h"
#include "runtime/runtime.h"
#include "train/saver_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The chief: task 0 of job "chief" when the cluster has one, else task 0
 * of job "worker" (TensorFlow's rule). */
static int is_chief(const tfc_server *s, char *chief, size_t cap) {
    const char *job = tfc_cluster_num_tasks(s->cluster, "chief") > 0 ? "chief" : "worker";
    snprintf(chief, cap, "/job:%s/task:0", job);
    return !strcmp(s->job, job) && s->task == 0;
}

/* The arguments, and that every variable can cross tasks (a resource
 * handle cannot). */
static int check(tfc_saver *sv, tfc_cluster_session *cs, const char *what, tfc_status *st) {
    tfc_graph *g = cluster_session_graph(cs);
    if (!sv || !cs) {
        tfc_status_set(st, TFC_INVALID_ARGUMENT, "%s: null saver or session", what);
        return -1;
    }
    if (tfc_saver_graph(sv) != g) {
        tfc_status_set(st, TFC_INVALID_ARGUMENT,
                       "%s: the saver was made on another graph than the session's", what);
        return -1;
    }
    for (int i = 0; i < tfc_saver_num_vars(sv); i++) {
        tfc_node *v = tfc_saver_var(sv, i);
        if (!(v->op->flags & TFC_OP_VARIABLE)) {
            tfc_status_set(st, TFC_UNIMPLEMENTED,
                           "%s: '%s' is a resource variable (%s): its handle cannot cross "
                           "tasks; use tfc_variable (VariableV2) on a cluster",
                           what, v->name, v->op->type);
            return -1;
        }
    }
    return 0;
}

static tfc_session *scratch_session(tfc_graph *g, tfc_status *st) {
    tfc_session_options o = {0};
    o.intra_op_threads = 1;
    o.inter_op_threads = 1;
    return tfc_session_new(g, &o, st);
}

const char *tfc_saver_save_on_cluster(tfc_saver *sv, tfc_cluster_session *cs, const char *prefix,
                                      int64_t global_step, tfc_status *st) {
    static const char what[] = "tfc_saver_save_on_cluster";
    if (check(sv, cs, what, st)) return NULL;
    tfc_server *s = cluster_session_server(cs);
    char chief[160];
    if (!is_chief(s, chief, sizeof chief)) {
        tfc_status_set(st, TFC_FAILED_PRECONDITION,
                       "%s: only the chief (%s) writes checkpoints; this is /job:%s/task:%d", what,
                       chief, s->job, s->task);
        return NULL;
    }
    tfc_graph *g = cluster_session_graph(cs);
    int n = tfc_saver_num_vars(sv);
    tfc_output *fetches = calloc((size_t)n + 1, sizeof *fetches);
    tfc_tensor **vals = calloc((size_t)n + 1, sizeof *vals);
    const char *path = NULL;
    tfc_session *tmp = NULL;
    if (!fetches || !vals) {
        tfc_status_set(st, TFC_RESOURCE_EXHAUSTED, "%s: out of memory", what);
        goto out;
    }
    for (int i = 0; i < n; i++) fetches[i] = tfc_out(tfc_saver_var(sv, i), 0);
    /* every value in one step (an uninitialized one fails naming it) */
    if (n) {
        tfc_cluster_session_run(cs, NULL, NULL, 0, fetches, n, vals, NULL, 0, st);
        if (tfc_status_code(st) != TFC_OK) goto out;
    }
    if (!(tmp = scratch_session(g, st))) goto out;
    pthread_mutex_lock(&tmp->lock);
    for (int i = 0; i < n; i++) {
        tfc_node_state *ns = tfc_variable_cell(tmp, tfc_saver_var(sv, i));
        if (!ns) break;
        vals[i]->flags |= TFC_TENSOR_VARIABLE;
        ns->value = vals[i]; /* the session owns it now */
        vals[i] = NULL;
    }
    pthread_mutex_unlock(&tmp->lock);
    path = tfc_saver_save(sv, tmp, prefix, global_step, st);
out:
    tfc_session_free(tmp);
    for (int i = 0; vals && i < n; i++) tfc_tensor_free(vals[i]);
    free(vals);
    free(fetches);
    return path;
}

/* The restore nodes of variable v in g, made on the first restore:
 * save/<v>/restore_value (a Placeholder, on the chief) and
 * save/<v>/Assign (colocated with v). */
static int restore_nodes(tfc_graph *g, tfc_node *v, tfc_output *ph, tfc_node **assign,
                         tfc_status *st) {
    char pname[600], aname[600];
    snprintf(pname, sizeof pname, "save/%s/restore_value", v->name);
    snprintf(aname, sizeof aname, "save/%s/Assign", v->name);
    tfc_node *p = tfc_graph_node_by_name(g, pname), *a = tfc_graph_node_by_name(g, aname);
    if (p && a && !strcmp(p->op->type, "Placeholder") && !strcmp(a->op->type, "Assign") &&
        a->ninputs == 2 && a->inputs[0].node == v && a->inputs[1].node == p) {
        *ph = tfc_out(p, 0);
        *assign = a;
        return 0;
    }
    if (p || a) {
        tfc_status_set(st, TFC_INVALID_ARGUMENT,
                       "restoring '%s' on a cluster: the graph has a node '%s' that is not "
                       "the saver's",
                       v->name, p ? pname : aname);
        return -1;
    }
    tfc_shape sh = tfc_variable_node_shape(v);
    *ph = tfc_placeholder(g, pname, tfc_variable_node_dtype(v), sh.rank,
                          sh.rank > 0 ? sh.dims : NULL);
    tfc_with_name(g, aname);
    tfc_output o = tfc_assign(g, tfc_out(v, 0), *ph);
    *assign = o.node;
    if (tfc_graph_error(g) || !o.node) {
        tfc_status_set(st, tfc_graph_error_code(g) ? tfc_graph_error_code(g) : TFC_INTERNAL,
                       "restoring '%s' on a cluster: %s", v->name,
                       tfc_graph_error(g) ? tfc_graph_error(g) : "cannot add its Assign");
        return -1;
    }
    return 0;
}

int tfc_saver_restore_on_cluster(tfc_saver *sv, tfc_cluster_session *cs, const char *prefix,
                                 tfc_status *st) {
    static const char what[] = "tfc_saver_restore_on_cluster";
    if (check(sv, cs, what, st)) return -1;
    tfc_graph *g = cluster_session_graph(cs);
    int n = tfc_saver_num_vars(sv), rc = -1;
    tfc_output *phs = calloc((size_t)n + 1, sizeof *phs);
    tfc_node **assigns = calloc((size_t)n + 1, sizeof *assigns);
    tfc_tensor **vals = calloc((size_t)n + 1, sizeof *vals);
    tfc_session *tmp = NULL;
    if (!phs || !assigns || !vals) {
        tfc_status_set(st, TFC_RESOURCE_EXHAUSTED, "%s: out of memory", what);
        goto out;
    }
    /* read and check everything here first: on error nothing is assigned */
    if (!(tmp = scratch_session(g, st))) goto out;
    if (tfc_saver_restore(sv, tmp, prefix, st)) goto out;
    for (int i = 0; i < n; i++) {
        tfc_node *v = tfc_saver_var(sv, i);
        pthread_mutex_lock(&tmp->lock);
        tfc_node_state *ns = tfc_variable_cell(tmp, v);
        vals[i] = ns ? ns->value : NULL; /* owned by tmp */
        pthread_mutex_unlock(&tmp->lock);
        if (!vals[i]) {
            tfc_status_set(st, TFC_INTERNAL, "%s: no value read for '%s'", what, v->name);
            goto out;
        }
        if (restore_nodes(g, v, &phs[i], &assigns[i], st)) goto out;
    }
    /* one step: each value sent to its variable's task and assigned there */
    if (n) {
        tfc_cluster_session_run(cs, phs, vals, n, NULL, 0, NULL, assigns, n, st);
        if (tfc_status_code(st) != TFC_OK) goto out;
    }
    tfc_status_set(st, TFC_OK, NULL);
    rc = 0;
out:
    tfc_session_free(tmp);
    free(vals);
    free(phs);
    free(assigns);
    return rc;
}
