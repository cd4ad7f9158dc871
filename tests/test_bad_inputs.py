"""The bad-input sweep (issue 17): every family, the loader and the command line, one bad input per case.

Each case calls the public API (or ``keras_ae.cli.main``) with one bad input and is *clear* only when it raises the
package's own error of the expected kind (``keras_ae.errors``), unwrapped (no TensorFlow "Graph execution error", no
Keras "Exception encountered when calling"), with a message that names the offending argument, data or file; a CLI
case must exit with the documented status after printing one line. ``benchmarks/bad_inputs_sweep.py`` runs the same
cases with a time and memory watchdog and counts them clear / unclear / silent / hang (also against an older
keras_ae: nothing here imports a name that did not exist before the sweep, the expected types are looked up by name).

Models are tiny (the zoo's ``test_kwargs``) and built once per module.
"""

import contextlib
import io
import json
import os
import pathlib
import subprocess
import sys
import textwrap
import warnings
import zipfile

import numpy as np
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
WRAPPERS = ("Exception encountered when calling", "Graph execution error", "Traceback (most recent call last)")
HUGE = 10**9  # sample(HUGE) must be refused at once (issue 17: it ran for minutes)


class Case:
    """One bad input: ``call(ctx)`` must raise ``error`` (a class name in keras_ae.errors) whose message holds every
    string in ``names``; ``("exit", N)`` for a CLI case (exit status N, one line on stderr); ``warn`` for a
    warning of that class. ``absent`` strings must not appear (e.g. an internal name)."""

    def __init__(self, id, call, error, names, family, absent=(), isolate=False, kind="raise"):
        self.id, self.call, self.error, self.names, self.family = id, call, error, tuple(names), family
        self.absent, self.isolate, self.kind = tuple(absent), isolate, kind


CASES = []


def case(family, id, error, *names, absent=(), isolate=False, kind="raise"):
    def decorator(fn):
        CASES.append(Case(id, fn, error, names, family, absent, isolate, kind))
        return fn
    return decorator


def bad(family, id, error, names, call, **kwargs):
    CASES.append(Case(id, call, error, names if isinstance(names, tuple) else (names,), family, **kwargs))


# ----- the context: tiny models and data, built once ----------------------------------------------------------------
class Context:
    def __init__(self, tmp):
        self.tmp = pathlib.Path(tmp)
        self._models = {}
        rng = np.random.default_rng(0)
        self.x = rng.random((16, 8, 8, 1)).astype("float32")
        self.y = (np.arange(16) % 3).astype("int32")
        self.points = rng.standard_normal((32, 2)).astype("float32")
        self.x16 = rng.random((4, 16, 16, 1)).astype("float32")
        self.masks = (np.arange(4 * 16 * 16).reshape(4, 16, 16) % 3).astype("int32")
        self.x4 = rng.random((8, 4, 4, 1)).astype("float32")

    def model(self, name, **kwargs):
        key = (name, tuple(sorted(kwargs.items())))
        if key not in self._models:
            from keras_ae import zoo

            self._models[key] = zoo.create(name, **{**zoo.get_entry(name).test_kwargs, **kwargs})
        return self._models[key]

    def path(self, name, content=None):
        p = self.tmp / name
        if content is not None:
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_bytes(content if isinstance(content, bytes) else content.encode())
        return str(p)

    def saved(self):
        """A tiny conv_vae saved as .keras (once)."""
        p = self.tmp / "vae.keras"
        if not p.exists():
            self.model("conv_vae").save(str(p))
        return str(p)

    def edited(self, name, edit):
        """A copy of :meth:`saved` whose config.json went through ``edit(config)``."""
        src, dst = self.saved(), self.tmp / name
        with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
            for item in zin.infolist():
                data = zin.read(item.filename)
                if item.filename == "config.json":
                    config = json.loads(data)
                    edit(config)
                    data = json.dumps(config).encode()
                zout.writestr(item, data)
        return str(dst)

    def dataset(self, *tensors, batch=4):
        import tensorflow as tf

        return tf.data.Dataset.from_tensor_slices(tensors[0] if len(tensors) == 1 else tensors).batch(batch)

    def cli(self, *argv):
        """``keras_ae.cli.main(argv)`` in this process: ``(exit status, stderr)``."""
        from keras_ae import cli

        err, out = io.StringIO(), io.StringIO()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
            try:
                status = cli.main([str(a) for a in argv])
            except SystemExit as e:  # argparse, or an error printed by a raise SystemExit(message)
                status = e.code if isinstance(e.code, int) else 1
                if not isinstance(e.code, int) and e.code is not None:
                    err.write(str(e.code) + "\n")
        return status, err.getvalue()

    def run_dir(self, name):
        return str(self.tmp / "runs" / name)


# ----- classification (shared with benchmarks/bad_inputs_sweep.py) -------------------------------------------------
def expected_class(name):
    import keras_ae.errors

    return getattr(keras_ae.errors, name, None)


def classify(case, ctx):
    """``(verdict, detail)``: verdict is ``clear``, ``unclear`` or ``silent``."""
    if case.kind == "warn":
        cls = expected_class(case.error)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                case.call(ctx)
            except Exception as e:  # noqa: BLE001
                return "unclear", f"raised {type(e).__name__}: {str(e)[:300]}"
        msgs = [w for w in caught if cls is not None and issubclass(w.category, cls)]
        if not msgs:
            others = "; ".join(f"{w.category.__name__}: {str(w.message)[:120]}" for w in caught)
            return "silent", f"no {case.error} warning" + (f" (got {others})" if others else "")
        text = str(msgs[0].message)
        return _judge_text(case, text, f"{case.error}: {text}")
    if isinstance(case.error, tuple):  # ("exit", status): a CLI case
        status, stderr = case.call(ctx)
        lines = [line for line in stderr.strip().splitlines() if line.strip()]
        detail = f"exit {status}: {stderr.strip()[-400:]}"
        if status == 0:
            return "silent", detail
        if status != case.error[1] or len(lines) != 1 or "Traceback" in stderr:
            return "unclear", detail
        return _judge_text(case, lines[0], detail)
    cls = expected_class(case.error)
    try:
        result = case.call(ctx)
    except Exception as e:  # noqa: BLE001
        text = str(e)
        detail = f"{type(e).__module__}.{type(e).__name__}: {text[:400]}"
        if cls is None or not isinstance(e, cls):
            named = _judge_text(case, text, detail)[0] == "clear"
            return "unclear", ("[names it] " if named else "") + f"not a {case.error}: {detail}"
        return _judge_text(case, text, detail)
    return "silent", f"returned {type(result).__name__}"


def _judge_text(case, text, detail):
    low = text.lower()
    missing = [n for n in case.names if n.lower() not in low]
    present = [a for a in case.absent if a.lower() in low]
    wrapped = [w for w in WRAPPERS if w in text]
    if missing or present or wrapped:
        why = (f"missing {missing} " if missing else "") + (f"names {present} " if present else "") + (
            f"wrapped in {wrapped}" if wrapped else "")
        return "unclear", f"{why.strip()} -- {detail}"
    return "clear", detail


