"""The talks' programs (shared/seeds/000-004), run with `import tfc as tf`
in place of `import tensorflow as tf`. Python 2's print statements became
print() calls; where a slide elides code ("...") or has a typo, the
completion is marked "completed:". Each test checks the values the talk
states or, for random weights, the value numpy computes from the fetched
weights."""

import collections
import gzip
import math
import os

import numpy as np
import pytest

import tfc as tf
from conftest import FASHION_MNIST


# ---------------------------------------------------------------------------
# 000: first lesson
# ---------------------------------------------------------------------------

def test_first_lesson_relu_network(capsys):
    tf.set_random_seed(2)
    # --- talk ---
    sess = tf.Session()
    x = tf.placeholder("float", [1, 3])
    w = tf.Variable(tf.random_normal([3, 3]), name='w')
    y = tf.matmul(x, w)
    relu_out = tf.nn.relu(y)
    sess.run(tf.initialize_all_variables())
    print(sess.run(relu_out, feed_dict={x: np.array([[1.0, 2.0, 3.0]])}))
    # --- checks ---
    out = sess.run(relu_out, feed_dict={x: np.array([[1.0, 2.0, 3.0]])})
    want = np.maximum(np.array([[1.0, 2.0, 3.0]], np.float32) @ sess.run(w), 0)
    np.testing.assert_allclose(out, want, rtol=1e-6)
    assert out.dtype == np.float32 and out.shape == (1, 3)
    assert w.name == "w:0" and w.op.type == "VariableV2"
    assert out.any()  # this seed gives a positive unit
    assert capsys.readouterr().out.strip() == str(out)
    sess.close()


def test_first_lesson_softmax_and_difference():
    tf.set_random_seed(2)
    with tf.Session() as sess:
        x = tf.placeholder("float", [1, 3])
        w = tf.Variable(tf.random_normal([3, 3]), name='w')
        relu_out = tf.nn.relu(tf.matmul(x, w))
        softmax = tf.nn.softmax(relu_out)
        sess.run(tf.initialize_all_variables())
        answer = np.array([[0.0, 1.0, 0.0]])
        print(answer - sess.run(softmax, feed_dict={x: np.array([[1.0, 2.0, 3.0]])}))
        # --- checks ---
        p = sess.run(softmax, feed_dict={x: np.array([[1.0, 2.0, 3.0]])})
        r = np.maximum(np.array([[1.0, 2.0, 3.0]]) @ sess.run(w), 0)
        np.testing.assert_allclose(p, np.exp(r) / np.exp(r).sum(), rtol=1e-5)
        assert abs(p.sum() - 1) < 1e-6


def _first_lesson_training(layers_with_scope=False):
    """The first lesson's model grown slide by slide: a ReLU layer, a
    softmax layer with biases, cross-entropy + L2, gradient descent."""
    x = tf.placeholder("float", [1, 3])
    relu_out = x
    num_layers = 2
    for layer in range(num_layers):
        with tf.name_scope('relu'):
            w = tf.Variable(tf.random_normal([3, 3]))
            b = tf.Variable(tf.zeros([1, 3]))
            relu_out = tf.nn.relu(tf.matmul(relu_out, w) + b)
    softmax_w = tf.Variable(tf.random_normal([3, 3]))
    softmax_b = tf.Variable(tf.zeros([1, 3]))
    logit = tf.matmul(relu_out, softmax_w) + softmax_b
    softmax = tf.nn.softmax(logit)
    labels = tf.placeholder("float", [1, 3])
    cross_entropy = tf.nn.softmax_cross_entropy_with_logits(
        logit, labels, name='xentropy')
    l2reg = tf.reduce_sum(tf.square(softmax_w))
    loss = cross_entropy + l2reg
    optimizer = tf.train.GradientDescentOptimizer(0.1)
    train_op = optimizer.minimize(loss)
    return x, labels, softmax, cross_entropy, l2reg, loss, train_op, softmax_w, w


def test_first_lesson_gradient_descent_steps():
    tf.set_random_seed(3)
    x, labels, softmax, cross_entropy, l2reg, loss, train_op, softmax_w, w = \
        _first_lesson_training()
    answer = np.array([[0.0, 1.0, 0.0]])
    sess = tf.Session()
    sess.run(tf.initialize_all_variables())
    feed = {x: np.array([[1.0, 2.0, 3.0]]), labels: answer}
    before = sess.run(loss, feed_dict=feed)
    for step in range(10):
        sess.run(train_op,
                 feed_dict={x: np.array([[1.0, 2.0, 3.0]]), labels: answer})
    print(sess.run(l2reg))
    # --- checks ---
    after = sess.run(loss, feed_dict=feed)
    assert after[0] < before[0]
    np.testing.assert_allclose(sess.run(l2reg), (sess.run(softmax_w) ** 2).sum(), rtol=1e-5)
    assert cross_entropy.op.name == "xentropy"
    # name_scope('relu') twice: relu/ and relu_1/
    names = [op.name for op in tf.get_default_graph().get_operations()]
    assert "relu/MatMul" in names and "relu_1/MatMul" in names
    assert w.name.startswith("relu_1/")


