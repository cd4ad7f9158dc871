"""Small data for the lectures' figures: natural-image patches and a noisy 2-D manifold.

``image_patches`` cuts square patches from the two photographs scikit-learn ships
(``sklearn.datasets.load_sample_images``: a Chinese temple and a flower; offline), converted to grey levels.
``noisy_manifold`` samples points on a 1-D curve in the plane (a spiral arc) with Gaussian noise.
"""

__all__ = ["image_patches", "noisy_manifold"]

import numpy as np

from keras_ae.errors import InvalidArgumentError, check_positive_int


def _grey_images():
    from sklearn.datasets import load_sample_images

    images = load_sample_images().images
    return [np.asarray(im, dtype="float64") @ np.array([0.299, 0.587, 0.114]) / 255.0 for im in images]


def _whiten(patches, eps):
    """ZCA-whiten flattened, zero-mean patches (the usual preprocessing for learning edge filters).

    ``eps`` is relative: the regularizer added to each eigenvalue is ``eps`` times their mean.
    """
    cov = patches.T @ patches / len(patches)
    u, s, _ = np.linalg.svd(cov)
    return patches @ (u @ np.diag(1.0 / np.sqrt(s + eps * s.mean())) @ u.T)


def image_patches(n=10000, size=10, seed=0, whiten=True, zca_epsilon=0.1, scale=(0.1, 0.9)):
    """``n`` random ``size`` x ``size`` grey patches, shape (n, size, size, 1), float32 in ``scale``.

    Each patch has its mean removed; with ``whiten`` the patches are ZCA-whitened (``zca_epsilon`` times the mean eigenvalue regularizes small ones); then values are clipped at
    3 standard deviations and mapped linearly to ``scale`` (default [0.1, 0.9], as in Ng's sparse
    autoencoder notes, so a sigmoid/Bernoulli output can fit them).
    """
    n = check_positive_int("n", n)
    size = check_positive_int("size", size, minimum=2)
    lo, hi = (float(s) for s in scale)
    if not 0.0 <= lo < hi <= 1.0:
        raise InvalidArgumentError(f"`scale` must be (low, high) with 0 <= low < high <= 1; received {scale!r}.")
    images = _grey_images()
    if size > min(min(im.shape) for im in images):
        raise InvalidArgumentError(f"Patch size {size} is larger than the sample images.")
    rng = np.random.default_rng(seed)
    which = rng.integers(0, len(images), n)
    out = np.empty((n, size * size))
    for i, k in enumerate(which):
        im = images[k]
        r, c = rng.integers(0, im.shape[0] - size + 1), rng.integers(0, im.shape[1] - size + 1)
        out[i] = im[r : r + size, c : c + size].ravel()
    out -= out.mean(axis=1, keepdims=True)
    if whiten:
        out = _whiten(out, zca_epsilon)
    limit = 3.0 * out.std()
    out = np.clip(out, -limit, limit) / limit  # [-1, 1]
    out = lo + (out + 1.0) * 0.5 * (hi - lo)
    return out.reshape(n, size, size, 1).astype("float32")


def noisy_manifold(n=2000, noise=0.1, seed=0):
    """Points on a spiral arc in the plane plus isotropic Gaussian noise.

    Returns ``(noisy, clean)``, both float32 of shape (n, 2); ``clean`` lies exactly on the curve.
    """
    n = check_positive_int("n", n)
    noise = float(noise)
    if not noise >= 0:
        raise InvalidArgumentError(f"`noise` must be >= 0; received {noise!r}.")
    rng = np.random.default_rng(seed)
    t = rng.uniform(0.5, 3.0 * np.pi, n)
    clean = np.stack([t * np.cos(t), t * np.sin(t)], axis=1) / (3.0 * np.pi)
    noisy = clean + noise * rng.standard_normal(clean.shape)
    return noisy.astype("float32"), clean.astype("float32")
