/* SerializeTensor and ParseTensor against TensorProtos TensorFlow encoded:
 * Const values in SavedModels of tensorflow/serving's test data (bytes
 * copied below; repository tensorflow/serving, directory
 * tensorflow_serving/servables/tensorflow/testdata/):
 *   saved_model_half_plus_two_cpu/00000123/saved_model.pb, commit
 *     3ba8a6d8ac31572548bbe7922e4152a6b92e626c, written by TF 1.14.0;
 *   saved_model_half_plus_two_mkl/00000123/saved_model.pb, commit
 *     8f792532bea10d82fd3c3b126412d0546f54ae28, written by TF 1.12.0-rc0.
 * tfc's bytes for the same values must be TensorFlow's (strings as
 * string_val, numbers as tensor_content), and tfc reads every form
 * TensorFlow wrote (typed value fields, the fill rule). Plus round trips of
 * every dtype and the errors, naming the node. */
#include "harness.h"

#include <stdlib.h>

static size_t unhex(const char *h, unsigned char *out) {
    size_t n = 0;
    for (; h[0] && h[1]; h += 2) {
        unsigned v;
        sscanf(h, "%2x", &v);
        out[n++] = (unsigned char)v;
    }
    return n;
}

/* SerializeTensor(value) run once: its bytes (caller frees the tensor). */
static tfc_tensor *serialize(tfc_tensor *value) {
    tfc_graph *g = tfc_graph_new();
    int64_t dims[TFC_MAX_RANK];
    for (int d = 0; d < tfc_tensor_rank(value); d++) dims[d] = tfc_tensor_dim(value, d);
    tfc_output x = tfc_placeholder(g, "x", tfc_tensor_dtype(value), tfc_tensor_rank(value), dims);
    tfc_output s = tfc_serialize_tensor(g, x);
    CHECK_GRAPH_OK(g);
    tfc_tensor *r = tfc_test_eval(g, s, &x, &value, 1);
    tfc_graph_free(g);
    return r;
}

/* ParseTensor(bytes) with out_type dt; NULL and *st set on failure; the
 * node's name in name[64]. */
static tfc_tensor *parse(const unsigned char *p, size_t n, tfc_dtype dt, tfc_status *st,
                         char *name) {
    tfc_graph *g = tfc_graph_new();
    tfc_output in = tfc_placeholder(g, "bytes", TFC_STRING, 0, NULL);
    tfc_output out = tfc_parse_tensor(g, in, dt);
    CHECK_GRAPH_OK(g);
    if (name) snprintf(name, 64, "%s", tfc_node_name(out.node));
    tfc_tensor *v = tfc_tensor_scalar_string((const char *)p, n);
    tfc_session *s = tfc_session_new(g, NULL, st);
    tfc_tensor *r = NULL;
    tfc_session_run(s, &in, &v, 1, &out, 1, &r, NULL, 0, st);
    tfc_session_free(s);
    tfc_tensor_free(v);
    tfc_graph_free(g);
    return r;
}

static tfc_tensor *parse_hex(const char *hex, tfc_dtype dt) {
    unsigned char b[256];
    size_t n = unhex(hex, b);
    tfc_status *st = tfc_status_new();
    tfc_tensor *t = parse(b, n, dt, st, NULL);
    CHECK_STATUS_OK(st);
    tfc_status_free(st);
    return t;
}

static int same_bytes(const tfc_tensor *s, const char *hex) {
    unsigned char b[256];
    size_t n = unhex(hex, b), len = 0;
    const char *p = s ? tfc_string_tensor_get(s, 0, &len) : NULL;
    return p && len == n && !memcmp(p, b, n);
}

/* TensorFlow's names of the SaveV2 tensors, a string vector (TF 1.14). */
static const char *tf_names_hex = "08071204120208054201614202613242016242016342026332";
/* conv2d/dilation_rate, int32 [2] {1, 1}, and strided_slice/stack, int32
 * [4] zeros, both as tensor_content (TF 1.12) */
static const char *tf_dilation_hex = "080312041202080222080100000001000000";
static const char *tf_stack_hex = "0803120412020804221000000000000000000000000000000000";

static void test_serialize_matches_tensorflow(void) {
    const char *names[] = {"a", "a2", "b", "c", "c2"};
    int64_t five = 5;
    tfc_tensor *t = tfc_tensor_from_strings(1, &five, names, NULL);
    tfc_tensor *s = serialize(t);
    CHECK(same_bytes(s, tf_names_hex));
    tfc_tensor_free(s);
    tfc_tensor_free(t);

    int32_t ones[2] = {1, 1}, zeros[4] = {0};
    int64_t two = 2, four = 4;
    t = tfc_tensor_from_data(TFC_INT32, 1, &two, ones);
    s = serialize(t);
    CHECK(same_bytes(s, tf_dilation_hex));
    tfc_tensor_free(s);
    tfc_tensor_free(t);
    t = tfc_tensor_from_data(TFC_INT32, 1, &four, zeros);
    s = serialize(t);
    CHECK(same_bytes(s, tf_stack_hex));
    tfc_tensor_free(s);
    tfc_tensor_free(t);
}

