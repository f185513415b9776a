"""tf.train.ClusterSpec, tf.train.Server, tf.train.replica_device_setter and
sessions on a cluster, over include/tfc.h's "Distributed" sections.

tfc's tasks are MPI ranks (docs/DISTRIBUTED.md): a program runs under
`mpirun -np N python3 prog.py`, every rank makes its Server (the first one is
collective), and a session whose target names a server of this process is a
master session (tfc_session_new_on_server) running the graph over the
cluster. Addresses ("host:port") are names only: MPI is the transport.
Ranks follow the jobs in the order the ClusterSpec lists them.

MPI is initialized by the first Server (tfc_mpi_init, MPI_THREAD_MULTIPLE)
and finalized at exit, after the cluster sessions are freed and the servers
stopped: a worker's stop says goodbye, which is what ends a ps's join().
"""

import atexit
import ctypes
import json
import threading
import weakref

from . import errors
from ._lib import lib, declare, c_void_p, c_char_p, c_int, c_int64
from .framework import _s, _b

_mpi_init = declare("tfc_mpi_init", c_int, c_void_p, c_void_p, c_void_p)
_mpi_rank = declare("tfc_mpi_rank", c_int)
_mpi_size = declare("tfc_mpi_size", c_int)
_mpi_finalize = declare("tfc_mpi_finalize", None)
_cluster_from_json = declare("tfc_cluster_from_json", c_void_p, c_char_p, c_void_p)
_cluster_free = declare("tfc_cluster_free", None, c_void_p)
_cluster_task_rank = declare("tfc_cluster_task_rank", c_int, c_void_p, c_char_p, c_int, c_void_p)


class ServerOptions(ctypes.Structure):
    """tfc_server_options."""
    _fields_ = [("threads", c_int), ("heartbeat_ms", c_int64), ("peer_timeout_ms", c_int64),
                ("start_timeout_ms", c_int64), ("quiet", c_int)]


class ReplicaOptions(ctypes.Structure):
    """tfc_replica_device_setter_options."""
    _fields_ = [("ps_tasks", c_int), ("ps_job", c_char_p), ("worker_device", c_char_p),
                ("strategy", c_int)]


_server_new = declare("tfc_server_new", c_void_p, c_void_p, c_char_p, c_int,
                      ctypes.POINTER(ServerOptions), c_void_p)
_server_start = declare("tfc_server_start", c_int, c_void_p, c_void_p)
_server_join = declare("tfc_server_join", c_int, c_void_p, c_void_p)
_server_stop = declare("tfc_server_stop", None, c_void_p)
_server_free = declare("tfc_server_free", None, c_void_p)
_server_target = declare("tfc_server_target", c_char_p, c_void_p)
_server_job = declare("tfc_server_job", c_char_p, c_void_p)
_server_task = declare("tfc_server_task", c_int, c_void_p)
_setter_begin = declare("tfc_replica_device_setter_begin", c_void_p, c_void_p, c_void_p,
                        ctypes.POINTER(ReplicaOptions))
_setter_end = declare("tfc_replica_device_setter_end", c_int, c_void_p)
_assigned_device = declare("tfc_cluster_session_assigned_device", c_char_p, c_void_p, c_void_p)

_ROUND_ROBIN, _BY_SIZE = 0, 1


def _check(st):
    code = lib.tfc_status_code(st)
    if code:
        raise errors._from_code(code, _s(lib.tfc_status_message(st)))


def _call(f, *args):
    """f(*args, status), raising the status's tf.errors class."""
    st = lib.tfc_status_new()
    try:
        r = f(*(args + (st,)))
        _check(st)
        return r
    finally:
        lib.tfc_status_free(st)


# ---------------------------------------------------------------------------
# MPI's lifetime: initialized once, finalized at exit after every cluster
# session is freed and every server stopped and freed.
# ---------------------------------------------------------------------------

_state_lock = threading.Lock()
_servers = []                         # the Servers of this process: they live until exit
                                      # (or stop()+_free), as TensorFlow's cannot be stopped
_sessions = weakref.WeakSet()         # live sessions on a server
_mpi_started = [False]
_finalized = [False]


def _ensure_mpi():
    with _state_lock:
        if _finalized[0]:
            raise errors.FailedPreconditionError(None, None, "tfc: MPI was finalized already")
        if _mpi_started[0]:
            return
        _call(_mpi_init, None, None)
        _mpi_started[0] = True
        atexit.register(_shutdown)


def _shutdown():
    """At exit: free the cluster sessions, stop and free the servers (each
    worker's goodbye ends the ps's join), then finalize MPI (collective)."""
    for s in list(_sessions):
        s.close()
    for srv in list(_servers):
        srv._free()
    _finalized[0] = True
    _mpi_finalize()


