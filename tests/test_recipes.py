"""Every recipe in zoo/ through `keras-ae train`: interrupted, resumed, measured, drawn, reloaded in a fresh process.

The recipes run on small data (a few dozen examples: the MNIST sample in tests/fixtures, digits, the synthetic sets)
with the zoo entries' tiny constructor arguments, one or two epochs per stage; their own settings (stages, options,
losses, batch sizes) are kept. `pytest -m slow tests/test_recipes.py` runs them with their own model sizes.
"""

import json
import math
import pathlib

import numpy as np
import pytest

from keras_ae import cli, recipes, runs, zoo
from keras_ae.testing import record_reference, reload_in_fresh_process

ROOT = pathlib.Path(__file__).resolve().parents[1]
RECIPES = sorted((ROOT / "zoo").glob("*.toml"))
MNIST = ROOT / "tests" / "fixtures" / "mnist"

# Small splits of each dataset a recipe names (MNIST recipes read the IDX sample kept in the repository).
SMALL = {
    "mnist": (f"idx:{MNIST}", "test[:48]", "test[48:80]"),
    "digits": ("digits", "train[:48]", "test[:32]"),
    "image_patches": ("image_patches", "train[:48]", "test[:32]"),
    "cells": ("cells", "train[:4]", "test[:2]"),
}
SMALL_OPTIONS = {"fid_samples": 32, "fid_classifier_epochs": 1, "ring_samples": 256, "elbo_passes": 2,
                 "epoch_fid_samples": 32, "figure_examples": 2}
FEW_LABELS = [2]
# What metrics.json must hold, per family (finite numbers).
MEASURES = {
    "autoencoder": ["test_loss", "test_mse"],
    "vae": ["test_loss", "test_neg_elbo", "beta"],
    "vqvae": ["test_loss", "test_perplexity_codes", "test_prior_nll_per_code"],
    "gan": [],  # by data: below
    "flow": ["test_nll"],
    "unet": ["test_mean_iou", "test_mean_dice"],
}


def _family(path):
    return zoo.get_entry(recipes.load_recipe(path).model).family


def test_recipes_cover_the_zoo():
    """One recipe per model at least: adding a zoo entry means adding zoo/<model>_<dataset>.toml."""
    models = {recipes.load_recipe(p).model for p in RECIPES}
    assert models == set(zoo.list_models()), (
        f"models without a recipe: {sorted(set(zoo.list_models()) - models)}; recipes of unknown models: "
        f"{sorted(models - set(zoo.list_models()))}")


def _small_command(path, out, epochs=2):
    recipe = recipes.load_recipe(path)
    family = recipes.family_recipe(recipe.model)
    dataset, train, test = SMALL.get(recipe.data["dataset"], (recipe.data["dataset"], "train[:256]", "test[:64]"))
    argv = ["train", str(path), "--out", str(out), "--epochs", str(epochs), "--quiet", "--dataset", dataset,
            "--train-split", train, "--test-split", test]
    tiny = {k: v for k, v in zoo.get_entry(recipe.model).test_kwargs.items() if k not in ("input_shape", "num_classes")}
    for key, value in tiny.items():
        argv += ["--arg", f"{key}={json.dumps(list(value) if isinstance(value, tuple) else value)}"]
    for key, value in SMALL_OPTIONS.items():
        if key in family.options:
            argv += ["--option", f"{key}={json.dumps(value)}"]
    if "labels_per_class" in recipe.options:  # the semi-supervised probe, small (only where a recipe asks for it)
        argv += ["--option", f"labels_per_class={json.dumps(FEW_LABELS)}", "--option", "classifier_steps=2"]
    for name in family.stage_names(recipe.model):
        argv += ["--stage-epochs", f"{name}=1"]
    return recipe, family, argv


def _check_metrics(family_name, metrics, out):
    keys = list(MEASURES[family_name])
    if family_name == "gan":
        keys = ["modes_covered", "high_quality_share"] if metrics["setting"]["dataset"] == "ring_of_gaussians" \
            else ["sample_fid"]
    for key in keys:
        assert key in metrics and math.isfinite(float(metrics[key])), (key, sorted(metrics))
    assert "history.png" in metrics["figures"] and len(metrics["figures"]) >= 2, metrics["figures"]
    for name in metrics["figures"]:
        assert (out / name).is_file(), name


FAMILIES = sorted({_family(p) for p in RECIPES})


