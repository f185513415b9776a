/* Recurrent cells and the unrolled ("static") RNN, composed of existing ops
 * as in TensorFlow 1.x: BasicLSTMCell, MultiRNNCell and tf.nn.static_rnn.
 * A cell is a small description (sizes, children); its variables are made
 * with tfc_get_variable the first time it is called and shared (a reusing
 * variable scope) on every later call, so all time steps use one set. */
#include "nn/nn_internal.h"

#include "graph/op_registry.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum { CELL_LSTM, CELL_MULTI } cell_kind;

struct tfc_rnn_cell {
    cell_kind kind;
    int num_units;       /* LSTM: units; MULTI: the last layer's output size */
    double forget_bias;  /* LSTM */
    int ncells;          /* MULTI */
    tfc_rnn_cell **cells;
    char *scope;         /* the variable scope chosen at the first call, or NULL */
};

tfc_rnn_cell *tfc_basic_lstm_cell(int num_units, double forget_bias) {
    if (num_units < 1) return NULL;
    tfc_rnn_cell *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->kind = CELL_LSTM;
    c->num_units = num_units;
    c->forget_bias = forget_bias;
    return c;
}

tfc_rnn_cell *tfc_multi_rnn_cell(tfc_rnn_cell *const *cells, int n) {
    if (n < 1 || !cells) return NULL;
    for (int i = 0; i < n; i++)
        if (!cells[i]) return NULL;
    tfc_rnn_cell *c = calloc(1, sizeof *c);
    if (!c || !(c->cells = malloc((size_t)n * sizeof *c->cells))) {
        free(c);
        return NULL;
    }
    c->kind = CELL_MULTI;
    c->ncells = n;
    memcpy(c->cells, cells, (size_t)n * sizeof *cells);
    c->num_units = cells[n - 1]->num_units;
    return c;
}

void tfc_rnn_cell_free(tfc_rnn_cell *cell) {
    if (!cell) return;
    for (int i = 0; i < cell->ncells; i++) tfc_rnn_cell_free(cell->cells[i]);
    free(cell->cells);
    free(cell->scope);
    free(cell);
}

int tfc_rnn_cell_state_count(const tfc_rnn_cell *cell) {
    if (!cell) return 0;
    if (cell->kind == CELL_LSTM) return 2;
    int n = 0;
    for (int i = 0; i < cell->ncells; i++) n += tfc_rnn_cell_state_count(cell->cells[i]);
    return n;
}

int tfc_rnn_cell_output_size(const tfc_rnn_cell *cell) { return cell ? cell->num_units : 0; }

/* Zeros [batch, units] per state tensor. A static batch (>= 0) gives
 * static shapes; else `batch_t`, a 1-element int32 tensor, sizes them at
 * run time. */
static void zero_state(tfc_graph *g, const tfc_rnn_cell *cell, int64_t batch, tfc_output batch_t,
                       tfc_dtype dt, tfc_output *state) {
    if (cell->kind == CELL_MULTI) {
        for (int i = 0; i < cell->ncells; i++) {
            zero_state(g, cell->cells[i], batch, batch_t, dt, state);
            state += tfc_rnn_cell_state_count(cell->cells[i]);
        }
        return;
    }
    int64_t dims[] = {batch, cell->num_units};
    tfc_output z;
    if (batch >= 0) {
        z = tfc_zeros(g, dt, 2, dims);
    } else {
        int32_t units = cell->num_units;
        tfc_output parts[] = {batch_t, tfc_const_ints(g, &units, 1)};
        tfc_output zero = dt == TFC_DOUBLE ? tfc_const_double(g, 0.0) : tfc_const_float(g, 0.0f);
        z = tfc_reshape(g, tfc_fill(g, tfc_concat(g, parts, 2, 0), zero), 2, dims);
    }
    state[0] = z;
    state[1] = z;
}

