"""tensorflow.python.framework.function: Defun, a Python function defined
once per graph as a tfc function (tfc_function_define) and called as one
PartitionedCall node (tfc_function_call); its gradient is derived from the
body. `from tfc import function` replaces TensorFlow's import."""

import ctypes

from . import dtypes
from .framework import Graph, convert_to_tensor, get_default_graph, _b
from ._lib import lib, Output
from .control_flow_ops import _Callback


class Defun(object):
    """@Defun(tf.float32, tf.float32, func_name="f") over a Python function
    of that many tensors, returning a tensor or a tuple of tensors."""

    def __init__(self, *input_types, **kwargs):
        self._types = [dtypes.as_dtype(t) for t in input_types]
        self._name = kwargs.pop("func_name", None)
        for unsupported in ("grad_func", "python_grad_func"):
            if kwargs.pop(unsupported, None) is not None:
                raise NotImplementedError("tfc: Defun(%s=...) is not supported; the "
                                          "gradient comes from the body" % unsupported)
        kwargs.pop("out_names", None)
        kwargs.pop("noinline", None)
        if kwargs:
            raise TypeError("Defun: unknown arguments %s" % ", ".join(kwargs))

    def __call__(self, func):
        return _DefinedFunction(func, self._types, self._name or func.__name__)


class _DefinedFunction(object):
    def __init__(self, func, types, name):
        self._func = func
        self._types = types
        self._name = name
        self._defined = {}  # Graph -> (tfc_function*, nout, callback kept alive)

    @property
    def name(self):
        return self._name

    def _count_outputs(self):
        """Builds the body once in a scratch graph to count its outputs."""
        scratch = Graph()
        with scratch.as_default():
            from .array_ops import placeholder
            args = [placeholder(t) for t in self._types]
            res = self._func(*args)
        return len(res) if isinstance(res, (list, tuple)) else 1

    def _define(self, g):
        entry = self._defined.get(g)
        if entry is not None:
            return entry
        try:
            nout = self._count_outputs()
        except Exception:  # noqa: B902 (the body uses outer tensors: guess one output)
            nout = 1
        state = {"nout": {"d": nout}, "dtypes": {}}
        cb = _Callback(g, lambda a: self._func(*a), state, "d")
        n = len(self._types)
        types = (ctypes.c_int * max(n, 1))(*[t.as_datatype_enum for t in self._types])
        fn = lib.tfc_function_define(g._h, _b(self._name), n, types, None, nout, cb.c, None)
        if not fn:
            err = state.get("error")
            if err is not None:
                lib.tfc_graph_clear_error(g._h)
                raise err
            g._raise_error()
        entry = (fn, nout, cb)
        self._defined[g] = entry
        return entry

    def __call__(self, *args, **kwargs):
        name = kwargs.pop("name", None)
        if len(args) != len(self._types):
            raise ValueError("%s takes %d arguments, got %d" % (self._name, len(self._types),
                                                                 len(args)))
        g = get_default_graph()
        fn, nout, _ = self._define(g)
        ins = [convert_to_tensor(a, t) for a, t in zip(args, self._types)]
        arr = (Output * max(len(ins), 1))(*[t._c for t in ins])
        outs = (Output * max(nout, 1))()
        with g.name_scope(name or self._name):
            rc = lib.tfc_function_call(g._h, fn, arr, len(ins), outs)
        if rc != 0:
            g._raise_error()
        res = [g._tensor(outs[i]) for i in range(nout)]
        return res[0] if nout == 1 else tuple(res)
