import numpy as np
import pytest

import keras_ae
from keras_ae.models.autoencoder import GaussianLatentSampler


def test_gaussian_sampler_fits_moments_and_reproduces(tmp_path):
    rng = np.random.default_rng(0)
    cov = np.array([[2.0, 0.8], [0.8, 1.0]])
    z = rng.multivariate_normal([1.0, -2.0], cov, size=20000)
    s = GaussianLatentSampler().fit_codes(z)
    np.testing.assert_allclose(s.mean, [1.0, -2.0], atol=0.05)
    np.testing.assert_allclose(s.covariance, cov, atol=0.06)
    np.testing.assert_array_equal(s.sample_codes(5, seed=3), s.sample_codes(5, seed=3))
    path = tmp_path / "sampler.json"
    s.save(path)
    t = GaussianLatentSampler.load(path)
    np.testing.assert_array_equal(t.sample_codes(5, seed=3), s.sample_codes(5, seed=3))
    assert np.isfinite(t.log_prob(z[:3])).all()


def test_gaussian_sampler_decodes_through_an_autoencoder():
    model = keras_ae.zoo.conv_ae(input_shape=(8, 8, 1), latent_dim=3, filters=(4,), dense_units=8)
    x = np.random.default_rng(0).uniform(size=(32, 8, 8, 1)).astype("float32")
    s = GaussianLatentSampler().fit(model, x)
    images = s.sample(6, seed=0)
    assert images.shape == (6, 8, 8, 1) and images.min() >= 0 and images.max() <= 1
    np.testing.assert_allclose(s.mean, model.encode(x).mean(0), atol=1e-5)


def test_unfitted_sampler_errors():
    with pytest.raises(ValueError, match="not fitted"):
        GaussianLatentSampler().sample_codes(3)
    with pytest.raises(ValueError, match="shape"):
        GaussianLatentSampler().fit_codes(np.zeros(5))
