"""GAN models: losses, both optimizers advancing and saved, clear errors, callback; torch/JAX two-optimizer step."""

import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest

import keras_ae
from keras_ae.callbacks import SampleGrid
from keras_ae.models.gan import GAN, WGAN, WGANGP, ConditionalGAN
from keras_ae.models.gan import gan_networks

TINY = dict(input_shape=(8, 8, 1), latent_dim=4, filters=(2, 4))


def _images(n=16, seed=0):
    return np.random.default_rng(seed).uniform(0, 1, (n, 8, 8, 1)).astype("float32")


def _constant_critic(bias, dim=2):
    """A discriminator whose logit is ``bias`` for every input (zero kernel)."""
    x = keras.Input((dim,))
    out = keras.layers.Dense(1, kernel_initializer="zeros", bias_initializer=keras.initializers.Constant(bias))(x)
    return keras.Model(x, out)


def _linear_critic(w):
    x = keras.Input((len(w),))
    dense = keras.layers.Dense(1)
    out = dense(x)
    dense.set_weights([np.asarray(w, "float32").reshape(-1, 1), np.zeros((1,), "float32")])
    return keras.Model(x, out)


@pytest.mark.parametrize("bias", [-1.5, 0.7])
def test_gan_losses_match_the_formulas(bias):
    gen = gan_networks.mlp_generator((2,), 3, (4,))
    real = np.zeros((8, 2), "float32")
    sp = lambda t: float(np.log1p(np.exp(t)))  # noqa: E731
    for loss, expected_g in (("non_saturating", sp(-bias)), ("minimax", float(np.log(1 - 1 / (1 + np.exp(-bias)))))):
        model = GAN(gen, _constant_critic(bias), loss=loss, label_smoothing=0.1, seed=0)
        d_loss, d_extra = model.discriminator_objective(real)
        g_loss, _ = model.generator_objective(real)
        # real targets 0.9: BCE = softplus(l) - 0.9 l ; fake: softplus(l)
        assert float(d_loss) == pytest.approx(sp(bias) - 0.9 * bias + sp(bias), rel=1e-5)
        assert float(g_loss) == pytest.approx(expected_g, rel=1e-5)
        assert float(d_extra["d_acc_real"]) == (1.0 if bias > 0 else 0.0)
        assert float(d_extra["d_acc_fake"]) == (0.0 if bias > 0 else 1.0)


def test_gradient_penalty_of_a_linear_critic():
    w = np.array([3.0, 4.0], "float32")  # ||grad|| = 5 everywhere
    model = WGANGP(gan_networks.mlp_generator((2,), 3, (4,)), _linear_critic(w), n_critic=1, gp_weight=10.0, seed=0)
    real = np.random.default_rng(0).normal(size=(16, 2)).astype("float32")
    gp = float(model.gradient_penalty(real, real[::-1].copy()))
    assert gp == pytest.approx((np.sqrt(25.0 + model.epsilon) - 1.0) ** 2, rel=1e-5)
    d_loss, extra = model.discriminator_objective(real)
    assert float(d_loss) == pytest.approx(-float(extra["wasserstein"]) + 10.0 * gp, rel=1e-4)


def test_both_optimizers_advance_and_survive_saving(tmp_path):
    model = keras_ae.zoo.wgan_gp(n_critic=2, seed=1, **TINY)
    d_before = [w.copy() for w in model.discriminator.get_weights()]
    history = model.fit(_images(), batch_size=8, epochs=1, verbose=0).history
    assert set(history) == {"d_loss", "g_loss", "wasserstein", "gradient_penalty"}
    assert int(model.g_optimizer.iterations) == 2 and int(model.d_optimizer.iterations) == 4
    assert int(model.optimizer.iterations) == 2  # model.optimizer counts generator updates
    assert any(not np.allclose(a, b) for a, b in zip(d_before, model.discriminator.get_weights()))
    path = str(tmp_path / "wgan.keras")
    model.save(path)
    loaded = keras_ae.load_model(path)
    assert int(loaded.d_optimizer.iterations) == 4 and int(loaded.g_optimizer.iterations) == 2
    for a, b in zip(model.d_optimizer.variables, loaded.d_optimizer.variables):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b))
    z = np.random.default_rng(0).normal(size=(4, 4)).astype("float32")
    np.testing.assert_allclose(loaded(z, training=False), model(z, training=False), atol=1e-6)
    loaded.fit(_images(), batch_size=8, epochs=1, verbose=0)
    assert int(loaded.d_optimizer.iterations) == 8


def test_sample_is_seeded_and_in_range():
    model = keras_ae.zoo.dcgan(**TINY)
    a, b = model.sample(5, seed=3), model.sample(5, seed=3)
    assert a.shape == (5, 8, 8, 1)
    np.testing.assert_array_equal(a, b)
    assert a.min() >= 0.0 and a.max() <= 1.0


