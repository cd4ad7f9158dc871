"""The zoo registry (timm-style): constructors register themselves with a decorator.

Adding a model touches its family module and nothing central. Tests are parametrized over
:func:`list_models`, so a registered entry is covered the moment it exists.
"""

import dataclasses
import inspect

from keras_ae.errors import unknown_name_message

_REGISTRY = {}


@dataclasses.dataclass(frozen=True)
class ModelEntry:
    name: str
    fn: object
    family: str
    summary: str
    test_kwargs: dict
    test_data: object  # a key of keras_ae.testing.TEST_DATA, or a callable (model, n, rng) -> TestData


def register(family, test_kwargs=None, test_data="images"):
    """Register a zoo constructor under its function name."""

    def decorator(fn):
        name = fn.__name__
        if name in _REGISTRY and _REGISTRY[name].fn is not fn:
            raise ValueError(f"A zoo model named {name!r} is already registered.")
        doc = inspect.getdoc(fn) or ""
        _REGISTRY[name] = ModelEntry(
            name=name,
            fn=fn,
            family=family,
            summary=doc.strip().splitlines()[0] if doc.strip() else "",
            test_kwargs=dict(test_kwargs or {}),
            test_data=test_data,
        )
        return fn

    return decorator


def list_models(family=None):
    """Sorted names of the registered models, optionally of one ``family``."""
    return sorted(n for n, e in _REGISTRY.items() if family is None or e.family == family)


def list_families():
    return sorted({e.family for e in _REGISTRY.values()})


def get_entry(name):
    if name not in _REGISTRY:
        raise ValueError(unknown_name_message("zoo model", name, list(_REGISTRY)))
    return _REGISTRY[name]


def create(name, **kwargs):
    """Build the named zoo model (compiled, ready to fit) with ``kwargs`` passed to its constructor."""
    entry = get_entry(name)
    params = inspect.signature(entry.fn).parameters
    if not any(p.kind is p.VAR_KEYWORD for p in params.values()):
        for key in kwargs:
            if key not in params:
                raise TypeError(unknown_name_message(f"argument of {name}()", key, list(params)))
    return entry.fn(**kwargs)


def describe(name):
    """Family, one-line summary and the arguments with their defaults."""
    entry = get_entry(name)
    args = {}
    for p in inspect.signature(entry.fn).parameters.values():
        if p.kind in (p.VAR_KEYWORD, p.VAR_POSITIONAL):
            continue
        args[p.name] = None if p.default is inspect.Parameter.empty else p.default
    return {"name": name, "family": entry.family, "summary": entry.summary, "arguments": args}
