"""tf.DType: TensorFlow's element types. The enum values are TensorFlow's
DataType numbers, as in tfc.h's tfc_dtype; tfc computes in float32, float64,
int32, uint8, int64 and bool, and the other names exist so programs that
mention them import (using one is an error naming it)."""

import builtins as _builtins

import numpy as np


class DType(object):
    """An element type: tf.float32, tf.int64, ..."""
    __slots__ = ("_enum", "_name", "_np")

    def __init__(self, enum, name, np_type):
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
        return self

    @property
    def is_floating(self):
        return self._name in ("float16", "float32", "float64", "bfloat16")

    @property
    def is_integer(self):
        return self._name in ("int8", "int16", "int32", "int64", "uint8", "uint16")

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
        return as_dtype(other) is self

    def __eq__(self, other):
        if other is None:
            return False
        try:
            return as_dtype(other) is self
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
half = float16
double = float64

_ALL = [float16, float32, float64, int32, uint8, int16, int8, string, complex64, int64, bool,
        uint16, complex128, resource]
_SUPPORTED = {1, 2, 3, 4, 7, 9, 10, 17, 20}
_BY_ENUM = {d._enum: d for d in _ALL}
_BY_NAME = {d._name: d for d in _ALL}
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
