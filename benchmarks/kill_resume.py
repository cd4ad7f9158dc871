"""Crash safety of `keras-ae train` (issues 14 and 17): a 20-epoch digits run killed at random moments.

The reference is one uninterrupted run of ``zoo/conv_vae_digits.toml --epochs 20``. Then, ``--kills`` times, a run
into a fresh folder is SIGKILLed at a random moment (uniform over the reference run's wall time, so start-up,
training, saving, measuring and drawing are all hit) and rerun to the end. On a loaded machine a run can finish
sooner than the reference did, before its moment: it is then run again into a fresh folder with a moment drawn over
its own wall time (``--redraws`` times at most), so that every one of the ``--kills`` runs is really killed. Each
rerun must end with

* the same measures as the reference (every number of ``metrics.json`` but the timings, compared exactly),
* the same ``history.json`` (20 entries per metric, the same values),
* every epoch committed by exactly one process (``state/state.json``'s ``trained`` log: no epoch trained twice).

Prints the kill points (seconds after start, the phase the process was in, the epochs it had committed) and the
outcomes; writes ``benchmarks/results/kill_resume.json``.

    python benchmarks/kill_resume.py [--kills 10] [--epochs 20] [--seed 0] [--redraws 3]
"""

import argparse
import json
import os
import pathlib
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[1]
RECIPE = ROOT / "zoo" / "conv_vae_digits.toml"
KERAS_AE = os.path.join(os.path.dirname(sys.executable), "keras-ae")


def _command(out, epochs):
    return [KERAS_AE, "train", str(RECIPE), "--epochs", str(epochs), "--out", str(out), "--quiet"]


def _cpu_children():
    usage = os.times()
    return usage.children_user + usage.children_system


def _read(path):
    try:
        return json.loads(pathlib.Path(path).read_text())
    except (OSError, ValueError):
        return None


def _phase(out, epochs):
    """What the killed process had finished: its committed epochs and how far past training it got."""
    state = _read(out / "state" / "state.json") or {}
    committed = state.get("progress", {}).get("train", 0)
    if (out / "metrics.json").exists():
        phase = "finished"
    elif (out / "model.keras").exists():
        phase = "measuring or drawing (model.keras written)"
    elif committed == 0:
        phase = "start-up or epoch 1"
    else:
        phase = f"training epoch {committed + 1}" if committed < epochs else "after training (saving model.keras)"
    return committed, phase


