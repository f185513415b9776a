/* Step 3 of the TF1 control-flow conversion (tf1_control_flow.c has the
 * whole algorithm): in one graph or function, each cond (the Switches on one
 * predicate, the nodes under them and the Merges joining them), innermost
 * first, into an If node with two branch functions. */
#include "formats/tf1_cf_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- step 3: conds ---- */

static int same_ref(ref a, ref b) { return a.node == b.node && a.idx == b.idx; }

/* The predicate of Switch `sw`: its pred input, after Identities. */
static ref pred_of(const conv *c, int sw) {
    ref r = c->n[sw].in[1];
    for (int steps = 0; r.node >= 0 && steps < c->nn; steps++) {
        const cnode *n = &c->n[r.node];
        if (n->kind != K_OTHER || strcmp(n->nd->op, "Identity") || n->ndata < 1 ||
            n->in[0].node < 0)
            break;
        r = n->in[0];
    }
    return r;
}

static int push_state(conv *c, int parent, ref pred, int branch) {
    char key[96];
    snprintf(key, sizeof key, "%d %d %d %d", parent, pred.node, pred.idx, branch);
    intptr_t s = (intptr_t)tfc_strmap_get(&c->states, key);
    if (s) return (int)s - 1;
    if (c->ns == c->caps) {
        int cap = c->caps ? 2 * c->caps : 16;
        cstate *v = realloc(c->s, sizeof *v * (size_t)cap);
        if (!v) return tf1_oom(c);
        c->s = v;
        c->caps = cap;
    }
    c->s[c->ns] = (cstate){parent, branch, c->s[parent].depth + 1, pred};
    if (tfc_strmap_put(&c->states, key, (void *)(intptr_t)(c->ns + 1))) return tf1_oom(c);
    return c->ns++;
}

/* The ancestor of state s at depth d. */
static int state_at(const conv *c, int s, int d) {
    while (c->s[s].depth > d) s = c->s[s].parent;
    return s;
}

static int state_join(const conv *c, int a, int b) {
    if (c->s[a].depth < c->s[b].depth) {
        int t = a;
        a = b;
        b = t;
    }
    return state_at(c, a, c->s[b].depth) == b ? a : -1;
}

static void describe_state(const conv *c, int s, char *buf, size_t cap) {
    if (!s) {
        snprintf(buf, cap, "no cond");
        return;
    }
    ref p = c->s[s].pred;
    snprintf(buf, cap, "the %s branch of the cond on '%s:%d'", c->s[s].branch ? "true" : "false",
             p.node >= 0 ? c->n[p.node].name : p.ext, p.idx);
}

/* The state of value r (a Switch's output k pushes (pred, k)). */
static int ref_state(conv *c, ref r) {
    if (r.node < 0) return 0;
    const cnode *t = &c->n[r.node];
    if (t->kind != K_SWITCH || r.idx < 0) return t->st;
    if (r.idx > 1)
        return tf1_fail(c, TFC_INVALID_ARGUMENT, "Switch '%s' has 2 outputs; output %d is read",
                        t->name, r.idx);
    return push_state(c, t->st, pred_of(c, r.node), r.idx);
}

static int cond_states(conv *c, const int *order, int count) {
    for (int o = 0; o < count; o++) {
        int id = order[o];
        cnode *n = &c->n[id];
        n->st = 0;
        if (n->kind == K_ARG) continue;
        if (n->kind == K_MERGE) {
            int s0 = n->ndata == 2 ? ref_state(c, n->in[0]) : 0;
            int s1 = n->ndata == 2 ? ref_state(c, n->in[1]) : 0;
            if (s0 < 0 || s1 < 0) return -1;
            if (n->ndata != 2)
                return tf1_fail(c, TFC_INVALID_ARGUMENT,
                                "Merge '%s' has %d inputs; a cond's Merge joins its two branches",
                                n->name, n->ndata);
            if (!c->s[s0].depth || !c->s[s1].depth || c->s[s0].parent != c->s[s1].parent ||
                !same_ref(c->s[s0].pred, c->s[s1].pred) || c->s[s0].branch == c->s[s1].branch) {
                char a[300], b[300];
                describe_state(c, s0, a, sizeof a);
                describe_state(c, s1, b, sizeof b);
                return tf1_fail(c, TFC_INVALID_ARGUMENT,
                                "Merge '%s' does not join the two branches of one cond: input '%s' "
                                "is in %s, input '%s' in %s (a Merge without its Switch?)",
                                n->name, tf1_ref_name(c, n->in[0]), a, tf1_ref_name(c, n->in[1]),
                                b);
            }
            n->st = c->s[s0].parent;
            n->mpred = c->s[s0].pred;
            continue;
        }
        int st = 0;
        for (int k = 0; k < n->nin; k++) {
            int sk = ref_state(c, n->in[k]);
            if (sk < 0) return -1;
            int j = state_join(c, st, sk);
            if (j < 0) {
                char a[300], b[300];
                describe_state(c, st, a, sizeof a);
                describe_state(c, sk, b, sizeof b);
                return tf1_fail(c, TFC_INVALID_ARGUMENT,
                                "node '%s' reads values from %s and from %s: its inputs come from "
                                "branches no single cond joins",
                                n->name, a, b);
            }
            st = j;
        }
        n->st = st;
    }
    return 0;
}

