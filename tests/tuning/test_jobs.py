"""Job files, search spaces, the zoo HyperModel and clear errors (in-process, tiny models)."""

import pathlib

import keras_tuner as kt
import numpy as np
import pytest

from keras_ae import zoo
from keras_ae.tuning import JobError, default_space, parse_job
from keras_ae.tuning.hypermodel import ZooHyperModel
from keras_ae.tuning.jobs import load_job, prepare
from keras_ae.tuning.spaces import SearchSpaceError, parse_param

ROOT = pathlib.Path(__file__).resolve().parents[2]

TINY = """
model = "dense_vae"
[model_args]
hidden = [8]
[data]
dataset = "digits"
[search]
latent_dim = {min = 2, max = 4}
beta = {min = 0.5, max = 2.0, sampling = "log"}
learning_rate = 3e-3
[tuner]
max_trials = 2
epochs = 1
"""


def _job(text=TINY, **replace):
    for old, new in replace.items():
        assert old in text, old
        text = text.replace(old, new)
    return parse_job(text, source="job.toml")


def test_shipped_jobs_parse():
    objectives = {"vae": ("val_neg_elbo", "min"), "flow": ("val_nll", "min"), "gan": ("ring_quality", "max")}
    families = set()
    for path in sorted((ROOT / "tuning").glob("*.toml")):
        job = load_job(str(path))
        family = zoo.get_entry(job.model).family
        families.add(family)
        assert (job.objective, job.direction) == objectives[family], path.name
    assert families - {"vae"}, "no shipped job for a family other than the VAEs"
    mnist = load_job(str(ROOT / "tuning" / "conv_vae_latent_beta.toml"))
    assert mnist.tuner["max_trials"] >= 6
    assert mnist.search["latent_dim"]["min"] == 2 and mnist.search["latent_dim"]["max"] == 32
    assert mnist.search["beta"]["min"] == 0.25 and mnist.search["beta"]["max"] == 8.0


def test_default_spaces_per_family():
    assert set(default_space("conv_vae")) == {"latent_dim", "beta", "learning_rate"}
    assert set(default_space("dense_ae")) == {"latent_dim", "learning_rate"}
    assert "beta" not in default_space("dcgan") and "learning_rate" in default_space("dcgan")
    job = _job()
    assert job.objective == "val_neg_elbo"  # the VAE default: the beta = 1 ELBO, not the beta-weighted loss
    assert _job(TINY.replace('dataset = "digits"', 'dataset = "digits"\nvalidation_split = ""')).objective == "neg_elbo"
    assert parse_job(TINY.replace("dense_vae", "dense_ae").replace("beta = {min = 0.5, max = 2.0, sampling = \"log\"}",
                                                                      "")).objective == "val_loss"


@pytest.mark.parametrize(
    "old, new, expected",
    [
        ('model = "dense_vae"', 'model = "dense_vea"', "dense_vae"),
        ("latent_dim = {", "latent_dims = {", "Did you mean 'latent_dim'"),
        ("[tuner]", '[tuner]\ntype = "bayesain"', "bayesian"),
        ("{min = 2, max = 4}", "{min = 4, max = 2}", "inverted range"),
        ("{min = 2, max = 4}", "{min = 3, max = 3}", "empty range"),
        ("{min = 2, max = 4}", "{values = []}", "non-empty list"),
        ("{min = 2, max = 4}", '{min = 2, max = 4, samplng = "log"}', "Did you mean 'sampling'"),
        ("{min = 2, max = 4}", "{min = 0, max = 4, sampling = \"log\"}", "needs min > 0"),
        ("max_trials = 2", "max_trial = 2", "Did you mean 'max_trials'"),
        ("max_trials = 2", "max_trials = 0", "max_trials must be >= 1"),
        ("[tuner]", '[tuner]\ndirection = "down"', "'min' or 'max'"),
        ("[tuner]", '[tuner]\ntype = "grid"', "grid tuner needs discrete"),
    ],
)
def test_bad_jobs_get_clear_errors(old, new, expected):
    with pytest.raises(JobError, match=expected):
        _job(**{old: new})


