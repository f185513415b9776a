"""tf.train.ClusterSpec, Server, replica_device_setter and sessions on a
cluster. tfc's tasks are MPI ranks, so the programs in cluster_programs/
run under `mpirun --oversubscribe -np N python3 PROG` (as root too: the
OMPI_ALLOW_RUN_AS_ROOT variables, as tests/CMakeLists.txt sets them) and
these tests check what they print. A missing mpirun fails them (make test
installs Open MPI): nothing is skipped."""

import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile

import pytest

import tfc as tf

HERE = os.path.dirname(os.path.abspath(__file__))
PROGRAMS = os.path.join(HERE, "cluster_programs")
PYTHON_DIR = os.path.dirname(HERE)


def _env():
    env = dict(os.environ)
    env.update(OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
               OMPI_MCA_rmaps_base_oversubscribe="1", PYTHONDONTWRITEBYTECODE="1")
    env["PYTHONPATH"] = PYTHON_DIR + (os.pathsep + env["PYTHONPATH"]
                                      if env.get("PYTHONPATH") else "")
    return env


def _mpirun(np_, program, *args, timeout=240):
    """Runs PROGRAM on np_ ranks; returns the ranks' stdout, one after the
    other (mpirun's --output-filename keeps each rank's lines whole, where
    its merged stdout may cut one rank's line by another's). Fails (never
    skips) when mpirun is missing or the job fails."""
    mpirun = shutil.which("mpirun")
    assert mpirun, "mpirun not found: install Open MPI (openmpi-bin), as `make test` does"
    env = _env()
    with tempfile.TemporaryDirectory(prefix="tfc_cluster_") as out_dir:
        cmd = [mpirun, "--oversubscribe", "-np", str(np_), "--output-filename", out_dir]
        for var in ("TFC_LIBRARY", "PYTHONPATH", "PYTHONDONTWRITEBYTECODE"):
            if var in env:
                cmd += ["-x", var]
        cmd += [sys.executable, os.path.join(PROGRAMS, program)] + list(args)
        p = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=timeout, universal_newlines=True)
        outs = {}
        for path in glob.glob(os.path.join(out_dir, "*", "rank.*", "std*")):
            with open(path) as f:
                outs[os.path.relpath(path, out_dir)] = f.read()
    ranks = "".join(outs[k] for k in sorted(outs) if k.endswith("stdout"))
    assert p.returncode == 0, "mpirun %s failed (%d):\n%s\n%s\n%s" % (
        program, p.returncode, p.stdout, p.stderr,
        "\n".join("--- %s\n%s" % (k, outs[k]) for k in sorted(outs)))
    return ranks


def _values(out):
    """{"worker/0": {"key": "value", ...}, ...} from "job/task key=value" lines."""
    vals = {}
    for line in out.splitlines():
        m = re.match(r"^(\w+/\d+) (\w+)=(.*)$", line)
        if m:
            vals.setdefault(m.group(1), {})[m.group(2)] = m.group(3)
    return vals


# ---------------------------------------------------------------------------
# Programs under mpirun
# ---------------------------------------------------------------------------

def test_ps_and_two_workers_train_asynchronously():
    v = _values(_mpirun(3, "ps_worker.py"))
    assert set(v) == {"ps/0", "worker/0", "worker/1"}, v
    assert v["ps/0"]["target"] == "mpi:///job:ps/replica:0/task:0/device:CPU:0"
    assert v["ps/0"]["server_def"] == "ps:0"
    assert v["ps/0"]["joined"] == "1"  # join() returned once the workers stopped
    for i in (0, 1):
        w = v["worker/%d" % i]
        assert w["server_def"] == "worker:%d" % i
        assert w["target"] == "mpi:///job:worker/replica:0/task:%d/device:CPU:0" % i
        # replica_device_setter: the variables on the ps, the model on this worker
        assert w["device_w"] == "/job:ps/task:0"
        assert w["device_pred"] == "/job:worker/task:%d" % i
        assert w["assigned_w"] == "/job:ps/replica:0/task:0/device:CPU:0"
        assert w["assigned_pred"] == "/job:worker/replica:0/task:%d/device:CPU:0" % i
        # both workers' 60 steps went into the one global_step on the ps
        assert w["global_step"] == "120"
        assert float(w["loss"]) < 0.01
        w0, w1 = (float(x) for x in w["w"].split(","))
        assert abs(w0 - 2) < 0.2 and abs(w1 + 3) < 0.2 and abs(float(w["b"]) - 0.5) < 0.1
        assert w["done"] == "1"
    err = v["worker/0"]["remote_error"]
    assert "log of a negative number" in err and "on /job:ps/task:0" in err, err


