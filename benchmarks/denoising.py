"""Denoising autoencoders on MNIST: PSNR of corrupted and restored test images against the clean ones.

Settings (one model each): 50% pixel removal, 90% pixel removal, Gaussian blur sigma 4, 16x16 block mask;
plus the 2-D point-cloud example. Data: MNIST at ../shared/data/mnist, first 8,000 images of the test file for
training, last 2,000 for test. PSNR per image with peak 1, averaged over the test images.
Run: python benchmarks/denoising.py [--epochs 10]
Writes benchmarks/results/ae_denoising.json and figures benchmarks/results/ae_denoising_*.png.
"""

import argparse
import json
import os
import pathlib
import time

import numpy as np

from keras_ae.evaluation import restoration

ROOT = pathlib.Path(__file__).resolve().parents[1]
MNIST = os.environ.get("KERAS_AE_MNIST", str(ROOT.parent / "shared" / "data" / "mnist"))
RESULTS = ROOT / "benchmarks" / "results"

SETTINGS = {
    "pixel_removal_50": dict(corruption="pixel_removal", removal_rate=0.5),
    "pixel_removal_90": dict(corruption="pixel_removal", removal_rate=0.9),
    "blur_sigma_4": dict(corruption="blur", blur_sigma=4.0),
    "block_16x16": dict(corruption="block", block_size=16),
}


def psnr(clean, other):
    return restoration.psnr(clean, other)


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--latent-dim", type=int, default=64)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--settings", nargs="+", default=list(SETTINGS))
    p.add_argument("--skip-2d", action="store_true", help="skip the 2-D point-cloud example")
    p.add_argument("--out", default=str(RESULTS / "ae_denoising.json"))
    args = p.parse_args()

    import keras

    import keras_ae
    from keras_ae.models.autoencoder import autoencoder_plots as plotting_ae
    from keras_ae.data.patches import noisy_manifold

    keras.utils.set_random_seed(args.seed)
    x_train, _ = keras_ae.data.load_numpy(f"idx:{MNIST}", "test[:8000]")
    x_test, _ = keras_ae.data.load_numpy(f"idx:{MNIST}", "test[8000:]")
    print(f"data: MNIST idx test[:8000] train / test[8000:] test; model denoising_ae latent={args.latent_dim}; "
          f"epochs={args.epochs} batch={args.batch_size} seed={args.seed} backend={keras.backend.backend()}", flush=True)
    print(f"{'setting':>18} {'corrupted PSNR':>15} {'restored PSNR':>14} {'gain dB':>8} {'train s':>8}", flush=True)
    rows = []
    RESULTS.mkdir(parents=True, exist_ok=True)
    for name in args.settings:
        model = keras_ae.zoo.denoising_ae(latent_dim=args.latent_dim, seed=args.seed, **SETTINGS[name])
        t0 = time.time()
        model.fit(x_train, epochs=args.epochs, batch_size=args.batch_size, verbose=0)
        seconds = time.time() - t0
        corrupted = model.corrupt(x_test, seed=1234)  # the same corrupted test set every run
        restored = model.restore(corrupted)
        row = dict(setting=name, **SETTINGS[name], corrupted_psnr=psnr(x_test, corrupted),
                   restored_psnr=psnr(x_test, restored), train_seconds=round(seconds, 1))
        row["gain_db"] = row["restored_psnr"] - row["corrupted_psnr"]
        rows.append(row)
        print(f"{name:>18} {row['corrupted_psnr']:>15.2f} {row['restored_psnr']:>14.2f} {row['gain_db']:>8.2f} "
              f"{seconds:>8.1f}", flush=True)
        plotting_ae.restoration_rows(x_test, corrupted, restored, n=10, title=f"denoising_ae, {name}",
                                     path=str(RESULTS / f"ae_denoising_{name}.png"))
        if name == "pixel_removal_50":
            pairs = model.interpolate(x_test[:4], x_test[4:8], steps=10)
            plotting_ae.interpolation_rows(pairs, title="latent interpolation (denoising_ae)",
                                           path=str(RESULTS / "ae_interpolation.png"))
    two_d = None if args.skip_2d else two_d_example(args, keras_ae, plotting_ae, noisy_manifold)
    result = dict(
        benchmark="denoising", data="MNIST idx test[:8000] (train) / test[8000:] (test)",
        model=f"keras_ae.zoo.denoising_ae(latent_dim={args.latent_dim})", metric="mean per-image PSNR (peak 1) vs clean",
        epochs=args.epochs, batch_size=args.batch_size, seed=args.seed, backend=keras.backend.backend(),
        load_average=os.getloadavg(), rows=rows, two_d=two_d,
        acceptance_pixel_removal_50_gain_ge_6db=next((r["gain_db"] >= 6 for r in rows
                                                      if r["setting"] == "pixel_removal_50"), None),
    )
    pathlib.Path(args.out).write_text(json.dumps(result, indent=2))
    print(f"wrote {args.out}; load average {os.getloadavg()}")


def two_d_example(args, keras_ae, plotting_ae, noisy_manifold):
    """Points on a spiral, Gaussian noise, restoration pulled back toward the curve."""
    noisy_train, clean_train = noisy_manifold(4000, noise=0.0, seed=args.seed)
    model2d = keras_ae.zoo.dense_denoising_ae(noise_sigma=0.1, seed=args.seed)
    model2d.fit(clean_train, epochs=max(args.epochs * 5, 50), batch_size=64, verbose=0)
    noisy, clean = noisy_manifold(500, noise=0.1, seed=args.seed + 1)
    restored2d = model2d.reconstruct(noisy)
    # distance to the curve: nearest point of a dense sampling of the clean curve
    _, curve = noisy_manifold(20000, noise=0.0, seed=99)

    def dist(points):
        d = np.sqrt(((points[:, None, :] - curve[None, :, :]) ** 2).sum(-1)).min(1)
        return float(d.mean())

    two_d = dict(noise_sigma=0.1, mean_distance_to_curve_noisy=dist(noisy), mean_distance_to_curve_restored=dist(restored2d))
    print(f"2-D spiral: mean distance to the curve, noisy {two_d['mean_distance_to_curve_noisy']:.4f} -> "
          f"restored {two_d['mean_distance_to_curve_restored']:.4f}", flush=True)
    plotting_ae.denoising_field(curve[::20], noisy, restored2d, title="dense_denoising_ae: x~ -> g(h(x~))",
                                path=str(RESULTS / "ae_denoising_2d.png"))
    return two_d


if __name__ == "__main__":
    main()
