"""Input corruptions for denoising autoencoders: act in training only, or on purpose through :meth:`corrupt`.

Each layer is identity when called with ``training`` false (so inference is deterministic), corrupts when
``training=True``, and corrupts always when built with ``always=True`` or through ``layer.corrupt(x)``
(for evaluation: measure how well a model restores corrupted test images). Randomness comes from a seeded
``keras.random.SeedGenerator`` held by the layer (a :class:`~keras_ae.ops.distribute.ReplicaSeedGenerator`: each
replica of a ``tf.distribute`` strategy corrupts its share of the batch with its own draws).

Images are ``(batch, H, W, C)``; :class:`GaussianNoise` and :class:`PixelRemoval` also take any other shape
(2-D point clouds ``(batch, 2)``, flat vectors).
"""

__all__ = ["Corruption", "GaussianNoise", "PixelRemoval", "GaussianBlur", "BlockMask", "corruption_from_name"]

import math

import keras
import numpy as np
from keras import ops

from keras_ae.errors import InvalidArgumentError, check_positive_int, unknown_name_message
from keras_ae.ops.distribute import ReplicaSeedGenerator
from keras_ae.serialization import register_serializable


def _check_positive_float(name, value):
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise InvalidArgumentError(f"`{name}` must be a finite number > 0; received {value!r}.") from None
    if not (v > 0 and math.isfinite(v)):
        raise InvalidArgumentError(f"`{name}` must be a finite number > 0; received {value!r}.")
    return v


