"""Input checks shared by every model's ``fit``/``evaluate``: clear errors instead of silent NaN.

In-memory arrays are checked once, eagerly. A ``tf.data`` pipeline is checked batch by batch as it
streams (tf.data runs on TensorFlow whatever the Keras backend), so a bad batch stops training with a
message that names the problem.
"""

import numpy as np


def _shape_str(shape):
    return "(" + ", ".join("None" if s is None else str(s) for s in shape) + ")"


def check_image_batch_shape(shape, expected, what="images"):
    """``shape`` is a batched shape (N, H, W, C); ``expected`` the per-example shape."""
    shape = tuple(shape)
    expected = tuple(expected)
    if len(shape) == len(expected) and all(
        s is None or s == e for s, e in zip(shape, expected)
    ):
        raise ValueError(
            f"The {what} look unbatched: received per-element shape {_shape_str(shape)}, which is the model's "
            f"per-example shape. Batch the dataset first (e.g. `ds.batch(128)`)."
        )
    if len(shape) != len(expected) + 1 or any(
        s is not None and s != e for s, e in zip(shape[1:], expected)
    ):
        raise ValueError(
            f"Wrong {what} shape for this model: expected (batch, {', '.join(map(str, expected))}), "
            f"received {_shape_str(shape)}."
        )


def check_images_array(x, expected_shape, value_range=None, what="images", range_hint="for this model"):
    x = np.asarray(x)
    check_image_batch_shape(x.shape, expected_shape, what)
    if not np.issubdtype(x.dtype, np.number):
        raise ValueError(f"The {what} must be numeric; received dtype {x.dtype}.")
    finite = np.isfinite(x)
    if not finite.all():
        bad = int(np.argwhere(~finite.reshape(len(x), -1).all(axis=1))[0, 0])
        raise ValueError(f"The {what} contain NaN or inf values (first at example {bad}). Clean or drop them.")
    if value_range is not None:
        lo, hi = value_range
        if x.size and (x.min() < lo or x.max() > hi):
            raise ValueError(
                f"The {what} must lie in [{lo}, {hi}] {range_hint}; received values in "
                f"[{x.min():.4g}, {x.max():.4g}]. Scale them (e.g. divide uint8 pixels by 255)."
            )
    return x


def check_labels_array(y, num_classes, num_examples=None):
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1:
        raise ValueError(f"Labels must be integers of shape (batch,); received shape {y.shape}.")
    if num_examples is not None and len(y) != num_examples:
        raise ValueError(f"Got {len(y)} labels for {num_examples} images.")
    if not np.issubdtype(y.dtype, np.integer):
        if not np.issubdtype(y.dtype, np.floating) or not np.all(np.isfinite(y)) or np.any(y != np.round(y)):
            raise ValueError(f"Labels must be integer class indices; received dtype {y.dtype}.")
    if y.size and (y.min() < 0 or y.max() >= num_classes):
        raise ValueError(
            f"Labels must lie in [0, {num_classes - 1}] (num_classes={num_classes}); "
            f"received values in [{int(y.min())}, {int(y.max())}]."
        )
    return y.astype("int32")


def dataset_checker(expected_shape, value_range=None, num_classes=None, range_hint="for this model"):
    """A function for ``ds.map`` that asserts each batch of images (and labels) is valid."""
    import tensorflow as tf

    def check_images(x):
        x = tf.convert_to_tensor(x)
        xf = tf.cast(x, tf.float32)
        ops = [
            tf.debugging.assert_all_finite(
                xf, "keras_ae: the images contain NaN or inf values. Clean or drop them."
            )
        ]
        if value_range is not None:
            lo, hi = value_range
            ok = tf.logical_and(tf.reduce_min(xf) >= lo, tf.reduce_max(xf) <= hi)
            ops.append(
                tf.debugging.Assert(
                    tf.logical_or(tf.equal(tf.size(xf), 0), ok),
                    [
                        f"keras_ae: images must lie in [{lo}, {hi}] {range_hint} "
                        f"(divide uint8 pixels by 255); batch min and max:",
                        tf.reduce_min(xf),
                        tf.reduce_max(xf),
                    ],
                )
            )
        with tf.control_dependencies(ops):
            return tf.identity(x)

    def check_labels(y):
        y = tf.convert_to_tensor(y)
        ok = tf.logical_and(tf.reduce_min(y) >= 0, tf.reduce_max(y) < num_classes)
        a = tf.debugging.Assert(
            tf.logical_or(tf.equal(tf.size(y), 0), ok),
            [f"keras_ae: labels must lie in [0, {num_classes - 1}]; batch min and max:", tf.reduce_min(y), tf.reduce_max(y)],
        )
        with tf.control_dependencies([a]):
            return tf.identity(y)

    return check_images, check_labels
