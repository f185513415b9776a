"""Errors: a bad call raises TensorFlow's exception class for tfc's status
code, with tfc's message naming the node, and the session stays usable."""

import numpy as np
import pytest

import tfc as tf


def test_error_classes_and_codes():
    assert issubclass(tf.errors.InvalidArgumentError, tf.errors.OpError)
    assert tf.errors.exception_type_from_error_code(9) is tf.errors.FailedPreconditionError
    assert tf.errors.error_code_from_exception_type(tf.errors.NotFoundError) == \
        tf.errors.NOT_FOUND
    e = tf.errors.OutOfRangeError(None, None, "end of input")
    assert e.error_code == tf.errors.OUT_OF_RANGE and e.message == "end of input"


def test_run_errors_name_the_node_and_keep_the_session_usable():
    x = tf.placeholder(tf.float32, [None, 2], name="inputs")
    v = tf.Variable(tf.ones([2]), name="weights")
    y = tf.multiply(x, v, name="scaled")
    idx = tf.placeholder(tf.int32, [None])
    picked = tf.gather(tf.constant([1.0, 2.0]), idx, name="picked")
    quotient = tf.floordiv(tf.constant(7), tf.placeholder(tf.int32, [], name="d"),
                           name="quotient")
    with tf.Session() as sess:
        with pytest.raises(tf.errors.InvalidArgumentError, match="placeholder tensor 'inputs'"):
            sess.run(y)
        with pytest.raises(tf.errors.FailedPreconditionError, match="uninitialized value "
                                                                    "weights") as info:
            sess.run(y, {x: [[1, 2]]})
        assert info.value.error_code == tf.errors.FAILED_PRECONDITION
        sess.run(v.initializer)
        with pytest.raises(tf.errors.InvalidArgumentError, match="picked"):
            sess.run(picked, {idx: [7]})
        with pytest.raises(tf.errors.InvalidArgumentError, match="quotient"):
            sess.run(quotient, {"d:0": 0})
        # the session goes on
        np.testing.assert_array_equal(sess.run(y, {x: [[1, 2]]}), [[1, 2]])
        np.testing.assert_array_equal(sess.run(picked, {idx: [1]}), [2])
        assert sess.run(quotient, {"d:0": 2}) == 3


def test_build_errors_are_value_errors_naming_the_node():
    a = tf.ones([2, 3])
    with pytest.raises(ValueError, match="MatMul") as info:
        tf.matmul(a, a)
    assert isinstance(info.value, tf.errors.InvalidArgumentError)
    with pytest.raises(ValueError, match="bad_add.*Incompatible shapes"):
        tf.add(tf.ones([2]), tf.ones([3]), name="bad_add")
    # the graph goes on after a failed builder
    with tf.Session() as sess:
        assert sess.run(tf.reduce_sum(a)) == 6.0


def test_lookup_errors():
    tf.constant(1.0, name="c")
    g = tf.get_default_graph()
    with pytest.raises(KeyError, match="does not exist"):
        g.get_tensor_by_name("nope:0")
    with pytest.raises(KeyError):
        g.get_operation_by_name("nope")
    with pytest.raises(KeyError, match="fewer|has 1 output|outputs"):
        g.get_tensor_by_name("c:3")
    with tf.Session() as sess:
        with pytest.raises(ValueError, match="nope:0"):
            sess.run("nope:0")
        with pytest.raises(ValueError, match="Cannot interpret feed_dict key"):
            sess.run("c:0", {"nope:0": 1.0})


def test_type_errors():
    with pytest.raises(TypeError):
        tf.constant("text", dtype=tf.float32)
    with pytest.raises(TypeError):
        tf.constant([1, 2], dtype=tf.string)
    with pytest.raises(TypeError):
        tf.placeholder(tf.float32) + tf.placeholder(tf.int32)
    with pytest.raises(TypeError):
        tf.convert_to_tensor(tf.no_op())


def test_unsupported_features_say_so():
    with pytest.raises(tf.errors.UnimplementedError, match="no tf.train.Server was made in "
                       "this process"):
        tf.Session("grpc://localhost:2222")  # tasks are MPI ranks: see test_cluster.py
    with pytest.raises(NotImplementedError, match="tfc"):
        tf.nn.softmax(tf.constant([[1.0, 2.0]]), axis=0)
    with pytest.raises(NotImplementedError, match="tfc"):
        tf.multinomial(tf.constant([[1.0, 2.0]]), tf.constant(2))


def test_ctrl_c_interrupts_a_long_run_and_the_session_goes_on():
    import _thread
    import threading
    import time
    n = tf.placeholder(tf.int32, [], name="n")
    r = tf.while_loop(lambda i: i < n, lambda i: i + 1, [tf.constant(0)])
    with tf.Session() as sess:
        # a count that takes about 0.2 s, found through the feed key "n:0"
        # (its own plan), so that the plan fed by `n` starts unmarked
        count = 1000
        while True:
            t0 = time.perf_counter()
            assert sess.run(r, {"n:0": count}) == count
            if time.perf_counter() - t0 > 0.2:
                break
            count *= 4
        assert sess.run(r, {n: count}) == count   # long: later runs of this plan are watched
        timer = threading.Timer(0.2, _thread.interrupt_main)
        timer.start()
        t0 = time.perf_counter()
        with pytest.raises(KeyboardInterrupt):
            sess.run(r, {n: count * 20})
        assert time.perf_counter() - t0 < 2.0  # did not wait for the whole run (about 4 s)
        assert sess.run(r, {"n:0": 7}) == 7
    # close() waited for the abandoned run
    assert not sess._workers


def test_a_plan_slow_only_at_first_goes_back_to_the_calling_thread():
    # A training step's first run builds tfc's plan (20-80 ms), its later
    # ones take a millisecond: they must not each start a thread.
    import threading
    n = tf.placeholder(tf.int32, [], name="n")
    r = tf.while_loop(lambda i: i < n, lambda i: i + 1, [tf.constant(0)])
    with tf.Session() as sess:
        count = 1000
        while True:  # a first run over _SLOW_S
            assert sess.run(r, {"n:0": count}) == count
            plan = sess._plans[(r, ("n:0",))]
            if plan.watch < 0:
                break
            count *= 4
            sess._plans.clear()
        started = []
        real = threading.Thread.start

        def counting_start(self):
            started.append(self.name)
            return real(self)
        threading.Thread.start = counting_start
        try:
            # quick runs, each in a worker thread, _QUICK_RUNS in a row (a
            # loaded machine may make one slow and start the count again)
            for _ in range(50):
                assert sess.run(r, {"n:0": 3}) == 3
                if plan.watch == 0:
                    break
            assert plan.watch == 0
            assert len(started) >= sess._QUICK_RUNS and set(started) == {"tfc-run"}
            before = len(started)
            for _ in range(20):                 # then in the calling thread
                assert sess.run(r, {"n:0": 5}) == 5
            assert len(started) == before
        finally:
            threading.Thread.start = real
