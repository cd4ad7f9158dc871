"""VQ-VAE on MNIST: reconstruction vs conv_ae of the same code size, codebook use, prior sample quality.

Runs the recipe ``zoo/vq_vae_mnist.toml`` as ``keras-ae train zoo/vq_vae_mnist.toml`` does (only the dataset name,
for the offline IDX files, the output folder and, with ``--seed``, the training seed are overridden):
``vq_vae(num_embeddings=512, embedding_dim=16)`` (7x7x16 code grid = 784 numbers), 20 epochs at batch 128, then its
gated PixelCNN prior (6 layers x 64 filters) 20 epochs at batch 64 on the train codes; train = first 8,000 images of
the MNIST test file, test = last 2,000; seed 0.

Side-by-side baseline: ``conv_ae(latent_dim=784, dense_units=0)`` (a continuous 784-number code, no narrower dense
layer in front of it). No recipe in zoo/ trains it (``zoo/conv_ae_mnist.toml`` has a 10-number code and 10 epochs),
so it runs through the same runner with the VQ-VAE recipe's own ``[data]`` and ``[train]`` (same splits, epochs,
batch and seed; conv_ae's own optimizer, Adam 1e-3 as the VQ-VAE's) and ``[options] probe = false,
clustering = false`` (measures not compared here); the equivalent command is recorded in the summary.

Measures: test MSE per pixel, codebook perplexity and share of codes in use, the prior's test NLL per code (nats) are
read from the runs' ``metrics.json``; the test MSE after every epoch of both models (``val_mse``) and the prior's
train NLL per epoch (``prior/loss``) from their ``history.json`` (the recipe fits the prior without validation data,
so its test NLL is known after the last epoch only). Computed here from the saved ``model.keras``: the codebook use
on the train split, the parameter counts, a reload check (the saved model gives metrics.json's test perplexity, MSE
and prior NLL again), and the mean max-probability that classifiers trained on the 8,000 train images
(``train_feature_classifier``, 10 epochs and, as in benchmarks/gan_mnist.py, 3 epochs) give to 500 prior samples
(temperature 1 and 0.8) and to the real test images. Figures ``FIGURES/vqvae_reconstructions.png``,
``vqvae_codebook_usage.png`` and ``vqvae_samples.png`` (samples labelled by the 10-epoch judge).

Run folders: ``OUT/vq_vae_mnist`` and ``OUT/conv_ae_784``; a folder that already holds a finished run of the same
setting is read, not retrained.

    python benchmarks/vqvae_mnist.py [--seed S] [--dataset idx:../shared/data/mnist] [--out DIR] [--summary PATH]
                                     [--figures DIR] [--samples 500] [--classifier-epochs 10]
"""

import argparse
import json
import os
import pathlib
import shlex

import numpy as np

from keras_ae.runs import write_json
from recipe_runs import MNIST, RESULTS, ROOT, run_loaded, run_recipe, train_command

NAME = "vq_vae_mnist"
BASELINE = "conv_ae_784"
BASELINE_ARGS = {"latent_dim": 784, "dense_units": 0}
BASELINE_OPTIONS = {"probe": False, "clustering": False}


def baseline_recipe(recipe):
    """conv_ae(latent_dim=784, dense_units=0) with the VQ-VAE recipe's data and training settings."""
    from keras_ae import recipes

    return recipes.Recipe(
        model="conv_ae", out=recipe.out, model_args=dict(BASELINE_ARGS), data=dict(recipe.data),
        train={**recipe.train, "stages": {}}, options=dict(BASELINE_OPTIONS),
        description="benchmarks/vqvae_mnist.py baseline: conv_ae with a 784-number code",
        source=f"zoo/{NAME}.toml's [data] and [train], model conv_ae{BASELINE_ARGS}").check()


def planned_stages(recipe):
    return {"train": recipe.train["epochs"], **recipe.train["stages"]}


