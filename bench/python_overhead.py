#!/usr/bin/env python3
"""What the Python frontend adds to a run (python/tfc over libtfc.so).

1. Session.run of a tiny graph: a float32 scalar placeholder through ten
   Adds of a constant (bench_core's session_run_10_scalar_adds), fed a
   Python float, fetching the scalar, by sess.run(y, {x: 1.0}) and by a
   callable made once (sess.make_callable(y, [x]), TensorFlow's way of
   running one signature often). Goal: Python adds at most 5 us to a run.
   The Python figures are the median and the best of 21 timings of 4000
   runs; the C figure is bench_core's (its median of 7), when the build
   directory has it.
2. With --mlp: the MLP training step (784-256-256-10 ReLU, batch 100, SGD
   0.1 on Fashion-MNIST, bench_train's "mlp") driven from Python against
   bench_train driven from C. Goal: at most 5% slower. Both make each batch
   the same way (the next 100 rows of a shuffled order gathered into new
   arrays / tensors) and run 1000 timed steps after 101 warm-up ones. Two
   rows: examples per wall-clock second, and per CPU-second of the process
   (which bench_train also reports: on a shared machine, a 1-thread run's
   CPU time is what an idle machine's wall clock would show). --pairs N
   runs Python and C alternately N times each and prints the medians and
   the median of the pairs' ratios.

Prints one row per figure, "name<TAB>threads<TAB>python<TAB>C<TAB>unit"
(python: the median; the best follows in a comment column), then the CPU
model and the load average. Usage:
    python3 bench/python_overhead.py [BUILD_DIR] [--mlp] [--threads N] [--pairs N]
BUILD_DIR (default: build) holds libtfc.so and bench/bench_core,
bench/bench_train; $TFC_LIBRARY overrides the library.
"""

