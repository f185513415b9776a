"""Input pipelines (tf.train.string_input_producer, input_producer,
range_input_producer, slice_input_producer, batch, batch_join,
shuffle_batch, shuffle_batch_join, limit_epochs) over tfc's helpers, which
build the queue, its enqueue ops and the queue runner that
tf.train.start_queue_runners starts. num_epochs counts in a local
variable: run tf.local_variables_initializer() first, as in TensorFlow."""

import ctypes

from . import dtypes
from . import tensor_shape
from .framework import convert_to_tensor, get_default_graph, c_graph, composite_scope
from .data_flow_ops import QueueBase
from ._lib import declare, Output, c_int, c_int64, c_char_p, c_void_p

P = c_void_p
_input_producer = declare("tfc_input_producer", Output, P, Output, c_int64, c_int, c_int64,
                          c_int64, c_char_p)
_string_input_producer = declare("tfc_string_input_producer", Output, P, Output, c_int64, c_int,
                                 c_int64, c_int64)
_range_input_producer = declare("tfc_range_input_producer", Output, P, ctypes.c_int32, c_int64,
                                c_int, c_int64, c_int64)
_slice_input_producer = declare("tfc_slice_input_producer", c_int, P, P, c_int, c_int64, c_int,
                                c_int64, c_int64, P)
_batch = declare("tfc_batch", c_int, P, P, c_int, c_int64, c_int, c_int64, c_int, c_int, c_int, P)
_batch_join = declare("tfc_batch_join", c_int, P, P, c_int, c_int, c_int64, c_int64, c_int,
                      c_int, c_int, P)
_shuffle_batch = declare("tfc_shuffle_batch", c_int, P, P, c_int, c_int64, c_int64, c_int64,
                         c_int, c_int64, c_int, c_int, P)
_shuffle_batch_join = declare("tfc_shuffle_batch_join", c_int, P, P, c_int, c_int, c_int64,
                              c_int64, c_int64, c_int64, c_int, c_int, P)
_count_up_to = declare("tfc_count_up_to", Output, P, Output, c_int64)
_local_variable = declare("tfc_local_variable", Output, P, c_char_p, Output)


class _ProducedQueue(QueueBase):
    """The queue an input producer made (a FIFO queue fed by its runner)."""

    def __init__(self, ref, dtype, shape):
        super(_ProducedQueue, self).__init__([dtype], [tensor_shape.as_shape(shape)], None, ref)


class _scope(object):
    """composite_scope(name, default) when a name is given; the helpers
    name their own nodes otherwise."""

    def __init__(self, name, default, values):
        self._cm = composite_scope(name, default, values) if name else None

    def __enter__(self):
        return self._cm.__enter__() if self._cm else None

    def __exit__(self, *exc):
        return self._cm.__exit__(*exc) if self._cm else False


def _epochs(num_epochs):
    return int(num_epochs or 0)


def _seed(seed):
    return int(seed or 0)


def input_producer(input_tensor, element_shape=None, num_epochs=None, shuffle=True, seed=None,
                   capacity=32, shared_name=None, summary_name=None, name=None,
                   cancel_op=None):
    """A queue of the rows of input_tensor, num_epochs times (None: forever)."""
    x = convert_to_tensor(input_tensor)
    g = c_graph([x])
    with _scope(name, "input_producer", [x]):
        ref = g._check_output(_input_producer(g._h, x._c, _epochs(num_epochs), 1 if shuffle else 0,
                                              _seed(seed), int(capacity),
                                              shared_name.encode() if shared_name else None))
    shape = element_shape if element_shape is not None else x.get_shape()[1:]
    return _ProducedQueue(ref, x.dtype, shape)


def string_input_producer(string_tensor, num_epochs=None, shuffle=True, seed=None, capacity=32,
                          shared_name=None, name=None, cancel_op=None):
    """A queue of file names (strings) for a reader."""
    x = convert_to_tensor(string_tensor, dtype=dtypes.string)
    g = c_graph([x])
    with _scope(name, "input_producer", [x]):
        ref = g._check_output(_string_input_producer(g._h, x._c, _epochs(num_epochs),
                                                     1 if shuffle else 0, _seed(seed),
                                                     int(capacity)))
    return _ProducedQueue(ref, dtypes.string, [])


def range_input_producer(limit, num_epochs=None, shuffle=True, seed=None, capacity=32,
                         shared_name=None, name=None):
    """A queue of the int32s 0 .. limit-1."""
    g = get_default_graph()
    with _scope(name, "input_producer", []):
        ref = g._check_output(_range_input_producer(g._h, int(limit), _epochs(num_epochs),
                                                    1 if shuffle else 0, _seed(seed),
                                                    int(capacity)))
    return _ProducedQueue(ref, dtypes.int32, [])


def slice_input_producer(tensor_list, num_epochs=None, shuffle=True, seed=None, capacity=32,
                         shared_name=None, name=None):
    """One row of each tensor (the same row), from a queue of row indices."""
    ts = [convert_to_tensor(t) for t in tensor_list]
    g = c_graph(ts)
    arr = (Output * max(len(ts), 1))(*[t._c for t in ts])
    out = (Output * max(len(ts), 1))()
    with _scope(name, "input_producer", ts):
        if _slice_input_producer(g._h, arr, len(ts), _epochs(num_epochs), 1 if shuffle else 0,
                                 _seed(seed), int(capacity), out) != 0:
            g._raise_error()
    return [g._check_output(out[i]) for i in range(len(ts))]


