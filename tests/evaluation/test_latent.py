"""Latent analyses (keras_ae.evaluation.latent) and their figures (keras_ae.plotting_latent)."""

import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest

from keras_ae import data, zoo
from keras_ae.evaluation import latent as L


@pytest.fixture(scope="module")
def digits():
    x, y = data.load_numpy("digits", "train")
    xt, yt = data.load_numpy("digits", "test")
    return x, y, xt, yt


@pytest.fixture(scope="module")
def trained_vae(digits):
    x = digits[0]
    keras.utils.set_random_seed(0)
    model = zoo.dense_vae(input_shape=(8, 8, 1), latent_dim=4, hidden=(64,), seed=0)
    model.fit(x, epochs=12, batch_size=64, verbose=0)
    return model


@pytest.fixture(scope="module")
def trained_ae(digits):
    keras.utils.set_random_seed(0)
    model = zoo.dense_ae(input_shape=(8, 8, 1), latent_dim=3, hidden=(32,))
    model.fit(digits[0], epochs=8, batch_size=64, verbose=0)
    return model


# ----- IWAE ---------------------------------------------------------------------------------------
def test_iwae_below_neg_elbo_for_every_example_and_equal_at_k1(trained_vae, digits):
    xt = digits[2][:120]
    r = L.iwae_nll(trained_vae, xt, k=16, seed=1, return_per_example=True)
    assert r["k"] == 16 and r["n"] == 120
    assert r["iwae_nll_per_example"].shape == (120,)
    # Jensen on the same samples: log mean w >= mean log w, example by example
    assert np.all(r["iwae_nll_per_example"] <= r["neg_elbo_per_example"] + 1e-9)
    assert r["iwae_nll"] < r["neg_elbo"]
    r1 = L.iwae_nll(trained_vae, xt, k=1, seed=1, return_per_example=True)
    np.testing.assert_allclose(r1["iwae_nll_per_example"], r1["neg_elbo_per_example"], rtol=0, atol=1e-9)


def test_iwae_decreases_with_k_and_neg_elbo_matches_the_model_metric(trained_vae, digits):
    xt = digits[2]
    small = L.iwae_nll(trained_vae, xt, k=1, seed=0)
    large = L.iwae_nll(trained_vae, xt, k=200, seed=0)
    assert large["iwae_nll"] < small["iwae_nll"] - 0.05
    # the k-sample average of -log w is the model's own negative ELBO (same likelihood, prior and posterior)
    keras_neg_elbo = trained_vae.evaluate(xt, verbose=0, return_dict=True)["neg_elbo"]
    assert abs(large["neg_elbo"] - keras_neg_elbo) < 0.02 * keras_neg_elbo


def test_iwae_matches_a_hand_computation(trained_vae, digits):
    x = digits[2][:5]
    k, d = 8, trained_vae.latent_dim
    r = L.iwae_nll(trained_vae, x, k=k, batch_size=40, seed=3, return_per_example=True)  # one chunk of 5 x 8
    eps = np.random.default_rng(3).standard_normal((5, k, d)).astype("float32")
    mean, log_var = trained_vae.encode(x, return_log_var=True)
    z = mean[:, None] + np.exp(0.5 * log_var)[:, None] * eps
    p = np.clip(trained_vae.decode(z.reshape(-1, d)).astype("float64"), 1e-7, 1 - 1e-7).reshape(5, k, -1)
    xf = x.reshape(5, 1, -1).astype("float64")
    log_px = np.sum(xf * np.log(p) + (1 - xf) * np.log(1 - p), axis=-1)
    log_pz = np.sum(-0.5 * (np.log(2 * np.pi) + z.astype("float64") ** 2), axis=-1)
    log_qz = np.sum(-0.5 * (np.log(2 * np.pi) + log_var[:, None] + eps.astype("float64") ** 2), axis=-1)
    log_w = log_px + log_pz - log_qz
    m = log_w.max(axis=1, keepdims=True)
    iwae = -(m[:, 0] + np.log(np.mean(np.exp(log_w - m), axis=1)))
    np.testing.assert_allclose(r["iwae_nll_per_example"], iwae, rtol=1e-4)
    np.testing.assert_allclose(r["neg_elbo_per_example"], -log_w.mean(axis=1), rtol=1e-4)


