"""String tensors: constants, feeds and fetches as numpy object arrays of
bytes, and the string ops, against Python's own string functions."""

import base64

import numpy as np
import pytest

import tfc as tf


def test_constants_feeds_and_fetches():
    c = tf.constant([["ab", b"c\x00d"], [u"\u00e9", ""]])
    assert c.dtype == tf.string and c.get_shape().as_list() == [2, 2]
    s = tf.constant("x")
    p = tf.placeholder(tf.string, [None])
    joined = tf.concat([tf.reshape(c, [-1]), p], 0)
    with tf.Session() as sess:
        got_c, got_s, got_j = sess.run([c, s, joined],
                                       {p: np.array([b"q", b"rr"], dtype=object)})
        assert got_s == b"x"
        assert got_c.dtype == object
        assert got_c.tolist() == [[b"ab", b"c\x00d"], [u"\u00e9".encode(), b""]]
        assert got_j.tolist() == [b"ab", b"c\x00d", u"\u00e9".encode(), b"", b"q", b"rr"]
        # numpy S and U arrays and plain lists feed too
        assert sess.run(p, {p: np.array(["u1", "u22"])}).tolist() == [b"u1", b"u22"]
        assert sess.run(p, {p: np.array([b"s"], dtype="S3")}).tolist() == [b"s"]
        assert sess.run(p, {p: ["a", b"b"]}).tolist() == [b"a", b"b"]
        with pytest.raises(ValueError):
            sess.run(p, {p: [["a"]]})
        with pytest.raises(TypeError):
            sess.run(p, {p: [1, 2]})


def test_string_variable():
    v = tf.Variable(["a", "b"], dtype=tf.string)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        assert sess.run(v).tolist() == [b"a", b"b"]


def test_decode_raw_matches_frombuffer():
    rng = np.random.RandomState(0)
    rows = [rng.randn(3).astype(np.float32).tobytes() for _ in range(4)]
    raw = tf.placeholder(tf.string, [None])
    f = tf.decode_raw(raw, tf.float32)
    u = tf.decode_raw(raw, tf.uint8)
    with tf.Session() as sess:
        got_f, got_u = sess.run([f, u], {raw: rows})
    np.testing.assert_array_equal(got_f, np.stack([np.frombuffer(r, np.float32) for r in rows]))
    np.testing.assert_array_equal(got_u, np.stack([np.frombuffer(r, np.uint8) for r in rows]))


def test_string_split_is_a_sparse_tensor():
    src = ["hello world", "a  b c", ""]
    sp = tf.string_split(src)
    assert isinstance(sp, tf.SparseTensor)
    with tf.Session() as sess:
        v = sess.run(sp)
    assert isinstance(v, tf.SparseTensorValue)
    want_idx, want_val = [], []
    for i, s in enumerate(src):
        for j, tok in enumerate(s.split()):
            want_idx.append([i, j])
            want_val.append(tok.encode())
    np.testing.assert_array_equal(v.indices, want_idx)
    assert v.values.tolist() == want_val
    np.testing.assert_array_equal(v.dense_shape, [3, max(len(s.split()) for s in src)])


def test_string_to_number_and_as_string():
    s = tf.constant(["1.5", "-2", "3e2"])
    n = tf.string_to_number(s)
    i = tf.string_to_number(tf.constant(["7", "-12"]), out_type=tf.int32)
    a = tf.as_string(tf.constant([1, 22, -3]))
    af = tf.as_string(tf.constant([1.25, 2.0]), precision=2)
    with tf.Session() as sess:
        np.testing.assert_allclose(sess.run(n), [1.5, -2, 300])
        np.testing.assert_array_equal(sess.run(i), [7, -12])
        assert sess.run(a).tolist() == [b"1", b"22", b"-3"]
        assert sess.run(af).tolist() == [b"1.25", b"2.00"]
        with pytest.raises(tf.errors.InvalidArgumentError):
            sess.run(tf.string_to_number(tf.constant("x1")))


