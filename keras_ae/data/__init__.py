"""Datasets as batched ``tf.data`` pipelines of float32 images in [0, 1], shape (H, W, C).

Names:
- any tfds image dataset (``mnist``, ``fashion_mnist``, ``cifar10``, ...) with tfds split syntax;
- ``digits``: scikit-learn's bundled 8x8 digits (1,797 images; ``train`` = first 1,440, ``test`` = the rest);
- ``idx:FOLDER``: a folder of MNIST-format IDX files (``train-*`` for ``train``, ``t10k-*`` for ``test``).

Local sources accept the same split syntax as tfds: ``"test[:8000]"``, ``"test[8000:]"``, ``"train[:50%]"``,
``"train+test"``.
"""

from keras_ae.data.sources import (  # noqa: F401
    DatasetUnavailableError,
    load,
    load_idx,
    load_numpy,
    parse_split,
    read_idx,
)
