"""Graphs, operations and tensors: the Python objects over tfc's graph.

A Graph owns one tfc_graph. Operation and Tensor objects are views of its
nodes and outputs, made once per node (so `is` and dict keys work as in
TensorFlow). Ops are added through tfc's generic builder (tfc_op_new, attrs,
tfc_op_finish) or through the C helpers for composite ops; a builder that
fails raises the tf.errors class of the graph's error code, with tfc's
message, and clears the error so the graph stays usable.

Names follow TensorFlow: name scopes nest ("layer1/MatMul"), a name that is
taken gets "_1", "_2". The C graph keeps a name-scope stack too; each Python
scope pushes exactly one C scope, named by the Python side (see
Graph._unique_name), so the nodes C helpers create land in the same scope.
"""

import contextlib
import ctypes
import threading
import weakref

import numpy as np

from . import dtypes
from . import errors
from . import tensor_shape
from ._lib import lib, Output, c_int64, c_double, int64_array

_b = lambda s: s.encode() if isinstance(s, str) else s  # noqa: E731


def _s(b):
    return b.decode() if isinstance(b, bytes) else b


# ---------------------------------------------------------------------------
# The default graph
# ---------------------------------------------------------------------------

class _DefaultStack(threading.local):
    def __init__(self):
        self.stack = []


_default = _DefaultStack()
_global_graph = [None]


def get_default_graph():
    """The innermost graph of `with g.as_default()`, else the global one."""
    if _default.stack:
        return _default.stack[-1]
    if _global_graph[0] is None:
        _global_graph[0] = Graph()
    return _global_graph[0]


def reset_default_graph():
    """Replaces the global default graph with a new empty one."""
    if _default.stack:
        raise AssertionError("Do not use tf.reset_default_graph() to clear nested graphs. "
                             "If you need a cleared graph, exit the nesting and create a "
                             "new graph.")
    _global_graph[0] = Graph()
    from . import session as _session
    _session._default_session.stack[:] = []


# ---------------------------------------------------------------------------
# Graph
# ---------------------------------------------------------------------------

class GraphDef(object):
    """A serialized tensorflow.GraphDef (tfc_graph_to_graphdef's bytes);
    FileWriter/SummaryWriter accept it in place of the graph."""

    def __init__(self, data, graph=None):
        self._data = data
        self._graph = graph

    def SerializeToString(self):
        return self._data

    def ByteSize(self):
        return len(self._data)


