"""Recurrent networks: tf.nn.rnn_cell (BasicLSTMCell, LSTMCell, GRUCell,
BasicRNNCell, MultiRNNCell, DropoutWrapper, LSTMStateTuple),
tf.nn.static_rnn (tf.nn.rnn), tf.nn.dynamic_rnn, and their tf.contrib.rnn
names.

BasicLSTMCell, and MultiRNNCell stacks of them, are tfc's C cells
(include/tfc.h "RNN cells"): static_rnn calls tfc_static_rnn and
dynamic_rnn tfc_dynamic_rnn (a While loop). The other cells are built here
from tfc's ops, with TensorFlow's variable names ("rnn/lstm_cell/kernel",
"rnn/gru_cell/gates/kernel" ...); for them (or with a tensor batch size the
C loop cannot take) dynamic_rnn unrolls over the static time dimension,
with sequence_length masking outputs to zeros and holding the state, as
TensorFlow's loop does. A cell makes its variables on its first call and
reuses them on every later one."""

import collections
import ctypes

from . import dtypes
from .framework import Tensor, convert_to_tensor, get_default_graph, name_scope
from .variables import variable_scope, get_variable, zeros_initializer, constant_initializer
from . import array_ops
from . import math_ops
from ._lib import declare, Output, c_int, c_double, c_char_p, c_void_p

P = c_void_p
_basic_lstm = declare("tfc_basic_lstm_cell", P, c_int, c_double)
_multi = declare("tfc_multi_rnn_cell", P, P, c_int)
_cell_free = declare("tfc_rnn_cell_free", None, P)
_state_count = declare("tfc_rnn_cell_state_count", c_int, P)
_cell_call = declare("tfc_rnn_cell_call", c_int, P, P, Output, P, ctypes.POINTER(Output), P)
_static_rnn = declare("tfc_static_rnn", c_int, P, P, P, c_int, P, c_char_p, P, P)
_dynamic_rnn = declare("tfc_dynamic_rnn", c_int, P, P, Output, Output, P, c_char_p,
                       ctypes.POINTER(Output), P)

LSTMStateTuple = collections.namedtuple("LSTMStateTuple", ["c", "h"])


def _outputs(ts):
    return (Output * max(len(ts), 1))(*[t._c for t in ts])


class RNNCell(object):
    """What every cell has: state_size, output_size, zero_state and
    __call__(inputs, state) -> (output, new_state)."""

    @property
    def state_size(self):
        raise NotImplementedError

    @property
    def output_size(self):
        raise NotImplementedError

    def zero_state(self, batch_size, dtype):
        """Zeros in the structure of state_size, [batch_size, size] each."""
        with name_scope(type(self).__name__ + "ZeroState"):
            return _map_sizes(self.state_size, lambda n: _zeros(batch_size, n, dtype))

    # flat state <-> structured state
    def _flatten_state(self, state):
        return _flatten(state)

    def _pack_state(self, flat):
        it = iter(flat)
        return _map_sizes(self.state_size, lambda n: next(it))


def _zeros(batch_size, n, dtype):
    if isinstance(batch_size, Tensor):
        return array_ops.fill(array_ops.stack([batch_size, n]),
                              convert_to_tensor(0, dtype=dtypes.as_dtype(dtype)))
    return array_ops.zeros([int(batch_size), n], dtype)


def _map_sizes(size, fn):
    if isinstance(size, LSTMStateTuple):
        return LSTMStateTuple(fn(size.c), fn(size.h))
    if isinstance(size, tuple):
        return tuple(_map_sizes(s, fn) for s in size)
    return fn(size)


def _flatten(state):
    if isinstance(state, (tuple, list)):
        out = []
        for s in state:
            out += _flatten(s)
        return out
    return [state]


def _is_c_cell(cell):
    return isinstance(cell, BasicLSTMCell) and cell._c_ok or \
        isinstance(cell, MultiRNNCell) and cell._c_ok


