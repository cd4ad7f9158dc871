"""The one figure convention of keras_ae: every plotting function returns a matplotlib ``Figure`` and writes it
when ``path`` is given (folders are created; the format follows the file name's extension).

Figures are made with :class:`matplotlib.figure.Figure`, not with ``pyplot``: keras_ae never selects, changes or
depends on a matplotlib backend, keeps no figure open in pyplot's registry, and works the same headless, in a
script and in a notebook (where a returned Figure is displayed). Close nothing: a Figure that is no longer referenced
is garbage collected.

Shared pieces (used by every family's ``<family>_plots.py``):

- :func:`new_figure`: a Figure with a grid of axes.
- :func:`finish`: write the Figure when a path is given; return it.
- :func:`image_grid`: tile images ``(N, H, W, C)`` into one array (the only function of that name).
- :func:`show_image`, :func:`show_grid`: draw one image or a tiled grid on an axis.
- :func:`plot_images`: a grid of images in one Figure (samples, reconstructions...), optionally with titles.

Generic figures: :func:`plot_image_rows`, :func:`plot_reconstructions`, :func:`plot_samples`, :func:`plot_latent`,
:func:`plot_manifold`, :func:`plot_history`, :func:`plot_scatter_2d`. The latent analyses' figures are in
:mod:`keras_ae.plotting.latent_plots`.
"""

__all__ = [
    "new_figure",
    "finish",
    "image_grid",
    "show_image",
    "show_grid",
    "plot_images",
    "plot_image_rows",
    "plot_reconstructions",
    "plot_samples",
    "project_2d",
    "plot_latent",
    "manifold_codes",
    "plot_manifold",
    "plot_history",
    "plot_scatter_2d",
    "colormap",
]

import os
import statistics

import numpy as np

from keras_ae.errors import InvalidArgumentError, InvalidDataError


