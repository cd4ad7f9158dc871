"""Synthetic 2-D point sets that density models and GANs are tested on (float32 numpy arrays)."""

__all__ = ["two_moons", "concentric_circles", "ring_of_gaussians", "standardize"]

import numpy as np

from keras_ae.errors import InvalidArgumentError, check_non_negative, check_positive_int


def two_moons(n=3000, noise=0.05, seed=0):
    """scikit-learn's two moons: ``(points (n, 2), labels (n,))``."""
    from sklearn.datasets import make_moons

    x, y = make_moons(check_positive_int("n", n), noise=check_non_negative("noise", noise), random_state=seed)
    return x.astype("float32"), y.astype("int32")


def concentric_circles(n=3000, noise=0.05, factor=0.5, seed=0):
    """scikit-learn's two concentric circles (inner radius ``factor``): ``(points, labels)``."""
    from sklearn.datasets import make_circles

    if not 0 < factor < 1:
        raise InvalidArgumentError(f"`factor` must lie in (0, 1); received {factor!r}.")
    x, y = make_circles(check_positive_int("n", n), noise=check_non_negative("noise", noise), factor=factor,
                        random_state=seed)
    return x.astype("float32"), y.astype("int32")


def ring_of_gaussians(n=3000, modes=8, radius=2.0, std=0.02, seed=0):
    """``modes`` Gaussians of standard deviation ``std`` evenly spaced on a circle of ``radius``.

    Returns ``(points (n, 2), mode index (n,), centers (modes, 2))``: the standard mode-collapse test set.
    """
    n = check_positive_int("n", n)
    modes = check_positive_int("modes", modes)
    std = check_non_negative("std", std)
    rng = np.random.default_rng(seed)
    angles = 2 * np.pi * np.arange(modes) / modes
    centers = radius * np.stack([np.cos(angles), np.sin(angles)], axis=1)
    which = rng.integers(0, modes, size=n)
    points = centers[which] + std * rng.standard_normal((n, 2))
    return points.astype("float32"), which.astype("int32"), centers.astype("float32")


def standardize(train, *others):
    """Standardize ``train`` to zero mean and unit variance per feature; apply the same map to ``others``.

    Returns ``(train_std, *others_std, (mean, std))``.
    """
    train = np.asarray(train, dtype="float32")
    mean, std = train.mean(axis=0), train.std(axis=0)
    std = np.where(std > 0, std, 1.0).astype("float32")
    out = [(train - mean) / std] + [(np.asarray(o, dtype="float32") - mean) / std for o in others]
    return (*out, (mean, std))
