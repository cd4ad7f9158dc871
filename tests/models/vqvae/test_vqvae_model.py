"""VQVAE: code indices, decoding, the PixelCNN prior, sampling, fresh-process reload, input errors."""

import os
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest

import keras_ae
from keras_ae import zoo
from keras_ae.models.vqvae import VQVAE
from keras_ae.models.vqvae.vqvae_networks import vq_conv_decoder, vq_conv_encoder
from keras_ae.models.vqvae.vqvae_zoo import TINY


def _np(t):
    return keras.ops.convert_to_numpy(t)


def _images(n=32, seed=0):
    rng = np.random.default_rng(seed)
    x = np.zeros((n, 8, 8, 1), "float32")
    for k in range(n):  # a few distinct bar patterns, so codes and the prior have structure to learn
        if k % 2:
            x[k, :, rng.integers(0, 8)] = 1.0
        else:
            x[k, rng.integers(0, 8), :] = 1.0
    return x


@pytest.fixture(scope="module")
def trained():
    keras.utils.set_random_seed(0)
    model = zoo.create("vq_vae", **TINY, seed=0)
    x = _images(64)
    model.fit(x, epochs=3, batch_size=16, verbose=0)
    prior_before = [_np(v).copy() for v in model.prior.weights]
    history = model.fit_prior(x, epochs=20, batch_size=32, verbose=0)
    return model, x, prior_before, history


def test_indices_round_trip_and_shapes(trained):
    model, x, _, _ = trained
    idx = model.encode_indices(x)
    assert idx.shape == (64, 2, 2) and idx.dtype == np.int32
    assert idx.min() >= 0 and idx.max() < model.num_embeddings
    np.testing.assert_allclose(model.decode_indices(idx), model.reconstruct(x), atol=1e-5)
    np.testing.assert_array_equal(model.encode_indices(x[0]), idx[0])  # one image -> one grid
    out = model(x[:4], training=False)
    np.testing.assert_array_equal(_np(out["indices"]), idx[:4])
    np.testing.assert_allclose(_np(out["quantized"]), model.quantizer.codebook()[idx[:4]], atol=1e-5)
    assert model.latent_dim == 2 * 2 * 4 and model.grid_shape == (2, 2)
    usage = model.codebook_usage(x)
    assert usage["counts"].sum() == 64 * 4 and 1.0 <= usage["perplexity"] <= model.num_embeddings


def test_fit_reports_vq_metrics_and_leaves_the_prior_alone():
    keras.utils.set_random_seed(1)
    model = zoo.create("vq_vae", **TINY, seed=1)
    prior = [_np(v).copy() for v in model.prior.weights]
    assert not any(v is w for v in model.trainable_variables for w in model.prior.weights)
    hist = model.fit(_images(32), epochs=1, batch_size=16, verbose=0).history
    for key in ("loss", "reconstruction_loss", "mse", "vq_loss", "quantization_error", "perplexity", "codes_in_use"):
        assert np.isfinite(hist[key][-1]), key
    assert 1.0 <= hist["perplexity"][-1] <= 8.0 and 0.0 < hist["codes_in_use"][-1] <= 1.0
    for a, b in zip(prior, model.prior.weights):
        np.testing.assert_array_equal(a, _np(b))


def test_fit_prior_learns_and_sampling_is_seeded(trained):
    model, x, prior_before, history = trained
    assert any(not np.allclose(a, _np(b)) for a, b in zip(prior_before, model.prior.weights))
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert model.prior_nll(x) < np.log(model.num_embeddings)  # better than a uniform prior
    assert model.is_prior_fitted
    s1, s2 = model.sample(6, seed=3), model.sample(6, seed=3)
    assert s1.shape == (6, 8, 8, 1) and np.all((s1 >= 0) & (s1 <= 1))
    np.testing.assert_array_equal(s1, s2)
    assert not np.array_equal(model.sample_indices(20, seed=3), model.sample_indices(20, seed=4))
    idx = model.sample_indices(5, seed=0, temperature=0.5)
    assert idx.shape == (5, 2, 2) and idx.max() < model.num_embeddings


