/* Recurrent cells: BasicLSTMCell and MultiRNNCell against a plain-loop LSTM
 * on random data (float64, several shapes), variable names and sharing,
 * gradients through an unrolled static RNN, and misuse. */
#include "gradcheck.h"
#include "harness.h"

#include <stdlib.h>
#include <string.h>

static double sigm(double x) { return 1.0 / (1.0 + exp(-x)); }

/* One LSTM step in plain loops: gates = [x, h] K + b, split i, j, f, o. */
static void ref_lstm(int64_t batch, int64_t depth, int64_t units, double forget_bias,
                     const double *x, const double *k, const double *b, double *c, double *h) {
    int64_t in = depth + units;
    double *gates = malloc((size_t)(batch * 4 * units) * sizeof *gates);
    for (int64_t r = 0; r < batch; r++)
        for (int64_t col = 0; col < 4 * units; col++) {
            double s = b[col];
            for (int64_t q = 0; q < in; q++) {
                double v = q < depth ? x[r * depth + q] : h[r * units + q - depth];
                s += v * k[q * 4 * units + col];
            }
            gates[r * 4 * units + col] = s;
        }
    for (int64_t r = 0; r < batch; r++)
        for (int64_t u = 0; u < units; u++) {
            const double *gr = gates + r * 4 * units;
            double i = gr[u], j = gr[units + u], f = gr[2 * units + u], o = gr[3 * units + u];
            double nc = c[r * units + u] * sigm(f + forget_bias) + sigm(i) * tanh(j);
            c[r * units + u] = nc;
            h[r * units + u] = tanh(nc) * sigm(o);
        }
    free(gates);
}

static tfc_output var_out(tfc_graph *g, const char *name) {
    tfc_node *n = tfc_graph_node_by_name(g, name);
    CHECK_MSG(n != NULL, "no node %s", name);
    return n ? tfc_out(n, 0) : (tfc_output){NULL, 0};
}

static void test_lstm_cell_matches_reference(void) {
    static const int64_t shapes[][3] = {{3, 4, 5}, {1, 2, 3}, {4, 1, 2}, {2, 6, 1}};
    static const double biases[] = {1.0, 0.0, 0.5, 1.0};
    for (int k = 0; k < 4; k++) {
        int64_t batch = shapes[k][0], depth = shapes[k][1], units = shapes[k][2];
        tfc_graph *g = tfc_graph_new();
        int64_t xd[] = {batch, depth}, sd[] = {batch, units};
        tfc_output x = tfc_placeholder(g, "x", TFC_DOUBLE, 2, xd);
        tfc_output st[2] = {tfc_placeholder(g, "c", TFC_DOUBLE, 2, sd),
                            tfc_placeholder(g, "h", TFC_DOUBLE, 2, sd)};
        tfc_rnn_cell *cell = tfc_basic_lstm_cell((int)units, biases[k]);
        CHECK(tfc_rnn_cell_state_count(cell) == 2);
        CHECK(tfc_rnn_cell_output_size(cell) == units);
        tfc_output out, ns[2];
        CHECK(tfc_rnn_cell_call(g, cell, x, st, &out, ns) == 0);
        CHECK_GRAPH_OK(g);
        tfc_output kv = var_out(g, "basic_lstm_cell/kernel");
        tfc_output bv = var_out(g, "basic_lstm_cell/bias");
        tfc_shape ks = tfc_output_shape(kv);
        CHECK(ks.rank == 2 && ks.dims[0] == depth + units && ks.dims[1] == 4 * units);
        CHECK(tfc_output_shape(bv).dims[0] == 4 * units);
        int64_t kd[] = {depth + units, 4 * units}, bd = 4 * units;
        tfc_tensor *vals[] = {tfc_test_random_tensor(TFC_DOUBLE, 2, xd, -1, 1),
                              tfc_test_random_tensor(TFC_DOUBLE, 2, sd, -1, 1),
                              tfc_test_random_tensor(TFC_DOUBLE, 2, sd, -1, 1),
                              tfc_test_random_tensor(TFC_DOUBLE, 2, kd, -1, 1),
                              tfc_test_random_tensor(TFC_DOUBLE, 1, &bd, -1, 1)};
        tfc_output feeds[] = {x, st[0], st[1], kv, bv};
        tfc_output fetches[] = {out, ns[0], ns[1]};
        tfc_tensor *got[3] = {NULL, NULL, NULL};
        tfc_status *s = tfc_status_new();
        tfc_session *sess = tfc_session_new(g, NULL, s);
        tfc_session_run(sess, feeds, vals, 5, fetches, 3, got, NULL, 0, s);
        CHECK_STATUS_OK(s);
        tfc_tensor *c = tfc_tensor_copy(vals[1]), *h = tfc_tensor_copy(vals[2]);
        ref_lstm(batch, depth, units, biases[k], tfc_tensor_data(vals[0]),
                 tfc_tensor_data(vals[3]), tfc_tensor_data(vals[4]), tfc_tensor_data(c),
                 tfc_tensor_data(h));
        if (got[0]) {
            CHECK(tfc_test_max_diff(got[0], h) < 1e-12);
            CHECK(tfc_test_max_diff(got[1], c) < 1e-12);
            CHECK(tfc_test_max_diff(got[2], h) < 1e-12);
        }
        for (int i = 0; i < 3; i++) tfc_tensor_free(got[i]);
        for (int i = 0; i < 5; i++) tfc_tensor_free(vals[i]);
        tfc_tensor_free(c);
        tfc_tensor_free(h);
        tfc_session_free(sess);
        tfc_status_free(s);
        tfc_rnn_cell_free(cell);
        tfc_graph_free(g);
    }
}

