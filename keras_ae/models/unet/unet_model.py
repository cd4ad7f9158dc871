"""U-Net: an encoder-decoder with skip connections mapping images to per-pixel class logits.

``UNet(network)`` wraps a functional network (built by
:func:`~keras_ae.models.unet.unet_networks.unet_network`) from images ``(B, H, W, C)``
to logits ``(B, H, W, K)``. It is trained with ``fit(images, masks, sample_weight=weight_maps)``:

- ``masks`` are integer class maps ``(N, H, W)`` (or ``(N, H, W, 1)``) with labels in ``[0, K-1]``;
- ``sample_weight`` is optional: a per-pixel weight map ``(N, H, W)``, e.g. the U-Net paper's border
  weights from :func:`keras_ae.data.cells.unet_weight_map`; the cross entropy is then
  ``sum(w * ce) / sum(w)`` over the batch's pixels.

Losses (``segmentation_loss=``; ``loss=`` in the zoo constructor): ``"cross_entropy"`` (per-pixel sparse softmax cross entropy, weighted when a weight
map is given), ``"dice"`` (1 - mean soft Dice over classes) or ``"cross_entropy+dice"``. Metrics: ``loss``,
``cross_entropy``, ``dice_loss``, ``accuracy``, ``mean_iou`` and ``dice`` (both from the confusion matrix of
the argmax prediction, accumulated over the epoch), with ``val_`` versions from ``validation_data``.
"""

__all__ = ["UNet", "SegmentationMeanIoU", "SegmentationDice", "dice_loss", "pixel_cross_entropy",
           "SEGMENTATION_LOSSES"]

import keras
import numpy as np
from keras import ops

from keras_ae.data import checks
from keras_ae.errors import InvalidArgumentError, InvalidDataError, check_choice, check_non_negative, check_positive_int
from keras_ae.models.base_model import KerasAEModel
from keras_ae.ops.arrays import batched, dataset_arrays, is_tf_dataset, to_numpy
from keras_ae.ops.distribute import cross_replica_sum, scale_loss_for_distribution
from keras_ae.serialization import register_serializable

SEGMENTATION_LOSSES = ("cross_entropy", "dice", "cross_entropy+dice")


# ----- losses (pure keras.ops) -----------------------------------------------------------------
def pixel_cross_entropy(masks, logits):
    """Per-pixel softmax cross entropy ``(B, H, W)`` in nats (float32) of integer ``masks`` under ``logits``."""
    logits = ops.cast(logits, "float32")
    num_classes = logits.shape[-1]
    onehot = ops.one_hot(ops.cast(masks, "int32"), num_classes, dtype="float32")
    return -ops.sum(onehot * ops.log_softmax(logits, axis=-1), axis=-1)


def dice_loss(masks, logits, smooth=1.0):
    """``1 - mean over classes of the soft Dice`` between softmax(logits) and one-hot masks (batch-pooled: under a
    ``tf.distribute`` strategy the sums are pooled over the replicas, so it is the global batch's Dice)."""
    logits = ops.cast(logits, "float32")
    num_classes = logits.shape[-1]
    probs = ops.softmax(logits, axis=-1)
    onehot = ops.one_hot(ops.cast(masks, "int32"), num_classes, dtype="float32")
    axes = (0, 1, 2)
    inter = cross_replica_sum(ops.sum(probs * onehot, axis=axes))
    total = cross_replica_sum(ops.sum(probs, axis=axes) + ops.sum(onehot, axis=axes))
    return 1.0 - ops.mean((2.0 * inter + smooth) / (total + smooth))


