/* Input pipelines as TensorFlow 1.x's tf.train builds them, from the
 * queue, reader and runner pieces: input producers (a FIFO queue fed by a
 * queue runner, epochs limited through a local "epochs" variable and
 * CountUpTo, shuffled per epoch by RandomShuffle), and batching (a FIFO,
 * padding FIFO or random shuffle queue fed by num_threads runner threads,
 * read by DequeueMany or DequeueUpTo). Also the CountUpTo op and local
 * variables (tf.GraphKeys.LOCAL_VARIABLES and their initializer). */
#include "data/attr_lists.h"
#include "graph/graph.h"
#include "graph/op_registry.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const tfc_output null_out = {NULL, 0};

/* ---- CountUpTo(ref) -> the value before: fails OUT_OF_RANGE at the limit ---- */

static int count_up_to_infer(tfc_infer_ctx *c) {
    tfc_dtype dt = tfc_infer_input_dtype(c, 0);
    if (dt != TFC_INT32 && dt != TFC_INT64)
        return tfc_infer_error(c, "ref must be an int32 or int64 variable, got %s",
                               tfc_dtype_name(dt));
    tfc_shape s = tfc_infer_input_shape(c, 0);
    if (s.rank > 0) return tfc_infer_error(c, "ref must be a scalar, got rank %d", s.rank);
    if (!tfc_attrs_find(c->attrs, "limit")) return tfc_infer_error(c, "missing attr 'limit'");
    tfc_attrs_set_int(c->attrs, "T", TFC_ATTR_TYPE, dt);
    tfc_infer_set_output(c, 0, dt, tfc_shape_scalar());
    return 0;
}

static void count_up_to_kernel(tfc_kernel_ctx *c) {
    tfc_node_state *st = c->input_state[0];
    int64_t limit = tfc_attrs_int(&c->node->attrs, "limit", 0);
    tfc_dtype dt = c->node->out_dtypes[0];
    tfc_tensor *out = tfc_kernel_output(c, 0, dt, 0, NULL);
    if (!out) return;
    pthread_mutex_lock(&st->lock);
    tfc_tensor *v = st->value;
    if (!v) {
        pthread_mutex_unlock(&st->lock);
        tfc_kernel_error(c, TFC_FAILED_PRECONDITION, "Attempting to use uninitialized value %s",
                         c->node->inputs[0].node->name);
        return;
    }
    int64_t before = tfc_tensor_get_int(v, 0);
    if (before >= limit) {
        pthread_mutex_unlock(&st->lock);
        tfc_kernel_error(c, TFC_OUT_OF_RANGE, "Reached limit of %lld", (long long)limit);
        return;
    }
    tfc_tensor_set_double(v, 0, (double)(before + 1));
    pthread_mutex_unlock(&st->lock);
    tfc_tensor_set_double(out, 0, (double)before);
}

const tfc_op_def tfc_ops_input[] = {
    {"CountUpTo", 1, 1, 1, TFC_OP_STATEFUL | TFC_OP_NO_GRADIENT, 1u, count_up_to_infer,
     count_up_to_kernel, NULL},
    {NULL, 0, 0, 0, 0, 0, NULL, NULL, NULL},
};

tfc_output tfc_count_up_to(tfc_graph *g, tfc_output ref, int64_t limit) {
    tfc_op_desc *d = tfc_op_new(g, "CountUpTo", NULL);
    tfc_op_add_input(d, ref);
    tfc_op_set_attr_int(d, "limit", limit);
    return tfc_out(tfc_op_finish(d), 0);
}

/* ---- local variables ---- */

