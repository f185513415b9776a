"""numpy in and out: feeds of any layout and Python values converted to the
placeholder's dtype, fetches as numpy arrays that own their memory."""

import gc

import numpy as np
import pytest

import tfc as tf


@pytest.mark.parametrize("dtype", [tf.float32, tf.float64, tf.int32, tf.int64, tf.uint8,
                                   tf.bool])
def test_round_trip_every_dtype(dtype):
    x = tf.placeholder(dtype, [None, 3])
    y = tf.identity(x)
    value = (np.arange(6).reshape(2, 3) % (2 if dtype == tf.bool else 200)).astype(
        dtype.as_numpy_dtype)
    with tf.Session() as sess:
        out = sess.run(y, {x: value})
    assert out.dtype == dtype.as_numpy_dtype and out.shape == (2, 3)
    np.testing.assert_array_equal(out, value)


def test_feeds_are_converted_to_the_placeholder_dtype():
    f = tf.placeholder(tf.float32, [2])
    i = tf.placeholder(tf.int64, [2])
    b = tf.placeholder(tf.bool, [])
    with tf.Session() as sess:
        out = sess.run([f, i, b], {f: np.array([0.1, 2.5]), i: [1, 2 ** 40], b: True})
    assert out[0].dtype == np.float32 and out[0][0] == np.float32(0.1) and out[0][1] == 2.5
    assert out[1].dtype == np.int64 and out[1][1] == 2 ** 40
    assert out[2] == np.bool_(True)


def test_any_memory_layout_is_fed_correctly():
    x = tf.placeholder(tf.float32, [None, None])
    y = x * 1.0
    base = np.arange(24, dtype=np.float32).reshape(4, 6)
    with tf.Session() as sess:
        for value in (base.T, base[::2, 1::2], np.asfortranarray(base), base[:, ::-1],
                      np.zeros((0, 5), np.float32)):
            np.testing.assert_array_equal(sess.run(y, {x: value}), value)


def test_the_same_array_fed_again_is_read_again():
    x = tf.placeholder(tf.float32, [3])
    y = tf.reduce_sum(x)
    a = np.array([1.0, 2.0, 3.0], np.float32)
    with tf.Session() as sess:
        assert sess.run(y, {x: a}) == 6.0
        a[0] = 10.0
        assert sess.run(y, {x: a}) == 15.0


def test_scalars_come_back_as_numpy_scalars():
    with tf.Session() as sess:
        v = sess.run(tf.constant(2.5))
        n = sess.run(tf.constant(7, tf.int64))
        p = tf.placeholder(tf.float32)  # unknown shape: the shape comes from the run
        s = sess.run(p * 2, {p: np.float32(1.5)})
    assert type(v) is np.float32 and v == 2.5
    assert type(n) is np.int64 and n == 7
    assert type(s) is np.float32 and s == 3.0


def test_fetches_are_copies_that_outlive_the_session():
    v = tf.Variable(np.arange(4, dtype=np.float32))
    big = tf.ones([1000, 1000])
    sess = tf.Session()
    sess.run(v.initializer)
    got = sess.run(v)
    got[0] = 99.0                      # writable, and not the variable's memory
    assert sess.run(v)[0] == 0.0
    b = sess.run(big)
    sess.close()
    del sess
    tf.reset_default_graph()
    gc.collect()
    assert b.flags.owndata and b.flags.writeable and b.sum() == 1e6
    assert got[0] == 99.0


def test_dynamic_shapes_are_read_from_the_result():
    x = tf.placeholder(tf.float32, None)
    y = tf.reshape(x, [-1, 2])
    with tf.Session() as sess:
        assert sess.run(y, {x: np.ones(6)}).shape == (3, 2)
        assert sess.run(y, {x: np.ones(2)}).shape == (1, 2)
        assert sess.run(tf.shape(y), {x: np.ones(8)}).tolist() == [4, 2]


def test_numpy_operands_in_operators():
    x = tf.constant([1.0, 2.0])
    a = np.array([3.0, 4.0])  # float64: converted to the tensor's float32
    with tf.Session() as sess:
        np.testing.assert_array_equal(sess.run(x + a), [4, 6])
        np.testing.assert_array_equal(sess.run(a * x), [3, 8])
        np.testing.assert_array_equal(sess.run(x - [1, 1]), [0, 1])


def test_a_tensor_is_not_a_feed_value():
    x = tf.placeholder(tf.float32, [])
    with tf.Session() as sess:
        with pytest.raises(TypeError, match="cannot be a tf.Tensor"):
            sess.run(x, {x: tf.constant(1.0)})
