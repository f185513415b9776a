/* Sparse gradients (TensorFlow's IndexedSlices) of embedding lookups: the
 * sparse parts against the dense gradient and a reference loop, gradient
 * checks, the row-update ops (Scatter*, Unique, SparseApply*) against plain
 * loops, and each optimizer's sparse step against TensorFlow's sparse
 * semantics, with untouched rows of a large embedding left bit-identical
 * and no dense gradient in the train op's graph. */
#include "gradcheck.h"
#include "harness.h"

#include <stdlib.h>

/* ---- helpers ---- */

static void set_d(tfc_tensor *t, int64_t i, double v) {
    switch (tfc_tensor_dtype(t)) {
    case TFC_FLOAT: ((float *)tfc_tensor_data(t))[i] = (float)v; break;
    case TFC_DOUBLE: ((double *)tfc_tensor_data(t))[i] = v; break;
    case TFC_INT32: ((int32_t *)tfc_tensor_data(t))[i] = (int32_t)v; break;
    default: ((int64_t *)tfc_tensor_data(t))[i] = (int64_t)v; break;
    }
}

static tfc_tensor *random_ids(int rank, const int64_t *dims, int64_t vocab) {
    tfc_tensor *t = tfc_test_random_tensor(TFC_INT32, rank, dims, 0, (double)vocab);
    int32_t *p = tfc_tensor_data(t);
    int64_t n = tfc_tensor_num_elements(t);
    if (n >= 2) p[n - 1] = p[0]; /* at least one duplicate */
    return t;
}

static tfc_tensor *run1(tfc_session *s, tfc_output o) {
    tfc_status *st = tfc_status_new();
    tfc_tensor *t = tfc_session_run1(s, NULL, NULL, 0, o, st);
    CHECK_STATUS_OK(st);
    tfc_status_free(st);
    return t;
}

static void run_target(tfc_session *s, tfc_node *target) {
    tfc_status *st = tfc_status_new();
    tfc_session_run(s, NULL, NULL, 0, NULL, 0, NULL, &target, 1, st);
    CHECK_STATUS_OK(st);
    tfc_status_free(st);
}

static int node_index(tfc_graph *g, const tfc_node *n) {
    for (int i = 0; i < tfc_graph_num_nodes(g); i++)
        if (tfc_graph_node(g, i) == n) return i;
    return -1;
}

/* Does running `target` need a node of type `type` (with attr `attr` set,
 * when not NULL)? */
static int needs_node(tfc_graph *g, tfc_node *target, const char *type, const char *attr) {
    int n = tfc_graph_num_nodes(g), sp = 0, found = 0;
    char *seen = calloc((size_t)n, 1);
    tfc_node **stack = malloc((size_t)n * sizeof *stack);
    stack[sp++] = target;
    seen[node_index(g, target)] = 1;
    while (sp && !found) {
        tfc_node *x = stack[--sp];
        if (!strcmp(tfc_node_type(x), type) && (!attr || tfc_node_attr_int(x, attr, 0))) found = 1;
        int ni = tfc_node_num_inputs(x), nc = tfc_node_num_control_inputs(x);
        for (int i = 0; i < ni + nc; i++) {
            tfc_node *in = i < ni ? tfc_node_input(x, i).node : tfc_node_control_input(x, i - ni);
            int k = node_index(g, in);
            if (k >= 0 && !seen[k]) {
                seen[k] = 1;
                stack[sp++] = in;
            }
        }
    }
    free(seen);
    free(stack);
    return found;
}

/* dense[ids[i]] += rows[i], rows of length d. */
static void densify(double *dense, const tfc_tensor *ids, const tfc_tensor *rows, int64_t d) {
    for (int64_t i = 0; i < tfc_tensor_num_elements(ids); i++) {
        int64_t k = (int64_t)tfc_test_get(ids, i);
        for (int64_t e = 0; e < d; e++) dense[k * d + e] += tfc_test_get(rows, i * d + e);
    }
}

/* ---- the sparse gradient of Gather ---- */

/* loss = sum(w * gather(params, ids)) (twice with a second ids when
 * `two`): the sparse parts, densified, equal the dense gradient and
 * the reference dense[ids[i]] += w[i]. */
