"""tf.train: the eight optimizers over tfc's (fused Apply* ops, slots named
as TensorFlow names them), the global step, learning-rate decays, Saver and
latest_checkpoint; SummaryWriter is TensorFlow 0.x's name of FileWriter."""

import ctypes
import os

from . import dtypes
from . import errors
from .framework import (Tensor, convert_to_tensor, get_default_graph, c_graph, composite_scope,
                        _b, _s)
from ._lib import lib, Output, GradAndVar
from .summary import FileWriter, SummaryWriter  # noqa: F401 (tf.train.SummaryWriter)


def _var_tensor(v):
    t = getattr(v, "_variable_tensor", None)
    return t if t is not None else convert_to_tensor(v)


def _null():
    return Output(None, 0)


# ---------------------------------------------------------------------------
# Optimizers
# ---------------------------------------------------------------------------

class Optimizer(object):
    """The base of the optimizers: minimize = compute_gradients +
    apply_gradients, as in TensorFlow."""

    GATE_NONE = 0
    GATE_OP = 1
    GATE_GRAPH = 2

    def __init__(self, use_locking, name):
        self._use_locking = use_locking
        self._name = name
        self._h = None
        self._lr_tensor = None

    def _make(self, lr):
        raise NotImplementedError

    def _handle(self, g):
        if self._h is None:
            lr = self._learning_rate
            fixed = 0.001 if isinstance(lr, Tensor) or hasattr(lr, "_variable_tensor") or \
                callable(lr) else float(lr)
            self._h = self._make(fixed)
            if not self._h:
                raise MemoryError("tfc: could not create the optimizer")
            if fixed != lr:
                if callable(lr) and not isinstance(lr, Tensor) and \
                        not hasattr(lr, "_variable_tensor"):
                    lr = lr()
                with g.as_default():
                    t = convert_to_tensor(lr)
                lib.tfc_optimizer_set_learning_rate(self._h, t._c)
                self._lr_tensor = t
        return self._h

    def __del__(self):
        h = getattr(self, "_h", None)
        if h and getattr(self, "_h_owner", None) is None:  # a SyncReplicasOptimizer frees it
            self._h = None
            lib.tfc_optimizer_free(h)

    def get_name(self):
        return _s(lib.tfc_optimizer_name(self._h)) if self._h else self._name

    def compute_gradients(self, loss, var_list=None, gate_gradients=GATE_OP,
                          aggregation_method=None, colocate_gradients_with_ops=False,
                          grad_loss=None):
        """[(gradient, variable)] of `loss` for var_list (default: the
        trainable variables); gradient None where loss does not depend on it."""
        if grad_loss is not None:
            raise NotImplementedError("tfc: compute_gradients(grad_loss=...) is not supported")
        loss = convert_to_tensor(loss)
        g = c_graph([loss])
        h = self._handle(g)
        vars_ = None if var_list is None else [_var_tensor(v) for v in var_list]
        arr = (Output * max(len(vars_ or ()), 1))(*[v._c for v in vars_ or ()])
        n = ctypes.c_int(0)
        ptr = lib.tfc_optimizer_compute_gradients(h, g._h, loss._c, arr if vars_ else None,
                                                  len(vars_ or ()), ctypes.byref(n))
        if not ptr:
            g._raise_error()
        try:
            pairs = ctypes.cast(ptr, ctypes.POINTER(GradAndVar))
            res = []
            for i in range(n.value):
                grad = g._tensor(pairs[i].grad) if pairs[i].grad.node else None
                var = g._variable_for(pairs[i].var.node)
                res.append((grad, var))
        finally:
            from ._lib import free
            free(ptr)
        g._sync_names()
        return res

    def apply_gradients(self, grads_and_vars, global_step=None, name=None):
        """The op applying the (gradient, variable) pairs; it increments
        global_step after them when given."""
        pairs = list(grads_and_vars)
        if not pairs:
            raise ValueError("No variables provided.")
        vars_ = [_var_tensor(v) for _, v in pairs]
        g = c_graph(vars_)
        h = self._handle(g)
        arr = (GradAndVar * len(pairs))()
        with g.as_default():
            for i, (grad, var) in enumerate(pairs):
                arr[i].grad = convert_to_tensor(grad)._c if grad is not None else _null()
                arr[i].var = vars_[i]._c
        if all(grad is None for grad, _ in pairs):
            raise ValueError("No gradients provided for any variable, check your graph for "
                             "ops that do not support gradients, between variables %s and "
                             "loss." % ([v.name for v in vars_],))
        step = _var_tensor(global_step)._c if global_step is not None else _null()
        if getattr(g, "_device_depth", 0):
            # As TensorFlow's colocate_with(var) around each update: the
            # updates (and slots) go where their variable is, not to the
            # enclosing tf.device ("/job:worker/task:0" while the variables
            # sit on "/job:ps/task:0"), which the placer could not merge.
            lib.tfc_device_push(g._h, None)
            try:
                node = lib.tfc_optimizer_apply_gradients(h, g._h, arr, len(pairs), step)
            finally:
                lib.tfc_device_pop(g._h)
        else:
            node = lib.tfc_optimizer_apply_gradients(h, g._h, arr, len(pairs), step)
        op = g._check_node(node)
        g._sync_names()
        return op

    def minimize(self, loss, global_step=None, var_list=None, gate_gradients=GATE_OP,
                 aggregation_method=None, colocate_gradients_with_ops=False, name=None,
                 grad_loss=None):
        """The op that takes one step of this optimizer on `loss`."""
        gv = self.compute_gradients(loss, var_list, grad_loss=grad_loss)
        vars_with_grad = [v for g, v in gv if g is not None]
        if not vars_with_grad:
            raise ValueError("No gradients provided for any variable, check your graph for "
                             "ops that do not support gradients, between variables %s and "
                             "loss %s." % ([v.name for _, v in gv], loss))
        return self.apply_gradients(gv, global_step, name)

    def get_slot(self, var, name):
        if self._h is None:
            return None
        t = _var_tensor(var)
        out = lib.tfc_optimizer_get_slot(self._h, t._c, _b(name))
        if not out.node:
            return None
        return t.graph._variable_for(out.node)

    def get_slot_names(self):
        return list(self._SLOTS)

    def variables(self):
        return []

    _SLOTS = ()


