"""tf.Session and tf.InteractiveSession over tfc_session.

Session.run takes fetches as any nested list, tuple, namedtuple or dict of
Tensors, Operations, Variables and names ("x:0" a tensor, "init" an
operation), and a feed_dict keyed by Tensors, Variables or tensor names,
whose values are numpy arrays, Python scalars or nested lists.

The path of one run is prepared once per (fetches, feed keys) and kept: the
ctypes arrays of the feeds, fetches and targets, one converter per feed and
per fetch, and the function that puts the results back into the fetches'
structure. A numpy array feed of the right dtype and C layout is not
copied when it is large (_BORROW_MIN_BYTES): tfc reads its buffer
(tfc_tensor_from_borrowed, which tfc never writes) and the array is kept
alive until tfc releases it; smaller ones and other values are copied once,
by tfc_tensor_from_data, straight from their buffer. Fetches come back as
new numpy arrays (copies; numpy scalars for 0-d tensors, as TensorFlow
returns them), so no array ever points into memory tfc frees.
"""

import collections
import ctypes
import re
import threading
import time

import numpy as np

from . import dtypes
from . import errors
from .framework import (Graph, Operation, Tensor, get_default_graph, _s, string_array,
                        _tfc_strings_from_np)
from .sparse_tensor import SparseTensor, SparseTensorValue
from .coordinator import _stop_session_threads
from ._lib import lib, Output, SessionOptions, c_int64, declare, free as _libfree
from ._lib import RunOptions as CRunOptions

_CTYPE = {
    dtypes.float32: ctypes.c_float, dtypes.float64: ctypes.c_double,
    dtypes.int32: ctypes.c_int32, dtypes.int64: ctypes.c_int64, dtypes.uint8: ctypes.c_uint8,
    dtypes.bool: ctypes.c_uint8,
}


# The run path calls these few functions without ctypes' argument
# conversion (argtypes None), which costs more than the call itself: every
# pointer passed is a _VP object (a c_void_p subclass, which ctypes neither
# converts on return nor on the way in), every count a Python int.
class _VP(ctypes.c_void_p):
    __slots__ = ()


def _raw(name, restype, argtypes=None):
    f = lib[name]  # a function object of its own, configured apart from lib.<name>
    f.restype = restype
    f.argtypes = argtypes
    return f


_session_run = _raw("tfc_session_run", None)
_tensor_free = _raw("tfc_tensor_free", None)
_tensor_data = _raw("tfc_tensor_data", ctypes.c_void_p)
_tensor_from_data = _raw("tfc_tensor_from_data", _VP,
                         [ctypes.c_int, ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p])

# Zero-copy feeds: a large array is lent to tfc (tfc_tensor_from_borrowed)
# and kept in _LOANS until tfc releases it. The release function is libc's
# sem_post on a semaphore of the loan: it needs neither the GIL nor a live
# interpreter, whatever thread drops the last reference (a queue-runner
# thread, a session closing at exit), where a ctypes callback would need
# both. The semaphores live in libc memory that is never freed (so a post
# after the interpreter's teardown writes nowhere it should not) and are
# reused: one whose post _sweep has taken (sem_trywait) is back at 0.
# _sweep drops the arrays whose semaphore was posted; it runs after each run
# that lent one and before each new loan. Below _BORROW_MIN_BYTES a copy
# costs less than a loan. A training step lends its batch every step, so
# each of these costs counts (python/README.md, Overhead).
_libc = ctypes.CDLL(None)
_sem_init = _libc.sem_init
_sem_init.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_uint]
_sem_init.restype = ctypes.c_int
_sem_trywait = _libc["sem_trywait"]  # its own function object: a _VP argument, unconverted
_sem_trywait.restype = ctypes.c_int
_sem_trywait.argtypes = None
_calloc = _libc.calloc
_calloc.argtypes = [ctypes.c_size_t, ctypes.c_size_t]
_calloc.restype = ctypes.c_void_p
_SEM_POST_VP = ctypes.c_void_p(ctypes.cast(_libc.sem_post, ctypes.c_void_p).value)
_SEM_BYTES = 64  # glibc's sem_t is 32 bytes on 64-bit targets; room to spare
_LOANS = []      # (semaphore, array) per array tfc may still read
_FREE_SEMS = []  # initialized semaphores at 0, as _VPs
_loans_lock = threading.Lock()
_BORROW_MIN_BYTES = 16384

_tensor_from_borrowed = _raw("tfc_tensor_from_borrowed", _VP)  # arguments converted below
_c_size_t = ctypes.c_size_t
_addressof = ctypes.addressof
_from_buffer = ctypes.c_char.from_buffer


def _more_semaphores(n=64):
    """Adds n semaphores to _FREE_SEMS (call with _loans_lock held); False
    when libc cannot give them."""
    base = _calloc(n, _SEM_BYTES)
    if not base:
        return False
    for i in range(n):
        if _sem_init(base + i * _SEM_BYTES, 0, 0) != 0:
            return False
        _FREE_SEMS.append(_VP(base + i * _SEM_BYTES))
    return True


def _sweep():
    """Forgets the arrays tfc has released."""
    with _loans_lock:
        keep = []
        for loan in _LOANS:
            if _sem_trywait(loan[0]) == 0:
                _FREE_SEMS.append(loan[0])
            else:
                keep.append(loan)
        if keep:
            _LOANS[:] = keep
        else:
            _LOANS.clear()


