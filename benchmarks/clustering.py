"""Deep clustering on MNIST: k-means on autoencoder codes vs k-means on PCA codes of the same size.

Runs the recipe ``zoo/conv_ae_mnist.toml`` (conv_ae with a 10-d code, 10 epochs, batch 128, seed 0; train = first
8,000 images of the MNIST test file, test = last 2,000; k-means with 10 clusters and n_init 10 on standardized codes,
fit on train, assigned on test; ``[options] pca_baseline``: the same k-means on PCA codes of 10 components), as
``keras-ae train zoo/conv_ae_mnist.toml`` does: only the dataset name (offline: the IDX files), the output folder
and, with ``--seed``, the training seed are overridden. Prints both rows and draws
``benchmarks/results/ae_samples.png`` (codes of the saved model: decoded samples of the Gaussian fitted to the codes
of the train split).

    python benchmarks/clustering.py [--seed 0] [--dataset idx:../shared/data/mnist] [--out DIR]
"""

import argparse
import os
import pathlib

from keras_ae.runs import write_json
from recipe_runs import MNIST, RESULTS, ROOT, run_recipe


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seed", type=int, default=None, help="override the recipe's training seed")
    p.add_argument("--dataset", default=f"idx:{MNIST}")
    p.add_argument("--out", default=str(ROOT / "runs" / "clustering" / "conv_ae_mnist"))
    p.add_argument("--summary", default=str(RESULTS / "ae_clustering.json"))
    p.add_argument("--overwrite", action="store_true")
    args = p.parse_args()

    import keras_ae
    from keras_ae import plotting
    from keras_ae.models import GaussianLatentSampler

    metrics, timing, recipe = run_recipe("conv_ae_mnist", args.out, args.dataset, seed=args.seed,
                                         overwrite=args.overwrite)
    print(f"{'codes':>10} {'accuracy':>9} {'NMI':>7}")
    print(f"{'conv AE':>10} {metrics['test_cluster_accuracy']:>9.4f} {metrics['test_cluster_nmi']:>7.4f}")
    print(f"{'PCA':>10} {metrics['test_pca_cluster_accuracy']:>9.4f} {metrics['test_pca_cluster_nmi']:>7.4f}", flush=True)
    model = keras_ae.load_model(str(pathlib.Path(args.out) / "model.keras"))
    x_train, _ = keras_ae.data.load_numpy(args.dataset, recipe.data["train_split"])
    sampler = GaussianLatentSampler().fit(model, x_train)
    RESULTS.mkdir(parents=True, exist_ok=True)
    k = recipe.model_args["latent_dim"]
    plotting.plot_images(sampler.sample(40, seed=recipe.train["seed"]), ncols=10,
                         title=f"conv_ae (latent {k}): decoded samples of N(mu, Sigma) fitted to the codes",
                         path=str(RESULTS / "ae_samples.png"))
    result = dict(
        benchmark="clustering", recipe="zoo/conv_ae_mnist.toml", setting=metrics["setting"],
        method="k-means (10 clusters, n_init=10) on standardized codes, fit on train, assigned on test",
        conv_ae=dict(accuracy=metrics["test_cluster_accuracy"], nmi=metrics["test_cluster_nmi"]),
        pca=dict(accuracy=metrics["test_pca_cluster_accuracy"], nmi=metrics["test_pca_cluster_nmi"]),
        acceptance_ae_beats_pca=metrics["test_cluster_accuracy"] > metrics["test_pca_cluster_accuracy"], **timing)
    write_json(args.summary, result)
    print(f"wrote {args.summary}; load average {os.getloadavg()}")


if __name__ == "__main__":
    main()
