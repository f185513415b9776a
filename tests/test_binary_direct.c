/* The direct path of the binary element-wise kernel (math_binary.c's
 * binary_direct): operands of one shape, or one of a single element and no
 * higher rank than the other, go to one loop without the broadcast layout.
 * For every op and every dtype it takes, each such case must give, bit for
 * bit and in the same shape, what the broadcasting path gives for the same
 * values (operands reshaped so that the direct cases do not apply); it may
 * write over an input only where the general path would (never a feed or
 * a value fetched too); and its errors are the general path's. */
#include "harness.h"

#include "core/tensor.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *const OPS[] = {
    "Add",     "AddV2",        "Sub",  "Mul",       "Div",   "RealDiv",  "Pow",
    "Maximum", "Minimum",      "SquaredDifference", "Greater", "GreaterEqual",
    "Less",    "LessEqual",    "Equal", "NotEqual",  "LogicalAnd", "LogicalOr"};
static const tfc_dtype DTYPES[] = {TFC_FLOAT, TFC_INT32, TFC_DOUBLE,
                                   TFC_INT64, TFC_UINT8, TFC_BOOL};
enum { N = 5, NOPS = sizeof OPS / sizeof *OPS, NDT = sizeof DTYPES / sizeof *DTYPES };

/* A graph computing op(a, b) from two placeholders of unknown shape; NULL
 * (graph freed) when the op does not take the dtype. */
static tfc_graph *binary_graph(const char *op, tfc_dtype dt, tfc_output *a, tfc_output *b,
                               tfc_output *y) {
    tfc_graph *g = tfc_graph_new();
    *a = tfc_placeholder(g, "a", dt, -1, NULL);
    *b = tfc_placeholder(g, "b", dt, -1, NULL);
    tfc_op_desc *d = tfc_op_new(g, op, "y");
    tfc_op_add_input(d, *a);
    tfc_op_add_input(d, *b);
    tfc_node *n = tfc_op_finish(d);
    if (!n) {
        CHECK_CONTAINS(tfc_graph_error(g), "is not supported");
        tfc_graph_free(g);
        return NULL;
    }
    *y = tfc_out(n, 0);
    return g;
}

/* Operand values that every op takes: divisors not zero, integer
 * exponents not negative, float bases positive (no NaN to compare). */
static void operand_values(const char *op, tfc_dtype dt, double *x, double *y) {
    int is_pow = !strcmp(op, "Pow"), is_div = !strcmp(op, "Div") || !strcmp(op, "RealDiv");
    int integer = dt != TFC_FLOAT && dt != TFC_DOUBLE;
    for (int i = 0; i < N; i++) {
        double u = tfc_test_uniform(-4, 4), v = tfc_test_uniform(-4, 4);
        if (is_pow) { /* integers: exponents 0..3; floats: bases in [0.5, 2.5) */
            u = integer ? floor(u) : 0.5 + (u + 4) / 4;
            v = integer ? floor((v + 4) / 2) : v;
        } else if (integer) {
            u = floor(u * 5);
            v = floor(v * 5);
        }
        if (dt == TFC_UINT8) u = fabs(u), v = fabs(v);
        if (dt == TFC_BOOL) u = u > 0, v = v > 0;
        if (i == 1 && !is_pow) v = u; /* a tie, for the comparisons */
        if (is_div && v == 0) v = 3;
        x[i] = u;
        y[i] = v;
    }
}

static tfc_tensor *tensor_of(tfc_dtype dt, int rank, const int64_t *dims, const double *v) {
    tfc_tensor *t = tfc_tensor_new(dt, rank, dims);
    for (int64_t i = 0; i < t->nelem; i++) tfc_tensor_set_double(t, i, v[i]);
    return t;
}

/* op(a, b) in the graph's session; the tensor (NULL after a failed run). */
static tfc_tensor *eval(tfc_session *s, tfc_output a, tfc_output b, tfc_output y, tfc_tensor *at,
                        tfc_tensor *bt) {
    tfc_output feeds[2] = {a, b};
    tfc_tensor *vals[2] = {at, bt}, *out = NULL;
    tfc_status *st = tfc_status_new();
    tfc_session_run(s, feeds, vals, 2, &y, 1, &out, NULL, 0, st);
    CHECK_STATUS_OK(st);
    tfc_status_free(st);
    tfc_tensor_free(at);
    tfc_tensor_free(bt);
    return out;
}