import gzip
import os
import re
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def timings(fn, reps, iters):
    """(median, best) of `reps` timings of `iters` calls, per call: on a
    shared machine the best is the estimate least disturbed by other work."""
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn(iters)
        times.append((time.perf_counter() - t0) / iters)
    times.sort()
    sys.stderr.write("  median %.3f us, best %.3f us over %d x %d runs\n"
                     % (times[len(times) // 2] * 1e6, times[0] * 1e6, reps, iters))
    return times[len(times) // 2], times[0]


def median(values):
    v = sorted(values)
    return v[len(v) // 2] if len(v) % 2 else (v[len(v) // 2 - 1] + v[len(v) // 2]) / 2


def cpu_per_call(fn, reps, iters):
    """The median of `reps` measures of the calling thread's CPU time per
    call: what the Python side costs, undisturbed by other processes
    (a 1-thread session runs a tiny graph in the calling thread)."""
    times = []
    for _ in range(reps):
        t0 = time.thread_time()
        fn(iters)
        times.append((time.thread_time() - t0) / iters)
    times.sort()
    return times[len(times) // 2]


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
                             timeout=600)
    except (subprocess.SubprocessError, OSError) as e:
        sys.stderr.write("%s failed: %s\n" % (exe, e))
        return {}
    rows = {}
    for line in out.stdout.splitlines():
        f = line.split("\t")
        if len(f) >= 3:
            rows[(f[0], f[1])] = float(f[2])
    for line in out.stderr.splitlines():  # "mlp: 1234.5 examples per CPU-second (1 threads)"
        m = re.match(r"^(\w+): ([\d.]+) examples per CPU-second \((\d+) threads\)", line)
        if m:
            rows[("cpu_" + m.group(1), m.group(3))] = float(m.group(2))
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
        call = sess.make_callable(y, [x])
        assert call(1.0) == 11.0

        def loop(n):
            for _ in range(n):
                run(y, feed)

        def loop_callable(n):
            for _ in range(n):
                call(1.0)
        # the C calls alone that one run makes (feed tensor, run, frees, the
        # fetched value's address), through the plan's prepared arrays
        from tfc import session as S
        plan = sess._plans[(y, (x,))]
        hv, st = sess._hv, plan.status
        fa, va, fe, oa = plan.feed_arr, plan.val_arr, plan.fetch_arr, plan.out_arr
        new, srun = S._Feed._SCALAR_NEW[tf.float32], S._session_run
        tfree, tdata = S._tensor_free, S._tensor_data

        def loop_bare(n):
            for _ in range(n):
                t = new(1.0)
                va[0] = t
                srun(hv, fa, va, 1, fe, 1, oa, None, 0, st)
                tfree(t)
                o = oa[0]
                tdata(o)
                tfree(o)
        loop(2000)
        loop_callable(2000)
        loop_bare(2000)
        cpu = [cpu_per_call(f, 15, 4000) for f in (loop, loop_callable, loop_bare)]
        return timings(loop, 21, 4000), timings(loop_callable, 21, 4000), cpu


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


def bench_mlp(tf, threads, data, steps=1000, batch=100):
    import math
    import numpy as np
    images, labels = data
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
        # what tfc_dataset_next_batch does for bench_train: the next rows of
        # a shuffled order gathered into new arrays (numpy's fancy indexing,
        # as a TensorFlow program writes it; np.take(..., out=) into the same
        # arrays is slower, its default mode="raise" copies twice)
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
        t0, c0 = time.perf_counter(), time.process_time()
        for _ in range(steps):
            bx, by = next_batch()
            sess.run(train, {x: bx, y: by})
        dt, dc = time.perf_counter() - t0, time.process_time() - c0
    return steps * batch / dt, steps * batch / dc


def main(argv):
    build = "build"
    mlp = False
    threads = [1, 2]
    pairs = 1
    i = 0
    while i < len(argv):
        a = argv[i]
        if a == "--mlp":
            mlp = True
        elif a == "--threads":
            threads = [int(argv[i + 1])]
            i += 1
        elif a == "--pairs":
            pairs = int(argv[i + 1])
            i += 1
        else:
            build = a
        i += 1
    build = os.path.abspath(build)
    if "TFC_LIBRARY" not in os.environ:
        os.environ["TFC_LIBRARY"] = os.path.join(build, "libtfc.so")
    # numpy's OpenBLAS (the one libtfc.so uses too) would otherwise start a
    # thread per core whose spinning the C bench does not pay: measured here,
    # 41.5k vs 51.9k MLP examples per CPU-second without and with this. One
    # thread, not one per session thread: tfc's pool does the parallel work,
    # and at 2 threads OpenBLAS's own second thread cost the Python-driven
    # MLP a third of its speed (61.8k vs 85.7k examples/s, quiet machine)
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    sys.path.insert(0, os.path.join(ROOT, "python"))
    import tfc as tf

    c = c_rows(build, ["bench_core", "--quick"])
    for t in threads:
        (run_med, run_best), (call_med, call_best), cpu = bench_scalar_chain(tf, t)
        cv = c.get(("session_run_10_scalar_adds", str(t)))
        cs = "%.3f" % cv if cv is not None else "-"
        print("python_session_run_10_scalar_adds\t%d\t%.3f\t%s\tus/run\t# best %.3f" %
              (t, run_med * 1e6, cs, run_best * 1e6))
        print("python_callable_10_scalar_adds\t%d\t%.3f\t%s\tus/run\t# best %.3f" %
              (t, call_med * 1e6, cs, call_best * 1e6))
        print("# thread CPU per run: sess.run %.3f us, callable %.3f us, its C calls alone "
              "(through ctypes) %.3f us" % (cpu[0] * 1e6, cpu[1] * 1e6, cpu[2] * 1e6))
    if mlp:
        directory = os.environ.get("TFC_MNIST_DIR", "/usr/share/datasets/fashion-mnist")
        data = load_fashion_mnist(directory)
        for t in threads:
            # Python and C alternately (A B A B ...), `pairs` times: the
            # medians, and the median of each pair's ratio Python / C
            py, py_cpu, cv, cv_cpu = [], [], [], []
            for _ in range(pairs):
                a, b = bench_mlp(tf, t, data)
                py.append(a)
                py_cpu.append(b)
                cr = c_rows(build, ["bench_train", "mlp", str(t)])
                if ("train_mlp", str(t)) in cr:
                    cv.append(cr[("train_mlp", str(t))])
                if ("cpu_mlp", str(t)) in cr:
                    cv_cpu.append(cr[("cpu_mlp", str(t))])
            for name, unit, pv, c in (("python_train_mlp", "examples/s", py, cv),
                                      ("python_train_mlp_cpu", "examples/CPU-s", py_cpu, cv_cpu)):
                ratio = ""
                if len(c) == len(pv):
                    ratio = "\t# %.3fx of C (median of %d pairs' ratios)" % (
                        median([p / q for p, q in zip(pv, c)]), len(pv))
                print("%s\t%d\t%.1f\t%s\t%s%s" % (name, t, median(pv),
                                                   "%.1f" % median(c) if c else "-", unit, ratio))
    print("# cpu\t%s\t%d cores\tload %s" % (cpu_model(), os.cpu_count() or 0,
                                             " ".join("%.1f" % v for v in os.getloadavg())))


if __name__ == "__main__":
    main(sys.argv[1:])
