"""Figures of normalizing flows: a 2-D density heat map beside the data and samples, an image sample grid.

Each returns the Figure and writes it when ``path`` is given (:mod:`keras_ae.plotting`'s convention).
"""

__all__ = ["density_grid", "plot_density_2d", "plot_image_samples"]

import numpy as np

from keras_ae.plotting import finish, new_figure, plot_images


def density_grid(model, lim=3.0, steps=200):
    """``(xs, ys, density)``: ``exp(log_prob)`` of a 2-D flow on a ``steps x steps`` grid over ``[-lim, lim]^2``."""
    lim = (-lim, lim, -lim, lim) if np.isscalar(lim) else tuple(lim)
    xs = np.linspace(lim[0], lim[1], steps, dtype="float32")
    ys = np.linspace(lim[2], lim[3], steps, dtype="float32")
    gx, gy = np.meshgrid(xs, ys)
    pts = np.stack([gx.ravel(), gy.ravel()], axis=1)
    return xs, ys, np.exp(model.log_prob(pts, batch_size=4096)).reshape(steps, steps)


def plot_density_2d(model, data, path=None, n_samples=2000, seed=0, lim=3.0, title=None):
    """Three panels: the data, the learned density (heat map), and ``n_samples`` samples."""
    data = np.asarray(data)
    xs, ys, dens = density_grid(model, lim)
    samples = model.sample(n_samples, seed=seed)
    fig, axes = new_figure(1, 3, figsize=(12, 4))
    axes[0].scatter(data[:, 0], data[:, 1], s=2, alpha=0.5)
    axes[0].set_title("data")
    axes[1].imshow(dens, origin="lower", extent=(xs[0], xs[-1], ys[0], ys[-1]), cmap="viridis", aspect="auto")
    axes[1].set_title("learned density")
    axes[2].scatter(samples[:, 0], samples[:, 1], s=2, alpha=0.5, color="tab:orange")
    axes[2].set_title("samples")
    for ax in axes:
        ax.set_xlim(xs[0], xs[-1])
        ax.set_ylim(ys[0], ys[-1])
        ax.set_aspect("equal")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return finish(fig, path, tight=False)


def plot_image_samples(model, path=None, n=64, seed=0, temperature=1.0, cols=8):
    """A grid of ``n`` samples of an image flow (pixels in [0, 1])."""
    return plot_images(model.sample(n, seed=seed, temperature=temperature), ncols=cols, path=path)
