"""realnvp_image on MNIST through its recipe: test NLL and bits/dim, the per-epoch history and a sample grid.

The model is trained by the shipped recipe ``zoo/realnvp_image_mnist.toml`` (``keras_ae.recipes.run``, exactly as
``keras-ae train zoo/realnvp_image_mnist.toml`` does: the recipe's data, batch 64, 20 epochs, cosine learning-rate
decay to 1%, the constructor's defaults). This script sets no training setting of its own: it overrides only the
dataset name (the offline IDX files), the run folders and, with ``--seeds``, the training seed (the recipe's
``[train] seed`` and ``[model_args] seed``).

Data: the MNIST files at ../shared/data/mnist (IDX): first 8,000 images of the test file = train, last 2,000 = test.
Bits/dim count uniform dequantization (256 levels) and the logit transform; test bits/dim is the mean over the
2,000 test images of one fixed-seed noise draw (the recipe's ``test_bits_per_dim``).

    python benchmarks/flows_mnist.py [--seeds 0 [1 2]] [--dataset idx:../shared/data/mnist] [--out runs/flows_mnist]
                                     [--summary benchmarks/results/flows_mnist.json] [--overwrite] [--no-model-extras]

Each seed's run folder is ``--out/realnvp_image_mnist_seed<k>`` (model.keras, metrics.json, history.json,
samples.png, samples_t0.7.png, history.png); a folder that already holds metrics.json of the same setting is read,
not retrained. The recipe's temperature-0.7 sample grid (64 samples, sample seed = training seed) is copied to
``benchmarks/results/flows_mnist_samples.png`` (``..._seed<k>.png`` with several seeds). From the saved model the
script adds the trainable parameter count and the bits/dim of the first 2,000 training images (``--no-model-extras``
skips them). The summary (per run: recipe, seed, metrics, history, timing, setting) is written atomically after every
run.
"""

import argparse
import json
import math
import os
import pathlib
import shutil
import subprocess
import sys
import time

from keras_ae.runs import write_json
from recipe_runs import MNIST, RESULTS, ROOT, run_recipe, train_command

NAME = "realnvp_image_mnist"


