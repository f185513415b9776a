/*
 * tfc.h — the one public header of tfc, a dataflow machine-learning engine in C
 * with the programming model of TensorFlow 1.x.
 *
 * A program first BUILDS a graph of operations on tensors, then RUNS parts of
 * it in a SESSION, feeding placeholders and fetching results. Variables keep
 * their values between runs of one session.
 *
 *     #include <tfc.h>
 *     #include <stdio.h>
 *
 *     int main(void) {
 *         tfc_graph *g = tfc_graph_new();
 *         int64_t xdims[] = {1, 3}, wdims[] = {3, 3};
 *         tfc_output x = tfc_placeholder(g, "x", TFC_FLOAT, 2, xdims);
 *         tfc_output w = tfc_variable(g, "w",
 *             tfc_random_normal(g, TFC_FLOAT, 2, wdims, 0.0, 1.0, 0));
 *         tfc_output y = tfc_softmax(g, tfc_relu(g, tfc_matmul(g, x, w)));
 *         tfc_node *init = tfc_global_variables_initializer(g);
 *         if (tfc_graph_error(g)) { fprintf(stderr, "%s\n", tfc_graph_error(g)); return 1; }
 *
 *         tfc_status *st = tfc_status_new();
 *         tfc_session *s = tfc_session_new(g, NULL, st);
 *         tfc_session_run(s, NULL, NULL, 0, NULL, 0, NULL, &init, 1, st);
 *         float xv[] = {1, 2, 3};
 *         tfc_tensor *xt = tfc_tensor_from_data(TFC_FLOAT, 2, xdims, xv);
 *         tfc_tensor *out = NULL;
 *         tfc_session_run(s, &x, &xt, 1, &y, 1, &out, NULL, 0, st);
 *         if (tfc_status_code(st) != TFC_OK) fprintf(stderr, "%s\n", tfc_status_message(st));
 *         else { const float *p = tfc_tensor_data(out); printf("%f %f %f\n", p[0], p[1], p[2]); }
 *         tfc_tensor_free(out); tfc_tensor_free(xt);
 *         tfc_session_free(s); tfc_status_free(st); tfc_graph_free(g);
 *     }
 *
 * Conventions
 *   - Every name starts with tfc_ (macros and enum values with TFC_).
 *   - Handles are opaque. Every *_free accepts NULL and does nothing.
 *   - Graph building never aborts: a builder that fails returns a null
 *     handle (a tfc_output whose node is NULL, or a NULL tfc_node*) and
 *     records the first error on the graph; later builders on a failed graph
 *     do nothing and return null. tfc_graph_error() reports it, naming the
 *     node and what was expected.
 *   - Running reports through a tfc_status.
 *   - Tensors are reference counted. A function that returns a tensor says
 *     who owns the reference; tfc_tensor_free() drops one reference.
 *   - Op helpers mirror TensorFlow's Python names (tf.matmul -> tfc_matmul,
 *     tf.reduce_mean -> tfc_reduce_mean) and node types are TensorFlow's
 *     ("MatMul", "SoftmaxCrossEntropyWithLogits"), so graphs interchange.
 */
#ifndef TFC_H
#define TFC_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(TFC_BUILDING_LIBRARY) && defined(__GNUC__)
#define TFC_API __attribute__((visibility("default")))
#else
#define TFC_API
#endif

/* ------------------------------------------------------------------------ */
/* Data types and status                                                    */
/* ------------------------------------------------------------------------ */

/* Element types. The numbers are TensorFlow's DataType enum, so GraphDefs
 * and checkpoints interchange. */
typedef enum tfc_dtype {
    TFC_INVALID_DTYPE = 0,
    TFC_FLOAT = 1,   /* float */
    TFC_DOUBLE = 2,  /* double */
    TFC_INT32 = 3,   /* int32_t */
    TFC_UINT8 = 4,   /* uint8_t */
    TFC_STRING = 7,  /* byte strings: see "Strings" below */
    TFC_INT64 = 9,   /* int64_t */
    TFC_BOOL = 10,   /* uint8_t holding 0 or 1 */
    /* Quantized values (TensorFlow's DT_QINT8, DT_QUINT8, DT_QINT32): the
     * integer codes of QuantizeV2 and the Quantized ops, each tensor read with a
     * float range [min, max] carried beside it; see "Quantization" below. */
    TFC_QINT8 = 11,  /* int8_t */
    TFC_QUINT8 = 12, /* uint8_t */
    TFC_QINT32 = 13, /* int32_t */
    /* 16-bit floats, stored as their uint16_t bits: bfloat16 (float32's top
     * half) and IEEE 754 half. Cast, feeds, fetches, Const, Identity,
     * Placeholder and checkpoints only: no arithmetic kernels. */
    TFC_BFLOAT16 = 14,
    TFC_UINT16 = 17, /* uint16_t: 16-bit images only (DecodePng, EncodePng, feeds, fetches) */
    TFC_HALF = 19,
    TFC_RESOURCE = 20 /* a handle to a session's resource (a queue, ...): see "Queues" */
} tfc_dtype;

/* Size in bytes of one element of `dtype`; 0 for an invalid type. A
 * TFC_STRING element is a tfc_string view (its bytes live elsewhere), a
 * TFC_RESOURCE element a pointer. */
TFC_API size_t tfc_dtype_size(tfc_dtype dtype);
/* TensorFlow's name of `dtype`: "float32", "int64", ... */
TFC_API const char *tfc_dtype_name(tfc_dtype dtype);

/* Status codes, TensorFlow's error codes. */
typedef enum tfc_code {
    TFC_OK = 0,
    TFC_CANCELLED = 1,
    TFC_UNKNOWN = 2,
    TFC_INVALID_ARGUMENT = 3,
    TFC_DEADLINE_EXCEEDED = 4,
    TFC_NOT_FOUND = 5,
    TFC_ALREADY_EXISTS = 6,
    TFC_PERMISSION_DENIED = 7,
    TFC_RESOURCE_EXHAUSTED = 8,
    TFC_FAILED_PRECONDITION = 9,
    TFC_ABORTED = 10,
    TFC_OUT_OF_RANGE = 11,
    TFC_UNIMPLEMENTED = 12,
    TFC_INTERNAL = 13,
    TFC_UNAVAILABLE = 14,
    TFC_DATA_LOSS = 15,
    TFC_UNAUTHENTICATED = 16
} tfc_code;

typedef struct tfc_status tfc_status;

/* A new status holding TFC_OK. Free with tfc_status_free. */
TFC_API tfc_status *tfc_status_new(void);
TFC_API void tfc_status_free(tfc_status *s);
TFC_API tfc_code tfc_status_code(const tfc_status *s);
/* The message of the last error, "" when the code is TFC_OK. Owned by `s`. */
TFC_API const char *tfc_status_message(const tfc_status *s);
/* Sets code and printf-style message; TFC_OK clears the message. */
TFC_API void tfc_status_set(tfc_status *s, tfc_code code, const char *fmt, ...)
#ifdef __GNUC__
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* ------------------------------------------------------------------------ */
/* Tensors                                                                  */
/* ------------------------------------------------------------------------ */

#define TFC_MAX_RANK 8

typedef struct tfc_tensor tfc_tensor;

/* A new tensor of the given type and shape, filled with zeros. The caller
 * owns the one reference. Returns NULL for a bad dtype, rank or dim. */
TFC_API tfc_tensor *tfc_tensor_new(tfc_dtype dtype, int rank, const int64_t *dims);
/* Like tfc_tensor_new, then copies the elements from `data` (row-major). */
TFC_API tfc_tensor *tfc_tensor_from_data(tfc_dtype dtype, int rank, const int64_t *dims,
                                         const void *data);
/* Scalars, for feeds and constants. */
TFC_API tfc_tensor *tfc_tensor_scalar_float(float v);
TFC_API tfc_tensor *tfc_tensor_scalar_double(double v);
TFC_API tfc_tensor *tfc_tensor_scalar_int32(int32_t v);
TFC_API tfc_tensor *tfc_tensor_scalar_int64(int64_t v);
TFC_API tfc_tensor *tfc_tensor_scalar_bool(int v);
/* Adds a reference; returns `t`. */
TFC_API tfc_tensor *tfc_tensor_ref(tfc_tensor *t);
/* Drops a reference; the memory goes with the last one. NULL is fine. */
TFC_API void tfc_tensor_free(tfc_tensor *t);
TFC_API tfc_dtype tfc_tensor_dtype(const tfc_tensor *t);
TFC_API int tfc_tensor_rank(const tfc_tensor *t);
/* Size of dimension `i`, or -1 when i is out of range. */
TFC_API int64_t tfc_tensor_dim(const tfc_tensor *t, int i);
TFC_API int64_t tfc_tensor_num_elements(const tfc_tensor *t);
TFC_API size_t tfc_tensor_nbytes(const tfc_tensor *t);
/* The elements, row-major, 64-byte aligned (a borrowed tensor's: the
 * caller's pointer, see below). Owned by the tensor. Writing through this
 * pointer is allowed while the caller holds the only reference. */
TFC_API void *tfc_tensor_data(const tfc_tensor *t);
/* A deep copy with one reference owned by the caller. */
TFC_API tfc_tensor *tfc_tensor_copy(const tfc_tensor *t);

/* Zero-copy feeds: a tensor over the caller's memory.
 * tfc_tensor_from_borrowed makes a tensor whose elements are the `nbytes`
 * bytes at `data` (row-major; nbytes must be exactly what dtype and dims
 * need) without copying them. tfc never writes them: no kernel reuses a
 * borrowed buffer for its output (the buffer forwarding of element-wise
 * kernels skips it, also after a Reshape or a trip through a queue), a
 * variable assigned from it copies it, a fetch of it returns the tensor
 * itself. The caller must keep the bytes alive and unchanged until tfc
 * calls release(release_arg), once, when the last reference to the tensor
 * (and to every alias of it) goes; that may be on any thread, as late as
 * the session's or a queue's end. release may be NULL.
 * Alignment: kernels need each element at an address that is a multiple
 * of its size (4 for float ...); 64 bytes, as tfc's own tensors have, is
 * best for speed but not needed. Data that is not so aligned is copied:
 * the result is then an ordinary tensor and release is called before the
 * function returns.
 * Only numeric dtypes (not TFC_STRING or TFC_RESOURCE). Returns NULL,
 * without calling release, for a bad dtype, rank or dims, a size that
 * does not match, data NULL with nbytes > 0, or no memory; the caller
 * still owns the bytes then. */
typedef void (*tfc_release_fn)(void *release_arg);
TFC_API tfc_tensor *tfc_tensor_from_borrowed(tfc_dtype dtype, int rank, const int64_t *dims,
                                             void *data, size_t nbytes, tfc_release_fn release,
                                             void *release_arg);
/* 1 when t's elements are borrowed memory (tfc_tensor_from_borrowed, or an
 * alias of such a tensor), else 0. */
TFC_API int tfc_tensor_is_borrowed(const tfc_tensor *t);

/* ------------------------------------------------------------------------ */
/* Graphs, nodes and edges                                                  */
/* ------------------------------------------------------------------------ */

typedef struct tfc_graph tfc_graph;
typedef struct tfc_node tfc_node;
typedef struct tfc_op_desc tfc_op_desc;

/* One output of a node: an edge of the graph. Passed by value, so builders
 * nest. A null output (node == NULL) stands for "failed" or "none". */
typedef struct tfc_output {
    tfc_node *node;
    int index;
} tfc_output;

/* A static shape, possibly partial: rank -1 means unknown rank, a dim -1
 * means unknown size (written -1 in placeholders, as None in TensorFlow). */
typedef struct tfc_shape {
    int rank;
    int64_t dims[TFC_MAX_RANK];
} tfc_shape;

/* A new empty graph. Free with tfc_graph_free, after every session on it. */
TFC_API tfc_graph *tfc_graph_new(void);
TFC_API void tfc_graph_free(tfc_graph *g);
/* The first error recorded while building, or NULL. Owned by the graph. */
TFC_API const char *tfc_graph_error(const tfc_graph *g);
TFC_API tfc_code tfc_graph_error_code(const tfc_graph *g);
/* Forgets the recorded error so building can go on (tests, interactive use). */
TFC_API void tfc_graph_clear_error(tfc_graph *g);
/* The graph-level random seed (tf.set_random_seed). Random ops whose own
 * seed is 0 then derive one from it, so runs are reproducible. */
TFC_API void tfc_graph_set_seed(tfc_graph *g, int64_t seed);

/* Name scopes: nodes made between push and pop are named "scope/Type".
 * A scope pushed twice becomes "scope_1", as in TensorFlow. */
TFC_API void tfc_name_scope_push(tfc_graph *g, const char *scope);
TFC_API void tfc_name_scope_pop(tfc_graph *g);
/* The name the next node created will get, instead of its default. */
TFC_API void tfc_with_name(tfc_graph *g, const char *name);
/* Device scope (tf.device): nodes made inside get this device. A device
 * is written in TensorFlow's syntax,
 *     "/job:NAME/replica:N/task:N/device:TYPE:N",
 * any of its parts in any order ("/job:ps", "/task:1",
 * "/device:GPU:*"; '*' leaves a part open), the legacy "/cpu:0" and
 * "/gpu:1", or "" for none. Nested scopes merge as in TensorFlow: the
 * inner spec's parts override the outer one's, the others are kept
 * (written then in the canonical full form, "/job:ps/device:CPU:0"); ""
 * keeps the enclosing device and NULL clears it. A malformed device
 * ("nonsense device") makes each node built inside fail, naming the node
 * and the device; so does one given to tfc_op_set_device. */
TFC_API void tfc_device_push(tfc_graph *g, const char *device);
TFC_API void tfc_device_pop(tfc_graph *g);
/* Control-dependency scope (tf.control_dependencies): nodes made inside
 * run only after all `deps` have run. */
TFC_API void tfc_control_dependencies_push(tfc_graph *g, tfc_node *const *deps, int n);
TFC_API void tfc_control_dependencies_pop(tfc_graph *g);

TFC_API int tfc_graph_num_nodes(const tfc_graph *g);
/* Node `i` in creation order, or NULL. */
TFC_API tfc_node *tfc_graph_node(const tfc_graph *g, int i);
/* The node named `name` (an op name such as "layer1/MatMul"), or NULL. */
TFC_API tfc_node *tfc_graph_node_by_name(const tfc_graph *g, const char *name);
/* Looks up a tensor by TensorFlow's tensor name, "op_name:index" ("x:0");
 * a plain "op_name" means its output 0. Sets *out and returns 0, or returns
 * -1 with `st` saying what is missing, in TensorFlow's words: "The name
 * 'x:0' refers to a Tensor which does not exist. The operation, 'x', does
 * not exist in the graph." (TFC_NOT_FOUND), or that the op has fewer
 * outputs. */
TFC_API int tfc_graph_output_by_name(const tfc_graph *g, const char *name, tfc_output *out,
                                     tfc_status *st);

/* Named collections of nodes (tf.add_to_collection). Well-known keys: */
#define TFC_GLOBAL_VARIABLES "variables"
#define TFC_TRAINABLE_VARIABLES "trainable_variables"
#define TFC_SUMMARIES "summaries"
#define TFC_TRAIN_OP "train_op"
TFC_API void tfc_graph_add_to_collection(tfc_graph *g, const char *key, tfc_node *node);
TFC_API int tfc_graph_collection_size(const tfc_graph *g, const char *key);
TFC_API tfc_node *tfc_graph_collection_get(const tfc_graph *g, const char *key, int i);

TFC_API const char *tfc_node_name(const tfc_node *n);
TFC_API const char *tfc_node_type(const tfc_node *n);
TFC_API const char *tfc_node_device(const tfc_node *n);
TFC_API tfc_graph *tfc_node_graph(const tfc_node *n);
TFC_API int tfc_node_num_inputs(const tfc_node *n);
TFC_API tfc_output tfc_node_input(const tfc_node *n, int i);
TFC_API int tfc_node_num_control_inputs(const tfc_node *n);
TFC_API tfc_node *tfc_node_control_input(const tfc_node *n, int i);
TFC_API int tfc_node_num_outputs(const tfc_node *n);
/* Output `i` of `n` as an edge. */
TFC_API tfc_output tfc_out(tfc_node *n, int i);
TFC_API tfc_dtype tfc_output_dtype(tfc_output o);
/* The statically inferred shape of an output (may be partial). */
TFC_API tfc_shape tfc_output_shape(tfc_output o);
/* Refines that shape with what the caller knows (TensorFlow's
 * Tensor.set_shape): unknown dims, or an unknown rank, take the given
 * ones; rank -1 (or a dim -1) adds nothing. Ops built afterwards see the
 * result, as shuffle_batch needs the fixed shape of an image decoded by
 * DecodeRaw. Nothing is checked at run time. Returns 0, or -1 with the
 * graph's error set when the shapes are not compatible. */
TFC_API int tfc_output_set_shape(tfc_graph *g, tfc_output o, int rank, const int64_t *dims);

/* Attribute readers; `dflt` is returned when the node has no such attr. */
TFC_API int64_t tfc_node_attr_int(const tfc_node *n, const char *name, int64_t dflt);
TFC_API double tfc_node_attr_float(const tfc_node *n, const char *name, double dflt);
TFC_API const char *tfc_node_attr_string(const tfc_node *n, const char *name);

/* The generic builder: adds any registered op by type name, inputs and
 * attrs. This is what GraphDef import and language frontends use; the typed
 * helpers below are thin wrappers over it.
 *     tfc_op_desc *d = tfc_op_new(g, "MatMul", NULL);
 *     tfc_op_add_input(d, a); tfc_op_add_input(d, b);
 *     tfc_op_set_attr_bool(d, "transpose_b", 1);
 *     tfc_node *n = tfc_op_finish(d);   // NULL on error, recorded on g
 * `name` NULL means the default name (the type, made unique). A user name
 * that is taken is an error. */
TFC_API tfc_op_desc *tfc_op_new(tfc_graph *g, const char *type, const char *name);
TFC_API void tfc_op_add_input(tfc_op_desc *d, tfc_output in);
TFC_API void tfc_op_add_inputs(tfc_op_desc *d, const tfc_output *in, int n);
TFC_API void tfc_op_add_control_input(tfc_op_desc *d, tfc_node *dep);
TFC_API void tfc_op_set_device(tfc_op_desc *d, const char *device);
TFC_API void tfc_op_set_attr_int(tfc_op_desc *d, const char *name, int64_t v);
TFC_API void tfc_op_set_attr_float(tfc_op_desc *d, const char *name, double v);
TFC_API void tfc_op_set_attr_bool(tfc_op_desc *d, const char *name, int v);
TFC_API void tfc_op_set_attr_type(tfc_op_desc *d, const char *name, tfc_dtype v);
TFC_API void tfc_op_set_attr_string(tfc_op_desc *d, const char *name, const char *v);
TFC_API void tfc_op_set_attr_shape(tfc_op_desc *d, const char *name, int rank,
                                   const int64_t *dims);
TFC_API void tfc_op_set_attr_int_list(tfc_op_desc *d, const char *name, const int64_t *v,
                                      int n);
TFC_API void tfc_op_set_attr_float_list(tfc_op_desc *d, const char *name, const double *v,
                                        int n);
/* A list(string) attr (ParseSingleExample's keys): n NUL-terminated
 * strings, copied. */
TFC_API void tfc_op_set_attr_string_list(tfc_op_desc *d, const char *name,
                                         const char *const *v, int n);
/* The node keeps its own reference to `t`; the caller keeps theirs. */
TFC_API void tfc_op_set_attr_tensor(tfc_op_desc *d, const char *name, tfc_tensor *t);
/* Validates (inputs, device, attrs: a type attr given as T or dtype that
 * the op's inputs or value make another dtype is an error), infers
 * output shapes, adds the node. Frees `d` in all cases. */
TFC_API tfc_node *tfc_op_finish(tfc_op_desc *d);

/* Is `type` a registered op? */
TFC_API int tfc_op_is_registered(const char *type);

/* ------------------------------------------------------------------------ */
/* Op helpers: constants, placeholders, identity, grouping                  */
/* ------------------------------------------------------------------------ */

/* A constant holding a copy of `t` (the caller keeps its reference). */
TFC_API tfc_output tfc_const(tfc_graph *g, const tfc_tensor *t);
TFC_API tfc_output tfc_const_float(tfc_graph *g, float v);
TFC_API tfc_output tfc_const_double(tfc_graph *g, double v);
TFC_API tfc_output tfc_const_int32(tfc_graph *g, int32_t v);
TFC_API tfc_output tfc_const_int64(tfc_graph *g, int64_t v);
TFC_API tfc_output tfc_const_bool(tfc_graph *g, int v);
/* A constant of any type and shape from user memory (copied). */
TFC_API tfc_output tfc_const_data(tfc_graph *g, tfc_dtype dtype, int rank, const int64_t *dims,
                                  const void *data);
/* A 1-D int32 constant, handy for shapes and axes. */
TFC_API tfc_output tfc_const_ints(tfc_graph *g, const int32_t *v, int n);
/* A placeholder to be fed at run time; dims may hold -1 (unknown); rank -1
 * means unknown rank. Running without feeding it is an error naming it.
 * Any other negative dim (here and in every shape attr given to the
 * builder) is an error naming the node. */
TFC_API tfc_output tfc_placeholder(tfc_graph *g, const char *name, tfc_dtype dtype, int rank,
                                   const int64_t *dims);
/* tf.placeholder_with_default (op PlaceholderWithDefault): a placeholder
 * that need not be fed; a run that does not feed it passes `input`
 * through. Its static shape is `rank`/`dims` (-1 entries unknown; rank -1:
 * unknown rank), which must be compatible with input's and may be less
 * specific, so feeds of other sizes fit: a [2, 3] default under dims
 * {-1, 3}. name NULL: "PlaceholderWithDefault". A default that does not fit
 * fails the build (or the run, when its shape is known only then), naming
 * the node. The gradient passes through to `input`. */
TFC_API tfc_output tfc_placeholder_with_default(tfc_graph *g, const char *name,
                                                tfc_output input, int rank, const int64_t *dims);
TFC_API tfc_output tfc_identity(tfc_graph *g, tfc_output x);
/* Returns `x`'s gradient as zero during differentiation (tf.stop_gradient). */
TFC_API tfc_output tfc_stop_gradient(tfc_graph *g, tfc_output x);
/* A node that does nothing, after its control inputs (tf.no_op). */
TFC_API tfc_node *tfc_no_op(tfc_graph *g);
/* A NoOp that runs after all `nodes` (tf.group). */
TFC_API tfc_node *tfc_group(tfc_graph *g, tfc_node *const *nodes, int n);

/* ------------------------------------------------------------------------ */
/* Op helpers: math (element-wise ops broadcast as NumPy does)              */
/* ------------------------------------------------------------------------ */

TFC_API tfc_output tfc_add(tfc_graph *g, tfc_output a, tfc_output b);
TFC_API tfc_output tfc_sub(tfc_graph *g, tfc_output a, tfc_output b);
TFC_API tfc_output tfc_mul(tfc_graph *g, tfc_output a, tfc_output b);
/* Integer division truncates toward zero; dividing by zero, like an integer
 * raised to a negative power, fails at run time naming the node. Integer
 * arithmetic wraps on overflow. */
