"""Metrics beyond the training loss (likelihood bounds, distances, probes, segmentation scores).

Every module of this package is imported and its ``__all__`` re-exported here.
"""

from keras_ae._discovery import import_submodules

import_submodules(__name__, __path__, globals())