int tfc_rnn_cell_zero_state(tfc_graph *g, const tfc_rnn_cell *cell, int64_t batch_size,
                            tfc_dtype dtype, tfc_output *state) {
    if (!g || g->error) return -1;
    if (!cell || batch_size < 1 || (dtype != TFC_FLOAT && dtype != TFC_DOUBLE) || !state)
        return tfc_graph_fail(g, TFC_INVALID_ARGUMENT,
                              "rnn zero_state: needs a cell, a positive batch size and a float "
                              "dtype");
    tfc_name_scope_push(g, "zero_state");
    zero_state(g, cell, batch_size, (tfc_output){NULL, 0}, dtype, state);
    tfc_name_scope_pop(g);
    return g->error ? -1 : 0;
}

/* Does a global variable live under "<prefix><name>/"? Cells are made
 * unique by their variables, as TensorFlow's layers are by their names,
 * not by name scopes (which every later call of a cell also takes). */
static int scope_has_variables(const tfc_graph *g, const char *prefix, const char *name) {
    size_t np = strlen(prefix), nn = strlen(name);
    int n = tfc_graph_collection_size(g, TFC_GLOBAL_VARIABLES);
    for (int i = 0; i < n; i++) {
        const char *v = tfc_node_name(tfc_graph_collection_get(g, TFC_GLOBAL_VARIABLES, i));
        if (strncmp(v, prefix, np) == 0 && strncmp(v + np, name, nn) == 0 && v[np + nn] == '/')
            return 1;
    }
    return 0;
}

/* Opens the cell's variable scope: the first call picks the name (the
 * default made unique) and creates; later calls reopen it to share. */
static int enter_scope(tfc_graph *g, tfc_rnn_cell *cell, const char *default_name) {
    if (cell->scope) {
        tfc_variable_scope_push(g, cell->scope, TFC_REUSE_TRUE);
        return g->error ? -1 : 0;
    }
    char name[256];
    const char *prefix = tfc_nn_var_prefix(g);
    for (int k = 0;; k++) {
        if (k)
            snprintf(name, sizeof name, "%s_%d", default_name, k);
        else
            snprintf(name, sizeof name, "%s", default_name);
        if (!scope_has_variables(g, prefix, name)) break;
    }
    cell->scope = strdup(name);
    if (!cell->scope) return tfc_graph_fail(g, TFC_INTERNAL, "out of memory naming an rnn cell");
    tfc_variable_scope_push(g, name, TFC_REUSE_INHERIT);
    return g->error ? -1 : 0;
}

/* One step's gates (i, j, f, o, as TensorFlow splits them) to the new
 * state: c = c_prev sigmoid(f + forget_bias) + sigmoid(i) tanh(j),
 * h = tanh(c) sigmoid(o). */
static void lstm_gates(tfc_graph *g, const tfc_rnn_cell *cell, tfc_output gates, tfc_output c_prev,
                       tfc_output *c, tfc_output *h) {
    tfc_dtype dt = tfc_output_dtype(gates);
    tfc_output ijfo[4];
    tfc_split(g, gates, 4, 1, ijfo);
    tfc_output fb = dt == TFC_DOUBLE ? tfc_const_double(g, cell->forget_bias)
                                     : tfc_const_float(g, (float)cell->forget_bias);
    tfc_output keep = tfc_mul(g, c_prev, tfc_sigmoid(g, tfc_add(g, ijfo[2], fb)));
    tfc_output write = tfc_mul(g, tfc_sigmoid(g, ijfo[0]), tfc_tanh(g, ijfo[1]));
    *c = tfc_add(g, keep, write);
    *h = tfc_mul(g, tfc_tanh(g, *c), tfc_sigmoid(g, ijfo[3]));
}

/* The (c, h) state of an LSTM cell: two dt matrices [batch, units]. */
static int check_lstm_state(tfc_graph *g, const tfc_output *state, tfc_dtype dt, int64_t units) {
    for (int i = 0; i < 2; i++) {
        tfc_shape ss = tfc_output_shape(state[i]);
        if (!state[i].node || tfc_output_dtype(state[i]) != dt || ss.rank != 2 ||
            (ss.dims[1] >= 0 && ss.dims[1] != units))
            return tfc_graph_fail(g, TFC_INVALID_ARGUMENT,
                                  "basic_lstm_cell: state %d must be a %s matrix [batch, %lld]", i,
                                  tfc_dtype_name(dt), (long long)units);
    }
    return 0;
}

