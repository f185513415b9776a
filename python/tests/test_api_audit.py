"""An audit of issue 19's section 2, name by name: each API it lists is
called the way TensorFlow 1.x programs call it (test_api.py checks the
values in depth; this file checks that nothing named there is missing or
behaves differently), among them the deprecated names and pre-1.0 argument
orders, tf.errors' classes and the `op` of a run's error, the dtypes, and
TensorShape/Dimension's arithmetic, comparisons and shape algebra."""

import collections
import os

import numpy as np
import pytest

import tfc as tf


def test_graph_functions():
    g = tf.Graph()
    with g.as_default():
        c = tf.constant(1.0, name="c")
        assert tf.get_default_graph() is g
    assert g.get_operation_by_name("c").name == "c"
    assert g.get_tensor_by_name("c:0").name == "c:0"
    assert g.as_graph_element("c:0").name == "c:0"
    assert [op.name for op in g.get_operations()] == ["c"]
    tf.reset_default_graph()
    assert tf.get_default_graph().get_operations() == []


def test_session_run_structures_feeds_and_closing():
    a = tf.constant(1.0, name="a")
    b = tf.constant([1, 2], name="b")
    nop = tf.no_op(name="nop")
    x = tf.placeholder(tf.float32, [None], name="x")
    n = tf.placeholder(tf.int32, [], name="n")
    pair = collections.namedtuple("pair", "p q")
    with tf.Session() as s:
        r = s.run([a, (b, {"k": a}), pair(a, b), nop, "a:0", "nop"])
        assert r[0] == 1.0 and r[1][0].tolist() == [1, 2] and r[1][1] == {"k": 1.0}
        assert isinstance(r[2], pair) and r[2].p == 1.0 and r[3] is None
        assert r[4] == 1.0 and r[5] is None
        od = s.run(collections.OrderedDict([("z", a), ("y", b)]))
        assert list(od) == ["z", "y"]
        assert s.run(x * 2, {x: np.array([1, 2], np.float32)}).tolist() == [2, 4]
        assert s.run(x * 2, {x: [1.0, 3.0]}).tolist() == [2, 6]        # a list
        assert s.run(x * 2, {"x:0": (1.0,)}).tolist() == [2]           # by name, a tuple
        assert s.run(x * 2, {x: np.array([1, 2], np.float64)}).tolist() == [2, 4]
        assert s.run(n + 1, {n: 3}) == 4                               # a Python scalar
    with pytest.raises(RuntimeError):
        s.run(a)


def test_interactive_session_eval_and_operation_run():
    sess = tf.InteractiveSession()
    try:
        v = tf.Variable(2.0)
        tf.global_variables_initializer().run()
        x = tf.placeholder(tf.float32)
        assert v.eval() == 2.0 and (x * 2).eval(feed_dict={x: 2.0}) == 4.0
        assert tf.get_default_session() is sess
    finally:
        sess.close()


def test_tensor_attributes():
    x = tf.placeholder(tf.float32, [2, 3], name="inp")
    y = tf.identity(x)
    assert x.name == "inp:0" and x.dtype == tf.float32 and x.op.name == "inp"
    assert x.op.type == "Placeholder" and x.value_index == 0 and x.graph is y.graph
    assert x.shape == tf.TensorShape([2, 3]) and x.get_shape().as_list() == [2, 3]
    assert [op.name for op in x.consumers()] == [y.op.name]
    assert y.op.inputs[0].name == x.name and x.op.get_attr("dtype") == tf.float32


