"""The autoencoder family in the zoo: dense, convolutional and linear (PCA-equivalent) autoencoders, and the lectures'
regularized ones: denoising, sparse, contractive and stacked."""

from keras_ae import networks
from keras_ae.errors import check_choice, check_fraction, check_non_negative, check_positive, check_positive_int
from keras_ae.layers.corruption import CORRUPTIONS, corruption_from_name
from keras_ae.layers.sparsity import ActivityL1, KLSparsity, KSparse
from keras_ae.models.autoencoder.autoencoder_model import Autoencoder
from keras_ae.models.autoencoder.autoencoder_networks import dense_code_encoder, dense_linear_decoder, stacked_networks
from keras_ae.models.autoencoder.autoencoder_regularized import ContractiveAutoencoder, DenoisingAutoencoder
from keras_ae.models.autoencoder.autoencoder_stacked import StackedAutoencoder
from keras_ae.zoo.common import compile_model, image_and_latent, renamed_arguments, vector_shape
from keras_ae.zoo.registry import register

TINY = {"input_shape": (8, 8, 1), "latent_dim": 2}
PENALTIES = ("l1", "kl", "ksparse")


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
    """Dense (MLP) autoencoder with a mirrored decoder.

    Args:
        input_shape: image shape ``(H, W, C)``.
        latent_dim: size of the code.
        hidden: encoder hidden layer sizes (the decoder mirrors them).
        activation: hidden activation.
        likelihood: ``"bernoulli"`` (data in [0, 1]) or ``"gaussian"``.
        optimizer: an optimizer (instance or name); Adam(learning_rate) by default.
        learning_rate: the default optimizer's learning rate.
        name: the model's name.

    Example:
        >>> model = keras_ae.zoo.dense_ae(latent_dim=32)
        >>> model.fit(keras_ae.data.load("mnist", split="train"), epochs=10)
        >>> codes = model.encode(x_test)  # (n, 32)
    """
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

    Args:
        input_shape: image shape ``(H, W, C)``; H and W divisible by ``2 ** len(filters)``.
        latent_dim: size of the code.
        filters: widths of the halving stages (the decoder mirrors them).
        kernel_size: convolution kernel size.
        dense_units: a dense layer between the convolutions and the code (0 for none).
        activation: hidden activation.
        padding, downsampling, upsampling, norm, block: the architecture options of
            :func:`keras_ae.networks.conv_encoder` / :func:`~keras_ae.networks.conv_decoder`.
        likelihood: ``"bernoulli"`` (data in [0, 1]) or ``"gaussian"``.
        optimizer: an optimizer (instance or name); Adam(learning_rate) by default.
        learning_rate: the default optimizer's learning rate.
        name: the model's name.

    Example:
        >>> model = keras_ae.zoo.conv_ae(latent_dim=16, norm="batch", block="residual")
        >>> model.fit(keras_ae.data.load("mnist", split="train"), epochs=10)
        >>> images = model.reconstruct(x_test)
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
    """Linear encoder and decoder with squared error: spans the principal subspace (PCA-equivalent).

    Args:
        input_shape: image shape ``(H, W, C)``.
        latent_dim: size of the code (the number of principal directions spanned).
        sigma: the Gaussian likelihood's standard deviation (scales the squared error).
        optimizer: an optimizer (instance or name); Adam(learning_rate) by default.
        learning_rate: the default optimizer's learning rate.
        name: the model's name.

    Example:
        >>> model = keras_ae.zoo.linear_ae(latent_dim=16)
        >>> model.fit(x_train, epochs=20, batch_size=128)
        >>> codes = model.encode(x_test)  # compare with sklearn PCA(16)
    """
    input_shape, latent_dim = image_and_latent(input_shape, latent_dim)
    encoder = networks.mlp_encoder(input_shape, latent_dim, hidden=())
    decoder = networks.mlp_decoder(input_shape, latent_dim, hidden=())
    model = Autoencoder(encoder, decoder, likelihood="gaussian", sigma=sigma, name=name)
    return compile_model(model, optimizer, learning_rate)


