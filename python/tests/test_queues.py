"""Queues, readers, input pipelines, Coordinator and QueueRunner, devices
and traced runs, as TensorFlow 1.x's Python API has them."""

import json
import os
import threading
import time

import numpy as np
import pytest

import tfc as tf


# ---------------------------------------------------------------------------
# Queues
# ---------------------------------------------------------------------------

def test_fifo_queue_order_and_names():
    q = tf.FIFOQueue(10, [tf.float32, tf.int32], shapes=[[2], []])
    enq = q.enqueue([[1.0, 2.0], 3])
    many = q.enqueue_many([np.arange(8, dtype=np.float32).reshape(4, 2), [10, 11, 12, 13]])
    x, y = q.dequeue()
    xs, ys = q.dequeue_many(3)
    assert q.name == "fifo_queue"
    assert enq.name == "fifo_queue_enqueue"
    assert x.name == "fifo_queue_Dequeue:0" and y.dtype == tf.int32
    assert xs.get_shape().as_list() == [3, 2]
    with tf.Session() as sess:
        sess.run(enq)
        sess.run(many)
        assert sess.run(q.size()) == 5
        a, b = sess.run([x, y])
        np.testing.assert_array_equal(a, [1, 2])
        assert b == 3
        a, b = sess.run([xs, ys])
        np.testing.assert_array_equal(a, np.arange(6).reshape(3, 2))
        np.testing.assert_array_equal(b, [10, 11, 12])
        assert sess.run(q.size()) == 1


def test_single_component_and_dict_queues():
    q = tf.FIFOQueue(3, tf.float32)
    v = q.dequeue()
    assert isinstance(v, tf.Tensor)
    qd = tf.FIFOQueue(3, [tf.int32, tf.float32], shapes=[[], []], names=["a", "b"])
    enq = qd.enqueue({"a": 1, "b": 2.5})
    out = qd.dequeue()
    assert sorted(out) == ["a", "b"]
    with tf.Session() as sess:
        sess.run(q.enqueue(7.0))
        assert sess.run(v) == 7.0
        sess.run(enq)
        assert sess.run(out) == {"a": 1, "b": 2.5}
    with pytest.raises(ValueError):
        qd.enqueue({"a": 1, "c": 2.0})


def test_close_then_out_of_range_and_up_to():
    q = tf.FIFOQueue(10, [tf.int32], shapes=[[]])
    enq = q.enqueue_many([[1, 2, 3]])
    up_to = q.dequeue_up_to(2)
    close = q.close()
    with tf.Session() as sess:
        sess.run(enq)
        sess.run(close)
        assert sess.run(q.is_closed())
        np.testing.assert_array_equal(sess.run(up_to), [1, 2])
        np.testing.assert_array_equal(sess.run(up_to), [3])
        with pytest.raises(tf.errors.OutOfRangeError) as e:
            sess.run(up_to)
        assert "is closed" in str(e.value)
        with pytest.raises(tf.errors.CancelledError):
            sess.run(enq)


def test_dequeue_timeout():
    q = tf.FIFOQueue(2, [tf.float32], shapes=[[]])
    d = q.dequeue()
    with tf.Session() as sess:
        t0 = time.time()
        with pytest.raises(tf.errors.DeadlineExceededError):
            sess.run(d, options=tf.RunOptions(timeout_in_ms=100))
        assert time.time() - t0 < 10


def test_random_shuffle_queue_is_a_permutation():
    q = tf.RandomShuffleQueue(100, 0, [tf.int32], shapes=[[]], seed=7)
    enq = q.enqueue_many([np.arange(50, dtype=np.int32)])
    d = q.dequeue_many(50)
    with tf.Session() as sess:
        sess.run(enq)
        got = sess.run(d)
    assert sorted(got.tolist()) == list(range(50))
    assert got.tolist() != list(range(50))


def test_padding_fifo_queue_pads():
    q = tf.PaddingFIFOQueue(5, [tf.int32], shapes=[[None]])
    x = tf.placeholder(tf.int32, [None])
    enq = q.enqueue([x])
    d = q.dequeue_many(2)
    with tf.Session() as sess:
        sess.run(enq, {x: [1, 2, 3]})
        sess.run(enq, {x: [4]})
        np.testing.assert_array_equal(sess.run(d), [[1, 2, 3], [4, 0, 0]])


