"""numpy and ``tf.data`` in, numpy out: the plumbing of every model's user methods (``encode``, ``sample``, ...)."""

import keras
import numpy as np


def is_tf_dataset(x):
    """True for a ``tf.data.Dataset`` (without importing TensorFlow when it is not loaded yet)."""
    import sys

    tf = sys.modules.get("tensorflow")
    if tf is None:
        try:
            import tensorflow as tf
        except ImportError:  # pragma: no cover - tensorflow is a dependency
            return False
    return isinstance(x, tf.data.Dataset)


def to_numpy(x):
    return keras.ops.convert_to_numpy(x)


def dataset_arrays(ds):
    """Collect a (batched) dataset into numpy: ``(images, labels_or_None)``."""
    xs, ys = [], []
    for element in ds.as_numpy_iterator():
        if isinstance(element, (tuple, list)):
            first = element[0]
            if isinstance(first, (tuple, list)):  # ((images, labels),)
                xs.append(first[0])
                ys.append(first[1])
            else:
                xs.append(first)
                if len(element) > 1:
                    ys.append(element[1])
        else:
            xs.append(element)
    x = np.concatenate(xs) if xs else np.zeros((0,))
    y = np.concatenate(ys) if ys else None
    return x, y


def batched(fn, arrays, batch_size=256):
    """Apply ``fn`` to slices of the numpy ``arrays`` and concatenate the numpy results."""
    n = len(arrays[0])
    if n == 0:
        raise ValueError("Received an empty input (0 examples).")
    outs = []
    for start in range(0, n, batch_size):
        chunk = [keras.ops.convert_to_tensor(a[start : start + batch_size]) for a in arrays]
        outs.append(to_numpy(fn(*chunk)))
    return np.concatenate(outs, axis=0)
