"""keras_ae: a Keras 3 model zoo of autoencoders, VAEs and the generative models around them.

``import keras_ae`` imports every module that registers a Keras-serializable class, so
``keras.saving.load_model(path)`` works afterwards (``keras_ae.load_model`` does the same).

Where things live: ``keras_ae/models/<family>/`` holds everything about one family (its model classes, networks,
zoo constructors and figures); ``layers/``, ``networks.py``, ``ops/``, ``plotting/``, ``data/``, ``evaluation/`` are
shared; ``zoo`` is the front door (``keras_ae.zoo.conv_vae(...)``).
"""

__version__ = "0.2.0.dev0"

from keras_ae import _moved

_moved.install()

from keras_ae.serialization import register_serializable, load_model  # noqa: E402,F401
from keras_ae import losses  # noqa: E402,F401
from keras_ae import ops  # noqa: E402,F401
from keras_ae import layers  # noqa: E402,F401
from keras_ae import networks  # noqa: E402,F401
from keras_ae import plotting  # noqa: E402,F401
from keras_ae import models  # noqa: E402,F401
from keras_ae import zoo  # noqa: E402,F401
from keras_ae import data  # noqa: E402,F401
from keras_ae import evaluation  # noqa: E402,F401
from keras_ae import callbacks  # noqa: E402,F401