def _comparable(metrics):
    out = {k: v for k, v in metrics.items() if k not in ("setting", "figures")}
    setting = dict(metrics.get("setting", {}))
    setting.pop("train_seconds", None)
    return out, setting


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--kills", type=int, default=10)
    p.add_argument("--epochs", type=int, default=20)
    p.add_argument("--seed", type=int, default=0, help="seed of the kill moments")
    p.add_argument("--redraws", type=int, default=3,
                   help="when a victim finishes before its moment, draw a new one over its wall time (at most this "
                        "many times) so that each of the --kills runs is really killed")
    p.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "kill_resume.json"))
    args = p.parse_args(argv)
    work = pathlib.Path(tempfile.mkdtemp(prefix="kill_resume_"))
    env = dict(os.environ)
    env.pop("KERAS_AE_FAULT", None)
    try:
        load0 = os.getloadavg()
        ref = work / "reference"
        t0, c0 = time.monotonic(), _cpu_children()
        proc = subprocess.run(_command(ref, args.epochs), env=env, capture_output=True, text=True)
        ref_seconds, ref_cpu = time.monotonic() - t0, _cpu_children() - c0
        if proc.returncode != 0:
            raise SystemExit(f"the reference run failed:\n{proc.stderr[-3000:]}")
        ref_metrics, ref_setting = _comparable(_read(ref / "metrics.json"))
        ref_history = _read(ref / "history.json")
        print(f"reference: {args.epochs} epochs in {ref_seconds:.1f} s wall, {ref_cpu:.1f} s CPU; "
              f"test_neg_elbo {ref_metrics['test_neg_elbo']:.4f}", flush=True)
        rng = np.random.default_rng(args.seed)
        moments = np.sort(rng.uniform(0.5, ref_seconds, size=args.kills))
        rows = []
        for i, moment in enumerate(moments):
            out = work / f"run{i}"
            missed = []  # moments the victim outlived: it finished sooner than the reference (the load varies)
            while True:
                started = time.monotonic()
                victim = subprocess.Popen(_command(out, args.epochs), env=env, stdout=subprocess.DEVNULL,
                                          stderr=subprocess.DEVNULL)
                try:
                    victim.wait(timeout=float(moment))
                    killed = False
                except subprocess.TimeoutExpired:
                    victim.send_signal(signal.SIGKILL)
                    victim.wait()
                    killed = True
                if killed or len(missed) >= args.redraws:
                    break
                # no kill happened: draw again over this victim's own wall time, into a fresh folder
                missed.append(round(float(moment), 2))
                moment = rng.uniform(0.5, time.monotonic() - started)
                shutil.rmtree(out)
            committed, phase = _phase(out, args.epochs)
            t1, c1 = time.monotonic(), _cpu_children()
            rerun = subprocess.run(_command(out, args.epochs), env=env, capture_output=True, text=True)
            rerun_seconds, rerun_cpu = time.monotonic() - t1, _cpu_children() - c1
            row = {"kill_after_seconds": round(float(moment), 2), "killed": killed, "moments_outlived": missed,
                   "phase": phase,
                   "epochs_committed_before_kill": committed, "rerun_exit": rerun.returncode,
                   "rerun_seconds": round(rerun_seconds, 1), "rerun_cpu_seconds": round(rerun_cpu, 1)}
            if rerun.returncode == 0:
                metrics, setting = _comparable(_read(out / "metrics.json"))
                history = _read(out / "history.json")
                state = _read(out / "state" / "state.json")
                trained = [(s, e) for s, e, _ in state.get("trained", [])]
                row.update(
                    metrics_identical=metrics == ref_metrics and setting == ref_setting,
                    history_identical=history == ref_history,
                    history_epochs=min(len(v) for v in history.values()),
                    epochs_trained_once=trained == [("train", e) for e in range(1, args.epochs + 1)],
                    processes=len({pid for _, _, pid in state.get("trained", [])}),
                    resumed_after=next((line.split("after epoch ")[1].split(" ")[0]
                                        for line in rerun.stderr.splitlines() if "resuming" in line), None),
                )
            else:
                row["error"] = rerun.stderr[-1500:]
            row["ok"] = bool(row.get("metrics_identical") and row.get("history_identical")
                             and row.get("epochs_trained_once") and row.get("history_epochs") == args.epochs)
            rows.append(row)
            print(json.dumps(row), flush=True)
        load1 = os.getloadavg()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    summary = {
        "setting": {"recipe": str(RECIPE.relative_to(ROOT)), "epochs": args.epochs, "kills": args.kills,
                    "kill_moments": f"uniform over the reference run's wall time, numpy seed {args.seed}",
                    "redraws": "a victim that finished before its moment is rerun in a fresh folder with a moment "
                               f"drawn uniformly over its own wall time (at most {args.redraws} times)",
                    "signal": "SIGKILL", "reference_seconds": round(ref_seconds, 1),
                    "reference_cpu_seconds": round(ref_cpu, 1), "load_average_start": load0,
                    "load_average_end": load1, "python": sys.version.split()[0]},
        "reference": {"test_neg_elbo": ref_metrics.get("test_neg_elbo"), "test_loss": ref_metrics.get("test_loss")},
        "killed": sum(r["killed"] for r in rows),
        "all_ok": all(r["ok"] for r in rows), "runs": rows,
    }
    print(f"\n{'kill at (s)':>11}  {'phase':<44} {'committed':>9}  {'resumed after':>13}  outcome")
    for r in rows:
        outcome = "identical metrics and history, no epoch twice" if r["ok"] else f"FAILED {r}"
        print(f"{r['kill_after_seconds']:>11.2f}  {r['phase']:<44} {r['epochs_committed_before_kill']:>9}  "
              f"{str(r.get('resumed_after')):>13}  {outcome}")
    print(f"killed: {summary['killed']} of {len(rows)}; all ok: {summary['all_ok']}; "
          f"load average {load0} -> {load1}")
    pathlib.Path(args.out).write_text(json.dumps(summary, indent=1))
    return 0 if summary["all_ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