static void check_sparse_grad(int64_t vocab, int64_t d, int ids_rank, const int64_t *ids_dims,
                              int two) {
    tfc_graph *g = tfc_graph_new();
    int64_t pdims[2] = {vocab, d};
    tfc_tensor *pt = tfc_test_random_tensor(TFC_DOUBLE, 2, pdims, -1, 1);
    tfc_tensor *it = random_ids(ids_rank, ids_dims, vocab);
    tfc_tensor *it2 = random_ids(1, ids_dims, vocab);
    tfc_output params = tfc_variable(g, "emb", tfc_const(g, pt));
    tfc_output look = tfc_embedding_lookup(g, params, tfc_const(g, it));
    int64_t odims[TFC_MAX_RANK + 1], n = 1;
    for (int i = 0; i < ids_rank; i++) n *= odims[i] = ids_dims[i];
    odims[ids_rank] = d;
    tfc_tensor *wt = tfc_test_random_tensor(TFC_DOUBLE, ids_rank + 1, odims, -1, 1);
    tfc_output loss = tfc_reduce_sum(g, tfc_mul(g, look, tfc_const(g, wt)), NULL, 0, 0);
    int64_t wdims2[2] = {ids_dims[0], d};
    tfc_tensor *wt2 = tfc_test_random_tensor(TFC_DOUBLE, 2, wdims2, -1, 1);
    if (two) {
        tfc_output look2 = tfc_gather(g, params, tfc_const(g, it2));
        loss =
            tfc_add(g, loss, tfc_reduce_sum(g, tfc_mul(g, look2, tfc_const(g, wt2)), NULL, 0, 0));
    }
    tfc_output grad;
    CHECK(tfc_gradients(g, &loss, 1, &params, 1, NULL, &grad) == 0);
    CHECK_GRAPH_OK(g);
    tfc_output ix, vals;
    CHECK(tfc_gradient_sparse_parts(grad, &ix, &vals) == 1);
    CHECK(tfc_gradient_sparse_parts(loss, NULL, NULL) == 0);
    CHECK(needs_node(g, grad.node, "UnsortedSegmentSum", "_sparse_grad"));
    tfc_shape vs = tfc_output_shape(vals), is = tfc_output_shape(ix);
    CHECK(vs.rank == 2 && vs.dims[1] == d && is.rank == 1);
    tfc_node *init = tfc_global_variables_initializer(g);
    tfc_status *st = tfc_status_new();
    tfc_session *s = tfc_session_new(g, NULL, st);
    run_target(s, init);
    tfc_tensor *dense = run1(s, grad), *ti = run1(s, ix), *tv = run1(s, vals);
    if (dense && ti && tv) {
        double *mine = calloc((size_t)(vocab * d), sizeof *mine);
        double *ref = calloc((size_t)(vocab * d), sizeof *ref);
        densify(mine, ti, tv, d);
        for (int64_t i = 0; i < n; i++) {
            int64_t k = (int64_t)tfc_test_get(it, i);
            for (int64_t e = 0; e < d; e++) ref[k * d + e] += tfc_test_get(wt, i * d + e);
        }
        for (int64_t i = 0; two && i < ids_dims[0]; i++) {
            int64_t k = (int64_t)tfc_test_get(it2, i);
            for (int64_t e = 0; e < d; e++) ref[k * d + e] += tfc_test_get(wt2, i * d + e);
        }
        double worst = 0;
        for (int64_t i = 0; i < vocab * d; i++) {
            worst = fmax(worst, fabs(mine[i] - ref[i]));
            worst = fmax(worst, fabs(tfc_test_get(dense, i) - ref[i]));
        }
        CHECK_MSG(worst < 1e-12, "max diff %g", worst);
        CHECK(tfc_tensor_num_elements(ti) == n + (two ? ids_dims[0] : 0));
        free(mine);
        free(ref);
    }
    tfc_tensor_free(dense);
    tfc_tensor_free(ti);
    tfc_tensor_free(tv);
    tfc_session_free(s);
    tfc_status_free(st);
    tfc_tensor_free(pt);
    tfc_tensor_free(it);
    tfc_tensor_free(it2);
    tfc_tensor_free(wt);
    tfc_tensor_free(wt2);
    tfc_graph_free(g);
}

static void sparse_grad_equals_dense(void) {
    int64_t a[1] = {9}, b[2] = {3, 4}, c[1] = {1};
    check_sparse_grad(6, 3, 1, a, 0);
    check_sparse_grad(5, 2, 2, b, 0);
    check_sparse_grad(4, 5, 1, c, 0);
    check_sparse_grad(7, 3, 1, a, 1); /* two lookups: the rows are concatenated */
}

/* Gather's gradient (sparse, densified when read) under finite
 * differences, alone and mixed with a dense use of params. */
