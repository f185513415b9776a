"""The C library: finds libtfc.so and declares the functions of include/tfc.h
that the package calls, through ctypes. Only the public header's by-value
structs (tfc_output, tfc_shape, tfc_session_options, tfc_grad_and_var,
tfc_initializer, tfc_sampled_values) are mirrored; every other handle is an
opaque pointer (c_void_p).

The library is looked for, in order: $TFC_LIBRARY; the path the install rule
wrote into _installed.py; libtfc.so next to the package or one level up; the
build directories of the source tree this package sits in (build*/)."""

import ctypes
import glob
import os

c_void_p = ctypes.c_void_p
c_char_p = ctypes.c_char_p
c_int = ctypes.c_int
c_int64 = ctypes.c_int64
c_uint64 = ctypes.c_uint64
c_double = ctypes.c_double
c_float = ctypes.c_float
c_size_t = ctypes.c_size_t
MAX_RANK = 8


class Output(ctypes.Structure):
    """tfc_output: one output of a node, passed by value."""
    _fields_ = [("node", c_void_p), ("index", c_int)]


class Shape(ctypes.Structure):
    """tfc_shape: rank -1 = unknown rank, dim -1 = unknown size."""
    _fields_ = [("rank", c_int), ("dims", c_int64 * MAX_RANK)]


class SessionOptions(ctypes.Structure):
    _fields_ = [("intra_op_threads", c_int), ("inter_op_threads", c_int),
                ("seed", c_int64), ("opt_level", c_int),
                ("num_device_types", c_int), ("device_types", ctypes.POINTER(c_char_p)),
                ("device_counts", ctypes.POINTER(c_int)),
                ("allow_soft_placement", c_int), ("log_device_placement", c_int),
                ("bfloat16_products", c_int)]


class RunOptions(ctypes.Structure):
    """tfc_run_options (mirrored whole: tfc reads every field)."""
    _fields_ = [("trace_level", c_int), ("timeout_in_ms", c_int64),
                ("output_partition_graphs", c_int)]


class ParseFeature(ctypes.Structure):
    """tfc_parse_feature: one feature of tf.parse_example."""
    _fields_ = [("key", c_char_p), ("dtype", c_int), ("var_len", c_int), ("rank", c_int),
                ("dims", ctypes.POINTER(c_int64)), ("default_value", Output)]


class GradAndVar(ctypes.Structure):
    _fields_ = [("grad", Output), ("var", Output)]


class Initializer(ctypes.Structure):
    _fields_ = [("kind", c_int), ("a", c_double), ("b", c_double), ("mode", c_int),
                ("uniform", c_int), ("seed", c_int64)]


class SampledValues(ctypes.Structure):
    _fields_ = [("sampled_candidates", Output), ("true_expected_count", Output),
                ("sampled_expected_count", Output)]


# int (*tfc_body_fn)(tfc_graph *body, const tfc_output *args, int nargs, void *user,
#                    tfc_output *outs)
BODY_FN = ctypes.CFUNCTYPE(c_int, c_void_p, ctypes.POINTER(Output), c_int, c_void_p,
                           ctypes.POINTER(Output))


def _candidates():
    env = os.environ.get("TFC_LIBRARY")
    if env:
        yield env
        return
    here = os.path.dirname(os.path.abspath(__file__))
    try:
        from . import _installed  # written by the install rule
        yield _installed.LIBRARY
    except ImportError:
        pass
    for d in (here, os.path.dirname(here)):
        yield os.path.join(d, "libtfc.so")
    root = os.path.dirname(os.path.dirname(here))  # python/tfc -> the source tree
    for d in ["build"] + sorted(os.path.basename(p) for p in glob.glob(os.path.join(root, "build*"))):
        yield os.path.join(root, d, "libtfc.so")


def _load():
    tried = []
    for path in _candidates():
        if path and os.path.exists(path):
            return ctypes.CDLL(path)
        tried.append(path)
    raise ImportError("tfc: libtfc.so not found (set TFC_LIBRARY to its path); tried: "
                      + ", ".join(tried))


lib = _load()