def test_conditional_gan_samples_requested_classes_and_checks_labels():
    model = keras_ae.zoo.conditional_gan(num_classes=3, **TINY)
    x = _images(12)
    model.fit(x, np.arange(12) % 3, batch_size=6, epochs=1, verbose=0)
    assert model.sample(4, labels=2, seed=0).shape == (4, 8, 8, 1)
    with pytest.raises(ValueError, match=r"Labels must lie in \[0, 2\]"):
        model.fit(x, np.full(12, 3), batch_size=6, verbose=0)
    with pytest.raises(ValueError, match=r"\[0, 2\]"):
        model.sample(4, labels=5)
    with pytest.raises(ValueError, match="labels"):
        model.fit(x, batch_size=6, verbose=0)


def test_clear_errors():
    gen = gan_networks.conv_generator((8, 8, 1), 4, (2, 4))
    with pytest.raises(RuntimeError, match=r"compiled before fit.*each player gets Adam\(0.0002\)"):
        GAN(gen, gan_networks.conv_discriminator((8, 8, 1), (2, 4))).fit(_images(), verbose=0)
    with pytest.raises(RuntimeError, match=r"each player gets RMSprop\(5e-05\)"):  # the original WGAN's optimizer
        keras_ae.models.WGAN(gen, gan_networks.conv_discriminator((8, 8, 1), (2, 4))).fit(_images(), verbose=0)
    with pytest.raises(ValueError, match=r"generator produces examples of shape \(8, 8, 1\)"):
        GAN(gen, gan_networks.conv_discriminator((12, 12, 1), (2, 4)))
    with pytest.raises(ValueError, match="divisible by"):
        keras_ae.zoo.dcgan(input_shape=(10, 10, 1))
    with pytest.raises(ValueError, match="n_critic"):
        keras_ae.zoo.wgan_gp(n_critic=0, **TINY)
    with pytest.raises(ValueError, match="n_critic"):
        keras_ae.zoo.dcgan(n_critic=0, **TINY)
    with pytest.raises(ValueError, match="loss"):
        keras_ae.zoo.dense_gan(loss="hinge")
    model = keras_ae.zoo.dcgan(**TINY)
    with pytest.raises(ValueError, match=r"latent codes of shape \(batch, 4\)"):
        model(np.zeros((2, 5), "float32"))
    with pytest.raises(ValueError, match=r"Wrong images shape"):
        model.fit(np.zeros((4, 9, 9, 1), "float32"), verbose=0)
    with pytest.raises(ValueError, match="validation"):
        model.fit(_images(), validation_data=_images(), verbose=0)
    with pytest.raises(NotImplementedError, match="domain_fid"):
        model.evaluate(_images())
    with pytest.raises(ValueError, match="two inputs"):
        ConditionalGAN(gen, gan_networks.conv_discriminator((8, 8, 1), (2, 4)), num_classes=3)


def test_sample_grid_callback_writes_one_png_per_epoch(tmp_path):
    model = keras_ae.zoo.dcgan(**TINY)
    cb = SampleGrid(str(tmp_path), n=9, seed=0)
    model.fit(_images(), batch_size=8, epochs=2, verbose=0, callbacks=[cb])
    assert [os.path.basename(p) for p in cb.paths] == ["samples_epoch001.png", "samples_epoch002.png"]
    assert all(os.path.getsize(p) > 0 for p in cb.paths)


_BACKEND_SCRIPT = r"""
import json, numpy as np, keras, keras_ae
x = np.random.default_rng(0).uniform(0, 1, (16, 8, 8, 1)).astype("float32")
out = {}
for name in ("wgan_gp", "dcgan", "wgan"):
    m = keras_ae.zoo.create(name, input_shape=(8, 8, 1), latent_dim=4, filters=(2, 4), seed=0,
                            **({"n_critic": 2} if name != "dcgan" else {}))
    d0 = [w.copy() for w in m.discriminator.get_weights()]
    g0 = [w.copy() for w in m.generator.get_weights()]
    h = m.fit(x, batch_size=8, epochs=1, verbose=0).history
    out[name] = dict(
        g_it=int(m.g_optimizer.iterations), d_it=int(m.d_optimizer.iterations),
        d_changed=any(not np.allclose(a, b) for a, b in zip(d0, m.discriminator.get_weights())),
        g_changed=any(not np.allclose(a, b) for a, b in zip(g0, m.generator.get_weights())),
        finite=all(np.isfinite(v[-1]) for v in h.values()), metrics=sorted(h),
        d_max=max(float(np.abs(w).max()) for w in m.discriminator.get_weights()))
print("RESULT " + json.dumps(out))
"""