class Graph(object):
    """tf.Graph: a dataflow graph. Builders add to the default graph; make
    this one the default with `with g.as_default():`."""

    def __init__(self, _handle=None, _parent=None):
        if _handle is None:
            self._h = lib.tfc_graph_new()
            if not self._h:
                raise MemoryError("tfc_graph_new failed")
            self._owned = True
        else:
            self._h = _handle
            self._owned = False
        self._parent = _parent
        self._ops = {}          # node address -> Operation
        self._variables = {}    # node address -> Variable
        self._prefix = ""       # the current name scope, "a/b/"
        self._name_uses = {}
        self._used = set()      # node names and the scopes above them
        self._nscanned = 0
        self._var_scopes = []   # VariableScope frames (Python side; C keeps the prefix)
        self._collections = {}
        self._dependents = weakref.WeakSet()
        self._finalized = False
        self._seed = None
        self._lock = threading.RLock()

    def __del__(self):
        h = getattr(self, "_h", None)
        if h and self._owned:
            for d in list(self._dependents):
                d._release()
            self._h = None
            lib.tfc_graph_free(h)

    # -- default graph ---------------------------------------------------
    @contextlib.contextmanager
    def as_default(self):
        _default.stack.append(self)
        try:
            yield self
        finally:
            _default.stack.pop()

    # -- errors ------------------------------------------------------------
    def _raise_error(self):
        msg = _s(lib.tfc_graph_error(self._h)) or "tfc: graph building failed"
        code = lib.tfc_graph_error_code(self._h)
        lib.tfc_graph_clear_error(self._h)
        raise errors._build_error(code, msg)

    def _check(self, ok=True):
        """Raises the graph's error, if any; `ok` False means a builder
        returned null."""
        if not ok or lib.tfc_graph_error(self._h):
            self._raise_error()

    def _check_output(self, out):
        if not out.node:
            self._raise_error()
        return self._tensor(out)

    def _check_node(self, node):
        if not node:
            self._raise_error()
        return self._op(node)

    # -- wrappers ------------------------------------------------------------
    def _op(self, node):
        op = self._ops.get(node)
        if op is None:
            op = Operation(node, self)
            self._ops[node] = op
        return op

    def _tensor(self, out):
        if out.node is None or not out.node:
            return None
        return self._op(out.node).outputs[out.index]

    def _graph_of_node(self, node):
        """The Graph (this one or an enclosing one) that holds `node`."""
        g = self
        while g is not None:
            if node in g._ops:
                return g
            g = g._parent
        return self

    # -- names ---------------------------------------------------------------
    def _sync_names(self):
        n = lib.tfc_graph_num_nodes(self._h)
        for i in range(self._nscanned, n):
            name = _s(lib.tfc_node_name(lib.tfc_graph_node(self._h, i)))
            self._mark_used(name)
        self._nscanned = n

    def _mark_used(self, full):
        self._used.add(full)
        parts = full.split("/")
        for k in range(1, len(parts)):
            self._used.add("/".join(parts[:k]))

    def _unique_name(self, base, mark=True):
        """TensorFlow's Graph.unique_name: the current scope + base, made
        unique with _1, _2 ... against every node and scope name."""
        self._sync_names()
        full = self._prefix + base
        i = self._name_uses.get(full, 0)
        cand = full if i == 0 else "%s_%d" % (full, i)
        while cand in self._used:
            i += 1
            cand = "%s_%d" % (full, i)
        if mark:
            self._name_uses[full] = i + 1
            self._mark_used(cand)
        return cand

    def unique_name(self, name, mark_as_used=True):
        return self._unique_name(name, mark_as_used)

    def _rel(self, full):
        return full[len(self._prefix):]

    def get_name_scope(self):
        return self._prefix[:-1]

    @contextlib.contextmanager
    def name_scope(self, name):
        """A name scope: ops made inside are named "<scope>/<name>"."""
        if name is None or name == "":
            # TensorFlow resets to the top scope; the C graph's scope stack
            # cannot be re-entered, so the current scope stays.
            yield ""
            return
        if name.endswith("/"):
            if name == self._prefix:
                yield name
                return
            raise NotImplementedError(
                "tfc: re-entering the name scope '%s' is not supported (only new scopes "
                "and the current one)" % name)
        full = self._unique_name(name)
        with self._exact_scope(full) as scope:
            yield scope

    @contextlib.contextmanager
    def _exact_scope(self, full):
        """Enters the scope `full`, a name already made unique below the
        current scope, on both sides."""
        lib.tfc_name_scope_push(self._h, _b(self._rel(full)))
        saved = self._prefix
        self._prefix = full + "/"
        try:
            yield self._prefix
        finally:
            self._prefix = saved
            lib.tfc_name_scope_pop(self._h)

    @contextlib.contextmanager
    def device(self, device_name_or_function):
        if hasattr(device_name_or_function, "_enter"):
            # tf.train.replica_device_setter: tfc places what is built inside
            setter = device_name_or_function
            h = setter._enter(self)
            try:
                yield
            except BaseException:
                setter._exit(self, h, False)
                raise
            setter._exit(self, h, True)
            return
        if callable(device_name_or_function):
            raise NotImplementedError("tfc: device functions are not supported; pass a string "
                                      "or a tf.train.replica_device_setter")
        lib.tfc_device_push(self._h, _b(device_name_or_function or ""))
        self._device_depth = getattr(self, "_device_depth", 0) + 1
        try:
            yield
        finally:
            self._device_depth -= 1
            lib.tfc_device_pop(self._h)

    @contextlib.contextmanager
    def control_dependencies(self, control_inputs):
        if control_inputs is None:
            # TensorFlow clears the dependencies here; tfc's stack cannot,
            # so the enclosing ones stay.
            yield
            return
        ops = [_as_operation(c) for c in control_inputs]
        arr = (ctypes.c_void_p * max(len(ops), 1))(*[op._node for op in ops])
        lib.tfc_control_dependencies_push(self._h, arr, len(ops))
        try:
            yield
        finally:
            lib.tfc_control_dependencies_pop(self._h)

    # -- lookups -------------------------------------------------------------
    def get_operations(self):
        n = lib.tfc_graph_num_nodes(self._h)
        return [self._op(lib.tfc_graph_node(self._h, i)) for i in range(n)]

    def get_operation_by_name(self, name):
        node = lib.tfc_graph_node_by_name(self._h, _b(name))
        if not node:
            raise KeyError("The name '%s' refers to an Operation not in the graph." % name)
        return self._op(node)

    def _op_or_none(self, name):
        """The Operation named `name`, None when the graph has none."""
        node = lib.tfc_graph_node_by_name(self._h, _b(name)) if self._h else None
        return self._op(node) if node else None

    def get_tensor_by_name(self, name):
        out = Output()
        st = lib.tfc_status_new()
        try:
            if lib.tfc_graph_output_by_name(self._h, _b(name), ctypes.byref(out), st) != 0:
                raise KeyError(_s(lib.tfc_status_message(st)))
        finally:
            lib.tfc_status_free(st)
        return self._tensor(out)

    def as_graph_element(self, obj, allow_tensor=True, allow_operation=True):
        if isinstance(obj, str):
            if ":" in obj:
                if not allow_tensor:
                    raise ValueError("Name %r looks like a tensor name" % obj)
                return self.get_tensor_by_name(obj)
            if not allow_operation:
                raise ValueError("Name %r looks like an operation name" % obj)
            return self.get_operation_by_name(obj)
        if isinstance(obj, Tensor) and allow_tensor:
            return obj
        if isinstance(obj, Operation) and allow_operation:
            return obj
        var = getattr(obj, "_variable_tensor", None)
        if var is not None and allow_tensor:
            return var
        raise TypeError("Can not convert a %s into a Tensor or Operation." % type(obj).__name__)

    # -- collections -----------------------------------------------------------
    _C_KEYS = ("variables", "trainable_variables", "summaries", "train_op", "update_ops",
               "global_step")

    def add_to_collection(self, name, value):
        node = getattr(value, "_node", None) or getattr(getattr(value, "op", None), "_node", None)
        if name in self._C_KEYS and node:
            lib.tfc_graph_add_to_collection(self._h, _b(name), node)
            if name in ("summaries",):
                self._collections.setdefault(("c", name), []).append(value)
            return
        self._collections.setdefault(name, []).append(value)

    def add_to_collections(self, names, value):
        for n in ([names] if isinstance(names, str) else names):
            self.add_to_collection(n, value)

    def get_collection(self, name, scope=None):
        items = list(self._collections.get(name, []))
        if name in self._C_KEYS:
            n = lib.tfc_graph_collection_size(self._h, _b(name))
            seen = set(id(x) for x in items)
            extra = {id(t.op) if isinstance(t, Tensor) else None: t
                     for t in self._collections.get(("c", name), [])}
            for i in range(n):
                node = lib.tfc_graph_collection_get(self._h, _b(name), i)
                if name in ("variables", "trainable_variables", "global_step"):
                    obj = self._variable_for(node)
                else:
                    op = self._op(node)
                    obj = extra.get(id(op)) or (op.outputs[0] if op.outputs and name in
                                                ("summaries",) else op)
                if id(obj) not in seen:
                    items.append(obj)
                    seen.add(id(obj))
        if scope is not None:
            import re
            items = [x for x in items if re.match(scope, getattr(x, "name", "") or "")]
        return items

    def get_collection_ref(self, name):
        return self._collections.setdefault(name, [])

    def get_all_collection_keys(self):
        keys = [k for k in self._collections if isinstance(k, str)]
        for k in self._C_KEYS:
            if lib.tfc_graph_collection_size(self._h, _b(k)) and k not in keys:
                keys.append(k)
        return keys

    def clear_collection(self, name):
        self._collections.pop(name, None)

    def _variable_for(self, node):
        v = self._variables.get(node)
        if v is None:
            from .variables import Variable
            v = Variable._from_node(self, node)
        return v

    # -- misc -------------------------------------------------------------------
    @property
    def seed(self):
        return self._seed

    @seed.setter
    def seed(self, value):
        self._seed = value
        if value is not None:
            lib.tfc_graph_set_seed(self._h, int(value))

    def finalize(self):
        self._finalized = True

    @property
    def finalized(self):
        return self._finalized

    @property
    def version(self):
        return lib.tfc_graph_num_nodes(self._h)

    def as_graph_def(self, from_version=None, add_shapes=False):
        data = ctypes.c_void_p()
        size = ctypes.c_size_t()
        st = lib.tfc_status_new()
        try:
            if lib.tfc_graph_to_graphdef(self._h, ctypes.byref(data), ctypes.byref(size), st):
                raise errors._from_code(lib.tfc_status_code(st), _s(lib.tfc_status_message(st)))
            out = ctypes.string_at(data.value, size.value) if size.value else b""
            lib_free(data.value)
        finally:
            lib.tfc_status_free(st)
        return GraphDef(out, self)

    @property
    def graph_def_versions(self):
        return None

    def is_feedable(self, tensor):
        return True

    def is_fetchable(self, tensor_or_op):
        return True


