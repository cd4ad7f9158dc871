"""Synthetic touching cells for segmentation, and the U-Net paper's border weight map.

:func:`make_cells` draws random overlapping ellipses ("cells") on a dark background: each image comes with
its *instance* mask (0 = background, 1..n = one id per cell; where ellipses overlap, a pixel goes to the
cell whose ellipse it lies deeper inside, so touching cells share a straight-ish contact line) and a
*semantic* mask with three classes: 0 background, 1 cell interior, 2 cell border (the ``border_width``
outermost pixels of every cell, including the contact line between touching cells). Cells are recovered
as the connected components of the interior class (see ``keras_ae.evaluation.segmentation``).

:func:`unet_weight_map` is the weight map of Ronneberger et al. (2015), eq. 2:
``w(x) = w_c(x) + w0 * exp(-(d1(x) + d2(x))**2 / (2 sigma**2))``, where ``w_c`` balances the class
frequencies and ``d1``, ``d2`` are the distances to the nearest and second-nearest cell, so the narrow
gaps and contact lines between touching cells get large weights.
"""

__all__ = ["CellsData", "make_cells", "unet_weight_map", "class_balance_weights", "semantic_from_instances"]

import collections

import numpy as np

from keras_ae.errors import InvalidArgumentError, InvalidDataError, check_non_negative, check_positive_int

CellsData = collections.namedtuple("CellsData", ["images", "masks", "instances"])
CellsData.__doc__ = """``images`` float32 (N, H, W, 1) in [0, 1]; ``masks`` int32 (N, H, W) in {0 background, 1 interior,
2 border}; ``instances`` int32 (N, H, W), 0 background and 1..n per cell."""

BACKGROUND, INTERIOR, BORDER = 0, 1, 2
NUM_CLASSES = 3


def _ndimage():
    from scipy import ndimage  # scipy ships with scikit-learn

    return ndimage


def semantic_from_instances(instances, border_width=1):
    """Three-class masks from instance masks: the ``border_width`` outermost pixels of each cell are class 2
    (next to the background or to another cell), the rest of each cell class 1, the background 0."""
    ndimage = _ndimage()
    instances = np.asarray(instances)
    single = instances.ndim == 2
    inst = instances[None] if single else instances
    border_width = check_positive_int("border_width", border_width)
    out = np.zeros(inst.shape, dtype="int32")
    for k, lab in enumerate(inst):
        # a pixel is "edge" when a 4-neighbour carries another label (image borders count as the same label)
        padded = np.pad(lab, 1, mode="edge")
        edge = np.zeros(lab.shape, dtype=bool)
        for dy, dx in ((-1, 0), (1, 0), (0, -1), (0, 1)):
            edge |= padded[1 + dy : 1 + dy + lab.shape[0], 1 + dx : 1 + dx + lab.shape[1]] != lab
        edge &= lab > 0
        if border_width > 1:
            # grow the edge inward by (border_width - 1) pixels, staying inside each cell
            dist = ndimage.distance_transform_cdt(~edge, metric="taxicab")
            edge = (dist < border_width) & (lab > 0)
        out[k][lab > 0] = INTERIOR
        out[k][edge] = BORDER
    return out[0] if single else out


def class_balance_weights(masks, num_classes=None):
    """``w_c(x)``: per-image inverse class frequency, scaled so that the mean weight over the pixels is 1."""
    masks = np.asarray(masks)
    single = masks.ndim == 2
    m = masks[None] if single else masks
    k = int(m.max()) + 1 if num_classes is None else check_positive_int("num_classes", num_classes)
    out = np.zeros(m.shape, dtype="float32")
    for i, mk in enumerate(m):
        counts = np.bincount(mk.ravel(), minlength=k).astype("float64")
        present = counts > 0
        wc = np.zeros(k)
        wc[present] = mk.size / (present.sum() * counts[present])
        out[i] = wc[mk]
    return out[0] if single else out


def unet_weight_map(instances, masks=None, w0=10.0, sigma=5.0, class_balance=True, num_classes=None):
    """The U-Net paper's weight map ``w = w_c + w0 * exp(-(d1 + d2)^2 / (2 sigma^2))`` (float32, like ``instances``).

    Args:
        instances: integer instance masks ``(N, H, W)`` or ``(H, W)``: 0 background, one positive id per cell.
        masks: the semantic masks used for the class-balancing term ``w_c`` (default: background vs cell).
        w0, sigma: the paper's border weight and width in pixels (paper: 10 and about 5).
        class_balance: include ``w_c`` (inverse class frequency, mean 1); otherwise ``w_c = 1``.

    ``d1(x)`` and ``d2(x)`` are the Euclidean distances from ``x`` to the nearest and second-nearest cell
    (0 inside a cell for that cell). Pixels with fewer than two cells in the image get no border term.
    """
    ndimage = _ndimage()
    instances = np.asarray(instances)
    if instances.ndim not in (2, 3) or not np.issubdtype(instances.dtype, np.integer):
        raise InvalidDataError(
            f"`instances` must be integer instance masks of shape (N, H, W) or (H, W); received dtype "
            f"{instances.dtype}, shape {instances.shape}."
        )
    w0 = check_non_negative("w0", w0)
    sigma = float(sigma)
    if not sigma > 0:
        raise InvalidArgumentError(f"`sigma` must be > 0; received {sigma!r}.")
    single = instances.ndim == 2
    inst = instances[None] if single else instances
    if masks is None:
        sem = (inst > 0).astype("int32")
    else:
        sem = np.asarray(masks)
        sem = sem[None] if sem.ndim == 2 else sem
        if sem.shape != inst.shape:
            raise InvalidDataError(f"`masks` {sem.shape} and `instances` {inst.shape} must have the same shape.")
    wc = class_balance_weights(sem, num_classes) if class_balance else np.ones(inst.shape, "float32")
    out = np.empty(inst.shape, dtype="float32")
    for i, lab in enumerate(inst):
        ids = np.unique(lab[lab > 0])
        border = np.zeros(lab.shape, dtype="float64")
        if len(ids) >= 2:
            dists = np.stack([ndimage.distance_transform_edt(lab != j) for j in ids])
            dists.sort(axis=0)
            d1, d2 = dists[0], dists[1]
            border = w0 * np.exp(-((d1 + d2) ** 2) / (2.0 * sigma**2))
        out[i] = wc[i] + border
    return out[0] if single else out