class GradientDescentOptimizer(Optimizer):
    def __init__(self, learning_rate, use_locking=False, name="GradientDescent"):
        super(GradientDescentOptimizer, self).__init__(use_locking, name)
        self._learning_rate = learning_rate

    def _make(self, lr):
        return lib.tfc_gradient_descent_optimizer(lr)


class MomentumOptimizer(Optimizer):
    _SLOTS = ("momentum",)

    def __init__(self, learning_rate, momentum, use_locking=False, name="Momentum",
                 use_nesterov=False):
        super(MomentumOptimizer, self).__init__(use_locking, name)
        self._learning_rate = learning_rate
        self._momentum = momentum
        self._nesterov = use_nesterov

    def _make(self, lr):
        return lib.tfc_momentum_optimizer(lr, float(self._momentum), 1 if self._nesterov else 0)


class AdagradOptimizer(Optimizer):
    _SLOTS = ("accumulator",)

    def __init__(self, learning_rate, initial_accumulator_value=0.1, use_locking=False,
                 name="Adagrad"):
        super(AdagradOptimizer, self).__init__(use_locking, name)
        self._learning_rate = learning_rate
        self._init = initial_accumulator_value

    def _make(self, lr):
        return lib.tfc_adagrad_optimizer(lr, float(self._init))


