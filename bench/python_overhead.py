#!/usr/bin/env python3
"""What the Python frontend adds to a run (python/tfc over libtfc.so).

1. Session.run of a tiny graph: a float32 scalar placeholder through ten
   Adds of a constant (bench_core's session_run_10_scalar_adds), fed a
   Python float, fetching the scalar. Goal: at most 5 us per run. The
   Python figure is the best of 21 timings of 4000 runs; the C figure is
   bench_core's (its median of 7), when the build directory has it.
2. With --mlp: the MLP training step (784-256-256-10 ReLU, batch 100, SGD
   0.1 on Fashion-MNIST, bench_train's "mlp") driven from Python against
   bench_train driven from C, at one thread. Goal: at most 5% slower.

Prints one row per figure, "name<TAB>threads<TAB>python<TAB>C<TAB>unit", then
the CPU model. Usage:
    python3 bench/python_overhead.py [BUILD_DIR] [--mlp] [--threads N]
BUILD_DIR (default: build) holds libtfc.so and bench/bench_core,
bench/bench_train; $TFC_LIBRARY overrides the library.
"""

import gzip
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def best_time(fn, reps, iters):
    """The fastest of `reps` timings of `iters` calls, per call: on a shared
    machine the minimum is the estimate least disturbed by other work (the
    median is printed to stderr too)."""
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn(iters)
        times.append((time.perf_counter() - t0) / iters)
    times.sort()
    sys.stderr.write("  median %.3f us, best %.3f us over %d x %d runs\n"
                     % (times[len(times) // 2] * 1e6, times[0] * 1e6, reps, iters))
    return times[0]


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown CPU"


def c_rows(build, args):
    exe = os.path.join(build, "bench", args[0])
    if not os.path.exists(exe):
        return {}
    try:
        out = subprocess.run([exe] + args[1:], check=True, capture_output=True, text=True,
                             timeout=600).stdout
    except (subprocess.SubprocessError, OSError) as e:
        sys.stderr.write("%s failed: %s\n" % (exe, e))
        return {}
    rows = {}
    for line in out.splitlines():
        f = line.split("\t")
        if len(f) >= 3:
            rows[(f[0], f[1])] = float(f[2])
    return rows


def bench_scalar_chain(tf, threads):
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [], name="x")
        y = x
        for _ in range(10):
            y = tf.add(y, tf.constant(1.0))
    config = tf.ConfigProto(intra_op_parallelism_threads=threads,
                            inter_op_parallelism_threads=threads)
    with tf.Session(graph=g, config=config) as sess:
        run = sess.run
        feed = {x: 1.0}
        assert run(y, feed) == 11.0

        def loop(n):
            for _ in range(n):
                run(y, feed)
        loop(2000)
        return best_time(loop, 21, 4000)


def load_fashion_mnist(directory):
    import numpy as np

    def idx(name):
        for path in (os.path.join(directory, name + ".gz"), os.path.join(directory, name)):
            if os.path.exists(path):
                opener = gzip.open if path.endswith(".gz") else open
                with opener(path, "rb") as f:
                    data = f.read()
                ndim = data[3]
                dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
                return np.frombuffer(data, np.uint8, offset=4 + 4 * ndim).reshape(dims)
        raise FileNotFoundError(os.path.join(directory, name))
    images = idx("train-images-idx3-ubyte").reshape(-1, 784).astype(np.float32) / 255.0
    labels = idx("train-labels-idx1-ubyte").astype(np.int32)
    return images, labels


def bench_mlp(tf, threads, steps=1000, batch=100):
    import math
    import numpy as np
    directory = os.environ.get("TFC_MNIST_DIR", "/usr/share/datasets/fashion-mnist")
    images, labels = load_fashion_mnist(directory)
    g = tf.Graph()
    with g.as_default():
        tf.set_random_seed(1)
        x = tf.placeholder(tf.float32, [None, 784], name="x")
        y = tf.placeholder(tf.int32, [None], name="y")

        def dense(h, n_in, n_out, relu):
            w = tf.Variable(tf.truncated_normal([n_in, n_out], 0, math.sqrt(2.0 / n_in)))
            b = tf.Variable(tf.zeros([n_out]))
            out = tf.nn.bias_add(tf.matmul(h, w), b)
            return tf.nn.relu(out) if relu else out
        logits = dense(dense(dense(x, 784, 256, True), 256, 256, True), 256, 10, False)
        loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y,
                                                                             logits=logits))
        train = tf.train.GradientDescentOptimizer(0.1).minimize(loss)
        init = tf.global_variables_initializer()
    config = tf.ConfigProto(intra_op_parallelism_threads=threads,
                            inter_op_parallelism_threads=threads)
    rng = np.random.RandomState(1)
    order = rng.permutation(len(images))
    pos = [0]

    def next_batch():
        if pos[0] + batch > len(order):
            order[:] = rng.permutation(len(images))
            pos[0] = 0
        idx = order[pos[0]:pos[0] + batch]
        pos[0] += batch
        return images[idx], labels[idx]

    with tf.Session(graph=g, config=config) as sess:
        sess.run(init)
        for _ in range(steps // 10 + 1):
            bx, by = next_batch()
            sess.run(train, {x: bx, y: by})
        t0 = time.perf_counter()
        for _ in range(steps):
            bx, by = next_batch()
            sess.run(train, {x: bx, y: by})
        dt = time.perf_counter() - t0
    return steps * batch / dt


def main(argv):
    build = "build"
    mlp = False
    threads = [1, 2]
    i = 0
    while i < len(argv):
        a = argv[i]
        if a == "--mlp":
            mlp = True
        elif a == "--threads":
            threads = [int(argv[i + 1])]
            i += 1
        else:
            build = a
        i += 1
    build = os.path.abspath(build)
    if "TFC_LIBRARY" not in os.environ:
        os.environ["TFC_LIBRARY"] = os.path.join(build, "libtfc.so")
    sys.path.insert(0, os.path.join(ROOT, "python"))
    import tfc as tf

    c = c_rows(build, ["bench_core", "--quick"])
    for t in threads:
        py = bench_scalar_chain(tf, t) * 1e6
        cv = c.get(("session_run_10_scalar_adds", str(t)))
        print("python_session_run_10_scalar_adds\t%d\t%.3f\t%s\tus/run" %
              (t, py, "%.3f" % cv if cv is not None else "-"))
    if mlp:
        for t in threads:
            py = bench_mlp(tf, t)
            cr = c_rows(build, ["bench_train", "mlp", str(t)])
            cv = cr.get(("train_mlp", str(t)))
            print("python_train_mlp\t%d\t%.1f\t%s\texamples/s" %
                  (t, py, "%.1f" % cv if cv is not None else "-"))
    print("# cpu\t%s\t%d cores" % (cpu_model(), os.cpu_count() or 0))


if __name__ == "__main__":
    main(sys.argv[1:])