TFC_API tfc_output tfc_div(tfc_graph *g, tfc_output a, tfc_output b);
TFC_API tfc_output tfc_pow(tfc_graph *g, tfc_output a, tfc_output b);
TFC_API tfc_output tfc_maximum(tfc_graph *g, tfc_output a, tfc_output b);
TFC_API tfc_output tfc_minimum(tfc_graph *g, tfc_output a, tfc_output b);
TFC_API tfc_output tfc_squared_difference(tfc_graph *g, tfc_output a, tfc_output b);
TFC_API tfc_output tfc_neg(tfc_graph *g, tfc_output x);
TFC_API tfc_output tfc_abs(tfc_graph *g, tfc_output x);
TFC_API tfc_output tfc_sign(tfc_graph *g, tfc_output x);
TFC_API tfc_output tfc_square(tfc_graph *g, tfc_output x);
TFC_API tfc_output tfc_sqrt(tfc_graph *g, tfc_output x);
TFC_API tfc_output tfc_rsqrt(tfc_graph *g, tfc_output x);
TFC_API tfc_output tfc_reciprocal(tfc_graph *g, tfc_output x);
TFC_API tfc_output tfc_exp(tfc_graph *g, tfc_output x);
TFC_API tfc_output tfc_log(tfc_graph *g, tfc_output x);
/* Comparisons give TFC_BOOL. */
TFC_API tfc_output tfc_greater(tfc_graph *g, tfc_output a, tfc_output b);
TFC_API tfc_output tfc_greater_equal(tfc_graph *g, tfc_output a, tfc_output b);
TFC_API tfc_output tfc_less(tfc_graph *g, tfc_output a, tfc_output b);
TFC_API tfc_output tfc_less_equal(tfc_graph *g, tfc_output a, tfc_output b);
TFC_API tfc_output tfc_equal(tfc_graph *g, tfc_output a, tfc_output b);
TFC_API tfc_output tfc_not_equal(tfc_graph *g, tfc_output a, tfc_output b);
TFC_API tfc_output tfc_logical_and(tfc_graph *g, tfc_output a, tfc_output b);
TFC_API tfc_output tfc_logical_or(tfc_graph *g, tfc_output a, tfc_output b);
TFC_API tfc_output tfc_logical_not(tfc_graph *g, tfc_output x);
/* Elementwise choice: cond ? a : b, TensorFlow 1's Select: a and b of one
 * shape; cond (bool) of that shape, a vector over its dim 0, or a scalar. */
TFC_API tfc_output tfc_select(tfc_graph *g, tfc_output cond, tfc_output a, tfc_output b);
/* tf.where with one argument (op Where): the coordinates of the true
 * elements of `condition` (bool, or a number type where nonzero is true),
 * as an int64 matrix [n, rank], one row per element in row-major order.
 * Not differentiable. */
TFC_API tfc_output tfc_where(tfc_graph *g, tfc_output condition);
/* Converts to `dtype`. Float to integer truncates toward zero and saturates
 * out of range (NaN gives the minimum; 0 for uint8); integer narrowing
 * wraps; to bool is "!= 0". */
TFC_API tfc_output tfc_cast(tfc_graph *g, tfc_output x, tfc_dtype dtype);
/* Sum of any number of tensors of one shape and type (tf.add_n). */
TFC_API tfc_output tfc_add_n(tfc_graph *g, const tfc_output *xs, int n);
/* Matrix product of rank-2 tensors, through CBLAS. */
TFC_API tfc_output tfc_matmul(tfc_graph *g, tfc_output a, tfc_output b);
TFC_API tfc_output tfc_matmul_ex(tfc_graph *g, tfc_output a, tfc_output b, int transpose_a,
                                 int transpose_b);
/* The inverse of each square matrix of `x` [..., M, M], float32 or float64
 * (tf.linalg.inv, op MatrixInverse, through LAPACK's LU); `adjoint` nonzero
 * inverts each matrix's transpose instead. A matrix with an exact zero
 * pivot is a run-time error, "Input is not invertible.", naming the node.
 * The gradient is -A^-T dY A^-T (-Y dY^T Y with adjoint). */
TFC_API tfc_output tfc_matrix_inverse(tfc_graph *g, tfc_output x, int adjoint);
/* The determinant of each square matrix of `x` [..., M, M]: shape [...]
 * (tf.linalg.det, op MatrixDeterminant, through LAPACK's LU); 0 for a
 * singular matrix, 1 for an empty one. The gradient is dY det(A) A^-T,
 * which fails at run time where A is singular, as in TensorFlow. */
TFC_API tfc_output tfc_matrix_determinant(tfc_graph *g, tfc_output x);

/* Reductions over `axes` (negative axes count from the end); axes NULL with
 * naxes 0 reduces over all dimensions. keep_dims keeps reduced dims as 1.
 * Differentiable, also when x's rank is unknown or the op (built with
 * tfc_op_new) takes its axes from a tensor computed or fed at run time. */
TFC_API tfc_output tfc_reduce_sum(tfc_graph *g, tfc_output x, const int32_t *axes, int naxes,
                                  int keep_dims);
TFC_API tfc_output tfc_reduce_mean(tfc_graph *g, tfc_output x, const int32_t *axes, int naxes,
                                   int keep_dims);
TFC_API tfc_output tfc_reduce_max(tfc_graph *g, tfc_output x, const int32_t *axes, int naxes,
                                  int keep_dims);
TFC_API tfc_output tfc_reduce_min(tfc_graph *g, tfc_output x, const int32_t *axes, int naxes,
                                  int keep_dims);
TFC_API tfc_output tfc_reduce_prod(tfc_graph *g, tfc_output x, const int32_t *axes, int naxes,
                                   int keep_dims);
/* Index of the largest/smallest element along `axis`, as TFC_INT64. */
TFC_API tfc_output tfc_argmax(tfc_graph *g, tfc_output x, int axis);
TFC_API tfc_output tfc_argmin(tfc_graph *g, tfc_output x, int axis);

/* ------------------------------------------------------------------------ */
/* Op helpers: arrays                                                       */
/* ------------------------------------------------------------------------ */

/* One dim of `dims` may be -1: it is inferred from the element count. */
TFC_API tfc_output tfc_reshape(tfc_graph *g, tfc_output x, int rank, const int64_t *dims);
/* Reshape to a shape computed in the graph (a 1-D int32 or int64 tensor). */
TFC_API tfc_output tfc_reshape_to(tfc_graph *g, tfc_output x, tfc_output shape);
/* perm NULL reverses the dimensions (x's rank must then be known). */
TFC_API tfc_output tfc_transpose(tfc_graph *g, tfc_output x, const int32_t *perm, int n);
TFC_API tfc_output tfc_concat(tfc_graph *g, const tfc_output *values, int n, int axis);
/* size[i] == -1 takes everything from begin[i] to the end. */
TFC_API tfc_output tfc_slice(tfc_graph *g, tfc_output x, const int64_t *begin,
                             const int64_t *size, int rank);
/* tf.strided_slice (op StridedSlice): numpy's basic indexing, x[b:e:s, ...].
 * begin, end and strides are int32 or int64 vectors of one length n < 32
 * (constants, or computed or fed: bounds then apply at run time); strides
 * {NULL, 0} means all ones. Entry i is the i-th index of the key, and bit
 * i of each mask changes it as in TensorFlow: begin_mask / end_mask ignore
 * begin[i] / end[i] (the whole range), ellipsis_mask (one bit at most)
 * stands for as many full dims as needed, new_axis_mask inserts a dim of
 * 1, shrink_axis_mask takes the element at begin[i] and drops the dim (x[3]).
 * Without an ellipsis, dims after the last entry are taken whole. Bounds
 * work as Python's: negative ones count from the end, out-of-range ones
 * clamp, a negative stride walks backwards. A zero stride, a shrunk index
 * out of range, more entries than dims or two ellipses fail, at build time
 * when the values are known, naming the node. Differentiable w.r.t. x
 * (op StridedSliceGrad, whose gradient is again a StridedSlice). */
TFC_API tfc_output tfc_strided_slice(tfc_graph *g, tfc_output x, tfc_output begin,
                                     tfc_output end, tfc_output strides, int begin_mask,
                                     int end_mask, int ellipsis_mask, int new_axis_mask,
                                     int shrink_axis_mask);
/* Splits `x` into `num` equal parts along `axis`; writes `num` outputs.
 * Returns 0, or -1 (outputs null) with the error recorded on the graph. */
TFC_API int tfc_split(tfc_graph *g, tfc_output x, int num, int axis, tfc_output *outs);
/* Stacks `n` tensors of one shape along a new axis (tf.stack, op Pack). */
TFC_API tfc_output tfc_stack(tfc_graph *g, const tfc_output *values, int n, int axis);
/* Unstacks `x` along `axis` into `num` outputs (tf.unstack, op Unpack).
 * Returns 0, or -1 (outputs null) with the error recorded on the graph. */
TFC_API int tfc_unstack(tfc_graph *g, tfc_output x, int num, int axis, tfc_output *outs);
TFC_API tfc_output tfc_expand_dims(tfc_graph *g, tfc_output x, int axis);
/* Removes the given size-1 axes, or all size-1 axes when naxes is 0. */
TFC_API tfc_output tfc_squeeze(tfc_graph *g, tfc_output x, const int32_t *axes, int naxes);
/* Repeats `x` multiples[i] times along dim i. */
TFC_API tfc_output tfc_tile(tfc_graph *g, tfc_output x, tfc_output multiples);
TFC_API tfc_output tfc_shape_of(tfc_graph *g, tfc_output x); /* tf.shape, int32 */
TFC_API tfc_output tfc_rank(tfc_graph *g, tfc_output x);
TFC_API tfc_output tfc_size(tfc_graph *g, tfc_output x);
/* A tensor of shape `dims` (1-D int32) filled with the scalar `value`. */
TFC_API tfc_output tfc_fill(tfc_graph *g, tfc_output dims, tfc_output value);
TFC_API tfc_output tfc_zeros(tfc_graph *g, tfc_dtype dtype, int rank, const int64_t *dims);
TFC_API tfc_output tfc_ones(tfc_graph *g, tfc_dtype dtype, int rank, const int64_t *dims);
TFC_API tfc_output tfc_zeros_like(tfc_graph *g, tfc_output x);
TFC_API tfc_output tfc_ones_like(tfc_graph *g, tfc_output x);
/* One-hot vectors of `depth` (float32) for int indices (tf.one_hot). */
TFC_API tfc_output tfc_one_hot(tfc_graph *g, tfc_output indices, int depth, float on_value,
                               float off_value);
/* tf.dynamic_stitch: merged[indices[m][i], ...] = data[m][i, ...] for the
 * n pairs (int32 indices of any shape; data[m] shaped indices[m].shape + S,
 * one S for all). The result is [max index + 1] + S; at a repeated index
 * the last (m, i) wins; rows no index names are zeros. A negative index or
 * a shape mismatch fails (at build time when the values are known, else
 * at run time), naming the node. Differentiable w.r.t. data. */
TFC_API tfc_output tfc_dynamic_stitch(tfc_graph *g, const tfc_output *indices,
                                      const tfc_output *data, int n);
/* tf.floordiv (floor(x / y)) and tf.floormod (x - floor(x / y) * y, the
 * sign of y; Python's // and %), broadcasting; float32/64, int32/64, uint8.
 * Integer division by zero fails at run time naming the node. floormod is
 * differentiable, floordiv has no gradient (it is piecewise constant). */
TFC_API tfc_output tfc_floordiv(tfc_graph *g, tfc_output x, tfc_output y);
TFC_API tfc_output tfc_floormod(tfc_graph *g, tfc_output x, tfc_output y);

/* ------------------------------------------------------------------------ */
/* Op helpers: neural networks                                              */
/* ------------------------------------------------------------------------ */

TFC_API tfc_output tfc_relu(tfc_graph *g, tfc_output x);
TFC_API tfc_output tfc_sigmoid(tfc_graph *g, tfc_output x);
TFC_API tfc_output tfc_tanh(tfc_graph *g, tfc_output x);
/* Softmax and log-softmax over the last dimension. */
TFC_API tfc_output tfc_softmax(tfc_graph *g, tfc_output logits);
TFC_API tfc_output tfc_log_softmax(tfc_graph *g, tfc_output logits);
/* Adds a 1-D bias to the last dimension of `x`. */
TFC_API tfc_output tfc_bias_add(tfc_graph *g, tfc_output x, tfc_output bias);
/* Per-example loss [batch] of softmax over the last dim of `logits`
 * [batch, classes] against probability `labels` of the same shape.
 * Numerically stable for large logits. */
TFC_API tfc_output tfc_softmax_cross_entropy_with_logits(tfc_graph *g, tfc_output labels,
                                                         tfc_output logits);
/* As above with int32/int64 class `labels` [batch]. A label out of range is
 * a run-time error. */
TFC_API tfc_output tfc_sparse_softmax_cross_entropy_with_logits(tfc_graph *g,
                                                                tfc_output labels,
                                                                tfc_output logits);
/* tf.nn.top_k (op TopKV2): the k largest entries of each row (last dim) of
 * `input` (float32/64, int32/64, uint8), largest first; equal values in
 * the order of their index, as TensorFlow's; NaN ranks above all numbers.
 * Returns the values [..., k]; `indices` (may be NULL) gets their int32
 * positions in the row. k < 0 or above the row length fails, naming the
 * node. Differentiable w.r.t. input: each value's gradient goes back to
 * its position. */
TFC_API tfc_output tfc_top_k(tfc_graph *g, tfc_output input, int k, tfc_output *indices);
/* tf.nn.in_top_k (op InTopKV2): bool [batch], whether targets[b] (int32 or
 * int64) is among the k largest of predictions[b, :] (float32 [batch,
 * classes]): fewer than k classes predicted strictly higher, so ties count
 * in its favour. A target out of range or a row with a non-finite
 * prediction gives false, as in TensorFlow. Not differentiable. */
TFC_API tfc_output tfc_in_top_k(tfc_graph *g, tfc_output predictions, tfc_output targets,
                                int k);

/* ------------------------------------------------------------------------ */
/* Op helpers: random numbers                                               */
/* ------------------------------------------------------------------------ */

/* Random tensors of a static shape. `seed` 0 means: derive the op seed from
 * the graph seed (tfc_graph_set_seed) when one is set, else from the clock.
 * The same graph seed and op seeds give the same values in every run of a
 * fresh session; each run of one session draws new values. dtype is
 * TFC_FLOAT or TFC_DOUBLE; a bad dtype or dim fails the build. Truncated
 * normals re-draw values more than 2 stddev from the mean; uniform values
 * lie in [minval, maxval) (up to rounding, as in TensorFlow). */
TFC_API tfc_output tfc_random_normal(tfc_graph *g, tfc_dtype dtype, int rank,
                                     const int64_t *dims, double mean, double stddev,
                                     int64_t seed);
TFC_API tfc_output tfc_truncated_normal(tfc_graph *g, tfc_dtype dtype, int rank,
                                        const int64_t *dims, double mean, double stddev,
                                        int64_t seed);
TFC_API tfc_output tfc_random_uniform(tfc_graph *g, tfc_dtype dtype, int rank,
                                      const int64_t *dims, double minval, double maxval,
                                      int64_t seed);
/* `value` with its rows (dim 0) in a random order (tf.random_shuffle, op
 * RandomShuffle), any dtype and shape; a scalar or a single row comes out
 * unchanged. `seed` follows the rules above: each run draws a new order,
 * and fresh sessions with the same seeds draw the same orders. No
 * gradient, as in TensorFlow. */
TFC_API tfc_output tfc_random_shuffle(tfc_graph *g, tfc_output value, int64_t seed);
/* tf.multinomial (op Multinomial, in scope "multinomial"): num_samples
 * class indices per row of `logits` (float32/64 [batch, classes]), drawn
 * with probabilities softmax(row); a non-finite logit has probability 0.
 * Result [batch, num_samples] of `output_dtype`, TFC_INT64 (TensorFlow's
 * default) or TFC_INT32. `seed` follows the rules above. No classes, or
 * num_samples < 0, fails naming the node. No gradient, as in TensorFlow. */
TFC_API tfc_output tfc_multinomial(tfc_graph *g, tfc_output logits, int num_samples,
                                   int64_t seed, tfc_dtype output_dtype);

/* ------------------------------------------------------------------------ */
/* Strings                                                                  */
/* ------------------------------------------------------------------------ */

/* A TFC_STRING tensor holds byte strings of any bytes (NULs included) and
 * any length, at any rank, as TensorFlow's DT_STRING. Its elements read as
 * tfc_string views: tfc_tensor_data() of a string tensor points at
 * num_elements of them, valid as long as the tensor, never to be written
 * (`data` may be NULL when `len` is 0). The bytes live in the tensor's own
 * storage: a kernel or a copy never shares them with another tensor.
 *
 *   tfc_tensor_new(TFC_STRING, ...)        every element ""
 *   tfc_tensor_from_data(TFC_STRING, rank, dims, const tfc_string *views)
 *                                          copies each view's bytes once,
 *                                          into one block
 *   tfc_tensor_copy                        a deep copy
 *
 * Feeds, fetches, constants, placeholders, variables and the array ops that
 * move elements (Identity, Reshape, ExpandDims, Squeeze, ConcatV2, Gather,
 * GatherV2, Slice, Pack, Unpack, Split, Tile, Transpose, Fill, Shape, Size,
 * Rank, Assign) take string tensors; any other op given one fails at build
 * time naming the node and the input. */
typedef struct tfc_string {
    const char *data;
    size_t len;
} tfc_string;

/* A string tensor from n = prod(dims) C arrays: element i is strs[i]'s
 * lens[i] bytes (lens NULL: strs are NUL-terminated). The bytes are copied
 * once. NULL for a bad shape or a NULL string. Caller owns the tensor. */
TFC_API tfc_tensor *tfc_tensor_from_strings(int rank, const int64_t *dims,
                                            const char *const *strs, const size_t *lens);
/* A scalar string tensor holding `len` bytes of `s` (len (size_t)-1: s is
 * NUL-terminated). */
TFC_API tfc_tensor *tfc_tensor_scalar_string(const char *s, size_t len);
/* Sets element i of string tensor t to `len` bytes (copied). Only for a
 * tensor the caller just made and holds alone (not one fetched or fed).
 * 0, or -1 when t is not a string tensor, i is out of range or memory
 * runs out. */
TFC_API int tfc_string_tensor_set(tfc_tensor *t, int64_t i, const void *bytes, size_t len);
/* Element i of string tensor t: its bytes (owned by t, not NUL-terminated
 * in general) and, in *len, their count. NULL (and *len 0) when t is not
 * a string tensor or i is out of range; "" for an empty element. */
TFC_API const char *tfc_string_tensor_get(const tfc_tensor *t, int64_t i, size_t *len);

/* String constants: a scalar from a NUL-terminated string, and a tensor as
 * tfc_tensor_from_strings makes it. */
TFC_API tfc_output tfc_const_string(tfc_graph *g, const char *s);
TFC_API tfc_output tfc_const_strings(tfc_graph *g, int rank, const int64_t *dims,
                                    const char *const *strs, const size_t *lens);

/* String ops (TensorFlow's op names in quotes). Each builder fails the
 * graph naming the node when an input is not a string tensor (or not the
 * number type asked for) or a shape cannot match; run-time errors carry
 * TensorFlow's messages. */

/* tf.string_join ("StringJoin"): inputs of one shape, or scalars that
 * broadcast, joined element-wise with `separator`. */
TFC_API tfc_output tfc_string_join(tfc_graph *g, const tfc_output *inputs, int n,
                                   const char *separator);
/* tf.string_split ("StringSplit"): splits each element of a vector at any
 * byte of the scalar `delimiter` ("" splits into bytes), leaving out empty
 * tokens when skip_empty. out[0..2] = the SparseTensor's indices [n, 2]
 * int64, values [n] string, dense_shape [2] int64. */
TFC_API void tfc_string_split(tfc_graph *g, tfc_output source, tfc_output delimiter,
                              int skip_empty, tfc_output out[3]);
/* tf.strings.split ("StringSplitV2"): Python's str.split(sep, maxsplit) per
 * element: sep "" splits at runs of whitespace; maxsplit -1: no limit. */
TFC_API void tfc_string_split_v2(tfc_graph *g, tfc_output source, tfc_output sep,
                                 int64_t maxsplit, tfc_output out[3]);
/* tf.substr ("Substr", unit "BYTE"): bytes [pos, pos + len) of each element
 * (len clipped at the end; a negative pos counts from the end); pos and len
 * (int32 or int64, one shape) broadcast against the input. */
TFC_API tfc_output tfc_substr(tfc_graph *g, tfc_output input, tfc_output pos, tfc_output len);
/* tf.reduce_join ("ReduceJoin"): joins along `axes` (NULL: every axis;
 * negative axes count from the end), the first listed axis varying
 * fastest. */
TFC_API tfc_output tfc_reduce_join(tfc_graph *g, tfc_output input, const int32_t *axes,
                                   int naxes, int keep_dims, const char *separator);
/* tf.as_string ("AsString"): numbers (int32, int64, float32, float64, bool)
 * as text, printf-style: precision and width -1 for none, fill "" or one of
 * " 0-+#". */
TFC_API tfc_output tfc_as_string(tfc_graph *g, tfc_output input, int precision, int scientific,
                                 int shortest, int width, const char *fill);
/* tf.string_to_number ("StringToNumber"): out_type float32, float64, int32
 * or int64; text that is not such a number fails the run. */
TFC_API tfc_output tfc_string_to_number(tfc_graph *g, tfc_output input, tfc_dtype out_type);
/* tf.string_to_hash_bucket_fast ("StringToHashBucketFast"): Fingerprint64
 * (FarmHash) of each element modulo num_buckets, as TensorFlow. */
TFC_API tfc_output tfc_string_to_hash_bucket_fast(tfc_graph *g, tfc_output input,
                                                  int64_t num_buckets);
/* tf.decode_raw ("DecodeRaw"): each element's bytes as numbers of out_type
 * (float32, float64, int32, uint8, int64); output shape input + [count].
 * Every element must have the same length. */
TFC_API tfc_output tfc_decode_raw(tfc_graph *g, tfc_output bytes, tfc_dtype out_type,
                                  int little_endian);
/* tf.decode_csv ("DecodeCSV"): out[i] is column i of each record, typed as
 * record_defaults[i] (float32, float64, int32, int64 or string; a scalar or
 * a one-element vector gives the value of an empty field, an empty vector
 * makes the field required). 0, or -1 when the node failed. */
TFC_API int tfc_decode_csv(tfc_graph *g, tfc_output records, const tfc_output *record_defaults,
                           int n, const char *field_delim, int use_quote_delim,
                           const char *na_value, tfc_output *out);
/* tf.encode_base64 / tf.decode_base64 ("EncodeBase64", "DecodeBase64"):
 * the web-safe alphabet (- and _), '=' padding written when pad, accepted
 * when present. */
TFC_API tfc_output tfc_encode_base64(tfc_graph *g, tfc_output input, int pad);
TFC_API tfc_output tfc_decode_base64(tfc_graph *g, tfc_output input);
/* tf.io.read_file ("ReadFile"): a file's bytes. tf.io.write_file ("WriteFile"):
 * writes them, making missing directories. tf.matching_files
 * ("MatchingFiles"): the sorted paths matching glob patterns (a scalar or
 * a vector); none is an empty vector. Never folded into constants. */
TFC_API tfc_output tfc_io_read_file(tfc_graph *g, tfc_output filename);
TFC_API tfc_node *tfc_io_write_file(tfc_graph *g, tfc_output filename, tfc_output contents);
TFC_API tfc_output tfc_matching_files(tfc_graph *g, tfc_output pattern);

/* ------------------------------------------------------------------------ */
/* Images                                                                   */
/* ------------------------------------------------------------------------ */

/* TensorFlow's image codecs (libpng, libjpeg). An image is a [height,
 * width, channels] tensor; its encoded form a string scalar. As in
 * TensorFlow, the two decoders look at the data's first bytes and decode a
 * PNG, a JPEG or a GIF whichever op is asked (a GIF of one frame only,
 * except for DecodeGif and DecodeImage); BMP data only DecodeBmp and
 * DecodeImage take, and DecodeBmp nothing else. Corrupt or truncated data fails the run with
 * INVALID_ARGUMENT and TensorFlow's message ("Invalid PNG data, size N",
 * "Invalid JPEG data or crop window, data size N"), naming the node. Bad
 * attrs fail the builder, naming the node. None has a gradient. */

/* tf.image.decode_png ("DecodePng"): channels 0 (the image's own: 1 gray,
 * 2 gray + alpha, 3 RGB, 4 RGBA; a palette gives 3, or 4 with
 * transparency), 1 (BT.601 luma), 3 or 4 (an added alpha is opaque);
 * dtype TFC_UINT8 (16-bit samples keep their high byte) or TFC_UINT16
 * (8-bit samples v become v * 257). */
