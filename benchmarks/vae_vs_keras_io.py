"""keras_ae's VAE against a plain Keras implementation of the keras-io VAE example.

Setting: MNIST from the IDX files in ../shared/data/mnist (the 10,000-image test set: first 8,000 train,
last 2,000 test), batch 128, 20 epochs, seed 0, TensorFlow backend (the keras-io train_step uses
tf.GradientTape). Three models:

- plain:      the keras-io example (conv 32 and 64 stride 2, dense 16, latent 2, mirrored transposed convs,
              sigmoid output, BCE on probabilities, its own train_step);
- keras_ae:   keras_ae.models.VAE built from keras_ae.networks with exactly that architecture (linear output,
              BCE on logits);
- default:    keras_ae.zoo.conv_vae(latent_dim=2) with its defaults.

Epochs are interleaved (one fit() of one epoch for each model in turn, the order reversed every other epoch)
so that machine load affects all models alike. Timing over epochs 2..N (epoch 1 includes tracing): median, 90th percentile and mean wall
seconds per epoch, CPU seconds per epoch (this process, all threads), images per second, the epochs that
waited (over 1.2x the model's median), the epochs with an idle stretch (0.5 s or more under 5% of one core:
a wait that is not contention from other jobs) and the load average before and after. Every model reads
keras_ae.data.pipeline (tf.data autotuning off); ``--pipeline autotune`` gives every model the same steps with
autotuning on, as keras_ae did before issue 18 (docs/performance.md), ``--pipeline numpy`` the arrays themselves
(``fit(x, batch_size=..., shuffle=True)``: Keras builds its own pipeline, with autotuning on). Test negative ELBO (beta = 1, nats per
example) is the single-sample estimate averaged over 10 passes over the test split.

    python benchmarks/vae_vs_keras_io.py [--epochs 20] [--seed 0] [--data ../shared/data/mnist]
        [--pipeline keras_ae|autotune|numpy] [--models plain,keras_ae,default] [--conv-vae-arg KEY=VALUE ...]

``--conv-vae-arg`` runs a candidate configuration of the default model (values as in ``keras-ae train --arg``).
``--candidate NAME KEY=VALUE ...`` (repeatable) adds more conv_vae configurations, trained interleaved with the others
and reported with their time ratios to ``plain`` (the cost probe of docs/performance.md), e.g.

    python benchmarks/vae_vs_keras_io.py --models plain --epochs 6 \
        --candidate old 'filters=[32, 64]' norm=none --candidate l16 'filters=[16, 32]' norm=layer
"""

import argparse
import json
import os
import pathlib
import threading
import time

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from keras import layers, ops  # noqa: E402

import keras_ae  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[1]
MODELS = ("plain", "keras_ae", "default")
STALL_FACTOR = 1.2
IDLE_SECONDS = 0.5  # an idle stretch this long in one epoch is a wait, not contention from other jobs


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


class IdleMonitor:
    """Samples this process's CPU time every 50 ms while an epoch runs and finds the longest stretch in which the
    process used under 5% of one core. tf.data's teardown wait is such a stretch (seconds with no CPU at all);
    other jobs on the machine slow every step but leave no stretch of that length (the scheduler still gives
    this process some of every 50 ms)."""

    def __init__(self, period=0.05):
        self.period = period
        self._samples = []
        self._stop = threading.Event()
        self._thread = None

    def __enter__(self):
        self._samples = [(time.perf_counter(), time.process_time())]
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def _run(self):
        while not self._stop.wait(self.period):
            self._samples.append((time.perf_counter(), time.process_time()))

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self._samples.append((time.perf_counter(), time.process_time()))

    def longest_idle(self):
        longest = current = 0.0
        for (t0, c0), (t1, c1) in zip(self._samples, self._samples[1:]):
            current = current + (t1 - t0) if c1 - c0 < 0.05 * (t1 - t0) else 0.0
            longest = max(longest, current)
        return longest


