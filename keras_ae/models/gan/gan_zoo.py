"""The GAN family in the zoo: dense GAN, WGAN and WGAN-GP for 2-D data, DCGAN, convolutional WGAN and WGAN-GP,
conditional GAN."""

import keras

from keras_ae.errors import check_positive_int
from keras_ae.models.gan.gan_model import GAN, WGAN, WGANGP, ConditionalGAN
from keras_ae.models.gan.gan_networks import (check_filters, check_hidden, check_image_input, conv_discriminator,
                                              conv_generator, gan_options, mlp_discriminator, mlp_generator)
from keras_ae.zoo.common import renamed_arguments, vector_shape
from keras_ae.zoo.registry import register


def _decayed(learning_rate, updates):
    """``learning_rate`` decayed linearly to 1% of it over ``updates`` optimizer steps (then held)."""
    return keras.optimizers.schedules.PolynomialDecay(learning_rate, updates, learning_rate * 0.01)


def _adam(beta_1, beta_2):
    return lambda learning_rate: keras.optimizers.Adam(learning_rate, beta_1=beta_1, beta_2=beta_2)


def _rmsprop(rho):
    return lambda learning_rate: keras.optimizers.RMSprop(learning_rate, rho=rho)


def _optimizers(optimizer, make, learning_rate, lr_decay_steps=None, n_critic=1):
    """Two optimizers, one per player (discriminator first): copies of ``optimizer`` when given, else
    ``make(learning_rate)`` (Adam or RMSprop), with ``learning_rate`` decayed linearly to 1% over ``lr_decay_steps``
    generator updates (``n_critic`` times as many discriminator updates) when that is given; ``None`` or ``0`` keep
    it constant (``0`` because a recipe's TOML and ``--arg`` cannot write ``None``)."""
    if optimizer is not None:
        config = keras.optimizers.serialize(keras.optimizers.get(optimizer))
        return keras.optimizers.deserialize(config), keras.optimizers.deserialize(config)
    if lr_decay_steps is not None:
        lr_decay_steps = check_positive_int("lr_decay_steps", lr_decay_steps, minimum=0)
    if lr_decay_steps:
        return make(_decayed(learning_rate, lr_decay_steps * n_critic)), make(_decayed(learning_rate, lr_decay_steps))
    return make(learning_rate), make(learning_rate)


def _compile(model, optimizer, make, learning_rate, lr_decay_steps=None):
    d_opt, g_opt = _optimizers(optimizer, make, learning_rate, lr_decay_steps, model.n_critic)
    model.compile(d_optimizer=d_opt, g_optimizer=g_opt)
    return model


TINY_2D = {"latent_dim": 2, "hidden": (8,)}
TINY_IMG = {"input_shape": (8, 8, 1), "latent_dim": 4, "filters": (2, 4)}

# ----- 2-D data ----------------------------------------------------------------------------------
@register("gan", test_kwargs=TINY_2D, test_data="gan")
def dense_gan(
    input_shape=(2,),
    latent_dim=2,
    hidden=(128, 128, 128),
    loss="non_saturating",
    n_critic=1,
    label_smoothing=0.0,
    seed=None,
    optimizer=None,
    learning_rate=1e-3,
    lr_decay_steps=2000,
    beta_1=0.5,
    beta_2=0.999,
    name="dense_gan",
    **legacy,
):
    """Dense GAN for low-dimensional data (e.g. the ring of 8 Gaussians); non-saturating loss by default.

    Args:
        input_shape: the shape of one example, ``(d,)`` (``(2,)`` for 2-D points).
        latent_dim: size of the generator's input code.
        hidden: sizes of the hidden dense layers (the discriminator uses the same, with LeakyReLU(0.2)).
        loss: ``"non_saturating"`` or ``"minimax"`` (the generator's objective; see :class:`~keras_ae.models.GAN`).
        n_critic: discriminator updates per generator update.
        label_smoothing: one-sided label smoothing of the real targets.
        seed: seed of the latent draws during training.
        optimizer: one optimizer (instance or name) copied for each player; by default each gets
            ``Adam(learning_rate, beta_1, beta_2)``.
        learning_rate, beta_1, beta_2: the default Adam optimizers' settings.
        lr_decay_steps: the default optimizers' learning rate decays linearly to 1% over this many generator updates
            (``n_critic`` times as many discriminator updates), then stays there; ``None`` or ``0`` keeps it constant.
            The defaults (latent 2, 1e-3 decayed over 2,000 updates) cover 8/8 modes of the ring of Gaussians with 88%
            high-quality samples (``zoo/dense_gan_ring.toml``).
        name: the model's name.

    Example:
        >>> from keras_ae.data import ring_of_gaussians
        >>> x, _, _ = ring_of_gaussians(4096, seed=0)
        >>> model = keras_ae.zoo.dense_gan(seed=0)
        >>> model.fit(x, batch_size=256, epochs=1, verbose=0)
        >>> points = model.sample(1000, seed=0)  # (1000, 2)
    """
    input_shape, n_critic = renamed_arguments(dense_gan, legacy, input_shape=input_shape, n_critic=n_critic)
    input_shape = vector_shape(input_shape)
    latent_dim = check_positive_int("latent_dim", latent_dim)
    hidden = check_hidden(hidden)
    model = GAN(mlp_generator(input_shape, latent_dim, hidden), mlp_discriminator(input_shape, hidden),
                gan_loss=loss, n_critic=n_critic, label_smoothing=label_smoothing, seed=seed, name=name)
    return _compile(model, optimizer, _adam(beta_1, beta_2), learning_rate, lr_decay_steps)