def _borrow(enum, arr, dims, ptr):
    """A tfc tensor over arr's buffer (at ptr, a _VP); arr stays alive until
    tfc releases it."""
    with _loans_lock:
        if not _FREE_SEMS and not _more_semaphores():
            sem = None
        else:
            sem = _FREE_SEMS.pop()
            loan = (sem, arr)
            _LOANS.append(loan)
    if sem is None:
        return _tensor_from_data(enum, arr.ndim, dims, ptr)
    t = _tensor_from_borrowed(enum, arr.ndim, dims, ptr, _c_size_t(arr.nbytes), _SEM_POST_VP,
                              sem)
    if not t:
        with _loans_lock:
            _LOANS.remove(loan)
            _FREE_SEMS.append(sem)
    return t


def _array_data_offset():
    """Where a numpy array object holds its data pointer: right after the
    object header (ndarraytypes.h's PyArrayObject_fields: PyObject_HEAD,
    then char *data), on CPython, where id() is the object's address.
    Checked on probe arrays here; None (use the buffer protocol) when it
    does not hold."""
    import platform
    if platform.python_implementation() != "CPython":
        return None
    off = object.__basicsize__
    for probe in (np.empty(3, np.float32), np.arange(12.0)[2:].reshape(2, 5)):
        if ctypes.c_void_p.from_address(id(probe) + off).value != \
                probe.__array_interface__["data"][0]:
            return None
    return off


_DATA_OFFSET = _array_data_offset()
_void_p_at = ctypes.c_void_p.from_address


def _data_address(arr):
    """The address of a C-contiguous array's first element, as a _VP (None
    for an empty one). Read from the array object (_DATA_OFFSET), which in
    a training loop, after a step has evicted the caches, costs 2.5 us
    against 4.5 us for the buffer protocol's export and more for
    __array_interface__ (a dict, and a call into Python for the dtype's
    description)."""
    if not arr.nbytes:
        return None
    if _DATA_OFFSET is not None:
        return _VP(_void_p_at(id(arr) + _DATA_OFFSET).value)
    try:
        return _VP(_addressof(_from_buffer(arr)))
    except TypeError:  # read-only
        return _VP(arr.__array_interface__["data"][0])


def _borrowed_arrays():
    """How many arrays tfc holds now (for tests)."""
    _sweep()
    return len(_LOANS)


class _DefaultSessions(threading.local):
    def __init__(self):
        self.stack = []


_default_session = _DefaultSessions()


def get_default_session():
    return _default_session.stack[-1] if _default_session.stack else None


def _session_for(session, graph):
    if session is None:
        session = get_default_session()
        if session is None:
            raise ValueError("Cannot evaluate tensor using `eval()`: No default session is "
                             "registered. Use `with sess.as_default()` or pass an explicit "
                             "session to `eval(session=sess)`")
    if session.graph is not graph:
        raise ValueError("Cannot use the given session to evaluate tensor: the tensor's "
                         "graph is different from the session's graph.")
    return session


class GPUOptions(object):
    def __init__(self, **kwargs):
        self.allow_growth = False
        self.per_process_gpu_memory_fraction = 1.0
        self.__dict__.update(kwargs)


class ConfigProto(object):
    """tf.ConfigProto: tfc reads the thread counts, device_count ({"CPU": 2}
    gives /cpu:0 and /cpu:1), allow_soft_placement and log_device_placement;
    GPU options are accepted and ignored."""

    def __init__(self, intra_op_parallelism_threads=0, inter_op_parallelism_threads=0,
                 log_device_placement=False, allow_soft_placement=False, gpu_options=None,
                 device_count=None, **kwargs):
        self.intra_op_parallelism_threads = intra_op_parallelism_threads
        self.inter_op_parallelism_threads = inter_op_parallelism_threads
        self.log_device_placement = log_device_placement
        self.allow_soft_placement = allow_soft_placement
        self.gpu_options = gpu_options or GPUOptions()
        self.device_count = device_count or {}
        self.__dict__.update(kwargs)


class RunOptions(object):
    """tf.RunOptions(trace_level=..., timeout_in_ms=...)."""
    NO_TRACE = 0
    SOFTWARE_TRACE = 1
    HARDWARE_TRACE = 2
    FULL_TRACE = 3

    def __init__(self, trace_level=0, timeout_in_ms=0, **kwargs):
        self.trace_level = trace_level
        self.timeout_in_ms = timeout_in_ms
        self.__dict__.update(kwargs)

    def _c(self):
        return CRunOptions(int(self.trace_level or 0), int(self.timeout_in_ms or 0),
                           1 if getattr(self, "output_partition_graphs", False) else 0)


class NodeExecStats(object):
    """One node's entry of a traced run (TensorFlow's NodeExecStats)."""

    def __init__(self, node_name, op, start_us, end_us, thread_id):
        self.node_name = node_name
        self.timeline_label = "%s = %s()" % (node_name, op)
        self.all_start_micros = int(start_us)
        self.op_start_rel_micros = 0
        self.op_end_rel_micros = int(end_us - start_us)
        self.all_end_rel_micros = int(end_us - start_us)
        self.thread_id = thread_id


class DeviceStepStats(object):
    def __init__(self, device):
        self.device = device
        self.node_stats = []


class StepStats(object):
    """RunMetadata.step_stats: dev_stats, one DeviceStepStats per device;
    the Chrome trace of the run is kept for timeline.Timeline."""

    def __init__(self):
        self.dev_stats = []
        self._chrome_trace = None


