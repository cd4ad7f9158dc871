"""Figures of the GAN family. Image samples are :func:`keras_ae.plotting.plot_samples` (or the
:class:`keras_ae.callbacks.SampleGrid` callback during training); this module adds the ring-of-Gaussians scatter.

Returns the Figure and writes it when ``path`` is given (:mod:`keras_ae.plotting`'s convention).
"""

__all__ = ["plot_ring"]

from keras_ae.plotting import plot_scatter_2d


def plot_ring(samples, path=None, real=None, centers=None, title=None, lim=3.0):
    """Generated 2-D points over the real data and the mode centres (the ring of Gaussians)."""
    return plot_scatter_2d(samples, path=path, real=real, centers=centers, title=title, lim=lim)