def test_first_lesson_summaries_and_saver(tmp_path):
    tf.set_random_seed(4)
    x, labels, softmax, cross_entropy, l2reg, loss, train_op, softmax_w, w = \
        _first_lesson_training()
    tf.scalar_summary('loss', tf.reduce_mean(loss))
    tf.histogram_summary('softmax_w', softmax_w)
    answer = np.array([[0.0, 1.0, 0.0]])
    sess = tf.Session()
    sess.run(tf.initialize_all_variables())
    writer = tf.train.SummaryWriter(str(tmp_path / 'tf_logs'), sess.graph_def)
    merged_summaries = tf.merge_all_summaries()
    for step in range(3):
        results = sess.run([train_op, merged_summaries],
                           feed_dict={x: np.array([[1.0, 2.0, 3.0]]), labels: answer})
        writer.add_summary(results[1], step)
    writer.close()
    saver = tf.train.Saver()
    save_path = saver.save(sess, str(tmp_path / 'model.ckpt'))
    # --- checks ---
    assert results[0] is None and isinstance(results[1], bytes) and len(results[1]) > 10
    events = os.listdir(str(tmp_path / 'tf_logs'))
    assert len(events) == 1 and events[0].startswith("events.out.tfevents.")
    assert os.path.getsize(str(tmp_path / 'tf_logs' / events[0])) > 200
    saved = sess.run(softmax_w)
    sess.run(tf.initialize_all_variables())
    assert not np.allclose(sess.run(softmax_w), saved)
    saver.restore(sess, save_path)
    np.testing.assert_array_equal(sess.run(softmax_w), saved)
    assert tf.train.latest_checkpoint(str(tmp_path)) == save_path


def test_first_lesson_conv2d():
    rng = np.random.RandomState(0)
    image = rng.rand(1, 5, 5, 2).astype(np.float32)
    kernel = rng.rand(3, 3, 2, 4).astype(np.float32)
    input = tf.constant(image)
    filter = tf.constant(kernel)
    out = tf.nn.conv2d(input, filter, strides=[1, 1, 1, 1], padding='VALID')
    with tf.Session() as sess:
        got = sess.run(out)
    want = np.zeros((1, 3, 3, 4), np.float32)
    for i in range(3):
        for j in range(3):
            want[0, i, j] = np.tensordot(image[0, i:i + 3, j:j + 3], kernel, axes=3)
    np.testing.assert_allclose(got, want, rtol=1e-5)


def test_first_lesson_lstm_cell_equations():
    # BasicLSTMCell's step as the slide writes it (array_ops -> tf, and
    # `linear` as a matmul with a [x, h] weight): pre-1.0 split order.
    rng = np.random.RandomState(1)
    num_units, forget_bias = 4, 1.0
    x_value = rng.rand(2, 3).astype(np.float32)
    state_value = rng.rand(2, 2 * num_units).astype(np.float32)
    kernel = rng.rand(3 + num_units, 4 * num_units).astype(np.float32)
    inputs, state = tf.constant(x_value), tf.constant(state_value)
    sigmoid, tanh = tf.sigmoid, tf.tanh
    # --- talk ---
    c, h = tf.split(1, 2, state)
    concat = tf.matmul(tf.concat(1, [inputs, h]), tf.constant(kernel))
    # i = input_gate, j = new_input, f = forget_gate, o = output_gate
    i, j, f, o = tf.split(1, 4, concat)
    new_c = c * sigmoid(f + forget_bias) + sigmoid(i) * tanh(j)
    new_h = tanh(new_c) * sigmoid(o)
    # --- checks ---
    with tf.Session() as sess:
        got_c, got_h = sess.run([new_c, new_h])
    cv, hv = np.split(state_value, 2, 1)
    iv, jv, fv, ov = np.split(np.concatenate([x_value, hv], 1) @ kernel, 4, 1)
    sig = lambda v: 1 / (1 + np.exp(-v))  # noqa: E731
    want_c = cv * sig(fv + forget_bias) + sig(iv) * np.tanh(jv)
    np.testing.assert_allclose(got_c, want_c, rtol=1e-5)
    np.testing.assert_allclose(got_h, np.tanh(want_c) * sig(ov), rtol=1e-5)


