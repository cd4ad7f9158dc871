"""Figures of U-Net segmentation: image, true mask, predicted mask and the weight map, one row per example.

Returns the Figure and writes it when ``path`` is given (:mod:`keras_ae.plotting`'s convention).
"""

__all__ = ["plot_segmentation"]

import numpy as np

from keras_ae.errors import InvalidDataError
from keras_ae.plotting import finish, new_figure, show_image


def plot_segmentation(images, true_masks, pred_masks=None, weight_maps=None, path=None, num_classes=None,
                      titles=("image", "true mask", "predicted mask", "weight map")):
    """One row per example: the image, the true mask, the predicted mask and the weight map (columns for
    ``pred_masks`` / ``weight_maps`` appear when given)."""
    images = np.asarray(images)
    true_masks = np.asarray(true_masks)
    if images.ndim == 3 and images.shape[-1] not in (1, 3):
        images = images[..., None]
    if images.ndim == 3:
        images, true_masks = images[None], true_masks[None]
        pred_masks = None if pred_masks is None else np.asarray(pred_masks)[None]
        weight_maps = None if weight_maps is None else np.asarray(weight_maps)[None]
    n = len(images)
    if len(true_masks) != n:
        raise InvalidDataError(f"Got {len(true_masks)} true masks for {n} images.")
    columns = [("image", images), ("true", true_masks)]
    if pred_masks is not None:
        pred_masks = np.asarray(pred_masks)
        if pred_masks.shape != true_masks.shape:
            raise InvalidDataError(f"Predicted masks {pred_masks.shape} and true masks {true_masks.shape} differ "
                                   "in shape.")
        columns.append(("pred", pred_masks))
    if weight_maps is not None:
        weight_maps = np.asarray(weight_maps)
        if weight_maps.shape[:3] != true_masks.shape[:3]:
            raise InvalidDataError(f"Weight maps {weight_maps.shape} and masks {true_masks.shape} differ in shape.")
        columns.append(("weights", weight_maps))
    names = dict(zip(("image", "true", "pred", "weights"), titles))
    k = num_classes or int(max(true_masks.max(), 0 if pred_masks is None else pred_masks.max())) + 1
    fig, axes = new_figure(n, len(columns), figsize=(2.2 * len(columns), 2.2 * n), squeeze=False)
    for row in range(n):
        for col, (kind, arr) in enumerate(columns):
            ax = axes[row, col]
            a = arr[row]
            if kind == "image":
                show_image(ax, a)
            elif kind == "weights":
                im = ax.imshow(a[..., 0] if a.ndim == 3 else a, cmap="magma")
                fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
            else:
                ax.imshow(a[..., 0] if a.ndim == 3 else a, cmap="viridis", vmin=0, vmax=max(k - 1, 1),
                          interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            if row == 0:
                ax.set_title(names[kind], fontsize=9)
    fig.tight_layout()
    return finish(fig, path, tight=False)
