"""VQ-VAE on MNIST: reconstruction vs conv_ae of the same code size, codebook use, prior sample quality.

Data: the MNIST test set at ../shared/data/mnist (first 8,000 images = train, last 2,000 = test).
Measures, for ``vq_vae(num_embeddings=512, embedding_dim=16)`` (7x7x16 code grid = 784 numbers):
- test MSE per pixel of the reconstructions, beside ``conv_ae(latent_dim=784, dense_units=0)`` (a
  784-number continuous code, no narrower dense layer in between) trained the same number of epochs
  with the same batch size, optimizer and seed (the test MSE after every epoch is recorded for both, so
  the comparison can be read at any training length, not only the last);
- codebook perplexity and the share of codes unused, on the test set;
- after ``fit_prior`` on the train set's codes: mean max-probability (and the class histogram) that a
  classifier trained on the 8,000 train images gives to prior samples (and, for reference, to real
  test images).

Usage: ``python benchmarks/vqvae_mnist.py [--epochs 20] [--prior-epochs 20] [--num-embeddings 512]
[--prior-filters 64] [--prior-layers 6] [--batch-size 128] [--seed 0]``.
Writes ``benchmarks/results/vqvae_mnist.json`` and figures ``benchmarks/results/vqvae_*.png``.
"""

import argparse
import json
import os
import pathlib
import sys
import time

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[1]
MNIST = ROOT.parent / "shared" / "data" / "mnist"
RESULTS = ROOT / "benchmarks" / "results"


def load_average():
    try:
        return os.getloadavg()[0]
    except OSError:  # pragma: no cover
        return None


