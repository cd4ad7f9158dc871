"""keras_ae's VAE against a plain Keras implementation of the keras-io VAE example.

Setting: MNIST from the IDX files in ../shared/data/mnist (the 10,000-image test set: first 8,000 train,
last 2,000 test), batch 128, 20 epochs, seed 0, TensorFlow backend (the keras-io train_step uses
tf.GradientTape). Three models:

- plain:      the keras-io example (conv 32 and 64 stride 2, dense 16, latent 2, mirrored transposed convs,
              sigmoid output, BCE on probabilities, its own train_step);
- keras_ae:   keras_ae.models.VAE built from keras_ae.networks with exactly that architecture (linear output,
              BCE on logits);
- default:    keras_ae.zoo.conv_vae(latent_dim=2) with its defaults.

Epochs are interleaved (one epoch of each model in turn) so that machine load affects all models alike;
per-epoch time is the median over epochs 2..N (epoch 1 includes tracing). Test negative ELBO (beta = 1,
nats per example) is the single-sample estimate averaged over 10 passes over the test split.

    python benchmarks/vae_vs_keras_io.py [--epochs 20] [--data ../shared/data/mnist]
"""

import argparse
import json
import os
import pathlib
import statistics
import time

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from keras import layers, ops  # noqa: E402

import keras_ae  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[1]


# ----- the keras-io example, as published (Keras 3 version, TensorFlow train_step) ----------------
class Sampling(layers.Layer):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.seed_generator = keras.random.SeedGenerator(1337)

    def call(self, inputs):
        z_mean, z_log_var = inputs
        epsilon = keras.random.normal(shape=ops.shape(z_mean), seed=self.seed_generator)
        return z_mean + ops.exp(0.5 * z_log_var) * epsilon


def keras_io_encoder(latent_dim=2):
    encoder_inputs = keras.Input(shape=(28, 28, 1))
    x = layers.Conv2D(32, 3, activation="relu", strides=2, padding="same")(encoder_inputs)
    x = layers.Conv2D(64, 3, activation="relu", strides=2, padding="same")(x)
    x = layers.Flatten()(x)
    x = layers.Dense(16, activation="relu")(x)
    z_mean = layers.Dense(latent_dim, name="z_mean")(x)
    z_log_var = layers.Dense(latent_dim, name="z_log_var")(x)
    z = Sampling()([z_mean, z_log_var])
    return keras.Model(encoder_inputs, [z_mean, z_log_var, z], name="encoder")


def keras_io_decoder(latent_dim=2):
    latent_inputs = keras.Input(shape=(latent_dim,))
    x = layers.Dense(7 * 7 * 64, activation="relu")(latent_inputs)
    x = layers.Reshape((7, 7, 64))(x)
    x = layers.Conv2DTranspose(64, 3, activation="relu", strides=2, padding="same")(x)
    x = layers.Conv2DTranspose(32, 3, activation="relu", strides=2, padding="same")(x)
    decoder_outputs = layers.Conv2DTranspose(1, 3, activation="sigmoid", padding="same")(x)
    return keras.Model(latent_inputs, decoder_outputs, name="decoder")


class PlainVAE(keras.Model):
    def __init__(self, encoder, decoder, **kwargs):
        super().__init__(**kwargs)
        self.encoder = encoder
        self.decoder = decoder
        self.total_loss_tracker = keras.metrics.Mean(name="total_loss")
        self.reconstruction_loss_tracker = keras.metrics.Mean(name="reconstruction_loss")
        self.kl_loss_tracker = keras.metrics.Mean(name="kl_loss")

    @property
    def metrics(self):
        return [self.total_loss_tracker, self.reconstruction_loss_tracker, self.kl_loss_tracker]

    def train_step(self, data):
        with tf.GradientTape() as tape:
            z_mean, z_log_var, z = self.encoder(data)
            reconstruction = self.decoder(z)
            reconstruction_loss = ops.mean(
                ops.sum(keras.losses.binary_crossentropy(data, reconstruction), axis=(1, 2))
            )
            kl_loss = -0.5 * (1 + z_log_var - ops.square(z_mean) - ops.exp(z_log_var))
            kl_loss = ops.mean(ops.sum(kl_loss, axis=1))
            total_loss = reconstruction_loss + kl_loss
        grads = tape.gradient(total_loss, self.trainable_weights)
        self.optimizer.apply_gradients(zip(grads, self.trainable_weights))
        self.total_loss_tracker.update_state(total_loss)
        self.reconstruction_loss_tracker.update_state(reconstruction_loss)
        self.kl_loss_tracker.update_state(kl_loss)
        return {m.name: m.result() for m in self.metrics}


