"""Training data whose order depends only on the seed and the epoch, so a resumed run repeats an uninterrupted one.

:func:`epoch_pipeline` serves in-memory arrays for epochs ``first_epoch .. epochs - 1`` as one ``tf.data`` pipeline:
epoch ``e`` visits the examples in the order ``numpy.random.default_rng([seed, e]).permutation(n)``, in batches that
never straddle two epochs; pass ``steps_per_epoch=steps_per_epoch(n, batch_size)`` and ``initial_epoch=first_epoch``
to ``fit``. :func:`epoch_seeds` is the matching rule for the models' random draws (dropout, sampling noise,
corruption, dequantization): the state of every ``keras.random.SeedGenerator`` at the start of epoch ``e`` is a
function of ``(seed, e)`` (see :class:`keras_ae.recipes.EpochSeeds`).

Every training pipeline of the recipe runner is built here, so a change to how keras_ae batches in-memory data
(e.g. ``tf.data`` options) lands in one place.
"""

__all__ = ["epoch_order", "epoch_pipeline", "epoch_seeds", "evaluation_pipeline", "steps_per_epoch"]

import math

import numpy as np

from keras_ae.data.pipelines import pipeline_options
from keras_ae.errors import InvalidArgumentError, check_positive_int


def steps_per_epoch(n, batch_size):
    """Batches per epoch: ``ceil(n / batch_size)`` (the last batch may be smaller)."""
    return int(math.ceil(int(n) / check_positive_int("batch_size", int(batch_size))))


def _entropy(seed, epoch):
    """``seed`` (an integer >= 0, or a sequence of them: a run's seed and a stage index) and ``epoch`` as entropy."""
    seeds = list(seed) if isinstance(seed, (list, tuple)) else [seed]
    return [int(s) for s in seeds] + [int(epoch)]


def epoch_order(n, seed, epoch):
    """The order in which epoch ``epoch`` visits ``n`` examples: a permutation fixed by ``(seed, epoch)``."""
    return np.random.default_rng(_entropy(seed, epoch)).permutation(int(n)).astype("int32")


def epoch_seeds(seed, epoch, count):
    """``count`` generator seeds (int32 range) for epoch ``epoch`` of a run seeded ``seed``."""
    state = np.random.SeedSequence(_entropy(seed, epoch) + [0x5EED]).generate_state(max(int(count), 1))
    return [int(s % (2**31 - 1)) for s in state[: int(count)]]


def _check_arrays(x, y, sample_weight):
    n = len(x)
    if n == 0:
        raise InvalidArgumentError("The training data hold no examples.")
    for name, a in (("y", y), ("sample_weight", sample_weight)):
        if a is not None and len(a) != n:
            raise InvalidArgumentError(f"`{name}` holds {len(a)} entries for {n} examples.")
    return n


def _element(x, y, sample_weight):
    parts = [p for p in (x, y, sample_weight) if p is not None]
    return parts[0] if len(parts) == 1 else tuple(parts)


def epoch_pipeline(x, y=None, sample_weight=None, batch_size=128, seed=0, first_epoch=0, epochs=1, shuffle=True):
    """A ``tf.data`` pipeline of the batches of epochs ``first_epoch`` to ``epochs - 1`` (see the module doc).

    Args:
        x: examples (numpy), shape ``(N, ...)``.
        y: labels, masks or None; ``sample_weight``: per-example weights (or weight maps) or None.
        batch_size: examples per batch.
        seed, first_epoch, epochs: the run's seed and the epochs to serve.
        shuffle: visit the examples in the epoch's order (else in their stored order, every epoch).

    Returns:
        A dataset of ``x``, ``(x, y)`` or ``(x, y, sample_weight)`` batches: ``steps_per_epoch(N, batch_size)``
        batches per epoch.
    """
    import tensorflow as tf

    n = _check_arrays(x, y, sample_weight)
    batch_size = check_positive_int("batch_size", int(batch_size))
    first_epoch, epochs = int(first_epoch), int(epochs)
    if not 0 <= first_epoch < epochs:
        raise InvalidArgumentError(f"Epochs to serve must satisfy 0 <= first_epoch < epochs; received {first_epoch}, {epochs}.")
    orders = np.stack([epoch_order(n, seed, e) if shuffle else np.arange(n, dtype="int32")
                       for e in range(first_epoch, epochs)])
    arrays = [tf.constant(a) for a in (x, y, sample_weight) if a is not None]

    def epoch_batches(order):
        return tf.data.Dataset.from_tensor_slices(order).batch(batch_size)

    def gather(index):
        parts = [tf.gather(a, index) for a in arrays]
        return parts[0] if len(parts) == 1 else tuple(parts)

    ds = tf.data.Dataset.from_tensor_slices(orders).flat_map(epoch_batches)
    ds = ds.map(gather, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True).prefetch(tf.data.AUTOTUNE)
    return ds.with_options(pipeline_options())  # no idle wait at epoch boundaries (docs/performance.md)


def evaluation_pipeline(x, y=None, sample_weight=None, batch_size=128):
    """The examples in their stored order, batched (validation and test data)."""
    import tensorflow as tf

    _check_arrays(x, y, sample_weight)
    ds = tf.data.Dataset.from_tensor_slices(_element(x, y, sample_weight))
    ds = ds.batch(check_positive_int("batch_size", int(batch_size))).prefetch(tf.data.AUTOTUNE)
    return ds.with_options(pipeline_options())
