"""keras_ae: a Keras 3 model zoo of autoencoders, VAEs and the generative models around them.

``import keras_ae`` imports every module that registers a Keras-serializable class, so
``keras.saving.load_model(path)`` works afterwards (``keras_ae.load_model`` does the same).
"""

__version__ = "0.1.0"

from keras_ae.serialization import register_serializable, load_model  # noqa: F401
from keras_ae import losses  # noqa: F401
from keras_ae import layers  # noqa: F401
from keras_ae import networks  # noqa: F401
from keras_ae import models  # noqa: F401
from keras_ae import zoo  # noqa: F401
from keras_ae import data  # noqa: F401
from keras_ae import evaluation  # noqa: F401
from keras_ae import callbacks  # noqa: F401
