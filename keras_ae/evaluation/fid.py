"""Sample-quality measures for generative models: a *domain* Frechet distance and the ring-of-Gaussians
mode test.

**Domain "FID", not Inception FID.** :func:`domain_fid` is the Frechet distance between Gaussians fitted
to features of real and generated images (Heusel et al. 2017), but the features come from a *small
classifier trained on the same labelled data* (:func:`train_feature_classifier`, e.g. on MNIST), not
from Inception-v3 on ImageNet. Its values are comparable only between runs that use the same feature
network (same data, architecture, seed); they are not comparable with published FID numbers.
"""

__all__ = [
    "frechet_distance",
    "feature_statistics",
    "train_feature_classifier",
    "FeatureNetwork",
    "domain_fid",
    "ring_mode_coverage",
]

import numpy as np

from keras_ae.errors import InvalidArgumentError, InvalidDataError


def frechet_distance(mu1, sigma1, mu2, sigma2):
    """``||mu1 - mu2||^2 + Tr(S1 + S2 - 2 (S1 S2)^(1/2))`` for two Gaussians (float64, clipped at 0)."""
    mu1, mu2 = np.atleast_1d(np.asarray(mu1, "float64")), np.atleast_1d(np.asarray(mu2, "float64"))
    s1, s2 = np.atleast_2d(np.asarray(sigma1, "float64")), np.atleast_2d(np.asarray(sigma2, "float64"))
    if mu1.shape != mu2.shape or s1.shape != s2.shape or s1.shape != (len(mu1), len(mu1)):
        raise InvalidArgumentError(
            f"frechet_distance needs means of equal length d and (d, d) covariances; received means "
            f"{mu1.shape}, {mu2.shape} and covariances {s1.shape}, {s2.shape}."
        )
    # Tr((S1 S2)^(1/2)) = sum of sqrt(eigenvalues of S1^(1/2) S2 S1^(1/2)), a symmetric PSD matrix:
    # stable for the singular covariances that dead ReLU features give (scipy's sqrtm is not).
    s1, s2 = (s1 + s1.T) / 2.0, (s2 + s2.T) / 2.0
    vals, vecs = np.linalg.eigh(s1)
    root1 = (vecs * np.sqrt(np.clip(vals, 0.0, None))) @ vecs.T
    inner = np.linalg.eigvalsh(root1 @ s2 @ root1)
    tr_covmean = float(np.sum(np.sqrt(np.clip(inner, 0.0, None))))
    diff = mu1 - mu2
    return float(max(diff.dot(diff) + np.trace(s1) + np.trace(s2) - 2.0 * tr_covmean, 0.0))


def feature_statistics(features):
    """Mean and covariance (rows are examples) of a ``(n, d)`` feature matrix."""
    features = np.asarray(features, "float64")
    if features.ndim != 2 or len(features) < 2:
        raise InvalidDataError(f"Feature statistics need a (n >= 2, d) matrix; received shape {features.shape}.")
    return features.mean(axis=0), np.cov(features, rowvar=False)


class FeatureNetwork:
    """A small convolutional classifier and its penultimate-layer features.

    ``features(x)`` -> ``(n, feature_dim)``; ``predict(x)`` -> class indices; ``accuracy(x, y)``.
    Built by :func:`train_feature_classifier`.
    """

    def __init__(self, classifier, feature_layer="features"):
        import keras

        self.classifier = classifier
        self.feature_model = keras.Model(classifier.inputs, classifier.get_layer(feature_layer).output)

    @property
    def input_shape(self):
        return tuple(int(s) for s in self.classifier.inputs[0].shape[1:])

    def _check(self, x):
        x = np.asarray(x, "float32")
        if x.ndim != 4 or tuple(x.shape[1:]) != self.input_shape:
            raise InvalidDataError("The feature network takes images of shape (n, "
                                   f"{', '.join(map(str, self.input_shape))})"
                                   f"; received {x.shape}.")
        return x

    def features(self, x, batch_size=500):
        return np.asarray(self.feature_model.predict(self._check(x), batch_size=batch_size, verbose=0))

    def predict(self, x, batch_size=500):
        return np.argmax(self.classifier.predict(self._check(x), batch_size=batch_size, verbose=0), axis=-1)

    def accuracy(self, x, y):
        return float(np.mean(self.predict(x) == np.asarray(y)))


