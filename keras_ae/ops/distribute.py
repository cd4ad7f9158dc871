"""Training on more than one device, once for every backend: loss scaling, replica noise, cross-replica state.

Under a ``tf.distribute`` strategy (``MirroredStrategy``, ``MultiWorkerMirroredStrategy``) Keras runs ``train_step``
once per replica on its share of the global batch, *sums* the replicas' gradients and multiplies the reported loss
by the number of replicas. Keras' own losses therefore divide each replica's loss by the number of replicas
(``scale_loss_for_distribution`` in Keras' private ``keras.src.losses.loss``); a ``compute_loss`` or ``train_step``
written by hand must do the same, ``add_loss`` terms included, or every gradient is multiplied by the number of
replicas. :func:`scale_loss_for_distribution` is that rule, with the same semantics, for every keras_ae model.

Under JAX's ``keras.distribution.DataParallel`` one program runs on the global batch (sharded across devices), so
losses, noise draws and statistics are already global: every function here is the identity there, as on torch and
on one device.

- :func:`scale_loss_for_distribution`: a replica's loss divided by the number of replicas in sync.
- :class:`ReplicaSeedGenerator`: a ``keras.random.SeedGenerator`` whose draws differ between replicas (Keras' own
  generator is a mirrored variable, so every replica would draw the same noise for its share of the batch).
- :func:`cross_replica_sum`, :func:`cross_replica_concat`: combine state computed inside ``call`` (the VQ-VAE's EMA
  codebook statistics) so every replica holds the same values.
- :func:`assign_each`: assign a function of each variable's value to it inside a training step (a WGAN critic's
  weight clipping), through the strategy's cross-replica update under ``tf.distribute``.
- :func:`synchronize_batch_statistics`: whether batch-norm moments must be all-reduced (TensorFlow, more than one
  replica), used by :class:`keras_ae.layers.SyncBatchNormalization`.
- :func:`strategy_scope`: the strategy for ``mirrored``, ``multi-worker`` or ``data-parallel`` (the command line's
  ``--distribute``).
"""

__all__ = [
    "DISTRIBUTIONS",
    "ReplicaSeedGenerator",
    "assign_each",
    "cross_replica_concat",
    "cross_replica_sum",
    "get_strategy",
    "is_chief",
    "multi_worker_logs",
    "num_replicas",
    "per_replica_call",
    "replica_count",
    "replica_id",
    "replica_values",
    "scale_loss_for_distribution",
    "simulate_devices",
    "strategy_scope",
    "synchronize_batch_statistics",
]

import contextlib
import json
import os
import sys

import keras
import numpy as np
from keras import ops

from keras_ae.errors import check_choice

DISTRIBUTIONS = ("none", "mirrored", "multi-worker", "data-parallel")

# An odd 32-bit constant (2^32 / golden ratio) that moves each replica's seed far from its neighbours'.
_REPLICA_SEED_STRIDE = 2654435761


def _tf():
    """TensorFlow if the backend is TensorFlow and it is imported (a strategy can only exist then), else None."""
    if keras.backend.backend() != "tensorflow":
        return None
    return sys.modules.get("tensorflow")


def multi_worker_logs(logs):
    """A training or test step's ``logs`` as Keras' TensorFlow trainer can reduce them across the workers of a
    ``MultiWorkerMirroredStrategy``: each value reshaped to ``(1,)``. Keras (3.15) reduces a multi-worker step's
    logs with ``strategy.reduce("MEAN", value, axis=0)``, which fails on the scalar logs every ``train_step``
    returns ("Invalid reduction dimension 0 for input with 0 dimensions"; tensorflow/tensorflow#72388); rank-1 logs
    reduce to the same scalars. ``logs`` unchanged anywhere else (one worker, other strategies, other backends)."""
    tf = _tf()
    if tf is None or not tf.distribute.has_strategy():
        return logs
    strategy = tf.distribute.get_strategy()
    in_multi_worker_mode = getattr(strategy.extended, "_in_multi_worker_mode", lambda: False)
    if not (isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy) and in_multi_worker_mode()):
        return logs
    return {k: tf.reshape(v, (1,)) for k, v in logs.items()}


def _replica_context():
    """The ``tf.distribute`` replica context when more than one replica runs this code, else None."""
    tf = _tf()
    if tf is None:
        return None
    ctx = tf.distribute.get_replica_context()
    if ctx is None or ctx.num_replicas_in_sync <= 1:
        return None
    return ctx


def num_replicas():
    """The number of replicas that sum their gradients (``tf.distribute``); 1 on one device and under JAX's
    ``DataParallel`` (one program on the global batch) and torch."""
    tf = _tf()
    if tf is None:
        return 1
    return int(tf.distribute.get_strategy().num_replicas_in_sync)


def scale_loss_for_distribution(loss):
    """``loss / num_replicas()``: what Keras' own losses return from one replica (see the module docstring).

    Apply it to the whole loss a replica minimizes, ``add_loss`` terms included; Keras multiplies the reported
    ``loss`` back, so ``fit``/``evaluate`` show the single-device value. Metrics updated with unscaled values
    (``Mean`` trackers) need nothing: Keras sums their totals and counts across replicas.
    """
    n = num_replicas()
    if n > 1:
        loss = ops.multiply(loss, ops.cast(1.0 / n, loss.dtype))
    return loss


