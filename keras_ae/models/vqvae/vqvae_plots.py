"""Figures of the VQ-VAE: reconstructions, codebook usage, prior samples.

Each returns the Figure and writes it when ``path`` is given (:mod:`keras_ae.plotting`'s convention).
"""

__all__ = ["plot_reconstructions", "plot_codebook_usage", "plot_samples"]

import numpy as np

from keras_ae import plotting
from keras_ae.plotting import finish, new_figure, plot_images


def plot_reconstructions(images, reconstructions, path=None, n=10, title="VQ-VAE reconstructions"):
    """Top row originals, bottom row reconstructions."""
    return plotting.plot_reconstructions(images, reconstructions, path=path, n=n, title=title)


def plot_codebook_usage(counts, path=None, title=None):
    """Bar chart of how often each code is used (``counts`` of length K), and the same sorted by frequency."""
    counts = np.asarray(counts, dtype="float64")
    share = counts / max(counts.sum(), 1.0)
    nz = share[share > 0]
    perplexity = float(np.exp(-np.sum(nz * np.log(nz)))) if nz.size else 0.0
    fig, axes = new_figure(1, 2, figsize=(10, 3))
    axes[0].bar(np.arange(len(counts)), share, width=1.0)
    axes[0].set_xlabel("code index")
    axes[0].set_ylabel("share of assignments")
    axes[1].bar(np.arange(len(counts)), np.sort(share)[::-1], width=1.0)
    axes[1].set_xlabel("codes sorted by use")
    axes[1].axhline(1.0 / len(counts), color="k", lw=0.8, ls="--", label="uniform")
    axes[1].legend(fontsize=8, loc="upper right")
    fig.suptitle(
        title or f"codebook usage: perplexity {perplexity:.1f} of {len(counts)}, "
        f"{int(np.sum(counts == 0))} codes unused",
        fontsize=10,
    )
    return finish(fig, path)


def plot_samples(images, path=None, ncols=10, title="VQ-VAE prior samples", labels=None):
    """A grid of images (e.g. ``model.sample(n)``), optionally titled with ``labels`` (strings)."""
    return plot_images(images, ncols=ncols, titles=labels, title=title, path=path, size=1.1)
