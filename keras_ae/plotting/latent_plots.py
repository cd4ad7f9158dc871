"""Figures for the latent analyses of :mod:`keras_ae.evaluation.latent` (one function per analysis).

Each takes the numpy arrays an analysis returned, returns the Figure and writes it when ``path`` is given
(:mod:`keras_ae.plotting`'s convention).
"""

__all__ = ["plot_traversal", "plot_latent_map", "plot_reconstruction_grid", "plot_sample_grid",
           "plot_interpolation_rows"]

import numpy as np

from keras_ae.errors import InvalidDataError
from keras_ae.plotting import colormap, finish, new_figure, show_grid, show_image


def plot_traversal(images, dims, values, path=None, unit="prior std", title="latent traversal"):
    """``images`` (len(dims), len(values), H, W, C) from :func:`latent_traversal`: one row per varied
    dimension (labelled ``z[d]``), one column per offset (labelled with its value)."""
    images = np.asarray(images, dtype="float32")
    rows, cols = images.shape[:2]
    values = np.asarray(values).reshape(-1)
    if len(dims) != rows or len(values) != cols:
        raise InvalidDataError(f"Traversal images have {rows} rows x {cols} columns but {len(dims)} dims and "
                               f"{len(values)} values were given.")
    fig, axes = new_figure(rows, cols, figsize=(0.8 * cols + 0.6, 0.8 * rows + 0.5), squeeze=False)
    for i in range(rows):
        for j in range(cols):
            ax = axes[i, j]
            show_image(ax, images[i, j])
            if j == 0:
                ax.set_ylabel(f"z[{dims[i]}]", fontsize=8, rotation=0, labelpad=14, va="center")
            if i == rows - 1:
                ax.set_xlabel(f"{values[j]:+.1f}", fontsize=7)
    fig.suptitle(f"{title} (offsets in {unit})", fontsize=9)
    fig.subplots_adjust(wspace=0.05, hspace=0.05)
    return finish(fig, path)


def plot_latent_map(points, labels, path=None, title="latent map", axis_labels=("PC 1", "PC 2")):
    """Scatter of 2-D ``points`` (from :func:`latent_map`) coloured by ``labels`` with a legend."""
    points = np.asarray(points, dtype="float32")
    fig, ax = new_figure(figsize=(6, 5))
    if labels is None:
        ax.scatter(points[:, 0], points[:, 1], s=4, color="tab:blue")
    else:
        labels = np.asarray(labels)
        classes = np.unique(labels)
        cmap = colormap("tab10" if len(classes) <= 10 else "tab20")
        for i, c in enumerate(classes):
            sel = labels == c
            ax.scatter(points[sel, 0], points[sel, 1], s=4, color=cmap(i % cmap.N), label=str(c))
        ax.legend(title="label", fontsize=7, markerscale=3, loc="best", ncol=1 if len(classes) <= 10 else 2)
    ax.set_xlabel(axis_labels[0])
    ax.set_ylabel(axis_labels[1])
    ax.set_title(title, fontsize=9)
    return finish(fig, path)


def plot_reconstruction_grid(grid, path=None, title="originals (top) and reconstructions (bottom)"):
    """``grid`` (2, n, H, W, C) from :func:`reconstruction_grid`."""
    grid = np.asarray(grid)
    n = grid.shape[1]
    fig, ax = new_figure(figsize=(max(3.0, 0.8 * n), 1.9))
    show_grid(ax, grid.reshape((-1,) + grid.shape[2:]), ncols=n, title=title)
    return finish(fig, path)


def plot_sample_grid(images, path=None, ncols=8, title="samples from the prior"):
    """``images`` (n, H, W, C) from :func:`sample_grid`."""
    fig, ax = new_figure(figsize=(6, 6))
    show_grid(ax, images, ncols, title)
    return finish(fig, path)


def plot_interpolation_rows(rows, path=None, title="interpolations (codes on a line between two images)"):
    """``rows`` (n, steps, H, W, C) from :func:`interpolation_rows`: one row per pair."""
    rows = np.asarray(rows)
    n, steps = rows.shape[:2]
    fig, ax = new_figure(figsize=(max(3.0, 0.7 * steps), 0.7 * n + 0.4))
    show_grid(ax, rows.reshape((-1,) + rows.shape[2:]), ncols=steps, title=title)
    return finish(fig, path)
