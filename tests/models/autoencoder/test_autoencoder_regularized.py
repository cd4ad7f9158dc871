import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest
from keras import ops

import keras_ae
from keras_ae.layers.corruption import PixelRemoval
from keras_ae.models.autoencoder.autoencoder_regularized import (
    ContractiveAutoencoder,
    DenoisingAutoencoder,
    dense_sigmoid_layer,
    finite_difference_jacobian_sq,
)
from keras_ae.ops.autodiff import jacobian_frobenius_sq


def _x(n=6, shape=(4, 4, 1), seed=0):
    return np.random.default_rng(seed).uniform(size=(n,) + shape).astype("float32")


def _numpy_fn(encoder):
    return lambda a: ops.convert_to_numpy(encoder(a))


def test_closed_form_penalty_matches_finite_differences():
    model = keras_ae.zoo.contractive_ae(input_shape=(4, 4, 1), latent_dim=5)
    assert model.closed_form
    x = _x()
    exact = ops.convert_to_numpy(model.jacobian_penalty(x))
    fd = finite_difference_jacobian_sq(_numpy_fn(model.encoder), x)
    np.testing.assert_allclose(exact, fd, rtol=2e-2)


def test_autodiff_penalty_matches_finite_differences_and_closed_form():
    deep = keras_ae.zoo.deep_contractive_ae(input_shape=(4, 4, 1), latent_dim=3, hidden=(8,), activation="tanh")
    assert not deep.closed_form
    x = _x()
    auto = ops.convert_to_numpy(deep.jacobian_penalty(x))
    fd = finite_difference_jacobian_sq(_numpy_fn(deep.encoder), x)
    np.testing.assert_allclose(auto, fd, rtol=2e-2)
    shallow = keras_ae.zoo.contractive_ae(input_shape=(4, 4, 1), latent_dim=5)
    via_autodiff = ops.convert_to_numpy(jacobian_frobenius_sq(lambda a: shallow.encoder(a), ops.convert_to_tensor(x)))
    np.testing.assert_allclose(via_autodiff, ops.convert_to_numpy(shallow.jacobian_penalty(x)), rtol=1e-4)


_OTHER_BACKEND = """
import json, numpy as np, keras, keras_ae
from keras import ops
from keras_ae.models.autoencoder.autoencoder_regularized import finite_difference_jacobian_sq
keras.utils.set_random_seed(0)
m = keras_ae.zoo.deep_contractive_ae(input_shape=(3, 3, 1), latent_dim=2, hidden=(4,), activation="tanh")
x = np.random.default_rng(0).uniform(size=(3, 3, 3, 1)).astype("float32")
auto = ops.convert_to_numpy(m.jacobian_penalty(x))
fd = finite_difference_jacobian_sq(lambda a: ops.convert_to_numpy(m.encoder(a)), x)
print(json.dumps({"auto": auto.tolist(), "fd": fd.tolist(), "backend": keras.backend.backend()}))
"""


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["torch", "jax"])
def test_autodiff_penalty_on_other_backends(backend):
    env = dict(os.environ, KERAS_BACKEND=backend, TF_CPP_MIN_LOG_LEVEL="2")
    proc = subprocess.run([sys.executable, "-c", _OTHER_BACKEND], capture_output=True, text=True, env=env,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["backend"] == backend
    np.testing.assert_allclose(out["auto"], out["fd"], rtol=2e-2)


def test_contractive_loss_adds_the_weighted_penalty():
    x = _x(8)
    logs = {}
    for c in (0.0, 10.0):
        model = keras_ae.zoo.contractive_ae(input_shape=(4, 4, 1), latent_dim=5, contraction=c)
        if c:
            model.set_weights(ref_weights)
        else:
            ref_weights = model.get_weights()
        logs[c] = model.evaluate(x, batch_size=8, verbose=0, return_dict=True)
    assert logs[10.0]["contractive_loss"] > 0
    np.testing.assert_allclose(logs[10.0]["loss"], logs[0.0]["loss"] + 10.0 * logs[10.0]["contractive_loss"], rtol=1e-4)


def test_dense_sigmoid_detection():
    enc = keras_ae.zoo.contractive_ae(input_shape=(4, 4, 1), latent_dim=3).encoder
    assert dense_sigmoid_layer(enc) is not None
    relu = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, activation="relu")])
    assert dense_sigmoid_layer(relu) is None