class _CCell(RNNCell):
    """A cell with a tfc_rnn_cell behind it (made on first use, kept: the C
    cell remembers its variable scope, so later calls share the variables)."""

    _handle = None

    def _c(self):
        if self._handle is None:
            self._handle = self._c_new()
            if not self._handle:
                raise ValueError("tfc: cannot make the RNN cell %r" % (self,))
        return self._handle

    def __del__(self):
        h, self._handle = self._handle, None
        if h:
            _cell_free(h)

    def _c_call(self, inputs, state):
        x = convert_to_tensor(inputs)
        g = get_default_graph()
        flat = [convert_to_tensor(s) for s in self._flatten_state(state)]
        out = Output()
        new = (Output * max(len(flat), 1))()
        if _cell_call(g._h, self._c(), x._c, _outputs(flat), ctypes.byref(out), new) != 0:
            g._raise_error()
        return g._check_output(out), self._pack_state([g._check_output(new[i])
                                                       for i in range(len(flat))])


class BasicLSTMCell(_CCell):
    """tf.nn.rnn_cell.BasicLSTMCell(num_units, forget_bias=1.0,
    state_is_tuple=True, activation=None): tfc's C cell ("basic_lstm_cell/
    kernel" and "/bias"); another activation than tanh builds it here."""

    def __init__(self, num_units, forget_bias=1.0, state_is_tuple=True, activation=None,
                 reuse=None, name=None):
        self._num_units = int(num_units)
        self._forget_bias = float(forget_bias)
        self._state_is_tuple = state_is_tuple
        self._activation = activation
        self._name = name
        self._c_ok = state_is_tuple and name is None and activation in (None, math_ops.tanh)
        if not self._c_ok:
            self._py = LSTMCell(num_units, forget_bias=forget_bias,
                                state_is_tuple=state_is_tuple, activation=activation,
                                name=name or "basic_lstm_cell")

    def _c_new(self):
        return _basic_lstm(self._num_units, self._forget_bias)

    @property
    def state_size(self):
        n = self._num_units
        return LSTMStateTuple(n, n) if self._state_is_tuple else 2 * n

    @property
    def output_size(self):
        return self._num_units

    def __call__(self, inputs, state, scope=None):
        if not self._c_ok:
            return self._py(inputs, state, scope)
        if scope is not None:
            with variable_scope(scope):
                return self._c_call(inputs, state)
        return self._c_call(inputs, state)


class _PyCell(RNNCell):
    """A cell built from ops here: _build(depth, dtype) makes the variables
    in the cell's scope on the first call, _step(inputs, state) one step."""

    _default_name = "rnn_cell"
    _vars = None

    def __call__(self, inputs, state, scope=None):
        x = convert_to_tensor(inputs)
        if self._vars is None:
            depth = x.get_shape().as_list()[-1]
            if depth is None:
                raise ValueError("tfc: the last dim of an RNN cell's input must be known")
            with variable_scope(scope or self._name, default_name=self._default_name) as vs:
                self._scope_name = vs.name
                self._vars = self._build(depth, x.dtype)
                return self._step(x, state)
        with name_scope(self._scope_name.split("/")[-1]):
            return self._step(x, state)


def _act(activation):
    return activation if activation is not None else math_ops.tanh


class BasicRNNCell(_PyCell):
    """tf.nn.rnn_cell.BasicRNNCell: h' = act([x, h] kernel + bias)."""

    _default_name = "basic_rnn_cell"

    def __init__(self, num_units, activation=None, reuse=None, name=None):
        self._num_units = int(num_units)
        self._activation = _act(activation)
        self._name = name

    @property
    def state_size(self):
        return self._num_units

    @property
    def output_size(self):
        return self._num_units

    def _build(self, depth, dtype):
        n = self._num_units
        return (get_variable("kernel", [depth + n, n], dtype),
                get_variable("bias", [n], dtype, initializer=zeros_initializer()))

    def _step(self, x, h):
        k, b = self._vars
        out = self._activation(math_ops.matmul(array_ops.concat([x, h], 1), k) + b)
        return out, out


