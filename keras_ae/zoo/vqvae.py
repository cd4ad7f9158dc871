"""VQ-VAE: a convolutional vector-quantized autoencoder with a gated PixelCNN prior."""

import keras

from keras_ae.errors import check_non_negative, check_positive_int
from keras_ae.models.vqvae import VQVAE
from keras_ae import networks
from keras_ae.networks import check_conv_stack, check_image_shape
from keras_ae.zoo.common import compile_model
from keras_ae.zoo.registry import register

TINY = dict(
    input_shape=(8, 8, 1),
    num_embeddings=8,
    embedding_dim=4,
    filters=(4, 8),
    residual_blocks=1,
    prior_filters=8,
    prior_layers=2,
    prior_kernel_size=3,
)


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


@register("vqvae", test_kwargs=TINY)
def vq_vae(
    input_shape=(28, 28, 1),
    num_embeddings=512,
    embedding_dim=16,
    filters=(32, 64),
    residual_blocks=2,
    beta=0.25,
    ema=True,
    decay=0.99,
    dead_code_threshold=1.0,
    likelihood="bernoulli",
    prior_filters=64,
    prior_layers=6,
    prior_kernel_size=3,
    padding="zeros",
    downsampling="stride",
    upsampling="transpose",
    norm=None,
    block="plain",
    seed=None,
    optimizer=None,
    learning_rate=1e-3,
    name="vq_vae",
):
    """Convolutional VQ-VAE (7x7x16 code grid for 28x28 images) with an EMA codebook and a gated PixelCNN prior.

    Architecture options (see :func:`keras_ae.networks.conv_encoder`): ``padding``, ``downsampling``,
    ``upsampling``, ``norm`` and ``block`` (residual blocks per halving/doubling stage, on top of the
    ``residual_blocks`` at the code resolution)."""
    enc_opts, dec_opts = networks.conv_options(padding, downsampling, upsampling, norm, block)
    input_shape = check_image_shape(input_shape)
    num_embeddings = check_positive_int("num_embeddings", num_embeddings, minimum=2)
    embedding_dim = check_positive_int("embedding_dim", embedding_dim)
    filters = tuple(filters)
    if not filters:
        raise ValueError("`filters` must name at least one convolutional stage, e.g. (32, 64).")
    residual_blocks = check_positive_int("residual_blocks", residual_blocks, minimum=0)
    beta = check_non_negative("beta", beta)
    if not ema:
        dead_code_threshold = 0.0  # re-initialisation of unused codes needs the EMA codebook
    encoder = vq_conv_encoder(input_shape, embedding_dim, filters, residual_blocks, **enc_opts)
    decoder = vq_conv_decoder(input_shape, embedding_dim, filters, residual_blocks, **dec_opts)
    model = VQVAE(
        encoder,
        decoder,
        num_embeddings=num_embeddings,
        embedding_dim=embedding_dim,
        beta=beta,
        ema=ema,
        decay=decay,
        dead_code_threshold=dead_code_threshold,
        likelihood=likelihood,
        prior_filters=prior_filters,
        prior_layers=prior_layers,
        prior_kernel_size=prior_kernel_size,
        seed=seed,
        name=name,
    )
    return compile_model(model, optimizer, learning_rate)