@register("gan", test_kwargs=TINY_2D, test_data="gan")
def dense_wgan(
    input_shape=(2,),
    latent_dim=2,
    hidden=(128, 128, 128),
    n_critic=5,
    clip_value=0.05,
    seed=None,
    optimizer=None,
    learning_rate=2e-4,
    lr_decay_steps=2000,
    rho=0.99,
    name="dense_wgan",
):
    """Dense WGAN (Arjovsky et al. 2017) for low-dimensional data: weight-clipped critic, n_critic steps, RMSprop.

    The critic's weights are clipped to ``[-clip_value, clip_value]`` after every critic update
    (:class:`~keras_ae.models.WGAN`); ``n_critic`` critic updates per generator update.

    Args:
        input_shape: the shape of one example, ``(d,)`` (``(2,)`` for 2-D points).
        latent_dim: size of the generator's input code.
        hidden: sizes of the hidden dense layers of both networks (the critic: LeakyReLU(0.2), no normalization,
            as ``dense_wgan_gp``'s).
        n_critic: critic updates per generator update (the paper's 5).
        clip_value: the weight clipping bound (> 0). The paper's 0.01 is :class:`~keras_ae.models.WGAN`'s default;
            on the ring of Gaussians this constructor's 0.05 gives the critic room to shape the modes (see below).
        seed: seed of the latent draws during training.
        optimizer: one optimizer (instance or name) copied for each player; by default each gets
            ``RMSprop(learning_rate, rho)`` (the paper's optimizer; ``rho=0.99`` is the smoothing of the paper's
            reference code, PyTorch's default).
        learning_rate, rho: the default RMSprop optimizers' settings.
        lr_decay_steps: the default optimizers' learning rate decays linearly to 1% over this many generator updates
            (``n_critic`` times as many critic updates), then stays there; ``None`` or ``0`` keeps it constant.
            With the defaults (clip 0.05, RMSprop 2e-4 decayed over 2,000 updates, as ``dense_wgan_gp`` decays
            its Adam) ``zoo/dense_wgan_ring.toml`` (the settings of ``zoo/dense_wgan_gp_ring.toml``) covers 8/8
            modes of the ring of Gaussians; the paper's setting (clip 0.01, a constant 5e-5) covers none in those
            2,156 generator updates (docs/gans.md).
        name: the model's name.

    Example:
        >>> model = keras_ae.zoo.dense_wgan(seed=0)
        >>> model.fit(keras_ae.data.ring_of_gaussians(4096, seed=0)[0], batch_size=256, epochs=1, verbose=0)
        >>> points = model.sample(1000, seed=0)
    """
    input_shape = vector_shape(input_shape)
    latent_dim = check_positive_int("latent_dim", latent_dim)
    hidden = check_hidden(hidden)
    model = WGAN(mlp_generator(input_shape, latent_dim, hidden), mlp_discriminator(input_shape, hidden),
                 n_critic=n_critic, clip_value=clip_value, seed=seed, name=name)
    return _compile(model, optimizer, _rmsprop(rho), learning_rate, lr_decay_steps)