class GRUCell(_PyCell):
    """tf.nn.rnn_cell.GRUCell: gates r, u = sigmoid([x, h] gates/kernel +
    gates/bias (ones)); c = act([x, r h] candidate/kernel + candidate/bias);
    h' = u h + (1 - u) c."""

    _default_name = "gru_cell"

    def __init__(self, num_units, activation=None, reuse=None, kernel_initializer=None,
                 bias_initializer=None, name=None):
        self._num_units = int(num_units)
        self._activation = _act(activation)
        self._kernel_init = kernel_initializer
        self._bias_init = bias_initializer
        self._name = name

    @property
    def state_size(self):
        return self._num_units

    @property
    def output_size(self):
        return self._num_units

    def _build(self, depth, dtype):
        n = self._num_units
        with variable_scope("gates"):
            gk = get_variable("kernel", [depth + n, 2 * n], dtype, initializer=self._kernel_init)
            gb = get_variable("bias", [2 * n], dtype,
                              initializer=self._bias_init or constant_initializer(1.0))
        with variable_scope("candidate"):
            ck = get_variable("kernel", [depth + n, n], dtype, initializer=self._kernel_init)
            cb = get_variable("bias", [n], dtype,
                              initializer=self._bias_init or zeros_initializer())
        return gk, gb, ck, cb

    def _step(self, x, h):
        gk, gb, ck, cb = self._vars
        gates = math_ops.sigmoid(math_ops.matmul(array_ops.concat([x, h], 1), gk) + gb)
        r, u = array_ops.split(gates, 2, axis=1)
        c = self._activation(math_ops.matmul(array_ops.concat([x, r * h], 1), ck) + cb)
        new_h = u * h + (1.0 - u) * c
        return new_h, new_h


class LSTMCell(_PyCell):
    """tf.nn.rnn_cell.LSTMCell(num_units, use_peepholes=False, cell_clip=None,
    initializer=None, num_proj=None, proj_clip=None, forget_bias=1.0,
    state_is_tuple=True, activation=None): variables "lstm_cell/kernel",
    "bias", "w_f_diag", "w_i_diag", "w_o_diag", "projection/kernel"."""

    _default_name = "lstm_cell"

    def __init__(self, num_units, use_peepholes=False, cell_clip=None, initializer=None,
                 num_proj=None, proj_clip=None, num_unit_shards=None, num_proj_shards=None,
                 forget_bias=1.0, state_is_tuple=True, activation=None, reuse=None, name=None):
        self._num_units = int(num_units)
        self._peep = use_peepholes
        self._cell_clip = cell_clip
        self._init = initializer
        self._num_proj = num_proj
        self._proj_clip = proj_clip
        self._forget_bias = float(forget_bias)
        self._state_is_tuple = state_is_tuple
        self._activation = _act(activation)
        self._name = name

    @property
    def state_size(self):
        m = self._num_proj or self._num_units
        return LSTMStateTuple(self._num_units, m) if self._state_is_tuple else \
            self._num_units + m

    @property
    def output_size(self):
        return self._num_proj or self._num_units

    def _build(self, depth, dtype):
        n, m = self._num_units, self._num_proj or self._num_units
        v = {"kernel": get_variable("kernel", [depth + m, 4 * n], dtype, initializer=self._init),
             "bias": get_variable("bias", [4 * n], dtype, initializer=zeros_initializer())}
        if self._peep:
            for k in ("w_f_diag", "w_i_diag", "w_o_diag"):
                v[k] = get_variable(k, [n], dtype, initializer=self._init)
        if self._num_proj:
            with variable_scope("projection"):
                v["proj"] = get_variable("kernel", [n, self._num_proj], dtype,
                                         initializer=self._init)
        return v

    def _step(self, x, state):
        v = self._vars
        n = self._num_units
        if self._state_is_tuple:
            c_prev, m_prev = state
        else:
            c_prev, m_prev = array_ops.split(state, [n, self.output_size], axis=1)
        z = math_ops.matmul(array_ops.concat([x, m_prev], 1), v["kernel"]) + v["bias"]
        i, j, f, o = array_ops.split(z, 4, axis=1)
        act = self._activation
        if self._peep:
            c = math_ops.sigmoid(f + self._forget_bias + v["w_f_diag"] * c_prev) * c_prev + \
                math_ops.sigmoid(i + v["w_i_diag"] * c_prev) * act(j)
        else:
            c = math_ops.sigmoid(f + self._forget_bias) * c_prev + math_ops.sigmoid(i) * act(j)
        if self._cell_clip is not None:
            c = math_ops.clip_by_value(c, -self._cell_clip, self._cell_clip)
        if self._peep:
            m = math_ops.sigmoid(o + v["w_o_diag"] * c) * act(c)
        else:
            m = math_ops.sigmoid(o) * act(c)
        if self._num_proj:
            m = math_ops.matmul(m, v["proj"])
            if self._proj_clip is not None:
                m = math_ops.clip_by_value(m, -self._proj_clip, self._proj_clip)
        new = LSTMStateTuple(c, m) if self._state_is_tuple else array_ops.concat([c, m], 1)
        return m, new