static void gather_gradcheck(void) {
    int64_t pd1[2] = {5, 3}, id1[1] = {7}, pd2[3] = {4, 2, 3}, id2[2] = {2, 3};
    struct {
        int prank;
        const int64_t *pdims;
        int irank;
        const int64_t *idims;
        int mixed;
    } cases[] = {{2, pd1, 1, id1, 0}, {3, pd2, 2, id2, 0}, {2, pd1, 1, id1, 1}};
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
        tfc_graph *g = tfc_graph_new();
        tfc_output p = tfc_placeholder(g, "p", TFC_DOUBLE, cases[k].prank, cases[k].pdims);
        tfc_tensor *it = random_ids(cases[k].irank, cases[k].idims, cases[k].pdims[0]);
        tfc_output y = tfc_gather(g, p, tfc_const(g, it));
        if (cases[k].mixed)
            y = tfc_add(g, tfc_reduce_sum(g, tfc_square(g, y), NULL, 0, 0),
                        tfc_reduce_sum(g, tfc_square(g, p), NULL, 0, 0));
        tfc_tensor *pv = tfc_test_random_tensor(TFC_DOUBLE, cases[k].prank, cases[k].pdims, -1, 1);
        double err = tfc_test_gradcheck(g, y, &p, &pv, 1);
        CHECK_MSG(err < TFC_GRAD_TOL, "case %d: %g", (int)k, err);
        CHECK_GRAPH_OK(g);
        tfc_tensor_free(pv);
        tfc_tensor_free(it);
        tfc_graph_free(g);
    }
}

/* ---- the row-update ops against loops ---- */

static tfc_output op3(tfc_graph *g, const char *type, tfc_output a, tfc_output b, tfc_output c) {
    tfc_op_desc *d = tfc_op_new(g, type, NULL);
    tfc_op_add_input(d, a);
    tfc_op_add_input(d, b);
    tfc_op_add_input(d, c);
    return tfc_out(tfc_op_finish(d), 0);
}

static void scatter_ops(void) {
    const char *types[3] = {"ScatterAdd", "ScatterSub", "ScatterUpdate"};
    tfc_dtype dts[2] = {TFC_FLOAT, TFC_DOUBLE};
    for (int t = 0; t < 3; t++)
        for (int k = 0; k < 2; k++) {
            int64_t rdims[3] = {6, 2, 3}, idims[2] = {2, 2}, udims[4] = {2, 2, 2, 3};
            if (t == 2) idims[1] = udims[1] = 1; /* distinct ids: last one wins is ambiguous */
            tfc_graph *g = tfc_graph_new();
            tfc_tensor *rt = tfc_test_random_tensor(dts[k], 3, rdims, -1, 1);
            tfc_tensor *it = tfc_test_random_tensor(TFC_INT64, 2, idims, 0, 6);
            if (t == 2) {
                int64_t *p = tfc_tensor_data(it);
                if (p[0] == p[1]) p[1] = (p[0] + 1) % 6;
            } else {
                ((int64_t *)tfc_tensor_data(it))[3] = ((int64_t *)tfc_tensor_data(it))[0];
            }
            tfc_tensor *ut = tfc_test_random_tensor(dts[k], 4, udims, -1, 1);
            tfc_output v = tfc_variable(g, "v", tfc_const(g, rt));
            tfc_output s = op3(g, types[t], v, tfc_const(g, it), tfc_const(g, ut));
            CHECK_GRAPH_OK(g);
            tfc_status *st = tfc_status_new();
            tfc_session *sess = tfc_session_new(g, NULL, st);
            run_target(sess, tfc_global_variables_initializer(g));
            tfc_tensor *out = run1(sess, s);
            int64_t n = tfc_tensor_num_elements(it);
            double ref[36];
            for (int i = 0; i < 36; i++) ref[i] = tfc_test_get(rt, i);
            for (int64_t i = 0; i < n; i++) {
                int64_t r = (int64_t)tfc_test_get(it, i);
                for (int e = 0; e < 6; e++) {
                    double u = tfc_test_get(ut, i * 6 + e);
                    ref[r * 6 + e] = t == 0 ? ref[r * 6 + e] + u : t == 1 ? ref[r * 6 + e] - u : u;
                }
            }
            for (int i = 0; out && i < 36; i++) CHECK_NEAR(tfc_test_get(out, i), ref[i], 1e-6);
            tfc_tensor_free(out);
            tfc_session_free(sess);
            tfc_status_free(st);
            tfc_tensor_free(rt);
            tfc_tensor_free(it);
            tfc_tensor_free(ut);
            tfc_graph_free(g);
        }
}

