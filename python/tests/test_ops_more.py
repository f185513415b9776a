"""The ops added after the first milestone, against numpy: indexing and
tf.strided_slice as one StridedSlice (tensor bounds, all masks, gradients),
tf.where with one argument and tf.boolean_mask, tf.nn.top_k and
tf.nn.in_top_k, tf.multinomial, tf.placeholder_with_default."""

import numpy as np
import pytest

import tfc as tf


def run(fetches, feed_dict=None):
    with tf.Session() as sess:
        return sess.run(fetches, feed_dict)


# ---------------------------------------------------------------------------
# indexing and tf.strided_slice
# ---------------------------------------------------------------------------

def _random_key(rng, shape):
    """A numpy basic-indexing key that numpy accepts for `shape`."""
    key, dim, ellipsis = [], 0, False
    for _ in range(rng.randint(0, len(shape) + 2)):
        r = rng.randint(100)
        if r < 12 and not ellipsis:
            key.append(Ellipsis)
            ellipsis = True
            continue
        if r < 22:
            key.append(None)
            continue
        if dim >= len(shape):
            break
        d = shape[dim]
        if r < 45 and d > 0:
            key.append(int(rng.randint(-d, d)))
        else:
            def bound():
                return None if rng.randint(4) == 0 else int(rng.randint(-d - 2, d + 3))
            step = None if rng.randint(3) == 0 else int(rng.choice([-3, -2, -1, 1, 2, 3]))
            key.append(slice(bound(), bound(), step))
        dim += 1
    if ellipsis:
        # dims taken by the ellipsis are not counted above: keep the key valid
        real = sum(1 for k in key if k is not None and k is not Ellipsis)
        if real > len(shape):
            key = [k for k in key if k is not Ellipsis]
    return tuple(key)


def test_indexing_matches_numpy_on_random_keys():
    rng = np.random.RandomState(5)
    for case in range(120):
        shape = tuple(int(d) for d in rng.randint(0, 5, size=rng.randint(0, 4)))
        x_np = rng.randint(-50, 50, size=shape).astype(np.float32)
        key = _random_key(rng, shape)
        try:
            want = x_np[key]
        except IndexError:
            continue
        x = tf.constant(x_np)
        p = tf.placeholder(tf.float32, None)  # unknown shape: bounds at run time
        got, got_p = run([x[key], p[key]], {p: x_np})
        np.testing.assert_array_equal(got, want, err_msg="%r %r" % (shape, key))
        np.testing.assert_array_equal(got_p, want, err_msg="%r %r" % (shape, key))
        assert x[key].get_shape().as_list() == list(want.shape)
        tf.reset_default_graph()


def test_indexing_is_one_strided_slice_named_as_tensorflow():
    x = tf.constant(np.arange(24, dtype=np.float32).reshape(2, 3, 4))
    y = x[0, 1:, ::-2]
    assert y.op.type == "StridedSlice" and y.op.name == "strided_slice"
    assert [t.op.name for t in y.op.inputs] == ["Const", "strided_slice/stack",
                                                  "strided_slice/stack_1",
                                                  "strided_slice/stack_2"]
    assert y.op.get_attr("shrink_axis_mask") == 1 and y.op.get_attr("end_mask") == 6
    y2 = x[..., tf.newaxis, 0]
    assert y2.op.name == "strided_slice_1" and y2.get_shape().as_list() == [2, 3, 1]
    assert y2.op.get_attr("ellipsis_mask") == 1 and y2.op.get_attr("new_axis_mask") == 2
    np.testing.assert_array_equal(run(y), np.arange(24).reshape(2, 3, 4)[0, 1:, ::-2])


