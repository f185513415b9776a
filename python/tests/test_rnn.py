"""RNN cells, static_rnn and dynamic_rnn against numpy references computed
with the variables tfc made (TensorFlow's variable names)."""

import numpy as np
import pytest

import tfc as tf

B, T, D, N = 3, 5, 4, 6


def _sig(x):
    return 1 / (1 + np.exp(-x))


def np_lstm_step(x, c, h, k, b, forget_bias=1.0, peep=None, proj=None):
    z = np.concatenate([x, h], 1) @ k + b
    i, j, f, o = np.split(z, 4, axis=1)
    if peep is None:
        c2 = _sig(f + forget_bias) * c + _sig(i) * np.tanh(j)
        h2 = _sig(o) * np.tanh(c2)
    else:
        wf, wi, wo = peep
        c2 = _sig(f + forget_bias + wf * c) * c + _sig(i + wi * c) * np.tanh(j)
        h2 = _sig(o + wo * c2) * np.tanh(c2)
    if proj is not None:
        h2 = h2 @ proj
    return c2, h2


def np_gru_step(x, h, gk, gb, ck, cb):
    g = _sig(np.concatenate([x, h], 1) @ gk + gb)
    r, u = np.split(g, 2, axis=1)
    c = np.tanh(np.concatenate([x, r * h], 1) @ ck + cb)
    return u * h + (1 - u) * c


def np_unroll(step, x, state, seq=None):
    """step(x_t, state) -> (out, state); masks as dynamic_rnn does."""
    outs = []
    for t in range(x.shape[1]):
        out, new = step(x[:, t], state)
        if seq is not None:
            keep = (t < np.asarray(seq))[:, None]
            out = np.where(keep, out, 0)
            new = tuple(np.where(keep, n, o) for n, o in zip(new, state))
        outs.append(out)
        state = new
    return np.stack(outs, 1), state


def _vars(sess):
    return {v.op.name: sess.run(v) for v in tf.global_variables()}


def _x(seed=0, dtype=np.float32):
    return np.random.RandomState(seed).randn(B, T, D).astype(dtype)


