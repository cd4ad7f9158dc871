"""Datasets as batched ``tf.data`` pipelines of float32 images in [0, 1], shape (H, W, C), plus synthetic sets.

Names for :func:`load`:
- any tfds image dataset (``mnist``, ``fashion_mnist``, ``cifar10``, ...) with tfds split syntax;
- ``digits``: scikit-learn's bundled 8x8 digits (1,797 images; ``train`` = first 1,440, ``test`` = the rest);
- ``idx:FOLDER``: a folder of MNIST-format IDX files (``train-*`` for ``train``, ``t10k-*`` for ``test``).

Local sources accept the same split syntax as tfds: ``"test[:8000]"``, ``"test[8000:]"``, ``"train[:50%]"``,
``"train+test"``, with tfds' bounds (percentages in [-100%, 100%], integers in [-n, n]; anything else is an error).

A tfds dataset not yet prepared in ``data_dir`` is downloaded by tfds, after a check (a few seconds at most,
``KERAS_AE_DOWNLOAD_PROBE_TIMEOUT``) that its download hosts answer: offline, :class:`DatasetUnavailableError`
comes within seconds instead of after minutes of tfds' retries. Every module of this package is imported and its
``__all__`` re-exported here.
"""

from keras_ae._discovery import import_submodules

import_submodules(__name__, __path__, globals())