def command(recipe, metrics, folder, dataset=None, seed=None, baseline=False):
    """The ``keras-ae train`` command that trains ``folder``'s run (its epochs where they differ from the recipe's,
    e.g. a folder trained shorter for a smoke test)."""
    stages = metrics["setting"]["stages"]
    if not baseline:
        return train_command(NAME, folder, dataset, seed, stages=stages)
    d, t = recipe.data, recipe.train
    parts = [f"keras-ae train {recipe.model} --dataset {shlex.quote(d['dataset'])} "
             f"--train-split {shlex.quote(d['train_split'])} --test-split {shlex.quote(d['test_split'])} "
             f"--epochs {stages['train']} --batch-size {d['batch_size']} --seed {t['seed']}"]
    parts += [f"--arg {k}={v}" for k, v in recipe.model_args.items()]
    parts += [f"--option {k}={str(v).lower()}" for k, v in recipe.options.items()]
    return " ".join(parts + [f"--out {folder}"])


def setting_block(recipe, metrics, cmd):
    s = metrics["setting"]
    block = {"data": f"{s['dataset']}: train split {s['train_split']!r} ({s['train_examples']} images), test split "
                     f"{s['test_split']!r} ({s['test_examples']} images)",
             "epochs": s["epochs"], "stages": s["stages"], "batch_size": s["batch_size"], "seed": s["seed"],
             "options": s["options"], "command": cmd}
    if s["stages"] != planned_stages(recipe):
        block["epochs_differ_from_recipe"] = planned_stages(recipe)
        print(f"note: {cmd.split('--out ')[-1]} was trained {s['stages']} epochs, not the recipe's "
              f"{planned_stages(recipe)}", flush=True)
    return block


def run_row(label, recipe, metrics, timing, folder, cmd):
    history = json.loads((folder / "history.json").read_text())
    return history, {
        "recipe": f"zoo/{NAME}.toml" if label == NAME else recipe.source, "model": recipe.model,
        "model_args": metrics["setting"]["model_args"], "seed": metrics["setting"]["seed"], "run_folder": str(folder),
        "metrics": {k: v for k, v in metrics.items() if k not in ("setting", "figures")},
        "test_mse_per_pixel": metrics["test_mse"],
        "test_mse_per_epoch": [round(float(v), 6) for v in history["val_mse"]],
        "train_seconds_all_stages": metrics["setting"]["train_seconds"],
        **{k: timing.get(k) for k in ("wall_s", "cpu_s", "load_before", "load_after")},
        "setting": setting_block(recipe, metrics, cmd), "recipe_setting": metrics["setting"],
    }


