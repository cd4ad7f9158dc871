"""realnvp_image on MNIST: test bits/dim under a wall-clock training budget, and a sample grid.

Data: the MNIST files at ../shared/data/mnist (IDX): first 8,000 images of the test file = train,
last 2,000 = test. Bits/dim counts uniform dequantization (256 levels) and the logit transform
(see keras_ae/models/flow.py); test bits/dim is the mean over 2,000 images of one fixed-seed noise draw.

    python benchmarks/flows_mnist.py [--budget-min 13] [--batch 64] [--lr 1e-3] [--hidden 32 32]

Training runs for a wall-clock budget (default 13 min) with the learning rate decayed over that time, so the
whole run (training plus evaluation) fits in 15 minutes whatever the load of the machine.
"""

import argparse
import json
import math
import os
import pathlib
import subprocess
import time

import keras
import numpy as np

import keras_ae
from keras_ae import zoo
from keras_ae.models.flow.flow_plots import plot_image_samples

ROOT = pathlib.Path(__file__).resolve().parents[1]
MNIST = str(ROOT.parent / "shared" / "data" / "mnist")


class TimeBudget(keras.callbacks.Callback):
    """Train for ``budget_s`` seconds of wall clock with a cosine learning-rate decay over that *time*.

    Epoch times swing with the load of a shared CPU, so the decay follows elapsed time rather than steps:
    ``lr = lr_min + (lr_max - lr_min) * (1 + cos(pi * elapsed / budget)) / 2``; training stops at the budget.
    """

    def __init__(self, budget_s, lr_max, lr_min_fraction=0.02):
        super().__init__()
        self.budget_s, self.lr_max, self.lr_min = budget_s, lr_max, lr_max * lr_min_fraction
        self.start = None
        self.epoch_times = []

    def on_train_begin(self, logs=None):
        self.start = time.time()

    def on_train_batch_begin(self, batch, logs=None):
        frac = min((time.time() - self.start) / self.budget_s, 1.0)
        self.model.optimizer.learning_rate.assign(
            self.lr_min + (self.lr_max - self.lr_min) * 0.5 * (1 + math.cos(math.pi * frac)))

    def on_train_batch_end(self, batch, logs=None):
        if time.time() - self.start > self.budget_s:
            self.model.stop_training = True

    def on_epoch_end(self, epoch, logs=None):
        elapsed = time.time() - self.start
        self.epoch_times.append(elapsed)
        print(f"epoch {epoch + 1}: {elapsed:.0f}s elapsed, load {os.getloadavg()[0]:.1f}, "
              f"lr {float(self.model.optimizer.learning_rate):.2e}, "
              + ", ".join(f"{k}={v:.4f}" for k, v in (logs or {}).items()), flush=True)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--epochs", type=int, default=100, help="upper bound; the time budget normally stops training")
    p.add_argument("--budget-min", type=float, default=13.0,
                   help="training wall-clock budget (minutes); the learning rate decays over it")
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--hidden", type=int, nargs="+", default=[32, 32])
    p.add_argument("--couplings", type=int, default=3)
    p.add_argument("--final-couplings", type=int, default=3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default=str(ROOT / "benchmarks" / "results"))
    args = p.parse_args()

    keras.utils.set_random_seed(args.seed)
    x_train, _ = keras_ae.data.load_numpy(f"idx:{MNIST}", "test[:8000]")
    x_test, _ = keras_ae.data.load_numpy(f"idx:{MNIST}", "test[8000:]")
    model = zoo.realnvp_image(hidden=tuple(args.hidden), couplings=args.couplings,
                              final_couplings=args.final_couplings, seed=args.seed, learning_rate=args.lr)
    n_params = int(sum(np.prod(v.shape) for v in model.trainable_variables))
    load_before = os.getloadavg()
    budget = TimeBudget(args.budget_min * 60, args.lr)
    t0 = time.time()
    history = model.fit(x_train, epochs=args.epochs, batch_size=args.batch, callbacks=[budget], verbose=0)
    train_s = time.time() - t0
    load_after = os.getloadavg()
    t1 = time.time()
    test_bpd = model.bits_per_dim(x_test)
    train_bpd = model.bits_per_dim(x_train[:2000])
    eval_s = time.time() - t1
    os.makedirs(args.out, exist_ok=True)
    grid = os.path.join(args.out, "flows_mnist_samples.png")
    plot_image_samples(model, grid, n=64, seed=0, temperature=0.7)
    model.save(os.path.join("/tmp", "flows_mnist_realnvp_image.keras"))
    result = {
        "model": "realnvp_image",
        "data": "MNIST IDX test file: first 8000 = train, last 2000 = test",
        "dequantization": "uniform, 256 levels; logit alpha=0.05; one fixed-seed noise draw for evaluation",
        "backend": keras.backend.backend(),
        "epochs_run": len(history.history["loss"]),
        "batch_size": args.batch, "learning_rate": f"Adam (global_clipnorm=100), cosine decay from {args.lr} over the time budget", "hidden": args.hidden,
        "couplings": args.couplings, "final_couplings": args.final_couplings, "seed": args.seed,
        "trainable_params": n_params,
        "train_seconds": round(train_s, 1), "eval_seconds": round(eval_s, 1),
        "budget_minutes": args.budget_min,
        "test_bits_per_dim": round(test_bpd, 4), "train_bits_per_dim_first2000": round(train_bpd, 4),
        "history_bits_per_dim": [round(v, 4) for v in history.history["bits_per_dim"]],
        "loadavg_before": [round(v, 2) for v in load_before], "loadavg_after": [round(v, 2) for v in load_after],
        "cpus": os.cpu_count(),
        "sample_grid": os.path.relpath(grid, ROOT),
    }
    try:
        result["commit"] = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                                          text=True).stdout.strip()
    except OSError:
        pass
    print(json.dumps(result, indent=2))
    with open(os.path.join(args.out, "flows_mnist.json"), "w") as f:
        json.dump(result, f, indent=2)
    assert math.isfinite(test_bpd)


if __name__ == "__main__":
    main()