class MultiRNNCell(_CCell):
    """tf.nn.rnn_cell.MultiRNNCell(cells): the cells stacked, layer k in
    scope "multi_rnn_cell/cell_k"; a stack of C cells is one C cell."""

    def __init__(self, cells, state_is_tuple=True):
        if not cells:
            raise ValueError("Must specify at least one cell for MultiRNNCell.")
        self._cells = list(cells)
        self._state_is_tuple = state_is_tuple
        self._c_ok = state_is_tuple and all(_is_c_cell(c) for c in self._cells)

    def _c_new(self):
        # fresh C children: the multi-cell owns them
        kids = [c._c_new() for c in self._cells]
        arr = (c_void_p * len(kids))(*kids)
        h = _multi(arr, len(kids))
        if not h:
            for k in kids:
                _cell_free(k)
        return h

    @property
    def state_size(self):
        sizes = tuple(c.state_size for c in self._cells)
        return sizes if self._state_is_tuple else sum(_flatten(sizes))

    @property
    def output_size(self):
        return self._cells[-1].output_size

    def __call__(self, inputs, state, scope=None):
        if self._c_ok:
            if scope is not None:
                with variable_scope(scope):
                    return self._c_call(inputs, state)
            return self._c_call(inputs, state)
        # later calls re-enter the scope of the first (C cells inside look
        # their variables up by name there)
        first = getattr(self, "_scope_comp", None) is None
        with variable_scope(scope if first else self._scope_comp,
                            default_name="multi_rnn_cell" if first else None,
                            reuse=None if first else True) as vs:
            if first:
                self._scope_comp = vs.name.split("/")[-1]
            cur = inputs
            new_states = []
            for k, cell in enumerate(self._cells):
                with variable_scope("cell_%d" % k, reuse=None if first else True):
                    cur, s = cell(cur, state[k])
                new_states.append(s)
        return cur, tuple(new_states)