/* A cell called twice shares its variables; a second cell gets its own. */
static void test_lstm_cell_shares_variables(void) {
    tfc_graph *g = tfc_graph_new();
    int64_t xd[] = {2, 3};
    tfc_output x = tfc_placeholder(g, "x", TFC_FLOAT, 2, xd);
    tfc_rnn_cell *a = tfc_basic_lstm_cell(4, 1.0), *b = tfc_basic_lstm_cell(4, 1.0);
    tfc_output st[2], o1, s1[2], o2, s2[2], o3, s3[2];
    CHECK(tfc_rnn_cell_zero_state(g, a, 2, TFC_FLOAT, st) == 0);
    tfc_shape zs = tfc_output_shape(st[0]);
    CHECK(zs.rank == 2 && zs.dims[1] == 4);
    CHECK(tfc_rnn_cell_call(g, a, x, st, &o1, s1) == 0);
    CHECK(tfc_rnn_cell_call(g, a, x, s1, &o2, s2) == 0);
    CHECK(tfc_rnn_cell_call(g, b, x, st, &o3, s3) == 0);
    CHECK_GRAPH_OK(g);
    CHECK(tfc_graph_collection_size(g, TFC_TRAINABLE_VARIABLES) == 4);
    CHECK(tfc_graph_node_by_name(g, "basic_lstm_cell/kernel") != NULL);
    CHECK(tfc_graph_node_by_name(g, "basic_lstm_cell_1/kernel") != NULL);
    tfc_rnn_cell_free(a);
    tfc_rnn_cell_free(b);
    tfc_graph_free(g);
}

/* static_rnn over T steps against the reference, with a zero initial state
 * whose batch size is known only at run time. */