class RunMetadata(object):
    """tf.RunMetadata: what a run with RunOptions(trace_level=FULL_TRACE)
    recorded (step_stats), read from a tfc_run_metadata after the run."""

    def __init__(self):
        self.step_stats = StepStats()
        self.partition_graphs = []
        self.cost_graph = None

    def _fill(self, md):
        stats = StepStats()
        by_dev = {}
        for i in range(_md_num_nodes(md)):
            dev = _s(_md_node_device(md, i)) or "/job:localhost/replica:0/task:0/device:CPU:0"
            d = by_dev.get(dev)
            if d is None:
                d = by_dev[dev] = DeviceStepStats(dev)
                stats.dev_stats.append(d)
            d.node_stats.append(NodeExecStats(_s(_md_node_name(md, i)), _s(_md_node_op(md, i)),
                                              _md_node_start(md, i), _md_node_end(md, i),
                                              _md_node_thread(md, i)))
        trace = _md_chrome_trace(md)
        if trace:
            try:
                stats._chrome_trace = ctypes.string_at(trace).decode("utf-8", "replace")
            finally:
                _libfree(trace)
        self.step_stats = stats


_md_new = declare("tfc_run_metadata_new", ctypes.c_void_p)
_md_free = declare("tfc_run_metadata_free", None, ctypes.c_void_p)
_md_num_nodes = declare("tfc_run_metadata_num_nodes", ctypes.c_int, ctypes.c_void_p)
_md_node_name = declare("tfc_run_metadata_node_name", ctypes.c_char_p, ctypes.c_void_p,
                        ctypes.c_int)
_md_node_op = declare("tfc_run_metadata_node_op", ctypes.c_char_p, ctypes.c_void_p, ctypes.c_int)
_md_node_device = declare("tfc_run_metadata_node_device", ctypes.c_char_p, ctypes.c_void_p,
                          ctypes.c_int)
_md_node_thread = declare("tfc_run_metadata_node_thread", c_int64, ctypes.c_void_p, ctypes.c_int)
_md_node_start = declare("tfc_run_metadata_node_start_us", ctypes.c_double, ctypes.c_void_p,
                         ctypes.c_int)
_md_node_end = declare("tfc_run_metadata_node_end_us", ctypes.c_double, ctypes.c_void_p,
                       ctypes.c_int)
_md_chrome_trace = declare("tfc_run_metadata_chrome_trace", ctypes.c_void_p, ctypes.c_void_p)
_session_run_v2 = _raw("tfc_session_run_v2", None)
_cluster_session_run = _raw("tfc_cluster_session_run", None)
_session_new_on_server = declare("tfc_session_new_on_server", ctypes.c_void_p, ctypes.c_void_p,
                                 ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p)
_cluster_session_free = declare("tfc_cluster_session_free", None, ctypes.c_void_p)
_assigned_device = declare("tfc_cluster_session_assigned_device", ctypes.c_char_p,
                           ctypes.c_void_p, ctypes.c_void_p)
_num_devices = declare("tfc_session_num_devices", ctypes.c_int, ctypes.c_void_p)
_device_name = declare("tfc_session_device_name", ctypes.c_char_p, ctypes.c_void_p, ctypes.c_int)


class _DeviceAttributes(object):
    """What Session.list_devices() gives per device."""

    def __init__(self, name):
        self.name = name
        self.device_type = name.rsplit(":", 2)[-2].split("/")[-1] if ":" in name else "CPU"
        self.memory_limit_bytes = 0
        self.incarnation = 0

    def __repr__(self):
        return "_DeviceAttributes(%s, %s, %d)" % (self.name, self.device_type,
                                                  self.memory_limit_bytes)


_status_code = _raw("tfc_status_code", ctypes.c_int)


# The node a run's error names: tfc ends a kernel's message with
# "[[node NAME (Type)]]", as TensorFlow does; an unfed placeholder's names
# "placeholder tensor 'NAME'"
_NODE_IN_MESSAGE = re.compile(r"\[\[node (\S+) \(|placeholder tensor '([^']+)'")


def _status_error(st, graph=None):
    """The tf.errors exception of a failed status; its `op` is the
    Operation of `graph` the message names, when there is one."""
    message = _s(lib.tfc_status_message(st))
    op = None
    m = _NODE_IN_MESSAGE.search(message or "") if graph is not None else None
    if m:
        op = graph._op_or_none(m.group(1) or m.group(2))
    return errors._from_code(lib.tfc_status_code(st), message, op)


def _raise_status(st, graph=None):
    raise _status_error(st, graph)


# ---------------------------------------------------------------------------
# Fetch structures
# ---------------------------------------------------------------------------

def _flatten_fetches(fetches, graph, items):
    """Appends the leaves of `fetches` to `items` and returns a function
    rebuilding the structure from the list of leaf results."""
    if fetches is None:
        raise TypeError("Fetch argument None has invalid type <class 'NoneType'>")
    if isinstance(fetches, SparseTensor):
        i = len(items)
        items.extend([fetches.indices, fetches.values, fetches.dense_shape])
        return lambda r: SparseTensorValue(r[i], r[i + 1], r[i + 2])
    if isinstance(fetches, (Tensor, Operation)) or hasattr(fetches, "_variable_tensor") \
            or isinstance(fetches, str):
        i = len(items)
        items.append(fetches)
        return lambda r: r[i]
    if isinstance(fetches, dict):
        keys = list(fetches)
        subs = [_flatten_fetches(fetches[k], graph, items) for k in keys]
        cls = type(fetches)
        if cls is dict or cls is collections.OrderedDict:
            return lambda r: cls((k, f(r)) for k, f in zip(keys, subs))
        if cls is collections.defaultdict:
            factory = fetches.default_factory

            def make(r):
                d = collections.defaultdict(factory)
                for k, f in zip(keys, subs):
                    d[k] = f(r)
                return d
            return make
        return lambda r: cls((k, f(r)) for k, f in zip(keys, subs))
    if isinstance(fetches, (list, tuple)):
        subs = [_flatten_fetches(f, graph, items) for f in fetches]
        if isinstance(fetches, tuple) and hasattr(fetches, "_fields"):
            cls = type(fetches)
            return lambda r: cls(*[f(r) for f in subs])
        if isinstance(fetches, tuple):
            return lambda r: tuple(f(r) for f in subs)
        return lambda r: [f(r) for f in subs]
    raise TypeError("Fetch argument %r has invalid type %r, must be a string or Tensor. "
                    "(Can not convert a %s into a Tensor or Operation.)"
                    % (fetches, type(fetches), type(fetches).__name__))


