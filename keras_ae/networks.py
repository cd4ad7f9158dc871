"""Builders of functional encoders and decoders.

Every builder returns a plain functional ``keras.Model`` made of standard (or keras_ae-registered)
layers, so it serializes with ``safe_mode=True``. Decoders output the *raw* likelihood parameter
(logits for a Bernoulli likelihood, the mean for a Gaussian one); the model applies the link.
"""

import math

import keras

from keras_ae.errors import InvalidArgumentError, check_choice, check_positive_int
from keras_ae.layers.conditioning import LabelToImage
from keras_ae.layers.normalization import SyncBatchNormalization, WeightNormalization
from keras_ae.layers.padding import Padding2D

PADDINGS = ("zeros", "reflect", "circular")
DOWNSAMPLINGS = ("stride", "max", "avg")
UPSAMPLINGS = ("transpose", "nearest", "bilinear", "unpool")
NORMS = (None, "none", "batch", "layer", "weight")  # "none" = None, the spelling a TOML recipe can write
BLOCKS = ("plain", "residual")


def check_image_shape(input_shape):
    """Validate an ``(H, W, C)`` image shape and return it as a tuple of ints."""
    try:
        shape = tuple(int(s) for s in input_shape)
    except (TypeError, ValueError):
        raise InvalidArgumentError(
            f"`input_shape` must be (height, width, channels); received {input_shape!r}."
        ) from None
    if len(shape) != 3 or min(shape) < 1:
        raise InvalidArgumentError(
            f"`input_shape` must be (height, width, channels) with positive sizes; received {input_shape!r}."
        )
    return shape


def check_conv_stack(input_shape, num_downsamplings):
    """Raise unless ``num_downsamplings`` stride-2 stages reconstruct ``input_shape`` exactly."""
    h, w, _ = input_shape
    factor = 2**num_downsamplings
    if h % factor or w % factor:
        ok_h, ok_w = math.ceil(h / factor) * factor, math.ceil(w / factor) * factor
        raise InvalidArgumentError(
            f"input_shape {tuple(input_shape)} cannot be reconstructed exactly by a convolutional stack with "
            f"{num_downsamplings} stride-2 stages: height and width must be divisible by 2**{num_downsamplings}="
            f"{factor}. Use fewer `filters` or pad the images to ({ok_h}, {ok_w}, {input_shape[2]})."
        )
    return h // factor, w // factor


def _check_filters(filters):
    filters = tuple(filters)
    if not filters:
        raise InvalidArgumentError("`filters` must name at least one convolutional stage, e.g. (32, 64).")
    for f in filters:
        check_positive_int("filters entries", f)
    return filters


def check_options(padding="zeros", downsampling="stride", upsampling="transpose", norm=None, block="plain"):
    """Validate the convolutional builders' options (each error lists the valid values)."""
    check_choice("padding", padding, PADDINGS)
    check_choice("downsampling", downsampling, DOWNSAMPLINGS)
    check_choice("upsampling", upsampling, UPSAMPLINGS)
    check_choice("norm", norm, NORMS)
    check_choice("block", block, BLOCKS)
    if upsampling == "unpool":
        raise InvalidArgumentError(
            "upsampling='unpool' needs the argmax positions of a matching max-pooling layer, and a decoder that "
            "starts from a code has none (decode(z) and sample() could not run). Use 'transpose', 'nearest' or "
            "'bilinear' here; max-unpooling with stored positions is available in keras_ae.zoo.unet("
            "pooling='max', upsampling='unpool') and as keras_ae.layers.MaxPoolingWithArgmax / MaxUnpooling."
        )


def conv_options(padding="zeros", downsampling="stride", upsampling="transpose", norm=None, block="plain"):
    """Validate the options and split them into ``conv_encoder`` and ``conv_decoder`` keyword arguments."""
    check_options(padding, downsampling, upsampling, norm, block)
    shared = dict(padding=padding, norm=norm, block=block)
    return dict(shared, downsampling=downsampling), dict(shared, upsampling=upsampling)


