"""Segmentation scores on numpy masks: confusion matrix, per-class and mean IoU and Dice, and instance recovery.

Instance recovery (touching cells): the predicted *interior* class is split into connected components
(:func:`recover_instances`), each grown back over the predicted cell pixels (interior or border) it is
nearest to; a true cell counts as recovered when one component overlaps it with IoU > 0.5
(:func:`count_recovered_instances`). Since two components cannot both have IoU > 0.5 with the same cell,
this counts cells that came out as *separate* components: merged neighbours fail the test.
"""

__all__ = [
    "confusion_matrix",
    "per_class_iou",
    "mean_iou",
    "per_class_dice",
    "mean_dice",
    "recover_instances",
    "match_instances",
    "count_recovered_instances",
    "segmentation_report",
]

import numpy as np

from keras_ae.errors import InvalidDataError, check_positive_int


def _pair(true, pred):
    true, pred = np.asarray(true), np.asarray(pred)
    if true.shape != pred.shape:
        raise InvalidDataError(f"True and predicted masks must have the same shape; received {true.shape} and "
                               f"{pred.shape}.")
    return true, pred


def confusion_matrix(true, pred, num_classes):
    """``(K, K)`` int64 counts: rows are true classes, columns predicted classes."""
    true, pred = _pair(true, pred)
    k = check_positive_int("num_classes", num_classes)
    t, p = true.ravel().astype("int64"), pred.ravel().astype("int64")
    if t.size and (t.min() < 0 or t.max() >= k or p.min() < 0 or p.max() >= k):
        raise InvalidDataError(f"Mask labels must lie in [0, {k - 1}] (num_classes={k}).")
    return np.bincount(t * k + p, minlength=k * k).reshape(k, k)


def per_class_iou(true, pred, num_classes):
    """IoU of each class; NaN for a class absent from both truth and prediction."""
    m = confusion_matrix(true, pred, num_classes).astype("float64")
    tp = np.diag(m)
    union = m.sum(0) + m.sum(1) - tp
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(union > 0, tp / union, np.nan)


def mean_iou(true, pred, num_classes):
    """Mean over classes (present in truth or prediction) of the IoU, over all pixels of all images."""
    return float(np.nanmean(per_class_iou(true, pred, num_classes)))


def per_class_dice(true, pred, num_classes):
    m = confusion_matrix(true, pred, num_classes).astype("float64")
    tp = np.diag(m)
    total = m.sum(0) + m.sum(1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, 2 * tp / total, np.nan)


def mean_dice(true, pred, num_classes):
    return float(np.nanmean(per_class_dice(true, pred, num_classes)))


def recover_instances(masks, interior_class=1, cell_classes=(1, 2), min_size=4, grow=None):
    """Instance label maps from semantic masks: connected components (4-connectivity) of ``interior_class``.

    Components smaller than ``min_size`` pixels are dropped; each remaining component is then grown over the
    pixels of ``cell_classes`` that are nearest to it (within ``grow`` pixels, default unlimited), which gives
    back the border pixels the interior class leaves out. Works on ``(H, W)`` or ``(N, H, W)``.
    """
    from scipy import ndimage

    masks = np.asarray(masks)
    single = masks.ndim == 2
    ms = masks[None] if single else masks
    out = np.zeros(ms.shape, dtype="int32")
    for i, m in enumerate(ms):
        lab, n = ndimage.label(m == interior_class)
        if n and min_size > 1:
            sizes = np.bincount(lab.ravel(), minlength=n + 1)
            keep = sizes >= min_size
            keep[0] = False
            remap = np.zeros(n + 1, dtype="int32")
            remap[keep] = np.arange(1, keep.sum() + 1)
            lab = remap[lab]
        if lab.max() > 0:
            cell = np.isin(m, cell_classes)
            dist, (iy, ix) = ndimage.distance_transform_edt(lab == 0, return_indices=True)
            nearest = lab[iy, ix]
            ok = cell & (lab == 0)
            if grow is not None:
                ok &= dist <= grow
            lab = np.where(ok, nearest, lab)
        out[i] = lab
    return out[0] if single else out


def match_instances(true_instances, pred_instances, threshold=0.5):
    """For one image: ``(ious, matched)`` where ``ious[j]`` is the best IoU of true cell ``j+1`` with any
    predicted component and ``matched[j]`` whether it exceeds ``threshold``."""
    t, p = _pair(true_instances, pred_instances)
    nt, np_ = int(t.max(initial=0)), int(p.max(initial=0))
    if nt == 0:
        return np.zeros(0), np.zeros(0, dtype=bool)
    inter = np.bincount(t.ravel().astype("int64") * (np_ + 1) + p.ravel(), minlength=(nt + 1) * (np_ + 1))
    inter = inter.reshape(nt + 1, np_ + 1)[1:, 1:].astype("float64")
    t_area = np.bincount(t.ravel(), minlength=nt + 1)[1:].astype("float64")
    p_area = np.bincount(p.ravel(), minlength=np_ + 1)[1:].astype("float64")
    if np_ == 0:
        best = np.zeros(nt)
    else:
        union = t_area[:, None] + p_area[None, :] - inter
        with np.errstate(invalid="ignore", divide="ignore"):
            iou = np.where(union > 0, inter / union, 0.0)
        best = iou.max(axis=1)
    present = t_area > 0  # instance ids may skip numbers
    return best[present], best[present] > threshold


def count_recovered_instances(true_instances, pred_instances, threshold=0.5):
    """``(recovered, total)``: true cells matched by a predicted component with IoU > ``threshold``."""
    t, p = _pair(true_instances, pred_instances)
    if t.ndim == 2:
        t, p = t[None], p[None]
    recovered = total = 0
    for ti, pi in zip(t, p):
        _, matched = match_instances(ti, pi, threshold)
        recovered += int(matched.sum())
        total += len(matched)
    return recovered, total


def segmentation_report(true_masks, pred_masks, num_classes, true_instances=None, **recover_kwargs):
    """Mean IoU, Dice, per-class IoU, foreground IoU (every non-zero class as one), and with
    ``true_instances`` the recovered-cell count from :func:`recover_instances` of the predicted masks."""
    true_masks, pred_masks = _pair(true_masks, pred_masks)
    report = {
        "mean_iou": mean_iou(true_masks, pred_masks, num_classes),
        "mean_dice": mean_dice(true_masks, pred_masks, num_classes),
        "per_class_iou": [None if np.isnan(v) else float(v) for v in per_class_iou(true_masks, pred_masks, num_classes)],
        "foreground_iou": float(per_class_iou(true_masks > 0, pred_masks > 0, 2)[1]),
        "pixel_accuracy": float(np.mean(true_masks == pred_masks)),
    }
    if true_instances is not None:
        pred_instances = recover_instances(pred_masks, **recover_kwargs)
        recovered, total = count_recovered_instances(true_instances, pred_instances)
        report.update(cells_recovered=recovered, cells_total=total,
                      cells_predicted=int(sum(len(np.unique(p)) - 1 for p in pred_instances.reshape((-1,) + pred_instances.shape[-2:]))))
    return report
