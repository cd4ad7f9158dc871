"""The VAE family in the zoo: dense, convolutional, and the conditional VAE (beta-VAE when ``beta != 1``)."""

from keras_ae import networks
from keras_ae.errors import check_non_negative, check_positive_int
from keras_ae.models.vae.vae_model import VAE, ConditionalVAE
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
    posterior_flow=None,
    flow_steps=4,
    flow_hidden=(128, 128),
    flow_context="gaussian",
    kl_warmup_steps=0,
    optimizer=None,
    learning_rate=1e-3,
    name="dense_vae",
):
    """Dense (MLP) VAE with a Gaussian posterior; beta weights the KL (beta-VAE).

    Args:
        input_shape: image shape ``(H, W, C)``.
        latent_dim: size of the latent code.
        beta: weight of the KL term (``neg_elbo`` is always reported with beta = 1).
        hidden: encoder hidden layer sizes (the decoder mirrors them).
        activation: hidden activation.
        likelihood: ``"bernoulli"`` (data in [0, 1]) or ``"gaussian"``.
        seed: seed of the reparameterization noise.
        posterior_flow: ``None`` (Gaussian posterior), ``"planar"`` (planar flows, Rezende & Mohamed 2015) or
            ``"iaf"`` (inverse autoregressive flow, Kingma et al. 2016): the Gaussian followed by ``flow_steps``
            flow layers amortized on ``concat(z_mean, z_log_var)`` (:class:`~keras_ae.models.VAE`).
        flow_steps: number of posterior flow layers.
        flow_hidden: MADE widths of the IAF layers.
        flow_context: what the flow layers are amortized on: ``"gaussian"`` (``concat(z_mean, z_log_var)``) or
            ``"features"`` (the vector the encoder's mean layer reads, as in the IAF paper's ``h``).
        kl_warmup_steps: the KL's weight rises linearly to ``beta`` over this many training steps (0: none); see
            :class:`~keras_ae.models.VAE`.
        optimizer: an optimizer (instance or name); Adam(learning_rate) by default.
        learning_rate: the default optimizer's learning rate.
        name: the model's name.

    Example:
        >>> model = keras_ae.zoo.dense_vae(latent_dim=2)
        >>> model.fit(keras_ae.data.load("mnist", split="train"), epochs=10)
        >>> images = model.sample(16, seed=0)
    """
    input_shape, latent_dim = image_and_latent(input_shape, latent_dim)
    beta = check_non_negative("beta", beta)
    vae_args = dict(posterior_flow=posterior_flow, flow_steps=flow_steps, flow_hidden=flow_hidden,
                    flow_context=flow_context, kl_warmup_steps=kl_warmup_steps)
    hidden = tuple(hidden)
    encoder = networks.mlp_encoder(input_shape, latent_dim, hidden, activation, gaussian=True)
    decoder = networks.mlp_decoder(input_shape, latent_dim, hidden[::-1], activation)
    model = VAE(encoder, decoder, beta=beta, likelihood=likelihood, seed=seed, name=name, **vae_args)
    return compile_model(model, optimizer, learning_rate)


