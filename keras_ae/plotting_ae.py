"""Figures of the autoencoder family: restoration rows, decoder filters, the 2-D denoising field, interpolations.

matplotlib is imported inside each function with the Agg backend; each returns the figure and saves it
when ``path`` is given.
"""

__all__ = ["restoration_rows", "decoder_filters", "denoising_field", "interpolation_rows", "image_grid"]

import numpy as np


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _finish(fig, path):
    if path is not None:
        fig.savefig(path, dpi=110, bbox_inches="tight")
    return fig


def _show(ax, img, vmin=0.0, vmax=1.0):
    img = np.asarray(img)
    if img.ndim == 3 and img.shape[-1] == 1:
        img = img[..., 0]
    ax.imshow(img, cmap="gray", vmin=vmin, vmax=vmax)
    ax.set_xticks([])
    ax.set_yticks([])


def restoration_rows(original, corrupted, restored, n=10, title=None, path=None):
    """Three rows: original, corrupted, restored images (the first ``n`` of each)."""
    plt = _plt()
    n = min(n, len(original))
    fig, axes = plt.subplots(3, n, figsize=(1.1 * n, 3.6), squeeze=False)
    for r, (label, row) in enumerate((("original", original), ("corrupted", corrupted), ("restored", restored))):
        for i in range(n):
            _show(axes[r, i], np.clip(row[i], 0, 1))
        axes[r, 0].set_ylabel(label, fontsize=9)
    if title:
        fig.suptitle(title, fontsize=10)
    return _finish(fig, path)


def decoder_filters(kernel, patch_shape, ncols=10, title=None, path=None):
    """Show each row of a decoder kernel ``(units, H*W)`` as an ``H`` x ``W`` filter, each scaled on its own."""
    plt = _plt()
    kernel = np.asarray(kernel)
    units = kernel.shape[0]
    nrows = int(np.ceil(units / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(ncols * 0.8, nrows * 0.8), squeeze=False)
    for i, ax in enumerate(axes.ravel()):
        if i < units:
            f = kernel[i].reshape(patch_shape[:2])
            m = np.abs(f).max() + 1e-12
            _show(ax, f, -m, m)
        else:
            ax.axis("off")
    if title:
        fig.suptitle(title, fontsize=10)
    return _finish(fig, path)


def denoising_field(clean, noisy, restored, max_arrows=400, title=None, path=None):
    """The lectures' 2-D figure: data manifold, noisy points, and arrows from each noisy point to its restoration."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(5.5, 5.5))
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
    return _finish(fig, path)


def interpolation_rows(rows, title=None, path=None):
    """``rows`` of shape (n_pairs, steps, H, W, C): one row of decoded interpolations per pair."""
    plt = _plt()
    rows = np.asarray(rows)
    if rows.ndim == 4:
        rows = rows[None]
    n, steps = rows.shape[:2]
    fig, axes = plt.subplots(n, steps, figsize=(steps * 0.9, n * 0.9), squeeze=False)
    for i in range(n):
        for j in range(steps):
            _show(axes[i, j], np.clip(rows[i, j], 0, 1))
    if title:
        fig.suptitle(title, fontsize=10)
    return _finish(fig, path)


def image_grid(images, ncols=10, title=None, path=None):
    """A grid of images (e.g. samples decoded from a latent sampler)."""
    plt = _plt()
    images = np.asarray(images)
    nrows = int(np.ceil(len(images) / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(ncols * 0.9, nrows * 0.9), squeeze=False)
    for i, ax in enumerate(axes.ravel()):
        if i < len(images):
            _show(ax, np.clip(images[i], 0, 1))
        else:
            ax.axis("off")
    if title:
        fig.suptitle(title, fontsize=10)
    return _finish(fig, path)
