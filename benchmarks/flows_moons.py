"""realnvp_2d and maf_2d on two moons: validation NLL (nats per point) beside a cross-validated KDE.

Data: ``make_moons(3000, noise=0.05, random_state=0)`` (keras_ae.data.two_moons), standardized with the
statistics of the first 2,400 points (train); the last 600 are validation. NLLs are in the standardized
space (as in the keras-io RealNVP example, which reports 1.438 after 300 epochs).

    python benchmarks/flows_moons.py [--models realnvp_2d maf_2d] [--epochs 150] [--budget-s 160]

Each model trains for at most ``--epochs`` epochs or ``--budget-s`` seconds, whichever ends first, with a cosine
learning-rate decay over that span (see CosineBudget).
"""

import argparse
import json
import math
import os
import pathlib
import time

import keras
import numpy as np

from keras_ae import zoo
from keras_ae.data.synthetic import standardize, two_moons
from keras_ae.models.flow.flow_plots import plot_density_2d

ROOT = pathlib.Path(__file__).resolve().parents[1]


class CosineBudget(keras.callbacks.Callback):
    """Cosine learning-rate decay over ``max(elapsed / budget_s, step / total_steps)``; stops when that reaches 1.

    On a lightly loaded machine the step count ends training; on a shared, loaded one the wall-clock budget
    does, and the learning rate has still been annealed to its floor.
    """

    def __init__(self, budget_s, total_steps, lr_max, lr_min_fraction=0.01):
        super().__init__()
        self.budget_s, self.total_steps = budget_s, total_steps
        self.lr_max, self.lr_min = lr_max, lr_max * lr_min_fraction

    def on_train_begin(self, logs=None):
        self.start, self.step = time.time(), 0

    def _frac(self):
        return max((time.time() - self.start) / self.budget_s, self.step / self.total_steps)

    def on_train_batch_begin(self, batch, logs=None):
        frac = min(self._frac(), 1.0)
        self.model.optimizer.learning_rate.assign(
            self.lr_min + (self.lr_max - self.lr_min) * 0.5 * (1 + math.cos(math.pi * frac)))

    def on_train_batch_end(self, batch, logs=None):
        self.step += 1
        if self._frac() >= 1.0:
            self.model.stop_training = True


def kde_nll(train, val, seed=0):
    """Gaussian KDE with the bandwidth chosen by 5-fold cross-validated log-likelihood on ``train``."""
    from sklearn.model_selection import GridSearchCV
    from sklearn.neighbors import KernelDensity

    search = GridSearchCV(KernelDensity(kernel="gaussian"), {"bandwidth": np.logspace(-2, 0, 30)}, cv=5)
    search.fit(train)
    bw = float(search.best_params_["bandwidth"])
    return float(-search.best_estimator_.score_samples(val).mean()), bw


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--models", nargs="+", default=["realnvp_2d", "maf_2d"])
    p.add_argument("--epochs", type=int, default=150)
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--budget-s", type=float, default=160.0,
                   help="training wall-clock budget per model (seconds); the learning rate decays over it")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default=str(ROOT / "benchmarks" / "results"))
    args = p.parse_args()

    points, _ = two_moons(3000, noise=0.05, seed=0)
    train, val, _ = standardize(points[:2400], points[2400:])
    os.makedirs(args.out, exist_ok=True)
    t = time.time()
    kde, bw = kde_nll(train, val)
    results = {
        "data": "make_moons(3000, noise=0.05, random_state=0), standardized on the first 2400 (train), "
                "last 600 validation; NLL in nats per point in the standardized space",
        "backend": keras.backend.backend(), "batch_size": args.batch, "max_epochs": args.epochs,
        "learning_rate": f"Adam (zoo defaults: realnvp_2d global_clipnorm=10, maf_2d none), cosine decay from {args.lr} over min(max_epochs, budget_s)", "seed": args.seed, "budget_s": args.budget_s, "cpus": os.cpu_count(),
        "kde": {"val_nll": round(kde, 4), "bandwidth": round(bw, 4), "seconds": round(time.time() - t, 1)},
        "models": {},
    }
    print(f"KDE (5-fold CV bandwidth {bw:.4f}): val NLL {kde:.4f}", flush=True)
    for name in args.models:
        keras.utils.set_random_seed(args.seed)
        model = zoo.create(name, seed=args.seed, learning_rate=args.lr)
        steps = args.epochs * math.ceil(len(train) / args.batch)
        schedule = CosineBudget(args.budget_s, steps, args.lr)
        load0 = os.getloadavg()[0]
        t0 = time.time()
        hist = model.fit(train, epochs=args.epochs, batch_size=args.batch, verbose=0,
                         callbacks=[schedule]).history
        seconds = time.time() - t0
        val_nll = float(-model.log_prob(val).mean())
        train_nll = float(-model.log_prob(train).mean())
        fig = os.path.join(args.out, f"flows_moons_{name}.png")
        plot_density_2d(model, train, fig, seed=args.seed,
                        title=f"{name}: val NLL {val_nll:.3f} nats")
        results["models"][name] = {
            "val_nll": round(val_nll, 4), "train_nll": round(train_nll, 4), "epochs_run": len(hist["loss"]),
            "train_seconds": round(seconds, 1), "loadavg_start": round(load0, 2),
            "loadavg_end": round(os.getloadavg()[0], 2), "meets_1.30": val_nll <= 1.30,
            "figure": os.path.relpath(fig, ROOT),
        }
        print(f"{name}: val NLL {val_nll:.4f} nats (train {train_nll:.4f}), {len(hist['loss'])} epochs in "
              f"{seconds:.0f}s (load {load0:.1f} -> {os.getloadavg()[0]:.1f}); KDE {kde:.4f}", flush=True)
    with open(os.path.join(args.out, "flows_moons.json"), "w") as f:
        json.dump(results, f, indent=2)
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