def lib_free(ptr):
    from ._lib import free
    if ptr:
        free(ptr)


# ---------------------------------------------------------------------------
# Operation and Tensor
# ---------------------------------------------------------------------------

class Operation(object):
    """tf.Operation: one node of the graph."""
    __slots__ = ("_node", "_graph", "_outputs", "_name", "__weakref__")

    def __init__(self, node, graph):
        self._node = node
        self._graph = graph
        self._outputs = None
        self._name = None

    @property
    def name(self):
        if self._name is None:
            self._name = _s(lib.tfc_node_name(self._node))
        return self._name

    @property
    def type(self):
        return _s(lib.tfc_node_type(self._node))

    @property
    def graph(self):
        return self._graph

    @property
    def device(self):
        return _s(lib.tfc_node_device(self._node))

    @property
    def outputs(self):
        if self._outputs is None:
            n = lib.tfc_node_num_outputs(self._node)
            self._outputs = [Tensor(self, i) for i in range(n)]
        return self._outputs

    def values(self):
        return tuple(self.outputs)

    @property
    def inputs(self):
        n = lib.tfc_node_num_inputs(self._node)
        res = []
        for i in range(n):
            out = lib.tfc_node_input(self._node, i)
            res.append(self._graph._graph_of_node(out.node)._tensor(out))
        return res

    @property
    def control_inputs(self):
        n = lib.tfc_node_num_control_inputs(self._node)
        return [self._graph._op(lib.tfc_node_control_input(self._node, i)) for i in range(n)]

    def get_attr(self, name):
        s = lib.tfc_node_attr_string(self._node, _b(name))
        if s is not None:
            return s
        sentinel = -(2 ** 62) + 7
        v = lib.tfc_node_attr_int(self._node, _b(name), sentinel)
        if v != sentinel:
            return v
        f = lib.tfc_node_attr_float(self._node, _b(name), float("nan"))
        if f == f:
            return f
        raise ValueError("Operation '%s' has no attr named '%s' (or tfc cannot read its "
                         "kind)." % (self.name, name))

    def run(self, feed_dict=None, session=None):
        """Runs this operation in `session` (default: the default session)."""
        from .session import _session_for
        _session_for(session, self._graph).run(self, feed_dict)

    def __repr__(self):
        return "<tf.Operation '%s' type=%s>" % (self.name, self.type)

    @property
    def node_def(self):
        return None