def test_first_lesson_word2vec_nce():
    tf.set_random_seed(5)
    vocabulary_size, embedding_size, batch_size, num_sampled = 50, 8, 16, 5
    train_inputs = tf.placeholder(tf.int32, shape=[batch_size])
    train_labels = tf.placeholder(tf.int32, shape=[batch_size, 1])
    # Look up embeddings for inputs.
    embeddings = tf.Variable(
        tf.random_uniform([vocabulary_size, embedding_size], -1.0, 1.0))
    embed = tf.nn.embedding_lookup(embeddings, train_inputs)
    # Construct the variables for the NCE loss
    nce_weights = tf.Variable(
        tf.truncated_normal([vocabulary_size, embedding_size],
                            stddev=1.0 / math.sqrt(embedding_size)))
    nce_biases = tf.Variable(tf.zeros([vocabulary_size]))
    # Compute the average NCE loss for the batch.
    # tf.nce_loss automatically draws a new sample of the negative labels each
    # time we evaluate the loss.
    loss = tf.reduce_mean(
        tf.nn.nce_loss(nce_weights, nce_biases, embed, train_labels,
                       num_sampled, vocabulary_size))
    # completed: the word2vec tutorial's optimizer and a few steps on pairs
    # (w, w + 1 mod V), so the loss must fall
    optimizer = tf.train.GradientDescentOptimizer(1.0).minimize(loss)
    rng = np.random.RandomState(0)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        losses = []
        for step in range(300):
            words = rng.randint(0, vocabulary_size, batch_size)
            feed = {train_inputs: words,
                    train_labels: ((words + 1) % vocabulary_size).reshape(-1, 1)}
            _, l = sess.run([optimizer, loss], feed)
            losses.append(l)
    assert np.mean(losses[-30:]) < 0.6 * np.mean(losses[:30])


# ---------------------------------------------------------------------------
# 001: tensors, sessions, variables, linear regression, MNIST batches
# ---------------------------------------------------------------------------

def test_numpy_recap_in_tensorflow(capsys):
    sess = tf.InteractiveSession()
    a = tf.zeros((2, 2)); b = tf.ones((2, 2))  # noqa: E702
    out = tf.reduce_sum(b, reduction_indices=1).eval()
    assert repr(out) == "array([2., 2.], dtype=float32)"
    assert repr(a.get_shape()) == "TensorShape([Dimension(2), Dimension(2)])"
    assert repr(tf.reshape(a, (1, 4)).eval()) == "array([[0., 0., 0., 0.]], dtype=float32)"
    a = np.zeros((2, 2))
    ta = tf.zeros((2, 2))
    print(a)
    print(ta)
    assert capsys.readouterr().out.splitlines()[-1] == \
        'Tensor("zeros_1:0", shape=(2, 2), dtype=float32)'
    sess.close()


def test_three_ways_to_use_sessions():
    # 1) Using the Session object:
    a = tf.constant(5.0)
    b = tf.constant(6.0)
    c = a * b
    sess = tf.Session()
    print(sess.run(c))
    assert sess.run(c) == 30.0
    sess.close()
    # 2) Using the context manager:
    a = tf.constant(5.0)
    b = tf.constant(6.0)
    c = a * b
    with tf.Session() as sess:
        print(c.eval())
        assert c.eval() == 30.0
    # 3) Using Interactive Session:
    sess = tf.InteractiveSession()
    a = tf.constant(5.0)
    b = tf.constant(6.0)
    c = a * b
    print(c.eval())
    assert c.eval() == 30.0 and isinstance(c.eval(), np.float32)
    sess.close()


def test_device_block():
    # The slide ran on a machine with two GPUs; tfc has CPU devices only,
    # so, as TensorFlow on such a machine, it needs soft placement
    # (completed: the config) and fails without it.
    with tf.Session(config=tf.ConfigProto(allow_soft_placement=True)) as sess:
        with tf.device("/gpu:1"):
            matrix1 = tf.constant([[3., 3.]])
            matrix2 = tf.constant([[2.], [2.]])
            product = tf.matmul(matrix1, matrix2)
        # completed: the slide's "..."
        assert product.op.device == "/gpu:1"
        np.testing.assert_array_equal(sess.run(product), [[12.]])
    with tf.Session() as sess:
        with pytest.raises(tf.errors.InvalidArgumentError, match="Cannot assign a device"):
            sess.run(product)


def test_variables_and_initializers():
    W = tf.Variable(tf.zeros([784, 10]))
    b = tf.Variable(tf.zeros([10]))
    W = tf.Variable(tf.random_normal([784, 10], stddev=0.35), name="weights")
    b = tf.Variable(tf.random_normal([10], stddev=0.35), name="biases")
    # Add an op to initialize the variables.
    init_op = tf.initialize_all_variables()
    # Later, when launching the model
    with tf.Session() as sess:
        # Run the init operation.
        sess.run(init_op)
        # Use the model
        w = sess.run(W)
        assert w.shape == (784, 10) and abs(w.std() - 0.35) < 0.02
        assert sess.run(b).shape == (10,)
    assert W.name == "weights:0" and b.name == "biases:0"