def test_priority_queue():
    q = tf.PriorityQueue(5, [tf.string], shapes=[[]])
    enq = q.enqueue_many([[3, 1, 2], ["c", "a", "b"]])
    p, s = q.dequeue()
    with tf.Session() as sess:
        sess.run(enq)
        assert [tuple(sess.run([p, s])) for _ in range(3)] == [(1, b"a"), (2, b"b"), (3, b"c")]


def test_queue_errors_at_build_time():
    q = tf.FIFOQueue(3, [tf.float32], shapes=[[2]])
    with pytest.raises(ValueError):
        q.enqueue([[1.0, 2.0, 3.0]])
    with pytest.raises(ValueError):
        q.enqueue([1.0, 2.0])  # two components for one


# ---------------------------------------------------------------------------
# Coordinator and QueueRunner
# ---------------------------------------------------------------------------

def test_coordinator_python_threads():
    coord = tf.train.Coordinator()
    seen = []

    def work(i):
        with coord.stop_on_exception():
            while not coord.should_stop():
                seen.append(i)
                if len(seen) > 20:
                    coord.request_stop()
                time.sleep(0.001)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    coord.join(threads)
    assert coord.should_stop() and len(seen) > 20
    assert not any(t.is_alive() for t in threads)


def test_coordinator_reraises_first_error():
    coord = tf.train.Coordinator()

    def bad():
        with coord.stop_on_exception():
            raise ValueError("boom")

    t = threading.Thread(target=bad)
    t.start()
    assert coord.wait_for_stop(10)
    with pytest.raises(ValueError, match="boom"):
        coord.join([t])
    # a clean stop (OutOfRangeError) is not an error
    c2 = tf.train.Coordinator()
    c2.request_stop(tf.errors.OutOfRangeError(None, None, "done"))
    c2.join()


def test_queue_runner_python_threads():
    # One thread per enqueue op. Each op counts on its own variable, so its
    # values reach the queue in order; two ops sharing one counter would race
    # (the enqueue reads the variable after the other thread's increment too,
    # as in TensorFlow).
    q = tf.FIFOQueue(4, [tf.int32], shapes=[[]])
    up, down = tf.Variable(0), tf.Variable(0)
    qr = tf.train.QueueRunner(q, [q.enqueue([tf.assign_add(up, 1)]),
                                  q.enqueue([tf.assign_sub(down, 1)])])
    d = q.dequeue()
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        coord = tf.train.Coordinator()
        threads = qr.create_threads(sess, coord=coord, start=True)
        got = [int(sess.run(d)) for _ in range(40)]
        # the enqueue threads run as batch work (Linux; each sets it as it
        # starts), the caller does not
        def batch():
            return sum(os.sched_getscheduler(t.native_id) == os.SCHED_BATCH for t in threads)
        deadline = time.time() + 5
        while batch() < 2 and time.time() < deadline:
            time.sleep(0.001)
        assert batch() == 2 and os.sched_getscheduler(0) == os.SCHED_OTHER
        coord.request_stop()
        coord.join(threads)
    ups = [g for g in got if g > 0]
    downs = [-g for g in got if g < 0]
    assert len(ups) + len(downs) == 40
    assert ups == list(range(1, len(ups) + 1))
    assert downs == list(range(1, len(downs) + 1))


def test_add_queue_runner_and_start_queue_runners():
    q = tf.FIFOQueue(4, [tf.float32], shapes=[[]])
    r = tf.random_uniform([])
    tf.train.add_queue_runner(tf.train.QueueRunner(q, [q.enqueue([r])]))
    assert len(tf.get_collection(tf.GraphKeys.QUEUE_RUNNERS)) == 1
    d = q.dequeue_many(8)
    with tf.Session() as sess:
        coord = tf.train.Coordinator()
        threads = tf.train.start_queue_runners(sess=sess, coord=coord)
        assert len(threads) >= 1
        v = sess.run(d)
        assert v.shape == (8,) and np.all((v >= 0) & (v < 1))
        coord.request_stop()
        coord.join(threads)