class AdagradDAOptimizer(Optimizer):
    _SLOTS = ("gradient_accumulator", "gradient_squared_accumulator")

    def __init__(self, learning_rate, global_step, initial_gradient_squared_accumulator_value=0.1,
                 l1_regularization_strength=0.0, l2_regularization_strength=0.0,
                 use_locking=False, name="AdagradDA"):
        super(AdagradDAOptimizer, self).__init__(use_locking, name)
        self._learning_rate = learning_rate
        self._step = global_step
        self._args = (initial_gradient_squared_accumulator_value, l1_regularization_strength,
                      l2_regularization_strength)

    def _make(self, lr):
        return lib.tfc_adagrad_da_optimizer(lr, _var_tensor(self._step)._c,
                                            *[float(a) for a in self._args])


class AdadeltaOptimizer(Optimizer):
    _SLOTS = ("accum", "accum_update")

    def __init__(self, learning_rate=0.001, rho=0.95, epsilon=1e-8, use_locking=False,
                 name="Adadelta"):
        super(AdadeltaOptimizer, self).__init__(use_locking, name)
        self._learning_rate = learning_rate
        self._args = (rho, epsilon)

    def _make(self, lr):
        return lib.tfc_adadelta_optimizer(lr, *[float(a) for a in self._args])


class AdamOptimizer(Optimizer):
    _SLOTS = ("m", "v")

    def __init__(self, learning_rate=0.001, beta1=0.9, beta2=0.999, epsilon=1e-08,
                 use_locking=False, name="Adam"):
        super(AdamOptimizer, self).__init__(use_locking, name)
        self._learning_rate = learning_rate
        self._args = (beta1, beta2, epsilon)

    def _make(self, lr):
        return lib.tfc_adam_optimizer(lr, *[float(a) for a in self._args])


class FtrlOptimizer(Optimizer):
    _SLOTS = ("accum", "linear")

    def __init__(self, learning_rate, learning_rate_power=-0.5, initial_accumulator_value=0.1,
                 l1_regularization_strength=0.0, l2_regularization_strength=0.0,
                 use_locking=False, name="Ftrl", accum_name=None, linear_name=None,
                 l2_shrinkage_regularization_strength=0.0):
        super(FtrlOptimizer, self).__init__(use_locking, name)
        self._learning_rate = learning_rate
        self._args = (learning_rate_power, initial_accumulator_value,
                      l1_regularization_strength, l2_regularization_strength)

    def _make(self, lr):
        return lib.tfc_ftrl_optimizer(lr, *[float(a) for a in self._args])


class RMSPropOptimizer(Optimizer):
    _SLOTS = ("rms", "momentum")

    def __init__(self, learning_rate, decay=0.9, momentum=0.0, epsilon=1e-10,
                 use_locking=False, centered=False, name="RMSProp"):
        super(RMSPropOptimizer, self).__init__(use_locking, name)
        self._learning_rate = learning_rate
        self._args = (decay, momentum, epsilon)
        self._centered = centered

    def _make(self, lr):
        return lib.tfc_rmsprop_optimizer(lr, *[float(a) for a in self._args],
                                         1 if self._centered else 0)


# ---------------------------------------------------------------------------
# Global step and learning-rate schedules
# ---------------------------------------------------------------------------

def get_or_create_global_step(graph=None):
    g = graph or get_default_graph()
    t = g._check_output(lib.tfc_train_get_or_create_global_step(g._h))
    return g._variable_for(t.op._node)


create_global_step = get_or_create_global_step


def get_global_step(graph=None):
    g = graph or get_default_graph()
    steps = g.get_collection("global_step")
    if steps:
        return steps[0]
    node = lib.tfc_graph_node_by_name(g._h, b"global_step")
    if node and _s(lib.tfc_node_type(node)) in ("VariableV2", "Variable"):
        return g._variable_for(node)
    return None


def global_step(sess, global_step_tensor):
    return int(sess.run(global_step_tensor))