def test_counter(capsys):
    # the talk's "Let's try to do a counter!" (state += 1, print) in TensorFlow
    state = tf.Variable(0, name="counter")
    one = tf.constant(1)
    new_value = tf.add(state, one)
    update = tf.assign(state, new_value)
    init_op = tf.initialize_all_variables()
    with tf.Session() as sess:
        sess.run(init_op)
        for i in range(3):
            sess.run(update)
            print(sess.run(state))
    assert capsys.readouterr().out.split() == ["1", "2", "3"]


def test_placeholders_and_feed_dict(capsys):
    input1 = tf.placeholder(tf.float32)
    input2 = tf.placeholder(tf.float32)
    output = tf.mul(input1, input2)
    print(output)
    with tf.Session() as sess:
        print(sess.run([output], feed_dict={input1: [7.], input2: [3.]}))
    assert capsys.readouterr().out.splitlines() == [
        'Tensor("Mul:0", dtype=float32)', "[array([21.], dtype=float32)]"]


def test_linear_regression_adam():
    # The talk fits the Advertising data set (TV -> Sales), which is not
    # here: the same kind of data, generated, and the least-squares line
    # the talk's W= and b= converge to, computed with numpy.
    np.random.seed(0)  # the talk's initial W and b come from np.random.randn()
    rng = np.random.RandomState(0)
    train_X = rng.uniform(0, 300, (200, 1))
    train_Y = 7.03 + 0.0475 * train_X + rng.normal(0, 2.3, (200, 1))
    n_samples = train_X.shape[0]
    learning_rate, training_epochs, display_step = 0.1, 2000, 200
    # --- talk ---
    X = tf.placeholder("float", [None, 1])
    y = tf.placeholder("float", [None, 1])
    W = tf.Variable(np.random.randn(), name="weight")
    b = tf.Variable(np.random.randn(), name="bias")
    y_pred = tf.add(tf.mul(X, W), b)
    cost = tf.reduce_sum(tf.pow(y_pred - y, 2)) / (n_samples)
    optimizer = tf.train.AdamOptimizer(learning_rate).minimize(cost)
    init = tf.initialize_all_variables()
    with tf.Session() as sess:
        sess.run(init)
        for epoch in range(training_epochs):
            sess.run(optimizer, feed_dict={X: train_X, y: train_Y})
            if epoch % display_step == 0:
                print("Epoch:", '%04d' % (epoch + 1), "cost=",
                      "{:.9f}".format(sess.run(cost, feed_dict={X: train_X, y: train_Y})),
                      "W=", sess.run(W), "b=", sess.run(b))
        print("Optimization Finished!")
        print("cost=", sess.run(cost, feed_dict={X: train_X, y: train_Y}),
              "W=", sess.run(W), "b=", sess.run(b))
        w = sess.run(W)
        fitted = w * train_X + sess.run(b)
        final_cost = sess.run(cost, feed_dict={X: train_X, y: train_Y})
    slope, intercept = np.polyfit(train_X[:, 0], train_Y[:, 0], 1)
    assert abs(w - slope) < 0.002 and abs(fitted[0, 0] - (slope * train_X[0, 0] + intercept)) < 0.2
    best = ((slope * train_X + intercept - train_Y) ** 2).mean()
    assert final_cost < best * 1.01


class _DataSet(object):
    """input_data.read_data_sets' DataSet: next_batch over shuffled rows."""

    def __init__(self, images, labels, seed=0):
        self.images, self.labels = images, labels
        self.num_examples = len(images)
        self._rng = np.random.RandomState(seed)
        self._order = self._rng.permutation(self.num_examples)
        self._pos = 0

    def next_batch(self, n):
        if self._pos + n > self.num_examples:
            self._order = self._rng.permutation(self.num_examples)
            self._pos = 0
        idx = self._order[self._pos:self._pos + n]
        self._pos += n
        return self.images[idx], self.labels[idx]


def _read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(data, np.uint8, offset=4 + 4 * ndim).reshape(dims)


def _fashion_mnist(one_hot=True):
    if not os.path.exists(os.path.join(FASHION_MNIST, "train-images-idx3-ubyte.gz")):
        pytest.skip("Fashion-MNIST is not installed (apt-get install dataset-fashion-mnist)")
    sets = []
    for kind in ("train", "t10k"):
        images = _read_idx(os.path.join(FASHION_MNIST, kind + "-images-idx3-ubyte.gz"))
        labels = _read_idx(os.path.join(FASHION_MNIST, kind + "-labels-idx1-ubyte.gz"))
        images = images.reshape(-1, 784).astype(np.float32) / 255
        labels = np.eye(10, dtype=np.float32)[labels] if one_hot else labels.astype(np.int32)
        sets.append(_DataSet(images, labels))
    Datasets = collections.namedtuple("Datasets", "train test")
    return Datasets(*sets)


