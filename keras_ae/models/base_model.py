"""The base class of every keras_ae model: one data hook for ``fit``, ``evaluate`` and validation data.

Keras' ``fit``/``evaluate`` receive whatever the user passes. Every keras_ae model checks and adapts it in one place,
:meth:`KerasAEModel.preprocess_samples` ``(x, y, sample_weight) -> (x, y, sample_weight)`` (keras-hub's
``preprocess_samples``), and never forks ``fit`` or ``evaluate``: a family that takes other targets (U-Net's masks and
weight maps) overrides the hook, not the methods. ``tf.data`` pipelines are checked batch by batch as they stream
(:mod:`keras_ae.data.checks`).
"""

__all__ = ["KerasAEModel"]

import contextlib
import os

import keras
import numpy as np

from keras_ae import precision
from keras_ae.data import checks
from keras_ae.errors import (InvalidArgumentError, InvalidDataError, ModelStateError, check_fraction,
                             check_optional_positive_int, check_positive_int, describe_value, warn_renamed)
from keras_ae.ops.arrays import is_tf_dataset, to_numpy
from keras_ae.ops.distribute import multi_worker_logs

# Keras' fit and evaluate arguments after (x, y), in their positional order.
FIT_ARGUMENTS = ("batch_size", "epochs", "verbose", "callbacks", "validation_split", "validation_data", "shuffle",
                 "class_weight", "sample_weight", "initial_epoch", "steps_per_epoch", "validation_steps",
                 "validation_batch_size", "validation_freq")
EVALUATE_ARGUMENTS = ("batch_size", "verbose", "sample_weight", "steps", "callbacks", "return_dict")


