/* Step 2 of the TF1 control-flow conversion (tf1_control_flow.c has the
 * whole algorithm): the while frames of the GraphDef's nodes, then each
 * frame, innermost first, into a While node with cond and body functions. */
#include "formats/tf1_cf_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- step 1: frames ---- */

static int is_ancestor(const conv *c, int a, int b) {
    for (; b > 0; b = c->fr[b].parent)
        if (a == b) return 1;
    return a == b;
}

static int add_frame(conv *c, const char *name, int parent) {
    if (c->nfr == c->capfr) {
        int cap = c->capfr ? 2 * c->capfr : 8;
        frame *v = realloc(c->fr, sizeof *v * (size_t)cap);
        if (!v) return tf1_oom(c);
        c->fr = v;
        c->capfr = cap;
    }
    c->fr[c->nfr] = (frame){name, parent, parent >= 0 ? c->fr[parent].depth + 1 : 0};
    if (name && tfc_strmap_put(&c->frames, name, (void *)(intptr_t)(c->nfr + 1))) return tf1_oom(c);
    return c->nfr++;
}

static const char *frame_name(const conv *c, int f) {
    return f ? c->fr[f].name : "(outside every loop)";
}

static int assign_frames(conv *c) {
    int *order = malloc(sizeof *order * ((size_t)c->nn + 1)), count = 0;
    if (!order) return tf1_oom(c);
    if (add_frame(c, NULL, -1) < 0 || tf1_topo_order(c, 0, order, &count)) {
        free(order);
        return -1;
    }
    int rc = 0;
    for (int o = 0; o < count && !rc; o++) {
        int id = order[o];
        cnode *n = &c->n[id];
        if (n->kind == K_ENTER) {
            int pf = n->in[0].node >= 0 ? c->n[n->in[0].node].frame : 0;
            const Tensorflow__AttrValue *v = tf1_nd_attr(n->nd, "frame_name");
            if (!v || v->value_case != TENSORFLOW__ATTR_VALUE__VALUE_S || !v->s.len ||
                memchr(v->s.data, 0, v->s.len)) {
                rc = tf1_fail(c, TFC_INVALID_ARGUMENT, "Enter '%s' has no frame_name", n->name);
                break;
            }
            char *fname = tfc_arena_alloc(c->a, v->s.len + 1);
            if (!fname) {
                rc = tf1_oom(c);
                break;
            }
            memcpy(fname, v->s.data, v->s.len);
            intptr_t f = (intptr_t)tfc_strmap_get(&c->frames, fname);
            if (!f) {
                int nf = add_frame(c, fname, pf);
                if (nf < 0) rc = -1;
                f = nf + 1;
            } else if (c->fr[f - 1].parent != pf) {
                rc =
                    tf1_fail(c, TFC_INVALID_ARGUMENT,
                             "Enter '%s' enters frame '%s' from frame '%s', but another Enter "
                             "enters it from frame '%s' (mismatched frames)",
                             n->name, fname, frame_name(c, pf), frame_name(c, c->fr[f - 1].parent));
            }
            n->frame = (int)f - 1;
            continue;
        }
        if (n->kind == K_EXIT) {
            int f = n->in[0].node >= 0 ? c->n[n->in[0].node].frame : 0;
            if (!f) {
                rc =
                    tf1_fail(c, TFC_INVALID_ARGUMENT,
                             "Exit '%s' is not inside a while loop (its input '%s' is in no "
                             "frame: an Exit without an Enter)",
                             n->name, n->in[0].node >= 0 ? c->n[n->in[0].node].name : n->in[0].ext);
                break;
            }
            n->frame = c->fr[f].parent;
            continue;
        }
        int f = 0, from = -1;
        for (int k = 0; k < n->nin; k++) {
            int t = n->in[k].node;
            if (t < 0 || tf1_is_back_edge(c, t, id)) continue;
            int g = c->n[t].frame;
            if (is_ancestor(c, f, g)) {
                f = g;
                from = t;
            } else if (!is_ancestor(c, g, f)) {
                rc = tf1_fail(
                    c, TFC_INVALID_ARGUMENT,
                    "node '%s' reads '%s' (in frame '%s') and '%s' (in frame '%s'): values "
                    "cross while loops only through Enter and Exit (mismatched frames)",
                    n->name, c->n[from].name, frame_name(c, f), c->n[t].name, frame_name(c, g));
                break;
            }
        }
        n->frame = f;
        if (!rc && !f && (n->kind == K_NEXT || n->kind == K_LOOPCOND))
            rc = tf1_fail(c, TFC_INVALID_ARGUMENT,
                          "%s '%s' is outside every while loop (no Enter "
                          "leads to it)",
                          n->nd->op, n->name);
    }
    free(order);
    return rc;
}

