"""Networks of the VQ-VAE: the convolutional encoder to a grid of ``embedding_dim``-vectors and its mirror decoder,
with the paper's residual blocks at the code resolution. (The PixelCNN prior is a shared layer module:
:func:`keras_ae.layers.gated_pixelcnn`.)"""

__all__ = ["vq_conv_encoder", "vq_conv_decoder"]

import keras

from keras_ae import networks
from keras_ae.errors import check_positive_int
from keras_ae.networks import check_conv_stack, check_image_shape


def _residual_block(h, filters, padding, norm, name):
    """The VQ-VAE paper's block at the code resolution: ``x + conv1x1(relu(conv3x3(relu(x))))``."""
    r = keras.layers.Activation("relu", name=f"{name}_relu0")(h)
    r = networks.conv_unit(r, filters, 3, 1, padding, norm, "relu", f"{name}_conv3")
    r = networks.conv_unit(r, int(h.shape[-1]), 1, 1, padding, norm, None, f"{name}_conv1")
    return keras.layers.Add(name=f"{name}_add")([h, r])


def vq_conv_encoder(input_shape, embedding_dim, filters=(32, 64), residual_blocks=2, name="encoder",
                    padding="zeros", downsampling="stride", norm=None, block="plain"):
    """Halving stages (``filters``; kernel 4 then 3, see :func:`keras_ae.networks.down_stage` for
    ``padding``/``downsampling``/``norm``/``block``), residual blocks at the code resolution, then a
    linear 1x1 convolution to ``embedding_dim`` channels: images -> ``(H / 2**len(filters), ..., embedding_dim)``."""
    input_shape = check_image_shape(input_shape)
    check_conv_stack(input_shape, len(filters))
    image = keras.Input(input_shape, name="image")
    h = image
    for i, f in enumerate(filters):
        h = networks.down_stage(h, check_positive_int("filters entries", f), 4 if i == 0 else 3, "relu", padding,
                                downsampling, norm, block, f"conv{i}")
    h = networks.conv_unit(h, filters[-1], 3, 1, padding, norm, None, "conv_mid")
    for i in range(residual_blocks):
        h = _residual_block(h, filters[-1], padding, norm, f"res{i}")
    h = keras.layers.Activation("relu", name="relu_out")(h)
    z = keras.layers.Conv2D(embedding_dim, 1, name="z")(h)
    return keras.Model(image, z, name=name)


def vq_conv_decoder(output_shape, embedding_dim, filters=(32, 64), residual_blocks=2, name="decoder",
                    padding="zeros", upsampling="transpose", norm=None, block="plain"):
    """The mirror of :func:`vq_conv_encoder`; outputs the raw likelihood parameter (logits)."""
    output_shape = check_image_shape(output_shape)
    h0, w0 = check_conv_stack(output_shape, len(filters))
    z = keras.Input((h0, w0, embedding_dim), name="codes")
    h = networks.conv_unit(z, filters[-1], 3, 1, padding, norm, None, "conv_in")
    for i in range(residual_blocks):
        h = _residual_block(h, filters[-1], padding, norm, f"res{i}")
    h = keras.layers.Activation("relu", name="relu_in")(h)
    for i, f in enumerate(reversed(filters)):
        h = networks.up_stage(h, f, 4, "relu", padding, upsampling, norm, block, f"deconv{i}")
    out = keras.layers.Conv2D(output_shape[-1], 3, padding="same", name="output")(h)
    return keras.Model(z, out, name=name)