@register("vae", test_kwargs=dict(TINY, filters=(4, 8), dense_units=8))
def conv_vae(
    input_shape=(28, 28, 1),
    latent_dim=2,
    beta=1.0,
    filters=(16, 32),
    kernel_size=3,
    dense_units=256,
    activation="relu",
    padding="zeros",
    downsampling="stride",
    upsampling="transpose",
    norm="layer",
    block="plain",
    likelihood="bernoulli",
    seed=None,
    posterior_flow=None,
    flow_steps=4,
    flow_hidden=(128, 128),
    flow_context="gaussian",
    kl_warmup_steps=0,
    optimizer=None,
    learning_rate=1e-3,
    name="conv_vae",
):
    """Convolutional VAE (beta-VAE when beta != 1): half the keras-io example's widths, layer normalization after
    every convolution and a dense layer of 256.

    The defaults come from a measured search (``docs/performance.md``): on MNIST (8,000 train / 2,000 test, latent 2,
    20 epochs, batch 128) they reach a test -ELBO of 158.5 / 157.0 nats (two training seeds) with 825,445
    parameters, against 163.1 / 164.6 for the earlier defaults (``filters=(32, 64)``, no normalization; 1,685,317
    parameters) and 173.1 for the keras-io example, at or below the keras-io example's epoch time on CPU. Through
    the recipe ``zoo/conv_vae_mnist.toml`` (the same setting): 157.0 / 157.4.

    Args:
        input_shape: image shape ``(H, W, C)``; H and W divisible by ``2 ** len(filters)``.
        latent_dim: size of the latent code.
        beta: weight of the KL term (``neg_elbo`` is always reported with beta = 1).
        filters: widths of the halving stages (the decoder mirrors them).
        kernel_size: convolution kernel size.
        dense_units: a dense layer between the convolutions and the code (0 for none).
        activation: hidden activation.
        padding, downsampling, upsampling, norm, block: the architecture options of
            :func:`keras_ae.networks.conv_encoder` / :func:`~keras_ae.networks.conv_decoder`.
        likelihood: ``"bernoulli"`` (data in [0, 1]) or ``"gaussian"``.
        seed: seed of the reparameterization noise.
        posterior_flow: ``None`` (Gaussian posterior), ``"planar"`` (planar flows, Rezende & Mohamed 2015) or
            ``"iaf"`` (inverse autoregressive flow, Kingma et al. 2016): the Gaussian followed by ``flow_steps``
            flow layers amortized on ``concat(z_mean, z_log_var)`` (:class:`~keras_ae.models.VAE`).
        flow_steps: number of posterior flow layers.
        flow_hidden: MADE widths of the IAF layers.
        flow_context: what the flow layers are amortized on: ``"gaussian"`` (``concat(z_mean, z_log_var)``) or
            ``"features"`` (the vector the encoder's mean layer reads, as in the IAF paper's ``h``).
        kl_warmup_steps: the KL's weight rises linearly to ``beta`` over this many training steps (0: none); see
            :class:`~keras_ae.models.VAE`.
        optimizer: an optimizer (instance or name); Adam(learning_rate) by default.
        learning_rate: the default optimizer's learning rate.
        name: the model's name.

    Example:
        >>> model = keras_ae.zoo.conv_vae(latent_dim=2)
        >>> model.fit(keras_ae.data.load("mnist", split="train"), epochs=10)
        >>> z = model.encode(x_test)            # posterior means, (n, 2)
        >>> images = model.sample(16, seed=0)   # decoded prior draws
        >>> iaf = keras_ae.zoo.conv_vae(latent_dim=16, posterior_flow="iaf", flow_steps=4)  # a flow posterior
    """
    input_shape, latent_dim = image_and_latent(input_shape, latent_dim)
    enc_opts, dec_opts = networks.conv_options(padding, downsampling, upsampling, norm, block)
    beta = check_non_negative("beta", beta)
    vae_args = dict(posterior_flow=posterior_flow, flow_steps=flow_steps, flow_hidden=flow_hidden,
                    flow_context=flow_context, kl_warmup_steps=kl_warmup_steps)
    encoder = networks.conv_encoder(input_shape, latent_dim, filters, kernel_size, dense_units, activation, gaussian=True,
                                    **enc_opts)
    decoder = networks.conv_decoder(input_shape, latent_dim, filters, kernel_size, dense_units, activation, **dec_opts)
    model = VAE(encoder, decoder, beta=beta, likelihood=likelihood, seed=seed, name=name, **vae_args)
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
    posterior_flow=None,
    flow_steps=4,
    flow_hidden=(128, 128),
    flow_context="gaussian",
    kl_warmup_steps=0,
    optimizer=None,
    learning_rate=1e-3,
    name="conv_cvae",
):
    """Conditional convolutional VAE: trains on (images, labels) and samples a chosen class.

    Args:
        input_shape: image shape ``(H, W, C)``; H and W divisible by ``2 ** len(filters)``.
        num_classes: number of classes (labels are integers in ``[0, num_classes)``).
        latent_dim: size of the latent code.
        beta: weight of the KL term (``neg_elbo`` is always reported with beta = 1).
        filters, kernel_size, dense_units, activation: the convolutional stack (as :func:`conv_vae`).
        padding, downsampling, upsampling, norm, block: the architecture options of
            :func:`keras_ae.networks.conv_encoder` / :func:`~keras_ae.networks.conv_decoder`.
        likelihood: ``"bernoulli"`` (data in [0, 1]) or ``"gaussian"``.
        seed: seed of the reparameterization noise.
        posterior_flow: ``None`` (Gaussian posterior), ``"planar"`` (planar flows, Rezende & Mohamed 2015) or
            ``"iaf"`` (inverse autoregressive flow, Kingma et al. 2016): the Gaussian followed by ``flow_steps``
            flow layers amortized on ``concat(z_mean, z_log_var)`` (:class:`~keras_ae.models.VAE`).
        flow_steps: number of posterior flow layers.
        flow_hidden: MADE widths of the IAF layers.
        flow_context: what the flow layers are amortized on: ``"gaussian"`` (``concat(z_mean, z_log_var)``) or
            ``"features"`` (the vector the encoder's mean layer reads, as in the IAF paper's ``h``).
        kl_warmup_steps: the KL's weight rises linearly to ``beta`` over this many training steps (0: none); see
            :class:`~keras_ae.models.VAE`.
        optimizer: an optimizer (instance or name); Adam(learning_rate) by default.
        learning_rate: the default optimizer's learning rate.
        name: the model's name.

    Example:
        >>> model = keras_ae.zoo.conv_cvae(latent_dim=2)
        >>> model.fit(keras_ae.data.load("mnist", split="train", with_labels=True), epochs=10)
        >>> sevens = model.sample(16, labels=7, seed=0)
    """
    input_shape, latent_dim = image_and_latent(input_shape, latent_dim)
    enc_opts, dec_opts = networks.conv_options(padding, downsampling, upsampling, norm, block)
    num_classes = check_positive_int("num_classes", num_classes, minimum=2)
    beta = check_non_negative("beta", beta)
    vae_args = dict(posterior_flow=posterior_flow, flow_steps=flow_steps, flow_hidden=flow_hidden,
                    flow_context=flow_context, kl_warmup_steps=kl_warmup_steps)
    encoder = networks.conv_encoder(
        input_shape, latent_dim, filters, kernel_size, dense_units, activation, gaussian=True, condition_dim=num_classes, **enc_opts
    )
    decoder = networks.conv_decoder(
        input_shape, latent_dim, filters, kernel_size, dense_units, activation, condition_dim=num_classes, **dec_opts
    )
    model = ConditionalVAE(encoder, decoder, num_classes, beta=beta, likelihood=likelihood, seed=seed, name=name,
                           **vae_args)
    return compile_model(model, optimizer, learning_rate)