# ===== constructors (every family) ==================================================================================
def zoo_case(family, model, error, names, **kwargs):
    label = ",".join(f"{k}={v!r}" for k, v in kwargs.items())

    def call(ctx):
        from keras_ae import zoo

        return zoo.create(model, **{**zoo.get_entry(model).test_kwargs, **kwargs})

    bad(family, f"{model}({label})", error, names, call)


IA, AT, DATA = "InvalidArgumentError", "ArgumentTypeError", "InvalidDataError"
nan, inf = float("nan"), float("inf")

# autoencoder family
zoo_case("autoencoder", "dense_ae", IA, "latent_dim", latent_dim=0)
zoo_case("autoencoder", "dense_ae", AT, "latent_dim", latent_dim=2.5)
zoo_case("autoencoder", "dense_ae", AT, "latent_dim", latent_dim="2")
zoo_case("autoencoder", "dense_ae", IA, "input_shape", input_shape=(0, 8, 1))
zoo_case("autoencoder", "dense_ae", IA, "input_shape", input_shape="28x28")
zoo_case("autoencoder", "dense_ae", IA, "hidden", hidden=(16, -1))
zoo_case("autoencoder", "dense_ae", AT, "hidden", hidden=16)
zoo_case("autoencoder", "dense_ae", IA, "activation", activation="relux")
zoo_case("autoencoder", "dense_ae", IA, "likelihood", likelihood="poisson")
zoo_case("autoencoder", "dense_ae", IA, "learning_rate", learning_rate=-1e-3)
zoo_case("autoencoder", "dense_ae", IA, "learning_rate", learning_rate=nan)
zoo_case("autoencoder", "dense_ae", AT, "learning_rate", learning_rate="fast")
zoo_case("autoencoder", "dense_ae", IA, "optimizer", optimizer="adamx")
zoo_case("autoencoder", "dense_ae", AT, "optimizer", optimizer=3)
zoo_case("autoencoder", "conv_ae", IA, "filters", filters=())
zoo_case("autoencoder", "conv_ae", IA, "filters", filters=(4, -8))
zoo_case("autoencoder", "conv_ae", IA, "kernel_size", kernel_size=0)
zoo_case("autoencoder", "conv_ae", IA, "dense_units", dense_units=-3)
zoo_case("autoencoder", "conv_ae", IA, "padding", padding="mirror")
zoo_case("autoencoder", "conv_ae", IA, "downsampling", downsampling="conv")
zoo_case("autoencoder", "conv_ae", IA, "upsampling", upsampling="deconv")
zoo_case("autoencoder", "conv_ae", IA, "norm", norm="group")
zoo_case("autoencoder", "conv_ae", IA, "block", block="dense")
zoo_case("autoencoder", "conv_ae", IA, "input_shape", input_shape=(9, 9, 1))
zoo_case("autoencoder", "linear_ae", IA, "sigma", sigma=0)
zoo_case("autoencoder", "linear_ae", IA, "sigma", sigma=-1.0)
zoo_case("autoencoder", "denoising_ae", IA, "corruption", corruption="salt")
zoo_case("autoencoder", "denoising_ae", IA, "noise_sigma", corruption="gaussian_noise", noise_sigma=-0.1)
zoo_case("autoencoder", "denoising_ae", IA, "removal_rate", corruption="pixel_removal", removal_rate=1.5)
zoo_case("autoencoder", "denoising_ae", IA, "block_size", corruption="block", block_size=0)
zoo_case("autoencoder", "denoising_ae", IA, "blur_sigma", corruption="blur", blur_sigma=-1.0)
zoo_case("autoencoder", "dense_denoising_ae", IA, "input_shape", input_shape=(0,))
zoo_case("autoencoder", "dense_denoising_ae", IA, "noise_sigma", noise_sigma=-1.0)
zoo_case("autoencoder", "sparse_ae", IA, "penalty", penalty="l3")
zoo_case("autoencoder", "sparse_ae", IA, "rho", penalty="kl", rho=1.5)
zoo_case("autoencoder", "sparse_ae", IA, "k", k=0)
zoo_case("autoencoder", "sparse_ae", IA, "k", k=100)
zoo_case("autoencoder", "sparse_ae", IA, "sparsity_weight", penalty="l1", sparsity_weight=-1.0)
zoo_case("autoencoder", "sparse_ae", IA, "code_units", code_units=0)
zoo_case("autoencoder", "contractive_ae", IA, "contraction", contraction=-0.1)
zoo_case("autoencoder", "deep_contractive_ae", IA, "contraction", contraction=nan)
zoo_case("autoencoder", "stacked_ae", IA, "layer_sizes", layer_sizes=())
zoo_case("autoencoder", "stacked_ae", IA, "layer_sizes", layer_sizes=(8, 0))
zoo_case("autoencoder", "stacked_ae", IA, "dropout", dropout=1.5)

# VAE family
zoo_case("vae", "conv_vae", IA, "dense_units", dense_units=-3)
zoo_case("vae", "conv_vae", IA, "beta", beta=-1.0)
zoo_case("vae", "conv_vae", IA, "beta", beta=nan)
zoo_case("vae", "conv_vae", AT, "beta", beta="high")
zoo_case("vae", "conv_vae", IA, "latent_dim", latent_dim=0)
zoo_case("vae", "conv_vae", IA, "likelihood", likelihood="laplace")
zoo_case("vae", "conv_vae", AT, "seed", seed="abc")
zoo_case("vae", "conv_vae", IA, "learning_rate", learning_rate=-1e-3)
zoo_case("vae", "conv_vae", IA, "kernel_size", kernel_size=-1)
zoo_case("vae", "conv_vae", IA, "posterior_flow", posterior_flow="maf")
zoo_case("vae", "conv_vae", IA, "flow_steps", posterior_flow="iaf", flow_steps=0)
zoo_case("vae", "conv_vae", AT, "flow_steps", posterior_flow="iaf", flow_steps=2.5)
zoo_case("vae", "dense_vae", AT, "flow_hidden", posterior_flow="iaf", flow_hidden=64)
zoo_case("vae", "conv_vae", IA, "flow_context", posterior_flow="iaf", flow_context="h")
zoo_case("vae", "conv_vae", IA, "kl_warmup_steps", kl_warmup_steps=-1)
zoo_case("vae", "dense_vae", AT, "kl_warmup_steps", kl_warmup_steps=2.5)
zoo_case("vae", "dense_vae", IA, "hidden", hidden=(0,))
zoo_case("vae", "dense_vae", IA, "activation", activation="nope")
zoo_case("vae", "conv_cvae", IA, "num_classes", num_classes=1)
zoo_case("vae", "conv_cvae", AT, "num_classes", num_classes=2.5)

