"""Choose ``spline_2d``'s defaults on a holdout inside the two-moons training set (never the validation points).

Each candidate is ``zoo/spline_2d_moons.toml`` (batch 128, 150 epochs, cosine learning-rate decay; trained by
``keras_ae.recipes.run``) with the recipe's splits replaced: fit on the first 2,000 of the 2,400 standardized training
points (``train[:2000]``), scored on the last 400 (``train[2000:]``, the recipe's test split here, so the run's
``test_nll`` is the holdout NLL). The 600 validation points (the recipes' ``test`` split) are not read. Every
candidate spells out all of its model arguments, so the selection does not move when ``spline_2d``'s defaults do.
The Gaussian KDE with a 5-fold cross-validated bandwidth (``flows_moons.kde_nll``) is fitted on the same 2,000 points
and scored on the same 400.

    python benchmarks/spline_moons_select.py [--candidates base ema_0.99 ...] [--seeds 0 1]
                                             [--json spline_moons_select.json] [--runs runs/spline_moons_select]

The JSON (in ``benchmarks/results/``) is rewritten after every run and holds every run's holdout and train NLL, wall
and CPU seconds and load averages, and per candidate the mean over its seeds; runs already in it are kept (rerun a
candidate with ``--redo``).
"""

import argparse
import json
import os
import pathlib
import sys
import time

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from flows_moons import kde_nll  # noqa: E402

from keras_ae import recipes  # noqa: E402
from keras_ae.data.catalog import load_arrays  # noqa: E402
from keras_ae.runs import write_json  # noqa: E402

FIT, HOLDOUT = "train[:2000]", "train[2000:]"
# The defaults chosen before (docs/flows.md): 2 couplings, MLP (64, 64), dropout 0.2, 16 bins on [-3, 3], Adam 2e-3.
BASE = {"num_layers": 2, "hidden": [64, 64], "bins": 16, "bound": 3.0, "dropout": 0.2, "learning_rate": 2e-3}
# name: (model arguments over BASE, batch size)
CANDIDATES = {
    "base": ({}, 128),
    "ema_0.99": ({"ema_momentum": 0.99}, 128),
    "ema_0.999": ({"ema_momentum": 0.999}, 128),
    "weight_decay_0.1": ({"weight_decay": 0.1}, 128),
    "bins_8": ({"bins": 8}, 128),
    "hidden_128_dropout_0.3": ({"hidden": [128, 128], "dropout": 0.3}, 128),
    # second round, after the first six with seeds 0 and 1
    "bins_32": ({"bins": 32}, 128),
    "learning_rate_5e-3": ({"learning_rate": 5e-3}, 128),
    "hidden_128_dropout_0.3_ema_0.99": ({"hidden": [128, 128], "dropout": 0.3, "ema_momentum": 0.99}, 128),
    "hidden_256_dropout_0.4": ({"hidden": [256, 256], "dropout": 0.4}, 128),
    # third round, after the second (learning_rate_5e-3 best, then hidden_128_dropout_0.3)
    "learning_rate_1e-2": ({"learning_rate": 1e-2}, 128),
    "learning_rate_5e-3_hidden_128_dropout_0.3": ({"learning_rate": 5e-3, "hidden": [128, 128], "dropout": 0.3}, 128),
}