def train_feature_classifier(x, y, num_classes=None, epochs=3, batch_size=128, feature_dim=64, seed=0, verbose=0):
    """Train a small conv classifier on labelled images ``(x, y)``; return a :class:`FeatureNetwork`.

    Architecture: Conv(32, 3, stride 2) - Conv(64, 3, stride 2) - Dense(feature_dim, "features") - softmax.
    """
    import keras

    x = np.asarray(x, "float32")
    y = np.asarray(y).astype("int32")
    if x.ndim != 4:
        raise InvalidDataError(f"The feature classifier trains on images (n, height, width, channels); got {x.shape}.")
    if len(y) != len(x):
        raise InvalidDataError(f"Got {len(y)} labels for {len(x)} images.")
    num_classes = int(num_classes or (y.max() + 1))
    keras.utils.set_random_seed(seed)
    inputs = keras.Input(x.shape[1:])
    h = keras.layers.Conv2D(32, 3, strides=2, padding="same", activation="relu")(inputs)
    h = keras.layers.Conv2D(64, 3, strides=2, padding="same", activation="relu")(h)
    h = keras.layers.Flatten()(h)
    h = keras.layers.Dense(feature_dim, activation="relu", name="features")(h)
    out = keras.layers.Dense(num_classes, activation="softmax", name="probs")(h)
    model = keras.Model(inputs, out, name="feature_classifier")
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y, epochs=epochs, batch_size=batch_size, verbose=verbose, shuffle=True)
    return FeatureNetwork(model)


def domain_fid(feature_network, real, generated, real_stats=None):
    """Domain Frechet distance between ``real`` and ``generated`` images in the features of
    ``feature_network`` (a :class:`FeatureNetwork`). Not Inception FID: see the module docstring.
    ``real_stats`` (mean, covariance) skips recomputing the real statistics."""
    mu_r, s_r = real_stats if real_stats is not None else feature_statistics(feature_network.features(real))
    mu_g, s_g = feature_statistics(feature_network.features(generated))
    return frechet_distance(mu_r, s_r, mu_g, s_g)


def ring_mode_coverage(samples, centers, std, threshold=3.0, min_count=1):
    """The ring-of-Gaussians mode test (as in VEEGAN, Srivastava et al. 2017).

    A sample is *high quality* if it lies within ``threshold`` standard deviations (``threshold * std``,
    Euclidean) of its nearest mode center; a mode is *covered* if at least ``min_count`` high-quality
    samples have it as nearest center. Returns a dict: ``modes_covered``, ``num_modes``,
    ``high_quality_share`` (of all samples) and ``per_mode`` (high-quality counts per mode).
    """
    samples = np.asarray(samples, "float64")
    centers = np.asarray(centers, "float64")
    if samples.ndim != 2 or centers.ndim != 2 or samples.shape[1] != centers.shape[1]:
        raise InvalidDataError(f"samples (n, d) and centers (modes, d) must share d; received {samples.shape} and "
                               f"{centers.shape}.")
    if len(samples) == 0:
        raise InvalidArgumentError("ring_mode_coverage needs at least one sample.")
    if not float(std) > 0:
        raise InvalidArgumentError(f"`std` must be > 0; received {std!r}.")
    finite = np.isfinite(samples).all(axis=1)
    dist = np.linalg.norm(samples[:, None, :] - centers[None, :, :], axis=-1)
    dist[~finite] = np.inf
    nearest = np.argmin(dist, axis=1)
    good = (dist[np.arange(len(samples)), nearest] <= threshold * float(std)) & finite
    per_mode = np.bincount(nearest[good], minlength=len(centers))
    return {
        "modes_covered": int(np.sum(per_mode >= min_count)),
        "num_modes": int(len(centers)),
        "high_quality_share": float(np.mean(good)),
        "per_mode": per_mode.tolist(),
    }