static void test_static_rnn_matches_reference(void) {
    static const int64_t shapes[][4] = {{2, 3, 4, 3}, {3, 1, 2, 5}, {1, 4, 3, 1}};
    for (int k = 0; k < 3; k++) {
        int64_t batch = shapes[k][0], depth = shapes[k][1], units = shapes[k][2];
        int steps = (int)shapes[k][3];
        tfc_graph *g = tfc_graph_new();
        int64_t xd[] = {-1, depth}, rd[] = {batch, depth};
        tfc_output xs[7], outs[5], fin[2];
        tfc_tensor *vals[7];
        for (int t = 0; t < steps; t++) {
            char name[16];
            snprintf(name, sizeof name, "x%d", t);
            xs[t] = tfc_placeholder(g, name, TFC_DOUBLE, 2, xd);
            vals[t] = tfc_test_random_tensor(TFC_DOUBLE, 2, rd, -1, 1);
        }
        tfc_rnn_cell *cell = tfc_basic_lstm_cell((int)units, 1.0);
        CHECK(tfc_static_rnn(g, cell, xs, steps, NULL, NULL, outs, fin) == 0);
        CHECK_GRAPH_OK(g);
        CHECK(tfc_graph_collection_size(g, TFC_TRAINABLE_VARIABLES) == 2);
        int64_t kd[] = {depth + units, 4 * units}, bd = 4 * units;
        xs[steps] = var_out(g, "rnn/basic_lstm_cell/kernel");
        xs[steps + 1] = var_out(g, "rnn/basic_lstm_cell/bias");
        vals[steps] = tfc_test_random_tensor(TFC_DOUBLE, 2, kd, -1, 1);
        vals[steps + 1] = tfc_test_random_tensor(TFC_DOUBLE, 1, &bd, -1, 1);
        tfc_output fetches[] = {outs[0], outs[steps - 1], fin[0], fin[1]};
        tfc_tensor *got[4] = {NULL, NULL, NULL, NULL};
        tfc_status *s = tfc_status_new();
        tfc_session *sess = tfc_session_new(g, NULL, s);
        tfc_session_run(sess, xs, vals, steps + 2, fetches, 4, got, NULL, 0, s);
        CHECK_STATUS_OK(s);
        int64_t sd[] = {batch, units};
        tfc_tensor *c = tfc_tensor_new(TFC_DOUBLE, 2, sd), *h = tfc_tensor_new(TFC_DOUBLE, 2, sd);
        tfc_tensor *h0 = NULL;
        for (int t = 0; t < steps; t++) {
            ref_lstm(batch, depth, units, 1.0, tfc_tensor_data(vals[t]),
                     tfc_tensor_data(vals[steps]), tfc_tensor_data(vals[steps + 1]),
                     tfc_tensor_data(c), tfc_tensor_data(h));
            if (t == 0) h0 = tfc_tensor_copy(h);
        }
        if (got[0]) {
            CHECK(tfc_test_max_diff(got[0], h0) < 1e-12);
            CHECK(tfc_test_max_diff(got[1], h) < 1e-12);
            CHECK(tfc_test_max_diff(got[2], c) < 1e-12);
            CHECK(tfc_test_max_diff(got[3], h) < 1e-12);
        }
        for (int i = 0; i < 4; i++) tfc_tensor_free(got[i]);
        for (int i = 0; i < steps + 2; i++) tfc_tensor_free(vals[i]);
        tfc_tensor_free(c);
        tfc_tensor_free(h);
        tfc_tensor_free(h0);
        tfc_session_free(sess);
        tfc_status_free(s);
        tfc_rnn_cell_free(cell);
        tfc_graph_free(g);
    }
}

/* Gradients through a 3-step unrolled LSTM: for the inputs, the initial
 * state and the shared kernel and bias. */
static void test_static_rnn_gradients(void) {
    static const int64_t shapes[][3] = {{2, 3, 2}, {1, 2, 3}};
    for (int k = 0; k < 2; k++) {
        int64_t batch = shapes[k][0], depth = shapes[k][1], units = shapes[k][2];
        tfc_graph *g = tfc_graph_new();
        int64_t xd[] = {batch, depth}, sd[] = {batch, units};
        int64_t kd[] = {depth + units, 4 * units}, bd = 4 * units;
        tfc_output xs[7], outs[3], fin[2];
        tfc_tensor *vals[7];
        for (int t = 0; t < 3; t++) {
            char name[16];
            snprintf(name, sizeof name, "x%d", t);
            xs[t] = tfc_placeholder(g, name, TFC_DOUBLE, 2, xd);
            vals[t] = tfc_test_random_tensor(TFC_DOUBLE, 2, xd, -1, 1);
        }
        xs[3] = tfc_placeholder(g, "c0", TFC_DOUBLE, 2, sd);
        xs[4] = tfc_placeholder(g, "h0", TFC_DOUBLE, 2, sd);
        vals[3] = tfc_test_random_tensor(TFC_DOUBLE, 2, sd, -1, 1);
        vals[4] = tfc_test_random_tensor(TFC_DOUBLE, 2, sd, -1, 1);
        tfc_rnn_cell *cell = tfc_basic_lstm_cell((int)units, 1.0);
        CHECK(tfc_static_rnn(g, cell, xs, 3, xs + 3, "lstm", outs, fin) == 0);
        xs[5] = var_out(g, "lstm/basic_lstm_cell/kernel");
        xs[6] = var_out(g, "lstm/basic_lstm_cell/bias");
        vals[5] = tfc_test_random_tensor(TFC_DOUBLE, 2, kd, -1, 1);
        vals[6] = tfc_test_random_tensor(TFC_DOUBLE, 1, &bd, -1, 1);
        tfc_output all[] = {outs[0], outs[1], outs[2], fin[0]};
        tfc_output y = tfc_concat(g, all, 4, 1);
        CHECK_GRAPH_OK(g);
        double err = tfc_test_gradcheck(g, y, xs, vals, 7);
        CHECK_MSG(err < TFC_GRAD_TOL, "gradient error %g", err);
        for (int i = 0; i < 7; i++) tfc_tensor_free(vals[i]);
        tfc_rnn_cell_free(cell);
        tfc_graph_free(g);
    }
}