def limit_epochs(tensor, num_epochs=None, name=None):
    """`tensor`, num_epochs times: then OutOfRangeError (a CountUpTo on a
    local variable)."""
    x = convert_to_tensor(tensor)
    if num_epochs is None:
        return x
    from .array_ops import identity
    with composite_scope(name, "limit_epochs", [x]) as (g, _):
        zero = convert_to_tensor(0, dtype=dtypes.int64)
        var = g._check_output(_local_variable(g._h, b"epochs", zero._c))
        c = g._check_output(_count_up_to(g._h, var._c, int(num_epochs)))
        with g.control_dependencies([c.op]):
            return identity(x)


# ---------------------------------------------------------------------------
# Batching
# ---------------------------------------------------------------------------

def _as_list(tensors):
    """(list of tensors, rebuild) for a list, tuple, dict or single tensor."""
    if isinstance(tensors, dict):
        keys = sorted(tensors)
        return [tensors[k] for k in keys], lambda outs: dict(zip(keys, outs))
    if isinstance(tensors, (list, tuple)):
        return list(tensors), lambda outs: list(outs)
    return [tensors], lambda outs: outs[0]


def _prepare(tensors, shapes):
    ts = [convert_to_tensor(t) for t in tensors]
    if shapes is not None:
        from .array_ops import reshape
        ts = [t if tensor_shape.as_shape(t.get_shape()).is_fully_defined() and
              t.get_shape().as_list() == tensor_shape.as_shape(s).as_list()
              else reshape(t, tensor_shape.as_shape(s).as_list()) for t, s in zip(ts, shapes)]
    return ts


def _run(fn, name, default, tensors, shapes, *args):
    lst, rebuild = _as_list(tensors)
    ts = _prepare(lst, shapes)
    g = c_graph(ts)
    arr = (Output * max(len(ts), 1))(*[t._c for t in ts])
    out = (Output * max(len(ts), 1))()
    with _scope(name, default, ts):
        if fn(g._h, arr, len(ts), *(args + (out,))) != 0:
            g._raise_error()
    return rebuild([g._check_output(out[i]) for i in range(len(ts))])


def batch(tensors, batch_size, num_threads=1, capacity=32, enqueue_many=False, shapes=None,
          dynamic_pad=False, allow_smaller_final_batch=False, shared_name=None, name=None):
    """tf.train.batch: batch_size elements at a time, from a queue fed by
    num_threads queue-runner threads."""
    return _run(_batch, name, "batch", tensors, shapes, int(batch_size), int(num_threads),
                int(capacity), int(bool(enqueue_many)), int(bool(dynamic_pad)),
                int(bool(allow_smaller_final_batch)))


def shuffle_batch(tensors, batch_size, capacity, min_after_dequeue, num_threads=1, seed=None,
                  enqueue_many=False, shapes=None, allow_smaller_final_batch=False,
                  shared_name=None, name=None):
    """tf.train.shuffle_batch: batches drawn uniformly from at least
    min_after_dequeue queued elements."""
    return _run(_shuffle_batch, name, "shuffle_batch", tensors, shapes, int(batch_size),
                int(capacity), int(min_after_dequeue), int(num_threads), _seed(seed),
                int(bool(enqueue_many)), int(bool(allow_smaller_final_batch)))


def _run_join(fn, name, default, tensors_list, shapes, *args):
    lists = []
    rebuild = None
    for tensors in tensors_list:
        lst, rebuild = _as_list(tensors)
        lists.append(_prepare(lst, shapes))
    n = len(lists[0])
    if any(len(lst) != n for lst in lists):
        raise ValueError("Expected all tensor lists to have the same length")
    g = c_graph([t for lst in lists for t in lst])
    arrs = [(Output * max(n, 1))(*[t._c for t in lst]) for lst in lists]
    ptrs = (c_void_p * len(arrs))(*[ctypes.cast(a, c_void_p) for a in arrs])
    out = (Output * max(n, 1))()
    with _scope(name, default, lists[0]):
        if fn(g._h, ptrs, len(lists), n, *(args + (out,))) != 0:
            g._raise_error()
    return rebuild([g._check_output(out[i]) for i in range(n)])


def batch_join(tensors_list, batch_size, capacity=32, enqueue_many=False, shapes=None,
               dynamic_pad=False, allow_smaller_final_batch=False, shared_name=None, name=None):
    """tf.train.batch_join: one enqueuing thread per list."""
    return _run_join(_batch_join, name, "batch_join", tensors_list, shapes, int(batch_size),
                     int(capacity), int(bool(enqueue_many)), int(bool(dynamic_pad)),
                     int(bool(allow_smaller_final_batch)))


def shuffle_batch_join(tensors_list, batch_size, capacity, min_after_dequeue, seed=None,
                       enqueue_many=False, shapes=None, allow_smaller_final_batch=False,
                       shared_name=None, name=None):
    return _run_join(_shuffle_batch_join, name, "shuffle_batch_join", tensors_list, shapes,
                     int(batch_size), int(capacity), int(min_after_dequeue), _seed(seed),
                     int(bool(enqueue_many)), int(bool(allow_smaller_final_batch)))