def rank():
    """This process's MPI rank (-1 before the first Server)."""
    return _mpi_rank()


# ---------------------------------------------------------------------------
# ClusterSpec
# ---------------------------------------------------------------------------

def _tasks_list(job, tasks):
    if isinstance(tasks, (list, tuple)):
        out = list(tasks)
    elif isinstance(tasks, dict):
        idx = sorted(tasks)
        if idx != list(range(len(idx))):
            raise ValueError("tfc: job %r lists tasks %s: tfc's tasks are MPI ranks, so a "
                             "job's task indices must be 0..n-1 with none missing" % (job, idx))
        out = [tasks[i] for i in idx]
    else:
        raise TypeError("The tasks for job %r must be a list or a dictionary from integers "
                        "to strings." % (job,))
    for t in out:
        if not isinstance(t, str):
            raise TypeError("Task address %r of job %r must be a string" % (t, job))
    return out


class ClusterSpec(object):
    """tf.train.ClusterSpec: jobs (in the order given, which is the order
    of the MPI ranks) mapping to lists of task addresses.

    ClusterSpec({"ps": ["ps0:2222"], "worker": ["w0:2222", "w1:2222"]}):
    rank 0 is /job:ps/task:0, ranks 1 and 2 the workers. Also accepts a
    ClusterSpec, or TensorFlow's JSON form of the dict (a str)."""

    def __init__(self, cluster):
        if isinstance(cluster, ClusterSpec):
            spec = cluster.as_dict()
        elif isinstance(cluster, str):
            try:
                spec = json.loads(cluster)
            except ValueError as e:
                raise ValueError("tfc: ClusterSpec: malformed JSON (%s); expected "
                                 "{\"job\": [\"host:port\", ...], ...}" % e)
            if not isinstance(spec, dict):
                raise TypeError("tfc: ClusterSpec JSON must be an object of jobs")
        elif isinstance(cluster, dict):
            spec = cluster
        else:
            raise TypeError("`cluster` must be a dictionary mapping one or more job names to "
                            "lists of network addresses, or a `ClusterSpec`.")
        self._spec = {}
        for job, tasks in spec.items():
            if not isinstance(job, str):
                raise TypeError("Job name %r must be a string" % (job,))
            self._spec[job] = _tasks_list(job, tasks)
        self._json = json.dumps(self._spec)
        self._h = None
        if self._spec:
            self._h = _call(_cluster_from_json, _b(self._json))

    def __del__(self):
        h = getattr(self, "_h", None)
        if h:
            self._h = None
            _cluster_free(h)

    def __bool__(self):
        return bool(self._spec)

    __nonzero__ = __bool__

    def __eq__(self, other):
        return isinstance(other, ClusterSpec) and self._spec == other._spec

    def __ne__(self, other):
        return not self == other

    def __hash__(self):
        return hash(self._json)

    def __repr__(self):
        return "ClusterSpec(%r)" % (self._spec,)

    def as_dict(self):
        """{job: [address, ...]} (a copy)."""
        return {job: list(tasks) for job, tasks in self._spec.items()}

    @property
    def jobs(self):
        """The job names, in the order given (the order of the ranks)."""
        return list(self._spec)

    def num_tasks(self, job_name):
        if job_name not in self._spec:
            raise ValueError("No such job in cluster: %r" % (job_name,))
        return len(self._spec[job_name])

    def task_indices(self, job_name):
        return list(range(self.num_tasks(job_name)))

    def task_address(self, job_name, task_index):
        tasks = self._spec.get(job_name)
        if tasks is None:
            raise ValueError("No such job in cluster: %r" % (job_name,))
        if not 0 <= task_index < len(tasks):
            raise ValueError("No task with index %r in job %r" % (task_index, job_name))
        return tasks[task_index]

    def job_tasks(self, job_name):
        return list(self._spec[job_name]) if job_name in self._spec else []

    def rank(self, job_name, task_index):
        """The MPI rank of a task (tfc)."""
        return _call(_cluster_task_rank, self._h, _b(job_name), int(task_index))


class ServerDef(object):
    """tf.train.ServerDef's fields: cluster (a ClusterSpec), job_name,
    task_index, protocol."""

    def __init__(self, cluster=None, job_name="", task_index=0, protocol="grpc",
                 default_session_config=None):
        self.cluster = cluster
        self.job_name = job_name
        self.task_index = task_index
        self.protocol = protocol
        self.default_session_config = default_session_config

    def __repr__(self):
        return "ServerDef(cluster=%r, job_name=%r, task_index=%r, protocol=%r)" % (
            self.cluster, self.job_name, self.task_index, self.protocol)


