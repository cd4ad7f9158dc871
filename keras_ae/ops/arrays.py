"""numpy and ``tf.data`` in, numpy out: the plumbing of every model's user methods (``encode``, ``sample``, ...)."""

import keras
import numpy as np

from keras_ae.errors import InsufficientMemoryError, InvalidDataError, check_positive_int


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


def check_codes(z, code_shape, argument="z"):
    """Latent codes ``z`` of shape ``(n,) + code_shape`` as float32 numpy: finite, non-empty, of the right shape
    (:class:`~keras_ae.errors.InvalidDataError` naming ``argument`` otherwise)."""
    try:
        z = np.asarray(to_numpy(z) if not isinstance(z, (np.ndarray, list, tuple)) else z, dtype="float32")
    except (TypeError, ValueError):
        raise InvalidDataError(f"`{argument}` must be an array of latent codes of shape (n, "
                               f"{', '.join(map(str, code_shape))}); received {type(z).__name__}.") from None
    if z.ndim != len(code_shape) + 1 or tuple(z.shape[1:]) != tuple(code_shape):
        raise InvalidDataError(f"Codes must have shape (n, {', '.join(map(str, code_shape))}); `{argument}` has "
                               f"shape {z.shape}.")
    if len(z) == 0:
        raise InvalidDataError(f"Codes `{argument}` hold 0 codes; pass at least one.")
    finite = np.isfinite(z)
    if not finite.all():
        bad = int(np.argwhere(~finite.reshape(len(z), -1).all(axis=1))[0, 0])
        raise InvalidDataError(f"Codes `{argument}` contain NaN or inf values (first at row {bad}); decoding them "
                               f"would give NaN images.")
    return z


def batched(fn, arrays, batch_size=256):
    """Apply ``fn`` to slices of the numpy ``arrays`` and concatenate the numpy results."""
    batch_size = check_positive_int("batch_size", batch_size)
    n = len(arrays[0])
    if n == 0:
        raise InvalidDataError("Received an empty input (0 examples).")
    outs = []
    for start in range(0, n, batch_size):
        chunk = [keras.ops.convert_to_tensor(a[start : start + batch_size]) for a in arrays]
        outs.append(to_numpy(fn(*chunk)))
    return np.concatenate(outs, axis=0)


def available_memory():
    """Bytes of memory available to this process (Linux ``MemAvailable``, or free physical pages), ``None`` when
    the platform does not say."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        import os

        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, OSError, ValueError):
        return None


def _gib(nbytes):
    return f"{nbytes / 2**30:,.1f} GiB" if nbytes >= 2**30 else f"{nbytes / 2**20:,.1f} MiB"


def check_output_memory(n, example_shape, owner, copies=2, itemsize=4, argument="n"):
    """Refuse at once a request for ``n`` examples of ``example_shape`` (float32 by default) that cannot fit in the
    memory available: the result and ``copies - 1`` working copies (the codes drawn, the batches being converted).
    Raises :class:`~keras_ae.errors.InsufficientMemoryError` with the estimate; ``n`` is returned unchanged."""
    per_example = int(np.prod(example_shape, dtype=np.int64)) * itemsize
    needed = int(n) * per_example * copies
    available = available_memory()
    if available is not None and needed > available:
        fits = max(available // max(per_example * copies, 1), 0)
        raise InsufficientMemoryError(
            f"{owner}: `{argument}`={n:,} examples of shape {tuple(example_shape)} would need about {_gib(needed)} "
            f"of memory ({_gib(int(n) * per_example)} for the result alone), but {_gib(available)} is available. Ask "
            f"for at most about {fits:,} at a time and concatenate or save each part."
        )
    return n
