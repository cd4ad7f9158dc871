"""Deep clustering on MNIST: k-means on autoencoder codes vs k-means on PCA codes of the same size.

Also draws samples from the Gaussian latent sampler fitted to the training codes (generation from a plain AE).
Data: MNIST at ../shared/data/mnist, first 8,000 images of the test file to train (the AE, PCA and k-means),
last 2,000 to test (cluster accuracy with Hungarian matching, NMI).
Run: python benchmarks/clustering.py [--epochs 10] [--latent-dim 10]
Writes benchmarks/results/ae_clustering.json and benchmarks/results/ae_samples.png.
"""

import argparse
import json
import os
import pathlib
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
MNIST = os.environ.get("KERAS_AE_MNIST", str(ROOT.parent / "shared" / "data" / "mnist"))
RESULTS = ROOT / "benchmarks" / "results"


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--latent-dim", type=int, default=10)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default=str(RESULTS / "ae_clustering.json"))
    args = p.parse_args()

    import keras

    import keras_ae
    from keras_ae import plotting
    from keras_ae.evaluation.clustering import latent_clustering, pca_clustering
    from keras_ae.models import GaussianLatentSampler

    keras.utils.set_random_seed(args.seed)
    x_train, y_train = keras_ae.data.load_numpy(f"idx:{MNIST}", "test[:8000]")
    x_test, y_test = keras_ae.data.load_numpy(f"idx:{MNIST}", "test[8000:]")
    print(f"data: MNIST idx test[:8000] train / test[8000:] test; conv_ae latent={args.latent_dim}; "
          f"epochs={args.epochs} batch={args.batch_size} seed={args.seed} backend={keras.backend.backend()}", flush=True)
    model = keras_ae.zoo.conv_ae(latent_dim=args.latent_dim)
    t0 = time.time()
    model.fit(x_train, epochs=args.epochs, batch_size=args.batch_size, verbose=0)
    seconds = time.time() - t0
    ae = latent_clustering(model, x_train, x_test, y_test, n_clusters=10, seed=args.seed)
    pca = pca_clustering(x_train, x_test, y_test, n_components=args.latent_dim, n_clusters=10, seed=args.seed)
    print(f"{'codes':>10} {'accuracy':>9} {'NMI':>7}")
    print(f"{'conv AE':>10} {ae['accuracy']:>9.4f} {ae['nmi']:>7.4f}")
    print(f"{'PCA':>10} {pca['accuracy']:>9.4f} {pca['nmi']:>7.4f}", flush=True)
    sampler = GaussianLatentSampler().fit(model, x_train)
    RESULTS.mkdir(parents=True, exist_ok=True)
    plotting.plot_images(sampler.sample(40, seed=args.seed), ncols=10,
                         title=f"conv_ae (latent {args.latent_dim}): decoded samples of N(mu, Sigma) fitted to the codes",
                         path=str(RESULTS / "ae_samples.png"))
    result = dict(
        benchmark="clustering", data="MNIST idx test[:8000] (train) / test[8000:] (test)",
        model=f"keras_ae.zoo.conv_ae(latent_dim={args.latent_dim})",
        method="k-means (10 clusters, n_init=10) on standardized codes, fit on train, assigned on test",
        epochs=args.epochs, batch_size=args.batch_size, seed=args.seed, backend=keras.backend.backend(),
        train_seconds=round(seconds, 1), load_average=os.getloadavg(),
        conv_ae=dict(accuracy=ae["accuracy"], nmi=ae["nmi"]), pca=dict(accuracy=pca["accuracy"], nmi=pca["nmi"]),
        acceptance_ae_beats_pca=ae["accuracy"] > pca["accuracy"],
    )
    pathlib.Path(args.out).write_text(json.dumps(result, indent=2))
    print(f"wrote {args.out}; load average {os.getloadavg()}")


if __name__ == "__main__":
    main()
