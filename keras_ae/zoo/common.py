"""Helpers shared by the zoo constructors."""

import keras

from keras_ae.errors import check_positive_int
from keras_ae.networks import check_image_shape


def compile_model(model, optimizer=None, learning_rate=1e-3):
    """Compile with Adam(learning_rate) unless an ``optimizer`` (instance or name) is given."""
    if optimizer is None:
        optimizer = keras.optimizers.Adam(learning_rate=learning_rate)
    model.compile(optimizer=optimizer)
    if hasattr(model, "build_by_calling"):
        model.build_by_calling()
    return model


def image_and_latent(input_shape, latent_dim):
    return check_image_shape(input_shape), check_positive_int("latent_dim", latent_dim)