def test_queue_runner_error_reaches_coordinator():
    q = tf.FIFOQueue(4, [tf.float32], shapes=[[]])
    x = tf.check_numerics(tf.constant(np.nan, tf.float32), "bad value")
    tf.train.add_queue_runner(tf.train.QueueRunner(q, [q.enqueue([x])]))
    with tf.Session() as sess:
        coord = tf.train.Coordinator()
        threads = tf.train.start_queue_runners(sess=sess, coord=coord)
        assert coord.wait_for_stop(30)
        with pytest.raises(tf.errors.InvalidArgumentError, match="bad value"):
            coord.join(threads)


def test_session_close_stops_runners_without_coordinator_stop():
    q = tf.FIFOQueue(2, [tf.float32], shapes=[[]])
    tf.train.add_queue_runner(tf.train.QueueRunner(q, [q.enqueue([1.0])]))
    sess = tf.Session()
    tf.train.start_queue_runners(sess=sess)  # the session's own coordinator
    time.sleep(0.05)
    sess.close()  # must not hang or crash with the threads blocked in a full queue


# ---------------------------------------------------------------------------
# Readers and input pipelines
# ---------------------------------------------------------------------------

@pytest.fixture
def text_files(tmp_path):
    paths = []
    for k in range(2):
        p = tmp_path / ("f%d.txt" % k)
        p.write_text("".join("line %d.%d\n" % (k, i) for i in range(3)))
        paths.append(str(p))
    return paths


def test_text_line_reader_epochs(text_files):
    fq = tf.train.string_input_producer(text_files, num_epochs=2, shuffle=False)
    key, value = tf.TextLineReader().read(fq)
    with tf.Session() as sess:
        sess.run(tf.local_variables_initializer())
        coord = tf.train.Coordinator()
        threads = tf.train.start_queue_runners(sess=sess, coord=coord)
        lines = []
        try:
            while True:
                k, v = sess.run([key, value])
                lines.append(v)
        except tf.errors.OutOfRangeError:
            pass
        coord.request_stop()
        coord.join(threads)
    want = [("line %d.%d" % (k, i)).encode() for k in range(2) for i in range(3)]
    assert lines == want * 2


def test_whole_file_and_fixed_length_readers(tmp_path):
    p = tmp_path / "raw.bin"
    data = np.arange(24, dtype=np.uint8)
    p.write_bytes(b"HDR" + data.tobytes())
    q = tf.FIFOQueue(4, [tf.string], shapes=[[]])
    enq = q.enqueue_many([[str(p), str(p)]])
    whole_k, whole_v = tf.WholeFileReader().read(q)
    rec_k, rec_v = tf.FixedLengthRecordReader(8, header_bytes=3).read(q)
    rec = tf.decode_raw(rec_v, tf.uint8)
    with tf.Session() as sess:
        sess.run(enq)
        k, v = sess.run([whole_k, whole_v])
        assert k == str(p).encode() and v == b"HDR" + data.tobytes()
        got = [sess.run(rec) for _ in range(3)]
    np.testing.assert_array_equal(np.concatenate(got), data)


def _write_examples(path, n):
    with tf.python_io.TFRecordWriter(path) as w:
        for i in range(n):
            ex = tf.train.Example(features=tf.train.Features(feature={
                "x": tf.train.Feature(float_list=tf.train.FloatList(value=[i, 2.0 * i])),
                "label": tf.train.Feature(int64_list=tf.train.Int64List(value=[i % 3])),
                "tags": tf.train.Feature(bytes_list=tf.train.BytesList(value=[b"t"] * (i % 3)))}))
            w.write(ex.SerializeToString())


def test_tfrecord_pipeline_batch(tmp_path):
    path = str(tmp_path / "ex.tfrecord")
    _write_examples(path, 10)
    assert len(list(tf.python_io.tf_record_iterator(path))) == 10
    fq = tf.train.string_input_producer([path], num_epochs=1, shuffle=False)
    _, serialized = tf.TFRecordReader().read(fq)
    f = tf.parse_single_example(serialized, {"x": tf.FixedLenFeature([2], tf.float32),
                                             "label": tf.FixedLenFeature([], tf.int64)})
    xb, lb = tf.train.batch([f["x"], f["label"]], batch_size=4, allow_smaller_final_batch=True)
    xs, ls = [], []
    with tf.Session() as sess:
        sess.run(tf.local_variables_initializer())
        coord = tf.train.Coordinator()
        threads = tf.train.start_queue_runners(sess=sess, coord=coord)
        try:
            while not coord.should_stop():
                a, b = sess.run([xb, lb])
                xs.append(a)
                ls.append(b)
        except tf.errors.OutOfRangeError:
            pass
        finally:
            coord.request_stop()
        coord.join(threads)
    assert [len(a) for a in xs] == [4, 4, 2]
    x = np.concatenate(xs)
    np.testing.assert_array_equal(x, np.stack([np.arange(10), 2 * np.arange(10)], 1))
    np.testing.assert_array_equal(np.concatenate(ls), np.arange(10) % 3)


