"""`[train] learning_rate_schedule = "cosine"`: the recipe runner decays the learning rate over the run, the schedule
is saved with the optimizer, and a resumed run continues it (the same rates and losses as an uninterrupted run)."""

import json
import math
import pathlib

import numpy as np
import pytest

from keras_ae import cli, recipes, runs, zoo

ROOT = pathlib.Path(__file__).resolve().parents[1]

EPOCHS, TRAIN, BATCH = 3, 256, 64  # 4 batches per epoch, 12 steps in all
TINY = ["--arg", "num_layers=1", "--arg", "hidden=[8]", "--arg", "bins=4", "--arg", "learning_rate=2e-3"]


def _argv(out, epochs=EPOCHS):
    return ["train", str(ROOT / "zoo" / "spline_2d_moons.toml"), "--out", str(out), "--epochs", str(epochs), "--quiet",
            "--train-split", f"train[:{TRAIN}]", "--test-split", "test[:64]", "--batch-size", str(BATCH), *TINY]


def _cosine(step, total, initial=2e-3, floor=recipes.COSINE_FLOOR):
    return initial * (floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * min(step, total) / total)))


def test_cosine_schedule_decays_over_the_run_and_resumes(tmp_path, monkeypatch, capsys):
    import keras_ae

    out = tmp_path / "run"
    monkeypatch.setenv(runs.FAULT_ENV, "epoch_end:train:1=raise")  # killed after the first epoch
    with pytest.raises(runs.SimulatedCrash):
        cli.main(_argv(out))
    monkeypatch.delenv(runs.FAULT_ENV)
    assert cli.main(_argv(out)) == 0  # resumed from the checkpoint: the restored optimizer continues the schedule
    history = json.loads((out / "history.json").read_text())
    steps = EPOCHS * TRAIN // BATCH
    # the rate after each epoch: one cosine over the 12 steps of the whole run, down to 1% of 2e-3 at its end
    expected = [_cosine((e + 1) * TRAIN // BATCH, steps) for e in range(EPOCHS)]
    np.testing.assert_allclose(history["learning_rate"], expected, rtol=1e-5)
    assert history["learning_rate"][-1] == pytest.approx(2e-5, rel=1e-4)
    model = keras_ae.load_model(str(out / "model.keras"), safe_mode=True)
    config = model.optimizer.get_config()["learning_rate"]
    assert config["class_name"] == "CosineDecay" and config["config"]["decay_steps"] == steps
    assert int(model.optimizer.iterations) == steps
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["setting"]["learning_rate_schedule"] == "cosine"

    # asking for more epochs would stretch the cosine half-way: refused, with what to do
    capsys.readouterr()
    assert cli.main(_argv(out, epochs=EPOCHS + 1)) == runs.RunFolderError.exit_status
    err = capsys.readouterr().err
    assert f"cosine decay over {steps} steps" in err and f"spans {steps + 4} steps" in err and "--overwrite" in err


def test_the_constant_default_leaves_the_optimizer_and_the_fingerprint_alone():
    recipe = recipes.load_recipe(ROOT / "zoo" / "conv_vae_digits.toml")
    assert recipe.train["learning_rate_schedule"] == "constant"
    assert "learning_rate_schedule" not in recipe.fingerprint()["train"]  # older run folders still resume
    cosine = recipes.load_recipe(ROOT / "zoo" / "spline_2d_moons.toml")
    assert cosine.fingerprint()["train"]["learning_rate_schedule"] == "cosine"


def test_gan_schedules_both_players_by_their_updates(tmp_path):
    """A GAN's critic steps ``n_critic`` times per batch; the cosine replaces the constructor's linear decay and is
    saved with both optimizers."""
    import keras_ae

    entry = zoo.get_entry("dense_wgan_gp")
    model = zoo.create("dense_wgan_gp", **entry.test_kwargs)
    family = recipes.family_recipe("dense_wgan_gp")
    pairs = family.scheduled_optimizers(model)
    assert [u for _, u in pairs] == [1, model.n_critic] and model.n_critic > 1
    before = [optimizer.get_config()["learning_rate"] for optimizer, _ in pairs]
    assert [b["class_name"] for b in before] == ["PolynomialDecay"] * 2  # the constructor's lr_decay_steps
    for optimizer, updates in pairs:
        assert recipes.schedule_learning_rate(optimizer, "cosine", 10 * updates)
    model.save(tmp_path / "gan.keras")
    loaded = keras_ae.load_model(str(tmp_path / "gan.keras"), safe_mode=True)
    for optimizer, steps in ((loaded.g_optimizer, 10), (loaded.d_optimizer, 10 * model.n_critic)):
        config = optimizer.get_config()["learning_rate"]
        assert config["class_name"] == "CosineDecay", config
        assert config["config"]["decay_steps"] == steps
        assert config["config"]["initial_learning_rate"] == pytest.approx(
            before[0]["config"]["initial_learning_rate"], rel=1e-6)


@pytest.mark.parametrize("steps", [None, 0])
def test_gan_lr_decay_steps_none_or_zero_keeps_the_rate_constant(steps):
    """``lr_decay_steps=0`` is the constant rate that ``None`` gives (a TOML recipe and ``--arg`` cannot write
    ``None``: the paper's WGAN setting is ``--arg lr_decay_steps=0``); a negative count is refused."""
    from keras_ae.errors import InvalidArgumentError

    entry = zoo.get_entry("dense_wgan")
    model = zoo.create("dense_wgan", **{**entry.test_kwargs, "learning_rate": 5e-5, "lr_decay_steps": steps})
    for optimizer in (model.d_optimizer, model.g_optimizer):
        assert optimizer.get_config()["learning_rate"] == pytest.approx(5e-5)  # a float, not a schedule
    decayed = zoo.create("dense_wgan", **{**entry.test_kwargs, "lr_decay_steps": 3})
    assert decayed.g_optimizer.get_config()["learning_rate"]["class_name"] == "PolynomialDecay"
    with pytest.raises(InvalidArgumentError, match=r"`lr_decay_steps` must be an integer >= 0; received -1"):
        zoo.create("dense_wgan", **{**entry.test_kwargs, "lr_decay_steps": -1})


def test_a_weight_average_run_killed_after_training_resumes_to_the_same_model(tmp_path, monkeypatch):
    """With ``ema_momentum``, ``fit`` swaps the weight average in after the last epoch: the last checkpoint holds it,
    so a run killed mid-run and again after training (before model.keras) ends with the uninterrupted run's model."""
    import keras_ae

    ema = ["--arg", "ema_momentum=0.9"]
    base, out = tmp_path / "uninterrupted", tmp_path / "killed"
    assert cli.main(_argv(base) + ema) == 0
    for fault in ("epoch_end:train:1=raise", "trained=raise"):
        monkeypatch.setenv(runs.FAULT_ENV, fault)
        with pytest.raises(runs.SimulatedCrash):
            cli.main(_argv(out) + ema)
    monkeypatch.delenv(runs.FAULT_ENV)
    assert cli.main(_argv(out) + ema) == 0
    a = keras_ae.load_model(str(base / "model.keras"), safe_mode=True)
    b = keras_ae.load_model(str(out / "model.keras"), safe_mode=True)
    assert b.optimizer.use_ema
    for v, average in zip(b.trainable_weights, b.optimizer._model_variables_moving_average):
        np.testing.assert_array_equal(np.array(v), np.array(average))  # the saved model holds the average
    for x, y in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_allclose(x, y, rtol=1e-6, atol=1e-7)
    metrics = [json.loads((d / "metrics.json").read_text())["test_nll"] for d in (base, out)]
    assert metrics[0] == pytest.approx(metrics[1], abs=1e-6)