# VQ-VAE family
zoo_case("vqvae", "vq_vae", IA, "dead_code_threshold", ema=False, dead_code_threshold=5.0)
zoo_case("vqvae", "vq_vae", IA, "dead_code_threshold", dead_code_threshold=-1.0)
zoo_case("vqvae", "vq_vae", IA, "num_embeddings", num_embeddings=0)
zoo_case("vqvae", "vq_vae", IA, "embedding_dim", embedding_dim=0)
zoo_case("vqvae", "vq_vae", IA, "beta", beta=-0.25)
zoo_case("vqvae", "vq_vae", IA, "decay", decay=1.5)
zoo_case("vqvae", "vq_vae", IA, "decay", decay=-0.1)
zoo_case("vqvae", "vq_vae", IA, "residual_blocks", residual_blocks=-1)
zoo_case("vqvae", "vq_vae", IA, "prior_layers", prior_layers=0)
zoo_case("vqvae", "vq_vae", IA, "learning_rate", learning_rate=0.0)

# GAN family
zoo_case("gan", "dcgan", IA, "latent_dim", latent_dim=0)
zoo_case("gan", "dcgan", IA, "n_critic", n_critic=0)
zoo_case("gan", "dcgan", IA, "label_smoothing", label_smoothing=1.5)
zoo_case("gan", "dcgan", IA, "loss", loss="hinge")
zoo_case("gan", "dcgan", IA, "dropout", dropout=1.0)
zoo_case("gan", "dcgan", IA, "generator_norm", generator_norm="group")
zoo_case("gan", "dcgan", IA, "learning_rate", learning_rate=-2e-4)
zoo_case("gan", "wgan_gp", IA, "norm", norm="batch")
zoo_case("gan", "wgan_gp", IA, "gp_weight", gp_weight=-1.0)
zoo_case("gan", "conditional_gan", IA, "num_classes", num_classes=1)
zoo_case("gan", "dense_gan", IA, "hidden", hidden=())
zoo_case("gan", "dense_gan", IA, "input_shape", input_shape=(0,))
zoo_case("gan", "dense_wgan_gp", AT, "n_critic", n_critic=2.5)
zoo_case("gan", "dense_wgan", IA, "clip_value", clip_value=0.0)
zoo_case("gan", "wgan", IA, "clip_value", clip_value=-0.01)
zoo_case("gan", "wgan", AT, "n_critic", n_critic=2.5)

# flow family
zoo_case("flow", "realnvp_2d", IA, "num_couplings", num_couplings=0)
zoo_case("flow", "realnvp_2d", IA, "input_shape", input_shape=(1,))
zoo_case("flow", "realnvp_2d", IA, "hidden", hidden=(0,))
zoo_case("flow", "realnvp_2d", IA, "scale_clamp", scale_clamp=-1.0)
zoo_case("flow", "realnvp_2d", IA, "global_clipnorm", global_clipnorm=-1.0)
zoo_case("flow", "maf_2d", IA, "num_layers", num_layers=0)
zoo_case("flow", "realnvp_image", IA, "input_shape", input_shape=(7, 7, 1))
zoo_case("flow", "realnvp_image", IA, "num_bins", num_bins=1)
zoo_case("flow", "realnvp_image", IA, "logit_alpha", logit_alpha=0.6)
zoo_case("flow", "realnvp_image", IA, "kernel_size", kernel_size=0)

# U-Net family
zoo_case("unet", "unet", IA, "num_classes", num_classes=0)
zoo_case("unet", "unet", IA, "depth", depth=0)
zoo_case("unet", "unet", IA, "pooling", pooling="min")
zoo_case("unet", "unet", IA, "upsampling", upsampling="deconv")
zoo_case("unet", "unet", IA, "loss", loss="focal")
zoo_case("unet", "unet", IA, "dice_weight", dice_weight=-1.0)
zoo_case("unet", "unet", IA, "input_shape", input_shape=(10, 10, 1))
zoo_case("unet", "unet", IA, "base_filters", base_filters=0)
zoo_case("unet", "unet", IA, "dropout", dropout=-0.5)

# the registry
bad("zoo", "create('conv_vea')", IA, "conv_vea", lambda ctx: __import__("keras_ae").zoo.create("conv_vea"))
bad("zoo", "create(conv_vae, latnet_dim=2)", AT, ("latnet_dim", "latent_dim"),
    lambda ctx: __import__("keras_ae").zoo.create("conv_vae", latnet_dim=2))
bad("zoo", "describe('nope')", IA, "nope", lambda ctx: __import__("keras_ae").zoo.describe("nope"))
bad("zoo", "list_models('nofamily')", IA, "nofamily", lambda ctx: __import__("keras_ae").zoo.list_models("nofamily"))
bad("zoo", "create(123)", AT, "123", lambda ctx: __import__("keras_ae").zoo.create(123))


# ===== fit / evaluate: the data hook =================================================================================
def ae(ctx):
    return ctx.model("conv_ae")


def vae(ctx):
    return ctx.model("conv_vae")


def fit(model_fn, *args, **kwargs):
    return lambda ctx: model_fn(ctx).fit(*[a(ctx) if callable(a) else a for a in args], verbose=0,
                                         **{"epochs": 1, **kwargs})


X = lambda ctx: ctx.x  # noqa: E731
bad("autoencoder", "fit(x.tolist())", DATA, "`x`", fit(ae, lambda ctx: ctx.x.tolist()))
bad("autoencoder", "fit(dataset of dicts)", DATA, ("dict", "image"),
    fit(ae, lambda ctx: ctx.dataset({"image": ctx.x})))
bad("autoencoder", "fit(x, labels)", DATA, ("labels", "`y`"), fit(ae, X, lambda ctx: ctx.y))
bad("autoencoder", "fit(empty array)", DATA, ("`x`", "0 examples"), fit(ae, lambda ctx: ctx.x[:0]))
bad("autoencoder", "fit(epochs=-1)", IA, "epochs", fit(ae, X, epochs=-1))
bad("autoencoder", "fit(epochs=0)", IA, "epochs", fit(ae, X, epochs=0))
bad("autoencoder", "fit(epochs=2.5)", AT, "epochs", fit(ae, X, epochs=2.5))
bad("autoencoder", "fit(batch_size=0)", IA, "batch_size", fit(ae, X, batch_size=0))
bad("autoencoder", "fit(batch_size=-5)", IA, "batch_size", fit(ae, X, batch_size=-5))
bad("autoencoder", "fit(initial_epoch=-1)", IA, "initial_epoch", fit(ae, X, initial_epoch=-1))
bad("autoencoder", "fit(steps_per_epoch=0)", IA, "steps_per_epoch", fit(ae, X, steps_per_epoch=0))
bad("autoencoder", "fit(validation_split=1.5)", IA, "validation_split", fit(ae, X, validation_split=1.5))
bad("autoencoder", "fit(x * 255)", DATA, ("[0.0, 1.0]", "`x`"), fit(ae, lambda ctx: ctx.x * 255))
bad("autoencoder", "fit(x with NaN)", DATA, ("NaN", "`x`"), fit(ae, lambda ctx: np.where(ctx.x > 0.9, nan, ctx.x)))
bad("autoencoder", "fit(wrong image shape)", DATA, ("(batch, 8, 8, 1)", "`x`"),
    fit(ae, lambda ctx: np.zeros((4, 9, 9, 1), "float32")))