def make_corruption(corruption, noise_sigma=0.3, removal_rate=0.5, blur_sigma=2.0, block_size=8, seed=None):
    """A corruption layer from its name and the matching strength argument."""
    if not isinstance(corruption, str):
        return corruption_from_name(corruption)
    check_choice("corruption", corruption, tuple(CORRUPTIONS))
    # the strength of the chosen corruption, checked under the constructor's name (the layer calls it sigma/rate/size)
    argument, value, check = {
        "gaussian_noise": ("noise_sigma", noise_sigma, check_positive),
        "pixel_removal": ("removal_rate", removal_rate, check_fraction),
        "blur": ("blur_sigma", blur_sigma, check_positive),
        "block": ("block_size", block_size, check_positive_int),
    }[corruption]
    check(argument, value)
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

    Args:
        input_shape: image shape ``(H, W, C)``; H and W divisible by ``2 ** len(filters)``.
        latent_dim: size of the code.
        corruption: ``"gaussian_noise"``, ``"pixel_removal"``, ``"blur"`` or ``"block"``.
        noise_sigma, removal_rate, blur_sigma, block_size: the strength of the chosen corruption.
        filters, kernel_size, dense_units, activation: the convolutional stack (as :func:`conv_ae`).
        padding, downsampling, upsampling, norm, block: the architecture options of
            :func:`keras_ae.networks.conv_encoder`.
        likelihood: ``"bernoulli"`` (data in [0, 1]) or ``"gaussian"``.
        seed: seed of the corruption's random draws.
        optimizer: an optimizer (instance or name); Adam(learning_rate) by default.
        learning_rate: the default optimizer's learning rate.
        name: the model's name.

    Example:
        >>> model = keras_ae.zoo.denoising_ae(corruption="pixel_removal", removal_rate=0.5)
        >>> model.fit(x_train, epochs=20, batch_size=128)
        >>> restored = model.restore(model.corrupt(x_test, seed=0))
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


