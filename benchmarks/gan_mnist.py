"""DCGAN, WGAN-GP, the conditional GAN (and the original WGAN) on MNIST, measured with the domain Frechet distance.

Runs the shipped recipes exactly as ``keras-ae train zoo/NAME.toml --dataset idx:../shared/data/mnist`` does (only
the dataset name, for the offline IDX files, the output folder and, with ``--seeds``, the training seed are
overridden; epochs, batch, model arguments and the measures are the recipes'):

- ``dcgan_mnist`` (25 epochs), ``wgan_gp_mnist`` (12), ``conditional_gan_mnist`` (30), ``wgan_mnist`` (12: clip 0.01,
  n_critic 5, RMSprop 5e-5): ``filters=(32, 64)``, ``latent_dim=64``, batch 64, seed 0; train = first 8,000 images of
  the MNIST test file, test = last 2,000.
- Measures (the recipe's ``metrics.json``): ``sample_fid``, the domain FID of 2,000 samples (drawn with the recipe's
  seed) against the 2,000 test images in the features of a small classifier trained 3 epochs on the train split (NOT
  Inception FID), the classifier's test accuracy, and for the conditional GAN ``sample_class_accuracy``, the share of
  those samples (labels 0..9 in turn, 200 per digit) that the classifier assigns to the requested digit.
- Side-by-side baselines (no training; ``--no-baselines`` skips them), with the recipes' own feature classifier and
  FID code: the domain FID of 2,000 real training images, of each untrained generator (built as the run builds it),
  and the conditional GAN's class accuracy per digit (the recipe's 2,000 samples, from the saved model).

A run folder that already holds ``metrics.json`` is read, not retrained (``--overwrite`` starts over). The run folders
(model, metrics.json, history.json with the per-epoch losses, samples.png, history.png) go to ``--out``; one summary
to ``benchmarks/results/gan_mnist.json``.

    python benchmarks/gan_mnist.py [--models dcgan_mnist,wgan_gp_mnist,conditional_gan_mnist,wgan_mnist]
        [--seeds 0] [--out runs/gan_mnist] [--summary benchmarks/results/gan_mnist.json] [--no-baselines]
        [--copy-to benchmarks/results/gan_mnist]
"""

import argparse
import json
import os
import pathlib
import platform
import shutil
import sys
import time

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from recipe_runs import MNIST, RESULTS, ROOT, run_recipe, train_command  # noqa: E402

MODELS = ["dcgan_mnist", "wgan_gp_mnist", "conditional_gan_mnist", "wgan_mnist"]


