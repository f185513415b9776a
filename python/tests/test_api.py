"""TensorFlow 1.x's API over tfc: graphs and names, sessions and fetch
structures, operators and indexing, variables and scopes, control flow,
gradients, optimizers, savers and summaries."""

import collections
import os

import numpy as np
import pytest

import tfc as tf


def run(fetches, feed_dict=None):
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        return sess.run(fetches, feed_dict)


# ---------------------------------------------------------------------------
# graphs, names, scopes
# ---------------------------------------------------------------------------

def test_default_graph_and_as_default():
    g = tf.Graph()
    assert tf.get_default_graph() is not g
    with g.as_default():
        c = tf.constant(1.0)
        assert tf.get_default_graph() is g
    assert c.graph is g and c.op.graph is g
    assert tf.get_default_graph() is not g
    old = tf.get_default_graph()
    tf.reset_default_graph()
    assert tf.get_default_graph() is not old


def test_names_are_unique_and_scoped():
    a = tf.constant(1.0, name="a")
    a1 = tf.constant(2.0, name="a")
    assert a.name == "a:0" and a1.name == "a_1:0"
    with tf.name_scope("layer"):
        m = tf.add(a, a1)
        with tf.name_scope("inner") as scope:
            n = tf.multiply(m, 2.0, name="times_two")
            assert scope == "layer/inner/"
    with tf.name_scope("layer"):
        k = tf.add(a, a1)
    assert m.op.name == "layer/Add" and n.op.name == "layer/inner/times_two"
    assert k.op.name == "layer_1/Add"
    assert (a + a1).op.name == "add" and (a * 2).op.name == "mul"
    g = tf.get_default_graph()
    assert g.get_operation_by_name("layer/inner/times_two") is n.op
    assert g.get_tensor_by_name("layer/Add:0") is m
    assert g.as_graph_element("a_1:0") is a1


def test_operation_and_tensor_properties():
    x = tf.placeholder(tf.float32, [None, 3], name="x")
    y = tf.nn.relu(x, name="r")
    assert y.op.type == "Relu" and y.op.inputs == [x] and y.op.outputs == [y]
    assert y.dtype == tf.float32 and y.value_index == 0
    assert y.get_shape().as_list() == [None, 3] and y.shape.ndims == 2
    assert str(y.shape) == "(?, 3)" and repr(y) == 'Tensor("r:0", shape=(?, 3), dtype=float32)'
    assert y.op.control_inputs == [] and x.consumers() == [y.op]
    with pytest.raises(TypeError):
        bool(y)
    with tf.control_dependencies([y]):
        z = tf.identity(x)
    assert z.op.control_inputs == [y.op]


def test_tensor_shape_and_dimension():
    s = tf.TensorShape([2, None, 3])
    assert s.ndims == 3 and s[0].value == 2 and s[1].value is None
    assert not s.is_fully_defined() and s.is_compatible_with([2, 7, 3])
    assert not s.is_compatible_with([2, 7])
    assert s.merge_with([2, 5, 3]).as_list() == [2, 5, 3]
    assert tf.TensorShape(None).ndims is None
    assert tf.Dimension(3) + 2 == tf.Dimension(5)
    assert repr(tf.TensorShape([1, 2])) == "TensorShape([Dimension(1), Dimension(2)])"
    assert tf.TensorShape([4, 5]).num_elements() == 20


def test_dtypes():
    assert tf.as_dtype("float") is tf.float32 and tf.as_dtype(np.int64) is tf.int64
    assert tf.float32.as_numpy_dtype is np.float32 and tf.int32.is_integer
    assert tf.float32 == "float32" and tf.as_dtype(3) is tf.int32
    assert tf.constant(1.5).dtype == tf.float32 and tf.constant(2).dtype == tf.int32
    assert tf.constant(np.float64(1)).dtype == tf.float64
    assert tf.constant(True).dtype == tf.bool
    assert tf.constant([1, 2], dtype=tf.int64).dtype == tf.int64
    with pytest.raises(TypeError):
        tf.constant(2.5, dtype=tf.int32)


# ---------------------------------------------------------------------------
# sessions, fetches, feeds
# ---------------------------------------------------------------------------