def conv_unit(h, filters, kernel_size, strides, padding, norm, activation, name, transpose=False, use_bias=True):
    """[pad] -> conv (optionally weight-normalized) -> [batch/layer norm] -> activation."""
    conv_padding = "same"
    if padding != "zeros" and not transpose and kernel_size > 1:
        # k - 1 pixels in all keeps 'same' sizes for odd and even kernels at stride 1 and 2
        before, after = (kernel_size - 1) // 2, kernel_size - 1 - (kernel_size - 1) // 2
        pad = before if before == after else ((before, after), (before, after))
        h = Padding2D(pad, padding, name=f"{name}_pad")(h)
        conv_padding = "valid"
    cls = keras.layers.Conv2DTranspose if transpose else keras.layers.Conv2D
    separate = norm in ("batch", "layer")  # the activation comes after the normalization
    conv = cls(filters, kernel_size, strides=strides, padding=conv_padding,
               activation=None if separate else activation, use_bias=use_bias, name=name)
    if norm == "weight":
        conv = WeightNormalization(conv, name=f"{name}_wn")
    h = conv(h)
    if norm == "batch":
        h = SyncBatchNormalization(name=f"{name}_bn")(h)
    elif norm == "layer":
        h = keras.layers.LayerNormalization(name=f"{name}_ln")(h)
    if separate and activation is not None:
        h = keras.layers.Activation(activation, name=f"{name}_act")(h)
    return h


def residual_block(h, filters, kernel_size, padding, norm, activation, name):
    """``y = act(x + f(x))`` with ``f`` two convolutions of the same width."""
    r = conv_unit(h, filters, kernel_size, 1, padding, norm, activation, f"{name}_a")
    r = conv_unit(r, filters, kernel_size, 1, padding, norm, None, f"{name}_b")
    h = keras.layers.Add(name=f"{name}_add")([h, r])
    return keras.layers.Activation(activation, name=f"{name}_out")(h)


def down_stage(h, f, kernel_size, activation, padding, downsampling, norm, block, name):
    """One halving stage: a stride-2 conv unit (or a conv unit then max/avg pooling), then an optional
    residual block. With the defaults (zeros, stride, no norm, plain) it is one ``Conv2D`` named ``name``."""
    h = conv_unit(h, f, kernel_size, 2 if downsampling == "stride" else 1, padding, norm, activation, name)
    if downsampling == "max":
        h = keras.layers.MaxPooling2D(2, name=f"{name}_pool")(h)
    elif downsampling == "avg":
        h = keras.layers.AveragePooling2D(2, name=f"{name}_pool")(h)
    if block == "residual":
        h = residual_block(h, f, kernel_size, padding, norm, activation, f"{name}_res")
    return h


def up_stage(h, f, kernel_size, activation, padding, upsampling, norm, block, name):
    """One doubling stage: a transposed conv unit (or nearest/bilinear upsampling then a conv unit),
    then an optional residual block."""
    if upsampling == "transpose":
        h = conv_unit(h, f, kernel_size, 2, padding, norm, activation, name, transpose=True)
    else:
        h = keras.layers.UpSampling2D(2, interpolation=upsampling, name=f"{name}up_stage")(h)
        h = conv_unit(h, f, kernel_size, 1, padding, norm, activation, name)
    if block == "residual":
        h = residual_block(h, f, kernel_size, padding, norm, activation, f"{name}_res")
    return h


def add_condition(h, condition_dim, name="condition", plane=None, concat_name=None):
    """Append a conditioning input to the tensor ``h`` of a network under construction.

    Returns ``(condition_input, h)``: with ``condition_dim == 0`` there is no condition (``(None, h)``); otherwise a
    new ``keras.Input((condition_dim,))`` named ``name`` (a one-hot label) is concatenated to ``h`` on the last axis,
    as a vector, or, with ``plane`` (a layer name), as one extra image plane (:class:`~keras_ae.layers.LabelToImage`)
    for image tensors. Use :func:`network_inputs` for the model's input list.
    """
    if not condition_dim:
        return None, h
    condition = keras.Input((condition_dim,), name=name)
    c = condition
    if plane is not None:
        c = LabelToImage(int(h.shape[1]), int(h.shape[2]), 1, name=plane)(condition)
    return condition, keras.layers.Concatenate(axis=-1, name=concat_name)([h, c])


def network_inputs(first, condition=None):
    """The ``inputs`` of a functional network: ``first`` alone, or ``[first, condition]``."""
    return first if condition is None else [first, condition]


def _latent_head(h, latent_dim, gaussian):
    if gaussian:
        z_mean = keras.layers.Dense(latent_dim, name="z_mean")(h)
        z_log_var = keras.layers.Dense(latent_dim, name="z_log_var")(h)
        return [z_mean, z_log_var]
    return keras.layers.Dense(latent_dim, name="z")(h)


