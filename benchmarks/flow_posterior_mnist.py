"""Flow posterior against the Gaussian posterior: conv_vae (latent 16) on MNIST, test IWAE (k = 1000) and -ELBO.

Runs the recipes ``zoo/conv_vae16_mnist.toml`` (Gaussian posterior) and ``zoo/conv_vae_iaf_mnist.toml`` (the same
model with 4 IAF steps, Kingma et al. 2016) exactly as ``keras-ae train RECIPE --dataset idx:...`` does (20 epochs,
batch 32, a KL warm-up over the first 1,250 steps, train = first 8,000 images of the MNIST test file, test = last
2,000; the recipes' IWAE with k = 1000 on all 2,000 test images, draws seeded by the training seed), for training
seeds 0 and 1 (only ``[train] seed``, ``[model_args] seed`` and the output folder are overridden), interleaved.
Prints, per run, test IWAE, the k = 1000 -ELBO (same draws) and the Keras 10-pass -ELBO; per recipe the mean and the
seed spread (|seed 0 - seed 1|); and the difference flow - plain of the seed means, beside the larger of the two
spreads. Wall and CPU seconds and the load
average are recorded with each run. Run folders go to ``--out``; the summary to
``benchmarks/results/flow_posterior_mnist.json`` (rewritten after every run). A run folder that already holds
``metrics.json`` is read, not retrained (``--overwrite`` starts over).

    python benchmarks/flow_posterior_mnist.py [--recipes conv_vae16_mnist,conv_vae_iaf_mnist] [--seeds 0,1]
        [--dataset idx:../shared/data/mnist]
"""

import argparse
import pathlib
import platform
import sys

from recipe_runs import MNIST, ROOT, load_recipe, run_loaded

HERE = ROOT / "benchmarks"
PLAIN, FLOW = "conv_vae16_mnist", "conv_vae_iaf_mnist"