def test_default_objective_per_family():
    text = TINY.replace('beta = {min = 0.5, max = 2.0, sampling = "log"}', "").replace(
        "latent_dim = {min = 2, max = 4}", "").replace("learning_rate = 3e-3", "learning_rate = {min = 1e-4, max = 1e-2}")
    cases = {("realnvp_2d", "two_moons"): ("val_nll", "min"), ("realnvp_image", "digits"): ("val_bits_per_dim", "min"),
             ("unet", "cells"): ("val_mean_iou", "max"), ("dense_gan", "ring_of_gaussians"): ("ring_quality", "max"),
             ("dcgan", "digits"): ("sample_fid", "min"), ("conv_ae", "digits"): ("val_loss", "min")}
    for (model, dataset), expected in cases.items():
        job = parse_job(text.replace("dense_vae", model).replace("hidden = [8]", "").replace('"digits"', f'"{dataset}"'),
                        source="job.toml")
        assert (job.objective, job.direction) == expected, model
    with pytest.raises(JobError, match="no default objective.*set \\[tuner\\] objective"):
        parse_job(text.replace("dense_vae", "dense_gan").replace("hidden = [8]", "").replace('"digits"', '"spiral"'),
                  source="job.toml")


def test_objective_never_logged_is_an_error():
    with pytest.raises(JobError, match="never logged.*Did you mean 'val_neg_elbo'"):
        prepare(_job(**{"epochs = 1": 'epochs = 1\nobjective = "val_neg_elb"'}))
    with pytest.raises(JobError, match="val_ metrics need"):
        prepare(_job(**{'dataset = "digits"': 'dataset = "digits"\nvalidation_split = ""',
                        "epochs = 1": 'epochs = 1\nobjective = "val_neg_elbo"'}))


def test_param_ranges():
    p = parse_param("latent_dim", {"min": 2, "max": 32, "sampling": "log"})
    assert p.type == "int" and not isinstance(p.min, float)
    q = parse_param("beta", {"min": 0.25, "max": 8.0, "step": 2, "sampling": "log"})
    assert q.type == "float" and q.is_discrete()
    with pytest.raises(SearchSpaceError, match="integer bounds"):
        parse_param("latent_dim", {"type": "int", "min": 1.5, "max": 4})


def test_hypermodel_builds_zoo_model_and_rebatches():
    hm = ZooHyperModel("dense_vae", {"latent_dim": {"min": 2, "max": 5}, "batch_size": {"values": [16, 32]},
                                     "learning_rate": 1e-3},
                       model_args={"hidden": (8,)}, input_shape=(8, 8, 1), epochs=1)
    hp = kt.HyperParameters()
    hp.values.update({})
    model = hm.build(hp)
    assert model.latent_dim == 2  # the default of the range
    hp.values["latent_dim"] = 5
    hp.values["batch_size"] = 32
    model = hm.build(hp)
    assert model.latent_dim == 5
    assert float(model.optimizer.learning_rate) == pytest.approx(1e-3)
    x = np.random.default_rng(0).uniform(size=(64, 8, 8, 1)).astype("float32")
    history = hm.fit(hp, model, x, validation_data=(x[:32],), verbose=0)
    assert int(model.optimizer.iterations) == 2  # 64 examples / tuned batch 32
    assert "val_neg_elbo" in history.history
    with pytest.raises(ValueError, match="fixed model argument and a searched"):
        ZooHyperModel("dense_vae", {"latent_dim": {"min": 2, "max": 5}}, model_args={"latent_dim": 3})


def test_every_tuner_type_is_constructed(tmp_path):
    import keras_tuner as kt

    from keras_ae.tuning.jobs import make_tuner

    grid_space = TINY.replace('beta = {min = 0.5, max = 2.0, sampling = "log"}', "beta = {values = [0.5, 2.0]}")
    expected = {"random": kt.oracles.RandomSearchOracle, "bayesian": kt.oracles.BayesianOptimizationOracle,
                "hyperband": kt.oracles.HyperbandOracle, "grid": kt.oracles.GridSearchOracle}
    for kind, oracle_cls in expected.items():
        job = parse_job(grid_space.replace("[tuner]", f'[tuner]\ntype = "{kind}"'), source="job.toml")
        tuner = make_tuner(prepare(job), str(tmp_path / kind))
        assert isinstance(tuner.oracle, oracle_cls)
        assert tuner.oracle.objective.name == "val_neg_elbo" and tuner.oracle.objective.direction == "min"
        assert str(tmp_path / kind) in str(tuner.project_dir)
        assert {"latent_dim", "beta"} <= {hp.name for hp in tuner.oracle.hyperparameters.space}


def test_module_entry_point_reports_bad_jobs(tmp_path, capsys):
    from keras_ae.tuning import main

    bad = tmp_path / "bad.toml"
    bad.write_text(TINY.replace("[tuner]", '[tuner]\ntype = "hyperbnd"'))
    assert main([str(bad), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "Unknown tuner 'hyperbnd'" in err and "'hyperband'" in err
    assert main([str(tmp_path / "missing.toml")]) == 2
    assert "not found" in capsys.readouterr().err
