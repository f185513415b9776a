/* Import's first two steps, before any NodeDef is looked at in detail:
 *
 * 1. Pruning (tfc_import_options.keep_outputs): the GraphDef is cut down to
 *    the nodes the asked-for outputs need, through data and control inputs,
 *    and the library to the functions those nodes call (by op name or
 *    `func` attr, transitively through function bodies), as
 *    tf.compat.v1.graph_util.extract_sub_graph does. An input replaced by
 *    the input_map does not pull in its producer. The result is a shallow
 *    view: new pointer arrays over the caller's messages.
 * 2. The op check: every op type the (pruned) GraphDef and its functions
 *    use that tfc lacks is listed in one error, each with a node using it,
 *    so a user sees the whole gap at once. */
#include "formats/graphdef_prune.h"
#include "core/status.h"
#include "core/strmap.h"
#include "graph/op_registry.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* TensorFlow's op names import maps onto tfc's (graphdef.c's node_op). */
static int is_alias(const char *op) {
    return !strcmp(op, "StatelessIf") || !strcmp(op, "StatelessWhile") ||
           !strcmp(op, "StatefulPartitionedCall");
}

/* The node name of an input or output name: "^n", "n", "n:1" and, inside a
 * function body, "n:out:0" all give "n". Returns 0, or -1 when too long. */
static int base_name(const char *s, char *buf, size_t cap) {
    if (*s == '^') s++;
    size_t n = strcspn(s, ":");
    if (n + 1 > cap) return -1;
    memcpy(buf, s, n);
    buf[n] = 0;
    return 0;
}

/* "x" -> "x:0", as input_map keys are compared. */
static void canonical_key(const char *s, char *buf, size_t cap) {
    if (strchr(s, ':')) snprintf(buf, cap, "%s", s);
    else snprintf(buf, cap, "%s:0", s);
}

typedef struct fn_walk {
    const Tensorflow__FunctionDefLibrary *lib;
    tfc_strmap by_name; /* function name -> index + 1 */
    char *keep;         /* per function */
    size_t *stack;
    size_t top;
} fn_walk;

static void keep_function(fn_walk *w, const char *name) {
    intptr_t k = name && *name ? (intptr_t)tfc_strmap_get(&w->by_name, name) : 0;
    if (!k || w->keep[k - 1]) return;
    w->keep[k - 1] = 1;
    w->stack[w->top++] = (size_t)k - 1;
}

/* The functions node `nd` calls: its op, and every func attr (lists too). */
static void keep_callees(fn_walk *w, const Tensorflow__NodeDef *nd) {
    keep_function(w, nd->op);
    for (size_t a = 0; a < nd->n_attr; a++) {
        const Tensorflow__AttrValue *v = nd->attr[a]->value;
        if (!v) continue;
        if (v->value_case == TENSORFLOW__ATTR_VALUE__VALUE_FUNC && v->func)
            keep_function(w, v->func->name);
        if (v->value_case == TENSORFLOW__ATTR_VALUE__VALUE_LIST && v->list)
            for (size_t i = 0; i < v->list->n_func; i++)
                if (v->list->func[i]) keep_function(w, v->list->func[i]->name);
    }
}

static int oom(tfc_status *st) {
    tfc_status_set(st, TFC_INTERNAL, "out of memory pruning a GraphDef");
    return -1;
}

