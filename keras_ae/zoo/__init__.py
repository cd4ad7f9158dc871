"""The model zoo: ``list_models()``, ``create(name, **kwargs)``, ``describe(name)`` and the constructors.

Every module in this package registers its constructors on import; this package imports them all
and exposes each constructor by name (``keras_ae.zoo.conv_vae``).
"""

from keras_ae._discovery import import_submodules
from keras_ae.zoo.registry import (  # noqa: F401
    ModelEntry,
    create,
    describe,
    get_entry,
    list_families,
    list_models,
    register,
)

import_submodules(__name__, __path__)
globals().update({name: get_entry(name).fn for name in list_models()})
