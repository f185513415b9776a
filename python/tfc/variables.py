"""Variables: tf.Variable, tf.get_variable and tf.variable_scope, the
initializers, and the ops that assign and initialize.

A Variable wraps one VariableV2 node made by tfc_variable_ex (tf.Variable)
or tfc_get_variable_ex (tf.get_variable); its initializer is the "<name>/
Assign" node tfc made with it. Variable scopes keep their variable prefix
in the C graph (tfc_variable_scope_push) and their reuse rule here, so
get_variable can share, create or refuse as TensorFlow does."""

import contextlib
import ctypes

import numpy as np

from . import dtypes
from . import errors
from . import tensor_shape
from .framework import (Tensor, _Overloads, build_op, convert_to_tensor,
                        get_default_graph, c_graph, _b, _s)
from ._lib import lib, Initializer, c_int64

AUTO_REUSE = "auto_reuse"

# tfc_init_kind, tfc_fan_mode
_GLOROT_UNIFORM, _ZEROS, _ONES, _CONSTANT, _RANDOM_NORMAL, _TRUNCATED_NORMAL, \
    _RANDOM_UNIFORM, _GLOROT_NORMAL, _VARIANCE_SCALING = range(9)
_FAN = {"fan_in": 0, "fan_out": 1, "fan_avg": 2}


class Variable(_Overloads):
    """tf.Variable(initial_value, trainable=True, name=None, dtype=None):
    state kept by the session between runs. Initialize it by running
    `initializer` (or tf.global_variables_initializer())."""

    def __init__(self, initial_value=None, trainable=True, collections=None,
                 validate_shape=True, caching_device=None, name=None, variable_def=None,
                 dtype=None, expected_shape=None, import_scope=None, constraint=None,
                 use_resource=None):
        if initial_value is None:
            raise ValueError("initial_value must be specified.")
        g = c_graph([initial_value]) if not callable(initial_value) else get_default_graph()
        with g.as_default():
            full = g._unique_name(name or "Variable")
            rel = g._rel(full)
            with g._exact_scope(full):
                if callable(initial_value):
                    initial_value = initial_value()
                if isinstance(initial_value, Tensor) or hasattr(initial_value,
                                                                  "_variable_tensor"):
                    init = convert_to_tensor(initial_value)
                    if dtype is not None and dtypes.as_dtype(dtype) != init.dtype:
                        from .math_ops import cast
                        init = cast(init, dtype)
                else:
                    from .framework import _constant
                    init = _constant(initial_value, dtype, name="initial_value")
            out = lib.tfc_variable_ex(g._h, _b(rel), init._c, 1 if trainable else 0)
            t = g._check_output(out)
        self._init_from(g, t)
        for key in collections or ():
            if key not in ("variables", "trainable_variables"):
                g.add_to_collection(key, self)

    @classmethod
    def _from_node(cls, graph, node):
        """The Variable object of a VariableV2 node tfc made (get_variable,
        optimizer slots, the global step)."""
        self = cls.__new__(cls)
        self._init_from(graph, graph._op(node).outputs[0])
        return self

    def _init_from(self, g, tensor):
        self._variable_tensor = tensor
        self._graph = g
        node = lib.tfc_variable_initializer(tensor._c)
        self._initializer_op = g._op(node) if node else None
        g._variables[tensor.op._node] = self

    # -- properties ---------------------------------------------------------------
    @property
    def name(self):
        return self._variable_tensor.name

    @property
    def op(self):
        return self._variable_tensor.op

    @property
    def graph(self):
        return self._graph

    @property
    def dtype(self):
        return self._variable_tensor.dtype

    @property
    def shape(self):
        return self._variable_tensor.shape

    def get_shape(self):
        return self.shape

    @property
    def device(self):
        return self._variable_tensor.device

    @property
    def initializer(self):
        return self._initializer_op

    @property
    def initial_value(self):
        return self._initializer_op.inputs[1] if self._initializer_op else None

    def initialized_value(self):
        """The initial value (tfc has no IsVariableInitialized op, so this is
        the initial value's tensor rather than a cond over the variable)."""
        return self.initial_value

    @property
    def _c(self):
        return self._variable_tensor._c

    def value(self):
        return self._variable_tensor

    def read_value(self):
        from .array_ops import identity
        return identity(self._variable_tensor, name="read")

    def _as_graph_element(self):
        return self._variable_tensor

    def eval(self, session=None):
        return self._variable_tensor.eval(session=session)

    def assign(self, value, use_locking=False, name=None, read_value=True):
        return assign(self, value, name=name)

    def assign_add(self, delta, use_locking=False, name=None, read_value=True):
        return assign_add(self, delta, name=name)

    def assign_sub(self, delta, use_locking=False, name=None, read_value=True):
        return assign_sub(self, delta, name=name)

    def load(self, value, session=None):
        """Writes `value` into the variable in `session` (a feed of the
        variable's Assign from a placeholder made once)."""
        from .session import _session_for
        session = _session_for(session, self._graph)
        cached = getattr(self, "_load_op", None)
        if cached is None:
            from .array_ops import placeholder
            with self._graph.as_default():
                ph = placeholder(self.dtype, self.shape, name=self.op.name + "_load")
                cached = (ph, assign(self, ph))
            self._load_op = cached
        session.run(cached[1].op, {cached[0]: value})

    def set_shape(self, shape):
        self._variable_tensor.set_shape(shape)

    def __repr__(self):
        return "<tf.Variable '%s' shape=%s dtype=%s_ref>" % (self.name, self.shape,
                                                             self.dtype.name)

    __hash__ = object.__hash__

    def __eq__(self, other):
        return self is other

    def __ne__(self, other):
        return self is not other


