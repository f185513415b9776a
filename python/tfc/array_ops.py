"""Constants, placeholders and array ops (tf.constant, tf.placeholder,
tf.zeros, tf.reshape, tf.concat, tf.split, slicing ...). TensorFlow 1's
pre-1.0 argument orders are accepted where they cannot be mistaken:
tf.concat(1, [a, b]) and tf.split(1, 2, x)."""

import builtins
import numbers

import numpy as np

from . import dtypes
from . import tensor_shape
from .framework import (Tensor, build_op, convert_to_tensor, _as_tensors, _constant,
                        composite_scope, get_default_graph, c_graph)


def _is_tensor_like(x):
    return isinstance(x, (Tensor, np.ndarray)) or hasattr(x, "_variable_tensor")


def _int_const(v, dtype=dtypes.int32):
    return _constant(v, dtype)


def _shape_tensor(shape):
    """A 1-D int32 tensor for a shape given as a list, tuple, TensorShape or
    tensor."""
    if isinstance(shape, Tensor) or hasattr(shape, "_variable_tensor"):
        return convert_to_tensor(shape)
    if isinstance(shape, tensor_shape.TensorShape):
        shape = shape.as_list()
    if isinstance(shape, (list, tuple)) and any(isinstance(d, Tensor) for d in shape):
        return stack([convert_to_tensor(d, dtypes.int32) for d in shape])
    return _int_const([int(tensor_shape.dimension_value(d)) for d in shape]
                      if not isinstance(shape, numbers.Integral) else [int(shape)])


def _static_shape(shape):
    """A list of ints for a static shape argument, or None for a tensor."""
    if isinstance(shape, Tensor) or hasattr(shape, "_variable_tensor"):
        return None
    if isinstance(shape, tensor_shape.TensorShape):
        return shape.as_list()
    if isinstance(shape, numbers.Integral):
        return [int(shape)]
    if isinstance(shape, (list, tuple)) and any(isinstance(d, Tensor) for d in shape):
        return None
    return [int(tensor_shape.dimension_value(d)) for d in shape]


def constant(value, dtype=None, shape=None, name="Const", verify_shape=False):
    """tf.constant: a Const node holding `value`."""
    return _constant(value, dtype, shape, name)


def placeholder(dtype, shape=None, name=None):
    """tf.placeholder(dtype, shape=None, name=None): fed at run time."""
    dtype = dtypes.as_dtype(dtype)
    attrs = {"dtype": ("type", dtype)}
    if shape is not None:
        attrs["shape"] = ("shape", tensor_shape.as_shape(shape))
    return build_op("Placeholder", [], attrs, name=name, default_name="Placeholder",
                    graph=get_default_graph()).outputs[0]


def placeholder_with_default(input, shape, name=None):  # noqa: A002
    raise NotImplementedError("tfc: placeholder_with_default (op PlaceholderWithDefault) is "
                              "not available yet; use a placeholder and feed it")


def fill(dims, value, name=None):
    dims_t = _shape_tensor(dims)
    v = convert_to_tensor(value)
    return build_op("Fill", [dims_t, v], name=name, default_name="Fill").outputs[0]


def _filled(shape, dtype, v, name, default_name):
    dtype = dtypes.as_dtype(dtype)
    static = _static_shape(shape)
    if static is not None and int(np.prod(static or [1])) <= 1024:
        return _constant(np.full(static, v, dtype.as_numpy_dtype), dtype, name=name or
                         default_name)
    with composite_scope(name, default_name, []):
        return fill(_shape_tensor(shape), _constant(v, dtype), name="Fill")


def zeros(shape, dtype=dtypes.float32, name=None):
    return _filled(shape, dtype, 0, name, "zeros")


def ones(shape, dtype=dtypes.float32, name=None):
    return _filled(shape, dtype, 1, name, "ones")


def zeros_like(tensor, dtype=None, name=None, optimize=True):
    t = convert_to_tensor(tensor)
    out = build_op("ZerosLike", [t], name=name, default_name="zeros_like").outputs[0]
    if dtype is not None and dtypes.as_dtype(dtype) != t.dtype:
        from .math_ops import cast
        out = cast(out, dtype)
    return out


def ones_like(tensor, dtype=None, name=None, optimize=True):
    t = convert_to_tensor(tensor)
    out = build_op("OnesLike", [t], name=name, default_name="ones_like").outputs[0]
    if dtype is not None and dtypes.as_dtype(dtype) != t.dtype:
        from .math_ops import cast
        out = cast(out, dtype)
    return out


def reshape(tensor, shape, name=None):
    t = convert_to_tensor(tensor)
    return build_op("Reshape", [t, _shape_tensor(shape)], name=name,
                    default_name="Reshape").outputs[0]