/* BasicLSTMCell: one matmul of [x, h] gives the gates (lstm_gates). */
static int lstm_call(tfc_graph *g, tfc_rnn_cell *cell, tfc_output x, const tfc_output *state,
                     tfc_output *out, tfc_output *new_state) {
    tfc_shape xs = tfc_output_shape(x);
    tfc_dtype dt = tfc_output_dtype(x);
    if ((dt != TFC_FLOAT && dt != TFC_DOUBLE) || xs.rank != 2 || xs.dims[1] < 0)
        return tfc_graph_fail(g, TFC_INVALID_ARGUMENT,
                              "basic_lstm_cell: input must be a float matrix [batch, depth] "
                              "with a static depth");
    int64_t units = cell->num_units;
    if (check_lstm_state(g, state, dt, units)) return -1;
    if (enter_scope(g, cell, "basic_lstm_cell")) return -1;
    int64_t kdims[] = {xs.dims[1] + units, 4 * units}, bdims = 4 * units;
    tfc_initializer zeros = tfc_zeros_initializer();
    tfc_output kernel = tfc_get_variable(g, "kernel", dt, 2, kdims, NULL);
    tfc_output bias = tfc_get_variable(g, "bias", dt, 1, &bdims, &zeros);
    tfc_output xh[] = {x, state[1]};
    tfc_output gates = tfc_bias_add(g, tfc_matmul(g, tfc_concat(g, xh, 2, 1), kernel), bias);
    tfc_output c, h;
    lstm_gates(g, cell, gates, state[0], &c, &h);
    tfc_variable_scope_pop(g);
    if (g->error) return -1;
    new_state[0] = c;
    new_state[1] = h;
    *out = h;
    return 0;
}

static int cell_call(tfc_graph *g, tfc_rnn_cell *cell, tfc_output x, const tfc_output *state,
                     tfc_output *out, tfc_output *new_state);

/* MultiRNNCell: layer k runs in scope "cell_k" on the output of layer k-1. */
static int multi_call(tfc_graph *g, tfc_rnn_cell *cell, tfc_output x, const tfc_output *state,
                      tfc_output *out, tfc_output *new_state) {
    if (enter_scope(g, cell, "multi_rnn_cell")) return -1;
    tfc_output cur = x;
    int at = 0, rc = 0;
    for (int i = 0; i < cell->ncells && rc == 0; i++) {
        char name[32];
        snprintf(name, sizeof name, "cell_%d", i);
        tfc_variable_scope_push(g, name, TFC_REUSE_INHERIT);
        rc = cell_call(g, cell->cells[i], cur, state + at, &cur, new_state + at);
        tfc_variable_scope_pop(g);
        at += tfc_rnn_cell_state_count(cell->cells[i]);
    }
    tfc_variable_scope_pop(g);
    if (rc || g->error) return -1;
    *out = cur;
    return 0;
}

static int cell_call(tfc_graph *g, tfc_rnn_cell *cell, tfc_output x, const tfc_output *state,
                     tfc_output *out, tfc_output *new_state) {
    return cell->kind == CELL_LSTM ? lstm_call(g, cell, x, state, out, new_state)
                                   : multi_call(g, cell, x, state, out, new_state);
}

int tfc_rnn_cell_call(tfc_graph *g, tfc_rnn_cell *cell, tfc_output input,
                      const tfc_output *state, tfc_output *output, tfc_output *new_state) {
    if (!g || g->error) return -1;
    if (!cell || !input.node || !state || !output || !new_state)
        return tfc_graph_fail(g, TFC_INVALID_ARGUMENT, "rnn cell call: null cell, input or state");
    return cell_call(g, cell, input, state, output, new_state);
}

