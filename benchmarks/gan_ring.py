"""The mode-collapse test on a ring of 8 Gaussians (radius 2, std 0.02): dense_wgan_gp and dense_gan.

Trains each model on points of keras_ae.data.synthetic.ring_of_gaussians and reports, on 2,500 samples,
the modes covered (of 8; a mode is covered by >= 1 high-quality sample, as in VEEGAN) and the share of
high-quality samples (within 3 std = 0.06 of the nearest mode center). Writes scatter plots and
benchmarks/results/gan_ring.json.

    python benchmarks/gan_ring.py [--steps 3000] [--batch 256] [--seed 0]
"""

import argparse
import json
import os
import platform
import sys
import time

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402

import keras_ae  # noqa: E402
from keras_ae.data.synthetic import ring_of_gaussians  # noqa: E402
from keras_ae.evaluation.fid import ring_mode_coverage  # noqa: E402
from keras_ae.models.gan.gan_plots import plot_ring  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))

# Per model: constructor arguments and the learning rate (decayed linearly to 1% over training).
CONFIGS = {
    "dense_wgan_gp": dict(kwargs=dict(latent_dim=2, hidden=(128, 128, 128), n_critic=5, gp_weight=0.1),
                          learning_rate=1e-3, beta_1=0.5, beta_2=0.9),
    "dense_gan": dict(kwargs=dict(latent_dim=2, hidden=(128, 128, 128)),
                      learning_rate=1e-3, beta_1=0.5, beta_2=0.999),
}


def train(name, x, centers, steps, batch, seed, chunk, out):
    cfg = CONFIGS[name]
    keras.utils.set_random_seed(seed)
    model = keras_ae.zoo.create(name, seed=seed, **cfg["kwargs"])
    d_steps = model.n_critic

    def adam(updates):
        lr = keras.optimizers.schedules.PolynomialDecay(cfg["learning_rate"], updates, cfg["learning_rate"] * 0.01)
        return keras.optimizers.Adam(lr, beta_1=cfg["beta_1"], beta_2=cfg["beta_2"])

    model.compile(d_optimizer=adam(steps * d_steps), g_optimizer=adam(steps), steps_per_execution=chunk)
    per_epoch = len(x) // batch
    epochs = int(np.ceil(steps / per_epoch))
    start = time.time()
    history = []
    for epoch in range(epochs):
        logs = model.fit(x, batch_size=batch, epochs=1, verbose=0, shuffle=True).history
        if (epoch + 1) % max(1, epochs // 5) == 0 or epoch == epochs - 1:
            cov = ring_mode_coverage(model.sample(2500, seed=seed + 1), centers, 0.02)
            row = {"generator_steps": (epoch + 1) * per_epoch, "seconds": round(time.time() - start, 1),
                   "modes_covered": cov["modes_covered"], "high_quality_share": cov["high_quality_share"]}
            row.update({k: float(v[-1]) for k, v in logs.items()})
            history.append(row)
            print(name, json.dumps(row), flush=True)
    samples = model.sample(2500, seed=seed + 1)
    cov = ring_mode_coverage(samples, centers, 0.02)
    fig = os.path.join(out, f"gan_ring_{name}.png")
    plot_ring(samples, fig, real=x[:2500], centers=centers,
              title=f"{name}: {cov['modes_covered']}/8 modes, {100 * cov['high_quality_share']:.1f}% HQ")
    return {"model": name, "constructor_kwargs": {k: list(v) if isinstance(v, tuple) else v
                                                  for k, v in cfg["kwargs"].items()},
            "learning_rate": cfg["learning_rate"], "betas": [cfg["beta_1"], cfg["beta_2"]],
            "generator_steps": epochs * per_epoch, "train_seconds": round(time.time() - start, 1),
            "figure": os.path.relpath(fig, HERE), "history": history, **cov}


def main(argv=None):
    p = argparse.ArgumentParser()
    p.add_argument("--steps", type=int, default=3000, help="generator updates per model")
    p.add_argument("--batch", type=int, default=256)
    p.add_argument("--n", type=int, default=50000, help="training points")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--chunk", type=int, default=50, help="steps_per_execution")
    p.add_argument("--models", default="dense_wgan_gp,dense_gan")
    p.add_argument("--out", default=os.path.join(HERE, "results"))
    args = p.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    x, _, centers = ring_of_gaussians(args.n, modes=8, radius=2.0, std=0.02, seed=args.seed)
    t0, load0 = time.time(), os.getloadavg()
    results = [train(m, x, centers, args.steps, args.batch, args.seed, args.chunk, args.out)
               for m in args.models.split(",")]
    report = {
        "setting": {"data": "ring_of_gaussians(n, modes=8, radius=2.0, std=0.02)", "n_train": args.n,
                    "eval_samples": 2500, "high_quality": "within 3 std (0.06) of the nearest center",
                    "mode_covered": ">= 1 high-quality sample", "batch_size": args.batch,
                    "generator_steps": args.steps, "lr_schedule": "linear decay to 1% (PolynomialDecay)",
                    "seed": args.seed, "backend": keras.backend.backend(),
                    "machine": platform.processor() or platform.machine(), "load_start": load0,
                    "load_end": os.getloadavg()},
        "total_seconds": round(time.time() - t0, 1),
        "results": results,
    }
    print(f"{'model':<15} {'modes':>6} {'HQ share':>9} {'seconds':>8}")
    for r in results:
        print(f"{r['model']:<15} {r['modes_covered']:>4}/8 {100 * r['high_quality_share']:>8.1f}% "
              f"{r['train_seconds']:>8}")
    print(f"total {report['total_seconds']}s, load average {load0} -> {report['setting']['load_end']}")
    with open(os.path.join(args.out, "gan_ring.json"), "w") as f:
        json.dump(report, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
