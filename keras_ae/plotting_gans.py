"""Figures for GANs: image sample grids and ring-of-Gaussians scatter plots (matplotlib, Agg)."""

import os

import numpy as np


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def image_grid(images, ncols=None):
    """Tile ``(n, H, W, C)`` images (C = 1 or 3) into one ``(rows*H, cols*W[, C])`` array, clipped to [0, 1]."""
    images = np.asarray(images, "float32")
    if images.ndim != 4 or images.shape[-1] not in (1, 3):
        raise ValueError(f"image_grid takes images of shape (n, height, width, 1 or 3); received {images.shape}.")
    n, h, w, c = images.shape
    ncols = int(ncols or int(np.ceil(np.sqrt(n))))
    nrows = int(np.ceil(n / ncols))
    grid = np.ones((nrows * h, ncols * w, c), "float32")
    for i, img in enumerate(np.clip(images, 0.0, 1.0)):
        r, q = divmod(i, ncols)
        grid[r * h:(r + 1) * h, q * w:(q + 1) * w] = img
    return grid[..., 0] if c == 1 else grid


def save_image_grid(images, path, ncols=None, title=None):
    """Write a PNG grid of images in [0, 1] to ``path``; returns ``path``."""
    plt = _pyplot()
    grid = image_grid(images, ncols)
    fig, ax = plt.subplots(figsize=(max(2.0, grid.shape[1] / 40), max(2.0, grid.shape[0] / 40)))
    ax.imshow(grid, cmap="gray" if grid.ndim == 2 else None, vmin=0.0, vmax=1.0, interpolation="nearest")
    ax.axis("off")
    if title:
        ax.set_title(title, fontsize=8)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    fig.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(fig)
    return path


def save_scatter(samples, path, real=None, centers=None, title=None, lim=3.0):
    """Scatter 2-D ``samples`` (over ``real`` points and mode ``centers`` when given) to a PNG."""
    plt = _pyplot()
    samples = np.asarray(samples)
    fig, ax = plt.subplots(figsize=(4, 4))
    if real is not None:
        real = np.asarray(real)
        ax.scatter(real[:, 0], real[:, 1], s=2, c="tab:gray", alpha=0.3, label="data")
    ax.scatter(samples[:, 0], samples[:, 1], s=2, c="tab:red", alpha=0.4, label="generated")
    if centers is not None:
        centers = np.asarray(centers)
        ax.scatter(centers[:, 0], centers[:, 1], s=30, marker="x", c="k", label="modes")
    ax.set_xlim(-lim, lim)
    ax.set_ylim(-lim, lim)
    ax.set_aspect("equal")
    ax.legend(loc="upper right", fontsize=6)
    if title:
        ax.set_title(title, fontsize=8)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    fig.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(fig)
    return path