/* ---- step 2: loops ---- */

/* What a node is to the loop being converted. */
enum role { R_NONE, R_MERGE, R_SWITCH, R_CONST, R_STRUCT };

/* The loop being converted. */
typedef struct loop {
    int F, lc, nv, ncap;
    int *role, *rix; /* per node: its role in the loop and the variable or capture */
    int *var_enter, *var_merge, *var_switch, *var_next, *var_dt;
    ref *cap; /* capture sources (outside the frame) */
    int *cap_dt, cap_cap;
    ref *hoist; /* control edges from outside, for the While */
    int nhoist, cap_hoist;
} loop;

static int add_capture(conv *c, loop *L, ref r, int dt) {
    int k = tf1_find_cap(L->cap, L->ncap, r);
    if (k >= 0) return k;
    int capn = L->cap_cap;
    k = tf1_push_ref(c, &L->cap, &L->ncap, &L->cap_cap, r);
    if (k < 0) return -1;
    if (L->cap_cap != capn || !L->cap_dt) {
        int *d = realloc(L->cap_dt, sizeof *d * (size_t)L->cap_cap);
        if (!d) return tf1_oom(c);
        L->cap_dt = d;
    }
    L->cap_dt[k] = dt;
    return k;
}

/* What input r of node x (on side 0, the condition, or 1, the body) is:
 * a member of the same function, param *param, a control edge to drop, or
 * one to move to the While. -1 with the status set when the loop reads it
 * in a way TF1 does not write. */
static int loop_verdict(conv *c, loop *L, int side, int x, ref r, int *param) {
    const char *who = c->n[x].name, *fn = frame_name(c, L->F);
    int t = r.node;
    if (t < 0) {
        if (r.idx < 0) return V_HOIST;
        return tf1_fail(c, TFC_INVALID_ARGUMENT,
                        "node '%s' in while frame '%s' reads '%s', which is not in the GraphDef",
                        who, fn, r.ext);
    }
    const cnode *tn = &c->n[t];
    switch (L->role[t]) {
    case R_MERGE:
        if (r.idx < 0) return V_DROP;
        if (side == 0 && r.idx == 0) return *param = L->rix[t], V_PARAM;
        return tf1_fail(c, TFC_INVALID_ARGUMENT,
                        "node '%s' in while frame '%s' reads Merge '%s'%s: a loop body reads its "
                        "variables from the Switch on the LoopCond",
                        who, fn, tn->name, r.idx == 1 ? " (its value_index)" : "");
    case R_SWITCH:
        if (r.idx < 0) return V_DROP;
        if (side == 1 && r.idx == 1) return *param = L->rix[t], V_PARAM;
        return tf1_fail(c, TFC_INVALID_ARGUMENT,
                        "node '%s' in while frame '%s' reads output %d of Switch '%s' (%s)", who,
                        fn, r.idx, tn->name,
                        r.idx == 0 ? "only an Exit may read the false output"
                                   : "the loop condition cannot read the body's values");
    case R_CONST:
        if (r.idx < 0) return V_DROP;
        return *param = L->nv + L->rix[t], V_PARAM;
    case R_STRUCT:
        return tf1_fail(c, TFC_INVALID_ARGUMENT,
                        "node '%s' in while frame '%s' reads %s '%s', which only the loop's own "
                        "Merge or Switch may read",
                        who, fn, tn->nd->op, tn->name);
    default: break;
    }
    if (tn->frame == L->F && tn->graph == 0) return V_MEMBER;
    if (!is_ancestor(c, tn->frame, L->F))
        return tf1_fail(c, TFC_INVALID_ARGUMENT,
                        "node '%s' in while frame '%s' reads '%s' of frame "
                        "'%s' (mismatched frames)",
                        who, fn, tn->name, frame_name(c, tn->frame));
    if (r.idx < 0) return V_HOIST;
    /* read from outside without an Enter: captured like a constant Enter */
    int dt = tf1_out_dtype(c, t, r.idx);
    if (dt < 0)
        return tf1_fail(c, TFC_UNIMPLEMENTED,
                        "node '%s' in while frame '%s' reads '%s:%d' from outside the loop without "
                        "an Enter, and its dtype cannot be told from its NodeDef",
                        who, fn, tn->name, r.idx);
    int k = add_capture(c, L, r, dt);
    if (k < 0) return -1;
    return *param = L->nv + k, V_PARAM;
}

