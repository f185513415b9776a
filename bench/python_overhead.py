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
   the same step driven from C. Goal: at most 5% slower. In one process,
   alternating: --rounds R (60) rounds of --round-steps K (20) steps each
   way, in ABBA order after 100 warm-up steps each. The Python side builds
   the graph with the frontend and runs sess.run(train, {x: bx, y: by}) on
   batches numpy gathers; the C side is bench_train's loop through the C
   API alone (the graph of bench_models.h, tfc_dataset_next_batch's tensors,
   tfc_session_run; bench_train's loop, compiled at run time when there is
   a C compiler, else a Python loop calling the same five C functions).
   Two rows: examples per wall-clock second and per CPU-second of the
   process, each the median over rounds and the median and quartiles of
   the rounds' ratios. For wall-clock figures on a shared machine run it as
   root under `chrt -f 10` (the last output line names the policy).
   --processes N adds the older cross-check: 1000 steps from Python against
   a bench_train process, alternately, N times.

Prints one row per figure, "name<TAB>threads<TAB>python<TAB>C<TAB>unit"
(python: the median; the best follows in a comment column), then the CPU
model and the load average. Usage:
    python3 bench/python_overhead.py [BUILD_DIR] [--mlp | --mlp-only] [--threads N] [--rounds R]
        [--round-steps K] [--processes N]
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


def _mlp_python(tf, threads, data, batch):
    """The MLP built and driven by the frontend: a function running n
    training steps, each fed the next batch gathered by numpy."""
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
    sess = tf.Session(graph=g, config=config)
    sess.run(init)
    run = sess.run

    def steps(n):
        for _ in range(n):
            # what tfc_dataset_next_batch does for the C loop: the next rows
            # of a shuffled order gathered into new arrays. images.take
            # (default mode) gathers in one pass: in the loop, after a
            # training step has evicted the caches, 73 us a batch against
            # 90 us for images[idx] and 76 us for tfc_dataset_next_batch
            # (2 threads; np.take(..., out=) would copy twice)
            if pos[0] + batch > len(order):
                order[:] = rng.permutation(len(images))
                pos[0] = 0
            idx = order[pos[0]:pos[0] + batch]
            pos[0] += batch
            run(train, {x: images.take(idx, axis=0), y: labels[idx]})
    return steps, sess.close


# bench_train.c's training loop, compiled at run time into a library
# linked to the libtfc.so this process loaded (same soname: the same copy),
# so the C side runs with no Python between its steps
_C_LOOP = r"""
#include "tfc.h"
int bench_steps(tfc_session *s, tfc_dataset *d, tfc_output x, tfc_output y, tfc_node *train,
                int n, int64_t batch, tfc_status *st) {
    tfc_output feeds[] = {x, y};
    for (int i = 0; i < n; i++) {
        tfc_tensor *bx, *by;
        if (tfc_dataset_next_batch(d, batch, &bx, &by, st)) return -1;
        tfc_tensor *vals[] = {bx, by};
        tfc_session_run(s, feeds, vals, 2, NULL, 0, NULL, &train, 1, st);
        tfc_tensor_free(bx);
        tfc_tensor_free(by);
        if (tfc_status_code(st) != TFC_OK) return -1;
    }
    return 0;
}
"""


def _compiled_loop(lib):
    """bench_steps from _C_LOOP, or None when it cannot be built here (no
    C compiler): then the loop is Python calling the same C functions."""
    import ctypes
    import shutil
    import tempfile
    from tfc._lib import Output
    cc = os.environ.get("CC", "cc")
    if not shutil.which(cc) or not os.path.exists(lib._name):
        return None
    d = tempfile.mkdtemp(prefix="tfc_bench_")
    src, so = os.path.join(d, "loop.c"), os.path.join(d, "loop.so")
    with open(src, "w") as f:
        f.write(_C_LOOP)
    libpath = os.path.realpath(lib._name)
    try:
        subprocess.run([cc, "-O2", "-shared", "-fPIC", "-I", os.path.join(ROOT, "include"),
                        "-o", so, src, libpath, "-Wl,-rpath," + os.path.dirname(libpath)],
                       check=True, capture_output=True, timeout=120)
        f = ctypes.CDLL(so).bench_steps
    except (subprocess.SubprocessError, OSError, AttributeError) as e:
        sys.stderr.write("C loop not built (%s): the C side's loop is Python\n" % e)
        return None
    finally:
        shutil.rmtree(d, ignore_errors=True)
    f.restype = ctypes.c_int
    f.argtypes = [ctypes.c_void_p, ctypes.c_void_p, Output, Output, ctypes.c_void_p,
                  ctypes.c_int, ctypes.c_int64, ctypes.c_void_p]
    return f


