"""keras_ae: a Keras 3 model zoo of autoencoders, VAEs and the generative models around them.

``import keras_ae`` imports every module that registers a Keras-serializable class, so
``keras.saving.load_model(path)`` works afterwards (``keras_ae.load_model`` does the same).

Where things live: ``keras_ae/models/<family>/`` holds everything about one family (its model classes, networks,
zoo constructors, figures and recipe); ``layers/``, ``networks.py``, ``ops/``, ``plotting/``, ``data/``, ``evaluation/``
are shared; ``zoo`` is the front door (``keras_ae.zoo.conv_vae(...)``).

In the ``keras-ae`` command-line process alone these imports wait until the first attribute is used (or the command
needs them), so ``keras-ae --help`` answers without starting TensorFlow.
"""

__version__ = "0.2.0.dev0"

import os as _os
import sys as _sys

_LOADED = False


def _load():
    """Import every module (registers the serializable classes, the zoo and the datasets)."""
    global _LOADED
    if _LOADED:
        return
    _LOADED = True
    from keras_ae import _moved

    _moved.install()
    g = globals()
    from keras_ae.serialization import load_model, register_serializable

    g.update(load_model=load_model, register_serializable=register_serializable)
    import importlib

    for name in ("losses", "ops", "layers", "networks", "plotting", "models", "zoo", "data", "evaluation",
                 "callbacks"):
        g[name] = importlib.import_module(f"keras_ae.{name}")


def _command_line_process():
    return _os.path.basename(_sys.argv[0] if _sys.argv and _sys.argv[0] else "") in ("keras-ae", "keras-ae.exe")


# Submodules that import neither Keras nor TensorFlow: ``from keras_ae import recipes`` imports them alone.
_LIGHT = {"cli", "errors", "preflight", "recipes", "runs", "tuning", "_moved", "_discovery"}


def __getattr__(name):
    if not _LOADED and not name.startswith("__") and name not in _LIGHT:
        _load()
        if name in globals():
            return globals()[name]
    raise AttributeError(f"module 'keras_ae' has no attribute {name!r}")


if not _command_line_process():
    _load()
