"""2-D flows on two moons through their recipes: validation NLL (nats per point) beside a cross-validated KDE.

Each model is trained by its recipe, ``zoo/<model>_moons.toml`` (``keras_ae.recipes.run``: the recipe's data, batch,
epochs and learning-rate schedule, the constructor's defaults); this script only adds training seeds (the recipe's
``[train] seed`` and ``[model_args] seed``), the Gaussian KDE with a cross-validated bandwidth on the same training
points, the NLL of the density that generated the points, and the train NLL of each trained flow.

Data (the recipes' ``two_moons``): ``make_moons(3000, noise=0.05, random_state=0)``, standardized with the statistics
of the first 2,400 points (train); the last 600 (the recipes' test split) are the validation points. NLLs are in the
standardized space (as in the keras-io RealNVP example, which reports 1.438 after 300 epochs).

    python benchmarks/flows_moons.py [--models realnvp_2d maf_2d spline_2d residual_2d] [--seeds 0 1 2]
                                     [--json flows_moons.json] [--runs runs/flows_moons]

Run folders (model, history, metrics, figures) go to ``--runs/<model>_seed<k>``; each density figure is copied to
``--out/flows_moons_<model>[_seed<k>].png``.
"""

import argparse
import json
import os
import pathlib
import shutil
import time

import numpy as np

from keras_ae import recipes
from keras_ae.data.catalog import load_arrays
from keras_ae.data.synthetic import standardize, two_moons
from keras_ae.runs import write_json

ROOT = pathlib.Path(__file__).resolve().parents[1]


def generating_density_nll(points, mean, std, noise=0.05, grid=20001):
    """NLL (nats per point, standardized space) under the density that generated the moons: the two half circles of
    ``make_moons`` with a uniform angle (it uses evenly spaced angles), blurred by isotropic N(0, noise^2)."""
    theta = np.linspace(0.0, np.pi, grid)
    centres = np.concatenate([np.stack([np.cos(theta), np.sin(theta)], 1),
                              np.stack([1 - np.cos(theta), 1 - np.sin(theta) - 0.5], 1)])
    x = np.asarray(points, "float64") * std + mean  # back to the original coordinates
    d2 = ((x[:, None, :] - centres[None]) ** 2).sum(-1) / (2 * noise ** 2)
    top = -d2.min(axis=1)
    log_p = top + np.log(np.exp(-d2 - top[:, None]).mean(axis=1)) - np.log(2 * np.pi * noise ** 2)
    return float(-log_p.mean() - np.log(np.prod(std)))  # densities scale by prod(std) in standardized space


def kde_nll(train, val):
    """Gaussian KDE with the bandwidth chosen by 5-fold cross-validated log-likelihood on ``train``."""
    from sklearn.model_selection import GridSearchCV
    from sklearn.neighbors import KernelDensity

    search = GridSearchCV(KernelDensity(kernel="gaussian"), {"bandwidth": np.logspace(-2, 0, 30)}, cv=5)
    search.fit(train)
    bw = float(search.best_params_["bandwidth"])
    return float(-search.best_estimator_.score_samples(val).mean()), bw


def run_recipe(name, seed, runs_dir):
    """Train ``zoo/<name>_moons.toml`` with training seed ``seed``; returns ``(metrics, run folder, model)``."""
    import keras_ae

    recipe = recipes.load_recipe(ROOT / "zoo" / f"{name}_moons.toml")
    recipe.train["seed"] = seed
    recipe.model_args["seed"] = seed
    out = os.path.join(runs_dir, f"{name}_seed{seed}")
    metrics = recipes.run(recipe, out=out, verbose=0, overwrite=True)
    return metrics, out, keras_ae.load_model(os.path.join(out, "model.keras"), safe_mode=True), recipe


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--models", nargs="+", default=["realnvp_2d", "maf_2d", "spline_2d", "residual_2d"])
    p.add_argument("--seeds", type=int, nargs="+", default=[0], help="training seeds (one run per model and seed)")
    p.add_argument("--json", default="flows_moons.json", help="results file name inside --out")
    p.add_argument("--out", default=str(ROOT / "benchmarks" / "results"))
    p.add_argument("--runs", default=str(ROOT / "runs" / "flows_moons"), help="the recipes' run folders")
    args = p.parse_args()

    import keras

    train, val = load_arrays("two_moons", "train").x, load_arrays("two_moons", "test").x
    points, _ = two_moons(3000, noise=0.05, seed=0)
    _, _, (mean, std) = standardize(points[:2400], points[2400:])
    os.makedirs(args.out, exist_ok=True)
    t = time.time()
    kde, bw = kde_nll(train, val)
    results = {
        "data": "recipes' two_moons: make_moons(3000, noise=0.05, random_state=0), standardized on the first 2400 "
                "(train), last 600 validation (the recipes' test split); NLL in nats per point, standardized space",
        "backend": keras.backend.backend(), "seeds": args.seeds, "cpus": os.cpu_count(),
        "kde": {"val_nll": round(kde, 4), "bandwidth": round(bw, 4), "seconds": round(time.time() - t, 1)},
        "generating_density": {"val_nll": round(generating_density_nll(val, mean, std), 4),
                               "train_nll": round(generating_density_nll(train, mean, std), 4)},
        "models": {},
    }
    print(f"KDE (5-fold CV bandwidth {bw:.4f}): val NLL {kde:.4f}", flush=True)
    for name in args.models:
        for seed in args.seeds:
            key = name if len(args.seeds) == 1 else f"{name}_seed{seed}"
            load0 = os.getloadavg()[0]
            t0, cpu0 = time.time(), time.process_time()
            metrics, out, model, recipe = run_recipe(name, seed, args.runs)
            seconds, cpu = time.time() - t0, time.process_time() - cpu0
            setting = metrics["setting"]
            val_nll = float(metrics["test_nll"])
            train_nll = float(-model.log_prob(train).mean())
            fig = os.path.join(args.out, f"flows_moons_{key}.png")
            shutil.copyfile(os.path.join(out, "density.png"), fig)
            row = {
                "recipe": os.path.relpath(recipe.source, ROOT), "seed": seed,
                "parameters": int(sum(np.prod(v.shape) for v in model.trainable_weights)),
                "val_nll": round(val_nll, 4), "train_nll": round(train_nll, 4), "below_kde": val_nll < kde,
                "epochs": setting["epochs"], "batch_size": setting["batch_size"],
                "learning_rate_schedule": setting["learning_rate_schedule"],
                "train_seconds": setting["train_seconds"], "run_seconds": round(seconds, 1),
                "run_cpu_seconds": round(cpu, 1), "loadavg_start": round(load0, 2),
                "loadavg_end": round(os.getloadavg()[0], 2), "figure": os.path.relpath(fig, ROOT),
            }
            results["models"][key] = row
            print(f"{key}: val NLL {val_nll:.4f} nats (train {train_nll:.4f}), {setting['epochs']} epochs, "
                  f"training {setting['train_seconds']:.0f} s; run {seconds:.0f} s wall, {cpu:.0f} CPU s (load "
                  f"{load0:.1f} -> {os.getloadavg()[0]:.1f}); KDE {kde:.4f}", flush=True)
            write_json(os.path.join(args.out, args.json), results)  # after every run, atomically: a partial result survives
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