def classifier_probs(x_train, y_train, seed, epochs):
    """A small conv classifier trained on the train split; returns (predict_probs_fn, description)."""
    try:
        from keras_ae.evaluation.fid import train_feature_classifier

        net = train_feature_classifier(x_train, y_train, num_classes=10, epochs=epochs, seed=seed)
        return (lambda x: np.asarray(net.classifier.predict(x, batch_size=500, verbose=0)),
                f"keras_ae.evaluation.fid.train_feature_classifier (epochs={epochs})")
    except ImportError:
        import keras

        keras.utils.set_random_seed(seed)
        inputs = keras.Input(x_train.shape[1:])
        h = keras.layers.Conv2D(32, 3, strides=2, padding="same", activation="relu")(inputs)
        h = keras.layers.Conv2D(64, 3, strides=2, padding="same", activation="relu")(h)
        h = keras.layers.Flatten()(h)
        h = keras.layers.Dense(64, activation="relu")(h)
        out = keras.layers.Dense(10, activation="softmax")(h)
        model = keras.Model(inputs, out)
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
        model.fit(x_train, y_train, epochs=epochs, batch_size=128, verbose=0)
        return (lambda x: np.asarray(model.predict(x, batch_size=500, verbose=0)),
                f"benchmark's own conv classifier (epochs={epochs})")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--prior-epochs", type=int, default=20)
    parser.add_argument("--num-embeddings", type=int, default=512)
    parser.add_argument("--prior-filters", type=int, default=64)
    parser.add_argument("--prior-layers", type=int, default=6)
    parser.add_argument("--prior-batch-size", type=int, default=64)
    parser.add_argument("--classifier-epochs", type=int, default=10,
                        help="the judging classifier's epochs (the GAN benchmark's 3-epoch one is reported too)")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--samples", type=int, default=500)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--limit", type=int, default=None, help="use only the first LIMIT train images (quick check)")
    parser.add_argument("--no-baseline", action="store_true", help="skip the conv_ae baseline")
    parser.add_argument("--save-model", default=None, help="also keep the trained VQ-VAE (prior included) here")
    parser.add_argument("--out", default=str(RESULTS / "vqvae_mnist.json"))
    args = parser.parse_args(argv)

    import keras

    import keras_ae
    from keras_ae import zoo
    from keras_ae.models.vqvae import vqvae_plots as plotting_vqvae

    RESULTS.mkdir(parents=True, exist_ok=True)
    source = f"idx:{MNIST}"
    x_train, y_train = keras_ae.data.load_numpy(source, "test[:8000]")
    x_test, y_test = keras_ae.data.load_numpy(source, "test[8000:]")
    if args.limit:
        x_train, y_train = x_train[: args.limit], y_train[: args.limit]
    setting = dict(
        data="MNIST t10k IDX (../shared/data/mnist)", train="test[:8000]", test="test[8000:]",
        n_train=len(x_train), epochs=args.epochs, prior_epochs=args.prior_epochs, batch_size=args.batch_size,
        prior_batch_size=args.prior_batch_size, seed=args.seed,
        backend=keras.backend.backend(), keras=keras.__version__, optimizer="Adam(1e-3)",
        load_average_start=load_average(),
    )
    print("setting:", json.dumps(setting), flush=True)
    result = {"setting": setting}

    # ----- VQ-VAE ------------------------------------------------------------------------------
    keras.utils.set_random_seed(args.seed)
    vq = zoo.vq_vae(num_embeddings=args.num_embeddings, embedding_dim=16, prior_filters=args.prior_filters,
                    prior_layers=args.prior_layers, seed=args.seed)
    t0 = time.time()
    hist = vq.fit(x_train, epochs=args.epochs, batch_size=args.batch_size, shuffle=True, verbose=2,
                  validation_data=x_test)
    vq_time = time.time() - t0
    rec = vq.reconstruct(x_test)
    usage = vq.codebook_usage(x_test)
    usage_train = vq.codebook_usage(x_train)
    result["vq_vae"] = dict(
        config=f"vq_vae(num_embeddings={args.num_embeddings}, embedding_dim=16) -> code grid 7x7x16 (784 numbers), "
               "EMA codebook",
        params=int(vq.count_params()),
        test_mse_per_pixel=float(np.mean((rec - x_test) ** 2)),
        test_perplexity=usage["perplexity"],
        test_share_unused=1.0 - usage["share_in_use"],
        train_perplexity=usage_train["perplexity"],
        train_share_unused=1.0 - usage_train["share_in_use"],
        final_history={k: float(v[-1]) for k, v in hist.history.items()},
        test_mse_per_epoch=[round(float(v), 6) for v in hist.history["val_mse"]],
        train_seconds=round(vq_time, 1),
    )
    print("vq_vae:", json.dumps(result["vq_vae"]), flush=True)
    plotting_vqvae.plot_reconstructions(x_test[:12], rec[:12], RESULTS / "vqvae_reconstructions.png", n=12)
    plotting_vqvae.plot_codebook_usage(usage["counts"], RESULTS / "vqvae_codebook_usage.png")

    # ----- baseline: conv_ae with a 784-number code ------------------------------------------------
    if not args.no_baseline:
        keras.utils.set_random_seed(args.seed)
        ae = zoo.conv_ae(latent_dim=784, dense_units=0)
        t0 = time.time()
        ae_hist = ae.fit(x_train, epochs=args.epochs, batch_size=args.batch_size, shuffle=True, verbose=2,
                         validation_data=x_test)
        ae_rec = ae.reconstruct(x_test)
        result["conv_ae"] = dict(
            config="conv_ae(latent_dim=784, dense_units=0): conv(32,64) -> flatten -> Dense(784) code -> mirror",
            params=int(ae.count_params()),
            test_mse_per_pixel=float(np.mean((ae_rec - x_test) ** 2)),
            final_history={k: float(v[-1]) for k, v in ae_hist.history.items()},
            test_mse_per_epoch=[round(float(v), 6) for v in ae_hist.history["val_mse"]],
            train_seconds=round(time.time() - t0, 1),
        )
        vq_curve, ae_curve = result["vq_vae"]["test_mse_per_epoch"], result["conv_ae"]["test_mse_per_epoch"]
        result["epochs_where_vq_vae_mse_is_lower"] = [e + 1 for e, (a, b) in enumerate(zip(vq_curve, ae_curve)) if a < b]
        print("conv_ae:", json.dumps(result["conv_ae"]), flush=True)

    # ----- prior ----------------------------------------------------------------------------------
    t0 = time.time()
    prior_hist = vq.fit_prior(x_train, epochs=args.prior_epochs, batch_size=args.prior_batch_size,
                              validation_data=x_test, verbose=2)
    prior_time = time.time() - t0
    samples = vq.sample(args.samples, seed=args.seed)
    probs_fn, clf_desc = classifier_probs(x_train, y_train, args.seed, args.classifier_epochs)
    p_samples = probs_fn(samples)
    p_test = probs_fn(x_test)
    result["prior"] = dict(
        config=f"gated PixelCNN, {vq.prior_layers} layers x {vq.prior_filters} filters, kernel {vq.prior_kernel_size}",
        params=int(vq.prior.count_params()),
        train_nll_per_code_nats=float(prior_hist.history["loss"][-1]),
        test_nll_per_code_nats=float(prior_hist.history["val_loss"][-1]),
        test_nll_per_epoch=[round(float(v), 4) for v in prior_hist.history["val_loss"]],
        train_seconds=round(prior_time, 1),
        n_samples=args.samples,
        sample_seed=args.seed,
        temperature=1.0,
    )
    judges = [(clf_desc, probs_fn, p_samples, p_test)]
    if args.classifier_epochs != 3:
        probs3, desc3 = classifier_probs(x_train, y_train, args.seed, 3)
        judges.append((desc3 + ", as in benchmarks/gan_mnist.py", probs3, probs3(samples), probs3(x_test)))
    result["judges"] = []
    for desc, fn, ps, pt in judges:
        result["judges"].append(dict(
            classifier=desc,
            classifier_test_accuracy=float(np.mean(np.argmax(pt, -1) == y_test)),
            real_test_mean_max_prob=float(np.mean(np.max(pt, -1))),
            samples_mean_max_prob=float(np.mean(np.max(ps, -1))),
            samples_max_prob_standard_error=float(np.std(np.max(ps, -1)) / np.sqrt(len(ps))),
            samples_share_max_prob_above_0_8=float(np.mean(np.max(ps, -1) > 0.8)),
            samples_class_histogram=np.bincount(np.argmax(ps, -1), minlength=10).tolist(),
            temperature_0_8_samples_mean_max_prob=float(
                np.mean(np.max(fn(vq.sample(args.samples, seed=args.seed, temperature=0.8)), -1))
            ),
        ))
    result["prior"]["samples_mean_max_prob"] = result["judges"][0]["samples_mean_max_prob"]
    print("prior:", json.dumps(result["prior"]), flush=True)
    print("judges:", json.dumps(result["judges"]), flush=True)
    labels = [f"{c}:{p:.2f}" for c, p in zip(np.argmax(p_samples, -1), np.max(p_samples, -1))]
    plotting_vqvae.plot_samples(samples[:50], RESULTS / "vqvae_samples.png", labels=labels[:50],
                                title="VQ-VAE prior samples (classifier label: max prob)")

    # ----- save / reload round trip ---------------------------------------------------------------
    path = RESULTS.parent / "_vqvae_mnist_tmp.keras"
    vq.save(path)
    again = keras_ae.load_model(path)
    same_idx = bool(np.array_equal(again.encode_indices(x_test[:500]), vq.encode_indices(x_test[:500])))
    same_samples = bool(np.allclose(again.sample(8, seed=1), vq.sample(8, seed=1), atol=1e-5))
    os.remove(path)
    if args.save_model:
        vq.save(args.save_model)
    result["reload"] = dict(identical_indices=same_idx, identical_samples=same_samples)

    a = result["vq_vae"]
    result["acceptance"] = dict(
        mse_below_conv_ae=(a["test_mse_per_pixel"] < result["conv_ae"]["test_mse_per_pixel"])
        if "conv_ae" in result else None,
        perplexity_above_32=a["test_perplexity"] > 32,
        unused_at_most_10pct=a["test_share_unused"] <= 0.10,
        samples_mean_max_prob_above_0_8=result["prior"]["samples_mean_max_prob"] > 0.8,
    )
    setting["load_average_end"] = load_average()
    print("acceptance:", json.dumps(result["acceptance"]), flush=True)
    with open(args.out, "w") as f:
        json.dump(result, f, indent=2)
    print("wrote", args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
