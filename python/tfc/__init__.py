"""tfc's Python frontend: TensorFlow 1.x's API over tfc's C engine.

    import tfc as tf

    x = tf.placeholder(tf.float32, [1, 3])
    w = tf.Variable(tf.random_normal([3, 3]), name="w")
    y = tf.nn.relu(tf.matmul(x, w))
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        print(sess.run(y, feed_dict={x: [[1.0, 2.0, 3.0]]}))

The graph is built by tfc (through include/tfc.h, loaded from libtfc.so with
ctypes) and runs in C; Python builds it and moves numpy arrays in and out.
"""

from . import dtypes
from . import errors
from . import nn
from . import train
from . import summary
from . import layers
from . import contrib
from . import saved_model
from . import _initializers as initializers
from .dtypes import (DType, as_dtype, float16, half, float32, float64, double, int8, int16,
                     int32, int64, uint8, uint16, bool, string, complex64,  # noqa: A004
                     complex128, resource, uint32, uint64, qint8, quint8, qint16, quint16,
                     qint32, bfloat16, variant)
from .tensor_shape import TensorShape, Dimension
from .framework import (Graph, Operation, Tensor, GraphKeys, get_default_graph,
                        reset_default_graph, convert_to_tensor, name_scope, device,
                        control_dependencies, add_to_collection, add_to_collections,
                        get_collection, get_collection_ref, set_random_seed)
from .session import (Session, InteractiveSession, ConfigProto, GPUOptions, RunOptions,
                      RunMetadata, get_default_session)
from .math_ops import (add, subtract, multiply, truediv, divide, realdiv, div, truncatediv,
                       floordiv, floormod, mod, pow, maximum, minimum, squared_difference,
                       negative, abs, sign, square, sqrt, rsqrt, reciprocal, exp, log, log1p,
                       floor, ceil, tanh, sigmoid, less, less_equal, greater, greater_equal,
                       equal, not_equal, logical_and, logical_or, logical_not, logical_xor,
                       where, select, cast, to_float, to_double, to_int32, to_int64, add_n,
                       matmul, reduce_sum, reduce_mean, reduce_max, reduce_min, reduce_prod,
                       reduce_all, reduce_any, argmax, argmin, arg_max, arg_min, matrix_inverse,
                       matrix_determinant, accumulate_n, count_nonzero, inv, clip_by_value,
                       clip_by_norm, global_norm, clip_by_global_norm)
from .array_ops import (constant, placeholder, placeholder_with_default, fill, zeros, ones,
                        zeros_like, ones_like, reshape, transpose, concat, concat_v2, split,
                        stack, pack, unstack, unpack, expand_dims, squeeze, tile, shape, rank,
                        size, slice, gather, one_hot, pad, range, identity, stop_gradient,
                        broadcast_to, check_numerics, strided_slice, newaxis, boolean_mask,
                        sequence_mask)
from .random_ops import (random_normal, truncated_normal, random_uniform, random_shuffle,
                         multinomial)
from .variables import (Variable, VariableScope, get_variable, get_variable_scope,
                        variable_scope, AUTO_REUSE, assign, assign_add, assign_sub,
                        global_variables, all_variables, trainable_variables, local_variables,
                        model_variables, moving_average_variables, global_variables_initializer,
                        initialize_all_variables, variables_initializer, initialize_variables,
                        local_variables_initializer, initialize_local_variables,
                        is_variable_initialized, report_uninitialized_variables,
                        zeros_initializer, ones_initializer, constant_initializer,
                        random_normal_initializer, truncated_normal_initializer,
                        random_uniform_initializer, glorot_uniform_initializer,
                        glorot_normal_initializer, variance_scaling_initializer,
                        no_regularizer)
from .control_flow_ops import (no_op, group, tuple, cond, while_loop, gradients)  # noqa: A004
from .summary import Summary
from .sparse_tensor import SparseTensor, SparseTensorValue
from .data_flow_ops import (QueueBase, FIFOQueue, PaddingFIFOQueue, RandomShuffleQueue,
                            PriorityQueue)
from .io_ops import (ReaderBase, TFRecordReader, TextLineReader, FixedLengthRecordReader,
                     WholeFileReader, read_file, write_file, matching_files)