bad("autoencoder", "fit(unbatched dataset)", DATA, "unbatched",
    fit(ae, lambda ctx: ctx.dataset(ctx.x).unbatch()))
bad("autoencoder", "fit(dataset with NaN)", DATA, ("NaN", "dataset"),
    fit(ae, lambda ctx: ctx.dataset(np.where(ctx.x > 0.9, nan, ctx.x))))
bad("autoencoder", "fit(dataset of 0..255 pixels)", DATA, ("[0.0, 1.0]", "dataset"),
    fit(ae, lambda ctx: ctx.dataset(ctx.x * 255)))
bad("autoencoder", "fit(dataset of (images, labels))", DATA, ("labels",),
    fit(ae, lambda ctx: ctx.dataset(ctx.x, ctx.y)))
bad("autoencoder", "fit('images.npy')", DATA, ("`x`", "images.npy"), fit(ae, "images.npy"))
bad("autoencoder", "fit(None)", DATA, "`x`", fit(ae, None))
bad("autoencoder", "fit(validation_data=NaN)", DATA, ("NaN", "validation_data"),
    fit(ae, X, validation_data=np.full((2, 8, 8, 1), nan, "float32")))
bad("autoencoder", "evaluate(batch_size=0)", IA, "batch_size", lambda ctx: ae(ctx).evaluate(ctx.x, batch_size=0))
bad("autoencoder", "evaluate(x with inf)", DATA, ("inf", "`x`"),
    lambda ctx: ae(ctx).evaluate(np.where(ctx.x > 0.9, inf, ctx.x), verbose=0))
bad("autoencoder", "model(wrong shape) is not wrapped by Keras", DATA, "(batch, 8, 8, 1)",
    lambda ctx: ae(ctx)(np.zeros((2, 9, 9, 1), "float32")))

# ===== user methods ==================================================================================================
for fam, name in (("autoencoder", "conv_ae"), ("vae", "conv_vae"), ("vqvae", "vq_vae")):
    m = (lambda n: lambda ctx: ctx.model(n))(name)
    bad(fam, f"{name}.encode(NaN)", DATA, ("NaN", "`x`"), lambda ctx, m=m: m(ctx).encode(ctx.x * nan))
    bad(fam, f"{name}.encode(uint8 pixels)", DATA, ("[0.0, 1.0]", "`x`"),
        lambda ctx, m=m: m(ctx).encode((ctx.x * 255).astype("uint8")))
    bad(fam, f"{name}.encode(wrong shape)", DATA, ("(batch, 8, 8, 1)", "`x`"),
        lambda ctx, m=m: m(ctx).encode(np.zeros((2, 8, 8, 3), "float32")))
    bad(fam, f"{name}.encode(empty)", DATA, ("`x`", "0 examples"), lambda ctx, m=m: m(ctx).encode(ctx.x[:0]))
    bad(fam, f"{name}.encode(strings)", DATA, "`x`", lambda ctx, m=m: m(ctx).encode(np.array([["a"]])))
    bad(fam, f"{name}.encode(batch_size=0)", IA, "batch_size", lambda ctx, m=m: m(ctx).encode(ctx.x, batch_size=0))
    bad(fam, f"{name}.reconstruct(NaN)", DATA, ("NaN", "`x`"), lambda ctx, m=m: m(ctx).reconstruct(ctx.x * nan))
    bad(fam, f"{name}.reconstruct(0..255)", DATA, ("[0.0, 1.0]", "`x`"), lambda ctx, m=m: m(ctx).reconstruct(ctx.x * 255))
    bad(fam, f"{name}.interpolate(steps=2.7)", AT, "steps", lambda ctx, m=m: m(ctx).interpolate(ctx.x[0], ctx.x[1], 2.7))
    bad(fam, f"{name}.interpolate(steps=1)", IA, "steps", lambda ctx, m=m: m(ctx).interpolate(ctx.x[0], ctx.x[1], 1))
    bad(fam, f"{name}.interpolate(steps='3')", AT, "steps",
        lambda ctx, m=m: m(ctx).interpolate(ctx.x[0], ctx.x[1], steps="3"))
    bad(fam, f"{name}.interpolate(2 vs 3 images)", DATA, ("x_a", "x_b"),
        lambda ctx, m=m: m(ctx).interpolate(ctx.x[:2], ctx.x[:3]))
    bad(fam, f"{name}.fit(x, labels)", DATA, ("labels", "`y`"), fit(m, X, lambda ctx: ctx.y))

for fam, name in (("autoencoder", "conv_ae"), ("vae", "conv_vae")):
    m = (lambda n: lambda ctx: ctx.model(n))(name)
    bad(fam, f"{name}.decode([[nan, 0]])", DATA, ("NaN", "`z`"), lambda ctx, m=m: m(ctx).decode([[nan, 0.0]]))
    bad(fam, f"{name}.decode(inf)", DATA, ("inf", "`z`"), lambda ctx, m=m: m(ctx).decode(np.full((2, 2), inf)))
    bad(fam, f"{name}.decode(wrong width)", DATA, ("`z`", "(n, 2)"), lambda ctx, m=m: m(ctx).decode(np.zeros((2, 5))))

bad("vae", "conv_vae.sample(0)", IA, "`n`", lambda ctx: vae(ctx).sample(0))
bad("vae", "conv_vae.sample(-3)", IA, "`n`", lambda ctx: vae(ctx).sample(-3))
bad("vae", "conv_vae.sample(2.5)", AT, "`n`", lambda ctx: vae(ctx).sample(2.5))
bad("vae", "conv_vae.sample(10**9)", "InsufficientMemoryError", ("`n`", "memory"),
    lambda ctx: vae(ctx).sample(HUGE), isolate=True)
bad("vae", "conv_vae.sample(batch_size=0)", IA, "batch_size", lambda ctx: vae(ctx).sample(4, batch_size=0))
bad("vae", "conv_vae.encode(NaN, return_log_var)", DATA, "NaN",
    lambda ctx: vae(ctx).encode(ctx.x * nan, return_log_var=True))
bad("vae", "dense_vae.fit(x, labels)", DATA, ("`y`", "conv_cvae"), fit(lambda ctx: ctx.model("dense_vae"), X,
                                                                          lambda ctx: ctx.y))


def cvae(ctx):
    return ctx.model("conv_cvae")


