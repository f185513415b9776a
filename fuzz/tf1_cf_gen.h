/* Turns fuzz bytes into a serialized GraphDef full of TF1 control flow
 * (Enter, Merge, Switch, LoopCond, NextIteration, Exit), for the harness
 * fuzz_tf1_control_flow and for tests/test_tf1_control_flow.c, which runs it
 * on fixed seeds. Random bytes rarely make a protobuf with a loop in it, so
 * the bytes are read as a small program instead:
 *   byte 0 even: nodes at random (ops, inputs, output indices, control
 *                edges, attrs all chosen by the bytes; cycles included);
 *   byte 0 odd:  a well-formed TF1 while loop (with, by the bytes, a loop
 *                nested in its body, a cond in its body, a cond around it),
 *                then 0-3 corruptions (an input rewired, a frame renamed,
 *                is_constant flipped, a node's op changed). With none, the
 *                graph is one TF1 writes and must import (*must_import).
 * The protobuf is written by hand (field numbers of graph.proto and
 * tensor.proto), so the harness needs only the public API. */
#ifndef TFC_FUZZ_TF1_CF_GEN_H
#define TFC_FUZZ_TF1_CF_GEN_H

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* names are short (scopes nest at most three deep): a cut name cannot happen,
 * and GCC's truncation warning cannot see that */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-truncation"
#endif

#define CFG_MAX_NODES 96
#define CFG_MAX_IN 5

typedef struct cfg_node {
    char name[48];
    const char *op;
    char in[CFG_MAX_IN][56];
    int nin;
    int T;          /* attr T (-1: none) */
    int dtype;      /* attr dtype of Const/Placeholder (-1: none) */
    int cval;       /* Const's int value */
    char frame[40]; /* Enter's frame_name ("" : none) */
    int is_const;   /* Enter's is_constant (-1: none) */
} cfg_node;

typedef struct cfg_graph {
    cfg_node n[CFG_MAX_NODES];
    int nn;
    const uint8_t *data;
    size_t size, at;
} cfg_graph;

/* The next program byte (0 once the bytes run out). */
static inline unsigned cfg_byte(cfg_graph *g) { return g->at < g->size ? g->data[g->at++] : 0; }

static inline cfg_node *cfg_add(cfg_graph *g, const char *name, const char *op, int T) {
    if (g->nn == CFG_MAX_NODES) return NULL;
    cfg_node *n = &g->n[g->nn++];
    memset(n, 0, sizeof *n);
    snprintf(n->name, sizeof n->name, "%s", name);
    n->op = op;
    n->T = T;
    n->dtype = -1;
    n->is_const = -1;
    return n;
}

static inline void cfg_in(cfg_node *n, const char *fmt_in, ...)
#ifdef __GNUC__
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Adds an input to n, formatted. */
static inline void cfg_in(cfg_node *n, const char *fmt_in, ...) {
    if (!n || n->nin == CFG_MAX_IN) return;
    va_list ap;
    va_start(ap, fmt_in);
    vsnprintf(n->in[n->nin++], sizeof n->in[0], fmt_in, ap);
    va_end(ap);
}

#define CFG_INT32 3
#define CFG_BOOL 10

static inline cfg_node *cfg_const(cfg_graph *g, const char *name, int v, const char *ctrl) {
    cfg_node *n = cfg_add(g, name, "Const", -1);
    if (!n) return NULL;
    n->dtype = CFG_INT32;
    n->cval = v;
    if (ctrl) cfg_in(n, "^%s", ctrl);
    return n;
}

/* A TF1 while loop in scope s: i from 0 while i < limit, acc += i (or, with
 * `inner`, acc from a loop nested in the body; with `cond`, acc += cond(i <
 * 2, i, 1)). `init` is the accumulator's initial value. */
