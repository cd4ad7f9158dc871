"""Loaders for tfds names, IDX folders and scikit-learn's digits."""

__all__ = ["DatasetUnavailableError", "load", "load_idx", "load_numpy", "parse_split", "read_idx", "tfds_dataset"]

import gzip
import os
import re

import numpy as np

from keras_ae.errors import (DataFileNotFoundError, DatasetUnavailableError, InvalidArgumentError, InvalidDataError,
                             check_positive_int, unknown_name_message)

LOCAL_DATASETS = ("digits", "idx:FOLDER")
DIGITS_TRAIN = 1440


# ----- split syntax ---------------------------------------------------------------------------
# A bound is an integer or a percentage (decimals allowed for percentages, as in tfds).
_BOUND = r"-?\d+(?:\.\d+)?%|-?\d+"
_SLICE = re.compile(rf"^\s*(\w+)\s*(?:\[\s*({_BOUND})?\s*:\s*({_BOUND})?\s*\])?\s*$")


def parse_split(split):
    """Parse ``"name"``, ``"name[a:b]"`` (ints or percentages) and ``"a+b"`` into a list of
    ``(name, start, stop)`` with start/stop as given (``None``, ``"N"`` or ``"N%"``).

    As in tfds, percentages must lie in [-100%, 100%] and negative bounds count from the end. A slice mixing
    an integer and a percentage (``"train[10:50%]"``, which tfds reads as 10% to 50%) is refused as ambiguous.
    Integer bounds are checked against the split's size when the data are read (:func:`load_numpy`).
    """
    if not isinstance(split, str) or not split.strip():
        raise InvalidArgumentError(f"`split` must be a string such as 'train' or 'test[:8000]'; received {split!r}.")
    parts = []
    for piece in split.split("+"):
        m = _SLICE.match(piece)
        if not m:
            raise InvalidArgumentError(
                f"Cannot parse split {split!r}: expected 'name', 'name[start:stop]' or 'name[a%:b%]', joined by '+'."
            )
        name, start, stop = m.groups()
        bounds = [b for b in (start, stop) if b is not None]
        percent = [b.endswith("%") for b in bounds]
        if any(percent) and not all(percent):
            raise InvalidArgumentError(
                f"Split {split!r} mixes an integer and a percentage in {piece.strip()!r}; write both bounds as "
                f"integers (examples) or both as percentages (tfds would read both as percentages)."
            )
        for b in bounds:
            if b.endswith("%") and abs(float(b[:-1])) > 100:
                raise InvalidArgumentError(
                    f"Split {split!r}: percentage bound {b} is out of range; percentages must lie in "
                    f"[-100%, 100%] (as in tfds)."
                )
        parts.append((name, start, stop))
    return parts


def _bound(value, n, split, name):
    """The integer index of one bound of ``split`` for a base split ``name`` holding ``n`` examples."""
    if value is None:
        return None
    if value.endswith("%"):
        return int(round(n * float(value[:-1]) / 100))  # tfds' "closest" rounding
    index = int(value)
    if abs(index) > n:
        raise InvalidArgumentError(
            f"Split {split!r}: bound {index} is out of range for {name!r}, which holds {n} examples; integer bounds "
            f"must lie in [-{n}, {n}] (as in tfds)."
        )
    return index


def _apply_split(split, arrays_for):
    """``arrays_for(name)`` returns a tuple of per-example arrays (x, y, ...) for a base split name; the same
    slices of each are returned, concatenated over the parts of ``split``."""
    pieces = []
    for name, start, stop in parse_split(split):
        arrays = arrays_for(name)
        n = len(arrays[0])
        sl = slice(_bound(start, n, split, name), _bound(stop, n, split, name))
        pieces.append([a[sl] for a in arrays])
    out = tuple(np.concatenate(column) for column in zip(*pieces))
    if len(out[0]) == 0:
        raise InvalidArgumentError(f"Split {split!r} selects no examples.")
    return out


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
    raise InvalidArgumentError(unknown_name_message("split of 'digits'", name, ["train", "test", "all"]))