int tfc_graphdef_prune(const Tensorflow__GraphDef *gd, const char *const *keep, int nkeep,
                       const char *const *map_names, int nmap, tfc_graphdef_view *out,
                       tfc_status *st) {
    memset(out, 0, sizeof *out);
    out->gd = *gd;
    if (!keep || nkeep <= 0) return 0;
    size_t nn = gd->n_node;
    tfc_strmap by_name = {0}, mapped = {0};
    fn_walk w = {0};
    char *kept = calloc(nn + 1, 1);
    size_t *stack = malloc(sizeof *stack * (nn + 1)), top = 0;
    int rc = -1;
    char name[512], key[540];
    if (!kept || !stack) goto nomem;
    for (size_t i = 0; i < nn; i++)
        if (tfc_strmap_put(&by_name, gd->node[i]->name, (void *)(intptr_t)(i + 1))) goto nomem;
    for (int i = 0; i < nmap; i++) {
        if (!map_names || !map_names[i]) continue;
        canonical_key(map_names[i], key, sizeof key);
        if (tfc_strmap_put(&mapped, key, (void *)1)) goto nomem;
    }
    for (int i = 0; i < nkeep; i++) {
        intptr_t k = 0;
        if (keep[i] && !base_name(keep[i], name, sizeof name))
            k = (intptr_t)tfc_strmap_get(&by_name, name);
        if (!k) {
            tfc_status_set(st, TFC_NOT_FOUND,
                           "import: output to keep '%s' names no node of the GraphDef",
                           keep[i] ? keep[i] : "(null)");
            goto done;
        }
        if (!kept[k - 1]) {
            kept[k - 1] = 1;
            stack[top++] = (size_t)k - 1;
        }
    }
    while (top) {
        const Tensorflow__NodeDef *nd = gd->node[stack[--top]];
        for (size_t j = 0; j < nd->n_input; j++) {
            const char *in = nd->input[j];
            if (*in != '^') {
                canonical_key(in, key, sizeof key);
                if (tfc_strmap_get(&mapped, key)) continue; /* replaced: producer not needed */
            }
            /* an input naming nothing is left for the import's own check */
            if (base_name(in, name, sizeof name)) continue;
            intptr_t k = (intptr_t)tfc_strmap_get(&by_name, name);
            if (k && !kept[k - 1]) {
                kept[k - 1] = 1;
                stack[top++] = (size_t)k - 1;
            }
        }
    }
    size_t nkept = 0;
    for (size_t i = 0; i < nn; i++) nkept += kept[i];
    if (!(out->nodes = malloc(sizeof *out->nodes * (nkept + 1)))) goto nomem;
    for (size_t i = 0, j = 0; i < nn; i++)
        if (kept[i]) out->nodes[j++] = gd->node[i];
    out->gd.node = out->nodes;
    out->gd.n_node = nkept;

    if (gd->library && gd->library->n_function) {
        const Tensorflow__FunctionDefLibrary *lib = gd->library;
        size_t nf = lib->n_function;
        w.lib = lib;
        w.keep = calloc(nf + 1, 1);
        w.stack = malloc(sizeof *w.stack * (nf + 1));
        if (!w.keep || !w.stack) goto nomem;
        for (size_t k = 0; k < nf; k++) {
            const Tensorflow__OpDef *sig = lib->function[k]->signature;
            /* nameless or duplicate functions: the library import reports them */
            if (sig && *sig->name && !tfc_strmap_get(&w.by_name, sig->name) &&
                tfc_strmap_put(&w.by_name, sig->name, (void *)(intptr_t)(k + 1)))
                goto nomem;
        }
        for (size_t i = 0; i < nkept; i++) keep_callees(&w, out->nodes[i]);
        while (w.top) {
            const Tensorflow__FunctionDef *fd = lib->function[w.stack[--w.top]];
            for (size_t i = 0; i < fd->n_node_def; i++) keep_callees(&w, fd->node_def[i]);
        }
        size_t nfk = 0;
        for (size_t k = 0; k < nf; k++) nfk += w.keep[k];
        if (!(out->fns = malloc(sizeof *out->fns * (nfk + 1)))) goto nomem;
        for (size_t k = 0, j = 0; k < nf; k++)
            if (w.keep[k]) out->fns[j++] = lib->function[k];
        out->lib = *lib;
        out->lib.function = out->fns;
        out->lib.n_function = nfk;
        out->gd.library = &out->lib;
    }
    rc = 0;
    goto done;
nomem:
    oom(st);
done:
    if (rc) tfc_graphdef_view_free(out);
    tfc_strmap_free(&by_name);
    tfc_strmap_free(&mapped);
    tfc_strmap_free(&w.by_name);
    free(w.keep);
    free(w.stack);
    free(kept);
    free(stack);
    return rc;
}

void tfc_graphdef_view_free(tfc_graphdef_view *v) {
    if (!v) return;
    free(v->nodes);
    free(v->fns);
    v->nodes = NULL;
    v->fns = NULL;
}

/* The unknown ops found so far: each type once, with the first node. */
typedef struct missing {
    tfc_strmap seen;
    char *msg;
    size_t len, cap;
    int count;
} missing;

static int append(missing *m, const char *s) {
    size_t n = strlen(s);
    if (m->len + n + 1 > m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 256;
        while (cap < m->len + n + 1) cap *= 2;
        char *p = realloc(m->msg, cap);
        if (!p) return -1;
        m->msg = p;
        m->cap = cap;
    }
    memcpy(m->msg + m->len, s, n + 1);
    m->len += n;
    return 0;
}

static int note_node(missing *m, const tfc_strmap *fns, const Tensorflow__NodeDef *nd,
                     const char *fn) {
    if (tfc_op_is_registered(nd->op) || is_alias(nd->op) || tfc_strmap_get(fns, nd->op) ||
        tfc_strmap_get(&m->seen, nd->op))
        return 0;
    if (tfc_strmap_put(&m->seen, nd->op, (void *)1)) return -1;
    char buf[1200];
    if (fn)
        snprintf(buf, sizeof buf, "%sunknown op '%.300s' (function '%.300s' node '%.300s')",
                 m->count ? ", " : "", nd->op, fn, nd->name);
    else
        snprintf(buf, sizeof buf, "%sunknown op '%.300s' (node '%.300s')", m->count ? ", " : "",
                 nd->op, nd->name);
    m->count++;
    return append(m, buf);
}

int tfc_graphdef_check_ops(const Tensorflow__GraphDef *gd, tfc_status *st) {
    missing m = {0};
    tfc_strmap fns = {0};
    int rc = -1;
    const Tensorflow__FunctionDefLibrary *lib = gd->library;
    size_t nf = lib ? lib->n_function : 0;
    for (size_t k = 0; k < nf; k++) {
        const Tensorflow__OpDef *sig = lib->function[k]->signature;
        if (sig && *sig->name && tfc_strmap_put(&fns, sig->name, (void *)1)) goto nomem;
    }
    for (size_t i = 0; i < gd->n_node; i++)
        if (note_node(&m, &fns, gd->node[i], NULL)) goto nomem;
    for (size_t k = 0; k < nf; k++) {
        const Tensorflow__FunctionDef *fd = lib->function[k];
        const char *fname = fd->signature ? fd->signature->name : "";
        for (size_t i = 0; i < fd->n_node_def; i++)
            if (note_node(&m, &fns, fd->node_def[i], fname)) goto nomem;
    }
    if (m.count)
        tfc_status_set(st, TFC_NOT_FOUND,
                       "GraphDef uses %d op%s tfc lacks: %s (prune to the outputs you need with "
                       "tfc_import_options.keep_outputs)",
                       m.count, m.count > 1 ? "s" : "", m.msg);
    else
        rc = 0;
    goto done;
nomem:
    oom(st);
done:
    tfc_strmap_free(&m.seen);
    tfc_strmap_free(&fns);
    free(m.msg);
    return rc;
}
