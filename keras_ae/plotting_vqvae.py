"""Figures for the VQ-VAE: reconstructions, codebook usage, prior samples (matplotlib, Agg backend)."""

import numpy as np


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _image(ax, img):
    img = np.asarray(img)
    if img.shape[-1] == 1:
        ax.imshow(img[..., 0], cmap="gray", vmin=0.0, vmax=1.0)
    else:
        ax.imshow(np.clip(img, 0.0, 1.0))
    ax.axis("off")


def plot_reconstructions(images, reconstructions, path=None, n=10, title="VQ-VAE reconstructions"):
    """Top row originals, bottom row reconstructions; saves to ``path`` when given; returns the figure."""
    plt = _plt()
    n = min(n, len(images))
    fig, axes = plt.subplots(2, n, figsize=(1.2 * n, 2.6), squeeze=False)
    for i in range(n):
        _image(axes[0, i], images[i])
        _image(axes[1, i], reconstructions[i])
    axes[0, 0].set_title("input", fontsize=8, loc="left")
    axes[1, 0].set_title("reconstruction", fontsize=8, loc="left")
    fig.suptitle(title, fontsize=10)
    if path:
        fig.savefig(path, dpi=100, bbox_inches="tight")
    return fig


def plot_codebook_usage(counts, path=None, title=None):
    """Bar chart of how often each code is used (``counts`` of length K), sorted by frequency."""
    plt = _plt()
    counts = np.asarray(counts, dtype="float64")
    share = counts / max(counts.sum(), 1.0)
    nz = share[share > 0]
    perplexity = float(np.exp(-np.sum(nz * np.log(nz)))) if nz.size else 0.0
    fig, axes = plt.subplots(1, 2, figsize=(10, 3))
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
    if path:
        fig.savefig(path, dpi=100, bbox_inches="tight")
    return fig


def plot_samples(images, path=None, ncols=10, title="VQ-VAE prior samples", labels=None):
    """A grid of images (e.g. ``model.sample(n)``), optionally titled with ``labels`` (strings)."""
    plt = _plt()
    images = np.asarray(images)
    n = len(images)
    nrows = int(np.ceil(n / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(1.1 * ncols, 1.2 * nrows), squeeze=False)
    for k, ax in enumerate(axes.flat):
        if k < n:
            _image(ax, images[k])
            if labels is not None:
                ax.set_title(str(labels[k]), fontsize=7)
        else:
            ax.axis("off")
    fig.suptitle(title, fontsize=10)
    if path:
        fig.savefig(path, dpi=100, bbox_inches="tight")
    return fig