class DropoutWrapper(RNNCell):
    """tf.nn.rnn_cell.DropoutWrapper(cell, input_keep_prob=1.0,
    output_keep_prob=1.0, seed=None): dropout on the cell's inputs and
    outputs (state dropout is not available)."""

    def __init__(self, cell, input_keep_prob=1.0, output_keep_prob=1.0, state_keep_prob=1.0,
                 variational_recurrent=False, input_size=None, dtype=None, seed=None):
        if not (isinstance(state_keep_prob, float) and state_keep_prob == 1.0):
            raise NotImplementedError("tfc: DropoutWrapper with state_keep_prob")
        self._cell = cell
        self._in = input_keep_prob
        self._out = output_keep_prob
        self._seed = seed
        self._c_ok = False

    @property
    def state_size(self):
        return self._cell.state_size

    @property
    def output_size(self):
        return self._cell.output_size

    def zero_state(self, batch_size, dtype):
        return self._cell.zero_state(batch_size, dtype)

    @staticmethod
    def _keep_all(p):
        return isinstance(p, (float, int)) and p == 1

    def __call__(self, inputs, state, scope=None):
        from .nn import dropout
        if not self._keep_all(self._in):
            inputs = dropout(inputs, self._in, seed=self._seed)
        out, new = self._cell(inputs, state, scope)
        if not self._keep_all(self._out):
            out = dropout(out, self._out, seed=self._seed)
        return out, new


# ---------------------------------------------------------------------------
# static_rnn and dynamic_rnn
# ---------------------------------------------------------------------------

def _batch_size(x):
    b = x.get_shape().as_list()[0]
    return b if b is not None else array_ops.shape(x)[0]


def _initial(cell, initial_state, dtype, x):
    if initial_state is not None:
        return initial_state
    if dtype is None:
        raise ValueError("If there is no initial_state, you must give a dtype.")
    return cell.zero_state(_batch_size(x), dtype)


def _masked_unroll(cell, inputs, state, sequence_length):
    """The cell over the list `inputs`; past sequence_length an output is
    zeros and the state is held."""
    outputs = []
    seq = None
    if sequence_length is not None:
        seq = math_ops.to_int32(convert_to_tensor(sequence_length))
    for t, x in enumerate(inputs):
        out, new = cell(x, state)
        if seq is not None:
            keep = array_ops.expand_dims(math_ops.cast(math_ops.less(t, seq), out.dtype), 1)
            out = out * keep
            flat_new = [n * keep + o * (1.0 - keep)
                        for n, o in zip(_flatten(new), _flatten(state))]
            it = iter(flat_new)
            new = _map_like(new, lambda _: next(it))
        outputs.append(out)
        state = new
    return outputs, state


def _map_like(structure, fn):
    if isinstance(structure, LSTMStateTuple):
        return LSTMStateTuple(fn(structure.c), fn(structure.h))
    if isinstance(structure, (tuple, list)):
        return type(structure)(_map_like(s, fn) for s in structure)
    return fn(structure)


def static_rnn(cell, inputs, initial_state=None, dtype=None, sequence_length=None, scope=None):
    """tf.nn.static_rnn: the cell unrolled over the list `inputs` (each
    [batch, depth]) in variable scope `scope` ("rnn"). Returns (outputs,
    final state)."""
    inputs = [convert_to_tensor(x) for x in inputs]
    if not inputs:
        raise ValueError("inputs must not be empty")
    g = get_default_graph()
    if _is_c_cell(cell) and sequence_length is None and isinstance(scope, (str, type(None))):
        h = cell._c()
        n = len(inputs)
        k = _state_count(h)
        outs = (Output * n)()
        fin = (Output * max(k, 1))()
        init = None
        if initial_state is not None:
            init = _outputs([convert_to_tensor(s) for s in _flatten(initial_state)])
        elif dtype is None:
            raise ValueError("If no initial_state is provided, dtype must be specified")
        if _static_rnn(g._h, h, _outputs(inputs), n, init,
                       scope.encode() if scope else None, outs, fin) != 0:
            g._raise_error()
        return ([g._check_output(outs[i]) for i in range(n)],
                cell._pack_state([g._check_output(fin[i]) for i in range(k)]))
    with variable_scope(scope or "rnn"):
        state = _initial(cell, initial_state, dtype, inputs[0])
        return _masked_unroll(cell, inputs, state, sequence_length)