/* The cond being converted: Switches on pred at state P, what runs under
 * them, and the Merges joining them. */
typedef struct cond {
    int P;
    ref pred;
    char *in; /* per node: 1 switch, 2 member, 3 merge */
    int *branch;
    ref *cap;
    int ncap, cap_cap;
    int *cap_dt;
    ref *hoist;
    int nhoist, cap_hoist;
} cond;

static int cond_role(const conv *c, const cond *K, int t) {
    const cnode *n = &c->n[t];
    if (n->kind == K_SWITCH && n->st == K->P && same_ref(pred_of(c, t), K->pred)) return 1;
    if (n->kind == K_MERGE && n->st == K->P && same_ref(n->mpred, K->pred)) return 3;
    int d = c->s[K->P].depth + 1;
    if (c->s[n->st].depth < d) return 0;
    int a = state_at(c, n->st, d);
    return c->s[a].parent == K->P && same_ref(c->s[a].pred, K->pred) ? 2 : 0;
}

static int member_branch(const conv *c, const cond *K, int t) {
    return c->s[state_at(c, c->n[t].st, c->s[K->P].depth + 1)].branch;
}

/* What input r of node x (in branch b) is, as loop_verdict. */
static int cond_verdict(conv *c, cond *K, int b, int x, ref r, int *param) {
    const char *who = c->n[x].name;
    int t = r.node;
    if (t < 0) {
        if (r.idx < 0) return V_HOIST;
        return tf1_fail(c, TFC_INVALID_ARGUMENT,
                        "node '%s' in a branch of a cond reads '%s', which is not in the GraphDef",
                        who, r.ext);
    }
    int role = K->in[t];
    if (role == 2) {
        if (K->branch[t] == b) return V_MEMBER;
        return tf1_fail(c, TFC_INVALID_ARGUMENT,
                        "node '%s' in the %s branch of the cond on '%s' reads '%s' of the other "
                        "branch",
                        who, b ? "true" : "false", tf1_ref_name(c, K->pred), c->n[t].name);
    }
    if (role == 3)
        return tf1_fail(c, TFC_INVALID_ARGUMENT,
                        "node '%s' in a branch of the cond on '%s' reads the cond's own Merge '%s'",
                        who, tf1_ref_name(c, K->pred), c->n[t].name);
    ref src = r;
    int dt;
    if (role == 1) {
        if (r.idx < 0) return V_DROP;
        if (r.idx != b)
            return tf1_fail(c, TFC_INVALID_ARGUMENT,
                            "node '%s' in the %s branch of the cond on '%s' reads output %d of "
                            "Switch '%s'",
                            who, b ? "true" : "false", tf1_ref_name(c, K->pred), r.idx,
                            c->n[t].name);
        src = c->n[t].in[0];
        if (src.node < 0)
            return tf1_fail(c, TFC_INVALID_ARGUMENT,
                            "Switch '%s' reads '%s', which is not in the "
                            "GraphDef",
                            c->n[t].name, src.ext);
        dt = c->n[t].dtype;
    } else {
        if (r.idx < 0) return V_HOIST;
        dt = tf1_out_dtype(c, t, r.idx);
        if (dt < 0)
            return tf1_fail(c, TFC_UNIMPLEMENTED,
                            "node '%s' in a branch of the cond on '%s' reads '%s:%d' from outside "
                            "without a Switch, and its dtype cannot be told from its NodeDef",
                            who, tf1_ref_name(c, K->pred), c->n[t].name, r.idx);
    }
    int k = tf1_find_cap(K->cap, K->ncap, src);
    if (k < 0) {
        int capn = K->cap_cap;
        k = tf1_push_ref(c, &K->cap, &K->ncap, &K->cap_cap, src);
        if (k < 0) return -1;
        if (capn != K->cap_cap || !K->cap_dt) {
            int *d = realloc(K->cap_dt, sizeof *d * (size_t)K->cap_cap);
            if (!d) return tf1_oom(c);
            K->cap_dt = d;
        }
        K->cap_dt[k] = dt;
    }
    return *param = k, V_PARAM;
}

