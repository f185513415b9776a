"""Control flow and grouping: tf.group, tf.no_op, tf.tuple, tf.cond and
tf.while_loop with Python callables, and tf.gradients.

tf.cond and tf.while_loop go through tfc_cond and tfc_while_loop: tfc calls
back into Python to build each branch or loop body in a body graph of its
own (made the default graph meanwhile), so the callables use TensorFlow's
API as usual; tensors of the graphs around are captured by tfc. An
exception raised by a callable is raised again from tf.cond/tf.while_loop.
"""

import builtins

from . import dtypes
from . import tensor_shape
from .framework import (Graph, Tensor, Operation, build_op, convert_to_tensor,
                        get_default_graph, c_graph, composite_scope, _as_operation)
from ._lib import lib, BODY_FN, Output, Shape


def no_op(name=None):
    return build_op("NoOp", [], name=name, default_name="NoOp", graph=get_default_graph())


def group(*inputs, **kwargs):
    """An op that runs after all `inputs` (ops or tensors)."""
    name = kwargs.pop("name", None)
    if kwargs:
        raise TypeError("Unknown keyword arguments: %s" % ", ".join(kwargs))
    ops = []
    for x in inputs:
        if isinstance(x, (list, builtins.tuple)):
            ops.extend(_as_operation(y) for y in x)
        elif x is not None:
            ops.append(_as_operation(x))
    g = ops[0].graph if ops else get_default_graph()
    return build_op("NoOp", [], name=name, default_name="group_deps", graph=g,
                    control_inputs=ops)


def tuple(tensors, name=None, control_inputs=None):  # noqa: A001 (TensorFlow's name)
    tensors = [None if t is None else convert_to_tensor(t) for t in tensors]
    with composite_scope(name, "tuple", [t for t in tensors if t is not None]) as (g, _):
        deps = [t.op for t in tensors if t is not None] + \
            [_as_operation(c) for c in control_inputs or ()]
        gate = group(*deps)
        from .array_ops import identity
        out = []
        with g.control_dependencies([gate]):
            for t in tensors:
                out.append(None if t is None else identity(t))
        return out


def _flatten(structure, leaves):
    """Leaves of nested lists/tuples/dicts, and a function rebuilding it."""
    if isinstance(structure, (list, builtins.tuple)):
        subs = [_flatten(s, leaves) for s in structure]
        if hasattr(structure, "_fields"):
            cls = type(structure)
            return lambda r: cls(*[f(r) for f in subs])
        cls = type(structure)
        return lambda r: cls(f(r) for f in subs)
    if isinstance(structure, dict):
        keys = sorted(structure)
        subs = [_flatten(structure[k], leaves) for k in keys]
        return lambda r: dict((k, f(r)) for k, f in zip(keys, subs))
    i = len(leaves)
    leaves.append(structure)
    return lambda r: r[i]


class _Callback(object):
    """A ctypes body callback running a Python function in a body graph."""

    def __init__(self, outer, fn, state, kind):
        self.outer = outer
        self.fn = fn
        self.state = state
        self.kind = kind
        self.c = BODY_FN(self)

    def __call__(self, body_h, args, nargs, user, outs):
        state = self.state
        try:
            body = Graph(_handle=body_h, _parent=self.outer)
            arg_tensors = [body._tensor(args[i]) for i in range(nargs)]
            with body.as_default():
                result = self.fn(arg_tensors)
                leaves = []
                rebuild = _flatten(result, leaves)
                want = state["dtypes"].get(self.kind)
                tensors = []
                for i, x in enumerate(leaves):
                    if isinstance(x, Operation):
                        raise TypeError("tfc: a branch returning an Operation is not supported")
                    dt = want[i] if want is not None and i < len(want) else None
                    if dt is not None and not isinstance(x, Tensor) and \
                            not hasattr(x, "_variable_tensor"):
                        x = convert_to_tensor(x, dt)
                    tensors.append(convert_to_tensor(x))
            nout = state["nout"][self.kind]
            if len(tensors) != nout:
                state["actual"] = len(tensors)
                return -1
            for i, t in enumerate(tensors):
                outs[i] = t._c
            state.setdefault("rebuild", {})[self.kind] = rebuild
            state.setdefault("out_dtypes", {})[self.kind] = [t.dtype for t in tensors]
            return 0
        except BaseException as e:  # reported by cond/while_loop
            state["error"] = e
            return -1


def _finish_error(g, state):
    err = state.get("error")
    if err is not None:
        lib.tfc_graph_clear_error(g._h)
        raise err


def cond(pred, true_fn=None, false_fn=None, strict=False, name=None, fn1=None, fn2=None):
    """tf.cond(pred, true_fn, false_fn): the outputs of the branch `pred`
    picks; only that branch runs."""
    true_fn = true_fn if true_fn is not None else fn1
    false_fn = false_fn if false_fn is not None else fn2
    if not callable(true_fn) or not callable(false_fn):
        raise TypeError("true_fn and false_fn must be callable.")
    g = c_graph([pred])
    with g.as_default():
        pred = convert_to_tensor(pred, dtypes.bool) if not isinstance(pred, Tensor) else pred
        nout = 1
        for _attempt in range(3):
            state = {"nout": {"t": nout, "f": nout}, "dtypes": {}}
            cbs = [_Callback(g, lambda a: true_fn(), state, "t"),
                   _Callback(g, lambda a: false_fn(), state, "f")]
            outs = (Output * max(nout, 1))()
            with g.name_scope(name or "cond"):
                rc = lib.tfc_cond(g._h, pred._c, cbs[0].c, cbs[1].c, None, nout, outs)
            if rc == 0:
                res = [g._tensor(outs[i]) for i in range(nout)]
                if nout == 0:
                    return None
                return state["rebuild"]["t"](res)
            _finish_error(g, state)
            if "actual" in state and state["actual"] != nout:
                lib.tfc_graph_clear_error(g._h)
                nout = state["actual"]
                continue
            g._raise_error()
        raise ValueError("tf.cond: the branches return different numbers of tensors")