def test_mnist_batches_softmax_regression():
    mnist = _fashion_mnist()
    training_epochs, batch_size, display_step = 1, 100, 1
    # tf Graph Input
    X = tf.placeholder("float", [None, 784])  # mnist data image of shape 28*28=784
    Y = tf.placeholder("float", [None, 10])  # 0-9 digits recognition => 10 classes
    # Create model
    # Set model weights
    W = tf.Variable(tf.zeros([784, 10]))
    b = tf.Variable(tf.zeros([10]))  # noqa: F841 (the slides leave it out of the model)
    # Construct model
    Y_pred = tf.nn.softmax(tf.matmul(X, W))  # Softmax
    # completed: the cost and optimizer the slides leave out, and the slide's
    # y/y_pred spelled as the model's Y/Y_pred
    y, y_pred = Y, Y_pred
    cost = tf.reduce_mean(-tf.reduce_sum(y * tf.log(y_pred + 1e-10), reduction_indices=1))
    optimizer = tf.train.GradientDescentOptimizer(0.1).minimize(cost)
    # Initializing the variables
    init = tf.initialize_all_variables()
    # Launch the graph
    with tf.Session() as sess:
        sess.run(init)
        # Training cycle
        for epoch in range(training_epochs):
            avg_cost = 0.
            total_batch = int(mnist.train.num_examples / batch_size)
            # Loop over all batches
            for i in range(total_batch):
                batch_xs, batch_ys = mnist.train.next_batch(batch_size)
                # Fit training using batch data
                sess.run(optimizer, feed_dict={X: batch_xs, y: batch_ys})
                # Compute average loss
                avg_cost += sess.run(cost, feed_dict={X: batch_xs, y: batch_ys}) / total_batch
            # Display logs per epoch step
            if epoch % display_step == 0:
                print("Epoch:", '%04d' % (epoch + 1), "cost=", "{:.9f}".format(avg_cost))
        print("Optimization Finished!")
        # Test model
        correct_prediction = tf.equal(tf.argmax(y_pred, 1), tf.argmax(y, 1))
        # Calculate accuracy
        accuracy = tf.reduce_mean(tf.cast(correct_prediction, "float"))
        acc = accuracy.eval({X: mnist.test.images, y: mnist.test.labels})
        print("Accuracy:", acc)
    assert avg_cost < 1.0 and acc > 0.75


# ---------------------------------------------------------------------------
# 002: build a graph, then run it; linear regression; a CNN with layers
# ---------------------------------------------------------------------------

def test_build_then_run():
    a = tf.placeholder(tf.float32)  # completed: the slide's "..."
    b = tf.placeholder(tf.float32)
    c = tf.add(a, b)
    session = tf.Session()
    value_of_c = session.run(c, {a: 1, b: 2})  # the slide writes {a=1, b=2}
    assert value_of_c == 3


def test_linear_regression_gradient_descent():
    # Mystery equation: y = 0.1 * x + 0.3 + noise, fed in batches
    rng = np.random.RandomState(0)
    x_in = rng.rand(1000, 10).astype(np.float32)
    y_in = 0.1 * x_in + 0.3 + rng.normal(0, 0.01, x_in.shape).astype(np.float32)
    tf.set_random_seed(6)
    # --- talk ---
    x = tf.placeholder(shape=[None],
                       dtype=tf.float32,
                       name='x')
    W = tf.get_variable(shape=[], name='W')
    b = tf.get_variable(shape=[], name='b')
    y = W * x + b
    y_label = tf.placeholder(shape=[None], dtype=tf.float32)  # completed
    loss = tf.reduce_mean(tf.square(y - y_label))
    optimizer = tf.train.GradientDescentOptimizer(0.5)
    train = optimizer.minimize(loss)
    with tf.Session() as sess:
        sess.run(tf.initialize_all_variables())
        for i in range(1000):
            sess.run(train, feed_dict={x: x_in[i],
                                       y_label: y_in[i]})
        w_value, b_value = sess.run([W, b])
        print(sess.run(y, feed_dict={x: [3]}))
    assert abs(w_value - 0.1) < 0.01 and abs(b_value - 0.3) < 0.01
    assert W.name == "W:0" and b.name == "b:0"