static inline void cfg_loop(cfg_graph *g, const char *s, const char *init, int limit, int inner,
                            int cond, const char *pivot) {
    char b[2][96], frame[40];
    snprintf(frame, sizeof frame, "%s/ctx", s);
    snprintf(b[0], sizeof b[0], "%s/i0", s);
    cfg_const(g, b[0], 0, pivot); /* TF1's pivot edge: the constant runs where the loop is */
    const char *inits[2] = {b[0], init};
    for (int k = 0; k < 2; k++) {
        char nm[96];
        snprintf(nm, sizeof nm, "%s/Enter_%d", s, k);
        cfg_node *e = cfg_add(g, nm, "Enter", CFG_INT32);
        if (!e) return;
        cfg_in(e, "%s", inits[k]);
        snprintf(e->frame, sizeof e->frame, "%s", frame);
        e->is_const = 0;
        snprintf(nm, sizeof nm, "%s/Merge_%d", s, k);
        cfg_node *m = cfg_add(g, nm, "Merge", CFG_INT32);
        cfg_in(m, "%s/Enter_%d", s, k);
        cfg_in(m, "%s/NextIteration_%d", s, k);
        snprintf(nm, sizeof nm, "%s/Switch_%d", s, k);
        cfg_node *w = cfg_add(g, nm, "Switch", CFG_INT32);
        cfg_in(w, "%s/Merge_%d", s, k);
        cfg_in(w, "%s/LoopCond", s);
        snprintf(nm, sizeof nm, "%s/Identity_%d", s, k);
        cfg_node *id = cfg_add(g, nm, "Identity", CFG_INT32);
        char sw[96];
        snprintf(sw, sizeof sw, "%s/Switch_%d", s, k);
        cfg_in(id, "%s:%d", sw, 1);
        snprintf(nm, sizeof nm, "%s/Exit_%d", s, k);
        cfg_node *x = cfg_add(g, nm, "Exit", CFG_INT32);
        cfg_in(x, "%s/Switch_%d", s, k);
    }
    char nm[96], ctl[96];
    snprintf(nm, sizeof nm, "%s/limit", s);
    snprintf(ctl, sizeof ctl, "%s/Merge_0", s);
    cfg_const(g, nm, limit, ctl);
    snprintf(nm, sizeof nm, "%s/Less", s);
    cfg_node *less = cfg_add(g, nm, "Less", CFG_INT32);
    cfg_in(less, "%s/Merge_%d", s, 0);
    cfg_in(less, "%s/limit", s);
    snprintf(nm, sizeof nm, "%s/LoopCond", s);
    cfg_node *lc = cfg_add(g, nm, "LoopCond", -1);
    cfg_in(lc, "%s/Less", s);
    snprintf(nm, sizeof nm, "%s/one", s);
    snprintf(ctl, sizeof ctl, "%s/Identity_0", s);
    cfg_const(g, nm, 1, ctl);
    snprintf(nm, sizeof nm, "%s/add_i", s);
    cfg_node *ai = cfg_add(g, nm, "Add", CFG_INT32);
    cfg_in(ai, "%s/Identity_%d", s, 0);
    cfg_in(ai, "%s/one", s);
    char acc[96];
    if (inner) {
        char is[96], iinit[96];
        snprintf(is, sizeof is, "%s/inner", s);
        snprintf(iinit, sizeof iinit, "%s/Identity_1", s);
        char ipiv[96];
        snprintf(ipiv, sizeof ipiv, "%s/Identity_0", s);
        cfg_loop(g, is, iinit, 2, 0, 0, ipiv);
        snprintf(acc, sizeof acc, "%s/inner/Exit_1", s);
    } else if (cond) {
        /* acc + cond(i < 2, i, one) */
        char c[96];
        snprintf(c, sizeof c, "%s/cond", s);
        snprintf(nm, sizeof nm, "%s/two", s);
        cfg_const(g, nm, 2, ctl);
        snprintf(nm, sizeof nm, "%s/p", s);
        cfg_node *p = cfg_add(g, nm, "Less", CFG_INT32);
        cfg_in(p, "%s/Identity_%d", s, 0);
        cfg_in(p, "%s/two", s);
        snprintf(nm, sizeof nm, "%s/Switch", c);
        cfg_node *pv = cfg_add(g, nm, "Switch", CFG_BOOL);
        cfg_in(pv, "%s/p", s);
        cfg_in(pv, "%s/p", s);
        snprintf(nm, sizeof nm, "%s/switch_f", c);
        cfg_node *sf = cfg_add(g, nm, "Identity", CFG_BOOL);
        cfg_in(sf, "%s/Switch", c);
        snprintf(nm, sizeof nm, "%s/pred_id", c);
        cfg_node *pid = cfg_add(g, nm, "Identity", CFG_BOOL);
        cfg_in(pid, "%s/p", s);
        snprintf(nm, sizeof nm, "%s/Switch_1", c);
        cfg_node *x = cfg_add(g, nm, "Switch", CFG_INT32);
        cfg_in(x, "%s/Identity_%d", s, 0);
        cfg_in(x, "%s/pred_id", c);
        snprintf(nm, sizeof nm, "%s/one", c);
        snprintf(ctl, sizeof ctl, "%s/switch_f", c);
        cfg_const(g, nm, 1, ctl);
        snprintf(nm, sizeof nm, "%s/Merge", c);
        cfg_node *m = cfg_add(g, nm, "Merge", CFG_INT32);
        cfg_in(m, "%s/one", c);
        cfg_in(m, "%s/Switch_1:%d", c, 1);
        snprintf(nm, sizeof nm, "%s/add_c", s);
        cfg_node *ac = cfg_add(g, nm, "Add", CFG_INT32);
        cfg_in(ac, "%s/Identity_%d", s, 1);
        cfg_in(ac, "%s/Merge", c);
        snprintf(acc, sizeof acc, "%s/add_c", s);
    } else {
        snprintf(nm, sizeof nm, "%s/add_acc", s);
        cfg_node *aa = cfg_add(g, nm, "Add", CFG_INT32);
        cfg_in(aa, "%s/Identity_%d", s, 1);
        cfg_in(aa, "%s/Identity_%d", s, 0);
        snprintf(acc, sizeof acc, "%s/add_acc", s);
    }
    const char *next[2] = {NULL, acc};
    char addi[96];
    snprintf(addi, sizeof addi, "%s/add_i", s);
    next[0] = addi;
    for (int k = 0; k < 2; k++) {
        snprintf(nm, sizeof nm, "%s/NextIteration_%d", s, k);
        cfg_node *nx = cfg_add(g, nm, "NextIteration", CFG_INT32);
        cfg_in(nx, "%s", next[k]);
    }
}