def test_errors_for_bad_input(trained):
    model, _, _, _ = trained
    with pytest.raises(ValueError, match=r"\[0, 7\].*received values in \[8, 8\]"):
        model.decode_indices(np.full((1, 2, 2), 8))
    with pytest.raises(ValueError, match=r"\[0, 7\]"):
        model.decode_indices(np.full((1, 2, 2), -1))
    with pytest.raises(ValueError, match=r"shape \(n, 2, 2\)"):
        model.decode_indices(np.zeros((1, 3, 3), "int32"))
    with pytest.raises(ValueError, match="integers"):
        model.decode_indices(np.full((1, 2, 2), 0.5))
    fresh = zoo.create("vq_vae", **TINY)
    with pytest.raises(ValueError, match="fit_prior"):
        fresh.sample(2)
    encoder = vq_conv_encoder((8, 8, 1), 4, (4, 8), 0)
    decoder = vq_conv_decoder((8, 8, 1), 4, (4, 8), 0)
    with pytest.raises(ValueError, match="embedding_dim=6 does not match the encoder's output channels \\(4"):
        VQVAE(encoder, decoder, num_embeddings=8, embedding_dim=6)
    with pytest.raises(ValueError, match="decoder takes codes"):
        VQVAE(encoder, vq_conv_decoder((8, 8, 1), 3, (4, 8), 0), num_embeddings=8, embedding_dim=4)
    wrong_prior = keras_ae.layers.gated_pixelcnn((2, 2), 5, 4, 1)
    with pytest.raises(ValueError, match="prior must map"):
        VQVAE(encoder, decoder, num_embeddings=8, embedding_dim=4, prior=wrong_prior)
    with pytest.raises(ValueError, match=r"expected \(batch, 8, 8, 1\)"):
        model.fit_prior(np.zeros((4, 9, 9, 1), "float32"), epochs=1, verbose=0)


_RELOAD = textwrap.dedent(
    """
    import sys, numpy as np, keras, keras_ae
    path, data, out = sys.argv[1:4]
    model = keras_ae.load_model(path, safe_mode=True)
    x = np.load(data)["x"]
    q = model.quantizer
    np.savez(out, indices=model.encode_indices(x), samples=model.sample(5, seed=7),
             codebook=q.codebook(), cluster=keras.ops.convert_to_numpy(q.ema_cluster_size),
             embed_sum=keras.ops.convert_to_numpy(q.ema_embed_sum),
             prior=np.concatenate([keras.ops.convert_to_numpy(w).ravel() for w in model.prior.weights]),
             fitted=np.array(model.is_prior_fitted), iterations=np.array(int(model.optimizer.iterations.numpy())),
             n_trainable=np.array(len(model.trainable_variables)))
    """
)


def test_fresh_process_reload_keeps_codebook_ema_statistics_and_prior(trained, tmp_path):
    model, x, _, _ = trained
    path, data, out = (str(tmp_path / n) for n in ("vq.keras", "x.npz", "out.npz"))
    model.save(path)
    np.savez(data, x=x)
    proc = subprocess.run([sys.executable, "-c", _RELOAD, path, data, out], capture_output=True, text=True,
                          env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"), timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    r = np.load(out)
    q = model.quantizer
    np.testing.assert_array_equal(r["indices"], model.encode_indices(x))
    np.testing.assert_array_equal(r["codebook"], q.codebook())
    np.testing.assert_array_equal(r["cluster"], _np(q.ema_cluster_size))
    np.testing.assert_array_equal(r["embed_sum"], _np(q.ema_embed_sum))
    np.testing.assert_array_equal(r["prior"], np.concatenate([_np(w).ravel() for w in model.prior.weights]))
    np.testing.assert_allclose(r["samples"], model.sample(5, seed=7), atol=1e-6)
    assert bool(r["fitted"]) and int(r["iterations"]) == int(_np(model.optimizer.iterations))
    assert int(r["n_trainable"]) == len(model.trainable_variables)