@pytest.fixture
def eager_tensorflow():
    """Run Keras' train and test steps eagerly: on a few dozen examples, tracing the compiled step costs two to
    three times the CPU of the whole run. The compiled path is what the other tests (and the kill tests, which run
    `keras-ae train` in subprocesses) exercise."""
    import tensorflow as tf

    before = tf.config.functions_run_eagerly()
    tf.config.run_functions_eagerly(True)
    yield
    tf.config.run_functions_eagerly(before)


@pytest.mark.parametrize("family_name", FAMILIES)
def test_family_recipes_train_resume_measure_and_reload(family_name, tmp_path, monkeypatch, eager_tensorflow):
    """Each recipe of the family: a first run interrupted after the first epoch of its first stage, a rerun that
    resumes there (no epoch trained twice, the full history), the family's measures and figures, then every
    model.keras reloaded in one fresh process with safe_mode=True (same outputs, optimizer state, resumed fit)."""
    import keras_ae

    pairs = []
    for path in [p for p in RECIPES if _family(p) == family_name]:
        out = tmp_path / path.stem
        recipe, family, argv = _small_command(path, out)
        first = recipes._stage_epochs(recipe, family)
        first_stage = "pretrain_0" if "pretrain" in first else family.main_stage
        monkeypatch.setenv(runs.FAULT_ENV, f"epoch_end:{first_stage}:1=raise")
        with pytest.raises(runs.SimulatedCrash):
            cli.main(argv)
        state = json.loads((out / "state" / "state.json").read_text())
        assert state["progress"] == {first_stage: 1}, (path.name, state["progress"])
        assert not (out / "model.keras").exists() and not (out / "metrics.json").exists()
        monkeypatch.delenv(runs.FAULT_ENV)
        assert cli.main(argv) == 0, path.name
        state = json.loads((out / "state" / "state.json").read_text())
        history = json.loads((out / "history.json").read_text())
        main_keys = [k for k in history if "/" not in k]
        assert main_keys and all(len(history[k]) == 2 for k in main_keys), (path.name, history)
        assert state["progress"][family.main_stage] == 2
        metrics = json.loads((out / "metrics.json").read_text())
        _check_metrics(family_name, metrics, out)
        if "labels_per_class" in recipe.options:
            for key in ("probe_codes", "probe_pixels", "classifier_fine_tuned", "classifier_frozen",
                        "classifier_from_scratch"):
                assert 0 <= metrics[f"test_{key}_{FEW_LABELS[0]}pc"] <= 1, (path.name, key, sorted(metrics))
        model = keras_ae.load_model(str(out / "model.keras"), safe_mode=True)
        entry = zoo.get_entry(recipe.model)
        pairs.append((out / "model.keras", record_reference(model, entry.test_data, str(out / "reference.npz"))))
    reports = reload_in_fresh_process(pairs, atol=1e-5)
    assert len(reports) == len(pairs)
    for report in reports:
        assert report["iterations_after"] > report["iterations_before"], report


@pytest.mark.slow
@pytest.mark.parametrize("path", RECIPES, ids=[p.stem for p in RECIPES])
def test_recipe_at_full_model_size(path, tmp_path):
    """The recipe's own model, one epoch per stage on small data."""
    recipe, family, argv = _small_command(path, tmp_path, epochs=1)
    argv = [a for a in argv]
    while "--arg" in argv:  # keep the recipe's own constructor arguments
        i = argv.index("--arg")
        del argv[i : i + 2]
    assert cli.main(argv) == 0
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    _check_metrics(_family(path), metrics, tmp_path)


def test_rerun_of_a_finished_run_does_not_train(tmp_path, capsys):
    path = ROOT / "zoo" / "dense_ae_digits.toml"
    _, _, argv = _small_command(path, tmp_path, epochs=1)
    assert cli.main(argv) == 0
    before = (tmp_path / "state" / "state.json").read_text()
    model_before = (tmp_path / "model.keras").read_bytes()
    (tmp_path / "metrics.json").unlink()
    assert cli.main(argv) == 0  # metrics and figures redone, nothing trained
    assert json.loads((tmp_path / "state" / "state.json").read_text())["progress"] == json.loads(before)["progress"]
    assert (tmp_path / "model.keras").read_bytes() == model_before
    assert (tmp_path / "metrics.json").is_file()
    # more epochs continue the same run; fewer, or another setting, are refused with what to do
    assert cli.main(argv[:argv.index("--epochs") + 1] + ["3"] + argv[argv.index("--epochs") + 2:]) == 0
    assert json.loads((tmp_path / "state" / "state.json").read_text())["progress"] == {"train": 3}
    capsys.readouterr()
    assert cli.main(argv) == 7  # the folder holds another run (README: exit statuses)
    assert "already holds 3 epochs" in capsys.readouterr().err
    assert cli.main(argv + ["--seed", "1"]) == 7
    err = capsys.readouterr().err
    assert "another setting" in err and "seed" in err and "--overwrite" in err
    assert cli.main(argv + ["--seed", "1", "--overwrite"]) == 0