static const char *const cfg_ops[] = {
    "Const", "Placeholder", "Enter",         "Exit",     "Merge", "Switch",   "Identity",
    "Add",   "Less",        "NextIteration", "LoopCond", "NoOp",  "RefEnter", "RefSwitch"};

static inline void cfg_random(cfg_graph *g) {
    int nn = 1 + (int)(cfg_byte(g) % 40);
    for (int i = 0; i < nn; i++) {
        char nm[16];
        snprintf(nm, sizeof nm, "n%d", i);
        const char *op = cfg_ops[cfg_byte(g) % (sizeof cfg_ops / sizeof *cfg_ops)];
        unsigned tb = cfg_byte(g);
        cfg_node *n = cfg_add(g, nm, op, tb % 5 == 0 ? -1 : tb % 5 == 1 ? CFG_BOOL : CFG_INT32);
        if (!n) return;
        if (!strcmp(op, "Const") || !strcmp(op, "Placeholder")) {
            n->T = -1;
            n->dtype = tb % 3 == 0 ? CFG_BOOL : CFG_INT32;
            n->cval = (int)(cfg_byte(g) % 4);
        }
        int nin = (int)(cfg_byte(g) % 4);
        for (int k = 0; k < nin; k++) {
            unsigned t = cfg_byte(g), how = cfg_byte(g);
            char src[16];
            snprintf(src, sizeof src, "n%u", t % (unsigned)nn);
            if (how % 5 == 0)
                cfg_in(n, "^%s", src);
            else
                cfg_in(n, "%s:%d", src, (int)(how % 3));
        }
        if (strstr(op, "Enter")) {
            snprintf(n->frame, sizeof n->frame, "f%u", cfg_byte(g) % 3);
            n->is_const = (int)(cfg_byte(g) % 2);
        }
    }
}

