"""The lectures' sparse autoencoder experiment: an overcomplete code (100 units) on 10x10 natural-image patches.

Patches: keras_ae.data.patches.image_patches (scikit-learn's two sample photographs, grey, per-patch mean removed,
ZCA-whitened, mapped to [0.1, 0.9]). Models: keras_ae.zoo.sparse_ae with the KL penalty (sigmoid code, target rho)
and the k-sparse code. The figure shows the decoder filters (rows of the decoder kernel), which should look like
oriented edges.
Run: python benchmarks/sparse_patches.py [--epochs 80]
Writes benchmarks/results/ae_sparse_patches.json and benchmarks/results/ae_sparse_filters_{kl,ksparse}.png.
"""

import argparse
import json
import os
import pathlib
import time

import numpy as np

from keras_ae.evaluation.restoration import filter_orientedness

ROOT = pathlib.Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"


def orientedness(kernel, size):
    return filter_orientedness(kernel, size)


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--epochs", type=int, default=80)
    p.add_argument("--learning-rate", type=float, default=1e-2)
    p.add_argument("--weight-decay", type=float, default=0.05, help="AdamW decoupled weight decay")
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--patches", type=int, default=10000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default=str(RESULTS / "ae_sparse_patches.json"))
    args = p.parse_args()

    import keras

    import keras_ae
    from keras_ae.models.autoencoder import autoencoder_plots as plotting_ae
    from keras_ae.data.patches import image_patches

    keras.utils.set_random_seed(args.seed)
    x = image_patches(args.patches, size=10, seed=args.seed)
    print(f"data: {args.patches} 10x10 whitened patches of sklearn sample images; code 100 units; epochs={args.epochs} "
          f"batch={args.batch_size} AdamW lr={args.learning_rate} weight_decay={args.weight_decay} seed={args.seed} "
          f"backend={keras.backend.backend()}", flush=True)
    configs = {"kl": dict(penalty="kl", rho=0.05, sparsity_weight=3.0), "ksparse": dict(penalty="ksparse", k=10)}
    rows = []
    RESULTS.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(args.seed)
    random_score = orientedness(rng.standard_normal((100, 100)), 10)
    for name, cfg in configs.items():
        optimizer = keras.optimizers.AdamW(args.learning_rate, weight_decay=args.weight_decay)
        model = keras_ae.zoo.sparse_ae(input_shape=(10, 10, 1), code_units=100, optimizer=optimizer, **cfg)
        t0 = time.time()
        model.fit(x, epochs=args.epochs, batch_size=args.batch_size, verbose=0)
        seconds = time.time() - t0
        codes = model.encode(x[:2000])
        kernel = keras.ops.convert_to_numpy(model.decoder.get_layer("filters").kernel)
        mse = float(np.mean((model.reconstruct(x[:2000]) - x[:2000]) ** 2))
        row = dict(model=name, **cfg, mse=mse, mean_code=float(np.mean(np.abs(codes))),
                   fraction_active=float(np.mean(np.abs(codes) > 0.1)), filter_orientedness=orientedness(kernel, 10),
                   random_filter_orientedness=random_score, train_seconds=round(seconds, 1))
        rows.append(row)
        print(json.dumps(row), flush=True)
        plotting_ae.decoder_filters(kernel, (10, 10), ncols=10, title=f"sparse_ae ({name}): decoder filters",
                                    path=str(RESULTS / f"ae_sparse_filters_{name}.png"))
    result = dict(benchmark="sparse_patches", data="sklearn load_sample_images, 10x10 whitened patches",
                  epochs=args.epochs, batch_size=args.batch_size, optimizer="AdamW",
                  learning_rate=args.learning_rate, weight_decay=args.weight_decay, seed=args.seed, backend=keras.backend.backend(),
                  load_average=os.getloadavg(), rows=rows)
    pathlib.Path(args.out).write_text(json.dumps(result, indent=2))
    print(f"wrote {args.out}; load average {os.getloadavg()}")


if __name__ == "__main__":
    main()