@pytest.mark.parametrize("backend", ["torch", "jax"])
def test_two_optimizer_step_on_other_backends(backend):
    env = dict(os.environ, KERAS_BACKEND=backend, TF_CPP_MIN_LOG_LEVEL="3")
    proc = subprocess.run([sys.executable, "-c", _BACKEND_SCRIPT], capture_output=True, text=True, env=env,
                          timeout=600)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
    assert lines, proc.stderr[-3000:]
    out = json.loads(lines[-1][len("RESULT "):])
    assert out["wgan_gp"]["g_it"] == 2 and out["wgan_gp"]["d_it"] == 4
    assert out["dcgan"]["g_it"] == 2 and out["dcgan"]["d_it"] == 2
    for row in out.values():
        assert row["d_changed"] and row["g_changed"] and row["finite"]
    assert out["wgan_gp"]["metrics"] == ["d_loss", "g_loss", "gradient_penalty", "wasserstein"]
    # the WGAN's critic is clipped inside the backend's compiled step (JAX: on the values the step returns)
    assert out["wgan"]["g_it"] == 2 and out["wgan"]["d_it"] == 4
    assert out["wgan"]["metrics"] == ["d_loss", "g_loss", "wasserstein"]
    assert out["wgan"]["d_max"] <= 0.01 + 1e-7 < out["wgan_gp"]["d_max"]


# ----- the original WGAN (weight clipping) ---------------------------------------------------------------------
def test_wgan_losses_and_clipped_critic_after_each_update():
    model = keras_ae.zoo.wgan(n_critic=3, clip_value=0.02, seed=0, **TINY)
    assert isinstance(model, WGAN) and isinstance(model.d_optimizer, keras.optimizers.RMSprop)
    assert max(float(np.abs(w).max()) for w in model.discriminator.get_weights()) > 0.02  # not clipped when built
    real = _images(8)
    d_loss, extra = model.discriminator_objective(real)
    assert float(d_loss) == pytest.approx(-float(extra["wasserstein"]), rel=1e-6)
    history = model.fit(_images(), batch_size=8, epochs=1, verbose=0).history
    assert set(history) == {"d_loss", "g_loss", "wasserstein"}
    assert int(model.d_optimizer.iterations) == 6 and int(model.g_optimizer.iterations) == 2
    weights = model.discriminator.get_weights()
    assert max(float(np.abs(w).max()) for w in weights) <= 0.02 + 1e-7
    assert any(np.isclose(np.abs(w), 0.02).any() for w in weights)  # the bound is reached: clipping acted
    # the generator is not clipped
    assert max(float(np.abs(w).max()) for w in model.generator.get_weights()) > 0.02


def test_wgan_generator_loss_is_minus_the_critic_mean():
    model = WGAN(gan_networks.mlp_generator((2,), 3, (4,)), _constant_critic(0.3), seed=0)
    g_loss, _ = model.generator_objective(np.zeros((8, 2), "float32"))
    assert float(g_loss) == pytest.approx(-0.3, rel=1e-6)
    assert model.n_critic == 5 and model.clip_value == 0.01  # the paper's defaults
    model.compile()
    assert isinstance(model.g_optimizer, keras.optimizers.RMSprop)
    assert float(model.g_optimizer.learning_rate) == pytest.approx(5e-5)


@pytest.mark.parametrize("clip_value", [0.0, -0.01, float("inf")])
def test_wgan_refuses_a_clip_value_that_is_not_positive(clip_value):
    with pytest.raises(ValueError, match=r"`clip_value` must be a finite number > 0; received"):
        WGAN(gan_networks.mlp_generator((2,), 3, (4,)), gan_networks.mlp_discriminator((2,), (4,)),
             clip_value=clip_value)
    with pytest.raises(ValueError, match="clip_value"):
        keras_ae.zoo.dense_wgan(clip_value=clip_value, hidden=(4,))
    with pytest.raises(TypeError, match="label_smoothing"):
        WGAN(gan_networks.mlp_generator((2,), 3, (4,)), gan_networks.mlp_discriminator((2,), (4,)),
             label_smoothing=0.1)


def test_wgan_saves_clip_value_and_both_optimizers(tmp_path):
    model = keras_ae.zoo.wgan(n_critic=2, clip_value=0.05, seed=1, norm="batch", **TINY)  # the paper's BN critic
    model.fit(_images(), batch_size=8, epochs=1, verbose=0)
    path = str(tmp_path / "wgan.keras")
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    assert type(loaded) is WGAN and loaded.clip_value == 0.05 and loaded.n_critic == 2
    assert isinstance(loaded.d_optimizer, keras.optimizers.RMSprop)
    assert int(loaded.d_optimizer.iterations) == 4 and int(loaded.g_optimizer.iterations) == 2
    loaded.fit(_images(), batch_size=8, epochs=1, verbose=0)
    assert int(loaded.d_optimizer.iterations) == 8
    assert max(float(np.abs(w).max()) for w in loaded.discriminator.trainable_weights) <= 0.05 + 1e-7
