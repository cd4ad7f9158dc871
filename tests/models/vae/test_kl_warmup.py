"""The VAE's KL warm-up (``kl_warmup_steps``): the KL's weight in the training loss rises linearly to ``beta``, the
step count is saved and resumed, evaluation and ``neg_elbo`` use the full weight, and models without a warm-up
keep their config and weights as before. (The torch and JAX steps are checked in test_flow_posterior.py's backend
subprocess.)"""

import keras
import numpy as np
import pytest

import keras_ae
from keras_ae import zoo

TINY = dict(input_shape=(8, 8, 1), latent_dim=2, hidden=(8,), seed=0)


def _images(n=16, seed=0):
    return (np.random.default_rng(seed).uniform(size=(n, 8, 8, 1)) > 0.5).astype("float32")


def _count(model):
    return float(keras.ops.convert_to_numpy(model.kl_warmup_step))


@pytest.mark.parametrize("posterior_flow", [None, "planar"])
def test_first_step_weighs_the_kl_by_one_over_the_warmup(posterior_flow):
    """The first training step's loss is ``reconstruction + beta * kl / T`` (the same forward pass's terms), and
    one step is counted; without a warm-up it is ``reconstruction + beta * kl``."""
    keras.utils.set_random_seed(0)
    for steps, weight in ((4, 0.5 / 4), (0, 0.5)):
        model = zoo.dense_vae(beta=0.5, kl_warmup_steps=steps, posterior_flow=posterior_flow, flow_steps=1, **TINY)
        logs = model.train_on_batch(_images(8), return_dict=True)
        assert logs["kl_loss"] > 0.1
        assert logs["loss"] == pytest.approx(logs["reconstruction_loss"] + weight * logs["kl_loss"], rel=1e-5)
        assert logs["neg_elbo"] == pytest.approx(logs["reconstruction_loss"] + logs["kl_loss"], rel=1e-5)
        if steps:
            assert _count(model) == 1.0


def test_weight_rises_linearly_and_stops_at_beta():
    model = zoo.dense_vae(beta=2.0, kl_warmup_steps=3, **TINY)
    weights = [float(keras.ops.convert_to_numpy(model._kl_weight(True))) for _ in range(5)]
    assert weights == pytest.approx([2 / 3, 4 / 3, 2.0, 2.0, 2.0])
    assert _count(model) == 3.0  # capped: the count never grows past the warm-up
    assert model._kl_weight(False) == 2.0 and _count(model) == 3.0  # evaluation: the full weight, nothing counted


def test_fit_counts_steps_and_evaluation_does_not():
    model = zoo.dense_vae(kl_warmup_steps=100, **TINY)
    model.fit(_images(16), epochs=3, batch_size=4, validation_data=(_images(8, seed=1),), verbose=0)
    assert _count(model) == 12.0 == int(model.optimizer.iterations)  # 3 epochs x 4 steps, no validation steps
    logs = model.evaluate(_images(8, seed=1), batch_size=4, verbose=0, return_dict=True)
    assert logs["loss"] == pytest.approx(logs["reconstruction_loss"] + logs["kl_loss"], rel=1e-5)
    assert _count(model) == 12.0


def test_warmup_is_saved_and_resumes(tmp_path):
    """A reloaded model (safe_mode=True) has the warm-up and its count, and goes on counting from there."""
    model = zoo.dense_vae(kl_warmup_steps=6, **TINY)
    model.fit(_images(16), epochs=1, batch_size=4, verbose=0)
    path = str(tmp_path / "model.keras")
    model.save(path)
    loaded = keras_ae.load_model(path, safe_mode=True)
    assert loaded.kl_warmup_steps == 6 and _count(loaded) == 4.0 and int(loaded.optimizer.iterations) == 4
    loaded.fit(_images(16), epochs=1, batch_size=4, verbose=0)
    assert _count(loaded) == 6.0 and int(loaded.optimizer.iterations) == 8


def test_no_warmup_keeps_the_config_and_weights_of_before():
    """Without a warm-up the model has no extra variable and no new config key, so files saved before the warm-up
    existed load unchanged and new files load in older versions."""
    plain, warm = zoo.dense_vae(**TINY), zoo.dense_vae(kl_warmup_steps=5, **TINY)
    assert "kl_warmup_steps" not in plain.get_config() and warm.get_config()["kl_warmup_steps"] == 5
    assert len(warm.weights) == len(plain.weights) + 1
    assert not hasattr(plain, "kl_warmup_step")
