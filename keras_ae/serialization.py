"""One decorator registers every keras_ae class, and one loader reloads saved models safely."""

import keras

PACKAGE = "keras_ae"


def register_serializable(cls):
    """Register ``cls`` with Keras under the ``keras_ae`` package (``keras_ae>ClassName``)."""
    return keras.saving.register_keras_serializable(package=PACKAGE)(cls)


def load_model(path, compile=True, safe_mode=True):
    """Load a ``.keras`` file written by any keras_ae model.

    ``safe_mode`` stays ``True`` by default: no keras_ae model uses a ``Lambda`` layer,
    so nothing in a saved file is ever executed as code.
    """
    import keras_ae  # noqa: F401  (registers every class before deserialization)

    return keras.saving.load_model(path, compile=compile, safe_mode=safe_mode)
