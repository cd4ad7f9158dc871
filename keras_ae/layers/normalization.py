"""Weight normalization (Salimans & Kingma): ``w = g * v / ||v||``, as a wrapper (Keras 3 has none)."""

__all__ = ["WeightNormalization"]

import keras
from keras import ops

from keras_ae.errors import InvalidArgumentError
from keras_ae.serialization import register_serializable

_SUPPORTED = (keras.layers.Dense, keras.layers.Conv2D, keras.layers.Conv2DTranspose)


@register_serializable
class WeightNormalization(keras.layers.Wrapper):
    """Reparameterize a ``Dense``, ``Conv2D`` or ``Conv2DTranspose`` kernel as ``g * v / ||v||``.

    ``v`` is the wrapped layer's own kernel; ``g`` (one scale per output unit, initialised to ``||v||`` so
    the wrapped layer starts unchanged) is added by this wrapper. The norm runs over every kernel axis but
    the output one. The wrapped layer's bias and activation are applied as usual.
    """

    def __init__(self, layer, **kwargs):
        if not isinstance(layer, _SUPPORTED):
            raise InvalidArgumentError(
                "WeightNormalization wraps Dense, Conv2D or Conv2DTranspose layers; received "
                f"{type(layer).__name__}."
            )
        super().__init__(layer, **kwargs)

    def _output_axis(self):
        return -2 if isinstance(self.layer, keras.layers.Conv2DTranspose) else -1

    def _norm_axes(self):
        rank = len(self.layer.kernel.shape)
        out = rank + self._output_axis()
        return tuple(a for a in range(rank) if a != out)

    def build(self, input_shape):
        if not self.layer.built:
            self.layer.build(input_shape)
        v = self.layer.kernel
        norm = ops.sqrt(ops.sum(ops.square(v), axis=self._norm_axes()))
        self.g = self.add_weight(
            name="g", shape=(v.shape[self._output_axis()],), initializer="ones", trainable=True
        )
        self.g.assign(ops.convert_to_numpy(norm))
        self.built = True

    def normalized_kernel(self):
        v = self.layer.kernel
        axes = self._norm_axes()
        norm = ops.sqrt(ops.sum(ops.square(v), axis=axes, keepdims=True) + 1e-12)
        shape = [1] * len(v.shape)
        shape[self._output_axis()] = -1
        return ops.reshape(self.g, shape) * v / norm

    def call(self, inputs):
        layer, w = self.layer, self.normalized_kernel()
        if isinstance(layer, keras.layers.Dense):
            y = ops.matmul(inputs, w)
        elif isinstance(layer, keras.layers.Conv2DTranspose):
            y = ops.conv_transpose(inputs, w, strides=layer.strides, padding=layer.padding,
                                   output_padding=layer.output_padding, data_format=layer.data_format,
                                   dilation_rate=layer.dilation_rate)
        else:
            y = ops.conv(inputs, w, strides=layer.strides, padding=layer.padding, data_format=layer.data_format,
                         dilation_rate=layer.dilation_rate)
        if layer.use_bias:
            y = y + layer.bias
        return layer.activation(y) if layer.activation is not None else y

    def compute_output_shape(self, input_shape):
        return self.layer.compute_output_shape(input_shape)