# ---------------------------------------------------------------------------
# Server
# ---------------------------------------------------------------------------

class Server(object):
    """tf.train.Server(server_or_cluster_def, job_name=None, task_index=None,
    protocol=None, config=None, start=True): this process's task.

    Every rank of the mpirun makes its server (the first is collective). The
    task must be the one this process's rank holds in the cluster: job_name
    None takes the rank's task (TensorFlow's default of the only job, task
    0, is that when the cluster has one task). `target` ("mpi:///job:..")
    is what tf.Session(server.target) takes; a "grpc://host:port" target
    naming an address of the cluster also makes a session on this server.
    `join()` serves until every task of the jobs other than "ps" has
    stopped (at its exit): a ps program ends with server.join() as in
    TensorFlow."""

    def __init__(self, server_or_cluster_def, job_name=None, task_index=None, protocol=None,
                 config=None, start=True, _options=None):
        if isinstance(server_or_cluster_def, ServerDef):
            sd = server_or_cluster_def
            cluster = ClusterSpec(sd.cluster)
            job_name = job_name if job_name is not None else (sd.job_name or None)
            task_index = task_index if task_index is not None else sd.task_index
            protocol = protocol or sd.protocol
        else:
            cluster = ClusterSpec(server_or_cluster_def)
        if not cluster:
            raise ValueError("tfc: Server needs a cluster with at least one job")
        if protocol not in (None, "grpc", "mpi", "grpc+mpi"):
            raise ValueError("tfc: protocol %r: tfc's transport is MPI" % (protocol,))
        if job_name is None and len(cluster.jobs) == 1 and cluster.num_tasks(cluster.jobs[0]) == 1:
            job_name = cluster.jobs[0]
        if job_name is not None and task_index is None:
            task_index = 0
        self._cluster = cluster
        self._h = None
        _ensure_mpi()
        opts = _options if _options is not None else ServerOptions()
        self._h = _call(_server_new, cluster._h, _b(job_name) if job_name else None,
                        -1 if task_index is None else int(task_index), ctypes.byref(opts))
        self._job = _s(_server_job(self._h))
        self._task = _server_task(self._h)
        self._target = _s(_server_target(self._h))
        self._started = False
        self._lock = threading.Lock()
        _servers.append(self)
        if start:
            self.start()

    @staticmethod
    def create_local_server(config=None, start=True):
        """A server of a one-task cluster ({"localhost": ["localhost:0"]})
        for a program run alone (one rank; under mpirun -np 1 or none)."""
        return Server({"localhost": ["localhost:0"]}, job_name="localhost", task_index=0,
                      config=config, start=start)

    @property
    def target(self):
        return self._target

    @property
    def server_def(self):
        return ServerDef(cluster=self._cluster, job_name=self._job, task_index=self._task,
                         protocol="grpc")

    @property
    def cluster_spec(self):
        return self._cluster

    def _handle(self):
        if not self._h:
            raise errors.FailedPreconditionError(None, None, "tfc: the server of %s/task:%d "
                                                 "was stopped" % (self._job, self._task))
        return self._h

    def start(self):
        """Starts serving (the progress thread, a hello to every task)."""
        with self._lock:
            if self._started:
                return
            _call(_server_start, self._handle())
            self._started = True

    def join(self):
        """Blocks while the server serves: until every task of the non-ps jobs
        has stopped (a ps), or at once for a worker. Raises UnavailableError
        naming a lost task."""
        self.start()
        _call(_server_join, self._handle())

    def stop(self):
        """Says goodbye to the other tasks (tfc; TensorFlow's servers cannot be
        stopped). Sessions on this server fail afterwards."""
        if self._h:
            _server_stop(self._h)

    def _free(self):
        for s in list(_sessions):
            if getattr(s, "_server", None) is self:
                s.close()
        h, self._h = self._h, None
        if h:
            _server_free(h)
        if self in _servers:
            _servers.remove(self)

    def __repr__(self):
        return "<tf.train.Server %s>" % self._target


def _server_for_target(target):
    """The server of this process that a session with `target` uses as its
    master: the one whose target it is, or (a "grpc://host:port" target) the
    server whose cluster lists that address, its own task's first."""
    live = [s for s in list(_servers) if s._h]
    for s in live:
        if target == s._target:
            return s
    addr = target
    for prefix in ("grpc://", "grpc+mpi://", "mpi://"):
        if addr.startswith(prefix):
            addr = addr[len(prefix):]
            break
    else:
        raise errors.InvalidArgumentError(
            None, None, "tfc: session target %r: expected a server's target (\"mpi:///job:..\") "
            "or \"grpc://host:port\"" % (target,))
    for s in live:
        if s._cluster.task_address(s._job, s._task) == addr:
            return s
    for s in live:
        if any(addr in tasks for tasks in s._cluster.as_dict().values()):
            return s
    if not live:
        raise errors.UnimplementedError(
            None, None, "tfc: session target %r: no tf.train.Server was made in this process. "
            "tfc's tasks are MPI ranks: run the program under mpirun, make its "
            "tf.train.Server(cluster, job_name, task_index) first, then "
            "tf.Session(server.target)" % (target,))
    raise errors.InvalidArgumentError(
        None, None, "tfc: session target %r names no task of the cluster %r of this process's "
        "server %s" % (target, live[0]._cluster.as_dict(), live[0]._target))


