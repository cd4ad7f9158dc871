"""IWAE NLL (k = 1000) beside the negative ELBO, and linear-probe accuracy, for conv_vae (latent 16) on MNIST (issue 9).

The models are the recipe ``zoo/conv_vae16_mnist.toml`` (``conv_vae(latent_dim=16, filters=[32, 64], norm="none",
kl_warmup_steps=1250)``, 20 epochs, batch 32, the zoo's optimizer; train = first 8,000 images of the MNIST test
file, test = the last 2,000; ``[options] elbo_passes = 10, iwae_k = 1000``), run exactly as ``keras-ae train
zoo/conv_vae16_mnist.toml --dataset idx:...`` does for training seeds 0 and 1 (only the dataset name, for the
offline IDX files, ``[train] seed``, ``[model_args] seed`` and the output folder are overridden). These are the same
runs, in the same folders, as benchmarks/flow_posterior_mnist.py's Gaussian-posterior baseline:
``OUT/conv_vae16_mnist_seed<S>`` with OUT = ``runs/flow_posterior_mnist`` by default, so a folder trained by either
benchmark (or by ``keras-ae train ... --out`` with the same setting) is read by the other, not retrained
(``--overwrite`` starts over).

Read from each run's ``metrics.json`` (computed by the recipe, not here): the test IWAE with k = 1000 on all 2,000
test images (draws seeded by the training seed), the -ELBO from the same k draws, the Keras -ELBO averaged over 10
passes, the linear-probe accuracy and k-means scores of the posterior means (8,000 train codes -> 2,000 test codes),
the training seconds. Derived: -ELBO - IWAE, whether IWAE < -ELBO, the training-seed spread |IWAE(0) - IWAE(1)|.
Computed here from the saved ``model.keras`` (cheap): the active units (posterior-mean variance > 0.01 over the test
images) and the parameter count of every run, and the figures of ``keras_ae.evaluation.latent.evaluate_latent``
(codes map, reconstructions, interpolations, traversals, samples: ``FIGURES/latent_*.png``) of the first seed's model.
With ``--iwae-draw-seeds`` (about 7 minutes per seed on 2 CPU cores): the estimator's own stability, the IWAE (same k,
all test images) of the first seed's model with draws seeded otherwise, beside the recipe's.

Writes the summary (``keras_ae.runs.write_json``, atomic, after every run) to ``--summary``
(benchmarks/results/latent_mnist.json): the setting, per run the recipe, seed, run folder, metrics, timing
(``{}`` for a folder trained by the CLI) and the extras, and the summary across seeds.

    python benchmarks/latent_mnist.py [--seeds 0,1] [--dataset idx:../shared/data/mnist]
        [--out runs/flow_posterior_mnist] [--summary benchmarks/results/latent_mnist.json]
        [--figures benchmarks/results/latent_mnist | --figures ""] [--iwae-draw-seeds 1] [--overwrite]

Variants the previous version of this script trained with its own loop (``conv_vae(latent_dim=16)`` with today's
defaults, residual + batch norm, cosine decay, weight EMA) are not recipes and were dropped; that script is in git
history (commit 840cfe9) and its results stay in benchmarks/results/latent_mnist_cosine.json and
latent_mnist_weight_ema.json.
"""

import argparse
import pathlib
import shlex
import sys
import time

from recipe_runs import MNIST, RESULTS, ROOT, run_recipe

RECIPE = "conv_vae16_mnist"
# the folders of benchmarks/flow_posterior_mnist.py (its --out default and its <recipe>_seed<S> names)
DEFAULT_OUT = ROOT / "runs" / "flow_posterior_mnist"
ACTIVE_THRESHOLD = 0.01


def run_folder(out, seed):
    return pathlib.Path(out) / f"{RECIPE}_seed{seed}"


def load_test_split(recipe):
    from keras_ae.data.catalog import load_arrays

    d = recipe.data
    return load_arrays(d["dataset"], d["test_split"], d["data_dir"] or None)


