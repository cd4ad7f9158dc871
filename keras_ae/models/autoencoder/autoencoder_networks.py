"""Networks of the autoencoder family beyond the shared conv/MLP builders of :mod:`keras_ae.networks`: the one-layer
code encoder and linear decoder of sparse and contractive autoencoders, and the layer stack of the stacked
autoencoder."""

__all__ = ["dense_code_encoder", "dense_linear_decoder", "stacked_networks"]

import math

import keras

from keras_ae.errors import InvalidArgumentError, check_positive_int


def dense_code_encoder(input_shape, units, activation, extra=None, name="encoder"):
    """Flatten, then one dense layer to the code (``extra``, e.g. a sparsity layer, applied to the code)."""
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


def stacked_networks(input_shape, layer_sizes=(256, 64), activation="relu", dropout=0.0):
    """Encoder ``Flatten -> enc0 .. enc{L-1}`` and decoder ``dec{L-1} .. dec0 -> Reshape`` (functional models).

    ``dec0`` is linear (the likelihood parameter); the other decoder layers use ``activation``, like the codes
    they reconstruct. ``dropout`` (a rate) adds Dropout before each encoder layer (regularizes the fine-tuning).
    """
    input_shape = tuple(int(s) for s in input_shape)
    layer_sizes = tuple(check_positive_int("layer_sizes entries", int(s)) for s in layer_sizes)
    if not layer_sizes:
        raise InvalidArgumentError("`layer_sizes` must name at least one layer, e.g. (256, 64).")
    x = keras.Input(input_shape, name="image")
    h = keras.layers.Flatten(name="flatten")(x)
    for i, units in enumerate(layer_sizes):
        if dropout:
            h = keras.layers.Dropout(dropout, name=f"dropout{i}")(h)
        h = keras.layers.Dense(units, activation=activation, name=f"enc{i}")(h)
    encoder = keras.Model(x, h, name="encoder")
    sizes_in = (math.prod(input_shape),) + layer_sizes[:-1]
    z = keras.Input((layer_sizes[-1],), name="z")
    h = z
    for i in reversed(range(len(layer_sizes))):
        h = keras.layers.Dense(sizes_in[i], activation=None if i == 0 else activation, name=f"dec{i}")(h)
    h = keras.layers.Reshape(input_shape, name="reshape")(h)
    decoder = keras.Model(z, h, name="decoder")
    return encoder, decoder