TFC_API tfc_output tfc_image_decode_png(tfc_graph *g, tfc_output contents, int channels,
                                        tfc_dtype dtype);
/* tf.image.encode_png ("EncodePng"): a uint8 or uint16 image of 1 to 4
 * channels; compression -1 (zlib's default) or 0 to 9. */
TFC_API tfc_output tfc_image_encode_png(tfc_graph *g, tfc_output image, int compression);
/* tf.image.decode_jpeg ("DecodeJpeg"): channels 0 (the JPEG's own, 1 or 3;
 * CMYK is refused), 1 or 3; ratio 1, 2, 4 or 8 downscales while decoding;
 * dct_method NULL or "" (TensorFlow's default, "INTEGER_FAST") or
 * "INTEGER_ACCURATE". The op's other attrs (fancy_upscaling true,
 * try_recover_truncated false, acceptable_fraction 1) take TensorFlow's
 * defaults; set them with tfc_op_new. Output uint8. */
TFC_API tfc_output tfc_image_decode_jpeg(tfc_graph *g, tfc_output contents, int channels,
                                         int ratio, const char *dct_method);
/* tf.image.encode_jpeg ("EncodeJpeg"): a uint8 image of 1 or 3 channels;
 * format NULL or "" (from the channels), "grayscale" or "rgb"; quality 0
 * to 100 (TensorFlow's default 95). The other attrs (progressive,
 * optimize_size, chroma_downsampling, density_unit, x_density, y_density,
 * xmp_metadata) take TensorFlow's defaults; set them with tfc_op_new. */
TFC_API tfc_output tfc_image_encode_jpeg(tfc_graph *g, tfc_output image, const char *format,
                                         int quality);
/* tf.io.decode_gif ("DecodeGif", giflib): uint8 [frames, height, width, 3],
 * each frame drawn over the one before (its transparent pixels keep what
 * was there), the first over black. Bad data: "Invalid GIF data (size N),
 * <giflib's reason>". */
TFC_API tfc_output tfc_image_decode_gif(tfc_graph *g, tfc_output contents);
/* tf.io.decode_bmp ("DecodeBmp"): 24- or 32-bit BGR(A) or 8-bit BMPs,
 * bottom-up or top-down (negative height), the file exactly the header and
 * the 4-byte-padded rows, as TensorFlow reads them; channels 0 (the file's
 * own), 3 or 4 (an added alpha is 255). Output uint8 [height, width, c]. */
TFC_API tfc_output tfc_image_decode_bmp(tfc_graph *g, tfc_output contents, int channels);
/* tf.io.decode_image ("DecodeImage"): any of the four formats; channels
 * 0, 1, 3 or 4 (each format's limits apply); dtype TFC_UINT8, TFC_UINT16
 * (8-bit v * 256) or TFC_FLOAT (v / 255, or / 65535 for 16-bit PNGs); an
 * animated GIF gives [frames, h, w, 3] with expand_animations, else its
 * first frame. Its rank is known only when it runs. */
TFC_API tfc_output tfc_image_decode_image(tfc_graph *g, tfc_output contents, int channels,
                                          tfc_dtype dtype, int expand_animations);

/* ------------------------------------------------------------------------ */
/* Audio                                                                    */
/* ------------------------------------------------------------------------ */

/* WAV as TensorFlow's audio ops read and write it: RIFF, 16-bit PCM,
 * little-endian; a sample x is stored as round(x * 32768) clamped to
 * [-32768, 32767] and read back as v / 32768. */

/* tf.audio.encode_wav ("EncodeWav"): float audio [frames, channels] and an
 * int32 scalar sample rate -> the WAV file's bytes (a string scalar). */
TFC_API tfc_output tfc_audio_encode_wav(tfc_graph *g, tfc_output audio, tfc_output sample_rate);
/* tf.audio.decode_wav ("DecodeWav"): out[0] float audio [samples,
 * channels], out[1] the int32 sample rate. desired_channels -1 keeps the
 * file's (fewer drop the rest, more repeat the last); desired_samples -1
 * keeps the file's length (else cut or padded with zeros). Only 16-bit PCM;
 * bad data fails the run with TensorFlow's message naming the node. 0 or
 * -1 (the graph's error). */
TFC_API int tfc_audio_decode_wav(tfc_graph *g, tfc_output contents, int desired_channels,
                                 int desired_samples, tfc_output out[2]);

/* ------------------------------------------------------------------------ */
/* Tensors as TensorProto bytes                                             */
/* ------------------------------------------------------------------------ */

/* tf.io.serialize_tensor ("SerializeTensor", attr T): a string scalar
 * holding `tensor` as a serialized TensorProto, the bytes TensorFlow
 * writes: string tensors one value per string_val, every other dtype as
 * tensor_content. Any dtype but TFC_RESOURCE. */
TFC_API tfc_output tfc_serialize_tensor(tfc_graph *g, tfc_output tensor);
/* tf.io.parse_tensor ("ParseTensor", attr out_type): the tensor a
 * serialized TensorProto (a string scalar) holds, from tensor_content or
 * the typed value fields (float_val, int_val, ..., string_val; fewer values
 * than elements repeat the last, none gives zeros). Its shape is known
 * only when the op runs. The run fails with INVALID_ARGUMENT naming the
 * node when the bytes are not a TensorProto, hold another dtype than
 * out_type ("Type mismatch between parsed tensor (int32) and dtype
 * (float32)") or a value that does not fit the shape. */
TFC_API tfc_output tfc_parse_tensor(tfc_graph *g, tfc_output serialized, tfc_dtype out_type);

/* ------------------------------------------------------------------------ */
/* Mutexes                                                                  */
/* ------------------------------------------------------------------------ */

/* TensorFlow's mutex ops ("MutexV2", "MutexLock", "ConsumeMutexLock"),
 * which express a critical section in a graph:
 *
 *   tfc_output m = tfc_mutex(g, "m", NULL);
 *   tfc_output lock = tfc_mutex_lock(g, m);
 *   tfc_control_dependencies_push(g, &lock.node, 1);
 *   ... the section's ops (they run while the mutex is held) ...
 *   tfc_control_dependencies_pop(g);
 *   tfc_control_dependencies_push(g, section_ops, n);
 *   tfc_node *done = tfc_consume_mutex_lock(g, lock);   run this as a target
 *   tfc_control_dependencies_pop(g);
 *
 * The mutex belongs to the session running its MutexV2 (made at its first
 * run; shared_name non-empty: one per name in the session). MutexLock
 * outputs the lock, a TFC_RESOURCE scalar standing for TensorFlow's
 * variant lock: the mutex is released when the last copy of that tensor is
 * freed, which the executor does after its last consumer
 * (ConsumeMutexLock) has run. A fetched lock holds the mutex until the
 * caller frees it. A MutexLock that finds the mutex held waits without
 * holding a thread, so one run may hold several sections in turn even on
 * a one-thread session; a run waiting on it ends with DEADLINE_EXCEEDED
 * when its timeout_in_ms passes and with CANCELLED when the session
 * closes. ConsumeMutexLock fails (INVALID_ARGUMENT) when its input is not
 * a lock or another copy of it is held elsewhere, as TensorFlow's does.
 * None of these ops has a gradient. */
TFC_API tfc_output tfc_mutex(tfc_graph *g, const char *name, const char *shared_name);
TFC_API tfc_output tfc_mutex_lock(tfc_graph *g, tfc_output mutex);
TFC_API tfc_node *tfc_consume_mutex_lock(tfc_graph *g, tfc_output mutex_lock);

/* ------------------------------------------------------------------------ */
/* Queues                                                                   */
/* ------------------------------------------------------------------------ */

/* TensorFlow's queues (tf.FIFOQueue, tf.PaddingFIFOQueue,
 * tf.RandomShuffleQueue, tf.PriorityQueue; ops FIFOQueueV2, ...): each
 * builder adds the op that makes the queue and returns its handle, a
 * TFC_RESOURCE scalar. The queue itself belongs to the session running the
 * op (made at its first run, one per session, as a variable's value), so
 * two sessions on one graph have separate queues. An element is a tuple of
 * n tensors of the given dtypes; `shapes` (NULL: unknown; else n shapes,
 * rank -1 for an unknown one, -1 for an unknown dim) are checked on every
 * enqueue. capacity < 0: unbounded. shared_name (NULL or "": none) names
 * the queue in messages and shares it, as TensorFlow does: queue nodes of
 * one session with the same shared_name (and "container" attr) use one
 * queue, made by whichever runs first; a node whose kind, capacity,
 * dtypes or shapes differ from that queue's fails when it runs
 * ("Shared queue 'q' has capacity 10 but requested capacity was 20").
 *
 * Enqueues wait while the queue is full and dequeues while it is empty,
 * without holding a thread: a session with one thread runs its other
 * ready nodes meanwhile, so a dequeue and the enqueue that feeds it may
 * sit in one run. Closed and empty, a dequeue fails with OUT_OF_RANGE
 * ("FIFOQueue 'q' is closed and has insufficient elements (requested 1,
 * current size 0)"); an enqueue into a closed queue with CANCELLED. A run
 * blocked in them ends with DEADLINE_EXCEEDED when its timeout_in_ms
 * (tfc_run_options) passes, with CANCELLED when the session closes, and
 * with the other error when another node of the run fails. Dtype and shape
 * errors name the queue and the component, at build time when the handle
 * comes from a queue builder, else when the op runs. */

/* A queue with dequeue order of arrival. Its dequeue_many needs every
 * shape fully defined. */
TFC_API tfc_output tfc_fifo_queue(tfc_graph *g, int64_t capacity, const tfc_dtype *dtypes,
                                  int n, const tfc_shape *shapes, const char *shared_name);
/* A FIFO queue whose dequeue_many pads each component to the largest
 * element's shape (zeros, or "" for strings); shapes are required, of
 * known rank, -1 where the size varies. */
TFC_API tfc_output tfc_padding_fifo_queue(tfc_graph *g, int64_t capacity,
                                          const tfc_dtype *dtypes, int n,
                                          const tfc_shape *shapes, const char *shared_name);
/* Dequeues a uniformly chosen element, keeping at least min_after_dequeue
 * until closed. The order is fixed by `seed` and the graph seed as for
 * random ops (seed 0 and no graph seed: by the session's seed option,
 * else random). */
TFC_API tfc_output tfc_random_shuffle_queue(tfc_graph *g, int64_t capacity,
                                            int64_t min_after_dequeue, const tfc_dtype *dtypes,
                                            int n, const tfc_shape *shapes, int64_t seed,
                                            const char *shared_name);
/* Dequeues the element of the smallest priority first. An element is an
 * int64 scalar priority followed by n components (shapes required); a
 * dequeue gives the priority first too. */
TFC_API tfc_output tfc_priority_queue(tfc_graph *g, int64_t capacity, const tfc_dtype *dtypes,
                                      int n, const tfc_shape *shapes, const char *shared_name);
/* q.enqueue(components) ("QueueEnqueueV2"): one element of n components. */
TFC_API tfc_node *tfc_queue_enqueue(tfc_graph *g, tfc_output q, const tfc_output *components,
                                    int n);
/* q.enqueue_many ("QueueEnqueueManyV2"): each row (along dim 0, of one
 * size in every component) is an element. */
TFC_API tfc_node *tfc_queue_enqueue_many(tfc_graph *g, tfc_output q,
                                         const tfc_output *components, int n);
/* q.dequeue ("QueueDequeueV2"): out[0..k) receive the k components (room
 * for max); returns k, or -1 when the node failed. */
TFC_API int tfc_queue_dequeue(tfc_graph *g, tfc_output q, tfc_output *out, int max);
/* q.dequeue_many(n) ("QueueDequeueManyV2"): n elements stacked along a new
 * dim 0. q.dequeue_up_to ("QueueDequeueUpToV2"): as many, or fewer once
 * the queue is closed (OUT_OF_RANGE when it is closed and empty). */
TFC_API int tfc_queue_dequeue_many(tfc_graph *g, tfc_output q, int32_t n, tfc_output *out,
                                   int max);
TFC_API int tfc_queue_dequeue_up_to(tfc_graph *g, tfc_output q, int32_t n, tfc_output *out,
                                    int max);
/* q.close ("QueueCloseV2"): no more enqueues. Without
 * cancel_pending_enqueues it waits for the enqueues already waiting; with
 * it, they fail (CANCELLED). */
TFC_API tfc_node *tfc_queue_close(tfc_graph *g, tfc_output q, int cancel_pending_enqueues);
/* q.size() ("QueueSizeV2", int32) and q.is_closed() ("QueueIsClosedV2",
 * bool). */
TFC_API tfc_output tfc_queue_size(tfc_graph *g, tfc_output q);
TFC_API tfc_output tfc_queue_is_closed(tfc_graph *g, tfc_output q);

/* tf.train.Coordinator: a stop flag for threads, the first error one of
 * them reported, and threads it starts and joins. Every thread it started
 * is joined, at the latest by tfc_coordinator_free (which asks for a stop
 * first). Usual end of a pipeline: tfc_coordinator_request_stop, then
 * tfc_coordinator_join, then tfc_session_close (or free), then
 * tfc_coordinator_free. */
typedef struct tfc_coordinator tfc_coordinator;
typedef void (*tfc_coordinator_fn)(void *arg, tfc_coordinator *coord);
/* NULL when memory runs out. */
TFC_API tfc_coordinator *tfc_coordinator_new(void);
TFC_API void tfc_coordinator_free(tfc_coordinator *c);
/* Asks every thread to stop. `error` (NULL, OK or OUT_OF_RANGE: a clean
 * stop) is kept when it is the first error; join returns it. */
TFC_API void tfc_coordinator_request_stop(tfc_coordinator *c, const tfc_status *error);
TFC_API int tfc_coordinator_should_stop(tfc_coordinator *c);
/* Waits for a stop request, at most timeout_ms (< 0: no limit); returns
 * whether one came. */
TFC_API int tfc_coordinator_wait_for_stop(tfc_coordinator *c, int64_t timeout_ms);
/* Runs fn(arg, c) in a new thread named `name` (for messages). 0 or -1. */
TFC_API int tfc_coordinator_start_thread(tfc_coordinator *c, const char *name,
                                         tfc_coordinator_fn fn, void *arg);
/* Waits until every thread ended, or until a stop was asked for and then
 * at most stop_grace_period_ms more. 0; or -1 with `status` holding the
 * first error a thread reported, or DEADLINE_EXCEEDED "Coordinator stopped
 * with threads still running: <names>" (those are joined by
 * tfc_coordinator_free). */
TFC_API int tfc_coordinator_join(tfc_coordinator *c, int64_t stop_grace_period_ms,
                                 tfc_status *status);
/* Whether a thread reported an error (copied into `status`). */
TFC_API int tfc_coordinator_error(tfc_coordinator *c, tfc_status *status);

/* tf.train.add_queue_runner(tf.train.QueueRunner(queue, enqueue_ops)):
 * records in the graph's collections that the n enqueue ops feed `queue`,
 * each from its own thread. close_op and cancel_op may be NULL: the
 * queue's close, without and with cancel_pending_enqueues, are made. 0, or
 * -1 with the error on the graph. A MetaGraph (tfc_export_meta_graph, a
 * saver's .meta) holds the runners as TensorFlow's QueueRunnerDefs in its
 * "queue_runners" collection, and tfc_import_meta_graph makes them again,
 * ready for tfc_start_queue_runners. */
TFC_API int tfc_add_queue_runner(tfc_graph *g, tfc_output queue, tfc_node *const *enqueue_ops,
                                 int n, tfc_node *close_op, tfc_node *cancel_op);
TFC_API int tfc_graph_num_queue_runners(const tfc_graph *g);
/* tf.train.start_queue_runners: for every queue runner of the session's
 * graph, one thread per enqueue op runs it until the coordinator stops or
 * the queue closes (OUT_OF_RANGE or CANCELLED; the last of them closes its
 * queue, so its readers see OUT_OF_RANGE once it is empty); another error
 * stops the coordinator with it. One more thread per runner cancels
 * pending enqueues once a stop is asked for. Returns the number of threads
 * started, or -1 with `status` set. */
typedef struct tfc_session tfc_session; /* see "Sessions" */
TFC_API int tfc_start_queue_runners(tfc_session *s, tfc_coordinator *coord, tfc_status *status);

/* Readers (tf.TFRecordReader, tf.TextLineReader, tf.FixedLengthRecordReader,
 * tf.WholeFileReader; ops TFRecordReaderV2, ...): each builder returns the
 * reader's handle (one reader per session, as a queue). A read takes file
 * names from a queue of strings as it needs them (waiting without a
 * thread while the queue is empty) and gives (key, value) string pairs,
 * keys as TensorFlow's: "file:offset" for TFRecord, "file:line" (from 1,
 * header lines counted) for text lines, "file:index" for fixed-length
 * records, the file name for whole files. When the queue is closed and
 * empty a read fails with its OUT_OF_RANGE. A corrupt or truncated record
 * fails with DATA_LOSS naming the file and the record's offset. */
/* compression_type "", "ZLIB" or "GZIP" (the whole file compressed). */
TFC_API tfc_output tfc_tf_record_reader(tfc_graph *g, const char *compression_type);
TFC_API tfc_output tfc_text_line_reader(tfc_graph *g, int64_t skip_header_lines);
/* Records of record_bytes, after header_bytes, before footer_bytes, each
 * hop_bytes after the last (0: record_bytes); encoding "", "ZLIB", "GZIP". */
TFC_API tfc_output tfc_fixed_length_record_reader(tfc_graph *g, int64_t record_bytes,
                                                  int64_t header_bytes, int64_t footer_bytes,
                                                  int64_t hop_bytes, const char *encoding);
TFC_API tfc_output tfc_whole_file_reader(tfc_graph *g);
/* reader.read(queue) ("ReaderReadV2"): out[0] the key, out[1] the value
 * (string scalars). */
TFC_API void tfc_reader_read(tfc_graph *g, tfc_output reader, tfc_output queue,
                             tfc_output out[2]);
/* reader.read_up_to(queue, n) ("ReaderReadUpToV2"): up to n records of the
 * current file (at least one) as string vectors. */
TFC_API void tfc_reader_read_up_to(tfc_graph *g, tfc_output reader, tfc_output queue,
                                   int64_t num_records, tfc_output out[2]);
/* int64 scalars: records produced, files finished ("ReaderNumRecordsProducedV2",
 * "ReaderNumWorkUnitsCompletedV2"); "ReaderResetV2" forgets the current file
 * and both counts. */
TFC_API tfc_output tfc_reader_num_records_produced(tfc_graph *g, tfc_output reader);
TFC_API tfc_output tfc_reader_num_work_units_completed(tfc_graph *g, tfc_output reader);
TFC_API tfc_node *tfc_reader_reset(tfc_graph *g, tfc_output reader);

/* Local variables (tf.GraphKeys.LOCAL_VARIABLES): not saved, not trained,
 * initialized by tfc_local_variables_initializer (tf.local_variables_
 * initializer), as the epoch counters of input producers are. */
#define TFC_LOCAL_VARIABLES "local_variables"
TFC_API tfc_output tfc_local_variable(tfc_graph *g, const char *name, tfc_output initial_value);
TFC_API tfc_node *tfc_local_variables_initializer(tfc_graph *g);
/* ref.count_up_to(limit) ("CountUpTo"): increments an int32/int64 scalar
 * variable and gives its value before; fails with OUT_OF_RANGE "Reached
 * limit of <limit>" once the value is the limit. */
TFC_API tfc_output tfc_count_up_to(tfc_graph *g, tfc_output ref, int64_t limit);

/* Input producers (tf.train.input_producer and friends): a FIFO queue of
 * `capacity` (0: 32) elements, the rows of `input`, fed by a queue runner
 * (start it with tfc_start_queue_runners) for num_epochs passes (0: no
 * limit; counted in a local variable: run tfc_local_variables_initializer
 * first), each pass shuffled when `shuffle` (seed as for random ops). The
 * queue closes after the last pass, so its readers then see OUT_OF_RANGE.
 * Return the queue's handle. */
TFC_API tfc_output tfc_input_producer(tfc_graph *g, tfc_output input, int64_t num_epochs,
                                      int shuffle, int64_t seed, int64_t capacity,
                                      const char *shared_name);
/* tf.train.string_input_producer: a non-empty vector of strings (file names
 * for a reader). */
TFC_API tfc_output tfc_string_input_producer(tfc_graph *g, tfc_output strings,
                                             int64_t num_epochs, int shuffle, int64_t seed,
                                             int64_t capacity);
/* tf.train.range_input_producer: the int32s 0 .. limit-1. */
TFC_API tfc_output tfc_range_input_producer(tfc_graph *g, int32_t limit, int64_t num_epochs,
                                            int shuffle, int64_t seed, int64_t capacity);
/* tf.train.slice_input_producer: out[i] is one row of tensors[i], the same
 * row of each (their first dims, known, must agree). 0 or -1. */
TFC_API int tfc_slice_input_producer(tfc_graph *g, const tfc_output *tensors, int n,
                                     int64_t num_epochs, int shuffle, int64_t seed,
                                     int64_t capacity, tfc_output *out);

/* Batching (tf.train.batch, batch_join, shuffle_batch, shuffle_batch_join):
 * a queue of `capacity` elements fed from queue-runner threads (batch and
 * shuffle_batch: num_threads threads running the enqueue of `tensors`;
 * the _join forms: one thread per list), read batch_size elements at a
 * time into out[0..n). enqueue_many: each tensor holds many elements along
 * dim 0. Element shapes must be fully defined, unless dynamic_pad (a
 * padding queue: each batch padded to its longest element).
 * allow_smaller_final_batch: the last batch may be smaller (its dim 0 is
 * then unknown). shuffle_batch draws uniformly from at least
 * min_after_dequeue queued elements. 0, or -1 with the error on g. */
TFC_API int tfc_batch(tfc_graph *g, const tfc_output *tensors, int n, int64_t batch_size,
                      int num_threads, int64_t capacity, int enqueue_many, int dynamic_pad,
                      int allow_smaller_final_batch, tfc_output *out);
TFC_API int tfc_batch_join(tfc_graph *g, const tfc_output *const *lists, int nlists, int n,
                           int64_t batch_size, int64_t capacity, int enqueue_many,
                           int dynamic_pad, int allow_smaller_final_batch, tfc_output *out);
TFC_API int tfc_shuffle_batch(tfc_graph *g, const tfc_output *tensors, int n, int64_t batch_size,
                              int64_t capacity, int64_t min_after_dequeue, int num_threads,
                              int64_t seed, int enqueue_many, int allow_smaller_final_batch,
                              tfc_output *out);
TFC_API int tfc_shuffle_batch_join(tfc_graph *g, const tfc_output *const *lists, int nlists,
                                   int n, int64_t batch_size, int64_t capacity,
                                   int64_t min_after_dequeue, int64_t seed, int enqueue_many,
                                   int allow_smaller_final_batch, tfc_output *out);

/* tf.train.Example parsing (op "ParseExample"). A feature to parse: a
 * tf.FixedLenFeature (var_len 0: a dense tensor of shape dims, from
 * default_value when the record lacks it; a null default_value makes it
 * required) or a tf.VarLenFeature (var_len 1: a SparseTensor). dtype is
 * float32, int64 or string. */
typedef struct tfc_parse_feature {
    const char *key;
    tfc_dtype dtype;
    int var_len;
    int rank;
    const int64_t *dims;
    tfc_output default_value;
} tfc_parse_feature;
/* tf.parse_example: `serialized`, a vector of B records, into out[], in
 * the features' order: one tensor [B] + dims per FixedLenFeature, three
 * (indices [n, 2] int64, values [n], dense_shape [2] int64) per
 * VarLenFeature. A record that is not an Example, a missing required
 * feature, a dtype or a count that does not match fail the run naming the
 * record (its index) and the feature. 0, or -1 with the error on g. */