def test_basic_lstm_dynamic_rnn_c_path():
    x = tf.placeholder(tf.float32, [B, T, D])
    seq = [5, 2, 0]
    cell = tf.nn.rnn_cell.BasicLSTMCell(N)
    out, st = tf.nn.dynamic_rnn(cell, x, sequence_length=seq, dtype=tf.float32)
    assert isinstance(st, tf.nn.rnn_cell.LSTMStateTuple)
    assert out.get_shape().as_list() == [B, T, N]
    xv = _x()
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        o, (c, h) = sess.run([out, st], {x: xv})
        v = _vars(sess)
    assert sorted(v) == ["rnn/basic_lstm_cell/bias", "rnn/basic_lstm_cell/kernel"]
    k, b = v["rnn/basic_lstm_cell/kernel"], v["rnn/basic_lstm_cell/bias"]
    assert k.shape == (D + N, 4 * N)

    def step(xt, s):
        c2, h2 = np_lstm_step(xt, s[0], s[1], k, b)
        return h2, (c2, h2)
    z = np.zeros((B, N), np.float32)
    ro, (rc, rh) = np_unroll(step, xv, (z, z), seq)
    np.testing.assert_allclose(o, ro, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(c, rc, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(h, rh, rtol=1e-4, atol=1e-5)


def test_static_rnn_and_unknown_batch_match():
    # static_rnn over C cells (tfc_static_rnn) and dynamic_rnn with an
    # unknown batch size (unrolled here) give numpy's values
    xs = [tf.placeholder(tf.float32, [B, D]) for _ in range(T)]
    xd = tf.placeholder(tf.float32, [None, T, D])
    cell = tf.nn.rnn_cell.MultiRNNCell([tf.nn.rnn_cell.BasicLSTMCell(N) for _ in range(2)])
    outs, st = tf.nn.static_rnn(cell, xs, dtype=tf.float32)
    cell2 = tf.contrib.rnn.BasicLSTMCell(N)
    od, _ = tf.nn.dynamic_rnn(cell2, xd, dtype=tf.float32, scope="dyn")
    xv = _x(1)
    feed = {p: xv[:, t] for t, p in enumerate(xs)}
    feed[xd] = xv
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        o, s, o2 = sess.run([outs, st, od], feed)
        v = _vars(sess)
    pre = "rnn/multi_rnn_cell/cell_%d/basic_lstm_cell/"
    assert pre % 0 + "kernel" in v and pre % 1 + "bias" in v and "dyn/basic_lstm_cell/kernel" in v
    z = np.zeros((B, N), np.float32)

    def step(xt, s):
        c0, h0 = np_lstm_step(xt, s[0], s[1], v[pre % 0 + "kernel"], v[pre % 0 + "bias"])
        c1, h1 = np_lstm_step(h0, s[2], s[3], v[pre % 1 + "kernel"], v[pre % 1 + "bias"])
        return h1, (c0, h0, c1, h1)
    ro, rs = np_unroll(step, xv, (z, z, z, z))
    np.testing.assert_allclose(np.stack(o, 1), ro, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(s[1].h, rs[3], rtol=1e-4, atol=1e-5)

    def step2(xt, s):
        c2, h2 = np_lstm_step(xt, s[0], s[1], v["dyn/basic_lstm_cell/kernel"],
                              v["dyn/basic_lstm_cell/bias"])
        return h2, (c2, h2)
    ro2, _ = np_unroll(step2, xv, (z, z))
    np.testing.assert_allclose(o2, ro2, rtol=1e-4, atol=1e-5)


def test_gru_cell():
    x = tf.placeholder(tf.float32, [B, T, D])
    out, st = tf.nn.dynamic_rnn(tf.nn.rnn_cell.GRUCell(N), x, sequence_length=[1, 5, 3],
                                dtype=tf.float32)
    xv = _x(2)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        o, h = sess.run([out, st], {x: xv})
        v = _vars(sess)
    p = "rnn/gru_cell/"
    np.testing.assert_array_equal(v[p + "gates/bias"], np.ones(2 * N))

    def step(xt, s):
        h2 = np_gru_step(xt, s[0], v[p + "gates/kernel"], v[p + "gates/bias"],
                         v[p + "candidate/kernel"], v[p + "candidate/bias"])
        return h2, (h2,)
    ro, (rh,) = np_unroll(step, xv, (np.zeros((B, N), np.float32),), [1, 5, 3])
    np.testing.assert_allclose(o, ro, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(h, rh, rtol=1e-4, atol=1e-5)


def test_lstm_cell_peepholes_projection():
    P = 3
    x = tf.placeholder(tf.float32, [B, T, D])
    cell = tf.nn.rnn_cell.LSTMCell(N, use_peepholes=True, num_proj=P, forget_bias=0.5)
    assert cell.state_size == (N, P) and cell.output_size == P
    out, st = tf.nn.dynamic_rnn(cell, x, dtype=tf.float32)
    xv = _x(3)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        o = sess.run(out, {x: xv})
        v = _vars(sess)
    p = "rnn/lstm_cell/"
    peep = (v[p + "w_f_diag"], v[p + "w_i_diag"], v[p + "w_o_diag"])

    def step(xt, s):
        c2, h2 = np_lstm_step(xt, s[0], s[1], v[p + "kernel"], v[p + "bias"], 0.5, peep,
                              v[p + "projection/kernel"])
        return h2, (c2, h2)
    ro, _ = np_unroll(step, xv, (np.zeros((B, N), np.float32), np.zeros((B, P), np.float32)))
    np.testing.assert_allclose(o, ro, rtol=1e-4, atol=1e-5)


def test_mixed_multi_cell_and_basic_rnn_cell():
    x = tf.placeholder(tf.float32, [B, T, D])
    cell = tf.nn.rnn_cell.MultiRNNCell([tf.nn.rnn_cell.BasicRNNCell(N),
                                        tf.nn.rnn_cell.BasicLSTMCell(N)])
    out, st = tf.nn.dynamic_rnn(cell, x, dtype=tf.float32)
    xv = _x(4)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        o = sess.run(out, {x: xv})
        v = _vars(sess)
    p0 = "rnn/multi_rnn_cell/cell_0/basic_rnn_cell/"
    p1 = "rnn/multi_rnn_cell/cell_1/basic_lstm_cell/"
    z = np.zeros((B, N), np.float32)

    def step(xt, s):
        h0 = np.tanh(np.concatenate([xt, s[0]], 1) @ v[p0 + "kernel"] + v[p0 + "bias"])
        c1, h1 = np_lstm_step(h0, s[1], s[2], v[p1 + "kernel"], v[p1 + "bias"])
        return h1, (h0, c1, h1)
    ro, _ = np_unroll(step, xv, (z, z, z))
    np.testing.assert_allclose(o, ro, rtol=1e-4, atol=1e-5)


def test_cell_call_reuses_variables():
    cell = tf.nn.rnn_cell.GRUCell(N)
    x = tf.placeholder(tf.float32, [B, D])
    h = cell.zero_state(B, tf.float32)
    for _ in range(3):
        _, h = cell(x, h)
    assert len(tf.trainable_variables()) == 4
    lstm = tf.nn.rnn_cell.BasicLSTMCell(N)
    s = lstm.zero_state(B, tf.float32)
    for _ in range(2):
        _, s = lstm(x, s)
    assert len(tf.trainable_variables()) == 6


def _gru_loss_and_grad(dtype):
    x = tf.placeholder(dtype, [B, T, D])
    out, _ = tf.nn.dynamic_rnn(tf.nn.rnn_cell.GRUCell(N), x, sequence_length=[5, 3, 4],
                               dtype=dtype)
    loss = tf.reduce_sum(out * out)
    return x, loss


def test_gru_gradient_matches_finite_differences():
    x, loss = _gru_loss_and_grad(tf.float64)
    k = [v for v in tf.trainable_variables() if v.op.name.endswith("candidate/kernel")][0]
    gk, gx = tf.gradients(loss, [k, x])
    xv = _x(5, np.float64)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        a_k, a_x = sess.run([gk, gx], {x: xv})
        kv = sess.run(k)
        eps = 1e-6
        for idx in [(0, 0), (3, 2), (D + 1, N - 1)]:
            kp, km = kv.copy(), kv.copy()
            kp[idx] += eps
            km[idx] -= eps
            sess.run(k.assign(kp))
            lp = sess.run(loss, {x: xv})
            sess.run(k.assign(km))
            lm = sess.run(loss, {x: xv})
            np.testing.assert_allclose(a_k[idx], (lp - lm) / (2 * eps), rtol=1e-5, atol=1e-8)
        sess.run(k.assign(kv))
        for idx in [(0, 0, 0), (1, 4, 2)]:  # (1, 4): past example 1's length: no gradient
            xp, xm = xv.copy(), xv.copy()
            xp[idx] += eps
            xm[idx] -= eps
            num = (sess.run(loss, {x: xp}) - sess.run(loss, {x: xm})) / (2 * eps)
            np.testing.assert_allclose(a_x[idx], num, rtol=1e-5, atol=1e-8)
    assert a_x[1, 4, 2] == 0


def test_lstm_trains():
    rng = np.random.RandomState(0)
    xv = rng.randn(8, T, D).astype(np.float32)
    yv = xv.sum(axis=(1, 2))[:, None].astype(np.float32) * 0.1
    x = tf.placeholder(tf.float32, [8, T, D])
    y = tf.placeholder(tf.float32, [8, 1])
    out, st = tf.nn.dynamic_rnn(tf.nn.rnn_cell.BasicLSTMCell(N), x, dtype=tf.float32)
    pred = tf.layers.dense(st.h, 1)
    loss = tf.reduce_mean(tf.square(pred - y))
    train = tf.train.AdamOptimizer(0.05).minimize(loss)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        first = sess.run(loss, {x: xv, y: yv})
        for _ in range(60):
            sess.run(train, {x: xv, y: yv})
        last = sess.run(loss, {x: xv, y: yv})
    assert last < 0.2 * first


def test_dropout_wrapper_and_bidirectional():
    x = tf.placeholder(tf.float32, [B, T, D])
    keep1 = tf.nn.rnn_cell.DropoutWrapper(tf.nn.rnn_cell.GRUCell(N), output_keep_prob=1.0)
    o1, _ = tf.nn.dynamic_rnn(keep1, x, dtype=tf.float32, scope="a")
    drop = tf.nn.rnn_cell.DropoutWrapper(tf.nn.rnn_cell.GRUCell(N), output_keep_prob=0.5)
    o2, _ = tf.nn.dynamic_rnn(drop, x, dtype=tf.float32, scope="b")
    (fw, bw), _ = tf.nn.bidirectional_dynamic_rnn(tf.nn.rnn_cell.GRUCell(N),
                                                  tf.nn.rnn_cell.GRUCell(N), x,
                                                  dtype=tf.float32)
    xv = _x(6)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        a, b, f, w = sess.run([o1, o2, fw, bw], {x: xv})
        v = _vars(sess)
    assert np.all(a != 0)
    assert 0 < np.mean(b == 0) < 1
    p = "bidirectional_rnn/bw/rnn/gru_cell/"

    def step(xt, s):
        h2 = np_gru_step(xt, s[0], v[p + "gates/kernel"], v[p + "gates/bias"],
                         v[p + "candidate/kernel"], v[p + "candidate/bias"])
        return h2, (h2,)
    ro, _ = np_unroll(step, xv[:, ::-1], (np.zeros((B, N), np.float32),))
    np.testing.assert_allclose(w, ro[:, ::-1], rtol=1e-4, atol=1e-5)
    assert f.shape == (B, T, N)


def test_errors():
    with pytest.raises(ValueError):
        tf.nn.dynamic_rnn(tf.nn.rnn_cell.GRUCell(N), tf.placeholder(tf.float32, [B, T, D]))
    with pytest.raises(ValueError):
        tf.nn.rnn_cell.MultiRNNCell([])
