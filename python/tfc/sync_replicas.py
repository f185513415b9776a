"""tf.train.SyncReplicasOptimizer over include/tfc.h's "Synchronous
replicas" (tfc_sync_replicas_*): each worker's train op puts its gradients
into one ConditionalAccumulator per variable (on the variable's ps task,
shared by name) and waits for a token; the chief's sync op, run in a loop
by the chief queue runner, takes replicas_to_aggregate gradients from each
accumulator, applies their mean with the wrapped optimizer once,
increments global_step and hands out the next tokens."""

import ctypes

from . import errors
from .framework import Operation, Tensor, c_graph, convert_to_tensor
from ._lib import lib, declare, Output, GradAndVar, c_void_p, c_int
from .train import Optimizer, _var_tensor, _null

_new = declare("tfc_sync_replicas_optimizer_new", c_void_p, c_void_p, c_int, c_int)
_free = declare("tfc_sync_replicas_optimizer_free", None, c_void_p)
_apply = declare("tfc_sync_replicas_apply_gradients", c_void_p, c_void_p, c_void_p, c_void_p,
                 c_int, Output)
_chief_init = declare("tfc_sync_replicas_chief_init_op", c_void_p, c_void_p)
_local_init = declare("tfc_sync_replicas_local_step_init_op", c_void_p, c_void_p)
_sync_op = declare("tfc_sync_replicas_sync_op", c_void_p, c_void_p)
_init_tokens = declare("tfc_sync_replicas_init_tokens_op", c_void_p, c_void_p, c_int)
_local_step = declare("tfc_sync_replicas_local_step", Output, c_void_p)
_accumulator = declare("tfc_sync_replicas_accumulator", Output, c_void_p, Output)