def _resolve(graph, x, what):
    """A fetch or feed key as a Tensor or an Operation of `graph`."""
    if isinstance(x, str):
        try:
            return graph.as_graph_element(x)
        except KeyError as e:
            raise ValueError("%s %r cannot be interpreted as a Tensor. (%s)"
                             % (what, x, e.args[0] if e.args else e))
    var = getattr(x, "_variable_tensor", None)
    if var is not None:
        x = var
    if isinstance(x, (Tensor, Operation)):
        if x.graph is not graph:
            raise ValueError("%s %r is not an element of this graph." % (what, x))
        return x
    raise TypeError("%s %r has invalid type %r" % (what, x, type(x)))


# ---------------------------------------------------------------------------
# Feed and fetch converters
# ---------------------------------------------------------------------------

def _shape_ok(static, shape):
    if static is None:
        return True
    if len(static) != len(shape):
        return False
    for s, d in zip(static, shape):
        if s >= 0 and s != d:
            return False
    return True


def _static_str(static):
    if static is None:
        return "<unknown>"
    dims = ["?" if d < 0 else str(d) for d in static]
    return "(%s)" % (dims[0] + "," if len(dims) == 1 else ", ".join(dims))


class _Feed(object):
    """Converts the values fed to one tensor into tfc tensors."""
    __slots__ = ("tensor", "dtype", "np_dtype", "enum", "static", "scalar_ok", "scalar_new",
                 "dims_cache", "last", "last_ptr", "last_dims", "last_big", "fast", "numeric")

    _SCALAR_NEW = {
        dtypes.float32: _raw("tfc_tensor_scalar_float", _VP, [ctypes.c_float]),
        dtypes.float64: _raw("tfc_tensor_scalar_double", _VP, [ctypes.c_double]),
        dtypes.int32: _raw("tfc_tensor_scalar_int32", _VP, [ctypes.c_int32]),
        dtypes.int64: _raw("tfc_tensor_scalar_int64", _VP, [ctypes.c_int64]),
        dtypes.bool: _raw("tfc_tensor_scalar_bool", _VP, [ctypes.c_int]),
    }

    def __init__(self, tensor):
        self.tensor = tensor
        self.dtype = tensor.dtype
        self.np_dtype = np.dtype(self.dtype.as_numpy_dtype or object)
        # arrays of np_dtype are the elements as they are (not strings)
        self.numeric = self.dtype != dtypes.string and self.dtype.as_numpy_dtype is not None
        self.enum = self.dtype.as_datatype_enum
        self.static = tensor._static_dims()
        self.scalar_ok = self.static is None or self.static == []
        self.scalar_new = self._SCALAR_NEW.get(self.dtype)
        self.dims_cache = {}
        self.last = None
        self.last_ptr = None
        self.last_dims = None
        self.last_big = False
        self.fast = self._fast()

    def _fast(self):
        """The converter with the Python scalar of this dtype checked first."""
        new, slow = self.scalar_new, self.__call__
        if not self.scalar_ok or new is None:
            return slow
        kind = float if self.dtype.is_floating else int if not self.dtype.is_bool else bool

        def convert(v):
            if type(v) is kind:
                return new(v)
            return slow(v)
        return convert

    def __call__(self, v):
        tv = type(v)
        if tv is np.ndarray and self.numeric:  # first: a batch fed every step
            if v is self.last:
                if self.last_big:
                    return _borrow(self.enum, v, self.last_dims, self.last_ptr)
                return _tensor_from_data(self.enum, v.ndim, self.last_dims, self.last_ptr)
            dt = v.dtype
            if (dt is self.np_dtype or dt == self.np_dtype) and v.flags.c_contiguous:
                dims = self.dims_cache.get(v.shape)
                nbytes = v.nbytes
                if dims is None or not nbytes or _DATA_OFFSET is None:
                    return self._array(v, True)
                # a training step's batch: a new array of a known shape, with
                # _array's and _data_address's work inline (each Python call
                # costs microseconds in a loop whose training steps evict
                # the interpreter's caches)
                ptr = _VP(_void_p_at(id(v) + _DATA_OFFSET).value)
                big = nbytes >= _BORROW_MIN_BYTES
                self.last, self.last_ptr, self.last_dims, self.last_big = v, ptr, dims, big
                if big:
                    t = _borrow(self.enum, v, dims, ptr)
                else:
                    t = _tensor_from_data(self.enum, v.ndim, dims, ptr)
                if not t:
                    raise ValueError("tfc cannot make a tensor of shape %s for %s" %
                                     (v.shape, self.tensor.name))
                return t
        if self.scalar_ok and self.scalar_new is not None and \
                (tv is float or tv is int or tv is bool):
            if self.dtype.is_integer and tv is float:
                raise TypeError("Cannot feed float %r to the %s tensor %s" %
                                (v, self.dtype.name, self.tensor.name))
            return self.scalar_new(v)
        if self.dtype == dtypes.string:
            return self._strings(v)
        if isinstance(v, (Tensor, Operation)) or hasattr(v, "_variable_tensor"):
            raise TypeError("The value of a feed cannot be a tf.Tensor object. Acceptable "
                            "feed values include Python scalars, strings, lists, numpy "
                            "ndarrays, or TensorHandles. For reference, the tensor object "
                            "was %r which was passed to the feed with key %r." %
                            (v, self.tensor))
        if self.dtype.is_integer and isinstance(v, (float, list)) and \
                np.asarray(v).dtype.kind == "f":
            raise TypeError("Cannot feed floats %r to the %s tensor %s" %
                            (v, self.dtype.name, self.tensor.name))
        return self._array(np.asarray(v, dtype=self.np_dtype, order="C"), False)

    def _array(self, arr, fed):
        """A tfc tensor of a C-contiguous array of the feed's dtype: lent to
        tfc when large, else copied. `fed`: arr is the caller's own array
        (remembered, so feeding it again skips the checks)."""
        shape = arr.shape
        dims = self.dims_cache.get(shape)
        if dims is None:  # a shape not seen yet: checked once
            if not _shape_ok(self.static, shape):
                raise ValueError("Cannot feed value of shape %r for Tensor %r, which has "
                                 "shape %r" % (shape, self.tensor.name,
                                               _static_str(self.static)))
            dims = (c_int64 * max(len(shape), 1))(*shape)
            if len(self.dims_cache) < 16:
                self.dims_cache[shape] = dims
        big = arr.nbytes >= _BORROW_MIN_BYTES
        ptr = _data_address(arr)
        if fed:
            self.last, self.last_ptr, self.last_dims, self.last_big = arr, ptr, dims, big
        if big:
            t = _borrow(self.enum, arr, dims, ptr)
        else:
            t = _tensor_from_data(self.enum, arr.ndim, dims, ptr)
        if not t:
            raise ValueError("tfc cannot make a tensor of shape %s for %s" %
                             (shape, self.tensor.name))
        return t

    def _strings(self, v):
        if isinstance(v, (Tensor, Operation)):
            raise TypeError("The value of a feed cannot be a tf.Tensor object.")
        arr = string_array(v)
        if not _shape_ok(self.static, arr.shape):
            raise ValueError("Cannot feed value of shape %r for Tensor %r, which has shape %r"
                             % (arr.shape, self.tensor.name, _static_str(self.static)))
        # a _VP like every other feed: the run path frees it through a
        # function without argtypes, which would pass a plain int as a
        # 32-bit C int (a pointer above 2 GiB, cut short)
        return _VP(_tfc_strings_from_np(arr))