/* ---- static_rnn of basic LSTMs, layer by layer (TFC_RNN_LAYERED=1) ----
 *
 * When every step's input is known before the loop (static_rnn), a basic
 * LSTM layer need not multiply [x_t, h_{t-1}] by its kernel step by step:
 * as TensorFlow's LSTMBlockFusedCell and PyTorch's LSTM do, the input part
 * of the product can be one GEMM over all steps, [x_0; ...; x_{n-1}] K_x
 * + b, and each step add only h_{t-1} K_h to its slice of that. K_x and
 * K_h are the top and bottom rows of the kernel, which keeps TensorFlow's
 * name and shape [depth + units, 4 units], so checkpoints interchange; the
 * kernel's gradient is one product per part (K_h is a shared weight, see
 * grad_util.h) and the bias's one column sum per layer. The gates are
 * summed in another order than [x, h] K + b, so results differ from the
 * step-by-step form in the last bits.
 *
 * Off unless TFC_RNN_LAYERED=1 is in the environment when the graph is
 * built: on the Zen 3 machine of docs/PERFORMANCE.md oneDNN runs the
 * cells' 20-row products about as fast as 400-row ones, and the PTB LSTM
 * step came out 1-5% faster at 1 thread but 2-3% slower at 2. */
static int layered_on(void) {
    const char *e = getenv("TFC_RNN_LAYERED");
    return e && *e && strcmp(e, "0") != 0;
}

/* Is `cell` a BasicLSTMCell or a MultiRNNCell of them, with every input a
 * matrix of one dtype, one static depth and one static batch? Then it can
 * run layer by layer. */
static int layered_ok(const tfc_rnn_cell *cell, const tfc_output *inputs, int n) {
    if (!layered_on()) return 0;
    if (cell->kind == CELL_MULTI)
        for (int i = 0; i < cell->ncells; i++)
            if (cell->cells[i]->kind != CELL_LSTM) return 0;
    tfc_shape s0 = tfc_output_shape(inputs[0]);
    if (s0.rank != 2 || s0.dims[0] < 1 || s0.dims[1] < 1) return 0;
    for (int t = 1; t < n; t++) {
        tfc_shape s = tfc_output_shape(inputs[t]);
        if (tfc_output_dtype(inputs[t]) != tfc_output_dtype(inputs[0]) || s.rank != 2 ||
            s.dims[0] != s0.dims[0] || s.dims[1] != s0.dims[1])
            return 0;
    }
    return 1;
}

/* One BasicLSTMCell over all n steps: xs[t] -> hs[t], state (c, h) in
 * state[0..1] -> final[0..1]. The caller has opened the cell's enclosing
 * variable scopes. */
static int lstm_layer(tfc_graph *g, tfc_rnn_cell *cell, const tfc_output *xs, int n,
                      const tfc_output *state, tfc_output *hs, tfc_output *final) {
    tfc_dtype dt = tfc_output_dtype(xs[0]);
    int64_t depth = tfc_output_shape(xs[0]).dims[1], units = cell->num_units;
    if (check_lstm_state(g, state, dt, units)) return -1;
    tfc_output *parts = malloc((size_t)n * sizeof *parts);
    if (!parts) return tfc_graph_fail(g, TFC_INTERNAL, "static_rnn: out of memory");
    if (enter_scope(g, cell, "basic_lstm_cell")) {
        free(parts);
        return -1;
    }
    int64_t kdims[] = {depth + units, 4 * units}, bdims = 4 * units;
    tfc_initializer zeros = tfc_zeros_initializer();
    tfc_output kernel = tfc_get_variable(g, "kernel", dt, 2, kdims, NULL);
    tfc_output bias = tfc_get_variable(g, "bias", dt, 1, &bdims, &zeros);
    int64_t x_begin[] = {0, 0}, x_size[] = {depth, 4 * units};
    int64_t h_begin[] = {depth, 0}, h_size[] = {units, 4 * units};
    tfc_output k_x = tfc_slice(g, kernel, x_begin, x_size, 2);
    tfc_output k_h = tfc_slice(g, kernel, h_begin, h_size, 2);
    tfc_output x_all = n > 1 ? tfc_concat(g, xs, n, 0) : xs[0];
    tfc_output proj = tfc_bias_add(g, tfc_matmul(g, x_all, k_x), bias);
    if (n > 1)
        tfc_split(g, proj, n, 0, parts);
    else
        parts[0] = proj;
    tfc_output c = state[0], h = state[1];
    for (int t = 0; t < n && !g->error; t++) {
        tfc_output gates = tfc_add(g, parts[t], tfc_matmul(g, h, k_h));
        lstm_gates(g, cell, gates, c, &c, &h);
        hs[t] = h;
    }
    tfc_variable_scope_pop(g);
    free(parts);
    if (g->error) return -1;
    final[0] = c;
    final[1] = h;
    return 0;
}