def test_indexing_with_tensors():
    x_np = np.arange(30, dtype=np.float32).reshape(5, 6)
    x = tf.constant(x_np)
    i = tf.placeholder(tf.int32, [])
    j = tf.placeholder(tf.int64, [])
    outs = run([x[i], x[:, i], x[i:j], x[1:, j:], x[::i], x[-i]], {i: 2, j: 4})
    want = [x_np[2], x_np[:, 2], x_np[2:4], x_np[1:, 4:], x_np[::2], x_np[-2]]
    for g_, w in zip(outs, want):
        np.testing.assert_array_equal(g_, w)
    assert x[i].get_shape().as_list() == [6]
    with pytest.raises(TypeError, match="valid indices"):
        x[tf.constant(1.5)]
    with pytest.raises(TypeError, match="valid indices"):
        x["a"]


def test_strided_slice_with_tensor_bounds_and_masks():
    x_np = np.arange(60, dtype=np.int32).reshape(3, 4, 5)
    x = tf.constant(x_np)
    b = tf.placeholder(tf.int32, [None])
    e = tf.placeholder(tf.int32, [None])
    s = tf.placeholder(tf.int32, [None])
    y = tf.strided_slice(x, b, e, s, begin_mask=1, end_mask=5, shrink_axis_mask=2)
    got = run(y, {b: [0, 2, 1], e: [2, 3, 0], s: [2, 1, 2]})
    np.testing.assert_array_equal(got, x_np[::2, 2, 1::2])
    np.testing.assert_array_equal(run(tf.strided_slice(x, [1], [-1])), x_np[1:-1])
    z = tf.strided_slice(x, [0, 1], [0, 2], [1, 1], ellipsis_mask=1, new_axis_mask=0)
    np.testing.assert_array_equal(run(z), x_np[..., 1:2])
    bb = tf.constant([0], tf.int64)
    np.testing.assert_array_equal(run(tf.strided_slice(x, bb, bb + 2)), x_np[0:2])
    assert tf.strided_slice(x, [0], [1], name="cut").op.name == "cut"


def test_indexing_gradient():
    x_np = np.random.RandomState(1).randn(4, 5)
    x = tf.placeholder(tf.float64, [4, 5])
    w = np.random.RandomState(2).randn(3, 2)
    i = tf.placeholder(tf.int32, [])
    y = tf.reduce_sum(x[1:, i::-2] * w)
    (dx,) = tf.gradients(y, [x])
    assert dx.op.type == "StridedSliceGrad"
    got = run(dx, {x: x_np, i: 3})
    want = np.zeros((4, 5))
    want[1:, 3::-2] = w
    np.testing.assert_allclose(got, want)
    v = tf.Variable(np.ones((2, 3)))
    loss = tf.reduce_sum(v[0] * 3.0) + tf.reduce_sum(v[:, -1])
    (dv,) = tf.gradients(loss, [v])
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        np.testing.assert_allclose(sess.run(dv), [[3, 3, 4], [0, 0, 1]])


def test_indexing_errors():
    x = tf.constant(np.zeros((2, 3), np.float32))
    with pytest.raises(ValueError, match="Index out of range using input dim 2"):
        x[0, 0, 0]
    with pytest.raises(ValueError, match="slice index 5 of dimension 1 out of bounds"):
        x[:, 5]
    with pytest.raises(tf.errors.InvalidArgumentError, match="Multiple ellipses"):
        x[..., ...]
    i = tf.placeholder(tf.int32, [])
    y = x[i]
    with tf.Session() as sess:
        with pytest.raises(tf.errors.InvalidArgumentError, match="out of bounds") as info:
            sess.run(y, {i: 2})
        assert "strided_slice" in str(info.value)
        np.testing.assert_array_equal(sess.run(y, {i: -1}), [0, 0, 0])


# ---------------------------------------------------------------------------
# tf.where, tf.boolean_mask
# ---------------------------------------------------------------------------