_tensor_rank = lib.tfc_tensor_rank
_string_get = lib.tfc_string_tensor_get
_string_at = ctypes.string_at


def _fetch_strings(t):
    """A string tensor as a numpy object array of bytes (bytes for a scalar)."""
    rank = _tensor_rank(t)
    shape = tuple(_tensor_dim(t, i) for i in range(rank))
    n = lib.tfc_tensor_num_elements(t)
    ln = ctypes.c_size_t()
    vals = []
    for i in range(n):
        p = _string_get(t, i, ctypes.byref(ln))
        vals.append(_string_at(p, ln.value) if ln.value else b"")
    if rank == 0:
        return vals[0]
    out = np.empty(n, dtype=object)
    out[:] = vals
    return out.reshape(shape)
_tensor_dim = lib.tfc_tensor_dim
_memmove = ctypes.memmove


def _fetch_converter(tensor):
    """A function from a fetched tfc tensor to a numpy value (a copy)."""
    dt = tensor.dtype
    if dt == dtypes.string:
        return _fetch_strings
    if dt == dtypes.resource:
        raise TypeError("Fetch argument %r: a resource handle cannot be fetched" % tensor.name)
    np_dt = np.dtype(dt.as_numpy_dtype)
    static = tensor._static_dims()
    if static == [] and dt in _CTYPE:
        ctype = _CTYPE[dt]
        from_address = ctype.from_address
        np_scalar = np_dt.type

        def scalar(t):
            return np_scalar(from_address(_tensor_data(t)).value)
        return scalar
    itemsize = np_dt.itemsize
    if static is not None and all(d >= 0 for d in static):
        shape = tuple(static)
        nbytes = int(np.prod(shape)) * itemsize if shape else itemsize

        def fixed(t):
            out = np.empty(shape, np_dt)
            if nbytes:
                _memmove(out.ctypes.data, _tensor_data(t), nbytes)
            return out
        return fixed

    def dynamic(t):
        rank = _tensor_rank(t)
        shape = tuple(_tensor_dim(t, i) for i in range(rank))
        if rank == 0:
            return np_dt.type(_CTYPE[dt].from_address(_tensor_data(t)).value)
        out = np.empty(shape, np_dt)
        if out.nbytes:
            _memmove(out.ctypes.data, _tensor_data(t), out.nbytes)
        return out
    return dynamic