def epoch_stats(wall, cpu, examples, idle):
    """Per-epoch timing over epochs 2..N (epoch 1 includes tracing): median, 90th percentile and mean wall
    seconds, median CPU seconds (all threads of this process), images per second, the epochs whose wall
    time exceeds STALL_FACTOR times the median (waits), and the epochs with an idle stretch of IDLE_SECONDS or
    more (:class:`IdleMonitor`: waits that are not contention)."""
    wall, cpu, idle = (np.asarray(v[1:] if len(v) > 1 else v, dtype="float64") for v in (wall, cpu, idle))
    median = float(np.median(wall))
    waits = [int(i) + 2 for i in np.flatnonzero(wall > STALL_FACTOR * median)]
    idle_waits = [int(i) + 2 for i in np.flatnonzero(idle >= IDLE_SECONDS)]
    return {
        "median_epoch_seconds": round(median, 3),
        "p90_epoch_seconds": round(float(np.percentile(wall, 90)), 3),
        "mean_epoch_seconds": round(float(np.mean(wall)), 3),
        "median_epoch_cpu_seconds": round(float(np.median(cpu)), 3),
        "images_per_second": round(examples / median, 1),
        "images_per_cpu_second": round(examples / float(np.median(cpu)), 1),
        f"epochs_over_{STALL_FACTOR}x_median": len(waits),
        "epochs_over_threshold": waits,
        f"epochs_idle_over_{IDLE_SECONDS}s": len(idle_waits),
        "epochs_idle": idle_waits,
        "idle_seconds_total": round(float(np.sum(idle[idle >= IDLE_SECONDS])), 2),
    }


def make_pipeline(kind, x, batch_size, seed):
    """``keras_ae``: keras_ae.data.pipeline (tf.data autotuning off); ``autotune``: the keras-io example's
    pipeline, as keras_ae built it before (the same steps with autotuning on)."""
    if kind == "keras_ae":
        return keras_ae.data.pipeline(x, batch_size=batch_size, shuffle=True, seed=seed)
    return (tf.data.Dataset.from_tensor_slices(x).shuffle(len(x), seed=seed)
            .batch(batch_size).prefetch(tf.data.AUTOTUNE))


