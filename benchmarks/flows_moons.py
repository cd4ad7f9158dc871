"""2-D flows on two moons: validation NLL (nats per point) beside a cross-validated KDE.

Data: ``make_moons(3000, noise=0.05, random_state=0)`` (keras_ae.data.two_moons), standardized with the
statistics of the first 2,400 points (train); the last 600 are validation. NLLs are in the standardized
space (as in the keras-io RealNVP example, which reports 1.438 after 300 epochs).

    python benchmarks/flows_moons.py [--models realnvp_2d maf_2d spline_2d residual_2d] [--epochs 150] [--budget-s 160]
                                     [--seeds 0 1] [--json flows_moons.json]

Models: any zoo name, or ``spline_2d`` (rational-quadratic spline couplings), ``residual_2d`` (ActNorm +
invertible residual blocks, trained on the power-series log-det estimate) and ``residual_2d_exact`` (the same, trained
on the exact 2-D log-determinant), built here with ``keras_ae.models.Flow`` until they join the zoo (issue 16, part 2).
Each model trains for at most ``--epochs`` epochs or ``--budget-s`` seconds, whichever ends first, with a cosine
learning-rate decay over that span (see CosineBudget). The residual flow trains on its power-series log-det
estimate; its validation NLL is reported with the exact log-determinant (2-D Jacobians) and with the estimate.
"""

import argparse
import functools
import json
import math
import os
import pathlib
import time

import keras
import numpy as np

from keras_ae import zoo
from keras_ae.data.synthetic import standardize, two_moons
from keras_ae.layers import ActNorm, InvertibleLinear, InvertibleResidualBlock, SplineCoupling
from keras_ae.models import Flow
from keras_ae.models.flow.flow_plots import plot_density_2d
from keras_ae.zoo.common import compile_model

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


def spline_2d(seed=None, learning_rate=2e-3, num_layers=2, hidden=(64, 64), bins=16, bound=3.0, dropout=0.2,
              linear=False, optimizer=None):
    """Neural spline flow for 2-D densities: rational-quadratic spline couplings with alternating half masks (two
    layers: the autoregressive factorization p(x1) p(x2 | x1)), dropout in the conditioners.

    The sizes were chosen on a holdout inside the training set (fit on train[:2000], NLL on train[2000:2400], where
    the cross-validated KDE scores 1.207; this schedule; seeds 0 and 1 where two values are given), never on the
    validation points: 4 layers (64, 64) 8 bins 1.218 / 1.226 / 1.205 (three runs), with weight EMA 1.220 / 1.209,
    with an LU linear map before each coupling 1.202; 4 layers (32, 32) 1.210; 4 layers 4 bins 1.210; 4 layers (32, 32)
    4 bins 1.202 (with LU maps 1.267 / 1.264); 6 layers (32, 32) 4 bins 1.231; 8 layers 1.259; 2 layers (64, 64) 16 bins
    1.228 / 1.243, 32 bins 1.257 / 1.267; with dropout 0.2: 4 layers (64, 64) 8 bins 1.230 / 1.211, 2 layers 16 bins
    1.205 / 1.198 (chosen), dropout 0.4 1.233 / 1.211.
    """
    flows = []
    for i in range(num_layers):
        if linear:  # Durkan et al.: an LU-parameterised linear map before each coupling
            flows.append(InvertibleLinear(seed=i if seed is None else 1000 * seed + i, name=f"linear_{i}"))
        flows.append(SplineCoupling("half", parity=i % 2, hidden=hidden, bins=bins, bound=bound, dropout=dropout,
                                    name=f"spline_{i}"))
    return compile_model(Flow(flows, input_shape=(2,), seed=seed, name="spline_2d"), optimizer, learning_rate)


def residual_2d(seed=None, learning_rate=2e-3, num_blocks=8, hidden=(64, 64), lipschitz=0.9, estimator="series",
                n_terms=5):
    """i-ResNet / residual flow for 2-D densities: ActNorm then an invertible residual block, ``num_blocks`` times."""
    flows = []
    for i in range(num_blocks):
        flows += [ActNorm(name=f"actnorm_{i}"),
                  InvertibleResidualBlock(hidden=hidden, lipschitz=lipschitz, estimator=estimator, n_terms=n_terms,
                                          name=f"residual_{i}", seed=None if seed is None else seed + i)]
    return compile_model(Flow(flows, input_shape=(2,), seed=seed, name="residual_2d"), None, learning_rate)


