"""The lectures' table: test reconstruction MSE per pixel, convolutional autoencoder vs PCA, per latent size.

Data: MNIST at ../shared/data/mnist (IDX), first 8,000 images of the test file for training, last 2,000 for test.
Run: python benchmarks/ae_vs_pca.py [--epochs 15] [--sizes 2 4 8 16 32] [--conv-ae-arg KEY=VALUE ...]
``--conv-ae-arg`` runs a candidate configuration of conv_ae (values as in ``keras-ae train --arg``). Seconds are the
wall and CPU seconds of the whole fit (CPU seconds do not count tf.data's idle wait, docs/performance.md).
Writes benchmarks/results/ae_vs_pca.json.
"""

import argparse
import json
import os
import pathlib
import time

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[1]
MNIST = os.environ.get("KERAS_AE_MNIST", str(ROOT.parent / "shared" / "data" / "mnist"))


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--epochs", type=int, default=15)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--sizes", type=int, nargs="+", default=[2, 4, 8, 16, 32])
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "ae_vs_pca.json"))
    p.add_argument("--conv-ae-arg", action="append", metavar="KEY=VALUE", default=[],
                   help="argument of keras_ae.zoo.conv_ae (repeatable), e.g. --conv-ae-arg norm=batch")
    args = p.parse_args()

    import keras

    import keras_ae
    from keras_ae.cli import _model_args
    from sklearn.decomposition import PCA

    conv_ae_args = _model_args(args.conv_ae_arg)

    keras.utils.set_random_seed(args.seed)
    x_train, _ = keras_ae.data.load_numpy(f"idx:{MNIST}", "test[:8000]")
    x_test, _ = keras_ae.data.load_numpy(f"idx:{MNIST}", "test[8000:]")
    flat_train, flat_test = x_train.reshape(len(x_train), -1), x_test.reshape(len(x_test), -1)
    rows = []
    print(f"data: MNIST idx test[:8000] train / test[8000:] test; epochs={args.epochs} batch={args.batch_size} "
          f"seed={args.seed} backend={keras.backend.backend()}", flush=True)
    print(f"{'latent':>6} {'conv AE MSE':>12} {'PCA MSE':>10} {'AE wins':>8} {'train s':>8} {'cpu s':>7}", flush=True)
    for k in args.sizes:
        pca = PCA(n_components=k, random_state=args.seed).fit(flat_train)
        pca_rec = pca.inverse_transform(pca.transform(flat_test))
        pca_mse = float(np.mean((pca_rec - flat_test) ** 2))
        model = keras_ae.zoo.conv_ae(**{"latent_dim": k, **conv_ae_args})
        t0, c0 = time.perf_counter(), time.process_time()
        model.fit(x_train, epochs=args.epochs, batch_size=args.batch_size, verbose=0)
        seconds, cpu_seconds = time.perf_counter() - t0, time.process_time() - c0
        ae_mse = float(np.mean((model.reconstruct(x_test) - x_test) ** 2))
        test = model.evaluate(keras_ae.data.pipeline(x_test, batch_size=500), verbose=0, return_dict=True)
        rows.append(dict(latent_dim=k, conv_ae_mse=ae_mse, pca_mse=pca_mse, ae_beats_pca=ae_mse < pca_mse,
                         conv_ae_test_metrics={m: round(float(v), 5) for m, v in test.items()},
                         params=int(model.count_params()), train_seconds=round(seconds, 1),
                         train_cpu_seconds=round(cpu_seconds, 1)))
        print(f"{k:>6} {ae_mse:>12.5f} {pca_mse:>10.5f} {str(ae_mse < pca_mse):>8} {seconds:>8.1f} "
              f"{cpu_seconds:>7.1f}", flush=True)
    result = dict(
        benchmark="ae_vs_pca", data="MNIST idx test[:8000] (train) / test[8000:] (test)",
        model="keras_ae.zoo.conv_ae (its defaults, Bernoulli)", conv_ae_args=conv_ae_args,
        metric="test MSE per pixel",
        epochs=args.epochs, batch_size=args.batch_size, seed=args.seed, backend=keras.backend.backend(),
        load_average=os.getloadavg(), rows=rows,
        acceptance_ae_beats_pca_up_to_16=all(r["ae_beats_pca"] for r in rows if r["latent_dim"] <= 16),
    )
    pathlib.Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    pathlib.Path(args.out).write_text(json.dumps(result, indent=2))
    print(f"wrote {args.out}; load average {os.getloadavg()}")


if __name__ == "__main__":
    main()