typedef struct operand {
    int rank;
    int64_t dims[2];
} operand;

/* The broadcasting path, for the values x op y: [1,N] op [N], [N] op
 * [1,1] (y[0] only) and [1,1] op [N] (x[0] only). */
static const operand REFS[3][2] = {{{2, {1, N}}, {1, {N}}},
                                   {{1, {N}}, {2, {1, 1}}},
                                   {{2, {1, 1}}, {1, {N}}}};

/* The direct cases: operand shapes, the output's, and which broadcasting
 * result holds the answer; single-element cases run once per element i
 * (x[i] op y[i], element i of REFS[0]'s result). */
static const struct direct_case {
    const char *what;
    operand a, b, out;
    int ref, per_element;
} CASES[] = {
    {"[N] op [N]", {1, {N}}, {1, {N}}, {1, {N}}, 0, 0},
    {"[N,1] op [N,1]", {2, {N, 1}}, {2, {N, 1}}, {2, {N, 1}}, 0, 0},
    {"[] op []", {0, {0}}, {0, {0}}, {0, {0}}, 0, 1},
    {"[] op [1]", {0, {0}}, {1, {1}}, {1, {1}}, 0, 1},
    {"[1,1] op []", {2, {1, 1}}, {0, {0}}, {2, {1, 1}}, 0, 1},
    {"[N] op []", {1, {N}}, {0, {0}}, {1, {N}}, 1, 0},
    {"[N] op [1]", {1, {N}}, {1, {1}}, {1, {N}}, 1, 0},
    {"[] op [N]", {0, {0}}, {1, {N}}, {1, {N}}, 2, 0},
    {"[0] op []", {1, {0}}, {0, {0}}, {1, {0}}, 0, 0},
    {"[0] op [0]", {1, {0}}, {1, {0}}, {1, {0}}, 0, 0},
};

/* Runs one case (element i of single-element cases) and compares it with
 * ref's elements from i on, bit for bit. */
static void check_case(const struct direct_case *k, int i, const char *op, tfc_dtype dt,
                       tfc_session *s, tfc_output a, tfc_output b, tfc_output y, const double *x,
                       const double *z, const tfc_tensor *ref) {
    tfc_tensor *t = eval(s, a, b, y, tensor_of(dt, k->a.rank, k->a.dims, x + i),
                         tensor_of(dt, k->b.rank, k->b.dims, z + i));
    CHECK_MSG(t != NULL, "%s %s %s: no result", op, tfc_dtype_name(dt), k->what);
    if (!t || !ref) {
        tfc_tensor_free(t);
        return;
    }
    int shape_ok = t->rank == k->out.rank &&
                   !memcmp(t->dims, k->out.dims, (size_t)t->rank * sizeof *t->dims);
    CHECK_MSG(shape_ok, "%s %s %s: shape", op, tfc_dtype_name(dt), k->what);
    size_t esz = tfc_dtype_size(t->dtype);
    CHECK_MSG(t->dtype == ref->dtype && i + t->nelem <= ref->nelem &&
                  !memcmp(t->data, (const char *)ref->data + i * esz, t->nbytes),
              "%s %s %s: values differ from the broadcasting path", op, tfc_dtype_name(dt),
              k->what);
    tfc_tensor_free(t);
}