from .string_ops import (string_join, string_split, substr, reduce_join, as_string,
                         string_to_number, string_to_hash_bucket_fast, decode_raw, decode_csv,
                         encode_base64, decode_base64, parse_example, parse_single_example,
                         FixedLenFeature, VarLenFeature)
from . import io_ops as _io_ops
from . import input as _input
from . import string_ops as _string_ops
from . import timeline as _timeline  # noqa: F401 (tfc.python.client.timeline)
from . import rnn as _rnn

__version__ = "1.0.0-tfc"
VERSION = __version__
GIT_VERSION = "tfc"

newaxis = None


class _Namespace(object):
    def __init__(self, **kw):
        self.__dict__.update(kw)


python_io = _Namespace(TFRecordWriter=_io_ops.TFRecordWriter,
                       tf_record_iterator=_io_ops.tf_record_iterator,
                       TFRecordOptions=_io_ops.TFRecordOptions,
                       TFRecordCompressionType=_io_ops.TFRecordCompressionType)
io = _Namespace(read_file=read_file, write_file=write_file, matching_files=matching_files,
                decode_raw=decode_raw, decode_csv=decode_csv, parse_example=parse_example,
                parse_single_example=parse_single_example, FixedLenFeature=FixedLenFeature,
                VarLenFeature=VarLenFeature, TFRecordWriter=_io_ops.TFRecordWriter,
                tf_record_iterator=_io_ops.tf_record_iterator,
                TFRecordOptions=_io_ops.TFRecordOptions)
strings = _Namespace(join=string_join, split=_string_ops.strings_split, substr=substr,
                     reduce_join=reduce_join, as_string=as_string,
                     to_number=string_to_number, to_hash_bucket_fast=string_to_hash_bucket_fast)
for _n in ("input_producer", "string_input_producer", "range_input_producer",
           "slice_input_producer", "limit_epochs", "batch", "batch_join", "shuffle_batch",
           "shuffle_batch_join"):
    setattr(train, _n, getattr(_input, _n))
for _n in ("Example", "Features", "Feature", "FloatList", "Int64List", "BytesList"):
    setattr(train, _n, getattr(_io_ops, _n))
nn.rnn_cell = _rnn.rnn_cell
nn.static_rnn = _rnn.static_rnn
nn.rnn = _rnn.static_rnn  # TensorFlow 0.x's name
nn.dynamic_rnn = _rnn.dynamic_rnn
nn.bidirectional_dynamic_rnn = _rnn.bidirectional_dynamic_rnn
contrib.rnn = _Namespace(static_rnn=_rnn.static_rnn, **_rnn.rnn_cell.__dict__)
from . import distributed as _distributed
for _n in ("ClusterSpec", "Server", "ServerDef", "replica_device_setter"):
    setattr(train, _n, getattr(_distributed, _n))
contrib.training = _Namespace(GreedyLoadBalancingStrategy=_distributed.GreedyLoadBalancingStrategy,
                              byte_size_load_fn=_distributed.byte_size_load_fn)
from . import sync_replicas as _sync_replicas
train.SyncReplicasOptimizer = _sync_replicas.SyncReplicasOptimizer
from . import critical_section as _critical_section
CriticalSection = _critical_section.CriticalSection
raw_ops = _critical_section.raw_ops
contrib.framework = _Namespace(CriticalSection=CriticalSection)
train.queue_runner = _Namespace(QueueRunner=train.QueueRunner,
                                add_queue_runner=train.add_queue_runner,
                                start_queue_runners=train.start_queue_runners)

# TensorFlow 0.x names the talks use
mul = multiply
sub = subtract
neg = negative
scalar_summary = summary.scalar
histogram_summary = summary.histogram
image_summary = summary.image
merge_summary = summary.merge
merge_all_summaries = summary.merge_all
train.SummaryWriter = summary.FileWriter


def get_seed(op_seed):
    g = get_default_graph()
    return g.seed, op_seed


class _Logging(object):
    DEBUG, INFO, WARN, ERROR, FATAL = 10, 20, 30, 40, 50

    def set_verbosity(self, level):
        pass

    def info(self, msg, *args):
        pass

    def warning(self, msg, *args):
        import sys
        sys.stderr.write((msg % args if args else msg) + "\n")

    warn = warning
    error = warning


logging = _Logging()


class _App(object):
    @staticmethod
    def run(main=None, argv=None):
        import sys
        sys.exit(main(argv or sys.argv))


app = _App()
