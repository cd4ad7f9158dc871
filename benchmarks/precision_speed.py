"""Training speed of the zoo's default image models in float32, mixed_bfloat16 and with XLA (jit_compile) on CPU.

Models: ``conv_vae(latent_dim=2)``, ``dcgan()`` and ``realnvp_image()``, each with its zoo defaults for 28x28x1
images (``seed`` = ``--seed`` for the models' own noise), TensorFlow backend. Settings:

- ``float32``:        the zoo model as it is (the zoo compiles with ``jit_compile="auto"``, which Keras resolves to
                      False on a CPU-only TensorFlow machine);
- ``mixed_bfloat16``: ``keras.mixed_precision.set_global_policy("mixed_bfloat16")`` while the model is built (no
                      zoo constructor takes a ``dtype``) and while it trains and is evaluated, float32 otherwise;
- ``jit``:            float32 with ``model.jit_compile = True`` set after the zoo has compiled the model and before
                      its first ``fit`` (the GANs compile themselves with two optimizers; the attribute works for
                      every model). The effective value is recorded (Keras falls back to False, with a warning,
                      for a model with a layer that does not support XLA).

Data: MNIST from the IDX files in ../shared/data/mnist, the first ``--images`` images of ``test[:8000]`` for
training (every model, the GAN included, reads the real images), ``test[8000:]`` for the held-out check; batch
128, fed by ``keras_ae.data.pipeline(x, batch_size=128, shuffle=True, seed=seed)`` (tf.data autotuning off,
docs/performance.md). Every (model, setting) pair is trained with one ``fit`` of one epoch at a time; the pairs
take turns within each epoch, in an order reversed every other epoch, so that the load of other jobs falls on all
of them alike. Epoch 1 (tracing, XLA compilation) is left out of the statistics: median and minimum wall seconds,
median CPU seconds (this process, all threads: ``time.process_time``), images per wall second and per CPU
second, and the load average (/proc/loadavg) before, after and at the start of every epoch round.

On a machine shared with other jobs, the wall times carry their load; the CPU-second rates are the comparable
figures (they still include some contention: cache and memory bandwidth, hyper-thread siblings).

The matmul rate: GFLOP per CPU second (and per wall second) of ``tf.matmul`` of two ``--matmul-size`` square
matrices, float32 and bfloat16 (median of 5 timed repeats, taken before and after the training runs).
Training FLOPs per image: 3 x the forward FLOPs counted by the TensorFlow profiler
(``tf.compat.v1.profiler``, float operations of the graph of a traced ``tf.function``) of the forward passes one
training step makes, per training image: the model's call for the VAE and the flow, the discriminator objective
(G once, D on real and fake) plus the generator objective (G and D once) for the GAN. The whole traced training
step (forward, gradients, optimizer update) is counted too, as a check of the 3x rule. Each row's fraction of the
matmul rate = training FLOPs per image x images per CPU second / the matmul GFLOP per CPU second of the same
precision (bfloat16 rows: the bfloat16 matmul rate).

Quality check (short runs, not converged): the training metrics of the last epoch of every pair, and for the VAE
and the flow ``model.evaluate`` on ``test[8000:]`` (negative ELBO in nats, bits/dim); for the GAN, with
``--fid-samples N``, the domain FID (keras_ae.evaluation.domain_fid: features of a small classifier trained 3
epochs on test[:8000], not Inception FID) of N samples against ``test[8000:]``.

    python benchmarks/precision_speed.py [--models conv_vae,dcgan,realnvp_image]
        [--settings float32,mixed_bfloat16,jit] [--epochs 5] [--images 4096] [--seed 0]
        [--model-arg NAME:KEY=VALUE ...] [--eval-passes 1] [--fid-samples 0]

``--model-arg`` measures a configuration other than the zoo default (e.g. ``'conv_vae:filters=(16, 32)'``);
``--eval-passes`` averages the held-out check over several passes. For a quality comparison at the usual
setting of the VAE benchmark: ``--models conv_vae --settings float32,mixed_bfloat16 --images 8000 --epochs 20
--eval-passes 10``.

A (model, setting) pair that fails records the first line of its error instead of figures; the others go on.
"""

import argparse
import ast
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

import keras_ae  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[1]
MODELS = ("conv_vae", "dcgan", "realnvp_image")
SETTINGS = ("float32", "mixed_bfloat16", "jit")
MODEL_ARGS = {"conv_vae": {"latent_dim": 2}, "dcgan": {}, "realnvp_image": {}}  # zoo defaults, 28x28x1


