"""Queues: tf.FIFOQueue, tf.PaddingFIFOQueue, tf.RandomShuffleQueue,
tf.PriorityQueue over include/tfc.h's "Queues" builders. A queue object
holds the handle tensor its builder made (the queue itself lives in each
session that runs it); its methods add the enqueue, dequeue, close and size
ops, named as TensorFlow names them ("fifo_queue_enqueue",
"fifo_queue_Dequeue", ...)."""

import ctypes

from . import dtypes
from . import tensor_shape
from .framework import Tensor, convert_to_tensor, get_default_graph, c_graph
from ._lib import lib, declare, Output, Shape, c_int, c_int64, c_char_p, c_void_p, MAX_RANK

P = c_void_p
_fifo = declare("tfc_fifo_queue", Output, P, c_int64, P, c_int, P, c_char_p)
_padding = declare("tfc_padding_fifo_queue", Output, P, c_int64, P, c_int, P, c_char_p)
_shuffle = declare("tfc_random_shuffle_queue", Output, P, c_int64, c_int64, P, c_int, P,
                   c_int64, c_char_p)
_priority = declare("tfc_priority_queue", Output, P, c_int64, P, c_int, P, c_char_p)
_enqueue = declare("tfc_queue_enqueue", P, P, Output, P, c_int)
_enqueue_many = declare("tfc_queue_enqueue_many", P, P, Output, P, c_int)
_dequeue = declare("tfc_queue_dequeue", c_int, P, Output, P, c_int)
_dequeue_many = declare("tfc_queue_dequeue_many", c_int, P, Output, ctypes.c_int32, P, c_int)
_dequeue_up_to = declare("tfc_queue_dequeue_up_to", c_int, P, Output, ctypes.c_int32, P, c_int)
_close = declare("tfc_queue_close", P, P, Output, c_int)
_size = declare("tfc_queue_size", Output, P, Output)
_is_closed = declare("tfc_queue_is_closed", Output, P, Output)


def name_next(g, name, default):
    """Names the next node a C helper makes as TensorFlow would: `name` or
    `default`, under the current scope, made unique."""
    full = g._unique_name(name or default)
    lib.tfc_with_name(g._h, g._rel(full).encode())
    return full


def _shapes_array(shapes):
    arr = (Shape * max(len(shapes), 1))()
    for i, s in enumerate(shapes):
        s = tensor_shape.as_shape(s)
        if s.ndims is None:
            arr[i].rank = -1
            continue
        dims = s.as_list()
        if len(dims) > MAX_RANK:
            raise ValueError("tfc: shapes have at most %d dims, got %s" % (MAX_RANK, s))
        arr[i].rank = len(dims)
        for k, d in enumerate(dims):
            arr[i].dims[k] = -1 if d is None else d
    return arr


def _dtype_array(types):
    return (c_int * max(len(types), 1))(*[t.as_datatype_enum for t in types])


def _bytes(s):
    return s.encode() if isinstance(s, str) else s


class QueueBase(object):
    """What every queue has: the handle, the component dtypes, shapes and
    names, and the ops that use it."""

    def __init__(self, dtypes_, shapes, names, queue_ref):
        self._dtypes = dtypes_
        self._shapes = shapes
        self._names = names
        self._queue_ref = queue_ref
        self._name = queue_ref.op.name.split("/")[-1]

    @staticmethod
    def _prepare(types, shapes, names):
        if not isinstance(types, (list, tuple)):
            types = [types]
        types = [dtypes.as_dtype(t) for t in types]
        if names is not None:
            if not isinstance(names, (list, tuple)):
                names = [names]
            if len(names) != len(types):
                raise ValueError("Queue names must have the same length as dtypes")
        if shapes is not None:
            if not isinstance(shapes, (list, tuple)) or (shapes and not isinstance(
                    shapes[0], (list, tuple, tensor_shape.TensorShape)) and shapes[0] is not None):
                shapes = [shapes]
            shapes = [tensor_shape.as_shape(s) for s in shapes]
            if len(shapes) != len(types):
                raise ValueError("Queue shapes must have the same length as dtypes")
        return types, shapes, names

    @property
    def queue_ref(self):
        return self._queue_ref

    @property
    def name(self):
        return self._queue_ref.op.name

    @property
    def dtypes(self):
        return self._dtypes

    @property
    def shapes(self):
        return self._shapes or [tensor_shape.unknown_shape() for _ in self._dtypes]

    @property
    def names(self):
        return self._names

    def _values(self, vals, what):
        if isinstance(vals, dict):
            if self._names is None:
                raise ValueError("Queue must have names to enqueue a dictionary")
            if sorted(self._names) != sorted(vals.keys()):
                raise ValueError("Keys in dictionary to %s do not match names of Queue. "
                                 "Dictionary: (%s), Queue: (%s)" %
                                 (what, sorted(vals.keys()), sorted(self._names)))
            vals = [vals[k] for k in self._names]
        elif not isinstance(vals, (list, tuple)):
            vals = [vals]
        if len(vals) != len(self._dtypes):
            raise ValueError("%s takes %d components, got %d" %
                             (what, len(self._dtypes), len(vals)))
        return [convert_to_tensor(v, dtype=dt) for v, dt in zip(vals, self._dtypes)]

    def _graph(self, values=()):
        return c_graph([self._queue_ref] + list(values))

    def _enqueue_op(self, fn, vals, name, default):
        tensors = self._values(vals, "enqueue")
        g = self._graph(tensors)
        arr = (Output * max(len(tensors), 1))(*[t._c for t in tensors])
        name_next(g, name, "%s_%s" % (self._name, default))
        return g._check_node(fn(g._h, self._queue_ref._c, arr, len(tensors)))

    def enqueue(self, vals, name=None):
        """Adds one element (a tuple of the components) when there is room."""
        return self._enqueue_op(_enqueue, vals, name, "enqueue")

    def enqueue_many(self, vals, name=None):
        """Adds each row (dim 0) of the components as one element."""
        return self._enqueue_op(_enqueue_many, vals, name, "EnqueueMany")

    def _wrap(self, outs):
        if self._names is not None:
            return dict(zip(self._names, outs))
        return outs[0] if len(outs) == 1 else outs

    def _dequeue_op(self, fn, n, name, default):
        g = self._graph()
        k = len(self._dtypes)
        out = (Output * k)()
        name_next(g, name, "%s_%s" % (self._name, default))
        if n is None:
            got = fn(g._h, self._queue_ref._c, out, k)
        else:
            if isinstance(n, Tensor):
                raise NotImplementedError("tfc: dequeue_many takes n as a Python int")
            got = fn(g._h, self._queue_ref._c, int(n), out, k)
        if got < 0:
            g._raise_error()
        return self._wrap([g._check_output(out[i]) for i in range(got)])

    def dequeue(self, name=None):
        """One element; waits while the queue is empty."""
        return self._dequeue_op(_dequeue, None, name, "Dequeue")

    def dequeue_many(self, n, name=None):
        """n elements stacked along a new dim 0."""
        return self._dequeue_op(_dequeue_many, n, name, "DequeueMany")

    def dequeue_up_to(self, n, name=None):
        """As dequeue_many, or fewer once the queue is closed."""
        return self._dequeue_op(_dequeue_up_to, n, name, "DequeueUpTo")

    def close(self, cancel_pending_enqueues=False, name=None):
        g = self._graph()
        name_next(g, name, "%s_Close" % self._name)
        return g._check_node(_close(g._h, self._queue_ref._c, 1 if cancel_pending_enqueues
                                    else 0))

    def size(self, name=None):
        g = self._graph()
        name_next(g, name, "%s_Size" % self._name)
        return g._check_output(_size(g._h, self._queue_ref._c))

    def is_closed(self, name=None):
        g = self._graph()
        name_next(g, name, "%s_IsClosed" % self._name)
        return g._check_output(_is_closed(g._h, self._queue_ref._c))