def _var_tensor(ref):
    t = getattr(ref, "_variable_tensor", None)
    return t if t is not None else convert_to_tensor(ref)


def _assign_like(op_type, ref, value, name):
    r = _var_tensor(ref)
    v = convert_to_tensor(value, r.dtype) if not isinstance(value, Tensor) else value
    if not isinstance(value, Tensor) and hasattr(value, "_variable_tensor"):
        v = value._variable_tensor
    return build_op(op_type, [r, v], name=name, default_name=op_type).outputs[0]


def assign(ref, value, validate_shape=None, use_locking=None, name=None):
    return _assign_like("Assign", ref, value, name)


def assign_add(ref, value, use_locking=None, name=None):
    return _assign_like("AssignAdd", ref, value, name)


def assign_sub(ref, value, use_locking=None, name=None):
    return _assign_like("AssignSub", ref, value, name)


def global_variables(scope=None):
    return get_default_graph().get_collection("variables", scope)


all_variables = global_variables


def trainable_variables(scope=None):
    return get_default_graph().get_collection("trainable_variables", scope)


def local_variables(scope=None):
    return get_default_graph().get_collection("local_variables", scope)


def model_variables(scope=None):
    return get_default_graph().get_collection("model_variables", scope)


def moving_average_variables(scope=None):
    return get_default_graph().get_collection("moving_average_variables", scope)


def global_variables_initializer():
    """An op running the initializers of all global variables (named
    "init")."""
    g = get_default_graph()
    return g._check_node(lib.tfc_global_variables_initializer(g._h))


initialize_all_variables = global_variables_initializer


def variables_initializer(var_list, name="init"):
    from .control_flow_ops import group, no_op
    inits = [v.initializer for v in var_list]
    return group(*inits, name=name) if inits else no_op(name=name)


initialize_variables = variables_initializer


def local_variables_initializer():
    """Initializes the local variables, those tfc's helpers made too (the
    epoch counters of input producers)."""
    from ._lib import declare, c_void_p
    g = get_default_graph()
    inits = [v.initializer for v in local_variables()]
    if lib.tfc_graph_collection_size(g._h, b"local_variables"):
        c_init = declare("tfc_local_variables_initializer", c_void_p, c_void_p)
        inits.append(g._check_node(c_init(g._h)))
    from .control_flow_ops import group, no_op
    name = "init_all_local_vars"
    return group(*inits, name=name) if inits else no_op(name=name)


initialize_local_variables = local_variables_initializer


# ---------------------------------------------------------------------------
# Initializers
# ---------------------------------------------------------------------------

