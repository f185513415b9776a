/* The arithmetic loops of the binary element-wise kernel
 * (src/ops/math_binary.c), built for AVX-512, AVX2 and the baseline and
 * chosen by the CPU, against a plain scalar loop written here: Add, Sub,
 * Mul, RealDiv/Div (floats), Maximum, Minimum and SquaredDifference of
 * float32, float64, int32 and int64 (integers wrap), on random data with
 * NaN, infinities, -0 and tiny values mixed in, bit for bit. Each op runs
 * vector-vector, vector-scalar and scalar-vector (the direct path), as
 * rows of a broadcast whose odd lengths start every row but the first
 * unaligned, written over an input (in place), and past the kernel's
 * parallel chunk size in sessions of 1 and 2 threads. */
#include "harness.h"
#include "same_bits.h"

#include <stdint.h>
#include <stdlib.h>

static const char *const OPS[] = {"Add", "Sub",     "Mul",     "RealDiv",
                                  "Div", "Maximum", "Minimum", "SquaredDifference"};
enum { NOPS = sizeof OPS / sizeof *OPS };
static const tfc_dtype DTS[] = {TFC_FLOAT, TFC_DOUBLE, TFC_INT32, TFC_INT64};
enum { NDT = sizeof DTS / sizeof *DTS };

static size_t esize(tfc_dtype dt) { return dt == TFC_FLOAT || dt == TFC_INT32 ? 4 : 8; }
static int is_float(tfc_dtype dt) { return dt == TFC_FLOAT || dt == TFC_DOUBLE; }

/* ---- the reference, one element at a time in the element type ---- */

#define REF_FLOAT(T, op, x, y)                                                                     \
    (op == 0   ? (T)((x) + (y))                                                                    \
     : op == 1 ? (T)((x) - (y))                                                                    \
     : op == 2 ? (T)((x) * (y))                                                                    \
     : op <= 4 ? (T)((x) / (y))                                                                    \
     : op == 5 ? ((x) > (y) ? (x) : (y))                                                           \
     : op == 6 ? ((x) < (y) ? (x) : (y))                                                           \
               : (T)((T)((x) - (y)) * (T)((x) - (y))))
/* integers through their unsigned twins: they wrap, as TensorFlow's do */
#define REF_INT(T, U, op, x, y)                                                                    \
    (op == 0   ? (T)((U)(x) + (U)(y))                                                              \
     : op == 1 ? (T)((U)(x) - (U)(y))                                                              \
     : op == 2 ? (T)((U)(x) * (U)(y))                                                              \
     : op == 5 ? ((x) > (y) ? (x) : (y))                                                           \
     : op == 6 ? ((x) < (y) ? (x) : (y))                                                           \
               : (T)(((U)(x) - (U)(y)) * ((U)(x) - (U)(y))))

/* want[i] = op(a[i*sa], b[i*sb]) for i < n (strides 0 or 1) */
static void reference(int op, tfc_dtype dt, const void *a, int sa, const void *b, int sb,
                      void *want, int64_t n) {
    for (int64_t i = 0; i < n; i++) {
        int64_t ia = i * sa, ib = i * sb;
        switch (dt) {
        case TFC_FLOAT: {
            float x = ((const float *)a)[ia], y = ((const float *)b)[ib];
            ((float *)want)[i] = REF_FLOAT(float, op, x, y);
            break;
        }
        case TFC_DOUBLE: {
            double x = ((const double *)a)[ia], y = ((const double *)b)[ib];
            ((double *)want)[i] = REF_FLOAT(double, op, x, y);
            break;
        }
        case TFC_INT32: {
            int32_t x = ((const int32_t *)a)[ia], y = ((const int32_t *)b)[ib];
            ((int32_t *)want)[i] = REF_INT(int32_t, uint32_t, op, x, y);
            break;
        }
        default: {
            int64_t x = ((const int64_t *)a)[ia], y = ((const int64_t *)b)[ib];
            ((int64_t *)want)[i] = REF_INT(int64_t, uint64_t, op, x, y);
            break;
        }
        }
    }
}

/* ---- the data ---- */


static const double EDGES[] = {0.0,  -0.0,  1.0,      -1.0,      1e-40, -1e-310,
                               3e38, -3e38, INFINITY, -INFINITY, 1e300, 0.5};

