"""The lectures' table: test reconstruction MSE per pixel, convolutional autoencoder vs PCA, per code size.

Runs the recipe ``zoo/conv_ae_mnist.toml`` (conv_ae, 10 epochs, batch 128, seed 0, train = first 8,000 images of the
MNIST test file, test = last 2,000; ``[options] pca_baseline``: PCA with as many components as the code, fit on the
same train split) once per code size, exactly as ``keras-ae train zoo/conv_ae_mnist.toml --arg latent_dim=K`` does:
only ``[model_args] latent_dim``, the output folder and the dataset (offline: the IDX files) are overridden, so the
training settings are the recipe's. Prints and writes, per size, the autoencoder's ``test_mse`` beside
``test_pca_mse`` (both the mean squared error per pixel of the test reconstructions), the k-means accuracy of both
codes, and wall / CPU seconds with the load average. A run folder that already holds ``metrics.json`` is read, not
retrained (``--overwrite`` starts over).

    python benchmarks/ae_vs_pca.py [--sizes 2 4 8 16 32] [--dataset idx:../shared/data/mnist] [--out DIR]
        [--summary benchmarks/results/ae_vs_pca.json]
"""

import argparse
import pathlib
import platform
import sys

from recipe_runs import MNIST, RESULTS, ROOT, run_recipe


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", type=int, nargs="+", default=[2, 4, 8, 16, 32])
    p.add_argument("--dataset", default=f"idx:{MNIST}", help="the recipe's [data] dataset (offline: the IDX files)")
    p.add_argument("--out", default=str(ROOT / "runs" / "ae_vs_pca"), help="run folders")
    p.add_argument("--summary", default=str(RESULTS / "ae_vs_pca.json"))
    p.add_argument("--overwrite", action="store_true", help="retrain runs whose folder already holds metrics.json")
    args = p.parse_args(argv)

    import keras

    from keras_ae.runs import write_json

    rows = []
    print(f"{'code':>4} {'conv AE MSE':>12} {'PCA MSE':>10} {'AE wins':>8} {'AE k-means':>10} {'PCA k-means':>11} "
          f"{'wall s':>7} {'cpu s':>7}", flush=True)
    for k in args.sizes:
        metrics, timing, recipe = run_recipe("conv_ae_mnist", pathlib.Path(args.out) / f"latent{k}", args.dataset,
                                             model_args={"latent_dim": k}, overwrite=args.overwrite)
        row = {"latent_dim": k, "conv_ae_mse": metrics["test_mse"], "pca_mse": metrics["test_pca_mse"],
               "ae_beats_pca": metrics["test_mse"] < metrics["test_pca_mse"],
               "conv_ae_cluster_accuracy": metrics.get("test_cluster_accuracy"),
               "pca_cluster_accuracy": metrics.get("test_pca_cluster_accuracy"),
               "conv_ae_probe_accuracy": metrics.get("test_probe_accuracy"),
               "train_seconds": metrics["setting"].get("train_seconds"), **timing}
        rows.append(row)
        print(f"{k:>4} {row['conv_ae_mse']:>12.5f} {row['pca_mse']:>10.5f} {str(row['ae_beats_pca']):>8} "
              f"{row['conv_ae_cluster_accuracy']:>10.4f} {row['pca_cluster_accuracy']:>11.4f} {row['wall_s']:>7} "
              f"{row['cpu_s']:>7}", flush=True)
        write_json(args.summary, {
            "benchmark": "ae_vs_pca", "recipe": "zoo/conv_ae_mnist.toml",
            "setting": {"data": f"{args.dataset}: train test[:8000], test test[8000:] (2,000 images)",
                        "overridden": "[model_args] latent_dim, the dataset name, the output folder",
                        "epochs": recipe.train["epochs"], "batch": recipe.data["batch_size"],
                        "seed": recipe.train["seed"], "metric": "test MSE per pixel",
                        "backend": keras.backend.backend(), "python": platform.python_version(),
                        "command": " ".join([sys.executable.split("/")[-1], *sys.argv])},
            "rows": rows})
    return 0


if __name__ == "__main__":
    sys.exit(main())