LOCAL_MODELS = {"spline_2d": spline_2d, "residual_2d": residual_2d,
                "residual_2d_exact": functools.partial(residual_2d, estimator="exact")}


def _residual_blocks(model):
    return [f for f in model.flows if isinstance(f, InvertibleResidualBlock)]


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
    p.add_argument("--seeds", type=int, nargs="+", default=[0], help="training seeds (one run per model and seed)")
    p.add_argument("--json", default="flows_moons.json", help="results file name inside --out")
    p.add_argument("--out", default=str(ROOT / "benchmarks" / "results"))
    args = p.parse_args()

    points, _ = two_moons(3000, noise=0.05, seed=0)
    train, val, (mean, std) = standardize(points[:2400], points[2400:])
    os.makedirs(args.out, exist_ok=True)
    t = time.time()
    kde, bw = kde_nll(train, val)
    results = {
        "data": "make_moons(3000, noise=0.05, random_state=0), standardized on the first 2400 (train), "
                "last 600 validation; NLL in nats per point in the standardized space",
        "backend": keras.backend.backend(), "batch_size": args.batch, "max_epochs": args.epochs,
        "learning_rate": f"Adam (zoo defaults: realnvp_2d global_clipnorm=10, maf_2d none; spline_2d, residual_2d "
                         f"none), cosine decay from {args.lr} over min(max_epochs, budget_s)",
        "seeds": args.seeds, "budget_s": args.budget_s, "cpus": os.cpu_count(),
        "kde": {"val_nll": round(kde, 4), "bandwidth": round(bw, 4), "seconds": round(time.time() - t, 1)},
        "generating_density": {"val_nll": round(generating_density_nll(val, mean, std), 4),
                               "train_nll": round(generating_density_nll(train, mean, std), 4)},
        "models": {},
    }
    print(f"KDE (5-fold CV bandwidth {bw:.4f}): val NLL {kde:.4f}", flush=True)
    for name in args.models:
        for seed in args.seeds:
            key = name if len(args.seeds) == 1 else f"{name}_seed{seed}"
            keras.utils.set_random_seed(seed)
            build = LOCAL_MODELS.get(name, lambda **kw: zoo.create(name, **kw))
            model = build(seed=seed, learning_rate=args.lr)
            steps = args.epochs * math.ceil(len(train) / args.batch)
            schedule = CosineBudget(args.budget_s, steps, args.lr)
            load0 = os.getloadavg()[0]
            t0, cpu0 = time.time(), time.process_time()
            hist = model.fit(train, epochs=args.epochs, batch_size=args.batch, verbose=0,
                             callbacks=[schedule]).history
            seconds, cpu = time.time() - t0, time.process_time() - cpu0
            row = {"seed": seed, "parameters": int(sum(np.prod(v.shape) for v in model.trainable_weights))}
            blocks = _residual_blocks(model)
            if blocks and blocks[0].estimator == "series":  # the estimate it trained on; then the exact log-det
                row["val_nll_series_estimate"] = round(float(-model.log_prob(val).mean()), 4)
                for block in blocks:
                    block.estimator = "exact"
            val_nll = float(-model.log_prob(val).mean())
            train_nll = float(-model.log_prob(train).mean())
            fig = os.path.join(args.out, f"flows_moons_{key}.png")
            plot_density_2d(model, train, fig, seed=seed, title=f"{name}: val NLL {val_nll:.3f} nats")
            row.update({
                "val_nll": round(val_nll, 4), "train_nll": round(train_nll, 4), "below_kde": val_nll < kde,
                "epochs_run": len(hist["loss"]), "train_seconds": round(seconds, 1), "train_cpu_seconds": round(cpu, 1),
                "loadavg_start": round(load0, 2), "loadavg_end": round(os.getloadavg()[0], 2),
                "figure": os.path.relpath(fig, ROOT),
            })
            results["models"][key] = row
            print(f"{key}: val NLL {val_nll:.4f} nats (train {train_nll:.4f}), {len(hist['loss'])} epochs in "
                  f"{seconds:.0f}s, {cpu:.0f} CPU s (load {load0:.1f} -> {os.getloadavg()[0]:.1f}); KDE {kde:.4f}",
                  flush=True)
    with open(os.path.join(args.out, args.json), "w") as f:
        json.dump(results, f, indent=2)
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
