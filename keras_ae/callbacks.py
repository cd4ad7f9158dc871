"""Keras callbacks for generative models."""

__all__ = ["SampleGrid"]

import inspect
import os

import keras

from keras_ae.errors import InvalidArgumentError


class SampleGrid(keras.callbacks.Callback):
    """Write a PNG grid of ``model.sample(n, seed=seed)`` at the end of every ``every``-th epoch.

    Works with any model that has ``sample(n, seed=...)`` returning images in [0, 1] of shape
    ``(n, H, W, C)`` (GANs, VAEs, ...). ``labels`` is passed on to conditional models'
    ``sample(n, labels=..., seed=...)``. The same ``seed`` every epoch shows how the same latent codes
    evolve. Files: ``directory/filename.format(epoch=epoch + 1)``; the paths are kept in ``self.paths``.
    """

    def __init__(self, directory, n=64, seed=0, every=1, labels=None, filename="samples_epoch{epoch:03d}.png",
                 ncols=None):
        super().__init__()
        if not isinstance(n, int) or n < 1:
            raise InvalidArgumentError(f"`n` must be a positive integer; received {n!r}.")
        if not isinstance(every, int) or every < 1:
            raise InvalidArgumentError(f"`every` must be a positive integer; received {every!r}.")
        self.directory, self.n, self.seed, self.every = directory, n, seed, every
        self.labels, self.filename, self.ncols = labels, filename, ncols
        self.paths = []

    def _sample(self):
        sample = getattr(self.model, "sample", None)
        if sample is None:
            raise InvalidArgumentError("SampleGrid needs a model with `sample(n, seed=...)`; "
                                       f"{type(self.model).__name__} "
                                       "has none.")
        kwargs = {"seed": self.seed}
        if self.labels is not None or "labels" in inspect.signature(sample).parameters:
            if self.labels is None:
                num_classes = getattr(self.model, "num_classes", None) or 1
                kwargs["labels"] = [i % num_classes for i in range(self.n)]
            else:
                kwargs["labels"] = self.labels
        return sample(self.n, **kwargs)

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.every:
            return
        from keras_ae.plotting import plot_samples

        path = os.path.join(self.directory, self.filename.format(epoch=epoch + 1))
        plot_samples(self._sample(), path, ncols=self.ncols, title=f"{self.model.name} epoch {epoch + 1}")
        self.paths.append(path)
