"""The keras-ae command line and recipe files."""

import json
import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest

import keras_ae
from keras_ae import cli, recipes, zoo

ROOT = pathlib.Path(__file__).resolve().parents[1]


def test_list_prints_every_model(capsys):
    assert cli.main(["list"]) == 0
    out = capsys.readouterr().out
    for name in zoo.list_models():
        assert name in out
    assert out.splitlines()[0].split()[:2] == ["model", "family"]


def test_console_script_is_installed():
    proc = subprocess.run([os.path.join(os.path.dirname(sys.executable), "keras-ae"), "describe", "conv_vae"],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["family"] == "vae"


def test_shipped_recipes_parse():
    names = sorted(p.name for p in (ROOT / "zoo").glob("*.toml"))
    assert {"conv_vae_digits.toml", "conv_vae_mnist.toml"} <= set(names)
    for name in names:
        r = recipes.load_recipe(ROOT / "zoo" / name)
        assert r.model in zoo.list_models()


@pytest.mark.parametrize(
    "text, match",
    [
        ('model = "conv_vae"\nepochs = 3\n[data]\ndataset = "digits"', r"unknown key 'epochs'.*Valid keys"),
        ('model = "conv_vae"\n[data]\ndataset = "digits"\nbatchsize = 3', r"'batchsize'.*Did you mean 'batch_size'"),
        ('model = "conv_vae"\n[data]\ndataset = "digits"\n[train]\nepoch = 3', r"Did you mean 'epochs'"),
        ('model = "conv_vea"\n[data]\ndataset = "digits"', r"conv_vae"),
        ('model = "conv_vae"\n[data]\ndataset = "digits"\n[train]\nepochs = "3"', r"must be a int"),
        ('[data]\ndataset = "digits"', r"missing the top-level key 'model'"),
        ('model = "conv_vae"', r"missing \[data\] dataset"),
        ('model = = 3', r"not valid TOML"),
    ],
)
def test_recipe_errors_name_the_key(text, match):
    with pytest.raises(ValueError, match=match):
        recipes.parse_recipe(text)


def test_recipes_are_data_not_code(tmp_path):
    marker = tmp_path / "pwned"
    text = f'model = "conv_vae"\n[data]\ndataset = "__import__(\'os\').mknod(\'{marker}\')"'
    recipe = recipes.parse_recipe(text)
    with pytest.raises(ValueError):
        recipes.run(recipe, out=str(tmp_path / "out"), epochs=1, verbose=0)
    assert not marker.exists()


def test_train_recipe_writes_model_metrics_and_figures(tmp_path):
    out = tmp_path / "run"
    assert cli.main(["train", str(ROOT / "zoo" / "conv_vae_digits.toml"), "--epochs", "2", "--out", str(out),
                     "--verbose", "0"]) == 0
    for name in ("model.keras", "history.json", "metrics.json", "reconstructions.png", "latent.png",
                 "manifold.png", "samples.png", "history.png"):
        assert (out / name).is_file(), name
    metrics = json.loads((out / "metrics.json").read_text())
    assert np.isfinite(metrics["test_neg_elbo"])
    assert metrics["setting"]["epochs"] == 2 and metrics["setting"]["seed"] == 0
    assert metrics["setting"]["model_args"]["input_shape"] == [8, 8, 1]
    history = json.loads((out / "history.json").read_text())
    assert len(history["neg_elbo"]) == 2 and "val_neg_elbo" in history
    model = keras_ae.load_model(str(out / "model.keras"))
    assert model.latent_dim == 2


def test_train_model_by_name_with_arguments(tmp_path, capsys):
    out = tmp_path / "cvae"
    assert cli.main(["train", "conv_cvae", "--dataset", "digits", "--epochs", "1", "--out", str(out),
                     "--arg", "latent_dim=3", "--arg", "filters=[8, 16]", "--verbose", "0"]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["setting"]["model_args"]["num_classes"] == 10
    assert metrics["setting"]["model_args"]["filters"] == [8, 16]
    assert (out / "samples.png").is_file() and not (out / "manifold.png").exists()


def test_cli_errors_are_messages_not_tracebacks(tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text('model = "conv_vae"\n[data]\ndataset = "digits"\nbatchsize = 3\n')
    assert cli.main(["train", str(bad), "--out", str(tmp_path / "o")]) == 3  # a recipe error
    assert "Did you mean 'batch_size'" in capsys.readouterr().err
    assert cli.main(["train", "conv_vea", "--dataset", "digits"]) == 2
    assert "conv_vae" in capsys.readouterr().err


def test_mnist_recipe_runs_through_tfds(tmp_path):
    import tensorflow_datasets as tfds

    recipe = recipes.load_recipe(ROOT / "zoo" / "conv_vae_mnist.toml")
    assert recipe.data["dataset"] == "mnist"
    with tfds.testing.mock_data(num_examples=64):
        metrics = recipes.run(recipe, out=str(tmp_path / "mnist"), epochs=1, verbose=0)
    assert metrics["setting"]["model_args"]["input_shape"] == [28, 28, 1]
    assert np.isfinite(metrics["test_neg_elbo"])


def test_tune_is_a_subcommand(tmp_path, capsys):
    parser = cli.build_parser()
    args = parser.parse_args(["tune", "tuning/dense_vae_digits_tiny.toml", "--workers", "2", "--overwrite"])
    assert args.fn is cli.cmd_tune and args.workers == 2 and args.overwrite
    bad = tmp_path / "bad.toml"
    bad.write_text('model = "conv_vea"\n')
    assert cli.main(["tune", str(bad)]) == 3  # a job file error
    assert "conv_vae" in capsys.readouterr().err


# ----- keras-ae evaluate ----------------------------------------------------------------------------
def test_evaluate_a_run_folder_writes_evaluation_json_and_figures(tmp_path, capsys):
    out = tmp_path / "run"
    assert cli.main(["train", "dense_vae", "--dataset", "digits", "--epochs", "2", "--out", str(out),
                     "--arg", "latent_dim=3", "--arg", "hidden=[32]", "--verbose", "0"]) == 0
    training = (out / "metrics.json").read_text()
    capsys.readouterr()
    assert cli.main(["evaluate", str(out), "--k", "8"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert (out / "metrics.json").read_text() == training  # the training metrics are kept
    ev = json.loads((out / "evaluation.json").read_text())
    assert printed["out"] == str(out / "evaluation.json")
    assert ev["setting"]["dataset"] == "digits" and ev["setting"]["split"] == "test"
    assert ev["setting"]["train_split"] == "train" and ev["setting"]["k"] == 8
    assert ev["n_test"] == 357 and ev["iwae_k"] == 8
    assert ev["iwae_nll"] <= ev["neg_elbo"] and np.isfinite(ev["iwae_nll"])
    assert 0.2 < ev["linear_probe_accuracy"] <= 1.0
    for name in ("latent_map.png", "latent_reconstructions.png", "latent_interpolation.png", "latent_traversal.png",
                 "latent_samples.png"):
        assert (out / name).is_file() and name in ev["figures"], name


def test_evaluate_a_keras_file(tmp_path, capsys):
    model = zoo.create("dense_ae", **zoo.get_entry("dense_ae").test_kwargs)
    path = tmp_path / "ae.keras"
    model.save(path)
    dest = tmp_path / "eval"
    assert cli.main(["evaluate", str(path), "--dataset", "digits", "--split", "test[:60]", "--train-split",
                     "train[:200]", "--out", str(dest)]) == 0
    ev = json.loads((dest / "metrics.json").read_text())
    assert ev["n_test"] == 60 and ev["probe_train_examples"] == 200
    assert "iwae_nll" not in ev and "latent_samples.png" not in ev["figures"]  # a plain AE: no prior
    assert (dest / "latent_traversal.png").is_file()


def test_evaluate_every_family(tmp_path, capsys):
    """A GAN (domain FID with a progress bar), a flow (NLL) and a U-Net (IoU) through `keras-ae evaluate`."""
    cases = [("dcgan", "digits", ["--split", "test[:64]", "--train-split", "train[:256]"], "sample_fid"),
             ("realnvp_2d", "two_moons", ["--split", "test[:100]"], "test_nll"),
             ("unet", "cells", ["--split", "test[:2]", "--train-split", ""], "test_mean_iou")]
    for name, dataset, extra, key in cases:
        args = dict(zoo.get_entry(name).test_kwargs)
        if name == "unet":
            args["input_shape"] = (64, 64, 1)
        path = tmp_path / f"{name}.keras"
        zoo.create(name, **args).save(path)
        dest = tmp_path / name
        assert cli.main(["evaluate", str(path), "--dataset", dataset, "--out", str(dest), *extra]) == 0, name
        captured = capsys.readouterr()
        ev = json.loads((dest / "metrics.json").read_text())
        assert np.isfinite(ev[key]) and ev["setting"]["dataset"] == dataset, name
        assert all((dest / f).is_file() for f in ev["figures"]) and ev["figures"], name
        if name == "dcgan":
            assert "FID features" in captured.err  # the progress bar


def test_evaluate_errors_are_messages(tmp_path, capsys):
    assert cli.main(["evaluate", str(tmp_path / "missing")]) == 6  # a model file error
    assert "No run folder or .keras file" in capsys.readouterr().err
    assert cli.main(["evaluate", str(tmp_path)]) == 6
    assert "without model.keras" in capsys.readouterr().err
    gan = zoo.create("dcgan", **zoo.get_entry("dcgan").test_kwargs)
    gan.save(tmp_path / "gan.keras")
    assert cli.main(["evaluate", str(tmp_path / "gan.keras")]) == 2
    assert "needs --dataset" in capsys.readouterr().err
    vae = zoo.create("dense_vae", **zoo.get_entry("dense_vae").test_kwargs)
    vae.save(tmp_path / "vae.keras")
    assert cli.main(["evaluate", str(tmp_path / "vae.keras"), "--dataset", "digits", "--k", "0"]) == 2
    assert "--k" in capsys.readouterr().err


def test_cli_choices_agree_with_the_package():
    """The CLI repeats the distribution, precision and schedule names (so parsing imports no Keras); they must not
    drift."""
    from keras_ae import precision, recipes
    from keras_ae.ops import distribute

    assert cli.DISTRIBUTIONS == distribute.DISTRIBUTIONS
    assert cli.PRECISIONS == precision.PRECISIONS
    assert cli.LEARNING_RATE_SCHEDULES == recipes.LEARNING_RATE_SCHEDULES


def test_preflight_errors_start_no_tensorflow():
    """A bad option is refused before TensorFlow starts: one line on stderr, none of TensorFlow's start-up log lines
    (``from keras_ae import preflight`` once loaded the whole package, and with it TensorFlow)."""
    script = os.path.join(os.path.dirname(sys.executable), "keras-ae")
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    proc = subprocess.run([script, "train", "conv_vae", "--dataset", "digits", "--epochs", "0"],
                          capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == ["keras-ae: error: --epochs must be an integer >= 1; received 0 (int)."]