def extras(folder, test, figures=None, seed=0):
    """Active units and parameter count of the run's saved model; with ``figures`` the latent figures there."""
    import keras_ae
    from keras_ae.evaluation.latent import active_units, evaluate_latent

    t = time.time()
    model = keras_ae.load_model(str(folder / "model.keras"), safe_mode=True)
    count, _ = active_units(model, test.x, threshold=ACTIVE_THRESHOLD)
    out = {"active_units": count, "latent_dim": int(model.latent_dim), "params": int(model.count_params())}
    if figures:
        # k = 1: the figures only (the IWAE with the recipe's k is in metrics.json)
        m = evaluate_latent(model, test.x, test.y, k=1, out=str(figures), seed=seed)
        out["figures_dir"], out["figures"] = str(figures), m["figures"]
    out["extras_seconds"] = round(time.time() - t, 1)
    return model, out


def draw_seed_stability(model, test, k, seeds):
    """IWAE (k samples, all test images) of ``model`` with draws seeded by each of ``seeds``."""
    from keras_ae.evaluation.latent import iwae_nll

    rows = {}
    for s in seeds:
        t = time.time()
        r = iwae_nll(model, test.x, k=k, seed=s)
        rows[str(s)] = {"test_iwae_nll": r["iwae_nll"], "test_iwae_neg_elbo": r["neg_elbo"], "examples": r["n"],
                        "seconds": round(time.time() - t, 1)}
        print(f"  IWAE draws seeded {s}: {r['iwae_nll']:.3f} (-ELBO same draws {r['neg_elbo']:.3f}, "
              f"{rows[str(s)]['seconds']} s)", flush=True)
    return rows