/* Marks (bit `side`) what the inputs of `start` need inside the frame. */
static int loop_closure(conv *c, loop *L, int side, int start, char *mark, int *stack) {
    int top = 0;
    stack[top++] = start;
    while (top) {
        int x = stack[--top];
        for (int k = 0; k < c->n[x].nin; k++) {
            int param = 0, v = loop_verdict(c, L, side, x, c->n[x].in[k], &param);
            if (v < 0) return -1;
            if (v == V_HOIST &&
                tf1_push_ref(c, &L->hoist, &L->nhoist, &L->cap_hoist, c->n[x].in[k]) < 0)
                return -1;
            int t = c->n[x].in[k].node;
            if (v == V_MEMBER && !(mark[t] & (1 << side))) {
                mark[t] |= (char)(1 << side);
                stack[top++] = t;
            }
        }
    }
    return 0;
}

/* The function output that node `src` gives through input `r`, with src's
 * control inputs from inside (an Identity carrying them when there are
 * any). `map` maps members to their node in the function (NULL: same). */
static int loop_output(conv *c, loop *L, int side, int src, int f, const int *map, ref *out) {
    int param = 0, v = loop_verdict(c, L, side, src, c->n[src].in[0], &param);
    if (v < 0) return -1;
    ref r = c->n[src].in[0];
    if (v == V_PARAM) r = (ref){c->f[f].params[param], 0, NULL};
    if (v == V_MEMBER && map) r.node = map[r.node];
    int wrap = -1;
    for (int k = c->n[src].ndata; k < c->n[src].nin; k++) {
        ref cr = c->n[src].in[k];
        v = loop_verdict(c, L, side, src, cr, &param);
        if (v < 0) return -1;
        if (v == V_HOIST && tf1_push_ref(c, &L->hoist, &L->nhoist, &L->cap_hoist, cr) < 0)
            return -1;
        if (v != V_MEMBER) continue;
        if (wrap < 0) {
            char base[600];
            snprintf(base, sizeof base, "%.500s/control_deps", c->n[src].name);
            wrap = tf1_add_node(c, NULL, NULL, K_IDENTITY, f);
            if (wrap < 0) return -1;
            if (!(c->n[wrap].name = tf1_fresh_name(c, base, wrap))) return tf1_oom(c);
            c->n[wrap].dtype = tf1_out_dtype(c, src, 0);
            if (tf1_add_in(c, wrap, r)) return -1;
        }
        if (tf1_add_in(c, wrap, (ref){map ? map[cr.node] : cr.node, -1, NULL})) return -1;
    }
    *out = wrap >= 0 ? (ref){wrap, 0, NULL} : r;
    return 0;
}

/* Rewrites node x's inputs for function f (members through map, NULL:
 * same ids; params; control edges dropped or moved to the While). */
