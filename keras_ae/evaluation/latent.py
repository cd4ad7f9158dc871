"""Analyses of a trained latent space: traversals, 2-D maps, grids, IWAE NLL and linear probes.

Each function takes a trained model and numpy data and returns numpy arrays or floats (no plotting
here; the figures are in :mod:`keras_ae.plotting.latent_plots`). :func:`evaluate_latent` runs every analysis
that applies to a model and optionally writes the figures and ``metrics.json``.

Which models: anything with an encoder, i.e. :class:`~keras_ae.models.autoencoder.Autoencoder` and its
subclasses (denoising, contractive, stacked, VAE, beta-VAE, conditional VAE, VQ-VAE). The IWAE bound needs
a posterior (:class:`~keras_ae.models.vae.VAE`); traversals need a vector code (not the VQ-VAE's
code grid); samples need ``model.sample`` (VAEs, and a VQ-VAE after ``fit_prior``).
"""

__all__ = [
    "latent_codes",
    "latent_traversal",
    "latent_map",
    "reconstruction_grid",
    "sample_grid",
    "interpolation_rows",
    "iwae_nll",
    "active_units",
    "linear_probe_accuracy",
    "evaluate_latent",
]

import json
import math
import os
import time
import weakref

import numpy as np

from keras_ae.data import checks
from keras_ae.errors import InvalidArgumentError, InvalidDataError, check_choice, check_positive_int
from keras_ae.ops.arrays import to_numpy
from keras_ae.ops.backend_call import graph_function

ENCODER_ANALYSES = "latent traversals, latent maps, reconstructions, interpolations, IWAE NLL and linear probes"


# ----- model inspection -------------------------------------------------------------------------
def _is_vae(model):
    from keras_ae.models.vae import VAE

    return isinstance(model, VAE)


def _needs_labels(model):
    return bool(getattr(model, "needs_labels", False))


def _check_encoder_model(model, what="this analysis"):
    from keras_ae.models.autoencoder import Autoencoder

    if not isinstance(model, Autoencoder) or not hasattr(model, "encode"):
        raise InvalidArgumentError(
            f"{what} needs a model with an encoder (an autoencoder, VAE or VQ-VAE: keras_ae.models.Autoencoder "
            f"and subclasses); received {type(model).__name__}, which has none. GANs and flows have no encoder: "
            f"{ENCODER_ANALYSES} do not apply to them (use their `sample` and the flow's `log_prob` instead)."
        )
    return model


def _check_images(model, x, what="x"):
    if x is None:
        raise InvalidDataError(f"`{what}` is required: a numpy array of images of shape (n, "
                               f"{', '.join(map(str, model.input_shape))}).")
    x = np.asarray(x, dtype="float32")
    checks.check_images_array(x, model.input_shape, model.value_range, what=f"images `{what}`",
                              range_hint=model.value_range_hint)
    if len(x) == 0:
        raise InvalidDataError(f"`{what}` holds no images (0 examples).")
    return x


def _check_labels(model, y, n, what="y", required=None):
    required = _needs_labels(model) if required is None else required
    if y is None:
        if required:
            k = getattr(model, "num_classes", None)
            if k is None:
                raise InvalidDataError(f"Labels `{what}` are required here (integer class labels, one per image).")
            raise InvalidDataError(f"{type(model).__name__} needs labels `{what}` (integers in [0, {k - 1}]) "
                                   f"for its encoder and decoder.")
        return None
    k = getattr(model, "num_classes", None)
    if k is None:  # labels only used for colouring / probes: any integers
        y = np.asarray(y)
        if y.ndim != 1 or len(y) != n:
            raise InvalidDataError(f"`{what}` must be integer labels of shape ({n},); received shape {y.shape}.")
        return y
    return checks.check_labels_array(y, k, n)


def _vector_latent(model):
    return _is_vae(model) or np.ndim(model.encode(np.zeros((1,) + tuple(model.input_shape), "float32"),
                                                  *(() if not _needs_labels(model) else (np.zeros(1, "int32"),)))) == 2


