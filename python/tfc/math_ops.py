"""Element-wise math, comparisons, reductions and products (tf.add,
tf.matmul, tf.reduce_sum, ...), each one node of tfc's op of the same
TensorFlow name, built through the generic builder. Python values mixed with
tensors take the tensor's dtype, as in TensorFlow."""

from . import dtypes
from .framework import (build_op, convert_to_tensor, _as_tensors, composite_scope, Tensor)


def _unary(op_type, x, name, default_name=None):
    x = convert_to_tensor(x)
    return build_op(op_type, [x], name=name, default_name=default_name or op_type).outputs[0]


def _binary(op_type, x, y, name, default_name=None):
    x, y = _as_tensors([x, y])
    if x.dtype != y.dtype:
        raise TypeError("Input 'y' of '%s' Op has type %s that does not match type %s of "
                        "argument 'x'." % (op_type, y.dtype.name, x.dtype.name))
    return build_op(op_type, [x, y], name=name, default_name=default_name or op_type).outputs[0]


def add(x, y, name=None, _default=None):
    return _binary("Add", x, y, name, _default)


def subtract(x, y, name=None, _default=None):
    return _binary("Sub", x, y, name, _default)


def multiply(x, y, name=None, _default=None):
    return _binary("Mul", x, y, name, _default)


def truediv(x, y, name=None):
    """x / y; integers are divided as float64, as in TensorFlow."""
    x, y = _as_tensors([x, y])
    if x.dtype.is_integer or x.dtype.is_bool:
        x, y = cast(x, dtypes.float64), cast(y, dtypes.float64)
    return build_op("RealDiv", [x, y], name=name, default_name="truediv").outputs[0]


divide = truediv


def realdiv(x, y, name=None):
    return _binary("RealDiv", x, y, name)


def div(x, y, name=None):
    """TensorFlow 1's tf.div: Python 2 division (floor for integers)."""
    x, y = _as_tensors([x, y])
    op = "FloorDiv" if x.dtype.is_integer else "RealDiv"
    return build_op(op, [x, y], name=name, default_name="div").outputs[0]


def truncatediv(x, y, name=None):
    return _binary("Div", x, y, name, "truncatediv")


def floordiv(x, y, name=None):
    x, y = _as_tensors([x, y])
    if x.dtype.is_floating:
        return floor(build_op("RealDiv", [x, y], default_name="floordiv").outputs[0],
                     name=name)
    return build_op("FloorDiv", [x, y], name=name, default_name="floordiv").outputs[0]


def floormod(x, y, name=None):
    return _binary("FloorMod", x, y, name, "mod")


mod = floormod


def pow(x, y, name=None, _default=None):  # noqa: A001 (TensorFlow's name)
    return _binary("Pow", x, y, name, _default)


def maximum(x, y, name=None):
    return _binary("Maximum", x, y, name)


def minimum(x, y, name=None):
    return _binary("Minimum", x, y, name)


def squared_difference(x, y, name=None):
    return _binary("SquaredDifference", x, y, name)


def negative(x, name=None):
    return _unary("Neg", x, name)


def abs(x, name=None):  # noqa: A001
    return _unary("Abs", x, name)


def sign(x, name=None):
    return _unary("Sign", x, name)


def square(x, name=None):
    return _unary("Square", x, name)


def sqrt(x, name=None):
    return _unary("Sqrt", x, name)


def rsqrt(x, name=None):
    return _unary("Rsqrt", x, name)


def reciprocal(x, name=None):
    return _unary("Reciprocal", x, name)


inv = reciprocal


def exp(x, name=None):
    return _unary("Exp", x, name)


def log(x, name=None):
    return _unary("Log", x, name)


def log1p(x, name=None):
    with composite_scope(name, "Log1p", [x]):
        x = convert_to_tensor(x)
        return log(add(x, 1))


def floor(x, name=None):
    return _unary("Floor", x, name)


