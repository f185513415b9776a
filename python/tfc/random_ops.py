"""Random tensors (tf.random_normal, tf.truncated_normal, tf.random_uniform,
tf.random_shuffle) through tfc's helpers, which follow TensorFlow's seeding:
an op seed of 0 derives one from the graph seed (tf.set_random_seed)."""

from . import dtypes
from .framework import Tensor, convert_to_tensor, composite_scope, get_default_graph
from ._lib import lib, c_int64


def _dims(shape):
    from .array_ops import _static_shape
    dims = _static_shape(shape)
    if dims is None:
        raise NotImplementedError("tfc: random ops need a static shape (a list of ints)")
    return dims


def _random(fn, default_name, shape, a, b, dtype, seed, name):
    dtype = dtypes.as_dtype(dtype)
    dims = _dims(shape)
    g = get_default_graph()
    # tfc's helper names its nodes "<default_name>/..." itself
    with (composite_scope(name, default_name, []) if name else _nothing()):
        out = fn(g._h, dtype.as_datatype_enum, len(dims), (c_int64 * max(len(dims), 1))(*dims),
                 float(a), float(b), int(seed or 0))
        return g._check_output(out)


class _nothing(object):
    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return False


def random_normal(shape, mean=0.0, stddev=1.0, dtype=dtypes.float32, seed=None, name=None):
    return _random(lib.tfc_random_normal, "random_normal", shape, mean, stddev, dtype, seed,
                   name)


def truncated_normal(shape, mean=0.0, stddev=1.0, dtype=dtypes.float32, seed=None, name=None):
    return _random(lib.tfc_truncated_normal, "truncated_normal", shape, mean, stddev, dtype,
                   seed, name)


def random_uniform(shape, minval=0, maxval=None, dtype=dtypes.float32, seed=None, name=None):
    dtype = dtypes.as_dtype(dtype)
    if dtype.is_integer:
        if maxval is None:
            raise ValueError("Must specify maxval for integer dtype %r" % dtype)
        from .math_ops import cast, floor
        with composite_scope(name, "random_uniform", []):
            u = _random(lib.tfc_random_uniform, "uniform", shape, minval, maxval,
                        dtypes.float64, seed, None)
            return cast(floor(u), dtype)
    return _random(lib.tfc_random_uniform, "random_uniform", shape, minval,
                   1.0 if maxval is None else maxval, dtype, seed, name)


def random_shuffle(value, seed=None, name=None):
    v = convert_to_tensor(value)
    g = v.graph
    with composite_scope(name, "random_shuffle", [v]):
        return g._check_output(lib.tfc_random_shuffle(g._h, v._c, int(seed or 0)))


def multinomial(logits, num_samples, seed=None, name=None, output_dtype=None):
    """tf.multinomial: num_samples class indices per row of logits [batch,
    classes], drawn from softmax(row) (op Multinomial, int64 unless
    output_dtype says int32); seeds as the other random ops."""
    lg = convert_to_tensor(logits)
    if isinstance(num_samples, Tensor) or hasattr(num_samples, "_variable_tensor"):
        raise NotImplementedError("tfc: tf.multinomial takes num_samples as a Python int")
    out_dt = dtypes.as_dtype(output_dtype or dtypes.int64)
    g = lg.graph
    # tfc's helper names its nodes "multinomial/..." itself
    with (composite_scope(name, name, [lg]) if name else _nothing()):
        return g._check_output(lib.tfc_multinomial(g._h, lg._c, int(num_samples),
                                                   int(seed or 0), out_dt.as_datatype_enum))