# ----- codes ------------------------------------------------------------------------------------
def latent_codes(model, x, y=None, batch_size=256):
    """The code of each image, flattened to ``(n, latent_size)``: the posterior mean for VAEs, the encoder
    output for autoencoders, the continuous (pre-quantization) code grid for a VQ-VAE. ``y`` are the labels of
    a conditional model."""
    _check_encoder_model(model, "latent_codes")
    x = _check_images(model, x)
    y = _check_labels(model, y, len(x))
    codes = model.encode(x, y, batch_size=batch_size) if _needs_labels(model) else model.encode(x, batch_size=batch_size)
    codes = np.asarray(codes, dtype="float32")
    return codes.reshape(len(x), -1)


def active_units(model, x, y=None, threshold=0.01):
    """Burda et al.'s active units of a VAE: dimensions whose posterior mean varies across ``x``
    (``Var_x E_q[z_d] > threshold``). Returns ``(count, per-dimension variances)``."""
    codes = latent_codes(model, x, y)
    var = codes.astype("float64").var(axis=0)
    return int(np.sum(var > threshold)), var


# ----- traversal --------------------------------------------------------------------------------
def latent_traversal(model, x, dims=None, values=np.linspace(-3, 3, 9), y=None, index=0):
    """Vary one code dimension at a time around the code of one image and decode.

    Args:
        model: a trained autoencoder or VAE with a vector code (not a VQ-VAE's code grid).
        x: images; the traversal is centred on the code of ``x[index]`` (the posterior mean for VAEs).
        dims: code dimensions to vary (default: all).
        values: offsets added to the chosen dimension. For VAEs they are in units of the prior's standard
            deviation, which is 1, so ``values`` are offsets in z (``z_d = mu_d + v``; the default sweeps +-3
            prior std, the beta-VAE picture). For plain autoencoders the code has no prior scale: when ``x``
            holds more than one image each offset is multiplied by that dimension's standard deviation over the
            codes of ``x`` (so +-3 means +-3 std of the data's codes); with one image the offsets are used as
            they are.
        y: labels for a conditional model (the traversal is decoded with ``y[index]``).

    Returns images of shape ``(len(dims), len(values), H, W, C)``.
    """
    _check_encoder_model(model, "latent_traversal")
    x = _check_images(model, x)
    y = _check_labels(model, y, len(x))
    if not 0 <= int(index) < len(x):
        raise InvalidArgumentError(f"`index` must lie in [0, {len(x) - 1}]; received {index!r}.")
    codes = latent_codes(model, x, y)
    if not _vector_latent(model):
        raise InvalidArgumentError(
            f"latent_traversal needs a vector code; {type(model).__name__}'s code is a grid "
            f"(a VQ-VAE's codes are discrete: use interpolation_rows or the code indices instead).")
    latent_dim = codes.shape[1]
    dims = list(range(latent_dim)) if dims is None else [int(d) for d in np.atleast_1d(dims)]
    if not dims or any(not 0 <= d < latent_dim for d in dims):
        raise InvalidArgumentError(f"`dims` must be code dimensions in [0, {latent_dim - 1}]; received {dims!r}.")
    values = np.asarray(values, dtype="float32").reshape(-1)
    if values.size == 0 or not np.all(np.isfinite(values)):
        raise InvalidArgumentError(f"`values` must be a non-empty array of finite numbers; received {values!r}.")
    scale = np.ones(latent_dim, dtype="float32")
    if not _is_vae(model) and len(x) > 1:
        scale = codes.std(axis=0).astype("float32")
    z0 = codes[int(index)]
    z = np.repeat(z0[None, None, :], len(dims), axis=0).repeat(len(values), axis=1)
    for i, d in enumerate(dims):
        z[i, :, d] = z0[d] + values * scale[d]
    flat = z.reshape(-1, latent_dim)
    if _needs_labels(model):
        images = model.decode(flat, np.full(len(flat), int(y[int(index)]), dtype="int32"))
    else:
        images = model.decode(flat)
    return np.asarray(images).reshape((len(dims), len(values)) + images.shape[1:])


