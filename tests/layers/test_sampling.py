import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_ae import losses
from keras_ae.layers import GaussianSampling


def test_config_round_trip():
    layer = GaussianSampling(kl_weight=2.5, seed=3, name="s")
    clone = GaussianSampling.from_config(layer.get_config())
    assert clone.kl_weight == 2.5 and clone.seed == 3 and clone.name == "s"
    assert keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(layer)).kl_weight == 2.5


def test_inference_returns_the_mean_and_training_samples_around_it():
    layer = GaussianSampling(seed=0)
    mu = np.full((20000, 2), [1.0, -3.0], "float32")
    log_var = np.full((20000, 2), [0.0, np.log(0.25)], "float32")
    z_eval = keras.ops.convert_to_numpy(layer([mu, log_var], training=False))
    np.testing.assert_array_equal(z_eval, mu)
    z = keras.ops.convert_to_numpy(layer([mu, log_var], training=True))
    assert z.shape == (20000, 2)
    np.testing.assert_allclose(z.mean(0), [1.0, -3.0], atol=0.03)
    np.testing.assert_allclose(z.std(0), [1.0, 0.5], rtol=0.03)


def test_seeded_layers_draw_the_same_samples():
    mu, log_var = np.zeros((4, 3), "float32"), np.zeros((4, 3), "float32")
    a = keras.ops.convert_to_numpy(GaussianSampling(seed=7)([mu, log_var], training=True))
    b = keras.ops.convert_to_numpy(GaussianSampling(seed=7)([mu, log_var], training=True))
    np.testing.assert_array_equal(a, b)


def test_adds_weighted_kl_and_passes_gradients():
    layer = GaussianSampling(kl_weight=3.0, seed=0)
    mu = tf.Variable(np.array([[0.5, -1.0], [2.0, 0.0]], "float32"))
    log_var = tf.Variable(np.array([[0.1, -0.3], [0.0, 0.2]], "float32"))
    with tf.GradientTape() as tape:
        z = layer([mu, log_var], training=True)
        total = tf.reduce_sum(z) + sum(layer.losses)
    expected_kl = 3.0 * np.mean(keras.ops.convert_to_numpy(losses.gaussian_kl(mu, log_var)))
    assert len(layer.losses) == 1
    assert float(layer.losses[0]) == pytest.approx(expected_kl, rel=1e-6)
    g_mu, g_lv = tape.gradient(total, [mu, log_var])
    assert np.all(np.isfinite(g_mu)) and np.any(g_lv.numpy() != 0)


def test_negative_kl_weight_is_rejected():
    with pytest.raises(ValueError, match="kl_weight"):
        GaussianSampling(kl_weight=-1.0)