P = c_void_p
_PROTOTYPES = [
    # status
    ("tfc_status_new", P), ("tfc_status_free", None, P), ("tfc_status_code", c_int, P),
    ("tfc_status_message", c_char_p, P),
    ("tfc_dtype_size", c_size_t, c_int),
    # tensors
    ("tfc_tensor_new", P, c_int, c_int, P), ("tfc_tensor_from_data", P, c_int, c_int, P, P),
    ("tfc_tensor_scalar_float", P, c_float), ("tfc_tensor_scalar_double", P, c_double),
    ("tfc_tensor_scalar_int32", P, c_int), ("tfc_tensor_scalar_int64", P, c_int64),
    ("tfc_tensor_scalar_bool", P, c_int),
    ("tfc_tensor_free", None, P), ("tfc_tensor_dtype", c_int, P), ("tfc_tensor_rank", c_int, P),
    ("tfc_tensor_dim", c_int64, P, c_int), ("tfc_tensor_nbytes", c_size_t, P),
    ("tfc_tensor_data", P, P),
    ("tfc_tensor_from_strings", P, c_int, P, P, P),
    ("tfc_string_tensor_get", P, P, c_int64, ctypes.POINTER(c_size_t)),
    ("tfc_tensor_num_elements", c_int64, P),
    # graphs
    ("tfc_graph_new", P), ("tfc_graph_free", None, P), ("tfc_graph_error", c_char_p, P),
    ("tfc_graph_error_code", c_int, P), ("tfc_graph_clear_error", None, P),
    ("tfc_graph_set_seed", None, P, c_int64),
    ("tfc_name_scope_push", None, P, c_char_p), ("tfc_name_scope_pop", None, P),
    ("tfc_with_name", None, P, c_char_p),
    ("tfc_device_push", None, P, c_char_p), ("tfc_device_pop", None, P),
    ("tfc_control_dependencies_push", None, P, P, c_int),
    ("tfc_control_dependencies_pop", None, P),
    ("tfc_graph_num_nodes", c_int, P), ("tfc_graph_node", P, P, c_int),
    ("tfc_graph_node_by_name", P, P, c_char_p),
    ("tfc_graph_output_by_name", c_int, P, c_char_p, ctypes.POINTER(Output), P),
    ("tfc_graph_add_to_collection", None, P, c_char_p, P),
    ("tfc_graph_collection_size", c_int, P, c_char_p),
    ("tfc_graph_collection_get", P, P, c_char_p, c_int),
    ("tfc_node_name", c_char_p, P), ("tfc_node_type", c_char_p, P),
    ("tfc_node_device", c_char_p, P), ("tfc_node_num_inputs", c_int, P),
    ("tfc_node_input", Output, P, c_int), ("tfc_node_num_control_inputs", c_int, P),
    ("tfc_node_control_input", P, P, c_int), ("tfc_node_num_outputs", c_int, P),
    ("tfc_output_dtype", c_int, Output), ("tfc_output_shape", Shape, Output),
    ("tfc_output_set_shape", c_int, P, Output, c_int, P),
    ("tfc_node_attr_int", c_int64, P, c_char_p, c_int64),
    ("tfc_node_attr_float", c_double, P, c_char_p, c_double),
    ("tfc_node_attr_string", c_char_p, P, c_char_p),
    # the generic builder
    ("tfc_op_new", P, P, c_char_p, c_char_p), ("tfc_op_add_input", None, P, Output),
    ("tfc_op_add_control_input", None, P, P),
    ("tfc_op_set_attr_int", None, P, c_char_p, c_int64),
    ("tfc_op_set_attr_float", None, P, c_char_p, c_double),
    ("tfc_op_set_attr_bool", None, P, c_char_p, c_int),
    ("tfc_op_set_attr_type", None, P, c_char_p, c_int),
    ("tfc_op_set_attr_string", None, P, c_char_p, c_char_p),
    ("tfc_op_set_attr_shape", None, P, c_char_p, c_int, P),
    ("tfc_op_set_attr_int_list", None, P, c_char_p, P, c_int),
    ("tfc_op_set_attr_float_list", None, P, c_char_p, P, c_int),
    ("tfc_op_set_attr_tensor", None, P, c_char_p, P),
    ("tfc_op_finish", P, P), ("tfc_op_is_registered", c_int, c_char_p),
    # composite helpers
    ("tfc_no_op", P, P), ("tfc_group", P, P, P, c_int),
    ("tfc_random_normal", Output, P, c_int, c_int, P, c_double, c_double, c_int64),
    ("tfc_truncated_normal", Output, P, c_int, c_int, P, c_double, c_double, c_int64),
    ("tfc_random_uniform", Output, P, c_int, c_int, P, c_double, c_double, c_int64),
    ("tfc_random_shuffle", Output, P, Output, c_int64),
    ("tfc_multinomial", Output, P, Output, c_int, c_int64, c_int),
    ("tfc_variable_ex", Output, P, c_char_p, Output, c_int),
    ("tfc_variable_initializer", P, Output), ("tfc_global_variables_initializer", P, P),
    ("tfc_gradients", c_int, P, P, c_int, P, c_int, P, P),
    ("tfc_softmax_cross_entropy_with_logits", Output, P, Output, Output),
    ("tfc_sparse_softmax_cross_entropy_with_logits", Output, P, Output, Output),
    ("tfc_sigmoid_cross_entropy_with_logits", Output, P, Output, Output),
    ("tfc_dropout", Output, P, Output, Output, c_int64),
    ("tfc_moments", None, P, Output, P, c_int, c_int, ctypes.POINTER(Output),
     ctypes.POINTER(Output)),
    ("tfc_nce_loss", Output, P, Output, Output, Output, Output, c_int, c_int64, c_int, P, c_int),
    ("tfc_sampled_softmax_loss", Output, P, Output, Output, Output, Output, c_int, c_int64,
     c_int, P, c_int),
    ("tfc_l2_loss", Output, P, Output),
    ("tfc_mean_squared_error", Output, P, Output, Output),
    ("tfc_initializer_value", Output, P, ctypes.POINTER(Initializer), c_int, c_int, P),
    ("tfc_variable_scope_push", None, P, c_char_p, c_int), ("tfc_variable_scope_pop", None, P),
    ("tfc_get_variable_ex", Output, P, c_char_p, c_int, c_int, P,
     ctypes.POINTER(Initializer), c_int),
    ("tfc_clip_by_value", Output, P, Output, c_double, c_double),
    ("tfc_clip_by_norm", Output, P, Output, c_double),
    ("tfc_global_norm", Output, P, P, c_int),
    ("tfc_clip_by_global_norm", c_int, P, P, c_int, c_double, P, ctypes.POINTER(Output)),
    ("tfc_check_numerics", Output, P, Output, c_char_p),
    # layers
    ("tfc_layers_fully_connected", Output, P, Output, c_int, c_int, c_char_p),
    ("tfc_layers_conv2d", Output, P, Output, c_int, c_int, c_int, c_int, c_char_p, c_int,
     c_char_p),
    ("tfc_layers_max_pool2d", Output, P, Output, c_int, c_int, c_int, c_char_p),
    ("tfc_layers_avg_pool2d", Output, P, Output, c_int, c_int, c_int, c_char_p),
    ("tfc_layers_flatten", Output, P, Output),
    ("tfc_layers_dropout", Output, P, Output, Output, c_int64),
    # control flow
    ("tfc_cond", c_int, P, Output, BODY_FN, BODY_FN, P, c_int, P),
    ("tfc_while_loop", c_int, P, BODY_FN, BODY_FN, P, P, c_int, P, c_int, P),
    ("tfc_function_define", P, P, c_char_p, c_int, P, P, c_int, BODY_FN, P),
    ("tfc_function_call", c_int, P, P, P, c_int, P),
    # sessions
    ("tfc_session_new", P, P, ctypes.POINTER(SessionOptions), P),
    ("tfc_session_free", None, P),
    ("tfc_session_run", None, P, P, P, c_int, P, c_int, P, P, c_int, P),
    # optimizers
    ("tfc_gradient_descent_optimizer", P, c_double),
    ("tfc_momentum_optimizer", P, c_double, c_double, c_int),
    ("tfc_adagrad_optimizer", P, c_double, c_double),
    ("tfc_adagrad_da_optimizer", P, c_double, Output, c_double, c_double, c_double),
    ("tfc_adadelta_optimizer", P, c_double, c_double, c_double),
    ("tfc_adam_optimizer", P, c_double, c_double, c_double, c_double),
    ("tfc_ftrl_optimizer", P, c_double, c_double, c_double, c_double, c_double),
    ("tfc_rmsprop_optimizer", P, c_double, c_double, c_double, c_double, c_int),
    ("tfc_optimizer_free", None, P), ("tfc_optimizer_name", c_char_p, P),
    ("tfc_optimizer_set_learning_rate", None, P, Output),
    ("tfc_optimizer_compute_gradients", P, P, P, Output, P, c_int, ctypes.POINTER(c_int)),
    ("tfc_optimizer_apply_gradients", P, P, P, P, c_int, Output),
    ("tfc_optimizer_get_slot", Output, P, Output, c_char_p),
    ("tfc_train_get_or_create_global_step", Output, P),
    ("tfc_exponential_decay", Output, P, c_double, Output, c_double, c_double, c_int),
    # checkpoints and graph files
    ("tfc_saver_new", P, P, P, c_int, c_int),
    ("tfc_saver_new_named", P, P, P, P, c_int, c_int),
    ("tfc_saver_free", None, P), ("tfc_saver_max_to_keep", c_int, P),
    ("tfc_export_meta_graph", c_int, P, P, c_char_p, P),
    ("tfc_import_meta_graph", c_int, P, c_char_p, P),
    ("tfc_saver_save", c_char_p, P, P, c_char_p, c_int64, P),
    ("tfc_saver_restore", c_int, P, P, c_char_p, P),
    ("tfc_latest_checkpoint", P, c_char_p),
    ("tfc_graph_to_graphdef", c_int, P, ctypes.POINTER(P), ctypes.POINTER(c_size_t), P),
    ("tfc_graph_write_graphdef", c_int, P, c_char_p, P),
    ("tfc_graph_import_graphdef", c_int, P, c_char_p, c_size_t, c_char_p, P, P, c_int, P),
    # summaries
    ("tfc_scalar_summary", Output, P, c_char_p, Output),
    ("tfc_histogram_summary", Output, P, c_char_p, Output),
    ("tfc_image_summary", Output, P, c_char_p, Output, c_int),
    ("tfc_text_summary", Output, P, c_char_p, c_char_p),
    ("tfc_text_summary_v2", Output, P, c_char_p, Output),
    ("tfc_tensor_scalar_string", P, c_char_p, c_size_t),
    ("tfc_merge_summary", Output, P, P, c_int),
    ("tfc_merge_all_summaries", Output, P),
    ("tfc_summary_writer_new", P, c_char_p, P, c_int, c_double, P),
    ("tfc_summary_writer_path", c_char_p, P),
    ("tfc_summary_writer_add_summary", c_int, P, P, c_int64, P),
    ("tfc_summary_writer_add_scalar", c_int, P, c_char_p, c_double, c_int64, P),
    ("tfc_summary_writer_add_graph", c_int, P, P, P),
    ("tfc_summary_writer_flush", c_int, P, P),
    ("tfc_summary_writer_close", c_int, P, P),
]

for _entry in _PROTOTYPES:
    _f = getattr(lib, _entry[0])
    _f.restype = _entry[1]
    _f.argtypes = list(_entry[2:])

def declare(name, restype, *argtypes):
    """Sets the prototype of lib.<name> (for the modules that add wrappers)
    and returns the function."""
    f = getattr(lib, name)
    f.restype = restype
    f.argtypes = list(argtypes)
    return f


# free() for the buffers the library mallocs (tfc_latest_checkpoint, graphdefs)
_libc = ctypes.CDLL(None)
free = _libc.free
free.argtypes = [c_void_p]
free.restype = None


def outputs_array(outs):
    """A ctypes array of tfc_output from Tensors."""
    arr = (Output * max(len(outs), 1))()
    for i, t in enumerate(outs):
        arr[i] = t._c
    return arr


def nodes_array(ops):
    arr = (c_void_p * max(len(ops), 1))()
    for i, op in enumerate(ops):
        arr[i] = op._node
    return arr


def int64_array(values):
    return (c_int64 * max(len(values), 1))(*values)


def int32_array(values):
    return (ctypes.c_int32 * max(len(values), 1))(*values)