def test_where_one_argument():
    rng = np.random.RandomState(3)
    for shape in [(), (0,), (7,), (3, 4), (2, 3, 2)]:
        c_np = rng.rand(*shape) > 0.5
        got = run(tf.where(tf.constant(c_np)))
        assert got.dtype == np.int64
        np.testing.assert_array_equal(got, np.argwhere(c_np))
    f = np.array([[0.0, -0.0, 2.5], [np.nan, 0.0, -1.0]], np.float32)
    np.testing.assert_array_equal(run(tf.where(f)), np.argwhere(f != 0))
    c = tf.placeholder(tf.bool, [None, 2])
    w = tf.where(c)
    assert w.op.type == "Where" and w.get_shape().as_list() == [None, 2]
    np.testing.assert_array_equal(run(w, {c: [[True, False], [True, True]]}),
                                  [[0, 0], [1, 0], [1, 1]])
    # three arguments stay TensorFlow 1's Select
    np.testing.assert_array_equal(run(tf.where([True, False], [1, 2], [3, 4])), [1, 4])
    with pytest.raises(ValueError):
        tf.where([True], x=[1])


def test_boolean_mask():
    rng = np.random.RandomState(4)
    t = rng.randn(3, 4, 2).astype(np.float32)
    m1 = rng.rand(3) > 0.4
    m2 = rng.rand(3, 4) > 0.5
    m3 = rng.rand(4) > 0.5
    got = run([tf.boolean_mask(t, m1), tf.boolean_mask(t, m2), tf.boolean_mask(t, m3, axis=1)])
    np.testing.assert_array_equal(got[0], t[m1])
    np.testing.assert_array_equal(got[1], t[m2])
    np.testing.assert_array_equal(got[2], t[:, m3])
    p = tf.placeholder(tf.float32, [None, 4, 2])
    mp = tf.placeholder(tf.bool, [None])
    np.testing.assert_array_equal(run(tf.boolean_mask(p, mp), {p: t, mp: m1}), t[m1])
    with pytest.raises(ValueError, match="mask cannot be scalar"):
        tf.boolean_mask(t, True)


# ---------------------------------------------------------------------------
# tf.nn.top_k, tf.nn.in_top_k
# ---------------------------------------------------------------------------

def test_top_k_matches_a_stable_sort():
    rng = np.random.RandomState(6)
    for dtype in (np.float32, np.float64, np.int32, np.int64, np.uint8):
        x_np = rng.randint(0, 6, size=(3, 4, 9)).astype(dtype)  # many ties
        for k in (0, 1, 4, 9):
            res = tf.nn.top_k(tf.constant(x_np), k=k)
            values, indices = run([res.values, res.indices])
            order = np.argsort(-x_np.astype(np.float64), axis=-1, kind="stable")[..., :k]
            np.testing.assert_array_equal(indices, order)
            np.testing.assert_array_equal(values, np.take_along_axis(x_np, order, -1))
            assert values.dtype == dtype and indices.dtype == np.int32
    res = tf.nn.top_k([1.0, 3.0, 2.0], 2)
    assert res.values.op.type == "TopKV2" and res[0] is res.values
    k = tf.placeholder(tf.int32, [])
    v = tf.nn.top_k(tf.constant([[5, 1, 7]]), k).values
    assert v.get_shape().as_list() == [1, None]
    np.testing.assert_array_equal(run(v, {k: 2}), [[7, 5]])


def test_top_k_gradient_and_errors():
    x_np = np.random.RandomState(7).permutation(12).reshape(3, 4).astype(np.float64)
    x = tf.placeholder(tf.float64, [3, 4])
    w = np.arange(6, dtype=np.float64).reshape(3, 2) + 1
    (dx,) = tf.gradients(tf.reduce_sum(tf.nn.top_k(x, 2).values * w), [x])
    got = run(dx, {x: x_np})
    want = np.zeros((3, 4))
    idx = np.argsort(-x_np, axis=1)[:, :2]
    for r in range(3):
        want[r, idx[r]] = w[r]
    np.testing.assert_allclose(got, want)
    with pytest.raises(ValueError, match="at least k columns. Had 4, needed 5"):
        tf.nn.top_k(x, 5)
    k = tf.placeholder(tf.int32, [])
    y = tf.nn.top_k(x, k).values
    with pytest.raises(tf.errors.InvalidArgumentError, match="TopKV2"):
        run(y, {x: x_np, k: 6})


