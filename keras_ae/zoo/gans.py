"""GANs: dense GAN and WGAN-GP for 2-D data, DCGAN, convolutional WGAN-GP and the conditional GAN."""

import keras
import numpy as np

from keras_ae import networks
from keras_ae.errors import check_choice, check_positive_int
from keras_ae.layers.conditioning import LabelToImage
from keras_ae.layers.normalization import WeightNormalization
from keras_ae.models.gan import GAN, WGANGP, ConditionalGAN
from keras_ae.networks import NORMS, check_conv_stack, check_image_shape, check_options
from keras_ae.testing import TestData
from keras_ae.zoo.registry import register


# ----- test data for the shared model-test helper ---------------------------------------------------
def _gan_test_data(model, n, rng):
    """Real examples to fit on, and latent codes to probe ``model(z, training=False)`` with."""
    shape = (n,) + tuple(model.image_shape)
    if model.value_range is not None:
        lo, hi = model.value_range
        x = rng.uniform(lo, hi, size=shape).astype("float32")
    else:
        x = rng.normal(size=shape).astype("float32")
    z = rng.normal(size=(n, model.latent_dim)).astype("float32")
    return TestData(x, None, z)


def _cgan_test_data(model, n, rng):
    x = _gan_test_data(model, n, rng)
    y = (np.arange(n) % model.num_classes).astype("int32")
    return TestData(x.x, y, (x.inputs, y))


# ----- networks ----------------------------------------------------------------------------------
def _optimizers(optimizer, learning_rate, beta_1, beta_2):
    if optimizer is not None:
        config = keras.optimizers.serialize(keras.optimizers.get(optimizer))
        return keras.optimizers.deserialize(config), keras.optimizers.deserialize(config)
    return (keras.optimizers.Adam(learning_rate, beta_1=beta_1, beta_2=beta_2),
            keras.optimizers.Adam(learning_rate, beta_1=beta_1, beta_2=beta_2))


def _compile(model, optimizer, learning_rate, beta_1, beta_2):
    d_opt, g_opt = _optimizers(optimizer, learning_rate, beta_1, beta_2)
    model.compile(d_optimizer=d_opt, g_optimizer=g_opt)
    return model


def _hidden(hidden):
    hidden = tuple(hidden)
    if not hidden:
        raise ValueError("`hidden` must name at least one layer size, e.g. (128, 128).")
    return tuple(check_positive_int("hidden entries", h) for h in hidden)


def mlp_generator(data_dim, latent_dim, hidden, name="generator"):
    z = keras.Input((latent_dim,), name="z")
    h = z
    for i, units in enumerate(hidden):
        h = keras.layers.Dense(units, activation="relu", name=f"dense{i}")(h)
    out = keras.layers.Dense(data_dim, name="output")(h)
    return keras.Model(z, out, name=name)


def mlp_discriminator(data_dim, hidden, name="discriminator"):
    x = keras.Input((data_dim,), name="x")
    h = x
    for i, units in enumerate(hidden):
        h = keras.layers.Dense(units, name=f"dense{i}")(h)
        h = keras.layers.LeakyReLU(0.2, name=f"act{i}")(h)
    out = keras.layers.Dense(1, name="logit")(h)
    return keras.Model(x, out, name=name)


def _conv_shape(input_shape):
    input_shape = check_image_shape(input_shape)
    check_conv_stack(input_shape, 2)  # two stride-2 stages: height and width divisible by 4
    return input_shape


# The image GANs keep the DCGAN stack (kernel 4 for the stride-2 convolutions, LeakyReLU(0.2), batch norm in the
# generator only) and take the architecture options of keras_ae.networks: the discriminator padding,
# downsampling, norm and block; the generator padding, upsampling, generator_norm and block.
POOLING = {"max": keras.layers.MaxPooling2D, "avg": keras.layers.AveragePooling2D}