def test_convolutional_network_with_contrib_layers():
    tf.set_random_seed(7)
    images = tf.placeholder(tf.float32, [None, 28, 28, 1])
    labels = tf.placeholder(tf.int32, [None])
    x = images
    # --- talk, with the slide's "..." completed ---
    x = tf.contrib.layers.conv2d(x, 8, kernel_size=[5, 5])
    x = tf.contrib.layers.max_pool2d(x, kernel_size=[2, 2])
    x = tf.contrib.layers.conv2d(x, 16, kernel_size=[5, 5])
    x = tf.contrib.layers.max_pool2d(x, kernel_size=[2, 2])
    x = tf.contrib.layers.flatten(x)
    x = tf.contrib.layers.fully_connected(x, 32, activation_fn=tf.nn.relu)
    x = tf.contrib.layers.dropout(x, 0.5)
    logits = tf.contrib.layers.linear(x, 10)  # the slide writes tf.config.layers
    loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels,
                                                                         logits=logits))
    train = tf.train.AdamOptimizer(1e-3).minimize(loss)
    rng = np.random.RandomState(0)
    batch = rng.rand(8, 28, 28, 1).astype(np.float32)
    classes = rng.randint(0, 10, 8)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        first = sess.run(loss, {images: batch, labels: classes})
        for _ in range(30):
            sess.run(train, {images: batch, labels: classes})
        last = sess.run(loss, {images: batch, labels: classes})
        assert sess.run(logits, {images: batch}).shape == (8, 10)
    assert last < first
    names = [v.op.name for v in tf.trainable_variables()]
    assert "Conv/weights" in names and "fully_connected/weights" in names


def test_distributed_devices_are_recorded():
    with tf.device("/job:ps/task:0"):
        weights_1 = tf.Variable(tf.zeros([4, 3]))
        biases_1 = tf.Variable(tf.zeros([3]))
    with tf.device("/job:worker/task:7"):
        inputs = tf.placeholder(tf.float32, [None, 4])
        layer_1 = tf.nn.relu(tf.matmul(inputs, weights_1) + biases_1)
    assert weights_1.device == "/job:ps/task:0" and layer_1.device == "/job:worker/task:7"
    # tfc has no cluster yet: a distributed session says so
    with pytest.raises(tf.errors.UnimplementedError):
        tf.Session("grpc://worker7.example.com:2222")


# ---------------------------------------------------------------------------
# 003: the programming model's example
# ---------------------------------------------------------------------------

def test_relu_of_wx_plus_b():
    b = tf.Variable(tf.zeros([100]))  # 100-d vector, init to zeroes
    W = tf.Variable(tf.random_uniform([784, 100], -1, 1))  # 784x100 matrix w/rnd vals
    x = tf.placeholder(tf.float32, name="x")  # Placeholder for input (completed: a dtype)
    relu = tf.nn.relu(tf.matmul(W, x) + b)  # Relu(Wx+b)
    C = tf.reduce_sum(relu)  # Cost computed as a function of Relu (completed)
    xv = np.random.RandomState(0).rand(100, 100).astype(np.float32)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        got, cost, wv = sess.run([relu, C, W], {x: xv})
    np.testing.assert_allclose(got, np.maximum(wv @ xv, 0), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(cost, got.sum(), rtol=1e-4)
    assert wv.min() >= -1 and wv.max() < 1


# ---------------------------------------------------------------------------
# 004: forward and backward computation, control flow
# ---------------------------------------------------------------------------

def test_forward_and_backward_computation():
    mnist = _fashion_mnist(one_hot=False)
    lr = 0.5
    examples = tf.placeholder(tf.float32)
    labels = tf.placeholder(tf.int32)
    weight = tf.Variable(tf.zeros([784, 10]))
    bias = tf.Variable(tf.zeros([10]))
    y = tf.matmul(examples, weight) + bias
    # completed: the slide's tf.cross_entropy(y, labels) is no TensorFlow op
    loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels,
                                                                         logits=y))
    weights_grad, bias_grad = tf.gradients(loss, [weight, bias])
    new_weights = tf.assign_sub(weight, lr * weights_grad)
    new_bias = tf.assign_sub(bias, lr * bias_grad)
    train_op = tf.group([new_weights, new_bias])
    init = tf.initialize_all_variables()
    sess = tf.Session()
    sess.run(init)
    for i in range(300):
        batch_xs, batch_ys = mnist.train.next_batch(100)
        sess.run(train_op, feed_dict={examples: batch_xs, labels: batch_ys})
    acc = tf.reduce_mean(tf.cast(tf.equal(tf.argmax(y, 1), tf.cast(labels, tf.int64)),
                                 tf.float32))
    assert sess.run(acc, {examples: mnist.test.images, labels: mnist.test.labels}) > 0.7


def test_cond():
    x = tf.constant(2)
    y = tf.constant(5)
    def f1(): return tf.mul(x, 17)  # noqa: E704
    def f2(): return tf.add(y, 23)  # noqa: E704
    r = tf.cond(tf.less(x, y), f1, f2)
    with tf.Session() as sess:
        assert sess.run(r) == 34


def test_while_loop():
    i = tf.constant(0)
    c = lambda i: tf.less(i, 10)  # noqa: E731
    b = lambda i: tf.add(i, 1)  # noqa: E731
    r = tf.while_loop(c, b, [i])
    with tf.Session() as sess:
        assert sess.run(r) == 10


