"""Small measurements the docs quote, each with its command (issue 14: every figure in docs/ has the command that
printed it). One subcommand per figure; each prints its figures and, with ``--json PATH``, writes them.

    python benchmarks/probes.py prefetch          # docs/performance.md: prefetch with tf.data autotuning off (~15 s)
    python benchmarks/probes.py iwae-graph        # docs/latent.md: the IWAE step as a tf.function against eager
    python benchmarks/probes.py maf-plain-fit     # docs/flows.md: maf_2d, no clipping, plain fit, 25 epochs (~1 min)
    python benchmarks/probes.py unet-step         # docs/scaling.md: U-Net one-step difference, 10 initializations
    python benchmarks/probes.py loss-scaling      # docs/scaling.md: first-epoch neg_elbo per precision policy
    python benchmarks/probes.py batch-norm        # docs/performance.md: conv_vae with batch norm, per-epoch test

TensorFlow backend (set before Keras is imported). Timings are wall seconds of this process; the load average
before and after is printed beside them.
"""

import argparse
import json
import os
import pathlib
import sys
import time

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

ROOT = pathlib.Path(__file__).resolve().parents[1]
MNIST = ROOT.parent / "shared" / "data" / "mnist"


def _load():
    return [round(v, 2) for v in os.getloadavg()]


