"""Why the autoencoder recipes' figures differ from the benchmark tables of docs/autoencoders.md (no training).

Reads the models that ``keras-ae train zoo/NAME.toml --out RUNS/NAME`` saved and measures them the benchmarks' way:

* ``dense_denoising_ae_spiral``: mean distance of noisy and restored points to the 4,000 training points (the recipe)
  and to 20,000 clean curve points (``benchmarks/denoising.py``), for the recipe's test noise (seed 1234) and for the
  benchmark's noisy points (``noisy_manifold(500, 0.1, seed=1)``);
* ``sparse_ae_patches``: share of codes > 0.1 and MSE on the benchmark's patches (the first 2,000 training patches)
  beside the recipe's 2,000 test patches (seed 1);
* ``stacked_ae_mnist``: the linear probe with 10 and 100 labels per class (``semi_supervised_probe``, seed 0), as in
  ``benchmarks/stacked_probe.py``, on the recipe's codes (after fine-tuning); the recipe itself probes with every label.

``--spiral-fit-seeds 0 1 2`` also trains ``dense_denoising_ae(noise_sigma=0.1, seed=0)`` the benchmark's way (plain
``fit`` on the 4,000 clean training points, batch 64, ``keras.utils.set_random_seed(seed)``) for 50 and 100 epochs per
seed and measures it the recipe's way (about 15 s per fit on one core).

    python benchmarks/ae_recipe_checks.py --runs RUNS [--mnist ../shared/data/mnist] [--spiral-fit-seeds 0 1 2]
        [--out FILE.json]
"""

import argparse
import json
import os
import pathlib

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[1]
MNIST = os.environ.get("KERAS_AE_MNIST", str(ROOT.parent / "shared" / "data" / "mnist"))


def spiral(keras_ae, run):
    from keras_ae.data.patches import noisy_manifold
    from keras_ae.evaluation.restoration import distance_to_points

    model = keras_ae.load_model(str(run / "model.keras"))
    _, curve = noisy_manifold(20000, noise=0.0, seed=99)
    _, train = noisy_manifold(4000, noise=0.0, seed=0)
    _, clean = noisy_manifold(500, noise=0.0, seed=1)
    noisy = {"recipe_noise_seed_1234": clean + 0.1 * np.random.default_rng(1234).standard_normal(clean.shape),
             "benchmark_noise_seed_1": noisy_manifold(500, noise=0.1, seed=1)[0]}
    rows = []
    for name, x in noisy.items():
        x = x.astype("float32")
        restored = model.reconstruct(x)
        for ref_name, ref in (("train_4000", train), ("curve_20000", curve)):
            rows.append(dict(noise=name, reference=ref_name, noisy=distance_to_points(x, ref),
                             restored=distance_to_points(restored, ref)))
    return rows


def spiral_plain_fit(keras_ae, seeds, epochs=(50, 100)):
    import keras

    from keras_ae.data.patches import noisy_manifold
    from keras_ae.evaluation.restoration import distance_to_points

    _, train = noisy_manifold(4000, noise=0.0, seed=0)
    _, clean = noisy_manifold(500, noise=0.0, seed=1)
    noisy = (clean + 0.1 * np.random.default_rng(1234).standard_normal(clean.shape)).astype("float32")
    rows = []
    for seed in seeds:
        for n in epochs:
            keras.utils.set_random_seed(seed)
            model = keras_ae.zoo.dense_denoising_ae(noise_sigma=0.1, seed=0)
            model.fit(train, epochs=n, batch_size=64, verbose=0)
            rows.append(dict(seed=seed, epochs=n, noisy=distance_to_points(noisy, train),
                             restored=distance_to_points(model.reconstruct(noisy), train)))
            print(json.dumps(rows[-1]), flush=True)
    return rows


def sparse(keras_ae, run):
    from keras_ae.data.patches import image_patches

    model = keras_ae.load_model(str(run / "model.keras"))
    sets = {"benchmark_train_patches_first_2000": image_patches(10000, size=10, seed=0)[:2000],
            "recipe_test_patches_seed_1": image_patches(2000, size=10, seed=1)}
    rows = []
    for name, x in sets.items():
        codes = model.encode(x)
        mse = float(np.mean((model.reconstruct(x) - x) ** 2))
        rows.append(dict(patches=name, active_share=float(np.mean(np.abs(codes) > 0.1)), mse=mse,
                         mean_abs_code=float(np.mean(np.abs(codes)))))
    return rows


def stacked(keras_ae, run, mnist):
    from keras_ae.evaluation.probes import semi_supervised_probe

    x_train, y_train = keras_ae.data.load_numpy(f"idx:{mnist}", "test[:8000]")
    x_test, y_test = keras_ae.data.load_numpy(f"idx:{mnist}", "test[8000:]")
    model = keras_ae.load_model(str(run / "model.keras"))
    return semi_supervised_probe(model.encode, x_train, y_train, x_test, y_test, n_per_class=(10, 100), seed=0)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", required=True, help="folder holding the recipes' run folders (one per recipe name)")
    p.add_argument("--mnist", default=MNIST)
    p.add_argument("--spiral-fit-seeds", type=int, nargs="*", default=[],
                   help="also train the 2-D model the benchmark's way (plain fit) with these seeds")
    p.add_argument("--out", default=None, help="write the results as JSON here")
    args = p.parse_args()
    import keras_ae
    from keras_ae.runs import write_json

    runs = pathlib.Path(args.runs)
    result = dict(runs=str(runs), load_average=os.getloadavg(),
                  dense_denoising_ae_spiral=spiral(keras_ae, runs / "dense_denoising_ae_spiral"),
                  sparse_ae_patches=sparse(keras_ae, runs / "sparse_ae_patches"),
                  stacked_ae_mnist=stacked(keras_ae, runs / "stacked_ae_mnist", args.mnist))
    if args.spiral_fit_seeds:
        result["dense_denoising_ae_spiral_plain_fit"] = spiral_plain_fit(keras_ae, args.spiral_fit_seeds)
    text = json.dumps(result, indent=2)
    print(text)
    if args.out:
        write_json(args.out, result)


if __name__ == "__main__":
    main()
