"""Mutexes: tf.raw_ops.MutexV2 / MutexLock / ConsumeMutexLock (the white
paper's MutexAcquire / MutexRelease, seed 003) and tf.CriticalSection.
Two Python threads increment one variable with a read-then-assign (which
loses updates when runs interleave); under the mutex the count is exact."""

import threading

import numpy as np
import pytest

import tfc as tf

N = 150


def _hammer(sess, fetch, threads=2, n=N):
    """Runs `fetch` n times in each of `threads` Python threads; returns
    every value fetched."""
    got, errors = [], []
    lock = threading.Lock()

    def work():
        try:
            for _ in range(n):
                r = sess.run(fetch)
                with lock:
                    got.append(r)
        except Exception as e:  # reported below
            errors.append(e)
    ts = [threading.Thread(target=work) for _ in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert not errors, errors
    return got


def _slow_increment(v):
    """v = read(v) + 1 with time between the read and the write, in which an
    unlocked run interleaves. Returns the Assign and the value written (not
    the Assign's output: that is the variable, read when fetched)."""
    x = v.read_value()
    x = tf.reduce_mean(tf.fill([100000], x))  # x again, a while later
    new = x + 1.0
    inc = tf.assign(v, new)
    with tf.control_dependencies([inc]):
        return inc, tf.identity(new)


def test_raw_mutex_ops_make_the_increment_exact():
    v = tf.Variable(0.0, name="counter")
    m = tf.raw_ops.MutexV2(shared_name="m")
    lock = tf.raw_ops.MutexLock(mutex=m)
    with tf.control_dependencies([lock]):
        inc, _ = _slow_increment(v)
    with tf.control_dependencies([inc]):
        release = tf.raw_ops.ConsumeMutexLock(mutex_lock=lock)
    assert (m.op.type, lock.op.type, release.type) == ("MutexV2", "MutexLock",
                                                        "ConsumeMutexLock")
    assert m.op.name == "MutexV2" and m.dtype == tf.resource
    config = tf.ConfigProto(inter_op_parallelism_threads=4)
    with tf.Session(config=config) as sess:
        sess.run(v.initializer)
        _hammer(sess, [inc.op, release])
        assert sess.run(v) == 2 * N


def test_white_paper_names_are_the_same_ops():
    m = tf.raw_ops.MutexV2()
    lock = tf.raw_ops.MutexAcquire(mutex=m)
    release = tf.raw_ops.MutexRelease(mutex_lock=lock)
    assert lock.op.type == "MutexLock" and release.type == "ConsumeMutexLock"
    with tf.Session() as sess:
        sess.run(release)


def test_critical_section_execute_serializes_two_threads():
    v = tf.Variable(0.0, name="counter")
    cs = tf.CriticalSection(name="cs")
    out = cs.execute(lambda: _slow_increment(v)[1])
    assert cs.name == "cs" and out.op.type == "Identity"
    assert tf.contrib.framework.CriticalSection is tf.CriticalSection
    with tf.Session(config=tf.ConfigProto(inter_op_parallelism_threads=4)) as sess:
        sess.run(v.initializer)
        got = _hammer(sess, out)
        assert sess.run(v) == 2 * N
        # each run saw its own increment: the values 1 .. 2N, each once
        assert sorted(float(x) for x in got) == [float(i) for i in range(1, 2 * N + 1)]


def test_critical_section_structures_and_operations():
    v = tf.Variable(1.0)
    cs = tf.CriticalSection()
    a, (b, op) = cs.execute(lambda: (v * 2.0, [v + 1.0, tf.no_op()]))
    assert isinstance(op, tf.Operation)
    with tf.Session() as sess:
        sess.run(v.initializer)
        assert sess.run([a, b, op]) == [2.0, 2.0, None]


def test_mutex_ops_reject_non_resources():
    x = tf.constant(1.0)
    with pytest.raises(TypeError, match="MutexLock: mutex must be a resource tensor"):
        tf.raw_ops.MutexLock(mutex=x)
    with pytest.raises(TypeError, match="ConsumeMutexLock: mutex_lock must be a resource"):
        tf.raw_ops.ConsumeMutexLock(mutex_lock=x)
