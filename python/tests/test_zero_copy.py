"""Zero-copy feeds: a large C-contiguous array of the placeholder's dtype is
lent to tfc (tfc_tensor_from_borrowed), kept alive until tfc releases it,
and never written by tfc; fetches stay right."""

import ctypes
import gc
import sys

import numpy as np
import pytest

import tfc as tf
from tfc import session as session_mod
from tfc._lib import lib

_data = lib.tfc_tensor_data
_data.restype = ctypes.c_void_p
_is_borrowed = lib.tfc_tensor_is_borrowed
_is_borrowed.restype = ctypes.c_int
_is_borrowed.argtypes = [ctypes.c_void_p]

BIG = (256, 64)  # 64 KiB of float32: over the size below which feeds are copied


def _feed_tensor(placeholder, value):
    """The tfc tensor Session.run would hand tfc for `value` (the caller frees it)."""
    t = session_mod._Feed(placeholder)(value)
    gc.collect()  # the converter (a cycle) held the array as its last value
    assert t
    return t


def test_feed_is_the_arrays_memory():
    x = tf.placeholder(tf.float32, [None, 64])
    arr = np.random.RandomState(0).randn(*BIG).astype(np.float32)
    before = sys.getrefcount(arr)
    t = _feed_tensor(x, arr)
    try:
        assert _data(t) == arr.__array_interface__["data"][0]
        assert _is_borrowed(t) == 1
        assert session_mod._borrowed_arrays() == 1
        assert sys.getrefcount(arr) == before + 1  # kept alive by the loan
    finally:
        lib.tfc_tensor_free(t)
    assert session_mod._borrowed_arrays() == 0
    assert sys.getrefcount(arr) == before


def test_what_is_copied():
    x = tf.placeholder(tf.float32, [None, 64])
    small = np.ones((2, 64), np.float32)
    big64 = np.ones(BIG, np.float64)               # converted to float32: a new array
    strided = np.ones((512, 64), np.float32)[::2]  # not C-contiguous
    for v in (small, big64, strided):
        t = _feed_tensor(x, v)
        try:
            assert _data(t) != v.ctypes.data
        finally:
            lib.tfc_tensor_free(t)
    assert session_mod._borrowed_arrays() == 0


def test_kept_alive_until_released():
    # The array lent to a run is dropped by the caller at once; tfc still
    # reads it (the loan keeps it alive) and releases it after the run.
    x = tf.placeholder(tf.float32, BIG)
    y = tf.reduce_sum(tf.nn.relu(x) * 2.0)
    ref = np.random.RandomState(1).randn(*BIG).astype(np.float32)
    with tf.Session() as sess:
        got = sess.run(y, {x: ref.copy()})
    np.testing.assert_allclose(got, (np.maximum(ref, 0) * 2).sum(), rtol=1e-5)
    assert session_mod._borrowed_arrays() == 0


