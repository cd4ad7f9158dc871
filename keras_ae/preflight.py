"""Checks run before any work (no data read, no model built, nothing trained): the command line's options, a recipe's
values and the output folder. Each raises the package's own error (``keras_ae.errors``) naming the option, the
recipe file and key, or the folder.

``keras-ae train`` calls them before :func:`keras_ae.recipes.run`; a recipe runner that is called from Python can
call :func:`check_recipe` and :func:`check_out_folder` itself.
"""

import inspect
import os
import tempfile

from keras_ae.errors import (InvalidArgumentError, RecipeError, RunFolderError, closest, describe_value,
                             is_integer)


def _check_count(option, value, minimum, error=InvalidArgumentError, where=""):
    if value is None:
        return None
    if not is_integer(value) or value < minimum:
        raise error(f"{where}{option} must be an integer >= {minimum}; received {describe_value(value)}.")
    return int(value)


def check_train_options(epochs=None, batch_size=None, seed=None, verbose=None):
    """The ``keras-ae train`` options given on the command line (``None`` when not given)."""
    _check_count("--epochs", epochs, 1)
    _check_count("--batch-size", batch_size, 1)
    _check_count("--seed", seed, 0)
    if verbose is not None and verbose not in (0, 1, 2):
        raise InvalidArgumentError(f"--verbose must be 0 (silent), 1 (progress bar) or 2 (one line per epoch); "
                                   f"received {verbose!r}.")


def constructor_keys(model):
    """The keyword arguments the zoo constructor ``model`` takes (its parameters and the deprecated names it still
    accepts), or ``None`` when it takes any."""
    from keras_ae import zoo
    from keras_ae.zoo.common import RENAMED_ARGUMENTS

    params = inspect.signature(zoo.get_entry(model).fn).parameters
    names = [p.name for p in params.values() if p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)]
    if any(p.kind is p.VAR_KEYWORD for p in params.values()):
        names += [old for old, (new, _) in RENAMED_ARGUMENTS.items() if new in names]
    return names


def check_model_args(model, model_args, error=InvalidArgumentError, where="--arg"):
    """Every key of ``model_args`` is an argument of the zoo constructor ``model`` (a typo is refused before the data
    are read, naming the closest argument)."""
    valid = constructor_keys(model)
    for key in model_args:
        if key not in valid:
            near = closest(key, valid, n=1)
            hint = f" Did you mean {near[0]!r}?" if near else ""
            raise error(f"{where}: {key!r} is not an argument of {model}().{hint} Its arguments: "
                        f"{', '.join(valid)}.")


def check_recipe(recipe):
    """A parsed recipe's values: ``[train] epochs >= 1``, ``seed >= 0``, ``[data] batch_size >= 1``, and
    ``[model_args]`` naming arguments of the model (a :class:`~keras_ae.errors.RecipeError` naming the file)."""
    source = recipe.source
    _check_count("epochs", recipe.train.get("epochs"), 1, RecipeError, f"{source}: [train] ")
    _check_count("seed", recipe.train.get("seed"), 0, RecipeError, f"{source}: [train] ")
    _check_count("batch_size", recipe.data.get("batch_size"), 1, RecipeError, f"{source}: [data] ")
    check_model_args(recipe.model, recipe.model_args, RecipeError, f"{source}: [model_args]")


def check_out_folder(out, option="--out"):
    """``out`` can hold a run's files: not a file, under a folder (not a file), writable (a probe file is created
    and removed, which also catches a read-only disk). The folder is created when missing. Raises
    :class:`~keras_ae.errors.RunFolderError` naming ``option`` and the path."""
    if isinstance(out, bool) or not isinstance(out, (str, os.PathLike)) or not os.fspath(out):
        raise InvalidArgumentError(f"{option} must be a folder path; received {describe_value(out)}.")
    path = os.fspath(out)
    if os.path.exists(path) and not os.path.isdir(path):
        raise RunFolderError(f"{option} {path!r} is a file, not a folder: choose a folder path (it is created when "
                             f"missing).")
    parent = os.path.abspath(path)
    while not os.path.exists(parent):
        parent = os.path.dirname(parent)
    if not os.path.isdir(parent):
        raise RunFolderError(f"{option} {path!r}: {parent!r} is a file, so no folder can be created under it.")
    try:
        os.makedirs(path, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=path, prefix=".keras_ae_write_test_")
        os.close(fd)
        os.remove(probe)
    except OSError as e:
        raise RunFolderError(f"{option} {path!r} cannot be written: {e.strerror or e} (check the folder's permissions "
                             f"and the free disk space).") from None
    return path