static void scatter_misuse(void) {
    tfc_graph *g = tfc_graph_new();
    int64_t rd[2] = {3, 2}, bad[2] = {2, 3};
    tfc_output v = tfc_variable(g, "v", tfc_zeros(g, TFC_FLOAT, 2, rd));
    tfc_output ids = tfc_const_int64(g, 1);
    op3(g, "ScatterAdd", v, ids, tfc_zeros(g, TFC_FLOAT, 2, bad));
    CHECK_CONTAINS(tfc_graph_error(g), "ScatterAdd");
    tfc_graph_free(g);

    g = tfc_graph_new();
    v = tfc_variable(g, "v", tfc_zeros(g, TFC_FLOAT, 2, rd));
    int64_t one = 1;
    tfc_tensor *it = tfc_tensor_new(TFC_INT32, 1, &one);
    ((int32_t *)tfc_tensor_data(it))[0] = 3;
    int64_t ud[2] = {1, 2};
    tfc_op_desc *d = tfc_op_new(g, "ScatterSub", "my_scatter");
    tfc_op_add_input(d, v);
    tfc_op_add_input(d, tfc_const(g, it));
    tfc_op_add_input(d, tfc_zeros(g, TFC_FLOAT, 2, ud));
    tfc_output s = tfc_out(tfc_op_finish(d), 0);
    tfc_status *st = tfc_status_new();
    tfc_session *sess = tfc_session_new(g, NULL, st);
    run_target(sess, tfc_global_variables_initializer(g));
    tfc_tensor *out = tfc_session_run1(sess, NULL, NULL, 0, s, st);
    CHECK(out == NULL);
    CHECK_CONTAINS(tfc_status_message(st), "my_scatter");
    CHECK_CONTAINS(tfc_status_message(st), "not in [0, 3)");
    tfc_session_free(sess);
    tfc_status_free(st);
    tfc_tensor_free(it);
    tfc_graph_free(g);
}

static void unique_op(void) {
    int64_t sizes[3] = {1, 9, 40};
    for (int k = 0; k < 3; k++) {
        tfc_graph *g = tfc_graph_new();
        tfc_tensor *xt =
            tfc_test_random_tensor(k == 1 ? TFC_INT32 : TFC_INT64, 1, &sizes[k], -5, 6);
        tfc_op_desc *d = tfc_op_new(g, "Unique", NULL);
        tfc_op_add_input(d, tfc_const(g, xt));
        if (k == 2) tfc_op_set_attr_type(d, "out_idx", TFC_INT64);
        tfc_node *u = tfc_op_finish(d);
        CHECK_GRAPH_OK(g);
        tfc_status *st = tfc_status_new();
        tfc_session *s = tfc_session_new(g, NULL, st);
        tfc_output fetch[2] = {tfc_out(u, 0), tfc_out(u, 1)};
        tfc_tensor *out[2] = {NULL, NULL};
        tfc_session_run(s, NULL, NULL, 0, fetch, 2, out, NULL, 0, st);
        CHECK_STATUS_OK(st);
        if (out[0] && out[1]) {
            /* reference: first appearances, in order */
            double ref[64];
            int64_t nr = 0;
            for (int64_t i = 0; i < sizes[k]; i++) {
                double v = tfc_test_get(xt, i);
                int64_t j = 0;
                while (j < nr && ref[j] != v) j++;
                if (j == nr) ref[nr++] = v;
                CHECK(tfc_test_get(out[1], i) == (double)j);
            }
            CHECK(tfc_tensor_num_elements(out[0]) == nr);
            for (int64_t j = 0; j < nr && j < tfc_tensor_num_elements(out[0]); j++)
                CHECK(tfc_test_get(out[0], j) == ref[j]);
            CHECK(tfc_tensor_dtype(out[1]) == (k == 2 ? TFC_INT64 : TFC_INT32));
        }
        tfc_tensor_free(out[0]);
        tfc_tensor_free(out[1]);
        tfc_session_free(s);
        tfc_status_free(st);
        tfc_tensor_free(xt);
        tfc_graph_free(g);
    }
}

/* SparseApply* ops equal their dense Apply* op on the touched rows (rows
 * applied in order; distinct indices here) and leave the others alone. */