static int rewrite_inputs(conv *c, loop *L, int side, int x, int f, const int *map) {
    int nin = c->n[x].nin;
    ref *old = c->n[x].in;
    c->n[x].in = NULL;
    c->n[x].nin = c->n[x].ndata = c->n[x].cap = 0;
    int rc = 0;
    for (int k = 0; k < nin && !rc; k++) {
        int param = 0, v = loop_verdict(c, L, side, x, old[k], &param);
        ref r = old[k];
        if (v < 0)
            rc = -1;
        else if (v == V_HOIST)
            rc = tf1_push_ref(c, &L->hoist, &L->nhoist, &L->cap_hoist, r) < 0 ? -1 : 0;
        else if (v == V_PARAM)
            rc = old[k].idx < 0 ? 0 : tf1_add_in(c, x, (ref){c->f[f].params[param], 0, NULL});
        else if (v == V_MEMBER)
            rc = tf1_add_in(c, x, (ref){map ? map[r.node] : r.node, r.idx, NULL});
    }
    free(old);
    return rc;
}

static void loop_free(loop *L) {
    free(L->role);
    free(L->rix);
    free(L->var_enter);
    free(L->cap);
    free(L->cap_dt);
    free(L->hoist);
}

static int is_const_enter(const cnode *n) {
    const Tensorflow__AttrValue *v = tf1_nd_attr(n->nd, "is_constant");
    return v && v->value_case == TENSORFLOW__ATTR_VALUE__VALUE_B && v->b;
}