def gan_options(padding, downsampling, upsampling, norm, generator_norm, block, critic=False):
    """Validate a GAN's options and split them into ``conv_generator`` and ``conv_discriminator`` keyword
    arguments. ``critic=True`` (WGAN-GP) refuses batch normalization in the critic."""
    check_options(padding, downsampling, upsampling, norm, block)
    check_choice("generator_norm", generator_norm, NORMS)
    if critic and norm == "batch":
        raise ValueError(
            "norm='batch' cannot be used in a WGAN-GP critic: the gradient penalty is per example (it constrains "
            "the critic's gradient with respect to each input on its own), and batch normalization makes every "
            "example's output depend on the rest of the batch. Use norm='layer' or norm='weight' (or None) for the "
            "critic; `generator_norm` may still be 'batch'."
        )
    generator = dict(padding=padding, upsampling=upsampling, norm=generator_norm, block=block)
    return generator, dict(padding=padding, downsampling=downsampling, norm=norm, block=block)


def _normalize(h, norm, suffix):
    """Batch or layer normalization after a layer (weight normalization wraps the layer instead)."""
    if norm == "batch":
        return keras.layers.BatchNormalization(name=f"bn{suffix}")(h)
    if norm == "layer":
        return keras.layers.LayerNormalization(name=f"ln{suffix}")(h)
    return h


def _weight_normalized(layer, norm):
    return WeightNormalization(layer, name=f"{layer.name}_wn") if norm == "weight" else layer


def _gan_conv(h, filters, strides, padding, norm, name, transpose=False, activation=None):
    """One convolution of the stack (:func:`keras_ae.networks.conv_unit`): kernel 4 at stride 2 (DCGAN), 3 at
    stride 1; weight normalization wraps it, batch/layer normalization comes after (:func:`_normalize`), and there
    is no bias before batch normalization."""
    return networks.conv_unit(h, filters, 4 if strides == 2 else 3, strides, padding,
                              "weight" if norm == "weight" else None, activation, name, transpose=transpose,
                              use_bias=norm != "batch")


def _gan_up(h, filters, padding, upsampling, norm, name, activation=None):
    """Double height and width: a stride-2 transposed convolution, or a resize then a stride-1 convolution."""
    if upsampling == "transpose":
        return _gan_conv(h, filters, 2, padding, norm, name, transpose=True, activation=activation)
    h = keras.layers.UpSampling2D(2, interpolation=upsampling, name=f"{name}_up")(h)
    return _gan_conv(h, filters, 1, padding, norm, name, activation=activation)


def conv_generator(output_shape, latent_dim, filters, norm="batch", num_classes=0, name="generator",
                   padding="zeros", upsampling="transpose", block="plain"):
    """DCGAN generator: dense projection to (H/4, W/4, filters[1]), two upsampling stages (stride-2 transposed
    convolutions by default); sigmoid output in [0, 1]. ``norm`` (batch by default) follows the projection and the
    hidden stage. With ``num_classes`` the one-hot label is concatenated to ``z``."""
    h0, w0 = output_shape[0] // 4, output_shape[1] // 4
    f0, f1 = filters
    z = keras.Input((latent_dim,), name="z")
    inputs = [z]
    h = z
    if num_classes:
        label = keras.Input((num_classes,), name="label")
        inputs.append(label)
        h = keras.layers.Concatenate(name="z_label")([z, label])
    project = keras.layers.Dense(h0 * w0 * f1, use_bias=norm != "batch", name="project")
    h = _normalize(_weight_normalized(project, norm)(h), norm, "_project")
    h = keras.layers.LeakyReLU(0.2, name="act_project")(h)
    h = keras.layers.Reshape((h0, w0, f1))(h)
    h = _normalize(_gan_up(h, f0, padding, upsampling, norm, "deconv0"), norm, "0")
    h = keras.layers.LeakyReLU(0.2, name="act0")(h)
    if block == "residual":
        h = networks.residual_block(h, f0, 3, padding, norm, "leaky_relu", "res0")
    out = _gan_up(h, output_shape[-1], padding, upsampling, None, "output", activation="sigmoid")
    return keras.Model(inputs if num_classes else z, out, name=name)