def classifier_probs(x_train, y_train, seed, epochs):
    """A conv classifier trained on the train split (the judge of the samples); returns (probs_fn, description)."""
    from keras_ae.evaluation.fid import train_feature_classifier

    net = train_feature_classifier(x_train, y_train, num_classes=10, epochs=epochs, seed=seed)
    return (lambda x: np.asarray(net.classifier.predict(x, batch_size=500, verbose=0)),
            f"keras_ae.evaluation.fid.train_feature_classifier (epochs={epochs})")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seed", type=int, default=None, help="override the recipe's training seed")
    p.add_argument("--dataset", default=f"idx:{MNIST}")
    p.add_argument("--out", default=str(ROOT / "runs" / "vqvae_mnist"), help="folder of the two run folders")
    p.add_argument("--summary", default=str(RESULTS / "vqvae_mnist.json"))
    p.add_argument("--figures", default=str(RESULTS), help="folder of the vqvae_*.png figures")
    p.add_argument("--samples", type=int, default=500, help="prior samples judged by the classifiers")
    p.add_argument("--classifier-epochs", type=int, default=10,
                   help="the judging classifier's epochs (the GAN benchmark's 3-epoch one is reported too)")
    p.add_argument("--overwrite", action="store_true", help="retrain both runs from the start")
    args = p.parse_args(argv)

    import keras_ae
    from keras_ae.models.vqvae import vqvae_plots as plotting_vqvae

    out = pathlib.Path(args.out)
    vq_folder, ae_folder = out / NAME, out / BASELINE
    metrics, timing, recipe = run_recipe(NAME, vq_folder, args.dataset, seed=args.seed, overwrite=args.overwrite)
    vq_hist, vq_row = run_row(NAME, recipe, metrics, timing, vq_folder,
                              command(recipe, metrics, vq_folder, args.dataset, args.seed))
    base = baseline_recipe(recipe)
    ae_metrics, ae_timing = run_loaded(base, ae_folder, overwrite=args.overwrite)
    _, ae_row = run_row(BASELINE, base, ae_metrics, ae_timing, ae_folder,
                        command(base, ae_metrics, ae_folder, baseline=True))
    seed = int(recipe.train["seed"])

    x_train, y_train = keras_ae.data.load_numpy(args.dataset, recipe.data["train_split"])
    x_test, y_test = keras_ae.data.load_numpy(args.dataset, recipe.data["test_split"])
    vq = keras_ae.load_model(str(vq_folder / "model.keras"), safe_mode=True)
    ae = keras_ae.load_model(str(ae_folder / "model.keras"), safe_mode=True)
    rec = vq.reconstruct(x_test)
    usage, usage_train = vq.codebook_usage(x_test), vq.codebook_usage(x_train)
    vq_row.update(
        params=int(vq.count_params()), prior_params=int(vq.prior.count_params()),
        test_perplexity=metrics["test_perplexity_codes"], test_share_unused=1.0 - metrics["test_codes_in_use_share"],
        train_perplexity=usage_train["perplexity"], train_share_unused=1.0 - usage_train["share_in_use"])
    ae_row.update(params=int(ae.count_params()))
    reload = dict(
        test_mse_from_saved_model=float(np.mean((rec - x_test) ** 2)),
        test_perplexity_from_saved_model=usage["perplexity"],
        test_prior_nll_from_saved_model=float(vq.prior_nll(x_test)))
    reload["matches_metrics_json"] = bool(
        np.isclose(reload["test_mse_from_saved_model"], metrics["test_mse"], rtol=1e-4)
        and np.isclose(reload["test_perplexity_from_saved_model"], metrics["test_perplexity_codes"], rtol=1e-6)
        and np.isclose(reload["test_prior_nll_from_saved_model"], metrics["test_prior_nll_per_code"], rtol=1e-4))
    vq_curve, ae_curve = vq_row["test_mse_per_epoch"], ae_row["test_mse_per_epoch"]
    print(f"{'':>28} {'VQ-VAE':>10} {'conv_ae 784':>12}")
    print(f"{'test MSE per pixel':>28} {vq_row['test_mse_per_pixel']:>10.6f} {ae_row['test_mse_per_pixel']:>12.6f}")
    if len(vq_curve) >= 10 and len(ae_curve) >= 10:
        print(f"{'test MSE after 10 epochs':>28} {vq_curve[9]:>10.6f} {ae_curve[9]:>12.6f}")
    lower = [e + 1 for e, (a, b) in enumerate(zip(vq_curve, ae_curve)) if a < b]
    print(f"{'VQ-VAE lower after epochs':>28} {lower} ({len(lower)} of {min(len(vq_curve), len(ae_curve))})")
    print(f"{'parameters':>28} {vq_row['params']:>10} {ae_row['params']:>12}  (the VQ-VAE's include the prior's "
          f"{vq_row['prior_params']})")
    print(f"{'train s (VQ-VAE: + prior)':>28} {vq_row['train_seconds_all_stages']:>10.0f} "
          f"{ae_row['train_seconds_all_stages']:>12.0f}")
    print(f"codebook: test perplexity {vq_row['test_perplexity']:.1f} of {vq.num_embeddings}, unused "
          f"{vq_row['test_share_unused']:.1%}; reload matches metrics.json: {reload['matches_metrics_json']}", flush=True)

    prior_train_nll = vq_hist.get("prior/loss", [])
    prior = dict(
        config=f"gated PixelCNN, {vq.prior_layers} layers x {vq.prior_filters} filters, kernel {vq.prior_kernel_size}",
        params=vq_row["prior_params"], epochs=metrics["setting"]["stages"].get("prior"),
        batch_size=metrics["setting"]["options"]["prior_batch_size"],
        train_nll_per_code_nats=prior_train_nll[-1] if prior_train_nll else None,
        train_nll_per_epoch=[round(float(v), 4) for v in prior_train_nll],
        test_nll_per_code_nats=metrics["test_prior_nll_per_code"],
        n_samples=args.samples, sample_seed=seed, temperature=1.0)
    samples = vq.sample(args.samples, seed=seed)
    samples_cold = vq.sample(args.samples, seed=seed, temperature=0.8)
    judges = []
    for epochs in dict.fromkeys([args.classifier_epochs, 3]):
        fn, desc = classifier_probs(x_train, y_train, seed, epochs)
        ps, pt = fn(samples), fn(x_test)
        if epochs == 3 and args.classifier_epochs != 3:
            desc += ", as in benchmarks/gan_mnist.py"
        judges.append(dict(
            classifier=desc,
            classifier_test_accuracy=float(np.mean(np.argmax(pt, -1) == y_test)),
            real_test_mean_max_prob=float(np.mean(np.max(pt, -1))),
            samples_mean_max_prob=float(np.mean(np.max(ps, -1))),
            samples_max_prob_standard_error=float(np.std(np.max(ps, -1)) / np.sqrt(len(ps))),
            samples_share_max_prob_above_0_8=float(np.mean(np.max(ps, -1) > 0.8)),
            samples_class_histogram=np.bincount(np.argmax(ps, -1), minlength=10).tolist(),
            temperature_0_8_samples_mean_max_prob=float(np.mean(np.max(fn(samples_cold), -1)))))
        if len(judges) == 1:
            labels = [f"{c}:{q:.2f}" for c, q in zip(np.argmax(ps, -1), np.max(ps, -1))]
        print(f"judge {desc}: test accuracy {judges[-1]['classifier_test_accuracy']:.3f}; mean max-prob real "
              f"{judges[-1]['real_test_mean_max_prob']:.3f}, samples {judges[-1]['samples_mean_max_prob']:.3f} +- "
              f"{judges[-1]['samples_max_prob_standard_error']:.3f} (T 0.8: "
              f"{judges[-1]['temperature_0_8_samples_mean_max_prob']:.3f}); histogram "
              f"{judges[-1]['samples_class_histogram']}", flush=True)
    prior["samples_mean_max_prob"] = judges[0]["samples_mean_max_prob"]
    print(f"prior: NLL per code, train {prior['train_nll_per_code_nats']} (last epoch), test "
          f"{prior['test_nll_per_code_nats']:.4f} nats")

    figures = pathlib.Path(args.figures)
    figures.mkdir(parents=True, exist_ok=True)
    plotting_vqvae.plot_reconstructions(x_test[:12], rec[:12], figures / "vqvae_reconstructions.png", n=12)
    plotting_vqvae.plot_codebook_usage(usage["counts"], figures / "vqvae_codebook_usage.png")
    plotting_vqvae.plot_samples(samples[:50], figures / "vqvae_samples.png", labels=labels[:50],
                                title="VQ-VAE prior samples (classifier label: max prob)")

    result = dict(
        benchmark="vqvae_mnist", recipe=f"zoo/{NAME}.toml", seed_override=args.seed, dataset=args.dataset,
        vq_vae=vq_row, conv_ae=ae_row, epochs_where_vq_vae_mse_is_lower=lower, prior=prior, judges=judges,
        reload=reload,
        acceptance=dict(
            mse_below_conv_ae=vq_row["test_mse_per_pixel"] < ae_row["test_mse_per_pixel"],
            perplexity_above_32=vq_row["test_perplexity"] > 32,
            unused_at_most_10pct=vq_row["test_share_unused"] <= 0.10,
            samples_mean_max_prob_above_0_8=prior["samples_mean_max_prob"] > 0.8),
        figures=[str(figures / f"vqvae_{n}.png") for n in ("reconstructions", "codebook_usage", "samples")],
        load_average_end=list(os.getloadavg()))
    print("acceptance:", json.dumps(result["acceptance"]))
    write_json(args.summary, result)
    print(f"wrote {args.summary}; load average {os.getloadavg()}")


if __name__ == "__main__":
    main()