bad("vae", "conv_cvae.fit(x) without labels", DATA, "labels", fit(cvae, X))
bad("vae", "conv_cvae.fit(labels out of range)", DATA, ("labels", "[0, 2]"), fit(cvae, X, lambda ctx: ctx.y + 5))
bad("vae", "conv_cvae.fit(float labels)", DATA, "labels", fit(cvae, X, lambda ctx: ctx.y + 0.5))
bad("vae", "conv_cvae.fit(15 labels for 16 images)", DATA, "labels", fit(cvae, X, lambda ctx: ctx.y[:15]))
bad("vae", "conv_cvae.sample without labels", DATA, "labels", lambda ctx: cvae(ctx).sample(4))
bad("vae", "conv_cvae.sample(labels=3)", DATA, ("labels", "[0, 2]"), lambda ctx: cvae(ctx).sample(4, labels=3))
bad("vae", "conv_cvae.sample(2 labels for 4)", DATA, "labels", lambda ctx: cvae(ctx).sample(4, labels=[0, 1]))
bad("vae", "conv_cvae.encode(labels=-1)", DATA, "labels", lambda ctx: cvae(ctx).encode(ctx.x, labels=-1))
bad("vae", "conv_cvae.decode(NaN codes)", DATA, ("NaN", "`z`"),
    lambda ctx: cvae(ctx).decode(np.full((2, 2), nan), labels=0))
bad("vae", "conv_cvae.sample(10**9)", "InsufficientMemoryError", ("`n`", "memory"),
    lambda ctx: cvae(ctx).sample(HUGE, labels=0), isolate=True)


def vq(ctx):
    return ctx.model("vq_vae")


bad("vqvae", "vq_vae.sample before fit_prior", "ModelStateError", "fit_prior", lambda ctx: vq(ctx).sample(2))
bad("vqvae", "vq_vae.sample_indices(temperature=0)", IA, "temperature",
    lambda ctx: vq(ctx).sample_indices(2, temperature=0))
bad("vqvae", "vq_vae.sample(temperature=nan)", IA, "temperature", lambda ctx: vq(ctx).sample(2, temperature=nan))
bad("vqvae", "vq_vae.sample(0)", IA, "`n`", lambda ctx: vq(ctx).sample(0))
bad("vqvae", "vq_vae.decode_indices(out of range)", DATA, ("indices", "[0, 7]"),
    lambda ctx: vq(ctx).decode_indices(np.full((1,) + vq(ctx).grid_shape, 99)))
bad("vqvae", "vq_vae.decode_indices(floats)", DATA, ("indices", "integers"),
    lambda ctx: vq(ctx).decode_indices(np.full((1,) + vq(ctx).grid_shape, 0.5)))
bad("vqvae", "vq_vae.decode(NaN codes)", DATA, ("NaN", "`z`"),
    lambda ctx: vq(ctx).decode(np.full((1,) + vq(ctx).grid_shape + (vq(ctx).embedding_dim,), nan)))
bad("vqvae", "vq_vae.fit_prior(epochs=0)", IA, "epochs", lambda ctx: vq(ctx).fit_prior(ctx.x, epochs=0))
bad("vqvae", "vq_vae.fit_prior(batch_size=0)", IA, "batch_size",
    lambda ctx: vq(ctx).fit_prior(ctx.x, epochs=1, batch_size=0))
bad("vqvae", "vq_vae.fit_prior(learning_rate=-1)", IA, "learning_rate",
    lambda ctx: vq(ctx).fit_prior(ctx.x, epochs=1, learning_rate=-1.0))
bad("vqvae", "vq_vae.fit_prior(NaN images)", DATA, "NaN", lambda ctx: vq(ctx).fit_prior(ctx.x * nan, epochs=1))
bad("vqvae", "vq_vae.sample(10**9)", "InsufficientMemoryError", ("`n`", "memory"),
    lambda ctx: vq(ctx).sample(HUGE), isolate=True)


def gan(ctx):
    return ctx.model("dcgan")


def cgan(ctx):
    return ctx.model("conditional_gan")


bad("gan", "dcgan.fit(x, labels)", DATA, ("`y`", "conditional_gan"), fit(gan, X, lambda ctx: ctx.y))
bad("gan", "dcgan.fit(validation_data=...)", IA, "validation_data", fit(gan, X, validation_data=np.zeros((2, 8, 8, 1))))
bad("gan", "dcgan.fit(NaN)", DATA, ("NaN", "`x`"), fit(gan, lambda ctx: ctx.x * nan))
bad("gan", "dcgan.fit(wrong shape)", DATA, "(batch, 8, 8, 1)", fit(gan, lambda ctx: np.zeros((4, 4, 4, 1), "float32")))
bad("gan", "dcgan.fit(epochs=0)", IA, "epochs", fit(gan, X, epochs=0))
bad("gan", "dcgan.sample(0)", IA, "`n`", lambda ctx: gan(ctx).sample(0))
bad("gan", "dcgan.sample(10**9)", "InsufficientMemoryError", ("`n`", "memory"),
    lambda ctx: gan(ctx).sample(HUGE), isolate=True)
bad("gan", "dcgan(z of the wrong width)", DATA, ("latent", "(batch, 4)"), lambda ctx: gan(ctx)(np.zeros((2, 3))))
bad("gan", "dcgan(z with NaN)", DATA, ("NaN", "`z`"), lambda ctx: gan(ctx)(np.full((2, 4), nan, "float32")))
bad("gan", "conditional_gan.sample without labels", DATA, "labels", lambda ctx: cgan(ctx).sample(4))
bad("gan", "conditional_gan.sample(labels=7)", DATA, ("labels", "[0, 2]"), lambda ctx: cgan(ctx).sample(4, labels=7))
bad("gan", "conditional_gan.fit(x) without labels", DATA, "labels", fit(cgan, X))
bad("gan", "dense_gan.fit(points with inf)", DATA, ("inf", "`x`"),
    fit(lambda ctx: ctx.model("dense_gan"), lambda ctx: np.where(ctx.points > 2, inf, ctx.points)))


def flow(ctx):
    return ctx.model("realnvp_2d")


bad("flow", "realnvp_2d.log_prob(NaN)", DATA, ("NaN", "`x`"), lambda ctx: flow(ctx).log_prob(ctx.points * nan))
bad("flow", "realnvp_2d.log_prob([[1e30, 0]])", "KerasAEWarning", ("log_prob", "1e+30"),
    lambda ctx: flow(ctx).log_prob(np.array([[1e30, 0.0]], "float32")), kind="warn")
bad("flow", "realnvp_2d.log_prob(3-D points)", DATA, ("(batch, 2)", "`x`"),
    lambda ctx: flow(ctx).log_prob(np.zeros((4, 3), "float32")))
bad("flow", "realnvp_2d.log_prob(one point)", DATA, "`x`", lambda ctx: flow(ctx).log_prob(np.zeros(2, "float32")))
bad("flow", "realnvp_2d.sample(temperature=nan)", IA, "temperature", lambda ctx: flow(ctx).sample(4, temperature=nan))
bad("flow", "realnvp_2d.sample(temperature=-1)", IA, "temperature", lambda ctx: flow(ctx).sample(4, temperature=-1.0))
bad("flow", "realnvp_2d.sample(temperature=inf)", IA, "temperature", lambda ctx: flow(ctx).sample(4, temperature=inf))
bad("flow", "realnvp_2d.sample(temperature='hot')", AT, "temperature",
    lambda ctx: flow(ctx).sample(4, temperature="hot"))
