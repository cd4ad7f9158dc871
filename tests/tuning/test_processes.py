"""Tuning jobs as processes: a SIGKILLed job resumes without repeating a trial; --workers 2 (distributed mode)."""

import csv
import json
import os
import pathlib
import signal
import subprocess
import sys
import time

import pytest

from keras_ae.tuning.distributed import launch

ROOT = pathlib.Path(__file__).resolve().parents[2]
JOB = str(ROOT / "tuning" / "dense_vae_digits_tiny.toml")
MAX_TRIALS = 4  # as in the job file


def _events(out):
    events = []
    folder = out / "events"
    if folder.is_dir():
        for path in folder.glob("*.jsonl"):
            for line in path.read_text().splitlines():
                try:
                    events.append(json.loads(line))
                except json.JSONDecodeError:
                    pass
    return sorted(events, key=lambda e: e["time"])


def _run(args, timeout):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    for var in ("KERASTUNER_ORACLE_IP", "KERASTUNER_ORACLE_PORT", "KERASTUNER_TUNER_ID"):
        env.pop(var, None)
    return subprocess.run([sys.executable, "-m", "keras_ae.tuning", JOB, *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)


def _check_finished(out):
    rows = list(csv.DictReader(open(out / "trials.csv")))
    assert sorted(r["trial_id"] for r in rows) == sorted({r["trial_id"] for r in rows})  # each recorded once
    assert len(rows) == MAX_TRIALS
    assert all(r["status"] == "COMPLETED" and float(r["objective"]) > 0 for r in rows)
    completed = [e["trial_id"] for e in _events(out) if e["event"] == "completed"]
    assert sorted(completed) == sorted(r["trial_id"] for r in rows)  # every trial completed exactly once
    results = json.loads((out / "results.json").read_text())
    assert results["completed"] == MAX_TRIALS and (out / "best_model.keras").is_file()
    assert (out / "objective.png").is_file()
    return rows, results


def test_sigkilled_job_resumes_without_repeating_trials(tmp_path):
    out = tmp_path / "job"
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    proc = subprocess.Popen([sys.executable, "-m", "keras_ae.tuning", JOB, "--out", str(out)], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 240
        while not any(e["event"] == "completed" for e in _events(out)):
            assert proc.poll() is None, "the job exited before its first trial completed"
            assert time.monotonic() < deadline, "no trial completed in time"
            time.sleep(0.2)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == -signal.SIGKILL
    done_before = {e["trial_id"] for e in _events(out) if e["event"] == "completed"}
    assert 1 <= len(done_before) < MAX_TRIALS
    killed_at = max(e["time"] for e in _events(out))

    rerun = _run(["--out", str(out)], timeout=300)
    assert rerun.returncode == 0, rerun.stdout[-3000:] + rerun.stderr[-3000:]
    _check_finished(out)
    started_after = {e["trial_id"] for e in _events(out) if e["event"] == "start" and e["time"] > killed_at}
    assert not started_after & done_before  # no completed trial ran again
    assert "val_neg_elbo" in rerun.stdout  # the summary table



@pytest.mark.slow
def test_overwrite_starts_over(tmp_path):
    out = tmp_path / "job"
    first = _run(["--out", str(out)], timeout=300)
    assert first.returncode == 0, first.stderr[-3000:]
    again = _run(["--out", str(out)], timeout=300)  # a finished job: nothing runs again
    assert again.returncode == 0
    assert len([e for e in _events(out) if e["event"] == "start"]) == MAX_TRIALS
    fresh = _run(["--out", str(out), "--overwrite"], timeout=300)  # --overwrite starts over
    assert fresh.returncode == 0, fresh.stderr[-3000:]
    assert len([e for e in _events(out) if e["event"] == "start"]) == MAX_TRIALS
    _check_finished(out)


def test_distributed_processes_are_stopped_on_timeout(tmp_path):
    out = tmp_path / "stopped"
    with pytest.raises(RuntimeError, match="did not finish within"):
        launch(JOB, str(out), workers=2, timeout=1, verbose=False)
    pids = json.loads((out / "logs" / "pids.json").read_text())
    assert set(pids) == {"chief", "tuner0", "tuner1"}
    for pid in pids.values():  # reaped: no process of the search is left
        assert not os.path.exists(f"/proc/{pid}")


def test_two_workers_distributed_mode(tmp_path):
    out = tmp_path / "dist"
    result = _run(["--out", str(out), "--workers", "2", "--timeout", "400"], timeout=500)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    rows, results = _check_finished(out)
    events = _events(out)
    assert {e["tuner_id"] for e in events} <= {"tuner0", "tuner1"}
    pids = {e["pid"] for e in events}
    assert len(pids) >= 1 and os.getpid() not in pids
    for pid in pids:  # every worker process is gone (no orphans)
        assert not os.path.exists(f"/proc/{pid}") or "zombie" in open(f"/proc/{pid}/status").read().lower()
    assert all((out / "logs" / f"{name}.log").is_file() for name in ("chief", "tuner0", "tuner1"))
    assert "127.0.0.1" in result.stdout