def test_denoising_corrupts_only_in_training_and_loss_targets_clean():
    model = keras_ae.zoo.denoising_ae(input_shape=(8, 8, 1), latent_dim=4, filters=(4,), dense_units=8,
                                      corruption="pixel_removal", removal_rate=0.5, seed=0)
    x = _x(4, (8, 8, 1))
    a = ops.convert_to_numpy(model(x, training=False)["reconstruction"])
    np.testing.assert_array_equal(a, model.reconstruct(x))
    # the network on clean input equals training=False output; in training the input is corrupted
    z_clean = model.encode(x)
    z_train = ops.convert_to_numpy(model(x, training=True)["z"])
    assert not np.allclose(z_clean, z_train)
    corrupted = model.corrupt(x)
    assert ((corrupted == 0).mean() > 0.3) and np.allclose(corrupted[corrupted != 0], x[corrupted != 0])
    # the loss compares with the clean images: zero-corruption-rate model == plain reconstruction NLL
    plain = keras_ae.zoo.denoising_ae(input_shape=(8, 8, 1), latent_dim=4, filters=(4,), dense_units=8,
                                      corruption="pixel_removal", removal_rate=0.0)
    y_pred = plain(x, training=True)
    loss = float(plain.compute_loss(x, None, y_pred, training=True))
    ref = float(ops.mean(plain.reconstruction_nll(x, y_pred["decoder_output"])))
    np.testing.assert_allclose(loss, ref, rtol=1e-5)


def test_denoising_learns_to_restore_removed_pixels():
    keras.utils.set_random_seed(0)
    # structured data: each image is one of 4 fixed patterns
    rng = np.random.default_rng(0)
    patterns = (rng.uniform(size=(4, 8, 8, 1)) > 0.5).astype("float32")
    x = patterns[rng.integers(0, 4, 512)]
    model = keras_ae.zoo.denoising_ae(input_shape=(8, 8, 1), latent_dim=4, filters=(8,), dense_units=32,
                                      corruption="pixel_removal", removal_rate=0.5, seed=0, learning_rate=1e-2)
    model.fit(x, epochs=6, batch_size=128, verbose=0)
    corrupted = model.corrupt(x[:64])
    err_corrupted = np.mean((corrupted - x[:64]) ** 2)
    err_restored = np.mean((model.restore(corrupted) - x[:64]) ** 2)
    assert err_restored < 0.5 * err_corrupted


def test_denoising_rejects_a_non_corruption_layer_and_bad_block():
    enc = keras_ae.zoo.conv_ae(input_shape=(8, 8, 1), latent_dim=2, filters=(4,), dense_units=8)
    with pytest.raises(ValueError, match="corruption layer"):
        DenoisingAutoencoder(enc.encoder, enc.decoder, keras.layers.Dropout(0.5))
    with pytest.raises(ValueError, match="larger than the images"):
        keras_ae.zoo.denoising_ae(input_shape=(8, 8, 1), latent_dim=2, filters=(4,), corruption="block",
                                  block_size=16)
    with pytest.raises(ValueError, match=r"\[0, 1\)"):
        keras_ae.zoo.denoising_ae(input_shape=(8, 8, 1), corruption="pixel_removal", removal_rate=1.0)


def test_contractive_rejects_negative_weight():
    m = keras_ae.zoo.contractive_ae(input_shape=(4, 4, 1), latent_dim=2)
    with pytest.raises(ValueError, match="contraction"):
        ContractiveAutoencoder(m.encoder, m.decoder, contraction=-1.0)


def test_dense_denoising_pulls_points_toward_the_manifold():
    from keras_ae.data.patches import noisy_manifold

    keras.utils.set_random_seed(0)
    _, clean = noisy_manifold(2048, noise=0.0, seed=0)
    model = keras_ae.zoo.dense_denoising_ae(noise_sigma=0.1, hidden=(32, 32), seed=0, learning_rate=1e-2)
    model.fit(clean, epochs=12, batch_size=128, verbose=0)
    noisy, _ = noisy_manifold(300, noise=0.1, seed=1)
    _, curve = noisy_manifold(5000, noise=0.0, seed=2)

    def dist(p):
        return np.sqrt(((p[:, None] - curve[None]) ** 2).sum(-1)).min(1).mean()

    assert dist(model.reconstruct(noisy)) < 0.8 * dist(noisy)


def test_seeded_evaluation_corruption_is_reproducible():
    model = keras_ae.zoo.denoising_ae(input_shape=(8, 8, 1), latent_dim=2, filters=(4,), dense_units=8,
                                      corruption="gaussian_noise", noise_sigma=0.5)
    x = _x(4, (8, 8, 1))
    np.testing.assert_array_equal(model.corrupt(x, seed=5), model.corrupt(x, seed=5))
    assert not np.allclose(model.corrupt(x, seed=5), model.corrupt(x, seed=6))