@register("gan", test_kwargs=TINY_2D, test_data="gan")
def dense_wgan_gp(
    input_shape=(2,),
    latent_dim=2,
    hidden=(128, 128, 128),
    n_critic=5,
    gp_weight=0.1,
    seed=None,
    optimizer=None,
    learning_rate=1e-3,
    lr_decay_steps=2000,
    beta_1=0.5,
    beta_2=0.9,
    name="dense_wgan_gp",
    **legacy,
):
    """Dense WGAN-GP for low-dimensional data: Wasserstein critic, gradient penalty, n_critic critic steps.

    Args:
        input_shape: the shape of one example, ``(d,)`` (``(2,)`` for 2-D points).
        latent_dim: size of the generator's input code.
        hidden: sizes of the hidden dense layers of both networks.
        n_critic: critic updates per generator update.
        gp_weight: weight of the gradient penalty.
        seed: seed of the latent draws during training.
        optimizer: one optimizer (instance or name) copied for each player; by default each gets
            ``Adam(learning_rate, beta_1, beta_2)``.
        learning_rate, beta_1, beta_2: the default Adam optimizers' settings.
        lr_decay_steps: the default optimizers' learning rate decays linearly to 1% over this many generator updates
            (``n_critic`` times as many critic updates), then stays there; ``None`` or ``0`` keeps it constant. With the
            defaults (latent 2, 1e-3 decayed over 2,000 updates; before keras_ae 0.2: latent 16 and a constant 1e-4,
            which reached only 39% high-quality samples) ``zoo/dense_wgan_gp_ring.toml`` covers 8/8 modes of the
            ring of Gaussians with 86% high-quality samples.
        name: the model's name.

    Example:
        >>> model = keras_ae.zoo.dense_wgan_gp(seed=0)
        >>> model.fit(keras_ae.data.ring_of_gaussians(4096, seed=0)[0], batch_size=256, epochs=1, verbose=0)
        >>> points = model.sample(1000, seed=0)
    """
    input_shape = renamed_arguments(dense_wgan_gp, legacy, input_shape=input_shape)
    input_shape = vector_shape(input_shape)
    latent_dim = check_positive_int("latent_dim", latent_dim)
    hidden = check_hidden(hidden)
    model = WGANGP(mlp_generator(input_shape, latent_dim, hidden), mlp_discriminator(input_shape, hidden),
                   n_critic=n_critic, gp_weight=gp_weight, seed=seed, name=name)
    return _compile(model, optimizer, _adam(beta_1, beta_2), learning_rate, lr_decay_steps)


# ----- images ------------------------------------------------------------------------------------
@register("gan", test_kwargs=TINY_IMG, test_data="gan")
def dcgan(
    input_shape=(28, 28, 1),
    latent_dim=64,
    filters=(64, 128),
    loss="non_saturating",
    n_critic=1,
    label_smoothing=0.0,
    dropout=0.0,
    padding="zeros",
    downsampling="stride",
    upsampling="transpose",
    norm=None,
    generator_norm="batch",
    block="plain",
    seed=None,
    optimizer=None,
    learning_rate=2e-4,
    beta_1=0.5,
    beta_2=0.999,
    name="dcgan",
    **legacy,
):
    """DCGAN (Radford et al.) for images in [0, 1]; height and width divisible by 4.

    Args:
        input_shape: image shape ``(H, W, C)``, H and W divisible by 4.
        latent_dim: size of the generator's input code.
        filters: the two stride-2 stages' widths (the generator mirrors them).
        loss: ``"non_saturating"`` or ``"minimax"``.
        n_critic: discriminator updates per generator update.
        label_smoothing: one-sided label smoothing of the real targets.
        dropout: dropout rate after each discriminator stage.
        padding, downsampling, norm, block: the discriminator's architecture options (``norm=None`` by default),
            see :func:`keras_ae.networks.conv_encoder`.
        upsampling, generator_norm: the generator's upsampling (``"transpose"``, ``"nearest"``, ``"bilinear"``)
            and normalization (``"batch"`` by default); it shares ``padding`` and ``block``.
        seed: seed of the latent draws during training.
        optimizer: one optimizer (instance or name) copied for each player; by default each gets
            ``Adam(learning_rate, beta_1, beta_2)``.
        learning_rate, beta_1, beta_2: the default Adam optimizers' settings.
        name: the model's name.

    Example:
        >>> model = keras_ae.zoo.dcgan(seed=0)
        >>> model.fit(keras_ae.data.load("mnist", split="train"), epochs=5)
        >>> images = model.sample(64, seed=0)  # (64, 28, 28, 1) in [0, 1]
    """
    n_critic = renamed_arguments(dcgan, legacy, n_critic=n_critic)
    input_shape = check_image_input(input_shape)
    latent_dim = check_positive_int("latent_dim", latent_dim)
    filters = check_filters(filters)
    g_opts, d_opts = gan_options(padding, downsampling, upsampling, norm, generator_norm, block)
    model = GAN(conv_generator(input_shape, latent_dim, filters, **g_opts),
                conv_discriminator(input_shape, filters, dropout, **d_opts),
                gan_loss=loss, n_critic=n_critic, label_smoothing=label_smoothing, data_range=(0.0, 1.0), seed=seed,
                name=name)
    return _compile(model, optimizer, _adam(beta_1, beta_2), learning_rate)