def main():
    from keras_ae.cli import _pairs

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data", default=str(ROOT.parent / "shared" / "data" / "mnist"))
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "vae_vs_keras_io.json"))
    parser.add_argument("--pipeline", choices=("keras_ae", "autotune", "numpy"), default="keras_ae",
                        help="input of every model: keras_ae.data.pipeline (default), the same steps with tf.data "
                             "autotuning on (keras_ae before issue 18), or the numpy array (Keras' own pipeline)")
    parser.add_argument("--models", default=",".join(MODELS),
                        help=f"comma-separated subset of {', '.join(MODELS)}")
    parser.add_argument("--conv-vae-arg", action="append", metavar="KEY=VALUE", default=[],
                        help="argument of keras_ae.zoo.conv_vae for the 'default' model, as in `keras-ae train "
                             "--arg` (repeatable), e.g. --conv-vae-arg dense_units=128 --conv-vae-arg "
                             "'filters=[32, 64]'")
    parser.add_argument("--candidate", action="append", nargs="+", metavar="NAME [KEY=VALUE", default=[],
                        help="another conv_vae configuration, NAME then its arguments as in --conv-vae-arg "
                             "(repeatable), trained interleaved with --models")
    args = parser.parse_args()
    names = [n.strip() for n in args.models.split(",") if n.strip()]
    unknown = [n for n in names if n not in MODELS]
    if unknown or not names:
        parser.error(f"--models: expected a comma-separated subset of {', '.join(MODELS)}; received {args.models!r}")
    conv_vae_args = _pairs(args.conv_vae_arg, "--conv-vae-arg")
    candidates = {}
    for name, *pairs in args.candidate:
        if name in MODELS or name in candidates or "=" in name:
            parser.error(f"--candidate: the first value is a new model name (not one of {', '.join(MODELS)}, not "
                         f"repeated, no '='); received {name!r}")
        candidates[name] = _pairs(pairs, "--candidate")
    names += list(candidates)

    x_train, _ = keras_ae.data.load_numpy(f"idx:{args.data}", "test[:8000]")
    x_test, _ = keras_ae.data.load_numpy(f"idx:{args.data}", "test[8000:]")

    def build(name):
        keras.utils.set_random_seed(args.seed)
        if name == "plain":
            model = PlainVAE(keras_io_encoder(), keras_io_decoder())
            model.compile(optimizer=keras.optimizers.Adam())
        elif name == "keras_ae":
            model = keras_ae.models.VAE(
                keras_ae.networks.conv_encoder((28, 28, 1), 2, (32, 64), 3, dense_units=16, gaussian=True),
                keras_ae.networks.conv_decoder((28, 28, 1), 2, (32, 64), 3, dense_units=0),
                seed=args.seed,
            )
            model.compile(optimizer=keras.optimizers.Adam())
        else:
            model = keras_ae.zoo.conv_vae(**{"latent_dim": 2, "seed": args.seed,
                                             **candidates.get(name, conv_vae_args)})
        return model

    models = {name: build(name) for name in names}
    if args.pipeline == "numpy":
        data = {name: x_train for name in models}
        fit_args = dict(batch_size=args.batch_size, shuffle=True)
    else:
        data = {name: make_pipeline(args.pipeline, x_train, args.batch_size, args.seed) for name in models}
        fit_args = dict(shuffle=False)  # the dataset shuffles itself
    wall = {name: [] for name in models}
    cpu = {name: [] for name in models}
    idle = {name: [] for name in models}
    last = {}  # the training metrics of the last epoch
    load_before = os.getloadavg()
    for epoch in range(args.epochs):
        order = list(models) if epoch % 2 == 0 else list(models)[::-1]  # no model always follows the same one
        for name in order:
            model = models[name]
            with IdleMonitor() as monitor:
                start, start_cpu = time.perf_counter(), time.process_time()
                history = model.fit(data[name], initial_epoch=epoch, epochs=epoch + 1, verbose=0, **fit_args)
                wall[name].append(time.perf_counter() - start)
                cpu[name].append(time.process_time() - start_cpu)
            idle[name].append(monitor.longest_idle())
            last[name] = {k: round(float(v[-1]), 3) for k, v in history.history.items()}
        print(f"epoch {epoch + 1}: " + ", ".join(
            f"{n} {wall[n][-1]:.2f}s ({cpu[n][-1]:.2f} cpu-s, idle {idle[n][-1]:.2f}s)" for n in models), flush=True)
    load_after = os.getloadavg()

    def plain_posterior(xb):
        mu, log_var, _ = models["plain"].encoder(xb, training=False)
        return ops.convert_to_numpy(mu), ops.convert_to_numpy(log_var)

    def plain_nll(xb, z):  # its own likelihood: BCE on sigmoid probabilities, as it was trained
        probs = models["plain"].decoder(z, training=False)
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
        results[name] = {
            "test_neg_elbo": round(mean, 3),
            "test_neg_elbo_std_over_passes": round(std, 3),
            "params": int(model.encoder.count_params() + model.decoder.count_params()),
            "last_epoch_train_metrics": last[name],
            **epoch_stats(wall[name], cpu[name], len(x_train), idle[name]),
            "epoch_seconds": [round(t, 3) for t in wall[name]],
            "epoch_cpu_seconds": [round(t, 3) for t in cpu[name]],
            "epoch_longest_idle_seconds": [round(t, 2) for t in idle[name]],
        }

    def ratio(a, b, key):
        return round(results[a][key] / results[b][key], 3) if a in results and b in results else None

    ratios = {
        "keras_ae_over_plain_by_median": ratio("keras_ae", "plain", "median_epoch_seconds"),
        "keras_ae_over_plain_by_mean": ratio("keras_ae", "plain", "mean_epoch_seconds"),
        "keras_ae_over_plain_by_median_cpu": ratio("keras_ae", "plain", "median_epoch_cpu_seconds"),
        "default_over_plain_by_median": ratio("default", "plain", "median_epoch_seconds"),
        "default_over_plain_by_mean": ratio("default", "plain", "mean_epoch_seconds"),
        "default_over_plain_by_median_cpu": ratio("default", "plain", "median_epoch_cpu_seconds"),
    }
    for name in candidates:
        ratios[f"{name}_over_plain_by_median"] = ratio(name, "plain", "median_epoch_seconds")
        ratios[f"{name}_over_plain_by_median_cpu"] = ratio(name, "plain", "median_epoch_cpu_seconds")
    acceptance = {}
    if "keras_ae" in results:
        acceptance[f"keras_ae: no epoch over {STALL_FACTOR}x its median"] = (
            results["keras_ae"][f"epochs_over_{STALL_FACTOR}x_median"] == 0)
        acceptance[f"keras_ae: no idle stretch of {IDLE_SECONDS} s or more"] = (
            results["keras_ae"][f"epochs_idle_over_{IDLE_SECONDS}s"] == 0)
    if ratios["keras_ae_over_plain_by_median"] is not None:
        acceptance["same architecture: time ratio <= 1.00 by median and by mean"] = (
            ratios["keras_ae_over_plain_by_median"] <= 1.0 and ratios["keras_ae_over_plain_by_mean"] <= 1.0)
    if "default" in results:
        acceptance["default conv_vae: test neg_elbo <= 160"] = results["default"]["test_neg_elbo"] <= 160.0
    if ratios["default_over_plain_by_median"] is not None:
        acceptance["default conv_vae: median epoch <= 1.2x plain"] = ratios["default_over_plain_by_median"] <= 1.2
    report = {
        "setting": {"data": "MNIST IDX test set: train = test[:8000], test = test[8000:]", "epochs": args.epochs,
                    "batch_size": args.batch_size, "seed": args.seed, "backend": keras.backend.backend(),
                    "keras": keras.__version__, "tensorflow": tf.__version__, "pipeline": args.pipeline,
                    "conv_vae_args": conv_vae_args, "candidates": candidates, "cpu_count": os.cpu_count(),
                    "timing": "one fit() per epoch, epochs interleaved across models (order reversed every other "
                              "epoch); statistics over epochs "
                              f"2..N; a wait is an epoch over {STALL_FACTOR}x the model's median; an idle wait "
                              f"an epoch with {IDLE_SECONDS} s or more under 5% of one core; CPU seconds are this "
                              "process's (all threads)",
                    "load_average_before": [round(v, 2) for v in load_before],
                    "load_average_after": [round(v, 2) for v in load_after]},
        "results": results,
        "time_ratios": ratios,
        "acceptance": acceptance,
    }
    print(f"\npipeline {args.pipeline}; load average before {load_before[0]:.2f}, after {load_after[0]:.2f}")
    print(f"{'model':<9} {'-ELBO':>7} {'params':>8} {'median s':>8} {'p90 s':>6} {'mean s':>6} {'cpu s':>6} "
          f"{'img/s':>6} {'waits':>5} {'idle':>4}")
    for name, r in results.items():
        print(f"{name:<9} {r['test_neg_elbo']:>7.2f} {r['params']:>8} {r['median_epoch_seconds']:>8.2f} "
              f"{r['p90_epoch_seconds']:>6.2f} {r['mean_epoch_seconds']:>6.2f} {r['median_epoch_cpu_seconds']:>6.2f} "
              f"{r['images_per_second']:>6.0f} {r[f'epochs_over_{STALL_FACTOR}x_median']:>5} "
              f"{r[f'epochs_idle_over_{IDLE_SECONDS}s']:>4}")
    print(json.dumps(ratios))
    print(json.dumps(acceptance))
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(report, f, indent=1)


if __name__ == "__main__":
    main()