def transpose(a, perm=None, name="transpose", conjugate=False):
    t = convert_to_tensor(a)
    if perm is None:
        rank = t.shape.ndims
        if rank is None:
            raise ValueError("tfc: transpose without perm needs an input of known rank")
        perm = list(_builtin_range(rank - 1, -1, -1))
    p = convert_to_tensor(perm) if isinstance(perm, Tensor) else _int_const(list(perm))
    return build_op("Transpose", [t, p], name=name, default_name="transpose").outputs[0]


def concat(values, axis, name="concat"):
    """tf.concat(values, axis); the pre-1.0 order tf.concat(axis, values)
    is accepted too."""
    if isinstance(values, numbers.Integral) and isinstance(axis, (list, tuple)):
        values, axis = axis, values
    vals = _as_tensors(list(values))
    if len(vals) == 1:
        from .math_ops import identity
        return identity(vals[0], name=name)
    ax = convert_to_tensor(axis) if isinstance(axis, Tensor) else _int_const(int(axis))
    return build_op("ConcatV2", vals + [ax], name=name, default_name="concat").outputs[0]


def concat_v2(values, axis, name="concat_v2"):
    return concat(values, axis, name)


def split(value, num_or_size_splits=None, axis=0, num=None, name="split"):
    """tf.split(value, num_or_size_splits, axis=0); the pre-1.0 order
    tf.split(split_dim, num_split, value) is accepted too."""
    if isinstance(value, numbers.Integral) and _is_tensor_like(axis):
        value, num_or_size_splits, axis = axis, num_or_size_splits, value
    x = convert_to_tensor(value)
    if isinstance(num_or_size_splits, numbers.Integral):
        ax = _int_const(int(axis))
        op = build_op("Split", [ax, x], {"num_split": ("int", int(num_or_size_splits))},
                      name=name, default_name="split")
        return list(op.outputs)
    sizes = [int(s) for s in num_or_size_splits]
    rank = x.shape.ndims
    if rank is None:
        raise ValueError("tfc: split with sizes needs an input of known rank")
    axis = int(axis) % rank
    if -1 in sizes:
        dim = x.shape[axis].value
        if dim is None:
            raise ValueError("tfc: split with a -1 size needs a known dimension")
        sizes[sizes.index(-1)] = dim - (sum(sizes) + 1)
    outs = []
    with composite_scope(name, "split", [x]):
        start = 0
        for s in sizes:
            begin = [0] * rank
            size = [-1] * rank
            begin[axis] = start
            size[axis] = s
            outs.append(slice(x, begin, size))
            start += s
    return outs


def stack(values, axis=0, name="stack"):
    vals = _as_tensors(list(values))
    return build_op("Pack", vals, {"axis": ("int", axis), "N": ("int", len(vals))}, name=name,
                    default_name="stack").outputs[0]


pack = stack


def unstack(value, num=None, axis=0, name="unstack"):
    x = convert_to_tensor(value)
    if num is None:
        rank = x.shape.ndims
        if rank is None or x.shape[axis].value is None:
            raise ValueError("Cannot infer num from shape %s" % x.shape)
        num = x.shape[axis].value
    op = build_op("Unpack", [x], {"num": ("int", num), "axis": ("int", axis)}, name=name,
                  default_name="unstack")
    return list(op.outputs)


unpack = unstack


def expand_dims(input, axis=None, name=None, dim=None):  # noqa: A002
    if axis is None:
        axis = dim
    x = convert_to_tensor(input)
    ax = convert_to_tensor(axis) if isinstance(axis, Tensor) else _int_const(int(axis))
    return build_op("ExpandDims", [x, ax], name=name, default_name="ExpandDims").outputs[0]


def squeeze(input, axis=None, name=None, squeeze_dims=None):  # noqa: A002
    if axis is None:
        axis = squeeze_dims
    x = convert_to_tensor(input)
    attrs = {}
    if axis is not None:
        attrs["squeeze_dims"] = ("int_list", [axis] if isinstance(axis, numbers.Integral)
                                 else list(axis))
    return build_op("Squeeze", [x], attrs, name=name, default_name="Squeeze").outputs[0]


def tile(input, multiples, name=None):  # noqa: A002
    x = convert_to_tensor(input)
    return build_op("Tile", [x, _shape_tensor(multiples)], name=name,
                    default_name="Tile").outputs[0]


def shape(input, name=None, out_type=dtypes.int32):  # noqa: A002
    x = convert_to_tensor(input)
    return build_op("Shape", [x], {"out_type": ("type", out_type)}, name=name,
                    default_name="Shape").outputs[0]