def _as_operation(x):
    if isinstance(x, Operation):
        return x
    if isinstance(x, Tensor):
        return x.op
    var = getattr(x, "_variable_tensor", None)
    if var is not None:
        return var.op
    if isinstance(x, str):
        return get_default_graph().as_graph_element(x)
    raise TypeError("Can not convert a %s into an Operation." % type(x).__name__)


class _Overloads(object):
    """TensorFlow's operator overloads, shared by Tensor and Variable."""
    __slots__ = ()

    def __add__(self, other):
        return _math().add(self, other, _default="add")

    def __radd__(self, other):
        return _math().add(other, self, _default="add")

    def __sub__(self, other):
        return _math().subtract(self, other, _default="sub")

    def __rsub__(self, other):
        return _math().subtract(other, self, _default="sub")

    def __mul__(self, other):
        return _math().multiply(self, other, _default="mul")

    def __rmul__(self, other):
        return _math().multiply(other, self, _default="mul")

    def __truediv__(self, other):
        return _math().truediv(self, other)

    def __rtruediv__(self, other):
        return _math().truediv(other, self)

    __div__ = __truediv__
    __rdiv__ = __rtruediv__

    def __floordiv__(self, other):
        return _math().floordiv(self, other)

    def __rfloordiv__(self, other):
        return _math().floordiv(other, self)

    def __mod__(self, other):
        return _math().floormod(self, other)

    def __rmod__(self, other):
        return _math().floormod(other, self)

    def __pow__(self, other):
        return _math().pow(self, other, _default="pow")

    def __rpow__(self, other):
        return _math().pow(other, self, _default="pow")

    def __matmul__(self, other):
        return _math().matmul(self, other, _default="matmul")

    def __rmatmul__(self, other):
        return _math().matmul(other, self, _default="matmul")

    def __neg__(self):
        return _math().negative(self)

    def __abs__(self):
        return _math().abs(self)

    def __lt__(self, other):
        return _math().less(self, other)

    def __le__(self, other):
        return _math().less_equal(self, other)

    def __gt__(self, other):
        return _math().greater(self, other)

    def __ge__(self, other):
        return _math().greater_equal(self, other)

    def __and__(self, other):
        return _math().logical_and(self, other, _default="and")

    def __rand__(self, other):
        return _math().logical_and(other, self, _default="and")

    def __or__(self, other):
        return _math().logical_or(self, other, _default="or")

    def __ror__(self, other):
        return _math().logical_or(other, self, _default="or")

    def __xor__(self, other):
        return _math().logical_xor(self, other, _default="xor")

    def __invert__(self):
        return _math().logical_not(self)

    def __getitem__(self, key):
        from . import array_ops
        return array_ops._slice_helper(self, key)

    def __bool__(self):
        raise TypeError("Using a `tf.Tensor` as a Python `bool` is not allowed. Use "
                        "`if t is not None:` instead of `if t:` to test if a tensor is "
                        "defined, and use TensorFlow ops such as tf.cond to execute "
                        "subgraphs conditioned on the value of a tensor.")

    __nonzero__ = __bool__

    def __iter__(self):
        shape = self.get_shape()
        if shape.ndims is None or shape.ndims == 0 or shape[0].value is None:
            raise TypeError("'Tensor' object is not iterable.")
        return (self[i] for i in range(shape[0].value))

    __array_priority__ = 100  # numpy defers to these operators