def test_join_substr_reduce_join_base64():
    a = tf.constant(["ab", "cd"])
    j = tf.string_join([a, "x"], separator="-")
    sub = tf.substr(tf.constant(["hello", "world"]), [1, 0], [3, 2])
    rj = tf.reduce_join(tf.constant([["a", "b"], ["c", "d"]]), axis=1, separator=",")
    raw = [b"\x00\xffbytes?", b"tfc"]
    enc = tf.encode_base64(tf.constant(raw))
    dec = tf.decode_base64(enc)
    with tf.Session() as sess:
        assert sess.run(j).tolist() == [b"ab-x", b"cd-x"]
        assert sess.run(sub).tolist() == [b"ell", b"wo"]
        assert sess.run(rj).tolist() == [b"a,b", b"c,d"]
        e, d = sess.run([enc, dec])
    assert e.tolist() == [base64.urlsafe_b64encode(r).rstrip(b"=") for r in raw]
    assert d.tolist() == raw


def test_decode_csv_and_hash_buckets():
    recs = tf.constant(["1,2.5,x", "4,,y"])
    c0, c1, c2 = tf.decode_csv(recs, [[0], [9.0], ["d"]])
    h = tf.string_to_hash_bucket_fast(tf.constant(["a", "b", "a"]), 10)
    with tf.Session() as sess:
        a, b, c = sess.run([c0, c1, c2])
        hv = sess.run(h)
    np.testing.assert_array_equal(a, [1, 4])
    np.testing.assert_allclose(b, [2.5, 9.0])
    assert c.tolist() == [b"x", b"y"]
    assert hv[0] == hv[2] and np.all((hv >= 0) & (hv < 10))


def _example(x, label, tags):
    return tf.train.Example(features=tf.train.Features(feature={
        "x": tf.train.Feature(float_list=tf.train.FloatList(value=x)),
        "label": tf.train.Feature(int64_list=tf.train.Int64List(value=[label])),
        "tags": tf.train.Feature(bytes_list=tf.train.BytesList(value=tags))})).SerializeToString()


def test_parse_example_dense_and_sparse():
    recs = [_example([1, 2], 3, [b"a"]), _example([4, 5], 6, []), _example([7, 8], 9, [b"b", b"c"])]
    ser = tf.placeholder(tf.string, [None])
    feats = tf.parse_example(ser, {
        "x": tf.FixedLenFeature([2], tf.float32),
        "label": tf.FixedLenFeature([], tf.int64),
        "missing": tf.FixedLenFeature([1], tf.int64, default_value=[-1]),
        "tags": tf.VarLenFeature(tf.string)})
    with tf.Session() as sess:
        out = sess.run(feats, {ser: recs})
    np.testing.assert_array_equal(out["x"], [[1, 2], [4, 5], [7, 8]])
    np.testing.assert_array_equal(out["label"], [3, 6, 9])
    np.testing.assert_array_equal(out["missing"], [[-1], [-1], [-1]])
    tags = out["tags"]
    assert isinstance(tags, tf.SparseTensorValue)
    np.testing.assert_array_equal(tags.indices, [[0, 0], [2, 0], [2, 1]])
    assert tags.values.tolist() == [b"a", b"b", b"c"]
    np.testing.assert_array_equal(tags.dense_shape, [3, 2])


def test_parse_single_example_and_errors():
    rec = _example([1.5, 2.5], 4, [b"z"])
    f = tf.parse_single_example(tf.constant(rec), {"x": tf.FixedLenFeature([2], tf.float32),
                                                   "tags": tf.VarLenFeature(tf.string)})
    req = tf.parse_single_example(tf.constant(rec), {"nope": tf.FixedLenFeature([], tf.int64)})
    with tf.Session() as sess:
        out = sess.run(f)
        np.testing.assert_array_equal(out["x"], [1.5, 2.5])
        assert out["tags"].values.tolist() == [b"z"]
        np.testing.assert_array_equal(out["tags"].indices, [[0]])
        with pytest.raises(tf.errors.InvalidArgumentError, match="nope"):
            sess.run(req)