def test_fetch_structures():
    a = tf.constant(1.0, name="a")
    b = tf.constant([2, 3], name="b")
    noop = tf.no_op(name="nothing")
    Pair = collections.namedtuple("Pair", "first second")
    with tf.Session() as sess:
        out = sess.run({"x": [a, (b, noop)], "y": Pair(a, "b:0"), "z": "a:0"})
        assert out["x"][0] == 1.0 and isinstance(out["x"][1], tuple)
        np.testing.assert_array_equal(out["x"][1][0], [2, 3])
        assert out["x"][1][1] is None
        assert isinstance(out["y"], Pair) and out["y"].first == 1.0
        np.testing.assert_array_equal(out["y"].second, [2, 3])
        assert out["z"] == 1.0
        assert sess.run("nothing") is None
        od = sess.run(collections.OrderedDict([("q", a), ("p", b)]))
        assert list(od) == ["q", "p"]
        assert sess.run([a, a])[0] == 1.0
        with pytest.raises(TypeError):
            sess.run(None)
        with pytest.raises(TypeError):
            sess.run(3)


def test_feeds_by_tensor_name_and_value_kinds():
    x = tf.placeholder(tf.float32, [None], name="x")
    n = tf.placeholder(tf.int32, [], name="n")
    y = x * tf.cast(n, tf.float32)
    with tf.Session() as sess:
        np.testing.assert_array_equal(sess.run(y, {x: [1, 2], n: 3}), [3, 6])
        np.testing.assert_array_equal(sess.run(y, {"x:0": np.array([1.5]), "n:0": 2}), [3])
        np.testing.assert_array_equal(sess.run(y, {x: np.arange(3.0)[::-1], n: np.int32(1)}),
                                      [2, 1, 0])
        # any tensor can be fed, not only placeholders
        np.testing.assert_array_equal(sess.run(y, {y: [7.0]}), [7])
        with pytest.raises(ValueError, match="Cannot feed value of shape"):
            sess.run(y, {x: [[1.0]], n: 1})
        with pytest.raises(TypeError):
            sess.run(y, {x: [1.0], n: 1.5})


def test_interactive_session_eval_and_run():
    sess = tf.InteractiveSession()
    v = tf.Variable(3.0)
    v.initializer.run()
    assert v.eval() == 3.0
    tf.assign(v, 5.0).op.run()
    assert (v * 2).eval() == 10.0
    assert tf.get_default_session() is sess
    sess.close()
    assert tf.get_default_session() is None
    with pytest.raises(ValueError, match="No default session"):
        v.eval()


def test_session_with_graph_and_config():
    g = tf.Graph()
    with g.as_default():
        c = tf.constant(4.0) * 2
    config = tf.ConfigProto(intra_op_parallelism_threads=1, inter_op_parallelism_threads=1)
    with tf.Session(graph=g, config=config) as sess:
        assert sess.graph is g and sess.run(c) == 8.0
        assert tf.get_default_graph() is g
    with pytest.raises(RuntimeError):
        sess.run(c)
    with pytest.raises(ValueError):
        with tf.Session() as other:
            other.run(c)
    call = tf.Session(graph=g).make_callable(c)
    assert call() == 8.0


def test_two_sessions_have_separate_variables():
    v = tf.Variable(1.0)
    inc = tf.assign_add(v, 1.0)
    s1, s2 = tf.Session(), tf.Session()
    s1.run(v.initializer)
    s2.run(v.initializer)
    s1.run(inc)
    assert s1.run(v) == 2.0 and s2.run(v) == 1.0


# ---------------------------------------------------------------------------
# operators and indexing
# ---------------------------------------------------------------------------

