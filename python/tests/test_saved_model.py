"""tf.saved_model: loader.load of SavedModels TensorFlow 1.14 and 2.14
wrote (tests/data/tf_written) serving y = 0.5x + 2, and simple_save of a
tfc model loaded back into a new graph."""

import os
import shutil

import numpy as np
import pytest

import tfc as tf

DATA = os.path.join(os.path.dirname(__file__), "..", "..", "tests", "data", "tf_written")


def _assemble(tmp_path, name):
    """The flat files of tests/data/tf_written/<name> in TensorFlow's layout."""
    d = tmp_path / name
    (d / "variables").mkdir(parents=True)
    src = os.path.join(DATA, name)
    shutil.copy(os.path.join(src, "saved_model.pb"), str(d / "saved_model.pb"))
    for f in ("variables.index", "variables.data-00000-of-00001"):
        shutil.copy(os.path.join(src, f), str(d / "variables" / f))
    return str(d)


@pytest.mark.parametrize("name,batch", [("half_plus_two_tf1_14", 3), ("half_plus_two_tf2_14", 1)])
def test_load_tensorflow_written(tmp_path, name, batch):
    export_dir = _assemble(tmp_path, name)
    with tf.Graph().as_default():
        with tf.Session() as sess:
            meta = tf.saved_model.loader.load(sess, [tf.saved_model.tag_constants.SERVING],
                                              export_dir)
            assert meta.meta_info_def.tags == ["serve"]
            sig = meta.signature_def["serving_default"]
            assert sig.method_name == "tensorflow/serving/predict"
            x = np.arange(batch, dtype=np.float32).reshape(batch, 1) + 1.5
            if name.endswith("tf2_14"):
                x = x.reshape(batch)
            y = sess.run(sig.outputs["y"].name, {sig.inputs["x"].name: x})
            np.testing.assert_allclose(np.reshape(y, -1), 0.5 * np.reshape(x, -1) + 2)


def test_missing_tags_and_directory(tmp_path):
    export_dir = _assemble(tmp_path, "half_plus_two_tf1_14")
    with tf.Graph().as_default(), tf.Session() as sess:
        with pytest.raises(tf.errors.NotFoundError, match=r"its tag sets: \{serve\}"):
            tf.saved_model.loader.load(sess, ["serve", "gpu"], export_dir)
        with pytest.raises(tf.errors.NotFoundError, match="does not exist"):
            tf.saved_model.loader.load(sess, ["serve"], str(tmp_path / "nothing"))


def test_simple_save_and_load_back(tmp_path):
    export_dir = str(tmp_path / "model")
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [None], name="x")
        w = tf.Variable(3.0, name="w")
        y = tf.identity(x * w + 1.0, name="y")
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            sess.run(w.assign(4.0))
            tf.saved_model.simple_save(sess, export_dir, inputs={"x": x}, outputs={"y": y})
    assert os.path.exists(os.path.join(export_dir, "variables", "variables.index"))
    with tf.Graph().as_default(), tf.Session() as sess:
        meta = tf.saved_model.loader.load(sess, ["serve"], export_dir)
        sig = meta.signature_def["serving_default"]
        assert sig.inputs["x"].name == "x:0" and sig.inputs["x"].dtype == 1
        got = sess.run(sig.outputs["y"].name, {sig.inputs["x"].name: [1.0, 2.0]})
        np.testing.assert_allclose(got, [5.0, 9.0])