# ----- metrics ---------------------------------------------------------------------------------
class _ConfusionMetric(keras.metrics.Metric):
    """Accumulates the confusion matrix of ``argmax(logits)`` against integer masks."""

    def __init__(self, num_classes, name=None, **kwargs):
        super().__init__(name=name, **kwargs)
        self.num_classes = check_positive_int("num_classes", num_classes)
        self.matrix = self.add_variable(
            shape=(num_classes, num_classes), initializer="zeros", dtype="float32", name="confusion"
        )

    def update_state(self, y_true, y_pred, sample_weight=None):
        k = self.num_classes
        true = ops.reshape(ops.cast(y_true, "int32"), (-1,))
        pred = ops.reshape(ops.cast(ops.argmax(y_pred, axis=-1), "int32"), (-1,))
        # the confusion matrix as a product of one-hot matrices (no scatter: same on every backend)
        t = ops.one_hot(true, k, dtype="float32")
        p = ops.one_hot(pred, k, dtype="float32")
        self.matrix.assign_add(ops.matmul(ops.transpose(t), p))

    def reset_state(self):
        self.matrix.assign(ops.zeros((self.num_classes, self.num_classes), dtype="float32"))

    def _per_class(self):
        m = ops.convert_to_tensor(self.matrix)
        tp = ops.diagonal(m)
        true_count, pred_count = ops.sum(m, axis=1), ops.sum(m, axis=0)
        return tp, true_count, pred_count

    @staticmethod
    def _mean_present(scores, present):
        present = ops.cast(present, "float32")
        return ops.sum(scores * present) / ops.maximum(ops.sum(present), 1.0)

    def get_config(self):
        return {"num_classes": self.num_classes, "name": self.name, "dtype": self.dtype}


@register_serializable
class SegmentationMeanIoU(_ConfusionMetric):
    """Mean over classes (those present in the truth or the prediction) of ``TP / (TP + FP + FN)``."""

    def __init__(self, num_classes, name="mean_iou", **kwargs):
        super().__init__(num_classes, name=name, **kwargs)

    def result(self):
        tp, t, p = self._per_class()
        union = t + p - tp
        return self._mean_present(tp / ops.maximum(union, 1.0), union > 0)


@register_serializable
class SegmentationDice(_ConfusionMetric):
    """Mean over classes (present in the truth or the prediction) of ``2 TP / (|true| + |pred|)``."""

    def __init__(self, num_classes, name="dice", **kwargs):
        super().__init__(num_classes, name=name, **kwargs)

    def result(self):
        tp, t, p = self._per_class()
        total = t + p
        return self._mean_present(2.0 * tp / ops.maximum(total, 1.0), total > 0)