static void test_parse_tensorflow_protos(void) {
    /* the same three back */
    tfc_tensor *t = parse_hex(tf_names_hex, TFC_STRING);
    size_t len;
    CHECK(t && tfc_tensor_rank(t) == 1 && tfc_tensor_dim(t, 0) == 5);
    CHECK(t && !memcmp(tfc_string_tensor_get(t, 1, &len), "a2", 2) && len == 2);
    CHECK(t && !memcmp(tfc_string_tensor_get(t, 4, &len), "c2", 2) && len == 2);
    tfc_tensor_free(t);
    t = parse_hex(tf_dilation_hex, TFC_INT32);
    CHECK(t && tfc_tensor_num_elements(t) == 2 && ((int32_t *)tfc_tensor_data(t))[1] == 1);
    tfc_tensor_free(t);
    /* a/initial_value: a float scalar in float_val (TF 1.14) */
    t = parse_hex("080112002a040000003f", TFC_FLOAT);
    CHECK(t && tfc_tensor_rank(t) == 0 && *(float *)tfc_tensor_data(t) == 0.5f);
    tfc_tensor_free(t);
    /* zeros: float [1, 10, 10, 1] from one float_val 0 (the fill rule; TF 1.12) */
    t = parse_hex("08011210120208011202080a1202080a120208012a0400000000", TFC_FLOAT);
    CHECK(t && tfc_tensor_rank(t) == 4 && tfc_tensor_num_elements(t) == 100);
    for (int i = 0; t && i < 100; i++) CHECK(((float *)tfc_tensor_data(t))[i] == 0);
    tfc_tensor_free(t);
    /* ParseExample/Reshape/shape: int32 [1] in int_val (TF 1.14) */
    t = parse_hex("08031204120208013a0101", TFC_INT32);
    CHECK(t && tfc_tensor_num_elements(t) == 1 && *(int32_t *)tfc_tensor_data(t) == 1);
    tfc_tensor_free(t);
    /* filename_tensor/initial_value: the string scalar "foo.txt"; and
     * ParseExample/ParseExample/names, an empty string vector (TF 1.14) */
    t = parse_hex("080712004207666f6f2e747874", TFC_STRING);
    CHECK(t && tfc_tensor_rank(t) == 0 && !memcmp(tfc_string_tensor_get(t, 0, &len), "foo.txt", 7));
    tfc_tensor_free(t);
    t = parse_hex("080712021200", TFC_STRING);
    CHECK(t && tfc_tensor_rank(t) == 1 && tfc_tensor_num_elements(t) == 0);
    tfc_tensor_free(t);
}

/* Typed fields by their numbers in tensor.proto: double_val 6, int64_val
 * 10, bool_val 11 (packed), int_val 7 for uint8 and uint16; fewer values
 * than elements repeat the last. */
static void test_typed_fields(void) {
    /* double [2] {1.5, -2}: 08 02 | 12 04 12 02 08 02 | 32 10 <2 doubles> */
    tfc_tensor *t = parse_hex("0802120412020802" "3210000000000000f83f00000000000000c0", TFC_DOUBLE);
    CHECK(t && ((double *)tfc_tensor_data(t))[0] == 1.5 && ((double *)tfc_tensor_data(t))[1] == -2);
    tfc_tensor_free(t);
    /* int64 [3] from one int64_val 7 */
    t = parse_hex("0809120412020803" "520107", TFC_INT64);
    for (int i = 0; t && i < 3; i++) CHECK(((int64_t *)tfc_tensor_data(t))[i] == 7);
    tfc_tensor_free(t);
    /* bool [2] {1, 0} */
    t = parse_hex("080a120412020802" "5a020100", TFC_BOOL);
    CHECK(t && ((uint8_t *)tfc_tensor_data(t))[0] == 1 && ((uint8_t *)tfc_tensor_data(t))[1] == 0);
    tfc_tensor_free(t);
    /* uint16 [1] {65535} in int_val: 08 11 | 12 04 12 02 08 01 | 3a 03 ff ff 03 */
    t = parse_hex("0811120412020801" "3a03ffff03", TFC_UINT16);
    CHECK(t && tfc_tensor_dtype(t) == TFC_UINT16 && *(uint16_t *)tfc_tensor_data(t) == 65535);
    tfc_tensor_free(t);
    /* no values at all: zeros */
    t = parse_hex("0804120412020803", TFC_UINT8);
    CHECK(t && tfc_tensor_num_elements(t) == 3 && !memcmp(tfc_tensor_data(t), "\0\0\0", 3));
    tfc_tensor_free(t);
}

