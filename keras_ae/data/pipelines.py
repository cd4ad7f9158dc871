"""In-memory arrays as batched ``tf.data`` pipelines that do not stall at epoch boundaries.

Every pipeline keras_ae builds (:func:`keras_ae.data.load`, the recipe runner, the tuner) goes through
:func:`pipeline` or carries :func:`pipeline_options`: tf.data's autotuning is turned off. With it on, Keras'
``fit`` on this machine waited 2.5 s (sometimes 5 s) doing nothing at about half of the epoch boundaries while
the epoch's iterator was torn down; an in-memory pipeline (slice, shuffle, batch, prefetch) has nothing for
autotuning to tune. The measurements and what to set in your own pipelines are in ``docs/performance.md``.
"""

__all__ = ["pipeline", "pipeline_options"]

import numpy as np

from keras_ae.errors import InvalidArgumentError, check_positive_int


def pipeline_options():
    """The ``tf.data.Options`` keras_ae sets on its pipelines: ``autotune.enabled = False``.

    Apply them to a pipeline of your own with ``ds.with_options(keras_ae.data.pipeline_options())``; they
    carry through later ``map``/``batch``/``prefetch`` steps (``AUTOTUNE`` arguments then take fixed
    defaults: parallel calls = CPU cores, prefetch buffers grown by the legacy prefetch tuner).
    """
    import tensorflow as tf

    options = tf.data.Options()
    options.autotune.enabled = False
    return options


def pipeline(x, y=None, batch_size=128, shuffle=False, seed=0, drop_remainder=False):
    """A batched ``tf.data.Dataset`` of the in-memory arrays ``x`` (and labels ``y``) with
    :func:`pipeline_options` set.

    Args:
        x: numpy array of examples, shape ``(N, ...)``.
        y: optional array of ``N`` labels; the elements are then ``(x, y)`` pairs.
        batch_size: examples per batch (integer >= 1).
        shuffle: reshuffle the whole set at every epoch (buffer = ``N``).
        seed: shuffle seed (``None``: derived from the global seed, ``keras.utils.set_random_seed``).
        drop_remainder: drop a last batch smaller than ``batch_size``.

    Returns:
        A ``tf.data.Dataset`` (slice, [shuffle], batch, prefetch), served from memory.
    """
    import tensorflow as tf

    batch_size = check_positive_int("batch_size", batch_size)
    if not hasattr(x, "shape") or len(x.shape) < 1:
        raise TypeError(f"`x` must be an array of shape (N, ...); received {type(x).__name__}.")
    n = int(x.shape[0])
    if n == 0:
        raise InvalidArgumentError("`x` holds no examples (shape (0, ...)); a pipeline needs at least one.")
    if y is not None:
        y = np.asarray(y)
        if y.ndim < 1 or len(y) != n:
            raise InvalidArgumentError(f"`y` must hold one label per example of `x` ({n}); received shape {y.shape}.")
    ds = tf.data.Dataset.from_tensor_slices(x if y is None else (x, y))
    if shuffle:
        ds = ds.shuffle(n, seed=seed, reshuffle_each_iteration=True)
    ds = ds.batch(batch_size, drop_remainder=drop_remainder).prefetch(tf.data.AUTOTUNE)
    return ds.with_options(pipeline_options())