_math_module = [None]


def _math():
    m = _math_module[0]
    if m is None:
        from . import math_ops as m
        _math_module[0] = m
    return m


class Tensor(_Overloads):
    """tf.Tensor: output `value_index` of operation `op`."""
    __slots__ = ("_op", "_index", "_c", "_dtype", "__weakref__")

    def __init__(self, op, index):
        self._op = op
        self._index = index
        self._c = Output(op._node, index)
        self._dtype = None

    @property
    def op(self):
        return self._op

    @property
    def value_index(self):
        return self._index

    @property
    def graph(self):
        return self._op._graph

    @property
    def name(self):
        return "%s:%d" % (self._op.name, self._index)

    @property
    def device(self):
        return self._op.device

    @property
    def dtype(self):
        if self._dtype is None:
            self._dtype = dtypes.from_enum(lib.tfc_output_dtype(self._c))
        return self._dtype

    @property
    def shape(self):
        s = lib.tfc_output_shape(self._c)
        if s.rank < 0:
            return tensor_shape.TensorShape(None)
        return tensor_shape.TensorShape([None if d < 0 else d for d in s.dims[:s.rank]])

    def get_shape(self):
        return self.shape

    def set_shape(self, shape):
        """Refines the static shape with `shape` (ops built afterwards see it)."""
        shape = tensor_shape.as_shape(shape)
        if not self.shape.is_compatible_with(shape):
            raise ValueError("Shapes %s and %s are not compatible" % (self.shape, shape))
        if shape.ndims is None:
            return
        dims = [-1 if d is None else d for d in shape.as_list()]
        g = self.graph
        g._check(lib.tfc_output_set_shape(g._h, self._c, len(dims), int64_array(dims)) == 0)

    def _static_dims(self):
        """The static dims as a list with -1 for unknown; None for unknown rank."""
        s = lib.tfc_output_shape(self._c)
        return None if s.rank < 0 else list(s.dims[:s.rank])

    def consumers(self):
        res = []
        for op in self.graph.get_operations():
            for t in op.inputs:
                if t is self:
                    res.append(op)
                    break
        return res

    def eval(self, feed_dict=None, session=None):
        """The value of this tensor in `session` (default: the default session)."""
        from .session import _session_for
        return _session_for(session, self.graph).run(self, feed_dict)

    def __repr__(self):
        shape = self.shape
        if shape.ndims is None:
            return 'Tensor("%s", dtype=%s)' % (self.name, self.dtype.name)
        return 'Tensor("%s", shape=%s, dtype=%s)' % (self.name, shape, self.dtype.name)

    __str__ = __repr__

    __hash__ = object.__hash__

    def __eq__(self, other):
        return self is other

    def __ne__(self, other):
        return self is not other


# ---------------------------------------------------------------------------
# Converting Python values to tensors
# ---------------------------------------------------------------------------