tfc_output tfc_local_variable(tfc_graph *g, const char *name, tfc_output initial_value) {
    if (!g || tfc_graph_error(g)) return null_out;
    if (!initial_value.node) {
        tfc_graph_fail(g, TFC_INVALID_ARGUMENT, "local variable '%s': initial value is null",
                       name ? name : "Variable");
        return null_out;
    }
    tfc_shape shape = tfc_output_shape(initial_value);
    tfc_op_desc *d = tfc_op_new(g, "VariableV2", name ? name : "Variable");
    tfc_op_set_attr_type(d, "dtype", tfc_output_dtype(initial_value));
    if (shape.rank >= 0) tfc_op_set_attr_shape(d, "shape", shape.rank, shape.dims);
    tfc_node *var = tfc_op_finish(d);
    if (!var) return null_out;
    const char *rel = var->name + strlen(tfc_graph_scope_prefix(g));
    char init_name[512];
    snprintf(init_name, sizeof init_name, "%s/Assign", rel);
    tfc_op_desc *a = tfc_op_new(g, "Assign", init_name);
    tfc_op_add_input(a, tfc_out(var, 0));
    tfc_op_add_input(a, initial_value);
    tfc_node *init = tfc_op_finish(a);
    if (!init) return null_out;
    tfc_strmap_put(&g->initializers, var->name, init);
    tfc_graph_add_to_collection(g, TFC_LOCAL_VARIABLES, var);
    return tfc_out(var, 0);
}

tfc_node *tfc_local_variables_initializer(tfc_graph *g) {
    if (!g || tfc_graph_error(g)) return NULL;
    tfc_op_desc *d = tfc_op_new(g, "NoOp", "init_local");
    if (tfc_graph_node_by_name(g, "init_local")) {
        tfc_op_finish(d); /* the name is taken: a default one */
        tfc_graph_clear_error(g);
        d = tfc_op_new(g, "NoOp", NULL);
    }
    int n = tfc_graph_collection_size(g, TFC_LOCAL_VARIABLES);
    for (int i = 0; i < n; i++) {
        tfc_node *init = tfc_strmap_get(&g->initializers,
                                        tfc_graph_collection_get(g, TFC_LOCAL_VARIABLES, i)->name);
        if (init) tfc_op_add_control_input(d, init);
    }
    return tfc_op_finish(d);
}

/* ---- input producers ---- */

/* tf.train.limit_epochs: t, readable num_epochs times (0: always). */
static tfc_output limit_epochs(tfc_graph *g, tfc_output t, int64_t num_epochs) {
    if (num_epochs <= 0) return t;
    tfc_name_scope_push(g, "limit_epochs");
    tfc_output epochs = tfc_local_variable(g, "epochs", tfc_const_int64(g, 0));
    tfc_output counter = tfc_count_up_to(g, epochs, num_epochs);
    tfc_node *dep = counter.node;
    tfc_control_dependencies_push(g, &dep, 1);
    tfc_output out = tfc_identity(g, t);
    tfc_control_dependencies_pop(g);
    tfc_name_scope_pop(g);
    return out;
}

tfc_output tfc_input_producer(tfc_graph *g, tfc_output input, int64_t num_epochs, int shuffle,
                              int64_t seed, int64_t capacity, const char *shared_name) {
    if (!g || tfc_graph_error(g)) return null_out;
    tfc_shape s = tfc_output_shape(input);
    if (s.rank == 0) {
        tfc_graph_fail(g, TFC_INVALID_ARGUMENT,
                       "input_producer: the input must have a first dimension, got a scalar");
        return null_out;
    }
    tfc_shape elem = tfc_shape_unknown();
    if (s.rank > 0) {
        elem.rank = s.rank - 1;
        memcpy(elem.dims, s.dims + 1, sizeof *elem.dims * (size_t)elem.rank);
    }
    tfc_name_scope_push(g, "input_producer");
    tfc_output t = shuffle ? tfc_random_shuffle(g, input, seed) : input;
    t = limit_epochs(g, t, num_epochs);
    tfc_dtype dt = tfc_output_dtype(input);
    tfc_output q = tfc_fifo_queue(g, capacity > 0 ? capacity : 32, &dt, 1,
                                  elem.rank >= 0 ? &elem : NULL, shared_name);
    tfc_node *enq = tfc_queue_enqueue_many(g, q, &t, 1);
    tfc_name_scope_pop(g);
    if (tfc_add_queue_runner(g, q, &enq, 1, NULL, NULL)) return null_out;
    return q;
}

