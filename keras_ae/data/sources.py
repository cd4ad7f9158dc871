"""Loaders for tfds names, IDX folders and scikit-learn's digits."""

__all__ = ["DatasetUnavailableError", "load", "load_idx", "load_numpy", "parse_split", "read_idx", "tfds_dataset"]

import gzip
import os
import re

import numpy as np

from keras_ae.errors import unknown_name_message

LOCAL_DATASETS = ("digits", "idx:FOLDER")
DIGITS_TRAIN = 1440


class DatasetUnavailableError(RuntimeError):
    """A dataset exists but its files are not on this machine and cannot be downloaded."""


# ----- split syntax ---------------------------------------------------------------------------
_SLICE = re.compile(r"^\s*(\w+)\s*(?:\[\s*(-?\d+%?)?\s*:\s*(-?\d+%?)?\s*\])?\s*$")


def parse_split(split):
    """Parse ``"name"``, ``"name[a:b]"`` (ints or percentages) and ``"a+b"`` into a list of
    ``(name, start, stop)`` with start/stop as given (``None``, int, or ``"N%"``)."""
    if not isinstance(split, str) or not split.strip():
        raise ValueError(f"`split` must be a string such as 'train' or 'test[:8000]'; received {split!r}.")
    parts = []
    for piece in split.split("+"):
        m = _SLICE.match(piece)
        if not m:
            raise ValueError(
                f"Cannot parse split {split!r}: expected 'name', 'name[start:stop]' or 'name[a%:b%]', joined by '+'."
            )
        parts.append((m.group(1), m.group(2), m.group(3)))
    return parts


def _bound(value, n):
    if value is None:
        return None
    if value.endswith("%"):
        return int(round(n * int(value[:-1]) / 100))
    return int(value)


def _apply_split(split, arrays_for):
    """``arrays_for(name)`` returns (x, y) for a base split name."""
    xs, ys = [], []
    for name, start, stop in parse_split(split):
        x, y = arrays_for(name)
        n = len(x)
        sl = slice(_bound(start, n), _bound(stop, n))
        xs.append(x[sl])
        ys.append(y[sl])
    x, y = np.concatenate(xs), np.concatenate(ys)
    if len(x) == 0:
        raise ValueError(f"Split {split!r} selects no examples.")
    return x, y


# ----- local sources --------------------------------------------------------------------------
def _digits(name):
    from sklearn.datasets import load_digits

    d = load_digits()
    x = (d.images.astype("float32") / 16.0)[..., None]
    y = d.target.astype("int32")
    if name == "train":
        return x[:DIGITS_TRAIN], y[:DIGITS_TRAIN]
    if name == "test":
        return x[DIGITS_TRAIN:], y[DIGITS_TRAIN:]
    if name == "all":
        return x, y
    raise ValueError(unknown_name_message("split of 'digits'", name, ["train", "test", "all"]))


_IDX_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path):
    """Read one IDX file (optionally gzipped) into a numpy array."""
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] not in _IDX_DTYPES:
        raise ValueError(f"{path} is not an IDX file (bad magic number).")
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)]
    dtype = np.dtype(_IDX_DTYPES[data[2]])
    expected = int(np.prod(dims)) * dtype.itemsize
    body = data[4 + 4 * ndim :]
    if len(body) != expected:
        raise ValueError(f"{path}: header says {dims} ({expected} bytes) but the file holds {len(body)} bytes.")
    return np.frombuffer(body, dtype=dtype).reshape(dims)


_IDX_PREFIX = {"train": "train", "test": "t10k"}


def _find_idx(folder, prefix, kind):
    for suffix in ("", ".gz"):
        for sep in ("-", "."):
            path = os.path.join(folder, f"{prefix}-{kind}{sep}idx{'3' if kind == 'images' else '1'}-ubyte{suffix}")
            if os.path.exists(path):
                return path
    return None


def _idx_arrays(folder):
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"IDX folder {folder!r} does not exist.")

    def arrays_for(name):
        if name not in _IDX_PREFIX:
            raise ValueError(unknown_name_message("IDX split", name, list(_IDX_PREFIX)))
        prefix = _IDX_PREFIX[name]
        images, labels = _find_idx(folder, prefix, "images"), _find_idx(folder, prefix, "labels")
        if images is None or labels is None:
            present = sorted(f for f in os.listdir(folder) if "ubyte" in f)
            raise FileNotFoundError(
                f"No {prefix}-images-idx3-ubyte[.gz] / {prefix}-labels-idx1-ubyte[.gz] in {folder!r} for split "
                f"{name!r}; it holds {present}. (A folder with only the MNIST test files can still be split, e.g. "
                f"split='test[:8000]' and 'test[8000:]'.)"
            )
        x = read_idx(images).astype("float32") / 255.0
        if x.ndim == 3:
            x = x[..., None]
        y = read_idx(labels).astype("int32")
        if len(x) != len(y):
            raise ValueError(f"{images} holds {len(x)} images but {labels} holds {len(y)} labels.")
        return x, y

    return arrays_for