class _RunPlan(object):
    """Everything one kind of run needs, prepared once."""

    def __init__(self, session, fetches, feed_keys):
        g = session._graph
        items = []
        self.rebuild = _flatten_fetches(fetches, g, items)
        self.single = not isinstance(fetches, (list, tuple, dict))
        leaves = [_resolve(g, x, "Fetch argument") for x in items]
        self.tensors = []
        self.targets = []
        self.slots = []  # per leaf: index into the fetched tensors, or -1
        seen = {}
        for leaf in leaves:
            if isinstance(leaf, Operation):
                if leaf not in self.targets:
                    self.targets.append(leaf)
                self.slots.append(-1)
            else:
                if leaf not in seen:
                    seen[leaf] = len(self.tensors)
                    self.tensors.append(leaf)
                self.slots.append(seen[leaf])
        self.nfetch = len(self.tensors)
        self.fetch_arr = (Output * max(self.nfetch, 1))(*[t._c for t in self.tensors])
        self.out_arr = (_VP * max(self.nfetch, 1))()
        self.converters = [_fetch_converter(t) for t in self.tensors]
        self.ntargets = len(self.targets)
        self.target_arr = (ctypes.c_void_p * max(self.ntargets, 1))(
            *[op._node for op in self.targets]) if self.targets else None
        feeds = []
        for k in feed_keys:
            t = _resolve(g, k, "Cannot interpret feed_dict key as Tensor:")
            if isinstance(t, Operation):
                raise TypeError("Cannot interpret feed_dict key as Tensor: Can not convert a "
                                "Operation into a Tensor.")
            feeds.append(t)
        self.nfeeds = len(feeds)
        self.feeds = [_Feed(t) for t in feeds]
        self.feed_arr = (Output * max(self.nfeeds, 1))(*[t._c for t in feeds])
        self.val_arr = (_VP * max(self.nfeeds, 1))()
        self.lock = threading.Lock()
        self.srun = session._srun  # tfc_session_run, or tfc_cluster_session_run
        self.status = session._new_status()
        self.direct = self.single and self.nfetch == 1 and not self.targets
        self.run = self._choose()
        # runs still to be timed; < 0: a slow plan, -1 - (its quick runs in a
        # row) (see BaseSession._run_watched)
        self.watch = 3

    def _choose(self):
        """The run function for this plan: the common shapes of run (one
        fetched tensor, at most one feed) get a path with nothing else in it."""
        if self.direct and self.nfeeds == 1:
            return self._one_feed_runner()
        if self.direct and self.nfeeds == 0:
            return self._run_no_feed
        if self.single and self.nfetch == 0:
            return self._targets_runner()
        return self._run_general

    def _targets_runner(self):
        """run() for one operation and any feeds (a training step:
        sess.run(train_op, {x: batch, y: labels})), everything it touches
        bound to locals: what it adds to a step is CPU taken from the step
        itself (python/README.md, Overhead)."""
        feeds = [f.fast for f in self.feeds]
        lock, general = self.lock, self._run_general
        val_arr, feed_arr, target_arr, ntargets = self.val_arr, self.feed_arr, \
            self.target_arr, self.ntargets
        srun, tfree, code = self.srun, _tensor_free, _status_code
        own_st = self.status  # used under the lock only

        def run(session, values, st=None):
            if not lock.acquire(False):
                return general(session, values, st)
            error = None
            try:
                n = 0
                try:
                    for f, v in zip(feeds, values):
                        val_arr[n] = f(v)
                        n += 1
                    srun(session._hv, feed_arr, val_arr, n, None, 0, None, target_arr,
                         ntargets, own_st)
                finally:
                    for i in range(n):
                        tfree(val_arr[i])
                    if _LOANS:
                        _sweep()
                if code(own_st):
                    error = _status_error(own_st, session._graph)
            finally:
                lock.release()
            if error is not None:
                raise error
        return run

    def _one_feed_runner(self):
        """run() for one feed and one fetched tensor, everything it touches
        bound to locals (this is the path a tiny graph's run takes)."""
        feed = self.feeds[0].fast
        conv = self.converters[0]
        lock, general = self.lock, self._run_general
        val_arr, out_arr, feed_arr, fetch_arr = self.val_arr, self.out_arr, self.feed_arr, \
            self.fetch_arr
        srun, tfree = self.srun, _tensor_free
        own_st = self.status  # used under the lock only

        def run(session, values, st=None):
            if not lock.acquire(False):
                return general(session, values, st)
            st = own_st
            try:
                for v in values:
                    t = feed(v)
                val_arr[0] = t
                srun(session._hv, feed_arr, val_arr, 1, fetch_arr, 1, out_arr, None, 0, st)
                tfree(t)
                if _LOANS:
                    _sweep()
                out = out_arr[0]
                # read while the lock keeps other threads off the status
                error = None if out else _status_error(st, session._graph)
            finally:
                lock.release()
            if error is not None:
                raise error
            try:
                return conv(out)
            finally:
                tfree(out)
        return run

    def _run_no_feed(self, session, values, st=None):
        lock = self.lock
        if not lock.acquire(False):  # another thread runs this plan: arrays of our own
            return self._run_with(session, values, st or session._status(), None, None,
                                  (_VP * 1)(), (_VP * 1)())
        try:
            st = self.status
            out_arr = self.out_arr
            self.srun(session._hv, None, None, 0, self.fetch_arr, 1, out_arr, None, 0, st)
            out = out_arr[0]
            error = None if out else _status_error(st, session._graph)
        finally:
            lock.release()
        if error is not None:
            raise error
        try:
            return self.converters[0](out)
        finally:
            _tensor_free(out)

    def _run_general(self, session, values, st=None, options=None, run_metadata=None):
        """Any run: the plan's own ctypes arrays and status when no other
        thread is running the plan (no allocation per run), else new ones."""
        if st is None and self.lock.acquire(False):
            try:
                return self._run_with(session, values, self.status, options, run_metadata,
                                      self.val_arr, self.out_arr)
            finally:
                self.lock.release()
        return self._run_with(session, values, st or session._status(), options, run_metadata,
                              (_VP * max(self.nfeeds, 1))(), (_VP * max(self.nfetch, 1))())

    def _run_with(self, session, values, st, options, run_metadata, val_arr, out_arr):
        n = 0
        md = None
        try:
            for conv, v in zip(self.feeds, values):
                val_arr[n] = conv.fast(v)
                n += 1
            if options is None and run_metadata is None:
                session._srun(session._hv, self.feed_arr, val_arr, n, self.fetch_arr,
                             self.nfetch, out_arr, self.target_arr, self.ntargets, st)
            else:
                if session._server is not None:
                    raise errors.UnimplementedError(
                        None, None, "tfc: RunOptions and RunMetadata are not supported by "
                        "sessions on a cluster")
                ropts = options._c() if options is not None else None
                md = _VP(_md_new()) if run_metadata is not None else None
                _session_run_v2(session._hv, ctypes.byref(ropts) if ropts else None,
                                self.feed_arr, val_arr, n, self.fetch_arr, self.nfetch, out_arr,
                                self.target_arr, self.ntargets, md, st)
                if md is not None:
                    run_metadata._fill(md)
        finally:
            for i in range(n):
                _tensor_free(val_arr[i])
            if _LOANS:
                _sweep()
            if md is not None:
                _md_free(md)
        if _status_code(st):
            _raise_status(st, session._graph)
        results = []
        try:
            for i in range(self.nfetch):
                results.append(self.converters[i](out_arr[i]))
        finally:
            for i in range(self.nfetch):
                _tensor_free(out_arr[i])
        if self.direct:
            return results[0]
        leaves = [results[k] if k >= 0 else None for k in self.slots]
        return self.rebuild(leaves)