def test_operators():
    an = np.array([[1.0, 2.0], [3.0, 4.0]], np.float32)
    bn = np.full((2, 2), 2.0, np.float32)
    a, b = tf.constant(an), tf.constant(bn)
    pairs = [(a + b, an + bn), (a - b, an - bn), (a * b, an * bn), (a / b, an / bn),
             (a // b, an // bn), (a % b, an % bn), (a ** b, an ** bn), (a @ b, an @ bn),
             (-a, -an), (abs(-a), an), (a > b, an > bn), (a >= b, an >= bn), (a < b, an < bn),
             (a <= b, an <= bn), (2 - a, 2 - an), (2 / a, 2 / an), (2 ** a, 2 ** an),
             (a[0], an[0]), (a[:, 1], an[:, 1]), (a[::-1], an[::-1]), (a[None, :, 0], an[None, :, 0]),
             (a[..., 1], an[..., 1])]
    with tf.Session() as s:
        for t, want in pairs:
            np.testing.assert_allclose(s.run(t), want, err_msg=t.name)


def test_builders_and_scopes():
    v = tf.Variable(tf.zeros([2]), name="v")
    with tf.variable_scope("vs", initializer=tf.constant_initializer(2.0)):
        w = tf.get_variable("w", [1])
    with tf.variable_scope("vs", reuse=True):
        assert tf.get_variable("w", [1]).name == "vs/w:0"
    with tf.variable_scope("auto", reuse=tf.AUTO_REUSE):
        assert tf.get_variable("u", [1]).name == tf.get_variable("u", [1]).name
    with tf.name_scope("outer"):
        with tf.name_scope("inner") as scope:
            c = tf.constant(1.0, name="c")
    assert scope == "outer/inner/" and c.name == "outer/inner/c:0"
    with tf.device("/cpu:0"):
        d = tf.constant(1.0)
    assert "CPU:0" in d.device.upper()
    inc = tf.assign_add(v, [1.0, 1.0])
    with tf.control_dependencies([inc]):
        after = tf.identity(v)
    made = [tf.zeros([2, 3], tf.int32), tf.ones([2]), tf.fill([2, 2], 7.0), tf.random_normal([2]),
            tf.random_uniform([2], 0, 10, dtype=tf.int32), tf.truncated_normal([2], stddev=0.1)]
    with tf.Session() as s:
        s.run(tf.global_variables_initializer())
        assert s.run(w) == 2.0 and s.run(after).tolist() == [1.0, 1.0]
        assert [m.shape for m in s.run(made)] == [(2, 3), (2,), (2, 2), (2,), (2,), (2,)]


def test_control_flow_and_gradients():
    x = tf.placeholder(tf.float32, [])
    y = tf.cond(x > 0, lambda: x * 2, lambda: -x)
    i, acc = tf.while_loop(lambda i, a: i < 5, lambda i, a: (i + 1, a * 2),
                           [tf.constant(0), tf.constant(1.0)])
    g = tf.gradients(x * x * 3, x)[0]
    h = tf.gradients(tf.stop_gradient(x) * x, [x])[0]
    with tf.Session() as s:
        assert s.run(y, {x: 3.0}) == 6.0 and s.run(y, {x: -3.0}) == 3.0
        assert s.run([i, acc]) == [5, 32.0]
        assert s.run(g, {x: 2.0}) == 12.0 and s.run(h, {x: 2.0}) == 2.0


@pytest.mark.parametrize("name", ["GradientDescentOptimizer", "MomentumOptimizer",
                                  "AdagradOptimizer", "AdagradDAOptimizer", "AdadeltaOptimizer",
                                  "AdamOptimizer", "FtrlOptimizer", "RMSPropOptimizer"])
def test_the_eight_optimizers_three_ways(name):
    w = tf.Variable([1.0, -2.0])
    loss = tf.reduce_sum(w * w)
    gs = tf.train.get_or_create_global_step()
    args = {"MomentumOptimizer": (0.1, 0.9), "AdagradDAOptimizer": (0.1, gs)}.get(name, (0.1,))
    opt = getattr(tf.train, name)(*args)
    step = opt.apply_gradients(opt.compute_gradients(loss), global_step=gs)
    step2 = opt.minimize(loss)
    with tf.Session() as s:
        s.run(tf.global_variables_initializer())
        before = s.run(loss)
        s.run(step)
        s.run(step2)
        assert s.run(loss) < before and s.run(gs) == 1


def test_train_decays_saver_coordinator(tmp_path):
    gs = tf.train.get_or_create_global_step()
    assert tf.train.get_global_step().name == gs.name
    decays = [tf.train.exponential_decay(0.1, gs, 10, 0.5, staircase=True),
              tf.train.inverse_time_decay(0.1, gs, 10, 0.5),
              tf.train.natural_exp_decay(0.1, gs, 10, 0.5), tf.train.polynomial_decay(0.1, gs, 10),
              tf.train.piecewise_constant(gs, [5], [0.1, 0.01])]
    v = tf.Variable(3.0, name="vv")
    saver = tf.train.Saver()
    with tf.Session() as s:
        s.run(tf.global_variables_initializer())
        np.testing.assert_allclose(s.run(decays), [0.1, 0.1, 0.1, 0.1, 0.1], rtol=1e-6)
        path = saver.save(s, str(tmp_path / "m"), global_step=1)
        s.run(v.assign(5.0))
        saver.restore(s, tf.train.latest_checkpoint(str(tmp_path)))
        assert s.run(v) == 3.0 and path.endswith("m-1")
    coord = tf.train.Coordinator()
    coord.request_stop()
    assert coord.should_stop()
    for name in ("QueueRunner", "add_queue_runner", "start_queue_runners", "ClusterSpec",
                 "Server", "replica_device_setter"):
        assert hasattr(tf.train, name), name


def test_nn_layers_contrib_layers_summaries(tmp_path):
    x = tf.placeholder(tf.float32, [None, 4])
    labels = tf.placeholder(tf.int32, [None])
    h = tf.layers.dense(x, 3, activation=tf.nn.relu)
    h2 = tf.contrib.layers.fully_connected(x, 3)
    loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=h))
    tf.summary.scalar("loss", loss)
    tf.summary.histogram("h", h)
    merged = tf.summary.merge_all()
    with tf.Session() as s:
        writer = tf.summary.FileWriter(str(tmp_path), s.graph)
        s.run(tf.global_variables_initializer())
        writer.add_summary(s.run(merged, {x: np.ones((2, 4)), labels: [0, 1]}), 1)
        writer.close()
        assert s.run(h2, {x: np.ones((2, 4))}).shape == (2, 3)
    assert os.listdir(str(tmp_path))