def _np_for(value, dtype):
    """`value` as a C-contiguous numpy array of a type tfc supports, with
    TensorFlow's defaults (Python floats -> float32, ints -> int32)."""
    if dtype is None and _is_string_value(value):
        dtype = dtypes.string
    if dtype is not None:
        dtype = dtypes.as_dtype(dtype)
        if dtype == dtypes.string:
            return string_array(value), dtype
        if not dtype.is_supported or dtype == dtypes.resource:
            raise TypeError("tfc does not compute in %s" % dtype.name)
        if not isinstance(value, np.ndarray):
            _check_python_value(value, dtype)
        arr = np.asarray(value, dtype=dtype.as_numpy_dtype)
    else:
        arr = np.asarray(value)
        if not isinstance(value, np.ndarray) and not isinstance(value, np.generic):
            if arr.dtype == np.float64:
                arr = arr.astype(np.float32)
            elif arr.dtype == np.int64 and arr.size and \
                    (-2 ** 31 <= arr.min() and arr.max() < 2 ** 31):
                arr = arr.astype(np.int32)
            elif arr.dtype == np.int64 and not arr.size:
                arr = arr.astype(np.int32)
        if arr.dtype.kind == "U" or arr.dtype == object:
            raise TypeError("tfc has no string tensors: cannot convert %r" % (value,))
        try:
            dtype = dtypes.as_dtype(arr.dtype)
        except TypeError:
            raise TypeError("Cannot convert %r to a tensor" % (value,))
        if not dtype.is_supported:
            raise TypeError("tfc does not compute in %s (value %r)" % (dtype.name, value))
    return np.asarray(arr, order="C"), dtype


def _is_string_value(value):
    if isinstance(value, (bytes, str)):
        return True
    if isinstance(value, np.ndarray):
        return value.dtype.kind in "SUO"
    flat = value
    while isinstance(flat, (list, tuple)) and flat:
        flat = flat[0]
    return isinstance(flat, (bytes, str))


def string_array(value):
    """`value` (bytes, str, nested lists of them, numpy S/U/object arrays) as
    a C-ordered numpy object array of bytes (str encoded as UTF-8)."""
    arr = np.asarray(value, dtype=object)
    flat = arr.reshape(-1)
    out = np.empty(flat.shape, dtype=object)
    for i, v in enumerate(flat):
        if isinstance(v, bytes):
            out[i] = v
        elif isinstance(v, str):
            out[i] = v.encode("utf-8")
        elif isinstance(v, (np.bytes_, bytearray, memoryview)):
            out[i] = bytes(v)
        else:
            raise TypeError("Expected string, got %r of type '%s' instead." %
                            (v, type(v).__name__))
    return out.reshape(arr.shape)


def _tfc_strings_from_np(arr):
    """A new string tfc_tensor from an object array of bytes (string_array)."""
    flat = arr.reshape(-1)
    n = flat.size
    strs = (ctypes.c_char_p * max(n, 1))(*flat)
    lens = (ctypes.c_size_t * max(n, 1))(*[len(b) for b in flat])
    dims = (c_int64 * max(arr.ndim, 1))(*arr.shape)
    t = lib.tfc_tensor_from_strings(arr.ndim, dims, strs, lens)
    if not t:
        raise ValueError("tfc cannot make a string tensor of shape %s" % (arr.shape,))
    return t


def _check_python_value(value, dtype):
    """TensorFlow refuses a float where an int or bool is asked for, and a
    string where a number is."""
    flat = value
    while isinstance(flat, (list, tuple)) and flat:
        flat = flat[0]
    if isinstance(flat, (str, bytes)):
        raise TypeError("Expected %s, got %r of type '%s' instead." %
                        (dtype.name, flat, type(flat).__name__))
    if dtype.is_integer or dtype.is_bool:
        if isinstance(flat, float):
            raise TypeError("Expected %s, got %r of type 'float' instead." % (dtype.name, flat))


def _tfc_tensor_from_np(arr, dtype):
    """A new tfc_tensor (one reference, the caller's) holding a copy of arr."""
    if dtype == dtypes.string:
        return _tfc_strings_from_np(arr)
    dims = (c_int64 * max(arr.ndim, 1))(*arr.shape)
    t = lib.tfc_tensor_from_data(dtype.as_datatype_enum, arr.ndim, dims,
                                 arr.ctypes.data if arr.size else None)
    if not t:
        raise ValueError("tfc cannot make a tensor of shape %s and type %s" %
                         (arr.shape, dtype.name))
    return t