bad("flow", "realnvp_2d.sample(10**9)", "InsufficientMemoryError", ("`n`", "memory"),
    lambda ctx: flow(ctx).sample(HUGE), isolate=True)
bad("flow", "realnvp_2d.fit(x, labels)", DATA, ("`y`", "labels"),
    fit(flow, lambda ctx: ctx.points, lambda ctx: np.arange(32)))
bad("flow", "realnvp_2d.fit(NaN)", DATA, ("NaN", "`x`"), fit(flow, lambda ctx: ctx.points * nan))
bad("flow", "realnvp_2d.fit(batch_size=0)", IA, "batch_size", fit(flow, lambda ctx: ctx.points, batch_size=0))
bad("flow", "realnvp_2d.bits_per_dim(inf)", DATA, ("inf", "`x`"), lambda ctx: flow(ctx).bits_per_dim(ctx.points * inf))
bad("flow", "realnvp_image.log_prob(uint8)", DATA, ("[0, 1]", "`x`"),
    lambda ctx: ctx.model("realnvp_image").log_prob((ctx.x4 * 255).astype("uint8")))
bad("flow", "maf_2d.log_prob(list of strings)", DATA, "`x`", lambda ctx: ctx.model("maf_2d").log_prob([["a", "b"]]))


def unet(ctx):
    return ctx.model("unet")


bad("unet", "unet.fit(x) without masks", DATA, "masks", fit(unet, lambda ctx: ctx.x16))
bad("unet", "unet.fit(masks out of range)", DATA, ("mask", "[0, 2]"),
    fit(unet, lambda ctx: ctx.x16, lambda ctx: ctx.masks + 3))
bad("unet", "unet.fit(masks of the wrong shape)", DATA, "masks",
    fit(unet, lambda ctx: ctx.x16, lambda ctx: ctx.masks[:, :8]))
bad("unet", "unet.fit(negative weight map)", DATA, "weight map",
    fit(unet, lambda ctx: ctx.x16, lambda ctx: ctx.masks, sample_weight=-np.ones((4, 16, 16), "float32")))
bad("unet", "unet.predict_masks(NaN)", DATA, ("NaN", "`x`"), lambda ctx: unet(ctx).predict_masks(ctx.x16 * nan))
bad("unet", "unet.predict_masks(wrong shape)", DATA, ("(batch, 16, 16, 1)", "`x`"),
    lambda ctx: unet(ctx).predict_masks(np.zeros((2, 16, 16, 3), "float32")))
bad("unet", "unet.predict_masks(batch_size=0)", IA, "batch_size",
    lambda ctx: unet(ctx).predict_masks(ctx.x16, batch_size=0))
bad("unet", "unet.fit(epochs=-1)", IA, "epochs", fit(unet, lambda ctx: ctx.x16, lambda ctx: ctx.masks, epochs=-1))

bad("autoencoder", "GaussianLatentSampler.sample(10**9)", "InsufficientMemoryError", ("`n`", "memory"),
    lambda ctx: __import__("keras_ae").models.autoencoder.GaussianLatentSampler().fit(
        ae(ctx), ctx.x).sample(HUGE), isolate=True)
bad("autoencoder", "stacked_ae.pretrain(epochs=0)", IA, "epochs",
    lambda ctx: ctx.model("stacked_ae").pretrain(ctx.x, epochs=0))
bad("autoencoder", "stacked_ae.to_classifier(num_classes=1)", IA, "num_classes",
    lambda ctx: ctx.model("stacked_ae").to_classifier(1))


# ===== loading .keras files ==========================================================================================
def load(path_fn, **kwargs):
    return lambda ctx: __import__("keras_ae").load_model(path_fn(ctx), **kwargs)


MF = "ModelFileError"
bad("load", "load_model(missing file)", MF, "missing.keras", load(lambda ctx: ctx.path("missing.keras")))
bad("load", "load_model(empty file)", MF, ("empty.keras", "empty"), load(lambda ctx: ctx.path("empty.keras", b"")))
bad("load", "load_model(random bytes)", MF, ("random.keras", "not a .keras"),
    load(lambda ctx: ctx.path("random.keras", np.random.default_rng(1).bytes(4096))))
bad("load", "load_model(truncated)", MF, ("truncated.keras", "truncated"),
    load(lambda ctx: ctx.path("truncated.keras", pathlib.Path(ctx.saved()).read_bytes()[:3000])))
bad("load", "load_model(a folder)", MF, ("folder",), load(lambda ctx: (ctx.tmp / "folder").mkdir(exist_ok=True)
                                                          or str(ctx.tmp / "folder")))
bad("load", "load_model(config names GAN)", MF, ("other_class.keras", "GAN"),
    load(lambda ctx: ctx.edited("other_class.keras", lambda c: c.update(class_name="GAN",
                                                                         registered_name="keras_ae>GAN"))))
bad("load", "load_model(beta=-1 in config)", MF, ("bad_beta.keras", "beta"),
    load(lambda ctx: ctx.edited("bad_beta.keras", lambda c: c["config"].update(beta=-1.0))), absent=("kl_weight",))
bad("load", "load_model(unknown keras_ae class)", MF, ("unknown_class.keras", "NoSuchModel", "keras_ae"),
    load(lambda ctx: ctx.edited("unknown_class.keras", lambda c: c.update(class_name="NoSuchModel",
                                                                           registered_name="keras_ae>NoSuchModel"))))
bad("load", "load_model(no weights inside)", MF, ("no_weights.keras", "weights"),
    load(lambda ctx: _without_weights(ctx)))
bad("load", "load_model(path=123)", AT, "path", lambda ctx: __import__("keras_ae").load_model(123))
bad("load", "load_model(a .txt file)", MF, "notes.txt", load(lambda ctx: ctx.path("notes.txt", "hello")))


def _without_weights(ctx):
    src, dst = ctx.saved(), ctx.tmp / "no_weights.keras"
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for item in zin.infolist():
            if not item.filename.endswith(".h5"):
                zout.writestr(item, zin.read(item.filename))
    return str(dst)


# ===== data loading (done in issue 17a; the errors are now the package's own) ========================================
def data_call(fn_name, *args, **kwargs):
    return lambda ctx: getattr(__import__("keras_ae").data, fn_name)(*args, **kwargs)


bad("data", "data.load(digits, batch_size=0)", IA, "batch_size", data_call("load", "digits", batch_size=0))
bad("data", "data.load_numpy(digits, train[:150%])", IA, "150%", data_call("load_numpy", "digits", "train[:150%]"))
bad("data", "data.load_numpy(digits, 'train[')", IA, "train[", data_call("load_numpy", "digits", "train["))
bad("data", "data.load_idx(missing folder)", "DataFileNotFoundError", "/nonexistent/idx",
    data_call("load_idx", "/nonexistent/idx"))


# ===== the command line ==============================================================================================
def cli(*argv):
    return lambda ctx: ctx.cli(*[a(ctx) if callable(a) else a for a in argv])


def recipe(name, text):
    return lambda ctx: ctx.path(name, textwrap.dedent(text))


