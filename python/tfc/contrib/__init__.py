"""tf.contrib: the parts the talks use (tf.contrib.layers)."""

from . import layers  # noqa: F401