# ----- 2-D map ----------------------------------------------------------------------------------
def latent_map(codes, method="pca", seed=0):
    """2-D coordinates of ``codes`` (n, d) for a scatter plot.

    ``method="pca"``: the first two principal components (scikit-learn PCA); ``"tsne"``: scikit-learn t-SNE
    (slower; seeded). Any latent size works: a 2-D code is returned unchanged (identity: its axes are already
    z[0], z[1]), a 1-D code gets a zero second column. Codes of more dimensions are flattened first.
    """
    method = check_choice("method", method, ("pca", "tsne"))
    codes = np.asarray(codes, dtype="float32")
    if codes.ndim < 2 or len(codes) == 0:
        raise InvalidDataError(f"`codes` must have shape (n, latent_dim) with n >= 1; received {codes.shape}.")
    codes = codes.reshape(len(codes), -1)
    if not np.all(np.isfinite(codes)):
        raise InvalidDataError("`codes` contain NaN or inf values.")
    d = codes.shape[1]
    if d == 1:
        return np.concatenate([codes, np.zeros_like(codes)], axis=1)
    if d == 2:
        return codes.copy()
    if len(codes) < 3:
        raise InvalidDataError(f"A {method} map needs at least 3 codes; received {len(codes)}.")
    if method == "pca":
        from sklearn.decomposition import PCA

        return PCA(n_components=2, random_state=seed).fit_transform(codes).astype("float32")
    from sklearn.manifold import TSNE

    perplexity = float(min(30.0, (len(codes) - 1) / 3.0))
    return TSNE(n_components=2, perplexity=perplexity, init="pca", random_state=seed).fit_transform(codes).astype(
        "float32")


# ----- grids ------------------------------------------------------------------------------------
def reconstruction_grid(model, x, n=10, y=None):
    """``(2, n, H, W, C)``: the first ``n`` images of ``x`` over their (deterministic) reconstructions."""
    _check_encoder_model(model, "reconstruction_grid")
    n = check_positive_int("n", n)
    x = _check_images(model, x)[:n]
    y = _check_labels(model, None if y is None else np.asarray(y)[:n], len(x))
    rec = model.reconstruct(x, y) if _needs_labels(model) else model.reconstruct(x)
    return np.stack([x, np.asarray(rec, dtype="float32")])