/* Applies one corruption chosen by the bytes. */
static inline void cfg_corrupt(cfg_graph *g) {
    if (!g->nn) return;
    cfg_node *n = &g->n[cfg_byte(g) % (unsigned)g->nn];
    switch (cfg_byte(g) % 4) {
    case 0:
        if (n->nin) {
            char t[sizeof n->name];
            memcpy(t, g->n[cfg_byte(g) % (unsigned)g->nn].name, sizeof t);
            unsigned k = cfg_byte(g) % (unsigned)n->nin, idx = cfg_byte(g) % 3;
            if (n->in[k][0] == '^')
                snprintf(n->in[k], sizeof n->in[k], "^%s", t);
            else
                snprintf(n->in[k], sizeof n->in[k], "%s:%u", t, idx);
        }
        break;
    case 1: snprintf(n->frame, sizeof n->frame, "other%u", cfg_byte(g) % 2); break;
    case 2: n->is_const = n->is_const >= 0 ? !n->is_const : 1; break;
    default: n->op = cfg_ops[cfg_byte(g) % (sizeof cfg_ops / sizeof *cfg_ops)]; break;
    }
}

/* ---- protobuf wire format ---- */

typedef struct cfg_buf {
    uint8_t *p;
    size_t n, cap;
} cfg_buf;

static inline void cfg_put(cfg_buf *b, const void *src, size_t len) {
    if (b->n + len > b->cap) {
        size_t cap = (b->n + len) * 2 + 64;
        uint8_t *q = realloc(b->p, cap);
        if (!q) abort();
        b->p = q;
        b->cap = cap;
    }
    memcpy(b->p + b->n, src, len);
    b->n += len;
}

static inline void cfg_varint(cfg_buf *b, uint64_t v) {
    uint8_t t[10];
    int k = 0;
    do {
        t[k] = (uint8_t)(v & 0x7f);
        v >>= 7;
        if (v) t[k] |= 0x80;
        k++;
    } while (v);
    cfg_put(b, t, (size_t)k);
}

static inline void cfg_field_bytes(cfg_buf *b, int field, const void *p, size_t len) {
    cfg_varint(b, (uint64_t)field << 3 | 2);
    cfg_varint(b, len);
    cfg_put(b, p, len);
}

static inline void cfg_field_varint(cfg_buf *b, int field, uint64_t v) {
    cfg_varint(b, (uint64_t)field << 3);
    cfg_varint(b, v);
}

/* attr entry: key = 1, value (AttrValue) = 2 */
static inline void cfg_attr(cfg_buf *node, const char *key, const cfg_buf *value) {
    cfg_buf e = {0};
    cfg_field_bytes(&e, 1, key, strlen(key));
    cfg_field_bytes(&e, 2, value->p, value->n);
    cfg_field_bytes(node, 5, e.p, e.n);
    free(e.p);
}

static inline void cfg_attr_varint(cfg_buf *node, const char *key, int field, uint64_t v) {
    cfg_buf a = {0};
    cfg_field_varint(&a, field, v);
    cfg_attr(node, key, &a);
    free(a.p);
}