/* Finds the loop variables of frame F and checks the loop's structure. */
static int loop_structure(conv *c, loop *L) {
    const char *fn = frame_name(c, L->F);
    int nenter = 0;
    L->lc = -1;
    for (int i = 0; i < c->nn; i++) {
        const cnode *n = &c->n[i];
        if (n->removed || n->graph != 0 || n->frame != L->F) continue;
        if (n->kind == K_LOOPCOND) {
            if (L->lc >= 0)
                return tf1_fail(c, TFC_INVALID_ARGUMENT,
                                "while frame '%s' has two LoopCond nodes ('%s' and '%s')", fn,
                                c->n[L->lc].name, n->name);
            L->lc = i;
        }
        nenter += n->kind == K_ENTER;
    }
    if (L->lc < 0) return tf1_fail(c, TFC_INVALID_ARGUMENT, "while frame '%s' has no LoopCond", fn);
    L->var_enter = malloc(sizeof(int) * 5 * ((size_t)nenter + 1));
    if (!L->var_enter) return tf1_oom(c);
    L->var_merge = L->var_enter + nenter + 1;
    L->var_switch = L->var_merge + nenter + 1;
    L->var_next = L->var_switch + nenter + 1;
    L->var_dt = L->var_next + nenter + 1;
    L->role[L->lc] = R_STRUCT;
    for (int e = 0; e < c->nn; e++) {
        cnode *n = &c->n[e];
        if (n->removed || n->graph != 0 || n->frame != L->F || n->kind != K_ENTER) continue;
        if (is_const_enter(n)) {
            L->role[e] = R_CONST;
            if (n->in[0].node < 0)
                return tf1_fail(c, TFC_INVALID_ARGUMENT,
                                "Enter '%s' reads '%s', which is not in the "
                                "GraphDef",
                                n->name, n->in[0].ext);
            int k = add_capture(c, L, n->in[0], n->dtype);
            if (k < 0) return -1;
            L->rix[e] = k;
            continue;
        }
        /* a loop variable: Enter -> Merge(Enter, NextIteration) -> Switch(Merge, LoopCond) */
        int m = -1, nm = 0;
        for (int j = c->cstart[e]; j < c->cstart[e + 1]; j++)
            if (c->n[c->cons[j]].in[c->cslot[j]].idx >= 0) {
                m = c->cons[j];
                nm++;
            }
        if (nm != 1 || c->n[m].kind != K_MERGE || c->n[m].ndata != 2)
            return tf1_fail(c, TFC_INVALID_ARGUMENT,
                            "Enter '%s' (a loop variable of while frame '%s') must feed one Merge "
                            "of it and its NextIteration",
                            n->name, fn);
        ref other = c->n[m].in[c->n[m].in[0].node == e ? 1 : 0];
        int nx = other.node;
        if (nx < 0 || c->n[nx].kind != K_NEXT || c->n[nx].frame != L->F || L->role[nx])
            return tf1_fail(c, TFC_INVALID_ARGUMENT,
                            "Merge '%s' of while frame '%s' joins Enter '%s' with '%s', not with a "
                            "NextIteration of the loop",
                            c->n[m].name, fn, n->name, tf1_ref_name(c, other));
        int sw = -1;
        for (int j = c->cstart[m]; j < c->cstart[m + 1]; j++) {
            int y = c->cons[j];
            ref r = c->n[y].in[c->cslot[j]];
            if (r.idx == 1)
                return tf1_fail(c, TFC_UNIMPLEMENTED,
                                "node '%s' reads the value_index of Merge '%s' (not supported)",
                                c->n[y].name, c->n[m].name);
            if (c->n[y].kind == K_SWITCH && c->cslot[j] == 0 && c->n[y].in[1].node == L->lc) {
                if (sw >= 0)
                    return tf1_fail(c, TFC_INVALID_ARGUMENT,
                                    "Merge '%s' of while frame '%s' feeds two Switches on the "
                                    "LoopCond",
                                    c->n[m].name, fn);
                sw = y;
            }
        }
        if (sw < 0)
            return tf1_fail(c, TFC_INVALID_ARGUMENT,
                            "Merge '%s' of while frame '%s' feeds no Switch on LoopCond '%s'",
                            c->n[m].name, fn, c->n[L->lc].name);
        int v = L->nv++;
        L->var_enter[v] = e;
        L->var_merge[v] = m;
        L->var_switch[v] = sw;
        L->var_next[v] = nx;
        L->var_dt[v] = n->dtype;
        L->role[e] = R_STRUCT;
        L->role[nx] = R_STRUCT;
        L->role[m] = R_MERGE;
        L->role[sw] = R_SWITCH;
        L->rix[m] = L->rix[sw] = v;
        if (c->n[m].dtype != n->dtype || c->n[sw].dtype != n->dtype || c->n[nx].dtype != n->dtype)
            return tf1_fail(
                c, TFC_INVALID_ARGUMENT,
                "loop variable '%s' of while frame '%s' changes dtype between its Enter, "
                "Merge, Switch and NextIteration",
                n->name, fn);
        for (int j = c->cstart[sw]; j < c->cstart[sw + 1]; j++) {
            int y = c->cons[j];
            ref r = c->n[y].in[c->cslot[j]];
            if (r.idx == 0 && c->n[y].kind != K_EXIT)
                return tf1_fail(c, TFC_INVALID_ARGUMENT,
                                "node '%s' reads the false output of Switch '%s' of while frame "
                                "'%s'; only an Exit may",
                                c->n[y].name, c->n[sw].name, fn);
        }
    }
    if (!L->nv)
        return tf1_fail(c, TFC_INVALID_ARGUMENT, "while frame '%s' has no loop variables", fn);
    /* every loop-shaped node of the frame must belong to a variable */
    for (int i = 0; i < c->nn; i++) {
        const cnode *n = &c->n[i];
        if (n->removed || n->graph != 0) continue;
        int stray = n->frame == L->F && !L->role[i] &&
                    (n->kind == K_NEXT || (n->kind == K_SWITCH && n->in[1].node == L->lc) ||
                     (n->kind == K_MERGE && n->ndata == 2 &&
                      ((n->in[0].node >= 0 && c->n[n->in[0].node].kind == K_NEXT) ||
                       (n->in[1].node >= 0 && c->n[n->in[1].node].kind == K_NEXT))));
        if (n->kind == K_EXIT && n->in[0].node >= 0 && c->n[n->in[0].node].frame == L->F &&
            (L->role[n->in[0].node] != R_SWITCH || n->in[0].idx != 0))
            return tf1_fail(c, TFC_INVALID_ARGUMENT,
                            "Exit '%s' of while frame '%s' reads '%s', not the Switch of a loop "
                            "variable",
                            n->name, fn, c->n[n->in[0].node].name);
        if (stray)
            return tf1_fail(c, TFC_INVALID_ARGUMENT,
                            "%s '%s' of while frame '%s' belongs to no loop variable (no Enter, "
                            "Merge, Switch and NextIteration chain)",
                            n->nd->op, n->name, fn);
    }
    return 0;
}