def test_in_top_k():
    rng = np.random.RandomState(8)
    pred = np.floor(rng.rand(20, 6) * 4).astype(np.float32)
    pred[3, 2] = np.inf
    targets = rng.randint(0, 6, size=20)
    targets[5] = 9
    for k in (0, 1, 2, 6):
        got = run(tf.nn.in_top_k(pred, targets.astype(np.int32), k))
        want = []
        for b in range(20):
            t = targets[b]
            ok = 0 <= t < 6 and np.all(np.isfinite(pred[b]))
            want.append(bool(ok and np.sum(pred[b] > pred[b, t]) < k))
        np.testing.assert_array_equal(got, want)
    tf.reset_default_graph()
    r = tf.nn.in_top_k(tf.constant(pred), tf.constant(targets, tf.int64), 3)
    assert r.op.type == "InTopKV2" and r.op.name == "in_top_k/InTopKV2"
    assert r.dtype == tf.bool


# ---------------------------------------------------------------------------
# tf.multinomial, tf.placeholder_with_default
# ---------------------------------------------------------------------------

def test_multinomial():
    with np.errstate(divide="ignore"):  # log(0) = -inf: never drawn
        logits = np.log(np.array([[0.1, 0.2, 0.3, 0.4], [0.5, 0.0, 0.5, 0.0]]))
    tf.set_random_seed(3)
    s = tf.multinomial(tf.constant(logits, tf.float32), 20000)
    assert s.op.type == "Multinomial" and s.dtype == tf.int64
    assert s.get_shape().as_list() == [2, 20000]
    with tf.Session() as sess:
        a = sess.run(s)
        b = sess.run(s)
    with tf.Session() as sess:
        a2 = sess.run(s)
    np.testing.assert_array_equal(a, a2)  # the graph seed repeats across sessions
    assert not np.array_equal(a, b)  # each run draws anew
    freq = [np.bincount(row, minlength=4) / 20000.0 for row in a]
    np.testing.assert_allclose(freq[0], [0.1, 0.2, 0.3, 0.4], atol=0.015)
    np.testing.assert_allclose(freq[1], [0.5, 0.0, 0.5, 0.0], atol=0.015)
    assert freq[1][1] == 0 and freq[1][3] == 0
    s32 = tf.multinomial(tf.constant(logits), 3, seed=1, output_dtype=tf.int32)
    assert run(s32).dtype == np.int32
    with pytest.raises(ValueError, match="logits should be a matrix"):
        tf.multinomial(tf.constant([1.0, 2.0]), 2)


def test_placeholder_with_default():
    d = np.arange(6, dtype=np.float32).reshape(2, 3)
    p = tf.placeholder_with_default(d, [None, 3])
    assert p.op.type == "PlaceholderWithDefault" and p.get_shape().as_list() == [None, 3]
    y = tf.reduce_sum(p, 1)
    np.testing.assert_array_equal(run(y), [3, 12])
    np.testing.assert_array_equal(run(y, {p: np.ones((4, 3))}), [3, 3, 3, 3])
    keep = tf.placeholder_with_default(1.0, [], name="keep_prob")
    assert keep.name == "keep_prob:0"
    assert run(keep) == 1.0 and run(keep, {"keep_prob:0": 0.5}) == 0.5
    x = tf.placeholder(tf.float64, [2])
    (dx,) = tf.gradients(tf.reduce_sum(tf.placeholder_with_default(x * 3, [2])), [x])
    np.testing.assert_array_equal(run(dx, {x: [1, 2]}), [3, 3])
    with pytest.raises(ValueError, match="not compatible"):
        tf.placeholder_with_default(d, [3, 3])
    u = tf.placeholder_with_default(d, None)
    assert u.get_shape().ndims is None
    np.testing.assert_array_equal(run(u, {u: [1.0]}), [1.0])