def test_variables_round_robin_over_two_ps_tasks():
    v = _values(_mpirun(3, "ps_worker.py", "2ps"))
    assert set(v) == {"ps/0", "ps/1", "worker/0"}, v
    w = v["worker/0"]
    # global_step, w, b in the order made: ps 0, 1, 0
    assert w["device_global_step"] == "/job:ps/task:0"
    assert w["device_w"] == "/job:ps/task:1"
    assert w["device_b"] == "/job:ps/task:0"
    assert w["assigned_w"] == "/job:ps/replica:0/task:1/device:CPU:0"
    assert w["assigned_b"] == "/job:ps/replica:0/task:0/device:CPU:0"
    assert w["global_step"] == "60" and float(w["loss"]) < 0.05
    assert v["ps/0"]["joined"] == "1" and v["ps/1"]["joined"] == "1"


def test_talk_002_distributed_program():
    """Seed 002's ClusterSpec / tf.device("/job:ps/task:N") / grpc session
    slides, five ranks: three workers and two ps tasks."""
    out = _mpirun(5, "talk_002_distributed.py")
    lines = sorted(l for l in out.splitlines() if l.startswith("worker/"))
    assert len(lines) == 3, out
    for i, line in enumerate(lines):
        m = re.match(r"worker/(\d) loss ([\d.]+) -> ([\d.]+) on (\S+)$", line)
        assert m, line
        assert int(m.group(1)) == i
        first, last = float(m.group(2)), float(m.group(3))
        assert last < first / 5, line
        assert m.group(4) == "/job:ps/replica:0/task:1/device:CPU:0"


def test_create_local_server_runs_alone():
    """A one-task cluster in a program started without mpirun (MPI's
    singleton mode), through a "grpc://localhost:0" target."""
    assert shutil.which("mpirun"), "Open MPI is needed (openmpi-bin)"
    prog = r"""
import tfc as tf
server = tf.train.Server.create_local_server()
assert server.server_def.job_name == "localhost", server.server_def
v = tf.Variable(3.0)
y = v * 2.0
with tf.Session("grpc://localhost:0") as sess:
    sess.run(v.initializer)
    print("y=%g" % sess.run(y))
    print("devices=%s" % [d.name for d in sess.list_devices()])
with tf.Session(server.target) as sess:   # the variable lives in the server
    print("again=%g" % sess.run(y))
"""
    p = subprocess.run([sys.executable, "-c", prog], env=_env(), stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=120, universal_newlines=True)
    assert p.returncode == 0, p.stderr
    assert "y=6" in p.stdout and "again=6" in p.stdout
    assert "devices=['/job:localhost/replica:0/task:0/device:CPU:0']" in p.stdout


