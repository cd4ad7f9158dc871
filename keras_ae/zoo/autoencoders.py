"""Deterministic autoencoders: dense, convolutional and linear (PCA-equivalent)."""

from keras_ae import networks
from keras_ae.models.autoencoder import Autoencoder
from keras_ae.zoo.common import compile_model, image_and_latent
from keras_ae.zoo.registry import register

TINY = {"input_shape": (8, 8, 1), "latent_dim": 2}


@register("autoencoder", test_kwargs=dict(TINY, hidden=(16,)))
def dense_ae(
    input_shape=(28, 28, 1),
    latent_dim=32,
    hidden=(512, 256),
    activation="relu",
    likelihood="bernoulli",
    optimizer=None,
    learning_rate=1e-3,
    name="dense_ae",
):
    """Dense (MLP) autoencoder with a mirrored decoder."""
    input_shape, latent_dim = image_and_latent(input_shape, latent_dim)
    hidden = tuple(hidden)
    encoder = networks.mlp_encoder(input_shape, latent_dim, hidden, activation)
    decoder = networks.mlp_decoder(input_shape, latent_dim, hidden[::-1], activation)
    return compile_model(Autoencoder(encoder, decoder, likelihood=likelihood, name=name), optimizer, learning_rate)


@register("autoencoder", test_kwargs=dict(TINY, filters=(4, 8), dense_units=8))
def conv_ae(
    input_shape=(28, 28, 1),
    latent_dim=16,
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
    optimizer=None,
    learning_rate=1e-3,
    name="conv_ae",
):
    """Convolutional autoencoder: stride-2 convolutions down, transposed convolutions up.

    Architecture options (see :func:`keras_ae.networks.conv_encoder`): ``padding``, ``downsampling``,
    ``upsampling``, ``norm``, ``block``.
    """
    input_shape, latent_dim = image_and_latent(input_shape, latent_dim)
    enc_opts, dec_opts = networks.conv_options(padding, downsampling, upsampling, norm, block)
    encoder = networks.conv_encoder(input_shape, latent_dim, filters, kernel_size, dense_units, activation, **enc_opts)
    decoder = networks.conv_decoder(input_shape, latent_dim, filters, kernel_size, dense_units, activation, **dec_opts)
    return compile_model(Autoencoder(encoder, decoder, likelihood=likelihood, name=name), optimizer, learning_rate)


@register("autoencoder", test_kwargs=TINY)
def linear_ae(
    input_shape=(28, 28, 1),
    latent_dim=16,
    sigma=0.1,
    optimizer=None,
    learning_rate=1e-3,
    name="linear_ae",
):
    """Linear encoder and decoder with squared error: spans the principal subspace (PCA-equivalent)."""
    input_shape, latent_dim = image_and_latent(input_shape, latent_dim)
    encoder = networks.mlp_encoder(input_shape, latent_dim, hidden=())
    decoder = networks.mlp_decoder(input_shape, latent_dim, hidden=())
    model = Autoencoder(encoder, decoder, likelihood="gaussian", sigma=sigma, name=name)
    return compile_model(model, optimizer, learning_rate)
