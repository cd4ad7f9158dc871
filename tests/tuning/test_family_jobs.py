"""`keras-ae tune` beyond VAEs: the shipped GAN and flow jobs end to end on a tiny budget (a GAN's objective is a
sample score logged by a callback), and real `keras-ae tune` processes killed at chosen points."""

import json
import os
import pathlib
import signal
import subprocess
import sys

import pytest

import keras_ae
from keras_ae import runs
from keras_ae.tuning import load_job, run_job

ROOT = pathlib.Path(__file__).resolve().parents[2]
KERAS_AE = os.path.join(os.path.dirname(sys.executable), "keras-ae")


@pytest.fixture
def eager_tensorflow():
    """Trials of one or two epochs on tiny data: running the steps eagerly saves tracing them per trial."""
    import tensorflow as tf

    before = tf.config.functions_run_eagerly()
    tf.config.run_functions_eagerly(True)
    yield
    tf.config.run_functions_eagerly(before)


def _tiny(name, tmp_path, **replace):
    text = (ROOT / "tuning" / name).read_text()
    for old, new in replace.items():
        assert old in text, old
        text = text.replace(old, new)
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.mark.parametrize("name, replace, objective", [
    ("dense_wgan_gp_ring.toml", {"train[:20000]": "train[:1024]", "test[:2500]": "test[:500]", "max_trials = 6":
                                 "max_trials = 2", "epochs = 4": "epochs = 2", "ring_samples = 2500": "ring_samples = 500"},
     ("ring_quality", "max")),
    ("realnvp_2d_moons.toml", {'train_split = "train"': 'train_split = "train[:512]"', "max_trials = 6": "max_trials = 2",
                               "epochs = 30": "epochs = 2"}, ("val_nll", "min")),
])
def test_shipped_non_vae_job_end_to_end(name, replace, objective, tmp_path, eager_tensorflow):
    path = _tiny(name, tmp_path, **replace)
    job = load_job(str(path))
    assert (job.objective, job.direction) == objective
    results = run_job(str(path), out=str(tmp_path / "out"), verbose=0)
    assert results["completed"] == 2 and results["objective"] == objective[0]
    assert results["best"]["objective"] is not None and results["best"]["status"] == "COMPLETED"
    model = keras_ae.load_model(str(tmp_path / "out" / "best_model.keras"), safe_mode=True)
    assert model.sample(8, seed=0).shape == (8, 2)
    assert (tmp_path / "out" / "trials.csv").is_file() and (tmp_path / "out" / "objective.png").is_file()


def _tune(job, out, fault=None):
    env = dict(os.environ)
    for var in ("KERASTUNER_ORACLE_IP", "KERASTUNER_ORACLE_PORT", "KERASTUNER_TUNER_ID", runs.FAULT_ENV):
        env.pop(var, None)
    if fault:
        env[runs.FAULT_ENV] = fault
    return subprocess.run([KERAS_AE, "tune", str(job), "--out", str(out), "--quiet"], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=300)


def _events(out):
    events = []
    for path in (out / "events").glob("*.jsonl"):
        for line in path.read_text().splitlines():
            try:
                events.append(json.loads(line))
            except json.JSONDecodeError:
                pass
    return sorted(events, key=lambda e: e["time"])


def test_killed_tune_processes_resume(tmp_path):
    """SIGKILL in the middle of a trial, after the search, in the middle of writing best_model.keras: the reruns
    repeat no completed trial, lose none, and end with a best model that reloads."""
    job = _tiny("dense_vae_digits_tiny.toml", tmp_path, **{"max_trials = 4": "max_trials = 3"})
    out = tmp_path / "out"
    killed = _tune(job, out, fault="tune_batch:15")  # 12 batches per trial (1,440 / 128): inside the second
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    done = {e["trial_id"] for e in _events(out) if e["event"] == "completed"}
    assert len(done) == 1

    killed = _tune(job, out, fault="tune_searched")
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    completed = [e["trial_id"] for e in _events(out) if e["event"] == "completed"]
    assert len(completed) == 3 and len(set(completed)) == 3  # the finished trial did not run again
    assert not (out / "results.json").exists()
    started = len([e for e in _events(out) if e["event"] == "start"])

    killed = _tune(job, out, fault="tune_best_model")  # best_model.keras written to a temporary name only
    assert killed.returncode == -signal.SIGKILL
    assert not (out / "best_model.keras").exists()

    final = _tune(job, out)
    assert final.returncode == 0, final.stderr[-3000:]
    assert len([e for e in _events(out) if e["event"] == "start"]) == started  # no trial ran after the search
    results = json.loads((out / "results.json").read_text())
    assert results["completed"] == 3
    keras_ae.load_model(str(out / "best_model.keras"), safe_mode=True)