def conv_discriminator(input_shape, filters, dropout=0.0, num_classes=0, name="discriminator",
                       padding="zeros", downsampling="stride", norm=None, block="plain"):
    """Two downsampling stages (stride-2 convolutions by default) with LeakyReLU, then one logit. No normalization
    by default (WGAN-GP safe). With ``num_classes`` the one-hot label is embedded as an extra image plane and, as
    in a projection discriminator, its learned embedding is dotted with the features and added to the logit."""
    x = keras.Input(input_shape, name="image")
    inputs = [x]
    h = x
    if num_classes:
        label = keras.Input((num_classes,), name="label")
        inputs.append(label)
        plane = LabelToImage(input_shape[0], input_shape[1], 1, name="label_plane")(label)
        h = keras.layers.Concatenate(axis=-1, name="image_label")([x, plane])
    for i, f in enumerate(filters):
        h = _gan_conv(h, f, 2 if downsampling == "stride" else 1, padding, norm, f"conv{i}")
        h = keras.layers.LeakyReLU(0.2, name=f"act{i}")(_normalize(h, norm, i))
        if downsampling in POOLING:
            h = POOLING[downsampling](2, name=f"pool{i}")(h)
        if block == "residual":
            h = networks.residual_block(h, f, 3, padding, norm, "leaky_relu", f"res{i}")
        if dropout:
            h = keras.layers.Dropout(dropout, name=f"dropout{i}")(h)
    h = keras.layers.Flatten()(h)
    out = keras.layers.Dense(1, name="logit")(h)
    if num_classes:  # projection discriminator (Miyato & Koyama 2018): logit + <embed(label), features>
        embed = keras.layers.Dense(int(h.shape[-1]), use_bias=False, name="label_projection")(label)
        projection = keras.layers.Dot(axes=1, name="projection")([h, embed])
        out = keras.layers.Add(name="conditional_logit")([out, projection])
    return keras.Model(inputs if num_classes else x, out, name=name)


def _filters(filters):
    filters = tuple(filters)
    if len(filters) != 2:
        raise ValueError(f"`filters` must be two sizes (first and second stride-2 stage), e.g. (64, 128); "
                         f"received {filters!r}.")
    return tuple(check_positive_int("filters entries", f) for f in filters)


TINY_2D = {"latent_dim": 2, "hidden": (8,)}
TINY_IMG = {"input_shape": (8, 8, 1), "latent_dim": 4, "filters": (2, 4)}


# ----- 2-D data ----------------------------------------------------------------------------------
@register("gan", test_kwargs=TINY_2D, test_data=_gan_test_data)
def dense_gan(
    data_dim=2,
    latent_dim=16,
    hidden=(128, 128, 128),
    loss="non_saturating",
    d_steps=1,
    label_smoothing=0.0,
    seed=None,
    optimizer=None,
    learning_rate=2e-4,
    beta_1=0.5,
    beta_2=0.999,
    name="dense_gan",
):
    """Dense GAN for low-dimensional data (e.g. the ring of 8 Gaussians); non-saturating loss by default."""
    data_dim = check_positive_int("data_dim", data_dim)
    latent_dim = check_positive_int("latent_dim", latent_dim)
    hidden = _hidden(hidden)
    model = GAN(mlp_generator(data_dim, latent_dim, hidden), mlp_discriminator(data_dim, hidden), loss=loss,
                d_steps=d_steps, label_smoothing=label_smoothing, seed=seed, name=name)
    return _compile(model, optimizer, learning_rate, beta_1, beta_2)


@register("gan", test_kwargs=TINY_2D, test_data=_gan_test_data)
def dense_wgan_gp(
    data_dim=2,
    latent_dim=16,
    hidden=(128, 128, 128),
    n_critic=5,
    gp_weight=0.1,
    seed=None,
    optimizer=None,
    learning_rate=1e-4,
    beta_1=0.5,
    beta_2=0.9,
    name="dense_wgan_gp",
):
    """Dense WGAN-GP for low-dimensional data: Wasserstein critic, gradient penalty, n_critic critic steps."""
    data_dim = check_positive_int("data_dim", data_dim)
    latent_dim = check_positive_int("latent_dim", latent_dim)
    hidden = _hidden(hidden)
    model = WGANGP(mlp_generator(data_dim, latent_dim, hidden), mlp_discriminator(data_dim, hidden),
                   n_critic=n_critic, gp_weight=gp_weight, seed=seed, name=name)
    return _compile(model, optimizer, learning_rate, beta_1, beta_2)


