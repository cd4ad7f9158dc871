"""Model classes, one module per family; every public class is importable from here."""

from keras_ae._discovery import import_submodules

import_submodules(__name__, __path__, globals())
