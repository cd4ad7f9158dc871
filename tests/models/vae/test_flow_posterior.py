"""Flow posteriors for VAEs (issue 16, item 2): the flowed log-density, the Monte-Carlo KL, saving, IWAE, errors,
mixed precision and the torch / JAX backends, on tiny models."""

import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf

from conftest import with_xla_flags
import keras_ae
from keras_ae import losses, zoo
from keras_ae.evaluation import latent as L
from keras_ae.testing import check_model

TINY = dict(input_shape=(8, 8, 1), latent_dim=3, hidden=(16,), flow_steps=2, flow_hidden=(8,), seed=0)
FLOWS = ("planar", "iaf")
# the trained fixture's models: each flow amortized on (z_mean, z_log_var), and IAF on the encoder's features h
TRAINED = FLOWS + ("iaf_features",)
FLOW_ARGS = {"planar": dict(posterior_flow="planar"), "iaf": dict(posterior_flow="iaf"),
             "iaf_features": dict(posterior_flow="iaf", flow_context="features")}


def _images(n=32, seed=0):
    return (np.random.default_rng(seed).uniform(size=(n, 8, 8, 1)) > 0.5).astype("float32")


def _np(t):
    return keras.ops.convert_to_numpy(t)


def _eager(model):
    """Keras' steps run eagerly: on a few dozen tiny examples tracing the compiled step costs more CPU than the fit
    (the compiled path is what check_model exercises below)."""
    model.run_eagerly = True
    return model


@pytest.fixture(scope="module")
def trained():
    """One tiny dense_vae per flow (and IAF amortized on the encoder's features), trained a few steps (module scope:
    built and fit once)."""
    out = {}
    for flow in TRAINED:
        keras.utils.set_random_seed(0)
        model = _eager(zoo.dense_vae(**FLOW_ARGS[flow], **TINY))
        model.fit(_images(64), epochs=2, batch_size=16, verbose=0)
        out[flow] = model
    return out