# ----- images ------------------------------------------------------------------------------------
@register("gan", test_kwargs=TINY_IMG, test_data=_gan_test_data)
def dcgan(
    input_shape=(28, 28, 1),
    latent_dim=64,
    filters=(64, 128),
    loss="non_saturating",
    d_steps=1,
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
):
    """DCGAN (Radford et al.) for images in [0, 1]; height and width divisible by 4.

    Architecture options (the discriminator takes ``padding``, ``downsampling``, ``norm``, ``block``; the generator
    ``padding``, ``upsampling``, ``generator_norm``, ``block``): see :func:`gan_options`.
    """
    input_shape = _conv_shape(input_shape)
    latent_dim = check_positive_int("latent_dim", latent_dim)
    filters = _filters(filters)
    g_opts, d_opts = gan_options(padding, downsampling, upsampling, norm, generator_norm, block)
    model = GAN(conv_generator(input_shape, latent_dim, filters, **g_opts),
                conv_discriminator(input_shape, filters, dropout, **d_opts),
                loss=loss, d_steps=d_steps, label_smoothing=label_smoothing, data_range=(0.0, 1.0), seed=seed,
                name=name)
    return _compile(model, optimizer, learning_rate, beta_1, beta_2)


@register("gan", test_kwargs=dict(TINY_IMG, n_critic=2), test_data=_gan_test_data)
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

    Architecture options (the discriminator takes ``padding``, ``downsampling``, ``norm``, ``block``; the generator
    ``padding``, ``upsampling``, ``generator_norm``, ``block``): see :func:`gan_options`.
    ``norm='batch'`` is refused for the critic (the gradient penalty is per example).
    """
    input_shape = _conv_shape(input_shape)
    latent_dim = check_positive_int("latent_dim", latent_dim)
    filters = _filters(filters)
    g_opts, d_opts = gan_options(padding, downsampling, upsampling, norm, generator_norm, block, critic=True)
    model = WGANGP(conv_generator(input_shape, latent_dim, filters, **g_opts),
                   conv_discriminator(input_shape, filters, **d_opts),
                   n_critic=n_critic, gp_weight=gp_weight, data_range=(0.0, 1.0), seed=seed, name=name)
    return _compile(model, optimizer, learning_rate, beta_1, beta_2)


@register("gan", test_kwargs=dict(TINY_IMG, num_classes=3), test_data=_cgan_test_data)
def conditional_gan(
    input_shape=(28, 28, 1),
    num_classes=10,
    latent_dim=64,
    filters=(64, 128),
    loss="non_saturating",
    d_steps=1,
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
):
    """Conditional DCGAN: label-conditioned generator and discriminator; sample(n, labels=...).

    Architecture options (the discriminator takes ``padding``, ``downsampling``, ``norm``, ``block``; the generator
    ``padding``, ``upsampling``, ``generator_norm``, ``block``): see :func:`gan_options`.
    """
    input_shape = _conv_shape(input_shape)
    num_classes = check_positive_int("num_classes", num_classes, minimum=2)
    latent_dim = check_positive_int("latent_dim", latent_dim)
    filters = _filters(filters)
    g_opts, d_opts = gan_options(padding, downsampling, upsampling, norm, generator_norm, block)
    model = ConditionalGAN(
        conv_generator(input_shape, latent_dim, filters, num_classes=num_classes, **g_opts),
        conv_discriminator(input_shape, filters, dropout, num_classes=num_classes, **d_opts),
        num_classes, loss=loss, d_steps=d_steps, label_smoothing=label_smoothing, data_range=(0.0, 1.0),
        seed=seed, name=name,
    )
    return _compile(model, optimizer, learning_rate, beta_1, beta_2)