static void sparse_apply_ops(void) {
    struct {
        const char *type;
        int nrefs, grad, nin;
        double h[5];
    } cases[] = {
        {"ApplyMomentum", 2, 3, 5, {0.1, 0.9}},
        {"ApplyAdagrad", 2, 3, 4, {0.1}},
        {"ApplyAdadelta", 3, 6, 7, {0.5, 0.9, 1e-6}},
        {"ApplyFtrl", 3, 3, 8, {0.1, 0.01, 0.02, -0.5}},
        {"ApplyFtrlV2", 3, 3, 9, {0.1, 0.01, 0.02, 0.03, -0.5}},
        {"ApplyRMSProp", 3, 7, 8, {0.1, 0.9, 0.5, 1e-6}},
        {"ApplyCenteredRMSProp", 4, 8, 9, {0.1, 0.9, 0.5, 1e-6}},
        {"ApplyAdagradDA", 3, 3, 8, {0.1, 0.01, 0.02}},
    };
    tfc_dtype dts[2] = {TFC_FLOAT, TFC_DOUBLE};
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++)
        for (int k = 0; k < 2; k++) {
            tfc_dtype dt = dts[k];
            int64_t vd[2] = {5, 3}, gd[2] = {2, 3}, nid = 2;
            tfc_graph *g = tfc_graph_new();
            tfc_tensor *init[4], *gt = tfc_test_random_tensor(dt, 2, gd, -1, 1);
            tfc_output dense_vars[4], sparse_vars[4];
            int64_t rows[2] = {3, 1};
            tfc_tensor *it = tfc_tensor_new(TFC_INT64, 1, &nid);
            memcpy(tfc_tensor_data(it), rows, sizeof rows);
            /* the dense gradient: gt's rows at rows[], zeros elsewhere */
            tfc_tensor *dg = tfc_tensor_new(dt, 2, vd);
            for (int i = 0; i < 15; i++) set_d(dg, i, 0);
            for (int i = 0; i < 2; i++)
                for (int e = 0; e < 3; e++) set_d(dg, rows[i] * 3 + e, tfc_test_get(gt, i * 3 + e));
            for (int r = 0; r < cases[c].nrefs; r++) {
                /* centered RMSProp needs ms >= mg^2 */
                int ms = !strcmp(cases[c].type, "ApplyCenteredRMSProp") && r == 2;
                init[r] = tfc_test_random_tensor(dt, 2, vd, ms ? 1 : r ? 0.1 : -1, ms ? 2 : 1);
                char name[16];
                snprintf(name, sizeof name, "d%d", r);
                dense_vars[r] = tfc_variable(g, name, tfc_const(g, init[r]));
                snprintf(name, sizeof name, "s%d", r);
                sparse_vars[r] = tfc_variable(g, name, tfc_const(g, init[r]));
            }
            tfc_output din[10], sin[10];
            int hs = 0;
            for (int i = 0; i < cases[c].nin; i++) {
                if (i < cases[c].nrefs) {
                    din[i] = dense_vars[i];
                    sin[i] = sparse_vars[i];
                } else if (i == cases[c].grad) {
                    din[i] = tfc_const(g, dg);
                    sin[i] = tfc_const(g, gt);
                } else if (!strcmp(cases[c].type, "ApplyAdagradDA") && i == 7) {
                    din[i] = sin[i] = tfc_const_int64(g, 3);
                } else {
                    tfc_tensor *h = tfc_tensor_new(dt, 0, NULL);
                    set_d(h, 0, cases[c].h[hs++]);
                    din[i] = sin[i] = tfc_const(g, h);
                    tfc_tensor_free(h);
                }
            }
            tfc_op_desc *d = tfc_op_new(g, cases[c].type, NULL);
            tfc_op_add_inputs(d, din, cases[c].nin);
            tfc_node *dn = tfc_op_finish(d);
            char stype[64];
            snprintf(stype, sizeof stype, "Sparse%s", cases[c].type);
            d = tfc_op_new(g, stype, NULL);
            for (int i = 0; i < cases[c].nin; i++) {
                tfc_op_add_input(d, sin[i]);
                if (i == cases[c].grad) tfc_op_add_input(d, tfc_const(g, it));
            }
            tfc_node *sn = tfc_op_finish(d);
            CHECK_GRAPH_OK(g);
            tfc_status *st = tfc_status_new();
            tfc_session *s = tfc_session_new(g, NULL, st);
            run_target(s, tfc_global_variables_initializer(g));
            tfc_node *both[2] = {dn, sn};
            tfc_session_run(s, NULL, NULL, 0, NULL, 0, NULL, both, 2, st);
            CHECK_STATUS_OK(st);
            for (int r = 0; r < cases[c].nrefs; r++) {
                tfc_tensor *dv = run1(s, dense_vars[r]), *sv = run1(s, sparse_vars[r]);
                for (int i = 0; dv && sv && i < 15; i++) {
                    int touched = i / 3 == 3 || i / 3 == 1;
                    double want = touched ? tfc_test_get(dv, i) : tfc_test_get(init[r], i);
                    CHECK_MSG(tfc_test_get(sv, i) == want, "%s %s ref %d elem %d: %g vs %g", stype,
                              tfc_dtype_name(dt), r, i, tfc_test_get(sv, i), want);
                }
                tfc_tensor_free(dv);
                tfc_tensor_free(sv);
                tfc_tensor_free(init[r]);
            }
            tfc_session_free(s);
            tfc_status_free(st);
            tfc_tensor_free(gt);
            tfc_tensor_free(dg);
            tfc_tensor_free(it);
            tfc_graph_free(g);
        }
}