def _mlp_c(threads, batch):
    """bench_train's MLP, built and driven through the C API alone (ctypes
    calls mirroring bench_models.h and bench_train.c): a function running n
    steps, each fed tfc_dataset_next_batch's tensors by tfc_session_run:
    bench_train's loop compiled here (_C_LOOP), or, without a C compiler, a
    Python loop making the same five C calls a step (3-5 us of a 1-2 ms
    step)."""
    import ctypes
    import math
    from tfc._lib import lib, Output, SessionOptions
    vp, i64 = ctypes.c_void_p, ctypes.c_int64
    i64p = ctypes.POINTER(i64)

    def fn(name, res, args):
        f = lib[name]  # a function object of its own
        f.restype, f.argtypes = res, args
        return f
    graph_new = fn("tfc_graph_new", vp, [])
    set_seed = fn("tfc_graph_set_seed", None, [vp, i64])
    placeholder = fn("tfc_placeholder", Output, [vp, ctypes.c_char_p, ctypes.c_int,
                                                 ctypes.c_int, i64p])
    variable = fn("tfc_variable", Output, [vp, ctypes.c_char_p, Output])
    truncated_normal = fn("tfc_truncated_normal", Output,
                          [vp, ctypes.c_int, ctypes.c_int, i64p, ctypes.c_double,
                           ctypes.c_double, i64])
    zeros = fn("tfc_zeros", Output, [vp, ctypes.c_int, ctypes.c_int, i64p])
    bias_add = fn("tfc_bias_add", Output, [vp, Output, Output])
    matmul = fn("tfc_matmul", Output, [vp, Output, Output])
    relu = fn("tfc_relu", Output, [vp, Output])
    reduce_mean = fn("tfc_reduce_mean", Output, [vp, Output, vp, ctypes.c_int, ctypes.c_int])
    xent = fn("tfc_sparse_softmax_cross_entropy_with_logits", Output, [vp, Output, Output])
    sgd = fn("tfc_gradient_descent_optimizer", vp, [ctypes.c_double])
    minimize = fn("tfc_optimizer_minimize", vp, [vp, vp, Output, vp, ctypes.c_int, Output])
    init_op = fn("tfc_global_variables_initializer", vp, [vp])
    graph_error = fn("tfc_graph_error", ctypes.c_char_p, [vp])
    session_new = fn("tfc_session_new", vp, [vp, ctypes.POINTER(SessionOptions), vp])
    status_new = fn("tfc_status_new", vp, [])
    status_code = fn("tfc_status_code", ctypes.c_int, [vp])
    status_message = fn("tfc_status_message", ctypes.c_char_p, [vp])
    mnist_load = fn("tfc_mnist_load", vp, [ctypes.c_char_p, vp])
    frees = [fn(name, None, [vp]) for name in ("tfc_session_free", "tfc_optimizer_free",
                                               "tfc_graph_free", "tfc_mnist_free",
                                               "tfc_status_free")]
    # the run path: argtypes None, every argument already a ctypes object
    session_run = fn("tfc_session_run", None, None)
    next_batch = fn("tfc_dataset_next_batch", ctypes.c_int, None)
    tensor_free = fn("tfc_tensor_free", None, None)

    def dims(*d):
        return (i64 * len(d))(*d)
    st = status_new()
    mnist = mnist_load(os.environ.get("TFC_MNIST_DIR", "").encode() or None, st)
    if not mnist:
        raise RuntimeError(status_message(st).decode())
    train_set = vp(ctypes.cast(mnist, ctypes.POINTER(vp))[0])  # tfc_mnist.train
    g = graph_new()
    set_seed(g, 1)
    x = placeholder(g, b"x", 1, 2, dims(-1, 784))  # TFC_FLOAT
    y = placeholder(g, b"y", 3, 1, dims(-1))       # TFC_INT32

    def dense(h, n_in, n_out, with_relu):  # bench_dense
        w = variable(g, None, truncated_normal(g, 1, 2, dims(n_in, n_out), 0,
                                               math.sqrt(2.0 / n_in), 0))
        b = variable(g, None, zeros(g, 1, 1, dims(n_out)))
        out = bias_add(g, matmul(g, h, w), b)
        return relu(g, out) if with_relu else out
    logits = dense(dense(dense(x, 784, 256, 1), 256, 256, 1), 256, 10, 0)
    loss = reduce_mean(g, xent(g, y, logits), None, 0, 0)
    opt = sgd(0.1)
    train = minimize(opt, g, loss, None, 0, Output())
    init = init_op(g)
    if graph_error(g):
        raise RuntimeError(graph_error(g).decode())
    sess = session_new(g, ctypes.byref(SessionOptions(intra_op_threads=threads,
                                                      inter_op_threads=threads)), st)
    hs = vp(sess)
    session_run(hs, None, None, ctypes.c_int(0), None, ctypes.c_int(0), None,
                (vp * 1)(init), ctypes.c_int(1), vp(st))
    if status_code(st):
        raise RuntimeError(status_message(st).decode())
    feeds = (Output * 2)(x, y)
    vals = (vp * 2)()
    targets = (vp * 1)(train)
    bx, by = vp(), vp()
    pbx, pby = ctypes.byref(bx), ctypes.byref(by)
    two, one, zero, nb = ctypes.c_int(2), ctypes.c_int(1), ctypes.c_int(0), i64(batch)
    hst = vp(st)

    c_loop = _compiled_loop(lib)
    if c_loop is not None:  # bench_train's loop itself
        def steps(n):
            if c_loop(hs, train_set, x, y, vp(train), n, nb, hst):
                raise RuntimeError(status_message(st).decode())
    else:
        def steps(n):
            for _ in range(n):
                next_batch(train_set, nb, pbx, pby, hst)
                vals[0], vals[1] = bx, by
                session_run(hs, feeds, vals, two, None, zero, None, targets, one, hst)
                tensor_free(bx)
                tensor_free(by)
            if status_code(st):
                raise RuntimeError(status_message(st).decode())
    steps.compiled = c_loop is not None

    def close():
        for f, h in zip(frees, (sess, opt, g, mnist, st)):
            f(h)
    return steps, close