static void fill(tfc_dtype dt, void *x, int64_t n) {
    for (int64_t i = 0; i < n; i++) {
        uint64_t r = tfc_test_bits();
        double v = r % 7 == 0   ? EDGES[(r >> 8) % (sizeof EDGES / sizeof *EDGES)]
                   : r % 7 == 1 ? NAN
                                : ((double)(r >> 11) / 9007199254740992.0 - 0.5) * 200.0;
        switch (dt) {
        case TFC_FLOAT: ((float *)x)[i] = (float)v; break;
        case TFC_DOUBLE: ((double *)x)[i] = v; break;
        case TFC_INT32: ((int32_t *)x)[i] = (int32_t)(uint32_t)(r >> (r % 2 ? 32 : 50)); break;
        default: ((int64_t *)x)[i] = (int64_t)(r >> (r % 3) * 20); break;
        }
    }
}


/* ---- one op and dtype ---- */

typedef struct op_graph {
    tfc_graph *g;
    tfc_output a, b;
    tfc_output y;         /* op(a, b) */
    tfc_output y_inplace; /* op(a - 0, b): the kernel may write over a - 0 */
    tfc_session *s;
} op_graph;

static int op_graph_new(op_graph *o, const char *op, tfc_dtype dt, int threads, tfc_status *st) {
    o->g = tfc_graph_new();
    o->a = tfc_placeholder(o->g, "a", dt, -1, NULL);
    o->b = tfc_placeholder(o->g, "b", dt, -1, NULL);
    tfc_op_desc *d = tfc_op_new(o->g, op, "y");
    tfc_op_add_input(d, o->a);
    tfc_op_add_input(d, o->b);
    tfc_node *n = tfc_op_finish(d);
    if (!n) {
        tfc_graph_free(o->g);
        return -1;
    }
    o->y = tfc_out(n, 0);
    tfc_output zero = tfc_cast(o->g, tfc_const_float(o->g, 0.0f), dt);
    d = tfc_op_new(o->g, op, "y_inplace");
    tfc_op_add_input(d, tfc_sub(o->g, o->a, zero));
    tfc_op_add_input(d, o->b);
    o->y_inplace = tfc_out(tfc_op_finish(d), 0);
    CHECK_GRAPH_OK(o->g);
    tfc_session_options so = {0};
    so.inter_op_threads = so.intra_op_threads = threads;
    o->s = tfc_session_new(o->g, &so, st);
    return 0;
}

static void op_graph_free(op_graph *o) {
    tfc_session_free(o->s);
    tfc_graph_free(o->g);
}

/* Runs op on a (dims da) and b (dims db), both fetches, and compares each
 * with want (n elements). */
static void run_case(op_graph *o, const char *op, tfc_dtype dt, int ra, const int64_t *da,
                     const void *a, int rb, const int64_t *db, const void *b, const void *want,
                     int64_t n, const char *what, tfc_status *st) {
    tfc_tensor *in[2] = {tfc_tensor_from_data(dt, ra, da, a), tfc_tensor_from_data(dt, rb, db, b)};
    tfc_output feeds[2] = {o->a, o->b}, fetch[2] = {o->y, o->y_inplace};
    for (int f = 0; f < 2; f++) {
        tfc_tensor *y = NULL;
        tfc_session_run(o->s, feeds, in, 2, &fetch[f], 1, &y, NULL, 0, st);
        CHECK_STATUS_OK(st);
        CHECK_MSG(y && tfc_tensor_num_elements(y) == n, "%s %s %s: %lld elements", op,
                  tfc_dtype_name(dt), what, y ? (long long)tfc_tensor_num_elements(y) : -1LL);
        int bad = 0;
        for (int64_t i = 0; y && tfc_tensor_num_elements(y) == n && i < n && bad < 3; i++)
            if (!same_bits(dt, tfc_tensor_data(y), want, i)) {
                bad++;
                CHECK_MSG(0, "%s %s %s%s, n %lld, element %lld: got %.17g, want %.17g", op,
                          tfc_dtype_name(dt), what, f ? " (in place)" : "", (long long)n,
                          (long long)i, tfc_test_get(y, i),
                          is_float(dt) ? (dt == TFC_FLOAT ? (double)((const float *)want)[i]
                                                          : ((const double *)want)[i])
                                       : (double)(dt == TFC_INT32 ? ((const int32_t *)want)[i]
                                                                  : ((const int64_t *)want)[i]));
            }
        tfc_tensor_free(y);
    }
    tfc_tensor_free(in[0]);
    tfc_tensor_free(in[1]);
}