def check_training_arguments(method, args, kwargs):
    """Check the counts and fractions of a ``fit``/``evaluate`` call (positional ``args`` after ``(x, y)`` and
    ``kwargs``) before Keras sees them: Keras trains 0 steps on ``epochs=-1`` and ``batch_size=0``."""
    names = FIT_ARGUMENTS if method == "fit" else EVALUATE_ARGUMENTS
    values = {**dict(zip(names, args)), **kwargs}
    if method == "fit" and "epochs" in values:
        check_positive_int("epochs", values["epochs"])
    for name in ("batch_size", "steps_per_epoch", "validation_steps", "validation_batch_size", "steps"):
        check_optional_positive_int(name, values.get(name))
    check_positive_int("validation_freq", values.get("validation_freq", 1))
    check_positive_int("initial_epoch", values.get("initial_epoch", 0), minimum=0)
    check_fraction("validation_split", values.get("validation_split", 0.0))


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

    # Deprecated aliases, hidden from dir(): Keras' saving walks dir(model) and would read (and warn about) them.
    _DEPRECATED_ATTRIBUTES = ("image_shape", "event_shape")

    def __dir__(self):
        return [name for name in super().__dir__() if name not in self._DEPRECATED_ATTRIBUTES]

    @property
    def image_shape(self):
        """Deprecated name of :attr:`input_shape` (it is used for 2-D points too)."""
        warn_renamed("image_shape", "input_shape", type(self).__name__)
        return self.input_shape

    @property
    def needs_labels(self):
        return self.num_classes is not None

    # Completes "... use {labels_hint}" in the message for unexpected labels (e.g. the family's conditional model).
    labels_hint = None

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

    def train_step(self, *args, **kwargs):
        return multi_worker_logs(super().train_step(*args, **kwargs))  # Keras' multi-worker reduction (see there)

    def test_step(self, *args, **kwargs):
        return multi_worker_logs(super().test_step(*args, **kwargs))

    def compile_from_config(self, config):
        # What Keras' Trainer does, which it skips (with a warning) for a model that overrides compile().
        self.compile(**keras.saving.deserialize_keras_object(config))
        if getattr(self, "optimizer", None) is not None and self.built:
            self.optimizer.build(self.trainable_variables)

    def _missing_labels_error(self):
        return InvalidDataError(
            f"{type(self).__name__} is trained on (images, labels) pairs: pass `fit(x, y)` with integer labels "
            f"in [0, {self.num_classes - 1}], or a dataset of (images, labels), e.g. "
            f"keras_ae.data.load(..., with_labels=True)."
        )

    def _unexpected_labels_error(self, received):
        hint = f"; to train on (images, labels) use {self.labels_hint}" if self.labels_hint else ""
        return InvalidDataError(
            f"{type(self).__name__} takes no labels or targets: it is trained on the images in `{self._data_argument}` "
            f"alone, but `y` was given ({received}). Call fit(x) without `y`{hint}."
        )

    def _reject_targets(self, x, y):
        """An unconditional model ignores ``y``: refuse one (``fit(x, labels)`` would train as if it were not there),
        except Keras' autoencoder habit ``fit(x, x)``."""
        if y is None or self.needs_labels or y is x:
            return
        if isinstance(y, np.ndarray) or hasattr(y, "shape"):
            y_np = to_numpy(y) if not isinstance(y, np.ndarray) else y
            if y_np.shape == np.shape(x) and np.array_equal(y_np, x):
                return
            raise self._unexpected_labels_error(f"shape {tuple(y_np.shape)}")
        raise self._unexpected_labels_error(describe_value(y, 40))

    _data_argument = "x"  # the argument whose data is being checked, for messages

    @contextlib.contextmanager
    def _checking(self, argument):
        previous, self._data_argument = self._data_argument, argument
        try:
            yield
        finally:
            self._data_argument = previous

    def check_data_container(self, x, method="fit", allow_lists=False):
        """Refuse what cannot hold the data before Keras tries to read it (it prints a whole list, or fails with
        "'dict' object has no attribute 'shape'"): ``None``, a path, a dict, a Python list of numbers (unless
        ``allow_lists``: the user methods convert lists with ``np.asarray``)."""
        arg = self._data_argument
        name = type(self).__name__
        if x is None:
            raise InvalidDataError(f"{name}.{method} needs data: `{arg}` is None. Pass a numpy array of shape (batch, "
                                   f"{', '.join(map(str, self.input_shape))}) or a tf.data.Dataset "
                                   f"(e.g. keras_ae.data.load(...)).")
        if isinstance(x, (str, bytes, os.PathLike)):
            raise InvalidDataError(f"`{arg}` is a path or a string ({describe_value(x, 60)}), not data: load it first, "
                                   f"e.g. keras_ae.data.load_numpy(...) or np.load(path).")
        if isinstance(x, dict):
            raise InvalidDataError(f"`{arg}` is a dict (keys {', '.join(map(repr, x))}); {name} takes an array of "
                                   f"images{' and labels' if self.needs_labels else ''}: pass the arrays themselves.")
        if isinstance(x, (list, tuple)) and not allow_lists and not all(
                isinstance(a, np.ndarray) or hasattr(a, "shape") for a in x):
            raise InvalidDataError(f"`{arg}` is a Python {type(x).__name__} of {len(x)} items, not an array: pass a "
                                   f"numpy array of shape (batch, {', '.join(map(str, self.input_shape))}), e.g. "
                                   f"np.asarray({arg}, dtype='float32').")

    # ----- the data hook --------------------------------------------------------------------------
    def preprocess_samples(self, x, y=None, sample_weight=None):
        """Check ``(x, y, sample_weight)`` and return what Keras' ``fit``/``evaluate`` should receive instead.

        In-memory arrays are checked eagerly (shape, dtype, finite values, value range, labels; an unconditional model
        refuses labels); a ``tf.data`` dataset is wrapped by :meth:`preprocess_dataset`; generators and ``PyDataset``
        pass through unchanged.
        """
        if is_tf_dataset(x):
            if y is not None:
                raise InvalidDataError(f"`y` cannot be given with a dataset `{self._data_argument}`: the dataset "
                                       f"yields the (images, labels) pairs itself.")
            return self.preprocess_dataset(x), y, sample_weight
        self.check_data_container(x)
        if isinstance(x, (tuple, list)) and self.needs_labels and y is None and len(x) == 2:
            x, y = x
        if isinstance(x, np.ndarray) or hasattr(x, "shape"):
            images = checks.check_images_array(to_numpy(x) if not isinstance(x, np.ndarray) else x,
                                               self.input_shape, self.value_range, range_hint=self.value_range_hint,
                                               argument=self._data_argument)
            if self.needs_labels:
                if y is None:
                    raise self._missing_labels_error()
                labels = checks.check_labels_array(to_numpy(y), self.num_classes, len(images))
                return (images, labels), None, sample_weight
            self._reject_targets(images, y)
            return images, y, sample_weight
        return x, y, sample_weight

    def preprocess_dataset(self, ds):
        """``ds`` with every batch checked as it streams (:func:`keras_ae.data.checks.checked_dataset`)."""
        return checks.checked_dataset(ds, self.input_shape, self.value_range, self.num_classes,
                                      range_hint=self.value_range_hint, missing_labels=self._missing_labels_error,
                                      unexpected_labels=self._unexpected_labels_error)

    def _preprocess_validation(self, validation_data):
        if validation_data is None:
            return None
        with self._checking("validation_data"):
            if is_tf_dataset(validation_data):
                return self.preprocess_dataset(validation_data)
            if isinstance(validation_data, (tuple, list)) and all(
                    v is None or isinstance(v, np.ndarray) or hasattr(v, "shape") for v in validation_data):
                if not 1 <= len(validation_data) <= 3:
                    raise InvalidArgumentError(
                        f"`validation_data` must be x, (x,), (x, y) or (x, y, sample_weight); received a "
                        f"{type(validation_data).__name__} of {len(validation_data)} items.")
                x, y, w = (tuple(validation_data) + (None, None))[:3]
            else:
                x, y, w = validation_data, None, None
            x, y, w = self.preprocess_samples(x, y, w)
        if w is not None:
            return (x, y, w)
        return (x,) if y is None else (x, y)

    @contextlib.contextmanager
    def _streamed_data_errors(self):
        """A check of :func:`keras_ae.data.checks.checked_dataset` that fails while a batch streams reaches the caller
        as an :class:`~keras_ae.errors.InvalidDataError`, not as TensorFlow's "Graph execution error"."""
        try:
            yield
        except Exception as e:  # noqa: BLE001 - only our own checks are translated, everything else re-raised
            message = checks.streamed_error_message(e)
            if message is None:
                raise
            raise InvalidDataError(message) from None

    def fit(self, x=None, y=None, *args, sample_weight=None, validation_data=None, **kwargs):
        if not self.compiled:
            raise ModelStateError(
                f"{type(self).__name__} must be compiled before fit: call `model.compile(optimizer=...)`, "
                "or build it with a keras_ae.zoo constructor, which returns a compiled model."
            )
        check_training_arguments("fit", args, kwargs)
        x, y, sample_weight = self.preprocess_samples(x, y, sample_weight)
        validation_data = self._preprocess_validation(validation_data)
        with self._streamed_data_errors():
            return super().fit(x, y, *args, sample_weight=sample_weight, validation_data=validation_data, **kwargs)

    def evaluate(self, x=None, y=None, *args, sample_weight=None, **kwargs):
        check_training_arguments("evaluate", args, kwargs)
        x, y, sample_weight = self.preprocess_samples(x, y, sample_weight)
        with self._streamed_data_errors():
            return super().evaluate(x, y, *args, sample_weight=sample_weight, **kwargs)

    # ----- calls ------------------------------------------------------------------------------------
    def _check_call_images(self, images):
        shape = tuple(images.shape)
        expected = self.input_shape
        if len(shape) != len(expected) + 1 or any(
            s is not None and s != e for s, e in zip(shape[1:], expected)
        ):
            raise InvalidDataError(
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
