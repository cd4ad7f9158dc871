"""Every dataset name a recipe, a tuning job or :func:`keras_ae.data.load` accepts, and what kind of data it holds.

Besides tfds names, ``digits`` and ``idx:FOLDER`` (:mod:`keras_ae.data.sources`), the synthetic sets of this
package have names, fixed train and test splits (drawn with fixed seeds, so a name always means the same
examples) and take the same split syntax (``"train[:1000]"``, ``"test[50%:]"``):

==================== =============== ============================================================================
name                 kind            train / test
==================== =============== ============================================================================
``two_moons``        points          first 2,400 / last 600 of ``two_moons(3000, noise=0.05, seed=0)``,
                                     standardized with the train statistics; labels: the moon
``concentric_circles`` points        the same for ``concentric_circles(3000, noise=0.05, factor=0.5, seed=0)``
``ring_of_gaussians`` points         ``ring_of_gaussians(50000, seed=0)`` / ``(10000, seed=1)``: 8 modes, radius
                                     2, std 0.02 (not standardized); labels: the mode; ``info.meta`` holds the
                                     centers and std for :func:`keras_ae.evaluation.ring_mode_coverage`
``spiral``           points          4,000 (seed 0) / 500 (seed 1) points on the spiral arc of
                                     :func:`keras_ae.data.noisy_manifold` (clean; a denoising measure adds noise)
``cells``            segmentation    ``make_cells(256, size=64, seed=0)`` / ``(64, seed=1000)``: images (64, 64, 1),
                                     masks 0 background / 1 interior / 2 border, ``instances`` as an extra array
``image_patches``    images          10,000 (seed 0) / 2,000 (seed 1) ZCA-whitened 10x10 grey patches of
                                     scikit-learn's sample photographs, in [0.1, 0.9]; no labels
``oxford_iiit_pet``  segmentation    tfds' Oxford-IIIT Pet: images resized to (128, 128, 3), trimap masks 0 pet /
                                     1 background / 2 outline (needs the tfds files)
==================== =============== ============================================================================

:func:`load_arrays` returns ``Arrays(x, y, extras, info)``: ``y`` holds labels (images, points; ``-1`` where a set
has none) or masks (segmentation). A new synthetic set is one function decorated with :func:`synthetic_dataset`.
"""

__all__ = ["Arrays", "DatasetInfo", "dataset_info", "list_datasets", "load_arrays", "synthetic_dataset"]

import collections
import dataclasses

import numpy as np

from keras_ae.errors import InvalidArgumentError, unknown_name_message

KINDS = ("images", "points", "segmentation")


@dataclasses.dataclass(frozen=True)
class DatasetInfo:
    """What a dataset holds.

    Args:
        name: the dataset's name.
        kind: ``"images"`` (``(N, H, W, C)`` in [0, 1]), ``"points"`` (``(N, d)``) or ``"segmentation"`` (images and
            integer masks ``(N, H, W)``).
        num_classes: the number of label (or mask) classes, ``None`` when the set has no labels.
        description: one line for listings and ``metrics.json``.
        meta: facts measures need (the ring's ``centers`` and ``std``).
    """

    name: str
    kind: str
    num_classes: object = None
    description: str = ""
    meta: dict = dataclasses.field(default_factory=dict)

    @property
    def has_labels(self):
        return self.num_classes is not None


Arrays = collections.namedtuple("Arrays", ["x", "y", "extras", "info"])
Arrays.__doc__ = """``x`` examples, ``y`` labels or masks (``-1`` labels where the set has none), ``extras`` a dict of
further per-example arrays (the cells' ``instances``), ``info`` the :class:`DatasetInfo`."""

_SYNTHETIC = {}