class _Init(object):
    """An initializer: callable as init(shape, dtype) -> Tensor, and handed
    to tfc_get_variable_ex as a tfc_initializer."""
    _kind = _GLOROT_UNIFORM
    dtype = dtypes.float32

    def _struct(self):
        s = Initializer()
        s.kind = self._kind
        s.a, s.b = self._ab()
        s.mode = _FAN.get(getattr(self, "mode", "fan_in"), 0)
        s.uniform = 1 if getattr(self, "distribution", "normal") == "uniform" else 0
        s.seed = int(getattr(self, "seed", None) or 0)
        return s

    def _ab(self):
        return 0.0, 0.0

    def __call__(self, shape, dtype=None, partition_info=None):
        g = get_default_graph()
        dims = [int(tensor_shape.dimension_value(d)) for d in
                tensor_shape.as_shape(shape).as_list()]
        dt = dtypes.as_dtype(dtype or self.dtype)
        s = self._struct()
        out = lib.tfc_initializer_value(g._h, ctypes.byref(s), dt.as_datatype_enum, len(dims),
                                        (c_int64 * max(len(dims), 1))(*dims))
        return g._check_output(out)

    def get_config(self):
        return dict(self.__dict__)


class zeros_initializer(_Init):
    _kind = _ZEROS

    def __init__(self, dtype=dtypes.float32):
        self.dtype = dtypes.as_dtype(dtype)


class ones_initializer(_Init):
    _kind = _ONES

    def __init__(self, dtype=dtypes.float32):
        self.dtype = dtypes.as_dtype(dtype)


class constant_initializer(_Init):
    _kind = _CONSTANT

    def __init__(self, value=0, dtype=dtypes.float32, verify_shape=False):
        self.value = value
        self.dtype = dtypes.as_dtype(dtype)

    def _is_scalar(self):
        return np.ndim(self.value) == 0

    def _ab(self):
        return float(self.value), 0.0

    def __call__(self, shape, dtype=None, partition_info=None):
        if self._is_scalar():
            return _Init.__call__(self, shape, dtype, partition_info)
        from .framework import _constant
        return _constant(self.value, dtype or self.dtype, shape=shape)


class random_normal_initializer(_Init):
    _kind = _RANDOM_NORMAL

    def __init__(self, mean=0.0, stddev=1.0, seed=None, dtype=dtypes.float32):
        self.mean, self.stddev, self.seed = mean, stddev, seed
        self.dtype = dtypes.as_dtype(dtype)

    def _ab(self):
        return float(self.mean), float(self.stddev)


class truncated_normal_initializer(random_normal_initializer):
    _kind = _TRUNCATED_NORMAL


class random_uniform_initializer(_Init):
    _kind = _RANDOM_UNIFORM

    def __init__(self, minval=0.0, maxval=None, seed=None, dtype=dtypes.float32):
        self.minval, self.maxval, self.seed = minval, 1.0 if maxval is None else maxval, seed
        self.dtype = dtypes.as_dtype(dtype)

    def _ab(self):
        return float(self.minval), float(self.maxval)


class glorot_uniform_initializer(_Init):
    _kind = _GLOROT_UNIFORM

    def __init__(self, seed=None, dtype=dtypes.float32):
        self.seed = seed
        self.dtype = dtypes.as_dtype(dtype)


class glorot_normal_initializer(glorot_uniform_initializer):
    _kind = _GLOROT_NORMAL


class variance_scaling_initializer(_Init):
    _kind = _VARIANCE_SCALING

    def __init__(self, scale=1.0, mode="fan_in", distribution="normal", seed=None,
                 dtype=dtypes.float32):
        if mode not in _FAN:
            raise ValueError("Invalid `mode` argument: %r" % (mode,))
        self.scale, self.mode, self.distribution, self.seed = scale, mode, distribution, seed
        self.dtype = dtypes.as_dtype(dtype)

    def _ab(self):
        return float(self.scale), 0.0


def xavier_initializer(uniform=True, seed=None, dtype=dtypes.float32):
    """tf.contrib.layers.xavier_initializer."""
    return glorot_uniform_initializer(seed, dtype) if uniform else \
        variance_scaling_initializer(1.0, "fan_avg", "normal", seed, dtype)


def he_normal(seed=None):
    return variance_scaling_initializer(2.0, "fan_in", "normal", seed)


# ---------------------------------------------------------------------------
# Variable scopes and get_variable
# ---------------------------------------------------------------------------