static int convert_loop(conv *c, int F) {
    loop L = {0};
    L.F = F;
    const char *fn = frame_name(c, F);
    int nn0 = c->nn, rc = -1;
    L.role = calloc((size_t)nn0 + 1, sizeof *L.role);
    L.rix = calloc((size_t)nn0 + 1, sizeof *L.rix);
    char *mark = calloc((size_t)nn0 + 1, 1);
    int *stack = malloc(sizeof *stack * ((size_t)nn0 + 1));
    int *map = malloc(sizeof *map * ((size_t)nn0 + 1));
    int *dts = NULL;
    ref *outs = NULL;
    if (!L.role || !L.rix || !mark || !stack || !map) {
        tf1_oom(c);
        goto done;
    }
    if (tf1_build_consumers(c, 0) || loop_structure(c, &L)) goto done;
    /* what the condition and the body need (captures found on the way) */
    if (loop_closure(c, &L, 0, L.lc, mark, stack)) goto done;
    for (int v = 0; v < L.nv; v++)
        if (loop_closure(c, &L, 1, L.var_next[v], mark, stack)) goto done;
    int np = L.nv + L.ncap;
    dts = malloc(sizeof *dts * ((size_t)np + 1));
    outs = malloc(sizeof *outs * ((size_t)L.nv + 1));
    if (!dts || !outs) {
        tf1_oom(c);
        goto done;
    }
    memcpy(dts, L.var_dt, sizeof *dts * (size_t)L.nv);
    if (L.ncap) memcpy(dts + L.nv, L.cap_dt, sizeof *dts * (size_t)L.ncap);
    int fc = tf1_add_func(c, tf1_fresh_fname(c, c->n[L.lc].name, "cond"));
    int fb = fc < 0 ? -1 : tf1_add_func(c, tf1_fresh_fname(c, c->n[L.lc].name, "body"));
    if (fb < 0 || tf1_add_params(c, fc, dts, np) || tf1_add_params(c, fb, dts, np)) goto done;
    /* the condition: copies of its members (the body may need them too) */
    for (int i = 0; i < nn0; i++) {
        if (!(mark[i] & 1)) continue;
        int id = tf1_add_node(c, c->n[i].name, c->n[i].nd, c->n[i].kind, fc);
        if (id < 0) goto done;
        cnode *src = &c->n[i], *cp = &c->n[id];
        cp->dtype = src->dtype;
        cp->nout = src->nout;
        cp->odt = src->odt;
        cp->fa = src->fa;
        cp->fb = src->fb;
        cp->parallel = src->parallel;
        cp->frame = -1;
        for (int k = 0; k < src->nin; k++)
            if (tf1_add_in(c, id, c->n[i].in[k])) goto done;
        map[i] = id;
    }
    for (int i = 0; i < nn0; i++)
        if ((mark[i] & 1) && rewrite_inputs(c, &L, 0, map[i], fc, NULL)) goto done;
    /* the copies' inputs still name originals: map them */
    for (int i = nn0; i < c->nn; i++) {
        if (c->n[i].graph != fc || c->n[i].kind == K_ARG) continue;
        for (int k = 0; k < c->n[i].nin; k++) {
            int t = c->n[i].in[k].node;
            if (t >= 0 && t < nn0 && c->n[t].graph == 0) c->n[i].in[k].node = map[t];
        }
    }
    ref cout;
    if (loop_output(c, &L, 0, L.lc, fc, map, &cout)) goto done;
    {
        int bool_dt = TFC_BOOL;
        if (tf1_set_outputs(c, fc, &cout, &bool_dt, 1)) goto done;
    }
    /* the body: its members move */
    for (int v = 0; v < L.nv; v++)
        if (loop_output(c, &L, 1, L.var_next[v], fb, NULL, &outs[v])) goto done;
    for (int i = 0; i < nn0; i++)
        if ((mark[i] & 2) && rewrite_inputs(c, &L, 1, i, fb, NULL)) goto done;
    if (tf1_set_outputs(c, fb, outs, L.var_dt, L.nv)) goto done;
    /* the While node, in the enclosing frame */
    char base[600];
    snprintf(base, sizeof base, "%.500s/While", c->n[L.lc].name);
    {
        const char *slash = strrchr(c->n[L.lc].name, '/');
        if (slash)
            snprintf(base, sizeof base, "%.*s/While", (int)(slash - c->n[L.lc].name),
                     c->n[L.lc].name);
    }
    int w = tf1_add_node(c, NULL, NULL, K_WHILE, 0);
    if (w < 0 || !(c->n[w].name = tf1_fresh_name(c, base, w))) {
        if (w >= 0) tf1_oom(c);
        goto done;
    }
    c->n[w].frame = c->fr[F].parent;
    c->n[w].fa = fc;
    c->n[w].fb = fb;
    c->n[w].nout = L.nv;
    c->n[w].odt = tfc_arena_alloc(c->a, sizeof(int) * (size_t)(L.nv + 1));
    if (!c->n[w].odt) {
        tf1_oom(c);
        goto done;
    }
    memcpy(c->n[w].odt, L.var_dt, sizeof(int) * (size_t)L.nv);
    /* TensorFlow's parallel_iterations bounds the iterations in flight; tfc's
     * While takes the same attr and runs iterations pipelined (results do
     * not change), so it is passed on */
    const Tensorflow__AttrValue *pi = tf1_nd_attr(c->n[L.var_enter[0]].nd, "parallel_iterations");
    c->n[w].parallel = pi && pi->value_case == TENSORFLOW__ATTR_VALUE__VALUE_I ? pi->i : 10;
    for (int v = 0; v < L.nv; v++)
        if (tf1_add_in(c, w, c->n[L.var_enter[v]].in[0])) goto done;
    for (int k = 0; k < L.ncap; k++)
        if (tf1_add_in(c, w, L.cap[k])) goto done;
    for (int i = 0; i < nn0; i++) /* the Enters' own control inputs */
        if (!c->n[i].removed && c->n[i].graph == 0 && c->n[i].frame == F && c->n[i].kind == K_ENTER)
            for (int k = c->n[i].ndata; k < c->n[i].nin; k++)
                if (tf1_push_ref(c, &L.hoist, &L.nhoist, &L.cap_hoist, c->n[i].in[k]) < 0)
                    goto done;
    for (int k = 0; k < L.nhoist; k++)
        if (tf1_add_in(c, w, L.hoist[k])) goto done;
    /* Exits become Identities of the While's outputs */
    for (int i = 0; i < nn0; i++) {
        cnode *e = &c->n[i];
        if (e->removed || e->graph != 0 || e->kind != K_EXIT || e->in[0].node < 0 ||
            L.role[e->in[0].node] != R_SWITCH)
            continue;
        int v = L.rix[e->in[0].node];
        e->kind = K_IDENTITY;
        e->in[0] = (ref){w, v, NULL};
        int keep = 1;
        for (int k = 1; k < e->nin; k++) {
            int t = e->in[k].node;
            if (t < 0 || c->n[t].frame != F) e->in[keep++] = e->in[k];
        }
        e->nin = keep;
    }
    /* the frame's nodes leave the graph: the body's into the body, the rest
     * (structure, condition-only nodes, nodes feeding neither) away */
    for (int i = 0; i < nn0; i++) {
        cnode *n = &c->n[i];
        if (n->removed || n->graph != 0 || n->frame != F) continue;
        if (mark[i] & 2)
            n->graph = fb;
        else
            n->removed = 1;
    }
    rc = 0;
done:
    (void)fn;
    loop_free(&L);
    free(mark);
    free(stack);
    free(map);
    free(dts);
    free(outs);
    return rc;
}

int tf1_convert_loops(conv *c) {
    if (assign_frames(c)) return -1;
    int *done = calloc((size_t)c->nfr + 1, sizeof *done);
    if (!done) return tf1_oom(c);
    for (;;) {
        int best = -1;
        for (int f = 1; f < c->nfr; f++)
            if (!done[f] && (best < 0 || c->fr[f].depth > c->fr[best].depth)) best = f;
        if (best < 0) break;
        done[best] = 1;
        if (convert_loop(c, best)) {
            free(done);
            return -1;
        }
    }
    free(done);
    return 0;
}