/* A two-layer MultiRNNCell: TensorFlow's variable names, one set of
 * variables for all steps, shapes, and the values of a 2-step unroll. */
static void test_multi_rnn_cell(void) {
    tfc_graph *g = tfc_graph_new();
    int64_t batch = 3, depth = 4;
    int64_t xd[] = {batch, depth};
    tfc_rnn_cell *layers[] = {tfc_basic_lstm_cell(5, 1.0), tfc_basic_lstm_cell(2, 1.0)};
    tfc_rnn_cell *cell = tfc_multi_rnn_cell(layers, 2);
    CHECK(tfc_rnn_cell_state_count(cell) == 4);
    CHECK(tfc_rnn_cell_output_size(cell) == 2);
    tfc_output xs[6], outs[2], fin[4];
    tfc_tensor *vals[6];
    for (int t = 0; t < 2; t++) {
        xs[t] = tfc_placeholder(g, t ? "x1" : "x0", TFC_DOUBLE, 2, xd);
        vals[t] = tfc_test_random_tensor(TFC_DOUBLE, 2, xd, -1, 1);
    }
    CHECK(tfc_static_rnn(g, cell, xs, 2, NULL, NULL, outs, fin) == 0);
    CHECK_GRAPH_OK(g);
    CHECK(tfc_graph_collection_size(g, TFC_TRAINABLE_VARIABLES) == 4);
    static const char *names[] = {"rnn/multi_rnn_cell/cell_0/basic_lstm_cell/kernel",
                                  "rnn/multi_rnn_cell/cell_0/basic_lstm_cell/bias",
                                  "rnn/multi_rnn_cell/cell_1/basic_lstm_cell/kernel",
                                  "rnn/multi_rnn_cell/cell_1/basic_lstm_cell/bias"};
    int64_t kd0[] = {4 + 5, 20}, bd0 = 20, kd1[] = {5 + 2, 8}, bd1 = 8;
    for (int i = 0; i < 4; i++) xs[2 + i] = var_out(g, names[i]);
    tfc_shape k0 = tfc_output_shape(xs[2]), k1 = tfc_output_shape(xs[4]);
    CHECK(k0.rank == 2 && k0.dims[0] == 9 && k0.dims[1] == 20);
    CHECK(k1.rank == 2 && k1.dims[0] == 7 && k1.dims[1] == 8);
    tfc_shape os = tfc_output_shape(outs[1]);
    CHECK(os.rank == 2 && os.dims[0] == batch && os.dims[1] == 2);
    CHECK(tfc_output_shape(fin[0]).dims[1] == 5 && tfc_output_shape(fin[3]).dims[1] == 2);
    vals[2] = tfc_test_random_tensor(TFC_DOUBLE, 2, kd0, -1, 1);
    vals[3] = tfc_test_random_tensor(TFC_DOUBLE, 1, &bd0, -1, 1);
    vals[4] = tfc_test_random_tensor(TFC_DOUBLE, 2, kd1, -1, 1);
    vals[5] = tfc_test_random_tensor(TFC_DOUBLE, 1, &bd1, -1, 1);
    tfc_tensor *got = tfc_test_eval(g, outs[1], xs, vals, 6);
    double c0[15] = {0}, h0[15] = {0}, c1[6] = {0}, h1[6] = {0};
    for (int t = 0; t < 2; t++) {
        ref_lstm(batch, depth, 5, 1.0, tfc_tensor_data(vals[t]), tfc_tensor_data(vals[2]),
                 tfc_tensor_data(vals[3]), c0, h0);
        ref_lstm(batch, 5, 2, 1.0, h0, tfc_tensor_data(vals[4]), tfc_tensor_data(vals[5]), c1,
                 h1);
    }
    CHECK(got != NULL);
    if (got)
        for (int i = 0; i < 6; i++) CHECK_NEAR(tfc_test_get(got, i), h1[i], 1e-12);
    tfc_tensor_free(got);
    for (int i = 0; i < 6; i++) tfc_tensor_free(vals[i]);
    tfc_rnn_cell_free(cell);
    tfc_graph_free(g);
}