def test_iwae_conditional_vae_and_errors(trained_ae, digits):
    x, y = digits[2][:12], digits[3][:12] % 3
    cvae = zoo.create("conv_cvae", **zoo.get_entry("conv_cvae").test_kwargs)
    r = L.iwae_nll(cvae, x, k=1, y=y, return_per_example=True)
    np.testing.assert_allclose(r["iwae_nll_per_example"], r["neg_elbo_per_example"], atol=1e-9)
    assert L.iwae_nll(cvae, x, k=4, y=y)["iwae_nll"] <= L.iwae_nll(cvae, x, k=4, y=y)["neg_elbo"]
    with pytest.raises(ValueError, match="needs labels"):
        L.iwae_nll(cvae, x, k=4)
    vae = zoo.create("dense_vae", **zoo.get_entry("dense_vae").test_kwargs)
    for bad in (0, -3, 2.5, True):
        with pytest.raises(ValueError, match="`k`"):
            L.iwae_nll(vae, x, k=bad)
    with pytest.raises(ValueError, match=r"expected \(batch, 8, 8, 1\)"):
        L.iwae_nll(vae, np.zeros((3, 28, 28, 1), "float32"), k=2)
    with pytest.raises(ValueError, match="needs a VAE"):
        L.iwae_nll(trained_ae, x, k=2)


# ----- traversal, map, grids -----------------------------------------------------------------------
def _recording_decode(model, monkeypatch):
    seen = []
    original = model.decode

    def decode(z, *args, **kwargs):
        seen.append(np.array(z))
        return original(z, *args, **kwargs)

    monkeypatch.setattr(model, "decode", decode)
    return seen


def test_traversal_varies_only_the_chosen_dimension(trained_vae, digits, monkeypatch):
    x = digits[2][:50]
    seen = _recording_decode(trained_vae, monkeypatch)
    values = np.linspace(-2, 2, 5)
    images = L.latent_traversal(trained_vae, x, dims=[1, 3], values=values, index=7)
    assert images.shape == (2, 5, 8, 8, 1)
    z = seen[-1].reshape(2, 5, 4)
    z0 = trained_vae.encode(x[7])
    for i, d in enumerate([1, 3]):
        others = [j for j in range(4) if j != d]
        np.testing.assert_allclose(z[i][:, others], np.tile(z0[others], (5, 1)), atol=1e-6)
        np.testing.assert_allclose(z[i][:, d], z0[d] + values, atol=1e-5)  # prior-std units for a VAE
    # decoding is deterministic: the image at offset 0 is the decoded code of the point itself
    np.testing.assert_allclose(images[0, 2], trained_vae.decode(z0[None])[0], atol=1e-5)


def test_traversal_of_a_plain_autoencoder_scales_by_the_code_std(trained_ae, digits, monkeypatch):
    x = digits[2][:60]
    seen = _recording_decode(trained_ae, monkeypatch)
    images = L.latent_traversal(trained_ae, x, dims=None, values=[-1.0, 1.0])
    assert images.shape == (3, 2, 8, 8, 1)
    codes = trained_ae.encode(x)
    z = seen[-1].reshape(3, 2, 3)
    np.testing.assert_allclose(z[2, 1, 2] - z[2, 0, 2], 2 * codes[:, 2].std(), rtol=1e-4)
    with pytest.raises(ValueError, match="dims"):
        L.latent_traversal(trained_ae, x, dims=[3])


@pytest.mark.parametrize("latent", [1, 2, 16])
def test_latent_map_shapes(latent):
    codes = np.random.default_rng(0).normal(size=(40, latent)).astype("float32")
    points = L.latent_map(codes)
    assert points.shape == (40, 2)
    if latent == 2:
        np.testing.assert_array_equal(points, codes)
    if latent == 1:
        np.testing.assert_array_equal(points[:, 0], codes[:, 0])
        assert np.all(points[:, 1] == 0)
    if latent == 16:  # PCA: the first axis carries the most variance
        assert points[:, 0].var() >= points[:, 1].var()


@pytest.mark.slow
def test_latent_map_tsne():
    codes = np.random.default_rng(0).normal(size=(40, 16)).astype("float32")
    points = L.latent_map(codes, "tsne", seed=1)
    assert points.shape == (40, 2) and np.all(np.isfinite(points))
    np.testing.assert_allclose(L.latent_map(codes, "tsne", seed=1), points, atol=1e-4)


def test_latent_map_errors():
    with pytest.raises(ValueError, match="method"):
        L.latent_map(np.zeros((5, 3)), method="umap")
    with pytest.raises(ValueError, match="NaN"):
        L.latent_map(np.full((5, 3), np.nan))


def test_grids_and_interpolation(trained_vae, digits):
    x = digits[2]
    grid = L.reconstruction_grid(trained_vae, x, n=6)
    assert grid.shape == (2, 6, 8, 8, 1)
    np.testing.assert_array_equal(grid[0], x[:6])
    assert L.sample_grid(trained_vae, 12, seed=1).shape == (12, 8, 8, 1)
    np.testing.assert_array_equal(L.sample_grid(trained_vae, 4, seed=1), L.sample_grid(trained_vae, 4, seed=1))
    rows = L.interpolation_rows(trained_vae, (x[:3], x[3:6]), steps=5)
    assert rows.shape == (3, 5, 8, 8, 1)
    np.testing.assert_allclose(rows[:, 0], trained_vae.decode(trained_vae.encode(x[:3])), atol=1e-5)
    pairs = [(x[0], x[3]), (x[1], x[4])]
    np.testing.assert_allclose(L.interpolation_rows(trained_vae, pairs, steps=5), rows[:2], atol=1e-6)
    with pytest.raises(ValueError, match="same number"):
        L.interpolation_rows(trained_vae, (x[:3], x[3:5]))