def _summary(rows):
    """Per recipe: mean and spread over seeds; the difference flow - plain beside the spreads."""
    by = {}
    for r in rows:
        by.setdefault(r["recipe"], []).append(r)
    out = {}
    for name, rs in by.items():
        entry = {"seeds": [r["seed"] for r in rs]}
        for key in ("test_iwae_nll", "test_iwae_neg_elbo", "test_neg_elbo"):
            values = [r[key] for r in rs]
            entry[key + "_mean"] = sum(values) / len(values)
            entry[key + "_spread"] = max(values) - min(values)
        out[name] = entry
    if PLAIN in out and FLOW in out and len(out[PLAIN]["seeds"]) > 1 and len(out[FLOW]["seeds"]) > 1:
        p, f = out[PLAIN], out[FLOW]
        diff = f["test_iwae_nll_mean"] - p["test_iwae_nll_mean"]
        spread = max(p["test_iwae_nll_spread"], f["test_iwae_nll_spread"])
        out["flow_minus_plain"] = {
            "test_iwae_nll": diff, "test_iwae_neg_elbo": f["test_iwae_neg_elbo_mean"] - p["test_iwae_neg_elbo_mean"],
            "test_neg_elbo": f["test_neg_elbo_mean"] - p["test_neg_elbo_mean"], "largest_seed_spread_iwae": spread,
            "flow_wins_by_more_than_the_spread": bool(-diff > spread),
        }
        # the same seed gives the two models the same encoder and decoder initialization: the paired differences
        iwae = {(r["recipe"], r["seed"]): r["test_iwae_nll"] for r in rows}
        out["paired_flow_minus_plain_iwae"] = {str(s): iwae[FLOW, s] - iwae[PLAIN, s] for s in p["seeds"]
                                               if (FLOW, s) in iwae}
    return out


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--recipes", default=f"{PLAIN},{FLOW}", help="comma-separated recipe names under zoo/")
    p.add_argument("--seeds", default="0,1", help="comma-separated training seeds")
    p.add_argument("--dataset", default=f"idx:{MNIST}", help="the recipes' [data] dataset (offline: the IDX files)")
    p.add_argument("--out", default=str(ROOT / "runs" / "flow_posterior_mnist"), help="run folders")
    p.add_argument("--summary", default=str(HERE / "results" / "flow_posterior_mnist.json"))
    p.add_argument("--overwrite", action="store_true", help="retrain runs whose folder already holds metrics.json")
    args = p.parse_args(argv)

    import keras

    from keras_ae.runs import write_json

    rows = []
    for seed in (int(s) for s in args.seeds.split(",")):
        for name in args.recipes.split(","):
            recipe = load_recipe(name, dataset=args.dataset, seed=seed)
            out = pathlib.Path(args.out) / f"{name}_seed{seed}"
            # a folder holding metrics.json is read after a check of its setting (recipe_runs.run_loaded)
            metrics, timing = run_loaded(recipe, out, overwrite=args.overwrite)
            row = {"recipe": name, "seed": seed, "posterior_flow": recipe.model_args.get("posterior_flow"),
                   "flow_steps": recipe.model_args.get("flow_steps"), "epochs": recipe.train["epochs"],
                   "batch_size": recipe.data["batch_size"],
                   "kl_warmup_steps": recipe.model_args.get("kl_warmup_steps", 0),
                   "test_iwae_nll": metrics["test_iwae_nll"], "test_iwae_neg_elbo": metrics["test_iwae_neg_elbo"],
                   "test_neg_elbo": metrics["test_neg_elbo"], "test_kl_loss": metrics.get("test_kl_loss"),
                   "iwae_k": metrics["iwae_k"], "train_seconds": metrics["setting"].get("train_seconds"),
                   "params": keras_ae_params(out), "folder": str(out), **timing}
            rows.append(row)
            print(f"{name:<22} seed {seed}: IWAE {row['test_iwae_nll']:.3f}  -ELBO(k=1000 draws) "
                  f"{row['test_iwae_neg_elbo']:.3f}  -ELBO(10 passes) {row['test_neg_elbo']:.3f}  "
                  f"wall {row.get('wall_s')} s, cpu {row.get('cpu_s')} s, load {row.get('load_before')}->"
                  f"{row.get('load_after')}", flush=True)
            write_json(args.summary, {
                "setting": {"data": f"{args.dataset}: train test[:8000], test test[8000:] (2,000 images)",
                            "recipes": "zoo/<recipe>.toml, only [train] seed, [model_args] seed and out overridden",
                            "epochs, batch_size, kl_warmup_steps": "per run, from its recipe", "iwae_k": 1000,
                            "iwae_draws_seed": "the training seed",
                            "backend": keras.backend.backend(), "python": platform.python_version(),
                            "command": " ".join([sys.executable.split("/")[-1], *sys.argv])},
                "runs": rows, "summary": _summary(rows)})
    s = _summary(rows)
    for name, entry in s.items():
        if "test_iwae_nll_mean" not in entry:  # the differences, printed below
            continue
        print(f"{name:<22} IWAE mean {entry['test_iwae_nll_mean']:.3f} (seed spread {entry['test_iwae_nll_spread']:.3f})"
              f"  -ELBO mean {entry['test_neg_elbo_mean']:.3f} (spread {entry['test_neg_elbo_spread']:.3f})")
    if "flow_minus_plain" in s:
        d = s["flow_minus_plain"]
        print(f"flow - plain: IWAE {d['test_iwae_nll']:+.3f} nats, -ELBO {d['test_neg_elbo']:+.3f} nats; largest seed "
              f"spread (IWAE) {d['largest_seed_spread_iwae']:.3f}; flow wins by more than the spread: "
              f"{d['flow_wins_by_more_than_the_spread']}")


def keras_ae_params(out):
    """The trained model's parameter count (from its run folder)."""
    import keras_ae

    return int(keras_ae.load_model(str(out / "model.keras"), safe_mode=True).count_params())


if __name__ == "__main__":
    main()
