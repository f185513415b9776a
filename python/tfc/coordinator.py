"""tf.train.Coordinator, tf.train.QueueRunner, tf.train.add_queue_runner and
tf.train.start_queue_runners.

A Coordinator wraps a tfc_coordinator: the queue-runner threads that
tfc_start_queue_runners starts are C threads (each runs its enqueue op
through the session, the GIL not held), and the coordinator's stop flag
and first error are shared between them and the Python threads a program
registers or passes to join(). A QueueRunner added to the graph
(add_queue_runner) is recorded in the C graph's collections with
tfc_add_queue_runner, next to the runners tfc's input helpers
(string_input_producer, batch, ...) record; start_queue_runners starts
all of them. QueueRunner.create_threads runs one runner from Python
threads instead, as TensorFlow does."""

import contextlib
import os
import threading

from . import errors
from .framework import _s, _as_operation
from ._lib import lib, declare, Output, c_int, c_int64, c_void_p

P = c_void_p
_new = declare("tfc_coordinator_new", P)
_free = declare("tfc_coordinator_free", None, P)
_request_stop = declare("tfc_coordinator_request_stop", None, P, P)
_should_stop = declare("tfc_coordinator_should_stop", c_int, P)
_wait_for_stop = declare("tfc_coordinator_wait_for_stop", c_int, P, c_int64)
_join = declare("tfc_coordinator_join", c_int, P, c_int64, P)
_add_queue_runner = declare("tfc_add_queue_runner", c_int, P, Output, P, c_int, P, P)
_num_queue_runners = declare("tfc_graph_num_queue_runners", c_int, P)
_start = declare("tfc_start_queue_runners", c_int, P, P, P)
_session_close = declare("tfc_session_close", None, P)


class Coordinator(object):
    """tf.train.Coordinator(clean_stop_exception_types=None)."""

    def __init__(self, clean_stop_exception_types=None):
        self._h = _new()
        if not self._h:
            raise MemoryError("tfc_coordinator_new")
        if clean_stop_exception_types is None:
            clean_stop_exception_types = (errors.OutOfRangeError,)
        self._clean = tuple(clean_stop_exception_types)
        self._lock = threading.Lock()
        self._exc = None
        self._registered = set()
        self._joined = False
        self._c_threads = 0

    def __del__(self):
        h = getattr(self, "_h", None)
        if h:
            self._h = None
            _free(h)  # joins the C threads it started

    def request_stop(self, ex=None):
        """Asks every thread to stop; `ex` (an exception, or an exc_info
        tuple) is kept unless one was already, or it is a clean stop
        (OutOfRangeError by default)."""
        if isinstance(ex, tuple):
            ex = ex[1]
        if ex is not None and not isinstance(ex, self._clean):
            with self._lock:
                if self._exc is None:
                    self._exc = ex
        _request_stop(self._h, None)

    def should_stop(self):
        return bool(_should_stop(self._h))

    def clear_stop(self):
        """Starts over with no stop request and no error (the threads the
        old state started are joined when this object goes)."""
        with self._lock:
            old, self._h = self._h, _new()
            self._exc = None
            self._joined = False
            self._old = getattr(self, "_old", []) + [old]

    def wait_for_stop(self, timeout=None):
        ms = -1 if timeout is None else int(timeout * 1000)
        return bool(_wait_for_stop(self._h, ms))

    def stop_on_exception(self):
        @contextlib.contextmanager
        def cm():
            try:
                yield
            except Exception as e:  # noqa: B902 (what TensorFlow catches)
                self.request_stop(e)
        return cm()

    def register_thread(self, thread):
        with self._lock:
            self._registered.add(thread)

    @property
    def joined(self):
        return self._joined

    def raise_requested_exception(self):
        with self._lock:
            if self._exc is not None:
                raise self._exc
        st = lib.tfc_status_new()
        try:
            if lib.tfc_coordinator_error(self._h, st):
                raise errors._from_code(lib.tfc_status_code(st),
                                        _s(lib.tfc_status_message(st)))
        finally:
            lib.tfc_status_free(st)

    def join(self, threads=None, stop_grace_period_secs=120, ignore_live_threads=False):
        """Waits for the given and registered Python threads and the C
        queue-runner threads; raises the first error a thread reported."""
        py = [t for t in list(threads or ()) + list(self._registered)
              if isinstance(t, threading.Thread)]
        for t in py:
            while t.is_alive() and not self.should_stop():
                t.join(0.05)
        for t in py:
            t.join(stop_grace_period_secs)
        st = lib.tfc_status_new()
        try:
            rc = _join(self._h, int(stop_grace_period_secs * 1000), st)
            code, msg = lib.tfc_status_code(st), _s(lib.tfc_status_message(st))
        finally:
            lib.tfc_status_free(st)
        self._joined = True
        with self._lock:
            exc = self._exc
        if exc is not None:
            raise exc
        live = [t.name for t in py if t.is_alive()]
        if rc != 0 and code == errors.DEADLINE_EXCEEDED and msg.startswith("Coordinator"):
            if not ignore_live_threads:
                raise RuntimeError(msg)
        elif rc != 0 and code != errors.OK and code != errors.OUT_OF_RANGE:
            raise errors._from_code(code, msg)
        if live and not ignore_live_threads:
            raise RuntimeError("Coordinator stopped with threads still running: %s" %
                               " ".join(live))


lib.tfc_coordinator_error.restype = c_int
lib.tfc_coordinator_error.argtypes = [P, P]


