/* Element-wise kernels write in place over an input at its last use
 * (tfc_kernel_output_in_place): never over a value something else still
 * reads (another node, a fetch, an alias), a feed, a constant or a
 * variable. */
#include "harness.h"

#include "core/tensor.h"
#include "graph/op_registry.h"

static const int64_t dims[] = {3, 5};

/* x * 2 + 1 through Relu, Neg or Tanh: values of both signs */
static tfc_tensor *signed_input(void) { return tfc_test_random_tensor(TFC_FLOAT, 2, dims, -3, 3); }

static tfc_session *one_thread(tfc_graph *g, tfc_status *st) {
    tfc_session_options o = {.intra_op_threads = 1, .inter_op_threads = 1};
    return tfc_session_new(g, &o, st);
}

/* The intermediate t is fetched and read by Relu: Relu must not write over
 * it, and t must come back as computed. */
static void test_fetched_value_stays(void) {
    tfc_graph *g = tfc_graph_new();
    tfc_output x = tfc_placeholder(g, "x", TFC_FLOAT, 2, dims);
    tfc_output t = tfc_mul(g, x, tfc_const_float(g, 2.0f));
    tfc_output y = tfc_relu(g, t);
    tfc_status *st = tfc_status_new();
    tfc_session *s = one_thread(g, st);
    tfc_tensor *xv = signed_input(), *out[2] = {NULL, NULL};
    tfc_output fetches[] = {t, y};
    tfc_session_run(s, &x, &xv, 1, fetches, 2, out, NULL, 0, st);
    CHECK_STATUS_OK(st);
    for (int64_t i = 0; out[0] && out[1] && i < 15; i++) {
        double xi = tfc_test_get(xv, i);
        CHECK_NEAR(tfc_test_get(out[0], i), 2 * xi, 1e-6);
        CHECK_NEAR(tfc_test_get(out[1], i), xi > 0 ? 2 * xi : 0, 1e-6);
    }
    tfc_tensor_free(out[0]);
    tfc_tensor_free(out[1]);
    tfc_tensor_free(xv);
    tfc_session_free(s);
    tfc_status_free(st);
    tfc_graph_free(g);
}

/* Relu straight on a feed, and on a variable: neither changes. */
static void test_feeds_and_variables_stay(void) {
    tfc_graph *g = tfc_graph_new();
    tfc_output x = tfc_placeholder(g, "x", TFC_FLOAT, 2, dims);
    tfc_output v = tfc_variable(g, "v", tfc_random_uniform(g, TFC_FLOAT, 2, dims, -3, 3, 5));
    tfc_output fetches[] = {tfc_relu(g, x), tfc_relu(g, v)};
    tfc_node *init = tfc_global_variables_initializer(g);
    CHECK_GRAPH_OK(g);
    tfc_status *st = tfc_status_new();
    tfc_session *s = one_thread(g, st);
    tfc_session_run(s, NULL, NULL, 0, NULL, 0, NULL, &init, 1, st);
    tfc_tensor *xv = signed_input(), *before = NULL, *after = NULL, *out[2] = {NULL, NULL};
    float x0[15];
    memcpy(x0, tfc_tensor_data(xv), sizeof x0);
    tfc_session_run(s, NULL, NULL, 0, &v, 1, &before, NULL, 0, st);
    tfc_session_run(s, &x, &xv, 1, fetches, 2, out, NULL, 0, st);
    tfc_session_run(s, NULL, NULL, 0, &v, 1, &after, NULL, 0, st);
    CHECK_STATUS_OK(st);
    CHECK(memcmp(x0, tfc_tensor_data(xv), sizeof x0) == 0);
    int negative = 0;
    for (int64_t i = 0; before && after && i < 15; i++) {
        CHECK(tfc_test_get(before, i) == tfc_test_get(after, i));
        negative += tfc_test_get(after, i) < 0;
    }
    CHECK(negative > 0); /* so that a Relu in place would have shown */
    for (int k = 0; k < 2; k++) tfc_tensor_free(out[k]);
    tfc_tensor_free(before);
    tfc_tensor_free(after);
    tfc_tensor_free(xv);
    tfc_session_free(s);
    tfc_status_free(st);
    tfc_graph_free(g);
}

/* t has two readers, and a Reshape of it (an alias of its buffer) is
 * fetched: every result is as if nothing ran in place. Repeated with
 * 3 threads, where the readers run concurrently. */