/* static_rnn's loop for layered_ok cells: layer k runs over all steps on
 * the outputs of layer k-1, in the variable scopes cell_call would open. */
static int layered_rnn(tfc_graph *g, tfc_rnn_cell *cell, const tfc_output *inputs, int n,
                       const tfc_output *state, tfc_output *outputs, tfc_output *final) {
    if (cell->kind == CELL_LSTM) return lstm_layer(g, cell, inputs, n, state, outputs, final);
    if (enter_scope(g, cell, "multi_rnn_cell")) return -1;
    int rc = 0;
    const tfc_output *cur = inputs;
    for (int i = 0; i < cell->ncells && rc == 0; i++) {
        char name[32];
        snprintf(name, sizeof name, "cell_%d", i);
        tfc_variable_scope_push(g, name, TFC_REUSE_INHERIT);
        /* (lstm_layer reads its inputs before it writes its outputs) */
        rc = lstm_layer(g, cell->cells[i], cur, n, state + 2 * i, outputs, final + 2 * i);
        tfc_variable_scope_pop(g);
        cur = outputs;
    }
    tfc_variable_scope_pop(g);
    return rc || g->error ? -1 : 0;
}

int tfc_static_rnn(tfc_graph *g, tfc_rnn_cell *cell, const tfc_output *inputs, int n,
                   const tfc_output *initial_state, const char *scope, tfc_output *outputs,
                   tfc_output *final_state) {
    for (int t = 0; outputs && t < n; t++) outputs[t] = (tfc_output){NULL, 0};
    if (!g || g->error) return -1;
    if (!cell || !inputs || n < 1 || !outputs)
        return tfc_graph_fail(g, TFC_INVALID_ARGUMENT,
                              "static_rnn: needs a cell and at least one input");
    for (int t = 0; t < n; t++)
        if (!inputs[t].node)
            return tfc_graph_fail(g, TFC_INVALID_ARGUMENT, "static_rnn: input %d is null", t);
    tfc_dtype dt = tfc_output_dtype(inputs[0]);
    if (dt != TFC_FLOAT && dt != TFC_DOUBLE)
        return tfc_graph_fail(g, TFC_INVALID_ARGUMENT,
                              "static_rnn: inputs must be float32 or float64, got %s",
                              tfc_dtype_name(dt));
    int ns = tfc_rnn_cell_state_count(cell);
    tfc_output *state = calloc((size_t)ns * 2, sizeof *state);
    if (!state) return tfc_graph_fail(g, TFC_INTERNAL, "static_rnn: out of memory");
    tfc_output *next = state + ns;
    tfc_variable_scope_push(g, scope ? scope : "rnn", TFC_REUSE_INHERIT);
    if (initial_state) {
        memcpy(state, initial_state, (size_t)ns * sizeof *state);
    } else {
        int64_t begin = 0, size = 1, batch = tfc_output_shape(inputs[0]).dims[0];
        tfc_name_scope_push(g, "zero_state");
        tfc_output batch_t = {NULL, 0};
        if (tfc_output_shape(inputs[0]).rank < 1 || batch < 0) {
            batch = -1;
            batch_t = tfc_slice(g, tfc_shape_of(g, inputs[0]), &begin, &size, 1);
        }
        zero_state(g, cell, batch, batch_t, dt, state);
        tfc_name_scope_pop(g);
    }
    int rc = g->error ? -1 : 0;
    if (rc == 0 && layered_ok(cell, inputs, n)) {
        rc = layered_rnn(g, cell, inputs, n, state, outputs, next);
        memcpy(state, next, (size_t)ns * sizeof *state);
    } else {
        for (int t = 0; t < n && rc == 0; t++) {
            rc = cell_call(g, cell, inputs[t], state, &outputs[t], next);
            memcpy(state, next, (size_t)ns * sizeof *state);
        }
    }
    tfc_variable_scope_pop(g);
    if (rc == 0 && final_state) memcpy(final_state, state, (size_t)ns * sizeof *state);
    free(state);
    if (rc || g->error) {
        for (int t = 0; t < n; t++) outputs[t] = (tfc_output){NULL, 0};
        return -1;
    }
    return 0;
}