def new_figure(nrows=1, ncols=1, figsize=None, squeeze=True, **subplot_kw):
    """``(fig, axes)``: a :class:`matplotlib.figure.Figure` (no pyplot, no backend) with ``nrows x ncols`` axes."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize)
    axes = fig.subplots(nrows, ncols, squeeze=squeeze, **subplot_kw)
    return fig, axes


def finish(fig, path=None, dpi=100, tight=True):
    """Write ``fig`` to ``path`` when one is given (creating its folder); return ``fig``."""
    if path is not None:
        path = os.fspath(path)
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        fig.savefig(path, dpi=dpi, bbox_inches="tight" if tight else None)
    return fig


def colormap(name):
    """A matplotlib colormap by name (without pyplot)."""
    import matplotlib

    return matplotlib.colormaps[name]


def _as_images(images):
    images = np.asarray(images, dtype="float32")
    if images.ndim == 3:  # (N, H, W): one channel
        images = images[..., None]
    if images.ndim != 4 or images.shape[-1] not in (1, 3, 4):
        raise InvalidDataError("Expected images of shape (n, height, width[, 1 or 3 channels]); received "
                               f"{images.shape}.")
    return images


def image_grid(images, ncols=None, pad=1):
    """Tile ``images`` (N, H, W[, C]) into one ``(rows*H, cols*W[, C])`` array with ``pad`` white pixels between
    tiles, values clipped to [0, 1] (single-channel grids come back 2-D)."""
    images = np.clip(_as_images(images), 0.0, 1.0)
    n, h, w, c = images.shape
    ncols = int(ncols or int(np.ceil(np.sqrt(n))))
    if ncols < 1:
        raise InvalidArgumentError(f"`ncols` must be a positive integer; received {ncols!r}.")
    nrows = int(np.ceil(n / ncols))
    grid = np.ones((nrows * (h + pad) - pad, ncols * (w + pad) - pad, c), dtype="float32")
    for i in range(n):
        r, k = divmod(i, ncols)
        grid[r * (h + pad) : r * (h + pad) + h, k * (w + pad) : k * (w + pad) + w] = images[i]
    return grid[..., 0] if c == 1 else grid


def show_image(ax, img, vmin=0.0, vmax=1.0, cmap="gray"):
    """Draw one image (H, W[, C]) on ``ax`` without ticks (single-channel in ``cmap`` between vmin and vmax)."""
    img = np.asarray(img)
    if img.ndim == 3 and img.shape[-1] == 1:
        img = img[..., 0]
    if img.ndim == 3:
        ax.imshow(np.clip(img, 0.0, 1.0), interpolation="nearest")
    else:
        ax.imshow(img, cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])


def show_grid(ax, images, ncols=None, title=None):
    """Draw the :func:`image_grid` of ``images`` on ``ax``."""
    grid = image_grid(images, ncols)
    ax.imshow(grid, cmap="gray" if grid.ndim == 2 else None, vmin=0.0, vmax=1.0, interpolation="nearest")
    ax.set_axis_off()
    if title:
        ax.set_title(title, fontsize=9)


def plot_images(images, ncols=10, titles=None, title=None, path=None, size=1.0):
    """One small axis per image (``images`` (N, H, W[, C]) in [0, 1]), ``ncols`` per row, with optional per-image
    ``titles`` and an overall ``title``."""
    images = _as_images(images)
    n = len(images)
    ncols = max(1, min(int(ncols), n))
    nrows = int(np.ceil(n / ncols))
    fig, axes = new_figure(nrows, ncols, figsize=(size * ncols + 0.2, size * 1.1 * nrows + 0.3), squeeze=False)
    for k, ax in enumerate(axes.flat):
        if k < n:
            show_image(ax, images[k])
            if titles is not None:
                ax.set_title(str(titles[k]), fontsize=7)
        else:
            ax.axis("off")
    if title:
        fig.suptitle(title, fontsize=10)
    return finish(fig, path)


def plot_image_rows(rows, titles=None, path=None, title=None):
    """One row of images per entry of ``rows`` (each (N, H, W[, C])), e.g. originals over reconstructions; each row
    labelled with its entry of ``titles``."""
    rows = [_as_images(r) for r in rows]
    n = max(len(r) for r in rows)
    fig, axes = new_figure(len(rows), n, figsize=(1.05 * n + 0.4, 1.15 * len(rows) + 0.2), squeeze=False)
    for i, row in enumerate(rows):
        for j in range(n):
            ax = axes[i, j]
            if j < len(row):
                show_image(ax, row[j])
            else:
                ax.axis("off")
        if titles:
            axes[i, 0].set_ylabel(titles[i], fontsize=8)
    if title:
        fig.suptitle(title, fontsize=10)
    return finish(fig, path)


def plot_reconstructions(originals, reconstructions, path=None, n=10, title=None):
    """Originals (top row) over their reconstructions (bottom row), the first ``n`` of each."""
    return plot_image_rows([originals[:n], reconstructions[:n]], ["original", "reconstruction"], path=path,
                           title=title)


def plot_samples(images, path=None, ncols=None, title="samples"):
    """A tiled grid of images in one axis (e.g. ``model.sample(64)``), sized to the grid (at least 2 inches)."""
    grid = image_grid(images, ncols)
    fig, ax = new_figure(figsize=(max(2.0, min(8.0, grid.shape[1] / 35)), max(2.0, min(8.0, grid.shape[0] / 35))))
    show_grid(ax, images, ncols, title)
    return finish(fig, path)


def project_2d(codes):
    """Codes as 2-D points: unchanged when 2-D, first two principal components otherwise."""
    codes = np.asarray(codes, dtype="float32").reshape(len(codes), -1)
    if codes.shape[1] == 2:
        return codes, ("z[0]", "z[1]")
    if codes.shape[1] == 1:
        return np.concatenate([codes, np.zeros_like(codes)], axis=1), ("z[0]", "")
    from sklearn.decomposition import PCA

    return PCA(n_components=2, random_state=0).fit_transform(codes), ("PC 1", "PC 2")


def plot_latent(codes, labels, path=None, title="latent space"):
    """Scatter of the codes (PCA to 2-D when larger), coloured by label."""
    points, (xl, yl) = project_2d(codes)
    fig, ax = new_figure(figsize=(6, 5))
    sc = ax.scatter(points[:, 0], points[:, 1], c=labels, cmap="tab10", s=4)
    if labels is not None:
        fig.colorbar(sc, ax=ax, label="label")
    ax.set_xlabel(xl)
    ax.set_ylabel(yl)
    ax.set_title(title)
    return finish(fig, path)


def manifold_codes(n=15, low=0.05, high=0.95):
    """An n x n grid of 2-D codes at evenly spaced quantiles of N(0, 1) (inverse normal CDF, as in
    Kingma & Welling's figure 4); rows go from high to low z[1] so the picture reads like a plot."""
    q = np.linspace(low, high, n)
    values = np.array([statistics.NormalDist().inv_cdf(p) for p in q], dtype="float32")
    zx, zy = np.meshgrid(values, values[::-1])
    return np.stack([zx.ravel(), zy.ravel()], axis=1)


def plot_manifold(decode, path=None, n=15):
    """Decode the :func:`manifold_codes` grid with ``decode(z) -> images`` and tile the result."""
    images = decode(manifold_codes(n))
    fig, ax = new_figure(figsize=(7, 7))
    show_grid(ax, images, ncols=n, title="2-D latent manifold (inverse normal CDF grid)")
    return finish(fig, path)


def plot_history(history, path=None):
    """Training curves: one panel per metric, with its ``val_`` counterpart when present."""
    names = [k for k in history if not k.startswith("val_")]
    if not names:
        raise InvalidArgumentError(f"The history has no training metrics to plot; it holds {sorted(history)}.")
    fig, axes = new_figure(1, len(names), figsize=(3.2 * len(names), 2.8), squeeze=False)
    for ax, name in zip(axes[0], names):
        ax.plot(range(1, len(history[name]) + 1), history[name], label="train")
        if f"val_{name}" in history:
            ax.plot(range(1, len(history[f"val_{name}"]) + 1), history[f"val_{name}"], label="validation")
        ax.set_title(name, fontsize=9)
        ax.set_xlabel("epoch")
        ax.legend(fontsize=7)
    fig.tight_layout()
    return finish(fig, path)


def plot_scatter_2d(points, path=None, real=None, centers=None, title=None, lim=3.0, labels=("data", "generated")):
    """Scatter 2-D ``points`` (over ``real`` points and mode ``centers`` when given) in ``[-lim, lim]^2``."""
    points = np.asarray(points)
    fig, ax = new_figure(figsize=(4, 4))
    if real is not None:
        real = np.asarray(real)
        ax.scatter(real[:, 0], real[:, 1], s=2, c="tab:gray", alpha=0.3, label=labels[0])
    ax.scatter(points[:, 0], points[:, 1], s=2, c="tab:red", alpha=0.4, label=labels[1])
    if centers is not None:
        centers = np.asarray(centers)
        ax.scatter(centers[:, 0], centers[:, 1], s=30, marker="x", c="k", label="modes")
    ax.set_xlim(-lim, lim)
    ax.set_ylim(-lim, lim)
    ax.set_aspect("equal")
    ax.legend(loc="upper right", fontsize=6)
    if title:
        ax.set_title(title, fontsize=8)
    return finish(fig, path)