def _capacity(capacity):
    return -1 if capacity is None else int(capacity)


class FIFOQueue(QueueBase):
    """tf.FIFOQueue(capacity, dtypes, shapes=None, names=None, shared_name=None,
    name="fifo_queue")."""

    def __init__(self, capacity, dtypes, shapes=None, names=None, shared_name=None,  # noqa: A002
                 name="fifo_queue"):
        types, shapes, names = self._prepare(dtypes, shapes, names)
        g = get_default_graph()
        name_next(g, name, "fifo_queue")
        ref = g._check_output(_fifo(g._h, _capacity(capacity), _dtype_array(types), len(types),
                                    _shapes_array(shapes) if shapes else None,
                                    _bytes(shared_name)))
        super(FIFOQueue, self).__init__(types, shapes, names, ref)


class PaddingFIFOQueue(QueueBase):
    """tf.PaddingFIFOQueue: dequeue_many pads to the longest element."""

    def __init__(self, capacity, dtypes, shapes, names=None, shared_name=None,  # noqa: A002
                 name="padding_fifo_queue"):
        types, shapes, names = self._prepare(dtypes, shapes, names)
        if shapes is None:
            raise ValueError("PaddingFIFOQueue requires shapes")
        g = get_default_graph()
        name_next(g, name, "padding_fifo_queue")
        ref = g._check_output(_padding(g._h, _capacity(capacity), _dtype_array(types),
                                       len(types), _shapes_array(shapes), _bytes(shared_name)))
        super(PaddingFIFOQueue, self).__init__(types, shapes, names, ref)


class RandomShuffleQueue(QueueBase):
    """tf.RandomShuffleQueue(capacity, min_after_dequeue, dtypes, ...)."""

    def __init__(self, capacity, min_after_dequeue, dtypes, shapes=None,  # noqa: A002
                 names=None, seed=None, shared_name=None, name="random_shuffle_queue"):
        types, shapes, names = self._prepare(dtypes, shapes, names)
        g = get_default_graph()
        name_next(g, name, "random_shuffle_queue")
        ref = g._check_output(_shuffle(g._h, _capacity(capacity), int(min_after_dequeue),
                                       _dtype_array(types), len(types),
                                       _shapes_array(shapes) if shapes else None,
                                       int(seed or 0), _bytes(shared_name)))
        super(RandomShuffleQueue, self).__init__(types, shapes, names, ref)


class PriorityQueue(QueueBase):
    """tf.PriorityQueue(capacity, types, shapes): elements are (priority,
    *components); dequeue gives the smallest priority first."""

    def __init__(self, capacity, types, shapes=None, names=None, shared_name=None,
                 name="priority_queue"):
        types, shapes, names = self._prepare(types, shapes, names)
        g = get_default_graph()
        name_next(g, name, "priority_queue")
        ref = g._check_output(_priority(g._h, _capacity(capacity), _dtype_array(types),
                                        len(types), _shapes_array(shapes) if shapes else None,
                                        _bytes(shared_name)))
        super(PriorityQueue, self).__init__([dtypes.int64] + types,
                                            [tensor_shape.scalar()] + shapes if shapes else None,
                                            names, ref)