def test_xw_plus_b_relu_layer_arg_max():
    x = tf.constant([[1.0, -2.0]])
    w = tf.constant([[1.0, 0.0], [0.0, 1.0]])
    b = tf.constant([0.5, 0.5])
    y, z = tf.nn.xw_plus_b(x, w, b), tf.nn.relu_layer(x, w, b)
    assert y.op.name.startswith("xw_plus_b/") and z.op.name.startswith("relu_layer/")
    with tf.Session() as s:
        r = s.run([y, z, tf.arg_max(x, 1), tf.arg_min(x, 1)])
    assert r[0].tolist() == [[1.5, -1.5]] and r[1].tolist() == [[1.5, 0.0]]
    assert r[2].tolist() == [0] and r[3].tolist() == [1] and r[2].dtype == np.int64


def test_deprecated_names_and_pre_1_0_argument_orders():
    a = tf.constant([[1.0, 2.0]])
    b = tf.constant([[3.0, 4.0]])
    v = tf.Variable(1.0)
    init = tf.initialize_all_variables()
    summaries = [tf.scalar_summary("v", v), tf.histogram_summary("a", a)]
    merged = tf.merge_all_summaries()
    assert tf.train.SummaryWriter is tf.summary.FileWriter
    logits = tf.constant([[1.0, 2.0, 3.0]])
    onehot = tf.constant([[0.0, 0.0, 1.0]])
    fetch = [tf.mul(a, b), tf.sub(a, b), tf.concat(1, [a, b]), tf.split(1, 2, a),
             tf.nn.softmax_cross_entropy_with_logits(logits, onehot),
             tf.nn.softmax_cross_entropy_with_logits(labels=onehot, logits=logits)]
    with tf.Session() as s:
        s.run(init)
        r = s.run(fetch)
        s.run(summaries + [merged])
    assert r[0].tolist() == [[3, 8]] and r[1].tolist() == [[-2, -2]]
    assert r[2].tolist() == [[1, 2, 3, 4]] and [p.tolist() for p in r[3]] == [[[1.0]], [[2.0]]]
    np.testing.assert_allclose(r[4], r[5])