/* The MatMuls of g whose left operand has `rows` static rows. */
static int matmuls_with_rows(tfc_graph *g, int64_t rows) {
    int n = 0;
    for (int i = 0; i < tfc_graph_num_nodes(g); i++) {
        tfc_node *nd = tfc_graph_node(g, i);
        if (strcmp(tfc_node_type(nd), "MatMul") != 0) continue;
        tfc_shape s = tfc_output_shape(tfc_node_input(nd, 0));
        n += s.rank == 2 && s.dims[0] == rows;
    }
    return n;
}

/* static_rnn layer by layer (TFC_RNN_LAYERED=1), for one BasicLSTMCell and
 * a two-layer MultiRNNCell: the inputs' projections are one product per
 * layer, the variables keep TensorFlow's names and shapes, and the outputs,
 * final state and gradients (inputs, initial state, kernels, biases) match
 * the step-by-step reference. */
static void test_static_rnn_layered(void) {
    enum { B = 2, D = 4, T = 3 };
    setenv("TFC_RNN_LAYERED", "1", 1);
    for (int multi = 0; multi < 2; multi++) {
        int64_t units[] = {3, multi ? 2 : 3}, depth[] = {D, 3};
        int nl = multi ? 2 : 1;
        tfc_graph *g = tfc_graph_new();
        tfc_rnn_cell *cells[] = {tfc_basic_lstm_cell((int)units[0], 0.5),
                                 tfc_basic_lstm_cell((int)units[1], 1.0)};
        tfc_rnn_cell *cell = multi ? tfc_multi_rnn_cell(cells, 2) : cells[0];
        if (!multi) tfc_rnn_cell_free(cells[1]);
        int64_t xd[] = {B, D};
        tfc_output xs[T + 8], outs[T], fin[4];
        tfc_tensor *vals[T + 8];
        int nx = 0;
        for (int t = 0; t < T; t++, nx++) {
            xs[nx] = tfc_placeholder(g, NULL, TFC_DOUBLE, 2, xd);
            vals[nx] = tfc_test_random_tensor(TFC_DOUBLE, 2, xd, -1, 1);
        }
        for (int l = 0; l < nl; l++)
            for (int k = 0; k < 2; k++, nx++) {
                int64_t sd[] = {B, units[l]};
                xs[nx] = tfc_placeholder(g, NULL, TFC_DOUBLE, 2, sd);
                vals[nx] = tfc_test_random_tensor(TFC_DOUBLE, 2, sd, -1, 1);
            }
        CHECK(tfc_static_rnn(g, cell, xs, T, xs + T, NULL, outs, fin) == 0);
        CHECK_GRAPH_OK(g);
        /* one product of all steps' inputs per layer, none of a single step's */
        CHECK(matmuls_with_rows(g, T * B) == nl);
        for (int l = 0; l < nl; l++) {
            char kn[96], bn[96];
            const char *pre = multi ? "rnn/multi_rnn_cell/cell_" : "rnn/";
            if (multi) {
                snprintf(kn, sizeof kn, "%s%d/basic_lstm_cell/kernel", pre, l);
                snprintf(bn, sizeof bn, "%s%d/basic_lstm_cell/bias", pre, l);
            } else {
                snprintf(kn, sizeof kn, "%sbasic_lstm_cell/kernel", pre);
                snprintf(bn, sizeof bn, "%sbasic_lstm_cell/bias", pre);
            }
            xs[nx] = var_out(g, kn);
            xs[nx + 1] = var_out(g, bn);
            tfc_shape ks = tfc_output_shape(xs[nx]), bs = tfc_output_shape(xs[nx + 1]);
            CHECK(ks.rank == 2 && ks.dims[0] == depth[l] + units[l] && ks.dims[1] == 4 * units[l]);
            CHECK(bs.rank == 1 && bs.dims[0] == 4 * units[l]);
            vals[nx] = tfc_test_random_tensor(TFC_DOUBLE, 2, ks.dims, -1, 1);
            vals[nx + 1] = tfc_test_random_tensor(TFC_DOUBLE, 1, bs.dims, -1, 1);
            nx += 2;
        }
        CHECK(tfc_graph_collection_size(g, TFC_TRAINABLE_VARIABLES) == 2 * nl);
        /* values against the plain loops, layer after layer within each step */
        tfc_output fetches[T + 4];
        for (int t = 0; t < T; t++) fetches[t] = outs[t];
        for (int i = 0; i < 2 * nl; i++) fetches[T + i] = fin[i];
        tfc_tensor *got[T + 4] = {NULL};
        tfc_status *s = tfc_status_new();
        tfc_session *sess = tfc_session_new(g, NULL, s);
        tfc_session_run(sess, xs, vals, nx, fetches, T + 2 * nl, got, NULL, 0, s);
        CHECK_STATUS_OK(s);
        tfc_tensor *st[4];
        for (int i = 0; i < 2 * nl; i++) st[i] = tfc_tensor_copy(vals[T + i]);
        for (int t = 0; t < T; t++) {
            const double *in = tfc_tensor_data(vals[t]);
            for (int l = 0; l < nl; l++) {
                const tfc_tensor *k = vals[T + 2 * nl + 2 * l], *b = vals[T + 2 * nl + 2 * l + 1];
                ref_lstm(B, depth[l], units[l], l ? 1.0 : 0.5, in, tfc_tensor_data(k),
                         tfc_tensor_data(b), tfc_tensor_data(st[2 * l]),
                         tfc_tensor_data(st[2 * l + 1]));
                in = tfc_tensor_data(st[2 * l + 1]);
            }
            if (got[t]) CHECK(tfc_test_max_diff(got[t], st[2 * nl - 1]) < 1e-12);
        }
        for (int i = 0; i < 2 * nl; i++) {
            if (got[T + i]) CHECK(tfc_test_max_diff(got[T + i], st[i]) < 1e-12);
            tfc_tensor_free(st[i]);
        }
        for (int i = 0; i < T + 2 * nl; i++) tfc_tensor_free(got[i]);
        tfc_session_free(sess);
        tfc_status_free(s);
        /* gradients of every output and the final cell states */
        tfc_output all[T + 2] = {outs[0], outs[1], outs[2], fin[0], fin[2 * nl - 2]};
        tfc_output y = tfc_concat(g, all, T + 2, 1);
        CHECK_GRAPH_OK(g);
        double err = tfc_test_gradcheck(g, y, xs, vals, nx);
        CHECK_MSG(err < TFC_GRAD_TOL, "gradient error %g (%s)", err, multi ? "multi" : "one cell");
        for (int i = 0; i < nx; i++) tfc_tensor_free(vals[i]);
        tfc_rnn_cell_free(cell);
        tfc_graph_free(g);
    }
    unsetenv("TFC_RNN_LAYERED");
}