_IDX_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path):
    """Read one IDX file (optionally gzipped) into a numpy array."""
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] not in _IDX_DTYPES:
        raise InvalidDataError(f"{path} is not an IDX file (bad magic number).")
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)]
    dtype = np.dtype(_IDX_DTYPES[data[2]])
    expected = int(np.prod(dims)) * dtype.itemsize
    body = data[4 + 4 * ndim :]
    if len(body) != expected:
        raise InvalidDataError(f"{path}: header says {dims} ({expected} bytes) but the file holds {len(body)} bytes.")
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
        raise DataFileNotFoundError(f"IDX folder {folder!r} does not exist.")

    def arrays_for(name):
        if name not in _IDX_PREFIX:
            raise InvalidArgumentError(unknown_name_message("IDX split", name, list(_IDX_PREFIX)))
        prefix = _IDX_PREFIX[name]
        images, labels = _find_idx(folder, prefix, "images"), _find_idx(folder, prefix, "labels")
        if images is None or labels is None:
            present = sorted(f for f in os.listdir(folder) if "ubyte" in f)
            raise DataFileNotFoundError(
                f"No {prefix}-images-idx3-ubyte[.gz] / {prefix}-labels-idx1-ubyte[.gz] in {folder!r} for split "
                f"{name!r}; it holds {present}. (A folder with only the MNIST test files can still be split, e.g. "
                f"split='test[:8000]' and 'test[8000:]'.)"
            )
        x = read_idx(images).astype("float32") / 255.0
        if x.ndim == 3:
            x = x[..., None]
        y = read_idx(labels).astype("int32")
        if len(x) != len(y):
            raise InvalidDataError(f"{images} holds {len(x)} images but {labels} holds {len(y)} labels.")
        return x, y

    return arrays_for


# ----- arguments ------------------------------------------------------------------------------
def _is_local(name):
    from keras_ae.data.catalog import is_synthetic

    return name == "digits" or name.startswith("idx:") or is_synthetic(name)


def _check_name(name):
    if not isinstance(name, str) or not name.strip():
        raise InvalidArgumentError(
            f"`name` must be a dataset name such as 'mnist', 'digits' or 'idx:FOLDER'; received {name!r}."
        )
    if name.startswith("idx:") and not name[4:].strip():
        raise InvalidArgumentError(f"`name` {name!r} names no folder: write 'idx:FOLDER' (a folder of "
                                   "MNIST-format IDX files).")
    return name


def _check_folder(folder):
    if not isinstance(folder, (str, os.PathLike)) or not isinstance(os.fspath(folder), str) or not os.fspath(folder):
        raise InvalidArgumentError(f"`folder` must be a path to a folder of IDX files; received {folder!r}.")
    return os.fspath(folder)


def _check_data_dir(data_dir, name):
    """``data_dir`` as a string path (``~`` expanded), or None; it only applies to tfds names."""
    if data_dir is None:
        return None
    if not isinstance(data_dir, (str, os.PathLike)) or not isinstance(os.fspath(data_dir), str) \
            or not os.fspath(data_dir).strip():
        raise InvalidArgumentError("`data_dir` must be a folder path (str or os.PathLike) or None; received "
                                   f"{data_dir!r}.")
    if _is_local(name):
        raise InvalidArgumentError(
            f"`data_dir` is tfds' data folder and does not apply to {name!r}; received data_dir={data_dir!r}. "
            f"Leave it unset (for IDX files, put the folder in the name: 'idx:FOLDER')."
        )
    path = os.path.expanduser(os.fspath(data_dir))
    if os.path.exists(path) and not os.path.isdir(path):
        raise InvalidArgumentError(f"`data_dir` must be a folder; {data_dir!r} is a file.")
    return path


def _check_bool(arg, value, allow_none=False):
    if isinstance(value, (bool, np.bool_)) or (allow_none and value is None):
        return None if value is None else bool(value)
    expected = "True, False or None" if allow_none else "True or False"
    raise InvalidArgumentError(f"`{arg}` must be {expected}; received {value!r}.")


def _check_seed(seed):
    if isinstance(seed, np.integer):
        seed = int(seed)
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int) or seed < 0):
        raise InvalidArgumentError("`seed` must be an integer >= 0 (or None for a different order each run); "
                                   f"received {seed!r}.")
    return seed


# ----- tfds -----------------------------------------------------------------------------------
# Before tfds downloads a dataset it does not have, the hosts it would download from are probed with a short
# timeout: offline, tfds would otherwise retry each file for minutes before failing. The environment variable
# KERAS_AE_DOWNLOAD_PROBE_TIMEOUT sets the probe's limit in seconds (0 turns the probe off).
DOWNLOAD_PROBE_TIMEOUT = 4.0
# Probed when tfds recorded no download URLs for a dataset: tfds' own bucket.
_FALLBACK_DOWNLOAD_URL = "https://storage.googleapis.com/"
_DEFAULT_PORTS = {"http": 80, "https": 443, "ftp": 21, "socks4": 1080, "socks5": 1080, "socks5h": 1080}