TFC_API int tfc_parse_example(tfc_graph *g, tfc_output serialized,
                              const tfc_parse_feature *features, int n, tfc_output *out);
/* tf.parse_single_example: one record (a scalar); dense outputs have the
 * features' shapes, sparse ones indices [n, 1] and dense_shape [1]. */
TFC_API int tfc_parse_single_example(tfc_graph *g, tfc_output serialized,
                                     const tfc_parse_feature *features, int n, tfc_output *out);

/* Writing tf.train.Example records (for tfc_record_writer_write): add
 * features by name (values copied), then serialize. The adders return 0,
 * or -1 when memory runs out. tfc_example_serialize returns a malloc'd
 * buffer (the caller frees it) of *len bytes, or NULL. */
typedef struct tfc_example tfc_example;
TFC_API tfc_example *tfc_example_new(void);
TFC_API void tfc_example_free(tfc_example *ex);
TFC_API int tfc_example_add_floats(tfc_example *ex, const char *key, const float *v, size_t n);
TFC_API int tfc_example_add_int64s(tfc_example *ex, const char *key, const int64_t *v, size_t n);
TFC_API int tfc_example_add_bytes(tfc_example *ex, const char *key, const void *const *v,
                                  const size_t *lens, size_t n);
TFC_API uint8_t *tfc_example_serialize(const tfc_example *ex, size_t *len);

/* ------------------------------------------------------------------------ */
/* Variables                                                                */
/* ------------------------------------------------------------------------ */

/* A trainable variable (tf.Variable) with the type and shape of
 * `initial_value`. Its initializer (an Assign from `initial_value`) joins the
 * global-variables collection, run by tfc_global_variables_initializer.
 * Returns the variable's output; reading it before initialization is a
 * run-time error naming it. */
TFC_API tfc_output tfc_variable(tfc_graph *g, const char *name, tfc_output initial_value);
/* As tfc_variable, with trainable chosen (non-trainable ones, such as a
 * global step, are not in the trainable collection). */
TFC_API tfc_output tfc_variable_ex(tfc_graph *g, const char *name, tfc_output initial_value,
                                   int trainable);
/* The initializer node of a variable made by tfc_variable, or NULL. */
TFC_API tfc_node *tfc_variable_initializer(tfc_output var);
/* A NoOp depending on the initializers of all global variables. */
TFC_API tfc_node *tfc_global_variables_initializer(tfc_graph *g);
/* var = value / var += value / var -= value; each returns the new value. */
TFC_API tfc_output tfc_assign(tfc_graph *g, tfc_output var, tfc_output value);
TFC_API tfc_output tfc_assign_add(tfc_graph *g, tfc_output var, tfc_output value);
TFC_API tfc_output tfc_assign_sub(tfc_graph *g, tfc_output var, tfc_output value);

/* Resource variables (tf.Variable(use_resource=True), TF2's variables).
 * A VarHandleOp outputs a TFC_RESOURCE scalar, the variable's handle; the
 * value lives in the session, keyed by container and shared_name (an
 * empty shared_name is the node's name), so two VarHandleOps of one graph
 * with one shared_name are one variable, and a handle passed into a
 * function body reaches it. ReadVariableOp returns a copy of the value
 * (later updates leave it alone); AssignVariableOp and
 * AssignAdd/SubVariableOp update it and have no outputs (order them with
 * control inputs); VarIsInitializedOp, DestroyResourceOp (the variable
 * becomes uninitialized), ResourceGather (rows, batch_dims 0) and the
 * ResourceApply* forms of the Apply* ops work on handles too; the legacy
 * `Variable` op is VariableV2. Reading an uninitialized variable is a
 * run-time error naming it. Savers (and SavedModels) save and restore
 * resource variables like the others. Gradients: tfc_gradients w.r.t. a
 * ReadVariableOp's output works as for any tensor, and w.r.t. a handle it
 * is the sum over its reads (TensorFlow's ReadVariableOp gradient). */
/* A VarHandleOp `name` for a variable of `dtype` and shape (rank -1:
 * unknown); shared_name NULL or "": the node's name. */
TFC_API tfc_output tfc_var_handle_op(tfc_graph *g, const char *name, tfc_dtype dtype, int rank,
                                     const int64_t *dims, const char *shared_name);
/* The variable's current value (a ReadVariableOp of `dtype`). */
TFC_API tfc_output tfc_read_variable_op(tfc_graph *g, tfc_output handle, tfc_dtype dtype);
/* variable = value, += value, -= value; the node to run (no outputs). */
TFC_API tfc_node *tfc_assign_variable_op(tfc_graph *g, tfc_output handle, tfc_output value);
TFC_API tfc_node *tfc_assign_add_variable_op(tfc_graph *g, tfc_output handle, tfc_output value);
TFC_API tfc_node *tfc_assign_sub_variable_op(tfc_graph *g, tfc_output handle, tfc_output value);
/* A resource variable as TF1's ResourceVariable makes one: VarHandleOp
 * `name` (shared_name = its name) initialized by "<name>/Assign" from
 * `initial_value`, in the global variables (and trainable ones when
 * `trainable`), so tfc_global_variables_initializer and Savers see it.
 * Returns the handle (read it with tfc_read_variable_op). */
TFC_API tfc_output tfc_resource_variable(tfc_graph *g, const char *name,
                                         tfc_output initial_value, int trainable);

/* ------------------------------------------------------------------------ */
/* Automatic differentiation                                                */
/* ------------------------------------------------------------------------ */

/* Adds to the graph the nodes computing d(sum of ys)/d(xs[i]) and writes
 * their outputs to `grads` (nx entries). `grad_ys` (NULL = ones) seeds the
 * backward pass, one per y. Contributions of several consumers are summed
 * (sparse ones, see tfc_gradient_sparse_parts, are concatenated).
 * An x that the ys do not depend on gets a null output (node NULL): that is
 * not an error. The new nodes are named under "gradients/".
 * Returns 0, or -1 with the error recorded on the graph. */
TFC_API int tfc_gradients(tfc_graph *g, const tfc_output *ys, int ny, const tfc_output *xs,
                          int nx, const tfc_output *grad_ys, tfc_output *grads);
/* Is `grad` (from tfc_gradients) a sparse gradient, TensorFlow's
 * IndexedSlices (e.g. of Gather's params)? Then it is returned in its dense
 * form, computed only if something reads it, and this sets *indices (1-D
 * int32/int64) and *values ([n] + grad.shape[1:]; row i belongs at row
 * indices[i], duplicates summed) and returns 1. Else returns 0. The
 * optimizers apply such gradients sparsely. NULL pointers are skipped. */
TFC_API int tfc_gradient_sparse_parts(tfc_output grad, tfc_output *indices, tfc_output *values);

/* ------------------------------------------------------------------------ */
/* Sessions                                                                 */
/* ------------------------------------------------------------------------ */

/* Graph optimizations a session applies to each plan (TensorFlow's
 * OptimizerOptions.Level; the numbers are TensorFlow's). They rewrite the
 * plan, never the graph, so any tensor stays fetchable and every result is
 * the one the graph as written computes:
 *   - constant folding: a node whose inputs are all constants (not fed) and
 *     that has no state (not a variable, Assign, random or control-flow op)
 *     is computed once when the plan is built, if each output is at most
 *     1 MiB; a Const node is read, not run;
 *   - common-subexpression elimination: of two stateless nodes with the same
 *     op, inputs, control inputs and attrs, only the first runs;
 *   - Identity and StopGradient nodes that are not fetched, not targets and
 *     not read from a variable are skipped: their readers read their input.
 * A kernel that fails while folding is not an error then: the node runs and
 * reports it. */
typedef enum tfc_opt_level {
    TFC_OPT_L1 = 0, /* the default: all of the above */
    TFC_OPT_L0 = -1 /* none: every node the run needs runs, as written */
} tfc_opt_level;

/* Plain options: zero means "the default". */
typedef struct tfc_session_options {
    int intra_op_threads; /* threads inside one kernel (default: all cores) */
    int inter_op_threads; /* threads running independent nodes (default: all cores) */
    int64_t seed;         /* nonzero: seeds random ops that have neither an op nor a
                             graph seed, so their draws repeat across sessions */
    tfc_opt_level opt_level; /* graph optimizations (default TFC_OPT_L1: on) */
    /* Devices (see "Devices" below). device_count: `num_device_types`
     * pairs (device_types[i], device_counts[i]), TensorFlow's ConfigProto
     * device_count: {"CPU"} {2} gives /cpu:0 and /cpu:1, each with its own
     * share of the threads. Default: one CPU. */
    int num_device_types;
    const char *const *device_types;
    const int *device_counts;
    int allow_soft_placement; /* a node whose device is missing or has no
                                 kernel for it goes to one that has */
    int log_device_placement; /* print "name: (Type): device" per node to stderr */
    /* Opt-in bfloat16 mixed precision (TensorFlow's oneDNN bf16 rewrite);
     * off by default, since it changes results. Nonzero: float32 MatMul,
     * Conv2D and Conv2D's two gradients take their operands rounded to
     * bfloat16 (nearest, ties to even), accumulate in float32 and give
     * float32. Where oneDNN has bf16 kernels for this CPU (AVX512_BF16,
     * AMX) MatMul runs in them; elsewhere the operands are rounded into
     * copies and the float32 kernels run: bf16's numerics, not its speed
     * (docs/QUANTIZATION.md). Other products (BatchMatMul, depthwise) and
     * constant folding at plan time stay float32. */
    int bfloat16_products;
} tfc_session_options;

typedef struct tfc_session tfc_session;

/* A session over `g`, which must outlive it. `opts` may be NULL. Variables
 * live in the session: two sessions on one graph have separate values. */
TFC_API tfc_session *tfc_session_new(tfc_graph *g, const tfc_session_options *opts,
                                     tfc_status *status);
TFC_API void tfc_session_free(tfc_session *s);
/* Closes the session (TensorFlow's Session.close): runs waiting in queue
 * ops end with CANCELLED, later runs fail ("Attempted to use a closed
 * Session."), and the call returns once every run under way has ended.
 * tfc_session_free closes first. Safe to call more than once and from
 * another thread than the runs'. */
TFC_API void tfc_session_close(tfc_session *s);
/* The graph the session runs. */
TFC_API tfc_graph *tfc_session_graph(const tfc_session *s);

/* Runs the graph: feeds `nfeeds` tensors to the outputs in `feed_outs` (any
 * output may be fed, which cuts off what produces it), computes only what
 * the fetches and targets need, and stores one new reference per fetch in
 * `fetch_values` (the caller frees them). Targets are nodes run for their
 * effect. On error every fetch_values[i] is NULL and `status` names the node.
 * Several threads may run one session at once. */
TFC_API void tfc_session_run(tfc_session *s, const tfc_output *feed_outs,
                             tfc_tensor *const *feed_values, int nfeeds,
                             const tfc_output *fetches, int nfetches, tfc_tensor **fetch_values,
                             tfc_node *const *targets, int ntargets, tfc_status *status);

/* Convenience: runs and returns the one fetched tensor (caller frees), or NULL
 * with the error in `status`. */
TFC_API tfc_tensor *tfc_session_run1(tfc_session *s, const tfc_output *feed_outs,
                                     tfc_tensor *const *feed_values, int nfeeds,
                                     tfc_output fetch, tfc_status *status);

/* ------------------------------------------------------------------------ */
/* Devices: placement, runs split over devices, step statistics             */
/* ------------------------------------------------------------------------ */

/* A session has devices, named as TensorFlow names them
 * ("/job:localhost/replica:0/task:0/device:CPU:1"); tfc_session_options'
 * device_count says how many of each type (one CPU by default). When a
 * plan is first built, every node of the graph gets a device, as
 * TensorFlow's placer gives it:
 *   - the device asked for (tfc_device_push, tfc_op_set_device): "/cpu:1",
 *     "/device:CPU:*", "/job:localhost/task:0" match the local devices;
 *   - colocation: a variable with the nodes that update it (Assign*,
 *     Apply*, its gradients' updates) and its reads, and the nodes of a
 *     tfc_colocate_with_push scope (attr _class "loc:@NAME") with NAME;
 *   - nodes asking for nothing: the first device of the highest-priority
 *     type that has their kernels (/cpu:0 here).
 * A node asking for a device the session lacks (or one without its
 * kernel) fails the run with "Cannot assign a device for operation 'X':
 * ..." naming the node and the devices there are, unless
 * allow_soft_placement moves it. A graph whose nodes all sit on one device
 * runs as before; one that spans devices runs as one partition per device,
 * all at once, each on its device's threads, with a _Send/_Recv pair on
 * every edge that crosses (data and control); an error in one stops the
 * others and is reported once. Function bodies (cond, while_loop,
 * functions) are placed and split the same way when they run: nodes made
 * inside the body under a device scope run there. */

/* tf.colocate_with: nodes made between push and pop are placed with `op`
 * (they get the attr _class = "loc:@<op name>"). Scopes nest (the inner
 * one wins). */
TFC_API void tfc_colocate_with_push(tfc_graph *g, const tfc_node *op);
TFC_API void tfc_colocate_with_pop(tfc_graph *g);

/* The session's devices, in placement order: their number, and the full
 * name of device i (owned by the session; NULL when out of range). */
TFC_API int tfc_session_num_devices(const tfc_session *s);
TFC_API const char *tfc_session_device_name(const tfc_session *s, int i);
/* The full name of the device `n` was placed on, or NULL before a run
 * placed it (or for a node of another graph). Owned by the session. */
TFC_API const char *tfc_session_assigned_device(const tfc_session *s, const tfc_node *n);

/* RunOptions: trace_level above TFC_TRACE_NONE (TensorFlow's
 * SOFTWARE_TRACE, FULL_TRACE) asks for step statistics. */
enum { TFC_TRACE_NONE = 0, TFC_TRACE_SOFTWARE = 1, TFC_TRACE_FULL = 3 };
typedef struct tfc_run_options {
    int trace_level;
    /* > 0: a run still blocked in queue ops (or other ops that wait) after
     * this many milliseconds ends with DEADLINE_EXCEEDED (TensorFlow's
     * RunOptions.timeout_in_ms); 0: no limit */
    int64_t timeout_in_ms;
    /* nonzero: the metadata gets the GraphDef of each partition the run
     * executed (TensorFlow's RunOptions.output_partition_graphs; see
     * tfc_run_metadata_partition_graph) */
    int output_partition_graphs;
} tfc_run_options;

/* RunMetadata: what a run recorded. Owned by the caller; a run appends to
 * it (tfc_run_metadata_clear empties it). */
typedef struct tfc_run_metadata tfc_run_metadata;
TFC_API tfc_run_metadata *tfc_run_metadata_new(void);
TFC_API void tfc_run_metadata_free(tfc_run_metadata *md);
TFC_API void tfc_run_metadata_clear(tfc_run_metadata *md);

/* tfc_session_run with run options (NULL: none) and metadata (NULL: none
 * is kept). With trace_level above TFC_TRACE_NONE, each node the run
 * executed gets an entry (step stats); a node the plan folded into a
 * constant or skipped does not. Function bodies run inside their op's
 * entry. */
TFC_API void tfc_session_run_v2(tfc_session *s, const tfc_run_options *run_options,
                                const tfc_output *feed_outs, tfc_tensor *const *feed_values,
                                int nfeeds, const tfc_output *fetches, int nfetches,
                                tfc_tensor **fetch_values, tfc_node *const *targets,
                                int ntargets, tfc_run_metadata *md, tfc_status *status);

/* Step stats: entries in the order the nodes finished per device. Times
 * are microseconds from the first node's start; `thread` is the OS thread
 * id. Strings are owned by md. Out-of-range i gives NULL / 0 / -1. */
TFC_API int tfc_run_metadata_num_nodes(const tfc_run_metadata *md);
TFC_API const char *tfc_run_metadata_node_name(const tfc_run_metadata *md, int i);
TFC_API const char *tfc_run_metadata_node_op(const tfc_run_metadata *md, int i);
TFC_API const char *tfc_run_metadata_node_device(const tfc_run_metadata *md, int i);
TFC_API int64_t tfc_run_metadata_node_thread(const tfc_run_metadata *md, int i);
TFC_API double tfc_run_metadata_node_start_us(const tfc_run_metadata *md, int i);
TFC_API double tfc_run_metadata_node_end_us(const tfc_run_metadata *md, int i);
TFC_API int tfc_run_metadata_node_num_outputs(const tfc_run_metadata *md, int i);
/* Bytes of output k's tensor (0: none was produced). */
TFC_API int64_t tfc_run_metadata_node_output_bytes(const tfc_run_metadata *md, int i, int k);
/* The step stats as Chrome trace JSON (chrome://tracing, Perfetto's
 * legacy JSON): a complete event ("ph":"X") per node, one process row per
 * device and one thread row per OS thread. Returns a malloc'd NUL-
 * terminated string (caller frees), or NULL when out of memory. */
TFC_API char *tfc_run_metadata_chrome_trace(const tfc_run_metadata *md);
/* Writes it to `path`. 0, or -1 with `status` naming the file. */
TFC_API int tfc_run_metadata_write_chrome_trace(const tfc_run_metadata *md, const char *path,
                                                tfc_status *status);
/* Partition graphs (a run with output_partition_graphs): one serialized
 * GraphDef per partition the run executed, TensorFlow's
 * RunMetadata.partition_graphs: one for a graph on one device, else one
 * per device in the session's device order. Each node's device is its
 * full name; a _Send/_Recv pair (TensorFlow's attrs T or tensor_type,
 * tensor_name, send_device, send_device_incarnation, recv_device,
 * client_terminated) stands on every edge that crosses; fed tensors come
 * from a client-terminated _Recv "_recv_<node>_<index>", fetched ones go
 * to a _Send "_send_<node>_<index>"; constants folded at plan time are
 * Consts "_folded_const_<k>". The count, and graph i's bytes (owned by
 * md; NULL and *len 0 when out of range). */
TFC_API int tfc_run_metadata_num_partition_graphs(const tfc_run_metadata *md);
TFC_API const void *tfc_run_metadata_partition_graph(const tfc_run_metadata *md, int i,
                                                     size_t *len);

/* ------------------------------------------------------------------------ */
/* Neural-network building blocks: convolution, pooling, dropout, embeddings */
/* ------------------------------------------------------------------------ */

/* 2-D convolution (tf.nn.conv2d) of an NHWC `input` [batch, h, w, in_c] with
 * an HWIO `filter` [fh, fw, in_c, out_c], float32 or float64. `strides` is 4
 * ints [1, sh, sw, 1]; `padding` is "SAME" (output ceil(in/stride)) or
 * "VALID". Bad shapes or attrs fail the build naming the node. */
TFC_API tfc_output tfc_conv2d(tfc_graph *g, tfc_output input, tfc_output filter,
                              const int *strides, const char *padding);
/* As tfc_conv2d with `dilations` (4 ints [1, dh, dw, 1]; NULL: no dilation). */
TFC_API tfc_output tfc_conv2d_ex(tfc_graph *g, tfc_output input, tfc_output filter,
                                 const int *strides, const char *padding, const int *dilations);
/* Depthwise 2-D convolution (tf.nn.depthwise_conv2d, op DepthwiseConv2dNative)
 * of an NHWC `input` [batch, h, w, c] with a `filter` [fh, fw, c, multiplier],
 * float32 or float64: each input channel k is convolved on its own with
 * filters [., ., k, q], giving output channel k*multiplier + q of
 * c*multiplier. `strides` and `padding` are as for tfc_conv2d. Bad shapes or
 * attrs fail the build naming the node. */
TFC_API tfc_output tfc_depthwise_conv2d(tfc_graph *g, tfc_output input, tfc_output filter,
                                        const int *strides, const char *padding);
/* As tfc_depthwise_conv2d with `dilations` (4 ints [1, dh, dw, 1]; NULL: no
 * dilation). */
TFC_API tfc_output tfc_depthwise_conv2d_ex(tfc_graph *g, tfc_output input, tfc_output filter,
                                           const int *strides, const char *padding,
                                           const int *dilations);
/* Max / average pooling of NHWC `x` over windows `ksize` (4 ints
 * [1, kh, kw, 1]) moved by `strides`; "SAME" average pooling divides by the
 * number of in-bounds elements, as TensorFlow does. */
TFC_API tfc_output tfc_max_pool(tfc_graph *g, tfc_output x, const int *ksize,
                                const int *strides, const char *padding);
TFC_API tfc_output tfc_avg_pool(tfc_graph *g, tfc_output x, const int *ksize,
                                const int *strides, const char *padding);

/* Rows of `params` picked by int32/int64 `indices` (tf.gather, op Gather):
 * the result has shape indices.shape + params.shape[1:]. An index out of
 * range is a run-time error naming the node. The gradient for params is
 * sparse (TensorFlow's IndexedSlices: see tfc_gradient_sparse_parts). */
TFC_API tfc_output tfc_gather(tfc_graph *g, tfc_output params, tfc_output indices);
/* As tfc_gather along `axis` (op GatherV2); the gradient for params is
 * sparse along axis 0 and dense along other axes. A GatherV2 node built
 * with tfc_op_new may take its axis from any int32/int64 scalar tensor,
 * one fed at run time included; its gradient then follows the fed value. */
TFC_API tfc_output tfc_gather_v2(tfc_graph *g, tfc_output params, tfc_output indices, int axis);
/* tf.nn.embedding_lookup with one params tensor: tfc_gather. */
TFC_API tfc_output tfc_embedding_lookup(tfc_graph *g, tfc_output params, tfc_output ids);
/* Sums the slices data[i...] into row segment_ids[i] of a result with
 * `num_segments` rows (tf.unsorted_segment_sum); negative ids are dropped,
 * ids >= num_segments are a run-time error. */
TFC_API tfc_output tfc_unsorted_segment_sum(tfc_graph *g, tfc_output data,
                                            tfc_output segment_ids, int64_t num_segments);
/* Activations: x > 0 ? x : exp(x) - 1 (tf.nn.elu); scaled elu (tf.nn.selu);
 * x > 0 ? x : alpha * x (tf.nn.leaky_relu, TF's default alpha is 0.2);
 * log(1 + exp(x)), computed stably (tf.nn.softplus); x / (1 + |x|)
 * (tf.nn.softsign). float32 or float64; each has a gradient. */
TFC_API tfc_output tfc_elu(tfc_graph *g, tfc_output x);
TFC_API tfc_output tfc_selu(tfc_graph *g, tfc_output x);
TFC_API tfc_output tfc_leaky_relu(tfc_graph *g, tfc_output x, double alpha);
TFC_API tfc_output tfc_softplus(tfc_graph *g, tfc_output x);
TFC_API tfc_output tfc_softsign(tfc_graph *g, tfc_output x);
/* Largest integer not above x, element-wise (tf.floor; no gradient). */
TFC_API tfc_output tfc_floor(tfc_graph *g, tfc_output x);

/* Dropout (tf.nn.dropout): x / keep_prob * floor(keep_prob + U[0,1)), so
 * each element is kept with probability keep_prob and scaled up. keep_prob
 * is a scalar tensor (a fed placeholder works; 1.0 gives x exactly). `seed`
 * follows the random ops' rules. x may have a partly unknown shape. */
TFC_API tfc_output tfc_dropout(tfc_graph *g, tfc_output x, tfc_output keep_prob, int64_t seed);

/* Mean and variance of x over `axes` (tf.nn.moments), written to *mean and
 * *variance (null outputs on failure). */
TFC_API void tfc_moments(tfc_graph *g, tfc_output x, const int32_t *axes, int naxes,
                         int keep_dims, tfc_output *mean, tfc_output *variance);

/* Initializers for tfc_get_variable. A zeroed struct is the default,
 * Glorot uniform, as in TensorFlow. The fields' meaning per kind:
 * CONSTANT: value a; RANDOM_NORMAL / TRUNCATED_NORMAL: mean a, stddev b;
 * RANDOM_UNIFORM: [a, b); VARIANCE_SCALING: scale a, `mode`, `uniform`
 * (else a truncated normal of variance scale / fan). `seed` as for the
 * random ops. */
