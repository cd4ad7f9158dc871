"""Input checks shared by every model's ``fit``/``evaluate``: clear errors instead of silent NaN.

In-memory arrays are checked once, eagerly. A ``tf.data`` pipeline is checked batch by batch as it
streams (tf.data runs on TensorFlow whatever the Keras backend), so a bad batch stops training with a
message that names the problem.
"""

import numpy as np

from keras_ae.errors import InvalidDataError

# Checks that run inside a tf.data pipeline prefix their message with this; a model's fit/evaluate turns the
# TensorFlow error carrying it into an InvalidDataError with the message alone (see streamed_error_message).
MARKER = "keras_ae: "


def shape_str(shape):
    """``(None, 28, 28, 1)`` for a shape with unknown dimensions."""
    return "(" + ", ".join("None" if s is None else str(s) for s in shape) + ")"


_shape_str = shape_str


def _in(argument):
    return f" in `{argument}`" if argument else ""


def check_image_batch_shape(shape, expected, what="images", argument=None):
    """``shape`` is a batched shape (N, H, W, C); ``expected`` the per-example shape. ``argument`` (e.g. ``"x"``)
    names the argument that holds them in the message."""
    shape = tuple(shape)
    expected = tuple(expected)
    if len(shape) == len(expected) and all(
        s is None or s == e for s, e in zip(shape, expected)
    ):
        raise InvalidDataError(
            f"The {what}{_in(argument)} look unbatched: received per-element shape {_shape_str(shape)}, which is the "
            f"model's per-example shape. Batch the dataset first (e.g. `ds.batch(128)`), or add a batch axis (x[None])."
        )
    if len(shape) != len(expected) + 1 or any(
        s is not None and s != e for s, e in zip(shape[1:], expected)
    ):
        raise InvalidDataError(
            f"Wrong {what} shape{_in(argument)} for this model: expected (batch, {', '.join(map(str, expected))}), "
            f"received {_shape_str(shape)}."
        )


def check_images_array(x, expected_shape, value_range=None, what="images", range_hint="for this model",
                       argument=None):
    """``x`` as a numpy array when it is a non-empty batch of finite numbers of the expected shape (and in
    ``value_range``); otherwise an :class:`~keras_ae.errors.InvalidDataError` naming ``argument``."""
    x = np.asarray(x)
    check_image_batch_shape(x.shape, expected_shape, what, argument)
    where = _in(argument)
    if not (np.issubdtype(x.dtype, np.number) or x.dtype == bool):
        raise InvalidDataError(f"The {what}{where} must be numeric; received dtype {x.dtype}.")
    if len(x) == 0:
        raise InvalidDataError(f"The {what}{where} hold 0 examples; pass at least one.")
    finite = np.isfinite(x)
    if not finite.all():
        bad = int(np.argwhere(~finite.reshape(len(x), -1).all(axis=1))[0, 0])
        raise InvalidDataError(f"The {what}{where} contain NaN or inf values (first at example {bad}). Clean or drop "
                               f"them.")
    if value_range is not None:
        lo, hi = value_range
        if x.size and (x.min() < lo or x.max() > hi):
            raise InvalidDataError(
                f"The {what}{where} must lie in [{lo}, {hi}] {range_hint}; received values in "
                f"[{x.min():.4g}, {x.max():.4g}]. Scale them (e.g. divide uint8 pixels by 255)."
            )
    return x


def check_labels_array(y, num_classes, num_examples=None):
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1:
        raise InvalidDataError(f"Labels must be integers of shape (batch,); received shape {y.shape}.")
    if num_examples is not None and len(y) != num_examples:
        raise InvalidDataError(f"Got {len(y)} labels for {num_examples} images.")
    if not np.issubdtype(y.dtype, np.integer):
        if not np.issubdtype(y.dtype, np.floating) or not np.all(np.isfinite(y)) or np.any(y != np.round(y)):
            raise InvalidDataError(f"Labels must be integer class indices; received dtype {y.dtype}.")
    if y.size and (y.min() < 0 or y.max() >= num_classes):
        raise InvalidDataError(
            f"Labels must lie in [0, {num_classes - 1}] (num_classes={num_classes}); "
            f"received values in [{int(y.min())}, {int(y.max())}]."
        )
    return y.astype("int32")


def labels_for(labels, n, num_classes, owner="This model"):
    """``n`` integer labels in ``[0, num_classes)`` from one int (the same class for all) or one label per example
    (for the ``labels=`` argument of conditional models' ``sample``/``encode``/``decode``)."""
    if labels is None:
        raise InvalidDataError(f"{owner} needs `labels` (integers in [0, {num_classes - 1}]).")
    if not isinstance(labels, (np.ndarray, int, np.integer, list, tuple)):
        import keras

        labels = keras.ops.convert_to_numpy(labels)
    labels = np.asarray(labels)
    if labels.ndim == 0:
        labels = np.full((n,), labels.item())
    return check_labels_array(labels, num_classes, n)