@register_serializable
class Corruption(keras.layers.Layer):
    """Base class: ``call`` applies :meth:`corrupt` in training (or always, with ``always=True``)."""

    def __init__(self, always=False, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.always = bool(always)
        self.seed = seed
        self.seed_generator = ReplicaSeedGenerator(seed)  # each tf.distribute replica draws its own

    def corrupt(self, x):  # pragma: no cover - overridden
        raise NotImplementedError

    def call(self, inputs, training=None):
        if training or self.always:
            return self.corrupt(inputs)
        return inputs

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update(always=self.always, seed=self.seed)
        return config


@register_serializable
class GaussianNoise(Corruption):
    """Additive isotropic Gaussian noise ``x + sigma * eps``; optionally clipped to ``clip=(lo, hi)``."""

    def __init__(self, sigma=0.3, clip=None, always=False, seed=None, **kwargs):
        super().__init__(always=always, seed=seed, **kwargs)
        self.sigma = _check_positive_float("sigma", sigma)
        if clip is not None:
            try:
                lo, hi = (float(c) for c in clip)
            except (TypeError, ValueError):
                raise InvalidArgumentError(f"`clip` must be None or a pair (low, high); received {clip!r}.") from None
            if not lo < hi:
                raise InvalidArgumentError(f"`clip` must be (low, high) with low < high; received {clip!r}.")
            clip = (lo, hi)
        self.clip = clip

    def corrupt(self, x):
        x = ops.convert_to_tensor(x)
        y = x + self.sigma * keras.random.normal(ops.shape(x), seed=self.seed_generator, dtype=x.dtype)
        if self.clip is not None:
            y = ops.clip(y, self.clip[0], self.clip[1])
        return y

    def get_config(self):
        config = super().get_config()
        config.update(sigma=self.sigma, clip=None if self.clip is None else list(self.clip))
        return config


@register_serializable
class PixelRemoval(Corruption):
    """Set a random fraction ``rate`` of the pixels to ``fill`` (0 by default); rate in [0, 1).

    For images ``(batch, H, W, C)`` a removed pixel loses all its channels; other inputs lose entries.
    """

    def __init__(self, rate=0.5, fill=0.0, always=False, seed=None, **kwargs):
        super().__init__(always=always, seed=seed, **kwargs)
        try:
            r = float(rate)
        except (TypeError, ValueError):
            raise InvalidArgumentError(f"`rate` must be a number in [0, 1); received {rate!r}.") from None
        if not (0.0 <= r < 1.0):
            raise InvalidArgumentError(
                f"`rate` (the fraction of pixels removed) must lie in [0, 1); received {rate!r}. "
                "A rate of 1 would remove every pixel."
            )
        self.rate = r
        self.fill = float(fill)

    def corrupt(self, x):
        x = ops.convert_to_tensor(x)
        shape = tuple(ops.shape(x))
        mask_shape = shape[:-1] + (1,) if len(shape) == 4 else shape
        keep = ops.cast(
            keras.random.uniform(mask_shape, seed=self.seed_generator) >= self.rate, x.dtype
        )
        return x * keep + self.fill * (1.0 - keep)

    def get_config(self):
        config = super().get_config()
        config.update(rate=self.rate, fill=self.fill)
        return config


def gaussian_kernel_1d(sigma, truncate=3.0):
    """A normalized 1-D Gaussian kernel of radius ``ceil(truncate * sigma)`` (numpy float32)."""
    radius = max(1, int(math.ceil(truncate * sigma)))
    t = np.arange(-radius, radius + 1, dtype="float64")
    k = np.exp(-0.5 * (t / sigma) ** 2)
    return (k / k.sum()).astype("float32")


@register_serializable
class GaussianBlur(Corruption):
    """Blur each channel with a separable Gaussian kernel of standard deviation ``sigma`` (pixels).

    The kernel is truncated at ``truncate * sigma`` and the image is zero-padded ("same" size).
    Deterministic: blur has no randomness, but like every corruption it acts only in training unless
    ``always=True`` or called through :meth:`corrupt`.
    """

    def __init__(self, sigma=2.0, truncate=3.0, always=False, seed=None, **kwargs):
        super().__init__(always=always, seed=seed, **kwargs)
        self.sigma = _check_positive_float("sigma", sigma)
        self.truncate = _check_positive_float("truncate", truncate)

    def _check_images(self, shape):
        if len(shape) != 4:
            raise InvalidArgumentError(
                f"{type(self).__name__} takes images of shape (batch, height, width, channels); "
                f"received shape {tuple(shape)}."
            )

    def build(self, input_shape):
        self._check_images(input_shape)
        self.built = True

    def corrupt(self, x):
        x = ops.convert_to_tensor(x)
        self._check_images(ops.shape(x))
        channels = int(ops.shape(x)[-1])
        k = gaussian_kernel_1d(self.sigma, self.truncate)
        kr = np.tile(k.reshape(-1, 1, 1, 1), (1, 1, channels, 1))
        kc = np.tile(k.reshape(1, -1, 1, 1), (1, 1, channels, 1))
        y = ops.depthwise_conv(x, ops.convert_to_tensor(kr, dtype=x.dtype), strides=1, padding="same")
        return ops.depthwise_conv(y, ops.convert_to_tensor(kc, dtype=x.dtype), strides=1, padding="same")

    def get_config(self):
        config = super().get_config()
        config.update(sigma=self.sigma, truncate=self.truncate)
        return config


@register_serializable
class BlockMask(Corruption):
    """Set a ``size`` x ``size`` square at a uniformly random position of each image to ``fill``."""

    def __init__(self, size=8, fill=0.0, always=False, seed=None, **kwargs):
        super().__init__(always=always, seed=seed, **kwargs)
        self.size = check_positive_int("size", size)
        self.fill = float(fill)

    def _check_shape(self, shape):
        if len(shape) != 4:
            raise InvalidArgumentError(
                f"BlockMask takes images of shape (batch, height, width, channels); received shape {tuple(shape)}."
            )
        h, w = shape[1], shape[2]
        if (h is not None and self.size > h) or (w is not None and self.size > w):
            raise InvalidArgumentError(
                f"BlockMask size {self.size}x{self.size} is larger than the images ({h}x{w}); "
                f"use a size of at most {min(s for s in (h, w) if s is not None)}."
            )

    def build(self, input_shape):
        self._check_shape(tuple(input_shape))
        self.built = True

    def corrupt(self, x):
        x = ops.convert_to_tensor(x)
        shape = tuple(ops.shape(x))
        self._check_shape(shape)
        batch, h, w = shape[0], int(shape[1]), int(shape[2])
        top = keras.random.randint((batch, 1, 1, 1), 0, h - self.size + 1, seed=self.seed_generator)
        left = keras.random.randint((batch, 1, 1, 1), 0, w - self.size + 1, seed=self.seed_generator)
        rows = ops.reshape(ops.arange(h, dtype="int32"), (1, h, 1, 1))
        cols = ops.reshape(ops.arange(w, dtype="int32"), (1, 1, w, 1))
        top, left = ops.cast(top, "int32"), ops.cast(left, "int32")
        inside = ops.logical_and(
            ops.logical_and(rows >= top, rows < top + self.size),
            ops.logical_and(cols >= left, cols < left + self.size),
        )
        inside = ops.cast(inside, x.dtype)
        return x * (1.0 - inside) + self.fill * inside

    def get_config(self):
        config = super().get_config()
        config.update(size=self.size, fill=self.fill)
        return config


CORRUPTIONS = {
    "gaussian_noise": GaussianNoise,
    "pixel_removal": PixelRemoval,
    "blur": GaussianBlur,
    "block": BlockMask,
}


def corruption_from_name(corruption, **kwargs):
    """Build a corruption layer from a name (``gaussian_noise``, ``pixel_removal``, ``blur``, ``block``),
    or return ``corruption`` itself if it already is a :class:`Corruption` layer."""
    if isinstance(corruption, Corruption):
        return corruption
    if corruption not in CORRUPTIONS:
        raise InvalidArgumentError(unknown_name_message("corruption", corruption, list(CORRUPTIONS)))
    return CORRUPTIONS[corruption](**kwargs)