def test_nce_loss_positional_and_keywords():
    emb = tf.Variable(tf.random_uniform([50, 8], -1, 1))
    w = tf.Variable(tf.truncated_normal([50, 8]))
    b = tf.Variable(tf.zeros([50]))
    inputs = tf.nn.embedding_lookup(emb, tf.constant([1, 2, 3]))
    labels = tf.constant([[2], [3], [4]], dtype=tf.int64)
    old = tf.nn.nce_loss(w, b, inputs, labels, 5, 50)  # 0.x: weights, biases, inputs, labels
    new = tf.nn.nce_loss(weights=w, biases=b, labels=labels, inputs=inputs, num_sampled=5,
                         num_classes=50)
    with tf.Session() as s:
        s.run(tf.global_variables_initializer())
        assert s.run(old).shape == (3,) and s.run(new).shape == (3,)


ERRORS = [("CancelledError", 1), ("UnknownError", 2), ("InvalidArgumentError", 3),
          ("DeadlineExceededError", 4), ("NotFoundError", 5), ("AlreadyExistsError", 6),
          ("PermissionDeniedError", 7), ("ResourceExhaustedError", 8),
          ("FailedPreconditionError", 9), ("AbortedError", 10), ("OutOfRangeError", 11),
          ("UnimplementedError", 12), ("InternalError", 13), ("UnavailableError", 14),
          ("DataLossError", 15), ("UnauthenticatedError", 16)]


@pytest.mark.parametrize("name,code", ERRORS)
def test_error_classes(name, code):
    cls = getattr(tf.errors, name)
    e = cls(None, None, "msg")
    assert issubclass(cls, tf.errors.OpError) and e.error_code == code and e.message == "msg"
    assert tf.errors.exception_type_from_error_code(code) is cls


def test_a_run_error_has_the_operation_it_names():
    a = tf.placeholder(tf.float32, [None, 3], name="a")
    bb = tf.placeholder(tf.float32, [None, 2], name="bb")
    mm = tf.matmul(a, bb, name="mm")
    chk = tf.check_numerics(a, "bad", name="chk")
    with tf.Session() as s:
        with pytest.raises(tf.errors.InvalidArgumentError) as e:
            s.run(mm, {a: np.ones((2, 3)), bb: np.ones((4, 2))})
        assert "mm" in e.value.message and e.value.op is mm.op
        with pytest.raises(tf.errors.InvalidArgumentError) as e:
            s.run(chk.op, {a: np.full((2, 3), np.nan)})    # a training step's path
        assert e.value.op is chk.op
        with pytest.raises(tf.errors.InvalidArgumentError) as e:
            s.run(mm)                                       # an unfed placeholder
        assert e.value.op is a.op
        q = tf.FIFOQueue(1, tf.float32)
        s.run(q.close())
        with pytest.raises(tf.errors.OutOfRangeError):
            s.run(q.dequeue())