def sample_grid(model, n=64, seed=0, labels=None):
    """``n`` samples from the model's prior (``model.sample``); for conditional models ``labels``
    defaults to the classes in turn (``n // num_classes`` of each, class-major)."""
    n = check_positive_int("n", n)
    if not hasattr(model, "sample"):
        raise InvalidArgumentError("sample_grid needs a model with `sample` (VAEs, GANs, flows, a VQ-VAE with a "
                                   "fitted "
                                   f"prior); {type(model).__name__} has none.")
    if _needs_labels(model):
        if labels is None:
            k = model.num_classes
            labels = np.repeat(np.arange(k), max(1, n // k))[:n]
            n = len(labels)
        return np.asarray(model.sample(n, labels=labels, seed=seed))
    return np.asarray(model.sample(n, seed=seed))


def interpolation_rows(model, pairs, steps=8, labels=None):
    """Decoded codes on the line between pairs of images: ``(n_pairs, steps, H, W, C)``.

    ``pairs`` is ``(x_a, x_b)`` with two arrays of n images each, or a list of ``(image_a, image_b)``.
    Uses the model's own ``interpolate`` (posterior means for VAEs, quantized codes for a VQ-VAE);
    ``labels`` (of the ``x_a`` images) for conditional models.
    """
    _check_encoder_model(model, "interpolation_rows")
    steps = check_positive_int("steps", steps, minimum=2)
    batch_ndim = len(model.input_shape) + 1
    if (isinstance(pairs, (list, tuple)) and len(pairs) == 2 and hasattr(pairs[0], "shape")
            and len(pairs[0].shape) == batch_ndim):
        x_a, x_b = pairs
    else:
        try:
            x_a = np.stack([np.asarray(p[0]) for p in pairs])
            x_b = np.stack([np.asarray(p[1]) for p in pairs])
        except (TypeError, IndexError, ValueError):
            raise InvalidDataError("`pairs` must be (x_a, x_b) (two arrays of n images) or a list of (image_a, "
                                   "image_b) "
                                   "pairs.") from None
    x_a, x_b = _check_images(model, x_a, "x_a"), _check_images(model, x_b, "x_b")
    if len(x_a) != len(x_b):
        raise InvalidDataError(f"x_a and x_b must hold the same number of images; received {len(x_a)} and {len(x_b)}.")
    labels = _check_labels(model, labels, len(x_a), "labels")
    if _needs_labels(model):
        rows = model.interpolate(x_a, x_b, steps=steps, labels_a=labels)
    else:
        rows = model.interpolate(x_a, x_b, steps=steps)
    return np.asarray(rows).reshape((len(x_a), steps) + tuple(model.input_shape))


# ----- IWAE ---------------------------------------------------------------------------------------
def _logsumexp(a, axis=-1):
    m = np.max(a, axis=axis, keepdims=True)
    return np.squeeze(m, axis) + np.log(np.sum(np.exp(a - m), axis=axis))


_LOG_PX = weakref.WeakKeyDictionary()  # model -> its compiled log p(x | z)
_POSTERIOR = weakref.WeakKeyDictionary()  # model -> its compiled posterior draw


def _log_px_fn(model):
    """``(z, images, labels) -> log p(x | z)`` per row (:meth:`~keras_ae.models.Autoencoder.log_likelihood`),
    compiled as a graph on TensorFlow (faster for the k decodes); one compiled function per model."""
    fn = _LOG_PX.get(model)
    if fn is None:
        fn = _LOG_PX[model] = graph_function(lambda z, images, labels: model.log_likelihood(images, z, labels))
    return fn


def _posterior_fn(model):
    """``(images, eps, labels) -> (z, log q(z|x))`` (:meth:`~keras_ae.models.VAE.posterior_sample`: the Gaussian
    posterior, or the Gaussian and the flows of a flow posterior), compiled like :func:`_log_px_fn`."""
    fn = _POSTERIOR.get(model)
    if fn is None:
        fn = _POSTERIOR[model] = graph_function(lambda images, eps, labels: model.posterior_sample(images, eps, labels))
    return fn


def _log_weights(model, images, labels, rng, k, rows):
    """``(b, k)`` float64 log importance weights ``log p(x|z) + log p(z) - log q(z|x)``, ``z ~ q(z|x)`` (the model's
    own posterior: :meth:`~keras_ae.models.VAE.posterior_sample`), decoding at most ``rows`` codes per decoder call."""
    from keras import ops

    from keras_ae import losses

    b = len(images)
    log_px_fn, posterior_fn = _log_px_fn(model), _posterior_fn(model)
    d = model.latent_dim
    chunk = max(1, rows // b)
    out = np.empty((b, k), dtype="float64")
    images_t = ops.convert_to_tensor(images)
    labels_t = None if labels is None else ops.convert_to_tensor(labels)
    for start in range(0, k, chunk):
        kc = min(chunk, k - start)
        eps = rng.standard_normal((b, kc, d)).astype("float32")
        z, log_qz = posterior_fn(images_t, ops.convert_to_tensor(eps), labels_t)
        zf = ops.reshape(z, (b * kc, d))
        rep = np.repeat(images, kc, axis=0)
        labels_rep = None if labels is None else ops.convert_to_tensor(np.repeat(labels, kc, axis=0))
        log_px = to_numpy(log_px_fn(zf, ops.convert_to_tensor(rep), labels_rep)).astype("float64")
        log_pz = to_numpy(losses.gaussian_log_prob(zf)).astype("float64")
        out[:, start : start + kc] = (log_px + log_pz).reshape(b, kc) - to_numpy(log_qz).astype("float64")
    return out


def iwae_nll(model, x, k=1000, y=None, batch_size=4096, seed=0, return_per_example=False, progress=False):
    """The importance-weighted bound (Burda et al. 2016) on ``-log p(x)`` of a VAE, in nats per example.

    ``IWAE_k(x) = -log (1/k) sum_i p(x|z_i) p(z_i) / q(z_i|x)`` with ``z_1..z_k ~ q(z|x)`` (the model's own
    posterior, :meth:`~keras_ae.models.VAE.posterior_sample`: the Gaussian, or the flowed density of a flow
    posterior; prior N(0, I) and likelihood: :meth:`reconstruction_nll`, so Bernoulli on logits or
    Gaussian with the model's sigma). The negative ELBO is computed from the same samples,
    ``-(1/k) sum_i log w_i`` (the k = 1 estimate averaged over the k draws); by Jensen
    ``IWAE_k <= neg_elbo`` for every example, with equality at k = 1. ``IWAE_k`` decreases towards
    ``-log p(x)`` as k grows (in expectation).

    The log-weights are float64 once decoded (the log-likelihood terms are float32, as in training);
    the log-sum-exp is float64. At most ``batch_size`` codes are decoded per call, so memory stays bounded
    for any k. ``seed`` fixes the draws (numpy), so the result is the same on every backend.
    ``y`` are the labels of a :class:`~keras_ae.models.vae.ConditionalVAE`.

    Returns ``{"iwae_nll", "neg_elbo", "k", "n"}`` (means over examples); with ``return_per_example`` also
    ``"iwae_nll_per_example"`` and ``"neg_elbo_per_example"`` (numpy arrays). ``progress=True`` shows a progress
    bar on stderr (:class:`keras_ae.evaluation.progress.Progress`).
    """
    if not _is_vae(model):
        raise InvalidArgumentError(
            f"iwae_nll needs a VAE (keras_ae.models.VAE or ConditionalVAE: a posterior q(z|x) and a prior); "
            f"received {type(model).__name__}. For other models use the linear probe and reconstructions; flows "
            f"have an exact `log_prob`.")
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise InvalidArgumentError(f"`k` (importance samples per example) must be an integer >= 1; received {k!r}.")
    k = int(k)
    batch_size = check_positive_int("batch_size", batch_size)
    x = _check_images(model, x)
    y = _check_labels(model, y, len(x))
    rng = np.random.default_rng(seed)
    per_image = max(1, batch_size // k)
    iwae, elbo = [], []
    from keras_ae.evaluation.progress import Progress

    with Progress(len(x), f"IWAE k={k}", enabled=progress) as bar:
        for start in range(0, len(x), per_image):
            images = x[start : start + per_image]
            labels = None if y is None else y[start : start + per_image]
            log_w = _log_weights(model, images, labels, rng, k, batch_size)
            iwae.append(-(_logsumexp(log_w, axis=1) - math.log(k)))
            elbo.append(-log_w.mean(axis=1))
            bar.update(len(images))
    iwae, elbo = np.concatenate(iwae), np.concatenate(elbo)
    result = {"iwae_nll": float(iwae.mean()), "neg_elbo": float(elbo.mean()), "k": k, "n": int(len(x))}
    if return_per_example:
        result.update(iwae_nll_per_example=iwae, neg_elbo_per_example=elbo)
    return result


# ----- probe ------------------------------------------------------------------------------------
def linear_probe_accuracy(model, x_train, y_train, x_test, y_test, C=1.0, max_iter=2000):
    """Test accuracy of a logistic regression on the model's codes (:func:`latent_codes`, flattened: VQ-VAE code
    grids included) fit on ``(x_train, y_train)``; see :func:`keras_ae.evaluation.probes.linear_probe`.
    For conditional models the labels are also fed to the encoder."""
    from keras_ae.evaluation.probes import linear_probe

    _check_encoder_model(model, "linear_probe_accuracy")
    x_train, x_test = _check_images(model, x_train, "x_train"), _check_images(model, x_test, "x_test")
    y_train = _check_labels(model, y_train, len(x_train), "y_train", required=True)
    y_test = _check_labels(model, y_test, len(x_test), "y_test", required=True)
    a = latent_codes(model, x_train, y_train if _needs_labels(model) else None)
    b = latent_codes(model, x_test, y_test if _needs_labels(model) else None)
    return linear_probe(a, y_train, b, y_test, C=C, max_iter=max_iter)


# ----- everything at once ------------------------------------------------------------------------
def evaluate_latent(model, x_test, y_test=None, x_train=None, y_train=None, k=1000, out=None, seed=0,
                    map_method="pca", n_images=10, traversal_dims=10, metrics_file="metrics.json", progress=False):
    """Run every analysis that applies to ``model``; return a dict of numbers.

    * every encoder model: reconstruction MSE, the 2-D map of the codes, reconstructions, interpolations
      (between ``x_test[:n]`` and ``x_test[n:2n]``), and the linear-probe accuracy when ``y_test``, ``x_train``
      and ``y_train`` are given;
    * vector codes: latent traversals (of the ``traversal_dims`` dimensions with the largest variance of the
      codes over ``x_test``, i.e. the most used ones);
    * VAEs: ``iwae_nll`` and ``neg_elbo`` from the same ``k`` samples per test image, their difference, and the
      number of active units;
    * models with ``sample`` (VAEs, a VQ-VAE with a fitted prior): a samples grid.

    With ``out`` the figures (``latent_*.png``) and the numbers (``metrics_file``) are written there.
    Raises ``ValueError`` for models without an encoder (GANs, flows) and bad arguments.
    """
    _check_encoder_model(model, "evaluate_latent")
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise InvalidDataError(f"`k` (importance samples per example) must be an integer >= 1; received {k!r}.")
    x_test = _check_images(model, x_test, "x_test")
    y_test = _check_labels(model, y_test, len(x_test), "y_test")
    if (x_train is None) != (y_train is None):
        raise InvalidArgumentError("Pass both `x_train` and `y_train` (for the linear probe), or neither.")
    n_images = check_positive_int("n_images", n_images)
    cond = y_test if _needs_labels(model) else None
    start = time.perf_counter()
    m = {"model": type(model).__name__, "name": model.name, "n_test": int(len(x_test)), "seed": int(seed)}
    codes = latent_codes(model, x_test, cond)
    m["code_size"] = int(codes.shape[1])
    rec = np.asarray(model.reconstruct(x_test, cond) if cond is not None else model.reconstruct(x_test))
    m["reconstruction_mse"] = float(np.mean((rec - x_test) ** 2))
    figures = {}
    points = latent_map(codes, map_method, seed) if len(codes) >= 3 or codes.shape[1] <= 2 else None
    n = min(n_images, len(x_test))
    figures["reconstructions"] = reconstruction_grid(model, x_test, n, cond)
    if len(x_test) >= 2:
        h = min(n, len(x_test) // 2)
        figures["interpolation"] = interpolation_rows(model, (x_test[:h], x_test[h : 2 * h]), 8,
                                                      None if cond is None else cond[:h])
    vector = _vector_latent(model)
    if vector:
        var = codes.astype("float64").var(axis=0)
        dims = [int(d) for d in np.argsort(-var)[: int(traversal_dims)]]
        figures["traversal"] = (latent_traversal(model, x_test, dims, y=cond), dims)
    if _is_vae(model):
        m["latent_dim"] = int(model.latent_dim)
        m["active_units"] = int(np.sum(codes.astype("float64").var(axis=0) > 0.01))
        t = time.perf_counter()
        r = iwae_nll(model, x_test, k=int(k), y=cond, seed=seed, progress=progress)
        m.update(iwae_k=int(k), iwae_nll=r["iwae_nll"], neg_elbo=r["neg_elbo"],
                 neg_elbo_minus_iwae=r["neg_elbo"] - r["iwae_nll"], iwae_seconds=round(time.perf_counter() - t, 2))
    can_sample = hasattr(model, "sample") and getattr(model, "is_prior_fitted", True)
    if can_sample:
        figures["samples"] = sample_grid(model, 64 if not _needs_labels(model) else 8 * model.num_classes, seed)
    if x_train is not None:
        m["linear_probe_accuracy"] = linear_probe_accuracy(model, x_train, y_train, x_test,
                                                          _check_labels(model, y_test, len(x_test), required=True))
        m["probe_train_examples"] = int(len(x_train))
    m["seconds"] = round(time.perf_counter() - start, 2)
    if out is not None:
        from keras_ae.plotting import latent_plots as pl

        os.makedirs(out, exist_ok=True)
        written = []

        def draw(name, plot, *args, **kwargs):
            plot(*args, path=os.path.join(out, name), **kwargs)
            written.append(name)

        title = f"{model.name}: codes ({m['code_size']}-D, {map_method.upper() if m['code_size'] > 2 else 'as is'})"
        if points is not None:
            draw("latent_map.png", pl.plot_latent_map, points, y_test, title=title,
                 axis_labels=_axis_labels(m["code_size"], map_method))
        draw("latent_reconstructions.png", pl.plot_reconstruction_grid, figures["reconstructions"])
        if "interpolation" in figures:
            draw("latent_interpolation.png", pl.plot_interpolation_rows, figures["interpolation"])
        if "traversal" in figures:
            images, dims = figures["traversal"]
            draw("latent_traversal.png", pl.plot_traversal, images, dims, np.linspace(-3, 3, 9),
                 unit="prior std" if _is_vae(model) else "code std")
        if "samples" in figures:
            draw("latent_samples.png", pl.plot_sample_grid, figures["samples"], ncols=8)
        m["figures"] = written
        with open(os.path.join(out, metrics_file), "w") as f:
            json.dump(m, f, indent=1)
    return m


def _axis_labels(size, method):
    if size == 1:
        return ("z[0]", "")
    if size == 2:
        return ("z[0]", "z[1]")
    return ("PC 1", "PC 2") if method == "pca" else ("t-SNE 1", "t-SNE 2")
