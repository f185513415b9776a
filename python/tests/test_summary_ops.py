"""Summary ops are TensorFlow's: a string scalar holding a serialized Summary
(bytes from Session.run), nodes named as tf.summary.* names them, text
through TensorSummaryV2, and FileWriter.add_summary taking the bytes."""
import os

import numpy as np
import pytest

import tfc as tf


def test_summary_ops_signatures_and_writer(tmp_path):
    tf.reset_default_graph()
    x = tf.placeholder(tf.float32, [None])
    with tf.name_scope("stats"):
        s = tf.summary.scalar("mean", tf.reduce_mean(x))
        h = tf.summary.histogram("values", x)
    t = tf.summary.text("note", "hello *tensorboard*")
    merged = tf.summary.merge_all()
    assert s.op.type == "ScalarSummary" and s.op.name == "stats/mean"
    assert s.op.inputs[0].op.name == "stats/mean/tags" and s.dtype == tf.string
    assert h.op.type == "HistogramSummary" and h.op.inputs[0].op.name == "stats/values/tag"
    assert t.op.type == "TensorSummaryV2" and len(t.op.inputs) == 3
    assert merged.op.type == "MergeSummary"
    with tf.Session() as sess:
        out = sess.run(merged, {x: [1.0, 2.0, 4.0]})
        assert isinstance(out, bytes)
        assert b"stats/mean" in out and b"stats/values" in out and b"note" in out
        writer = tf.summary.FileWriter(str(tmp_path))
        writer.add_summary(out, 1)
        writer.add_summary(sess.run(s, {x: [3.0]}), 2)
        with pytest.raises(TypeError):
            writer.add_summary(np.zeros(3, np.uint8), 3)
        writer.close()
    data = open(os.path.join(str(tmp_path), os.listdir(str(tmp_path))[0]), "rb").read()
    assert b"hello *tensorboard*" in data and b"text" in data
    tf.reset_default_graph()