def exponential_decay(learning_rate, global_step, decay_steps, decay_rate, staircase=False,
                      name=None):
    step = _var_tensor(global_step)
    g = c_graph([step])
    with composite_scope(name, "ExponentialDecay", [step]):
        return g._check_output(lib.tfc_exponential_decay(g._h, float(learning_rate), step._c,
                                                         float(decay_steps), float(decay_rate),
                                                         1 if staircase else 0))


def _step_ratio(global_step, decay_steps, staircase):
    from .math_ops import cast, floor
    p = cast(_var_tensor(global_step), dtypes.float32) / float(decay_steps)
    return floor(p) if staircase else p


def inverse_time_decay(learning_rate, global_step, decay_steps, decay_rate, staircase=False,
                       name=None):
    with composite_scope(name, "InverseTimeDecay", [_var_tensor(global_step)]):
        p = _step_ratio(global_step, decay_steps, staircase)
        return float(learning_rate) / (1.0 + float(decay_rate) * p)


def natural_exp_decay(learning_rate, global_step, decay_steps, decay_rate, staircase=False,
                      name=None):
    from .math_ops import exp
    with composite_scope(name, "NaturalExpDecay", [_var_tensor(global_step)]):
        p = _step_ratio(global_step, decay_steps, staircase)
        return float(learning_rate) * exp(-float(decay_rate) * p)


def polynomial_decay(learning_rate, global_step, decay_steps, end_learning_rate=0.0001,
                     power=1.0, cycle=False, name=None):
    from .math_ops import cast, minimum, pow as _pow
    if cycle:
        raise NotImplementedError("tfc: polynomial_decay(cycle=True) is not available")
    with composite_scope(name, "PolynomialDecay", [_var_tensor(global_step)]):
        step = minimum(cast(_var_tensor(global_step), dtypes.float32), float(decay_steps))
        frac = _pow(1.0 - step / float(decay_steps), float(power))
        return (float(learning_rate) - end_learning_rate) * frac + end_learning_rate


def piecewise_constant(x, boundaries, values, name=None):
    from .math_ops import where, less_equal, cast
    with composite_scope(name, "PiecewiseConstant", [_var_tensor(x)]):
        xt = _var_tensor(x)
        out = convert_to_tensor(values[-1], dtypes.float32)
        for b, v in reversed(list(zip(boundaries, values[:-1]))):
            out = where(less_equal(xt, cast(convert_to_tensor(b), xt.dtype)),
                        convert_to_tensor(v, dtypes.float32), out)
        return out


# ---------------------------------------------------------------------------
# Saver
# ---------------------------------------------------------------------------

def _status_error(st):
    return errors._from_code(lib.tfc_status_code(st), _s(lib.tfc_status_message(st)))


