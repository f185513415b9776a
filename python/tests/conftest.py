"""Shared setup: import the package from this source tree (python/), and
give every test a fresh default graph and no default session."""

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import tfc as tf  # noqa: E402


@pytest.fixture(autouse=True)
def fresh_graph():
    from tfc import session
    session._default_session.stack[:] = []
    tf.reset_default_graph()
    yield
    session._default_session.stack[:] = []


FASHION_MNIST = os.environ.get("TFC_MNIST_DIR", "/usr/share/datasets/fashion-mnist")