def synthetic_dataset(name, kind, num_classes=None, description="", meta=None):
    """Register ``fn(split_name) -> (x, y[, extras])`` as the named synthetic dataset (split names: ``train``,
    ``test``; the split syntax is applied on top)."""
    if kind not in KINDS:
        raise InvalidArgumentError(f"`kind` must be one of {KINDS}; received {kind!r}.")

    def decorator(fn):
        _SYNTHETIC[name] = (DatasetInfo(name, kind, num_classes, description, dict(meta or {})), fn)
        return fn

    return decorator


def _train_test(name, split_name, train, test):
    if split_name == "train":
        return train()
    if split_name == "test":
        return test()
    raise InvalidArgumentError(unknown_name_message(f"split of {name!r}", split_name, ["train", "test"]))


def _standardized_points(name, split_name, make, n_train):
    from keras_ae.data.synthetic import standardize

    x, y = make()
    train, test, _ = standardize(x[:n_train], x[n_train:])
    return _train_test(name, split_name, lambda: (train, y[:n_train]), lambda: (test, y[n_train:]))


@synthetic_dataset("two_moons", "points", 2, "scikit-learn's two moons (noise 0.05), standardized on train")
def _two_moons(split_name):
    from keras_ae.data.synthetic import two_moons

    return _standardized_points("two_moons", split_name, lambda: two_moons(3000, noise=0.05, seed=0), 2400)


@synthetic_dataset("concentric_circles", "points", 2, "two concentric circles (noise 0.05), standardized on train")
def _circles(split_name):
    from keras_ae.data.synthetic import concentric_circles

    return _standardized_points("concentric_circles", split_name,
                                lambda: concentric_circles(3000, noise=0.05, factor=0.5, seed=0), 2400)


RING = {"modes": 8, "radius": 2.0, "std": 0.02}


def _ring_centers():
    angles = 2 * np.pi * np.arange(RING["modes"]) / RING["modes"]
    return (RING["radius"] * np.stack([np.cos(angles), np.sin(angles)], axis=1)).astype("float32")


@synthetic_dataset("ring_of_gaussians", "points", RING["modes"],
                   "8 Gaussians of std 0.02 on a circle of radius 2 (the mode-collapse test)",
                   meta={"centers": _ring_centers().tolist(), "std": RING["std"]})
def _ring(split_name):
    from keras_ae.data.synthetic import ring_of_gaussians

    def make(n, seed):
        x, y, _ = ring_of_gaussians(n, RING["modes"], RING["radius"], RING["std"], seed=seed)
        return x, y

    return _train_test("ring_of_gaussians", split_name, lambda: make(50000, 0), lambda: make(10000, 1))


@synthetic_dataset("spiral", "points", None, "clean points on a spiral arc in the plane (keras_ae.data.noisy_manifold)")
def _spiral(split_name):
    from keras_ae.data.patches import noisy_manifold

    def make(n, seed):
        _, clean = noisy_manifold(n, noise=0.0, seed=seed)
        return clean, np.full(n, -1, "int32")

    return _train_test("spiral", split_name, lambda: make(4000, 0), lambda: make(500, 1))


CELLS = {"size": 64, "border_width": 2, "contact_darkening": 0.5, "noise": 0.06}


@synthetic_dataset("cells", "segmentation", 3, "synthetic touching cells, 64x64, masks background/interior/border")
def _cells(split_name):
    from keras_ae.data.cells import make_cells

    def make(n, seed):
        c = make_cells(n, seed=seed, **CELLS)
        return c.images, c.masks, {"instances": c.instances}

    return _train_test("cells", split_name, lambda: make(256, 0), lambda: make(64, 1000))


@synthetic_dataset("image_patches", "images", None, "ZCA-whitened 10x10 grey patches of natural images, in [0.1, 0.9]")
def _patches(split_name):
    from keras_ae.data.patches import image_patches

    def make(n, seed):
        return image_patches(n, size=10, seed=seed), np.full(n, -1, "int32")

    return _train_test("image_patches", split_name, lambda: make(10000, 0), lambda: make(2000, 1))


# ----- lookup ---------------------------------------------------------------------------------------
TFDS_SEGMENTATION = {"oxford_iiit_pet": 3}