def _probe_timeout():
    raw = os.environ.get("KERAS_AE_DOWNLOAD_PROBE_TIMEOUT")
    if raw is None:
        return DOWNLOAD_PROBE_TIMEOUT
    try:
        value = float(raw)
    except ValueError:
        value = float("nan")
    if not 0 <= value < float("inf"):
        raise InvalidArgumentError(
            f"KERAS_AE_DOWNLOAD_PROBE_TIMEOUT must be a number of seconds >= 0 (0 turns the check off); "
            f"received {raw!r}."
        )
    return value


def _download_hosts(builder):
    """The ``(host, port)`` pairs a download of ``builder``'s files connects to: the hosts of the URLs tfds
    recorded for the dataset (tfds' own bucket when it recorded none), or the proxy ``requests`` would use
    (``https_proxy``, ``http_proxy``, ``all_proxy``; ``no_proxy`` respected)."""
    import urllib.parse
    import urllib.request

    urls = sorted(builder.url_infos or ()) or [_FALLBACK_DOWNLOAD_URL]
    proxies = urllib.request.getproxies()
    hosts = []
    for url in urls:
        parts = urllib.parse.urlsplit(url)
        host, port = parts.hostname, parts.port or _DEFAULT_PORTS.get(parts.scheme)
        if not host or not port:
            continue
        proxy = proxies.get(parts.scheme) or proxies.get("all")
        if proxy and not urllib.request.proxy_bypass(host):
            via = urllib.parse.urlsplit(proxy if "://" in proxy else f"http://{proxy}")
            host, port = via.hostname, via.port or _DEFAULT_PORTS.get(via.scheme, 80)
        if host and (host, port) not in hosts:
            hosts.append((host, port))
    return hosts


def _unreachable(hosts, timeout):
    """``{(host, port): reason}`` for the hosts that do not accept a TCP connection within ``timeout`` seconds
    in all (tried in parallel; name resolution, which has no timeout of its own, included)."""
    import socket
    import threading
    import time

    failures = {}

    def connect(address):
        try:
            socket.create_connection(address, timeout=timeout).close()
        except OSError as e:
            failures[address] = f"{type(e).__name__}: {e}"

    threads = {address: threading.Thread(target=connect, args=(address,), daemon=True) for address in hosts}
    for thread in threads.values():
        thread.start()
    deadline = time.monotonic() + timeout
    for address, thread in threads.items():
        thread.join(max(0.0, deadline - time.monotonic()))
        if thread.is_alive():
            failures.setdefault(address, f"no connection within {timeout:g} s")
    return {address: failures[address] for address in hosts if address in failures}


def _unavailable_hint(name):
    return (
        f"If this machine has no internet, prepare the dataset elsewhere and point `data_dir` at the folder "
        f"holding it (keras_ae.data.load({name!r}, data_dir='~/tensorflow_datasets')), or, for MNIST-format "
        f"data, load IDX files with keras_ae.data.load('idx:/path/to/folder') / load_idx(folder)."
    )


def _check_download_reachable(builder, name, split):
    """Raise :class:`DatasetUnavailableError` within the probe timeout when tfds could not download
    ``builder``'s files from here (a dataset with manual files and no recorded URLs is not probed)."""
    timeout = _probe_timeout()
    if timeout == 0 or (builder.MANUAL_DOWNLOAD_INSTRUCTIONS and not builder.url_infos):
        return
    failures = _unreachable(_download_hosts(builder), timeout)
    if failures:
        reasons = "; ".join(f"{host}:{port} ({reason})" for (host, port), reason in failures.items())
        raise DatasetUnavailableError(
            f"tfds has no prepared copy of {name!r} (split {split!r}) in {builder.data_dir} and could not download "
            f"it from here: no connection to {reasons}. (Online but slow to connect? Set the environment variable "
            f"KERAS_AE_DOWNLOAD_PROBE_TIMEOUT to more than {timeout:g} seconds, or to 0 to skip this check.)\n"
            + _unavailable_hint(name)
        )


def _tfds_builder(name, data_dir):
    import tensorflow_datasets as tfds

    try:
        return tfds.builder(name, data_dir=data_dir)
    except Exception as e:  # tfds raises DatasetNotFoundError (a subclass of various bases by version)
        if type(e).__name__ == "DatasetNotFoundError":
            from keras_ae.data.catalog import list_datasets

            choices = list_datasets() + list(tfds.list_builders())
            raise InvalidArgumentError(unknown_name_message("dataset", name, choices)) from None
        raise


