"""The U-Net network (Ronneberger et al. 2015) with every pooling and upsampling mode of the lectures."""

__all__ = ["unet_network", "check_unet_input", "POOLINGS", "UPSAMPLINGS"]

import keras

from keras_ae.errors import InvalidArgumentError, check_choice, check_non_negative, check_positive_int
from keras_ae.layers.normalization import SyncBatchNormalization
from keras_ae.layers.pooling import MaxPoolingWithArgmax, MaxUnpooling
from keras_ae.networks import check_image_shape

POOLINGS = ("max", "avg", "stride")
UPSAMPLINGS = ("transpose", "bilinear", "nearest", "unpool")


def _conv_block(h, filters, batch_norm, residual, name):
    shortcut = h
    for i in range(2):
        h = keras.layers.Conv2D(filters, 3, padding="same", use_bias=not batch_norm, name=f"{name}_conv{i}")(h)
        if batch_norm:
            h = SyncBatchNormalization(name=f"{name}_bn{i}")(h)
        if i == 0 or not residual:
            h = keras.layers.Activation("relu", name=f"{name}_relu{i}")(h)
    if residual:
        if shortcut.shape[-1] != filters:
            shortcut = keras.layers.Conv2D(filters, 1, name=f"{name}_proj")(shortcut)
        h = keras.layers.Add(name=f"{name}_add")([h, shortcut])
        h = keras.layers.Activation("relu", name=f"{name}_relu1")(h)
    return h


def check_unet_input(input_shape, depth):
    """Validate ``input_shape`` (H, W, C) for a U-Net with ``depth`` halvings."""
    input_shape = check_image_shape(input_shape)
    depth = check_positive_int("depth", depth)
    h, w, c = input_shape
    factor = 2**depth
    if h % factor or w % factor:
        ok_h, ok_w = -(-h // factor) * factor, -(-w // factor) * factor
        raise InvalidArgumentError(
            f"U-Net input height and width must be divisible by 2**depth = {factor} (depth={depth}); received "
            f"input_shape {input_shape}. Pad or crop the images to e.g. ({ok_h}, {ok_w}, {c}), or lower `depth`."
        )
    return input_shape, depth


def unet_network(
    input_shape,
    num_classes,
    depth=4,
    base_filters=64,
    pooling="max",
    upsampling="transpose",
    batch_norm=True,
    dropout=0.0,
    residual=False,
    name="unet_network",
):
    """The functional U-Net from images to per-pixel logits ``(B, H, W, num_classes)``.

    Level ``l`` (0 = full resolution) has ``base_filters * 2**l`` filters and two 3x3 convolutions (with
    batch norm and a residual shortcut if asked). Downsampling: ``"max"`` / ``"avg"`` 2x2 pooling or a learned
    ``"stride"`` 3x3 stride-2 convolution. Upsampling: ``"transpose"`` (2x2 stride-2 transposed convolution),
    ``"bilinear"`` / ``"nearest"`` (resize, then a 2x2 convolution), or ``"unpool"`` (a 1x1 convolution to the
    skip's width, then max-unpooling at the positions stored by the encoder's max pooling; needs
    ``pooling="max"``). Dropout is applied at the end of the contracting path, as in the paper.
    """
    input_shape, depth = check_unet_input(input_shape, depth)
    num_classes = check_positive_int("num_classes", num_classes, minimum=2)
    base_filters = check_positive_int("base_filters", base_filters)
    check_choice("pooling", pooling, POOLINGS)
    check_choice("upsampling", upsampling, UPSAMPLINGS)
    dropout = check_non_negative("dropout", dropout)
    if dropout >= 1:
        raise InvalidArgumentError(f"`dropout` must be in [0, 1); received {dropout!r}.")
    if upsampling == "unpool" and pooling != "max":
        raise InvalidArgumentError(
            f"upsampling='unpool' puts values back at the positions of the encoder's max pooling, so it needs "
            f"pooling='max'; received pooling={pooling!r}. Use pooling='max', or another upsampling "
            f"({', '.join(repr(u) for u in UPSAMPLINGS if u != 'unpool')})."
        )
    inputs = keras.Input(input_shape, name="images")
    h = inputs
    skips, positions = [], []
    for level in range(depth):
        filters = base_filters * 2**level
        h = _conv_block(h, filters, batch_norm, residual, f"down{level}")
        skips.append(h)
        if pooling == "max" and upsampling == "unpool":
            h, pos = MaxPoolingWithArgmax(2, name=f"pool{level}")(h)
            positions.append(pos)
        elif pooling == "max":
            h = keras.layers.MaxPooling2D(2, name=f"pool{level}")(h)
        elif pooling == "avg":
            h = keras.layers.AveragePooling2D(2, name=f"pool{level}")(h)
        else:
            h = keras.layers.Conv2D(filters, 3, strides=2, padding="same", name=f"pool{level}")(h)
    h = _conv_block(h, base_filters * 2**depth, batch_norm, residual, "bottleneck")
    if dropout > 0:
        h = keras.layers.Dropout(dropout, name="bottleneck_dropout")(h)
    for level in reversed(range(depth)):
        filters = base_filters * 2**level
        if upsampling == "transpose":
            h = keras.layers.Conv2DTranspose(filters, 2, strides=2, name=f"up{level}")(h)
        elif upsampling == "unpool":
            h = keras.layers.Conv2D(filters, 1, name=f"up{level}_proj")(h)
            h = MaxUnpooling(2, name=f"up{level}")([h, positions[level]])
        else:
            h = keras.layers.UpSampling2D(2, interpolation=upsampling, name=f"up{level}_resize")(h)
            h = keras.layers.Conv2D(filters, 2, padding="same", name=f"up{level}")(h)
        h = keras.layers.Concatenate(name=f"skip{level}")([skips[level], h])
        h = _conv_block(h, filters, batch_norm, residual, f"upblock{level}")
    logits = keras.layers.Conv2D(num_classes, 1, dtype="float32", name="logits")(h)
    return keras.Model(inputs, logits, name=name)
