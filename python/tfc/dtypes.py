"""tf.DType: TensorFlow's element types. The enum values are TensorFlow's
DataType numbers, as in tfc.h's tfc_dtype; tfc computes in float32, float64,
int32, uint8, int64 and bool, and the other names exist so programs that
mention them import (using one is an error naming it)."""

import builtins as _builtins

import numpy as np


class DType(object):
    """An element type: tf.float32, tf.int64, ..."""
    __slots__ = ("_enum", "_name", "_np")

    def __init__(self, enum, name=None, np_type=None):
        if name is None:  # tf.DType(type_enum), as TensorFlow's constructor
            known = _BY_ENUM.get(enum) if isinstance(enum, int) else None
            if known is None:
                raise TypeError("Did not recognize DataType enum %r" % (enum,))
            name, np_type = known._name, known._np
        self._enum = enum
        self._name = name
        self._np = np_type

    @property
    def name(self):
        return self._name

    @property
    def as_datatype_enum(self):
        return self._enum

    @property
    def as_numpy_dtype(self):
        return self._np

    @property
    def base_dtype(self):
        return self

    @property
    def real_dtype(self):
        """The type of the real part: float32 for complex64, float64 for
        complex128, the type itself otherwise."""
        return {8: float32, 18: float64}.get(self._enum, self)

    @property
    def is_floating(self):
        return self._name in ("float16", "float32", "float64", "bfloat16")

    @property
    def is_integer(self):
        return self._name in ("int8", "int16", "int32", "int64", "uint8", "uint16", "uint32",
                              "uint64")

    @property
    def is_quantized(self):
        return self._name in ("qint8", "quint8", "qint16", "quint16", "qint32")

    @property
    def is_bool(self):
        return self._name == "bool"

    @property
    def is_complex(self):
        return self._name.startswith("complex")

    @property
    def is_unsigned(self):
        return self._name.startswith("uint")

    @property
    def is_supported(self):
        """Whether tfc's kernels compute in this type."""
        return self._enum in _SUPPORTED

    @property
    def size(self):
        return np.dtype(self._np).itemsize if self._np is not None else 0

    @property
    def min(self):
        return np.finfo(self._np).min if self.is_floating else np.iinfo(self._np).min

    @property
    def max(self):
        return np.finfo(self._np).max if self.is_floating else np.iinfo(self._np).max

    def is_compatible_with(self, other):
        return as_dtype(other)._enum == self._enum

    def __eq__(self, other):
        if other is None:
            return False
        try:
            return as_dtype(other)._enum == self._enum
        except TypeError:
            return False

    def __ne__(self, other):
        return not self.__eq__(other)

    def __hash__(self):
        return self._enum

    def __repr__(self):
        return "tf." + self._name

    def __str__(self):
        return "<dtype: '%s'>" % self._name

    def __reduce__(self):
        return as_dtype, (self._name,)


float16 = DType(19, "float16", np.float16)
float32 = DType(1, "float32", np.float32)
float64 = DType(2, "float64", np.float64)
int32 = DType(3, "int32", np.int32)
uint8 = DType(4, "uint8", np.uint8)
int16 = DType(5, "int16", np.int16)
int8 = DType(6, "int8", np.int8)
string = DType(7, "string", np.object_)
complex64 = DType(8, "complex64", np.complex64)
int64 = DType(9, "int64", np.int64)
bool = DType(10, "bool", np.bool_)  # noqa: A001 (TensorFlow's name)
uint16 = DType(17, "uint16", np.uint16)
complex128 = DType(18, "complex128", np.complex128)
resource = DType(20, "resource", None)
# tfc's quantized and 16-bit types (tfc.h), TensorFlow's others: names only
# here (numpy has no bfloat16; a quantized type's elements are its storage
# type's)
qint8 = DType(11, "qint8", np.int8)
quint8 = DType(12, "quint8", np.uint8)
qint32 = DType(13, "qint32", np.int32)
bfloat16 = DType(14, "bfloat16", None)
qint16 = DType(15, "qint16", np.int16)
quint16 = DType(16, "quint16", np.uint16)
variant = DType(21, "variant", None)
uint32 = DType(22, "uint32", np.uint32)
uint64 = DType(23, "uint64", np.uint64)
half = float16
double = float64

_ALL = [float16, float32, float64, int32, uint8, int16, int8, string, complex64, int64, bool,
        uint16, complex128, resource, uint32, uint64]
_OTHER = [qint8, quint8, qint32, bfloat16, qint16, quint16, variant]  # not numpy's types
_SUPPORTED = {1, 2, 3, 4, 7, 9, 10, 17, 20}
_BY_ENUM = {d._enum: d for d in _ALL + _OTHER}
_BY_NAME = {d._name: d for d in _ALL + _OTHER}
_BY_NAME.update({"float": float32, "double": float64, "half": float16, "int": int32,
                 "long": int64})
_BY_NP = {np.dtype(d._np): d for d in _ALL if d is not string and d._np is not None}
_BY_PY = {float: float32, int: int32, bytes: string, str: string}


def as_dtype(type_value):
    """A DType from a DType, a name ("float32", "float"), an enum, or a numpy
    or Python type (float -> float32, as TensorFlow's placeholders take it)."""
    if isinstance(type_value, DType):
        return type_value
    if isinstance(type_value, str):
        d = _BY_NAME.get(type_value)
        if d is not None:
            return d
    elif isinstance(type_value, int) and not isinstance(type_value, _builtins.bool):
        d = _BY_ENUM.get(type_value)
        if d is not None:
            return d
    if type_value is _builtins.bool:
        return bool
    if type_value in _BY_PY:
        return _BY_PY[type_value]
    try:
        npd = np.dtype(type_value)
        if npd.kind in "SU":
            return string
        return _BY_NP[npd]
    except (TypeError, KeyError):
        pass
    raise TypeError("Cannot convert value %r to a TensorFlow DType." % (type_value,))


def from_enum(enum):
    return _BY_ENUM[enum]