class VariableScope(object):
    """A variable scope: its full name, reuse rule and default initializer."""

    def __init__(self, reuse, name="", initializer=None, dtype=dtypes.float32,
                 name_scope=""):
        self._reuse = reuse
        self._name = name
        self._initializer = initializer
        self._dtype = dtype
        self._name_scope = name_scope

    @property
    def name(self):
        return self._name

    @property
    def original_name_scope(self):
        return self._name_scope

    @property
    def reuse(self):
        return self._reuse

    @property
    def initializer(self):
        return self._initializer

    @property
    def dtype(self):
        return self._dtype

    def reuse_variables(self):
        self._reuse = True

    def set_initializer(self, initializer):
        self._initializer = initializer

    def get_variable(self, var_store, name, *args, **kwargs):
        return get_variable(name, *args, **kwargs)


def get_variable_scope():
    g = get_default_graph()
    if g._var_scopes:
        return g._var_scopes[-1]
    root = getattr(g, "_root_var_scope", None)
    if root is None:
        root = g._root_var_scope = VariableScope(False)
    return root


_tmp_counter = [0]


def _next_tmp():
    _tmp_counter[0] += 1
    return _tmp_counter[0]


@contextlib.contextmanager
def variable_scope(name_or_scope, default_name=None, values=None, initializer=None,
                   regularizer=None, caching_device=None, partitioner=None, custom_getter=None,
                   reuse=None, dtype=None, use_resource=None, constraint=None,
                   auxiliary_name_scope=True):
    """tf.variable_scope: get_variable inside names variables "<scope>/<name>"
    and shares them when the scope (or an enclosing one) reuses; ops get a
    name scope of the same name, made unique when the scope is entered again."""
    g = c_graph(values or ())
    with g.as_default():
        parent = get_variable_scope()
        parent_prefix = parent.name + "/" if parent.name else ""
        inherit_init = parent.initializer
        if isinstance(name_or_scope, VariableScope):
            full = name_or_scope.name
            if not full.startswith(parent_prefix) or "/" in full[len(parent_prefix):]:
                raise NotImplementedError(
                    "tfc: re-entering variable scope '%s' from scope '%s' is not supported"
                    % (full, parent.name))
            comp = full[len(parent_prefix):]
            inherit_init = name_or_scope.initializer or inherit_init
            if reuse is None:
                reuse = name_or_scope.reuse
        elif name_or_scope is not None:
            comp = name_or_scope
        else:
            if default_name is None:
                raise TypeError("If default_name is None then name_or_scope is required")
            used = getattr(g, "_var_scope_counts", None)
            if used is None:
                used = g._var_scope_counts = {}
            g._sync_names()
            k = used.get(parent_prefix + default_name, 0)
            while True:
                comp = default_name if k == 0 else "%s_%d" % (default_name, k)
                k += 1
                if parent_prefix + comp not in g._used:
                    break
            used[parent_prefix + default_name] = k
        if reuse is False or reuse is None:
            eff = parent.reuse
        elif reuse is AUTO_REUSE or reuse == AUTO_REUSE:
            eff = AUTO_REUSE
        else:
            eff = True
        # tfc_variable_scope_push also opens a name scope, named by tfc's own
        # count; the Python side names scopes (see framework.Graph), so that
        # one is opened inside a throwaway scope and closed again, and the
        # Python side's name pushed in its place
        tmp = "_tfc_var_scope_%d" % _next_tmp()
        lib.tfc_name_scope_push(g._h, _b(tmp))
        lib.tfc_variable_scope_push(g._h, _b(comp), 0)
        if lib.tfc_graph_error(g._h):
            lib.tfc_name_scope_pop(g._h)
            g._raise_error()
        lib.tfc_name_scope_pop(g._h)
        lib.tfc_name_scope_pop(g._h)
        ns_full = g._unique_name(comp)
        lib.tfc_name_scope_push(g._h, _b(g._rel(ns_full)))
        saved = g._prefix
        g._prefix = ns_full + "/"
        scope = VariableScope(eff, parent_prefix + comp, initializer or inherit_init,
                              dtypes.as_dtype(dtype) if dtype else parent.dtype, g._prefix)
        g._var_scopes.append(scope)
        try:
            yield scope
        finally:
            g._var_scopes.pop()
            g._prefix = saved
            lib.tfc_variable_scope_pop(g._h)


