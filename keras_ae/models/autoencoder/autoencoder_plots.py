"""Figures of the autoencoder family: restoration rows, decoder filters, the 2-D denoising field, interpolations.

Each returns the Figure and writes it when ``path`` is given (:mod:`keras_ae.plotting`'s convention).
"""

__all__ = ["restoration_rows", "decoder_filters", "denoising_field", "interpolation_rows"]

import numpy as np

from keras_ae.plotting import finish, new_figure, plot_image_rows, show_image


def restoration_rows(original, corrupted, restored, n=10, title=None, path=None):
    """Three rows: original, corrupted, restored images (the first ``n`` of each)."""
    n = min(n, len(original))
    return plot_image_rows([original[:n], corrupted[:n], restored[:n]], ["original", "corrupted", "restored"],
                           path=path, title=title)


def decoder_filters(kernel, patch_shape, ncols=10, title=None, path=None):
    """Show each row of a decoder kernel ``(units, H*W)`` as an ``H`` x ``W`` filter, each scaled on its own."""
    kernel = np.asarray(kernel)
    units = kernel.shape[0]
    nrows = int(np.ceil(units / ncols))
    fig, axes = new_figure(nrows, ncols, figsize=(ncols * 0.8, nrows * 0.8), squeeze=False)
    for i, ax in enumerate(axes.ravel()):
        if i < units:
            f = kernel[i].reshape(patch_shape[:2])
            m = np.abs(f).max() + 1e-12
            show_image(ax, f, -m, m)
        else:
            ax.axis("off")
    if title:
        fig.suptitle(title, fontsize=10)
    return finish(fig, path, dpi=110)


def denoising_field(clean, noisy, restored, max_arrows=400, title=None, path=None):
    """The lectures' 2-D figure: data manifold, noisy points, and arrows from each noisy point to its restoration."""
    fig, ax = new_figure(figsize=(5.5, 5.5))
    ax.scatter(clean[:, 0], clean[:, 1], s=2, c="0.6", label="data manifold")
    ax.scatter(noisy[:, 0], noisy[:, 1], s=4, c="tab:red", alpha=0.5, label="corrupted x~")
    ax.scatter(restored[:, 0], restored[:, 1], s=4, c="tab:blue", alpha=0.7, label="g(h(x~))")
    k = min(max_arrows, len(noisy))
    d = restored[:k] - noisy[:k]
    ax.quiver(noisy[:k, 0], noisy[:k, 1], d[:, 0], d[:, 1], angles="xy", scale_units="xy", scale=1.0,
              width=0.002, color="k", alpha=0.4)
    ax.set_aspect("equal")
    ax.legend(loc="upper right", fontsize=8)
    if title:
        ax.set_title(title, fontsize=10)
    return finish(fig, path, dpi=110)


def interpolation_rows(rows, title=None, path=None):
    """``rows`` of shape (n_pairs, steps, H, W, C): one row of decoded interpolations per pair."""
    rows = np.asarray(rows)
    if rows.ndim == 4:
        rows = rows[None]
    return plot_image_rows(list(rows), path=path, title=title)
