"""Networks of the GAN family: dense generator/discriminator for low-dimensional data, the DCGAN stack for images.

The image networks keep the DCGAN stack (kernel 4 for the stride-2 convolutions, LeakyReLU(0.2), batch norm in the
generator only) and take the architecture options of :mod:`keras_ae.networks`: the discriminator ``padding``,
``downsampling``, ``norm`` and ``block``; the generator ``padding``, ``upsampling``, ``generator_norm`` and ``block``
(:func:`gan_options` validates and splits them).
"""

__all__ = ["mlp_generator", "mlp_discriminator", "conv_generator", "conv_discriminator", "gan_options", "check_hidden",
           "check_image_input", "check_filters"]

import keras

from keras_ae import networks
from keras_ae.errors import InvalidArgumentError, check_choice, check_positive_int
from keras_ae.layers.normalization import SyncBatchNormalization, WeightNormalization
from keras_ae.networks import NORMS, check_conv_stack, check_image_shape, check_options


def check_hidden(hidden):
    """Validate the hidden layer sizes of the dense networks."""
    hidden = tuple(hidden)
    if not hidden:
        raise InvalidArgumentError("`hidden` must name at least one layer size, e.g. (128, 128).")
    return tuple(check_positive_int("hidden entries", h) for h in hidden)


def mlp_generator(output_shape, latent_dim, hidden, name="generator"):
    """Dense generator from codes ``(batch, latent_dim)`` to vectors of ``output_shape`` ``(d,)``; ReLU hidden layers,
    linear output."""
    (data_dim,) = output_shape
    z = keras.Input((latent_dim,), name="z")
    h = z
    for i, units in enumerate(hidden):
        h = keras.layers.Dense(units, activation="relu", name=f"dense{i}")(h)
    out = keras.layers.Dense(data_dim, name="output")(h)
    return keras.Model(z, out, name=name)


def mlp_discriminator(input_shape, hidden, name="discriminator"):
    """Dense discriminator from vectors of ``input_shape`` ``(d,)`` to one logit; LeakyReLU(0.2) hidden layers."""
    x = keras.Input(tuple(input_shape), name="x")
    h = x
    for i, units in enumerate(hidden):
        h = keras.layers.Dense(units, name=f"dense{i}")(h)
        h = keras.layers.LeakyReLU(0.2, name=f"act{i}")(h)
    out = keras.layers.Dense(1, name="logit")(h)
    return keras.Model(x, out, name=name)


def check_image_input(input_shape):
    """Validate an image shape for the DCGAN stack (two stride-2 stages: height and width divisible by 4)."""
    input_shape = check_image_shape(input_shape)
    check_conv_stack(input_shape, 2)  # two stride-2 stages: height and width divisible by 4
    return input_shape


POOLING = {"max": keras.layers.MaxPooling2D, "avg": keras.layers.AveragePooling2D}


def gan_options(padding, downsampling, upsampling, norm, generator_norm, block, critic=False):
    """Validate a GAN's options and split them into ``conv_generator`` and ``conv_discriminator`` keyword
    arguments. ``critic=True`` (WGAN-GP) refuses batch normalization in the critic."""
    check_options(padding, downsampling, upsampling, norm, block)
    check_choice("generator_norm", generator_norm, NORMS)
    if critic and norm == "batch":
        raise InvalidArgumentError(
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
        return SyncBatchNormalization(name=f"bn{suffix}")(h)
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
    label, h = networks.add_condition(z, num_classes, name="label", concat_name="z_label")
    project = keras.layers.Dense(h0 * w0 * f1, use_bias=norm != "batch", name="project")
    h = _normalize(_weight_normalized(project, norm)(h), norm, "_project")
    h = keras.layers.LeakyReLU(0.2, name="act_project")(h)
    h = keras.layers.Reshape((h0, w0, f1))(h)
    h = _normalize(_gan_up(h, f0, padding, upsampling, norm, "deconv0"), norm, "0")
    h = keras.layers.LeakyReLU(0.2, name="act0")(h)
    if block == "residual":
        h = networks.residual_block(h, f0, 3, padding, norm, "leaky_relu", "res0")
    out = _gan_up(h, output_shape[-1], padding, upsampling, None, "output", activation="sigmoid")
    return keras.Model(networks.network_inputs(z, label), out, name=name)


def conv_discriminator(input_shape, filters, dropout=0.0, num_classes=0, name="discriminator",
                       padding="zeros", downsampling="stride", norm=None, block="plain"):
    """Two downsampling stages (stride-2 convolutions by default) with LeakyReLU, then one logit. No normalization
    by default (WGAN-GP safe). With ``num_classes`` the one-hot label is embedded as an extra image plane and, as
    in a projection discriminator, its learned embedding is dotted with the features and added to the logit."""
    x = keras.Input(input_shape, name="image")
    label, h = networks.add_condition(x, num_classes, name="label", plane="label_plane", concat_name="image_label")
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
    return keras.Model(networks.network_inputs(x, label), out, name=name)


def check_filters(filters):
    """Validate the two stage widths of the DCGAN stack."""
    filters = tuple(filters)
    if len(filters) != 2:
        raise InvalidArgumentError(f"`filters` must be two sizes (first and second stride-2 stage), e.g. (64, 128); "
                                   f"received {filters!r}.")
    return tuple(check_positive_int("filters entries", f) for f in filters)
