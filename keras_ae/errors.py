"""Error helpers: messages that say what was wrong and what is expected."""

import difflib


def closest(name, choices, n=3):
    """The valid names closest to ``name`` (for 'did you mean' messages)."""
    return difflib.get_close_matches(str(name), [str(c) for c in choices], n=n, cutoff=0.4)


def unknown_name_message(kind, name, choices):
    near = closest(name, choices)
    hint = f" Did you mean {', '.join(repr(c) for c in near)}?" if near else ""
    listing = ", ".join(sorted(map(str, choices)))
    return f"Unknown {kind} {name!r}.{hint} Valid names: {listing}."


def check_positive_int(name, value, minimum=1):
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"`{name}` must be an integer >= {minimum}; received {value!r}.")
    return value


def check_non_negative(name, value):
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"`{name}` must be a number >= 0; received {value!r}.") from None
    if not v >= 0 or v != v or v == float("inf"):
        raise ValueError(f"`{name}` must be a finite number >= 0; received {value!r}.")
    return v


def check_choice(name, value, choices):
    if value not in choices:
        raise ValueError(
            f"`{name}` must be one of {', '.join(repr(c) for c in choices)}; received {value!r}."
        )
    return value


def check_toml_table(table, schema, section, source, error=ValueError):
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
        raise TypeError(f"{owner}: got both `{new}` and its deprecated name `{old}`; pass `{new}` only.")
    return old_value


def rename_config_keys(config, renames):
    """A copy of a saved config with old keys renamed (files written by earlier versions load unchanged)."""
    config = dict(config)
    for old, new in renames.items():
        if old in config and new not in config:
            config[new] = config.pop(old)
    return config


def reject_unknown(kwargs, owner, valid, why=None):
    """Raise a clear TypeError for keyword arguments ``owner`` does not take (naming the closest valid ones)."""
    if not kwargs:
        return
    key = sorted(kwargs)[0]
    if why and key in why:
        raise TypeError(f"{owner} does not take `{key}`: {why[key]}")
    raise TypeError(unknown_name_message(f"argument of {owner}", key, list(valid)))
