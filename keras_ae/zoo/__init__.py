"""The model zoo, keras_ae's front door: ``list_models()``, ``create(name, **kwargs)``, ``describe(name)`` and every
constructor by name (``keras_ae.zoo.conv_vae``).

Each family registers its constructors in ``keras_ae/models/<family>/<family>_zoo.py``; this package discovers and
imports every such module (:func:`keras_ae.zoo.registry.discover`), so adding a family touches nothing here.
"""

from keras_ae.zoo.registry import (  # noqa: F401
    ModelEntry,
    create,
    describe,
    discover,
    get_entry,
    list_families,
    list_models,
    register,
)

discover()


def __getattr__(name):
    """``keras_ae.zoo.NAME`` is the registered constructor ``NAME`` (also one registered after import)."""
    from keras_ae.zoo import registry

    if name in registry._REGISTRY:
        return registry._REGISTRY[name].fn
    raise AttributeError(f"module 'keras_ae.zoo' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(list_models()))
