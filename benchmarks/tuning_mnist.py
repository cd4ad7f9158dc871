"""Acceptance run of the MNIST tuning job: conv_vae latent size in [2, 32] and beta in [0.25, 8].

    python benchmarks/tuning_mnist.py [--job tuning/conv_vae_latent_beta.toml] [--out runs/tune/conv_vae_latent_beta]
                                      [--workers 0]

Runs the job from scratch (--overwrite), times it end to end (data, search, best model, reproduction), and checks
that best_model.keras reloads (safe_mode=True) and reproduces the recorded objective within 1%. Writes
benchmarks/results/tuning_mnist.json. Run it from the repository root (the job's data path is relative to it).
"""

import argparse
import json
import os
import time


def load_average():
    try:
        return [round(v, 2) for v in os.getloadavg()]
    except OSError:  # pragma: no cover
        return None


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--job", default="tuning/conv_vae_latent_beta.toml")
    p.add_argument("--out", default="runs/tune/conv_vae_latent_beta")
    p.add_argument("--workers", type=int, default=0)
    p.add_argument("--result", default="benchmarks/results/tuning_mnist.json")
    args = p.parse_args()

    import keras

    from keras_ae.tuning import load_job, run_job

    job = load_job(args.job)
    load_before = load_average()
    start = time.perf_counter()
    results = run_job(args.job, workers=args.workers, overwrite=True, out=args.out)
    seconds = time.perf_counter() - start
    rep = results.get("reproduced", {})
    record = {
        "setting": {"job": args.job, "model": job.model, "model_args": job.model_args, "search": job.search,
                    "tuner": job.tuner, "data": job.data, "workers": args.workers,
                    "backend": keras.backend.backend(), "cpu_count": os.cpu_count(),
                    "load_average_before": load_before, "load_average_after": load_average()},
        "wall_seconds": round(seconds, 1),
        "under_15_minutes": seconds < 15 * 60,
        "trials": results["trials"],
        "completed": results["completed"],
        "trial_seconds_sum": results["search_seconds"],
        "best": results.get("best"),
        "reproduced": rep,
        "reproduced_within_1_percent": bool(rep) and rep["relative_difference"] < 0.01,
    }
    with open(os.path.join(args.out, "trials.csv")) as f:
        record["trials_csv"] = f.read()
    os.makedirs(os.path.dirname(args.result), exist_ok=True)
    with open(args.result, "w") as f:
        json.dump(record, f, indent=1, default=str)
    print(f"\n{args.job}: {results['completed']}/{results['trials']} trials in {seconds / 60:.1f} min "
          f"(load average before/after {load_before} / {record['setting']['load_average_after']} on "
          f"{os.cpu_count()} CPUs, backend {keras.backend.backend()})")
    if rep:
        print(f"best trial {results['best']['trial_id']}: recorded {results['objective']} {rep['recorded']:.4f}, "
              f"best_model.keras {rep['mean']:.4f} (mean of {rep['passes']} passes, seed {rep['seed']}), "
              f"{100 * rep['relative_difference']:.2f}% apart")
    print(f"wrote {args.result}")


if __name__ == "__main__":
    main()