static void test_shared_values_stay(void) {
    for (int threads = 1; threads <= 3; threads += 2) {
        tfc_graph *g = tfc_graph_new();
        tfc_output x = tfc_placeholder(g, "x", TFC_FLOAT, 2, dims);
        tfc_output t =
            tfc_add(g, tfc_mul(g, x, tfc_const_float(g, 2.0f)), tfc_const_float(g, 1.0f));
        int64_t flat[] = {15};
        tfc_output fetches[] = {tfc_relu(g, t), tfc_neg(g, t), tfc_tanh(g, t),
                                tfc_reshape(g, t, 1, flat)};
        CHECK_GRAPH_OK(g);
        tfc_status *st = tfc_status_new();
        tfc_session_options o = {.intra_op_threads = threads, .inter_op_threads = threads};
        tfc_session *s = tfc_session_new(g, &o, st);
        tfc_tensor *xv = signed_input(), *out[4] = {NULL};
        for (int rep = 0; rep < 20; rep++) {
            tfc_session_run(s, &x, &xv, 1, fetches, 4, out, NULL, 0, st);
            CHECK_STATUS_OK(st);
            for (int64_t i = 0; out[0] && out[1] && out[2] && out[3] && i < 15; i++) {
                double ti = 2 * tfc_test_get(xv, i) + 1;
                CHECK_NEAR(tfc_test_get(out[0], i), ti > 0 ? ti : 0, 1e-6);
                CHECK_NEAR(tfc_test_get(out[1], i), -ti, 1e-6);
                CHECK_NEAR(tfc_test_get(out[2], i), tanh(ti), 1e-6);
                CHECK_NEAR(tfc_test_get(out[3], i), ti, 1e-6);
            }
            for (int k = 0; k < 4; k++) {
                tfc_tensor_free(out[k]);
                out[k] = NULL;
            }
        }
        tfc_tensor_free(xv);
        tfc_session_free(s);
        tfc_status_free(st);
        tfc_graph_free(g);
    }
}

/* input_overwritable for the helper's test: inputs whose bit is set */
static int input_in_mask(const tfc_kernel_ctx *c, int i) {
    return (*(const unsigned *)c->run >> i) & 1;
}

/* The helper itself: an input comes back as the output only when it may be
 * overwritten and its dtype and shape are the output's; the first such. */
static void test_output_in_place(void) {
    tfc_tensor *a = tfc_test_random_tensor(TFC_FLOAT, 2, dims, -1, 1);
    tfc_tensor *b = tfc_test_random_tensor(TFC_FLOAT, 2, dims, -1, 1);
    tfc_tensor *inputs[2] = {a, b}, *outputs[1] = {NULL};
    tfc_status st = {0};
    tfc_kernel_ctx c = {0};
    c.ninputs = 2;
    c.inputs = inputs;
    c.noutputs = 1;
    c.outputs = outputs;
    c.status = &st;
    int64_t other[] = {5, 3};
    struct {
        int (*overwritable)(const tfc_kernel_ctx *, int);
        unsigned mask;
        tfc_dtype dt;
        const int64_t *dims;
        tfc_tensor *want; /* NULL: a fresh tensor */
    } cases[] = {{input_in_mask, 0, TFC_FLOAT, dims, NULL},
                 {input_in_mask, 1, TFC_FLOAT, dims, a},
                 {input_in_mask, 2, TFC_FLOAT, dims, b},
                 {input_in_mask, 3, TFC_FLOAT, dims, a},
                 {input_in_mask, 3, TFC_DOUBLE, dims, NULL},
                 {input_in_mask, 3, TFC_FLOAT, other, NULL},
                 {NULL, 3, TFC_FLOAT, dims, NULL}};
    for (int k = 0; k < (int)(sizeof cases / sizeof *cases); k++) {
        c.input_overwritable = cases[k].overwritable;
        c.run = &cases[k].mask;
        tfc_tensor *o = tfc_kernel_output_in_place(&c, 0, cases[k].dt, 2, cases[k].dims);
        CHECK_MSG(o != NULL && outputs[0] == o, "case %d", k);
        if (cases[k].want)
            CHECK_MSG(o == cases[k].want, "case %d: not in place", k);
        else
            CHECK_MSG(o != a && o != b, "case %d: in place", k);
        CHECK(o && o->dtype == cases[k].dt && o->dims[0] == cases[k].dims[0]);
    }
    CHECK(st.code == TFC_OK);
    tfc_tensor_free(outputs[0]);
    tfc_tensor_free(a);
    tfc_tensor_free(b);
}

TFC_TEST_MAIN(T(test_fetched_value_stays), T(test_feeds_and_variables_stay),
              T(test_shared_values_stay), T(test_output_in_place))