def test_defun_batch_norm():
    from tfc import function  # for: from tensorflow.python.framework import function

    class Model(object):
        _dtype = tf.float32

        def build(self, h_in, gamma_in):
            # --- talk ---
            @function.Defun(*[self._dtype] * 2, func_name='BatchNorm')
            def BatchNorm(h, gamma):
                # Uses a simple two-pass algorithm to compute mean and var for
                # numerical stability.
                mean = tf.reduce_mean(h, [0])
                var = tf.reduce_mean(tf.square(h - mean), [0])
                epsilon = tf.constant(1e-8)
                rstd = tf.rsqrt(var + epsilon)
                return gamma * (h - mean) * rstd
            # --- completed: two calls of the one function, and its gradient
            out = BatchNorm(h_in, gamma_in)
            out2 = BatchNorm(h_in * 2, gamma_in)
            return out, out2, tf.gradients(tf.reduce_sum(out * out2), gamma_in)[0]

    rng = np.random.RandomState(0)
    h = rng.rand(5, 3).astype(np.float32)
    gamma = np.array([1.0, 2.0, 0.5], np.float32)
    out, out2, dgamma = Model().build(tf.constant(h), tf.constant(gamma))
    with tf.Session() as sess:
        got, got2, dg = sess.run([out, out2, dgamma])
    norm = (h - h.mean(0)) / np.sqrt(h.var(0) + 1e-8)
    np.testing.assert_allclose(got, gamma * norm, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(got2, gamma * norm, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(dg, 2 * gamma * (norm ** 2).sum(0), rtol=1e-4)
    calls = [op.name for op in tf.get_default_graph().get_operations()
             if op.type == "PartitionedCall" and not op.name.startswith("gradients/")]
    assert calls == ["BatchNorm/PartitionedCall", "BatchNorm_1/PartitionedCall"]


# ---------------------------------------------------------------------------
# Queues, readers, RNN cells and devices in the talks (000, 001, 002, 003, 004)
# ---------------------------------------------------------------------------

def test_first_lesson_basic_lstm_cell():
    # 000's "LSTM / BasicLSTMCell" slide, with tf.nn.rnn_cell.BasicLSTMCell:
    # one step's c and h follow the slide's equations (forget bias 1.0)
    rng = np.random.RandomState(2)
    x_value = rng.rand(2, 3).astype(np.float32)
    cell = tf.nn.rnn_cell.BasicLSTMCell(4)
    state = cell.zero_state(2, tf.float32)
    output, (c, h) = cell(tf.constant(x_value), state)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        got_c, got_h, out = sess.run([c, h, output])
        kernel, bias = sess.run(tf.trainable_variables())
    sig = lambda v: 1 / (1 + np.exp(-v))  # noqa: E731
    i, j, f, o = np.split(np.concatenate([x_value, np.zeros((2, 4))], 1) @ kernel + bias, 4, 1)
    want_c = sig(f + 1.0) * 0 + sig(i) * np.tanh(j)
    np.testing.assert_allclose(got_c, want_c, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(got_h, sig(o) * np.tanh(want_c), rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(out, got_h)


def test_session_owns_queues_and_readers():
    # 001: "A session may own resources, such as variables, queues, and
    # readers. It is important to release these resources": closing the
    # session ends a dequeue waiting on its queue.
    import threading
    q = tf.FIFOQueue(1, [tf.float32], shapes=[[]])
    reader = tf.TextLineReader()
    deq = q.dequeue()
    sess = tf.Session()
    errors = []

    def wait():
        try:
            sess.run(deq)
        except tf.errors.CancelledError as e:
            errors.append(e)
    t = threading.Thread(target=wait)
    t.start()
    import time
    time.sleep(0.1)
    sess.close()
    t.join(30)
    assert not t.is_alive() and len(errors) == 1
    assert reader.reader_ref.dtype == tf.resource


def test_input_pipeline_with_queues(tmp_path):
    # 002's "Input Pipelines with Queues" slide shows its title only;
    # completed: TensorFlow 1.x's reading-data program (file names -> a
    # queue -> a reader -> decode -> shuffle_batch, run by queue runners
    # under a Coordinator).
    filenames = []
    for k in range(3):
        p = tmp_path / ("data%d.csv" % k)
        p.write_text("".join("%d,%d,%d\n" % (10 * k + i, i, 2 * i) for i in range(5)))
        filenames.append(str(p))
    # --- the program ---
    filename_queue = tf.train.string_input_producer(filenames, num_epochs=1)
    reader = tf.TextLineReader()
    key, value = reader.read(filename_queue)
    record_defaults = [[0], [0], [0]]
    col1, col2, col3 = tf.decode_csv(value, record_defaults=record_defaults)
    features = tf.stack([col2, col3])
    example_batch, label_batch = tf.train.shuffle_batch(
        [features, col1], batch_size=4, capacity=20, min_after_dequeue=2,
        allow_smaller_final_batch=True)
    seen = []
    with tf.Session() as sess:
        sess.run([tf.global_variables_initializer(), tf.local_variables_initializer()])
        coord = tf.train.Coordinator()
        threads = tf.train.start_queue_runners(coord=coord)
        try:
            while not coord.should_stop():
                example, label = sess.run([example_batch, label_batch])
                seen += list(zip(label.tolist(), example.tolist()))
        except tf.errors.OutOfRangeError:
            print("Done training -- epoch limit reached")
        finally:
            coord.request_stop()
        coord.join(threads)
    # --- checks: every row once, columns kept together
    assert sorted(s[0] for s in seen) == sorted(10 * k + i for k in range(3) for i in range(5))
    assert all(ex == [lab % 10, 2 * (lab % 10)] for lab, ex in seen)


def test_op_table_queue_operations():
    # 003's op table: "Queue and synchronization operations: Enqueue,
    # Dequeue, ..." (completed: a FIFO queue between two runs)
    q = tf.FIFOQueue(3, "float")
    init = q.enqueue_many(([0., 0., 0.],))
    x = q.dequeue()
    y = x + 1
    q_inc = q.enqueue([y])
    with tf.Session() as sess:
        init.run()
        for _ in range(4):
            q_inc.run()
        got = [sess.run(x) for _ in range(3)]
    assert sorted(got) == [1.0, 1.0, 2.0]
    types = {op.type for op in tf.get_default_graph().get_operations()}
    assert {"QueueEnqueueManyV2", "QueueEnqueueV2", "QueueDequeueV2"} <= types


def _stacked_lstms(device_fmt, config):
    # 004's "Stacked LSTMs" slides; completed: the inputs x, the states, and
    # LSTMCell as one BasicLSTMCell per depth (it reads the loop's `d`)
    batch, units = 2, 3
    rng = np.random.RandomState(4)
    xs = rng.rand(8, batch, units).astype(np.float32)
    x = [tf.constant(xs[i]) for i in range(8)]
    cells = [tf.nn.rnn_cell.BasicLSTMCell(units) for _ in range(4)]
    zero = tf.zeros([batch, units])
    m, c = [None] * 4, [None] * 4
    mprev, cprev = [zero] * 4, [zero] * 4
    d = 0

    def LSTMCell(input, mprev, cprev):  # noqa: A002 (the slide's names)
        _, (new_c, new_m) = cells[d](input, tf.nn.rnn_cell.LSTMStateTuple(cprev, mprev))
        return new_m, new_c
    # --- talk (`d is 0` on the slide: == here, `is` with a literal warns in Python 3) ---
    for i in range(8):
        for d in range(4):  # d is depth
            with tf.device(device_fmt % d):
                input = x[i] if d == 0 else m[d - 1]  # noqa: A001
                m[d], c[d] = LSTMCell(input, mprev[d], cprev[d])
                mprev[d] = m[d]
                cprev[d] = c[d]
    # --- checks: numpy's stacked LSTM with the fetched weights
    opts = tf.RunOptions(trace_level=tf.RunOptions.FULL_TRACE)
    md = tf.RunMetadata()
    with tf.Session(config=config) as sess:
        sess.run(tf.global_variables_initializer())
        got = sess.run(m[3], options=opts, run_metadata=md)
        weights = sess.run(tf.trainable_variables())
    sig = lambda v: 1 / (1 + np.exp(-v))  # noqa: E731
    hs = [np.zeros((batch, units), np.float32)] * 4
    cs = list(hs)
    for i in range(8):
        inp = xs[i]
        for k in range(4):
            kern, bias = weights[2 * k], weights[2 * k + 1]
            gi, gj, gf, go = np.split(np.concatenate([inp, hs[k]], 1) @ kern + bias, 4, 1)
            cs[k] = sig(gf + 1.0) * cs[k] + sig(gi) * np.tanh(gj)
            hs[k] = sig(go) * np.tanh(cs[k])
            inp = hs[k]
    np.testing.assert_allclose(got, hs[3], rtol=1e-4, atol=1e-5)
    return {dev.device for dev in md.step_stats.dev_stats}


def test_stacked_lstms_on_one_device():
    devices = _stacked_lstms("/cpu:0%.0s", None)
    assert len(devices) == 1


def test_stacked_lstms_on_multiple_devices():
    # the slide's "/gpu:%d": tfc has CPU devices only, so soft placement
    # moves the layers to the CPU; with four CPU devices ("/cpu:%d") each
    # layer runs on its own
    with tf.Graph().as_default():
        _stacked_lstms("/gpu:%d", tf.ConfigProto(allow_soft_placement=True))
    with tf.Graph().as_default():
        devices = _stacked_lstms("/cpu:%d", tf.ConfigProto(device_count={"CPU": 4}))
    assert len(devices) == 4