def list_datasets():
    """The names of the synthetic sets and the local sources (any tfds name is accepted besides)."""
    return sorted(_SYNTHETIC) + ["digits", "idx:FOLDER", "oxford_iiit_pet"]


def is_synthetic(name):
    return isinstance(name, str) and name in _SYNTHETIC


def dataset_info(name):
    """The :class:`DatasetInfo` of ``name`` (tfds names other than the segmentation sets are images)."""
    from keras_ae.data.sources import _check_name

    _check_name(name)
    if name in _SYNTHETIC:
        return _SYNTHETIC[name][0]
    if name in TFDS_SEGMENTATION:
        return DatasetInfo(name, "segmentation", TFDS_SEGMENTATION[name], "tfds segmentation set, resized to 128x128")
    if name == "digits":
        return DatasetInfo(name, "images", 10, "scikit-learn's 8x8 digits")
    if name.startswith("idx:"):
        return DatasetInfo(name, "images", 10, "MNIST-format IDX files (labels from the labels file)")
    return DatasetInfo(name, "images", _tfds_num_classes(name), "tfds images")


def _tfds_num_classes(name):
    """The number of label classes tfds records for ``name`` (from its code; no download), or None."""
    try:
        import tensorflow_datasets as tfds

        return int(tfds.builder(name).info.features["label"].num_classes)
    except Exception:  # unknown name, no label feature, or a tfds without this API: decided when loading
        return None


def _synthetic_arrays(name, split):
    from keras_ae.data.sources import _apply_split

    info, fn = _SYNTHETIC[name]
    cache = {}

    def arrays_for(split_name):
        if split_name not in cache:
            out = fn(split_name)
            x, y = out[0], out[1]
            extras = out[2] if len(out) > 2 else {}
            cache[split_name] = (x, y) + tuple(extras[k] for k in sorted(extras))
            cache.setdefault("_keys", sorted(extras))
        return cache[split_name]

    parts = _apply_split(split, arrays_for)
    keys = cache.get("_keys", [])
    return Arrays(parts[0], parts[1], dict(zip(keys, parts[2:])), info)


def _pets_arrays(name, split, data_dir):
    from keras_ae.data.pets import pets_example
    from keras_ae.data.sources import tfds_dataset

    ds = tfds_dataset(name, split, data_dir).map(lambda ex: pets_example(ex, 128))
    xs, ms = [], []
    for images, masks in ds.batch(256).as_numpy_iterator():
        xs.append(images)
        ms.append(masks)
    if not xs:
        raise InvalidArgumentError(f"Split {split!r} of {name!r} selects no examples.")
    return Arrays(np.concatenate(xs).astype("float32"), np.concatenate(ms).astype("int32"), {},
                  dataset_info(name))


def load_arrays(name, split="train", data_dir=None):
    """The examples of ``split`` of dataset ``name`` in memory: ``Arrays(x, y, extras, info)``.

    Args:
        name: a synthetic set (see the module doc), ``"digits"``, ``"idx:FOLDER"``, ``"oxford_iiit_pet"`` or any
            tfds image dataset.
        split: tfds split syntax (``"train"``, ``"test[:8000]"``, ``"train[:50%]"``, ``"a+b"``).
        data_dir: tfds' data folder (tfds names only; None for tfds' default).
    """
    from keras_ae.data.sources import _check_data_dir, _check_name, load_numpy

    _check_name(name)
    if name in _SYNTHETIC:
        _check_data_dir(data_dir, name)  # refused: data_dir is tfds' folder
        return _synthetic_arrays(name, split)
    if name in TFDS_SEGMENTATION:
        return _pets_arrays(name, split, _check_data_dir(data_dir, name))
    x, y = load_numpy(name, split, data_dir)
    info = dataset_info(name)
    if info.num_classes is None and len(y) and y.min() >= 0:
        info = dataclasses.replace(info, num_classes=int(y.max()) + 1)
    return Arrays(x, y, {}, info)