def test_dtypes():
    for name in ("float16", "half", "float32", "float64", "double", "int8", "int16", "int32",
                 "int64", "uint8", "uint16", "uint32", "uint64", "bool", "string", "complex64",
                 "complex128", "qint8", "quint8", "qint16", "quint16", "qint32", "bfloat16",
                 "resource", "variant"):
        d = getattr(tf, name)
        assert isinstance(d, tf.DType) and tf.as_dtype(d.name) is d, name
        assert tf.as_dtype(d.as_datatype_enum) is d, name
    assert tf.DType(1) == tf.float32 and hash(tf.DType(1)) == hash(tf.float32)
    assert tf.float32 == np.float32 and tf.float32 == "float32" and tf.float32 != tf.int32
    assert tf.as_dtype(np.uint32) is tf.uint32 and tf.as_dtype(np.dtype("int64")) is tf.int64
    assert tf.complex64.real_dtype is tf.float32 and tf.complex128.real_dtype is tf.float64
    assert tf.float32.real_dtype is tf.float32 and tf.float32.base_dtype is tf.float32
    assert tf.uint64.is_integer and tf.uint64.is_unsigned and tf.qint8.is_quantized
    assert not tf.int8.is_quantized and tf.uint8.max == 255 and tf.float32.size == 4
    assert repr(tf.float32) == "tf.float32" and tf.float32.is_compatible_with(tf.DType(1))


def test_dimension():
    D = tf.Dimension
    assert D(3) == 3 and (D(3) + 1).value == 4 and (D(6) // 4).value == 1
    assert (D(7) % 2).value == 1 and (9 % D(4)).value == 1 and (10 - D(3)).value == 7
    assert (13 // D(4)).value == 3 and (D(6) * 2).value == 12 and (2 * D(6)).value == 12
    assert (D(None) % 2).value is None and (D(None) + 1).value is None
    assert (D(None) == D(3)) is None and (D(2) < 3) is True and (D(3) <= 3) is True
    assert (D(4) > 3) is True and (D(3) >= 4) is False and (D(None) < 3) is None
    assert D(3).is_compatible_with(None) and not D(3).is_compatible_with(4)
    assert D(3).merge_with(None).value == 3
    with pytest.raises(ValueError):
        D(3).merge_with(4)
    with pytest.raises(ValueError):
        D(3).assert_is_compatible_with(4)
    assert str(D(3)) == "3" and str(D(None)) == "?" and repr(D(3)) == "Dimension(3)"
    assert int(D(3)) == 3 and [0, 1, 2, 3][D(2)] == 2


def test_tensor_shape():
    S = tf.TensorShape
    s = S([2, None, 3])
    assert s.ndims == 3 and s.rank == 3 and len(s) == 3 and s.as_list() == [2, None, 3]
    assert s[0].value == 2 and s[1].value is None and s[1:].as_list() == [None, 3]
    assert not s.is_fully_defined() and S([2, 3]).num_elements() == 6
    assert s.num_elements() is None and S(None).ndims is None and S([]).ndims == 0
    assert s.merge_with([2, 5, 3]).as_list() == [2, 5, 3]
    assert s.is_compatible_with([2, 7, 3]) and not s.is_compatible_with([2, 7])
    assert s.concatenate([4]).as_list() == [2, None, 3, 4]
    assert (s + [4]).as_list() == [2, None, 3, 4] and ([1] + s).as_list() == [1, 2, None, 3]
    assert str(s) == "(2, ?, 3)" and repr(S([2])) == "TensorShape([Dimension(2)])"
    assert s.with_rank(3).as_list() == [2, None, 3]
    with pytest.raises(ValueError):
        s.with_rank(2)
    assert s.with_rank_at_least(2) is s and s.with_rank_at_most(3) is s
    with pytest.raises(ValueError):
        s.with_rank_at_least(4)
    with pytest.raises(ValueError):
        s.with_rank_at_most(2)
    assert s.most_specific_compatible_shape([2, 4, 3]).as_list() == [2, None, 3]
    assert s.most_specific_compatible_shape([2, 4]).ndims is None
    with pytest.raises(ValueError):
        S(None).as_list()
    x = tf.placeholder(tf.float32, [None, 3])
    assert x.shape[1].value == 3 and x.get_shape()[0].value is None
    assert tf.matmul(x, tf.ones([3, 4])).shape.as_list() == [None, 4]
    assert tf.reshape(x, [-1, 3, 1]).shape.as_list() == [None, 3, 1]