static void test_direct_cases_match_broadcasting(void) {
    tfc_test_seed(21);
    int combos = 0;
    for (int o = 0; o < NOPS; o++)
        for (int d = 0; d < NDT; d++) {
            const char *op = OPS[o];
            tfc_dtype dt = DTYPES[d];
            tfc_output a, b, y;
            tfc_graph *g = binary_graph(op, dt, &a, &b, &y);
            if (!g) continue;
            combos++;
            tfc_status *st = tfc_status_new();
            tfc_session *s = tfc_session_new(g, NULL, st);
            double x[N], z[N];
            operand_values(op, dt, x, z);
            tfc_tensor *ref[3];
            for (int r = 0; r < 3; r++) {
                ref[r] = eval(s, a, b, y, tensor_of(dt, REFS[r][0].rank, REFS[r][0].dims, x),
                              tensor_of(dt, REFS[r][1].rank, REFS[r][1].dims, z));
                CHECK(ref[r] && ref[r]->rank == 2);
            }
            for (size_t c = 0; c < sizeof CASES / sizeof *CASES; c++)
                for (int i = 0; i < (CASES[c].per_element ? N : 1); i++)
                    check_case(&CASES[c], i, op, dt, s, a, b, y, x, z, ref[CASES[c].ref]);
            for (int r = 0; r < 3; r++) tfc_tensor_free(ref[r]);
            tfc_session_free(s);
            tfc_status_free(st);
            tfc_graph_free(g);
        }
    /* arithmetic 9 x 4 dtypes, RealDiv 2, order comparisons 4 x 5, (in)equality 2 x 6,
     * logical 2 x 1 */
    CHECK_MSG(combos == 72, "%d op/dtype pairs", combos);
}

/* A chain of scalar and vector ops: intermediate values are written over
 * (either operand), feeds and a value that is also fetched are not. */
static void test_in_place_only_where_allowed(void) {
    tfc_graph *g = tfc_graph_new();
    int64_t none[1] = {0}, three[1] = {3};
    tfc_output x = tfc_placeholder(g, "x", TFC_FLOAT, 0, none);
    tfc_output v = tfc_placeholder(g, "v", TFC_FLOAT, 1, three);
    tfc_output s1 = tfc_add(g, x, tfc_const_float(g, 1));   /* x + 1 */
    tfc_output s2 = tfc_mul(g, tfc_const_float(g, 2), s1);  /* 2 * (x + 1): overwrites input 1 */
    tfc_output s3 = tfc_sub(g, s2, x);                      /* overwrites input 0 */
    tfc_output w1 = tfc_add(g, v, s3);                      /* vector + scalar */
    tfc_output w2 = tfc_mul(g, w1, w1);                     /* one input read twice */
    tfc_output w3 = tfc_sub(g, s3, w2);                     /* scalar - vector */
    /* a scalar at its last use beside a vector: too small for the output */
    tfc_output w4 = tfc_sub(g, v, tfc_mul(g, x, tfc_const_float(g, 2)));
    tfc_output w5 = tfc_sub(g, tfc_mul(g, x, tfc_const_float(g, 3)), v);
    CHECK_GRAPH_OK(g);
    tfc_status *st = tfc_status_new();
    tfc_session *s = tfc_session_new(g, NULL, st);
    float vv[3] = {1, -2, 0.5f};
    tfc_tensor *xt = tfc_tensor_scalar_float(3);
    tfc_tensor *vt = tfc_tensor_from_data(TFC_FLOAT, 1, three, vv);
    tfc_output feeds[2] = {x, v};
    tfc_tensor *vals[2] = {xt, vt};
    for (int run = 0; run < 3; run++) {
        tfc_output fetches[5] = {w3, w4, w5, s3, w1};
        tfc_tensor *out[5] = {NULL, NULL, NULL, NULL, NULL};
        tfc_session_run(s, feeds, vals, 2, fetches, run == 0 ? 3 : 5, out, NULL, 0, st);
        CHECK_STATUS_OK(st);
        float s3v = 2 * (3 + 1) - 3; /* 5 */
        for (int k = 0; k < 3; k++)
            CHECK(out[k] && tfc_tensor_rank(out[k]) == 1 && tfc_tensor_dim(out[k], 0) == 3);
        for (int i = 0; i < 3 && out[0] && out[1] && out[2]; i++) {
            float w = vv[i] + s3v;
            CHECK(((const float *)tfc_tensor_data(out[0]))[i] == s3v - w * w);
            CHECK(((const float *)tfc_tensor_data(out[1]))[i] == vv[i] - 6);
            CHECK(((const float *)tfc_tensor_data(out[2]))[i] == 9 - vv[i]);
        }
        if (run > 0) {
            CHECK(out[3] && *(const float *)tfc_tensor_data(out[3]) == s3v);
            for (int i = 0; i < 3 && out[4]; i++)
                CHECK(((const float *)tfc_tensor_data(out[4]))[i] == vv[i] + s3v);
        }
        for (int i = 0; i < 5; i++) tfc_tensor_free(out[i]);
        CHECK(*(const float *)tfc_tensor_data(xt) == 3);
        CHECK(!memcmp(tfc_tensor_data(vt), vv, sizeof vv));
    }
    tfc_tensor_free(xt);
    tfc_tensor_free(vt);
    tfc_session_free(s);
    tfc_status_free(st);
    tfc_graph_free(g);
}

