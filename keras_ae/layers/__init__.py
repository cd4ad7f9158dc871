"""Reusable building blocks, one module per concern. Every public layer is importable from here."""

from keras_ae._discovery import import_submodules

import_submodules(__name__, __path__, globals())
