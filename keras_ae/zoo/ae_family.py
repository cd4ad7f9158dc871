"""The autoencoder family of the lectures: denoising, sparse, contractive and stacked autoencoders."""

import math

import keras

from keras_ae import networks
from keras_ae.errors import check_choice, check_positive_int
from keras_ae.layers.corruption import CORRUPTIONS, corruption_from_name
from keras_ae.layers.sparsity import ActivityL1, KLSparsity, KSparse
from keras_ae.models.ae_variants import ContractiveAutoencoder, DenoisingAutoencoder
from keras_ae.models.autoencoder import Autoencoder
from keras_ae.models.stacked import StackedAutoencoder, stacked_networks
from keras_ae.zoo.common import compile_model, image_and_latent
from keras_ae.zoo.registry import register

TINY = {"input_shape": (8, 8, 1), "latent_dim": 2}
PENALTIES = ("l1", "kl", "ksparse")


def make_corruption(corruption, noise_sigma=0.3, removal_rate=0.5, blur_sigma=2.0, block_size=8, seed=None):
    """A corruption layer from its name and the matching strength argument."""
    if not isinstance(corruption, str):
        return corruption_from_name(corruption)
    check_choice("corruption", corruption, tuple(CORRUPTIONS))
    kwargs = {
        "gaussian_noise": dict(sigma=noise_sigma),
        "pixel_removal": dict(rate=removal_rate),
        "blur": dict(sigma=blur_sigma),
        "block": dict(size=block_size),
    }[corruption]
    return corruption_from_name(corruption, seed=seed, name="corruption", **kwargs)


@register("autoencoder", test_kwargs=dict(TINY, filters=(4, 8), dense_units=8, corruption="block", block_size=3))
def denoising_ae(
    input_shape=(28, 28, 1),
    latent_dim=64,
    corruption="pixel_removal",
    noise_sigma=0.3,
    removal_rate=0.5,
    blur_sigma=2.0,
    block_size=8,
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
    name="denoising_ae",
):
    """Convolutional denoising autoencoder: corrupt in training (noise, pixel removal, blur, block), restore clean.

    Architecture options (see :func:`keras_ae.networks.conv_encoder`): ``padding``, ``downsampling``,
    ``upsampling``, ``norm``, ``block``.
    """
    input_shape, latent_dim = image_and_latent(input_shape, latent_dim)
    enc_opts, dec_opts = networks.conv_options(padding, downsampling, upsampling, norm, block)
    layer = make_corruption(corruption, noise_sigma, removal_rate, blur_sigma, block_size, seed)
    if hasattr(layer, "size") and layer.size > min(input_shape[:2]):
        layer.build((None,) + input_shape)  # raises the clear "block larger than the image" error now
    encoder = networks.conv_encoder(input_shape, latent_dim, filters, kernel_size, dense_units, activation, **enc_opts)
    decoder = networks.conv_decoder(input_shape, latent_dim, filters, kernel_size, dense_units, activation, **dec_opts)
    model = DenoisingAutoencoder(encoder, decoder, layer, likelihood=likelihood, name=name)
    return compile_model(model, optimizer, learning_rate)


@register("autoencoder", test_kwargs=dict(input_dim=2, latent_dim=2, hidden=(8,)))
def dense_denoising_ae(
    input_dim=2,
    latent_dim=8,
    hidden=(64, 64),
    noise_sigma=0.2,
    activation="relu",
    seed=None,
    optimizer=None,
    learning_rate=1e-3,
    name="dense_denoising_ae",
):
    """Dense denoising autoencoder for point clouds (the lectures' 2-D example): Gaussian noise, squared error."""
    input_dim = check_positive_int("input_dim", input_dim)
    latent_dim = check_positive_int("latent_dim", latent_dim)
    hidden = tuple(hidden)
    encoder = networks.mlp_encoder((input_dim,), latent_dim, hidden, activation)
    decoder = networks.mlp_decoder((input_dim,), latent_dim, hidden[::-1], activation)
    layer = make_corruption("gaussian_noise", noise_sigma=noise_sigma, seed=seed)
    model = DenoisingAutoencoder(encoder, decoder, layer, likelihood="gaussian", sigma=1.0, name=name)
    return compile_model(model, optimizer, learning_rate)


def dense_code_encoder(input_shape, units, activation, extra=None, name="encoder"):
    x = keras.Input(input_shape, name="image")
    h = keras.layers.Flatten(name="flatten")(x)
    h = keras.layers.Dense(units, activation=activation, name="code")(h)
    if extra is not None:
        h = extra(h)
    return keras.Model(x, h, name=name)