/* The message of a run of op(a, b) that must fail. */
static char *run_error(const char *op, tfc_dtype dt, tfc_tensor *at, tfc_tensor *bt) {
    tfc_output a, b, y;
    tfc_graph *g = binary_graph(op, dt, &a, &b, &y);
    tfc_status *st = tfc_status_new();
    tfc_session *s = tfc_session_new(g, NULL, st);
    tfc_output feeds[2] = {a, b};
    tfc_tensor *vals[2] = {at, bt}, *out = NULL;
    tfc_session_run(s, feeds, vals, 2, &y, 1, &out, NULL, 0, st);
    CHECK(out == NULL && tfc_status_code(st) == TFC_INVALID_ARGUMENT);
    char *msg = strdup(tfc_status_message(st));
    tfc_tensor_free(at);
    tfc_tensor_free(bt);
    tfc_session_free(s);
    tfc_status_free(st);
    tfc_graph_free(g);
    return msg;
}

/* The direct path fails as the broadcasting one does, word for word. */
static void test_errors_unchanged(void) {
    const int64_t vec[1] = {3}, row[2] = {1, 3};
    const double zero_at_1[3] = {1, 0, 2}, ones[3] = {1, 1, 1}, neg[3] = {2, -1, 2};
    const double zero = 0, minus = -1, four = 4;
    struct {
        const char *op;
        tfc_dtype dt;
        const char *want;
    } cases[] = {{"Div", TFC_INT32, "Integer division by zero [[node y (Div)]]"},
                 {"Div", TFC_INT64, "Integer division by zero [[node y (Div)]]"},
                 {"Pow", TFC_INT32, "Integers to negative integer powers are not allowed [[node y (Pow)]]"},
                 {"Pow", TFC_INT64, "Integers to negative integer powers are not allowed [[node y (Pow)]]"}};
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
        tfc_dtype dt = cases[k].dt;
        int is_div = !strcmp(cases[k].op, "Div");
        const double *bad = is_div ? zero_at_1 : neg;
        const double *bad_one = is_div ? &zero : &minus;
        char *msgs[4] = {
            /* the broadcasting path */
            run_error(cases[k].op, dt, tensor_of(dt, 2, row, ones), tensor_of(dt, 1, vec, bad)),
            /* one shape, a scalar, a vector and a scalar */
            run_error(cases[k].op, dt, tensor_of(dt, 1, vec, ones), tensor_of(dt, 1, vec, bad)),
            run_error(cases[k].op, dt, tensor_of(dt, 0, NULL, &four),
                      tensor_of(dt, 0, NULL, bad_one)),
            run_error(cases[k].op, dt, tensor_of(dt, 1, vec, ones),
                      tensor_of(dt, 0, NULL, bad_one)),
        };
        for (int i = 0; i < 4; i++) {
            CHECK_MSG(!strcmp(msgs[i], cases[k].want), "case %zu/%d: '%s'", k, i, msgs[i]);
            free(msgs[i]);
        }
    }
    /* shapes that do not broadcast still fail in the broadcasting path */
    const int64_t two[1] = {2};
    char *msg = run_error("Add", TFC_FLOAT, tensor_of(TFC_FLOAT, 1, two, ones),
                          tensor_of(TFC_FLOAT, 1, vec, ones));
    CHECK_MSG(!strcmp(msg, "Incompatible shapes: [2] vs. [3] [[node y (Add)]]"), "'%s'", msg);
    free(msg);
}

TFC_TEST_MAIN(T(test_direct_cases_match_broadcasting), T(test_in_place_only_where_allowed),
              T(test_errors_unchanged))