def ceil(x, name=None):
    with composite_scope(name, "Ceil", [x]):
        return negative(floor(negative(x)))


def tanh(x, name=None):
    return _unary("Tanh", x, name)


def sigmoid(x, name=None):
    return _unary("Sigmoid", x, name)


def less(x, y, name=None):
    return _binary("Less", x, y, name)


def less_equal(x, y, name=None):
    return _binary("LessEqual", x, y, name)


def greater(x, y, name=None):
    return _binary("Greater", x, y, name)


def greater_equal(x, y, name=None):
    return _binary("GreaterEqual", x, y, name)


def equal(x, y, name=None):
    return _binary("Equal", x, y, name)


def not_equal(x, y, name=None):
    return _binary("NotEqual", x, y, name)


def logical_and(x, y, name=None, _default=None):
    return _binary("LogicalAnd", x, y, name, _default)


def logical_or(x, y, name=None, _default=None):
    return _binary("LogicalOr", x, y, name, _default)


def logical_not(x, name=None):
    return _unary("LogicalNot", x, name)


def logical_xor(x, y, name=None, _default="LogicalXor"):
    with composite_scope(name, _default, [x, y]):
        return logical_and(logical_or(x, y), logical_not(logical_and(x, y)))


def where(condition, x=None, y=None, name=None):
    """tf.where(cond, x, y): TensorFlow 1's Select; tf.where(cond): the
    coordinates of the true elements, int64 [n, rank] (op Where)."""
    if x is None and y is None:
        from .array_ops import where_rows
        return where_rows(convert_to_tensor(condition, preferred_dtype=dtypes.bool), name=name)
    if x is None or y is None:
        raise ValueError("x and y must both be non-None or both be None.")
    x, y = _as_tensors([x, y])
    condition = convert_to_tensor(condition, dtypes.bool)
    return build_op("Select", [condition, x, y], name=name, default_name="Select").outputs[0]


select = where


def cast(x, dtype, name=None):
    x = convert_to_tensor(x)
    dtype = dtypes.as_dtype(dtype)
    if x.dtype == dtype:
        return x
    return build_op("Cast", [x], {"DstT": ("type", dtype)}, name=name,
                    default_name="Cast").outputs[0]


def to_float(x, name="ToFloat"):
    return cast(x, dtypes.float32, name)


def to_double(x, name="ToDouble"):
    return cast(x, dtypes.float64, name)


def to_int32(x, name="ToInt32"):
    return cast(x, dtypes.int32, name)


def to_int64(x, name="ToInt64"):
    return cast(x, dtypes.int64, name)


def add_n(inputs, name=None):
    inputs = _as_tensors(list(inputs))
    if not inputs:
        raise ValueError("inputs must be a non-empty list of tensors")
    if len(inputs) == 1:
        return inputs[0] if name is None else identity(inputs[0], name)
    return build_op("AddN", inputs, name=name, default_name="AddN").outputs[0]


def identity(x, name=None):
    return _unary("Identity", x, name)


def matmul(a, b, transpose_a=False, transpose_b=False, adjoint_a=False, adjoint_b=False,
           a_is_sparse=False, b_is_sparse=False, name=None, _default="MatMul"):
    a, b = _as_tensors([a, b])
    ta = transpose_a or adjoint_a
    tb = transpose_b or adjoint_b
    ra, rb = a.shape.ndims, b.shape.ndims
    if (ra is not None and ra > 2) or (rb is not None and rb > 2):
        return build_op("BatchMatMul", [a, b], {"adj_x": ("bool", ta), "adj_y": ("bool", tb)},
                        name=name, default_name=_default).outputs[0]
    return build_op("MatMul", [a, b], {"transpose_a": ("bool", ta),
                                       "transpose_b": ("bool", tb)},
                    name=name, default_name=_default).outputs[0]