/* Every dtype through SerializeTensor then ParseTensor, unchanged. */
static void test_round_trips(void) {
    tfc_test_seed(5);
    static const tfc_dtype dts[] = {TFC_FLOAT, TFC_DOUBLE, TFC_INT32, TFC_UINT8, TFC_INT64, TFC_BOOL};
    int64_t dims[3] = {2, 3, 4};
    for (int k = 0; k < 6; k++) {
        tfc_tensor *t = tfc_test_random_tensor(dts[k], 3, dims, -100, 100);
        if (dts[k] == TFC_UINT8 || dts[k] == TFC_BOOL)
            for (int i = 0; i < 24; i++) ((uint8_t *)tfc_tensor_data(t))[i] = (uint8_t)(i * 37 % (dts[k] == TFC_BOOL ? 2 : 256));
        tfc_tensor *s = serialize(t);
        size_t n = 0;
        const char *p = tfc_string_tensor_get(s, 0, &n);
        tfc_status *st = tfc_status_new();
        tfc_tensor *back = p ? parse((const unsigned char *)p, n, dts[k], st, NULL) : NULL;
        CHECK_MSG(back && tfc_tensor_dtype(back) == dts[k] && tfc_tensor_rank(back) == 3 &&
                      tfc_tensor_nbytes(back) == tfc_tensor_nbytes(t) &&
                      !memcmp(tfc_tensor_data(back), tfc_tensor_data(t), tfc_tensor_nbytes(t)),
                  "%s: %s", tfc_dtype_name(dts[k]), tfc_status_message(st));
        tfc_status_free(st);
        tfc_tensor_free(back);
        tfc_tensor_free(s);
        tfc_tensor_free(t);
    }
    /* strings with NULs and empties, and uint16 */
    const char *strs[] = {"", "x\0y", "long enough to be interesting"};
    const size_t lens[] = {0, 3, 29};
    int64_t three = 3;
    tfc_tensor *t = tfc_tensor_from_strings(1, &three, strs, lens);
    tfc_tensor *s = serialize(t);
    size_t n = 0, len;
    const char *p = tfc_string_tensor_get(s, 0, &n);
    tfc_status *st = tfc_status_new();
    tfc_tensor *back = parse((const unsigned char *)p, n, TFC_STRING, st, NULL);
    CHECK_STATUS_OK(st);
    for (int i = 0; back && i < 3; i++)
        CHECK(!memcmp(tfc_string_tensor_get(back, i, &len), strs[i], lens[i]) && len == lens[i]);
    tfc_tensor_free(back);
    tfc_tensor_free(s);
    tfc_tensor_free(t);
    uint16_t u[3] = {0, 1234, 65535};
    t = tfc_tensor_from_data(TFC_UINT16, 1, &three, u);
    s = serialize(t);
    p = tfc_string_tensor_get(s, 0, &n);
    back = parse((const unsigned char *)p, n, TFC_UINT16, st, NULL);
    CHECK(back && !memcmp(tfc_tensor_data(back), u, 6));
    tfc_tensor_free(back);
    tfc_tensor_free(s);
    tfc_tensor_free(t);
    tfc_status_free(st);
}

static void expect_parse_error(const char *hex_or_raw, int raw, tfc_dtype dt, const char *want) {
    unsigned char b[256];
    size_t n = raw ? strlen(hex_or_raw) : unhex(hex_or_raw, b);
    if (raw) memcpy(b, hex_or_raw, n);
    tfc_status *st = tfc_status_new();
    char name[64];
    tfc_tensor *t = parse(b, n, dt, st, name);
    CHECK(t == NULL && tfc_status_code(st) == TFC_INVALID_ARGUMENT);
    CHECK_CONTAINS(tfc_status_message(st), want);
    CHECK_CONTAINS(tfc_status_message(st), name);
    tfc_tensor_free(t);
    tfc_status_free(st);
}

static void test_errors(void) {
    expect_parse_error(tf_dilation_hex, 0, TFC_FLOAT,
                       "Type mismatch between parsed tensor (int32) and dtype (float32)");
    expect_parse_error("\xff\xff\xff", 1, TFC_FLOAT, "Could not parse `serialized` as TensorProto");
    /* int32 [4] with 8 bytes of tensor_content */
    expect_parse_error("08031204120208042208" "0100000001000000", 0, TFC_INT32,
                       "8 bytes of tensor_content for 4 elements of int32");
    /* a negative dim */
    expect_parse_error("0803120d120b08" "ffffffffffffffffff01", 0, TFC_INT32, "not a valid");
    /* a huge shape filled from one value */
    expect_parse_error("080312081206088080808004" "3a0101", 0, TFC_INT32, "elements from 1 values");
    tfc_graph *g = tfc_graph_new();
    CHECK(tfc_parse_tensor(g, tfc_const_string(g, ""), TFC_RESOURCE).node == NULL);
    CHECK_CONTAINS(tfc_graph_error(g), "out_type");
    tfc_graph_free(g);
}

TFC_TEST_MAIN(T(test_serialize_matches_tensorflow), T(test_parse_tensorflow_protos),
              T(test_typed_fields), T(test_round_trips), T(test_errors))