/* Rewrites member x's inputs for branch function f. */
static int cond_rewrite(conv *c, cond *K, int b, int x, int f, int pass) {
    int nin = c->n[x].nin;
    ref *old = c->n[x].in;
    if (!pass) { /* first pass: find the captures */
        for (int k = 0; k < nin; k++) {
            int param = 0, v = cond_verdict(c, K, b, x, old[k], &param);
            if (v < 0) return -1;
            if (v == V_HOIST && tf1_push_ref(c, &K->hoist, &K->nhoist, &K->cap_hoist, old[k]) < 0)
                return -1;
        }
        return 0;
    }
    c->n[x].in = NULL;
    c->n[x].nin = c->n[x].ndata = c->n[x].cap = 0;
    int rc = 0;
    for (int k = 0; k < nin && !rc; k++) {
        int param = 0, v = cond_verdict(c, K, b, x, old[k], &param);
        if (v < 0)
            rc = -1;
        else if (v == V_PARAM && old[k].idx >= 0)
            rc = tf1_add_in(c, x, (ref){c->f[f].params[param], 0, NULL});
        else if (v == V_MEMBER)
            rc = tf1_add_in(c, x, old[k]);
    }
    free(old);
    c->n[x].graph = f;
    return rc;
}

/* Branch b's output for Merge m: the Merge input from branch b (and an
 * Identity carrying m's control inputs from branch b, if any). */
static int cond_output(conv *c, cond *K, int b, int m, int f, int pass, ref *out) {
    cnode *n = &c->n[m];
    int k = 0;
    for (; k < n->ndata; k++) {
        int s = ref_state(c, n->in[k]);
        if (s < 0) return -1;
        if (c->s[s].branch == b) break;
    }
    if (k == n->ndata) return tf1_fail(c, TFC_INTERNAL, "Merge '%s' lost a branch", n->name);
    ref r = n->in[k];
    int param = 0, v = cond_verdict(c, K, b, m, r, &param);
    if (v < 0) return -1;
    if (pass && v == V_PARAM) r = (ref){c->f[f].params[param], 0, NULL};
    int wrap = -1;
    for (int j = n->ndata; j < n->nin; j++) {
        ref cr = n->in[j];
        v = cr.node >= 0 && K->in[cr.node] == 2 && K->branch[cr.node] != b
                ? V_DROP
                : cond_verdict(c, K, b, m, cr, &param);
        if (v < 0) return -1;
        if (v == V_HOIST && tf1_push_ref(c, &K->hoist, &K->nhoist, &K->cap_hoist, cr) < 0)
            return -1;
        if (v != V_MEMBER || !pass) continue;
        if (wrap < 0) {
            char base[600];
            snprintf(base, sizeof base, "%.500s/%s_control_deps", c->n[m].name,
                     b ? "then" : "else");
            wrap = tf1_add_node(c, NULL, NULL, K_IDENTITY, f);
            if (wrap < 0) return -1;
            if (!(c->n[wrap].name = tf1_fresh_name(c, base, wrap))) return tf1_oom(c);
            c->n[wrap].dtype = c->n[m].dtype;
            if (tf1_add_in(c, wrap, r)) return -1;
        }
        if (tf1_add_in(c, wrap, (ref){cr.node, -1, NULL})) return -1;
    }
    *out = wrap >= 0 ? (ref){wrap, 0, NULL} : r;
    return 0;
}

