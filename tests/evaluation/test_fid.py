"""Domain Frechet distance and the ring-of-Gaussians mode test."""

import numpy as np
import pytest

from keras_ae.data.synthetic import ring_of_gaussians
from keras_ae.evaluation.fid import (
    domain_fid,
    feature_statistics,
    frechet_distance,
    ring_mode_coverage,
    train_feature_classifier,
)


def test_frechet_distance_closed_forms():
    mu, cov = np.array([1.0, -2.0]), np.array([[2.0, 0.3], [0.3, 1.0]])
    assert frechet_distance(mu, cov, mu, cov) == pytest.approx(0.0, abs=1e-6)
    # 1-D: (m1 - m2)^2 + (s1 - s2)^2
    assert frechet_distance([0.0], [[4.0]], [3.0], [[1.0]]) == pytest.approx(9.0 + 1.0, rel=1e-6)
    # diagonal covariances: sum over dimensions
    d = frechet_distance(np.zeros(3), np.diag([1.0, 4.0, 9.0]), np.ones(3), np.diag([4.0, 4.0, 1.0]))
    assert d == pytest.approx(3.0 + (1 + 0 + 4), rel=1e-6)
    with pytest.raises(ValueError, match="means of equal length"):
        frechet_distance(np.zeros(2), np.eye(2), np.zeros(3), np.eye(3))


def test_feature_statistics_checks_shape():
    mu, cov = feature_statistics(np.random.default_rng(0).normal(size=(500, 3)))
    assert mu.shape == (3,) and cov.shape == (3, 3)
    with pytest.raises(ValueError, match="n >= 2"):
        feature_statistics(np.zeros((1, 3)))


def test_ring_mode_coverage():
    x, which, centers = ring_of_gaussians(4000, std=0.02, seed=0)
    perfect = ring_mode_coverage(x, centers, 0.02)
    assert perfect["modes_covered"] == 8
    assert perfect["high_quality_share"] > 0.97  # 3-sigma radius in 2-D holds ~98.9%
    collapsed = ring_mode_coverage(x[which == 3], centers, 0.02)
    assert collapsed["modes_covered"] == 1 and collapsed["per_mode"][3] > 0.95 * np.sum(which == 3)
    assert sum(collapsed["per_mode"]) == collapsed["per_mode"][3]
    blurry = ring_mode_coverage(x * 0.5, centers, 0.02)  # every point halfway to the origin
    assert blurry["modes_covered"] == 0 and blurry["high_quality_share"] == 0.0
    nan = ring_mode_coverage(np.full((5, 2), np.nan), centers, 0.02)
    assert nan["high_quality_share"] == 0.0
    with pytest.raises(ValueError, match="share d"):
        ring_mode_coverage(np.zeros((5, 3)), centers, 0.02)


def test_domain_fid_orders_real_noise_and_a_shifted_set():
    from sklearn.datasets import load_digits

    digits = load_digits()
    x = np.zeros((len(digits.images), 8, 8, 1), "float32")
    x[..., 0] = digits.images / 16.0
    y = digits.target.astype("int32")
    net = train_feature_classifier(x[:1200], y[:1200], epochs=8, batch_size=64, seed=0)
    assert net.accuracy(x[1200:], y[1200:]) > 0.7
    assert net.features(x[:5]).shape == (5, 64)
    real, other = x[1200:1500], x[1500:]
    same = domain_fid(net, real, other)
    noise = domain_fid(net, real, np.random.default_rng(0).uniform(0, 1, other.shape).astype("float32"))
    ones_only = domain_fid(net, real, other[y[1500:] == 1])  # mode collapse onto one class
    darker = domain_fid(net, real, other * 0.3)
    assert same < 0.25 * min(noise, ones_only, darker)
    with pytest.raises(ValueError, match="images of shape"):
        net.features(np.zeros((2, 28, 28, 1)))