typedef enum tfc_init_kind {
    TFC_INIT_GLOROT_UNIFORM = 0,
    TFC_INIT_ZEROS,
    TFC_INIT_ONES,
    TFC_INIT_CONSTANT,
    TFC_INIT_RANDOM_NORMAL,
    TFC_INIT_TRUNCATED_NORMAL,
    TFC_INIT_RANDOM_UNIFORM,
    TFC_INIT_GLOROT_NORMAL,
    TFC_INIT_VARIANCE_SCALING
} tfc_init_kind;

typedef enum tfc_fan_mode { TFC_FAN_IN, TFC_FAN_OUT, TFC_FAN_AVG } tfc_fan_mode;

typedef struct tfc_initializer {
    tfc_init_kind kind;
    double a, b;
    tfc_fan_mode mode;
    int uniform;
    int64_t seed;
} tfc_initializer;

/* Ready-made initializers (values; nothing to free). */
TFC_API tfc_initializer tfc_zeros_initializer(void);
TFC_API tfc_initializer tfc_ones_initializer(void);
TFC_API tfc_initializer tfc_constant_initializer(double value);
TFC_API tfc_initializer tfc_random_normal_initializer(double mean, double stddev, int64_t seed);
TFC_API tfc_initializer tfc_truncated_normal_initializer(double mean, double stddev,
                                                         int64_t seed);
TFC_API tfc_initializer tfc_random_uniform_initializer(double minval, double maxval,
                                                       int64_t seed);
/* Uniform in +-sqrt(6 / (fan_in + fan_out)) (Xavier). */
TFC_API tfc_initializer tfc_glorot_uniform_initializer(int64_t seed);
/* Truncated normal of variance 2 / (fan_in + fan_out). */
TFC_API tfc_initializer tfc_glorot_normal_initializer(int64_t seed);
TFC_API tfc_initializer tfc_variance_scaling_initializer(double scale, tfc_fan_mode mode,
                                                         int uniform, int64_t seed);
/* He: variance scaling with scale 2 over fan_in, truncated normal. */
TFC_API tfc_initializer tfc_he_normal_initializer(int64_t seed);
/* The ops computing an initial value of the given static shape. Fans are
 * TensorFlow's: [in, out] for matrices, receptive field times the last two
 * dims for conv filters. `init` NULL means the default. */
TFC_API tfc_output tfc_initializer_value(tfc_graph *g, const tfc_initializer *init,
                                         tfc_dtype dtype, int rank, const int64_t *dims);

/* Variable scopes (tf.variable_scope): between push and pop, tfc_get_variable
 * names variables "scope/name" and nodes get a name scope of the same name.
 * reuse: TFC_REUSE_INHERIT takes the enclosing scope's setting (off at the
 * top), TFC_REUSE_TRUE shares existing variables, TFC_AUTO_REUSE creates
 * or shares. */
#define TFC_REUSE_INHERIT 0
#define TFC_REUSE_TRUE 1
#define TFC_AUTO_REUSE 2
TFC_API void tfc_variable_scope_push(tfc_graph *g, const char *name, int reuse);
TFC_API void tfc_variable_scope_pop(tfc_graph *g);
/* The variable "scope/name" (tf.get_variable) of a static shape: created
 * (initialized by `init`, NULL: Glorot uniform) unless the scope reuses,
 * then the existing one, checked for dtype and shape. Creating one that
 * exists, or reusing one that does not, fails the build naming it. */
TFC_API tfc_output tfc_get_variable(tfc_graph *g, const char *name, tfc_dtype dtype, int rank,
                                    const int64_t *dims, const tfc_initializer *init);
/* As tfc_get_variable; non-trainable variables stay out of the trainable
 * collection (moving averages, counters). */
TFC_API tfc_output tfc_get_variable_ex(tfc_graph *g, const char *name, tfc_dtype dtype,
                                       int rank, const int64_t *dims,
                                       const tfc_initializer *init, int trainable);

/* Layers in the tf.contrib.layers style. Each makes its variables with
 * tfc_get_variable inside a variable scope `scope` (NULL: the layer's
 * default name made unique, "fully_connected", "fully_connected_1", ...),
 * so a layer built again in a reusing scope shares its weights. */
typedef enum tfc_activation {
    TFC_ACT_NONE,
    TFC_ACT_RELU,
    TFC_ACT_SIGMOID,
    TFC_ACT_TANH,
    TFC_ACT_SOFTMAX,
    TFC_ACT_ELU
} tfc_activation;

/* The collection of batch-norm moving-average updates (tf.GraphKeys.UPDATE_OPS):
 * run them with the training step. */
#define TFC_UPDATE_OPS "update_ops"

/* act(x W + b) for x [batch, in]: "weights" [in, num_outputs] (Glorot
 * uniform) and "biases" [num_outputs] (zeros). */
TFC_API tfc_output tfc_layers_fully_connected(tfc_graph *g, tfc_output x, int num_outputs,
                                              tfc_activation activation, const char *scope);
/* x W + b (tf.contrib.layers.linear): fully_connected without activation. */
TFC_API tfc_output tfc_layers_linear(tfc_graph *g, tfc_output x, int num_outputs,
                                     const char *scope);
/* act(conv2d(x, W) + b) for NHWC x: "weights" [kh, kw, in_c, num_outputs],
 * "biases"; stride in both dims; default scope "Conv". */
TFC_API tfc_output tfc_layers_conv2d(tfc_graph *g, tfc_output x, int num_outputs,
                                     int kernel_h, int kernel_w, int stride,
                                     const char *padding, tfc_activation activation,
                                     const char *scope);
/* Pooling with a kernel_h x kernel_w window and `stride` (contrib's
 * defaults are stride 2, "VALID"). */
TFC_API tfc_output tfc_layers_max_pool2d(tfc_graph *g, tfc_output x, int kernel_h,
                                         int kernel_w, int stride, const char *padding);
TFC_API tfc_output tfc_layers_avg_pool2d(tfc_graph *g, tfc_output x, int kernel_h,
                                         int kernel_w, int stride, const char *padding);
/* [batch, d1, d2, ...] -> [batch, d1*d2*...]; the trailing dims must be static. */
TFC_API tfc_output tfc_layers_flatten(tfc_graph *g, tfc_output x);
/* tfc_dropout under the name scope "Dropout". */
TFC_API tfc_output tfc_layers_dropout(tfc_graph *g, tfc_output x, tfc_output keep_prob,
                                      int64_t seed);
/* Batch normalization over every axis but the last. `is_training` is a
 * scalar bool tensor (a constant or a fed placeholder): when true the batch
 * moments normalize, else the moving averages. "moving_mean" and
 * "moving_variance" (non-trainable) move toward the batch moments by
 * (1 - decay) through AssignSub nodes added to TFC_UPDATE_OPS. `center`
 * adds "beta", `scale` adds "gamma". Default scope "BatchNorm". TensorFlow's
 * defaults are decay 0.999, epsilon 0.001, center on, scale off. */
TFC_API tfc_output tfc_layers_batch_norm(tfc_graph *g, tfc_output x, tfc_output is_training,
                                         double decay, double epsilon, int center, int scale,
                                         const char *scope);

/* (end of building blocks) */

/* ------------------------------------------------------------------------ */
/* Control flow and functions                                               */
/* ------------------------------------------------------------------------ */

/* Functional control flow (ops If, While, PartitionedCall): branches, loop
 * bodies and functions are sub-graphs built by C callbacks and run from the
 * op's kernel. A body may use tensors of the graphs around it: they become
 * implicit inputs (captures). Assigning outer variables inside a body is not
 * supported (the variable arrives as a captured value). */
typedef struct tfc_function tfc_function;

/* Builds a body in the graph `body`: `args` are its inputs (placeholders of
 * `body`); writes its outputs (tensors of `body` or of enclosing graphs) to
 * `outs`. Returns 0, or -1 (errors recorded on `body` are reported on the
 * outer graph). */
typedef int (*tfc_body_fn)(tfc_graph *body, const tfc_output *args, int nargs, void *user,
                           tfc_output *outs);

/* tf.cond: `nout` outputs from true_fn or false_fn (called with no args),
 * only the taken branch running. pred is a bool scalar. The branches'
 * outputs must agree in dtype. Returns 0, or -1 (outs null) with the error
 * recorded on g. Differentiable: the gradient flows through the taken branch. */
TFC_API int tfc_cond(tfc_graph *g, tfc_output pred, tfc_body_fn true_fn, tfc_body_fn false_fn,
                     void *user, int nout, tfc_output *outs);

/* tf.while_loop over `n` loop variables of any dtypes and shapes: while
 * cond_fn(vars) (one bool scalar output) is true, vars = body_fn(vars) (n
 * outputs). shape_invariants (NULL: each variable's static shape) bounds
 * the shapes a variable may take; leaving it is a run-time error naming the
 * loop and the variable. Up to parallel_iterations iterations may be in
 * flight: when a body run takes long (100 us or more, timed over the first
 * iterations) and the session has several inter-op threads, each output of
 * one iteration starts the work of the next that waits only for it, so
 * independent work of consecutive iterations overlaps; results are the
 * same as one iteration at a time. Within an iteration, independent nodes
 * and large kernels use the session's threads. Differentiable w.r.t. float
 * loop variables and captured tensors (the gradient re-runs the loop
 * keeping each iteration's values, then runs it backwards). Returns 0, or
 * -1 with the error recorded on g. */
TFC_API int tfc_while_loop(tfc_graph *g, tfc_body_fn cond_fn, tfc_body_fn body_fn, void *user,
                           const tfc_output *loop_vars, int n, const tfc_shape *shape_invariants,
                           int parallel_iterations, tfc_output *outs);

/* Defines a function (TensorFlow's Defun) of `nin` inputs (dtypes[i],
 * shapes[i]; shapes NULL: unknown) with `nout` outputs built once by `build`.
 * A function without input shapes takes inputs of any shape (calls of
 * different ranks share one body) and is differentiable; its calls'
 * outputs have the body's static shapes (unknown rank, then).
 * Owned by g (freed with it). NULL with the error recorded on g (a name
 * already defined is an error). */
TFC_API tfc_function *tfc_function_define(tfc_graph *g, const char *name, int nin,
                                          const tfc_dtype *dtypes, const tfc_shape *shapes,
                                          int nout, tfc_body_fn build, void *user);
/* Calls `fn` (defined on g or a graph enclosing g) as one PartitionedCall
 * node, writing its outputs to `outs`. The body is shared, not copied; the
 * gradient is derived from it. Returns 0, or -1 with the error on g. */
TFC_API int tfc_function_call(tfc_graph *g, const tfc_function *fn, const tfc_output *inputs,
                              int nin, tfc_output *outs);
TFC_API const char *tfc_function_name(const tfc_function *fn);
TFC_API int tfc_function_num_outputs(const tfc_function *fn);

typedef struct tfc_rnn_cell tfc_rnn_cell; /* see "RNN cells" below */
/* tf.nn.dynamic_rnn (batch-major): runs `cell` with a While loop over
 * `inputs` [batch, time, depth] (float32/float64, static sizes) in variable
 * scope `scope` (NULL: "rnn"; variables as tfc_static_rnn's). Past an
 * example's sequence_length (int32 [batch]; a null output: full length)
 * its outputs are zeros and its state stays. initial_state NULL: zeros.
 * Writes *outputs [batch, time, units] and, when final_state is not NULL,
 * the state_count final states. Trainable. 0, or -1 with the error on g. */
TFC_API int tfc_dynamic_rnn(tfc_graph *g, tfc_rnn_cell *cell, tfc_output inputs,
                            tfc_output sequence_length, const tfc_output *initial_state,
                            const char *scope, tfc_output *outputs, tfc_output *final_state);

/* ------------------------------------------------------------------------ */
/* RNN cells and sampled losses                                             */
/* ------------------------------------------------------------------------ */

/* A recurrent cell (tf.nn.rnn_cell): a description of sizes, owned by the
 * caller (tfc_rnn_cell_free, after the last call that builds with it; the
 * graph does not need it to run). Its variables are made with
 * tfc_get_variable in the cell's variable scope on the first call and
 * shared by every later call. Constructors return NULL on bad sizes or
 * when memory runs out. */
typedef struct tfc_rnn_cell tfc_rnn_cell;

/* BasicLSTMCell: the gates i, j, f, o come from one matmul of [x, h] with
 * "kernel" [depth + num_units, 4 num_units] (Glorot uniform) plus "bias"
 * (zeros); c' = c sigmoid(f + forget_bias) + sigmoid(i) tanh(j),
 * h' = tanh(c') sigmoid(o). Scope "basic_lstm_cell" (made unique). The
 * state is two tensors (c, h). TensorFlow's forget_bias is 1.0. */
TFC_API tfc_rnn_cell *tfc_basic_lstm_cell(int num_units, double forget_bias);
/* MultiRNNCell: the cells stacked, layer k in scope "multi_rnn_cell/cell_k".
 * Takes ownership of the `n` cells on success (on NULL the caller still
 * owns them). The state is the layers' states in order (c0, h0, c1, ...). */
TFC_API tfc_rnn_cell *tfc_multi_rnn_cell(tfc_rnn_cell *const *cells, int n);
/* Frees the cell and, for a multi-cell, the cells it owns. NULL is fine. */
TFC_API void tfc_rnn_cell_free(tfc_rnn_cell *cell);
/* Number of state tensors the cell takes and returns (2 per LSTM layer). */
TFC_API int tfc_rnn_cell_state_count(const tfc_rnn_cell *cell);
/* Size of the cell's output (the last layer's num_units). */
TFC_API int tfc_rnn_cell_output_size(const tfc_rnn_cell *cell);
/* Zeros for every state tensor ([batch_size, units] each) written to
 * `state` (state_count entries). 0, or -1 with the error on the graph. */
TFC_API int tfc_rnn_cell_zero_state(tfc_graph *g, const tfc_rnn_cell *cell, int64_t batch_size,
                                    tfc_dtype dtype, tfc_output *state);
/* One step (cell(input, state)): `input` [batch, depth] float32/float64
 * with a static depth; writes the output and state_count new state
 * tensors. 0, or -1 with the error on the graph. */
TFC_API int tfc_rnn_cell_call(tfc_graph *g, tfc_rnn_cell *cell, tfc_output input,
                              const tfc_output *state, tfc_output *output,
                              tfc_output *new_state);
/* tf.nn.static_rnn: the cell unrolled over the `n` inputs (each [batch,
 * depth]) inside variable scope `scope` (NULL: "rnn"), so an LSTM's
 * variables are "rnn/basic_lstm_cell/kernel" and ".../bias".
 * `initial_state` NULL means zeros (the batch size may be known only at
 * run time). Writes n outputs and, when final_state is not NULL,
 * state_count final state tensors. 0, or -1 with the error on the graph. */
TFC_API int tfc_static_rnn(tfc_graph *g, tfc_rnn_cell *cell, const tfc_output *inputs, int n,
                           const tfc_output *initial_state, const char *scope,
                           tfc_output *outputs, tfc_output *final_state);

/* The three outputs of a candidate sampler: sampled_candidates (int64
 * [num_sampled]), true_expected_count (float32 [batch, num_true]) and
 * sampled_expected_count (float32 [num_sampled]). */
typedef struct tfc_sampled_values {
    tfc_output sampled_candidates;
    tfc_output true_expected_count;
    tfc_output sampled_expected_count;
} tfc_sampled_values;

/* tf.nn.log_uniform_candidate_sampler (op LogUniformCandidateSampler):
 * draws num_sampled classes of [0, range_max) with P(k) = log((k + 2) /
 * (k + 1)) / log(range_max + 1), without repeats when `unique`; the
 * expected counts are p * num_sampled, or with `unique` 1 - (1 - p)^tries
 * for the number of draws it took. `true_classes` is int32/int64 [batch,
 * num_true]. `seed` follows the random ops' rules. 0, or -1 with the
 * error on the graph. */
TFC_API int tfc_log_uniform_candidate_sampler(tfc_graph *g, tfc_output true_classes,
                                              int num_true, int num_sampled, int unique,
                                              int64_t range_max, int64_t seed,
                                              tfc_sampled_values *out);
/* tf.nn.nce_loss: per-example noise-contrastive loss [batch] for `inputs`
 * [batch, dim] against `labels` (int32/int64 [batch, num_true]) with class
 * `weights` [num_classes, dim] and `biases` [num_classes]: logistic losses
 * of the true (target 1/num_true) and sampled (target 0) logits, each
 * minus the log of its expected count, summed per row. `sampled_values`
 * NULL samples log-uniformly (unique) in the graph; remove_accidental_hits
 * (TensorFlow's default: off) drops sampled classes equal to a true one. */
TFC_API tfc_output tfc_nce_loss(tfc_graph *g, tfc_output weights, tfc_output biases,
                                tfc_output labels, tfc_output inputs, int num_sampled,
                                int64_t num_classes, int num_true,
                                const tfc_sampled_values *sampled_values,
                                int remove_accidental_hits);
/* tf.nn.sampled_softmax_loss: as tfc_nce_loss with a softmax cross-entropy
 * over the true and sampled logits. TensorFlow's default removes
 * accidental hits. */
TFC_API tfc_output tfc_sampled_softmax_loss(tfc_graph *g, tfc_output weights,
                                            tfc_output biases, tfc_output labels,
                                            tfc_output inputs, int num_sampled,
                                            int64_t num_classes, int num_true,
                                            const tfc_sampled_values *sampled_values,
                                            int remove_accidental_hits);

/* (end of rnn cells and sampled losses) */

/* ------------------------------------------------------------------------ */
/* Losses and metrics                                                       */
/* ------------------------------------------------------------------------ */

/* Mean of (labels - predictions)^2 over all elements, a scalar
 * (tf.losses.mean_squared_error with weights 1). Shapes must broadcast. */
TFC_API tfc_output tfc_mean_squared_error(tfc_graph *g, tfc_output labels,
                                          tfc_output predictions);
/* Element-wise logistic loss of `logits` against probabilities `labels` of
 * the same shape (tf.nn.sigmoid_cross_entropy_with_logits), computed as
 * max(x, 0) - x * z + log(1 + exp(-|x|)), stable for large |x|. */
TFC_API tfc_output tfc_sigmoid_cross_entropy_with_logits(tfc_graph *g, tfc_output labels,
                                                         tfc_output logits);
/* sum(x^2) / 2, a scalar (tf.nn.l2_loss, op L2Loss). */
TFC_API tfc_output tfc_l2_loss(tfc_graph *g, tfc_output x);
/* Fraction of rows whose argmax of `logits` [batch, classes] equals the
 * label: `labels` is one-hot [batch, classes] (any numeric type) or class
 * ids [batch] (int32/int64). A float32 scalar. */
TFC_API tfc_output tfc_accuracy(tfc_graph *g, tfc_output labels, tfc_output logits);

/* (end of losses) */

/* ------------------------------------------------------------------------ */
/* Optimizers (tf.train)                                                    */
/* ------------------------------------------------------------------------ */

/* An optimizer (tf.train.Optimizer) adds to a graph the ops that update
 * variables from gradients, through TensorFlow's fused Apply* ops
 * (ApplyAdam, ...). It is owned by the caller (tfc_optimizer_free, any
 * time after the last minimize/apply; the graph does not need it to run).
 * Constructors return NULL only when memory runs out. In C there are no
 * default arguments: each TFC_*_DEFAULTS macro spells TensorFlow's defaults,
 * e.g. tfc_adam_optimizer(TFC_ADAM_DEFAULTS). */
typedef struct tfc_optimizer tfc_optimizer;

/* var -= lr * grad. */
TFC_API tfc_optimizer *tfc_gradient_descent_optimizer(double learning_rate);
/* accum = momentum * accum + grad; var -= lr * accum (Nesterov:
 * var -= lr * (grad + momentum * accum)). Slot "momentum": w/Momentum. */
TFC_API tfc_optimizer *tfc_momentum_optimizer(double learning_rate, double momentum,
                                              int use_nesterov);
/* Slot "accumulator" (w/Adagrad) starts at initial_accumulator_value. */
#define TFC_ADAGRAD_DEFAULTS(lr) (lr), 0.1
TFC_API tfc_optimizer *tfc_adagrad_optimizer(double learning_rate,
                                             double initial_accumulator_value);
/* Adagrad dual averaging. `global_step` (an int64 variable, e.g. from
 * tfc_train_get_or_create_global_step) must be incremented by the train op
 * (pass it to minimize). Slots "gradient_accumulator" (w/AdagradDA, zeros),
 * "gradient_squared_accumulator" (w/AdagradDA_1). */
#define TFC_ADAGRAD_DA_DEFAULTS(lr, global_step) (lr), (global_step), 0.1, 0.0, 0.0
TFC_API tfc_optimizer *tfc_adagrad_da_optimizer(double learning_rate, tfc_output global_step,
                                                double initial_gradient_squared_accumulator_value,
                                                double l1_regularization_strength,
                                                double l2_regularization_strength);
/* Slots "accum" (w/Adadelta), "accum_update" (w/Adadelta_1). */
#define TFC_ADADELTA_DEFAULTS 0.001, 0.95, 1e-8
TFC_API tfc_optimizer *tfc_adadelta_optimizer(double learning_rate, double rho, double epsilon);
/* Slots "m" (w/Adam), "v" (w/Adam_1); non-trainable variables
 * "beta1_power"/"beta2_power" (starting at beta1/beta2, multiplied by them
 * after each apply) fold the bias correction into the step:
 * lr_t = lr * sqrt(1 - beta2^t) / (1 - beta1^t). */
#define TFC_ADAM_DEFAULTS 0.001, 0.9, 0.999, 1e-8
TFC_API tfc_optimizer *tfc_adam_optimizer(double learning_rate, double beta1, double beta2,
                                          double epsilon);
/* FTRL-proximal (op ApplyFtrl). Slots "accum" (w/Ftrl, starting at
 * initial_accumulator_value), "linear" (w/Ftrl_1, zeros). */
#define TFC_FTRL_DEFAULTS(lr) (lr), -0.5, 0.1, 0.0, 0.0
TFC_API tfc_optimizer *tfc_ftrl_optimizer(double learning_rate, double learning_rate_power,
                                          double initial_accumulator_value,
                                          double l1_regularization_strength,
                                          double l2_regularization_strength);
/* RMSProp (ApplyRMSProp, or ApplyCenteredRMSProp when centered). Slots
 * "rms" (w/RMSProp, ones), then "mg" when centered (zeros), then
 * "momentum" (zeros), numbered w/RMSProp_1, w/RMSProp_2 in that order. */
#define TFC_RMSPROP_DEFAULTS(lr) (lr), 0.9, 0.0, 1e-10, 0
TFC_API tfc_optimizer *tfc_rmsprop_optimizer(double learning_rate, double decay,
                                             double momentum, double epsilon, int centered);
/* Frees the optimizer; the nodes and variables it added stay in the graph. */
TFC_API void tfc_optimizer_free(tfc_optimizer *opt);
/* The optimizer's name ("GradientDescent", "Adam", ...): the name scope of
 * its ops and the suffix of its slot variables. */
TFC_API const char *tfc_optimizer_name(const tfc_optimizer *opt);
/* Uses the scalar tensor `lr` (any float type; cast to each variable's
 * type) as the learning rate instead of the constant, so schedules
 * (tfc_exponential_decay) and placeholders work. Call before minimize. */
TFC_API void tfc_optimizer_set_learning_rate(tfc_optimizer *opt, tfc_output lr);

/* A (gradient, variable) pair; a null grad means "no gradient". A grad
 * that is sparse (tfc_gradient_sparse_parts: an embedding lookup's) is
 * applied as TensorFlow applies IndexedSlices, touching only its rows:
 * duplicates summed (Unique + UnsortedSegmentSum), then SparseApply*
 * (Momentum, Adagrad, AdagradDA, Adadelta, Ftrl, RMSProp, centered
 * RMSProp); GradientDescent uses ScatterSub; Adam decays m and v everywhere
 * and scatter-adds the rows (TensorFlow's _apply_sparse_shared).
 * Resource variables (tfc_resource_variable; var is the handle) work the
 * same way: their slots are resource variables and the updates are the
 * ResourceApply* ops, with every gradient applied densely. */