static void check_op(int op, tfc_dtype dt, int threads) {
    static const int64_t lens[] = {1,  2,  3,  5,  7,   8,   9,   15,  16,   17,   31,
                                   33, 63, 64, 65, 127, 129, 255, 784, 1001, 4099, 70001};
    if (!is_float(dt) && op >= 3 && op <= 4) return; /* integer Div: another loop, not cloned */
    tfc_status *st = tfc_status_new();
    op_graph o;
    if (op_graph_new(&o, OPS[op], dt, threads, st)) {
        CHECK_MSG(0, "%s %s: %s", OPS[op], tfc_dtype_name(dt), "no graph");
        tfc_status_free(st);
        return;
    }
    CHECK_STATUS_OK(st);
    size_t es = esize(dt);
    for (size_t l = 0; l < sizeof lens / sizeof *lens; l++) {
        int64_t n = lens[l], rows = n < 5000 ? 3 : 1, total = rows * n;
        char *a = malloc((size_t)total * es), *b = malloc((size_t)total * es),
             *want = malloc((size_t)total * es), *s = malloc(es);
        fill(dt, a, total);
        fill(dt, b, total);
        fill(dt, s, 1);
        int64_t dn[1] = {n}, drn[2] = {rows, n}, dr1[2] = {rows, 1};
        /* vector op vector, one shape */
        reference(op, dt, a, 1, b, 1, want, n);
        run_case(&o, OPS[op], dt, 1, dn, a, 1, dn, b, want, n, "vv", st);
        /* vector op scalar, scalar op vector */
        reference(op, dt, a, 1, s, 0, want, n);
        run_case(&o, OPS[op], dt, 1, dn, a, 0, NULL, s, want, n, "vs", st);
        reference(op, dt, s, 0, b, 1, want, n);
        run_case(&o, OPS[op], dt, 0, NULL, s, 1, dn, b, want, n, "sv", st);
        if (rows > 1) {
            /* [rows, n] op [n]: a row at a time, unaligned when n is odd */
            for (int64_t r = 0; r < rows; r++)
                reference(op, dt, a + (size_t)(r * n) * es, 1, b, 1, want + (size_t)(r * n) * es,
                          n);
            run_case(&o, OPS[op], dt, 2, drn, a, 1, dn, b, want, total, "rows vv", st);
            /* [rows, n] op [rows, 1]: each row against its own scalar */
            for (int64_t r = 0; r < rows; r++)
                reference(op, dt, a + (size_t)(r * n) * es, 1, b + (size_t)r * es, 0,
                          want + (size_t)(r * n) * es, n);
            run_case(&o, OPS[op], dt, 2, drn, a, 2, dr1, b, want, total, "rows vs", st);
            /* [rows, 1] op [rows, n] */
            for (int64_t r = 0; r < rows; r++)
                reference(op, dt, a + (size_t)r * es, 0, b + (size_t)(r * n) * es, 1,
                          want + (size_t)(r * n) * es, n);
            run_case(&o, OPS[op], dt, 2, dr1, a, 2, drn, b, want, total, "rows sv", st);
        }
        free(a);
        free(b);
        free(want);
        free(s);
    }
    op_graph_free(&o);
    tfc_status_free(st);
}

static void test_arithmetic_loops_against_scalar_loop(void) {
    for (int threads = 1; threads <= 2; threads++)
        for (int op = 0; op < NOPS; op++)
            for (int d = 0; d < NDT; d++) check_op(op, DTS[d], threads);
}

/* the input pipelines' case spelled out: bytes as floats, scaled by 1/255 */
static void test_scale_by_reciprocal(void) {
    enum { N = 784 + 13 };
    float x[N], want[N];
    for (int i = 0; i < N; i++) {
        x[i] = (float)(i % 256);
        want[i] = x[i] * (1.0f / 255.0f);
    }
    int64_t n = N;
    tfc_graph *g = tfc_graph_new();
    tfc_output y =
        tfc_mul(g, tfc_const_data(g, TFC_FLOAT, 1, &n, x), tfc_const_float(g, 1.0f / 255.0f));
    tfc_tensor *t = tfc_test_eval(g, y, NULL, NULL, 0);
    CHECK(t != NULL);
    for (int i = 0; t && i < N; i++)
        CHECK_MSG(!memcmp(&((const float *)tfc_tensor_data(t))[i], &want[i], 4),
                  "element %d: %.9g, want %.9g", i, ((const float *)tfc_tensor_data(t))[i],
                  want[i]);
    tfc_tensor_free(t);
    tfc_graph_free(g);
}

TFC_TEST_MAIN(T(test_scale_by_reciprocal), T(test_arithmetic_loops_against_scalar_loop))