def rel(path):
    """``path`` relative to the repository when inside it, else absolute."""
    path = pathlib.Path(path).resolve()
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def model_extras(run_dir, dataset, train_split, n=2000):
    """Trainable parameters and bits/dim of the first ``n`` training images, from the run's saved model."""
    import numpy as np

    import keras_ae

    path = os.path.join(run_dir, "model.keras")
    if not os.path.isfile(path):
        return {"model_extras": f"skipped: {path} is missing"}
    t0 = time.time()
    model = keras_ae.load_model(path, safe_mode=True)
    x_train, _ = keras_ae.data.load_numpy(dataset, train_split)
    out = {"trainable_params": int(sum(np.prod(v.shape) for v in model.trainable_weights)),
           f"train_bits_per_dim_first{n}": round(model.bits_per_dim(x_train[:n]), 4)}
    opt = getattr(model, "optimizer", None)
    if opt is not None:
        config = opt.get_config()
        out["optimizer"] = {k: config.get(k) for k in ("name", "clipnorm", "global_clipnorm", "clipvalue")}
    out["extras_seconds"] = round(time.time() - t0, 1)
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seeds", type=int, nargs="+", default=[0], help="training seeds (one recipe run each)")
    p.add_argument("--dataset", default=f"idx:{MNIST}", help="replaces the recipe's 'mnist' (offline IDX files)")
    p.add_argument("--out", default=str(ROOT / "runs" / "flows_mnist"), help="parent of the recipe's run folders")
    p.add_argument("--summary", default=str(RESULTS / "flows_mnist.json"))
    p.add_argument("--figures", default=str(RESULTS), help="where the sample grid is copied")
    p.add_argument("--overwrite", action="store_true", help="retrain folders that already hold a run")
    p.add_argument("--no-model-extras", action="store_true",
                   help="skip the parameter count and train bits/dim computed from the saved model")
    args = p.parse_args()

    import keras

    summary = {
        "benchmark": "flows_mnist", "recipe": f"zoo/{NAME}.toml", "model": "realnvp_image",
        "measure": "test NLL (nats per image) and bits/dim: uniform dequantization to 256 levels, logit transform "
                   "counted, one fixed-seed noise draw over the 2,000 test images",
        "dataset": args.dataset, "seeds": args.seeds, "backend": keras.backend.backend(), "cpus": os.cpu_count(),
        "runs": [],
    }
    try:
        summary["commit"] = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                                           text=True).stdout.strip()
    except OSError:
        pass
    for seed in args.seeds:
        out = pathlib.Path(args.out) / f"{NAME}_seed{seed}"
        metrics, timing, recipe = run_recipe(NAME, out, dataset=args.dataset, seed=seed, overwrite=args.overwrite)
        setting = metrics["setting"]
        history = json.loads((out / "history.json").read_text()) if (out / "history.json").is_file() else {}
        test_bpd = float(metrics["test_bits_per_dim"])
        row_metrics = {"test_nll": round(float(metrics["test_nll"]), 3), "test_bits_per_dim": round(test_bpd, 4),
                       "dequantization": metrics.get("dequantization")}
        for key in ("bits_per_dim", "val_bits_per_dim"):
            if history.get(key):
                row_metrics[f"last_epoch_{key}"] = round(float(history[key][-1]), 4)
        if not args.no_model_extras:
            row_metrics.update(model_extras(str(out), setting["dataset"], setting["train_split"]))
        temperature = setting["options"]["sample_temperature"]
        grid = pathlib.Path(args.figures) / ("flows_mnist_samples.png" if len(args.seeds) == 1
                                             else f"flows_mnist_samples_seed{seed}.png")
        source = out / f"samples_t{temperature:g}.png"
        if source.is_file():
            grid.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, grid)
        epochs = int(setting["epochs"])
        timing = dict(timing)
        timing["train_s"] = setting.get("train_seconds")
        if not timing.get("wall_s"):
            timing["note"] = "folder trained outside this script (no benchmark_timing.json): only train_s is known"
        row = {
            "recipe": rel(recipe.source), "seed": seed,
            "run_folder": rel(out),
            "metrics": row_metrics,
            "history": {k: [float(f"{float(v):.5g}") for v in history[k]]
                        for k in ("bits_per_dim", "val_bits_per_dim", "nll", "val_nll", "learning_rate") if k in history},
            "figures": {"samples": rel(grid) if source.is_file() else None,
                        "run_folder": metrics.get("figures", [])},
            "timing": timing,
            "setting": {
                "data": f"{setting['dataset']}: train {setting['train_split']} ({setting['train_examples']} images), "
                        f"test {setting['test_split']} ({setting['test_examples']} images)",
                "train_split": setting["train_split"], "test_split": setting["test_split"],
                "epochs": epochs, "batch_size": setting["batch_size"],
                "learning_rate_schedule": setting["learning_rate_schedule"]
                + (" (decays to 1% of the first rate over the run's steps)"
                   if setting["learning_rate_schedule"] == "cosine" else ""),
                "seed": setting["seed"], "model_args": setting["model_args"], "options": setting["options"],
                "backend": setting["backend"], "precision": setting["precision"],
                "command": train_command(NAME, rel(out), args.dataset, seed, stages=setting["stages"]),
            },
        }
        if epochs != int(recipe.train["epochs"]):
            row["setting"]["note"] = (f"this folder was trained for {epochs} epochs, not the recipe's "
                                      f"{recipe.train['epochs']} (re-read as found)")
        summary["runs"].append(row)
        print(f"seed {seed}: test {row_metrics['test_bits_per_dim']:.4f} bits/dim ({row_metrics['test_nll']:.1f} nats), "
              f"last epoch train / val {row_metrics.get('last_epoch_bits_per_dim')} / "
              f"{row_metrics.get('last_epoch_val_bits_per_dim')}, {epochs} epochs, training {timing['train_s']} s, "
              f"run {timing.get('wall_s', '?')} s wall / {timing.get('cpu_s', '?')} CPU s", flush=True)
        write_json(args.summary, summary)  # after every run: a partial result survives
        if not math.isfinite(test_bpd):
            sys.exit(f"seed {seed}: test bits/dim is not finite ({test_bpd})")
    if len(args.seeds) > 1:
        import numpy as np

        values = [r["metrics"]["test_bits_per_dim"] for r in summary["runs"]]
        summary["test_bits_per_dim"] = {"mean": round(float(np.mean(values)), 4),
                                        "std": round(float(np.std(values, ddof=1)), 4), "n": len(values)}
        write_json(args.summary, summary)
        print(f"test bits/dim over seeds {args.seeds}: {summary['test_bits_per_dim']}")
    print(f"wrote {args.summary}; load average {os.getloadavg()}")


if __name__ == "__main__":
    main()