def test_decode_raw_set_shape_shuffle_batch(tmp_path):
    # TensorFlow's fully_connected_reader.py: an image's bytes decoded by
    # decode_raw have no static length until set_shape gives it, which
    # shuffle_batch needs
    path = str(tmp_path / "images.tfrecord")
    images = np.arange(12 * 6, dtype=np.uint8).reshape(12, 6)
    with tf.python_io.TFRecordWriter(path) as w:
        for i, img in enumerate(images):
            ex = tf.train.Example(features=tf.train.Features(feature={
                "image_raw": tf.train.Feature(bytes_list=tf.train.BytesList(value=[img.tobytes()])),
                "label": tf.train.Feature(int64_list=tf.train.Int64List(value=[i]))}))
            w.write(ex.SerializeToString())
    fq = tf.train.string_input_producer([path], num_epochs=1)
    _, serialized = tf.TFRecordReader().read(fq)
    f = tf.parse_single_example(serialized, {"image_raw": tf.FixedLenFeature([], tf.string),
                                             "label": tf.FixedLenFeature([], tf.int64)})
    image = tf.decode_raw(f["image_raw"], tf.uint8)
    assert image.get_shape().as_list() == [None]
    image.set_shape([6])
    assert image.get_shape().as_list() == [6]
    with pytest.raises(ValueError):
        image.set_shape([7])
    image = tf.cast(image, tf.float32) * (1. / 255) - 0.5
    label = tf.cast(f["label"], tf.int32)
    xb, lb = tf.train.shuffle_batch([image, label], batch_size=4, capacity=12,
                                    min_after_dequeue=4, seed=3)
    assert xb.get_shape().as_list() == [4, 6]
    got = []
    with tf.Session() as sess:
        sess.run(tf.local_variables_initializer())
        coord = tf.train.Coordinator()
        threads = tf.train.start_queue_runners(sess=sess, coord=coord)
        for _ in range(2):
            x, l = sess.run([xb, lb])
            got.append((x, l))
        coord.request_stop()
        coord.join(threads)
    for x, l in got:
        np.testing.assert_allclose(x, images[l].astype(np.float32) * (1. / 255) - 0.5, rtol=1e-6)
    labels = np.concatenate([l for _, l in got])
    assert len(set(labels.tolist())) == 8


def test_tfrecord_read_up_to(tmp_path):
    path = str(tmp_path / "ex.tfrecord")
    _write_examples(path, 5)
    q = tf.FIFOQueue(2, [tf.string], shapes=[[]])
    enq = q.enqueue([path])
    keys, values = tf.TFRecordReader().read_up_to(q, 3)
    with tf.Session() as sess:
        sess.run(enq)
        k, v = sess.run([keys, values])
    assert len(k) == 3 and k[0].startswith(path.encode() + b":")
    assert list(v) == list(tf.python_io.tf_record_iterator(path))[:3]


def test_shuffle_batch_and_slice_input_producer():
    data = np.arange(20, dtype=np.float32)
    labels = np.arange(20, dtype=np.int32)
    x, y = tf.train.slice_input_producer([data, labels], num_epochs=1, shuffle=False)
    xb, yb = tf.train.shuffle_batch([x, y], batch_size=5, capacity=20, min_after_dequeue=5,
                                    seed=3, allow_smaller_final_batch=True)
    got_x, got_y = [], []
    with tf.Session() as sess:
        sess.run(tf.local_variables_initializer())
        coord = tf.train.Coordinator()
        threads = tf.train.start_queue_runners(sess=sess, coord=coord)
        try:
            while True:
                a, b = sess.run([xb, yb])
                got_x += a.tolist()
                got_y += b.tolist()
        except tf.errors.OutOfRangeError:
            pass
        coord.request_stop()
        coord.join(threads)
    assert sorted(got_x) == data.tolist()
    assert got_x == [float(v) for v in got_y]  # rows stay together