def dynamic_rnn(cell, inputs, sequence_length=None, initial_state=None, dtype=None,
                parallel_iterations=None, swap_memory=False, time_major=False, scope=None):
    """tf.nn.dynamic_rnn: (outputs [batch, time, units] (time-major: [time,
    batch, units]), final state), per-example sequence_length."""
    x = convert_to_tensor(inputs)
    if time_major:
        x = array_ops.transpose(x, [1, 0, 2])
    g = get_default_graph()
    shape = x.get_shape().as_list()
    if len(shape) != 3:
        raise ValueError("dynamic_rnn: inputs must be [batch, time, depth], got %s" % (shape,))
    if _is_c_cell(cell) and None not in shape and isinstance(scope, (str, type(None))):
        h = cell._c()
        k = _state_count(h)
        out = Output()
        fin = (Output * max(k, 1))()
        seq = Output()
        if sequence_length is not None:
            seq = math_ops.to_int32(convert_to_tensor(sequence_length))._c
        init = None
        if initial_state is not None:
            init = _outputs([convert_to_tensor(s) for s in _flatten(initial_state)])
        elif dtype is None:
            raise ValueError("If there is no initial_state, you must give a dtype.")
        if _dynamic_rnn(g._h, h, x._c, seq, init, scope.encode() if scope else None,
                        ctypes.byref(out), fin) != 0:
            g._raise_error()
        outputs = g._check_output(out)
        state = cell._pack_state([g._check_output(fin[i]) for i in range(k)])
    else:
        if shape[1] is None:
            raise NotImplementedError("tfc: dynamic_rnn of this cell needs a static time "
                                      "dimension (it is unrolled)")
        with variable_scope(scope or "rnn"):
            steps = array_ops.unstack(x, axis=1)
            state = _initial(cell, initial_state, dtype, steps[0])
            outs, state = _masked_unroll(cell, steps, state, sequence_length)
            outputs = array_ops.stack(outs, axis=1)
    if time_major:
        outputs = array_ops.transpose(outputs, [1, 0, 2])
    return outputs, state


def bidirectional_dynamic_rnn(cell_fw, cell_bw, inputs, sequence_length=None,
                              initial_state_fw=None, initial_state_bw=None, dtype=None,
                              parallel_iterations=None, swap_memory=False, time_major=False,
                              scope=None):
    """Forward and backward dynamic_rnn (full-length sequences only)."""
    if sequence_length is not None:
        raise NotImplementedError("tfc: bidirectional_dynamic_rnn with sequence_length")
    x = convert_to_tensor(inputs)
    axis = 0 if time_major else 1
    with variable_scope(scope or "bidirectional_rnn"):
        with variable_scope("fw"):
            out_fw, st_fw = dynamic_rnn(cell_fw, x, None, initial_state_fw, dtype,
                                        time_major=time_major)
        with variable_scope("bw"):
            rev = _reverse(x, axis)
            out_bw, st_bw = dynamic_rnn(cell_bw, rev, None, initial_state_bw, dtype,
                                        time_major=time_major)
            out_bw = _reverse(out_bw, axis)
    return (out_fw, out_bw), (st_fw, st_bw)


def _reverse(x, axis):
    """x reversed along axis 0 or 1 (a StridedSlice with stride -1)."""
    return x[::-1] if axis == 0 else x[:, ::-1]


class _Namespace(object):
    def __init__(self, **kw):
        self.__dict__.update(kw)


rnn_cell = _Namespace(RNNCell=RNNCell, BasicLSTMCell=BasicLSTMCell, LSTMCell=LSTMCell,
                      GRUCell=GRUCell, BasicRNNCell=BasicRNNCell, MultiRNNCell=MultiRNNCell,
                      DropoutWrapper=DropoutWrapper, LSTMStateTuple=LSTMStateTuple)