# ---------------------------------------------------------------------------
# Sessions
# ---------------------------------------------------------------------------

class BaseSession(object):
    _srun = _session_run   # the run function (a cluster session's for a target)
    _server = None         # the tf.train.Server a session on a target runs on

    def __init__(self, target="", graph=None, config=None):
        self._h = None
        if target:
            from . import distributed
            server = distributed._server_for_target(_s(target))
        self._graph = graph if graph is not None else get_default_graph()
        if not isinstance(self._graph, Graph):
            raise TypeError("graph must be a tf.Graph, but got %s" % type(self._graph))
        self._config = config
        opts = SessionOptions()
        keep = []
        if config is not None:
            opts.intra_op_threads = int(getattr(config, "intra_op_parallelism_threads", 0) or 0)
            opts.inter_op_threads = int(getattr(config, "inter_op_parallelism_threads", 0) or 0)
            counts = dict(getattr(config, "device_count", None) or {})
            if counts:
                types = (ctypes.c_char_p * len(counts))(*[k.encode() for k in counts])
                nums = (ctypes.c_int * len(counts))(*[int(v) for v in counts.values()])
                keep += [types, nums]
                opts.num_device_types = len(counts)
                opts.device_types = types
                opts.device_counts = nums
            opts.allow_soft_placement = 1 if getattr(config, "allow_soft_placement", 0) else 0
            opts.log_device_placement = 1 if getattr(config, "log_device_placement", 0) else 0
        st = lib.tfc_status_new()
        try:
            if target:
                self._h = _session_new_on_server(server._handle(), self._graph._h,
                                                 ctypes.byref(opts), st)
                self._server = server
                self._srun = _cluster_session_run
                self._target = _s(target)
            else:
                self._h = lib.tfc_session_new(self._graph._h, ctypes.byref(opts), st)
            if not self._h:
                _raise_status(st, self._graph)
            self._hv = _VP(self._h)
        finally:
            lib.tfc_status_free(st)
        self._tls = threading.local()
        self._statuses = []
        self._plans = {}
        self._closed = False
        self._workers = set()
        self._coordinators = []  # those running queue runners on this session
        self._graph._dependents.add(self)
        if self._server is not None:
            distributed._register_session(self)

    def _new_status(self):
        """A status freed with the session."""
        st = _VP(lib.tfc_status_new())
        self._statuses.append(st)
        return st

    def _status(self):
        st = getattr(self._tls, "st", None)
        if st is None:
            st = _VP(lib.tfc_status_new())
            self._tls.st = st
            self._statuses.append(st)
        return st

    def _release(self, final=False):
        for w in list(getattr(self, "_workers", ())):
            if w is not threading.current_thread():
                w.join()  # a run a KeyboardInterrupt left behind
        h = getattr(self, "_h", None)
        if h:
            self._h = None
            self._hv = None
            if self._server is not None:
                _cluster_session_free(h)
            else:
                _stop_session_threads(self)
                lib.tfc_session_free(h)
        if not final:
            # A thread whose run close() just ended (CANCELLED) may not have
            # read its status yet: statuses go with the session object
            return
        for st in getattr(self, "_statuses", ()):
            lib.tfc_status_free(st)
        if hasattr(self, "_statuses"):
            self._statuses = []
        self._plans = {}

    def close(self):
        """Frees the session's variables and state; later runs fail."""
        self._closed = True
        self._release()

    def __del__(self):
        self._release(final=True)

    @property
    def graph(self):
        return self._graph

    @property
    def graph_def(self):
        return self._graph.as_graph_def()

    @property
    def sess_str(self):
        return getattr(self, "_target", "")

    def _local_handle(self, what):
        """The tfc_session of a local session; a session on a cluster raises."""
        if not self._h:
            raise RuntimeError("Attempted to use a closed Session.")
        if self._server is not None:
            raise errors.UnimplementedError(None, None, "tfc: %s is not supported on a session "
                                            "on a cluster (target %r)" % (what, self._target))
        return self._h

    def as_default(self):
        return _SessionDefault(self)

    def run(self, fetches, feed_dict=None, options=None, run_metadata=None):
        """Runs what `fetches` need, feeding `feed_dict`; returns the
        fetched values in the structure of `fetches`."""
        if not self._h:
            raise RuntimeError("Attempted to use a closed Session.")
        tf = type(fetches)
        if feed_dict:
            keys = tuple(feed_dict)
            values = feed_dict.values()
        else:
            keys = ()
            values = ()
        if tf is Tensor or tf is Operation or tf is str:
            key = (fetches, keys)
        elif tf is list or tf is tuple:
            try:
                key = (tf, tuple(fetches), keys)
                hash(key)
            except TypeError:
                key = None
        else:
            key = None
            if hasattr(fetches, "_variable_tensor"):
                key = (fetches, keys)
        plan = self._plans.get(key) if key is not None else None
        if plan is None:
            plan = _RunPlan(self, fetches, keys)
            if key is not None:
                if len(self._plans) > 256:
                    self._plans.clear()
                self._plans[key] = plan
        if options is not None or run_metadata is not None:
            return plan._run_general(self, values, None, options, run_metadata)
        if plan.watch:
            return self._run_watched(plan, values)
        return plan.run(self, values)

    # A run that takes long goes to a worker thread while this one waits, so
    # Ctrl-C (KeyboardInterrupt) reaches the caller: tfc cannot cancel a run,
    # so the run itself finishes in the background, and the session stays
    # usable (close() waits for it). A plan's first runs are timed; one over
    # _SLOW_S makes its later runs go this way. A plan whose first run was
    # slow only because tfc built its plan then (a training step's first run
    # takes 20-80 ms, its later ones 1-2 ms) goes back to running in the
    # calling thread after _QUICK_RUNS runs in a row under _QUICK_S, instead
    # of starting a thread for every step (python/README.md, Overhead).
    _SLOW_S = 0.05
    _QUICK_S = 0.01
    _QUICK_RUNS = 3

    def _run_watched(self, plan, values):
        t0 = time.perf_counter()
        if plan.watch < 0:
            value = self._run_interruptible(plan, values)
            if time.perf_counter() - t0 < self._QUICK_S:
                plan.watch -= 1
                if plan.watch < -self._QUICK_RUNS:
                    plan.watch = 0      # from now on in the calling thread, untimed
            else:
                plan.watch = -1
            return value
        try:
            return plan.run(self, values)
        finally:
            if time.perf_counter() - t0 > self._SLOW_S:
                plan.watch = -1
            elif plan.watch > 0:
                plan.watch -= 1

    def _run_interruptible(self, plan, values):
        values = list(values)
        result = {}
        done = threading.Event()

        def work():
            st = _VP(lib.tfc_status_new())
            try:
                result["value"] = plan._run_general(self, values, st)
            except BaseException as e:  # handed to the caller
                result["error"] = e
            finally:
                lib.tfc_status_free(st)
                self._workers.discard(worker)
                done.set()
        worker = threading.Thread(target=work, name="tfc-run", daemon=True)
        self._workers.add(worker)
        worker.start()
        while not done.wait(0.1):
            pass
        if "error" in result:
            raise result["error"]
        return result["value"]

    def make_callable(self, fetches, feed_list=None, accept_options=False):
        """A function running `fetches` with positional feeds for feed_list."""
        keys = tuple(feed_list or ())
        plan = _RunPlan(self, fetches, keys)
        nkeys, prun = len(keys), plan.run  # the plan's run path, bound once

        def call(*args, **kwargs):
            if len(args) != nkeys:
                raise TypeError("callable takes %d feeds, got %d" % (nkeys, len(args)))
            if not self._h:
                raise RuntimeError("Attempted to use a closed Session.")
            if kwargs:
                if not accept_options or set(kwargs) - {"options", "run_metadata"}:
                    raise TypeError("callable got unexpected keyword arguments %s"
                                    % sorted(kwargs))
                return plan._run_general(self, args, None, kwargs.get("options"),
                                         kwargs.get("run_metadata"))
            return prun(self, args)
        return call

    def _assigned_device(self, op):
        """tfc: the full device a session on a cluster placed `op` (an
        Operation or Tensor) on, None before a run placed it."""
        op = getattr(op, "op", op)
        if self._server is None:
            return op.device
        return _s(_assigned_device(self._h, op._node))

    def list_devices(self):
        """The session's devices (objects with name, device_type)."""
        if not self._h:
            raise RuntimeError("Attempted to use a closed Session.")
        if self._server is not None:
            c = self._server._cluster
            return [_DeviceAttributes("/job:%s/replica:0/task:%d/device:CPU:0" % (job, i))
                    for job in c.jobs for i in range(c.num_tasks(job))]
        return [_DeviceAttributes(_s(_device_name(self._h, i)))
                for i in range(_num_devices(self._h))]


