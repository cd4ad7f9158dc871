"""One decorator registers every keras_ae class, and one loader reloads saved models safely."""

import json
import os
import zipfile

import keras

from keras_ae.errors import ArgumentTypeError, KerasAEError, ModelFileError, describe_value

PACKAGE = "keras_ae"


def register_serializable(cls):
    """Register ``cls`` with Keras under the ``keras_ae`` package (``keras_ae>ClassName``)."""
    return keras.saving.register_keras_serializable(package=PACKAGE)(cls)


def _fail(path, why):
    return ModelFileError(f"{path}: {why}")


def check_model_file(path):
    """The path of a loadable ``.keras`` file, or a :class:`~keras_ae.errors.ModelFileError` that names it and says
    what is wrong, checked before Keras opens it (Keras says "File not found" for an empty or truncated file):
    missing, a folder, empty, not a zip archive, no ``config.json`` or weights inside, a class keras_ae does not
    have. Returns ``(path, config)`` with the top-level config of the file."""
    if isinstance(path, bool) or not isinstance(path, (str, os.PathLike)):
        raise ArgumentTypeError(f"`path` must be the path of a .keras file; received {describe_value(path)}.")
    path = os.fspath(path)
    if not os.path.exists(path):
        raise _fail(path, "no such file.")
    if os.path.isdir(path):
        raise _fail(path, "is a folder, not a .keras file (a run folder of `keras-ae train` holds model.keras).")
    if path.endswith((".h5", ".hdf5")):
        return path, None  # Keras' legacy format: Keras reads it
    if not path.endswith(".keras"):
        raise _fail(path, "is not a .keras file: keras_ae models are saved with model.save('NAME.keras').")
    size = os.path.getsize(path)
    if size == 0:
        raise _fail(path, "is empty (0 bytes), not a .keras file: an interrupted save leaves such a file; save the "
                          "model again.")
    if not zipfile.is_zipfile(path):
        raise _fail(path, f"is not a .keras file: a .keras file is a zip archive, and this one ({size:,} bytes) is "
                          f"not (truncated by an interrupted save or a copy, corrupted, or another format).")
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            if "config.json" not in names:
                raise _fail(path, "holds no config.json: not a .keras file written by Keras.")
            if not any(n.endswith(".weights.h5") or n.endswith(".h5") for n in names):
                raise _fail(path, "holds no weights (model.weights.h5): the save was interrupted or the file was "
                                  "edited; save the model again.")
            config = json.loads(archive.read("config.json"))
    except (zipfile.BadZipFile, OSError, ValueError) as e:
        if isinstance(e, ModelFileError):
            raise
        raise _fail(path, f"is not a readable .keras file (truncated or corrupted): {e}") from None
    if not isinstance(config, dict):
        raise _fail(path, "config.json does not hold a model config.")
    registered = config.get("registered_name") or ""
    if registered.startswith(f"{PACKAGE}>") and keras.saving.get_registered_object(registered) is None:
        from keras_ae import __version__

        raise _fail(path, f"holds a keras_ae model of class {registered.split('>', 1)[1]!r}, which this keras_ae "
                          f"({__version__}) does not have: it was saved by another version of keras_ae, or edited.")
    return path, config


def load_model(path, compile=True, safe_mode=True):
    """Load a ``.keras`` file written by any keras_ae model.

    ``safe_mode`` stays ``True`` by default: no keras_ae model uses a ``Lambda`` layer,
    so nothing in a saved file is ever executed as code.

    Every failure is a :class:`~keras_ae.errors.ModelFileError` (a ``ValueError``) that names the file and what is
    wrong with it: missing, empty or truncated, not a ``.keras`` archive, a class this keras_ae does not have, or a
    saved config its class refuses (the argument named as the constructor names it, e.g. ``beta``).

    ``keras.saving.load_model`` loads the same files once ``keras_ae`` is imported (importing it registers the
    classes). Without that import Keras cannot know them: it raises ``TypeError: Could not locate class 'VAE'``, with
    the file's config, whose ``registered_name`` (``keras_ae>VAE``) names the package to import. This loader imports
    it itself.
    """
    import keras_ae  # noqa: F401  (registers every class before deserialization)

    path, config = check_model_file(path)
    class_name = (config or {}).get("class_name", "?")
    try:
        return keras.saving.load_model(path, compile=compile, safe_mode=safe_mode)
    except KeyError as e:
        raise _fail(path, f"the saved config of class {class_name!r} lacks the key {e.args[0]!r}: the file was edited, "
                          f"or written by another class or version.") from e
    except KerasAEError as e:  # a keras_ae constructor refused a saved value
        raise _fail(path, f"the saved config of class {class_name!r} is invalid: {e}") from e
    except (TypeError, ValueError, OSError, AttributeError) as e:
        raise _fail(path, f"cannot be loaded as a {class_name!r} model: {type(e).__name__}: {e}") from e