def run_candidate(name, seed, runs_dir):
    """Train candidate ``name`` with training seed ``seed``; returns its row."""
    import keras_ae

    overrides, batch = CANDIDATES[name]
    recipe = recipes.load_recipe(ROOT / "zoo" / "spline_2d_moons.toml")
    recipe.model_args = {**BASE, **overrides, "seed": seed}
    recipe.train["seed"] = seed
    recipe.data.update(train_split=FIT, test_split=HOLDOUT, batch_size=batch)
    out = os.path.join(runs_dir, f"{name}_seed{seed}")
    load0 = os.getloadavg()[0]
    t0, cpu0 = time.time(), time.process_time()
    metrics = recipes.run(recipe, out=out, verbose=0, overwrite=True)
    seconds, cpu = time.time() - t0, time.process_time() - cpu0
    model = keras_ae.load_model(os.path.join(out, "model.keras"), safe_mode=True)
    fit = load_arrays("two_moons", FIT).x
    setting = metrics["setting"]
    return {
        "model_args": recipe.model_args, "batch_size": batch, "epochs": setting["epochs"],
        "learning_rate_schedule": setting["learning_rate_schedule"],
        "holdout_nll": round(float(metrics["test_nll"]), 4), "fit_nll": round(float(-model.log_prob(fit).mean()), 4),
        "train_seconds": setting["train_seconds"], "run_seconds": round(seconds, 1), "run_cpu_seconds": round(cpu, 1),
        "loadavg_start": round(load0, 2), "loadavg_end": round(os.getloadavg()[0], 2),
    }


def summarize(results):
    by = {}
    for row in results["runs"].values():
        by.setdefault(row["candidate"], []).append(row["holdout_nll"])
    results["candidates"] = {
        name: {"holdout_nll_mean": round(float(np.mean(v)), 4), "holdout_nll": v, "seeds": len(v),
               "below_kde_mean": float(np.mean(v)) < results["kde"]["holdout_nll"]}
        for name, v in sorted(by.items(), key=lambda kv: np.mean(kv[1]))
    }


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--candidates", nargs="+", default=list(CANDIDATES), choices=list(CANDIDATES))
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    p.add_argument("--json", default="spline_moons_select.json", help="results file name inside --out")
    p.add_argument("--out", default=str(ROOT / "benchmarks" / "results"))
    p.add_argument("--runs", default=str(ROOT / "runs" / "spline_moons_select"))
    p.add_argument("--redo", action="store_true", help="rerun runs already in the JSON")
    args = p.parse_args()

    import keras

    path = os.path.join(args.out, args.json)
    os.makedirs(args.out, exist_ok=True)
    if os.path.isfile(path):
        with open(path) as f:
            results = json.load(f)
    else:
        t = time.time()
        kde, bw = kde_nll(load_arrays("two_moons", FIT).x, load_arrays("two_moons", HOLDOUT).x)
        results = {
            "data": "two_moons (make_moons(3000, noise=0.05, random_state=0), standardized on the first 2400): fit on "
                    f"{FIT}, score on {HOLDOUT} (nats per point, standardized space); the 600 validation points "
                    "are not used",
            "recipe": "zoo/spline_2d_moons.toml with the splits above (batch and model arguments per run)",
            "base_model_args": BASE, "backend": keras.backend.backend(), "cpus": os.cpu_count(),
            "kde": {"holdout_nll": round(kde, 4), "bandwidth": round(bw, 4), "seconds": round(time.time() - t, 1)},
            "runs": {},
        }
        print(f"KDE (5-fold CV bandwidth {bw:.4f}): holdout NLL {kde:.4f}", flush=True)
    for name in args.candidates:
        for seed in args.seeds:
            key = f"{name}_seed{seed}"
            if key in results["runs"] and not args.redo:
                continue
            row = {"candidate": name, "seed": seed, **run_candidate(name, seed, args.runs)}
            results["runs"][key] = row
            summarize(results)
            print(f"{key}: holdout NLL {row['holdout_nll']:.4f} (fit {row['fit_nll']:.4f}); "
                  f"run {row['run_seconds']:.0f} s wall, {row['run_cpu_seconds']:.0f} CPU s (load {row['loadavg_start']:.1f} -> "
                  f"{row['loadavg_end']:.1f}); KDE {results['kde']['holdout_nll']:.4f}", flush=True)
            write_json(path, results)  # after every run, atomically: a rerun resumes from it
    summarize(results)
    write_json(path, results)
    for name, c in results["candidates"].items():
        print(f"{name:28s} {c['holdout_nll_mean']:.4f}  {c['holdout_nll']}")


if __name__ == "__main__":
    main()