/* Converts the cond of Merge m0 (in graph g) into an If. */
static int convert_cond(conv *c, int g, int m0) {
    cond K = {0};
    K.P = c->n[m0].st;
    K.pred = c->n[m0].mpred;
    int nn0 = c->nn, rc = -1, nm = 0;
    K.in = calloc((size_t)nn0 + 1, 1);
    K.branch = calloc((size_t)nn0 + 1, sizeof *K.branch);
    int *stack = malloc(sizeof *stack * ((size_t)nn0 + 1));
    int *merges = malloc(sizeof *merges * ((size_t)nn0 + 1));
    ref *outs[2] = {NULL, NULL};
    int *dts = NULL, *odt = NULL;
    if (!K.in || !K.branch || !stack || !merges) {
        tf1_oom(c);
        goto done;
    }
    if (tf1_build_consumers(c, g)) goto done;
    /* the connected group: not through a Switch's inputs nor a Merge's consumers */
    int top = 0;
    K.in[m0] = 3;
    stack[top++] = m0;
    while (top) {
        int x = stack[--top];
        int role = K.in[x];
        if (role == 3) merges[nm++] = x;
        if (role == 2) K.branch[x] = member_branch(c, &K, x);
        int ni = role == 1 ? 0 : c->n[x].nin; /* a Switch's inputs are outside */
        int nc = role == 3 ? 0 : c->cstart[x + 1] - c->cstart[x]; /* so are a Merge's readers */
        for (int j = 0; j < ni + nc; j++) {
            int t = j < ni ? c->n[x].in[j].node : c->cons[c->cstart[x] + j - ni];
            if (t < 0 || K.in[t]) continue;
            int rt = cond_role(c, &K, t);
            if (!rt) continue;
            K.in[t] = (char)rt;
            stack[top++] = t;
        }
    }
    /* merges in node order, so outputs follow the GraphDef */
    for (int i = 1; i < nm; i++)
        for (int j = i; j > 0 && merges[j - 1] > merges[j]; j--) {
            int t = merges[j];
            merges[j] = merges[j - 1];
            merges[j - 1] = t;
        }
    /* pass 0 finds captures and hoisted edges; pass 1 builds */
    int f[2] = {-1, -1};
    for (int pass = 0; pass < 2; pass++) {
        if (pass) {
            dts = malloc(sizeof *dts * ((size_t)K.ncap + 1));
            if (!dts) {
                tf1_oom(c);
                goto done;
            }
            if (K.ncap) memcpy(dts, K.cap_dt, sizeof *dts * (size_t)K.ncap);
            f[1] = tf1_add_func(c, tf1_fresh_fname(c, c->n[merges[0]].name, "then"));
            f[0] =
                f[1] < 0 ? -1 : tf1_add_func(c, tf1_fresh_fname(c, c->n[merges[0]].name, "else"));
            if (f[0] < 0 || tf1_add_params(c, f[0], dts, K.ncap) ||
                tf1_add_params(c, f[1], dts, K.ncap))
                goto done;
        }
        for (int i = 0; i < nn0; i++)
            if (K.in[i] == 2 &&
                cond_rewrite(c, &K, K.branch[i], i, pass ? f[K.branch[i]] : 0, pass))
                goto done;
        for (int b = 0; b < 2; b++) {
            if (pass && !(outs[b] = malloc(sizeof *outs[b] * ((size_t)nm + 1)))) {
                tf1_oom(c);
                goto done;
            }
            for (int j = 0; j < nm; j++) {
                ref o;
                if (cond_output(c, &K, b, merges[j], pass ? f[b] : 0, pass, &o)) goto done;
                if (pass) outs[b][j] = o;
            }
        }
    }
    /* an If cannot take what its own outputs compute (TF1's cond gradients
     * read the forward branches from a second cond on the same predicate) */
    {
        char *seen = calloc((size_t)nn0 + 1, 1);
        int sp = 0;
        if (!seen) {
            tf1_oom(c);
            goto done;
        }
        for (int j = 0; j < nm; j++) seen[merges[j]] = 1, stack[sp++] = merges[j];
        while (sp) {
            int x = stack[--sp];
            for (int q = c->cstart[x]; q < c->cstart[x + 1]; q++)
                if (!seen[c->cons[q]]) seen[c->cons[q]] = 1, stack[sp++] = c->cons[q];
        }
        int bad = K.pred.node >= 0 && seen[K.pred.node] ? K.pred.node : -1;
        for (int k = 0; k < K.ncap && bad < 0; k++)
            if (K.cap[k].node >= 0 && seen[K.cap[k].node]) bad = K.cap[k].node;
        for (int k = 0; k < K.nhoist && bad < 0; k++)
            if (K.hoist[k].node >= 0 && seen[K.hoist[k].node]) bad = K.hoist[k].node;
        free(seen);
        if (bad >= 0) {
            tf1_fail(c, TFC_UNIMPLEMENTED,
                     "the cond on '%s' (Merge '%s') reads '%s', which depends on the cond's own "
                     "Merge: its branches cannot become one If (a cond gradient TF1 wrote? "
                     "differentiate the imported graph with tfc_gradients instead)",
                     tf1_ref_name(c, K.pred), c->n[merges[0]].name, c->n[bad].name);
            goto done;
        }
    }
    odt = tfc_arena_alloc(c->a, sizeof *odt * ((size_t)nm + 1));
    if (!odt) {
        tf1_oom(c);
        goto done;
    }
    for (int j = 0; j < nm; j++) odt[j] = c->n[merges[j]].dtype;
    if (tf1_set_outputs(c, f[0], outs[0], odt, nm) || tf1_set_outputs(c, f[1], outs[1], odt, nm))
        goto done;
    /* the If node */
    char base[600];
    const char *mname = c->n[merges[0]].name, *slash = strrchr(mname, '/');
    if (slash)
        snprintf(base, sizeof base, "%.*s/If", (int)(slash - mname), mname);
    else
        snprintf(base, sizeof base, "%.500s_If", mname);
    int w = tf1_add_node(c, NULL, NULL, K_IF, g);
    if (w < 0 || !(c->n[w].name = tf1_fresh_name(c, base, w))) {
        if (w >= 0) tf1_oom(c);
        goto done;
    }
    c->n[w].fa = f[1];
    c->n[w].fb = f[0];
    c->n[w].nout = nm;
    c->n[w].odt = odt;
    if (K.pred.node < 0) {
        tf1_fail(c, TFC_INVALID_ARGUMENT, "a cond's predicate '%s' is not in the GraphDef",
                 K.pred.ext);
        goto done;
    }
    if (tf1_add_in(c, w, K.pred)) goto done;
    for (int k = 0; k < K.ncap; k++)
        if (tf1_add_in(c, w, K.cap[k])) goto done;
    for (int i = 0; i < nn0; i++) /* the Switches' control inputs */
        if (K.in[i] == 1)
            for (int k = c->n[i].ndata; k < c->n[i].nin; k++)
                if (tf1_push_ref(c, &K.hoist, &K.nhoist, &K.cap_hoist, c->n[i].in[k]) < 0)
                    goto done;
    for (int k = 0; k < K.nhoist; k++)
        if (tf1_add_in(c, w, K.hoist[k])) goto done;
    /* Merges become Identities of the If's outputs */
    for (int j = 0; j < nm; j++) {
        int m = merges[j];
        for (int q = c->cstart[m]; q < c->cstart[m + 1]; q++)
            if (c->n[c->cons[q]].in[c->cslot[q]].idx == 1) {
                tf1_fail(c, TFC_UNIMPLEMENTED,
                         "node '%s' reads the value_index of Merge '%s' (not supported)",
                         c->n[c->cons[q]].name, c->n[m].name);
                goto done;
            }
        c->n[m].kind = K_IDENTITY;
        c->n[m].in[0] = (ref){w, j, NULL};
        c->n[m].nin = c->n[m].ndata = 1;
    }
    for (int i = 0; i < nn0; i++)
        if (K.in[i] == 1) c->n[i].removed = 1;
    rc = 0;
done:
    free(K.in);
    free(K.branch);
    free(K.cap);
    free(K.cap_dt);
    free(K.hoist);
    free(stack);
    free(merges);
    free(outs[0]);
    free(outs[1]);
    free(dts);
    return rc;
}