tfc_output tfc_string_input_producer(tfc_graph *g, tfc_output strings, int64_t num_epochs,
                                     int shuffle, int64_t seed, int64_t capacity) {
    if (!g || tfc_graph_error(g)) return null_out;
    tfc_shape s = tfc_output_shape(strings);
    if (strings.node && (tfc_output_dtype(strings) != TFC_STRING || s.rank > 1 ||
                         (s.rank == 1 && s.dims[0] == 0))) {
        tfc_graph_fail(g, TFC_INVALID_ARGUMENT,
                       "string_input_producer requires a non-empty vector of strings");
        return null_out;
    }
    return tfc_input_producer(g, strings, num_epochs, shuffle, seed, capacity, NULL);
}

tfc_output tfc_range_input_producer(tfc_graph *g, int32_t limit, int64_t num_epochs, int shuffle,
                                    int64_t seed, int64_t capacity) {
    if (!g || tfc_graph_error(g)) return null_out;
    if (limit < 1) {
        tfc_graph_fail(g, TFC_INVALID_ARGUMENT, "range_input_producer: limit %d must be >= 1",
                       limit);
        return null_out;
    }
    int32_t *v = malloc(sizeof *v * (size_t)limit);
    if (!v) {
        tfc_graph_fail(g, TFC_RESOURCE_EXHAUSTED, "out of memory");
        return null_out;
    }
    for (int32_t i = 0; i < limit; i++) v[i] = i;
    tfc_output range = tfc_const_ints(g, v, limit);
    free(v);
    return tfc_input_producer(g, range, num_epochs, shuffle, seed, capacity, NULL);
}

int tfc_slice_input_producer(tfc_graph *g, const tfc_output *tensors, int n, int64_t num_epochs,
                             int shuffle, int64_t seed, int64_t capacity, tfc_output *out) {
    if (!g || tfc_graph_error(g)) return -1;
    int64_t rows = n > 0 ? tfc_output_shape(tensors[0]).dims[0] : -1;
    for (int i = 0; i < n; i++) {
        tfc_shape s = tfc_output_shape(tensors[i]);
        if (s.rank < 1 || s.dims[0] < 0 || s.dims[0] != rows) {
            tfc_graph_fail(g, TFC_INVALID_ARGUMENT,
                           "slice_input_producer: tensor %d needs a known first dimension equal "
                           "to the others'",
                           i);
            return -1;
        }
    }
    if (n < 1 || rows > INT32_MAX) {
        tfc_graph_fail(g, TFC_INVALID_ARGUMENT, "slice_input_producer: needs 1+ tensors");
        return -1;
    }
    tfc_output q = tfc_range_input_producer(g, (int32_t)rows, num_epochs, shuffle, seed, capacity);
    tfc_output index;
    if (tfc_queue_dequeue(g, q, &index, 1) != 1) return -1;
    for (int i = 0; i < n; i++) out[i] = tfc_gather(g, tensors[i], index);
    return tfc_graph_error(g) ? -1 : 0;
}

/* ---- batching ---- */

/* The batch of `lists` (nlists lists of n tensors each, one enqueue per
 * list): TensorFlow's _batch / _batch_join / _shuffle_batch(_join). */
