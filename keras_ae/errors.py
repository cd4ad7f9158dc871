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