def test_ctrl_c_during_a_cluster_run():
    """SIGINT (Ctrl-C) during a long run of a session on a server raises
    KeyboardInterrupt at once; tfc cannot cancel a cluster run, so it
    finishes in the background: the session runs meanwhile, close() waits
    for it, and the program exits cleanly (MPI finalized)."""
    assert shutil.which("mpirun"), "Open MPI is needed (openmpi-bin)"
    prog = r"""
import sys, time
import tfc as tf
server = tf.train.Server.create_local_server()
n = tf.placeholder(tf.int32, [], name="n")
r = tf.while_loop(lambda i: i < n, lambda i: i + 1, [tf.constant(0)])
with tf.Session(server.target) as sess:
    count = 1000
    while True:  # a count that takes over 0.2 s, run by its own plan (fed "n:0")
        t0 = time.perf_counter()
        assert sess.run(r, {"n:0": count}) == count
        if time.perf_counter() - t0 > 0.2:
            break
        count *= 4
    assert sess.run(r, {n: count}) == count  # long: later runs of this plan are watched
    print("ready", flush=True)
    t0 = time.perf_counter()
    try:
        sess.run(r, {n: count * 30})
        print("not interrupted", flush=True)
    except KeyboardInterrupt:
        print("interrupted after %.2f s" % (time.perf_counter() - t0), flush=True)
    print("again=%d" % sess.run(r, {n: 7}), flush=True)
    t0 = time.perf_counter()
print("closed after %.2f s" % (time.perf_counter() - t0), flush=True)
"""
    p = subprocess.Popen([sys.executable, "-c", prog], env=_env(), stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, universal_newlines=True)
    try:
        assert p.stdout.readline().strip() == "ready"
        import time
        time.sleep(0.5)
        p.send_signal(2)  # SIGINT
        out, err = p.communicate(timeout=300)
    finally:
        if p.poll() is None:
            p.kill()
    assert p.returncode == 0, err
    m = re.search(r"interrupted after ([\d.]+) s", out)
    assert m and float(m.group(1)) < 3.0, out
    assert "again=7" in out, out
    assert re.search(r"closed after [\d.]+ s", out), out


# ---------------------------------------------------------------------------
# In this process (no MPI needed)
# ---------------------------------------------------------------------------

def test_cluster_spec_api():
    c = tf.train.ClusterSpec({"worker": ["w0:2222", "w1:2222"], "ps": ["ps0:2222"]})
    assert c.jobs == ["worker", "ps"]
    assert c.num_tasks("worker") == 2 and c.num_tasks("ps") == 1
    assert c.task_address("worker", 1) == "w1:2222"
    assert c.task_indices("worker") == [0, 1]
    assert c.as_dict() == {"worker": ["w0:2222", "w1:2222"], "ps": ["ps0:2222"]}
    assert c.rank("ps", 0) == 2  # ranks follow the jobs as written
    assert tf.train.ClusterSpec(c) == c
    assert tf.train.ClusterSpec('{"ps": ["a:1"], "worker": ["b:1"]}').jobs == ["ps", "worker"]
    assert tf.train.ClusterSpec({"ps": {0: "a:1", 1: "b:1"}}).job_tasks("ps") == ["a:1", "b:1"]
    with pytest.raises(ValueError, match="No such job"):
        c.num_tasks("chief")
    with pytest.raises(ValueError, match="No task with index 5"):
        c.task_address("worker", 5)


def test_cluster_spec_errors():
    with pytest.raises(ValueError, match="malformed JSON"):
        tf.train.ClusterSpec("{ps")
    with pytest.raises(tf.errors.InvalidArgumentError, match="job name '1ps' is not valid"):
        tf.train.ClusterSpec({"1ps": ["a:1"]})
    with pytest.raises(tf.errors.InvalidArgumentError, match="job 'ps' has no tasks"):
        tf.train.ClusterSpec({"ps": []})
    with pytest.raises(ValueError, match="indices must be 0..n-1"):
        tf.train.ClusterSpec({"ps": {0: "a:1", 2: "b:1"}})
    with pytest.raises(TypeError):
        tf.train.ClusterSpec(["a:1"])


def test_replica_device_setter_places_variables_round_robin():
    with tf.device(tf.train.replica_device_setter(ps_tasks=3)):
        vs = [tf.Variable(float(i), name="v%d" % i) for i in range(4)]
        y = vs[0] + vs[1]
        with tf.device("/cpu:0"):  # merged with the worker device
            z = y * 2.0
    assert [v.op.device for v in vs] == ["/job:ps/task:0", "/job:ps/task:1",
                                         "/job:ps/task:2", "/job:ps/task:0"]
    assert y.op.device == "/job:worker"
    assert "job:worker" in z.op.device and "CPU:0" in z.op.device.upper()