def prefetch(args):
    """A 20 ms producer (a py_function that sleeps) and a 20 ms consumer (the loop sleeps) over 60 elements: serial
    2.4 s, overlapped 1.2 s. Five pipelines; the median of ``--repeats`` passes each."""
    import tensorflow as tf

    def produce(i):
        time.sleep(0.02)
        return i

    def pipeline(autotune, buffer):
        ds = tf.data.Dataset.range(60).map(lambda i: tf.py_function(produce, [i], tf.int64))
        if buffer is not None:
            ds = ds.prefetch(buffer)
        options = tf.data.Options()
        options.autotune.enabled = autotune
        return ds.with_options(options)

    variants = {"no prefetch, autotuning on": (True, None), "no prefetch, autotuning off": (False, None),
                "prefetch(AUTOTUNE), autotuning off": (False, tf.data.AUTOTUNE),
                "prefetch(1), autotuning off": (False, 1), "prefetch(2), autotuning off": (False, 2)}
    out = {"load_before": _load()}
    for name, (autotune, buffer) in variants.items():
        times = []
        for _ in range(args.repeats):
            ds = pipeline(autotune, buffer)
            start = time.perf_counter()
            for _ in ds:
                time.sleep(0.02)
            times.append(time.perf_counter() - start)
        out[name] = round(sorted(times)[len(times) // 2], 3)
        print(f"{name}: {out[name]:.2f} s (passes {', '.join(f'{t:.2f}' for t in times)})", flush=True)
    out["load_after"] = _load()
    return out


def iwae_graph(args):
    """``iwae_nll`` (k = 100 on 200 MNIST test images) of a conv_vae(latent_dim=16) trained one epoch, with its
    decode-and-likelihood and posterior steps as TensorFlow graphs (what keras_ae does) and eager (graph_function
    replaced by the identity); the median of ``--repeats`` timings each, after one warm-up call."""
    import keras_ae
    from keras_ae.evaluation import latent

    x, _ = keras_ae.data.load_numpy(f"idx:{args.data}", "test[:2000]")
    model = keras_ae.zoo.conv_vae(latent_dim=16, seed=0)
    model.fit(keras_ae.data.pipeline(x, batch_size=128, shuffle=True, seed=0), epochs=1, verbose=0)
    test = x[:200]
    out = {"load_before": _load()}
    graph = latent.graph_function
    for name, wrap in (("graph", graph), ("eager", lambda fn: fn)):
        latent.graph_function = wrap
        latent._LOG_PX.clear(), latent._POSTERIOR.clear()
        latent.iwae_nll(model, test, k=100, seed=0)  # traces (graph) / warms up (eager)
        times, cpu = [], []
        for _ in range(args.repeats):
            start, start_cpu = time.perf_counter(), time.process_time()
            value = latent.iwae_nll(model, test, k=100, seed=0)["iwae_nll"]
            times.append(time.perf_counter() - start)
            cpu.append(time.process_time() - start_cpu)
        out[name] = {"median_s": round(sorted(times)[len(times) // 2], 3), "median_cpu_s": round(sorted(cpu)[len(cpu) // 2], 3),
                     "iwae_nll": round(float(value), 4)}
        print(f"{name}: {out[name]}", flush=True)
    latent.graph_function = graph
    out["eager_over_graph_wall"] = round(out["eager"]["median_s"] / out["graph"]["median_s"], 3)
    out["eager_over_graph_cpu"] = round(out["eager"]["median_cpu_s"] / out["graph"]["median_cpu_s"], 3)
    out["load_after"] = _load()
    print(f"eager / graph: {out['eager_over_graph_wall']}x wall, {out['eager_over_graph_cpu']}x CPU")
    return out


def maf_plain_fit(args):
    """maf_2d without gradient clipping (``global_clipnorm=None``), trained by a plain ``fit`` on the recipe's data
    (zoo/maf_2d_moons.toml: two moons, batch 128, seed 0) with the recipe's schedule (cosine over its 150 epochs to
    1%), for 25 epochs: the training NLL per epoch."""
    import keras

    import keras_ae
    from keras_ae import recipes

    recipe = recipes.load_recipe(ROOT / "zoo" / "maf_2d_moons.toml")
    batch, epochs = recipe.data["batch_size"], recipe.train["epochs"]
    x, _ = keras_ae.data.load_numpy("two_moons", "train")  # the recipe's default split: the first 2,400 points
    keras.utils.set_random_seed(0)
    model = keras_ae.zoo.maf_2d(seed=0, global_clipnorm=None)
    # the recipe's schedule, as the runner puts it on the optimizer: cosine over all its epochs' steps
    recipes.schedule_learning_rate(model.optimizer, recipe.train["learning_rate_schedule"],
                                   epochs * -(-len(x) // batch))
    history = model.fit(x, batch_size=batch, epochs=25, shuffle=True, verbose=0).history
    nll = [round(float(v), 3) for v in history["loss"]]
    print("train NLL per epoch:", nll)
    return {"train_nll": nll, "train_examples": len(x)}


def unet_step(args):
    """The U-Net's one-step difference between one device and a 2-replica MirroredStrategy (2 logical CPUs), from
    ``--inits`` initializations in one process (keras_ae.testing.check_distributed)."""
    from keras_ae.ops.distribute import simulate_devices

    simulate_devices(2)
    from keras_ae.testing import check_distributed

    diffs = []
    for i in range(args.inits):
        report = check_distributed("unet", "mirrored")
        diffs.append(float(report["step_difference"]))
        print(f"initialization {i + 1}: step difference {diffs[-1]:.3g}", flush=True)
    print(f"range {min(diffs):.2g} to {max(diffs):.2g}")
    return {"step_differences": diffs}


def loss_scaling(args):
    """docs/scaling.md's table: conv_vae (latent 2, Adam 1e-3), seed 0 and keras.utils.set_random_seed(0) before each
    build, the 1,000-image MNIST sample in tests/fixtures/mnist, batch 128, one epoch, shuffle=False; the first
    epoch's neg_elbo per precision policy and loss scaling, the final loss scale and the skipped steps."""
    import keras

    import keras_ae

    x, _ = keras_ae.data.load_numpy(f"idx:{ROOT / 'tests' / 'fixtures' / 'mnist'}", "test[:1000]")
    archs = {"default (filters (16, 32), layer norm)": {}, "filters=(32, 64), norm=None": dict(filters=(32, 64), norm=None)}
    settings = [("float32", None), ("mixed_bfloat16", None), ("mixed_float16", None), ("mixed_float16", 2 ** 15)]
    rows = []
    for arch, kwargs in archs.items():
        base = None
        for policy, initial_scale in settings:
            keras.utils.set_random_seed(0)
            model = keras_ae.zoo.conv_vae(seed=0, dtype=policy, **kwargs)
            if initial_scale is not None:  # Keras' own loss scale optimizer at its default initial scale
                model.compile(optimizer=keras.optimizers.LossScaleOptimizer(keras.optimizers.Adam(1e-3),
                                                                            initial_scale=initial_scale))
            start, start_cpu = time.perf_counter(), time.process_time()
            value = float(model.fit(x, batch_size=128, epochs=1, shuffle=False, verbose=0).history["neg_elbo"][0])
            row = {"architecture": arch, "policy": policy, "loss_scaling": (
                "keras' initial scale 2**15" if initial_scale else ("keras_ae's" if policy == "mixed_float16" else "none")),
                "neg_elbo": round(value, 3), "wall_s": round(time.perf_counter() - start, 1),
                "cpu_s": round(time.process_time() - start_cpu, 1)}
            opt = model.optimizer
            if isinstance(opt, keras.optimizers.LossScaleOptimizer):
                row["final_scale"] = float(opt.dynamic_scale.numpy())
                row["steps_applied"] = int(opt.inner_optimizer.iterations.numpy())
                row["steps_skipped"] = -(-len(x) // 128) - row["steps_applied"]  # of the epoch's 8 steps
            if base is None:
                base = value
            else:
                row["vs_float32_percent"] = round(100 * (value / base - 1), 3)
            rows.append(row)
            print(row, flush=True)
    return {"load_before_after": _load(), "rows": rows}


def batch_norm(args):
    """conv_vae(latent_dim=2, filters=(24, 48), norm="batch") at ``--seed`` on MNIST (train test[:8000], test
    test[8000:]), batch 128, 20 epochs through keras_ae.data.pipeline: the test -ELBO (2 passes) after every epoch,
    then at the end with batch statistics (training=True on the encoder and decoder's normalization, batches of 128)
    and on the training images in inference mode."""
    import keras
    import numpy as np

    import keras_ae

    x, _ = keras_ae.data.load_numpy(f"idx:{args.data}", "test[:8000]")
    xt, _ = keras_ae.data.load_numpy(f"idx:{args.data}", "test[8000:]")
    keras.utils.set_random_seed(args.seed)
    model = keras_ae.zoo.conv_vae(latent_dim=2, filters=(24, 48), norm="batch", seed=args.seed)
    data = keras_ae.data.pipeline(x, batch_size=128, shuffle=True, seed=args.seed)

    def test_elbo(images, passes=2):
        return float(np.mean([model.evaluate(images, batch_size=128, verbose=0, return_dict=True)["neg_elbo"]
                              for _ in range(passes)]))

    per_epoch, train = [], []
    for epoch in range(args.epochs):
        h = model.fit(data, initial_epoch=epoch, epochs=epoch + 1, verbose=0, shuffle=False).history
        train.append(round(float(h["neg_elbo"][-1]), 2))
        per_epoch.append(round(test_elbo(xt), 2))
        print(f"epoch {epoch + 1}: train {train[-1]}, test {per_epoch[-1]}", flush=True)
    # batch statistics: the per-batch ELBO with the normalization layers in training mode (no weight update)
    rng = np.random.default_rng(args.seed)
    totals = []
    for _ in range(2):
        values = []
        for start in range(0, len(xt), 128):
            xb = xt[start:start + 128]
            mean, log_var = model.encoder(xb, training=True)
            eps = rng.standard_normal(mean.shape).astype("float32")
            z = keras.ops.convert_to_numpy(mean) + np.exp(0.5 * keras.ops.convert_to_numpy(log_var)) * eps
            rec = keras_ae.losses.bernoulli_nll(xb, model.decoder(z, training=True))
            kl = keras_ae.losses.gaussian_kl(mean, log_var)
            values.append(keras.ops.convert_to_numpy(rec + kl))
        totals.append(float(np.mean(np.concatenate(values))))
    out = {"seed": args.seed, "train_neg_elbo": train, "test_neg_elbo_per_epoch": per_epoch,
           "test_neg_elbo_batch_statistics": round(float(np.mean(totals)), 2),
           "train_images_inference_mode": round(test_elbo(x), 2)}
    print({k: v for k, v in out.items() if k not in ("train_neg_elbo", "test_neg_elbo_per_epoch")})
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="probe", required=True)
    for name, fn in (("prefetch", prefetch), ("iwae-graph", iwae_graph), ("maf-plain-fit", maf_plain_fit),
                     ("unet-step", unet_step), ("loss-scaling", loss_scaling), ("batch-norm", batch_norm)):
        p = sub.add_parser(name, help=fn.__doc__.split("\n")[0])
        p.set_defaults(fn=fn)
        p.add_argument("--json", help="also write the figures to this JSON file")
        p.add_argument("--repeats", type=int, default=5)
        p.add_argument("--data", default=str(MNIST), help="the MNIST IDX folder")
        if name == "unet-step":
            p.add_argument("--inits", type=int, default=10)
        if name == "batch-norm":
            p.add_argument("--seed", type=int, default=1)
            p.add_argument("--epochs", type=int, default=20)
    args = parser.parse_args()
    out = {"command": "python benchmarks/probes.py " + " ".join(sys.argv[1:]), **args.fn(args)}
    if args.json:
        tmp = args.json + ".tmp"
        with open(tmp, "w") as f:
            json.dump(out, f, indent=1)
        os.replace(tmp, args.json)


if __name__ == "__main__":
    main()
