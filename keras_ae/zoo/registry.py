"""The zoo registry (timm-style): constructors register themselves with a decorator.

Adding a model touches its family module and nothing central. Tests are parametrized over
:func:`list_models`, so a registered entry is covered the moment it exists.
"""

import dataclasses
import functools
import importlib
import inspect
import pkgutil

from keras_ae import precision
from keras_ae.errors import ArgumentTypeError, InvalidArgumentError, describe_value, unknown_name_message

MODELS_PACKAGE = "keras_ae.models"

_REGISTRY = {}


@dataclasses.dataclass(frozen=True)
class ModelEntry:
    name: str
    fn: object
    family: str
    summary: str
    test_kwargs: dict
    test_data: object  # a kind of keras_ae.testing.CHECK_DATA, or a callable (model, n, rng) -> (x, y, inputs)


def discover(package=MODELS_PACKAGE, suffix="_zoo"):
    """Import every family's zoo module: each module named ``*_zoo`` (``suffix``) in a subpackage of ``package`` (by
    default ``keras_ae/models/<family>/<family>_zoo.py``), so its ``@register`` decorators run. Returns the modules'
    names. Safe to call again (modules are imported once). The recipe runner finds ``*_recipe`` modules the same
    way."""
    root = importlib.import_module(package)
    names = []
    for family in sorted(pkgutil.iter_modules(root.__path__), key=lambda m: m.name):
        if not family.ispkg or family.name.startswith("_"):
            continue
        sub = importlib.import_module(f"{package}.{family.name}")
        for module in sorted(pkgutil.iter_modules(sub.__path__), key=lambda m: m.name):
            if module.name.endswith(suffix):
                names.append(f"{package}.{family.name}.{module.name}")
                importlib.import_module(names[-1])
    return names


DTYPE_DOC = ("dtype: the dtype policy the model is built with, like a Keras layer's ``dtype`` (``\"float32\"``, "
             "``\"mixed_bfloat16\"``, ``\"mixed_float16\"`` or a ``keras.DTypePolicy``; ``None``: the global policy); "
             "saved in the model's config. Under ``mixed_float16`` the optimizer is loss-scaled.")


def accepts_dtype(fn):
    """``fn`` with a keyword argument ``dtype``: the dtype policy every layer it builds takes (networks and model,
    through :func:`keras_ae.precision.policy_scope`). Added by :func:`register` to every zoo constructor."""
    signature = inspect.signature(fn)
    if "dtype" in signature.parameters:
        return fn

    @functools.wraps(fn)
    def constructor(*args, dtype=None, **kwargs):
        with precision.policy_scope(dtype):
            return fn(*args, **kwargs)

    params = [p for p in signature.parameters.values() if p.kind is not p.VAR_KEYWORD]
    params.append(inspect.Parameter("dtype", inspect.Parameter.KEYWORD_ONLY, default=None))
    params += [p for p in signature.parameters.values() if p.kind is p.VAR_KEYWORD]
    constructor.__signature__ = signature.replace(parameters=params)
    doc = fn.__doc__ or ""
    line = "\n        " + DTYPE_DOC
    at = doc.find("\n\n    Example:")
    constructor.__doc__ = doc[:at] + line + doc[at:] if at >= 0 else doc + line
    return constructor


def register(family, test_kwargs=None, test_data="images"):
    """Register a zoo constructor under its function name; it also accepts ``dtype=`` (:func:`accepts_dtype`).

    The registered (and returned) constructor first checks the arguments every constructor shares
    (:data:`keras_ae.zoo.common.COMMON_ARGUMENTS`: ``learning_rate``, ``optimizer``, ``activation``, ``latent_dim``,
    ...), so a bad value is refused by name before any network is built.

    Args:
        family: the family's name (``"vae"``, ``"gan"``, ...), used by ``list_models(family)``.
        test_kwargs: constructor arguments for a tiny model, used by the registry-parametrized tests and
            ``keras_ae.testing.smoke``.
        test_data: how to make tiny data for the shared model checks: the name of a kind in
            ``keras_ae.testing.CHECK_DATA`` (``"images"``, ``"images_labels"``, ``"points"``, ``"gan"``,
            ``"gan_labels"``, ``"flow"``, ``"segmentation"``), or a callable ``(model, n, rng) -> (x, y, inputs)``:
            ``fit(x, y)`` trains the model and ``model(inputs, training=False)`` probes it.
    """

    def decorator(fn):
        name = fn.__name__
        if name in _REGISTRY and inspect.unwrap(_REGISTRY[name].fn) is not inspect.unwrap(fn):
            raise InvalidArgumentError(f"A zoo model named {name!r} is already registered.")
        fn = accepts_dtype(fn)
        doc = inspect.getdoc(fn) or ""

        @functools.wraps(fn)  # same name, docstring and signature (inspect follows __wrapped__)
        def constructor(*args, **kwargs):
            from keras_ae.zoo.common import check_constructor_arguments

            check_constructor_arguments(fn, args, kwargs)
            return fn(*args, **kwargs)

        _REGISTRY[name] = ModelEntry(
            name=name,
            fn=constructor,
            family=family,
            summary=doc.strip().splitlines()[0] if doc.strip() else "",
            test_kwargs=dict(test_kwargs or {}),
            test_data=test_data,
        )
        return constructor

    return decorator


def list_models(family=None):
    """Sorted names of the registered models, optionally of one ``family`` (an unknown family is an error)."""
    if family is not None and family not in list_families():
        raise InvalidArgumentError(unknown_name_message("model family", family, list_families()))
    return sorted(n for n, e in _REGISTRY.items() if family is None or e.family == family)


def list_families():
    return sorted({e.family for e in _REGISTRY.values()})


def get_entry(name):
    if not isinstance(name, str):
        raise ArgumentTypeError(f"A zoo model name must be a string such as 'conv_vae'; received "
                                f"{describe_value(name)}.")
    if name not in _REGISTRY:
        raise InvalidArgumentError(unknown_name_message("zoo model", name, list(_REGISTRY)))
    return _REGISTRY[name]


def create(name, **kwargs):
    """Build the named zoo model (compiled, ready to fit) with ``kwargs`` passed to its constructor."""
    entry = get_entry(name)
    params = inspect.signature(entry.fn).parameters
    if not any(p.kind is p.VAR_KEYWORD for p in params.values()):
        for key in kwargs:
            if key not in params:
                raise ArgumentTypeError(unknown_name_message(f"argument of {name}()", key, list(params)))
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
