"""The mode-collapse test on a ring of 8 Gaussians (radius 2, std 0.02): dense_wgan_gp, dense_gan and dense_wgan.

Runs the recipes ``zoo/dense_wgan_gp_ring.toml``, ``zoo/dense_gan_ring.toml`` and ``zoo/dense_wgan_ring.toml``
exactly as ``keras-ae train zoo/<model>_ring.toml`` does (the constructors' defaults: latent 2; Adam 1e-3, for
dense_wgan RMSprop 2e-4 with weights clipped to 0.05, decayed linearly to 1% over 2,000 generator updates; 11 epochs
of 50,000 points, batch 256), optionally for more seeds, and reports on 2,500 samples the modes covered (of 8; a mode
is covered by >= 1 high-quality sample, as in VEEGAN) and the share of high-quality samples (within 3 std = 0.06 of
the nearest mode center). The run folders (model, metrics, the scatter
``samples.png``) go to ``--out``; the summary to ``benchmarks/results/gan_ring.json``.

    python benchmarks/gan_ring.py [--seeds 0] [--models dense_wgan_gp,dense_gan,dense_wgan]
"""

import argparse
import json
import os
import pathlib
import platform
import shutil
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
HERE = ROOT / "benchmarks"


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--models", default="dense_wgan_gp,dense_gan,dense_wgan")
    p.add_argument("--seeds", default="0", help="comma-separated seeds (the recipes' seed is 0)")
    p.add_argument("--out", default=str(HERE / "results" / "gan_ring"), help="run folders")
    p.add_argument("--summary", default=str(HERE / "results" / "gan_ring.json"))
    args = p.parse_args(argv)

    import keras

    from keras_ae import recipes

    load0, t0 = os.getloadavg(), time.time()
    results = []
    for name in args.models.split(","):
        for seed in (int(s) for s in args.seeds.split(",")):
            recipe = recipes.load_recipe(ROOT / "zoo" / f"{name}_ring.toml")
            recipe.train["seed"] = seed
            recipe.model_args["seed"] = seed
            out = pathlib.Path(args.out) / (name if seed == 0 else f"{name}_seed{seed}")
            shutil.rmtree(out, ignore_errors=True)
            cpu0, start = time.process_time(), time.time()
            metrics = recipes.run(recipe, out=str(out), verbose=0)
            row = {"model": name, "seed": seed, "recipe": f"zoo/{name}_ring.toml",
                   "modes_covered": metrics["modes_covered"], "high_quality_share": metrics["high_quality_share"],
                   "per_mode": metrics["per_mode"], "train_seconds": metrics["setting"]["train_seconds"],
                   "wall_seconds": round(time.time() - start, 1), "cpu_seconds": round(time.process_time() - cpu0, 1),
                   "figure": os.path.relpath(out / "samples.png", HERE)}
            results.append(row)
            print(json.dumps(row), flush=True)
    report = {
        "setting": {"data": "ring_of_gaussians: train 50,000 points (seed 0), 8 modes, radius 2, std 0.02",
                    "eval_samples": 2500, "high_quality": "within 3 std (0.06) of the nearest center",
                    "mode_covered": ">= 1 high-quality sample", "recipes": "zoo/<model>_ring.toml, unchanged",
                    "backend": keras.backend.backend(), "machine": platform.processor() or platform.machine(),
                    "load_start": load0, "load_end": os.getloadavg(), "python": sys.version.split()[0]},
        "total_seconds": round(time.time() - t0, 1),
        "results": results,
    }
    print(f"{'model':<15} {'seed':>4} {'modes':>6} {'HQ share':>9} {'train s':>8}")
    for r in results:
        print(f"{r['model']:<15} {r['seed']:>4} {r['modes_covered']:>4}/8 {100 * r['high_quality_share']:>8.1f}% "
              f"{r['train_seconds']:>8}")
    print(f"total {report['total_seconds']}s, load average {load0} -> {report['setting']['load_end']}")
    pathlib.Path(args.summary).write_text(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