class Baselines:
    """The recipes' FID feature classifier and reference statistics, built once per data setting exactly as a run's
    measures build them (``keras_ae.recipes.measure`` on the recipe's data, seed and options)."""

    def __init__(self):
        self.contexts = {}

    def context(self, recipe):
        from keras_ae import recipes

        family = recipes.family_recipe(recipe.model)
        options = recipes.merged_options(family, recipe.options)
        d = recipe.data
        key = (d["dataset"], d["train_split"], d["test_split"], d["data_dir"], int(recipe.train["seed"]),
               options["fid_classifier_epochs"], options["fid_samples"])
        if key not in self.contexts:
            ctx = recipes.RunContext(recipe, ".", int(recipe.train["seed"]), options, {}, verbose=0)
            ctx.info, ctx.train, ctx.test = recipes.load_data(recipe, family)
            self.contexts[key] = {"ctx": ctx, "real": None}
        return family, self.contexts[key]

    def untrained(self, recipe):
        """The recipe's measures of the generator as the run builds it before its first epoch."""
        import keras

        from keras_ae import recipes, zoo

        family, entry = self.context(recipe)
        ctx = entry["ctx"]
        args = family.constructor_args(recipe.model, recipe.model_args, ctx.info, ctx.train)
        keras.utils.set_random_seed(ctx.seed)
        model = zoo.create(recipe.model, **{"dtype": recipe.train.get("precision", "float32"), **args})
        return recipes.measure(model, family, ctx)  # the first call trains the feature classifier (seeded)

    def real(self, recipe):
        """Domain FID of the first ``fid_samples`` real training images against the test split."""
        from keras_ae.evaluation.fid import feature_statistics, frechet_distance
        from keras_ae.models.gan.gan_recipe import _features, feature_network

        _, entry = self.context(recipe)
        if entry["real"] is None:
            ctx = entry["ctx"]
            net, (mu, sigma) = feature_network(ctx)
            n = min(ctx.options["fid_samples"], len(ctx.test.x), len(ctx.train.x))
            mu_r, sigma_r = feature_statistics(_features(net, ctx.train.x[:n], ctx, "FID features (real)"))
            entry["real"] = {"real_train_fid": frechet_distance(mu, sigma, mu_r, sigma_r), "real_samples": n,
                             "fid_classifier_test_accuracy": net.accuracy(ctx.test.x, ctx.test.y)}
        return entry["real"]

    def per_class(self, recipe, model_path):
        """Class accuracy per requested class of the recipe's FID samples (the recipe's seeding), from the saved
        model; their mean is the recipe's ``sample_class_accuracy``."""
        import keras
        import numpy as np

        import keras_ae
        from keras_ae import recipes
        from keras_ae.models.gan.gan_recipe import _sample, feature_network

        _, entry = self.context(recipe)
        ctx = entry["ctx"]
        net, _ = feature_network(ctx)
        model = keras_ae.load_model(str(model_path))
        keras.utils.set_random_seed(ctx.seed)
        recipes.reset_seed_states(model, [ctx.seed, 999], 0)
        images, labels = _sample(model, min(ctx.options["fid_samples"], len(ctx.test.x)), ctx.seed)
        pred = net.predict(images)
        return {"sample_class_accuracy": float(np.mean(pred == labels)),
                "per_class": [float(np.mean(pred[labels == c] == c)) for c in range(model.num_classes)]}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--models", default=",".join(MODELS), help="comma-separated recipe names (zoo/NAME.toml)")
    p.add_argument("--seeds", default="", help="comma-separated training seeds (default: the recipes' seed, 0)")
    p.add_argument("--dataset", default=f"idx:{MNIST}")
    p.add_argument("--out", default=str(ROOT / "runs" / "gan_mnist"), help="root of the run folders")
    p.add_argument("--summary", default=str(RESULTS / "gan_mnist.json"))
    p.add_argument("--copy-to", default=str(RESULTS / "gan_mnist"),
                   help="copy each run's samples.png, history.png, metrics.json, history.json to COPY_TO/<run folder "
                        "name>/ ('' for no copy)")
    p.add_argument("--no-baselines", action="store_true", help="skip the untrained / real-image baselines")
    p.add_argument("--overwrite", action="store_true", help="retrain runs whose folder already holds metrics.json")
    args = p.parse_args(argv)

    from keras_ae.runs import write_json

    names = [n.strip() for n in args.models.split(",") if n.strip()]
    unknown = [n for n in names if not (ROOT / "zoo" / f"{n}.toml").is_file()]
    if unknown:
        p.error(f"no recipe zoo/<name>.toml for {unknown}")
    seeds = [int(s) for s in args.seeds.split(",") if s.strip()] or [None]
    baselines = None if args.no_baselines else Baselines()
    load0, t0 = os.getloadavg(), time.time()
    rows = []
    for name in names:
        for seed in seeds:
            out = pathlib.Path(args.out) / (name if seed in (None, 0) else f"{name}_seed{seed}")  # the recipes' seed: 0
            metrics, timing, recipe = run_recipe(name, out, args.dataset, seed=seed, overwrite=args.overwrite)
            if not timing:
                print(f"{out}: trained outside this benchmark (no benchmark_timing.json): wall/CPU seconds "
                      "unknown", flush=True)
            s = metrics["setting"]
            row = {"recipe": f"zoo/{name}.toml", "model": recipe.model, "seed": s["seed"], "run_folder": str(out),
                   "metrics": {k: v for k, v in metrics.items() if k not in ("setting", "figures")},
                   "wall_s": timing.get("wall_s"), "cpu_s": timing.get("cpu_s"),
                   "load_before": timing.get("load_before"), "load_after": timing.get("load_after"),
                   "train_seconds": s["train_seconds"],
                   "setting": {"dataset": s["dataset"], "train_split": s["train_split"], "test_split": s["test_split"],
                               "train_examples": s["train_examples"], "test_examples": s["test_examples"],
                               "epochs": s["epochs"], "batch_size": s["batch_size"], "seed": s["seed"],
                               "model_args": s["model_args"], "options": s["options"], "backend": s["backend"],
                               "command": train_command(name, out, args.dataset, seed, stages=s["stages"])}}
            if s["epochs"] != recipe.train["epochs"]:
                row["warning"] = (f"the run folder trained {s['epochs']} epochs, the recipe says "
                                  f"{recipe.train['epochs']}: not the recipe's run")
                print(f"WARNING {name}: {row['warning']}", flush=True)
            history = out / "history.json"
            if history.is_file():
                row["history"] = json.loads(history.read_text())  # per-epoch losses
            row["figures"] = [str(out / f) for f in metrics.get("figures", [])]
            if args.copy_to:
                keep = pathlib.Path(args.copy_to) / out.name
                keep.mkdir(parents=True, exist_ok=True)
                for f in ("samples.png", "history.png", "metrics.json", "history.json"):
                    if (out / f).is_file():
                        shutil.copyfile(out / f, keep / f)
            if baselines is not None:
                untrained = baselines.untrained(recipe)  # first: trains the classifier under the run's seeding
                real = baselines.real(recipe)
                b = {"real_train_fid": real["real_train_fid"], "real_samples": real["real_samples"],
                     "fid_classifier_test_accuracy": real["fid_classifier_test_accuracy"],
                     "untrained_fid": untrained["sample_fid"],
                     "fid_lower_by": untrained["sample_fid"] / max(metrics["sample_fid"], 1e-12)}
                if "sample_class_accuracy" in untrained:
                    b["untrained_class_accuracy"] = untrained["sample_class_accuracy"]
                if "sample_class_accuracy" in metrics and (out / "model.keras").is_file():
                    pc = baselines.per_class(recipe, out / "model.keras")
                    b["class_accuracy_per_class"] = pc["per_class"]
                    b["class_accuracy_recomputed"] = pc["sample_class_accuracy"]
                if abs(b["fid_classifier_test_accuracy"] - metrics["fid_classifier_test_accuracy"]) > 1e-9:
                    b["warning"] = "the baseline's feature classifier differs from the run's (test accuracy)"
                row["baselines"] = b
            rows.append(row)
            m, b = row["metrics"], row.get("baselines", {})
            extra = (f", requested class recognized {m['sample_class_accuracy']:.3f}"
                     if "sample_class_accuracy" in m else "")
            base = (f" (untrained {b['untrained_fid']:.1f}, {b['fid_lower_by']:.0f}x lower; real images "
                    f"{b['real_train_fid']:.1f})" if b else "")
            print(f"{name} seed {s['seed']}: {s['epochs']} epochs, domain FID {m['sample_fid']:.2f}{base}{extra}; "
                  f"classifier accuracy {m['fid_classifier_test_accuracy']:.3f}; train {s['train_seconds']} s, "
                  f"wall {timing.get('wall_s', '-')} s, CPU {timing.get('cpu_s', '-')} s", flush=True)
            if "class_accuracy_per_class" in b:
                print(f"  per digit: {[round(a, 3) for a in b['class_accuracy_per_class']]}", flush=True)

    import keras

    report = {
        "benchmark": "gan_mnist",
        "metric": "domain FID (features of a small classifier trained on the train split; NOT Inception FID) of the "
                  "recipe's fid_samples samples against the test split; conditional: share of samples classified as "
                  "the requested digit",
        "recipes": [f"zoo/{n}.toml" for n in names], "seeds_override": [s for s in seeds if s is not None],
        "dataset": args.dataset, "backend": keras.backend.backend(),
        "machine": platform.processor() or platform.machine(), "cpus": os.cpu_count(),
        "python": sys.version.split()[0], "load_start": [round(v, 2) for v in load0],
        "load_end": [round(v, 2) for v in os.getloadavg()], "total_seconds": round(time.time() - t0, 1),
        "rows": rows,
    }
    print(f"{'recipe':<24} {'seed':>4} {'epochs':>6} {'FID':>7} {'untrained':>9} {'real':>6} {'cls acc':>7} "
          f"{'train s':>8} {'wall s':>7} {'cpu s':>7}")
    for r in rows:
        m, b = r["metrics"], r.get("baselines", {})
        fmt = lambda v, f: format(v, f) if isinstance(v, (int, float)) else "-"  # noqa: E731
        print(f"{r['recipe'][4:-5]:<24} {r['seed']:>4} {r['setting']['epochs']:>6} {m['sample_fid']:>7.2f} "
              f"{fmt(b.get('untrained_fid'), '9.1f'):>9} {fmt(b.get('real_train_fid'), '6.1f'):>6} "
              f"{fmt(m.get('sample_class_accuracy'), '7.3f'):>7} {r['train_seconds']:>8} "
              f"{fmt(r['wall_s'], '7.1f'):>7} {fmt(r['cpu_s'], '7.1f'):>7}")
    write_json(args.summary, report)
    print(f"wrote {args.summary}; total {report['total_seconds']} s, load average {report['load_start']} -> "
          f"{report['load_end']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