def _register_session(sess):
    _sessions.add(sess)


# ---------------------------------------------------------------------------
# replica_device_setter
# ---------------------------------------------------------------------------

class GreedyLoadBalancingStrategy(object):
    """tf.contrib.training.GreedyLoadBalancingStrategy: each variable to the
    ps task holding the fewest bytes so far (tfc's TFC_PS_STRATEGY_BY_SIZE;
    the byte count is tfc's, load_fn is not called)."""

    def __init__(self, num_tasks, load_fn=None):
        self._num_tasks = num_tasks
        self._load_fn = load_fn


def byte_size_load_fn(op):
    """tf.contrib.training.byte_size_load_fn (tfc measures it itself)."""
    return 0


class _ReplicaDeviceSetter(object):
    """What replica_device_setter returns: given to tf.device(), it places
    the nodes made inside (tfc_replica_device_setter_begin/end around them)."""

    def __init__(self, ps_tasks, ps_job, worker_device, cluster, strategy):
        self._ps_tasks = ps_tasks
        self._ps_job = ps_job
        self._worker_device = worker_device
        self._cluster = cluster
        self._strategy = strategy

    def __call__(self, op):
        # A device function's job in TensorFlow; tfc places at the scope's end.
        return op.device

    def _enter(self, graph):
        opts = ReplicaOptions(self._ps_tasks, _b(self._ps_job), _b(self._worker_device),
                              self._strategy)
        h = _setter_begin(graph._h, self._cluster._h if self._cluster else None,
                          ctypes.byref(opts))
        if not h:
            graph._raise_error()
        return h

    @staticmethod
    def _exit(graph, h, check):
        if _setter_end(h) != 0 and check:
            graph._raise_error()


def _job_of(device, what):
    if not device:
        return None
    for part in device.split("/"):
        if part.startswith("job:"):
            return part[4:]
    raise ValueError("tfc: replica_device_setter: %s %r names no job (\"/job:ps\")"
                     % (what, device))


def replica_device_setter(ps_tasks=0, ps_device="/job:ps", worker_device="/job:worker",
                          merge_devices=True, cluster=None, ps_ops=None, ps_strategy=None):
    """tf.train.replica_device_setter: for `with tf.device(...)` around a
    model replica. Variables go to the ps tasks (round robin, or with
    GreedyLoadBalancingStrategy by size), every other node to
    worker_device; a device a node asks for inside wins part by part
    (merge_devices; tfc always merges). Returns None (no placement) when
    there are no ps tasks, as TensorFlow does."""
    if cluster is not None:
        if not isinstance(cluster, ClusterSpec):
            cluster = ClusterSpec(cluster)
        ps_job = _job_of(ps_device, "ps_device") or "ps"
        if ps_job not in cluster.jobs:
            return None
        ps_tasks = ps_tasks or cluster.num_tasks(ps_job)
    else:
        ps_job = _job_of(ps_device, "ps_device") or "ps"
    if ps_tasks == 0:
        return None
    if ps_ops is not None and not set(ps_ops) <= {"Variable", "VariableV2", "VarHandleOp",
                                                   "AutoReloadVariable"}:
        raise NotImplementedError("tfc: replica_device_setter places the variables "
                                  "(VariableV2, VarHandleOp) on the ps tasks; ps_ops %r "
                                  "is not supported" % (ps_ops,))
    strategy = _ROUND_ROBIN
    if ps_strategy is not None:
        if isinstance(ps_strategy, GreedyLoadBalancingStrategy):
            strategy = _BY_SIZE
        elif not callable(ps_strategy):
            raise TypeError("ps_strategy must be callable")
        else:
            raise NotImplementedError("tfc: replica_device_setter takes round robin (None) or "
                                      "GreedyLoadBalancingStrategy as ps_strategy")
    if worker_device is not None and not isinstance(worker_device, str):
        raise TypeError("worker_device must be a string")
    del merge_devices
    return _ReplicaDeviceSetter(int(ps_tasks), ps_job, worker_device or "", cluster, strategy)
