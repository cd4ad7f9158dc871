"""Stacked autoencoder with greedy layer-wise pretraining, probed with only N labels per class.

Runs the recipe ``zoo/stacked_ae_mnist.toml`` as ``keras-ae train zoo/stacked_ae_mnist.toml`` does (only the dataset
name, for the offline IDX files, the output folder and, with ``--seed``, the training seed are overridden):
stacked_ae(layer_sizes=(256, 64)), greedy pretraining 8 epochs per level on the 8,000 training images, 5 epochs of
fine-tuning the whole stack as an autoencoder, batch 128; then, with ``[options] labels_per_class = [10, 100]``, for
N labels per class drawn from the training images (seed): logistic regression on the codes and on the pixels, the
stack's encoder trained as a classifier (fine-tuned, frozen with a linear output) and the same network from random
weights, each about 600 steps; test on the last 2,000 images. Prints the table and writes
``benchmarks/results/ae_stacked_probe.json``.

    python benchmarks/stacked_probe.py [--seed S] [--dataset idx:../shared/data/mnist] [--out DIR]
"""

import argparse
import os
import pathlib

from keras_ae.runs import write_json
from recipe_runs import MNIST, RESULTS, ROOT, run_recipe

COLUMNS = [("probe_codes", "linear on codes"), ("probe_pixels", "linear on pixels"),
           ("classifier_fine_tuned", "stacked, fine-tuned"), ("classifier_frozen", "stacked, frozen + linear"),
           ("classifier_from_scratch", "same net, random weights")]


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seed", type=int, default=None, help="override the recipe's training seed")
    p.add_argument("--dataset", default=f"idx:{MNIST}")
    p.add_argument("--out", default=str(ROOT / "runs" / "stacked_probe" / "stacked_ae_mnist"))
    p.add_argument("--summary", default=str(RESULTS / "ae_stacked_probe.json"))
    p.add_argument("--overwrite", action="store_true")
    args = p.parse_args()

    metrics, timing, recipe = run_recipe("stacked_ae_mnist", args.out, args.dataset, seed=args.seed,
                                         overwrite=args.overwrite)
    rows = []
    print(f"{'labels/class':>12} " + " ".join(f"{title:>26}" for _, title in COLUMNS), flush=True)
    for n in recipe.options["labels_per_class"]:
        row = {"labels_per_class": n, **{key: metrics[f"test_{key}_{n}pc"] for key, _ in COLUMNS}}
        rows.append(row)
        print(f"{n:>12} " + " ".join(f"{row[key]:>26.3f}" for key, _ in COLUMNS), flush=True)
    print(f"all labels, linear on codes: {metrics['test_probe_accuracy']:.4f}; {timing['wall_s']} s wall, "
          f"{timing['cpu_s']} CPU s")
    result = dict(benchmark="stacked_probe", recipe="zoo/stacked_ae_mnist.toml", setting=metrics["setting"],
                  rows=rows, probe_all_labels=metrics["test_probe_accuracy"], **timing)
    write_json(args.summary, result)
    print(f"wrote {args.summary}; load average {os.getloadavg()}")


if __name__ == "__main__":
    main()