def conv_encoder(
    input_shape,
    latent_dim,
    filters=(32, 64),
    kernel_size=3,
    dense_units=16,
    activation="relu",
    gaussian=False,
    condition_dim=0,
    name="encoder",
    padding="zeros",
    downsampling="stride",
    norm=None,
    block="plain",
):
    """Downsampling convolution stages, then an optional dense layer, then the code (or mean and log-variance).

    Options (the lectures' menu): ``padding`` "zeros" | "reflect" | "circular"; ``downsampling`` "stride" |
    "max" | "avg"; ``norm`` None (or "none") | "batch" | "layer" | "weight" (weight normalization ``g v / ||v||``);
    ``block`` "plain" | "residual" (``y = f(x) + x`` after each stage).

    With ``condition_dim > 0`` the encoder takes a second input, a label vector, embedded as one extra
    image plane (:class:`~keras_ae.layers.LabelToImage`) and concatenated to the image channels.
    """
    input_shape = check_image_shape(input_shape)
    filters = _check_filters(filters)
    check_options(padding, downsampling, "transpose", norm, block)
    check_conv_stack(input_shape, len(filters))
    image = keras.Input(input_shape, name="image")
    condition, h = add_condition(image, condition_dim, plane="condition_plane")
    for i, f in enumerate(filters):
        h = down_stage(h, f, kernel_size, activation, padding, downsampling, norm, block, f"conv{i}")
    h = keras.layers.Flatten()(h)
    if dense_units:
        h = keras.layers.Dense(dense_units, activation=activation, name="dense")(h)
    outputs = _latent_head(h, latent_dim, gaussian)
    return keras.Model(network_inputs(image, condition), outputs, name=name)


def conv_decoder(
    output_shape,
    latent_dim,
    filters=(32, 64),
    kernel_size=3,
    dense_units=16,
    activation="relu",
    condition_dim=0,
    name="decoder",
    padding="zeros",
    upsampling="transpose",
    norm=None,
    block="plain",
):
    """The mirror of :func:`conv_encoder`: dense layers, reshape, upsampling stages with ``filters`` in
    reverse order, then a linear convolution to the image channels.

    ``upsampling``: "transpose" (stride-2 transposed convolution), "nearest" or "bilinear" (resize, then
    convolve); "unpool" is refused with an explanation (a decoder from a code has no pooling positions).
    """
    output_shape = check_image_shape(output_shape)
    filters = _check_filters(filters)
    check_options(padding, "stride", upsampling, norm, block)
    h0, w0 = check_conv_stack(output_shape, len(filters))
    z = keras.Input((latent_dim,), name="z")
    condition, h = add_condition(z, condition_dim)
    if dense_units:
        h = keras.layers.Dense(dense_units, activation=activation, name="dense")(h)
    h = keras.layers.Dense(h0 * w0 * filters[-1], activation=activation, name="project")(h)
    h = keras.layers.Reshape((h0, w0, filters[-1]))(h)
    for i, f in enumerate(reversed(filters)):
        h = up_stage(h, f, kernel_size, activation, padding, upsampling, norm, block, f"deconv{i}")
    out = keras.layers.Conv2DTranspose(
        output_shape[-1], kernel_size, padding="same", name="output"
    )(h)
    return keras.Model(network_inputs(z, condition), out, name=name)


def mlp_encoder(
    input_shape,
    latent_dim,
    hidden=(512, 256),
    activation="relu",
    gaussian=False,
    condition_dim=0,
    name="encoder",
):
    """Flatten, dense hidden layers, then the code (or mean and log-variance).

    With ``hidden=()`` the encoder is a single linear map (the PCA-equivalent linear autoencoder).
    """
    input_shape = tuple(int(s) for s in input_shape)
    x = keras.Input(input_shape, name="image" if len(input_shape) == 3 else "x")
    h = keras.layers.Flatten()(x) if len(input_shape) > 1 else x
    condition, h = add_condition(h, condition_dim)
    for i, units in enumerate(hidden):
        h = keras.layers.Dense(check_positive_int("hidden entries", units), activation=activation, name=f"dense{i}")(h)
    outputs = _latent_head(h, latent_dim, gaussian)
    return keras.Model(network_inputs(x, condition), outputs, name=name)


def mlp_decoder(
    output_shape,
    latent_dim,
    hidden=(256, 512),
    activation="relu",
    condition_dim=0,
    name="decoder",
):
    """Dense hidden layers, then a linear layer to every output feature, reshaped to ``output_shape``."""
    output_shape = tuple(int(s) for s in output_shape)
    z = keras.Input((latent_dim,), name="z")
    condition, h = add_condition(z, condition_dim)
    for i, units in enumerate(hidden):
        h = keras.layers.Dense(check_positive_int("hidden entries", units), activation=activation, name=f"dense{i}")(h)
    h = keras.layers.Dense(math.prod(output_shape), name="output")(h)
    if len(output_shape) > 1:
        h = keras.layers.Reshape(output_shape)(h)
    return keras.Model(network_inputs(z, condition), h, name=name)
