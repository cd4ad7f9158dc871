"""Normalizing flows: RealNVP and MAF for 2-D densities, a multi-scale RealNVP for images."""

import keras

from keras_ae.errors import check_positive_int
from keras_ae.layers.flows import ActNorm, AffineCoupling, FactorOut, InvertibleLinear, MaskedAutoregressive, Squeeze
from keras_ae.models.flow import Flow
from keras_ae.testing import TestData
from keras_ae.zoo.common import compile_model
from keras_ae.zoo.registry import register


def flow_test_data(model, n, rng):
    """Tiny data for a flow: standard normal points, or quantized pixels in [0, 1] for image flows."""
    shape = (n,) + tuple(model.event_shape)
    if model.dequantize:
        x = (rng.integers(0, model.dequantize, size=shape) / (model.dequantize - 1)).astype("float32")
    else:
        x = rng.standard_normal(shape).astype("float32")
    return TestData(x, None, x)


def _adam(optimizer, learning_rate, global_clipnorm):
    """Adam with the global gradient norm clipped (flows on images have rare, destabilising gradient spikes)."""
    if optimizer is not None or global_clipnorm is None:
        return optimizer
    return keras.optimizers.Adam(learning_rate=learning_rate, global_clipnorm=float(global_clipnorm))


def _dim(dim):
    return check_positive_int("dim", dim, minimum=2)


@register("flow", test_kwargs=dict(num_couplings=2, hidden=(8,)), test_data=flow_test_data)
def realnvp_2d(
    dim=2,
    num_couplings=8,
    hidden=(64, 64),
    activation="relu",
    scale_clamp=3.0,
    seed=None,
    optimizer=None,
    learning_rate=2e-3,
    global_clipnorm=10.0,
    name="realnvp_2d",
):
    """RealNVP for low-dimensional densities: affine couplings with alternating half masks and MLP conditioners."""
    dim = _dim(dim)
    num_couplings = check_positive_int("num_couplings", num_couplings)
    flows = [
        AffineCoupling(mask="half", parity=i % 2, hidden=hidden, activation=activation, scale_clamp=scale_clamp,
                       name=f"coupling_{i}")
        for i in range(num_couplings)
    ]
    model = Flow(flows, event_shape=(dim,), seed=seed, name=name)
    return compile_model(model, _adam(optimizer, learning_rate, global_clipnorm), learning_rate)


@register("flow", test_kwargs=dict(num_layers=2, hidden=(8,)), test_data=flow_test_data)
def maf_2d(
    dim=2,
    num_layers=8,
    hidden=(64, 64),
    activation="relu",
    scale_clamp=3.0,
    seed=None,
    optimizer=None,
    learning_rate=2e-3,
    global_clipnorm=None,
    name="maf_2d",
):
    """Masked autoregressive flow (MAF): MADE affine layers with alternating variable order."""
    dim = _dim(dim)
    num_layers = check_positive_int("num_layers", num_layers)
    flows = [
        MaskedAutoregressive(hidden=hidden, reverse=bool(i % 2), activation=activation, scale_clamp=scale_clamp,
                             name=f"maf_{i}")
        for i in range(num_layers)
    ]
    model = Flow(flows, event_shape=(dim,), seed=seed, name=name)
    return compile_model(model, _adam(optimizer, learning_rate, global_clipnorm), learning_rate)


def _couplings(prefix, mask, n, hidden, kernel_size, actnorm, linear_seed=None):
    layers = []
    for i in range(n):
        if actnorm:
            layers.append(ActNorm(name=f"{prefix}_actnorm_{i}"))
        if linear_seed is not None:
            layers.append(InvertibleLinear(seed=linear_seed + i, name=f"{prefix}_conv1x1_{i}"))
        layers.append(AffineCoupling(mask=mask, parity=i % 2, hidden=hidden, kernel_size=kernel_size,
                                     name=f"{prefix}_{mask}_{i}"))
    return layers


def multiscale_realnvp_layers(image_shape, num_scales, couplings, final_couplings, hidden, kernel_size=3,
                              actnorm=True, conv1x1=False):
    """RealNVP's multi-scale architecture (Dinh et al. 2017) as a list of flow layers.

    Each scale: ``couplings`` checkerboard couplings, a squeeze, ``couplings`` channel couplings, then half the
    channels are factored out and the rest go to the next scale; the last stage has ``final_couplings``
    checkerboard couplings. ``conv1x1`` adds an invertible 1x1 convolution before each channel coupling.
    """
    h, w, _ = image_shape
    if h % (2 ** num_scales) or w % (2 ** num_scales):
        raise ValueError(f"{num_scales} scales squeeze the image {num_scales} times: height and width must be "
                         f"divisible by {2 ** num_scales}; received image_shape {tuple(image_shape)}.")

    def stage(level):
        p = f"s{level}"
        if level == num_scales:
            return _couplings(p, "checkerboard", final_couplings, hidden, kernel_size, actnorm)
        layers = _couplings(p, "checkerboard", couplings, hidden, kernel_size, actnorm)
        layers.append(Squeeze(name=f"{p}_squeeze"))
        layers += _couplings(p, "channel", couplings, hidden, kernel_size, actnorm,
                             linear_seed=100 * level if conv1x1 else None)
        layers.append(FactorOut(stage(level + 1), name=f"{p}_factor_out"))
        return layers

    return stage(0)


@register("flow", test_kwargs=dict(image_shape=(4, 4, 1), num_scales=1, couplings=1, final_couplings=1, hidden=(4,)),
          test_data=flow_test_data)
def realnvp_image(
    image_shape=(28, 28, 1),
    num_scales=2,
    couplings=3,
    final_couplings=3,
    hidden=(32, 32),
    kernel_size=3,
    actnorm=True,
    conv1x1=False,
    num_bins=256,
    logit_alpha=0.05,
    seed=None,
    optimizer=None,
    learning_rate=1e-3,
    global_clipnorm=100.0,
    name="realnvp_image",
):
    """Multi-scale RealNVP for images in [0, 1], trained on dequantized pixels in logit space (reports bits/dim).

    Each scale: checkerboard couplings, squeeze, channel couplings, factor out half the channels.
    """
    from keras_ae.networks import check_image_shape

    image_shape = check_image_shape(image_shape)
    num_scales = check_positive_int("num_scales", num_scales, minimum=0)
    flows = multiscale_realnvp_layers(image_shape, num_scales, check_positive_int("couplings", couplings),
                                      check_positive_int("final_couplings", final_couplings), hidden, kernel_size,
                                      actnorm=actnorm, conv1x1=conv1x1)
    model = Flow(flows, event_shape=image_shape, dequantize=num_bins, logit_alpha=logit_alpha, seed=seed, name=name)
    return compile_model(model, _adam(optimizer, learning_rate, global_clipnorm), learning_rate)


