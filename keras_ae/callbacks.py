"""Keras callbacks for generative models."""

__all__ = ["SampleGrid", "TensorBoardLogger"]

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


class TensorBoardLogger(keras.callbacks.Callback):
    """Per-epoch TensorBoard summaries in Keras' layout, without the ``tensorboard`` package.

    Scalars: ``log_dir/train`` gets ``epoch_<metric>`` for every training metric (and ``epoch_learning_rate``),
    ``log_dir/validation`` the ``val_`` metrics under the same tags, so TensorBoard draws them on one chart.
    Images: ``images(model)`` (optional) returns ``{name: images (N, H, W, C) in [0, 1]}`` written to
    ``log_dir/images`` after every epoch (reconstructions, samples). Event files are written with TensorFlow's own
    summary ops; view them with ``tensorboard --logdir log_dir``.
    """

    def __init__(self, log_dir, images=None):
        super().__init__()
        self.log_dir, self.images = os.fspath(log_dir), images
        self._writers = {}

    def _writer(self, name):
        import tensorflow as tf

        if name not in self._writers:
            self._writers[name] = tf.summary.create_file_writer(os.path.join(self.log_dir, name))
        return self._writers[name]

    @staticmethod
    def _metadata(plugin):
        from tensorflow.core.framework import summary_pb2

        return summary_pb2.SummaryMetadata(plugin_data=summary_pb2.SummaryMetadata.PluginData(plugin_name=plugin))

    def _scalars(self, run, values, step):
        import tensorflow as tf

        if not values:
            return
        with self._writer(run).as_default():
            for tag, value in values.items():
                tf.summary.write(f"epoch_{tag}", tf.constant(float(value), tf.float32), step=step,
                                 metadata=self._metadata("scalars"))

    def on_epoch_end(self, epoch, logs=None):
        import numpy as np
        import tensorflow as tf

        logs = logs or {}
        train = {k: v for k, v in logs.items() if not k.startswith("val_") and np.ndim(v) == 0}
        lr = getattr(getattr(self.model, "optimizer", None), "learning_rate", None)
        if lr is not None:
            try:
                train.setdefault("learning_rate", float(keras.ops.convert_to_numpy(lr)))
            except (TypeError, ValueError):
                pass
        self._scalars("train", train, epoch)
        self._scalars("validation", {k[4:]: v for k, v in logs.items() if k.startswith("val_") and np.ndim(v) == 0},
                      epoch)
        if self.images is not None:
            batches = self.images(self.model) or {}
            with self._writer("images").as_default():
                for tag, batch in batches.items():
                    batch = np.clip(np.asarray(batch, "float32"), 0.0, 1.0)
                    if batch.ndim == 3:
                        batch = batch[..., None]
                    pngs = [tf.image.encode_png(tf.cast(tf.round(255 * b), tf.uint8)) for b in batch]
                    h, w = batch.shape[1:3]
                    tensor = tf.stack([tf.as_string(w), tf.as_string(h)] + pngs)
                    tf.summary.write(tag, tensor, step=epoch, metadata=self._metadata("images"))
        for writer in self._writers.values():
            writer.flush()

    def on_train_end(self, logs=None):
        for writer in self._writers.values():
            writer.close()
        self._writers = {}
