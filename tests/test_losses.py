import math

import numpy as np
import pytest
from keras import ops

from keras_ae import losses


def test_bernoulli_nll_matches_binary_cross_entropy_and_is_stable():
    rng = np.random.default_rng(0)
    x = rng.uniform(size=(4, 3, 3, 1)).astype("float32")
    logits = rng.normal(scale=3, size=x.shape).astype("float32")
    p = 1 / (1 + np.exp(-logits))
    expected = -(x * np.log(p) + (1 - x) * np.log(1 - p)).reshape(4, -1).sum(1)
    got = ops.convert_to_numpy(losses.bernoulli_nll(x, logits))
    np.testing.assert_allclose(got, expected, rtol=1e-5)
    extreme = ops.convert_to_numpy(losses.bernoulli_nll(np.array([[1.0, 0.0]]), np.array([[-100.0, 100.0]])))
    assert np.isfinite(extreme).all() and extreme[0] == pytest.approx(200.0, rel=1e-6)


def test_gaussian_kl_closed_form():
    assert ops.convert_to_numpy(losses.gaussian_kl(np.zeros((2, 3)), np.zeros((2, 3)))).tolist() == [0.0, 0.0]
    mu = np.array([[1.0, -2.0]], "float32")
    log_var = np.array([[0.5, -1.0]], "float32")
    expected = 0.5 * np.sum(np.exp(log_var) + mu**2 - 1 - log_var)
    assert float(ops.convert_to_numpy(losses.gaussian_kl(mu, log_var))[0]) == pytest.approx(expected, rel=1e-6)


def test_gaussian_nll_and_log_prob_match_the_density():
    x = np.array([[0.3, -1.2]], "float32")
    mean = np.array([[0.0, 0.5]], "float32")
    sigma = 0.7
    logpdf = -0.5 * ((x - mean) / sigma) ** 2 - math.log(sigma) - 0.5 * math.log(2 * math.pi)
    got = ops.convert_to_numpy(losses.gaussian_nll(x, mean, math.log(sigma)))
    assert float(got[0]) == pytest.approx(-logpdf.sum(), rel=1e-6)
    lp = ops.convert_to_numpy(losses.gaussian_log_prob(x, mean, 2 * math.log(sigma)))
    assert float(lp[0]) == pytest.approx(logpdf.sum(), rel=1e-6)


def test_loss_terms_are_float32_even_for_float16_inputs():
    out = losses.gaussian_kl(np.zeros((2, 3), "float16"), np.zeros((2, 3), "float16"))
    assert ops.convert_to_numpy(out).dtype == np.float32


def test_weighted_mean():
    v = np.array([1.0, 3.0], "float32")
    assert float(ops.convert_to_numpy(losses.weighted_mean(v))) == 2.0
    assert float(ops.convert_to_numpy(losses.weighted_mean(v, np.array([1.0, 0.0])))) == 1.0