def quartiles(values):
    v = sorted(values)
    n = len(v)
    return v[n // 4], median(v), v[(3 * n) // 4]


def bench_mlp(tf, threads, data, rounds, round_steps, batch=100):
    """Python against C in one process, alternating: `rounds` rounds of
    `round_steps` training steps each way (ABBA order), after 100 warm-up
    steps each. Per round, examples per wall-second and per CPU-second of
    the process; returns (python rates, C rates), each a (wall, cpu) pair
    of lists, one entry per round. Alternating short rounds in one process
    lets both sides meet the same load, clock and cache state, so the
    median of the rounds' ratios holds still where separate processes'
    figures swing by more than the gap (python/README.md, Overhead)."""
    py_steps, py_close = _mlp_python(tf, threads, data, batch)
    c_steps, c_close = _mlp_c(threads, batch)
    if not c_steps.compiled:
        sys.stderr.write("the C side's loop is Python (no C compiler)\n")
    try:
        py_steps(100)
        c_steps(100)
        out = {"py": ([], []), "c": ([], [])}
        sides = (("py", py_steps), ("c", c_steps))
        for r in range(rounds):
            for name, steps in (sides if r % 2 == 0 else sides[::-1]):
                t0, c0 = time.perf_counter(), time.process_time()
                steps(round_steps)
                dt, dc = time.perf_counter() - t0, time.process_time() - c0
                out[name][0].append(round_steps * batch / dt)
                out[name][1].append(round_steps * batch / dc)
        return out["py"], out["c"]
    finally:
        py_close()
        c_close()


def main(argv):
    build = "build"
    mlp = False
    threads = [1, 2]
    rounds, round_steps, processes = 60, 20, 0
    tiny = True
    i = 0
    while i < len(argv):
        a = argv[i]
        if a == "--mlp":
            mlp = True
        elif a == "--mlp-only":
            mlp, tiny = True, False
        elif a == "--threads":
            threads = [int(argv[i + 1])]
            i += 1
        elif a == "--rounds":
            rounds = int(argv[i + 1])
            i += 1
        elif a == "--round-steps":
            round_steps = int(argv[i + 1])
            i += 1
        elif a == "--processes":
            processes = int(argv[i + 1])
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

    c = c_rows(build, ["bench_core", "--quick"]) if tiny else {}
    for t in threads if tiny else ():
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
            (py_wall, py_cpu), (c_wall, c_cpu) = bench_mlp(tf, t, data, rounds, round_steps)
            for name, unit, pv, cv in (("python_train_mlp", "examples/s", py_wall, c_wall),
                                       ("python_train_mlp_cpu", "examples/CPU-s", py_cpu,
                                        c_cpu)):
                q1, q2, q3 = quartiles([p / q for p, q in zip(pv, cv)])
                print("%s\t%d\t%.1f\t%.1f\t%s\t# %.3fx of C (median of %d rounds' ratios; "
                      "quartiles %.3f-%.3f)" % (name, t, median(pv), median(cv), unit, q2,
                                                len(pv), q1, q3))
            # the older cross-check: 1000 steps from Python against a
            # bench_train process, alternately
            py_p, c_p = [], []
            for _ in range(processes):
                steps, close = _mlp_python(tf, t, data, 100)
                steps(101)
                t0 = time.perf_counter()
                steps(1000)
                py_p.append(100000 / (time.perf_counter() - t0))
                close()
                cr = c_rows(build, ["bench_train", "mlp", str(t)])
                if ("train_mlp", str(t)) in cr:
                    c_p.append(cr[("train_mlp", str(t))])
            if py_p and len(c_p) == len(py_p):
                print("python_train_mlp_vs_process\t%d\t%.1f\t%.1f\texamples/s\t# %.3fx "
                      "(median of %d pairs' ratios, bench_train in its own process)"
                      % (t, median(py_p), median(c_p),
                         median([p / q for p, q in zip(py_p, c_p)]), len(py_p)))
    try:
        policy = {os.SCHED_FIFO: "SCHED_FIFO", os.SCHED_RR: "SCHED_RR"}.get(
            os.sched_getscheduler(0), "SCHED_OTHER")
    except (AttributeError, OSError):
        policy = "?"
    print("# cpu\t%s\t%d cores\tload %s\t%s" % (
        cpu_model(), os.cpu_count() or 0, " ".join("%.1f" % v for v in os.getloadavg()),
        policy))


if __name__ == "__main__":
    main(sys.argv[1:])