def rank(input, name=None):  # noqa: A002
    return build_op("Rank", [convert_to_tensor(input)], name=name,
                    default_name="Rank").outputs[0]


def size(input, name=None, out_type=dtypes.int32):  # noqa: A002
    return build_op("Size", [convert_to_tensor(input)], name=name,
                    default_name="Size").outputs[0]


def slice(input_, begin, size, name=None):  # noqa: A001
    x = convert_to_tensor(input_)
    b = convert_to_tensor(begin) if isinstance(begin, Tensor) else _int_const(list(begin))
    s = convert_to_tensor(size) if isinstance(size, Tensor) else _int_const(list(size))
    return build_op("Slice", [x, b, s], name=name, default_name="Slice").outputs[0]


def gather(params, indices, validate_indices=None, name=None, axis=0):
    p = convert_to_tensor(params)
    i = convert_to_tensor(indices)
    if isinstance(axis, numbers.Integral) and axis == 0:
        return build_op("Gather", [p, i], name=name, default_name="Gather").outputs[0]
    ax = convert_to_tensor(axis) if isinstance(axis, Tensor) else _int_const(int(axis))
    return build_op("GatherV2", [p, i, ax], name=name, default_name="GatherV2").outputs[0]


def one_hot(indices, depth, on_value=None, off_value=None, axis=None, dtype=None, name=None):
    i = convert_to_tensor(indices)
    dtype = dtypes.as_dtype(dtype) if dtype is not None else (
        convert_to_tensor(on_value).dtype if isinstance(on_value, Tensor) else dtypes.float32)
    on = convert_to_tensor(1 if on_value is None else on_value, dtype)
    off = convert_to_tensor(0 if off_value is None else off_value, dtype)
    d = convert_to_tensor(depth) if isinstance(depth, Tensor) else _int_const(int(depth))
    return build_op("OneHot", [i, d, on, off], {"axis": ("int", -1 if axis is None else axis)},
                    name=name, default_name="one_hot").outputs[0]


def pad(tensor, paddings, mode="CONSTANT", name=None, constant_values=0):
    if mode.upper() != "CONSTANT" or constant_values != 0:
        raise NotImplementedError("tfc: only zero CONSTANT padding is available")
    x = convert_to_tensor(tensor)
    p = convert_to_tensor(paddings) if isinstance(paddings, Tensor) else \
        _int_const([list(r) for r in paddings])
    return build_op("Pad", [x, p], name=name, default_name="Pad").outputs[0]


def range(start, limit=None, delta=1, dtype=None, name="range"):  # noqa: A001
    if limit is None:
        start, limit = 0, start
    vals = [start, limit, delta]
    if dtype is None:
        kinds = [v.dtype for v in vals if isinstance(v, Tensor)]
        if kinds:
            dtype = kinds[0]
        elif any(isinstance(v, float) for v in vals):
            dtype = dtypes.float32
        else:
            dtype = dtypes.int32
    ts = [convert_to_tensor(v, dtype) for v in vals]
    return build_op("Range", ts, name=name, default_name="range").outputs[0]


def identity(input, name=None):  # noqa: A002
    return build_op("Identity", [convert_to_tensor(input)], name=name,
                    default_name="Identity").outputs[0]


def stop_gradient(input, name=None):  # noqa: A002
    return build_op("StopGradient", [convert_to_tensor(input)], name=name,
                    default_name="StopGradient").outputs[0]


def broadcast_to(input, shape, name=None):  # noqa: A002
    return build_op("BroadcastTo", [convert_to_tensor(input), _shape_tensor(shape)], name=name,
                    default_name="BroadcastTo").outputs[0]


def check_numerics(tensor, message, name=None):
    return build_op("CheckNumerics", [convert_to_tensor(tensor)],
                    {"message": ("string", message)}, name=name,
                    default_name="CheckNumerics").outputs[0]


# ---------------------------------------------------------------------------
# Indexing: t[...] and tf.strided_slice, as Slice, GatherV2 (steps other than
# 1), Squeeze (integer indices) and ExpandDims (tf.newaxis). Steps other
# than 1 and negative bounds need the dimension to be known.
# ---------------------------------------------------------------------------

newaxis = None