# ----- tfds -----------------------------------------------------------------------------------
def _tfds_builder(name, data_dir):
    import tensorflow_datasets as tfds

    try:
        return tfds.builder(name, data_dir=data_dir)
    except Exception as e:  # tfds raises DatasetNotFoundError (a subclass of various bases by version)
        if type(e).__name__ == "DatasetNotFoundError":
            choices = list(LOCAL_DATASETS) + list(tfds.list_builders())
            raise ValueError(unknown_name_message("dataset", name, choices)) from None
        raise


def tfds_dataset(name, split, data_dir=None):
    """The raw tfds dataset (feature dicts) for ``name``/``split``; unknown names and failed downloads get
    clear errors (closest names; how to use ``data_dir`` or IDX files instead)."""
    import tensorflow_datasets as tfds

    _tfds_builder(name, data_dir)  # clear error for unknown names
    try:
        return tfds.load(name, split=split, data_dir=data_dir, shuffle_files=False)
    except Exception as e:
        text = str(e).lower()
        if isinstance(e, ValueError) and "split" in text:
            raise
        raise DatasetUnavailableError(
            f"tfds could not provide {name!r} (split {split!r}): {type(e).__name__}: {str(e).splitlines()[0][:300]}\n"
            f"If this machine has no internet, prepare the dataset elsewhere and point `data_dir` at the folder "
            f"holding it (keras_ae.data.load({name!r}, data_dir='~/tensorflow_datasets')), or, for MNIST-format "
            f"data, load IDX files with keras_ae.data.load('idx:/path/to/folder') / load_idx(folder)."
        ) from e


def _tfds_to_numpy(ds):
    xs, ys = [], []
    for ex in ds.batch(1024).as_numpy_iterator():
        xs.append(ex["image"])
        ys.append(ex["label"] if "label" in ex else np.full(len(ex["image"]), -1))
    return np.concatenate(xs), np.concatenate(ys)


def _normalize(images):
    x = np.asarray(images)
    if np.issubdtype(x.dtype, np.integer):
        x = x.astype("float32") / 255.0
    x = x.astype("float32")
    return x[..., None] if x.ndim == 3 else x


def load_numpy(name, split="train", data_dir=None):
    """``(images, labels)`` as numpy: float32 images in [0, 1] of shape (N, H, W, C), int32 labels."""
    if not isinstance(name, str) or not name:
        raise ValueError(f"Dataset name must be a non-empty string; received {name!r}.")
    if name == "digits":
        return _apply_split(split, _digits)
    if name.startswith("idx:"):
        return _apply_split(split, _idx_arrays(os.path.expanduser(name[4:])))
    x, y = _tfds_to_numpy(tfds_dataset(name, split, data_dir))
    return _normalize(x), y.astype("int32")


def load(
    name,
    split="train",
    batch_size=128,
    with_labels=False,
    data_dir=None,
    shuffle=None,
    seed=0,
    drop_remainder=False,
):
    """A batched ``tf.data.Dataset`` of float32 images in [0, 1] (and int labels when ``with_labels``).

    ``shuffle`` defaults to True for splits whose name starts with ``train``; ``seed`` fixes the order.
    Everything here fits in memory, so the data are read once and served from memory by
    :func:`keras_ae.data.pipeline` (tf.data autotuning off: no wait at epoch boundaries).
    """
    from keras_ae.data.pipelines import pipeline

    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"`batch_size` must be an integer >= 1; received {batch_size!r}.")
    x, y = load_numpy(name, split, data_dir)
    if shuffle is None:
        shuffle = split.strip().startswith("train")
    return pipeline(x, y if with_labels else None, batch_size=batch_size, shuffle=shuffle, seed=seed,
                    drop_remainder=drop_remainder)


def load_idx(folder, split="train", **kwargs):
    """:func:`load` for a folder of MNIST-format IDX files."""
    return load(f"idx:{folder}", split=split, **kwargs)