static tfc_node *sparse_adagrad(tfc_graph *g, const char *name, int64_t gcols, int64_t index) {
    int64_t vd[2] = {4, 3}, gd[2] = {1, gcols}, one = 1;
    tfc_output v = tfc_variable(g, "v", tfc_zeros(g, TFC_FLOAT, 2, vd));
    tfc_output a = tfc_variable(g, "a", tfc_zeros(g, TFC_FLOAT, 2, vd));
    tfc_tensor *lr = tfc_tensor_new(TFC_FLOAT, 0, NULL), *it = tfc_tensor_new(TFC_INT64, 1, &one);
    set_d(lr, 0, 0.1);
    ((int64_t *)tfc_tensor_data(it))[0] = index;
    tfc_op_desc *d = tfc_op_new(g, "SparseApplyAdagrad", name);
    tfc_output in[5] = {v, a, tfc_const(g, lr), tfc_zeros(g, TFC_FLOAT, 2, gd), tfc_const(g, it)};
    tfc_op_add_inputs(d, in, 5);
    tfc_node *n = tfc_op_finish(d);
    tfc_tensor_free(lr);
    tfc_tensor_free(it);
    return n;
}

static void sparse_apply_misuse(void) {
    tfc_graph *g = tfc_graph_new();
    sparse_adagrad(g, "bad_shape", 2, 0);
    CHECK_CONTAINS(tfc_graph_error(g), "bad_shape");
    tfc_graph_free(g);

    g = tfc_graph_new();
    tfc_node *n = sparse_adagrad(g, "bad_index", 3, 4);
    CHECK_GRAPH_OK(g);
    tfc_status *st = tfc_status_new();
    tfc_session *s = tfc_session_new(g, NULL, st);
    run_target(s, tfc_global_variables_initializer(g));
    tfc_session_run(s, NULL, NULL, 0, NULL, 0, NULL, &n, 1, st);
    CHECK(tfc_status_code(st) == TFC_INVALID_ARGUMENT);
    CHECK_CONTAINS(tfc_status_message(st), "bad_index");
    CHECK_CONTAINS(tfc_status_message(st), "out of range");
    tfc_session_free(s);
    tfc_status_free(st);
    tfc_graph_free(g);
}

/* ---- optimizers ---- */

enum {
    SGD,
    ADAGRAD,
    MOMENTUM,
    NESTEROV,
    ADAM,
    RMSPROP,
    CRMSPROP,
    ADADELTA,
    FTRL,
    ADAGRAD_DA,
    NOPT
};
static const char *opt_names[NOPT] = {"sgd",  "adagrad",   "momentum",         "nesterov",
                                      "adam", "rmsprop",   "centered_rmsprop", "adadelta",
                                      "ftrl", "adagrad_da"};

/* The op each one applies a sparse gradient with. */
static const char *sparse_ops[NOPT] = {
    "ScatterSub",      "SparseApplyAdagrad",  "SparseApplyMomentum",        "SparseApplyMomentum",
    "ScatterAdd",      "SparseApplyRMSProp",  "SparseApplyCenteredRMSProp", "SparseApplyAdadelta",
    "SparseApplyFtrl", "SparseApplyAdagradDA"};

static tfc_optimizer *make_opt(int kind, tfc_graph *g) {
    switch (kind) {
    case SGD: return tfc_gradient_descent_optimizer(0.3);
    case ADAGRAD: return tfc_adagrad_optimizer(TFC_ADAGRAD_DEFAULTS(0.3));
    case MOMENTUM: return tfc_momentum_optimizer(0.2, 0.9, 0);
    case NESTEROV: return tfc_momentum_optimizer(0.2, 0.9, 1);
    case ADAM: return tfc_adam_optimizer(0.05, 0.9, 0.999, 1e-8);
    case RMSPROP: return tfc_rmsprop_optimizer(0.05, 0.9, 0.5, 1e-6, 0);
    case CRMSPROP: return tfc_rmsprop_optimizer(0.05, 0.9, 0.5, 1e-6, 1);
    case ADADELTA: return tfc_adadelta_optimizer(1.0, 0.95, 1e-6);
    case FTRL: return tfc_ftrl_optimizer(0.3, -0.5, 0.1, 0.01, 0.02);
    default:
        return tfc_adagrad_da_optimizer(
            TFC_ADAGRAD_DA_DEFAULTS(0.3, tfc_train_get_or_create_global_step(g)));
    }
}