def _is_value_initializer(init):
    return isinstance(init, (Tensor, np.ndarray, list, tuple, float, int)) or \
        hasattr(init, "_variable_tensor") or \
        (isinstance(init, constant_initializer) and not init._is_scalar())


def get_variable(name, shape=None, dtype=None, initializer=None, regularizer=None,
                 trainable=True, collections=None, caching_device=None, partitioner=None,
                 validate_shape=True, use_resource=None, custom_getter=None, constraint=None):
    """tf.get_variable: the variable "<scope>/<name>", shared when the scope
    reuses, else created (Glorot uniform unless an initializer is given)."""
    g = get_default_graph()
    scope = get_variable_scope()
    full = (scope.name + "/" if scope.name else "") + name
    dtype = dtypes.as_dtype(dtype) if dtype is not None else scope.dtype
    node = lib.tfc_graph_node_by_name(g._h, _b(full))
    if node:
        if scope.reuse is not True and scope.reuse != AUTO_REUSE:
            raise ValueError("Variable %s already exists, disallowed. Did you mean to set "
                             "reuse=True or reuse=tf.AUTO_REUSE in VarScope?" % full)
        if _s(lib.tfc_node_type(node)) not in ("VariableV2", "Variable"):
            raise ValueError("%s is a %s node, not a variable" % (full,
                                                                   _s(lib.tfc_node_type(node))))
        var = g._variable_for(node)
        if shape is not None and not var.shape.is_compatible_with(shape):
            raise ValueError("Trying to share variable %s, but specified shape %s and found "
                             "shape %s." % (full, tensor_shape.as_shape(shape), var.shape))
        return var
    if scope.reuse is True:
        raise ValueError("Variable %s does not exist, or was not created with "
                         "tf.get_variable(). Did you mean to set reuse=tf.AUTO_REUSE in "
                         "VarScope?" % full)
    init = initializer if initializer is not None else scope.initializer
    if init is not None and _is_value_initializer(init):
        # a value: a plain Variable, which tfc can name exactly only when the
        # name scope is the variable scope (the usual case)
        if g._prefix != (scope.name + "/" if scope.name else ""):
            raise NotImplementedError(
                "tfc: get_variable('%s') with a value initializer inside a re-entered scope "
                "is not supported; use an initializer object" % full)
        if isinstance(init, constant_initializer):
            init = init(shape, dtype)
        if lib.tfc_graph_node_by_name(g._h, _b(g._prefix + name)) or \
                (g._prefix + name) in g._used:
            raise ValueError("Variable %s already exists" % full)
        return Variable(init, trainable=trainable, name=name, dtype=dtype)
    if shape is None:
        raise ValueError("Shape of a new variable (%s) must be fully defined, but instead "
                         "was None." % full)
    dims = tensor_shape.as_shape(shape).as_list()
    if any(d is None for d in dims):
        raise ValueError("Shape of a new variable (%s) must be fully defined, but instead "
                         "was %s." % (full, tensor_shape.as_shape(shape)))
    if init is None:
        st = None
    elif isinstance(init, _Init):
        st = init._struct()
    else:
        raise NotImplementedError("tfc: get_variable initializer %r is not supported (use "
                                  "tf.*_initializer objects or a value)" % (init,))
    out = lib.tfc_get_variable_ex(g._h, _b(name), dtype.as_datatype_enum, len(dims),
                                  (c_int64 * max(len(dims), 1))(*dims),
                                  ctypes.byref(st) if st is not None else None,
                                  1 if trainable else 0)
    t = g._check_output(out)
    g._sync_names()
    var = g._variable_for(t.op._node)
    if regularizer is not None:
        with g.name_scope(name + "/Regularizer"):
            loss = regularizer(var)
        if loss is not None:
            g.add_to_collection("regularization_losses", loss)
    for key in collections or ():
        if key not in ("variables", "trainable_variables"):
            g.add_to_collection(key, var)
    return var


def no_regularizer(_):
    return None


def is_variable_initialized(variable):
    raise errors.UnimplementedError(None, None, "tfc: is_variable_initialized (op "
                                    "IsVariableInitialized) is not available yet")


def report_uninitialized_variables(var_list=None, name="report_uninitialized_variables"):
    raise errors.UnimplementedError(None, None, "tfc: report_uninitialized_variables is not "
                                    "available yet")

