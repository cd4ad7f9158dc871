"""The run folder: real `keras-ae train` processes killed at chosen points resume with nothing lost or trained twice;
one run per folder; corrupt state reported with what to do; preflight before any data is read."""

import json
import os
import pathlib
import signal
import subprocess
import sys

import pytest

from keras_ae import cli, runs

ROOT = pathlib.Path(__file__).resolve().parents[1]
KERAS_AE = os.path.join(os.path.dirname(sys.executable), "keras-ae")
TINY = ["train", "dense_ae", "--dataset", "digits", "--train-split", "train[:256]", "--test-split", "test[:64]",
        "--batch-size", "32", "--arg", "hidden=[16]", "--arg", "latent_dim=4", "--quiet"]


def _train(out, epochs, fault=None, timeout=240):
    env = dict(os.environ)
    env.pop(runs.FAULT_ENV, None)
    if fault:
        env[runs.FAULT_ENV] = fault
    return subprocess.run([KERAS_AE, *TINY, "--epochs", str(epochs), "--out", str(out)], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout)


def _state(out):
    return json.loads((out / "state" / "state.json").read_text())


def _measures(out):
    metrics = json.loads((out / "metrics.json").read_text())
    return {k: v for k, v in metrics.items() if k.startswith("test_")}


def test_killed_train_processes_resume_with_nothing_lost_or_trained_twice(tmp_path):
    """SIGKILL mid-epoch, mid-save of a checkpoint, after training, after model.keras: every rerun continues from the
    last finished epoch; the end is identical to an uninterrupted run (history and measures), each epoch is trained
    by exactly one process."""
    base, out = tmp_path / "uninterrupted", tmp_path / "killed"
    assert _train(base, 4).returncode == 0

    killed = _train(out, 4, fault="batch:train:2:3")  # in the middle of epoch 2
    assert killed.returncode == -signal.SIGKILL
    assert _state(out)["progress"] == {"train": 1} and not (out / "model.keras").exists()

    killed = _train(out, 4, fault="checkpoint:train:3")  # epoch 3's checkpoint written, not yet renamed
    assert killed.returncode == -signal.SIGKILL
    assert "resuming" in killed.stderr and "after epoch 1" in killed.stderr
    assert _state(out)["progress"] == {"train": 2}  # epoch 3 not committed: it is trained again
    assert any(p.name.startswith(".ckpt-00-0003") for p in (out / "state").iterdir())  # the torn write

    killed = _train(out, 4, fault="trained")  # every epoch done, model.keras not yet written
    assert killed.returncode == -signal.SIGKILL
    assert _state(out)["progress"] == {"train": 4} and not (out / "model.keras").exists()
    assert not any(p.name.startswith(".ckpt") for p in (out / "state").iterdir())  # cleaned by the next commit

    killed = _train(out, 4, fault="model_saved")  # model.keras in place, metrics not yet written
    assert killed.returncode == -signal.SIGKILL
    assert (out / "model.keras").is_file() and not (out / "metrics.json").exists()

    done = _train(out, 4)
    assert done.returncode == 0, done.stderr[-3000:]
    state = _state(out)
    trained = [(stage, epoch) for stage, epoch, _ in state["trained"]]
    assert trained == [("train", 1), ("train", 2), ("train", 3), ("train", 4)]  # each epoch committed once
    assert len({pid for _, _, pid in state["trained"]}) == 3  # by three of the processes
    assert json.loads((out / "history.json").read_text()) == json.loads((base / "history.json").read_text())
    assert _measures(out) == _measures(base)
    assert (out / "model.keras").read_bytes() != b""


def _dense_ae_argv(out, epochs=2):
    return [*TINY, "--epochs", str(epochs), "--out", str(out)]


def test_one_run_per_folder_and_stale_locks(tmp_path, capsys):
    out = tmp_path / "run"
    out.mkdir()
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        lock = runs.RunLock(str(out))
        record = dict(lock._record(), pid=holder.pid, process_start=runs._process_start(holder.pid))
        (out / runs.LOCK_FILE).write_text(json.dumps(record))
        assert cli.main(_dense_ae_argv(out)) == 7  # a run-folder error (README: exit statuses)
        err = capsys.readouterr().err
        assert f"in use by a run of process {holder.pid}" in err and "another --out" in err
        assert not (out / "state" / "state.json").exists()
    finally:
        holder.kill()
        holder.wait()
    assert cli.main(_dense_ae_argv(out, epochs=1)) == 0  # the holder is dead: its lock is taken over
    assert f"taking over {out / runs.LOCK_FILE} from process {holder.pid}" in capsys.readouterr().err
    assert not (out / runs.LOCK_FILE).exists()  # released at the end


def test_corrupt_state_is_reported_or_the_previous_checkpoint_used(tmp_path, capsys):
    out = tmp_path / "run"
    assert cli.main(_dense_ae_argv(out, epochs=2)) == 0
    state = _state(out)
    assert state["checkpoint"]["epoch"] == 2 and state["previous"]["epoch"] == 1
    ckpt = out / "state" / state["checkpoint"]["file"]
    ckpt.write_bytes(ckpt.read_bytes()[: ckpt.stat().st_size // 2])  # truncated (a disk fault after the commit)
    capsys.readouterr()
    assert cli.main(_dense_ae_argv(out, epochs=3)) == 0
    err = capsys.readouterr().err
    assert "is corrupt" in err and "previous checkpoint" in err and "after epoch 1" in err
    history = json.loads((out / "history.json").read_text())
    assert len(history["loss"]) == 3 and _state(out)["progress"] == {"train": 3}

    (out / "state" / "state.json").write_text("")  # an empty state file
    assert cli.main(_dense_ae_argv(out, epochs=4)) == 7
    err = capsys.readouterr().err
    assert "state.json" in err and "not valid JSON" in err and "--overwrite" in err
    assert cli.main(_dense_ae_argv(out, epochs=1) + ["--overwrite"]) == 0


def test_preflight_before_any_data_is_read(tmp_path, capsys, monkeypatch):
    import keras_ae.data.catalog as catalog

    def no_data(*args, **kwargs):
        raise AssertionError("data were read before the preflight checks")

    monkeypatch.setattr(catalog, "load_arrays", no_data)
    blocker = tmp_path / "file.txt"
    blocker.write_text("x")
    assert cli.main(_dense_ae_argv(blocker)) == 7
    assert "is a file" in capsys.readouterr().err
    assert cli.main(_dense_ae_argv(blocker / "sub")) == 7
    assert "is a file, so no folder can be created under it" in capsys.readouterr().err
    for flag, value in (("--epochs", "0"), ("--batch-size", "-1")):
        argv = _dense_ae_argv(tmp_path / "ok") + [flag, value]
        assert cli.main(argv) == 2
        assert "must be an integer >= 1" in capsys.readouterr().err


def test_atomic_write_leaves_old_or_new(tmp_path):
    path = tmp_path / "f.json"
    runs.write_json(str(path), {"a": 1})

    def torn(tmp):
        with open(tmp, "w") as f:
            f.write('{"a": 2')  # half written when the process dies
        raise runs.SimulatedCrash("mid-write")

    with pytest.raises(runs.SimulatedCrash):
        runs.atomic_write(str(path), torn)
    assert json.loads(path.read_text()) == {"a": 1} and [p.name for p in tmp_path.iterdir()] == ["f.json"]