/* The serialized GraphDef (caller frees *out). */
static inline void cfg_serialize(const cfg_graph *g, uint8_t **out, size_t *len) {
    cfg_buf gd = {0};
    for (int i = 0; i < g->nn; i++) {
        const cfg_node *n = &g->n[i];
        cfg_buf nb = {0};
        cfg_field_bytes(&nb, 1, n->name, strlen(n->name));
        cfg_field_bytes(&nb, 2, n->op, strlen(n->op));
        for (int k = 0; k < n->nin; k++) cfg_field_bytes(&nb, 3, n->in[k], strlen(n->in[k]));
        if (n->T >= 0) cfg_attr_varint(&nb, "T", 6, (uint64_t)n->T);
        if (!strcmp(n->op, "Merge")) cfg_attr_varint(&nb, "N", 3, (uint64_t)n->nin);
        if (n->frame[0]) {
            cfg_buf a = {0};
            cfg_field_bytes(&a, 2, n->frame, strlen(n->frame));
            cfg_attr(&nb, "frame_name", &a);
            free(a.p);
        }
        if (n->is_const >= 0) cfg_attr_varint(&nb, "is_constant", 5, (uint64_t)n->is_const);
        if (n->dtype >= 0) {
            cfg_attr_varint(&nb, "dtype", 6, (uint64_t)n->dtype);
            if (!strcmp(n->op,
                        "Const")) { /* TensorProto: dtype 1, shape 2, int_val 7 / bool_val 11 */
                cfg_buf t = {0}, a = {0};
                cfg_field_varint(&t, 1, (uint64_t)n->dtype);
                cfg_field_bytes(&t, 2, "", 0);
                cfg_field_varint(&t, n->dtype == CFG_BOOL ? 11 : 7,
                                 (uint64_t)(n->dtype == CFG_BOOL ? n->cval % 2 : n->cval));
                cfg_field_bytes(&a, 8, t.p, t.n);
                cfg_attr(&nb, "value", &a);
                free(t.p);
                free(a.p);
            }
        }
        cfg_field_bytes(&gd, 1, nb.p, nb.n);
        free(nb.p);
    }
    *out = gd.p;
    *len = gd.n;
}

/* The GraphDef the bytes describe; *must_import is 1 when it is a graph TF1
 * writes (no corruption), which must then import. */
static inline void cfg_generate(const uint8_t *data, size_t size, uint8_t **out, size_t *len,
                                int *must_import) {
    cfg_graph *g = calloc(1, sizeof *g);
    if (!g) abort();
    g->data = data;
    g->size = size;
    *must_import = 0;
    unsigned mode = cfg_byte(g);
    if (mode % 2 == 0) {
        cfg_random(g);
    } else {
        unsigned shape = cfg_byte(g);
        int around = (shape >> 2) & 1;
        cfg_const(g, "zero", 0, NULL);
        if (around) { /* the loop inside the true branch of a cond on p */
            cfg_node *p = cfg_add(g, "p", "Placeholder", -1);
            if (p) p->dtype = CFG_BOOL;
            cfg_node *sw = cfg_add(g, "c/Switch", "Switch", CFG_BOOL);
            cfg_in(sw, "p");
            cfg_in(sw, "p");
            cfg_node *st = cfg_add(g, "c/switch_t", "Identity", CFG_BOOL);
            cfg_in(st, "c/Switch:1");
            cfg_node *x = cfg_add(g, "c/Switch_1", "Switch", CFG_INT32);
            cfg_in(x, "zero");
            cfg_in(x, "p");
            cfg_loop(g, "c/w", "c/Switch_1:1", 3 + (int)(shape % 3), (shape >> 3) & 1,
                     (shape >> 4) & 1, "c/switch_t");
            cfg_node *m = cfg_add(g, "c/Merge", "Merge", CFG_INT32);
            cfg_in(m, "c/Switch_1");
            cfg_in(m, "c/w/Exit_1");
        } else {
            cfg_loop(g, "w", "zero", 3 + (int)(shape % 3), (shape >> 3) & 1, (shape >> 4) & 1,
                     NULL);
        }
        int corruptions = (int)(cfg_byte(g) % 4);
        for (int i = 0; i < corruptions; i++) cfg_corrupt(g);
        *must_import = corruptions == 0;
    }
    cfg_serialize(g, out, len);
    free(g);
}

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

#endif