def while_loop(cond, body, loop_vars, shape_invariants=None, parallel_iterations=10,
               back_prop=True, swap_memory=False, name=None, maximum_iterations=None,
               return_same_structure=False):
    """tf.while_loop(cond, body, loop_vars): repeats body while cond holds.
    A single loop variable comes back as a Tensor, as in TensorFlow 1."""
    leaves = []
    rebuild = _flatten(loop_vars, leaves)
    g = c_graph([x for x in leaves if isinstance(x, Tensor)])
    with g.as_default():
        vars_ = [convert_to_tensor(x) for x in leaves]
        n = len(vars_)
        if n == 0:
            raise ValueError("No loop variables provided")
        if maximum_iterations is not None:
            counter = convert_to_tensor(0, dtypes.int32)
            limit = convert_to_tensor(maximum_iterations, dtypes.int32)
            user_cond, user_body = cond, body

            def cond(*args):
                from .math_ops import logical_and, less
                return logical_and(less(args[0], limit), user_cond(*args[1:]))

            def body(*args):
                res = user_body(*args[1:])
                flat = []
                _flatten(res, flat)
                return [args[0] + 1] + flat

            vars_ = [counter] + vars_
            n += 1
            shape_invariants_full = None if shape_invariants is None else \
                [tensor_shape.TensorShape([])] + list(shape_invariants)
            offset = 1
        else:
            shape_invariants_full = shape_invariants
            offset = 0
        var_dtypes = [t.dtype for t in vars_]
        structured = rebuild

        def call_cond(args):
            if offset:
                return cond(*args)
            return cond(*_restructure(structured, args))

        def call_body(args):
            if offset:
                return body(*args)
            res = body(*_restructure(structured, args))
            flat = []
            _flatten(res, flat)
            return flat

        state = {"nout": {"c": 1, "b": n}, "dtypes": {"b": var_dtypes}}
        cbs = [_Callback(g, call_cond, state, "c"), _Callback(g, call_body, state, "b")]
        invariants = None
        if shape_invariants_full is not None:
            sh = []
            for s in (shape_invariants_full if isinstance(shape_invariants_full, (list,))
                      else [shape_invariants_full]):
                sh.append(tensor_shape.as_shape(s))
            invariants = (Shape * n)()
            for i, s in enumerate(sh):
                if s.ndims is None:
                    invariants[i].rank = -1
                else:
                    invariants[i].rank = s.ndims
                    for j, d in enumerate(s.as_list()):
                        invariants[i].dims[j] = -1 if d is None else d
        loop_arr = (Output * n)(*[t._c for t in vars_])
        outs = (Output * n)()
        with g.name_scope(name or "while"):
            rc = lib.tfc_while_loop(g._h, cbs[0].c, cbs[1].c, None, loop_arr, n,
                                    invariants, parallel_iterations, outs)
        if rc != 0:
            _finish_error(g, state)
            if "actual" in state:
                lib.tfc_graph_clear_error(g._h)
                raise ValueError("The loop body returned %d tensors for %d loop variables"
                                 % (state["actual"], n - offset))
            g._raise_error()
        res = [g._tensor(outs[i]) for i in range(n)][offset:]
        if len(res) == 1 and not return_same_structure:
            return res[0]
        return structured(res)


def _restructure(rebuild, flat):
    """The loop variables as the callables take them: body(*loop_vars)."""
    r = rebuild(list(flat))
    return r if isinstance(r, (list, builtins.tuple)) else [r]


def gradients(ys, xs, grad_ys=None, name="gradients", colocate_gradients_with_ops=False,
              gate_gradients=False, aggregation_method=None, stop_gradients=None):
    """tf.gradients: d(sum of ys)/d(x) for each x, None where a y does not
    depend on x. Gradients tfc keeps sparse (an embedding lookup's) come
    back in their dense form."""
    ys_list = list(ys) if isinstance(ys, (list, builtins.tuple)) else [ys]
    xs_list = list(xs) if isinstance(xs, (list, builtins.tuple)) else [xs]
    if stop_gradients:
        raise NotImplementedError("tfc: tf.gradients(stop_gradients=...) is not supported; "
                                  "use tf.stop_gradient in the graph")
    yt = [convert_to_tensor(y) for y in ys_list]
    xt = [convert_to_tensor(x) for x in xs_list]
    g = c_graph(yt + xt)
    ny, nx = len(yt), len(xt)
    ys_arr = (Output * ny)(*[t._c for t in yt])
    xs_arr = (Output * nx)(*[t._c for t in xt])
    gy = None
    if grad_ys is not None:
        gl = list(grad_ys) if isinstance(grad_ys, (list, builtins.tuple)) else [grad_ys]
        gy = (Output * ny)()
        for i, (v, y) in enumerate(zip(gl, yt)):
            if v is None:
                from .array_ops import ones_like
                with g.as_default():
                    v = ones_like(y)
            with g.as_default():
                gy[i] = convert_to_tensor(v, y.dtype)._c
    grads = (Output * nx)()
    rc = lib.tfc_gradients(g._h, ys_arr, ny, xs_arr, nx, gy, grads)
    if rc != 0:
        g._raise_error()
    g._sync_names()
    return [g._tensor(grads[i]) if grads[i].node else None for i in range(nx)]