/* The other static_rnn tests, built layer by layer where they can be (a
 * run-time batch size keeps the step-by-step form). */
static void test_static_rnn_layered_others(void) {
    setenv("TFC_RNN_LAYERED", "1", 1);
    test_static_rnn_matches_reference();
    test_static_rnn_gradients();
    test_multi_rnn_cell();
    unsetenv("TFC_RNN_LAYERED");
}

/* Training through the default initializers runs (Glorot kernel, zero bias). */
static void test_static_rnn_initializes_and_runs(void) {
    tfc_graph *g = tfc_graph_new();
    tfc_graph_set_seed(g, 3);
    int64_t xd[] = {2, 3};
    tfc_output xs[2] = {tfc_placeholder(g, "a", TFC_FLOAT, 2, xd),
                        tfc_placeholder(g, "b", TFC_FLOAT, 2, xd)};
    tfc_rnn_cell *cell = tfc_basic_lstm_cell(4, 1.0);
    tfc_output outs[2];
    CHECK(tfc_static_rnn(g, cell, xs, 2, NULL, NULL, outs, NULL) == 0);
    tfc_output loss = tfc_reduce_sum(g, tfc_square(g, outs[1]), NULL, 0, 0);
    tfc_optimizer *opt = tfc_gradient_descent_optimizer(0.1);
    tfc_node *train = tfc_optimizer_minimize(opt, g, loss, NULL, 0, (tfc_output){NULL, 0});
    tfc_node *init = tfc_global_variables_initializer(g);
    CHECK_GRAPH_OK(g);
    tfc_status *st = tfc_status_new();
    tfc_session *s = tfc_session_new(g, NULL, st);
    tfc_session_run(s, NULL, NULL, 0, NULL, 0, NULL, &init, 1, st);
    tfc_tensor *vals[] = {tfc_test_random_tensor(TFC_FLOAT, 2, xd, -1, 1),
                          tfc_test_random_tensor(TFC_FLOAT, 2, xd, -1, 1)};
    double first = -1, last = -1;
    for (int i = 0; i < 20; i++) {
        tfc_tensor *l = NULL;
        tfc_session_run(s, xs, vals, 2, &loss, 1, &l, &train, 1, st);
        if (l) {
            last = *(const float *)tfc_tensor_data(l);
            if (i == 0) first = last;
        }
        tfc_tensor_free(l);
    }
    CHECK_STATUS_OK(st);
    CHECK_MSG(last < first, "loss %g -> %g", first, last);
    tfc_tensor_free(vals[0]);
    tfc_tensor_free(vals[1]);
    tfc_session_free(s);
    tfc_status_free(st);
    tfc_optimizer_free(opt);
    tfc_rnn_cell_free(cell);
    tfc_graph_free(g);
}