def test_pca_baseline_beside_the_codes(tmp_path, capsys):
    """[options] pca_baseline (zoo/conv_ae_mnist.toml): PCA with as many components as the code, fit on the train
    split, measured like the codes; a code PCA cannot match is refused before training."""
    from sklearn.decomposition import PCA

    from keras_ae.data import load_numpy

    path = ROOT / "zoo" / "conv_ae_mnist.toml"
    assert recipes.load_recipe(path).options["pca_baseline"] is True
    _, _, argv = _small_command(path, tmp_path / "run", epochs=1)
    assert cli.main(argv) == 0
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    k = zoo.get_entry("conv_ae").test_kwargs["latent_dim"]
    assert metrics["pca_components"] == k
    x_train, _ = load_numpy(f"idx:{MNIST}", "test[:48]")
    x_test, _ = load_numpy(f"idx:{MNIST}", "test[48:80]")
    flat_train, flat_test = x_train.reshape(48, -1), x_test.reshape(32, -1)
    pca = PCA(n_components=k, random_state=0).fit(flat_train)
    expected = np.mean((pca.inverse_transform(pca.transform(flat_test)) - flat_test) ** 2)
    assert metrics["test_pca_mse"] == pytest.approx(expected, rel=1e-5)
    assert 0 <= metrics["test_pca_cluster_accuracy"] <= 1 and 0 <= metrics["test_pca_cluster_nmi"] <= 1
    capsys.readouterr()
    too_big = argv + ["--arg", "latent_dim=64", "--train-split", "test[:16]", "--out", str(tmp_path / "big")]
    assert cli.main(too_big) == 3
    assert "pca_baseline" in capsys.readouterr().err and not (tmp_path / "big" / "model.keras").exists()


@pytest.mark.parametrize("value, match", [("[0]", "integers >= 1"), ("[1000]", "rarest class"),
                                          ("[true]", "integers >= 1")])
def test_labels_per_class_is_refused_before_training(value, match, tmp_path, capsys):
    _, _, argv = _small_command(ROOT / "zoo" / "dense_ae_digits.toml", tmp_path, epochs=1)
    assert cli.main(argv + ["--option", f"labels_per_class={value}"]) == 3
    assert match in capsys.readouterr().err and not (tmp_path / "model.keras").exists()


def test_stage_and_option_names_are_checked(tmp_path, capsys):
    path = ROOT / "zoo" / "vq_vae_mnist.toml"
    assert cli.main(["train", str(path), "--out", str(tmp_path), "--stage-epochs", "prio=2"]) == 2
    assert "Did you mean 'prior'" in capsys.readouterr().err
    assert cli.main(["train", str(path), "--out", str(tmp_path), "--option", "prior_batchsize=2"]) == 2
    assert "Did you mean 'prior_batch_size'" in capsys.readouterr().err
    assert cli.main(["train", str(path), "--out", str(tmp_path), "--epochs", "0"]) == 2
    assert "must be an integer >= 1" in capsys.readouterr().err
    assert cli.main(["train", str(path), "--out", str(tmp_path), "--batch-size", "0"]) == 2
    assert "--batch-size must be an integer >= 1" in capsys.readouterr().err
    assert not (tmp_path / "state" / "state.json").exists()


def test_dataset_names_reach_every_family():
    from keras_ae.data.catalog import dataset_info, load_arrays

    assert dataset_info("cells").kind == "segmentation" and dataset_info("ring_of_gaussians").kind == "points"
    ring = load_arrays("ring_of_gaussians", "test[:100]")
    assert ring.x.shape == (100, 2) and len(ring.info.meta["centers"]) == 8
    cells = load_arrays("cells", "train[:3]")
    assert cells.x.shape == (3, 64, 64, 1) and cells.y.shape == (3, 64, 64) and cells.extras["instances"].shape == (3, 64, 64)
    assert set(np.unique(cells.y)) <= {0, 1, 2}
    moons = load_arrays("two_moons", "train")
    np.testing.assert_allclose(moons.x.mean(0), 0.0, atol=1e-5)  # standardized on train
    assert len(load_arrays("two_moons", "test").x) == 600
    patches = load_arrays("image_patches", "test[:10]")
    assert patches.x.shape == (10, 10, 10, 1) and patches.x.min() >= 0.1 - 1e-6 and not patches.info.has_labels
    with pytest.raises(ValueError, match="two_moons"):
        load_arrays("two_moon", "train")