def _constant(value, dtype=None, shape=None, name=None, graph=None):
    arr, dtype = _np_for(value, dtype)
    if shape is not None:
        shape = [int(d) for d in tensor_shape.as_shape(shape).as_list()]
        n = int(np.prod(shape)) if shape else 1
        if arr.size == n:
            arr = arr.reshape(shape)
        elif arr.size == 1:
            arr = np.full(shape, arr.reshape(()), dtype=arr.dtype)
        elif arr.size < n:
            flat = arr.reshape(-1)
            arr = np.concatenate([flat, np.full(n - flat.size, flat[-1], arr.dtype)]).reshape(shape)
        else:
            raise ValueError("Too many elements provided. Needed at most %d, but received %d"
                             % (n, arr.size))
        arr = np.asarray(arr, order="C")
    g = graph or get_default_graph()
    t = _tfc_tensor_from_np(arr, dtype)
    try:
        return build_op("Const", [], {"value": ("tensor", t), "dtype": ("type", dtype)},
                        name=name, default_name="Const", graph=g).outputs[0]
    finally:
        lib.tfc_tensor_free(t)


def convert_to_tensor(value, dtype=None, name=None, preferred_dtype=None):
    """tf.convert_to_tensor: Tensors as they are (checked against dtype),
    Variables as their value, anything else as a constant."""
    if isinstance(value, Tensor):
        if dtype is not None and dtypes.as_dtype(dtype) != value.dtype:
            raise ValueError("Tensor conversion requested dtype %s for Tensor with dtype "
                             "%s: %r" % (dtypes.as_dtype(dtype).name, value.dtype.name, value))
        return value
    var = getattr(value, "_variable_tensor", None)
    if var is not None:
        return convert_to_tensor(var, dtype, name)
    if isinstance(value, Operation):
        raise TypeError("Can't convert Operation '%s' to Tensor" % value.name)
    if isinstance(value, (list, tuple)) and any(isinstance(v, (Tensor,)) or
                                                hasattr(v, "_variable_tensor") for v in value):
        from . import array_ops
        return array_ops.stack(list(value), name=name or "packed")
    if dtype is None and preferred_dtype is not None:
        try:
            return _constant(value, preferred_dtype, name=name)
        except (TypeError, ValueError):
            pass
    return _constant(value, dtype, name=name)


def _as_tensors(values, dtype_hint=None):
    """Converts a list; Python values take the dtype of the first Tensor."""
    if dtype_hint is None:
        for v in values:
            if isinstance(v, Tensor) or hasattr(v, "_variable_tensor"):
                dtype_hint = convert_to_tensor(v).dtype
                break
    res = []
    for v in values:
        if isinstance(v, Tensor) or hasattr(v, "_variable_tensor"):
            res.append(convert_to_tensor(v))
        elif isinstance(v, np.ndarray) and dtype_hint is not None:
            res.append(convert_to_tensor(v.astype(dtype_hint.as_numpy_dtype)
                                         if v.dtype != dtype_hint.as_numpy_dtype else v))
        else:
            res.append(convert_to_tensor(v, dtype=dtype_hint))
    return res


# ---------------------------------------------------------------------------
# The generic builder
# ---------------------------------------------------------------------------

def _set_attr(d, key, kind, value):
    k = _b(key)
    if kind == "int":
        lib.tfc_op_set_attr_int(d, k, int(value))
    elif kind == "float":
        lib.tfc_op_set_attr_float(d, k, float(value))
    elif kind == "bool":
        lib.tfc_op_set_attr_bool(d, k, 1 if value else 0)
    elif kind == "type":
        lib.tfc_op_set_attr_type(d, k, dtypes.as_dtype(value).as_datatype_enum)
    elif kind == "string":
        lib.tfc_op_set_attr_string(d, k, _b(value))
    elif kind == "shape":
        if value is None or tensor_shape.as_shape(value).ndims is None:
            return
        dims = [-1 if x is None else x for x in tensor_shape.as_shape(value).as_list()]
        lib.tfc_op_set_attr_shape(d, k, len(dims), (c_int64 * max(len(dims), 1))(*dims))
    elif kind == "int_list":
        v = list(value)
        lib.tfc_op_set_attr_int_list(d, k, (c_int64 * max(len(v), 1))(*v), len(v))
    elif kind == "float_list":
        v = list(value)
        lib.tfc_op_set_attr_float_list(d, k, (c_double * max(len(v), 1))(*v), len(v))
    elif kind == "tensor":
        lib.tfc_op_set_attr_tensor(d, k, value)
    else:
        raise ValueError("unknown attr kind %r" % kind)