@register("gan", test_kwargs=dict(TINY_IMG, n_critic=2), test_data="gan")
def wgan(
    input_shape=(28, 28, 1),
    latent_dim=64,
    filters=(64, 128),
    n_critic=5,
    clip_value=0.01,
    padding="zeros",
    downsampling="stride",
    upsampling="transpose",
    norm=None,
    generator_norm="batch",
    block="plain",
    seed=None,
    optimizer=None,
    learning_rate=5e-5,
    rho=0.99,
    name="wgan",
):
    """Convolutional WGAN (Arjovsky et al. 2017) for images in [0, 1]: DCGAN networks, weight-clipped critic, RMSprop.

    The critic's weights are clipped to ``[-clip_value, clip_value]`` after every critic update
    (:class:`~keras_ae.models.WGAN`); height and width divisible by 4.

    Args:
        input_shape: image shape ``(H, W, C)``, H and W divisible by 4.
        latent_dim: size of the generator's input code.
        filters: the two stride-2 stages' widths.
        n_critic: critic updates per generator update (the paper's 5).
        clip_value: the weight clipping bound (the paper's 0.01; > 0).
        padding, downsampling, norm, block: the critic's architecture options, see
            :func:`keras_ae.networks.conv_encoder`. ``norm=None`` by default, as ``wgan_gp``'s critic (which cannot
            have batch norm); ``norm="batch"`` builds the paper's DCGAN critic with batch norm, which weight clipping
            allows (its scales and offsets are clipped too).
        upsampling, generator_norm: the generator's upsampling (``"transpose"``, ``"nearest"``, ``"bilinear"``)
            and normalization (``"batch"`` by default); it shares ``padding`` and ``block``.
        seed: seed of the latent draws during training.
        optimizer: one optimizer (instance or name) copied for each player; by default each gets
            ``RMSprop(learning_rate, rho)`` (the paper's 5e-5; ``rho=0.99`` is the smoothing of the paper's
            reference code, PyTorch's default).
        learning_rate, rho: the default RMSprop optimizers' settings.
        name: the model's name.

    Example:
        >>> model = keras_ae.zoo.wgan(seed=0)
        >>> model.fit(keras_ae.data.load("mnist", split="train"), epochs=5)
        >>> images = model.sample(64, seed=0)
    """
    input_shape = check_image_input(input_shape)
    latent_dim = check_positive_int("latent_dim", latent_dim)
    filters = check_filters(filters)
    g_opts, d_opts = gan_options(padding, downsampling, upsampling, norm, generator_norm, block)
    model = WGAN(conv_generator(input_shape, latent_dim, filters, **g_opts),
                 conv_discriminator(input_shape, filters, **d_opts),
                 n_critic=n_critic, clip_value=clip_value, data_range=(0.0, 1.0), seed=seed, name=name)
    return _compile(model, optimizer, _rmsprop(rho), learning_rate)


