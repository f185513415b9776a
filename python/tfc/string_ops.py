"""String ops (include/tfc.h "Strings"): tf.string_join, tf.string_split,
tf.substr, tf.reduce_join, tf.as_string, tf.string_to_number,
tf.string_to_hash_bucket_fast, tf.decode_raw, tf.decode_csv,
tf.encode_base64/decode_base64; and tf.parse_example /
tf.parse_single_example with tf.FixedLenFeature and tf.VarLenFeature
(include/tfc.h "Queues", tf.train.Example parsing). String tensors are fed
and fetched as numpy object arrays of bytes (bytes for a scalar)."""

import collections
import ctypes

import numpy as np

from . import dtypes
from . import tensor_shape
from .framework import convert_to_tensor, c_graph, _constant, string_array, composite_scope
from .data_flow_ops import name_next
from .sparse_tensor import SparseTensor
from ._lib import declare, Output, ParseFeature, c_int, c_int64, c_char_p, c_void_p

P = c_void_p
_join = declare("tfc_string_join", Output, P, P, c_int, c_char_p)
_split = declare("tfc_string_split", None, P, Output, Output, c_int, ctypes.POINTER(Output))
_split_v2 = declare("tfc_string_split_v2", None, P, Output, Output, c_int64,
                    ctypes.POINTER(Output))
_substr = declare("tfc_substr", Output, P, Output, Output, Output)
_reduce_join = declare("tfc_reduce_join", Output, P, Output, P, c_int, c_int, c_char_p)
_as_string = declare("tfc_as_string", Output, P, Output, c_int, c_int, c_int, c_int, c_char_p)
_to_number = declare("tfc_string_to_number", Output, P, Output, c_int)
_hash_fast = declare("tfc_string_to_hash_bucket_fast", Output, P, Output, c_int64)
_decode_raw = declare("tfc_decode_raw", Output, P, Output, c_int, c_int)
_decode_csv = declare("tfc_decode_csv", c_int, P, Output, P, c_int, c_char_p, c_int, c_char_p, P)
_encode_b64 = declare("tfc_encode_base64", Output, P, Output, c_int)
_decode_b64 = declare("tfc_decode_base64", Output, P, Output)
_parse_example = declare("tfc_parse_example", c_int, P, Output, P, c_int, P)
_parse_single = declare("tfc_parse_single_example", c_int, P, Output, P, c_int, P)


def _b(s):
    return s.encode() if isinstance(s, str) else s


def _str(x):
    return convert_to_tensor(x, dtype=dtypes.string)


def _one(default, name, fn, inputs, *args):
    g = c_graph(inputs)
    name_next(g, name, default)
    return g._check_output(fn(g._h, *([t._c for t in inputs] + list(args))))


def string_join(inputs, separator="", name=None):
    ts = [_str(x) for x in inputs]
    g = c_graph(ts)
    arr = (Output * max(len(ts), 1))(*[t._c for t in ts])
    name_next(g, name, "StringJoin")
    return g._check_output(_join(g._h, arr, len(ts), _b(separator)))


def _sparse(g, out):
    return SparseTensor(g._check_output(out[0]), g._check_output(out[1]),
                        g._check_output(out[2]))


def string_split(source, delimiter=" ", skip_empty=True):
    """A SparseTensor of the tokens of each element of a string vector."""
    s = _str(source)
    d = _str(delimiter)
    g = c_graph([s, d])
    out = (Output * 3)()
    name_next(g, None, "StringSplit")
    _split(g._h, s._c, d._c, 1 if skip_empty else 0, out)
    return _sparse(g, out)


def strings_split(source, sep=None, maxsplit=-1):
    """tf.strings.split (StringSplitV2): Python's str.split per element."""
    s = _str(source)
    d = _str(sep or "")
    g = c_graph([s, d])
    out = (Output * 3)()
    name_next(g, None, "StringSplitV2")
    _split_v2(g._h, s._c, d._c, int(maxsplit), out)
    return _sparse(g, out)


def substr(input, pos, len, name=None):  # noqa: A002 (TensorFlow's names)
    x = _str(input)
    p = convert_to_tensor(pos)
    n = convert_to_tensor(len, dtype=p.dtype)
    return _one("Substr", name, _substr, [x, p, n])


def reduce_join(inputs, axis=None, keep_dims=False, separator="", name=None,
                reduction_indices=None, keepdims=None):
    x = _str(inputs)
    if axis is None:
        axis = reduction_indices
    if keepdims is not None:
        keep_dims = keepdims
    axes = None if axis is None else ([axis] if isinstance(axis, int) else list(axis))
    g = c_graph([x])
    arr = (ctypes.c_int32 * max(len(axes or ()), 1))(*(axes or ()))
    name_next(g, name, "ReduceJoin")
    return g._check_output(_reduce_join(g._h, x._c, arr if axes is not None else None,
                                        len(axes or ()), 1 if keep_dims else 0, _b(separator)))


def as_string(input, precision=-1, scientific=False, shortest=False, width=-1,  # noqa: A002
              fill="", name=None):
    x = convert_to_tensor(input)
    return _one("AsString", name, _as_string, [x], int(precision), int(bool(scientific)),
                int(bool(shortest)), int(width), _b(fill))