def test_operators_match_numpy():
    a_np = np.array([[1.5, -2.0, 3.0], [4.0, 5.0, -6.5]], np.float32)
    b_np = np.array([[2.0, 3.0, -1.0], [1.0, 2.0, 4.0]], np.float32)
    a, b = tf.constant(a_np), tf.constant(b_np)
    got = run([a + b, a - b, a * b, a / b, a // b, a % b, a ** 2, -a, abs(a), a @ tf.transpose(b),
               a < b, a <= b, a > b, a >= b, 1 - a, 2 / b, 3 + a])
    want = [a_np + b_np, a_np - b_np, a_np * b_np, a_np / b_np, a_np // b_np, a_np % b_np,
            a_np ** 2, -a_np, abs(a_np), a_np @ b_np.T, a_np < b_np, a_np <= b_np,
            a_np > b_np, a_np >= b_np, 1 - a_np, 2 / b_np, 3 + a_np]
    for g_, w in zip(got, want):
        np.testing.assert_allclose(g_, w, rtol=1e-6)
    i = tf.constant([7, -7])
    np.testing.assert_array_equal(run([i // 2, i % 3]), [[3, -4], [1, 2]])
    assert run(i / 2).dtype == np.float64
    t, f = tf.constant([True, False]), tf.constant([True, True])
    np.testing.assert_array_equal(run([t & f, t | f, ~t, t ^ f]),
                                  [[True, False], [True, True], [False, True], [False, True]])


def test_indexing_has_strided_slice_semantics():
    x_np = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    x = tf.constant(x_np)
    keys = [0, -1, (1, 2), (slice(None), 1), (Ellipsis, 2), (0, slice(1, None)),
            (slice(None), slice(None, None, -1)), (1, slice(None), slice(0, 4, 2)),
            (None, 0), (0, None, slice(None), 1), (slice(-2, None),), (1, -1, -1),
            (slice(None), slice(5, 9))]
    got = run([x[k] for k in keys])
    for k, g_ in zip(keys, got):
        np.testing.assert_array_equal(g_, x_np[k], err_msg=repr(k))
    p = tf.placeholder(tf.float32, [None, 4])
    np.testing.assert_array_equal(run(p[:, 1:3], {p: x_np[0]}), x_np[0][:, 1:3])
    np.testing.assert_array_equal(run(tf.strided_slice(x, [0, 1], [2, 3], [1, 1])),
                                  x_np[0:2, 1:3])
    with pytest.raises(ValueError):
        x[0, 0, 0, 0]


# ---------------------------------------------------------------------------
# array and math ops
# ---------------------------------------------------------------------------

def test_array_ops():
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    t = tf.constant(a)
    outs = run([tf.reshape(t, [3, 2]), tf.transpose(t), tf.concat([t, t], 0),
                tf.concat(1, [t, t]), tf.stack([t, t], axis=1), tf.expand_dims(t, 0),
                tf.squeeze(tf.expand_dims(t, 0)), tf.tile(t, [2, 1]), tf.shape(t), tf.rank(t),
                tf.size(t), tf.slice(t, [0, 1], [2, 2]), tf.gather(t, [1, 0]),
                tf.one_hot([0, 2], 3), tf.range(5), tf.fill([2, 2], 7.0), tf.zeros_like(t),
                tf.ones([2], tf.int32), tf.pad(t, [[1, 0], [0, 1]]), tf.identity(t)])
    want = [a.reshape(3, 2), a.T, np.concatenate([a, a], 0), np.concatenate([a, a], 1),
            np.stack([a, a], 1), a[None], a, np.tile(a, [2, 1]), [2, 3], 2, 6, a[:, 1:3],
            a[[1, 0]], np.eye(3)[[0, 2]], np.arange(5), np.full((2, 2), 7), np.zeros_like(a),
            [1, 1], np.pad(a, [[1, 0], [0, 1]]), a]
    for g_, w in zip(outs, want):
        np.testing.assert_allclose(g_, w)
    parts = run(tf.split(t, 3, axis=1))
    assert len(parts) == 3 and parts[2].tolist() == [[2], [5]]
    parts = run(tf.split(1, 3, t))  # pre-1.0 order
    assert parts[0].tolist() == [[0], [3]]
    sizes = run(tf.split(t, [1, 2], 1))
    assert sizes[1].tolist() == [[1, 2], [4, 5]]
    u = run(tf.unstack(t))
    assert u[1].tolist() == [3, 4, 5]


def test_math_ops_and_reductions():
    a = np.array([[1.0, 4.0], [9.0, 16.0]], np.float32)
    t = tf.constant(a)
    outs = run([tf.sqrt(t), tf.square(t), tf.exp(tf.log(t)), tf.reduce_sum(t),
                tf.reduce_sum(t, 1), tf.reduce_mean(t, axis=0, keep_dims=True),
                tf.reduce_max(t), tf.reduce_min(t, 1), tf.reduce_prod(t), tf.argmax(t, 1),
                tf.argmin(t, 0), tf.maximum(t, 5.0), tf.minimum(t, 5.0), tf.add_n([t, t, t]),
                tf.cast(t, tf.int32), tf.sign(-t), tf.rsqrt(t), tf.reciprocal(t),
                tf.squared_difference(t, 1.0), tf.where(t > 5, t, -t), tf.floor(t / 3),
                tf.reduce_all(t > 0), tf.reduce_any(t > 10), tf.tanh(t), tf.sigmoid(t)])
    want = [np.sqrt(a), a ** 2, a, a.sum(), a.sum(1), a.mean(0, keepdims=True), 16, a.min(1),
            a.prod(), [1, 1], [0, 0], np.maximum(a, 5), np.minimum(a, 5), 3 * a,
            a.astype(np.int32), -np.ones_like(a), 1 / np.sqrt(a), 1 / a, (a - 1) ** 2,
            np.where(a > 5, a, -a), np.floor(a / 3), True, True, np.tanh(a),
            1 / (1 + np.exp(-a))]
    for g_, w in zip(outs, want):
        np.testing.assert_allclose(g_, w, rtol=1e-5)


def test_nn_ops():
    rng = np.random.RandomState(0)
    x = rng.randn(4, 5).astype(np.float32)
    labels = np.eye(5, dtype=np.float32)[[0, 3, 1, 4]]
    t = tf.constant(x)
    sm = np.exp(x) / np.exp(x).sum(1, keepdims=True)
    outs = run([tf.nn.relu(t), tf.nn.softmax(t), tf.nn.log_softmax(t), tf.nn.elu(t),
                tf.nn.softplus(t), tf.nn.bias_add(t, tf.ones([5])),
                tf.nn.softmax_cross_entropy_with_logits(labels=labels, logits=t),
                tf.nn.sparse_softmax_cross_entropy_with_logits(labels=[0, 3, 1, 4], logits=t),
                tf.nn.sigmoid_cross_entropy_with_logits(labels=labels, logits=t),
                tf.nn.l2_loss(t), tf.nn.dropout(t, 1.0), tf.nn.relu6(t * 10),
                tf.nn.leaky_relu(t, 0.1)])
    xent = -(labels * np.log(sm)).sum(1)
    want = [np.maximum(x, 0), sm, np.log(sm), np.where(x > 0, x, np.exp(x) - 1),
            np.log1p(np.exp(x)), x + 1, xent, xent,
            np.maximum(x, 0) - x * labels + np.log1p(np.exp(-abs(x))), (x ** 2).sum() / 2, x,
            np.clip(x * 10, 0, 6), np.where(x > 0, x, 0.1 * x)]
    for g_, w in zip(outs, want):
        np.testing.assert_allclose(g_, w, rtol=1e-4, atol=1e-6)
    img = rng.rand(1, 4, 4, 1).astype(np.float32)
    pooled = run(tf.nn.max_pool(img, [1, 2, 2, 1], [1, 2, 2, 1], "VALID"))
    np.testing.assert_allclose(pooled[0, :, :, 0], img[0, :, :, 0].reshape(2, 2, 2, 2)
                               .max(axis=(1, 3)))
    mean, var = run(tf.nn.moments(tf.constant(x), [0]))
    np.testing.assert_allclose(mean, x.mean(0), rtol=1e-5)
    np.testing.assert_allclose(var, x.var(0), rtol=1e-4)
    emb = run(tf.nn.embedding_lookup(tf.constant(x), tf.constant([3, 0])))
    np.testing.assert_array_equal(emb, x[[3, 0]])


def test_random_ops_follow_the_graph_seed():
    def draw():
        tf.reset_default_graph()
        tf.set_random_seed(42)
        r = [tf.random_normal([100]), tf.truncated_normal([100], stddev=2.0),
             tf.random_uniform([100], -1, 1), tf.random_shuffle(tf.range(10))]
        return run(r)
    a, b = draw(), draw()
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)
    assert abs(a[0].mean()) < 0.35 and np.abs(a[1]).max() <= 4.0
    assert a[2].min() >= -1 and a[2].max() < 1
    assert sorted(a[3].tolist()) == list(range(10))


# ---------------------------------------------------------------------------
# variables and scopes
# ---------------------------------------------------------------------------

def test_variable_api():
    v = tf.Variable([1.0, 2.0], name="v")
    w = tf.Variable(lambda: tf.ones([2]) * 3, name="w")
    assert v.name == "v:0" and v.op.name == "v" and v.initializer.name == "v/Assign"
    assert v.get_shape().as_list() == [2] and v.dtype == tf.float32
    assert repr(v) == "<tf.Variable 'v:0' shape=(2,) dtype=float32_ref>"
    u = v + w
    with tf.Session() as sess:
        sess.run(tf.variables_initializer([v, w]))
        np.testing.assert_array_equal(sess.run(u), [4, 5])
        sess.run(v.assign([5.0, 6.0]))
        sess.run(v.assign_add([1.0, 1.0]))
        np.testing.assert_array_equal(sess.run(v), [6, 7])
        v.load([0.5, 0.25], sess)
        np.testing.assert_array_equal(v.eval(sess), [0.5, 0.25])
    assert set(tf.global_variables()) == {v, w}
    k = tf.Variable(0, trainable=False, name="k")
    assert k not in tf.trainable_variables() and k in tf.global_variables()


def test_get_variable_and_variable_scope():
    with tf.variable_scope("model", initializer=tf.constant_initializer(0.5)):
        a = tf.get_variable("a", [2, 3])
        b = tf.get_variable("b", [3], initializer=tf.zeros_initializer())
        h = tf.add(a, b)
    assert a.name == "model/a:0" and h.op.name == "model/Add"
    with pytest.raises(ValueError, match="already exists"):
        with tf.variable_scope("model"):
            tf.get_variable("a", [2, 3])
    with tf.variable_scope("model", reuse=True):
        a2 = tf.get_variable("a")
        k = tf.add(a2, 1.0)
    assert a2 is a and k.op.name == "model_2/Add"
    with pytest.raises(ValueError, match="does not exist"):
        with tf.variable_scope("model", reuse=True):
            tf.get_variable("zzz", [1])
    with tf.variable_scope("model") as scope:
        scope.reuse_variables()
        assert tf.get_variable("b") is b
    with tf.variable_scope("auto", reuse=tf.AUTO_REUSE):
        c1 = tf.get_variable("c", [1])
    with tf.variable_scope("auto", reuse=tf.AUTO_REUSE):
        c2 = tf.get_variable("c", [1])
    assert c1 is c2
    with tf.variable_scope(None, default_name="layer"):
        d = tf.get_variable("w", [1])
    with tf.variable_scope(None, default_name="layer"):
        e = tf.get_variable("w", [1])
    assert d.name == "layer/w:0" and e.name == "layer_1/w:0"
    v = run([a, b])
    np.testing.assert_array_equal(v[0], np.full((2, 3), 0.5))
    np.testing.assert_array_equal(v[1], np.zeros(3))


def test_initializers():
    g = tf.get_variable("g", [100, 50], initializer=tf.glorot_uniform_initializer(seed=1))
    n = tf.get_variable("n", [1000], initializer=tf.random_normal_initializer(1.0, 0.1, seed=2))
    c = tf.get_variable("c", [2], initializer=np.array([3.0, 4.0], np.float32))
    gv, nv, cv = run([g, n, c])
    limit = np.sqrt(6.0 / 150)
    assert np.abs(gv).max() <= limit and np.abs(gv).max() > 0.9 * limit
    assert abs(nv.mean() - 1.0) < 0.02 and abs(nv.std() - 0.1) < 0.02
    np.testing.assert_array_equal(cv, [3, 4])


# ---------------------------------------------------------------------------
# control flow and gradients
# ---------------------------------------------------------------------------

def test_cond_with_outer_tensors_and_several_outputs():
    x = tf.placeholder(tf.float32, [])
    pred = tf.placeholder(tf.bool, [])
    a, b = tf.cond(pred, lambda: (x * 2, x + 1), lambda: (x * 3, x - 1))
    with tf.Session() as sess:
        assert sess.run([a, b], {x: 5.0, pred: True}) == [10.0, 6.0]
        assert sess.run([a, b], {x: 5.0, pred: False}) == [15.0, 4.0]
    dx = tf.gradients(a, x)[0]
    with tf.Session() as sess:
        assert sess.run(dx, {x: 5.0, pred: False}) == 3.0


def test_while_loop_with_several_variables_and_gradient():
    x = tf.placeholder(tf.float32, [])
    i0 = tf.constant(0)
    _, y = tf.while_loop(lambda i, acc: i < 3, lambda i, acc: (i + 1, acc * x),
                         [i0, tf.constant(1.0)])
    dy = tf.gradients(y, x)[0]
    with tf.Session() as sess:
        assert sess.run([y, dy], {x: 2.0}) == [8.0, 12.0]
    n = tf.while_loop(lambda k: k < 100, lambda k: k + 1, [tf.constant(0)],
                      maximum_iterations=7)
    assert run(n) == 7


def test_errors_inside_callables_propagate():
    with pytest.raises(ZeroDivisionError):
        tf.cond(tf.constant(True), lambda: 1 / 0, lambda: tf.constant(1.0))
    with pytest.raises(ValueError):
        tf.while_loop(lambda i: i < 3, lambda i: (i, i), [tf.constant(0)])
    # the graph stays usable
    assert run(tf.constant(1.0) + 1) == 2.0


def test_gradients_and_stop_gradient():
    x = tf.placeholder(tf.float32, [3])
    y = tf.reduce_sum(x * x) + tf.reduce_sum(tf.stop_gradient(x) * x)
    unrelated = tf.Variable(1.0)
    gx, gu = tf.gradients(y, [x, unrelated])
    assert gu is None
    np.testing.assert_allclose(run(gx, {x: [1.0, 2.0, 3.0]}), [3, 6, 9])
    gy = tf.gradients([tf.reduce_sum(x)], [x], grad_ys=[tf.constant(2.0)])[0]
    np.testing.assert_allclose(run(gy, {x: [1.0, 2.0, 3.0]}), [2, 2, 2])
    # the gradient matches finite differences in float64
    z = tf.placeholder(tf.float64, [2])
    f = tf.reduce_sum(tf.tanh(z) * tf.exp(z))
    g = tf.gradients(f, z)[0]
    z0 = np.array([0.3, -0.7])
    fd = [(run(f, {z: z0 + e}) - run(f, {z: z0 - e})) / 2e-6 for e in np.eye(2) * 1e-6]
    np.testing.assert_allclose(run(g, {z: z0}), fd, rtol=1e-6)


# ---------------------------------------------------------------------------
# training
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("make", [
    lambda: tf.train.GradientDescentOptimizer(0.1),
    lambda: tf.train.MomentumOptimizer(0.05, 0.9),
    lambda: tf.train.MomentumOptimizer(0.05, 0.9, use_nesterov=True),
    lambda: tf.train.AdagradOptimizer(0.5),
    lambda: tf.train.AdadeltaOptimizer(100.0),
    lambda: tf.train.AdamOptimizer(0.1),
    lambda: tf.train.FtrlOptimizer(0.5),
    lambda: tf.train.RMSPropOptimizer(0.05),
    lambda: tf.train.AdagradDAOptimizer(0.5, tf.train.get_or_create_global_step()),
], ids=["sgd", "momentum", "nesterov", "adagrad", "adadelta", "adam", "ftrl", "rmsprop",
        "adagrad_da"])
def test_optimizers_minimize_a_quadratic(make):
    w = tf.Variable([3.0, -2.0])
    loss = tf.reduce_sum(tf.square(w - [1.0, 0.5]))
    opt = make()
    step = tf.train.get_or_create_global_step()
    train = opt.minimize(loss, global_step=step)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        first = sess.run(loss)
        for _ in range(200):
            sess.run(train)
        assert sess.run(loss) < 0.05 * first
        assert sess.run(step) == 200


def test_compute_and_apply_gradients_and_slots():
    w = tf.Variable([1.0, 2.0], name="w")
    b = tf.Variable(0.0, name="b")
    loss = tf.reduce_sum(w * w)
    opt = tf.train.AdamOptimizer(0.1)
    gv = opt.compute_gradients(loss)
    assert [v for _, v in gv] == [w, b] and gv[1][0] is None
    clipped = [(tf.clip_by_value(g, -0.5, 0.5), v) for g, v in gv if g is not None]
    train = opt.apply_gradients(clipped)
    assert opt.get_slot(w, "m").name == "w/Adam:0"
    assert opt.get_slot(w, "v").name == "w/Adam_1:0"
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(train)
        np.testing.assert_allclose(sess.run(w), [0.9, 1.9], rtol=1e-5)


def test_learning_rate_decay_and_tensor_learning_rate():
    step = tf.train.get_or_create_global_step()
    lr = tf.train.exponential_decay(0.5, step, 10, 0.5, staircase=True)
    w = tf.Variable(1.0)
    train = tf.train.GradientDescentOptimizer(lr).minimize(w * 1.0, global_step=step)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for _ in range(10):
            sess.run(train)
        assert abs(sess.run(w) - (1.0 - 10 * 0.5)) < 1e-5
        assert abs(sess.run(lr) - 0.25) < 1e-7


def test_saver_round_trip_and_errors(tmp_path):
    v = tf.Variable([1.0, 2.0], name="v")
    c = tf.Variable(7, name="c")
    saver = tf.train.Saver(max_to_keep=2)
    named = tf.train.Saver({"renamed": v})
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        paths = [saver.save(sess, str(tmp_path / "ckpt"), global_step=s) for s in range(3)]
        assert paths[-1].endswith("ckpt-2") and saver.last_checkpoints == paths[1:]
        assert not os.path.exists(paths[0] + ".index")
        named.save(sess, str(tmp_path / "named"))
        sess.run(tf.assign(v, [0.0, 0.0]))
        assert tf.train.latest_checkpoint(str(tmp_path)) == str(tmp_path / "named")
        saver.restore(sess, paths[-1])
        np.testing.assert_array_equal(sess.run(v), [1, 2])
        assert sess.run(c) == 7
        with pytest.raises(tf.errors.NotFoundError):
            saver.restore(sess, str(tmp_path / "missing"))
    assert tf.train.latest_checkpoint(str(tmp_path / "nowhere")) is None
    tf.reset_default_graph()
    v2 = tf.Variable([0.0, 0.0], name="other")
    with tf.Session() as sess:
        tf.train.Saver({"renamed": v2}).restore(sess, str(tmp_path / "named"))
        np.testing.assert_array_equal(sess.run(v2), [1, 2])


def test_summaries_file_writer(tmp_path):
    x = tf.placeholder(tf.float32, [None])
    with tf.name_scope("stats"):
        tf.summary.scalar("mean", tf.reduce_mean(x))
        tf.summary.histogram("values", x)
    merged = tf.summary.merge_all()
    writer = tf.summary.FileWriter(str(tmp_path), tf.get_default_graph())
    with tf.Session() as sess:
        for step in range(3):
            writer.add_summary(sess.run(merged, {x: [1.0, 2.0, float(step)]}), step)
    writer.add_summary(tf.Summary(value=[tf.Summary.Value(tag="manual", simple_value=1.5)]), 3)
    writer.flush()
    writer.close()
    files = os.listdir(str(tmp_path))
    assert len(files) == 1
    data = open(os.path.join(str(tmp_path), files[0]), "rb").read()
    assert b"stats/mean" in data and b"stats/values" in data and b"manual" in data
    assert b"brain.Event:2" in data
    tf.reset_default_graph()
    assert tf.summary.merge_all() is None


def test_contrib_and_tf_layers():
    x = tf.placeholder(tf.float32, [None, 4])
    h = tf.layers.dense(x, 3, activation=tf.nn.relu)
    h2 = tf.layers.dense(h, 2, name="out")
    f = tf.contrib.layers.fully_connected(x, 5)
    names = sorted(v.op.name for v in tf.trainable_variables())
    assert names == ["dense/bias", "dense/kernel", "fully_connected/biases",
                     "fully_connected/weights", "out/bias", "out/kernel"]
    out = run([h2, f], {x: np.ones((2, 4))})
    assert out[0].shape == (2, 2) and out[1].shape == (2, 5) and (out[1] >= 0).all()
    img = tf.placeholder(tf.float32, [None, 8, 8, 3])
    c = tf.layers.conv2d(img, 4, 3, padding="same")
    p = tf.layers.max_pooling2d(c, 2, 2)
    assert p.get_shape().as_list() == [None, 4, 4, 4]
    assert tf.layers.flatten(p).get_shape().as_list() == [None, 64]
