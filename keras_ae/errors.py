"""keras_ae's own error types, and helpers for messages that say what was wrong and what is expected.

Every error keras_ae raises on purpose is a :class:`KerasAEError`. Each kind also derives from the builtin exception
a caller already catches (``InvalidArgumentError`` is a ``ValueError``, ``ArgumentTypeError`` also a ``TypeError``,
``RunFolderError`` an ``OSError``...), so ``except ValueError`` keeps working, and carries the ``keras-ae`` command's
exit status for its kind (the table in README.md, "Errors and exit statuses").
"""

import difflib
import math
import numbers


class KerasAEError(Exception):
    """Base of every error keras_ae raises on purpose (its message names the argument, file or data at fault)."""

    exit_status = 1
    # Keras prepends "Exception encountered when calling X.call()" (and the arguments received) to an exception
    # raised in a layer's call() unless the exception already carries this attribute. Ours already say what was
    # wrong, so they pass through Keras unchanged.
    _keras_call_info_injected = True


class InvalidArgumentError(KerasAEError, ValueError):
    """An argument (of a constructor, a method or the command line) has a value out of range or not among the
    choices."""

    exit_status = 2


class ArgumentTypeError(InvalidArgumentError, TypeError):
    """An argument of the wrong type, or a keyword argument that does not exist (also a ``TypeError``)."""


class ModelStateError(KerasAEError, RuntimeError):
    """A method called before the model is ready for it (``fit`` before ``compile``)."""

    exit_status = 2


class NotFittedError(ModelStateError, ValueError):
    """A method that needs a fitted part the model does not have yet (a VQ-VAE's prior before ``fit_prior``, a latent
    sampler before ``fit``); also a ``ValueError``, as it was before keras_ae had its own types."""


class RecipeError(KerasAEError, ValueError):
    """A recipe file (``zoo/*.toml``) that cannot be read or does not follow the schema, or holds a value out of
    range."""

    exit_status = 3


class JobError(KerasAEError, ValueError):
    """A tuning job file (``tuning/*.toml``) that cannot be read or does not follow the schema (or names something
    that does not exist)."""

    exit_status = 3


class InvalidDataError(KerasAEError, ValueError):
    """Data a model cannot take: wrong shape or type, NaN/inf, values out of range, missing or unexpected labels, an
    empty array."""

    exit_status = 4


class DatasetUnavailableError(KerasAEError, RuntimeError):
    """A dataset exists but its files are not on this machine and cannot be downloaded."""

    exit_status = 5


class DataFileNotFoundError(DatasetUnavailableError, FileNotFoundError):
    """A local data source (an IDX folder or file) that does not exist (also a ``FileNotFoundError``)."""


class ModelFileError(KerasAEError, ValueError):
    """A ``.keras`` file that does not exist, is not a ``.keras`` archive (empty, truncated, another format), or holds
    a config keras_ae cannot rebuild."""

    exit_status = 6


class RunFolderError(KerasAEError, OSError):
    """An output folder that cannot be used: a file in its place, no permission to write, a read-only disk."""

    exit_status = 7


class InsufficientMemoryError(KerasAEError, MemoryError):
    """A request whose result cannot fit in the memory available (e.g. ``sample(10**9)``), refused before any work."""

    exit_status = 8


class KerasAEWarning(UserWarning):
    """A result keras_ae computed but that is likely not what the caller wanted (e.g. an overflowing ``log_prob``)."""


def describe_value(value, limit=80):
    """``repr(value)`` cut to ``limit`` characters, with its type: for messages about a value received."""
    text = repr(value)
    if len(text) > limit:
        text = text[: limit - 3] + "..."
    return f"{text} ({type(value).__name__})"


def closest(name, choices, n=3):
    """The valid names closest to ``name`` (for 'did you mean' messages)."""
    return difflib.get_close_matches(str(name), [str(c) for c in choices], n=n, cutoff=0.4)


def unknown_name_message(kind, name, choices):
    near = closest(name, choices)
    hint = f" Did you mean {', '.join(repr(c) for c in near)}?" if near else ""
    listing = ", ".join(sorted(map(str, choices)))
    return f"Unknown {kind} {name!r}.{hint} Valid names: {listing}."


