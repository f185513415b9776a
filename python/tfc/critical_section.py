"""Mutexes in a graph: tf.CriticalSection (tf.contrib.framework.CriticalSection
in TensorFlow 1.x) and the raw ops MutexV2, MutexLock, ConsumeMutexLock
(tf.raw_ops), through the generic builder (include/tfc.h's "Mutexes" describes the ops).

The mutex lives in the session that runs its MutexV2. MutexLock outputs
the lock (a resource scalar); the mutex is released when the lock's last
use has run, which ConsumeMutexLock marks. CriticalSection.execute(fn)
builds TensorFlow's pattern: lock, fn's ops under a control dependency on
the lock, ConsumeMutexLock after fn's outputs, and fn's outputs returned
through Identity ops that wait for the consume. So two runs (two Python
threads) executing the section never interleave inside it.

The 2015 white paper (seed 003) names these ops MutexAcquire and
MutexRelease: raw_ops has those names as aliases of MutexLock and
ConsumeMutexLock."""

from . import dtypes
from .framework import (Tensor, Operation, build_op, convert_to_tensor, get_default_graph,
                        composite_scope)


def _check_resource(t, what, op):
    if not isinstance(t, Tensor) or t.dtype != dtypes.resource:
        raise TypeError("%s: %s must be a resource tensor (%s's output), got %r"
                        % (op, what, "MutexV2" if what == "mutex" else "MutexLock", t))


def mutex_v2(container="", shared_name="", name=None):
    """The MutexV2 op: a resource tensor naming the session's mutex (one per
    shared_name when it is not empty)."""
    del container  # one container per session in tfc
    op = build_op("MutexV2", [], {"shared_name": ("string", shared_name or "")}, name=name,
                  default_name="MutexV2", graph=get_default_graph())
    return op.outputs[0]


def mutex_lock(mutex, name=None):
    """The MutexLock op: waits for the mutex (without holding a thread) and
    outputs the lock, which holds it until its last use has run."""
    _check_resource(mutex, "mutex", "MutexLock")
    return build_op("MutexLock", [mutex], name=name, default_name="MutexLock").outputs[0]


def consume_mutex_lock(mutex_lock, name=None):
    """The ConsumeMutexLock op: run after the section's ops (as a target or a
    control input), it is the lock's last use."""
    _check_resource(mutex_lock, "mutex_lock", "ConsumeMutexLock")
    return build_op("ConsumeMutexLock", [mutex_lock], name=name,
                    default_name="ConsumeMutexLock")


class _RawOps(object):
    """tf.raw_ops for the mutex ops (TensorFlow's keyword-only signatures)."""

    @staticmethod
    def MutexV2(container="", shared_name="", name=None):
        return mutex_v2(container, shared_name, name)

    @staticmethod
    def MutexLock(mutex, name=None):
        return mutex_lock(mutex, name)

    @staticmethod
    def ConsumeMutexLock(mutex_lock, name=None):  # noqa: N803 (TensorFlow's name)
        return consume_mutex_lock(mutex_lock, name)

    # the white paper's names (seed 003)
    MutexAcquire = MutexLock
    MutexRelease = ConsumeMutexLock


raw_ops = _RawOps()


def _flatten(x, out):
    if isinstance(x, (list, tuple)):
        for e in x:
            _flatten(e, out)
    elif isinstance(x, dict):
        for k in sorted(x):
            _flatten(x[k], out)
    elif x is not None:
        out.append(x)
    return out


def _map(x, f):
    if isinstance(x, tuple) and hasattr(x, "_fields"):
        return type(x)(*[_map(e, f) for e in x])
    if isinstance(x, (list, tuple)):
        return type(x)(_map(e, f) for e in x)
    if isinstance(x, dict):
        return type(x)((k, _map(v, f)) for k, v in x.items())
    return f(x)


class CriticalSection(object):
    """tf.CriticalSection(name=None, shared_name=None): execute(fn) runs fn's
    ops while holding the section's mutex."""

    def __init__(self, name=None, shared_name=None, critical_section_def=None,
                 import_scope=None):
        if critical_section_def is not None:
            raise NotImplementedError("tfc: CriticalSection from a CriticalSectionDef")
        g = get_default_graph()
        self._graph = g
        self._handle = mutex_v2(shared_name=shared_name or "", name=name or "CriticalSection")

    @property
    def name(self):
        return self._handle.op.name

    def execute(self, fn, exclusive_resource_access=True, name=None):
        """Runs fn() under the lock; returns fn's outputs (same structure)
        as tensors that are ready once the lock is released. Operations fn
        returns run before the release too and come back as no-ops that
        wait for it."""
        from .control_flow_ops import no_op
        from .array_ops import identity
        g = self._graph
        with composite_scope(name, "critical_section_execute", [self._handle]) as (g, _):
            lock = mutex_lock(self._handle)
            with g.control_dependencies([lock]):
                r = fn()
            # fn's tensors are read while the lock is held (a variable's
            # Assign output is the variable itself: read after the release
            # it could show another run's update)
            snaps = {}
            leaves = []
            with g.control_dependencies([lock]):
                for x in _flatten(r, []):
                    if not isinstance(x, Operation):
                        t = convert_to_tensor(x)
                        snaps[id(x)] = identity(t)
                        x = snaps[id(x)]
                    leaves.append(x)
            with g.control_dependencies(leaves):
                release = consume_mutex_lock(lock)

            def after(x):
                with g.control_dependencies([release]):
                    if isinstance(x, Operation):
                        return no_op()
                    return identity(snaps[id(x)])
            if r is None:
                with g.control_dependencies([release]):
                    return no_op()
            return _map(r, after)
