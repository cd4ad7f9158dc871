"""Variational autoencoders: dense, convolutional, and the conditional VAE."""

from keras_ae import networks
from keras_ae.errors import check_non_negative, check_positive_int
from keras_ae.models.vae import VAE, ConditionalVAE
from keras_ae.zoo.common import compile_model, image_and_latent
from keras_ae.zoo.registry import register

TINY = {"input_shape": (8, 8, 1), "latent_dim": 2}


@register("vae", test_kwargs=dict(TINY, hidden=(16,)))
def dense_vae(
    input_shape=(28, 28, 1),
    latent_dim=2,
    beta=1.0,
    hidden=(512, 256),
    activation="relu",
    likelihood="bernoulli",
    seed=None,
    optimizer=None,
    learning_rate=1e-3,
    name="dense_vae",
):
    """Dense (MLP) VAE with a Gaussian posterior; beta weights the KL (beta-VAE)."""
    input_shape, latent_dim = image_and_latent(input_shape, latent_dim)
    beta = check_non_negative("beta", beta)
    hidden = tuple(hidden)
    encoder = networks.mlp_encoder(input_shape, latent_dim, hidden, activation, gaussian=True)
    decoder = networks.mlp_decoder(input_shape, latent_dim, hidden[::-1], activation)
    model = VAE(encoder, decoder, beta=beta, likelihood=likelihood, seed=seed, name=name)
    return compile_model(model, optimizer, learning_rate)


@register("vae", test_kwargs=dict(TINY, filters=(4, 8), dense_units=8))
def conv_vae(
    input_shape=(28, 28, 1),
    latent_dim=2,
    beta=1.0,
    filters=(32, 64),
    kernel_size=3,
    dense_units=256,
    activation="relu",
    padding="zeros",
    downsampling="stride",
    upsampling="transpose",
    norm=None,
    block="plain",
    likelihood="bernoulli",
    seed=None,
    optimizer=None,
    learning_rate=1e-3,
    name="conv_vae",
):
    """Convolutional VAE (beta-VAE when beta != 1); the keras-io architecture with a wider dense layer.

    Architecture options (see :func:`keras_ae.networks.conv_encoder`): ``padding``, ``downsampling``,
    ``upsampling``, ``norm``, ``block``.
    """
    input_shape, latent_dim = image_and_latent(input_shape, latent_dim)
    enc_opts, dec_opts = networks.conv_options(padding, downsampling, upsampling, norm, block)
    beta = check_non_negative("beta", beta)
    encoder = networks.conv_encoder(input_shape, latent_dim, filters, kernel_size, dense_units, activation, gaussian=True,
                                    **enc_opts)
    decoder = networks.conv_decoder(input_shape, latent_dim, filters, kernel_size, dense_units, activation, **dec_opts)
    model = VAE(encoder, decoder, beta=beta, likelihood=likelihood, seed=seed, name=name)
    return compile_model(model, optimizer, learning_rate)


@register("vae", test_kwargs=dict(TINY, num_classes=3, filters=(4, 8), dense_units=8), test_data="images_labels")
def conv_cvae(
    input_shape=(28, 28, 1),
    num_classes=10,
    latent_dim=2,
    beta=1.0,
    filters=(32, 64),
    kernel_size=3,
    dense_units=256,
    activation="relu",
    padding="zeros",
    downsampling="stride",
    upsampling="transpose",
    norm=None,
    block="plain",
    likelihood="bernoulli",
    seed=None,
    optimizer=None,
    learning_rate=1e-3,
    name="conv_cvae",
):
    """Conditional convolutional VAE: trains on (images, labels) and samples a chosen class.

    Architecture options (see :func:`keras_ae.networks.conv_encoder`): ``padding``, ``downsampling``,
    ``upsampling``, ``norm``, ``block``.
    """
    input_shape, latent_dim = image_and_latent(input_shape, latent_dim)
    enc_opts, dec_opts = networks.conv_options(padding, downsampling, upsampling, norm, block)
    num_classes = check_positive_int("num_classes", num_classes, minimum=2)
    beta = check_non_negative("beta", beta)
    encoder = networks.conv_encoder(
        input_shape, latent_dim, filters, kernel_size, dense_units, activation, gaussian=True, condition_dim=num_classes, **enc_opts
    )
    decoder = networks.conv_decoder(
        input_shape, latent_dim, filters, kernel_size, dense_units, activation, condition_dim=num_classes, **dec_opts
    )
    model = ConditionalVAE(encoder, decoder, num_classes, beta=beta, likelihood=likelihood, seed=seed, name=name)
    return compile_model(model, optimizer, learning_rate)