def is_integer(value):
    """True for Python and numpy integers (not booleans)."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def check_positive_int(name, value, minimum=1):
    """``value`` as an ``int`` when it is an integer (Python or numpy) >= ``minimum``; an
    :class:`ArgumentTypeError` for a non-integer (2.5, "3", True), an :class:`InvalidArgumentError` below it."""
    if not is_integer(value):
        raise ArgumentTypeError(f"`{name}` must be an integer >= {minimum}; received {describe_value(value)}.")
    if value < minimum:
        raise InvalidArgumentError(f"`{name}` must be an integer >= {minimum}; received {value!r}.")
    return int(value)


def check_optional_positive_int(name, value, minimum=1):
    """``None``, or :func:`check_positive_int`."""
    return None if value is None else check_positive_int(name, value, minimum)


def _number(name, value, expected):
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ArgumentTypeError(f"`{name}` must be {expected}; received {describe_value(value)}.")
    return float(value)


def check_non_negative(name, value):
    """``value`` as a ``float`` when it is a finite number >= 0."""
    v = _number(name, value, "a finite number >= 0")
    if not (v >= 0 and math.isfinite(v)):
        raise InvalidArgumentError(f"`{name}` must be a finite number >= 0; received {value!r}.")
    return v


def check_positive(name, value):
    """``value`` as a ``float`` when it is a finite number > 0 (a learning rate, a scale, a temperature)."""
    v = _number(name, value, "a finite number > 0")
    if not (v > 0 and math.isfinite(v)):
        raise InvalidArgumentError(f"`{name}` must be a finite number > 0; received {value!r}.")
    return v


def check_fraction(name, value, high_inclusive=False):
    """``value`` as a ``float`` in ``[0, 1)`` (a rate such as dropout), or ``[0, 1]`` with ``high_inclusive``."""
    interval = "[0, 1]" if high_inclusive else "[0, 1)"
    v = _number(name, value, f"a number in {interval}")
    if not (0.0 <= v <= 1.0) or (v == 1.0 and not high_inclusive):
        raise InvalidArgumentError(f"`{name}` must be a number in {interval}; received {value!r}.")
    return v


def check_int_sequence(name, value, minimum=1, allow_empty=False):
    """``value`` (a list or tuple of integers >= ``minimum``, e.g. layer widths) as a tuple of ints."""
    if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple)):
        raise ArgumentTypeError(f"`{name}` must be a list or tuple of integers >= {minimum} (e.g. (32, 64)); received "
                                f"{describe_value(value)}.")
    if not value and not allow_empty:
        raise InvalidArgumentError(f"`{name}` must hold at least one integer >= {minimum}; received {value!r}.")
    for v in value:
        if not is_integer(v) or v < minimum:
            raise InvalidArgumentError(f"`{name}` must hold integers >= {minimum}; received {value!r}.")
    return tuple(int(v) for v in value)


def check_choice(name, value, choices):
    if value not in choices:
        raise InvalidArgumentError(
            f"`{name}` must be one of {', '.join(repr(c) for c in choices)}; received {value!r}."
        )
    return value


def read_text_file(path, kind, error):
    """The UTF-8 text of ``path`` (a recipe or a job file); ``error`` (e.g. :class:`RecipeError`) naming the file when
    it does not exist, is a folder, cannot be read or is not UTF-8 text (a binary file)."""
    import os

    if isinstance(path, bool) or not isinstance(path, (str, bytes, os.PathLike)):
        raise error(f"The {kind} must be a path; received {describe_value(path)}.")
    name = os.fsdecode(path)
    if os.path.isdir(name):
        raise error(f"{name}: is a folder, not a {kind} (a TOML file).")
    if not os.path.exists(name):
        raise error(f"{kind.capitalize()} {name!r} not found.")
    with open(name, "rb") as f:  # a PermissionError stays an OSError: the CLI reports it with its own status
        data = f.read()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise error(f"{name}: not a {kind}: the file is not UTF-8 text (byte {e.start} is {data[e.start]:#04x}); "
                    f"a {kind} is a TOML text file.") from None


def check_toml_table(table, schema, section, source, error=RecipeError):
    """Check a parsed TOML table (a recipe's or a tuning job's) against ``schema`` ({key: type}).

    An unknown key is an ``error`` naming the key, the closest valid one and all valid keys; a value of the
    wrong type names the key, the type expected and the value received. ``section`` is the table's name
    (``""`` for the top level) and ``source`` the file, for the message.
    """
    where = f"[{section}]" if section else "the top level"
    for key, value in table.items():
        if key not in schema:
            near = closest(key, schema, n=1)
            hint = f" Did you mean {near[0]!r}?" if near else ""
            raise error(f"{source}: unknown key {key!r} in {where}.{hint} Valid keys: {', '.join(sorted(schema))}.")
        expected = schema[key]
        if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
            raise error(f"{source}: {where} key {key!r} must be a {expected.__name__}; received {value!r}.")


class KerasAEDeprecationWarning(FutureWarning):
    """A keras_ae name that still works but will be removed (a FutureWarning, so users see it by default)."""


def warn_renamed(old, new, owner, removal="0.3"):
    import warnings

    warnings.warn(f"{owner}: `{old}` is deprecated, use `{new}` instead (the old name will be removed in keras_ae "
                  f"{removal}).", KerasAEDeprecationWarning, stacklevel=4)


def take_renamed(kwargs, old, new, value, default, owner, convert=None):
    """The value of argument ``new`` when a caller may still pass its deprecated name ``old`` in ``kwargs``.

    ``old`` is popped from ``kwargs`` and warned about (converted by ``convert`` when given); passing both names
    with different values is a ``TypeError``."""
    if old not in kwargs:
        return value
    old_value = kwargs.pop(old)
    warn_renamed(old, new, owner)
    if convert is not None:
        old_value = convert(old_value)
    if value is not default and value != default and value != old_value:
        raise ArgumentTypeError(f"{owner}: got both `{new}` and its deprecated name `{old}`; pass `{new}` only.")
    return old_value


def rename_config_keys(config, renames):
    """A copy of a saved config with old keys renamed (files written by earlier versions load unchanged)."""
    config = dict(config)
    for old, new in renames.items():
        if old in config and new not in config:
            config[new] = config.pop(old)
    return config


def reject_unknown(kwargs, owner, valid, why=None):
    """Raise a clear :class:`ArgumentTypeError` (a ``TypeError``) for keyword arguments ``owner`` does not take (naming
    the closest valid ones)."""
    if not kwargs:
        return
    key = sorted(kwargs)[0]
    if why and key in why:
        raise ArgumentTypeError(f"{owner} does not take `{key}`: {why[key]}")
    raise ArgumentTypeError(unknown_name_message(f"argument of {owner}", key, list(valid)))
