"""Generation from a plain autoencoder: fit a Gaussian ``N(mu, Sigma)`` to the training codes, decode samples.

This is the lectures' ``q(z)``: a deterministic autoencoder has no prior, so sampling needs a density over its
codes; the simplest is a full-covariance Gaussian fitted by maximum likelihood.
"""

__all__ = ["GaussianLatentSampler"]

import json

import numpy as np

from keras_ae.errors import InvalidArgumentError, InvalidDataError, NotFittedError, check_positive_int
from keras_ae.ops.arrays import check_output_memory


class GaussianLatentSampler:
    """``fit(model, x)`` (or ``fit_codes(z)``), then ``sample(n)`` images or ``sample_codes(n)``.

    Reproducible: ``sample(n, seed=s)`` is a pure function of the fitted parameters and ``s``; the
    parameters save to and load from JSON (:meth:`save` / :meth:`load`) or a dict (``get_config``).
    """

    def __init__(self, mean=None, covariance=None, jitter=1e-6):
        self.jitter = float(jitter)
        self.mean = None if mean is None else np.asarray(mean, dtype="float64")
        self.covariance = None if covariance is None else np.asarray(covariance, dtype="float64")
        if self.mean is not None:
            self._check()

    def _check(self):
        d = self.mean.shape[-1]
        if self.mean.ndim != 1 or self.covariance is None or self.covariance.shape != (d, d):
            raise InvalidArgumentError("mean must have shape (d,) and covariance (d, d); received "
                                       f"{self.mean.shape} and "
                                       f"{None if self.covariance is None else self.covariance.shape}.")

    @property
    def fitted(self):
        return self.mean is not None

    def fit_codes(self, z):
        z = np.asarray(z, dtype="float64")
        if z.ndim != 2 or len(z) < 2:
            raise InvalidDataError(f"Codes must have shape (n >= 2, latent_dim); received {z.shape}.")
        if not np.isfinite(z).all():
            raise InvalidDataError("The codes contain NaN or inf values.")
        self.mean = z.mean(0)
        self.covariance = np.atleast_2d(np.cov(z, rowvar=False)) + self.jitter * np.eye(z.shape[1])
        return self

    def fit(self, model, x):
        """Fit to ``model.encode(x)``; remembers ``model`` for :meth:`sample`."""
        self.model = model
        return self.fit_codes(model.encode(x))

    def sample_codes(self, n, seed=0):
        if not self.fitted:
            raise NotFittedError("GaussianLatentSampler is not fitted: call `fit(model, x)` or `fit_codes(z)` first.")
        n = check_output_memory(check_positive_int("n", n), self.mean.shape, "GaussianLatentSampler.sample_codes",
                                copies=3, itemsize=8)
        rng = np.random.default_rng(seed)
        return rng.multivariate_normal(self.mean, self.covariance, size=n, method="cholesky").astype("float32")

    def sample(self, n, seed=0, model=None):
        """Decode ``n`` codes drawn from the fitted Gaussian (numpy images)."""
        model = model or getattr(self, "model", None)
        if model is None:
            raise InvalidArgumentError("No model to decode with: pass `model=` or fit the sampler with "
                                       "`fit(model, x)`.")
        check_output_memory(check_positive_int("n", n), model.input_shape, "GaussianLatentSampler.sample")
        return model.decode(self.sample_codes(n, seed))

    def log_prob(self, z):
        """Log-density of codes under the fitted Gaussian (nats)."""
        z = np.asarray(z, dtype="float64") - self.mean
        d = len(self.mean)
        chol = np.linalg.cholesky(self.covariance)
        sol = np.linalg.solve(chol, z.T)
        return -0.5 * np.sum(sol**2, 0) - np.log(np.diag(chol)).sum() - 0.5 * d * np.log(2 * np.pi)

    def get_config(self):
        return {"mean": None if self.mean is None else self.mean.tolist(),
                "covariance": None if self.covariance is None else self.covariance.tolist(),
                "jitter": self.jitter}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def save(self, path):
        with open(path, "w") as f:
            json.dump(self.get_config(), f)

    @classmethod
    def load(cls, path):
        with open(path) as f:
            return cls.from_config(json.load(f))