def _axes_tensor(x, axis, g_name="reduction_indices"):
    from . import array_ops
    if axis is None:
        rank = x.shape.ndims
        if rank is not None:
            return array_ops._int_const(list(range(rank)))
        return array_ops.range(0, array_ops.rank(x))
    if isinstance(axis, Tensor) or hasattr(axis, "_variable_tensor"):
        return convert_to_tensor(axis)
    if isinstance(axis, (list, tuple)):
        return array_ops._int_const([int(a) for a in axis])
    return array_ops._int_const(int(axis))


def _reduce(op_type, default_name, input_tensor, axis, keepdims, name, reduction_indices,
            keep_dims):
    if axis is None:
        axis = reduction_indices
    if keepdims is None:
        keepdims = bool(keep_dims)
    x = convert_to_tensor(input_tensor)
    axes = _axes_tensor(x, axis)
    return build_op(op_type, [x, axes], {"keep_dims": ("bool", keepdims)}, name=name,
                    default_name=default_name).outputs[0]


def reduce_sum(input_tensor, axis=None, keepdims=None, name=None, reduction_indices=None,
               keep_dims=None):
    return _reduce("Sum", "Sum", input_tensor, axis, keepdims, name, reduction_indices,
                   keep_dims)


def reduce_mean(input_tensor, axis=None, keepdims=None, name=None, reduction_indices=None,
                keep_dims=None):
    return _reduce("Mean", "Mean", input_tensor, axis, keepdims, name, reduction_indices,
                   keep_dims)


def reduce_max(input_tensor, axis=None, keepdims=None, name=None, reduction_indices=None,
               keep_dims=None):
    return _reduce("Max", "Max", input_tensor, axis, keepdims, name, reduction_indices,
                   keep_dims)


def reduce_min(input_tensor, axis=None, keepdims=None, name=None, reduction_indices=None,
               keep_dims=None):
    return _reduce("Min", "Min", input_tensor, axis, keepdims, name, reduction_indices,
                   keep_dims)


def reduce_prod(input_tensor, axis=None, keepdims=None, name=None, reduction_indices=None,
                keep_dims=None):
    return _reduce("Prod", "Prod", input_tensor, axis, keepdims, name, reduction_indices,
                   keep_dims)


def reduce_all(input_tensor, axis=None, keepdims=None, name=None, reduction_indices=None,
               keep_dims=None):
    with composite_scope(name, "All", [input_tensor]):
        x = cast(convert_to_tensor(input_tensor), dtypes.int32)
        m = reduce_min(x, axis, keepdims, None, reduction_indices, keep_dims)
        return cast(m, dtypes.bool)


def reduce_any(input_tensor, axis=None, keepdims=None, name=None, reduction_indices=None,
               keep_dims=None):
    with composite_scope(name, "Any", [input_tensor]):
        x = cast(convert_to_tensor(input_tensor), dtypes.int32)
        m = reduce_max(x, axis, keepdims, None, reduction_indices, keep_dims)
        return cast(m, dtypes.bool)


def _arg(op_type, input, axis, name, dimension, output_type):
    from . import array_ops
    if axis is None:
        axis = dimension if dimension is not None else 0
    x = convert_to_tensor(input)
    ax = convert_to_tensor(axis) if isinstance(axis, Tensor) else array_ops._int_const(int(axis))
    out = build_op(op_type, [x, ax], name=name, default_name=op_type).outputs[0]
    return cast(out, output_type) if dtypes.as_dtype(output_type) != dtypes.int64 else out


def argmax(input, axis=None, name=None, dimension=None, output_type=dtypes.int64):  # noqa: A002
    return _arg("ArgMax", input, axis, name, dimension, output_type)


def argmin(input, axis=None, name=None, dimension=None, output_type=dtypes.int64):  # noqa: A002
    return _arg("ArgMin", input, axis, name, dimension, output_type)