@register("gan", test_kwargs=dict(TINY_IMG, n_critic=2), test_data="gan")
def wgan_gp(
    input_shape=(28, 28, 1),
    latent_dim=64,
    filters=(64, 128),
    n_critic=5,
    gp_weight=10.0,
    padding="zeros",
    downsampling="stride",
    upsampling="transpose",
    norm=None,
    generator_norm="batch",
    block="plain",
    seed=None,
    optimizer=None,
    learning_rate=2e-4,
    beta_1=0.5,
    beta_2=0.9,
    name="wgan_gp",
):
    """Convolutional WGAN-GP for images in [0, 1] (critic without batch norm); sizes divisible by 4.

    Args:
        input_shape: image shape ``(H, W, C)``, H and W divisible by 4.
        latent_dim: size of the generator's input code.
        filters: the two stride-2 stages' widths.
        n_critic: critic updates per generator update.
        gp_weight: weight of the gradient penalty.
        padding, downsampling, norm, block: the discriminator's architecture options (``norm=None`` by default),
            see :func:`keras_ae.networks.conv_encoder`.
        upsampling, generator_norm: the generator's upsampling (``"transpose"``, ``"nearest"``, ``"bilinear"``)
            and normalization (``"batch"`` by default); it shares ``padding`` and ``block``. ``norm='batch'`` is refused for the
            critic (the gradient penalty is per example).
        seed: seed of the latent draws during training.
        optimizer: one optimizer (instance or name) copied for each player; by default each gets
            ``Adam(learning_rate, beta_1, beta_2)``.
        learning_rate, beta_1, beta_2: the default Adam optimizers' settings.
        name: the model's name.

    Example:
        >>> model = keras_ae.zoo.wgan_gp(seed=0)
        >>> model.fit(keras_ae.data.load("mnist", split="train"), epochs=5)
        >>> images = model.sample(64, seed=0)
    """
    input_shape = check_image_input(input_shape)
    latent_dim = check_positive_int("latent_dim", latent_dim)
    filters = check_filters(filters)
    g_opts, d_opts = gan_options(padding, downsampling, upsampling, norm, generator_norm, block, critic=True)
    model = WGANGP(conv_generator(input_shape, latent_dim, filters, **g_opts),
                   conv_discriminator(input_shape, filters, **d_opts),
                   n_critic=n_critic, gp_weight=gp_weight, data_range=(0.0, 1.0), seed=seed, name=name)
    return _compile(model, optimizer, _adam(beta_1, beta_2), learning_rate)


@register("gan", test_kwargs=dict(TINY_IMG, num_classes=3), test_data="gan_labels")
def conditional_gan(
    input_shape=(28, 28, 1),
    num_classes=10,
    latent_dim=64,
    filters=(64, 128),
    loss="non_saturating",
    n_critic=1,
    label_smoothing=0.0,
    dropout=0.0,
    padding="zeros",
    downsampling="stride",
    upsampling="transpose",
    norm=None,
    generator_norm="batch",
    block="plain",
    seed=None,
    optimizer=None,
    learning_rate=2e-4,
    beta_1=0.5,
    beta_2=0.999,
    name="conditional_gan",
    **legacy,
):
    """Conditional DCGAN: label-conditioned generator and (projection) discriminator; sample(n, labels=...).

    Args:
        input_shape: image shape ``(H, W, C)``, H and W divisible by 4.
        num_classes: number of classes (labels are integers in ``[0, num_classes)``).
        latent_dim: size of the generator's input code.
        filters: the two stride-2 stages' widths.
        loss: ``"non_saturating"`` or ``"minimax"``.
        n_critic: discriminator updates per generator update.
        label_smoothing: one-sided label smoothing of the real targets.
        dropout: dropout rate after each discriminator stage.
        padding, downsampling, norm, block: the discriminator's architecture options (``norm=None`` by default),
            see :func:`keras_ae.networks.conv_encoder`.
        upsampling, generator_norm: the generator's upsampling (``"transpose"``, ``"nearest"``, ``"bilinear"``)
            and normalization (``"batch"`` by default); it shares ``padding`` and ``block``.
        seed: seed of the latent draws during training.
        optimizer: one optimizer (instance or name) copied for each player; by default each gets
            ``Adam(learning_rate, beta_1, beta_2)``.
        learning_rate, beta_1, beta_2: the default Adam optimizers' settings.
        name: the model's name.

    Example:
        >>> model = keras_ae.zoo.conditional_gan(seed=0)
        >>> model.fit(keras_ae.data.load("mnist", split="train", with_labels=True), epochs=5)
        >>> sevens = model.sample(16, labels=7, seed=0)
    """
    n_critic = renamed_arguments(conditional_gan, legacy, n_critic=n_critic)
    input_shape = check_image_input(input_shape)
    num_classes = check_positive_int("num_classes", num_classes, minimum=2)
    latent_dim = check_positive_int("latent_dim", latent_dim)
    filters = check_filters(filters)
    g_opts, d_opts = gan_options(padding, downsampling, upsampling, norm, generator_norm, block)
    model = ConditionalGAN(
        conv_generator(input_shape, latent_dim, filters, num_classes=num_classes, **g_opts),
        conv_discriminator(input_shape, filters, dropout, num_classes=num_classes, **d_opts),
        num_classes, gan_loss=loss, n_critic=n_critic, label_smoothing=label_smoothing, data_range=(0.0, 1.0),
        seed=seed, name=name,
    )
    return _compile(model, optimizer, _adam(beta_1, beta_2), learning_rate)
