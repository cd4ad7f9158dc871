"""Restoration and filter measures: PSNR of images against their clean originals, the distance of points to a
sampled manifold, the orientedness of learned filters.
"""

__all__ = ["psnr", "distance_to_points", "filter_orientedness"]

import numpy as np

from keras_ae.errors import InvalidArgumentError


def psnr(clean, other, peak=1.0):
    """Mean per-image peak signal-to-noise ratio (dB) of ``other`` against ``clean`` (both ``(N, ...)``)."""
    clean, other = np.asarray(clean, "float64"), np.asarray(other, "float64")
    if clean.shape != other.shape or clean.ndim < 2:
        raise InvalidArgumentError(f"psnr needs two batches of the same shape (N, ...); received {clean.shape} and {other.shape}.")
    mse = np.mean((clean - other) ** 2, axis=tuple(range(1, clean.ndim)))
    return float(np.mean(10.0 * np.log10(peak**2 / np.maximum(mse, 1e-10))))


def distance_to_points(points, reference, batch_size=512):
    """Mean Euclidean distance from each of ``points`` (N, d) to its nearest neighbour in ``reference`` (M, d): the
    distance to a manifold sampled densely by ``reference``."""
    points, reference = np.asarray(points, "float64"), np.asarray(reference, "float64")
    if points.ndim != 2 or reference.ndim != 2 or points.shape[1] != reference.shape[1]:
        raise InvalidArgumentError(f"points (N, d) and reference (M, d) must share d; received {points.shape} and "
                         f"{reference.shape}.")
    out = []
    for start in range(0, len(points), batch_size):
        p = points[start : start + batch_size]
        out.append(np.sqrt(((p[:, None, :] - reference[None, :, :]) ** 2).sum(-1)).min(1))
    return float(np.mean(np.concatenate(out)))


def filter_orientedness(kernel, size):
    """Mean over filters (rows of ``kernel``, each a ``size`` x ``size`` patch) of the fraction of spectral energy
    within +-15 degrees of the filter's dominant orientation (about 1/6 for an isotropic blob or noise, near 1 for a
    straight edge or grating)."""
    kernel = np.asarray(kernel, "float64")
    scores = []
    f = np.fft.fftshift(np.fft.fftfreq(size))
    fy, fx = np.meshgrid(f, f, indexing="ij")
    angle = np.arctan2(fy, fx) % np.pi
    for row in kernel:
        power = np.abs(np.fft.fftshift(np.fft.fft2(row.reshape(size, size) - row.mean()))) ** 2
        power[size // 2, size // 2] = 0
        total = power.sum()
        best = 0.0
        for a in np.linspace(0, np.pi, 36, endpoint=False):
            d = np.abs((angle - a + np.pi / 2) % np.pi - np.pi / 2)
            best = max(best, power[d < np.pi / 12].sum() / total if total > 0 else 0.0)
        scores.append(best)
    return float(np.mean(scores))