def replica_id():
    """This replica's index in ``[0, num_replicas())`` (a tensor under a ``tf.distribute`` strategy, else 0)."""
    ctx = _replica_context()
    return 0 if ctx is None else ctx.replica_id_in_sync_group


def cross_replica_sum(x):
    """The sum of ``x`` over the replicas (every replica gets it; differentiable); ``x`` elsewhere."""
    ctx = _replica_context()
    if ctx is None:
        return x
    return ctx.all_reduce("sum", x)


def cross_replica_concat(x, axis=0):
    """The replicas' ``x`` concatenated along ``axis`` in replica order (for a batch: the global batch in its
    order); ``x`` elsewhere."""
    ctx = _replica_context()
    if ctx is None:
        return x
    return ctx.all_gather(x, axis=axis)


def assign_each(variables, fn):
    """``v.assign(fn(v.value))`` for each Keras variable ``v``, inside a training step (TensorFlow and torch; a JAX
    step maps ``fn`` over the values it returns instead).

    Under a ``tf.distribute`` strategy a model's variables are mirrored with no aggregation, so a replica cannot
    assign them itself: the assignment goes through ``merge_call`` and ``strategy.extended.update``, as Keras'
    optimizers apply their updates and weight decay, and ``fn`` is applied to every device's copy (which hold the
    same values after a synchronized optimizer step, so they stay equal).
    """
    variables = list(variables)
    tf = _tf()
    if tf is None or not tf.distribute.has_strategy() or tf.distribute.in_cross_replica_context():
        for v in variables:
            v.assign(fn(v.value))
        return

    def update(strategy, tf_variables):
        for var in tf_variables:
            strategy.extended.update(var, lambda component: component.assign(fn(component)), group=False)

    tf.__internal__.distribute.interim.maybe_merge_call(update, tf.distribute.get_strategy(),
                                                        [v.value for v in variables])


def synchronize_batch_statistics():
    """True when batch-norm moments must be all-reduced to be those of the global batch: TensorFlow with more than
    one replica in sync. (Under JAX's DataParallel the batch axis is already global.)"""
    return _replica_context() is not None


class ReplicaSeedGenerator(keras.random.SeedGenerator):
    """A ``keras.random.SeedGenerator`` whose draws differ between ``tf.distribute`` replicas.

    Keras' generator keeps its state in one mirrored variable, so every replica draws the same numbers for its
    share of the batch: two devices see half the noise they should. This generator folds the replica's index into
    each seed it hands out (the state itself advances identically on every replica, so it stays mirrored and is
    saved as before). On one device, under JAX's ``DataParallel`` (one draw for the global batch) and on torch it
    is Keras' generator unchanged. Pass it as ``seed=`` to ``keras.random`` functions like any generator.
    """

    def next(self, ordered=True):
        seed = super().next(ordered=ordered)
        ctx = _replica_context()
        if ctx is None:
            return seed
        tf = _tf()
        offset = tf.cast(ctx.replica_id_in_sync_group, seed.dtype) * tf.constant(_REPLICA_SEED_STRIDE, seed.dtype)
        return seed + tf.stack([offset, tf.zeros_like(offset)])


_STRATEGIES = {}


def _tf_strategy(name):
    """One strategy of each kind per process: two MirroredStrategy objects in one process can mix up their
    collective all-reduces, and a MultiWorkerMirroredStrategy must be created once, before any other TF work."""
    if name not in _STRATEGIES:
        _STRATEGIES[name] = _new_tf_strategy(name)
    return _STRATEGIES[name]


def _new_tf_strategy(name):
    import tensorflow as tf

    if name == "mirrored":  # every GPU, else every (logical) CPU: one replica per device
        devices = tf.config.list_logical_devices("GPU") or tf.config.list_logical_devices("CPU")
        return tf.distribute.MirroredStrategy([d.name for d in devices])
    return tf.distribute.MultiWorkerMirroredStrategy()


def get_strategy(distribute="none"):
    """The ``tf.distribute`` strategy (``"mirrored"``, ``"multi-worker"``; one per process) or the
    ``keras.distribution.DataParallel`` (``"data-parallel"``) named ``distribute``, or None for ``"none"``; see
    :func:`strategy_scope` (which enters it)."""
    distribute = check_choice("distribute", distribute, DISTRIBUTIONS)
    backend = keras.backend.backend()
    if distribute == "none":
        return None
    if distribute in ("mirrored", "multi-worker"):
        if backend != "tensorflow":
            raise ValueError(f"`distribute={distribute!r}` uses tf.distribute and needs KERAS_BACKEND=tensorflow; "
                             f"the backend is {backend!r}. With JAX use distribute='data-parallel'.")
        return _tf_strategy(distribute)
    if backend != "jax":
        raise ValueError(f"`distribute='data-parallel'` uses keras.distribution and needs KERAS_BACKEND=jax; the "
                         f"backend is {backend!r}. With TensorFlow use distribute='mirrored'.")
    return keras.distribution.DataParallel(devices=keras.distribution.list_devices())