def dense_linear_decoder(output_shape, units, name="decoder"):
    """One linear layer from the code to every pixel: its kernel rows are the decoder filters."""
    z = keras.Input((units,), name="z")
    h = keras.layers.Dense(math.prod(output_shape), name="filters")(z)
    h = keras.layers.Reshape(output_shape, name="reshape")(h)
    return keras.Model(z, h, name=name)


@register("autoencoder", test_kwargs=dict(input_shape=(4, 4, 1), code_units=8, k=3, penalty="ksparse"))
def sparse_ae(
    input_shape=(28, 28, 1),
    code_units=100,
    penalty="kl",
    l1=1e-3,
    rho=0.05,
    sparsity_weight=3.0,
    k=25,
    activation=None,
    likelihood="bernoulli",
    optimizer=None,
    learning_rate=1e-3,
    name="sparse_ae",
):
    """Sparse (possibly overcomplete) one-layer autoencoder: L1 activity, KL toward rho, or k-sparse codes.

    ``activation`` defaults to sigmoid for ``kl`` (rates must lie in (0, 1)), relu for ``l1``, linear for
    ``ksparse``. The decoder is one linear layer, whose rows are the learned filters.
    """
    input_shape = networks.check_image_shape(input_shape)
    code_units = check_positive_int("code_units", code_units)
    check_choice("penalty", penalty, PENALTIES)
    if penalty == "kl":
        extra = KLSparsity(rho=rho, weight=sparsity_weight, name="sparsity")
    elif penalty == "l1":
        extra = ActivityL1(l1=l1, name="sparsity")
    else:
        extra = KSparse(k=k, name="sparsity")
        if extra.k > code_units:
            extra.build((None, code_units))  # raises the clear "k larger than the code" error
    if activation is None:
        activation = {"kl": "sigmoid", "l1": "relu", "ksparse": None}[penalty]
    encoder = dense_code_encoder(input_shape, code_units, activation, extra)
    decoder = dense_linear_decoder(input_shape, code_units)
    model = Autoencoder(encoder, decoder, likelihood=likelihood, name=name)
    return compile_model(model, optimizer, learning_rate)


@register("autoencoder", test_kwargs=TINY)
def contractive_ae(
    input_shape=(28, 28, 1),
    latent_dim=64,
    contraction=0.1,
    likelihood="bernoulli",
    optimizer=None,
    learning_rate=1e-3,
    name="contractive_ae",
):
    """Contractive autoencoder with a dense sigmoid encoder: the exact closed-form Jacobian penalty."""
    input_shape, latent_dim = image_and_latent(input_shape, latent_dim)
    encoder = dense_code_encoder(input_shape, latent_dim, "sigmoid")
    decoder = networks.mlp_decoder(input_shape, latent_dim, hidden=())
    model = ContractiveAutoencoder(encoder, decoder, contraction=contraction, likelihood=likelihood, name=name)
    return compile_model(model, optimizer, learning_rate)


@register("autoencoder", test_kwargs=dict(TINY, hidden=(8,)))
def deep_contractive_ae(
    input_shape=(28, 28, 1),
    latent_dim=16,
    hidden=(256,),
    contraction=0.01,
    activation="relu",
    likelihood="bernoulli",
    optimizer=None,
    learning_rate=1e-3,
    name="deep_contractive_ae",
):
    """Contractive autoencoder with a deep encoder: the Jacobian penalty by automatic differentiation."""
    input_shape, latent_dim = image_and_latent(input_shape, latent_dim)
    hidden = tuple(hidden)
    encoder = networks.mlp_encoder(input_shape, latent_dim, hidden, activation)
    decoder = networks.mlp_decoder(input_shape, latent_dim, hidden[::-1], activation)
    model = ContractiveAutoencoder(encoder, decoder, contraction=contraction, likelihood=likelihood, name=name)
    return compile_model(model, optimizer, learning_rate)


@register("autoencoder", test_kwargs=dict(input_shape=(8, 8, 1), layer_sizes=(8, 4)))
def stacked_ae(
    input_shape=(28, 28, 1),
    layer_sizes=(256, 64),
    activation="relu",
    dropout=0.0,
    likelihood="bernoulli",
    optimizer=None,
    learning_rate=1e-3,
    name="stacked_ae",
):
    """Stacked dense autoencoder: greedy layer-wise ``pretrain(x)``, ``fit`` fine-tunes, ``to_classifier(n)``."""
    input_shape = networks.check_image_shape(input_shape)
    encoder, decoder = stacked_networks(input_shape, layer_sizes, activation, dropout)
    model = StackedAutoencoder(encoder, decoder, likelihood=likelihood, name=name)
    return compile_model(model, optimizer, learning_rate)