static void test_rnn_misuse(void) {
    CHECK(tfc_basic_lstm_cell(0, 1.0) == NULL);
    CHECK(tfc_multi_rnn_cell(NULL, 0) == NULL);
    tfc_graph *g = tfc_graph_new();
    int64_t d3[] = {2, 3, 4}, d2[] = {2, 3}, bad[] = {2, 5};
    tfc_rnn_cell *cell = tfc_basic_lstm_cell(4, 1.0);
    tfc_output out, ns[2], st[2];
    tfc_output x3 = tfc_placeholder(g, "x3", TFC_FLOAT, 3, d3);
    CHECK(tfc_rnn_cell_zero_state(g, cell, 2, TFC_FLOAT, st) == 0);
    CHECK(tfc_rnn_cell_call(g, cell, x3, st, &out, ns) == -1);
    CHECK_CONTAINS(tfc_graph_error(g), "basic_lstm_cell");
    tfc_graph_clear_error(g);
    tfc_output x = tfc_placeholder(g, "x", TFC_FLOAT, 2, d2);
    tfc_output wrong[2] = {tfc_placeholder(g, "c", TFC_FLOAT, 2, bad), st[1]};
    CHECK(tfc_rnn_cell_call(g, cell, x, wrong, &out, ns) == -1);
    CHECK_CONTAINS(tfc_graph_error(g), "state 0");
    tfc_graph_clear_error(g);
    tfc_output xi = tfc_placeholder(g, "xi", TFC_INT32, 2, d2);
    tfc_output outs[1];
    CHECK(tfc_static_rnn(g, cell, &xi, 1, NULL, NULL, outs, NULL) == -1);
    CHECK(outs[0].node == NULL);
    CHECK_CONTAINS(tfc_graph_error(g), "float");
    tfc_graph_clear_error(g);
    CHECK(tfc_rnn_cell_zero_state(g, cell, 0, TFC_FLOAT, st) == -1);
    tfc_rnn_cell_free(cell);
    tfc_graph_free(g);
}

TFC_TEST_MAIN(T(test_lstm_cell_matches_reference), T(test_lstm_cell_shares_variables),
              T(test_static_rnn_matches_reference), T(test_static_rnn_gradients),
              T(test_multi_rnn_cell), T(test_static_rnn_initializes_and_runs),
              T(test_static_rnn_layered), T(test_static_rnn_layered_others), T(test_rnn_misuse))