def out(name):
    return lambda ctx: ctx.run_dir(name)


DIGITS = 'model = "conv_vae"\nout = "unused"\n[model_args]\nfilters = [4, 8]\ndense_units = 8\n[data]\ndataset = "digits"\n'
TRAIN = ("train", "conv_vae", "--dataset", "digits", "--verbose", "0")
EXIT = {"argument": ("exit", 2), "recipe": ("exit", 3), "data": ("exit", 4), "unavailable": ("exit", 5),
        "model": ("exit", 6), "folder": ("exit", 7)}

bad("cli", "train --epochs 0", EXIT["argument"], "--epochs", cli(*TRAIN, "--epochs", "0", "--out", out("e0")))
bad("cli", "train --epochs -1", EXIT["argument"], "--epochs", cli(*TRAIN, "--epochs", "-1", "--out", out("em1")))
bad("cli", "train --batch-size 0", EXIT["argument"], "--batch-size",
    cli(*TRAIN, "--epochs", "1", "--batch-size", "0", "--out", out("b0")))
bad("cli", "train --batch-size -3", EXIT["argument"], "--batch-size",
    cli(*TRAIN, "--epochs", "1", "--batch-size", "-3", "--out", out("bm3")))
bad("cli", "train --seed -1", EXIT["argument"], "--seed", cli(*TRAIN, "--epochs", "1", "--seed", "-1", "--out", out("s")))
bad("cli", "train --verbose 7", EXIT["argument"], "--verbose", cli(*TRAIN, "--verbose", "7", "--out", out("v")))
bad("cli", "recipe epochs = -1", EXIT["recipe"], ("epochs", "neg_epochs.toml"),
    cli("train", recipe("neg_epochs.toml", DIGITS + "[train]\nepochs = -1\n"), "--out", out("r1"), "--verbose", "0"))
bad("cli", "recipe epochs = 0", EXIT["recipe"], ("epochs", "zero_epochs.toml"),
    cli("train", recipe("zero_epochs.toml", DIGITS + "[train]\nepochs = 0\n"), "--out", out("r2"), "--verbose", "0"))
bad("cli", "recipe batch_size = 0", EXIT["recipe"], ("batch_size", "zero_batch.toml"),
    cli("train", recipe("zero_batch.toml", DIGITS.replace('dataset = "digits"\n', 'dataset = "digits"\nbatch_size = 0\n')
                        + "[train]\nepochs = 1\n"), "--out", out("r3"), "--verbose", "0"))
bad("cli", "recipe seed = -5", EXIT["recipe"], ("seed", "neg_seed.toml"),
    cli("train", recipe("neg_seed.toml", DIGITS + "[train]\nepochs = 1\nseed = -5\n"), "--out", out("r4"), "--verbose",
        "0"))
bad("cli", "recipe learning_rate_schedule = 'linear'", EXIT["recipe"], ("learning_rate_schedule", "cosine", "lrs.toml"),
    cli("train", recipe("lrs.toml", DIGITS + '[train]\nepochs = 1\nlearning_rate_schedule = "linear"\n'), "--out",
        out("r8"), "--verbose", "0"))
bad("cli", "recipe model_args has an unknown argument", EXIT["recipe"], ("latnet_dim", "typo_arg.toml"),
    cli("train", recipe("typo_arg.toml", DIGITS.replace("[model_args]\n", "[model_args]\nlatnet_dim = 2\n")
                        + "[train]\nepochs = 1\n"), "--out", out("r5"), "--verbose", "0"))
bad("cli", "binary recipe", EXIT["recipe"], ("binary.toml", "UTF-8"),
    cli("train", lambda ctx: ctx.path("binary.toml", bytes(range(256)) * 4), "--out", out("r6")))
bad("cli", "missing recipe file", EXIT["recipe"], "nowhere.toml", cli("train", "nowhere.toml", "--out", out("r7")))
bad("cli", "train SOME_FOLDER/", EXIT["argument"], ("some_folder", "folder"),
    cli("train", lambda ctx: (ctx.tmp / "some_folder").mkdir(exist_ok=True) or str(ctx.tmp / "some_folder") + "/"))
bad("cli", "train --out naming a file", EXIT["folder"], ("a_file", "--out"),
    cli(*TRAIN, "--epochs", "1", "--out", lambda ctx: ctx.path("a_file", "x")))
bad("cli", "train --out under a file", EXIT["folder"], ("a_file2", "--out"),
    cli(*TRAIN, "--epochs", "1", "--out", lambda ctx: ctx.path("a_file2", "x") + "/run"))
bad("cli", "train unknown model", EXIT["argument"], "conv_vea", cli("train", "conv_vea", "--dataset", "digits"))
bad("cli", "train MODEL without --dataset", EXIT["argument"], "--dataset", cli("train", "conv_vae"))
bad("cli", "train --arg without =", EXIT["argument"], ("--arg", "latent_dim"),
    cli(*TRAIN, "--arg", "latent_dim", "--out", out("a1")))
bad("cli", "train --arg latnet_dim=2", EXIT["argument"], ("latnet_dim", "latent_dim"),
    cli(*TRAIN, "--arg", "latnet_dim=2", "--out", out("a2")))
bad("cli", "train --arg latent_dim=0", EXIT["argument"], "latent_dim",
    cli(*TRAIN, "--epochs", "1", "--arg", "latent_dim=0", "--out", out("a3")))
bad("cli", "train --dataset idx:/nonexistent", EXIT["unavailable"], "/nonexistent",
    cli("train", "conv_vae", "--dataset", "idx:/nonexistent", "--epochs", "1", "--out", out("d1")))
bad("cli", "train --train-split 'train[:150%]'", EXIT["argument"], "150%",
    cli(*TRAIN, "--epochs", "1", "--train-split", "train[:150%]", "--out", out("d2")))
bad("cli", "list --family nope", EXIT["argument"], "nope", cli("list", "--family", "nope"))
bad("cli", "describe nope", EXIT["argument"], "nope", cli("describe", "nope"))
bad("cli", "evaluate missing.keras", EXIT["model"], "missing.keras",
    cli("evaluate", lambda ctx: ctx.path("missing.keras"), "--dataset", "digits"))
bad("cli", "evaluate empty .keras", EXIT["model"], "empty2.keras",
    cli("evaluate", lambda ctx: ctx.path("empty2.keras", b""), "--dataset", "digits"))
bad("cli", "evaluate random-bytes .keras", EXIT["model"], "random2.keras",
    cli("evaluate", lambda ctx: ctx.path("random2.keras", np.random.default_rng(2).bytes(2048)), "--dataset", "digits"))
bad("cli", "evaluate a folder without model.keras", EXIT["model"], ("model.keras", "empty_run"),
    cli("evaluate", lambda ctx: (ctx.tmp / "empty_run").mkdir(exist_ok=True) or str(ctx.tmp / "empty_run")))
bad("cli", "evaluate a .txt file", EXIT["model"], "notes2.txt",
    cli("evaluate", lambda ctx: ctx.path("notes2.txt", "x"), "--dataset", "digits"))
