"""Figures for trained models (matplotlib is imported inside each function; Agg when headless).

Each function takes numpy arrays (or a model) and a ``path``, writes a PNG and returns the path.
"""

import os
import statistics

import numpy as np


def _plt():
    import matplotlib

    if not os.environ.get("DISPLAY") and matplotlib.get_backend().lower() not in ("agg", "pdf", "svg"):
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def image_grid(images, ncols=None, pad=1):
    """Tile ``images`` (N, H, W, C) into one (rows*H, cols*W[, C]) array with ``pad`` pixel gaps."""
    images = np.asarray(images, dtype="float32")
    if images.ndim == 3:
        images = images[..., None]
    n, h, w, c = images.shape
    ncols = ncols or int(np.ceil(np.sqrt(n)))
    nrows = int(np.ceil(n / ncols))
    grid = np.ones((nrows * (h + pad) - pad, ncols * (w + pad) - pad, c), dtype="float32")
    for i in range(n):
        r, k = divmod(i, ncols)
        grid[r * (h + pad) : r * (h + pad) + h, k * (w + pad) : k * (w + pad) + w] = images[i]
    return grid[..., 0] if c == 1 else np.clip(grid, 0, 1)


def _save(fig, path):
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    fig.savefig(path, dpi=100, bbox_inches="tight")
    _plt().close(fig)
    return path


def _show_grid(ax, images, ncols=None, title=None):
    ax.imshow(image_grid(images, ncols), cmap="gray", vmin=0.0, vmax=1.0, interpolation="nearest")
    ax.set_axis_off()
    if title:
        ax.set_title(title, fontsize=9)


def plot_image_rows(rows, path, titles=None):
    """One row of images per entry of ``rows`` (each (N, H, W, C)), e.g. originals over reconstructions."""
    plt = _plt()
    fig, axes = plt.subplots(len(rows), 1, figsize=(1.0 * len(rows[0]), 1.25 * len(rows)), squeeze=False)
    for i, row in enumerate(rows):
        _show_grid(axes[i, 0], row, ncols=len(row), title=titles[i] if titles else None)
    return _save(fig, path)


def plot_reconstructions(originals, reconstructions, path, n=10):
    """Originals (top row) beside their reconstructions (bottom row)."""
    return plot_image_rows([originals[:n], reconstructions[:n]], path, ["original", "reconstruction"])


def plot_samples(images, path, ncols=None, title="samples"):
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6, 6))
    _show_grid(ax, images, ncols, title)
    return _save(fig, path)


def project_2d(codes):
    """Codes as 2-D points: unchanged when 2-D, first two principal components otherwise."""
    codes = np.asarray(codes, dtype="float32").reshape(len(codes), -1)
    if codes.shape[1] == 2:
        return codes, ("z[0]", "z[1]")
    if codes.shape[1] == 1:
        return np.concatenate([codes, np.zeros_like(codes)], axis=1), ("z[0]", "")
    from sklearn.decomposition import PCA

    return PCA(n_components=2, random_state=0).fit_transform(codes), ("PC 1", "PC 2")


def plot_latent(codes, labels, path, title="latent space"):
    """Scatter of the codes (PCA to 2-D when larger), coloured by label."""
    plt = _plt()
    points, (xl, yl) = project_2d(codes)
    fig, ax = plt.subplots(figsize=(6, 5))
    sc = ax.scatter(points[:, 0], points[:, 1], c=labels, cmap="tab10", s=4)
    if labels is not None:
        fig.colorbar(sc, ax=ax, label="label")
    ax.set_xlabel(xl)
    ax.set_ylabel(yl)
    ax.set_title(title)
    return _save(fig, path)


def manifold_codes(n=15, low=0.05, high=0.95):
    """An n x n grid of 2-D codes at evenly spaced quantiles of N(0, 1) (inverse normal CDF, as in
    Kingma & Welling's figure 4); rows go from high to low z[1] so the picture reads like a plot."""
    q = np.linspace(low, high, n)
    values = np.array([statistics.NormalDist().inv_cdf(p) for p in q], dtype="float32")
    zx, zy = np.meshgrid(values, values[::-1])
    return np.stack([zx.ravel(), zy.ravel()], axis=1)


def plot_manifold(decode, path, n=15):
    """Decode the :func:`manifold_codes` grid with ``decode(z) -> images`` and tile the result."""
    images = decode(manifold_codes(n))
    plt = _plt()
    fig, ax = plt.subplots(figsize=(7, 7))
    _show_grid(ax, images, ncols=n, title="2-D latent manifold (inverse normal CDF grid)")
    return _save(fig, path)


def plot_history(history, path):
    """Training curves: one panel per metric, with its ``val_`` counterpart when present."""
    plt = _plt()
    names = [k for k in history if not k.startswith("val_")]
    fig, axes = plt.subplots(1, len(names), figsize=(3.2 * len(names), 2.8), squeeze=False)
    for ax, name in zip(axes[0], names):
        ax.plot(history[name], label="train")
        if f"val_{name}" in history:
            ax.plot(history[f"val_{name}"], label="validation")
        ax.set_title(name, fontsize=9)
        ax.set_xlabel("epoch")
        ax.legend(fontsize=7)
    fig.tight_layout()
    return _save(fig, path)
