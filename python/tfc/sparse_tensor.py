"""tf.SparseTensor and tf.SparseTensorValue: what tf.string_split,
tf.parse_example's VarLenFeatures and tf.sparse_placeholder-free programs
produce. A SparseTensor is three tensors (indices [n, rank] int64, values
[n], dense_shape [rank] int64); Session.run fetches it as a
SparseTensorValue of three numpy arrays."""

import collections

from . import dtypes
from .framework import convert_to_tensor

SparseTensorValue = collections.namedtuple("SparseTensorValue",
                                           ["indices", "values", "dense_shape"])


class SparseTensor(object):
    """tf.SparseTensor(indices, values, dense_shape)."""

    def __init__(self, indices, values, dense_shape=None, shape=None):
        if dense_shape is None:
            dense_shape = shape
        self._indices = convert_to_tensor(indices, dtype=dtypes.int64)
        self._values = convert_to_tensor(values)
        self._dense_shape = convert_to_tensor(dense_shape, dtype=dtypes.int64)

    @property
    def indices(self):
        return self._indices

    @property
    def values(self):
        return self._values

    @property
    def dense_shape(self):
        return self._dense_shape

    shape = dense_shape

    @property
    def dtype(self):
        return self._values.dtype

    @property
    def graph(self):
        return self._values.graph

    @property
    def op(self):
        return self._values.op

    def get_shape(self):
        from .tensor_shape import TensorShape
        dims = self._dense_shape.get_shape().as_list()
        return TensorShape([None] * dims[0] if dims and dims[0] is not None else None)

    def eval(self, feed_dict=None, session=None):
        from .session import _session_for
        return _session_for(session, self.graph).run(self, feed_dict)

    def __repr__(self):
        return "SparseTensor(indices=%r, values=%r, dense_shape=%r)" % (
            self._indices, self._values, self._dense_shape)