def _slice_helper(tensor, key):
    x = convert_to_tensor(tensor)
    if not isinstance(key, tuple):
        key = (key,)
    for k in key:
        if isinstance(k, Tensor) or hasattr(k, "_variable_tensor"):
            raise NotImplementedError("tfc: indexing with tensors (a dynamic StridedSlice) "
                                      "is not available yet; use tf.gather or tf.slice")
    dims = x._static_dims()
    if dims is None:
        raise ValueError("tfc: indexing a tensor of unknown rank is not supported")
    rank = len(dims)
    n_real = sum(1 for k in key if k is not None and k is not Ellipsis)
    if n_real > rank:
        raise ValueError("Index out of range using input dim %d" % rank)
    if sum(1 for k in key if k is Ellipsis) > 1:
        raise ValueError("Multiple ellipses in slice spec not allowed")
    expanded = []
    for k in key:
        if k is Ellipsis:
            expanded.extend([_FULL] * (rank - n_real))
        else:
            expanded.append(k)
    if Ellipsis not in key:
        expanded.extend([_FULL] * (rank - n_real))
    begin, size, squeeze_axes, gathers, newaxes = [], [], [], [], []
    axis = 0
    out_pos = 0
    for k in expanded:
        if k is None:
            newaxes.append(out_pos)
            out_pos += 1
            continue
        dim = dims[axis]
        if isinstance(k, numbers.Integral) or (isinstance(k, np.ndarray) and k.ndim == 0):
            i = int(k)
            if i < 0:
                if dim < 0:
                    raise ValueError("tfc: a negative index needs a known dimension")
                i += dim
            if dim >= 0 and not 0 <= i < dim:
                raise ValueError("slice index %d of dimension %d out of bounds." % (int(k), axis))
            begin.append(i)
            size.append(1)
            squeeze_axes.append(axis)
        elif isinstance(k, _builtin_slice):
            step = 1 if k.step is None else int(k.step)
            if step == 0:
                raise ValueError("slice step cannot be zero")
            if step == 1 and (k.start is None or k.start >= 0) and \
                    (k.stop is None or k.stop >= 0) and dim < 0:
                b = 0 if k.start is None else int(k.start)
                begin.append(b)
                if k.stop is None:
                    size.append(-1)
                else:
                    size.append(max(int(k.stop) - b, 0))
                out_pos += 1
            else:
                if dim < 0:
                    raise ValueError("tfc: slicing %r needs a known dimension" % (k,))
                idx = list(_builtin_range(dim))[k]
                if step == 1:
                    begin.append(idx[0] if idx else 0)
                    size.append(len(idx))
                else:
                    begin.append(0)
                    size.append(-1)
                    gathers.append((axis, idx))
                out_pos += 1
        else:
            raise TypeError("Only integers, slices (`:`), ellipsis (`...`), tf.newaxis "
                            "(`None`) and scalar tf.int32/tf.int64 tensors are valid indices, "
                            "got %r" % (k,))
        axis += 1
    with composite_scope(None, "strided_slice", [x]):
        out = x
        if any(b != 0 for b in begin) or any(s != -1 and s != d for s, d in zip(size, dims)):
            out = slice(out, begin, size)
        for ax, idx in gathers:
            out = gather(out, _int_const(idx), axis=ax)
        if squeeze_axes:
            out = squeeze(out, squeeze_axes)
        for pos in newaxes:
            out = expand_dims(out, pos)
        if out is x:
            out = identity(x)
        return out


_builtin_slice = builtins.slice
_builtin_range = builtins.range
_FULL = _builtin_slice(None, None, None)


def strided_slice(input_, begin, end, strides=None, begin_mask=0, end_mask=0, ellipsis_mask=0,
                  new_axis_mask=0, shrink_axis_mask=0, var=None, name=None):
    """tf.strided_slice with static begin/end/strides and masks."""
    n = len(begin)
    strides = strides or [1] * n
    key = []
    for i in _builtin_range(n):
        if ellipsis_mask >> i & 1:
            key.append(Ellipsis)
        elif new_axis_mask >> i & 1:
            key.append(None)
        elif shrink_axis_mask >> i & 1:
            key.append(int(begin[i]))
        else:
            b = None if begin_mask >> i & 1 else int(begin[i])
            e = None if end_mask >> i & 1 else int(end[i])
            key.append(_builtin_slice(b, e, int(strides[i])))
    return _slice_helper(input_, tuple(key))


def boolean_mask(tensor, mask, name="boolean_mask", axis=None):
    raise NotImplementedError("tfc: tf.boolean_mask (op Where) is not available yet")


def sequence_mask(lengths, maxlen=None, dtype=dtypes.bool, name=None):
    from .math_ops import less, cast
    with composite_scope(name, "SequenceMask", [lengths]):
        lengths = convert_to_tensor(lengths)
        if maxlen is None:
            from .math_ops import reduce_max
            maxlen = reduce_max(lengths)
        r = range(0, maxlen, 1)
        m = less(r, expand_dims(lengths, -1))
        return m if dtypes.as_dtype(dtype) == dtypes.bool else cast(m, dtype)


def _graph_for(values):
    return c_graph(values)