def summarize(rows, stability):
    out = {}
    if rows:
        iwae = [r["metrics"]["test_iwae_nll"] for r in rows]
        out["iwae_below_neg_elbo_all"] = all(r["iwae_below_neg_elbo"] for r in rows)
        out["test_iwae_nll_mean"] = sum(iwae) / len(iwae)
        if len(rows) > 1:
            spread = max(iwae) - min(iwae)
            elbo = [r["metrics"]["test_neg_elbo"] for r in rows]
            out.update(training_seed_spread_iwae=spread, training_seed_spread_neg_elbo=max(elbo) - min(elbo),
                       training_seed_spread_within_0_5_nats=bool(spread < 0.5))
    if stability:
        values = [v["test_iwae_nll"] for v in stability["draws"].values()]
        out["iwae_draw_seed_spread_same_model"] = max(values) - min(values)
        out["iwae_draw_seed_spread_within_0_5_nats"] = bool(out["iwae_draw_seed_spread_same_model"] < 0.5)
    return out


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", default="0,1", help="comma-separated training seeds")
    p.add_argument("--dataset", default=f"idx:{MNIST}", help="the recipe's [data] dataset (offline: the IDX files)")
    p.add_argument("--out", default=str(DEFAULT_OUT),
                   help="run folders (shared with benchmarks/flow_posterior_mnist.py): OUT/conv_vae16_mnist_seed<S>")
    p.add_argument("--summary", default=str(RESULTS / "latent_mnist.json"))
    p.add_argument("--figures", default=str(RESULTS / "latent_mnist"),
                   help="folder for the first seed's latent figures ('' for none)")
    p.add_argument("--iwae-draw-seeds", default="",
                   help="comma-separated IWAE draw seeds for the estimator-stability check on the first seed's model "
                        "(about 7 min each; default: not run)")
    p.add_argument("--overwrite", action="store_true", help="retrain runs whose folder already holds metrics.json")
    args = p.parse_args(argv)
    seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
    draw_seeds = [int(s) for s in args.iwae_draw_seeds.split(",") if s.strip()]

    import keras

    from keras_ae.runs import write_json

    rows, stability, test, setting = [], None, None, None
    for i, seed in enumerate(seeds):
        folder = run_folder(args.out, seed)
        metrics, timing, recipe = run_recipe(RECIPE, folder, dataset=args.dataset, seed=seed, overwrite=args.overwrite)
        trained = metrics["setting"]["epochs"]
        if trained != recipe.train["epochs"]:
            raise SystemExit(f"{folder} holds a run of {trained} epochs, the recipe trains {recipe.train['epochs']}: "
                             f"pass --overwrite or another --out.")
        if test is None:
            test = load_test_split(recipe)
        first = i == 0
        model, extra = extras(folder, test, args.figures if first else None, seed)
        m = metrics
        row = {"recipe": f"zoo/{RECIPE}.toml", "seed": seed, "run_folder": str(folder),
               "metrics": {k: v for k, v in m.items() if k not in ("setting", "figures")},
               "neg_elbo_minus_iwae": m["test_iwae_neg_elbo"] - m["test_iwae_nll"],
               "iwae_below_neg_elbo": bool(m["test_iwae_nll"] < m["test_iwae_neg_elbo"]),
               "train_seconds": m["setting"].get("train_seconds"), "timing": timing, **extra}
        rows.append(row)
        print(f"{RECIPE} seed {seed}: IWAE(k={m['iwae_k']}) {m['test_iwae_nll']:.3f}  -ELBO(same draws) "
              f"{m['test_iwae_neg_elbo']:.3f}  gap {row['neg_elbo_minus_iwae']:.3f}  -ELBO({m.get('test_passes', 1)} "
              f"passes) {m['test_neg_elbo']:.3f}  active {extra['active_units']}/{extra['latent_dim']}  probe "
              f"{m.get('test_probe_accuracy', float('nan')):.4f}  train {row['train_seconds']} s", flush=True)
        if first and draw_seeds:
            draws = {f"{seed} (recipe)": {"test_iwae_nll": m["test_iwae_nll"],
                                          "test_iwae_neg_elbo": m["test_iwae_neg_elbo"],
                                          "examples": m["setting"]["test_examples"]}}
            draws.update(draw_seed_stability(model, test, int(m["iwae_k"]), draw_seeds))
            stability = {"training_seed": seed, "k": int(m["iwae_k"]), "draws": draws}
        if setting is None:
            s = m["setting"]
            setting = {
                "recipe": f"zoo/{RECIPE}.toml, only the dataset, [train] seed, [model_args] seed and the folder "
                          f"overridden (benchmarks/recipe_runs.py)",
                "model_args": {k: v for k, v in s["model_args"].items() if k != "seed"},
                "data": f"{s['dataset']}: train {s['train_split']} ({s['train_examples']} images), test "
                        f"{s['test_split']} ({s['test_examples']} images)",
                "epochs": s["epochs"], "batch_size": s["batch_size"], "seeds": seeds,
                "learning_rate_schedule": s["learning_rate_schedule"], "iwae_k": m["iwae_k"],
                "iwae_draws_seed": "the training seed", "elbo_passes": s["options"]["elbo_passes"],
                "probe": "logistic regression on the posterior means, train codes -> test codes (recipe)",
                "active_units_threshold": ACTIVE_THRESHOLD, "iwae_draw_seeds_checked": draw_seeds,
                "runs_root": str(args.out), "backend": keras.backend.backend(),
                "command": shlex.join(["python", *sys.argv]),
            }
        summary = {"setting": setting, "runs": rows, "summary": summarize(rows, stability)}
        if stability:
            summary["iwae_draw_seed_stability"] = stability
        write_json(args.summary, summary)
        if first and args.figures:
            write_json(pathlib.Path(args.figures) / "metrics.json",  # replaces evaluate_latent's k = 1 numbers
                       {"run_folder": str(folder), "seed": seed, "figures": extra["figures"],
                        "numbers": f"see {args.summary}"})
    s = summarize(rows, stability)
    if "training_seed_spread_iwae" in s:
        print(f"IWAE mean {s['test_iwae_nll_mean']:.3f}; training-seed spread {s['training_seed_spread_iwae']:.3f} "
              f"nats (-ELBO {s['training_seed_spread_neg_elbo']:.3f}); IWAE < -ELBO for every run: "
              f"{s['iwae_below_neg_elbo_all']}")
    if stability:
        print(f"IWAE draw-seed spread on the seed-{stability['training_seed']} model: "
              f"{s['iwae_draw_seed_spread_same_model']:.3f} nats")
    print(f"summary: {args.summary}")


if __name__ == "__main__":
    main()