# ----- evaluation: the same single-sample ELBO estimator for every model --------------------------
def neg_elbo(x, posterior, decode_nll, passes=10, seed=0):
    """Mean over ``passes`` of the single-sample estimate of -ELBO = E_q[-log p(x|z)] + KL(q || p)."""
    rng = np.random.default_rng(seed)
    values = []
    for _ in range(passes):
        total = 0.0
        for start in range(0, len(x), 500):
            xb = x[start : start + 500]
            mu, log_var = posterior(xb)
            z = mu + np.exp(0.5 * log_var) * rng.standard_normal(mu.shape).astype("float32")
            kl = 0.5 * np.sum(np.exp(log_var) + mu**2 - 1.0 - log_var, axis=1)
            total += float(np.sum(decode_nll(xb, z) + kl))
        values.append(total / len(x))
    return float(np.mean(values)), float(np.std(values))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data", default=str(ROOT.parent / "shared" / "data" / "mnist"))
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "vae_vs_keras_io.json"))
    args = parser.parse_args()

    x_train, _ = keras_ae.data.load_numpy(f"idx:{args.data}", "test[:8000]")
    x_test, _ = keras_ae.data.load_numpy(f"idx:{args.data}", "test[8000:]")

    def pipeline():
        return (tf.data.Dataset.from_tensor_slices(x_train).shuffle(len(x_train), seed=args.seed)
                .batch(args.batch_size).prefetch(tf.data.AUTOTUNE))

    keras.utils.set_random_seed(args.seed)
    plain = PlainVAE(keras_io_encoder(), keras_io_decoder())
    plain.compile(optimizer=keras.optimizers.Adam())

    keras.utils.set_random_seed(args.seed)
    same = keras_ae.models.VAE(
        keras_ae.networks.conv_encoder((28, 28, 1), 2, (32, 64), 3, dense_units=16, gaussian=True),
        keras_ae.networks.conv_decoder((28, 28, 1), 2, (32, 64), 3, dense_units=0),
        seed=args.seed,
    )
    same.compile(optimizer=keras.optimizers.Adam())

    keras.utils.set_random_seed(args.seed)
    default = keras_ae.zoo.conv_vae(latent_dim=2, seed=args.seed)

    models = {"plain": plain, "keras_ae": same, "default": default}
    data = {name: pipeline() for name in models}
    times = {name: [] for name in models}
    for epoch in range(args.epochs):
        for name, model in models.items():
            start = time.perf_counter()
            model.fit(data[name], initial_epoch=epoch, epochs=epoch + 1, verbose=0, shuffle=False)
            times[name].append(time.perf_counter() - start)
        print(f"epoch {epoch + 1}: " + ", ".join(f"{n} {t[-1]:.2f}s" for n, t in times.items()), flush=True)

    def plain_posterior(xb):
        mu, log_var, _ = plain.encoder(xb, training=False)
        return ops.convert_to_numpy(mu), ops.convert_to_numpy(log_var)

    def plain_nll(xb, z):  # its own likelihood: BCE on sigmoid probabilities, as it was trained
        probs = plain.decoder(z, training=False)
        return ops.convert_to_numpy(ops.sum(keras.losses.binary_crossentropy(xb, probs), axis=(1, 2)))

    def ae_posterior(model):
        return lambda xb: model.encode(xb, return_log_var=True)

    def ae_nll(model):
        return lambda xb, z: ops.convert_to_numpy(
            keras_ae.losses.bernoulli_nll(xb, model.decoder(z, training=False)))

    results = {}
    for name, model in models.items():
        post, nll = (plain_posterior, plain_nll) if name == "plain" else (ae_posterior(model), ae_nll(model))
        mean, std = neg_elbo(x_test, post, nll, seed=args.seed)
        steady = times[name][1:] or times[name]
        results[name] = {
            "test_neg_elbo": round(mean, 3),
            "test_neg_elbo_std_over_passes": round(std, 3),
            "median_epoch_seconds": round(statistics.median(steady), 3),
            "params": int(model.encoder.count_params() + model.decoder.count_params()),
        }
    ratio = results["keras_ae"]["median_epoch_seconds"] / results["plain"]["median_epoch_seconds"]
    report = {
        "setting": {"data": "MNIST IDX test set: train = test[:8000], test = test[8000:]", "epochs": args.epochs,
                    "batch_size": args.batch_size, "seed": args.seed, "backend": keras.backend.backend(),
                    "keras": keras.__version__, "tensorflow": tf.__version__,
                    "timing": "epochs interleaved across models; median of epochs 2..N",
                    "load_average_at_end": os.getloadavg()[0]},
        "results": results,
        "time_ratio_keras_ae_over_plain": round(ratio, 3),
        "acceptance": {
            "(a) same architecture, time ratio <= 1.05": ratio <= 1.05,
            "(b) default conv_vae test neg_elbo <= plain": results["default"]["test_neg_elbo"]
            <= results["plain"]["test_neg_elbo"],
        },
    }
    print(f"\n{'model':<10} {'test -ELBO (nats)':>18} {'s/epoch':>8} {'params':>9}")
    for name, r in results.items():
        print(f"{name:<10} {r['test_neg_elbo']:>18.2f} {r['median_epoch_seconds']:>8.2f} {r['params']:>9}")
    print(f"time ratio keras_ae / plain (same architecture): {ratio:.3f}")
    print(json.dumps(report["acceptance"]))
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(report, f, indent=1)


if __name__ == "__main__":
    main()