class SyncReplicasOptimizer(Optimizer):
    """tf.train.SyncReplicasOptimizer(opt, replicas_to_aggregate,
    total_num_replicas=None, ...). minimize / apply_gradients(global_step=
    required) return the worker's train op; then chief_init_op,
    local_step_init_op, get_init_tokens_op() and get_chief_queue_runner()
    are there, as in TensorFlow."""

    def __init__(self, opt, replicas_to_aggregate, total_num_replicas=None,
                 variable_averages=None, variables_to_average=None, use_locking=False,
                 name="sync_replicas"):
        super(SyncReplicasOptimizer, self).__init__(use_locking, name)
        if variable_averages is not None or variables_to_average is not None:
            raise NotImplementedError("tfc: SyncReplicasOptimizer(variable_averages=...)")
        if not isinstance(opt, Optimizer) or isinstance(opt, SyncReplicasOptimizer):
            raise TypeError("SyncReplicasOptimizer wraps one of the optimizers, got %r" % (opt,))
        if int(replicas_to_aggregate) < 1:
            raise ValueError("replicas_to_aggregate must be at least 1, got %r"
                             % (replicas_to_aggregate,))
        self._opt = opt
        self._replicas_to_aggregate = int(replicas_to_aggregate)
        self._total_num_replicas = int(total_num_replicas or replicas_to_aggregate)
        self._s = None
        self._graph = None
        self._global_step = None
        self.chief_init_op = None
        self.local_step_init_op = None
        self.ready_for_local_init_op = None
        self._chief_queue_runner = None
        self._sync = None

    def __del__(self):
        s = getattr(self, "_s", None)
        if s:
            self._s = None
            _free(s)  # frees the wrapped optimizer's C object too

    def compute_gradients(self, *args, **kwargs):
        return self._opt.compute_gradients(*args, **kwargs)

    def apply_gradients(self, grads_and_vars, global_step=None, name=None):
        """The worker's train op: its gradients into the accumulators, then
        the next token as its local step."""
        if not grads_and_vars:
            raise ValueError("Must supply at least one variable")
        if global_step is None:
            raise ValueError("Global step is required to check staleness")
        if self._s is not None:
            raise ValueError("tfc: apply_gradients was called on this SyncReplicasOptimizer "
                             "already (one call per optimizer)")
        pairs = list(grads_and_vars)
        vars_ = [_var_tensor(v) for _, v in pairs]
        if all(grad is None for grad, _ in pairs):
            raise ValueError("No gradients provided for any variable: %s"
                             % ([v.name for v in vars_],))
        g = c_graph(vars_)
        h = self._opt._handle(g)
        s = _new(h, self._replicas_to_aggregate, self._total_num_replicas)
        if not s:
            raise MemoryError("tfc: could not create the SyncReplicasOptimizer")
        # The wrapper owns the optimizer's C object from now on.
        self._opt._h_owner = self
        self._s = s
        arr = (GradAndVar * len(pairs))()
        with g.as_default():
            for i, (grad, var) in enumerate(pairs):
                arr[i].grad = convert_to_tensor(grad)._c if grad is not None else _null()
                arr[i].var = vars_[i]._c
        step = _var_tensor(global_step)
        if getattr(g, "_device_depth", 0):
            # as Optimizer.apply_gradients: updates and accumulators go with
            # their variables, not to the enclosing tf.device
            lib.tfc_device_push(g._h, None)
            try:
                node = _apply(s, g._h, arr, len(pairs), step._c)
            finally:
                lib.tfc_device_pop(g._h)
        else:
            node = _apply(s, g._h, arr, len(pairs), step._c)
        train_op = g._check_node(node)
        g._sync_names()
        self._graph = g
        self._global_step = step
        self.chief_init_op = g._op(_chief_init(s))
        self.local_step_init_op = g._op(_local_init(s))
        self._sync = g._op(_sync_op(s))
        return train_op

    def _built(self, what):
        if self._s is None:
            raise ValueError("Should be called after apply_gradients(): %s" % what)

    def get_init_tokens_op(self, num_tokens=-1):
        """Enqueues num_tokens tokens (-1: replicas_to_aggregate) so that the
        workers may start; the chief runs it once after chief_init_op."""
        self._built("get_init_tokens_op")
        if num_tokens != -1 and num_tokens < self._replicas_to_aggregate - \
                self._total_num_replicas:
            raise ValueError("Too few tokens to finish the first step: %d (given) vs %d "
                             "(needed)" % (num_tokens, self._replicas_to_aggregate -
                                           self._total_num_replicas))
        g = self._graph
        node = _init_tokens(self._s, int(num_tokens))
        op = g._check_node(node)
        g._sync_names()
        return op

    def get_chief_queue_runner(self):
        """A QueueRunner whose thread runs the sync op (one aggregated step
        per run), for the chief: create_threads(sess, coord, start=True)."""
        self._built("get_chief_queue_runner")
        if self._chief_queue_runner is None:
            from .coordinator import QueueRunner
            from .data_flow_ops import FIFOQueue
            from . import dtypes
            with self._graph.as_default(), self._graph.name_scope(None):
                # TensorFlow's runner holds a dummy queue too; it is never used
                dummy = FIFOQueue(1, dtypes.int32, shapes=[[]], name="dummy_queue",
                                  shared_name="dummy_queue")
            self._chief_queue_runner = QueueRunner(dummy, [self._sync])
        return self._chief_queue_runner

    @property
    def sync_op(self):
        """tfc: the chief's sync op (what its queue runner runs)."""
        self._built("sync_op")
        return self._sync

    def local_step(self):
        """tfc: this worker's local_step variable (a tensor)."""
        self._built("local_step")
        return self._graph._tensor(_local_step(self._s))

    def get_slot(self, *args, **kwargs):
        return self._opt.get_slot(*args, **kwargs)

    def get_slot_names(self, *args, **kwargs):
        return self._opt.get_slot_names(*args, **kwargs)

    def variables(self):
        return self._opt.variables()

    def get_name(self):
        return self._name
