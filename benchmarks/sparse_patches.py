"""Sparse autoencoders on natural-image patches: the KL penalty and the k-sparse code, side by side.

Runs the recipes ``zoo/sparse_ae_kl_patches.toml`` (sigmoid code of 100 units, KL penalty, target rho 0.05, weight 3)
and ``zoo/sparse_ae_patches.toml`` (k-sparse, k = 10), as ``keras-ae train zoo/NAME.toml`` does (only the output
folder and, with ``--seed``, the training seed are overridden): 10,000 training and 2,000 test ZCA-whitened 10x10
patches of scikit-learn's two sample photographs, 80 epochs, batch 128, AdamW (lr 1e-2, weight decay 0.05). Prints
the test MSE, the share of codes > 0.1 and the decoder filters' orientedness (the mean fraction of a filter's
spectral energy within +-15 degrees of its dominant orientation; random filters give about 0.29); each run folder
holds ``filters.png``.

    python benchmarks/sparse_patches.py [--seed S] [--out DIR]
"""

import argparse
import os
import pathlib

from keras_ae.runs import write_json
from recipe_runs import RESULTS, ROOT, run_recipe

RECIPES = ["sparse_ae_kl_patches", "sparse_ae_patches"]


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--recipes", nargs="+", default=RECIPES)
    p.add_argument("--seed", type=int, default=None, help="override the recipes' training seed")
    p.add_argument("--out", default=str(ROOT / "runs" / "sparse_patches"))
    p.add_argument("--summary", default=str(RESULTS / "ae_sparse_patches.json"))
    p.add_argument("--overwrite", action="store_true")
    args = p.parse_args()

    rows = []
    print(f"{'recipe':>22} {'MSE':>8} {'active':>7} {'oriented':>8} {'wall s':>7} {'cpu s':>7}", flush=True)
    for name in args.recipes:
        metrics, timing, recipe = run_recipe(name, pathlib.Path(args.out) / name, seed=args.seed,
                                             overwrite=args.overwrite)
        row = dict(recipe=name, penalty=recipe.model_args["penalty"], test_mse=metrics["test_mse"],
                   active_share=metrics["test_active_share"], orientedness=metrics["filter_orientedness"],
                   setting=metrics["setting"], **timing)
        rows.append(row)
        print(f"{name:>22} {row['test_mse']:>8.4f} {row['active_share']:>7.3f} {row['orientedness']:>8.2f} "
              f"{timing['wall_s']:>7} {timing['cpu_s']:>7}", flush=True)
    write_json(args.summary, dict(benchmark="sparse_patches", rows=rows))
    print(f"wrote {args.summary}; load average {os.getloadavg()}")


if __name__ == "__main__":
    main()