def tfds_dataset(name, split, data_dir=None):
    """The raw tfds dataset (feature dicts) for ``name``/``split``; unknown names and failed downloads get
    clear errors (closest names; how to use ``data_dir`` or IDX files instead).

    A dataset already prepared in ``data_dir`` is read without any network access. Otherwise the download hosts
    are probed first (``DOWNLOAD_PROBE_TIMEOUT`` seconds), so that an offline machine gets
    :class:`DatasetUnavailableError` within seconds instead of after minutes of tfds' download retries; a
    machine that reaches them gets tfds' own download.
    """
    import tensorflow_datasets as tfds

    _check_name(name)
    if not isinstance(split, str) or not split.strip():
        raise InvalidArgumentError(f"`split` must be a string such as 'train' or 'train[:50%]'; received {split!r}.")
    data_dir = _check_data_dir(data_dir, name)
    builder = _tfds_builder(name, data_dir)  # clear error for unknown names
    if not builder.is_prepared():
        try:
            # What tfds can serve without preparing anything (e.g. `tfds.testing.mock_data`'s examples) needs no
            # network; otherwise this fails at once with "could not find data".
            return tfds.load(name, split=split, data_dir=data_dir, shuffle_files=False, download=False)
        except Exception:
            pass
        _check_download_reachable(builder, name, split)
    try:
        return tfds.load(name, split=split, data_dir=data_dir, shuffle_files=False)
    except Exception as e:
        text = str(e).lower()
        if isinstance(e, ValueError) and "split" in text:
            raise
        raise DatasetUnavailableError(
            f"tfds could not provide {name!r} (split {split!r}): {type(e).__name__}: {str(e).splitlines()[0][:300]}\n"
            + _unavailable_hint(name)
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
    """``(images, labels)`` as numpy: float32 images in [0, 1] of shape (N, H, W, C), int32 labels.

    Args:
        name: a tfds image dataset (``"mnist"``, ...), ``"digits"``, ``"idx:FOLDER"`` or a synthetic set of
            :mod:`keras_ae.data.catalog` (``"two_moons"``, ``"ring_of_gaussians"``, ``"cells"``, ...; their ``y``
            are labels, ``-1`` where there are none, or masks).
        split: tfds split syntax (``"train"``, ``"test[:8000]"``, ``"train[:50%]"``, ``"a+b"``).
        data_dir: tfds' data folder (tfds names only; None for tfds' default).
    """
    _check_name(name)
    data_dir = _check_data_dir(data_dir, name)
    from keras_ae.data import catalog

    if catalog.is_synthetic(name) or name in catalog.TFDS_SEGMENTATION:
        arrays = catalog.load_arrays(name, split, data_dir)
        return arrays.x, arrays.y
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

    Everything here fits in memory, so the data are read once and served from memory by
    :func:`keras_ae.data.pipeline` (tf.data autotuning off: no wait at epoch boundaries).

    Args:
        name: any name of :func:`load_numpy` (tfds, ``"digits"``, ``"idx:FOLDER"``, the synthetic sets).
        split: tfds split syntax (``"train"``, ``"test[:8000]"``, ``"train[:50%]"``, ``"a+b"``).
        batch_size: examples per batch, an integer >= 1.
        with_labels: yield ``(images, labels)`` instead of images.
        data_dir: tfds' data folder (tfds names only; None for tfds' default).
        shuffle: True, False, or None for True on splits whose name starts with ``train``.
        seed: fixes the shuffled order (an integer >= 0; None for a different order each run).
        drop_remainder: drop the last batch when it is smaller than ``batch_size``.
    """
    from keras_ae.data.pipelines import pipeline

    if isinstance(batch_size, np.integer):
        batch_size = int(batch_size)
    check_positive_int("batch_size", batch_size)
    with_labels = _check_bool("with_labels", with_labels)
    shuffle = _check_bool("shuffle", shuffle, allow_none=True)
    seed = _check_seed(seed)
    drop_remainder = _check_bool("drop_remainder", drop_remainder)
    x, y = load_numpy(name, split, data_dir)
    if shuffle is None:
        shuffle = split.strip().startswith("train")
    return pipeline(x, y if with_labels else None, batch_size=batch_size, shuffle=shuffle, seed=seed,
                    drop_remainder=drop_remainder)


def load_idx(folder, split="train", **kwargs):
    """:func:`load` for a folder of MNIST-format IDX files (``folder``: a path; other arguments as for
    :func:`load`)."""
    return load(f"idx:{_check_folder(folder)}", split=split, **kwargs)