def test_replica_device_setter_from_cluster_and_worker_device():
    cluster = tf.train.ClusterSpec({"ps": ["a:1", "b:1"], "worker": ["c:1"]})
    with tf.device(tf.train.replica_device_setter(cluster=cluster,
                                                  worker_device="/job:worker/task:0")):
        a = tf.Variable(tf.zeros([1000]), name="a")
        b = tf.Variable(tf.zeros([10]), name="b")
        c = tf.Variable(tf.zeros([10]), name="c")
        s = tf.reduce_sum(a)
    assert (a.op.device, b.op.device, c.op.device) == ("/job:ps/task:0", "/job:ps/task:1",
                                                       "/job:ps/task:0")
    assert s.op.device == "/job:worker/task:0"
    # by size: c goes to the ps holding fewer bytes (task 1, with b only)
    tf.reset_default_graph()
    greedy = tf.contrib.training.GreedyLoadBalancingStrategy(
        2, tf.contrib.training.byte_size_load_fn)
    with tf.device(tf.train.replica_device_setter(cluster=cluster, ps_strategy=greedy)):
        a = tf.Variable(tf.zeros([1000]), name="a")
        b = tf.Variable(tf.zeros([10]), name="b")
        c = tf.Variable(tf.zeros([10]), name="c")
    assert (a.op.device, b.op.device, c.op.device) == ("/job:ps/task:0", "/job:ps/task:1",
                                                       "/job:ps/task:1")


def test_replica_device_setter_without_ps_is_none():
    assert tf.train.replica_device_setter(cluster={"worker": ["a:1"]}) is None
    assert tf.train.replica_device_setter() is None
    with tf.device(None):
        x = tf.constant(1.0)
    assert x.op.device == ""


def test_session_target_needs_a_server():
    with pytest.raises(tf.errors.UnimplementedError, match="no tf.train.Server was made"):
        tf.Session("grpc://worker7.example.com:2222")
    with pytest.raises(tf.errors.InvalidArgumentError, match="expected a server's target"):
        tf.Session("local")


def test_sync_replicas_optimizer_aggregates_both_workers():
    """tf.train.SyncReplicasOptimizer over tfc_sync_replicas_*: every global
    step applies the mean of the two workers' gradients once, so w follows
    gradient descent on the whole data set."""
    v = _values(_mpirun(3, "sync_replicas.py"))
    assert set(v) == {"ps/0", "worker/0", "worker/1"}, v
    for i in (0, 1):
        w = v["worker/%d" % i]
        assert w["global_step"] == "12" and w["done"] == "1"
        got = [float(a) for a in w["w"].split(",")]
        ref = [float(a) for a in w["w_ref"].split(",")]
        # equal when every step took one gradient from each worker (the
        # usual case; a worker may take the other's token, as in TensorFlow)
        assert max(abs(a - b) for a, b in zip(got, ref)) < 0.1, (got, ref)
        assert got == [float(a) for a in v["worker/0"]["w"].split(",")]
    assert int(v["worker/0"]["my_steps"]) + int(v["worker/1"]["my_steps"]) >= 12


def test_sync_replicas_optimizer_api_in_one_process():
    gs = tf.train.get_or_create_global_step()
    w = tf.Variable([1.0, 2.0], name="w")
    loss = tf.reduce_sum(w * w)
    opt = tf.train.SyncReplicasOptimizer(tf.train.GradientDescentOptimizer(0.1),
                                         replicas_to_aggregate=2, total_num_replicas=3)
    with pytest.raises(ValueError, match="after apply_gradients"):
        opt.get_init_tokens_op()
    with pytest.raises(ValueError, match="Global step is required"):
        opt.minimize(loss)
    train_op = opt.minimize(loss, global_step=gs)
    assert isinstance(train_op, tf.Operation)
    assert isinstance(opt.chief_init_op, tf.Operation)
    assert isinstance(opt.local_step_init_op, tf.Operation)
    qr = opt.get_chief_queue_runner()
    assert qr.enqueue_ops == [opt.sync_op]
    assert opt.get_init_tokens_op(0).type == "NoOp"
    with pytest.raises(ValueError, match="already"):
        opt.apply_gradients([(tf.constant([1.0, 1.0]), w)], global_step=gs)
    with pytest.raises(ValueError, match="at least 1"):
        tf.train.SyncReplicasOptimizer(tf.train.GradientDescentOptimizer(0.1), 0)