def arg_max(input, dimension, name=None, output_type=dtypes.int64):  # noqa: A002
    """TensorFlow 0.x's name of argmax (dimension required)."""
    return _arg("ArgMax", input, dimension, name, None, output_type)


def arg_min(input, dimension, name=None, output_type=dtypes.int64):  # noqa: A002
    """TensorFlow 0.x's name of argmin (dimension required)."""
    return _arg("ArgMin", input, dimension, name, None, output_type)


def tensordot(a, b, axes, name=None):
    raise NotImplementedError("tfc: tf.tensordot is not available yet")


def matrix_inverse(input, adjoint=False, name=None):  # noqa: A002
    return build_op("MatrixInverse", [convert_to_tensor(input)], {"adjoint": ("bool", adjoint)},
                    name=name, default_name="MatrixInverse").outputs[0]


def matrix_determinant(input, name=None):  # noqa: A002
    return _unary("MatrixDeterminant", input, name)


def accumulate_n(inputs, shape=None, tensor_dtype=None, name=None):
    return add_n(inputs, name)


def count_nonzero(input_tensor, axis=None, keepdims=False, dtype=dtypes.int64, name=None):
    with composite_scope(name, "count_nonzero", [input_tensor]):
        x = convert_to_tensor(input_tensor)
        nz = cast(not_equal(x, 0 if not x.dtype.is_bool else False), dtype)
        return reduce_sum(nz, axis, keepdims)


# ---------------------------------------------------------------------------
# Clipping (tfc's helpers, as in TensorFlow)
# ---------------------------------------------------------------------------

def clip_by_value(t, clip_value_min, clip_value_max, name=None):
    t = convert_to_tensor(t)
    if isinstance(clip_value_min, Tensor) or isinstance(clip_value_max, Tensor):
        with composite_scope(name, "clip_by_value", [t]):
            return minimum(maximum(t, clip_value_min), clip_value_max)
    from ._lib import lib
    g = t.graph
    with composite_scope(name, "clip_by_value", [t]):
        return g._check_output(lib.tfc_clip_by_value(g._h, t._c, float(clip_value_min),
                                                     float(clip_value_max)))


def clip_by_norm(t, clip_norm, axes=None, name=None):
    if axes is not None:
        raise NotImplementedError("tfc: clip_by_norm over some axes is not available")
    from ._lib import lib
    t = convert_to_tensor(t)
    g = t.graph
    with composite_scope(name, "clip_by_norm", [t]):
        return g._check_output(lib.tfc_clip_by_norm(g._h, t._c, float(clip_norm)))


def global_norm(t_list, name=None):
    from ._lib import lib, outputs_array
    ts = [convert_to_tensor(t) for t in t_list if t is not None]
    g = ts[0].graph
    with composite_scope(name, "global_norm", ts):
        return g._check_output(lib.tfc_global_norm(g._h, outputs_array(ts), len(ts)))


def clip_by_global_norm(t_list, clip_norm, use_norm=None, name=None):
    """(clipped list, global norm before clipping); None entries stay None."""
    import ctypes
    from ._lib import lib, Output
    if use_norm is not None:
        raise NotImplementedError("tfc: clip_by_global_norm(use_norm=...) is not available")
    items = list(t_list)
    ts = [None if t is None else convert_to_tensor(t) for t in items]
    g = next(t for t in ts if t is not None).graph
    arr = (Output * len(ts))(*[t._c if t is not None else Output(None, 0) for t in ts])
    out = (Output * len(ts))()
    norm = Output()
    with composite_scope(name, "clip_by_global_norm", [t for t in ts if t is not None]):
        rc = lib.tfc_clip_by_global_norm(g._h, arr, len(ts), float(clip_norm), out,
                                         ctypes.byref(norm))
        if rc != 0:
            g._raise_error()
    return [g._tensor(out[i]) if out[i].node else None for i in range(len(ts))], \
        g._tensor(norm)