class _CThread(object):
    """Stands for one C thread tfc_start_queue_runners started (what
    start_queue_runners returns in place of TensorFlow's Python threads):
    the coordinator joins it."""

    def __init__(self, coord, i):
        self._coord = coord
        self.name = "QueueRunnerThread-%d" % i
        self.daemon = True

    def is_alive(self):
        return not self._coord._joined

    def join(self, timeout=None):
        pass


class QueueRunner(object):
    """tf.train.QueueRunner(queue, enqueue_ops, close_op=None, cancel_op=None)."""

    def __init__(self, queue=None, enqueue_ops=None, close_op=None, cancel_op=None,
                 queue_closed_exception_types=None, queue_runner_def=None, import_scope=None):
        if queue is None or not enqueue_ops:
            raise ValueError("QueueRunner needs a queue and enqueue ops")
        self._queue = queue
        self._enqueue_ops = [_as_operation(op) for op in enqueue_ops]
        self._close_op = close_op if close_op is not None else queue.close()
        self._cancel_op = cancel_op if cancel_op is not None else \
            queue.close(cancel_pending_enqueues=True)
        self._closed_types = tuple(queue_closed_exception_types or
                                   (errors.OutOfRangeError, errors.CancelledError))
        self._exceptions_raised = []
        self._lock = threading.Lock()

    @property
    def queue(self):
        return self._queue

    @property
    def enqueue_ops(self):
        return self._enqueue_ops

    @property
    def close_op(self):
        return self._close_op

    @property
    def cancel_op(self):
        return self._cancel_op

    @property
    def name(self):
        return self._queue.name

    @property
    def exceptions_raised(self):
        return list(self._exceptions_raised)

    def create_threads(self, sess, coord=None, daemon=False, start=False):
        """Python threads running each enqueue op until the queue closes or
        the coordinator stops (TensorFlow's QueueRunner.create_threads)."""
        live = [len(self._enqueue_ops)]

        def run(op):
            _run_as_batch_work()
            try:
                while not (coord and coord.should_stop()):
                    try:
                        sess.run(op)
                    except self._closed_types:
                        with self._lock:
                            live[0] -= 1
                            last = live[0] == 0
                        if last:
                            try:
                                sess.run(self._close_op)
                            except Exception:  # noqa: B902 (closing anyway)
                                pass
                        return
            except Exception as e:  # noqa: B902 (reported to the coordinator)
                with self._lock:
                    self._exceptions_raised.append(e)
                if coord:
                    coord.request_stop(e)
                else:
                    raise

        def cancel():
            coord.wait_for_stop()
            try:
                sess.run(self._cancel_op)
            except Exception:  # noqa: B902 (a closed session)
                pass

        threads = [threading.Thread(target=run, args=(op,)) for op in self._enqueue_ops]
        if coord:
            threads.append(threading.Thread(target=cancel))
        for t in threads:
            if coord:
                coord.register_thread(t)
            t.daemon = daemon
            if start:
                t.start()
        return threads


def _run_as_batch_work():
    """The calling thread under SCHED_BATCH (Linux), as the C runners: an
    enqueue thread woken by a dequeue then does not preempt the training
    step's threads (src/data/queue_runner.c)."""
    try:
        os.sched_setscheduler(0, os.SCHED_BATCH, os.sched_param(0))
    except (AttributeError, OSError):  # not Linux, or not allowed: as before
        pass


def add_queue_runner(qr, collection="queue_runners"):
    """Records the runner in the graph: start_queue_runners starts it."""
    g = qr.queue.queue_ref.graph
    ops = (c_void_p * len(qr.enqueue_ops))(*[op._node for op in qr.enqueue_ops])
    if _add_queue_runner(g._h, qr.queue.queue_ref._c, ops, len(qr.enqueue_ops),
                         qr.close_op._node, qr.cancel_op._node) != 0:
        g._raise_error()
    g._collections.setdefault(collection, []).append(qr)


def start_queue_runners(sess=None, coord=None, daemon=True, start=True,
                        collection="queue_runners"):
    """Starts the threads of every queue runner of the session's graph (one
    per enqueue op, and one that cancels pending enqueues on a stop). Without
    a coordinator the session gets one of its own, stopped when it closes.
    Returns one stand-in per C thread (for coord.join)."""
    from .session import get_default_session
    if sess is None:
        sess = get_default_session()
        if sess is None:
            raise ValueError("Cannot start queue runners: No default session is registered. "
                             "Use `with sess.as_default()` or pass an explicit session to "
                             "tf.start_queue_runners(sess=sess)")
    sess._local_handle("start_queue_runners")
    if _num_queue_runners(sess.graph._h) == 0:
        return []
    if coord is None:
        coord = Coordinator()
    sess._coordinators.append(coord)
    st = lib.tfc_status_new()
    try:
        n = _start(sess._h, coord._h, st)
        if n < 0:
            raise errors._from_code(lib.tfc_status_code(st), _s(lib.tfc_status_message(st)))
    finally:
        lib.tfc_status_free(st)
    coord._c_threads += n
    coord._joined = False
    return [_CThread(coord, i) for i in range(n)]


def _stop_session_threads(sess):
    """Before a session is freed: close it (runs blocked in queues end),
    stop the coordinators its queue runners use and wait for their threads,
    which hold the session."""
    coords = getattr(sess, "_coordinators", None)
    if not coords:
        return
    _session_close(sess._h)
    for c in coords:
        if c._h:
            _request_stop(c._h, None)
            st = lib.tfc_status_new()
            _join(c._h, 600000, st)
            lib.tfc_status_free(st)
    sess._coordinators = []