class _SessionDefault(object):
    """Makes a session the default one (and, for `with Session()`, its graph
    the default graph)."""

    def __init__(self, session, with_graph=False):
        self._s = session
        self._g = None
        self._with_graph = with_graph

    def __enter__(self):
        _default_session.stack.append(self._s)
        if self._with_graph:
            self._g = self._s._graph.as_default()
            self._g.__enter__()
        return self._s

    def __exit__(self, *exc):
        if self._g is not None:
            self._g.__exit__(*exc)
        stack = _default_session.stack
        if stack and stack[-1] is self._s:
            stack.pop()
        return False


class Session(BaseSession):
    """tf.Session(target='', graph=None, config=None). As a context manager
    it is the default session (Tensor.eval, Operation.run) and its graph the
    default graph, and closes on exit."""

    def __enter__(self):
        self._default_cm = _SessionDefault(self, with_graph=True)
        return self._default_cm.__enter__()

    def __exit__(self, exc_type, exc, tb):
        self._default_cm.__exit__(exc_type, exc, tb)
        self.close()
        return False

    @staticmethod
    def reset(target, containers=None, config=None):
        raise errors.UnimplementedError(None, None, "tfc: Session.reset needs a cluster")


class InteractiveSession(BaseSession):
    """A session that makes itself the default on creation (for shells)."""

    def __init__(self, target="", graph=None, config=None):
        super(InteractiveSession, self).__init__(target, graph, config)
        self._cm = _SessionDefault(self)
        self._cm.__enter__()

    def close(self):
        if getattr(self, "_cm", None) is not None:
            stack = _default_session.stack
            if self in stack:
                stack.remove(self)
            self._cm = None
        super(InteractiveSession, self).close()
