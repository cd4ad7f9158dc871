"""VAE and CVAE behaviour: the ELBO bookkeeping, user methods, and clear errors for bad input."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import keras_ae
from keras_ae import losses, zoo

SMALL = dict(input_shape=(8, 8, 1), filters=(8, 16), dense_units=32, seed=0)


@pytest.fixture(scope="module")
def digits():
    x, y = keras_ae.data.load_numpy("digits", "all")
    return x[:512], y[:512]


def test_vae_learns_and_reports_the_elbo_parts(digits):
    x, _ = digits
    keras.utils.set_random_seed(0)
    model = zoo.conv_vae(latent_dim=2, beta=2.0, **SMALL)
    h = model.fit(x, epochs=4, batch_size=64, validation_data=x[:128], verbose=0).history
    for name in ("loss", "reconstruction_loss", "kl_loss", "neg_elbo", "mse"):
        assert name in h and f"val_{name}" in h
    assert h["val_neg_elbo"][-1] < h["val_neg_elbo"][0]
    # loss = reconstruction + beta * KL, while neg_elbo always uses beta = 1
    for e in range(4):
        assert h["loss"][e] == pytest.approx(h["reconstruction_loss"][e] + 2.0 * h["kl_loss"][e], rel=1e-3)
        assert h["neg_elbo"][e] == pytest.approx(h["reconstruction_loss"][e] + h["kl_loss"][e], rel=1e-3)


def test_evaluation_estimates_the_elbo_with_sampled_codes(digits):
    x, _ = digits
    model = zoo.conv_vae(latent_dim=2, **SMALL)
    model.fit(x, epochs=2, batch_size=64, verbose=0)
    at_mean = float(np.mean(keras.ops.convert_to_numpy(
        losses.bernoulli_nll(x, model(x, training=False)["decoder_output"]))))
    sampled = np.mean([model.evaluate(x, batch_size=128, verbose=0, return_dict=True)["reconstruction_loss"]
                       for _ in range(3)])
    # E_q[-log p(x|z)] >= -log p(x|E_q z) is not a theorem, but the outputs at the mean are deterministic
    # and the evaluation is not: it must not just re-use them.
    assert sampled != pytest.approx(at_mean, rel=1e-6)
    out1, out2 = model(x[:8], training=False), model(x[:8], training=False)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(out1["reconstruction"]),
                                  keras.ops.convert_to_numpy(out2["reconstruction"]))


def test_user_methods(digits):
    x, _ = digits
    model = zoo.conv_vae(latent_dim=3, **SMALL)
    z = model.encode(x[:10])
    assert z.shape == (10, 3)
    mean, log_var = model.encode(x[:10], return_log_var=True)
    np.testing.assert_allclose(mean, z)
    assert log_var.shape == (10, 3)
    assert model.encode(x[0]).shape == (3,)
    assert model.decode(z).shape == (10, 8, 8, 1)
    r = model.reconstruct(x[:10])
    assert r.shape == (10, 8, 8, 1) and r.min() >= 0 and r.max() <= 1
    np.testing.assert_array_equal(r, model.reconstruct(x[:10]))
    s1, s2, s3 = model.sample(6, seed=1), model.sample(6, seed=1), model.sample(6, seed=2)
    np.testing.assert_array_equal(s1, s2)
    assert not np.allclose(s1, s3) and s1.shape == (6, 8, 8, 1)
    path = model.interpolate(x[0], x[1], steps=5)
    assert path.shape == (5, 8, 8, 1)
    np.testing.assert_allclose(path[0], model.decode(z[:1])[0], atol=1e-5)
    np.testing.assert_allclose(path[-1], model.decode(z[1:2])[0], atol=1e-5)
    assert model.interpolate(x[:3], x[3:6], steps=4).shape == (3, 4, 8, 8, 1)
    ds = tf.data.Dataset.from_tensor_slices(x[:10]).batch(4)
    np.testing.assert_allclose(model.encode(ds), z, atol=1e-6)


def test_conditional_vae_trains_on_pairs_and_samples_a_class(digits):
    x, y = digits
    model = zoo.conv_cvae(num_classes=10, latent_dim=2, **SMALL)
    h = model.fit(x, y, epochs=1, batch_size=64, verbose=0).history
    assert np.isfinite(h["neg_elbo"][0])
    ds = tf.data.Dataset.from_tensor_slices((x, y)).batch(64)
    h = model.fit(ds, validation_data=ds, epochs=1, verbose=0).history
    assert "val_neg_elbo" in h
    s = model.sample(4, labels=3, seed=0)
    assert s.shape == (4, 8, 8, 1)
    assert not np.allclose(s, model.sample(4, labels=7, seed=0))
    assert model.encode(x[:5], y[:5]).shape == (5, 2)
    assert model.reconstruct(x[:5], y[:5]).shape == (5, 8, 8, 1)
    assert model.interpolate(x[0], x[1], steps=3, labels_a=int(y[0])).shape == (3, 8, 8, 1)
    with pytest.raises(ValueError, match="labels"):
        model.fit(x, epochs=1, verbose=0)
    with pytest.raises(ValueError, match="labels"):
        model.fit(tf.data.Dataset.from_tensor_slices(x).batch(8), epochs=1, verbose=0)
    with pytest.raises(ValueError, match=r"\[0, 9\]"):
        model.fit(x[:8], np.full(8, 10), epochs=1, verbose=0)
    with pytest.raises(ValueError, match="labels"):
        model.sample(3)
    bad = tf.data.Dataset.from_tensor_slices((x[:8], np.full(8, 12))).batch(8)
    # a batch checked while it streams: the package's own error, not TensorFlow's "Graph execution error"
    with pytest.raises(keras_ae.errors.InvalidDataError,
                       match=r"dataset.*labels must lie in \[0, 9\]; batch min and max: 12, 12"):
        model.fit(bad, epochs=1, verbose=0)


def test_gaussian_likelihood_accepts_unbounded_data():
    model = zoo.dense_vae(input_shape=(8, 8, 1), hidden=(16,), likelihood="gaussian")
    x = np.random.default_rng(0).normal(size=(32, 8, 8, 1)).astype("float32")
    assert np.isfinite(model.fit(x, epochs=1, verbose=0).history["neg_elbo"][0])


@pytest.mark.parametrize(
    "build, match",
    [
        (lambda: zoo.conv_vae(latent_dim=0), "latent_dim"),
        (lambda: zoo.conv_vae(beta=-1.0), "beta"),
        (lambda: zoo.conv_vae(input_shape=(30, 30, 1)), r"divisible by 2\*\*2=4.*\(32, 32, 1\)"),
        (lambda: zoo.conv_ae(input_shape=(28, 28)), "input_shape"),
        (lambda: zoo.conv_cvae(num_classes=1), "num_classes"),
        (lambda: zoo.conv_vae(likelihood="poisson"), "likelihood"),
        (lambda: zoo.create("conv_vea"), "conv_vae"),
        (lambda: zoo.create("conv_vae", latent_dims=3), "latent_dim"),
    ],
)
def test_bad_arguments_get_clear_errors(build, match):
    with pytest.raises((ValueError, TypeError), match=match):
        build()


def test_bad_data_gets_clear_errors(digits):
    x, _ = digits
    model = zoo.conv_vae(**SMALL)
    with pytest.raises(ValueError, match=r"expected \(batch, 8, 8, 1\), received \(16, 28, 28, 1\)"):
        model.fit(np.zeros((16, 28, 28, 1), "float32"), verbose=0)
    with pytest.raises(ValueError, match=r"expected \(batch, 8, 8, 1\)"):
        model(np.zeros((2, 28, 28, 1), "float32"))
    with pytest.raises(ValueError, match=r"\[0.0, 1.0\].*255"):
        model.fit(x * 16, verbose=0)
    nan = x[:16].copy()
    nan[3, 0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN or inf.*example 3"):
        model.fit(nan, verbose=0)
    with pytest.raises(ValueError, match="NaN or inf"):
        model.fit(x[:16], validation_data=nan, verbose=0)
    with pytest.raises(keras_ae.errors.InvalidDataError, match="dataset.*NaN or inf"):  # while streaming
        model.fit(tf.data.Dataset.from_tensor_slices(nan).batch(8), verbose=0)
    with pytest.raises(ValueError, match="unbatched"):
        model.fit(tf.data.Dataset.from_tensor_slices(x), verbose=0)
    with pytest.raises(ValueError, match="Codes must have shape"):
        model.decode(np.zeros((2, 5)))


def test_fit_before_compile_is_a_clear_error():
    enc = keras_ae.networks.conv_encoder((8, 8, 1), 2, (4,), gaussian=True)
    dec = keras_ae.networks.conv_decoder((8, 8, 1), 2, (4,))
    with pytest.raises(RuntimeError, match="compiled"):
        keras_ae.models.VAE(enc, dec).fit(np.zeros((4, 8, 8, 1), "float32"), verbose=0)


def test_optimizer_override_and_describe():
    model = zoo.conv_vae(optimizer=keras.optimizers.SGD(0.01), **SMALL)
    assert isinstance(model.optimizer, keras.optimizers.SGD)
    info = zoo.describe("conv_vae")
    assert info["family"] == "vae" and info["arguments"]["latent_dim"] == 2 and info["summary"]
    assert {"dense_ae", "conv_ae", "linear_ae", "dense_vae", "conv_vae", "conv_cvae"} <= set(zoo.list_models())


def test_linear_ae_spans_the_principal_subspace():
    """A linear autoencoder trained to convergence reconstructs about as well as PCA of the same size."""
    from sklearn.decomposition import PCA

    x, _ = keras_ae.data.load_numpy("digits", "all")
    flat = x.reshape(len(x), -1)
    pca = PCA(4).fit(flat)
    pca_mse = np.mean((pca.inverse_transform(pca.transform(flat)) - flat) ** 2)
    keras.utils.set_random_seed(0)
    model = zoo.linear_ae(input_shape=(8, 8, 1), latent_dim=4, learning_rate=1e-2)
    model.fit(x, epochs=60, batch_size=128, verbose=0)
    ae_mse = np.mean((model.reconstruct(x) - x) ** 2)
    assert ae_mse < 1.1 * pca_mse