def check_dataset_elements(spec):
    """Refuse a dataset whose elements are not tensors or tuples of tensors (e.g. tfds' dicts) before Keras reads
    it: the message names the keys and how to map them."""
    import tensorflow as tf

    elements = spec if isinstance(spec, tuple) else (spec,)
    for s in elements:
        if isinstance(s, dict):
            keys = ", ".join(repr(k) for k in s)
            first = next(iter(s), "image")
            raise InvalidDataError(
                f"The dataset yields dicts (keys {keys}); keras_ae models take batches of images, or (images, labels) "
                f"for conditional models. Map it first, e.g. ds.map(lambda d: d[{first!r}]) or "
                f"ds.map(lambda d: (d['image'], d['label'])) (tfds: as_supervised=True), or use keras_ae.data.load."
            )
        if not isinstance(s, (tf.TensorSpec, tuple)):
            raise InvalidDataError(f"The dataset yields elements of type {type(s).__name__}; keras_ae models take "
                                   f"batches of images (tensors), or (images, labels) tuples for conditional models.")


def checked_dataset(ds, input_shape, value_range=None, num_classes=None, range_hint="for this model",
                    missing_labels=None, unexpected_labels=None):
    """``ds`` (batched ``tf.data``) mapped so that each batch is checked as it streams: the element shape now, the
    values (finite, in ``value_range``) and labels (in ``[0, num_classes)``) batch by batch. Conditional models
    (``num_classes`` given) get ``((images, labels),)`` elements; ``missing_labels()`` makes the error raised when
    the dataset has none. For other models, ``unexpected_labels(shape)`` makes the error raised when the dataset
    yields ``(images, y)`` with ``y`` other than images of the same shape (an autoencoder's ``(x, x)`` pairs)."""
    import tensorflow as tf

    spec = ds.element_spec
    check_dataset_elements(spec)
    check_images, check_labels = dataset_checker(input_shape, value_range, num_classes, range_hint=range_hint)
    if num_classes is not None:
        if isinstance(spec, tuple) and len(spec) == 1 and isinstance(spec[0], tuple):
            spec = spec[0]
            ds = ds.map(lambda inputs: inputs)  # ((images, labels),) -> (images, labels)
        if not isinstance(spec, tuple) or len(spec) < 2:
            raise missing_labels() if missing_labels else InvalidDataError("The dataset must yield (images, labels).")
        check_image_batch_shape(spec[0].shape, input_shape, argument="the dataset")
        return ds.map(lambda x, y, *rest: ((check_images(x), check_labels(y)),),
                      num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)
    image_spec = spec[0] if isinstance(spec, tuple) else spec
    check_image_batch_shape(image_spec.shape, input_shape, argument="the dataset")
    if isinstance(spec, tuple) and len(spec) >= 2 and isinstance(spec[1], tf.TensorSpec) and unexpected_labels:
        if tuple(spec[1].shape[1:]) != tuple(image_spec.shape[1:]):
            raise unexpected_labels(shape_str(spec[1].shape))
    if isinstance(spec, tuple):
        fn = lambda x, *rest: (check_images(x), *rest)  # noqa: E731
    else:
        fn = check_images
    return ds.map(fn, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)


def streamed_error_message(error):
    """The message of a check of :func:`checked_dataset` (or :func:`checked_segmentation_dataset`) that failed while
    TensorFlow streamed a batch, without TensorFlow's wrapping ("Graph execution error", node names); ``None`` when
    ``error`` is not one of them."""
    import re

    text = str(error)
    if type(error).__name__ != "InvalidArgumentError" or MARKER not in text:
        return None
    line = text[text.index(MARKER) + len(MARKER):].split("\n")[0]
    m = re.match(r"(.*?)\] ((?:\[[^\]]*\] ?)+)", line)  # tf.debugging.Assert: "message] [min] [max]"
    if m:
        values = ", ".join(v.strip("[] ") for v in m.group(2).split("] ["))
        line = f"{m.group(1)} {values}"
    line = line.split(" : ")[0]  # assert_all_finite appends " : Tensor had NaN values"
    return f"A batch of the dataset failed keras_ae's check: {line.strip()}"


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
        raise InvalidDataError("A dataset for UNet must yield (images, masks) or (images, masks, weight_maps) batches.")
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
            raise InvalidDataError(f"The dataset's {what} must have shape (batch, {h}, {w}); received "
                                   f"{tuple(s.shape)}.")
    return ds.map(check, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)
