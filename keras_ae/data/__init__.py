"""Datasets as batched ``tf.data`` pipelines of float32 images in [0, 1], shape (H, W, C), plus synthetic sets.

Names for :func:`load`:
- any tfds image dataset (``mnist``, ``fashion_mnist``, ``cifar10``, ...) with tfds split syntax;
- ``digits``: scikit-learn's bundled 8x8 digits (1,797 images; ``train`` = first 1,440, ``test`` = the rest);
- ``idx:FOLDER``: a folder of MNIST-format IDX files (``train-*`` for ``train``, ``t10k-*`` for ``test``).

Local sources accept the same split syntax as tfds: ``"test[:8000]"``, ``"test[8000:]"``, ``"train[:50%]"``,
``"train+test"``. Every module of this package is imported and its ``__all__`` re-exported here.
"""

from keras_ae._discovery import import_submodules

import_submodules(__name__, __path__, globals())