# ----- the model -------------------------------------------------------------------------------
@register_serializable
class UNet(KerasAEModel):
    """Per-pixel classifier around a functional ``network`` (images -> logits).

    Args:
        network: functional model from ``(B, H, W, C)`` images to ``(B, H, W, K)`` logits.
        segmentation_loss: ``"cross_entropy"``, ``"dice"`` or ``"cross_entropy+dice"`` (see module doc).
        dice_weight: weight of the Dice term in ``"cross_entropy+dice"``.

    ``model(images)`` returns the logits; :meth:`predict_masks` the argmax class maps (numpy) and
    :meth:`predict_proba` the softmax probabilities.
    """

    def __init__(self, network, segmentation_loss="cross_entropy", dice_weight=1.0, **kwargs):
        super().__init__(**kwargs)
        self.network = network
        self.segmentation_loss = check_choice("segmentation_loss", segmentation_loss, SEGMENTATION_LOSSES)
        self.dice_weight = check_non_negative("dice_weight", dice_weight)
        out = tuple(network.outputs[0].shape)
        if len(out) != 4 or tuple(out[1:3]) != tuple(self.input_shape[:2]):
            raise InvalidArgumentError(
                f"The U-Net network must map (B, H, W, C) images to (B, H, W, num_classes) logits; it maps "
                f"{tuple(network.inputs[0].shape)} to {out}."
            )
        self.cross_entropy_tracker = keras.metrics.Mean(name="cross_entropy")
        self.dice_loss_tracker = keras.metrics.Mean(name="dice_loss")
        self.accuracy_tracker = keras.metrics.Mean(name="accuracy")
        self.iou_metric = SegmentationMeanIoU(self.num_classes, name="mean_iou")
        self.dice_metric = SegmentationDice(self.num_classes, name="dice")

    # ----- shapes -------------------------------------------------------------------------
    @property
    def input_shape(self):
        """The shape of one input image (no batch axis)."""
        return tuple(self.network.inputs[0].shape[1:])

    @property
    def loss_magnitude(self):
        """The losses average over the pixels (cross entropy per pixel, Dice): Keras' initial loss scale suits them."""
        return 1

    @property
    def mask_shape(self):
        return tuple(self.input_shape[:2])

    @property
    def num_classes(self):
        return int(self.network.outputs[0].shape[-1])

    @property
    def needs_labels(self):
        return True

    def example_inputs(self, n=1):
        """A zero batch of images (the masks are targets, not inputs)."""
        return np.zeros((n,) + tuple(self.input_shape), dtype="float32")

    # ----- data checks --------------------------------------------------------------------
    def check_masks(self, masks, num_examples=None):
        """Integer class maps ``(N, H, W)`` (a trailing 1 is dropped) with labels in ``[0, num_classes-1]``."""
        masks = np.asarray(masks)
        if masks.ndim == 4 and masks.shape[-1] == 1:
            masks = masks[..., 0]
        h, w = self.mask_shape
        if masks.ndim != 3 or masks.shape[1:] != (h, w):
            raise InvalidDataError(
                f"Masks must be integer class maps of shape (batch, {h}, {w}) (or (batch, {h}, {w}, 1)); "
                f"received shape {masks.shape}."
            )
        if num_examples is not None and len(masks) != num_examples:
            raise InvalidDataError(f"Got {len(masks)} masks for {num_examples} images.")
        if not np.issubdtype(masks.dtype, np.integer):
            if (not np.issubdtype(masks.dtype, np.floating) or not np.all(np.isfinite(masks))
                    or np.any(masks != np.round(masks))):
                raise InvalidDataError(f"Masks must hold integer class indices; received dtype {masks.dtype}.")
        if masks.size and (masks.min() < 0 or masks.max() >= self.num_classes):
            bad = np.unique(masks[(masks < 0) | (masks >= self.num_classes)])[:10]
            raise InvalidDataError(
                f"Mask labels must lie in [0, {self.num_classes - 1}] (num_classes={self.num_classes}); received "
                f"labels outside it: {bad.astype('int64').tolist()}. Remap the labels (e.g. tfds trimaps are 1..3: "
                f"subtract 1) or build the U-Net with more classes."
            )
        return masks.astype("int32")

    def check_weight_map(self, weights, masks_shape):
        """A finite, non-negative per-pixel weight map of exactly the masks' shape ``(N, H, W)``."""
        weights = np.asarray(weights)
        if weights.ndim == 4 and weights.shape[-1] == 1:
            weights = weights[..., 0]
        if weights.shape != tuple(masks_shape):
            raise InvalidDataError(
                f"The weight map (sample_weight) must have the masks' shape {tuple(masks_shape)}, one weight per "
                f"pixel; received shape {np.asarray(weights).shape}. Compute it from the same masks, e.g. "
                f"keras_ae.data.unet_weight_map(instance_masks)."
            )
        if not np.issubdtype(weights.dtype, np.number) or not np.all(np.isfinite(weights)) or (
            weights.size and weights.min() < 0
        ):
            raise InvalidDataError("The weight map (sample_weight) must hold finite, non-negative numbers.")
        return weights.astype("float32")

    def preprocess_samples(self, x, y=None, sample_weight=None):
        """Images, integer masks and optional per-pixel weight maps, each checked (see :meth:`check_masks`,
        :meth:`check_weight_map`); a dataset of ``(images, masks[, weight_maps])`` is checked as it streams."""
        if is_tf_dataset(x):
            return self.preprocess_dataset(x), y, sample_weight
        self.check_data_container(x)
        if isinstance(x, (tuple, list)) and y is None and len(x) in (2, 3):
            x, y, sample_weight = (tuple(x) + (None,))[:3]
        if isinstance(x, np.ndarray) or hasattr(x, "shape"):
            images = checks.check_images_array(
                to_numpy(x) if not isinstance(x, np.ndarray) else x, self.input_shape, None,
                argument=self._data_argument
            )
            if y is None:
                raise InvalidDataError(
                    "UNet is trained on (images, masks): pass `fit(images, masks)` with integer class maps of shape "
                    f"(batch, {self.mask_shape[0]}, {self.mask_shape[1]}), and optionally `sample_weight=` a "
                    "per-pixel weight map of the same shape."
                )
            masks = self.check_masks(to_numpy(y), len(images))
            if sample_weight is not None:
                sample_weight = self.check_weight_map(to_numpy(sample_weight), masks.shape)
            return images.astype("float32"), masks, sample_weight
        return x, y, sample_weight

    def preprocess_dataset(self, ds):
        """``ds`` of ``(images, masks[, weight_maps])`` batches, each batch checked as it streams."""
        return checks.checked_segmentation_dataset(ds, self.input_shape, self.num_classes)

    # ----- forward and loss ---------------------------------------------------------------
    def call(self, inputs, training=None):
        if isinstance(inputs, (tuple, list)):
            if len(inputs) != 1:
                raise InvalidDataError(f"UNet takes a batch of images, not a tuple of {len(inputs)} tensors.")
            inputs = inputs[0]
        return self.network(self._check_call_images(inputs), training=training)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        masks = ops.cast(y, "int32")
        if len(masks.shape) == 4:
            masks = ops.squeeze(masks, axis=-1)
        extra = self.losses  # before the dice's cross-replica sums (see Autoencoder.extra_losses)
        ce = pixel_cross_entropy(masks, y_pred)
        if sample_weight is not None:
            w = ops.cast(sample_weight, "float32")
            if len(w.shape) == 4:
                w = ops.squeeze(w, axis=-1)
            ce_mean = ops.sum(ce * w) / ops.maximum(ops.sum(w), 1e-12)
        else:
            ce_mean = ops.mean(ce)
        dl = dice_loss(masks, y_pred)
        self.cross_entropy_tracker.update_state(ce_mean)
        self.dice_loss_tracker.update_state(dl)
        pred = ops.cast(ops.argmax(y_pred, axis=-1), "int32")
        self.accuracy_tracker.update_state(ops.mean(ops.cast(ops.equal(pred, masks), "float32")))
        self.iou_metric.update_state(masks, y_pred)
        self.dice_metric.update_state(masks, y_pred)
        if self.segmentation_loss == "cross_entropy":
            loss = ce_mean
        elif self.segmentation_loss == "dice":
            loss = dl
        else:
            loss = ce_mean + self.dice_weight * dl
        return scale_loss_for_distribution(loss + sum(extra) if extra else loss)  # per replica

    # ----- user methods -------------------------------------------------------------------
    def _images(self, x):
        if is_tf_dataset(x):
            x, _ = dataset_arrays(x)
        self.check_data_container(x, method="predict_masks", allow_lists=True)
        x = np.asarray(to_numpy(x) if not isinstance(x, (np.ndarray, list, tuple)) else x)
        single = x.ndim == len(self.input_shape)
        x = checks.check_images_array(x[None] if single else x, self.input_shape, None, argument="x")
        return x.astype("float32"), single

    def predict_proba(self, x, batch_size=64):
        """Softmax class probabilities ``(N, H, W, K)`` (numpy)."""
        x, single = self._images(x)
        p = batched(lambda a: ops.softmax(self(a, training=False), axis=-1), [x], batch_size)
        return p[0] if single else p

    def predict_masks(self, x, batch_size=64):
        """Argmax class maps ``(N, H, W)`` (int32 numpy)."""
        x, single = self._images(x)
        m = batched(lambda a: ops.argmax(self(a, training=False), axis=-1), [x], batch_size).astype("int32")
        return m[0] if single else m

    # ----- serialization ------------------------------------------------------------------
    def get_config(self):
        config = super().get_config()
        config.update(
            network=keras.saving.serialize_keras_object(self.network),
            segmentation_loss=self.segmentation_loss,
            dice_weight=self.dice_weight,
        )
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["network"] = keras.saving.deserialize_keras_object(config["network"])
        return cls(**config)