@register("autoencoder", test_kwargs=dict(input_shape=(2,), latent_dim=2, hidden=(8,)), test_data="points")
def dense_denoising_ae(
    input_shape=(2,),
    latent_dim=8,
    hidden=(64, 64),
    noise_sigma=0.2,
    activation="relu",
    seed=None,
    optimizer=None,
    learning_rate=1e-3,
    name="dense_denoising_ae",
    **legacy,
):
    """Dense denoising autoencoder for point clouds (the lectures' 2-D example): Gaussian noise, squared error.

    Args:
        input_shape: the shape of one point, ``(d,)``.
        latent_dim: size of the code.
        hidden: encoder hidden layer sizes (the decoder mirrors them).
        noise_sigma: standard deviation of the training noise.
        activation: hidden activation.
        seed: seed of the noise.
        optimizer: an optimizer (instance or name); Adam(learning_rate) by default.
        learning_rate: the default optimizer's learning rate.
        name: the model's name.

    Example:
        >>> from keras_ae.data.patches import noisy_manifold
        >>> model = keras_ae.zoo.dense_denoising_ae(noise_sigma=0.2)
        >>> model.fit(points, epochs=50, batch_size=128)
        >>> restored = model.reconstruct(noisy_points)
    """
    input_shape = vector_shape(renamed_arguments(dense_denoising_ae, legacy, input_shape=input_shape))
    latent_dim = check_positive_int("latent_dim", latent_dim)
    hidden = tuple(hidden)
    encoder = networks.mlp_encoder(input_shape, latent_dim, hidden, activation)
    decoder = networks.mlp_decoder(input_shape, latent_dim, hidden[::-1], activation)
    layer = make_corruption("gaussian_noise", noise_sigma=noise_sigma, seed=seed)
    model = DenoisingAutoencoder(encoder, decoder, layer, likelihood="gaussian", sigma=1.0, name=name)
    return compile_model(model, optimizer, learning_rate)


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
    weight_decay=0.0,
    name="sparse_ae",
):
    """Sparse (possibly overcomplete) one-layer autoencoder: L1 activity, KL toward rho, or k-sparse codes.

    The decoder is one linear layer, whose rows are the learned filters.

    Args:
        input_shape: image (or patch) shape ``(H, W, C)``.
        code_units: size of the code (may exceed the number of pixels: overcomplete).
        penalty: ``"kl"`` (KL of the mean activation toward ``rho``), ``"l1"`` (activity L1) or ``"ksparse"`` (keep
            the ``k`` largest units).
        l1: weight of the L1 penalty.
        rho, sparsity_weight: target mean activation and weight of the KL penalty.
        k: number of units kept by the k-sparse code.
        activation: code activation; sigmoid for ``kl`` (rates must lie in (0, 1)), relu for ``l1``, linear for
            ``ksparse`` by default.
        likelihood: ``"bernoulli"`` (data in [0, 1]) or ``"gaussian"``.
        optimizer: an optimizer (instance or name); Adam(learning_rate) by default, AdamW(learning_rate,
            weight_decay) when ``weight_decay > 0``.
        learning_rate: the default optimizer's learning rate.
        weight_decay: decoupled weight decay of the default optimizer (AdamW); it clears the unused random part of
            the filters (``zoo/sparse_ae_patches.toml``: 1e-2 and 0.05).
        name: the model's name.

    Example:
        >>> from keras_ae.data.patches import image_patches
        >>> model = keras_ae.zoo.sparse_ae(input_shape=(10, 10, 1), code_units=100, penalty="ksparse", k=10)
        >>> model.fit(image_patches(20000, size=10, seed=0), epochs=10)
        >>> filters = model.decoder.get_layer("filters").kernel  # (100, 100): one filter per code unit
    """
    input_shape = networks.check_image_shape(input_shape)
    code_units = check_positive_int("code_units", code_units)
    check_choice("penalty", penalty, PENALTIES)
    l1, sparsity_weight = check_non_negative("l1", l1), check_non_negative("sparsity_weight", sparsity_weight)
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
    weight_decay = check_non_negative("weight_decay", weight_decay)
    if optimizer is None and weight_decay > 0:
        import keras

        optimizer = keras.optimizers.AdamW(learning_rate, weight_decay=weight_decay)
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
    """Contractive autoencoder with a dense sigmoid encoder: the exact closed-form Jacobian penalty.

    Args:
        input_shape: image shape ``(H, W, C)``.
        latent_dim: size of the code.
        contraction: weight of the penalty ``||J_h(x)||_F^2``.
        likelihood: ``"bernoulli"`` (data in [0, 1]) or ``"gaussian"``.
        optimizer: an optimizer (instance or name); Adam(learning_rate) by default.
        learning_rate: the default optimizer's learning rate.
        name: the model's name.

    Example:
        >>> model = keras_ae.zoo.contractive_ae(latent_dim=64, contraction=0.1)
        >>> model.fit(x_train, epochs=10, batch_size=128)
        >>> penalty = model.jacobian_penalty(x_test[:10])
    """
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
    """Contractive autoencoder with a deep encoder: the Jacobian penalty by automatic differentiation.

    Args:
        input_shape: image shape ``(H, W, C)``.
        latent_dim: size of the code.
        hidden: encoder hidden layer sizes (the decoder mirrors them).
        contraction: weight of the penalty ``||J_h(x)||_F^2`` (one reverse pass per code unit).
        activation: hidden activation.
        likelihood: ``"bernoulli"`` (data in [0, 1]) or ``"gaussian"``.
        optimizer: an optimizer (instance or name); Adam(learning_rate) by default.
        learning_rate: the default optimizer's learning rate.
        name: the model's name.

    Example:
        >>> model = keras_ae.zoo.deep_contractive_ae(latent_dim=16, hidden=(256,))
        >>> model.fit(x_train, epochs=10, batch_size=128)
    """
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
    """Stacked dense autoencoder: greedy layer-wise ``pretrain(x)``, ``fit`` fine-tunes, ``to_classifier(n)``.

    Args:
        input_shape: image shape ``(H, W, C)``.
        layer_sizes: the encoder's dense layer sizes, one pretraining level each; the last is the code.
        activation: hidden activation.
        dropout: dropout rate before each encoder layer (regularizes fine-tuning).
        likelihood: ``"bernoulli"`` (data in [0, 1]) or ``"gaussian"``.
        optimizer: an optimizer (instance or name); Adam(learning_rate) by default.
        learning_rate: the default optimizer's learning rate.
        name: the model's name.

    Example:
        >>> model = keras_ae.zoo.stacked_ae(layer_sizes=(256, 64))
        >>> model.pretrain(x_train, epochs=5)         # greedy, level by level
        >>> model.fit(x_train, epochs=5)               # fine-tune the whole stack
        >>> classifier = model.to_classifier(10)       # compiled encoder + linear head
    """
    input_shape = networks.check_image_shape(input_shape)
    encoder, decoder = stacked_networks(input_shape, layer_sizes, activation, dropout)
    model = StackedAutoencoder(encoder, decoder, likelihood=likelihood, name=name)
    return compile_model(model, optimizer, learning_rate)