# ----- probes and the one call -------------------------------------------------------------------
def test_linear_probe_above_chance(trained_vae, trained_ae, digits):
    x, y, xt, yt = digits
    for model in (trained_vae, trained_ae):
        acc = L.linear_probe_accuracy(model, x, y, xt, yt)
        assert acc > 0.4, (model.name, acc)  # 10 classes: chance is 0.1
    with pytest.raises(ValueError, match="y_test"):
        L.linear_probe_accuracy(trained_ae, x, y, xt, None)


def test_vqvae_codes_are_flattened_grids(digits):
    x, y, xt, yt = digits
    model = zoo.create("vq_vae", **zoo.get_entry("vq_vae").test_kwargs)
    codes = L.latent_codes(model, xt[:20])
    grid = model.encode(xt[:1])
    assert codes.shape == (20, int(np.prod(grid.shape[1:])))
    with pytest.raises(ValueError, match="vector code"):
        L.latent_traversal(model, xt[:5])
    m = L.evaluate_latent(model, xt[:40], yt[:40], x[:100], y[:100], k=2)
    assert "iwae_nll" not in m and 0.0 <= m["linear_probe_accuracy"] <= 1.0


def test_evaluate_latent_writes_metrics_and_figures(trained_vae, digits, tmp_path):
    x, y, xt, yt = digits
    m = L.evaluate_latent(trained_vae, xt[:150], yt[:150], x[:400], y[:400], k=20, out=str(tmp_path))
    assert m["iwae_nll"] <= m["neg_elbo"] and m["neg_elbo_minus_iwae"] >= 0 and m["iwae_k"] == 20
    assert 0 < m["active_units"] <= 4 and m["linear_probe_accuracy"] > 0.3
    saved = json.loads((tmp_path / "metrics.json").read_text())
    assert saved["iwae_nll"] == pytest.approx(m["iwae_nll"])
    for name in ("latent_map.png", "latent_reconstructions.png", "latent_interpolation.png", "latent_traversal.png",
                 "latent_samples.png"):
        assert (tmp_path / name).stat().st_size > 1000, name
        assert name in saved["figures"]


def test_evaluate_latent_rejects_models_without_encoder_and_bad_arguments(trained_vae, digits):
    xt, yt = digits[2][:10], digits[3][:10]
    gan = zoo.create("dcgan", **zoo.get_entry("dcgan").test_kwargs)
    with pytest.raises(ValueError, match="needs a model with an encoder"):
        L.evaluate_latent(gan, xt, yt)
    with pytest.raises(ValueError, match="`k`"):
        L.evaluate_latent(trained_vae, xt, yt, k=0)
    with pytest.raises(ValueError, match=r"expected \(batch, 8, 8, 1\)"):
        L.evaluate_latent(trained_vae, np.zeros((4, 8, 8), "float32"))
    with pytest.raises(ValueError, match=r"lie in \[0.0, 1.0\]"):
        L.evaluate_latent(trained_vae, xt * 255.0)
    with pytest.raises(ValueError, match="both `x_train` and `y_train`"):
        L.evaluate_latent(trained_vae, xt, yt, x_train=xt)
    with pytest.raises(ValueError, match="y_test"):
        L.evaluate_latent(trained_vae, xt, yt[:5])


TORCH_SCRIPT = """
import json, sys, numpy as np, keras_ae
from keras_ae.evaluation.latent import iwae_nll
model = keras_ae.load_model(sys.argv[1])
x = np.load(sys.argv[2])
r = iwae_nll(model, x, k=6, batch_size=30, seed=2)
print(json.dumps([r["iwae_nll"], r["neg_elbo"]]))
"""


def test_iwae_is_the_same_on_torch(trained_vae, digits, tmp_path):
    x = digits[2][:10]
    path = str(tmp_path / "vae.keras")
    trained_vae.save(path)
    np.save(tmp_path / "x.npy", x)
    r = L.iwae_nll(trained_vae, x, k=6, batch_size=30, seed=2)
    env = dict(os.environ, KERAS_BACKEND="torch")
    proc = subprocess.run([sys.executable, "-c", TORCH_SCRIPT, path, str(tmp_path / "x.npy")], env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    iwae, elbo = json.loads(proc.stdout.strip().splitlines()[-1])
    assert iwae == pytest.approx(r["iwae_nll"], rel=1e-4) and elbo == pytest.approx(r["neg_elbo"], rel=1e-4)