def load_average():
    with open("/proc/loadavg") as f:
        return [float(v) for v in f.read().split()[:3]]


class Policy:
    """Sets the global dtype policy for a block and puts back the one that was there."""

    def __init__(self, name):
        self.name, self.previous = name, None

    def __enter__(self):
        self.previous = keras.mixed_precision.global_policy().name
        keras.mixed_precision.set_global_policy(self.name)

    def __exit__(self, *exc):
        keras.mixed_precision.set_global_policy(self.previous)


def policy_of(setting):
    return "mixed_bfloat16" if setting == "mixed_bfloat16" else "float32"


def first_line(error):
    text = f"{type(error).__name__}: {error}".strip()
    return text.splitlines()[0][:300]


# ----- the machine's matmul rate ----------------------------------------------------------------------
def matmul_rate(dtype, n=1024, repeats=5, calls=20):
    """GFLOP per CPU second and per wall second of ``tf.matmul`` of two n x n matrices (2 n^3 FLOP a call);
    median over ``repeats`` timings of ``calls`` calls each, after one warm-up."""
    a = tf.cast(tf.random.stateless_normal((n, n), seed=(1, 2)), dtype)
    b = tf.cast(tf.random.stateless_normal((n, n), seed=(3, 4)), dtype)
    tf.matmul(a, b).numpy()
    per_cpu, per_wall = [], []
    for _ in range(repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        for _ in range(calls):
            c = tf.matmul(a, b)
        c.numpy()
        wall, cpu = time.perf_counter() - start, time.process_time() - start_cpu
        flop = 2.0 * n**3 * calls
        per_cpu.append(flop / cpu / 1e9)
        per_wall.append(flop / wall / 1e9)
    return {"gflop_per_cpu_second": round(statistics.median(per_cpu), 1),
            "gflop_per_wall_second": round(statistics.median(per_wall), 1),
            "gflop_per_cpu_second_repeats": [round(v, 1) for v in per_cpu]}


# ----- FLOPs per training image -----------------------------------------------------------------------
def profiled_flops(fn, spec):
    """Float operations the TensorFlow profiler counts in the graph of ``tf.function(fn)`` traced on ``spec``."""
    graph = tf.function(fn).get_concrete_function(spec).graph
    options = tf.compat.v1.profiler.ProfileOptionBuilder.float_operation()
    options["output"] = "none"
    return int(tf.compat.v1.profiler.profile(graph=graph, options=options).total_float_ops)


def forward_passes(name, model):
    """The forward computation of one training step on a batch of real images."""
    if name == "dcgan":  # D step: G(z), D(real), D(fake); G step: G(z), D(fake)
        return lambda x: (model.discriminator_objective(x)[0], model.generator_objective(x)[0])
    return lambda x: model(x, training=True)


def flops_per_image(name, x, batch_size, seed):
    """Forward FLOPs per image of one training step (profiler), 3x that, and the profiled whole step."""
    keras.utils.set_random_seed(seed)
    model = keras_ae.zoo.create(name, **MODEL_ARGS[name], seed=seed)
    # one real step first, so that the optimizers (and a flow's ActNorm) are built before the step is traced
    model.fit(keras_ae.data.pipeline(x[:batch_size], batch_size=batch_size), epochs=1, verbose=0)
    spec = tf.TensorSpec((batch_size,) + tuple(x.shape[1:]), "float32")
    forward = profiled_flops(forward_passes(name, model), spec) / batch_size
    step = profiled_flops(lambda b: model.train_step(b), spec) / batch_size
    return {"forward_flops_per_image": round(forward),
            "training_flops_per_image_3x_forward": round(3 * forward),
            "training_step_flops_per_image_profiled": round(step),
            "profiled_step_over_forward": round(step / forward, 2)}


# ----- the timed runs ---------------------------------------------------------------------------------
def build(name, setting, seed):
    keras.utils.set_random_seed(seed)
    with Policy(policy_of(setting)):
        model = keras_ae.zoo.create(name, **MODEL_ARGS[name], seed=seed)
    if setting == "jit":
        model.jit_compile = True
    return model


def layer_policies(model):
    """How many layers (walked through the public ``layers`` of nested models) have each dtype policy."""
    counts, stack = {}, list(model.layers)
    while stack:
        layer = stack.pop()
        counts[layer.dtype_policy.name] = counts.get(layer.dtype_policy.name, 0) + 1
        stack.extend(getattr(layer, "layers", []) or [])
    return counts


def summary(wall, cpu, images):
    first_wall, first_cpu = wall[0], cpu[0]
    wall, cpu = wall[1:], cpu[1:]  # epoch 1 traces (and compiles)
    median_wall, median_cpu = statistics.median(wall), statistics.median(cpu)
    return {
        "median_epoch_seconds": round(median_wall, 3),
        "min_epoch_seconds": round(min(wall), 3),
        "median_epoch_cpu_seconds": round(median_cpu, 3),
        "min_epoch_cpu_seconds": round(min(cpu), 3),
        "first_epoch_seconds": round(first_wall, 3),
        "first_epoch_cpu_seconds": round(first_cpu, 3),
        "images_per_second": round(images / median_wall, 1),
        "images_per_second_best_epoch": round(images / min(wall), 1),
        "images_per_cpu_second": round(images / median_cpu, 1),
    }


def held_out(name, model, setting, x_test, batch_size, passes, fid=None):
    """``model.evaluate`` on the held-out images, each metric averaged over ``passes`` passes (the VAE draws new
    noise at every pass; the flow's evaluation noise is fixed). The GAN: the domain FID of ``fid["samples"]``
    samples against the held-out images when ``fid`` is given, else None."""
    with Policy(policy_of(setting)):
        if name == "dcgan":
            if fid is None:
                return None
            samples = np.asarray(model.sample(fid["samples"], seed=fid["seed"]), "float32")
            return {"domain_fid": round(float(keras_ae.evaluation.domain_fid(
                fid["network"], x_test, samples, real_stats=fid["real_stats"])), 3), "samples": fid["samples"]}
        runs = [model.evaluate(keras_ae.data.pipeline(x_test, batch_size=batch_size), verbose=0, return_dict=True)
                for _ in range(passes)]
    return {k: round(float(np.mean([r[k] for r in runs])), 4) for k in runs[0]}


def parse_model_args(items, models):
    """``NAME:KEY=VALUE`` items -> {NAME: {KEY: value}}; values are Python literals or plain strings."""
    parsed = {}
    for item in items:
        name, sep, assignment = item.partition(":")
        key, eq, text = assignment.partition("=")
        if not sep or not eq or name not in models or not key:
            raise ValueError(f"--model-arg: expected NAME:KEY=VALUE with NAME one of {', '.join(models)}; "
                             f"received {item!r}")
        try:
            value = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            value = text
        parsed.setdefault(name, {})[key.strip()] = value
    return parsed


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", default=",".join(MODELS), help=f"comma-separated subset of {', '.join(MODELS)}")
    parser.add_argument("--settings", default=",".join(SETTINGS),
                        help=f"comma-separated subset of {', '.join(SETTINGS)}")
    parser.add_argument("--epochs", type=int, default=5,
                        help="epochs per (model, setting), the first (tracing, compilation) left out of the "
                             "statistics; at least 2")
    parser.add_argument("--images", type=int, default=4096,
                        help="training images per epoch (the first N of test[:8000]; at most 8000)")
    parser.add_argument("--model-arg", action="append", default=[], metavar="NAME:KEY=VALUE",
                        help="a constructor argument other than the zoo default (repeatable), e.g. "
                             "--model-arg 'conv_vae:filters=(16, 32)' --model-arg conv_vae:norm=layer")
    parser.add_argument("--eval-passes", type=int, default=1,
                        help="passes over test[8000:] averaged for the held-out check (VAE: fresh noise each)")
    parser.add_argument("--fid-samples", type=int, default=0,
                        help="dcgan's held-out check: domain FID of this many samples against test[8000:], in the "
                             "features of a small classifier trained 3 epochs on test[:8000] (0: skipped)")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--matmul-size", type=int, default=1024)
    parser.add_argument("--data", default=str(ROOT.parent / "shared" / "data" / "mnist"))
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "precision_speed.json"))
    args = parser.parse_args()

    def subset(text, allowed, option):
        names = [n.strip() for n in text.split(",") if n.strip()]
        if not names or any(n not in allowed for n in names):
            parser.error(f"{option}: expected a comma-separated subset of {', '.join(allowed)}; received {text!r}")
        return names

    models, settings = subset(args.models, MODELS, "--models"), subset(args.settings, SETTINGS, "--settings")
    if args.epochs < 2:
        parser.error(f"--epochs: at least 2 (the first is left out of the statistics); received {args.epochs}")
    if not 1 <= args.images <= 8000:
        parser.error(f"--images: between 1 and 8000; received {args.images}")
    try:
        for name, extra in parse_model_args(args.model_arg, models).items():
            MODEL_ARGS[name] = {**MODEL_ARGS[name], **extra}
    except ValueError as error:
        parser.error(str(error))
    if not 0 <= args.fid_samples <= 10000:
        parser.error(f"--fid-samples: between 0 and 10000; received {args.fid_samples}")
    if args.eval_passes < 1:
        parser.error(f"--eval-passes: at least 1; received {args.eval_passes}")
    if keras.backend.backend() != "tensorflow":
        parser.error(f"this benchmark runs on the tensorflow backend; KERAS_BACKEND is {keras.backend.backend()!r}")

    x_all, y_all = keras_ae.data.load_numpy(f"idx:{args.data}", "test[:8000]")
    x_train = x_all[: args.images]
    x_test, _ = keras_ae.data.load_numpy(f"idx:{args.data}", "test[8000:]")
    load_start = load_average()

    matmul_before = {d: matmul_rate(d, args.matmul_size) for d in ("float32", "bfloat16")}
    print("matmul GFLOP per CPU second:", {d: r["gflop_per_cpu_second"] for d, r in matmul_before.items()},
          flush=True)
    flops = {}
    for name in models:
        try:
            flops[name] = flops_per_image(name, x_train, args.batch_size, args.seed)
        except Exception as error:  # noqa: BLE001 - recorded, the timing goes on
            flops[name] = {"error": first_line(error)}
        print(name, flops[name], flush=True)

    pairs = [(m, s) for m in models for s in settings]
    runs, errors = {}, {}
    for pair in pairs:
        try:
            runs[pair] = build(*pair, args.seed)
        except Exception as error:  # noqa: BLE001
            errors[pair] = first_line(error)
    wall = {p: [] for p in pairs}
    cpu = {p: [] for p in pairs}
    history = {p: [] for p in pairs}
    data = {p: keras_ae.data.pipeline(x_train, batch_size=args.batch_size, shuffle=True, seed=args.seed)
            for p in pairs}
    round_loads = []
    load_before = load_average()
    for epoch in range(args.epochs):
        round_loads.append(load_average())
        order = pairs if epoch % 2 == 0 else pairs[::-1]
        for pair in order:
            if pair in errors:
                continue
            try:
                with Policy(policy_of(pair[1])):
                    start, start_cpu = time.perf_counter(), time.process_time()
                    logs = runs[pair].fit(data[pair], initial_epoch=epoch, epochs=epoch + 1, verbose=0,
                                          shuffle=False).history
                    wall[pair].append(time.perf_counter() - start)
                    cpu[pair].append(time.process_time() - start_cpu)
                history[pair].append({k: round(float(v[-1]), 4) for k, v in logs.items()})
            except Exception as error:  # noqa: BLE001
                errors[pair] = first_line(error)
        print(f"epoch {epoch + 1} (load {round_loads[-1][0]:.2f}): " + ", ".join(
            f"{m}/{s} {wall[(m, s)][-1]:.2f}s {cpu[(m, s)][-1]:.2f}cpu" for m, s in pairs if (m, s) not in errors),
            flush=True)
    load_after = load_average()
    matmul_after = {d: matmul_rate(d, args.matmul_size) for d in ("float32", "bfloat16")}
    matmul = {d: {"gflop_per_cpu_second": statistics.median(
        matmul_before[d]["gflop_per_cpu_second_repeats"] + matmul_after[d]["gflop_per_cpu_second_repeats"]),
        "before": matmul_before[d], "after": matmul_after[d]} for d in matmul_before}

    fid = None
    if args.fid_samples and "dcgan" in models:
        network = keras_ae.evaluation.train_feature_classifier(x_all, y_all, epochs=3, seed=args.seed)
        fid = {"network": network, "samples": args.fid_samples, "seed": args.seed,
               "real_stats": keras_ae.evaluation.feature_statistics(network.features(x_test))}

    results = {}
    for name, setting in pairs:
        row = {"model": name, "setting": setting}
        if (name, setting) in errors:
            row["error"] = errors[(name, setting)]
            if wall[(name, setting)]:
                row["epoch_seconds"] = [round(t, 3) for t in wall[(name, setting)]]
            results[f"{name}/{setting}"] = row
            continue
        model = runs[(name, setting)]
        row.update(summary(wall[(name, setting)], cpu[(name, setting)], len(x_train)))
        precision = "bfloat16" if setting == "mixed_bfloat16" else "float32"
        rate = matmul[precision]["gflop_per_cpu_second"]
        training_flops = flops[name].get("training_flops_per_image_3x_forward")
        if training_flops:
            row["training_gflop_per_cpu_second"] = round(training_flops * row["images_per_cpu_second"] / 1e9, 1)
            row["fraction_of_matmul_rate"] = round(row["training_gflop_per_cpu_second"] / rate, 3)
            row["matmul_rate_used"] = precision
            row["fraction_of_float32_matmul_rate"] = round(
                row["training_gflop_per_cpu_second"] / matmul["float32"]["gflop_per_cpu_second"], 3)
        row["jit_compile_effective"] = bool(model.jit_compile)
        row["layer_dtype_policies"] = layer_policies(model)
        row["last_epoch_train_metrics"] = history[(name, setting)][-1]
        try:
            row["held_out"] = held_out(name, model, setting, x_test, args.batch_size, args.eval_passes, fid)
        except Exception as error:  # noqa: BLE001
            row["held_out"] = {"error": first_line(error)}
        row["epoch_seconds"] = [round(t, 3) for t in wall[(name, setting)]]
        row["epoch_cpu_seconds"] = [round(t, 3) for t in cpu[(name, setting)]]
        row["train_metrics_per_epoch"] = history[(name, setting)]
        results[f"{name}/{setting}"] = row

    speedups = {}
    for name in models:
        base = results.get(f"{name}/float32", {})
        for setting in settings:
            row = results.get(f"{name}/{setting}", {})
            if setting != "float32" and "images_per_cpu_second" in row and "images_per_cpu_second" in base:
                speedups[f"{name}/{setting}"] = {
                    "by_cpu_second": round(row["images_per_cpu_second"] / base["images_per_cpu_second"], 3),
                    "by_median_wall": round(row["images_per_second"] / base["images_per_second"], 3),
                }

    report = {
        "setting": {
            "data": f"MNIST IDX: train = first {len(x_train)} of test[:8000], held out = test[8000:]",
            "model_arguments": {m: {**keras_ae.zoo.describe(m)["arguments"], **MODEL_ARGS[m], "seed": args.seed}
                                for m in models},
            "epochs": args.epochs, "images_per_epoch": len(x_train), "batch_size": args.batch_size,
            "seed": args.seed, "eval_passes": args.eval_passes, "fid_samples": args.fid_samples,
            "backend": keras.backend.backend(), "keras": keras.__version__, "tensorflow": tf.__version__,
            "cpu_count": os.cpu_count(),
            "pipeline": "keras_ae.data.pipeline(x, batch_size, shuffle=True, seed) (tf.data autotuning off)",
            "timing": "one fit() of one epoch per (model, setting), pairs interleaved (order reversed every other "
                      "epoch); statistics over epochs 2..N; CPU seconds = time.process_time() over the fit",
            "flops": "forward FLOPs of one training step counted by the TensorFlow profiler on a traced "
                     "tf.function (batch of real images, per image); training = 3 x forward",
            "load_average_start": load_start, "load_average_before": load_before,
            "load_average_after": load_after, "load_average_each_epoch_round": round_loads,
        },
        "matmul": matmul,
        "flops": flops,
        "results": results,
        "speedup_over_float32": speedups,
    }
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(report, f, indent=1)

    print(f"\nload average before {load_before}, after {load_after}")
    print(f"matmul GFLOP/CPU-s: float32 {matmul['float32']['gflop_per_cpu_second']}, "
          f"bfloat16 {matmul['bfloat16']['gflop_per_cpu_second']}")
    print(f"{'model/setting':<30} {'1st s':>6} {'med s':>6} {'min s':>6} {'cpu s':>6} {'img/s':>7} "
          f"{'img/cpu-s':>9} {'matmul frac':>11}")
    for key, row in results.items():
        if "error" in row:
            print(f"{key:<30} {row['error']}")
            continue
        print(f"{key:<30} {row['first_epoch_seconds']:>6.2f} {row['median_epoch_seconds']:>6.2f} "
              f"{row['min_epoch_seconds']:>6.2f} {row['median_epoch_cpu_seconds']:>6.2f} "
              f"{row['images_per_second']:>7.0f} {row['images_per_cpu_second']:>9.0f} "
              f"{row.get('fraction_of_matmul_rate', float('nan')):>11.3f}")
    print(json.dumps(speedups))


if __name__ == "__main__":
    main()