class Saver(object):
    """tf.train.Saver: saves and restores variables in TensorFlow's V2
    checkpoint format (<prefix>.index, <prefix>.data-00000-of-00001, the
    `checkpoint` state file and <prefix>.meta)."""

    def __init__(self, var_list=None, reshape=False, sharded=False, max_to_keep=5,
                 keep_checkpoint_every_n_hours=10000.0, name=None, restore_sequentially=False,
                 saver_def=None, builder=None, defer_build=False, allow_empty=False,
                 write_version=2, pad_step_number=False, save_relative_paths=False,
                 filename=None):
        g = get_default_graph()
        keep = -1 if not max_to_keep else int(max_to_keep)
        if isinstance(var_list, dict):
            keys = list(var_list)
            vars_ = [_var_tensor(var_list[k]) for k in keys]
            g = vars_[0].graph if vars_ else g
            karr = (ctypes.c_char_p * max(len(keys), 1))(*[_b(k) for k in keys])
            varr = (Output * max(len(vars_), 1))(*[v._c for v in vars_])
            h = lib.tfc_saver_new_named(g._h, karr, varr, len(vars_), keep)
        elif var_list is not None:
            vars_ = [_var_tensor(v) for v in var_list]
            g = vars_[0].graph if vars_ else g
            varr = (Output * max(len(vars_), 1))(*[v._c for v in vars_])
            h = lib.tfc_saver_new(g._h, varr, len(vars_), keep)
        else:
            h = lib.tfc_saver_new(g._h, None, 0, keep)
        if not h:
            g._raise_error()
        self._h = h
        self._graph = g
        self._last = []
        g._dependents.add(self)

    def _release(self):
        h = getattr(self, "_h", None)
        if h:
            self._h = None
            lib.tfc_saver_free(h)

    def __del__(self):
        self._release()

    @property
    def last_checkpoints(self):
        return list(self._last)

    def save(self, sess, save_path, global_step=None, latest_filename=None,
             meta_graph_suffix="meta", write_meta_graph=True, write_state=True,
             strip_default_attrs=False):
        """Writes the session's variable values; returns the checkpoint prefix."""
        if global_step is None:
            step = -1
        elif isinstance(global_step, Tensor) or hasattr(global_step, "_variable_tensor"):
            step = int(sess.run(global_step))
        else:
            step = int(global_step)
        st = lib.tfc_status_new()
        try:
            path = lib.tfc_saver_save(self._h, sess._local_handle("Saver.save"), _b(save_path), step, st)
            if path is None:
                raise _status_error(st)
        finally:
            lib.tfc_status_free(st)
        path = _s(path)
        if path in self._last:
            self._last.remove(path)
        self._last.append(path)
        keep = lib.tfc_saver_max_to_keep(self._h)
        if keep > 0:
            self._last = self._last[-keep:]
        return path

    def restore(self, sess, save_path):
        """Loads every variable of the saver from checkpoint `save_path`."""
        if save_path is None:
            raise ValueError("Can't load save_path when it is None.")
        st = lib.tfc_status_new()
        try:
            if lib.tfc_saver_restore(self._h, sess._local_handle("Saver.restore"), _b(save_path), st) != 0:
                raise _status_error(st)
        finally:
            lib.tfc_status_free(st)

    def export_meta_graph(self, filename=None, **kwargs):
        st = lib.tfc_status_new()
        try:
            if lib.tfc_export_meta_graph(self._graph._h, self._h, _b(filename), st) != 0:
                raise _status_error(st)
        finally:
            lib.tfc_status_free(st)


def latest_checkpoint(checkpoint_dir, latest_filename=None):
    """The newest checkpoint prefix recorded in <dir>/checkpoint, or None."""
    p = lib.tfc_latest_checkpoint(_b(checkpoint_dir))
    if not p:
        return None
    try:
        return _s(ctypes.string_at(p))
    finally:
        from ._lib import free
        free(p)


def checkpoint_exists(checkpoint_prefix):
    return os.path.exists(checkpoint_prefix + ".index") or os.path.exists(checkpoint_prefix)


def import_meta_graph(meta_graph_or_file, clear_devices=False, import_scope=None, **kwargs):
    """Imports a MetaGraphDef file into the default graph and returns a Saver
    over its variables."""
    if import_scope:
        raise NotImplementedError("tfc: import_meta_graph(import_scope=...) is not supported")
    g = get_default_graph()
    st = lib.tfc_status_new()
    try:
        if lib.tfc_import_meta_graph(g._h, _b(meta_graph_or_file), st) != 0:
            raise _status_error(st)
    finally:
        lib.tfc_status_free(st)
    g._sync_names()
    return Saver()


def export_meta_graph(filename=None, **kwargs):
    g = get_default_graph()
    st = lib.tfc_status_new()
    try:
        if lib.tfc_export_meta_graph(g._h, None, _b(filename), st) != 0:
            raise _status_error(st)
    finally:
        lib.tfc_status_free(st)


from .coordinator import (Coordinator, QueueRunner, add_queue_runner,  # noqa: E402,F401
                          start_queue_runners)