/* One training problem: embedding [vocab, d] starting at `init`, loss
 * sum(w * lookup(ids)) when sparse, else sum(dense_g * emb), whose
 * gradient is the same matrix, dense. Runs `steps` train steps and returns
 * the embedding (caller frees). */
typedef struct problem {
    tfc_dtype dt;
    int64_t vocab, d, n;
    tfc_tensor *init, *ids, *w, *dense_g;
} problem;

static tfc_tensor *train(const problem *p, int kind, int sparse, int steps) {
    tfc_graph *g = tfc_graph_new();
    tfc_output emb = tfc_variable(g, "emb", tfc_const(g, p->init));
    tfc_output loss;
    if (sparse) {
        tfc_output look = tfc_embedding_lookup(g, emb, tfc_const(g, p->ids));
        loss = tfc_reduce_sum(g, tfc_mul(g, look, tfc_const(g, p->w)), NULL, 0, 0);
    } else {
        loss = tfc_reduce_sum(g, tfc_mul(g, emb, tfc_const(g, p->dense_g)), NULL, 0, 0);
    }
    tfc_optimizer *opt = make_opt(kind, g);
    tfc_output step =
        kind == ADAGRAD_DA ? tfc_train_get_or_create_global_step(g) : (tfc_output){NULL, 0};
    tfc_node *train_op = tfc_optimizer_minimize(opt, g, loss, &emb, 1, step);
    CHECK_GRAPH_OK(g);
    tfc_tensor *out = NULL;
    if (train_op) {
        /* the sparse step never builds the dense [vocab, d] gradient */
        if (sparse) {
            CHECK_MSG(!needs_node(g, train_op, "UnsortedSegmentSum", "_sparse_grad"), "%s",
                      opt_names[kind]);
            CHECK_MSG(needs_node(g, train_op, sparse_ops[kind], NULL), "%s lacks %s",
                      opt_names[kind], sparse_ops[kind]);
        }
        tfc_status *st = tfc_status_new();
        tfc_session *s = tfc_session_new(g, NULL, st);
        run_target(s, tfc_global_variables_initializer(g));
        for (int i = 0; i < steps; i++) run_target(s, train_op);
        out = run1(s, emb);
        tfc_session_free(s);
        tfc_status_free(st);
    }
    tfc_optimizer_free(opt);
    tfc_graph_free(g);
    return out;
}

static void problem_make(problem *p, tfc_dtype dt, int64_t vocab, int64_t d, int64_t n) {
    p->dt = dt;
    p->vocab = vocab;
    p->d = d;
    p->n = n;
    int64_t vd[2] = {vocab, d}, wd[2] = {n, d};
    p->init = tfc_test_random_tensor(dt, 2, vd, -1, 1);
    p->ids = random_ids(1, &n, vocab);
    p->w = tfc_test_random_tensor(dt, 2, wd, -1, 1);
    p->dense_g = tfc_tensor_new(dt, 2, vd);
    for (int64_t i = 0; i < n; i++) {
        int64_t k = (int64_t)tfc_test_get(p->ids, i);
        for (int64_t e = 0; e < d; e++)
            set_d(p->dense_g, k * d + e,
                  tfc_test_get(p->dense_g, k * d + e) + tfc_test_get(p->w, i * d + e));
    }
}

static void problem_free(problem *p) {
    tfc_tensor_free(p->init);
    tfc_tensor_free(p->ids);
    tfc_tensor_free(p->w);
    tfc_tensor_free(p->dense_g);
}

static int touched(const problem *p, int64_t row) {
    for (int64_t i = 0; i < p->n; i++)
        if ((int64_t)tfc_test_get(p->ids, i) == row) return 1;
    return 0;
}

/* TensorFlow's sparse update as a plain loop over the touched rows (Adam:
 * over everything, as its sparse path decays m and v everywhere), on the
 * summed rows G of the duplicates. */
static double *reference(const problem *p, int kind, int steps) {
    int64_t total = p->vocab * p->d;
    double *v = malloc((size_t)total * sizeof *v), *a = calloc((size_t)total, sizeof *a),
           *b = calloc((size_t)total, sizeof *b);
    for (int64_t i = 0; i < total; i++) {
        v[i] = tfc_test_get(p->init, i);
        if (kind == ADAGRAD) a[i] = 0.1;
    }
    double b1p = 0.9, b2p = 0.999;
    for (int t = 0; t < steps; t++) {
        for (int64_t i = 0; i < total; i++) {
            double g = tfc_test_get(p->dense_g, i);
            if (kind == ADAM) {
                a[i] = a[i] * 0.9 + 0.1 * g;
                b[i] = b[i] * 0.999 + 0.001 * g * g;
                double lr = 0.05 * sqrt(1 - b2p) / (1 - b1p);
                v[i] -= lr * a[i] / (sqrt(b[i]) + 1e-8);
                continue;
            }
            if (!touched(p, i / p->d)) continue;
            if (kind == SGD) {
                v[i] -= 0.3 * g;
            } else if (kind == ADAGRAD) {
                a[i] += g * g;
                v[i] -= 0.3 * g / sqrt(a[i]);
            } else {
                a[i] = 0.9 * a[i] + g;
                v[i] -= kind == NESTEROV ? 0.2 * g + 0.2 * 0.9 * a[i] : 0.2 * a[i];
            }
        }
        b1p *= 0.9;
        b2p *= 0.999;
    }
    free(a);
    free(b);
    return v;
}

