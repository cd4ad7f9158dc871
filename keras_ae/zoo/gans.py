"""GANs: dense GAN and WGAN-GP for 2-D data, DCGAN, convolutional WGAN-GP and the conditional GAN."""

import keras
import numpy as np

from keras_ae.errors import check_positive_int
from keras_ae.layers.conditioning import LabelToImage
from keras_ae.models.gan import GAN, WGANGP, ConditionalGAN
from keras_ae.networks import check_conv_stack, check_image_shape
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


def conv_generator(output_shape, latent_dim, filters, batch_norm=True, num_classes=0, name="generator"):
    """DCGAN generator: dense projection to (H/4, W/4, filters[1]), two stride-2 transposed convolutions;
    sigmoid output in [0, 1]. With ``num_classes`` the one-hot label is concatenated to ``z``."""
    h0, w0 = output_shape[0] // 4, output_shape[1] // 4
    f0, f1 = filters
    z = keras.Input((latent_dim,), name="z")
    inputs = [z]
    h = z
    if num_classes:
        label = keras.Input((num_classes,), name="label")
        inputs.append(label)
        h = keras.layers.Concatenate(name="z_label")([z, label])
    h = keras.layers.Dense(h0 * w0 * f1, use_bias=not batch_norm, name="project")(h)
    if batch_norm:
        h = keras.layers.BatchNormalization(name="bn_project")(h)
    h = keras.layers.LeakyReLU(0.2, name="act_project")(h)
    h = keras.layers.Reshape((h0, w0, f1))(h)
    h = keras.layers.Conv2DTranspose(f0, 4, strides=2, padding="same", use_bias=not batch_norm, name="deconv0")(h)
    if batch_norm:
        h = keras.layers.BatchNormalization(name="bn0")(h)
    h = keras.layers.LeakyReLU(0.2, name="act0")(h)
    out = keras.layers.Conv2DTranspose(output_shape[-1], 4, strides=2, padding="same", activation="sigmoid",
                                       name="output")(h)
    return keras.Model(inputs if num_classes else z, out, name=name)


def conv_discriminator(input_shape, filters, dropout=0.0, num_classes=0, name="discriminator"):
    """Two stride-2 convolutions with LeakyReLU, then one logit. No batch normalization (WGAN-GP safe).
    With ``num_classes`` the one-hot label is embedded as an extra image plane and, as in a projection
    discriminator, its learned embedding is dotted with the features and added to the logit."""
    f0, f1 = filters
    x = keras.Input(input_shape, name="image")
    inputs = [x]
    h = x
    if num_classes:
        label = keras.Input((num_classes,), name="label")
        inputs.append(label)
        plane = LabelToImage(input_shape[0], input_shape[1], 1, name="label_plane")(label)
        h = keras.layers.Concatenate(axis=-1, name="image_label")([x, plane])
    for i, f in enumerate((f0, f1)):
        h = keras.layers.Conv2D(f, 4, strides=2, padding="same", name=f"conv{i}")(h)
        h = keras.layers.LeakyReLU(0.2, name=f"act{i}")(h)
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
    seed=None,
    optimizer=None,
    learning_rate=2e-4,
    beta_1=0.5,
    beta_2=0.999,
    name="dcgan",
):
    """DCGAN (Radford et al.) for images in [0, 1]; height and width divisible by 4."""
    input_shape = _conv_shape(input_shape)
    latent_dim = check_positive_int("latent_dim", latent_dim)
    filters = _filters(filters)
    model = GAN(conv_generator(input_shape, latent_dim, filters), conv_discriminator(input_shape, filters, dropout),
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
    seed=None,
    optimizer=None,
    learning_rate=2e-4,
    beta_1=0.5,
    beta_2=0.9,
    name="wgan_gp",
):
    """Convolutional WGAN-GP for images in [0, 1] (critic without batch norm); sizes divisible by 4."""
    input_shape = _conv_shape(input_shape)
    latent_dim = check_positive_int("latent_dim", latent_dim)
    filters = _filters(filters)
    model = WGANGP(conv_generator(input_shape, latent_dim, filters), conv_discriminator(input_shape, filters),
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
    seed=None,
    optimizer=None,
    learning_rate=2e-4,
    beta_1=0.5,
    beta_2=0.999,
    name="conditional_gan",
):
    """Conditional DCGAN: label-conditioned generator and discriminator; sample(n, labels=...)."""
    input_shape = _conv_shape(input_shape)
    num_classes = check_positive_int("num_classes", num_classes, minimum=2)
    latent_dim = check_positive_int("latent_dim", latent_dim)
    filters = _filters(filters)
    model = ConditionalGAN(
        conv_generator(input_shape, latent_dim, filters, num_classes=num_classes),
        conv_discriminator(input_shape, filters, dropout, num_classes=num_classes),
        num_classes, loss=loss, d_steps=d_steps, label_smoothing=label_smoothing, data_range=(0.0, 1.0),
        seed=seed, name=name,
    )
    return _compile(model, optimizer, learning_rate, beta_1, beta_2)