bad("cli", "evaluate --k 0", EXIT["argument"], "--k", cli("evaluate", lambda ctx: ctx.saved(), "--dataset", "digits",
                                                         "--k", "0"))
bad("cli", "evaluate --out naming a file", EXIT["folder"], ("a_file3", "--out"),
    cli("evaluate", lambda ctx: ctx.saved(), "--dataset", "digits", "--out", lambda ctx: ctx.path("a_file3", "x")))
bad("cli", "tune missing job", EXIT["recipe"], "nojob.toml", cli("tune", "nojob.toml"))
bad("cli", "tune binary job", EXIT["recipe"], ("binary_job.toml", "UTF-8"),
    cli("tune", lambda ctx: ctx.path("binary_job.toml", bytes(range(256)) * 4)))
bad("cli", "tune --workers -1", EXIT["argument"], "--workers",
    cli("tune", str(ROOT / "tuning" / "conv_vae_latent_beta.toml"), "--workers", "-1"))
bad("cli", "tune --out naming a file", EXIT["folder"], ("a_file4", "--out"),
    cli("tune", str(ROOT / "tuning" / "conv_vae_latent_beta.toml"), "--out", lambda ctx: ctx.path("a_file4", "x")))


# ===== the tests =====================================================================================================
@pytest.fixture(scope="module")
def ctx(tmp_path_factory):
    return Context(tmp_path_factory.mktemp("bad_inputs"))


def test_the_sweep_is_large_and_covers_every_family():
    from keras_ae import zoo

    assert len(CASES) >= 150
    assert len({c.id for c in CASES}) == len(CASES), "case ids must be unique"
    families = {c.family for c in CASES}
    assert set(zoo.list_families()) <= families
    assert {"cli", "load"} <= families
    assert sum(c.family == "cli" for c in CASES) >= 30


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_gives_a_clear_error(case, ctx):
    verdict, detail = classify(case, ctx)
    assert verdict == "clear", detail


def test_errors_keep_the_builtin_a_caller_catches():
    from keras_ae import errors

    assert issubclass(errors.InvalidArgumentError, ValueError)
    assert issubclass(errors.ArgumentTypeError, ValueError) and issubclass(errors.ArgumentTypeError, TypeError)
    assert issubclass(errors.InvalidDataError, ValueError)
    assert issubclass(errors.ModelFileError, ValueError)
    assert issubclass(errors.RunFolderError, OSError)
    assert issubclass(errors.InsufficientMemoryError, MemoryError)
    assert issubclass(errors.DatasetUnavailableError, RuntimeError)
    assert issubclass(errors.DataFileNotFoundError, FileNotFoundError)
    from keras_ae import data, recipes, tuning

    assert data.DatasetUnavailableError is errors.DatasetUnavailableError
    assert recipes.RecipeError is errors.RecipeError and tuning.JobError is errors.JobError
    statuses = {cls.exit_status for cls in (errors.InvalidArgumentError, errors.RecipeError,
                                            errors.InvalidDataError, errors.DatasetUnavailableError,
                                            errors.ModelFileError, errors.RunFolderError,
                                            errors.InsufficientMemoryError)}
    assert len(statuses) == 7, "each kind of error has its own exit status"


def test_exit_statuses_are_documented_in_the_readme():
    from keras_ae import errors

    readme = (ROOT / "README.md").read_text()
    table = readme[readme.index("## Errors and exit statuses"):]
    for cls in (errors.InvalidArgumentError, errors.RecipeError, errors.JobError, errors.InvalidDataError,
                errors.DatasetUnavailableError, errors.ModelFileError, errors.RunFolderError,
                errors.InsufficientMemoryError):
        assert f"| {cls.exit_status} |" in table and cls.__name__ in table, cls.__name__


def test_sample_refuses_at_once_what_cannot_fit(ctx):
    import time

    from keras_ae.errors import InsufficientMemoryError

    start = time.perf_counter()
    with pytest.raises(InsufficientMemoryError, match=r"(?s)`n`.*GiB") as info:
        ctx.model("conv_vae").sample(HUGE)
    assert time.perf_counter() - start < 5
    assert "sample" in str(info.value)


def test_a_cli_permission_error_is_one_line_with_its_own_status(ctx, monkeypatch):
    """A PermissionError (root ignores file modes, so it is simulated) is one line naming the path, exit 7."""
    import builtins

    real_open = builtins.open
    target = ctx.path("locked.toml", DIGITS)

    def guarded(file, *args, **kwargs):
        if str(file) == target:
            raise PermissionError(13, "Permission denied", target)
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", guarded)
    status, stderr = ctx.cli("train", target)
    assert status == 7, stderr
    assert stderr.count("\n") == 1 and "locked.toml" in stderr and "Permission denied" in stderr


def test_a_read_only_out_folder_fails_before_data_or_training(ctx, monkeypatch):
    """The preflight writes a probe file in --out: a refused write is one line, exit 7, before any data is read."""
    import tempfile

    from keras_ae import data

    loaded = []
    monkeypatch.setattr(data, "load_numpy", lambda *a, **k: loaded.append(a))

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied", kwargs.get("dir"))

    monkeypatch.setattr(tempfile, "mkstemp", refuse)
    status, stderr = ctx.cli(*TRAIN, "--epochs", "1", "--out", ctx.run_dir("readonly"))
    assert status == 7 and "readonly" in stderr and "--out" in stderr, stderr
    assert not loaded


def _run(code, **env):
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                          env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", **env}, cwd=str(ROOT))


@pytest.mark.parametrize("debug", ["", "1"])
def test_console_script_prints_one_line_unless_debugging(ctx, debug):
    """Through a real process: a binary recipe is one line and exit 3; KERAS_AE_DEBUG=1 adds the traceback."""
    path = ctx.path("binary_sub.toml", bytes(range(256)) * 4)
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "KERAS_AE_DEBUG": debug}
    proc = subprocess.run([sys.executable, "-m", "keras_ae.cli", "train", path], capture_output=True, text=True,
                          env=env)
    assert proc.returncode == 3, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.startswith("keras-ae: error:")]
    assert len(lines) == 1 and "binary_sub.toml" in lines[0]
    assert ("Traceback" in proc.stderr) == bool(debug)


def test_plain_keras_load_without_import_names_the_package(ctx):
    """``keras.saving.load_model`` cannot know keras_ae's classes before ``import keras_ae`` (Keras imports only its
    own packages by module name); its message still names the package, through the registered name kept in every
    file, and ``keras_ae.load_model`` (the documented loader) works in a fresh process."""
    path = ctx.saved()
    proc = _run(f"""
        import keras
        try:
            keras.saving.load_model({path!r})
        except Exception as e:
            print("ERROR", type(e).__name__, "keras_ae>VAE" in str(e))
        import keras_ae
        print("LOADED", type(keras_ae.load_model({path!r})).__name__)
    """)
    assert "ERROR TypeError True" in proc.stdout, proc.stdout + proc.stderr
    assert "LOADED VAE" in proc.stdout