typedef struct tfc_grad_and_var {
    tfc_output grad;
    tfc_output var;
} tfc_grad_and_var;

/* Gradients of `loss` with respect to the `nvars` variables in `var_list`
 * (NULL: every trainable variable). Returns a malloc'd array of *n pairs
 * (the caller free()s it), or NULL with the error recorded on `g`. */
TFC_API tfc_grad_and_var *tfc_optimizer_compute_gradients(tfc_optimizer *opt, tfc_graph *g,
                                                          tfc_output loss,
                                                          const tfc_output *var_list,
                                                          int nvars, int *n);
/* Adds the update ops for the pairs with a gradient (creating slots on
 * first use) and returns the train op: a NoOp grouping them or, when
 * `global_step` is not null, the AssignAdd(global_step, 1) that runs after
 * them. The op is named after the optimizer ("Adam", "Adam_1", ...) and
 * joins the TFC_TRAIN_OP collection. NULL with the error recorded on `g`
 * when no pair has a gradient or a variable is not a float variable. */
TFC_API tfc_node *tfc_optimizer_apply_gradients(tfc_optimizer *opt, tfc_graph *g,
                                                const tfc_grad_and_var *gv, int n,
                                                tfc_output global_step);
/* tf.debugging.check_numerics: `tensor` (float) passed through, or the run
 * fails with "<message> : Tensor had NaN values" (or "Inf", or "Inf and
 * NaN") naming the node. The gradient is checked the same way on the way
 * back. */
TFC_API tfc_output tfc_check_numerics(tfc_graph *g, tfc_output tensor, const char *message);
/* tf.add_check_numerics_ops: a CheckNumerics (message "<node>:<output>")
 * on every float output of the nodes in `g` so far (variables are checked
 * where they are read), each waiting for the one before (as in
 * TensorFlow), and a NoOp after the last to run with the train op: the
 * first NaN or infinity in graph order fails the run, naming where it
 * appeared. Every tensor is checked, so runs of it must feed every
 * placeholder the graph's float tensors need. NULL with the error on g. */
TFC_API tfc_node *tfc_add_check_numerics_ops(tfc_graph *g);

/* Gradient clipping, as in TensorFlow; each is differentiable and errors
 * (a null or non-float tensor, a bad bound) are recorded on g, naming the
 * tensor. Between compute_gradients and apply_gradients:
 *     tfc_grad_and_var *gv = tfc_optimizer_compute_gradients(opt, g, loss, NULL, 0, &n);
 *     for (i...) grads[i] = gv[i].grad;
 *     tfc_clip_by_global_norm(g, grads, n, 5.0, grads, NULL);
 *     for (i...) gv[i].grad = grads[i];
 *     tfc_node *train = tfc_optimizer_apply_gradients(opt, g, gv, n, step);
 * Sparse gradients (tfc_gradient_sparse_parts) are measured by their rows
 * and stay sparse. */
/* min(max(t, min_value), max_value) (tf.clip_by_value). */
TFC_API tfc_output tfc_clip_by_value(tfc_graph *g, tfc_output t, double min_value,
                                     double max_value);
/* t * clip_norm / max(||t||_2, clip_norm): t rescaled to an L2 norm of at
 * most clip_norm (tf.clip_by_norm over all axes). */
TFC_API tfc_output tfc_clip_by_norm(tfc_graph *g, tfc_output t, double clip_norm);
/* sqrt(sum of the squared L2 norms of ts), null entries skipped
 * (tf.global_norm); the tensors must share one float dtype. */
TFC_API tfc_output tfc_global_norm(tfc_graph *g, const tfc_output *ts, int n);
/* Scales all ts by clip_norm / max(global_norm, clip_norm) into clipped[i]
 * (null stays null; clipped may be ts), so their global norm is at most
 * clip_norm; a NaN or infinite norm makes every output NaN
 * (tf.clip_by_global_norm). *global_norm (if not NULL) gets the norm before
 * clipping. Returns 0, or -1 with the error on g. */
TFC_API int tfc_clip_by_global_norm(tfc_graph *g, const tfc_output *ts, int n, double clip_norm,
                                    tfc_output *clipped, tfc_output *global_norm);

/* compute_gradients + apply_gradients (tf.train.Optimizer.minimize). */
TFC_API tfc_node *tfc_optimizer_minimize(tfc_optimizer *opt, tfc_graph *g, tfc_output loss,
                                         const tfc_output *var_list, int nvars,
                                         tfc_output global_step);
/* The slot variable `slot_name` ("m", "v", "momentum", "accumulator", ...)
 * of `var`, or a null output when it has none (yet). */
TFC_API tfc_output tfc_optimizer_get_slot(const tfc_optimizer *opt, tfc_output var,
                                          const char *slot_name);

/* Key of the collection holding the global step. */
#define TFC_GLOBAL_STEP "global_step"
/* The graph's global step: an int64 scalar variable "global_step" (not
 * trainable, starting at 0), created on first call. Null output with the
 * error recorded on `g` when a node "global_step" exists but is not one. */
TFC_API tfc_output tfc_train_get_or_create_global_step(tfc_graph *g);
/* learning_rate * decay_rate ^ (global_step / decay_steps), as a float32
 * scalar (tf.train.exponential_decay); with `staircase` the exponent is
 * floored, decaying in steps. decay_steps must be positive. */
TFC_API tfc_output tfc_exponential_decay(tfc_graph *g, double learning_rate,
                                         tfc_output global_step, double decay_steps,
                                         double decay_rate, int staircase);

/* (end of optimizers) */

/* ------------------------------------------------------------------------ */
/* Data: IDX files (MNIST, Fashion-MNIST) and mini-batches                  */
/* ------------------------------------------------------------------------ */

/* Reads an IDX file of unsigned bytes (element type 0x08), gzip-compressed
 * or plain, as a new TFC_UINT8 tensor with the file's dims (caller frees).
 * NULL with `status` naming the file when it is missing (TFC_NOT_FOUND),
 * truncated or corrupt (TFC_DATA_LOSS: bad magic, data size not matching
 * the dims) or of another element type (TFC_UNIMPLEMENTED). */
TFC_API tfc_tensor *tfc_idx_read(const char *path, tfc_status *status);

/* An in-memory data set of examples (the tutorials' DataSet): row i of
 * `images` goes with element i of `labels`. next_batch walks the examples
 * in a shuffled order and reshuffles at each new epoch; the order depends
 * only on the seed, so runs are reproducible. */
typedef struct tfc_dataset tfc_dataset;

/* A data set over `images` and `labels` (any dtype, rank >= 1, the same
 * dim 0); it takes its own references, the caller keeps theirs. `shuffle`
 * 0 keeps the file order. NULL with `status` set on mismatched sizes. */
TFC_API tfc_dataset *tfc_dataset_new(tfc_tensor *images, tfc_tensor *labels, int shuffle,
                                     uint64_t seed, tfc_status *status);
TFC_API void tfc_dataset_free(tfc_dataset *d);
/* Number of examples. */
TFC_API int64_t tfc_dataset_size(const tfc_dataset *d);
/* All images / labels in file order; owned by the data set (borrowed).
 * The loader's data sets (tfc_mnist_load) keep the images as bytes and
 * make the float32 tensor on the first call (NULL when memory runs out). */
TFC_API tfc_tensor *tfc_dataset_images(const tfc_dataset *d);
TFC_API tfc_tensor *tfc_dataset_labels(const tfc_dataset *d);
/* How many times next_batch has gone through all the examples. */
TFC_API int64_t tfc_dataset_epochs_completed(const tfc_dataset *d);
/* The next `batch_size` examples as two new tensors (caller frees both).
 * A batch that crosses the end of an epoch takes the rest of the old epoch
 * and the start of a freshly shuffled one, so each epoch yields every
 * example exactly once. Returns 0, or -1 with `status` set (batch_size < 1
 * or larger than the data set); then *images and *labels are NULL. */
TFC_API int tfc_dataset_next_batch(tfc_dataset *d, int64_t batch_size, tfc_tensor **images,
                                   tfc_tensor **labels, tfc_status *status);
/* Starts over: epoch 0, a new order from `seed`. */
TFC_API void tfc_dataset_reset(tfc_dataset *d, uint64_t seed);

/* Float32 one-hot rows [N, depth] for the integer `labels` [N] (caller
 * frees). NULL with `status` set for a non-integer type, a rank other than
 * 1 or a label outside [0, depth). */
TFC_API tfc_tensor *tfc_dense_to_one_hot(const tfc_tensor *labels, int depth,
                                         tfc_status *status);

/* MNIST or Fashion-MNIST (input_data.read_data_sets): images float32
 * [N, 784] scaled to [0, 1] (float32(byte) * float32(1 / 255), as
 * input_data), labels int32 [N] in 0..9. Train has 60000 examples
 * (shuffled with seed 1), test 10000 (in file order). The data sets keep
 * the bytes (47 MB for train rather than 188) and scale the rows a batch
 * draws: a batch's 100 rows come from all over memory, and bytes are a
 * quarter of the traffic. */
typedef struct tfc_mnist {
    tfc_dataset *train;
    tfc_dataset *test;
} tfc_mnist;

#define TFC_MNIST_DEFAULT_DIR "/usr/share/datasets/fashion-mnist"

/* Loads train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz,
 * t10k-images-idx3-ubyte.gz and t10k-labels-idx1-ubyte.gz (or the same
 * names without .gz) from `dir`; NULL means $TFC_MNIST_DIR, else
 * TFC_MNIST_DEFAULT_DIR (Debian's dataset-fashion-mnist). Free with
 * tfc_mnist_free. NULL with `status` naming the file that is missing or
 * corrupt. */
TFC_API tfc_mnist *tfc_mnist_load(const char *dir, tfc_status *status);
TFC_API void tfc_mnist_free(tfc_mnist *m);

/* (end of data) */

/* ------------------------------------------------------------------------ */
/* Checkpoints (tf.train.Saver)                                             */
/* ------------------------------------------------------------------------ */

/* A Saver writes and restores variables in TensorFlow's V2 checkpoint
 * format: <prefix>.index (an SSTable of tensor entries) and
 * <prefix>.data-00000-of-00001 (the raw bytes), plus a `checkpoint` state
 * file in the directory, so TensorFlow's checkpoint tools can read them.
 * Tensors are keyed by variable name ("dense/kernel"). */
typedef struct tfc_saver tfc_saver;

#define TFC_SAVER_KEEP_ALL (-1)

/* A saver over the `n` variables in `vars` (outputs of tfc_variable), or
 * over every global variable when `vars` is NULL. Keeps the newest
 * `max_to_keep` checkpoints (0: the default 5; TFC_SAVER_KEEP_ALL: all),
 * deleting older ones. NULL with the error recorded on `g` when an entry is
 * not a variable. Free with tfc_saver_free, before the graph. */
TFC_API tfc_saver *tfc_saver_new(tfc_graph *g, const tfc_output *vars, int n, int max_to_keep);
/* As tfc_saver_new, saving vars[i] under checkpoint key keys[i] instead of
 * its name (Saver({"name": var})), e.g. to load a checkpoint written by
 * another graph. keys NULL means the variables' names. */
TFC_API tfc_saver *tfc_saver_new_named(tfc_graph *g, const char *const *keys,
                                       const tfc_output *vars, int n, int max_to_keep);
TFC_API void tfc_saver_free(tfc_saver *sv);
/* The saver's max_to_keep (TFC_SAVER_KEEP_ALL for all). */
TFC_API int tfc_saver_max_to_keep(const tfc_saver *sv);
/* Saves the session's values under "<prefix>-<global_step>" (just <prefix>
 * when global_step < 0), atomically (temporary files, then rename), and
 * updates <dir>/checkpoint. Returns the checkpoint prefix written (owned by
 * the saver, valid until its next save), or NULL with `status` set (an
 * uninitialized variable, an unwritable directory). Also writes the
 * graph as <checkpoint prefix>.meta (see tfc_import_meta_graph).
 * Crash-safe: the state file is replaced (fsynced, renamed) before the
 * checkpoints beyond max_to_keep are deleted, so a process killed mid-save
 * leaves a state file listing only complete checkpoints; the next save in
 * the directory removes the temporaries of writers no longer running. */
TFC_API const char *tfc_saver_save(tfc_saver *sv, tfc_session *s, const char *prefix,
                                   int64_t global_step, tfc_status *status);
/* Restores every variable of the saver from checkpoint `prefix`; restored
 * variables count as initialized. Everything is validated first (files,
 * CRCs, names, dtypes, shapes), so on error no variable changes and
 * `status` names the file and variable. Returns 0 or -1. */
TFC_API int tfc_saver_restore(tfc_saver *sv, tfc_session *s, const char *prefix,
                              tfc_status *status);
/* The newest checkpoint prefix recorded in <dir>/checkpoint (relative
 * paths joined onto dir), or NULL when there is none. Caller frees. */
TFC_API char *tfc_latest_checkpoint(const char *dir);

/* Reads a V2 checkpoint (tf.train.load_checkpoint): single-shard and
 * little-endian, as tfc and TF's default Saver write them. */
typedef struct tfc_checkpoint_reader tfc_checkpoint_reader;
/* Opens <prefix>.index and checks its structure and CRCs; NULL with
 * `status` set when it is missing or corrupt. */
TFC_API tfc_checkpoint_reader *tfc_checkpoint_reader_open(const char *prefix,
                                                          tfc_status *status);
TFC_API void tfc_checkpoint_reader_free(tfc_checkpoint_reader *r);
/* Entries in key order; `i` in [0, num). Name owned by the reader. */
TFC_API int tfc_checkpoint_reader_num(const tfc_checkpoint_reader *r);
TFC_API const char *tfc_checkpoint_reader_name(const tfc_checkpoint_reader *r, int i);
/* dtype and shape of entry i (dtype TFC_INVALID_DTYPE for one tfc lacks). */
TFC_API tfc_dtype tfc_checkpoint_reader_dtype(const tfc_checkpoint_reader *r, int i);
TFC_API tfc_shape tfc_checkpoint_reader_shape(const tfc_checkpoint_reader *r, int i);
/* The value of tensor `name` (CRC-checked): a new reference owned by the
 * caller, or NULL with `status` set. */
TFC_API tfc_tensor *tfc_checkpoint_reader_get(tfc_checkpoint_reader *r, const char *name,
                                              tfc_status *status);

/* (end of checkpoints) */

/* ------------------------------------------------------------------------ */
/* Graph files (GraphDef, MetaGraph)                                        */
/* ------------------------------------------------------------------------ */

/* A graph as a tensorflow.GraphDef in protobuf wire format: each node's
 * name, op, inputs ("x", "x:1", "^ctrl"), device and attrs, plus
 * "_output_shapes". Functions (cond branches, loop conditions and bodies,
 * defined functions, their gradient functions, at any nesting depth) go to
 * the GraphDef's library as FunctionDefs, as TensorFlow writes them: a
 * signature of fixed dtypes (captured tensors become trailing arguments
 * that the calling node passes), the nodes the outputs need with inputs
 * named "arg" or "node:out_arg:index", the ret map, and each argument's
 * shape as arg_attr "_output_shapes". Function attrs are `func` values;
 * If, While and PartitionedCall also get Tin/Tout/T and output_shapes. A
 * While body that captures tensors is also written in TensorFlow's form
 * (captures returned unchanged) as "<body>_tf" for the While nodes.
 * Every node of an op TensorFlow has carries the attrs its OpDef requires
 * (type attrs such as Assign's T, number attrs, type lists, derived from
 * the node's dtypes) in their declared kinds; an attr of tfc's own that
 * the OpDef lacks is written "_tfc_<name>" (TensorFlow accepts '_' attrs;
 * tfc's import reads it back). Gradient graphs of loops use tfc's own
 * WhileGrad op, which TensorFlow lacks. Two functions of one name in different
 * bodies are an error. Stores a malloc'd buffer in *bytes (caller frees)
 * and its size in *len. 0, or -1 with `status` set. */
TFC_API int tfc_graph_to_graphdef(const tfc_graph *g, uint8_t **bytes, size_t *len,
                                  tfc_status *status);
TFC_API int tfc_graph_write_graphdef(const tfc_graph *g, const char *path, tfc_status *status);
/* A frozen graph (TensorFlow's graph_util.convert_variables_to_constants):
 * the GraphDef of the part of s's graph that the nodes named in
 * output_names[0, n) ("y" or "y:0") need, with every variable among them
 * written as a Const holding its current value in session s (a resource
 * variable's ReadVariableOps become Identities of it). The result runs
 * with no variables and no checkpoint. Stores a malloc'd buffer in *bytes
 * (caller frees) and its size in *len. Fails (-1, `status` set, naming the
 * node) when an output names no node, when a variable needed has no value
 * in s, or when the outputs need a node that updates a variable (Assign,
 * an optimizer's Apply op). */
TFC_API int tfc_graph_to_frozen_graphdef(tfc_session *s, const char *const *output_names, int n,
                                         uint8_t **bytes, size_t *len, tfc_status *status);
/* Adds the nodes of a serialized GraphDef to `g` (tf.import_graph_def):
 * names get "<prefix>/" when prefix is not NULL or ""; an input named
 * map_names[i] ("x" or "x:1") is replaced by the existing map_values[i].
 * Nodes may come in any order. Malformed bytes, an unknown op, a missing
 * input, a cycle or a bad attr is an error before any node is added; an
 * error from an op's own checks while adding leaves the nodes added so far
 * and the error on the graph. A VariableV2 "v" with an Assign "v/Assign"
 * joins the global and trainable variables with that initializer.
 * A function library is imported first: each FunctionDef becomes a
 * function of `g` (renamed name_N if `g` already has that name; prefix
 * does not apply), after the functions it calls; the imported graph runs
 * and differentiates like the original. StatelessIf, StatelessWhile,
 * StatefulPartitionedCall and a node whose op is a library function
 * become If, While and PartitionedCall. Errors (before any node or
 * function is added): an unknown function, a body input naming nothing,
 * a call passing the wrong number of inputs, a missing ret value, a
 * polymorphic or reference argument, control outputs (control_ret),
 * recursion.
 * 0, or -1 with `status` set. */
TFC_API int tfc_graph_import_graphdef(tfc_graph *g, const void *bytes, size_t len,
                                      const char *prefix, const char *const *map_names,
                                      const tfc_output *map_values, int nmap,
                                      tfc_status *status);
TFC_API int tfc_graph_import_graphdef_file(tfc_graph *g, const char *path, const char *prefix,
                                           tfc_status *status);

/* Options of the _v2 imports. Zero-initialize, then set what you need; a
 * NULL options pointer means all defaults. */
typedef struct tfc_import_options {
    const char *prefix;           /* names get "<prefix>/" (NULL or "": none) */
    const char *const *map_names; /* input_map: an input named map_names[i] */
    const tfc_output *map_values; /*   ("x" or "x:1") becomes map_values[i] */
    int nmap;
    /* The most bytes the constant tensors of one import (Const values and
     * other tensor attrs, functions included) may take in all, checked
     * from their declared shapes before anything is allocated, so that a
     * small hostile file cannot make a huge allocation. 0: the default,
     * TFC_IMPORT_DEFAULT_MAX_BYTES; raise it for larger constants. */
    int64_t max_bytes;
    /* Outputs to keep (tf.compat.v1.graph_util.extract_sub_graph): names
     * as in the file, "y:0", "y" or "^init" (a node run for its effect).
     * When set, only these nodes and the nodes they depend on through data
     * and control inputs are imported (an input replaced by the input_map
     * does not pull in its producer), with the library functions they
     * call; the rest of the file is not checked, so an op tfc lacks there
     * does no harm. A name that is no node is TFC_NOT_FOUND. NULL: every
     * node, as before. Either way, every op tfc lacks among the nodes
     * imported is listed in one error (TFC_NOT_FOUND), each with a node
     * using it. */
    const char *const *keep_outputs;
    int nkeep_outputs;
} tfc_import_options;
#define TFC_IMPORT_DEFAULT_MAX_BYTES ((int64_t)1 << 30) /* 1 GiB */

/* tfc_graph_import_graphdef with options (opts may be NULL). The calls
 * without _v2 use the defaults, so they have the same bound. Constants
 * past the bound fail with TFC_RESOURCE_EXHAUSTED naming the node, the
 * attr and its bytes, before any node is added; so does a tensor whose
 * allocation fails. Every NodeDef is checked against TensorFlow's
 * declarations before any node is added: an attr of the wrong kind (a
 * string where a type or bool is declared), a Const whose dtype is not
 * its value's, a dim below -1 in a shape, a device that is not a device
 * name (see tfc_device_push) are errors naming the node and the attr;
 * a type attr that is not its input's dtype (T of an Identity) is one
 * when the node is added. 0, or -1 with `status` set. */
TFC_API int tfc_graph_import_graphdef_v2(tfc_graph *g, const void *bytes, size_t len,
                                         const tfc_import_options *opts, tfc_status *status);
TFC_API int tfc_graph_import_graphdef_file_v2(tfc_graph *g, const char *path,
                                              const tfc_import_options *opts,
                                              tfc_status *status);

/* Writes a MetaGraphDef (tf.train.export_meta_graph) to `path`, one that
 * TensorFlow's tf.train.import_meta_graph and Saver.restore take: the
 * GraphDef; the variable collections as VariableDef protos (variable_name
 * "w:0", initializer_name "w/Assign", snapshot_name "w/read:0", a w/read
 * Identity added to the file where the graph has none, initial_value_name,
 * trainable), the other collections as names ("op", or "tensor:0" for
 * collections of tensors such as summaries); meta_info_def (tfc's version
 * strings, any_info, stripped_op_list: TensorFlow's OpDef of every op
 * used). With a saver: TensorFlow's save/restore subgraph for the global
 * variables is added to the file (save/Const, the filename, fed with a
 * checkpoint prefix; save/SaveV2 and save/control_dependency; save/RestoreV2,
 * save/Assign per variable, save/restore_all), unless the graph has one
 * (imported), and saver_def names it (V2). tfc runs that subgraph too once
 * the MetaGraph is imported: feed save/Const:0 and run save/restore_all to
 * restore, or fetch save/control_dependency:0 to save. Savers also write
 * one as <checkpoint prefix>.meta. 0, or -1 with status set. */
TFC_API int tfc_export_meta_graph(const tfc_graph *g, const tfc_saver *sv, const char *path,
                                  tfc_status *status);
/* Imports a MetaGraphDef (tf.train.import_meta_graph) into `g`: its nodes
 * (names unchanged, so `g` should not hold nodes of the same names) and
 * its collections, so that tfc_saver_new(g, NULL, 0, 0) can restore a
 * checkpoint and the train op is found with
 * tfc_graph_collection_get(g, TFC_TRAIN_OP, 0). Variable collections may
 * hold VariableDefs (TensorFlow's, and tfc's own files) or node names
 * (tfc's files before). Errors as for
 * tfc_graph_import_graphdef; a collection naming a node the graph lacks is
 * one too, naming the collection and the node, and nothing is imported.
 * 0 or -1. */
TFC_API int tfc_import_meta_graph(tfc_graph *g, const char *path, tfc_status *status);
/* tfc_import_meta_graph with options (opts may be NULL): with a prefix,
 * nodes and the collections' entries get "<prefix>/". */
TFC_API int tfc_import_meta_graph_v2(tfc_graph *g, const char *path,
                                     const tfc_import_options *opts, tfc_status *status);

/* (end of graph files) */

/* ------------------------------------------------------------------------ */
/* SavedModel (tf.saved_model)                                              */
/* ------------------------------------------------------------------------ */

/* A SavedModel directory, as TensorFlow lays it out:
 *   DIR/saved_model.pb   MetaGraphDefs, each with a tag set ("serve", ...)
 *                        and signatures: named inputs and outputs
 *   DIR/variables/       the checkpoint variables.{index,data-00000-of-00001}
 *   DIR/assets/          files the graph reads (vocabularies, ...)
 * tfc reads what TensorFlow 1.x and 2.x write (TF2's object graph is
 * ignored: the signatures and the graph are enough to serve) and writes
 * what TensorFlow's loaders read. */
