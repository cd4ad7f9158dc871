"""Denoising autoencoders on MNIST: PSNR of corrupted and restored test images against the clean ones.

Runs the shipped recipes, as ``keras-ae train zoo/NAME.toml`` does (only the dataset name, for the offline IDX files,
the output folder and, with ``--seed``, the training seed are overridden):

- ``denoising_ae_mnist`` (50% pixel removal, 20 epochs), ``denoising_ae_mnist_pixel_removal_90``,
  ``denoising_ae_mnist_blur_sigma_4`` and ``denoising_ae_mnist_block_16x16`` (8 epochs each): denoising_ae(latent_dim=64),
  batch 128, train = first 8,000 images of the MNIST test file, test = last 2,000, the test corruption drawn with
  seed 1234; PSNR per image with peak 1, averaged over the test images;
- ``dense_denoising_ae_spiral``: the 2-D point-cloud example (mean distance of noisy and restored test points to the
  training points of the curve).

Each run folder holds the recipe's figures (restoration rows, the 2-D field); this script also draws
``benchmarks/results/ae_interpolation.png`` (latent interpolation rows of the 50% model, no training).

    python benchmarks/denoising.py [--recipes NAME ...] [--seed S] [--dataset idx:../shared/data/mnist] [--out DIR]
"""

import argparse
import os
import pathlib

from keras_ae.runs import write_json
from recipe_runs import MNIST, RESULTS, ROOT, run_recipe

IMAGES = ["denoising_ae_mnist", "denoising_ae_mnist_pixel_removal_90", "denoising_ae_mnist_blur_sigma_4",
          "denoising_ae_mnist_block_16x16"]
POINTS = "dense_denoising_ae_spiral"


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--recipes", nargs="+", default=IMAGES + [POINTS])
    p.add_argument("--seed", type=int, default=None, help="override the recipes' training seed")
    p.add_argument("--dataset", default=f"idx:{MNIST}")
    p.add_argument("--out", default=str(ROOT / "runs" / "denoising"))
    p.add_argument("--summary", default=str(RESULTS / "ae_denoising.json"))
    p.add_argument("--overwrite", action="store_true")
    args = p.parse_args()

    import keras_ae
    from keras_ae.models.autoencoder import autoencoder_plots as plotting_ae

    rows, two_d = [], None
    print(f"{'recipe':>38} {'corrupted PSNR':>15} {'restored PSNR':>14} {'gain dB':>8} {'wall s':>7} {'cpu s':>7}",
          flush=True)
    for name in args.recipes:
        out = pathlib.Path(args.out) / name
        metrics, timing, recipe = run_recipe(name, out, args.dataset, seed=args.seed, overwrite=args.overwrite)
        if name == POINTS:
            two_d = dict(recipe=name, noisy_distance=metrics["test_noisy_distance"],
                         restored_distance=metrics["test_restored_distance"], setting=metrics["setting"], **timing)
            print(f"2-D spiral: mean distance to the data, noisy {two_d['noisy_distance']:.4f} -> restored "
                  f"{two_d['restored_distance']:.4f} ({timing['wall_s']} s wall, {timing['cpu_s']} CPU s)", flush=True)
            continue
        row = dict(recipe=name, model_args=recipe.model_args, epochs=recipe.train["epochs"],
                   corrupted_psnr=metrics["test_corrupted_psnr"], restored_psnr=metrics["test_restored_psnr"],
                   gain_db=metrics["test_psnr_gain"], **timing)
        rows.append(row)
        print(f"{name:>38} {row['corrupted_psnr']:>15.2f} {row['restored_psnr']:>14.2f} {row['gain_db']:>8.2f} "
              f"{timing['wall_s']:>7} {timing['cpu_s']:>7}", flush=True)
        if name == "denoising_ae_mnist":
            model = keras_ae.load_model(str(out / "model.keras"))
            x_test, _ = keras_ae.data.load_numpy(args.dataset, recipe.data["test_split"])
            pairs = model.interpolate(x_test[:4], x_test[4:8], steps=10)
            plotting_ae.interpolation_rows(pairs, title="latent interpolation (denoising_ae)",
                                           path=str(RESULTS / "ae_interpolation.png"))
    result = dict(benchmark="denoising", metric="mean per-image PSNR (peak 1) vs clean; 2-D: mean distance to the data",
                  recipes=args.recipes, seed_override=args.seed, dataset=args.dataset, rows=rows, two_d=two_d)
    write_json(args.summary, result)
    print(f"wrote {args.summary}; load average {os.getloadavg()}")


if __name__ == "__main__":
    main()