@pytest.mark.parametrize("flow", TRAINED)
def test_log_q_is_the_base_density_minus_the_jacobian_log_determinant(trained, flow):
    """posterior_sample's log q_K against a direct computation: log N(z_0; mu, sigma) (scipy-free numpy) minus
    log|det dz_K/dz_0| from the autodiff Jacobian of the whole flow chain at the example's context (concat(z_mean,
    z_log_var), or the hidden layer the encoder's mean layer reads)."""
    model = trained[flow]
    x = _images(5, seed=1)
    eps = np.random.default_rng(2).standard_normal((5, 3)).astype("float32")
    z, log_q = model.posterior_sample(x, eps)
    mean, log_var = model.encode(x, return_log_var=True)
    z0 = mean + np.exp(0.5 * log_var) * eps
    log_n = -0.5 * np.sum(np.log(2 * np.pi) + log_var + (z0 - mean) ** 2 / np.exp(log_var), axis=1)
    if flow == "iaf_features":  # the encoder's last hidden layer (16 units), computed here from its own layers
        hidden = keras.Model(model.encoder.input, model.encoder.get_layer("z_mean").input)
        context = tf.constant(_np(hidden(x)))
        assert context.shape == (5, 16) and model.flows[0].context_dim == 16
    else:
        context = tf.constant(np.concatenate([mean, log_var], axis=1))
    with tf.GradientTape() as tape:
        t = tf.constant(z0)
        tape.watch(t)
        zk = t
        for layer in model.flows:
            zk, _ = layer.forward(zk, context=context)
    jac = tape.batch_jacobian(zk, t).numpy().astype("float64")
    direct = log_n - np.linalg.slogdet(jac)[1]
    np.testing.assert_allclose(_np(z), zk.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(_np(log_q), direct, rtol=1e-4, atol=1e-4)
    assert not np.allclose(np.linalg.slogdet(jac)[1], 0.0, atol=1e-3), "the flows must not be the identity here"
    # k draws per image at once: the same values as one draw at a time
    z3, log_q3 = model.posterior_sample(x, np.stack([eps, eps], axis=1))
    assert _np(z3).shape == (5, 2, 3) and _np(log_q3).shape == (5, 2)
    np.testing.assert_allclose(_np(log_q3)[:, 1], _np(log_q), rtol=1e-5, atol=1e-5)


def test_the_gaussian_posterior_gives_its_own_density():
    model = zoo.dense_vae(input_shape=(8, 8, 1), latent_dim=3, hidden=(16,), seed=0)
    x = _images(4)
    eps = np.random.default_rng(3).standard_normal((4, 3)).astype("float32")
    z, log_q = model.posterior_sample(x, eps)
    mean, log_var = model.encode(x, return_log_var=True)
    np.testing.assert_allclose(_np(z), mean + np.exp(0.5 * log_var) * eps, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(_np(log_q), _np(losses.gaussian_log_prob(_np(z), mean, log_var)), rtol=1e-5)


def test_amortized_planar_keeps_every_example_invertible():
    """u is constrained per example (w . u_hat > -1) even when the context drives u and w far apart."""
    from keras_ae.layers.flows_residual import PlanarFlow

    layer = PlanarFlow(context_dim=4)
    layer.build((None, 3))
    layer.context_kernel.assign(np.random.default_rng(0).normal(scale=5.0, size=(4, 7)).astype("float32"))
    context = np.random.default_rng(1).normal(scale=3.0, size=(64, 4)).astype("float32")
    u_hat, wu, w, _ = (_np(t).astype("float64") for t in layer._params(context))
    assert np.all(wu > -1.0) and np.min(wu) < -0.99  # some examples' u pushed to the constraint's edge
    np.testing.assert_allclose(np.sum(u_hat * w, axis=1), wu, rtol=1e-3, atol=1e-3)
    z = np.random.default_rng(2).normal(size=(64, 3)).astype("float32")
    x, ld = layer.forward(z, context=context)
    assert np.all(np.isfinite(_np(ld)))
    back, ld_inv = layer.inverse(x, context=context)
    np.testing.assert_allclose(_np(back), z, atol=1e-4)
    np.testing.assert_allclose(_np(ld), -_np(ld_inv), atol=1e-4)
    with pytest.raises(ValueError, match=r"context_dim=4: pass `context`"):
        layer.forward(z)
    with pytest.raises(ValueError, match=r"`context` must have shape \(batch, 4\); received \(64, 3\)"):
        layer.forward(z, context=z)
    config = layer.get_config()
    assert config["context_dim"] == 4 and PlanarFlow.from_config(config).context_dim == 4


@pytest.mark.parametrize("flow", FLOWS)
def test_training_reports_the_monte_carlo_kl_and_loss_is_neg_elbo(flow):
    keras.utils.set_random_seed(1)
    model = _eager(zoo.dense_vae(posterior_flow=flow, **TINY))
    h = model.fit(_images(64), epochs=2, batch_size=16, verbose=0, validation_data=_images(16, seed=5)).history
    for key in ("loss", "kl_loss", "neg_elbo", "reconstruction_loss", "val_neg_elbo", "val_kl_loss"):
        assert np.all(np.isfinite(h[key])), key
    for e in range(2):  # beta = 1: the loss is the negative ELBO, reconstruction + the MC KL
        assert h["loss"][e] == pytest.approx(h["neg_elbo"][e], rel=1e-5)
        assert h["neg_elbo"][e] == pytest.approx(h["reconstruction_loss"][e] + h["kl_loss"][e], rel=1e-4)
    beta = _eager(zoo.dense_vae(posterior_flow=flow, beta=2.0, **TINY))
    hb = beta.fit(_images(32), epochs=1, batch_size=16, verbose=0).history
    assert hb["loss"][0] == pytest.approx(hb["reconstruction_loss"][0] + 2.0 * hb["kl_loss"][0], rel=1e-4)
    # the KL is the one-sample estimate log q_K(z_K|x) - log p(z_K), not the Gaussian's closed form
    out = model(_images(8), training=True)
    assert _np(out["log_q"]).dtype == np.float32 and _np(out["log_q"]).shape == (8,)


def test_posterior_flow_none_is_the_plain_vae():
    keras.utils.set_random_seed(0)
    plain = zoo.conv_vae(input_shape=(8, 8, 1), latent_dim=2, filters=(4, 8), dense_units=8, seed=0)
    keras.utils.set_random_seed(0)
    explicit = zoo.conv_vae(input_shape=(8, 8, 1), latent_dim=2, filters=(4, 8), dense_units=8, seed=0,
                            posterior_flow=None, flow_steps=7)
    assert plain.count_params() == explicit.count_params() and not plain.flows
    for a, b in zip(plain.get_weights(), explicit.get_weights()):
        np.testing.assert_array_equal(a, b)
    config = plain.get_config()
    assert config["posterior_flow"] is None
    flowed = zoo.conv_vae(input_shape=(8, 8, 1), latent_dim=2, filters=(4, 8), dense_units=8, posterior_flow="iaf")
    assert set(flowed.get_config()) == set(config) and flowed.count_params() > plain.count_params()


@pytest.mark.parametrize("flow", TRAINED)
def test_save_and_reload_give_identical_outputs(trained, flow, tmp_path):
    model = trained[flow]
    path = str(tmp_path / "m.keras")
    model.save(path)
    back = keras_ae.load_model(path, safe_mode=True)
    assert back.posterior_flow == FLOW_ARGS[flow]["posterior_flow"]
    assert back.flow_steps == 2 and back.flow_hidden == (8,)
    assert back.flow_context == FLOW_ARGS[flow].get("flow_context", "gaussian")
    assert back.count_params() == model.count_params() and len(back.weights) == len(model.weights)
    x = _images(6, seed=7)
    eps = np.random.default_rng(8).standard_normal((6, 4, 3)).astype("float32")
    for a, b in zip(model.posterior_sample(x, eps), back.posterior_sample(x, eps)):
        np.testing.assert_allclose(_np(a), _np(b), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(model.reconstruct(x), back.reconstruct(x), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("flow", TRAINED)
def test_iwae_uses_the_flowed_density_and_stays_below_neg_elbo(trained, flow):
    model = trained[flow]
    x = _images(6, seed=9)
    r = L.iwae_nll(model, x, k=20, batch_size=60, seed=0, return_per_example=True)
    assert np.all(r["iwae_nll_per_example"] <= r["neg_elbo_per_example"] + 1e-9)
    assert np.all(np.isfinite(r["iwae_nll_per_example"]))
    # k = 1 is one draw of the ELBO, with the model's flowed log q (recomputed here from posterior_sample)
    one = L.iwae_nll(model, x, k=1, seed=4, return_per_example=True)
    eps = np.random.default_rng(4).standard_normal((6, 1, 3)).astype("float32")
    z, log_q = model.posterior_sample(x, eps)
    z = _np(z).reshape(6, 3)
    log_px = _np(model.log_likelihood(keras.ops.convert_to_tensor(x), keras.ops.convert_to_tensor(z)))
    log_w = log_px + _np(losses.gaussian_log_prob(z)) - _np(log_q).reshape(6)
    np.testing.assert_allclose(one["iwae_nll_per_example"], -log_w, rtol=1e-5)


def test_conditional_vae_takes_a_flow_posterior():
    model = _eager(zoo.conv_cvae(input_shape=(8, 8, 1), num_classes=3, latent_dim=2, filters=(4, 8), dense_units=8,
                                 posterior_flow="planar", flow_steps=1))
    x, y = _images(16), np.arange(16) % 3
    h = model.fit(x, y, epochs=1, batch_size=8, verbose=0).history
    assert np.isfinite(h["loss"][0]) and h["loss"][0] == pytest.approx(h["neg_elbo"][0], rel=1e-5)
    r = L.iwae_nll(model, x[:4], k=5, y=y[:4], return_per_example=True)
    assert np.all(r["iwae_nll_per_example"] <= r["neg_elbo_per_example"] + 1e-9)


@pytest.mark.parametrize(("kwargs", "error", "match"), [
    (dict(posterior_flow="maf"), ValueError, r"`posterior_flow` must be one of None, 'planar', 'iaf'; received 'maf'"),
    (dict(posterior_flow="iaf", flow_steps=0), ValueError, r"`flow_steps` must be an integer >= 1; received 0"),
    (dict(posterior_flow="planar", flow_steps=2.5), TypeError, r"`flow_steps` must be an integer >= 1; received 2.5"),
    (dict(posterior_flow="iaf", flow_hidden=()), ValueError, r"`flow_hidden` must list at least one layer width"),
    (dict(posterior_flow="iaf", flow_hidden="64"), ValueError, r"`flow_hidden` must be a list of layer widths"),
    (dict(posterior_flow="iaf", latent_dim=1), ValueError, r"posterior_flow='iaf' needs latent_dim >= 2"),
    (dict(posterior_flow="iaf", flow_context="h"), ValueError,
     r"`flow_context` must be one of 'gaussian', 'features'; received 'h'"),
])
def test_bad_flow_arguments_get_clear_errors(kwargs, error, match):
    args = dict(input_shape=(8, 8, 1), latent_dim=2, hidden=(8,))
    args.update(kwargs)
    with pytest.raises(error, match=match):
        zoo.dense_vae(**args)


def test_features_context_shares_the_encoder_and_needs_a_vector_head():
    """flow_context="features": the flows read the encoder's hidden vector through the encoder's own layers (no second
    copy of its weights), the context width is that vector's, and an encoder whose mean is not one Dense layer on a
    vector gets a clear error."""
    base = zoo.dense_vae(posterior_flow="iaf", **TINY)
    feats = zoo.dense_vae(posterior_flow="iaf", flow_context="features", **TINY)
    # only the MADEs' context kernels differ: (16 - 2 * 3) more rows of 8 in each of the 2 steps
    assert feats.count_params() - base.count_params() == (16 - 6) * 8 * 2
    assert len(feats.weights) == len(base.weights)
    feats.encoder.get_layer("z_mean").kernel.assign(np.zeros((16, 3), "float32"))  # seen through the features view
    np.testing.assert_array_equal(_np(feats._feature_encoder(_images(2))[0]), 0.0)
    # flow_context without a flow changes nothing (the plain VAE has no flows to amortize)
    assert not zoo.dense_vae(flow_context="features", **{k: v for k, v in TINY.items() if k != "flow_steps"}).flows

    images = keras.Input((8, 8, 1), name="image")
    flat = keras.layers.Flatten()(images)
    z_mean = keras.layers.Add(name="z_mean")([keras.layers.Dense(3)(flat), keras.layers.Dense(3)(flat)])
    encoder = keras.Model(images, [z_mean, keras.layers.Dense(3, name="z_log_var")(flat)])
    decoder = zoo.dense_vae(**TINY).decoder
    with pytest.raises(ValueError, match=r"flow_context='features' needs an encoder whose z_mean layer reads one vector"):
        keras_ae.models.VAE(encoder, decoder, posterior_flow="iaf", flow_context="features")


def test_mixed_float16_keeps_the_log_density_in_float32():
    keras.utils.set_random_seed(0)
    model = _eager(zoo.dense_vae(posterior_flow="iaf", dtype="mixed_float16", **TINY))
    h = model.fit(_images(32), epochs=1, batch_size=16, verbose=0).history
    assert np.isfinite(h["loss"][0])
    out = model(_images(4), training=True)
    assert keras.backend.standardize_dtype(out["z"].dtype) == "float16"
    assert keras.backend.standardize_dtype(out["log_q"].dtype) == "float32"


BACKEND_SCRIPT = r"""
import json, sys
import keras
import numpy as np
import keras_ae
from keras_ae import zoo
from keras_ae.evaluation.latent import iwae_nll
from keras_ae.testing import check_model

flow, context = sys.argv[4].split("_")[0], ("features" if sys.argv[4].endswith("_features") else "gaussian")
model = keras_ae.load_model(sys.argv[1], safe_mode=True)
r = iwae_nll(model, np.load(sys.argv[2]), k=6, batch_size=30, seed=2)
m = zoo.conv_vae(input_shape=(8, 8, 1), latent_dim=2, filters=(4, 8), dense_units=8, posterior_flow=flow,
                 flow_steps=2, flow_hidden=(8,), flow_context=context)
report = check_model(m, "images", workdir=sys.argv[3], fresh_process=False, atol=1e-5)
# the KL warm-up's step counter, written inside the backend's training step (JAX: its stateless step)
w = zoo.dense_vae(input_shape=(8, 8, 1), latent_dim=2, hidden=(8,), kl_warmup_steps=5, seed=0)
w.fit(np.load(sys.argv[2])[:8], epochs=2, batch_size=4, verbose=0)
warm = [float(keras.ops.convert_to_numpy(w.kl_warmup_step)), int(w.optimizer.iterations)]
print("RESULT " + json.dumps({"iwae": [r["iwae_nll"], r["neg_elbo"]], "iterations": report["reload"]["iterations_after"],
                              "warmup": warm}))
"""


# CI's budget: one flow per backend in CI (about 20-40 CPU s each, JAX's compiles), the others under -m slow; JAX's
# CI case is the IAF on the encoder's features (a second functional view of the encoder inside JAX's stateless step)
@pytest.mark.parametrize(("backend", "flow"), [
    ("torch", "planar"), ("jax", "iaf_features"),
    pytest.param("jax", "iaf", marks=pytest.mark.slow), pytest.param("torch", "iaf", marks=pytest.mark.slow),
    pytest.param("jax", "planar", marks=pytest.mark.slow)])
def test_flow_posterior_on_torch_and_jax(trained, backend, flow, tmp_path):
    """check_model (fit, deterministic outputs, save, reload, resumed fit) of conv_vae with a flow posterior on the
    backend, and the IWAE of the TensorFlow-trained model equal there."""
    x = _images(10, seed=11)
    path = str(tmp_path / "model.keras")
    trained[flow].save(path)
    np.save(tmp_path / "x.npy", x)
    r = L.iwae_nll(trained[flow], x, k=6, batch_size=30, seed=2)
    env = dict(os.environ, KERAS_BACKEND=backend, TF_CPP_MIN_LOG_LEVEL="3")
    proc = subprocess.run([sys.executable, "-c", BACKEND_SCRIPT, path, str(tmp_path / "x.npy"), str(tmp_path / "check"),
                           flow], env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    row = json.loads([line for line in proc.stdout.splitlines() if line.startswith("RESULT ")][-1][7:])
    assert row["iwae"] == pytest.approx([r["iwae_nll"], r["neg_elbo"]], rel=1e-4)
    assert row["iterations"] >= 2
    assert row["warmup"] == [4.0, 4], row  # one count per training step, as on TensorFlow


DISTRIBUTED_SCRIPT = r"""
import json, sys
from keras_ae.ops.distribute import simulate_devices
simulate_devices(2)
from keras_ae.testing import check_distributed
rows = {name: check_distributed("conv_vae", sys.argv[1], model_kwargs=dict(posterior_flow=flow, flow_steps=2,
                                                                           flow_hidden=(8,), flow_context=context))
        for name, flow, context in (("planar", "planar", "gaussian"), ("iaf", "iaf", "gaussian"),
                                    ("iaf_features", "iaf", "features"))}
print("RESULT " + json.dumps(rows))
"""


@pytest.mark.slow  # CI time: two more TensorFlow and JAX processes; the zoo's conv_vae check runs in CI (tests/test_distribute.py)
@pytest.mark.parametrize(("backend", "distribute"), [("tensorflow", "mirrored"), ("jax", "data-parallel")])
def test_flow_posterior_matches_one_device_on_two(backend, distribute):
    """keras_ae.testing.check_distributed with each flow posterior: the loss scaled per replica (one step's size
    within the single-device spread, not doubled), replicas' variables equal, and per-replica noise."""
    env = dict(os.environ, KERAS_BACKEND=backend, TF_CPP_MIN_LOG_LEVEL="3",
               XLA_FLAGS=with_xla_flags("--xla_force_host_platform_device_count=2"))
    proc = subprocess.run([sys.executable, "-c", DISTRIBUTED_SCRIPT, distribute], env=env, capture_output=True,
                          text=True, timeout=1200)
    assert proc.returncode == 0, proc.stderr[-3000:]
    rows = json.loads([line for line in proc.stdout.splitlines() if line.startswith("RESULT ")][-1][7:])
    for flow, row in rows.items():
        assert row["replicas"] == 2 and row["noisy"], (flow, row)
        assert 0.6 <= np.median(row["step_sizes"]) / np.median(row["single_step_sizes"]) <= 1.6, (flow, row)