typedef struct tfc_saved_model tfc_saved_model;

/* One input or output of a signature (TensorFlow's TensorInfo). Strings
 * are owned by the tfc_saved_model. `output` is the tensor in the loaded
 * graph (node NULL when read without loading, or not imported). */
typedef struct tfc_tensor_info {
    const char *key;  /* the signature's name for it: "x", "inputs" */
    const char *name; /* the graph's tensor name: "x:0" */
    tfc_dtype dtype;  /* TensorFlow's DataType number */
    tfc_shape shape;  /* rank -1: unknown */
    tfc_output output;
} tfc_tensor_info;

/* Loads the MetaGraphDef of DIR whose tag set equals tags[0..ntags) (in
 * any order) into `g` (tf.compat.v1.saved_model.loader.load): only what
 * its signatures, init op and variables need is imported (the Saver's
 * subgraph is not), so ops tfc lacks elsewhere do no harm; the ops the
 * signatures need and tfc lacks are listed in one error. Then it makes a
 * session (opts may be NULL), restores the variables from
 * DIR/variables/variables (by the checkpoint keys the file's restore op
 * names, TF1's Assign(var, RestoreV2) and TF2's restore function, or the
 * variables' names) and runs the init op (main_op, legacy_init_op or TF2's
 * __saved_model_init_op) with the asset tensors fed their paths under
 * DIR/assets. Errors (NULL, status set, nothing usable added): DIR
 * missing (TFC_NOT_FOUND), no saved_model.pb, a malformed one
 * (TFC_INVALID_ARGUMENT naming the file), no MetaGraphDef with these tags
 * (TFC_NOT_FOUND listing the tag sets there are), a variable missing from
 * the checkpoint. The result owns the session (tfc_saved_model_session);
 * free it with tfc_saved_model_free before `g`. */
TFC_API tfc_saved_model *tfc_saved_model_load(const char *dir, const char *const *tags,
                                              int ntags, tfc_graph *g,
                                              const tfc_session_options *opts,
                                              tfc_status *status);
/* As tfc_saved_model_load, into the graph of session `s` and into `s`
 * itself (tf.compat.v1.saved_model.loader.load(sess, tags, dir)): the
 * variables are restored and the init op runs in `s`, which stays the
 * caller's (tfc_saved_model_session returns it; freeing the model leaves
 * it alone). */
TFC_API tfc_saved_model *tfc_saved_model_load_into(tfc_session *s, const char *dir,
                                                   const char *const *tags, int ntags,
                                                   tfc_status *status);
/* Reads DIR/saved_model.pb without loading a graph (what saved_model_cli
 * show does): tag sets and signatures only. NULL with status set. */
TFC_API tfc_saved_model *tfc_saved_model_read(const char *dir, tfc_status *status);
/* Frees the model and its session (not the graph). NULL is fine. */
TFC_API void tfc_saved_model_free(tfc_saved_model *m);
/* The session of a loaded model (owned by it), or NULL. */
TFC_API tfc_session *tfc_saved_model_session(const tfc_saved_model *m);
/* The MetaGraphDefs and their tags (strings owned by the model). */
TFC_API int tfc_saved_model_num_meta_graphs(const tfc_saved_model *m);
TFC_API int tfc_saved_model_num_tags(const tfc_saved_model *m, int meta_graph);
TFC_API const char *tfc_saved_model_tag(const tfc_saved_model *m, int meta_graph, int i);
/* The index of the MetaGraphDef with exactly these tags, or -1. */
TFC_API int tfc_saved_model_find_meta_graph(const tfc_saved_model *m, const char *const *tags,
                                            int ntags);
/* Which MetaGraphDef the signature calls below describe: the loaded one,
 * or 0 after tfc_saved_model_read. Only a model read without loading may
 * switch. 0, or -1 when out of range or loaded. */
TFC_API int tfc_saved_model_select(tfc_saved_model *m, int meta_graph);
/* Signatures (SignatureDefs) in file order: name ("serving_default"),
 * method ("tensorflow/serving/predict"), index by name (-1 if none). */
TFC_API int tfc_saved_model_num_signatures(const tfc_saved_model *m);
TFC_API const char *tfc_saved_model_signature_name(const tfc_saved_model *m, int sig);
TFC_API const char *tfc_saved_model_signature_method(const tfc_saved_model *m, int sig);
TFC_API int tfc_saved_model_signature_find(const tfc_saved_model *m, const char *name);
/* Why signature `sig` of a loaded model cannot run, or NULL when it can.
 * A signature whose tensors need ops tfc lacks is left out of the import
 * (its tensors' `output` stay null) so that the others serve; the message
 * lists each missing op with a node using it. The load itself fails only
 * when the init op or the variables need such ops, or no signature is
 * left. */
TFC_API const char *tfc_saved_model_signature_error(const tfc_saved_model *m, int sig);
/* A signature's inputs and outputs, in file order; out of range gives an
 * entry with key NULL. */
TFC_API int tfc_saved_model_signature_num_inputs(const tfc_saved_model *m, int sig);
TFC_API int tfc_saved_model_signature_num_outputs(const tfc_saved_model *m, int sig);
TFC_API tfc_tensor_info tfc_saved_model_signature_input(const tfc_saved_model *m, int sig,
                                                        int i);
TFC_API tfc_tensor_info tfc_saved_model_signature_output(const tfc_saved_model *m, int sig,
                                                         int i);

/* A signature to export: inputs[i] is named input_keys[i], likewise for
 * the outputs; method_name NULL means "tensorflow/serving/predict". */
typedef struct tfc_signature_def {
    const char *name;
    const char *method_name;
    int ninputs;
    const char *const *input_keys;
    const tfc_output *inputs;
    int noutputs;
    const char *const *output_keys;
    const tfc_output *outputs;
} tfc_signature_def;

/* Exports `g` with the values of session `s` as SavedModel DIR
 * (tf.compat.v1.saved_model.Builder with one MetaGraphDef): DIR is made if
 * needed; saved_model.pb holds the MetaGraphDef tfc_export_meta_graph
 * writes, tagged tags[0..ntags), with the signatures; variables/ holds
 * every global variable under its name. Errors (-1, status set): DIR
 * already holding a saved_model.pb (TFC_ALREADY_EXISTS), a signature
 * without a name or a key or naming a tensor of another graph, an
 * uninitialized variable, a file that cannot be written. 0 on success. */
TFC_API int tfc_saved_model_save(const char *dir, tfc_graph *g, tfc_session *s,
                                 const char *const *tags, int ntags,
                                 const tfc_signature_def *sigs, int nsigs, tfc_status *status);

/* (end of SavedModel) */

/* ------------------------------------------------------------------------ */
/* Summaries and event files (TensorBoard)                                  */
/* ------------------------------------------------------------------------ */

/* TFRecord files: length-prefixed records with masked CRC-32C checks. */
typedef struct tfc_record_writer tfc_record_writer;
typedef struct tfc_record_reader tfc_record_reader;
/* Creates (or appends to) `path`; NULL with `status` set on failure. */
TFC_API tfc_record_writer *tfc_record_writer_open(const char *path, int append,
                                                  tfc_status *status);
/* Returns 0, or -1 with `status` set. */
TFC_API int tfc_record_writer_write(tfc_record_writer *w, const void *data, size_t n,
                                    tfc_status *status);
TFC_API int tfc_record_writer_flush(tfc_record_writer *w, tfc_status *status);
/* Closes and frees; returns -1 (and sets `status` if not NULL) when the
 * final write failed. */
TFC_API int tfc_record_writer_close(tfc_record_writer *w, tfc_status *status);
TFC_API tfc_record_reader *tfc_record_reader_open(const char *path, tfc_status *status);
/* Reads the next record: 1 with *data (owned by the reader, valid until the
 * next call) and *n set; 0 at the end; -1 with `status` set (TFC_DATA_LOSS)
 * for a truncated or corrupt record. */
TFC_API int tfc_record_reader_next(tfc_record_reader *r, const uint8_t **data, size_t *n,
                                   tfc_status *status);
TFC_API void tfc_record_reader_close(tfc_record_reader *r);

/* Summary ops, TensorFlow's (ScalarSummary, HistogramSummary, ImageSummary,
 * TensorSummaryV2, MergeSummary): each returns a TFC_STRING scalar holding
 * one serialized tensorflow.Summary, which tfc_summary_writer_add_summary
 * takes. Named as tf.summary.* names them: the node is the tag under the
 * current name scope made unique ("hidden1/weights", then
 * "hidden1/weights_1"), that name is the tag written, and the tag is a
 * string Const "<node>/tags" (ScalarSummary) or "<node>/tag" (the others)
 * that the builder makes. tfc_with_name names the node instead. Each
 * summary joins the TFC_SUMMARIES collection. A NULL or empty tag, or an
 * input of the wrong dtype or shape, fails the graph naming the node. */
/* "ScalarSummary": `value` must be a scalar of a real number type. (The op
 * itself takes a string tensor of tags and values of the same shape.) */
TFC_API tfc_output tfc_scalar_summary(tfc_graph *g, const char *tag, tfc_output value);
/* "HistogramSummary": a histogram of all elements of `values` with
 * TensorFlow's default bucket edges (0, then +-1e-12 growing by 1.1 up to
 * 1e20, then +-DBL_MAX); as TF writes it, the non-empty buckets are listed
 * and each run of empty ones is one zero entry. A NaN or infinite value
 * fails the run ("Nan in summary histogram for: <node>"). */
TFC_API tfc_output tfc_histogram_summary(tfc_graph *g, const char *tag, tfc_output values);
/* "ImageSummary": PNG images from a [batch, height, width, channels]
 * uint8, float or double tensor, channels 1, 3 or 4. Float images are
 * scaled per image as TF does: all non-negative -> the largest becomes 255;
 * else 0 -> 128 and the largest magnitude -> 127 steps from it; a pixel
 * with a non-finite channel becomes bad_color (red). At most max_images
 * (<= 0: 3) images, tagged "<tag>/image/<i>", or "<tag>/image" when
 * max_images is 1. */
TFC_API tfc_output tfc_image_summary(tfc_graph *g, const char *tag, tfc_output images,
                                     int max_images);
/* tf.summary.audio ("AudioSummaryV2"): a float tensor [batch, frames,
 * channels] or [batch, frames] (one channel) of samples in [-1, 1] at
 * `sample_rate` Hz (a float scalar > 0), each of at most max_outputs (<= 0:
 * 3) clips encoded as a 16-bit PCM WAV (content type "audio/wav"), tagged
 * "<tag>/audio/<i>", or "<tag>/audio" when max_outputs is 1. */
TFC_API tfc_output tfc_audio_summary(tfc_graph *g, const char *tag, tfc_output audio,
                                     tfc_output sample_rate, int max_outputs);
/* tf.summary.text: a "TensorSummaryV2" of the string `text` (a Const the
 * builder makes) with TensorBoard's "text" plugin in its metadata. */
TFC_API tfc_output tfc_text_summary(tfc_graph *g, const char *tag, const char *text);
/* The same for a string tensor of any shape computed in the graph. */
TFC_API tfc_output tfc_text_summary_v2(tfc_graph *g, const char *tag, tfc_output text);
/* "MergeSummary" (tf.summary.merge): one summary holding the values of all
 * `n` inputs, string tensors of any shape whose elements are serialized
 * Summaries. Two values with one (non-empty) tag fail the run ("Duplicate
 * tag <tag> found in summary inputs"). */
TFC_API tfc_output tfc_merge_summary(tfc_graph *g, const tfc_output *inputs, int n);
/* Merges every summary in the TFC_SUMMARIES collection; a null output (not
 * an error) when there is none. */
TFC_API tfc_output tfc_merge_all_summaries(tfc_graph *g);

/* A FileWriter: writes <logdir>/events.out.tfevents.<time>.<host> for
 * TensorBoard. Events are queued and written when `max_queue` are pending
 * (0: 10), every `flush_secs` seconds by a background thread (0: 120), and
 * at flush/close. One writer may be used from several threads. */
typedef struct tfc_summary_writer tfc_summary_writer;
/* Creates logdir if needed and writes the first event (file_version
 * "brain.Event:2"). `g` (may be NULL) is added as the run's graph. */
TFC_API tfc_summary_writer *tfc_summary_writer_new(const char *logdir, tfc_graph *g,
                                                   int max_queue, double flush_secs,
                                                   tfc_status *status);
/* Path of the event file; owned by the writer. */
TFC_API const char *tfc_summary_writer_path(const tfc_summary_writer *w);
/* Adds a summary (FileWriter.add_summary): a string tensor holding one
 * serialized Summary, as a summary op returns it, at `step`. 0 or -1
 * (another dtype, several elements, or bytes that are not a Summary). */
TFC_API int tfc_summary_writer_add_summary(tfc_summary_writer *w, const tfc_tensor *summary,
                                           int64_t step, tfc_status *status);
/* Adds one scalar without a graph op. 0 or -1. */
TFC_API int tfc_summary_writer_add_scalar(tfc_summary_writer *w, const char *tag, double value,
                                          int64_t step, tfc_status *status);
/* Adds the graph (as a GraphDef) for TensorBoard's graph tab. 0 or -1. */
TFC_API int tfc_summary_writer_add_graph(tfc_summary_writer *w, const tfc_graph *g,
                                         tfc_status *status);
TFC_API int tfc_summary_writer_flush(tfc_summary_writer *w, tfc_status *status);
/* Flushes, closes and frees. `status` may be NULL. 0 or -1. */
TFC_API int tfc_summary_writer_close(tfc_summary_writer *w, tfc_status *status);

/* Reading event files (tests, tools). */
typedef enum tfc_summary_kind {
    TFC_SUMMARY_OTHER = 0,
    TFC_SUMMARY_SCALAR,
    TFC_SUMMARY_HISTOGRAM,
    TFC_SUMMARY_IMAGE,
    TFC_SUMMARY_TENSOR
} tfc_summary_kind;

typedef struct tfc_summary_value {
    const char *tag;
    tfc_summary_kind kind;
    double scalar;                       /* SCALAR: a TF1 simple_value, or TF2's
                                            one-element tensor of the "scalars" plugin */
    double hmin, hmax, hnum, hsum, hsum_squares; /* HISTOGRAM */
    int nbuckets;
    const double *bucket_limit, *bucket; /* HISTOGRAM, nbuckets each */
    int width, height, colorspace;       /* IMAGE */
    const uint8_t *data;                 /* IMAGE: encoded PNG; TENSOR: the text */
    size_t size;
    const char *plugin;                  /* plugin name from the metadata, or "" */
} tfc_summary_value;

typedef struct tfc_event {
    double wall_time;
    int64_t step;
    const char *file_version;            /* "" unless the event holds one */
    const uint8_t *graph_def;            /* serialized GraphDef, or NULL */
    size_t graph_def_size;
    int nvalues;                         /* summary values */
    const tfc_summary_value *values;
} tfc_event;

typedef struct tfc_event_reader tfc_event_reader;
TFC_API tfc_event_reader *tfc_event_reader_open(const char *path, tfc_status *status);
/* Reads the next event into *ev (pointers owned by the reader, valid until
 * the next call): 1, 0 at the end, -1 with `status` set when corrupt. */
TFC_API int tfc_event_reader_next(tfc_event_reader *r, tfc_event *ev, tfc_status *status);
TFC_API void tfc_event_reader_close(tfc_event_reader *r);

/* (end of summaries) */

/* ------------------------------------------------------------------------ */
/* Distributed: MPI                                                         */
/* ------------------------------------------------------------------------ */

/* tfc's distributed runtime (src/distributed/) runs on MPI: the processes
 * of a job are the ranks of one `mpirun`, e.g.
 *     mpirun -np 3 ./trainer          (one host)
 *     mpirun -np 8 --hostfile hosts ./trainer   (several)
 * tfc_mpi_init initializes MPI (MPI_Init_thread) asking for
 * MPI_THREAD_MULTIPLE, since a session's threads send and receive at the
 * same time; it fails with FAILED_PRECONDITION when the library provides
 * less. Call it once, first; `argc`/`argv` may be NULL. When the program
 * initialized MPI itself, tfc_mpi_init only checks the thread level. */
TFC_API int tfc_mpi_init(int *argc, char ***argv, tfc_status *status);
/* This process's rank in MPI_COMM_WORLD, and the number of ranks; -1
 * before tfc_mpi_init. */
TFC_API int tfc_mpi_rank(void);
TFC_API int tfc_mpi_size(void);
/* Frees tfc's communicators and, when tfc_mpi_init initialized MPI,
 * finalizes it. Every rank calls it at the end (it is collective). */
TFC_API void tfc_mpi_finalize(void);

/* ------------------------------------------------------------------------ */
/* Distributed: synchronous training by allreduce (as Horovod does)         */
/* ------------------------------------------------------------------------ */

/* Every rank runs the same graph on its own part of the batch; gradients
 * are averaged over the ranks with MPI before the optimizer applies them,
 * so the variables stay equal everywhere; no parameter server. From a
 * single-process program, two lines change (after tfc_mpi_init):
 *     tfc_optimizer *opt = tfc_distributed_optimizer(tfc_adam_optimizer(...), NULL);
 *     ... minimize, init as before; after running init:
 *     tfc_node *bcast = tfc_broadcast_global_variables(g, 0);   (run once)
 * and each rank feeds its own shard of the data.
 *
 * The ops are collectives: every rank must run them in the same order. A
 * run's collectives go through one thread per process, in the order their
 * inputs became ready, and each starts with a small exchange that checks
 * that all ranks reached the same one (node name, kind, dtype, sizes): a
 * mismatch fails the run on every rank with an error naming what each rank
 * ran; a rank that never comes fails the others after the collective
 * timeout. Independent collectives in one run must therefore be ordered
 * (control dependencies) or grouped into one op, as the distributed
 * optimizer does. Op types are Horovod's (HorovodAllreduce,
 * HorovodGroupedAllreduce, HorovodBroadcast), with its attrs, plus tfc's
 * own TfcOrderedAllreduce and TfcGroupedBroadcast. Builders record errors
 * on the graph (null output / -1 / NULL). */
typedef enum tfc_reduce_op {
    TFC_REDUCE_AVERAGE = 0, /* sum / number of contributions (float types only) */
    TFC_REDUCE_SUM = 1
} tfc_reduce_op;

/* The sum or average of `x` over all ranks (float32, float64, int32,
 * int64; the same shape everywhere). Gradient: the same allreduce of the
 * incoming gradient. */
TFC_API tfc_output tfc_allreduce(tfc_graph *g, tfc_output x, tfc_reduce_op op);
/* Allreduces `n` tensors of one dtype in one collective (fused into
 * buffers of the fusion threshold) into out[0..n). 0 or -1. */
TFC_API int tfc_grouped_allreduce(tfc_graph *g, const tfc_output *xs, int n, tfc_reduce_op op,
                                  tfc_output *out);
/* Deterministic allreduce: each rank gives `local_shards` shards of `n`
 * tensors, xs[j * n + i] being local shard j's tensor i; rank r's shards
 * are the global shards r * local_shards .. (r + 1) * local_shards - 1 of
 * S = ranks * local_shards. out[i] is, element by element, the float sum
 * ((c_0 + c_1) + c_2) + ... + c_{S-1} of the S shards' tensor i in global
 * shard order, divided by S for TFC_REDUCE_AVERAGE: the same bits whatever
 * the number of ranks (for one S) and the fusion threshold. It moves about
 * as many bytes as a ring allreduce (an MPI_Alltoallv, the ordered sum of
 * each rank's slice, an MPI_Allgatherv). 0 or -1. */
TFC_API int tfc_ordered_allreduce(tfc_graph *g, const tfc_output *xs, int n, int local_shards,
                                  tfc_reduce_op op, tfc_output *out);
/* `x` as rank `root_rank` holds it, on every rank (any numeric or bool
 * dtype). Gradient (float types): the sum over ranks on the root, zeros
 * elsewhere. */
TFC_API tfc_output tfc_broadcast(tfc_graph *g, tfc_output x, int root_rank);
/* One op assigning to every global variable (TFC_GLOBAL_VARIABLES, at the
 * time of the call: call it after minimize, so slots are included;
 * resource variables too) its value on `root_rank`, in one collective
 * (hvd.broadcast_global_variables).
 * Run it once after initializing (or restoring on the root). NULL with the
 * error on g. */
TFC_API tfc_node *tfc_broadcast_global_variables(tfc_graph *g, int root_rank);

/* How the distributed optimizer reduces; zero means the default. */
typedef struct tfc_distributed_options {
    /* 0: MPI_Allreduce (fastest; the summation order is MPI's, so the last
     * bits may change with the number of ranks). 1: tfc_ordered_allreduce,
     * bit-reproducible: see tfc_distributed_compute_gradients. */
    int deterministic;
    /* 0 or TFC_REDUCE_AVERAGE (the default), or TFC_REDUCE_SUM */
    tfc_reduce_op op;
} tfc_distributed_options;

/* Wraps `opt` (hvd.DistributedOptimizer): its compute_gradients (and so
 * minimize) now returns the gradients averaged over the ranks, all
 * gradients of one dtype in one fused collective. Returns `opt` itself
 * (one object: free it as before), or NULL when opt is NULL or memory runs
 * out. `o` may be NULL. Gradients given to apply_gradients by the caller
 * are applied as they are (as in Horovod). */
TFC_API tfc_optimizer *tfc_distributed_optimizer(tfc_optimizer *opt,
                                                 const tfc_distributed_options *o);
/* Deterministic data parallelism over a fixed number of "virtual shards":
 * the global batch is cut into S shards, rank r builds `nshards` = S /
 * ranks towers (the model on shards r * nshards ..), one loss per tower in
 * `shard_losses`, sharing the variables. Returns the (grad, var) pairs
 * where grad is tfc_ordered_allreduce of the towers' gradients: for every
 * number of ranks that divides S, training gives the same bits as one
 * process computing the gradient of each of the S shards (tfc_gradients
 * of each shard's loss) and summing them in shard order, left to right,
 * then dividing by S. It is not bit-equal to the gradient of one loss over
 * the whole batch: matrix products sum a batch's rows in another order
 * (docs/SCALING.md measures by how much). `opt` must come from
 * tfc_distributed_optimizer (its reduce op is used). The caller free()s
 * the array; NULL with the error on g. */
TFC_API tfc_grad_and_var *tfc_distributed_compute_gradients(tfc_optimizer *opt, tfc_graph *g,
                                                            const tfc_output *shard_losses,
                                                            int nshards,
                                                            const tfc_output *var_list,
                                                            int nvars, int *n);

/* Size of the fused buffers (default 64 MiB, or $TFC_FUSION_THRESHOLD):
 * collectives move their tensors in windows of at most this many bytes,
 * one MPI call per window. 0 restores the default. Set it alike on every
 * rank, between runs. */
TFC_API void tfc_allreduce_set_fusion_threshold(size_t bytes);
/* How long a collective waits for every rank to arrive before failing
 * with DEADLINE_EXCEEDED (default 300 s, or $TFC_COLLECTIVE_TIMEOUT).
 * After such a timeout this process's collectives stay unusable (MPI
 * cannot cancel the exchange left waiting): end the job. */
TFC_API void tfc_collective_set_timeout(double seconds);

/* Chief-only checkpoints: rank 0 (the chief) writes, the other ranks do
 * not touch the files; every rank gets the chief's result, so that all
 * stop together on an error. Collective. 0, or -1 with `status` set. */
TFC_API int tfc_allreduce_save(tfc_saver *saver, tfc_session *s, const char *prefix,
                               int64_t global_step, tfc_status *status);
/* Starts training on every rank from the chief's state: the chief
 * restores the latest checkpoint in `checkpoint_dir` (tfc_latest_checkpoint)
 * if there is one, else runs `init`; the other ranks run `init`; then every
 * rank runs `broadcast` (from tfc_broadcast_global_variables(g, 0)), so all
 * hold the chief's values. Collective. Returns 1 when restored, 0 when
 * initialized, -1 with `status` set (on every rank when the chief
 * failed). Summaries: create the summary writer on the chief only. */
