"""Max pooling that remembers where the maxima were, and the max-unpooling that puts values back there.

SegNet-style unpooling (the "max-unpooling with stored positions" of the lectures): the encoder's
:class:`MaxPoolingWithArgmax` returns the pooled map *and* the position of each maximum; the decoder's
:class:`MaxUnpooling` writes each value back at that position and zeros elsewhere.

Positions follow ``tf.nn.max_pool_with_argmax(include_batch_in_index=False)`` per channel: the flat
spatial index ``row * W + col`` in the *input* map of shape ``(H, W)`` (int32). Both layers are plain
``keras.ops`` (reshape, argmax, one-hot), so they run on TensorFlow, PyTorch and JAX alike; ties go to the
first position in row-major order. Gradients flow through the max value to the winning input pixel.
"""

__all__ = ["MaxPoolingWithArgmax", "MaxUnpooling"]

import keras
from keras import ops

from keras_ae.errors import InvalidArgumentError, check_positive_int
from keras_ae.serialization import register_serializable


def _check_4d(shape, what):
    if len(shape) != 4:
        raise InvalidArgumentError(f"{what} expects a batch of feature maps (batch, height, width, channels); "
                                   f"received shape {tuple(shape)}.")


@register_serializable
class MaxPoolingWithArgmax(keras.layers.Layer):
    """Non-overlapping ``pool_size x pool_size`` max pooling returning ``(pooled, positions)``.

    ``pooled`` has shape ``(B, H/p, W/p, C)``; ``positions`` (int32, same shape) holds ``row * W + col``,
    the flat spatial index in the input of each maximum. Height and width must be divisible by ``p``.
    """

    def __init__(self, pool_size=2, **kwargs):
        super().__init__(**kwargs)
        self.pool_size = check_positive_int("pool_size", pool_size)

    def _check(self, input_shape):
        _check_4d(input_shape, type(self).__name__)
        p = self.pool_size
        h, w = input_shape[1], input_shape[2]
        if h is None or w is None or h % p or w % p:
            raise InvalidArgumentError(
                f"{type(self).__name__}(pool_size={p}) needs a known height and width divisible by {p}; "
                f"received input shape {tuple(input_shape)}."
            )
        return h, w

    def compute_output_shape(self, input_shape):
        h, w = self._check(input_shape)
        p = self.pool_size
        out = (input_shape[0], h // p, w // p, input_shape[3])
        return out, out

    def compute_output_spec(self, inputs):
        shape, _ = self.compute_output_shape(inputs.shape)
        return (keras.KerasTensor(shape, dtype=inputs.dtype), keras.KerasTensor(shape, dtype="int32"))

    def call(self, inputs):
        h, w = self._check(inputs.shape)
        c = inputs.shape[3]
        p = self.pool_size
        hp, wp = h // p, w // p
        # (B, hp, p, wp, p, C) -> (B, hp, wp, C, p*p): the window of each output pixel on the last axis
        x = ops.reshape(inputs, (-1, hp, p, wp, p, c))
        x = ops.transpose(x, (0, 1, 3, 5, 2, 4))
        x = ops.reshape(x, (-1, hp, wp, c, p * p))
        pooled = ops.max(x, axis=-1)
        local = ops.cast(ops.argmax(x, axis=-1), "int32")  # index inside the window, row-major
        rows = ops.reshape(ops.arange(hp, dtype="int32") * p, (1, hp, 1, 1))
        cols = ops.reshape(ops.arange(wp, dtype="int32") * p, (1, 1, wp, 1))
        positions = (rows + local // p) * w + cols + local % p
        return pooled, positions

    def get_config(self):
        config = super().get_config()
        config.update(pool_size=self.pool_size)
        return config


@register_serializable
class MaxUnpooling(keras.layers.Layer):
    """Inverse of :class:`MaxPoolingWithArgmax`: called on ``[values, positions]``.

    ``values`` has shape ``(B, h, w, C)`` and ``positions`` the same shape (from the pooling layer whose
    input was ``(B, h*p, w*p, C')``). Output ``(B, h*p, w*p, C)``: each value at its stored position, zero
    elsewhere. ``values`` may come from another tensor than the pooled one (e.g. decoder features) as
    long as the shapes match.
    """

    def __init__(self, pool_size=2, **kwargs):
        super().__init__(**kwargs)
        self.pool_size = check_positive_int("pool_size", pool_size)

    def _check(self, input_shape):
        if not isinstance(input_shape, (list, tuple)) or len(input_shape) != 2:
            raise InvalidArgumentError(f"{type(self).__name__} is called on [values, positions]; received "
                                       f"{input_shape!r}.")
        try:
            values, positions = (tuple(s) for s in input_shape)
        except TypeError:
            raise InvalidArgumentError(
                f"{type(self).__name__} is called on [values, positions]; received {input_shape!r}."
            ) from None
        _check_4d(values, type(self).__name__)
        if values[1:] != positions[1:]:
            raise InvalidArgumentError(
                f"{type(self).__name__}: values {values} and positions {positions} must have the same shape "
                "(the positions come from the MaxPoolingWithArgmax whose output the values replace)."
            )
        if values[1] is None or values[2] is None:
            raise InvalidArgumentError(f"{type(self).__name__} needs a known height and width; received {values}.")
        return values

    def compute_output_shape(self, input_shape):
        values = self._check(input_shape)
        p = self.pool_size
        return (values[0], values[1] * p, values[2] * p, values[3])

    def compute_output_spec(self, inputs):
        values, positions = inputs
        shape = self.compute_output_shape([values.shape, positions.shape])
        return keras.KerasTensor(shape, dtype=values.dtype)

    def call(self, inputs):
        values, positions = inputs
        b, h, w, c = self._check([values.shape, positions.shape])
        p = self.pool_size
        width = w * p
        positions = ops.cast(positions, "int32")
        row, col = positions // width, positions % width
        local = (row % p) * p + col % p  # index inside the window, row-major
        onehot = ops.one_hot(local, p * p, dtype=values.dtype)  # (B, h, w, C, p*p)
        x = onehot * ops.expand_dims(values, -1)
        x = ops.reshape(x, (-1, h, w, c, p, p))
        x = ops.transpose(x, (0, 1, 4, 2, 5, 3))  # (B, h, p, w, p, C)
        return ops.reshape(x, (-1, h * p, w * p, c))

    def get_config(self):
        config = super().get_config()
        config.update(pool_size=self.pool_size)
        return config