def build_op(op_type, inputs, attrs=None, name=None, default_name=None, graph=None,
             control_inputs=None):
    """Adds one node through tfc's generic builder and returns its Operation.
    `inputs` are Tensors; `attrs` maps names to (kind, value) pairs. A name
    ending in "/" (a scope's name, as name_scope returns it) names the node
    exactly that, as TensorFlow does: tf.strided_slice's node
    "strided_slice" next to its inputs "strided_slice/stack"."""
    g = graph if graph is not None else c_graph(inputs)
    if g._finalized:
        raise RuntimeError("Graph is finalized and cannot be modified.")
    if name and name.endswith("/"):
        full = name[:-1]
        g._mark_used(full)
    else:
        full = g._unique_name(name if name else (default_name or op_type))
    d = lib.tfc_op_new(g._h, _b(op_type), _b(g._rel(full)))
    for t in inputs:
        lib.tfc_op_add_input(d, t._c)
    for c in control_inputs or ():
        lib.tfc_op_add_control_input(d, _as_operation(c)._node)
    if attrs:
        for key, (kind, value) in attrs.items():
            _set_attr(d, key, kind, value)
    node = lib.tfc_op_finish(d)
    return g._check_node(node)


def _is_enclosing(outer, inner):
    g = inner._parent
    while g is not None:
        if g is outer:
            return True
        g = g._parent
    return False


def c_graph(values=()):
    """The Graph new nodes go to: the default graph, which may be a body
    graph of cond/while_loop using tensors of the graphs around it; or, when
    an input lives in an unrelated graph, that input's graph."""
    g = get_default_graph()
    for v in values:
        if not isinstance(v, Tensor):
            v = getattr(v, "_variable_tensor", None)
            if v is None:
                continue
        vg = v.graph
        if vg is not g and not _is_enclosing(vg, g):
            return vg
    return g


@contextlib.contextmanager
def composite_scope(name, default_name, values=()):
    """TensorFlow's `with ops.name_scope(name, default_name, values)` for
    ops made of several nodes: a new name scope on the graph of `values`."""
    g = c_graph(values)
    with g.as_default(), g.name_scope(name or default_name) as scope:
        yield g, scope


def name_scope(name, default_name=None, values=None):
    """tf.name_scope(name, default_name=None, values=None)."""
    g = c_graph(values or ())
    return _ScopeOnGraph(g, name if name is not None else default_name)


class _ScopeOnGraph(object):
    def __init__(self, g, name):
        self._g = g
        self._name = name
        self._cm = None
        self._dcm = None

    def __enter__(self):
        self._dcm = self._g.as_default()
        self._dcm.__enter__()
        self._cm = self._g.name_scope(self._name)
        return self._cm.__enter__()

    def __exit__(self, *exc):
        try:
            return self._cm.__exit__(*exc)
        finally:
            self._dcm.__exit__(*exc)


def device(device_name_or_function):
    return get_default_graph().device(device_name_or_function)


def control_dependencies(control_inputs):
    return get_default_graph().control_dependencies(control_inputs)


def add_to_collection(name, value):
    get_default_graph().add_to_collection(name, value)


def add_to_collections(names, value):
    get_default_graph().add_to_collections(names, value)


def get_collection(key, scope=None):
    return get_default_graph().get_collection(key, scope)


def get_collection_ref(key):
    return get_default_graph().get_collection_ref(key)


def set_random_seed(seed):
    get_default_graph().seed = seed


class GraphKeys(object):
    GLOBAL_VARIABLES = "variables"
    VARIABLES = "variables"
    TRAINABLE_VARIABLES = "trainable_variables"
    LOCAL_VARIABLES = "local_variables"
    MODEL_VARIABLES = "model_variables"
    SUMMARIES = "summaries"
    TRAIN_OP = "train_op"
    UPDATE_OPS = "update_ops"
    GLOBAL_STEP = "global_step"
    LOSSES = "losses"
    REGULARIZATION_LOSSES = "regularization_losses"
    QUEUE_RUNNERS = "queue_runners"
    SAVERS = "savers"
    INIT_OP = "init_op"
    LOCAL_INIT_OP = "local_init_op"
    READY_OP = "ready_op"
    ACTIVATIONS = "activations"
    WEIGHTS = "weights"
    BIASES = "biases"