def _smooth(img, sigma):
    return _ndimage().gaussian_filter(img, sigma) if sigma > 0 else img


def make_cells(
    n,
    size=64,
    cells=(6, 12),
    radius=(5.0, 11.0),
    border_width=2,
    contact_darkening=0.5,
    noise=0.06,
    blur=0.7,
    seed=0,
):
    """``n`` synthetic images of touching, overlapping cells: a :class:`CellsData` (images, masks, instances).

    Args:
        n: number of images; ``size``: height and width.
        cells: (min, max) number of cells per image; ``radius``: (min, max) ellipse semi-axis in pixels.
            Cell centres are drawn near existing cells half of the time, so many cells touch or overlap.
        border_width: width in pixels of the border class (2) in the semantic masks.
        contact_darkening: how much darker a cell's outline is than its body (the faint membrane that is
            the only visual cue between two touching cells of similar brightness).
        noise, blur: Gaussian pixel noise standard deviation, and the blur (in pixels) of the rendered image.
        seed: the random seed (the same seed gives the same set).
    """
    n = check_positive_int("n", n)
    size = check_positive_int("size", size, minimum=8)
    lo, hi = (int(c) for c in cells)
    if not 1 <= lo <= hi:
        raise InvalidArgumentError(f"`cells` must be (min, max) with 1 <= min <= max; received {cells!r}.")
    rmin, rmax = (float(r) for r in radius)
    if not 1.0 <= rmin <= rmax:
        raise InvalidArgumentError(f"`radius` must be (min, max) with 1 <= min <= max; received {radius!r}.")
    ndimage = _ndimage()
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size].astype("float64")
    images = np.empty((n, size, size, 1), dtype="float32")
    instances = np.zeros((n, size, size), dtype="int32")
    for i in range(n):
        k = int(rng.integers(lo, hi + 1))
        depth = np.full((size, size), np.inf)  # normalized ellipse radius of the owning cell (<1 inside)
        lab = np.zeros((size, size), dtype="int32")
        centres = []
        brightness = [0.0]
        for j in range(1, k + 1):
            if centres and rng.uniform() < 0.5:
                cy, cx = centres[int(rng.integers(len(centres)))]
                angle = rng.uniform(0, 2 * np.pi)
                dist = rng.uniform(1.2, 1.9) * rmax
                cy, cx = cy + dist * np.sin(angle), cx + dist * np.cos(angle)
                cy, cx = float(np.clip(cy, 0, size - 1)), float(np.clip(cx, 0, size - 1))
            else:
                cy, cx = rng.uniform(0, size - 1, size=2)
            centres.append((cy, cx))
            a, b = rng.uniform(rmin, rmax, size=2)
            theta = rng.uniform(0, np.pi)
            dy, dx = yy - cy, xx - cx
            u = dx * np.cos(theta) + dy * np.sin(theta)
            v = -dx * np.sin(theta) + dy * np.cos(theta)
            r = np.sqrt((u / a) ** 2 + (v / b) ** 2)
            take = (r < 1.0) & (r < depth)
            lab[take] = j
            depth[take] = r[take]
            brightness.append(rng.uniform(0.55, 0.95))
        # relabel 1..m, dropping cells fully covered by others or too small to keep
        ids = [j for j in np.unique(lab) if j > 0 and (lab == j).sum() >= 6]
        new = np.zeros_like(lab)
        bright = np.zeros(len(ids) + 1)
        for m, j in enumerate(ids, start=1):
            new[lab == j] = m
            bright[m] = brightness[j]
        lab = new
        # render: cell bodies at their brightness, a darker outline near every label change, a textured body
        padded = np.pad(lab, 1, mode="edge")
        edge = np.zeros(lab.shape, dtype=bool)
        for dy, dx in ((-1, 0), (1, 0), (0, -1), (0, 1)):
            edge |= padded[1 + dy : 1 + dy + size, 1 + dx : 1 + dx + size] != lab
        edge &= lab > 0
        dist_edge = ndimage.distance_transform_edt(~edge)
        outline = np.exp(-(dist_edge**2) / 2.0) * (lab > 0)
        body = bright[lab] * (1.0 - contact_darkening * outline)
        texture = _smooth(rng.normal(0.0, 1.0, (size, size)), 1.5) * 0.15 * (lab > 0)
        img = 0.12 + body + texture
        img = _smooth(img, blur) + rng.normal(0.0, noise, (size, size))
        images[i, ..., 0] = np.clip(img, 0.0, 1.0)
        instances[i] = lab
    masks = semantic_from_instances(instances, border_width)
    return CellsData(images, masks, instances)