int tf1_convert_conds(conv *c, int g) {
    int *order = NULL, rc = -1;
    for (;;) {
        int any = 0;
        for (int i = 0; i < c->nn && !any; i++)
            any = !c->n[i].removed && c->n[i].graph == g &&
                  (c->n[i].kind == K_SWITCH || c->n[i].kind == K_MERGE);
        if (!any) break;
        free(order);
        order = malloc(sizeof *order * ((size_t)c->nn + 1));
        int count = 0;
        if (!order) {
            tf1_oom(c);
            goto done;
        }
        tfc_strmap_free(&c->states);
        memset(&c->states, 0, sizeof c->states);
        c->ns = 0;
        if (!c->s && !(c->s = malloc(sizeof *c->s * 16))) {
            tf1_oom(c);
            goto done;
        }
        if (!c->caps) c->caps = 16;
        c->s[c->ns++] = (cstate){0, 0, 0, {-1, -1, NULL}};
        if (tf1_topo_order(c, g, order, &count) || cond_states(c, order, count)) goto done;
        int best = -1;
        for (int i = 0; i < c->nn; i++) {
            const cnode *n = &c->n[i];
            if (!n->removed && n->graph == g && n->kind == K_MERGE &&
                (best < 0 || c->s[n->st].depth > c->s[c->n[best].st].depth))
                best = i;
        }
        if (best < 0) {
            /* Switches no Merge joins: what runs under them reaches nothing */
            for (int i = 0; i < c->nn; i++) {
                cnode *n = &c->n[i];
                if (!n->removed && n->graph == g && (n->kind == K_SWITCH || c->s[n->st].depth))
                    n->removed = 1;
            }
            continue;
        }
        if (convert_cond(c, g, best)) goto done;
    }
    rc = 0;
done:
    free(order);
    return rc;
}