TFC_API int tfc_allreduce_restore_or_init(tfc_saver *saver, tfc_session *s,
                                          const char *checkpoint_dir, tfc_node *init,
                                          tfc_node *broadcast, tfc_status *status);

/* (end of distributed) */

/* ------------------------------------------------------------------------ */
/* Distributed: clusters, servers, sessions on a cluster (parameter servers) */
/* ------------------------------------------------------------------------ */

/* TensorFlow's distributed model over MPI (docs/DISTRIBUTED.md). A
 * CLUSTER names jobs ("ps", "worker") and their tasks; each task is one
 * MPI rank and runs a SERVER. A session made on a server is a MASTER: at
 * its first run of a signature it places the graph's nodes on the tasks
 * (tfc_device_push(g, "/job:ps/task:0") and colocation as in one process),
 * sends each task its part of the graph (a GraphDef, once), and each step
 * then runs the parts at once, tensors crossing between tasks over MPI.
 * Variables on a task live in that task's server: every session that uses
 * them, from any worker, shares them (as TensorFlow's ps does), and they
 * outlive the sessions.
 *
 *     mpirun -np 3 ./trainer          rank 0: /job:ps/task:0, 1-2: workers
 *
 *     tfc_mpi_init(&argc, &argv, st);
 *     tfc_cluster *c = tfc_cluster_from_layout("ps:1,worker", 0, st);
 *     tfc_server *srv = tfc_server_new(c, NULL, -1, NULL, st); // from the rank
 *     tfc_server_start(srv, st);
 *     if (!strcmp(tfc_server_job(srv), "ps")) tfc_server_join(srv, st);
 *     else { build g (variables under a replica device setter),
 *            tfc_cluster_session *s = tfc_session_new_on_server(srv, g, NULL, st);
 *            tfc_cluster_session_run(s, ...) ...; tfc_cluster_session_free(s); }
 *     tfc_server_free(srv); tfc_cluster_free(c); tfc_mpi_finalize();
 *
 * MPI thread level: MPI_THREAD_MULTIPLE (tfc_mpi_init checks it): each
 * server's progress thread receives while the executor's threads send.
 *
 * Failure: a task that stops answering (no message, heartbeats included,
 * for peer_timeout_ms) is LOST: every run on the other tasks fails with
 * TFC_UNAVAILABLE naming it ("task /job:worker/task:1 (rank 2) is lost:
 * ..."), joins return that error, and the servers stay failed. A process
 * that dies outright is seen by mpirun first: Open MPI's mpirun then ends
 * every rank of the job (its default; see docs/DISTRIBUTED.md). Under
 * mpirun --enable-recovery the others go on and get that error, but
 * MPI_Finalize would then wait for the dead rank: on TFC_UNAVAILABLE,
 * exit with a non-zero status without tfc_mpi_finalize. */

typedef struct tfc_cluster tfc_cluster;

/* A cluster from TensorFlow's JSON form, jobs mapping to task addresses:
 *     {"ps": ["h0:2222"], "worker": ["h1:2222", "h2:2222"]}
 * Addresses are kept as names only (MPI is the transport). Ranks follow
 * the order of the jobs as written: here ps task 0 is rank 0, the workers
 * ranks 1 and 2. Malformed JSON, a job name that is not a letter followed
 * by letters, digits and '_', a job listed twice or with no tasks fail
 * with TFC_INVALID_ARGUMENT naming what was expected. NULL on error. */
TFC_API tfc_cluster *tfc_cluster_from_json(const char *json, tfc_status *status);
/* A cluster laid over `nranks` MPI ranks (0: tfc_mpi_size()), jobs over
 * ranks in order: "ps:1,worker:2" makes rank 0 /job:ps/task:0 and ranks
 * 1-2 the workers; one job may leave out its count and takes the ranks
 * left ("ps:1,worker"). More tasks than ranks is an error. */
TFC_API tfc_cluster *tfc_cluster_from_layout(const char *layout, int nranks,
                                             tfc_status *status);
TFC_API void tfc_cluster_free(tfc_cluster *c);
TFC_API int tfc_cluster_num_jobs(const tfc_cluster *c);
/* Job i's name (owned by c), or NULL. */
TFC_API const char *tfc_cluster_job_name(const tfc_cluster *c, int i);
/* The tasks of `job`, or -1 when there is no such job. */
TFC_API int tfc_cluster_num_tasks(const tfc_cluster *c, const char *job);
TFC_API int tfc_cluster_total_tasks(const tfc_cluster *c);
/* The address a JSON spec gave the task (NULL for a layout, or out of range). */
TFC_API const char *tfc_cluster_task_address(const tfc_cluster *c, const char *job, int task);
/* The MPI rank of a task, or -1 with `status` naming the unknown job (and
 * the jobs there are) or the task out of range (and the range). */
TFC_API int tfc_cluster_task_rank(const tfc_cluster *c, const char *job, int task,
                                  tfc_status *status);
/* The task at `rank`: *job (owned by c) and *task; 0, or -1 when no task
 * sits there. */
TFC_API int tfc_cluster_rank_task(const tfc_cluster *c, int rank, const char **job, int *task);

/* Server options: zero means the default. */
typedef struct tfc_server_options {
    int threads;              /* the task session's inter-op threads (default and
                                 minimum 2) */
    int64_t heartbeat_ms;     /* how often a server tells the others it lives (500) */
    int64_t peer_timeout_ms;  /* silence after which a task is lost (10000) */
    int64_t start_timeout_ms; /* how long to wait for other tasks to start (60000) */
    int quiet;                /* nonzero: no "waiting for ..." notices on stderr */
} tfc_server_options;

typedef struct tfc_server tfc_server;

/* The server of task `task` of `job` (job NULL: the task this process's
 * rank holds in the cluster). Its device is
 * /job:JOB/replica:0/task:TASK/device:CPU:0. The first server of each
 * process is collective: every rank of the job makes one (in the same
 * order relative to other collective tfc calls), since it duplicates the
 * communicators all later servers of the process share; it waits at most
 * start_timeout_ms for the others, then fails with
 * TFC_DEADLINE_EXCEEDED. Errors: MPI not initialized, an unknown job or a
 * task out of range, a task that is not this rank's ("task
 * /job:worker/task:1 is rank 2 in the cluster; this process is rank 1"),
 * more tasks than ranks. Keeps its own copy of the cluster. NULL on
 * error. */
TFC_API tfc_server *tfc_server_new(const tfc_cluster *c, const char *job, int task,
                                   const tfc_server_options *opts, tfc_status *status);
/* Starts serving: the progress thread, and a hello to every task. 0 or -1. */
TFC_API int tfc_server_start(tfc_server *s, tfc_status *status);
/* Serves (runs the partitions masters send, holds the task's variables)
 * until every task of the other jobs than "ps" has stopped
 * (tfc_server_stop says goodbye), or tfc_server_stop is called from
 * another thread. 0, or -1 with status naming a lost task. */
TFC_API int tfc_server_join(tfc_server *s, tfc_status *status);
/* Says goodbye to the other tasks and stops the progress thread. A
 * master's partitions registered here stay until the server is freed.
 * Safe to call twice. */
TFC_API void tfc_server_stop(tfc_server *s);
/* Stops, then frees the server, its variables and partitions. Free
 * sessions on it first. NULL is fine. */
TFC_API void tfc_server_free(tfc_server *s);
/* "mpi:///job:worker/replica:0/task:0", the job and task (owned by s). */
TFC_API const char *tfc_server_target(const tfc_server *s);
TFC_API const char *tfc_server_job(const tfc_server *s);
TFC_API int tfc_server_task(const tfc_server *s);

/* A session whose master is this server: runs `g` over the cluster. */
typedef struct tfc_cluster_session tfc_cluster_session;

/* A master session over `g` (which must outlive it) on server `s`. From
 * `opts` (may be NULL) it takes allow_soft_placement and
 * log_device_placement; threads are the servers' (tfc_server_options).
 * Nodes with no job in their device run on the master's task. Each task
 * has one device, CPU:0. Functional control flow (cond, while_loop,
 * defined functions) runs: the function library travels with each task's
 * part, and a body runs whole on its caller's task, values from other
 * tasks (a ps variable it reads) entering as the caller's inputs, sent
 * once per run. A body node asking for another task than its caller's
 * fails the run naming the node (bodies are not cut across tasks). Not in
 * this version: resource handles (queues) crossing tasks. NULL on error. */
TFC_API tfc_cluster_session *tfc_session_new_on_server(tfc_server *s, tfc_graph *g,
                                                       const tfc_session_options *opts,
                                                       tfc_status *status);
/* tfc_session_run over the cluster: the same arguments and ownership. The
 * first run of a signature waits (bounded, saying so) for each task it
 * needs to start, places, partitions and registers the parts; errors on a
 * remote task come back naming it ("... (on /job:ps/task:0)"); a lost task
 * fails the run with TFC_UNAVAILABLE naming it. Several threads may run
 * one session at once. */
TFC_API void tfc_cluster_session_run(tfc_cluster_session *s, const tfc_output *feed_outs,
                                     tfc_tensor *const *feed_values, int nfeeds,
                                     const tfc_output *fetches, int nfetches,
                                     tfc_tensor **fetch_values, tfc_node *const *targets,
                                     int ntargets, tfc_status *status);
/* Runs and returns the one fetched tensor (caller frees), or NULL. */
TFC_API tfc_tensor *tfc_cluster_session_run1(tfc_cluster_session *s, const tfc_output *feed_outs,
                                             tfc_tensor *const *feed_values, int nfeeds,
                                             tfc_output fetch, tfc_status *status);
/* The device (full name, /job:ps/replica:0/task:0/device:CPU:0) node `n`
 * was placed on, or NULL before a run placed it. Owned by the session. */
TFC_API const char *tfc_cluster_session_assigned_device(const tfc_cluster_session *s,
                                                        const tfc_node *n);
/* Forgets the parts registered on the tasks and frees the session; the
 * variables stay on their tasks. NULL is fine. */
TFC_API void tfc_cluster_session_free(tfc_cluster_session *s);

/* Checkpoints on a cluster (TF1's Saver with sharded=False): a saver made
 * on the session's graph saves every one of its variables, on whichever
 * ps task each lives, into one checkpoint written by the chief (task 0 of
 * job "chief" if the cluster has one, else of job "worker"): one step
 * fetches all the values (each as of one moment), then the files are
 * written as tfc_saver_save writes them (same format, state file,
 * max_to_keep, .meta), so the single-process tfc_saver_restore and
 * TensorFlow read them. Called on another task it fails with
 * TFC_FAILED_PRECONDITION naming the chief: only the chief writes. An
 * uninitialized variable fails naming it. Returns the prefix written
 * (owned by the saver) or NULL. Variables must be VariableV2
 * (tfc_variable): a resource variable's handle does not cross tasks. */
TFC_API const char *tfc_saver_save_on_cluster(tfc_saver *sv, tfc_cluster_session *s,
                                              const char *prefix, int64_t global_step,
                                              tfc_status *status);
/* Restores every variable of the saver from checkpoint `prefix` (read on
 * this task, checked all first as tfc_saver_restore does, so on error no
 * variable changes), then assigns each on its own task in one step: every
 * session on the cluster sees the restored values. The first restore adds
 * nodes save/<variable>/restore_value and save/<variable>/Assign to the
 * graph. Any task may restore. 0, or -1 with status set. */
TFC_API int tfc_saver_restore_on_cluster(tfc_saver *sv, tfc_cluster_session *s,
                                         const char *prefix, tfc_status *status);

/* Between-graph replication (tf.train.replica_device_setter): each worker
 * builds its own copy of the model between begin and end; end gives every
 * node made in between a device: variables (VariableV2, VarHandleOp) go to
 * the ps tasks, one after another (round robin) or, with
 * TFC_PS_STRATEGY_BY_SIZE, each to the ps task holding the fewest bytes so
 * far; every other node to `worker_device`. Parts of a device the node
 * asked for itself win (a node under tfc_device_push(g, "/cpu:0") keeps
 * its CPU); a node already naming a job keeps it. Updates of a variable
 * (Assign, Apply*) follow it through colocation. */
enum { TFC_PS_STRATEGY_ROUND_ROBIN = 0, TFC_PS_STRATEGY_BY_SIZE = 1 };
typedef struct tfc_replica_device_setter_options {
    int ps_tasks;              /* how many ps tasks (0: all of ps_job's in the cluster) */
    const char *ps_job;        /* NULL: "ps" */
    const char *worker_device; /* NULL: "/job:worker" */
    int strategy;              /* TFC_PS_STRATEGY_* */
} tfc_replica_device_setter_options;
typedef struct tfc_replica_device_setter tfc_replica_device_setter;
/* Starts the scope on g; `cluster` (may be NULL when ps_tasks is given)
 * gives the ps tasks. NULL on error (recorded on g). */
TFC_API tfc_replica_device_setter *tfc_replica_device_setter_begin(
    tfc_graph *g, const tfc_cluster *cluster, const tfc_replica_device_setter_options *opts);
/* Places the nodes made since begin as described, frees the setter. 0,
 * or -1 with the error recorded on the graph. */
TFC_API int tfc_replica_device_setter_end(tfc_replica_device_setter *setter);

/* (end of cluster) */

/* ------------------------------------------------------------------------ */
/* Synchronous replicas: accumulators and SyncReplicasOptimizer              */
/* ------------------------------------------------------------------------ */

/* Conditional accumulators (tf.ConditionalAccumulator): a session
 * resource, shared by every node of a session whose shared_name agrees
 * (as queues are), holding the gradients applied to it at its global step.
 * Ops are TensorFlow's (ConditionalAccumulator, AccumulatorApplyGradient,
 * AccumulatorTakeGradient, AccumulatorNumAccumulated,
 * AccumulatorSetGlobalStep, and the Resource* twins); TensorFlow's TF1
 * handle is a Ref(string), tfc's a resource handle. Gradients are float,
 * double, int32 or int64. Builders record errors on g (null output /
 * NULL): a gradient whose dtype or shape does not fit the accumulator
 * fails naming the node, at build time when known, else in the run. */
typedef enum tfc_accumulator_reduction {
    TFC_ACCUMULATOR_MEAN = 0, /* reduction_type "MEAN": sum / count */
    TFC_ACCUMULATOR_SUM = 1
} tfc_accumulator_reduction;
/* An accumulator of gradients of `dtype` and shape (rank -1: unknown;
 * dims[i] -1: unknown size). shared_name NULL: not shared. Its global step
 * starts at 0. */
TFC_API tfc_output tfc_conditional_accumulator(tfc_graph *g, tfc_dtype dtype, int rank,
                                               const int64_t *dims, const char *shared_name,
                                               tfc_accumulator_reduction reduction);
/* Adds `gradient` computed at `local_step` (an int64 scalar); a gradient
 * whose local_step is older than the accumulator's global step is dropped
 * without an error (stale). */
TFC_API tfc_node *tfc_accumulator_apply_gradient(tfc_graph *g, tfc_output acc,
                                                 tfc_output local_step, tfc_output gradient);
/* Waits (without holding a thread, so a session with one thread cannot
 * deadlock on it) until `num_required` (an int32 scalar, > 0) gradients
 * are there, then outputs their mean (or sum), forgets them and advances
 * the global step by one. The sum is taken in an order that does not
 * depend on the gradients' arrival (sorted by their bytes), so it is the
 * same bits whichever worker comes first; the accumulator keeps each
 * gradient until then (TensorFlow adds each into one buffer on arrival).
 * A run that ends first (closed session, deadline) fails it with
 * CANCELLED. */
TFC_API tfc_output tfc_accumulator_take_gradient(tfc_graph *g, tfc_output acc,
                                                 tfc_output num_required);
/* The number of gradients waiting (int32 scalar). */
TFC_API tfc_output tfc_accumulator_num_accumulated(tfc_graph *g, tfc_output acc);
/* Sets the global step (int64 scalar); going back is allowed, as in
 * TensorFlow (which only warns). */
TFC_API tfc_node *tfc_accumulator_set_global_step(tfc_graph *g, tfc_output acc,
                                                  tfc_output new_global_step);

/* tf.train.SyncReplicasOptimizer: synchronous training with parameter
 * servers. Each worker builds the model (under a replica device setter)
 * and its train op with tfc_sync_replicas_minimize/apply_gradients:
 *   - per variable a ConditionalAccumulator placed with the variable
 *     (shared_name "<var>:0/grad_accum": every worker's copy of the graph
 *     uses the same one on the ps);
 *   - the worker's train op applies its gradients to the accumulators with
 *     its local_step, then dequeues a token from "sync_token_q" (a FIFO
 *     queue placed with global_step), which becomes its local_step;
 *   - the chief's sync op takes replicas_to_aggregate gradients from each
 *     accumulator (their mean), applies them once with the wrapped
 *     optimizer, increments global_step, and enqueues
 *     max(total_num_replicas, replicas_to_aggregate) tokens holding the new
 *     global step. The chief runs it in a loop on a thread of its own
 *     (TensorFlow's chief queue runner), beside its training.
 * A gradient computed from an old local_step (a slow worker's) is dropped.
 * Start: the chief runs the variables' initializer, then the chief init op
 * (its local_step and the accumulators' global steps := global_step) and,
 * if wanted, the init tokens op; every other worker runs the local step
 * init op (local_step := global_step) once the variables are initialized.
 * Tokens count, not replicas: a worker may take a token meant for a slower
 * one and contribute twice to one step, as in TensorFlow; workers that
 * wait for each other between steps (or replicas_to_aggregate ==
 * total_num_replicas with a barrier) get one token each. */
typedef struct tfc_sync_replicas_optimizer tfc_sync_replicas_optimizer;
/* Wraps `opt` (owned from now on: freed with the wrapper).
 * total_num_replicas <= 0: replicas_to_aggregate. NULL when opt is NULL,
 * replicas_to_aggregate < 1 or memory runs out (opt then stays the
 * caller's). */
TFC_API tfc_sync_replicas_optimizer *tfc_sync_replicas_optimizer_new(tfc_optimizer *opt,
                                                                     int replicas_to_aggregate,
                                                                     int total_num_replicas);
TFC_API void tfc_sync_replicas_optimizer_free(tfc_sync_replicas_optimizer *s);
/* Builds the graph described above and returns the worker's train op
 * (the Assign of the token to local_step). `global_step` (an int64
 * variable) is required. One call per optimizer. NULL with the error on g
 * (no pairs, no gradient, no global step, a second call). Sparse gradients
 * are accumulated in their dense form (no SparseConditionalAccumulator). */
TFC_API tfc_node *tfc_sync_replicas_apply_gradients(tfc_sync_replicas_optimizer *s,
                                                    tfc_graph *g, const tfc_grad_and_var *gv,
                                                    int n, tfc_output global_step);
/* compute_gradients of the wrapped optimizer, then apply_gradients. */
TFC_API tfc_node *tfc_sync_replicas_minimize(tfc_sync_replicas_optimizer *s, tfc_graph *g,
                                             tfc_output loss, const tfc_output *var_list,
                                             int nvars, tfc_output global_step);
/* After apply_gradients (NULL before): */
TFC_API tfc_node *tfc_sync_replicas_chief_init_op(const tfc_sync_replicas_optimizer *s);
TFC_API tfc_node *tfc_sync_replicas_local_step_init_op(const tfc_sync_replicas_optimizer *s);
/* The chief queue runner's op: one aggregated step per run. */
TFC_API tfc_node *tfc_sync_replicas_sync_op(const tfc_sync_replicas_optimizer *s);
/* get_init_tokens_op: enqueues `num_tokens` tokens (-1:
 * replicas_to_aggregate) holding global_step, so that workers may start
 * that many steps ahead; 0 gives a NoOp. Fewer than replicas_to_aggregate
 * - total_num_replicas is an error (on the graph). */
TFC_API tfc_node *tfc_sync_replicas_init_tokens_op(tfc_sync_replicas_optimizer *s,
                                                   int num_tokens);
/* The worker's local_step variable, the token queue, and the accumulator
 * of `var` (null outputs when none). */
TFC_API tfc_output tfc_sync_replicas_local_step(const tfc_sync_replicas_optimizer *s);
TFC_API tfc_output tfc_sync_replicas_token_queue(const tfc_sync_replicas_optimizer *s);
TFC_API tfc_output tfc_sync_replicas_accumulator(const tfc_sync_replicas_optimizer *s,
                                                 tfc_output var);

/* (end of synchronous replicas) */

/* ------------------------------------------------------------------------ */
/* Quantization (8-bit; docs/QUANTIZATION.md)                               */
/* ------------------------------------------------------------------------ */

/* TensorFlow's quantized ops are registered under their names, with its
 * inputs, outputs and attrs: QuantizeV2, Dequantize, QuantizedMatMul,
 * QuantizedConv2D, QuantizedBiasAdd, QuantizedRelu, QuantizedRelu6,
 * Requantize, RequantizationRange, QuantizedMaxPool, QuantizedAvgPool.
 * Build the ones without a helper here with tfc_op_new. A quantized tensor
 * (TFC_QINT8, TFC_QUINT8, TFC_QINT32) travels with two float scalars, the
 * range [min, max] its codes stand for; each op takes and gives them as
 * extra inputs and outputs. Only one range per tensor (attr axis -1). */

/* QuantizeV2 (tf.quantization.quantize): float `input` to codes of
 * `dtype` for the range [min_range, max_range] (float scalars), in `mode`
 * "MIN_COMBINED" (NULL), "MIN_FIRST" or "SCALED". Outputs 0: the codes,
 * 1 and 2: the range actually used (widened to hold 0 and to be at least
 * 0.01 wide, as TensorFlow does). NULL with the error on the graph. */
TFC_API tfc_node *tfc_quantize(tfc_graph *g, tfc_output input, tfc_output min_range,
                               tfc_output max_range, tfc_dtype dtype, const char *mode);
/* Dequantize (tf.quantization.dequantize): codes back to float32. */
TFC_API tfc_output tfc_dequantize(tfc_graph *g, tfc_output input, tfc_output min_range,
                                  tfc_output max_range, const char *mode);

/* Options of tfc_graph_quantize. Zero-initialize; NULL means defaults. */
typedef struct tfc_quantize_options {
    /* Bits of the weights' codes: 8 (codes -127..127) or 7 (-64..64, the
     * default, 0). With 7, the int8 products run in oneDNN's int8 GEMM on
     * CPUs without VNNI, which adds pairs of products in saturating int16
     * and so is exact only for them; with 8 they run in a portable loop
     * there. */
    int weight_bits;
} tfc_quantize_options;

/* Post-training quantization of a frozen float inference graph `g` (its
 * weights are Consts: see tfc_graph_to_frozen_graphdef). Every float32
 * MatMul and Conv2D whose weights are a Const (or an Identity of one)
 * becomes QuantizeV2 of its input (quint8, MIN_FIRST, with the range its
 * input took over the calibration runs) -> QuantizedMatMul or
 * QuantizedConv2D with the weights stored as a qint8 Const (one symmetric
 * range per tensor) -> Dequantize (SCALED) back to float, under the
 * product's name; everything else is kept. Calibration runs `g` ncalib
 * times, run i feeding feeds[j] with calib[i * nfeeds + j] (borrowed).
 * Returns a new graph (free it with tfc_graph_free) holding what the nodes
 * named in output_names[0, noutputs) need; save it with
 * tfc_graph_to_graphdef. NULL with `status` set when g has an error, a run
 * fails, an output names no node, or no product can be quantized. */
TFC_API tfc_graph *tfc_graph_quantize(tfc_graph *g, const char *const *output_names,
                                      int noutputs, const tfc_output *feeds, int nfeeds,
                                      tfc_tensor *const *calib, int ncalib,
                                      const tfc_quantize_options *options, tfc_status *status);

/* (end of quantization) */

#ifdef __cplusplus
}
#endif

#endif /* TFC_H */