static int batch_impl(tfc_graph *g, const char *scope, const tfc_output *const *lists, int nlists,
                      int n, int64_t batch_size, int num_threads, int64_t capacity,
                      int enqueue_many, int dynamic_pad, int allow_smaller_final_batch,
                      int shuffled, int64_t min_after_dequeue, int64_t seed, tfc_output *out) {
    if (!g || tfc_graph_error(g)) return -1;
    enum { MAXC = 256 };
    if (n < 1 || n > MAXC || nlists < 1 || batch_size < 1 || num_threads < 1) {
        tfc_graph_fail(g, TFC_INVALID_ARGUMENT,
                       "%s: needs 1 to %d tensors, a batch size and threads of at least 1", scope,
                       MAXC);
        return -1;
    }
    tfc_dtype dts[MAXC];
    tfc_shape shapes[MAXC];
    for (int i = 0; i < n; i++) {
        dts[i] = tfc_output_dtype(lists[0][i]);
        tfc_shape s = tfc_output_shape(lists[0][i]);
        if (enqueue_many && s.rank >= 1) {
            s.rank--;
            memmove(s.dims, s.dims + 1, sizeof *s.dims * (size_t)s.rank);
        } else if (enqueue_many) {
            s = tfc_shape_unknown();
        }
        int known = s.rank >= 0;
        for (int d = 0; known && d < s.rank && !dynamic_pad; d++) known = s.dims[d] >= 0;
        if (!known) {
            tfc_graph_fail(g, TFC_INVALID_ARGUMENT,
                           "%s: All shapes must be fully defined (tensor %d has shape of "
                           "unknown %s)%s",
                           scope, i, s.rank < 0 ? "rank" : "size",
                           dynamic_pad ? "" : "; dynamic_pad allows unknown sizes");
            return -1;
        }
        shapes[i] = s;
    }
    tfc_name_scope_push(g, scope);
    tfc_output q = shuffled      ? tfc_random_shuffle_queue(g, capacity, min_after_dequeue, dts, n,
                                                            shapes, seed, NULL)
                   : dynamic_pad ? tfc_padding_fifo_queue(g, capacity, dts, n, shapes, NULL)
                                 : tfc_fifo_queue(g, capacity, dts, n, shapes, NULL);
    tfc_node *enq[64];
    int nenq = 0;
    for (int l = 0; l < nlists && nenq < 64; l++) {
        tfc_node *e = enqueue_many ? tfc_queue_enqueue_many(g, q, lists[l], n)
                                   : tfc_queue_enqueue(g, q, lists[l], n);
        /* one list: num_threads threads run its enqueue (TensorFlow's
         * [enqueue] * num_threads); several: one thread each */
        for (int t = 0; t < (nlists == 1 ? num_threads : 1) && nenq < 64; t++) enq[nenq++] = e;
    }
    int k = allow_smaller_final_batch ? tfc_queue_dequeue_up_to(g, q, (int32_t)batch_size, out, n)
                                      : tfc_queue_dequeue_many(g, q, (int32_t)batch_size, out, n);
    tfc_name_scope_pop(g);
    if (k != n || tfc_graph_error(g)) return -1;
    return tfc_add_queue_runner(g, q, enq, nenq, NULL, NULL);
}

int tfc_batch(tfc_graph *g, const tfc_output *tensors, int n, int64_t batch_size, int num_threads,
              int64_t capacity, int enqueue_many, int dynamic_pad, int allow_smaller_final_batch,
              tfc_output *out) {
    return batch_impl(g, "batch", &tensors, 1, n, batch_size, num_threads, capacity, enqueue_many,
                      dynamic_pad, allow_smaller_final_batch, 0, 0, 0, out);
}

int tfc_batch_join(tfc_graph *g, const tfc_output *const *lists, int nlists, int n,
                   int64_t batch_size, int64_t capacity, int enqueue_many, int dynamic_pad,
                   int allow_smaller_final_batch, tfc_output *out) {
    return batch_impl(g, "batch_join", lists, nlists, n, batch_size, 1, capacity, enqueue_many,
                      dynamic_pad, allow_smaller_final_batch, 0, 0, 0, out);
}

int tfc_shuffle_batch(tfc_graph *g, const tfc_output *tensors, int n, int64_t batch_size,
                      int64_t capacity, int64_t min_after_dequeue, int num_threads, int64_t seed,
                      int enqueue_many, int allow_smaller_final_batch, tfc_output *out) {
    return batch_impl(g, "shuffle_batch", &tensors, 1, n, batch_size, num_threads, capacity,
                      enqueue_many, 0, allow_smaller_final_batch, 1, min_after_dequeue, seed, out);
}

int tfc_shuffle_batch_join(tfc_graph *g, const tfc_output *const *lists, int nlists, int n,
                           int64_t batch_size, int64_t capacity, int64_t min_after_dequeue,
                           int64_t seed, int enqueue_many, int allow_smaller_final_batch,
                           tfc_output *out) {
    return batch_impl(g, "shuffle_batch_join", lists, nlists, n, batch_size, 1, capacity,
                      enqueue_many, 0, allow_smaller_final_batch, 1, min_after_dequeue, seed, out);
}