@contextlib.contextmanager
def strategy_scope(distribute="none"):
    """A context in which to build, compile and ``fit`` a model under ``distribute``:

    - ``"none"``: one device (nothing changes);
    - ``"mirrored"``: ``tf.distribute.MirroredStrategy`` over this machine's GPUs (without GPUs: its logical CPUs,
      one unless configured with ``tf.config.set_logical_device_configuration``);
    - ``"multi-worker"``: ``tf.distribute.MultiWorkerMirroredStrategy``; each process reads its role from the
      ``TF_CONFIG`` environment variable (see docs/scaling.md);
    - ``"data-parallel"``: ``keras.distribution.DataParallel`` over every device JAX sees.

    The TensorFlow strategies need ``KERAS_BACKEND=tensorflow`` and ``data-parallel`` needs ``KERAS_BACKEND=jax``;
    anything else is a ``ValueError`` naming the backend. Yields the strategy (or distribution), or None.
    """
    strategy = get_strategy(distribute)
    if strategy is None:
        yield None
    elif isinstance(strategy, keras.distribution.DataParallel):
        previous = keras.distribution.distribution()
        keras.distribution.set_distribution(strategy)  # global: fit also reads it to shard the data
        try:
            yield strategy
        finally:
            keras.distribution.set_distribution(previous)
    else:
        with strategy.scope():
            yield strategy


def is_chief():
    """Whether this process is the chief of a multi-worker cluster described by ``TF_CONFIG`` (the task of type
    ``chief``, or worker 0 when the cluster has no chief), the one process that writes results; True without a
    cluster."""
    config = json.loads(os.environ.get("TF_CONFIG") or "{}")
    cluster, task = config.get("cluster") or {}, config.get("task") or {}
    if not cluster or "type" not in task:
        return True
    if task["type"] == "chief":
        return True
    return task["type"] == "worker" and "chief" not in cluster and int(task.get("index", 0)) == 0


def replica_values(variable):
    """Every replica's copy of a Keras ``variable`` as numpy arrays: the ``tf.distribute`` components of a mirrored
    variable, the device shards of a replicated JAX array, or the one value."""
    value = variable.value
    components = getattr(value, "values", None)
    if components is not None and not callable(components):  # a tf.distribute DistributedVariable
        return [np.asarray(c.numpy()) for c in components]
    shards = getattr(value, "addressable_shards", None)
    if shards is not None and len(shards) > 1 and all(tuple(s.data.shape) == tuple(value.shape) for s in shards):
        return [np.asarray(s.data) for s in shards]
    return [np.asarray(ops.convert_to_numpy(value))]


def replica_count(strategy):
    """The number of replicas of a ``tf.distribute`` strategy or a ``keras.distribution`` distribution (1 for None)."""
    if strategy is None:
        return 1
    if keras.backend.backend() == "tensorflow":
        return int(strategy.num_replicas_in_sync)
    return int(np.prod(strategy.device_mesh.shape))


def simulate_devices(count):
    """Split this machine's CPU into ``count`` devices, to try a strategy without GPUs: logical CPUs on TensorFlow
    (call it before TensorFlow runs anything); on JAX the process must have been started with
    ``XLA_FLAGS=--xla_force_host_platform_device_count=COUNT`` (checked here)."""
    count = int(count)
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * count)
        return
    if keras.backend.backend() == "jax":
        seen = len(keras.distribution.list_devices())
        if seen != count:
            raise RuntimeError(f"JAX sees {seen} devices, {count} asked for: start the process with "
                               f"XLA_FLAGS=--xla_force_host_platform_device_count={count}")
        return
    raise ValueError(f"Simulated devices need the tensorflow or jax backend; the backend is {keras.backend.backend()!r}.")


def per_replica_call(fn, inputs, strategy):
    """Give every replica of ``strategy`` (a ``tf.distribute`` strategy or a ``keras.distribution`` distribution,
    as :func:`strategy_scope` yields) the same ``inputs`` (a batch, or a tuple of batches) and return what ``fn``
    returns on each, as a list of numpy structures in replica order. Under ``tf.distribute`` ``fn`` runs once per
    replica; under JAX's ``DataParallel`` once on the global batch of ``inputs`` repeated once per device, sharded
    along the batch, and its output is split back. With identical inputs, outputs that differ between replicas show
    replica-dependent randomness."""
    to_numpy = lambda t: np.asarray(ops.convert_to_numpy(t))  # noqa: E731
    if keras.backend.backend() == "tensorflow":
        per = strategy.run(fn, args=(inputs,))
        return [keras.tree.map_structure(to_numpy, r) for r in strategy.experimental_local_results(per)]
    n = replica_count(strategy)

    def shard(t):
        t = np.concatenate([np.asarray(t)] * n)
        return keras.distribution.distribute_tensor(t, strategy.get_data_layout(t.shape))

    out = fn(keras.tree.map_structure(shard, inputs))
    return [keras.tree.map_structure(lambda t: np.split(to_numpy(t), n)[i], out) for i in range(n)]
