"""Input checks shared by every model's ``fit``/``evaluate``: clear errors instead of silent NaN.

In-memory arrays are checked once, eagerly. A ``tf.data`` pipeline is checked batch by batch as it
streams (tf.data runs on TensorFlow whatever the Keras backend), so a bad batch stops training with a
message that names the problem.
"""

import numpy as np


def shape_str(shape):
    """``(None, 28, 28, 1)`` for a shape with unknown dimensions."""
    return "(" + ", ".join("None" if s is None else str(s) for s in shape) + ")"


_shape_str = shape_str


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


def labels_for(labels, n, num_classes, owner="This model"):
    """``n`` integer labels in ``[0, num_classes)`` from one int (the same class for all) or one label per example
    (for the ``labels=`` argument of conditional models' ``sample``/``encode``/``decode``)."""
    if labels is None:
        raise ValueError(f"{owner} needs `labels` (integers in [0, {num_classes - 1}]).")
    if not isinstance(labels, (np.ndarray, int, np.integer, list, tuple)):
        import keras

        labels = keras.ops.convert_to_numpy(labels)
    labels = np.asarray(labels)
    if labels.ndim == 0:
        labels = np.full((n,), labels.item())
    return check_labels_array(labels, num_classes, n)


def checked_dataset(ds, input_shape, value_range=None, num_classes=None, range_hint="for this model",
                    missing_labels=None):
    """``ds`` (batched ``tf.data``) mapped so that each batch is checked as it streams: the element shape now, the
    values (finite, in ``value_range``) and labels (in ``[0, num_classes)``) batch by batch. Conditional models
    (``num_classes`` given) get ``((images, labels),)`` elements; ``missing_labels()`` makes the error raised when
    the dataset has none."""
    import tensorflow as tf

    spec = ds.element_spec
    check_images, check_labels = dataset_checker(input_shape, value_range, num_classes, range_hint=range_hint)
    if num_classes is not None:
        if isinstance(spec, tuple) and len(spec) == 1 and isinstance(spec[0], tuple):
            spec = spec[0]
            ds = ds.map(lambda inputs: inputs)  # ((images, labels),) -> (images, labels)
        if not isinstance(spec, tuple) or len(spec) < 2:
            raise missing_labels() if missing_labels else ValueError("The dataset must yield (images, labels).")
        check_image_batch_shape(spec[0].shape, input_shape)
        return ds.map(lambda x, y, *rest: ((check_images(x), check_labels(y)),),
                      num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)
    image_spec = spec[0] if isinstance(spec, tuple) else spec
    check_image_batch_shape(image_spec.shape, input_shape)
    if isinstance(spec, tuple):
        fn = lambda x, *rest: (check_images(x), *rest)  # noqa: E731
    else:
        fn = check_images
    return ds.map(fn, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)


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


def checked_segmentation_dataset(ds, input_shape, num_classes):
    """``ds`` of ``(images, masks[, weight_maps])`` batches (U-Net), mapped so that each batch is checked as it
    streams: mask labels in ``[0, num_classes)``, finite images, weight maps of the masks' shape."""
    import tensorflow as tf

    spec = ds.element_spec
    if not isinstance(spec, tuple) or len(spec) < 2:
        raise ValueError("A dataset for UNet must yield (images, masks) or (images, masks, weight_maps) batches.")
    check_image_batch_shape(spec[0].shape, input_shape)
    k, (h, w) = num_classes, tuple(input_shape[:2])

    def check(x, y, *rest):
        y = tf.convert_to_tensor(y)
        if y.shape.rank == 4:
            y = y[..., 0]
        ok = tf.logical_and(tf.reduce_min(y) >= 0, tf.reduce_max(y) < k)
        asserts = [
            tf.debugging.Assert(
                tf.logical_or(tf.equal(tf.size(y), 0), ok),
                [f"keras_ae: mask labels must lie in [0, {k - 1}]; batch min and max:",
                 tf.reduce_min(y), tf.reduce_max(y)],
            ),
            tf.debugging.assert_all_finite(tf.cast(x, tf.float32), "keras_ae: the images contain NaN or inf."),
        ]
        if rest:
            wmap = tf.convert_to_tensor(rest[0])
            if wmap.shape.rank == 4:
                wmap = wmap[..., 0]
            asserts.append(tf.debugging.assert_equal(
                tf.shape(wmap), tf.shape(y),
                message="keras_ae: the weight map must have the masks' shape (batch, H, W)"))
            rest = (wmap,)
        with tf.control_dependencies(asserts):
            return (tf.cast(tf.identity(x), tf.float32), tf.cast(tf.identity(y), tf.int32), *rest)

    for i, s in enumerate(spec[1:3]):
        shape = tuple(s.shape)
        if shape and shape[-1] == 1 and len(shape) == 4:
            shape = shape[:-1]
        if len(shape) != 3 or any(a is not None and a != b for a, b in zip(shape[1:], (h, w))):
            what = "masks" if i == 0 else "weight map"
            raise ValueError(f"The dataset's {what} must have shape (batch, {h}, {w}); received {tuple(s.shape)}.")
    return ds.map(check, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)