def test_ops_that_forward_their_input_leave_the_array_alone():
    # Relu/Tanh/Mul write over an input at its last use; fed directly,
    # reshaped, through identity or a queue, the feed is never written.
    x = tf.placeholder(tf.float32, BIG)
    q = tf.FIFOQueue(2, [tf.float32], shapes=[BIG])
    enq = q.enqueue([x])
    deq = tf.tanh(q.dequeue()) * 3.0
    outs = [tf.nn.relu(x), tf.reshape(x, [-1]) * 2.0, tf.tanh(tf.identity(x)),
            tf.nn.relu(tf.reshape(x, [-1])) * 2.0]
    arr = np.random.RandomState(2).randn(*BIG).astype(np.float32)
    orig = arr.copy()
    with tf.Session() as sess:
        r = sess.run(outs, {x: arr})
        np.testing.assert_array_equal(arr, orig)
        np.testing.assert_allclose(r[0], np.maximum(orig, 0))
        np.testing.assert_allclose(r[1], orig.reshape(-1) * 2)
        np.testing.assert_allclose(r[2], np.tanh(orig), rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(r[3], np.maximum(orig.reshape(-1), 0) * 2)
        sess.run(enq, {x: arr})
        assert session_mod._borrowed_arrays() == 1  # the queue holds it
        got = sess.run(deq)
        assert session_mod._borrowed_arrays() == 0
        np.testing.assert_array_equal(arr, orig)
        np.testing.assert_allclose(got, np.tanh(orig) * 3, rtol=1e-5, atol=1e-6)


def test_queued_feed_shares_the_buffer():
    # No copy was made: the element in the queue is the array's memory, as
    # with TensorFlow's own zero-copy feeds.
    x = tf.placeholder(tf.float32, BIG)
    q = tf.FIFOQueue(1, [tf.float32], shapes=[BIG])
    enq = q.enqueue([x])
    deq = q.dequeue()
    arr = np.zeros(BIG, np.float32)
    with tf.Session() as sess:
        sess.run(enq, {x: arr})
        arr[0, 0] = 42.0
        assert sess.run(deq)[0, 0] == 42.0
    assert session_mod._borrowed_arrays() == 0


def test_session_close_releases_queued_feeds():
    x = tf.placeholder(tf.float32, BIG)
    q = tf.FIFOQueue(2, [tf.float32], shapes=[BIG])
    enq = q.enqueue([x])
    sess = tf.Session()
    sess.run(enq, {x: np.ones(BIG, np.float32)})
    assert session_mod._borrowed_arrays() == 1
    sess.close()
    assert session_mod._borrowed_arrays() == 0


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int32, np.int64, np.uint8])
def test_fetches_of_borrowed_feeds_are_copies(dtype):
    x = tf.placeholder(tf.as_dtype(dtype), [None])
    arr = np.arange(40000).astype(dtype)
    with tf.Session() as sess:
        got = sess.run(x, {x: arr})
    assert got.ctypes.data != arr.ctypes.data
    np.testing.assert_array_equal(got, arr)
    assert session_mod._borrowed_arrays() == 0


def test_loans_reuse_their_semaphores():
    # A training loop lends a new batch every step: each loan takes a
    # semaphore from the pool and gives it back once tfc released the array.
    x = tf.placeholder(tf.float32, [None, 64])
    y = tf.reduce_sum(x)
    with tf.Session() as sess:
        for i in range(300):
            assert sess.run(y, {x: np.full(BIG, i % 3, np.float32)}) == (i % 3) * 256 * 64
            assert not session_mod._LOANS
    assert len(session_mod._FREE_SEMS) <= 64  # one block, reused, not 300 semaphores


@pytest.mark.parametrize("make", [
    lambda: np.arange(256 * 64, dtype=np.float32).reshape(BIG),
    lambda: np.arange(512 * 64, dtype=np.float32).reshape(512, 64)[256:],   # a view
    lambda: np.frombuffer(np.ones(BIG, np.float32).tobytes(), np.float32).reshape(BIG),  # read-only
])
def test_data_address_is_the_arrays(make):
    arr = make()
    assert session_mod._data_address(arr).value == arr.__array_interface__["data"][0]
    t = _feed_tensor(tf.placeholder(tf.float32, [None, 64]), arr)
    try:
        assert _data(t) == arr.__array_interface__["data"][0] and _is_borrowed(t) == 1
    finally:
        lib.tfc_tensor_free(t)
    assert session_mod._data_address(np.zeros((0, 64), np.float32)) is None


def test_training_step_path():
    # sess.run(train_op, feeds): the targets-only run path
    x = tf.placeholder(tf.float32, [None, 64])
    w = tf.Variable(tf.zeros([64]))
    step = tf.assign_add(w, tf.reduce_sum(x, 0)).op
    chk = tf.check_numerics(x, "bad", name="chk")
    batch = np.ones(BIG, np.float32)
    with tf.Session() as sess:
        sess.run(w.initializer)
        for _ in range(5):
            assert sess.run(step, {x: batch}) is None
        assert sess.run([step], {x: batch}) == [None]
        np.testing.assert_allclose(sess.run(w), np.full(64, 6 * 256.0))
        with pytest.raises(tf.errors.InvalidArgumentError) as e:
            sess.run(chk.op, {x: np.full(BIG, np.nan, np.float32)})
        assert e.value.op is chk.op
        sess.run(step, {x: batch})  # the session goes on
        np.testing.assert_allclose(sess.run(w), np.full(64, 7 * 256.0))
    assert session_mod._borrowed_arrays() == 0
