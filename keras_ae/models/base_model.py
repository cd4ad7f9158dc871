"""The base class of every keras_ae model: one data hook for ``fit``, ``evaluate`` and validation data.

Keras' ``fit``/``evaluate`` receive whatever the user passes. Every keras_ae model checks and adapts it in one place,
:meth:`KerasAEModel.preprocess_samples` ``(x, y, sample_weight) -> (x, y, sample_weight)`` (keras-hub's
``preprocess_samples``), and never forks ``fit`` or ``evaluate``: a family that takes other targets (U-Net's masks and
weight maps) overrides the hook, not the methods. ``tf.data`` pipelines are checked batch by batch as they stream
(:mod:`keras_ae.data.checks`).
"""

__all__ = ["KerasAEModel"]

import keras
import numpy as np

from keras_ae import precision
from keras_ae.data import checks
from keras_ae.errors import warn_renamed
from keras_ae.ops.arrays import is_tf_dataset, to_numpy


class KerasAEModel(keras.Model):
    """Base class: ``fit``/``evaluate``/``validation_data`` go through :meth:`preprocess_samples`.

    Subclasses describe their data with :attr:`input_shape` (the shape of one example, no batch axis: ``(H, W, C)``
    for images, ``(2,)`` for points), :attr:`value_range` (``None`` for unbounded data) and :attr:`num_classes`
    (``None`` when the model takes no labels).
    """

    value_range = None
    value_range_hint = "for this model"  # completes "images must lie in [lo, hi] ..."
    num_classes = None
    deprecated_attributes = ("image_shape",)  # still work, with a warning; hidden from dir() (and Keras' saver)

    def __dir__(self):
        return [name for name in super().__dir__() if name not in self.deprecated_attributes]

    @property
    def input_shape(self):  # pragma: no cover - overridden
        raise NotImplementedError

    @property
    def image_shape(self):
        """Deprecated name of :attr:`input_shape` (it is used for 2-D points too)."""
        warn_renamed("image_shape", "input_shape", type(self).__name__)
        return self.input_shape

    @property
    def needs_labels(self):
        return self.num_classes is not None

    # ----- mixed precision ----------------------------------------------------------------------
    @property
    def loss_magnitude(self):
        """How many times larger than a loss averaged over the elements of an example the training loss and its
        gradients are: the number of elements of an example for a likelihood, which sums over them (nats per
        example); 1 for a loss that averages them. Sets :attr:`initial_loss_scale`."""
        return float(np.prod(self.input_shape))

    @property
    def initial_loss_scale(self):
        """The initial loss scale under ``mixed_float16``: Keras' ``2**15`` over :attr:`loss_magnitude` (see
        :mod:`keras_ae.precision`)."""
        return precision.initial_loss_scale(self.loss_magnitude)

    def compile(self, optimizer="rmsprop", *args, auto_scale_loss=True, **kwargs):
        """``keras.Model.compile``; under the ``mixed_float16`` policy the optimizer is wrapped in a
        ``LossScaleOptimizer`` starting at :attr:`initial_loss_scale` (Keras' own wrapping would start at ``2**15``)."""
        if auto_scale_loss and optimizer is not None and self.dtype_policy.name == "mixed_float16":
            optimizer = precision.loss_scale_optimizer(optimizer, self.initial_loss_scale)
        return super().compile(optimizer, *args, auto_scale_loss=auto_scale_loss, **kwargs)

    def compile_from_config(self, config):
        # What Keras' Trainer does, which it skips (with a warning) for a model that overrides compile().
        self.compile(**keras.saving.deserialize_keras_object(config))
        if getattr(self, "optimizer", None) is not None and self.built:
            self.optimizer.build(self.trainable_variables)

    def _missing_labels_error(self):
        return ValueError(
            f"{type(self).__name__} is trained on (images, labels) pairs: pass `fit(x, y)` with integer labels "
            f"in [0, {self.num_classes - 1}], or a dataset of (images, labels), e.g. "
            f"keras_ae.data.load(..., with_labels=True)."
        )

    # ----- the data hook --------------------------------------------------------------------------
    def preprocess_samples(self, x, y=None, sample_weight=None):
        """Check ``(x, y, sample_weight)`` and return what Keras' ``fit``/``evaluate`` should receive instead.

        In-memory arrays are checked eagerly (shape, dtype, finite values, value range, labels); a ``tf.data``
        dataset is wrapped by :meth:`preprocess_dataset`; generators and ``PyDataset`` pass through unchanged.
        """
        if is_tf_dataset(x):
            return self.preprocess_dataset(x), y, sample_weight
        if isinstance(x, (tuple, list)) and self.needs_labels and y is None and len(x) == 2:
            x, y = x
        if isinstance(x, np.ndarray) or hasattr(x, "shape"):
            images = checks.check_images_array(to_numpy(x) if not isinstance(x, np.ndarray) else x,
                                               self.input_shape, self.value_range, range_hint=self.value_range_hint)
            if self.needs_labels:
                if y is None:
                    raise self._missing_labels_error()
                labels = checks.check_labels_array(to_numpy(y), self.num_classes, len(images))
                return (images, labels), None, sample_weight
            return images, y, sample_weight
        return x, y, sample_weight

    def preprocess_dataset(self, ds):
        """``ds`` with every batch checked as it streams (:func:`keras_ae.data.checks.checked_dataset`)."""
        return checks.checked_dataset(ds, self.input_shape, self.value_range, self.num_classes,
                                      range_hint=self.value_range_hint, missing_labels=self._missing_labels_error)

    def _preprocess_validation(self, validation_data):
        if validation_data is None:
            return None
        if is_tf_dataset(validation_data):
            return self.preprocess_dataset(validation_data)
        if isinstance(validation_data, (tuple, list)):
            if not 1 <= len(validation_data) <= 3:
                raise ValueError(f"`validation_data` must be x, (x,), (x, y) or (x, y, sample_weight); received a "
                                 f"{type(validation_data).__name__} of {len(validation_data)} items.")
            x, y, w = (tuple(validation_data) + (None, None))[:3]
        else:
            x, y, w = validation_data, None, None
        x, y, w = self.preprocess_samples(x, y, w)
        if w is not None:
            return (x, y, w)
        return (x,) if y is None else (x, y)

    def fit(self, x=None, y=None, *args, sample_weight=None, validation_data=None, **kwargs):
        if not self.compiled:
            raise RuntimeError(
                f"{type(self).__name__} must be compiled before fit: call `model.compile(optimizer=...)`, "
                "or build it with a keras_ae.zoo constructor, which returns a compiled model."
            )
        x, y, sample_weight = self.preprocess_samples(x, y, sample_weight)
        return super().fit(x, y, *args, sample_weight=sample_weight,
                           validation_data=self._preprocess_validation(validation_data), **kwargs)

    def evaluate(self, x=None, y=None, *args, sample_weight=None, **kwargs):
        x, y, sample_weight = self.preprocess_samples(x, y, sample_weight)
        return super().evaluate(x, y, *args, sample_weight=sample_weight, **kwargs)

    # ----- calls ------------------------------------------------------------------------------------
    def _check_call_images(self, images):
        shape = tuple(images.shape)
        expected = self.input_shape
        if len(shape) != len(expected) + 1 or any(
            s is not None and s != e for s, e in zip(shape[1:], expected)
        ):
            raise ValueError(
                f"Wrong input shape for {type(self).__name__}: expected (batch, {', '.join(map(str, expected))}), "
                f"received {checks.shape_str(shape)}."
            )
        return images

    def example_inputs(self, n=1):
        """A zero batch the model can be called on (inputs, plus labels for conditional models)."""
        x = np.zeros((n,) + tuple(self.input_shape), dtype="float32")
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