def test_batch_join_and_dict_batch():
    a = tf.constant([1, 2])
    b = tf.constant([3, 4])
    (out,) = tf.train.batch_join([[a], [b]], batch_size=6, capacity=16)
    d = tf.train.batch({"v": tf.constant(1.5)}, batch_size=3)
    with tf.Session() as sess:
        coord = tf.train.Coordinator()
        threads = tf.train.start_queue_runners(sess=sess, coord=coord)
        got = sess.run(out)
        assert got.shape == (6, 2) and set(map(tuple, got.tolist())) <= {(1, 2), (3, 4)}
        np.testing.assert_array_equal(sess.run(d)["v"], [1.5, 1.5, 1.5])
        coord.request_stop()
        coord.join(threads)


def test_range_input_producer_and_limit_epochs():
    q = tf.train.range_input_producer(4, num_epochs=1, shuffle=False)
    v = q.dequeue()
    lim = tf.train.limit_epochs(tf.constant([7, 8]), num_epochs=2)
    with tf.Session() as sess:
        sess.run(tf.local_variables_initializer())
        coord = tf.train.Coordinator()
        threads = tf.train.start_queue_runners(sess=sess, coord=coord)
        assert [sess.run(v) for _ in range(4)] == [0, 1, 2, 3]
        with pytest.raises(tf.errors.OutOfRangeError):
            sess.run(v)
        sess.run(lim)
        sess.run(lim)
        with pytest.raises(tf.errors.OutOfRangeError):
            sess.run(lim)
        coord.request_stop()
        coord.join(threads)


# ---------------------------------------------------------------------------
# Devices and traced runs
# ---------------------------------------------------------------------------

def test_device_count_and_placement():
    with tf.device("/cpu:1"):
        a = tf.constant([1.0, 2.0])
        b = a * 3.0
    with tf.device("/cpu:0"):
        c = b + 1.0
    config = tf.ConfigProto(device_count={"CPU": 2})
    with tf.Session(config=config) as sess:
        names = [d.name for d in sess.list_devices()]
        assert len(names) == 2 and names[1].endswith("CPU:1")
        np.testing.assert_allclose(sess.run(c), [4.0, 7.0])
    with tf.Session() as sess:  # one CPU: /cpu:1 is missing
        with pytest.raises(tf.errors.InvalidArgumentError, match="Cannot assign a device"):
            sess.run(c)
    with tf.Session(config=tf.ConfigProto(allow_soft_placement=True)) as sess:
        np.testing.assert_allclose(sess.run(c), [4.0, 7.0])


def test_run_metadata_timeline():
    from tfc.python.client import timeline
    x = tf.placeholder(tf.float32, [3])
    y = tf.nn.relu(x * 2.0, name="out")
    opts = tf.RunOptions(trace_level=tf.RunOptions.FULL_TRACE)
    md = tf.RunMetadata()
    with tf.Session() as sess:
        np.testing.assert_allclose(sess.run(y, {x: [1, -1, 2]}, options=opts, run_metadata=md),
                                   [2, 0, 4])
    nodes = [n.node_name for d in md.step_stats.dev_stats for n in d.node_stats]
    assert "out" in nodes
    trace = json.loads(timeline.Timeline(md.step_stats).generate_chrome_trace_format())
    assert any(e.get("name") == "out" or e.get("args", {}).get("name") == "out"
               for e in trace["traceEvents"])


def test_log_device_placement_accepted(capfd):
    y = tf.constant(1.0) + 2.0
    with tf.Session(config=tf.ConfigProto(log_device_placement=True)) as sess:
        assert sess.run(y) == 3.0
    assert "CPU:0" in capfd.readouterr().err


def test_read_write_matching_files(tmp_path):
    p = str(tmp_path / "sub" / "a.txt")
    w = tf.write_file(p, "hello")
    r = tf.read_file(p)
    m = tf.matching_files(str(tmp_path / "sub" / "*.txt"))
    with tf.Session() as sess:
        sess.run(w)
        assert sess.run(r) == b"hello"
        assert list(sess.run(m)) == [p.encode()]
    assert os.path.exists(p)
