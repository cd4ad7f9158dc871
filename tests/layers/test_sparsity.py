import keras
import numpy as np
import pytest
from keras import ops

import keras_ae
from keras_ae.layers.sparsity import ActivityL1, KLSparsity, KSparse, kl_sparsity_penalty


def _h(n=8, d=6, seed=0):
    return np.random.default_rng(seed).uniform(0.01, 0.99, size=(n, d)).astype("float32")


def test_l1_penalty_value_and_identity():
    h = _h() - 0.5
    layer = ActivityL1(l1=0.1)
    out = ops.convert_to_numpy(layer(h))
    np.testing.assert_array_equal(out, h)
    assert len(layer.losses) == 1
    np.testing.assert_allclose(float(layer.losses[0]), 0.1 * np.abs(h).sum(1).mean(), rtol=1e-5)


def test_kl_penalty_matches_formula_and_vanishes_at_target():
    h = _h()
    rho, rho_hat = 0.05, h.mean(0).astype("float64")
    expected = np.sum(rho * np.log(rho / rho_hat) + (1 - rho) * np.log((1 - rho) / (1 - rho_hat)))
    layer = KLSparsity(rho=rho, weight=2.0)
    layer(h)
    np.testing.assert_allclose(float(layer.losses[0]), 2.0 * expected, rtol=1e-4)
    at_target = np.full((4, 6), 0.05, "float32")
    assert abs(float(kl_sparsity_penalty(0.05, at_target.mean(0)))) < 1e-6


def test_k_sparse_keeps_k_largest_magnitudes():
    h = np.random.default_rng(1).normal(size=(5, 10)).astype("float32")
    out = ops.convert_to_numpy(KSparse(3)(h))
    assert ((out != 0).sum(1) == 3).all()
    for row, orig in zip(out, h):
        kept = np.sort(np.argsort(-np.abs(orig))[:3])
        np.testing.assert_array_equal(np.flatnonzero(row), kept)
        np.testing.assert_array_equal(row[kept], orig[kept])


def test_penalties_reach_the_autoencoder_loss():
    model = keras_ae.zoo.sparse_ae(input_shape=(4, 4, 1), code_units=8, penalty="kl", sparsity_weight=5.0)
    x = np.random.default_rng(0).uniform(size=(16, 4, 4, 1)).astype("float32")
    logs = model.evaluate(x, batch_size=16, verbose=0, return_dict=True)
    # loss = reconstruction + KL term > reconstruction
    assert logs["loss"] > logs["reconstruction_loss"] + 1e-3
    l1 = keras_ae.zoo.sparse_ae(input_shape=(4, 4, 1), code_units=8, penalty="l1", l1=0.0)
    logs = l1.evaluate(x, batch_size=16, verbose=0, return_dict=True)
    np.testing.assert_allclose(logs["loss"], logs["reconstruction_loss"], rtol=1e-5)


def test_kl_training_lowers_mean_activation():
    keras.utils.set_random_seed(0)
    x = np.random.default_rng(0).uniform(size=(256, 4, 4, 1)).astype("float32")
    model = keras_ae.zoo.sparse_ae(input_shape=(4, 4, 1), code_units=16, penalty="kl", rho=0.05,
                                   sparsity_weight=3.0, learning_rate=1e-2)
    before = model.encode(x).mean()
    model.fit(x, epochs=20, batch_size=64, verbose=0)
    after = model.encode(x).mean()
    assert after < before and after < 0.2


@pytest.mark.parametrize("rho", [0.0, 1.0, -0.5, 2])
def test_rho_outside_open_interval_is_rejected(rho):
    with pytest.raises(ValueError, match=r"rho.*\(0, 1\)"):
        KLSparsity(rho=rho)


def test_k_larger_than_code_is_rejected():
    with pytest.raises(ValueError, match="only 4 units"):
        KSparse(5)(np.ones((2, 4), "float32"))
    with pytest.raises(ValueError, match="only 8 units"):
        keras_ae.zoo.sparse_ae(input_shape=(4, 4, 1), code_units=8, penalty="ksparse", k=9)
    with pytest.raises(ValueError, match="penalty"):
        keras_ae.zoo.sparse_ae(penalty="l2")


def test_config_round_trip():
    for layer in (ActivityL1(0.2), KLSparsity(0.1, 3.0), KSparse(4)):
        assert type(layer).from_config(layer.get_config()).get_config() == layer.get_config()