/* Each optimizer's sparse step: against TensorFlow's sparse semantics as a
 * loop (SGD, Adagrad, Momentum, Adam), and against the dense optimizer on
 * the touched rows (all of them), untouched rows bit-identical (all but
 * Adam, whose sparse update moves every row as TensorFlow's does). */
static void optimizer_sparse_steps(void) {
    tfc_dtype dts[2] = {TFC_DOUBLE, TFC_FLOAT};
    for (int k = 0; k < 2; k++) {
        problem p;
        problem_make(&p, dts[k], 12, 3, 10);
        double tol = dts[k] == TFC_DOUBLE ? 1e-12 : 2e-5;
        for (int kind = 0; kind < NOPT; kind++) {
            tfc_tensor *sp = train(&p, kind, 1, 3), *dn = train(&p, kind, 0, 3);
            double *ref = kind <= ADAM ? reference(&p, kind, 3) : NULL;
            for (int64_t i = 0; sp && dn && i < p.vocab * p.d; i++) {
                double got = tfc_test_get(sp, i);
                if (ref)
                    CHECK_MSG(fabs(got - ref[i]) <= tol * (1 + fabs(ref[i])),
                              "%s %s [%lld]: %.12g vs ref %.12g", opt_names[kind],
                              tfc_dtype_name(p.dt), (long long)i, got, ref[i]);
                if (kind == ADAM || touched(&p, i / p.d))
                    CHECK_MSG(fabs(got - tfc_test_get(dn, i)) <= tol * (1 + fabs(got)),
                              "%s %s [%lld]: %.12g vs dense %.12g", opt_names[kind],
                              tfc_dtype_name(p.dt), (long long)i, got, tfc_test_get(dn, i));
                else
                    CHECK_MSG(got == tfc_test_get(p.init, i), "%s: untouched row %lld moved",
                              opt_names[kind], (long long)(i / p.d));
            }
            free(ref);
            tfc_tensor_free(sp);
            tfc_tensor_free(dn);
        }
        problem_free(&p);
    }
}

/* A 50,000 x 64 embedding: one sparse step leaves the untouched rows
 * bit-identical, moves the touched ones as TensorFlow does, and the train
 * op's graph holds no dense gradient. */
static void large_embedding(void) {
    problem p;
    problem_make(&p, TFC_FLOAT, 50000, 64, 32);
    int kinds[3] = {SGD, ADAGRAD, MOMENTUM};
    for (int k = 0; k < 3; k++) {
        tfc_tensor *sp = train(&p, kinds[k], 1, 1);
        if (!sp) continue;
        const float *got = tfc_tensor_data(sp), *init = tfc_tensor_data(p.init);
        int bad = 0;
        for (int64_t r = 0; r < p.vocab; r++) {
            if (touched(&p, r)) continue;
            bad += memcmp(got + r * 64, init + r * 64, 64 * sizeof(float)) != 0;
        }
        CHECK_MSG(bad == 0, "%s: %d untouched rows changed", opt_names[kinds[k]], bad);
        for (int64_t i = 0; i < p.n; i++) {
            int64_t r = (int64_t)tfc_test_get(p.ids, i);
            for (int64_t e = 0; e < 64; e++) {
                double g = tfc_test_get(p.dense_g, r * 64 + e), x0 = init[r * 64 + e];
                double want = kinds[k] == SGD       ? x0 - 0.3 * g
                              : kinds[k] == ADAGRAD ? x0 - 0.3 * g / sqrt(0.1 + g * g)
                                                    : x0 - 0.2 * g;
                CHECK_NEAR(got[r * 64 + e], want, 1e-5);
            }
        }
        tfc_tensor_free(sp);
    }
    problem_free(&p);
}

TFC_TEST_MAIN(T(sparse_grad_equals_dense), T(gather_gradcheck), T(scatter_ops), T(scatter_misuse),
              T(unique_op), T(sparse_apply_ops), T(sparse_apply_misuse), T(optimizer_sparse_steps),
              T(large_embedding))