def _summary_tags(folder):
    import tensorflow as tf
    from tensorflow.core.util import event_pb2

    tags = {}
    for path in folder.glob("events.out.tfevents.*"):
        for record in tf.data.TFRecordDataset(str(path)):
            event = event_pb2.Event.FromString(record.numpy())
            for value in event.summary.value:
                tags.setdefault(value.tag, []).append((event.step, value.metadata.plugin_data.plugin_name, value))
    return tags


def test_tensorboard_scalars_and_images_per_epoch(tmp_path):
    text = (ROOT / "zoo" / "conv_vae_digits.toml").read_text().replace("seed = 0\n", "seed = 0\ntensorboard = true\n", 1)
    assert "tensorboard = true" in text
    recipe = recipes.parse_recipe(text)
    assert recipe.train["tensorboard"] is True
    recipe.data.update(train_split="train[:64]", test_split="test[:16]")
    recipe.model_args.update(filters=[4, 8], dense_units=8)
    recipes.run(recipe, out=str(tmp_path), epochs=2, verbose=0)
    board = tmp_path / "tensorboard"
    train, validation, images = (_summary_tags(board / name) for name in ("train", "validation", "images"))
    assert [step for step, plugin, _ in train["epoch_neg_elbo"]] == [0, 1]
    assert {plugin for _, plugin, _ in train["epoch_loss"]} == {"scalars"} and "epoch_learning_rate" in train
    assert set(validation) >= {"epoch_loss", "epoch_neg_elbo"}  # val_ metrics, on the same charts
    for tag in ("reconstructions", "samples"):
        steps = [step for step, plugin, _ in images[tag] if plugin == "images"]
        assert steps == [0, 1], tag
        import tensorflow as tf

        strings = tf.make_ndarray(images[tag][0][2].tensor)
        assert strings[0] == b"8" and strings[1] == b"8" and strings[2][:4] == b"\x89PNG"  # width, height, PNGs


@pytest.mark.parametrize("requested, batches, expected", [(50, 196, 49), (50, 4, 4), (50, 200, 50), (3, 7, 1), (1, 9, 1)])
def test_steps_per_execution_divides_the_epoch(requested, batches, expected):
    assert recipes.effective_steps_per_execution(requested, batches) == expected
    with pytest.raises(ValueError, match="received 0"):
        recipes.effective_steps_per_execution(0, batches)


def test_steps_per_execution_keeps_epochs_and_tensorboard_sees_epoch_scores(tmp_path):
    """The ring recipe asks for 50 batches per compiled call; on 4 batches per epoch each epoch must still train on
    its own 4 batches (a compiled call of 50 ran into the next epoch, which then ran out of data and logged zeros),
    and the TensorBoard summaries come after the callbacks that add to the logs (the GAN's epoch score)."""
    import keras

    recipe = recipes.load_recipe(ROOT / "zoo" / "dense_gan_ring.toml")
    assert recipe.train["steps_per_execution"] == 50
    recipe.data.update(train_split="train[:1024]", test_split="test[:64]", batch_size=256)
    recipe.train["tensorboard"] = True
    recipe.options.update(ring_samples=256, epoch_scores=True)
    recipe.model_args.update({k: list(v) if isinstance(v, tuple) else v
                              for k, v in zoo.get_entry("dense_gan").test_kwargs.items() if k != "input_shape"})
    recipes.run(recipe, out=str(tmp_path), epochs=3, verbose=0)
    history = json.loads((tmp_path / "history.json").read_text())
    assert all(v > 0 for v in history["d_loss"]) and len(history["d_loss"]) == 3, history
    assert len(history["modes_covered"]) == 3 and all(0 <= m <= 8 and m == int(m) for m in history["modes_covered"])
    model = keras.saving.load_model(tmp_path / "model.keras", safe_mode=True)
    assert int(model.g_optimizer.iterations.numpy()) == 3 * 4
    train = _summary_tags(tmp_path / "tensorboard" / "train")
    assert [step for step, _, _ in train["epoch_ring_quality"]] == [0, 1, 2]