def string_to_number(string_tensor, out_type=dtypes.float32, name=None):
    return _one("StringToNumber", name, _to_number, [_str(string_tensor)],
                dtypes.as_dtype(out_type).as_datatype_enum)


def string_to_hash_bucket_fast(input, num_buckets, name=None):  # noqa: A002
    return _one("StringToHashBucketFast", name, _hash_fast, [_str(input)], int(num_buckets))


def decode_raw(bytes, out_type, little_endian=True, name=None):  # noqa: A002
    return _one("DecodeRaw", name, _decode_raw, [_str(bytes)],
                dtypes.as_dtype(out_type).as_datatype_enum, 1 if little_endian else 0)


def decode_csv(records, record_defaults, field_delim=",", use_quote_delim=True, name=None,
               na_value=""):
    r = _str(records)
    defaults = []
    for d in record_defaults:
        if hasattr(d, "op") or hasattr(d, "_variable_tensor"):
            defaults.append(convert_to_tensor(d))
        else:
            v = d
            if isinstance(v, (list, tuple)) and v and isinstance(v[0], (list, tuple)):
                v = v[0]
            defaults.append(convert_to_tensor(v))
    g = c_graph([r] + defaults)
    arr = (Output * max(len(defaults), 1))(*[t._c for t in defaults])
    out = (Output * max(len(defaults), 1))()
    name_next(g, name, "DecodeCSV")
    if _decode_csv(g._h, r._c, arr, len(defaults), _b(field_delim),
                   1 if use_quote_delim else 0, _b(na_value), out) != 0:
        g._raise_error()
    return [g._check_output(out[i]) for i in range(len(defaults))]


def encode_base64(input, pad=False, name=None):  # noqa: A002
    return _one("EncodeBase64", name, _encode_b64, [_str(input)], 1 if pad else 0)


def decode_base64(input, name=None):  # noqa: A002
    return _one("DecodeBase64", name, _decode_b64, [_str(input)])


# ---------------------------------------------------------------------------
# tf.train.Example parsing
# ---------------------------------------------------------------------------

FixedLenFeature = collections.namedtuple("FixedLenFeature", ["shape", "dtype", "default_value"])
FixedLenFeature.__new__.__defaults__ = (None,)
VarLenFeature = collections.namedtuple("VarLenFeature", ["dtype"])


def _parse(fn, default_name, serialized, features, name):
    """TensorFlow's scope: "ParseExample/ParseExample", defaults inside it."""
    s = _str(serialized)
    with composite_scope(name, default_name, [s]):
        return _parse_in_scope(fn, default_name, s, features)


def _parse_in_scope(fn, default_name, s, features):
    keys = sorted(features)
    # TensorFlow's order: the sparse features, then the dense ones
    keys = [k for k in keys if isinstance(features[k], VarLenFeature)] + \
        [k for k in keys if not isinstance(features[k], VarLenFeature)]
    arr = (ParseFeature * max(len(keys), 1))()
    keep = []
    nout = 0
    for i, k in enumerate(keys):
        f = features[k]
        dt = dtypes.as_dtype(f.dtype)
        arr[i].key = _b(k)
        arr[i].dtype = dt.as_datatype_enum
        if isinstance(f, VarLenFeature):
            arr[i].var_len = 1
            nout += 3
            continue
        if not isinstance(f, FixedLenFeature):
            raise ValueError("Unsupported feature %r for key %r" % (f, k))
        dims = tensor_shape.as_shape(f.shape).as_list()
        if any(d is None for d in dims):
            raise ValueError("tfc: FixedLenFeature %r needs a fully defined shape" % k)
        d_arr = (c_int64 * max(len(dims), 1))(*dims)
        keep.append(d_arr)
        arr[i].rank = len(dims)
        arr[i].dims = ctypes.cast(d_arr, ctypes.POINTER(c_int64))
        if f.default_value is not None:
            if dt == dtypes.string:
                v = np.broadcast_to(string_array(f.default_value), dims).copy()
            else:
                v = np.broadcast_to(np.asarray(f.default_value, dt.as_numpy_dtype), dims).copy()
            dv = _constant(v, dt)
            keep.append(dv)
            arr[i].default_value = dv._c
        nout += 1
    out = (Output * max(nout, 1))()
    g = c_graph([s])
    if fn(g._h, s._c, arr, len(keys), out) != 0:
        g._raise_error()
    res = {}
    j = 0
    for k in keys:
        if isinstance(features[k], VarLenFeature):
            res[k] = _sparse(g, out[j:j + 3])
            j += 3
        else:
            res[k] = g._check_output(out[j])
            j += 1
    return res


def parse_example(serialized, features, name=None, example_names=None):
    """A dict from feature keys to Tensors ([B] + shape) and SparseTensors."""
    return _parse(_parse_example, "ParseExample", serialized, features, name)


def parse_single_example(serialized, features, name=None, example_names=None):
    """parse_example for one record (a scalar)."""
    return _parse(_parse_single, "ParseSingleExample", serialized, features, name)
