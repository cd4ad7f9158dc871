"""Shared plumbing for keras_ae models: input preparation and checks, batched numpy helpers.

This is the one place that knows about input pipelines (``tf.data``) and array conversion, so the
family modules stay plain ``keras.ops`` code.
"""

__all__ = ["KerasAEModel"]

import keras
import numpy as np

from keras_ae.data import checks


def is_tf_dataset(x):
    try:
        import tensorflow as tf
    except ImportError:  # pragma: no cover - tensorflow is a dependency
        return False
    return isinstance(x, tf.data.Dataset)


def to_numpy(x):
    return keras.ops.convert_to_numpy(x)


def dataset_arrays(ds):
    """Collect a (batched) dataset into numpy: ``(images, labels_or_None)``."""
    xs, ys = [], []
    for element in ds.as_numpy_iterator():
        if isinstance(element, (tuple, list)):
            first = element[0]
            if isinstance(first, (tuple, list)):  # ((images, labels),)
                xs.append(first[0])
                ys.append(first[1])
            else:
                xs.append(first)
                if len(element) > 1:
                    ys.append(element[1])
        else:
            xs.append(element)
    x = np.concatenate(xs) if xs else np.zeros((0,))
    y = np.concatenate(ys) if ys else None
    return x, y


def batched(fn, arrays, batch_size=256):
    """Apply ``fn`` to slices of the numpy ``arrays`` and concatenate the numpy results."""
    n = len(arrays[0])
    if n == 0:
        raise ValueError("Received an empty input (0 examples).")
    outs = []
    for start in range(0, n, batch_size):
        chunk = [keras.ops.convert_to_tensor(a[start : start + batch_size]) for a in arrays]
        outs.append(to_numpy(fn(*chunk)))
    return np.concatenate(outs, axis=0)


class KerasAEModel(keras.Model):
    """Base class: ``fit``/``evaluate`` validate and adapt their data through :meth:`prepare_data`.

    Subclasses describe their inputs with :attr:`image_shape`, :attr:`value_range` (``None`` for
    unbounded data) and :attr:`num_classes` (``None`` when the model takes no labels).
    """

    value_range = None
    value_range_hint = "for this model"  # completes "images must lie in [lo, hi] ..."
    num_classes = None

    @property
    def image_shape(self):  # pragma: no cover - overridden
        raise NotImplementedError

    @property
    def needs_labels(self):
        return self.num_classes is not None

    def _missing_labels_error(self):
        return ValueError(
            f"{type(self).__name__} is trained on (images, labels) pairs: pass `fit(x, y)` with integer labels "
            f"in [0, {self.num_classes - 1}], or a dataset of (images, labels), e.g. "
            f"keras_ae.data.load(..., with_labels=True)."
        )

    def prepare_data(self, x, y=None):
        """Check ``(x, y)`` and return what Keras' ``fit`` should receive instead."""
        if is_tf_dataset(x):
            return self._prepare_dataset(x), None
        if isinstance(x, (tuple, list)) and self.needs_labels and y is None and len(x) == 2:
            x, y = x
        if isinstance(x, (np.ndarray,)) or hasattr(x, "shape"):
            images = checks.check_images_array(to_numpy(x) if not isinstance(x, np.ndarray) else x,
                                               self.image_shape, self.value_range, range_hint=self.value_range_hint)
            if self.needs_labels:
                if y is None:
                    raise self._missing_labels_error()
                labels = checks.check_labels_array(to_numpy(y), self.num_classes, len(images))
                return (images, labels), None
            return images, y
        return x, y  # generators and PyDatasets pass through unchanged

    def _prepare_dataset(self, ds):
        import tensorflow as tf

        spec = ds.element_spec
        check_images, check_labels = checks.dataset_checker(
            self.image_shape, self.value_range, self.num_classes, range_hint=self.value_range_hint
        )
        if self.needs_labels:
            if isinstance(spec, tuple) and len(spec) == 1 and isinstance(spec[0], tuple):
                spec = spec[0]
                ds = ds.map(lambda inputs: inputs)  # ((images, labels),) -> (images, labels)
            if not isinstance(spec, tuple) or len(spec) < 2:
                raise self._missing_labels_error()
            checks.check_image_batch_shape(spec[0].shape, self.image_shape)
            return ds.map(
                lambda x, y, *rest: ((check_images(x), check_labels(y)),),
                num_parallel_calls=tf.data.AUTOTUNE,
            ).prefetch(tf.data.AUTOTUNE)
        image_spec = spec[0] if isinstance(spec, tuple) else spec
        checks.check_image_batch_shape(image_spec.shape, self.image_shape)
        if isinstance(spec, tuple):
            fn = lambda x, *rest: (check_images(x), *rest)  # noqa: E731
        else:
            fn = check_images
        return ds.map(fn, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)

    def _prepare_validation(self, validation_data):
        if validation_data is None:
            return None
        if is_tf_dataset(validation_data):
            return self._prepare_dataset(validation_data)
        if isinstance(validation_data, (tuple, list)):
            x, y = validation_data[0], validation_data[1] if len(validation_data) > 1 else None
            x, y = self.prepare_data(x, y)
            return (x,) if y is None else (x, y)
        x, y = self.prepare_data(validation_data)
        return (x,) if y is None else (x, y)

    def fit(self, x=None, y=None, *args, validation_data=None, **kwargs):
        if not self.compiled:
            raise RuntimeError(
                f"{type(self).__name__} must be compiled before fit: call `model.compile(optimizer=...)`, "
                "or build it with a keras_ae.zoo constructor, which returns a compiled model."
            )
        x, y = self.prepare_data(x, y)
        return super().fit(x, y, *args, validation_data=self._prepare_validation(validation_data), **kwargs)

    def evaluate(self, x=None, y=None, *args, **kwargs):
        x, y = self.prepare_data(x, y)
        return super().evaluate(x, y, *args, **kwargs)

    def _check_call_images(self, images):
        shape = tuple(images.shape)
        expected = self.image_shape
        if len(shape) != len(expected) + 1 or any(
            s is not None and s != e for s, e in zip(shape[1:], expected)
        ):
            raise ValueError(
                f"Wrong image shape for {type(self).__name__}: expected (batch, {', '.join(map(str, expected))}), "
                f"received {checks._shape_str(shape)}."
            )
        return images

    def example_inputs(self, n=1):
        """A zero batch the model can be called on (images, plus labels for conditional models)."""
        x = np.zeros((n,) + tuple(self.image_shape), dtype="float32")
        return (x, np.zeros((n,), dtype="int32")) if self.needs_labels else x

    def build_by_calling(self):
        """Build by one call on :meth:`example_inputs`, so ``summary()``, callbacks that need a built model
        (``BackupAndRestore``) and saving before training all work, and the build config is recorded."""
        if not self.built:
            self(self.example_inputs(), training=False)
        return self

    def build(self, input_shape=None):
        # Sub-models are functional and built at construction; recording the build shape lets a
        # saved model rebuild and restore its optimizer state on load.
        self.built = True
