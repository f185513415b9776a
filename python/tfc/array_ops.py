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
    """tf.placeholder_with_default: `input` unless the run feeds it. `shape`
    (may hold None) is the output's static shape, compatible with input's."""
    x = convert_to_tensor(input)
    attrs = {"dtype": ("type", x.dtype)}
    if shape is not None:
        attrs["shape"] = ("shape", tensor_shape.as_shape(shape))
    return build_op("PlaceholderWithDefault", [x], attrs, name=name,
                    default_name="PlaceholderWithDefault").outputs[0]


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
# Indexing: t[...] and tf.strided_slice, one StridedSlice node as in
# TensorFlow (bounds may be tensors; a tensor of unknown shape works too).
# ---------------------------------------------------------------------------

newaxis = None


def _is_index_tensor(k):
    return isinstance(k, Tensor) or hasattr(k, "_variable_tensor")


def _check_index(k):
    """An integer or a scalar int32/int64 tensor, as TensorFlow's
    _check_index accepts."""
    if _is_index_tensor(k):
        t = convert_to_tensor(k)
        if t.dtype in (dtypes.int32, dtypes.int64) and t.shape.ndims in (None, 0):
            return t
    elif isinstance(k, numbers.Integral):  # bool too, as in TensorFlow
        return int(k)
    elif isinstance(k, tensor_shape.Dimension) and k.value is not None:
        return int(k.value)
    elif isinstance(k, np.ndarray) and k.ndim == 0 and k.dtype.kind in "iu":
        return int(k)
    raise TypeError("Only integers, slices (`:`), ellipsis (`...`), tf.newaxis (`None`) and "
                    "scalar tf.int32/tf.int64 tensors are valid indices, got %r" % (k,))


def _pack_bounds(values, dt):
    """begin, end or strides as one 1-D tensor of dtype dt, named "stack":
    a constant when all are ints, else a Pack."""
    if not any(isinstance(v, Tensor) for v in values):
        return _constant(values, dt, shape=[len(values)], name="stack")
    from .math_ops import cast
    parts = [cast(v, dt) if isinstance(v, Tensor) else v for v in values]
    return stack(parts)


def _slice_helper(tensor, key):
    """tensor[key] as TensorFlow's Tensor.__getitem__ builds it: one
    StridedSlice named "strided_slice", its bounds "strided_slice/stack*"."""
    x = convert_to_tensor(tensor)
    if not isinstance(key, tuple):
        key = (key,)
    begin, end, strides = [], [], []
    masks = {"begin_mask": 0, "end_mask": 0, "ellipsis_mask": 0, "new_axis_mask": 0,
             "shrink_axis_mask": 0}
    from .math_ops import add
    for i, k in enumerate(key):
        bit = 1 << i
        if isinstance(k, _builtin_slice):
            if k.start is not None:
                begin.append(_check_index(k.start))
            else:
                begin.append(0)
                masks["begin_mask"] |= bit
            if k.stop is not None:
                end.append(_check_index(k.stop))
            else:
                end.append(0)
                masks["end_mask"] |= bit
            strides.append(_check_index(k.step) if k.step is not None else 1)
        elif k is Ellipsis:
            begin.append(0)
            end.append(0)
            strides.append(1)
            masks["ellipsis_mask"] |= bit
        elif k is None:
            begin.append(0)
            end.append(0)
            strides.append(1)
            masks["new_axis_mask"] |= bit
        else:
            k = _check_index(k)
            begin.append(k)
            end.append(add(k, 1) if isinstance(k, Tensor) else k + 1)
            strides.append(1)
            masks["shrink_axis_mask"] |= bit
    g = c_graph([x] + [v for v in begin + end + strides if isinstance(v, Tensor)])
    with g.as_default():
        full = g._unique_name("strided_slice")
        # int64 when a tensor or a bound needs it, as TensorFlow casts
        every = begin + end + strides
        wide = any(isinstance(v, Tensor) and v.dtype == dtypes.int64 for v in every) or \
            any(not isinstance(v, Tensor) and not -2 ** 31 <= v < 2 ** 31 for v in every)
        dt = dtypes.int64 if wide else dtypes.int32
        with g._exact_scope(full):
            b, e, s = (_pack_bounds(v, dt) for v in (begin, end, strides))
        return _strided_slice_op(x, b, e, s, masks, full + "/")


def _strided_slice_op(x, b, e, s, masks, name, default_name="StridedSlice"):
    attrs = {k: ("int", int(v)) for k, v in masks.items()}
    return build_op("StridedSlice", [x, b, e, s], attrs, name=name,
                    default_name=default_name).outputs[0]


_builtin_slice = builtins.slice
_builtin_range = builtins.range


def _index_vector(v, dtype=None):
    if _is_index_tensor(v):
        return convert_to_tensor(v)
    return _int_const([int(i) for i in v], dtype or dtypes.int32)


def strided_slice(input_, begin, end, strides=None, begin_mask=0, end_mask=0, ellipsis_mask=0,
                  new_axis_mask=0, shrink_axis_mask=0, var=None, name=None):
    """tf.strided_slice: op StridedSlice; begin, end and strides are lists
    of ints or 1-D int32/int64 tensors (strides None: ones)."""
    x = convert_to_tensor(input_)
    vecs = [v for v in (begin, end, strides) if v is not None]
    dt = None
    if any(_is_index_tensor(v) and convert_to_tensor(v).dtype == dtypes.int64 for v in vecs):
        dt = dtypes.int64
    b, e = _index_vector(begin, dt), _index_vector(end, dt)
    if strides is None:
        s = ones_like(b) if isinstance(begin, Tensor) else _index_vector([1] * len(begin), dt)
    else:
        s = _index_vector(strides, dt)
    masks = {"begin_mask": begin_mask, "end_mask": end_mask, "ellipsis_mask": ellipsis_mask,
             "new_axis_mask": new_axis_mask, "shrink_axis_mask": shrink_axis_mask}
    return _strided_slice_op(x, b, e, s, masks, name)


def boolean_mask(tensor, mask, name="boolean_mask", axis=None):
    """tf.boolean_mask: the entries of `tensor` where `mask` (bool, of known
    rank, over dims [axis, axis + rank)) is true, as TensorFlow builds it:
    those dims flattened into one, then Gather of the rows Where finds."""
    with composite_scope(name, "boolean_mask", [tensor, mask]):
        x = convert_to_tensor(tensor)
        m = convert_to_tensor(mask)
        nm = m.shape.ndims
        if nm == 0:
            raise ValueError("mask cannot be scalar.")
        if nm is None:
            raise ValueError("Number of mask dimensions must be specified, even if some "
                             "dimensions are None.  E.g. shape=[None] is ok, but shape=None "
                             "is not.")
        axis = 0 if axis is None else int(axis)
        xs = x.shape
        if xs.ndims is not None:
            xs[axis:axis + nm].assert_is_compatible_with(m.shape)
        from .math_ops import reduce_prod
        sh = shape(x)
        lead = reduce_prod(sh[axis:axis + nm], [0], keep_dims=True)
        x = reshape(x, concat([sh[:axis], lead, sh[axis + nm:]], 0))
        idx = squeeze(where_rows(reshape(m, [-1])), axis=[1])
        return gather(x, idx, axis=axis)


def where_rows(condition, name=None):
    """tf.where(condition) with one argument: op Where, int64 [n, rank]."""
    c = convert_to_tensor(condition)
    return build_op("Where", [c], name=name, default_name="Where").outputs[0]


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
